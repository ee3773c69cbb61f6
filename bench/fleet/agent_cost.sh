#!/usr/bin/env bash
# Agent shipping overhead: a real `netsnoop agent --no-capture` (shipping to a local
# `netsnoop serve`) and `netsnoop run --no-capture` (its own SQLite store) watch the same
# exec storm side by side, at the same time. The storm is a shell loop of `/bin/true`,
# PER_TICK execs every 100 ms. Per phase (idle, then storm) and per process: CPU as % of
# a core, the records it stored or shipped with a time inside the phase (read from the
# server's and run's databases), and CPU per 1,000 records. `run` gets
# `[attribution] source = "off"` (RUN_TOML) so both run the same monitors: the agent
# starts no socket attribution under --no-capture. Release build, needs root.
# Usage: SECS=30 PER_TICK=35 RUNS=3 bench/fleet/agent_cost.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SECS:-30}
per_tick=${PER_TICK:-35}
runs=${RUNS:-3}
default_toml=$'[attribution]\nsource = "off"'
run_toml=${RUN_TOML-$default_toml}
port=${PORT:-18960}
[ "$(id -u)" -eq 0 ] || { echo "agent_cost: needs root (exec monitors)" >&2; exit 1; }
export NETSNOOP_ENROLL_SECRET=${NETSNOOP_ENROLL_SECRET:-fleet-bench-secret-0123456789}
cargo build --release --locked -q -p netsnoop --bin netsnoop >&2
bin=$PWD/target/release/netsnoop
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$work"; }
trap cleanup EXIT

cpu_secs() { awk '{ sub(/.*\) /, ""); print ($12 + $13) / 100 }' "/proc/$1/stat"; }
now_us() { echo $(( ${EPOCHREALTIME/./} )); }
# rows DB WHERE: records in the store with the given condition on time and host.
rows() {
  python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
n = 0
for t in ("process_events", "system_samples", "flows", "alerts", "losses"):
    col = "last_seen" if t in ("flows", "alerts") else "time"
    n += c.execute(f"select count(*) from {t} where {sys.argv[2].replace('TIME', col)}").fetchone()[0]
print(n)
EOF
}
storm() { # storm UNTIL_US: PER_TICK execs every 100 ms
  while (( $(now_us) < $1 )); do
    for ((i = 0; i < per_tick; i++)); do /bin/true fleetcost; done
    sleep 0.1
  done
}

echo "# agent_cost $(date -u +%FT%TZ), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  d="$work/r$run"; mkdir -p "$d/serve" "$d/agent" "$d/run"
  : >"$d/serve/c.toml"
  printf '[fleet]\nhost_id = "cost-agent"\nhostname = "cost-agent.bench"\n' >"$d/agent/c.toml"
  printf '%s\n' "$run_toml" >"$d/run/c.toml"
  env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$d/serve" --config "$d/serve/c.toml" \
    --listen "127.0.0.1:$port" 2>"$d/serve.log" >/dev/null &
  srv=$!; pids+=("$srv")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  env -u NETSNOOP_TOKEN "$bin" agent --no-capture --server "http://127.0.0.1:$port" \
    --data-dir "$d/agent" --config "$d/agent/c.toml" 2>"$d/agent.log" >/dev/null &
  agent=$!; pids+=("$agent")
  env -u NETSNOOP_TOKEN "$bin" run --no-capture --listen "127.0.0.1:$((port + 1))" \
    --data-dir "$d/run" --config "$d/run/c.toml" 2>"$d/run.log" >/dev/null &
  runner=$!; pids+=("$runner")
  sleep 8 # start-up scans and enrolment
  for phase in idle storm; do
    t0=$(now_us); a0=$(cpu_secs "$agent"); r0=$(cpu_secs "$runner")
    if [ "$phase" = storm ]; then storm $((t0 + secs * 1000000)); else sleep "$secs"; fi
    t1=$(now_us); a1=$(cpu_secs "$agent"); r1=$(cpu_secs "$runner")
    sleep 4 # the last batch is shipped and committed
    where="TIME >= $t0 AND TIME < $t1"
    ar=$(rows "$d/serve/netsnoop.db" "$where AND host > 0")
    rr=$(rows "$d/run/netsnoop.db" "$where")
    awk -v run="$run" -v ph="$phase" -v s="$(( (t1 - t0) / 1000 ))" -v a="$(echo "$a1 - $a0" | bc)" \
      -v r="$(echo "$r1 - $r0" | bc)" -v ar="$ar" -v rr="$rr" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
      s /= 1000
      printf "run=%s phase=%s secs=%.1f agent_records_per_s=%.0f run_records_per_s=%.0f agent_cpu_pct=%.2f run_cpu_pct=%.2f agent_ms_per_1k=%.1f run_ms_per_1k=%.1f diff_cpu_pct=%.2f load=%s\n",
        run, ph, s, ar / s, rr / s, a / s * 100, r / s * 100, ar ? a * 1e6 / ar : 0, rr ? r * 1e6 / rr : 0, (a - r) / s * 100, load }'
  done
  kill "$agent" "$runner" "$srv"; wait "$agent" "$runner" "$srv" 2>/dev/null || true; pids=()
done
