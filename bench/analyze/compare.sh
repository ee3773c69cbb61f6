#!/usr/bin/env bash
# Two builds of `netsnoop analyze` side by side on one pcap: runs alternate between them,
# so a noisy shared machine slows both alike. Checks the JSON outputs are identical, then
# prints median wall and CPU (user + sys) seconds and the new/old ratios.
# Usage: bench/analyze/compare.sh OLD_BINARY NEW_BINARY PCAP [RUNS]   (default 9 runs each)
# A pcap: cargo build --release -p netsnoop-linux --example gen_pcap &&
#         target/release/examples/gen_pcap bench/out/analyze-2000000.pcap 2000000
set -euo pipefail
old=$1 new=$2 pcap=$3 runs=${4:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[general]\ntimezone = "UTC"\n' > "$work/cfg.toml"
run() { "$1" analyze --config "$work/cfg.toml" --data-dir "$work/data" --format json "$pcap"; }
run "$old" > "$work/old.json" 2>/dev/null
run "$new" > "$work/new.json" 2>/dev/null
cmp -s "$work/old.json" "$work/new.json" || { echo "compare: the two builds' outputs differ" >&2; exit 1; }
for ((i = 1; i <= runs; i++)); do
  for b in old new; do
    bin=$old; [ $b = new ] && bin=$new
    /usr/bin/time -f "$b %e %U %S" -a -o "$work/times" "$bin" analyze --config "$work/cfg.toml" \
      --data-dir "$work/data" --format json "$pcap" > /dev/null 2>&1
  done
done
awk '
  { wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($3 + $4) }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] + 0 < a[j-1] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    ow = median(wall["old"]); nw = median(wall["new"]); oc = median(cpu["old"]); nc = median(cpu["new"])
    printf "outputs identical; %d runs each, alternating\n", NR / 2
    printf "| build | median wall s | median CPU s |\n|---|---|---|\n| old | %.3f | %.3f |\n| new | %.3f | %.3f |\n", ow, oc, nw, nc
    printf "new/old: wall %.3f, CPU %.3f\n", nw / ow, nc / oc
  }' "$work/times"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
