#!/usr/bin/env bash
# Quick start 1: build NetSnoop and run it on the embedded store, dashboard on 127.0.0.1:8000.
# Extra arguments go to `netsnoop run` (e.g. --listen 127.0.0.1:9000 --no-capture).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cargo build --release --locked -p netsnoop
exec target/release/netsnoop run "$@"
