// The node detail page (#/node/<group>/<id>): status, current values grouped by subsystem, and
// history charts with a time-range picker, kept live from the WebSocket feed. Loaded on demand
// (it pulls in uPlot), so the overview's bundle stays small.
import { apiFetch, pathPart } from './api';
import { STATUS_ICON } from './card';
import { HistoryChart, RANGES, type ChartSpec } from './chart';
import { byId, el, setText } from './dom';
import { formatAgo, formatUptime } from './format';
import { parseMetricName } from './metricname';
import { groupMetrics, type Group, type Row } from './nodemetrics';
import { nodeKey, nodeTitle, type FleetNode } from './protocol';
import type { NodeEntry } from './store';

const MAX_PING_SERIES = 8;
/** How often the page asks the gateway for the node's sample accounting. */
const SAMPLES_REFRESH_MS = 15_000;
const MAX_LOSSES_SHOWN = 5;

/** GET /api/nodes/{group}/{node}/samples (docs/openapi.yaml, NodeSamples), as far as shown. */
interface SampleLoss {
  at: number;
  first: number;
  last: number;
  count: number;
  reason: string;
}
interface NodeSamples {
  tracked: boolean;
  received: number;
  duplicates: number;
  missing: number;
  losses: SampleLoss[];
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function parseSamples(v: unknown): NodeSamples | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const losses: SampleLoss[] = [];
  if (Array.isArray(o['recent_losses'])) {
    for (const l of o['recent_losses'] as unknown[]) {
      if (typeof l !== 'object' || l === null) continue;
      const x = l as Record<string, unknown>;
      losses.push({ at: num(x['at']), first: num(x['first']), last: num(x['last']), count: num(x['count']),
        reason: typeof x['reason'] === 'string' ? x['reason'] : '' });
    }
  }
  return { tracked: o['tracked'] === true, received: num(o['received']), duplicates: num(o['duplicates']),
    missing: num(o['missing']), losses };
}
const MAX_TEMP_SERIES = 4;

/** The range picked last; kept while moving between nodes. */
let rangeSeconds = RANGES[0]?.seconds ?? 3600;

function chartSpecs(node: FleetNode): ChartSpec[] {
  const names = new Set(node.metrics.map((m) => m.name));
  const specs: ChartSpec[] = [];
  if (names.has('cpu/total')) {
    specs.push({
      id: 'cpu',
      title: 'CPU total',
      unit: '%',
      yRange: [0, 100],
      hold: true,
      band: true,
      series: [{ metric: 'cpu/total', label: 'CPU' }],
    });
  }
  if (names.has('mem/used_percent')) {
    specs.push({
      id: 'memory',
      title: 'Memory used',
      unit: '%',
      yRange: [0, 100],
      hold: true,
      series: [{ metric: 'mem/used_percent', label: 'Memory' }],
    });
  }
  const pings = [...names]
    .map((metric) => ({ metric, name: parseMetricName(metric) }))
    .filter(({ name }) => name.family === 'ping' && name.leaf === 'rtt')
    .sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
    .slice(0, MAX_PING_SERIES);
  if (pings.length > 0) {
    specs.push({
      id: 'ping',
      title: 'Ping round-trip time',
      unit: 'ms',
      series: pings.map(({ metric, name }) => ({ metric, label: name.target })),
    });
  }
  const temps = [...names]
    .filter((n) => n === 'soc/temperature' || n.startsWith('thermal/'))
    .sort()
    .slice(0, MAX_TEMP_SERIES);
  if (temps.length > 0) {
    specs.push({
      id: 'temperature',
      title: 'Temperature',
      unit: '°C',
      hold: true,
      series: temps.map((m) => ({ metric: m, label: m === 'soc/temperature' ? 'SoC' : m.slice('thermal/'.length) })),
    });
  }
  return specs;
}

interface RowView {
  wrap: HTMLElement;
  value: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
}

interface Panel {
  section: HTMLElement;
  list: HTMLElement;
  rows: Map<string, RowView>;
  order: string;
}

