#!/bin/bash
# SPDX-License-Identifier: MIT
# `make kernel-dtcheck`: the kernel's own DT schema checks (dt-schema) on our
# DT work, on the patched linux-source-$KVER tree:
#   1. make dt_binding_check DT_SCHEMA_FILES=rockchip,iommu.yaml
#      (dt-doc-validate, yamllint, dt-check-style, the example validated)
#   2. the compatibles of drivers/iommu/rockchip-iommu.c are documented
#   3. make W=1 CHECK_DTBS=y rockchip/rk3588-rock-5-itx.dtb (patched rk3588-base.dtsi)
#   4. kernel/dts/rk3588-rock-5-itx-npu.dtso compiled with the kernel's dtc and
#      W=1 warnings, applied with fdtoverlay to three board dtbs (the patched
#      one, the unpatched one and a 7.0-era style one, see board-70.py), and each
#      result checked with dt-validate -m (as CHECK_DTBS does)
# A finding fails its step unless the same finding is already in the
# unpatched board dtb (then it is listed as upstream and does not count).
# dtschema and yamllint are installed into .deps/dtschema when missing
# (scripts/deps.sh dtschema). Build directory: $KERNEL_WORK/build/dtcheck-$KVER
# (never the board or qemu ones). DT_OVERLAY=file.dtso checks another overlay
# (default kernel/dts/rk3588-rock-5-itx-npu.dtso). DT_ALL_RK3588=1 adds
#   5. make CHECK_DTBS=y of every rk3588*.dts of the tree (patch 0005 changes
#      rk3588-base.dtsi under all of them; ~15 s per board): a finding on an
#      NPU core or NPU MMU node fails, any other is listed as upstream
# Ends with "N passed, N failed".
. "$(dirname "$0")/lib.sh"

ensure_tools
"$REPO/scripts/deps.sh" dtschema
export PYTHONPATH="$REPO/.deps/dtschema${PYTHONPATH:+:$PYTHONPATH}" PATH="$REPO/.deps/dtschema/bin:$PATH"
ensure_tree
apply_series

export ARCH=arm64 CROSS_COMPILE=$CROSS
B="$KERNEL_WORK/build/dtcheck-$KVER"
lock_build_dir "$B"
R="$B/rosenblatt-dtcheck" # logs and dtbs of this script
BIND="$KSRC/Documentation/devicetree/bindings"
SCHEMA="$B/Documentation/devicetree/bindings/processed-schema.json"
DTC="$B/scripts/dtc/dtc"
FDTOVERLAY="$B/scripts/dtc/fdtoverlay"
OVERLAY=${DT_OVERLAY:-$REPO/kernel/dts/rk3588-rock-5-itx-npu.dtso}
# the dtc flags of a kernel W=1 build (scripts/Makefile.dtbs)
DTC_W1="-Wno-unique_unit_address -Wunique_unit_address_if_enabled"
mkdir -p "$B" && rm -rf "$R" && mkdir -p "$R"
log "dtschema $(dt-validate --version), $(yamllint --version), linux-source-$KVER $PKGVER, in $B"

