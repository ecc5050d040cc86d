// Rendering of alerts, shared by the overview's strip and the alerts page. Every string in an
// alert comes from rules and devices: textContent and attributes only.
import { el } from './dom';
import { formatAgo } from './format';
import { probeTargetOf, type FamilyName } from './metricname';
import type { Alert } from './protocol';
import { nodeHref, targetHref } from './router';

/** "<group>/<node>" → [group, node] (Sparkplug ids contain no '/'; the group is before the first). */
export function splitNode(node: string): [string, string] {
  const slash = node.indexOf('/');
  return slash < 0 ? ['', node] : [node.slice(0, slash), node.slice(slash + 1)];
}

/**
 * The probed target a metric belongs to ("ping/10.0.0.1/rtt" → ["ping", "10.0.0.1"]), as the
 * gateway's rules::target_of() splits it (every probe family of the contract, see metricname.ts).
 */
export function metricTarget(metric: string): [FamilyName, string] | null {
  const t = probeTargetOf(metric);
  return t ? [t.family, t.target] : null;
}

const SEVERITY_ICON: Record<string, string> = { critical: '✖', warning: '▲', info: 'ℹ' };

export function severityClass(severity: string): string {
  const s = severity.toLowerCase();
  return s === 'critical' || s === 'warning' || s === 'info' ? `sev-${s}` : 'sev-other';
}

/** A severity pill: icon + word, colour only as a hint. */
export function severityBadge(severity: string): HTMLElement {
  const s = severity.toLowerCase();
  const b = el('span', `sev ${severityClass(severity)}`, `${SEVERITY_ICON[s] ?? '●'} ${severity || 'unknown'}`);
  b.dataset['testid'] = 'severity';
  return b;
}

/** Link to the page best showing an alert's subject: the target's page or the node's. */
export function alertHref(a: Pick<Alert, 'node' | 'metric'>): string {
  const [group, node] = splitNode(a.node);
  const t = metricTarget(a.metric);
  return t ? targetHref(group, node, t[0], t[1]) : nodeHref(group, node);
}

/**
 * One alert as a list item (data-testid="active-alert"); `since` refreshed by updateAgo().
 * `nodeName`: the node's display name (free text from the device), shown as the link's text with
 * `<group>/<node>` after it; '' = the node as `<group>/<node>` only.
 */
export function alertItem(a: Alert, nowMs: number, silenced = false, nodeName = ''): HTMLLIElement {
  const li = el('li', `alert-item ${severityClass(a.severity)}`);
  li.dataset['testid'] = 'active-alert';
  li.dataset['node'] = a.node;
  li.dataset['subject'] = a.subject;
  li.dataset['type'] = a.type;
  li.dataset['severity'] = a.severity;
  li.dataset['silenced'] = String(silenced);
  li.classList.toggle('is-silenced', silenced);
  const head = el('div', 'alert-head');
  const link = el('a', 'alert-node', nodeName || a.node || a.subject);
  link.href = alertHref(a);
  link.dataset['testid'] = 'alert-node';
  if (nodeName) link.title = `${nodeName} (${a.node})`;
  const type = el('span', 'alert-type', a.type || a.rule);
  type.dataset['testid'] = 'alert-type';
  head.append(severityBadge(a.severity), link);
  if (nodeName && a.node) {
    const id = el('span', 'alert-node-id', a.node);
    id.dataset['testid'] = 'alert-node-id';
    head.append(id);
  }
  head.append(type);
  if (silenced) {
    const s = el('span', 'pill silenced-pill', 'silenced');
    s.dataset['testid'] = 'silenced';
    head.append(s);
  }
  const since = el('time', 'alert-since', `since ${formatAgo(a.since, nowMs)}`);
  since.dataset['since'] = String(a.since);
  since.dateTime = new Date(a.since).toISOString();
  since.title = new Date(a.since).toLocaleString();
  head.append(since);
  const reason = el('p', 'alert-reason', a.reason);
  reason.dataset['testid'] = 'alert-reason';
  if (a.metric && a.subject !== a.node) {
    const metric = el('span', 'alert-metric', a.metric);
    reason.prepend(metric, document.createTextNode(' '));
  }
  li.append(head, reason);
  return li;
}

/** Refreshes the "since N ago" texts below `root`. */
export function updateAgo(root: ParentNode, nowMs: number): void {
  for (const t of root.querySelectorAll<HTMLElement>('time[data-since]')) {
    const since = Number(t.dataset['since']);
    const text = `since ${formatAgo(since, nowMs)}`;
    if (t.textContent !== text) t.textContent = text;
  }
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Most severe first, then oldest first. */
export function compareAlerts(a: Alert, b: Alert): number {
  const sa = SEVERITY_ORDER[a.severity.toLowerCase()] ?? 3;
  const sb = SEVERITY_ORDER[b.severity.toLowerCase()] ?? 3;
  return sa - sb || a.since - b.since || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0);
}
