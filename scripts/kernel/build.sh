#!/bin/bash
# SPDX-License-Identifier: MIT
# `make kernel`: fetch Debian's linux-source-$KVER, apply kernel/patches (iommu
# series, then rocket when present) with git am, cross-build for arm64 and
# collect the artifacts with a SHA256SUMS in one folder.
#
#   KERNEL_PROFILE=board (default)  arm64 defconfig + kernel/config/rosenblatt-board.config:
#                                   the kernel for boltzmann (ROCK 5 ITX)
#   KERNEL_PROFILE=qemu             allnoconfig + kernel/config/qemu-kunit.config:
#                                   small kernel that boots on qemu -M virt (make kernel-kunit)
#   KERNEL_TARGETS                  default "Image modules"
# Also builds the ROCK 5 ITX dtb (with symbols) and the NPU overlay, and checks
# the overlay on the patched dtb and on a 7.0-era style board dtb.
# See scripts/kernel/lib.sh for KVER, KERNEL_WORK, KERNEL_OUT.
. "$(dirname "$0")/lib.sh"

PROFILE=${KERNEL_PROFILE:-board}
TARGETS=${KERNEL_TARGETS:-Image modules}
case $PROFILE in
board) FRAG="$REPO/kernel/config/rosenblatt-board.config" ;;
qemu) FRAG="$REPO/kernel/config/qemu-kunit.config" ;;
*) die "KERNEL_PROFILE must be board or qemu" ;;
esac

ensure_tools
ensure_tree
apply_series

B="$KERNEL_WORK/build/$PROFILE-$KVER"
lock_build_dir "$B"
OUT=${KERNEL_OUT:-$KERNEL_WORK/out/$PROFILE-$KVER}
export ARCH=arm64 CROSS_COMPILE=$CROSS
mkdir -p "$B"

# configure when the fragment or the source changed
cfgkey=$(cat "$FRAG" "$KSRC/.git/rosenblatt-series" | sha256sum | cut -d' ' -f1)
if [ ! -f "$B/.config" ] || [ "$(cat "$B/.rosenblatt-cfg" 2>/dev/null)" != "$cfgkey" ]; then
	log "configuring $PROFILE ($KVER)"
	if [ "$PROFILE" = qemu ]; then
		make -s -C "$KSRC" O="$B" KCONFIG_ALLCONFIG="$FRAG" allnoconfig
	else
		make -s -C "$KSRC" O="$B" defconfig
		"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "$FRAG" >"$B/merge.log"
		make -s -C "$KSRC" O="$B" olddefconfig
	fi
	echo "$cfgkey" >"$B/.rosenblatt-cfg"
fi
# every line of the fragment must have survived Kconfig
bad=0
while read -r line; do
	case $line in CONFIG_*=*) grep -qx "$line" "$B/.config" || { log "config: $line did not take"; bad=1; } ;; esac
done <"$FRAG"
[ $bad -eq 0 ] || die "config fragment not applied, see $B/.config"

log "building $TARGETS ($PROFILE, $KERNELVERSION) in $B"
start=$(date +%s)
# shellcheck disable=SC2086
make -s -C "$KSRC" O="$B" -j"$JOBS" $TARGETS
make -s -C "$KSRC" O="$B" DTC_FLAGS_rk3588-rock-5-itx=-@ rockchip/rk3588-rock-5-itx.dtb
log "build took $(($(date +%s) - start)) s"

# DT overlay, checked on the patched board dtb and on a 7.0-era style one
rm -rf "$OUT" && mkdir -p "$OUT"
DTS="$KSRC/arch/arm64/boot/dts"
dtc -q -@ -I dts -O dtb -o "$OUT/rk3588-rock-5-itx-npu.dtbo" "$REPO/kernel/dts/rk3588-rock-5-itx-npu.dtso"
cp "$B/arch/arm64/boot/dts/rockchip/rk3588-rock-5-itx.dtb" "$OUT/"
"$REPO/scripts/kernel/dt-check.sh" "$OUT/rk3588-rock-5-itx.dtb" "$OUT/rk3588-rock-5-itx-npu.dtbo" \
	"$OUT/rk3588-rock-5-itx+npu.dtb" >"$OUT/dt-check.txt" || { cat "$OUT/dt-check.txt"; die "overlay check failed"; }
t=$(mktemp -d)
git -C "$KSRC" archive pristine arch/arm64/boot/dts/rockchip | tar -C "$t" -x
python3 "$REPO/scripts/kernel/board-70.py" "$t/arch/arm64/boot/dts/rockchip/rk3588-rock-5-itx.dts" \
	"$t/arch/arm64/boot/dts/rockchip/rk3588-rock-5-itx-70.dts" >&2
${CROSS}gcc -E -nostdinc -I"$KSRC/include" -I"$t/arch/arm64/boot/dts" -I"$t/arch/arm64/boot/dts/rockchip" \
	-undef -D__DTS__ -x assembler-with-cpp -P "$t/arch/arm64/boot/dts/rockchip/rk3588-rock-5-itx-70.dts" >"$t/70.pp.dts"
dtc -q -@ -I dts -O dtb -o "$t/70.dtb" "$t/70.pp.dts"
for n in rknn_core_0 rknn_mmu_0; do
	p=$(fdtget -t s "$t/70.dtb" /__symbols__ $n)
	[ "$(fdtget -t s "$t/70.dtb" "$p" status)" = disabled ] || die "7.0-style base: $n not disabled"
done
"$REPO/scripts/kernel/dt-check.sh" "$t/70.dtb" "$OUT/rk3588-rock-5-itx-npu.dtbo" "$t/70+npu.dtb" \
	>"$OUT/dt-check-70.txt" || { cat "$OUT/dt-check-70.txt"; die "overlay check (7.0-style base) failed"; }
rm -rf "$t"
log "overlay: $(grep -c '^ok' "$OUT/dt-check.txt") checks ok on $KVER board dtb, $(grep -c '^ok' "$OUT/dt-check-70.txt") on 7.0-style dtb"

# artifacts
KREL=$(cat "$B/include/config/kernel.release")
case " $TARGETS " in *" Image "*) cp "$B/arch/arm64/boot/Image" "$B/System.map" "$OUT/" ;; esac
cp "$B/.config" "$OUT/config-$KREL"
case " $TARGETS " in *" modules "*)
	m=$(mktemp -d)
	make -s -C "$KSRC" O="$B" INSTALL_MOD_PATH="$m" INSTALL_MOD_STRIP=1 modules_install
	tar -C "$m" -cJf "$OUT/modules-$KREL.tar.xz" lib
	rm -rf "$m" ;;
esac
{
	echo "linux-source-$KVER $PKGVER ($KERNELVERSION), kernel release $KREL, profile $PROFILE"
	echo "config: $(basename "$FRAG") on $([ "$PROFILE" = qemu ] && echo allnoconfig || echo defconfig)"
	echo "patches:"
	series_files | while read -r f; do echo "  $(sha256sum "$f" | cut -c1-12) ${f#"$REPO"/}"; done
	echo "tree: $(git -C "$KSRC" rev-parse HEAD) ($(git -C "$KSRC" log --oneline pristine..HEAD | wc -l) commits on pristine)"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
} >"$OUT/BUILDINFO"
(cd "$OUT" && sha256sum -- * | grep -v ' SHA256SUMS$' >SHA256SUMS)
log "artifacts in $OUT:"
(cd "$OUT" && ls -l) >&2
