#!/usr/bin/env bash
# Soak: `netsnoop run` (capture on lo, embedded store, API) for DURATION seconds under a
# steady fork storm, a UDP packet storm on loopback and API load at once. Reports RSS over
# time (it must stay flat), NetSnoop's CPU, and every drop counter. Loopback only.
#
# Usage (root): bench/soak/run.sh
#   env: DURATION=1800 SAMPLE=10 FORK_RATE=200 PACKET_RATE=20000 API_RATE=20 POST_BATCH=100
#        PORT=18731 UDP_PORT=18732 OUT=target/bench-soak
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root (capture on lo, exec events)" >&2; exit 1; }
cargo build --release --locked -q -p netsnoop
out=${OUT:-target/bench-soak}
rm -rf "$out"
mkdir -p "$out"
python3 bench/soak/soak.py main "$PWD/target/release/netsnoop" "$PWD/$out" | tee "$out/report.md"
echo "soak: samples and counters in $out/soak.json, NetSnoop's output in $out/netsnoop.out" >&2
