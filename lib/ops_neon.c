// SPDX-License-Identifier: MIT
/*
 * aarch64 NEON row-dot kernel (the RK3588 target; compiled only there).
 * Q8_0/Q4_0/Q4_1/F16 blocks are widened in registers and dotted in one
 * pass, as in ops_avx2.c; F32 rows are used in place; other types are
 * dequantised by lib/quant.c into a scratch row, then dotted with FMA.
 * Q4_K/Q6_K rows against Q8_K activations and the blocks of 32 against
 * Q8_1 ones (act8) dot in int8 with sdot where the CPU has it (vmull_s8
 * otherwise). Also the serial helpers of
 * the forward pass and the NPU backend (Q8_K and int8 row quantisers,
 * Hadamard rotation, SwiGLU), equal to their scalar references as the AVX2
 * ones are.
 */
#include "ops.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <asm/hwcap.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "fp16.h"
#include "ggml_types.h"
#include "ops.h"
#include "quant.h"

static float dot1(const float *a, const float *b, int64_t n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
	float32x4_t s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
	int64_t i = 0;

	for (; i + 16 <= n; i += 16) {
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
		s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
		s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
		s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
	}
	for (; i + 4 <= n; i += 4)
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
	float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));

	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

float ops_dot_f32_neon(const float *a, const float *b, int n)
{
	return dot1(a, b, n);
}

void ops_axpy_f32_neon(float *y, float a, const float *x, int n)
{
	float32x4_t av = vdupq_n_f32(a);
	int i = 0;

	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), av, vld1q_f32(x + i)));
	for (; i < n; i++)
		y[i] += a * x[i];
}

static inline float h2f(uint16_t h)
{
	float16x4_t v = vreinterpret_f16_u16(vdup_n_u16(h));

	return vgetq_lane_f32(vcvt_f32_f16(v), 0);
}

static inline void widen_u8x16(uint8x16_t v, float32x4_t out[4])
{
	uint16x8_t lo = vmovl_u8(vget_low_u8(v)), hi = vmovl_u8(vget_high_u8(v));

	out[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)));
	out[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo)));
	out[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)));
	out[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)));
}

/* Block i as 8 vectors of unscaled weights, scale d, min mn (Q4_1). */
static inline void load_block(uint32_t type, const void *row, int64_t i, float32x4_t w[8],
			      float *d, float *mn)
{
	*d = 1.0f;
	*mn = 0.0f;
	switch (type) {
	case GGML_TYPE_Q8_0: {
		const struct block_q8_0 *b = (const struct block_q8_0 *)row + i;

		*d = h2f(b->d);
		for (int k = 0; k < 4; k++) {
			int16x8_t q = vmovl_s8(vld1_s8(b->qs + 8 * k));

			w[2 * k] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(q)));
			w[2 * k + 1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(q)));
		}
		break;
	}
	case GGML_TYPE_Q4_0:
	case GGML_TYPE_Q4_1: {
		const uint8_t *qs;

		if (type == GGML_TYPE_Q4_0) {
			const struct block_q4_0 *b = (const struct block_q4_0 *)row + i;

			*d = h2f(b->d);
			qs = b->qs;
		} else {
			const struct block_q4_1 *b = (const struct block_q4_1 *)row + i;

			*d = h2f(b->d);
			*mn = h2f(b->m);
			qs = b->qs;
		}
		uint8x16_t v = vld1q_u8(qs);

		/* element j: low nibble of qs[j]; j + 16: the high nibble */
		widen_u8x16(vandq_u8(v, vdupq_n_u8(0x0f)), w);
		widen_u8x16(vshrq_n_u8(v, 4), w + 4);
		if (type == GGML_TYPE_Q4_0)
			for (int k = 0; k < 8; k++)
				w[k] = vsubq_f32(w[k], vdupq_n_f32(8.0f));
		break;
	}
	default: {	/* F16: 32 halves */
		const uint16_t *h = (const uint16_t *)row + i * 32;

		for (int k = 0; k < 8; k++)
			w[k] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + 4 * k)));
		break;
	}
	}
}

