// SPDX-License-Identifier: MIT
/*
 * npu-accuracy: the NPU path (int8 weights per output channel, int8
 * activations per token) against the CPU f32 path of the same model, over a
 * fixed text, teacher-forced: top-1 agreement, KL divergence
 * KL(P_cpu || P_npu) per position, and each path's perplexity on the text.
 * One table row per model and variant (`make accuracy`, docs/npu-backend.md).
 *
 * usage: npu-accuracy [--text FILE] [--max-tokens N] [--hadamard N,...] [--hilo]
 *                     [--cpu-share F] [-t threads] [--goal-kld X --goal-top1 Y] MODEL.gguf...
 * --hilo and --cpu-share add variants that apply to decode-sized calls, so
 * those are evaluated token by token.
 * Needs a rocket device (LD_PRELOAD build/librocket-shim.so for the emulated one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "model.h"
#include "npu_model.h"
#include "sampler.h"
#include "threadpool.h"
#include "tokenizer.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = (size_t)n;
	}
	return buf;
}

/* log-softmax of n logits into out (double) */
static void log_softmax(const float *x, int n, double *out)
{
	double mx = x[0], s = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (int i = 0; i < n; i++)
		s += exp((double)x[i] - mx);
	s = log(s) + mx;
	for (int i = 0; i < n; i++)
		out[i] = (double)x[i] - s;
}

struct row {
	double top1, kld_mean, kld_max, ppl_cpu, ppl_npu;
};

static void compare(const float *lc, const float *ln, const int32_t *ids, int n, int V,
		    struct row *r)
{
	double *a = malloc((size_t)V * sizeof(double)), *b = malloc((size_t)V * sizeof(double));
	double nll_c = 0, nll_n = 0;
	int agree = 0;

	memset(r, 0, sizeof(*r));
	for (int t = 0; t < n; t++) {
		const float *pc = lc + (size_t)t * V, *pn = ln + (size_t)t * V;
		double kl = 0;

		log_softmax(pc, V, a);
		log_softmax(pn, V, b);
		for (int i = 0; i < V; i++)
			kl += exp(a[i]) * (a[i] - b[i]);
		r->kld_mean += kl / n;
		if (kl > r->kld_max)
			r->kld_max = kl;
		agree += sampler_argmax(pc, V) == sampler_argmax(pn, V);
		if (t + 1 < n) {
			nll_c -= a[ids[t + 1]];
			nll_n -= b[ids[t + 1]];
		}
	}
	r->top1 = 100.0 * agree / n;
	r->ppl_cpu = exp(nll_c / (n - 1));
	r->ppl_npu = exp(nll_n / (n - 1));
	free(a);
	free(b);
}

