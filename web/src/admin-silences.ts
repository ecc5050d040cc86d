// Admin › Silences: the silences (GET /api/silences, from gateway.toml and added here), adding one
// with label matchers (globs) for a duration or until a time (POST), and ending one (DELETE).
// Maintenance windows are configuration only: shown read-only when the gateway lists them
// (GET /api/maintenance), else a pointer to gateway.toml [[maintenance]].
import { apiFetch } from './api';
import {
  badge,
  button,
  confirmAction,
  describeError,
  field,
  forbiddenBlock,
  formatRelative,
  formatTime,
  isForbidden,
  isMissingEndpoint,
  nextId,
  Notice,
  panel,
  selectField,
  withBusy,
  type Section,
} from './admin-common';
import { el } from './dom';

interface Silence {
  id: number;
  match: Record<string, string>;
  starts: number | null;
  until: number;
  comment: string;
  active: boolean;
}

const LABELS = ['node', 'rule', 'type', 'severity', 'subject', 'metric', 'target'] as const;
const LABEL_HINT: Record<string, string> = {
  node: 'edgemon/pi-03',
  rule: 'high_cpu',
  type: 'HIGH_*',
  severity: 'warning',
  subject: 'edgemon/pi-03/ping/*/up',
  metric: 'ping/*/rtt',
  target: '10.0.0.1',
};

function parseSilences(v: unknown): Silence[] {
  if (!Array.isArray(v)) return [];
  const out: Silence[] = [];
  for (const raw of v) {
    if (typeof raw !== 'object' || raw === null) continue;
    const o = raw as Record<string, unknown>;
    const match: Record<string, string> = {};
    if (typeof o['match'] === 'object' && o['match'] !== null) {
      for (const [k, val] of Object.entries(o['match'] as Record<string, unknown>)) {
        if (typeof val === 'string') match[k] = val;
      }
    }
    out.push({
      id: typeof o['id'] === 'number' ? o['id'] : 0,
      match,
      starts: typeof o['starts'] === 'number' ? o['starts'] : null,
      until: typeof o['until'] === 'number' ? o['until'] : 0,
      comment: typeof o['comment'] === 'string' ? o['comment'] : '',
      active: o['active'] === true,
    });
  }
  return out;
}

interface MatcherRow {
  row: HTMLElement;
  label: HTMLSelectElement;
  value: HTMLInputElement;
}

export class SilencesSection implements Section {
  readonly root = el('div', 'adm-section');
  private readonly activeList = el('ul', 'adm-list');
  private readonly expiredList = el('ul', 'adm-list');
  private readonly listNotice = new Notice();
  private readonly form = el('form', 'adm-form');
  private readonly formNotice = new Notice('silence-form-error');
  private readonly matchers = el('div', 'adm-matchers');
  private readonly matcherRows: MatcherRow[] = [];
  private readonly addMatcher = button('Add matcher', 'plain', 'silence-add-matcher');
  private readonly modeFor = el('input');
  private readonly modeUntil = el('input');
  private readonly duration = field('Duration', { value: '2h', hint: 'e.g. 30m, 2h, 1d', testId: 'silence-duration' });
  private readonly until = field('Until', { type: 'datetime-local', testId: 'silence-until' });
  private readonly comment = el('textarea');
  private readonly submit = button('Create silence', 'primary', 'silence-submit');
  private readonly maintenance = el('div');
  private readonly nodeList = el('datalist');
  private alive = true;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    this.activeList.dataset['testid'] = 'silence-list';
    this.expiredList.dataset['testid'] = 'silence-expired-list';
    const expired = el('details', 'adm-details');
    expired.append(el('summary', undefined, 'Expired'), this.expiredList);

    // Matchers
    this.nodeList.id = nextId('nodes');
    const legend = el('legend', undefined, 'Match alerts where (every matcher must match; * matches anything)');
    const mf = el('fieldset', 'adm-fieldset');
    this.addMatcher.addEventListener('click', () => {
      const r = this.addMatcherRow('', '');
      r.label.focus();
    });
    mf.append(legend, this.matchers, this.addMatcher);
    this.addMatcherRow('node', '');

