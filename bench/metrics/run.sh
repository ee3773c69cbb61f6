#!/usr/bin/env bash
# What /metrics costs at a 1 s scrape interval while 100k packets/s pass through the live
# hub (crates/server/examples/metrics_cost.rs, release build): server CPU per gzip scrape,
# the share of a core that makes at 1 scrape/s, and the publisher's CPU with and without
# scrapes (lock contention), side by side in one run. Usage:
#   bench/metrics/run.sh [seconds per phase, default 30] [packets/s, default 100000] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
rate=${2:-100000}
runs=${3:-3}
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --locked -q -p netsnoop-server --example metrics_cost
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  echo "run $i"
  target/release/examples/metrics_cost "$secs" "$rate"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
