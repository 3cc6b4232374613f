// SPDX-License-Identifier: MIT
/*
 * aarch64 NEON row-dot kernel (the RK3588 target; compiled only there).
 * Q8_0/Q4_0/Q4_1/F16 blocks are widened in registers and dotted in one
 * pass, as in ops_avx2.c; F32 rows are used in place; other types are
 * dequantised by lib/quant.c into a scratch row, then dotted with FMA.
 */
#include "ops.h"

#if defined(__aarch64__)
#include <arm_neon.h>

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
#endif
