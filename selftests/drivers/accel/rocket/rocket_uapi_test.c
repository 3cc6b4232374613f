// SPDX-License-Identifier: MIT
/*
 * kselftest for the rocket accel uAPI: CREATE_BO, PREP_BO, FINI_BO, GEM_CLOSE,
 * mmap and SUBMIT (user regcmd streams from the golden vectors). Runs against
 * the real driver or the Rosenblatt emulator (LD_PRELOAD=librocket-shim.so);
 * every test SKIPs when no rocket device is present.
 *
 * Runs unmodified on upstream rocket (version 0.0) and with our series (1.1):
 * behaviour only the series has is gated on the driver version and SKIPs
 * with the reason on older drivers; upstream's own behaviour is expected as
 * upstream implements it (drivers/accel/rocket @ 7.x).
 *
 * Golden vectors: $ROCKET_GOLDEN_DIR (default ./golden), the layout of
 * Rosenblatt's tests/golden/ (regcmd.txt, input_npu.bin, weight_npu.bin,
 * output_expected_npu.bin).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rocket_helpers.h"

#define ACCEL_MAJOR 261

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = rkt_open();
	if (self->fd < 0)
		SKIP(return, "no rocket accel device");
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, version)
{
	char name[32], desc[128];
	struct drm_version v = { 0 };
	int major, minor;

	char date[8] = { 0 };

	ASSERT_EQ(0, rkt_version(self->fd, name, sizeof(name), desc, sizeof(desc), &major, &minor));
	EXPECT_STREQ("rocket", name);
	TH_LOG("rocket %d.%d: %s", major, minor, desc);
	/* Upstream leaves the version unset (0.0); our series says 1.1. */
	EXPECT_TRUE((major == 0 && minor == 0) || RKT_V(major, minor) >= RKT_V_SERIES);
	/* Lengths only (NULL buffers): the kernel reports the full lengths. */
	ASSERT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_VERSION, &v));
	EXPECT_EQ(6, v.name_len);
	EXPECT_EQ(strlen(desc), v.desc_len);
	/* drm_version(): the driver date is deprecated and reads "0". */
	EXPECT_EQ(1, v.date_len);
	v.name_len = v.desc_len = 0;
	v.date = date;
	v.date_len = sizeof(date) - 1;
	ASSERT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_VERSION, &v));
	EXPECT_STREQ("0", date);
	/* A NULL buffer with a length is skipped, not a fault (drm_copy_field()). */
	v.date = NULL;
	v.date_len = 4;
	EXPECT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_VERSION, &v));
	/* A buffer that cannot be written. */
	v.name_len = 6;
	v.name = rkt_unmapped_ptr();
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_VERSION, &v));
}

TEST_F(dev, fstat_char_device)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(ACCEL_MAJOR, major(st.st_rdev));
}

/* Read a small sysfs file into buf (NUL-terminated); 0 or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

/*
 * rocket registers ONE accel device for all NPU cores: its parent is the
 * facade platform device "rknn" (no driver bound to it); the cores are
 * scheduled behind it.
 */
TEST(topology_one_device)
{
	char path[96], buf[512], want[64];
	struct stat st;
	int minor = -1, fd = rkt_open_minor(&minor);

	if (fd < 0)
		SKIP(return, "no rocket accel device");
	EXPECT_EQ(1, rkt_count_devices());
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(minor, (int)minor(st.st_rdev));
	close(fd);
	snprintf(path, sizeof(path), "/sys/dev/char/%d:%d/uevent", ACCEL_MAJOR, minor);
	ASSERT_EQ(0, read_small(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "DEVNAME=accel/accel%d\n", minor);
	EXPECT_NE(NULL, strstr(buf, want));
	snprintf(path, sizeof(path), "/sys/class/accel/accel%d/device/uevent", minor);
	ASSERT_EQ(0, read_small(path, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "MODALIAS=platform:rknn\n"));
	EXPECT_EQ(NULL, strstr(buf, "DRIVER="));
}

TEST_F(dev, null_and_unmapped_arg)
{
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, NULL));
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT, NULL));
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_PREP_BO, rkt_unmapped_ptr()));
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_FINI_BO, (void *)8));
}