/* sum(w * x) over a block and sum(x) (for the Q4_1 min) */
static inline float32x4_t block_dot(const float32x4_t w[8], const float *x, float32x4_t *xs)
{
	float32x4_t a = vmulq_f32(w[0], vld1q_f32(x)), b = vmulq_f32(w[1], vld1q_f32(x + 4));
	float32x4_t s = vaddq_f32(vld1q_f32(x), vld1q_f32(x + 4));

	for (int k = 2; k < 8; k += 2) {
		float32x4_t x0 = vld1q_f32(x + 4 * k), x1 = vld1q_f32(x + 4 * k + 4);

		a = vfmaq_f32(a, w[k], x0);
		b = vfmaq_f32(b, w[k + 1], x1);
		s = vaddq_f32(s, vaddq_f32(x0, x1));
	}
	*xs = s;
	return vaddq_f32(a, b);
}

/* up to 4 activation rows against one fused row */
static void fused(uint32_t type, const void *row, int64_t cols, const float *x, int nm,
		  float *out)
{
	float32x4_t acc[4], accm[4];
	int64_t nb = cols / 32;

	for (int m = 0; m < 4; m++)
		acc[m] = accm[m] = vdupq_n_f32(0);
	for (int64_t i = 0; i < nb; i++) {
		float32x4_t w[8], xs;
		float d, mn;

		load_block(type, row, i, w, &d, &mn);
		for (int m = 0; m < nm; m++) {
			float32x4_t sm = block_dot(w, x + m * cols + i * 32, &xs);

			acc[m] = vfmaq_n_f32(acc[m], sm, d);
			accm[m] = vfmaq_n_f32(accm[m], xs, mn);
		}
	}
	for (int m = 0; m < nm; m++)
		out[m] = vaddvq_f32(vaddq_f32(acc[m], accm[m]));
}

/* 16 rounded int32 (four vectors) to int8 with saturation, in order. */
static inline int8x16_t narrow16(int32x4_t q0, int32x4_t q1, int32x4_t q2, int32x4_t q3)
{
	int16x8_t h0 = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
	int16x8_t h1 = vcombine_s16(vqmovn_s32(q2), vqmovn_s32(q3));

	return vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1));
}

/*
 * quantize_row_q8_K_ref, byte for byte for finite x: the block's largest
 * |x| by vector max, then the first element that has it (its sign sets the
 * scale's, as in the reference); products rounded to nearest, ties to even
 * (vcvtnq, as the reference's 1.5 * 2^23 trick), narrowed with saturation
 * (the ref's clamp to 127; |q| <= 127 otherwise).
 */
void ops_quantize_row_q8_K_neon(const float *x, struct block_q8_K *y, int64_t n)
{
	for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
		float32x4_t am = vdupq_n_f32(0);

		for (int j = 0; j < QK_K; j += 4)
			am = vmaxq_f32(am, vabsq_f32(vld1q_f32(x + j)));
		const float amax = vmaxvq_f32(am);

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

		for (int j = 0; j < QK_K; j += 16) {
			int8x16_t q8 = narrow16(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j), iscale)),
						vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 4), iscale)),
						vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 8), iscale)),
						vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 12), iscale)));

			vst1q_s8(y[i].qs + j, q8);
			/* one bsum per 16 quants: exactly this vector */
			y[i].bsums[j / 16] = vaddlvq_s8(q8);
		}
		y[i].d = 1 / iscale;
	}
}

/*
 * ops_quantize_row_q8_1_ref, the same bytes: d and id in scalar as there;
 * vcvtaq rounds to nearest with ties away from zero, as roundf.
 */
