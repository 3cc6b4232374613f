/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2024 Tomeu Vizoso
 */
#ifndef __DRM_UAPI_ROCKET_ACCEL_H__
#define __DRM_UAPI_ROCKET_ACCEL_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_ROCKET_CREATE_BO			0x00
#define DRM_ROCKET_SUBMIT			0x01
#define DRM_ROCKET_PREP_BO			0x02
#define DRM_ROCKET_FINI_BO			0x03
#define DRM_ROCKET_SUBMIT_MATMUL		0x04

#define DRM_IOCTL_ROCKET_CREATE_BO		DRM_IOWR(DRM_COMMAND_BASE + DRM_ROCKET_CREATE_BO, struct drm_rocket_create_bo)
#define DRM_IOCTL_ROCKET_SUBMIT			DRM_IOW(DRM_COMMAND_BASE + DRM_ROCKET_SUBMIT, struct drm_rocket_submit)
#define DRM_IOCTL_ROCKET_PREP_BO		DRM_IOW(DRM_COMMAND_BASE + DRM_ROCKET_PREP_BO, struct drm_rocket_prep_bo)
#define DRM_IOCTL_ROCKET_FINI_BO		DRM_IOW(DRM_COMMAND_BASE + DRM_ROCKET_FINI_BO, struct drm_rocket_fini_bo)
#define DRM_IOCTL_ROCKET_SUBMIT_MATMUL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_ROCKET_SUBMIT_MATMUL, struct drm_rocket_submit_matmul)

/**
 * struct drm_rocket_create_bo - ioctl argument for creating Rocket BOs.
 *
 */
struct drm_rocket_create_bo {
	/**
	 * @size: Input: Size of the requested BO.
	 */
	__u32 size;

	/**
	 * @handle: Output: GEM handle for the BO.
	 */
	__u32 handle;

	/**
	 * @dma_address: Output: DMA address for the BO in the NPU address
	 * space.  This address is private to the DRM fd and is valid for
	 * the lifetime of the GEM handle.
	 */
	__u64 dma_address;

	/**
	 * @offset: Output: Offset into the drm node to use for subsequent
	 * mmap call.
	 */
	__u64 offset;
};

/**
 * struct drm_rocket_prep_bo - ioctl argument for starting CPU ownership of the BO.
 *
 * Takes care of waiting for any NPU jobs that might still use the NPU and performs cache
 * synchronization.
 */
struct drm_rocket_prep_bo {
	/**
	 * @handle: Input: GEM handle of the buffer object.
	 */
	__u32 handle;

	/**
	 * @reserved: Reserved, must be zero.
	 */
	__u32 reserved;

	/**
	 * @timeout_ns: Input: Amount of time to wait for NPU jobs.
	 */
	__s64 timeout_ns;
};

/**
 * struct drm_rocket_fini_bo - ioctl argument for finishing CPU ownership of the BO.
 *
 * Synchronize caches for NPU access.
 */
struct drm_rocket_fini_bo {
	/**
	 * @handle: Input: GEM handle of the buffer object.
	 */
	__u32 handle;

	/**
	 * @reserved: Reserved, must be zero.
	 */
	__u32 reserved;
};

/**
 * struct drm_rocket_task - A task to be run on the NPU
 *
 * A task is the smallest unit of work that can be run on the NPU.
 */
struct drm_rocket_task {
	/**
	 * @regcmd: Input: DMA address to NPU mapping of register command buffer
	 */
	__u32 regcmd;

	/**
	 * @regcmd_count: Input: Number of commands in the register command
	 * buffer
	 */
	__u32 regcmd_count;
};

/**
 * struct drm_rocket_job - A job to be run on the NPU
 *
 * The kernel will schedule the execution of this job taking into account its
 * dependencies with other jobs. All tasks in the same job will be executed
 * sequentially on the same core, to benefit from memory residency in SRAM.
 */
struct drm_rocket_job {
	/**
	 * @tasks: Input: Pointer to an array of struct drm_rocket_task.
	 */
	__u64 tasks;

	/**
	 * @in_bo_handles: Input: Pointer to a u32 array of the BOs that
	 * are read by the job.
	 */
	__u64 in_bo_handles;

	/**
	 * @out_bo_handles: Input: Pointer to a u32 array of the BOs that
	 * are written to by the job.
	 */
	__u64 out_bo_handles;

	/**
	 * @task_count: Input: Number of tasks passed in.
	 */
	__u32 task_count;

	/**
	 * @task_struct_size: Input: Size in bytes of the structs in the
	 * @tasks field.
	 */
	__u32 task_struct_size;

	/**
	 * @in_bo_handle_count: Input: Number of input BO handles passed in
	 * (size is that times 4).
	 */
	__u32 in_bo_handle_count;

	/**
	 * @out_bo_handle_count: Input: Number of output BO handles passed in
	 * (size is that times 4).
	 */
	__u32 out_bo_handle_count;
};

/**
 * struct drm_rocket_submit - ioctl argument for submitting commands to the NPU.
 *
 * The kernel will schedule the execution of these jobs in dependency order.
 */
struct drm_rocket_submit {
	/**
	 * @jobs: Input: Pointer to an array of struct drm_rocket_job.
	 */
	__u64 jobs;

	/**
	 * @job_count: Input: Number of jobs passed in.
	 */
	__u32 job_count;

	/**
	 * @job_struct_size: Input: Size in bytes of the structs in the
	 * @jobs field.
	 */
	__u32 job_struct_size;

	/**
	 * @reserved: Reserved, must be zero.
	 */
	__u64 reserved;
};

