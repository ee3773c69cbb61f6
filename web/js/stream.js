//! The live stream: one EventSource on /stream, reconnected when it drops, fanned out by topic.

import { normAlert, normProc, normProcEvent, normSample } from './api.js';
import { toMillis } from './format.js';

// SSE event name (or a payload's `type`) → [topic, normalizer]. Renames go here only.
const TOPICS = {
  alert: ['alert', normAlert],
  process: ['process', normProcEvent],
  system: ['system', normSystemTick],
  traffic: ['traffic', normTraffic],
  tick: ['tick', normTick],
};

/** One resource sampling round: the system figures and the current top processes. */
function normSystemTick(j) {
  return {
    sample: normSample(j.system ?? j.sample ?? j),
    topCpu: Array.isArray(j.top_cpu) ? j.top_cpu.map(normProc) : null,
    topMem: Array.isArray(j.top_memory) ? j.top_memory.map(normProc) : null,
  };
}

/** One closed second of traffic counters. */
function normTraffic(j) {
  const total = j.total ?? j;
  return { t: toMillis(j.second ?? j.time ?? j.timestamp), packets: Number(total.packets ?? 0), bytes: Number(total.bytes ?? 0) };
}

/** The 1 s heartbeat: running counters, even when nothing else happens. */
function normTick(j) {
  return {
    t: toMillis(j.time),
    packets: Number(j.packets_seen ?? 0),
    bytes: Number(j.bytes_seen ?? 0),
    alertsActive: Number(j.alerts_active ?? 0),
  };
}

// No message for this long means the connection is dead even if the socket looks open
// (the server ticks every second).
const STALE_MS = 5000;

export class LiveStream extends EventTarget {
  constructor(url = 'stream') {
    super();
    this.url = url;
    this.state = 'connecting';
    this.retryMs = 1000;
    this.lastMessage = 0;
    this.es = null;
    this.watchdog = setInterval(() => this.checkStale(), 1000);
  }

  start() {
    this.open();
    return this;
  }

  open() {
    this.close();
    this.setState('connecting');
    const es = new EventSource(new URL(this.url, document.baseURI));
    this.es = es;
    es.onopen = () => {
      this.retryMs = 1000;
      this.lastMessage = Date.now();
      this.setState('live');
    };
    es.onerror = () => {
      if (es !== this.es) return;
      // EventSource retries by itself while CONNECTING; once CLOSED it gives up, so we retry.
      if (es.readyState === EventSource.CLOSED) this.scheduleRetry();
      else this.setState('down');
    };
    es.onmessage = (e) => this.handle('message', e.data);
    for (const name of Object.keys(TOPICS)) es.addEventListener(name, (e) => this.handle(name, e.data));
  }

  handle(name, data) {
    this.lastMessage = Date.now();
    if (this.state !== 'live') this.setState('live');
    let payload;
    try {
      payload = JSON.parse(data);
    } catch {
      return; // keep-alive comments and non-JSON pings
    }
    const key = name === 'message' ? payload?.type : name;
    const route = TOPICS[key];
    if (!route) return;
    const [topic, norm] = route;
    this.dispatchEvent(new CustomEvent(topic, { detail: norm(payload) }));
  }

  checkStale() {
    if (this.state === 'live' && Date.now() - this.lastMessage > STALE_MS) this.scheduleRetry();
  }

  scheduleRetry() {
    this.close();
    this.setState('down');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 15000);
  }

  setState(state) {
    if (state === this.state) return;
    const was = this.state;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, was } }));
  }

  close() {
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }
}
