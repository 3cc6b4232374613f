// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the tokenizer: encode arbitrary bytes (every
 * pre-tokenizer, added tokens on and off), decode arbitrary id lists, and
 * the streaming decoder, on small in-memory vocabularies (no file I/O).
 * The checks are in tokenizer_fuzz.h, which tests/test_tokenizer.c also
 * uses to replay fuzz/corpus/tokenizer and fuzz/regressions/tokenizer.
 */
#include "tokenizer_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad = tokenizer_fuzz_one(data, size);

	if (bad) {
		fprintf(stderr, "tokenizer_fuzz: %s\n", bad);
		abort();
	}
	return 0;
}
