// SPDX-License-Identifier: MIT
/*
 * The NPU model backend inside the forward pass (TAP), on a rocket device
 * (tests/npu_backend_test.sh runs it on the emulated one):
 *   - a prompt chunk pipelined as two halves (submit/wait, CPU work of one
 *     half while the NPU runs the other) gives bit-identical logits to the
 *     one-piece chunk, also for a chunk that starts after cached tokens;
 *   - a CPU row share (decode only) leaves prompt chunks bit-identical and
 *     keeps decode logits as close to the CPU f32 path as all-NPU int8.
 * usage: test_npu_model MODEL.gguf...
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drm/rocket_accel.h>

#include "model.h"
#include "npu_model.h"
#include "tap.h"

#define ok tap_ok

/* KL(softmax(p) || softmax(q)) */
static double kld(const float *p, const float *q, int n)
{
	double mp = p[0], mq = q[0], sp = 0, sq = 0, k = 0;

	for (int i = 1; i < n; i++) {
		mp = p[i] > mp ? p[i] : mp;
		mq = q[i] > mq ? q[i] : mq;
	}
	for (int i = 0; i < n; i++) {
		sp += exp(p[i] - mp);
		sq += exp(q[i] - mq);
	}
	for (int i = 0; i < n; i++) {
		double lp = p[i] - mp - log(sp), lq = q[i] - mq - log(sq);

		k += exp(lp) * (lp - lq);
	}
	return k;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Logits of every position of ids (two chunks: n0 then the rest), pipelined or not. */
static int eval_two(struct model_ctx *c, const int32_t *ids, int n0, int n, float *out,
		    char *err, size_t len)
{
	int V = c->m->cfg.n_vocab;

	model_ctx_truncate(c, 0);
	return model_eval(c, ids, n0, out, true, err, len) ||
	       model_eval(c, ids + n0, n - n0, out + (size_t)n0 * V, true, err, len);
}

/* Descriptors submitted with DRM_ROCKET_MATMUL_SPLIT (npu_backend_opts.on_submit). */
static void count_split(void *arg, const struct drm_rocket_matmul *mm, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		*(unsigned *)arg += !!(mm[i].flags & DRM_ROCKET_MATMUL_SPLIT);
}

static void test_model(const char *path)
{
	char err[512];
	struct model *m = model_load(path, err, sizeof(err));
	const char *name = base_name(path);
	struct model_ctx *c = NULL;
	struct model_backend *be = NULL, *be_share = NULL;
	int32_t ids[128];
	const int n = 90, n0 = 37, V = m ? m->cfg.n_vocab : 0;
	float *a = NULL, *b = NULL;

	if (!m) {
		ok(0, "%s: %s", name, err);
		return;
	}
	for (int i = 0; i < n; i++)
		ids[i] = (int32_t)((i * 7919u + 13) % (unsigned)V);
	a = malloc((size_t)n * V * sizeof(float));
	b = malloc((size_t)n * V * sizeof(float));
	c = model_ctx_new(m, 128, 2, ops_isa_best(), err, sizeof(err));
	if (c) {
		struct npu_backend_opts o = { .hadamard = 64, .tp = c->tp };
		struct npu_backend_opts os = { .hadamard = 64, .tp = c->tp, .cpu_share = 0.5 };

		be = npu_model_backend_new(m, &o, NULL, NULL, NULL, err, sizeof(err));
		if (be)
			be_share = npu_model_backend_new(m, &os, NULL, NULL, NULL, err, sizeof(err));
	}
	if (!c || !be || !be_share || !a || !b) {
		ok(0, "%s: set-up: %s", name, err);
		goto out;
	}
	c->backend = be;

	/* chunks of 37 and 53 rows: both >= 32, so both pipelined */
	c->no_pipeline = true;
	if (eval_two(c, ids, n0, n, a, err, sizeof(err))) {
		ok(0, "%s: one-piece run: %s", name, err);
		goto out;
	}
	c->no_pipeline = false;
	if (eval_two(c, ids, n0, n, b, err, sizeof(err))) {
		ok(0, "%s: pipelined run: %s", name, err);
		goto out;
	}
	ok(!memcmp(a, b, (size_t)n * V * sizeof(float)),
	       "%s: prompt chunks of 37 + 53 rows as pipelined halves: logits bit-identical to "
	       "one-piece chunks", name);

	/* row share: prompt chunk identical; decode steps as close to f32 as all-NPU */
	c->backend = be_share;
	model_ctx_truncate(c, 0);
	if (model_eval(c, ids, n0, b, true, err, sizeof(err))) {
		ok(0, "%s: row-share prompt: %s", name, err);
		goto out;
	}
	ok(!memcmp(a, b, (size_t)n0 * V * sizeof(float)),
	       "%s: CPU row share 0.5: prompt chunk (37 rows) still all on the NPU, identical", name);
	{
		/* vs the CPU f32 path: the CPU rows are more exact than int8 (GGUF
		 * weights, Q8_K activations), so the share must be closer to it */
		struct model_ctx *cf = model_ctx_new(m, 128, 2, ops_isa_best(), err, sizeof(err));
		struct model_ctx *cb = model_ctx_new(m, 128, 2, ops_isa_best(), err, sizeof(err));
		float *lf = malloc((size_t)V * sizeof(float));
		double ea = 0, eb = 0;
		int steps = 16, done = 0;

		/* three contexts, each with its own KV cache: all-NPU (c), share (cb), f32 (cf) */
		if (cf && cb) {
			cf->act8 = cf->ggml_act = false;
			cb->backend = be_share;
			c->backend = be;
			model_ctx_truncate(c, n0);	/* c holds the all-NPU prompt already */
			if (model_eval(cf, ids, n0, NULL, false, err, sizeof(err)) ||
			    model_eval(cb, ids, n0, NULL, false, err, sizeof(err)))
				steps = 0;
		}
		for (int t = 0; cf && cb && lf && t < steps; t++) {
			float *la = a + (size_t)(n0 + t) * V, *lb = b + (size_t)(n0 + t) * V;

			if (model_eval(c, ids + n0 + t, 1, la, false, err, sizeof(err)) ||
			    model_eval(cb, ids + n0 + t, 1, lb, false, err, sizeof(err)) ||
			    model_eval(cf, ids + n0 + t, 1, lf, false, err, sizeof(err)))
				break;
			ea += kld(lf, la, V);
			eb += kld(lf, lb, V);
			done++;
		}
		/* the CPU rows use the GGUF weights (Q8_K activations for K-quants):
		 * an error of the same size as int8's, usually smaller */
		ok(done == steps && steps && eb < 1.25 * ea && eb / done < 0.05,
		   "%s: CPU row share 0.5, %d decode steps: mean KLD vs the CPU f32 path %.3g "
		   "(all-NPU: %.3g)%s%s", name, done, eb / done, ea / done,
		   done == steps ? "" : ": ", done == steps ? "" : err);
		if (cb)
			cb->backend = NULL;
		model_ctx_free(cb);
		model_ctx_free(cf);
		free(lf);
	}
	/* the shared KV cache: both backends ran the same prefix, keep the context consistent */
	model_ctx_truncate(c, 0);
	c->backend = NULL;
	{
		/* DRM_ROCKET_MATMUL_SPLIT: decode steps spread over the cores, the same logits */
		unsigned nsplit = 0;
		struct npu_backend_opts osp = { .hadamard = 64, .tp = c->tp, .split_decode = true,
						.on_submit = count_split, .on_submit_arg = &nsplit };
		struct model_backend *be_split = npu_model_backend_new(m, &osp, NULL, NULL, NULL, err,
								       sizeof(err));
		struct model_ctx *cs = model_ctx_new(m, 128, 2, ops_isa_best(), err, sizeof(err));
		const int steps = 8;
		int done = 0, same = 1;

		if (be_split && cs) {
			c->backend = be;
			cs->backend = be_split;
			for (; done < steps; done++) {
				float *la = a + (size_t)done * V, *lb = b + (size_t)done * V;

				if (model_eval(c, ids + done, 1, la, false, err, sizeof(err)) ||
				    model_eval(cs, ids + done, 1, lb, false, err, sizeof(err)))
					break;
				same &= !memcmp(la, lb, (size_t)V * sizeof(float));
			}
		}
		ok(be_split && cs && done == steps && same && nsplit > 0,
		   "%s: --npu-split-decode (DRM_ROCKET_MATMUL_SPLIT on %u descriptors), %d decode "
		   "steps: logits bit-identical to one core a matmul%s%s", name, nsplit, done,
		   done == steps ? "" : ": ", done == steps ? "" : err);
		if (cs)
			cs->backend = NULL;
		model_ctx_free(cs);
		if (be_split)
			be_split->destroy(be_split);
		model_ctx_truncate(c, 0);
		c->backend = NULL;
	}
out:
	if (c)
		c->backend = NULL;
	if (be)
		be->destroy(be);
	if (be_share)
		be_share->destroy(be_share);
	model_ctx_free(c);
	model_free(m);
	free(a);
	free(b);
}

int main(int argc, char **argv)
{
	char err[512];
	struct npu_backend_opts probe = { 0 };
	struct npu_backend *nb = npu_backend_open(&probe, err, sizeof(err));

	if (!nb) {
		printf("ok 1 - NPU model backend # SKIP %s\n1..1\n", err);
		return 0;
	}
	npu_backend_close(nb);
	for (int i = 1; i < argc; i++)
		test_model(argv[i]);
	return tap_ok_done();
}
