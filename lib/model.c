// SPDX-License-Identifier: MIT
/*
 * Model loading (GGUF metadata + tensor table checks) and the forward pass.
 *
 * The forward pass is the llama/qwen2 decoder as llama.cpp builds it:
 *   x = embd[tok]
 *   per layer: h = x + Wo * attn(rope(Wq n(x) + bq), rope(Wk n(x) + bk), Wv n(x) + bv)
 *              x = h + Wdown * (silu(Wgate n(h)) * Wup n(h))
 *   logits = Wout * n(x)        (n = RMSNorm with the layer's weight)
 * Tokens go through in chunks of up to n_batch, so every weight row is
 * dequantised once per chunk instead of once per token.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ggml_types.h"
#include "gguf.h"
#include "model.h"

#define MODEL_MAX_ROT 1024		/* ops_rope keeps n_rot/2 angles on the stack */
#define QK_K_COLS 256			/* K-quant super-block: act8 needs whole ones */
/* q.K MACs below which attention runs on the calling thread: right after the
 * QKV matmul the pool's workers are still spinning, so only tiny attention
 * (short context, few heads) is cheaper alone (A/B on Qwen2.5-1.5B decode,
 * 2 threads: 1 << 14 gave +2.5 % over 1 << 18) */
#define ATTN_SERIAL_MACS (1 << 14)

const char *model_arch_name(enum model_arch a)
{
	return a == MODEL_ARCH_QWEN2 ? "qwen2" : a == MODEL_ARCH_LLAMA ? "llama" : "?";
}

/* ---- loading ------------------------------------------------------------ */

static int get_hparam(const struct gguf_ctx *g, const char *arch, const char *key,
		      bool required, uint32_t def, uint32_t *out, char *err, size_t err_len)
{
	char full[128];

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	if (gguf_get_u32(g, full, out))
		return *out > 0 || !required ? 0 : (snprintf(err, err_len, "%s is 0", full), -1);
	if (gguf_find_kv(g, full)) {
		snprintf(err, err_len, "metadata %s has a wrong type or value", full);
		return -1;
	}
	if (required) {
		snprintf(err, err_len, "missing metadata %s", full);
		return -1;
	}
	*out = def;
	return 0;
}

static int get_fparam(const struct gguf_ctx *g, const char *arch, const char *key,
		      bool required, float def, float *out, char *err, size_t err_len)
{
	char full[128];

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	if (gguf_get_f32(g, full, out))
		return 0;
	if (gguf_find_kv(g, full)) {
		snprintf(err, err_len, "metadata %s has a wrong type", full);
		return -1;
	}
	if (required) {
		snprintf(err, err_len, "missing metadata %s", full);
		return -1;
	}
	*out = def;
	return 0;
}

static const struct gguf_tensor *find_tensor(const struct gguf_ctx *g, const char *name,
					     int n_dims_max, bool optional,
					     char *err, size_t err_len)
{
	const struct gguf_tensor *t = gguf_find_tensor(g, name);

	if (!t) {
		if (!optional)
			snprintf(err, err_len, "missing tensor %s", name);
		return NULL;
	}
	for (int d = n_dims_max; d < GGUF_MAX_DIMS; d++) {
		if (t->ne[d] != 1) {
			snprintf(err, err_len, "tensor %s has %u dimensions, expected %d",
				 name, t->n_dims, n_dims_max);
			return NULL;
		}
	}
	return t;
}

/* 1: found, 0: absent and optional, -1: error (in err) */
static int load_mat(const struct gguf_ctx *g, const char *name, int64_t cols, int64_t rows,
		    bool optional, struct qmat *out, char *err, size_t err_len)
{
	err[0] = 0;
	const struct gguf_tensor *t = find_tensor(g, name, 2, optional, err, err_len);

	if (!t)
		return err[0] ? -1 : 0;
	if ((int64_t)t->ne[0] != cols || (int64_t)t->ne[1] != rows) {
		snprintf(err, err_len, "tensor %s has shape [%llu, %llu], expected [%lld, %lld]",
			 name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
			 (long long)cols, (long long)rows);
		return -1;
	}
	if (!ops_type_supported(t->type)) {
		snprintf(err, err_len, "tensor %s has unsupported type %s", name,
			 ggml_type_name(t->type) ? ggml_type_name(t->type) : "?");
		return -1;
	}
	if (!qmat_init(out, t->data, t->type, rows, cols)) {
		snprintf(err, err_len, "tensor %s: rows of %lld are not whole %s blocks", name,
			 (long long)cols, ggml_type_name(t->type));
		return -1;
	}
	return 1;
}