void ops_quantize_row_q8_1_neon(const float *x, struct ops_block_q8_1 *y, int64_t n)
{
	for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
		float32x4_t am = vdupq_n_f32(0);

		for (int j = 0; j < QK8_0; j += 4)
			am = vmaxq_f32(am, vabsq_f32(vld1q_f32(x + j)));
		const float amax = vmaxvq_f32(am), d = amax / 127, id = d ? 1.0f / d : 0.0f;
		int32_t sum = 0;

		for (int j = 0; j < QK8_0; j += 16) {
			int8x16_t q8 = narrow16(vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + j), id)),
						vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 4), id)),
						vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 8), id)),
						vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 12), id)));

			vst1q_s8(y[i].qs + j, q8);
			sum += vaddlvq_s8(q8);
		}
		y[i].d = fp16_to_fp32(fp32_to_fp16(d));
		y[i].s = fp16_to_fp32(fp32_to_fp16((float)sum * d));
	}
}

/*
 * npu_quantize_row(): max |x| ignoring NaN (vmaxnm, as the scalar compare
 * does), q = x * 127 / max rounded to nearest even (lrintf's default mode),
 * clamped to [-127, 127]. A NaN element converts to 0 (FCVTNS), as the
 * reference defines it.
 */
float ops_quantize_i8_row_neon(const float *x, int64_t K, int8_t *q)
{
	float32x4_t am = vdupq_n_f32(0);
	float amax, inv;
	int64_t k = 0;

	for (; k + 4 <= K; k += 4)
		am = vmaxnmq_f32(am, vabsq_f32(vld1q_f32(x + k)));
	amax = vmaxnmvq_f32(am);
	for (; k < K; k++)
		amax = fabsf(x[k]) > amax ? fabsf(x[k]) : amax;
	if (!(amax > 0.0f) || !isfinite(amax)) {
		memset(q, 0, (size_t)K);
		return 0.0f;
	}
	inv = 127.0f / amax;
	const int32x4_t lo = vdupq_n_s32(-127), hi = vdupq_n_s32(127);

	for (k = 0; k + 16 <= K; k += 16) {
		int32x4_t r[4];

		for (int i = 0; i < 4; i++) {
			int32x4_t v = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 4 * i), inv));

			r[i] = vmaxq_s32(vminq_s32(v, hi), lo);
		}
		int16x8_t h0 = vcombine_s16(vmovn_s32(r[0]), vmovn_s32(r[1]));
		int16x8_t h1 = vcombine_s16(vmovn_s32(r[2]), vmovn_s32(r[3]));

		vst1q_s8(q + k, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
	}
	for (; k < K; k++) {
		/* a NaN gives 0 (lrintf's value for it differs between x86 and arm64) */
		long v = isnan(x[k]) ? 0 : lrintf(x[k] * inv);

		q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	return amax / 127.0f;
}

/*
 * npu_hadamard() for blocks of hb >= 8 only (a power of two): every
 * butterfly output is the same a + c or a - c of the same operands as the
 * scalar code, so the same bits. Strides 1 and 2 work on 8 elements in two
 * registers: de-interleave so the pair's first and second elements sit in
 * separate vectors, add and subtract, interleave back.
 */
void ops_hadamard_neon(float *x, int64_t n, uint32_t hb)
{
	const float32x4_t norm = vdupq_n_f32(1.0f / sqrtf((float)hb));

	for (int64_t b = 0; b + hb <= n; b += hb) {
		float *v = x + b;

		for (uint32_t j = 0; j < hb; j += 8) {
			float32x4_t v0 = vld1q_f32(v + j), v1 = vld1q_f32(v + j + 4);
			/* stride 1: pairs (0,1) (2,3) ...: even lanes against odd */
			float32x4_t a = vuzp1q_f32(v0, v1), c = vuzp2q_f32(v0, v1);
			float32x4_t s = vaddq_f32(a, c), d = vsubq_f32(a, c);

			v0 = vzip1q_f32(s, d);
			v1 = vzip2q_f32(s, d);
			/* stride 2: pairs (0,2) (1,3): low halves against high halves */
			float64x2_t w0 = vreinterpretq_f64_f32(v0), w1 = vreinterpretq_f64_f32(v1);

			a = vreinterpretq_f32_f64(vzip1q_f64(w0, w1));
			c = vreinterpretq_f32_f64(vzip2q_f64(w0, w1));
			w0 = vreinterpretq_f64_f32(vaddq_f32(a, c));
			w1 = vreinterpretq_f64_f32(vsubq_f32(a, c));
			vst1q_f32(v + j, vreinterpretq_f32_f64(vzip1q_f64(w0, w1)));
			vst1q_f32(v + j + 4, vreinterpretq_f32_f64(vzip2q_f64(w0, w1)));
		}
		for (uint32_t h = 4; h < hb; h *= 2)
			for (uint32_t i = 0; i < hb; i += 2 * h)
				for (uint32_t j = i; j < i + h; j += 4) {
					float32x4_t a = vld1q_f32(v + j), c = vld1q_f32(v + j + h);

					vst1q_f32(v + j, vaddq_f32(a, c));
					vst1q_f32(v + j + h, vsubq_f32(a, c));
				}
		for (uint32_t j = 0; j < hb; j += 4)
			vst1q_f32(v + j, vmulq_f32(vld1q_f32(v + j), norm));
	}
}

