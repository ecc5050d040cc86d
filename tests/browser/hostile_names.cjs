#!/usr/bin/env node
// Acceptance test of issue #8, "hostile node names", in a real headless Chromium:
//
//   node tests/browser/hostile_names.cjs --url http://127.0.0.1:PORT/ --user USER --password PASSWORD \
//        --node evil-1 --strings '["<img src=x onerror=alert(1)>", ...]' --rejected-id '<img ...>' \
//        [--named-node named-1 --display-name '<img src=x onerror=alert(1)>'] \
//        --screenshot /path/hostile.png [--timeout-ms 60000]
//
// The harness (tests/integration/outage_browser_test.cpp) publishes, as a device would:
//   * an NBIRTH whose node id (--rejected-id) is markup; the gateway refuses such topics
//     (node ids are [A-Za-z0-9_.-]{1,64}), so no card may exist for it;
//   * an NBIRTH of node --node whose ping target labels (ping/<s>/rtt, ping/<s>/up) and sensor
//     metric names (sensor/<s>) are the --strings (markup: <img src=x onerror=...>), with a rule
//     that fires on those sensors, so the strings also reach the status reason and the active
//     alerts;
//   * (--named-node) a real agent configured with `[agent] name = --display-name` (markup), which
//     it publishes as the string metric agent/name, and a rule that always fires for it.
// A window.__xss probe (one of the strings sets it in an onerror handler) and page.on('dialog')
// (the others call alert()) catch any execution. The script checks, without reloading:
//   1. overview: the card of --node shows each string as a ping target label whose text is exactly
//      "ping <string>"; no card for --rejected-id;
//   2. the overview's active alerts (data-testid="active-alert", if present) and the alerts page;
//   3. the node's detail page;
//   and for --named-node: its card's title (data-testid="node-link") is exactly --display-name with
//   the id as secondary text (data-testid="node-id"), the overview's search finds it by a part of
//   the name that is not in any id, its alert names it by the display name (data-testid="alert-node")
//   on the overview and on the alerts page, and its detail page's title (data-testid="node-title")
//   is the display name;
//   and on every one of them: no dialog, window.__xss unset, no <img src=x> anywhere in the document,
//   no <img>/<script>/<svg> inside node cards, alerts or the detail view.
// Prints one "hostile: ..." line and exits 0; on failure "hostile: FAIL: <reason>", a screenshot,
// exit 1. The browser is always closed.
'use strict';

const path = require('node:path');
const { Failure, makeUsage, parseArgs, createSession, login, overviewLive, runMain } = require('./browser_lib.cjs');

const usage = makeUsage(
  'hostile',
  'usage: node tests/browser/hostile_names.cjs --url URL --user USER --password PASSWORD --node ID ' +
    '--strings JSON_ARRAY --rejected-id ID [--named-node ID --display-name TEXT] --screenshot FILE.png ' +
    '[--timeout-ms 60000]\n',
);

function options(argv) {
  const o = parseArgs(argv, {
    usage,
    // Values here contain '=' (onerror=...): only --name=value forms split at the first '='.
    equals: 'long',
    defaults: { url: '', user: '', password: '', node: '', strings: [], rejectedId: '', namedNode: '', displayName: '',
      screenshot: '', timeoutMs: 60000 },
    options: {
      '--url': 'url',
      '--user': 'user',
      '--password': 'password',
      '--node': 'node',
      '--strings': ['strings', (v) => {
        try {
          return JSON.parse(v);
        } catch {
          return usage('--strings must be a JSON array of strings');
        }
      }],
      '--rejected-id': 'rejectedId',
      '--named-node': 'namedNode',
      '--display-name': 'displayName',
      '--screenshot': ['screenshot', (v) => path.resolve(v)],
      '--timeout-ms': ['timeoutMs', Number],
    },
  });
  if (!o.url || !o.user || !o.password || !o.node || !o.screenshot) usage('missing a required option');
  if (!Array.isArray(o.strings) || o.strings.length === 0 || !o.strings.every((s) => typeof s === 'string')) {
    usage('--strings must be a non-empty JSON array of strings');
  }
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be > 0');
  if ((o.namedNode === '') !== (o.displayName === '')) usage('--named-node and --display-name go together');
  return o;
}

