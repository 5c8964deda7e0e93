#!/usr/bin/env bash
# Start (or stop, or report) the daemons the all-in-one machine needs. There is no
# systemd as PID 1 on our CI machines, so each daemon is started directly, once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
action=${1:-start}

# This machine's daemons only: lab host containers run their own (libvirtd, tgtd), visible in
# the same process list.
host_pids() {
  local p
  for p in $(pgrep -x "$1"); do
    [ "$(readlink "/proc/$p/ns/pid")" = "$(readlink "/proc/$$/ns/pid")" ] && echo "$p"
  done
  return 0
}

running() { [ -n "$(host_pids "$1")" ]; }

LXC_DRIVER=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_lxc.so

host_libvirtd() { host_pids libvirtd; }

start_libvirtd() {
  # Under a subreaper, destroyed guests' QEMU processes are reaped at once, not when PID 1 gets to it.
  if mountpoint -q /sys/fs/cgroup/unified; then
    # libvirt 9's LXC driver fails to start a container when the cgroup v2 hierarchy is mounted
    # beside the v1 controllers ("Unable to create directory /sys/fs/cgroup/unified"): libvirtd
    # runs in a mount namespace without it (guests and containers use the v1 controllers).
    setsid -f unshare -m --propagation slave sh -c \
      "umount /sys/fs/cgroup/unified; exec /usr/bin/python3 '$ROOT/roles/kvm_host/files/subreaper.py' libvirtd" \
      >>/var/log/libvirt/libvirtd.out 2>&1 </dev/null
  else
    setsid -f /usr/bin/python3 "$ROOT/roles/kvm_host/files/subreaper.py" libvirtd \
      >>/var/log/libvirt/libvirtd.out 2>&1 </dev/null
  fi
  # libvirtd answers a moment after it forks.
  for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
}

# A libvirtd started before libvirt-daemon-driver-lxc was installed has no LXC driver, and one
# that sees the v2 hierarchy cannot start containers: restart it (running guests keep running).
libvirtd_needs_restart() {
  [ -e "$LXC_DRIVER" ] || return 1
  virsh -c lxc:///system version >/dev/null 2>&1 || return 0
  mountpoint -q /sys/fs/cgroup/unified || return 1
  local p
  for p in $(host_libvirtd); do grep -q " /sys/fs/cgroup/unified " "/proc/$p/mountinfo" && return 0; done
  return 1
}

# tgtd keeps its targets in memory only: a tgtd that starts (again) gets them back from their
# conf files (/etc/tgt/targets.conf includes conf.d, where the tgt driver writes one per
# exported volume), as tgt.service's ExecStartPost does. Arguments: the portals to listen on
# (none: tgtd's default, every address).
start_tgtd() {
  if [ $# -gt 0 ]; then tgtd --iscsi "portal=$1"; shift; else tgtd; fi
  for _ in $(seq 50); do tgtadm --lld iscsi --op show --mode sys >/dev/null 2>&1 && break; sleep 0.1; done
  local p
  for p in "$@"; do
    tgtadm --lld iscsi --op new --mode portal --param "portal=$p" || echo "daemons: tgtd: no portal $p" >&2
  done
  tgt-admin -e || echo "daemons: tgt-admin -e could not bring back every target from /etc/tgt/conf.d" >&2
}

wait_gone() {
  for _ in $(seq 100); do [ -n "$(host_pids "$1")" ] || return 0; sleep 0.1; done
  echo "daemons: $1 did not stop" >&2
  return 1
}

# Restart one daemon as if it had died and come back (the fault tests do this): libvirtd
# (running guests keep running), or tgtd (killed: it ignores SIGTERM while it has targets; it
# comes back on the portals it had, with its targets from their conf files).
restart() {
  case "${1:-}" in
    libvirtd)
      # shellcheck disable=SC2046
      kill $(host_libvirtd) 2>/dev/null || true
      wait_gone libvirtd
      start_libvirtd ;;
    tgtd)
      local portals
      portals=$(tgtadm --lld iscsi --op show --mode portal 2>/dev/null | sed -n 's/^Portal: \(.*\),[0-9]*$/\1/p')
      # shellcheck disable=SC2046
      kill -KILL $(host_pids tgtd) 2>/dev/null || true
      wait_gone tgtd
      # shellcheck disable=SC2086
      start_tgtd $portals ;;
    *) echo "usage: $0 restart libvirtd|tgtd" >&2; exit 2 ;;
  esac
}

start() {
  mkdir -p /run/libvirt /var/log/libvirt /run/tgt
  # With /dev/kvm not in group kvm, libvirt re-probes QEMU on every call (a define took 36 s).
  if [ -e /dev/kvm ] && getent group kvm >/dev/null; then chgrp kvm /dev/kvm; chmod 0660 /dev/kvm; fi
  running virtlogd || virtlogd -d
  [ -n "$(host_libvirtd)" ] || start_libvirtd
  if libvirtd_needs_restart; then
    echo "daemons: restarting libvirtd for its LXC driver (guests keep running)"
    # shellcheck disable=SC2046
    kill $(host_libvirtd) 2>/dev/null || true
    for _ in $(seq 50); do [ -n "$(host_libvirtd)" ] || break; sleep 0.1; done
    start_libvirtd
  fi
  running tgtd || start_tgtd
  running memcached || memcached -d -u memcache -l 127.0.0.1 -p 11211
  # Swift logs only to syslog (/dev/log): rsyslog writes it to /var/log/syslog. A Swift service
  # started while no syslog daemon ran keeps logging nowhere until it restarts.
  if command -v rsyslogd >/dev/null && ! running rsyslogd; then
    rm -f /run/rsyslogd.pid
    rsyslogd || echo "daemons: rsyslogd did not start: Swift's logs go nowhere" >&2
  fi
  # No cron runs here to rotate /var/log/syslog (Swift's functional suite adds megabytes a run):
  # each start applies scripts/syslog-logrotate.conf, which does nothing until it is due.
  if command -v logrotate >/dev/null && [ ! -d /run/systemd/system ]; then
    logrotate -s /var/lib/logrotate/ministack-syslog.status "$ROOT/scripts/syslog-logrotate.conf" ||
      echo "daemons: logrotate failed: /var/log/syslog not rotated" >&2
  fi
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    [ -d "/etc/postgresql/$ver/main" ] || pg_createcluster "$ver" main >/dev/null
    pg_ctlcluster "$ver" main status >/dev/null 2>&1 || pg_ctlcluster "$ver" main start
  fi
}

stop() {
  # shellcheck disable=SC2046
  for d in libvirtd virtlogd tgtd memcached rsyslogd; do kill $(host_pids "$d") 2>/dev/null || true; done
  if command -v pg_ctlcluster >/dev/null; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_ctlcluster "$ver" main stop 2>/dev/null || true
  fi
}

status() {
  for d in virtlogd libvirtd tgtd memcached rsyslogd postgres; do
    if running "$d"; then echo "$d: running"; else echo "$d: stopped"; fi
  done
}

shift || true
"$action" "$@"
