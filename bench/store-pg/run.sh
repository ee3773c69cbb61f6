#!/usr/bin/env bash
# PostgreSQL against SQLite in one run: packet rows/s through the writer, rows per
# CPU-second (this process plus the PostgreSQL server), BinaryCopyInWriter against our
# own COPY encoding; with --big N, statistics p50/p99 over N packets and the retention
# pass that removes a day of them.
# Usage: bench/store-pg/run.sh [--packets N] [--runs N] [--batch N] [--big N]
# Needs PostgreSQL's server binaries (scripts/setup.sh test); starts and removes its own
# cluster. The SQLite files go under target/bench-store-pg/ (a real disk, not tmpfs).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="target/bench-store-pg"
mkdir -p "$dir"
cargo build --release -q -p netsnoop-store --example store_pg
exec target/release/examples/store_pg --dir "$dir" "$@"
