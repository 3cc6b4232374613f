// SPDX-License-Identifier: MIT
/*
 * NPU backend against a rocket device (tests/npu_backend_test.sh runs it on
 * the emulated one, LD_PRELOAD build/librocket-shim.so; on the board it runs
 * on the real NPU). TAP. Modes:
 *   test_npu_backend                   full suite (SKIP when there is no device)
 *   test_npu_backend --expect-no-matmul  the device must be refused with the
 *                                        "lacks SUBMIT_MATMUL" message (upstream driver)
 *   test_npu_backend --dry             only the device-less planning checks
 *
 * Checks: the int32 sums equal an integer CPU reference exactly (from the
 * int8 weights read back from the BO and the backend's activation
 * quantisation); the float results are within the int8 rounding bound of a
 * double-precision reference on the original (dequantised) weights;
 * batching (descriptors per ioctl), K chunks, N splits, bias, Hadamard.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drm/rocket_accel.h>

#include "fp16.h"
#include "ggml_types.h"
#include "npu_backend.h"
#include "ops.h"
#include "quant.h"
#include "tap.h"
#include "threadpool.h"

#define ok tap_ok

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void)	/* [-1, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* Random rows x cols weights in type; f gets the dequantised values. */
static void *make_weights(uint32_t type, int64_t rows, int64_t cols, float *f)
{
	uint64_t rb;
	uint8_t *data;
	float *src = malloc((size_t)cols * sizeof(float));

	ggml_row_size(type, (uint64_t)cols, &rb);
	data = malloc((size_t)rb * rows);
	for (int64_t r = 0; r < rows; r++) {
		uint8_t *d = data + (size_t)r * rb;
		float rs = 0.02f * (1.0f + (float)(r % 7));	/* per-row magnitudes differ */

		for (int64_t c = 0; c < cols; c++)
			src[c] = frand() * rs;
		switch (type) {
		case GGML_TYPE_F32:
			memcpy(d, src, (size_t)cols * 4);
			break;
		case GGML_TYPE_F16:
			for (int64_t c = 0; c < cols; c++)
				((uint16_t *)d)[c] = fp32_to_fp16(src[c]);
			break;
		case GGML_TYPE_BF16:
			for (int64_t c = 0; c < cols; c++)
				((uint16_t *)d)[c] = fp32_to_bf16(src[c]);
			break;
		default:
			quantize_row(type, src, d, cols);
		}
		switch (type) {
		case GGML_TYPE_F32:
			memcpy(f + (size_t)r * cols, d, (size_t)cols * 4);
			break;
		case GGML_TYPE_F16:
			for (int64_t c = 0; c < cols; c++)
				f[(size_t)r * cols + c] = fp16_to_fp32(((uint16_t *)d)[c]);
			break;
		case GGML_TYPE_BF16:
			for (int64_t c = 0; c < cols; c++)
				f[(size_t)r * cols + c] = bf16_to_fp32(((uint16_t *)d)[c]);
			break;
		default:
			dequantize_row(type, d, f + (size_t)r * cols, cols);
		}
	}
	free(src);
	return data;
}

static float *make_x(int64_t M, int64_t K, float outlier)
{
	float *x = malloc((size_t)(M * K) * sizeof(float));

	for (int64_t i = 0; i < M * K; i++)
		x[i] = frand();
	if (outlier > 0)	/* a few large channels, as LLM activations have */
		for (int64_t m = 0; m < M; m++)
			for (int64_t k = 3; k < K; k += K / 4 + 1)
				x[m * K + k] *= outlier;
	return x;
}

struct check {
	double max_excess;	/* max |err| / bound (must be <= 1) */
	double rel_rms;		/* rms(err) / rms(ref) */
	int64_t int_mismatch;
};

/*
 * Check y and acc of one matmul: exact integers vs q-reference, float within
 * the rounding bound vs the double reference on wf (rows x cols).
 */
