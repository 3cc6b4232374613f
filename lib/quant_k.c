// SPDX-License-Identifier: MIT
/*
 * k-quants (256-element super-blocks): dequantisation of Q2_K..Q6_K, Q8_K
 * and IQ4_XS, reference quantisation to Q4_K and Q8_K. Same rule as
 * quant.c: the float expressions follow ggml's reference code exactly, in
 * the same order, because the results are checked bit for bit against ggml.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "fp16.h"

int quant_nearest_int(float f)
{
	/* adding 1.5*2^23 leaves round(f) in the low mantissa bits */
	const float val = f + 12582912.f;
	int32_t i;

	memcpy(&i, &val, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* ---- dequantisation ---------------------------------------------------- */

void dequantize_row_q2_K(const struct block_q2_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const float min = fp16_to_fp32(x[i].dmin);
		const uint8_t *q = x[i].qs;
		int is = 0;

		for (int half = 0; half < QK_K; half += 128) {
			for (int shift = 0; shift < 8; shift += 2) {
				for (int k = 0; k < 2; k++) {
					const uint8_t sc = x[i].scales[is++];
					const float dl = d * (sc & 0x0f);
					const float ml = min * (sc >> 4);

					for (int l = 0; l < 16; l++)
						*y++ = dl * ((q[l + 16 * k] >> shift) & 3) - ml;
				}
			}
			q += 32;
		}
	}
}

/* 16 six-bit scales: low 4 bits in bytes 0..7 (two per byte), high 2 in 8..11 */
static int q3_K_scale(const uint8_t *s, int k)
{
	const int lo = k < 8 ? s[k] & 0x0f : s[k - 8] >> 4;
	const int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;

	return (lo | hi << 4) - 32;
}

void dequantize_row_q3_K(const struct block_q3_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d_all = fp16_to_fp32(x[i].d);
		const uint8_t *q = x[i].qs;
		const uint8_t *hm = x[i].hmask;
		uint8_t m = 1;
		int is = 0;

		for (int half = 0; half < QK_K; half += 128) {
			for (int shift = 0; shift < 8; shift += 2) {
				for (int k = 0; k < 2; k++) {
					const float dl = d_all * q3_K_scale(x[i].scales, is++);

					for (int l = 16 * k; l < 16 * k + 16; l++) {
						/* a clear hmask bit means q - 4 */
						const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);

						*y++ = dl * v;
					}
				}
				m <<= 1;
			}
			q += 32;
		}
	}
}

void dequantize_row_q4_K(const struct block_q4_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const float min = fp16_to_fp32(x[i].dmin);
		const uint8_t *q = x[i].qs;
		uint8_t sc, m;

		for (int is = 0; is < QK_K / 32; is += 2) {
			get_scale_min_k4(is, x[i].scales, &sc, &m);
			const float d1 = d * sc, m1 = min * m;
			get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
			const float d2 = d * sc, m2 = min * m;

			for (int l = 0; l < 32; l++)
				*y++ = d1 * (q[l] & 0x0f) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (q[l] >> 4) - m2;
			q += 32;
		}
	}
}

void dequantize_row_q5_K(const struct block_q5_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const float min = fp16_to_fp32(x[i].dmin);
		const uint8_t *ql = x[i].qs;
		const uint8_t *qh = x[i].qh;
		uint8_t u1 = 1, u2 = 2, sc, m;

		for (int is = 0; is < QK_K / 32; is += 2) {
			get_scale_min_k4(is, x[i].scales, &sc, &m);
			const float d1 = d * sc, m1 = min * m;
			get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
			const float d2 = d * sc, m2 = min * m;

			for (int l = 0; l < 32; l++)
				*y++ = d1 * ((ql[l] & 0x0f) + (qh[l] & u1 ? 16 : 0)) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
			ql += 32;
			u1 <<= 2;
			u2 <<= 2;
		}
	}
}

void dequantize_row_q6_K(const struct block_q6_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const uint8_t *ql = x[i].ql;
		const uint8_t *qh = x[i].qh;
		const int8_t *sc = x[i].scales;

		for (int half = 0; half < QK_K; half += 128) {
			for (int l = 0; l < 32; l++) {
				const int is = l / 16;
				const int q1 = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32;
				const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
				const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
				const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

				/* (d * sc) * q, in ggml's order */
				y[l] = d * sc[is] * q1;
				y[l + 32] = d * sc[is + 2] * q2;
				y[l + 64] = d * sc[is + 4] * q3;
				y[l + 96] = d * sc[is + 6] * q4;
			}
			y += 128;
			ql += 64;
			qh += 32;
			sc += 8;
		}
	}
}

void dequantize_row_q8_K(const struct block_q8_K *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		float d;

		memcpy(&d, &x[i].d, sizeof(d));
		for (int j = 0; j < QK_K; j++)
			*y++ = d * x[i].qs[j];
	}
}

void dequantize_row_iq4_xs(const struct block_iq4_xs *x, float *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		const float d = fp16_to_fp32(x[i].d);
		const uint8_t *qs = x[i].qs;

		for (int ib = 0; ib < QK_K / 32; ib++) {
			const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0x0f) |
				       (((x[i].scales_h >> 2 * ib) & 3) << 4);
			const float dl = d * (ls - 32);

			for (int j = 0; j < 16; j++) {
				y[j] = dl * iq4nl_values[qs[j] & 0x0f];
				y[j + 16] = dl * iq4nl_values[qs[j] >> 4];
			}
			y += 32;
			qs += 16;
		}
	}
}

/* ---- reference quantisation -------------------------------------------- */

