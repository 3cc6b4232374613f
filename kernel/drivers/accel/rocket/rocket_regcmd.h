/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rocket NPU (RK3588) matmul regcmd generator.
 *
 * Pure C: no allocation, no I/O, no floating point. Compiled unchanged into
 * the rocket module and, through lib/kcompat, into userspace (unit tests,
 * emulated device). See docs/npu-generator.md for the recipe and for the
 * status ([HW]/[VENDOR]/[INF]) of every choice.
 *
 * C[M][N] = A[M][K] * B[N][K]^T is run as a 1x1 direct convolution, one
 * full 104-register task (the mtx512 recipe) per tile:
 *
 *  - A: NC1HWC2 with W = 1, H = rows, C2 = 16 bytes of elements (16 int8 /
 *    8 fp16), element (m, k) of a block of R rows at element index
 *    (k / C2) * R * C2 + m * C2 + k % C2. When M needs more than one task
 *    (see rocket_matmul_tile_rows()), A is a sequence of such blocks, one
 *    per row tile of R = tile_rows rows (the last one may be shorter), each
 *    block contiguous and starting right after the previous one.
 *  - B: kernel-major blocks, int8 [N/32][K/32][32][32], fp16
 *    [N/16][K/32][16][32]: element (n, k) at
 *    (n / NB) * NB * K + (k / 32) * NB * 32 + (n % NB) * 32 + k % 32.
 *  - C: NC1HWC2 like A with C2 = 4 (int32/fp32) or 8 (fp16) elements, one
 *    block per row tile, in the same tiling as A.
 *
 * The caller pads: K to a multiple of 32, N to a multiple of 32 (int8) or
 * 16 (fp16), M to 1 or a multiple of 4, with zeros.
 */
#ifndef __ROCKET_REGCMD_H__
#define __ROCKET_REGCMD_H__

#include <linux/bits.h>
#include <linux/types.h>

/* Element types (enum rocket_mm_type). 0 is invalid on purpose. */
enum rocket_mm_type {
	ROCKET_MM_TYPE_NONE = 0,
	ROCKET_MM_TYPE_INT8 = 1,
	ROCKET_MM_TYPE_FP16 = 2,
	ROCKET_MM_TYPE_INT32 = 3,
	ROCKET_MM_TYPE_FP32 = 4,
	ROCKET_MM_TYPE_INT4 = 5,	/* reserved: always -EINVAL (no facts) */
};

/*
 * Chain tasks in-stream (vendor way, [VENDOR]): each task's trailer holds
 * PC_BASE_ADDRESS = regcmd_dma + next task offset and PC_REGISTER_AMOUNTS =
 * (next reg_count + 4 + 1) / 2 - 1, so the kernel starts task 0 once (with
 * TASK_CON.task_number = task count) and the PC walks the rest. Without the
 * flag (mainline way) every trailer holds 0 / 0 and the kernel starts each
 * task itself from rocket_regcmd_task.offset and .amounts.
 */
#define ROCKET_MM_F_CHAIN		BIT(0)
#define ROCKET_MM_F_ALL			(ROCKET_MM_F_CHAIN)

/* Limits (see docs/npu-generator.md "Tiling"). */
#define ROCKET_MM_CBUF_BANKS		12
#define ROCKET_MM_CBUF_BANK_BYTES	32768
#define ROCKET_MM_MAX_DATA_BANKS	10	/* largest proven data share */
#define ROCKET_MM_MAX_TILE_ROWS		1020	/* FEATURE_GRAINS = rows + 1 */
#define ROCKET_MM_MAX_TILE_N		8192	/* DPU channel fields: 13 bit */
#define ROCKET_MM_TASK_REGS		104	/* register writes per task */
#define ROCKET_MM_TRAILER_QWORDS	4
#define ROCKET_MM_TASK_ALIGN_QWORDS	8	/* tasks start 64-byte aligned */
#define ROCKET_MM_TASK_STRIDE_QWORDS	112	/* 108 rounded up to 8 */
#define ROCKET_MM_MAX_TASKS		65535

