// SPDX-License-Identifier: MIT
/*
 * AVX2/FMA/F16C row-dot kernel. Compiled with target attributes so the rest
 * of the build stays baseline x86-64; ops_matmul() only picks it when the
 * CPU has the features. Q8_0/Q4_0/Q4_1/F16 and Q4_K/Q6_K rows are widened
 * in registers and dotted in one pass; F32 rows are used in place; other
 * types go through the scalar dequantiser into a scratch row. The dots
 * run 4 activation rows per pass so each weight vector is loaded once per
 * 4 tokens. The act8 kernels (ops_rowdot8_avx2) dot Q4_K/Q6_K rows with
 * Q8_K activations and the blocks of 32 with Q8_1 ones in integers.
 */
#include "ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp16.h"
#include "ggml_types.h"
#include "ops.h"
#include "quant.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

static AVX2 inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* the largest of 8 floats (none of them NaN) */
static AVX2 inline float hmax(__m256 v)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static AVX2 void widen_f16(const uint16_t *src, float *dst, int64_t n)
{
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
	for (; i < n; i++)
		dst[i] = fp16_to_fp32(src[i]);
}

/* 32 nibbles of qs: element j low nibble of qs[j], j+16 the high nibble */
static AVX2 inline void nibbles(const uint8_t *qs, __m256 out[4])
{
	__m128i v = _mm_loadu_si128((const __m128i *)qs);
	__m128i m = _mm_set1_epi8(0x0f);
	__m128i lo = _mm_and_si128(v, m);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);

	out[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
	out[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
	out[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
	out[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
}

static AVX2 float dot1(const float *a, const float *b, int64_t n)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	int64_t i = 0;

	for (; i + 16 <= n; i += 16) {
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
	float s = hsum(_mm256_add_ps(s0, s1));

	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* w against 4 activation rows x, x+n, x+2n, x+3n */
static AVX2 void dot4(const float *w, const float *x, int64_t n, float out[4])
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	__m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 wv = _mm256_loadu_ps(w + i);

		s0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), s0);
		s1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + n + i), s1);
		s2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + 2 * n + i), s2);
		s3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + 3 * n + i), s3);
	}
	out[0] = hsum(s0);
	out[1] = hsum(s1);
	out[2] = hsum(s2);
	out[3] = hsum(s3);
	for (; i < n; i++)
		for (int k = 0; k < 4; k++)
			out[k] += w[i] * x[k * n + i];
}

#define INLINE __attribute__((always_inline)) inline

/* half -> float in one F16C instruction (exact, like fp16_to_fp32) */
static AVX2 INLINE float h2f(uint16_t h)
{
	return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* Block i of a Q8_0/Q4_0/Q4_1/F16 row as 4 vectors of unscaled weights,
 * its scale d and (Q4_1) min; F16 "blocks" are 32 halves with d = 1. */
static AVX2 INLINE void load_block(uint32_t type, const void *row, int64_t i, __m256 w[4],
				   float *d, float *mn)
{
	*d = 1.0f;
	*mn = 0.0f;
	switch (type) {
	case GGML_TYPE_Q8_0: {
		const struct block_q8_0 *b = (const struct block_q8_0 *)row + i;

		*d = h2f(b->d);
		for (int k = 0; k < 4; k++)
			w[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
				_mm_loadl_epi64((const __m128i *)(b->qs + 8 * k))));
		break;
	}
	case GGML_TYPE_Q4_0: {
		const struct block_q4_0 *b = (const struct block_q4_0 *)row + i;

		*d = h2f(b->d);
		nibbles(b->qs, w);
		for (int k = 0; k < 4; k++)
			w[k] = _mm256_sub_ps(w[k], _mm256_set1_ps(8.0f));
		break;
	}
	case GGML_TYPE_Q4_1: {
		const struct block_q4_1 *b = (const struct block_q4_1 *)row + i;

		*d = h2f(b->d);
		*mn = h2f(b->m);
		nibbles(b->qs, w);
		break;
	}
	default: {
		const uint16_t *h = (const uint16_t *)row + i * 32;

		for (int k = 0; k < 4; k++)
			w[k] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 8 * k)));
		break;
	}
	}
}

/* sum(w * x) over one block, as a tree so the FMAs do not wait in a chain */
static AVX2 INLINE __m256 block_dot(const __m256 w[4], const float *x, __m256 *xsum)
{
	__m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
	__m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
	__m256 p0 = _mm256_fmadd_ps(w[2], x2, _mm256_mul_ps(w[0], x0));
	__m256 p1 = _mm256_fmadd_ps(w[3], x3, _mm256_mul_ps(w[1], x1));

	*xsum = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
	return _mm256_add_ps(p0, p1);
}

/*
 * Fused row kernels for Q8_0/Q4_0/Q4_1/F16: the weights of a block are
 * widened in registers and multiplied straight into the activations (no
 * scratch round trip). Per block: d * sum(q * x) (+ m * sum(x) for Q4_1),
 * so the rounding differs from the reference only in order.
 * One activation row (decode): two blocks per step, two accumulators.
 */
static AVX2 INLINE float fused1_t(uint32_t type, const void *row, int64_t cols, const float *x)
{
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	__m256 accm0 = _mm256_setzero_ps(), accm1 = _mm256_setzero_ps();
	int64_t nb = cols / 32, i = 0;

	for (; i + 2 <= nb; i += 2) {
		__m256 w0[4], w1[4], xs0, xs1;
		float d0, mn0, d1, mn1;

		load_block(type, row, i, w0, &d0, &mn0);
		load_block(type, row, i + 1, w1, &d1, &mn1);
		__m256 s0 = block_dot(w0, x + i * 32, &xs0);
		__m256 s1 = block_dot(w1, x + i * 32 + 32, &xs1);

		acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0), s0, acc0);
		acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1), s1, acc1);
		if (type == GGML_TYPE_Q4_1) {
			accm0 = _mm256_fmadd_ps(_mm256_set1_ps(mn0), xs0, accm0);
			accm1 = _mm256_fmadd_ps(_mm256_set1_ps(mn1), xs1, accm1);
		}
	}
	if (i < nb) {
		__m256 w[4], xs;
		float d, mn;

		load_block(type, row, i, w, &d, &mn);
		__m256 sm = block_dot(w, x + i * 32, &xs);

		acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d), sm, acc0);
		if (type == GGML_TYPE_Q4_1)
			accm0 = _mm256_fmadd_ps(_mm256_set1_ps(mn), xs, accm0);
	}
	return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(accm0, accm1)));
}

/* Four activation rows: four independent chains already. */
static AVX2 INLINE void fused4_t(uint32_t type, const void *row, int64_t cols, const float *x,
				 float out[4])
{
	__m256 acc[4], accm[4];
	int64_t nb = cols / 32;

	for (int m = 0; m < 4; m++)
		acc[m] = accm[m] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nb; i++) {
		__m256 w[4], xs;
		float d, mn;

		load_block(type, row, i, w, &d, &mn);
		__m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(mn);

		for (int m = 0; m < 4; m++) {
			__m256 sm = block_dot(w, x + m * cols + i * 32, &xs);

			acc[m] = _mm256_fmadd_ps(dv, sm, acc[m]);
			if (type == GGML_TYPE_Q4_1)
				accm[m] = _mm256_fmadd_ps(mv, xs, accm[m]);
		}
	}
	for (int m = 0; m < 4; m++)
		out[m] = hsum(_mm256_add_ps(acc[m], accm[m]));
}