    // Duration or until
    const group = nextId('mode');
    const modes = el('fieldset', 'adm-fieldset');
    const radios = el('div', 'adm-radios');
    for (const [input, value, label] of [
      [this.modeFor, 'for', 'For a duration'],
      [this.modeUntil, 'until', 'Until a time'],
    ] as const) {
      input.type = 'radio';
      input.name = group;
      input.value = value;
      input.id = nextId('r');
      const lab = el('label', 'adm-radio');
      lab.htmlFor = input.id;
      lab.append(input, document.createTextNode(` ${label}`));
      radios.append(lab);
      input.addEventListener('change', () => this.applyMode());
    }
    this.modeFor.checked = true;
    modes.append(el('legend', undefined, 'How long'), radios, this.duration.wrap, this.until.wrap);

    const commentWrap = el('div', 'adm-field');
    this.comment.id = nextId('c');
    this.comment.maxLength = 1000;
    this.comment.rows = 2;
    this.comment.dataset['testid'] = 'silence-comment';
    const cl = el('label', undefined, 'Comment (optional)');
    cl.htmlFor = this.comment.id;
    commentWrap.append(cl, this.comment);

    this.submit.type = 'submit';
    const actions = el('div', 'adm-actions');
    actions.append(this.submit);
    this.form.noValidate = true;
    this.form.append(mf, modes, commentWrap, this.formNotice.el, actions, this.nodeList);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.create();
    });
    this.applyMode();

    this.root.append(
      panel('Silences', el('p', 'adm-hint', 'Silenced alerts still change state and are recorded, but nobody is notified.'), this.listNotice.el, this.activeList, expired),
      panel('New silence', this.form),
      panel('Maintenance windows', this.maintenance),
    );
  }

  start(): void {
    void this.load();
    void this.loadMaintenance();
    void this.loadNodes();
    // Silences expire by themselves: keep the lists and the relative times current.
    this.timer = setInterval(() => void this.load(true), 15000);
  }

  dispose(): void {
    this.alive = false;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private addMatcherRow(label: string, value: string): MatcherRow {
    const row = el('div', 'adm-matcher');
    row.dataset['testid'] = 'silence-matcher';
    const l = selectField('Label', LABELS.map((x) => [x, x] as const), { value: label || 'type' });
    l.select.dataset['testid'] = 'silence-label';
    const v = field('Glob', { value, testId: 'silence-glob', maxLength: 200, placeholder: LABEL_HINT[label || 'type'], list: this.nodeList.id });
    l.select.addEventListener('change', () => {
      v.input.placeholder = LABEL_HINT[l.select.value] ?? '';
      if (l.select.value === 'node') v.input.setAttribute('list', this.nodeList.id);
      else v.input.removeAttribute('list');
    });
    if ((label || 'type') !== 'node') v.input.removeAttribute('list');
    const remove = button('Remove', 'plain', 'silence-remove-matcher');
    const entry: MatcherRow = { row, label: l.select, value: v.input };
    remove.addEventListener('click', () => {
      if (this.matcherRows.length <= 1) {
        v.input.value = '';
        v.input.focus();
        return;
      }
      const i = this.matcherRows.indexOf(entry);
      if (i >= 0) this.matcherRows.splice(i, 1);
      row.remove();
      this.updateRemoveLabels();
      this.matcherRows[Math.max(0, i - 1)]?.value.focus();
    });
    row.append(l.wrap, v.wrap, remove);
    this.matchers.append(row);
    this.matcherRows.push(entry);
    this.updateRemoveLabels();
    return entry;
  }

  private updateRemoveLabels(): void {
    this.matcherRows.forEach((m, i) => {
      const b = m.row.querySelector('button');
      b?.setAttribute('aria-label', `Remove matcher ${i + 1}`);
    });
  }

  private applyMode(): void {
    const useFor = this.modeFor.checked;
    this.duration.wrap.hidden = !useFor;
    this.until.wrap.hidden = useFor;
    if (!useFor && this.until.input.value === '') {
      // Default: two hours from now, in local time as datetime-local wants it.
      const d = new Date(Date.now() + 2 * 3600_000);
      d.setSeconds(0, 0);
      const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
      this.until.input.value = local.toISOString().slice(0, 16);
    }
  }

  private async loadNodes(): Promise<void> {
    try {
      const nodes = await apiFetch<unknown>('api/nodes');
      if (!this.alive || !Array.isArray(nodes)) return;
      const opts = nodes
        .map((n) => (typeof n === 'object' && n !== null ? (n as Record<string, unknown>) : {}))
        .filter((n) => typeof n['group'] === 'string' && typeof n['id'] === 'string')
        .map((n) => {
          const o = el('option');
          o.value = `${String(n['group'])}/${String(n['id'])}`;
          return o;
        });
      this.nodeList.replaceChildren(...opts);
    } catch {
      /* only suggestions */
    }
  }

  private async load(quiet = false): Promise<void> {
    let silences: Silence[];
    try {
      silences = parseSilences(await apiFetch<unknown>('api/silences'));
    } catch (err) {
      if (!this.alive) return;
      if (isForbidden(err)) {
        this.root.replaceChildren(forbiddenBlock('silences'));
        this.dispose();
        return;
      }
      if (!quiet) this.listNotice.error(describeError(err, 'Cannot load the silences'));
      return;
    }
    if (!this.alive) return;
    if (!quiet) this.listNotice.clear();
    const now = Date.now();
    const current = silences.filter((s) => s.until > now).sort((a, b) => a.until - b.until);
    const expired = silences.filter((s) => s.until <= now).sort((a, b) => b.until - a.until);
    this.activeList.replaceChildren(...(current.length ? current.map((s) => this.row(s, now)) : [el('li', 'adm-empty', 'No active or scheduled silences.')]));
    this.expiredList.replaceChildren(...(expired.length ? expired.map((s) => this.row(s, now)) : [el('li', 'adm-empty', 'None.')]));
  }

  private row(s: Silence, now: number): HTMLElement {
    const li = el('li', 'adm-item');
    li.dataset['testid'] = 'silence-row';
    li.dataset['id'] = String(s.id);
    const main = el('div', 'adm-item-main');
    const chips = el('span', 'adm-chips');
    for (const [k, v] of Object.entries(s.match)) {
      const c = el('span', 'adm-chip');
      c.append(el('span', 'adm-chip-key', k), document.createTextNode(' = '), el('code', undefined, v));
      chips.append(c);
    }
    const scheduled = !s.active && s.until > now && s.starts !== null && s.starts > now;
    const state = s.active ? badge('active', 'ok') : scheduled ? badge('scheduled', 'accent') : badge('expired', 'muted');
    const when = el(
      'span',
      'adm-item-meta',
      s.until > now
        ? `${scheduled && s.starts !== null ? `from ${formatTime(s.starts)} ` : ''}until ${formatTime(s.until)} (${formatRelative(s.until, now)})`
        : `ended ${formatTime(s.until)} (${formatRelative(s.until, now)})`,
    );
    main.append(el('span', 'adm-item-title', `#${s.id}`), state, chips, when);
    if (s.comment) main.append(el('span', 'adm-item-comment', s.comment));
    li.append(main);
    const del = button(s.until > now ? 'End now' : 'Remove', 'danger', 'silence-end');
    del.setAttribute('aria-label', `${s.until > now ? 'End' : 'Remove'} silence ${s.id}`);
    del.addEventListener('click', () => void this.end(del, s, now));
    li.append(del);
    return li;
  }

  private async end(btn: HTMLButtonElement, s: Silence, now: number): Promise<void> {
    const ending = s.until > now;
    const ok = await confirmAction(
      ending ? `End silence #${s.id}?` : `Remove silence #${s.id}?`,
      ending ? 'Matching alerts that are still firing are announced again.' : 'It has expired; this removes it from the list.',
      ending ? 'End silence' : 'Remove',
    );
    if (!ok || !this.alive) return;
    await withBusy(btn, async () => {
      try {
        await apiFetch(`api/silences/${s.id}`, { method: 'DELETE' });
        if (!this.alive) return;
        this.listNotice.ok(ending ? `Ended silence #${s.id}.` : `Removed silence #${s.id}.`);
        await this.load(true);
      } catch (err) {
        if (!this.alive) return;
        this.listNotice.error(describeError(err, `Cannot end silence #${s.id}`));
      }
    });
  }

  private async create(): Promise<void> {
    const match: Record<string, string> = {};
    for (const m of this.matcherRows) {
      m.value.removeAttribute('aria-invalid');
      const v = m.value.value.trim();
      if (v === '') continue;
      if (match[m.label.value] !== undefined) {
        this.formNotice.error(`Label “${m.label.value}” is used twice; use one glob per label.`);
        m.label.focus();
        return;
      }
      match[m.label.value] = v;
    }
    if (Object.keys(match).length === 0) {
      this.formNotice.error('Add at least one matcher (e.g. node = edgemon/pi-03). Use * to match anything.');
      const first = this.matcherRows[0]?.value;
      first?.setAttribute('aria-invalid', 'true');
      first?.focus();
      return;
    }
    const body: Record<string, unknown> = { match };
    if (this.modeFor.checked) {
      const d = this.duration.input.value.trim();
      if (d === '') {
        this.formNotice.error('Enter a duration, e.g. 2h.');
        this.duration.input.focus();
        return;
      }
      body['duration'] = d;
    } else {
      const t = new Date(this.until.input.value).getTime();
      if (!Number.isFinite(t)) {
        this.formNotice.error('Enter the end date and time.');
        this.until.input.focus();
        return;
      }
      if (t <= Date.now()) {
        this.formNotice.error('The end must be in the future.');
        this.until.input.focus();
        return;
      }
      body['until'] = t;
    }
    const comment = this.comment.value.trim();
    if (comment) body['comment'] = comment;
    this.formNotice.clear();
    await withBusy(
      this.submit,
      async () => {
        try {
          const created = parseSilences([await apiFetch<unknown>('api/silences', { method: 'POST', body: JSON.stringify(body) })])[0];
          if (!this.alive) return;
          this.formNotice.ok(`Created silence #${created?.id ?? '?'} until ${formatTime(created?.until)}.`);
          this.comment.value = '';
          await this.load(true);
        } catch (err) {
          if (!this.alive) return;
          this.formNotice.error(describeError(err, 'Cannot create the silence'));
        }
      },
      'Creating…',
    );
  }

  private async loadMaintenance(): Promise<void> {
    const note = () =>
      this.maintenance.replaceChildren(
        el(
          'p',
          'adm-hint',
          'Maintenance windows are weekly and configured in gateway.toml under [[maintenance]] (see docs/rules.md). During a window matching alerts are recorded but not announced.',
        ),
      );
    let list: unknown;
    try {
      list = await apiFetch<unknown>('api/maintenance');
    } catch (err) {
      if (!this.alive) return;
      if (!isMissingEndpoint(err) && !isForbidden(err)) {
        this.maintenance.replaceChildren(el('p', 'adm-hint', describeError(err, 'Cannot load the maintenance windows')));
      } else {
        note();
      }
      return;
    }
    if (!this.alive) return;
    if (!Array.isArray(list) || list.length === 0) {
      note();
      if (Array.isArray(list)) this.maintenance.prepend(el('p', undefined, 'No maintenance windows are configured.'));
      return;
    }
    const ul = el('ul', 'adm-list');
    ul.dataset['testid'] = 'maintenance-list';
    for (const raw of list) {
      const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
      const li = el('li', 'adm-item');
      const main = el('div', 'adm-item-main');
      main.append(el('span', 'adm-item-title', typeof o['name'] === 'string' && o['name'] ? o['name'] : '(unnamed)'));
      if (o['active'] === true) main.append(badge('active now', 'warn'));
      const bits: string[] = [];
      if (Array.isArray(o['days'])) bits.push(o['days'].map(String).join(' '));
      if (typeof o['start'] === 'string' && typeof o['end'] === 'string') bits.push(`${o['start']}–${o['end']}`);
      if (typeof o['utc_offset_minutes'] === 'number') {
        const m = o['utc_offset_minutes'];
        bits.push(`UTC${m >= 0 ? '+' : '−'}${Math.floor(Math.abs(m) / 60)}:${String(Math.abs(m) % 60).padStart(2, '0')}`);
      }
      main.append(el('span', 'adm-item-meta', bits.join(' · ')));
      if (typeof o['match'] === 'object' && o['match'] !== null) {
        const entries = Object.entries(o['match'] as Record<string, unknown>);
        main.append(el('span', 'adm-item-meta', entries.length ? entries.map(([k, v]) => `${k} = ${String(v)}`).join(', ') : 'everything'));
      }
      li.append(main, el('span', 'adm-readonly', 'gateway.toml'));
      ul.append(li);
    }
    this.maintenance.replaceChildren(ul, el('p', 'adm-hint', 'Configured in gateway.toml [[maintenance]]; read-only here.'));
  }
}
