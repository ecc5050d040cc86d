// edgemon dashboard entry point: the session (login page until GET /api/me says who we are),
// then the gateway connection, the fleet store and the views, routed by the URL hash.
import './style.css';
import { ApiError, fetchMe, logout, setUnauthorizedHandler, type Session } from './api';
import { Connection, gatewaySocketUrl } from './connection';
import type { DetailView } from './detail';
import { byId, setText } from './dom';
import { LoginView } from './login';
import { parseRoute } from './router';
import { FleetStore } from './store';
import { DashboardView } from './view';

const appEl = byId('app');
const overviewEl = byId('overview-view');
const nodeViewEl = byId('node-view');
const brandSub = byId('brand-sub');
const userEl = byId('session-user');
const logoutBtn = byId<HTMLButtonElement>('logout');

const overview = new DashboardView();
let detail: DetailView | null = null;
let detailLoad: Promise<DetailView> | null = null;
let session: Session | null = null;
/** The node whose detail page was open last (focus returns to its card). */
let lastDetailKey = '';

const store = new FleetStore({
  upsert: (entry) => {
    overview.upsert(entry);
    detail?.upsert(entry);
  },
  remove: (key) => {
    overview.remove(key);
    detail?.remove(key);
  },
});

const connection = new Connection({
  url: gatewaySocketUrl(),
  onMessage: (msg) => store.apply(msg),
  onState: (state) => overview.setConnState(state),
  // The browser hides the handshake's status: ask the gateway whether the session is still valid.
  onOpenFailed: () => void checkSession(),
});

const login = new LoginView((s) => enterApp(s));

function enterApp(s: Session): void {
  session = s;
  login.hide();
  appEl.hidden = false;
  setText(userEl, s.user ? `${s.user}${s.role ? ` (${s.role})` : ''}` : '');
  userEl.hidden = s.user === '';
  logoutBtn.hidden = s.user === '';
  connection.start();
  void route();
}

function leaveApp(message: string): void {
  session = null;
  connection.stop();
  store.clear();
  detail?.close();
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

function loadDetail(): Promise<DetailView> {
  detailLoad ??= import('./detail').then((m) => {
    detail = new m.DetailView((key) => store.get(key));
    return detail;
  });
  return detailLoad;
}

async function route(): Promise<void> {
  if (!session) return;
  const r = parseRoute(location.hash);
  if (r.page === 'node') {
    overviewEl.hidden = true;
    nodeViewEl.hidden = false;
    setText(brandSub, 'node detail');
    let view: DetailView;
    try {
      view = await loadDetail();
    } catch (err) {
      // E.g. the gateway was upgraded and the old chunk name is gone: a reload fetches the new one.
      detailLoad = null;
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = `Cannot load the node page (${err instanceof Error ? err.message : String(err)}). Reload the page.`;
      nodeViewEl.replaceChildren(p);
      return;
    }
    // The hash may have changed while the module loaded.
    const now = parseRoute(location.hash);
    if (now.page !== 'node' || now.group !== r.group || now.id !== r.id || !session) return;
    view.open(r.group, r.id);
    lastDetailKey = view.openKey;
  } else {
    detail?.close();
    nodeViewEl.hidden = true;
    overviewEl.hidden = false;
    setText(brandSub, 'fleet overview');
    if (lastDetailKey) overview.focusNode(lastDetailKey);
    lastDetailKey = '';
  }
}

window.addEventListener('hashchange', () => void route());
setInterval(() => {
  overview.tick();
  detail?.tick();
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
