#!/usr/bin/env python3
"""Attribution accuracy: SHORT one-shot client processes (curl and python3, alternating)
and LONG long-lived ones, each connecting from a port of its own to a local server, while
`netsnoop watch --format jsonl` (and bandwhich in raw mode, side by side in the same run)
watch. A flow counts as right when its client end names the client's pid (netsnoop) or its
program name (bandwhich shows names, not pids). With --netns the clients run in a network
namespace this script creates, joined to the host by a veth pair (10.201.0.0/24).

Prints one JSON object with the shares. Needs root (capture, eBPF, namespaces).
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler, ThreadingTCPServer


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Echo(BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(64)
            if not data:
                return
            self.request.sendall(data)


def sh(*cmd):
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netsnoop", required=True)
    ap.add_argument("--bandwhich", default="")
    ap.add_argument("--short", type=int, default=1000)
    ap.add_argument("--long", type=int, default=100)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--netns", action="store_true")
    ap.add_argument("--source", default="auto", help="[attribution] source")
    a = ap.parse_args()

    tag = str(os.getpid() % 10000)
    ns = f"nsown{tag}"
    if a.netns:
        host_if, ns_if = f"voh{tag}", f"von{tag}"
        server_ip, client_ip = "10.201.0.1", "10.201.0.2"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        sh("ip", "link", "set", ns_if, "netns", ns)
        sh("ip", "addr", "add", f"{server_ip}/24", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{client_ip}/24", "dev", ns_if)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        iface, prefix = host_if, ["ip", "netns", "exec", ns]
    else:
        server_ip, client_ip, iface, prefix = "127.80.0.1", "127.80.0.2", "lo", []

    tmp = tempfile.mkdtemp(prefix="owner-bench-")
    procs = []
    try:
        http = ThreadingHTTPServer((server_ip, 0), Http)
        echo = ThreadingTCPServer((server_ip, 0), Echo)
        echo.daemon_threads = True
        for srv in (http, echo):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        http_port, echo_port = http.server_address[1], echo.server_address[1]

        cfg = os.path.join(tmp, "c.toml")
        with open(cfg, "w") as f:
            f.write('[general]\ntimezone = "UTC"\n[logs]\nevents = ["flow"]\n'
                    '[network.flows]\nclose_linger_secs = 1\nmax_flows = 100000\n'
                    f'[attribution]\nsource = "{a.source}"\n')
        out_path = os.path.join(tmp, "netsnoop.jsonl")
        err_path = os.path.join(tmp, "netsnoop.err")
        ns_proc = subprocess.Popen(
            [a.netsnoop, "watch", "--format", "jsonl", "--interface", iface, "--filter",
             f"host {server_ip}", "--data-dir", tmp, "--config", cfg],
            stdout=open(out_path, "w"), stderr=open(err_path, "w"), env={**os.environ, "NO_COLOR": "1"})
        procs.append(ns_proc)
        deadline = time.time() + 60
        while "running; press Ctrl+C" not in open(err_path).read():
            if time.time() > deadline or ns_proc.poll() is not None:
                sys.exit("netsnoop did not start:\n" + open(err_path).read())
            time.sleep(0.1)
        banner = [l for l in open(err_path).read().splitlines() if "owners:" in l]

        bw_proc = None
        bw_path = os.path.join(tmp, "bandwhich.txt")
        if a.bandwhich:
            bw_proc = subprocess.Popen([a.bandwhich, "-r", "-n", "-i", iface],
                                       stdout=open(bw_path, "w"), stderr=subprocess.STDOUT)
            procs.append(bw_proc)
            time.sleep(2)

        truth = {}  # client port -> (pid, program, kind)
        port = [20000]

        def next_port():
            port[0] += 1
            return port[0]

        # Long-lived: connected for the whole run, a byte each 200 ms.
        long_code = (
            "import socket, sys, time\n"
            "s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2])))\n"
            "s.connect((sys.argv[3], int(sys.argv[4])))\n"
            "while sys.stdin.read(0) == '':\n"
            "    s.sendall(b'x'); s.recv(1); time.sleep(0.2)\n"
        )
        longs = []
        for _ in range(a.long):
            p = next_port()
            c = subprocess.Popen(prefix + ["python3", "-c", long_code, client_ip, str(p), server_ip, str(echo_port)],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            truth[p] = (c.pid, "python3", "long")
            longs.append(c)

        # Short-lived: one request each, `parallel` at a time.
        short_py = (
            "import socket, sys\n"
            "s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2])))\n"
            "s.connect((sys.argv[3], int(sys.argv[4])))\n"
            "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "while s.recv(4096): pass\n"
            "s.close()\n"
        )
        running = []
        started = time.time()
        for i in range(a.short):
            p = next_port()
            if i % 2 == 0:
                cmd = prefix + ["curl", "-s", "-o", "/dev/null", "--interface", client_ip,
                                "--local-port", str(p), f"http://{server_ip}:{http_port}/"]
                prog = "curl"
            else:
                cmd = prefix + ["python3", "-c", short_py, client_ip, str(p), server_ip, str(http_port)]
                prog = "python3"
            c = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            truth[p] = (c.pid, prog, "short")
            running.append(c)
            if len(running) >= a.parallel:
                running.pop(0).wait()
        for c in running:
            c.wait()
        short_secs = time.time() - started
        time.sleep(2)
        for c in longs:
            c.stdin.close()
            c.kill()
            c.wait()
        time.sleep(3)
        ns_proc.send_signal(signal.SIGINT)
        ns_proc.wait(timeout=60)
        if bw_proc:
            bw_proc.send_signal(signal.SIGINT)
            try:
                bw_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bw_proc.kill()

        # netsnoop: the client end of each flow, by client port.
        got = {}
        for line in open(out_path):
            v = json.loads(line)
            if v.get("type") != "flow" or v.get("orig_ip") != client_ip:
                continue
            o = v.get("orig_owner") or {}
            got.setdefault(v["orig_port"], []).append(o)
        res = {"netns": a.netns, "short": a.short, "long": a.long,
               "short_secs": round(short_secs, 1), "banner": banner}
        for kind in ("short", "long"):
            ports = [p for p, t in truth.items() if t[2] == kind]
            right = sum(1 for p in ports
                        if any((o.get("known") or {}).get("pid") == truth[p][0] for o in got.get(p, [])))
            unknown = sum(1 for p in ports
                          if got.get(p) and not any("known" in o for o in got[p]))
            res[f"netsnoop_{kind}_right_pct"] = round(100.0 * right / max(1, len(ports)), 2)
            res[f"netsnoop_{kind}_unknown"] = unknown
            res[f"netsnoop_{kind}_no_flow"] = sum(1 for p in ports if p not in got)
        if bw_proc:
            # connection: <ts> <iface>:<local port> => <remote ip>:<port> (tcp) up/down Bps: a/b process: "name"
            pat = re.compile(r'connection: <\d+> <[^>]*>:(\d+) => ([\d.]+):(\d+) \((\w+)\).*process: "([^"]*)"')
            # The client's own side (local = client port): its program name is the answer.
            # The server's side (remote = client): the connection was seen, but the name is
            # the server's (in --netns, bandwhich in the host namespace sees only that side).
            names, seen_ports = {}, set()
            for line in open(bw_path, errors="replace"):
                m = pat.search(line)
                if not m:
                    continue
                if m.group(2) == server_ip:
                    names.setdefault(int(m.group(1)), set()).add(m.group(5))
                    seen_ports.add(int(m.group(1)))
                elif m.group(2) == client_ip:
                    seen_ports.add(int(m.group(3)))
            for kind in ("short", "long"):
                ports = [p for p, t in truth.items() if t[2] == kind]
                right = sum(1 for p in ports if truth[p][1] in names.get(p, set()))
                seen = sum(1 for p in ports if p in seen_ports)
                res[f"bandwhich_{kind}_right_name_pct"] = round(100.0 * right / max(1, len(ports)), 2)
                res[f"bandwhich_{kind}_seen_pct"] = round(100.0 * seen / max(1, len(ports)), 2)
        print(json.dumps(res))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        if a.netns:
            subprocess.run(["ip", "netns", "del", ns], check=False)
            subprocess.run(["ip", "link", "del", f"voh{tag}"], check=False, stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    main()
