// SPDX-License-Identifier: MIT
/*
 * Unit tests for lib/fp16.h and lib/quant.{h,c}, lib/quant_k.c: exhaustive
 * half/bf16 conversions, rounding at every midpoint, quantise -> dequantise
 * error bounds on random data, zeros and extremes, NaN/Inf scales, the API
 * contract. Bit-exactness against ggml and gguf-py is tests/quant_ref_test.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fp16.h"
#include "ggml_types.h"
#include "quant.h"
#include "tap.h"

#define SEED 0x5eed2025u

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) * 0x1p-53;
}

static float rng_gauss(void)
{
	double u = rng_unit(), v = rng_unit();

	return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

/* worst absolute error of rounding |v| to fp16 (half an ulp, subnormals too) */
static float fp16_err(float v)
{
	return fmaxf(fabsf(v) * 0x1p-11f, 0x1p-25f);
}

static int is_nan16(uint16_t h)
{
	return (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
}

/* ---- fp16 ---------------------------------------------------------------- */

static void fp16_exhaustive_roundtrip(void)
{
	int bad = 0;

	for (uint32_t h = 0; h < 65536; h++) {
		const float f = fp16_to_fp32((uint16_t)h);
		const uint16_t back = fp32_to_fp16(f);

		if (is_nan16((uint16_t)h)) {
			/* NaN: stays NaN, same sign and payload, made quiet */
			if (!isnan(f) || back != (h | 0x200))
				bad++;
		} else if (back != h) {
			bad++;
		}
	}
	CHECKF(bad == 0, "%d of 65536 halves do not round-trip", bad);
}

static void fp16_values_exact(void)
{
	int bad = 0;

	for (uint32_t h = 0; h < 65536; h++) {
		const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
		const double s = (h & 0x8000) ? -1.0 : 1.0;
		double want;
		float got = fp16_to_fp32((uint16_t)h);

		if (e == 0x1f) {
			if (m ? !isnan(got) : got != (float)(s * INFINITY))
				bad++;
			continue;
		}
		want = e ? s * ldexp(1024 + m, e - 25) : s * ldexp(m, -24);
		if ((double)got != want || !!signbit(got) != (s < 0))
			bad++;
	}
	CHECKF(bad == 0, "%d halves convert to the wrong float", bad);
}

/* every midpoint between adjacent finite halves rounds to the even one */
static void fp16_rounding_midpoints(void)
{
	int bad = 0;

	for (uint32_t h = 0; h < 0x7bff; h++) {
		const float lo = fp16_to_fp32((uint16_t)h), hi = fp16_to_fp32((uint16_t)(h + 1));
		const float mid = (lo + hi) / 2;        /* exact in float */
		const uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;

		if (fp32_to_fp16(mid) != even || fp32_to_fp16(-mid) != (even | 0x8000))
			bad++;
		if (fp32_to_fp16(nextafterf(mid, 0)) != h)
			bad++;
		if (fp32_to_fp16(nextafterf(mid, INFINITY)) != h + 1)
			bad++;
	}
	CHECKF(bad == 0, "%d rounding errors", bad);
}

static void fp16_edges(void)
{
	CHECK_EQ_INT(fp32_to_fp16(0.0f), 0x0000);
	CHECK_EQ_INT(fp32_to_fp16(-0.0f), 0x8000);
	CHECK_EQ_INT(fp32_to_fp16(1.0f), 0x3c00);
	CHECK_EQ_INT(fp32_to_fp16(65504.0f), 0x7bff);
	CHECK_EQ_INT(fp32_to_fp16(65519.996f), 0x7bff);
	CHECK_EQ_INT(fp32_to_fp16(65520.0f), 0x7c00);     /* tie rounds to even: Inf */
	CHECK_EQ_INT(fp32_to_fp16(1e10f), 0x7c00);
	CHECK_EQ_INT(fp32_to_fp16(-3.4028235e38f), 0xfc00);
	CHECK_EQ_INT(fp32_to_fp16(INFINITY), 0x7c00);
	CHECK_EQ_INT(fp32_to_fp16(-INFINITY), 0xfc00);
	CHECK_EQ_INT(fp32_to_fp16(0x1p-24f), 0x0001);      /* smallest subnormal */
	CHECK_EQ_INT(fp32_to_fp16(0x1p-25f), 0x0000);      /* tie to even: 0 */
	CHECK_EQ_INT(fp32_to_fp16(-0x1p-25f), 0x8000);
	CHECK_EQ_INT(fp32_to_fp16(nextafterf(0x1p-25f, 1)), 0x0001);
	CHECK_EQ_INT(fp32_to_fp16(0x3p-25f), 0x0002);      /* 1.5 ulp: tie to even */
	CHECK_EQ_INT(fp32_to_fp16(0x1p-14f), 0x0400);      /* smallest normal */
	CHECK_EQ_INT(fp32_to_fp16(0x1p-14f - 0x1p-25f), 0x0400);  /* rounds up into normals */
	CHECK_EQ_INT(fp32_to_fp16(1e-45f), 0x0000);        /* float subnormal */
	CHECK_EQ_INT(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);
	CHECK_EQ_INT(fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02);
	CHECK_EQ_INT(fp32_to_fp16(NAN) & 0x7e00, 0x7e00);
	CHECK_EQ_INT(fp32_to_fp16(fp32_from_bits(0x7f800001u)), 0x7e00);  /* sNaN -> qNaN */
	CHECK_EQ_INT(fp32_to_fp16(fp32_from_bits(0xffc00000u)), 0xfe00);
	CHECK_EQ_INT(fp32_to_fp16(fp32_from_bits(0x7fd56000u)), 0x7eab);  /* payload kept */
	CHECK(fp32_bits(fp16_to_fp32(0x7c00)) == 0x7f800000u);
	CHECK(fp32_bits(fp16_to_fp32(0x8000)) == 0x80000000u);
	CHECK(fp32_bits(fp16_to_fp32(0x7c01)) == 0x7f802000u);  /* payload kept, not quietened */
	CHECK(fp16_to_fp32(0x0001) == 0x1p-24f);
	CHECK(fp16_to_fp32(0x03ff) == 0x3ffp-24f);
}

/* ---- bf16 ---------------------------------------------------------------- */

static void bf16_exhaustive_roundtrip(void)
{
	int bad = 0;

	for (uint32_t b = 0; b < 65536; b++) {
		const float f = bf16_to_fp32((uint16_t)b);
		const uint16_t back = fp32_to_bf16(f);
		const int nan = (b & 0x7f80) == 0x7f80 && (b & 0x7f);

		if (fp32_bits(f) != b << 16)
			bad++;
		if (nan ? back != (b | 0x40) : back != b)
			bad++;
	}
	CHECKF(bad == 0, "%d bf16 values do not round-trip", bad);
}

static void bf16_rounding(void)
{
	int bad = 0;

	/* midpoints between every pair of adjacent finite positive bf16 */
	for (uint32_t b = 0; b < 0x7f7f; b++) {
		const uint32_t mid = (b << 16) | 0x8000;
		const uint16_t even = (b & 1) ? (uint16_t)(b + 1) : (uint16_t)b;

		if (fp32_to_bf16(fp32_from_bits(mid)) != even)
			bad++;
		if (fp32_to_bf16(fp32_from_bits(mid - 1)) != b)
			bad++;
		if (fp32_to_bf16(fp32_from_bits(mid + 1)) != b + 1)
			bad++;
		if (fp32_to_bf16(fp32_from_bits(mid | 0x80000000u)) != (even | 0x8000))
			bad++;
	}
	CHECKF(bad == 0, "%d bf16 rounding errors", bad);
	CHECK_EQ_INT(fp32_to_bf16(3.4028235e38f), 0x7f80);        /* rounds to Inf */
	CHECK_EQ_INT(fp32_to_bf16(INFINITY), 0x7f80);
	CHECK_EQ_INT(fp32_to_bf16(-INFINITY), 0xff80);
	CHECK_EQ_INT(fp32_to_bf16(fp32_from_bits(0x7f800001u)), 0x7fc0);  /* sNaN quietened */
	CHECK_EQ_INT(fp32_to_bf16(fp32_from_bits(0xffc00000u)), 0xffc0);
	CHECK_EQ_INT(fp32_to_bf16(1e-45f), 0x0000);
	CHECK_EQ_INT(fp32_to_bf16(1.0f), 0x3f80);
}

/* ---- quant helpers ------------------------------------------------------- */

static void nearest_int_ties_even(void)
{
	CHECK_EQ_INT(quant_nearest_int(0.5f), 0);
	CHECK_EQ_INT(quant_nearest_int(1.5f), 2);
	CHECK_EQ_INT(quant_nearest_int(2.5f), 2);
	CHECK_EQ_INT(quant_nearest_int(-0.5f), 0);
	CHECK_EQ_INT(quant_nearest_int(-1.5f), -2);
	CHECK_EQ_INT(quant_nearest_int(-2.4f), -2);
	CHECK_EQ_INT(quant_nearest_int(14.51f), 15);
	CHECK_EQ_INT(quant_nearest_int(4194303.f), 4194303);
	CHECK_EQ_INT(quant_nearest_int(-4194303.f), -4194303);
}

static void struct_sizes_match_type_table(void)
{
	static const struct { uint32_t t; size_t size; int block; } tab[] = {
		{ GGML_TYPE_Q4_0, sizeof(struct block_q4_0), QK4_0 },
		{ GGML_TYPE_Q4_1, sizeof(struct block_q4_1), QK4_1 },
		{ GGML_TYPE_Q5_0, sizeof(struct block_q5_0), QK5_0 },
		{ GGML_TYPE_Q5_1, sizeof(struct block_q5_1), QK5_1 },
		{ GGML_TYPE_Q8_0, sizeof(struct block_q8_0), QK8_0 },
		{ GGML_TYPE_Q2_K, sizeof(struct block_q2_K), QK_K },
		{ GGML_TYPE_Q3_K, sizeof(struct block_q3_K), QK_K },
		{ GGML_TYPE_Q4_K, sizeof(struct block_q4_K), QK_K },
		{ GGML_TYPE_Q5_K, sizeof(struct block_q5_K), QK_K },
		{ GGML_TYPE_Q6_K, sizeof(struct block_q6_K), QK_K },
		{ GGML_TYPE_Q8_K, sizeof(struct block_q8_K), QK_K },
		{ GGML_TYPE_IQ4_NL, sizeof(struct block_iq4_nl), QK4_NL },
		{ GGML_TYPE_IQ4_XS, sizeof(struct block_iq4_xs), QK_K },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const struct ggml_type_info *ti = ggml_type_info(tab[i].t);

		CHECK(ti != NULL);
		if (!ti)
			continue;
		CHECKF(ti->type_size == tab[i].size, "%s: struct %zu bytes, table %u",
		       ti->name, tab[i].size, ti->type_size);
		CHECK_EQ_INT(ti->block_size, tab[i].block);
	}
}

static void api_contract(void)
{
	float f[QK_K] = { 0 };
	uint8_t q[sizeof(struct block_q8_K)] = { 0 };
	static const uint32_t deq[] = {
		GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
		GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
		GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_Q8_K,
		GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS,
	};
	int n_supported = 0;

	for (uint32_t t = 0; t < GGML_TYPE_COUNT + 5; t++)
		n_supported += dequantize_supported(t);
	CHECK_EQ_INT(n_supported, (int)(sizeof(deq) / sizeof(deq[0])));
	for (size_t i = 0; i < sizeof(deq) / sizeof(deq[0]); i++) {
		const struct ggml_type_info *ti = ggml_type_info(deq[i]);

		CHECK(dequantize_supported(deq[i]));
		CHECK_EQ_INT(dequantize_row(deq[i], q, f, ti->block_size), 0);
		CHECK_EQ_INT(dequantize_row(deq[i], q, f, 0), 0);
		CHECK_EQ_INT(dequantize_row(deq[i], q, f, -(int64_t)ti->block_size), -1);
		if (ti->block_size > 1)
			CHECK_EQ_INT(dequantize_row(deq[i], q, f, ti->block_size + 1), -1);
	}
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_Q8_1, q, f, 32), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ2_XXS, q, f, 256), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_I8, q, f, 1), -1);
	CHECK_EQ_INT(dequantize_row(1000, q, f, 32), -1);
	CHECK(quantize_supported(GGML_TYPE_Q8_0) && quantize_supported(GGML_TYPE_Q4_K));
	CHECK(!quantize_supported(GGML_TYPE_Q6_K) && !quantize_supported(1000));
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q8_0, f, q, 33), -1);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q6_K, f, q, 256), -1);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q4_K, f, q, 256), 0);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q8_K, f, q, 256), 0);
	/* IQ4_NL/IQ4_XS: dequantise only; whole blocks only (a whole number
	 * of IQ4_XS's 32-element sub-blocks is not enough) */
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_NL, q, f, 64), 0);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_NL, q, f, 16), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_NL, q, f, 48), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_XS, q, f, 32), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_XS, q, f, 128), -1);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_XS, q, f, 255), -1);
	CHECK(!quantize_supported(GGML_TYPE_IQ4_NL) && !quantize_supported(GGML_TYPE_IQ4_XS));
	CHECK_EQ_INT(quantize_row(GGML_TYPE_IQ4_NL, f, q, 32), -1);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_IQ4_XS, f, q, 256), -1);
}

