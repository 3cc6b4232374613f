// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the DRM_IOCTL_ROCKET_SUBMIT_MATMUL validation
 * (rocket_matmul.c): one table row per rejected field with its errno, and
 * the per-core split. User memory and GEM lookups are faked through
 * struct rocket_matmul_ops.
 */

#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "../rocket_matmul.h"

struct rocket_fake_bo {
	u32 handle;
	u64 size;
	u64 dma;
};

static const struct rocket_fake_bo rocket_fake_bos[] = {
	{ 1, SZ_1M, 0x00100000 },
	{ 2, SZ_1M, 0x00200000 },
	{ 3, SZ_1M, 0x00300000 },
	{ 4, SZ_4K, 0x00400000 },
	{ 5, SZ_16M, 0xfff00000 },
	{ 6, SZ_256M, 0x10000000 },
};

struct rocket_fake_ctx {
	const void *bad;	/* one "unmapped" user byte */
};

static int rocket_fake_copy(void *data, void *dst, u64 uptr, size_t len)
{
	struct rocket_fake_ctx *ctx = data;
	uintptr_t bad = (uintptr_t)ctx->bad;

	if (!uptr || uptr + len < uptr)
		return -EFAULT;
	if (bad && uptr <= bad && bad < uptr + len)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)uptr, len);
	return 0;
}

static int rocket_fake_lookup(void *data, enum rocket_matmul_slot slot, u32 handle,
			      struct rocket_matmul_bo *bo)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rocket_fake_bos); i++) {
		if (rocket_fake_bos[i].handle == handle) {
			bo->size = rocket_fake_bos[i].size;
			bo->dma = rocket_fake_bos[i].dma;
			return 0;
		}
	}
	return -ENOENT;
}

static const struct rocket_matmul_ops rocket_fake_ops = {
	.copy_from_user = rocket_fake_copy,
	.lookup = rocket_fake_lookup,
};

/* ---- the ioctl header ---- */

struct rocket_args_case {
	const char *desc;
	struct drm_rocket_submit_matmul args;
	int err;
};

static const struct rocket_args_case rocket_args_cases[] = {
	{ "valid", { 0x1000, 1, 88, 0, 0 }, 0 },
	{ "count 0 probe", { 0, 0, 0, 0, 0 }, 0 },
	{ "unknown flag", { 0x1000, 1, 88, 1, 0 }, -EINVAL },
	{ "pad", { 0x1000, 1, 88, 0, 1 }, -EINVAL },
	{ "short struct", { 0x1000, 1, 80, 0, 0 }, -EINVAL },
	{ "struct over 4 KiB", { 0x1000, 1, 4097, 0, 0 }, -E2BIG },
	{ "count 65", { 0x1000, 65, 88, 0, 0 }, -E2BIG },
	{ "null array", { 0, 1, 88, 0, 0 }, -EFAULT },
};

static void rocket_args_case_desc(const struct rocket_args_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rocket_args, rocket_args_cases, rocket_args_case_desc);

static void rocket_matmul_test_args(struct kunit *test)
{
	const struct rocket_args_case *t = test->param_value;

	KUNIT_EXPECT_EQ(test, rocket_matmul_check_args(&t->args), t->err);
}

/* ---- copying a descriptor ---- */

struct rocket_copy_case {
	const char *desc;
	u32 size;
	int tail_byte;		/* offset of a non-zero byte, or -1 */
	int bad_byte;		/* offset of an unmapped byte, or -1 */
	int err;
};

static const struct rocket_copy_case rocket_copy_cases[] = {
	{ "exact", 88, -1, -1, 0 },
	{ "larger, zero tail", 256, -1, -1, 0 },
	{ "larger, non-zero tail", 256, 255, -1, -E2BIG },
	{ "unmapped", 88, -1, 40, -EFAULT },
	{ "unmapped tail", 256, -1, 200, -EFAULT },
};

static void rocket_copy_case_desc(const struct rocket_copy_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rocket_copy, rocket_copy_cases, rocket_copy_case_desc);