#define FUSED(name, T) \
	static AVX2 float name##1(const void *r, int64_t c, const float *x) \
	{ return fused1_t(T, r, c, x); } \
	static AVX2 void name##4(const void *r, int64_t c, const float *x, float o[4]) \
	{ fused4_t(T, r, c, x, o); }
FUSED(fused_q8_0_, GGML_TYPE_Q8_0)
FUSED(fused_q4_0_, GGML_TYPE_Q4_0)
FUSED(fused_q4_1_, GGML_TYPE_Q4_1)
FUSED(fused_f16_, GGML_TYPE_F16)
#undef FUSED

/* 32 bytes -> 4 vectors of 8 floats (unsigned) */
static AVX2 INLINE void u8x32_to_f32(__m256i v, __m256 out[4])
{
	__m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);

	out[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
	out[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
	out[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
	out[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
}

/*
 * Quarter k (32 weights) of half n of a Q6_K block as 6-bit unsigned bytes,
 * from that half's ql (l1 = bytes 0-31, l2 = 32-63) and qh.
 */
static AVX2 INLINE __m256i q6_quarter(__m256i l1, __m256i l2, __m256i qh, int k)
{
	__m256i l = k & 1 ? l2 : l1;
	__m256i h = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), _mm256_set1_epi8(3));

	if (k >= 2)
		l = _mm256_srli_epi16(l, 4);
	return _mm256_or_si256(_mm256_and_si256(l, _mm256_set1_epi8(0x0f)), _mm256_slli_epi16(h, 4));
}

/*
 * Group g (0..7) of 32 weights of a Q4_K/Q6_K super-block as 4 vectors of
 * unscaled q, the scale of the first 16 (a) and of the last 16 (b), and
 * the min to subtract times sum(x) (Q4_K). Layouts as dequantize_row_q4_K
 * and dequantize_row_q6_K in lib/quant_k.c.
 */
static AVX2 INLINE void load_group_k(uint32_t type, const void *blk, int g, __m256 w[4],
				     float *a, float *b, float *mn)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);

	if (type == GGML_TYPE_Q4_K) {
		const struct block_q4_K *x = blk;
		uint8_t sc, m;
		__m256i q = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * (g / 2)));

		if (g & 1)
			q = _mm256_srli_epi16(q, 4);
		u8x32_to_f32(_mm256_and_si256(q, m4), w);
		get_scale_min_k4(g, x->scales, &sc, &m);
		*a = *b = h2f(x->d) * sc;
		*mn = h2f(x->dmin) * m;
	} else {	/* Q6_K: 128-element halves n, quarters k */
		const struct block_q6_K *x = blk;
		int n = g / 4, k = g % 4;
		__m256i ql = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * n + 32 * (k & 1)));
		__m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * n));

		u8x32_to_f32(q6_quarter(ql, ql, qh, k), w);
		for (int i = 0; i < 4; i++)
			w[i] = _mm256_sub_ps(w[i], _mm256_set1_ps(32.0f));
		float d = h2f(x->d);

		*a = d * x->scales[8 * n + 2 * k];
		*b = d * x->scales[8 * n + 2 * k + 1];
		*mn = 0.0f;
	}
}

/* K-quant rows against nm (1 or 4) activation rows */
static AVX2 INLINE void fusedk_t(uint32_t type, const void *row, int64_t cols, const float *x,
				 int nm, float *out)
{
	size_t bs = type == GGML_TYPE_Q4_K ? sizeof(struct block_q4_K) : sizeof(struct block_q6_K);
	__m256 acc_a[4], acc_b[4], accm[4];

	for (int m = 0; m < 4; m++)
		acc_a[m] = acc_b[m] = accm[m] = _mm256_setzero_ps();
	for (int64_t sb = 0; sb < cols / QK_K; sb++) {
		const void *blk = (const uint8_t *)row + sb * bs;

		for (int g = 0; g < 8; g++) {
			__m256 w[4];
			float a, b, mn;

			load_group_k(type, blk, g, w, &a, &b, &mn);
			__m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b), mv = _mm256_set1_ps(mn);

			for (int m = 0; m < nm; m++) {
				const float *xg = x + m * cols + sb * QK_K + g * 32;
				__m256 x0 = _mm256_loadu_ps(xg), x1 = _mm256_loadu_ps(xg + 8);
				__m256 x2 = _mm256_loadu_ps(xg + 16), x3 = _mm256_loadu_ps(xg + 24);
				__m256 sa = _mm256_fmadd_ps(w[1], x1, _mm256_mul_ps(w[0], x0));
				__m256 sbv = _mm256_fmadd_ps(w[3], x3, _mm256_mul_ps(w[2], x2));

				acc_a[m] = _mm256_fmadd_ps(av, sa, acc_a[m]);
				acc_b[m] = _mm256_fmadd_ps(bv, sbv, acc_b[m]);
				if (type == GGML_TYPE_Q4_K)
					accm[m] = _mm256_fmadd_ps(mv, _mm256_add_ps(_mm256_add_ps(x0, x1),
										   _mm256_add_ps(x2, x3)), accm[m]);
			}
		}
	}
	for (int m = 0; m < nm; m++)
		out[m] = hsum(_mm256_sub_ps(_mm256_add_ps(acc_a[m], acc_b[m]), accm[m]));
}

#define FUSEDK(name, T) \
	static AVX2 float name##1(const void *r, int64_t c, const float *x) \
	{ float o; fusedk_t(T, r, c, x, 1, &o); return o; } \
	static AVX2 void name##4(const void *r, int64_t c, const float *x, float o[4]) \
	{ fusedk_t(T, r, c, x, 4, o); }
FUSEDK(fused_q4_K_, GGML_TYPE_Q4_K)
FUSEDK(fused_q6_K_, GGML_TYPE_Q6_K)
#undef FUSEDK

/*
 * Integer dots against Q8_K activations (ops_matmul_act8), after ggml's
 * AVX2 ggml_vec_dot_q4_K_q8_K / _q6_K_q8_K: maddubs (u8 weights x s8
 * activations -> pairs in i16), madd with the 16-bit sub-block scales ->
 * i32, one float FMA per super-block. Up to 4 activation rows per pass, so
 * each weight block is unpacked once per 4 tokens.
 */
/* the m loops must unroll so the accumulators stay in registers; the
 * others stay loops, or GCC hoists every load and spills */
#define UNROLL _Pragma("GCC unroll 8")
#define NOUNROLL _Pragma("GCC unroll 1")

/* bytes 2g x 8, 2g+1 x 8: the two sub-block scales of Q6_K group g */
static const uint8_t q6_scale_shuf[8][16] = {
#define S(g) { 2*g, 2*g, 2*g, 2*g, 2*g, 2*g, 2*g, 2*g, 2*g+1, 2*g+1, 2*g+1, 2*g+1, 2*g+1, 2*g+1, 2*g+1, 2*g+1 }
	S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7),
#undef S
};

/* bytes 2g, 2g+1 repeated: broadcast 16-bit lane g of each 128-bit half */
static const uint8_t k4_scale_shuf[8][32] = {
#define P(g) 2*g, 2*g+1
#define S(g) { P(g), P(g), P(g), P(g), P(g), P(g), P(g), P(g), \
	       P(g), P(g), P(g), P(g), P(g), P(g), P(g), P(g) }
	S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7),
#undef S
#undef P
};

static AVX2 INLINE __m256i k4_scale(__m256i dup, int g)
{
	return _mm256_shuffle_epi8(dup, _mm256_loadu_si256((const __m256i *)k4_scale_shuf[g]));
}

