// The target detail page (#/target/<group>/<node>/<family>/<target>): one probed target of a
// node — its state, uptime over 1 h / 24 h / 7 d / 30 d, latency and loss over time, a
// SmokePing-style latency distribution and the check log of recent raw samples, kept live from
// the WebSocket feed. Loaded on demand (with uPlot) by main.ts.
import { ApiError } from './api';
import { STATUS_ICON } from './card';
import { HistoryChart, RANGES } from './chart';
import { DistributionChart, fetchHistory } from './distchart';
import { el, setText } from './dom';
import { formatAgo, formatRtt, formatUptime } from './format';
import { isProbeTarget, PROBE_FAMILIES, probeFamily, probeMetricName, type FamilyName } from './metricname';
import type { Page, PageContext } from './page';
import { nodeKey, nodeTitle, type FleetNode, type TargetInfo, type Uptime } from './protocol';
import { nodeHref, type Route } from './router';
import type { NodeEntry } from './store';

/** The range picked last; kept while moving between targets. */
let rangeSeconds = RANGES[0]?.seconds ?? 3600;

const LOG_PAGE = 50;
/** The check log reads raw samples in windows this long, going back. */
const LOG_WINDOW_MS = 6 * 3600_000;
/** How far back "Older" may go (raw samples are kept for a limited time anyway). */
const LOG_MAX_BACK_MS = 30 * 86_400_000;
/** The distribution's rollups grow once a minute. */
const DISTRIBUTION_REFRESH_MS = 60_000;

const UPTIME_WINDOWS: { key: keyof Uptime; label: string; ms: number }[] = [
  { key: 'h1', label: '1 h', ms: 3600_000 },
  { key: 'h24', label: '24 h', ms: 86_400_000 },
  { key: 'd7', label: '7 d', ms: 7 * 86_400_000 },
  { key: 'd30', label: '30 d', ms: 30 * 86_400_000 },
];

const STATE_TEXT: Record<number, { word: string; cls: string; icon: string }> = {
  0: { word: 'UNKNOWN', cls: 'is-unknown', icon: STATUS_ICON.UNKNOWN },
  1: { word: 'UP', cls: 'is-healthy', icon: STATUS_ICON.HEALTHY },
  2: { word: 'DEGRADED', cls: 'is-degraded', icon: STATUS_ICON.DEGRADED },
  3: { word: 'DOWN', cls: 'is-down', icon: STATUS_ICON.DOWN },
};

interface LogRow {
  /** ms since the epoch. */
  t: number;
  up: number | null;
  rtt: number | null;
  loss: number | null;
}

export class TargetView implements Page {
  private readonly root: HTMLElement;
  private readonly titleEl = el('h1', 'detail-title');
  private readonly subEl = el('span', 'node-group');
  private readonly backEl = el('a', 'back-link');
  private readonly badgeEl = el('span', 'badge');
  private readonly waitingEl = el('p', 'empty');
  private readonly facts = new Map<string, HTMLElement>();
  private readonly uptimeEls = new Map<keyof Uptime, HTMLElement>();
  private readonly chartsEl = el('div', 'charts');
  private readonly logBody = el('tbody');
  private readonly logOlder = el('button', 'button', 'Older');
  private readonly logStatus = el('span', 'pager-info');
  private readonly logError = el('p', 'page-error');
  private readonly resizer: ResizeObserver;
  private latency: HistoryChart | null = null;
  private loss: HistoryChart | null = null;
  private dist: DistributionChart | null = null;
  private group = '';
  private node = '';
  private family: FamilyName = 'ping';
  private target = '';
  private key = '';
  private open_ = false;
  private lastSampleMs = 0;
  private lastDistLoad = 0;
  private log: LogRow[] = [];
  private logShown = LOG_PAGE;
  /** The check log holds every raw sample from here (ms) to now. */
  private logFrom = 0;
  private logGen = 0;
  private uptimeFromHistory = new Map<keyof Uptime, number | null>();
  private uptimeGen = 0;
  private lastSeen = 0;

  constructor(private readonly ctx: PageContext) {
    this.root = ctx.root;
    this.resizer = new ResizeObserver((entries) => {
      for (const e of entries) {
        const w = Math.floor(e.contentRect.width);
        if (this.latency?.root === e.target) this.latency.resize(w);
        if (this.loss?.root === e.target) this.loss.resize(w);
        if (this.dist?.root === e.target) this.dist.resize(w);
      }
    });
  }

  /** The target's metric `leaf` ("up", "rtt", "loss"): "<family>/<target>/<leaf>". */
  private metric(leaf: string): string {
    return probeMetricName(this.family, this.target, leaf);
  }

