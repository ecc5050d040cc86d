// The alerts page (#/alerts, #/alerts/incidents, #/alerts/events): the active alerts (firing and
// silenced apart), the incidents with their durations (open ones counting live) and the alert
// state transitions, both paged with limit/offset. Loaded on demand by main.ts.
//
// The gateway says whether an alert is suppressed now (`suppressed`: a silence or a maintenance
// window). To show which silence, the active silences (GET /api/silences) are matched against the
// alert's labels here, as the gateway's evaluator does (labels rule type severity node subject
// metric target; values are globs where only '*' is special); a suppressed alert that no silence
// matches is in a maintenance window (configured in gateway.toml).
import { alertHref, alertItem, compareAlerts, metricTarget, severityBadge, splitNode, updateAgo } from './alertui';
import { ApiError, apiFetch } from './api';
import { el, setText } from './dom';
import { formatDuration } from './format';
import type { Page, PageContext } from './page';
import type { NodeEntry } from './store';
import { nodeKey, type Alert } from './protocol';
import { alertsHref, type Route } from './router';

type Tab = 'active' | 'incidents' | 'events';
const TABS: { id: Tab; label: string }[] = [
  { id: 'active', label: 'Active alerts' },
  { id: 'incidents', label: 'Incidents' },
  { id: 'events', label: 'Events' },
];
const PAGE_SIZE = 25;
/** Silences are re-read this often while the page is open (they may start or end). */
const SILENCE_REFRESH_MS = 30_000;

interface Silence {
  id: number;
  match: Record<string, string>;
  starts: number | null;
  until: number;
  comment: string;
  active: boolean;
}

interface Incident {
  subject: string;
  rule: string;
  type: string;
  severity: string;
  start: number;
  end: number | null;
  duration_ms: number;
}

interface AlertEvent {
  at: number;
  subject: string;
  rule: string;
  type: string;
  from: string;
  to: string;
  reason: string;
  severity: string;
  suppressed: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function parseSilence(v: unknown): Silence {
  const o = obj(v);
  const match: Record<string, string> = {};
  for (const [k, m] of Object.entries(obj(o['match']))) if (typeof m === 'string') match[k] = m;
  return {
    id: num(o['id']),
    match,
    starts: numOrNull(o['starts']),
    until: num(o['until']),
    comment: str(o['comment']),
    active: o['active'] === true,
  };
}

function parseIncident(v: unknown): Incident {
  const o = obj(v);
  return {
    subject: str(o['subject']),
    rule: str(o['rule']),
    type: str(o['type']),
    severity: str(o['severity']),
    start: num(o['start']),
    end: numOrNull(o['end']),
    duration_ms: num(o['duration_ms']),
  };
}

function parseEvent(v: unknown): AlertEvent {
  const o = obj(v);
  return {
    at: num(o['at']),
    subject: str(o['subject']),
    rule: str(o['rule']),
    type: str(o['type']),
    from: str(o['from']),
    to: str(o['to']),
    reason: str(o['reason']),
    severity: str(o['severity']),
    suppressed: o['suppressed'] === true,
  };
}

/** The gateway's glob: '*' matches any run of characters, everything else itself. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      starT = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

export function alertLabels(a: Alert): Record<string, string> {
  return {
    rule: a.rule,
    type: a.type,
    severity: a.severity,
    node: a.node,
    subject: a.subject,
    metric: a.metric,
    target: metricTarget(a.metric)?.[1] ?? '',
  };
}

export function silencedBy(a: Alert, silences: readonly Silence[], nowMs: number): Silence | undefined {
  const labels = alertLabels(a);
  return silences.find(
    (s) =>
      s.active &&
      s.until > nowMs &&
      (s.starts === null || s.starts <= nowMs) &&
      Object.entries(s.match).every(([k, pattern]) => globMatch(pattern, labels[k] ?? '')),
  );
}

function fmtTime(ms: number): string {
  if (ms <= 0) return '—';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

function timeCell(ms: number): HTMLTableCellElement {
  const td = el('td', 'nowrap');
  const t = el('time', '', fmtTime(ms));
  if (ms > 0) t.dateTime = new Date(ms).toISOString();
  td.append(t);
  return td;
}

function td(text: string, className = ''): HTMLTableCellElement {
  return el('td', className, text);
}

function table(headers: string[], numeric: ReadonlySet<number> = new Set()): { wrap: HTMLElement; body: HTMLTableSectionElement } {
  const wrap = el('div', 'table-wrap');
  const t = el('table', 'data');
  const head = el('thead');
  const tr = el('tr');
  headers.forEach((h, i) => {
    const th = el('th', numeric.has(i) ? 'num' : '', h);
    th.scope = 'col';
    tr.append(th);
  });
  head.append(tr);
  const body = el('tbody');
  t.append(head, body);
  wrap.append(t);
  return { wrap, body };
}

/** Subject "<group>/<node>/<metric…>" as a link to the node's or target's page. */
/** `nameOf`: the display name of `<group>/<node>` (device-supplied text), '' when none. */
function subjectCell(subject: string, nameOf: (node: string) => string): HTMLTableCellElement {
  const cell = el('td', 'wrap');
  const parts = subject.split('/');
  const node = parts.slice(0, 2).join('/');
  const metric = parts.slice(2).join('/');
  const name = nameOf(node);
  if (name) {
    const n = el('span', 'subject-name', name);
    n.dataset['testid'] = 'subject-name';
    cell.append(n, document.createTextNode(' '));
  }
  const a = el('a', '', subject);
  a.href = alertHref({ node, metric });
  cell.append(a);
  return cell;
}

/** A paged list (incidents or events) with previous/next buttons. */
class Pager<T> {
  readonly section: HTMLElement;
  readonly body: HTMLTableSectionElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly info = el('span', 'pager-info');
  private readonly error = el('p', 'page-error');
  private readonly emptyEl: HTMLElement;
  offset = 0;
  rows: T[] = [];
  private gen = 0;

