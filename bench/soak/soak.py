#!/usr/bin/env python3
"""Soak: `netsnoop run` under a steady fork storm, a UDP packet storm on loopback and API
load (queries, POSTed batches and one live-stream client), all at once, for DURATION
seconds. Samples NetSnoop's RSS and CPU every SAMPLE seconds and reads every drop counter
(/health and /metrics) at the end; prints a Markdown report and writes soak.json.

Usage (root, from bench/soak/run.sh): soak.py main BINARY WORKDIR
Roles run as their own processes so they never share an interpreter lock with the sampler.
Traffic goes to 127.0.0.1 only.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ENV = os.environ
DURATION = int(ENV.get("DURATION", "1800"))
SAMPLE = int(ENV.get("SAMPLE", "10"))
FORK_RATE = int(ENV.get("FORK_RATE", "200"))
PACKET_RATE = int(ENV.get("PACKET_RATE", "20000"))
API_RATE = int(ENV.get("API_RATE", "20"))
POST_BATCH = int(ENV.get("POST_BATCH", "100"))
PORT = int(ENV.get("PORT", "18731"))
UDP_PORT = int(ENV.get("UDP_PORT", "18732"))
TOKEN = "soak-token-0123456789abcdef"
HZ = os.sysconf("SC_CLK_TCK")


def paced(rate, duration, step):
    """Calls step(n) so that about `rate` units per second are done, in 20 ms slices."""
    start = time.monotonic()
    done = 0
    while True:
        now = time.monotonic() - start
        if now >= duration:
            return done
        due = int(now * rate) - done
        if due > 0:
            done += step(due)
        else:
            time.sleep(0.02)


def role_fork(duration):
    """Forks and execs /bin/true at FORK_RATE per second; prints how many."""
    def step(n):
        pids = [os.posix_spawn("/bin/true", ["/bin/true", "soak"], {}) for _ in range(n)]
        for p in pids:
            os.waitpid(p, 0)
        return n
    print(json.dumps({"forks": paced(FORK_RATE, duration, step)}), flush=True)


def role_packets(duration):
    """UDP datagrams to 127.0.0.1:UDP_PORT at PACKET_RATE per second, from 64 source ports."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]
    payload = b"x" * 64
    sent = [0]

    def step(n):
        for i in range(n):
            socks[(sent[0] + i) % 64].sendto(payload, ("127.0.0.1", UDP_PORT))
        sent[0] += n
        return n
    print(json.dumps({"packets": paced(PACKET_RATE, duration, step)}), flush=True)


def request(path, body=None, timeout=10):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=body)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def role_api(duration):
    """API_RATE requests per second over the read endpoints plus one POSTed batch of
    POST_BATCH packets per second, and one live-stream client reading throughout."""
    counts = {"requests": 0, "errors": 0, "posted_packets": 0, "stream_bytes": 0}
    stop = time.monotonic() + duration

    def stream():
        while time.monotonic() < stop:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{PORT}/stream")
                req.add_header("Authorization", f"Bearer {TOKEN}")
                with urllib.request.urlopen(req, timeout=10) as r:
                    while time.monotonic() < stop:
                        chunk = r.read1(65536)
                        if not chunk:
                            break
                        counts["stream_bytes"] += len(chunk)
            except Exception:
                counts["errors"] += 1
                time.sleep(1)
    threading.Thread(target=stream, daemon=True).start()

    paths = ["/health", "/stats/summary", "/stats/top-talkers", "/processes",
             "/events/process?limit=100", "/system", "/alerts", "/packets/recent?limit=50",
             "/stats/protocol-distribution", "/flows", "/metrics"]
    last_post = [0.0]

    def step(n):
        for i in range(n):
            path = paths[(counts["requests"] + i) % len(paths)]
            try:
                request(path)
            except Exception:
                counts["errors"] += 1
        counts["requests"] += n
        if time.monotonic() - last_post[0] >= 1:
            last_post[0] = time.monotonic()
            ts = time.time()
            batch = [{"timestamp": ts, "src_ip": f"10.9.{k % 8}.{k % 250 + 1}",
                      "dst_ip": "10.0.0.1", "protocol": "UDP", "packet_size": 100}
                     for k in range(POST_BATCH)]
            try:
                request("/packets", json.dumps(batch).encode())
                counts["posted_packets"] += POST_BATCH
            except Exception:
                counts["errors"] += 1
        return n
    paced(API_RATE, duration, step)
    print(json.dumps(counts), flush=True)


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return cpu, rss * 1024


def wait_ready(proc):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status, _ = request("/health", timeout=2)
            if status == 200:
                return
        except Exception:
            pass
        if proc.poll() is not None:
            sys.exit(f"soak: netsnoop exited with {proc.returncode} before serving")
        time.sleep(0.5)
    sys.exit("soak: netsnoop did not answer /health within 120 s")


