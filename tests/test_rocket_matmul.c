// SPDX-License-Identifier: MIT
/*
 * Unit tests for kernel/drivers/accel/rocket/rocket_matmul.c (the
 * DRM_IOCTL_ROCKET_SUBMIT_MATMUL validation and job building), compiled
 * unchanged through lib/kcompat. Table-driven: every errno the ioctl can
 * return from validation has at least one row, with the field that causes it.
 */
#include "corpus.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <errno.h>
#include <linux/types.h>

#include "rocket_matmul.h"
#include "rocket_regcmd.h"
#include "tap.h"
#include "../fuzz/rocket_matmul_fuzz.h"

/* Tables list only the fields that matter; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- fake file: handle table and user memory ---------------------------- */

struct fake_bo {
	u32 handle;
	u64 size;
	u64 dma;
};

static const struct fake_bo fake_bos[] = {
	{ 1, 1 << 20, 0x00100000 },		/* A */
	{ 2, 1 << 20, 0x00200000 },		/* B */
	{ 3, 1 << 20, 0x00300000 },		/* C */
	{ 4, 4096, 0x00400000 },		/* bias */
	{ 5, 1 << 24, 0xfff00000 },		/* runs past 4 GiB */
	{ 6, 1 << 28, 0x10000000 },		/* large */
	{ 7, 1ULL << 40, 0x80000000 },	/* huge (not a real IOVA) */
};

/* Handle 99 exists only in "another file": not in this table. */
#define OTHER_FILE_HANDLE 99

struct fake_ctx {
	uintptr_t bad_start, bad_end;		/* "unmapped" user range */
	unsigned int lookups;
	u32 looked_up[ROCKET_MATMUL_SLOTS];
};

static int fake_copy(void *ctx, void *dst, u64 uptr, size_t len)
{
	struct fake_ctx *f = ctx;

	if (!uptr || uptr + len < uptr)
		return -EFAULT;
	if (f->bad_end && uptr < f->bad_end && uptr + len > f->bad_start)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)uptr, len);
	return 0;
}

static int fake_lookup(void *ctx, enum rocket_matmul_slot slot, u32 handle,
		       struct rocket_matmul_bo *bo)
{
	struct fake_ctx *f = ctx;
	size_t i;

	for (i = 0; i < sizeof(fake_bos) / sizeof(fake_bos[0]); i++) {
		if (fake_bos[i].handle == handle) {
			bo->size = fake_bos[i].size;
			bo->dma = fake_bos[i].dma;
			f->looked_up[slot] = handle;
			f->lookups++;
			return 0;
		}
	}
	return -ENOENT;
}

static const struct rocket_matmul_ops fake_ops = {
	.copy_from_user = fake_copy,
	.lookup = fake_lookup,
};

/* A valid INT8 4x32x32 matmul: A 128 B, B 1 KiB, C 512 B. */
static struct drm_rocket_matmul base_mm(void)
{
	struct drm_rocket_matmul mm = {
		.a_handle = 1, .b_handle = 2, .c_handle = 3,
		.m = 4, .k = 32, .n = 32,
		.in_type = DRM_ROCKET_TYPE_INT8,
		.weight_type = DRM_ROCKET_TYPE_INT8,
		.out_type = DRM_ROCKET_TYPE_INT32,
	};
	return mm;
}

/* ---- uAPI layout --------------------------------------------------------- */

struct field_case {
	const char *name;
	size_t offset, size, expect_offset, expect_size;
};