static struct check check_mm(struct npu_backend *be, const struct npu_weight *w, const float *wf,
			     const float *x, const float *bias, int64_t M, const float *y,
			     const int32_t *acc)
{
	int64_t N = npu_weight_rows(w), K = npu_weight_cols(w);
	uint32_t hb = npu_backend_hadamard_block(be, K);
	int8_t *qw = malloc((size_t)K), *qx = malloc((size_t)(M * K));
	float *xr = malloc((size_t)(M * K) * sizeof(float)), *wr = malloc((size_t)K * sizeof(float));
	float *as = malloc((size_t)M * sizeof(float));
	struct check ck = { 0 };
	double se = 0, sr = 0;

	memcpy(xr, x, (size_t)(M * K) * sizeof(float));
	for (int64_t m = 0; m < M; m++) {
		if (hb)
			npu_hadamard(xr + m * K, K, hb);
		as[m] = npu_quantize_row(xr + m * K, K, qx + m * K);
	}
	for (int64_t n = 0; n < N; n++) {
		float ws;

		npu_weight_row_q(w, n, qw, &ws);
		memcpy(wr, wf + n * K, (size_t)K * sizeof(float));
		if (hb)
			npu_hadamard(wr, K, hb);
		for (int64_t m = 0; m < M; m++) {
			int64_t isum = 0;
			double ref = 0, bound = 0, mag = 0, err;

			for (int64_t k = 0; k < K; k++) {
				isum += (int64_t)qw[k] * qx[m * K + k];
				ref += (double)wf[n * K + k] * x[m * K + k];
				mag += fabs((double)wf[n * K + k] * x[m * K + k]);
				bound += fabs(wr[k]) * as[m] * 0.5 + fabs(xr[m * K + k]) * ws * 0.5 +
					 (double)as[m] * ws * 0.25;
			}
			if (bias)
				ref += bias[n];
			bound += 1e-5 * mag + 1e-6 * (1 + fabs(ref));
			if (acc && acc[m * N + n] != isum)
				ck.int_mismatch++;
			err = fabs(y[m * N + n] - ref);
			if (err / bound > ck.max_excess)
				ck.max_excess = err / bound;
			se += err * err;
			sr += ref * ref;
		}
	}
	ck.rel_rms = sqrt(se / (sr > 0 ? sr : 1));
	free(qw);
	free(qx);
	free(xr);
	free(wr);
	free(as);
	return ck;
}

struct shape {
	int64_t M, K, N;
	uint32_t type;
	uint32_t k_chunk, n_split, hadamard;
	int bias;
	int threads;
};

static void run_shape(const struct shape *s)
{
	struct threadpool *tp = s->threads > 1 ? threadpool_new(s->threads) : NULL;
	struct npu_backend_opts o = { .k_chunk = s->k_chunk, .n_split = s->n_split,
				      .hadamard = s->hadamard, .tp = tp };
	char err[512];
	struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
	float *wf = malloc((size_t)(s->N * s->K) * sizeof(float));
	void *wd = make_weights(s->type, s->N, s->K, wf);
	float *x = make_x(s->M, s->K, 0), *bias = NULL;
	float *y = calloc((size_t)(s->M * s->N), sizeof(float));
	int32_t *acc = calloc((size_t)(s->M * s->N), sizeof(int32_t));
	struct npu_weight *w;
	char name[160];

	snprintf(name, sizeof(name), "%lldx%lldx%lld %s chunk %u split %u hadamard %u%s%s",
		 (long long)s->M, (long long)s->K, (long long)s->N, ggml_type_name(s->type),
		 s->k_chunk, s->n_split, s->hadamard, s->bias ? " bias" : "",
		 s->threads > 1 ? " 2 threads" : "");
	if (!be) {
		ok(0, "%s: open: %s", name, err);
		goto out;
	}
	if (s->bias) {
		bias = malloc((size_t)s->N * sizeof(float));
		for (int64_t n = 0; n < s->N; n++)
			bias[n] = frand();
	}
	w = npu_weight_load(be, wd, s->type, s->N, s->K, NULL, NULL, err, sizeof(err));
	if (!w) {
		ok(0, "%s: load: %s", name, err);
		goto out;
	}
	struct npu_mm mm = { .w = w, .x = x, .y = y, .bias = bias, .acc = acc };

	if (npu_matmul_batch(be, &mm, 1, s->M, err, sizeof(err))) {
		ok(0, "%s: matmul: %s", name, err);
	} else {
		struct check ck = check_mm(be, w, wf, x, bias, s->M, y, acc);
		const struct npu_stats *st = npu_backend_stats(be);

		ok(ck.int_mismatch == 0, "%s: int32 sums exact (%lld mismatches)", name,
		   (long long)ck.int_mismatch);
		ok(ck.max_excess <= 1.0 && ck.rel_rms < 0.03,
		   "%s: float within the int8 bound (max err/bound %.3f, rel rms %.2e), %llu descs "
		   "in %llu ioctl", name, ck.max_excess, ck.rel_rms, (unsigned long long)st->descs,
		   (unsigned long long)st->ioctls);
	}
	npu_weight_free(be, w);
out:
	npu_backend_close(be);
	threadpool_free(tp);
	free(wf);
	free(wd);
	free(x);
	free(y);
	free(acc);
	free(bias);
}

struct prog {
	uint64_t last, total;
	int calls;
};

static void progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	p->last = done;
	p->total = total;
	p->calls++;
}