static int load_vec(const struct gguf_ctx *g, const char *name, int64_t n, bool optional,
		    const float **out, char *err, size_t err_len)
{
	err[0] = 0;
	*out = NULL;
	const struct gguf_tensor *t = find_tensor(g, name, 1, optional, err, err_len);

	if (!t)
		return err[0] ? -1 : 0;
	if ((int64_t)t->ne[0] != n) {
		snprintf(err, err_len, "tensor %s has %llu elements, expected %lld", name,
			 (unsigned long long)t->ne[0], (long long)n);
		return -1;
	}
	if (t->type != GGML_TYPE_F32) {
		snprintf(err, err_len, "tensor %s has type %s, expected F32", name,
			 ggml_type_name(t->type) ? ggml_type_name(t->type) : "?");
		return -1;
	}
	*out = t->data;
	return 1;
}

static int load_config(const struct gguf_ctx *g, struct model_config *c, char *err, size_t err_len)
{
	struct gguf_str s;
	char arch[32];
	uint32_t v;

	if (!gguf_get_str(g, "general.architecture", &s)) {
		snprintf(err, err_len, "missing metadata general.architecture");
		return -1;
	}
	if (gguf_str_eq(s, "qwen2")) {
		c->arch = MODEL_ARCH_QWEN2;
		c->rope_neox = true;
	} else if (gguf_str_eq(s, "llama")) {
		c->arch = MODEL_ARCH_LLAMA;
		c->rope_neox = false;	/* llama.cpp: LLAMA_ROPE_TYPE_NORM */
	} else {
		snprintf(err, err_len, "unsupported architecture '%.*s' (supported: qwen2, llama)",
			 (int)(s.len > 64 ? 64 : s.len), s.ptr);
		return -1;
	}
	snprintf(arch, sizeof(arch), "%s", model_arch_name(c->arch));

#define U(key, req, def, field) \
	do { if (get_hparam(g, arch, key, req, def, &v, err, err_len)) return -1; \
	     if (v > (1u << 30)) { snprintf(err, err_len, "%s.%s = %u is too large", arch, key, v); return -1; } \
	     c->field = (int)v; } while (0)
	U("block_count", true, 0, n_layer);
	U("embedding_length", true, 0, n_embd);
	U("feed_forward_length", true, 0, n_ff);
	U("attention.head_count", true, 0, n_head);
	U("attention.head_count_kv", false, (uint32_t)c->n_head, n_head_kv);
	U("context_length", true, 0, n_ctx_train);
	if (c->n_embd % c->n_head) {
		snprintf(err, err_len, "embedding_length %d is not a multiple of head_count %d",
			 c->n_embd, c->n_head);
		return -1;
	}
	U("attention.key_length", false, (uint32_t)(c->n_embd / c->n_head), head_dim);
	U("rope.dimension_count", false, (uint32_t)c->head_dim, n_rot);
#undef U
	if (get_fparam(g, arch, "rope.freq_base", false, 10000.0f, &c->rope_base, err, err_len) ||
	    get_fparam(g, arch, "attention.layer_norm_rms_epsilon", true, 0, &c->norm_eps, err, err_len))
		return -1;
	if (c->n_head_kv == 0 || c->n_head % c->n_head_kv) {
		snprintf(err, err_len, "head_count %d is not a multiple of head_count_kv %d",
			 c->n_head, c->n_head_kv);
		return -1;
	}
	if (c->n_rot > c->head_dim || c->n_rot % 2 || c->n_rot > MODEL_MAX_ROT) {
		snprintf(err, err_len, "rope.dimension_count %d does not fit head size %d",
			 c->n_rot, c->head_dim);
		return -1;
	}
	if (c->head_dim * c->n_head != c->n_embd) {
		snprintf(err, err_len, "key_length %d * head_count %d != embedding_length %d",
			 c->head_dim, c->n_head, c->n_embd);
		return -1;
	}
	if (!(c->norm_eps > 0) || !(c->rope_base > 0)) {
		snprintf(err, err_len, "bad rms epsilon %g or rope base %g", c->norm_eps, c->rope_base);
		return -1;
	}
	return 0;
}

/* the matrices of layer L, for the load-time repack and its free */
#define LAYER_MATS(L) { &(L)->wq, &(L)->wk, &(L)->wv, &(L)->wo, &(L)->gate, &(L)->up, &(L)->down }

/*
 * With an interleaved copy made, every AVX2 matmul of that matrix reads
 * the copy, so drop the mapped pages of the original (just read by the
 * repack) from the resident set at once: the peak memory stays ~ that of
 * the mapping alone. Only for gguf_open's read-only file mapping (pages
 * come back from the file if anything reads them again: the tied
 * embedding's row lookups), never a gguf_open_mem buffer.
 */
static void drop_repacked(const struct model *m, const struct qmat *q)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)q->data + pg - 1) / pg * pg;
	uintptr_t b = ((uintptr_t)q->data + (size_t)q->rows * q->row_bytes) / pg * pg;

	if (m->gguf->mapped && q->rep && b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/*
 * Speed: an 8-row interleaved copy of each Q4_K and Q6_K layer matrix and
 * of the output head (qmat_repack; the AVX2 kernels then read only it).
 * ~0.98 GB for a Qwen2.5-1.5B Q4_K_M, in place of the mapped pages.
 * ROSENBLATT_NO_REPACK=1 turns it off.
 */
static void model_repack(struct model *m)
{
	const char *e = getenv("ROSENBLATT_NO_REPACK");

	if (e && *e && *e != '0')
		return;
	for (int l = 0; l < m->cfg.n_layer; l++) {
		struct qmat *q[] = LAYER_MATS(&m->layers[l]);

		for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++)
			if (qmat_repack(q[k]))
				drop_repacked(m, q[k]);
	}
	if (qmat_repack(&m->output))	/* tied: tok_embd keeps the original */
		drop_repacked(m, &m->output);
}

