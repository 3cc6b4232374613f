/* SPDX-License-Identifier: MIT */
/*
 * Tensor element types as numbered in the GGUF format (ggml_type), with the
 * block geometry needed to size tensor data. Values are fixed by the file
 * format; the gaps are types that were removed upstream.
 */
#ifndef ROSENBLATT_GGML_TYPES_H
#define ROSENBLATT_GGML_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ggml_type {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_IQ2_XXS = 16,
	GGML_TYPE_IQ2_XS = 17,
	GGML_TYPE_IQ3_XXS = 18,
	GGML_TYPE_IQ1_S = 19,
	GGML_TYPE_IQ4_NL = 20,
	GGML_TYPE_IQ3_S = 21,
	GGML_TYPE_IQ2_S = 22,
	GGML_TYPE_IQ4_XS = 23,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_IQ1_M = 29,
	GGML_TYPE_BF16 = 30,
	GGML_TYPE_TQ1_0 = 34,
	GGML_TYPE_TQ2_0 = 35,
	GGML_TYPE_MXFP4 = 39,
	GGML_TYPE_NVFP4 = 40,
	GGML_TYPE_Q1_0 = 41,
	GGML_TYPE_COUNT = 42,
};

/* Elements per block and bytes per block; both 0 for an unknown type. */
struct ggml_type_info {
	const char *name;
	uint32_t block_size;
	uint32_t type_size;
};

/* NULL when t is not a known type. */
const struct ggml_type_info *ggml_type_info(uint32_t t);
const char *ggml_type_name(uint32_t t);

/*
 * Bytes of a row of n elements of type t; false when t is unknown, n is not
 * a multiple of the block size, or the size overflows.
 */
bool ggml_row_size(uint32_t t, uint64_t n, uint64_t *bytes);

#endif
