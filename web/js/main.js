//! Boots the dashboard: creates the panels, loads them for the chosen range, and keeps them live.

import { api, HISTORY_LIMIT, setScope } from './api.js';
import { fleet } from './fleet.js';
import { hostFromSearch, urlWithHost } from './hosts.js';
import { createHostPicker } from './host-picker.js';
import { applyHostScope } from './host-scope.js';
import { LiveStream } from './stream.js';
import { retheme, loadChartLib } from './charts.js';
import { createSummary } from './panels/summary.js';
import { createTraffic } from './panels/traffic.js';
import { createProtocols } from './panels/protocols.js';
import { createTalkers } from './panels/talkers.js';
import { createPackets } from './panels/packets.js';
import { createFlows } from './panels/flows.js';
import { createProcTraffic } from './panels/proc-traffic.js';
import { createActiveAlerts } from './panels/active-alerts.js';
import { createRecentAlerts } from './panels/recent-alerts.js';
import { createAnomalyHistory } from './panels/anomaly-history.js';
import { createAlertKinds } from './panels/alert-kinds.js';
import { createOffenders } from './panels/offenders.js';
import { SampleWindow } from './panels/series.js';
import { createCpu } from './panels/cpu.js';
import { createMemory } from './panels/memory.js';
import { createLoad } from './panels/load.js';
import { createTopProcs } from './panels/top-procs.js';
import { createProcFeed } from './panels/proc-feed.js';
import { createProcTree } from './panels/proc-tree.js';
import { createHealth } from './panels/health.js';
import { initControls } from './controls.js';
import { debounce, every, throttle } from './timing.js';

const $ = (id) => document.getElementById(id);
const visible = () => document.visibilityState === 'visible';

// Boot in two stages so real numbers paint before the chart library is even parsed:
// 1. controls, summary tiles and the health banner (plain DOM, no charts);
// 2. once Chart.js has loaded, every other panel, then the live stream.
performance.mark('netsnoop:main-start');
const samples = new SampleWindow();
const history = new Map(); // alert id → alert, for the history panels
const capped = document.getElementById('history-capped');
const p = {
  summary: createSummary($('summary')),
  health: createHealth($('degraded'), $('foot')),
};
const controls = initControls({ onRange: () => { loadNetwork(); loadAlerts(); }, onTheme: () => p.traffic && retheme() });
fleet.selected = hostFromSearch(location.search);
setScope(fleet.selected);
const picker = createHostPicker($('host-pick'), pickHost);
// Bumped when the host changes: answers to the previous host's requests are dropped.
let scopeGen = 0;

/** Shows `host` (an id, or null for every host): URL, picker, then every panel reloads. */
function pickHost(host) {
  fleet.selected = host;
  setScope(host);
  scopeGen += 1;
  window.history.replaceState(window.history.state, '', urlWithHost(location.href, host));
  picker.set(fleet.hosts, host);
  applyHostScope($);
  if (p.traffic) loadAll();
  else loadSummary();
}

/** Lists the hosts (at start, then every 15 s); a change in how many redraws the Host columns. */
function loadHosts() {
  return api.hosts().then((hosts) => {
    const wasMany = fleet.many;
    fleet.hosts = hosts;
    picker.set(hosts, fleet.selected);
    applyHostScope($);
    if (wasMany !== fleet.many && p.traffic) loadAll();
  }, () => { /* no store or no registry: no picker, every panel shows this host */ });
}

function createPanels() {
  Object.assign(p, {
    traffic: createTraffic($('traffic')),
    protocols: createProtocols($('protocols')),
    talkers: createTalkers($('talkers'), () => loadTalkers()),
    packets: createPackets($('packets')),
    flows: createFlows($('flows')),
    procTraffic: createProcTraffic($('proc-traffic')),
    active: createActiveAlerts($('active-alerts'), (n) => p.summary.alerts(n)),
    recent: createRecentAlerts($('recent-alerts')),
    anomaly: createAnomalyHistory($('anomaly-history')),
    kinds: createAlertKinds($('alert-kinds')),
    offenders: createOffenders($('offenders')),
    cpu: createCpu($('cpu'), samples),
    memory: createMemory($('memory'), samples),
    load: createLoad($('load'), samples),
    topCpu: createTopProcs($('top-cpu'), 'cpu'),
    topMem: createTopProcs($('top-mem'), 'rss'),
    feed: createProcFeed($('proc-feed')),
    tree: createProcTree($('proc-tree')),
  });
}

/** Runs one load for one card; a failure marks that card instead of breaking the page. */
async function load(cardId, fetcher, apply) {
  const card = $(cardId);
  const gen = scopeGen;
  try {
    const data = await fetcher();
    if (gen !== scopeGen) return false;
    apply(data);
    if (card) card.classList.remove('failed');
    return true;
  } catch (err) {
    if (gen !== scopeGen) return false;
    if (card) {
      card.classList.add('failed');
      card.dataset.error = String(err.message || err);
    }
    return false;
  }
}

let firstData = false;
function loadSummary() {
  return load('summary', () => api.summary(controls.range), (s) => {
    p.summary.network(s);
    if (s && !firstData) {
      firstData = true;
      // The frame after real numbers land is the first meaningful paint (bench/dashboard).
      performance.mark('netsnoop:first-data');
      requestAnimationFrame(() => setTimeout(() => performance.mark('netsnoop:first-data-painted'), 0));
    }
  });
}

