// One history chart (uPlot) of one or more series of a node: loads /api/history for the chosen
// range, then slides along and appends the live values from the WebSocket feed.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { apiFetch, ApiError } from './api';
import { el, setText } from './dom';
import { formatNumber, formatRtt } from './format';

export interface SeriesSpec {
  metric: string;
  label: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  series: SeriesSpec[];
  /** Fixed y range (e.g. 0..100 for percentages); otherwise auto. */
  yRange?: [number, number];
  /**
   * The agent reports by exception: an unchanged value is not sent again (only in keyframes), so
   * a value holds until the next one. Such charts bridge empty buckets and extend each series'
   * last value to the node's last message. Off for ping (an empty bucket there is an outage).
   */
  hold?: boolean;
  /** One series only: also draw its min–max band (what the rollups' average hides). */
  band?: boolean;
}

export interface Range {
  label: string;
  seconds: number;
}

export const RANGES: readonly Range[] = [
  { label: '1 h', seconds: 3600 },
  { label: '6 h', seconds: 6 * 3600 },
  { label: '24 h', seconds: 24 * 3600 },
  { label: '7 d', seconds: 7 * 24 * 3600 },
];

/** Colours distinguishable in light and dark themes; lines are also told apart by the legend. */
const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#db2777', '#7c3aed', '#0891b2', '#dc2626', '#65a30d'];

type Column = (number | null | undefined)[];

interface HistoryAnswer {
  columns?: unknown;
  data?: unknown;
  step?: unknown;
}