static int run_model(const char *path, const char *text, size_t text_len, int max_tokens,
		     const int *hadamard, int n_had, int hilo, double share, int threads,
		     double goal_kld, double goal_top1, int *goal_fail)
{
	char err[512], name[256];
	struct model *m = model_load(path, err, sizeof(err));
	struct tokenizer *tok;
	struct tok_ids ids = { 0 };
	struct model_ctx *c;
	float *lc, *ln;
	int n, V, rc = 0;
	const char *base = strrchr(path, '/');

	snprintf(name, sizeof(name), "%s", base ? base + 1 : path);
	if (!m) {
		fprintf(stderr, "npu-accuracy: %s: %s\n", path, err);
		return -1;
	}
	V = m->cfg.n_vocab;
	tok = tokenizer_from_gguf(m->gguf, err, sizeof(err));
	if (tok && !tokenizer_encode(tok, text, text_len, 0, &ids, err, sizeof(err))) {
		/* tokenised */
	} else {
		/* no tokenizer this code supports: the text's bytes as ids */
		tok_ids_free(&ids);
		for (size_t i = 0; i < text_len; i++) {
			if (ids.n == ids.cap) {
				ids.cap = ids.cap ? 2 * ids.cap : 256;
				ids.ids = realloc(ids.ids, ids.cap * sizeof(int32_t));
			}
			ids.ids[ids.n++] = (unsigned char)text[i] % V;
		}
	}
	tokenizer_free(tok);
	n = (int)ids.n < max_tokens ? (int)ids.n : max_tokens;
	if (n < 2) {
		fprintf(stderr, "npu-accuracy: text too short\n");
		model_free(m);
		return -1;
	}
	lc = malloc((size_t)n * V * sizeof(float));
	ln = malloc((size_t)n * V * sizeof(float));
	c = model_ctx_new(m, n, threads, ops_isa_best(), err, sizeof(err));
	if (c)
		c->act8 = c->ggml_act = false;	/* the CPU f32 path */
	if (!c || model_eval(c, ids.ids, n, lc, true, err, sizeof(err))) {
		fprintf(stderr, "npu-accuracy: CPU run: %s\n", err);
		rc = -1;
		goto out;
	}
	/* variants: per Hadamard size plain, then a16 (--hilo), then a CPU row share */
	for (int v = 0; v < n_had * (1 + (hilo != 0) + (share > 0)); v++) {
		int h = v % n_had, kind = v / n_had;
		struct npu_backend_opts o = { .hadamard = (uint32_t)hadamard[h], .tp = c->tp,
					      .act_hilo = kind == 1 && hilo,
					      .cpu_share = kind > 0 && (kind == 2 || !hilo) ? share : 0 };
		struct model_backend *be = npu_model_backend_new(m, &o, NULL, NULL, NULL, err,
							    sizeof(err));
		struct row r;
		char variant[64];

		if (!be) {
			fprintf(stderr, "npu-accuracy: %s\n", err);
			rc = -1;
			break;
		}
		model_ctx_truncate(c, 0);
		c->backend = be;
		/* a16 and the row share apply to decode-sized calls: evaluate token by token */
		for (int t0 = 0, step = o.act_hilo || o.cpu_share > 0 ? 1 : n; t0 < n && !rc;
		     t0 += step)
			if (model_eval(c, ids.ids + t0, step, ln + (size_t)t0 * V, true, err,
				       sizeof(err))) {
				fprintf(stderr, "npu-accuracy: NPU run: %s\n", err);
				rc = -1;
			}
		c->backend = NULL;
		be->destroy(be);
		if (rc)
			break;
		compare(lc, ln, ids.ids, n, V, &r);
		snprintf(variant, sizeof(variant), "int8/ch%s", o.act_hilo ? " a16 (decode)" : "");
		if (o.cpu_share > 0)
			snprintf(variant + strlen(variant), sizeof(variant) - strlen(variant),
				 " CPU rows %.2g", o.cpu_share);
		if (hadamard[h])
			snprintf(variant + strlen(variant), sizeof(variant) - strlen(variant),
				 " + Hadamard %d", hadamard[h]);
		printf("| %-32s | %-28s | %4d | %6.2f %% | %9.5f | %8.4f | %8.3f | %8.3f |\n", name,
		       variant, n, r.top1, r.kld_mean, r.kld_max, r.ppl_cpu, r.ppl_npu);
		fflush(stdout);
		if ((goal_kld > 0 && r.kld_mean > goal_kld) || (goal_top1 > 0 && r.top1 < goal_top1))
			(*goal_fail)++;
	}
out:
	model_ctx_free(c);
	free(lc);
	free(ln);
	tok_ids_free(&ids);
	model_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	const char *text_path = "tests/npu/accuracy.txt";
	int max_tokens = 256, threads = 2, had[8] = { 0 }, n_had = 1, goal_fail = 0, rc = 0;
	int hilo = 0;
	double share = 0;
	double goal_kld = 0, goal_top1 = 0;
	char *text;
	size_t text_len;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--text") && i + 1 < argc) {
			text_path = argv[++i];
		} else if (!strcmp(argv[i], "--max-tokens") && i + 1 < argc) {
			max_tokens = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			threads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--hilo")) {
			hilo = 1;
		} else if (!strcmp(argv[i], "--cpu-share") && i + 1 < argc) {
			share = atof(argv[++i]);
			if (!(share >= 0 && share < 1)) {
				fprintf(stderr, "npu-accuracy: --cpu-share must be in [0, 1)\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--goal-kld") && i + 1 < argc) {
			goal_kld = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--goal-top1") && i + 1 < argc) {
			goal_top1 = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--hadamard") && i + 1 < argc) {
			char *s = argv[++i], *e;

			n_had = 0;
			while (*s && n_had < 8) {
				had[n_had++] = (int)strtol(s, &e, 10);
				s = *e == ',' ? e + 1 : e;
				if (e == s && *s)
					break;
			}
		} else {
			fprintf(stderr, "usage: npu-accuracy [--text FILE] [--max-tokens N] "
				"[--hadamard 0,64,...] [--hilo] [--cpu-share F] [-t N] "
				"[--goal-kld X --goal-top1 Y] "
				"MODEL...\n");
			return 2;
		}
	}
	if (i >= argc || threads < 1 || max_tokens < 2) {
		fprintf(stderr, "npu-accuracy: no model given\n");
		return 2;
	}
	text = read_file(text_path, &text_len);
	if (!text) {
		fprintf(stderr, "npu-accuracy: cannot read %s\n", text_path);
		return 2;
	}
	printf("NPU (emulated or real device) vs CPU f32, teacher-forced over %s\n", text_path);
	printf("| %-32s | %-28s | %4s | %8s | %9s | %8s | %8s | %8s |\n", "model", "NPU variant",
	       "toks", "top-1", "mean KLD", "max KLD", "PPL cpu", "PPL npu");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------------",
	       "------------------------------", "------", "----------", "-----------", "----------",
	       "----------", "----------");
	for (; i < argc; i++)
		if (run_model(argv[i], text, text_len, max_tokens, had, n_had, hilo, share, threads,
			      goal_kld, goal_top1, &goal_fail))
			rc = 1;
	free(text);
	if (goal_fail)
		printf("%d row(s) miss the goal (mean KLD <= %g, top-1 >= %g %%)\n", goal_fail,
		       goal_kld, goal_top1);
	return rc;
}
