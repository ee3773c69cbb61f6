//! Top talkers: the busiest source addresses, ranked by packets or by bytes.

import { hbarChart } from '../charts.js';
import { formatBytes, formatCount } from '../format.js';

export function createTalkers(root, onChange) {
  let by = 'packets';
  let fmt = formatCount;
  const chart = hbarChart(root.querySelector('canvas'), { ticks: (v) => fmt(v) });
  const buttons = root.querySelectorAll('[data-by]');
  for (const b of buttons) {
    b.addEventListener('click', () => {
      by = b.dataset.by;
      fmt = by === 'bytes' ? formatBytes : formatCount;
      for (const o of buttons) o.setAttribute('aria-pressed', String(o === b));
      onChange();
    });
  }
  return {
    get by() { return by; },
    set(rows) {
      const top = [...rows].sort((a, b) => b[by] - a[by]).slice(0, 10);
      chart.data.labels = top.map((r) => r.ip);
      chart.data.datasets[0].data = top.map((r) => r[by]);
      chart.data.datasets[0].label = by;
      chart.update('none');
    },
  };
}
