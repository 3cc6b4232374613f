// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rocket NPU: validation and job building for DRM_IOCTL_ROCKET_SUBMIT_MATMUL.
 *
 * Nothing here touches hardware, user memory or GEM objects directly (see
 * rocket_matmul.h). All arithmetic on user-controlled values is done in 64
 * bits with overflow checks, and every check runs before any job exists.
 */

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/types.h>

#include "rocket_matmul.h"

static_assert(sizeof(struct drm_rocket_matmul) == ROCKET_MATMUL_SIZE_V1);
static_assert(sizeof(struct drm_rocket_matmul) % 8 == 0);
static_assert(sizeof(struct drm_rocket_submit_matmul) == 24);
static_assert(sizeof(struct rocket_matmul_hw_task) % 8 == 0);
static_assert(ROCKET_MATMUL_MAX_STRUCT_SIZE >= ROCKET_MATMUL_SIZE_V1);
static_assert(ROCKET_MATMUL_MAX_JOB_TASKS <= ROCKET_MM_MAX_TASKS);

/* NPU addresses are 32 bit (rockchip-iommu aperture). */
#define ROCKET_MATMUL_ADDR_LIMIT	0x100000000ULL

int rocket_matmul_check_args(const struct drm_rocket_submit_matmul *args)
{
	if (args->flags || args->pad)
		return -EINVAL;
	if (!args->matmul_count)
		return 0;
	if (args->matmul_struct_size < ROCKET_MATMUL_SIZE_V1)
		return -EINVAL;
	if (args->matmul_struct_size > ROCKET_MATMUL_MAX_STRUCT_SIZE)
		return -E2BIG;
	if (args->matmul_count > ROCKET_MATMUL_MAX_COUNT)
		return -E2BIG;
	if (!args->matmuls)
		return -EFAULT;
	return 0;
}

/*
 * Copy element @index of the user array, copy_struct_from_user() style: a
 * shorter element is not possible (check_args), a longer one must have only
 * zeros past what this kernel knows (-E2BIG otherwise).
 */
int rocket_matmul_copy(const struct rocket_matmul_ops *ops, void *ctx,
		       const struct drm_rocket_submit_matmul *args, u32 index,
		       struct drm_rocket_matmul *mm)
{
	u64 stride = args->matmul_struct_size;
	u64 uptr, tail, ksize = sizeof(*mm);
	u8 chunk[64];
	int ret;

	if (index >= args->matmul_count || stride < ksize)
		return -EINVAL;
	/* index < 64 and stride <= 4096: only the addition can wrap */
	if (check_add_overflow(args->matmuls, (u64)index * stride, &uptr))
		return -EFAULT;
	if (uptr + stride < uptr)
		return -EFAULT;

	memset(mm, 0, sizeof(*mm));
	ret = ops->copy_from_user(ctx, mm, uptr, sizeof(*mm));
	if (ret)
		return -EFAULT;

	for (tail = ksize; tail < stride;) {
		u64 len = stride - tail;
		unsigned int i;

		if (len > sizeof(chunk))
			len = sizeof(chunk);
		if (ops->copy_from_user(ctx, chunk, uptr + tail, len))
			return -EFAULT;
		for (i = 0; i < len; i++)
			if (chunk[i])
				return -E2BIG;
		tail += len;
	}
	return 0;
}

static u32 rocket_matmul_type(u32 uapi_type)
{
	switch (uapi_type) {
	case DRM_ROCKET_TYPE_INT8:
		return ROCKET_MM_TYPE_INT8;
	case DRM_ROCKET_TYPE_FP16:
		return ROCKET_MM_TYPE_FP16;
	case DRM_ROCKET_TYPE_INT32:
		return ROCKET_MM_TYPE_INT32;
	case DRM_ROCKET_TYPE_FP32:
		return ROCKET_MM_TYPE_FP32;
	default:
		return ROCKET_MM_TYPE_NONE;
	}
}

/* Rows of B per weight block (N padding): 32 for INT8, 16 for FP16. */
static u32 rocket_matmul_n_align(u32 in_type)
{
	return in_type == DRM_ROCKET_TYPE_INT8 ? 32 : 16;
}

static bool rocket_matmul_types_ok(const struct drm_rocket_matmul *mm)
{
	if (mm->weight_type != mm->in_type)
		return false;
	if (mm->in_type == DRM_ROCKET_TYPE_INT8)
		return mm->out_type == DRM_ROCKET_TYPE_INT32;
	if (mm->in_type == DRM_ROCKET_TYPE_FP16)
		return mm->out_type == DRM_ROCKET_TYPE_FP32 ||
		       mm->out_type == DRM_ROCKET_TYPE_FP16;
	return false;
}

