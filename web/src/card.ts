// One node card. Built once per node, then updated in place on every message.
import { el, setText } from './dom';
import { formatAgo, formatPercent, formatRtt, formatUptime } from './format';
import { CPU_TOTAL, findMetric, pingTargets } from './metrics';
import type { NodeStatus } from './protocol';
import { nodeHref } from './router';
import type { NodeEntry } from './store';

export const STATUS_ICON: Record<NodeStatus, string> = { HEALTHY: '●', DEGRADED: '▲', DOWN: '✖', UNKNOWN: '?' };

export class NodeCard {
  readonly root: HTMLElement;
  private readonly idEl = el('h2', 'node-id');
  /** The card's link to the node's detail page; its ::after covers the whole card. */
  private readonly linkEl = el('a', 'card-link');
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
  private pingSignature = '';

  constructor(entry: NodeEntry) {
    const root = el('article', 'card');
    root.dataset['testid'] = 'node-card';
    this.linkEl.dataset['testid'] = 'node-link';
    this.idEl.append(this.linkEl);
    this.cpuEl.dataset['testid'] = 'cpu';
    this.statusEl.dataset['testid'] = 'status';
    this.seenEl.dataset['testid'] = 'last-seen';
    this.reasonEl.dataset['testid'] = 'status-reason';
    this.uptimeEl.dataset['testid'] = 'uptime-24h';

    const title = el('div', 'card-title');
    title.append(this.idEl, this.groupEl);
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

    root.append(head, this.reasonEl, cpuRow, bar, uptimeRow, this.pingList, this.seenEl);
    this.root = root;
    this.update(entry, Date.now());
  }

  update(entry: NodeEntry, nowMs: number): void {
    const { node } = entry;
    const root = this.root;
    root.dataset['node'] = node.id;
    root.dataset['updates'] = String(entry.updates);
    root.dataset['status'] = node.status;
    for (const s of ['healthy', 'degraded', 'down', 'unknown']) {
      root.classList.toggle(`is-${s}`, node.status.toLowerCase() === s);
    }
    root.classList.toggle('is-offline', !node.online);
    setText(this.linkEl, node.id);
    const href = nodeHref(node.group, node.id);
    if (this.linkEl.getAttribute('href') !== href) this.linkEl.setAttribute('href', href);
    setText(this.groupEl, node.group);
    // Colour and an icon and a word: status never depends on colour alone.
    setText(this.statusEl, `${STATUS_ICON[node.status]} ${node.status}`);
    setText(this.reasonEl, node.status_reason);
    this.reasonEl.hidden = node.status_reason === '';
    setText(this.uptimeEl, node.uptime24h === null ? '—' : `${formatUptime(node.uptime24h)} %`);

    const cpu = findMetric(node, CPU_TOTAL)?.value;
    const hasCpu = typeof cpu === 'number';
    setText(this.cpuEl, hasCpu ? formatPercent(cpu) : '—');
    this.cpuUnit.hidden = !hasCpu;
    const pct = hasCpu ? Math.max(0, Math.min(100, cpu)) : 0;
    this.cpuBar.style.width = `${pct}%`;
    this.cpuBar.classList.toggle('is-high', pct >= 85);
    this.cpuBar.classList.toggle('is-warn', pct >= 60 && pct < 85);

    this.renderPings(entry);
    this.lastSeen = node.last_seen;
    this.tick(nowMs);

    this.linkEl.setAttribute(
      'aria-label',
      `${node.id}${node.group ? ` (${node.group})` : ''}: ${node.status.toLowerCase()}` +
        (node.status_reason ? ` (${node.status_reason})` : '') +
        (hasCpu ? `, CPU ${formatPercent(cpu)} %` : ''),
    );
  }

  /** Refreshes time-relative text ("last seen N s ago"). */
  tick(nowMs: number): void {
    setText(this.seenEl, `last seen ${formatAgo(this.lastSeen, nowMs)}`);
  }

  private renderPings(entry: NodeEntry): void {
    const targets = pingTargets(entry.node);
    const signature = JSON.stringify(targets);
    if (signature === this.pingSignature) return;
    this.pingSignature = signature;
    const items = targets.map((t) => {
      const li = el('li', 'ping');
      li.dataset['testid'] = 'ping';
      const timeout = t.rttMs === null || t.rttMs === undefined;
      li.classList.toggle('is-timeout', timeout);
      const value = el('span', 'metric-value');
      if (timeout) {
        value.textContent = 'timeout';
      } else {
        value.append(el('span', 'ping-rtt', formatRtt(t.rttMs as number)), el('span', 'unit', 'ms'));
      }
      const label = el('span', 'metric-label ping-target', `ping ${t.target}`);
      label.title = t.target;
      li.append(label, value);
      return li;
    });
    this.pingList.replaceChildren(...items);
    this.pingList.hidden = items.length === 0;
  }
}