/*
 * exp(x) for 4 floats: x = k ln2 + r, k = round(x log2e), |r| <= ln2 / 2
 * (ln2 split in a short high part, so k * ln2_hi is exact, and the rest),
 * e^r by its degree-7 Taylor polynomial (truncation under 1e-8 relative
 * there), times 2^k put straight into the exponent field. x is clamped to
 * [-87.3, 88.3] so k stays in [-126, 127] (normal numbers, no overflow of
 * the field); silu needs no more, beyond that x / (1 + e^-x) is < 1e-36.
 */
static inline float32x4_t exp4(float32x4_t x)
{
	const float32x4_t ln2_hi = vdupq_n_f32(0.693145751953125f);
	const float32x4_t ln2_lo = vdupq_n_f32(1.42860682030941723212e-6f);

	x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.3f));
	float32x4_t k = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
	float32x4_t r = vfmsq_f32(x, k, ln2_hi);

	r = vfmsq_f32(r, k, ln2_lo);
	/* Horner from 1/7! down to 1 */
	float32x4_t p = vdupq_n_f32(1.0f / 5040);

	p = vfmaq_f32(vdupq_n_f32(1.0f / 720), p, r);
	p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
	p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
	p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
	p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
	p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
	p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
	/* 2^k: k + 127 in bits 23..30 */
	int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127)), 23);

	return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

void ops_swiglu_neon(float *a, const float *b, int n)
{
	const float32x4_t one = vdupq_n_f32(1.0f);
	int i = 0;

	for (; i + 4 <= n; i += 4) {
		float32x4_t x = vld1q_f32(a + i);
		float32x4_t d = vaddq_f32(one, exp4(vnegq_f32(x)));

		vst1q_f32(a + i, vmulq_f32(vdivq_f32(x, d), vld1q_f32(b + i)));
	}
	for (; i < n; i++)
		a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
}

void ops_rowdot_neon(const void *row, uint32_t type, int64_t cols, const float *x,
		     int64_t M, float *y, int64_t y_stride, float *scratch)
{
	const float *w = scratch;

	if (type == GGML_TYPE_Q8_0 || type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q4_1 ||
	    (type == GGML_TYPE_F16 && cols % 32 == 0)) {
		for (int64_t m = 0; m < M; m += 4) {
			int nm = M - m < 4 ? (int)(M - m) : 4;
			float out[4];

			fused(type, row, cols, x + m * cols, nm, out);
			for (int k = 0; k < nm; k++)
				y[(m + k) * y_stride] = out[k];
		}
		return;
	}
	if (type == GGML_TYPE_F32)
		w = row;
	else
		dequantize_row(type, row, scratch, cols);
	for (int64_t m = 0; m < M; m++)
		y[m * y_stride] = dot1(w, x + m * cols, cols);
}

/* ---- act8: Q4_K / Q6_K rows against Q8_K activations ----------------------- */

/*
 * Per super-block the weights are unpacked to int8 in 16 registers of 16
 * (chunk c covers elements 16 c .. 16 c + 15, the activations' qs + 16 c),
 * dotted in exact int32 with up to 4 activation rows, and the integer sum
 * is scaled in float as dot_q4_K_q8_K_ref / _q6_K_ do (same expression,
 * same block order), so the result matches the reference.
 */
