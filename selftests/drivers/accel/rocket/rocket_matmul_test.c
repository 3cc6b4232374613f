// SPDX-License-Identifier: MIT
/*
 * kselftest for DRM_IOCTL_ROCKET_SUBMIT_MATMUL (rocket uAPI 1.1): results of
 * every type combination over many shapes against a CPU reference (outputs
 * poisoned first), several matmuls per ioctl, chains, the bad-input list
 * (specific errno, C untouched), concurrency from threads and processes.
 * SKIPs without a rocket device or on a driver older than 1.1 (upstream
 * rocket reports 0.0 and has no SUBMIT_MATMUL; see the discovery test).
 *
 * Layouts (rocket_accel.h; the M row tiling as rocket_regcmd.h documents it):
 * A and C are NC1HWC2 blocks of R rows, R = M if it fits the CBUF data banks,
 * B is kernel-major [N/NB][K/32][NB][32].
 */
#include <pthread.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rocket_helpers.h"

#ifndef DRM_IOCTL_ROCKET_SUBMIT_MATMUL
#error "needs a rocket_accel.h with DRM_IOCTL_ROCKET_SUBMIT_MATMUL"
#endif

#define POISON32 0xcdcdcdcdu

struct mm_type {
	const char *name;
	uint32_t in, out, esz, osz, nalign;
};

static const struct mm_type T_I8 = { "int8->int32", DRM_ROCKET_TYPE_INT8, DRM_ROCKET_TYPE_INT32, 1, 4, 32 };
static const struct mm_type T_F16F32 = { "fp16->fp32", DRM_ROCKET_TYPE_FP16, DRM_ROCKET_TYPE_FP32, 2, 4, 16 };
static const struct mm_type T_F16F16 = { "fp16->fp16", DRM_ROCKET_TYPE_FP16, DRM_ROCKET_TYPE_FP16, 2, 2, 16 };

static uint32_t tile_rows(uint32_t m, uint32_t k, uint32_t esz)
{
	uint32_t max = 10 * 32768 / (k * esz);

	if (m == 1)
		return 1;
	if (max > 1020)
		max = 1020;
	max &= ~3u;
	return m < max ? m : max;
}

/* Byte offset of A/C element (m, c) for a matrix with C columns of size sz. */
static size_t nc1hwc2_off(uint32_t M, uint32_t C, uint32_t R, uint32_t sz, uint32_t m, uint32_t c)
{
	uint32_t c2 = 16 / sz, m0 = m / R * R, rows = M - m0 < R ? M - m0 : R, r = m - m0;

	return (size_t)m0 * C * sz + ((size_t)(c / c2) * rows * c2 + (size_t)r * c2 + c % c2) * sz;
}

static size_t b_off(uint32_t K, uint32_t nb, uint32_t esz, uint32_t n, uint32_t k)
{
	return ((size_t)(n / nb) * nb * K + (size_t)(k / 32) * nb * 32 + (size_t)(n % nb) * 32 + k % 32) * esz;
}

static uint16_t f2h(float f)
{
	_Float16 h = (_Float16)f;
	uint16_t u;

	memcpy(&u, &h, 2);
	return u;
}

static float h2f(uint16_t u)
{
	_Float16 h;

	memcpy(&h, &u, 2);
	return (float)h;
}

