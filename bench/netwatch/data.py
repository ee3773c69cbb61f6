#!/usr/bin/env python3
"""The benchmark's traffic: PACKETS packets from SOURCES distinct sources (each source sends
at least one, the rest at random) to 200 destinations over the last SPAN seconds, the same
on every run. `post URL` sends it to a netsnoop server in batches of 10,000; `copy` writes
it as PostgreSQL COPY text for NetWatch's `packets` table."""
import json
import sys
import time
import urllib.request

PROTOCOLS = ["TCP"] * 70 + ["UDP"] * 25 + ["OTHER"] * 5


def packets(n, sources, span, end):
    x = 88172645463325252
    start = end - span
    for i in range(n):
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        src = i if i < sources else x % sources
        yield (
            start + span * i / n,
            f"10.{src >> 16 & 255}.{src >> 8 & 255}.{src & 255}",
            f"192.168.0.{x % 200}",
            PROTOCOLS[x % 100],
            60 + x % 1400,
        )


def main():
    mode, n, sources, span = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    end = int(sys.argv[5]) if len(sys.argv) > 5 else int(time.time()) - 60
    rows = packets(n, sources, span, end)
    if mode == "copy":
        out = sys.stdout
        for t, s, d, p, size in rows:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}"
            out.write(f"{iso}\t{s}\t{d}\t{p}\t{size}\n")
        return
    url = sys.argv[6] if len(sys.argv) > 6 else sys.argv[5]
    batch = []

    def send():
        body = json.dumps(batch).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        for _ in range(100):
            try:
                urllib.request.urlopen(req, timeout=60).read()
                return
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise
                time.sleep(0.2)
        raise SystemExit("server stayed busy")

    for t, s, d, p, size in rows:
        batch.append({"timestamp": t, "src_ip": s, "dst_ip": d, "protocol": p, "packet_size": size})
        if len(batch) == 10_000:
            send()
            batch = []
    if batch:
        send()


if __name__ == "__main__":
    main()
