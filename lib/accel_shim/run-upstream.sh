#!/bin/bash
# SPDX-License-Identifier: MIT
# The rocket kselftests against the emulated UNPATCHED upstream driver
# (ROSENBLATT_SHIM_UPSTREAM=1: version 0.0.0, no SUBMIT_MATMUL, upstream's
# CREATE_BO/SUBMIT behaviour), to prove the feature gating: every test of our
# series must SKIP there, with its reason, and upstream's tests must pass.
# Usage: lib/accel_shim/run-upstream.sh PROG [PROG...]
set -u
here=$(dirname "$0")
build=${SHIM_BUILD:-${ROSENBLATT_BUILD:-build}}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ROSENBLATT_SHIM_UPSTREAM=1 "$here/run-selftests.sh" "$@" >"$out" 2>&1
rc=$?
cat "$out"
# Gating check: on 0.0 no SUBMIT_MATMUL case may run (only "discovery" may
# pass), and the version-gated uAPI cases must SKIP, not pass.
ran=$(grep -E '^ok [0-9]+ (mm|bad)\.' "$out" | grep -vc '# SKIP')
gated=$(grep -E '^ok [0-9]+ (dev\.create_bo_zero_size|submit\.(task_|regcmd_|tasks_|unknown_handle|closed_handle|other_files_handle|handles_))' "$out" | grep -vc '# SKIP')
mm=$(grep -cE '^ok [0-9]+ (mm|bad)\..*# SKIP driver older than 1.1' "$out")
n=1
for p in "$@"; do
	[ "$p" = rocket_matmul_test ] || continue
	if [ "$ran" -eq 0 ] && [ "$mm" -gt 0 ]; then
		echo "ok $n - upstream gating: $mm SUBMIT_MATMUL cases SKIP on rocket 0.0"
	else
		echo "not ok $n - upstream gating: $ran SUBMIT_MATMUL cases ran, $mm skipped on rocket 0.0"
		rc=1
	fi
	n=$((n + 1))
done
if [ "$gated" -eq 0 ]; then
	echo "ok $n - upstream gating: series-only uAPI cases SKIP on rocket 0.0"
else
	echo "not ok $n - upstream gating: $gated series-only uAPI cases passed on rocket 0.0"
	rc=1
fi
[ -f "$build/librocket-shim.so" ] || rc=1
exit $rc
