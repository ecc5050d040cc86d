// Shared helpers of the playwright-core scripts that drive Debian's Chromium:
// tests/browser/{dashboard_live,admin_targets,fleet_outage,hostile_names}.cjs and
// tests/bench/dashboard_bench.cjs.
//
//   parseArgs(argv, spec)     command-line flags (--name VALUE, optionally --name=VALUE)
//   loadPlaywright(hint)      playwright-core from <repo>/web/node_modules, else require()
//   createSession(opts)       deadline, browser closing on every path (signals, watchdog), phase,
//                             waitFor, launch, page guards, screenshots, failure report
//   login(s, user, password)  the login page's form
//   timer()                   per-step milliseconds
//   runMain(prefix, main)     runs main() and exits with the code it returns
//
// Each script prints its own "<prefix>: ..." lines; the prefix is given to createSession.
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

class Failure extends Error {}

/** A function that prints "<prefix>: <msg>" (if any) and the usage text to stderr, then exits 2. */
function makeUsage(prefix, text) {
  return (msg) => {
    if (msg) process.stderr.write(`${prefix}: ${msg}\n`);
    process.stderr.write(text);
    process.exit(2);
  };
}

/**
 * Parses argv by spec = { defaults, usage, equals, options }. options maps a flag to
 * 'key' (o.key = value), ['key', convert] (o.key = convert(value)) or ['key'] (o.key = true, no
 * value). equals: 'any' (split --name=value at the first '=' of any argument), 'long' (only of
 * arguments starting with --) or 'none'. -h/--help prints the usage; anything else is refused.
 */
