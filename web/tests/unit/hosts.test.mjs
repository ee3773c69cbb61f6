// Unit tests for the host scope: the page URL's ?host=, which records a chosen host keeps,
// how hosts are named and listed, and the API mappings of hosts and of the host a record names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allText, hostFromSearch, hostName, localHost, optionText, recordMatches, resolveHost, sortHosts, urlWithHost, worstState } from '../../js/hosts.js';
import { elsewhereText } from '../../js/host-scope.js';
import { normAlert, normFlow, normHost, normHostRef, normProcEvent } from '../../js/api.js';

const server = { id: 'srv-1', hostname: 'central', local: true, status: 'up' };
const a = { id: 'agent-a', hostname: 'web-1', local: false, status: 'up' };
const b = { id: 'agent-b', hostname: 'db-1', local: false, status: 'down' };
const hosts = [a, server, b];

test('the page URL keeps the chosen host and nothing else changes', () => {
  assert.equal(hostFromSearch(''), null);
  assert.equal(hostFromSearch('?host='), null);
  assert.equal(hostFromSearch('?x=1&host=agent-a'), 'agent-a');
  const chosen = urlWithHost('http://127.0.0.1:8000/?x=1#alerts', 'agent-a');
  assert.equal(chosen, 'http://127.0.0.1:8000/?x=1&host=agent-a#alerts');
  assert.equal(hostFromSearch(new URL(chosen).search), 'agent-a');
  assert.equal(urlWithHost(chosen, null), 'http://127.0.0.1:8000/?x=1#alerts');
  // A hostname with characters that need escaping survives the round trip.
  const odd = urlWithHost('http://h/', 'a b&c=<d>');
  assert.equal(hostFromSearch(new URL(odd).search), 'a b&c=<d>');
});

test('a ?host= value finds its host by id first, then by hostname', () => {
  assert.equal(resolveHost(hosts, 'agent-b'), b);
  assert.equal(resolveHost(hosts, 'web-1'), a);
  assert.equal(resolveHost(hosts, 'nowhere'), null);
  assert.equal(resolveHost(hosts, null), null);
  // An id wins over another host's hostname.
  const clash = { id: 'web-1', hostname: 'other', local: false, status: 'up' };
  assert.equal(resolveHost([a, clash], 'web-1'), clash);
  assert.equal(localHost(hosts), server);
  assert.equal(localHost([a, b]), null);
});

test('a chosen host keeps its own records; records without a host are the server\'s', () => {
  const refA = { id: 'agent-a', name: 'web-1' };
  const refB = { id: 'agent-b', name: 'db-1' };
  assert.equal(recordMatches(null, refA, server), true, 'all hosts keeps everything');
  assert.equal(recordMatches(null, null, server), true);
  assert.equal(recordMatches('agent-a', refA, server), true);
  assert.equal(recordMatches('web-1', refA, server), true, 'by hostname, as the API reads ?host=');
  assert.equal(recordMatches('agent-a', refB, server), false);
  assert.equal(recordMatches('agent-a', null, server), false, 'the server\'s own record is not agent-a\'s');
  assert.equal(recordMatches('srv-1', null, server), true);
  assert.equal(recordMatches('central', null, server), true);
  assert.equal(recordMatches('srv-1', null, null), false, 'without the registry a hostless record is no one\'s');
});

test('hosts are named by the registry\'s current hostname, twins by their id too', () => {
  assert.equal(hostName(hosts, { id: 'agent-a', name: 'old-name' }), 'web-1');
  assert.equal(hostName(hosts, { id: 'gone', name: 'ghost' }), 'ghost');
  assert.equal(hostName(hosts, null), 'central');
  assert.equal(optionText(a, hosts), 'web-1 — up');
  assert.equal(optionText(server, hosts), 'central — this server, up');
  assert.equal(optionText({ ...b, revoked: true }, hosts), 'db-1 — down, revoked');
  const twin = { id: 'agent-c', hostname: 'web-1', local: false, status: 'stale' };
  assert.equal(optionText(twin, [...hosts, twin]), 'web-1 (agent-c) — stale');
});

test('the picker lists this server first, then by hostname, and counts hosts not up', () => {
  assert.deepEqual(sortHosts(hosts).map((h) => h.id), ['srv-1', 'agent-b', 'agent-a']);
  assert.deepEqual(hosts.map((h) => h.id), ['agent-a', 'srv-1', 'agent-b'], 'the input is not reordered');
  assert.equal(allText(hosts), 'All hosts (3; 1 down)');
  assert.equal(allText([server, a]), 'All hosts (2)');
  assert.equal(allText([server, { ...a, status: 'stale' }, b]), 'All hosts (3; 1 down, 1 stale)');
  assert.equal(worstState([server, a]), 'up');
  assert.equal(worstState([server, { ...a, status: 'stale' }]), 'stale');
  assert.equal(worstState(hosts), 'down');
});

test('the resource cards\' note names both hosts', () => {
  const note = elsewhereText('web-1', 'central');
  assert.match(note, /this server \(central\)/);
  assert.match(note, /not for web-1/);
});

test('hosts and the host a record names map from the API\'s JSON', () => {
  const h = normHost({ id: 'agent-a', hostname: '<b>web</b>', local: false, status: 'stale', last_seen: '2026-12-04T10:00:00Z', revoked: false, lag_secs: 1.5 });
  assert.deepEqual(h, { id: 'agent-a', hostname: '<b>web</b>', local: false, status: 'stale', lastSeen: Date.parse('2026-12-04T10:00:00Z'), revoked: false });
  assert.equal(normHost({ id: 'x' }).hostname, 'x', 'a host without a name shows its id');
  assert.deepEqual(normHostRef({ id: 'agent-a', name: 'web-1' }), { id: 'agent-a', name: 'web-1' });
  assert.equal(normHostRef(undefined), null);
  assert.equal(normHostRef(null), null);
  const ref = { id: 'agent-b', name: 'db-1' };
  assert.deepEqual(normAlert({ id: 'agent-b:1', kind: 'process.burst', host: ref }).host, ref);
  assert.equal(normAlert({ id: '1', kind: 'process.burst' }).host, null, 'a single host\'s alert names none');
  assert.deepEqual(normProcEvent({ kind: 'exec', pid: 1, host: ref }).host, ref);
  assert.deepEqual(normFlow({ protocol: 'tcp', host: ref }).host, ref);
});
