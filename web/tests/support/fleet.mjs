// Starts a real fleet built from this repository: one `netsnoop serve` with an enrolment
// secret and any number of `netsnoop agent`s reporting to it, each with a host id and
// hostname of its own (so agents on one machine are different hosts), and stops them.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BINARY, freePort, waitFor } from './netsnoop.mjs';

const SECRET = 'dashboard-e2e-enrolment-secret-0123456789';

/** One netsnoop process in its own data dir; `log()` is everything it said. */
function startProcess(name, args, config) {
  if (!fs.existsSync(BINARY)) throw new Error(`no binary at ${BINARY}: run \`cargo build -p netsnoop\` (web/run-tests.sh does)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `netsnoop-${name}-`));
  const configPath = path.join(dataDir, 'netsnoop.toml');
  fs.writeFileSync(configPath, config);
  let output = '';
  let exited = null;
  const env = { ...process.env, NO_COLOR: '1', NETSNOOP_ENROLL_SECRET: SECRET };
  delete env.NETSNOOP_TOKEN;
  const child = spawn(BINARY, [...args, '--data-dir', dataDir, '--config', configPath], { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  return {
    name,
    dataDir,
    log: () => output,
    get exited() { return exited; },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, { timeoutMs: 10000, what: `${name} to exit` }).catch(() => child.kill('SIGKILL'));
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `netsnoop serve` on a free loopback port; resolves once /health answers. Adds `url`. */
export async function startServe() {
  const port = await freePort();
  const proc = startProcess('serve', ['serve', '--listen', `127.0.0.1:${port}`], '');
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => {
    if (proc.exited) throw new Error(`netsnoop serve exited early (${JSON.stringify(proc.exited)}):\n${proc.log()}`);
    return (await fetch(new URL('health', url))).ok;
  }, { timeoutMs: 30000, what: 'netsnoop serve /health' }).catch(async (err) => { await proc.stop(); throw err; });
  return Object.assign(proc, { url, port });
}

/**
 * `netsnoop agent` reporting to `serverUrl` as host `id` named `hostname`; `config`: more
 * TOML appended (e.g. a burst threshold); `args`: e.g. `--no-capture` or `--interface lo`.
 * Resolves once the server lists the host.
 */
export async function startAgent(serverUrl, { id, hostname, config = '', args = ['--no-capture'] }) {
  const toml = `[fleet]\nhost_id = ${JSON.stringify(id)}\nhostname = ${JSON.stringify(hostname)}\n`
    + '[agent]\nretry_max = "1s"\n[resources]\nenabled = false\n' + config;
  const proc = startProcess(`agent-${id}`, ['agent', ...args, '--server', serverUrl.replace(/\/$/, '')], toml);
  await waitFor(async () => {
    if (proc.exited) throw new Error(`agent ${id} exited early (${JSON.stringify(proc.exited)}):\n${proc.log()}`);
    const hosts = await (await fetch(new URL('hosts', serverUrl))).json();
    return hosts.some((h) => h.id === id);
  }, { timeoutMs: 30000, what: `agent ${id} to enrol` }).catch(async (err) => { await proc.stop(); throw err; });
  return proc;
}
