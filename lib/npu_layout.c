// SPDX-License-Identifier: MIT
/* RK3588 NPU matmul data layouts; formulas in npu_layout.h. */
#include "npu_layout.h"

#include <string.h>

#define NPU_ATOM_BYTES	16	/* one C2 atom of A or C */
#define NPU_WK_CHUNK	32	/* weight K chunk (elements) */

uint32_t npu_weight_block(size_t esz)
{
	return esz == 1 ? 32 : esz == 2 ? 16 : 0;
}

static int esz_ok(size_t esz)
{
	return esz == 1 || esz == 2 || esz == 4;
}

/* Row block of row m: start row, rows in the block, row within it. */
static void row_block(uint32_t m, uint32_t M, uint32_t tile_rows,
		      uint32_t *blk_start, uint32_t *rows, uint32_t *mi)
{
	uint32_t R = (tile_rows == 0 || tile_rows > M) ? M : tile_rows;
	uint32_t start = m / R * R;

	*blk_start = start;
	*rows = M - start < R ? M - start : R;
	*mi = m - start;
}

size_t npu_input_index(uint32_t m, uint32_t k, uint32_t M, uint32_t Kp,
		       size_t esz, uint32_t tile_rows)
{
	uint32_t start, rows, mi, c2 = (uint32_t)(NPU_ATOM_BYTES / esz);

	row_block(m, M, tile_rows, &start, &rows, &mi);
	return (size_t)start * Kp + (size_t)(k / c2) * rows * c2 +
	       (size_t)mi * c2 + k % c2;
}

size_t npu_weight_index(uint32_t n, uint32_t k, uint32_t Kp, size_t esz)
{
	uint32_t nb = npu_weight_block(esz);

	return (size_t)(n / nb) * nb * Kp + (size_t)(k / NPU_WK_CHUNK) * nb * NPU_WK_CHUNK +
	       (size_t)(n % nb) * NPU_WK_CHUNK + k % NPU_WK_CHUNK;
}

size_t npu_output_index(uint32_t m, uint32_t n, uint32_t M, uint32_t Np,
			size_t osz, uint32_t tile_rows)
{
	uint32_t start, rows, mi, c2 = (uint32_t)(NPU_ATOM_BYTES / osz);

	row_block(m, M, tile_rows, &start, &rows, &mi);
	return (size_t)start * Np + (size_t)(n / c2) * rows * c2 +
	       (size_t)mi * c2 + n % c2;
}

size_t npu_input_bytes(uint32_t M, uint32_t Kp, size_t esz)
{
	return (size_t)M * Kp * esz;
}

size_t npu_weight_bytes(uint32_t Np, uint32_t Kp, size_t esz)
{
	return (size_t)Np * Kp * esz;
}

size_t npu_output_bytes(uint32_t M, uint32_t Np, size_t osz)
{
	return (size_t)M * Np * osz;
}

/*
 * Shared walker for A and C: row-major [M][cols] (pitch cols) <-> NC1HWC2
 * blocks with C2 = 16 / esz and padded width colsp. One atom (up to C2
 * elements) is copied at a time.
 */
static int nc1hwc2_copy(uint8_t *img, uint8_t *rm, uint32_t M, uint32_t cols,
			uint32_t colsp, size_t esz, uint32_t tile_rows,
			int to_image)
{
	uint32_t c2, m, c;

	if (!img || !rm || !esz_ok(esz) || M == 0 || cols == 0 || colsp < cols)
		return -1;
	c2 = (uint32_t)(NPU_ATOM_BYTES / esz);
	if (colsp % c2)
		return -1;
	if (to_image)
		memset(img, 0, (size_t)M * colsp * esz);
	for (m = 0; m < M; m++) {
		uint8_t *row = rm + (size_t)m * cols * esz;

		for (c = 0; c < cols; c += c2) {
			size_t n = (cols - c < c2 ? cols - c : c2) * esz;
			uint8_t *atom = img + npu_output_index(m, c, M, colsp, esz,
							       tile_rows) * esz;

			if (to_image)
				memcpy(atom, row + (size_t)c * esz, n);
			else
				memcpy(row + (size_t)c * esz, atom, n);
		}
	}
	return 0;
}

int npu_pack_input(void *dst, const void *a, uint32_t M, uint32_t K,
		   uint32_t Kp, size_t esz, uint32_t tile_rows)
{
	if (esz != 1 && esz != 2)
		return -1;
	return nc1hwc2_copy(dst, (uint8_t *)a, M, K, Kp, esz, tile_rows, 1);
}

int npu_unpack_input(void *a, const void *src, uint32_t M, uint32_t K,
		     uint32_t Kp, size_t esz, uint32_t tile_rows)
{
	if (esz != 1 && esz != 2)
		return -1;
	return nc1hwc2_copy((uint8_t *)src, a, M, K, Kp, esz, tile_rows, 0);
}

int npu_unpack_output(void *c, const void *src, uint32_t M, uint32_t N,
		      uint32_t Np, size_t osz, uint32_t tile_rows)
{
	if (osz != 2 && osz != 4)
		return -1;
	return nc1hwc2_copy((uint8_t *)src, c, M, N, Np, osz, tile_rows, 0);
}

int npu_pack_output(void *dst, const void *c, uint32_t M, uint32_t N,
		    uint32_t Np, size_t osz, uint32_t tile_rows)
{
	if (osz != 2 && osz != 4)
		return -1;
	return nc1hwc2_copy(dst, (uint8_t *)c, M, N, Np, osz, tile_rows, 1);
}

static int weight_copy(uint8_t *img, uint8_t *rm, uint32_t N, uint32_t K,
		       uint32_t Np, uint32_t Kp, size_t esz, int to_image)
{
	uint32_t nb = npu_weight_block(esz), n, k;

	if (!img || !rm || !nb || N == 0 || K == 0 || Np < N || Kp < K ||
	    Np % nb || Kp % NPU_WK_CHUNK)
		return -1;
	if (to_image)
		memset(img, 0, (size_t)Np * Kp * esz);
	for (n = 0; n < N; n++) {
		uint8_t *row = rm + (size_t)n * K * esz;

		for (k = 0; k < K; k += NPU_WK_CHUNK) {
			size_t cnt = (K - k < NPU_WK_CHUNK ? K - k : NPU_WK_CHUNK) * esz;
			uint8_t *chunk = img + npu_weight_index(n, k, Kp, esz) * esz;

			if (to_image)
				memcpy(chunk, row + (size_t)k * esz, cnt);
			else
				memcpy(row + (size_t)k * esz, chunk, cnt);
		}
	}
	return 0;
}

int npu_pack_weight(void *dst, const void *b, uint32_t N, uint32_t K,
		    uint32_t Np, uint32_t Kp, size_t esz)
{
	return weight_copy(dst, (uint8_t *)b, N, K, Np, Kp, esz, 1);
}

int npu_unpack_weight(void *b, const void *src, uint32_t N, uint32_t K,
		      uint32_t Np, uint32_t Kp, size_t esz)
{
	return weight_copy((uint8_t *)src, b, N, K, Np, Kp, esz, 0);
}