struct mm_case {
	const struct mm_type *t;
	uint32_t M, K, N;
	struct rkt_bo a, b, c;
	uint64_t a_off, b_off, c_off;
	uint32_t seed;
	uint32_t c_bytes, slack;
};

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* Small integers: every sum is exact in fp32 (and in fp16 when small). */
static void mm_fill(struct mm_case *c)
{
	const struct mm_type *t = c->t;
	uint32_t R = tile_rows(c->M, c->K, t->esz), nb = t->esz == 1 ? 32 : 16, s = c->seed;
	int span = t->out == DRM_ROCKET_TYPE_FP16 ? 1 : 4;
	uint8_t *A = (uint8_t *)c->a.map + c->a_off, *B = (uint8_t *)c->b.map + c->b_off;

	for (uint32_t m = 0; m < c->M; m++)
		for (uint32_t k = 0; k < c->K; k++) {
			int v = (int)(rnd(&s) % (2 * span + 1)) - span;
			size_t o = nc1hwc2_off(c->M, c->K, R, t->esz, m, k);

			if (t->esz == 1)
				A[o] = (uint8_t)(int8_t)v;
			else {
				uint16_t h = f2h((float)v);
				memcpy(A + o, &h, 2);
			}
		}
	for (uint32_t n = 0; n < c->N; n++)
		for (uint32_t k = 0; k < c->K; k++) {
			int v = (int)(rnd(&s) % (2 * span + 1)) - span;
			size_t o = b_off(c->K, nb, t->esz, n, k);

			if (t->esz == 1)
				B[o] = (uint8_t)(int8_t)v;
			else {
				uint16_t h = f2h((float)v);
				memcpy(B + o, &h, 2);
			}
		}
	memset((uint8_t *)c->c.map + c->c_off, ROCKET_POISON, c->c_bytes + c->slack);
}

static double a_at(const struct mm_case *c, uint32_t m, uint32_t k)
{
	const uint8_t *A = (const uint8_t *)c->a.map + c->a_off;
	size_t o = nc1hwc2_off(c->M, c->K, tile_rows(c->M, c->K, c->t->esz), c->t->esz, m, k);
	uint16_t h;

	if (c->t->esz == 1)
		return (int8_t)A[o];
	memcpy(&h, A + o, 2);
	return h2f(h);
}

static double b_at(const struct mm_case *c, uint32_t n, uint32_t k)
{
	const uint8_t *B = (const uint8_t *)c->b.map + c->b_off;
	size_t o = b_off(c->K, c->t->esz == 1 ? 32 : 16, c->t->esz, n, k);
	uint16_t h;

	if (c->t->esz == 1)
		return (int8_t)B[o];
	memcpy(&h, B + o, 2);
	return h2f(h);
}

/* 0 when C matches the reference and the slack is still poison; log the first miss. */
static int mm_verify(const struct mm_case *c, char *msg, size_t len)
{
	const struct mm_type *t = c->t;
	const uint8_t *C = (const uint8_t *)c->c.map + c->c_off;
	uint32_t R = tile_rows(c->M, c->K, t->esz);
	double *arow = malloc(sizeof(double) * c->K);

	for (uint32_t m = 0; m < c->M; m++) {
		for (uint32_t k = 0; k < c->K; k++)
			arow[k] = a_at(c, m, k);
		for (uint32_t n = 0; n < c->N; n++) {
			double ref = 0;
			size_t o = nc1hwc2_off(c->M, c->N, R, t->osz, m, n);
			uint32_t got = 0, want;

			for (uint32_t k = 0; k < c->K; k++)
				ref += arow[k] * b_at(c, n, k);
			memcpy(&got, C + o, t->osz);
			if (t->out == DRM_ROCKET_TYPE_INT32) {
				want = (uint32_t)(int32_t)ref;
			} else if (t->out == DRM_ROCKET_TYPE_FP32) {
				float f = (float)ref;
				memcpy(&want, &f, 4);
			} else {
				want = f2h((float)ref);
			}
			if (got != want) {
				snprintf(msg, len, "%s %ux%ux%u: C[%u][%u] = 0x%x, expected 0x%x (%g)",
					 t->name, c->M, c->K, c->N, m, n, got, want, ref);
				free(arow);
				return 1;
			}
		}
	}
	free(arow);
	for (uint32_t i = 0; i < c->slack; i++)
		if (C[c->c_bytes + i] != ROCKET_POISON) {
			snprintf(msg, len, "%s %ux%ux%u: byte %u past C written", t->name, c->M, c->K,
				 c->N, i);
			return 1;
		}
	return 0;
}

