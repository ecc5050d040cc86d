// The page: header (connection state, counts) and the grid of node cards.
import { NodeCard } from './card';
import type { ConnState } from './connection';
import { byId, setText } from './dom';
import type { NodeEntry, StoreListener } from './store';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareEntries(a: NodeEntry, b: NodeEntry): number {
  return collator.compare(a.node.group, b.node.group) || collator.compare(a.node.id, b.node.id);
}

export class DashboardView implements StoreListener {
  private readonly grid = byId('grid');
  private readonly empty = byId('empty');
  private readonly connEl = byId('conn-state');
  private readonly healthyEl = byId('count-healthy');
  private readonly degradedEl = byId('count-degraded');
  private readonly downEl = byId('count-down');
  private readonly totalEl = byId('count-total');
  private readonly cards = new Map<string, { card: NodeCard; entry: NodeEntry }>();
  private conn: ConnState = { kind: 'connecting' };

  upsert(entry: NodeEntry): void {
    const existing = this.cards.get(entry.key);
    if (existing) {
      existing.entry = entry;
      existing.card.update(entry, Date.now());
    } else {
      const card = new NodeCard(entry);
      this.cards.set(entry.key, { card, entry });
      this.insertSorted(card, entry);
    }
    this.renderCounts();
  }

  remove(key: string): void {
    const existing = this.cards.get(key);
    if (!existing) return;
    existing.card.root.remove();
    this.cards.delete(key);
    this.renderCounts();
  }

  /** Moves keyboard focus to a node's card link (when coming back from its detail page). */
  focusNode(key: string): boolean {
    const link = this.cards.get(key)?.card.root.querySelector('a');
    if (!link) return false;
    link.focus();
    return true;
  }

  setConnState(state: ConnState): void {
    this.conn = state;
    this.connEl.dataset['state'] = state.kind;
    document.body.classList.toggle('is-stale', state.kind !== 'live');
    this.renderConn();
  }

  /** Called once a second: relative times and the reconnect countdown. */
  tick(): void {
    const now = Date.now();
    for (const { card } of this.cards.values()) card.tick(now);
    this.renderConn();
  }

  private renderConn(): void {
    let text: string;
    switch (this.conn.kind) {
      case 'connecting':
        text = 'connecting';
        break;
      case 'live':
        text = 'live';
        break;
      case 'reconnecting': {
        const s = Math.max(1, Math.ceil((this.conn.at - performance.now()) / 1000));
        text = `reconnecting in ${s}s`;
        break;
      }
    }
    setText(this.connEl, text);
  }

  private insertSorted(card: NodeCard, entry: NodeEntry): void {
    // Cards stay in (group, id) order; O(n) per new node is fine for fleets of hundreds.
    let next: { card: NodeCard; entry: NodeEntry } | undefined;
    for (const other of this.cards.values()) {
      if (other.card === card || compareEntries(entry, other.entry) >= 0) continue;
      if (!next || compareEntries(other.entry, next.entry) < 0) next = other;
    }
    this.grid.insertBefore(card.root, next ? next.card.root : null);
  }

  private renderCounts(): void {
    let healthy = 0;
    let degraded = 0;
    let down = 0;
    for (const { entry } of this.cards.values()) {
      if (entry.node.status === 'HEALTHY') healthy++;
      else if (entry.node.status === 'DEGRADED') degraded++;
      else if (entry.node.status === 'DOWN') down++;
    }
    const total = this.cards.size;
    setText(this.healthyEl, String(healthy));
    setText(this.degradedEl, String(degraded));
    setText(this.downEl, String(down));
    setText(this.totalEl, String(total));
    this.empty.hidden = total > 0;
    const bad = down + degraded;
    document.title = bad > 0 ? `(${down} down, ${degraded} degraded) edgemon` : 'edgemon';
  }
}
