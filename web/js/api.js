//! The data layer: every HTTP call and every mapping from the API's JSON to the shapes panels use.

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
    if (!res.ok) throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
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
/** An array, or [] for a missing one. */
const list = (v) => (Array.isArray(v) ? v : []);

// Each `norm*` reads one response schema of /openapi.json, named on its `// schema:` line,
// and reads fields only as `j.<name>`: crates/server/tests/dashboard_fields.rs checks every
// such name against that schema, so a rename on the server fails a test.

// schema: Host
export const normHostRef = (j) => (j && typeof j === 'object' ? { id: str(j.id), name: str(j.name) } : null);

// schema: HostView
export const normHost = (j) => ({
  id: str(j.id),
  hostname: str(j.hostname, j.id),
  local: j.local === true,
  status: str(j.status, 'unknown'),
  lastSeen: toMillis(j.last_seen),
  revoked: j.revoked === true,
});

// schema: SummaryView
export const normSummary = (j) => ({
  packets: num(j.total_packets),
  sources: num(j.unique_sources),
  destinations: num(j.unique_destinations),
  bytes: num(j.total_bytes),
});

// schema: TalkerRow
export const normTalker = (j) => ({
  ip: str(j.src_ip),
  packets: num(j.count),
  bytes: num(j.bytes),
});

// schema: ProtocolRow
export const normProtocol = (j) => ({ protocol: str(j.protocol, 'other'), packets: num(j.count) });

// schema: TrafficPoint
export const normTrafficPoint = (j) => ({
  t: toMillis(j.timestamp),
  packets: num(j.packets),
  bytes: num(j.bytes),
});

// schema: PacketRow
export const normPacket = (j) => ({
  t: toMillis(j.timestamp),
  src: str(j.src_ip),
  dst: str(j.dst_ip),
  srcPort: j.src_port ?? null,
  dstPort: j.dst_port ?? null,
  protocol: str(j.protocol),
  size: num(j.packet_size),
});

// schema: AlertView
export const normAlert = (j) => ({
  id: str(j.id),
  kind: str(j.kind, 'alert'),
  severity: str(j.severity, 'info').toLowerCase(),
  label: str(j.label),
  state: str(j.state, 'active'),
  first: toMillis(j.first_seen),
  last: toMillis(j.last_seen ?? j.first_seen),
  message: str(j.message),
  pid: j.pid ?? null,
  process: str(j.process_name),
  user: str(j.user),
  command: str(j.details?.instigator?.command),
  srcIp: str(j.src_ip),
  dstIp: str(j.dst_ip),
  details: j.details ?? null,
  // Not delivered to the alert outputs (a silence, an acknowledgement); still shown.
  silenced: j.silenced === true,
  ackedBy: str(j.acked_by),
  // null: the server's own host (a record of a single host names none).
  host: normHostRef(j.host),
});

// schema: AlertPage
export const normAlertPage = (j) => list(j.items).map(normAlert);

