// Unit tests for the pure formatting helpers the panels share.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCount, formatPct, toMillis, formatAgo, formatDuration } from '../../js/format.js';

test('traffic sizes read in B, KB, MB and GB like NetWatch showed them', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.50 KB');
  assert.equal(formatBytes(15 * 1024 * 1024), '15.0 MB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GB');
  assert.equal(formatBytes(-1), '–');
});

test('counts and percentages are grouped and rounded for reading', () => {
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(NaN), '–');
  assert.equal(formatPct(12.345), '12.3%');
  assert.equal(formatPct(100), '100%');
});

test('timestamps in seconds, milliseconds, microseconds or RFC 3339 mean the same instant', () => {
  const ms = Date.parse('2026-11-21T12:00:00Z');
  assert.equal(toMillis(ms / 1000), ms);
  assert.equal(toMillis(ms), ms);
  assert.equal(toMillis(ms * 1000), ms);
  assert.equal(toMillis('2026-11-21T17:30:00+05:30'), ms);
  assert.equal(toMillis(String(ms * 1000)), ms);
  assert.ok(Number.isNaN(toMillis(null)));
  assert.ok(Number.isNaN(toMillis('not a time')));
});

test('relative times and durations use the largest sensible unit', () => {
  const now = 1_000_000_000;
  assert.equal(formatAgo(now - 5_000, now), '5 s ago');
  assert.equal(formatAgo(now - 3 * 60_000, now), '3 min ago');
  assert.equal(formatAgo(now - 2 * 3600_000, now), '2 h ago');
  assert.equal(formatDuration(3725), '1 h 2 min');
  assert.equal(formatDuration(42), '42 s');
});
