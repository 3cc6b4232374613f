/* SPDX-License-Identifier: MIT */
/* Internal interface between the emulated device's parts (lib/accel_shim/). */
#ifndef ROSENBLATT_ACCEL_SHIM_H
#define ROSENBLATT_ACCEL_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_ACCEL_MAJOR 261		/* ACCEL_MAJOR */
#define SHIM_MAX_DEVS 1		/* rocket registers one facade device for all cores */
#define SHIM_MAX_CORES 3		/* RK3588: three NPU cores */

/* DRM_IOCTL_VERSION: as the driver, except the desc, which says what this is. */
#define SHIM_DRV_NAME "rocket"
#define SHIM_DRV_DATE "0"		/* drm_version(): the driver date is deprecated */
#define SHIM_DRV_DESC "rocket DRM (Rosenblatt emulator: simulated RK3588 NPU, not hardware)"
#define SHIM_DRV_DESC_UPSTREAM \
	"rocket DRM (Rosenblatt emulator of the unpatched upstream driver: simulated RK3588 NPU, not hardware)"
#define SHIM_DRV_MAJOR 1		/* our series; upstream reports 0.0 */
#define SHIM_DRV_MINOR 1		/* 1.1: DRM_IOCTL_ROCKET_SUBMIT_MATMUL */

struct shim_file;
struct shim_bo;
struct shim_job;

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
struct shim_bo *shim_bo_alloc_internal(struct shim_file *f, uint64_t size, int *err);
/* ROSENBLATT_SHIM_FAULT: is fault "what" armed for its count-th occurrence? */
int shim_fault_hit(const char *what, unsigned long count);
int shim_num_cores(const struct shim_file *f);
/* ROSENBLATT_SHIM_UPSTREAM=1: behave as the unpatched upstream driver. */
int shim_upstream(void);
/* bytes mapped for the NPU (page aligned, as iommu_map_sgtable() maps) */
uint64_t shim_bo_dma(const struct shim_bo *bo);
uint64_t shim_bo_size(const struct shim_bo *bo);
void *shim_bo_host(const struct shim_bo *bo);

/*
 * A job over @tasks holding references on @in (read) and @out (written) BOs
 * and the file's domain; NULL and *err on failure. Not queued yet.
 */
struct shim_job *shim_job_new(struct shim_file *f, const struct shim_task *tasks, uint32_t ntasks,
			      struct shim_bo *const *in, uint32_t nin,
			      struct shim_bo *const *out, uint32_t nout, int *err);
void shim_job_put(struct shim_job *job);
/*
 * Queue @n jobs as one unit; they run asynchronously on the core workers.
 * core[i] < 0: the file's shared entity, else the entity of core core[i];
 * group: NULL or per job its matmul index (conflicting jobs of different
 * entries are ordered); read_fences: in BOs get READ fences too. Takes the
 * job references; on failure (-ENOMEM) nothing is queued.
 */
int shim_jobs_queue(struct shim_file *f, struct shim_job **jobs, uint32_t n, const int *core,
		    const uint32_t *group, int read_fences);

#ifdef SHIM_HAVE_MATMUL
int shim_ioctl_submit_matmul(struct shim_file *f, void *data);
#endif

#endif