/* GCC 12's arm_neon.h declares vdotq_s32 under arch=armv8.2-a+dotprod; a
 * bare "+dotprod" on an armv8-a function is not a superset of it */
#define DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

typedef int32x4_t (*dot16_fn)(int32x4_t acc, int8x16_t w, int8x16_t a);

/* ARMv8.2 sdot: each lane adds 4 adjacent int8 products */
DOTPROD
static inline int32x4_t dot16_sdot(int32x4_t acc, int8x16_t w, int8x16_t a)
{
	return vdotq_s32(acc, w, a);
}

/* plain NEON: int16 products (|w a| <= 32 * 128), adjacent pairs widened */
static inline int32x4_t dot16_mull(int32x4_t acc, int8x16_t w, int8x16_t a)
{
	acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(a)));
	return vpadalq_s16(acc, vmull_high_s8(w, a));
}

/* Q4_K: group g (32 weights, scale sc[g], min mn[g]) is chunks 2g, 2g + 1;
 * group pair j shares qs[32 j .. 32 j + 31], low nibbles first */
static inline __attribute__((always_inline)) void
q4k_unpack(const struct block_q4_K *x, int8x16_t w[16], uint8_t sc[8], int16x8_t *mins)
{
	const uint8x16_t m4 = vdupq_n_u8(0x0f);
	uint8_t mn[8];

	for (int j = 0; j < 4; j++) {
		uint8x16_t q0 = vld1q_u8(x->qs + 32 * j), q1 = vld1q_u8(x->qs + 32 * j + 16);

		w[4 * j] = vreinterpretq_s8_u8(vandq_u8(q0, m4));
		w[4 * j + 1] = vreinterpretq_s8_u8(vandq_u8(q1, m4));
		w[4 * j + 2] = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
		w[4 * j + 3] = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
	}
	/* the 6-bit scales and mins (get_scale_min_k4), inline: bytes 0..3 and
	 * 4..7 hold groups 0..3 in their low 6 bits and the top 2 bits of
	 * groups 4..7, whose low 4 bits are the nibbles of bytes 8..11 */
	for (int j = 0; j < 4; j++) {
		const uint8_t *q = x->scales;

		sc[j] = q[j] & 63;
		mn[j] = q[j + 4] & 63;
		sc[j + 4] = (q[j + 8] & 0x0f) | (q[j] >> 6 << 4);
		mn[j + 4] = (q[j + 8] >> 4) | (q[j + 4] >> 6 << 4);
	}
	*mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
}

static inline __attribute__((always_inline)) float
q4k_block(const struct block_q4_K *x, const int8x16_t w[16], const uint8_t sc[8], int16x8_t mins,
	  const struct block_q8_K *y, dot16_fn dot)
{
	int32x4_t acc = vdupq_n_s32(0);

	for (int g = 0; g < 8; g++) {
		int32x4_t p = dot(vdupq_n_s32(0), w[2 * g], vld1q_s8(y->qs + 32 * g));

		p = dot(p, w[2 * g + 1], vld1q_s8(y->qs + 32 * g + 16));
		acc = vmlaq_n_s32(acc, p, sc[g]);
	}
	/* sum_l (sc q_l - mn) a_l = sc sum_l q_l a_l - mn sum_l a_l: the group
	 * sums of a are the activations' bsums (16 each), paired per group of
	 * 32 (|pair| <= 32 * 128 fits int16) */
	int16x8_t bs = vpaddq_s16(vld1q_s16(y->bsums), vld1q_s16(y->bsums + 8));
	int32x4_t mm = vmlal_high_s16(vmull_s16(vget_low_s16(bs), vget_low_s16(mins)), bs, mins);
	int32_t isum = vaddvq_s32(acc), imin = vaddvq_s32(mm);

	return y->d * (h2f(x->d) * (float)isum - h2f(x->dmin) * (float)imin);
}

