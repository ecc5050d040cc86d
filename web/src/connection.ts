// WebSocket to the gateway with automatic reconnect (exponential backoff with jitter). A reconnect
// asks to resume (`?epoch=E&since=N`, docs/protocol.md): the gateway either answers
// {"type":"resumed"} and replays the missed frames, or sends a fresh snapshot.
import { parseMessage, type ServerMessage } from './protocol';

export type ConnState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  /** `at` = performance.now() time of the next attempt. */
  | { kind: 'reconnecting'; at: number };

export interface ConnectionOptions {
  url: string;
  onMessage: (msg: ServerMessage) => void;
  onState: (state: ConnState) => void;
  /**
   * A socket closed without ever opening (the handshake failed: gateway down, or 401 because the
   * session expired — the browser does not tell which). Reconnecting continues unless stop() is called.
   */
  onOpenFailed?: () => void;
}

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 10_000;

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 10 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(BACKOFF_MAX_MS, jittered));
}

/**
 * ws://host/<dir>/ws?view=card for http pages, wss:// for https, relative to the page's directory.
 * The card view: every node as its card except the watched ones (protocol.ts).
 */
export function gatewaySocketUrl(loc: Location = location): string {
  const url = new URL('ws', loc.href);
  url.protocol = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';
  url.searchParams.set('view', 'card');
  return url.href;
}

export class Connection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSeq = 0;
  /** The epoch of the snapshot we hold ('' = none: the next connect wants a snapshot). */
  private epoch = '';
  private running = false;
  private listening = false;
  /** Messages whose seq was not lastSeq + 1 (diagnostics only; each message is a full state). */
  seqGaps = 0;
  /** Reconnects answered with `resumed` (diagnostics, and the browser test). */
  resumes = 0;
  /** The nodes watched in full ("<group>/<id>"); sent again on every (re)connect. */
  private watched: string[] = [];

  constructor(private readonly opts: ConnectionOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect();
    if (this.listening) return;
    this.listening = true;
    // Come back quickly when the network returns instead of waiting out a long backoff.
    window.addEventListener('online', () => this.retryNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.retryNow();
    });
  }

  /** Closes the socket and stops reconnecting (logout, session expired). */
  stop(): void {
    this.running = false;
    // The next start (after a new login) begins with a snapshot.
    this.epoch = '';
    this.lastSeq = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.close();
    }
  }

  /**
   * Asks for these nodes in full (the page that shows one); every other node comes as its card.
   * The gateway answers with a `detail` message for each and then sends them in full.
   */
  watch(nodes: string[]): void {
    if (nodes.length === this.watched.length && nodes.every((n, i) => n === this.watched[i])) return;
    this.watched = [...nodes];
    this.sendWatch();
  }

  private sendWatch(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;  // sent on open
    ws.send(JSON.stringify({ type: 'watch', nodes: this.watched }));
  }

  /** Skips the remaining backoff wait, if any. */
  retryNow(): void {
    if (this.timer === undefined || !this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.connect();
  }

  private connect(): void {
    this.opts.onState({ kind: 'connecting' });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.resumeUrl());
    } catch (err) {
      console.warn('edgemon: cannot open WebSocket', err);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      if (this.watched.length > 0) this.sendWatch();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      const msg = parseMessage(ev.data);
      if (!msg) return;
      if (msg.type === 'snapshot') {
        // A snapshot proves the gateway is really serving us: go live and reset the backoff.
        this.attempt = 0;
        this.lastSeq = msg.seq;
        this.epoch = msg.epoch;
        this.opts.onState({ kind: 'live' });
      } else if (msg.type === 'resumed') {
        // Our state is still good: the frames after `since` follow.
        this.attempt = 0;
        this.resumes++;
        this.lastSeq = msg.since;
        this.opts.onState({ kind: 'live' });
      } else if (msg.type !== 'detail') {
        if (msg.seq !== this.lastSeq + 1) this.seqGaps++;
        this.lastSeq = msg.seq;
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
      if (!opened) this.opts.onOpenFailed?.();
    };
    // An error is always followed by close; nothing else to do here.
    ws.onerror = () => {};
  }

  /** The socket URL, with `epoch` and `since` once we hold a snapshot of a gateway run. */
  private resumeUrl(): string {
    if (this.epoch === '' || this.lastSeq <= 0) return this.opts.url;
    const url = new URL(this.opts.url);
    url.searchParams.set('epoch', this.epoch);
    url.searchParams.set('since', String(this.lastSeq));
    return url.href;
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delay = backoffDelay(this.attempt++);
    this.opts.onState({ kind: 'reconnecting', at: performance.now() + delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }
}
