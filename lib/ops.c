// SPDX-License-Identifier: MIT
/*
 * Reference CPU kernels and the matmul driver (see ops.h). The small ops
 * follow ggml's f32 CPU code where the order of operations changes the
 * result (RMS and softmax sums in double, RoPE angles by repeated
 * multiplication), so they agree with llama.cpp to the last bits or close.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fp16.h"
#include "ggml_types.h"
#include "ops.h"
#include "quant.h"

bool ops_isa_available(enum ops_isa isa)
{
	switch (isa) {
	case OPS_ISA_REF:
		return true;
	case OPS_ISA_AVX2:
#if defined(__x86_64__)
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		       __builtin_cpu_supports("f16c");
#else
		return false;
#endif
	case OPS_ISA_NEON:
#if defined(__aarch64__)
		return true;
#else
		return false;
#endif
	default:
		return false;
	}
}

enum ops_isa ops_isa_best(void)
{
	if (ops_isa_available(OPS_ISA_AVX2))
		return OPS_ISA_AVX2;
	if (ops_isa_available(OPS_ISA_NEON))
		return OPS_ISA_NEON;
	return OPS_ISA_REF;
}

const char *ops_isa_name(enum ops_isa isa)
{
	static const char *const names[] = { "ref", "avx2", "neon" };

	return isa < OPS_ISA_COUNT ? names[isa] : "?";
}

bool ops_type_supported(uint32_t type)
{
	/* Q8_K is an activation format, never a weight in a GGUF file */
	return type != GGML_TYPE_Q8_K && dequantize_supported(type);
}

bool qmat_init(struct qmat *qm, const void *data, uint32_t type, int64_t rows, int64_t cols)
{
	uint64_t rb;

	if (rows <= 0 || cols <= 0 || !ggml_row_size(type, (uint64_t)cols, &rb))
		return false;
	qm->data = data;
	qm->type = type;
	qm->rows = rows;
	qm->cols = cols;
	qm->row_bytes = (size_t)rb;
	qm->rep = NULL;
	return true;
}

void ops_repack_q4_Kx8(const void *rows, int64_t n_rows, int64_t cols, struct block_q4_Kx8 *out)
{
	int64_t nb = cols / QK_K;
	size_t rb = (size_t)nb * sizeof(struct block_q4_K);

	for (int64_t g = 0; g < n_rows / 8; g++)
		for (int64_t i = 0; i < nb; i++) {
			struct block_q4_Kx8 *o = &out[g * nb + i];

			for (int r = 0; r < 8; r++) {
				const struct block_q4_K *b =
					(const struct block_q4_K *)((const uint8_t *)rows + (size_t)(8 * g + r) * rb) + i;
				const uint8_t *q = b->scales;

				o->d[r] = b->d;
				o->dmin[r] = b->dmin;
				for (int j = 0; j < 8; j++) {	/* get_scale_min_k4 */
					uint8_t sc, mn;

					if (j < 4) {
						sc = q[j] & 63;
						mn = q[j + 4] & 63;
					} else {
						sc = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
						mn = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
					}
					o->sc[j][r] = sc;
					o->mn[j / 2][r][j & 1] = mn;
				}
				for (int j = 0; j < 4; j++)
					for (int c = 0; c < 8; c++)
						memcpy(o->qs[j][c][r], b->qs + 32 * j + 4 * c, 4);
			}
		}
}

void ops_repack_q6_Kx8(const void *rows, int64_t n_rows, int64_t cols, struct block_q6_Kx8 *out)
{
	int64_t nb = cols / QK_K;
	size_t rb = (size_t)nb * sizeof(struct block_q6_K);

	for (int64_t g = 0; g < n_rows / 8; g++)
		for (int64_t i = 0; i < nb; i++) {
			struct block_q6_Kx8 *o = &out[g * nb + i];

			for (int r = 0; r < 8; r++) {
				const struct block_q6_K *b =
					(const struct block_q6_K *)((const uint8_t *)rows + (size_t)(8 * g + r) * rb) + i;

				o->d[r] = b->d;
				for (int s = 0; s < 16; s++)
					o->sc[s][r] = b->scales[s];
				for (int n = 0; n < 2; n++)
					for (int j = 0; j < 8; j++) {
						memcpy(o->q[n][j][0][r], b->ql + 64 * n + 4 * j, 4);
						memcpy(o->q[n][j][1][r], b->ql + 64 * n + 32 + 4 * j, 4);
						memcpy(o->q[n][j][2][r], b->qh + 32 * n + 4 * j, 4);
					}
			}
		}
}

