// End to end, a real fleet: `netsnoop serve` with an enrolment secret and two real
// `netsnoop agent`s on this machine, each with a host id and hostname of its own. Agent A
// raises process bursts and captures on `lo`; agent B raises none (a burst threshold out of
// reach) and captures nothing. The dashboard, in Debian's Chromium, lists the hosts, and
// choosing one limits the alerts, the process feed and the flows to that host, in the
// page URL as `?host=`. Run by web/run-tests.sh (root: the agents' exec source needs it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch, guardOrigin } from '../support/browser.mjs';
import { waitFor } from '../support/netsnoop.mjs';
import { startAgent, startServe } from '../support/fleet.mjs';

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results');
const A = { id: 'e2e-web-a', hostname: 'web-a' };
// Markup in a hostname must show as its own characters.
const B = { id: 'e2e-db-b', hostname: 'db-<b>b</b>' };

let serve;
let agents = [];
let browser;
let page;
let foreign;
let scratch;
const pageErrors = [];
const asked = [];
const children = [];

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the fleet end-to-end test needs root (the agents\' exec source and capture): run it as root');
  fs.mkdirSync(RESULTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netsnoop-hosts-e2e-'));
  serve = await startServe();
  agents = [
    await startAgent(serve.url, { ...A, args: ['--interface', 'lo'] }),
    await startAgent(serve.url, { ...B, config: '[process.burst]\nthreshold = 100000\n' }),
  ];
  browser = await launch();
  foreign = await guardOrigin(browser.context, new URL(serve.url).origin);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => asked.push(new URL(r.url())));
  await page.goto(serve.url);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await browser?.close();
  for (const p of [...agents, serve].filter(Boolean)) {
    fs.writeFileSync(path.join(RESULTS, `hosts-${p.name}.log`), p.log());
    await p.stop();
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The host chips of the cards (or feed entries) under `selector`, one per item ('' when none). */
const chips = (selector, itemSel) => page.locator(selector).evaluate((root, sel) => [...root.querySelectorAll(sel)]
  .map((el) => el.querySelector('.host-chip')?.textContent ?? ''), itemSel);
const cardHosts = () => chips('#active-alerts', '.alert-card');
const feedHosts = () => chips('#proc-feed', '.feed > li');
const feedWith = (text) => page.locator('#proc-feed .feed > li').evaluateAll((lis, t) => lis
  .filter((li) => li.textContent.includes(t)).map((li) => li.querySelector('.host-chip')?.textContent ?? ''), text);

/** Chooses a host in the picker (value: a host id, '' for all) and waits for the URL to say so. */
async function choose(value) {
  await page.selectOption('#host-select', value);
  await waitFor(async () => new URL(page.url()).searchParams.get('host') === (value || null), { what: `?host=${value} in the URL` });
}

/** A shell that starts 14 short processes (a burst for agent A) then waits; argv names `tag`. */
function burst(tag) {
  const script = path.join(scratch, `burst-${tag}.sh`);
  fs.writeFileSync(script, `#!/bin/sh\ni=0\nwhile [ $i -lt 14 ]; do /bin/true ${tag}-$i; i=$((i+1)); done\nsleep 60\n`, { mode: 0o755 });
  const child = spawn(script, [], { stdio: 'ignore' });
  children.push(child);
  return child;
}

test('the picker lists every host with its state, names as text', async () => {
  await waitFor(() => page.locator('#host-pick').isVisible(), { what: 'the host picker to show (three hosts report)' });
  const options = await page.locator('#host-select option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(options[0], ['', 'All hosts (3)']);
  const byId = Object.fromEntries(options);
  assert.equal(byId[A.id], 'web-a — up');
  assert.equal(byId[B.id], 'db-<b>b</b> — up');
  assert.equal(options.length, 4, `the server's own host is listed too: ${JSON.stringify(options)}`);
  assert.match(options[1][1], /— this server, up$/, 'the server comes first');
  assert.equal(await page.locator('#host-select b').count(), 0, 'no markup was parsed from a hostname');
  assert.equal(await page.locator('#host-select').inputValue(), '', 'all hosts by default');
  assert.equal(new URL(page.url()).searchParams.get('host'), null);
});

test('choosing a host limits alerts, the process feed and flows to it, live too', async () => {
  const tag = `hostmark${process.pid}`;
  const child = burst(tag);
  const mine = `pid ${child.pid}`;
  // All hosts: A's burst alert, and the marker processes from both agents (both see them).
  await waitFor(async () => (await page.locator('#active-alerts .alert-card').evaluateAll((cs, m) => cs
    .filter((c) => c.textContent.includes(m)).map((c) => c.querySelector('.host-chip')?.textContent), mine)).includes('web-a'),
  { timeoutMs: 40000, what: `A's burst alert for ${mine} with a web-a chip` });
  await waitFor(async () => {
    const hosts = new Set(await feedWith(tag));
    return hosts.has('web-a') && hosts.has('db-<b>b</b>');
  }, { timeoutMs: 30000, what: 'the marker processes from both hosts in the feed' });
  // Flows: agent A captures lo; a few short connections to the server close at once.
  await waitFor(async () => {
    for (let i = 0; i < 3; i += 1) await new Promise((r) => net.connect(serve.port, '127.0.0.1', function () { this.end(); r(); }).on('error', r));
    const heads = await page.locator('#flows th').allTextContents();
    const hosts = await page.locator('#flows td[data-host]').evaluateAll((tds) => tds.map((td) => td.dataset.host));
    return heads.some((t) => t.startsWith('Host')) && hosts.includes('web-a');
  }, { timeoutMs: 60000, intervalMs: 2000, what: 'flows from web-a with a Host column' });

  asked.length = 0;
  await choose(A.id);
  await waitFor(async () => {
    const cards = await cardHosts();
    return cards.length > 0 && cards.every((h) => h === 'web-a');
  }, { what: 'only web-a alert cards' });
  await waitFor(async () => {
    const feed = await feedHosts();
    return feed.length > 0 && feed.every((h) => h === 'web-a');
  }, { what: 'only web-a entries in the process feed' });
  await waitFor(async () => {
    const hosts = await page.locator('#flows td[data-host]').evaluateAll((tds) => tds.map((td) => td.dataset.host));
    return hosts.length > 0 && hosts.every((h) => h === 'web-a');
  }, { what: 'only web-a flows' });
  for (const p of ['alerts/history', 'events/process', 'flows', 'packets/recent', 'stats/summary', 'stats/top-processes']) {
    const calls = asked.filter((u) => u.pathname === `/${p}`);
    assert.ok(calls.length > 0, `${p} was asked again`);
    assert.ok(calls.every((u) => u.searchParams.get('host') === A.id), `${p} asked with ?host=${A.id}: ${calls.map((u) => u.search)}`);
  }
  // This server's resource panels give way to a note.
  assert.ok(await page.locator('#cpu').evaluate((el) => el.classList.contains('elsewhere')));
  assert.match(await page.locator('#cpu .host-note').textContent(), /not for web-a/);
  assert.equal(await page.locator('[data-key="cpu"] .tile-value').textContent(), '–');

  await choose(B.id);
  await waitFor(async () => !(await cardHosts()).includes('web-a'), { what: 'web-a\'s alert cards to go' });
  await waitFor(async () => {
    const feed = await feedHosts();
    return feed.length > 0 && feed.every((h) => h === 'db-<b>b</b>');
  }, { what: 'only db-<b>b</b> entries in the process feed' });
  assert.equal(await page.locator('#flows td[data-host="web-a"]').count(), 0, 'no web-a flow under db-<b>b</b>');
  assert.equal(await page.locator('.host-chip b, #proc-feed b').count(), 0, 'the hostname stays text');
  // Live: a new process reaches the feed through the stream, under B only.
  const live = `livemark${process.pid}`;
  spawn('/bin/true', [live], { stdio: 'ignore' });
  await waitFor(async () => (await feedWith(live)).length > 0, { timeoutMs: 30000, what: `the live process ${live} in db-<b>b</b>'s feed` });
  assert.deepEqual([...new Set(await feedWith(live))], ['db-<b>b</b>'], 'only B\'s copy of the live process shows');
  assert.equal(await page.locator('#active-alerts .alert-card').evaluateAll((cs, m) => cs.filter((c) => c.textContent.includes(m)).length, mine), 0,
    'A\'s burst alert does not show under B');
});

test('the URL opens the same view: by id, by hostname, and back to all hosts', async () => {
  const other = await browser.context.newPage();
  other.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await other.goto(`${serve.url}?host=${B.id}`);
    await waitFor(async () => (await other.locator('#host-select').inputValue()) === B.id, { what: 'the picker to show B from the URL' });
    await waitFor(async () => {
      const feed = await other.locator('#proc-feed .feed > li .host-chip').allTextContents();
      return feed.length > 0 && feed.every((h) => h === 'db-<b>b</b>');
    }, { what: 'B\'s feed from a link' });
    await other.goto(`${serve.url}?host=web-a`);
    await waitFor(async () => (await other.locator('#host-select').inputValue()) === A.id, { what: 'a hostname in the URL to pick A' });
    await other.selectOption('#host-select', '');
    await waitFor(async () => !new URL(other.url()).searchParams.has('host'), { what: 'all hosts to drop ?host=' });
    await waitFor(async () => new Set(await other.locator('#proc-feed .feed > li .host-chip').allTextContents()).size >= 2,
      { what: 'every host\'s processes again' });
  } finally {
    await other.close();
  }
});

test('per-host traffic statistics: the tiles count the chosen host only', async () => {
  const res = await fetch(new URL(`stats/summary?host=${A.id}`, serve.url));
  assert.equal(res.status, 200, await res.text());
  await choose(A.id);
  await waitFor(async () => Number((await page.locator('[data-key="packets"] .tile-value').textContent()).replace(/[^0-9]/g, '')) > 0,
    { timeoutMs: 30000, what: 'web-a\'s captured packets in the tile' });
  await choose(B.id);
  await waitFor(async () => (await page.locator('[data-key="packets"] .tile-value').textContent()) === '0',
    { what: 'no packets for db-<b>b</b> (it captures nothing)' });
});

test('screenshots of all hosts and of one host chosen, in light and dark themes', async () => {
  await choose('');
  await waitFor(async () => (await page.locator('#flows th').allTextContents()).some((t) => t.startsWith('Host')), { what: 'the flows Host column' });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(RESULTS, 'hosts-all.png'), fullPage: true });
  await choose(A.id);
  await page.evaluate(() => window.scrollTo(0, 0));
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  if ((await theme()) !== 'light') await page.click('#theme-toggle');
  await page.screenshot({ path: path.join(RESULTS, 'hosts-light.png'), fullPage: true });
  await page.click('#theme-toggle');
  assert.equal(await theme(), 'dark');
  await page.screenshot({ path: path.join(RESULTS, 'hosts-dark.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(RESULTS, 'hosts-phone-dark.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the phone layout with the picker does not scroll sideways (overflow ${overflow}px)`);
  await page.setViewportSize({ width: 1440, height: 900 });
  for (const name of ['hosts-all.png', 'hosts-light.png', 'hosts-dark.png', 'hosts-phone-dark.png']) {
    assert.ok(fs.statSync(path.join(RESULTS, name)).size > 10000, `${name} was written`);
  }
});

test('no script error and no request off the page origin', () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreign, []);
});
