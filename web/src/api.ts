// HTTP API of the gateway: the session (login, me, logout) and one fetch helper for everything
// else. The session cookie is HttpOnly and sent by the browser; the CSRF token lives only in this
// module's memory (never in localStorage) and goes out as X-CSRF-Token on state-changing requests.
// Paths are relative to the page, so the dashboard also works under a reverse-proxy prefix.

export interface Session {
  user: string;
  role: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds to wait before trying again (429), when the gateway said. */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
let onUnauthorized: (() => void) | null = null;

/** Called when an API request (other than the session calls) answers 401: the session is gone. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * fetch() for the gateway's API: same-origin credentials, JSON accepted, and the CSRF token on
 * every state-changing method. Resolves to the parsed JSON body of a 2xx answer; rejects with an
 * ApiError carrying the gateway's {"error": "..."} message otherwise (status 0: no answer).
 */
export async function apiFetch<T = unknown>(path: string, init: RequestInit = {}, notify401 = true): Promise<T> {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.body !== undefined && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  if (!SAFE_METHODS.has(method) && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  let res: Response;
  try {
    res = await fetch(path, { ...init, method, headers, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'Cannot reach the gateway.');
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok) return body as T;
  const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const message = typeof obj['error'] === 'string' && obj['error'] !== '' ? obj['error'] : `HTTP ${res.status}`;
  let retry: number | null = null;
  if (typeof obj['retry_after_s'] === 'number' && Number.isFinite(obj['retry_after_s'])) {
    retry = obj['retry_after_s'];
  } else {
    const header = Number(res.headers.get('Retry-After'));
    if (res.headers.has('Retry-After') && Number.isFinite(header)) retry = header;
  }
  if (res.status === 401 && notify401 && onUnauthorized) onUnauthorized();
  throw new ApiError(res.status, message, retry === null ? null : Math.max(1, Math.ceil(retry)));
}

function parseSession(v: unknown): Session {
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  if (typeof o['csrf_token'] === 'string') csrfToken = o['csrf_token'];
  return {
    user: typeof o['user'] === 'string' ? o['user'] : '',
    role: typeof o['role'] === 'string' ? o['role'] : '',
  };
}

/** The current session, or null when not logged in (401). Other failures reject. */
export async function fetchMe(): Promise<Session | null> {
  try {
    return parseSession(await apiFetch('api/me', {}, false));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      csrfToken = '';
      return null;
    }
    throw err;
  }
}

export async function login(user: string, password: string): Promise<Session> {
  csrfToken = '';
  return parseSession(
    await apiFetch('api/login', { method: 'POST', body: JSON.stringify({ user, password }) }, false),
  );
}

/** Ends the session on the gateway; the token is forgotten whatever the answer. */
export async function logout(): Promise<void> {
  try {
    await apiFetch('api/logout', { method: 'POST' }, false);
  } finally {
    csrfToken = '';
  }
}

/**
 * A path segment for the gateway's API. The gateway matches node paths without percent-decoding,
 * so characters that are legal in a path stay as they are; only the others are escaped.
 */
export function pathPart(s: string): string {
  return encodeURIComponent(s).replace(/%(40|3A|2B|3D|2C|3B|21|24|26|27|28|29|2A)/g, (m) =>
    decodeURIComponent(m),
  );
}