/* QKV-like: three weights on one x plus one on another x, one call. */
static void test_batch(void)
{
	char err[512];
	struct npu_backend *be = npu_backend_open(NULL, err, sizeof(err));
	const int64_t M = 4, K = 256;
	const int64_t Ns[4] = { 256, 64, 64, 96 };
	float *wf[4], *x1 = make_x(M, K, 0), *x2 = make_x(M, K, 0), *y[4];
	void *wd[4];
	struct npu_weight *w[4];
	struct npu_mm mm[4];
	int good = 1;
	struct prog pr = { 0 };

	if (!be) {
		ok(0, "batch: %s", err);
		return;
	}
	for (int i = 0; i < 4; i++) {
		wf[i] = malloc((size_t)(Ns[i] * K) * sizeof(float));
		wd[i] = make_weights(GGML_TYPE_Q8_0, Ns[i], K, wf[i]);
		w[i] = npu_weight_load(be, wd[i], GGML_TYPE_Q8_0, Ns[i], K, progress, &pr, err,
				       sizeof(err));
		y[i] = calloc((size_t)(M * Ns[i]), sizeof(float));
		mm[i] = (struct npu_mm){ .w = w[i], .x = i < 3 ? x1 : x2, .y = y[i] };
		good &= w[i] != NULL;
	}
	ok(good && pr.last == (uint64_t)Ns[3] && pr.total == (uint64_t)Ns[3],
	   "progress callback reports rows done (%llu of %llu)", (unsigned long long)pr.last,
	   (unsigned long long)pr.total);
	npu_backend_reset_stats(be);
	if (good && !npu_matmul_batch(be, mm, 4, M, err, sizeof(err))) {
		const struct npu_stats *st = npu_backend_stats(be);

		for (int i = 0; i < 4; i++) {
			struct check ck = check_mm(be, w[i], wf[i], mm[i].x, NULL, M, y[i], NULL);

			good &= ck.max_excess <= 1.0;
		}
		ok(good, "batch of 4 matmuls (3 share x): every result within the bound");
		ok(st->ioctls == 1 && st->descs == 4 && st->waits == 4,
		   "batch: one SUBMIT_MATMUL with 4 descriptors (%llu ioctls, %llu descs, A bytes %llu)",
		   (unsigned long long)st->ioctls, (unsigned long long)st->descs,
		   (unsigned long long)st->a_bytes);
		ok(st->a_bytes == 2 * (uint64_t)M * K, "batch: shared x quantised and packed once");
	} else {
		ok(0, "batch: %s", err);
	}
	for (int i = 0; i < 4; i++) {
		npu_weight_free(be, w[i]);
		free(wf[i]);
		free(wd[i]);
		free(y[i]);
	}
	free(x1);
	free(x2);
	npu_backend_close(be);
}

/* More descriptors than one ioctl takes. */
static void test_many(void)
{
	char err[512];
	struct npu_backend *be = npu_backend_open(NULL, err, sizeof(err));
	enum { CNT = 70 };
	const int64_t K = 64, N = 32, M = 1;
	float *wf = malloc((size_t)(N * K) * sizeof(float)), *x = make_x(M, K, 0);
	void *wd = make_weights(GGML_TYPE_F32, N, K, wf);
	struct npu_weight *w = be ? npu_weight_load(be, wd, GGML_TYPE_F32, N, K, NULL, NULL, err,
						    sizeof(err)) : NULL;
	float *y = calloc(CNT * N, sizeof(float));
	struct npu_mm mm[CNT];
	int good = 1;

	if (!w) {
		ok(0, "70 matmuls: %s", err);
		goto out;
	}
	for (int i = 0; i < CNT; i++)
		mm[i] = (struct npu_mm){ .w = w, .x = x, .y = y + i * N };
	npu_backend_reset_stats(be);
	if (npu_matmul_batch(be, mm, CNT, M, err, sizeof(err))) {
		ok(0, "70 matmuls: %s", err);
		goto out;
	}
	for (int i = 1; i < CNT; i++)
		good &= !memcmp(y, y + i * N, N * sizeof(float));
	good &= check_mm(be, w, wf, x, NULL, M, y, NULL).max_excess <= 1.0;
	ok(good && npu_backend_stats(be)->ioctls == 2,
	   "70 matmuls in one batch: 2 ioctls (64 + 6), all results equal and right");
out:
	npu_weight_free(be, w);
	npu_backend_close(be);
	free(wf);
	free(wd);
	free(x);
	free(y);
}

/* Outlier channels: the Hadamard rotation reduces the int8 error. */
static void test_hadamard(void)
{
	const int64_t M = 8, K = 512, N = 128;
	float *wf = malloc((size_t)(N * K) * sizeof(float)), *x = make_x(M, K, 60.0f);
	void *wd = make_weights(GGML_TYPE_F16, N, K, wf);
	double rms[2] = { 0, 0 };
	int good = 1;

	for (int h = 0; h < 2; h++) {
		struct npu_backend_opts o = { .hadamard = h ? 256 : 0 };
		char err[512];
		struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
		struct npu_weight *w = be ? npu_weight_load(be, wd, GGML_TYPE_F16, N, K, NULL, NULL,
							    err, sizeof(err)) : NULL;
		float *y = calloc((size_t)(M * N), sizeof(float));
		int32_t *acc = calloc((size_t)(M * N), sizeof(int32_t));
		struct npu_mm mm = { .w = w, .x = x, .y = y, .acc = acc };

		if (!w || npu_matmul_batch(be, &mm, 1, M, err, sizeof(err))) {
			good = 0;
		} else {
			struct check ck = check_mm(be, w, wf, x, NULL, M, y, acc);

			good &= ck.int_mismatch == 0 && ck.max_excess <= 1.0;
			rms[h] = ck.rel_rms;
		}
		npu_weight_free(be, w);
		npu_backend_close(be);
		free(y);
		free(acc);
	}
	ok(good && rms[1] < rms[0] * 0.7,
	   "activation outliers (x60): Hadamard 256 lowers the relative rms error %.2e -> %.2e",
	   rms[0], rms[1]);
	free(wf);
	free(wd);
	free(x);
}

