#!/usr/bin/env bash
# Pipeline throughput (events/s, an alert every 10th event) with no alert output, with a
# webhook whose receiver answers and with one whose receiver never answers. Release build;
# 400,000 exec events per run in batches of 64, 5 runs, medians. Receivers on loopback.
# Usage: bench/delivery/run.sh   (results go to stdout; record them in BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release --locked -q -p netsnoop --example delivery_bench
