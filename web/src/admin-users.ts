// Admin › Users (GET/POST /api/users, PATCH/DELETE /api/users/<name>) and Admin › API tokens
// (GET/POST /api/tokens, DELETE /api/tokens/<name>). A new token's secret is shown exactly once,
// with a copy button, and is forgotten when the section closes.
import { apiFetch, fetchMe } from './api';
import {
  badge,
  button,
  confirmAction,
  describeError,
  field,
  forbiddenBlock,
  formatTime,
  isForbidden,
  Notice,
  panel,
  pathPart,
  selectField,
  withBusy,
  type Section,
} from './admin-common';
import { el } from './dom';

const NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;
const ROLES = [
  ['viewer', 'viewer'],
  ['admin', 'admin'],
] as const;
const ROLE_HINT = 'viewer: reads everything; admin: also changes things';

interface User {
  name: string;
  role: string;
  created: number;
  password_changed: number;
}
interface Token {
  name: string;
  role: string;
  created: number;
  created_by: string;
  last_used: number | null;
}

function objects(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}
const s = (v: unknown) => (typeof v === 'string' ? v : '');
const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function passwordProblem(p: string): string | null {
  const bytes = new TextEncoder().encode(p).length;
  if (bytes < 8) return 'The password needs at least 8 characters.';
  if (bytes > 1024) return 'The password may have at most 1024 bytes.';
  return null;
}

export class UsersSection implements Section {
  readonly root = el('div', 'adm-section');
  private readonly list = el('ul', 'adm-list');
  private readonly listNotice = new Notice();
  private readonly form = el('form', 'adm-form');
  private readonly formNotice = new Notice('user-form-error');
  private readonly name = field('User name', { required: true, hint: '1–64 characters: letters, digits, _ . @ -', testId: 'user-name', autocomplete: 'off', maxLength: 64 });
  private readonly role = selectField('Role', ROLES, { testId: 'user-role', hint: ROLE_HINT });
  private readonly password = field('Password', { type: 'password', required: true, hint: 'At least 8 characters', testId: 'user-password', autocomplete: 'new-password' });
  private readonly submit = button('Create user', 'primary', 'user-submit');
  private me = '';
  private alive = true;

