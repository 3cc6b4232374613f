/* SPDX-License-Identifier: MIT */
/*
 * The NPU backend (lib/npu_backend.h) as a model backend (lib/model_backend.h):
 * at creation every matrix of the model is quantised to int8 and packed into
 * NPU buffers (Q/K/V stacked in one weight, gate/up in one), then each
 * forward site is one npu_matmul_batch() call, i.e. one SUBMIT_MATMUL ioctl.
 */
#ifndef ROSENBLATT_NPU_MODEL_H
#define ROSENBLATT_NPU_MODEL_H

#include <stdint.h>

#include "model_backend.h"
#include "npu_backend.h"

struct model;

/*
 * Open the device (o: backend options, may be NULL) and prepare m's
 * weights; progress (may be NULL) gets rows done / total over all
 * matrices. cache (may be NULL): a file of packed weights, read when it
 * matches (a hash of every source matrix and the options, and a checksum
 * of its contents), else written after the preparation. NULL with a reason
 * in err.
 */
struct model_backend *npu_model_backend_new(const struct model *m, const struct npu_backend_opts *o,
					    const char *cache, npu_progress_fn progress,
					    void *progress_arg, char *err, size_t err_len);
/* How the weights got there: 0 prepared, 1 read from the cache. */
int npu_model_backend_cached(struct model_backend *b);
/* The backend behind b (b must come from npu_model_backend_new). */
struct npu_backend *npu_model_backend_npu(struct model_backend *b);

#endif
