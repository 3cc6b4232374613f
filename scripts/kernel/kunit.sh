#!/bin/bash
# SPDX-License-Identifier: MIT
# `make kernel-kunit`: build the patched kernel with the qemu profile
# (allnoconfig + kernel/config/qemu-kunit.config), boot it on
# qemu-system-aarch64 -M virt with 5 GiB of RAM (so that memory above 4 GiB
# exists for the table placement tests) and collect the KUnit results: the
# built-in rockchip-iommu suite, plus the suites of any test modules of the
# rocket driver found in the build. Ends with "N passed, N failed, N skipped".
. "$(dirname "$0")/lib.sh"

QEMU_MEM=${QEMU_MEM:-5G}
KERNEL_PROFILE=qemu "$REPO/scripts/kernel/build.sh"
ensure_tree >/dev/null
B="$KERNEL_WORK/build/qemu-$KVER"
lock_build_dir "$B"
OUT=${KERNEL_OUT:-$KERNEL_WORK/out/qemu-$KVER}
R="$OUT/kunit"
rm -rf "$R" && mkdir -p "$R/root/modules" "$R/root/proc" "$R/root/dev"

${CROSS}gcc -static -O2 -Wall -o "$R/root/init" "$REPO/scripts/kernel/kunit-init.c"
# rocket and its dependencies (proves the driver loads on the patched
# kernel), then any KUnit test module of the rocket driver
: >"$R/root/modules/order"
for m in drivers/gpu/drm/scheduler/gpu-sched.ko drivers/gpu/drm/drm_shmem_helper.ko \
	 drivers/accel/rocket/rocket.ko; do
	[ -f "$B/$m" ] || continue
	cp "$B/$m" "$R/root/modules/" && basename "$m" >>"$R/root/modules/order"
done
find "$B/drivers/accel/rocket" -name '*test*.ko' -o -name '*kunit*.ko' 2>/dev/null | sort | while read -r m; do
	cp "$m" "$R/root/modules/" && basename "$m" >>"$R/root/modules/order"
done
(cd "$R/root" && find . | cpio -o -H newc --quiet) >"$R/initramfs.cpio"

log "booting $KVER on qemu-system-aarch64 -M virt -m $QEMU_MEM"
timeout 300 qemu-system-aarch64 -M virt -cpu cortex-a57 -m "$QEMU_MEM" -nographic -no-reboot \
	-nic none -kernel "$B/arch/arm64/boot/Image" -initrd "$R/initramfs.cpio" \
	-append "console=ttyAMA0 panic=-1 kunit.enable=1 kunit.autorun=1" >"$R/qemu.log" 2>&1 || true
tr -d '\r' <"$R/qemu.log" >"$R/console.log"

grep -E '^\s*(# Subtest:|ok |not ok |# [a-z0-9_-]+: pass:|# Totals:)|kunit-init:' "$R/console.log" |
	sed 's/^/  /' >&2 || true
suites=$(grep -cE '^\s*# Subtest: ' "$R/console.log" || true)
pass=0 fail=0 skip=0
while read -r p f s; do
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done < <(sed -nE 's/^# Totals: pass:([0-9]+) fail:([0-9]+) skip:([0-9]+).*/\1 \2 \3/p' "$R/console.log")
grep -q 'Subtest: rockchip-iommu' "$R/console.log" || { log "rockchip-iommu suite did not run, see $R/console.log"; fail=$((fail + 1)); }
if grep -qE '^(\s*)not ok ' "$R/console.log"; then
	[ "$fail" -gt 0 ] || fail=1
fi
if grep -qE 'Kernel panic|BUG:|Oops' "$R/console.log"; then
	log "kernel crashed, see $R/console.log"; fail=$((fail + 1))
fi
log "console log: $R/console.log ($suites suites)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