/* ---- known answers --------------------------------------------------------- */

static void known_answers(void)
{
	struct block_q4_0 b40 = { .d = 0x3c00 };          /* d = 1 */
	struct block_q8_0 b80 = { .d = 0x4000 };          /* d = 2 */
	struct block_q4_K b4k;
	float y[QK_K];

	for (int j = 0; j < 16; j++)
		b40.qs[j] = (uint8_t)(j | (15 - j) << 4);
	dequantize_row_q4_0(&b40, y, QK4_0);
	for (int j = 0; j < 16; j++) {
		CHECK(y[j] == j - 8);
		CHECK(y[j + 16] == 7 - j);
	}
	for (int j = 0; j < 32; j++)
		b80.qs[j] = (int8_t)(j * 8 - 128);
	dequantize_row_q8_0(&b80, y, QK8_0);
	for (int j = 0; j < 32; j++)
		CHECK(y[j] == 2.0f * (j * 8 - 128));

	/* Q4_K: d = 1, dmin = 0.5, sub-block j scale j+1, min 2j; q = l % 16 */
	memset(&b4k, 0, sizeof(b4k));
	b4k.d = 0x3c00;
	b4k.dmin = 0x3800;
	for (int j = 0; j < 8; j++) {
		const int sc = j + 1, m = 2 * j;

		if (j < 4) {
			b4k.scales[j] = (uint8_t)sc;
			b4k.scales[j + 4] = (uint8_t)m;
		} else {
			b4k.scales[j + 4] = (uint8_t)((sc & 0xf) | (m & 0xf) << 4);
			b4k.scales[j - 4] |= (uint8_t)((sc >> 4) << 6);
			b4k.scales[j] |= (uint8_t)((m >> 4) << 6);
		}
	}
	for (int i = 0; i < QK_K / 2; i++)
		b4k.qs[i] = (uint8_t)((i % 16) | ((15 - i % 16) << 4));
	dequantize_row_q4_K(&b4k, y, QK_K);
	for (int k = 0; k < QK_K; k++) {
		const int j = k / 32, l = k % 32;           /* sub-block, index in it */
		const int q = (j % 2 == 0) ? l % 16 : 15 - l % 16;

		CHECKF(y[k] == (float)((j + 1) * q) - 0.5f * 2 * j,
		       "q4_K y[%d] = %g", k, (double)y[k]);
	}
}