#define HUGE_PAGE ((size_t)2 << 20)

static int getenv_flag(const char *name)
{
	const char *e = getenv(name);

	return e && *e && *e != '0';
}

bool qmat_repack(struct qmat *qm)
{
	size_t bs = qm->type == GGML_TYPE_Q4_K ? sizeof(struct block_q4_Kx8) :
		    qm->type == GGML_TYPE_Q6_K ? sizeof(struct block_q6_Kx8) : 0;

	if (qm->rep || !bs || qm->rows % 8 || qm->cols % QK_K || !ops_isa_available(OPS_ISA_AVX2))
		return false;
	size_t n = (size_t)(qm->rows / 8) * (size_t)(qm->cols / QK_K) * bs;
	size_t align = n >= HUGE_PAGE ? HUGE_PAGE : 64;
	void *p;

	if (posix_memalign(&p, align, n))
		return false;
	/*
	 * Transparent huge pages for the copy (where the kernel offers them
	 * on request: "madvise" mode): decode streams every weight once per
	 * token, ~1 GB for a 1.5B model, and with 4 KB pages that is ~250k
	 * TLB misses per token. Whole huge pages only: a partly used one at
	 * the end would be resident in full. ROSENBLATT_NO_HUGEPAGE=1: none.
	 */
	if (align == HUGE_PAGE && !getenv_flag("ROSENBLATT_NO_HUGEPAGE"))
		madvise(p, n / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
	if (qm->type == GGML_TYPE_Q4_K)
		ops_repack_q4_Kx8(qm->data, qm->rows, qm->cols, p);
	else
		ops_repack_q6_Kx8(qm->data, qm->rows, qm->cols, p);
	qm->rep = p;
	return true;
}

void qmat_free_repack(struct qmat *qm)
{
	free(qm->rep);
	qm->rep = NULL;
}

int qmat_get_row(const struct qmat *w, int64_t r, float *out)
{
	if (r < 0 || r >= w->rows)
		return -1;
	return dequantize_row(w->type, (const uint8_t *)w->data + (size_t)r * w->row_bytes,
			      out, w->cols);
}

void ops_rowdot_ref(const void *row, uint32_t type, int64_t cols, const float *x,
		    int64_t M, float *y, int64_t y_stride, float *scratch)
{
	dequantize_row(type, row, scratch, cols);
	for (int64_t m = 0; m < M; m++) {
		const float *xm = x + m * cols;
		float sum = 0.0f;

		for (int64_t c = 0; c < cols; c++)
			sum += scratch[c] * xm[c];
		y[m * y_stride] = sum;
	}
}

struct matmul_job {
	const struct qmat *w;
	const float *x;
	int64_t M;
	float *y;
	ops_rowdot_fn rowdot;
	struct threadpool *tp;
	int failed;
};

static void matmul_worker(void *arg, int ith, int nth)
{
	struct matmul_job *j = arg;
	const struct qmat *w = j->w;
	int64_t r0 = w->rows * ith / nth, r1 = w->rows * (ith + 1) / nth;
	float *scratch = threadpool_scratch(j->tp, ith, (size_t)w->cols);

	if (!scratch) {
		j->failed = 1;	/* benign race: every writer stores 1 */
		return;
	}
	for (int64_t r = r0; r < r1; r++)
		j->rowdot((const uint8_t *)w->data + (size_t)r * w->row_bytes, w->type,
			  w->cols, j->x, j->M, j->y + r, w->rows, scratch);
}

int ops_matmul(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
	       const float *x, int64_t M, float *y)
{
	struct matmul_job j = { .w = w, .x = x, .M = M, .y = y, .tp = tp };

	if (!tp || !ops_type_supported(w->type))
		return -1;
	switch (isa) {
#if defined(__x86_64__)
	case OPS_ISA_AVX2: j.rowdot = ops_rowdot_avx2; break;
#endif
#if defined(__aarch64__)
	case OPS_ISA_NEON: j.rowdot = ops_rowdot_neon; break;
#endif
	default: j.rowdot = ops_rowdot_ref; break;
	}
	threadpool_run(tp, matmul_worker, &j);
	return j.failed ? -1 : 0;
}

/* ---- 8-bit activations (see ops.h) ---------------------------------------- */

uint32_t ops_act8_format(uint32_t weight_type)
{
	switch (weight_type) {
	case GGML_TYPE_Q4_K: case GGML_TYPE_Q6_K:
		return GGML_TYPE_Q8_K;
	case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
		return GGML_TYPE_Q8_1;
	default:
		return GGML_TYPE_F32;
	}
}

bool ops_act8_type(uint32_t weight_type)
{
	return ops_act8_format(weight_type) != GGML_TYPE_F32;
}

static int64_t act8_block(uint32_t fmt)
{
	return fmt == GGML_TYPE_Q8_K ? QK_K : QK8_0;
}

bool ops_act8_ok(const struct qmat *w)
{
	uint32_t fmt = ops_act8_format(w->type);

	return fmt != GGML_TYPE_F32 && w->cols % act8_block(fmt) == 0;
}

size_t ops_act8_bytes(uint32_t fmt, int64_t M, int64_t cols)
{
	size_t bs = fmt == GGML_TYPE_Q8_K ? sizeof(struct block_q8_K) : sizeof(struct ops_block_q8_1);

	return (size_t)M * (size_t)(cols / act8_block(fmt)) * bs;
}

/*
 * ggml's quantize_row_q8_1_ref: quantize_row_q8_0_ref's d = amax / 127,
 * x * (1 / d) rounded half away from zero (roundf), plus s.
 */
void ops_quantize_row_q8_1_ref(const float *x, struct ops_block_q8_1 *y, int64_t n)
{
	for (int64_t i = 0; i < n / QK8_0; i++) {
		const float *v = x + i * QK8_0;
		float amax = 0.0f;
		int sum = 0;

		for (int j = 0; j < QK8_0; j++) {
			float a = fabsf(v[j]);

			amax = amax > a ? amax : a;
		}
		const float d = amax / 127;
		const float id = d ? 1.0f / d : 0.0f;

		for (int j = 0; j < QK8_0; j++) {
			y[i].qs[j] = (int8_t)roundf(v[j] * id);
			sum += y[i].qs[j];
		}
		y[i].d = fp16_to_fp32(fp32_to_fp16(d));
		y[i].s = fp16_to_fp32(fp32_to_fp16((float)sum * d));
	}
}

struct act8_job {
	const float *x;
	int64_t M, cols;
	size_t row_bytes;	/* of one quantised row */
	uint8_t *q;
	void (*quantize)(const float *x, void *y, int64_t n);
};

static void act8_worker(void *arg, int ith, int nth)
{
	struct act8_job *j = arg;

	for (int64_t m = ith; m < j->M; m += nth)
		j->quantize(j->x + m * j->cols, j->q + (size_t)m * j->row_bytes, j->cols);
}

typedef void (*quant_fn)(const float *x, void *y, int64_t n);

void ops_quantize_act8(struct threadpool *tp, enum ops_isa isa, uint32_t fmt, const float *x,
		       int64_t M, int64_t cols, void *q)
{
	bool k = fmt == GGML_TYPE_Q8_K;
	struct act8_job j = { .x = x, .M = M, .cols = cols, .q = q,
			      .row_bytes = ops_act8_bytes(fmt, 1, cols),
			      .quantize = k ? (quant_fn)quantize_row_q8_K_ref :
					  (quant_fn)ops_quantize_row_q8_1_ref };

#if defined(__x86_64__)
	if (isa == OPS_ISA_AVX2)
		j.quantize = k ? (quant_fn)ops_quantize_row_q8_K_avx2 :
				 (quant_fn)ops_quantize_row_q8_1_avx2;
#endif
#if defined(__aarch64__)
	if (isa == OPS_ISA_NEON)
		j.quantize = k ? (quant_fn)ops_quantize_row_q8_K_neon :
				 (quant_fn)ops_quantize_row_q8_1_neon;
#endif
	(void)isa;

	if (M > 1)
		threadpool_run(tp, act8_worker, &j);
	else
		act8_worker(&j, 0, 1);
}

/*
 * Reference integer dot of a row of 32-element blocks against Q8_1 rows,
 * as ggml's generic ggml_vec_dot_q4_0_q8_0 .. _q5_1_q8_1 and _q8_0_q8_0:
 * per block the exact integer sum of q_w * q_x, scaled by d_w * d_x, plus
 * m_w * s_x for the types with a min. The weights as integers: Q4_0
 * nibble - 8, Q5_0 (nibble | high bit << 4) - 16, Q8_0 qs, Q4_1 nibble,
 * Q5_1 nibble | high bit << 4.
 */
static float dot_q32_q8_1_ref(uint32_t type, const uint8_t *row, const struct ops_block_q8_1 *y,
			      int64_t nb)
{
	float sum = 0.0f;

	for (int64_t b = 0; b < nb; b++) {
		int q[QK8_0];
		uint16_t dh, mh = 0;
		const uint8_t *qs = NULL;
		uint32_t qh = 0;
		int32_t isum = 0;

		switch (type) {
		case GGML_TYPE_Q4_0: {
			const struct block_q4_0 *x = (const struct block_q4_0 *)row + b;

			dh = x->d;
			qs = x->qs;
			break;
		}
		case GGML_TYPE_Q4_1: {
			const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;

			dh = x->d;
			mh = x->m;
			qs = x->qs;
			break;
		}
		case GGML_TYPE_Q5_0: {
			const struct block_q5_0 *x = (const struct block_q5_0 *)row + b;

			dh = x->d;
			qs = x->qs;
			memcpy(&qh, x->qh, 4);
			break;
		}
		case GGML_TYPE_Q5_1: {
			const struct block_q5_1 *x = (const struct block_q5_1 *)row + b;

			dh = x->d;
			mh = x->m;
			qs = x->qs;
			memcpy(&qh, x->qh, 4);
			break;
		}
		default: {	/* Q8_0 */
			const struct block_q8_0 *x = (const struct block_q8_0 *)row + b;

			dh = x->d;
			for (int k = 0; k < QK8_0; k++)
				q[k] = x->qs[k];
			break;
		}
		}
		if (qs) {
			int off = type == GGML_TYPE_Q4_0 ? 8 : type == GGML_TYPE_Q5_0 ? 16 : 0;

			for (int k = 0; k < QK8_0 / 2; k++) {
				q[k] = (qs[k] & 0x0f) + (int)(((qh >> k) & 1) << 4) - off;
				q[k + 16] = (qs[k] >> 4) + (int)(((qh >> (k + 16)) & 1) << 4) - off;
			}
		}
		for (int k = 0; k < QK8_0; k++)
			isum += q[k] * y[b].qs[k];
		sum += fp16_to_fp32(dh) * y[b].d * (float)isum;
		if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1)
			sum += fp16_to_fp32(mh) * y[b].s;
	}
	return sum;
}

