//! The process tree, browsable (collapsible nodes) and filterable by name, pid or user.

import { h, fill, slot, empty } from '../dom.js';
import { formatBytes, formatPct } from '../format.js';

/** Builds a forest from a flat list when the API sends one (pid/ppid links). */
export function buildTree(procs) {
  const byPid = new Map(procs.map((p) => [p.pid, { ...p, children: [] }]));
  const roots = [];
  for (const p of byPid.values()) {
    const parent = byPid.get(p.ppid);
    if (parent && parent !== p) parent.children.push(p);
    else roots.push(p);
  }
  return roots;
}

function matches(p, q) {
  return p.name.toLowerCase().includes(q) || String(p.pid) === q || p.user.toLowerCase() === q || p.cmd.toLowerCase().includes(q);
}

/** Keeps nodes that match and the ancestors leading to them. */
function prune(nodes, q) {
  const out = [];
  for (const n of nodes) {
    const kids = prune(n.children, q);
    if (kids.length || matches(n, q)) out.push({ ...n, children: kids });
  }
  return out;
}

export function createProcTree(root) {
  const container = slot(root, 'tree');
  const input = root.querySelector('input.filter');
  const open = new Set([1]);
  let forest = [];

  function node(p, depth, filtering) {
    const label = h('span', { class: 'node' },
      h('span', { class: 'proc-name', text: p.name || '?' }),
      h('span', { class: 'muted mono', text: ` ${p.pid}` }),
      p.user ? h('span', { class: 'muted', text: ` ${p.user}` }) : null,
      p.cpu ? h('span', { class: 'metric', text: ` ${formatPct(p.cpu)}` }) : null,
      p.rss ? h('span', { class: 'metric muted', text: ` ${formatBytes(p.rss)}` }) : null);
    if (p.cmd) label.title = p.cmd;
    if (!p.children.length) return h('li', { class: 'leaf' }, label);
    const det = h('details', { attrs: { open: filtering || open.has(p.pid) || depth < 1 } },
      h('summary', {}, label, h('span', { class: 'count muted', text: ` (${p.children.length})` })),
      h('ul', {}, p.children.map((c) => node(c, depth + 1, filtering))));
    det.addEventListener('toggle', () => (det.open ? open.add(p.pid) : open.delete(p.pid)));
    return h('li', {}, det);
  }

  function render() {
    const q = input.value.trim().toLowerCase();
    const nodes = q ? prune(forest, q) : forest;
    if (!nodes.length) { fill(container, empty(q ? 'No process matches' : 'No process data yet')); return; }
    fill(container, h('ul', { class: 'tree-root' }, nodes.map((n) => node(n, 0, !!q))));
  }

  input.addEventListener('input', render);
  return {
    set(tree, flat = []) {
      forest = tree.length ? tree : buildTree(flat);
      render();
    },
  };
}
