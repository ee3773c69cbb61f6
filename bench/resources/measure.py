#!/usr/bin/env python3
"""Runs one monitor for a fixed time and reports its CPU time and peak RSS.

Usage: measure.py NAME SECS WORKDIR -- COMMAND...
The command runs in WORKDIR (the originals write their logs into the current
directory). A command still running after SECS gets SIGINT, then SIGKILL after 5 s.
CPU time and peak RSS come from wait4(), so they cover every thread of the process
(and children it waited for). Prints one JSON line.
"""
import json
import os
import signal
import subprocess
import sys
import time


def main():
    name, secs, workdir = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    out = open(os.path.join(workdir, f"{name}.out"), "wb")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    deadline = start + secs
    status = rusage = None
    while time.monotonic() < deadline:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    else:
        proc.send_signal(signal.SIGINT)
        kill_at = time.monotonic() + 5
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > kill_at:
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.1)
    wall = time.monotonic() - start
    cpu = rusage.ru_utime + rusage.ru_stime
    print(json.dumps({
        "tool": name,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 3),
        "user_s": round(rusage.ru_utime, 3),
        "sys_s": round(rusage.ru_stime, 3),
        "cpu_pct_of_core": round(cpu / wall * 100, 3),
        "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1),
    }), flush=True)


if __name__ == "__main__":
    main()
