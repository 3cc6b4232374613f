/* SPDX-License-Identifier: MIT */
/*
 * Decoder-only transformer (GGUF architectures "qwen2" and "llama"):
 * weights used in place from the GGUF mapping, an f32 KV cache, batched
 * forward over M tokens at once. See docs/inference.md.
 *
 * A struct model is read-only after model_load(); each struct model_ctx
 * (KV cache, scratch, thread pool) runs one sequence.
 */
#ifndef ROSENBLATT_MODEL_H
#define ROSENBLATT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_backend.h"
#include "ops.h"
#include "threadpool.h"

#define MODEL_ERR_LEN 512

enum model_arch {
	MODEL_ARCH_QWEN2,
	MODEL_ARCH_LLAMA,
};

struct model_config {
	enum model_arch arch;
	int n_layer;
	int n_embd;
	int n_ff;
	int n_head;
	int n_head_kv;
	int head_dim;		/* n_embd / n_head */
	int n_rot;		/* rope.dimension_count, default head_dim */
	int n_vocab;
	int n_ctx_train;
	float rope_base;
	float norm_eps;
	bool rope_neox;		/* qwen2: NeoX halves; llama: adjacent pairs */
};

struct model_layer {
	const float *attn_norm;
	struct qmat wq, wk, wv, wo;
	const float *bq, *bk, *bv;	/* NULL when absent (llama) */
	const float *ffn_norm;
	struct qmat gate, up, down;
};

struct gguf_ctx;

struct model {
	struct gguf_ctx *gguf;
	bool own_gguf;
	struct model_config cfg;
	struct qmat tok_embd;
	const float *output_norm;
	struct qmat output;		/* == tok_embd when tied */
	bool tied_output;
	struct model_layer *layers;
};

/* Open path and load; NULL with a one-line reason in err. */
struct model *model_load(const char *path, char *err, size_t err_len);
/* Load from an already opened GGUF (kept open, not owned). */
struct model *model_from_gguf(struct gguf_ctx *g, char *err, size_t err_len);
void model_free(struct model *m);

const char *model_arch_name(enum model_arch a);
/* Bytes of weights in the mapping used by the model. */
uint64_t model_weight_bytes(const struct model *m);

struct model_ctx {
	const struct model *m;
	int n_ctx;		/* KV cache capacity in positions */
	int n_past;		/* positions already in the cache */
	int n_batch;		/* max tokens per forward chunk */
	/* run prompt chunks through an async backend in one piece, not as two
	 * pipelined halves (tests: both must give the same logits) */
	bool no_pipeline;
	enum ops_isa isa;
	bool ggml_act;		/* round activations as llama.cpp (ops_matmul_ggml_act) */
	bool act8;		/* Q8_K activations + integer dots for K-quant weights
				 * (ops_matmul_act8; llama.cpp's numerics, faster);
				 * false (default): f32 activations. ggml_act wins. */
	void *xq;		/* act8: xq_src's Q8_K rows, then (at xq_q8_1) its Q8_1 rows */
	size_t xq_q8_1;		/* byte offset of the Q8_1 rows in xq */
	uint32_t xq_made;	/* formats made from xq_src: bit 0 Q8_K, bit 1 Q8_1 */
	const float *xq_src;	/* the buffer xq was made from, NULL: stale */
	struct threadpool *tp;
	float *k_cache;		/* [n_layer][n_ctx][n_head_kv * head_dim] */
	float *v_cache;
	/* scratch for a chunk of n_batch tokens */
	float *x, *xb, *xb2, *q, *k, *v, *att, *hb, *hb2;
	float *scores;		/* [n_threads][n_ctx] */
	float *logits;		/* [n_batch][n_vocab] */
	size_t mem_bytes;	/* cache + scratch */
	/*
	 * Matmul backend (lib/model_backend.h), NULL: the CPU kernels of
	 * lib/ops.c. Not owned; set it before evaluating, e.g. the NPU
	 * (lib/npu_model.h). Its last error is in backend_err.
	 */
	struct model_backend *backend;
	char backend_err[256];
};

/*
 * n_ctx positions of cache (0: min(n_ctx_train, 4096)); n_ctx above the
 * training context is refused. n_threads >= 1. NULL with a reason in err.
 */
struct model_ctx *model_ctx_new(const struct model *m, int n_ctx, int n_threads,
				enum ops_isa isa, char *err, size_t err_len);
/* The same with prompt chunks of up to n_batch tokens (model_ctx_new: 64). */
struct model_ctx *model_ctx_new_batch(const struct model *m, int n_ctx, int n_batch,
				      int n_threads, enum ops_isa isa, char *err, size_t err_len);
void model_ctx_free(struct model_ctx *c);

/* Forget the cache from position n on (0: start a new sequence). */
void model_ctx_truncate(struct model_ctx *c, int n);

/*
 * Run n tokens at positions n_past.. and append them to the cache.
 * logits: NULL, or room for n_vocab floats (all_logits false: the last
 * token's logits) or n * n_vocab (all_logits true: every position in
 * order). Returns 0, or -1 with a reason in err (bad token id, context
 * overflow, allocation failure); on error the cache is unchanged.
 */
int model_eval(struct model_ctx *c, const int32_t *tokens, int n, float *logits,
	       bool all_logits, char *err, size_t err_len);

#endif
