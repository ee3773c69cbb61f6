//! The live feed of new processes; each entry opens to show its argv, exe and ancestry chain.

import { h, fill, slot, empty } from '../dom.js';
import { formatClock, formatDateTime } from '../format.js';
import { fleet } from '../fleet.js';

const MAX_ITEMS = 150;
const FLUSH_MS = 250;

function ancestry(e) {
  if (!e.ancestry.length) return h('p', { class: 'muted', text: 'ancestry unknown' });
  // Nearest parent first, as the API sends it; drawn as a chain down to the new process.
  const chain = [...e.ancestry].reverse();
  return h('ol', { class: 'chain' },
    chain.map((a) => h('li', {}, h('span', { class: 'proc-name', text: a.comm || '?' }), h('span', { class: 'muted mono', text: ` ${a.pid}` }))),
    h('li', { class: 'self' }, h('span', { class: 'proc-name', text: e.comm || '?' }), h('span', { class: 'muted mono', text: ` ${e.pid}` })));
}

function item(e, fresh) {
  const cmd = e.argv.length ? e.argv.join(' ') : e.exe || e.comm;
  const host = fleet.label(e.host);
  return h('li', { class: fresh ? 'fresh' : '', dataset: { pid: String(e.pid) } },
    h('details', {},
      h('summary', {},
        h('time', { class: 'muted mono', title: formatDateTime(e.t), text: formatClock(e.t) }),
        host ? h('span', { class: 'host-chip', title: 'host', dataset: { host }, text: host }) : null,
        h('span', { class: 'proc-name', text: e.comm || e.exe || '?' }),
        h('span', { class: 'muted mono', text: `pid ${e.pid}` }),
        e.user ? h('span', { class: 'muted', text: e.user }) : null,
        h('span', { class: 'feed-cmd mono', text: cmd })),
      h('dl', { class: 'facts' },
        h('dt', { text: 'exe' }), h('dd', { class: 'mono', text: e.exe || '–' }),
        h('dt', { text: 'argv' }), h('dd', {}, h('ol', { class: 'argv mono' }, e.argv.map((a) => h('li', { text: a }))),
          e.argvComplete ? null : h('span', { class: 'muted', text: ' (incomplete: the process exited first)' })),
        h('dt', { text: 'parent' }), h('dd', { class: 'mono', text: String(e.ppid) }),
        h('dt', { text: 'ancestry' }), h('dd', {}, ancestry(e)))));
}

export function createProcFeed(root) {
  const list = slot(root, 'list');
  const seen = new Set();
  // Two agents on one machine see the same process: the host is part of the key.
  const key = (e) => `${e.host?.id || ''}|${e.pid}|${e.t}`;
  let pending = [];
  let timer = null;

  function flush() {
    timer = null;
    if (!pending.length) return;
    if (list.querySelector('.empty')) list.replaceChildren();
    const frag = document.createDocumentFragment();
    for (const e of pending.reverse()) frag.appendChild(item(e, true));
    pending = [];
    list.prepend(frag);
    while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
  }

  return {
    set(events) {
      seen.clear();
      const items = [...events].filter((e) => e.kind === 'exec').sort((a, b) => b.t - a.t).slice(0, MAX_ITEMS);
      for (const e of items) seen.add(key(e));
      if (!items.length) fill(list, empty('Waiting for new processes…'));
      else fill(list, items.map((e) => item(e, false)));
    },
    // Exec storms can bring hundreds of events a second: queue them and draw at most four
    // times a second, only the newest that fit.
    add(e) {
      if (e.kind !== 'exec' || seen.has(key(e))) return;
      seen.add(key(e));
      if (seen.size > MAX_ITEMS * 4) seen.clear();
      pending.push(e);
      if (pending.length > MAX_ITEMS) pending.splice(0, pending.length - MAX_ITEMS);
      if (!timer) timer = setTimeout(flush, FLUSH_MS);
    },
  };
}
