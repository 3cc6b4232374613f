// SPDX-License-Identifier: MIT
/*
 * Row (de)quantisation dispatch, the float formats and the 32-element
 * "legacy" quants (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and IQ4_NL, whose levels
 * (iq4nl_values) IQ4_XS in quant_k.c shares. The arithmetic mirrors
 * ggml's scalar reference code operation for operation: results are
 * compared bit for bit with ggml, so do not "simplify" expressions (and the
 * build must not contract a*b+c into fma: -std=c11 implies
 * -ffp-contract=off in gcc).
 */
#include "quant.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fp16.h"
#include "ggml_types.h"

/*
 * ggml casts floats straight to int8_t/uint8_t. For finite input that only
 * happens in range, but degenerate blocks (a subnormal maximum whose 1/d
 * overflows, Inf/NaN input) cast out-of-range values, which is undefined
 * in C. We define those casts as x86-64 executes them (cvttss2si: NaN and
 * out-of-range give INT32_MIN, then the low byte is kept), so we match
 * ggml as built for x86-64 everywhere, on every host.
 */
static int32_t cvtt_i32(float f)
{
	if (f >= -2147483648.0f && f < 2147483648.0f)
		return (int32_t)f;
	return INT32_MIN;
}

static int8_t cast_i8(float f)
{
	return (int8_t)(uint8_t)cvtt_i32(f);
}

static uint8_t cast_u8(float f)
{
	return (uint8_t)cvtt_i32(f);
}

static int imin(int a, int b)
{
	return a < b ? a : b;
}

/* ---- dequantisation ---------------------------------------------------- */

void dequantize_row_q4_0(const struct block_q4_0 *x, float *y, int64_t n)
{
	const int64_t nb = n / QK4_0;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);

		for (int j = 0; j < QK4_0 / 2; j++) {
			const int x0 = (x[i].qs[j] & 0x0f) - 8;
			const int x1 = (x[i].qs[j] >> 4) - 8;

			y[i * QK4_0 + j] = x0 * d;
			y[i * QK4_0 + j + QK4_0 / 2] = x1 * d;
		}
	}
}

void dequantize_row_q4_1(const struct block_q4_1 *x, float *y, int64_t n)
{
	const int64_t nb = n / QK4_1;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const float m = fp16_to_fp32(x[i].m);

		for (int j = 0; j < QK4_1 / 2; j++) {
			const int x0 = x[i].qs[j] & 0x0f;
			const int x1 = x[i].qs[j] >> 4;

			y[i * QK4_1 + j] = x0 * d + m;
			y[i * QK4_1 + j + QK4_1 / 2] = x1 * d + m;
		}
	}
}

static uint32_t load_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void dequantize_row_q5_0(const struct block_q5_0 *x, float *y, int64_t n)
{
	const int64_t nb = n / QK5_0;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const uint32_t qh = load_u32le(x[i].qh);

		for (int j = 0; j < QK5_0 / 2; j++) {
			const uint8_t xh0 = ((qh >> j) << 4) & 0x10;
			const uint8_t xh1 = (qh >> (j + 12)) & 0x10;
			const int x0 = ((x[i].qs[j] & 0x0f) | xh0) - 16;
			const int x1 = ((x[i].qs[j] >> 4) | xh1) - 16;

			y[i * QK5_0 + j] = x0 * d;
			y[i * QK5_0 + j + QK5_0 / 2] = x1 * d;
		}
	}
}

void dequantize_row_q5_1(const struct block_q5_1 *x, float *y, int64_t n)
{
	const int64_t nb = n / QK5_1;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const float m = fp16_to_fp32(x[i].m);
		const uint32_t qh = load_u32le(x[i].qh);

		for (int j = 0; j < QK5_1 / 2; j++) {
			const uint8_t xh0 = ((qh >> j) << 4) & 0x10;
			const uint8_t xh1 = (qh >> (j + 12)) & 0x10;
			const int x0 = (x[i].qs[j] & 0x0f) | xh0;
			const int x1 = (x[i].qs[j] >> 4) | xh1;

			y[i * QK5_1 + j] = x0 * d + m;
			y[i * QK5_1 + j + QK5_1 / 2] = x1 * d + m;
		}
	}
}

void dequantize_row_q8_0(const struct block_q8_0 *x, float *y, int64_t n)
{
	const int64_t nb = n / QK8_0;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);

		for (int j = 0; j < QK8_0; j++)
			y[i * QK8_0 + j] = x[i].qs[j] * d;
	}
}

const int8_t iq4nl_values[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

void dequantize_row_iq4_nl(const struct block_iq4_nl *x, float *y, int64_t n)
{
	const int64_t nb = n / QK4_NL;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);

		for (int j = 0; j < QK4_NL / 2; j++) {
			y[i * QK4_NL + j] = d * iq4nl_values[x[i].qs[j] & 0x0f];
			y[i * QK4_NL + j + QK4_NL / 2] = d * iq4nl_values[x[i].qs[j] >> 4];
		}
	}
}