static void rocket_matmul_test_copy(struct kunit *test)
{
	const struct rocket_copy_case *t = test->param_value;
	struct drm_rocket_matmul in = { .a_handle = 1, .m = 4 }, out;
	struct drm_rocket_submit_matmul args = {
		.matmul_count = 1, .matmul_struct_size = t->size,
	};
	struct rocket_fake_ctx ctx = { };
	u8 *mem;

	mem = kunit_kzalloc(test, t->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	memcpy(mem, &in, sizeof(in));
	if (t->tail_byte >= 0)
		mem[t->tail_byte] = 1;
	if (t->bad_byte >= 0)
		ctx.bad = mem + t->bad_byte;
	args.matmuls = (uintptr_t)mem;

	KUNIT_EXPECT_EQ(test, rocket_matmul_copy(&rocket_fake_ops, &ctx, &args, 0, &out),
			t->err);
	if (!t->err)
		KUNIT_EXPECT_MEMEQ(test, &in, &out, sizeof(in));
	KUNIT_EXPECT_EQ(test, rocket_matmul_copy(&rocket_fake_ops, &ctx, &args, 1, &out),
			-EINVAL);
}

/* ---- one descriptor ---- */

struct rocket_prep_case {
	const char *desc;
	struct drm_rocket_matmul mm;
	u32 cores;
	int err;
	u32 jobs;
};

#define MM(...) { .a_handle = 1, .b_handle = 2, .c_handle = 3, .m = 4, .k = 32, .n = 32, \
		  .in_type = DRM_ROCKET_TYPE_INT8, .weight_type = DRM_ROCKET_TYPE_INT8, \
		  .out_type = DRM_ROCKET_TYPE_INT32, __VA_ARGS__ }
#define FP16(t) .in_type = DRM_ROCKET_TYPE_FP16, .weight_type = DRM_ROCKET_TYPE_FP16, \
		.out_type = (t)
#define BIG .a_handle = 6, .b_handle = 6, .b_offset = SZ_16M, .c_handle = 6, \
	    .c_offset = SZ_64M

static const struct rocket_prep_case rocket_prep_cases[] = {
	{ "valid int8", MM(), 1, 0, 1 },
	{ "valid fp16 -> fp32", MM(FP16(DRM_ROCKET_TYPE_FP32)), 1, 0, 1 },
	{ "valid fp16 -> fp16 n 16", MM(FP16(DRM_ROCKET_TYPE_FP16), .n = 16), 1, 0, 1 },
	{ "unknown flag", MM(.flags = 4), 1, -EINVAL },
	{ "SPLIT and NO_SPLIT", MM(.flags = DRM_ROCKET_MATMUL_SPLIT |
				   DRM_ROCKET_MATMUL_NO_SPLIT), 3, -EINVAL },
	{ "pad", MM(.pad = 1), 1, -EINVAL },
	{ "row stride", MM(.a_row_stride = 32), 1, -EINVAL },
	{ "type none", MM(.in_type = 0, .weight_type = 0), 1, -EINVAL },
	{ "mixed types", MM(.weight_type = DRM_ROCKET_TYPE_FP16), 1, -EINVAL },
	{ "int8 -> fp32", MM(.out_type = DRM_ROCKET_TYPE_FP32), 1, -EINVAL },
	{ "m 0", MM(.m = 0), 1, -EINVAL },
	{ "m 6", MM(.m = 6), 1, -EINVAL },
	{ "k 48", MM(.k = 48), 1, -EINVAL },
	{ "int8 n 16", MM(.n = 16), 1, -EINVAL },
	{ "a_offset 8", MM(.a_offset = 8), 1, -EINVAL },
	{ "bias_offset without bias", MM(.bias_offset = 16), 1, -EINVAL },
	{ "m over limit", MM(.m = ROCKET_MATMUL_MAX_MN + 4), 1, -E2BIG },
	{ "k over limit", MM(.k = ROCKET_MATMUL_MAX_K + 32), 1, -E2BIG },
	{ "handle 0", MM(.a_handle = 0), 1, -ENOENT },
	{ "unknown handle", MM(.c_handle = 99), 1, -ENOENT },
	{ "unknown bias", MM(.bias_handle = 99), 1, -ENOENT },
	{ "A past BO end", MM(.a_offset = SZ_1M - 64), 1, -EINVAL },
	{ "C overlaps A", MM(.c_handle = 1, .c_offset = 112), 1, -EINVAL },
	{ "offset wraps", MM(.b_offset = 0xfffffffffffffff0ULL), 1, -EOVERFLOW },
	{ "past 4 GiB", MM(.a_handle = 5, .a_offset = 0xfffc0), 1, -EOVERFLOW },
	{ "bias", MM(.bias_handle = 4), 1, -EOPNOTSUPP },
	{ "2^36 MACs, one core", MM(BIG, .m = 4096, .k = 4096, .n = 4096,
	  .flags = DRM_ROCKET_MATMUL_NO_SPLIT), 3, -E2BIG },
	{ "2^36 MACs, three cores", MM(BIG, .m = 4096, .k = 4096, .n = 4096), 3, 0, 3 },
	{ "big, two cores", MM(BIG, .m = 256, .k = 1024, .n = 4096), 2, 0, 2 },
	{ "small, three cores", MM(), 3, 0, 1 },
	{ "small, SPLIT, three cores", MM(.m = 1, .n = 96,
					  .flags = DRM_ROCKET_MATMUL_SPLIT), 3, 0, 3 },
	{ "small, SPLIT, one weight block", MM(.flags = DRM_ROCKET_MATMUL_SPLIT),
	  3, 0, 1 },
};

