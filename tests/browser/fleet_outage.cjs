#!/usr/bin/env node
// Acceptance test of issue #8, "kill an agent", in a real headless Chromium:
//
//   node tests/browser/fleet_outage.cjs --url http://127.0.0.1:PORT/ --user USER --password PASSWORD \
//        --nodes keep-pi,kill-pi --victim kill-pi --victim-pid PID --control-dir DIR \
//        --keepalive-s 4 --screenshot /path/outage.png [--timeout-ms 90000]
//
// The fleet (tests/integration/outage_browser_test.cpp) runs real agents with MQTT keepalive
// --keepalive-s and a gateway with a node_down rule. This script:
//   1. logs in and waits until every node of --nodes has a HEALTHY card (data-status and the
//      status text) and no active alert names the victim;
//   2. SIGKILLs the victim agent (--victim-pid; not a clean stop: no NDEATH of its own) and, without
//      reloading the page, waits for the victim's card to show DOWN (data-status="DOWN" and the text)
//      and for an active alert about it (an element data-testid="active-alert" whose text or
//      data-node/data-subject names the node). Both must appear within 1.5 x keepalive + 2 s of the
//      kill (what the broker needs to notice a dead client, plus slack); the other nodes stay
//      HEALTHY. The times from the kill are taken in the page (Date.now(), the same clock as this
//      process) by a MutationObserver plus a 50 ms poll, so they do not depend on playwright's
//      polling;
//   3. writes DIR/restart and waits for the harness to start the agent again (it writes
//      DIR/restarted: "<epoch ms at which the new process started> <its pid>"); then the card must
//      be HEALTHY again and the alert gone, again without a reload (bounded by --timeout-ms);
//   4. with --freeze: SIGSTOPs the new agent (a hung node: its TCP connection stays open, so only
//      the broker's keepalive check can declare it dead): DOWN and the alert, timed against the same
//      1.5 x keepalive + 2 s (reported only: mosquitto 2.0.11 takes longer than 1.5 x keepalive to
//      drop a hung client, so only 3 x keepalive + 4 s fails); then SIGCONT and recovery as in 3
//      (the agent is never left stopped);
//   5. no uncaught page error, dialog or reload happened.
// Prints one "outage: ..." line with the measured times and exits 0; on failure prints
// "outage: FAIL: <reason>" plus diagnostics, saves a screenshot, exits 1. The browser is always
// closed.
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
  if (msg) process.stderr.write(`outage: ${msg}\n`);
  process.stderr.write(
    'usage: node tests/browser/fleet_outage.cjs --url URL --user USER --password PASSWORD --nodes A,B ' +
      '--victim B --victim-pid PID --control-dir DIR --keepalive-s S --screenshot FILE.png [--freeze] [--timeout-ms 90000]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { url: '', user: '', password: '', nodes: [], victim: '', victimPid: 0, controlDir: '', keepaliveS: 0,
    screenshot: '', timeoutMs: 90000, freeze: false };
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
      case '--url': o.url = take(); break;
      case '--user': o.user = take(); break;
      case '--password': o.password = take(); break;
      case '--nodes': o.nodes = take().split(',').filter(Boolean); break;
      case '--victim': o.victim = take(); break;
      case '--victim-pid': o.victimPid = Number(take()); break;
      case '--control-dir': o.controlDir = take(); break;
      case '--keepalive-s': o.keepaliveS = Number(take()); break;
      case '--screenshot': o.screenshot = path.resolve(take()); break;
      case '--timeout-ms': o.timeoutMs = Number(take()); break;
      case '--freeze': o.freeze = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  if (!o.url || !o.user || !o.password || !o.victim || !o.controlDir || !o.screenshot) usage('missing a required option');
  if (!o.nodes.includes(o.victim)) usage('--victim must be one of --nodes');
  if (!Number.isInteger(o.victimPid) || o.victimPid <= 1) usage('--victim-pid must be a process id');
  if (!(o.keepaliveS >= 2)) usage('--keepalive-s must be >= 2');
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be > 0');
  return o;
}

