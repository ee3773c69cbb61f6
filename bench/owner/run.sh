#!/usr/bin/env bash
# Socket attribution benchmarks (issue 17), all side by side in one invocation:
#  1. accuracy on loopback: SHORT one-shot clients (curl / python3 alternating) and LONG
#     long-lived ones, share of flows whose client end names the right pid, with bandwhich
#     (raw mode) watching the same run (share naming the right program);
#  2. the same with the clients in a network namespace (veth to the host);
#  3. CPU at RATE new connections/s with attribution off and on (eBPF), RUNS runs each.
#
# Usage (root): bench/owner/run.sh     env: SHORT=1000 LONG=100 RATE=2000 SECS=15 RUNS=3
#   BANDWHICH=path (default: bandwhich on PATH, e.g. from `cargo install bandwhich`)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "bench/owner: needs root (capture, eBPF, namespaces)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/owner: apt-get install curl" >&2; exit 1; }
SHORT=${SHORT:-1000} LONG=${LONG:-100} RATE=${RATE:-2000} SECS=${SECS:-15} RUNS=${RUNS:-3}
BANDWHICH=${BANDWHICH:-$(command -v bandwhich || true)}
[ -n "$BANDWHICH" ] || echo "bench/owner: bandwhich not found (cargo install bandwhich): running without it" >&2

cargo build --release -q -p netsnoop
bin=target/release/netsnoop
bw=()
[ -n "$BANDWHICH" ] && bw=(--bandwhich "$BANDWHICH")

echo "== accuracy, loopback"
python3 bench/owner/accuracy.py --netsnoop "$bin" --short "$SHORT" --long "$LONG" "${bw[@]}"
echo "== accuracy, clients in a network namespace"
python3 bench/owner/accuracy.py --netsnoop "$bin" --short "$SHORT" --long "$LONG" --netns "${bw[@]}"
echo "== accuracy, /proc fallback (source = proc_net), loopback"
python3 bench/owner/accuracy.py --netsnoop "$bin" --short "$SHORT" --long "$LONG" --source proc_net
echo "== CPU at $RATE connections/s"
python3 bench/owner/cost.py --netsnoop "$bin" --rate "$RATE" --secs "$SECS" --runs "$RUNS"
