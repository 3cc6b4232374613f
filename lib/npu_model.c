// SPDX-License-Identifier: MIT
/* The NPU backend as a model backend: see npu_model.h. */
#include "npu_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct npu_layer_w {
	struct npu_weight *qkv, *o, *gate_up, *down;
};

struct npu_mb {
	struct model_backend base;
	struct npu_backend *be;
	const struct model *m;
	struct npu_layer_w *L;
	struct npu_weight *out;
	npu_progress_fn progress;
	void *progress_arg;
	uint64_t done, total;
	int cached;
};

#define CACHE_MAGIC 0x31304355504e4252ull	/* "RBNPUC01" */

struct cache_head {
	uint64_t magic;
	uint64_t src_hash;
	uint32_t count, pad;
};

/* The weights in order: per layer QKV, O, gate/up, down; then the output head. */
static struct npu_weight **slot(struct npu_mb *b, uint32_t i)
{
	uint32_t l = i / 4;

	if (l >= (uint32_t)b->m->cfg.n_layer)
		return &b->out;
	switch (i % 4) {
	case 0: return &b->L[l].qkv;
	case 1: return &b->L[l].o;
	case 2: return &b->L[l].gate_up;
	default: return &b->L[l].down;
	}
}

/* The model's matrices behind slot i (stacked in this order); returns how many. */
static int slot_src(const struct model *m, uint32_t i, struct npu_wsrc src[3], int64_t *cols)
{
	const struct model_layer *L = &m->layers[i / 4 < (uint32_t)m->cfg.n_layer ? i / 4 : 0];
	const struct qmat *q[3];
	int n = 1;

	if (i / 4 >= (uint32_t)m->cfg.n_layer) {
		q[0] = &m->output;
	} else {
		switch (i % 4) {
		case 0: q[0] = &L->wq; q[1] = &L->wk; q[2] = &L->wv; n = 3; break;
		case 1: q[0] = &L->wo; break;
		case 2: q[0] = &L->gate; q[1] = &L->up; n = 2; break;
		default: q[0] = &L->down; break;
		}
	}
	for (int k = 0; k < n; k++)
		src[k] = (struct npu_wsrc){ .data = q[k]->data, .type = q[k]->type, .rows = q[k]->rows };
	*cols = q[0]->cols;
	return n;
}

static uint64_t qmat_hash(uint64_t h, const struct qmat *q)
{
	int64_t meta[3] = { q->type, q->rows, q->cols };

	h = npu_hash64(h, meta, sizeof(meta));
	return npu_hash64(h, q->data, (size_t)q->rows * q->row_bytes);
}

static uint64_t source_hash(const struct model *m, const struct npu_backend_opts *o)
{
	uint32_t opt[3] = { o ? o->hadamard : 0, o ? o->k_chunk : 0, 1 };
	uint64_t h = npu_hash64(0, opt, sizeof(opt));

	for (int l = 0; l < m->cfg.n_layer; l++) {
		const struct model_layer *L = &m->layers[l];

		h = qmat_hash(h, &L->wq);
		h = qmat_hash(h, &L->wk);
		h = qmat_hash(h, &L->wv);
		h = qmat_hash(h, &L->wo);
		h = qmat_hash(h, &L->gate);
		h = qmat_hash(h, &L->up);
		h = qmat_hash(h, &L->down);
	}
	return qmat_hash(h, &m->output);
}

/* 0: all weights read and checked; -1: no (usable) cache, nothing kept. */
static int cache_read(struct npu_mb *b, const char *path, uint64_t src_hash)
{
	FILE *f = fopen(path, "rb");
	struct cache_head h;
	uint32_t count = (uint32_t)b->m->cfg.n_layer * 4 + 1;
	uint64_t hash = 0, stored;
	char err[256];
	int ok = 0;

	if (!f)
		return -1;
	if (fread(&h, sizeof(h), 1, f) == 1 && h.magic == CACHE_MAGIC && h.src_hash == src_hash &&
	    h.count == count) {
		ok = 1;
		for (uint32_t i = 0; i < count && ok; i++) {
			*slot(b, i) = npu_weight_read(b->be, f, &hash, err, sizeof(err));
			ok = *slot(b, i) != NULL;
		}
		ok = ok && fread(&stored, sizeof(stored), 1, f) == 1 && stored == hash;
	}
	fclose(f);
	if (ok)
		return 0;
	for (uint32_t i = 0; i < count; i++) {
		npu_weight_free(b->be, *slot(b, i));
		*slot(b, i) = NULL;
	}
	return -1;
}

