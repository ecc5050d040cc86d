// Admin › Rules: the alert rules (GET /api/rules). Rules from gateway.toml are read-only; rules
// added through the API can be edited (PUT /api/rules/<name>) and deleted. The JSON uses the TOML
// key names of docs/rules.md, and the form only shows (and sends) the keys of the chosen kind:
// the gateway rejects a key that does not apply to the kind.
import { apiFetch } from './api';
import {
  badge,
  button,
  confirmAction,
  describeError,
  field,
  forbiddenBlock,
  isForbidden,
  isMissingEndpoint,
  nextId,
  Notice,
  panel,
  pathPart,
  selectField,
  withBusy,
  type Section,
} from './admin-common';
import { el, setText } from './dom';

type Kind = 'threshold' | 'failure' | 'error_rate' | 'absence' | 'node_down';
type Rule = Record<string, unknown> & { name: string; kind: Kind; source: string };

const KINDS: ReadonlyArray<readonly [Kind, string]> = [
  ['threshold', 'threshold'],
  ['failure', 'failure'],
  ['error_rate', 'error rate'],
  ['absence', 'absence'],
  ['node_down', 'node down'],
];

const KIND_HINT: Record<Kind, string> = {
  threshold: 'A value crosses a limit (with hysteresis).',
  failure: 'N failed probe samples (value 0) in a row fire, M good ones recover.',
  error_rate: 'The % of failed samples over the last N samples.',
  absence: 'No data for a while (without a metric: nothing at all from the node).',
  node_down: 'The node went offline (NDEATH).',
};

const KIND_LABEL: Record<Kind, string> = {
  threshold: 'threshold',
  failure: 'failure',
  error_rate: 'error rate',
  absence: 'absence',
  node_down: 'node down',
};

/** Which optional keys each kind accepts (rules_config.cpp); the common ones come on top. */
const KIND_KEYS: Record<Kind, readonly string[]> = {
  threshold: ['metric', 'op', 'threshold', 'recovery', 'samples', 'for', 'recovery_samples'],
  failure: ['metric', 'failure_threshold', 'success_threshold'],
  error_rate: ['metric', 'window', 'min_samples', 'threshold', 'recovery'],
  absence: ['metric', 'for'],
  node_down: ['for'],
};

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const DURATION_HINT = 'e.g. 30s, 5m, 2h, 1h30m, or seconds';

function asKind(v: unknown): Kind {
  return typeof v === 'string' && (KIND_KEYS as Record<string, unknown>)[v] ? (v as Kind) : 'threshold';
}

function parseRules(v: unknown): Rule[] {
  if (!Array.isArray(v)) return [];
  const out: Rule[] = [];
  for (const raw of v) {
    if (typeof raw !== 'object' || raw === null) continue;
    const o = raw as Record<string, unknown>;
    if (typeof o['name'] !== 'string') continue;
    out.push({ ...o, name: o['name'], kind: asKind(o['kind']), source: typeof o['source'] === 'string' ? o['source'] : 'config' });
  }
  return out;
}

/** A rule value for display/editing ("" when absent). */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One line saying when the rule fires. */
function describeRule(r: Rule): string {
  const metric = text(r['metric']);
  switch (r.kind) {
    case 'threshold': {
      const op = text(r['op']) || '>';
      const when = text(r['for']) ? ` for ${text(r['for'])}` : text(r['samples']) && text(r['samples']) !== '1' ? ` for ${text(r['samples'])} samples` : '';
      const rec = text(r['recovery']) ? `; recovers past ${text(r['recovery'])}` : '';
      return `${metric} ${op} ${text(r['threshold'])}${when}${rec}`;
    }
    case 'failure':
      return `${metric}: ${text(r['failure_threshold']) || '1'} failed samples fire, ${text(r['success_threshold']) || '1'} good recover`;
    case 'error_rate':
      return `${metric}: more than ${text(r['threshold'])} % failed over ${text(r['window'])} samples`;
    case 'absence':
      return `${metric || 'anything from the node'}: no data for ${text(r['for'])}`;
    case 'node_down':
      return `node offline${text(r['for']) ? ` for ${text(r['for'])}` : ''}`;
  }
}