static int mm_alloc(int fd, struct mm_case *c, const struct mm_type *t, uint32_t M, uint32_t K,
		    uint32_t N, uint32_t seed)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->t = t;
	c->M = M, c->K = K, c->N = N, c->seed = seed;
	c->a_off = 16 * (seed % 4);
	c->b_off = 16 * (seed % 3);
	c->c_off = 16 * (seed % 5);
	c->c_bytes = M * N * t->osz;
	c->slack = 64;
	ret = rkt_bo_create(fd, c->a_off + (uint64_t)M * K * t->esz, &c->a);
	ret = ret ? ret : rkt_bo_create(fd, c->b_off + (uint64_t)N * K * t->esz, &c->b);
	ret = ret ? ret : rkt_bo_create(fd, c->c_off + c->c_bytes + c->slack, &c->c);
	if (!ret)
		mm_fill(c);
	return ret;
}

static void mm_release(int fd, struct mm_case *c)
{
	rkt_bo_destroy(fd, &c->a);
	rkt_bo_destroy(fd, &c->b);
	rkt_bo_destroy(fd, &c->c);
}

static void mm_desc(const struct mm_case *c, struct drm_rocket_matmul *d)
{
	memset(d, 0, sizeof(*d));
	d->a_handle = c->a.handle;
	d->b_handle = c->b.handle;
	d->c_handle = c->c.handle;
	d->a_offset = c->a_off;
	d->b_offset = c->b_off;
	d->c_offset = c->c_off;
	d->m = c->M;
	d->k = c->K;
	d->n = c->N;
	d->in_type = d->weight_type = c->t->in;
	d->out_type = c->t->out;
}

static int mm_submit(int fd, struct drm_rocket_matmul *d, uint32_t count, uint32_t size)
{
	struct drm_rocket_submit_matmul s = {
		.matmuls = (uintptr_t)d, .matmul_count = count,
		.matmul_struct_size = size ? size : sizeof(*d),
	};

	return rkt_ioctl(fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s);
}

static int has_matmul(int fd)
{
	return rkt_drv_version(fd) >= RKT_V_SERIES;
}

/*
 * Both ways of discovery agree (docs/kernel.md): the version says 1.1, or
 * the probe (count 0, all fields 0) gives -EINVAL, the DRM core's answer to a
 * driver ioctl number the driver does not have. Runs on every driver.
 */
TEST(discovery)
{
	struct drm_rocket_submit_matmul s = { 0 };
	int fd = rkt_open(), v, ret;

	if (fd < 0)
		SKIP(return, "no rocket accel device");
	v = rkt_drv_version(fd);
	ret = rkt_ioctl(fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s);
	close(fd);
	TH_LOG("rocket %d.%d, SUBMIT_MATMUL probe: %d", v >> 16, v & 0xffff, ret);
	EXPECT_EQ(v >= RKT_V_SERIES ? 0 : -EINVAL, ret);
}

FIXTURE(mm) {
	int fd;
};

FIXTURE_SETUP(mm)
{
	self->fd = rkt_open();
	if (self->fd < 0)
		SKIP(return, "no rocket accel device");
	if (!has_matmul(self->fd))
		SKIP(return, "driver older than 1.1: no SUBMIT_MATMUL");
}

FIXTURE_TEARDOWN(mm)
{
	if (self->fd >= 0)
		close(self->fd);
}

FIXTURE_VARIANT(mm) {
	const struct mm_type *t;
};
FIXTURE_VARIANT_ADD(mm, int8) { .t = &T_I8 };
FIXTURE_VARIANT_ADD(mm, fp16_fp32) { .t = &T_F16F32 };
FIXTURE_VARIANT_ADD(mm, fp16_fp16) { .t = &T_F16F16 };

/* One matmul per ioctl over edge and tiled shapes; N is scaled to the type's alignment. */
TEST_F_TIMEOUT(mm, shapes, 300)
{
	static const uint32_t shapes[][3] = {
		{ 1, 32, 1 }, { 4, 32, 1 }, { 1, 64, 2 }, { 8, 96, 3 }, { 12, 128, 1 },
		{ 36, 32, 4 }, { 64, 256, 2 }, { 100, 512, 6 }, { 4, 1536, 8 },
		{ 1, 4096, 8 }, { 100, 4096, 2 }, { 256, 64, 16 }, { 1020, 32, 1 },
		{ 1024, 64, 2 }, { 64, 512, 16 }, { 4, 16384 / 2, 1 },
	};
	const struct mm_type *t = variant->t;
	char msg[256];

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint32_t M = shapes[i][0], K = shapes[i][1], N = shapes[i][2] * t->nalign;
		struct drm_rocket_matmul d;
		struct mm_case c;

		if (K * t->esz > 32768)
			continue;
		ASSERT_EQ(0, mm_alloc(self->fd, &c, t, M, K, N, (uint32_t)i + 1));
		mm_desc(&c, &d);
		EXPECT_EQ(0, mm_submit(self->fd, &d, 1, 0));
		EXPECT_EQ(0, rkt_prep(self->fd, c.c.handle, 5000));
		if (mm_verify(&c, msg, sizeof(msg))) {
			TH_LOG("%s", msg);
			EXPECT_TRUE(0);
		}
		mm_release(self->fd, &c);
	}
}