/* Q6_K: half n (128 weights) takes ql[64 n ..], qh[32 n ..]; its quarter k
 * the low (k < 2) or high nibbles of ql[32 (k & 1) ..] and bits 2k, 2k+1
 * of qh, so chunk 8 n + 2 k + h (h: first or second 16) has scale
 * scales[8 n + 2 k + h]. The 6-bit q - 32 fits int8 exactly. */
static inline __attribute__((always_inline)) void
q6k_unpack(const struct block_q6_K *x, int8x16_t w[16])
{
	const uint8x16_t m4 = vdupq_n_u8(0x0f), m2 = vdupq_n_u8(0x30);
	const int8x16_t off = vdupq_n_s8(32);

	for (int n = 0; n < 2; n++) {
		const uint8_t *ql = x->ql + 64 * n, *qh = x->qh + 32 * n;

		for (int h = 0; h < 2; h++) {
			uint8x16_t l0 = vld1q_u8(ql + 16 * h), l1 = vld1q_u8(ql + 32 + 16 * h);
			uint8x16_t hb = vld1q_u8(qh + 16 * h);
			uint8x16_t q[4] = {
				vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(hb, 4), m2)),
				vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(hb, 2), m2)),
				vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, m2)),
				vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(hb, 2), m2)),
			};

			for (int k = 0; k < 4; k++)
				w[8 * n + 2 * k + h] = vsubq_s8(vreinterpretq_s8_u8(q[k]), off);
		}
	}
}

static inline __attribute__((always_inline)) float
q6k_block(const struct block_q6_K *x, const int8x16_t w[16], const struct block_q8_K *y,
	  dot16_fn dot)
{
	int32x4_t acc = vdupq_n_s32(0);

	for (int c = 0; c < 16; c++)
		acc = vmlaq_n_s32(acc, dot(vdupq_n_s32(0), w[c], vld1q_s8(y->qs + 16 * c)),
				  x->scales[c]);
	return y->d * h2f(x->d) * (float)vaddvq_s32(acc);
}

/* Each weight super-block is unpacked once per 4 activation rows. */
static inline __attribute__((always_inline)) void
rowdot8(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
	const void *q8, int64_t M, float *y, int64_t y_stride, dot16_fn dot)
{
	const struct block_q8_K *a = q8;
	int64_t nb = cols / QK_K;

	for (int64_t r = 0; r < n; r++) {
		const uint8_t *row = (const uint8_t *)rows + (size_t)r * row_bytes;

		for (int64_t m0 = 0; m0 < M; m0 += 4) {
			int nm = M - m0 < 4 ? (int)(M - m0) : 4;
			const struct block_q8_K *am = a + m0 * nb;
			float sum[4] = { 0 };
			int8x16_t w[16];

			if (type == GGML_TYPE_Q4_K) {
				const struct block_q4_K *x = (const struct block_q4_K *)row;

				for (int64_t i = 0; i < nb; i++) {
					uint8_t sc[8];
					int16x8_t mins;

					q4k_unpack(x + i, w, sc, &mins);
					for (int k = 0; k < nm; k++)
						sum[k] += q4k_block(x + i, w, sc, mins, am + k * nb + i,
								    dot);
				}
			} else {
				const struct block_q6_K *x = (const struct block_q6_K *)row;

				for (int64_t i = 0; i < nb; i++) {
					q6k_unpack(x + i, w);
					for (int k = 0; k < nm; k++)
						sum[k] += q6k_block(x + i, w, am + k * nb + i, dot);
				}
			}
			for (int k = 0; k < nm; k++)
				y[(m0 + k) * y_stride + r] = sum[k];
		}
	}
}

/* ---- act8 for the blocks of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) ------------- */

