#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Build-test the series (`make kernel-check`): for each kernel version, apply
# it with git am to the `pristine` branch of a git tree of the Debian
# linux-source (shared/docs/kernel-recipe.md), and after each patch build
# drivers/accel/rocket/ with W=1 as an arm64 module and with COMPILE_TEST for
# x86_64. Then boot the KUnit module under qemu-system-aarch64 (7.3 only,
# needs the full arm64 build of the recipe, section 2) and run checkpatch.
#
#   ROCKET_KBUILD=/work/kbuild-rocket kernel/patches/rocket/check-series.sh
#
# $ROCKET_KBUILD/linux-7.3, linux-7.2: git trees with a `pristine` branch;
# arm64-7.x, x86-7.x: O= build directories (created when missing: config +
# modules_prepare, so the arm64 module build is a compile check only unless
# the full build was done). Builds are -j2. Prints "check-series: PASS".
set -u
here=$(cd "$(dirname "$0")" && pwd)
W=${ROCKET_KBUILD:-/work/kbuild-rocket}
VERSIONS=${VERSIONS:-"7.3 7.2"}
FRAG=${ARM64_FRAGMENT:-$here/../../../../shared/kernel/arm64-minimal.config}
[ -f "$FRAG" ] || FRAG=/work/shared/kernel/arm64-minimal.config
XFRAG=$W/x86.config
cat > "$XFRAG" <<'EOC'
CONFIG_64BIT=y
CONFIG_COMPILE_TEST=y
CONFIG_MODULES=y
CONFIG_PCI=y
CONFIG_DRM=y
CONFIG_DRM_ACCEL=y
CONFIG_DRM_ACCEL_ROCKET=m
CONFIG_IOMMU_SUPPORT=y
CONFIG_ROCKCHIP_IOMMU=y
CONFIG_KUNIT=y
CONFIG_DRM_ACCEL_ROCKET_KUNIT_TEST=m
EOC
patches=$(ls "$here"/000[1-9]*.patch)
count=$(echo "$patches" | wc -l)
codespell=/usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt
fail=0
for V in $VERSIONS; do
	K=$W/linux-$V
	cd "$K" || { echo "$V: no tree $K"; fail=1; continue; }
	git checkout -q -f pristine && git clean -qfd drivers/accel/rocket include/uapi/drm
	git branch -q -D series-check 2>/dev/null
	git checkout -q -b series-check
	# shellcheck disable=SC2086
	if ! git am -q $patches; then
		echo "$V: git am FAILED"; git am --abort; fail=1; continue
	fi
	echo "$V: git am ok ($count patches)"
	for p in $patches; do
		# /usr/bin first: spdxcheck.py needs python3-ply from Debian, not a pyenv python
		r=$(PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --codespell --codespellfile $codespell \
			--ignore MISSING_SIGN_OFF,FILE_PATH_CHANGES "$p" | grep '^total:')
		echo "$V checkpatch $(basename "$p" | cut -c1-4): $r"
	done
	A=$W/arm64-$V; X=$W/x86-$V
	if [ ! -f "$A/.config" ]; then
		make -s ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- O="$A" \
			KCONFIG_ALLCONFIG="$FRAG" allnoconfig
		make -s -j2 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- O="$A" modules_prepare
	fi
	[ -f "$X/.config" ] || make -s ARCH=x86_64 O="$X" KCONFIG_ALLCONFIG="$XFRAG" allnoconfig
	for n in $(seq 1 "$count"); do
		c=$(git rev-list --reverse pristine..series-check | sed -n "${n}p")
		git checkout -q "$c"
		scripts/config --file "$A/.config" -m DRM_ACCEL_ROCKET_KUNIT_TEST
		scripts/config --file "$X/.config" -m DRM_ACCEL_ROCKET_KUNIT_TEST
		log=$W/check-$V-$n.log
		make -j2 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- O="$A" W=1 \
			KBUILD_MODPOST_WARN=1 drivers/accel/rocket/ > "$log.arm64" 2>&1; ra=$?
		make -j2 ARCH=x86_64 O="$X" W=1 drivers/accel/rocket/ > "$log.x86" 2>&1; rx=$?
		wa=$(grep -cE "warning:|error:" "$log.arm64"); wx=$(grep -cE "warning:|error:" "$log.x86")
		echo "$V patch $n: arm64 rc=$ra warnings=$wa; x86_64 rc=$rx warnings=$wx"
		[ $ra -eq 0 ] && [ $rx -eq 0 ] && [ "$wa" -eq 0 ] && [ "$wx" -eq 0 ] || fail=1
	done
	git checkout -q series-check
done

# KUnit under qemu (recipe section 5): needs $W/arm64-7.3 built with Image.
A=$W/arm64-7.3
if [ -f "$A/arch/arm64/boot/Image" ] && [ -f "$A/drivers/gpu/drm/scheduler/gpu-sched.ko" ]; then
	(cd "$W/linux-7.3" && make -s -j2 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- O="$A" modules)
	q=$W/qemu; mkdir -p "$q/rootfs/proc" "$q/rootfs/dev"
	aarch64-linux-gnu-gcc -static -O2 -o "$q/rootfs/init" "$here/kunit-init.c"
	cp "$A/drivers/gpu/drm/scheduler/gpu-sched.ko" "$A/drivers/gpu/drm/drm_shmem_helper.ko" \
		"$A/drivers/accel/rocket/rocket.ko" "$A/drivers/accel/rocket/tests/rocket_test.ko" \
		"$q/rootfs/"
	(cd "$q/rootfs" && find . | cpio -o -H newc --quiet) > "$q/initramfs.cpio"
	timeout 300 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -nographic -no-reboot \
		-nic none -kernel "$A/arch/arm64/boot/Image" -initrd "$q/initramfs.cpio" \
		-append "console=ttyAMA0 panic=-1 kunit.enable=1 kunit.autorun=1" > "$q/qemu.log" 2>&1
	grep -E "finit_module|^# Totals|^(not )?ok [0-9]+ rocket" "$q/qemu.log"
	suites=$(grep -cE "^ok [0-9]+ rocket_" "$q/qemu.log")
	if [ "$suites" -ne 2 ] || grep -q "not ok" "$q/qemu.log" ||
	   grep -q "finit_module.* = -" "$q/qemu.log"; then
		echo "kunit: FAIL (log: $q/qemu.log)"; fail=1
	else
		echo "kunit: 2 suites passed"
	fi
else
	echo "kunit: SKIP (no full arm64 build in $A)"
fi
echo "check-series: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
exit $fail