/* Checks that need no BO: fields, types, dimensions, alignment. */
int rocket_matmul_check(const struct drm_rocket_matmul *mm)
{
	u32 esz;

	if (mm->flags & ~DRM_ROCKET_MATMUL_FLAGS || mm->pad)
		return -EINVAL;
	if ((mm->flags & DRM_ROCKET_MATMUL_SPLIT) &&
	    (mm->flags & DRM_ROCKET_MATMUL_NO_SPLIT))
		return -EINVAL;
	if (!rocket_matmul_types_ok(mm))
		return -EINVAL;
	if (!mm->m || !mm->k || !mm->n)
		return -EINVAL;
	if (mm->m > ROCKET_MATMUL_MAX_MN || mm->n > ROCKET_MATMUL_MAX_MN ||
	    mm->k > ROCKET_MATMUL_MAX_K)
		return -E2BIG;
	esz = rocket_mm_type_size(rocket_matmul_type(mm->in_type));
	if ((u64)mm->k * esz > ROCKET_MM_CBUF_BANK_BYTES)
		return -E2BIG;
	if ((mm->m != 1 && mm->m % 4) || mm->k % 32 ||
	    mm->n % rocket_matmul_n_align(mm->in_type))
		return -EINVAL;
	if (mm->a_offset % ROCKET_MATMUL_ALIGN ||
	    mm->b_offset % ROCKET_MATMUL_ALIGN ||
	    mm->c_offset % ROCKET_MATMUL_ALIGN ||
	    mm->bias_offset % ROCKET_MATMUL_ALIGN)
		return -EINVAL;
	if (!mm->bias_handle && mm->bias_offset)
		return -EINVAL;
	if (mm->a_row_stride || mm->c_row_stride)
		return -EINVAL;
	return 0;
}

/*
 * [*start, *start + bytes) = @offset.. inside @bo, as NPU addresses.
 * -EOVERFLOW when the sums wrap or leave the 32-bit NPU space, -EINVAL
 * when the range runs past the end of the BO.
 */
static int rocket_matmul_range(const struct rocket_matmul_bo *bo, u64 offset,
			       u64 bytes, u64 *start)
{
	u64 end, addr, addr_end;

	if (check_add_overflow(offset, bytes, &end))
		return -EOVERFLOW;
	if (end > bo->size)
		return -EINVAL;
	if (check_add_overflow(bo->dma, offset, &addr) ||
	    check_add_overflow(addr, bytes, &addr_end) ||
	    addr_end > ROCKET_MATMUL_ADDR_LIMIT)
		return -EOVERFLOW;
	*start = addr;
	return 0;
}

static bool rocket_matmul_overlap(u64 a, u64 a_len, u64 b, u64 b_len)
{
	return a < b + b_len && b < a + a_len;
}

/*
 * Bounds of every range in its BO and the generator description. @bos is
 * indexed by enum rocket_matmul_slot; the bias slot is ignored without a
 * bias handle. rocket_matmul_check() must have passed.
 */
int rocket_matmul_bind(const struct drm_rocket_matmul *mm,
		       const struct rocket_matmul_bo *bos,
		       struct rocket_matmul_desc *desc)
{
	u32 esz, osz;
	u64 a_bytes, b_bytes, c_bytes, bias_bytes = 0;
	u64 a, b, c, bias = 0;
	struct rocket_matmul_plan plan;
	int ret;

	memset(desc, 0, sizeof(*desc));
	desc->in_type = rocket_matmul_type(mm->in_type);
	desc->weight_type = rocket_matmul_type(mm->weight_type);
	desc->out_type = rocket_matmul_type(mm->out_type);
	esz = rocket_mm_type_size(desc->in_type);
	osz = rocket_mm_type_size(desc->out_type);

	if (check_mul_overflow((u64)mm->m, (u64)mm->k, &a_bytes) ||
	    check_mul_overflow(a_bytes, (u64)esz, &a_bytes) ||
	    check_mul_overflow((u64)mm->n, (u64)mm->k, &b_bytes) ||
	    check_mul_overflow(b_bytes, (u64)esz, &b_bytes) ||
	    check_mul_overflow((u64)mm->m, (u64)mm->n, &c_bytes) ||
	    check_mul_overflow(c_bytes, (u64)osz, &c_bytes))
		return -EOVERFLOW;