pass=0 fail=0
result() { # name findings-file upstream-file
	local n u=0
	n=$(grep -c . "$2" || true)
	[ -n "${3:-}" ] && [ -s "$3" ] && u=$(grep -c . "$3")
	if [ "$n" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok   $1 ($u upstream)"
	else
		fail=$((fail + 1)); echo "FAIL $1 ($n findings, $u upstream)"; sed 's/^/     /' "$2"
	fi
	[ "$u" -eq 0 ] || sed -n 's/^/     upstream: /; 1,20p' "$3"
	[ "$u" -le 20 ] || echo "     upstream: ... $((u - 20)) more in $3"
}
# dt-validate output of one dtb, with the file name taken out so that the
# findings of two dtbs compare
validate() { # dtb out
	dt-validate -m -u "$BIND" -p "$SCHEMA" "$1" 2>&1 | strip >"$2" || true
}
# one finding a line: drop the dtb name and the tree's path, join dt-validate's
# tab-indented continuation lines ("from schema ...") to their finding
strip() {
	sed -E -e 's|^[^ :]+\.dtb: ||' -e "s|$KSRC/||g" -e "s|$R/pristine/||g" |
		awk '/^\t/ { sub(/^\t/, ""); cur = cur " | " $0; next }
		     NF { if (cur != "") print cur; cur = $0 }
		     END { if (cur != "") print cur }'
}
# split findings into the ones the unpatched dtb does not have and upstream ones
classify() { # findings base-findings new-out upstream-out
	grep -vxF -f "$2" "$1" >"$3" || true
	grep -xF -f "$2" "$1" >"$4" || true
	[ -s "$2" ] || { cp "$1" "$3"; : >"$4"; }
}
# cpp + dtc of a board .dts as the kernel does it (kernel dtc, W=1 flags, symbols)
dtc_board() { # dts dtb
	${CROSS}gcc -E -nostdinc -I"$(dirname "$1")" -I"$KSRC/scripts/dtc/include-prefixes" \
		-undef -D__DTS__ -x assembler-with-cpp -o "$2.pp" "$1" &&
	# shellcheck disable=SC2086
	"$DTC" -@ -b 0 -O dtb $DTC_W1 -o "$2" "$2.pp"
}

# 1. the binding (the make targets run their checkers with "|| true": grep);
# the checkers only run when their stamps are older than the inputs: drop them.
# scripts/jobserver-exec's notice about the jobserver pipe is not a finding
rm -f "$B"/Documentation/devicetree/bindings/.{dt-binding,yamllint,dt-style}.checked \
	"$B"/Documentation/devicetree/bindings/iommu/rockchip,iommu.example.*
make -s -C "$KSRC" O="$B" -j"$JOBS" dt_binding_check DT_SCHEMA_FILES=rockchip,iommu.yaml \
	>"$R/binding.log" 2>&1 || echo "make dt_binding_check failed (rc $?)" >>"$R/binding.log"
grep -v 'Unable to reopen jobserver read-side pipe' "$R/binding.log" >"$R/binding.find" || true
[ -f "$B/Documentation/devicetree/bindings/iommu/rockchip,iommu.example.dtb" ] ||
	echo "no example dtb was built" >>"$R/binding.find"
result "make dt_binding_check DT_SCHEMA_FILES=rockchip,iommu.yaml" "$R/binding.find"

# 2. every compatible the driver matches is in the processed schema
python3 "$KSRC/scripts/dtc/dt-extract-compatibles" "$KSRC/drivers/iommu/rockchip-iommu.c" >"$R/compatibles"
python3 - "$SCHEMA" "$R/compatibles" >"$R/compat.find" <<'EOF'
import json, sys
items = json.load(open(sys.argv[1]))["generated-compatibles"]["properties"]["compatible"]["items"]
documented = {c for alt in items["anyOf"] for c in alt.get("enum", [])}
for c in open(sys.argv[2]).read().split():
    if c not in documented:
        print(f"undocumented compatible in rockchip-iommu.c: {c}")
EOF
result "compatibles of rockchip-iommu.c documented ($(tr '\n' ' ' <"$R/compatibles"| sed 's/ $//'))" "$R/compat.find"

# the unpatched and the 7.0-era style board dtbs: the baseline for "upstream"
t="$R/pristine"
mkdir -p "$t"
git -C "$KSRC" archive pristine arch/arm64/boot/dts/rockchip | tar -C "$t" -x
D="$t/arch/arm64/boot/dts/rockchip"
python3 "$REPO/scripts/kernel/board-70.py" "$D/rk3588-rock-5-itx.dts" "$D/rk3588-rock-5-itx-70.dts" >/dev/null
[ -f "$B/.config" ] || make -s -C "$KSRC" O="$B" defconfig
make -s -C "$KSRC" O="$B" scripts_dtc >/dev/null
dtc_board "$D/rk3588-rock-5-itx.dts" "$R/pristine.dtb" 2>"$R/pristine.dtc" || die "unpatched board dtb: $(cat "$R/pristine.dtc")"
dtc_board "$D/rk3588-rock-5-itx-70.dts" "$R/70.dtb" 2>"$R/70.dtc" || die "7.0-style board dtb: $(cat "$R/70.dtc")"
validate "$R/pristine.dtb" "$R/pristine.val"
strip <"$R/pristine.dtc" | cat - "$R/pristine.val" >"$R/pristine.base"

# 3. the patched board dtb, built and checked by the kernel's make
BOARD="$B/arch/arm64/boot/dts/rockchip/rk3588-rock-5-itx.dtb"
rm -f "$BOARD"
make -s -C "$KSRC" O="$B" -j"$JOBS" W=1 CHECK_DTBS=y DTC_FLAGS_rk3588-rock-5-itx=-@ \
	rockchip/rk3588-rock-5-itx.dtb >"$R/board.log" 2>&1 || echo "make failed (rc $?)" >>"$R/board.log"
strip <"$R/board.log" >"$R/board.all"
classify "$R/board.all" "$R/pristine.base" "$R/board.find" "$R/board.up"
result "make W=1 CHECK_DTBS=y rockchip/rk3588-rock-5-itx.dtb" "$R/board.find" "$R/board.up"

# 4. the overlay, and each board dtb with the overlay applied
"$DTC" -@ -I dts -O dtb $DTC_W1 -o "$R/npu.dtbo" "$OVERLAY" \
	>"$R/overlay.find" 2>&1 || echo "dtc failed" >>"$R/overlay.find"
result "dtc W=1 ${OVERLAY#"$REPO"/}" "$R/overlay.find"
for base in board:"$BOARD" pristine:"$R/pristine.dtb" 70:"$R/70.dtb"; do
	name=${base%%:*} dtb=${base#*:}
	m="$R/$name+npu.dtb"
	if "$FDTOVERLAY" -i "$dtb" -o "$m" "$R/npu.dtbo" >"$R/$name+npu.ovl" 2>&1; then
		validate "$m" "$R/$name+npu.val"
	else
		cp "$R/$name+npu.ovl" "$R/$name+npu.val"
	fi
	classify "$R/$name+npu.val" "$R/pristine.val" "$R/$name+npu.find" "$R/$name+npu.up"
	case $name in
	board) what="patched board dtb" ;;
	pristine) what="unpatched board dtb" ;;
	70) what="7.0-era style board dtb" ;;
	esac
	result "dt-validate -m: overlay on the $what" "$R/$name+npu.find" "$R/$name+npu.up"
