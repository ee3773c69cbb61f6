#!/usr/bin/env bash
# Ingest benchmark of the SQLite store: packet-metadata and alert rows/s on a file DB.
# Usage: bench/store_ingest/run.sh [--packets N] [--alerts N] [--runs N] [--batch N] [--dir DIR]
# DIR defaults to a fresh directory under target/ (a real disk, not tmpfs).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="target/bench-store-ingest"
mkdir -p "$dir"
cargo build --release -q -p netsnoop-store --example store_ingest
exec target/release/examples/store_ingest --dir "$dir" "$@"
