/* SPDX-License-Identifier: MIT */
/*
 * CPU kernels for the transformer forward pass. Weights stay in their GGUF
 * encoding (F32, F16, BF16, Q4_0..Q8_0, K-quants; Q4_K and Q6_K optionally
 * also as an 8-row interleaved copy made at load, qmat_repack); a matmul
 * dequantises one weight row at a time into a per-thread f32 buffer and
 * dots it with every activation row (f32 accumulate), so a batch of M
 * tokens reads each weight row once. The reference kernels are plain C; the AVX2/FMA and
 * NEON variants must agree with them to float rounding (tests/test_model.c).
 */
#ifndef ROSENBLATT_OPS_H
#define ROSENBLATT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "threadpool.h"

/* A 2-D weight matrix in the mapping: rows of cols elements of type. */
struct block_q8_K;

struct qmat {
	const void *data;
	uint32_t type;		/* enum ggml_type */
	int64_t rows;		/* ne[1]: output features */
	int64_t cols;		/* ne[0]: input features */
	size_t row_bytes;
	/* owned copy of a Q4_K or Q6_K matrix in 8-row interleaved
	 * super-blocks (struct block_q4_Kx8 / block_q6_Kx8, qmat_repack), or
	 * NULL; the AVX2 act8 matmuls read only it when set (every M, so
	 * batches and chunks agree) */
	void *rep;
};

/*
 * Q4_K super-block i of 8 consecutive rows, interleaved for the 8-row
 * decode kernel (llama.cpp's CPU "repack" idea): the 6-bit scales and mins
 * decoded at load, and for each 4 weights (bytes) of a row the same 4 of
 * the other 7 rows next to them, so one broadcast activation dword meets 8
 * rows in one vector. 1184 bytes for 8 x 144.
 */
struct block_q4_Kx8 {
	uint16_t d[8], dmin[8];		/* f16, row r */
	uint8_t sc[8][8];		/* [group of 32][row] */
	uint8_t mn[4][8][2];		/* [group pair k][row]: mins of groups 2k, 2k+1 */
	uint8_t qs[4][8][8][4];		/* [j][c][row]: the row's qs[32 j + 4 c .. + 3] */
};
_Static_assert(sizeof(struct block_q4_Kx8) == 1184, "block_q4_Kx8 size");

/*
 * Q6_K super-block i of 8 consecutive rows, interleaved the same way: the
 * row's 6-bit packing is kept (so 1680 bytes for 8 x 210), each 4 bytes of
 * its ql and qh next to the same 4 of the other 7 rows, in the order the
 * kernel reads them (the 3 sources of 16 weights of each row, then the
 * next 4 columns); the int8 scales transposed to [sub-block][row] and the
 * f16 d side by side.
 */
struct block_q6_Kx8 {
	uint16_t d[8];			/* f16, row r */
	int8_t sc[16][8];		/* [sub-block of 16][row] */
	/* [n][j][0][row]: the row's ql[64 n + 4 j .. + 3] (quarters 0, 2 of
	 * half n), [1]: ql[64 n + 32 + 4 j ..] (1, 3), [2]: qh[32 n + 4 j ..] */
	uint8_t q[2][8][3][8][4];
};
_Static_assert(sizeof(struct block_q6_Kx8) == 1680, "block_q6_Kx8 size");

enum ops_isa {
	OPS_ISA_REF = 0,	/* portable C */
	OPS_ISA_AVX2,		/* x86-64 AVX2 + FMA + F16C, chosen at run time */
	OPS_ISA_NEON,		/* aarch64 */
	OPS_ISA_COUNT,
};

bool ops_isa_available(enum ops_isa isa);
enum ops_isa ops_isa_best(void);
const char *ops_isa_name(enum ops_isa isa);

/* Weight types the matmul handles (those lib/quant.c dequantises). */
bool ops_type_supported(uint32_t type);

/* Fill qm from raw data; false when the row size is not whole blocks. */
bool qmat_init(struct qmat *qm, const void *data, uint32_t type, int64_t rows, int64_t cols);

/*
 * y[m * w->rows + r] = sum_c W[r][c] * x[m * w->cols + c] for m < M.
 * Rows are split over the pool's threads. Returns 0, -1 on bad type or
 * allocation failure.
 */
int ops_matmul(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
	       const float *x, int64_t M, float *y);

/*
 * The same, but first round each activation row the way ggml's CPU backend
 * does before its dot product for w's type (F16 -> F16, BF16 -> BF16,
 * Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 -> 8-bit blocks of 32, K-quants -> Q8_K).
 * Emulates llama.cpp's numerics for a tight comparison; slower.
 */
int ops_matmul_ggml_act(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
			const float *x, int64_t M, float *y);

