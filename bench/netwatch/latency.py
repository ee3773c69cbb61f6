#!/usr/bin/env python3
"""p50 and p99 of GET latency over one keep-alive connection: `latency.py HOST PORT PATH N`.
Prints "p50_ms p99_ms" (after 3 warm-up requests), or "HTTP-<status>" twice on an error."""
import http.client
import sys
import time

host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection(host, port, timeout=120)
times = []
for i in range(n + 3):
    t0 = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    if resp.status != 200:
        print(f"HTTP-{resp.status} HTTP-{resp.status}")
        sys.exit(0)
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.2f} {times[min(len(times) - 1, int(len(times) * 0.99))]:.2f}")
