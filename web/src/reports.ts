// The reports page (#/reports): daily availability per node and target from GET /api/reports
// (UTC days, SLA in percent), sortable and filterable, with CSV and JSON downloads of the same
// query. Loaded on demand by main.ts.
import { ApiError, apiFetch } from './api';
import { el, setText } from './dom';
import { formatDuration, formatRtt, formatUptime } from './format';
import type { Page, PageContext } from './page';
import { nodeHref, targetHref } from './router';

interface ReportRow {
  day: string;
  subject: string;
  kind: 'node' | 'target';
  uptime_pct: number;
  grade: string;
  sla_met: boolean;
  good: number;
  total: number;
  downtime_ms: number;
  incidents: number;
  avg_rtt_ms: number | null;
  loss_pct: number | null;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function parseRow(v: unknown): ReportRow {
  const o = obj(v);
  return {
    day: str(o['day']),
    subject: str(o['subject']),
    kind: o['kind'] === 'target' ? 'target' : 'node',
    uptime_pct: num(o['uptime_pct']),
    grade: str(o['grade']),
    sla_met: o['sla_met'] === true,
    good: num(o['good']),
    total: num(o['total']),
    downtime_ms: num(o['downtime_ms']),
    incidents: num(o['incidents']),
    avg_rtt_ms: numOrNull(o['avg_rtt_ms']),
    loss_pct: numOrNull(o['loss_pct']),
  };
}

/** YYYY-MM-DD of a UTC day `daysAgo` days before today. */
function utcDay(daysAgo: number): string {
  const d = new Date(Date.now() - daysAgo * 86_400_000);
  return d.toISOString().slice(0, 10);
}

type SortKey = 'day' | 'subject' | 'kind' | 'uptime_pct' | 'grade' | 'sla_met' | 'downtime_ms' | 'incidents' | 'avg_rtt_ms' | 'loss_pct';

interface Column {
  key: SortKey;
  label: string;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: 'day', label: 'Day' },
  { key: 'subject', label: 'Subject' },
  { key: 'kind', label: 'Kind' },
  { key: 'uptime_pct', label: 'Uptime %', numeric: true },
  { key: 'grade', label: 'Grade' },
  { key: 'sla_met', label: 'SLA' },
  { key: 'downtime_ms', label: 'Downtime', numeric: true },
  { key: 'incidents', label: 'Incidents', numeric: true },
  { key: 'avg_rtt_ms', label: 'Avg RTT', numeric: true },
  { key: 'loss_pct', label: 'Loss %', numeric: true },
];

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareBy(key: SortKey): (a: ReportRow, b: ReportRow) => number {
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'string' && typeof y === 'string') return collator.compare(x, y);
    return Number(x) - Number(y);
  };
}

/** "<group>/<node>" or "<group>/<node>/<family>/<target>" → its page. */
function subjectHref(row: ReportRow): string {
  const parts = row.subject.split('/');
  const group = parts[0] ?? '';
  const node = parts[1] ?? '';
  if (row.kind === 'target' && parts.length >= 4) return targetHref(group, node, parts[2] ?? '', parts.slice(3).join('/'));
  return nodeHref(group, node);
}

const GRADE_TEXT: Record<string, string> = {
  A: 'A: at least 99.9 %',
  B: 'B: at least 99 %',
  C: 'C: at least 95 %',
  D: 'D: at least 90 %',
  F: 'F: below 90 %',
};

export class ReportsView implements Page {
  private readonly root: HTMLElement;
  private readonly form = el('form', 'toolbar');
  private readonly fromEl = el('input');
  private readonly toEl = el('input');
  private readonly slaEl = el('input');
  private readonly kindEl = el('select');
  private readonly filterEl = el('input');
  private readonly csvLink = el('a', 'button');
  private readonly jsonLink = el('a', 'button');
  private readonly error = el('p', 'page-error');
  private readonly status = el('p', 'muted');
  private readonly headRow = el('tr');
  private readonly body = el('tbody');
  private readonly emptyEl = el('p', 'empty', 'No report rows for these days.');
  private rows: ReportRow[] = [];
  private sortKey: SortKey = 'day';
  private sortDesc = true;
  private built = false;
  private gen = 0;

