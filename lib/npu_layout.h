/* SPDX-License-Identifier: MIT */
/*
 * RK3588 NPU matmul data layouts: row-major <-> NPU buffer images.
 *
 * These are the layouts the regcmd generator (rocket_regcmd.c) programs
 * (docs/npu-generator.md, "Data layouts"; docs/npu-facts.md section 5.1).
 * Element sizes: esz 1 (int8) or 2 (fp16) for A and B, osz 4 (int32/fp32)
 * or 2 (fp16) for C. Elements are copied as opaque bytes.
 *
 * Input A[M][K] -> NC1HWC2 (W = 1, H = rows, C = Kp), C2 = 16 / esz
 * elements, split into row blocks of R = tile_rows rows (R = 0 means one
 * block of M rows; the last block has M - (M-1)/R*R rows). Element (m, k):
 *
 *     blk = m / R, mi = m % R, rows = min(R, M - blk * R)
 *     index = blk * R * Kp + (k / C2) * rows * C2 + mi * C2 + k % C2
 *
 * and elements with K <= k < Kp are zero. For M == 1 (or R == 1) this is
 * plain row-major.
 *
 * Weights B[N][K] (kernel n = output column n) -> NB = 32 (int8) or 16
 * (fp16) kernels per block, K in chunks of 32:
 *
 *     index = (n / NB) * NB * Kp + (k / 32) * NB * 32 + (n % NB) * 32 + k % 32
 *
 * with zeros for n >= N (up to Np) and k >= K (up to Kp).
 *
 * Output C[M][N] <- NC1HWC2 with C2 = 16 / osz (4 for int32/fp32, 8 for
 * fp16), in the same row blocks as A:
 *
 *     index = blk * R * Np + (n / C2) * rows * C2 + mi * C2 + n % C2
 *
 * Kp must be a multiple of 32 and >= K; Np a multiple of NB (and of C2)
 * and >= N; every function returns 0 or -1 (bad arguments) and never
 * reads or writes outside the sizes given by the *_bytes() helpers.
 */
#ifndef ROSENBLATT_NPU_LAYOUT_H
#define ROSENBLATT_NPU_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Round @x up to a multiple of @a (a > 0). */
static inline uint32_t npu_round_up(uint32_t x, uint32_t a)
{
	return (x + a - 1) / a * a;
}

/* Weight block height NB for an element size (1 -> 32, 2 -> 16), 0 if bad. */
uint32_t npu_weight_block(size_t esz);

/* Element indices (in elements, not bytes), see the formulas above. */
size_t npu_input_index(uint32_t m, uint32_t k, uint32_t M, uint32_t Kp,
		       size_t esz, uint32_t tile_rows);
size_t npu_weight_index(uint32_t n, uint32_t k, uint32_t Kp, size_t esz);
size_t npu_output_index(uint32_t m, uint32_t n, uint32_t M, uint32_t Np,
			size_t osz, uint32_t tile_rows);

/* Buffer image sizes in bytes. */
size_t npu_input_bytes(uint32_t M, uint32_t Kp, size_t esz);
size_t npu_weight_bytes(uint32_t Np, uint32_t Kp, size_t esz);
size_t npu_output_bytes(uint32_t M, uint32_t Np, size_t osz);

/* A[M][K] row-major (row pitch K elements) -> NPU input image. */
int npu_pack_input(void *dst, const void *a, uint32_t M, uint32_t K,
		   uint32_t Kp, size_t esz, uint32_t tile_rows);
/* NPU input image -> A[M][K] row-major (inverse of npu_pack_input). */
int npu_unpack_input(void *a, const void *src, uint32_t M, uint32_t K,
		     uint32_t Kp, size_t esz, uint32_t tile_rows);
/* B[N][K] row-major -> NPU weight image of Np x Kp. */
int npu_pack_weight(void *dst, const void *b, uint32_t N, uint32_t K,
		    uint32_t Np, uint32_t Kp, size_t esz);
/* NPU weight image -> B[N][K]. */
int npu_unpack_weight(void *b, const void *src, uint32_t N, uint32_t K,
		      uint32_t Np, uint32_t Kp, size_t esz);
/* NPU output image (M x Np) -> C[M][N] row-major. */
int npu_unpack_output(void *c, const void *src, uint32_t M, uint32_t N,
		      uint32_t Np, size_t osz, uint32_t tile_rows);
/* C[M][N] row-major -> NPU output image (columns N..Np-1 zero). */
int npu_pack_output(void *dst, const void *c, uint32_t M, uint32_t N,
		    uint32_t Np, size_t osz, uint32_t tile_rows);

#ifdef __cplusplus
}
#endif

#endif