interface FormField {
  key: string;
  wrap: HTMLElement;
  control: HTMLInputElement | HTMLSelectElement;
  kinds: readonly Kind[] | 'all';
  kindOf: 'text' | 'number' | 'integer' | 'duration' | 'list' | 'select';
}

export class RulesSection implements Section {
  readonly root = el('div', 'adm-section');
  private readonly list = el('ul', 'adm-list');
  private readonly listNotice = new Notice();
  private readonly form = el('form', 'adm-form');
  private readonly formTitle = el('h2', undefined, 'New rule');
  private readonly formNotice = new Notice('rule-form-error');
  private readonly submit = button('Create rule', 'primary', 'rule-submit');
  private readonly cancelEdit = button('Cancel editing');
  private readonly fields: FormField[] = [];
  private readonly kindSel: HTMLSelectElement;
  private readonly nameInput: HTMLInputElement;
  private readonly fireMode = { samples: el('input'), for: el('input') };
  private readonly fireModeWrap = el('fieldset', 'adm-fieldset');
  private readonly kindHint: Element | null;
  private readonly formPanel = el('section', 'adm-panel');
  private editing: string | null = null;
  private rules: Rule[] = [];
  private alive = true;

  constructor() {
    const listPanel = panel('Rules', el('p', 'adm-hint', 'Rules added here take effect at once. Rules from gateway.toml (and built-in ones) are read-only here: change the file and restart the gateway.'), this.listNotice.el, this.list);
    this.list.dataset['testid'] = 'rule-list';

    // --- the form ---
    const name = field('Name', { required: true, hint: '1–64 characters: letters, digits, _ . -', testId: 'rule-name', maxLength: 64 });
    this.nameInput = name.input;
    const kind = selectField('Kind', KINDS, { testId: 'rule-kind', hint: KIND_HINT.threshold });
    this.kindHint = kind.wrap.querySelector('.adm-hint');
    this.kindSel = kind.select;
    this.kindSel.addEventListener('change', () => this.applyKind());
    const add = (f: Omit<FormField, 'wrap' | 'control'> & { wrap: HTMLElement; control: HTMLInputElement | HTMLSelectElement }) => {
      this.fields.push(f);
      return f.wrap;
    };
    const input = (key: string, label: string, kindOf: FormField['kindOf'], kinds: FormField['kinds'], hint?: string, placeholder?: string) => {
      const f = field(label, {
        hint,
        placeholder,
        testId: `rule-${key}`,
        inputMode: kindOf === 'number' ? 'decimal' : kindOf === 'integer' ? 'numeric' : undefined,
      });
      return add({ key, kinds, kindOf, wrap: f.wrap, control: f.input });
    };
    const metric = input('metric', 'Metric', 'text', ['threshold', 'failure', 'error_rate', 'absence'], "'*' matches within one '/' segment, e.g. ping/*/rtt", 'cpu/total');
    const nodes = input('nodes', 'Nodes (optional)', 'list', 'all', "Comma-separated globs, e.g. rack1-*, edgemon/pi-0?; empty: every node");
    const op = selectField('Operator', [['>', '> above'], ['>=', '>= at or above'], ['<', '< below'], ['<=', '<= at or below'], ['==', '== equal'], ['!=', '!= not equal']], { testId: 'rule-op' });
    const opEl = add({ key: 'op', kinds: ['threshold'], kindOf: 'select', wrap: op.wrap, control: op.select });
    const threshold = input('threshold', 'Threshold', 'number', ['threshold', 'error_rate'], 'Fires when the value crosses it');
    const recovery = input('recovery', 'Recovery (optional)', 'number', ['threshold', 'error_rate'], 'Recovers only past this value (default: the threshold)');

    // threshold: either N samples or a duration.
    const legend = el('legend', undefined, 'Fire after');
    const modeRow = el('div', 'adm-radios');
    const group = nextId('mode');
    for (const [value, label, inputEl] of [
      ['samples', 'N samples in a row', this.fireMode.samples],
      ['for', 'a duration', this.fireMode.for],
    ] as const) {
      inputEl.type = 'radio';
      inputEl.name = group;
      inputEl.value = value;
      inputEl.id = nextId('r');
      const lab = el('label', 'adm-radio');
      lab.htmlFor = inputEl.id;
      lab.append(inputEl, document.createTextNode(` ${label}`));
      modeRow.append(lab);
      inputEl.addEventListener('change', () => this.applyKind());
    }
    this.fireMode.samples.checked = true;
    const samples = input('samples', 'Samples', 'integer', ['threshold'], 'Consecutive bad samples (default 1)');
    const forF = input('for', 'Duration', 'duration', ['threshold', 'absence', 'node_down'], DURATION_HINT);
    const recSamples = input('recovery_samples', 'Recovery samples (optional)', 'integer', ['threshold'], 'Consecutive good samples to recover (default 1)');
    this.fireModeWrap.append(legend, modeRow);

    const failTh = input('failure_threshold', 'Failed samples to fire', 'integer', ['failure'], 'Default 1');
    const succTh = input('success_threshold', 'Good samples to recover', 'integer', ['failure'], 'Default 1');
    const windowF = input('window', 'Window (samples)', 'integer', ['error_rate'], 'The last N samples');
    const minSamples = input('min_samples', 'Minimum samples (optional)', 'integer', ['error_rate'], 'Default: the window');
    const type = input('type', 'Alert type (optional)', 'text', 'all', 'e.g. HIGH_CPU; default depends on the kind');
    const sev = selectField('Severity', [['', 'default (warning)'], ['info', 'info'], ['warning', 'warning'], ['critical', 'critical']], { testId: 'rule-severity' });
    const sevEl = add({ key: 'severity', kinds: 'all', kindOf: 'select', wrap: sev.wrap, control: sev.select });
    const repeat = input('repeat_interval', 'Repeat interval (optional)', 'duration', 'all', `Re-announce while firing; ${DURATION_HINT}`);
    const cooldown = input('cooldown', 'Cooldown (optional)', 'duration', 'all', `Least time between two notices; ${DURATION_HINT}`);

    const grid = el('div', 'adm-grid');
    grid.append(name.wrap, kind.wrap, metric, nodes, opEl, threshold, recovery, this.fireModeWrap, samples, forF, recSamples, failTh, succTh, windowF, minSamples, type, sevEl, repeat, cooldown);
    this.submit.type = 'submit';
    this.cancelEdit.hidden = true;
    this.cancelEdit.addEventListener('click', () => this.resetForm());
    const actions = el('div', 'adm-actions');
    actions.append(this.submit, this.cancelEdit);
    this.form.noValidate = true;
    this.form.append(grid, this.formNotice.el, actions);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.formTitle.id = nextId('p');
    this.formPanel.setAttribute('aria-labelledby', this.formTitle.id);
    this.formPanel.append(this.formTitle, this.form);
    this.root.append(listPanel, this.formPanel);
    this.applyKind();
  }

