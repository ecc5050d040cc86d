// One node card. Built once per node, then updated in place on every message: only the parts
// whose text, class or attribute actually changed are written (a live update of one node must not
// invalidate more style and layout than its own changed text).
import { el } from './dom';
import { formatAgo, formatPercent, formatRtt, formatUptime } from './format';
import { CPU_TOTAL, findMetric, pingTargets, type PingTarget } from './metrics';
import { nodeTitle, type NodeStatus } from './protocol';
import { nodeHref, targetHref } from './router';
import type { NodeEntry } from './store';

export const STATUS_ICON: Record<NodeStatus, string> = { HEALTHY: '●', DEGRADED: '▲', DOWN: '✖', UNKNOWN: '?' };

/** The card's last written value of each part; a write happens only when the new one differs. */
class Slot<T> {
  private v: T | undefined;
  private has = false;
  /** True (and remembers `v`) when `v` differs from the last value. */
  changed(v: T): boolean {
    if (this.has && this.v === v) return false;
    this.v = v;
    this.has = true;
    return true;
  }
}

function text(e: HTMLElement, slot: Slot<string>, value: string): void {
  if (slot.changed(value)) e.textContent = value;
}

interface PingView {
  li: HTMLLIElement;
  value: HTMLElement;
  rtt: HTMLElement;
  unit: HTMLElement;
  timeoutText: Text;
  shown: Slot<string>;
}

export class NodeCard {
  readonly root: HTMLElement;
  private readonly idEl = el('h2', 'node-id');
  /** The card's link to the node's detail page; its ::after covers the whole card. */
  private readonly linkEl = el('a', 'card-link');
  /** The node id under the display name (hidden when the node has no name). */
  private readonly altIdEl = el('span', 'node-alt-id');
  private readonly groupEl = el('span', 'node-group');
  private readonly statusEl = el('span', 'badge');
  private readonly cpuEl = el('span', 'cpu-value');
  private readonly cpuUnit = el('span', 'unit', '%');
  private readonly cpuBar = el('div', 'bar-fill');
  private readonly pingList = el('ul', 'pings');
  private readonly reasonEl = el('p', 'status-reason');
  private readonly uptimeEl = el('span', 'uptime-value');
  private readonly seenEl = el('p', 'last-seen');
  private lastSeen = 0;
  private readonly pings = new Map<string, PingView>();
  private pingOrder = '';
  private pingBase = '';
  // Last written values.
  private readonly sNode = new Slot<string>();
  private readonly sStatus = new Slot<NodeStatus>();
  private readonly sOnline = new Slot<boolean>();
  private readonly sTitle = new Slot<string>();
  private readonly sAltId = new Slot<string>();
  private readonly sHref = new Slot<string>();
  private readonly sGroup = new Slot<string>();
  private readonly sBadge = new Slot<string>();
  private readonly sReason = new Slot<string>();
  private readonly sUptime = new Slot<string>();
  private readonly sCpu = new Slot<string>();
  private readonly sPct = new Slot<number>();
  private readonly sAria = new Slot<string>();
  private readonly sSeen = new Slot<string>();

  constructor(entry: NodeEntry) {
    const root = el('article', 'card');
    root.dataset['testid'] = 'node-card';
    this.linkEl.dataset['testid'] = 'node-link';
    this.idEl.append(this.linkEl);
    this.altIdEl.dataset['testid'] = 'node-id';
    this.altIdEl.hidden = true;
    this.cpuEl.dataset['testid'] = 'cpu';
    this.statusEl.dataset['testid'] = 'status';
    this.seenEl.dataset['testid'] = 'last-seen';
    this.reasonEl.dataset['testid'] = 'status-reason';
    this.uptimeEl.dataset['testid'] = 'uptime-24h';

    const title = el('div', 'card-title');
    const sub = el('div', 'card-sub');
    sub.append(this.altIdEl, this.groupEl);
    title.append(this.idEl, sub);
    const head = el('header', 'card-head');
    head.append(title, this.statusEl);

    const cpuRow = el('div', 'metric-row');
    const cpuValue = el('span', 'metric-value');
    cpuValue.append(this.cpuEl, this.cpuUnit);
    cpuRow.append(el('span', 'metric-label', 'CPU'), cpuValue);
    const bar = el('div', 'bar');
    bar.setAttribute('aria-hidden', 'true');
    bar.append(this.cpuBar);

    const uptimeRow = el('div', 'metric-row');
    uptimeRow.append(el('span', 'metric-label', 'Uptime 24 h'), this.uptimeEl);

    this.pingList.hidden = true;
    root.append(head, this.reasonEl, cpuRow, bar, uptimeRow, this.pingList, this.seenEl);
    this.root = root;
    this.update(entry, Date.now());
  }

