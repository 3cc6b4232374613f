// SPDX-License-Identifier: MIT
/*
 * GGUF reader unit tests: hand-built files, one per way a file can be
 * wrong, each expecting a clean error that names the offset and the cause;
 * the getters; and the fuzzer's regression corpus (fuzz/corpus/gguf), which
 * must load or fail cleanly without a crash or an ASan report.
 */
#include "gguf.h"
#include "ggml_types.h"
#include "tap.h"
#include "corpus.h"

#include <string.h>

struct buf {
	uint8_t d[8192];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->d))
		abort();
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(b, x, 4);
}

static void u64(struct buf *b, uint64_t v)
{
	u32(b, (uint32_t)v);
	u32(b, (uint32_t)(v >> 32));
}

static void str(struct buf *b, const char *s)
{
	u64(b, strlen(s));
	put(b, s, strlen(s));
}

static void header(struct buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	b->n = 0;
	u32(b, GGUF_MAGIC);
	u32(b, version);
	u64(b, n_tensors);
	u64(b, n_kv);
}

static void pad_to(struct buf *b, size_t align)
{
	while (b->n % align)
		put(b, "", 1);
}

/* A valid file: kvs of several types, one F32 tensor [4 x 2]. */
static void valid_file(struct buf *b, uint32_t version)
{
	header(b, version, 1, 4);
	str(b, "general.architecture");
	u32(b, GGUF_TYPE_STRING);
	str(b, "qwen2");
	str(b, "qwen2.block_count");
	u32(b, GGUF_TYPE_UINT32);
	u32(b, 24);
	str(b, "tokenizer.ggml.tokens");
	u32(b, GGUF_TYPE_ARRAY);
	u32(b, GGUF_TYPE_STRING);
	u64(b, 3);
	str(b, "a");
	str(b, "bc");
	str(b, "");
	str(b, "f");
	u32(b, GGUF_TYPE_FLOAT32);
	u32(b, 0x3fc00000);	/* 1.5f */
	str(b, "w");
	u32(b, 2);
	u64(b, 4);
	u64(b, 2);
	u32(b, GGML_TYPE_F32);
	u64(b, 0);
	pad_to(b, 32);
	for (int i = 0; i < 8; i++)
		u32(b, 0x3f800000);
}

static struct gguf_ctx *open_buf(const struct buf *b, char *err)
{
	return gguf_open_mem(b->d, b->n, "mem.gguf", err, GGUF_ERR_LEN);
}

static void test_valid_v2_v3(void)
{
	for (uint32_t v = 2; v <= 3; v++) {
		struct buf b;
		char err[GGUF_ERR_LEN];
		struct gguf_ctx *ctx;
		const struct gguf_tensor *t;
		struct gguf_array arr;
		struct gguf_value e;
		struct gguf_str s;
		uint32_t n;
		float f;

		valid_file(&b, v);
		ctx = open_buf(&b, err);
		CHECKF(ctx, "v%u: %s", v, err);
		if (!ctx)
			continue;
		CHECK_EQ_INT(ctx->version, v);
		CHECK_EQ_INT(ctx->n_kv, 4);
		CHECK_EQ_INT(ctx->alignment, 32);
		CHECK(gguf_get_str(ctx, "general.architecture", &s) && gguf_str_eq(s, "qwen2"));
		CHECK(gguf_get_u32(ctx, "qwen2.block_count", &n) && n == 24);
		CHECK(gguf_get_f32(ctx, "f", &f) && f == 1.5f);
		CHECK(!gguf_get_u32(ctx, "f", &n));	/* wrong type */
		CHECK(!gguf_get_u32(ctx, "missing", &n));
		CHECK(gguf_get_arr(ctx, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &arr));
		CHECK(!gguf_get_arr(ctx, "tokenizer.ggml.tokens", GGUF_TYPE_INT32, &arr));
		CHECK_EQ_INT(arr.count, 3);
		CHECK(gguf_arr_get(&arr, 1, &e) && gguf_str_eq(e.str, "bc"));
		CHECK(gguf_arr_get(&arr, 2, &e) && e.str.len == 0);
		CHECK(!gguf_arr_get(&arr, 3, &e));
		t = gguf_find_tensor(ctx, "w");
		CHECK(t && t->ne[0] == 4 && t->ne[1] == 2 && t->nbytes == 32);
		CHECK(t && ((const float *)t->data)[7] == 1.0f);
		CHECK(!gguf_find_tensor(ctx, "x"));
		gguf_close(ctx);
	}
}