static void cache_write(struct npu_mb *b, const char *path, uint64_t src_hash)
{
	struct cache_head h = { .magic = CACHE_MAGIC, .src_hash = src_hash,
				.count = (uint32_t)b->m->cfg.n_layer * 4 + 1 };
	char tmp[4096];
	uint64_t hash = 0;
	FILE *f;
	int bad = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return;
	bad |= fwrite(&h, sizeof(h), 1, f) != 1;
	for (uint32_t i = 0; i < h.count && !bad; i++)
		bad |= npu_weight_write(*slot(b, i), f, &hash);
	bad |= fwrite(&hash, sizeof(hash), 1, f) != 1;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path))
		remove(tmp);
}

static void prog(void *arg, uint64_t done, uint64_t total)
{
	struct npu_mb *b = arg;

	(void)total;
	if (b->progress)
		b->progress(b->progress_arg, b->done + done, b->total);
}

/* Prepare slot i from the model's matrices. */
static struct npu_weight *load(struct npu_mb *b, uint32_t i, char *err, size_t err_len)
{
	struct npu_wsrc src[3];
	int64_t cols;
	int n = slot_src(b->m, i, src, &cols);
	struct npu_weight *w = npu_weight_load_fused(b->be, src, n, cols, prog, b, err, err_len);

	for (int k = 0; k < n; k++)
		b->done += (uint64_t)src[k].rows;
	return w;
}

/* The row split of every weight (npu_weight_set_cpu_share), from the model's matrices. */
static int set_cpu_share(struct npu_mb *b, double share, char *err, size_t err_len)
{
	uint32_t count = (uint32_t)b->m->cfg.n_layer * 4 + 1;

	for (uint32_t i = 0; i < count; i++) {
		struct npu_wsrc src[3];
		int64_t cols;
		int n = slot_src(b->m, i, src, &cols);

		if (npu_weight_set_cpu_share(b->be, *slot(b, i), src, n, share, err, err_len))
			return -1;
	}
	return 0;
}

/* The site's prepared weight and outputs as one npu_mm; -1 for an unknown site. */
static int site_mm(struct npu_mb *b, int layer, enum model_mm_site site, const float *x,
		   float *const *ys, struct npu_mm *mm, char *err, size_t err_len)
{
	memset(mm, 0, sizeof(*mm));
	mm->x = x;
	switch (site) {
	case MODEL_MM_QKV:
		mm->w = b->L[layer].qkv;
		mm->ys[0] = ys[0];
		mm->ys[1] = ys[1];
		mm->ys[2] = ys[2];
		break;
	case MODEL_MM_O:
		mm->w = b->L[layer].o;
		break;
	case MODEL_MM_GATE_UP:
		mm->w = b->L[layer].gate_up;
		mm->ys[0] = ys[0];
		mm->ys[1] = ys[1];
		break;
	case MODEL_MM_DOWN:
		mm->w = b->L[layer].down;
		break;
	case MODEL_MM_OUTPUT:
		mm->w = b->out;
		break;
	default:
		snprintf(err, err_len, "npu: unknown matmul site %d", (int)site);
		return -1;
	}
	if (!mm->ys[0])
		mm->y = ys[0];
	return 0;
}

static int mb_matmul(struct model_backend *base, int layer, enum model_mm_site site,
		     const float *x, int M, float *const *ys, char *err, size_t err_len)
{
	struct npu_mb *b = (struct npu_mb *)base;
	struct npu_mm mm;

	if (site_mm(b, layer, site, x, ys, &mm, err, err_len))
		return -1;
	return npu_matmul_batch(b->be, &mm, 1, M, err, err_len);
}

static int mb_submit(struct model_backend *base, int layer, enum model_mm_site site,
		     const float *x, int M, float *const *ys, char *err, size_t err_len)
{
	struct npu_mb *b = (struct npu_mb *)base;
	struct npu_mm mm;

	if (site_mm(b, layer, site, x, ys, &mm, err, err_len))
		return -1;
	return npu_matmul_submit(b->be, &mm, 1, M, err, err_len);
}

static int mb_wait(struct model_backend *base, int ticket, char *err, size_t err_len)
{
	return npu_matmul_wait(((struct npu_mb *)base)->be, ticket, err, err_len);
}

