// The overview: header (connection state, counts), the active alerts, a search box and a group
// filter, and the grid of node cards.
//
// Cost per update is O(changed): a node message touches its own card (only the parts that
// changed), its own filter decision and the counters; the counts, the group list and the filter
// note are rendered at most once per animation frame. A snapshot is applied as one batch: all new
// cards are built off-document, sorted once and inserted with DocumentFragments. While another
// page is shown, card updates are deferred until the overview is visible again.
import { alertItem, compareAlerts, splitNode, updateAgo } from './alertui';
import { NodeCard } from './card';
import type { ConnState } from './connection';
import { byId, el, setText } from './dom';
import { nodeKey, type Alert, type NodeStatus } from './protocol';
import type { NodeEntry, StoreListener } from './store';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareEntries(a: NodeEntry, b: NodeEntry): number {
  return collator.compare(a.node.group, b.node.group) || collator.compare(a.node.id, b.node.id);
}

/** What the search box matches: the id and the display name, lower case. */
function searchText(entry: NodeEntry): string {
  const { id, name } = entry.node;
  return name === '' ? id.toLowerCase() : `${id.toLowerCase()}\u0000${name.toLowerCase()}`;
}

interface CardRecord {
  card: NodeCard;
  entry: NodeEntry;
  /** Counted under this status. */
  status: NodeStatus;
  search: string;
  /** The filter's last decision (card.root.hidden is its negation). */
  shown: boolean;
  /** In the grid (false while a snapshot batch is being built). */
  placed: boolean;
}