static void rocket_prep_case_desc(const struct rocket_prep_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rocket_prep, rocket_prep_cases, rocket_prep_case_desc);

static void rocket_matmul_test_prepare(struct kunit *test)
{
	const struct rocket_prep_case *t = test->param_value;
	struct rocket_fake_ctx ctx = { };
	struct rocket_matmul_prep *prep;
	u64 c_next;
	u32 i;

	prep = kunit_kzalloc(test, sizeof(*prep), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, prep);

	KUNIT_ASSERT_EQ(test, rocket_matmul_prepare(&rocket_fake_ops, &ctx, &t->mm, t->cores,
						    prep), t->err);
	if (t->err)
		return;

	KUNIT_EXPECT_EQ(test, prep->job_count, t->jobs);
	/* The parts write C back to back. */
	c_next = prep->bos[ROCKET_MATMUL_C].dma + t->mm.c_offset;
	for (i = 0; i < prep->job_count; i++) {
		KUNIT_EXPECT_EQ(test, prep->jobs[i].desc.c_dma, c_next);
		c_next += prep->jobs[i].plan.c_bytes;
	}
	KUNIT_EXPECT_EQ(test, c_next, prep->bos[ROCKET_MATMUL_C].dma + t->mm.c_offset +
			(u64)t->mm.m * t->mm.n * rocket_mm_type_size(t->mm.out_type));
}

static void rocket_matmul_test_layout(struct kunit *test)
{
	const struct rocket_prep_case *t = &rocket_prep_cases[0];
	struct rocket_matmul_job jobs[2];
	struct rocket_fake_ctx ctx = { };
	struct rocket_matmul_prep *prep;
	struct rocket_regcmd_task scratch[4];
	struct rocket_matmul_hw_task tasks[4];
	u32 total;
	u64 *buf;

	prep = kunit_kzalloc(test, sizeof(*prep), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, prep);
	KUNIT_ASSERT_EQ(test, rocket_matmul_prepare(&rocket_fake_ops, &ctx, &t->mm, 1, prep), 0);
	jobs[0] = prep->jobs[0];
	jobs[1] = prep->jobs[0];
	KUNIT_ASSERT_EQ(test, rocket_matmul_layout(jobs, 2, &total), 0);
	KUNIT_EXPECT_EQ(test, jobs[0].qword_offset, 0);
	KUNIT_EXPECT_EQ(test, jobs[1].qword_offset, 112);
	KUNIT_EXPECT_EQ(test, total, 112 + 108);

	buf = kunit_kcalloc(test, total, sizeof(*buf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, rocket_matmul_emit_job(&jobs[1], buf, total, 0x40000000,
						     scratch, tasks, 4), 1);
	KUNIT_EXPECT_EQ(test, tasks[0].regcmd, 0x40000000 + 112 * 8);
	KUNIT_EXPECT_EQ(test, tasks[0].regcmd_count, 108);
	KUNIT_EXPECT_EQ(test, rocket_matmul_emit_job(&jobs[1], buf, total - 1, 0x40000000,
						     scratch, tasks, 4), -ENOSPC);
}

static void rocket_matmul_test_uapi(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_rocket_matmul), 88);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_rocket_submit_matmul), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct drm_rocket_matmul, m), 48);
	KUNIT_EXPECT_EQ(test, offsetof(struct drm_rocket_matmul, pad), 84);
	KUNIT_EXPECT_EQ(test, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, 0x40186444);
}

static struct kunit_case rocket_matmul_test_cases[] = {
	KUNIT_CASE(rocket_matmul_test_uapi),
	KUNIT_CASE_PARAM(rocket_matmul_test_args, rocket_args_gen_params),
	KUNIT_CASE_PARAM(rocket_matmul_test_copy, rocket_copy_gen_params),
	KUNIT_CASE_PARAM(rocket_matmul_test_prepare, rocket_prep_gen_params),
	KUNIT_CASE(rocket_matmul_test_layout),
	{}
};

static struct kunit_suite rocket_matmul_test_suite = {
	.name = "rocket_matmul",
	.test_cases = rocket_matmul_test_cases,
};

kunit_test_suite(rocket_matmul_test_suite);

MODULE_DESCRIPTION("KUnit tests for the Rocket NPU matmul ioctl");
MODULE_LICENSE("GPL");