/* group g's scales of the 16 int8 Q6_K scales: a in lanes 0-7, b in 8-15 */
static AVX2 INLINE __m256i q6_scale16(__m128i scales, int g)
{
	return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales,
						      _mm_loadu_si128((const __m128i *)q6_scale_shuf[g])));
}

/*
 * acc + madd(a, b). With vnni (AVX512-VNNI + VL, checked at run time) one
 * vpdpwssd; inline asm because the build targets baseline x86-64 and the
 * intrinsic would need the target attribute on every caller.
 */
static AVX2 INLINE __m256i dpwssd(__m256i acc, __m256i a, __m256i b, bool vnni)
{
	if (vnni) {
		__asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
		return acc;
	}
	return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
}

static AVX2 INLINE void q4k_q8k(const struct block_q4_K *x, const struct block_q8_K *y,
				int64_t nb, int nm, float *out, bool vnni)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256 acc[8];

	UNROLL for (int m = 0; m < nm; m++)
		acc[m] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nb; i++) {
		uint32_t u[4];

		/* 12 bytes of 6-bit scales/mins -> bytes 0-7 scales, 8-15 mins */
		memcpy(u, x[i].scales, 12);
		u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
		uint32_t t = u[1] & 0x3f3f3f3f;

		u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
		u[2] = t;
		u[0] &= 0x3f3f3f3f;
		__m256i sc16 = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
		__m128i mins = _mm256_extracti128_si256(sc16, 1);
		__m256i dup = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sc16));
		__m256 dv = _mm256_set1_ps(h2f(x[i].d)), mv = _mm256_set1_ps(-h2f(x[i].dmin));
		__m256i sumi[8];

		UNROLL for (int m = 0; m < nm; m++)
			sumi[m] = _mm256_setzero_si256();
		NOUNROLL for (int j = 0; j < 4; j++) {
			__m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
			__m256i lo = _mm256_and_si256(q4, m4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
			__m256i sl = k4_scale(dup, 2 * j), sh = k4_scale(dup, 2 * j + 1);

			UNROLL for (int m = 0; m < nm; m++) {
				const int8_t *q8 = y[m * nb + i].qs + 64 * j;
				__m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
				__m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));

				sumi[m] = dpwssd(dpwssd(sumi[m], sl, pl, vnni), sh, ph, vnni);
			}
		}
		UNROLL for (int m = 0; m < nm; m++) {
			const struct block_q8_K *b = &y[m * nb + i];
			__m256i bs = _mm256_loadu_si256((const __m256i *)b->bsums);
			/* sums of 32: pairs of the 16 bsums, in group order */
			__m128i s32 = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
			__m256i pm = _mm256_zextsi128_si256(_mm_madd_epi16(mins, s32));
			__m256 v = _mm256_fmadd_ps(mv, _mm256_cvtepi32_ps(pm),
						   _mm256_mul_ps(dv, _mm256_cvtepi32_ps(sumi[m])));

			acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(b->d), v, acc[m]);
		}
	}
	UNROLL for (int m = 0; m < nm; m++)
		out[m] = hsum(acc[m]);
}

static AVX2 INLINE void q6k_q8k(const struct block_q6_K *x, const struct block_q8_K *y,
				int64_t nb, int nm, float *out, bool vnni)
{
	__m256 acc[8];

	UNROLL for (int m = 0; m < nm; m++)
		acc[m] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nb; i++) {
		__m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
		__m256i sc16 = _mm256_cvtepi8_epi16(sc8);
		__m256 dv = _mm256_set1_ps(h2f(x[i].d));
		__m256i sumi[8];

		/* the -32 offset: -32 * sum over sub-blocks of scale * bsum */
		UNROLL for (int m = 0; m < nm; m++) {
			__m256i bs = _mm256_loadu_si256((const __m256i *)y[m * nb + i].bsums);

			sumi[m] = _mm256_sub_epi32(_mm256_setzero_si256(),
						   _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
		}
		NOUNROLL for (int n = 0; n < 2; n++) {
			__m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * n));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * n));
			__m256i l2 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * n + 32));

			NOUNROLL for (int k = 0; k < 4; k++) {
				__m256i q6 = q6_quarter(l1, l2, qh, k);
				__m256i s = q6_scale16(sc8, 4 * n + k);

				UNROLL for (int m = 0; m < nm; m++) {
					const int8_t *q8 = y[m * nb + i].qs + 128 * n + 32 * k;
					__m256i p = _mm256_maddubs_epi16(q6, _mm256_loadu_si256((const __m256i *)q8));

					sumi[m] = dpwssd(sumi[m], s, p, vnni);
				}
			}
		}
		UNROLL for (int m = 0; m < nm; m++)
			acc[m] = _mm256_fmadd_ps(_mm256_mul_ps(dv, _mm256_set1_ps(y[m * nb + i].d)),
						 _mm256_cvtepi32_ps(sumi[m]), acc[m]);
	}
	UNROLL for (int m = 0; m < nm; m++)
		out[m] = hsum(acc[m]);
}

/* bytes ahead of the current Q4_K super-block that q4k_q8k_row prefetches */
#define Q4K_PREFETCH 2048

/*
 * One activation row (decode): the same sums, but in 4 independent
 * integer accumulators, or the chain of vpdpwssd/vpaddd latencies is what
 * limits the speed (8 dependent steps per super-block).
 */
static AVX2 INLINE void q4k_q8k_row(const struct block_q4_K *x, const struct block_q8_K *y,
				    int64_t nb, float *out, bool vnni)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256 acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < nb; i++) {
		uint32_t u[4];

		/*
		 * Software prefetch ~2 KB (14 super-blocks, across the end of
		 * the row into the next one) ahead: this row kernel is not far
		 * from compute-bound, and the hardware prefetcher alone left one
		 * core at ~15 GB/s on a 93 MB Q4_K matrix, 17-18.5 with this
		 * (tests/bench_matmul-like GEMV; Q6_K, already at ~21 GB/s, did
		 * not gain). A prefetch past the mapping does not fault.
		 */
		_mm_prefetch((const char *)(x + i) + Q4K_PREFETCH, _MM_HINT_T0);
		_mm_prefetch((const char *)(x + i) + Q4K_PREFETCH + 64, _MM_HINT_T0);
		_mm_prefetch((const char *)(x + i) + Q4K_PREFETCH + 128, _MM_HINT_T0);
		memcpy(u, x[i].scales, 12);
		u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
		uint32_t t = u[1] & 0x3f3f3f3f;

		u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
		u[2] = t;
		u[0] &= 0x3f3f3f3f;
		__m256i sc16 = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
		__m128i mins = _mm256_extracti128_si256(sc16, 1);
		__m256i dup = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sc16));
		__m256i s[4];

		UNROLL for (int k = 0; k < 4; k++)
			s[k] = _mm256_setzero_si256();
		UNROLL for (int j = 0; j < 4; j += 2) {
			UNROLL for (int h = 0; h < 2; h++) {
				__m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * (j + h)));
				const int8_t *q8 = y[i].qs + 64 * (j + h);
				__m256i pl = _mm256_maddubs_epi16(_mm256_and_si256(q4, m4),
								  _mm256_loadu_si256((const __m256i *)q8));
				__m256i ph = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4),
								  _mm256_loadu_si256((const __m256i *)(q8 + 32)));

				s[2 * h] = dpwssd(s[2 * h], k4_scale(dup, 2 * (j + h)), pl, vnni);
				s[2 * h + 1] = dpwssd(s[2 * h + 1], k4_scale(dup, 2 * (j + h) + 1), ph, vnni);
			}
		}
		__m256i sumi = _mm256_add_epi32(_mm256_add_epi32(s[0], s[1]), _mm256_add_epi32(s[2], s[3]));
		__m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
		__m128i s32 = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
		__m256i pm = _mm256_zextsi128_si256(_mm_madd_epi16(mins, s32));
		__m256 v = _mm256_fmadd_ps(_mm256_set1_ps(-h2f(x[i].dmin)), _mm256_cvtepi32_ps(pm),
					   _mm256_mul_ps(_mm256_set1_ps(h2f(x[i].d)), _mm256_cvtepi32_ps(sumi)));

		acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d), v, acc);
	}
	*out = hsum(acc);
}

