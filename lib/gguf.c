// SPDX-License-Identifier: MIT
/*
 * GGUF reader. The file is mapped read-only and parsed once, front to back,
 * by a cursor that checks every read against the file size. Everything the
 * accessors later hand out (strings, arrays, tensor data) was bounds-checked
 * here, so callers never see a pointer outside the mapping.
 */
#include "gguf.h"
#include "ggml_types.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper nesting than this is not used by any writer; refuse it so a
 * hostile file cannot exhaust the stack. */
#define GGUF_MAX_NESTING 8

struct cursor {
	const uint8_t *base;
	uint64_t size;
	uint64_t pos;
	const char *name;
	char *err;
	size_t err_len;
	bool failed;
};

static void fail_at(struct cursor *c, uint64_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return;
	c->failed = true;
	if (!c->err || !c->err_len)
		return;
	n = snprintf(c->err, c->err_len, "%s: offset %llu: ", c->name,
		     (unsigned long long)at);
	if (n < 0 || (size_t)n >= c->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->err_len - n, fmt, ap);
	va_end(ap);
}

static uint64_t remaining(const struct cursor *c)
{
	return c->size - c->pos;
}

static bool need(struct cursor *c, uint64_t n, const char *what)
{
	if (c->failed)
		return false;
	if (n > remaining(c)) {
		fail_at(c, c->pos, "truncated: %s needs %llu bytes, %llu left in file",
			what, (unsigned long long)n,
			(unsigned long long)remaining(c));
		return false;
	}
	return true;
}

/* The format is little-endian; assemble bytes so the host order never matters. */
static uint64_t load_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool rd(struct cursor *c, unsigned int n, uint64_t *v, const char *what)
{
	if (!need(c, n, what))
		return false;
	*v = load_le(c->base + c->pos, n);
	c->pos += n;
	return true;
}

static bool rd_u32(struct cursor *c, uint32_t *v, const char *what)
{
	uint64_t t;

	if (!rd(c, 4, &t, what))
		return false;
	*v = (uint32_t)t;
	return true;
}

static bool rd_u64(struct cursor *c, uint64_t *v, const char *what)
{
	return rd(c, 8, v, what);
}

static bool rd_str(struct cursor *c, struct gguf_str *s, const char *what)
{
	uint64_t at = c->pos;

	if (!rd_u64(c, &s->len, what))
		return false;
	if (s->len > remaining(c)) {
		fail_at(c, at, "%s: string length %llu exceeds the %llu bytes left in file",
			what, (unsigned long long)s->len,
			(unsigned long long)remaining(c));
		return false;
	}
	s->ptr = (const char *)c->base + c->pos;
	c->pos += s->len;
	return true;
}

