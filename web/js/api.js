//! The data layer: every HTTP call and every mapping from the API's JSON to the shapes panels use.
// The API is still settling; a field rename is a one-line edit in the matching `norm*` here.

import { toMillis } from './format.js';

/** Alerts fetched for the history panels; they note when a range holds more. */
export const HISTORY_LIMIT = 100;

const RANGE_SECS = { '1h': 3600, '6h': 6 * 3600, '24h': 24 * 3600, all: null };

/** Query parameters (`since`) for a time-range key: 1h, 6h, 24h or all. */
export function rangeParams(range, now = Date.now()) {
  const secs = RANGE_SECS[range];
  return secs ? { since: new Date(now - secs * 1000).toISOString() } : {};
}

/** The traffic-over-time bucket that keeps a range to a few hundred points. */
export function bucketFor(range) {
  return { '1h': '30s', '6h': '120s', '24h': '600s', all: '3600s' }[range] || '30s';
}

/** GET a JSON document relative to the page (the dashboard is served by the API itself). */
export async function getJSON(path, params = {}, timeoutMs = 8000) {
  const url = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) url.searchParams.set(k, v);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ctl.signal, headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return await res.json();
  } finally {
    clearTimeout(timer);
  }
}

const num = (...vals) => {
  for (const v of vals) if (v !== undefined && v !== null && Number.isFinite(Number(v))) return Number(v);
  return 0;
};
const str = (...vals) => {
  for (const v of vals) if (v !== undefined && v !== null && v !== '') return String(v);
  return '';
};
/** Lists may come bare or wrapped ({items: [...]}, {alerts: [...]}, …). */
const list = (v, ...keys) => {
  if (Array.isArray(v)) return v;
  for (const k of keys) if (v && Array.isArray(v[k])) return v[k];
  return [];
};

export const normSummary = (j) => ({
  packets: num(j.total_packets, j.packets),
  sources: num(j.unique_sources),
  destinations: num(j.unique_destinations),
  bytes: num(j.total_bytes, j.bytes),
});

export const normTalker = (j) => ({
  ip: str(j.src_ip, j.ip, j.address),
  packets: num(j.packets, j.count),
  bytes: num(j.bytes, j.total_bytes),
});

export const normProtocol = (j) => ({ protocol: str(j.protocol, 'other'), packets: num(j.count, j.packets) });

export const normTrafficPoint = (j) => ({
  t: toMillis(j.timestamp ?? j.time ?? j.bucket),
  packets: num(j.packets, j.count),
  bytes: num(j.bytes),
});

export const normPacket = (j) => ({
  t: toMillis(j.timestamp ?? j.time),
  src: str(j.src_ip),
  dst: str(j.dst_ip),
  srcPort: j.src_port ?? null,
  dstPort: j.dst_port ?? null,
  protocol: str(j.protocol),
  size: num(j.packet_size, j.wire_len, j.size),
});

export const normAlert = (j) => ({
  id: str(j.id),
  kind: str(j.kind, j.type, 'alert'),
  severity: str(j.severity, 'info').toLowerCase(),
  label: str(j.label),
  state: str(j.state, 'active'),
  first: toMillis(j.first_seen ?? j.timestamp),
  last: toMillis(j.last_seen ?? j.first_seen ?? j.timestamp),
  message: str(j.message, j.reason),
  pid: j.pid ?? null,
  process: str(j.process_name),
  user: str(j.user),
  command: str(j.command, j.details?.instigator?.command),
  srcIp: str(j.src_ip),
  dstIp: str(j.dst_ip),
  details: j.details ?? null,
});

export const normSample = (j) => ({
  t: toMillis(j.time ?? j.timestamp),
  cpu: num(j.cpu_pct),
  cores: list(j.per_core_pct).map(Number),
  memTotal: num(j.mem_total),
  memUsed: num(j.mem_used),
  swapTotal: num(j.swap_total),
  swapUsed: num(j.swap_used),
  load1: num(j.load1),
  load5: num(j.load5),
  load15: num(j.load15),
});

export function normSystem(j) {
  const current = j.current ?? j.system ?? (j.cpu_pct !== undefined ? j : null);
  const history = list(j.history, 'samples').map((s) => normSample(s.system ?? s));
  return { current: current ? normSample(current.system ?? current) : null, history };
}

