// Admin › Targets: a node's ping targets (GET /api/nodes/<g>/<n>/targets), adding one (POST)
// and removing one (DELETE), with the delivery state of the remote configuration the gateway
// sends the node (managed version vs. the version the node reports).
import { apiFetch } from './api';
import {
  badge,
  button,
  confirmAction,
  describeError,
  field,
  forbiddenBlock,
  formatRelative,
  isForbidden,
  Notice,
  panel,
  pathPart,
  selectField,
  withBusy,
  type Section,
} from './admin-common';
import { el, setText } from './dom';
import { formatRtt } from './format';
import { targetHref } from './router';

interface NodeInfo {
  group: string;
  id: string;
  online: boolean;
  /** Rolling ping stats by target, from /api/nodes' aggregation. */
  stats: Map<string, { rtt: number | null; loss: number | null; up: number | null; state: number | null }>;
}

interface NodeTargets {
  node: string;
  targets: string[];
  config_version: string;
  config_status: string;
  managed: { targets: string[]; version: string; updated: number } | null;
  pending: boolean;
}

/** The TargetHost pattern of docs/openapi.yaml. */
const HOST_RE = /^[A-Za-z0-9:][A-Za-z0-9.:-]*$/;
const POLL_MS = 2000;
const NODES_EVERY = 5; // polls

/** The node chosen last (kept while moving between admin sections). */
let lastNodeKey = '';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function parseNodes(v: unknown): NodeInfo[] {
  if (!Array.isArray(v)) return [];
  const out: NodeInfo[] = [];
  for (const raw of v) {
    if (typeof raw !== 'object' || raw === null) continue;
    const o = raw as Record<string, unknown>;
    const stats: NodeInfo['stats'] = new Map();
    if (Array.isArray(o['targets'])) {
      for (const t of o['targets']) {
        if (typeof t !== 'object' || t === null) continue;
        const r = t as Record<string, unknown>;
        if (str(r['family']) !== 'ping') continue;
        stats.set(str(r['target']), { rtt: num(r['rtt_avg']), loss: num(r['loss_pct']), up: num(r['up']), state: num(r['state']) });
      }
    }
    out.push({ group: str(o['group']), id: str(o['id']), online: o['online'] === true, stats });
  }
  return out;
}

function parseTargets(v: unknown): NodeTargets {
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  let managed: NodeTargets['managed'] = null;
  const m = o['managed'];
  if (typeof m === 'object' && m !== null) {
    const mo = m as Record<string, unknown>;
    managed = { targets: list(mo['targets']), version: str(mo['version']), updated: num(mo['updated']) ?? 0 };
  }
  return {
    node: str(o['node']),
    targets: list(o['targets']),
    config_version: str(o['config_version']),
    config_status: str(o['config_status']),
    managed,
    pending: o['pending'] === true,
  };
}

const keyOf = (n: { group: string; id: string }) => `${n.group}/${n.id}`;

export class TargetsSection implements Section {
  readonly root = el('div', 'adm-section');
  private readonly body = el('div', 'adm-stack');
  private readonly nodeField = selectField('Node', [], { testId: 'target-node' });
  private readonly nodeNotice = new Notice();
  private readonly hostField = field('Target host', {
    required: true,
    placeholder: '10.0.0.1 or router.lan',
    testId: 'target-host',
    maxLength: 253,
    autocomplete: 'off',
  });
  private readonly addBtn = button('Add target', 'primary', 'target-add');
  private readonly formNotice = new Notice('target-form-error');
  private readonly delivery = el('div', 'adm-delivery');
  private readonly list = el('ul', 'adm-list');
  private readonly leftover = el('p', 'adm-hint');
  private readonly listNotice = new Notice();
  private readonly listPanel: HTMLElement;
  private readonly formEl = el('form', 'adm-form adm-inline-form');
  private nodes: NodeInfo[] = [];
  private current: NodeTargets | null = null;
  private currentKey = '';
  private timer: ReturnType<typeof setInterval> | undefined;
  private polls = 0;
  private alive = true;
  private loadSeq = 0;