static const uint8_t scalar_size[GGUF_TYPE_COUNT] = {
	[GGUF_TYPE_UINT8] = 1, [GGUF_TYPE_INT8] = 1,
	[GGUF_TYPE_UINT16] = 2, [GGUF_TYPE_INT16] = 2,
	[GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4,
	[GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1,
	[GGUF_TYPE_UINT64] = 8, [GGUF_TYPE_INT64] = 8,
	[GGUF_TYPE_FLOAT64] = 8,
};

static const char *const type_names[GGUF_TYPE_COUNT] = {
	[GGUF_TYPE_UINT8] = "u8", [GGUF_TYPE_INT8] = "i8",
	[GGUF_TYPE_UINT16] = "u16", [GGUF_TYPE_INT16] = "i16",
	[GGUF_TYPE_UINT32] = "u32", [GGUF_TYPE_INT32] = "i32",
	[GGUF_TYPE_FLOAT32] = "f32", [GGUF_TYPE_BOOL] = "bool",
	[GGUF_TYPE_STRING] = "str", [GGUF_TYPE_ARRAY] = "arr",
	[GGUF_TYPE_UINT64] = "u64", [GGUF_TYPE_INT64] = "i64",
	[GGUF_TYPE_FLOAT64] = "f64",
};

const char *gguf_type_name(enum gguf_type t)
{
	if ((unsigned int)t >= GGUF_TYPE_COUNT)
		return "invalid";
	return type_names[t];
}

/* Decode a scalar already known to be in bounds. */
static void decode_scalar(enum gguf_type t, const uint8_t *p, struct gguf_value *v)
{
	uint64_t raw = load_le(p, scalar_size[t]);
	union { uint32_t u; float f; } f32;
	union { uint64_t u; double f; } f64;

	v->type = t;
	switch (t) {
	case GGUF_TYPE_INT8:
		v->i64 = (int8_t)raw;
		break;
	case GGUF_TYPE_INT16:
		v->i64 = (int16_t)raw;
		break;
	case GGUF_TYPE_INT32:
		v->i64 = (int32_t)raw;
		break;
	case GGUF_TYPE_INT64:
		v->i64 = (int64_t)raw;
		break;
	case GGUF_TYPE_FLOAT32:
		f32.u = (uint32_t)raw;
		v->f64 = f32.f;
		break;
	case GGUF_TYPE_FLOAT64:
		f64.u = raw;
		v->f64 = f64.f;
		break;
	case GGUF_TYPE_BOOL:
		v->u64 = raw != 0;
		break;
	default:
		v->u64 = raw;
		break;
	}
}

static bool parse_value(struct cursor *c, enum gguf_type t, struct gguf_value *v,
			int depth, bool top);

/*
 * An array header (elem type, count) then its elements. Fixed-size elements
 * are checked in one go; strings and nested arrays are walked one by one.
 * For top-level arrays of variable-size elements an offset table is built so
 * element i is O(1) (the tokenizer reads 150k strings this way).
 */
static bool parse_array(struct cursor *c, struct gguf_array *a, int depth, bool top)
{
	uint64_t at = c->pos;
	uint32_t et;
	uint64_t *offs = NULL;

	memset(a, 0, sizeof(*a));
	if (depth >= GGUF_MAX_NESTING) {
		fail_at(c, at, "arrays nested deeper than %d levels", GGUF_MAX_NESTING);
		return false;
	}
	if (!rd_u32(c, &et, "array element type"))
		return false;
	if (et >= GGUF_TYPE_COUNT) {
		fail_at(c, at, "invalid array element type %u", et);
		return false;
	}
	if (!rd_u64(c, &a->count, "array length"))
		return false;
	a->elem_type = et;
	a->data = c->base + c->pos;

	if (et != GGUF_TYPE_STRING && et != GGUF_TYPE_ARRAY) {
		uint64_t bytes;

		if (__builtin_mul_overflow(a->count, (uint64_t)scalar_size[et], &bytes) ||
		    bytes > remaining(c)) {
			fail_at(c, at, "array of %llu %s elements exceeds the %llu bytes left in file",
				(unsigned long long)a->count, gguf_type_name(et),
				(unsigned long long)remaining(c));
			return false;
		}
		c->pos += bytes;
		a->size = bytes;
		return true;
	}

	/* Every string or array element takes at least 8 bytes: a cheap bound
	 * that keeps a forged count from driving a huge allocation. */
	if (a->count > remaining(c) / 8) {
		fail_at(c, at, "array of %llu %s elements cannot fit in the %llu bytes left in file",
			(unsigned long long)a->count, gguf_type_name(et),
			(unsigned long long)remaining(c));
		return false;
	}
	if (top && a->count) {
		offs = malloc(a->count * sizeof(*offs));
		if (!offs) {
			fail_at(c, at, "out of memory for %llu array offsets",
				(unsigned long long)a->count);
			return false;
		}
	}
	for (uint64_t i = 0; i < a->count; i++) {
		struct gguf_value tmp;

		if (offs)
			offs[i] = c->pos - (uint64_t)(a->data - c->base);
		if (!parse_value(c, et, &tmp, depth + 1, false)) {
			free(offs);
			return false;
		}
	}
	a->size = c->pos - (uint64_t)(a->data - c->base);
	a->offsets = offs;
	return true;
}

static bool parse_value(struct cursor *c, enum gguf_type t, struct gguf_value *v,
			int depth, bool top)
{
	memset(v, 0, sizeof(*v));
	v->type = t;
	if (t == GGUF_TYPE_STRING)
		return rd_str(c, &v->str, "string value");
	if (t == GGUF_TYPE_ARRAY)
		return parse_array(c, &v->arr, depth, top);
	if ((unsigned int)t >= GGUF_TYPE_COUNT) {
		fail_at(c, c->pos, "invalid value type %u", t);
		return false;
	}
	if (!need(c, scalar_size[t], gguf_type_name(t)))
		return false;
	decode_scalar(t, c->base + c->pos, v);
	c->pos += scalar_size[t];
	return true;
}

static bool str_eq(struct gguf_str a, struct gguf_str b)
{
	return a.len == b.len && !memcmp(a.ptr, b.ptr, a.len);
}

bool gguf_str_eq(struct gguf_str s, const char *cstr)
{
	size_t n = strlen(cstr);

	return s.len == n && !memcmp(s.ptr, cstr, n);
}

static void free_ctx(struct gguf_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->kv)
		for (uint64_t i = 0; i < ctx->n_kv; i++)
			if (ctx->kv[i].val.type == GGUF_TYPE_ARRAY)
				free((void *)ctx->kv[i].val.arr.offsets);
	free(ctx->kv);
	free(ctx->tensors);
	if (ctx->mapped && ctx->base)
		munmap((void *)ctx->base, ctx->size);
	free(ctx->path);
	free(ctx);
}

void gguf_close(struct gguf_ctx *ctx)
{
	free_ctx(ctx);
}

static bool parse_kvs(struct gguf_ctx *ctx, struct cursor *c)
{
	/* A kv takes at least 8 (key length) + 4 (type) + 1 bytes. */
	if (ctx->n_kv > remaining(c) / 13) {
		fail_at(c, 16, "metadata count %llu cannot fit in a %llu-byte file",
			(unsigned long long)ctx->n_kv, (unsigned long long)c->size);
		return false;
	}
	ctx->kv = calloc(ctx->n_kv ? ctx->n_kv : 1, sizeof(*ctx->kv));
	if (!ctx->kv) {
		fail_at(c, c->pos, "out of memory for %llu metadata entries",
			(unsigned long long)ctx->n_kv);
		return false;
	}
	for (uint64_t i = 0; i < ctx->n_kv; i++) {
		struct gguf_kv *kv = &ctx->kv[i];
		uint64_t type_at;
		uint32_t t;

		kv->file_offset = c->pos;
		if (!rd_str(c, &kv->key, "metadata key"))
			return false;
		for (uint64_t j = 0; j < i; j++) {
			if (str_eq(ctx->kv[j].key, kv->key)) {
				fail_at(c, kv->file_offset, "duplicate metadata key '%.*s'",
					(int)(kv->key.len > 200 ? 200 : kv->key.len), kv->key.ptr);
				return false;
			}
		}
		type_at = c->pos;
		if (!rd_u32(c, &t, "metadata value type"))
			return false;
		if (t >= GGUF_TYPE_COUNT) {
			fail_at(c, type_at, "metadata key '%.*s' has invalid value type %u",
				(int)(kv->key.len > 200 ? 200 : kv->key.len), kv->key.ptr, t);
			return false;
		}
		/* The value's type tag is committed only once parsed, so
		 * free_ctx never frees a half-built offset table. */
		if (!parse_value(c, t, &kv->val, 0, true)) {
			kv->val.type = GGUF_TYPE_UINT8;
			return false;
		}
	}
	return true;
}

static bool parse_alignment(struct gguf_ctx *ctx, struct cursor *c)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, "general.alignment");

	ctx->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (!kv)
		return true;
	if (kv->val.type != GGUF_TYPE_UINT32) {
		fail_at(c, kv->file_offset, "general.alignment has type %s, expected u32",
			gguf_type_name(kv->val.type));
		return false;
	}
	if (!kv->val.u64 || (kv->val.u64 & (kv->val.u64 - 1))) {
		fail_at(c, kv->file_offset, "general.alignment %llu is not a power of two",
			(unsigned long long)kv->val.u64);
		return false;
	}
	ctx->alignment = kv->val.u64;
	return true;
}