export const normProc = (j) => ({
  pid: num(j.pid),
  ppid: num(j.ppid),
  name: str(j.comm, j.name, j.process_name),
  user: str(j.user),
  cpu: num(j.cpu_pct, j.cpu),
  rss: num(j.rss_bytes, j.rss, j.memory),
  cmd: str(j.cmdline, j.command, Array.isArray(j.argv) ? j.argv.join(' ') : ''),
  children: list(j.children).map(normProc),
});

export function normProcesses(j) {
  const tree = list(j.tree, 'roots').map(normProc);
  return {
    tree,
    topCpu: list(j.top_cpu ?? j.top_by_cpu).map(normProc),
    topMem: list(j.top_memory ?? j.top_mem ?? j.top_by_memory).map(normProc),
  };
}

export const normProcEvent = (j) => ({
  t: toMillis(j.time ?? j.timestamp),
  kind: str(j.kind, 'exec'),
  pid: num(j.pid),
  ppid: num(j.ppid),
  user: str(j.user, j.uid),
  comm: str(j.comm, j.process_name),
  exe: str(j.exe),
  argv: list(j.argv).map(String),
  argvComplete: j.argv_complete !== false,
  ancestry: list(j.ancestry).map((a) => ({ pid: num(a.pid), comm: str(a.comm) })),
});

export const normFlow = (j) => ({
  protocol: str(j.protocol),
  src: str(j.orig_ip, j.src_ip),
  srcPort: j.orig_port ?? j.src_port ?? null,
  dst: str(j.resp_ip, j.dst_ip),
  dstPort: j.resp_port ?? j.dst_port ?? null,
  packets: num(j.packets, num(j.orig_packets) + num(j.resp_packets)),
  bytes: num(j.bytes, num(j.orig_bytes) + num(j.resp_bytes)),
  first: toMillis(j.first_seen),
  last: toMillis(j.last_seen),
  state: str(j.state),
});

export function normHealth(j) {
  const degraded = list(j.degraded, 'modes').map((d) =>
    typeof d === 'string'
      ? { mode: d, effect: '', fix: '' }
      : { mode: str(d.mode, d.kind, d.name), effect: str(d.effect, d.reason, d.message), fix: str(d.fix) });
  return {
    version: str(j.version),
    uptime: num(j.uptime_secs, j.uptime),
    degraded,
    // source → {count, reason}, or source → count
    drops: j.losses ?? j.drops ?? {},
    sources: j.sources ?? {},
  };
}

// NetWatch's paths answer with NetWatch's keys only; this switch adds ours (bytes, ports).
const EXTENDED = { extended: 'true' };

// One function per endpoint; panels call these, never fetch directly.
export const api = {
  summary: (range) => getJSON('stats/summary', { ...rangeParams(range), ...EXTENDED }).then(normSummary),
  talkers: (range, by) => getJSON('stats/top-talkers', { ...rangeParams(range), limit: 10, by, ...EXTENDED }).then((j) => list(j, 'items').map(normTalker)),
  protocols: (range) => getJSON('stats/protocol-distribution', { ...rangeParams(range), ...EXTENDED }).then((j) => list(j, 'items').map(normProtocol)),
  traffic: (range) => getJSON('stats/traffic-over-time', { ...rangeParams(range), bucket: bucketFor(range), ...EXTENDED }).then((j) => list(j, 'items', 'buckets').map(normTrafficPoint)),
  packets: (limit = 50) => getJSON('packets/recent', { limit, ...EXTENDED }).then((j) => list(j, 'items', 'packets').map(normPacket)),
  // The biggest flows by bytes ({recent, top} on the wire).
  flows: () => getJSON('flows', { limit: 20 }).then((j) => list(j, 'top', 'items', 'flows').map(normFlow)),
  // Active alerts of every kind (/alerts alone lists only network ones, as NetWatch did).
  activeAlerts: () => getJSON('alerts/history', { state: 'active', limit: 50 }).then((j) => list(j, 'items', 'alerts').map(normAlert)),
  // Newest first; the page weight budget caps it (the history panels say when they are capped).
  alertHistory: (range, limit = HISTORY_LIMIT) => getJSON('alerts/history', { ...rangeParams(range), limit }).then((j) => list(j, 'items', 'alerts').map(normAlert)),
  // 5 minutes of 1 s history is plenty for the live charts and keeps the page light.
  system: () => getJSON('system', { limit: 300 }).then(normSystem),
  processes: () => getJSON('processes').then(normProcesses),
  procEvents: (limit = 50) => getJSON('events/process', { limit }).then((j) => list(j, 'items', 'events').map(normProcEvent)),
  health: () => getJSON('health').then(normHealth),
};
