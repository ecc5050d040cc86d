// Hash routes: #/ (the fleet overview) and #/node/<group>/<id> (one node's detail page).
// Group and id are URI-component encoded, so any device-supplied string survives the round trip.

export type Route = { page: 'overview' } | { page: 'node'; group: string; id: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts.length === 3 && parts[0] === 'node' && parts[2] !== '') {
    try {
      return { page: 'node', group: decodeURIComponent(parts[1] ?? ''), id: decodeURIComponent(parts[2] ?? '') };
    } catch {
      /* malformed escape: fall through to the overview */
    }
  }
  return { page: 'overview' };
}

export function nodeHref(group: string, id: string): string {
  return `#/node/${encodeURIComponent(group)}/${encodeURIComponent(id)}`;
}