static bool parse_tensor_infos(struct gguf_ctx *ctx, struct cursor *c)
{
	/* A tensor info takes at least 8 + 4 + 4 + 8 bytes. */
	if (ctx->n_tensors > remaining(c) / 24) {
		fail_at(c, 8, "tensor count %llu cannot fit in a %llu-byte file",
			(unsigned long long)ctx->n_tensors, (unsigned long long)c->size);
		return false;
	}
	ctx->tensors = calloc(ctx->n_tensors ? ctx->n_tensors : 1, sizeof(*ctx->tensors));
	if (!ctx->tensors) {
		fail_at(c, c->pos, "out of memory for %llu tensor infos",
			(unsigned long long)ctx->n_tensors);
		return false;
	}
	for (uint64_t i = 0; i < ctx->n_tensors; i++) {
		struct gguf_tensor *t = &ctx->tensors[i];
		uint64_t at = c->pos, field_at;
		const struct ggml_type_info *ti;
		int nl;

		if (!rd_str(c, &t->name, "tensor name"))
			return false;
		nl = (int)(t->name.len > 200 ? 200 : t->name.len);
		field_at = c->pos;
		if (!rd_u32(c, &t->n_dims, "tensor dimension count"))
			return false;
		if (t->n_dims > GGUF_MAX_DIMS) {
			fail_at(c, field_at, "tensor '%.*s' has %u dimensions, at most %d supported",
				nl, t->name.ptr, t->n_dims, GGUF_MAX_DIMS);
			return false;
		}
		t->n_elements = 1;
		for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
			t->ne[d] = 1;
			if (d >= t->n_dims)
				continue;
			field_at = c->pos;
			if (!rd_u64(c, &t->ne[d], "tensor dimension"))
				return false;
			/* ggml keeps dims as int64_t: stay within its range. */
			if (t->ne[d] > INT64_MAX ||
			    __builtin_mul_overflow(t->n_elements, t->ne[d], &t->n_elements) ||
			    t->n_elements > INT64_MAX) {
				fail_at(c, field_at, "tensor '%.*s': element count overflows",
					nl, t->name.ptr);
				return false;
			}
		}
		field_at = c->pos;
		if (!rd_u32(c, &t->type, "tensor type"))
			return false;
		ti = ggml_type_info(t->type);
		if (!ti) {
			fail_at(c, field_at, "tensor '%.*s' has unknown type %u",
				nl, t->name.ptr, t->type);
			return false;
		}
		if (t->ne[0] % ti->block_size) {
			fail_at(c, field_at, "tensor '%.*s': row length %llu is not a multiple of the %s block size %u",
				nl, t->name.ptr, (unsigned long long)t->ne[0], ti->name,
				ti->block_size);
			return false;
		}
		if (!ggml_row_size(t->type, t->ne[0], &t->nbytes) ||
		    __builtin_mul_overflow(t->nbytes, t->ne[1], &t->nbytes) ||
		    __builtin_mul_overflow(t->nbytes, t->ne[2], &t->nbytes) ||
		    __builtin_mul_overflow(t->nbytes, t->ne[3], &t->nbytes)) {
			fail_at(c, field_at, "tensor '%.*s': byte size overflows",
				nl, t->name.ptr);
			return false;
		}
		field_at = c->pos;
		if (!rd_u64(c, &t->offset, "tensor data offset"))
			return false;
		for (uint64_t j = 0; j < i; j++) {
			if (str_eq(ctx->tensors[j].name, t->name)) {
				fail_at(c, at, "duplicate tensor name '%.*s'", nl, t->name.ptr);
				return false;
			}
		}
		(void)field_at;
	}
	return true;
}