  constructor() {
    const pick = el('div', 'adm-row');
    const refresh = button('Refresh');
    refresh.addEventListener('click', () => void withBusy(refresh, () => this.loadNodes(true)));
    pick.append(this.nodeField.wrap, refresh);
    this.nodeField.select.addEventListener('change', () => this.selectNode(this.nodeField.select.value));

    this.addBtn.type = 'submit';
    this.formEl.noValidate = true;
    const formRow = el('div', 'adm-row');
    formRow.append(this.hostField.wrap, this.addBtn);
    // The hint goes under the whole row, so the button lines up with the input.
    const hint = el('p', 'adm-hint', 'An IP address or host name; the node pings it every round.');
    hint.id = `${this.hostField.input.id}-hint`;
    this.hostField.input.setAttribute('aria-describedby', hint.id);
    this.formEl.append(formRow, hint, this.formNotice.el);
    this.formEl.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.add();
    });
    this.list.dataset['testid'] = 'target-list';
    this.list.setAttribute('aria-live', 'polite');
    this.leftover.hidden = true;
    this.delivery.dataset['testid'] = 'target-delivery';
    this.delivery.setAttribute('role', 'status');
    this.listPanel = panel('Ping targets', this.delivery, this.list, this.leftover, this.listNotice.el, this.formEl);
    this.listPanel.hidden = true;
    this.body.append(
      panel(
        'Node',
        el('p', 'adm-hint', 'Targets are sent to the node as remote configuration; it confirms by reporting the new version.'),
        pick,
        this.nodeNotice.el,
      ),
      this.listPanel,
    );
    this.root.append(this.body);
  }

  start(): void {
    void this.loadNodes(false);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  dispose(): void {
    this.alive = false;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (!this.alive || document.hidden) return;
    this.polls += 1;
    if (this.polls % NODES_EVERY === 0) await this.loadNodes(false, true);
    if (this.currentKey) await this.loadTargets(true);
  }

  private async loadNodes(announce: boolean, quiet = false): Promise<void> {
    let nodes: NodeInfo[];
    try {
      nodes = parseNodes(await apiFetch<unknown>('api/nodes'));
    } catch (err) {
      if (!this.alive) return;
      if (isForbidden(err)) {
        this.root.replaceChildren(forbiddenBlock('ping targets'));
        this.dispose();
        return;
      }
      if (!quiet) this.nodeNotice.error(describeError(err, 'Cannot load the nodes'));
      return;
    }
    if (!this.alive) return;
    this.nodes = nodes.sort((a, b) => keyOf(a).localeCompare(keyOf(b), undefined, { numeric: true }));
    this.renderNodeOptions();
    if (this.nodes.length === 0) {
      this.nodeNotice.info('No node has reported yet. Start an agent, then press Refresh.');
    } else if (announce) {
      this.nodeNotice.ok(`${this.nodes.length} node${this.nodes.length === 1 ? '' : 's'} loaded.`);
    } else if (!quiet) {
      this.nodeNotice.clear();
    }
    if (this.current) this.renderList();
  }

  private renderNodeOptions(): void {
    const sel = this.nodeField.select;
    const want = this.currentKey || lastNodeKey;
    const options: HTMLOptionElement[] = [];
    const placeholder = el('option', undefined, this.nodes.length ? 'Choose a node…' : 'No nodes');
    placeholder.value = '';
    options.push(placeholder);
    for (const n of this.nodes) {
      const o = el('option', undefined, `${n.id} (${n.group})${n.online ? '' : ' — offline'}`);
      o.value = keyOf(n);
      options.push(o);
    }
    // Rebuild only when the list changed, so an open dropdown is not disturbed by the poll.
    const sig = options.map((o) => `${o.value}=${o.textContent}`).join('\n');
    if (sel.dataset['sig'] !== sig) {
      sel.replaceChildren(...options);
      sel.dataset['sig'] = sig;
    }
    const has = this.nodes.some((n) => keyOf(n) === want);
    sel.value = has ? want : '';
    if (has && this.currentKey !== want) this.selectNode(want);
  }

  private selectNode(key: string): void {
    this.currentKey = key;
    lastNodeKey = key;
    this.current = null;
    this.formNotice.clear();
    this.listNotice.clear();
    this.list.replaceChildren();
    this.leftover.hidden = true;
    setText(this.delivery, '');
    this.listPanel.hidden = key === '';
    if (key) {
      setText(this.delivery, 'Loading…');
      void this.loadTargets(false);
    }
  }

  private nodeOf(key: string): NodeInfo | undefined {
    return this.nodes.find((n) => keyOf(n) === key);
  }

  private targetsUrl(node: NodeInfo, host?: string): string {
    const base = `api/nodes/${pathPart(node.group)}/${pathPart(node.id)}/targets`;
    return host === undefined ? base : `${base}/${pathPart(host)}`;
  }

  private async loadTargets(quiet: boolean): Promise<void> {
    const key = this.currentKey;
    const node = this.nodeOf(key);
    if (!node) return;
    const seq = ++this.loadSeq;
    try {
      const t = parseTargets(await apiFetch<unknown>(this.targetsUrl(node)));
      if (!this.alive || key !== this.currentKey || seq !== this.loadSeq) return;
      this.current = t;
      this.listNotice.clear();
      this.renderList();
    } catch (err) {
      if (!this.alive || key !== this.currentKey || seq !== this.loadSeq) return;
      if (!quiet || !this.current) this.listNotice.error(describeError(err, 'Cannot load the targets'));
    }
  }

  /** The list the node should have: the managed one once the API set one, else what it reports. */
  private desired(t: NodeTargets): string[] {
    return t.managed ? t.managed.targets : t.targets;
  }

  private renderList(): void {
    const t = this.current;
    const node = this.nodeOf(this.currentKey);
    if (!t || !node) return;
    this.renderDelivery(t);
    const desired = this.desired(t);
    const reported = new Set(t.targets);
    const rows = new Map<string, HTMLElement>();
    for (const li of Array.from(this.list.children)) {
      if (li instanceof HTMLElement && li.dataset['host'] !== undefined) rows.set(li.dataset['host'], li);
    }
    const keep: HTMLElement[] = [];
    for (const host of desired) {
      const row = rows.get(host) ?? this.makeRow(node, host);
      this.updateRow(row, node, host, reported.has(host), t.pending);
      keep.push(row);
    }
    if (keep.length === 0) {
      const empty = el('li', 'adm-empty', 'No ping targets. Add one below.');
      this.list.replaceChildren(empty);
    } else {
      this.list.replaceChildren(...keep);
    }
    const gone = t.targets.filter((h) => !desired.includes(h));
    this.leftover.hidden = gone.length === 0;
    setText(this.leftover, gone.length ? `Still reported by the node until it applies the change: ${gone.join(', ')}` : '');
  }

  private renderDelivery(t: NodeTargets): void {
    const parts: Node[] = [];
    if (!t.managed) {
      parts.push(badge('node config', 'muted'), el('span', undefined, ' The list comes from the node’s own configuration; it was never changed here.'));
    } else if (t.pending) {
      parts.push(
        badge('pending', 'warn'),
        el(
          'span',
          undefined,
          ` Version ${t.managed.version} sent ${formatRelative(t.managed.updated)}; the node reports ${t.config_version || 'no version'}${t.config_status ? ` (${t.config_status})` : ''}. It is sent again when the node reconnects.`,
        ),
      );
    } else {
      parts.push(
        badge('applied', 'ok'),
        el('span', undefined, ` The node runs version ${t.managed.version}${t.config_status ? ` (${t.config_status})` : ''}, set ${formatRelative(t.managed.updated)}.`),
      );
    }
    this.delivery.dataset['pending'] = String(t.pending);
    this.delivery.dataset['version'] = t.managed?.version ?? '';
    this.delivery.replaceChildren(...parts);
  }

  private makeRow(node: NodeInfo, host: string): HTMLElement {
    const li = el('li', 'adm-item');
    li.dataset['testid'] = 'target-row';
    li.dataset['host'] = host;
    const main = el('div', 'adm-item-main');
    const name = el('a', 'adm-item-title', host);
    name.href = targetHref(node.group, node.id, 'ping', host);
    const state = el('span', 'adm-item-state');
    const stats = el('span', 'adm-item-meta');
    main.append(name, state, stats);
    const remove = button('Remove', 'danger', 'target-remove');
    remove.setAttribute('aria-label', `Remove target ${host}`);
    remove.addEventListener('click', () => void this.remove(remove, host));
    li.append(main, remove);
    return li;
  }

  private updateRow(row: HTMLElement, node: NodeInfo, host: string, reported: boolean, pending: boolean): void {
    const stateEl = row.querySelector('.adm-item-state');
    const statsEl = row.querySelector('.adm-item-meta');
    const s = node.stats.get(host);
    if (stateEl) {
      const b = reported
        ? s && s.up === 0
          ? badge('not answering', 'bad')
          : badge('measured', 'ok')
        : badge(pending ? 'waiting for node' : 'not reported yet', 'warn');
      stateEl.replaceChildren(b);
    }
    if (statsEl) {
      const bits: string[] = [];
      if (s?.rtt !== null && s?.rtt !== undefined) bits.push(`avg ${formatRtt(s.rtt)} ms`);
      if (s?.loss !== null && s?.loss !== undefined) bits.push(`loss ${s.loss.toFixed(s.loss >= 10 || s.loss === 0 ? 0 : 1)} %`);
      setText(statsEl, bits.join(' · '));
    }
    row.dataset['reported'] = String(reported);
  }

  private async add(): Promise<void> {
    const node = this.nodeOf(this.currentKey);
    const input = this.hostField.input;
    const host = input.value.trim();
    if (!node) {
      this.formNotice.error('Choose a node first.');
      this.nodeField.select.focus();
      return;
    }
    if (host === '' || host.length > 253 || !HOST_RE.test(host)) {
      input.setAttribute('aria-invalid', 'true');
      this.formNotice.error(
        host === '' ? 'Enter a host to ping.' : 'Not a valid host: use an IP address or a host name (letters, digits, dots, dashes, colons).',
      );
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    this.formNotice.clear();
    const key = this.currentKey;
    await withBusy(
      this.addBtn,
      async () => {
        try {
          const t = parseTargets(await apiFetch<unknown>(this.targetsUrl(node), { method: 'POST', body: JSON.stringify({ host }) }));
          if (!this.alive || key !== this.currentKey) return;
          const already = !t.pending && (this.current ? this.desired(this.current).includes(host) : false);
          this.loadSeq++; // a poll in flight must not overwrite this newer answer
          this.current = t;
          this.renderList();
          input.value = '';
          this.formNotice.ok(
            already ? `${host} is already a target of ${node.id}.` : `Added ${host}; sent to ${node.id} as configuration version ${t.managed?.version ?? '?'}.`,
          );
        } catch (err) {
          if (!this.alive) return;
          this.formNotice.error(describeError(err, `Cannot add ${host}`));
          input.focus();
        }
      },
      'Adding…',
    );
  }

  private async remove(btn: HTMLButtonElement, host: string): Promise<void> {
    const node = this.nodeOf(this.currentKey);
    if (!node) return;
    const ok = await confirmAction(
      `Remove ${host}?`,
      `${node.id} stops pinging ${host}. Its history stays in the database.`,
      'Remove target',
    );
    if (!ok || !this.alive) return;
    const key = this.currentKey;
    await withBusy(
      btn,
      async () => {
        try {
          const t = parseTargets(await apiFetch<unknown>(this.targetsUrl(node, host), { method: 'DELETE' }));
          if (!this.alive || key !== this.currentKey) return;
          this.loadSeq++;
          this.current = t;
          this.renderList();
          this.formNotice.ok(`Removed ${host}; sent to ${node.id} as configuration version ${t.managed?.version ?? '?'}.`);
          this.hostField.input.focus();
        } catch (err) {
          if (!this.alive) return;
          this.listNotice.error(describeError(err, `Cannot remove ${host}`));
        }
      },
      'Removing…',
    );
  }
}
