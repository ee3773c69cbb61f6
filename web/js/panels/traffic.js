//! Traffic over time: packets (area) and bytes (line) per bucket, with live ticks appended.

import { timeChart, redraw, SERIES } from '../charts.js';
import { formatBytes, formatCount } from '../format.js';

export function createTraffic(root) {
  const chart = timeChart(root.querySelector('canvas'), [
    { label: 'Packets', yAxisID: 'y', data: [], borderColor: SERIES[0], backgroundColor: 'rgba(47,128,237,0.22)', fill: 'origin' },
    { label: 'Bytes', yAxisID: 'y1', data: [], borderColor: SERIES[1], backgroundColor: 'rgba(39,174,96,0.10)', fill: false, borderDash: [4, 3] },
  ], { yTicks: (v) => formatCount(v), y1Ticks: (v) => formatBytes(v) });

  return {
    set(points) {
      const pts = points.filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
      chart.data.datasets[0].data = pts.map((p) => ({ x: p.t, y: p.packets }));
      chart.data.datasets[1].data = pts.map((p) => ({ x: p.t, y: p.bytes }));
      redraw(chart);
    },
  };
}