#define FIELD(s, f, o, sz) \
	{ #s "." #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), o, sz }

static const struct field_case field_cases[] = {
	FIELD(drm_rocket_matmul, a_handle, 0, 4),
	FIELD(drm_rocket_matmul, b_handle, 4, 4),
	FIELD(drm_rocket_matmul, c_handle, 8, 4),
	FIELD(drm_rocket_matmul, bias_handle, 12, 4),
	FIELD(drm_rocket_matmul, a_offset, 16, 8),
	FIELD(drm_rocket_matmul, b_offset, 24, 8),
	FIELD(drm_rocket_matmul, c_offset, 32, 8),
	FIELD(drm_rocket_matmul, bias_offset, 40, 8),
	FIELD(drm_rocket_matmul, m, 48, 4),
	FIELD(drm_rocket_matmul, k, 52, 4),
	FIELD(drm_rocket_matmul, n, 56, 4),
	FIELD(drm_rocket_matmul, in_type, 60, 4),
	FIELD(drm_rocket_matmul, weight_type, 64, 4),
	FIELD(drm_rocket_matmul, out_type, 68, 4),
	FIELD(drm_rocket_matmul, a_row_stride, 72, 4),
	FIELD(drm_rocket_matmul, c_row_stride, 76, 4),
	FIELD(drm_rocket_matmul, flags, 80, 4),
	FIELD(drm_rocket_matmul, pad, 84, 4),
	FIELD(drm_rocket_submit_matmul, matmuls, 0, 8),
	FIELD(drm_rocket_submit_matmul, matmul_count, 8, 4),
	FIELD(drm_rocket_submit_matmul, matmul_struct_size, 12, 4),
	FIELD(drm_rocket_submit_matmul, flags, 16, 4),
	FIELD(drm_rocket_submit_matmul, pad, 20, 4),
};

static void test_uapi_layout(void)
{
	size_t i;

	CHECK_EQ_INT(sizeof(struct drm_rocket_matmul), 88);
	CHECK_EQ_INT(sizeof(struct drm_rocket_matmul), ROCKET_MATMUL_SIZE_V1);
	CHECK_EQ_INT(sizeof(struct drm_rocket_submit_matmul), 24);
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];

		CHECKF(c->offset == c->expect_offset && c->size == c->expect_size,
		       "%s at %zu size %zu, expected %zu size %zu", c->name,
		       c->offset, c->size, c->expect_offset, c->expect_size);
	}
	/* _IOW('d', 0x44, 24 bytes) */
	CHECK_EQ_INT(DRM_IOCTL_ROCKET_SUBMIT_MATMUL, 0x40186444);
	CHECK_EQ_INT(DRM_ROCKET_SUBMIT_MATMUL, 0x04);
	/* uAPI type values equal the generator's. */
	CHECK_EQ_INT(DRM_ROCKET_TYPE_INT8, ROCKET_MM_TYPE_INT8);
	CHECK_EQ_INT(DRM_ROCKET_TYPE_FP16, ROCKET_MM_TYPE_FP16);
	CHECK_EQ_INT(DRM_ROCKET_TYPE_INT32, ROCKET_MM_TYPE_INT32);
	CHECK_EQ_INT(DRM_ROCKET_TYPE_FP32, ROCKET_MM_TYPE_FP32);
}

/* ---- ioctl header -------------------------------------------------------- */

struct args_case {
	const char *name;
	struct drm_rocket_submit_matmul args;
	int err;
};

static const struct args_case args_cases[] = {
	{ "valid", { 0x1000, 1, 88, 0, 0 }, 0 },
	{ "valid, larger struct", { 0x1000, 64, 4096, 0, 0 }, 0 },
	{ "count 0 is a no-op probe", { 0, 0, 0, 0, 0 }, 0 },
	{ "count 0, bad flags", { 0, 0, 88, 1, 0 }, -EINVAL },
	{ "unknown flag", { 0x1000, 1, 88, 1u << 31, 0 }, -EINVAL },
	{ "pad non-zero", { 0x1000, 1, 88, 0, 1 }, -EINVAL },
	{ "struct size 0", { 0x1000, 1, 0, 0, 0 }, -EINVAL },
	{ "struct size short", { 0x1000, 1, 80, 0, 0 }, -EINVAL },
	{ "struct size over limit", { 0x1000, 1, 4097, 0, 0 }, -E2BIG },
	{ "struct size huge", { 0x1000, 1, 0xffffffff, 0, 0 }, -E2BIG },
	{ "count over limit", { 0x1000, 65, 88, 0, 0 }, -E2BIG },
	{ "count huge", { 0x1000, 0xffffffff, 88, 0, 0 }, -E2BIG },
	{ "null array", { 0, 1, 88, 0, 0 }, -EFAULT },
};

static size_t cur;	/* table row of the running case */

static void test_check_args(void)
{
	const struct args_case *c = &args_cases[cur];
	int ret = rocket_matmul_check_args(&c->args);

	CHECKF(ret == c->err, "%s: %d, expected %d", c->name, ret, c->err);
}

/* ---- copying one element ------------------------------------------------- */

enum copy_kind { COPY_OK, COPY_TAIL, COPY_UNMAPPED, COPY_UNMAPPED_TAIL,
		 COPY_INDEX, COPY_WRAP };

struct copy_case {
	const char *name;
	u32 struct_size;
	enum copy_kind kind;
	int err;
};

static const struct copy_case copy_cases[] = {
	{ "exact size", 88, COPY_OK, 0 },
	{ "larger, zero tail", 128, COPY_OK, 0 },
	{ "max size, zero tail", 4096, COPY_OK, 0 },
	{ "larger, non-zero tail", 96, COPY_TAIL, -E2BIG },
	{ "max size, non-zero last byte", 4096, COPY_TAIL, -E2BIG },
	{ "unmapped element", 88, COPY_UNMAPPED, -EFAULT },
	{ "unmapped tail", 256, COPY_UNMAPPED_TAIL, -EFAULT },
	{ "index past count", 88, COPY_INDEX, -EINVAL },
	{ "address wraps", 88, COPY_WRAP, -EFAULT },
};