static AVX2 INLINE void q6k_q8k_row(const struct block_q6_K *x, const struct block_q8_K *y,
				    int64_t nb, float *out, bool vnni)
{
	__m256 acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < nb; i++) {
		__m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
		__m256i sc16 = _mm256_cvtepi8_epi16(sc8);
		__m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
		__m256i s[4];

		s[0] = _mm256_sub_epi32(_mm256_setzero_si256(),
					_mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
		s[1] = s[2] = s[3] = _mm256_setzero_si256();
		UNROLL for (int n = 0; n < 2; n++) {
			__m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * n));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * n));
			__m256i l2 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * n + 32));

			UNROLL for (int k = 0; k < 4; k++) {
				__m256i q6 = q6_quarter(l1, l2, qh, k);
				__m256i p = _mm256_maddubs_epi16(q6, _mm256_loadu_si256(
					(const __m256i *)(y[i].qs + 128 * n + 32 * k)));

				s[k] = dpwssd(s[k], q6_scale16(sc8, 4 * n + k), p, vnni);
			}
		}
		__m256i sumi = _mm256_add_epi32(_mm256_add_epi32(s[0], s[1]), _mm256_add_epi32(s[2], s[3]));

		acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
	}
	*out = hsum(acc);
}

/* The VNNI variants are compiled for AVX512VL/BW too: same ymm code, but
 * 32 vector registers, so the 4-row accumulators do not spill. */
#define AVX512V __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define DOT8(name, fn, BT, V, ATTR) \
	static ATTR void name##1(const void *r, const struct block_q8_K *y, int64_t nb, float *o) \
	{ fn##_row((const BT *)r, y, nb, o, V); } \
	static ATTR void name##4(const void *r, const struct block_q8_K *y, int64_t nb, float *o) \
	{ fn((const BT *)r, y, nb, 4, o, V); }
DOT8(dot8_q4_K_, q4k_q8k, struct block_q4_K, false, AVX2)
DOT8(dot8_q6_K_, q6k_q8k, struct block_q6_K, false, AVX2)
DOT8(dot8v_q4_K_, q4k_q8k, struct block_q4_K, true, AVX512V)
DOT8(dot8v_q6_K_, q6k_q8k, struct block_q6_K, true, AVX512V)
#undef DOT8
/* 8 rows at a time only fit the 32 registers of the AVX512VL variants */
static AVX512V void dot8v_q4_K_8(const void *r, const struct block_q8_K *y, int64_t nb, float *o)
{
	q4k_q8k(r, y, nb, 8, o, true);
}

static AVX512V void dot8v_q6_K_8(const void *r, const struct block_q8_K *y, int64_t nb, float *o)
{
	q6k_q8k(r, y, nb, 8, o, true);
}

static int vnni_state = -1;	/* -1: not decided yet */

static bool use_vnni(void)
{
	int v = vnni_state;

	if (v < 0) {
		const char *e = getenv("ROSENBLATT_NO_VNNI");

		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
		    __builtin_cpu_supports("avx512bw") && !(e && *e && *e != '0');
		vnni_state = v;
	}
	return v;
}

bool ops_avx2_vnni(void)
{
	return use_vnni();
}

bool ops_avx2_set_vnni(bool on)
{
	__builtin_cpu_init();
	vnni_state = on && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
		     __builtin_cpu_supports("avx512bw");
	return vnni_state;
}

static void rowdot8_q32_avx2(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			     int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride);

AVX2 void ops_rowdot8_avx2(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			   int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride)
{
	if (ops_act8_format(type) == GGML_TYPE_Q8_1) {
		rowdot8_q32_avx2(rows, row_bytes, n, type, cols, q8, M, y, y_stride);
		return;
	}
	const struct block_q8_K *a = q8;
	int64_t nb = cols / QK_K;
	bool q4 = type == GGML_TYPE_Q4_K, v = use_vnni();
	void (*f4)(const void *, const struct block_q8_K *, int64_t, float *) =
		q4 ? (v ? dot8v_q4_K_4 : dot8_q4_K_4) : (v ? dot8v_q6_K_4 : dot8_q6_K_4);
	void (*f1)(const void *, const struct block_q8_K *, int64_t, float *) =
		q4 ? (v ? dot8v_q4_K_1 : dot8_q4_K_1) : (v ? dot8v_q6_K_1 : dot8_q6_K_1);

	/*
	 * Batches: tiles of ROW_TILE weight rows, and within a tile each group
	 * of 8 (4) activation rows against every row of the tile, so the
	 * group's Q8_K rows (8 x 1.75 KB at 1536 columns) stay in L1 across
	 * the tile instead of coming from L2 once per weight row. Decode
	 * (M = 1) is row by row.
	 */
	enum { ROW_TILE = 16 };

	for (int64_t r0 = 0; r0 < n; r0 += ROW_TILE) {
		int64_t r1 = r0 + ROW_TILE < n ? r0 + ROW_TILE : n, m = 0;

		for (; v && m + 8 <= M; m += 8) {
			for (int64_t r = r0; r < r1; r++) {
				float out[8];

				(q4 ? dot8v_q4_K_8 : dot8v_q6_K_8)((const uint8_t *)rows + (size_t)r * row_bytes,
								   a + m * nb, nb, out);
				for (int k = 0; k < 8; k++)
					y[(m + k) * y_stride + r] = out[k];
			}
		}
		for (; m + 4 <= M; m += 4) {
			for (int64_t r = r0; r < r1; r++) {
				float out[4];

				f4((const uint8_t *)rows + (size_t)r * row_bytes, a + m * nb, nb, out);
				for (int k = 0; k < 4; k++)
					y[(m + k) * y_stride + r] = out[k];
			}
		}
		for (; m < M; m++)
			for (int64_t r = r0; r < r1; r++)
				f1((const uint8_t *)rows + (size_t)r * row_bytes, a + m * nb, nb,
				   &y[m * y_stride + r]);
	}
}

/* ---- act8 for the blocks of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) ------------- */

/* byte j = 0xff where bit j of the 32 bits is set (Q5 high bits) */
static AVX2 INLINE __m256i bits_to_bytes(uint32_t bits)
{
	const __m256i shuf = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202,
						0x0303030303030303);
	const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
	__m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);

	return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* the 32 nibbles of qs in element order: low nibbles, then high */
static AVX2 INLINE __m256i nibbles32(const uint8_t *qs)
{
	__m128i v = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0f);

	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/*
 * Block b of a row as 32 integer weights (dot_q32_q8_1_ref's), its d and
 * (Q4_1, Q5_1) min. Signed for Q4_0/Q5_0/Q8_0, unsigned (0..31) for the
 * types with a min. type is a constant after inlining.
 */
