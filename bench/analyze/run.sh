#!/usr/bin/env bash
# Offline analysis speed: `netsnoop analyze` on one large synthetic pcap (mixed traffic
# plus scans, 128-byte snaplen), next to tcpdump (libpcap's raw read limit) and tshark
# (a full dissector) on the same file in the same run. Prints medians and ratios.
# Usage: bench/analyze/run.sh [PACKETS] [RUNS]     (defaults: 2000000 packets, 5 runs)
# Needs tcpdump and tshark (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark).
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-2000000}
runs=${2:-5}
out=bench/out
pcap="$out/analyze-$packets.pcap"
mkdir -p "$out"
for tool in tcpdump tshark; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing; apt-get install -y $tool" >&2; exit 1; }
done
cargo build --release -q -p netsnoop
cargo build --release -q -p netsnoop-linux --example gen_pcap
[ -s "$pcap" ] || target/release/examples/gen_pcap "$pcap" "$packets"
cat "$pcap" > /dev/null # warm the page cache: every tool reads from memory

cfg="$out/analyze-bench.toml"
printf '[general]\ntimezone = "UTC"\n' > "$cfg"
time_of() { # seconds of wall time of "$@", output discarded
  local s e
  s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
declare -A times
for ((i = 1; i <= runs; i++)); do
  times[netsnoop]+="$(time_of target/release/netsnoop analyze --config "$cfg" --data-dir "$out/data" --format json "$pcap") "
  times[tcpdump]+="$(time_of tcpdump -r "$pcap" -w /dev/null) "
  times[tshark]+="$(time_of tshark -r "$pcap" -q -z conv,ip) "
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "file: $pcap ($packets packets, $(du -h "$pcap" | cut -f1)), $runs runs, $(nproc) cores"
printf '| tool | command | median s | packets/s | vs netsnoop |\n|---|---|---|---|---|\n'
ns=$(echo "${times[netsnoop]}" | median)
for tool in netsnoop tcpdump tshark; do
  m=$(echo "${times[$tool]}" | median)
  case $tool in
    netsnoop) cmd="netsnoop analyze --format json FILE" ;;
    tcpdump) cmd="tcpdump -r FILE -w /dev/null" ;;
    tshark) cmd="tshark -r FILE -q -z conv,ip" ;;
  esac
  printf '| %s | `%s` | %.3f | %.2f M | %.2fx |\n' "$tool" "$cmd" "$m" \
    "$(echo "$packets / $m / 1000000" | bc -l)" "$(echo "$m / $ns" | bc -l)"
done
echo "runs (s): netsnoop ${times[netsnoop]}| tcpdump ${times[tcpdump]}| tshark ${times[tshark]}"