static void test_copy(void)
{
	static u8 mem[3 * 4096];
	size_t i;

	for (i = cur; i == cur; i++) {
		const struct copy_case *c = &copy_cases[i];
		struct drm_rocket_submit_matmul args = {
			.matmuls = (uintptr_t)mem,
			.matmul_count = 2,
			.matmul_struct_size = c->struct_size,
		};
		struct drm_rocket_matmul in = base_mm(), out;
		struct fake_ctx f = { 0 };
		u32 index = 1;
		u8 *elem = mem + c->struct_size;
		int ret;

		memset(mem, 0, sizeof(mem));
		memcpy(elem, &in, sizeof(in));
		switch (c->kind) {
		case COPY_TAIL:
			elem[c->struct_size - 1] = 0x5a;
			break;
		case COPY_UNMAPPED:
			f.bad_start = (uintptr_t)elem + 8;
			f.bad_end = f.bad_start + 1;
			break;
		case COPY_UNMAPPED_TAIL:
			f.bad_start = (uintptr_t)elem + 200;
			f.bad_end = f.bad_start + 1;
			break;
		case COPY_INDEX:
			index = 2;
			break;
		case COPY_WRAP:
			args.matmuls = ~0ULL - 100;
			break;
		default:
			break;
		}
		CHECK_EQ_INT(rocket_matmul_check_args(&args), 0);
		memset(&out, 0xee, sizeof(out));
		ret = rocket_matmul_copy(&fake_ops, &f, &args, index, &out);
		CHECKF(ret == c->err, "%s: %d, expected %d", c->name, ret, c->err);
		if (!c->err)
			CHECKF(!memcmp(&in, &out, sizeof(in)), "%s: copy differs", c->name);
	}
}

/* ---- one descriptor: static checks, lookups, bounds, split --------------- */

struct poke {
	size_t off, size;
	u64 val;
};

#define P(f, v) { offsetof(struct drm_rocket_matmul, f), \
		  sizeof(((struct drm_rocket_matmul *)0)->f), (u64)(v) }
#define FP16_OUT(t) P(in_type, DRM_ROCKET_TYPE_FP16), \
		    P(weight_type, DRM_ROCKET_TYPE_FP16), P(out_type, t)

struct prep_case {
	const char *name;
	struct poke p[10];
	u32 cores;
	int err;
	u32 jobs;		/* expected job count when err == 0 */
};