/*
 * Reference integer dots, as ggml's generic ggml_vec_dot_q4_K_q8_K and
 * _q6_K_q8_K: per super-block an exact integer sum, scaled in float.
 */
static float dot_q4_K_q8_K_ref(const struct block_q4_K *x, const struct block_q8_K *y, int64_t nb)
{
	float sum = 0.0f;

	for (int64_t i = 0; i < nb; i++) {
		int32_t isum = 0, imin = 0;

		for (int g = 0; g < 8; g++) {
			uint8_t sc, mn;
			const uint8_t *qs = x[i].qs + 32 * (g / 2);
			const int8_t *q8 = y[i].qs + 32 * g;
			int32_t s = 0;

			get_scale_min_k4(g, x[i].scales, &sc, &mn);
			for (int l = 0; l < 32; l++)
				s += (g & 1 ? qs[l] >> 4 : qs[l] & 0x0f) * q8[l];
			isum += sc * s;
			imin += mn * (y[i].bsums[2 * g] + y[i].bsums[2 * g + 1]);
		}
		sum += y[i].d * (fp16_to_fp32(x[i].d) * (float)isum -
				 fp16_to_fp32(x[i].dmin) * (float)imin);
	}
	return sum;
}

static float dot_q6_K_q8_K_ref(const struct block_q6_K *x, const struct block_q8_K *y, int64_t nb)
{
	float sum = 0.0f;

	for (int64_t i = 0; i < nb; i++) {
		int32_t isum = 0;

		for (int g = 0; g < 8; g++) {	/* 128-element halves n, quarters k */
			int n = g / 4, k = g % 4;
			const uint8_t *ql = x[i].ql + 64 * n + 32 * (k & 1);
			const uint8_t *qh = x[i].qh + 32 * n;
			const int8_t *q8 = y[i].qs + 32 * g;

			for (int h = 0; h < 2; h++) {
				int32_t s = 0;

				for (int l = 16 * h; l < 16 * h + 16; l++) {
					int q = ((k >= 2 ? ql[l] >> 4 : ql[l]) & 0x0f) |
						(((qh[l] >> (2 * k)) & 3) << 4);

					s += (q - 32) * q8[l];
				}
				isum += x[i].scales[8 * n + 2 * k + h] * s;
			}
		}
		sum += y[i].d * fp16_to_fp32(x[i].d) * (float)isum;
	}
	return sum;
}

