#!/usr/bin/env node
// Dashboard benchmark (issue #8) in a real headless Chromium (Debian's, through playwright-core).
// Normally run by tests/bench/dashboard_bench.cpp, which owns the gateway and the simulated
// nodes; one invocation per measurement:
//
//   node tests/bench/dashboard_bench.cjs --bundle DIST_DIR
//       production bundle: every .js and .css under DIST_DIR gzipped with zlib level 9 (what
//       index.html loads at start vs the lazily loaded chunks), against the goal of 100 KB.
//   node tests/bench/dashboard_bench.cjs --url URL --user U --password P --render N [--repeat 3]
//       time to first render of the overview with N nodes: (a) from the login form's submit to
//       N node cards in the DOM (and the next animation frame), (b) for a logged-in reload, from
//       navigation start to N cards; measured in the page with performance.now() and a
//       MutationObserver installed before the app's scripts. Also the size of the WebSocket
//       snapshot (the JSON the page received for N nodes).
//   node tests/bench/dashboard_bench.cjs --url URL --user U --password P --stream N --seconds S
//       main-thread CPU while N nodes stream: CDP Performance.getMetrics (TaskDuration,
//       ScriptDuration, LayoutDuration, RecalcStyleDuration; thread time) before and after a
//       window of S s, as ms per second and % of one core, with the WebSocket frames and bytes
//       received and the card updates applied in the window. Then the same window with the
//       overview hidden (the alerts page; the store still takes every frame): the data path alone
//       vs data path + card rendering.
//
// Prints "dashboard: ..." lines. Every wait is bounded (--timeout-ms, default 120000); the
// browser is closed on every path. Exit 0 when the measurement completed, 1 otherwise.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { makeUsage, parseArgs, createSession, login: logIn, runMain } = require('../browser/browser_lib.cjs');

const BUNDLE_GOAL_KB = 100;
const RENDER_GOAL_MS = 500;

const usage = makeUsage(
  'dashboard',
  'usage: node tests/bench/dashboard_bench.cjs --bundle DIST_DIR\n' +
    '       node tests/bench/dashboard_bench.cjs --url URL --user U --password P (--render N [--repeat R] | ' +
    '--stream N --seconds S) [--timeout-ms 120000]\n',
);

function options(argv) {
  const o = parseArgs(argv, {
    usage,
    equals: 'none',
    defaults: { bundle: '', url: '', user: '', password: '', render: 0, repeat: 3, stream: 0, seconds: 20, timeoutMs: 120000 },
    options: {
      '--bundle': 'bundle',
      '--url': 'url',
      '--user': 'user',
      '--password': 'password',
      '--render': ['render', Number],
      '--repeat': ['repeat', Number],
      '--stream': ['stream', Number],
      '--seconds': ['seconds', Number],
      '--timeout-ms': ['timeoutMs', Number],
    },
  });
  if (!o.bundle && !(o.url && o.user && o.password && (o.render > 0 || o.stream > 0))) usage('nothing to measure');
  // Everything bounded.
  o.render = Math.min(Math.max(0, Math.floor(o.render)), 10000);
  o.stream = Math.min(Math.max(0, Math.floor(o.stream)), 10000);
  o.repeat = Math.min(Math.max(1, Math.floor(o.repeat)), 20);
  o.seconds = Math.min(Math.max(1, o.seconds), 600);
  o.timeoutMs = Math.min(Math.max(1000, o.timeoutMs), 1800000);
  return o;
}

const kb = (n) => (n / 1024).toFixed(1);

