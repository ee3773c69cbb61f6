//! Alerts by kind: how often each detector fired in the time range.

import { hbarChart, SERIES } from '../charts.js';
import { formatCount } from '../format.js';

export function createAlertKinds(root) {
  const chart = hbarChart(root.querySelector('canvas'), { ticks: (v) => formatCount(v) });
  chart.data.datasets[0].backgroundColor = SERIES[4];
  return {
    set(alerts) {
      const counts = new Map();
      for (const a of alerts) counts.set(a.kind, (counts.get(a.kind) || 0) + 1);
      const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
      chart.data.labels = top.map(([k]) => k);
      chart.data.datasets[0].data = top.map(([, n]) => n);
      chart.data.datasets[0].label = 'alerts';
      chart.update('none');
    },
  };
}
