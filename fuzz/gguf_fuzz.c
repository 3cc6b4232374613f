// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the GGUF reader: parse the input as a file and walk
 * everything the accessors expose, so a bad bound anywhere shows under ASan.
 */
#include "gguf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static volatile uint64_t sink;

static void touch_value(const struct gguf_value *v, int depth)
{
	if (v->type == GGUF_TYPE_STRING) {
		for (uint64_t i = 0; i < v->str.len; i++)
			sink += (unsigned char)v->str.ptr[i];
	} else if (v->type == GGUF_TYPE_ARRAY && depth < 4) {
		for (uint64_t i = 0; i < v->arr.count && i < 256; i++) {
			struct gguf_value e;

			if (gguf_arr_get(&v->arr, i, &e))
				touch_value(&e, depth + 1);
		}
	} else {
		sink += v->u64;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx = gguf_open_mem(data, size, "fuzz", err, sizeof(err));

	if (!ctx)
		return 0;
	for (uint64_t i = 0; i < ctx->n_kv; i++)
		touch_value(&ctx->kv[i].val, 0);
	for (uint64_t i = 0; i < ctx->n_tensors; i++) {
		const struct gguf_tensor *t = &ctx->tensors[i];

		if (t->nbytes)
			sink += ((const uint8_t *)t->data)[0] +
				((const uint8_t *)t->data)[t->nbytes - 1];
	}
	gguf_close(ctx);
	return 0;
}
