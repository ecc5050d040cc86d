#!/usr/bin/env node
// End-to-end browser check of the live dashboard served by edgemon-gateway.
//
//   node tests/browser/dashboard_live.cjs --url http://127.0.0.1:PORT/ --node NODE_ID \
//        --user USER --password PASSWORD --screenshot /path/overview.png \
//        [--login-screenshot FILE] [--detail-screenshot FILE] [--timeout-ms 20000]
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
//   8. "Log out" returns to the login page and GET /api/me answers 401 afterwards;
//   9. no uncaught page error, dialog (alert/confirm/prompt, e.g. from injected markup), crash or
//      Content-Security-Policy violation, and no <img>/<script> inside any node card or the
//      detail page (device strings are rendered as text only).
// It saves screenshots of the login page (before the wrong attempt), the overview (--screenshot)
// and the detail page; --login-screenshot and --detail-screenshot default to login.png and
// node-detail.png next to --screenshot. Then it prints one "browser: ..." line and exits 0. On
// failure it prints "browser: FAIL: <reason>" plus diagnostics to stderr, still tries to save a
// screenshot (to --screenshot), and exits 1. The browser is closed on every path (also on
// timeout and signals).
//
// playwright-core is resolved from <repo>/web/node_modules (installed by .ci/deps via npm ci)
// through createRequire on web/package.json, so no NODE_PATH is needed; if that fails, a plain
// require() is tried, which honours NODE_PATH. Needs node >= 20 (playwright-core's requirement).
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { createRequire } = require('node:module');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function usage(msg) {
  if (msg) process.stderr.write(`browser: ${msg}\n`);
  process.stderr.write(
    'usage: node tests/browser/dashboard_live.cjs --url URL --node NODE_ID --user USER --password PASSWORD ' +
      '--screenshot FILE.png [--login-screenshot FILE.png] [--detail-screenshot FILE.png] [--timeout-ms 20000]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    url: '',
    node: '',
    user: '',
    password: '',
    screenshot: '',
    loginScreenshot: '',
    detailScreenshot: '',
    timeoutMs: 20000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const take = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    switch (name) {
      case '--url': opts.url = take(); break;
      case '--node': opts.node = take(); break;
      case '--user': opts.user = take(); break;
      case '--password': opts.password = take(); break;
      case '--screenshot': opts.screenshot = take(); break;
      case '--login-screenshot': opts.loginScreenshot = take(); break;
      case '--detail-screenshot': opts.detailScreenshot = take(); break;
      case '--timeout-ms': opts.timeoutMs = Number(take()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
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
  return opts;
}

function loadPlaywright() {
  const webPkg = path.resolve(__dirname, '..', '..', 'web', 'package.json');
  try {
    return createRequire(webPkg)('playwright-core');
  } catch (first) {
    try {
      return require('playwright-core');
    } catch {
      throw new Error(
        `cannot load playwright-core (${first.message.split('\n')[0]}); run .ci/deps ` +
          '(npm ci in web/) or set NODE_PATH=<repo>/web/node_modules',
      );
    }
  }
}

class Failure extends Error {}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + opts.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());

  let browser = null;
  let page = null;
  let phase = 'starting';
  const pageErrors = [];
  const dialogs = [];
  const consoleErrors = [];
  let closing = null;
  let aborted = false; // set by a signal or the watchdog, which report and exit themselves

  const closeBrowser = () => {
    if (!browser) return Promise.resolve();
    if (!closing) {
      const b = browser;
      // Never hang on close: playwright also kills the browser process when node exits.
      closing = Promise.race([
        b.close().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
    }
    return closing;
  };

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      aborted = true;
      process.stderr.write(`browser: FAIL: interrupted by ${sig} while ${phase}\n`);
      closeBrowser().finally(() => process.exit(1));
    });
  }

  // Last-resort guard: whatever hangs, give up a little after the budget (closing the browser).
  const watchdog = setTimeout(() => {
    aborted = true;
    process.stderr.write(`browser: FAIL: watchdog expired while ${phase}\n`);
    closeBrowser().finally(() => process.exit(1));
  }, opts.timeoutMs + 15000);
  watchdog.unref();

  // Milliseconds each step took (printed on success and failure: where a slow run spent its time).
  const started = Date.now();
  let mark = started;
  const timings = [];
  const lap = (name) => {
    const now = Date.now();
    timings.push(`${name}=${now - mark}`);
    mark = now;
  };

  const waitFor = async (what, fn, arg) => {
    phase = `waiting for ${what}`;
    try {
      return await page.waitForFunction(fn, arg, { timeout: remaining(), polling: 100 });
    } catch (err) {
      if (pageErrors.length || dialogs.length) throw new Failure(`${what}: page error/dialog (see below)`);
      const why = /Timeout/i.test(String(err && err.message)) ? `timed out after ${opts.timeoutMs} ms` : String(err);
      throw new Failure(`${what}: ${why}`);
    }
  };

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
    phase = 'loading playwright-core';
    const { chromium } = loadPlaywright();
    if (!fs.existsSync(CHROMIUM)) throw new Failure(`${CHROMIUM} not found (apt-get install chromium)`);

    phase = 'launching chromium';
    // Default launch() uses a fresh temporary user-data-dir that playwright deletes on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: remaining(),
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String((err && err.stack) || err)));
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('crash', () => pageErrors.push('page crashed'));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });

    phase = `opening ${opts.url}`;
    let response;
    try {
      response = await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: remaining() });
    } catch (err) {
      throw new Failure(`cannot open ${opts.url}: ${String(err && err.message).split('\n')[0]}`);
    }
    if (!response || !response.ok()) {
      throw new Failure(`GET ${opts.url} returned ${response ? response.status() : 'no response'}`);
    }

    const saveShot = async (file, what) => {
      phase = `saving the ${what} screenshot`;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await page.screenshot({ path: file, fullPage: true, timeout: remaining() });
    };

    // 1. Not logged in: the login page and nothing of the dashboard.
    await waitFor('the login page (#login-form visible)', () => {
      const e = document.querySelector('#login-form');
      return !!e && e.getClientRects().length > 0;
    });
    phase = 'checking the login page';
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
    phase = 'submitting a wrong password';
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
    phase = 'logging in';
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

    phase = 'checking the page';
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
    phase = 'opening the node detail page';
    const cardLink = page.locator(`[data-testid="node-card"][data-node="${opts.node.replace(/["\\]/g, '\\$&')}"] a`);
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
    phase = 'checking the detail page';
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

    phase = 'going back to the overview';
    await page.click('[data-testid="back"]', { timeout: remaining() });
    await waitFor('the overview after the back link', () =>
      (location.hash === '#/' || location.hash === '') &&
      document.querySelector('[data-testid="overview-view"]')?.getClientRects().length > 0);

    // 8. Log out.
    phase = 'logging out';
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
        `panels=${detail.panels.length}; logout ok (/api/me -> 401); ` +
        `screenshots=${opts.loginScreenshot},${opts.screenshot},${opts.detailScreenshot}; ` +
        `ms: ${timings.join(' ')} total=${Date.now() - started}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (aborted) return;
    const reason = err instanceof Failure ? err.message : `${phase}: ${(err && err.stack) || err}`;
    process.stderr.write(`browser: FAIL: ${reason}\n`);
    process.stderr.write(`browser:   ms: ${timings.join(' ')} then ${Date.now() - mark} in '${phase}'\n`);
    for (const e of pageErrors) process.stderr.write(`browser:   page error: ${e}\n`);
    for (const d of dialogs) process.stderr.write(`browser:   dialog: ${d}\n`);
    for (const c of consoleErrors.slice(0, 10)) process.stderr.write(`browser:   console error: ${c}\n`);
    if (page && !page.isClosed()) {
      try {
        const s = await page.evaluate(state, opts.node);
        process.stderr.write(
          `browser:   url=${page.url()} login=${s.login} app=${s.app} login-error=${JSON.stringify(s.loginError)} ` +
            `conn=${s.conn} cards=${JSON.stringify(s.nodes)} cpu=${JSON.stringify(s.cpu)} updates=${s.updates}\n`,
        );
      } catch {
        /* page unusable; nothing more to report */
      }
      try {
        fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
        await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 5000 });
        process.stderr.write(`browser:   screenshot (failure state) saved to ${opts.screenshot}\n`);
      } catch (shotErr) {
        process.stderr.write(`browser:   no screenshot: ${String(shotErr && shotErr.message).split('\n')[0]}\n`);
      }
    }
  } finally {
    await closeBrowser();
    clearTimeout(watchdog);
  }
  process.exit(exitCode);
}

main().catch((err) => {
  process.stderr.write(`browser: FAIL: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
