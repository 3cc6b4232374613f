/* SPDX-License-Identifier: MIT */
/* Internal interface between the emulated device's parts (lib/accel_shim/). */
#ifndef ROSENBLATT_ACCEL_SHIM_H
#define ROSENBLATT_ACCEL_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_ACCEL_MAJOR 261		/* ACCEL_MAJOR */
#define SHIM_MAX_DEVS 3
#define SHIM_MAX_CORES 3		/* RK3588: three NPU cores */

#define SHIM_DRV_NAME "rocket"
#define SHIM_DRV_DATE ""
#define SHIM_DRV_DESC "rocket DRM (Rosenblatt emulator: simulated RK3588 NPU, not hardware)"
#ifdef SHIM_HAVE_MATMUL
#define SHIM_DRV_MAJOR 1
#define SHIM_DRV_MINOR 1		/* 1.1: DRM_IOCTL_ROCKET_SUBMIT_MATMUL */
#else
#define SHIM_DRV_MAJOR 1
#define SHIM_DRV_MINOR 0
#endif

struct shim_file;
struct shim_bo;

struct shim_task {
	uint64_t regcmd;	/* NPU address of the task's first qword */
	uint32_t regcmd_count;	/* qwords, trailer included (mainline) */
};

int shim_copy_from_user(void *dst, uint64_t src, size_t len);
int shim_copy_to_user(uint64_t dst, const void *src, size_t len);

/* Reference-counted handle lookup (NULL: no such handle in this file). */
struct shim_bo *shim_bo_lookup_get(struct shim_file *f, uint32_t handle);
void shim_bo_put(struct shim_bo *bo);
/* A handle-less BO in the file's NPU space (NULL and *err on failure). */
struct shim_bo *shim_bo_alloc(struct shim_file *f, uint64_t size, int *err);
/* ROSENBLATT_SHIM_FAULT: is fault "what" armed for its count-th occurrence? */
int shim_fault_hit(const char *what, unsigned long count);
int shim_num_cores(const struct shim_file *f);
/* bytes mapped for the NPU (page aligned, as iommu_map_sgtable() maps) */
uint64_t shim_bo_dma(const struct shim_bo *bo);
uint64_t shim_bo_size(const struct shim_bo *bo);
void *shim_bo_host(const struct shim_bo *bo);

/* Run a job's tasks on one core (prio: BOs to map into the simulator first). */
int shim_run_job(struct shim_file *f, const struct shim_task *tasks, uint32_t ntasks,
		 struct shim_bo *const *prio, uint32_t nprio);

#ifdef SHIM_HAVE_MATMUL
int shim_ioctl_submit_matmul(struct shim_file *f, void *data);
#endif

#endif
