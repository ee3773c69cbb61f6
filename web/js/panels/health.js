//! Degraded modes from /health shown plainly in a banner, and version/uptime/drops in the footer.

import { h, fill, slot } from '../dom.js';
import { formatDuration, formatCount } from '../format.js';

// Plain words for the reasons we know; anything else is shown as the server words it.
const PLAIN = {
  no_capture_permission: 'packet capture off: needs CAP_NET_RAW (run as root or setcap cap_net_raw,cap_net_admin+eip)',
  capture_disabled: 'packet capture off (--no-capture)',
  no_proc_connector: 'process events come from /proc polling: the proc connector is unavailable',
  no_psi: 'pressure stall information (PSI) is not available on this kernel',
};

/** One degraded mode in words: what is off and how to fix it. */
export function describe(d) {
  const what = d.effect || PLAIN[d.mode.toLowerCase()] || d.mode.replaceAll('_', ' ');
  return d.fix ? `${what} — ${d.fix}` : what;
}

function dropTotal(drops) {
  let total = 0;
  for (const v of Object.values(drops || {})) {
    const n = Number(typeof v === 'object' && v !== null ? v.count : v);
    if (Number.isFinite(n)) total += n;
  }
  return total;
}

export function createHealth(banner, footer) {
  const version = slot(footer, 'version');
  return {
    set(hl) {
      if (hl.degraded.length) {
        fill(banner, h('strong', { text: 'Degraded: ' }), h('ul', {}, hl.degraded.map((d) => h('li', { text: describe(d) }))));
        banner.hidden = false;
      } else {
        banner.hidden = true;
      }
      const drops = dropTotal(hl.drops);
      fill(version, `NetSnoop ${hl.version || ''}`.trim(), hl.uptime ? ` · up ${formatDuration(hl.uptime)}` : '',
        ` · ${formatCount(drops)} dropped`);
    },
  };
}