/* IQ4_NL's 16 levels, typed in here from ggml's kvalues_iq4nl (not the
 * library's table, so a typo there shows) */
static const int iq4nl_levels[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

static void known_answers_iq4(void)
{
	/* IQ4_NL, d = 0.5: element j is the low nibble j, element j+16 the high 15-j */
	static const float half_levels[16] = {
		-63.5f, -52.0f, -41.5f, -32.5f, -24.5f, -17.5f, -11.0f, -5.0f,
		0.5f, 6.5f, 12.5f, 19.0f, 26.5f, 34.5f, 44.5f, 56.5f,
	};
	struct block_iq4_nl bnl[2] = { { .d = 0x3800 }, { .d = 0xc000 } };  /* 0.5, -2 */
	struct block_iq4_xs bxs;
	float y[2 * QK_K];
	int bad = 0;

	for (int j = 0; j < 16; j++) {
		bnl[0].qs[j] = (uint8_t)(j | (15 - j) << 4);
		bnl[1].qs[j] = (uint8_t)(0x0f | 0x80);  /* low 15 -> 113, high 8 -> 1 */
	}
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_NL, bnl, y, 2 * QK4_NL), 0);
	for (int j = 0; j < 16; j++) {
		bad += y[j] != half_levels[j];
		bad += y[j + 16] != half_levels[15 - j];
		bad += y[32 + j] != -226.0f;
		bad += y[48 + j] != -2.0f;
	}
	CHECKF(bad == 0, "iq4_nl: %d values wrong (y[0] %g y[16] %g y[32] %g y[48] %g)", bad,
	       (double)y[0], (double)y[16], (double)y[32], (double)y[48]);

	/*
	 * IQ4_XS, d = 1, sub-block scales ls = 0, 63, 32, 33, 31, 48, 16, 40
	 * (dl = ls - 32 = -32, 31, 0, 1, -1, 16, -16, 8). Low nibbles of ls
	 * 0,f,0,1,f,0,0,8 -> scales_l f0 10 0f 80; high bits 0,3,2,2,1,3,1,2
	 * (two per sub-block, sub-block 0 lowest) -> scales_h 0x9dac.
	 * Sub-block ib, byte j: low nibble (j + ib) % 16 (element j), high
	 * nibble 15 - j (element j + 16).
	 */
	static const int dl[8] = { -32, 31, 0, 1, -1, 16, -16, 8 };

	memset(&bxs, 0, sizeof(bxs));
	bxs.d = 0x3c00;
	bxs.scales_h = 0x9dac;
	bxs.scales_l[0] = 0xf0;
	bxs.scales_l[1] = 0x10;
	bxs.scales_l[2] = 0x0f;
	bxs.scales_l[3] = 0x80;
	for (int ib = 0; ib < 8; ib++)
		for (int j = 0; j < 16; j++)
			bxs.qs[16 * ib + j] = (uint8_t)((j + ib) % 16 | (15 - j) << 4);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_IQ4_XS, &bxs, y, QK_K), 0);
	/* a few by hand */
	CHECK(y[0] == 4064.0f);                 /* -32 * -127 */
	CHECK(y[16] == -3616.0f);               /* -32 * 113 */
	CHECK(y[32] == -3224.0f);               /* 31 * -104 (nibble 1) */
	CHECK(y[63] == -3937.0f);               /* 31 * -127 (high nibble 0) */
	CHECK(y[64] == 0.0f && y[95] == 0.0f);  /* dl 0 */
	CHECK(y[96] == -65.0f);                 /* 1 * level 3 */
	CHECK(y[128 + 15] == 65.0f);            /* -1 * level (15 + 4) % 16 = 3 */
	CHECK(y[224 + 31] == -1016.0f);         /* 8 * -127 */
	bad = 0;
	for (int k = 0; k < QK_K; k++) {
		const int ib = k / 32, l = k % 32;
		const int q = l < 16 ? (l + ib) % 16 : 15 - (l - 16);

		bad += y[k] != (float)(dl[ib] * iq4nl_levels[q]);
	}
	CHECKF(bad == 0, "iq4_xs: %d of 256 values wrong", bad);
}

