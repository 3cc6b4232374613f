// SPDX-License-Identifier: MIT
/*
 * gguf-info: print a GGUF file's header, metadata and tensor table.
 * Exit status: 0 on success, 1 when the file is unreadable or corrupt
 * (one line on stderr saying where and what), 2 on a usage error.
 */
#include "ggml_types.h"
#include "gguf.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
	bool metadata;
	bool tensors;
	bool full;
	uint64_t max_elems;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gguf-info [OPTIONS] FILE.gguf\n"
		"Print the header, metadata and tensor table of a GGUF (v2/v3) file.\n"
		"\n"
		"  -m, --metadata-only   print only the header and metadata\n"
		"  -t, --tensors-only    print only the header and tensors\n"
		"  -a, --all             print every array element and whole strings\n"
		"                        (default: first 8 elements, strings cut at 80 bytes)\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 ok, 1 unreadable or corrupt file (one error line on stderr),\n"
		"2 usage error.\n");
}

/* Strings may hold any bytes: show printable ASCII and UTF-8 as is,
 * escape control bytes so the output stays one line per entry. */
static void print_str(struct gguf_str s, const struct opts *o)
{
	uint64_t n = s.len;
	bool cut = false;

	if (!o->full && n > 80) {
		n = 80;
		cut = true;
	}
	putchar('"');
	for (uint64_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	putchar('"');
	if (cut)
		printf("...(%llu bytes)", (unsigned long long)s.len);
}

static void print_value(const struct gguf_value *v, const struct opts *o);

static void print_array(const struct gguf_array *a, const struct opts *o)
{
	uint64_t shown = a->count;

	if (!o->full && shown > o->max_elems)
		shown = o->max_elems;
	printf("[");
	for (uint64_t i = 0; i < shown; i++) {
		struct gguf_value e;

		if (i)
			printf(", ");
		if (!gguf_arr_get(a, i, &e)) {
			printf("?");
			continue;
		}
		print_value(&e, o);
	}
	if (shown < a->count)
		printf(", ... %llu more", (unsigned long long)(a->count - shown));
	printf("]");
}

static void print_value(const struct gguf_value *v, const struct opts *o)
{
	switch (v->type) {
	case GGUF_TYPE_UINT8:
	case GGUF_TYPE_UINT16:
	case GGUF_TYPE_UINT32:
	case GGUF_TYPE_UINT64:
		printf("%llu", (unsigned long long)v->u64);
		break;
	case GGUF_TYPE_INT8:
	case GGUF_TYPE_INT16:
	case GGUF_TYPE_INT32:
	case GGUF_TYPE_INT64:
		printf("%lld", (long long)v->i64);
		break;
	case GGUF_TYPE_FLOAT32:
	case GGUF_TYPE_FLOAT64:
		printf("%.9g", v->f64);
		break;
	case GGUF_TYPE_BOOL:
		printf("%s", v->u64 ? "true" : "false");
		break;
	case GGUF_TYPE_STRING:
		print_str(v->str, o);
		break;
	case GGUF_TYPE_ARRAY:
		print_array(&v->arr, o);
		break;
	default:
		printf("?");
		break;
	}
}

static void print_metadata(const struct gguf_ctx *ctx, const struct opts *o)
{
	printf("* Metadata: %llu entries\n", (unsigned long long)ctx->n_kv);
	for (uint64_t i = 0; i < ctx->n_kv; i++) {
		const struct gguf_kv *kv = &ctx->kv[i];
		char type[32];

		if (kv->val.type == GGUF_TYPE_ARRAY)
			snprintf(type, sizeof(type), "arr[%s,%llu]",
				 gguf_type_name(kv->val.arr.elem_type),
				 (unsigned long long)kv->val.arr.count);
		else
			snprintf(type, sizeof(type), "%s", gguf_type_name(kv->val.type));
		printf("%5llu: %-16s %.*s = ", (unsigned long long)i + 1, type,
		       (int)(kv->key.len > 256 ? 256 : kv->key.len), kv->key.ptr);
		print_value(&kv->val, o);
		putchar('\n');
	}
}

static void print_tensors(const struct gguf_ctx *ctx)
{
	uint64_t total = 0, elems = 0;

	printf("* Tensors: %llu\n", (unsigned long long)ctx->n_tensors);
	printf("%5s  %-40s %-28s %-8s %14s %12s\n", "#", "name", "shape (ne0 first)",
	       "type", "offset", "bytes");
	for (uint64_t i = 0; i < ctx->n_tensors; i++) {
		const struct gguf_tensor *t = &ctx->tensors[i];
		char shape[96];
		int n = 0;

		shape[0] = '\0';
		for (uint32_t d = 0; d < t->n_dims && n < (int)sizeof(shape); d++)
			n += snprintf(shape + n, sizeof(shape) - n, "%s%llu",
				      d ? " x " : "", (unsigned long long)t->ne[d]);
		printf("%5llu  %-40.*s %-28s %-8s %14llu %12llu\n",
		       (unsigned long long)i + 1,
		       (int)(t->name.len > 200 ? 200 : t->name.len), t->name.ptr,
		       t->n_dims ? shape : "(scalar)", ggml_type_name(t->type),
		       (unsigned long long)t->offset, (unsigned long long)t->nbytes);
		total += t->nbytes;
		elems += t->n_elements;
	}
	printf("* Total: %llu elements, %llu bytes of tensor data\n",
	       (unsigned long long)elems, (unsigned long long)total);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "metadata-only", no_argument, NULL, 'm' },
		{ "tensors-only", no_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .metadata = true, .tensors = true, .max_elems = 8 };
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;
	int c;

	while ((c = getopt_long(argc, argv, "mtah", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.tensors = false;
			break;
		case 't':
			o.metadata = false;
			break;
		case 'a':
			o.full = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "gguf-info: expected exactly one FILE argument (see --help)\n");
		return 2;
	}
	ctx = gguf_open(argv[optind], err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "gguf-info: %s\n", err);
		return 1;
	}
	printf("* File: %s: GGUF v%u, %llu bytes, %llu tensors, %llu metadata entries, alignment %llu, data at offset %llu\n",
	       ctx->path, ctx->version, (unsigned long long)ctx->size,
	       (unsigned long long)ctx->n_tensors, (unsigned long long)ctx->n_kv,
	       (unsigned long long)ctx->alignment,
	       (unsigned long long)ctx->data_offset);
	if (o.metadata)
		print_metadata(ctx, &o);
	if (o.tensors)
		print_tensors(ctx);
	gguf_close(ctx);
	return fflush(stdout) ? 1 : 0;
}