  constructor(
    private readonly name: 'incidents' | 'events',
    title: string,
    headers: string[],
    numeric: ReadonlySet<number>,
    private readonly parse: (v: unknown) => T,
    private readonly render: (row: T, now: number) => HTMLTableRowElement,
  ) {
    this.section = el('section', 'page-section');
    this.section.dataset['testid'] = `${name}-section`;
    const h = el('h2', '', title);
    const { wrap, body } = table(headers, numeric);
    this.body = body;
    body.dataset['testid'] = `${name}-rows`;
    this.emptyEl = el('p', 'empty', `No ${name}.`);
    this.emptyEl.hidden = true;
    this.prev = el('button', 'button', '← Newer');
    this.prev.type = 'button';
    this.prev.dataset['testid'] = `${name}-prev`;
    this.next = el('button', 'button', 'Older →');
    this.next.type = 'button';
    this.next.dataset['testid'] = `${name}-next`;
    this.prev.addEventListener('click', () => void this.load(Math.max(0, this.offset - PAGE_SIZE)));
    this.next.addEventListener('click', () => void this.load(this.offset + PAGE_SIZE));
    const pager = el('nav', 'pager');
    pager.setAttribute('aria-label', `${title} pages`);
    this.info.dataset['testid'] = `${name}-page`;
    pager.append(this.prev, this.info, this.next);
    this.section.append(h, this.error, wrap, this.emptyEl, pager);
  }

  async load(offset: number): Promise<void> {
    const gen = ++this.gen;
    this.prev.disabled = true;
    this.next.disabled = true;
    try {
      // One more than a page: tells whether an older page exists.
      const data = await apiFetch<unknown>(`api/${this.name}?limit=${PAGE_SIZE + 1}&offset=${offset}`);
      if (gen !== this.gen) return;
      const all = arr(data).map(this.parse);
      this.offset = offset;
      this.rows = all.slice(0, PAGE_SIZE);
      setText(this.error, '');
      this.draw();
      this.prev.disabled = offset === 0;
      this.next.disabled = all.length <= PAGE_SIZE;
      const first = this.rows.length > 0 ? offset + 1 : offset;
      setText(this.info, this.rows.length > 0 ? `${first}–${offset + this.rows.length}` : '');
      this.section.dataset['offset'] = String(offset);
    } catch (err) {
      if (gen !== this.gen) return;
      if (err instanceof ApiError && err.status === 401) return;
      setText(this.error, `Cannot load ${this.name}: ${err instanceof Error ? err.message : String(err)}`);
      this.prev.disabled = this.offset === 0;
      this.next.disabled = false;
    }
  }

  draw(): void {
    const now = Date.now();
    this.body.replaceChildren(...this.rows.map((r) => this.render(r, now)));
    this.emptyEl.hidden = this.rows.length > 0;
  }

