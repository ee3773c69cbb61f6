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
# Wall seconds and CPU seconds (user + sys) of "$@", output discarded. The machine is
# shared, so CPU time is the steadier measure of throughput; both are reported.
measure() {
  /usr/bin/time -f '%e %U %S' -o "$out/time.txt" "$@" > /dev/null 2>&1
  read -r wall user sys < "$out/time.txt"
  echo "$wall $(echo "$user + $sys" | bc -l)"
}
declare -A wall cpu
for ((i = 1; i <= runs; i++)); do
  for tool in netsnoop tcpdump tshark; do
    case $tool in
      netsnoop) r=$(measure target/release/netsnoop analyze --config "$cfg" --data-dir "$out/data" --format json "$pcap") ;;
      tcpdump) r=$(measure tcpdump -r "$pcap" -w /dev/null) ;;
      tshark) r=$(measure tshark -r "$pcap" -q -z conv,ip) ;;
    esac
    wall[$tool]+="${r% *} "
    cpu[$tool]+="${r#* } "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "file: $pcap ($packets packets, $(du -h "$pcap" | cut -f1)), $runs runs, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| tool | command | median wall s | packets/s (wall) | median CPU s | packets/s (CPU) | wall vs netsnoop |\n|---|---|---|---|---|---|---|\n'
ns=$(echo "${wall[netsnoop]}" | median)
for tool in netsnoop tcpdump tshark; do
  w=$(echo "${wall[$tool]}" | median)
  c=$(echo "${cpu[$tool]}" | median)
  case $tool in
    netsnoop) cmd="netsnoop analyze --format json FILE" ;;
    tcpdump) cmd="tcpdump -r FILE -w /dev/null" ;;
    tshark) cmd="tshark -r FILE -q -z conv,ip" ;;
  esac
  printf '| %s | `%s` | %.3f | %.2f M | %.3f | %.2f M | %.2fx |\n' "$tool" "$cmd" "$w" \
    "$(echo "$packets / $w / 1000000" | bc -l)" "$c" "$(echo "$packets / $c / 1000000" | bc -l)" \
    "$(echo "$w / $ns" | bc -l)"
done
echo "runs, wall s: netsnoop ${wall[netsnoop]}| tcpdump ${wall[tcpdump]}| tshark ${wall[tshark]}"
echo "runs, CPU s: netsnoop ${cpu[netsnoop]}| tcpdump ${cpu[tcpdump]}| tshark ${cpu[tshark]}"