  private get nodePath(): string {
    return `${this.group}/${this.node}`;
  }

  open(r: Route): void {
    if (r.page !== 'target') return;
    this.close();
    const family = probeFamily(r.family);
    if (family === null || !isProbeTarget(r.target)) {
      this.showNotATarget(r);
      return;
    }
    this.open_ = true;
    this.group = r.group;
    this.node = r.node;
    this.family = family;
    this.target = r.target;
    this.key = nodeKey({ group: r.group, id: r.node });
    this.build();
    const entry = this.ctx.node(this.key);
    if (entry) this.render(entry.node);
    else this.showWaiting(`Waiting for data from ${this.node}…`);
    this.loadCharts();
    void this.loadLog(true);
    void this.loadUptimeHistory();
    this.titleEl.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  close(): void {
    for (const c of [this.latency, this.loss, this.dist]) {
      if (!c) continue;
      this.resizer.unobserve(c.root);
      c.destroy();
    }
    this.latency = this.loss = this.dist = null;
    this.open_ = false;
    this.key = '';
    this.log = [];
    this.logGen++;
    this.uptimeGen++;
    this.uptimeFromHistory.clear();
    this.lastSampleMs = 0;
    this.root.replaceChildren();
  }

  get focusKey(): string {
    return this.key;
  }

  upsert(entry: NodeEntry): void {
    if (!this.open_ || entry.key !== this.key) return;
    this.render(entry.node);
    const values = new Map<string, { ts: number; value: number | null }>();
    for (const m of entry.node.metrics) values.set(m.name, { ts: m.ts, value: m.value });
    this.latency?.pushLive(values);
    this.loss?.setHold(entry.node.online ? entry.node.last_seen : 0);
    this.loss?.pushLive(values);
    // A new sample of the target: one more row in the check log (values hold, see readLog).
    const [up, rtt, loss] = ['up', 'rtt', 'loss'].map((leaf) => values.get(this.metric(leaf)));
    const ts = Math.max(up?.ts ?? 0, rtt?.ts ?? 0, loss?.ts ?? 0);
    if (ts > this.lastSampleMs && (up || rtt)) {
      this.lastSampleMs = ts;
      if (this.log.length === 0 || (this.log[0]?.t ?? 0) < ts) {
        this.log.unshift({ t: ts, up: up?.value ?? null, rtt: rtt?.value ?? null, loss: loss?.value ?? null });
        this.renderLog();
      }
    }
  }

  remove(key: string): void {
    if (this.open_ && key === this.key) this.showWaiting(`${this.node} is no longer part of the fleet.`);
  }

  tick(): void {
    if (!this.open_) return;
    const now = Date.now();
    this.latency?.tick();
    this.loss?.tick();
    this.dist?.tick();
    const seen = this.facts.get('seen');
    if (seen && this.lastSeen > 0) setText(seen, formatAgo(this.lastSeen, now));
    if (now - this.lastDistLoad > DISTRIBUTION_REFRESH_MS && rangeSeconds <= 24 * 3600) this.loadDistribution();
  }

  private build(): void {
    this.backEl.href = nodeHref(this.group, this.node);
    this.backEl.dataset['testid'] = 'back';
    this.subEl.dataset['testid'] = 'target-node';
    const crumbs = el('nav', 'crumbs');
    crumbs.setAttribute('aria-label', 'Breadcrumb');
    const all = el('a', 'back-link', 'All nodes');
    all.href = '#/';
    crumbs.append(all, document.createTextNode(' / '), this.backEl);

    this.titleEl.tabIndex = -1;
    this.titleEl.dataset['testid'] = 'target-title';
    setText(this.titleEl, `${this.family} ${this.target}`);
    this.renderName(this.ctx.node(this.key)?.node.name ?? '');
    this.badgeEl.dataset['testid'] = 'target-state';
    const title = el('div', 'card-title');
    title.append(this.titleEl, this.subEl);
    const head = el('header', 'detail-head');
    head.append(title, this.badgeEl);

    const facts = el('dl', 'facts');
    for (const [id, label] of [
      ['rtt', 'RTT avg (last 60 rounds)'],
      ['range', 'RTT min / max'],
      ['loss', 'Loss (last 60 rounds)'],
      ['active', 'Probed'],
      ['seen', 'Node last seen'],
    ] as const) {
      const wrap = el('div', 'fact');
      const dd = el('dd', '', '—');
      dd.dataset['testid'] = `target-${id}`;
      wrap.append(el('dt', '', label), dd);
      facts.append(wrap);
      this.facts.set(id, dd);
    }

    const uptime = el('section', 'page-section');
    uptime.append(el('h2', '', 'Uptime'));
    const tiles = el('dl', 'uptime-tiles');
    for (const w of UPTIME_WINDOWS) {
      const wrap = el('div', 'fact');
      const dd = el('dd', '', '—');
      dd.dataset['testid'] = `target-uptime-${w.label.replace(' ', '')}`;
      wrap.append(el('dt', '', w.label), dd);
      tiles.append(wrap);
      this.uptimeEls.set(w.key, dd);
    }
    uptime.append(tiles);

    const picker = el('fieldset', 'range-picker');
    picker.append(el('legend', 'visually-hidden', 'Time range'));
    for (const r of RANGES) {
      const label = el('label', 'seg');
      const input = el('input');
      input.type = 'radio';
      input.name = 'target-range';
      input.value = String(r.seconds);
      input.checked = r.seconds === rangeSeconds;
      input.dataset['testid'] = `range-${r.label.replace(' ', '')}`;
      input.addEventListener('change', () => {
        if (!input.checked) return;
        rangeSeconds = r.seconds;
        this.loadCharts();
      });
      label.append(input, el('span', '', r.label));
      picker.append(label);
    }
    const chartsHead = el('div', 'section-head');
    chartsHead.append(el('h2', '', 'History'), picker);

    const rtt = this.metric('rtt');
    this.latency = new HistoryChart({
      id: 'target-latency',
      title: 'Latency: average and min–max',
      unit: 'ms',
      band: true,
      series: [{ metric: rtt, label: 'RTT' }],
    });
    this.latency.root.dataset['testid'] = 'target-latency-chart';
    this.loss = new HistoryChart({
      id: 'target-loss',
      title: 'Packet loss',
      unit: '%',
      yRange: [0, 100],
      // Reported by exception like the node's gauges: a loss of 0 % holds until it changes.
      hold: true,
      series: [{ metric: this.metric('loss'), label: 'loss' }],
    });
    this.loss.root.dataset['testid'] = 'target-loss-chart';
    this.dist = new DistributionChart();
    this.chartsEl.replaceChildren(this.latency.root, this.loss.root, this.dist.root);
    for (const c of [this.latency, this.loss, this.dist]) this.resizer.observe(c.root);

    const logSection = el('section', 'page-section');
    logSection.dataset['testid'] = 'check-log';
    const logHead = el('div', 'section-head');
    logHead.append(el('h2', '', 'Check log'));
    const wrap = el('div', 'table-wrap');
    const t = el('table', 'data');
    const thead = el('thead');
    const tr = el('tr');
    for (const [h, num] of [['Time', false], ['Result', false], ['RTT', true], ['Loss', true]] as const) {
      const th = el('th', num ? 'num' : '', h);
      th.scope = 'col';
      tr.append(th);
    }
    thead.append(tr);
    this.logBody.dataset['testid'] = 'check-log-rows';
    t.append(thead, this.logBody);
    wrap.append(t);
    this.logOlder.type = 'button';
    this.logOlder.dataset['testid'] = 'check-log-older';
    this.logOlder.addEventListener('click', () => void this.showOlder());
    const pager = el('div', 'pager');
    pager.append(this.logStatus, this.logOlder);
    logSection.append(logHead, this.logError, wrap, pager);

    const body = el('div', 'detail-body page-live');
    const history = el('section');
    history.append(chartsHead, this.chartsEl);
    body.append(facts, uptime, history, logSection);
    this.waitingEl.hidden = true;
    this.root.replaceChildren(crumbs, head, this.waitingEl, body);
  }

  /** A route naming no probed target (not a probe family, or a target with '/'): nothing to load. */
  private showNotATarget(r: Extract<Route, { page: 'target' }>): void {
    const back = el('a', 'back-link', `← ${r.node}`);
    back.href = nodeHref(r.group, r.node);
    const title = el('h1', 'detail-title', `${r.family} ${r.target}`);
    title.dataset['testid'] = 'target-title';
    const note = el('p', 'empty', `Not a probed target: the family must be one of ${PROBE_FAMILIES.join(', ')}, the target one segment without '/'.`);
    this.root.replaceChildren(back, title, note);
  }

  private showWaiting(text: string): void {
    setText(this.waitingEl, text);
    this.waitingEl.hidden = false;
  }

  private targetInfo(node: FleetNode): TargetInfo | undefined {
    return node.targets.find((t) => t.target === this.target && (t.family === this.family || t.family === ''));
  }

  /** The node by its display name (device text: textContent only), then its id and group. */
  private renderName(name: string): void {
    const title = nodeTitle({ id: this.node, name });
    setText(this.backEl, `← ${title}`);
    const where = this.group ? ` (${this.group})` : '';
    setText(this.subEl, name !== '' ? `on ${name} · ${this.node}${where}` : `on ${this.node}${where}`);
    this.subEl.title = this.subEl.textContent ?? '';
  }

  private render(node: FleetNode): void {
    this.renderName(node.name);
    this.waitingEl.hidden = true;
    this.lastSeen = node.last_seen;
    const info = this.targetInfo(node);
    const up = node.metrics.find((m) => m.name === this.metric('up'));
    let state = info?.state ?? null;
    if (state === null && up && up.value !== null) state = up.value > 0 ? 1 : 3;
    const s = STATE_TEXT[state ?? 0] ?? STATE_TEXT[0]!;
    setText(this.badgeEl, `${s.icon} ${s.word}${node.online ? '' : ' (node offline)'}`);
    this.root.dataset['state'] = s.word;
    for (const c of ['is-unknown', 'is-healthy', 'is-degraded', 'is-down']) this.root.classList.toggle(c, c === s.cls);

    const rttNow = node.metrics.find((m) => m.name === this.metric('rtt'));
    const avg = info?.rtt_avg ?? rttNow?.value ?? null;
    this.fact('rtt', avg === null ? '—' : `${formatRtt(avg)} ms`);
    this.fact(
      'range',
      info && info.rtt_min !== null && info.rtt_max !== null ? `${formatRtt(info.rtt_min)} / ${formatRtt(info.rtt_max)} ms` : '—',
    );
    const lossNow = node.metrics.find((m) => m.name === this.metric('loss'));
    const loss = info?.loss_pct ?? lossNow?.value ?? null;
    this.fact('loss', loss === null ? '—' : `${loss.toFixed(1)} %`);
    this.fact('active', info ? (info.active ? 'yes' : 'no (removed)') : up ? 'yes' : '—');
    this.fact('seen', formatAgo(node.last_seen, Date.now()));
    this.renderUptime(info);
  }

  private fact(id: string, text: string): void {
    const e = this.facts.get(id);
    if (e) setText(e, text);
  }

  /**
   * The gateway's own counters (answered rounds ÷ rounds, live in the node message) when it has
   * them; otherwise the count-weighted mean of the `up` history over the window.
   */
  private renderUptime(info: TargetInfo | undefined): void {
    for (const w of UPTIME_WINDOWS) {
      const e = this.uptimeEls.get(w.key);
      if (!e) continue;
      const live = info?.uptime[w.key] ?? null;
      const hist = this.uptimeFromHistory.get(w.key) ?? null;
      const v = live ?? hist;
      setText(e, v === null ? '—' : `${formatUptime(v)} %`);
      e.dataset['source'] = live !== null ? 'gateway' : hist !== null ? 'history' : 'none';
      e.classList.toggle('sla-missed', v !== null && v < 99);
    }
  }

  private async loadUptimeHistory(): Promise<void> {
    const gen = ++this.uptimeGen;
    const metric = this.metric('up');
    const now = Date.now();
    await Promise.all(
      UPTIME_WINDOWS.map(async (w) => {
        try {
          // Raw up to 1 h, minute rollups up to 7 d, hour rollups beyond (the gateway's default).
          const h = await fetchHistory(this.nodePath, metric, now - w.ms, now, null);
          if (gen !== this.uptimeGen) return;
          const avg = h.col('avg');
          const count = h.col('count');
          let good = 0;
          let total = 0;
          avg.forEach((a, i) => {
            const n = count[i] ?? 0;
            if (a === null || n === null || n <= 0) return;
            good += a * n;
            total += n;
          });
          this.uptimeFromHistory.set(w.key, total > 0 ? (100 * good) / total : null);
        } catch {
          /* leave it unknown */
        }
      }),
    );
    if (gen !== this.uptimeGen || !this.open_) return;
    const entry = this.ctx.node(this.key);
    this.renderUptime(entry ? this.targetInfo(entry.node) : undefined);
  }

  private loadCharts(): void {
    void this.latency?.load(this.group, this.node, rangeSeconds);
    void this.loss?.load(this.group, this.node, rangeSeconds);
    this.loadDistribution();
  }

  private loadDistribution(): void {
    this.lastDistLoad = Date.now();
    void this.dist?.load(this.nodePath, this.metric('rtt'), this.metric('loss'), rangeSeconds);
  }

  /**
   * Reads the raw samples of [from, to), newest first: one row per distinct sample time of the
   * target's up, rtt and loss series. The agent reports by exception (an unchanged value is not
   * sent again until its next keyframe), so each value holds until the next sample of its series.
   */
  private async readLog(fromMs: number, toMs: number): Promise<LogRow[]> {
    // step 1 (< 60): raw samples whatever the range. Start a little earlier to know the values
    // holding at `fromMs`.
    const lead = 10 * 60_000;
    const series = await Promise.all(
      ['up', 'rtt', 'loss'].map((leaf) =>
        fetchHistory(this.nodePath, this.metric(leaf), fromMs - lead, toMs, 1).catch((err: unknown) => {
          if (leaf === 'up') throw err;
          return null;
        }),
      ),
    );
    const points = series.map((h) => {
      const out: { t: number; v: number | null }[] = [];
      if (h) h.x.forEach((t, i) => out.push({ t: Math.round(t * 1000), v: h.col('avg')[i] ?? null }));
      return out;
    });
    const times = [...new Set(points.flat().map((q) => q.t))].filter((t) => t >= fromMs && t < toMs).sort((a, b) => a - b);
    const idx = [0, 0, 0];
    const held: (number | null)[] = [null, null, null];
    const rows: LogRow[] = [];
    for (const t of times) {
      points.forEach((ps, k) => {
        while ((idx[k] ?? 0) < ps.length && (ps[idx[k] ?? 0]?.t ?? Infinity) <= t) {
          held[k] = ps[idx[k] ?? 0]?.v ?? null;
          idx[k] = (idx[k] ?? 0) + 1;
        }
      });
      rows.push({ t, up: held[0] ?? null, rtt: held[1] ?? null, loss: held[2] ?? null });
    }
    return rows.reverse();
  }

  private async loadLog(first: boolean): Promise<void> {
    const gen = ++this.logGen;
    this.logOlder.disabled = true;
    const to = first ? Date.now() + 1 : this.logFrom;
    const from = to - LOG_WINDOW_MS;
    try {
      const rows = await this.readLog(from, to);
      if (gen !== this.logGen || !this.open_) return;
      if (first) {
        // Live rows that arrived while loading are newer than anything read.
        const newest = rows[0]?.t ?? 0;
        this.log = [...this.log.filter((r) => r.t > newest), ...rows];
        this.logShown = LOG_PAGE;
      } else {
        this.log.push(...rows);
      }
      this.logFrom = from;
      if (this.log.length > 0) this.lastSampleMs = Math.max(this.lastSampleMs, this.log[0]?.t ?? 0);
      setText(this.logError, '');
    } catch (err) {
      if (gen !== this.logGen) return;
      if (!(err instanceof ApiError && err.status === 401)) {
        setText(this.logError, `Cannot load the check log: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.renderLog();
  }

  private async showOlder(): Promise<void> {
    this.logShown += LOG_PAGE;
    // Read further back until there is a page's worth more, or the limit.
    while (this.log.length < this.logShown && Date.now() - this.logFrom < LOG_MAX_BACK_MS && this.open_) {
      const before = this.logFrom;
      await this.loadLog(false);
      if (this.logFrom === before) break; // failed
    }
    this.renderLog();
  }

  private renderLog(): void {
    const rows = this.log.slice(0, this.logShown);
    this.logBody.replaceChildren(
      ...rows.map((r) => {
        const tr = el('tr');
        tr.dataset['testid'] = 'check';
        const when = el('td', 'nowrap');
        const time = el('time', '', new Date(r.t).toLocaleString());
        time.dateTime = new Date(r.t).toISOString();
        when.append(time);
        const ok = r.up !== null && r.up > 0;
        const res = el('td', ok ? 'state-up' : r.up === null ? 'muted' : 'state-down', r.up === null ? '?' : ok ? '✔ up' : '✖ down');
        tr.dataset['up'] = String(ok);
        tr.append(
          when,
          res,
          el('td', 'num', r.rtt === null ? '—' : `${formatRtt(r.rtt)} ms`),
          el('td', 'num', r.loss === null ? '—' : `${r.loss.toFixed(0)} %`),
        );
        return tr;
      }),
    );
    this.logBody.dataset['rows'] = String(rows.length);
    const exhausted = this.log.length <= this.logShown && Date.now() - this.logFrom >= LOG_MAX_BACK_MS;
    this.logOlder.disabled = exhausted;
    setText(
      this.logStatus,
      rows.length === 0
        ? 'No samples recorded yet.'
        : `${rows.length} most recent checks (since ${new Date(rows[rows.length - 1]?.t ?? 0).toLocaleString()})`,
    );
  }
}