TEST_F(dev, create_bo_basic)
{
	struct rkt_bo a, b;

	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &a));
	ASSERT_EQ(0, rkt_bo_create(self->fd, 10000, &b));
	EXPECT_NE(0, a.handle);
	EXPECT_NE(a.handle, b.handle);
	EXPECT_EQ(0, a.dma & 4095);
	EXPECT_EQ(0, b.dma & 4095);
	EXPECT_EQ(0, a.offset & 4095);
	EXPECT_NE(a.offset, b.offset);
	EXPECT_LT(b.dma + b.size, 1ull << 32);
	/* IOVA ranges do not overlap. */
	EXPECT_TRUE(a.dma + a.size <= b.dma || b.dma + b.size <= a.dma);
	memset(a.map, 0x5a, a.size);
	memset(b.map, 0xa5, b.size);
	EXPECT_EQ(0x5a, ((uint8_t *)a.map)[4095]);
	EXPECT_EQ(0xa5, ((uint8_t *)b.map)[9999]);
	EXPECT_EQ(0, rkt_prep(self->fd, a.handle, 100));
	EXPECT_EQ(0, rkt_fini(self->fd, a.handle));
	rkt_bo_destroy(self->fd, &a);
	rkt_bo_destroy(self->fd, &b);
}

/*
 * Size 0: our series (1.1) refuses it with -EINVAL. Upstream has no check;
 * drm_gem_shmem_create() then fails allocating the mmap offset of 0 pages
 * (drm_mm_insert_node(): -ENOSPC).
 */
TEST_F(dev, create_bo_zero_size)
{
	struct drm_rocket_create_bo c = { .size = 0 };
	int v = rkt_drv_version(self->fd), ret = rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &c);

	if (v < RKT_V_SERIES) {
		ASSERT_EQ(-ENOSPC, ret);
		SKIP(return, "rocket %d.%d: -EINVAL for size 0 needs >= 1.1 (upstream gives -ENOSPC, checked)",
		     v >> 16, v & 0xffff);
	}
	EXPECT_EQ(-EINVAL, ret);
}

/*
 * The NPU space is 32 bit: a BO cannot fit after two ~2 GiB ones. (Each stays
 * under 2 GiB: upstream mistakes a mapping of 2 GiB or more for a failure.)
 */
TEST_F(dev, create_bo_space_exhausted)
{
	struct drm_rocket_create_bo big1 = { .size = 0x7ffff000u }, big2 = big1, more = { .size = 0x3000 };

	if (!rkt_is_emulator(self->fd))
		SKIP(return, "pins 4 GiB of memory on real hardware");
	ASSERT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &big1));
	ASSERT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &big2));
	EXPECT_EQ(-ENOSPC, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &more));
	EXPECT_EQ(0, rkt_gem_close(self->fd, big1.handle));
	EXPECT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &more));
	EXPECT_EQ(0, rkt_gem_close(self->fd, big2.handle));
}

TEST_F(dev, prep_fini_bad_handle)
{
	struct drm_rocket_prep_bo p = { .handle = 0 };
	struct drm_rocket_fini_bo f = { .handle = 12345 };
	struct rkt_bo bo;

	EXPECT_EQ(-ENOENT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_PREP_BO, &p));
	EXPECT_EQ(-ENOENT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_FINI_BO, &f));
	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	p.handle = bo.handle;
	p.reserved = 1;
	EXPECT_EQ(-EINVAL, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_PREP_BO, &p));
	f.handle = bo.handle;
	f.reserved = 0x80000000u;
	EXPECT_EQ(-EINVAL, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_FINI_BO, &f));
	rkt_bo_destroy(self->fd, &bo);
}

