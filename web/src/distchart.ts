// A SmokePing-style latency distribution chart: per bucket the p10–p90 band, the p25–p75 band
// and the median line, from the quantile columns of /api/history (minute or hour rollups of a
// ms series). Buckets with loss are marked by the median's colour (green none, amber some, red
// all lost), as SmokePing does.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, apiFetch } from './api';
import { el, setText } from './dom';
import { formatRtt } from './format';

type Col = (number | null)[];

function css(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const value = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The columns of one /api/history answer by name (missing columns are empty). */
export async function fetchHistory(
  node: string,
  metric: string,
  fromMs: number,
  toMs: number,
  step: number | null,
  signal?: AbortSignal,
): Promise<{ step: number; col: (name: string) => Col; x: number[] }> {
  const q = new URLSearchParams({ node, metric, from: String(Math.floor(fromMs)), to: String(Math.ceil(toMs)) });
  if (step !== null) q.set('step', String(step));
  const body = await apiFetch<Record<string, unknown>>(`api/history?${q.toString()}`, signal ? { signal } : {});
  const columns = Array.isArray(body['columns']) ? (body['columns'] as unknown[]) : [];
  const data = Array.isArray(body['data']) ? (body['data'] as unknown[]) : [];
  const raw = (name: string): unknown[] => {
    const c = data[columns.indexOf(name)];
    return Array.isArray(c) ? (c as unknown[]) : [];
  };
  const times = raw('time');
  const keep: number[] = [];
  const x: number[] = [];
  times.forEach((t, i) => {
    if (typeof t === 'number' && Number.isFinite(t)) {
      keep.push(i);
      x.push(t);
    }
  });
  const cache = new Map<string, Col>();
  return {
    step: typeof body['step'] === 'number' ? body['step'] : 0,
    x,
    col: (name: string) => {
      let c = cache.get(name);
      if (!c) {
        const r = raw(name);
        c = keep.map((i) => value(r[i]));
        cache.set(name, c);
      }
      return c;
    },
  };
}

/** Bucket for a range: minutes up to 24 h, hours beyond (quantiles exist only in rollups). */
export function distributionStep(seconds: number): number {
  return seconds <= 24 * 3600 ? 60 : 3600;
}

export class DistributionChart {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private plot: uPlot | null = null;
  private abort: AbortController | null = null;
  private windowS = 3600;
  private data: Col[] = [];

  constructor() {
    this.root = el('figure', 'chart');
    this.root.dataset['testid'] = 'target-distribution-chart';
    this.root.dataset['points'] = '0';
    const caption = el('figcaption', 'chart-title', 'Latency distribution (ms): p10–p90, p25–p75, median');
    this.plotEl = el('div', 'chart-plot');
    this.plotEl.setAttribute('role', 'img');
    this.plotEl.setAttribute('aria-label', 'Latency distribution: loading');
    this.statusEl = el('p', 'chart-status', 'Loading…');
    this.root.append(caption, this.plotEl, this.statusEl);
  }

  async load(node: string, rttMetric: string, lossMetric: string, seconds: number): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.windowS = seconds;
    const toMs = Date.now();
    const fromMs = toMs - seconds * 1000;
    const step = distributionStep(seconds);
    try {
      const [rtt, loss] = await Promise.all([
        fetchHistory(node, rttMetric, fromMs, toMs, step, abort.signal),
        fetchHistory(node, lossMetric, fromMs, toMs, step, abort.signal).catch(() => null),
      ]);
      if (abort.signal.aborted) return;
      const lossByX = new Map<number, number | null>();
      if (loss) loss.x.forEach((t, i) => lossByX.set(t, loss.col('avg')[i] ?? null));
      const p50 = rtt.col('p50');
      // The median split in three series by the bucket's loss: SmokePing's colour code.
      const none: Col = [];
      const some: Col = [];
      const all: Col = [];
      rtt.x.forEach((t, i) => {
        const l = lossByX.get(t) ?? 0;
        const v = p50[i] ?? null;
        none.push(l !== null && l > 0 ? null : v);
        some.push(l !== null && l > 0 && l < 100 ? v : null);
        all.push(l !== null && l >= 100 ? v : null);
      });
      this.data = [rtt.x, rtt.col('p10'), rtt.col('p25'), rtt.col('p75'), rtt.col('p90'), none, some, all];
      this.draw();
      const points = this.points();
      this.statusEl.hidden = points > 0;
      setText(
        this.statusEl,
        'No distribution yet: quantiles come from the per-minute rollups, which appear a minute or two after the samples.',
      );
    } catch (err) {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) return;
      setText(this.statusEl, `Cannot load history: ${err instanceof Error ? err.message : String(err)}`);
      this.statusEl.hidden = false;
    }
  }

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

  private points(): number {
    let n = 0;
    for (const c of this.data.slice(5)) for (const v of c) if (v !== null) n++;
    return n;
  }

  private height(): number {
    return window.matchMedia('(max-width: 520px)').matches ? 180 : 220;
  }

  private draw(): void {
    const data = this.data as uPlot.AlignedData;
    if (!this.plot) {
      const text = css('--text', '#111827');
      const grid = css('--border', '#e5e7eb');
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      const fmt = (_u: uPlot, v: number | null) => (v === null ? '—' : `${formatRtt(v)} ms`);
      const edge = (label: string): uPlot.Series => ({ label, stroke: 'transparent', width: 0, points: { show: false }, value: fmt });
      const median = (label: string, color: string): uPlot.Series => ({
        label,
        stroke: color,
        width: 2,
        points: { show: true, size: 4, fill: color, stroke: color },
        value: fmt,
      });
      const opts: uPlot.Options = {
        width: Math.max(200, this.plotEl.clientWidth || this.root.clientWidth || 600),
        height: this.height(),
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [Date.now() / 1000 - this.windowS, Date.now() / 1000] },
          y: { range: (_u, _min, max) => [0, max === null || max <= 0 ? 1 : max * 1.1] },
        },
        axes: [
          { ...axis, space: 90 },
          { ...axis, size: (_u, values) => 24 + 8 * Math.max(2, ...(values ?? []).map((v) => v.length)) },
        ],
        series: [
          {},
          edge('p10'),
          edge('p25'),
          edge('p75'),
          edge('p90'),
          median('median', '#16a34a'),
          median('median (some loss)', '#d97706'),
          median('median (all lost)', '#dc2626'),
        ],
        bands: [
          { series: [4, 1], fill: 'rgb(37 99 235 / 0.16)' },
          { series: [3, 2], fill: 'rgb(37 99 235 / 0.32)' },
        ],
      };
      this.plot = new uPlot(opts, data, this.plotEl);
    } else {
      this.plot.setData(data);
    }
    const points = this.points();
    this.root.dataset['points'] = String(points);
    this.plotEl.setAttribute('aria-label', `Latency distribution, ${points} buckets`);
  }
}
