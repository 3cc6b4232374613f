// SPDX-License-Identifier: MIT
/*
 * bench-regcmd: time the kernel's matmul regcmd generation for every matmul
 * of one Qwen2.5-1.5B decode step (M = 1): per layer q 1536x1536,
 * k/v 1536->256, o 1536x1536, gate/up 1536->8960, down 8960->1536, 28
 * layers, plus the vocab projection 1536->151936.
 *
 * usage: bench-regcmd [iterations] [int8|fp16|fp16out]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rocket_regcmd.h"

struct mm {
	const char *name;
	u32 k, n, per_step;
};

static const struct mm qwen[] = {
	{ "q_proj", 1536, 1536, 28 },
	{ "k_proj", 1536, 256, 28 },
	{ "v_proj", 1536, 256, 28 },
	{ "o_proj", 1536, 1536, 28 },
	{ "gate_proj", 1536, 8960, 28 },
	{ "up_proj", 1536, 8960, 28 },
	{ "down_proj", 8960, 1536, 28 },
	{ "lm_head", 1536, 151936, 1 },
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	const char *ty = argc > 2 ? argv[2] : "int8";
	u32 tin = ROCKET_MM_TYPE_INT8, tout = ROCKET_MM_TYPE_INT32;
	size_t nmm = sizeof(qwen) / sizeof(qwen[0]), i;
	u64 *buf;
	u32 cap = 1 << 16, total_mm = 0;
	double step_us = 0;
	unsigned long long sink = 0;

	if (!strcmp(ty, "fp16")) {
		tin = ROCKET_MM_TYPE_FP16;
		tout = ROCKET_MM_TYPE_FP32;
	} else if (!strcmp(ty, "fp16out")) {
		tin = ROCKET_MM_TYPE_FP16;
		tout = ROCKET_MM_TYPE_FP16;
	} else if (strcmp(ty, "int8")) {
		fprintf(stderr, "usage: %s [iterations] [int8|fp16|fp16out]\n", argv[0]);
		return 2;
	}
	if (iters < 1)
		iters = 1;
	buf = malloc((size_t)cap * sizeof(u64));
	if (!buf)
		return 1;

	printf("Qwen2.5-1.5B decode step, M=1, %s, %d iterations each\n", ty, iters);
	printf("%-10s %6s %7s %5s %7s %9s %9s\n", "matmul", "K", "N", "tasks",
	       "qwords", "us/call", "per step");
	for (i = 0; i < nmm; i++) {
		struct rocket_matmul_desc d = {
			.m = 1, .k = qwen[i].k, .n = qwen[i].n,
			.in_type = tin, .weight_type = tin, .out_type = tout,
			.a_dma = 0x00100000, .b_dma = 0x10000000, .c_dma = 0x00200000,
			.flags = ROCKET_MM_F_CHAIN, .regcmd_dma = 0x00010000,
		};
		struct rocket_matmul_plan p;
		double t0, us;
		int it, ret;

		if (rocket_matmul_plan(&d, &p)) {
			fprintf(stderr, "%s: invalid description\n", qwen[i].name);
			return 1;
		}
		/* Warm up, then time. */
		for (it = 0; it < 10; it++)
			rocket_matmul_emit(&d, buf, cap, NULL, 0, NULL);
		t0 = now_us();
		for (it = 0; it < iters; it++) {
			d.a_dma = 0x00100000 + ((u32)it & 0xff) * 16;
			ret = rocket_matmul_emit(&d, buf, cap, NULL, 0, NULL);
			if (ret < 0) {
				fprintf(stderr, "%s: emit %d\n", qwen[i].name, ret);
				return 1;
			}
			sink += buf[21] + (u64)ret;
		}
		us = (now_us() - t0) / iters;
		step_us += us * qwen[i].per_step;
		total_mm += qwen[i].per_step;
		printf("%-10s %6u %7u %5u %7u %9.3f %9.1f\n", qwen[i].name, d.k, d.n,
		       p.tasks, p.qwords, us, us * qwen[i].per_step);
	}
	printf("step: %u matmuls, %.1f us total, %.3f us per matmul (sink %llx)\n",
	       total_mm, step_us, step_us / total_mm, sink & 0xf);
	free(buf);
	return 0;
}