static bool place_tensors(struct gguf_ctx *ctx, struct cursor *c)
{
	uint64_t pad = (ctx->alignment - c->pos % ctx->alignment) % ctx->alignment;

	/* With no tensors a writer may end the file right after the infos. */
	if (!ctx->n_tensors && pad > remaining(c)) {
		ctx->data_offset = c->size;
		ctx->data_size = 0;
		return true;
	}
	if (pad > remaining(c)) {
		fail_at(c, c->pos, "truncated: data section (aligned to %llu) starts past the end of the file",
			(unsigned long long)ctx->alignment);
		return false;
	}
	ctx->data_offset = c->pos + pad;
	ctx->data_size = c->size - ctx->data_offset;
	for (uint64_t i = 0; i < ctx->n_tensors; i++) {
		struct gguf_tensor *t = &ctx->tensors[i];
		int nl = (int)(t->name.len > 200 ? 200 : t->name.len);
		uint64_t end;

		if (t->offset % ctx->alignment) {
			fail_at(c, ctx->data_offset, "tensor '%.*s': data offset %llu is not a multiple of the alignment %llu",
				nl, t->name.ptr, (unsigned long long)t->offset,
				(unsigned long long)ctx->alignment);
			return false;
		}
		if (__builtin_add_overflow(t->offset, t->nbytes, &end) ||
		    end > ctx->data_size) {
			fail_at(c, ctx->data_offset, "tensor '%.*s': data [%llu, +%llu) runs past the end of the data section (%llu bytes); file truncated?",
				nl, t->name.ptr, (unsigned long long)t->offset,
				(unsigned long long)t->nbytes,
				(unsigned long long)ctx->data_size);
			return false;
		}
		t->data = c->base + ctx->data_offset + t->offset;
	}
	return true;
}

