#!/usr/bin/env node
// End-to-end browser check of the live dashboard served by edgemon-gateway.
//
//   node tests/browser/dashboard_live.cjs --url http://127.0.0.1:PORT/ --node NODE_ID \
//        --screenshot /path/shot.png [--timeout-ms 20000]
//
// Launches the system Chromium (/usr/bin/chromium, never a downloaded browser) headless through
// playwright-core with a fresh temporary profile, opens the dashboard and checks, within the
// overall --timeout-ms budget:
//   1. the connection indicator reaches data-state="live";
//   2. the card of NODE_ID shows a numeric CPU value;
//   3. that card's data-updates grows by at least 2 more (live pushes, no reload);
//   4. no uncaught page error, dialog (alert/confirm/prompt, e.g. from injected markup) or crash,
//      and no <img>/<script> inside any node card (device strings are rendered as text only).
// Then it saves a full-page screenshot, prints one "browser: ..." line and exits 0. On failure
// it prints "browser: FAIL: <reason>" plus diagnostics to stderr, still tries to save the
// screenshot, and exits 1. The browser is closed on every path (also on timeout and signals).
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
    'usage: node tests/browser/dashboard_live.cjs --url URL --node NODE_ID ' +
      '--screenshot FILE.png [--timeout-ms 20000]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: '', node: '', screenshot: '', timeoutMs: 20000 };
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
      case '--screenshot': opts.screenshot = take(); break;
      case '--timeout-ms': opts.timeoutMs = Number(take()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  if (!opts.url) usage('--url is required');
  if (!opts.node) usage('--node is required');
  if (!opts.screenshot) usage('--screenshot is required');
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) usage('--timeout-ms must be > 0');
  try {
    new URL(opts.url);
  } catch {
    usage(`--url '${opts.url}' is not a URL`);
  }
  opts.screenshot = path.resolve(opts.screenshot);
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
    return {
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

    phase = 'saving the screenshot';
    fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
    await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: remaining() });

    process.stdout.write(
      `browser: node=${opts.node} cpu=${final.cpu} (first ${firstCpu}) updates=${final.updates} ` +
        `(+${final.updates - baseline}) nodes=${final.nodes.length} conn=live ` +
        `screenshot=${opts.screenshot}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (aborted) return;
    const reason = err instanceof Failure ? err.message : `${phase}: ${(err && err.stack) || err}`;
    process.stderr.write(`browser: FAIL: ${reason}\n`);
    for (const e of pageErrors) process.stderr.write(`browser:   page error: ${e}\n`);
    for (const d of dialogs) process.stderr.write(`browser:   dialog: ${d}\n`);
    for (const c of consoleErrors.slice(0, 10)) process.stderr.write(`browser:   console error: ${c}\n`);
    if (page && !page.isClosed()) {
      try {
        const s = await page.evaluate(state, opts.node);
        process.stderr.write(
          `browser:   url=${page.url()} conn=${s.conn} cards=${JSON.stringify(s.nodes)} ` +
            `cpu=${JSON.stringify(s.cpu)} updates=${s.updates}\n`,
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
