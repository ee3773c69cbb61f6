//! Memory and swap in use over time (percent of each total).

import { timeChart, redraw, SERIES } from '../charts.js';
import { slot, setText } from '../dom.js';
import { formatBytes } from '../format.js';

const pct = (used, total) => (total > 0 ? (100 * used) / total : 0);

export function createMemory(root, window) {
  const chart = timeChart(root.querySelector('canvas'), [
    { label: 'Memory %', data: [], borderColor: SERIES[4], backgroundColor: 'rgba(155,81,224,0.16)', fill: 'origin' },
    { label: 'Swap %', data: [], borderColor: SERIES[3], backgroundColor: 'transparent', fill: false },
  ], { yMax: 100, yTicks: (v) => `${v}%` });
  const now = slot(root, 'now');
  return {
    render() {
      chart.data.datasets[0].data = window.points((s) => pct(s.memUsed, s.memTotal));
      chart.data.datasets[1].data = window.points((s) => pct(s.swapUsed, s.swapTotal));
      redraw(chart);
      const s = window.latest;
      if (s) setText(now, `${formatBytes(s.memUsed)} of ${formatBytes(s.memTotal)}${s.swapTotal ? `, swap ${formatBytes(s.swapUsed)}` : ''}`);
    },
  };
}
