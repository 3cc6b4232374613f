/* SPDX-License-Identifier: MIT */
/*
 * ggml block quantisation formats: block layouts, dequantisation of rows to
 * float and reference quantisation of float rows. Layouts and arithmetic
 * follow ggml's scalar reference code, so results are bit-identical to it
 * (see docs/quant.md for what is verified against what).
 *
 * All multi-byte fields are little-endian, as in GGUF files; the structs
 * describe the bytes on a little-endian host. Half-precision scales are kept
 * as raw uint16_t bits (see fp16.h).
 */
#ifndef ROSENBLATT_QUANT_H
#define ROSENBLATT_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK4_NL 32
#define QK_K 256
#define K_SCALE_SIZE 12

/* x = d * (q - 8), q 4 bits; element j in low nibble of qs[j], j+16 in high */
struct block_q4_0 {
	uint16_t d;
	uint8_t qs[QK4_0 / 2];
};
_Static_assert(sizeof(struct block_q4_0) == 18, "block_q4_0 size");

/* x = d * q + m, q 4 bits, nibbles as q4_0 */
struct block_q4_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qs[QK4_1 / 2];
};
_Static_assert(sizeof(struct block_q4_1) == 20, "block_q4_1 size");

/* x = d * (q - 16), q 5 bits: low 4 as q4_0, bit 4 of element j in bit j of qh */
struct block_q5_0 {
	uint16_t d;
	uint8_t qh[4];
	uint8_t qs[QK5_0 / 2];
};
_Static_assert(sizeof(struct block_q5_0) == 22, "block_q5_0 size");

/* x = d * q + m, q 5 bits packed as q5_0 */
struct block_q5_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qh[4];
	uint8_t qs[QK5_1 / 2];
};
_Static_assert(sizeof(struct block_q5_1) == 24, "block_q5_1 size");

/* x = d * q, q int8 */
struct block_q8_0 {
	uint16_t d;
	int8_t qs[QK8_0];
};
_Static_assert(sizeof(struct block_q8_0) == 34, "block_q8_0 size");

/*
 * Non-linear 4 bits: x = d * iq4nl_values[q]; q as q4_0 (element j in the
 * low nibble of qs[j], j+16 in the high one).
 */
struct block_iq4_nl {
	uint16_t d;
	uint8_t qs[QK4_NL / 2];
};
_Static_assert(sizeof(struct block_iq4_nl) == 18, "block_iq4_nl size");

/* ggml's kvalues_iq4nl: the 16 levels of IQ4_NL and IQ4_XS */
extern const int8_t iq4nl_values[16];

/*
 * 16 sub-blocks of 16; scales[i]: low nibble scale, high nibble min.
 * x = d * sc * q - dmin * m, q 2 bits.
 */
struct block_q2_K {
	uint8_t scales[QK_K / 16];
	uint8_t qs[QK_K / 4];
	uint16_t d;
	uint16_t dmin;
};
_Static_assert(sizeof(struct block_q2_K) == 84, "block_q2_K size");

/*
 * 16 sub-blocks of 16, 6-bit signed scales (offset 32) packed in 12 bytes.
 * x = d * (sc - 32) * (q - (hmask bit ? 0 : 4)), q low 2 bits in qs.
 */
struct block_q3_K {
	uint8_t hmask[QK_K / 8];
	uint8_t qs[QK_K / 4];
	uint8_t scales[12];
	uint16_t d;
};
_Static_assert(sizeof(struct block_q3_K) == 110, "block_q3_K size");

/*
 * 8 sub-blocks of 32, 6-bit scale and min each packed in 12 bytes.
 * x = d * sc * q - dmin * m, q 4 bits.
 */
struct block_q4_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[K_SCALE_SIZE];
	uint8_t qs[QK_K / 2];
};
_Static_assert(sizeof(struct block_q4_K) == 144, "block_q4_K size");

/* as q4_K with a fifth bit per element in qh */
struct block_q5_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[K_SCALE_SIZE];
	uint8_t qh[QK_K / 8];
	uint8_t qs[QK_K / 2];
};
_Static_assert(sizeof(struct block_q5_K) == 176, "block_q5_K size");