void ops_rowdot8_ref(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
		     const void *q8, int64_t M, float *y, int64_t y_stride)
{
	int64_t nb = cols / QK_K;
	const struct block_q8_K *a = q8;

	if (ops_act8_format(type) == GGML_TYPE_Q8_1) {
		for (int64_t r = 0; r < n; r++)
			for (int64_t m = 0; m < M; m++)
				y[m * y_stride + r] = dot_q32_q8_1_ref(type, (const uint8_t *)rows + (size_t)r * row_bytes,
								       (const struct ops_block_q8_1 *)q8 + m * (cols / QK8_0),
								       cols / QK8_0);
		return;
	}
	for (int64_t r = 0; r < n; r++) {
		const void *row = (const uint8_t *)rows + (size_t)r * row_bytes;

		for (int64_t m = 0; m < M; m++)
			y[m * y_stride + r] = type == GGML_TYPE_Q4_K ?
					      dot_q4_K_q8_K_ref(row, a + m * nb, nb) :
					      dot_q6_K_q8_K_ref(row, a + m * nb, nb);
	}
}

#define MATMUL8_MAX 4

struct matmul8_job {
	int n;
	const struct qmat *w[MATMUL8_MAX];
	float *y[MATMUL8_MAX];
	const void *q;
	int64_t M;
	ops_rowdot8_fn rowdot;
	bool x8;	/* AVX2: the interleaved Q4_K/Q6_K copies (qmat.rep) serve every M */
	int64_t chunk[MATMUL8_MAX];	/* rows per chunk (x8: a multiple of 8) */
	int64_t nchunk[MATMUL8_MAX];
	atomic_long next;		/* next chunk to take, over all matrices */
};

