//! Anomaly history: alerts per hour, stacked by severity.

import { stackedBarChart, SEVERITY_COLORS, SEVERITY_ORDER } from '../charts.js';

const HOUR = 3600 * 1000;

/** Alerts → { labels, counts[severity][hourIndex] } over whole local hours, oldest first. */
export function perHour(alerts, maxHours = 48) {
  const valid = alerts.filter((a) => Number.isFinite(a.first));
  if (!valid.length) return { labels: [], counts: {} };
  const hourOf = (ms) => { const d = new Date(ms); d.setMinutes(0, 0, 0); return d.getTime(); };
  const last = hourOf(Math.max(...valid.map((a) => a.first)));
  const first = Math.max(hourOf(Math.min(...valid.map((a) => a.first))), last - (maxHours - 1) * HOUR);
  const n = Math.round((last - first) / HOUR) + 1;
  const counts = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, new Array(n).fill(0)]));
  for (const a of valid) {
    const i = Math.round((hourOf(a.first) - first) / HOUR);
    if (i >= 0 && i < n) (counts[a.severity] || counts.info)[i] += 1;
  }
  const labels = Array.from({ length: n }, (_, i) => {
    const d = new Date(first + i * HOUR);
    return `${String(d.getHours()).padStart(2, '0')}:00`;
  });
  return { labels, counts };
}

export function createAnomalyHistory(root) {
  const order = [...SEVERITY_ORDER].reverse(); // low at the bottom of each stack
  const chart = stackedBarChart(root.querySelector('canvas'), order.map((s) => ({
    label: s.toUpperCase(), backgroundColor: SEVERITY_COLORS[s], maxBarThickness: 36,
  })));
  return {
    set(alerts) {
      const { labels, counts } = perHour(alerts);
      chart.data.labels = labels;
      order.forEach((s, i) => { chart.data.datasets[i].data = counts[s] || []; });
      chart.update('none');
    },
  };
}