/* ---- reference quantisation -------------------------------------------- */

void quantize_row_q4_0_ref(const float *x, struct block_q4_0 *y, int64_t n)
{
	const int64_t nb = n / QK4_0;

	for (int64_t i = 0; i < nb; i++) {
		float amax = 0.0f, max = 0.0f;     /* max keeps the sign */

		for (int j = 0; j < QK4_0; j++) {
			const float v = x[i * QK4_0 + j];

			if (amax < fabsf(v)) {
				amax = fabsf(v);
				max = v;
			}
		}
		const float d = max / -8;
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = fp32_to_fp16(d);
		for (int j = 0; j < QK4_0 / 2; j++) {
			const float x0 = x[i * QK4_0 + j] * id;
			const float x1 = x[i * QK4_0 + QK4_0 / 2 + j] * id;
			const uint8_t xi0 = (uint8_t)imin(15, cast_i8(x0 + 8.5f));
			const uint8_t xi1 = (uint8_t)imin(15, cast_i8(x1 + 8.5f));

			y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
		}
	}
}

void quantize_row_q4_1_ref(const float *x, struct block_q4_1 *y, int64_t n)
{
	const int64_t nb = n / QK4_1;

	for (int64_t i = 0; i < nb; i++) {
		float min = 3.40282347e+38f, max = -3.40282347e+38f;

		for (int j = 0; j < QK4_1; j++) {
			const float v = x[i * QK4_1 + j];

			if (v < min)
				min = v;
			if (v > max)
				max = v;
		}
		const float d = (max - min) / ((1 << 4) - 1);
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = fp32_to_fp16(d);
		y[i].m = fp32_to_fp16(min);
		for (int j = 0; j < QK4_1 / 2; j++) {
			const float x0 = (x[i * QK4_1 + j] - min) * id;
			const float x1 = (x[i * QK4_1 + QK4_1 / 2 + j] - min) * id;
			const uint8_t xi0 = (uint8_t)imin(15, cast_i8(x0 + 0.5f));
			const uint8_t xi1 = (uint8_t)imin(15, cast_i8(x1 + 0.5f));

			y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
		}
	}
}

static void store_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void quantize_row_q5_0_ref(const float *x, struct block_q5_0 *y, int64_t n)
{
	const int64_t nb = n / QK5_0;

	for (int64_t i = 0; i < nb; i++) {
		float amax = 0.0f, max = 0.0f;
		uint32_t qh = 0;

		for (int j = 0; j < QK5_0; j++) {
			const float v = x[i * QK5_0 + j];

			if (amax < fabsf(v)) {
				amax = fabsf(v);
				max = v;
			}
		}
		const float d = max / -16;
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = fp32_to_fp16(d);
		for (int j = 0; j < QK5_0 / 2; j++) {
			const float x0 = x[i * QK5_0 + j] * id;
			const float x1 = x[i * QK5_0 + QK5_0 / 2 + j] * id;
			const uint8_t xi0 = (uint8_t)imin(31, cast_i8(x0 + 16.5f));
			const uint8_t xi1 = (uint8_t)imin(31, cast_i8(x1 + 16.5f));

			y[i].qs[j] = (uint8_t)((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
			qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
			qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + QK5_0 / 2);
		}
		store_u32le(y[i].qh, qh);
	}
}

void quantize_row_q5_1_ref(const float *x, struct block_q5_1 *y, int64_t n)
{
	const int64_t nb = n / QK5_1;

	for (int64_t i = 0; i < nb; i++) {
		float min = 3.40282347e+38f, max = -3.40282347e+38f;
		uint32_t qh = 0;

		for (int j = 0; j < QK5_1; j++) {
			const float v = x[i * QK5_1 + j];

			if (v < min)
				min = v;
			if (v > max)
				max = v;
		}
		const float d = (max - min) / ((1 << 5) - 1);
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = fp32_to_fp16(d);
		y[i].m = fp32_to_fp16(min);
		for (int j = 0; j < QK5_1 / 2; j++) {
			const float x0 = (x[i * QK5_1 + j] - min) * id;
			const float x1 = (x[i * QK5_1 + QK5_1 / 2 + j] - min) * id;
			const uint8_t xi0 = cast_u8(x0 + 0.5f);
			const uint8_t xi1 = cast_u8(x1 + 0.5f);

			y[i].qs[j] = (uint8_t)((xi0 & 0x0f) | ((xi1 & 0x0f) << 4));
			qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
			qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + QK5_1 / 2);
		}
		store_u32le(y[i].qh, qh);
	}
}

