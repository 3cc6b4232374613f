#!/bin/bash
# SPDX-License-Identifier: MIT
# The emulated device and the kselftests built with ASan+UBSan (into
# build-asan/) and run, so `make check` covers the emulator under sanitizers.
# Usage: lib/accel_shim/run-asan.sh PROG [PROG...]
set -u
mkdir -p build-asan
if ! make -s --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 shim >build-asan/shim-build.log 2>&1; then
	echo "not ok 1 - ASan build of the shim and selftests"
	tail -20 build-asan/shim-build.log | sed 's/^/#   /'
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SHIM_BUILD=build-asan exec "$(dirname "$0")/run-selftests.sh" "$@"
