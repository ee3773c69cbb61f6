#!/usr/bin/env bash
# Shipping alone: the agent's real sink, spool and shipper (crates/netsnoop/examples/
# ship_cost) feed synthetic records at RATE/s for SECS to a local release `netsnoop serve`;
# CPU is the example process's from the first record until its spool is empty. No monitor
# runs, so this is the cost the ≤1%-of-a-core target is about. Release build.
# Usage: RATE=1000 SECS=30 RUNS=5 bench/fleet/ship_cost.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${RATE:-1000}
secs=${SECS:-30}
runs=${RUNS:-5}
port=${PORT:-18961}
export NETSNOOP_ENROLL_SECRET=${NETSNOOP_ENROLL_SECRET:-ship-cost-secret-0123456789}
cargo build --release --locked -q -p netsnoop --bin netsnoop --example ship_cost >&2
bin=$PWD/target/release/netsnoop
example=$PWD/target/release/examples/ship_cost
work=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/serve"
: >"$work/serve/c.toml"
env -u NETSNOOP_TOKEN "$bin" serve --data-dir "$work/serve" --config "$work/serve/c.toml" \
  --listen "127.0.0.1:$port" 2>"$work/serve.log" >/dev/null &
srv=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

echo "# ship_cost $(date -u +%FT%TZ), $(nproc) cores, rate $rate/s for ${secs}s, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for run in $(seq "$runs"); do
  line=$("$example" "http://127.0.0.1:$port" "$work/agent$run" "$rate" "$secs")
  echo "run $run: $line"
  results+=("$(sed -E 's/.*core_pct_at_rate=([0-9.]+).*ms_per_1000=|.*ms_per_1000=([0-9.]+).*/\2/' <<<"$line")")
done
printf '%s\n' "${results[@]}" | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median ms of CPU per 1,000 records shipped: %.2f (%.2f%% of a core at 1,000 records/s)\n", m, m / 10 }'
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