  constructor() {
    this.list.dataset['testid'] = 'user-list';
    this.submit.type = 'submit';
    const grid = el('div', 'adm-grid');
    grid.append(this.name.wrap, this.role.wrap, this.password.wrap);
    const actions = el('div', 'adm-actions');
    actions.append(this.submit);
    this.form.noValidate = true;
    this.form.append(grid, this.formNotice.el, actions);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.create();
    });
    this.root.append(
      panel('Users', el('p', 'adm-hint', 'A new password logs the user out everywhere. The last admin cannot be demoted or deleted.'), this.listNotice.el, this.list),
      panel('New user', this.form),
    );
  }

  start(): void {
    void this.load();
  }

  dispose(): void {
    this.alive = false;
  }

  private async load(): Promise<void> {
    let users: User[];
    try {
      const [list, me] = await Promise.all([apiFetch<unknown>('api/users'), this.me ? Promise.resolve(null) : fetchMe().catch(() => null)]);
      if (me) this.me = me.user;
      users = objects(list).map((o) => ({ name: s(o['name']), role: s(o['role']), created: n(o['created']), password_changed: n(o['password_changed']) }));
    } catch (err) {
      if (!this.alive) return;
      if (isForbidden(err)) {
        this.root.replaceChildren(forbiddenBlock('users'));
        return;
      }
      this.listNotice.error(describeError(err, 'Cannot load the users'));
      return;
    }
    if (!this.alive) return;
    users.sort((a, b) => a.name.localeCompare(b.name));
    this.list.replaceChildren(...(users.length ? users.map((u) => this.row(u)) : [el('li', 'adm-empty', 'No users.')]));
  }

  private row(u: User): HTMLElement {
    const li = el('li', 'adm-item adm-item-wrap');
    li.dataset['testid'] = 'user-row';
    li.dataset['name'] = u.name;
    const main = el('div', 'adm-item-main');
    main.append(el('span', 'adm-item-title', u.name), badge(u.role, u.role === 'admin' ? 'accent' : 'muted'));
    if (u.name === this.me) main.append(badge('you', 'ok'));
    main.append(el('span', 'adm-item-meta', `created ${formatTime(u.created)} · password changed ${formatTime(u.password_changed)}`));

    const edit = el('form', 'adm-item-edit');
    edit.noValidate = true;
    const role = selectField('Role', ROLES, { value: u.role, testId: 'user-edit-role' });
    const pw = field('New password', { type: 'password', autocomplete: 'new-password', testId: 'user-edit-password', placeholder: 'unchanged' });
    const save = button('Save', 'plain', 'user-save');
    save.type = 'submit';
    save.setAttribute('aria-label', `Save changes to ${u.name}`);
    const del = button('Delete', 'danger', 'user-delete');
    del.setAttribute('aria-label', `Delete user ${u.name}`);
    const notice = new Notice();
    const row = el('div', 'adm-row');
    row.append(role.wrap, pw.wrap, save, del);
    edit.append(row, notice.el);
    edit.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.patch(u, role.select, pw.input, save, notice);
    });
    del.addEventListener('click', () => void this.remove(u, del, notice));
    li.append(main, edit);
    return li;
  }

  private async patch(u: User, role: HTMLSelectElement, pw: HTMLInputElement, btn: HTMLButtonElement, notice: Notice): Promise<void> {
    const body: Record<string, string> = {};
    if (role.value !== u.role) body['role'] = role.value;
    if (pw.value !== '') {
      const problem = passwordProblem(pw.value);
      if (problem) {
        notice.error(problem);
        pw.focus();
        return;
      }
      body['password'] = pw.value;
    }
    if (Object.keys(body).length === 0) {
      notice.info('Nothing to save: pick another role or type a new password.');
      return;
    }
    if (body['role'] && u.name === this.me && body['role'] !== 'admin') {
      if (!(await confirmAction('Demote yourself?', 'You lose the admin pages as soon as this is saved.', 'Demote me'))) return;
    }
    await withBusy(btn, async () => {
      try {
        await apiFetch(`api/users/${pathPart(u.name)}`, { method: 'PATCH', body: JSON.stringify(body) });
        if (!this.alive) return;
        pw.value = '';
        const what = [body['role'] ? `role ${body['role']}` : '', body['password'] ? 'new password (logged out everywhere)' : ''].filter(Boolean).join(', ');
        this.listNotice.ok(`Saved ${u.name}: ${what}.`);
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        notice.error(describeError(err, `Cannot change ${u.name}`));
      }
    }, 'Saving…');
  }

  private async remove(u: User, btn: HTMLButtonElement, notice: Notice): Promise<void> {
    const self = u.name === this.me;
    if (!(await confirmAction(`Delete user ${u.name}?`, self ? 'This is you: you are logged out at once.' : 'Their sessions end at once. API tokens they created keep working.', 'Delete user'))) return;
    if (!this.alive) return;
    await withBusy(btn, async () => {
      try {
        await apiFetch(`api/users/${pathPart(u.name)}`, { method: 'DELETE' });
        if (!this.alive) return;
        this.listNotice.ok(`Deleted user ${u.name}.`);
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        notice.error(describeError(err, `Cannot delete ${u.name}`));
      }
    });
  }

  private async create(): Promise<void> {
    const name = this.name.input.value.trim();
    const password = this.password.input.value;
    for (const f of [this.name.input, this.password.input]) f.removeAttribute('aria-invalid');
    let problem: [string, HTMLInputElement] | null = null;
    if (!NAME_RE.test(name)) problem = ['User name: 1–64 characters of letters, digits, _ . @ -', this.name.input];
    else {
      const p = passwordProblem(password);
      if (p) problem = [p, this.password.input];
    }
    if (problem) {
      this.formNotice.error(problem[0]);
      problem[1].setAttribute('aria-invalid', 'true');
      problem[1].focus();
      return;
    }
    this.formNotice.clear();
    await withBusy(this.submit, async () => {
      try {
        await apiFetch('api/users', { method: 'POST', body: JSON.stringify({ name, password, role: this.role.select.value }) });
        if (!this.alive) return;
        this.form.reset();
        this.formNotice.ok(`Created ${this.role.select.value === 'admin' ? 'admin' : 'user'} ${name}.`);
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        this.formNotice.error(describeError(err, 'Cannot create the user'));
      }
    }, 'Creating…');
  }
}

export class TokensSection implements Section {
  readonly root = el('div', 'adm-section');
  private readonly list = el('ul', 'adm-list');
  private readonly listNotice = new Notice();
  private readonly form = el('form', 'adm-form');
  private readonly formNotice = new Notice('token-form-error');
  private readonly name = field('Token name', { required: true, hint: 'What uses it, e.g. grafana or prometheus', testId: 'token-name', autocomplete: 'off', maxLength: 64 });
  private readonly role = selectField('Role', ROLES, { testId: 'token-role', hint: ROLE_HINT });
  private readonly submit = button('Create token', 'primary', 'token-submit');
  private readonly secretBox = el('div', 'adm-secret');
  private alive = true;

