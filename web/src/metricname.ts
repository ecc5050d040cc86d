// How a metric name splits into family, target and leaf: the dashboard's one copy of the rules of
// common/include/edgemon/common/metric_key.h (parse_metric_name, probe_metric_name), driven by the
// table generated from the C++ (./generated/contract.ts). Nothing else in the dashboard takes a
// metric name apart by hand.
//
//   probe families  "<family>/<target>/<leaf>"   ping, tcp, http, grpc, dns, tls (PROBE_FAMILIES)
//                   The target is one segment (no '/'); the leaf is the rest. Fewer than three
//                   segments, or an empty target or leaf: not a probe metric (family 'board').
//   agent           "agent/<leaf>"               the agent's own metrics ("agent/sample_seq")
//   board           anything else                sensors: "cpu/total", "disk/root/used" ...
import { PROBE_FAMILIES, type FamilyName } from './generated/contract';

export { PROBE_FAMILIES, type FamilyName } from './generated/contract';

export interface MetricName {
  family: FamilyName;
  /** Probe families: the target ("10.0.0.1"); otherwise ''. */
  target: string;
  /** Probe: "rtt"; agent: "sample_seq"; board: the whole name. */
  leaf: string;
  /** True for the probe families ("<family>/<target>/<leaf>"). */
  probe: boolean;
}

const BOARD: FamilyName = 'board';
const AGENT: FamilyName = 'agent';
const PROBES: ReadonlySet<string> = new Set(PROBE_FAMILIES);

/** True when `name` names a probe family ("ping" … "tls"). */
export function isProbeFamily(name: string): name is FamilyName {
  return PROBES.has(name);
}

/** The probe family named `name` ("ping" → 'ping'); null for anything else (C++ probe_family_from). */
export function probeFamily(name: string): FamilyName | null {
  return isProbeFamily(name) ? name : null;
}

/** Splits a metric name as the gateway does (C++ parse_metric_name). */
export function parseMetricName(name: string): MetricName {
  const board: MetricName = { family: BOARD, target: '', leaf: name, probe: false };
  const a = name.indexOf('/');
  if (a < 0) return board;
  const first = name.slice(0, a);
  if (first === AGENT) return { family: AGENT, target: '', leaf: name.slice(a + 1), probe: false };
  const family = probeFamily(first);
  if (family === null) return board;
  const b = name.indexOf('/', a + 1);
  if (b < 0 || b === a + 1 || b + 1 >= name.length) return board; // no target or no leaf
  return { family, target: name.slice(a + 1, b), leaf: name.slice(b + 1), probe: true };
}

/** The probe family and target a metric belongs to; null when it is not a probe metric. */
export function probeTargetOf(name: string): { family: FamilyName; target: string } | null {
  const p = parseMetricName(name);
  return p.probe ? { family: p.family, target: p.target } : null;
}

/** True when `target` can be a probe metric's target: one non-empty segment (no '/'). */
export function isProbeTarget(target: string): boolean {
  return target !== '' && !target.includes('/');
}

/** "<family>/<target>/<leaf>" (C++ probe_metric_name). */
export function probeMetricName(family: FamilyName, target: string, leaf: string): string {
  return `${family}/${target}/${leaf}`;
}