struct model *model_from_gguf(struct gguf_ctx *g, char *err, size_t err_len)
{
	struct model *m = calloc(1, sizeof(*m));
	struct model_config *c;
	char name[96], why[MODEL_ERR_LEN];
	const struct gguf_tensor *te;

	if (!m) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	m->gguf = g;
	c = &m->cfg;
	if (load_config(g, c, err, err_len))
		goto fail;

	/* the vocabulary size is the embedding's row count */
	te = find_tensor(g, "token_embd.weight", 2, false, err, err_len);
	if (!te)
		goto fail;
	if (te->ne[1] == 0 || te->ne[1] > (1u << 24)) {
		snprintf(err, err_len, "tensor token_embd.weight has %llu rows",
			 (unsigned long long)te->ne[1]);
		goto fail;
	}
	c->n_vocab = (int)te->ne[1];

	int qd = c->n_head * c->head_dim, kvd = c->n_head_kv * c->head_dim;
	bool qwen = c->arch == MODEL_ARCH_QWEN2;

#define MAT(nm, cols, rows, opt, dst) \
	(load_mat(g, nm, cols, rows, opt, dst, why, sizeof(why)) < 0 ? \
	 (snprintf(err, err_len, "%s", why), -1) : 0)
#define VEC(nm, n, opt, dst) \
	(load_vec(g, nm, n, opt, dst, why, sizeof(why)) < 0 ? \
	 (snprintf(err, err_len, "%s", why), -1) : 0)
	if (MAT("token_embd.weight", c->n_embd, c->n_vocab, false, &m->tok_embd) ||
	    VEC("output_norm.weight", c->n_embd, false, &m->output_norm))
		goto fail;
	int r = load_mat(g, "output.weight", c->n_embd, c->n_vocab, true, &m->output, why, sizeof(why));

	if (r < 0) {
		snprintf(err, err_len, "%s", why);
		goto fail;
	}
	if (r == 0) {
		m->output = m->tok_embd;
		m->tied_output = true;
	}

	m->layers = calloc((size_t)c->n_layer, sizeof(*m->layers));
	if (!m->layers) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (int l = 0; l < c->n_layer; l++) {
		struct model_layer *L = &m->layers[l];

#define N(suffix) (snprintf(name, sizeof(name), "blk.%d." suffix, l), name)
		if (VEC(N("attn_norm.weight"), c->n_embd, false, &L->attn_norm) ||
		    MAT(N("attn_q.weight"), c->n_embd, qd, false, &L->wq) ||
		    MAT(N("attn_k.weight"), c->n_embd, kvd, false, &L->wk) ||
		    MAT(N("attn_v.weight"), c->n_embd, kvd, false, &L->wv) ||
		    VEC(N("attn_q.bias"), qd, !qwen, &L->bq) ||
		    VEC(N("attn_k.bias"), kvd, !qwen, &L->bk) ||
		    VEC(N("attn_v.bias"), kvd, !qwen, &L->bv) ||
		    MAT(N("attn_output.weight"), qd, c->n_embd, false, &L->wo) ||
		    VEC(N("ffn_norm.weight"), c->n_embd, false, &L->ffn_norm) ||
		    MAT(N("ffn_gate.weight"), c->n_embd, c->n_ff, false, &L->gate) ||
		    MAT(N("ffn_up.weight"), c->n_embd, c->n_ff, false, &L->up) ||
		    MAT(N("ffn_down.weight"), c->n_ff, c->n_embd, false, &L->down))
			goto fail;
#undef N
	}
#undef MAT
#undef VEC
	model_repack(m);
	return m;
fail:
	free(m->layers);
	free(m);
	return NULL;
}

struct model *model_load(const char *path, char *err, size_t err_len)
{
	char why[GGUF_ERR_LEN];
	struct gguf_ctx *g = gguf_open(path, why, sizeof(why));
	struct model *m;

	if (!g) {
		snprintf(err, err_len, "%s", why);
		return NULL;
	}
	m = model_from_gguf(g, why, sizeof(why));
	if (!m) {
		snprintf(err, err_len, "%s: %s", path, why);
		gguf_close(g);
		return NULL;
	}
	m->own_gguf = true;
	return m;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	if (m->own_gguf)
		gguf_close(m->gguf);
	for (int l = 0; m->layers && l < m->cfg.n_layer; l++) {
		struct qmat *q[] = LAYER_MATS(&m->layers[l]);

		for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++)
			qmat_free_repack(q[k]);
	}
	qmat_free_repack(&m->output);
	free(m->layers);
	free(m);
}

