#!/bin/sh
# Idempotently define, build, start and autostart a directory storage pool; prints "changed"
# when it did anything.
set -e
name=$1
path=$2
v="virsh -q -c qemu:///system"
changed=0
if ! $v pool-info "$name" >/dev/null 2>&1; then
  $v pool-define-as "$name" dir --target "$path" >/dev/null
  $v pool-build "$name" >/dev/null
  changed=1
fi
if [ "$($v pool-info "$name" | awk '/^State:/ {print $2}')" != "running" ]; then
  $v pool-start "$name" >/dev/null
  changed=1
fi
if [ "$($v pool-info "$name" | awk '/^Autostart:/ {print $2}')" != "yes" ]; then
  $v pool-autostart "$name" >/dev/null
  changed=1
fi
[ "$changed" = 1 ] && echo changed || echo ok
