#!/bin/bash
# SPDX-License-Identifier: MIT
# Decode speed of the emulated NPU backend against the CPU backend, on the
# same models and threads, on this machine (x86 here: the NPU is the
# simulator behind build/librocket-shim.so, not an RK3588).
#   scripts/bench-npu-emu.sh BUILD_DIR THREADS N_GEN ROUNDS MODEL...
# Per model: greedy generation of N_GEN tokens after a 5-token prompt, the
# two backends alternately ROUNDS times each so that machine load hits both
# alike; prints the median gen tok/s of each and the ratio npu/cpu against
# the goal of issue #8 (>= 0.5). Not a test: the numbers depend on the
# machine and on what else runs on it.
set -euo pipefail
BUILD=$1 T=$2 NG=$3 ROUNDS=$4
shift 4
GEN=$BUILD/rosenblatt-gen
SHIM=$(cd "$BUILD" && pwd)/librocket-shim.so
[ -x "$GEN" ] && [ -f "$SHIM" ] || { echo "bench-npu-emu: build first (make)" >&2; exit 1; }

gen_rate() {	# tok/s of one run from the timing line; fails loudly if absent
	local out rate
	out=$("$@" 2>&1 >/dev/null) || { echo "bench-npu-emu: failed: $*" >&2; echo "$out" >&2; exit 1; }
	rate=$(sed -n 's/.*| gen [0-9]* tok in [0-9.]* ms (\([0-9.]*\) tok\/s).*/\1/p' <<<"$out")
	[ -n "$rate" ] || { echo "bench-npu-emu: no timing line from: $*" >&2; exit 1; }
	echo "$rate"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

printf 'emulated NPU vs CPU decode: %s threads, %s tokens, median of %s alternating runs\n' "$T" "$NG" "$ROUNDS"
printf '%-28s %12s %12s %8s  %s\n' model "cpu tok/s" "npu tok/s" ratio "goal >= 0.5"
for m in "$@"; do
	[ -f "$m" ] || { printf '%-28s (missing: %s)\n' "$(basename "$m" .gguf)" "$m"; continue; }
	args=(-m "$m" --prompt-ids "1 2 3 4 5" -n "$NG" -c $((NG + 16)) --ignore-eos --temp 0 -t "$T")
	cpu=() npu=()
	for _ in $(seq "$ROUNDS"); do
		cpu+=("$(gen_rate "$GEN" "${args[@]}")")
		npu+=("$(LD_PRELOAD=$SHIM gen_rate "$GEN" "${args[@]}" --backend npu)")
	done
	c=$(median "${cpu[@]}") n=$(median "${npu[@]}")
	r=$(awk -v n="$n" -v c="$c" 'BEGIN { printf "%.2f", n / c }')
	ok=$(awk -v r="$r" 'BEGIN { print (r >= 0.5) ? "met" : "NOT met" }')
	printf '%-28s %12s %12s %7sx  %s\n' "$(basename "$m" .gguf)" "$c" "$n" "$r" "$ok"
done
