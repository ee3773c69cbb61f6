#!/usr/bin/env bash
# Dashboard tests: unit tests of the ES modules and the browser end-to-end test
# (playwright-core driving Debian's Chromium against a real `netsnoop run`).
# Installs Chromium (apt, when missing) and the npm dev deps (npm ci), builds the binary.
# Screenshots and the server log land in web/test-results/.
set -euo pipefail
cd "$(dirname "$0")"

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run-tests: Chromium is missing at $chromium; run as root or: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "run-tests: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "run-tests: node (>= 20) and npm are needed for the dashboard tests; install Node.js 20 or newer" >&2
  exit 1
fi

# playwright-core never downloads a browser; the flag only silences its check.
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

if [ -z "${NETSNOOP_BIN:-}" ]; then
  (cd .. && cargo build -q -p netsnoop)
fi

rm -rf test-results
mkdir -p test-results
node --test --test-reporter=spec tests/unit/*.test.mjs tests/e2e/*.test.mjs