static AVX2 INLINE __m256i q32_block(uint32_t type, const uint8_t *row, int64_t b, float *d,
				     float *mn)
{
	uint32_t qh;

	switch (type) {
	case GGML_TYPE_Q4_0: {
		const struct block_q4_0 *x = (const struct block_q4_0 *)row + b;

		*d = h2f(x->d);
		return _mm256_sub_epi8(nibbles32(x->qs), _mm256_set1_epi8(8));
	}
	case GGML_TYPE_Q4_1: {
		const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;

		*d = h2f(x->d);
		*mn = h2f(x->m);
		return nibbles32(x->qs);
	}
	case GGML_TYPE_Q5_0: {
		const struct block_q5_0 *x = (const struct block_q5_0 *)row + b;

		*d = h2f(x->d);
		memcpy(&qh, x->qh, 4);
		/* q - 16: the nibble with 0xf0 where the high bit is clear
		 * (= nibble - 16 as int8), the nibble alone where it is set */
		return _mm256_or_si256(nibbles32(x->qs),
				       _mm256_andnot_si256(bits_to_bytes(qh), _mm256_set1_epi8((char)0xf0)));
	}
	case GGML_TYPE_Q5_1: {
		const struct block_q5_1 *x = (const struct block_q5_1 *)row + b;

		*d = h2f(x->d);
		*mn = h2f(x->m);
		memcpy(&qh, x->qh, 4);
		return _mm256_or_si256(nibbles32(x->qs),
				       _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
	}
	default: {	/* Q8_0 */
		const struct block_q8_0 *x = (const struct block_q8_0 *)row + b;

		*d = h2f(x->d);
		return _mm256_loadu_si256((const __m256i *)x->qs);
	}
	}
}

/*
 * One weight row against nm (<= 4) Q8_1 rows of nb blocks (the next one
 * nb blocks further): each block is unpacked once for the nm rows. Per
 * activation row two float accumulators (even and odd blocks, so the FMA
 * latency chain is half as long) and a scalar min sum, in the same order
 * for every nm, so a token's result does not depend on its batch.
 * Signed weights go through maddubs as |w| * sign(x, w); no pair sum
 * saturates: |w| <= 128, |x| <= 127.
 */
/* the 8 int32 sums of 4 u8 x s8 products: vpdpbusd (AVX512-VNNI + VL), or
 * vpmaddubsw (no pair saturates, see q32_q8_1) and vpmaddwd by ones */
static AVX2 INLINE __m256i q32_dot(__m256i u, __m256i s, bool vnni)
{
	if (vnni) {
		__m256i acc = _mm256_setzero_si256();

		__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
		return acc;
	}
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

static AVX2 INLINE void q32_step(uint32_t type, const uint8_t *row, const struct ops_block_q8_1 *y,
				 int64_t nb, int64_t b, int nm, __m256 *acc, float *summ, bool vnni)
{
	const bool has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
	float d, mn = 0.0f;
	__m256i w = q32_block(type, row, b, &d, &mn), u = w;

	if (!has_min)
		u = _mm256_sign_epi8(w, w);	/* |w| */
	UNROLL for (int m = 0; m < nm; m++) {
		const struct ops_block_q8_1 *a = &y[m * nb + b];
		__m256i xv = _mm256_loadu_si256((const __m256i *)a->qs);

		if (!has_min)
			xv = _mm256_sign_epi8(xv, w);
		__m256i p = q32_dot(u, xv, vnni);

		acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(p), acc[m]);
		if (has_min)
			summ[m] += mn * a->s;
	}
}

/*
 * One weight row against nm (<= 4) Q8_1 rows of nb blocks (the next one
 * nb blocks further): each block is unpacked once for the nm rows. Per
 * activation row two float accumulators (even and odd blocks, so the FMA
 * latency chain is half as long; two named arrays, as an index by b & 1
 * would keep them in memory) and a scalar min sum, in the same order for
 * every nm, so a token's result does not depend on its batch. Signed
 * weights go through maddubs as |w| * sign(x, w); no pair sum saturates:
 * |w| <= 128, |x| <= 127.
 */
static AVX2 INLINE void q32_q8_1(uint32_t type, const uint8_t *row, const struct ops_block_q8_1 *y,
				 int64_t nb, int nm, float *out, bool vnni)
{
	__m256 acc0[4], acc1[4];
	float summ[4] = { 0 };
	int64_t b = 0;

	UNROLL for (int m = 0; m < nm; m++)
		acc0[m] = acc1[m] = _mm256_setzero_ps();
	for (; b + 2 <= nb; b += 2) {
		q32_step(type, row, y, nb, b, nm, acc0, summ, vnni);
		q32_step(type, row, y, nb, b + 1, nm, acc1, summ, vnni);
	}
	if (b < nb)
		q32_step(type, row, y, nb, b, nm, acc0, summ, vnni);
	UNROLL for (int m = 0; m < nm; m++)
		out[m] = hsum(_mm256_add_ps(acc0[m], acc1[m])) + summ[m];
}

#define Q32(name, T) \
	static AVX2 void q32_##name##_1(const uint8_t *r, const struct ops_block_q8_1 *y, int64_t nb, \
					float *o) { q32_q8_1(T, r, y, nb, 1, o, false); } \
	static AVX2 void q32_##name##_4(const uint8_t *r, const struct ops_block_q8_1 *y, int64_t nb, \
					float *o) { q32_q8_1(T, r, y, nb, 4, o, false); } \
	static AVX512V void q32v_##name##_1(const uint8_t *r, const struct ops_block_q8_1 *y, \
					    int64_t nb, float *o) { q32_q8_1(T, r, y, nb, 1, o, true); } \
	static AVX512V void q32v_##name##_4(const uint8_t *r, const struct ops_block_q8_1 *y, \
					    int64_t nb, float *o) { q32_q8_1(T, r, y, nb, 4, o, true); }
Q32(q4_0, GGML_TYPE_Q4_0)
Q32(q4_1, GGML_TYPE_Q4_1)
Q32(q5_0, GGML_TYPE_Q5_0)
Q32(q5_1, GGML_TYPE_Q5_1)
Q32(q8_0, GGML_TYPE_Q8_0)
#undef Q32

typedef void (*q32_fn)(const uint8_t *r, const struct ops_block_q8_1 *y, int64_t nb, float *o);

static void rowdot8_q32_avx2(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			     int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride)
{
	const struct ops_block_q8_1 *a = q8;
	int64_t nb = cols / QK8_0;
	q32_fn f1, f4;

	bool v = use_vnni();

	switch (type) {
	case GGML_TYPE_Q4_0: f1 = v ? q32v_q4_0_1 : q32_q4_0_1; f4 = v ? q32v_q4_0_4 : q32_q4_0_4; break;
	case GGML_TYPE_Q4_1: f1 = v ? q32v_q4_1_1 : q32_q4_1_1; f4 = v ? q32v_q4_1_4 : q32_q4_1_4; break;
	case GGML_TYPE_Q5_0: f1 = v ? q32v_q5_0_1 : q32_q5_0_1; f4 = v ? q32v_q5_0_4 : q32_q5_0_4; break;
	case GGML_TYPE_Q5_1: f1 = v ? q32v_q5_1_1 : q32_q5_1_1; f4 = v ? q32v_q5_1_4 : q32_q5_1_4; break;
	default: f1 = v ? q32v_q8_0_1 : q32_q8_0_1; f4 = v ? q32v_q8_0_4 : q32_q8_0_4; break;
	}
	for (int64_t r = 0; r < n; r++) {
		const uint8_t *row = (const uint8_t *)rows + (size_t)r * row_bytes;
		int64_t m = 0;

		for (; m + 4 <= M; m += 4) {
			float out[4];

			f4(row, a + m * nb, nb, out);
			for (int k = 0; k < 4; k++)
				y[(m + k) * y_stride + r] = out[k];
		}
		for (; m < M; m++)
			f1(row, a + m * nb, nb, &y[m * y_stride + r]);
	}
}

