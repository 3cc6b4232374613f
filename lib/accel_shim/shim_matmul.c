// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_ROCKET_SUBMIT_MATMUL in the emulated device, through the kernel's
 * own validation (rocket_matmul.c) and generator (rocket_regcmd.c), compiled
 * unchanged. Flow, as the kernel's ioctl:
 *   1. rocket_matmul_check_args() on the header;
 *   2. every descriptor copied and prepared (checks, handle lookups, bounds,
 *      split into per-core parts) before anything runs: a bad descriptor
 *      anywhere in the array fails the ioctl with no job queued;
 *   3. one kernel-owned regcmd buffer (an NPU-mapped BO without a handle or
 *      mmap access) laid out and emitted for every part;
 *   4. each part becomes one job (its tasks in order, mainline task start):
 *      in BOs A, B, (bias,) the regcmd BO; out BO C. All jobs are queued as
 *      one unit (rocket_matmul_queue()): implicit fences of earlier work,
 *      conflicting earlier matmuls of the call, then C gets a WRITE fence and
 *      the inputs READ fences. A matmul split over cores puts part p on core
 *      entity p; others go to the file's shared entity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rocket_matmul.h"
#include "shim.h"

struct mm_ctx {
	struct shim_file *f;
	struct shim_bo **refs;	/* every BO looked up, released at the end */
	uint32_t nrefs, cap;
	struct shim_bo *(*slot)[ROCKET_MATMUL_SLOTS];	/* per matmul: A, B, C, bias */
	uint32_t cur;
};

static int mm_copy_from_user(void *ctx, void *dst, u64 uptr, size_t len)
{
	(void)ctx;
	return shim_copy_from_user(dst, uptr, len) ? -EFAULT : 0;
}

static int mm_lookup(void *vctx, enum rocket_matmul_slot slot, u32 handle,
		     struct rocket_matmul_bo *out)
{
	struct mm_ctx *ctx = vctx;
	struct shim_bo *bo;

	if (ctx->nrefs == ctx->cap)
		return -ENOMEM;	/* cap is sized for the maximum */
	bo = shim_bo_lookup_get(ctx->f, handle);
	if (!bo)
		return -ENOENT;
	ctx->refs[ctx->nrefs++] = bo;
	ctx->slot[ctx->cur][slot] = bo;
	out->size = shim_bo_size(bo);
	out->dma = shim_bo_dma(bo);
	return 0;
}

static const struct rocket_matmul_ops mm_ops = {
	.copy_from_user = mm_copy_from_user,
	.lookup = mm_lookup,
};

