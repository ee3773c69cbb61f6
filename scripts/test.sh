#!/usr/bin/env bash
# Quick start 2: the whole test suite (format, lints, unit, integration, end-to-end,
# fuzzing and browser tests). Installs what it needs first. Root is expected: capture and proc
# connector tests need it, and they fail rather than skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Snapshots are enforced, never rewritten, by the one full test command.
INSTA_UPDATE=no cargo test --workspace --locked
# Schemathesis against /openapi.json, about a minute, 0 failures.
scripts/schemathesis.sh 60
# Every fuzz target for a bounded time (FUZZ_SECONDS, 30 s each); fails on any crash.
scripts/fuzz.sh
web/run-tests.sh
# The .deb in a fresh Debian 12 booting systemd (podman): units verified, services run, purge clean.
scripts/test-package.sh
