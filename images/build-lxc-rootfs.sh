#!/usr/bin/env bash
# The LXC test root filesystem: the test image's root filesystem (images/build-test-image.sh)
# without kernel and modules, with the container boot of images/test-image-lxc/ (busybox init,
# DHCP, dropbear with the keys the LXC driver injects, a "login ready" line on the console),
# packed as a tarball: what ministack.cloud.image registers with container_format compressed
# and the property hypervisor_type=lxc (docs/compute.md).
#
# Output: .cache/images/ministack-test-lxc.tar.gz. Skipped when its stamp (the test image's
# checksum and this script's inputs) is unchanged. Needs root (a read-only loop mount).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$ROOT/.cache/images"
OUT="$OUT_DIR/ministack-test-lxc.tar.gz"
STAMP="$OUT_DIR/ministack-test-lxc.stamp"
SRC="$ROOT/images/test-image-lxc"
QCOW="$OUT_DIR/ministack-test.qcow2"
PART_OFFSET=$((2048 * 512))  # the test image's one partition starts at sector 2048

"$ROOT/images/build-test-image.sh" >/dev/null
key=$( (sha256sum "$QCOW" "$0"; find "$SRC" -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$key" ]; then
  echo "lxc-rootfs: up to date: $OUT"
  exit 0
fi
WORK=$(mktemp -d "$OUT_DIR/lxc-build.XXXXXX")
cleanup() {
  mountpoint -q "$WORK/mnt" 2>/dev/null && umount "$WORK/mnt"
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/mnt" "$WORK/rootfs"
qemu-img convert -O raw "$QCOW" "$WORK/disk.raw"
mount -o loop,ro,offset=$PART_OFFSET "$WORK/disk.raw" "$WORK/mnt"
tar -C "$WORK/mnt" --exclude=./boot --exclude=./lib/modules --exclude=./lost+found -cf - . | tar -C "$WORK/rootfs" -xf -
umount "$WORK/mnt"
cp -a "$SRC/." "$WORK/rootfs/"
# No getty on a serial port, no ACPI, no modules in a container.
rm -f "$WORK/rootfs/etc/acpid.conf" "$WORK/rootfs/etc/modules"
tar -C "$WORK/rootfs" --numeric-owner -czf "$WORK/rootfs.tar.gz" .
mv -f "$WORK/rootfs.tar.gz" "$OUT"
echo "$key" > "$STAMP"
echo "lxc-rootfs: built $OUT ($(du -h "$OUT" | cut -f1))"
