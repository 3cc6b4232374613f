/* SPDX-License-Identifier: MIT */
/*
 * Prompt lookup: draft tokens for speculative greedy decoding, taken from
 * the context itself. If the context's last n tokens occurred before, the
 * tokens that followed them then are a guess at what follows now; the model
 * checks the guess in one batched step (rosenblatt-gen --lookup). Decode is
 * memory-bound on the CPU and on the NPU, so checking a few tokens costs
 * about as much as computing one.
 */
#ifndef ROSENBLATT_LOOKUP_H
#define ROSENBLATT_LOOKUP_H

#include <stdint.h>

/*
 * Up to max_draft tokens into draft: the continuation of the most recent
 * earlier occurrence of ctx's last n tokens, for n from ngram_max down to
 * ngram_min (the longest match wins). Returns the number written (0: no
 * match). Pure: reads ctx[0..n_ctx), writes draft only.
 */
int lookup_draft(const int32_t *ctx, int n_ctx, int ngram_min, int ngram_max, int max_draft,
		 int32_t *draft);

#endif
