#!/usr/bin/env bash
# Fleet ingest: N synthetic agents (crates/netsnoop/examples/fleet_load, release build)
# against one release `netsnoop serve` on 127.0.0.1 with its embedded SQLite store in a
# fresh temp data dir per run. Each agent enrols with the secret, then ships a gzip batch a
# second (execs with argv and ancestry, a 20-process resource sample, a traffic second,
# flows, an alert a minute). Prints one line per run: records/s stored, ingest request
# p50/p99, lag from record time to queryable in the store p50/p99 (polled every 100 ms,
# exec rows), server CPU (% of a core) and peak RSS, the generator's own CPU.
# Usage (environment):
#   AGENTS="50 200" RATE=4000 SECS=60 RUNS=3 bench/fleet/run.sh   # RATE = total records/s
set -euo pipefail
cd "$(dirname "$0")/../.."
agents_list=${AGENTS:-50 200}
rate=${RATE:-4000}
secs=${SECS:-60}
runs=${RUNS:-3}
port=${PORT:-18950}
export NETSNOOP_ENROLL_SECRET=${NETSNOOP_ENROLL_SECRET:-fleet-bench-secret-0123456789}
cargo build --release --locked -q -p netsnoop --bin netsnoop --example fleet_load >&2
bin=target/release/netsnoop
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "# fleet_load $(date -u +%FT%TZ), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for agents in $agents_list; do
  for run in $(seq "$runs"); do
    dir="$work/a$agents-r$run"
    mkdir -p "$dir"
    env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$dir" --config "$dir/none.toml" \
      --listen "127.0.0.1:$port" 2>"$dir/serve.log" >/dev/null &
    server=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "serve did not start: $(cat "$dir/serve.log")" >&2; exit 1; }
    line=$(target/release/examples/fleet_load --server "http://127.0.0.1:$port" --agents "$agents" \
      --rate "$rate" --secs "$secs" --db "$dir/netsnoop.db" --pid "$server")
    # Cross-check: rows the store holds for the agents' hosts.
    execs=$(python3 -c "import sqlite3,sys; c=sqlite3.connect('file:$dir/netsnoop.db?mode=ro',uri=True); print(c.execute('select count(*) from process_events where host>0').fetchone()[0])")
    echo "run=$run $line stored_execs=$execs load=$(cut -d' ' -f1 /proc/loadavg)"
    kill "$server"; wait "$server" 2>/dev/null || true; server=
    rm -rf "$dir"
  done
done