def counters():
    """Every drop and loss counter NetSnoop exports."""
    _, body = request("/health")
    h = json.loads(body)
    _, metrics = request("/metrics")
    lines = [l for l in metrics.decode().splitlines()
             if l.startswith(("netsnoop_lost_events", "netsnoop_capture_dropped_packets",
                              "netsnoop_exec_events_lost", "netsnoop_queue_dropped",
                              "netsnoop_sse_clients_dropped", "netsnoop_packets_total",
                              "netsnoop_process_events_total", "netsnoop_api_ingested"))]
    return {"health": {k: h.get(k) for k in ("status", "losses", "writer",
                                             "stream_clients_dropped",
                                             "alerts_active_evicted", "packets_seen",
                                             "degraded", "redactions")},
            "metrics": lines}


def main(binary, work):
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "c.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{PORT}"\ntoken = "{TOKEN}"\n'
                '[network.capture]\ninterfaces = ["lo"]\n')
    log = open(os.path.join(work, "netsnoop.out"), "w")
    ns = subprocess.Popen([binary, "run", "--config", config, "--data-dir",
                           os.path.join(work, "data")],
                          stdout=log, stderr=subprocess.STDOUT,
                          env=dict(ENV, NO_COLOR="1"))
    wait_ready(ns)
    me = os.path.abspath(__file__)
    roles = {r: subprocess.Popen([sys.executable, me, r, str(DURATION)], stdout=subprocess.PIPE)
             for r in ("fork", "packets", "api")}
    samples = []
    cpu0, _ = proc_stat(ns.pid)
    t0 = time.monotonic()
    prev = (t0, cpu0)
    while time.monotonic() - t0 < DURATION:
        time.sleep(SAMPLE)
        now = time.monotonic()
        cpu, rss = proc_stat(ns.pid)
        load1 = os.getloadavg()[0]
        samples.append({"t": round(now - t0), "rss_mb": round(rss / 2**20, 1),
                        "cpu_pct": round(100 * (cpu - prev[1]) / (now - prev[0]), 1),
                        "load1": round(load1, 1)})
        prev = (now, cpu)
        print(f"soak: t={samples[-1]['t']}s rss={samples[-1]['rss_mb']} MB "
              f"cpu={samples[-1]['cpu_pct']}% load={load1:.1f}", file=sys.stderr, flush=True)
    made = {}
    for r, p in roles.items():
        out, _ = p.communicate(timeout=120)
        made.update(json.loads(out.decode().strip().splitlines()[-1]))
    time.sleep(2)  # let the last second's rollups and writes land
    final = counters()
    cpu_total, _ = proc_stat(ns.pid)
    ns.send_signal(2)
    ns.wait(timeout=30)
    report(samples, made, final, cpu_total - cpu0, time.monotonic() - t0, work)


def report(samples, made, final, cpu_secs, wall, work):
    n = len(samples)
    window = max(1, n // 6)
    # The first minute warms up (seed scan, caches, SQLite page cache); flatness is judged
    # after it: median of the first sixth after warm-up against the last sixth.
    warm = [s for s in samples if s["t"] >= 60] or samples
    early = statistics.median(s["rss_mb"] for s in warm[:window])
    late = statistics.median(s["rss_mb"] for s in samples[-window:])
    result = {"duration_s": DURATION, "rates": {"fork": FORK_RATE, "packets": PACKET_RATE,
              "api": API_RATE, "post_batch": POST_BATCH},
              "generated": made, "cpu_pct_avg": round(100 * cpu_secs / wall, 1),
              "rss_early_mb": early, "rss_late_mb": late,
              "rss_ratio": round(late / early, 3), "rss_max_mb": max(s["rss_mb"] for s in samples),
              "counters": final, "samples": samples}
    with open(os.path.join(work, "soak.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"## Soak: {DURATION} s\n")
    print(f"load: {FORK_RATE} execs/s, {PACKET_RATE} UDP packets/s on lo, {API_RATE} API "
          f"requests/s + {POST_BATCH} POSTed packets/s + 1 stream client\n")
    print(f"generated: {json.dumps(made)}\n")
    print(f"NetSnoop CPU: {result['cpu_pct_avg']}% of one core on average\n")
    print(f"RSS: {early} MB early (median, after 1 min warm-up) -> {late} MB late "
          f"(median of the last sixth): ratio {result['rss_ratio']}, max {result['rss_max_mb']} MB\n")
    print("| minute | RSS MB | CPU % | load |\n|---:|---:|---:|---:|")
    per_min = {}
    for s in samples:
        per_min.setdefault(s["t"] // 60, []).append(s)
    for m, ss in sorted(per_min.items()):
        print(f"| {m} | {ss[-1]['rss_mb']} | {round(statistics.mean(x['cpu_pct'] for x in ss), 1)} "
              f"| {ss[-1]['load1']} |")
    print(f"\ncounters at the end:\n```\n{json.dumps(final['health'], indent=1)}")
    print("\n".join(final["metrics"]) + "\n```")


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "main":
        main(sys.argv[2], sys.argv[3])
    else:
        {"fork": role_fork, "packets": role_packets, "api": role_api}[role](int(sys.argv[2]))
