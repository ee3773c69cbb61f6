#!/usr/bin/env bash
# Tests the .deb the way a user meets it: installed into a fresh Debian 12 system that boots
# systemd (a podman container built from Debian's packages with mmdebstrap), where
# `systemd-analyze verify` checks the units, both services start under their real sandbox
# and answer on their API, and a purge leaves the system as it was.
# Usage: scripts/test-package.sh   (root; scripts/setup.sh test installs podman, runc, mmdebstrap)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "test-package: $tool is missing: run scripts/setup.sh test" >&2; exit 1; }
done

scripts/package-deb.sh
deb=$(ls -t target/debian/netsnoop_*_amd64.deb | head -1)

work=target/pkgtest
mkdir -p "$work"
# crun fails on this kind of host (hybrid cgroups, setrlimit refused): runc without ulimits.
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF=$PWD/$work/containers.conf
podman() { command podman --runtime runc "$@"; }

# A minimal Debian 12 that boots systemd; rebuilt only when the package list changes.
packages=systemd,systemd-sysv,dbus,libpcap0.8,curl,procps,man-db
image=localhost/netsnoop-pkgtest:$(echo "$packages" | sha1sum | cut -c1-12)
if ! podman image exists "$image"; then
  echo "test-package: building a Debian 12 root file system with mmdebstrap ($packages)"
  mmdebstrap --quiet --variant=apt --include="$packages" bookworm "$work/rootfs.tar" http://deb.debian.org/debian
  podman import --quiet "$work/rootfs.tar" "$image" >/dev/null
  rm -f "$work/rootfs.tar"
fi

name=netsnoop-pkgtest-$$
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Privileged: systemd as PID 1 and the eBPF exec source need it; host network for capture.
podman run -d --name "$name" --network host --systemd=always --privileged "$image" /sbin/init >/dev/null
box() { podman exec "$name" "$@"; }
for _ in $(seq 100); do
  state=$(box systemctl is-system-running 2>/dev/null || true)
  [ "$state" = running ] || [ "$state" = degraded ] && break
  sleep 0.2
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
snapshot() {
  box sh -c 'find / -xdev \( -path /proc -o -path /sys -o -path /run -o -path /tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd \) -prune -o -print | sort'
}
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }

# Waits for `curl URL` to print something matching the pattern (15 s at most).
await() {
  local url=$1 pattern=$2 body=
  for _ in $(seq 150); do
    body=$(box curl -s "$url" || true)
    grep -q -- "$pattern" <<<"$body" && return 0
    sleep 0.1
  done
  fail "$url never matched $pattern; last: ${body:0:400}"
}

before=$(snapshot)
podman cp "$deb" "$name:/tmp/netsnoop.deb"
box dpkg -i /tmp/netsnoop.deb >/dev/null
box netsnoop --version | grep -q '^exec sources: ebpf' || fail "--version: $(box netsnoop --version)"
box dpkg-query --control-show netsnoop conffiles | grep -qx /etc/netsnoop/config.toml || fail "config.toml is no conffile"
for f in /usr/share/man/man1/netsnoop.1.gz /usr/share/man/man1/netsnoop-run.1.gz \
  /usr/share/bash-completion/completions/netsnoop /usr/share/zsh/vendor-completions/_netsnoop \
  /usr/share/fish/vendor_completions.d/netsnoop.fish; do
  box test -s "$f" || fail "$f missing"
done

units=(netsnoop netsnoop-serve netsnoop-agent)
box systemd-analyze verify "${units[@]/%/.service}" || fail "systemd-analyze verify"
for unit in "${units[@]}"; do
  score=$(box systemd-analyze security --offline=true "/lib/systemd/system/$unit.service" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  echo "test-package: systemd-analyze security $unit.service: $score"
  awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 3.0) }' || fail "$unit.service exposure $score is above 3.0"
done

# Both services under real systemd with their sandbox, as nobody with their capabilities.
box sed -i "s|^listen = .*|listen = \"127.0.0.1:$port\"|" /etc/netsnoop/config.toml
box systemctl start netsnoop
await "127.0.0.1:$port/health" '"degraded":\[\]'
await "127.0.0.1:$port/health" '"exec (ebpf)","running":true'
await "127.0.0.1:$port/health" '"capture:any","running":true'
box systemctl is-active --quiet netsnoop || fail "netsnoop.service is not active"
box sh -c 'ps -o user= -C netsnoop' | grep -vq '^root$' || fail "netsnoop runs as root"
box systemctl stop netsnoop

box systemctl start netsnoop-serve
await "127.0.0.1:$port/health" '"status":"ok"'
post=$(box curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"src_ip":"10.9.0.1","dst_ip":"10.9.0.2","protocol":"UDP","packet_size":60}' "127.0.0.1:$port/packets")
grep -q '"stored"' <<<"$post" || fail "POST /packets to serve: $post"
await "127.0.0.1:$port/stats/summary" '"unique_sources":'
box systemctl stop netsnoop-serve