	ret = rocket_matmul_range(&bos[ROCKET_MATMUL_A], mm->a_offset,
				  a_bytes, &a);
	if (!ret)
		ret = rocket_matmul_range(&bos[ROCKET_MATMUL_B], mm->b_offset,
					  b_bytes, &b);
	if (!ret)
		ret = rocket_matmul_range(&bos[ROCKET_MATMUL_C], mm->c_offset,
					  c_bytes, &c);
	if (!ret && mm->bias_handle) {
		bias_bytes = (u64)mm->n * osz;
		ret = rocket_matmul_range(&bos[ROCKET_MATMUL_BIAS],
					  mm->bias_offset, bias_bytes, &bias);
	}
	if (ret)
		return ret;

	/* The NPU reads A, B and bias while it writes C. */
	if (rocket_matmul_overlap(c, c_bytes, a, a_bytes) ||
	    rocket_matmul_overlap(c, c_bytes, b, b_bytes) ||
	    (mm->bias_handle &&
	     rocket_matmul_overlap(c, c_bytes, bias, bias_bytes)))
		return -EINVAL;

	/* Valid, but no bias recipe in the generator yet. */
	if (mm->bias_handle)
		return -EOPNOTSUPP;

	desc->m = mm->m;
	desc->k = mm->k;
	desc->n = mm->n;
	desc->a_dma = a;
	desc->b_dma = b;
	desc->c_dma = c;

	ret = rocket_matmul_plan(desc, &plan);
	if (ret == -ERANGE || ret == -E2BIG)
		return -E2BIG;
	if (ret)
		return ret;
	return 0;
}

/* Task count, work and traffic of one job against the per-job limits. */
static bool rocket_matmul_job_too_big(const struct rocket_matmul_desc *d,
				      const struct rocket_matmul_plan *p)
{
	u64 bytes;

	if (p->tasks > ROCKET_MATMUL_MAX_JOB_TASKS)
		return true;
	/* m, n <= 2^18 and k <= 2^14: no overflow in 64 bits */
	if ((u64)d->m * d->n * d->k > ROCKET_MATMUL_MAX_JOB_MACS)
		return true;
	bytes = (u64)p->m_tiles * p->b_bytes + (u64)p->n_tiles * p->a_bytes +
		p->c_bytes;
	return bytes > ROCKET_MATMUL_MAX_JOB_BYTES;
}

/*
 * Split @desc into at most @max_parts jobs writing disjoint parts of C, when
 * it pays (from ROCKET_MATMUL_SPLIT_MIN_MACS on, or always with
 * DRM_ROCKET_MATMUL_SPLIT; never with DRM_ROCKET_MATMUL_NO_SPLIT): by whole
 * M tiles when there are several (each tile of A and C is a contiguous
 * block), else by N in weight blocks (B blocks and the C2 channel groups of
 * a single-tile C are contiguous). Returns the number of jobs (>= 1) or a
 * negative errno from rocket_matmul_plan().
 */
int rocket_matmul_split(const struct rocket_matmul_desc *desc, u32 mm_flags,
			u32 max_parts, struct rocket_matmul_job *jobs)
{
	struct rocket_matmul_plan plan;
	u32 esz, osz, parts, units, unit, done, i;
	u64 macs;
	bool by_m;
	int ret;

	ret = rocket_matmul_plan(desc, &plan);
	if (ret)
		return ret;
	esz = rocket_mm_type_size(desc->in_type);
	osz = rocket_mm_type_size(desc->out_type);

	if (max_parts > ROCKET_MATMUL_MAX_PARTS)
		max_parts = ROCKET_MATMUL_MAX_PARTS;
	macs = (u64)desc->m * desc->n * desc->k;
	by_m = plan.m_tiles > 1;
	if (by_m) {
		units = plan.m_tiles;
		unit = plan.tile_rows;
	} else {
		unit = desc->in_type == ROCKET_MM_TYPE_INT8 ? 32 : 16;
		units = desc->n / unit;
	}
	parts = max_parts;
	if (parts > units)
		parts = units;
	if ((mm_flags & DRM_ROCKET_MATMUL_NO_SPLIT) || !parts ||
	    (macs < ROCKET_MATMUL_SPLIT_MIN_MACS &&
	     !(mm_flags & DRM_ROCKET_MATMUL_SPLIT)))
		parts = 1;

	for (i = 0, done = 0; i < parts; i++) {
		struct rocket_matmul_desc *d = &jobs[i].desc;
		u32 share = units / parts + (i < units % parts);
		u32 first = done * unit, len;

		*d = *desc;
		if (by_m) {
			len = share * unit;
			if (first + len > desc->m)
				len = desc->m - first;
			d->m = len;
			d->a_dma += (u64)first * desc->k * esz;
			d->c_dma += (u64)first * desc->n * osz;
		} else {
			len = share * unit;
			d->n = len;
			d->b_dma += (u64)first * desc->k * esz;
			d->c_dma += (u64)first * desc->m * osz;
		}
		if (parts == 1)
			*d = *desc;
		done += share;

		ret = rocket_matmul_plan(d, &jobs[i].plan);
		if (ret)
			return ret;
		if (rocket_matmul_job_too_big(d, &jobs[i].plan))
			return -E2BIG;
		jobs[i].qword_offset = 0;
	}
	return parts;
}

