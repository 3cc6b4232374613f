/* SPDX-License-Identifier: MIT */
/*
 * The matmul backend interface of the model (docs/architecture.md: the model
 * knows a backend interface, not which backend is behind it). The forward
 * pass asks for the weight products at five sites per step; a backend
 * prepares the weights its own way at load (the NPU backend: int8 in NPU
 * buffers, lib/npu_model.c) and batches each site's matrices as it likes.
 * No backend (NULL) is the CPU path of lib/ops.c. Biases, norms, RoPE,
 * attention and sampling stay in the model, on the CPU.
 */
#ifndef ROSENBLATT_MODEL_BACKEND_H
#define ROSENBLATT_MODEL_BACKEND_H

#include <stddef.h>

enum model_mm_site {
	MODEL_MM_QKV,		/* ys: q, k, v (from the attention norm) */
	MODEL_MM_O,		/* ys: attention output projection */
	MODEL_MM_GATE_UP,	/* ys: gate, up (from the FFN norm) */
	MODEL_MM_DOWN,		/* ys: FFN down projection */
	MODEL_MM_OUTPUT,	/* ys: logits (layer ignored) */
	MODEL_MM_SITES,
};

#define MODEL_BACKEND_MAX_INFLIGHT 4

/*
 * On a backend with submit/wait, prompt chunks of at least this many rows
 * run as two pipelined halves (lib/model.c); the first half has this many
 * rows (a multiple of 4, the NPU's row padding). Shared with the
 * performance model (tools/npu-perf-model.c), which replays the schedule.
 */
#define MODEL_PIPE_MIN_ROWS 32
static inline int model_pipe_first_half(int rows)
{
	return (rows / 2 + 3) / 4 * 4;
}

struct model_backend {
	const char *name;
	/*
	 * ys[i] = W_i x for the site's matrices (row-major, M rows; x has M
	 * rows of the site's input width), without bias. 0, or -1 with a
	 * reason in err.
	 */
	int (*matmul)(struct model_backend *b, int layer, enum model_mm_site site, const float *x,
		      int M, float *const *ys, char *err, size_t err_len);
	/*
	 * Optional (NULL: not offered): the same in two steps, so the model can
	 * work on other rows while the device runs. submit reads x before it
	 * returns and gives a ticket (>= 0), or -1 with a reason; wait(ticket)
	 * fills the ys given to submit. Tickets are waited for in submission
	 * order; at most MODEL_BACKEND_MAX_INFLIGHT at a time.
	 */
	int (*submit)(struct model_backend *b, int layer, enum model_mm_site site, const float *x,
		      int M, float *const *ys, char *err, size_t err_len);
	int (*wait)(struct model_backend *b, int ticket, char *err, size_t err_len);
	/* One line about the backend's work so far (timing summaries), or NULL. */
	void (*summary)(struct model_backend *b, char *buf, size_t len);
	void (*destroy)(struct model_backend *b);
};

#endif