  update(entry: NodeEntry, nowMs: number): void {
    const { node } = entry;
    const root = this.root;
    if (this.sNode.changed(node.id)) root.dataset['node'] = node.id;
    root.dataset['updates'] = String(entry.updates);
    if (this.sStatus.changed(node.status)) {
      root.dataset['status'] = node.status;
      for (const s of ['healthy', 'degraded', 'down', 'unknown']) {
        root.classList.toggle(`is-${s}`, node.status.toLowerCase() === s);
      }
      text(this.statusEl, this.sBadge, `${STATUS_ICON[node.status]} ${node.status}`);
    }
    if (this.sOnline.changed(node.online)) root.classList.toggle('is-offline', !node.online);

    // The display name (free text) as the title, the id below it; the id alone without a name.
    const title = nodeTitle(node);
    if (this.sTitle.changed(title)) {
      this.linkEl.textContent = title;
      this.linkEl.title = node.name !== '' ? `${node.name} (${node.id})` : node.id;
    }
    const altId = node.name !== '' ? node.id : '';
    if (this.sAltId.changed(altId)) {
      this.altIdEl.textContent = altId;
      this.altIdEl.hidden = altId === '';
    }
    const href = nodeHref(node.group, node.id);
    if (this.sHref.changed(href)) this.linkEl.setAttribute('href', href);
    if (this.sGroup.changed(node.group)) {
      this.groupEl.textContent = node.group;
      this.groupEl.title = node.group;
    }
    // Colour and an icon and a word: status never depends on colour alone.
    if (this.sReason.changed(node.status_reason)) {
      this.reasonEl.textContent = node.status_reason;
      this.reasonEl.hidden = node.status_reason === '';
    }
    text(this.uptimeEl, this.sUptime, node.uptime24h === null ? '—' : `${formatUptime(node.uptime24h)} %`);

    const cpu = findMetric(node, CPU_TOTAL)?.value;
    const hasCpu = typeof cpu === 'number';
    const cpuText = hasCpu ? formatPercent(cpu) : '—';
    if (this.sCpu.changed(cpuText)) {
      this.cpuEl.textContent = cpuText;
      this.cpuUnit.hidden = !hasCpu;
    }
    const pct = hasCpu ? Math.max(0, Math.min(100, cpu)) : 0;
    if (this.sPct.changed(pct)) {
      // A transform, not the width: the bar's transition then runs on the compositor (a width
      // transition lays the card out on every frame for 0.4 s after each update).
      this.cpuBar.style.transform = `scaleX(${pct / 100})`;
      this.cpuBar.classList.toggle('is-high', pct >= 85);
      this.cpuBar.classList.toggle('is-warn', pct >= 60 && pct < 85);
    }

    this.renderPings(entry);
    this.lastSeen = node.last_seen;
    this.tick(nowMs);

    const aria =
      `${title}${node.name !== '' ? ` (id ${node.id})` : ''}${node.group ? ` (${node.group})` : ''}: ${node.status.toLowerCase()}` +
      (node.status_reason ? ` (${node.status_reason})` : '') +
      (hasCpu ? `, CPU ${cpuText} %` : '');
    if (this.sAria.changed(aria)) this.linkEl.setAttribute('aria-label', aria);
  }

  /** Refreshes time-relative text ("last seen N s ago"). */
  tick(nowMs: number): void {
    text(this.seenEl, this.sSeen, `last seen ${formatAgo(this.lastSeen, nowMs)}`);
  }

  /** The ping rows: rebuilt only when the set of targets changes, values updated in place. */
  private renderPings(entry: NodeEntry): void {
    const targets = pingTargets(entry.node);
    const { group, id } = entry.node;
    const base = `${group}\u0000${id}`;
    const order = targets.map((t) => t.target).join('\u0000');
    if (order !== this.pingOrder || base !== this.pingBase) {
      this.pingOrder = order;
      this.pingBase = base;
      const keep = new Map<string, PingView>();
      for (const t of targets) keep.set(t.target, this.pings.get(t.target) ?? this.pingView(group, id, t.target));
      this.pings.clear();
      for (const [k, v] of keep) this.pings.set(k, v);
      this.pingList.replaceChildren(...[...keep.values()].map((v) => v.li));
      this.pingList.hidden = targets.length === 0;
    }
    for (const t of targets) this.renderPing(this.pings.get(t.target)!, t);
  }

  private pingView(group: string, id: string, target: string): PingView {
    const li = el('li', 'ping');
    li.dataset['testid'] = 'ping';
    // A real link above the card's full-size link: the target's own page. Long labels are cut
    // with an ellipsis (style.css); the full text is in the title.
    const label = el('a', 'metric-label ping-target', `ping ${target}`);
    label.href = targetHref(group, id, 'ping', target);
    label.title = `ping ${target}: latency, loss and uptime`;
    label.dataset['testid'] = 'target-link';
    label.dataset['target'] = target;
    const value = el('span', 'metric-value');
    const rtt = el('span', 'ping-rtt');
    const unit = el('span', 'unit', 'ms');
    li.append(label, value);
    return { li, value, rtt, unit, timeoutText: document.createTextNode('timeout'), shown: new Slot<string>() };
  }

  private renderPing(v: PingView, t: PingTarget): void {
    const timeout = t.rttMs === null || t.rttMs === undefined;
    const shown = timeout ? '' : formatRtt(t.rttMs as number);
    if (!v.shown.changed(timeout ? '\u0000timeout' : shown)) return;
    v.li.classList.toggle('is-timeout', timeout);
    if (timeout) {
      if (v.value.firstChild !== v.timeoutText || v.value.childNodes.length !== 1) v.value.replaceChildren(v.timeoutText);
    } else {
      v.rtt.textContent = shown;
      if (v.value.firstChild !== v.rtt) v.value.replaceChildren(v.rtt, v.unit);
    }
  }
}
