/* SPDX-License-Identifier: MIT */
/*
 * Token sampling over a row of logits, in llama.cpp's default order:
 * repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw.
 * temp <= 0 is greedy (argmax after the penalty). The random draw uses a
 * seeded xorshift64* generator, so a seed reproduces a run exactly.
 */
#ifndef ROSENBLATT_SAMPLER_H
#define ROSENBLATT_SAMPLER_H

#include <stdint.h>

struct sampler_params {
	float temp;		/* <= 0: greedy */
	int top_k;		/* <= 0: off */
	float top_p;		/* >= 1: off */
	float min_p;		/* <= 0: off */
	float repeat_penalty;	/* 1: off */
	int repeat_last_n;	/* tokens of history the penalty looks at */
	uint64_t seed;
};

/* llama-cli's defaults: 0.8, 40, 0.95, 0.05, 1.0, 64 */
void sampler_params_default(struct sampler_params *p);

struct sampler_cand {
	int32_t id;
	float logit;
	float p;
};

struct sampler {
	struct sampler_params p;
	int n_vocab;
	uint64_t rng;
	struct sampler_cand *cand;	/* n_vocab */
	int32_t *hist;			/* ring of the last repeat_last_n tokens */
	int n_hist, hist_pos;
};

struct sampler *sampler_new(const struct sampler_params *p, int n_vocab);
void sampler_free(struct sampler *s);

/* Record a token of the sequence (prompt or generated) for the penalty. */
void sampler_accept(struct sampler *s, int32_t id);

/* Pick the next token from logits (n_vocab floats, left unchanged). */
int32_t sampler_sample(struct sampler *s, const float *logits);
/* Greedy: the first index of the largest of n logits (0 when n <= 0 or x[0] is NaN). */
int32_t sampler_argmax(const float *x, int n);

/* Uniform float in [0, 1) from the sampler's generator. */
float sampler_uniform(struct sampler *s);

#endif
