//! The live stream: one EventSource on /stream, reconnected when it drops, fanned out by topic.

import { normAlert, normHostRef, normProc, normProcEvent, normSample } from './api.js';
import { toMillis } from './format.js';

// SSE event name → [topic, normalizer]. Renames go here only.
const TOPICS = {
  alert: ['alert', normAlert],
  process: ['process', normProcEvent],
  system: ['system', normSystemTick],
  traffic: ['traffic', normTraffic],
  tick: ['tick', normTick],
};

/** One resource sampling round: the system figures (flattened into it) and the current top processes. */
function normSystemTick(j) {
  return {
    sample: normSample(j),
    topCpu: Array.isArray(j.top_cpu) ? j.top_cpu.map(normProc) : null,
    topMem: Array.isArray(j.top_memory) ? j.top_memory.map(normProc) : null,
  };
}

/** One closed second of traffic counters, and the host that counted them (none: this server). */
function normTraffic(j) {
  return { t: toMillis(j.second), packets: Number(j.total.packets), bytes: Number(j.total.bytes), host: normHostRef(j.host) };
}

/** The 1 s heartbeat: running counters, even when nothing else happens. */
function normTick(j) {
  return {
    t: toMillis(j.time),
    packets: Number(j.packets_seen),
    bytes: Number(j.bytes_seen),
    alertsActive: Number(j.alerts_active),
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
    const route = TOPICS[name];
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
