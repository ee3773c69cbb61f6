//! The processes that raised the most alerts, with their worst severity.

import { h, slot } from '../dom.js';
import { createTable } from '../table.js';
import { SEVERITY_ORDER, alertColor } from '../charts.js';
import { formatAgo, formatCount } from '../format.js';

/** Alerts → one row per process name: count, worst severity, pids seen, last time. */
export function offenders(alerts) {
  const by = new Map();
  for (const a of alerts) {
    if (!a.process) continue;
    const row = by.get(a.process) || { name: a.process, count: 0, worst: a, pids: new Set(), last: -Infinity, user: a.user };
    row.count += 1;
    if (SEVERITY_ORDER.indexOf(a.severity) < SEVERITY_ORDER.indexOf(row.worst.severity)) row.worst = a;
    if (a.pid !== null && a.pid !== undefined) row.pids.add(a.pid);
    row.last = Math.max(row.last, a.last);
    by.set(a.process, row);
  }
  return [...by.values()];
}

export function createOffenders(root) {
  const table = createTable(slot(root, 'table'), [
    { key: 'name', label: 'Process', cls: 'proc-name' },
    { key: 'count', label: 'Alerts', show: (r) => formatCount(r.count), numeric: true },
    {
      key: 'worst', label: 'Worst', value: (r) => -SEVERITY_ORDER.indexOf(r.worst.severity),
      show: (r) => {
        const b = h('span', { class: 'badge small', text: (r.worst.label || r.worst.severity).toUpperCase() });
        b.style.setProperty('--sev', alertColor(r.worst));
        if (r.worst.severity === 'medium' && r.worst.label.toLowerCase() !== 'extreme') b.classList.add('dark-text');
        return b;
      },
    },
    { key: 'pids', label: 'PIDs', value: (r) => r.pids.size, show: (r) => [...r.pids].slice(0, 2).join(', ') + (r.pids.size > 2 ? ` +${r.pids.size - 2}` : ''), cls: 'mono' },
    { key: 'last', label: 'Last', show: (r) => formatAgo(r.last), numeric: true },
  ], { sortKey: 'count', emptyText: 'No process has raised an alert' });
  return { set: (alerts) => table.set(offenders(alerts).slice(0, 15)) };
}
