//! Recent alerts (active and resolved) as cards, newest first.

import { fill, slot, empty } from '../dom.js';
import { alertCard } from './alert-card.js';

export function createRecentAlerts(root) {
  const list = slot(root, 'list');
  return {
    set(alerts) {
      const items = [...alerts].sort((a, b) => b.last - a.last).slice(0, 24);
      if (!items.length) { fill(list, empty('No alerts in this time range')); return; }
      const now = Date.now();
      fill(list, items.map((a) => alertCard(a, now)));
    },
  };
}