TEST_F(dev, gem_close)
{
	struct rkt_bo bo;
	uint32_t h;

	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	h = bo.handle;
	EXPECT_EQ(0, rkt_gem_close(self->fd, h));
	EXPECT_EQ(-ENOENT, rkt_prep(self->fd, h, 10));
	EXPECT_EQ(-EINVAL, rkt_gem_close(self->fd, h));
	/* The mapping outlives the handle. */
	memset(bo.map, 1, 4096);
	munmap(bo.map, bo.size);
}

TEST_F(dev, other_files_handle)
{
	int fd2 = rkt_open();
	struct drm_rocket_fini_bo f = { 0 };
	struct rkt_bo bo;
	void *p;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	f.handle = bo.handle;
	EXPECT_EQ(-ENOENT, rkt_ioctl(fd2, DRM_IOCTL_ROCKET_FINI_BO, &f));
	EXPECT_EQ(-ENOENT, rkt_prep(fd2, bo.handle, 10));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, (off_t)bo.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	close(fd2);
	rkt_bo_destroy(self->fd, &bo);
}

TEST_F(dev, mmap_bad)
{
	struct rkt_bo bo;
	void *p;

	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->fd, (off_t)bo.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, (off_t)(bo.offset + (1ull << 40)));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->fd, (off_t)bo.offset);
	EXPECT_EQ(MAP_FAILED, p);
	rkt_bo_destroy(self->fd, &bo);
}

TEST_F(dev, mapping_survives_close)
{
	struct rkt_bo bo;
	int fd = rkt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rkt_bo_create(fd, 8192, &bo));
	close(fd);
	memset(bo.map, 0x11, 8192);
	EXPECT_EQ(0x11, ((uint8_t *)bo.map)[8191]);
	munmap(bo.map, 8192);
}

/* ---- SUBMIT with golden regcmd streams ---------------------------------- */

struct golden {
	uint64_t *q;
	size_t nq;
	void *in, *w, *out;
	size_t in_len, w_len, out_len;
};

static void gv_free(struct golden *g)
{
	free(g->q);
	free(g->in);
	free(g->w);
	free(g->out);
	memset(g, 0, sizeof(*g));
}

