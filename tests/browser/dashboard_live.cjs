#!/usr/bin/env node
// End-to-end browser check of the live dashboard served by edgemon-gateway.
//
//   node tests/browser/dashboard_live.cjs --url http://127.0.0.1:PORT/ --node NODE_ID \
//        --user USER --password PASSWORD --screenshot /path/overview.png \
//        [--login-screenshot FILE] [--detail-screenshot FILE] [--target-screenshot FILE]
//        [--alerts-screenshot FILE] [--reports-screenshot FILE] [--expect-alerts] [--timeout-ms 20000]
//
// Launches the system Chromium (/usr/bin/chromium, never a downloaded browser) headless through
// playwright-core with a fresh temporary profile, opens the dashboard and checks, within the
// overall --timeout-ms budget:
//   1. the login page is shown (form, labelled inputs, alert area) and the dashboard is not;
//   2. one wrong password (submitted with Enter) shows the gateway's error text in the alert area
//      and stays on the login page (one attempt only: the gateway allows 10 per minute);
//   3. the right password (submitted with the button) shows the dashboard;
//   4. the connection indicator reaches data-state="live";
//   5. the card of NODE_ID shows a numeric CPU value;
//   6. that card's data-updates grows by at least 2 more (live pushes, no reload);
//   7. Enter on the card's link opens the node detail page (#/node/<group>/<id>): its CPU chart
//      is drawn with data from /api/history, the charts together hold > 1 point and grow from the
//      live feed (together: an unchanging value, e.g. a CPU pegged at 100 %, is not re-sent by the
//      agent), and the back link returns to the overview;
//   8. the overview's search box and group filter hide and show the card; with --expect-alerts the
//      active-alerts strip shows an alert of NODE_ID (pushed as a WebSocket `alerts` message);
//   9. the card's ping target link opens the target page (#/target/<group>/<node>/ping/<host>):
//      its latency chart is drawn with points (data-points > 0), the check log has rows and the
//      1 h uptime tile shows a percentage;
//  10. the nav's Alerts link (keyboard) opens the alerts page: the active tab, the incidents tab and
//      the events tab (with pagination buttons, "newer" disabled on the first page); with
//      --expect-alerts one alert is firing, one is silenced and an incident is open;
//  11. the nav's Reports link opens the reports page: its table is rendered and the CSV and JSON
//      download links answer 200 with the right content type;
//  12. a dropped WebSocket reconnects with ?epoch=&since= and is answered "resumed" (the missed
//      frames are replayed, no snapshot; a second socket keeps the hub's replay buffer alive), and
//      the node keeps updating;
//  13. at phone width (390 px) the overview and the alerts page do not scroll sideways;
//  14. "Log out" returns to the login page and GET /api/me answers 401 afterwards;
//  15. no uncaught page error, dialog (alert/confirm/prompt, e.g. from injected markup), crash or
//      Content-Security-Policy violation, and no <img>/<script> inside any node card or the
//      detail page (device strings are rendered as text only).
// It saves screenshots of the login page (before the wrong attempt), the overview (--screenshot),
// the node detail, target detail, alerts and reports pages; --login-screenshot,
// --detail-screenshot, --target-screenshot, --alerts-screenshot and --reports-screenshot default to
// login.png, node-detail.png, target-detail.png, alerts.png and reports.png next to --screenshot. Then it prints one "browser: ..." line and exits 0. On
// failure it prints "browser: FAIL: <reason>" plus diagnostics to stderr, still tries to save a
// screenshot (to --screenshot), and exits 1. The browser is closed on every path (also on
// timeout and signals).
//
// playwright-core is resolved from <repo>/web/node_modules (installed by .ci/deps via npm ci)
// through createRequire on web/package.json, so no NODE_PATH is needed; if that fails, a plain
// require() is tried, which honours NODE_PATH. Needs node >= 20 (playwright-core's requirement).
'use strict';

const path = require('node:path');
const { Failure, makeUsage, parseArgs, timer, createSession, loginFormVisible, runMain } = require('./browser_lib.cjs');