// schema: SystemView
export const normSample = (j) => ({
  t: toMillis(j.timestamp),
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

// schema: SystemResponse
export const normSystem = (j) => ({
  current: j.current ? normSample(j.current) : null,
  history: list(j.history).map(normSample),
});

// schema: ProcessNode
export const normProc = (j) => ({
  pid: num(j.pid),
  ppid: num(j.ppid),
  name: str(j.comm),
  user: str(j.user),
  cpu: num(j.cpu_pct),
  rss: num(j.rss_bytes),
  cmd: str(j.cmdline),
  children: list(j.children).map(normProc),
});

// schema: ProcessesResponse
export const normProcesses = (j) => ({
  tree: list(j.tree).map(normProc),
  topCpu: list(j.top_cpu).map(normProc),
  topMem: list(j.top_memory).map(normProc),
});

// schema: Ancestor
const normAncestor = (j) => ({ pid: num(j.pid), comm: str(j.comm) });

// schema: ProcessEvent
export const normProcEvent = (j) => ({
  t: toMillis(j.time),
  kind: str(j.kind, 'exec'),
  pid: num(j.pid),
  ppid: num(j.ppid),
  // The uid stands in when the user name could not be read.
  user: str(j.user, j.uid),
  comm: str(j.comm),
  exe: str(j.exe),
  argv: list(j.argv).map(String),
  argvComplete: j.argv_complete !== false,
  ancestry: list(j.ancestry).map(normAncestor),
  host: normHostRef(j.host),
});

// schema: FlowView
export const normFlow = (j) => ({
  protocol: str(j.protocol),
  src: str(j.orig_ip),
  srcPort: j.orig_port ?? null,
  dst: str(j.resp_ip),
  dstPort: j.resp_port ?? null,
  packets: num(j.orig_packets) + num(j.resp_packets),
  bytes: num(j.orig_bytes) + num(j.resp_bytes),
  first: toMillis(j.first_seen),
  last: toMillis(j.last_seen),
  state: str(j.state),
  host: normHostRef(j.host),
});

// schema: ProcessTrafficView
export const normProcTraffic = (j) => ({
  host: normHostRef(j.host),
  // null: the unattributed bucket (local flow ends whose process is unknown).
  pid: j.pid ?? null,
  name: str(j.comm, '<unknown>'),
  bytesIn: num(j.bytes_in),
  bytesOut: num(j.bytes_out),
  total: num(j.bytes_in) + num(j.bytes_out),
  packets: num(j.packets_in) + num(j.packets_out),
  flows: num(j.flows),
  last: toMillis(j.last_seen),
});

// schema: FlowsResponse
export const normFlows = (j) => list(j.top).map(normFlow);

// schema: DegradedMode
const normDegraded = (j) => ({ mode: str(j.mode), effect: str(j.effect), fix: str(j.fix) });

// schema: Health
export const normHealth = (j) => ({
  version: str(j.version),
  uptime: num(j.uptime_secs),
  degraded: list(j.degraded).map(normDegraded),
  // source → {count, reason}
  drops: j.losses ?? {},
  sources: j.sources ?? [],
});

// NetWatch's paths answer with NetWatch's keys only; this switch adds ours (bytes, ports).
const EXTENDED = { extended: 'true' };

// The host the panels show (an id or hostname), or null for every host; main.js sets it.
let scope = null;
/** Every call below that takes `?host=` sends this host from now on (null: all hosts). */
export function setScope(host) { scope = host || null; }
/** `?host=` for the endpoints that take it: alerts, flows, packets, process events, /stats/*. */
const H = () => (scope ? { host: scope } : {});

// One function per endpoint; panels call these, never fetch directly.
export const api = {
  summary: (range) => getJSON('stats/summary', { ...rangeParams(range), ...EXTENDED, ...H() }).then(normSummary),
  talkers: (range, by) => getJSON('stats/top-talkers', { ...rangeParams(range), limit: 10, by, ...EXTENDED, ...H() }).then((j) => list(j).map(normTalker)),
  protocols: (range) => getJSON('stats/protocol-distribution', { ...rangeParams(range), ...EXTENDED, ...H() }).then((j) => list(j).map(normProtocol)),
  traffic: (range) => getJSON('stats/traffic-over-time', { ...rangeParams(range), bucket: bucketFor(range), ...EXTENDED, ...H() }).then((j) => list(j).map(normTrafficPoint)),
  packets: (limit = 50) => getJSON('packets/recent', { limit, ...EXTENDED, ...H() }).then((j) => list(j).map(normPacket)),
  // The biggest flows by bytes.
  flows: () => getJSON('flows', { limit: 20, ...H() }).then(normFlows),
  // Processes by the traffic of the flows they owned an end of, in the range. Fleet-wide:
  procTraffic: (range) => getJSON('stats/top-processes', { ...rangeParams(range), limit: 10, ...H() }).then((j) => list(j).map(normProcTraffic)),
  // Active alerts of every kind (/alerts alone lists only network ones, as NetWatch did).
  activeAlerts: () => getJSON('alerts/history', { state: 'active', limit: 50, ...H() }).then(normAlertPage),
  // Newest first; the page weight budget caps it (the history panels say when they are capped).
  alertHistory: (range, limit = HISTORY_LIMIT) => getJSON('alerts/history', { ...rangeParams(range), limit, ...H() }).then(normAlertPage),
  // 5 minutes of 1 s history is plenty for the live charts and keeps the page light.
  system: () => getJSON('system', { limit: 300 }).then(normSystem),
  processes: () => getJSON('processes').then(normProcesses),
  procEvents: (limit = 50) => getJSON('events/process', { limit, ...H() }).then((j) => list(j).map(normProcEvent)),
  health: () => getJSON('health').then(normHealth),
  // Every host that reports here (503 without a store: the page then shows no picker).
  hosts: () => getJSON('hosts').then((j) => list(j).map(normHost)),
};
