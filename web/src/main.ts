// edgemon dashboard entry point: the session (login page until GET /api/me says who we are),
// then the gateway connection, the fleet store and the views, routed by the URL hash.
// The overview lives in this bundle; every other page is a lazily imported module listed in
// PAGES (so uPlot and the page code stay out of the first load).
import './style.css';
import { ApiError, apiFetch, fetchMe, logout, setUnauthorizedHandler, type Session } from './api';
import { Connection, gatewaySocketUrl } from './connection';
import { byId, setText } from './dom';
import { LoginView } from './login';
import type { Page, PageContext } from './page';
import { gatewayNodeKey, parseAlerts, type Alert } from './protocol';
import { parseRoute, sameRoute, type PageName, type Route } from './router';
import { FleetStore } from './store';
import { DashboardView } from './view';

const appEl = byId('app');
const overviewEl = byId('overview-view');
const brandSub = byId('brand-sub');
const userEl = byId('session-user');
const logoutBtn = byId<HTMLButtonElement>('logout');
const navEl = byId('nav');
const navAlertCount = byId('nav-alert-count');
const connEl = byId('conn-state');
/** Reconnects answered with `resumed` (missed frames replayed, no snapshot): for diagnostics. */
let resumes = 0;

type LazyPage = Exclude<PageName, 'overview'>;

interface PageDef {
  /** The <main> element in index.html. */
  el: HTMLElement;
  /** Shown next to the brand in the top bar. */
  title: string;
  /** Only for this role (the gateway enforces it anyway). */
  role?: string;
  load: (ctx: PageContext) => Promise<Page>;
}

const PAGES: Record<LazyPage, PageDef> = {
  node: {
    el: byId('node-view'),
    title: 'node detail',
    load: async (ctx) => {
      const m = await import('./detail');
      const view = new m.DetailView((key) => ctx.node(key));
      return {
        open: (r: Route) => {
          if (r.page === 'node') view.open(r.group, r.id);
        },
        close: () => view.close(),
        tick: () => view.tick(),
        upsert: (e) => view.upsert(e),
        remove: (k) => view.remove(k),
        get focusKey() {
          return view.openKey;
        },
      };
    },
  },
  target: {
    el: byId('target-view'),
    title: 'target detail',
    load: async (ctx) => new (await import('./target')).TargetView(ctx),
  },
  alerts: {
    el: byId('alerts-view'),
    title: 'alerts',
    load: async (ctx) => new (await import('./alerts')).AlertsView(ctx),
  },
  reports: {
    el: byId('reports-view'),
    title: 'reports',
    load: async (ctx) => new (await import('./reports')).ReportsView(ctx),
  },
  admin: {
    el: byId('admin-view'),
    title: 'admin',
    role: 'admin',
    load: async (ctx) => {
      const m = await import('./admin');
      const view = new m.AdminView(ctx.root);
      return {
        open: (r: Route) => view.open(r.page === 'admin' ? r.section : ''),
        close: () => view.close(),
      };
    },
  },
};

const overview = new DashboardView();
const loaded = new Map<LazyPage, Page>();
const loading = new Map<LazyPage, Promise<Page>>();
let current: { name: LazyPage; page: Page; route: Route } | null = null;
let session: Session | null = null;
let activeAlerts: Alert[] = [];
/** The node whose page was open last (focus returns to its card on the overview). */
let lastFocusKey = '';

const store = new FleetStore({
  upsert: (entry) => {
    overview.upsert(entry);
    for (const p of loaded.values()) p.upsert?.(entry);
  },
  remove: (key) => {
    overview.remove(key);
    for (const p of loaded.values()) p.remove?.(key);
  },
  beginBatch: () => overview.beginBatch(),
  endBatch: () => overview.endBatch(),
});

function setAlerts(alerts: Alert[]): void {
  activeAlerts = alerts;
  overview.setAlerts(alerts);
  setText(navAlertCount, alerts.length > 0 ? String(alerts.length) : '');
  navAlertCount.hidden = alerts.length === 0;
  navAlertCount.setAttribute('aria-label', `${alerts.length} active`);
  for (const p of loaded.values()) p.alerts?.(alerts);
}

const connection = new Connection({
  url: gatewaySocketUrl(),
  onMessage: (msg) => {
    if (msg.type === 'alerts') setAlerts(msg.alerts);
    else if (msg.type === 'resumed') connEl.dataset['resumes'] = String(++resumes);
    else store.apply(msg);
    // A fresh snapshot may follow a gap in which alerts changed: ask for them again.
    if (msg.type === 'snapshot') void refreshAlerts();
  },
  onState: (state) => overview.setConnState(state),
  // The browser hides the handshake's status: ask the gateway whether the session is still valid.
  onOpenFailed: () => void checkSession(),
});

async function refreshAlerts(): Promise<void> {
  try {
    setAlerts(parseAlerts(await apiFetch<unknown>('api/alerts')));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn('edgemon: cannot load alerts', err);
  }
}