/* ---- quantise -> dequantise ------------------------------------------------ */

static void fill_random(float *x, int n, int blk)
{
	for (int i = 0; i < n; i += blk) {
		const float mag = powf(10.0f, (float)(rng_unit() * 8 - 5));
		const int kind = (int)(rng_next() % 3);

		for (int j = 0; j < blk; j++) {
			float g = rng_gauss();

			x[i + j] = mag * (kind == 0 ? g : kind == 1 ? fabsf(g) : (float)(rng_unit() * 2 - 1));
		}
	}
}

#define NRAND (QK_K * 512)

static void q8_0_error_bound(void)
{
	static float x[NRAND], y[NRAND];
	static struct block_q8_0 q[NRAND / QK8_0];
	int bad = 0;

	rng_state = SEED;
	fill_random(x, NRAND, QK8_0);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q8_0, x, q, NRAND), 0);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_Q8_0, q, y, NRAND), 0);
	for (int b = 0; b < NRAND / QK8_0; b++) {
		float amax = 0;

		for (int j = 0; j < QK8_0; j++)
			amax = fmaxf(amax, fabsf(x[b * QK8_0 + j]));
		/* half a step, plus the fp16 rounding of d over 127 steps */
		const float d = amax / 127;
		const float bound = (d / 2 + 127 * fp16_err(d)) * 1.001f;

		for (int j = 0; j < QK8_0; j++)
			bad += !(fabsf(x[b * QK8_0 + j] - y[b * QK8_0 + j]) <= bound);
	}
	CHECKF(bad == 0, "%d of %d values outside the Q8_0 error bound (seed %#x)", bad, NRAND, SEED);
}