/*
 * Rows of matrix k in chunks of chunk[k]. Threads take chunks from a
 * shared counter rather than a fixed share each: on a shared machine one
 * thread is often held up (another process, a late wake-up), and the
 * others then do more of the rows instead of waiting at the end of the
 * job. A row's sum does not depend on the thread that computes it.
 */
static void matmul8_chunks(struct matmul8_job *j, int nth)
{
	for (int k = 0; k < j->n; k++) {
		const struct qmat *w = j->w[k];
		bool x8 = j->x8 && w->rep;
		int64_t unit = x8 ? 8 : 1, units = w->rows / unit;
		int64_t per = units / (4 * (int64_t)nth), most = x8 ? 16 : 128;

		per = per < 1 ? 1 : per > most ? most : per;
		j->chunk[k] = per * unit;
		j->nchunk[k] = (w->rows + j->chunk[k] - 1) / j->chunk[k];
	}
	atomic_init(&j->next, 0);
}

static void matmul8_worker(void *arg, int ith, int nth)
{
	struct matmul8_job *j = arg;

	(void)ith;
	(void)nth;
	for (;;) {
		long c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
		int k = 0;

		while (k < j->n && c >= j->nchunk[k])
			c -= j->nchunk[k++];
		if (k == j->n)
			return;
		const struct qmat *w = j->w[k];
		int64_t r0 = c * j->chunk[k], r1 = r0 + j->chunk[k] < w->rows ? r0 + j->chunk[k] : w->rows;

#if defined(__x86_64__)
		if (j->x8 && w->rep) {
			int64_t g0 = r0 / 8, n8 = (r1 - r0) / 8, nb = w->cols / QK_K;

			if (w->type == GGML_TYPE_Q4_K)
				ops_rowdot8_q4_Kx8_avx2((const struct block_q4_Kx8 *)w->rep + g0 * nb, n8, nb,
							j->q, j->M, j->y[k] + r0, w->rows);
			else
				ops_rowdot8_q6_Kx8_avx2((const struct block_q6_Kx8 *)w->rep + g0 * nb, n8, nb,
							j->q, j->M, j->y[k] + r0, w->rows);
			continue;
		}
#endif
		j->rowdot((const uint8_t *)w->data + (size_t)r0 * w->row_bytes, w->row_bytes,
			  r1 - r0, w->type, w->cols, j->q, j->M, j->y[k] + r0, w->rows);
	}
}