int shim_ioctl_submit_matmul(struct shim_file *f, void *data)
{
	const struct drm_rocket_submit_matmul *args = data;
	struct mm_ctx ctx = { .f = f };
	struct rocket_matmul_prep *preps = NULL;
	struct rocket_matmul_job *jobs = NULL;
	struct rocket_regcmd_task *scratch = NULL;
	struct rocket_matmul_hw_task *hw = NULL;
	struct shim_task *tasks = NULL;
	struct shim_bo *rc = NULL;
	struct shim_job **sj = NULL;
	int *core = NULL;
	u32 *owner = NULL;	/* job -> matmul */
	u32 count = args->matmul_count, njobs = 0, total = 0, max_tasks = 1, i, j;
	int ret;

	ret = rocket_matmul_check_args(args);
	if (ret || !count)
		return ret;
	preps = calloc(count, sizeof(*preps));
	jobs = calloc((size_t)count * ROCKET_MATMUL_MAX_PARTS, sizeof(*jobs));
	ctx.cap = count * ROCKET_MATMUL_SLOTS;
	ctx.refs = calloc(ctx.cap, sizeof(*ctx.refs));
	owner = calloc((size_t)count * ROCKET_MATMUL_MAX_PARTS, sizeof(*owner));
	core = calloc((size_t)count * ROCKET_MATMUL_MAX_PARTS, sizeof(*core));
	sj = calloc((size_t)count * ROCKET_MATMUL_MAX_PARTS, sizeof(*sj));
	ctx.slot = calloc(count, sizeof(*ctx.slot));
	if (!owner || !core || !sj || !ctx.slot || !preps || !jobs || !ctx.refs) {
		ret = -ENOMEM;
		goto out;
	}

	for (i = 0; i < count; i++) {
		struct drm_rocket_matmul mm;

		ctx.cur = i;
		ret = rocket_matmul_copy(&mm_ops, &ctx, args, i, &mm);
		if (!ret)
			ret = rocket_matmul_prepare(&mm_ops, &ctx, &mm, (u32)shim_num_cores(f),
						    &preps[i]);
		if (ret)
			goto out;
		for (j = 0; j < preps[i].job_count; j++) {
			owner[njobs] = i;
			/* Parts of a split matmul go to different cores. */
			core[njobs] = preps[i].job_count > 1 ? (int)j : -1;
			jobs[njobs++] = preps[i].jobs[j];
		}
	}

	ret = rocket_matmul_layout(jobs, njobs, &total);
	if (ret)
		goto out;
	/* task arrays as large as the largest job's plan, not the 1024-task cap */
	for (i = 0; i < njobs; i++)
		max_tasks = jobs[i].plan.tasks > max_tasks ? jobs[i].plan.tasks : max_tasks;
	scratch = calloc(max_tasks, sizeof(*scratch));
	hw = calloc(max_tasks, sizeof(*hw));
	tasks = calloc(max_tasks, sizeof(*tasks));
	if (!scratch || !hw || !tasks) {
		ret = -ENOMEM;
		goto out;
	}
	if (shim_fault_hit("alloc", 0)) {	/* "alloc" fails every allocation */
		ret = -ENOMEM;
		goto out;
	}
	rc = shim_bo_alloc_internal(f, (uint64_t)total * 8, &ret);
	if (!rc)
		goto out;
	for (i = 0; i < njobs; i++) {
		int n = rocket_matmul_emit_job(&jobs[i], shim_bo_host(rc), total, shim_bo_dma(rc),
					       scratch, hw, max_tasks);

		if (n < 0) {
			ret = n;
			goto out;
		}
		jobs[i].plan.tasks = (u32)n;	/* remember the count for the run below */
	}
	/* Everything is valid and generated: the jobs, then queued as one unit. */
	for (i = 0; i < njobs; i++) {
		struct shim_bo *const *sl = ctx.slot[owner[i]];
		struct shim_bo *in[4];
		uint32_t nin = 0;
		int n = rocket_matmul_emit_job(&jobs[i], shim_bo_host(rc), total, shim_bo_dma(rc),
					       scratch, hw, max_tasks);

		if (n < 0) {	/* cannot happen: it succeeded above */
			ret = n;
			goto out;
		}
		for (j = 0; j < (u32)n; j++) {
			tasks[j].regcmd = hw[j].regcmd;
			tasks[j].regcmd_count = hw[j].regcmd_count;
		}
		in[nin++] = rc;
		in[nin++] = sl[ROCKET_MATMUL_A];
		in[nin++] = sl[ROCKET_MATMUL_B];
		if (sl[ROCKET_MATMUL_BIAS])
			in[nin++] = sl[ROCKET_MATMUL_BIAS];
		sj[i] = shim_job_new(f, tasks, (uint32_t)n, in, nin, &sl[ROCKET_MATMUL_C], 1, &ret);
		if (!sj[i])
			goto out;
	}
	ret = shim_jobs_queue(f, sj, njobs, core, owner, 1);
	memset(sj, 0, (size_t)njobs * sizeof(*sj));	/* queued, or put on failure */
out:
	if (rc)
		shim_bo_put(rc);
	for (i = 0; i < ctx.nrefs; i++)
		shim_bo_put(ctx.refs[i]);
	for (i = 0; sj && i < njobs; i++)
		shim_job_put(sj[i]);
	free(sj);
	free(core);
	free(ctx.slot);
	free(ctx.refs);
	free(owner);
	free(tasks);
	free(hw);
	free(scratch);
	free(jobs);
	free(preps);
	return ret;
}
