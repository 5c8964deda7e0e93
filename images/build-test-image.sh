#!/usr/bin/env bash
# Build the ministack test image: a small CirrOS-like qcow2 made from Debian packages only.
#
#   images/build-test-image.sh [--force]
#
# Output: .cache/images/ministack-test.qcow2. Skipped when the output exists and its stamp
# (this script, the files under images/test-image/, the package versions) still matches.
# Needs root (loop mount for extlinux) and the packages in scripts/debian-packages.txt.
# What the image does at boot: images/test-image/rootfs/etc/init.d/rcS; docs/test-image.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/images/test-image"
OUT_DIR="$ROOT/.cache/images"
OUT="$OUT_DIR/ministack-test.qcow2"
STAMP="$OUT_DIR/ministack-test.stamp"
DEBS="$OUT_DIR/debs"
DISK_MIB=128          # virtual size; the root partition fills it from sector 2048
ROOT_LABEL=ministack-root
# Packages whose files go into the image. The kernel is resolved through the cloud metapackage.
LIB_PKGS="libc6 libgmp10 libcrypt1 libtomcrypt1 libtommath1 zlib1g libext2fs2 libcom-err2 libblkid1 libuuid1"
TOOL_PKGS="busybox-static dropbear-bin e2fsprogs openssh-sftp-server"
# Drivers the initramfs loads to find the root disk (dependencies are added at build time).
INITRD_MODULES="virtio_pci virtio_blk virtio_scsi sd_mod ata_piix ata_generic"
# The root filesystem carries those plus what rcS loads (images/test-image/rootfs/etc/modules).
ROOTFS_MODULES="$INITRD_MODULES $(grep -v '^#' "$SRC/rootfs/etc/modules" | tr '\n' ' ')"

t_start=$(date +%s.%N)
log() { printf '[test-image %5.1fs] %s\n' "$(awk "BEGIN { print $(date +%s.%N) - $t_start }")" "$*"; }
die() { echo "build-test-image: $*" >&2; exit 1; }

force=0
[ "${1:-}" = "--force" ] && force=1
[ "$(id -u)" = 0 ] || die "must run as root (extlinux is installed through a loop mount)"
for tool in apt-get apt-cache dpkg-deb mkfs.ext4 extlinux sfdisk qemu-img cpio gzip depmod modprobe; do
  command -v "$tool" >/dev/null || die "missing $tool: install scripts/debian-packages.txt"
done
mkdir -p "$OUT_DIR" "$DEBS"

# One build at a time (tests running in parallel may all ask for the image).
exec 9>"$OUT_DIR/.build.lock"
flock 9

