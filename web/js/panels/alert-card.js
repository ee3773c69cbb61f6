//! One alert as a card, colored by severity (EXTREME in purple): shared by the alert panels.

import { h } from '../dom.js';
import { alertColor } from '../charts.js';
import { formatAgo, formatDateTime } from '../format.js';
import { fleet } from '../fleet.js';

/** The subject line: process (name, pid, user) or addresses. Every part is text. */
function subject(a) {
  const parts = [];
  if (a.process) parts.push(h('span', { class: 'proc-name', text: a.process }));
  if (a.pid !== null && a.pid !== undefined) parts.push(h('span', { class: 'muted', text: `pid ${a.pid}` }));
  if (a.user) parts.push(h('span', { class: 'muted', text: `user ${a.user}` }));
  if (a.srcIp) parts.push(h('span', { class: 'mono', text: a.dstIp ? `${a.srcIp} → ${a.dstIp}` : a.srcIp }));
  return parts.length ? h('div', { class: 'alert-subject' }, parts) : null;
}

/** `details` flattened to dotted keys with scalar values, for a compact facts list. */
export function facts(details, prefix = '', out = []) {
  if (!details || typeof details !== 'object') return out;
  for (const [k, v] of Object.entries(details)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) facts(v, key, out);
    else out.push([key, Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : String(v)]);
  }
  return out;
}

function detailsBlock(a) {
  const rows = facts(a.details).slice(0, 30);
  if (!rows.length) return null;
  return h('details', { class: 'alert-details' },
    h('summary', { class: 'muted', text: 'details' }),
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', { class: 'mono', text: k }), h('dd', { class: 'mono', text: v })])));
}

/** The host the alert came from, while more than one host reports. */
function hostChip(ref) {
  const name = fleet.label(ref);
  return name ? h('span', { class: 'host-chip', title: 'host', dataset: { host: name }, text: name }) : null;
}

export function alertCard(a, now = Date.now()) {
  const label = (a.label || a.severity).toUpperCase();
  const card = h('article', {
    class: `alert-card sev-${a.severity}${a.state === 'resolved' ? ' resolved' : ''}`,
    dataset: { id: a.id, kind: a.kind, severity: a.severity },
  },
  h('div', { class: 'alert-head' },
    h('span', { class: 'badge', text: label }),
    h('span', { class: 'alert-kind mono', text: a.kind }),
    a.state === 'resolved' ? h('span', { class: 'pill', text: 'resolved' }) : null,
    a.silenced ? h('span', { class: 'pill', text: 'silenced' }) : null,
    a.ackedBy ? h('span', { class: 'pill', title: 'acknowledged', text: `acked by ${a.ackedBy}` }) : null,
    hostChip(a.host),
    h('time', { class: 'muted', title: formatDateTime(a.last), text: formatAgo(a.last, now) })),
  h('p', { class: 'alert-msg', title: a.message, text: a.message || a.kind }),
  subject(a),
  a.command ? h('div', { class: 'alert-cmd mono', title: a.command, text: a.command }) : null,
  detailsBlock(a));
  card.style.setProperty('--sev', alertColor(a));
  return card;
}
