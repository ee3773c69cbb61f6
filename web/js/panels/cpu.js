//! System CPU: overall busy share over time, and a live meter per core.

import { timeChart, redraw, SERIES } from '../charts.js';
import { h, fill, slot, setText } from '../dom.js';
import { formatPct } from '../format.js';

export function createCpu(root, window) {
  const chart = timeChart(root.querySelector('canvas'), [
    { label: 'CPU %', data: [], borderColor: SERIES[0], backgroundColor: 'rgba(47,128,237,0.18)', fill: 'origin' },
  ], { yMax: 100, yTicks: (v) => `${v}%` });
  const cores = slot(root, 'cores');
  const now = slot(root, 'now');
  let meters = [];

  function renderCores(values) {
    if (meters.length !== values.length) {
      meters = values.map((_, i) => {
        const bar = h('span', { class: 'core-bar' });
        const val = h('span', { class: 'core-val' });
        return { el: h('div', { class: 'core' }, h('span', { class: 'core-id', text: `cpu${i}` }), h('span', { class: 'core-track' }, bar), val), bar, val };
      });
      fill(cores, meters.map((m) => m.el));
    }
    values.forEach((v, i) => {
      const pct = Math.max(0, Math.min(100, v));
      meters[i].bar.style.width = `${pct}%`;
      meters[i].bar.classList.toggle('hot', pct >= 80);
      setText(meters[i].val, formatPct(v));
    });
  }

  return {
    render() {
      chart.data.datasets[0].data = window.points((s) => s.cpu);
      redraw(chart);
      const s = window.latest;
      if (s) {
        setText(now, formatPct(s.cpu));
        renderCores(s.cores);
      }
    },
  };
}
