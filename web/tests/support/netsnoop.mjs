// Starts a real `netsnoop run` built from this repository on a free loopback port with a
// temporary data dir, and stops it again.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BINARY = process.env.NETSNOOP_BIN || path.join(REPO, 'target/debug/netsnoop');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(check, { timeoutMs = 20000, intervalMs = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let lastErr = null;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
}

function run(args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`netsnoop ${args[0]} exited ${code}: ${out}`))));
  });
}

/**
 * Runs `netsnoop init` then `netsnoop run` (extra args appended) and waits for /health.
 * Returns { url, port, dataDir, log(), stop() }.
 */
export async function startNetsnoop(extraArgs = []) {
  if (!fs.existsSync(BINARY)) throw new Error(`no binary at ${BINARY}: run \`cargo build -p netsnoop\` (web/run-tests.sh does)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsnoop-web-'));
  const config = path.join(dataDir, 'netsnoop.toml');
  await run(['init', '--config', config, '--data-dir', dataDir], { cwd: dataDir });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const args = ['run', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--config', config, ...extraArgs];
  let output = '';
  let child = null;
  let exited = null;

  async function start() {
    exited = null;
    child = spawn(BINARY, args, { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    await waitFor(async () => {
      if (exited) throw new Error(`netsnoop run exited early (${JSON.stringify(exited)}):\n${output}`);
      const res = await fetch(new URL('health', url));
      return res.ok;
    }, { timeoutMs: 30000, what: 'netsnoop /health' }).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
  }

  async function kill() {
    if (exited) return;
    child.kill('SIGTERM');
    await waitFor(() => exited, { timeoutMs: 10000, what: 'netsnoop to exit' }).catch(() => child.kill('SIGKILL'));
  }

  await start();
  return {
    url,
    port,
    dataDir,
    get pid() { return child.pid; },
    log: () => output,
    /** Stops the server but keeps its data, so `start()` brings the same one back. */
    kill,
    start,
    async stop() {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