int ops_matmul_act8_n(struct threadpool *tp, enum ops_isa isa, int n, const struct qmat *const *w,
		      const float *x, const void *q, int64_t M, float *const *y)
{
	struct matmul8_job j = { .n = n, .q = q, .M = M, .rowdot = ops_rowdot8_ref };
	bool all8 = n <= MATMUL8_MAX;
	uint32_t fmt = GGML_TYPE_F32;

	for (int k = 0; k < n; k++) {
		if (!ops_act8_ok(w[k]))
			continue;
		if (fmt != GGML_TYPE_F32 && ops_act8_format(w[k]->type) != fmt)
			return -1;	/* q is in one format only */
		fmt = ops_act8_format(w[k]->type);
	}
	for (int k = 0; k < n && all8; k++)
		all8 = ops_act8_ok(w[k]) && w[k]->cols == w[0]->cols;
	if (!all8) {
		int rc = 0;

		for (int k = 0; k < n; k++)
			rc |= ops_act8_ok(w[k]) ? ops_matmul_act8_n(tp, isa, 1, &w[k], x, q, M, &y[k]) :
			      ops_matmul(tp, isa, w[k], x, M, y[k]);
		return rc ? -1 : 0;
	}
	if (!tp || !q)
		return -1;
	for (int k = 0; k < n; k++) {
		j.w[k] = w[k];
		j.y[k] = y[k];
	}
#if defined(__x86_64__)
	if (isa == OPS_ISA_AVX2) {
		j.rowdot = ops_rowdot8_avx2;
		j.x8 = true;
	}
#endif
#if defined(__aarch64__)
	if (isa == OPS_ISA_NEON)
		j.rowdot = ops_rowdot8_neon;
#endif
	matmul8_chunks(&j, threadpool_size(tp));
	threadpool_run(tp, matmul8_worker, &j);
	return 0;
}

int ops_matmul_act8(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
		    const float *x, const void *q, int64_t M, float *y)
{
	if (!ops_act8_ok(w))
		return ops_matmul(tp, isa, w, x, M, y);
	return ops_matmul_act8_n(tp, isa, 1, &w, x, q, M, &y);
}

uint32_t ops_ggml_act_type(uint32_t weight_type)
{
	switch (weight_type) {
	case GGML_TYPE_F16:
	case GGML_TYPE_BF16:
		return weight_type;
	case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
	case GGML_TYPE_IQ4_NL:	/* ggml's vec_dot_type for IQ4_NL as well */
		return GGML_TYPE_Q8_0;	/* Q8_1 for the _1 types: same values */
	case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
	case GGML_TYPE_IQ4_XS:	/* and for IQ4_XS */
		return GGML_TYPE_Q8_K;
	default:
		return GGML_TYPE_F32;
	}
}

/*
 * ggml's x86 quantize_row_q8_0 (the AVX2 one, not the _ref): scale
 * 127/amax rather than 1/d, round to nearest even. Values on a rounding
 * boundary land elsewhere than with quantize_row_q8_0_ref, and one such
 * flip in a K or V row shows in every later logit.
 */
