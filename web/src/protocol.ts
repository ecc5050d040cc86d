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

function parseMetric(v: unknown): Metric | null {
  if (!isObject(v) || typeof v['name'] !== 'string') return null;
  const value = v['value'];
  return {
    name: v['name'],
    value: typeof value === 'number' && Number.isFinite(value) ? value : null,
    unit: typeof v['unit'] === 'string' ? v['unit'] : '',
    ts: finiteOr(v['ts'], 0),
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
  const online = v['online'] === true;
  const uptime = isObject(v['uptime']) ? v['uptime']['24h'] : null;
  return {
    group: typeof v['group'] === 'string' ? v['group'] : '',
    id: v['id'],
    online,
    status: parseStatus(v['status'], online),
    status_reason: typeof v['status_reason'] === 'string' ? v['status_reason'] : '',
    uptime24h: typeof uptime === 'number' && Number.isFinite(uptime) ? uptime : null,
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
