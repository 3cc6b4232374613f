// SPDX-License-Identifier: MIT
/*
 * Sampler (see sampler.h). Candidates are kept as (id, logit) pairs;
 * each filter shrinks the list. Top-k uses a partial selection so the
 * common case (k = 40 of 150k) does not sort the whole vocabulary.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

void sampler_params_default(struct sampler_params *p)
{
	p->temp = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->seed = 0;
}

struct sampler *sampler_new(const struct sampler_params *p, int n_vocab)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = *p;
	if (s->p.repeat_last_n < 0)
		s->p.repeat_last_n = 0;
	s->n_vocab = n_vocab;
	/* xorshift64* needs a nonzero state; splitmix the seed into one */
	uint64_t z = p->seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	s->rng = (z ^ (z >> 31)) | 1;
	s->cand = malloc(sizeof(*s->cand) * (size_t)n_vocab);
	s->hist = malloc(sizeof(*s->hist) * (size_t)(s->p.repeat_last_n + 1));
	if (!s->cand || !s->hist) {
		sampler_free(s);
		return NULL;
	}
	return s;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	free(s->cand);
	free(s->hist);
	free(s);
}

void sampler_accept(struct sampler *s, int32_t id)
{
	if (s->p.repeat_last_n == 0)
		return;
	s->hist[s->hist_pos] = id;
	s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
	if (s->n_hist < s->p.repeat_last_n)
		s->n_hist++;
}

float sampler_uniform(struct sampler *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (float)((s->rng * 0x2545f4914f6cdd1dull) >> 40) / 16777216.0f;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct sampler_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit < y->logit ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;	/* stable for equal logits */
}

/* Move the k best candidates to the front, sorted (k << n: selection). */
static void top_k(struct sampler_cand *c, int n, int k)
{
	if (k >= n || k > 256) {
		qsort(c, (size_t)n, sizeof(*c), cand_cmp);
		return;
	}
	/* insertion into a sorted prefix of k: O(n k) worst, O(n) typical */
	int have = 0;

	for (int i = 0; i < n; i++) {
		struct sampler_cand e = c[i];

		if (have == k && cand_cmp(&e, &c[k - 1]) >= 0)
			continue;
		int j = have < k ? have++ : k - 1;

		while (j > 0 && cand_cmp(&e, &c[j - 1]) < 0) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = e;
	}
}

/* p = softmax(logit) over the first n (sorted) candidates */
static void probs(struct sampler_cand *c, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++) {
		c[i].p = expf(c[i].logit - c[0].logit);
		sum += c[i].p;
	}
	for (int i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
}

/*
 * The first index of the largest logit, as the plain loop "x[i] > x[best]"
 * from best = 0 gives, NaNs included: 8 running maxima (no loop-carried
 * compare, so the compiler vectorises it; the vocabulary is 152k logits a
 * token), then the first index holding the maximum.
 */
int32_t sampler_argmax(const float *x, int n)
{
	float m[8], best = -INFINITY;
	int i = 0;

	if (n <= 0 || isnan(x[0]))
		return 0;
	for (int k = 0; k < 8; k++)
		m[k] = -INFINITY;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
	for (int k = 0; k < 8; k++)
		best = m[k] > best ? m[k] : best;
	for (; i < n; i++)
		best = x[i] > best ? x[i] : best;
	for (i = 0; i < n; i++)
		if (x[i] == best)
			return i;
	return 0;
}

int32_t sampler_sample(struct sampler *s, const float *logits)
{
	struct sampler_cand *c = s->cand;
	int n = s->n_vocab;

	if (s->p.temp <= 0 && s->p.repeat_penalty == 1.0f) {
		/* greedy without penalties: the argmax, no candidate copy (decode hot path) */
		return sampler_argmax(logits, n);
	}
	for (int i = 0; i < n; i++) {
		c[i].id = i;
		c[i].logit = logits[i];
	}
	/* llama.cpp's penalty: shrink the logit of each recent token once */
	if (s->p.repeat_penalty != 1.0f) {
		for (int h = 0; h < s->n_hist; h++) {
			int32_t id = s->hist[h];
			bool seen = false;

			for (int g = 0; g < h && !seen; g++)
				seen = s->hist[g] == id;
			if (seen || id < 0 || id >= n)
				continue;
			if (c[id].logit > 0)
				c[id].logit /= s->p.repeat_penalty;
			else
				c[id].logit *= s->p.repeat_penalty;
		}
	}
	if (s->p.temp <= 0) {
		int best = 0;

		for (int i = 1; i < n; i++)
			if (c[i].logit > c[best].logit)
				best = i;
		return c[best].id;
	}
	if (s->p.top_k > 0 && s->p.top_k < n) {
		top_k(c, n, s->p.top_k);
		n = s->p.top_k;
	} else {
		qsort(c, (size_t)n, sizeof(*c), cand_cmp);
	}
	if (s->p.top_p < 1.0f) {
		probs(c, n);
		double cum = 0;

		for (int i = 0; i < n; i++) {
			cum += c[i].p;
			if (cum >= s->p.top_p) {
				n = i + 1;
				break;
			}
		}
	}
	if (s->p.min_p > 0) {
		/* p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p) */
		float cut = c[0].logit + logf(s->p.min_p);
		int keep = 1;

		while (keep < n && c[keep].logit >= cut)
			keep++;
		n = keep;
	}
	for (int i = 0; i < n; i++)
		c[i].logit /= s->p.temp;
	probs(c, n);
	float r = sampler_uniform(s);
	double cum = 0;

	for (int i = 0; i < n; i++) {
		cum += c[i].p;
		if (r < cum)
			return c[i].id;
	}
	return c[n - 1].id;
}