// Runs in the page: markup that must never exist, and whether the probe fired.
function injectionState() {
  const scopes = '[data-testid="node-card"], [data-testid="active-alert"], [data-testid="alert-strip"], ' +
    '[data-testid="node-view"], [data-testid="alerts-view"]';
  let inside = 0;
  for (const s of document.querySelectorAll(scopes)) inside += s.querySelectorAll('img, script, svg, iframe, object').length;
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    imgX: document.querySelectorAll('img[src="x"]').length,
    inside,
  };
}

async function main() {
  const o = options(process.argv.slice(2));
  const s = createSession({ prefix: 'hostile', timeoutMs: o.timeoutMs });
  const { remaining, waitFor, pageErrors, dialogs } = s;
  let page = null;

  const checks = [];
  const assertClean = async (where) => {
    s.phase = `checking ${where}`;
    const st = await page.evaluate(injectionState);
    checks.push(`${where}: img[src=x]=${st.imgX} markup=${st.inside} __xss=${st.xss}`);
    if (dialogs.length) throw new Failure(`${where}: a dialog opened: ${dialogs.join('; ')}`);
    if (st.xss !== null) throw new Failure(`${where}: window.__xss was set (${st.xss}): injected markup ran`);
    if (st.imgX) throw new Failure(`${where}: ${st.imgX} <img src=x> element(s) in the DOM`);
    if (st.inside) throw new Failure(`${where}: ${st.inside} <img>/<script>/<svg>/... element(s) inside cards, alerts or views`);
  };

  let exitCode = 1;
  try {
    const context = await s.launch({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    s.page = page;
    s.guards(page);

    await s.open(o.url);
    await login(s, o.user, o.password, {
      doneLabel: 'the overview and conn-state live',
      done: overviewLive,
    });

    // 1. Overview: the card shows every hostile target label as text.
    const labelsHandle = await waitFor(`the card of ${o.node} with ${o.strings.length} ping target labels`, ([id, n]) => {
      const card = Array.from(document.querySelectorAll('[data-testid="node-card"]')).find((c) => c.getAttribute('data-node') === id);
      if (!card) return false;
      const labels = Array.from(card.querySelectorAll('[data-testid="ping"] .ping-target')).map((e) => e.textContent);
      return labels.length >= n ? labels : false;
    }, [o.node, o.strings.length]);
    const labels = await labelsHandle.jsonValue();
    for (const s of o.strings) {
      if (!labels.includes(`ping ${s}`)) {
        throw new Failure(`no ping label with the exact text ${JSON.stringify(`ping ${s}`)} (labels ${JSON.stringify(labels)})`);
      }
    }
    s.phase = 'reading the card';
    const card = await page.evaluate(([id, rejected]) => {
      const cards = Array.from(document.querySelectorAll('[data-testid="node-card"]'));
      const c = cards.find((e) => e.getAttribute('data-node') === id);
      return {
        name: c.querySelector('[data-testid="node-link"]')?.textContent ?? null,
        reason: c.querySelector('[data-testid="status-reason"]')?.textContent ?? '',
        rejectedCard: rejected ? cards.some((e) => e.getAttribute('data-node') === rejected) : false,
        nodes: cards.map((e) => e.getAttribute('data-node')),
      };
    }, [o.node, o.rejectedId]);
    if (card.name !== o.node) throw new Failure(`card name text ${JSON.stringify(card.name)} != ${JSON.stringify(o.node)}`);
    if (card.rejectedCard) throw new Failure(`a card exists for the node id ${JSON.stringify(o.rejectedId)} the gateway must refuse`);

    // 1b. The agent with a display name: the name (exact text) titles its card, the id below it.
    let named = null;
    if (o.namedNode) {
      const h = await waitFor(`the card of ${o.namedNode} titled by its display name`, ([id, name]) => {
        const c = document.querySelector(`[data-testid="node-card"][data-node="${CSS.escape(id)}"]`);
        const link = c?.querySelector('[data-testid="node-link"]');
        return link && link.textContent === name
          ? { title: link.textContent, alt: c.querySelector('[data-testid="node-id"]')?.textContent ?? null,
              tooltip: link.getAttribute('title') }
          : false;
      }, [o.namedNode, o.displayName]);
      named = await h.jsonValue();
      if (named.alt !== o.namedNode) {
        throw new Failure(`the named card's secondary id text is ${JSON.stringify(named.alt)}, not ${JSON.stringify(o.namedNode)}`);
      }
      if (!(named.tooltip ?? '').includes(o.displayName)) {
        throw new Failure(`the named card's title attribute ${JSON.stringify(named.tooltip)} lacks the full name`);
      }
      // The search matches the display name too: a part of it that is in no node id.
      const part = o.displayName.slice(Math.floor(o.displayName.length / 3)).trim().toLowerCase();
      s.phase = `searching for ${JSON.stringify(part)}`;
      await page.fill('#node-search', part, { timeout: remaining() });
      await waitFor('the search to show the named card only', ([id, other]) => {
        const byNode = (n) => document.querySelector(`[data-testid="node-card"][data-node="${CSS.escape(n)}"]`);
        return byNode(id)?.hidden === false && byNode(other)?.hidden === true;
      }, [o.namedNode, o.node]);
      await page.fill('#node-search', '', { timeout: remaining() });
      await waitFor('every card shown again', () =>
        Array.from(document.querySelectorAll('[data-testid="node-card"]')).every((c) => !c.hidden));
      named.search = part;
      await assertClean('overview (named card)');
    }

    // 2. Active alerts about the hostile metrics (when the overview has the panel), as text.
    s.phase = 'waiting for active alerts';
    let alertTexts = [];
    try {
      const h = await page.waitForFunction((strings) => {
        const texts = Array.from(document.querySelectorAll('[data-testid="active-alert"]')).map((a) => a.textContent ?? '');
        return strings.every((s) => texts.some((t) => t.includes(s))) ? texts : false;
      }, o.strings, { timeout: Math.min(10000, remaining()), polling: 100 });
      alertTexts = await h.jsonValue();
    } catch {
      alertTexts = await page.evaluate(() =>
        Array.from(document.querySelectorAll('[data-testid="active-alert"]')).map((a) => a.textContent ?? ''));
      throw new Failure(`the overview's active alerts (data-testid="active-alert") do not show every hostile subject ` +
        `as text: ${JSON.stringify(alertTexts)}`);
    }
    if (o.namedNode) {
      const h = await waitFor(`the overview's alert naming ${o.namedNode} by its display name`, ([id, name]) => {
        const a = Array.from(document.querySelectorAll('[data-testid="alert-strip"] [data-testid="active-alert"]'))
          .find((e) => (e.getAttribute('data-node') ?? '').endsWith(`/${id}`));
        const link = a?.querySelector('[data-testid="alert-node"]');
        return link && link.textContent === name ? a.querySelector('[data-testid="alert-node-id"]')?.textContent ?? '' : false;
      }, [o.namedNode, o.displayName]);
      named.stripAlertId = await h.jsonValue();
    }
    await assertClean('overview');
    await s.screenshot(o.screenshot);

    // 3. The node's detail page (through the card's link).
    s.phase = 'opening the detail page';
    await page.click(`[data-testid="node-card"][data-node="${o.node}"] [data-testid="node-link"]`, { timeout: remaining() });
    await waitFor(`the detail page of ${o.node}`, (id) =>
      location.hash.startsWith('#/node/') &&
      document.querySelector('[data-testid="node-view"]')?.getClientRects().length > 0 &&
      document.querySelector('[data-testid="node-title"]')?.textContent === id &&
      !document.querySelector('[data-testid="node-view"] [aria-busy="true"]'), o.node);
    await page.waitForTimeout(500); // panels and charts settle; any onerror would have fired
    const detailText = await page.evaluate(() => document.querySelector('[data-testid="node-view"]')?.textContent ?? '');
    const detailShows = o.strings.filter((s) => detailText.includes(s)).length;
    await assertClean('detail page');

    // 3b. The named node's detail page (through its card's link on the overview).
    if (o.namedNode) {
      s.phase = 'back to the overview';
      await page.evaluate(() => { location.hash = '#/'; });
      await waitFor('the overview', () => document.querySelector('#overview-view')?.getClientRects().length > 0);
      s.phase = `opening the detail page of ${o.namedNode}`;
      await page.click(`[data-testid="node-card"][data-node="${o.namedNode}"] [data-testid="node-link"]`, { timeout: remaining() });
      const h = await waitFor(`the detail page of ${o.namedNode} titled by its display name`, ([id, name]) =>
        location.hash.startsWith('#/node/') &&
        document.querySelector('[data-testid="node-view"]')?.getClientRects().length > 0 &&
        document.querySelector('[data-testid="node-view"]')?.getAttribute('data-node') === id &&
        document.querySelector('[data-testid="node-title"]')?.textContent === name &&
        !document.querySelector('[data-testid="node-view"] [aria-busy="true"]')
          ? document.querySelector('[data-testid="node-view"] [data-testid="node-id"]')?.textContent ?? ''
          : false, [o.namedNode, o.displayName]);
      named.detailId = await h.jsonValue();
      if (named.detailId !== o.namedNode) {
        throw new Failure(`the detail page's secondary id text is ${JSON.stringify(named.detailId)}, not ${JSON.stringify(o.namedNode)}`);
      }
      await page.waitForTimeout(500);
      await assertClean('named detail page');
    }

    // 4. The alerts page.
    s.phase = 'opening the alerts page';
    await page.evaluate(() => { location.hash = '#/alerts'; });
    await waitFor('the alerts page', () => document.querySelector('[data-testid="alerts-view"]')?.getClientRects().length > 0);
    await page.waitForTimeout(1000);
    const alertsPageShows = await page.evaluate((strings) => {
      const t = document.querySelector('[data-testid="alerts-view"]')?.textContent ?? '';
      return strings.filter((s) => t.includes(s)).length;
    }, o.strings);
    if (o.namedNode) {
      const h = await waitFor(`the alerts page's alert naming ${o.namedNode} by its display name`, ([id, name]) => {
        const a = Array.from(document.querySelectorAll('[data-testid="alerts-view"] [data-testid="active-alert"]'))
          .find((e) => (e.getAttribute('data-node') ?? '').endsWith(`/${id}`));
        const link = a?.querySelector('[data-testid="alert-node"]');
        return link && link.textContent === name ? a.querySelector('[data-testid="alert-node-id"]')?.textContent ?? '' : false;
      }, [o.namedNode, o.displayName]);
      named.pageAlertId = await h.jsonValue();
    }
    await assertClean('alerts page');
    if (pageErrors.length) throw new Failure('uncaught page error');

    process.stdout.write(
      `hostile: node ${o.node}: card name ${JSON.stringify(card.name)}, ping labels ${JSON.stringify(labels)}, ` +
        `status reason ${JSON.stringify(card.reason)}; node id ${JSON.stringify(o.rejectedId)} refused by the gateway ` +
        `(no card; cards ${JSON.stringify(card.nodes)}); active alerts as text ${JSON.stringify(alertTexts)}; ` +
        `detail page shows ${detailShows}/${o.strings.length} strings as text, alerts page ${alertsPageShows}/${o.strings.length}; ` +
        (named
          ? `named node ${o.namedNode}: card title ${JSON.stringify(named.title)} (id ${JSON.stringify(named.alt)}), ` +
            `search ${JSON.stringify(named.search)} finds it, alert named ${JSON.stringify(o.displayName)} ` +
            `(${JSON.stringify(named.stripAlertId)}) on the overview and the alerts page, detail title exact; `
          : '') +
        `no dialog, __xss unset; ${checks.join('; ')}; screenshot ${o.screenshot}\n`,
    );
    exitCode = 0;
  } catch (err) {
    if (s.aborted) return undefined;
    s.reportFailure(err);
    if (checks.length) s.say(`  checks so far: ${checks.join('; ')}`);
    if (page && !page.isClosed()) {
      try {
        s.say(`  url=${page.url()} ${JSON.stringify(await page.evaluate(injectionState))}`);
        await s.failureShot(o.screenshot, { quiet: true });
      } catch {
        /* page unusable */
      }
    }
  } finally {
    await s.close();
  }
  return exitCode;
}

runMain('hostile', main);
