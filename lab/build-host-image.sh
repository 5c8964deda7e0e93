#!/usr/bin/env bash
# Build the ministack lab host image, localhost/ministack-host:<tag>, without a registry:
#   1. a Debian bookworm minbase rootfs made with debootstrap, imported with `podman import`
#      (localhost/ministack-base:<tag>);
#   2. a derived image with systemd as PID 1, sshd, python3, sudo, libvirtd + QEMU (TCG)
#      for compute hosts, and tgt + lvm2 for block hosts.
# The tag is a hash of this script, so any change here makes a new image; an image that
# already exists with the same tag is kept (the run takes well under a second then).
#
# Also tags it localhost/ministack-host:latest.
#
# Usage: lab/build-host-image.sh [--print-ref] [--force]
#   --print-ref  print the image reference this script builds, and do nothing else
#   --force      rebuild even when the image exists
# The last line on stdout is always the image reference (lab/lab and molecule read it).
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$LAB")"
SELF="$LAB/$(basename "${BASH_SOURCE[0]}")"
export CONTAINERS_CONF="$LAB/containers.conf"   # the project's podman settings, never /etc
CACHE="$ROOT/.cache/lab"
SUITE=bookworm
MIRROR="${MINISTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${MINISTACK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

TAG="$(sha256sum "$SELF" | cut -c1-12)"
# The debootstrap rootfs depends only on what debootstrap is given, so editing the rest of
# this script does not redo it.
DEBOOTSTRAP_ARGS=(--variant=minbase --include=python3 "$SUITE")
BASE_TAG="$(printf '%s\n' "${DEBOOTSTRAP_ARGS[@]}" "$MIRROR" | sha256sum | cut -c1-12)"
BASE_REF="localhost/ministack-base:$BASE_TAG"
HOST_REF="localhost/ministack-host:$TAG"

print_ref=0 force=0
for arg in "$@"; do
  case "$arg" in
    --print-ref) print_ref=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,15p' "$SELF"; exit 0 ;;
    *) echo "build-host-image: unknown argument '$arg' (use --print-ref or --force)" >&2; exit 2 ;;
  esac
done
if [ "$print_ref" = 1 ]; then echo "$HOST_REF"; exit 0; fi