/*
 * The vector (AVX2 or NEON) activation quantiser and Hadamard rotation
 * against the reference ones, bit for bit: lengths with tails, zero, NaN
 * and infinite rows, every block size the backend can pick.
 */
static void test_isa_kernels(void)
{
#if defined(__x86_64__)
	const enum ops_isa isa = OPS_ISA_AVX2;
	float (*quantize)(const float *, int64_t, int8_t *) = ops_quantize_i8_row_avx2;
	void (*hadamard)(float *, int64_t, uint32_t) = ops_hadamard_avx2;
#elif defined(__aarch64__)
	const enum ops_isa isa = OPS_ISA_NEON;
	float (*quantize)(const float *, int64_t, int8_t *) = ops_quantize_i8_row_neon;
	void (*hadamard)(float *, int64_t, uint32_t) = ops_hadamard_neon;
#else
	const enum ops_isa isa = OPS_ISA_REF;
	float (*quantize)(const float *, int64_t, int8_t *) = npu_quantize_row;
	void (*hadamard)(float *, int64_t, uint32_t) = npu_hadamard;
#endif
	if (!ops_isa_available(isa) || isa == OPS_ISA_REF) {
		printf("ok %d - vector quantiser and Hadamard # SKIP no AVX2 or NEON\n",
		       ++tap_ok_no);
		return;
	}
	int bad_q = 0, bad_h = 0;
	float *x = malloc(4096 * sizeof(float)), *y = malloc(4096 * sizeof(float));
	int8_t *qa = malloc(4096), *qb = malloc(4096);
	uint32_t st = 7;

	for (int K = 1; K <= 300; K += 13)
		for (int kind = 0; kind < 5; kind++) {
			for (int k = 0; k < K; k++) {
				st = st * 1664525u + 1013904223u;
				x[k] = ((float)(st >> 8) / (float)(1 << 24) - 0.5f) * 10.0f;
			}
			if (kind == 1)
				memset(x, 0, (size_t)K * sizeof(float));
			if (kind == 2)
				x[K / 2] = NAN;
			if (kind == 3)
				x[K - 1] = INFINITY;
			if (kind == 4)	/* max 127 (scale 1), the rest at .5: ties to even */
				for (int k = 0; k < K; k++)
					x[k] = k ? (float)(k % 254 - 127) + 0.5f : 127.0f;
			float sa = npu_quantize_row(x, K, qa), sb = quantize(x, K, qb);

			bad_q += memcmp(&sa, &sb, sizeof(sa)) || memcmp(qa, qb, (size_t)K);
		}
	for (uint32_t hb = 8; hb <= 4096; hb *= 2) {
		int64_t n = hb * (hb <= 512 ? 3 : 1);

		for (int64_t k = 0; k < n; k++) {
			st = st * 1664525u + 1013904223u;
			x[k % 4096] = (float)(st >> 8) / (float)(1 << 24) - 0.5f;
		}
		n = n > 4096 ? 4096 : n;
		memcpy(y, x, (size_t)n * sizeof(float));
		npu_hadamard(x, n, hb);
		hadamard(y, n, hb);
		bad_h += memcmp(x, y, (size_t)n * sizeof(float)) != 0;
	}
	ok(!bad_q && !bad_h, "%s quantiser and Hadamard equal the reference bit for bit "
	   "(%d quantiser rows, %d Hadamard sizes differ)", ops_isa_name(isa), bad_q, bad_h);
	free(x);
	free(y);
	free(qa);
	free(qb);
}

