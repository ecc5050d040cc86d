#!/usr/bin/env node
// Smoke check of the live dashboard in Firefox (Debian's firefox-esr, driven by puppeteer-core over
// WebDriver BiDi): the dashboard issue promises "works in Chromium and Firefox", and the full checks
// (tests/browser/dashboard_live.cjs) run in Chromium only.
//
//   node tests/browser/firefox_smoke.cjs --url http://127.0.0.1:PORT/ --node NODE_ID \
//        --user USER --password PASSWORD --screenshot /path/firefox.png [--timeout-ms 60000]
//
// Launches /usr/bin/firefox-esr headless (never a downloaded browser) with a fresh temporary profile
// whose preferences switch off updates, telemetry, safe browsing, captive-portal and connectivity
// checks and other background traffic, and checks, within the overall --timeout-ms budget:
//   1. the login form is shown; logging in with USER/PASSWORD shows the dashboard;
//   2. the connection indicator reaches data-state="live";
//   3. the card of NODE_ID shows a numeric CPU value and its data-updates grows (live pushes);
//   4. the node detail page (#/node/<group>/<id>, the card link's href) draws its CPU chart with
//      data (data-points > 0, a canvas);
//   5. #/alerts, #/reports and #/admin/targets render (their views visible and loaded);
//   6. no uncaught page error and no console error anywhere.
// Saves a screenshot of the node detail page to --screenshot and <dir>/firefox-<page>.png for the
// other pages, prints one "firefox: ..." line and exits 0. On failure prints "firefox: FAIL: <reason>"
// plus diagnostics to stderr, still tries to save a screenshot (to --screenshot), and exits 1. The
// browser is closed on every path (also on timeout and signals).
//
// puppeteer-core is resolved from <repo>/web/node_modules (installed by .ci/deps via npm ci).
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { createRequire } = require('node:module');

const FIREFOX = '/usr/bin/firefox-esr';

// No traffic anywhere but the gateway under test.
const PREFS = {
  'app.update.enabled': false,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutHomeSnippets.updateUrl': '',
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,
  'browser.ping-centre.telemetry': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.search.update': false,
  'browser.search.geoip.url': '',
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.topsites.contile.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.update.enabled': false,
  'extensions.blocklist.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0,
  'network.prefetch-next': false,
  'network.proxy.type': 0,
  'security.OCSP.enabled': 0,
  'security.remote_settings.crlite_filters.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.unified': false,
};

