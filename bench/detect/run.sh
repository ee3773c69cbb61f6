#!/usr/bin/env bash
# Detection benchmark: probes and seconds each scan / attack type needs before its alert,
# and false alerts on 10 minutes of benign traffic (load test, busy web client, DNS/NTP),
# with TRW's quick decision next to the breadth rule alone (Zeek's 15 ports / 25 hosts),
# in one run. Scripted packets on packet time: exact and repeatable, no root needed.
# Usage: bench/detect/run.sh           (prints a Markdown table)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release -q -p netsnoop-core --example detect_bench
