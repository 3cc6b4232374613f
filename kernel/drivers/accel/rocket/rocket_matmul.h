/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rocket NPU: validation and job building for DRM_IOCTL_ROCKET_SUBMIT_MATMUL.
 *
 * Pure C without DRM internals, so the same file builds into the rocket
 * module and, through lib/kcompat, into userspace (unit tests, emulated
 * device). Everything that touches user memory or GEM objects goes through
 * &struct rocket_matmul_ops, supplied by the caller.
 *
 * Order of use, per ioctl:
 *  1. rocket_matmul_check_args()	header: flags, pad, counts, stride
 *  2. per element:
 *     rocket_matmul_copy()		copy one descriptor (stride, zero tail)
 *     rocket_matmul_prepare()		static checks, handle lookups, bounds,
 *					split into per-core jobs
 *  3. rocket_matmul_emit_job()		per job, into the kernel-owned buffer
 *
 * Errors (the first one found is returned, in the order listed in
 * docs/kernel.md):
 *  -EINVAL	malformed: unknown flags, both split flags, non-zero pad,
 *		descriptor size below the first version, bad type combination,
 *		zero or unpadded dimension, misaligned offset, non-zero row
 *		stride, range past the end of its BO, C overlapping an input
 *  -ENOENT	a handle that does not exist in this file
 *  -EOVERFLOW	offset + size does not fit 64 bits, or the range leaves the
 *		32-bit NPU address space
 *  -E2BIG	too many descriptors, descriptor size over the limit, non-zero
 *		bytes past the known descriptor, dimension or task count over
 *		the limits
 *  -EFAULT	user memory cannot be read
 *  -EOPNOTSUPP	a valid request this kernel cannot run yet (bias)
 */
#ifndef __ROCKET_MATMUL_H__
#define __ROCKET_MATMUL_H__

#include <linux/bits.h>
#include <linux/types.h>
#include <drm/rocket_accel.h>

#include "rocket_regcmd.h"

/* Size of the first published struct drm_rocket_matmul. */
#define ROCKET_MATMUL_SIZE_V1		88
/* Limits (docs/kernel.md "Limits"). */
#define ROCKET_MATMUL_MAX_COUNT		64	/* descriptors per ioctl */
#define ROCKET_MATMUL_MAX_STRUCT_SIZE	4096	/* bytes per descriptor */
#define ROCKET_MATMUL_MAX_MN		262144	/* M and N */
#define ROCKET_MATMUL_MAX_K		16384	/* and K * size <= 32 KiB */
#define ROCKET_MATMUL_MAX_JOB_TASKS	1024	/* NPU tasks per job */
/*
 * Work per job, so that a job stays well inside the 500 ms job timeout:
 * multiply-accumulates, and bytes the tasks read and write (B is read once
 * per M tile, A once per N tile).
 */
#define ROCKET_MATMUL_MAX_JOB_MACS	BIT_ULL(35)
#define ROCKET_MATMUL_MAX_JOB_BYTES	BIT_ULL(31)
#define ROCKET_MATMUL_MAX_PARTS		3	/* jobs (cores) per matmul */
#define ROCKET_MATMUL_ALIGN		16	/* A, B, C offsets */
/* Below this many multiply-accumulates a matmul stays on one core. */
#define ROCKET_MATMUL_SPLIT_MIN_MACS	BIT_ULL(24)

/* The BOs a descriptor names, in lookup order. */
enum rocket_matmul_slot {
	ROCKET_MATMUL_A,
	ROCKET_MATMUL_B,
	ROCKET_MATMUL_C,
	ROCKET_MATMUL_BIAS,
	ROCKET_MATMUL_SLOTS,
};

/*
 * struct rocket_matmul_bo - what the validation needs to know about a BO
 * @size:	bytes mapped for the NPU
 * @dma:	NPU (IOVA) address of byte 0
 */
struct rocket_matmul_bo {
	u64 size;
	u64 dma;
};

/*
 * struct rocket_matmul_ops - the caller's side
 * @copy_from_user: copy @len bytes at user address @uptr to @dst;
 *		0 or -EFAULT.
 * @lookup:	look up @handle in the caller's file for @slot and fill @bo;
 *		0 or -ENOENT. The caller keeps whatever reference it takes
 *		and drops it on any error (also one returned later).
 */
struct rocket_matmul_ops {
	int (*copy_from_user)(void *ctx, void *dst, u64 uptr, size_t len);
	int (*lookup)(void *ctx, enum rocket_matmul_slot slot, u32 handle,
		      struct rocket_matmul_bo *bo);
};

/*
 * struct rocket_matmul_job - one NPU job (one core) of a matmul
 * @desc:	generator description of the part this job computes
 * @plan:	its plan (tasks, buffer size, extents)
 * @qword_offset: where its regcmds start in the regcmd buffer, in qwords
 *		(set by rocket_matmul_layout(), a multiple of 8)
 */
struct rocket_matmul_job {
	struct rocket_matmul_desc desc;
	struct rocket_matmul_plan plan;
	u32 qword_offset;
};

/*
 * struct rocket_matmul_prep - a validated descriptor
 * @jobs:	the parts, @job_count of them (1..ROCKET_MATMUL_MAX_PARTS),
 *		writing disjoint ranges of C
 * @job_count:	number of parts
 * @bos:	the BOs looked up, per slot (bias: size 0 when absent)
 */
struct rocket_matmul_prep {
	struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS];
	u32 job_count;
	struct rocket_matmul_bo bos[ROCKET_MATMUL_SLOTS];
};

/*
 * struct rocket_matmul_hw_task - one task as the job code starts it
 * @regcmd:	NPU address of its first register command
 * @regcmd_count: qwords to fetch (register writes + trailer)
 */
struct rocket_matmul_hw_task {
	u64 regcmd;
	u32 regcmd_count;
	u32 pad;
};

int rocket_matmul_check_args(const struct drm_rocket_submit_matmul *args);

int rocket_matmul_copy(const struct rocket_matmul_ops *ops, void *ctx,
		       const struct drm_rocket_submit_matmul *args, u32 index,
		       struct drm_rocket_matmul *mm);

int rocket_matmul_check(const struct drm_rocket_matmul *mm);

int rocket_matmul_bind(const struct drm_rocket_matmul *mm,
		       const struct rocket_matmul_bo *bos,
		       struct rocket_matmul_desc *desc);

int rocket_matmul_split(const struct rocket_matmul_desc *desc, u32 mm_flags,
			u32 max_parts, struct rocket_matmul_job *jobs);

int rocket_matmul_prepare(const struct rocket_matmul_ops *ops, void *ctx,
			  const struct drm_rocket_matmul *mm, u32 num_cores,
			  struct rocket_matmul_prep *prep);

int rocket_matmul_layout(struct rocket_matmul_job *jobs, u32 count,
			 u32 *total_qwords);

int rocket_matmul_emit_job(const struct rocket_matmul_job *job, u64 *buf,
			   u32 buf_qwords, u64 buf_dma,
			   struct rocket_regcmd_task *scratch,
			   struct rocket_matmul_hw_task *tasks, u32 task_cap);

#endif /* __ROCKET_MATMUL_H__ */
