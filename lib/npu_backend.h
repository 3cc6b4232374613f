/* SPDX-License-Identifier: MIT */
/*
 * NPU backend: int8 matmuls on the RK3588 NPU through the rocket uAPI
 * (DRM_IOCTL_ROCKET_SUBMIT_MATMUL, libdrm + ioctls only; docs/npu-backend.md).
 *
 * Weights are quantised once at load to int8 per output channel
 * (symmetric, one float scale per row of W), packed into the NPU weight
 * layout in GEM buffers that stay resident. Per call, activations are
 * quantised to int8 per row (per token), packed, and all matmuls of the
 * call go to the device in one SUBMIT_MATMUL ioctl (several descriptors);
 * the int32 results are rescaled on the CPU:
 *
 *     y[m][n] = acc[m][n] * a_scale[m] * w_scale[n] + bias[n]
 *
 * The backend never calls the simulator or the regcmd generator: what runs
 * against the emulated device (LD_PRELOAD build/librocket-shim.so) is what
 * runs on the board. A "dry" backend (no device) runs the same planning and
 * counts what it would submit, for the performance model.
 */
#ifndef ROSENBLATT_NPU_BACKEND_H
#define ROSENBLATT_NPU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* act_hilo applies to calls of at most this many rows. */
#define NPU_HILO_MAX_M 8
/* Matrices one prepared weight can stack (e.g. Q, K, V). */
#define NPU_MAX_SUB 4
/* The kernel splits a matmul over its cores from this many MACs on. */
#define NPU_KERNEL_SPLIT_MACS (1ull << 24)
/* Largest K of one NPU matmul (int8: DATAIN_CHANNEL_REAL is 14 bits). */
#define NPU_MAX_K 16384
/* Descriptors per SUBMIT_MATMUL ioctl (the kernel's limit). */
#define NPU_MAX_DESCS 64

struct npu_backend;
struct npu_weight;
struct threadpool;