static void round_q8_0_like_ggml_x86(const float *x, float *out, int64_t n)
{
	for (int64_t b = 0; b < n; b += QK8_0) {
		float amax = 0.0f;

		for (int i = 0; i < QK8_0; i++)
			amax = fmaxf(amax, fabsf(x[b + i]));
		float d = fp16_to_fp32(fp32_to_fp16(amax / 127.f));
		float id = amax != 0.0f ? 127.f / amax : 0.0f;

		for (int i = 0; i < QK8_0; i++)
			out[b + i] = rintf(x[b + i] * id) * d;
	}
}

/*
 * Q4_1 and Q5_1 weights meet Q8_1 activations in ggml: per block
 * d_w * d_x * sum(q_w * q_x) + m_w * s_x, where s_x = fp16(d_x * sum(q_x))
 * is rounded on its own, so no rounding of x alone reproduces it; this
 * computes that formula (scalar: a comparison tool, not a fast path).
 */
struct q8_1_act {
	int8_t q[QK8_0];
	float d, s;
};

struct dot_1_job {
	const struct qmat *w;
	const struct q8_1_act *a;	/* [M][cols / 32] */
	int64_t M;
	float *y;
};

static void dot_1_worker(void *arg, int ith, int nth)
{
	struct dot_1_job *j = arg;
	const struct qmat *w = j->w;
	int64_t nb = w->cols / QK8_0;

	for (int64_t r = w->rows * ith / nth; r < w->rows * (ith + 1) / nth; r++) {
		const uint8_t *row = (const uint8_t *)w->data + (size_t)r * w->row_bytes;

		for (int64_t m = 0; m < j->M; m++) {
			const struct q8_1_act *a = j->a + m * nb;
			float acc = 0.0f, summs = 0.0f;

			for (int64_t b = 0; b < nb; b++) {
				uint16_t dh, mh;
				const uint8_t *qs;
				uint32_t qh = 0;
				int sumi = 0;

				if (w->type == GGML_TYPE_Q4_1) {
					const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;

					dh = x->d;
					mh = x->m;
					qs = x->qs;
				} else {
					const struct block_q5_1 *x = (const struct block_q5_1 *)row + b;

					dh = x->d;
					mh = x->m;
					qs = x->qs;
					memcpy(&qh, x->qh, 4);
				}
				for (int k = 0; k < QK8_0 / 2; k++) {
					int lo = (qs[k] & 0x0f) | (int)(((qh >> k) & 1) << 4);
					int hi = (qs[k] >> 4) | (int)(((qh >> (k + 16)) & 1) << 4);

					sumi += lo * a[b].q[k] + hi * a[b].q[k + QK8_0 / 2];
				}
				summs += fp16_to_fp32(mh) * a[b].s;
				acc += fp16_to_fp32(dh) * a[b].d * (float)sumi;
			}
			j->y[m * w->rows + r] = acc + summs;
		}
	}
}

static int matmul_q_1_like_ggml(struct threadpool *tp, const struct qmat *w, const float *x,
				int64_t M, float *y)
{
	int64_t nb = w->cols / QK8_0;
	struct q8_1_act *a = malloc(sizeof(*a) * (size_t)(M * nb));

	if (!a)
		return -1;
	for (int64_t i = 0; i < M * nb; i++) {
		const float *v = x + i * QK8_0;
		float amax = 0.0f;
		int sum = 0;

		for (int k = 0; k < QK8_0; k++)
			amax = fmaxf(amax, fabsf(v[k]));
		float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;

		for (int k = 0; k < QK8_0; k++) {
			a[i].q[k] = (int8_t)rintf(v[k] * id);
			sum += a[i].q[k];
		}
		a[i].d = fp16_to_fp32(fp32_to_fp16(d));
		a[i].s = fp16_to_fp32(fp32_to_fp16(d * (float)sum));
	}
	struct dot_1_job j = { .w = w, .a = a, .M = M, .y = y };

	threadpool_run(tp, dot_1_worker, &j);
	free(a);
	return 0;
}

