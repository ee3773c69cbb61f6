#!/usr/bin/env bash
# Two builds side by side. Ingest: POST /packets batches into a fresh server of each
# build in turn, ROUNDS times. Statistics latency: each build fills its own store with
# its own bench_fill, both servers run at once, and every endpoint is measured on one
# build then the other, ROUNDS times, so machine load hits both alike. Prints markdown
# tables of medians over the rounds and the new/old ratios.
# Usage: bench/api/compare.sh OLD_DIR NEW_DIR [PACKETS=10000000] [DURATION=5s] [ROUNDS=3]
#        (ONLY=ingest stops after the ingest table; SINGLE=1 adds single-packet POSTs)
# Each DIR holds release builds of `netsnoop` and `bench_fill` (target/release and
# target/release/examples of a checkout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 packets=${3:-10000000} duration=${4:-5s} rounds=${5:-3}
command -v wrk >/dev/null || { echo "bench/api: wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source "$here/common.sh"

# start BIN_DIR NAME PORT: fills a store with bench_fill and serves it on PORT.
start() {
  local bin=$1 dir=$work/$2 port=$3 t0
  mkdir -p "$dir"
  t0=$(date +%s.%N)
  "$bin/bench_fill" "$dir" "$packets" 7200 1000 10 2>&1 >/dev/null | sed "s/^/    $2: /" >&2
  echo "    $2: filled in $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s" >&2
  serve "$bin/netsnoop" "$dir" "$port"
}
# "p50_ms p99_ms" of one wrk run.
measure() {
  wrk --latency --timeout 10s -t1 -c4 -d"$duration" "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
    $1=="50%" { p50 = ms($2) } $1=="99%" { p99 = ms($2) }
    END { printf "%.2f %.2f\n", p50, p99 }'
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
# ingest BIN_DIR NAME PORT [SCRIPT PER_REQUEST]: POST /packets (batches of 1,000 by
# default) into a fresh `netsnoop serve` for $duration; prints packets/s.
ingest() {
  local bin=$1 dir=$work/ingest-$2 port=$3 script=${4:-post_batch.lua} per=${5:-1000} pid
  rm -rf "$dir"; mkdir -p "$dir"
  serve "$bin/netsnoop" "$dir" "$port"
  pid=${pids[-1]}
  wrk -t2 -c64 -d"$duration" -s "$here/$script" "http://127.0.0.1:$port/packets" \
    | awk -v per="$per" '/^Requests\/sec:/{printf "%.0f\n", $2 * per}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

oi=() ni=() os=() ns=()
for _ in $(seq "$rounds"); do
  oi+=("$(ingest "$old" old 18913)"); ni+=("$(ingest "$new" new 18914)")
  if [ -n "${SINGLE:-}" ]; then
    os+=("$(ingest "$old" old 18913 post_single.lua 1)"); ns+=("$(ingest "$new" new 18914 post_single.lua 1)")
  fi
done
echo "## Ingest, old vs new ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "POST /packets, batches of 1,000, wrk -t2 -c64 -d$duration; packets/s per round."
echo
echo "| build | rounds | median packets/s |"
echo "|---|---|---:|"
echo "| old | ${oi[*]} | $(echo "${oi[*]}" | median) |"
echo "| new | ${ni[*]} | $(echo "${ni[*]}" | median) |"
echo
if [ -n "${SINGLE:-}" ]; then
  echo "Single packets per POST, keep-alive, wrk -t2 -c64 -d$duration; packets/s per round."
  echo
  echo "| build | rounds | median packets/s |"
  echo "|---|---|---:|"
  echo "| old | ${os[*]} | $(echo "${os[*]}" | median) |"
  echo "| new | ${ns[*]} | $(echo "${ns[*]}" | median) |"
  echo
fi
[ "${ONLY:-}" = ingest ] && exit 0

start "$old" old 18911
start "$new" new 18912
since=$(( $(date +%s) - 1800 ))
echo "## Statistics latency, old vs new ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "$packets packets over 2 h from 1,000 sources; wrk -t1 -c4 -d$duration; medians of $rounds rounds (ms)."
echo
echo "| endpoint | old p50 | old p99 | new p50 | new p99 | p99 new/old |"
echo "|---|---:|---:|---:|---:|---:|"
for path in $(endpoints "$since"); do
  o50=() o99=() n50=() n99=()
  for _ in $(seq "$rounds"); do
    read -r a b < <(measure "http://127.0.0.1:18911$path"); o50+=("$a"); o99+=("$b")
    read -r a b < <(measure "http://127.0.0.1:18912$path"); n50+=("$a"); n99+=("$b")
  done
  mo50=$(echo "${o50[*]}" | median) mo99=$(echo "${o99[*]}" | median)
  mn50=$(echo "${n50[*]}" | median) mn99=$(echo "${n99[*]}" | median)
  echo "| \`${path/$since/NOW-30m}\` | $mo50 | $mo99 | $mn50 | $mn99 | $(awk -v n="$mn99" -v o="$mo99" 'BEGIN{printf "%.3f", n/o}') |"
done
echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