const usage = makeUsage(
  'browser',
  'usage: node tests/browser/dashboard_live.cjs --url URL --node NODE_ID --user USER --password PASSWORD ' +
    '--screenshot FILE.png [--login-screenshot FILE.png] [--detail-screenshot FILE.png] ' +
    '[--target-screenshot FILE.png] [--alerts-screenshot FILE.png] [--reports-screenshot FILE.png] ' +
    '[--expect-alerts] [--timeout-ms 20000]\n',
);

function options(argv) {
  const opts = parseArgs(argv, {
    usage,
    defaults: {
      url: '',
      node: '',
      user: '',
      password: '',
      screenshot: '',
      loginScreenshot: '',
      detailScreenshot: '',
      targetScreenshot: '',
      alertsScreenshot: '',
      reportsScreenshot: '',
      expectAlerts: false,
      timeoutMs: 20000,
    },
    options: {
      '--url': 'url',
      '--node': 'node',
      '--user': 'user',
      '--password': 'password',
      '--screenshot': 'screenshot',
      '--login-screenshot': 'loginScreenshot',
      '--detail-screenshot': 'detailScreenshot',
      '--target-screenshot': 'targetScreenshot',
      '--alerts-screenshot': 'alertsScreenshot',
      '--reports-screenshot': 'reportsScreenshot',
      '--expect-alerts': ['expectAlerts'],
      '--timeout-ms': ['timeoutMs', Number],
    },
  });
  if (!opts.url) usage('--url is required');
  if (!opts.node) usage('--node is required');
  if (!opts.user) usage('--user is required');
  if (!opts.password) usage('--password is required');
  if (!opts.screenshot) usage('--screenshot is required');
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) usage('--timeout-ms must be > 0');
  try {
    new URL(opts.url);
  } catch {
    usage(`--url '${opts.url}' is not a URL`);
  }
  opts.screenshot = path.resolve(opts.screenshot);
  const dir = path.dirname(opts.screenshot);
  opts.loginScreenshot = path.resolve(opts.loginScreenshot || path.join(dir, 'login.png'));
  opts.detailScreenshot = path.resolve(opts.detailScreenshot || path.join(dir, 'node-detail.png'));
  opts.targetScreenshot = path.resolve(opts.targetScreenshot || path.join(dir, 'target-detail.png'));
  opts.alertsScreenshot = path.resolve(opts.alertsScreenshot || path.join(dir, 'alerts.png'));
  opts.reportsScreenshot = path.resolve(opts.reportsScreenshot || path.join(dir, 'reports.png'));
  return opts;
}

