#!/bin/bash
# SPDX-License-Identifier: MIT
# KUnit suites of our kernel work (rockchip-iommu, rocket_matmul, rocket_regcmd)
# in the patched arm64 kernel booted under qemu-system-aarch64
# (scripts/kernel/kunit.sh; the first run downloads and builds the kernel,
# later runs reuse $KERNEL_WORK). Prints one TAP line per KUnit test case.
# ROSENBLATT_SKIP_KERNEL=1 skips it (e.g. on a machine without the time).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${ROSENBLATT_SKIP_KERNEL:-0}" = 1 ]; then
	echo "ok 1 - kernel KUnit # SKIP ROSENBLATT_SKIP_KERNEL=1"
	exit 0
fi
# One kernel build tree per machine: serialise concurrent runs.
out=$(flock "${TMPDIR:-/tmp}/rosenblatt-kunit.lock" scripts/kernel/kunit.sh 2>&1)
rc=$?
log=$(sed -nE 's/.*console log: ([^ ]+) .*/\1/p' <<<"$out" | tail -1)
if [ -z "$log" ] || [ ! -f "$log" ]; then
	echo "not ok 1 - kernel KUnit: build or boot failed"
	tail -20 <<<"$out" | sed 's/^/#   /'
	exit 1
fi
# KTAP: "# Subtest: SUITE" opens a suite; its cases are "    ok N NAME" one
# level deeper (parameterised cases nest further and roll up into these).
awk '
	/^    # Subtest: / { suite = $0; sub(/^    # Subtest: /, "", suite) }
	/^        # Subtest: / { params = 0; ptest = $0; sub(/^        # Subtest: /, "", ptest) }
	/^        (not )?ok [0-9]+ / { params++; emit(substr($0, 9), suite "/" ptest) }
	/^    (not )?ok [0-9]+ / {
		if (params == 0) emit(substr($0, 5), suite)
		params = 0
	}
	function emit(line, prefix,   notok) {
		notok = (line ~ /^not ok/)
		sub(/^(not )?ok [0-9]+ (- )?/, "", line)
		n++
		printf "%s %d - %s: %s\n", notok ? "not ok" : "ok", n, prefix, line
	}
' "$log"
tail -1 <<<"$out" | sed 's/^/# /'
exit $rc