export class DetailView {
  private readonly root = byId('node-view');
  private readonly titleEl = el('h1', 'detail-title');
  /** The node id under the display name (hidden when the node has no name). */
  private readonly altIdEl = el('span', 'node-alt-id');
  private readonly groupEl = el('span', 'node-group');
  private readonly badgeEl = el('span', 'badge');
  private readonly reasonEl = el('p', 'status-reason');
  private readonly waitingEl = el('p', 'empty');
  private readonly staleEl = el('p', 'stale-note', '✖ Offline: the values below are the last ones received.');
  private readonly onlineEl = el('dd');
  private readonly seenEl = el('dd');
  private readonly uptimeEl = el('dd');
  /** Samples received / missing (the gateway's accounting of agent/sample_seq). */
  private readonly samplesEl = el('dd');
  private readonly samplesFact = el('div', 'fact');
  private readonly lossesEl = el('ul', 'loss-list');
  private samplesAt = 0;
  private readonly chartsEl = el('div', 'charts');
  private readonly panelsEl = el('div', 'panels');
  private readonly bodyEl = el('div', 'detail-body');
  private readonly panels = new Map<string, Panel>();
  private readonly resizer: ResizeObserver;
  private charts: HistoryChart[] = [];
  private chartSignature = '';
  private group = '';
  private id = '';
  private key = '';
  private lastSeen = 0;
  private hasNode = false;

  constructor(private readonly lookup: (key: string) => NodeEntry | undefined) {
    this.resizer = new ResizeObserver((entries) => {
      for (const e of entries) {
        this.charts.find((c) => c.root === e.target)?.resize(Math.floor(e.contentRect.width));
      }
    });
    this.build();
  }