# The fleet on one box: serve takes agents (its secret from /etc/default), and the agent
# unit, sandboxed as nobody with its capabilities, enrols and ships this box's execs. The
# agent gets a config of its own (a drop-in) so its host id differs from serve's.
secret=$(head -c 18 /dev/urandom | base64 | tr '+/' 'ab')
box sh -c "echo NETSNOOP_ENROLL_SECRET=$secret > /etc/default/netsnoop-serve"
box sh -c "echo NETSNOOP_ENROLL_SECRET=$secret > /etc/default/netsnoop-agent"
box sh -c "printf '[fleet]\nhost_id = \"pkg-agent\"\nhostname = \"pkg-agent.test\"\n[agent]\nserver = \"http://127.0.0.1:$port\"\n' > /etc/netsnoop/agent-test.toml"
box mkdir -p /etc/systemd/system/netsnoop-agent.service.d
box sh -c "printf '[Service]\nExecStart=\nExecStart=/usr/bin/netsnoop agent --config /etc/netsnoop/agent-test.toml --data-dir /var/lib/netsnoop-agent\n' > /etc/systemd/system/netsnoop-agent.service.d/test.conf"
box systemctl daemon-reload
box systemctl start netsnoop-serve
await "127.0.0.1:$port/health" '"status":"ok"'
box systemctl start netsnoop-agent
await "127.0.0.1:$port/hosts" '"id":"pkg-agent"'
for i in $(seq 20); do box /bin/true "pkgmark-$i"; sleep 0.2; done
await "127.0.0.1:$port/events/process?host=pkg-agent&limit=500" 'pkgmark-'
box sh -c 'ps -o user= -C netsnoop' | grep -q '^root$' && fail "a fleet service runs as root"
box systemctl stop netsnoop-agent netsnoop-serve
box rm -rf /etc/default/netsnoop-serve /etc/default/netsnoop-agent /etc/netsnoop/agent-test.toml \
  /etc/systemd/system/netsnoop-agent.service.d
box systemctl daemon-reload

box dpkg --purge netsnoop >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "the purge left the system changed (diff above)"
fi
echo "test-package: ok ($deb: installed, the three units verified and running sandboxed, an agent unit reporting to the serve unit, purged clean)"

# The container image: serve with a token, and the host monitor as nobody with the unit's
# capabilities.
image=$(scripts/build-image.sh | tail -1)
token=$(head -c 18 /dev/urandom | base64 | tr '+/' 'ab')
podman run -d --name "$name-serve" --network host -e NETSNOOP_TOKEN="$token" "$image" \
  serve --listen "127.0.0.1:$port" --config /etc/netsnoop/config.toml --data-dir /var/lib/netsnoop >/dev/null
# One name per call: given a name that is gone, podman 4.3's rm -f skips the others too.
trap 'cleanup; for c in "$name-serve" "$name-run"; do podman rm -f "$c" >/dev/null 2>&1 || true; done' EXIT
auth=(-H "Authorization: Bearer $token")
api() { curl -s "${auth[@]}" "$@"; }
for _ in $(seq 150); do api "127.0.0.1:$port/health" | grep -q '"status":"ok"' && break; sleep 0.1; done
post=$(api -X POST -H 'Content-Type: application/json' \
  -d '{"src_ip":"10.9.0.1","dst_ip":"10.9.0.2","protocol":"UDP","packet_size":60}' "127.0.0.1:$port/packets")
grep -q '"stored"' <<<"$post" || fail "POST /packets to the image's serve: $post"
api "127.0.0.1:$port/stats/summary" | grep -q '"total_packets":1' || fail "the image's serve did not store the packet"
podman rm -f "$name-serve" >/dev/null

podman run -d --name "$name-run" --pid host --network host --security-opt seccomp=unconfined \
  --cap-add=NET_RAW,BPF,PERFMON,NET_ADMIN,SYS_PTRACE "$image" \
  run --listen "127.0.0.1:$port" --config /etc/netsnoop/config.toml --data-dir /var/lib/netsnoop >/dev/null
health=
for _ in $(seq 150); do
  health=$(curl -s "127.0.0.1:$port/health" || true)
  grep -q '"exec (ebpf)","running":true' <<<"$health" && break
  sleep 0.1
done
grep -q '"degraded":\[\]' <<<"$health" && grep -q '"capture:any","running":true' <<<"$health" \
  || fail "the image's host monitor as nobody with the unit's capabilities: ${health:0:500}"
[ "$(podman exec "$name-run" id -un)" = nobody ] || fail "the image does not run as nobody"
echo "test-package: ok ($image: serve stores, the host monitor runs as nobody undegraded)"
podman rm -f "$name-run" >/dev/null

# The compose file: PostgreSQL, serve on it and an agent of this host, from these images.
scripts/test-compose.sh "$image"
