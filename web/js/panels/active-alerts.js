//! Active alerts as severity-colored cards, updated live; a green all-clear when there are none.

import { h, fill, slot } from '../dom.js';
import { SEVERITY_ORDER } from '../charts.js';
import { alertCard } from './alert-card.js';

const rank = (a) => {
  const i = SEVERITY_ORDER.indexOf(a.severity);
  return i < 0 ? SEVERITY_ORDER.length : i;
};

export function createActiveAlerts(root, onCount) {
  const list = slot(root, 'list');
  const active = new Map();

  function render() {
    const items = [...active.values()].sort((a, b) => rank(a) - rank(b) || b.last - a.last);
    onCount(items.length);
    if (!items.length) {
      fill(list, h('div', { class: 'all-clear', attrs: { role: 'status' } }, h('span', { class: 'check', attrs: { 'aria-hidden': 'true' }, text: '✓' }), 'No active alerts'));
      return;
    }
    const now = Date.now();
    fill(list, items.slice(0, 24).map((a) => alertCard(a, now)));
  }

  return {
    set(alerts) {
      active.clear();
      for (const a of alerts) if (a.state !== 'resolved') active.set(a.id || `${a.kind}|${a.first}`, a);
      render();
    },
    upsert(a) {
      const key = a.id || `${a.kind}|${a.first}`;
      if (a.state === 'resolved') active.delete(key);
      else active.set(key, a);
      render();
    },
    refreshTimes: render,
  };
}