/* acc + dot of 4 u8 x 4 s8 per i32 lane: vpdpbusd with vnni, else
 * maddubs (no saturation here: 15 * 127 * 2 < 32767) and madd by ones */
static AVX2 INLINE __m256i dpbusd(__m256i acc, __m256i u, __m256i s, bool vnni)
{
	if (vnni) {
		__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
		return acc;
	}
	return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

/*
 * 8 interleaved Q4_K rows (struct block_q4_Kx8) against nm (1 or 4) Q8_K
 * rows: lane r of every vector is row r, so the scales, mins and f16
 * factors of the 8 rows apply with one vector op each, and an activation
 * dword is broadcast once for 8 rows. The integer sums are those of
 * q4k_q8k_row (exact, so a token's result does not depend on nm); with
 * nm = 4 (prompts) each weight vector is unpacked once for 4 tokens.
 */
static AVX2 INLINE void q4kx8_q8k(const struct block_q4_Kx8 *x, const struct block_q8_K *y,
				  int64_t nb, int nm, __m256 *out, bool vnni)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256 acc[4];

	UNROLL for (int t = 0; t < nm; t++)
		acc[t] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nb; i++) {
		const struct block_q4_Kx8 *b = &x[i];
		__m256i sumi[4];

		_mm_prefetch((const char *)(b + 2), _MM_HINT_T0);
		UNROLL for (int t = 0; t < nm; t++)
			sumi[t] = _mm256_setzero_si256();
		UNROLL for (int j = 0; j < 4; j++) {
			/* [t][lo/hi nibbles][c & 1 for one token: two chains] */
			__m256i a[4][2][2];

			UNROLL for (int t = 0; t < nm; t++)
				a[t][0][0] = a[t][0][1] = a[t][1][0] = a[t][1][1] = _mm256_setzero_si256();
			UNROLL for (int c = 0; c < 8; c++) {
				__m256i v = _mm256_loadu_si256((const __m256i *)b->qs[j][c]);
				__m256i lo = _mm256_and_si256(v, m4);
				__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
				int p = nm == 1 ? c & 1 : 0;

				UNROLL for (int t = 0; t < nm; t++) {
					const int8_t *q8 = y[t * nb + i].qs + 64 * j + 4 * c;
					int32_t l, h;

					memcpy(&l, q8, 4);
					memcpy(&h, q8 + 32, 4);
					a[t][0][p] = dpbusd(a[t][0][p], lo, _mm256_set1_epi32(l), vnni);
					a[t][1][p] = dpbusd(a[t][1][p], hi, _mm256_set1_epi32(h), vnni);
				}
			}
			__m256i sl = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b->sc[2 * j]));
			__m256i sh = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b->sc[2 * j + 1]));

			UNROLL for (int t = 0; t < nm; t++) {
				__m256i l = a[t][0][0], h = a[t][1][0];

				if (nm == 1) {
					l = _mm256_add_epi32(l, a[t][0][1]);
					h = _mm256_add_epi32(h, a[t][1][1]);
				}
				sumi[t] = _mm256_add_epi32(sumi[t], _mm256_mullo_epi32(l, sl));
				sumi[t] = _mm256_add_epi32(sumi[t], _mm256_mullo_epi32(h, sh));
			}
		}
		__m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->d));
		__m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->dmin));

		UNROLL for (int t = 0; t < nm; t++) {
			/* mins: sum over groups of min * (sum of the group's 32 activations) */
			__m256i bs = _mm256_loadu_si256((const __m256i *)y[t * nb + i].bsums);
			__m128i s32 = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
			__m256i pm = _mm256_setzero_si256();

			UNROLL for (int k = 0; k < 4; k++) {
				__m256i mn = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)b->mn[k]));

				pm = _mm256_add_epi32(pm, _mm256_madd_epi16(mn, _mm256_set1_epi32(_mm_extract_epi32(s32, 0))));
				s32 = _mm_srli_si128(s32, 4);
			}
			__m256 v = _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(pm),
						    _mm256_mul_ps(d, _mm256_cvtepi32_ps(sumi[t])));

			acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y[t * nb + i].d), v, acc[t]);
		}
	}
	UNROLL for (int t = 0; t < nm; t++)
		out[t] = acc[t];
}

/* groups of 8 rows; within a group 4 tokens per pass, then one at a time */
#define KX8_RUN(name, BT, fn, V, ATTR) \
	static ATTR void name(const BT *rep, int64_t n8, int64_t nb, const void *q8, \
			      int64_t M, float *y, int64_t y_stride) \
	{ \
		const struct block_q8_K *a = q8; \
		for (int64_t g = 0; g < n8; g++) { \
			int64_t m = 0; \
			for (; m + 4 <= M; m += 4) { \
				__m256 o[4]; \
				fn(rep + g * nb, a + m * nb, nb, 4, o, V); \
				for (int t = 0; t < 4; t++) \
					_mm256_storeu_ps(y + (m + t) * y_stride + 8 * g, o[t]); \
			} \
			for (; m < M; m++) { \
				__m256 o; \
				fn(rep + g * nb, a + m * nb, nb, 1, &o, V); \
				_mm256_storeu_ps(y + m * y_stride + 8 * g, o); \
			} \
		} \
	}
KX8_RUN(q4kx8_run, struct block_q4_Kx8, q4kx8_q8k, false, AVX2)
KX8_RUN(q4kx8_run_vnni, struct block_q4_Kx8, q4kx8_q8k, true, AVX512V)

AVX2 void ops_rowdot8_q4_Kx8_avx2(const struct block_q4_Kx8 *rep, int64_t n8, int64_t nb, const void *q8,
				  int64_t M, float *y, int64_t y_stride)
{
	(use_vnni() ? q4kx8_run_vnni : q4kx8_run)(rep, n8, nb, q8, M, y, y_stride);
}

/*
 * 8 interleaved Q6_K rows (struct block_q6_Kx8) against nm (1 or 4) Q8_K
 * rows. For each chunk of 4 weights the 6-bit q of the 8 rows form one
 * vector (the ql nibble | the 2 qh bits << 4: block_q6_Kx8 keeps the row's
 * bit packing, so quarter k of a half takes nibble k / 2 of the ql bytes
 * and bits 2k of the qh bytes), meeting the broadcast activation dword in
 * a dpbusd. Each 16-weight sub-block's sum starts at -32 * bsum (the
 * offset of q - 32) and is then multiplied by the 8 rows' scales; the
 * integer sums are those of dot_q6_K_q8_K_ref, exactly. The weights are
 * read front to back (the hardware prefetcher keeps up then: a block read
 * out of order ran at half the speed from DRAM); with nm = 4 a weight
 * vector is unpacked once for 4 tokens (prompts). A token's result does
 * not depend on nm.
 */
