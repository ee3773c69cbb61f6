#!/usr/bin/env bash
# The compose file (packaging/container/compose.yml) run as a user runs it: podman-compose
# starts PostgreSQL, `netsnoop serve` on it and a `netsnoop agent` of this host; the agent
# enrols, this host's execs reach serve's PostgreSQL, and `down -v` leaves no container or
# volume behind.
# Usage: scripts/test-compose.sh [IMAGE]   (root; IMAGE from scripts/build-image.sh, which
# it runs when not given; scripts/setup.sh test installs podman-compose)
set -euo pipefail
cd "$(dirname "$0")/.."
# podman-compose from PyPI (scripts/setup.sh test): Debian 12's 1.0.3 has no `pid:` and adds
# a bridge network to `network_mode: host` services.
podman_compose=$PWD/target/tools/podman-compose/bin/podman-compose
[ -x "$podman_compose" ] || { echo "test-compose: $podman_compose is missing: run scripts/setup.sh test" >&2; exit 1; }
fail() { echo "test-compose: FAILED: $*" >&2; exit 1; }

mkdir -p target/image
# crun fails on this kind of host (hybrid cgroups, setrlimit refused): runc without ulimits.
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >target/image/compose-containers.conf
export CONTAINERS_CONF=$PWD/target/image/compose-containers.conf
image=${1:-$(scripts/build-image.sh | tail -1)}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret() { head -c 18 /dev/urandom | base64 | tr '+/' 'ab'; }
export NETSNOOP_VERSION=${image##*:} NETSNOOP_PORT=$(free_port) NETSNOOP_DB_PORT=$(free_port)
export NETSNOOP_DB_PASSWORD=$(secret) NETSNOOP_ENROLL_SECRET=$(secret)
project=netsnoop-compose-$$
compose() { "$podman_compose" -p "$project" -f packaging/container/compose.yml "$@"; }
logs() { for s in db serve agent; do echo "--- $s" >&2; podman logs "${project}_${s}_1" 2>&1 | tail -15 >&2 || true; done; }
trap 'compose down -v >/dev/null 2>&1 || true' EXIT

up=$(compose up -d 2>&1) || { echo "$up" >&2; fail "podman-compose up"; }
api() { curl -s "127.0.0.1:$NETSNOOP_PORT/$1" || true; }
# Waits for GET PATH to match the pattern (90 s at most: serve restarts until PostgreSQL answers).
await() {
  local body=
  for _ in $(seq 450); do
    body=$(api "$1")
    grep -q -- "$2" <<<"$body" && return 0
    sleep 0.2
  done
  logs
  fail "GET /$1 never matched $2; last: ${body:0:400}"
}
await health '"status":"ok"'
podman logs "${project}_serve_1" 2>&1 | grep -q 'store postgres' || { logs; fail "serve is not on PostgreSQL"; }
await hosts '"enrolled":true'
for i in $(seq 20); do /bin/true "composemark-$i"; sleep 0.1; done
await 'events/process?limit=1000' 'composemark-'
[ "$(podman exec "${project}_agent_1" id -un)" = nobody ] || fail "the agent container does not run as nobody"

compose down -v >/dev/null 2>&1 || fail "podman-compose down -v"
trap - EXIT
left=$(podman ps -a --format '{{.Names}}' | grep -c "^$project" || true)
[ "$left" = 0 ] || fail "$left containers left after down"
! podman volume ls --format '{{.Name}}' | grep -q "^$project" || fail "volumes left after down -v"
echo "test-compose: ok (PostgreSQL, serve on it and an agent of this host: the agent enrolled and this host's execs reached serve; down -v left nothing)"