const login = new LoginView((s) => enterApp(s));

function enterApp(s: Session): void {
  session = s;
  login.hide();
  appEl.hidden = false;
  setText(userEl, s.user ? `${s.user}${s.role ? ` (${s.role})` : ''}` : '');
  userEl.hidden = s.user === '';
  logoutBtn.hidden = s.user === '';
  // A gateway without authentication has no roles: everything is open.
  const adminLink = navEl.querySelector<HTMLElement>('[data-nav="admin"]');
  if (adminLink) adminLink.hidden = !(s.role === 'admin' || s.user === '');
  connection.start();
  void route();
}

function leaveApp(message: string): void {
  session = null;
  connection.stop();
  store.clear();
  closeCurrent();
  setAlerts([]);
  appEl.hidden = true;
  login.show(message);
}

let checking = false;
async function checkSession(): Promise<void> {
  if (!session || checking || session.user === '') return;
  checking = true;
  try {
    if ((await fetchMe()) === null && session) leaveApp('Your session has ended. Please log in again.');
  } catch {
    // Gateway unreachable: the connection keeps retrying with backoff.
  } finally {
    checking = false;
  }
}

setUnauthorizedHandler(() => {
  if (session) leaveApp('Your session has ended. Please log in again.');
});

logoutBtn.addEventListener('click', () => {
  logoutBtn.setAttribute('aria-disabled', 'true');
  logout()
    .catch((err: unknown) => console.warn('edgemon: logout failed', err))
    .finally(() => {
      logoutBtn.removeAttribute('aria-disabled');
      if (location.hash !== '' && location.hash !== '#/') history.replaceState(null, '', location.pathname + location.search);
      leaveApp('');
    });
});

const ctx = (root: HTMLElement): PageContext => ({
  root,
  node: (key) => store.get(key),
  nodes: () => store.all(),
  alerts: () => activeAlerts,
  role: () => session?.role ?? '',
});

function loadPage(name: LazyPage): Promise<Page> {
  let p = loading.get(name);
  if (!p) {
    const def = PAGES[name];
    p = def.load(ctx(def.el)).then((page) => {
      loaded.set(name, page);
      return page;
    });
    // A failed load (e.g. the gateway was upgraded and the old chunk is gone) may be retried.
    p.catch(() => loading.delete(name));
    loading.set(name, p);
  }
  return p;
}

function closeCurrent(): void {
  if (!current) return;
  lastFocusKey = current.page.focusKey ?? lastFocusKey;
  current.page.close();
  PAGES[current.name].el.hidden = true;
  current = null;
}

function markNav(name: PageName): void {
  const section = name === 'node' || name === 'target' ? 'overview' : name;
  for (const a of navEl.querySelectorAll<HTMLAnchorElement>('a[data-nav]')) {
    if (a.dataset['nav'] === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showMessage(el: HTMLElement, text: string): void {
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = text;
  el.replaceChildren(p);
}

async function route(): Promise<void> {
  if (!session) return;
  const r = parseRoute(location.hash);
  markNav(r.page);
  // The node a page shows comes in full; the overview needs only cards.
  connection.watch(
    r.page === 'node' ? [gatewayNodeKey(r.group, r.id)] : r.page === 'target' ? [gatewayNodeKey(r.group, r.node)] : [],
  );
  if (r.page === 'overview') {
    closeCurrent();
    overviewEl.hidden = false;
    overview.setVisible(true);
    setText(brandSub, 'fleet overview');
    if (lastFocusKey) overview.focusNode(lastFocusKey);
    lastFocusKey = '';
    return;
  }
  const name: LazyPage = r.page;
  const def = PAGES[name];
  if (current && current.name === name && sameRoute(current.route, r)) return;
  if (current && current.name !== name) closeCurrent();
  overviewEl.hidden = true;
  overview.setVisible(false);
  def.el.hidden = false;
  setText(brandSub, def.title);
  if (def.role && session.user !== '' && session.role !== def.role) {
    showMessage(def.el, `This page needs the ${def.role} role.`);
    return;
  }
  let page: Page;
  try {
    page = await loadPage(name);
  } catch (err) {
    showMessage(def.el, `Cannot load the page (${err instanceof Error ? err.message : String(err)}). Reload the page.`);
    return;
  }
  // The hash may have changed while the module loaded.
  if (!session || !sameRoute(parseRoute(location.hash), r)) return;
  if (current && current.name !== name) closeCurrent();
  current = { name, page, route: r };
  page.alerts?.(activeAlerts);
  page.open(r);
}

window.addEventListener('hashchange', () => void route());
setInterval(() => {
  overview.tick();
  current?.page.tick?.();
}, 1000);

async function boot(): Promise<void> {
  let me: Session | null;
  try {
    me = await fetchMe();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      // A gateway without authentication (no /api/me): straight to the dashboard.
      enterApp({ user: '', role: '' });
      return;
    }
    login.show(`Cannot check the session: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (me) enterApp(me);
  else login.show();
}

void boot();