/* 0 on success, -ENOENT when the vectors are not there. */
static int gv_load(const char *name, struct golden *g)
{
	const char *dir = getenv("ROCKET_GOLDEN_DIR");
	char path[512], line[128];
	size_t cap = 0;
	FILE *f;

	memset(g, 0, sizeof(*g));
	if (!dir)
		dir = "golden";
	snprintf(path, sizeof(path), "%s/%s/regcmd.txt", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (g->nq == cap) {
			cap = cap ? cap * 2 : 256;
			g->q = realloc(g->q, cap * sizeof(*g->q));
		}
		g->q[g->nq++] = strtoull(line, NULL, 16);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s/input_npu.bin", dir, name);
	g->in = rkt_read_file(path, &g->in_len);
	snprintf(path, sizeof(path), "%s/%s/weight_npu.bin", dir, name);
	g->w = rkt_read_file(path, &g->w_len);
	snprintf(path, sizeof(path), "%s/%s/output_expected_npu.bin", dir, name);
	g->out = rkt_read_file(path, &g->out_len);
	if (!g->nq || !g->in || !g->w || !g->out) {
		gv_free(g);
		return -ENOENT;
	}
	return 0;
}

/* Point the stream's three address registers at our BOs. */
static void gv_patch(uint64_t *q, size_t nq, uint64_t in, uint64_t w, uint64_t out)
{
	for (size_t i = 0; i < nq; i++) {
		uint64_t v = 0;
		int hit = 1;

		switch (q[i] & 0xffff) {
		case 0x1070: v = in; break;
		case 0x1110: v = w; break;
		case 0x4020: v = out; break;
		default: hit = 0;
		}
		if (hit)
			q[i] = (q[i] & 0xffff00000000ffffull) | (v << 16);
	}
}

struct golden_bos {
	struct rkt_bo rc, in, w, out;
	uint32_t out_slack;
};

static int gv_setup(int fd, const struct golden *g, struct golden_bos *b)
{
	int ret;

	b->out_slack = 256;
	ret = rkt_bo_create(fd, g->nq * 8, &b->rc);
	ret = ret ? ret : rkt_bo_create(fd, g->in_len, &b->in);
	ret = ret ? ret : rkt_bo_create(fd, g->w_len, &b->w);
	ret = ret ? ret : rkt_bo_create(fd, g->out_len + b->out_slack, &b->out);
	if (ret)
		return ret;
	memcpy(b->rc.map, g->q, g->nq * 8);
	gv_patch(b->rc.map, g->nq, b->in.dma, b->w.dma, b->out.dma);
	memcpy(b->in.map, g->in, g->in_len);
	memcpy(b->w.map, g->w, g->w_len);
	memset(b->out.map, ROCKET_POISON, b->out.size);
	return 0;
}

static void gv_teardown(int fd, struct golden_bos *b)
{
	rkt_bo_destroy(fd, &b->rc);
	rkt_bo_destroy(fd, &b->in);
	rkt_bo_destroy(fd, &b->w);
	rkt_bo_destroy(fd, &b->out);
}

static int gv_submit(int fd, const struct golden *g, struct golden_bos *b)
{
	struct drm_rocket_task task = { .regcmd = (uint32_t)b->rc.dma, .regcmd_count = g->nq };
	uint32_t in[3] = { b->rc.handle, b->in.handle, b->w.handle }, out[1] = { b->out.handle };
	struct drm_rocket_job job = {
		.tasks = (uintptr_t)&task, .task_count = 1, .task_struct_size = sizeof(task),
		.in_bo_handles = (uintptr_t)in, .in_bo_handle_count = 3,
		.out_bo_handles = (uintptr_t)out, .out_bo_handle_count = 1,
	};
	struct drm_rocket_submit s = { .jobs = (uintptr_t)&job, .job_count = 1,
				       .job_struct_size = sizeof(job) };

	return rkt_ioctl(fd, DRM_IOCTL_ROCKET_SUBMIT, &s);
}

/* Index of the first differing byte, -1 if equal; the slack must stay poison. */
static long gv_check(const struct golden *g, const struct golden_bos *b)
{
	const uint8_t *o = b->out.map, *e = g->out;

	for (size_t i = 0; i < g->out_len; i++)
		if (o[i] != e[i])
			return (long)i;
	for (size_t i = g->out_len; i < g->out_len + b->out_slack; i++)
		if (o[i] != ROCKET_POISON)
			return (long)i;
	return -1;
}

FIXTURE(golden) {
	int fd;
	struct golden g;
	struct golden_bos b;
};

FIXTURE_VARIANT(golden) {
	const char *name;
};

#define GOLDEN(n) FIXTURE_VARIANT_ADD(golden, n) { .name = #n }
GOLDEN(hw_mtx512_int8_1x32x32);
GOLDEN(hw_mtx512_int8_1x64x64);
GOLDEN(hw_mtx512_fp16_4x36x16);
GOLDEN(hw_mtx512_fp16_fp16_1x32x16);
GOLDEN(formula_int8_4x64x64);
GOLDEN(formula_int8_32x128x96);
GOLDEN(formula_int8_1x1536x256);
GOLDEN(vendor_int8_4x64x32);
GOLDEN(vendor_fp16_4x64x32);

FIXTURE_SETUP(golden)
{
	memset(&self->b, 0, sizeof(self->b));
	memset(&self->g, 0, sizeof(self->g));
	self->fd = rkt_open();
	if (self->fd < 0)
		SKIP(return, "no rocket accel device");
	if (gv_load(variant->name, &self->g))
		SKIP(return, "golden vectors %s not found (set ROCKET_GOLDEN_DIR)", variant->name);
	ASSERT_EQ(0, gv_setup(self->fd, &self->g, &self->b));
}

FIXTURE_TEARDOWN(golden)
{
	if (self->fd >= 0) {
		gv_teardown(self->fd, &self->b);
		close(self->fd);
	}
	gv_free(&self->g);
}

TEST_F(golden, submit)
{
	ASSERT_EQ(0, gv_submit(self->fd, &self->g, &self->b));
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 2000));
	EXPECT_EQ(-1, gv_check(&self->g, &self->b));
}