static uint64_t qmat_bytes(const struct qmat *q)
{
	return (uint64_t)q->rows * q->row_bytes;
}

uint64_t model_weight_bytes(const struct model *m)
{
	const struct model_config *c = &m->cfg;
	uint64_t n = qmat_bytes(&m->tok_embd) + (m->tied_output ? 0 : qmat_bytes(&m->output));

	for (int l = 0; l < c->n_layer; l++) {
		const struct model_layer *L = &m->layers[l];

		n += qmat_bytes(&L->wq) + qmat_bytes(&L->wk) + qmat_bytes(&L->wv) +
		     qmat_bytes(&L->wo) + qmat_bytes(&L->gate) + qmat_bytes(&L->up) +
		     qmat_bytes(&L->down);
	}
	return n;
}

/* ---- context ------------------------------------------------------------ */

struct model_ctx *model_ctx_new(const struct model *m, int n_ctx, int n_threads,
				enum ops_isa isa, char *err, size_t err_len)
{
	return model_ctx_new_batch(m, n_ctx, 64, n_threads, isa, err, err_len);
}

struct model_ctx *model_ctx_new_batch(const struct model *m, int n_ctx, int n_batch,
				      int n_threads, enum ops_isa isa, char *err, size_t err_len)
{
	const struct model_config *cfg = &m->cfg;
	struct model_ctx *c;
	size_t kvd = (size_t)cfg->n_head_kv * cfg->head_dim;
	size_t qd = (size_t)cfg->n_head * cfg->head_dim;
	size_t nb;

	if (n_ctx <= 0)
		n_ctx = cfg->n_ctx_train < 4096 ? cfg->n_ctx_train : 4096;
	if (n_ctx > cfg->n_ctx_train) {
		snprintf(err, err_len, "context %d is larger than the model's training context %d",
			 n_ctx, cfg->n_ctx_train);
		return NULL;
	}
	if (!ops_isa_available(isa)) {
		snprintf(err, err_len, "kernel set %s is not available on this CPU", ops_isa_name(isa));
		return NULL;
	}
	if (n_batch < 1 || n_batch > 4096) {
		snprintf(err, err_len, "batch size %d is not in 1..4096", n_batch);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	c->m = m;
	c->n_ctx = n_ctx;
	c->n_batch = n_batch;
	c->isa = isa;
	c->tp = threadpool_new(n_threads);
	if (!c->tp)
		goto oom;
	nb = (size_t)c->n_batch;
	size_t cache = (size_t)cfg->n_layer * (size_t)n_ctx * kvd;
	size_t wide = qd > (size_t)cfg->n_embd ? qd : (size_t)cfg->n_embd;
	c->k_cache = calloc(cache, sizeof(float));
	c->v_cache = calloc(cache, sizeof(float));
	c->x = malloc(nb * cfg->n_embd * sizeof(float));
	c->xb = malloc(nb * wide * sizeof(float));
	c->xb2 = malloc(nb * cfg->n_embd * sizeof(float));
	c->q = malloc(nb * qd * sizeof(float));
	c->k = malloc(nb * kvd * sizeof(float));
	c->v = malloc(nb * kvd * sizeof(float));
	c->att = malloc(nb * qd * sizeof(float));
	c->hb = malloc(nb * cfg->n_ff * sizeof(float));
	c->hb2 = malloc(nb * cfg->n_ff * sizeof(float));
	c->scores = malloc((size_t)threadpool_size(c->tp) * n_ctx * sizeof(float));
	size_t qcols = wide > (size_t)cfg->n_ff ? wide : (size_t)cfg->n_ff;
	size_t xq_k = ops_act8_bytes(GGML_TYPE_Q8_K, (int64_t)nb,
				     (int64_t)((qcols + QK_K_COLS - 1) / QK_K_COLS * QK_K_COLS));
	/* one input can feed a Q5_0 and a Q6_K matrix: room for both formats,
	 * the Q8_1 rows (float fields) 64-byte aligned after the Q8_K ones */
	size_t xq_q8_1 = (xq_k + 63) / 64 * 64;
	size_t xq_bytes = xq_q8_1 + ops_act8_bytes(GGML_TYPE_Q8_1, (int64_t)nb, (int64_t)qcols);

	c->xq = aligned_alloc(64, (xq_bytes + 63) / 64 * 64);
	c->xq_q8_1 = xq_q8_1;
	if (!c->k_cache || !c->v_cache || !c->x || !c->xb || !c->xb2 || !c->q || !c->k ||
	    !c->v || !c->att || !c->hb || !c->hb2 || !c->scores || !c->xq)
		goto oom;
	c->mem_bytes = (2 * cache + nb * (2 * cfg->n_embd + wide + 2 * qd + 2 * kvd +
					  2 * (size_t)cfg->n_ff) +
			(size_t)threadpool_size(c->tp) * n_ctx) * sizeof(float) + xq_bytes;
	return c;
oom:
	snprintf(err, err_len, "out of memory for a context of %d positions", n_ctx);
	model_ctx_free(c);
	return NULL;
}

void model_ctx_free(struct model_ctx *c)
{
	if (!c)
		return;
	threadpool_free(c->tp);
	free(c->k_cache);
	free(c->v_cache);
	free(c->x);
	free(c->xb);
	free(c->xb2);
	free(c->q);
	free(c->k);
	free(c->v);
	free(c->att);
	free(c->hb);
	free(c->hb2);
	free(c->scores);
	free(c->xq);
	free(c);
}

void model_ctx_truncate(struct model_ctx *c, int n)
{
	if (n >= 0 && n < c->n_past)
		c->n_past = n;
}

/* ---- forward ------------------------------------------------------------ */

struct attn_job {
	struct model_ctx *c;
	int layer, B, pos0;
	int b0;		/* first row of the chunk (rows b0..b0+B-1 at positions pos0 + b) */
};

/* One (token, head) pair per step: causal softmax(q.K / sqrt(d)) V. */
static void attn_worker(void *arg, int ith, int nth)
{
	struct attn_job *j = arg;
	struct model_ctx *c = j->c;
	const struct model_config *cfg = &c->m->cfg;
	int hd = cfg->head_dim, qd = cfg->n_head * hd, kvd = cfg->n_head_kv * hd;
	int group = cfg->n_head / cfg->n_head_kv;
	float scale = 1.0f / sqrtf((float)hd);
	size_t lofs = (size_t)j->layer * c->n_ctx * kvd;
	float *sc = c->scores + (size_t)ith * c->n_ctx;

	for (int idx = ith; idx < j->B * cfg->n_head; idx += nth) {
		int b = j->b0 + idx / cfg->n_head, h = idx % cfg->n_head;
		int T = j->pos0 + b + 1;
		const float *q = c->q + (size_t)b * qd + (size_t)h * hd;
		const float *kc = c->k_cache + lofs + (size_t)(h / group) * hd;
		const float *vc = c->v_cache + lofs + (size_t)(h / group) * hd;
		float *out = c->att + (size_t)b * qd + (size_t)h * hd;

		for (int t = 0; t < T; t++)
			sc[t] = ops_dot_f32(c->isa, q, kc + (size_t)t * kvd, hd) * scale;
		ops_softmax(sc, T);
		memset(out, 0, (size_t)hd * sizeof(float));
		for (int t = 0; t < T; t++)
			ops_axpy_f32(c->isa, out, sc[t], vc + (size_t)t * kvd, hd);
	}
}

static void add_bias(float *y, const float *bias, int B, int n)
{
	if (!bias)
		return;
	for (int b = 0; b < B; b++)
		for (int i = 0; i < n; i++)
			y[(size_t)b * n + i] += bias[i];
}

/*
 * x's act8 rows in w's format (quantised on first use and reused by the
 * following matmuls on the same x: q/k/v, gate/up): callers set
 * c->xq_src = NULL whenever they rewrite a matmul input.
 */
static const void *act8_rows(struct model_ctx *c, const struct qmat *w, const float *x, int B)
{
	uint32_t fmt = ops_act8_format(w->type), bit = fmt == GGML_TYPE_Q8_K ? 1 : 2;
	uint8_t *q = (uint8_t *)c->xq + (fmt == GGML_TYPE_Q8_K ? 0 : c->xq_q8_1);

	if (c->xq_src != x) {
		c->xq_made = 0;
		c->xq_src = x;
	}
	if (!(c->xq_made & bit)) {
		ops_quantize_act8(c->tp, c->isa, fmt, x, B, w->cols, q);
		c->xq_made |= bit;
	}
	return q;
}

/* y = W x for B rows (act8: x's 8-bit rows for w's format, act8_rows) */
static int mm(struct model_ctx *c, const struct qmat *w, const float *x, int B, float *y)
{
	if (c->ggml_act)
		return ops_matmul_ggml_act(c->tp, c->isa, w, x, B, y);
	if (c->act8 && ops_act8_ok(w))
		return ops_matmul_act8(c->tp, c->isa, w, x, act8_rows(c, w, x, B), B, y);
	return ops_matmul(c->tp, c->isa, w, x, B, y);
}

/* n matmuls on the same x; in act8 mode in one pool job when they share a format */
static int mm_n(struct model_ctx *c, int n, const struct qmat *const *w, const float *x, int B,
		float *const *y)
{
	bool same = !c->ggml_act && c->act8;
	int rc = 0;

	for (int k = 0; k < n && same; k++)
		same = ops_act8_ok(w[k]) && ops_act8_format(w[k]->type) == ops_act8_format(w[0]->type);
	if (same)
		return ops_matmul_act8_n(c->tp, c->isa, n, w, x, act8_rows(c, w[0], x, B), B, y);
	for (int k = 0; k < n; k++)
		rc |= mm(c, w[k], x, B, y[k]);
	return rc;
}

/* The backend's matmuls of a site (ys: the site's outputs, model_backend.h). */
static int bmm(struct model_ctx *c, int layer, enum model_mm_site site, const float *x, int B,
	       float *const *ys)
{
	return c->backend->matmul(c->backend, layer, site, x, B, ys, c->backend_err,
				  sizeof(c->backend_err)) ? 1 : 0;
}

/*
 * The CPU stages of a layer on rows [r0, r0 + n) of a chunk whose first row
 * is at position pos0. Every stage is row-wise except attention, which
 * reads the K/V rows cached before it (causal): rows may go through in
 * parts, in order.
 */
static void attn_norm_rows(struct model_ctx *c, const struct model_layer *L, int r0, int n)
{
	int D = c->m->cfg.n_embd;

	for (int b = r0; b < r0 + n; b++)
		ops_rmsnorm(c->xb + (size_t)b * D, c->x + (size_t)b * D, L->attn_norm, D,
			    c->m->cfg.norm_eps);
}

/* Q/K/V biases, RoPE, K/V into the cache. */
static void qkv_rows(struct model_ctx *c, int l, int r0, int n, int pos0)
{
	const struct model_config *cfg = &c->m->cfg;
	const struct model_layer *L = &c->m->layers[l];
	int hd = cfg->head_dim, qd = cfg->n_head * hd, kvd = cfg->n_head_kv * hd;
	size_t lofs = (size_t)l * c->n_ctx * kvd;

	add_bias(c->q + (size_t)r0 * qd, L->bq, n, qd);
	add_bias(c->k + (size_t)r0 * kvd, L->bk, n, kvd);
	add_bias(c->v + (size_t)r0 * kvd, L->bv, n, kvd);
	for (int b = r0; b < r0 + n; b++) {
		ops_rope(c->q + (size_t)b * qd, cfg->n_head, hd, cfg->n_rot, pos0 + b,
			 cfg->rope_base, cfg->rope_neox);
		ops_rope(c->k + (size_t)b * kvd, cfg->n_head_kv, hd, cfg->n_rot, pos0 + b,
			 cfg->rope_base, cfg->rope_neox);
		memcpy(c->k_cache + lofs + (size_t)(pos0 + b) * kvd, c->k + (size_t)b * kvd,
		       (size_t)kvd * sizeof(float));
		memcpy(c->v_cache + lofs + (size_t)(pos0 + b) * kvd, c->v + (size_t)b * kvd,
		       (size_t)kvd * sizeof(float));
	}
}

static void attention_rows(struct model_ctx *c, int l, int r0, int n, int pos0)
{
	const struct model_config *cfg = &c->m->cfg;
	struct attn_job aj = { .c = c, .layer = l, .B = n, .pos0 = pos0, .b0 = r0 };
	bool small = (int64_t)n * cfg->n_head * (pos0 + r0 + n) * cfg->head_dim < ATTN_SERIAL_MACS;

	threadpool_run(small ? NULL : c->tp, attn_worker, &aj);
}

/* x += the O projection; the FFN norm into xb. */
static void o_rows(struct model_ctx *c, const struct model_layer *L, int r0, int n)
{
	int D = c->m->cfg.n_embd;

	for (size_t i = (size_t)r0 * D; i < (size_t)(r0 + n) * D; i++)
		c->x[i] += c->xb2[i];
	for (int b = r0; b < r0 + n; b++)
		ops_rmsnorm(c->xb + (size_t)b * D, c->x + (size_t)b * D, L->ffn_norm, D,
			    c->m->cfg.norm_eps);
}

static void swiglu_rows(struct model_ctx *c, int r0, int n)
{
	size_t f = (size_t)c->m->cfg.n_ff;

	ops_swiglu(c->isa, c->hb + r0 * f, c->hb2 + r0 * f, (int)(n * f));
}

/* x += the FFN down projection. */
static void down_rows(struct model_ctx *c, int r0, int n)
{
	int D = c->m->cfg.n_embd;

	for (size_t i = (size_t)r0 * D; i < (size_t)(r0 + n) * D; i++)
		c->x[i] += c->xb2[i];
}

/* B tokens at positions pos0..; leaves the final hidden states in c->x. */
static int forward_chunk(struct model_ctx *c, const int32_t *tok, int B, int pos0)
{
	const struct model *m = c->m;
	const struct model_config *cfg = &m->cfg;
	int D = cfg->n_embd;
	int rc = 0;

	for (int b = 0; b < B; b++)
		rc |= qmat_get_row(&m->tok_embd, tok[b], c->x + (size_t)b * D);

	for (int l = 0; l < cfg->n_layer && !rc; l++) {
		const struct model_layer *L = &m->layers[l];
		const struct qmat *qkv[3] = { &L->wq, &L->wk, &L->wv };
		float *qkv_out[3] = { c->q, c->k, c->v };
		const struct qmat *gu[2] = { &L->gate, &L->up };
		float *gu_out[2] = { c->hb, c->hb2 };

		attn_norm_rows(c, L, 0, B);
		c->xq_src = NULL;
		rc |= c->backend ? bmm(c, l, MODEL_MM_QKV, c->xb, B, qkv_out)
				 : mm_n(c, 3, qkv, c->xb, B, qkv_out);
		qkv_rows(c, l, 0, B, pos0);
		attention_rows(c, l, 0, B, pos0);
		c->xq_src = NULL;
		rc |= c->backend ? bmm(c, l, MODEL_MM_O, c->att, B, &c->xb2)
				 : mm(c, &L->wo, c->att, B, c->xb2);
		o_rows(c, L, 0, B);
		c->xq_src = NULL;
		rc |= c->backend ? bmm(c, l, MODEL_MM_GATE_UP, c->xb, B, gu_out)
				 : mm_n(c, 2, gu, c->xb, B, gu_out);
		swiglu_rows(c, 0, B);
		c->xq_src = NULL;
		rc |= c->backend ? bmm(c, l, MODEL_MM_DOWN, c->hb, B, &c->xb2)
				 : mm(c, &L->down, c->hb, B, c->xb2);
		down_rows(c, 0, B);
	}
	return rc ? -1 : 0;
}

/* Tickets in flight on an async backend, oldest first. */
struct pipe {
	struct model_ctx *c;
	int t[MODEL_BACKEND_MAX_INFLIGHT];
	int first, n;
	int rc;
};

/* Submit a site's matmul on rows [r0, r0 + n): x and the outputs offset by r0 rows. */
static void pipe_submit(struct pipe *p, int l, enum model_mm_site site, const float *x,
			size_t x_w, float *const *ys, const size_t *y_w, int nys, int r0, int n)
{
	struct model_ctx *c = p->c;
	float *y[3];
	int t;

	if (p->rc)
		return;
	for (int i = 0; i < nys; i++)
		y[i] = ys[i] + (size_t)r0 * y_w[i];
	t = c->backend->submit(c->backend, l, site, x + (size_t)r0 * x_w, n, y, c->backend_err,
			       sizeof(c->backend_err));
	if (t < 0 || p->n == MODEL_BACKEND_MAX_INFLIGHT) {
		p->rc = -1;
		return;
	}
	p->t[(p->first + p->n++) % MODEL_BACKEND_MAX_INFLIGHT] = t;
}

/* Wait for the oldest ticket (its outputs are then filled). */
static void pipe_wait(struct pipe *p)
{
	struct model_ctx *c = p->c;
	char err[sizeof(c->backend_err)];
	int t;

	if (!p->n) {
		p->rc = -1;
		return;
	}
	t = p->t[p->first];
	p->first = (p->first + 1) % MODEL_BACKEND_MAX_INFLIGHT;
	p->n--;
	/* after an error keep the first message, but still wait (buffers in use) */
	if (c->backend->wait(c->backend, t, p->rc ? err : c->backend_err,
			     sizeof(c->backend_err)))
		p->rc = -1;
}

/*
 * A prompt chunk on a backend with submit/wait, as two halves in a
 * pipeline: while the device computes one half's matmul the CPU does the
 * other half's attention, norms and SwiGLU, so NPU and CPU work at the same
 * time. The halves go through each layer in order (the first half's K/V
 * are cached before the second half's attention needs them) and every
 * matmul is row-wise, so the result equals forward_chunk's.
 */
static int forward_chunk_pipelined(struct model_ctx *c, const int32_t *tok, int B, int pos0)
{
	const struct model *m = c->m;
	const struct model_config *cfg = &m->cfg;
	size_t D = (size_t)cfg->n_embd, F = (size_t)cfg->n_ff;
	size_t qd = (size_t)cfg->n_head * cfg->head_dim, kvd = (size_t)cfg->n_head_kv * cfg->head_dim;
	int h0 = model_pipe_first_half(B), r[2] = { 0, h0 }, n[2] = { h0, B - h0 };
	float *qkv_out[3] = { c->q, c->k, c->v }, *gu_out[2] = { c->hb, c->hb2 };
	const size_t qkv_w[3] = { qd, kvd, kvd }, gu_w[2] = { F, F };
	struct pipe p = { .c = c };

	for (int b = 0; b < B; b++)
		if (qmat_get_row(&m->tok_embd, tok[b], c->x + (size_t)b * D))
			return -1;
	attn_norm_rows(c, &m->layers[0], r[0], n[0]);
	pipe_submit(&p, 0, MODEL_MM_QKV, c->xb, D, qkv_out, qkv_w, 3, r[0], n[0]);
	/*
	 * Per layer, with the device's work in flight noted on the right; the
	 * long CPU stages (attention) run while a big matmul of the other half
	 * does. Waits come in submission order.
	 */
	for (int l = 0; l < cfg->n_layer && !p.rc; l++) {
		const struct model_layer *L = &m->layers[l];

		pipe_wait(&p);					/* QKV(0) done */
		qkv_rows(c, l, r[0], n[0], pos0);
		attention_rows(c, l, r[0], n[0], pos0);		/* | DOWN(1) of layer l-1 */
		pipe_submit(&p, l, MODEL_MM_O, c->att, qd, &c->xb2, &D, 1, r[0], n[0]);
		if (l > 0) {
			pipe_wait(&p);				/* DOWN(1) of layer l-1 done */
			down_rows(c, r[1], n[1]);
		}
		attn_norm_rows(c, L, r[1], n[1]);
		pipe_submit(&p, l, MODEL_MM_QKV, c->xb, D, qkv_out, qkv_w, 3, r[1], n[1]);
		pipe_wait(&p);					/* O(0) done */
		o_rows(c, L, r[0], n[0]);
		pipe_submit(&p, l, MODEL_MM_GATE_UP, c->xb, D, gu_out, gu_w, 2, r[0], n[0]);
		pipe_wait(&p);					/* QKV(1) done */
		qkv_rows(c, l, r[1], n[1], pos0);
		attention_rows(c, l, r[1], n[1], pos0);		/* | GATE_UP(0) */
		pipe_submit(&p, l, MODEL_MM_O, c->att, qd, &c->xb2, &D, 1, r[1], n[1]);
		pipe_wait(&p);					/* GATE_UP(0) done */
		swiglu_rows(c, r[0], n[0]);
		pipe_submit(&p, l, MODEL_MM_DOWN, c->hb, F, &c->xb2, &D, 1, r[0], n[0]);
		pipe_wait(&p);					/* O(1) done */
		o_rows(c, L, r[1], n[1]);
		pipe_submit(&p, l, MODEL_MM_GATE_UP, c->xb, D, gu_out, gu_w, 2, r[1], n[1]);
		pipe_wait(&p);					/* DOWN(0) done */
		down_rows(c, r[0], n[0]);
		if (l + 1 < cfg->n_layer) {
			attn_norm_rows(c, &m->layers[l + 1], r[0], n[0]);
			pipe_submit(&p, l + 1, MODEL_MM_QKV, c->xb, D, qkv_out, qkv_w, 3, r[0],
				    n[0]);
		}
		pipe_wait(&p);					/* GATE_UP(1) done */
		swiglu_rows(c, r[1], n[1]);
		pipe_submit(&p, l, MODEL_MM_DOWN, c->hb, F, &c->xb2, &D, 1, r[1], n[1]);
	}
	if (!p.rc) {
		pipe_wait(&p);					/* DOWN(1) of the last layer */
		down_rows(c, r[1], n[1]);
	}
	while (p.n)
		pipe_wait(&p);
	return p.rc ? -1 : 0;
}

/* Logits of the B0.. B0+n-1 rows of c->x into out. */
static int output_logits(struct model_ctx *c, int b0, int n, float *out)
{
	const struct model *m = c->m;
	int D = m->cfg.n_embd;

	for (int b = 0; b < n; b++)
		ops_rmsnorm(c->xb + (size_t)b * D, c->x + (size_t)(b0 + b) * D, m->output_norm, D,
			    m->cfg.norm_eps);
	c->xq_src = NULL;
	if (c->backend)
		return bmm(c, 0, MODEL_MM_OUTPUT, c->xb, n, &out);
	return mm(c, &m->output, c->xb, n, out);
}

int model_eval(struct model_ctx *c, const int32_t *tokens, int n, float *logits,
	       bool all_logits, char *err, size_t err_len)
{
	const struct model_config *cfg = &c->m->cfg;
	int n_past0 = c->n_past;

	c->backend_err[0] = 0;
	if (n <= 0) {
		snprintf(err, err_len, "no tokens to evaluate");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (tokens[i] < 0 || tokens[i] >= cfg->n_vocab) {
			snprintf(err, err_len, "token id %d out of range (vocabulary of %d)",
				 tokens[i], cfg->n_vocab);
			return -1;
		}
	}
	if (n > c->n_ctx - c->n_past) {
		snprintf(err, err_len, "context overflow: %d cached + %d new tokens > context of %d",
			 c->n_past, n, c->n_ctx);
		return -1;
	}
	for (int start = 0; start < n; start += c->n_batch) {
		int B = n - start < c->n_batch ? n - start : c->n_batch;
		bool pipelined = c->backend && c->backend->submit && B >= MODEL_PIPE_MIN_ROWS &&
				 !c->no_pipeline;
		int rc = pipelined ? forward_chunk_pipelined(c, tokens + start, B, c->n_past)
			      : forward_chunk(c, tokens + start, B, c->n_past);

		if (!rc && logits && all_logits)
			rc = output_logits(c, 0, B, logits + (size_t)start * cfg->n_vocab);
		else if (!rc && logits && start + B == n)
			rc = output_logits(c, B - 1, 1, logits);
		if (rc) {
			c->n_past = n_past0;
			if (c->backend && c->backend_err[0])
				snprintf(err, err_len, "%s backend: %s", c->backend->name,
					 c->backend_err);
			else
				snprintf(err, err_len, "out of memory in the forward pass");
			return -1;
		}
		c->n_past += B;
	}
	return 0;
}
