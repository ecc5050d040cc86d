#!/usr/bin/env node
// Acceptance check of the admin pages served by edgemon-gateway: adding a ping target in the UI.
//
//   node tests/browser/admin_targets.cjs --url http://127.0.0.1:PORT/ --group GROUP --node NODE_ID \
//        --host 127.0.0.2 --user USER --password PASSWORD --screenshot-dir DIR \
//        [--max-measure-ms 10000] [--timeout-ms 60000]
//
// Launches the system Chromium (/usr/bin/chromium, never a downloaded browser) headless through
// playwright-core with a fresh temporary profile and, within the overall --timeout-ms budget:
//   1. logs in as USER (an admin) and opens #/admin/targets;
//   2. chooses NODE_ID in the node select (data-testid="target-node") and waits for its list
//      (the targets the agent already pings, e.g. 127.0.0.1);
//   3. types HOST into data-testid="target-host" and clicks data-testid="target-add": the gateway
//      answers 202 and a row data-testid="target-row" data-host=HOST appears;
//   4. opens the target's page #/target/<group>/<node>/ping/<host> and waits until its latency
//      chart (data-testid="target-latency-chart") has data-points > 0: the node got the remote
//      configuration, pings HOST and the gateway has its measurements. The time from the add click
//      must be at most --max-measure-ms (default 10000) and is printed. If the gateway's dashboard
//      has no target page (the chart never appears), it falls back to the node detail page's ping
//      chart listing HOST (printed as "via node page");
//   5. back on #/admin/targets (the node stays chosen): the delivery state says "applied"; screenshot
//      admin-targets.png; then Remove on HOST's row, confirmed in the dialog, takes the row off the
//      list (the original targets stay);
//   6. creates a silence in #/admin/silences (node matcher, 1h, comment) and sees it listed;
//   7. opens every other admin section (rules, users, tokens) and waits for it to load; creates
//      an API token (its emt_… secret shown once with a copy button, then listed); when the
//      gateway has the rules API, creates a threshold rule, edits it, sees a duplicate refused
//      with the gateway's error next to the form, and deletes it;
//      screenshots admin-<section>.png of each, plus admin-targets-phone.png at 390 px width;
//   8. no uncaught page error, native dialog (alert/confirm/prompt) or Content-Security-Policy
//      violation, and no <img>/<script> inside the admin page.
// Prints one "browser: ..." line (with the measured time) and exits 0. On failure it prints
// "browser: FAIL: <reason>" plus diagnostics to stderr, saves admin-failure.png in the screenshot
// directory and exits 1. The browser is closed on every path (also on timeout and signals).
//
// playwright-core is resolved from <repo>/web/node_modules like dashboard_live.cjs does.
'use strict';

const path = require('node:path');
const { Failure, makeUsage, parseArgs, timer, createSession, login, runMain } = require('./browser_lib.cjs');

const SECTIONS = ['targets', 'rules', 'silences', 'users', 'tokens'];
// Unique per run, so the script can be re-run against one gateway.
const RULE = `admin_test_cpu_${process.pid}`;
const TOKEN = `admin-test-${process.pid}`;

const usage = makeUsage(
  'browser',
  'usage: node tests/browser/admin_targets.cjs --url URL --group GROUP --node NODE_ID --host HOST ' +
    '--user USER --password PASSWORD --screenshot-dir DIR [--max-measure-ms 10000] [--timeout-ms 60000]\n',
);

function options(argv) {
  const opts = parseArgs(argv, {
    usage,
    defaults: {
      url: '',
      group: '',
      node: '',
      host: '',
      user: '',
      password: '',
      screenshotDir: '',
      maxMeasureMs: 10000,
      timeoutMs: 60000,
    },
    options: {
      '--url': 'url',
      '--group': 'group',
      '--node': 'node',
      '--host': 'host',
      '--user': 'user',
      '--password': 'password',
      '--screenshot-dir': 'screenshotDir',
      '--max-measure-ms': ['maxMeasureMs', Number],
      '--timeout-ms': ['timeoutMs', Number],
    },
  });
  for (const k of ['url', 'group', 'node', 'host', 'user', 'password', 'screenshotDir']) {
    if (!opts[k]) usage(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`);
  }
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) usage('--timeout-ms must be > 0');
  if (!Number.isFinite(opts.maxMeasureMs) || opts.maxMeasureMs <= 0) usage('--max-measure-ms must be > 0');
  try {
    new URL(opts.url);
  } catch {
    usage(`--url '${opts.url}' is not a URL`);
  }
  opts.screenshotDir = path.resolve(opts.screenshotDir);
  return opts;
}

/** A CSS attribute selector value, quoted. */
const q = (s) => `"${String(s).replace(/["\\]/g, '\\$&')}"`;

