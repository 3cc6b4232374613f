#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the NPU model on every golden case folder; one TAP line per case.
# GOLDEN_DIR: default ../shared/golden (relative to the repo) when it exists,
# else tests/golden. A case that fails is "not ok" unless it is listed in
# tests/npu_golden_skip.txt ("case_name reason..."), then it is a SKIP.
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
for dir in "$GOLDEN_DIR"/*/; do
	[ -f "$dir/case.json" ] || continue
	name=$(basename "$dir")
	n=$((n + 1))
	out=$("$bin" "$dir" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n - $name"
		continue
	fi
	reason=""
	if [ -f "$skipfile" ]; then
		reason=$(awk -v c="$name" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }' "$skipfile")
	fi
	if [ -n "$reason" ]; then
		echo "ok $n - $name # SKIP $reason"
	else
		echo "not ok $n - $name (exit $rc)"
		echo "$out" | sed 's/^/#   /'
		fail=1
	fi
done
if [ $n -eq 0 ]; then
	echo "not ok 1 - no golden case found in $GOLDEN_DIR"
	n=1
	fail=1
fi
echo "1..$n"
exit $fail
