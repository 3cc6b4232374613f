// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the matmul register command generator (rocket_regcmd.c):
 * tiling and buffer sizes per shape, rejected descriptions, and the layout
 * of the emitted stream.
 */

#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../rocket_regcmd.h"

struct rocket_regcmd_case {
	const char *desc;
	u32 in, out, m, k, n;
	u32 tile_rows, tasks, qwords;
};

#define RC_I8	ROCKET_MM_TYPE_INT8
#define RC_FP16	ROCKET_MM_TYPE_FP16
#define RC_I32	ROCKET_MM_TYPE_INT32
#define RC_FP32	ROCKET_MM_TYPE_FP32

/* qwords = (tasks - 1) * 112 + 104 + 4 */
static const struct rocket_regcmd_case rocket_regcmd_cases[] = {
	{ "int8 4x32x32", RC_I8, RC_I32, 4, 32, 32, 4, 1, 108 },
	{ "int8 gemv 1x4096x8192", RC_I8, RC_I32, 1, 4096, 8192, 1, 1, 108 },
	{ "int8 gemv, two N tiles", RC_I8, RC_I32, 1, 4096, 8224, 1, 2, 220 },
	{ "int8 1024 rows, two M tiles", RC_I8, RC_I32, 1024, 64, 64, 1020, 2, 220 },
	{ "fp16->fp32 2048x1024x512", RC_FP16, RC_FP32, 2048, 1024, 512, 160, 13, 1452 },
	{ "fp16->fp16 K 16384, 8 rows", RC_FP16, RC_FP16, 8, 16384, 16, 8, 1, 108 },
	{ "fp16->fp16 K 16384, 16 rows", RC_FP16, RC_FP16, 16, 16384, 16, 8, 2, 220 },
};

static void rocket_regcmd_case_desc(const struct rocket_regcmd_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rocket_regcmd, rocket_regcmd_cases, rocket_regcmd_case_desc);

static struct rocket_matmul_desc rocket_regcmd_case_to_desc(const struct rocket_regcmd_case *t)
{
	struct rocket_matmul_desc d = {
		.m = t->m, .k = t->k, .n = t->n,
		.in_type = t->in, .weight_type = t->in, .out_type = t->out,
		.a_dma = 0x100000, .b_dma = 0x4000000, .c_dma = 0x8000000,
	};

	return d;
}

static void rocket_regcmd_test_plan(struct kunit *test)
{
	const struct rocket_regcmd_case *t = test->param_value;
	struct rocket_matmul_desc d = rocket_regcmd_case_to_desc(t);
	struct rocket_matmul_plan p;
	u32 esz = rocket_mm_type_size(t->in), osz = rocket_mm_type_size(t->out);

	KUNIT_ASSERT_EQ(test, rocket_matmul_plan(&d, &p), 0);
	KUNIT_EXPECT_EQ(test, p.tile_rows, t->tile_rows);
	KUNIT_EXPECT_EQ(test, p.tasks, t->tasks);
	KUNIT_EXPECT_EQ(test, p.m_tiles * p.n_tiles, t->tasks);
	KUNIT_EXPECT_EQ(test, p.qwords, t->qwords);
	KUNIT_EXPECT_EQ(test, p.a_bytes, (u64)t->m * t->k * esz);
	KUNIT_EXPECT_EQ(test, p.b_bytes, (u64)t->n * t->k * esz);
	KUNIT_EXPECT_EQ(test, p.c_bytes, (u64)t->m * t->n * osz);
	KUNIT_EXPECT_EQ(test, rocket_matmul_size(&d), (int)t->qwords);
}

