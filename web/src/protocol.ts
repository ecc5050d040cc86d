// The gateway → dashboard WebSocket contract (JSON text frames on /ws).
//
//   {"type":"snapshot","seq":1,"nodes":[Node,...]}   first message after connecting
//   {"type":"node","seq":N,"node":Node}              whenever a node changes; seq += 1 per message
//
// Unknown message types and unknown fields are ignored. Everything here is device-supplied data:
// it is validated structurally and must only ever reach the DOM through textContent.

export interface Metric {
  name: string;
  /** null = no value (e.g. a ping without reply). */
  value: number | null;
  unit: string;
  /** ms since the epoch; 0 when the gateway did not send one. */
  ts: number;
  /** true when the value is from a session that has ended (after an NDEATH). */
  stale: boolean;
  /** A String/Text metric's value (value is then null). */
  text?: string;
}

/** Uptime % per window; null when nothing was counted. */
export interface Uptime {
  h1: number | null;
  h24: number | null;
  d7: number | null;
  d30: number | null;
}

/** The gateway's rolling view of one probed target (`targets` in a node message). */
export interface TargetInfo {
  family: string;
  target: string;
  active: boolean;
  /** 0 unknown, 1 up, 2 degraded, 3 down. */
  state: number | null;
  loss_pct: number | null;
  rtt_avg: number | null;
  rtt_min: number | null;
  rtt_max: number | null;
  uptime: Uptime;
}

/** The gateway's aggregated health of a node (docs/protocol.md). */
export type NodeStatus = 'HEALTHY' | 'DEGRADED' | 'DOWN' | 'UNKNOWN';

export interface FleetNode {
  group: string;
  id: string;
  online: boolean;
  status: NodeStatus;
  /** Why the node is not HEALTHY ("target 10.0.0.1 down"); '' when healthy. */
  status_reason: string;
  /** Uptime % over the last 24 h; null when nothing was counted. */
  uptime24h: number | null;
  uptime: Uptime;
  targets: TargetInfo[];
  /** ms since the epoch; 0 when unknown. */
  last_seen: number;
  metrics: Metric[];
}

export type ServerMessage =
  | { type: 'snapshot'; seq: number; nodes: FleetNode[] }
  | { type: 'node'; seq: number; node: FleetNode };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function parseMetric(v: unknown): Metric | null {
  if (!isObject(v) || typeof v['name'] !== 'string') return null;
  const value = v['value'];
  const metric: Metric = {
    name: v['name'],
    value: numberOrNull(value),
    unit: typeof v['unit'] === 'string' ? v['unit'] : '',
    ts: finiteOr(v['ts'], 0),
    stale: v['stale'] === true,
  };
  if (typeof value === 'string') metric.text = value;
  else if (typeof value === 'boolean') metric.value = value ? 1 : 0;
  return metric;
}

function parseUptime(v: unknown): Uptime {
  const u = isObject(v) ? v : {};
  return { h1: numberOrNull(u['1h']), h24: numberOrNull(u['24h']), d7: numberOrNull(u['7d']), d30: numberOrNull(u['30d']) };
}

function parseTarget(v: unknown): TargetInfo | null {
  if (!isObject(v) || typeof v['target'] !== 'string') return null;
  return {
    family: typeof v['family'] === 'string' ? v['family'] : '',
    target: v['target'],
    active: v['active'] !== false,
    state: numberOrNull(v['state']),
    loss_pct: numberOrNull(v['loss_pct']),
    rtt_avg: numberOrNull(v['rtt_avg']),
    rtt_min: numberOrNull(v['rtt_min']),
    rtt_max: numberOrNull(v['rtt_max']),
    uptime: parseUptime(v['uptime']),
  };
}

const STATUSES: readonly NodeStatus[] = ['HEALTHY', 'DEGRADED', 'DOWN', 'UNKNOWN'];

function parseStatus(v: unknown, online: boolean): NodeStatus {
  if (typeof v === 'string' && (STATUSES as readonly string[]).includes(v)) return v as NodeStatus;
  return online ? 'HEALTHY' : 'DOWN';  // a gateway without aggregation
}

export function parseNode(v: unknown): FleetNode | null {
  if (!isObject(v) || typeof v['id'] !== 'string' || v['id'] === '') return null;
  const metrics: Metric[] = [];
  if (Array.isArray(v['metrics'])) {
    for (const m of v['metrics']) {
      const metric = parseMetric(m);
      if (metric) metrics.push(metric);
    }
  }
  const targets: TargetInfo[] = [];
  if (Array.isArray(v['targets'])) {
    for (const t of v['targets']) {
      const target = parseTarget(t);
      if (target) targets.push(target);
    }
  }
  const online = v['online'] === true;
  const uptime = parseUptime(v['uptime']);
  return {
    group: typeof v['group'] === 'string' ? v['group'] : '',
    id: v['id'],
    online,
    status: parseStatus(v['status'], online),
    status_reason: typeof v['status_reason'] === 'string' ? v['status_reason'] : '',
    uptime24h: uptime.h24,
    uptime,
    targets,
    last_seen: finiteOr(v['last_seen'], 0),
    metrics,
  };
}

/** Parses one text frame; returns null for malformed or unknown messages. */
export function parseMessage(text: string): ServerMessage | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(msg)) return null;
  const seq = finiteOr(msg['seq'], 0);
  switch (msg['type']) {
    case 'snapshot': {
      if (!Array.isArray(msg['nodes'])) return null;
      const nodes: FleetNode[] = [];
      for (const n of msg['nodes']) {
        const node = parseNode(n);
        if (node) nodes.push(node);
      }
      return { type: 'snapshot', seq, nodes };
    }
    case 'node': {
      const node = parseNode(msg['node']);
      return node ? { type: 'node', seq, node } : null;
    }
    default:
      return null;
  }
}

/** Stable identity of a node across messages (ids are unique per group). */
export function nodeKey(n: Pick<FleetNode, 'group' | 'id'>): string {
  return `${n.group}\u0000${n.id}`;
}