/* Several matmuls, mixed types, one ioctl; NO_SPLIT on some. */
TEST_F(mm, several_per_ioctl)
{
	enum { NMM = 8 };
	const struct mm_type *ts[] = { &T_I8, &T_F16F32, &T_F16F16 };
	struct drm_rocket_matmul d[NMM];
	struct mm_case c[NMM];
	char msg[256];

	for (int i = 0; i < NMM; i++) {
		const struct mm_type *t = ts[i % 3];

		ASSERT_EQ(0, mm_alloc(self->fd, &c[i], t, 4 * (i + 1), 32 * (i + 1), t->nalign * (i % 4 + 1), 100 + i));
		mm_desc(&c[i], &d[i]);
		if (i & 1)
			d[i].flags = DRM_ROCKET_MATMUL_NO_SPLIT;
	}
	ASSERT_EQ(0, mm_submit(self->fd, d, NMM, 0));
	for (int i = 0; i < NMM; i++) {
		EXPECT_EQ(0, rkt_prep(self->fd, c[i].c.handle, 5000));
		if (mm_verify(&c[i], msg, sizeof(msg))) {
			TH_LOG("%d: %s", i, msg);
			EXPECT_TRUE(0);
		}
		mm_release(self->fd, &c[i]);
	}
}

/* fp16 C (NC1HWC2, 8 halves per atom) is the A layout of the next matmul. */
TEST_F(mm, chain)
{
	struct mm_case c1, c2;
	struct drm_rocket_matmul d[2];
	char msg[256];

	ASSERT_EQ(0, mm_alloc(self->fd, &c1, &T_F16F16, 8, 64, 32, 7));
	ASSERT_EQ(0, mm_alloc(self->fd, &c2, &T_F16F32, 8, 32, 16, 8));
	/* Second matmul reads A from the first one's C. */
	mm_desc(&c1, &d[0]);
	mm_desc(&c2, &d[1]);
	d[1].a_handle = c1.c.handle;
	d[1].a_offset = c1.c_off;
	ASSERT_EQ(0, mm_submit(self->fd, d, 2, 0));
	ASSERT_EQ(0, rkt_prep(self->fd, c2.c.handle, 5000));
	EXPECT_EQ(0, mm_verify(&c1, msg, sizeof(msg)));
	/* Check c2 against c1's output as A. */
	rkt_bo_destroy(self->fd, &c2.a);
	c2.a = c1.c;
	c2.a_off = c1.c_off;
	if (mm_verify(&c2, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
		EXPECT_TRUE(0);
	}
	memset(&c2.a, 0, sizeof(c2.a));
	mm_release(self->fd, &c1);
	mm_release(self->fd, &c2);
}

/* Big enough to be split over the cores (>= 2^24 MACs), by N and by M. */
TEST_F_TIMEOUT(mm, split_over_cores, 300)
{
	static const uint32_t shapes[][3] = { { 64, 512, 512 }, { 400, 4096, 32 } };
	char msg[256];

	for (int i = 0; i < 2; i++) {
		const struct mm_type *t = i ? &T_I8 : variant->t;
		struct drm_rocket_matmul d;
		struct mm_case c;

		ASSERT_EQ(0, mm_alloc(self->fd, &c, t, shapes[i][0], shapes[i][1], shapes[i][2], 50 + i));
		mm_desc(&c, &d);
		ASSERT_EQ(0, mm_submit(self->fd, &d, 1, 0));
		ASSERT_EQ(0, rkt_prep(self->fd, c.c.handle, 10000));
		if (mm_verify(&c, msg, sizeof(msg))) {
			TH_LOG("%s", msg);
			EXPECT_TRUE(0);
		}
		mm_release(self->fd, &c);
	}
}

/*
 * DRM_ROCKET_MATMUL_SPLIT: one row of A (a decode step) over three weight
 * blocks, below the size the kernel splits by itself; the result must not
 * change when the kernel spreads it over the cores.
 */
TEST_F(mm, split_flag_small)
{
	static const uint32_t shapes[][3] = { { 1, 256, 96 }, { 4, 64, 160 } };
	char msg[256];

	for (int i = 0; i < 2; i++) {
		struct drm_rocket_matmul d;
		struct mm_case c;

		ASSERT_EQ(0, mm_alloc(self->fd, &c, variant->t, shapes[i][0], shapes[i][1],
				      shapes[i][2], 70 + i));
		mm_desc(&c, &d);
		d.flags = DRM_ROCKET_MATMUL_SPLIT;
		ASSERT_EQ(0, mm_submit(self->fd, &d, 1, 0));
		ASSERT_EQ(0, rkt_prep(self->fd, c.c.handle, 5000));
		if (mm_verify(&c, msg, sizeof(msg))) {
			TH_LOG("%ux%ux%u: %s", shapes[i][0], shapes[i][1], shapes[i][2], msg);
			EXPECT_TRUE(0);
		}
		mm_release(self->fd, &c);
	}
}

/* ---- bad input: specific errno, nothing written ------------------------- */

FIXTURE(bad) {
	int fd;
	struct mm_case c;
	struct drm_rocket_matmul d;
};

FIXTURE_SETUP(bad)
{
	memset(&self->c, 0, sizeof(self->c));
	self->fd = rkt_open();
	if (self->fd < 0)
		SKIP(return, "no rocket accel device");
	if (!has_matmul(self->fd))
		SKIP(return, "driver older than 1.1: no SUBMIT_MATMUL");
	ASSERT_EQ(0, mm_alloc(self->fd, &self->c, &T_I8, 4, 64, 32, 3));
	mm_desc(&self->c, &self->d);
}

FIXTURE_TEARDOWN(bad)
{
	if (self->fd >= 0) {
		mm_release(self->fd, &self->c);
		close(self->fd);
	}
}

static int untouched(const struct mm_case *c)
{
	const uint8_t *C = (const uint8_t *)c->c.map + c->c_off;

	for (uint32_t i = 0; i < c->c_bytes + c->slack; i++)
		if (C[i] != ROCKET_POISON)
			return 0;
	return 1;
}

#define BAD(name, errno_, ...) \
	TEST_F(bad, name) \
	{ \
		struct drm_rocket_matmul *d = &self->d; \
		(void)d; \
		__VA_ARGS__; \
		EXPECT_EQ(-(errno_), mm_submit(self->fd, &self->d, 1, 0)); \
		EXPECT_TRUE(untouched(&self->c)); \
	}

TEST_F(bad, good_descriptor_works)
{
	char msg[256];

	ASSERT_EQ(0, mm_submit(self->fd, &self->d, 1, 0));
	ASSERT_EQ(0, rkt_prep(self->fd, self->c.c.handle, 5000));
	EXPECT_EQ(0, mm_verify(&self->c, msg, sizeof(msg)));
}

BAD(unknown_handle, ENOENT, d->a_handle = 0x7777)
BAD(zero_handle, ENOENT, d->c_handle = 0)
BAD(closed_handle, ENOENT, rkt_gem_close(self->fd, self->c.b.handle); self->c.b.handle = 0)
BAD(offset_past_end, EINVAL, d->b_offset = 4096)	/* BOs are mapped page-sized */
BAD(range_past_end, EINVAL, d->a_offset = 4096 - 16)
BAD(offset_overflows_64bit, EOVERFLOW, d->c_offset = ~0ull & ~15ull)
BAD(misaligned_offset, EINVAL, d->a_offset += 8)
BAD(zero_m, EINVAL, d->m = 0)
BAD(zero_k, EINVAL, d->k = 0)
BAD(zero_n, EINVAL, d->n = 0)
BAD(unpadded_k, EINVAL, d->k = 48)
BAD(unpadded_n, EINVAL, d->n = 16)
BAD(unpadded_m, EINVAL, d->m = 6)
BAD(oversized_m, E2BIG, d->m = 262144 + 4)
BAD(oversized_k, E2BIG, d->k = 16384 + 32)
BAD(oversized_k_fp16, E2BIG, d->in_type = d->weight_type = DRM_ROCKET_TYPE_FP16;
    d->out_type = DRM_ROCKET_TYPE_FP32; d->k = 16384 + 32)
BAD(bad_type, EINVAL, d->in_type = 9)
BAD(none_type, EINVAL, d->out_type = DRM_ROCKET_TYPE_NONE)
BAD(mixed_types, EINVAL, d->weight_type = DRM_ROCKET_TYPE_FP16)
BAD(int8_to_fp32, EINVAL, d->out_type = DRM_ROCKET_TYPE_FP32)
BAD(unknown_flag, EINVAL, d->flags = 1u << 7)
BAD(split_and_no_split, EINVAL,
    d->flags = DRM_ROCKET_MATMUL_SPLIT | DRM_ROCKET_MATMUL_NO_SPLIT)
BAD(pad_nonzero, EINVAL, d->pad = 1)
BAD(row_stride, EINVAL, d->a_row_stride = 64)
BAD(bias_offset_without_bias, EINVAL, d->bias_offset = 16)

TEST_F(bad, other_files_handle)
{
	int fd2 = rkt_open();

	ASSERT_LE(0, fd2);
	EXPECT_EQ(-ENOENT, mm_submit(fd2, &self->d, 1, 0));
	close(fd2);
	EXPECT_TRUE(untouched(&self->c));
}

TEST_F(bad, c_overlaps_a)
{
	self->d.c_handle = self->c.a.handle;
	self->d.c_offset = self->c.a_off;
	EXPECT_EQ(-EINVAL, mm_submit(self->fd, &self->d, 1, 0));
}

TEST_F(bad, header_fields)
{
	struct drm_rocket_submit_matmul s = { .matmuls = (uintptr_t)&self->d, .matmul_count = 1,
					      .matmul_struct_size = sizeof(self->d) };

	s.flags = 1;
	EXPECT_EQ(-EINVAL, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	s.flags = 0;
	s.pad = 1;
	EXPECT_EQ(-EINVAL, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	s.pad = 0;
	s.matmul_count = 65;
	EXPECT_EQ(-E2BIG, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	s.matmul_count = 1;
	EXPECT_EQ(-EINVAL, mm_submit(self->fd, &self->d, 1, sizeof(self->d) - 8));
	EXPECT_EQ(-E2BIG, mm_submit(self->fd, &self->d, 1, 4096 + 8));
	s.matmuls = 0;
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	s.matmuls = (uintptr_t)rkt_unmapped_ptr();
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	EXPECT_EQ(-EFAULT, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, NULL));
	/* The probe: count 0 does nothing and succeeds. */
	s.matmul_count = 0;
	EXPECT_EQ(0, rkt_ioctl(self->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &s));
	EXPECT_TRUE(untouched(&self->c));
}

/*
 * Descriptors the kernel cannot read whole: one that runs off the end of a
 * mapping into an unmapped page, one in a PROT_NONE page, one in a PROT_NONE
 * page of the malloc heap. All -EFAULT, nothing queued.
 */
TEST_F(bad, descriptor_unreadable)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct drm_rocket_matmul *d;
	void *h = NULL;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + pg, pg));
	d = (struct drm_rocket_matmul *)(p + pg - 8);	/* 8 bytes readable, the rest not */
	memcpy(d, &self->d, 8);
	EXPECT_EQ(-EFAULT, mm_submit(self->fd, d, 1, 0));
	memcpy(p, &self->d, sizeof(self->d));
	ASSERT_EQ(0, mprotect(p, pg, PROT_NONE));
	EXPECT_EQ(-EFAULT, mm_submit(self->fd, (struct drm_rocket_matmul *)p, 1, 0));
	ASSERT_EQ(0, munmap(p, pg));
	ASSERT_EQ(0, posix_memalign(&h, (size_t)pg, (size_t)pg));
	memcpy(h, &self->d, sizeof(self->d));
	ASSERT_EQ(0, mprotect(h, pg, PROT_NONE));
	EXPECT_EQ(-EFAULT, mm_submit(self->fd, h, 1, 0));
	ASSERT_EQ(0, mprotect(h, pg, PROT_READ | PROT_WRITE));
	free(h);
	EXPECT_TRUE(untouched(&self->c));
}