  start(): void {
    void this.load();
  }

  dispose(): void {
    this.alive = false;
  }

  private async load(): Promise<void> {
    try {
      this.rules = parseRules(await apiFetch<unknown>('api/rules'));
    } catch (err) {
      if (!this.alive) return;
      if (isForbidden(err)) {
        this.root.replaceChildren(forbiddenBlock('alert rules'));
        return;
      }
      if (isMissingEndpoint(err)) {
        this.list.replaceChildren();
        this.formPanel.hidden = true;
        this.listNotice.info('This gateway has no rules API (GET /api/rules): rules are configured in gateway.toml [[rules]].');
        return;
      }
      this.listNotice.error(describeError(err, 'Cannot load the rules'));
      return;
    }
    if (!this.alive) return;
    this.listNotice.clear();
    this.formPanel.hidden = false;
    this.render();
  }

  private render(): void {
    if (this.rules.length === 0) {
      this.list.replaceChildren(el('li', 'adm-empty', 'No rules yet.'));
      return;
    }
    const items = this.rules.map((r) => {
      const li = el('li', 'adm-item');
      li.dataset['testid'] = 'rule-row';
      li.dataset['name'] = r.name;
      const main = el('div', 'adm-item-main');
      const title = el('span', 'adm-item-title', r.name);
      const badges = el('span', 'adm-item-state');
      badges.append(badge(KIND_LABEL[r.kind], 'accent'));
      const sev = text(r['severity']);
      if (sev) badges.append(badge(sev, sev === 'critical' ? 'bad' : sev === 'warning' ? 'warn' : 'muted'));
      badges.append(badge(r.source === 'api' ? 'added here' : r.source === 'builtin' ? 'built in' : 'gateway.toml', 'muted'));
      const what = el('span', 'adm-item-meta', describeRule(r));
      const extra: string[] = [];
      if (text(r['type'])) extra.push(`type ${text(r['type'])}`);
      if (text(r['nodes'])) extra.push(`nodes ${text(r['nodes'])}`);
      main.append(title, badges, what);
      if (extra.length) main.append(el('span', 'adm-item-meta', extra.join(' · ')));
      li.append(main);
      if (r.source === 'api') {
        const acts = el('div', 'adm-item-actions');
        const edit = button('Edit', 'plain', 'rule-edit');
        edit.setAttribute('aria-label', `Edit rule ${r.name}`);
        edit.addEventListener('click', () => this.edit(r));
        const del = button('Delete', 'danger', 'rule-delete');
        del.setAttribute('aria-label', `Delete rule ${r.name}`);
        del.addEventListener('click', () => void this.remove(del, r.name));
        acts.append(edit, del);
        li.append(acts);
      } else {
        li.append(el('span', 'adm-readonly', 'read-only'));
      }
      return li;
    });
    this.list.replaceChildren(...items);
  }