function loadNetwork() {
  const r = controls.range;
  return Promise.all([
    loadSummary(),
    loadTalkers(),
    load('protocols', () => api.protocols(r), p.protocols.set),
    load('traffic', () => api.traffic(r), p.traffic.set),
    load('packets', () => api.packets(50), p.packets.set),
    load('flows', api.flows, p.flows.set),
    load('proc-traffic', () => api.procTraffic(r), p.procTraffic.set),
  ]);
}

function loadTalkers() {
  return load('talkers', () => api.talkers(controls.range, p.talkers.by), p.talkers.set);
}

function renderHost() {
  p.cpu.render();
  p.memory.render();
  p.load.render();
  // The samples are this server's; the tiles say '–' while another host is chosen.
  if (!fleet.remote) p.summary.host(samples.latest);
}

function loadHost() {
  return Promise.all([
    load('cpu', api.system, (sys) => {
      samples.reset(sys.history.length ? sys.history : sys.current ? [sys.current] : []);
      if (sys.current) samples.push(sys.current);
      renderHost();
    }),
    loadProcesses(),
    load('proc-feed', () => api.procEvents(50), p.feed.set),
  ]);
}

// System ticks carry the top processes and keep those tables live; /processes (the whole
// tree, tens of KB) is fetched only once the tree is on screen, then every 5 s.
let liveTops = false;
let treeShown = false;
function loadProcesses() {
  if (!treeShown) return Promise.resolve(false);
  return load('proc-tree', api.processes, (procs) => {
    if (!liveTops) {
      p.topCpu.set(procs.topCpu);
      p.topMem.set(procs.topMem);
    }
    p.tree.set(procs.tree, [...procs.topCpu, ...procs.topMem]);
  });
}

function watchTree() {
  const show = () => { treeShown = true; loadProcesses(); };
  if (!('IntersectionObserver' in window)) { show(); return; }
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) { io.disconnect(); show(); }
  }, { rootMargin: '200px' });
  io.observe($('proc-tree'));
}

const renderHistory = debounce(() => {
  const all = [...history.values()];
  p.recent.set(all);
  p.anomaly.set(all);
  p.kinds.set(all);
  p.offenders.set(all);
}, 150);

function loadAlerts() {
  return Promise.all([
    load('active-alerts', api.activeAlerts, p.active.set),
    load('recent-alerts', () => api.alertHistory(controls.range), (list) => {
      history.clear();
      for (const a of list) history.set(a.id || `${a.kind}|${a.first}`, a);
      capped.textContent = list.length >= HISTORY_LIMIT ? `newest ${HISTORY_LIMIT} alerts of this range` : '';
      renderHistory();
    }),
  ]);
}

const loadHealth = () => load('degraded', api.health, p.health.set);

function loadAll() {
  return Promise.all([loadNetwork(), loadHost(), loadAlerts(), loadHealth()]);
}

/** Stage 2's live half: alerts and process events render as they arrive, system ticks
 * drive the host charts, traffic seconds refresh the network aggregates. */
function startLive() {
  const stream = new LiveStream('stream');
  // Alerts, process events and traffic name their host (none: this server's own); the
  // view keeps those of the chosen host.
  stream.addEventListener('alert', (e) => {
    const a = e.detail;
    if (!fleet.matches(a.host)) return;
    p.active.upsert(a);
    history.set(a.id || `${a.kind}|${a.first}`, a);
    renderHistory();
  });
  stream.addEventListener('process', (e) => fleet.matches(e.detail.host) && p.feed.add(e.detail));
  stream.addEventListener('system', (e) => {
    const { sample, topCpu, topMem } = e.detail;
    if (samples.push(sample)) renderHost();
    if (topCpu) { liveTops = true; p.topCpu.set(topCpu); }
    if (topMem) p.topMem.set(topMem);
  });
  // New traffic refreshes the network aggregates: at once, then at most every 2 s. Closed
  // traffic seconds say so, and so does the heartbeat's running packet counter (a second
  // only closes when later packets or ticks arrive).
  const refreshNetwork = throttle(() => visible() && loadNetwork(), 2000);
  let packetsSeen = null;
  stream.addEventListener('traffic', (e) => e.detail.packets > 0 && fleet.matches(e.detail.host) && refreshNetwork());
  stream.addEventListener('tick', (e) => {
    if (packetsSeen !== null && e.detail.packets > packetsSeen) refreshNetwork();
    packetsSeen = e.detail.packets;
  });
  stream.addEventListener('state', (e) => {
    controls.connection(e.detail.state);
    // Coming back after an outage: reload so the gap is filled.
    if (e.detail.state === 'live' && e.detail.was === 'down') loadAll();
  });
  stream.start();

  // Aggregates are cheap range queries on the server; refresh them only while someone looks.
  every(5000, () => visible() && loadProcesses());
  every(15000, () => visible() && (loadHealth(), loadHosts(), loadNetwork(), p.active.refreshTimes()));
  document.addEventListener('visibilitychange', () => visible() && loadAll());
}

// Stage 1 now; stage 2 once its numbers are on screen (Chart.js is already preloaded, and
// executing it first would hold the summary back by a few hundred ms on a busy machine).
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
applyHostScope($);
Promise.race([Promise.all([loadSummary(), loadHealth(), loadHosts()]), new Promise((r) => setTimeout(r, 1500))])
  .then(afterPaint)
  .then(() => loadChartLib('vendor/chart.umd.min.js'))
  .then(() => {
  createPanels();
  watchTree();
  performance.mark('netsnoop:panels-created');
  startLive();
  return loadAll();
}).then(() => performance.mark('netsnoop:all-loaded'), (err) => {
  document.getElementById('degraded').hidden = false;
  document.getElementById('degraded').textContent = `The dashboard could not start: ${err?.message || err}`;
});