static const struct prep_case prep_cases[] = {
	{ "valid int8", { }, 1, 0, 1 },
	{ "valid fp16 -> fp32", { FP16_OUT(DRM_ROCKET_TYPE_FP32) }, 1, 0, 1 },
	{ "valid fp16 -> fp16, n 16", { FP16_OUT(DRM_ROCKET_TYPE_FP16),
	  P(n, 16) }, 1, 0, 1 },
	{ "valid m 1", { P(m, 1) }, 1, 0, 1 },
	{ "small stays on one core", { }, 3, 0, 1 },
	{ "valid, offsets", { P(a_offset, 4096), P(b_offset, 16),
	  P(c_offset, 0xff000) }, 1, 0, 1 },
	{ "C right after A in one BO", { P(c_handle, 1), P(c_offset, 128) },
	  1, 0, 1 },
	/* -EINVAL: fields */
	{ "unknown matmul flag", { P(flags, 4) }, 1, -EINVAL },
	{ "SPLIT and NO_SPLIT", { P(flags, DRM_ROCKET_MATMUL_SPLIT | DRM_ROCKET_MATMUL_NO_SPLIT) },
	  3, -EINVAL },
	{ "top flag bit", { P(flags, 1u << 31) }, 1, -EINVAL },
	{ "pad", { P(pad, 1) }, 1, -EINVAL },
	{ "a_row_stride", { P(a_row_stride, 32) }, 1, -EINVAL },
	{ "c_row_stride", { P(c_row_stride, 128) }, 1, -EINVAL },
	/* -EINVAL: types */
	{ "in type none", { P(in_type, 0), P(weight_type, 0) }, 1, -EINVAL },
	{ "in type unknown", { P(in_type, 5), P(weight_type, 5) }, 1, -EINVAL },
	{ "weight type differs", { P(weight_type, DRM_ROCKET_TYPE_FP16) }, 1,
	  -EINVAL },
	{ "int8 -> fp32", { P(out_type, DRM_ROCKET_TYPE_FP32) }, 1, -EINVAL },
	{ "int8 -> int8", { P(out_type, DRM_ROCKET_TYPE_INT8) }, 1, -EINVAL },
	{ "fp16 -> int32", { FP16_OUT(DRM_ROCKET_TYPE_INT32) }, 1, -EINVAL },
	{ "int32 input", { P(in_type, DRM_ROCKET_TYPE_INT32),
	  P(weight_type, DRM_ROCKET_TYPE_INT32) }, 1, -EINVAL },
	/* -EINVAL: dimensions */
	{ "m 0", { P(m, 0) }, 1, -EINVAL },
	{ "k 0", { P(k, 0) }, 1, -EINVAL },
	{ "n 0", { P(n, 0) }, 1, -EINVAL },
	{ "m 6 unpadded", { P(m, 6) }, 1, -EINVAL },
	{ "k 48 unpadded", { P(k, 48) }, 1, -EINVAL },
	{ "int8 n 16 unpadded", { P(n, 16) }, 1, -EINVAL },
	{ "fp16 n 24 unpadded", { FP16_OUT(DRM_ROCKET_TYPE_FP32), P(n, 24) },
	  1, -EINVAL },
	/* -EINVAL: alignment */
	{ "a_offset 8", { P(a_offset, 8) }, 1, -EINVAL },
	{ "b_offset 1", { P(b_offset, 1) }, 1, -EINVAL },
	{ "c_offset 4", { P(c_offset, 4) }, 1, -EINVAL },
	{ "bias_offset without bias", { P(bias_offset, 16) }, 1, -EINVAL },
	/* -E2BIG: dimension limits */
	{ "m over limit", { P(m, ROCKET_MATMUL_MAX_MN + 4) }, 1, -E2BIG },
	{ "n over limit", { P(n, ROCKET_MATMUL_MAX_MN + 32) }, 1, -E2BIG },
	{ "k over limit", { P(k, ROCKET_MATMUL_MAX_K + 32) }, 1, -E2BIG },
	{ "m huge", { P(m, 0xfffffffc) }, 1, -E2BIG },
	/* -ENOENT */
	{ "A handle 0", { P(a_handle, 0) }, 1, -ENOENT },
	{ "B unknown", { P(b_handle, 1234) }, 1, -ENOENT },
	{ "C of another file", { P(c_handle, OTHER_FILE_HANDLE) }, 1, -ENOENT },
	{ "bias unknown", { P(bias_handle, 77) }, 1, -ENOENT },
	/* -EINVAL: ranges */
	{ "A past BO end", { P(a_offset, (1 << 20) - 64) }, 1, -EINVAL },
	{ "B offset past end", { P(b_offset, 2 << 20) }, 1, -EINVAL },
	{ "C one byte too long", { P(c_offset, (1 << 20) - 496) }, 1, -EINVAL },
	{ "bias past end", { P(bias_handle, 4), P(bias_offset, 4096) }, 1,
	  -EINVAL },
	{ "C overlaps A", { P(c_handle, 1), P(c_offset, 112) }, 1, -EINVAL },
	{ "C overlaps B", { P(c_handle, 2), P(c_offset, 1008) }, 1, -EINVAL },
	{ "C same as A", { P(c_handle, 1) }, 1, -EINVAL },
	/* -EOVERFLOW */
	{ "A offset + size wraps", { P(a_offset, 0xfffffffffffffff0ULL) }, 1,
	  -EOVERFLOW },
	{ "C offset + size wraps", { P(c_offset, 0xffffffffffffff00ULL) }, 1,
	  -EOVERFLOW },
	{ "A past 4 GiB NPU space", { P(a_handle, 5), P(a_offset, 0xfffc0) },
	  1, -EOVERFLOW },
	{ "C huge past 4 GiB", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 24), P(c_handle, 7), P(m, 262144),
	  P(n, 262144) }, 1, -EOVERFLOW },
	/* -EOPNOTSUPP: valid bias, no recipe yet */
	{ "bias", { P(bias_handle, 4) }, 1, -EOPNOTSUPP },
	/* -E2BIG: tasks per job (fp16, K 16384: 8 rows per task) */
	{ "1025 tasks on one core", { FP16_OUT(DRM_ROCKET_TYPE_FP32),
	  P(a_handle, 7), P(m, 8 * 1025), P(k, 16384), P(n, 16),
	  P(flags, DRM_ROCKET_MATMUL_NO_SPLIT) }, 3, -E2BIG },
	{ "1025 tasks over 3 cores", { FP16_OUT(DRM_ROCKET_TYPE_FP32),
	  P(a_handle, 7), P(m, 8 * 1025), P(k, 16384), P(n, 16) }, 3, 0, 3 },
	{ "1025 tasks, 1 core", { FP16_OUT(DRM_ROCKET_TYPE_FP32),
	  P(a_handle, 7), P(m, 8 * 1025), P(k, 16384), P(n, 16) }, 1, -E2BIG },
	/* -E2BIG: work per job (4096^3 MACs, 2^36) */
	{ "2^36 MACs on one core", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 24), P(c_handle, 7), P(m, 4096), P(k, 4096),
	  P(n, 4096), P(flags, DRM_ROCKET_MATMUL_NO_SPLIT) }, 3, -E2BIG },
	{ "2^36 MACs over 3 cores", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 24), P(c_handle, 7), P(m, 4096), P(k, 4096),
	  P(n, 4096) }, 3, 0, 3 },
	/* -E2BIG: traffic per job (B 4 MiB re-read by 667 M tiles a job) */
	{ "B re-read 2000 times", { FP16_OUT(DRM_ROCKET_TYPE_FP16),
	  P(a_handle, 7), P(b_handle, 6), P(c_handle, 6),
	  P(c_offset, 1 << 24), P(m, 8 * 2000), P(k, 16384), P(n, 128) }, 3,
	  -E2BIG },
	/* split */
	{ "big, split over 3", { P(a_handle, 6), P(b_handle, 6), P(b_offset, 1 << 20),
	  P(m, 256), P(k, 1024), P(n, 4096), P(c_handle, 7) }, 3, 0, 3 },
	{ "big, NO_SPLIT", { P(a_handle, 6), P(b_handle, 6), P(b_offset, 1 << 20),
	  P(m, 256), P(k, 1024), P(n, 4096), P(c_handle, 7), P(flags, DRM_ROCKET_MATMUL_NO_SPLIT) },
	  3, 0, 1 },
	{ "big, 2 cores", { P(a_handle, 6), P(b_handle, 6), P(b_offset, 1 << 20),
	  P(m, 256), P(k, 1024), P(n, 4096), P(c_handle, 7) }, 2, 0, 2 },
	{ "big, split by M tiles", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 27), P(m, 1020), P(k, 16384), P(n, 32) }, 3, 0, 3 },
	{ "under the split threshold", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 27), P(m, 20), P(k, 16384), P(n, 32) }, 3, 0, 1 },
	/* SPLIT: all cores below the threshold, as far as weight blocks / M tiles go */
	{ "small, SPLIT over 3", { P(m, 1), P(n, 96), P(flags, DRM_ROCKET_MATMUL_SPLIT) },
	  3, 0, 3 },
	{ "small, SPLIT, 2 cores", { P(m, 1), P(n, 96), P(flags, DRM_ROCKET_MATMUL_SPLIT) },
	  2, 0, 2 },
	{ "small, SPLIT, 2 weight blocks", { P(n, 64), P(flags, DRM_ROCKET_MATMUL_SPLIT) },
	  3, 0, 2 },
	{ "small, SPLIT, 1 weight block", { P(flags, DRM_ROCKET_MATMUL_SPLIT) }, 3, 0, 1 },
	{ "small, no flag, stays whole", { P(m, 1), P(n, 96) }, 3, 0, 1 },
	/* 2 M tiles of 20 + 4 rows (12.6 M MACs, under the threshold) */
	{ "under the threshold, 2 M tiles", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 27), P(m, 24), P(k, 16384), P(n, 32) }, 3, 0, 1 },
	{ "under the threshold, SPLIT by M tiles", { P(a_handle, 6), P(b_handle, 6),
	  P(b_offset, 1 << 27), P(m, 24), P(k, 16384), P(n, 32),
	  P(flags, DRM_ROCKET_MATMUL_SPLIT) }, 3, 0, 2 },
};