  private kind(): Kind {
    return asKind(this.kindSel.value);
  }

  /** Shows the fields of the chosen kind; hidden ones are not sent. */
  private applyKind(): void {
    const k = this.kind();
    const useFor = this.fireMode.for.checked;
    for (const f of this.fields) {
      let show = f.kinds === 'all' || f.kinds.includes(k);
      if (k === 'threshold' && f.key === 'samples') show = !useFor;
      if (k === 'threshold' && f.key === 'for') show = useFor;
      f.wrap.hidden = !show;
      f.control.disabled = !show;
    }
    this.fireModeWrap.hidden = k !== 'threshold';
    if (this.kindHint) setText(this.kindHint, KIND_HINT[k]);
    const thField = this.fields.find((f) => f.key === 'threshold');
    const thLabel = thField?.wrap.querySelector('label');
    if (thLabel) setText(thLabel, k === 'error_rate' ? 'Threshold (% failed)' : 'Threshold');
    const thHint = thField?.wrap.querySelector('.adm-hint');
    if (thHint) setText(thHint, k === 'error_rate' ? 'Fires when more than this % of the window failed' : 'Fires when the value crosses it');
    const metricField = this.fields.find((f) => f.key === 'metric');
    if (metricField) {
      const lab = metricField.wrap.querySelector('label');
      if (lab) setText(lab, k === 'absence' ? 'Metric (optional)' : 'Metric');
    }
    const forField = this.fields.find((f) => f.key === 'for');
    if (forField) {
      const lab = forField.wrap.querySelector('label');
      if (lab) setText(lab, k === 'absence' ? 'No data for' : k === 'node_down' ? 'Offline for (optional)' : 'Duration');
    }
  }