/* A longer descriptor (newer userspace): zero tail accepted, non-zero tail -E2BIG. */
TEST_F(bad, larger_descriptor)
{
	struct { struct drm_rocket_matmul d; uint64_t tail[4]; } big = { .d = self->d };
	char msg[256];

	big.tail[3] = 1;
	EXPECT_EQ(-E2BIG, mm_submit(self->fd, &big.d, 1, sizeof(big)));
	EXPECT_TRUE(untouched(&self->c));
	big.tail[3] = 0;
	EXPECT_EQ(0, mm_submit(self->fd, &big.d, 1, sizeof(big)));
	EXPECT_EQ(0, rkt_prep(self->fd, self->c.c.handle, 5000));
	EXPECT_EQ(0, mm_verify(&self->c, msg, sizeof(msg)));
}

/* A bad descriptor late in the array: the good ones before it did not run. */
TEST_F(bad, array_all_or_nothing)
{
	struct drm_rocket_matmul d[3] = { self->d, self->d, self->d };

	d[2].k = 33;
	EXPECT_EQ(-EINVAL, mm_submit(self->fd, d, 3, 0));
	EXPECT_TRUE(untouched(&self->c));
	d[2] = self->d;
	d[2].a_handle = 999;
	EXPECT_EQ(-ENOENT, mm_submit(self->fd, d, 3, 0));
	EXPECT_TRUE(untouched(&self->c));
}

