// SPDX-License-Identifier: MIT
/*
 * AVX2/FMA/F16C row-dot kernel. Compiled with target attributes so the rest
 * of the build stays baseline x86-64; ops_matmul() only picks it when the
 * CPU has the features. F32 rows are used in place, F16/Q8_0/Q4_0/Q4_1
 * rows are widened with SIMD, other types go through the scalar
 * dequantiser; the dots run 4 activation rows per pass so each weight
 * vector is loaded once per 4 tokens.
 */
#include "ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
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

static AVX2 void widen_f16(const uint16_t *src, float *dst, int64_t n)
{
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
	for (; i < n; i++)
		dst[i] = fp16_to_fp32(src[i]);
}

static AVX2 void widen_q8_0(const struct block_q8_0 *b, float *dst, int64_t n)
{
	for (int64_t i = 0; i < n / QK8_0; i++, b++, dst += QK8_0) {
		__m256 d = _mm256_set1_ps(fp16_to_fp32(b->d));

		for (int k = 0; k < QK8_0; k += 8) {
			__m128i q = _mm_loadl_epi64((const __m128i *)(b->qs + k));
			__m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));

			_mm256_storeu_ps(dst + k, _mm256_mul_ps(f, d));
		}
	}
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

static AVX2 void widen_q4_0(const struct block_q4_0 *b, float *dst, int64_t n)
{
	for (int64_t i = 0; i < n / QK4_0; i++, b++, dst += QK4_0) {
		__m256 d = _mm256_set1_ps(fp16_to_fp32(b->d));
		__m256 eight = _mm256_set1_ps(8.0f);
		__m256 q[4];

		nibbles(b->qs, q);
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(_mm256_sub_ps(q[k], eight), d));
	}
}

static AVX2 void widen_q4_1(const struct block_q4_1 *b, float *dst, int64_t n)
{
	for (int64_t i = 0; i < n / QK4_1; i++, b++, dst += QK4_1) {
		__m256 d = _mm256_set1_ps(fp16_to_fp32(b->d));
		__m256 mn = _mm256_set1_ps(fp16_to_fp32(b->m));
		__m256 q[4];

		nibbles(b->qs, q);
		/* ggml: x = q * d + m (a rounding of its own, not an FMA) */
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(dst + 8 * k, _mm256_add_ps(_mm256_mul_ps(q[k], d), mn));
	}
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

AVX2 void ops_rowdot_avx2(const void *row, uint32_t type, int64_t cols, const float *x,
			  int64_t M, float *y, int64_t y_stride, float *scratch)
{
	const float *w = scratch;
	int64_t m = 0;

	switch (type) {
	case GGML_TYPE_F32: w = row; break;
	case GGML_TYPE_F16: widen_f16(row, scratch, cols); break;
	case GGML_TYPE_Q8_0: widen_q8_0(row, scratch, cols); break;
	case GGML_TYPE_Q4_0: widen_q4_0(row, scratch, cols); break;
	case GGML_TYPE_Q4_1: widen_q4_1(row, scratch, cols); break;
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