async function main() {
  const opts = options(process.argv.slice(2));
  const s = createSession({ prefix: 'browser', timeoutMs: opts.timeoutMs });
  const { remaining, waitFor, pageErrors, dialogs, consoleErrors } = s;
  const nodeKey = `${opts.group}/${opts.node}`;
  const shot = (name) => path.join(opts.screenshotDir, `admin-${name}.png`);
  let page = null;

  const t = timer();
  const { timings, lap } = t;

  const tryWait = async (fn, arg, timeout) => {
    try {
      return await page.waitForFunction(fn, arg, { timeout: Math.min(timeout, remaining()), polling: 100 });
    } catch {
      return null;
    }
  };
  const go = async (hash) => {
    s.phase = `navigating to ${hash}`;
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
  };
  const saveShot = (file) => s.screenshot(file, { phase: `saving ${path.basename(file)}`, top: true });
  const rowsOf = () => page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid="target-row"]')).map((r) => r.getAttribute('data-host')));
  const adminState = () => page.evaluate(() => ({
    hash: location.hash,
    section: document.querySelector('[data-testid="admin-view"]')?.getAttribute('data-section') ?? null,
    node: document.querySelector('[data-testid="target-node"]')?.value ?? null,
    rows: Array.from(document.querySelectorAll('[data-testid="target-row"]')).map((r) => r.getAttribute('data-host')),
    delivery: document.querySelector('[data-testid="target-delivery"]')?.textContent ?? null,
    notices: Array.from(document.querySelectorAll('.adm-notice')).filter((n) => !n.hidden).map((n) => n.textContent),
  }));

  let exitCode = 1;
  try {
    const context = await s.launch({ viewport: { width: 1280, height: 800 }, notFound: ' (apt-get install chromium)',
      playwrightHint: ' (npm ci in web/) or set NODE_PATH=<repo>/web/node_modules' });
    page = await context.newPage();
    s.page = page;
    s.guards(page, { console: true });

    await s.open(opts.url, { strict: true });

    // 1. Log in.
    await login(s, opts.user, opts.password, {
      formLabel: 'the login page',
      doneLabel: 'the dashboard after logging in',
      done: () => {
        const e = document.querySelector('#app');
        return !!e && e.getClientRects().length > 0;
      },
    });
    lap('login');

    // 2. #/admin/targets, choose the node.
    await go('#/admin/targets');
    await waitFor(`node '${nodeKey}' in the target-node select`, (key) => {
      const sel = document.querySelector('[data-testid="target-node"]');
      return !!sel && sel.getClientRects().length > 0 && Array.from(sel.options).some((o) => o.value === key);
    }, nodeKey);
    s.phase = 'choosing the node';
    await page.selectOption('[data-testid="target-node"]', nodeKey, { timeout: remaining() });
    const initial = await waitFor('the node\'s targets listed', () => {
      const rows = Array.from(document.querySelectorAll('[data-testid="target-row"]')).map((r) => r.getAttribute('data-host'));
      return rows.length > 0 ? rows : false;
    });
    const initialRows = await initial.jsonValue();
    if (initialRows.includes(opts.host)) throw new Failure(`${opts.host} is a target before adding it: ${JSON.stringify(initialRows)}`);
    lap('targets-listed');

    // 3. Add the host.
    s.phase = `adding ${opts.host}`;
    await page.fill('[data-testid="target-host"]', opts.host, { timeout: remaining() });
    const addAnswer = page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/targets$/.test(new URL(r.url()).pathname),
      { timeout: remaining() },
    );
    const clickedAt = Date.now();
    await page.click('[data-testid="target-add"]', { timeout: remaining() });
    const addStatus = (await addAnswer).status();
    if (addStatus !== 202) throw new Failure(`POST .../targets answered ${addStatus}, expected 202`);
    await waitFor(`a target-row for ${opts.host}`, (h) =>
      Array.from(document.querySelectorAll('[data-testid="target-row"]')).some((r) => r.getAttribute('data-host') === h), opts.host);
    const rowAfterMs = Date.now() - clickedAt;
    lap('added');

    // 4. Its measurements on the target page (or, without one, on the node page's ping chart).
    const targetHash = `#/target/${[opts.group, opts.node, 'ping', opts.host].map(encodeURIComponent).join('/')}`;
    await go(targetHash);
    let via = 'target page';
    const chartThere = await tryWait(() => !!document.querySelector('[data-testid="target-latency-chart"]'), undefined, 5000);
    let measuredMs;
    let points;
    if (chartThere) {
      const h = await waitFor(`data-points > 0 on the target-latency-chart of ${opts.host}`, () => {
        const c = document.querySelector('[data-testid="target-latency-chart"]');
        const n = Number(c && c.getAttribute('data-points'));
        return n > 0 ? n : false;
      }, undefined, Math.max(1, opts.maxMeasureMs - (Date.now() - clickedAt)) + 5000);
      measuredMs = Date.now() - clickedAt;
      points = await h.jsonValue();
    } else {
      via = 'node page (no target-latency-chart on the target page)';
      await go(`#/node/${encodeURIComponent(opts.group)}/${encodeURIComponent(opts.node)}`);
      const h = await waitFor(`the node page's ping chart listing ${opts.host} with data`, (host) => {
        const c = document.querySelector('[data-testid="chart-ping"]');
        if (!c || !(c.textContent ?? '').includes(host)) return false;
        const n = Number(c.getAttribute('data-points'));
        return n > 0 ? n : false;
      }, opts.host, Math.max(1, opts.maxMeasureMs - (Date.now() - clickedAt)) + 5000);
      measuredMs = Date.now() - clickedAt;
      points = await h.jsonValue();
    }
    lap('measured');
    if (measuredMs > opts.maxMeasureMs) {
      throw new Failure(`${opts.host} was first drawn ${measuredMs} ms after the add click (more than ${opts.maxMeasureMs} ms)`);
    }
    await saveShot(shot('target-page'));

    // 5. Back to the admin page: applied; screenshot; remove with confirmation.
    await go('#/admin/targets');
    await waitFor(`${nodeKey} still chosen with ${opts.host} listed`, ([key, h]) => {
      const sel = document.querySelector('[data-testid="target-node"]');
      return !!sel && sel.value === key &&
        Array.from(document.querySelectorAll('[data-testid="target-row"]')).some((r) => r.getAttribute('data-host') === h);
    }, [nodeKey, opts.host]);
    await waitFor('the delivery state "applied"', () =>
      document.querySelector('[data-testid="target-delivery"]')?.getAttribute('data-pending') === 'false' &&
      /applied/.test(document.querySelector('[data-testid="target-delivery"]')?.textContent ?? ''));
    const delivery = await page.evaluate(() => document.querySelector('[data-testid="target-delivery"]')?.textContent ?? '');
    await waitFor(`${opts.host} reported by the node (badge "measured")`, (h) => {
      const row = Array.from(document.querySelectorAll('[data-testid="target-row"]')).find((r) => r.getAttribute('data-host') === h);
      return !!row && row.getAttribute('data-reported') === 'true';
    }, opts.host);
    await saveShot(shot('targets'));
    // The same page at phone width.
    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await saveShot(shot('targets-phone'));
    await page.setViewportSize({ width: 1280, height: 800 });
    if (overflow > 1) throw new Failure(`#/admin/targets is ${overflow} px wider than a 390 px phone screen`);
    lap('applied+shots');

    s.phase = `removing ${opts.host}`;
    await page.click(`[data-testid="target-row"][data-host=${q(opts.host)}] [data-testid="target-remove"]`, { timeout: remaining() });
    await waitFor('the confirmation dialog', () => {
      const d = document.querySelector('[data-testid="confirm-dialog"]');
      return !!d && d.open;
    });
    const removeAnswer = page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: remaining() });
    await page.click('[data-testid="confirm-ok"]', { timeout: remaining() });
    const removeStatus = (await removeAnswer).status();
    if (removeStatus !== 202) throw new Failure(`DELETE .../targets/${opts.host} answered ${removeStatus}, expected 202`);
    await waitFor(`${opts.host} to leave the list`, (h) =>
      !Array.from(document.querySelectorAll('[data-testid="target-row"]')).some((r) => r.getAttribute('data-host') === h), opts.host);
    const afterRemove = await rowsOf();
    for (const h of initialRows) {
      if (!afterRemove.includes(h)) throw new Failure(`removing ${opts.host} also removed ${h}: ${JSON.stringify(afterRemove)}`);
    }
    lap('removed');

    // 6. A silence through the form.
    await go('#/admin/silences');
    await waitFor('the silence form', () => !!document.querySelector('[data-testid="silence-submit"]'));
    s.phase = 'creating a silence';
    await page.selectOption('[data-testid="silence-label"]', 'node', { timeout: remaining() });
    await page.fill('[data-testid="silence-glob"]', nodeKey, { timeout: remaining() });
    await page.fill('[data-testid="silence-duration"]', '1h', { timeout: remaining() });
    await page.fill('[data-testid="silence-comment"]', 'admin browser test', { timeout: remaining() });
    await page.click('[data-testid="silence-submit"]', { timeout: remaining() });
    await waitFor('the new silence listed as active', (key) =>
      Array.from(document.querySelectorAll('[data-testid="silence-list"] [data-testid="silence-row"]')).some(
        (r) => (r.textContent ?? '').includes(key) && (r.textContent ?? '').includes('active')), nodeKey);
    lap('silence');

    // 7. Every section loads; screenshots.
    const loaded = {
      rules: () => !!document.querySelector('[data-testid="rule-row"], [data-testid="rule-list"] .adm-empty') ||
        Array.from(document.querySelectorAll('[data-testid="admin-rules"] .adm-notice')).some((n) => !n.hidden),
      silences: () => !!document.querySelector('[data-testid="silence-row"]'),
      users: () => !!document.querySelector('[data-testid="user-row"]'),
      tokens: () => !!document.querySelector('[data-testid="token-row"], [data-testid="token-list"] .adm-empty'),
    };
    const sectionNotes = {};
    let tokenLength = 0;
    let rulesFlow = 'no rules API';
    let ruleError = '';
    for (const section of SECTIONS.filter((s) => s !== 'targets')) {
      await go(`#/admin/${section}`);
      await waitFor(`the ${section} section`, loaded[section]);
      if (section === 'tokens') {
        // A new token: its secret is shown once, with a copy button, and listed afterwards.
        s.phase = 'creating an API token';
        await page.fill('[data-testid="token-name"]', TOKEN, { timeout: remaining() });
        await page.click('[data-testid="token-submit"]', { timeout: remaining() });
        const secretHandle = await waitFor('the new token shown once', (name) => {
          const v = document.querySelector('[data-testid="token-secret-value"]');
          const listed = Array.from(document.querySelectorAll('[data-testid="token-row"]')).some((r) => r.getAttribute('data-name') === name);
          return v && listed && /^emt_[A-Za-z0-9_-]{43}$/.test(v.value) ? v.value.length : false;
        }, TOKEN);
        tokenLength = await secretHandle.jsonValue();
        if (!(await page.isVisible('[data-testid="token-copy"]'))) throw new Failure('no copy button next to the new token');
      }
      let deleteRule = false;
      if (section === 'rules' && (await page.isVisible('[data-testid="rule-submit"]'))) {
        // The rules API exists: create, edit, a refused duplicate (error next to the form), then
        // (after the screenshot) delete.
        s.phase = 'creating a rule';
        const fillRule = async (threshold) => {
          await page.fill('[data-testid="rule-name"]', RULE, { timeout: remaining() });
          await page.selectOption('[data-testid="rule-kind"]', 'threshold', { timeout: remaining() });
          await page.fill('[data-testid="rule-metric"]', 'cpu/total', { timeout: remaining() });
          await page.fill('[data-testid="rule-threshold"]', threshold, { timeout: remaining() });
          await page.selectOption('[data-testid="rule-severity"]', 'info', { timeout: remaining() });
          await page.click('[data-testid="rule-submit"]', { timeout: remaining() });
        };
        const ruleRow = (want) => waitFor(`rule ${RULE} listed with "${want}"`, ([name, text]) => {
          const row = Array.from(document.querySelectorAll('[data-testid="rule-row"]')).find((r) => r.getAttribute('data-name') === name);
          return !!row && (row.textContent ?? '').includes(text) && (row.textContent ?? '').includes('added here');
        }, [RULE, want]);
        await fillRule('99.5');
        await ruleRow('cpu/total > 99.5');
        s.phase = 'editing the rule';
        await page.click(`[data-testid="rule-row"][data-name=${q(RULE)}] [data-testid="rule-edit"]`, { timeout: remaining() });
        await page.fill('[data-testid="rule-threshold"]', '98', { timeout: remaining() });
        await page.click('[data-testid="rule-submit"]', { timeout: remaining() });
        await ruleRow('cpu/total > 98');
        s.phase = 'creating a duplicate rule';
        await fillRule('97');
        const errHandle = await waitFor('the duplicate rule refused next to the form', () => {
          const e = document.querySelector('[data-testid="rule-form-error"]');
          return e && !e.hidden && e.getAttribute('data-tone') === 'error' ? e.textContent : false;
        });
        ruleError = await errHandle.jsonValue();
        rulesFlow = 'created, edited, duplicate refused';
        deleteRule = true;
      }
      sectionNotes[section] = await page.evaluate(() =>
        Array.from(document.querySelectorAll('[data-testid="admin-content"] .adm-notice')).filter((n) => !n.hidden).map((n) => n.textContent).join(' | '));
      await saveShot(shot(section));
      if (deleteRule) {
        s.phase = 'deleting the rule';
        await page.click(`[data-testid="rule-row"][data-name=${q(RULE)}] [data-testid="rule-delete"]`, { timeout: remaining() });
        await page.click('[data-testid="confirm-ok"]', { timeout: remaining() });
        await waitFor(`rule ${RULE} to leave the list`, (name) =>
          !Array.from(document.querySelectorAll('[data-testid="rule-row"]')).some((r) => r.getAttribute('data-name') === name), RULE);
        rulesFlow += ', deleted';
      }
    }
    lap('sections');

    s.phase = 'checking the page';
    const injected = await page.evaluate(() => document.querySelectorAll('[data-testid="admin-view"] img, [data-testid="admin-view"] script').length);
    if (injected) throw new Failure(`${injected} <img>/<script> element(s) inside the admin page`);
    if (pageErrors.length || dialogs.length) throw new Failure('page error or native dialog occurred');
    const csp = consoleErrors.filter((e) => /Content Security Policy/i.test(e));
    if (csp.length) throw new Failure(`Content-Security-Policy violation: ${csp[0]}`);

    process.stdout.write(
      `browser: admin targets ok: node=${nodeKey} initial=${JSON.stringify(initialRows)}; ` +
        `add ${opts.host} -> ${addStatus}, row after ${rowAfterMs} ms; ` +
        `first measurement drawn ${measuredMs} ms after the add click (${points} point(s), via ${via}; limit ${opts.maxMeasureMs} ms); ` +
        `delivery "${delivery.trim()}"; remove -> ${removeStatus}, list now ${JSON.stringify(afterRemove)}; ` +
        `silence created; token created (${tokenLength} characters, shown once); rules: ${rulesFlow}${ruleError ? ` ("${ruleError}")` : ''}${sectionNotes.rules && !ruleError ? ` ("${sectionNotes.rules}")` : ''}; ` +
        `screenshots in ${opts.screenshotDir}: ${SECTIONS.map((s) => `admin-${s}.png`).join(' ')} admin-targets-phone.png admin-target-page.png; ` +
        `ms: ${timings.join(' ')} total=${Date.now() - t.started}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (s.aborted) return undefined;
    s.reportFailure(err, t);
    if (page && !page.isClosed()) {
      try {
        s.say(`  url=${page.url()} state=${JSON.stringify(await adminState())}`);
      } catch {
        /* page unusable */
      }
      await s.failureShot(shot('failure'));
    }
  } finally {
    await s.close();
  }
  return exitCode;
}

runMain('browser', main);