static AVX2 INLINE void q6kx8_q8k(const struct block_q6_Kx8 *x, const struct block_q8_K *y,
				  int64_t nb, int nm, __m256 *out, bool vnni)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
	__m256 acc[4];

	UNROLL for (int t = 0; t < nm; t++)
		acc[t] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nb; i++) {
		const struct block_q6_Kx8 *b = &x[i];
		__m256i sumi[4];

		UNROLL for (int t = 0; t < nm; t++)
			sumi[t] = _mm256_setzero_si256();
		NOUNROLL for (int n = 0; n < 2; n++) {
			UNROLL for (int jj = 0; jj < 2; jj++) {
				__m256i a[4][4];	/* [t][k]: sub-block 8n + 2k + jj */

				UNROLL for (int t = 0; t < nm; t++)
					UNROLL for (int k = 0; k < 4; k++)
						a[t][k] = _mm256_set1_epi32(-32 * y[t * nb + i].bsums[8 * n + 2 * k + jj]);
				UNROLL for (int j = 4 * jj; j < 4 * jj + 4; j++) {
					__m256i l0 = _mm256_loadu_si256((const __m256i *)b->q[n][j][0]);
					__m256i l1 = _mm256_loadu_si256((const __m256i *)b->q[n][j][1]);
					__m256i h = _mm256_loadu_si256((const __m256i *)b->q[n][j][2]);
					__m256i q[4];

					q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
							       _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
					q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
							       _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
					q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
							       _mm256_and_si256(h, m30));
					q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
							       _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
					UNROLL for (int t = 0; t < nm; t++)
						UNROLL for (int k = 0; k < 4; k++) {
							int32_t v;

							memcpy(&v, y[t * nb + i].qs + 128 * n + 32 * k + 4 * j, 4);
							a[t][k] = dpbusd(a[t][k], q[k], _mm256_set1_epi32(v), vnni);
						}
				}
				UNROLL for (int k = 0; k < 4; k++) {
					__m256i sc = _mm256_cvtepi8_epi32(
						_mm_loadl_epi64((const __m128i *)b->sc[8 * n + 2 * k + jj]));

					UNROLL for (int t = 0; t < nm; t++)
						sumi[t] = _mm256_add_epi32(sumi[t], _mm256_mullo_epi32(a[t][k], sc));
				}
			}
		}
		__m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->d));

		UNROLL for (int t = 0; t < nm; t++)
			acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(y[t * nb + i].d)),
						 _mm256_cvtepi32_ps(sumi[t]), acc[t]);
	}
	UNROLL for (int t = 0; t < nm; t++)
		out[t] = acc[t];
}

KX8_RUN(q6kx8_run, struct block_q6_Kx8, q6kx8_q8k, false, AVX2)
KX8_RUN(q6kx8_run_vnni, struct block_q6_Kx8, q6kx8_q8k, true, AVX512V)
#undef KX8_RUN

AVX2 void ops_rowdot8_q6_Kx8_avx2(const struct block_q6_Kx8 *rep, int64_t n8, int64_t nb, const void *q8,
				  int64_t M, float *y, int64_t y_stride)
{
	(use_vnni() ? q6kx8_run_vnni : q6kx8_run)(rep, n8, nb, q8, M, y, y_stride);
}

AVX2 float ops_dot_f32_avx2(const float *a, const float *b, int n)
{
	return dot1(a, b, n);
}

AVX2 void ops_axpy_f32_avx2(float *y, float a, const float *x, int n)
{
	__m256 av = _mm256_set1_ps(a);
	int i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i),
							_mm256_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] += a * x[i];
}

/*
 * quantize_row_q8_K_ref, byte for byte for finite x: the block's largest
 * |x| by vector max, then the first element that has it (its sign sets the
 * scale's, as in the reference); products rounded to the nearest integer,
 * ties to even, which the reference's 1.5 * 2^23 trick also does.
 */
AVX2 void ops_quantize_row_q8_K_avx2(const float *x, struct block_q8_K *y, int64_t n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);

	for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
		__m256 am = _mm256_setzero_ps();

		for (int j = 0; j < QK_K; j += 8)
			am = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), am);
		const float amax = hmax(am);

		if (!amax) {
			memset(y[i].qs, 0, sizeof(y[i].qs));
			memset(y[i].bsums, 0, sizeof(y[i].bsums));
			y[i].d = 0;
			continue;
		}
		float max = 0;

		for (int j = 0; j < QK_K; j++)
			if (fabsf(x[j]) == amax) {
				max = x[j];
				break;
			}
		const float iscale = -127.f / max;
		const __m256 vs = _mm256_set1_ps(iscale);

		for (int j = 0; j < QK_K; j += 32) {
			__m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j)));
			__m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 8)));
			__m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 16)));
			__m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 24)));
			/* |q| <= 127: the saturating packs are exact; they interleave lanes */
			__m256i q01 = _mm256_packs_epi32(q0, q1), q23 = _mm256_packs_epi32(q2, q3);
			__m256i q8 = _mm256_packs_epi16(q01, q23);
			const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);

			q8 = _mm256_permutevar8x32_epi32(q8, perm);
			q8 = _mm256_min_epi8(q8, _mm256_set1_epi8(127));
			_mm256_storeu_si256((__m256i *)(y[i].qs + j), q8);
		}
		for (int j = 0; j < QK_K / 16; j++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(y[i].qs + 16 * j));
			__m256i w = _mm256_cvtepi8_epi16(v);
			__m128i s = _mm_add_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));

			s = _mm_add_epi16(s, _mm_unpackhi_epi64(s, s));
			s = _mm_add_epi16(s, _mm_shufflelo_epi16(s, 0x4e));
			s = _mm_add_epi16(s, _mm_shufflelo_epi16(s, 0xb1));
			y[i].bsums[j] = (int16_t)_mm_extract_epi16(s, 0);
		}
		y[i].d = 1 / iscale;
	}
}

/* int8 lanes from 32 int32 in four registers, in order (the packs interleave) */
static inline AVX2 __m256i pack_i32x32_i8(__m256i q0, __m256i q1, __m256i q2, __m256i q3)
{
	__m256i q8 = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));

	return _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/*
 * ops_quantize_row_q8_1_ref, the same bytes: amax, d = amax / 127 and
 * id = 1 / d in scalar as there; roundf (ties away from zero) as
 * trunc(v) + (|v - trunc(v)| >= 0.5 ? sign(v) : 0), v - trunc(v) being exact.
 */
AVX2 void ops_quantize_row_q8_1_avx2(const float *x, struct ops_block_q8_1 *y, int64_t n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);

	for (int64_t i = 0; i < n / QK8_0; i++) {
		const float *v = x + i * QK8_0;
		__m256 xs[4], am = _mm256_setzero_ps();
		__m256i r[4];

		for (int k = 0; k < 4; k++) {
			xs[k] = _mm256_loadu_ps(v + 8 * k);
			am = _mm256_max_ps(_mm256_andnot_ps(sign, xs[k]), am);
		}
		const float amax = hmax(am), d = amax / 127, id = d ? 1.0f / d : 0.0f;
		__m256i sum = _mm256_setzero_si256();

		for (int k = 0; k < 4; k++) {
			__m256 p = _mm256_mul_ps(xs[k], _mm256_set1_ps(id));
			__m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
			__m256 f = _mm256_andnot_ps(sign, _mm256_sub_ps(p, t));
			__m256 step = _mm256_or_ps(_mm256_and_ps(sign, p), one);	/* +-1 */

			t = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(f, half, _CMP_GE_OQ), step));
			r[k] = _mm256_cvttps_epi32(t);
			sum = _mm256_add_epi32(sum, r[k]);
		}
		_mm256_storeu_si256((__m256i *)y[i].qs, pack_i32x32_i8(r[0], r[1], r[2], r[3]));
		__m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));

		s4 = _mm_hadd_epi32(s4, s4);
		s4 = _mm_hadd_epi32(s4, s4);
		y[i].d = h2f(fp32_to_fp16(d));
		y[i].s = h2f(fp32_to_fp16((float)_mm_cvtsi128_si32(s4) * d));
	}
}