/* 16 sub-blocks of 16, int8 scales; x = d * sc * (q - 32), q 6 bits */
struct block_q6_K {
	uint8_t ql[QK_K / 2];
	uint8_t qh[QK_K / 4];
	int8_t scales[QK_K / 16];
	uint16_t d;
};
_Static_assert(sizeof(struct block_q6_K) == 210, "block_q6_K size");

/*
 * 8 sub-blocks of 32, 6-bit scales (offset 32): low 4 bits of sub-block ib in
 * scales_l[ib / 2] (low nibble for even ib), high 2 in bits 2ib..2ib+1 of
 * scales_h. x = d * (ls - 32) * iq4nl_values[q]; each sub-block's 32 q in 16
 * bytes of qs, nibbles as iq4_nl.
 */
struct block_iq4_xs {
	uint16_t d;
	uint16_t scales_h;
	uint8_t scales_l[QK_K / 64];
	uint8_t qs[QK_K / 2];
};
_Static_assert(sizeof(struct block_iq4_xs) == 136, "block_iq4_xs size");

/* intermediate format for dot products: float scale, bsums = sums of 16 qs */
struct block_q8_K {
	float d;
	int8_t qs[QK_K];
	int16_t bsums[QK_K / 16];
};
_Static_assert(sizeof(struct block_q8_K) == 292, "block_q8_K size");

/* true when dequantize_row() handles type (an enum ggml_type value) */
bool dequantize_supported(uint32_t type);

/*
 * Convert n elements of type from src to float. Returns 0, or -1 when the
 * type is not supported or n is negative or not a multiple of the block size.
 * NaN/Inf in scales propagate as in ggml (plain float arithmetic).
 */
int dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);

/* true when quantize_row() handles type */
bool quantize_supported(uint32_t type);

/*
 * Quantise n floats into type, as ggml's quantize_row_*_ref. Returns 0, or
 * -1 for an unsupported type or bad n. Never crashes on NaN/Inf input, but
 * the output for such input is only defined as "no undefined behaviour".
 */
int quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

/* Per-type entry points (n a multiple of the block size). */
void dequantize_row_q4_0(const struct block_q4_0 *x, float *y, int64_t n);
void dequantize_row_q4_1(const struct block_q4_1 *x, float *y, int64_t n);
void dequantize_row_q5_0(const struct block_q5_0 *x, float *y, int64_t n);
void dequantize_row_q5_1(const struct block_q5_1 *x, float *y, int64_t n);
void dequantize_row_q8_0(const struct block_q8_0 *x, float *y, int64_t n);
void dequantize_row_q2_K(const struct block_q2_K *x, float *y, int64_t n);
void dequantize_row_q3_K(const struct block_q3_K *x, float *y, int64_t n);
void dequantize_row_q4_K(const struct block_q4_K *x, float *y, int64_t n);
void dequantize_row_q5_K(const struct block_q5_K *x, float *y, int64_t n);
void dequantize_row_q6_K(const struct block_q6_K *x, float *y, int64_t n);
void dequantize_row_q8_K(const struct block_q8_K *x, float *y, int64_t n);
void dequantize_row_iq4_nl(const struct block_iq4_nl *x, float *y, int64_t n);
void dequantize_row_iq4_xs(const struct block_iq4_xs *x, float *y, int64_t n);

void quantize_row_q4_0_ref(const float *x, struct block_q4_0 *y, int64_t n);
void quantize_row_q4_1_ref(const float *x, struct block_q4_1 *y, int64_t n);
void quantize_row_q5_0_ref(const float *x, struct block_q5_0 *y, int64_t n);
void quantize_row_q5_1_ref(const float *x, struct block_q5_1 *y, int64_t n);
void quantize_row_q8_0_ref(const float *x, struct block_q8_0 *y, int64_t n);
void quantize_row_q4_K_ref(const float *x, struct block_q4_K *y, int64_t n);
void quantize_row_q8_K_ref(const float *x, struct block_q8_K *y, int64_t n);

/* Unpack sub-block j's 6-bit scale and min from a q4_K/q5_K scales array. */
void get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m);

/*
 * ggml's nearest_int(): round to nearest, ties to even, by the 1.5*2^23
 * trick. Exact for |f| <= 4194303; defined (but meaningless) beyond.
 */
int quant_nearest_int(float f);

#endif