/* Q, K, V of different types stacked in one weight: one descriptor, three outputs. */
static void test_fused(void)
{
	const int64_t M = 3, K = 320, rows[3] = { 192, 64, 40 };
	const uint32_t types[3] = { GGML_TYPE_Q8_0, GGML_TYPE_F16, GGML_TYPE_Q4_0 };
	char err[512];
	struct npu_backend *be = npu_backend_open(NULL, err, sizeof(err));
	float *wf[3], *y[3], *bias[3], *x = make_x(M, K, 0);
	void *wd[3];
	struct npu_wsrc src[3];
	struct npu_weight *w = NULL, *single[3] = { 0 };
	struct npu_mm mm = { .x = x };
	int good = 1;

	for (int i = 0; i < 3; i++) {
		wf[i] = malloc((size_t)(rows[i] * K) * sizeof(float));
		wd[i] = make_weights(types[i], rows[i], K, wf[i]);
		y[i] = calloc((size_t)(M * rows[i]), sizeof(float));
		bias[i] = malloc((size_t)rows[i] * sizeof(float));
		for (int64_t n = 0; n < rows[i]; n++)
			bias[i][n] = frand();
		src[i] = (struct npu_wsrc){ .data = wd[i], .type = types[i], .rows = rows[i] };
		mm.ys[i] = y[i];
		mm.biases[i] = bias[i];
	}
	if (be)
		w = npu_weight_load_fused(be, src, 3, K, NULL, NULL, err, sizeof(err));
	if (!w) {
		ok(0, "fused: %s", err);
		goto out;
	}
	mm.w = w;
	npu_backend_reset_stats(be);
	if (npu_matmul_batch(be, &mm, 1, M, err, sizeof(err))) {
		ok(0, "fused: %s", err);
		goto out;
	}
	good = npu_backend_stats(be)->descs == 1;
	for (int i = 0; i < 3; i++) {
		single[i] = npu_weight_load(be, wd[i], types[i], rows[i], K, NULL, NULL, err,
					    sizeof(err));
		good &= single[i] && check_mm(be, single[i], wf[i], x, bias[i], M, y[i],
					      NULL).max_excess <= 1.0;
	}
	ok(good, "fused Q8_0/F16/Q4_0 weight (192+64+40 rows): one descriptor, three outputs "
	   "with biases within the bound");
out:
	for (int i = 0; i < 3; i++) {
		npu_weight_free(be, single[i]);
		free(wf[i]);
		free(wd[i]);
		free(y[i]);
		free(bias[i]);
	}
	npu_weight_free(be, w);
	npu_backend_close(be);
	free(x);
}

/* hi/lo activation rows: the activation rounding error (nearly) disappears. */
static void test_hilo(void)
{
	const int64_t M = 5, K = 512, N = 160;
	float *wf = malloc((size_t)(N * K) * sizeof(float)), *x = make_x(M, K, 30.0f);
	void *wd = make_weights(GGML_TYPE_Q8_0, N, K, wf);
	double rms[2] = { 0, 0 }, exc[2] = { 0, 0 };
	uint32_t descs_m = 0;
	int good = 1;

	for (int h = 0; h < 2; h++) {
		struct npu_backend_opts o = { .act_hilo = h == 1 };
		char err[512];
		struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
		struct npu_weight *w = be ? npu_weight_load(be, wd, GGML_TYPE_Q8_0, N, K, NULL, NULL,
							    err, sizeof(err)) : NULL;
		float *y = calloc((size_t)(M * N), sizeof(float)), *bias = calloc((size_t)N, sizeof(float));
		struct npu_mm mm = { .w = w, .x = x, .y = y, .bias = bias };

		for (int64_t n = 0; n < N; n++)
			bias[n] = 0.5f;
		if (!w || npu_matmul_batch(be, &mm, 1, M, err, sizeof(err))) {
			good = 0;
		} else {
			struct check ck = check_mm(be, w, wf, x, bias, M, y, NULL);

			rms[h] = ck.rel_rms;
			exc[h] = ck.max_excess;
			descs_m = (uint32_t)npu_backend_stats(be)->macs / (uint32_t)(N / 32 * 32 + 0) /
				  (uint32_t)K;
		}
		npu_weight_free(be, w);
		npu_backend_close(be);
		free(y);
		free(bias);
	}
	ok(good && exc[1] <= 1.0 && rms[1] < rms[0] * 0.5 && descs_m == 12,
	   "hi/lo activation rows (M=5 sent as 10, padded 12): rel rms error %.2e -> %.2e, within "
	   "the bound", rms[0], rms[1]);
	free(wf);
	free(wd);
	free(x);
}

/* A prepared weight written to a cache file and read back gives the same results. */
static void test_cache(void)
{
	const int64_t M = 4, K = 768, N = 96;
	struct npu_backend_opts o = { .k_chunk = 384, .hadamard = 128 };
	char err[512];
	struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
	float *wf = malloc((size_t)(N * K) * sizeof(float)), *x = make_x(M, K, 0);
	void *wd = make_weights(GGML_TYPE_Q4_K, N, K, wf);
	float *y1 = calloc((size_t)(M * N), sizeof(float)), *y2 = calloc((size_t)(M * N), sizeof(float));
	struct npu_weight *w = be ? npu_weight_load(be, wd, GGML_TYPE_Q4_K, N, K, NULL, NULL, err,
						    sizeof(err)) : NULL, *r = NULL;
	FILE *f = tmpfile();
	uint64_t hw = 0, hr = 0;
	int good = 0;

	if (w && f && !npu_weight_write(w, f, &hw)) {
		rewind(f);
		r = npu_weight_read(be, f, &hr, err, sizeof(err));
	}
	if (r) {
		struct npu_mm a = { .w = w, .x = x, .y = y1 }, b = { .w = r, .x = x, .y = y2 };

		good = !npu_matmul_batch(be, &a, 1, M, err, sizeof(err)) &&
		       !npu_matmul_batch(be, &b, 1, M, err, sizeof(err)) &&
		       !memcmp(y1, y2, (size_t)(M * N) * sizeof(float)) && hw == hr;
	}
	ok(good, "packed-weight cache: write + read back (2 K chunks, Hadamard) gives identical "
	   "results and checksum (%s)", r ? "read" : err);
	if (f)
		fclose(f);
	npu_weight_free(be, w);
	npu_weight_free(be, r);
	npu_backend_close(be);
	free(wf);
	free(wd);
	free(x);
	free(y1);
	free(y2);
}

