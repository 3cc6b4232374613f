#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the NPU model on every golden case folder; one TAP line per case.
# GOLDEN_DIR: default ../shared/golden (relative to the repo) when it exists,
# else tests/golden. A case that fails is "not ok" unless it is listed in
# tests/npu_golden_skip.txt ("case_name reason..."), then it is a SKIP.
# Every case runs with each int8 dot product of the simulator this CPU has
# (NPU_SIM_DOT: generic C; on x86-64 AVX2, AVX-512 VNNI 256- and 512-bit).
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin="${ROSENBLATT_BUILD:-$root/build}/npu-sim-run"
if [ -z "$GOLDEN_DIR" ]; then
	if [ -d "$root/../shared/golden" ]; then
		GOLDEN_DIR="$root/../shared/golden"
	else
		GOLDEN_DIR="$root/tests/golden"
	fi
fi
skipfile="$here/npu_golden_skip.txt"
n=0
fail=0
echo "# golden dir: $GOLDEN_DIR, simulator: $bin"
dots=generic
grep -qw avx2 /proc/cpuinfo 2>/dev/null && dots="$dots avx2"
grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512vl /proc/cpuinfo && dots="$dots vnni"
grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo && dots="$dots vnni512"
for dot in $dots; do
for dir in "$GOLDEN_DIR"/*/; do
	[ -f "$dir/case.json" ] || continue
	name="$(basename "$dir") ($dot dot)"
	n=$((n + 1))
	out=$(NPU_SIM_DOT=$dot "$bin" "$dir" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n - $name"
		continue
	fi
	reason=""
	if [ -f "$skipfile" ]; then
		reason=$(awk -v c="$(basename "$dir")" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }' "$skipfile")
	fi
	if [ -n "$reason" ]; then
		echo "ok $n - $name # SKIP $reason"
	else
		echo "not ok $n - $name (exit $rc)"
		echo "$out" | sed 's/^/#   /'
		fail=1
	fi
done
done
if [ $n -eq 0 ]; then
	echo "not ok 1 - no golden case found in $GOLDEN_DIR"
	n=1
	fail=1
fi
echo "1..$n"
exit $fail