/*
 * The job keeps its BOs: every input (regcmd, input, weights) unmapped and
 * its handle closed right after SUBMIT, the job's references are all that is
 * left. On the emulator the job is held back 200 ms, so it is certainly still
 * queued (PREP_BO polls -EBUSY); on hardware it may or may not have run.
 */
TEST_F(golden, inputs_closed_while_queued)
{
	int emu = rkt_emu_job_delay(self->fd, 200);
	int ret;

	ret = gv_submit(self->fd, &self->g, &self->b);
	rkt_emu_job_delay(self->fd, 0);
	ASSERT_EQ(0, ret);
	rkt_bo_destroy(self->fd, &self->b.rc);
	rkt_bo_destroy(self->fd, &self->b.in);
	rkt_bo_destroy(self->fd, &self->b.w);
	if (emu)
		EXPECT_EQ(-EBUSY, rkt_prep_poll(self->fd, self->b.out.handle));
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 2000));
	EXPECT_EQ(-1, gv_check(&self->g, &self->b));
}

/*
 * PREP_BO waits for the jobs writing the BO: absolute timeout 0 polls
 * (-EBUSY), a timeout that runs out gives -ETIMEDOUT; an input BO has no
 * write fence and does not wait. Emulator only: needs a job that is
 * known to be still running.
 */
TEST_F(golden, prep_bo_timeout)
{
	double t0;
	int ret;

	if (!rkt_emu_job_delay(self->fd, 400))
		SKIP(return, "needs a job of known duration (emulator)");
	ret = gv_submit(self->fd, &self->g, &self->b);
	rkt_emu_job_delay(self->fd, 0);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-EBUSY, rkt_prep_poll(self->fd, self->b.out.handle));
	t0 = rkt_now();
	EXPECT_EQ(-ETIMEDOUT, rkt_prep(self->fd, self->b.out.handle, 30));
	EXPECT_LE(0.025, rkt_now() - t0);
	EXPECT_EQ(0, rkt_prep_poll(self->fd, self->b.in.handle));	/* read only */
	EXPECT_EQ(0, gv_check(&self->g, &self->b));	/* not written yet */
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 5000));
	EXPECT_EQ(-1, gv_check(&self->g, &self->b));
	EXPECT_EQ(0, rkt_prep_poll(self->fd, self->b.out.handle));
}

/* Larger element strides (a newer userspace's bigger structs) work. */
TEST_F(golden, submit_larger_structs)
{
	struct { struct drm_rocket_task t; uint64_t zero[3]; } task = {
		.t = { .regcmd = (uint32_t)self->b.rc.dma, .regcmd_count = self->g.nq } };
	uint32_t in[3] = { self->b.rc.handle, self->b.in.handle, self->b.w.handle };
	uint32_t out[1] = { self->b.out.handle };
	struct { struct drm_rocket_job j; uint64_t zero[2]; } job = { .j = {
		.tasks = (uintptr_t)&task, .task_count = 1, .task_struct_size = sizeof(task),
		.in_bo_handles = (uintptr_t)in, .in_bo_handle_count = 3,
		.out_bo_handles = (uintptr_t)out, .out_bo_handle_count = 1 } };
	struct drm_rocket_submit s = { .jobs = (uintptr_t)&job, .job_count = 1,
				       .job_struct_size = sizeof(job) };

	ASSERT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT, &s));
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 2000));
	EXPECT_EQ(-1, gv_check(&self->g, &self->b));
}