static void legacy_error_bounds(void)
{
	static float x[NRAND], y[NRAND];
	static uint8_t q[NRAND / 32 * 24];
	/* bound in steps of the block's range (0..7 steps for q4_0 clamp at 15) */
	static const struct { uint32_t t; float steps; float levels; } tab[] = {
		{ GGML_TYPE_Q4_0, 1.0f, 16 }, { GGML_TYPE_Q4_1, 0.5f, 15 },
		{ GGML_TYPE_Q5_0, 1.0f, 32 }, { GGML_TYPE_Q5_1, 0.5f, 31 },
	};

	rng_state = SEED + 1;
	fill_random(x, NRAND, 32);
	for (size_t k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		int bad = 0;

		CHECK_EQ_INT(quantize_row(tab[k].t, x, q, NRAND), 0);
		CHECK_EQ_INT(dequantize_row(tab[k].t, q, y, NRAND), 0);
		for (int b = 0; b < NRAND / 32; b++) {
			float mn = x[b * 32], mx = x[b * 32];

			for (int j = 1; j < 32; j++) {
				mn = fminf(mn, x[b * 32 + j]);
				mx = fmaxf(mx, x[b * 32 + j]);
			}
			const float amax = fmaxf(fabsf(mn), fabsf(mx));
			/* grid step, plus fp16 rounding of d (times the top level) and m */
			const float step = (tab[k].steps == 1.0f ? 2 * amax : mx - mn) / tab[k].levels;
			const float bound = (step * tab[k].steps + tab[k].levels * fp16_err(step) +
					     fp16_err(mn)) * 1.001f;

			for (int j = 0; j < 32; j++)
				bad += !(fabsf(x[b * 32 + j] - y[b * 32 + j]) <= bound);
		}
		CHECKF(bad == 0, "%s: %d values outside the error bound", ggml_type_name(tab[k].t), bad);
	}
}