/* Each case edits a valid file and names the text the error must contain. */
struct corrupt_case {
	const char *name;
	void (*make)(struct buf *b);
	const char *expect;
};

static void c_magic(struct buf *b) { valid_file(b, 3); b->d[0] = 'X'; }
static void c_v1(struct buf *b) { valid_file(b, 3); b->d[4] = 1; }
static void c_v9(struct buf *b) { valid_file(b, 3); b->d[4] = 9; }
static void c_bigendian(struct buf *b) { valid_file(b, 3); b->d[4] = 0; b->d[7] = 3; }
static void c_kv_count(struct buf *b) { header(b, 3, 0, 1ull << 60); }
static void c_tensor_count(struct buf *b) { header(b, 3, 1ull << 62, 0); }

static void c_key_len(struct buf *b)
{
	header(b, 3, 0, 1);
	u64(b, UINT64_MAX - 3);
	u64(b, 0);	/* keep the count plausible for the file size */
	u64(b, 0);
}

static void c_value_type(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "k");
	u32(b, 13);
}

static void c_arr_type(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "k");
	u32(b, GGUF_TYPE_ARRAY);
	u32(b, 77);
	u64(b, 0);
}

static void c_arr_count(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "k");
	u32(b, GGUF_TYPE_ARRAY);
	u32(b, GGUF_TYPE_UINT64);
	u64(b, UINT64_MAX / 4);	/* count * 8 overflows */
}

static void c_arr_str_count(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "k");
	u32(b, GGUF_TYPE_ARRAY);
	u32(b, GGUF_TYPE_STRING);
	u64(b, 1ull << 40);
}

static void c_nesting(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "k");
	u32(b, GGUF_TYPE_ARRAY);
	for (int i = 0; i < 20; i++) {
		u32(b, GGUF_TYPE_ARRAY);
		u64(b, 1);
	}
	u32(b, GGUF_TYPE_UINT8);
	u64(b, 0);
}

static void c_dup_key(struct buf *b)
{
	header(b, 3, 0, 2);
	str(b, "k");
	u32(b, GGUF_TYPE_UINT8);
	put(b, "\1", 1);
	str(b, "k");
	u32(b, GGUF_TYPE_UINT8);
	put(b, "\2", 1);
}

static void c_align_type(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "general.alignment");
	u32(b, GGUF_TYPE_UINT64);
	u64(b, 32);
}

static void c_align_pow2(struct buf *b)
{
	header(b, 3, 0, 1);
	str(b, "general.alignment");
	u32(b, GGUF_TYPE_UINT32);
	u32(b, 48);
}

static void one_tensor(struct buf *b, uint32_t n_dims, const uint64_t *ne,
		       uint32_t type, uint64_t offset, size_t data_bytes)
{
	header(b, 3, 1, 0);
	str(b, "t");
	u32(b, n_dims);
	for (uint32_t i = 0; i < n_dims; i++)
		u64(b, ne[i]);
	u32(b, type);
	u64(b, offset);
	pad_to(b, 32);
	while (data_bytes--)
		put(b, "\0", 1);
}

static void c_dims(struct buf *b)
{
	static const uint64_t ne[5] = { 1, 1, 1, 1, 1 };

	one_tensor(b, 5, ne, GGML_TYPE_F32, 0, 4);
}

static void c_ttype(struct buf *b)
{
	static const uint64_t ne[1] = { 1 };

	one_tensor(b, 1, ne, 4 /* removed Q4_2 */, 0, 64);
}

static void c_block(struct buf *b)
{
	static const uint64_t ne[1] = { 33 };

	one_tensor(b, 1, ne, GGML_TYPE_Q4_0, 0, 64);
}