/**
 * enum drm_rocket_type - element types of &struct drm_rocket_matmul
 * @DRM_ROCKET_TYPE_NONE: invalid, so that a zeroed descriptor is rejected
 * @DRM_ROCKET_TYPE_INT8: signed 8-bit integer
 * @DRM_ROCKET_TYPE_FP16: IEEE 754 binary16
 * @DRM_ROCKET_TYPE_INT32: signed 32-bit integer
 * @DRM_ROCKET_TYPE_FP32: IEEE 754 binary32
 *
 * Supported combinations (A, B, C): INT8, INT8, INT32; FP16, FP16, FP32;
 * FP16, FP16, FP16.
 */
enum drm_rocket_type {
	DRM_ROCKET_TYPE_NONE = 0,
	DRM_ROCKET_TYPE_INT8 = 1,
	DRM_ROCKET_TYPE_FP16 = 2,
	DRM_ROCKET_TYPE_INT32 = 3,
	DRM_ROCKET_TYPE_FP32 = 4,
};

/**
 * DRM_ROCKET_MATMUL_NO_SPLIT - run this matmul on a single NPU core
 *
 * Without this flag the kernel may split a large matmul over several cores.
 */
#define DRM_ROCKET_MATMUL_NO_SPLIT		(1 << 0)

/**
 * DRM_ROCKET_MATMUL_SPLIT - split this matmul over the cores whatever its size
 *
 * Without a flag the kernel splits only matmuls large enough for the split
 * to pay for the extra job starts. A matmul over few rows of A (one token's
 * activations) has little arithmetic but reads all of B, so its time can be
 * the weights' DMA, which several cores share out. Not together with
 * DRM_ROCKET_MATMUL_NO_SPLIT.
 */
#define DRM_ROCKET_MATMUL_SPLIT			(1 << 1)
#define DRM_ROCKET_MATMUL_FLAGS			(DRM_ROCKET_MATMUL_NO_SPLIT | \
						 DRM_ROCKET_MATMUL_SPLIT)

/**
 * struct drm_rocket_matmul - one matrix multiplication C = A * B^T
 *
 * The kernel generates the NPU register commands for this operation itself;
 * no user command stream is involved. All buffers are GEM handles of the
 * same DRM file plus byte offsets. Data are in the NPU's native layouts
 * (A and C: NC1HWC2 with 16-byte atoms; B: kernel-major blocks), and the
 * dimensions must already be padded: @k to a multiple of 32, @n to a
 * multiple of 32 (INT8) or 16 (FP16), @m to 1 or a multiple of 4.
 *
 * Implicit synchronisation: A, B and bias are read, C is written; the job
 * waits for earlier writers of the read BOs and for earlier users of C.
 */
struct drm_rocket_matmul {
	/** @a_handle: Input: GEM handle of A (M x K, @in_type). */
	__u32 a_handle;

	/** @b_handle: Input: GEM handle of B (N x K, @weight_type). */
	__u32 b_handle;

	/** @c_handle: Input: GEM handle of C (M x N, @out_type), written. */
	__u32 c_handle;

	/** @bias_handle: Input: GEM handle of the bias (N x @out_type) or 0. */
	__u32 bias_handle;

	/** @a_offset: Input: byte offset of A in its BO, 16-byte aligned. */
	__u64 a_offset;

	/** @b_offset: Input: byte offset of B in its BO, 16-byte aligned. */
	__u64 b_offset;

	/** @c_offset: Input: byte offset of C in its BO, 16-byte aligned. */
	__u64 c_offset;

	/** @bias_offset: Input: byte offset of the bias, 0 without bias. */
	__u64 bias_offset;

	/** @m: Input: rows of A and C. */
	__u32 m;

	/** @k: Input: columns of A and B (the reduction dimension). */
	__u32 k;

	/** @n: Input: rows of B, columns of C. */
	__u32 n;

	/** @in_type: Input: element type of A, &enum drm_rocket_type. */
	__u32 in_type;

	/** @weight_type: Input: element type of B, &enum drm_rocket_type. */
	__u32 weight_type;

	/** @out_type: Input: element type of C, &enum drm_rocket_type. */
	__u32 out_type;

	/**
	 * @a_row_stride: Input: bytes between rows of A; 0 selects the
	 * packed NPU layout, the only one accepted so far.
	 */
	__u32 a_row_stride;

	/** @c_row_stride: Input: as @a_row_stride, for C. */
	__u32 c_row_stride;

	/** @flags: Input: DRM_ROCKET_MATMUL_* flags. */
	__u32 flags;

	/** @pad: Reserved, must be zero. */
	__u32 pad;
};

/**
 * struct drm_rocket_submit_matmul - ioctl argument for DRM_IOCTL_ROCKET_SUBMIT_MATMUL
 *
 * Queues @matmul_count matmuls in array order; each one is validated before
 * any of them is queued, so on error nothing has been queued. A call with
 * @matmul_count 0 and all other fields valid does nothing and returns 0,
 * which userspace can use to probe for the ioctl (the driver also reports
 * version 1.1 or later through DRM_IOCTL_VERSION).
 */
struct drm_rocket_submit_matmul {
	/** @matmuls: Input: pointer to an array of struct drm_rocket_matmul. */
	__u64 matmuls;

	/** @matmul_count: Input: number of elements in @matmuls. */
	__u32 matmul_count;

	/**
	 * @matmul_struct_size: Input: size in bytes of one element of
	 * @matmuls, at least the size of the first version of the struct.
	 * Bytes the kernel does not know must be zero.
	 */
	__u32 matmul_struct_size;

	/** @flags: Input: none defined yet, must be zero. */
	__u32 flags;

	/** @pad: Reserved, must be zero. */
	__u32 pad;
};

#if defined(__cplusplus)
}
#endif

#endif /* __DRM_UAPI_ROCKET_ACCEL_H__ */
