// End to end: a real `netsnoop run` fed by real processes (proc connector, root) and by
// packet batches POSTed through its real API (so foreign loopback traffic from other tests
// cannot blur the numbers), with the dashboard driven in Debian's Chromium.
// Run by web/run-tests.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { launch, guardOrigin } from '../support/browser.mjs';
import { startNetsnoop, waitFor } from '../support/netsnoop.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results');

let server;
let browser;
let page;
let foreign;
const dialogs = [];
const pageErrors = [];
let navigations = 0;
const children = [];
let scratch;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the dashboard end-to-end test needs root (the proc connector sees every new process only as root): run it as root');
  fs.mkdirSync(RESULTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netsnoop-e2e-'));
  server = await startNetsnoop(['--no-capture']);
  browser = await launch();
  foreign = await guardOrigin(browser.context, new URL(server.url).origin);
  page = await browser.context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations += 1;
  });
  await page.goto(server.url);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await browser?.close();
  if (server) {
    fs.writeFileSync(path.join(RESULTS, 'netsnoop.log'), server.log());
    await server.stop();
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A batch of packets through POST /packets, as a NetWatch agent sends them. */
async function postPackets(count) {
  const now = Date.now();
  const protocols = ['TCP', 'TCP', 'UDP', 'ICMP'];
  const batch = Array.from({ length: count }, (_, i) => ({
    timestamp: new Date(now - (count - i) * 20).toISOString(),
    src_ip: `127.0.0.${1 + (i % 5)}`,
    dst_ip: `127.0.1.${1 + (i % 3)}`,
    protocol: protocols[i % protocols.length],
    packet_size: 60 + ((i * 37) % 1400),
    src_port: 40000 + (i % 100),
    dst_port: 8000 + (i % 4),
  }));
  const res = await fetch(new URL('packets', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  assert.equal(res.status, 200, `POST /packets answered ${res.status}: ${await res.text()}`);
}

const chartPoints = (selector) => page.evaluate((sel) => {
  const canvas = document.querySelector(sel);
  const chart = canvas && window.Chart.getChart(canvas);
  return chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
}, selector);

const tileNumber = (key) => page.evaluate((k) => {
  const t = document.querySelector(`[data-key="${k}"] .tile-value`).textContent;
  return Number(t.replace(/[^0-9.]/g, '')) || 0;
}, key);

// First, before any packet is POSTed: POSTed packets belong to the `netwatch` host.
test('a single host shows no host picker, chips or Host column', async () => {
  const hosts = await (await fetch(new URL('hosts', server.url))).json();
  assert.equal(hosts.length, 1, `netsnoop run lists only itself: ${JSON.stringify(hosts)}`);
  assert.equal(await page.locator('#host-pick').isVisible(), false);
  assert.equal(await page.locator('.host-chip').count(), 0);
  assert.ok(!(await page.locator('#flows th, #packets th').allTextContents()).some((t) => t.startsWith('Host')));
  assert.equal(new URL(page.url()).searchParams.get('host'), null);
});

test('the network panels fill from packets posted to the running binary, and grow live', async () => {
  await postPackets(300);
  await waitFor(async () => (await tileNumber('packets')) > 0, { what: 'the total-packets tile to count packets' });
  await waitFor(async () => (await chartPoints('#traffic canvas')) > 0, { what: 'the traffic chart' });
  await waitFor(async () => (await chartPoints('#protocols canvas')) > 0, { what: 'the protocol donut' });
  await waitFor(async () => (await chartPoints('#talkers canvas')) > 0, { what: 'the top-talkers chart' });
  await waitFor(() => page.locator('#packets tbody tr').count(), { what: 'recent packets rows' });
  assert.equal(await page.locator('#conn').getAttribute('data-state'), 'live');
  assert.match(await page.locator('[data-key="bytes"] .tile-value').textContent(), /^\d+(\.\d+)? (B|KB|MB|GB|TB)$/);

  // More packets show up on their own: the stream's traffic seconds trigger the refresh.
  const navs = navigations;
  const before = await tileNumber('packets');
  await postPackets(120);
  await waitFor(async () => (await tileNumber('packets')) >= before + 120, { timeoutMs: 20000, what: 'the packet count to grow live' });
  assert.equal(navigations, navs, 'no reload was needed');
  // The POSTed packets belong to NetWatch's default host, so a second host is listed.
  const hosts = await (await fetch(new URL('hosts', server.url))).json();
  assert.deepEqual(hosts.map((h) => h.hostname).filter((n) => n === 'netwatch'), ['netwatch'], JSON.stringify(hosts));
});

test('top processes by traffic names the real process that owned a connection', async () => {
  // A client process of our own connects to a server of our own; the run has no capture,
  // so the conversation's packets come in through POST /packets, and its owner from the
  // kernel (eBPF socket attribution, or the /proc scan where eBPF cannot run).
  const srv = net.createServer((s) => s.on('data', () => {}));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const sport = srv.address().port;
  const client = spawn('python3', ['-c',
    `import socket, time\ns = socket.create_connection(('127.0.0.1', ${sport}))\nprint(s.getsockname()[1], flush=True)\ntime.sleep(60)`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(client);
  const cport = Number(await new Promise((r) => client.stdout.once('data', (d) => r(String(d).trim()))));
  // Let a /proc scan (if that is the source) see the socket before its flow closes.
  await new Promise((r) => setTimeout(r, 2500));
  const t = Date.now();
  const pkt = (i, from, to, flags, size) => ({
    timestamp: new Date(t + i).toISOString(),
    src_ip: '127.0.0.1', dst_ip: '127.0.0.1', protocol: 'TCP', packet_size: size,
    src_port: from, dst_port: to, tcp_flags: flags,
  });
  const res = await fetch(new URL('packets', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      pkt(0, cport, sport, 'S', 74), pkt(1, sport, cport, 'SA', 74), pkt(2, cport, sport, 'PA', 4000),
      pkt(3, cport, sport, 'FA', 66), pkt(4, sport, cport, 'FA', 66),
    ]),
  });
  assert.equal(res.status, 200, await res.text());
  // The flow is stored once its close linger passes; a little traffic now and then makes
  // the page refresh its network panels after that, as live traffic would.
  let polls = 0;
  const row = await waitFor(async () => {
    if (++polls % 10 === 0) await postPackets(1);
    return page.locator('#proc-traffic tbody tr').evaluateAll((rows, pid) => {
      const r = rows.find((tr) => tr.textContent.includes(String(pid)) && tr.textContent.includes('python3'));
      return r ? r.textContent : null;
    }, client.pid);
  }, { timeoutMs: 30000, what: `a python3 row for pid ${client.pid} in top processes by traffic` });
  assert.match(row, /KB/, `the client's 4 KB out shows: ${row}`);
  srv.close();
});

test('the host panels fill from the live resource samples', async () => {
  await waitFor(async () => (await chartPoints('#cpu canvas')) > 1, { what: 'the CPU chart to get live samples' });
  await waitFor(() => page.locator('#cpu .core').count(), { what: 'per-core meters' });
  await waitFor(async () => (await chartPoints('#memory canvas')) > 1, { what: 'the memory chart' });
  await waitFor(() => page.locator('#top-cpu tbody tr').count(), { what: 'top processes by CPU' });
  await page.locator('#proc-tree').scrollIntoViewIfNeeded(); // the tree loads once it is on screen
  await waitFor(() => page.locator('#proc-tree .tree-root li').count(), { what: 'the process tree' });
});

test('a burst under a hostile-named script shows as a new alert without a reload, and its name stays inert text', async () => {
  const before = new Set(await page.locator('.alert-card').evaluateAll((cards) => cards.map((c) => c.dataset.id)));
  const navsBefore = navigations;

  // The file name is the payload: it becomes the comm, argv and exe the dashboard shows.
  const script = path.join(scratch, HOSTILE);
  fs.writeFileSync(script, '#!/bin/sh\ni=0\nwhile [ $i -lt 14 ]; do /bin/true; i=$((i+1)); done\nsleep 60\n', { mode: 0o755 });
  const child = spawn(script, [], { stdio: 'ignore' });
  children.push(child);
  // Ours, not a burst some other test on this machine caused: our pid or our unique dir.
  const mine = [`pid ${child.pid}`, `PID ${child.pid}`, path.basename(scratch)];

  const newCard = await waitFor(() => page.locator('.alert-card').evaluateAll((cards, [seen, marks]) => {
    const fresh = cards.find((c) => !seen.includes(c.dataset.id) && marks.some((m) => c.textContent.includes(m)));
    return fresh ? { id: fresh.dataset.id, kind: fresh.dataset.kind, text: fresh.textContent } : null;
  }, [[...before], mine]), { timeoutMs: 30000, what: `a new alert card about the burst under pid ${child.pid}` });
  assert.match(newCard.kind, /^process\./);
  assert.equal(navigations, navsBefore, 'the alert arrived through the live stream, not a reload');

  await waitFor(() => page.locator('#proc-feed').evaluate((el, s) => el.textContent.includes(s), HOSTILE), {
    what: 'the hostile script path in the process feed',
  });
  const shown = await page.locator('#proc-feed .feed-cmd').evaluateAll((els, s) => els.filter((e) => e.textContent.includes(s)).length, HOSTILE);
  assert.ok(shown > 0, 'the hostile name is shown as its own characters');
  assert.equal(await page.locator('img').count(), 0, 'no <img> element was injected');
  assert.equal(await page.evaluate(() => document.querySelectorAll('[onerror]').length), 0, 'no element carries an onerror attribute');
  assert.deepEqual(dialogs, [], 'no dialog fired');
  assert.deepEqual(pageErrors, [], 'no script error on the page');
});

test('screenshots in light and dark themes are saved as artifacts', async () => {
  await page.evaluate(() => window.scrollTo(0, 0));
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  if ((await theme()) !== 'light') await page.click('#theme-toggle');
  assert.equal(await theme(), 'light');
  await page.screenshot({ path: path.join(RESULTS, 'dashboard-light.png'), fullPage: true });
  await page.click('#theme-toggle');
  assert.equal(await theme(), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)', 'the dark theme changes the page colors');
  await page.screenshot({ path: path.join(RESULTS, 'dashboard-dark.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(RESULTS, 'dashboard-phone-dark.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the phone layout does not scroll sideways (overflow ${overflow}px)`);
  await page.setViewportSize({ width: 1440, height: 900 });
  for (const name of ['dashboard-light.png', 'dashboard-dark.png', 'dashboard-phone-dark.png']) {
    assert.ok(fs.statSync(path.join(RESULTS, name)).size > 10000, `${name} was written`);
  }
});

test('the connection indicator shows a dropped stream and the page reconnects by itself', async () => {
  await server.kill();
  await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'down', {
    timeoutMs: 15000, what: 'the indicator to show the stream is down',
  });
  assert.match(await page.locator('#conn').textContent(), /disconnected/);
  await server.start();
  await waitFor(async () => (await page.locator('#conn').getAttribute('data-state')) === 'live', {
    timeoutMs: 30000, what: 'the stream to reconnect',
  });
});

test('no request leaves the page origin', async () => {
  assert.deepEqual(foreign, []);
});