static void c_ne_overflow(struct buf *b)
{
	static const uint64_t ne[3] = { 1ull << 32, 1ull << 32, 4 };

	one_tensor(b, 3, ne, GGML_TYPE_F32, 0, 0);
}

static void c_ne_int64(struct buf *b)
{
	static const uint64_t ne[1] = { 1ull << 63 };

	one_tensor(b, 1, ne, GGML_TYPE_I8, 0, 0);
}

static void c_bytes_overflow(struct buf *b)
{
	static const uint64_t ne[2] = { 1ull << 61, 2 };

	one_tensor(b, 2, ne, GGML_TYPE_F32, 0, 0);
}

static void c_data_oob(struct buf *b)
{
	static const uint64_t ne[1] = { 16 };

	one_tensor(b, 1, ne, GGML_TYPE_F32, 0, 63);
}

static void c_offset_oob(struct buf *b)
{
	static const uint64_t ne[1] = { 1 };

	one_tensor(b, 1, ne, GGML_TYPE_F32, UINT64_MAX - 31, 64);
}

static void c_misaligned(struct buf *b)
{
	static const uint64_t ne[1] = { 1 };

	one_tensor(b, 1, ne, GGML_TYPE_F32, 4, 64);
}

static void c_dup_tensor(struct buf *b)
{
	header(b, 3, 2, 0);
	for (int i = 0; i < 2; i++) {
		str(b, "t");
		u32(b, 1);
		u64(b, 8);
		u32(b, GGML_TYPE_F32);
		u64(b, 32 * i);
	}
	pad_to(b, 32);
	for (int i = 0; i < 64; i++)
		put(b, "\0", 1);
}

static void c_empty(struct buf *b) { b->n = 0; }
static void c_short(struct buf *b) { valid_file(b, 3); b->n = 6; }

static const struct corrupt_case corrupt_cases[] = {
	{ "bad magic", c_magic, "not a GGUF file" },
	{ "version 1", c_v1, "version 1 is not supported" },
	{ "version 9", c_v9, "unsupported GGUF version 9" },
	{ "big-endian", c_bigendian, "big-endian" },
	{ "huge kv count", c_kv_count, "metadata count" },
	{ "huge tensor count", c_tensor_count, "tensor count" },
	{ "key length past end", c_key_len, "metadata key: string length" },
	{ "invalid value type", c_value_type, "invalid value type 13" },
	{ "invalid array type", c_arr_type, "invalid array element type 77" },
	{ "array size overflow", c_arr_count, "exceeds the" },
	{ "array of strings too long", c_arr_str_count, "cannot fit" },
	{ "arrays nested too deep", c_nesting, "nested deeper" },
	{ "duplicate key", c_dup_key, "duplicate metadata key 'k'" },
	{ "alignment of wrong type", c_align_type, "general.alignment has type u64" },
	{ "alignment not power of two", c_align_pow2, "not a power of two" },
	{ "too many dims", c_dims, "5 dimensions" },
	{ "unknown tensor type", c_ttype, "unknown type 4" },
	{ "row not a block multiple", c_block, "not a multiple of the Q4_0 block size" },
	{ "element count overflow", c_ne_overflow, "element count overflows" },
	{ "dim beyond int64", c_ne_int64, "element count overflows" },
	{ "byte size overflow", c_bytes_overflow, "byte size overflows" },
	{ "tensor data past end", c_data_oob, "runs past the end" },
	{ "tensor offset overflow", c_offset_oob, "runs past the end" },
	{ "misaligned tensor", c_misaligned, "not a multiple of the alignment" },
	{ "duplicate tensor", c_dup_tensor, "duplicate tensor name 't'" },
	{ "empty buffer", c_empty, "truncated: magic" },
	{ "short header", c_short, "truncated: version" },
};