static void q4_K_error_bound(void)
{
	static float x[NRAND], y[NRAND];
	static struct block_q4_K q[NRAND / QK_K];
	double worst_rel = 0, sum_rel = 0;
	int bad = 0;

	rng_state = SEED + 2;
	for (int i = 0; i < NRAND; i += QK_K) {
		const float mag = powf(10.0f, (float)(rng_unit() * 6 - 3));

		for (int j = 0; j < QK_K; j++)
			x[i + j] = mag * rng_gauss();
	}
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q4_K, x, q, NRAND), 0);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_Q4_K, q, y, NRAND), 0);
	for (int b = 0; b < NRAND / QK_K; b++) {
		double se = 0, sx = 0;
		float mn = 0, mx = 0;

		for (int j = 0; j < QK_K; j++) {
			const float v = x[b * QK_K + j], e = v - y[b * QK_K + j];

			se += (double)e * e;
			sx += (double)v * v;
			mn = fminf(mn, v);
			mx = fmaxf(mx, v);
		}
		for (int j = 0; j < QK_K; j++)
			bad += !(fabsf(x[b * QK_K + j] - y[b * QK_K + j]) <= (mx - mn) / 15);
		const double rel = sqrt(se / sx);

		sum_rel += rel;
		if (rel > worst_rel)
			worst_rel = rel;
	}
	printf("# q4_K rms relative error: mean %.4f worst %.4f over %d blocks\n",
	       sum_rel / (NRAND / QK_K), worst_rel, NRAND / QK_K);
	CHECKF(bad == 0, "%d values further than a super-block step", bad);
	CHECKF(worst_rel < 0.15 && sum_rel / (NRAND / QK_K) < 0.11,
	       "q4_K error too large: mean %g worst %g", sum_rel / (NRAND / QK_K), worst_rel);
	/* stored 6-bit scales never exceed 63, d and dmin finite and >= 0 */
	for (int b = 0; b < NRAND / QK_K; b++) {
		for (int j = 0; j < 8; j++) {
			uint8_t sc, m;

			get_scale_min_k4(j, q[b].scales, &sc, &m);
			bad += sc > 63 || m > 63;
		}
		bad += !(fp16_to_fp32(q[b].d) >= 0) || !isfinite(fp16_to_fp32(q[b].d));
		bad += !(fp16_to_fp32(q[b].dmin) >= 0) || !isfinite(fp16_to_fp32(q[b].dmin));
	}
	CHECKF(bad == 0, "%d bad q4_K scale fields", bad);
}

