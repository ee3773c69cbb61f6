#!/usr/bin/env bash
# Pipeline throughput (events/s) with no sink, the log files, and log files with 1% alerts,
# at batch sizes 1, 64 and 512. Release build; 400,000 exec events per run, 5 runs, medians.
# Usage: bench/pipeline/run.sh   (results go to stdout; record them in BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release --locked -q -p netsnoop --example pipeline_bench