async function main() {
  const opts = options(process.argv.slice(2));
  const s = createSession({ prefix: 'browser', timeoutMs: opts.timeoutMs, timedOut: `timed out after ${opts.timeoutMs} ms` });
  const { remaining, waitFor, pageErrors, dialogs, consoleErrors } = s;
  let page = null;

  // Milliseconds each step took (printed on success and failure: where a slow run spent its time).
  const t = timer();
  const { timings, lap } = t;

  const state = (id) => {
    const conn = document.querySelector('[data-testid="conn-state"]');
    const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find(
      (c) => c instanceof HTMLElement && c.dataset.node === id,
    );
    const cpuEl = card && card.querySelector('[data-testid="cpu"]');
    const visible = (sel) => {
      const e = document.querySelector(sel);
      return !!e && e.getClientRects().length > 0;
    };
    return {
      hash: location.hash,
      login: visible('#login-form'),
      app: visible('#app'),
      loginError: document.querySelector('#login-error')?.textContent ?? null,
      conn: conn ? `${conn.getAttribute('data-state')} ("${conn.textContent}")` : 'missing',
      nodes: Array.from(document.querySelectorAll('[data-testid="node-card"]')).map((c) => c.getAttribute('data-node')),
      cpu: cpuEl ? cpuEl.textContent : null,
      updates: card ? Number(card.getAttribute('data-updates')) : null,
    };
  };

  let exitCode = 1;
  try {
    const context = await s.launch({
      viewport: { width: 1280, height: 800 },
      notFound: ' (apt-get install chromium)',
      playwrightHint: ' (npm ci in web/) or set NODE_PATH=<repo>/web/node_modules',
    });
    // Record the page's WebSockets (step 12 drops the dashboard's socket).
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      const sockets = [];
      Object.defineProperty(window, '__edgemonSockets', { value: sockets });
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          sockets.push(this);
        }
      };
    });
    page = await context.newPage();
    s.page = page;
    s.guards(page, { console: true });

    await s.open(opts.url, { strict: true });

    const saveShot = (file, what) => s.screenshot(file, { phase: `saving the ${what} screenshot` });

    // 1. Not logged in: the login page and nothing of the dashboard.
    await waitFor('the login page (#login-form visible)', loginFormVisible);
    s.phase = 'checking the login page';
    const loginPage = await page.evaluate(() => ({
      app: !!document.querySelector('#app') && document.querySelector('#app').getClientRects().length > 0,
      userLabel: document.querySelector('label[for="login-user"]')?.textContent?.trim() ?? '',
      passwordLabel: document.querySelector('label[for="login-password"]')?.textContent?.trim() ?? '',
      passwordType: document.querySelector('#login-password')?.getAttribute('type') ?? '',
      alert: document.querySelector('#login-error')?.getAttribute('role') ?? '',
      submit: !!document.querySelector('#login-form button[type="submit"]'),
      cards: document.querySelectorAll('[data-testid="node-card"]').length,
    }));
    if (loginPage.app || loginPage.cards > 0) throw new Failure('the dashboard is visible before logging in');
    if (!loginPage.userLabel || !loginPage.passwordLabel) throw new Failure('login inputs have no labels');
    if (loginPage.passwordType !== 'password') throw new Failure('#login-password is not a password input');
    if (loginPage.alert !== 'alert') throw new Failure('#login-error has no role="alert"');
    if (!loginPage.submit) throw new Failure('the login form has no submit button');
    lap('login-page');
    await saveShot(opts.loginScreenshot, 'login');

    // 2. One wrong password, submitted with the keyboard: the gateway's message, still logged out.
    s.phase = 'submitting a wrong password';
    await page.fill('#login-user', opts.user, { timeout: remaining() });
    await page.fill('#login-password', `${opts.password}-wrong`, { timeout: remaining() });
    const wrongAnswer = page.waitForResponse((r) => /\/api\/login$/.test(new URL(r.url()).pathname), { timeout: remaining() });
    await page.press('#login-password', 'Enter', { timeout: remaining() });
    const wrongStatus = (await wrongAnswer).status();
    if (wrongStatus !== 401) throw new Failure(`POST /api/login with a wrong password answered ${wrongStatus}, expected 401`);
    const errorHandle = await waitFor('the wrong-password error text', () => {
      const t = document.querySelector('#login-error')?.textContent?.trim() ?? '';
      return t !== '' ? t : false;
    });
    const wrongError = await errorHandle.jsonValue();
    const afterWrong = await page.evaluate(state, opts.node);
    if (!afterWrong.login || afterWrong.app) throw new Failure('left the login page after a wrong password');
    lap('wrong-password');

    // 3. The right password, submitted with the button.
    s.phase = 'logging in';
    await page.fill('#login-password', opts.password, { timeout: remaining() });
    await page.click('#login-form button[type="submit"]', { timeout: remaining() });
    await waitFor('the dashboard after logging in', () => {
      const vis = (sel) => {
        const e = document.querySelector(sel);
        return !!e && e.getClientRects().length > 0;
      };
      return vis('#app') && vis('#overview-view') && !vis('#login-form');
    });

    lap('login');
    await waitFor(
      'conn-state live',
      () => document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state') === 'live',
    );

    const cpuHandle = await waitFor(
      `a numeric CPU value on the card of node '${opts.node}'`,
      (id) => {
        const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find(
          (c) => c instanceof HTMLElement && c.dataset.node === id,
        );
        const text = card?.querySelector('[data-testid="cpu"]')?.textContent?.trim() ?? '';
        return /^-?\d+(\.\d+)?$/.test(text) ? text : false;
      },
      opts.node,
    );
    const firstCpu = await cpuHandle.jsonValue();
    lap('live+cpu');
    const baseline = (await page.evaluate(state, opts.node)).updates;

    await waitFor(
      `data-updates of '${opts.node}' to grow from ${baseline} to ${baseline + 2}`,
      ([id, want]) => {
        const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find(
          (c) => c instanceof HTMLElement && c.dataset.node === id,
        );
        return card ? Number(card.getAttribute('data-updates')) >= want : false;
      },
      [opts.node, baseline + 2],
    );

    s.phase = 'checking the page';
    const final = await page.evaluate(state, opts.node);
    const injected = await page.evaluate(
      () => document.querySelectorAll('[data-testid="node-card"] img, [data-testid="node-card"] script').length,
    );
    if (pageErrors.length || dialogs.length) throw new Failure('page error or dialog occurred');
    if (injected) throw new Failure(`${injected} <img>/<script> element(s) inside node cards (markup injection)`);
    if (!/^-?\d+(\.\d+)?$/.test(String(final.cpu).trim())) {
      throw new Failure(`CPU of '${opts.node}' is no longer numeric: '${final.cpu}'`);
    }

    lap('updates');
    await saveShot(opts.screenshot, 'overview');

    // 7. The node detail page, opened with the keyboard from the card.
    s.phase = 'opening the node detail page';
    const nodeSel = `[data-testid="node-card"][data-node="${opts.node.replace(/["\\]/g, '\\$&')}"]`;
    const cardLink = page.locator(`${nodeSel} a[data-testid="node-link"]`);
    await cardLink.focus({ timeout: remaining() });
    await page.keyboard.press('Enter');
    await waitFor(
      `the detail page of '${opts.node}'`,
      (id) => {
        const view = document.querySelector('[data-testid="node-view"]');
        return location.hash.startsWith('#/node/') && location.hash.endsWith(`/${encodeURIComponent(id)}`) &&
          !!view && view.getClientRects().length > 0 &&
          document.querySelector('[data-testid="node-title"]')?.textContent === id &&
          document.querySelector('[data-testid="overview-view"]')?.getClientRects().length === 0;
      },
      opts.node,
    );
    // Charts: data-points = non-null points of a chart's first series. The agent reports by
    // exception, so a value that does not change (a CPU pegged at 100.0 on a loaded machine) is
    // not sent again: the CPU chart must be drawn with data, and the charts together must have
    // more than one point and grow from the live feed (ping RTT and memory change every round).
    const pointsHandle = await waitFor('the CPU chart drawn with data (and > 1 point in all charts)', () => {
      const chart = document.querySelector('[data-testid="chart-cpu"]');
      const canvas = chart?.querySelector('canvas');
      if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
      // Every chart has its history (so that growth below can only come from the live feed).
      if (document.querySelector('[data-testid="node-view"] [aria-busy="true"]')) return false;
      const points = {};
      let total = 0;
      for (const c of document.querySelectorAll('[data-testid^="chart-"]')) {
        points[c.getAttribute('data-testid')] = Number(c.getAttribute('data-points'));
        total += Number(c.getAttribute('data-points'));
      }
      return points['chart-cpu'] >= 1 && total > 1 ? points : false;
    });
    const firstPoints = await pointsHandle.jsonValue();
    const firstTotal = Object.values(firstPoints).reduce((x, y) => x + y, 0);
    lap('detail+chart');
    await waitFor(
      `the charts to grow live beyond ${firstTotal} points`,
      (n) => {
        let total = 0;
        for (const c of document.querySelectorAll('[data-testid^="chart-"]')) total += Number(c.getAttribute('data-points'));
        return total > n;
      },
      firstTotal,
    );
    await waitFor('the detail page CPU panel', () => {
      const panel = document.querySelector('[data-testid="panel-cpu"]');
      return !!panel && panel.getClientRects().length > 0 && /Total/.test(panel.textContent ?? '');
    });
    s.phase = 'checking the detail page';
    const detail = await page.evaluate(() => ({
      points: Object.fromEntries(
        Array.from(document.querySelectorAll('[data-testid^="chart-"]')).map((c) => [
          c.getAttribute('data-testid'),
          Number(c.getAttribute('data-points')),
        ]),
      ),
      panels: Array.from(document.querySelectorAll('[data-testid^="panel-"]'))
        .filter((p) => p.getClientRects().length > 0)
        .map((p) => p.getAttribute('data-testid')),
      injected: document.querySelectorAll('[data-testid="node-view"] img, [data-testid="node-view"] script').length,
    }));
    if (detail.injected) throw new Failure(`${detail.injected} <img>/<script> element(s) in the detail page`);
    lap('chart-live');
    await saveShot(opts.detailScreenshot, 'detail');

    s.phase = 'going back to the overview';
    await page.click('[data-testid="back"]', { timeout: remaining() });
    await waitFor('the overview after the back link', () =>
      (location.hash === '#/' || location.hash === '') &&
      document.querySelector('[data-testid="overview-view"]')?.getClientRects().length > 0);

    // 8. Search and group filter on the overview; the active-alerts strip.
    s.phase = 'filtering the overview';
    const cardVisible = (id) => {
      const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find(
        (c) => c instanceof HTMLElement && c.dataset.node === id,
      );
      return !!card && card.getClientRects().length > 0;
    };
    await page.fill('[data-testid="search"]', `${opts.node.slice(0, 3)}-no-such-node`, { timeout: remaining() });
    await waitFor('the search box to hide the card', (id) => !Array.from(document.querySelectorAll('[data-testid="node-card"]'))
      .some((c) => c.dataset.node === id && c.getClientRects().length > 0), opts.node);
    await page.fill('[data-testid="search"]', opts.node.slice(1, -1).toUpperCase(), { timeout: remaining() });
    await waitFor('the search box (substring, any case) to show the card', cardVisible, opts.node);
    await page.fill('[data-testid="search"]', '', { timeout: remaining() });
    const groups = await page.evaluate(() =>
      Array.from(document.querySelectorAll('[data-testid="group-filter"] option')).map((o) => o.value));
    const nodeGroup = groups.find((g) => g !== '');
    if (nodeGroup === undefined) throw new Failure(`the group filter offers no group: ${JSON.stringify(groups)}`);
    await page.selectOption('[data-testid="group-filter"]', nodeGroup, { timeout: remaining() });
    await waitFor('the group filter to keep the card', cardVisible, opts.node);
    await page.selectOption('[data-testid="group-filter"]', '', { timeout: remaining() });
    let alertNode = '';
    if (opts.expectAlerts) {
      const h = await waitFor(`an active alert of '${opts.node}' in the overview's alert strip`, (id) => {
        const a = Array.from(document.querySelectorAll('[data-testid="alert-strip"] [data-testid="active-alert"]'))
          .find((e) => (e.getAttribute('data-node') ?? '').endsWith(`/${id}`) && e.getClientRects().length > 0);
        return a ? a.getAttribute('data-node') : false;
      }, opts.node);
      alertNode = await h.jsonValue();
    }
    lap('overview-filter');

    // 9. The target detail page, from the ping target link on the card.
    s.phase = 'opening the target page';
    const targetLink = page.locator(`${nodeSel} a[data-testid="target-link"]`).first();
    const targetHost = await targetLink.getAttribute('data-target', { timeout: remaining() });
    await targetLink.click({ timeout: remaining() });
    await waitFor(`the target page of ${targetHost}`, (host) => {
      const view = document.querySelector('[data-testid="target-view"]');
      return location.hash.startsWith('#/target/') && location.hash.endsWith(`/ping/${encodeURIComponent(host)}`) &&
        !!view && view.getClientRects().length > 0 &&
        document.querySelector('[data-testid="target-title"]')?.textContent === `ping ${host}`;
    }, targetHost);
    const targetHandle = await waitFor('the target latency chart with points, the check log and the 1 h uptime', () => {
      const chart = document.querySelector('[data-testid="target-latency-chart"]');
      const points = Number(chart?.getAttribute('data-points') ?? 0);
      const canvas = chart?.querySelector('canvas');
      const rows = document.querySelectorAll('[data-testid="check-log-rows"] tr').length;
      const uptime = document.querySelector('[data-testid="target-uptime-1h"]')?.textContent ?? '';
      return points > 0 && !!canvas && canvas.width > 0 && rows > 0 && /%$/.test(uptime)
        ? { points, rows, uptime, state: document.querySelector('[data-testid="target-state"]')?.textContent ?? '' }
        : false;
    });
    const targetInfo = await targetHandle.jsonValue();
    const targetInjected = await page.evaluate(
      () => document.querySelectorAll('[data-testid="target-view"] img, [data-testid="target-view"] script').length);
    if (targetInjected) throw new Failure(`${targetInjected} <img>/<script> element(s) in the target page`);
    lap('target');
    await saveShot(opts.targetScreenshot, 'target');

    // 10. The alerts page, with the keyboard from the top bar's navigation.
    s.phase = 'opening the alerts page';
    await page.focus('[data-testid="nav-alerts"]', { timeout: remaining() });
    await page.keyboard.press('Enter');
    await waitFor('the alerts page (active tab)', () => {
      const v = (sel) => {
        const e = document.querySelector(sel);
        return !!e && e.getClientRects().length > 0;
      };
      return location.hash === '#/alerts' && v('[data-testid="alerts-view"]') && v('[data-testid="firing-section"]') &&
        v('[data-testid="silenced-section"]') &&
        document.querySelector('[data-testid="nav-alerts"]')?.getAttribute('aria-current') === 'page';
    });
    let alertsInfo = { firing: 0, silenced: 0 };
    if (opts.expectAlerts) {
      const h = await waitFor('one firing and one silenced alert on the alerts page', () => {
        const firing = document.querySelectorAll('[data-testid="firing-alerts"] [data-testid="active-alert"]').length;
        const silenced = document.querySelectorAll('[data-testid="silenced-alerts"] [data-testid="active-alert"][data-silenced="true"]').length;
        return firing >= 1 && silenced >= 1 ? { firing, silenced } : false;
      });
      alertsInfo = await h.jsonValue();
    }
    await saveShot(opts.alertsScreenshot, 'alerts');
    await page.click('[data-testid="tab-incidents"]', { timeout: remaining() });
    const incHandle = await waitFor('the incidents tab with its pager', (want) => {
      const sec = document.querySelector('[data-testid="incidents-section"]');
      const prev = document.querySelector('[data-testid="incidents-prev"]');
      const next = document.querySelector('[data-testid="incidents-next"]');
      if (!sec || sec.getClientRects().length === 0 || !prev || !next || sec.dataset.offset !== '0') return false;
      if (!prev.disabled) return false;
      const open = document.querySelectorAll('[data-testid="incident"][data-open="true"]').length;
      const rows = document.querySelectorAll('[data-testid="incident"]').length;
      return !want || open >= 1 ? { rows, open } : false;
    }, opts.expectAlerts);
    const incidents = await incHandle.jsonValue();
    await page.click('[data-testid="tab-events"]', { timeout: remaining() });
    const evHandle = await waitFor('the events tab with its pager', (want) => {
      const sec = document.querySelector('[data-testid="events-section"]');
      const prev = document.querySelector('[data-testid="events-prev"]');
      const next = document.querySelector('[data-testid="events-next"]');
      if (!sec || sec.getClientRects().length === 0 || !prev || !next || sec.dataset.offset !== '0') return false;
      if (!prev.disabled) return false;
      const rows = document.querySelectorAll('[data-testid="event"]').length;
      return !want || rows >= 1 ? { rows, nextEnabled: !next.disabled } : false;
    }, opts.expectAlerts);
    const events = await evHandle.jsonValue();
    if (events.nextEnabled) {
      await page.click('[data-testid="events-next"]', { timeout: remaining() });
      await waitFor('the second page of events', () =>
        document.querySelector('[data-testid="events-section"]')?.dataset.offset !== '0' &&
        !document.querySelector('[data-testid="events-prev"]').disabled);
    }
    lap('alerts');

    // 11. The reports page.
    s.phase = 'opening the reports page';
    await page.click('[data-testid="nav-reports"]', { timeout: remaining() });
    const repHandle = await waitFor('the reports page with its table and downloads', () => {
      const view = document.querySelector('[data-testid="reports-view"]');
      const body = document.querySelector('[data-testid="report-table"] tbody');
      const csv = document.querySelector('[data-testid="report-csv"]');
      const json = document.querySelector('[data-testid="report-json"]');
      return location.hash === '#/reports' && !!view && view.getClientRects().length > 0 && !!body &&
        body.dataset.rows !== undefined && !!csv && !!json && json.hasAttribute('download')
        ? { rows: Number(body.dataset.rows), csv: csv.getAttribute('href'), json: json.getAttribute('href') }
        : false;
    });
    const reports = await repHandle.jsonValue();
    s.phase = 'fetching the report downloads';
    const downloads = await page.evaluate(async ([csv, json]) => {
      const get = async (u) => {
        const r = await fetch(u, { credentials: 'same-origin' });
        return { status: r.status, type: r.headers.get('content-type') ?? '', body: (await r.text()).slice(0, 200) };
      };
      return { csv: await get(csv), json: await get(json) };
    }, [reports.csv, reports.json]);
    if (downloads.csv.status !== 200 || !/text\/csv/.test(downloads.csv.type)) {
      throw new Failure(`the CSV download ${reports.csv} answered ${downloads.csv.status} ${downloads.csv.type}`);
    }
    if (downloads.json.status !== 200 || !/json/.test(downloads.json.type) || !/"reports"/.test(downloads.json.body)) {
      throw new Failure(`the JSON download ${reports.json} answered ${downloads.json.status} ${downloads.json.type}`);
    }
    lap('reports');
    await saveShot(opts.reportsScreenshot, 'reports');

    // 12. Resume after a dropped connection.
    s.phase = 'dropping the WebSocket';
    await page.click('[data-testid="nav-overview"]', { timeout: remaining() });
    const dropped = await page.evaluate(async () => {
      const app = window.__edgemonSockets.filter((w) => w.readyState === WebSocket.OPEN).at(-1);
      if (!app) return null;
      // Another client keeps the hub recording frames while ours is away.
      const keeper = new WebSocket(app.url.split('?')[0]);
      await new Promise((resolve, reject) => { keeper.onopen = resolve; keeper.onerror = reject; });
      window.__edgemonKeeper = keeper;
      app.close();
      return app.url;
    });
    if (!dropped) throw new Failure('no open dashboard WebSocket to drop');
    const resumeHandle = await waitFor('the dashboard to resume its WebSocket (?epoch=&since=, "resumed")', () => {
      const conn = document.querySelector('[data-testid="conn-state"]');
      const last = window.__edgemonSockets.filter((w) => w !== window.__edgemonKeeper).at(-1);
      return conn?.getAttribute('data-state') === 'live' && conn?.getAttribute('data-resumes') === '1' &&
        /[?&]epoch=[^&]+&since=\d+/.test(last?.url ?? '') ? last.url : false;
    });
    const resumedUrl = await resumeHandle.jsonValue();
    const beforeResume = (await page.evaluate(state, opts.node)).updates;
    await waitFor(`data-updates of '${opts.node}' to grow after the resume`, ([id, n]) => {
      const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((c) => c.dataset.node === id);
      return card ? Number(card.getAttribute('data-updates')) > n : false;
    }, [opts.node, beforeResume]);
    await page.evaluate(() => window.__edgemonKeeper.close());
    lap('resume');

    // 13. Phone width: nothing scrolls sideways.
    s.phase = 'checking phone width';
    await page.setViewportSize({ width: 390, height: 800 });
    const phone = {};
    for (const [name, hash] of [['alerts', '#/alerts'], ['overview', '#/']]) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await waitFor(`the ${name} page at phone width`, (h) => location.hash === h || (h === '#/' && location.hash === ''), hash);
      await page.waitForTimeout(300);
      phone[name] = await page.evaluate(() => document.documentElement.scrollWidth);
      if (phone[name] > 391) throw new Failure(`the ${name} page is ${phone[name]} px wide at a 390 px viewport`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    lap('phone');

    // 14. Log out.
    s.phase = 'logging out';
    await page.click('[data-testid="logout"]', { timeout: remaining() });
    await waitFor('the login page after logging out', () => {
      const vis = (sel) => {
        const e = document.querySelector(sel);
        return !!e && e.getClientRects().length > 0;
      };
      return vis('#login-form') && !vis('#app') && document.querySelectorAll('[data-testid="node-card"]').length === 0;
    });
    const meAfter = await page.evaluate(() => fetch('api/me', { credentials: 'same-origin' }).then((r) => r.status));
    if (meAfter !== 401) throw new Failure(`GET /api/me after logging out answered ${meAfter}, expected 401`);
    lap('back+logout');

    if (pageErrors.length || dialogs.length) throw new Failure('page error or dialog occurred');
    const csp = consoleErrors.filter((e) => /Content Security Policy/i.test(e));
    if (csp.length) throw new Failure(`Content-Security-Policy violation: ${csp[0]}`);

    process.stdout.write(
      `browser: login page ok; wrong password -> ${wrongStatus} "${wrongError}"; logged in as ${opts.user}; ` +
        `node=${opts.node} cpu=${final.cpu} (first ${firstCpu}) updates=${final.updates} ` +
        `(+${final.updates - baseline}) nodes=${final.nodes.length} conn=live; ` +
        `detail: chart points ${JSON.stringify(firstPoints)} -> ${JSON.stringify(detail.points)}, ` +
        `panels=${detail.panels.length}; filter ok${alertNode ? `; alert strip: ${alertNode}` : ''}; ` +
        `target ${targetHost}: ${JSON.stringify(targetInfo)}; alerts: ${JSON.stringify(alertsInfo)} ` +
        `incidents ${JSON.stringify(incidents)} events ${JSON.stringify(events)}; reports rows=${reports.rows} ` +
        `csv/json downloads ok; resumed via ${new URL(resumedUrl).search}; phone widths ${JSON.stringify(phone)}; logout ok (/api/me -> 401); ` +
        `screenshots=${opts.loginScreenshot},${opts.screenshot},${opts.detailScreenshot},` +
        `${opts.targetScreenshot},${opts.alertsScreenshot},${opts.reportsScreenshot}; ` +
        `ms: ${timings.join(' ')} total=${Date.now() - t.started}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (s.aborted) return undefined;
    s.reportFailure(err, t);
    if (page && !page.isClosed()) {
      try {
        const st = await page.evaluate(state, opts.node);
        s.say(
          `  url=${page.url()} login=${st.login} app=${st.app} login-error=${JSON.stringify(st.loginError)} ` +
            `conn=${st.conn} cards=${JSON.stringify(st.nodes)} cpu=${JSON.stringify(st.cpu)} updates=${st.updates}`,
        );
      } catch {
        /* page unusable; nothing more to report */
      }
      await s.failureShot(opts.screenshot);
    }
  } finally {
    await s.close();
  }
  return exitCode;
}

runMain('browser', main);