  open(group: string, id: string): void {
    const key = nodeKey({ group, id });
    if (key !== this.key) {
      this.close();
      this.group = group;
      this.id = id;
      this.key = key;
      for (const p of this.panels.values()) {
        p.list.replaceChildren();
        p.rows.clear();
        p.order = '';
        p.section.hidden = true;
      }
      setText(this.badgeEl, '');
      this.reasonEl.hidden = true;
    }
    this.root.dataset['node'] = id;
    const entry = this.lookup(key);
    this.renderName({ id, name: entry?.node.name ?? '' });
    setText(this.groupEl, group);
    this.hasNode = false;
    if (entry) this.render(entry.node);
    else this.showWaiting(`Waiting for data from ${id}…`);
    this.samplesFact.hidden = true;
    this.lossesEl.hidden = true;
    void this.loadSamples();
    this.titleEl.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  close(): void {
    for (const c of this.charts) {
      this.resizer.unobserve(c.root);
      c.destroy();
    }
    this.charts = [];
    this.chartSignature = '';
    this.chartsEl.replaceChildren();
    this.key = '';
  }

  get openKey(): string {
    return this.key;
  }

  upsert(entry: NodeEntry): void {
    if (entry.key !== this.key) return;
    this.render(entry.node);
    const values = new Map<string, { ts: number; value: number | null }>();
    for (const m of entry.node.metrics) values.set(m.name, { ts: m.ts, value: m.value });
    for (const c of this.charts) {
      c.setHold(entry.node.online ? entry.node.last_seen : 0);
      c.pushLive(values);
    }
  }

  remove(key: string): void {
    if (key === this.key) this.showWaiting(`${this.id} is no longer part of the fleet.`);
  }

  tick(): void {
    if (!this.key) return;
    if (this.hasNode) setText(this.seenEl, formatAgo(this.lastSeen, Date.now()));
    for (const c of this.charts) c.tick();
    if (Date.now() - this.samplesAt >= SAMPLES_REFRESH_MS) void this.loadSamples();
  }

  /** The node's sample accounting: shown for nodes that number their samples (edgemon agents). */
  private async loadSamples(): Promise<void> {
    const key = this.key;
    if (!key) return;
    this.samplesAt = Date.now();
    let s: NodeSamples | null = null;
    try {
      s = parseSamples(await apiFetch<unknown>(`api/nodes/${pathPart(this.group)}/${pathPart(this.id)}/samples`));
    } catch {
      return;  // a node the gateway does not know yet (404), or the gateway away: try again later
    }
    if (key !== this.key || !s) return;
    this.samplesFact.hidden = !s.tracked;
    if (!s.tracked) {
      this.lossesEl.hidden = true;
      return;
    }
    const parts = [`${s.received.toLocaleString()} received`, `${s.missing.toLocaleString()} missing`];
    if (s.duplicates > 0) parts.push(`${s.duplicates.toLocaleString()} replayed`);
    setText(this.samplesEl, parts.join(' · '));
    this.samplesFact.dataset['tone'] = s.missing > 0 ? 'warn' : '';
    const shown = s.losses.slice(-MAX_LOSSES_SHOWN).reverse();
    this.lossesEl.replaceChildren(
      ...shown.map((l) => {
        const li = el('li');
        li.append(el('time', '', new Date(l.at).toLocaleString()), document.createTextNode(` ${l.reason}`));
        return li;
      }),
    );
    this.lossesEl.hidden = shown.length === 0;
  }

  private build(): void {
    const back = el('a', 'back-link', '← All nodes');
    back.href = '#/';
    back.dataset['testid'] = 'back';
    const nav = el('nav', 'crumbs');
    nav.setAttribute('aria-label', 'Breadcrumb');
    nav.append(back);

    this.titleEl.tabIndex = -1;
    this.titleEl.id = 'node-title';
    this.titleEl.dataset['testid'] = 'node-title';
    this.badgeEl.dataset['testid'] = 'detail-status';
    this.reasonEl.dataset['testid'] = 'detail-reason';
    this.altIdEl.dataset['testid'] = 'node-id';
    this.altIdEl.hidden = true;
    const sub = el('div', 'card-sub');
    sub.append(this.altIdEl, this.groupEl);
    const title = el('div', 'card-title');
    title.append(this.titleEl, sub);
    const head = el('header', 'detail-head');
    head.append(title, this.badgeEl);

    const facts = el('dl', 'facts');
    const fact = (label: string, dd: HTMLElement) => {
      const wrap = el('div', 'fact');
      wrap.append(el('dt', '', label), dd);
      facts.append(wrap);
    };
    fact('Connection', this.onlineEl);
    fact('Last seen', this.seenEl);
    fact('Uptime 1 h / 24 h / 7 d / 30 d', this.uptimeEl);
    this.uptimeEl.dataset['testid'] = 'detail-uptime';
    this.samplesFact.append(el('dt', '', 'Samples'), this.samplesEl);
    this.samplesFact.hidden = true;
    this.samplesEl.dataset['testid'] = 'detail-samples';
    facts.append(this.samplesFact);
    this.lossesEl.dataset['testid'] = 'detail-losses';
    this.lossesEl.setAttribute('aria-label', 'Recent data losses');
    this.lossesEl.hidden = true;

    const chartsHead = el('div', 'section-head');
    const chartsTitle = el('h2', '', 'History');
    chartsTitle.id = 'history-title';
    const picker = el('fieldset', 'range-picker');
    picker.append(el('legend', 'visually-hidden', 'Time range'));
    for (const r of RANGES) {
      const label = el('label', 'seg');
      const input = el('input');
      input.type = 'radio';
      input.name = 'range';
      input.value = String(r.seconds);
      input.checked = r.seconds === rangeSeconds;
      input.dataset['testid'] = `range-${r.label.replace(' ', '')}`;
      input.addEventListener('change', () => {
        if (!input.checked) return;
        rangeSeconds = r.seconds;
        for (const c of this.charts) void c.load(this.group, this.id, rangeSeconds);
      });
      label.append(input, el('span', '', r.label));
      picker.append(label);
    }
    chartsHead.append(chartsTitle, picker);
    const history = el('section', 'history');
    history.setAttribute('aria-labelledby', 'history-title');
    history.append(chartsHead, this.chartsEl);

    const current = el('h2', 'visually-hidden', 'Current values');
    this.staleEl.dataset['testid'] = 'detail-stale';
    this.bodyEl.append(facts, this.lossesEl, history, current, this.staleEl, this.panelsEl);
    this.root.replaceChildren(nav, head, this.reasonEl, this.waitingEl, this.bodyEl);
  }

  private showWaiting(text: string): void {
    setText(this.waitingEl, text);
    this.waitingEl.hidden = false;
    this.bodyEl.hidden = !this.hasNode;
  }

  /** The display name as the title (device text: textContent only), the id below it. */
  private renderName(node: Pick<FleetNode, 'id' | 'name'>): void {
    setText(this.titleEl, nodeTitle(node));
    const alt = node.name !== '' ? node.id : '';
    setText(this.altIdEl, alt);
    this.altIdEl.hidden = alt === '';
  }

  private render(node: FleetNode): void {
    this.hasNode = true;
    this.renderName(node);
    this.waitingEl.hidden = true;
    this.bodyEl.hidden = false;
    const root = this.root;
    root.dataset['status'] = node.status;
    for (const s of ['healthy', 'degraded', 'down', 'unknown']) {
      root.classList.toggle(`is-${s}`, node.status.toLowerCase() === s);
    }
    root.classList.toggle('is-offline', !node.online);
    this.staleEl.hidden = node.online;
    setText(this.badgeEl, `${STATUS_ICON[node.status]} ${node.status}`);
    setText(this.reasonEl, node.status_reason);
    this.reasonEl.hidden = node.status_reason === '';
    setText(this.onlineEl, node.online ? '● online' : '✖ offline');
    this.lastSeen = node.last_seen;
    setText(this.seenEl, formatAgo(node.last_seen, Date.now()));
    const u = node.uptime;
    setText(this.uptimeEl, [u.h1, u.h24, u.d7, u.d30].map((v) => (v === null ? '—' : `${formatUptime(v)} %`)).join(' / '));

    for (const g of groupMetrics(node)) this.renderGroup(g);

    const specs = chartSpecs(node);
    const signature = JSON.stringify(specs);
    if (signature !== this.chartSignature) {
      this.chartSignature = signature;
      for (const c of this.charts) {
        this.resizer.unobserve(c.root);
        c.destroy();
      }
      this.charts = specs.map((s) => new HistoryChart(s));
      this.chartsEl.replaceChildren(...this.charts.map((c) => c.root));
      for (const c of this.charts) {
        this.resizer.observe(c.root);
        c.setHold(node.online ? node.last_seen : 0);
        void c.load(this.group, this.id, rangeSeconds);
      }
    }
  }

  private renderGroup(g: Group): void {
    let p = this.panels.get(g.id);
    if (!p) {
      const section = el('section', 'panel');
      section.dataset['testid'] = `panel-${g.id}`;
      const h = el('h2', '', g.title);
      h.id = `panel-${g.id}`;
      section.setAttribute('aria-labelledby', h.id);
      const list = el('dl', 'kv-list');
      section.append(h, list);
      this.panelsEl.append(section);
      p = { section, list, rows: new Map(), order: '' };
      this.panels.set(g.id, p);
    }
    p.section.hidden = g.rows.length === 0;
    const order = g.rows.map((r) => r.key).join('\u0000');
    if (order !== p.order) {
      p.order = order;
      const keep = new Set(g.rows.map((r) => r.key));
      for (const k of [...p.rows.keys()]) if (!keep.has(k)) p.rows.delete(k);
      p.list.replaceChildren(...g.rows.map((r) => this.rowView(p as Panel, r).wrap));
    }
    for (const r of g.rows) {
      const v = this.rowView(p, r);
      setText(v.value, r.value);
      if (r.tone) v.wrap.dataset['tone'] = r.tone;
      else delete v.wrap.dataset['tone'];
      v.wrap.classList.toggle('is-stale', r.stale === true);
      v.bar.hidden = r.pct === undefined;
      if (r.pct !== undefined) {
        v.fill.style.width = `${r.pct}%`;
        v.fill.classList.toggle('is-high', r.pct >= 85);
        v.fill.classList.toggle('is-warn', r.pct >= 60 && r.pct < 85);
      }
    }
  }

  private rowView(p: Panel, r: Row): RowView {
    let v = p.rows.get(r.key);
    if (!v) {
      const wrap = el('div', 'kv');
      const dt = el('dt', '', r.label);
      dt.title = r.label;
      const dd = el('dd');
      const value = el('span', 'kv-value');
      const bar = el('div', 'bar');
      bar.setAttribute('aria-hidden', 'true');
      const fill = el('div', 'bar-fill');
      bar.append(fill);
      dd.append(value, bar);
      wrap.append(dt, dd);
      v = { wrap, value, bar, fill };
      p.rows.set(r.key, v);
    }
    return v;
  }
}
