//! Top processes by CPU or by memory, as a sortable table.

import { createTable } from '../table.js';
import { formatBytes, formatPct } from '../format.js';
import { slot } from '../dom.js';

export function createTopProcs(root, by) {
  const table = createTable(slot(root, 'table'), [
    { key: 'pid', label: 'PID', numeric: true, cls: 'mono' },
    { key: 'name', label: 'Name', cls: 'proc-name' },
    { key: 'user', label: 'User' },
    { key: 'cpu', label: 'CPU', show: (r) => formatPct(r.cpu), numeric: true },
    { key: 'rss', label: 'RSS', show: (r) => formatBytes(r.rss), numeric: true },
  ], { sortKey: by, emptyText: 'No process data yet' });
  return { set: (rows) => table.set(rows.slice(0, 10)) };
}
