// Unit tests for the data layer's mapping from API JSON to panel shapes, and for the
// client-side alert aggregations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, normAlert, normHealth, normProcEvent, normProcTraffic, normSystem, normProcesses, normTalker, rangeParams, bucketFor } from '../../js/api.js';
import { perHour } from '../../js/panels/anomaly-history.js';
import { offenders } from '../../js/panels/offenders.js';
import { buildTree } from '../../js/panels/proc-tree.js';
import { describe as describeDegraded } from '../../js/panels/health.js';

test('an alert keeps its severity, label and hostile subject strings untouched', () => {
  const a = normAlert({
    id: 'x1', kind: 'process.burst', severity: 'HIGH', label: 'EXTREME', state: 'active',
    first_seen: '2026-11-21T12:00:00Z', last_seen: '2026-11-21T12:00:05Z', message: 'burst',
    pid: 42, process_name: '<img src=x onerror=alert(1)>', user: 'root', src_ip: null,
  });
  assert.equal(a.severity, 'high');
  assert.equal(a.label, 'EXTREME');
  assert.equal(a.process, '<img src=x onerror=alert(1)>');
  assert.equal(a.last - a.first, 5000);
  assert.equal(a.srcIp, '');
});

test('an alert says whether a silence or an acknowledgement kept it from the outputs', () => {
  const plain = normAlert({ id: 'a', kind: 'cpu.system', severity: 'high', state: 'active' });
  assert.equal(plain.silenced, false);
  assert.equal(plain.ackedBy, '');
  const muted = normAlert({ id: 'b', kind: 'cpu.system', severity: 'high', silenced: true, acked_by: '<b>ann</b>' });
  assert.equal(muted.silenced, true);
  assert.equal(muted.ackedBy, '<b>ann</b>');
});

test('a process event from the stream carries argv, ancestry and a time in milliseconds', () => {
  const e = normProcEvent({
    time: 1_763_726_400_000_000, kind: 'exec', pid: 7, ppid: 1, user: 'root', comm: 'sh',
    exe: '/bin/sh', argv: ['sh', '-c', 'true'], argv_complete: false, ancestry: [{ pid: 1, comm: 'systemd' }],
  });
  assert.equal(e.t, 1_763_726_400_000);
  assert.deepEqual(e.argv, ['sh', '-c', 'true']);
  assert.equal(e.argvComplete, false);
  assert.deepEqual(e.ancestry, [{ pid: 1, comm: 'systemd' }]);
});

test('system history and the process tree read the shapes /system and /processes send', () => {
  const s = { timestamp: '2026-11-21T12:00:00Z', time: 1_763_726_400_000_000, cpu_pct: 12.5, per_core_pct: [10, 15], mem_total: 100, mem_used: 40, swap_total: 0, swap_used: 0, load1: 0.5, load5: 0.4, load15: 0.3 };
  const sys = normSystem({ current: s, history: [s, s] });
  assert.equal(sys.current.cpu, 12.5);
  assert.deepEqual(sys.current.cores, [10, 15]);
  assert.equal(sys.current.t, Date.parse('2026-11-21T12:00:00Z'));
  assert.equal(sys.history.length, 2);
  assert.equal(normSystem({ current: null, history: [] }).current, null);
  const procs = normProcesses({ tree: [{ pid: 1, comm: 'init', children: [{ pid: 2, comm: 'sh', children: [] }] }], top_cpu: [{ pid: 2, comm: 'sh', cpu_pct: 50 }], top_memory: [] });
  assert.equal(procs.tree[0].children[0].name, 'sh');
  assert.equal(procs.topCpu[0].cpu, 50);
});

test('top talkers read NetWatch count as packets', () => {
  assert.deepEqual(normTalker({ src_ip: '127.0.0.1', count: 9, bytes: 900 }), { ip: '127.0.0.1', packets: 9, bytes: 900 });
});

test('the time range becomes a since parameter, and all has none', () => {
  const now = Date.parse('2026-11-21T12:00:00Z');
  assert.deepEqual(rangeParams('1h', now), { since: '2026-11-21T11:00:00.000Z' });
  assert.deepEqual(rangeParams('all', now), {});
  assert.equal(bucketFor('24h'), '600s');
});

test('degraded modes read as what is off and how to fix it', () => {
  const h = normHealth({ version: '0.1.0', degraded: [{ mode: 'no_capture_permission', effect: 'packet capture off: needs CAP_NET_RAW', fix: 'run as root' }] });
  assert.equal(describeDegraded(h.degraded[0]), 'packet capture off: needs CAP_NET_RAW — run as root');
  assert.equal(describeDegraded(normHealth({ degraded: [{ mode: 'no_psi', effect: '', fix: '' }] }).degraded[0]), 'pressure stall information (PSI) is not available on this kernel');
});

