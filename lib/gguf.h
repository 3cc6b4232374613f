/* SPDX-License-Identifier: MIT */
/*
 * Read-only GGUF (v2 and v3) reader over an mmap of the file.
 *
 * gguf_open() validates the whole header, every metadata value and every
 * tensor info against the file size before it returns, so the accessors
 * below never read out of bounds. Strings are not NUL-terminated: they
 * point into the mapping and carry their length.
 */
#ifndef ROSENBLATT_GGUF_H
#define ROSENBLATT_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC 0x46554747u	/* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_ERR_LEN 512

enum gguf_type {
	GGUF_TYPE_UINT8 = 0,
	GGUF_TYPE_INT8 = 1,
	GGUF_TYPE_UINT16 = 2,
	GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4,
	GGUF_TYPE_INT32 = 5,
	GGUF_TYPE_FLOAT32 = 6,
	GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8,
	GGUF_TYPE_ARRAY = 9,
	GGUF_TYPE_UINT64 = 10,
	GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
	GGUF_TYPE_COUNT,
};

struct gguf_str {
	uint64_t len;
	const char *ptr;	/* into the mapping; not NUL-terminated */
};

struct gguf_array {
	enum gguf_type elem_type;
	uint64_t count;
	const uint8_t *data;	/* first element, as stored in the file */
	uint64_t size;		/* bytes of all elements */
	const uint64_t *offsets; /* per-element byte offsets from data for
				  * string/array elements of top-level arrays,
				  * else NULL */
};

struct gguf_value {
	enum gguf_type type;
	union {
		uint64_t u64;	/* UINT8/16/32/64, BOOL */
		int64_t i64;	/* INT8/16/32/64 */
		double f64;	/* FLOAT32/64 */
		struct gguf_str str;
		struct gguf_array arr;
	};
};

struct gguf_kv {
	struct gguf_str key;
	struct gguf_value val;
	uint64_t file_offset;	/* where the key starts */
};

struct gguf_tensor {
	struct gguf_str name;
	uint32_t n_dims;
	uint64_t ne[GGUF_MAX_DIMS];	/* ne[0] is the innermost (row) dim; unused dims 1 */
	uint32_t type;		/* enum ggml_type */
	uint64_t offset;	/* relative to the data section */
	uint64_t nbytes;
	uint64_t n_elements;
	const void *data;	/* into the mapping */
};

struct gguf_ctx {
	char *path;
	const uint8_t *base;
	uint64_t size;
	bool mapped;		/* base is an mmap we own */
	uint32_t version;
	uint64_t n_kv;
	struct gguf_kv *kv;
	uint64_t n_tensors;
	struct gguf_tensor *tensors;
	uint64_t alignment;
	uint64_t data_offset;	/* file offset of the data section */
	uint64_t data_size;	/* bytes from data_offset to end of file */
};

/*
 * Open and validate a file. On failure returns NULL and writes into err a
 * one-line message "PATH: offset N: what was wrong".
 */
struct gguf_ctx *gguf_open(const char *path, char *err, size_t err_len);

/* Same over a caller-owned buffer (kept, not copied); name is used in errors. */
struct gguf_ctx *gguf_open_mem(const void *buf, size_t size, const char *name,
			       char *err, size_t err_len);

void gguf_close(struct gguf_ctx *ctx);

/* Lookup; NULL when absent. Keys compare as exact byte strings. */
const struct gguf_kv *gguf_find_kv(const struct gguf_ctx *ctx, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_ctx *ctx, const char *name);

/*
 * Typed getters: return false when the key is absent or has another type
 * (integers accept any integer type whose value fits).
 */
bool gguf_get_u64(const struct gguf_ctx *ctx, const char *key, uint64_t *out);
bool gguf_get_u32(const struct gguf_ctx *ctx, const char *key, uint32_t *out);
bool gguf_get_i64(const struct gguf_ctx *ctx, const char *key, int64_t *out);
bool gguf_get_f64(const struct gguf_ctx *ctx, const char *key, double *out);
bool gguf_get_f32(const struct gguf_ctx *ctx, const char *key, float *out);
bool gguf_get_bool(const struct gguf_ctx *ctx, const char *key, bool *out);
bool gguf_get_str(const struct gguf_ctx *ctx, const char *key, struct gguf_str *out);
/* An array of elem_type (any elem type when elem_type is GGUF_TYPE_COUNT). */
bool gguf_get_arr(const struct gguf_ctx *ctx, const char *key,
		  enum gguf_type elem_type, struct gguf_array *out);

/*
 * Element i of an array, decoded into a value (nested arrays come back as
 * GGUF_TYPE_ARRAY values). False when i is out of range.
 */
bool gguf_arr_get(const struct gguf_array *arr, uint64_t i, struct gguf_value *out);

/* Compare a gguf_str with a C string. */
bool gguf_str_eq(struct gguf_str s, const char *cstr);

const char *gguf_type_name(enum gguf_type t);

#endif
