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
const { Failure, makeUsage, parseArgs, createSession, login, overviewLive, runMain } = require('./browser_lib.cjs');

const usage = makeUsage(
  'outage',
  'usage: node tests/browser/fleet_outage.cjs --url URL --user USER --password PASSWORD --nodes A,B ' +
    '--victim B --victim-pid PID --control-dir DIR --keepalive-s S --screenshot FILE.png [--freeze] [--timeout-ms 90000]\n',
);

function options(argv) {
  const o = parseArgs(argv, {
    usage,
    defaults: { url: '', user: '', password: '', nodes: [], victim: '', victimPid: 0, controlDir: '', keepaliveS: 0,
      screenshot: '', timeoutMs: 90000, freeze: false },
    options: {
      '--url': 'url',
      '--user': 'user',
      '--password': 'password',
      '--nodes': ['nodes', (v) => v.split(',').filter(Boolean)],
      '--victim': 'victim',
      '--victim-pid': ['victimPid', Number],
      '--control-dir': 'controlDir',
      '--keepalive-s': ['keepaliveS', Number],
      '--screenshot': ['screenshot', (v) => path.resolve(v)],
      '--timeout-ms': ['timeoutMs', Number],
      '--freeze': ['freeze'],
    },
  });
  if (!o.url || !o.user || !o.password || !o.victim || !o.controlDir || !o.screenshot) usage('missing a required option');
  if (!o.nodes.includes(o.victim)) usage('--victim must be one of --nodes');
  if (!Number.isInteger(o.victimPid) || o.victimPid <= 1) usage('--victim-pid must be a process id');
  if (!(o.keepaliveS >= 2)) usage('--keepalive-s must be >= 2');
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be > 0');
  return o;
}

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
  const o = options(process.argv.slice(2));
  const s = createSession({ prefix: 'outage', timeoutMs: o.timeoutMs, polling: 50 });
  const { deadline, remaining, waitFor, pageErrors, dialogs } = s;
  const budgetMs = 1.5 * o.keepaliveS * 1000 + 2000;
  let page = null;

  let exitCode = 1;
  let frozenPid = 0; // never leave an agent stopped
  try {
    const context = await s.launch({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    s.page = page;
    s.guards(page);
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    await s.open(o.url);
    await login(s, o.user, o.password, {
      doneLabel: 'the overview and conn-state live',
      done: overviewLive,
    });

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
    s.phase = 'installing the recorder';
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
    s.phase = `killing pid ${o.victimPid}`;
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
    await s.screenshot(o.screenshot);
    if (down.token !== 'outage-token') throw new Failure('the page was reloaded during the outage');
    if (toDown > budgetMs) throw new Failure(`DOWN shown ${toDown} ms after the kill, more than 1.5 x keepalive + 2 s = ${budgetMs} ms`);
    if (toAlert > budgetMs) throw new Failure(`alert shown ${toAlert} ms after the kill, more than ${budgetMs} ms`);
    if (down.othersBad.length) throw new Failure(`other nodes left HEALTHY during the outage: ${down.othersBad.join(', ')}`);
    const victimAlert = Array.isArray(apiAlerts) &&
      apiAlerts.find((a) => typeof a.node === 'string' && a.node.split('/').pop() === o.victim);
    if (!victimAlert) throw new Failure(`/api/alerts has no alert about ${o.victim}: ${JSON.stringify(apiAlerts)}`);

    // 3. Restart (by the harness), recovery without a reload.
    s.phase = 'asking the harness to restart the agent';
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
      s.phase = `freezing pid ${newPid}`;
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
    if (s.aborted) return undefined;
    s.reportFailure(err);
    if (page && !page.isClosed()) {
      try {
        s.say(`  state: ${JSON.stringify(await page.evaluate(pageState, o.nodes))}`);
        s.say(`  recorder: ${JSON.stringify(await page.evaluate(() => JSON.stringify(window.__outage ?? null)))}`);
      } catch {
        /* page unusable */
      }
      await s.failureShot(o.screenshot, { quiet: true });
    }
  } finally {
    if (frozenPid) {
      try {
        process.kill(frozenPid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await s.close();
  }
  return exitCode;
}

runMain('outage', main);