function css(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function formatAxis(unit: string, v: number): string {
  if (unit === 'ms') return formatRtt(v);
  return formatNumber(v);
}

/** Fetches one series' avg column: [[unix s...], [avg...]] plus the bucket step (0 = raw). */
async function fetchSeries(
  group: string,
  id: string,
  metric: string,
  fromMs: number,
  toMs: number,
  signal: AbortSignal,
): Promise<{ x: number[]; y: (number | null)[]; min: (number | null)[]; max: (number | null)[]; step: number }> {
  const q = new URLSearchParams({ node: `${group}/${id}`, metric, from: String(fromMs), to: String(toMs) });
  const body = await apiFetch<HistoryAnswer>(`api/history?${q.toString()}`, { signal });
  const columns = Array.isArray(body.columns) ? body.columns : [];
  const data = Array.isArray(body.data) ? body.data : [];
  const column = (name: string): unknown[] => {
    const c = data[columns.indexOf(name)];
    return Array.isArray(c) ? (c as unknown[]) : [];
  };
  const xs = column('time');
  const [ys, mins, maxs] = [column('avg'), column('min'), column('max')];
  const value = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const out = { x: [] as number[], y: [] as (number | null)[], min: [] as (number | null)[], max: [] as (number | null)[] };
  for (let i = 0; i < xs.length; i++) {
    const t = xs[i];
    if (typeof t !== 'number' || !Number.isFinite(t)) continue;
    out.x.push(t);
    out.y.push(value(ys[i]));
    out.min.push(value(mins[i]));
    out.max.push(value(maxs[i]));
  }
  return { ...out, step: typeof body.step === 'number' ? body.step : 0 };
}

/** True when the series has fewer than three values between i0 and i1 (too few for a visible line). */
function sparse(col: ArrayLike<number | null | undefined> | undefined, i0: number, i1: number): boolean {
  if (!col) return false;
  let n = 0;
  for (let i = Math.max(0, i0); i <= i1 && i < col.length; i++) {
    if (col[i] !== null && col[i] !== undefined && ++n >= 3) return false;
  }
  return n > 0;
}

export class HistoryChart {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private plot: uPlot | null = null;
  private data: Column[] = [];
  private step = 0;
  /** Samples averaged into the last bucket so far (its rollup from history counts as one). */
  private bucketWeight = 1;
  private lastLiveMs = 0;
  /** Unix seconds up to which the last values hold (0: do not extend). */
  private holdX = 0;
  private abort: AbortController | null = null;
  private windowS = 3600;

  constructor(readonly spec: ChartSpec) {
    this.root = el('figure', 'chart');
    this.root.dataset['testid'] = `chart-${spec.id}`;
    this.root.dataset['points'] = '0';
    const caption = el('figcaption', 'chart-title', spec.unit ? `${spec.title} (${spec.unit})` : spec.title);
    this.plotEl = el('div', 'chart-plot');
    this.plotEl.setAttribute('role', 'img');
    this.plotEl.setAttribute('aria-label', `${spec.title}: loading`);
    this.statusEl = el('p', 'chart-status', 'Loading…');
    this.root.append(caption, this.plotEl, this.statusEl);
  }

  /** Loads the series for the last `seconds` and (re)draws. Stale answers are dropped. */
  async load(group: string, id: string, seconds: number): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.windowS = seconds;
    this.root.setAttribute('aria-busy', 'true');
    setText(this.statusEl, 'Loading…');
    this.statusEl.hidden = false;
    const toMs = Date.now();
    const fromMs = toMs - seconds * 1000;
    try {
      const answers = await Promise.all(
        this.spec.series.map((s) => fetchSeries(group, id, s.metric, fromMs, toMs, abort.signal)),
      );
      if (abort.signal.aborted) return;
      this.step = Math.max(0, ...answers.map((a) => a.step));
      const first = answers[0];
      if (this.hasBand() && first) {
        this.data = [first.x, first.y, first.min, first.max];
      } else {
        const tables = answers.map((a) => [a.x, a.y] as uPlot.AlignedData);
        this.data = (tables.length === 1 ? tables[0] ?? [[], []] : uPlot.join(tables)) as Column[];
      }
      this.bucketWeight = 1;
      this.lastLiveMs = 0;
      this.draw();
      this.statusEl.hidden = this.points() > 0;
      setText(this.statusEl, 'No data in this range yet.');
    } catch (err) {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) return; // the app goes back to the login page
      setText(this.statusEl, `Cannot load history: ${err instanceof Error ? err.message : String(err)}`);
      this.statusEl.hidden = false;
    } finally {
      if (this.abort === abort) this.root.removeAttribute('aria-busy');
    }
  }

  /**
   * Appends live values (metric → [ms, value]). In a bucketed range (step > 0) values within
   * the same bucket are averaged into one point, like the gateway's rollups.
   */
  pushLive(values: Map<string, { ts: number; value: number | null }>): void {
    if (!this.plot || this.data.length === 0) return;
    let tsMs = 0;
    for (const s of this.spec.series) tsMs = Math.max(tsMs, values.get(s.metric)?.ts ?? 0);
    if (tsMs <= this.lastLiveMs) return; // nothing new in this message
    this.lastLiveMs = tsMs;
    const xs = this.data[0] as number[];
    let x = tsMs / 1000;
    if (this.step > 0) x = Math.floor(x / this.step) * this.step;
    const last = xs.length > 0 ? (xs[xs.length - 1] ?? -Infinity) : -Infinity;
    if (x < last || (this.step === 0 && x === last)) return; // replayed or already have it
    const sameBucket = x === last;
    const w = sameBucket ? this.bucketWeight : 0;
    if (!sameBucket) xs.push(x);
    this.spec.series.forEach((s, i) => {
      const col = this.data[i + 1] as Column;
      const v = values.get(s.metric)?.value ?? null;
      if (!sameBucket) {
        col.push(v);
      } else if (v !== null) {
        const prev = col[col.length - 1];
        // Running average inside the live bucket.
        col[col.length - 1] = typeof prev === 'number' ? (prev * w + v) / (w + 1) : v;
      }
    });
    if (this.hasBand()) {
      const v = values.get(this.spec.series[0]?.metric ?? '')?.value ?? null;
      const [min, max] = [this.data[2] as Column, this.data[3] as Column];
      if (!sameBucket) {
        min.push(v);
        max.push(v);
      } else if (v !== null) {
        const [lo, hi] = [min[min.length - 1], max[max.length - 1]];
        min[min.length - 1] = typeof lo === 'number' ? Math.min(lo, v) : v;
        max[max.length - 1] = typeof hi === 'number' ? Math.max(hi, v) : v;
      }
    }
    this.bucketWeight = w + 1;
    this.trim();
    this.draw();
    if (this.points() > 0) this.statusEl.hidden = true;
  }

  /** The node was last heard from at `tsMs` (0 when offline): values hold until then. */
  setHold(tsMs: number): void {
    const x = this.spec.hold ? tsMs / 1000 : 0;
    if (x === this.holdX) return;
    this.holdX = x;
    if (this.plot) this.draw();
  }

  /** Slides the time window to end now (called once a second). */
  tick(): void {
    if (!this.plot) return;
    const now = Date.now() / 1000;
    this.plot.setScale('x', { min: now - this.windowS, max: now });
  }

  resize(width: number): void {
    if (this.plot && width > 0) this.plot.setSize({ width, height: this.height() });
  }

  destroy(): void {
    this.abort?.abort();
    this.plot?.destroy();
    this.plot = null;
  }

  /** Non-null values of the first series. */
  points(): number {
    const col = this.data[1] ?? [];
    let n = 0;
    for (const v of col) if (typeof v === 'number') n++;
    return n;
  }

  private hasBand(): boolean {
    return this.spec.band === true && this.spec.series.length === 1;
  }

  private height(): number {
    return window.matchMedia('(max-width: 520px)').matches ? 160 : 200;
  }

  private trim(): void {
    const xs = this.data[0] as number[];
    const from = Date.now() / 1000 - this.windowS - Math.max(this.step, 1);
    let cut = 0;
    while (cut < xs.length && (xs[cut] ?? 0) < from) cut++;
    if (cut > 0) for (const col of this.data) col.splice(0, cut);
  }

  /** The data as drawn: with the held values appended at holdX (see ChartSpec.hold). */
  private drawnData(): uPlot.AlignedData {
    const xs = this.data[0] ?? [];
    const lastX = xs.length > 0 ? (xs[xs.length - 1] ?? 0) : 0;
    if (this.holdX <= lastX || xs.length === 0) return this.data as uPlot.AlignedData;
    return this.data.map((col, i) => {
      if (i === 0) return [...col, this.holdX];
      let last: number | null = null;
      for (let j = col.length - 1; j >= 0 && last === null; j--) {
        const v = col[j];
        if (typeof v === 'number') last = v;
      }
      return [...col, last];
    }) as uPlot.AlignedData;
  }

  private draw(): void {
    const data = this.drawnData();
    if (!this.plot) {
      const text = css('--text', '#111827');
      const grid = css('--border', '#e5e7eb');
      const unit = this.spec.unit;
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      const opts: uPlot.Options = {
        width: Math.max(200, this.plotEl.clientWidth || this.root.clientWidth || 600),
        height: this.height(),
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [Date.now() / 1000 - this.windowS, Date.now() / 1000] },
          y: this.spec.yRange
            ? { range: this.spec.yRange }
            : { range: (_u, min, max) => [Math.min(0, min ?? 0), max === null || max <= 0 ? 1 : max * 1.1] },
        },
        axes: [
          { ...axis, space: 90 },
          {
            ...axis,
            // Wide enough for the longest tick label (the unit is in the caption).
            size: (_u, values) => 24 + 8 * Math.max(2, ...(values ?? []).map((v) => v.length)),
          },
        ],
        series: [
          {},
          ...this.spec.series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length] ?? '#2563eb',
            width: 1.5,
            spanGaps: this.spec.hold === true,
            // A line needs two points: mark the values while there are only one or two in view.
            points: { show: (u: uPlot, si: number, i0: number, i1: number) => sparse(u.data[si], i0, i1), size: 6 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${formatAxis(unit, v)} ${unit}`),
            ...(this.spec.series.length === 1 && !this.hasBand() ? { fill: `${PALETTE[0]}22` } : {}),
          })),
          ...(this.hasBand()
            ? ['min', 'max'].map((label) => ({
                label,
                stroke: `${PALETTE[0]}55`,
                width: 1,
                spanGaps: this.spec.hold === true,
                points: { show: false },
                value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${formatAxis(unit, v)} ${unit}`),
              }))
            : []),
        ],
        ...(this.hasBand() ? { bands: [{ series: [3, 2] as [number, number], fill: `${PALETTE[0]}26` }] } : {}),
      };
      this.plot = new uPlot(opts, data, this.plotEl);
    } else {
      this.plot.setData(data); // rescales y; x follows its range function (the window ending now)
    }
    const points = this.points();
    this.root.dataset['points'] = String(points);
    const col = this.data[1] ?? [];
    let latest: number | null = null;
    for (let i = col.length - 1; i >= 0 && latest === null; i--) {
      const v = col[i];
      if (typeof v === 'number') latest = v;
    }
    this.plotEl.setAttribute(
      'aria-label',
      `${this.spec.title}, ${points} points` +
        (latest === null ? '' : `, latest ${formatAxis(this.spec.unit, latest)} ${this.spec.unit}`),
    );
  }
}