static void q8_K_properties(void)
{
	static float x[QK_K * 64], y[QK_K * 64];
	static struct block_q8_K q[64];
	int bad = 0;

	rng_state = SEED + 3;
	fill_random(x, QK_K * 64, QK_K);
	CHECK_EQ_INT(quantize_row(GGML_TYPE_Q8_K, x, q, QK_K * 64), 0);
	CHECK_EQ_INT(dequantize_row(GGML_TYPE_Q8_K, q, y, QK_K * 64), 0);
	for (int b = 0; b < 64; b++) {
		float amax = 0;

		for (int j = 0; j < QK_K / 16; j++) {
			int s = 0;

			for (int l = 0; l < 16; l++)
				s += q[b].qs[16 * j + l];
			bad += s != q[b].bsums[j];
		}
		for (int j = 0; j < QK_K; j++)
			amax = fmaxf(amax, fabsf(x[b * QK_K + j]));
		for (int j = 0; j < QK_K; j++)
			bad += !(fabsf(x[b * QK_K + j] - y[b * QK_K + j]) <= amax / 127 * 0.5001f);
	}
	CHECKF(bad == 0, "%d q8_K property violations", bad);
}

/* ---- zeros and extremes ---------------------------------------------------- */

static void zeros_quantize_to_zero(void)
{
	static const uint32_t types[] = {
		GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
		GGML_TYPE_Q4_K, GGML_TYPE_Q8_K, GGML_TYPE_F16, GGML_TYPE_BF16,
	};
	static float x[QK_K * 2], y[QK_K * 2];
	static uint8_t q[QK_K * 2 * sizeof(float)];   /* F16 needs 2 bytes a value */

	memset(x, 0, sizeof(x));
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		int nonzero = 0;

		memset(q, 0xa5, sizeof(q));
		CHECK_EQ_INT(quantize_row(types[k], x, q, QK_K * 2), 0);
		CHECK_EQ_INT(dequantize_row(types[k], q, y, QK_K * 2), 0);
		for (int j = 0; j < QK_K * 2; j++)
			nonzero += y[j] != 0.0f;    /* q4_0/q5_0 give -0.0: (0 - 8) * 0 */
		CHECKF(nonzero == 0, "%s: %d non-zero outputs for zero input",
		       ggml_type_name(types[k]), nonzero);
	}
	/* and Q4_0/Q8_0 of zeros are all-zero bytes, except q4_0's offset nibbles */
	{
		struct block_q8_0 b;

		quantize_row_q8_0_ref(x, &b, QK8_0);
		CHECK(b.d == 0);
		for (int j = 0; j < QK8_0; j++)
			CHECK(b.qs[j] == 0);
	}
}

/* Huge, tiny and non-finite inputs must not crash or trip UBSan. */
static void extreme_inputs_no_ub(void)
{
	static const float vals[] = {
		3.4028235e38f, -3.4028235e38f, 65504.0f * 127, 1e-45f, -1e-45f,
		1.17549435e-38f, 1e-40f, INFINITY, -INFINITY, NAN, 1e30f, -1e30f,
	};
	static const uint32_t types[] = {
		GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
		GGML_TYPE_Q4_K, GGML_TYPE_Q8_K, GGML_TYPE_F16, GGML_TYPE_BF16,
	};
	static float x[QK_K], y[QK_K];
	static uint8_t q[QK_K * sizeof(float)];
	const int nv = (int)(sizeof(vals) / sizeof(vals[0]));

	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		for (int mode = 0; mode < 3; mode++) {
			for (int v = 0; v < nv; v++) {
				for (int j = 0; j < QK_K; j++)
					x[j] = mode == 0 ? vals[v] :
					       mode == 1 ? (j % 7 ? 0.25f * (j % 5) : vals[v]) :
					       vals[(v + j) % nv];
				CHECK_EQ_INT(quantize_row(types[k], x, q, QK_K), 0);
				CHECK_EQ_INT(dequantize_row(types[k], q, y, QK_K), 0);
			}
		}
	}
	/* finite extremes: Q8_0 of +-65504*127 gives an Inf scale (fp16 overflow) */
	for (int j = 0; j < QK8_0; j++)
		x[j] = (j & 1) ? 65504.0f * 128 : -1.0f;
	{
		struct block_q8_0 b;

		quantize_row_q8_0_ref(x, &b, QK8_0);
		CHECK_EQ_INT(b.d, 0x7c00);
		CHECK_EQ_INT(b.qs[1], 127);
		CHECK_EQ_INT(b.qs[0], 0);
		dequantize_row_q8_0(&b, y, QK8_0);
		CHECK(isinf(y[1]) && y[1] > 0);
		CHECK(isnan(y[0]));                     /* 0 * Inf */
	}
}