  constructor() {
    this.list.dataset['testid'] = 'token-list';
    this.secretBox.hidden = true;
    this.secretBox.dataset['testid'] = 'token-secret';
    this.submit.type = 'submit';
    const grid = el('div', 'adm-grid');
    grid.append(this.name.wrap, this.role.wrap);
    const actions = el('div', 'adm-actions');
    actions.append(this.submit);
    this.form.noValidate = true;
    this.form.append(grid, this.formNotice.el, actions);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.create();
    });
    this.root.append(
      panel('API tokens', el('p', 'adm-hint', 'For scripts, Grafana and Prometheus: send as “Authorization: Bearer emt_…”. A revoked token stops working at once.'), this.listNotice.el, this.list),
      panel('New token', this.secretBox, this.form),
    );
  }

  start(): void {
    void this.load();
  }

  dispose(): void {
    this.alive = false;
    this.secretBox.replaceChildren(); // the secret is never kept
  }

  private async load(): Promise<void> {
    let tokens: Token[];
    try {
      tokens = objects(await apiFetch<unknown>('api/tokens')).map((o) => ({
        name: s(o['name']),
        role: s(o['role']),
        created: n(o['created']),
        created_by: s(o['created_by']),
        last_used: typeof o['last_used'] === 'number' ? o['last_used'] : null,
      }));
    } catch (err) {
      if (!this.alive) return;
      if (isForbidden(err)) {
        this.root.replaceChildren(forbiddenBlock('API tokens'));
        return;
      }
      this.listNotice.error(describeError(err, 'Cannot load the tokens'));
      return;
    }
    if (!this.alive) return;
    tokens.sort((a, b) => a.name.localeCompare(b.name));
    this.list.replaceChildren(...(tokens.length ? tokens.map((t) => this.row(t)) : [el('li', 'adm-empty', 'No API tokens.')]));
  }

  private row(t: Token): HTMLElement {
    const li = el('li', 'adm-item');
    li.dataset['testid'] = 'token-row';
    li.dataset['name'] = t.name;
    const main = el('div', 'adm-item-main');
    main.append(
      el('span', 'adm-item-title', t.name),
      badge(t.role, t.role === 'admin' ? 'accent' : 'muted'),
      el('span', 'adm-item-meta', `created ${formatTime(t.created)}${t.created_by ? ` by ${t.created_by}` : ''} · last used ${t.last_used ? formatTime(t.last_used) : 'never'}`),
    );
    const del = button('Revoke', 'danger', 'token-delete');
    del.setAttribute('aria-label', `Revoke token ${t.name}`);
    del.addEventListener('click', () => void this.remove(t, del));
    li.append(main, del);
    return li;
  }

  private async remove(t: Token, btn: HTMLButtonElement): Promise<void> {
    if (!(await confirmAction(`Revoke token ${t.name}?`, 'Whatever uses it gets 401 from now on. This cannot be undone.', 'Revoke token'))) return;
    if (!this.alive) return;
    await withBusy(btn, async () => {
      try {
        await apiFetch(`api/tokens/${pathPart(t.name)}`, { method: 'DELETE' });
        if (!this.alive) return;
        this.listNotice.ok(`Revoked token ${t.name}.`);
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        this.listNotice.error(describeError(err, `Cannot revoke ${t.name}`));
      }
    });
  }

  private async create(): Promise<void> {
    const name = this.name.input.value.trim();
    this.name.input.removeAttribute('aria-invalid');
    if (!NAME_RE.test(name)) {
      this.formNotice.error('Token name: 1–64 characters of letters, digits, _ . @ -');
      this.name.input.setAttribute('aria-invalid', 'true');
      this.name.input.focus();
      return;
    }
    this.formNotice.clear();
    await withBusy(this.submit, async () => {
      try {
        const created = await apiFetch<Record<string, unknown>>('api/tokens', {
          method: 'POST',
          body: JSON.stringify({ name, role: this.role.select.value }),
        });
        if (!this.alive) return;
        this.form.reset();
        this.showSecret(name, s(created?.['token']));
        await this.load();
      } catch (err) {
        if (!this.alive) return;
        this.formNotice.error(describeError(err, 'Cannot create the token'));
      }
    }, 'Creating…');
  }

  private showSecret(name: string, token: string): void {
    const title = el('p', 'adm-secret-title', `Token “${name}” created. Copy it now: it is shown only this once.`);
    title.setAttribute('role', 'status');
    const value = el('input', 'adm-secret-value');
    value.readOnly = true;
    value.value = token;
    value.setAttribute('aria-label', `Token ${name}`);
    value.dataset['testid'] = 'token-secret-value';
    value.spellcheck = false;
    value.addEventListener('focus', () => value.select());
    const copy = button('Copy', 'primary', 'token-copy');
    const done = button('Done', 'plain', 'token-done');
    const status = el('span', 'adm-hint');
    status.setAttribute('aria-live', 'polite');
    copy.addEventListener('click', () => {
      const fallback = () => {
        value.focus();
        value.select();
        const ok = document.execCommand('copy');
        status.textContent = ok ? 'Copied.' : 'Select the text and copy it with Ctrl+C.';
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(token).then(() => {
          status.textContent = 'Copied to the clipboard.';
        }, fallback);
      } else {
        fallback();
      }
    });
    done.addEventListener('click', () => {
      this.secretBox.replaceChildren();
      this.secretBox.hidden = true;
      this.name.input.focus();
    });
    const row = el('div', 'adm-row adm-secret-row');
    row.append(value, copy, done);
    this.secretBox.replaceChildren(title, row, status);
    this.secretBox.hidden = false;
    copy.focus();
  }
}
