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
const SECTIONS = ['targets', 'rules', 'silences', 'users', 'tokens'];
// Unique per run, so the script can be re-run against one gateway.
const RULE = `admin_test_cpu_${process.pid}`;
const TOKEN = `admin-test-${process.pid}`;

function usage(msg) {
  if (msg) process.stderr.write(`browser: ${msg}\n`);
  process.stderr.write(
    'usage: node tests/browser/admin_targets.cjs --url URL --group GROUP --node NODE_ID --host HOST ' +
      '--user USER --password PASSWORD --screenshot-dir DIR [--max-measure-ms 10000] [--timeout-ms 60000]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    url: '',
    group: '',
    node: '',
    host: '',
    user: '',
    password: '',
    screenshotDir: '',
    maxMeasureMs: 10000,
    timeoutMs: 60000,
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
      case '--group': opts.group = take(); break;
      case '--node': opts.node = take(); break;
      case '--host': opts.host = take(); break;
      case '--user': opts.user = take(); break;
      case '--password': opts.password = take(); break;
      case '--screenshot-dir': opts.screenshotDir = take(); break;
      case '--max-measure-ms': opts.maxMeasureMs = Number(take()); break;
      case '--timeout-ms': opts.timeoutMs = Number(take()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
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

/** A CSS attribute selector value, quoted. */
const q = (s) => `"${String(s).replace(/["\\]/g, '\\$&')}"`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + opts.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const nodeKey = `${opts.group}/${opts.node}`;
  const shot = (name) => path.join(opts.screenshotDir, `admin-${name}.png`);

  let browser = null;
  let page = null;
  let phase = 'starting';
  const pageErrors = [];
  const dialogs = [];
  const consoleErrors = [];
  let closing = null;
  let aborted = false;

  const closeBrowser = () => {
    if (!browser) return Promise.resolve();
    if (!closing) {
      const b = browser;
      closing = Promise.race([b.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
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
  const watchdog = setTimeout(() => {
    aborted = true;
    process.stderr.write(`browser: FAIL: watchdog expired while ${phase}\n`);
    closeBrowser().finally(() => process.exit(1));
  }, opts.timeoutMs + 15000);
  watchdog.unref();

  const started = Date.now();
  let mark = started;
  const timings = [];
  const lap = (name) => {
    const now = Date.now();
    timings.push(`${name}=${now - mark}`);
    mark = now;
  };

  const waitFor = async (what, fn, arg, timeout) => {
    phase = `waiting for ${what}`;
    try {
      return await page.waitForFunction(fn, arg, { timeout: Math.min(timeout ?? Infinity, remaining()), polling: 100 });
    } catch (err) {
      if (pageErrors.length || dialogs.length) throw new Failure(`${what}: page error/dialog (see below)`);
      const why = /Timeout/i.test(String(err && err.message)) ? `timed out` : String(err);
      throw new Failure(`${what}: ${why}`);
    }
  };
  const tryWait = async (fn, arg, timeout) => {
    try {
      return await page.waitForFunction(fn, arg, { timeout: Math.min(timeout, remaining()), polling: 100 });
    } catch {
      return null;
    }
  };
  const go = async (hash) => {
    phase = `navigating to ${hash}`;
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
  };
  const saveShot = async (file) => {
    phase = `saving ${path.basename(file)}`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // From the top: a full-page shot of a scrolled page draws the sticky top bar mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file, fullPage: true, timeout: remaining() });
  };
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
    phase = 'loading playwright-core';
    const { chromium } = loadPlaywright();
    if (!fs.existsSync(CHROMIUM)) throw new Failure(`${CHROMIUM} not found (apt-get install chromium)`);

    phase = 'launching chromium';
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
    if (!response || !response.ok()) throw new Failure(`GET ${opts.url} returned ${response ? response.status() : 'no response'}`);

    // 1. Log in.
    await waitFor('the login page', () => {
      const e = document.querySelector('#login-form');
      return !!e && e.getClientRects().length > 0;
    });
    phase = 'logging in';
    await page.fill('#login-user', opts.user, { timeout: remaining() });
    await page.fill('#login-password', opts.password, { timeout: remaining() });
    await page.click('#login-form button[type="submit"]', { timeout: remaining() });
    await waitFor('the dashboard after logging in', () => {
      const e = document.querySelector('#app');
      return !!e && e.getClientRects().length > 0;
    });
    lap('login');

    // 2. #/admin/targets, choose the node.
    await go('#/admin/targets');
    await waitFor(`node '${nodeKey}' in the target-node select`, (key) => {
      const sel = document.querySelector('[data-testid="target-node"]');
      return !!sel && sel.getClientRects().length > 0 && Array.from(sel.options).some((o) => o.value === key);
    }, nodeKey);
    phase = 'choosing the node';
    await page.selectOption('[data-testid="target-node"]', nodeKey, { timeout: remaining() });
    const initial = await waitFor('the node\'s targets listed', () => {
      const rows = Array.from(document.querySelectorAll('[data-testid="target-row"]')).map((r) => r.getAttribute('data-host'));
      return rows.length > 0 ? rows : false;
    });
    const initialRows = await initial.jsonValue();
    if (initialRows.includes(opts.host)) throw new Failure(`${opts.host} is a target before adding it: ${JSON.stringify(initialRows)}`);
    lap('targets-listed');

    // 3. Add the host.
    phase = `adding ${opts.host}`;
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

    phase = `removing ${opts.host}`;
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
    phase = 'creating a silence';
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
        phase = 'creating an API token';
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
        phase = 'creating a rule';
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
        phase = 'editing the rule';
        await page.click(`[data-testid="rule-row"][data-name=${q(RULE)}] [data-testid="rule-edit"]`, { timeout: remaining() });
        await page.fill('[data-testid="rule-threshold"]', '98', { timeout: remaining() });
        await page.click('[data-testid="rule-submit"]', { timeout: remaining() });
        await ruleRow('cpu/total > 98');
        phase = 'creating a duplicate rule';
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
        phase = 'deleting the rule';
        await page.click(`[data-testid="rule-row"][data-name=${q(RULE)}] [data-testid="rule-delete"]`, { timeout: remaining() });
        await page.click('[data-testid="confirm-ok"]', { timeout: remaining() });
        await waitFor(`rule ${RULE} to leave the list`, (name) =>
          !Array.from(document.querySelectorAll('[data-testid="rule-row"]')).some((r) => r.getAttribute('data-name') === name), RULE);
        rulesFlow += ', deleted';
      }
    }
    lap('sections');

    phase = 'checking the page';
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
        process.stderr.write(`browser:   url=${page.url()} state=${JSON.stringify(await adminState())}\n`);
      } catch {
        /* page unusable */
      }
      try {
        const file = shot('failure');
        fs.mkdirSync(path.dirname(file), { recursive: true });
        await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        process.stderr.write(`browser:   screenshot (failure state) saved to ${file}\n`);
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
