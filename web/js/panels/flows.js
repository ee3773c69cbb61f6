//! Top flows (connections) by bytes, as a sortable table.

import { createTable } from '../table.js';
import { formatAgo, formatBytes, formatCount } from '../format.js';
import { slot } from '../dom.js';
import { hostColumn } from '../fleet.js';

const endpoint = (ip, port) => (port !== null && port !== undefined && port !== 0 ? `${ip}:${port}` : ip);

export function createFlows(root) {
  const table = createTable(slot(root, 'table'), [
    hostColumn,
    { key: 'src', label: 'From', show: (r) => endpoint(r.src, r.srcPort), cls: 'mono' },
    { key: 'dst', label: 'To', show: (r) => endpoint(r.dst, r.dstPort), cls: 'mono' },
    { key: 'protocol', label: 'Proto', show: (r) => r.protocol.toUpperCase() },
    { key: 'packets', label: 'Packets', show: (r) => formatCount(r.packets), numeric: true },
    { key: 'bytes', label: 'Bytes', show: (r) => formatBytes(r.bytes), numeric: true },
    { key: 'last', label: 'Last seen', show: (r) => formatAgo(r.last), numeric: true },
  ], { sortKey: 'bytes', emptyText: 'No flows yet' });
  return { set: (rows) => table.set(rows.slice(0, 20)), refresh: table.refresh };
}