static void apply(struct drm_rocket_matmul *mm, const struct poke *p)
{
	for (; p->size; p++) {
		u8 *f = (u8 *)mm + p->off;

		if (p->size == 8) {
			u64 v = p->val;

			memcpy(f, &v, 8);
		} else {
			u32 v = (u32)p->val;

			memcpy(f, &v, 4);
		}
	}
}

static void check_jobs(const char *name, const struct drm_rocket_matmul *mm,
		       const struct rocket_matmul_prep *prep)
{
	struct rocket_matmul_desc full;
	struct rocket_matmul_plan fp;
	u64 c_next, tasks = 0;
	u32 sum_m = 0, sum_n = 0, i;

	CHECK_EQ_INT(rocket_matmul_bind(mm, prep->bos, &full), 0);
	CHECK_EQ_INT(rocket_matmul_plan(&full, &fp), 0);
	c_next = full.c_dma;
	for (i = 0; i < prep->job_count; i++) {
		const struct rocket_matmul_job *j = &prep->jobs[i];
		const struct rocket_matmul_desc *d = &j->desc;

		/* Parts write C back to back, and read inside A and B. */
		CHECKF(d->c_dma == c_next, "%s job %u: C at %llx, expected %llx",
		       name, i, (unsigned long long)d->c_dma,
		       (unsigned long long)c_next);
		c_next = d->c_dma + j->plan.c_bytes;
		CHECK(d->a_dma >= full.a_dma &&
		      d->a_dma + j->plan.a_bytes <= full.a_dma + fp.a_bytes);
		CHECK(d->b_dma >= full.b_dma &&
		      d->b_dma + j->plan.b_bytes <= full.b_dma + fp.b_bytes);
		CHECK(d->k == full.k);
		CHECK(j->plan.tasks >= 1 &&
		      j->plan.tasks <= ROCKET_MATMUL_MAX_JOB_TASKS);
		if (d->m != full.m)
			sum_m += d->m;
		if (d->n != full.n)
			sum_n += d->n;
		tasks += j->plan.tasks;
	}
	CHECKF(c_next == full.c_dma + fp.c_bytes, "%s: C not covered", name);
	if (prep->job_count > 1)
		CHECKF(sum_m == full.m || sum_n == full.n, "%s: parts %u/%u",
		       name, sum_m, sum_n);
	CHECK(tasks >= fp.tasks);
}

