#!/usr/bin/env python3
"""CPU cost of socket attribution at RATE new TCP connections per second on loopback:
`netsnoop watch` with `[attribution] source = "off"` against the same with eBPF
attribution, alternating, RUNS runs each, side by side in one invocation. Measured over
SECS seconds of load: the netsnoop process's CPU (utime + stime) and the run time of its
BPF programs (kernel.bpf_stats_enabled, run_time_ns from /proc/PID/fdinfo), both as % of
one core. Prints one JSON object with per-run figures and medians. Needs root.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import tempfile
import time

HZ = os.sysconf("SC_CLK_TCK")


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def bpf_ns(pid):
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        if "prog_type" not in text:
            continue
        for line in text.splitlines():
            if line.startswith("run_time_ns:"):
                total += int(line.split()[1])
    return total


SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.81.0.1', 0)); s.listen(4096)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()
"""


def load(port, rate, secs):
    """RATE connects per second for SECS seconds; each closed with RST (no TIME_WAIT)."""
    linger = struct.pack("ii", 1, 0)
    start = time.time()
    n = 0
    while True:
        now = time.time()
        if now - start >= secs:
            return n
        due = int((now - start) * rate)
        while n < due:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.bind(("127.81.0.2", 0))
            try:
                s.connect(("127.81.0.1", port))
            except OSError:
                pass
            s.close()
            n += 1
        time.sleep(0.001)


def run(netsnoop, mode, port, rate, secs):
    tmp = tempfile.mkdtemp(prefix="owner-cost-")
    cfg = os.path.join(tmp, "c.toml")
    with open(cfg, "w") as f:
        f.write('[general]\ntimezone = "UTC"\n[logs]\nevents = []\n'
                f'[attribution]\nsource = "{mode}"\n')
    err = os.path.join(tmp, "err")
    p = subprocess.Popen([netsnoop, "watch", "--format", "jsonl", "--interface", "lo",
                          "--filter", "host 127.81.0.1", "--data-dir", tmp, "--config", cfg],
                         stdout=subprocess.DEVNULL, stderr=open(err, "w"),
                         env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.time() + 60
        while "running; press Ctrl+C" not in open(err).read():
            if time.time() > deadline or p.poll() is not None:
                raise SystemExit("netsnoop did not start:\n" + open(err).read())
            time.sleep(0.1)
        time.sleep(2)
        c0, b0, t0 = cpu_secs(p.pid), bpf_ns(p.pid), time.time()
        n = load(port, rate, secs)
        c1, b1, t1 = cpu_secs(p.pid), bpf_ns(p.pid), time.time()
        wall = t1 - t0
        owners = [l.strip() for l in open(err).read().splitlines() if "owners:" in l]
        return {
            "mode": mode,
            "connects_per_sec": round(n / wall),
            "process_cpu_pct": round(100 * (c1 - c0) / wall, 2),
            "bpf_cpu_pct": round(100 * (b1 - b0) / 1e9 / wall, 3),
            "owners": owners,
        }
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
        subprocess.run(["rm", "-rf", tmp], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netsnoop", required=True)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--secs", type=int, default=15)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    stats_before = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")
    server = subprocess.Popen(["python3", "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        runs = []
        for _ in range(a.runs):
            for mode in ("off", "ebpf"):
                runs.append(run(a.netsnoop, mode, port, a.rate, a.secs))
        med = {}
        for mode in ("off", "ebpf"):
            rs = [r for r in runs if r["mode"] == mode]
            med[mode] = {
                "process_cpu_pct": statistics.median(r["process_cpu_pct"] for r in rs),
                "bpf_cpu_pct": statistics.median(r["bpf_cpu_pct"] for r in rs),
                "connects_per_sec": statistics.median(r["connects_per_sec"] for r in rs),
            }
        extra = (med["ebpf"]["process_cpu_pct"] + med["ebpf"]["bpf_cpu_pct"]
                 - med["off"]["process_cpu_pct"] - med["off"]["bpf_cpu_pct"])
        print(json.dumps({"rate": a.rate, "secs": a.secs, "runs": runs, "median": med,
                          "extra_pct_of_one_core": round(extra, 2)}))
    finally:
        server.kill()
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write(stats_before)


if __name__ == "__main__":
    main()