/* Emulator only: an injected job timeout leaves the output alone, the next job runs. */
TEST_F(golden, injected_timeout)
{
	if (!rkt_is_emulator(self->fd))
		SKIP(return, "fault injection is an emulator feature");
	setenv("ROSENBLATT_SHIM_FAULT", "timeout", 1);
	ASSERT_EQ(0, gv_submit(self->fd, &self->g, &self->b));
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 2000));
	EXPECT_EQ(0, gv_check(&self->g, &self->b));	/* byte 0 still poison */
	unsetenv("ROSENBLATT_SHIM_FAULT");
	ASSERT_EQ(0, gv_submit(self->fd, &self->g, &self->b));
	ASSERT_EQ(0, rkt_prep(self->fd, self->b.out.handle, 2000));
	EXPECT_EQ(-1, gv_check(&self->g, &self->b));
}

TEST_F(dev, injected_alloc_failure)
{
	struct drm_rocket_create_bo c = { .size = 4096 };

	if (!rkt_is_emulator(self->fd))
		SKIP(return, "fault injection is an emulator feature");
	setenv("ROSENBLATT_SHIM_FAULT", "alloc", 1);
	EXPECT_EQ(-ENOMEM, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &c));
	unsetenv("ROSENBLATT_SHIM_FAULT");
	EXPECT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_CREATE_BO, &c));
}

/* ---- SUBMIT bad input ------------------------------------------------------ */

FIXTURE(submit) {
	int fd;
	struct rkt_bo bo;
	struct drm_rocket_task task;
	uint32_t handles[1];
	struct drm_rocket_job job;
	struct drm_rocket_submit s;
};

FIXTURE_SETUP(submit)
{
	self->fd = rkt_open();
	if (self->fd < 0)
		SKIP(return, "no rocket accel device");
	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &self->bo));
	/* A well-formed envelope; each test breaks one field. */
	self->task.regcmd = (uint32_t)self->bo.dma;
	self->task.regcmd_count = 4;
	self->handles[0] = self->bo.handle;
	memset(&self->job, 0, sizeof(self->job));
	self->job.tasks = (uintptr_t)&self->task;
	self->job.task_count = 1;
	self->job.task_struct_size = sizeof(self->task);
	self->job.in_bo_handles = (uintptr_t)self->handles;
	self->job.in_bo_handle_count = 1;
	memset(&self->s, 0, sizeof(self->s));
	self->s.jobs = (uintptr_t)&self->job;
	self->s.job_count = 1;
	self->s.job_struct_size = sizeof(self->job);
}

FIXTURE_TEARDOWN(submit)
{
	if (self->fd >= 0) {
		rkt_bo_destroy(self->fd, &self->bo);
		close(self->fd);
	}
}

#define SUBMIT(self) rkt_ioctl((self)->fd, DRM_IOCTL_ROCKET_SUBMIT, &(self)->s)

/*
 * A job that fails its own checks (task array, BO handles): every rocket so
 * far, upstream (0.0) and our series (1.1) alike, ignores the result of
 * rocket_ioctl_submit_job(): the job is dropped and SUBMIT returns 0
 * (kernel-facts gap 1). There the errno is not observable: the 0 is checked,
 * then the test SKIPs. A later version is expected to report it.
 */
#define EXPECT_JOB_REFUSED(fd, ret, err) do { \
	int v_ = rkt_drv_version(fd); \
	if (v_ <= RKT_V_SERIES) { \
		ASSERT_EQ(0, (ret)); \
		SKIP(return, "rocket %d.%d drops a failing job, SUBMIT returns 0: %s not observable", \
		     v_ >> 16, v_ & 0xffff, #err); \
	} \
	EXPECT_EQ(-(err), (ret)); \
} while (0)

TEST_F(submit, zero_jobs_is_noop)
{
	self->s.job_count = 0;
	self->s.jobs = 0;
	EXPECT_EQ(0, SUBMIT(self));
}