void quantize_row_q8_0_ref(const float *x, struct block_q8_0 *y, int64_t n)
{
	const int64_t nb = n / QK8_0;

	for (int64_t i = 0; i < nb; i++) {
		float amax = 0.0f;

		for (int j = 0; j < QK8_0; j++) {
			const float v = fabsf(x[i * QK8_0 + j]);

			amax = amax > v ? amax : v;     /* ggml's MAX(amax, v) */
		}
		const float d = amax / ((1 << 7) - 1);
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = fp32_to_fp16(d);
		for (int j = 0; j < QK8_0; j++) {
			const float x0 = roundf(x[i * QK8_0 + j] * id);

			y[i].qs[j] = cast_i8(x0);
		}
	}
}

/* ---- dispatch ---------------------------------------------------------- */

bool dequantize_supported(uint32_t type)
{
	switch (type) {
	case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
	case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
	case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K: case GGML_TYPE_Q8_K:
	case GGML_TYPE_IQ4_NL: case GGML_TYPE_IQ4_XS:
		return true;
	default:
		return false;
	}
}

bool quantize_supported(uint32_t type)
{
	switch (type) {
	case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
	case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
	case GGML_TYPE_Q4_K: case GGML_TYPE_Q8_K:
		return true;
	default:
		return false;
	}
}

static bool row_ok(uint32_t type, int64_t n)
{
	const struct ggml_type_info *ti = ggml_type_info(type);

	return ti && ti->block_size && n >= 0 && n % ti->block_size == 0;
}

int dequantize_row(uint32_t type, const void *src, float *dst, int64_t n)
{
	if (!dequantize_supported(type) || !row_ok(type, n))
		return -1;
	switch (type) {
	case GGML_TYPE_F32:
		if (n)
			memcpy(dst, src, (size_t)n * sizeof(float));
		break;
	case GGML_TYPE_F16: {
		const uint16_t *s = src;

		for (int64_t i = 0; i < n; i++)
			dst[i] = fp16_to_fp32(s[i]);
		break;
	}
	case GGML_TYPE_BF16: {
		const uint16_t *s = src;

		for (int64_t i = 0; i < n; i++)
			dst[i] = bf16_to_fp32(s[i]);
		break;
	}
	case GGML_TYPE_Q4_0: dequantize_row_q4_0(src, dst, n); break;
	case GGML_TYPE_Q4_1: dequantize_row_q4_1(src, dst, n); break;
	case GGML_TYPE_Q5_0: dequantize_row_q5_0(src, dst, n); break;
	case GGML_TYPE_Q5_1: dequantize_row_q5_1(src, dst, n); break;
	case GGML_TYPE_Q8_0: dequantize_row_q8_0(src, dst, n); break;
	case GGML_TYPE_Q2_K: dequantize_row_q2_K(src, dst, n); break;
	case GGML_TYPE_Q3_K: dequantize_row_q3_K(src, dst, n); break;
	case GGML_TYPE_Q4_K: dequantize_row_q4_K(src, dst, n); break;
	case GGML_TYPE_Q5_K: dequantize_row_q5_K(src, dst, n); break;
	case GGML_TYPE_Q6_K: dequantize_row_q6_K(src, dst, n); break;
	case GGML_TYPE_Q8_K: dequantize_row_q8_K(src, dst, n); break;
	case GGML_TYPE_IQ4_NL: dequantize_row_iq4_nl(src, dst, n); break;
	case GGML_TYPE_IQ4_XS: dequantize_row_iq4_xs(src, dst, n); break;
	}
	return 0;
}

int quantize_row(uint32_t type, const float *src, void *dst, int64_t n)
{
	if (!quantize_supported(type) || !row_ok(type, n))
		return -1;
	switch (type) {
	case GGML_TYPE_F32:
		if (n)
			memcpy(dst, src, (size_t)n * sizeof(float));
		break;
	case GGML_TYPE_F16: {
		uint16_t *d = dst;

		for (int64_t i = 0; i < n; i++)
			d[i] = fp32_to_fp16(src[i]);
		break;
	}
	case GGML_TYPE_BF16: {
		uint16_t *d = dst;

		for (int64_t i = 0; i < n; i++)
			d[i] = fp32_to_bf16(src[i]);
		break;
	}
	case GGML_TYPE_Q4_0: quantize_row_q4_0_ref(src, dst, n); break;
	case GGML_TYPE_Q4_1: quantize_row_q4_1_ref(src, dst, n); break;
	case GGML_TYPE_Q5_0: quantize_row_q5_0_ref(src, dst, n); break;
	case GGML_TYPE_Q5_1: quantize_row_q5_1_ref(src, dst, n); break;
	case GGML_TYPE_Q8_0: quantize_row_q8_0_ref(src, dst, n); break;
	case GGML_TYPE_Q4_K: quantize_row_q4_K_ref(src, dst, n); break;
	case GGML_TYPE_Q8_K: quantize_row_q8_K_ref(src, dst, n); break;
	}
	return 0;
}