static void test_prepare(void)
{
	size_t i;

	for (i = cur; i == cur; i++) {
		const struct prep_case *c = &prep_cases[i];
		struct drm_rocket_matmul mm = base_mm();
		struct rocket_matmul_prep prep;
		struct fake_ctx f = { 0 };
		int ret;

		apply(&mm, c->p);
		ret = rocket_matmul_prepare(&fake_ops, &f, &mm, c->cores, &prep);
		CHECKF(ret == c->err, "%s: %d, expected %d", c->name, ret, c->err);
		if (ret || c->err)
			continue;
		CHECKF(prep.job_count == c->jobs, "%s: %u jobs, expected %u",
		       c->name, prep.job_count, c->jobs);
		CHECK(f.looked_up[ROCKET_MATMUL_A] == mm.a_handle);
		CHECK(f.looked_up[ROCKET_MATMUL_C] == mm.c_handle);
		check_jobs(c->name, &mm, &prep);
	}
}

/* Split of raw descriptions: N when M fits one tile, else whole M tiles. */
struct split_case {
	u32 in_type, out_type, m, k, n, parts;
	u32 expect_jobs;
	bool by_m;
};

static const struct split_case split_cases[] = {
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 4, 4096, 4096, 3, 3, false },
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 1, 4096, 8192, 3, 3, false },
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 64, 4096, 64, 3, 2, false },
	{ ROCKET_MM_TYPE_FP16, ROCKET_MM_TYPE_FP16, 4, 4096, 4112, 3, 3, false },
	{ ROCKET_MM_TYPE_FP16, ROCKET_MM_TYPE_FP32, 2048, 1024, 512, 3, 3, true },
	{ ROCKET_MM_TYPE_FP16, ROCKET_MM_TYPE_FP32, 2052, 1024, 512, 3, 3, true },
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 3000, 1024, 64, 2, 2, true },
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 3000, 1024, 64, 9, 3, true },
	{ ROCKET_MM_TYPE_INT8, ROCKET_MM_TYPE_INT32, 4, 32, 32, 3, 1, false },
};

static void test_split(void)
{
	size_t i;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		struct rocket_matmul_desc d = {
			.m = c->m, .k = c->k, .n = c->n,
			.in_type = c->in_type, .weight_type = c->in_type,
			.out_type = c->out_type,
			.a_dma = 0x1000000, .b_dma = 0x8000000, .c_dma = 0x20000000,
		};
		struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS];
		struct rocket_matmul_plan full;
		u32 osz = rocket_mm_type_size(c->out_type), j, covered = 0;
		u64 c_next = d.c_dma;
		int n;

		CHECK_EQ_INT(rocket_matmul_plan(&d, &full), 0);
		n = rocket_matmul_split(&d, 0, c->parts, jobs);
		CHECKF(n == (int)c->expect_jobs, "case %zu: %d jobs, expected %u",
		       i, n, c->expect_jobs);
		for (j = 0; n > 0 && j < (u32)n; j++) {
			const struct rocket_matmul_desc *p = &jobs[j].desc;

			CHECKF(p->c_dma == c_next, "case %zu job %u: C %llx", i, j,
			       (unsigned long long)p->c_dma);
			if (c->by_m && n > 1) {
				CHECK(p->n == d.n && p->b_dma == d.b_dma);
				CHECK(j == (u32)n - 1 || p->m % full.tile_rows == 0);
				CHECK(p->a_dma == d.a_dma +
				      (u64)covered * d.k * rocket_mm_type_size(d.in_type));
				covered += p->m;
			} else if (n > 1) {
				CHECK(p->m == d.m && p->a_dma == d.a_dma);
				CHECK(p->b_dma == d.b_dma +
				      (u64)covered * d.k * rocket_mm_type_size(d.in_type));
				covered += p->n;
			}
			c_next += (u64)p->m * p->n * osz;
		}
		CHECKF(c_next == d.c_dma + full.c_bytes, "case %zu: C not covered", i);
		if (n > 1)
			CHECK_EQ_INT(covered, c->by_m ? d.m : d.n);
	}
	{
		/* NO_SPLIT and a bad description */
		struct rocket_matmul_desc d = {
			.m = 4, .k = 4096, .n = 4096,
			.in_type = ROCKET_MM_TYPE_INT8,
			.weight_type = ROCKET_MM_TYPE_INT8,
			.out_type = ROCKET_MM_TYPE_INT32,
		};
		struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS];

		CHECK_EQ_INT(rocket_matmul_split(&d, DRM_ROCKET_MATMUL_NO_SPLIT, 3,
						 jobs), 1);
		CHECK_EQ_INT(rocket_matmul_split(&d, 0, 0, jobs), 1);
		d.k = 33;
		CHECK_EQ_INT(rocket_matmul_split(&d, 0, 3, jobs), -EINVAL);
	}
}