  constructor(ctx: PageContext) {
    this.root = ctx.root;
  }

  open(): void {
    if (!this.built) this.build();
    this.built = true;
    void this.load();
  }

  close(): void {
    // The page keeps its form values and rows; they are refreshed at the next open.
  }

  private field(id: string, label: string, input: HTMLElement): HTMLElement {
    const f = el('div', 'field inline');
    const l = el('label', '', label);
    l.htmlFor = id;
    input.id = id;
    f.append(l, input);
    return f;
  }

  private build(): void {
    const h = el('h1', '', 'Availability reports');
    this.fromEl.type = 'date';
    this.toEl.type = 'date';
    this.fromEl.value = utcDay(7);
    this.toEl.value = utcDay(1);
    this.fromEl.max = this.toEl.max = utcDay(0);
    this.fromEl.required = this.toEl.required = true;
    this.fromEl.dataset['testid'] = 'report-from';
    this.toEl.dataset['testid'] = 'report-to';
    this.slaEl.type = 'number';
    this.slaEl.min = '0.001';
    this.slaEl.max = '100';
    this.slaEl.step = 'any';
    this.slaEl.inputMode = 'decimal';
    this.slaEl.placeholder = 'default';
    this.slaEl.dataset['testid'] = 'report-sla';
    this.slaEl.style.width = '7rem';
    for (const [v, t] of [['', 'Nodes and targets'], ['node', 'Nodes'], ['target', 'Targets']] as const) {
      const o = el('option', '', t);
      o.value = v;
      this.kindEl.append(o);
    }
    this.kindEl.dataset['testid'] = 'report-kind';
    this.filterEl.type = 'search';
    this.filterEl.placeholder = 'subject contains';
    this.filterEl.autocomplete = 'off';
    this.filterEl.spellcheck = false;
    this.filterEl.dataset['testid'] = 'report-filter';
    const submit = el('button', 'button primary', 'Show');
    submit.type = 'submit';
    submit.dataset['testid'] = 'report-load';
    this.form.setAttribute('aria-label', 'Report range');
    this.form.append(
      this.field('report-from', 'From (UTC day)', this.fromEl),
      this.field('report-to', 'To (UTC day)', this.toEl),
      this.field('report-sla', 'SLA %', this.slaEl),
      submit,
      this.field('report-kind', 'Show', this.kindEl),
      this.field('report-filter', 'Filter', this.filterEl),
    );
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.load();
    });
    this.kindEl.addEventListener('change', () => this.draw());
    this.filterEl.addEventListener('input', () => this.draw());
    for (const input of [this.fromEl, this.toEl, this.slaEl]) input.addEventListener('change', () => this.updateLinks());

    this.csvLink.textContent = '⬇ CSV';
    this.csvLink.dataset['testid'] = 'report-csv';
    this.jsonLink.textContent = '⬇ JSON';
    this.jsonLink.dataset['testid'] = 'report-json';
    const downloads = el('div', 'downloads');
    downloads.append(this.csvLink, this.jsonLink);

    for (const c of COLUMNS) {
      const th = el('th', c.numeric ? 'num' : '');
      th.scope = 'col';
      const b = el('button', 'sort', c.label);
      b.type = 'button';
      b.addEventListener('click', () => {
        if (this.sortKey === c.key) this.sortDesc = !this.sortDesc;
        else {
          this.sortKey = c.key;
          this.sortDesc = c.key === 'day';
        }
        this.draw();
      });
      th.dataset['key'] = c.key;
      th.append(b);
      this.headRow.append(th);
    }
    const wrap = el('div', 'table-wrap');
    const t = el('table', 'data');
    t.dataset['testid'] = 'report-table';
    const thead = el('thead');
    thead.append(this.headRow);
    t.append(thead, this.body);
    wrap.append(t);
    this.emptyEl.hidden = true;
    const legend = el('p', 'muted', `Grades: ${Object.values(GRADE_TEXT).join(' · ')}. Days are UTC.`);
    this.status.setAttribute('role', 'status');
    const head = el('div', 'section-head');
    head.append(this.status, downloads);
    this.root.replaceChildren(h, this.form, this.error, head, wrap, this.emptyEl, legend);
    this.updateLinks();
  }

  private query(format: 'json' | 'csv'): string {
    const p = new URLSearchParams();
    if (this.fromEl.value) p.set('from', this.fromEl.value);
    if (this.toEl.value) p.set('to', this.toEl.value);
    if (this.slaEl.value.trim() !== '') p.set('sla', this.slaEl.value.trim());
    p.set('format', format);
    return `api/reports?${p.toString()}`;
  }

  private updateLinks(): void {
    const name = `edgemon-reports-${this.fromEl.value || 'from'}-${this.toEl.value || 'to'}`;
    this.csvLink.href = this.query('csv');
    this.csvLink.download = `${name}.csv`;
    this.jsonLink.href = this.query('json');
    this.jsonLink.download = `${name}.json`;
  }

  private async load(): Promise<void> {
    this.updateLinks();
    const gen = ++this.gen;
    setText(this.status, 'Loading…');
    try {
      const data = obj(await apiFetch<unknown>(this.query('json')));
      if (gen !== this.gen) return;
      this.rows = (Array.isArray(data['reports']) ? data['reports'] : []).map(parseRow);
      setText(this.error, '');
      const sla = num(data['sla']);
      if (this.slaEl.value.trim() === '' && sla > 0) this.slaEl.placeholder = String(sla);
      setText(this.status, `${str(data['from'])} to ${str(data['to'])} (UTC), SLA ${sla} %`);
    } catch (err) {
      if (gen !== this.gen) return;
      if (err instanceof ApiError && err.status === 401) return;
      this.rows = [];
      setText(this.status, '');
      setText(this.error, `Cannot load the reports: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.draw();
  }

  private draw(): void {
    const kind = this.kindEl.value;
    const q = this.filterEl.value.trim().toLowerCase();
    const cmp = compareBy(this.sortKey);
    const rows = this.rows
      .filter((r) => (kind === '' || r.kind === kind) && (q === '' || r.subject.toLowerCase().includes(q)))
      .sort((a, b) => (this.sortDesc ? -cmp(a, b) : cmp(a, b)) || collator.compare(a.subject, b.subject));
    for (const th of this.headRow.children) {
      const key = (th as HTMLElement).dataset['key'];
      if (key === this.sortKey) th.setAttribute('aria-sort', this.sortDesc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
    this.body.replaceChildren(...rows.map((r) => this.renderRow(r)));
    this.body.dataset['rows'] = String(rows.length);
    this.emptyEl.hidden = rows.length > 0 || this.error.textContent !== '';
  }

  private renderRow(r: ReportRow): HTMLTableRowElement {
    const tr = el('tr');
    tr.dataset['testid'] = 'report-row';
    tr.dataset['kind'] = r.kind;
    tr.dataset['grade'] = r.grade;
    const subject = el('td', 'wrap');
    const a = el('a', '', r.subject);
    a.href = subjectHref(r);
    subject.append(a);
    const grade = el('td');
    const g = el('span', `grade grade-${/^[A-F]$/.test(r.grade) ? r.grade : 'F'}`, r.grade || '?');
    g.title = GRADE_TEXT[r.grade] ?? r.grade;
    g.setAttribute('aria-label', `grade ${GRADE_TEXT[r.grade] ?? r.grade}`);
    grade.append(g);
    const sla = el('td', r.sla_met ? 'sla-met' : 'sla-missed', r.sla_met ? '✔ met' : '✖ missed');
    const cells = [
      el('td', 'nowrap', r.day),
      subject,
      el('td', '', r.kind),
      el('td', 'num', r.total > 0 ? formatUptime(r.uptime_pct) : '—'),
      grade,
      sla,
      el('td', 'num', r.downtime_ms > 0 ? formatDuration(r.downtime_ms / 1000) : '0'),
      el('td', 'num', String(r.incidents)),
      el('td', 'num', r.avg_rtt_ms === null ? '—' : `${formatRtt(r.avg_rtt_ms)} ms`),
      el('td', 'num', r.loss_pct === null ? '—' : r.loss_pct.toFixed(1)),
    ];
    tr.append(...cells);
    return tr;
  }
}
