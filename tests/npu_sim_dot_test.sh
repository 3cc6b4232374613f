#!/bin/bash
# SPDX-License-Identifier: MIT
# The simulator's int8 dot products (NPU_SIM_DOT) each against the double
# reference of test_regcmd_sim's random full-range shapes: the generic C one,
# and on x86-64 the AVX2 and AVX-512 VNNI (256-, 512-bit) ones when this CPU has them (make
# check's own test_regcmd_sim run uses the one picked for this CPU).
here=$(cd "$(dirname "$0")" && pwd)
bin="${ROSENBLATT_BUILD:-$here/../build}/tests/test_regcmd_sim"
dots=generic
grep -qw avx2 /proc/cpuinfo 2>/dev/null && dots="$dots avx2"
grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512vl /proc/cpuinfo && dots="$dots vnni"
grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo && dots="$dots vnni512"
n=0
fail=0
for dot in $dots; do
	out=$(NPU_SIM_DOT=$dot "$bin" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			n=$((n + 1))
			echo "$line" | sed -E "s/^(not )?ok [0-9]+/\\1ok $n/; s/\$/ ($dot dot)/"
			;;
		"#"*)
			echo "$line"
			;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ]; then
		fail=1
		n=$((n + 1))
		echo "not ok $n - test_regcmd_sim with NPU_SIM_DOT=$dot exited $rc"
	fi
done
echo "1..$n"
exit $fail