static uint32_t last_m;
static void hook(void *arg, const struct drm_rocket_matmul *mm, unsigned count)
{
	(void)arg;
	(void)count;
	last_m = mm[0].m;
}

/* M = 1 padded to 4 so that the kernel splits the matmul over its cores. */
static void test_pad_split(void)
{
	struct npu_backend_opts o = { .pad_for_split = true, .on_submit = hook };
	const int64_t K = 2048, N = 4096;	/* 2^23 MACs: 4 rows reach 2^24 */
	char err[512];
	struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
	float *wf = malloc((size_t)(N * K) * sizeof(float)), *x = make_x(1, K, 0);
	void *wd = make_weights(GGML_TYPE_Q8_0, N, K, wf);
	float *y = calloc((size_t)N, sizeof(float));
	int32_t *acc = calloc((size_t)N, sizeof(int32_t));
	struct npu_weight *w = be ? npu_weight_load(be, wd, GGML_TYPE_Q8_0, N, K, NULL, NULL, err,
						    sizeof(err)) : NULL;
	struct npu_mm mm = { .w = w, .x = x, .y = y, .acc = acc };

	if (!w || npu_matmul_batch(be, &mm, 1, 1, err, sizeof(err))) {
		ok(0, "pad for split: %s", err);
	} else {
		struct check ck = check_mm(be, w, wf, x, NULL, 1, y, acc);

		ok(last_m == 4 && ck.int_mismatch == 0 && ck.max_excess <= 1.0,
		   "decode row padded to M=4 (submitted m=%u) for the kernel's core split, exact", last_m);
	}
	npu_weight_free(be, w);
	npu_backend_close(be);
	free(wf);
	free(wd);
	free(x);
	free(y);
	free(acc);
}

static void test_dry(void)
{
	struct npu_backend_opts o = { .dry = true };
	char err[512];
	struct npu_backend *be = npu_backend_open(&o, err, sizeof(err));
	struct npu_weight *w = be ? npu_weight_load(be, NULL, GGML_TYPE_Q4_K, 8960, 1536, NULL,
						    NULL, err, sizeof(err)) : NULL;
	struct npu_weight *d = be ? npu_weight_load(be, NULL, GGML_TYPE_Q4_K, 1536, 8960, NULL,
						    NULL, err, sizeof(err)) : NULL;
	float *x = calloc(128 * 8960, sizeof(float)), *y = calloc(128 * 8960, sizeof(float));

	if (!w || !d) {
		ok(0, "dry: %s", err);
	} else {
		struct npu_mm mm = { .w = w, .x = x, .y = y };
		struct npu_mm md = { .w = d, .x = x, .y = y };
		const struct npu_stats *st = npu_backend_stats(be);
		int rc = npu_matmul_batch(be, &mm, 1, 1, err, sizeof(err));

		rc |= npu_matmul_batch(be, &md, 1, 128, err, sizeof(err));
		ok(!rc && st->ioctls == 2 && st->descs == 3 &&
		   st->macs == 8960ull * 1536 + 128ull * 8960 * 1536 &&
		   st->weight_bytes >= 2ull * 8960 * 1536,
		   "dry backend (no device): Qwen2.5-1.5B gate at M=1, down at M=128 (row groups "
		   "108 + 20) counted (%llu MACs, %llu weight bytes)", (unsigned long long)st->macs,
		   (unsigned long long)st->weight_bytes);
	}
	npu_weight_free(be, w);
	npu_weight_free(be, d);
	npu_backend_close(be);
	free(x);
	free(y);
}


/*
 * Row split (npu_weight_set_cpu_share): decode calls run the tail rows on
 * the CPU from the GGUF weights; the NPU's rows are bit-identical to an
 * unsplit weight's, the CPU's are close to the double reference, and
 * prefill-sized calls ignore the split.
 */
