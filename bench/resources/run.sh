#!/usr/bin/env bash
# Resource-monitor overhead: NetSnoop's sampler + detectors versus the original NetSnoop
# (PyPI `netsnoop`, module netsnoop.acm_monitor) and glances, each alone for SECS seconds
# with IDLE extra idle processes running. Reports CPU time (as % of one core) and peak
# RSS per run, and medians over REPS rounds.
#
# Usage: bench/resources/run.sh            (SECS=60 IDLE=1000 REPS=3 by default)
#        SECS=20 REPS=1 bench/resources/run.sh
# Measures the example binary `resource_monitor` (crates/linux/examples), which runs the
# real sampler thread, every resource detector, the live history and top-N trimming.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-60}
IDLE=${IDLE:-1000}
REPS=${REPS:-3}
VENV=${VENV:-/tmp/netsnoop-bench-venv}
work=$(mktemp -d /tmp/netsnoop-bench-res.XXXXXX)

cargo build --release --locked -p netsnoop-linux --example resource_monitor \
  --example sampler_cost >&2
ours=target/release/examples/resource_monitor

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q netsnoop >&2
have_glances=1
"$VENV/bin/pip" install -q glances >&2 || have_glances=0

idle_pids=()
cleanup() {
  if [ ${#idle_pids[@]} -gt 0 ]; then kill "${idle_pids[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq "$IDLE"); do
  sleep 100000 &
  idle_pids+=($!)
done
echo "started $IDLE idle processes; $(ls /proc | grep -c "^[0-9]") processes in total" >&2

results=$work/results.jsonl
for rep in $(seq "$REPS"); do
  echo "round $rep/$REPS" >&2
  python3 bench/resources/measure.py netsnoop "$((SECS + 10))" "$work" -- \
    "$PWD/$ours" --secs "$SECS" --quiet >>"$results"
  tail -n1 "$work/netsnoop.out" >&2
  python3 bench/resources/measure.py original-netsnoop "$SECS" "$work" -- \
    "$VENV/bin/python" -m netsnoop.acm_monitor >>"$results"
  if [ "$have_glances" = 1 ]; then
    python3 bench/resources/measure.py glances "$SECS" "$work" -- \
      "$VENV/bin/glances" --quiet -t 1 >>"$results"
  fi
done

# The sampler alone, per round, at the same 1 s pace (no startup, no detectors).
per_round=$(target/release/examples/sampler_cost 20)

python3 - "$results" "$SECS" "$IDLE" "$REPS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs, idle, reps = sys.argv[2:]
tools = []
for r in rows:
    if r["tool"] not in tools:
        tools.append(r["tool"])
med = {}
print(f"SECS={secs} IDLE={idle} REPS={reps}\n")
print("| tool | runs | CPU % of one core (median) | CPU s per run (median) | peak RSS MB (median) |")
print("|---|---|---|---|---|")
for t in tools:
    rs = [r for r in rows if r["tool"] == t]
    cpu = statistics.median(r["cpu_pct_of_core"] for r in rs)
    cpus = statistics.median(r["cpu_s"] for r in rs)
    rss = statistics.median(r["peak_rss_mb"] for r in rs)
    med[t] = (cpu, rss)
    print(f"| {t} | {len(rs)} | {cpu:.3f} | {cpus:.2f} | {rss:.1f} |")
print()
base = med.get("netsnoop")
for t in tools:
    if t != "netsnoop" and base and base[0] > 0:
        print(f"- {t} / netsnoop: CPU x{med[t][0] / base[0]:.1f}, peak RSS x{med[t][1] / base[1]:.1f}")
print("\nraw runs:")
for r in rows:
    print("    " + json.dumps(r))
PY
echo
echo "sampler alone, per round: $per_round"
