//! Protocol distribution as a donut.

import { donutChart } from '../charts.js';

export function createProtocols(root) {
  const chart = donutChart(root.querySelector('canvas'));
  return {
    set(rows) {
      const sorted = [...rows].sort((a, b) => b.packets - a.packets);
      chart.data.labels = sorted.map((r) => r.protocol.toUpperCase());
      chart.data.datasets[0].data = sorted.map((r) => r.packets);
      chart.update('none');
    },
  };
}