/*
 * The job holds its BOs: A and B closed right after the ioctl. Their data is
 * kept for the reference first (the handles and mappings go away); on the
 * emulator the job is held back 200 ms, so it is certainly still queued.
 */
TEST_F(bad, bo_closed_while_queued)
{
	struct mm_case keep = self->c;
	int emu, ret;
	char msg[256];

	keep.a.map = malloc(keep.a.size);
	keep.b.map = malloc(keep.b.size);
	ASSERT_TRUE(keep.a.map && keep.b.map);
	memcpy(keep.a.map, self->c.a.map, keep.a.size);
	memcpy(keep.b.map, self->c.b.map, keep.b.size);
	emu = rkt_emu_job_delay(self->fd, 200);
	ret = mm_submit(self->fd, &self->d, 1, 0);
	rkt_emu_job_delay(self->fd, 0);
	ASSERT_EQ(0, ret);
	rkt_bo_destroy(self->fd, &self->c.a);
	rkt_bo_destroy(self->fd, &self->c.b);
	if (emu) {
		EXPECT_EQ(-EBUSY, rkt_prep_poll(self->fd, self->c.c.handle));
		EXPECT_TRUE(untouched(&self->c));
	}
	ASSERT_EQ(0, rkt_prep(self->fd, self->c.c.handle, 5000));
	keep.c = self->c.c;
	EXPECT_EQ(0, mm_verify(&keep, msg, sizeof(msg)));
	free(keep.a.map);
	free(keep.b.map);
}