/* ---- layout and emission ------------------------------------------------- */

static void test_layout_emit(void)
{
	struct drm_rocket_matmul mms[2] = { base_mm(), base_mm() };
	struct rocket_matmul_job jobs[1 + ROCKET_MATMUL_MAX_PARTS];
	struct rocket_matmul_prep prep;
	struct fake_ctx f = { 0 };
	struct rocket_regcmd_task scratch[ROCKET_MATMUL_MAX_JOB_TASKS];
	struct rocket_matmul_hw_task tasks[ROCKET_MATMUL_MAX_JOB_TASKS];
	const u64 dma = 0x40000000;
	u32 count = 0, total = 0, i, t;
	u64 *buf;

	mms[1].a_handle = 6;
	mms[1].b_handle = 6;
	mms[1].b_offset = 1 << 20;
	mms[1].c_handle = 7;
	mms[1].m = 256;
	mms[1].k = 1024;
	mms[1].n = 4096;
	CHECK_EQ_INT(rocket_matmul_prepare(&fake_ops, &f, &mms[0], 3, &prep), 0);
	jobs[count++] = prep.jobs[0];
	CHECK_EQ_INT(rocket_matmul_prepare(&fake_ops, &f, &mms[1], 3, &prep), 0);
	CHECK_EQ_INT(prep.job_count, 3);
	for (i = 0; i < prep.job_count; i++)
		jobs[count++] = prep.jobs[i];

	CHECK_EQ_INT(rocket_matmul_layout(jobs, count, &total), 0);
	buf = calloc(total + 8, sizeof(*buf));
	if (!buf) {
		CHECK(0);
		return;
	}
	for (i = 0; i < count; i++) {
		int n;

		CHECK(jobs[i].qword_offset % ROCKET_MM_TASK_ALIGN_QWORDS == 0);
		if (i)
			CHECK(jobs[i].qword_offset >=
			      jobs[i - 1].qword_offset + jobs[i - 1].plan.qwords);
		n = rocket_matmul_emit_job(&jobs[i], buf, total, dma, scratch,
					   tasks, ROCKET_MATMUL_MAX_JOB_TASKS);
		CHECKF(n == (int)jobs[i].plan.tasks, "job %u: %d tasks", i, n);
		for (t = 0; n > 0 && t < (u32)n; t++) {
			u64 off = tasks[t].regcmd - dma;

			CHECK(tasks[t].regcmd % 64 == 0);
			CHECK(off / 8 >= jobs[i].qword_offset);
			CHECK(off / 8 + tasks[t].regcmd_count <=
			      jobs[i].qword_offset + jobs[i].plan.qwords);
			CHECK(tasks[t].regcmd_count ==
			      ROCKET_MM_TASK_REGS + ROCKET_MM_TRAILER_QWORDS);
		}
	}
	/* Same bytes as the generator alone for the last job. */
	{
		const struct rocket_matmul_job *j = &jobs[count - 1];
		u64 *alone = calloc(j->plan.qwords, sizeof(*alone));

		if (alone) {
			CHECK_EQ_INT(rocket_matmul_emit(&j->desc, alone, j->plan.qwords,
							NULL, 0, NULL),
				     (int)j->plan.qwords);
			CHECK(!memcmp(alone, buf + j->qword_offset,
				      j->plan.qwords * sizeof(u64)));
			free(alone);
		}
	}
	/* Too small a buffer or task array: -ENOSPC, nothing written. */
	memset(buf, 0, (total + 8) * sizeof(*buf));
	CHECK_EQ_INT(rocket_matmul_emit_job(&jobs[count - 1], buf, total - 1, dma,
					    scratch, tasks,
					    ROCKET_MATMUL_MAX_JOB_TASKS), -ENOSPC);
	CHECK_EQ_INT(rocket_matmul_emit_job(&jobs[0], buf, total, dma, scratch,
					    tasks, 0), -ENOSPC);
	for (i = 0; i < total + 8; i++)
		CHECK(buf[i] == 0);
	free(buf);
}

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

