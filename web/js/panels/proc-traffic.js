//! Top processes by traffic: bytes in and out per owning process over the flows of the
//! chosen range, the unattributed bucket (`<unknown>`) kept as a row of its own.

import { createTable } from '../table.js';
import { formatAgo, formatBytes, formatCount } from '../format.js';
import { slot } from '../dom.js';
import { hostColumn } from '../fleet.js';

export function createProcTraffic(root) {
  const table = createTable(slot(root, 'table'), [
    hostColumn,
    { key: 'pid', label: 'PID', show: (r) => (r.pid === null ? '–' : String(r.pid)), numeric: true, cls: 'mono' },
    { key: 'name', label: 'Process', cls: 'proc-name' },
    { key: 'bytesIn', label: 'In', show: (r) => formatBytes(r.bytesIn), numeric: true },
    { key: 'bytesOut', label: 'Out', show: (r) => formatBytes(r.bytesOut), numeric: true },
    { key: 'total', label: 'Total', show: (r) => formatBytes(r.total), numeric: true },
    { key: 'flows', label: 'Flows', show: (r) => formatCount(r.flows), numeric: true },
    { key: 'last', label: 'Last seen', show: (r) => formatAgo(r.last), numeric: true },
  ], { sortKey: 'total', emptyText: 'No attributed flows yet' });
  return {
    set(rows) {
      table.set(rows.slice(0, 10));
    },
  };
}
