#!/bin/bash
# SPDX-License-Identifier: MIT
# Apply kernel/dts/rk3588-rock-5-itx-npu.dtso with fdtoverlay to a ROCK 5 ITX
# dtb and check the result: the three NPU cores and their MMUs are "okay",
# the MMUs carry the NPU IOMMU compatible, and the npu/sram/domain supplies
# resolve to vdd_npu_s0.
#   dt-check.sh BASE.dtb OVERLAY.dtbo OUT.dtb
set -euo pipefail
base=$1 dtbo=$2 out=$3
fail=0
fdtoverlay -i "$base" -o "$out" "$dtbo"
sym() { fdtget -t s "$out" /__symbols__ "$1"; }
check() { # what expected actual
	if [ "$2" = "$3" ]; then echo "ok   $1 = $3"; else echo "FAIL $1 = '$3', want '$2'"; fail=1; fi
}
vdd=$(fdtget -t u "$out" "$(sym vdd_npu_s0)" phandle)
for i in 0 1 2; do
	core=$(sym rknn_core_$i) mmu=$(sym rknn_mmu_$i)
	check "$core status" okay "$(fdtget -t s "$out" "$core" status)"
	check "$mmu status" okay "$(fdtget -t s "$out" "$mmu" status)"
	check "$mmu compatible" "rockchip,rk3588-npu-iommu rockchip,rk3568-iommu" \
		"$(fdtget -t s "$out" "$mmu" compatible)"
	check "$core npu-supply" "$vdd" "$(fdtget -t u "$out" "$core" npu-supply)"
	check "$core sram-supply" "$vdd" "$(fdtget -t u "$out" "$core" sram-supply)"
done
check "pd_npu domain-supply" "$vdd" "$(fdtget -t u "$out" "$(sym pd_npu)" domain-supply)"
exit $fail