static struct gguf_ctx *parse(struct gguf_ctx *ctx, char *err, size_t err_len)
{
	struct cursor c = {
		.base = ctx->base, .size = ctx->size, .name = ctx->path,
		.err = err, .err_len = err_len,
	};
	uint32_t magic;

	if (err && err_len)
		err[0] = '\0';
	if (!rd_u32(&c, &magic, "magic"))
		goto fail;
	if (magic != GGUF_MAGIC) {
		fail_at(&c, 0, "not a GGUF file (magic %02x %02x %02x %02x)",
			ctx->base[0], ctx->base[1], ctx->base[2], ctx->base[3]);
		goto fail;
	}
	if (!rd_u32(&c, &ctx->version, "version"))
		goto fail;
	if (ctx->version == 1) {
		fail_at(&c, 4, "GGUF version 1 is not supported (only 2 and 3)");
		goto fail;
	}
	if (ctx->version != 2 && ctx->version != 3) {
		/* A byte-swapped small number means a big-endian file. */
		if (!(ctx->version & 0xffff) && __builtin_bswap32(ctx->version) <= 3)
			fail_at(&c, 4, "big-endian GGUF files are not supported");
		else
			fail_at(&c, 4, "unsupported GGUF version %u (only 2 and 3)",
				ctx->version);
		goto fail;
	}
	if (!rd_u64(&c, &ctx->n_tensors, "tensor count") ||
	    !rd_u64(&c, &ctx->n_kv, "metadata count"))
		goto fail;
	if (!parse_kvs(ctx, &c) || !parse_alignment(ctx, &c) ||
	    !parse_tensor_infos(ctx, &c) || !place_tensors(ctx, &c))
		goto fail;
	return ctx;
fail:
	/* Counts beyond what was allocated must not reach free_ctx. */
	if (!ctx->kv)
		ctx->n_kv = 0;
	free_ctx(ctx);
	return NULL;
}

static struct gguf_ctx *new_ctx(const char *name, char *err, size_t err_len)
{
	struct gguf_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx)
		ctx->path = strdup(name);
	if (!ctx || !ctx->path) {
		if (err && err_len)
			snprintf(err, err_len, "%s: out of memory", name);
		free(ctx);
		return NULL;
	}
	return ctx;
}

struct gguf_ctx *gguf_open_mem(const void *buf, size_t size, const char *name,
			       char *err, size_t err_len)
{
	struct gguf_ctx *ctx = new_ctx(name, err, err_len);

	if (!ctx)
		return NULL;
	ctx->base = buf;
	ctx->size = size;
	return parse(ctx, err, err_len);
}

struct gguf_ctx *gguf_open(const char *path, char *err, size_t err_len)
{
	struct gguf_ctx *ctx;
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_size == 0) {
		snprintf(err, err_len, "%s: offset 0: file is empty", path);
		close(fd);
		return NULL;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, err_len, "%s: cannot mmap: %s", path, strerror(errno));
		return NULL;
	}
	ctx = new_ctx(path, err, err_len);
	if (!ctx) {
		munmap(map, st.st_size);
		return NULL;
	}
	ctx->base = map;
	ctx->size = st.st_size;
	ctx->mapped = true;
	return parse(ctx, err, err_len);
}