/* One TAP case per table row, named after it. */
static void run_rows(const char *what, size_t rows, const char *(*name)(size_t),
		     void (*fn)(void))
{
	char buf[160];

	for (cur = 0; cur < rows; cur++) {
		snprintf(buf, sizeof(buf), "%s: %s", what, name(cur));
		tap_run(buf, fn);
	}
}

/* ---- fuzz corpus and regressions --------------------------------------- */

/*
 * What each seed of fuzz/corpus/rocket_matmul/ must reach, so the fuzz
 * check is known not to be vacuous: the errno and, when the call is
 * emitted, elements, jobs and tasks.
 */
static const struct seed_case {
	const char *name;
	int ret;
	u32 elems, jobs, tasks;
} seed_cases[] = {
	{ "int8-4x32x32", 0, 1, 1, 1 },
	{ "int8-m1", 0, 1, 1, 1 },
	{ "fp16-fp32-3elems-stride128", 0, 3, 3, 3 },
	{ "split-by-m", 0, 1, 3, 4 },
	{ "split-by-n", 0, 1, 3, 3 },
	{ "no-split-flag", 0, 1, 1, 4 },
	{ "split-flag-small", 0, 1, 3, 3 },
	{ "split-and-no-split", -EINVAL, 0, 0, 0 },
	{ "fp16-n-tiles", 0, 1, 1, 2 },
	{ "m-tiles-fp16", 0, 1, 1, 50 },
	{ "shared-bo", 0, 1, 1, 1 },
	{ "max-elems", 0, 64, 64, 64 },
	{ "count-zero", 0, 0, 0, 0 },
	{ "bias", -EOPNOTSUPP, 0, 0, 0 },
	{ "nonzero-tail", -E2BIG, 0, 0, 0 },
	{ "unmapped-tail", -EFAULT, 0, 0, 0 },
	{ "pointer-wraps", -EFAULT, 0, 0, 0 },
	{ "unknown-handle", -ENOENT, 0, 0, 0 },
	{ "c-overlaps-a", -EINVAL, 0, 0, 0 },
	{ "past-4gib", -EOVERFLOW, 0, 0, 0 },
	{ "job-too-big", -E2BIG, 0, 0, 0 },
	{ "header-bad-flags", -EINVAL, 0, 0, 0 },
	{ "pointer-wraps-stride", -EFAULT, 0, 0, 0 },
	{ "fp16-k-16384", 0, 1, 1, 1 },
	{ "job-too-many-macs", -E2BIG, 0, 0, 0 },
	{ "job-too-much-traffic", -E2BIG, 0, 0, 0 },
};

/*
 * Replay the fuzzer's seed corpus and every input it found (committed with
 * its fix) through the checks of fuzz/rocket_matmul_fuzz.c.
 */
static void replay_one(const char *path, const char *name, int dir_index, void *ctx)
{
	static u8 buf[1 << 17];
	unsigned int *seeds = ctx;
	const char *bad;
	long n = corpus_read(path, buf, sizeof(buf));
	size_t i;

	CHECKF(n >= 0, "cannot open %s", path);
	if (n < 0)
		return;
	bad = rocket_matmul_fuzz_one(buf, (size_t)n);
	CHECKF(!bad, "%s: %s", path, bad);
	for (i = 0; dir_index == 0 && i < ROWS(seed_cases); i++) {
		const struct seed_case *c = &seed_cases[i];

		if (strcmp(c->name, name))
			continue;
		(*seeds)++;
		CHECKF(rmf_last.ret == c->ret && rmf_last.elems == c->elems &&
		       rmf_last.jobs == c->jobs && rmf_last.tasks == c->tasks,
		       "%s: ret %d, %u elements, %u jobs, %u tasks; expected %d, %u, %u, %u",
		       path, rmf_last.ret, rmf_last.elems, rmf_last.jobs,
		       rmf_last.tasks, c->ret, c->elems, c->jobs, c->tasks);
	}
}

static void test_fuzz_regressions(void)
{
	unsigned int seeds = 0;
	int files = corpus_for_each("rocket_matmul", replay_one, &seeds);

	CHECKF(seeds == ROWS(seed_cases), "%u of %zu named seeds found (run from the repository root)",
	       seeds, ROWS(seed_cases));
	printf("# %d fuzz inputs replayed\n", files);
}

static const char *args_name(size_t i) { return args_cases[i].name; }
static const char *copy_name(size_t i) { return copy_cases[i].name; }
static const char *prep_name(size_t i) { return prep_cases[i].name; }

int main(void)
{
	RUN(test_uapi_layout);
	run_rows("header", ROWS(args_cases), args_name, test_check_args);
	run_rows("copy", ROWS(copy_cases), copy_name, test_copy);
	run_rows("descriptor", ROWS(prep_cases), prep_name, test_prepare);
	RUN(test_split);
	RUN(test_layout_emit);
	RUN(test_fuzz_regressions);
	return tap_done();
}