/* byte j = 0xff where bit j of the 16 bits is set (Q5 high bits) */
static inline uint8x16_t bits16_to_bytes(uint32_t bits)
{
	static const uint8_t bit[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
	uint8x16_t v = vcombine_u8(vdup_n_u8((uint8_t)bits), vdup_n_u8((uint8_t)(bits >> 8)));

	return vtstq_u8(v, vld1q_u8(bit));
}

/*
 * Block b of a row as 2 x 16 integer weights (dot_q32_q8_1_ref's: the
 * types with a min are 0..31, the others signed, all fit int8), its d and
 * min. type is a constant after inlining.
 */
static inline __attribute__((always_inline)) void
q32_block(uint32_t type, const uint8_t *row, int64_t b, int8x16_t w[2], float *d, float *mn)
{
	const uint8x16_t m4 = vdupq_n_u8(0x0f);
	const uint8_t *qs;
	uint32_t qh = 0;

	switch (type) {
	case GGML_TYPE_Q4_0: {
		const struct block_q4_0 *x = (const struct block_q4_0 *)row + b;

		*d = h2f(x->d);
		qs = x->qs;
		break;
	}
	case GGML_TYPE_Q4_1: {
		const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;

		*d = h2f(x->d);
		*mn = h2f(x->m);
		qs = x->qs;
		break;
	}
	case GGML_TYPE_Q5_0: {
		const struct block_q5_0 *x = (const struct block_q5_0 *)row + b;

		*d = h2f(x->d);
		qs = x->qs;
		memcpy(&qh, x->qh, 4);
		break;
	}
	case GGML_TYPE_Q5_1: {
		const struct block_q5_1 *x = (const struct block_q5_1 *)row + b;

		*d = h2f(x->d);
		*mn = h2f(x->m);
		qs = x->qs;
		memcpy(&qh, x->qh, 4);
		break;
	}
	default: {	/* Q8_0 */
		const struct block_q8_0 *x = (const struct block_q8_0 *)row + b;

		*d = h2f(x->d);
		w[0] = vld1q_s8(x->qs);
		w[1] = vld1q_s8(x->qs + 16);
		return;
	}
	}
	uint8x16_t v = vld1q_u8(qs), lo = vandq_u8(v, m4), hi = vshrq_n_u8(v, 4);

	if (type == GGML_TYPE_Q5_0 || type == GGML_TYPE_Q5_1) {
		uint8x16_t h0 = bits16_to_bytes(qh), h1 = bits16_to_bytes(qh >> 16);

		if (type == GGML_TYPE_Q5_0) {	/* q - 16: 0xf0 where the bit is clear */
			lo = vorrq_u8(lo, vbicq_u8(vdupq_n_u8(0xf0), h0));
			hi = vorrq_u8(hi, vbicq_u8(vdupq_n_u8(0xf0), h1));
		} else {
			lo = vorrq_u8(lo, vandq_u8(h0, vdupq_n_u8(0x10)));
			hi = vorrq_u8(hi, vandq_u8(h1, vdupq_n_u8(0x10)));
		}
	}
	w[0] = vreinterpretq_s8_u8(lo);
	w[1] = vreinterpretq_s8_u8(hi);
	if (type == GGML_TYPE_Q4_0) {
		w[0] = vsubq_s8(w[0], vdupq_n_s8(8));
		w[1] = vsubq_s8(w[1], vdupq_n_s8(8));
	}
}

/* One weight row against nm (<= 4) Q8_1 rows: each block unpacked once;
 * per activation row one float vector accumulator and a scalar min sum,
 * the same order for every nm (a token's result does not depend on its
 * batch). */
static inline __attribute__((always_inline)) void
q32_q8_1(uint32_t type, const uint8_t *row, const struct ops_block_q8_1 *y, int64_t nb, int nm,
	 float *out, dot16_fn dot)
{
	const bool has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
	float32x4_t acc[4];
	float summ[4] = { 0 };

	for (int m = 0; m < nm; m++)
		acc[m] = vdupq_n_f32(0);
	for (int64_t b = 0; b < nb; b++) {
		int8x16_t w[2];
		float d, mn = 0.0f;

		q32_block(type, row, b, w, &d, &mn);
		for (int m = 0; m < nm; m++) {
			const struct ops_block_q8_1 *a = &y[m * nb + b];
			int32x4_t p = dot(dot(vdupq_n_s32(0), w[0], vld1q_s8(a->qs)), w[1],
					  vld1q_s8(a->qs + 16));

			acc[m] = vmlaq_n_f32(acc[m], vcvtq_f32_s32(p), d * a->d);
			if (has_min)
				summ[m] += mn * a->s;
		}
	}
	for (int m = 0; m < nm; m++)
		out[m] = vaddvq_f32(acc[m]) + summ[m];
}

static inline __attribute__((always_inline)) void
rowdot8_q32_t(uint32_t type, const void *rows, size_t row_bytes, int64_t n, int64_t cols,
	      const void *q8, int64_t M, float *y, int64_t y_stride, dot16_fn dot)
{
	const struct ops_block_q8_1 *a = q8;
	int64_t nb = cols / QK8_0;

	for (int64_t r = 0; r < n; r++) {
		const uint8_t *row = (const uint8_t *)rows + (size_t)r * row_bytes;
		int64_t m = 0;

		for (; m + 4 <= M; m += 4) {
			float out[4];

			q32_q8_1(type, row, a + m * nb, nb, 4, out, dot);
			for (int k = 0; k < 4; k++)
				y[(m + k) * y_stride + r] = out[k];
		}
		for (; m < M; m++)
			q32_q8_1(type, row, a + m * nb, nb, 1, &y[m * y_stride + r], dot);
	}
}

/* one instantiation per type (constant type: its unpacking alone) */
static inline __attribute__((always_inline)) void
rowdot8_q32(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
	    const void *q8, int64_t M, float *y, int64_t y_stride, dot16_fn dot)
{
	switch (type) {
	case GGML_TYPE_Q4_0:
		rowdot8_q32_t(GGML_TYPE_Q4_0, rows, row_bytes, n, cols, q8, M, y, y_stride, dot);
		break;
	case GGML_TYPE_Q4_1:
		rowdot8_q32_t(GGML_TYPE_Q4_1, rows, row_bytes, n, cols, q8, M, y, y_stride, dot);
		break;
	case GGML_TYPE_Q5_0:
		rowdot8_q32_t(GGML_TYPE_Q5_0, rows, row_bytes, n, cols, q8, M, y, y_stride, dot);
		break;
	case GGML_TYPE_Q5_1:
		rowdot8_q32_t(GGML_TYPE_Q5_1, rows, row_bytes, n, cols, q8, M, y, y_stride, dot);
		break;
	default:
		rowdot8_q32_t(GGML_TYPE_Q8_0, rows, row_bytes, n, cols, q8, M, y, y_stride, dot);
		break;
	}
}

DOTPROD
static void rowdot8_sdot(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			 int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride)
{
	if (ops_act8_format(type) == GGML_TYPE_Q8_1)
		rowdot8_q32(rows, row_bytes, n, type, cols, q8, M, y, y_stride, dot16_sdot);
	else
		rowdot8(rows, row_bytes, n, type, cols, q8, M, y, y_stride, dot16_sdot);
}

static void rowdot8_mull(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			 int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride)
{
	if (ops_act8_format(type) == GGML_TYPE_Q8_1)
		rowdot8_q32(rows, row_bytes, n, type, cols, q8, M, y, y_stride, dot16_mull);
	else
		rowdot8(rows, row_bytes, n, type, cols, q8, M, y, y_stride, dot16_mull);
}

static int dotprod_state = -1;	/* -1: not decided yet */

static bool cpu_dotprod(void)
{
	return getauxval(AT_HWCAP) & HWCAP_ASIMDDP;
}

bool ops_neon_dotprod(void)
{
	int v = dotprod_state;

	if (v < 0) {
		const char *e = getenv("ROSENBLATT_NO_DOTPROD");

		v = cpu_dotprod() && !(e && *e && *e != '0');
		dotprod_state = v;
	}
	return v;
}

bool ops_neon_set_dotprod(bool on)
{
	dotprod_state = on && cpu_dotprod();
	return dotprod_state;
}

void ops_rowdot8_neon(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
		      const void *q8, int64_t M, float *y, int64_t y_stride)
{
	(ops_neon_dotprod() ? rowdot8_sdot : rowdot8_mull)(rows, row_bytes, n, type, cols, q8, M, y,
							   y_stride);
}
#endif
