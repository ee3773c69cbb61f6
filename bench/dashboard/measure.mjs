// Measures the dashboard's page weight and first meaningful paint against a real
// `netsnoop run` on loopback, over N cold loads in fresh browser contexts.
// Usage: node bench/dashboard/measure.mjs [runs]   (needs web/node_modules: cd web && npm ci)
// Env: BENCH_ARGS='--interface lo' extra `netsnoop run` flags; BENCH_URL=http://… an existing server.

import { launch } from '../../web/tests/support/browser.mjs';
import { startNetsnoop, waitFor } from '../../web/tests/support/netsnoop.mjs';

const RUNS = Number(process.argv[2] || 15);
const BUDGET_BYTES = 500 * 1024;
const BUDGET_FMP_MS = 1000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function oneLoad(url, baseline = false) {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const requests = new Map();
    const urls = new Map();
    const sizes = {};
    let bytes = 0;
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, new URL(e.request.url).pathname));
    cdp.on('Network.responseReceived', (e) => requests.set(e.requestId, e.response.mimeType));
    cdp.on('Network.loadingFinished', (e) => {
      bytes += e.encodedDataLength;
      const path = urls.get(e.requestId) || '?';
      const key = path.startsWith('/js/') ? '/js/*.js' : path;
      sizes[key] = (sizes[key] || 0) + e.encodedDataLength;
    });
    // The SSE stream never finishes; count what it has sent so far separately.
    let streamBytes = 0;
    cdp.on('Network.dataReceived', (e) => {
      if (requests.get(e.requestId) === 'text/event-stream') streamBytes += e.encodedDataLength || e.dataLength;
    });
    await page.goto(url, { waitUntil: 'load' });
    if (baseline) {
      await waitFor(() => page.evaluate(() => performance.getEntriesByName('first-contentful-paint').length > 0), { timeoutMs: 30000, what: 'baseline paint' });
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime);
      return { fcp, bytes };
    }
    // Every panel has had its first answer: the page is complete, count what it cost.
    await waitFor(() => page.evaluate(() => performance.getEntriesByName('netsnoop:all-loaded').length > 0), {
      timeoutMs: 30000, what: 'all panels loaded',
    });
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      fmp: performance.getEntriesByName('netsnoop:first-data-painted')[0].startTime,
      all: performance.getEntriesByName('netsnoop:all-loaded')[0].startTime,
      dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    }));
    return { ...t, bytes, streamBytes, requests: requests.size, sizes };
  } finally {
    await browser.close();
  }
}

// BENCH_URL measures an already running server instead of starting `netsnoop run`.
const server = process.env.BENCH_URL
  ? { url: process.env.BENCH_URL, stop: async () => {} }
  : await startNetsnoop(process.env.BENCH_ARGS ? process.env.BENCH_ARGS.split(' ') : []);
try {
  await oneLoad(server.url); // warm the server's embedded assets and the OS page cache
  // Interleaved with a baseline (the tiny /health JSON page from the same server, same
  // browser setup), so a busy machine slows both and the ratio stays meaningful.
  const runs = [];
  const base = [];
  for (let i = 0; i < RUNS; i += 1) {
    runs.push(await oneLoad(server.url));
    base.push(await oneLoad(new URL('health', server.url).href, true));
  }
  const row = (name, key, fmt) => {
    const xs = runs.map((r) => r[key]);
    return `| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} |`;
  };
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  const ms = (v) => `${v.toFixed(0)} ms`;
  const mb = median(runs.map((r) => r.bytes));
  const mf = median(runs.map((r) => r.fmp));
  console.log(`dashboard cold loads: ${RUNS} runs, Chromium headless, netsnoop on 127.0.0.1\n`);
  console.log('| metric | median | min | max |\n|---|---|---|---|');
  console.log(row('transferred (all finished requests)', 'bytes', kb));
  console.log(row('requests', 'requests', (v) => String(v)));
  console.log(row('live stream bytes received by then', 'streamBytes', kb));
  console.log(row('first contentful paint', 'fcp', ms));
  console.log(row('first meaningful paint (first data painted)', 'fmp', ms));
  console.log(row('every panel filled (all first answers applied)', 'all', ms));
  console.log(row('DOMContentLoaded', 'dcl', ms));
  const bf = median(base.map((r) => r.fcp));
  console.log(`| baseline: first paint of /health (JSON, same server and browser) | ${ms(bf)} | ${ms(Math.min(...base.map((r) => r.fcp)))} | ${ms(Math.max(...base.map((r) => r.fcp)))} |`);
  console.log(`\nratio first meaningful paint / baseline first paint: ${(mf / bf).toFixed(2)}`);
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} cores`);
  const last = runs[runs.length - 1].sizes;
  console.log('\nwhere the bytes go (last run):');
  for (const [k, v] of Object.entries(last).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${kb(v).padStart(9)}  ${k}`);
  console.log(`\nbudget: transfer ${kb(mb)} / ${kb(BUDGET_BYTES)} = ${(mb / BUDGET_BYTES).toFixed(2)} of budget; ` +
    `first meaningful paint ${ms(mf)} / ${ms(BUDGET_FMP_MS)} = ${(mf / BUDGET_FMP_MS).toFixed(2)} of budget`);
  const ok = mb < BUDGET_BYTES && mf < BUDGET_FMP_MS;
  console.log(ok ? 'within budget' : 'OVER BUDGET');
  process.exitCode = ok ? 0 : 1;
} finally {
  await server.stop();
}