/*
 * 8-bit activations ("act8", llama.cpp's numerics and speed): the
 * activation rows are quantised once per input and the dots run in
 * integers, as ggml's vec_dot kernels do. The format depends on the
 * weight type (ops_act8_format): Q4_K and Q6_K meet Q8_K rows (ggml's
 * quantize_row_q8_K_ref; ggml_vec_dot_q4_K_q8_K / _q6_K_q8_K), the blocks
 * of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) meet struct ops_block_q8_1 rows
 * (quantize_row_q8_0_ref's d and qs; ggml_vec_dot_q5_0_q8_0 etc.); every
 * other weight type keeps f32 activations (ops_matmul). The K-quant result
 * equals ops_matmul_ggml_act() up to float summation order; for the blocks
 * of 32 ggml's x86 build rounds x by 127/amax with ties to even, we by 1/d
 * with ties away (its generic and our reference quantiser), so a rare
 * element on a rounding boundary differs by one step.
 */

/* ggml's block_q8_1 values: x = d * qs; s = fp16(d * sum(qs)) with d
 * before its f16 rounding (the min term of Q4_1/Q5_1: m_w * s). d and s
 * are f16 values stored as floats, so the kernels need no conversion per
 * block and activation row. */
struct ops_block_q8_1 {
	float d, s;
	int8_t qs[32];		/* in [-127, 127] */
};
_Static_assert(sizeof(struct ops_block_q8_1) == 40, "ops_block_q8_1 size");

/* GGML_TYPE_Q8_K, GGML_TYPE_Q8_1 (struct ops_block_q8_1) or GGML_TYPE_F32 (none) */
uint32_t ops_act8_format(uint32_t weight_type);
bool ops_act8_type(uint32_t weight_type);
/* w has an act8 format and whole blocks of it per row (Q8_K: cols % 256) */
bool ops_act8_ok(const struct qmat *w);
/* Bytes of M x cols activations in format fmt (whole blocks of cols). */
size_t ops_act8_bytes(uint32_t fmt, int64_t M, int64_t cols);
/* x (M rows of cols) -> fmt rows in q; rows split over the pool. Every ISA
 * gives the reference's bytes (quantize_row_q8_K_ref, or
 * ops_quantize_row_q8_1_ref) for finite x. */
void ops_quantize_act8(struct threadpool *tp, enum ops_isa isa, uint32_t fmt, const float *x,
		       int64_t M, int64_t cols, void *q);
/* the reference Q8_1 rows: quantize_row_q8_0_ref's d and qs, and s */
void ops_quantize_row_q8_1_ref(const float *x, struct ops_block_q8_1 *y, int64_t n);
/*
 * y = W x as ops_matmul, with q = x quantised by ops_quantize_act8 in
 * ops_act8_format(w->type) when ops_act8_ok(w) (q is ignored, may be
 * NULL, for the other matrices).
 */
int ops_matmul_act8(struct threadpool *tp, enum ops_isa isa, const struct qmat *w,
		    const float *x, const void *q, int64_t M, float *y);
/*
 * n (<= 4) matrices of the same width on the same x in one pool job
 * (y[k] = w[k] x; q/k/v, gate/up): one thread wake-up instead of n.
 * Falls back to one call each when a matrix is not ops_act8_ok. Every
 * act8 matrix must share q's format (-1 otherwise).
 */
int ops_matmul_act8_n(struct threadpool *tp, enum ops_isa isa, int n, const struct qmat *const *w,
		      const float *x, const void *q, int64_t M, float *const *y);

/* The format ggml rounds activations to for a weight type (F32: none). */
uint32_t ops_ggml_act_type(uint32_t weight_type);

/*
 * Add the 8-row interleaved copy (qm->rep) to a Q4_K or Q6_K matrix whose
 * rows are a multiple of 8 and columns of 256, when the AVX2 kernels can
 * use it. true when made. qmat_free_repack frees it.
 */
bool qmat_repack(struct qmat *qm);
void qmat_free_repack(struct qmat *qm);
/* the same interleaving for any caller (tests): rows % 8 == 0, cols % 256 == 0 */
void ops_repack_q4_Kx8(const void *rows, int64_t n_rows, int64_t cols, struct block_q4_Kx8 *out);
void ops_repack_q6_Kx8(const void *rows, int64_t n_rows, int64_t cols, struct block_q6_Kx8 *out);

/* Row r of w as floats (embedding lookup). */
int qmat_get_row(const struct qmat *w, int64_t r, float *out);

/* out = x / rms(x) * w, as ggml: mean of squares in f32... see ops.c */
void ops_rmsnorm(float *out, const float *x, const float *w, int n, float eps);

/*
 * Rotary embedding of n_heads heads of head_dim at position pos, on the
 * first n_rot dims of each head. neox: pairs (i, i + n_rot/2) (qwen2);
 * otherwise adjacent pairs (2i, 2i+1) (llama). theta_i = pos * base^(-2i/n_rot).
 */
void ops_rope(float *v, int n_heads, int head_dim, int n_rot, int pos, float base, bool neox);

void ops_softmax(float *x, int n);

/* a[i] = silu(a[i]) * b[i]; the AVX2 and NEON variants' exp is within a few
 * ulp of libm's (tests/test_model.c bounds it), as llama.cpp's own vector silu */
