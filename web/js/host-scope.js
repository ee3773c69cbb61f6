//! What the Host section shows for the chosen host. CPU, memory, load, the top processes
//! and the process tree are this server's own live figures (`/system`, `/processes`, the
//! stream's `system` topic): they are labelled with its hostname, and replaced by a note
//! while another host is chosen. The process feed follows the chosen host.

import { h, setText } from './dom.js';
import { fleet } from './fleet.js';

/** The cards that show this server's own resources. */
export const RESOURCE_CARDS = ['cpu', 'memory', 'load', 'top-cpu', 'top-mem', 'proc-tree'];
/** The summary tiles that show them. */
const RESOURCE_TILES = ['cpu', 'mem', 'load'];

/** The note a resource card shows instead of this server's figures. */
export function elsewhereText(chosenName, serverName) {
  const server = serverName ? `this server (${serverName})` : 'this server';
  return `CPU, memory, load and the process tree are served live for ${server} only, not for ${chosenName}: its processes, alerts and flows are in the other panels.`;
}

/** Marks the resource cards and tiles for the current scope; true when they show this server. */
export function applyHostScope(byId) {
  const remote = fleet.remote;
  const server = fleet.local?.hostname || '';
  const chosen = fleet.chosen?.hostname || fleet.selected || '';
  setText(byId('host-whose'), remote ? `${chosen}: processes only` : (fleet.many && server ? `resources of ${server}` : ''));
  for (const id of RESOURCE_CARDS) {
    const card = byId(id);
    if (!card) continue;
    card.classList.toggle('elsewhere', remote);
    let note = card.querySelector(':scope > .host-note');
    if (!note) { note = h('p', { class: 'host-note' }); card.appendChild(note); }
    setText(note, remote ? elsewhereText(chosen, server) : '');
  }
  for (const key of RESOURCE_TILES) {
    const tile = document.querySelector(`#summary [data-key="${key}"]`);
    tile.classList.toggle('elsewhere', remote);
    if (remote) {
      setText(tile.querySelector('.tile-value'), '–');
      tile.title = `not reported for ${chosen}`;
    } else tile.removeAttribute('title');
  }
  return !remote;
}