done

# 5. optionally every RK3588 board of the tree
if [ "${DT_ALL_RK3588:-0}" = 1 ]; then
	dtbs=$(cd "$KSRC/arch/arm64/boot/dts" && ls rockchip/rk3588*.dts | sed 's/\.dts$/.dtb/')
	(cd "$B/arch/arm64/boot/dts" && rm -f $dtbs)
	# shellcheck disable=SC2086
	make -s -C "$KSRC" O="$B" -j"$JOBS" CHECK_DTBS=y $dtbs >"$R/all.log" 2>&1 ||
		echo "make failed (rc $?)" >>"$R/all.log"
	# one finding a line, with its dtb
	awk '/^\t/ { sub(/^\t/, ""); cur = cur " | " $0; next }
	     NF { if (cur != "") print cur; cur = $0 }
	     END { if (cur != "") print cur }' "$R/all.log" | sed "s|$KSRC/||g" >"$R/all.all"
	npu='(iommu@fd(ab9|aca|ada)000|npu@fd(ab|ac|ad)0000|make failed)'
	grep -E "$npu" "$R/all.all" >"$R/all.find" || true
	grep -vE "$npu" "$R/all.all" >"$R/all.up" || true
	result "make CHECK_DTBS=y of $(wc -w <<<"$dtbs") rk3588*.dtb, NPU nodes" "$R/all.find" "$R/all.up"
fi

log "logs and dtbs in $R"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
