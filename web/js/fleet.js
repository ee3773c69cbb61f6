//! The page's host scope: the hosts `GET /hosts` lists and the one chosen (kept in `?host=`).
//! Panels ask it whether a live record belongs to the view and what to call a record's host.

import { hostName, localHost, recordMatches, resolveHost } from './hosts.js';

export const fleet = {
  /** HostView-shaped rows (api.normHost), as /hosts last listed them. */
  hosts: [],
  /** The `?host=` value in force (a host id or hostname), or null for every host; main.js
   * reads it from the page URL at boot. */
  selected: null,

  /** More than one host reports: tables show a Host column, the picker shows. */
  get many() { return this.hosts.length > 1; },

  /** The server's own host (records without a host are its own), or null. */
  get local() { return localHost(this.hosts); },

  /** The chosen host's row, or null (every host, or a name /hosts does not know). */
  get chosen() { return resolveHost(this.hosts, this.selected); },

  /** True when the view is one host that is not this server (its resources are not served). */
  get remote() {
    if (!this.selected) return false;
    const c = this.chosen;
    return !c || !c.local;
  },

  /** Whether a live record naming host `ref` belongs to the view. */
  matches(ref) { return recordMatches(this.selected, ref, this.local); },

  /** The Host cell for a record: its hostname, or '' while only one host is known. */
  label(ref) { return this.many ? hostName(this.hosts, ref) : ''; },
};

/** The Host column of a table of records that name their host (shown while several report). */
export const hostColumn = {
  key: 'host', label: 'Host', value: (r) => fleet.label(r.host), show: (r) => fleet.label(r.host),
  cls: 'host-cell', when: () => fleet.many,
};