test('anomaly history counts alerts per hour by severity', () => {
  const t0 = new Date(2026, 10, 21, 10, 15).getTime();
  const alerts = [
    { first: t0, severity: 'high' },
    { first: t0 + 10 * 60e3, severity: 'high' },
    { first: t0 + 2 * 3600e3, severity: 'critical' },
  ];
  const { labels, counts } = perHour(alerts);
  assert.deepEqual(labels, ['10:00', '11:00', '12:00']);
  assert.deepEqual(counts.high, [2, 0, 0]);
  assert.deepEqual(counts.critical, [0, 0, 1]);
});

test('offending processes are ranked by alert count with their worst severity', () => {
  const rows = offenders([
    { process: 'a', severity: 'low', pid: 1, last: 1 },
    { process: 'a', severity: 'critical', pid: 2, last: 3 },
    { process: 'b', severity: 'medium', pid: 3, last: 2 },
    { process: '', severity: 'high', pid: null, last: 2 },
  ]);
  const a = rows.find((r) => r.name === 'a');
  assert.equal(rows.length, 2);
  assert.equal(a.count, 2);
  assert.equal(a.worst.severity, 'critical');
  assert.equal(a.last, 3);
});

test('a flat process list becomes a tree by parent pid', () => {
  const roots = buildTree([{ pid: 1, ppid: 0, name: 'init' }, { pid: 5, ppid: 1, name: 'sh' }, { pid: 9, ppid: 5, name: 'sleep' }]);
  assert.equal(roots.length, 1);
  assert.equal(roots[0].children[0].children[0].name, 'sleep');
});

test('alert details flatten to dotted facts, arrays joined, for the card', async () => {
  const { facts } = await import('../../js/panels/alert-card.js');
  const rows = facts({ peak: 9, instigator: { pid: 1000, chain: ['bash', 'sshd'], why: { kind: 'script' } } });
  assert.deepEqual(rows, [['peak', '9'], ['instigator.pid', '1000'], ['instigator.chain', 'bash, sshd'], ['instigator.why.kind', 'script']]);
});

test('index.html preloads every module, so the graph loads in one round trip', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const web = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const html = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
  const modules = ['js', 'js/panels'].flatMap((d) => fs.readdirSync(path.join(web, d)).filter((f) => f.endsWith('.js')).map((f) => `${d}/${f}`));
  for (const m of modules.filter((m) => m !== 'js/theme-boot.js' && m !== 'js/main.js')) {
    assert.ok(html.includes(`<link rel="modulepreload" href="${m}">`), `${m} is preloaded`);
  }
  assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(modules.map((m) => fs.readFileSync(path.join(web, m), 'utf8')).join('\n')),
    'no module parses strings as HTML');
});

test('the dashboard asks NetWatch paths for our extra fields (bytes, ports)', async () => {
  const asked = [];
  const saved = { fetch: globalThis.fetch, document: globalThis.document };
  globalThis.document = { baseURI: 'http://127.0.0.1:8000/' };
  globalThis.fetch = async (url) => {
    asked.push(new URL(url));
    const body = url.pathname.endsWith('top-talkers') ? [{ src_ip: '10.0.0.1', count: 3, bytes: 900 }] : [];
    return { ok: true, json: async () => body };
  };
  try {
    const talkers = await api.talkers('1h', 'bytes');
    assert.equal(talkers[0].bytes, 900);
    await api.protocols('1h');
    await api.packets(10);
  } finally {
    globalThis.fetch = saved.fetch;
    globalThis.document = saved.document;
  }
  assert.equal(asked.length, 3);
  for (const url of asked) assert.equal(url.searchParams.get('extended'), 'true', url.href);
});

test('a process traffic row sums both directions and keeps the unattributed bucket as pid null', () => {
  const row = normProcTraffic({ pid: 42, comm: 'curl', bytes_in: 5000, bytes_out: 300, packets_in: 4, packets_out: 3, flows: 1, last_seen: '2026-12-03T10:00:00Z' });
  assert.equal(row.total, 5300);
  assert.equal(row.packets, 7);
  assert.equal(row.last, Date.parse('2026-12-03T10:00:00Z'));
  const unknown = normProcTraffic({ pid: null, comm: '<unknown>', bytes_in: 1, bytes_out: 2, packets_in: 1, packets_out: 1, flows: 2, last_seen: '2026-12-03T10:00:00Z' });
  assert.equal(unknown.pid, null);
  assert.equal(unknown.name, '<unknown>');
});