/*
 * Write-after-read inside one call: the second matmul writes its result over
 * the first one's A, so it must run after it. The first result is checked
 * against A as it was. PREP_BO on that BO polls busy while the jobs are held
 * back (emulator).
 */
TEST_F(bad, dependent_matmuls_ordered)
{
	struct mm_case c2;
	struct drm_rocket_matmul d[2];
	char msg[256];
	int emu, ret;

	ASSERT_EQ(0, mm_alloc(self->fd, &c2, &T_I8, 4, 32, 32, 9));
	mm_desc(&self->c, &d[0]);
	mm_desc(&c2, &d[1]);
	d[1].c_handle = self->c.a.handle;	/* overwrites the first matmul's A */
	d[1].c_offset = 0;
	{
		/* the first matmul's expected result, from its A before the overwrite */
		struct mm_case keep = self->c;

		keep.a.map = malloc(self->c.a.size);
		ASSERT_NE(NULL, keep.a.map);
		memcpy(keep.a.map, self->c.a.map, self->c.a.size);
		emu = rkt_emu_job_delay(self->fd, 100);
		ret = mm_submit(self->fd, d, 2, 0);
		rkt_emu_job_delay(self->fd, 0);
		ASSERT_EQ(0, ret);
		if (emu)
			EXPECT_EQ(-EBUSY, rkt_prep_poll(self->fd, self->c.a.handle));
		ASSERT_EQ(0, rkt_prep(self->fd, self->c.c.handle, 5000));
		ASSERT_EQ(0, rkt_prep(self->fd, self->c.a.handle, 5000));
		keep.c = self->c.c;
		if (mm_verify(&keep, msg, sizeof(msg))) {
			TH_LOG("%s", msg);
			EXPECT_TRUE(0);
		}
		free(keep.a.map);
	}
	mm_release(self->fd, &c2);
}

