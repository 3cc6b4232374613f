/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the rocket kselftests: find the device, BOs, raw ioctls.
 * Plain libc + uapi headers (no libdrm), as kselftests usually are.
 */
#ifndef ROCKET_SELFTEST_HELPERS_H
#define ROCKET_SELFTEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/rocket_accel.h>

#define ROCKET_POISON 0xcd

/* ioctl() that returns 0 or -errno (kernel style) and retries EINTR. */
static inline int rkt_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : ret;
}

/* desc of DRM_IOCTL_VERSION into buf; the driver name is returned in name. */
static inline int rkt_version(int fd, char *name, size_t nlen, char *desc, size_t dlen,
			      int *major, int *minor)
{
	struct drm_version v;
	int ret;

	memset(&v, 0, sizeof(v));
	v.name = name;
	v.name_len = nlen - 1;
	v.desc = desc;
	v.desc_len = dlen - 1;
	memset(name, 0, nlen);
	memset(desc, 0, dlen);
	ret = rkt_ioctl(fd, DRM_IOCTL_VERSION, &v);
	if (major)
		*major = v.version_major;
	if (minor)
		*minor = v.version_minor;
	return ret;
}

#define RKT_MAX_ACCEL 64	/* accel minors scanned */

/*
 * Open the first /dev/accel/accelN whose DRM_IOCTL_VERSION name is "rocket"
 * (ROCKET_ACCEL_DEV overrides the path); *minor gets N when not NULL. Mainline
 * rocket registers one device (a facade over the RK3588's three cores; the
 * driver schedules jobs on them), other accel drivers may own other minors.
 * -1 when there is none: tests SKIP.
 */
static inline int rkt_open_minor(int *minor)
{
	const char *env = getenv("ROCKET_ACCEL_DEV");
	char path[64], name[32], desc[128];

	for (int i = 0; i < RKT_MAX_ACCEL; i++) {
		int fd;

		if (env)
			snprintf(path, sizeof(path), "%s", env);
		else
			snprintf(path, sizeof(path), "/dev/accel/accel%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			if (!rkt_version(fd, name, sizeof(name), desc, sizeof(desc), NULL, NULL) &&
			    !strcmp(name, "rocket")) {
				if (minor)
					*minor = i;
				return fd;
			}
			close(fd);
		}
		if (env)
			break;
	}
	return -1;
}

static inline int rkt_open(void)
{
	return rkt_open_minor(NULL);
}

/* How many /dev/accel/accelN are rocket devices. */
static inline int rkt_count_devices(void)
{
	char path[64], name[32], desc[128];
	int n = 0;

	for (int i = 0; i < RKT_MAX_ACCEL; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/accel/accel%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!rkt_version(fd, name, sizeof(name), desc, sizeof(desc), NULL, NULL) &&
		    !strcmp(name, "rocket"))
			n++;
		close(fd);
	}
	return n;
}

/*
 * Feature discovery (docs/kernel.md): the driver version. Upstream rocket
 * leaves .major/.minor unset and reports 0.0; our series reports 1.1, which
 * adds DRM_IOCTL_ROCKET_SUBMIT_MATMUL and refuses zero-size BOs with -EINVAL.
 */
#define RKT_V(major, minor) ((major) << 16 | (minor))
#define RKT_V_SERIES RKT_V(1, 1)

static inline int rkt_drv_version(int fd)
{
	char name[32], desc[128];
	int major = 0, minor = 0;

	if (rkt_version(fd, name, sizeof(name), desc, sizeof(desc), &major, &minor))
		return -1;
	return RKT_V(major, minor);
}

/* Non-zero when the device is the Rosenblatt emulator (for fault injection). */
static inline int rkt_is_emulator(int fd)
{
	char name[32], desc[128];

	if (rkt_version(fd, name, sizeof(name), desc, sizeof(desc), NULL, NULL))
		return 0;
	return strstr(desc, "Rosenblatt emulator") != NULL;
}

/*
 * Emulator only: make every job submitted from now on take @ms before it
 * runs (ROSENBLATT_SHIM_JOB_DELAY_MS), so tests can act while it is queued.
 * Returns 0 on real hardware, where job timing is not under the test's control.
 */
static inline int rkt_emu_job_delay(int fd, unsigned int ms)
{
	char v[16];

	if (!rkt_is_emulator(fd))
		return 0;
	snprintf(v, sizeof(v), "%u", ms);
	if (ms)
		setenv("ROSENBLATT_SHIM_JOB_DELAY_MS", v, 1);
	else
		unsetenv("ROSENBLATT_SHIM_JOB_DELAY_MS");
	return 1;
}

/* PREP_BO with an absolute timeout of 0: poll. */
static inline int rkt_prep_poll(int fd, uint32_t handle)
{
	struct drm_rocket_prep_bo p = { .handle = handle, .timeout_ns = 0 };

	return rkt_ioctl(fd, DRM_IOCTL_ROCKET_PREP_BO, &p);
}

static inline double rkt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct rkt_bo {
	uint32_t handle;
	uint32_t size;
	uint64_t dma;
	uint64_t offset;
	void *map;
};

static inline int rkt_bo_create(int fd, uint32_t size, struct rkt_bo *bo)
{
	struct drm_rocket_create_bo c = { .size = size };
	int ret = rkt_ioctl(fd, DRM_IOCTL_ROCKET_CREATE_BO, &c);

	memset(bo, 0, sizeof(*bo));
	if (ret)
		return ret;
	bo->handle = c.handle;
	bo->size = size;
	bo->dma = c.dma_address;
	bo->offset = c.offset;
	bo->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)c.offset);
	if (bo->map == MAP_FAILED) {
		bo->map = NULL;
		return -errno;
	}
	return 0;
}

static inline int rkt_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return rkt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static inline void rkt_bo_destroy(int fd, struct rkt_bo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->handle)
		rkt_gem_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

/* Wait for the BO (absolute CLOCK_MONOTONIC timeout, relative ms given). */
static inline int rkt_prep(int fd, uint32_t handle, int64_t ms)
{
	struct timespec ts;
	struct drm_rocket_prep_bo p = { .handle = handle };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	p.timeout_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ms * 1000000;
	return rkt_ioctl(fd, DRM_IOCTL_ROCKET_PREP_BO, &p);
}

static inline int rkt_fini(int fd, uint32_t handle)
{
	struct drm_rocket_fini_bo f = { .handle = handle };

	return rkt_ioctl(fd, DRM_IOCTL_ROCKET_FINI_BO, &f);
}

/* Whole file into a malloc'd buffer; NULL if unreadable. */
static inline void *rkt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc(n ? n : 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = n;
out:
	fclose(f);
	return buf;
}

/* An address that is not mapped in this process (for -EFAULT tests). */
static inline void *rkt_unmapped_ptr(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return (void *)16;
	munmap(p, 4096);
	return p;
}

#endif