static void test_cpu_share(void)
{
	const int64_t K = 512, rows[2] = { 256, 136 }, R = 392;
	const uint32_t types[2] = { GGML_TYPE_Q4_K, GGML_TYPE_Q8_0 };
	char err[512];
	struct npu_backend *be = npu_backend_open(NULL, err, sizeof(err));
	float *wf = malloc((size_t)(R * K) * sizeof(float)), *x = make_x(16, K, 0);
	float *y[2][2], *ys_ref[2];
	void *wd[2];
	struct npu_wsrc src[2];
	struct npu_weight *w = NULL, *ref = NULL;
	int good = 1, rc;

	for (int i = 0; i < 2; i++) {
		wd[i] = make_weights(types[i], rows[i], K, wf + (i ? rows[0] * K : 0));
		src[i] = (struct npu_wsrc){ .data = wd[i], .type = types[i], .rows = rows[i] };
		for (int j = 0; j < 2; j++)
			y[i][j] = calloc((size_t)(16 * rows[i]), sizeof(float));
		ys_ref[i] = calloc((size_t)(16 * rows[i]), sizeof(float));
	}
	if (be) {
		w = npu_weight_load_fused(be, src, 2, K, NULL, NULL, err, sizeof(err));
		ref = npu_weight_load_fused(be, src, 2, K, NULL, NULL, err, sizeof(err));
	}
	if (!w || !ref) {
		ok(0, "cpu share: %s", err);
		goto out;
	}
	rc = npu_weight_set_cpu_share(be, w, src, 2, 1.0, err, sizeof(err));
	ok(rc == -1 && strstr(err, "not in [0, 1)"), "cpu share 1.0 refused: %s", err);
	src[1].rows = 100;
	rc = npu_weight_set_cpu_share(be, w, src, 2, 0.4, err, sizeof(err));
	ok(rc == -1 && strstr(err, "does not match"), "cpu share with a wrong source refused: %s",
	   err);
	src[1].rows = rows[1];
	rc = npu_weight_set_cpu_share(be, w, src, 2, 0.4, err, sizeof(err));
	/* 0.6 * 392 = 235.2 -> 224 NPU rows (7 blocks of 32); CPU: 32 Q4_K + 136 Q8_0 rows */
	ok(rc == 0 && npu_weight_npu_rows(w) == 224, "cpu share 0.4 of 256+136 rows: %lld on the NPU",
	   (long long)npu_weight_npu_rows(w));
	for (int pass = 0; pass < 2; pass++) {
		int64_t M = pass ? 16 : 1;
		struct npu_mm a = { .w = w, .x = x, .ys = { y[0][pass], y[1][pass] } };
		struct npu_mm b = { .w = ref, .x = x, .ys = { ys_ref[0], ys_ref[1] } };
		uint64_t cpu0 = npu_backend_stats(be)->cpu_bytes, cpu1;
		double se = 0, sr = 0;
		int same_npu = 1, same_all = 1;

		if (npu_matmul_batch(be, &a, 1, M, err, sizeof(err)) ||
		    npu_matmul_batch(be, &b, 1, M, err, sizeof(err))) {
			ok(0, "cpu share: %s", err);
			goto out;
		}
		cpu1 = npu_backend_stats(be)->cpu_bytes;
		for (int64_t m = 0; m < M; m++)
			for (int64_t n = 0; n < R; n++) {
				int s = n >= rows[0];
				int64_t j = n - (s ? rows[0] : 0);
				float v = y[s][pass][m * rows[s] + j], r = ys_ref[s][m * rows[s] + j];
				double d = 0;

				for (int64_t k = 0; k < K; k++)
					d += (double)wf[n * K + k] * x[m * K + k];
				same_all &= v == r;
				if (n < 224)
					same_npu &= v == r;
				else {
					se += (v - d) * (v - d);
					sr += d * d;
				}
			}
		if (!pass) {
			double rel = sqrt(se / sr);

			good = same_npu && cpu1 > cpu0 && rel < 1e-2;
			ok(good, "decode call (M=1): NPU rows identical to the unsplit weight, CPU rows "
			   "rel rms error %.2e vs double, %llu source bytes read by the CPU", rel,
			   (unsigned long long)(cpu1 - cpu0));
		} else {
			ok(same_all && cpu1 == cpu0, "prefill call (M=16): split ignored, all rows on "
			   "the NPU, identical to the unsplit weight");
		}
	}
out:
	for (int i = 0; i < 2; i++) {
		free(wd[i]);
		free(y[i][0]);
		free(y[i][1]);
		free(ys_ref[i]);
	}
	npu_weight_free(be, w);
	npu_weight_free(be, ref);
	npu_backend_close(be);
	free(wf);
	free(x);
}