export class DashboardView implements StoreListener {
  private readonly grid = byId('grid');
  private readonly empty = byId('empty');
  private readonly connEl = byId('conn-state');
  private readonly healthyEl = byId('count-healthy');
  private readonly degradedEl = byId('count-degraded');
  private readonly downEl = byId('count-down');
  private readonly totalEl = byId('count-total');
  private readonly cards = new Map<string, CardRecord>();
  /** The placed cards in (group, id) order, as in the grid. */
  private order: CardRecord[] = [];
  /** Cards created during a batch, placed by endBatch(). */
  private pending: CardRecord[] = [];
  private batching = 0;
  private readonly counts: Record<NodeStatus, number> = { HEALTHY: 0, DEGRADED: 0, DOWN: 0, UNKNOWN: 0 };
  /** Nodes per group: the group filter's options change only when a group appears or empties. */
  private readonly groupCounts = new Map<string, number>();
  private groupsDirty = true;
  private shownCount = 0;
  private readonly strip = byId('alert-strip');
  private readonly stripList = byId('alert-strip-list');
  private readonly stripCount = byId('alert-strip-count');
  private readonly searchEl = byId<HTMLInputElement>('node-search');
  private readonly groupEl = byId<HTMLSelectElement>('group-filter');
  private readonly filterNote = byId('filter-note');
  private conn: ConnState = { kind: 'connecting' };
  private query = '';
  private group = '';
  private groupsSignature = '';
  private alerts: readonly Alert[] = [];
  /** Keys of the nodes the active alerts name (their display names appear in the strip). */
  private alertKeys = new Set<string>();
  private alertsDirty = false;
  private visible = true;
  /** Cards whose update was deferred while the overview was hidden. */
  private readonly stale = new Set<CardRecord>();
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.searchEl.addEventListener('input', () => {
      this.query = this.searchEl.value.trim().toLowerCase();
      this.applyFilter();
    });
    this.groupEl.addEventListener('change', () => {
      this.group = this.groupEl.value;
      this.applyFilter();
    });
    // Enter in the search box must not submit (reload) anything.
    byId('overview-filter').addEventListener('submit', (ev) => ev.preventDefault());
  }

  /** The active alerts strip (most severe first). Hidden while nothing fires. */
  setAlerts(alerts: readonly Alert[]): void {
    this.alerts = alerts;
    this.alertKeys = new Set(
      alerts.map((a) => {
        const [group, id] = splitNode(a.node);
        return nodeKey({ group, id });
      }),
    );
    this.renderAlerts();
  }

  private renderAlerts(): void {
    this.alertsDirty = false;
    const alerts = this.alerts;
    const now = Date.now();
    const sorted = [...alerts].sort(compareAlerts);
    const MAX = 8;
    const items: HTMLElement[] = sorted.slice(0, MAX).map((a) => alertItem(a, now, a.suppressed, this.nameOf(a.node)));
    if (sorted.length > MAX) {
      const more = el('li', 'alert-more');
      const link = el('a', '', `${sorted.length - MAX} more…`);
      link.href = '#/alerts';
      more.append(link);
      items.push(more);
    }
    this.stripList.replaceChildren(...items);
    setText(this.stripCount, `(${alerts.length})`);
    this.strip.hidden = alerts.length === 0;
    this.strip.dataset['count'] = String(alerts.length);
  }

  /** The display name of `<group>/<node>` ('' when it has none or is unknown). */
  private nameOf(node: string): string {
    const [group, id] = splitNode(node);
    return this.cards.get(nodeKey({ group, id }))?.entry.node.name ?? '';
  }

  private matches(rec: CardRecord): boolean {
    if (this.group !== '' && rec.entry.node.group !== this.group) return false;
    return this.query === '' || rec.search.includes(this.query);
  }

  /** Applies the filter to one card (writes `hidden` only when the decision changes). */
  private filterOne(rec: CardRecord): void {
    const ok = this.matches(rec);
    if (ok === rec.shown) return;
    rec.shown = ok;
    rec.card.root.hidden = !ok;
    this.shownCount += ok ? 1 : -1;
  }

  /** The search or the group changed: every card once, then the note at once. */
  private applyFilter(): void {
    for (const rec of this.cards.values()) this.filterOne(rec);
    this.renderFilterNote();
  }

  private renderFilterNote(): void {
    const filtering = this.query !== '' || this.group !== '';
    setText(this.filterNote, filtering ? `${this.shownCount} of ${this.cards.size} nodes shown` : '');
    const shown = String(this.shownCount);
    if (this.filterNote.dataset['shown'] !== shown) this.filterNote.dataset['shown'] = shown;
  }

  /** Keeps the group filter's options equal to the groups present (the choice survives). */
  private renderGroups(): void {
    this.groupsDirty = false;
    const groups = [...this.groupCounts.keys()].sort(collator.compare);
    const signature = JSON.stringify(groups);
    if (signature === this.groupsSignature) return;
    this.groupsSignature = signature;
    const options = [el('option', '', 'All groups')];
    options[0]!.value = '';
    for (const g of groups) {
      const o = el('option', '', g === '' ? '(no group)' : g);
      o.value = g;
      options.push(o);
    }
    if (this.group !== '' && !groups.includes(this.group)) {
      const o = el('option', '', this.group);
      o.value = this.group;
      options.push(o);
    }
    this.groupEl.replaceChildren(...options);
    this.groupEl.value = this.group;
  }

  /** A snapshot follows: new cards are collected and placed together by endBatch(). */
  beginBatch(): void {
    this.batching++;
  }

  endBatch(): void {
    if (this.batching > 0) this.batching--;
    if (this.batching === 0 && this.pending.length > 0) this.placePending();
  }

  upsert(entry: NodeEntry): void {
    let rec = this.cards.get(entry.key);
    if (rec) {
      const before = rec.entry.node;
      rec.entry = entry;
      if (rec.status !== entry.node.status) {
        this.counts[rec.status]--;
        this.counts[entry.node.status]++;
        rec.status = entry.node.status;
      }
      if (before.name !== entry.node.name) {
        rec.search = searchText(entry);
        if (this.alertKeys.has(entry.key)) this.alertsDirty = true;
      }
      if (this.visible) rec.card.update(entry, Date.now());
      else this.stale.add(rec);
    } else {
      rec = { card: new NodeCard(entry), entry, status: entry.node.status, search: searchText(entry), shown: true, placed: false };
      this.cards.set(entry.key, rec);
      this.counts[rec.status]++;
      this.shownCount++;
      const n = this.groupCounts.get(entry.node.group) ?? 0;
      this.groupCounts.set(entry.node.group, n + 1);
      if (n === 0) this.groupsDirty = true;
      if (entry.node.name !== '' && this.alertKeys.has(entry.key)) this.alertsDirty = true;
      if (this.batching > 0) this.pending.push(rec);
      else this.insertSorted(rec);
    }
    this.filterOne(rec);
    this.schedule();
  }

  remove(key: string): void {
    const rec = this.cards.get(key);
    if (!rec) return;
    this.cards.delete(key);
    this.stale.delete(rec);
    this.counts[rec.status]--;
    if (rec.shown) this.shownCount--;
    const n = (this.groupCounts.get(rec.entry.node.group) ?? 1) - 1;
    if (n > 0) {
      this.groupCounts.set(rec.entry.node.group, n);
    } else {
      this.groupCounts.delete(rec.entry.node.group);
      this.groupsDirty = true;
    }
    if (rec.placed) {
      const i = this.indexOf(rec);
      if (i >= 0) this.order.splice(i, 1);
      rec.card.root.remove();
    }
    if (this.alertKeys.has(key)) this.alertsDirty = true;
    this.schedule();
  }

  /** Moves keyboard focus to a node's card link (when coming back from its detail page). */
  focusNode(key: string): boolean {
    const link = this.cards.get(key)?.card.root.querySelector('a');
    if (!link) return false;
    link.focus();
    return true;
  }

  /** The overview was shown or hidden (another page): hidden, card updates wait. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (!visible) return;
    const now = Date.now();
    for (const rec of this.stale) rec.card.update(rec.entry, now);
    this.stale.clear();
    for (const rec of this.cards.values()) rec.card.tick(now);
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
    if (this.visible) for (const rec of this.cards.values()) rec.card.tick(now);
    updateAgo(this.stripList, now);
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

  /** Index of a placed card in `order` (binary search on (group, id)); -1 if absent. */
  private indexOf(rec: CardRecord): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.order[mid]!.entry, rec.entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (this.order[lo] === rec) return lo;
    return this.order.indexOf(rec);
  }

  /** One new card outside a batch: binary search for its place (cards stay in (group, id) order). */
  private insertSorted(rec: CardRecord): void {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.order[mid]!.entry, rec.entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.grid.insertBefore(rec.card.root, this.order[lo]?.card.root ?? null);
    this.order.splice(lo, 0, rec);
    rec.placed = true;
  }

  /** The cards of a batch: sorted once, merged into the grid with one fragment per run. */
  private placePending(): void {
    const add = this.pending.filter((r) => this.cards.get(r.entry.key) === r);
    this.pending = [];
    if (add.length === 0) return;
    add.sort((a, b) => compareEntries(a.entry, b.entry));
    for (const r of add) r.placed = true;
    if (this.order.length === 0) {
      const frag = document.createDocumentFragment();
      for (const r of add) frag.append(r.card.root);
      this.grid.append(frag);
      this.order = add;
      return;
    }
    const merged: CardRecord[] = [];
    let i = 0;
    let j = 0;
    let frag: DocumentFragment | null = null;
    const flush = (before: Element | null) => {
      if (frag) this.grid.insertBefore(frag, before);
      frag = null;
    };
    while (i < this.order.length || j < add.length) {
      const old = this.order[i];
      const fresh = add[j];
      if (fresh && (!old || compareEntries(fresh.entry, old.entry) < 0)) {
        frag ??= document.createDocumentFragment();
        frag.append(fresh.card.root);
        merged.push(fresh);
        j++;
      } else if (old) {
        flush(old.card.root);
        merged.push(old);
        i++;
      }
    }
    flush(null);
    this.order = merged;
  }

  /** Counts, group list, filter note and (when a named node changed) the alerts strip: once per frame. */
  private schedule(): void {
    if (this.frame !== 0 || this.timer !== undefined) return;
    this.frame = requestAnimationFrame(() => this.render());
    // Frames do not run in a background tab; the title (counts) should still follow.
    this.timer = setTimeout(() => this.render(), 250);
  }

  private render(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.timer = undefined;
    if (this.batching > 0) {
      this.schedule();
      return;
    }
    const { HEALTHY: healthy, DEGRADED: degraded, DOWN: down } = this.counts;
    const total = this.cards.size;
    if (this.groupsDirty) this.renderGroups();
    this.renderFilterNote();
    if (this.alertsDirty) this.renderAlerts();
    setText(this.healthyEl, String(healthy));
    setText(this.degradedEl, String(degraded));
    setText(this.downEl, String(down));
    setText(this.totalEl, String(total));
    const hideEmpty = total > 0;
    if (this.empty.hidden !== hideEmpty) this.empty.hidden = hideEmpty;
    const bad = down + degraded;
    const title = bad > 0 ? `(${down} down, ${degraded} degraded) edgemon` : 'edgemon';
    if (document.title !== title) document.title = title;
  }
}
