//! Pure host-scope logic: the page's `?host=` parameter, which records a chosen host keeps,
//! how a host is named and listed. No DOM; tests in tests/unit/hosts.test.mjs.

/** The `?host=` value of a page URL's search string ('' or null: every host). */
export function hostFromSearch(search) {
  const v = new URLSearchParams(search || '').get('host');
  return v && v.trim() ? v.trim() : null;
}

/** `href` with `?host=` set to `host`, or removed for every host; other parameters and the hash stay. */
export function urlWithHost(href, host) {
  const url = new URL(href);
  if (host) url.searchParams.set('host', host);
  else url.searchParams.delete('host');
  return url.toString();
}

/** The host a `?host=` value names (by id first, else by hostname, as the API reads it), or null. */
export function resolveHost(hosts, wanted) {
  if (!wanted) return null;
  return hosts.find((h) => h.id === wanted) || hosts.find((h) => h.hostname === wanted) || null;
}

/** The host this server runs on (records without a host are its own), or null. */
export const localHost = (hosts) => hosts.find((h) => h.local) || null;

/**
 * Whether a record naming host `ref` ({id, name} or null) belongs to the view `selected`
 * (a host id or hostname; null is every host). A record without a host is the server's
 * own: it matches when `local` (the server's host) is the one selected.
 */
export function recordMatches(selected, ref, local) {
  if (!selected) return true;
  const h = ref && ref.id ? ref : local ? { id: local.id, name: local.hostname } : null;
  return !!h && (h.id === selected || h.name === selected);
}

/** The name to show for a record's host: the registry's current hostname, else the record's own. */
export function hostName(hosts, ref) {
  const local = localHost(hosts);
  if (!ref || !ref.id) return local ? local.hostname : '';
  const known = hosts.find((h) => h.id === ref.id);
  return known ? known.hostname : ref.name || ref.id;
}

/** One picker entry: the hostname and its state; the id too when two hosts share a name. */
export function optionText(host, hosts = [host]) {
  const twin = hosts.some((o) => o.id !== host.id && o.hostname === host.hostname);
  const name = twin ? `${host.hostname} (${host.id})` : host.hostname;
  const tags = [host.status || 'unknown'];
  if (host.local) tags.unshift('this server');
  if (host.revoked) tags.push('revoked');
  return `${name} — ${tags.join(', ')}`;
}

const STATE_RANK = { down: 0, stale: 1, up: 2 };

/** Hosts in picker order: this server first, then by hostname (ids break ties). */
export function sortHosts(hosts) {
  return [...hosts].sort((a, b) => (b.local - a.local)
    || a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
}

/** The "All hosts" entry's text: how many hosts, and how many are not up. */
export function allText(hosts) {
  const n = hosts.length;
  const off = ['down', 'stale'].map((s) => [s, hosts.filter((h) => h.status === s).length]).filter(([, c]) => c > 0);
  const tail = off.map(([s, c]) => `${c} ${s}`).join(', ');
  return `All hosts (${n}${tail ? `; ${tail}` : ''})`;
}

/** The worst state among hosts (down < stale < up), for the picker's status dot. */
export function worstState(hosts) {
  let worst = 'up';
  for (const h of hosts) if ((STATE_RANK[h.status] ?? 2) < STATE_RANK[worst]) worst = h.status;
  return worst;
}
