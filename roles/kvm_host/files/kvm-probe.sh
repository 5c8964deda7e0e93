#!/bin/sh
# Does KVM really run a guest here? /dev/kvm can exist while guest kernels hang under it.
# Boots KERNEL under KVM with no root disk: a working KVM reaches "Kernel panic" (VFS: unable
# to mount root) in a second or two and QEMU exits (-no-reboot). Prints one line:
# "kvm <why>" or "qemu <why>".
kernel=$1
timeout_s=${2:-20}
cache=${3:-}
if [ ! -c /dev/kvm ]; then echo "qemu /dev/kvm is missing"; exit 0; fi
if [ -z "$kernel" ]; then
  kernel=/boot/vmlinuz-$(uname -r)
  [ -f "$kernel" ] || kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
fi
if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
  echo "qemu no kernel to probe KVM with (set kvm_host_probe_kernel or kvm_host_virt_type)"; exit 0
fi
qemu=$(command -v qemu-system-x86_64 || command -v qemu-kvm || echo /usr/libexec/qemu-kvm)
# The answer depends on the host kernel, QEMU and the probe kernel only: keep it across runs.
key="$(uname -r) $("$qemu" --version | head -1 | tr ' ' _) $kernel"
if [ -n "$cache" ] && [ -f "$cache" ] && [ "$(head -1 "$cache")" = "$key" ]; then
  tail -1 "$cache"; exit 0
fi
log=$(mktemp)
timeout "$timeout_s" "$qemu" -accel kvm -m 256 -nodefaults -display none -no-reboot \
  -serial "file:$log" -kernel "$kernel" -append "console=ttyS0 panic=-1" >/dev/null 2>&1
if grep -q "Kernel panic" "$log"; then
  result="kvm a guest kernel booted under KVM"
elif grep -q "Linux version" "$log"; then
  result="qemu a guest kernel started under KVM but did not finish booting within ${timeout_s} s"
else
  result="qemu a guest kernel printed nothing under KVM within ${timeout_s} s"
fi
rm -f "$log"
# (no cache in check mode, where the role has not made its directory)
if [ -n "$cache" ] && [ -d "$(dirname "$cache")" ]; then printf '%s\n%s\n' "$key" "$result" > "$cache"; fi
echo "$result"
