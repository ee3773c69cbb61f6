#!/usr/bin/env bash
# Installs what building and testing NetSnoop needs on Debian 12, skipping what is present.
# Usage: scripts/setup.sh [build|test]   (test also installs the peers and tools the tests use)
set -euo pipefail
mode=${1:-build}

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
want() { for p in "$@"; do have_pkg "$p" || need+=("$p"); done; }

# clang + libbpf-dev compile the eBPF exec program; without them NetSnoop still builds and
# falls back to the proc connector, but the eBPF tests need them.
want libpcap-dev pkg-config gcc clang libbpf-dev
if [ "$mode" = test ]; then
  # postgresql: the store tests start throwaway PostgreSQL clusters (initdb, pg_ctl);
  # openssl makes the certificate of the TLS test.
  want tcpdump iproute2 procps nmap python3-venv prometheus postgresql openssl\
    prometheus-alertmanager python3-aiosmtpd python3 curl
  # scripts/test-package.sh: a Debian root file system booted in a podman container.
  want podman runc mmdebstrap
  # the live attack tests (crates/netsnoop/tests/detect_live.rs): SYN flood, SSH brute force, ARP spoofing
  want hping3 openssh-server openssh-client iputils-arping
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install the Rust toolchain (rustup) first." >&2
  exit 1
fi

# Python tools from PyPI, each in a venv of its own under target/tools:
# py_tool NAME VERSION COMMAND (COMMAND --version must print VERSION).
tools="$(cd "$(dirname "$0")/.." && pwd)/target/tools"
py_tool() {
  local venv="$tools/$1"
  [ "$mode" = test ] || return 0
  "$venv/bin/$3" --version 2>/dev/null | grep -q "$2" && return 0
  echo "setup: installing $1 $2 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$1==$2"
}
# Schemathesis: the API property tests (scripts/schemathesis.sh).
py_tool schemathesis 4.32.5 st
# podman-compose (scripts/test-compose.sh): Debian 12's 1.0.3 cannot run the compose file
# (no `pid:`, and a bridge network added to host networking).
py_tool podman-compose 1.6.0 podman-compose

# Fuzzing (scripts/fuzz.sh): cargo-fuzz on the nightly toolchain.
if [ "$mode" = test ]; then
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "setup: installing the nightly toolchain (cargo-fuzz needs it)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "setup: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
fi
