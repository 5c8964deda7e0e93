#!/usr/bin/env bash
# Start (or stop, or report) the daemons the all-in-one machine needs. There is no
# systemd as PID 1 on our CI machines, so each daemon is started directly, once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
action=${1:-start}

running() { pgrep -x "$1" >/dev/null; }

start() {
  mkdir -p /run/libvirt /var/log/libvirt /run/tgt
  # With /dev/kvm not in group kvm, libvirt re-probes QEMU on every call (a define took 36 s).
  if [ -e /dev/kvm ] && getent group kvm >/dev/null; then chgrp kvm /dev/kvm; chmod 0660 /dev/kvm; fi
  running virtlogd || virtlogd -d
  # Under a subreaper, destroyed guests' QEMU processes are reaped at once, not when PID 1 gets to it.
  running libvirtd || setsid -f /usr/bin/python3 "$ROOT/roles/kvm_host/files/subreaper.py" libvirtd \
    >>/var/log/libvirt/libvirtd.out 2>&1 </dev/null
  running tgtd || { tgtd && sleep 0.5; }
  running memcached || memcached -d -u memcache -l 127.0.0.1 -p 11211
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    [ -d "/etc/postgresql/$ver/main" ] || pg_createcluster "$ver" main >/dev/null
    pg_ctlcluster "$ver" main status >/dev/null 2>&1 || pg_ctlcluster "$ver" main start
  fi
  # libvirtd answers a moment after it forks.
  for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
}

stop() {
  for d in libvirtd virtlogd tgtd memcached; do pkill -x "$d" || true; done
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_ctlcluster "$ver" main stop 2>/dev/null || true
  fi
}

status() {
  for d in virtlogd libvirtd tgtd memcached postgres; do
    if running "$d"; then echo "$d: running"; else echo "$d: stopped"; fi
  done
}

"$action"
