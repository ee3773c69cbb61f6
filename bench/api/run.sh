#!/usr/bin/env bash
# HTTP API benchmark: ingest rate of POST /packets (single packets with keep-alive, and
# batches of 1,000) and p50/p99 latency of each statistics endpoint with 10 M packets stored.
# Needs wrk (apt-get install wrk). Prints a markdown report on stdout.
# Usage: bench/api/run.sh [PACKETS=10000000] [DURATION=10s]
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-10000000}
duration=${2:-10s}
command -v wrk >/dev/null || { echo "bench/api: wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked -p netsnoop --bin netsnoop >&2
cargo build --release --locked -p netsnoop-server --example bench_fill >&2
bin=target/release/netsnoop
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

source bench/api/common.sh
# wrk with --latency; prints "p50 p99 req/s non2xx".
measure() {
  local out
  out=$(wrk --latency "$@")
  local p50 p99 rps bad
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/{print $NF}' <<<"$out"); bad=${bad:-0}
  echo "$p50 $p99 $rps $bad"
}

echo "## API benchmark ($(date -u +%FT%TZ), $(nproc) cores)"
echo

# 1. Ingest into an empty store through the real pipeline (network stages + writer).
mkdir -p "$work/ingest"
serve "$bin" "$work/ingest" 18901
echo "### Ingest: POST /packets into \`netsnoop serve\` (pipeline: flows, rollups, scan detection, SQLite writer)"
echo
echo "| mode | connections | requests/s | packets/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
read -r p50 p99 rps bad < <(measure -t2 -c64 -d"$duration" -s bench/api/post_batch.lua http://127.0.0.1:18901/packets)
echo "| batches of 1,000 | 64 | $rps | $(awk -v r="$rps" 'BEGIN{printf "%.0f", r*1000}') | $p50 | $p99 | $bad |"
batch_rps=$rps
read -r p50 p99 rps bad < <(measure -t2 -c64 -d"$duration" -s bench/api/post_single.lua http://127.0.0.1:18901/packets)
echo "| single packets, keep-alive | 64 | $rps | $(awk -v r="$rps" 'BEGIN{printf "%.0f", r}') | $p50 | $p99 | $bad |"
# Everything accepted must be stored: wait for the writer, then compare counts.
sleep 3
stored=$(curl -sf http://127.0.0.1:18901/stats/summary | sed 's/.*"total_packets":\([0-9]*\).*/\1/')
echo
echo "Packets counted in the store after the run: $stored (every 200 response is counted; see the check below)."
echo

# 2. Statistics latency over a store filled with $packets packets.
mkdir -p "$work/stats"
start=$(date +%s.%N)
target/release/examples/bench_fill "$work/stats" "$packets" 7200 1000 10 2>&1 >/dev/null | sed 's/^/    /' >&2
fill_secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}')
serve "$bin" "$work/stats" 18902
since=$(( $(date +%s) - 1800 ))
echo "### Statistics latency, $packets packets stored (2 h of traffic from 1,000 sources; filled in ${fill_secs} s)"
echo
echo "| endpoint | p50 | p99 | requests/s |"
echo "|---|---|---|---|"
for path in $(endpoints "$since"); do
  read -r p50 p99 rps bad < <(measure -t1 -c4 -d"$duration" "http://127.0.0.1:18902$path")
  [ "$bad" = 0 ] || { echo "bench/api: $path answered $bad errors" >&2; exit 1; }
  echo "| \`${path/$since/NOW-30m}\` | $p50 | $p99 | $rps |"
done
