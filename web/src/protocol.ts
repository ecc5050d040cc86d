// The gateway → dashboard WebSocket contract (JSON text frames on /ws).
//
//   {"type":"snapshot","seq":1,"nodes":[Node,...]}   first message after connecting
//   {"type":"node","seq":N,"node":Node}              whenever a node changes; seq += 1 per message
//   {"type":"detail","node":Node}                    a watched node in full (no seq)
//
// The dashboard connects with ?view=card: every node comes as its card (the overview's metrics,
// "view":"card") except the nodes it watches ({"type":"watch","nodes":["<group>/<id>"]}: the one a
// node or target page shows), which come in full (docs/protocol.md, "Views").
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
  /**
   * The display name (the string metric `agent/name`, docs/config.md `agent.name`); '' when the
   * agent has none. Free device-supplied text: textContent and attributes only.
   */
  name: string;
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
  /** A card ("view":"card"): only the overview's metrics and no targets; watch it for the rest. */
  partial: boolean;
}

/** One firing alert (`alerts` message data, GET /api/alerts). */
export interface Alert {
  /** `<group>/<node>` or `<group>/<node>/<metric>`. */
  subject: string;
  rule: string;
  type: string;
  /** `<group>/<node>`. */
  node: string;
  metric: string;
  severity: string;
  /** ms since the epoch. */
  since: number;
  reason: string;
  value: number | null;
  /** A silence or maintenance window covers it now (nobody is notified). */
  suppressed: boolean;
}

export type ServerMessage =
  /** `epoch` identifies the gateway run ('' from a gateway without resume). */
  | { type: 'snapshot'; seq: number; epoch: string; nodes: FleetNode[] }
  | { type: 'node'; seq: number; node: FleetNode }
  /** A watched node in full, outside the sequence (after a watch, a snapshot or a resume). */
  | { type: 'detail'; node: FleetNode }
  | { type: 'alerts'; seq: number; alerts: Alert[] }
  /** The gateway replays the frames after `since` next (docs/protocol.md, Resume). */
  | { type: 'resumed'; seq: number; since: number; epoch: string };

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

/** The metric an agent publishes its display name in (docs/protocol.md). */
export const NAME_METRIC = 'agent/name';
const NAME_MAX = 128;

/** `agent/name` without control characters, trimmed, at most 128 UTF-16 units; '' when absent. */
function displayNameOf(metrics: readonly Metric[]): string {
  const m = metrics.find((x) => x.name === NAME_METRIC);
  if (!m || typeof m.text !== 'string') return '';
  return m.text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim().slice(0, NAME_MAX);
}

/** What to call a node: its display name, or its id when it has none. */
export function nodeTitle(n: Pick<FleetNode, 'id' | 'name'>): string {
  return n.name !== '' ? n.name : n.id;
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
    name: displayNameOf(metrics),
    online,
    status: parseStatus(v['status'], online),
    status_reason: typeof v['status_reason'] === 'string' ? v['status_reason'] : '',
    uptime24h: uptime.h24,
    uptime,
    targets,
    last_seen: finiteOr(v['last_seen'], 0),
    metrics,
    partial: v['view'] === 'card',
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function parseAlert(v: unknown): Alert | null {
  if (!isObject(v) || typeof v['subject'] !== 'string') return null;
  return {
    subject: v['subject'],
    rule: str(v['rule']),
    type: str(v['type']),
    node: str(v['node']),
    metric: str(v['metric']),
    severity: str(v['severity']),
    since: finiteOr(v['since'], 0),
    reason: str(v['reason']),
    value: numberOrNull(v['value']),
    suppressed: v['suppressed'] === true,
  };
}

export function parseAlerts(v: unknown): Alert[] {
  const out: Alert[] = [];
  if (Array.isArray(v)) {
    for (const a of v) {
      const alert = parseAlert(a);
      if (alert) out.push(alert);
    }
  }
  return out;
}

function epochOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
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
      return { type: 'snapshot', seq, epoch: epochOf(msg['epoch']), nodes };
    }
    case 'node': {
      const node = parseNode(msg['node']);
      return node ? { type: 'node', seq, node } : null;
    }
    case 'detail': {
      const node = parseNode(msg['node']);
      return node ? { type: 'detail', node } : null;
    }
    case 'alerts':
      return Array.isArray(msg['data']) ? { type: 'alerts', seq, alerts: parseAlerts(msg['data']) } : null;
    case 'resumed':
      return { type: 'resumed', seq, since: finiteOr(msg['since'], 0), epoch: epochOf(msg['epoch']) };
    default:
      return null;
  }
}

/** Stable identity of a node across messages (ids are unique per group). */
export function nodeKey(n: Pick<FleetNode, 'group' | 'id'>): string {
  return `${n.group}\u0000${n.id}`;
}

/** The gateway's name of a node ("<group>/<id>"), as a watch message carries it. */
export function gatewayNodeKey(group: string, id: string): string {
  return `${group}/${id}`;
}