// (a) The production bundle.
function bundle(dist) {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|css)$/.test(e.name)) files.push(p);
    }
  };
  walk(dist);
  if (files.length === 0) throw new Error(`no .js/.css files under ${dist} (build the web first)`);
  // What index.html loads at start: its scripts, stylesheets and modulepreloads.
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const initial = new Set();
  for (const m of html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)) initial.add(path.resolve(dist, m[1].replace(/^\.?\//, '')));
  let raw = 0;
  let gz = 0;
  let initRaw = 0;
  let initGz = 0;
  const rows = [];
  for (const f of files.sort()) {
    const buf = fs.readFileSync(f);
    const g = zlib.gzipSync(buf, { level: 9 }).length;
    raw += buf.length;
    gz += g;
    const isInitial = initial.has(f);
    if (isInitial) {
      initRaw += buf.length;
      initGz += g;
    }
    rows.push(`${path.relative(dist, f)} ${kb(buf.length)}/${kb(g)}${isInitial ? '*' : ''}`);
  }
  const htmlGz = zlib.gzipSync(Buffer.from(html), { level: 9 }).length;
  process.stdout.write(
    `dashboard: bundle (${dist}): ${files.length} JS/CSS files, ${kb(raw)} KB raw, ${kb(gz)} KB gzip -9 in total ` +
      `(goal <= ${BUNDLE_GOAL_KB} KB: ${gz <= BUNDLE_GOAL_KB * 1024 ? 'met' : 'MISSED'}); loaded at start ` +
      `(index.html's scripts/styles/preloads): ${kb(initRaw)} KB raw, ${kb(initGz)} KB gzip; index.html ${kb(htmlGz)} KB gzip\n` +
      `dashboard:   files (KB raw/gzip, * = loaded at start): ${rows.join(', ')}\n`,
  );
  return { raw, gz, initGz };
}

// Installed before the app's scripts on every navigation: first moment N cards are in the DOM.
function recorder(expect) {
  const b = { expect, submitAt: null, cardsAt: null, frameAt: null, maxCards: 0 };
  window.__bench = b;
  document.addEventListener('submit', () => {
    if (b.submitAt === null) b.submitAt = performance.now();
  }, true);
  // O(added nodes) per mutation batch, so that the probe does not slow the page down as it grows:
  // count cards added/removed (themselves or inside an added subtree), confirm with one full query.
  const SEL = '[data-testid="node-card"]';
  const count = (n) => (n.nodeType !== 1 ? 0 : (n.matches(SEL) ? 1 : 0) + n.querySelectorAll(SEL).length);
  let cards = 0;
  new MutationObserver((records) => {
    if (b.cardsAt !== null) return;
    for (const r of records) {
      for (const n of r.addedNodes) cards += count(n);
      for (const n of r.removedNodes) cards -= count(n);
    }
    if (cards > b.maxCards) b.maxCards = cards;
    if (cards >= b.expect) {
      const n = document.querySelectorAll(SEL).length;
      cards = n;
      if (n < b.expect) return;
      b.cardsAt = performance.now();
      requestAnimationFrame(() => {
        b.frameAt = performance.now();
      });
    }
  }).observe(document, { subtree: true, childList: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = options(process.argv.slice(2));
  if (o.bundle) {
    bundle(path.resolve(o.bundle));
    if (!o.url) return 0;
  }
  // Playwright's own errors (no phase): a benchmark reports them as they are.
  const s = createSession({ prefix: 'dashboard', timeoutMs: o.timeoutMs, polling: undefined, withPhase: false, wrapWaits: false });
  const { remaining } = s;

  try {
    const context = await s.launch({ viewport: { width: 1280, height: 900 }, notFound: null });
    const expect = o.render || o.stream;
    await context.addInitScript(recorder, expect);
    const page = await context.newPage();
    s.page = page;
    const { pageErrors } = s;
    s.guards(page, { stack: false, dialogs: false, crash: false });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' }).catch(() => cdp.send('Performance.enable'));
    const ws = { frames: 0, bytes: 0, snapshot: 0 };
    cdp.on('Network.webSocketFrameReceived', (e) => {
      const data = e.response.payloadData ?? '';
      const n = Buffer.byteLength(data, 'utf8');
      // Key order is the gateway's (nlohmann::json sorts them): look at both ends of the frame.
      if ((data.slice(0, 80) + data.slice(-80)).includes('"type":"snapshot"')) ws.snapshot = n;
      ws.frames++;
      ws.bytes += n;
    });
    const waitRendered = async (what) => {
      try {
        await page.waitForFunction(() => window.__bench && window.__bench.frameAt !== null, undefined,
          { timeout: remaining(), polling: 100 });
      } catch {
        const b = await page.evaluate(() => window.__bench).catch(() => null);
        throw new Error(`${what}: ${expect} cards never in the DOM (max ${b ? b.maxCards : '?'}; ` +
          `count-total ${await page.evaluate(() => document.querySelector('[data-testid="count-total"]')?.textContent).catch(() => '?')})`);
      }
      return page.evaluate(() => ({ ...window.__bench }));
    };

    await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: remaining() });
    await logIn(s, o.user, o.password);
    const login = await waitRendered('after logging in');

    if (o.render) {
      const loginMs = login.cardsAt - login.submitAt;
      const loginFrame = login.frameAt - login.submitAt;
      // The login request itself (the gateway's password hash is slow on purpose) vs the dashboard.
      const loginAnswered = await page.evaluate(() => {
        const e = performance.getEntriesByType('resource').filter((r) => /\/api\/login$/.test(new URL(r.name).pathname)).pop();
        return e ? e.responseEnd : null;
      });
      const afterLogin = loginAnswered === null ? loginMs : login.cardsAt - loginAnswered;
      // Logged-in reloads: navigation start (performance.now() = 0) to N cards.
      const navs = [];
      const frames = [];
      const snapshots = [];
      const dcl = [];
      for (let i = 0; i < o.repeat; i++) {
        ws.snapshot = 0;
        await page.reload({ waitUntil: 'domcontentloaded', timeout: remaining() });
        const r = await waitRendered(`reload ${i + 1}`);
        navs.push(r.cardsAt);
        frames.push(r.frameAt);
        snapshots.push(ws.snapshot);
        dcl.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0));
      }
      const med = median(navs);
      process.stdout.write(
        `dashboard: first render, ${o.render} nodes: login submit -> ${o.render} cards in the DOM ${loginMs.toFixed(0)} ms ` +
          `(next frame ${loginFrame.toFixed(0)} ms; of which POST /api/login ` +
          `${loginAnswered === null ? '?' : (loginAnswered - login.submitAt).toFixed(0)} ms, login answered -> cards ` +
          `${afterLogin.toFixed(0)} ms); logged-in reload, navigation -> cards: median ${med.toFixed(0)} ms ` +
          `(next frame ${median(frames).toFixed(0)} ms; ${navs.map((x) => x.toFixed(0)).join('/')} ms over ${o.repeat} reloads; ` +
          `DOMContentLoaded at ${median(dcl).toFixed(0)} ms) (goal <= ${RENDER_GOAL_MS} ms: ` +
          `${Math.max(afterLogin, med) <= RENDER_GOAL_MS ? 'met' : 'MISSED'} for login answered -> cards and reload -> cards); WebSocket snapshot ${kb(median(snapshots))} KB ` +
          `(${(median(snapshots) / o.render).toFixed(0)} B/node)\n`,
      );
    }

    if (o.stream) {
      // Settle (resync, coalescing ticks), then the window.
      await page.waitForTimeout(5000);
      const metrics = async () => {
        const { metrics: list } = await cdp.send('Performance.getMetrics');
        return Object.fromEntries(list.map((m) => [m.name, m.value]));
      };
      const updates = () => page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="node-card"]'))
        .reduce((s, c) => s + Number(c.getAttribute('data-updates') || 0), 0));
      const window_ = async (label) => {
        const u0 = await updates();
        const m0 = await metrics();
        const f0 = ws.frames;
        const b0 = ws.bytes;
        const t0 = Date.now();
        await page.waitForTimeout(o.seconds * 1000);
        const m1 = await metrics();
        const s = (Date.now() - t0) / 1000;
        const u1 = await updates();
        const d = (k) => ((m1[k] ?? 0) - (m0[k] ?? 0)) * 1000 / s; // ms per s
        const task = d('TaskDuration');
        process.stdout.write(
          `dashboard: ${label}, ${o.stream} nodes at ~1 Hz, ${s.toFixed(1)} s: main thread ${task.toFixed(1)} ms/s ` +
            `(${(task / 10).toFixed(1)} % of a core): script ${d('ScriptDuration').toFixed(1)}, layout ${d('LayoutDuration').toFixed(1)}, ` +
            `style ${d('RecalcStyleDuration').toFixed(1)} ms/s; WebSocket ${((ws.frames - f0) / s).toFixed(1)} frames/s, ` +
            `${kb((ws.bytes - b0) / s)} KB/s (${kb(ws.bytes - b0)} KB in the window, ${((ws.bytes - b0) / s * 3600 / 1048576).toFixed(0)} MB per hour); card updates ${((u1 - u0) / s).toFixed(1)}/s; ` +
            `JS heap ${(m1.JSHeapUsedSize / 1048576).toFixed(1)} MB, DOM nodes ${m1.Nodes}\n`,
        );
      };
      await window_('streaming, overview');
      // The same feed with the overview hidden (the alerts page): what the data path costs alone.
      await page.evaluate(() => { location.hash = '#/alerts'; });
      await page.waitForTimeout(1000);
      await window_('streaming, alerts page (overview hidden)');
    }
    // Reported, not fatal: a benchmark measures what the page does, errors included.
    for (const e of pageErrors.slice(0, 5)) process.stdout.write(`dashboard: WARNING: uncaught page error: ${e}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`dashboard: FAIL: ${(err && err.stack) || err}\n`);
    return 1;
  } finally {
    await s.close();
  }
}

runMain('dashboard', main);