static void rocket_regcmd_test_emit(struct kunit *test)
{
	const struct rocket_regcmd_case *t = test->param_value;
	struct rocket_matmul_desc d = rocket_regcmd_case_to_desc(t);
	struct rocket_regcmd_task *tasks;
	u32 n_tasks = 0, i;
	u64 *buf;

	buf = kunit_kcalloc(test, t->qwords + 1, sizeof(*buf), GFP_KERNEL);
	tasks = kunit_kcalloc(test, t->tasks, sizeof(*tasks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, tasks);

	/* Too small: nothing written. */
	KUNIT_EXPECT_EQ(test, rocket_matmul_emit(&d, buf, t->qwords - 1, NULL, 0, NULL),
			-ENOSPC);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(buf, 0, (t->qwords + 1) * sizeof(*buf)));
	if (t->tasks > 1)
		KUNIT_EXPECT_EQ(test, rocket_matmul_emit(&d, buf, t->qwords, tasks,
							 t->tasks - 1, NULL), -ENOSPC);

	KUNIT_ASSERT_EQ(test, rocket_matmul_emit(&d, buf, t->qwords, tasks, t->tasks,
						 &n_tasks), (int)t->qwords);
	KUNIT_EXPECT_EQ(test, n_tasks, t->tasks);
	KUNIT_EXPECT_EQ(test, buf[t->qwords], 0);

	for (i = 0; i < n_tasks; i++) {
		KUNIT_EXPECT_EQ(test, tasks[i].offset % ROCKET_MM_TASK_ALIGN_QWORDS, 0);
		KUNIT_EXPECT_EQ(test, tasks[i].offset, i * ROCKET_MM_TASK_STRIDE_QWORDS);
		KUNIT_EXPECT_EQ(test, tasks[i].reg_count, ROCKET_MM_TASK_REGS);
		KUNIT_EXPECT_EQ(test, tasks[i].qwords,
				ROCKET_MM_TASK_REGS + ROCKET_MM_TRAILER_QWORDS);
		KUNIT_EXPECT_EQ(test, tasks[i].amounts, (tasks[i].qwords + 1) / 2 - 1);
		KUNIT_EXPECT_LE(test, tasks[i].m0 + tasks[i].rows, t->m);
		KUNIT_EXPECT_LE(test, tasks[i].n0 + tasks[i].cols, t->n);
		/* Without ROCKET_MM_F_CHAIN the kernel starts each task itself. */
		KUNIT_EXPECT_NE(test, buf[tasks[i].offset], 0);
	}
}

struct rocket_regcmd_bad_case {
	const char *desc;
	struct rocket_matmul_desc d;
	int err;
};

#define RB(...) { .m = 4, .k = 32, .n = 32, .in_type = ROCKET_MM_TYPE_INT8, \
		  .weight_type = ROCKET_MM_TYPE_INT8, .out_type = ROCKET_MM_TYPE_INT32, \
		  .a_dma = 0x1000, .b_dma = 0x2000, .c_dma = 0x3000, __VA_ARGS__ }

static const struct rocket_regcmd_bad_case rocket_regcmd_bad_cases[] = {
	{ "valid", RB(), 0 },
	{ "unknown flag", RB(.flags = 2), -EINVAL },
	{ "bias address", RB(.bias_dma = 0x4000), -EINVAL },
	{ "row stride", RB(.a_row_stride = 32), -EINVAL },
	{ "reserved", RB(.reserved = 1), -EINVAL },
	{ "int8 -> fp16", RB(.out_type = ROCKET_MM_TYPE_FP16), -EINVAL },
	{ "int4", RB(.in_type = ROCKET_MM_TYPE_INT4, .weight_type = ROCKET_MM_TYPE_INT4),
	  -EINVAL },
	{ "m 0", RB(.m = 0), -EINVAL },
	{ "m 5", RB(.m = 5), -EINVAL },
	{ "k 40", RB(.k = 40), -EINVAL },
	{ "n 48", RB(.n = 48), -EINVAL },
	{ "a_dma 8", RB(.a_dma = 0x1008), -EINVAL },
	{ "int8 k 32768", RB(.k = 32768), -ERANGE },
	{ "c past 4 GiB", RB(.c_dma = 0xfffffff0), -EOVERFLOW },
	{ "chain without buffer", RB(.flags = ROCKET_MM_F_CHAIN), -EINVAL },
};

static void rocket_regcmd_bad_case_desc(const struct rocket_regcmd_bad_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rocket_regcmd_bad, rocket_regcmd_bad_cases, rocket_regcmd_bad_case_desc);

static void rocket_regcmd_test_bad(struct kunit *test)
{
	const struct rocket_regcmd_bad_case *t = test->param_value;
	struct rocket_matmul_plan p;

	KUNIT_EXPECT_EQ(test, rocket_matmul_plan(&t->d, &p), t->err);
}

static struct kunit_case rocket_regcmd_test_cases[] = {
	KUNIT_CASE_PARAM(rocket_regcmd_test_plan, rocket_regcmd_gen_params),
	KUNIT_CASE_PARAM(rocket_regcmd_test_emit, rocket_regcmd_gen_params),
	KUNIT_CASE_PARAM(rocket_regcmd_test_bad, rocket_regcmd_bad_gen_params),
	{}
};

static struct kunit_suite rocket_regcmd_test_suite = {
	.name = "rocket_regcmd",
	.test_cases = rocket_regcmd_test_cases,
};

kunit_test_suite(rocket_regcmd_test_suite);
