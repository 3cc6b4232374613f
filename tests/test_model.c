// SPDX-License-Identifier: MIT
/*
 * Inference tests: kernels (SIMD against the reference, per weight type),
 * the thread pool, the small ops, model loading errors, the forward pass
 * against llama.cpp fixtures (tests/model/), sampler and chat template.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp16.h"
#include "ggml_types.h"
#include "ops.h"
#include "quant.h"
#include "tap.h"
#include "threadpool.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

static float frnd(void)		/* uniform in [-1, 1) */
{
	return (float)((int32_t)rnd()) / 2147483648.0f;
}

/* ---- thread pool -------------------------------------------------------- */

struct sum_job {
	long parts[8];
};

static void sum_worker(void *arg, int ith, int nth)
{
	struct sum_job *j = arg;
	long s = 0;

	for (long i = ith; i < 100000; i += nth)
		s += i;
	j->parts[ith] = s;
}

static void test_threadpool(void)
{
	for (int n = 1; n <= 4; n++) {
		struct threadpool *tp = threadpool_new(n);

		CHECK(tp != NULL);
		if (!tp)
			return;
		for (int rep = 0; rep < 50; rep++) {
			struct sum_job j = { { 0 } };
			long total = 0;

			threadpool_run(tp, sum_worker, &j);
			for (int i = 0; i < n; i++)
				total += j.parts[i];
			CHECK_EQ_INT(total, 99999L * 100000 / 2);
		}
		threadpool_free(tp);
	}
}

/* ---- matmul kernels ------------------------------------------------------- */

/* Random rows of type: quantised from random floats where we can, else
 * random bytes with sane half-float scales patched in. */
static void *random_rows(uint32_t type, int rows, int cols, size_t *row_bytes)
{
	uint64_t rb;

	ggml_row_size(type, (uint64_t)cols, &rb);
	*row_bytes = (size_t)rb;
	uint8_t *data = malloc((size_t)rb * rows);
	float *f = malloc(sizeof(float) * cols);

	for (int r = 0; r < rows; r++) {
		uint8_t *row = data + (size_t)r * rb;

		if (quantize_supported(type)) {
			for (int c = 0; c < cols; c++)
				f[c] = frnd();
			quantize_row(type, f, row, cols);
			continue;
		}
		for (size_t i = 0; i < rb; i++)
			row[i] = (uint8_t)rnd();
		const struct ggml_type_info *ti = ggml_type_info(type);
		size_t nblk = rb / ti->type_size;

		for (size_t b = 0; b < nblk; b++) {
			uint8_t *blk = row + b * ti->type_size;
			uint16_t d = fp32_to_fp16(0.01f + 0.01f * (float)(rnd() % 100) / 100.0f);
			uint16_t dm = fp32_to_fp16(0.005f);
			size_t od = 0, odm = 2;

			switch (type) {
			case GGML_TYPE_Q2_K: od = 80; odm = 82; break;
			case GGML_TYPE_Q3_K: od = 108; odm = SIZE_MAX; break;
			case GGML_TYPE_Q5_K: od = 0; odm = 2; break;
			case GGML_TYPE_Q6_K: od = 208; odm = SIZE_MAX; break;
			default: break;
			}
			memcpy(blk + od, &d, 2);
			if (odm != SIZE_MAX)
				memcpy(blk + odm, &dm, 2);
		}
	}
	free(f);
	return data;
}

static const uint32_t mm_types[] = {
	GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
	GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
	GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
};

/* Every SIMD variant against the reference kernel and the reference
 * against a double-precision dot of the dequantised weights. */
static void check_isa(enum ops_isa isa)
{
	const int rows = 13, cols = 512, Ms[] = { 1, 3, 4, 9 };
	struct threadpool *tp = threadpool_new(3);
	float *x = malloc(sizeof(float) * 9 * cols);
	float *y = malloc(sizeof(float) * 9 * rows), *yr = malloc(sizeof(float) * 9 * rows);
	float *wf = malloc(sizeof(float) * cols);

	for (int i = 0; i < 9 * cols; i++)
		x[i] = frnd();
	for (size_t t = 0; t < sizeof(mm_types) / sizeof(mm_types[0]); t++) {
		uint32_t type = mm_types[t];
		size_t rb;
		void *data = random_rows(type, rows, cols, &rb);
		struct qmat w;
		double worst = 0;

		CHECK(qmat_init(&w, data, type, rows, cols));
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			int M = Ms[mi];

			CHECK_EQ_INT(ops_matmul(tp, OPS_ISA_REF, &w, x, M, yr), 0);
			CHECK_EQ_INT(ops_matmul(tp, isa, &w, x, M, y), 0);
			for (int r = 0; r < rows; r++) {
				qmat_get_row(&w, r, wf);
				for (int m = 0; m < M; m++) {
					double exact = 0, mag = 0;

					for (int c = 0; c < cols; c++) {
						exact += (double)wf[c] * x[m * cols + c];
						mag += fabs((double)wf[c] * x[m * cols + c]);
					}
					double e1 = fabs(yr[m * rows + r] - exact) / (mag + 1e-30);
					double e2 = fabs(y[m * rows + r] - exact) / (mag + 1e-30);

					if (e1 > worst)
						worst = e1;
					if (e2 > worst)
						worst = e2;
				}
			}
		}
		/* f32 sums of 512 terms: relative error well under 512 * 2^-24 */
		CHECKF(worst < 2e-5, "%s %s: worst relative error %g", ops_isa_name(isa),
		       ggml_type_name(type), worst);
		free(data);
	}
	free(x);
	free(y);
	free(yr);
	free(wf);
	threadpool_free(tp);
}