int ops_matmul_ggml_act(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
			const float *x, int64_t M, float *y)
{
	uint32_t at = ops_ggml_act_type(w->type);
	uint64_t rb;
	int rc = -1;

	if (at == GGML_TYPE_F32)
		return ops_matmul(tp, isa, w, x, M, y);
	if (w->type == GGML_TYPE_Q4_1 || w->type == GGML_TYPE_Q5_1)
		return tp ? matmul_q_1_like_ggml(tp, w, x, M, y) : -1;
	if (!ggml_row_size(at, (uint64_t)w->cols, &rb))
		return -1;
	float *xr = malloc(sizeof(float) * (size_t)(M * w->cols));
	void *q = malloc((size_t)rb);

	if (xr && q) {
		rc = 0;
		for (int64_t m = 0; m < M && !rc; m++) {
			if (at == GGML_TYPE_Q8_0)
				round_q8_0_like_ggml_x86(x + m * w->cols, xr + m * w->cols, w->cols);
			else
				rc = quantize_row(at, x + m * w->cols, q, w->cols) ||
				     dequantize_row(at, q, xr + m * w->cols, w->cols) ? -1 : 0;
		}
		if (!rc)
			rc = ops_matmul(tp, isa, w, xr, M, y);
	}
	free(xr);
	free(q);
	return rc;
}

float ops_dot_f32(enum ops_isa isa, const float *a, const float *b, int n)
{
	float s = 0.0f;

	switch (isa) {
#if defined(__x86_64__)
	case OPS_ISA_AVX2: return ops_dot_f32_avx2(a, b, n);
#endif
#if defined(__aarch64__)
	case OPS_ISA_NEON: return ops_dot_f32_neon(a, b, n);
#endif
	default: break;
	}
	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

void ops_axpy_f32(enum ops_isa isa, float *y, float a, const float *x, int n)
{
	switch (isa) {
#if defined(__x86_64__)
	case OPS_ISA_AVX2: ops_axpy_f32_avx2(y, a, x, n); return;
#endif
#if defined(__aarch64__)
	case OPS_ISA_NEON: ops_axpy_f32_neon(y, a, x, n); return;
#endif
	default: break;
	}
	for (int i = 0; i < n; i++)
		y[i] += a * x[i];
}

void ops_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
	double sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += (double)(x[i] * x[i]);
	float scale = 1.0f / sqrtf((float)(sum / n) + eps);

	for (int i = 0; i < n; i++)
		out[i] = (x[i] * scale) * w[i];
}

void ops_rope(float *v, int n_heads, int head_dim, int n_rot, int pos, float base, bool neox)
{
	float theta_scale = powf(base, -2.0f / (float)n_rot);
	float cs[512][2];	/* n_rot / 2 <= 512: checked at model load */
	float theta = (float)pos;

	for (int i = 0; i < n_rot / 2; i++) {
		cs[i][0] = cosf(theta);
		cs[i][1] = sinf(theta);
		theta *= theta_scale;
	}
	for (int h = 0; h < n_heads; h++) {
		float *x = v + (size_t)h * head_dim;

		for (int i = 0; i < n_rot / 2; i++) {
			int a = neox ? i : 2 * i;
			int b = neox ? i + n_rot / 2 : 2 * i + 1;
			float x0 = x[a], x1 = x[b];

			x[a] = x0 * cs[i][0] - x1 * cs[i][1];
			x[b] = x0 * cs[i][1] + x1 * cs[i][0];
		}
	}
}

void ops_softmax(float *x, int n)
{
	float max = -INFINITY;
	double sum = 0.0;

	for (int i = 0; i < n; i++)
		if (x[i] > max)
			max = x[i];
	for (int i = 0; i < n; i++) {
		x[i] = expf(x[i] - max);
		sum += x[i];
	}
	float inv = (float)(1.0 / sum);

	for (int i = 0; i < n; i++)
		x[i] *= inv;
}

void ops_swiglu(enum ops_isa isa, float *a, const float *b, int n)
{
#if defined(__x86_64__)
	if (isa == OPS_ISA_AVX2) {
		ops_swiglu_avx2(a, b, n);
		return;
	}
#endif
#if defined(__aarch64__)
	if (isa == OPS_ISA_NEON) {
		ops_swiglu_neon(a, b, n);
		return;
	}
#endif
	(void)isa;
	for (int i = 0; i < n; i++)
		a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
}