static void test_corrupt_files(void)
{
	for (size_t i = 0; i < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]); i++) {
		const struct corrupt_case *cc = &corrupt_cases[i];
		struct buf b;
		char err[GGUF_ERR_LEN] = "";
		struct gguf_ctx *ctx;

		cc->make(&b);
		ctx = open_buf(&b, err);
		CHECKF(!ctx, "%s: accepted", cc->name);
		gguf_close(ctx);
		CHECKF(strstr(err, cc->expect), "%s: error '%s' lacks '%s'", cc->name, err, cc->expect);
		CHECKF(!strncmp(err, "mem.gguf: offset ", 17), "%s: error '%s' lacks file and offset",
		       cc->name, err);
	}
}

static void test_every_truncation(void)
{
	struct buf b;

	valid_file(&b, 3);
	for (size_t n = 0; n < b.n; n++) {
		char err[GGUF_ERR_LEN];
		struct gguf_ctx *ctx = gguf_open_mem(b.d, n, "cut.gguf", err, sizeof(err));

		CHECKF(!ctx, "truncated to %zu bytes: accepted", n);
		gguf_close(ctx);
		CHECKF(strstr(err, "cut.gguf: offset "), "truncated to %zu: '%s'", n, err);
	}
}

static void test_nested_array_access(void)
{
	struct buf b;
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;
	struct gguf_array arr;
	struct gguf_value inner, e;

	header(&b, 3, 0, 1);
	str(&b, "nested");
	u32(&b, GGUF_TYPE_ARRAY);
	u32(&b, GGUF_TYPE_ARRAY);
	u64(&b, 2);
	u32(&b, GGUF_TYPE_STRING);
	u64(&b, 2);
	str(&b, "x");
	str(&b, "yz");
	u32(&b, GGUF_TYPE_INT16);
	u64(&b, 3);
	put(&b, "\x01\x00\xff\xff\x00\x80", 6);
	ctx = open_buf(&b, err);
	CHECKF(ctx, "%s", err);
	if (!ctx)
		return;
	CHECK(gguf_get_arr(ctx, "nested", GGUF_TYPE_ARRAY, &arr));
	CHECK(gguf_arr_get(&arr, 0, &inner) && inner.type == GGUF_TYPE_ARRAY);
	CHECK(gguf_arr_get(&inner.arr, 1, &e) && gguf_str_eq(e.str, "yz"));
	CHECK(gguf_arr_get(&arr, 1, &inner) && inner.arr.elem_type == GGUF_TYPE_INT16);
	CHECK(gguf_arr_get(&inner.arr, 1, &e) && e.i64 == -1);
	CHECK(gguf_arr_get(&inner.arr, 2, &e) && e.i64 == -32768);
	gguf_close(ctx);
}

static void test_open_errors(void)
{
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx = gguf_open("/nonexistent/x.gguf", err, sizeof(err));

	CHECK(!ctx);
	CHECK(strstr(err, "/nonexistent/x.gguf: cannot open"));
	ctx = gguf_open("/", err, sizeof(err));
	CHECK(!ctx);
	CHECK(strstr(err, "not a regular file"));
}

static void replay_one(const char *path, const char *name, int dir_index, void *ctx)
{
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *gctx = gguf_open(path, err, sizeof(err));

	(void)name;
	(void)dir_index;
	(void)ctx;
	if (!gctx) {
		CHECKF(strstr(err, path), "%s: error '%s' lacks the file name", path, err);
		return;
	}
	for (uint64_t i = 0; i < gctx->n_kv; i++) {
		struct gguf_value v;

		if (gctx->kv[i].val.type == GGUF_TYPE_ARRAY)
			for (uint64_t j = 0; j < gctx->kv[i].val.arr.count && j < 64; j++)
				CHECK(gguf_arr_get(&gctx->kv[i].val.arr, j, &v));
	}
	gguf_close(gctx);
}

/* Every file the fuzzer kept must parse or fail cleanly. */
static void test_fuzz_corpus(void)
{
	int files = corpus_for_each("gguf", replay_one, NULL);

	CHECKF(files > 0, "no corpus files found (run from the repository root)");
}

int main(void)
{
	RUN(test_valid_v2_v3);
	RUN(test_corrupt_files);
	RUN(test_every_truncation);
	RUN(test_nested_array_access);
	RUN(test_open_errors);
	RUN(test_fuzz_corpus);
	return tap_done();
}