  /** The JSON body from the visible fields, or an error message. */
  private body(): { body: Record<string, unknown> } | { error: string; focus: HTMLElement } {
    const k = this.kind();
    const name = this.nameInput.value.trim();
    if (!NAME_RE.test(name)) return { error: 'Name: 1–64 characters of letters, digits, _ . -', focus: this.nameInput };
    const body: Record<string, unknown> = { name, kind: k };
    for (const f of this.fields) {
      if (f.wrap.hidden) continue;
      const raw = f.control.value.trim();
      if (raw === '') continue;
      const label = f.wrap.querySelector('label')?.textContent?.replace(/\s*\(optional\)$/, '') ?? f.key;
      switch (f.kindOf) {
        case 'number': {
          const n = Number(raw);
          if (!Number.isFinite(n)) return { error: `${label}: must be a number`, focus: f.control };
          body[f.key] = n;
          break;
        }
        case 'integer': {
          const n = Number(raw);
          if (!Number.isInteger(n) || n < 1) return { error: `${label}: must be a whole number ≥ 1`, focus: f.control };
          body[f.key] = n;
          break;
        }
        case 'duration':
          body[f.key] = /^\d+$/.test(raw) ? Number(raw) : raw;
          break;
        case 'list':
          body[f.key] = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
          break;
        default:
          body[f.key] = raw;
      }
    }
    const need = (key: string, what: string) => {
      const f = this.fields.find((x) => x.key === key);
      return body[key] === undefined && f ? { error: `${what} is required for this kind.`, focus: f.control } : null;
    };
    const missing =
      (['threshold', 'failure', 'error_rate'].includes(k) ? need('metric', 'Metric') : null) ??
      (k === 'threshold' || k === 'error_rate' ? need('threshold', 'Threshold') : null) ??
      (k === 'error_rate' ? need('window', 'Window') : null) ??
      (k === 'absence' ? need('for', 'A duration') : null);
    if (missing) return missing;
    return { body };
  }

  private async save(): Promise<void> {
    const b = this.body();
    if ('error' in b) {
      this.formNotice.error(b.error);
      b.focus.setAttribute('aria-invalid', 'true');
      b.focus.focus();
      return;
    }
    for (const f of this.form.querySelectorAll('[aria-invalid]')) f.removeAttribute('aria-invalid');
    this.formNotice.clear();
    const editing = this.editing;
    await withBusy(
      this.submit,
      async () => {
        try {
          if (editing) {
            await apiFetch(`api/rules/${pathPart(editing)}`, { method: 'PUT', body: JSON.stringify(b.body) });
          } else {
            await apiFetch('api/rules', { method: 'POST', body: JSON.stringify(b.body) });
          }
          if (!this.alive) return;
          const name = String(b.body['name']);
          this.resetForm();
          this.formNotice.ok(editing ? `Saved rule ${name}.` : `Created rule ${name}.`);
          await this.load();
        } catch (err) {
          if (!this.alive) return;
          this.formNotice.error(describeError(err, editing ? `Cannot save rule ${editing}` : 'Cannot create the rule'));
        }
      },
      editing ? 'Saving…' : 'Creating…',
    );
  }

  private edit(r: Rule): void {
    this.resetForm();
    this.editing = r.name;
    setText(this.formTitle, `Edit rule ${r.name}`);
    setText(this.submit, 'Save changes');
    this.cancelEdit.hidden = false;
    this.nameInput.value = r.name;
    this.nameInput.readOnly = true; // renaming is delete + add
    this.kindSel.value = r.kind;
    const hasFor = text(r['for']) !== '' && text(r['for']) !== '0';
    this.fireMode.for.checked = hasFor;
    this.fireMode.samples.checked = !hasFor;
    for (const f of this.fields) f.control.value = text(r[f.key]);
    this.applyKind();
    this.formTitle.scrollIntoView({ block: 'start', behavior: 'smooth' });
    this.nameInput.focus({ preventScroll: true });
  }

  private resetForm(): void {
    this.editing = null;
    this.form.reset();
    this.nameInput.readOnly = false;
    this.fireMode.samples.checked = true;
    setText(this.formTitle, 'New rule');
    setText(this.submit, 'Create rule');
    this.cancelEdit.hidden = true;
    this.formNotice.clear();
    this.applyKind();
  }

  private async remove(btn: HTMLButtonElement, name: string): Promise<void> {
    if (!(await confirmAction(`Delete rule ${name}?`, 'Its alerts that are firing recover (“rule no longer applies”).', 'Delete rule'))) return;
    if (!this.alive) return;
    await withBusy(btn, async () => {
      try {
        await apiFetch(`api/rules/${pathPart(name)}`, { method: 'DELETE' });
        if (!this.alive) return;
        if (this.editing === name) this.resetForm();
        this.listNotice.ok(`Deleted rule ${name}.`);
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        this.listNotice.error(describeError(err, `Cannot delete rule ${name}`));
      }
    });
  }
}
