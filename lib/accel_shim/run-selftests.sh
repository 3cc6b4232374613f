#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the rocket kselftests (built into $ROSENBLATT_BUILD/selftests/) against
# the emulated device: LD_PRELOAD=$ROSENBLATT_BUILD/librocket-shim.so.
# Usage: lib/accel_shim/run-selftests.sh PROG [PROG...]
# Env: SHIM_RUNNER (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu" for the arm64
#      build, then SHIM_BUILD names that build dir), ROSENBLATT_SHIM_* as documented.
set -u
build=${SHIM_BUILD:-${ROSENBLATT_BUILD:-build}}
shim="$build/librocket-shim.so"
[ -f "$shim" ] || { echo "run-selftests: $shim missing"; exit 1; }
. "$(dirname "$0")/../../scripts/shim-preload.sh"
preload=$(shim_preload "$shim")
export ROCKET_GOLDEN_DIR=${ROCKET_GOLDEN_DIR:-$(pwd)/tests/golden}
rc=0
for p in "$@"; do
	echo "# $p"
	if [ -n "${SHIM_RUNNER:-}" ]; then
		timeout 600 $SHIM_RUNNER -E LD_PRELOAD="$preload" "$build/selftests/$p" || rc=1
	else
		LD_PRELOAD="$preload" timeout 600 "$build/selftests/$p" || rc=1
	fi
done
exit $rc
