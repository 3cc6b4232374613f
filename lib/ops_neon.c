// SPDX-License-Identifier: MIT
/*
 * aarch64 NEON row-dot kernel: scalar dequantisation of the weight row
 * (lib/quant.c), F32 rows in place, then a 4-accumulator FMA dot.
 * Compiled only on aarch64 (the RK3588 target).
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

void ops_rowdot_neon(const void *row, uint32_t type, int64_t cols, const float *x,
		     int64_t M, float *y, int64_t y_stride, float *scratch)
{
	const float *w = scratch;

	if (type == GGML_TYPE_F32)
		w = row;
	else
		dequantize_row(type, row, scratch, cols);
	for (int64_t m = 0; m < M; m++)
		y[m * y_stride] = dot1(w, x + m * cols, cols);
}
#endif
