//! The header's host picker: a <select> of "All hosts" and every host with its state,
//! hidden while a single host reports. Option texts are set as text, never markup.

import { h, fill } from './dom.js';
import { allText, optionText, sortHosts, worstState } from './hosts.js';

/** `root`: the picker's wrapper (holds a <select> and a status dot); `onPick(id | null)`. */
export function createHostPicker(root, onPick) {
  const select = root.querySelector('select');
  const dot = root.querySelector('.host-dot');
  select.addEventListener('change', () => onPick(select.value || null));
  // What the options last said: the 15 s refresh leaves an unchanged list alone, so an
  // open dropdown is not closed under the user.
  let drawn = '';

  return {
    /** Redraws the options for `hosts` with `selected` (an id or hostname, or null) chosen. */
    set(hosts, selected) {
      const sorted = sortHosts(hosts);
      const options = [h('option', { attrs: { value: '' }, text: allText(sorted) })];
      for (const host of sorted) options.push(h('option', { attrs: { value: host.id }, text: optionText(host, sorted) }));
      const known = sorted.find((x) => x.id === selected) || sorted.find((x) => x.hostname === selected);
      // A link may name a host this server does not know (yet): keep it visible as chosen.
      if (selected && !known) options.push(h('option', { attrs: { value: selected }, text: `${selected} — not known here` }));
      const now = JSON.stringify(options.map((o) => [o.value, o.textContent]));
      if (now !== drawn) { fill(select, options); drawn = now; }
      select.value = known ? known.id : selected || '';
      const state = selected ? (known ? known.status : 'down') : worstState(sorted);
      dot.dataset.state = state;
      dot.title = selected ? `${known ? known.hostname : selected}: ${state}` : `worst host state: ${state}`;
      // One host and nothing chosen: the picker would only repeat the hostname.
      root.hidden = hosts.length <= 1 && !selected;
    },
  };
}
