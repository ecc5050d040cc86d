// Interpretation of well-known metric names.
import { parseMetricName } from './metricname';
import type { FleetNode, Metric } from './protocol';

export const CPU_TOTAL = 'cpu/total';

export interface PingTarget {
  target: string;
  /** undefined = no rtt metric; null = no reply (timeout). */
  rttMs: number | null | undefined;
  /** ping/<target>/up, when present. */
  up: boolean | undefined;
}

export function findMetric(node: FleetNode, name: string): Metric | undefined {
  return node.metrics.find((m) => m.name === name);
}

/** Collects ping/<target>/rtt and ping/<target>/up into one entry per target, sorted by target. */
export function pingTargets(node: FleetNode): PingTarget[] {
  const byTarget = new Map<string, PingTarget>();
  for (const m of node.metrics) {
    const { family, target, leaf } = parseMetricName(m.name);
    if (family !== 'ping' || (leaf !== 'rtt' && leaf !== 'up')) continue;
    let entry = byTarget.get(target);
    if (!entry) {
      entry = { target, rttMs: undefined, up: undefined };
      byTarget.set(target, entry);
    }
    if (leaf === 'rtt') entry.rttMs = m.value;
    else entry.up = m.value === null ? undefined : m.value > 0;
  }
  return [...byTarget.values()]
    .filter((t) => t.rttMs !== undefined)
    .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