/*
 * NaN/Inf scales: we do what ggml does, plain float arithmetic, so they
 * propagate: NaN scale -> every output NaN; Inf scale -> +-Inf, and NaN
 * where the quant is 0 (0 * Inf).
 */
static void nonfinite_scales_propagate(void)
{
	float y[QK_K];
	struct block_q8_0 b8 = { .d = 0x7e00 };
	struct block_q4_1 b41;
	struct block_q4_K b4k;
	struct block_q6_K b6k;
	int bad = 0;

	for (int j = 0; j < QK8_0; j++)
		b8.qs[j] = (int8_t)(j - 16);
	dequantize_row_q8_0(&b8, y, QK8_0);
	for (int j = 0; j < QK8_0; j++)
		bad += !isnan(y[j]);
	b8.d = 0x7c00;                                  /* +Inf */
	dequantize_row_q8_0(&b8, y, QK8_0);
	for (int j = 0; j < QK8_0; j++)
		bad += j < 16 ? !(isinf(y[j]) && y[j] < 0) : j == 16 ? !isnan(y[j]) : !(isinf(y[j]) && y[j] > 0);
	CHECKF(bad == 0, "q8_0: %d outputs not as ggml", bad);

	/* q4_1: finite d, Inf min -> every output Inf */
	memset(&b41, 0x37, sizeof(b41));
	b41.d = 0x3c00;
	b41.m = 0xfc00;
	dequantize_row_q4_1(&b41, y, QK4_1);
	bad = 0;
	for (int j = 0; j < QK4_1; j++)
		bad += !(isinf(y[j]) && y[j] < 0);
	CHECKF(bad == 0, "q4_1: %d outputs not -Inf", bad);

	/* q4_K: NaN dmin poisons every sub-block, even where the 6-bit min is 0 */
	memset(&b4k, 0, sizeof(b4k));
	b4k.d = 0x3c00;
	b4k.dmin = 0x7e00;
	dequantize_row_q4_K(&b4k, y, QK_K);
	bad = 0;
	for (int j = 0; j < QK_K; j++)
		bad += !isnan(y[j]);
	CHECKF(bad == 0, "q4_K: %d outputs not NaN", bad);

	/* q6_K: subnormal d works like any other scale; Inf d gives +-Inf */
	memset(&b6k, 0, sizeof(b6k));
	for (int j = 0; j < QK_K / 16; j++)
		b6k.scales[j] = 1;
	b6k.d = 0x0001;                                 /* 2^-24 */
	dequantize_row_q6_K(&b6k, y, QK_K);
	CHECK(y[0] == -32 * 0x1p-24f);
	b6k.d = 0x7c00;
	dequantize_row_q6_K(&b6k, y, QK_K);
	bad = 0;
	for (int j = 0; j < QK_K; j++)
		bad += !(isinf(y[j]) && y[j] < 0);
	CHECKF(bad == 0, "q6_K: %d outputs not -Inf", bad);
}

int main(void)
{
	printf("# seed %#x\n", SEED);
	RUN(fp16_exhaustive_roundtrip);
	RUN(fp16_values_exact);
	RUN(fp16_rounding_midpoints);
	RUN(fp16_edges);
	RUN(bf16_exhaustive_roundtrip);
	RUN(bf16_rounding);
	RUN(nearest_int_ties_even);
	RUN(struct_sizes_match_type_table);
	RUN(api_contract);
	RUN(known_answers);
	RUN(known_answers_iq4);
	RUN(q8_0_error_bound);
	RUN(legacy_error_bounds);
	RUN(q4_K_error_bound);
	RUN(q8_K_properties);
	RUN(zeros_quantize_to_zero);
	RUN(extreme_inputs_no_ub);
	RUN(nonfinite_scales_propagate);
	return tap_done();
}
