/* SPDX-License-Identifier: MIT */
/*
 * Fitting the performance model's unit times to measured matmul times
 * (tools/npu-calibrate.c; docs/npu-backend.md "Calibration"). Pure: no I/O.
 *
 * The model of one job on one core (tools/npu-perf-model.c) is
 *
 *     t = t_call + sum over its tasks (t_task + max(macs * s_mac, bytes * s_byte))
 *
 * with t_call the fixed cost of a call beyond the ioctl (job start, the
 * interrupt, the result wait), t_task the cost of starting a task, s_mac
 * seconds per multiply-accumulate and s_byte seconds per byte the task's DMA
 * moves. Given single-core probes with known tasks and their measured
 * times, npu_fit() finds the four by least squares. The max() makes the
 * model piecewise linear: every assignment of the probes to compute- or
 * DMA-bound is solved as a linear problem and the best fit kept (at a tie,
 * the one fitting fewer rates); then tasks are reclassed one by one under
 * that fit while this improves it.
 */
#ifndef ROSENBLATT_NPU_FIT_H
#define ROSENBLATT_NPU_FIT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPU_FIT_MAX_TASKS 32
#define NPU_FIT_MAX_PROBES 12

struct npu_fit_task {
	double macs;	/* multiply-accumulates */
	double bytes;	/* bytes its DMA reads and writes (A, B, C and its regcmds) */
};

struct npu_fit_probe {
	unsigned ntasks;	/* 1..NPU_FIT_MAX_TASKS */
	struct npu_fit_task task[NPU_FIT_MAX_TASKS];
	double t;		/* measured seconds, less the ioctl and the CPU's work */
};

struct npu_fit {
	double t_call, t_task, s_mac, s_byte;
	/*
	 * Whether any probe had a task bound by compute (s_mac) or by DMA
	 * (s_byte) in the final classes: an unknown no probe depends on is not
	 * determined by the data and is left at its start value.
	 */
	bool mac_fitted, byte_fitted;
	unsigned iterations;	/* task-by-task refinements after the per-probe search */
	double rms;	/* root mean square of the residuals, seconds */
};

/*
 * Fit f to n probes (2..NPU_FIT_MAX_PROBES). The rates in *f must be
 * positive; they are kept for a rate the data do not determine. Returns 0,
 * or -1 when the probes cannot determine the fit (a singular system for
 * every class assignment, a non-finite or negative input).
 */
int npu_fit(const struct npu_fit_probe *p, unsigned n, struct npu_fit *f);

/* One task's time under f: t_task + max(macs * s_mac, bytes * s_byte). */
double npu_fit_task_time(const struct npu_fit *f, const struct npu_fit_task *t);

/* The model's time for probe p under f: t_call + its tasks' times. */
double npu_fit_predict(const struct npu_fit *f, const struct npu_fit_probe *p);

#ifdef __cplusplus
}
#endif

#endif
