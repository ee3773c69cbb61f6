//! Load average (1, 5 and 15 minutes) over time.

import { timeChart, redraw, SERIES } from '../charts.js';
import { slot, setText } from '../dom.js';

export function createLoad(root, window) {
  const chart = timeChart(root.querySelector('canvas'), [
    { label: '1 min', data: [], borderColor: SERIES[2], backgroundColor: 'rgba(235,87,87,0.12)', fill: 'origin' },
    { label: '5 min', data: [], borderColor: SERIES[3] },
    { label: '15 min', data: [], borderColor: SERIES[5] },
  ], { yTicks: (v) => Number(v).toFixed(1) });
  const now = slot(root, 'now');
  return {
    render() {
      chart.data.datasets[0].data = window.points((s) => s.load1);
      chart.data.datasets[1].data = window.points((s) => s.load5);
      chart.data.datasets[2].data = window.points((s) => s.load15);
      redraw(chart);
      const s = window.latest;
      if (s) setText(now, `${s.load1.toFixed(2)} · ${s.load5.toFixed(2)} · ${s.load15.toFixed(2)}`);
    },
  };
}