/* Called during weight preparation: done of total rows of this matrix. */
typedef void (*npu_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Called with every descriptor array just before it is submitted. */
struct drm_rocket_matmul;
typedef void (*npu_submit_hook)(void *arg, const struct drm_rocket_matmul *mm, unsigned count);

struct npu_backend_opts {
	const char *device;	/* NULL: $ROCKET_ACCEL_DEV, else scan /dev/accel/accel0..63 */
	bool dry;		/* no device: plan and count only (results are 0) */
	uint32_t k_chunk;	/* max K per descriptor, multiple of 32 (0: NPU_MAX_K) */
	/*
	 * Split each matmul over up to this many descriptors by N (own C
	 * buffers, so the kernel can run them on different cores) when it is
	 * below the kernel's own split threshold; 0 or 1: no split.
	 */
	uint32_t n_split;
	uint32_t n_split_min_macs;	/* only matmuls of at least this many MACs (0: 2^20) */
	/*
	 * Block-Hadamard rotation of K (outlier smoothing): W' = W H, x' = H x
	 * with H a normalised Sylvester Hadamard of the largest power of two
	 * dividing K, at most this size (0: off). Exact in real arithmetic;
	 * spreads activation outliers before the int8 rounding.
	 */
	uint32_t hadamard;
	/*
	 * Pad a one-row (decode) matmul to M = 4 when that lifts it to the
	 * kernel's split threshold (2^24 MACs, docs/kernel.md), so the kernel
	 * runs it on all cores. The extra rows cost MACs, no weight traffic.
	 */
	bool pad_for_split;
	/*
	 * Decode-sized calls (at most NPU_HILO_MAX_M rows): ask the kernel to
	 * spread every matmul over its cores (DRM_ROCKET_MATMUL_SPLIT) even
	 * below its own split size, so that each core streams a share of the
	 * weights. A kernel that lacks the flag refuses the call (-EINVAL).
	 */
	bool split_decode;
	/*
	 * Cores the kernel splits over (0: 3, RK3588). With M > 1 the backend
	 * submits the row tiles of a big matmul as groups the kernel can
	 * spread evenly (3 tiles as one descriptor, a 4th on its own) instead
	 * of letting it give one core 2 of 4 tiles.
	 */
	uint32_t cores;
	/*
	 * Activations as two int8 rows each ("hi" x ~ s q1, "lo" the residual
	 * x - s q1 ~ (s/254) q2): ~15-bit activation precision for 2x the
	 * MACs and no extra weight traffic (decode is bandwidth-bound). The
	 * rows of a call are submitted as 2M rows. Only for calls of at most
	 * NPU_HILO_MAX_M rows (decode); bigger ones (prefill, compute-bound)
	 * stay plain int8.
	 */
	bool act_hilo;
	bool no_row_groups;	/* off switch for the above */
	/*
	 * Model backends (lib/npu_model.c): the share of every weight's rows
	 * the CPU computes in decode calls (npu_weight_set_cpu_share); 0: none.
	 */
	double cpu_share;
	struct threadpool *tp;	/* optional: activation quantisation and unpacking in parallel */
	npu_submit_hook on_submit;	/* optional */
	void *on_submit_arg;
};

/* What the backend did so far (also valid for a dry backend). */
struct npu_stats {
	uint64_t calls;		/* npu_matmul_batch() calls */
	uint64_t ioctls;	/* SUBMIT_MATMUL ioctls */
	uint64_t descs;		/* descriptors submitted */
	uint64_t macs;		/* M*K*N over descriptors, padded */
	uint64_t a_bytes;	/* packed activation bytes written by the CPU */
	uint64_t b_bytes;	/* weight bytes the descriptors name */
	uint64_t c_bytes;	/* int32 result bytes read back */
	uint64_t waits;		/* PREP_BO waits on results */
	double t_quant;		/* seconds: rotate + quantise + pack A */
	double t_submit;	/* seconds in the SUBMIT_MATMUL ioctl */
	double t_wait;		/* seconds waiting for results (PREP_BO) */
	double t_unpack;	/* seconds: unpack + rescale (+ bias) */
	uint64_t cpu_bytes;	/* source weight bytes the CPU read for its rows */
	uint64_t cpu_macs;	/* M*K*rows the CPU computed */
	double t_cpu;		/* seconds computing the CPU's rows (overlaps the NPU) */
	uint64_t weight_bytes;	/* resident packed weights */
	uint64_t weights;	/* matrices prepared */
};

/*
 * Open the device, check the driver (rocket, version >= 1.1) and probe
 * SUBMIT_MATMUL with an empty call. NULL on failure with a one-line reason
 * in err, e.g. the kernel lacking SUBMIT_MATMUL or no device at all.
 * o may be NULL (defaults).
 */
struct npu_backend *npu_backend_open(const struct npu_backend_opts *o, char *err, size_t err_len);
void npu_backend_close(struct npu_backend *be);

/* "rocket 1.1.0 (desc) on /dev/accel/accel0", or "dry run". */
const char *npu_backend_describe(const struct npu_backend *be);
const struct npu_stats *npu_backend_stats(const struct npu_backend *be);
void npu_backend_reset_stats(struct npu_backend *be);

/* Types npu_weight_load() reads (any that lib/quant.c dequantises, F32, F16, BF16). */
bool npu_weight_type_supported(uint32_t ggml_type);

/*
 * Prepare W (rows x cols of ggml_type, row-major as in GGUF: rows = output
 * features N, cols = input features K): dequantise row by row, int8 per
 * row, NPU layout, into a resident buffer. data may be NULL for a dry
 * backend (shape only). progress may be NULL. NULL with a reason on error.
 */
struct npu_weight *npu_weight_load(struct npu_backend *be, const void *data, uint32_t ggml_type,
				   int64_t rows, int64_t cols, npu_progress_fn progress,
				   void *progress_arg, char *err, size_t err_len);
/*
 * Several matrices with the same cols stacked along N into one prepared
 * weight (one descriptor per call instead of n; bigger matmuls that the
 * kernel splits over its cores): Q/K/V, gate/up. Results go to
 * npu_mm.ys[i] (and biases[i]).
 */
struct npu_wsrc {
	const void *data;	/* NULL for a dry backend */
	uint32_t type;
	int64_t rows;
};
struct npu_weight *npu_weight_load_fused(struct npu_backend *be, const struct npu_wsrc *src,
					 int n, int64_t cols, npu_progress_fn progress,
					 void *progress_arg, char *err, size_t err_len);
void npu_weight_free(struct npu_backend *be, struct npu_weight *w);

/*
 * Packed-weight cache: write a prepared weight (shape, scales, NPU image)
 * to f, or read one back into a new resident buffer. *hash is updated over
 * every byte (npu_hash64) so the caller can checksum a whole file. The
 * reader checks the shape against the backend's options. 0 / NULL on error.
 */
int npu_weight_write(const struct npu_weight *w, FILE *f, uint64_t *hash);
struct npu_weight *npu_weight_read(struct npu_backend *be, FILE *f, uint64_t *hash, char *err,
				   size_t err_len);
/* A fast 64-bit hash of n bytes, continuing from h (start with 0). */
uint64_t npu_hash64(uint64_t h, const void *p, size_t n);

/*
 * Row split for decode: for calls of at most NPU_HILO_MAX_M rows the NPU
 * computes only the first rows of w (a multiple of 32, about 1 - share of
 * them) and the CPU the others, from src (the same matrices, in their GGUF
 * encoding, as given to npu_weight_load_fused) with lib/ops.h's kernels,
 * while the NPU runs. Decode is bound by memory bandwidth, and the CPU
 * reads its rows in their GGUF encoding (Q4_K: 4.5 bits per weight) instead
 * of int8, so a token moves fewer bytes. Calls with more rows (prefill)
 * still run every row on the NPU. share 0 turns it off. src must stay
 * valid (mapped) as long as w. 0, or -1 with a reason in err.
 */
int npu_weight_set_cpu_share(struct npu_backend *be, struct npu_weight *w,
			     const struct npu_wsrc *src, int n, double share, char *err,
			     size_t err_len);
/* Rows of w the NPU computes for a decode call (all rows without a split). */
int64_t npu_weight_npu_rows(const struct npu_weight *w);

int64_t npu_weight_rows(const struct npu_weight *w);
int64_t npu_weight_cols(const struct npu_weight *w);
/* Bytes of NPU memory the packed matrix occupies. */
uint64_t npu_weight_nbytes(const struct npu_weight *w);
/*
 * Row n as the NPU sees it: int8 values (cols of them, rotated when the
 * backend rotates) and its scale. For tests. 0, or -1 (dry / bad row).
 */
int npu_weight_row_q(const struct npu_weight *w, int64_t n, int8_t *q, float *scale);

/*
 * One matmul of a batch: y = W x (+ bias) for M rows. For a fused weight,
 * ys[i]/biases[i] receive stacked matrix i (M x its rows); y and bias are
 * aliases of ys[0] and biases[0] for a plain one.
 */
struct npu_mm {
	const struct npu_weight *w;
	const float *x;		/* M x cols, row-major; matmuls may share x */
	float *y;		/* M x rows, row-major */
	const float *bias;	/* rows floats, or NULL */
	int32_t *acc;		/* optional: M (act_hilo: 2M) x (all rows) int32 sums of the
				 * rows the NPU computed (tests) */
	float *ys[NPU_MAX_SUB];
	const float *biases[NPU_MAX_SUB];
};

/*
 * Run count matmuls over the same M rows: activations quantised once per
 * distinct x, every matmul's descriptors in as few SUBMIT_MATMUL ioctls as
 * the limit allows (one for count * parts <= 64), results waited for and
 * rescaled in order. Returns 0, or -1 with a reason in err.
 */
int npu_matmul_batch(struct npu_backend *be, const struct npu_mm *mm, int count, int64_t M,
		     char *err, size_t err_len);

/*
 * The same in two steps, so the CPU can work while the NPU runs: submit
 * quantises and packs the activations (x may be overwritten as soon as it
 * returns) and queues the call; it returns a ticket (>= 0) or -1 with a
 * reason. wait reads the results into the outputs (which must stay valid
 * until then). At most 4 calls may be in flight; tickets are waited for in
 * the order they were submitted. A failed submit queues nothing; wait for
 * the earlier tickets anyway before freeing their outputs.
 */
int npu_matmul_submit(struct npu_backend *be, const struct npu_mm *mm, int count, int64_t M,
		      char *err, size_t err_len);
int npu_matmul_wait(struct npu_backend *be, int ticket, char *err, size_t err_len);
/* Calls submitted and not yet waited for. */
int npu_matmul_in_flight(const struct npu_backend *be);

/*
 * The activation quantisation the backend uses, for tests: x (K floats,
 * already rotated if the backend rotates) -> q (K int8), returns the scale
 * (x = q * scale). amax 0 gives scale 0 and q all 0; a NaN element gives
 * q 0 (NaNs are ignored for amax; an infinite one zeroes the row).
 */
float npu_quantize_row(const float *x, int64_t K, int8_t *q);
/* In-place block Hadamard of n floats (hb a power of two dividing n). */
void npu_hadamard(float *x, int64_t n, uint32_t hb);
/* The block size the backend uses for K (0: no rotation). */
uint32_t npu_backend_hadamard_block(const struct npu_backend *be, int64_t K);

#ifdef __cplusplus
}
#endif

#endif