void ops_swiglu(enum ops_isa isa, float *a, const float *b, int n);

/* sum a[i] * b[i] and y[i] += a * x[i] over n floats (attention). */
float ops_dot_f32(enum ops_isa isa, const float *a, const float *b, int n);
void ops_axpy_f32(enum ops_isa isa, float *y, float a, const float *x, int n);

/* Row-dot kernels (internal; one per ISA). */
typedef void (*ops_rowdot_fn)(const void *row, uint32_t type, int64_t cols,
			      const float *x, int64_t M, float *y, int64_t y_stride,
			      float *scratch);
void ops_rowdot_ref(const void *row, uint32_t type, int64_t cols, const float *x,
		    int64_t M, float *y, int64_t y_stride, float *scratch);
/* Row-dot kernels against act8 rows (ops_act8_format(type)): n weight
 * rows of row_bytes from rows; q8 holds M rows of cols / 256 Q8_K blocks
 * or cols / 32 ops_block_q8_1; y[m * y_stride + r] for weight row r < n.
 * The SIMD ones give the reference's integer sums per block exactly (the
 * float sums of the scaled blocks in another order). */
typedef void (*ops_rowdot8_fn)(const void *rows, size_t row_bytes, int64_t n, uint32_t type,
			       int64_t cols, const void *q8, int64_t M, float *y, int64_t y_stride);
void ops_rowdot8_ref(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
		     const void *q8, int64_t M, float *y, int64_t y_stride);
#if defined(__x86_64__)
void ops_rowdot8_avx2(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
		      const void *q8, int64_t M, float *y, int64_t y_stride);
void ops_rowdot_avx2(const void *row, uint32_t type, int64_t cols, const float *x,
		     int64_t M, float *y, int64_t y_stride, float *scratch);
float ops_dot_f32_avx2(const float *a, const float *b, int n);
/* ops_rowdot8_avx2 uses vpdpwssd (AVX512-VNNI + VL CPUs; the environment
 * variable ROSENBLATT_NO_VNNI=1, read once, turns it off) */
bool ops_avx2_vnni(void);
/* for tests: force the plain AVX2 path (false) or VNNI where the CPU has it */
bool ops_avx2_set_vnni(bool on);
void ops_axpy_f32_avx2(float *y, float a, const float *x, int n);
void ops_quantize_row_q8_K_avx2(const float *x, struct block_q8_K *y, int64_t n);
void ops_quantize_row_q8_1_avx2(const float *x, struct ops_block_q8_1 *y, int64_t n);
/* npu_quantize_row() and npu_hadamard() (hb >= 8) of lib/npu_backend.h, bit for bit */
float ops_quantize_i8_row_avx2(const float *x, int64_t K, int8_t *q);
void ops_hadamard_avx2(float *x, int64_t n, uint32_t hb);
void ops_swiglu_avx2(float *a, const float *b, int n);
/* n8 groups of 8 interleaved Q4_K rows (nb super-blocks each) against M
 * Q8_K activation rows: y[m * y_stride + 8 g + r] */
void ops_rowdot8_q4_Kx8_avx2(const struct block_q4_Kx8 *rep, int64_t n8, int64_t nb, const void *q8,
			     int64_t M, float *y, int64_t y_stride);
/* the same for interleaved Q6_K rows */
void ops_rowdot8_q6_Kx8_avx2(const struct block_q6_Kx8 *rep, int64_t n8, int64_t nb, const void *q8,
			     int64_t M, float *y, int64_t y_stride);
#endif
#if defined(__aarch64__)
void ops_rowdot_neon(const void *row, uint32_t type, int64_t cols, const float *x,
		     int64_t M, float *y, int64_t y_stride, float *scratch);
float ops_dot_f32_neon(const float *a, const float *b, int n);
void ops_axpy_f32_neon(float *y, float a, const float *x, int n);
/* the same contracts as the _avx2 ones above */
void ops_quantize_row_q8_K_neon(const float *x, struct block_q8_K *y, int64_t n);
void ops_quantize_row_q8_1_neon(const float *x, struct ops_block_q8_1 *y, int64_t n);
float ops_quantize_i8_row_neon(const float *x, int64_t K, int8_t *q);
void ops_hadamard_neon(float *x, int64_t n, uint32_t hb);
void ops_swiglu_neon(float *a, const float *b, int n);
/* ops_rowdot8_ref's contract: the integer dots with sdot (ARMv8.2 dotprod,
 * checked at run time: AT_HWCAP's ASIMDDP; the environment variable
 * ROSENBLATT_NO_DOTPROD=1, read once, turns it off), else with vmull_s8 */
void ops_rowdot8_neon(const void *rows, size_t row_bytes, int64_t n, uint32_t type, int64_t cols,
		      const void *q8, int64_t M, float *y, int64_t y_stride);
bool ops_neon_dotprod(void);
/* for tests: force the vmull_s8 path (false) or sdot where the CPU has it */
bool ops_neon_set_dotprod(bool on);
#endif

#endif
