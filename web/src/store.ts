// Client-side fleet state: the latest FleetNode per node plus per-node update counters.
import { nodeKey, type FleetNode, type ServerMessage } from './protocol';

export interface NodeEntry {
  key: string;
  node: FleetNode;
  /** Number of `node` messages received for this node since the page loaded. */
  updates: number;
}

export interface StoreListener {
  /** A node was added or changed. */
  upsert(entry: NodeEntry): void;
  /** A node disappeared (absent from a new snapshot). */
  remove(key: string): void;
  /**
   * Around a snapshot: the upserts and removes between beginBatch() and endBatch() may be applied
   * to the DOM at once in endBatch() (one sort, one count, one filter pass).
   */
  beginBatch?(): void;
  endBatch?(): void;
}

export class FleetStore {
  private readonly entries = new Map<string, NodeEntry>();
  /** Counters survive reconnects (a node that vanishes and comes back keeps counting). */
  private readonly updateCounts = new Map<string, number>();

  constructor(private readonly listener: StoreListener) {}

  apply(msg: ServerMessage): void {
    if (msg.type === 'snapshot') {
      this.listener.beginBatch?.();
      try {
        const present = new Set<string>();
        for (const node of msg.nodes) {
          const key = nodeKey(node);
          present.add(key);
          this.put(key, node);
        }
        for (const key of [...this.entries.keys()]) {
          if (!present.has(key)) {
            this.entries.delete(key);
            this.listener.remove(key);
          }
        }
      } finally {
        this.listener.endBatch?.();
      }
    } else if (msg.type === 'node' || msg.type === 'detail') {
      const key = nodeKey(msg.node);
      this.updateCounts.set(key, (this.updateCounts.get(key) ?? 0) + 1);
      this.put(key, msg.node);
    }
  }

  get(key: string): NodeEntry | undefined {
    return this.entries.get(key);
  }

  /** Forgets everything (logout). */
  clear(): void {
    this.listener.beginBatch?.();
    try {
      for (const key of [...this.entries.keys()]) {
        this.entries.delete(key);
        this.listener.remove(key);
      }
    } finally {
      this.listener.endBatch?.();
    }
    this.updateCounts.clear();
  }

  all(): IterableIterator<NodeEntry> {
    return this.entries.values();
  }

  private put(key: string, node: FleetNode): void {
    const entry: NodeEntry = { key, node, updates: this.updateCounts.get(key) ?? 0 };
    this.entries.set(key, entry);
    this.listener.upsert(entry);
  }
}