/*
 * npu_quantize_row(): max |x| (NaN ignored, as the scalar compare does),
 * q = x * 127 / max rounded to nearest even (lrintf's default mode), then
 * clamped to [-127, 127]; a NaN element gives 0, as in the reference.
 */
AVX2 float ops_quantize_i8_row_avx2(const float *x, int64_t K, int8_t *q)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 am = _mm256_setzero_ps();
	float amax, inv;
	int64_t k = 0;

	for (; k + 8 <= K; k += 8)
		am = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)), am);
	amax = hmax(am);
	for (; k < K; k++)
		amax = fabsf(x[k]) > amax ? fabsf(x[k]) : amax;
	if (!(amax > 0.0f) || !isfinite(amax)) {
		memset(q, 0, (size_t)K);
		return 0.0f;
	}
	inv = 127.0f / amax;
	const __m256 vi = _mm256_set1_ps(inv);
	const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
	__m256i r[4];

	for (k = 0; k + 32 <= K; k += 32) {
		for (int i = 0; i < 4; i++) {
			__m256 xs = _mm256_loadu_ps(x + k + 8 * i);
			__m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(xs, vi));

			v = _mm256_max_epi32(_mm256_min_epi32(v, hi), lo);
			/* NaN lanes: 0 (the conversion gave INT_MIN) */
			r[i] = _mm256_and_si256(v, _mm256_castps_si256(_mm256_cmp_ps(xs, xs, _CMP_ORD_Q)));
		}
		_mm256_storeu_si256((__m256i *)(q + k), pack_i32x32_i8(r[0], r[1], r[2], r[3]));
	}
	for (; k < K; k++) {
		/* a NaN gives 0 (lrintf's value for it differs between x86 and arm64) */
		long v = isnan(x[k]) ? 0 : lrintf(x[k] * inv);

		q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	return amax / 127.0f;
}

/*
 * npu_hadamard() for blocks of hb >= 8 only (a power of two): the same butterfly
 * stages on the same operands, so the same bits. Strides 1, 2 and 4 are
 * inside a register: the partner comes from a permute, and the lanes that
 * take the difference do partner - self (= the first of the pair minus the
 * second, as the scalar code).
 */
AVX2 void ops_hadamard_avx2(float *x, int64_t n, uint32_t hb)
{
	const __m256 norm = _mm256_set1_ps(1.0f / sqrtf((float)hb));

	for (int64_t b = 0; b + hb <= n; b += hb) {
		float *v = x + b;

		for (uint32_t j = 0; j < hb; j += 8) {
			__m256 a = _mm256_loadu_ps(v + j), s;

			s = _mm256_permute_ps(a, 0xb1);				/* stride 1 */
			a = _mm256_blend_ps(_mm256_add_ps(a, s), _mm256_sub_ps(s, a), 0xaa);
			s = _mm256_permute_ps(a, 0x4e);				/* stride 2 */
			a = _mm256_blend_ps(_mm256_add_ps(a, s), _mm256_sub_ps(s, a), 0xcc);
			s = _mm256_permute2f128_ps(a, a, 0x01);			/* stride 4 */
			a = _mm256_blend_ps(_mm256_add_ps(a, s), _mm256_sub_ps(s, a), 0xf0);
			_mm256_storeu_ps(v + j, a);
		}
		for (uint32_t h = 8; h < hb; h *= 2)
			for (uint32_t i = 0; i < hb; i += 2 * h)
				for (uint32_t j = i; j < i + h; j += 8) {
					__m256 a = _mm256_loadu_ps(v + j), c = _mm256_loadu_ps(v + j + h);

					_mm256_storeu_ps(v + j, _mm256_add_ps(a, c));
					_mm256_storeu_ps(v + j + h, _mm256_sub_ps(a, c));
				}
		for (uint32_t j = 0; j < hb; j += 8)
			_mm256_storeu_ps(v + j, _mm256_mul_ps(_mm256_loadu_ps(v + j), norm));
	}
}

/*
 * exp(x) for 8 floats: x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts,
 * so r is exact enough), e^r by its degree-6 Taylor polynomial (error under
 * 2e-8 relative on that interval), times 2^n built in the exponent bits.
 * x is clamped to [-87.3, 88.3] so that n stays in [-126, 127] (normal
 * results); silu needs no more: beyond, x / (1 + e^-x) is below 1e-36.
 */
static inline __attribute__((target("avx2,fma"))) __m256 exp8(__m256 x)
{
	const __m256 log2e = _mm256_set1_ps(1.44269504088896341f);
	const __m256 ln2_hi = _mm256_set1_ps(0.693145751953125f);
	const __m256 ln2_lo = _mm256_set1_ps(1.42860682030941723212e-6f);

	x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
	__m256 n = _mm256_round_ps(_mm256_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(n, ln2_hi, x);

	r = _mm256_fnmadd_ps(n, ln2_lo, r);
	__m256 p = _mm256_set1_ps(1.0f / 720);

	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	/* 2^n: n + 127 in the exponent field */
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);

	return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 void ops_swiglu_avx2(float *a, const float *b, int n)
{
	const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(a + i);
		__m256 d = _mm256_add_ps(one, exp8(_mm256_xor_ps(x, sign)));

		_mm256_storeu_ps(a + i, _mm256_mul_ps(_mm256_div_ps(x, d), _mm256_loadu_ps(b + i)));
	}
	for (; i < n; i++)
		a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
}

AVX2 void ops_rowdot_avx2(const void *row, uint32_t type, int64_t cols, const float *x,
			  int64_t M, float *y, int64_t y_stride, float *scratch)
{
	const float *w = scratch;
	int64_t m = 0;

	float (*f1)(const void *, int64_t, const float *) = NULL;
	void (*f4)(const void *, int64_t, const float *, float[4]) = NULL;

	switch (type) {
	case GGML_TYPE_Q8_0: f1 = fused_q8_0_1; f4 = fused_q8_0_4; break;
	case GGML_TYPE_Q4_0: f1 = fused_q4_0_1; f4 = fused_q4_0_4; break;
	case GGML_TYPE_Q4_1: f1 = fused_q4_1_1; f4 = fused_q4_1_4; break;
	case GGML_TYPE_Q4_K: f1 = fused_q4_K_1; f4 = fused_q4_K_4; break;
	case GGML_TYPE_Q6_K: f1 = fused_q6_K_1; f4 = fused_q6_K_4; break;
	case GGML_TYPE_F16:
		if (cols % 32 == 0) {
			f1 = fused_f16_1;
			f4 = fused_f16_4;
		}
		break;
	default: break;
	}
	if (f1) {
		for (; m + 4 <= M; m += 4) {
			float out[4];

			f4(row, cols, x + m * cols, out);
			for (int k = 0; k < 4; k++)
				y[(m + k) * y_stride] = out[k];
		}
		for (; m < M; m++)
			y[m * y_stride] = f1(row, cols, x + m * cols);
		return;
	}
	switch (type) {
	case GGML_TYPE_F32: w = row; break;
	case GGML_TYPE_F16: widen_f16(row, scratch, cols); break;
	default: dequantize_row(type, row, scratch, cols); break;
	}
	for (; m + 4 <= M; m += 4) {
		float out[4];

		dot4(w, x + m * cols, cols, out);
		for (int k = 0; k < 4; k++)
			y[(m + k) * y_stride] = out[k];
	}
	for (; m < M; m++)
		y[m * y_stride] = dot1(w, x + m * cols, cols);
}
#endif
