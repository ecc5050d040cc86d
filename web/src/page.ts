// The contract between main.ts (the router) and the lazily loaded pages.
import type { Alert } from './protocol';
import type { Route } from './router';
import type { NodeEntry } from './store';

/** What a page may ask of the application shell. */
export interface PageContext {
  /** The page's <main> element (empty until the page fills it). */
  root: HTMLElement;
  node(key: string): NodeEntry | undefined;
  nodes(): Iterable<NodeEntry>;
  /** The active alerts as last received (WebSocket `alerts` message or GET /api/alerts). */
  alerts(): readonly Alert[];
  /** The session's role ('admin', 'viewer', or '' on a gateway without authentication). */
  role(): string;
}

/** One routed page. Only `open`/`close` are required; the rest are live-update hooks. */
export interface Page {
  open(route: Route): void;
  close(): void;
  tick?(): void;
  upsert?(entry: NodeEntry): void;
  remove?(key: string): void;
  alerts?(alerts: readonly Alert[]): void;
  /** Key of the node to focus on the overview when coming back (node pages). */
  readonly focusKey?: string;
}