function usage(msg) {
  if (msg) process.stderr.write(`firefox: ${msg}\n`);
  process.stderr.write(
    'usage: node tests/browser/firefox_smoke.cjs --url URL --node NODE_ID --user USER --password PASSWORD ' +
      '--screenshot FILE.png [--timeout-ms 60000]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: '', node: '', user: '', password: '', screenshot: '', timeoutMs: 60000 };
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
      case '--timeout-ms': opts.timeoutMs = Number(take()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  for (const k of ['url', 'node', 'user', 'password', 'screenshot']) if (!opts[k]) usage(`--${k} is required`);
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) usage('--timeout-ms must be > 0');
  try {
    new URL(opts.url);
  } catch {
    usage(`--url '${opts.url}' is not a URL`);
  }
  opts.screenshot = path.resolve(opts.screenshot);
  return opts;
}

function loadPuppeteer() {
  const webPkg = path.resolve(__dirname, '..', '..', 'web', 'package.json');
  try {
    return createRequire(webPkg)('puppeteer-core');
  } catch (first) {
    try {
      return require('puppeteer-core');
    } catch {
      throw new Error(
        `cannot load puppeteer-core (${first.message.split('\n')[0]}); run .ci/deps ` +
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
  const shotDir = path.dirname(opts.screenshot);

  let browser = null;
  let page = null;
  let phase = 'starting';
  const pageErrors = [];
  const consoleErrors = [];
  let closing = null;
  let aborted = false;
  let exitCode = 1;

  const closeBrowser = () => {
    if (!browser) return Promise.resolve();
    if (!closing) {
      const b = browser;
      const proc = b.process();
      closing = Promise.race([
        b.close().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]).then(() => {
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          try {
            proc.kill('SIGKILL');
          } catch {
            /* already gone */
          }
        }
      });
    }
    return closing;
  };

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      aborted = true;
      process.stderr.write(`firefox: FAIL: interrupted by ${sig} while ${phase}\n`);
      closeBrowser().finally(() => process.exit(1));
    });
  }
  const watchdog = setTimeout(() => {
    aborted = true;
    process.stderr.write(`firefox: FAIL: watchdog expired while ${phase}\n`);
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

  const waitFor = async (what, fn, ...args) => {
    phase = `waiting for ${what}`;
    try {
      return await page.waitForFunction(fn, { timeout: remaining(), polling: 100 }, ...args);
    } catch (err) {
      if (pageErrors.length) throw new Failure(`${what}: page error (see below)`);
      const why = /Timeout/i.test(String(err && err.message)) ? `timed out after ${opts.timeoutMs} ms` : String(err);
      throw new Failure(`${what}: ${why}`);
    }
  };
  const value = async (what, fn, ...args) => (await waitFor(what, fn, ...args)).jsonValue();
  const go = async (hash) => {
    phase = `navigating to ${hash}`;
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
  };
  const saveShot = async (file) => {
    phase = `saving ${path.basename(file)}`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
  };

  try {
    const puppeteer = loadPuppeteer();
    if (!fs.existsSync(FIREFOX)) throw new Failure(`${FIREFOX} missing: run .ci/deps (Debian firefox-esr)`);

    phase = 'launching firefox-esr';
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      protocol: 'webDriverBiDi',
      args: ['--no-remote'],
      extraPrefsFirefox: PREFS,
      defaultViewport: { width: 1280, height: 800 },
      timeout: remaining(),
      protocolTimeout: Math.max(30000, opts.timeoutMs),
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const version = await browser.version();
    lap('launch');

    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String((err && err.message) || err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });

    // 1. Login.
    phase = 'opening the dashboard';
    await page.goto(opts.url, { waitUntil: 'load', timeout: remaining() });
    await waitFor('the login form', () => {
      const f = document.querySelector('#login-form');
      return !!f && f.getClientRects().length > 0;
    });
    phase = 'logging in';
    await page.type('#login-user', opts.user);
    await page.type('#login-password', opts.password);
    await page.click('#login-form button[type="submit"]');
    await waitFor('the dashboard after logging in', () => {
      const vis = (sel) => {
        const e = document.querySelector(sel);
        return !!e && e.getClientRects().length > 0;
      };
      return vis('#app') && vis('#overview-view') && !vis('#login-form');
    });
    lap('login');

    // 2. + 3. Live connection, the node's card with a CPU value that updates.
    await waitFor('conn-state live', () =>
      document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state') === 'live');
    const cardState = (id) => {
      const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((c) => c.dataset.node === id);
      const cpu = card?.querySelector('[data-testid="cpu"]')?.textContent?.trim() ?? '';
      return card && /^-?\d+(\.\d+)?$/.test(cpu)
        ? {
            cpu,
            updates: Number(card.getAttribute('data-updates')),
            href: card.querySelector('a[data-testid="node-link"]')?.getAttribute('href') ?? '',
          }
        : false;
    };
    const first = await value(`a numeric CPU value on the card of '${opts.node}'`, cardState, opts.node);
    await waitFor(`data-updates of '${opts.node}' to grow beyond ${first.updates}`, (id, n) => {
      const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((c) => c.dataset.node === id);
      return !!card && Number(card.getAttribute('data-updates')) > n;
    }, opts.node, first.updates);
    const conn = await page.evaluate(() => document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state'));
    lap('live');
    await saveShot(path.join(shotDir, 'firefox-overview.png'));

    // 4. Node detail with its CPU chart.
    if (!first.href.startsWith('#/node/')) throw new Failure(`the card link of '${opts.node}' is '${first.href}'`);
    await go(first.href);
    const points = await value('the node detail page with the CPU chart drawn with data', (id) => {
      const view = document.querySelector('[data-testid="node-view"]');
      if (!view || view.getClientRects().length === 0) return false;
      if (document.querySelector('[data-testid="node-title"]')?.textContent !== id) return false;
      const chart = document.querySelector('[data-testid="chart-cpu"]');
      const canvas = chart?.querySelector('canvas');
      const n = Number(chart?.getAttribute('data-points') ?? 0);
      return n > 0 && !!canvas && canvas.width > 0 && canvas.height > 0 ? n : false;
    }, opts.node);
    lap('detail');
    await saveShot(opts.screenshot);

    // 5. The other pages render.
    await go('#/alerts');
    await waitFor('the alerts page', () => {
      const v = (sel) => {
        const e = document.querySelector(sel);
        return !!e && e.getClientRects().length > 0;
      };
      return location.hash === '#/alerts' && v('[data-testid="alerts-view"]') && v('[data-testid="firing-section"]');
    });
    lap('alerts');
    await saveShot(path.join(shotDir, 'firefox-alerts.png'));

    await go('#/reports');
    const reportRows = await value('the reports page with its table', () => {
      const view = document.querySelector('[data-testid="reports-view"]');
      const body = document.querySelector('[data-testid="report-table"] tbody');
      return location.hash === '#/reports' && !!view && view.getClientRects().length > 0 && !!body &&
        body.dataset.rows !== undefined ? { rows: Number(body.dataset.rows) } : false;  // 0 rows: still truthy
    });
    lap('reports');
    await saveShot(path.join(shotDir, 'firefox-reports.png'));

    await go('#/admin/targets');
    const nodeOptions = await value(`the admin targets page offering '${opts.node}'`, (id) => {
      const view = document.querySelector('[data-testid="admin-view"]');
      const sel = document.querySelector('[data-testid="target-node"]');
      if (!view || view.getClientRects().length === 0 || view.dataset.section !== 'targets') return false;
      if (!sel || sel.getClientRects().length === 0) return false;
      const opts = Array.from(sel.options).map((o) => o.value);
      return opts.some((v) => v.endsWith(`/${id}`) || v === id) ? opts.length : false;
    }, opts.node);
    lap('admin');
    await saveShot(path.join(shotDir, 'firefox-admin-targets.png'));

    if (pageErrors.length) throw new Failure('page error occurred');
    if (consoleErrors.length) throw new Failure(`console error: ${consoleErrors[0]}`);

    process.stdout.write(
      `firefox: ${version}: logged in as ${opts.user}; conn=${conn}; node=${opts.node} cpu=${first.cpu} ` +
        `updates>${first.updates}; detail ${first.href} chart-cpu points=${points}; alerts ok; ` +
        `reports rows=${reportRows.rows}; admin/targets node options=${nodeOptions}; no page/console errors; ` +
        `screenshot=${opts.screenshot}; ms: ${timings.join(' ')} total=${Date.now() - started}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (aborted) return;
    const reason = err instanceof Failure ? err.message : `${phase}: ${(err && err.stack) || err}`;
    process.stderr.write(`firefox: FAIL: ${reason}\n`);
    process.stderr.write(`firefox:   ms: ${timings.join(' ')} then ${Date.now() - mark} in '${phase}'\n`);
    for (const e of pageErrors) process.stderr.write(`firefox:   page error: ${e}\n`);
    for (const c of consoleErrors.slice(0, 10)) process.stderr.write(`firefox:   console error: ${c}\n`);
    if (page && !page.isClosed()) {
      try {
        process.stderr.write(`firefox:   url=${page.url()}\n`);
        fs.mkdirSync(shotDir, { recursive: true });
        await Promise.race([
          page.screenshot({ path: opts.screenshot, fullPage: true }),
          new Promise((_, reject) => setTimeout(() => reject(new Error('screenshot timed out')), 5000).unref()),
        ]);
        process.stderr.write(`firefox:   screenshot (failure state) saved to ${opts.screenshot}\n`);
      } catch (shotErr) {
        process.stderr.write(`firefox:   no screenshot: ${String(shotErr && shotErr.message).split('\n')[0]}\n`);
      }
    }
  } finally {
    await closeBrowser();
    clearTimeout(watchdog);
  }
  process.exit(exitCode);
}

main().catch((err) => {
  process.stderr.write(`firefox: FAIL: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
