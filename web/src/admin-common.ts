// Shared pieces of the admin pages: labelled form fields, an error/notice area, submit buttons
// that are disabled while a request is in flight, a modal confirmation, and the gateway's errors
// turned into sentences. Every user- or device-supplied string goes through textContent or an
// attribute (el(), setText()), never through innerHTML.
import { ApiError } from './api';
import { el, setText } from './dom';

/** One admin section (targets, rules, …): builds its DOM into `root`, loads, and stops on dispose. */
export interface Section {
  readonly root: HTMLElement;
  /** Called once after the section is attached to the document. */
  start(): void;
  /** Stops timers; late answers of requests in flight are dropped. */
  dispose(): void;
}

let uid = 0;
/** A page-unique id for label/for and aria-describedby pairs. */
export function nextId(prefix: string): string {
  uid += 1;
  return `adm-${prefix}-${uid}`;
}

/** Why a request failed, as a sentence for the person at the screen. */
export function describeError(err: unknown, what: string): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `${what}: this needs the admin role (${err.message}).`;
    if (err.status === 0) return `${what}: cannot reach the gateway. Check the connection and try again.`;
    if (err.status === 429) {
      return `${what}: too many requests${err.retryAfterS ? `; try again in ${err.retryAfterS} s` : ''}.`;
    }
    const msg = err.message.replace(/[.\s]+$/, '');
    return `${what}: ${msg}.`;
  }
  return `${what}: ${err instanceof Error ? err.message : String(err)}`;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403;
}

export function isMissingEndpoint(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405);
}

/** A message area: role="alert" for errors (read out at once), role="status" for notices. */
export class Notice {
  readonly el: HTMLElement;
  constructor(testId?: string) {
    this.el = el('p', 'adm-notice');
    this.el.hidden = true;
    if (testId) this.el.dataset['testid'] = testId;
  }
  error(text: string): void {
    this.show(text, 'error');
  }
  ok(text: string): void {
    this.show(text, 'ok');
  }
  info(text: string): void {
    this.show(text, 'info');
  }
  clear(): void {
    this.el.hidden = true;
    setText(this.el, '');
    this.el.removeAttribute('role');
  }
  private show(text: string, tone: 'error' | 'ok' | 'info'): void {
    // Re-setting the role makes screen readers announce a repeated identical message too.
    this.el.removeAttribute('role');
    this.el.dataset['tone'] = tone;
    this.el.setAttribute('role', tone === 'error' ? 'alert' : 'status');
    this.el.textContent = text;
    this.el.hidden = text === '';
  }
}

export interface FieldOptions {
  type?: string | undefined;
  required?: boolean | undefined;
  placeholder?: string | undefined;
  hint?: string | undefined;
  autocomplete?: string | undefined;
  value?: string | undefined;
  testId?: string | undefined;
  inputMode?: string | undefined;
  pattern?: string | undefined;
  min?: string | undefined;
  step?: string | undefined;
  maxLength?: number | undefined;
  minLength?: number | undefined;
  list?: string | undefined;
}

/** A labelled input (label above, optional hint below, tied with aria-describedby). */
export function field(label: string, opts: FieldOptions = {}): { wrap: HTMLElement; input: HTMLInputElement } {
  const wrap = el('div', 'adm-field');
  const id = nextId('f');
  const lab = el('label', undefined, label);
  lab.htmlFor = id;
  const input = el('input');
  input.id = id;
  input.type = opts.type ?? 'text';
  if (opts.required) input.required = true;
  if (opts.placeholder) input.placeholder = opts.placeholder;
  if (opts.autocomplete) input.setAttribute('autocomplete', opts.autocomplete);
  if (opts.value !== undefined) input.value = opts.value;
  if (opts.testId) input.dataset['testid'] = opts.testId;
  if (opts.inputMode) input.inputMode = opts.inputMode;
  if (opts.pattern) input.pattern = opts.pattern;
  if (opts.min !== undefined) input.min = opts.min;
  if (opts.step !== undefined) input.step = opts.step;
  if (opts.maxLength !== undefined) input.maxLength = opts.maxLength;
  if (opts.minLength !== undefined) input.minLength = opts.minLength;
  if (opts.list) input.setAttribute('list', opts.list);
  if (input.type === 'text') {
    input.autocapitalize = 'none';
    input.spellcheck = false;
  }
  wrap.append(lab, input);
  if (opts.hint) {
    const hint = el('span', 'adm-hint', opts.hint);
    hint.id = `${id}-hint`;
    input.setAttribute('aria-describedby', hint.id);
    wrap.append(hint);
  }
  return { wrap, input };
}

