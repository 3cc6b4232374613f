/* SPDX-License-Identifier: MIT */
/*
 * The work of one task of a job planned by the kernel's own tiling
 * (rocket_matmul_split()/rocket_matmul_plan()), as the performance model
 * counts it: shared by npu-perf-model and npu-calibrate, so that the fit
 * and the model use the same units.
 */
#ifndef ROSENBLATT_NPU_JOB_TASKS_H
#define ROSENBLATT_NPU_JOB_TASKS_H

#include "npu_fit.h"
#include "rocket_matmul.h"

/* Regcmd qwords fetched per task (the generator's single-task recipe and trailer). */
#define NPU_TASK_REGCMD_BYTES (108.0 * 8)

/*
 * The jobs the kernel makes of one descriptor the backend submits (int8 x
 * int8 -> int32): rocket_matmul_split() on its shape and flags. Returns the
 * number of jobs, or the kernel's negative errno.
 */
static inline int npu_desc_split(const struct drm_rocket_matmul *mm,
				 struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS])
{
	struct rocket_matmul_desc d = {
		.m = mm->m, .k = mm->k, .n = mm->n,
		.in_type = ROCKET_MM_TYPE_INT8, .weight_type = ROCKET_MM_TYPE_INT8,
		.out_type = ROCKET_MM_TYPE_INT32,
	};

	return rocket_matmul_split(&d, mm->flags, ROCKET_MATMUL_MAX_PARTS, jobs);
}

/* Task (mi, ni) of j: its rows x K x its columns MACs; A, B, C and regcmd bytes. */
static inline struct npu_fit_task npu_job_task(const struct rocket_matmul_job *j, u32 mi, u32 ni)
{
	const struct rocket_matmul_plan *p = &j->plan;
	const struct rocket_matmul_desc *d = &j->desc;
	u32 r = d->m - mi * p->tile_rows < p->tile_rows ? d->m - mi * p->tile_rows : p->tile_rows;
	u32 c = d->n - ni * p->tile_n < p->tile_n ? d->n - ni * p->tile_n : p->tile_n;

	return (struct npu_fit_task){
		.macs = (double)r * d->k * c,
		.bytes = (double)r * d->k + (double)c * d->k + (double)r * c * 4 +
			 NPU_TASK_REGCMD_BYTES,
	};
}

#endif
