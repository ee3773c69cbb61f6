#!/usr/bin/env bash
# Builds the NetSnoop container image from Debian's packages (no registry needed): a minimal
# Debian 12 root file system made by mmdebstrap with libpcap and the .deb installed, imported
# into podman as localhost/netsnoop:<version> and saved as an OCI archive in target/image/.
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
echo "$image"
