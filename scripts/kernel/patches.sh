#!/bin/bash
# SPDX-License-Identifier: MIT
# `make kernel-patches-iommu`: check the iommu series (kernel/patches/iommu):
#   1. git am on linux-source-7.3, and on 7.2 after the per-device ops prerequisite
#   2. checkpatch.pl --strict --codespell from the 7.3 tree (MISSING_SIGN_OFF is
#      ignored: only the human submitter may add Signed-off-by)
#   3. W=1 build of drivers/iommu/rockchip-iommu.o (with the KUnit test) for
#      arm64 on 7.3 and 7.2 and for x86_64 COMPILE_TEST on 7.3
# Ends with "N passed, N failed".
. "$(dirname "$0")/lib.sh"
ensure_tools
pass=0 fail=0
step() { # name command...
	local name=$1; shift
	if "$@" >"$KERNEL_WORK/step.log" 2>&1; then
		pass=$((pass + 1)); echo "ok   $name"
	else
		fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     /' "$KERNEL_WORK/step.log" | tail -30
	fi
}
w1_object() { # arch build-dir fragment
	local arch=$1 b=$2 frag=$3 cc=
	[ "$arch" = arm64 ] && cc=$CROSS
	# (set -e does not apply inside a function run by step: chain with &&)
	mkdir -p "$b" &&
	make -s -C "$KSRC" O="$b" ARCH="$arch" CROSS_COMPILE="$cc" KCONFIG_ALLCONFIG="$frag" allnoconfig &&
	grep -qx CONFIG_ROCKCHIP_IOMMU_KUNIT_TEST=y "$b/.config" &&
	make -C "$KSRC" O="$b" ARCH="$arch" CROSS_COMPILE="$cc" -j"$JOBS" W=1 drivers/iommu/rockchip-iommu.o >"$b/w1.log" 2>&1 &&
	! grep -E 'warning:|error:' "$b/w1.log"
}
for v in 7.3 7.2; do
	KVER=$v
	ensure_tree
	step "git am on linux-source-$v $PKGVER ($(series_files | wc -l) patches)" apply_series
	step "W=1 arm64 rockchip-iommu.o ($v)" w1_object arm64 "$KERNEL_WORK/build/w1-arm64-$v" \
		"$REPO/kernel/config/qemu-kunit.config"
	if [ "$v" = 7.3 ]; then
		step "W=1 x86_64 COMPILE_TEST rockchip-iommu.o ($v)" w1_object x86_64 "$KERNEL_WORK/build/w1-x86-$v" \
			"$REPO/kernel/config/x86_64-compile-test.config"
		for p in "$PATCHES"/iommu/000[1-9]-*.patch; do
			step "checkpatch --strict $(basename "$p")" bash -c \
				"cd '$KSRC' && scripts/checkpatch.pl --strict --quiet --codespell \
				 --codespellfile /usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt \
				 --ignore MISSING_SIGN_OFF,FILE_PATH_CHANGES '$p' 2>&1 | grep -v -e ply -e spdxcheck -e Traceback -e '^  File' -e '^    ' ; exit \${PIPESTATUS[0]}"
		done
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
