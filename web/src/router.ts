// Hash routes. Every device-supplied path segment (group, node id, family, target) is
// URI-component encoded, so any string survives the round trip.
//
//   #/                                          the fleet overview
//   #/node/<group>/<id>                         one node's detail page
//   #/target/<group>/<node>/<family>/<target>   one probed target of a node
//   #/alerts[/<tab>]                            active alerts, incidents, events
//   #/reports                                   daily uptime / SLA reports
//   #/admin[/<section>]                         administration (role admin)

export type Route =
  | { page: 'overview' }
  | { page: 'node'; group: string; id: string }
  | { page: 'target'; group: string; node: string; family: string; target: string }
  | { page: 'alerts'; tab: string }
  | { page: 'reports' }
  | { page: 'admin'; section: string };

export type PageName = Route['page'];

function decodeAll(parts: readonly string[]): string[] | null {
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return null; // malformed escape
  }
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const parts = path.split('/');
  const head = parts[0] ?? '';
  const rest = parts.slice(1);
  switch (head) {
    case 'node': {
      if (rest.length !== 2 || rest[1] === '') break;
      const d = decodeAll(rest);
      if (d) return { page: 'node', group: d[0] ?? '', id: d[1] ?? '' };
      break;
    }
    case 'target': {
      if (rest.length !== 4 || rest[1] === '' || rest[3] === '') break;
      const d = decodeAll(rest);
      if (d) return { page: 'target', group: d[0] ?? '', node: d[1] ?? '', family: d[2] ?? '', target: d[3] ?? '' };
      break;
    }
    case 'alerts': {
      const d = decodeAll(rest.slice(0, 1));
      return { page: 'alerts', tab: d?.[0] ?? '' };
    }
    case 'reports':
      return { page: 'reports' };
    case 'admin': {
      const d = decodeAll(rest.slice(0, 1));
      return { page: 'admin', section: d?.[0] ?? '' };
    }
    default:
      break;
  }
  return { page: 'overview' };
}

/** True when both routes show the same thing (no re-open needed). */
export function sameRoute(a: Route, b: Route): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function nodeHref(group: string, id: string): string {
  return `#/node/${encodeURIComponent(group)}/${encodeURIComponent(id)}`;
}

export function targetHref(group: string, node: string, family: string, target: string): string {
  return `#/target/${[group, node, family, target].map((s) => encodeURIComponent(s)).join('/')}`;
}

export function alertsHref(tab = ''): string {
  return tab ? `#/alerts/${encodeURIComponent(tab)}` : '#/alerts';
}

export function adminHref(section = ''): string {
  return section ? `#/admin/${encodeURIComponent(section)}` : '#/admin';
}
