// SPDX-License-Identifier: MIT
/*
 * Test helper: dump everything the GGUF reader parsed as JSON, for
 * tests/gguf_ref_test.py to compare with the gguf Python package.
 * Strings are hex so any bytes survive; floats are C99 hex floats (exact).
 * On a parse error prints {"error": "..."} and exits 1.
 */
#include "gguf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void hex(const void *p, uint64_t n)
{
	const unsigned char *b = p;

	putchar('"');
	for (uint64_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('"');
}

static void value(const struct gguf_value *v)
{
	switch (v->type) {
	case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32:
	case GGUF_TYPE_UINT64: case GGUF_TYPE_BOOL:
		printf("%llu", (unsigned long long)v->u64);
		break;
	case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32:
	case GGUF_TYPE_INT64:
		printf("%lld", (long long)v->i64);
		break;
	case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64:
		if (isnan(v->f64))
			printf("\"nan\"");
		else if (isinf(v->f64))
			printf("\"%sinf\"", v->f64 < 0 ? "-" : "");
		else
			printf("\"%a\"", v->f64);
		break;
	case GGUF_TYPE_STRING:
		hex(v->str.ptr, v->str.len);
		break;
	case GGUF_TYPE_ARRAY:
		printf("{\"elem\": %d, \"items\": [", v->arr.elem_type);
		for (uint64_t i = 0; i < v->arr.count; i++) {
			struct gguf_value e;

			if (i)
				putchar(',');
			if (!gguf_arr_get(&v->arr, i, &e)) {
				printf("\"<bad element>\"");
				continue;
			}
			value(&e);
		}
		printf("]}");
		break;
	default:
		printf("null");
	}
}

static uint64_t fnv1a(const unsigned char *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Lookup by C string must find each tensor (names hold no NUL in the tests). */
static int find_by_cstr(const struct gguf_ctx *ctx, const struct gguf_tensor *t)
{
	char name[1024];

	if (t->name.len >= sizeof(name))
		return 0;
	memcpy(name, t->name.ptr, t->name.len);
	name[t->name.len] = '\0';
	return gguf_find_tensor(ctx, name) == t;
}

int main(int argc, char **argv)
{
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;

	if (argc != 2) {
		fprintf(stderr, "usage: gguf_dump FILE\n");
		return 2;
	}
	ctx = gguf_open(argv[1], err, sizeof(err));
	if (!ctx) {
		printf("{\"error\": ");
		hex(err, strlen(err));
		printf("}\n");
		return 1;
	}
	printf("{\"version\": %u, \"alignment\": %llu, \"data_offset\": %llu, \"kv\": [",
	       ctx->version, (unsigned long long)ctx->alignment,
	       (unsigned long long)ctx->data_offset);
	for (uint64_t i = 0; i < ctx->n_kv; i++) {
		printf("%s[", i ? ",\n" : "\n");
		hex(ctx->kv[i].key.ptr, ctx->kv[i].key.len);
		printf(", %d, ", ctx->kv[i].val.type);
		value(&ctx->kv[i].val);
		printf("]");
	}
	printf("], \"tensors\": [");
	for (uint64_t i = 0; i < ctx->n_tensors; i++) {
		const struct gguf_tensor *t = &ctx->tensors[i];
		printf("%s{\"name\": ", i ? ",\n" : "\n");
		hex(t->name.ptr, t->name.len);
		printf(", \"ne\": [%llu, %llu, %llu, %llu], \"n_dims\": %u, \"type\": %u, \"offset\": %llu, \"nbytes\": %llu, \"fnv\": \"%016llx\", \"found\": %d}",
		       (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
		       (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
		       t->n_dims, t->type, (unsigned long long)t->offset,
		       (unsigned long long)t->nbytes,
		       (unsigned long long)fnv1a(t->data, t->nbytes),
		       find_by_cstr(ctx, t));
	}
	printf("]}\n");
	gguf_close(ctx);
	return 0;
}