TEST_F(submit, job_struct_size_too_small)
{
	self->s.job_struct_size = sizeof(self->job) - 8;
	EXPECT_EQ(-EINVAL, SUBMIT(self));
}

TEST_F(submit, reserved_nonzero)
{
	self->s.reserved = 1;
	EXPECT_EQ(-EINVAL, SUBMIT(self));
}

TEST_F(submit, jobs_null)
{
	self->s.jobs = 0;
	EXPECT_EQ(-EFAULT, SUBMIT(self));
}

TEST_F(submit, jobs_unmapped)
{
	self->s.jobs = (uintptr_t)rkt_unmapped_ptr();
	EXPECT_EQ(-EFAULT, SUBMIT(self));
}

TEST_F(submit, task_count_zero)
{
	self->job.task_count = 0;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EINVAL);
}

TEST_F(submit, task_struct_size_too_small)
{
	self->job.task_struct_size = 4;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EINVAL);
}

TEST_F(submit, regcmd_count_zero)
{
	self->task.regcmd_count = 0;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EINVAL);
}

TEST_F(submit, tasks_null)
{
	self->job.tasks = 0;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EFAULT);
}

TEST_F(submit, tasks_unmapped)
{
	self->job.tasks = (uintptr_t)rkt_unmapped_ptr();
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EFAULT);
}

TEST_F(submit, unknown_handle)
{
	self->handles[0] = 0xdead;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), ENOENT);
}

TEST_F(submit, closed_handle)
{
	uint32_t h = self->bo.handle;

	EXPECT_EQ(0, rkt_gem_close(self->fd, h));
	self->bo.handle = 0;
	self->job.in_bo_handles = 0;
	self->job.in_bo_handle_count = 0;
	self->handles[0] = h;
	self->job.out_bo_handles = (uintptr_t)self->handles;
	self->job.out_bo_handle_count = 1;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), ENOENT);
}

TEST_F(submit, other_files_handle)
{
	int fd2 = rkt_open();
	struct drm_rocket_submit s = self->s;

	int ret;

	ASSERT_LE(0, fd2);
	ret = rkt_ioctl(fd2, DRM_IOCTL_ROCKET_SUBMIT, &s);
	close(fd2);
	EXPECT_JOB_REFUSED(self->fd, ret, ENOENT);
}

TEST_F(submit, handles_null)
{
	self->job.in_bo_handles = 0;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EFAULT);
}

TEST_F(submit, handles_unmapped)
{
	self->job.out_bo_handles = (uintptr_t)rkt_unmapped_ptr();
	self->job.out_bo_handle_count = 2;
	EXPECT_JOB_REFUSED(self->fd, SUBMIT(self), EFAULT);
}

/* Header checks come first and are reported on every version. */
TEST_F(submit, reserved_ignored_without_jobs)
{
	/* job_count 0 returns before the reserved check (upstream order). */
	self->s.job_count = 0;
	self->s.reserved = 1;
	EXPECT_EQ(0, SUBMIT(self));
}

/* A stream the NPU cannot run (all zero) does not take the device down. */
TEST_F(submit, garbage_stream_then_device_still_works)
{
	struct rkt_bo bo;

	memset(self->bo.map, 0, 4096);
	EXPECT_EQ(0, SUBMIT(self));
	EXPECT_EQ(0, rkt_prep(self->fd, self->bo.handle, 2000));
	EXPECT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	rkt_bo_destroy(self->fd, &bo);
}

/* A child process inherits the file; its BOs stay usable there. */
TEST_F(dev, fork_child_uses_file)
{
	struct rkt_bo bo;
	pid_t pid;
	int status;

	ASSERT_EQ(0, rkt_bo_create(self->fd, 4096, &bo));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(bo.map, 0x42, 4096);
		_exit(rkt_prep(self->fd, bo.handle, 100) == 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0x42, ((uint8_t *)bo.map)[100]);
	rkt_bo_destroy(self->fd, &bo);
}

TEST_HARNESS_MAIN