/** A labelled <select> with [value, text] options. */
export function selectField(
  label: string,
  options: ReadonlyArray<readonly [string, string]>,
  opts: { value?: string; testId?: string; hint?: string } = {},
): { wrap: HTMLElement; select: HTMLSelectElement } {
  const wrap = el('div', 'adm-field');
  const id = nextId('s');
  const lab = el('label', undefined, label);
  lab.htmlFor = id;
  const select = el('select');
  select.id = id;
  for (const [value, text] of options) {
    const o = el('option', undefined, text);
    o.value = value;
    select.append(o);
  }
  if (opts.value !== undefined) select.value = opts.value;
  if (opts.testId) select.dataset['testid'] = opts.testId;
  wrap.append(lab, select);
  if (opts.hint) {
    const hint = el('span', 'adm-hint', opts.hint);
    hint.id = `${id}-hint`;
    select.setAttribute('aria-describedby', hint.id);
    wrap.append(hint);
  }
  return { wrap, select };
}

export function button(text: string, kind: 'primary' | 'danger' | 'plain' = 'plain', testId?: string): HTMLButtonElement {
  const b = el('button', `button adm-button${kind === 'plain' ? '' : ` ${kind}`}`, text);
  b.type = 'button';
  if (testId) b.dataset['testid'] = testId;
  return b;
}

/**
 * Runs `fn` with `btn` disabled (and aria-busy) until it settles; a second click meanwhile does
 * nothing. Returns what `fn` returned, or undefined when the button was already busy.
 */
export async function withBusy<T>(btn: HTMLButtonElement, fn: () => Promise<T>, busyText?: string): Promise<T | undefined> {
  if (btn.disabled) return undefined;
  const text = btn.textContent ?? '';
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  if (busyText) btn.textContent = busyText;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    // Unless fn relabelled the button meanwhile (e.g. a form leaving edit mode).
    if (busyText && btn.textContent === busyText) btn.textContent = text;
  }
}

/**
 * A modal confirmation (<dialog>, so focus stays inside and Escape cancels). Resolves true only
 * when the action button was pressed.
 */
export function confirmAction(title: string, detail: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = el('dialog', 'adm-dialog');
    dialog.dataset['testid'] = 'confirm-dialog';
    const titleId = nextId('dlg');
    const h = el('h2', undefined, title);
    h.id = titleId;
    dialog.setAttribute('aria-labelledby', titleId);
    const p = el('p', undefined, detail);
    const row = el('div', 'adm-actions');
    const cancel = button('Cancel', 'plain', 'confirm-cancel');
    const ok = button(action, 'danger', 'confirm-ok');
    row.append(cancel, ok);
    dialog.append(h, p, row);
    let result = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      previous?.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** "2026-11-21 14:03" in local time (or "—"). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** "in 1 h 20 min" / "3 min ago" relative to now. */
export function formatRelative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  const s = Math.round(Math.abs(diff) / 1000);
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    text = m > 0 ? `${h} h ${m} min` : `${h} h`;
  } else {
    const d = Math.floor(s / 86400);
    const h = Math.round((s % 86400) / 3600);
    text = h > 0 ? `${d} d ${h} h` : `${d} d`;
  }
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** A titled box (h2 + content). */
export function panel(title: string, ...children: Node[]): HTMLElement {
  const s = el('section', 'adm-panel');
  const id = nextId('p');
  const h = el('h2', undefined, title);
  h.id = id;
  s.setAttribute('aria-labelledby', id);
  s.append(h, ...children);
  return s;
}

/** A short text badge. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'muted' | 'accent' = 'muted'): HTMLElement {
  const b = el('span', 'adm-badge', text);
  b.dataset['tone'] = tone;
  return b;
}

/** The block shown instead of a section when the gateway said 403. */
export function forbiddenBlock(what: string): HTMLElement {
  const box = el('div', 'adm-forbidden');
  box.dataset['testid'] = 'admin-forbidden';
  box.setAttribute('role', 'alert');
  box.append(
    el('h2', undefined, 'Admin role needed'),
    el('p', undefined, `Your account may look at the fleet but cannot manage ${what}. Ask an administrator to change your role.`),
  );
  return box;
}

export { pathPart } from './api';