/* ---- concurrency -------------------------------------------------------------- */

struct worker {
	int fd;			/* shared file, or -1: open its own */
	unsigned int id;
	double seconds;
	unsigned long done, bad;
	char msg[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker_fn(void *arg)
{
	const struct mm_type *ts[] = { &T_I8, &T_F16F32, &T_F16F16 };
	struct worker *w = arg;
	int fd = w->fd >= 0 ? w->fd : rkt_open();
	double end = now_s() + w->seconds;
	uint32_t s = 1000 + w->id;

	if (fd < 0) {
		w->bad++;
		return NULL;
	}
	while (now_s() < end) {
		const struct mm_type *t = ts[rnd(&s) % 3];
		uint32_t M = (rnd(&s) % 3) ? 4 * (1 + rnd(&s) % 16) : 1;
		uint32_t K = 32 * (1 + rnd(&s) % 8), N = t->nalign * (1 + rnd(&s) % 4);
		struct drm_rocket_matmul d;
		struct mm_case c;

		if (mm_alloc(fd, &c, t, M, K, N, rnd(&s))) {
			w->bad++;
			break;
		}
		mm_desc(&c, &d);
		if (mm_submit(fd, &d, 1, 0) || rkt_prep(fd, c.c.handle, 5000) ||
		    mm_verify(&c, w->msg, sizeof(w->msg)))
			w->bad++;
		w->done++;
		mm_release(fd, &c);
	}
	if (w->fd < 0)
		close(fd);
	return NULL;
}

TEST_F_TIMEOUT(mm, threads, 120)
{
	enum { NT = 6 };
	struct worker w[NT];
	pthread_t th[NT];
	unsigned long done = 0;

	if (variant->t != &T_I8)
		SKIP(return, "mixed types already; run once");
	for (int i = 0; i < NT; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = (i & 1) ? self->fd : -1;	/* shared and private files */
		w[i].id = i;
		w[i].seconds = 2.0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker_fn, &w[i]));
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		if (w[i].bad)
			TH_LOG("thread %d: %lu bad: %s", i, w[i].bad, w[i].msg);
		EXPECT_EQ(0, w[i].bad);
		done += w[i].done;
	}
	TH_LOG("%lu matmuls from %d threads", done, NT);
	EXPECT_LT(NT, done);
}

TEST_F_TIMEOUT(mm, processes, 120)
{
	enum { NP = 4 };
	pid_t pid[NP];

	if (variant->t != &T_I8)
		SKIP(return, "mixed types already; run once");
	for (int i = 0; i < NP; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			struct worker w = { .fd = -1, .id = 100 + i, .seconds = 2.0 };

			worker_fn(&w);
			if (w.bad)
				fprintf(stderr, "process %d: %lu bad: %s\n", i, w.bad, w.msg);
			_exit(w.bad || !w.done ? 1 : 0);
		}
	}
	for (int i = 0; i < NP; i++) {
		int st = 0;

		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

TEST_HARNESS_MAIN
