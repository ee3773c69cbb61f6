//! A small sortable table: columns describe how to read, sort and show a row; cells are text.

import { h, fill, empty } from './dom.js';

/**
 * `columns`: [{ key, label, value(row) → sortable, show(row) → string | Node, numeric,
 * when() → shown now (optional) }].
 * Clicking a header sorts by it; clicking again flips the direction.
 */
export function createTable(container, allColumns, { sortKey = null, desc = true, emptyText = 'No data yet' } = {}) {
  let rows = [];
  let columns = allColumns;
  let key = sortKey;
  let descending = desc;

  function sorted() {
    const col = columns.find((c) => c.key === key);
    if (!col) return rows;
    const read = col.value || ((r) => r[col.key]);
    const dir = descending ? -1 : 1;
    return [...rows].sort((a, b) => {
      const x = read(a);
      const y = read(b);
      if (x === y) return 0;
      return (x > y ? 1 : -1) * dir;
    });
  }

  function header() {
    return h('tr', {}, columns.map((c) => {
      const active = c.key === key;
      return h('th', {
        class: c.numeric ? 'num' : '',
        attrs: { scope: 'col', 'aria-sort': active ? (descending ? 'descending' : 'ascending') : 'none' },
      }, h('button', { class: 'sort', on: { click: () => sortBy(c.key) } }, c.label, active ? (descending ? ' ▾' : ' ▴') : ''));
    }));
  }

  function sortBy(k) {
    if (k === key) descending = !descending;
    else { key = k; descending = !!columns.find((c) => c.key === k)?.numeric; }
    render();
  }

  function render() {
    columns = allColumns.filter((c) => !c.when || c.when());
    if (!rows.length) { fill(container, empty(emptyText)); return; }
    const body = sorted().map((r) => h('tr', {}, columns.map((c) => {
      const shown = c.show ? c.show(r) : r[c.key];
      return h('td', { class: c.numeric ? 'num' : c.cls || '', dataset: c.key === 'host' ? { host: String(shown ?? '') } : undefined }, shown ?? '');
    })));
    fill(container, h('table', {}, h('thead', {}, header()), h('tbody', {}, body)));
  }

  render();
  return {
    set(next) { rows = next; render(); },
    /** Redraws with the same rows (a column's `when()` may have changed). */
    refresh: render,
  };
}
