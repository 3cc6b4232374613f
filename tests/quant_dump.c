// SPDX-License-Identifier: MIT
/*
 * Helper for tests/quant_ref_test.py: runs our C (de)quantisation over raw
 * bytes on stdin and writes the raw result to stdout.
 *   quant_dump deq TYPE   stdin: blocks of TYPE   stdout: float32 values
 *   quant_dump q TYPE     stdin: float32 values   stdout: blocks of TYPE
 * TYPE is the ggml_type number. Exit status 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"
#include "quant.h"

static unsigned char *read_all(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, stdin);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	const struct ggml_type_info *ti;
	unsigned char *in;
	void *out;
	size_t len, out_len;
	uint32_t type;
	int64_t n;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "deq") && strcmp(argv[1], "q"))) {
		fprintf(stderr, "usage: quant_dump deq|q TYPE < in > out\n");
		return 2;
	}
	type = (uint32_t)strtoul(argv[2], NULL, 0);
	ti = ggml_type_info(type);
	if (!ti || !ti->block_size) {
		fprintf(stderr, "quant_dump: unknown type %s\n", argv[2]);
		return 2;
	}
	in = read_all(&len);
	if (!in)
		return 1;
	if (!strcmp(argv[1], "deq")) {
		if (len % ti->type_size) {
			fprintf(stderr, "quant_dump: %zu bytes is not whole blocks\n", len);
			return 1;
		}
		n = (int64_t)(len / ti->type_size) * ti->block_size;
		out_len = (size_t)n * sizeof(float);
		out = malloc(out_len ? out_len : 1);
		rc = out ? dequantize_row(type, in, out, n) : -1;
	} else {
		if (len % (sizeof(float) * ti->block_size)) {
			fprintf(stderr, "quant_dump: %zu bytes is not whole blocks\n", len);
			return 1;
		}
		n = (int64_t)(len / sizeof(float));
		out_len = (size_t)n / ti->block_size * ti->type_size;
		/* zeroed: ggml leaves some bytes unwritten (Q8_K bsums of zero blocks) */
		out = calloc(1, out_len ? out_len : 1);
		rc = out ? quantize_row(type, (const float *)in, out, n) : -1;
	}
	if (rc) {
		fprintf(stderr, "quant_dump: type %u not supported\n", type);
		return 1;
	}
	if (fwrite(out, 1, out_len, stdout) != out_len)
		return 1;
	free(in);
	free(out);
	return 0;
}
