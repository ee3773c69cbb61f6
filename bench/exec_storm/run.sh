#!/usr/bin/env bash
# Exec storm: COUNT execs of `/bin/true MARKER id=N tail-N` (unique arguments), THREADS at a
# time, as fast as the machine allows, watched side by side in the same run by NetSnoop's
# eBPF source, proc connector source and /proc polling fallback (each with the core process
# monitor stage fed every event) and forkstat. Per source: share of execs reported, share with
# complete argv, events counted as lost, CPU as % of one core over the storm and per exec.
# RUNS runs, medians.
#
# Usage (root): bench/exec_storm/run.sh     env: COUNT=20000 THREADS=4 RUNS=3
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${COUNT:-20000}
THREADS=${THREADS:-4}
RUNS=${RUNS:-3}
SOURCES=${SOURCES:-"ebpf netlink poll"}
[ "$(id -u)" -eq 0 ] || { echo "exec_storm: needs root (proc connector)" >&2; exit 1; }
command -v forkstat >/dev/null || { echo "exec_storm: apt-get install forkstat" >&2; exit 1; }

cargo build --release -q -p netsnoop-linux --example exec_watch --example exec_storm_spawn
bin=target/release/examples
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cpu_secs() { # utime + stime of a pid, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

for run in $(seq 1 "$RUNS"); do
  marker="storm$$-$run"
  declare -A fds=()
  for s in $SOURCES; do
    mkfifo "$tmp/in-$s"
    "$bin/exec_watch" "$s" "$marker" <"$tmp/in-$s" >"$tmp/out-$s-$run" 2>&1 &
    pids+=($!)
    exec {fd}>"$tmp/in-$s"
    fds[$s]=$fd
  done
  for s in $SOURCES; do
    until grep -q -e ready -e exec_watch: "$tmp/out-$s-$run"; do sleep 0.05; done
  done
  forkstat -e exec -l >"$tmp/forkstat-$run" 2>&1 &
  fpid=$!
  pids+=("$fpid")
  until grep -q Event "$tmp/forkstat-$run"; do sleep 0.05; done
  fcpu0=$(cpu_secs "$fpid")

  "$bin/exec_storm_spawn" "$marker" "$COUNT" "$THREADS" >"$tmp/storm-$run"
  sleep 1 # forkstat has no end-of-stream signal: give it a second to catch up
  fcpu=$(awk -v a="$(cpu_secs "$fpid")" -v b="$fcpu0" 'BEGIN { printf "%.3f", a - b }')
  kill -INT "$fpid"
  wait "$fpid" || true
  for s in $SOURCES; do
    fd=${fds[$s]}
    exec {fd}>&-
    rm "$tmp/in-$s"
  done
  wait
  pids=()
  # forkstat prints one line per exec it saw; storm lines are the spawner's children. A
  # child gone before forkstat read it has no recognisable command line, so forkstat's
  # "reported" share is not measurable, only its complete-argv share.
  # Distinct ids, so a line forkstat repeats (it can, under load) is not counted twice.
  fcomplete=$({ grep -oE "/bin/true $marker id=([0-9]+) tail-\\1 *\$" "$tmp/forkstat-$run" || true; } |
    { grep -oE "id=[0-9]+" || true; } | sort -u | wc -l)
  fexecs=$(grep -cE "^[0-9:]+ exec " "$tmp/forkstat-$run" || true)
  echo "{\"source\":\"forkstat\",\"complete\":$fcomplete,\"exec_lines\":$fexecs,\"cpu_s\":$fcpu}" >"$tmp/out-forkstat-$run"
  echo "run $run: $(cat "$tmp/storm-$run")" >&2
  for s in $SOURCES forkstat; do echo "  $s: $(tail -n1 "$tmp/out-$s-$run")" >&2; done
done

python3 - "$tmp" "$RUNS" "$COUNT" "$THREADS" $SOURCES <<'PY'
import json, statistics, sys
tmp, runs, count, threads, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
storms = [json.loads(open(f"{tmp}/storm-{r}").read()) for r in range(1, runs + 1)]
med = statistics.median
print(f"storm: {count} execs of /bin/true from {threads} threads, {runs} runs; "
      f"rate median {med([s['rate'] for s in storms]):.0f}/s "
      f"(runs: {', '.join(str(round(s['rate'])) for s in storms)})\n")
print("| source | exec events reported | complete argv | lost (counted, median) | CPU, % of one core (median) | CPU per exec (median) | CPU per run |")
print("|---|---|---|---|---|---|---|")
for src in sources + ["forkstat"]:
    rows = []
    for r, storm in enumerate(storms, 1):
        line = open(f"{tmp}/out-{src}-{r}").read().strip().splitlines()[-1]
        try:
            rows.append((json.loads(line), storm))
        except json.JSONDecodeError:
            print(f"| {src} | unavailable: {line} | | | | | |")
            break
    else:
        pct = lambda key: med([100 * d.get(key, 0) / count for d, _ in rows])
        cpus = [100 * d["cpu_s"] / s["secs"] for d, s in rows]
        reported = f"{pct('execs'):.2f}%" if src != "forkstat" else "not measurable"
        lost = med([d.get("lost", 0) for d, _ in rows]) if src != "forkstat" else "not counted"
        # CPU per storm exec: comparable across runs whose storm rates differ.
        per_exec = med([1e6 * d["cpu_s"] / count for d, _ in rows])
        print(f"| {src} | {reported} | {pct('complete'):.2f}% | {lost} | {med(cpus):.1f}% | "
              f"{per_exec:.0f} µs | {', '.join(f'{c:.1f}%' for c in cpus)} |")
PY
