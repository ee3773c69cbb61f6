//! The summary tiles: packets, unique sources/destinations, traffic, CPU, memory, load, active alerts.

import { setText } from '../dom.js';
import { formatBytes, formatCount, formatPct } from '../format.js';

export function createSummary(root) {
  const tile = (key) => root.querySelector(`[data-key="${key}"] .tile-value`);
  const alertsTile = root.querySelector('[data-key="alerts"]');
  return {
    /** `s` null: no figures for this view ('–'). */
    network(s) {
      if (!s) { for (const k of ['packets', 'sources', 'destinations', 'bytes']) setText(tile(k), '–'); return; }
      setText(tile('packets'), formatCount(s.packets));
      setText(tile('sources'), formatCount(s.sources));
      setText(tile('destinations'), formatCount(s.destinations));
      setText(tile('bytes'), formatBytes(s.bytes));
    },
    host(sample) {
      if (!sample) return;
      setText(tile('cpu'), formatPct(sample.cpu));
      setText(tile('mem'), sample.memTotal ? formatPct((100 * sample.memUsed) / sample.memTotal) : '–');
      setText(tile('load'), sample.load1.toFixed(2));
    },
    alerts(count) {
      setText(tile('alerts'), formatCount(count));
      alertsTile.classList.toggle('hot', count > 0);
    },
  };
}