static void test_matmul_ref(void)
{
	check_isa(OPS_ISA_REF);
}

static void test_matmul_avx2(void)
{
	if (!ops_isa_available(OPS_ISA_AVX2)) {
		tap_skip("no AVX2/FMA/F16C on this CPU");
		return;
	}
	check_isa(OPS_ISA_AVX2);
}

static void test_matmul_neon(void)
{
	if (!ops_isa_available(OPS_ISA_NEON)) {
		tap_skip("not an aarch64 build");
		return;
	}
	check_isa(OPS_ISA_NEON);
}

/* ---- small ops -------------------------------------------------------- */

static void test_rope(void)
{
	float v[2][8], w[8];

	for (int i = 0; i < 8; i++)
		v[0][i] = v[1][i] = w[i] = frnd();
	ops_rope(v[0], 1, 8, 8, 0, 10000.0f, true);
	ops_rope(v[1], 1, 8, 8, 0, 10000.0f, false);
	for (int i = 0; i < 8; i++)
		CHECK(v[0][i] == w[i] && v[1][i] == w[i]);	/* position 0: identity */

	/* pair 0 rotates by pos radians: (0,4) in NeoX mode, (0,1) in normal mode */
	memcpy(v[0], w, sizeof(w));
	memcpy(v[1], w, sizeof(w));
	ops_rope(v[0], 1, 8, 8, 3, 10000.0f, true);
	ops_rope(v[1], 1, 8, 8, 3, 10000.0f, false);
	CHECK(fabsf(v[0][0] - (w[0] * cosf(3) - w[4] * sinf(3))) < 1e-6f);
	CHECK(fabsf(v[0][4] - (w[0] * sinf(3) + w[4] * cosf(3))) < 1e-6f);
	CHECK(fabsf(v[1][0] - (w[0] * cosf(3) - w[1] * sinf(3))) < 1e-6f);
	CHECK(fabsf(v[1][1] - (w[0] * sinf(3) + w[1] * cosf(3))) < 1e-6f);
	/* last pair: theta = 3 * 10000^(-6/8) */
	float th = 3.0f * powf(10000.0f, -0.75f);
	CHECK(fabsf(v[0][3] - (w[3] * cosf(th) - w[7] * sinf(th))) < 1e-6f);
	CHECK(fabsf(v[1][6] - (w[6] * cosf(th) - w[7] * sinf(th))) < 1e-6f);
}

static void test_norm_softmax(void)
{
	float x[4] = { 1, -2, 3, -4 }, w[4] = { 1, 1, 2, 0.5f }, y[4];
	float rms = sqrtf((1 + 4 + 9 + 16) / 4.0f + 1e-6f);

	ops_rmsnorm(y, x, w, 4, 1e-6f);
	for (int i = 0; i < 4; i++)
		CHECK(fabsf(y[i] - x[i] / rms * w[i]) < 1e-6f);

	float s[3] = { 10, 10, 10 - logf(2) };

	ops_softmax(s, 3);
	CHECK(fabsf(s[0] - 0.4f) < 1e-6f && fabsf(s[2] - 0.2f) < 1e-6f);

	float a[2] = { 0, 2 }, b[2] = { 3, 5 };

	ops_swiglu(a, b, 2);
	CHECK(a[0] == 0 && fabsf(a[1] - 2 / (1 + expf(-2)) * 5) < 1e-6f);
}

int main(void)
{
	RUN(test_threadpool);
	RUN(test_matmul_ref);
	RUN(test_matmul_avx2);
	RUN(test_matmul_neon);
	RUN(test_rope);
	RUN(test_norm_softmax);
	return tap_done();
}
