#!/bin/bash
# SPDX-License-Identifier: MIT
# The emulated device and the rocket kselftests built for arm64 and run under
# qemu-aarch64 user emulation (gcc-aarch64-linux-gnu, qemu-user-static).
# Usage: lib/accel_shim/run-arm64.sh PROG [PROG...]
set -u
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
	echo "ok 1 - arm64 rocket selftests # SKIP needs gcc-aarch64-linux-gnu and qemu-user-static"
	exit 0
fi
make -s --no-print-directory BUILD=build/arm64 CC=aarch64-linux-gnu-gcc SAN= shim >build/arm64-shim.log 2>&1 ||
	{ echo "not ok 1 - arm64 build (see build/arm64-shim.log)"; tail -20 build/arm64-shim.log; exit 1; }
SHIM_BUILD=build/arm64 SHIM_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" \
	exec "$(dirname "$0")/run-selftests.sh" "$@"