function parseArgs(argv, spec) {
  const { usage, equals = 'any', options } = spec;
  const o = { ...spec.defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const split = equals === 'any' ? eq > 0 : equals === 'long' ? arg.startsWith('--') && eq > 0 : false;
    const name = split ? arg.slice(0, eq) : arg;
    const take = () => {
      if (split) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    const opt = Object.prototype.hasOwnProperty.call(options, name) ? options[name] : undefined;
    if (typeof opt === 'string') o[opt] = take();
    else if (Array.isArray(opt) && opt.length === 1) o[opt[0]] = true;
    else if (Array.isArray(opt)) o[opt[0]] = opt[1](take());
    else if (name === '-h' || name === '--help') usage();
    else usage(`unknown argument '${arg}'`);
  }
  return o;
}

/** playwright-core from <repo>/web/node_modules (no NODE_PATH needed), else a plain require(). */
function loadPlaywright(hint = '') {
  const webPkg = path.resolve(__dirname, '..', '..', 'web', 'package.json');
  try {
    return createRequire(webPkg)('playwright-core');
  } catch (first) {
    try {
      return require('playwright-core');
    } catch {
      throw new Error(`cannot load playwright-core (${first.message.split('\n')[0]}); run .ci/deps${hint}`);
    }
  }
}

/** Milliseconds each step took: lap(name) records the time since the previous lap. */
function timer() {
  const t = { started: Date.now(), timings: [] };
  t.mark = t.started;
  t.lap = (name) => {
    const now = Date.now();
    t.timings.push(`${name}=${now - t.mark}`);
    t.mark = now;
  };
  return t;
}

/**
 * One run of a script: prefix (of every printed line), timeoutMs (the overall budget; a watchdog
 * gives up 15 s after it), polling of waitFor (ms; undefined: playwright's default), timedOut (the
 * text of a waitFor timeout), withPhase (name the phase on a signal or the watchdog), wrapWaits
 * (waitFor throws a Failure "<what>: <why>"; false: playwright's own error).
 */
function createSession({ prefix, timeoutMs, polling = 100, timedOut = 'timed out', withPhase = true, wrapWaits = true }) {
  const s = {
    prefix,
    deadline: Date.now() + timeoutMs,
    browser: null,
    page: null,
    phase: 'starting',
    pageErrors: [],
    dialogs: [],
    consoleErrors: [],
    aborted: false, // set by a signal or the watchdog, which report and exit themselves
  };
  s.remaining = () => Math.max(1, s.deadline - Date.now());

  let closing = null;
  s.closeBrowser = () => {
    if (!s.browser) return Promise.resolve();
    if (!closing) {
      const b = s.browser;
      // Never hang on close: playwright also kills the browser process when node exits.
      closing = Promise.race([b.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    return closing;
  };
  const while_ = () => (withPhase ? ` while ${s.phase}` : '');
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      s.aborted = true;
      process.stderr.write(`${prefix}: FAIL: interrupted by ${sig}${while_()}\n`);
      s.closeBrowser().finally(() => process.exit(1));
    });
  }
  // Last-resort guard: whatever hangs, give up a little after the budget (closing the browser).
  const watchdog = setTimeout(() => {
    s.aborted = true;
    process.stderr.write(`${prefix}: FAIL: watchdog expired${while_()}\n`);
    s.closeBrowser().finally(() => process.exit(1));
  }, timeoutMs + 15000);
  watchdog.unref();
  /** Closes the browser and stops the watchdog (the end of every path). */
  s.close = async () => {
    await s.closeBrowser();
    clearTimeout(watchdog);
  };

  /** page.waitForFunction(fn, arg) within the budget (and within timeout ms, if given). */
  s.waitFor = async (what, fn, arg, timeout) => {
    s.phase = `waiting for ${what}`;
    const options = { timeout: Math.min(timeout ?? Infinity, s.remaining()) };
    if (polling !== undefined) options.polling = polling;
    try {
      return await s.page.waitForFunction(fn, arg, options);
    } catch (err) {
      if (!wrapWaits) throw err;
      if (s.pageErrors.length || s.dialogs.length) throw new Failure(`${what}: page error/dialog (see below)`);
      const why = /Timeout/i.test(String(err && err.message)) ? timedOut : String(err);
      throw new Failure(`${what}: ${why}`);
    }
  };

  /**
   * Launches the system Chromium headless (a fresh temporary profile that playwright deletes on
   * close) and returns a new context with the viewport. notFound: the text after "<chromium> not
   * found" (null: no check).
   */
  s.launch = async ({ viewport, notFound = '', playwrightHint = '' }) => {
    s.phase = 'loading playwright-core';
    const { chromium } = loadPlaywright(playwrightHint);
    if (notFound !== null && !fs.existsSync(CHROMIUM)) throw new Failure(`${CHROMIUM} not found${notFound}`);
    s.phase = 'launching chromium';
    s.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: s.remaining(),
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    return s.browser.newContext({ viewport });
  };

  /**
   * Collects the page's uncaught errors (with stack unless stack: false) and crashes, dismisses
   * and records dialogs (dialogs: false: leaves them to playwright), and with console: true
   * records console errors.
   */
  s.guards = (page, { stack = true, dialogs = true, crash = true, console = false } = {}) => {
    page.on('pageerror', (err) => s.pageErrors.push(stack ? String((err && err.stack) || err) : String(err)));
    if (dialogs) {
      page.on('dialog', (d) => {
        s.dialogs.push(`${d.type()}: ${d.message()}`);
        d.dismiss().catch(() => {});
      });
    }
    if (crash) page.on('crash', () => s.pageErrors.push('page crashed'));
    if (console) {
      page.on('console', (m) => {
        if (m.type() === 'error') s.consoleErrors.push(m.text());
      });
    }
  };

  /**
   * Opens url in s.page; it must answer 2xx. strict: a navigation error is a Failure "cannot open"
   * and the status is reported as "GET <url> returned <status>" (else "GET <url>: <status>").
   */
  s.open = async (url, { strict = false } = {}) => {
    s.phase = `opening ${url}`;
    let response;
    try {
      response = await s.page.goto(url, { waitUntil: 'domcontentloaded', timeout: s.remaining() });
    } catch (err) {
      if (!strict) throw err;
      throw new Failure(`cannot open ${url}: ${String(err && err.message).split('\n')[0]}`);
    }
    const status = response ? response.status() : 'no response';
    if (!response || !response.ok()) throw new Failure(strict ? `GET ${url} returned ${status}` : `GET ${url}: ${status}`);
    return response;
  };

  /** A full-page screenshot of s.page to file (phase: set the phase; top: scroll to the top first). */
  s.screenshot = async (file, { phase, top = false } = {}) => {
    if (phase) s.phase = phase;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // From the top: a full-page shot of a scrolled page draws a sticky top bar mid-page.
    if (top) await s.page.evaluate(() => window.scrollTo(0, 0));
    await s.page.screenshot({ path: file, fullPage: true, timeout: s.remaining() });
  };

  /** Writes "<prefix>: <line>" to stderr. */
  s.say = (line) => process.stderr.write(`${prefix}: ${line}\n`);

  /**
   * The start of a failure report: "FAIL: <reason>", with a timer the step times, then the page
   * errors, dialogs and (up to 10) console errors.
   */
  s.reportFailure = (err, t) => {
    const reason = err instanceof Failure ? err.message : `${s.phase}: ${(err && err.stack) || err}`;
    s.say(`FAIL: ${reason}`);
    if (t) s.say(`  ms: ${t.timings.join(' ')} then ${Date.now() - t.mark} in '${s.phase}'`);
    for (const e of s.pageErrors) s.say(`  page error: ${e}`);
    for (const d of s.dialogs) s.say(`  dialog: ${d}`);
    for (const c of s.consoleErrors.slice(0, 10)) s.say(`  console error: ${c}`);
  };

  /** A screenshot of the failure state (never throws; quiet: says nothing if it fails). */
  s.failureShot = async (file, { quiet = false } = {}) => {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await s.page.screenshot({ path: file, fullPage: true, timeout: 5000 });
      s.say(`  screenshot (failure state) saved to ${file}`);
    } catch (shotErr) {
      if (!quiet) s.say(`  no screenshot: ${String(shotErr && shotErr.message).split('\n')[0]}`);
    }
  };

  return s;
}

/** Whether #login-form is shown (runs in the page). */
const loginFormVisible = () => {
  const e = document.querySelector('#login-form');
  return !!e && e.getClientRects().length > 0;
};

/** Whether the overview is shown and the connection indicator is live (runs in the page). */
const overviewLive = () =>
  document.querySelector('#overview-view')?.getClientRects().length > 0 &&
  document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state') === 'live';

/**
 * Logs in through the login page of s.page: waits for the form (formLabel), fills USER and
 * PASSWORD, clicks the submit button and, with done, waits for done (doneLabel) in the page.
 */
async function login(s, user, password, { formLabel = 'the login form', done, doneLabel } = {}) {
  await s.waitFor(formLabel, loginFormVisible);
  s.phase = 'logging in';
  await s.page.fill('#login-user', user, { timeout: s.remaining() });
  await s.page.fill('#login-password', password, { timeout: s.remaining() });
  await s.page.click('#login-form button[type="submit"]', { timeout: s.remaining() });
  if (done) await s.waitFor(doneLabel, done);
}

/** Runs main(); exits with the code it resolves to (undefined: a signal or the watchdog exits). */
function runMain(prefix, main) {
  main().then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (err) => {
      process.stderr.write(`${prefix}: FAIL: ${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
}

module.exports = {
  CHROMIUM,
  CHROMIUM_ARGS,
  Failure,
  makeUsage,
  parseArgs,
  loadPlaywright,
  timer,
  createSession,
  loginFormVisible,
  overviewLive,
  login,
  runMain,
};