  reload(): void {
    void this.load(this.offset);
  }
}

export class AlertsView implements Page {
  private readonly root: HTMLElement;
  private tab: Tab = 'active';
  private readonly tabLinks = new Map<Tab, HTMLAnchorElement>();
  private readonly panels = new Map<Tab, HTMLElement>();
  private readonly firingList = el('ul', 'alert-list');
  private readonly silencedList = el('ul', 'alert-list');
  private readonly firingEmpty = el('p', 'empty', 'Nothing is firing.');
  private readonly silencedEmpty = el('p', 'empty', 'No silenced alerts.');
  private readonly silencesError = el('p', 'page-error');
  private readonly incidents: Pager<Incident>;
  private readonly events: Pager<AlertEvent>;
  private current: readonly Alert[] = [];
  private silences: Silence[] = [];
  private silencesAt = 0;
  private opened = false;
  private alertsSignature = '';
  /** Display names of the nodes as last rendered (a change re-renders the active alerts). */
  private readonly names = new Map<string, string>();

  constructor(private readonly ctx: PageContext) {
    this.root = ctx.root;
    const nameOf = (node: string) => this.nameOf(node);
    this.incidents = new Pager<Incident>(
      'incidents',
      'Incidents',
      ['Subject', 'Type', 'Severity', 'Started', 'Ended', 'Duration'],
      new Set([5]),
      parseIncident,
      (r, now) => {
        const tr = el('tr');
        tr.dataset['testid'] = 'incident';
        tr.dataset['open'] = String(r.end === null);
        const sev = el('td');
        sev.append(severityBadge(r.severity));
        const end = r.end === null ? el('td') : timeCell(r.end);
        if (r.end === null) {
          const p = el('span', 'pill is-open', 'open');
          end.append(p);
        }
        const dur = td(formatDuration((r.end === null ? Math.max(r.duration_ms, now - r.start) : r.duration_ms) / 1000), 'num');
        if (r.end === null) {
          dur.dataset['start'] = String(r.start);
          dur.dataset['testid'] = 'incident-open-duration';
        }
        tr.append(subjectCell(r.subject, nameOf), td(r.type || r.rule, 'wrap'), sev, timeCell(r.start), end, dur);
        return tr;
      },
    );
    this.events = new Pager<AlertEvent>(
      'events',
      'Events',
      ['Time', 'Subject', 'Type', 'Change', 'Severity', 'Reason'],
      new Set(),
      parseEvent,
      (r) => {
        const tr = el('tr');
        tr.dataset['testid'] = 'event';
        const change = el('td', 'nowrap');
        // A transition "ok → firing"; an occurrence (a DATA_LOSS hole) has no "from": just what happened.
        const tone = r.to === 'firing' || r.to === 'loss' ? 'down' : r.to === 'ok' ? 'up' : '';
        change.append(el('span', `state-${tone}`, r.from ? `${r.from} → ${r.to}` : r.to));
        if (r.suppressed) {
          change.append(document.createTextNode(' '), el('span', 'pill', 'silenced'));
        }
        const sev = el('td');
        sev.append(severityBadge(r.severity));
        tr.append(timeCell(r.at), subjectCell(r.subject, nameOf), td(r.type || r.rule, 'wrap'), change, sev, td(r.reason, 'wrap'));
        return tr;
      },
    );
  }