log() { printf '[build-host-image] %s\n' "$*" >&2; }
die() { printf '[build-host-image] ERROR: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - START ))s"; }
START=$(date +%s)

[ "$(id -u)" = 0 ] || die "run as root: rootful podman and debootstrap need it"
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || die "'$tool' is missing: install it with scripts/setup.sh (scripts/debian-packages.txt)"
done

# localhost/ministack-host:latest follows the newest build, for running molecule by hand.
LATEST_REF="localhost/ministack-host:latest"

# One build at a time: a test run and a developer may both ask for the image.
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build of the host image is running: waiting for it"
  flock 9
fi

if [ "$force" = 0 ] && podman image exists "$HOST_REF"; then
  log "$HOST_REF exists (same inputs): nothing to do"
  podman tag "$HOST_REF" "$LATEST_REF"
  echo "$HOST_REF"
  exit 0
fi

mkdir -p "$CACHE/apt-archives/partial"
# Seed the package cache from the machine's own apt cache: same mirror, so most .debs
# (qemu, libvirt) match and need no download. apt checks every file's hash, so a stale
# one is simply fetched again. Hard links cost no space.
if [ -d /var/cache/apt/archives ]; then
  cp -ln /var/cache/apt/archives/*.deb "$CACHE/apt-archives/" 2>/dev/null || true
fi

# 1. The base image from debootstrap -------------------------------------------------------
ROOTFS_TAR="$CACHE/rootfs-$SUITE-minbase-$BASE_TAG.tar"
if [ "$force" = 1 ] || ! podman image exists "$BASE_REF"; then
  if [ ! -s "$ROOTFS_TAR" ]; then
    log "debootstrap $SUITE (minbase) from $MIRROR"
    work="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    debootstrap --cache-dir="$CACHE/apt-archives" "${DEBOOTSTRAP_ARGS[@]}" "$work/rootfs" "$MIRROR" 2>&1 | sed -u 's/^/    /' >&2 \
      || die "debootstrap failed (see above); check that $MIRROR is reachable"
    [ -x "$work/rootfs/usr/bin/python3" ] || die "debootstrap finished but the rootfs has no python3"
    # Downloaded packages and package lists are half the rootfs and stale by the next build.
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    log "packing the rootfs ($(du -sh "$work/rootfs" | cut -f1)) [$(elapsed)]"
    tar --numeric-owner --xattrs -C "$work/rootfs" -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$work"
    trap - EXIT
    # Older rootfs tarballs came from other debootstrap arguments.
    find "$CACHE" -maxdepth 1 -name "rootfs-$SUITE-minbase-*.tar" ! -name "$(basename "$ROOTFS_TAR")" -delete
  else
    log "using the cached rootfs $ROOTFS_TAR"
  fi
  log "podman import -> $BASE_REF"
  podman import -q "$ROOTFS_TAR" "$BASE_REF" >/dev/null
fi

# 2. The host image ----------------------------------------------------------------------
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

cat > "$ctx/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF

# libvirt's QEMU driver inside an unprivileged container: no cgroup v1 controllers to
# create, no mount namespace per guest, no trusted.* xattrs (each was an error otherwise,
# see docs/lab.md).
cat > "$ctx/qemu-container.conf" <<'EOF'
cgroup_controllers = [ ]
namespaces = [ ]
remember_owner = 0
EOF

# SSH host keys are made at first boot, so two containers never share one.
cat > "$ctx/ministack-ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys on first boot
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF

# root lingers: its user manager (user@0.service) starts at boot and never stops. Without it,
# the end of the last root session stops user@0, whose stop hangs in a container for 2
# minutes, and every SSH login meanwhile waits for it (docs/lab.md, Known problems).
#
# Units masked in the image need hardware or kernel features a container lacks (udev,
# device-mapper, consoles); masking them lets the host boot to "running", not "degraded".
cat > "$ctx/Containerfile" <<EOF
FROM $BASE_REF
ENV container=podman
COPY sources.list /etc/apt/sources.list
# No daemons start while packages install. The package lists are dropped and dated 1970,
# so that apt (and Ansible's apt cache_valid_time) knows to update before installing.
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
 && apt-get -q update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
      systemd systemd-sysv dbus libpam-systemd openssh-server python3 python3-apt sudo \\
      iproute2 procps less ca-certificates \\
      libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils qemu-block-extra \\
      netcat-openbsd dnsmasq-base iptables python3-libvirt \\
      tgt lvm2 \\
 && rm -f /usr/sbin/policy-rc.d \\
 && rm -rf /var/lib/apt/lists/* /var/lib/apt/periodic/update-success-stamp \\
 && touch -d @0 /var/lib/apt/lists
COPY qemu-container.conf /tmp/qemu-container.conf
COPY ministack-ssh-hostkeys.service /etc/systemd/system/ministack-ssh-hostkeys.service
RUN cat /tmp/qemu-container.conf >> /etc/libvirt/qemu.conf && rm /tmp/qemu-container.conf \\
 && rm -f /etc/ssh/ssh_host_* \\
 && systemctl enable ministack-ssh-hostkeys.service ssh.service libvirtd.service virtlogd.socket tgt.service \\
 && systemctl mask getty@tty1.service console-getty.service systemd-remount-fs.service \\
      lvm2-monitor.service lvm2-lvmpolld.socket dm-event.socket dm-event.service \\
      systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \\
      systemd-udev-trigger.service systemd-modules-load.service sys-kernel-config.mount \\
      sys-kernel-debug.mount sys-kernel-tracing.mount \\
 && install -d -m 0700 /root/.ssh \\
 && install -d /var/lib/systemd/linger && touch /var/lib/systemd/linger/root \\
 && : > /etc/machine-id && rm -f /var/lib/dbus/machine-id
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF

log "building $HOST_REF (apt packages from $MIRROR; cached in .cache/lab/apt-archives) [$(elapsed)]"
podman build --squash -t "$HOST_REF" \
  -v "$CACHE/apt-archives:/var/cache/apt/archives" \
  --label "ministack.lab.script-hash=$TAG" \
  "$ctx" 2>&1 | sed -u 's/^/    /' >&2 \
  || die "podman build failed (see above)"
podman image exists "$HOST_REF" || die "podman build reported success but $HOST_REF is missing"
podman tag "$HOST_REF" "$LATEST_REF"

# Images of older versions of this script are dead weight; keep the one just built.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/ministack-(host|base):' || true); do
  case "$old" in
    "$HOST_REF"|"$BASE_REF"|"$LATEST_REF") ;;
    *) podman rmi "$old" >/dev/null 2>&1 && log "removed the old image $old" || true ;;
  esac
done

log "done: $HOST_REF ($(podman image inspect --format '{{.Size}}' "$HOST_REF" | awk '{printf "%d MB", $1/1e6}')) in $(elapsed)"
echo "$HOST_REF"