# ---- inputs and stamp -------------------------------------------------------------------
# The stamp holds two keys. "quick": our files plus the apt lists' mtimes, checked without
# asking apt (apt-cache costs ~0.8 s a call). "full": our files plus the package versions,
# computed when the quick key differs (e.g. after apt-get update) and the one that decides.
inputs=$( { cat "$0"; find "$SRC" -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1)
quick_now=$( { echo "$inputs"; stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null; } | sha256sum | cut -d' ' -f1)
stamp_line() { sed -n "s/^$1 //p" "$STAMP" 2>/dev/null; }
if [ "$force" = 0 ] && [ -f "$OUT" ] && [ "$(stamp_line quick)" = "$quick_now" ]; then
  log "up to date: $OUT"
  exit 0
fi
KPKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$KPKG" ] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update)"
# shellcheck disable=SC2086
versions=$(apt-cache policy $KPKG $TOOL_PKGS $LIB_PKGS | awk '/^[^ ]/ { sub(":$", "", $1); p = $1 }
  /Candidate:/ && $2 != "(none)" { print p "=" $2 }')
for p in $KPKG $TOOL_PKGS $LIB_PKGS; do
  grep -q "^$p=" <<<"$versions" || die "no candidate version for $p (run apt-get update)"
done
full_now=$(printf '%s\n%s\n' "$inputs" "$versions" | sha256sum | cut -d' ' -f1)
if [ "$force" = 0 ] && [ -f "$OUT" ] && [ "$(stamp_line full)" = "$full_now" ]; then
  printf 'quick %s\nfull %s\n' "$quick_now" "$full_now" > "$STAMP"
  log "up to date (package versions unchanged): $OUT"
  exit 0
fi
log "building $OUT (kernel package $KPKG)"

WORK=$(mktemp -d "$OUT_DIR/build.XXXXXX")
MNT="$WORK/mnt"
cleanup() {
  mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- fetch and unpack -------------------------------------------------------------------
# apt-get download names files pkg_version_arch.deb (':' escaped as %3a): versioned, so the
# directory is a cache; stale versions are pruned.
need=()
for line in $versions; do
  p=${line%%=*}; v=${line#*=}
  f="${p}_${v//:/%3a}_amd64.deb"
  [ -f "$DEBS/$f" ] || need+=("$p=$v")
done
if [ ${#need[@]} -gt 0 ]; then
  log "downloading ${#need[@]} package(s)"
  # _apt cannot write into root's tree; download as root without the sandbox warning.
  (cd "$DEBS" && apt-get -q -o APT::Sandbox::User=root download "${need[@]}" >/dev/null)
fi
PKGS="$WORK/pkgs"
mkdir -p "$PKGS"
for line in $versions; do
  p=${line%%=*}; v=${line#*=}
  deb="$DEBS/${p}_${v//:/%3a}_amd64.deb"
  # A download cut short leaves a broken file under the final name: drop it so a rerun fetches it.
  dpkg-deb -x "$deb" "$PKGS" || { rm -f "$deb"; die "$deb is damaged; removed it, run again"; }
done
keep=$(for line in $versions; do p=${line%%=*}; v=${line#*=}; echo "${p}_${v//:/%3a}_amd64.deb"; done)
for f in "$DEBS"/*.deb; do
  grep -qxF "${f##*/}" <<<"$keep" || rm -f "$f"
done
KVER=$(ls "$PKGS/lib/modules")
log "unpacked packages; kernel $KVER"

# ---- modules ----------------------------------------------------------------------------
depmod -b "$PKGS" "$KVER"
# Print module paths (relative to lib/modules/KVER) for the given names, dependencies first.
module_closure() {
  for m in "$@"; do
    modprobe -d "$PKGS" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | sed "s|^$PKGS/lib/modules/$KVER/||" | awk '!seen[$0]++'
}

# ---- root filesystem --------------------------------------------------------------------
R="$WORK/rootfs"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,lib/x86_64-linux-gnu,lib64} \
  "$R"/{etc,root,proc,sys,dev,run,tmp,mnt,var/log,boot/extlinux}
chmod 1777 "$R/tmp"
cp "$PKGS/bin/busybox" "$R/bin/busybox"
# Busybox applets as symlinks where busybox itself would put them.
"$R/bin/busybox" --list-full | while read -r applet; do
  [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
cp "$PKGS/usr/sbin/dropbear" "$R/usr/sbin/"
cp "$PKGS/usr/bin/dropbearkey" "$PKGS/usr/bin/dbclient" "$R/usr/bin/"
# The real mke2fs (ext4 with today's defaults) for volume tests; busybox's mke2fs stays as mke2fs.bb.
ln -sf /bin/busybox "$R/sbin/mke2fs.bb"
rm -f "$R/sbin/mke2fs"
cp "$PKGS/sbin/mke2fs" "$R/sbin/mke2fs"
for t in ext2 ext3 ext4; do ln -sf mke2fs "$R/sbin/mkfs.$t"; done
cp "$PKGS/etc/mke2fs.conf" "$R/etc/"
# OpenSSH 9's scp speaks SFTP; dropbear runs the subsystem from /usr/lib/sftp-server.
cp "$PKGS/usr/lib/openssh/sftp-server" "$R/usr/lib/sftp-server"
# Only the libraries the binaries above link against (not all of libc6's 13 MB).
for so in ld-linux-x86-64.so.2 libc.so.6 libcrypt.so.1 libz.so.1 libext2fs.so.2 libe2p.so.2 \
          libcom_err.so.2 libtomcrypt.so.1 libtommath.so.1 libgmp.so.10 libblkid.so.1 libuuid.so.1; do
  src=$(find "$PKGS/lib" "$PKGS/usr/lib" -name "$so" | head -n1)
  [ -n "$src" ] || die "library $so not found in the unpacked packages"
  cp -L "$src" "$R/lib/x86_64-linux-gnu/$so"
done
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
# Kernel and modules.
cp "$PKGS/boot/vmlinuz-$KVER" "$R/boot/vmlinuz"
module_closure $ROOTFS_MODULES > "$WORK/rootfs.modules"
(cd "$PKGS/lib/modules/$KVER" && cpio -pdm --quiet "$R/lib/modules/$KVER" < "$WORK/rootfs.modules")
cp "$PKGS/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"
# Configuration: the overlay from images/test-image/rootfs, then the generated files.
cp -a "$SRC/rootfs/." "$R/"
cat > "$R/etc/passwd" <<'EOF'
root::0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
# Root has an empty password for the serial console only: dropbear runs with -s (keys only).
printf 'root::0:0:99999:7:::\n' > "$R/etc/shadow"
chmod 600 "$R/etc/shadow"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$R/etc/group"
printf '/bin/sh\n/bin/ash\n' > "$R/etc/shells"
echo ministack-test > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n' > "$R/etc/hosts"
: > "$R/etc/resolv.conf"
printf 'ministack test image (Debian packages: %s)\n' "$(echo "$versions" | tr '\n' ' ')" > "$R/etc/issue"
printf 'LABEL=%s / ext4 rw 0 1\n' "$ROOT_LABEL" > "$R/etc/fstab"
cat > "$R/boot/extlinux/extlinux.conf" <<EOF
DEFAULT ministack
PROMPT 0
TIMEOUT 1
LABEL ministack
  LINUX /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND root=LABEL=$ROOT_LABEL console=tty0 console=ttyS0,115200n8 quiet
EOF
# Every binary must load with the libraries copied above (the loader reports what is missing).
for b in /usr/sbin/dropbear /usr/bin/dropbearkey /usr/bin/dbclient /sbin/mke2fs /usr/lib/sftp-server; do
  out=$(chroot "$R" /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 "$b" 2>&1) || die "$b does not load: $out"
  ! grep -q 'not found' <<<"$out" || die "$b misses a library in the image: $out"
done
log "root filesystem assembled ($(du -sh "$R" | cut -f1))"

# ---- initramfs --------------------------------------------------------------------------
I="$WORK/initramfs"
mkdir -p "$I/bin" "$I/lib/modules"
cp "$PKGS/bin/busybox" "$I/bin/busybox"
for a in sh mount umount insmod findfs seq usleep cat mkdir switch_root echo; do
  ln -s busybox "$I/bin/$a"
done
cp "$SRC/initramfs-init" "$I/init"
chmod 755 "$I/init"
module_closure $INITRD_MODULES > "$I/modules.order"
(cd "$PKGS/lib/modules/$KVER" && cpio -pdm --quiet "$I/lib/modules" < "$I/modules.order")
(cd "$I" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip) > "$R/boot/initrd.img"
log "initramfs: $(wc -l < "$I/modules.order") modules, $(du -h "$R/boot/initrd.img" | cut -f1)"

# ---- disk -------------------------------------------------------------------------------
RAW="$WORK/disk.raw"
PART="$WORK/part.img"
truncate -s $(((DISK_MIB - 1) * 1024 * 1024)) "$PART"
# 4 KiB blocks and no 64bit feature: syslinux 6.04 reads neither 1 KiB-block nor 64bit ext4.
mkfs.ext4 -q -F -b 4096 -O ^64bit -L "$ROOT_LABEL" -d "$R" "$PART"
mkdir -p "$MNT"
mount -o loop "$PART" "$MNT"
extlinux --install "$MNT/boot/extlinux" >/dev/null 2>&1
umount "$MNT"
# extlinux saw a bare filesystem (partition start 0); the partition really starts at 2048.
printf '\x00\x08\x00\x00' | dd of="$PART" bs=1 seek=$((0x1c)) conv=notrunc status=none
truncate -s $((DISK_MIB * 1024 * 1024)) "$RAW"
echo '2048,,83,*' | sfdisk -q "$RAW" >/dev/null
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$PART" of="$RAW" bs=1M seek=1 conv=notrunc,sparse status=none
# zlib clusters: the cloud kernel is only LZ4-compressed, so this saves ~10 MB.
qemu-img convert -q -c -f raw -O qcow2 "$RAW" "$WORK/out.qcow2"
mv "$WORK/out.qcow2" "$OUT"
printf 'quick %s\nfull %s\n' "$quick_now" "$full_now" > "$STAMP"
log "done: $OUT ($(du -h "$OUT" | cut -f1), ${DISK_MIB} MiB virtual)"
