#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make calibrate`: measure the performance model's unit times on the NPU
# (build/npu-calibrate), then print the model's Qwen2.5-1.5B and SmolLM2
# predictions with those measurements instead of the assumptions.
# usage: scripts/calibrate.sh BUILD_DIR EMULATE [npu-calibrate options...]
# EMULATE non-empty: on the emulated device (LD_PRELOAD librocket-shim.so).
set -euo pipefail
build=$1
emulate=$2
shift 2
preload=${LD_PRELOAD:-}
if [ -n "$emulate" ]; then
	. "$(dirname "$0")/shim-preload.sh"
	preload=$(shim_preload "$build/librocket-shim.so")
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
# the preload for npu-calibrate alone (an ASan runtime would check tee and sed too)
if ! LD_PRELOAD=$preload "$build/npu-calibrate" "$@" | tee "$report"; then
	echo "calibrate: no measurement. On boltzmann this needs the rocket driver with the" >&2
	echo "Rosenblatt series; to try the tools on the emulated device: make calibrate CALIBRATE_EMU=1" >&2
	exit 1
fi
flags=$(sed -n '/^npu-perf-model flags:$/{n;p;}' "$report")
device=$(sed -n '1s/^npu-calibrate: \(.*\), [0-9]* runs per probe.*$/\1/p' "$report")
if [ -z "$flags" ] || [ -z "$device" ]; then
	echo "calibrate: npu-calibrate's report has no flags line" >&2
	exit 1
fi
for model in qwen2.5-1.5b smollm2-135m; do
	echo
	# shellcheck disable=SC2086 # the flags are words
	"$build/npu-perf-model" --model "$model" --calibrated "$device" $flags
done