/* submit/wait: calls queue while the CPU works; results equal the one-step call. */
static void test_async(void)
{
	const int64_t K = 384, N = 96, Ms[3] = { 1, 5, 17 };
	char err[512];
	struct npu_backend *be = npu_backend_open(NULL, err, sizeof(err));
	float *wf = malloc((size_t)(N * K) * sizeof(float));
	void *wd = make_weights(GGML_TYPE_Q8_0, N, K, wf);
	struct npu_weight *w = NULL;
	float *x[3], *ya[3], *yb[3];
	int t[5], good = 1, rc;

	for (int i = 0; i < 3; i++) {
		x[i] = make_x(Ms[i], K, 0);
		ya[i] = calloc((size_t)(Ms[i] * N), sizeof(float));
		yb[i] = calloc((size_t)(Ms[i] * N), sizeof(float));
	}
	if (be)
		w = npu_weight_load(be, wd, GGML_TYPE_Q8_0, N, K, NULL, NULL, err, sizeof(err));
	if (!w) {
		ok(0, "async: %s", err);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		struct npu_mm mm = { .w = w, .x = x[i], .y = yb[i] };

		good &= npu_matmul_batch(be, &mm, 1, Ms[i], err, sizeof(err)) == 0;
	}
	for (int i = 0; i < 3; i++) {
		struct npu_mm mm = { .w = w, .x = x[i], .y = ya[i] };

		t[i] = npu_matmul_submit(be, &mm, 1, Ms[i], err, sizeof(err));
		good &= t[i] >= 0;
		memset(x[i], 0, (size_t)(Ms[i] * K) * sizeof(float));	/* inputs are copied */
	}
	good &= npu_matmul_in_flight(be) == 3;
	rc = npu_matmul_wait(be, t[1], err, sizeof(err));
	ok(good && rc == -1 && strstr(err, "the next one is"), "three calls in flight; waiting out "
	   "of order refused: %s", err);
	for (int i = 0; i < 3; i++)
		good &= npu_matmul_wait(be, t[i], err, sizeof(err)) == 0;
	for (int i = 0; i < 3 && good; i++)
		good &= !memcmp(ya[i], yb[i], (size_t)(Ms[i] * N) * sizeof(float));
	ok(good && npu_matmul_in_flight(be) == 0, "submit x3 (M = 1, 5, 17), inputs overwritten, "
	   "wait x3: identical to npu_matmul_batch");
	{
		struct npu_mm mm = { .w = w, .x = x[0], .y = ya[0] };
		int n = 0, refused;

		for (int i = 0; i < 5; i++)
			if ((t[i] = npu_matmul_submit(be, &mm, 1, 1, err, sizeof(err))) >= 0)
				n++;
		refused = t[4] < 0 && strstr(err, "in flight") != NULL;
		for (int i = 0; i < n; i++)
			npu_matmul_wait(be, t[i], err, sizeof(err));
		ok(n == 4 && refused, "a 5th call in flight refused (%d queued)", n);
	}
out:
	for (int i = 0; i < 3; i++) {
		free(x[i]);
		free(ya[i]);
		free(yb[i]);
	}
	npu_weight_free(be, w);
	npu_backend_close(be);
	free(wf);
	free(wd);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char err[512];
	struct npu_backend *be;

	if (!strcmp(mode, "--dry")) {
		test_isa_kernels();
		test_dry();
		return tap_ok_done();
	}
	be = npu_backend_open(NULL, err, sizeof(err));
	if (!strcmp(mode, "--expect-no-matmul")) {
		ok(!be && strstr(err, "lacks DRM_IOCTL_ROCKET_SUBMIT_MATMUL"),
		   "upstream driver refused with a clear message: %s", be ? "(opened!)" : err);
		npu_backend_close(be);
		return tap_ok_done();
	}
	if (!be) {
		if (strstr(err, "no rocket NPU device")) {
			printf("ok 1 - NPU backend # SKIP %s\n1..1\n", err);
			return 0;
		}
		ok(0, "open: %s", err);
		return tap_ok_done();
	}
	ok(strstr(npu_backend_describe(be), "rocket 1.") != NULL, "opened %s",
	   npu_backend_describe(be));
	npu_backend_close(be);

	static const struct shape shapes[] = {
		{ 1, 64, 32, GGML_TYPE_F32, 0, 0, 0, 0, 0 },
		{ 1, 576, 576, GGML_TYPE_Q8_0, 0, 0, 0, 1, 0 },
		{ 4, 100, 33, GGML_TYPE_F32, 0, 0, 0, 1, 0 },
		{ 3, 256, 100, GGML_TYPE_F16, 0, 0, 0, 0, 0 },
		{ 2, 256, 64, GGML_TYPE_BF16, 0, 0, 0, 0, 0 },
		{ 17, 1536, 96, GGML_TYPE_Q4_K, 0, 0, 0, 1, 0 },
		{ 40, 8960, 40, GGML_TYPE_Q4_0, 0, 0, 0, 0, 0 },	/* A/C in row blocks of 36 */
		{ 6, 1000, 64, GGML_TYPE_F32, 256, 0, 0, 1, 0 },	/* 4 K chunks summed on the CPU */
		{ 2, 20000, 32, GGML_TYPE_F32, 0, 0, 0, 0, 0 },	/* K > 16384: 2 chunks */
		{ 1, 512, 4096, GGML_TYPE_Q4_1, 0, 3, 0, 0, 0 },	/* N split over 3 descriptors */
		{ 5, 640, 300, GGML_TYPE_Q5_0, 320, 3, 0, 1, 0 },	/* split and chunks */
		{ 8, 768, 96, GGML_TYPE_Q5_1, 0, 0, 256, 1, 0 },	/* Hadamard (block 256) */
		{ 64, 576, 192, GGML_TYPE_Q8_0, 0, 0, 64, 0, 2 },	/* prefill-like, Hadamard 64 */
		/* 4 row tiles of 36, over 2^24 MACs: row groups 108 + 20, threads */
		{ 128, 8960, 64, GGML_TYPE_Q8_0, 0, 0, 0, 1, 2 },
		{ 130, 1536, 2048, GGML_TYPE_Q4_K, 0, 0, 0, 0, 2 },	/* kernel N split, M pad */
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		run_shape(&shapes[i]);
	test_batch();
	test_many();
	test_hadamard();
	test_fused();
	test_cache();
	test_hilo();
	test_pad_split();
	test_cpu_share();
	test_async();
	test_dry();
	return tap_ok_done();
}