const struct gguf_kv *gguf_find_kv(const struct gguf_ctx *ctx, const char *key)
{
	for (uint64_t i = 0; i < ctx->n_kv; i++)
		if (gguf_str_eq(ctx->kv[i].key, key))
			return &ctx->kv[i];
	return NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_ctx *ctx, const char *name)
{
	for (uint64_t i = 0; i < ctx->n_tensors; i++)
		if (gguf_str_eq(ctx->tensors[i].name, name))
			return &ctx->tensors[i];
	return NULL;
}

static bool is_unsigned(enum gguf_type t)
{
	return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 ||
	       t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_UINT64;
}

static bool is_signed(enum gguf_type t)
{
	return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 ||
	       t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

bool gguf_get_u64(const struct gguf_ctx *ctx, const char *key, uint64_t *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv)
		return false;
	if (is_unsigned(kv->val.type)) {
		*out = kv->val.u64;
		return true;
	}
	if (is_signed(kv->val.type) && kv->val.i64 >= 0) {
		*out = (uint64_t)kv->val.i64;
		return true;
	}
	return false;
}

bool gguf_get_u32(const struct gguf_ctx *ctx, const char *key, uint32_t *out)
{
	uint64_t v;

	if (!gguf_get_u64(ctx, key, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool gguf_get_i64(const struct gguf_ctx *ctx, const char *key, int64_t *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv)
		return false;
	if (is_signed(kv->val.type)) {
		*out = kv->val.i64;
		return true;
	}
	if (is_unsigned(kv->val.type) && kv->val.u64 <= INT64_MAX) {
		*out = (int64_t)kv->val.u64;
		return true;
	}
	return false;
}

bool gguf_get_f64(const struct gguf_ctx *ctx, const char *key, double *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv || (kv->val.type != GGUF_TYPE_FLOAT32 &&
		    kv->val.type != GGUF_TYPE_FLOAT64))
		return false;
	*out = kv->val.f64;
	return true;
}

bool gguf_get_f32(const struct gguf_ctx *ctx, const char *key, float *out)
{
	double d;

	if (!gguf_get_f64(ctx, key, &d))
		return false;
	*out = (float)d;
	return true;
}

bool gguf_get_bool(const struct gguf_ctx *ctx, const char *key, bool *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv || kv->val.type != GGUF_TYPE_BOOL)
		return false;
	*out = kv->val.u64 != 0;
	return true;
}

bool gguf_get_str(const struct gguf_ctx *ctx, const char *key, struct gguf_str *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv || kv->val.type != GGUF_TYPE_STRING)
		return false;
	*out = kv->val.str;
	return true;
}

bool gguf_get_arr(const struct gguf_ctx *ctx, const char *key,
		  enum gguf_type elem_type, struct gguf_array *out)
{
	const struct gguf_kv *kv = gguf_find_kv(ctx, key);

	if (!kv || kv->val.type != GGUF_TYPE_ARRAY)
		return false;
	if (elem_type != GGUF_TYPE_COUNT && kv->val.arr.elem_type != elem_type)
		return false;
	*out = kv->val.arr;
	return true;
}

bool gguf_arr_get(const struct gguf_array *arr, uint64_t i, struct gguf_value *out)
{
	struct cursor c;

	if (i >= arr->count)
		return false;
	if (arr->elem_type != GGUF_TYPE_STRING && arr->elem_type != GGUF_TYPE_ARRAY) {
		decode_scalar(arr->elem_type,
			      arr->data + i * scalar_size[arr->elem_type], out);
		return true;
	}
	/* Re-walk within the array's own bytes, which were validated at open. */
	c = (struct cursor){ .base = arr->data, .size = arr->size, .name = "" };
	if (arr->offsets) {
		c.pos = arr->offsets[i];
	} else {
		for (uint64_t j = 0; j < i; j++) {
			struct gguf_value skip;

			if (!parse_value(&c, arr->elem_type, &skip, 0, false))
				return false;
		}
	}
	return parse_value(&c, arr->elem_type, out, 0, false);
}
