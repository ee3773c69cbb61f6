//! Recent packets as a sortable table.

import { createTable } from '../table.js';
import { formatClock, formatBytes } from '../format.js';
import { slot } from '../dom.js';

const endpoint = (ip, port) => (port !== null && port !== undefined && port !== 0 ? `${ip}:${port}` : ip);

export function createPackets(root) {
  const table = createTable(slot(root, 'table'), [
    { key: 't', label: 'Time', value: (r) => r.t, show: (r) => formatClock(r.t), numeric: true },
    { key: 'src', label: 'Source', show: (r) => endpoint(r.src, r.srcPort), cls: 'mono' },
    { key: 'dst', label: 'Destination', show: (r) => endpoint(r.dst, r.dstPort), cls: 'mono' },
    { key: 'protocol', label: 'Protocol', show: (r) => r.protocol.toUpperCase() },
    { key: 'size', label: 'Size', show: (r) => formatBytes(r.size), numeric: true },
  ], { sortKey: 't', emptyText: 'No packets captured yet' });
  return { set: (rows) => table.set(rows) };
}