static void mb_summary(struct model_backend *base, char *buf, size_t len)
{
	struct npu_mb *b = (struct npu_mb *)base;
	const struct npu_stats *st = npu_backend_stats(b->be);

	snprintf(buf, len,
		 "npu: %s; %llu matrices, %.1f MB int8 resident; %llu SUBMIT_MATMUL ioctls, %llu "
		 "descriptors, %.2f GMAC; CPU quantise %.1f ms, submit %.1f ms, wait %.1f ms, "
		 "unpack %.1f ms", npu_backend_describe(b->be), (unsigned long long)st->weights,
		 st->weight_bytes / 1e6, (unsigned long long)st->ioctls,
		 (unsigned long long)st->descs, st->macs / 1e9, st->t_quant * 1e3,
		 st->t_submit * 1e3, st->t_wait * 1e3, st->t_unpack * 1e3);
	if (st->cpu_bytes && strlen(buf) + 1 < len)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 "; CPU row share %.1f ms (%.1f MB of GGUF weights read)", st->t_cpu * 1e3,
			 st->cpu_bytes / 1e6);
}

static void mb_destroy(struct model_backend *base)
{
	struct npu_mb *b = (struct npu_mb *)base;

	if (!b)
		return;
	if (b->L)
		for (int l = 0; l < b->m->cfg.n_layer; l++) {
			npu_weight_free(b->be, b->L[l].qkv);
			npu_weight_free(b->be, b->L[l].o);
			npu_weight_free(b->be, b->L[l].gate_up);
			npu_weight_free(b->be, b->L[l].down);
		}
	npu_weight_free(b->be, b->out);
	free(b->L);
	npu_backend_close(b->be);
	free(b);
}

struct npu_backend *npu_model_backend_npu(struct model_backend *b)
{
	return ((struct npu_mb *)b)->be;
}

int npu_model_backend_cached(struct model_backend *b)
{
	return ((struct npu_mb *)b)->cached;
}

struct model_backend *npu_model_backend_new(const struct model *m, const struct npu_backend_opts *o,
					    const char *cache, npu_progress_fn progress,
					    void *progress_arg, char *err, size_t err_len)
{
	uint64_t src_hash = 0;

	struct npu_mb *b = calloc(1, sizeof(*b));
	const struct model_config *cfg = &m->cfg;

	if (!b) {
		snprintf(err, err_len, "npu: out of memory");
		return NULL;
	}
	b->base.name = "npu";
	b->base.matmul = mb_matmul;
	b->base.submit = mb_submit;
	b->base.wait = mb_wait;
	b->base.summary = mb_summary;
	b->base.destroy = mb_destroy;
	b->m = m;
	b->progress = progress;
	b->progress_arg = progress_arg;
	b->be = npu_backend_open(o, err, err_len);
	if (!b->be) {
		free(b);
		return NULL;
	}
	b->L = calloc((size_t)cfg->n_layer, sizeof(*b->L));
	if (!b->L) {
		snprintf(err, err_len, "npu: out of memory");
		goto fail;
	}
	for (int l = 0; l < cfg->n_layer; l++) {
		const struct model_layer *L = &m->layers[l];

		b->total += (uint64_t)(L->wq.rows + L->wk.rows + L->wv.rows + L->wo.rows +
				       L->gate.rows + L->up.rows + L->down.rows);
	}
	b->total += (uint64_t)m->output.rows;
	if (cache && (!o || !o->dry)) {
		src_hash = source_hash(m, o);
		if (!cache_read(b, cache, src_hash)) {
			b->cached = 1;
			if (progress)
				progress(progress_arg, b->total, b->total);
			if (o->cpu_share > 0 && set_cpu_share(b, o->cpu_share, err, err_len))
				goto fail;
			return &b->base;
		}
	}
	for (uint32_t i = 0; i < (uint32_t)cfg->n_layer * 4 + 1; i++)
		if (!(*slot(b, i) = load(b, i, err, err_len)))
			goto fail;
	if (cache && (!o || !o->dry))
		cache_write(b, cache, src_hash);
	if (o && o->cpu_share > 0 && set_cpu_share(b, o->cpu_share, err, err_len))
		goto fail;
	return &b->base;
fail:
	mb_destroy(&b->base);
	return NULL;
}