/* Everything for one descriptor, up to the per-core jobs. */
int rocket_matmul_prepare(const struct rocket_matmul_ops *ops, void *ctx,
			  const struct drm_rocket_matmul *mm, u32 num_cores,
			  struct rocket_matmul_prep *prep)
{
	struct rocket_matmul_desc desc;
	int ret;

	memset(prep, 0, sizeof(*prep));
	ret = rocket_matmul_check(mm);
	if (ret)
		return ret;

	ret = ops->lookup(ctx, ROCKET_MATMUL_A, mm->a_handle,
			  &prep->bos[ROCKET_MATMUL_A]);
	if (!ret)
		ret = ops->lookup(ctx, ROCKET_MATMUL_B, mm->b_handle,
				  &prep->bos[ROCKET_MATMUL_B]);
	if (!ret)
		ret = ops->lookup(ctx, ROCKET_MATMUL_C, mm->c_handle,
				  &prep->bos[ROCKET_MATMUL_C]);
	if (!ret && mm->bias_handle)
		ret = ops->lookup(ctx, ROCKET_MATMUL_BIAS, mm->bias_handle,
				  &prep->bos[ROCKET_MATMUL_BIAS]);
	if (ret)
		return ret;

	ret = rocket_matmul_bind(mm, prep->bos, &desc);
	if (ret)
		return ret;

	ret = rocket_matmul_split(&desc, mm->flags, num_cores ? num_cores : 1,
				  prep->jobs);
	if (ret < 0)
		return ret;
	prep->job_count = ret;
	return 0;
}

/*
 * Place @count jobs one after the other in one regcmd buffer, each starting
 * 64-byte aligned. -E2BIG when the buffer would exceed 4 GiB.
 */
int rocket_matmul_layout(struct rocket_matmul_job *jobs, u32 count,
			 u32 *total_qwords)
{
	u64 pos = 0;
	u32 i;

	for (i = 0; i < count; i++) {
		pos = (pos + ROCKET_MM_TASK_ALIGN_QWORDS - 1) &
		      ~(u64)(ROCKET_MM_TASK_ALIGN_QWORDS - 1);
		jobs[i].qword_offset = (u32)pos;
		pos += jobs[i].plan.qwords;
		if (pos > 0xffffffffULL / 8)
			return -E2BIG;
	}
	*total_qwords = (u32)pos;
	return 0;
}

/*
 * Generate the regcmds of @job at its place in @buf (the whole regcmd
 * buffer of @buf_qwords qwords, mapped for the NPU at @buf_dma) and fill
 * @tasks (@task_cap entries) with the NPU address and length of each task.
 * @scratch must hold @task_cap entries. Returns the number of tasks or a
 * negative errno (-ENOSPC when @buf or @tasks is too small).
 */
int rocket_matmul_emit_job(const struct rocket_matmul_job *job, u64 *buf,
			   u32 buf_qwords, u64 buf_dma,
			   struct rocket_regcmd_task *scratch,
			   struct rocket_matmul_hw_task *tasks, u32 task_cap)
{
	u32 n_tasks = 0, i;
	int ret;

	if (job->qword_offset > buf_qwords ||
	    buf_qwords - job->qword_offset < job->plan.qwords ||
	    task_cap < job->plan.tasks)
		return -ENOSPC;

	ret = rocket_matmul_emit(&job->desc, buf + job->qword_offset,
				 buf_qwords - job->qword_offset, scratch,
				 task_cap, &n_tasks);
	if (ret < 0)
		return ret;

	for (i = 0; i < n_tasks; i++) {
		tasks[i].regcmd = buf_dma +
				  ((u64)job->qword_offset + scratch[i].offset) * 8;
		tasks[i].regcmd_count = scratch[i].qwords;
		tasks[i].pad = 0;
	}
	return n_tasks;
}