/*
 * struct rocket_matmul_desc - one matmul, as the ioctl validates it
 * @m, @k, @n:		dimensions, already padded (see above)
 * @in_type:		A element type (INT8 or FP16)
 * @weight_type:	B element type (must equal @in_type)
 * @out_type:		INT32 for INT8 inputs; FP32 or FP16 for FP16 inputs
 * @flags:		ROCKET_MM_F_*
 * @a_dma, @b_dma, @c_dma: NPU (IOVA) addresses, 16-byte aligned, 32 bit
 * @bias_dma:		must be 0: no bias recipe is established (-EINVAL)
 * @regcmd_dma:		NPU address of the regcmd buffer; used only with
 *			ROCKET_MM_F_CHAIN (then 16-byte aligned, non-zero)
 * @a_row_stride, @c_row_stride: bytes between rows; must be 0 (= the packed
 *			NC1HWC2 layout above). Reserved for a row-major layout
 *			(vendor recipe, layout only inferred) - -EINVAL today.
 */
struct rocket_matmul_desc {
	u32 m;
	u32 k;
	u32 n;
	u32 in_type;
	u32 weight_type;
	u32 out_type;
	u32 flags;
	u32 a_row_stride;
	u32 c_row_stride;
	u32 reserved;
	u64 a_dma;
	u64 b_dma;
	u64 c_dma;
	u64 bias_dma;
	u64 regcmd_dma;
};

/*
 * struct rocket_regcmd_task - where one task sits in the generated buffer
 * @offset:	qword index of its first register write in the buffer
 *		(byte offset = offset * 8; always a multiple of 8 qwords)
 * @reg_count:	register writes, trailer excluded (rknpu regcfg_amount)
 * @qwords:	reg_count + 4 trailer qwords (mainline regcmd_count)
 * @amounts:	PC_REGISTER_AMOUNTS value to start it with:
 *		(qwords + 1) / 2 - 1
 * @m0, @rows:	first output row and number of rows of this task
 * @n0, @cols:	first output column and number of columns of this task
 */
struct rocket_regcmd_task {
	u32 offset;
	u32 reg_count;
	u32 qwords;
	u32 amounts;
	u32 m0;
	u32 rows;
	u32 n0;
	u32 cols;
};

/*
 * struct rocket_matmul_plan - what a description needs (filled by
 * rocket_matmul_plan())
 * @tile_rows:	rows per M tile (the layout block height R of A and C)
 * @tile_n:	columns per N tile
 * @m_tiles, @n_tiles: tile counts; tasks = m_tiles * n_tiles
 * @tasks:	number of tasks
 * @qwords:	buffer size in qwords for rocket_matmul_emit()
 * @a_bytes, @b_bytes, @c_bytes: bytes of A, B, C the tasks touch
 */
struct rocket_matmul_plan {
	u32 tile_rows;
	u32 tile_n;
	u32 m_tiles;
	u32 n_tiles;
	u32 tasks;
	u32 qwords;
	u64 a_bytes;
	u64 b_bytes;
	u64 c_bytes;
};

/* Bytes per element of a type, 0 for an unknown type. */
u32 rocket_mm_type_size(u32 type);

/*
 * rocket_matmul_plan() - validate @d and compute its tiling and sizes.
 * Returns 0 or:
 *  -EINVAL	bad type combination, zero/unpadded dimension, misaligned
 *		address, unknown flag, non-zero bias/stride/reserved
 *  -ERANGE	K * element size over one 32 KiB CBUF bank (split K in the
 *		caller and add the partial products), or a field overflow
 *  -EOVERFLOW	an address + extent does not fit the 32-bit NPU space
 *  -E2BIG	more than ROCKET_MM_MAX_TASKS tasks or a buffer over 4 GiB
 */
int rocket_matmul_plan(const struct rocket_matmul_desc *d,
		       struct rocket_matmul_plan *plan);

/* rocket_matmul_size() - qwords (return value >= 0) or negative errno. */
int rocket_matmul_size(const struct rocket_matmul_desc *d);

/*
 * rocket_matmul_emit() - generate the regcmd stream of @d into @buf.
 * @buf:	caller buffer of @cap qwords; nothing is written past @cap
 * @tasks:	optional (NULL) array of @task_cap entries filled per task
 * @n_tasks:	optional (NULL); set to the task count on success
 *
 * Returns the number of qwords written (== rocket_matmul_size()), or the
 * rocket_matmul_plan() errors, or -ENOSPC when @cap is smaller than needed
 * or @tasks is non-NULL with @task_cap below the task count (checked before
 * anything is written).
 */
int rocket_matmul_emit(const struct rocket_matmul_desc *d, u64 *buf, u32 cap,
		       struct rocket_regcmd_task *tasks, u32 task_cap,
		       u32 *n_tasks);

/* Rows per M tile for @d (the A/C layout block height), or negative errno. */
int rocket_matmul_tile_rows(const struct rocket_matmul_desc *d);

#endif /* __ROCKET_REGCMD_H__ */
