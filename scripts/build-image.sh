#!/usr/bin/env bash
# Builds the NetSnoop container image from Debian's packages (no registry needed): a minimal
# Debian 12 root file system made by mmdebstrap with libpcap and the .deb installed, imported
# into podman as localhost/netsnoop:<version> and saved as an OCI archive in target/image/;
# and the PostgreSQL image of the compose file, localhost/netsnoop-postgres:15.
# Usage: scripts/build-image.sh   (root; scripts/setup.sh test installs podman, runc, mmdebstrap)
#
# It runs as nobody. As the central server:
#   podman run -e NETSNOOP_TOKEN=… -p 8000:8000 -v netsnoop:/var/lib/netsnoop localhost/netsnoop:VERSION
# As the monitor of its host (the same capabilities as netsnoop.service; seccomp must allow bpf()):
#   podman run --pid=host --network=host --security-opt seccomp=unconfined \
#     --cap-add=NET_RAW,BPF,PERFMON,NET_ADMIN,SYS_PTRACE localhost/netsnoop:VERSION \
#     run --listen 127.0.0.1:8000 --config /etc/netsnoop/config.toml --data-dir /var/lib/netsnoop
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/package-deb.sh >/dev/null
deb=$(ls -t target/debian/netsnoop_*_amd64.deb | head -1)
version=$(dpkg-deb -f "$deb" Version)
version=${version%-*}

mkdir -p target/image
printf '[containers]\ndefault_ulimits = []\n' > target/image/containers.conf
export CONTAINERS_CONF=$PWD/target/image/containers.conf
podman() { command podman --runtime runc "$@"; }

rootfs=target/image/rootfs.tar
# Docs and man pages stay out of the image; the data dir belongs to nobody, who runs it.
mmdebstrap --quiet --variant=minbase --include=libpcap0.8,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="copy-in $deb /tmp" \
  --customize-hook="chroot \"\$1\" dpkg -i /tmp/$(basename "$deb") >/dev/null" \
  --customize-hook="rm \"\$1\"/tmp/$(basename "$deb")" \
  --customize-hook='chroot "$1" install -d -o nobody -g nogroup -m 0700 /var/lib/netsnoop' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$rootfs" http://deb.debian.org/debian

image=localhost/netsnoop:$version
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
podman import --quiet \
  --change 'ENTRYPOINT ["/usr/bin/netsnoop"]' \
  --change 'CMD ["serve", "--listen", "0.0.0.0:8000", "--config", "/etc/netsnoop/config.toml", "--data-dir", "/var/lib/netsnoop"]' \
  --change 'USER nobody' \
  --change 'EXPOSE 8000' \
  --change 'VOLUME /var/lib/netsnoop' \
  --change 'WORKDIR /var/lib/netsnoop' \
  "$rootfs" "$image" >/dev/null
rm -f "$rootfs"
# The image this one replaces under the same tag is left with none: remove it.
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
podman save --quiet --format oci-archive -o "target/image/netsnoop-$version.oci.tar" "$image"

# The compose file's PostgreSQL (packaging/container/compose.yml): Debian's postgresql-15
# and packaging/container/postgres-entrypoint.sh, rebuilt only when that script changes.
entry=packaging/container/postgres-entrypoint.sh
pg_image=localhost/netsnoop-postgres:15
sum=$(sha256sum "$entry" | cut -c1-16)
if [ "$(podman image inspect --format '{{index .Config.Labels "netsnoop.entrypoint"}}' "$pg_image" 2>/dev/null)" != "$sum" ]; then
  pg_rootfs=target/image/postgres-rootfs.tar
  mmdebstrap --quiet --variant=minbase --include=postgresql-15 \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="copy-in $entry /usr/local/bin" \
    --customize-hook='chroot "$1" pg_dropcluster 15 main 2>/dev/null || true' \
    --customize-hook='chroot "$1" install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    bookworm "$pg_rootfs" http://deb.debian.org/debian
  podman import --quiet \
    --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' \
    --change 'USER postgres' \
    --change 'VOLUME /var/lib/postgresql/data' \
    --change "LABEL netsnoop.entrypoint=$sum" \
    "$pg_rootfs" "$pg_image" >/dev/null
  rm -f "$pg_rootfs"
fi
echo "$image"
