#!/usr/bin/env bash
# What the all-time host totals (SQLite triggers, migration 6) cost at write time: the
# same release binary and data, triggers kept or dropped from the database before the
# server starts, ROUNDS times each. Prints seconds until every packet is counted.
# Usage: bench/netwatch/totals_cost.sh [PACKETS=300000] [SOURCES=65536] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-300000} sources=${2:-65536} rounds=${3:-2}
cargo build --release --locked -p netsnoop --bin netsnoop >&2
bin=$PWD/target/release/netsnoop
port=18951
pid=""
d=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; [ -n "$d" ] && rm -rf "$d"; }
trap cleanup EXIT
start() {
  env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$d" --config "$d/none.toml" \
    --listen 127.0.0.1:$port 2>"$d/log" >/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && return; sleep 0.1; done
  echo "totals_cost: server did not start: $(cat "$d/log")" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
counted() {
  curl -sf http://127.0.0.1:$port/stats/protocol-distribution \
    | python3 -c "import json,sys; print(sum(r['count'] for r in json.load(sys.stdin)))"
}
echo "| round | triggers | seconds | load |"
echo "|---|---|---:|---|"
for round in $(seq "$rounds"); do
  for mode in kept dropped; do
    d=$(mktemp -d)
    start
    if [ "$mode" = dropped ]; then
      stop
      python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for (n,) in c.execute(\"SELECT name FROM sqlite_master WHERE type = 'trigger'\").fetchall():
    c.execute(f'DROP TRIGGER {n}')
c.commit()" "$d/netsnoop.db"
      start
    fi
    t0=$(date +%s.%N)
    python3 bench/netwatch/data.py post "$packets" "$sources" 7200 $(( $(date +%s) - 60 )) \
      http://127.0.0.1:$port/packets
    for _ in $(seq 3000); do [ "$(counted)" = "$packets" ] && break; sleep 0.2; done
    echo "| $round | $mode | $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') | $(cut -d' ' -f1 /proc/loadavg) |"
    stop
    rm -rf "$d"; d=""
  done
done
