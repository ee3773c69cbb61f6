#!/usr/bin/env bash
# Builds target/debian/netsnoop_<version>-1_amd64.deb: the release binary, man pages, shell
# completions, the commented config (a conffile) and the systemd units.
# Usage: scripts/package-deb.sh   (installs cargo-deb from crates.io when missing)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "package-deb: installing cargo-deb"
  cargo install cargo-deb --locked --version 3.8.0
fi

cargo build --release --locked -p netsnoop
bin=target/release/netsnoop
pkg=target/release/pkg
rm -rf "$pkg"
mkdir -p "$pkg/man" "$pkg/completions"

"$bin" man --out-dir "$pkg/man"
gzip -9n "$pkg"/man/*.1
"$bin" completions bash > "$pkg/completions/netsnoop.bash"
"$bin" completions zsh > "$pkg/completions/_netsnoop"
"$bin" completions fish > "$pkg/completions/netsnoop.fish"

# The commented template `netsnoop init` writes, with the packaged data dir in it.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$bin" init --config "$scratch/config.toml" --data-dir "$scratch/data" >/dev/null
sed "s|^data_dir = .*|data_dir = \"/var/lib/netsnoop\"|" "$scratch/config.toml" > "$pkg/config.toml"
grep -q '^data_dir = "/var/lib/netsnoop"$' "$pkg/config.toml"

cargo deb -p netsnoop --no-build --locked --output target/debian/