  open(route: Route): void {
    const tab = route.page === 'alerts' && (TABS.some((t) => t.id === route.tab) ? (route.tab as Tab) : 'active');
    if (!tab) return;
    if (!this.opened) this.build();
    this.opened = true;
    this.tab = tab;
    for (const [id, link] of this.tabLinks) {
      if (id === tab) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    for (const [id, panel] of this.panels) panel.hidden = id !== tab;
    if (tab === 'active') {
      this.alertsSignature = '';
      this.renderActive();
      void this.loadSilences();
    } else if (tab === 'incidents') {
      this.incidents.reload();
    } else {
      this.events.reload();
    }
  }

  close(): void {
    this.opened = false;
    this.root.replaceChildren();
  }

  alerts(alerts: readonly Alert[]): void {
    const changed = this.current !== alerts;
    this.current = alerts;
    if (!this.opened || !changed) return;
    this.renderActive();
    // A change of the active alerts opens or closes incidents and adds events: refresh the
    // first page (older pages are left alone, not to move rows under the reader's eyes).
    if (this.tab === 'incidents' && this.incidents.offset === 0) this.incidents.reload();
    if (this.tab === 'events' && this.events.offset === 0) this.events.reload();
  }

  /** A node changed: only a change of its display name matters here (alerts name the node). */
  upsert(entry: NodeEntry): void {
    const name = entry.node.name;
    if ((this.names.get(entry.key) ?? '') === name) return;
    this.names.set(entry.key, name);
    if (this.opened && this.current.some((a) => this.keyOf(a.node) === entry.key)) this.renderActive();
  }

  private keyOf(node: string): string {
    const [group, id] = splitNode(node);
    return nodeKey({ group, id });
  }

  /** The display name of `<group>/<node>` ('' when it has none or is unknown). */
  private nameOf(node: string): string {
    return this.ctx.node(this.keyOf(node))?.node.name ?? '';
  }

  tick(): void {
    if (!this.opened) return;
    const now = Date.now();
    updateAgo(this.root, now);
    for (const cell of this.incidents.body.querySelectorAll<HTMLElement>('td[data-start]')) {
      setText(cell, formatDuration((now - Number(cell.dataset['start'])) / 1000));
    }
    if (this.tab === 'active' && now - this.silencesAt > SILENCE_REFRESH_MS) void this.loadSilences();
  }

  private build(): void {
    const h = el('h1', '', 'Alerts');
    h.tabIndex = -1;
    const tabs = el('nav', 'tabs');
    tabs.setAttribute('aria-label', 'Alert views');
    for (const t of TABS) {
      const a = el('a', '', t.label);
      a.href = alertsHref(t.id === 'active' ? '' : t.id);
      a.dataset['testid'] = `tab-${t.id}`;
      this.tabLinks.set(t.id, a);
      tabs.append(a);
    }

    const active = el('div', 'page-live');
    active.dataset['testid'] = 'active-alerts';
    const firing = el('section', 'page-section');
    firing.dataset['testid'] = 'firing-section';
    const firingH = el('h2', '', 'Firing');
    firing.append(firingH, this.firingList, this.firingEmpty);
    const silenced = el('section', 'page-section');
    silenced.dataset['testid'] = 'silenced-section';
    silenced.append(el('h2', '', 'Silenced'), this.silencesError, this.silencedList, this.silencedEmpty);
    const note = el(
      'p',
      'muted',
      'Silenced alerts still fire but notify nobody. Silences are managed on the admin pages.',
    );
    silenced.append(note);
    active.append(firing, silenced);
    this.firingList.dataset['testid'] = 'firing-alerts';
    this.silencedList.dataset['testid'] = 'silenced-alerts';

    this.panels.set('active', active);
    this.panels.set('incidents', this.incidents.section);
    this.panels.set('events', this.events.section);
    this.root.replaceChildren(h, tabs, active, this.incidents.section, this.events.section);
  }

  private async loadSilences(): Promise<void> {
    this.silencesAt = Date.now();
    try {
      this.silences = arr(await apiFetch<unknown>('api/silences')).map(parseSilence);
      setText(this.silencesError, '');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setText(this.silencesError, `Cannot read the silences: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.alertsSignature = '';
    this.renderActive();
  }

  private renderActive(): void {
    if (!this.opened) return;
    const now = Date.now();
    const sorted = [...this.current].sort(compareAlerts);
    const firing: HTMLElement[] = [];
    const silenced: HTMLElement[] = [];
    const verdicts = sorted.map((a) => silencedBy(a, this.silences, now));
    const names = sorted.map((a) => this.nameOf(a.node));
    const signature = JSON.stringify([sorted, verdicts.map((s) => s?.id ?? 0), names]);
    if (signature === this.alertsSignature) return;
    this.alertsSignature = signature;
    sorted.forEach((a, i) => {
      const s = verdicts[i];
      const item = alertItem(a, now, s !== undefined || a.suppressed, names[i] ?? '');
      if (s) {
        const why = el('p', 'alert-reason', `silence #${s.id} until ${fmtTime(s.until)}${s.comment ? `: ${s.comment}` : ''}`);
        item.append(why);
        silenced.push(item);
      } else if (a.suppressed) {
        item.append(el('p', 'alert-reason', 'in a maintenance window'));
        silenced.push(item);
      } else {
        firing.push(item);
      }
    });
    this.firingList.replaceChildren(...firing);
    this.silencedList.replaceChildren(...silenced);
    this.firingEmpty.hidden = firing.length > 0;
    this.silencedEmpty.hidden = silenced.length > 0;
    this.firingList.dataset['count'] = String(firing.length);
    this.silencedList.dataset['count'] = String(silenced.length);
  }
}