/*
 * ggml's make_qkx2_quants: fit x ~= scale * L + min (min <= 0) with L in
 * [0, nmax], weighted least squares over a small sweep of candidate
 * inverse scales. Returns scale; *the_min gets -min.
 */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w,
			      uint8_t *L, float *the_min, uint8_t *Laux,
			      float rmin, float rdelta, int nstep, bool use_mad)
{
	float min = x[0], max = x[0];
	float sum_w = w[0];
	float sum_x = sum_w * x[0];

	for (int i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += w[i];
		sum_x += w[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		memset(L, 0, (size_t)n);
		*the_min = -min;
		return 0.f;
	}
	float iscale = nmax / (max - min);
	float scale = 1 / iscale;
	float best_error = 0;

	for (int i = 0; i < n; i++) {
		const int l = quant_nearest_int(iscale * (x[i] - min));
		float diff;

		L[i] = (uint8_t)clampi(l, 0, nmax);
		diff = scale * L[i] + min - x[i];
		diff = use_mad ? fabsf(diff) : diff * diff;
		best_error += w[i] * diff;
	}
	if (nstep < 1) {
		*the_min = -min;
		return scale;
	}
	for (int is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0;

		iscale = (rmin + rdelta * is + nmax) / (max - min);
		for (int i = 0; i < n; i++) {
			const int l = clampi(quant_nearest_int(iscale * (x[i] - min)), 0, nmax);

			Laux[i] = (uint8_t)l;
			sum_l += w[i] * l;
			sum_l2 += w[i] * l * l;
			sum_xl += w[i] * l * x[i];
		}
		const float D = sum_w * sum_l2 - sum_l * sum_l;

		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			float cur_error = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (int i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min - x[i];

				diff = use_mad ? fabsf(diff) : diff * diff;
				cur_error += w[i] * diff;
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

void quantize_row_q4_K_ref(const float *x, struct block_q4_K *y, int64_t n)
{
	const int64_t nb = n / QK_K;
	uint8_t L[QK_K], Laux[32];
	float weights[32], mins[QK_K / 32], scales[QK_K / 32];

	for (int64_t i = 0; i < nb; i++) {
		float max_scale = 0, max_min = 0;   /* scales and -mins are >= 0 */

		for (int j = 0; j < QK_K / 32; j++) {
			const float *xs = x + 32 * j;
			float sum_x2 = 0;

			for (int l = 0; l < 32; l++)
				sum_x2 += xs[l] * xs[l];
			/* weight big values more: they dominate the error */
			const float av_x = sqrtf(sum_x2 / 32);

			for (int l = 0; l < 32; l++)
				weights[l] = av_x + fabsf(xs[l]);
			scales[j] = make_qkx2_quants(32, 15, xs, weights, L + 32 * j, &mins[j],
						     Laux, -1.f, 0.1f, 20, false);
			if (scales[j] > max_scale)
				max_scale = scales[j];
			if (mins[j] > max_min)
				max_min = mins[j];
		}

		const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
		const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;

		for (int j = 0; j < QK_K / 32; j++) {
			uint8_t ls = (uint8_t)quant_nearest_int(inv_scale * scales[j]);
			uint8_t lm = (uint8_t)quant_nearest_int(inv_min * mins[j]);

			ls = ls < 63 ? ls : 63;
			lm = lm < 63 ? lm : 63;
			if (j < 4) {
				y[i].scales[j] = ls;
				y[i].scales[j + 4] = lm;
			} else {
				/* low nibbles in bytes 8..11, top 2 bits in 0..7 */
				y[i].scales[j + 4] = (uint8_t)((ls & 0x0f) | ((lm & 0x0f) << 4));
				y[i].scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
				y[i].scales[j] |= (uint8_t)((lm >> 4) << 6);
			}
		}
		y[i].d = fp32_to_fp16(max_scale / 63.f);
		y[i].dmin = fp32_to_fp16(max_min / 63.f);

		/* requantise against the rounded 6-bit scales actually stored */
		for (int j = 0; j < QK_K / 32; j++) {
			uint8_t sc, m;

			get_scale_min_k4(j, y[i].scales, &sc, &m);
			const float d = fp16_to_fp32(y[i].d) * sc;

			if (!d)
				continue;
			const float dm = fp16_to_fp32(y[i].dmin) * m;

			for (int l = 0; l < 32; l++) {
				const int q = quant_nearest_int((x[32 * j + l] + dm) / d);

				L[32 * j + l] = (uint8_t)clampi(q, 0, 15);
			}
		}
		for (int j = 0; j < QK_K; j += 64)
			for (int l = 0; l < 32; l++)
				y[i].qs[j / 2 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
		x += QK_K;
	}
}

void quantize_row_q8_K_ref(const float *x, struct block_q8_K *y, int64_t n)
{
	const int64_t nb = n / QK_K;

	for (int64_t i = 0; i < nb; i++) {
		float max = 0, amax = 0;

		for (int j = 0; j < QK_K; j++) {
			const float ax = fabsf(x[j]);

			if (ax > amax) {
				amax = ax;
				max = x[j];
			}
		}
		if (!amax) {
			/* ggml leaves bsums unwritten here; we zero them */
			memset(y[i].qs, 0, sizeof(y[i].qs));
			memset(y[i].bsums, 0, sizeof(y[i].bsums));
			y[i].d = 0;
			x += QK_K;
			continue;
		}
		/* -127 (not -128) as ggml: keeps q symmetric for the SIMD dots */
		const float iscale = -127.f / max;

		for (int j = 0; j < QK_K; j++) {
			const int v = quant_nearest_int(iscale * x[j]);

			y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
		}
		for (int j = 0; j < QK_K / 16; j++) {
			int sum = 0;

			for (int l = 0; l < 16; l++)
				sum += y[i].qs[16 * j + l];
			y[i].bsums[j] = (int16_t)sum;
		}
		y[i].d = 1 / iscale;
		x += QK_K;
	}
}