function loadPlaywright() {
  const webPkg = path.resolve(__dirname, '..', '..', 'web', 'package.json');
  try {
    return createRequire(webPkg)('playwright-core');
  } catch (first) {
    try {
      return require('playwright-core');
    } catch {
      throw new Error(`cannot load playwright-core (${first.message.split('\n')[0]}); run .ci/deps`);
    }
  }
}

class Failure extends Error {}

// Runs in the page: what the overview shows about the nodes and the active alerts.
function pageState(nodes) {
  const cards = {};
  for (const c of document.querySelectorAll('[data-testid="node-card"]')) {
    const id = c.getAttribute('data-node');
    if (!nodes.includes(id)) continue;
    cards[id] = {
      attr: c.getAttribute('data-status'),
      text: (c.querySelector('[data-testid="status"]')?.textContent ?? '').trim(),
      reason: (c.querySelector('[data-testid="status-reason"]')?.textContent ?? '').trim(),
    };
  }
  const alerts = Array.from(document.querySelectorAll('[data-testid="active-alert"]'))
    .filter((a) => a.getClientRects().length > 0)
    .map((a) => ({
      node: a.getAttribute('data-node') ?? '',
      subject: a.getAttribute('data-subject') ?? '',
      text: (a.textContent ?? '').replace(/\s+/g, ' ').trim(),
    }));
  return { hash: location.hash, conn: document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state'),
    cards, alerts };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + o.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const budgetMs = 1.5 * o.keepaliveS * 1000 + 2000;

  let browser = null;
  let page = null;
  let phase = 'starting';
  const pageErrors = [];
  const dialogs = [];
  let closing = null;
  let aborted = false;
  const closeBrowser = () => {
    if (!browser) return Promise.resolve();
    if (!closing) {
      closing = Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    return closing;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      aborted = true;
      process.stderr.write(`outage: FAIL: interrupted by ${sig} while ${phase}\n`);
      closeBrowser().finally(() => process.exit(1));
    });
  }
  const watchdog = setTimeout(() => {
    aborted = true;
    process.stderr.write(`outage: FAIL: watchdog expired while ${phase}\n`);
    closeBrowser().finally(() => process.exit(1));
  }, o.timeoutMs + 15000);
  watchdog.unref();

  const waitFor = async (what, fn, arg, timeout = remaining()) => {
    phase = `waiting for ${what}`;
    try {
      return await page.waitForFunction(fn, arg, { timeout: Math.min(timeout, remaining()), polling: 50 });
    } catch (err) {
      if (pageErrors.length || dialogs.length) throw new Failure(`${what}: page error/dialog (see below)`);
      const why = /Timeout/i.test(String(err && err.message)) ? `timed out` : String(err);
      throw new Failure(`${what}: ${why}`);
    }
  };

  let exitCode = 1;
  let frozenPid = 0; // never leave an agent stopped
  try {
    phase = 'loading playwright-core';
    const { chromium } = loadPlaywright();
    if (!fs.existsSync(CHROMIUM)) throw new Failure(`${CHROMIUM} not found`);
    phase = 'launching chromium';
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
      timeout: remaining(), handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String((err && err.stack) || err)));
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('crash', () => pageErrors.push('page crashed'));
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    phase = `opening ${o.url}`;
    const response = await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: remaining() });
    if (!response || !response.ok()) throw new Failure(`GET ${o.url}: ${response ? response.status() : 'no response'}`);
    await waitFor('the login form', () => document.querySelector('#login-form')?.getClientRects().length > 0);
    phase = 'logging in';
    await page.fill('#login-user', o.user, { timeout: remaining() });
    await page.fill('#login-password', o.password, { timeout: remaining() });
    await page.click('#login-form button[type="submit"]', { timeout: remaining() });
    await waitFor('the overview and conn-state live', () =>
      document.querySelector('#overview-view')?.getClientRects().length > 0 &&
      document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state') === 'live');

    // 1. Everyone healthy, no alert about the victim.
    const healthyAndQuiet = ([nodes, victim]) => {
      for (const id of nodes) {
        const c = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((e) => e.getAttribute('data-node') === id);
        if (!c || c.getAttribute('data-status') !== 'HEALTHY') return false;
        if (!/HEALTHY/.test(c.querySelector('[data-testid="status"]')?.textContent ?? '')) return false;
      }
      return !Array.from(document.querySelectorAll('[data-testid="active-alert"]')).some((a) =>
        a.getClientRects().length > 0 && ((a.textContent ?? '').includes(victim) ||
          (a.getAttribute('data-node') ?? '').split('/').pop() === victim));
    };
    await waitFor(`HEALTHY cards for ${o.nodes.join(', ')} and no alert about ${o.victim}`, healthyAndQuiet, [o.nodes, o.victim]);
    const before = await page.evaluate(pageState, o.nodes);

    // The in-page recorder: first moment (Date.now()) each condition holds.
    phase = 'installing the recorder';
    await page.evaluate(([victim, others]) => {
      const w = window;
      w.__noReload = 'outage-token';
      const rec = { downAt: 0, alertAt: 0, upAt: 0, clearAt: 0, othersBad: [] };
      w.__outage = rec;
      const cardOf = (id) => Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((e) => e.getAttribute('data-node') === id);
      const statusOf = (id) => {
        const c = cardOf(id);
        if (!c) return 'missing';
        const text = c.querySelector('[data-testid="status"]')?.textContent ?? '';
        const attr = c.getAttribute('data-status') ?? '';
        return text.includes(attr) ? attr : `${attr}/${text}`;
      };
      const hasAlert = () => Array.from(document.querySelectorAll('[data-testid="active-alert"]')).some((a) =>
        a.getClientRects().length > 0 && ((a.textContent ?? '').includes(victim) ||
          (a.getAttribute('data-node') ?? '').split('/').pop() === victim));
      const check = () => {
        const now = Date.now();
        const st = statusOf(victim);
        const alert = hasAlert();
        if (!rec.downAt && st === 'DOWN') rec.downAt = now;
        if (!rec.alertAt && alert) rec.alertAt = now;
        if (rec.armedUp && !rec.upAt && st === 'HEALTHY') rec.upAt = now;
        if (rec.armedUp && !rec.clearAt && !alert) rec.clearAt = now;
        for (const id of others) {
          const s = statusOf(id);
          if (s !== 'HEALTHY' && rec.othersBad.length < 5) rec.othersBad.push(`${id}=${s}`);
        }
      };
      rec.check = check;
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      setInterval(check, 50);
    }, [o.victim, o.nodes.filter((n) => n !== o.victim)]);

    // 2. SIGKILL.
    phase = `killing pid ${o.victimPid}`;
    const killedAt = Date.now();
    process.kill(o.victimPid, 'SIGKILL');
    await waitFor(`card of ${o.victim} DOWN and an active alert about it`, () => {
      const r = window.__outage;
      return r.downAt > 0 && r.alertAt > 0;
    }, undefined, budgetMs + 15000).catch(async (err) => {
      const r = await page.evaluate(() => JSON.stringify(window.__outage)).catch(() => null);
      throw new Failure(`${err.message} within ${budgetMs + 15000} ms of the kill (recorder ${JSON.stringify(r)})`);
    });
    const down = await page.evaluate(() => {
      const { downAt, alertAt, othersBad } = window.__outage;
      return { downAt, alertAt, othersBad: [...othersBad], token: window.__noReload };
    });
    const toDown = down.downAt - killedAt;
    const toAlert = down.alertAt - killedAt;
    const duringOutage = await page.evaluate(pageState, o.nodes);
    const apiAlerts = await page.evaluate(() => fetch('api/alerts', { credentials: 'same-origin' }).then((r) => r.json()));
    fs.mkdirSync(path.dirname(o.screenshot), { recursive: true });
    await page.screenshot({ path: o.screenshot, fullPage: true, timeout: remaining() });
    if (down.token !== 'outage-token') throw new Failure('the page was reloaded during the outage');
    if (toDown > budgetMs) throw new Failure(`DOWN shown ${toDown} ms after the kill, more than 1.5 x keepalive + 2 s = ${budgetMs} ms`);
    if (toAlert > budgetMs) throw new Failure(`alert shown ${toAlert} ms after the kill, more than ${budgetMs} ms`);
    if (down.othersBad.length) throw new Failure(`other nodes left HEALTHY during the outage: ${down.othersBad.join(', ')}`);
    const victimAlert = Array.isArray(apiAlerts) &&
      apiAlerts.find((a) => typeof a.node === 'string' && a.node.split('/').pop() === o.victim);
    if (!victimAlert) throw new Failure(`/api/alerts has no alert about ${o.victim}: ${JSON.stringify(apiAlerts)}`);

    // 3. Restart (by the harness), recovery without a reload.
    phase = 'asking the harness to restart the agent';
    await page.evaluate(() => {
      window.__outage.armedUp = true;
      window.__outage.check();
    });
    const restartFile = path.join(o.controlDir, 'restarted');
    fs.writeFileSync(path.join(o.controlDir, 'restart'), String(Date.now()));
    let restartedAt = 0;
    let newPid = 0;
    while (!restartedAt) {
      if (Date.now() > deadline) throw new Failure('the harness did not restart the agent (no DIR/restarted)');
      try {
        const [at, pid] = fs.readFileSync(restartFile, 'utf8').trim().split(/\s+/);
        restartedAt = Number(at) || 0;
        newPid = Number(pid) || 0;
      } catch {
        /* not yet */
      }
      if (!restartedAt) await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(`card of ${o.victim} HEALTHY again and its alert gone`, () => {
      const r = window.__outage;
      return r.upAt > 0 && r.clearAt > 0;
    });
    const up = await page.evaluate(() => {
      const r = window.__outage;
      return { upAt: r.upAt, clearAt: r.clearAt, othersBad: [...r.othersBad], token: window.__noReload };
    });
    if (up.token !== 'outage-token') throw new Failure('the page was reloaded during the recovery');
    if (up.othersBad.length) throw new Failure(`other nodes left HEALTHY: ${up.othersBad.join(', ')}`);

    // 4. (--freeze) A hung node: SIGSTOP keeps its TCP connection open, so only the MQTT keepalive
    //    (the broker's 1.5 x keepalive) can tell; the bound is the same. Then SIGCONT: it recovers.
    let freeze = '';
    if (o.freeze) {
      if (!(newPid > 1)) throw new Failure('--freeze: the harness did not write the new pid to DIR/restarted');
      phase = `freezing pid ${newPid}`;
      await page.evaluate(() => {
        Object.assign(window.__outage, { downAt: 0, alertAt: 0, upAt: 0, clearAt: 0, armedUp: false });
      });
      const stoppedAt = Date.now();
      process.kill(newPid, 'SIGSTOP');
      frozenPid = newPid;
      await waitFor(`card of ${o.victim} DOWN and an alert after SIGSTOP`, () => {
        const r = window.__outage;
        return r.downAt > 0 && r.alertAt > 0;
      }, undefined, budgetMs + 15000);
      const f = await page.evaluate(() => ({ downAt: window.__outage.downAt, alertAt: window.__outage.alertAt }));
      const fDown = f.downAt - stoppedAt;
      const fAlert = f.alertAt - stoppedAt;
      // Here the broker decides: Debian 12's mosquitto 2.0.11 dropped a hung client (keepalive 4 s)
      // 7.5-10.1 s after it stopped (measured; not the 6 s of 1.5 x keepalive), and the gateway's
      // own silence check marks a node DOWN after 10 s anyway. So the 1.5 x keepalive + 2 s budget
      // is reported (within / OVER), and only a loose bound, 3 x keepalive + 4 s, fails the test.
      const hardMs = 3 * o.keepaliveS * 1000 + 4000;
      if (fDown > hardMs) throw new Failure(`frozen node: DOWN shown after ${fDown} ms, more than ${hardMs} ms`);
      if (fAlert > hardMs) throw new Failure(`frozen node: alert shown after ${fAlert} ms, more than ${hardMs} ms`);
      const verdict = Math.max(fDown, fAlert) <= budgetMs ? `within ${budgetMs} ms` : `OVER the ${budgetMs} ms budget (limit ${hardMs} ms)`;
      await page.evaluate(() => {
        window.__outage.armedUp = true;
      });
      const contAt = Date.now();
      process.kill(newPid, 'SIGCONT');
      frozenPid = 0;
      await waitFor(`card of ${o.victim} HEALTHY again after SIGCONT`, () => {
        const r = window.__outage;
        return r.upAt > 0 && r.clearAt > 0;
      });
      const g = await page.evaluate(() => ({ upAt: window.__outage.upAt, clearAt: window.__outage.clearAt,
        othersBad: [...window.__outage.othersBad], token: window.__noReload }));
      if (g.token !== 'outage-token') throw new Failure('the page was reloaded during the freeze');
      if (g.othersBad.length) throw new Failure(`other nodes left HEALTHY: ${g.othersBad.join(', ')}`);
      freeze = `; SIGSTOP (hung node, TCP open): DOWN after ${fDown} ms, alert after ${fAlert} ms, ${verdict}; SIGCONT: ` +
        `HEALTHY after ${g.upAt - contAt} ms, alert cleared after ${g.clearAt - contAt} ms`;
    }
    if (pageErrors.length || dialogs.length) throw new Failure('page error or dialog occurred');
    if (navigations !== 1) throw new Failure(`the page navigated ${navigations} times (expected 1: no reload)`);

    process.stdout.write(
      `outage: nodes ${o.nodes.join(',')} HEALTHY; SIGKILL ${o.victim} (pid ${o.victimPid}, keepalive ${o.keepaliveS} s, ` +
        `budget ${budgetMs} ms): DOWN shown after ${toDown} ms, active alert after ${toAlert} ms ` +
        `(card ${JSON.stringify(duringOutage.cards[o.victim])}; alert ${JSON.stringify(duringOutage.alerts)}; ` +
        `api ${JSON.stringify({ rule: victimAlert.rule, type: victimAlert.type, node: victimAlert.node, severity: victimAlert.severity })}); ` +
        `restarted: HEALTHY after ${up.upAt - restartedAt} ms, alert cleared after ${up.clearAt - restartedAt} ms ` +
        `(from the new process's start)${freeze}; before ${JSON.stringify(before.cards)}; no reload, no dialog; ` +
        `screenshot ${o.screenshot}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (aborted) return;
    const reason = err instanceof Failure ? err.message : `${phase}: ${(err && err.stack) || err}`;
    process.stderr.write(`outage: FAIL: ${reason}\n`);
    for (const e of pageErrors) process.stderr.write(`outage:   page error: ${e}\n`);
    for (const d of dialogs) process.stderr.write(`outage:   dialog: ${d}\n`);
    if (page && !page.isClosed()) {
      try {
        process.stderr.write(`outage:   state: ${JSON.stringify(await page.evaluate(pageState, o.nodes))}\n`);
        process.stderr.write(`outage:   recorder: ${JSON.stringify(await page.evaluate(() => JSON.stringify(window.__outage ?? null)))}\n`);
      } catch {
        /* page unusable */
      }
      try {
        fs.mkdirSync(path.dirname(o.screenshot), { recursive: true });
        await page.screenshot({ path: o.screenshot, fullPage: true, timeout: 5000 });
        process.stderr.write(`outage:   screenshot (failure state) saved to ${o.screenshot}\n`);
      } catch {
        /* no screenshot */
      }
    }
  } finally {
    if (frozenPid) {
      try {
        process.kill(frozenPid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await closeBrowser();
    clearTimeout(watchdog);
  }
  process.exit(exitCode);
}

main().catch((err) => {
  process.stderr.write(`outage: FAIL: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
