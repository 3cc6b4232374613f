// SPDX-License-Identifier: MIT
/*
 * lib/npu_fit.c: the least-squares fit behind npu-calibrate. Probes are made
 * from known unit times with the model's own formula; the fit must find
 * those times again from any reasonable start, tell which rates the probes
 * did not determine, stay physical, and refuse what it cannot fit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npu_fit.h"
#include "tap.h"

/* Unit times of a made-up board: 60 us a call, 9 us a task, 205 GMAC/s, 28.8 GB/s. */
static const struct npu_fit truth = {
	.t_call = 60e-6, .t_task = 9e-6, .s_mac = 1 / 204.8e9, .s_byte = 1 / 28.8e9,
};

/* Shapes like npu-calibrate's probes: {tasks, MACs and bytes of each task}. */
struct shape {
	unsigned ntasks;
	double macs, bytes;	/* per task */
};

static const struct shape probes[] = {
	{ 1, 1024, 1184 + 864 },		/* 1x32x32: latency */
	{ 9, 1020.0 * 32 * 32, 1020.0 * 32 + 1024 + 1020.0 * 32 * 4 + 864 },	/* 8192x32x32 */
	{ 2, 4480.0 * 1536, 4480.0 * 1536 + 1536 + 4480 * 4 + 864 },	/* 1x1536x8960 */
	{ 1, 8960.0 * 1536, 8960.0 * 1536 + 8960 + 1536 * 4 + 864 },	/* 1x8960x1536 */
	{ 1, 64.0 * 1536 * 128, 64.0 * 1536 + 1536.0 * 128 + 64 * 128 * 4 + 864 },	/* 64x1536x128 */
	{ 1, 256.0 * 1536 * 32, 256.0 * 1536 + 1536.0 * 32 + 256 * 32 * 4 + 864 },	/* 256x1536x32 */
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static void make(struct npu_fit_probe *p, const struct shape *s, unsigned n, const struct npu_fit *f,
		 double noise, unsigned seed)
{
	srand(seed);
	for (unsigned i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].ntasks = s[i].ntasks;
		for (unsigned k = 0; k < s[i].ntasks; k++)
			p[i].task[k] = (struct npu_fit_task){ s[i].macs, s[i].bytes };
		p[i].t = npu_fit_predict(f, &p[i]) *
			 (1 + noise * (2.0 * rand() / RAND_MAX - 1));
	}
}

static double rel(double a, double b)
{
	return fabs(a - b) / fabs(b);
}

static void test_exact_from_far_starts(void)
{
	struct npu_fit_probe p[NPROBES];
	static const double off[][2] = { { 1, 1 }, { 10, 0.1 }, { 0.1, 10 }, { 100, 100 }, { 0.01, 0.01 } };

	make(p, probes, NPROBES, &truth, 0, 1);
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		struct npu_fit f = { .t_call = 1e-3, .t_task = 0, .s_mac = truth.s_mac * off[i][0],
				     .s_byte = truth.s_byte * off[i][1] };

		CHECK_EQ_INT(npu_fit(p, NPROBES, &f), 0);
		CHECKF(rel(f.t_call, truth.t_call) < 1e-6, "start %zu: t_call %g", i, f.t_call);
		CHECKF(rel(f.t_task, truth.t_task) < 1e-6, "start %zu: t_task %g", i, f.t_task);
		CHECKF(rel(f.s_mac, truth.s_mac) < 1e-6, "start %zu: s_mac %g", i, f.s_mac);
		CHECKF(rel(f.s_byte, truth.s_byte) < 1e-6, "start %zu: s_byte %g", i, f.s_byte);
		CHECK(f.mac_fitted && f.byte_fitted);
		CHECKF(f.rms < 1e-12, "rms %g", f.rms);
	}
}

/* Another board: per-core DMA at 16 B/cycle of 200 MHz makes the compute probes DMA-bound too. */
static void test_slow_dma_board(void)
{
	struct npu_fit_probe p[NPROBES];
	struct npu_fit board = { .t_call = 25e-6, .t_task = 3e-6, .s_mac = 1 / 400e9, .s_byte = 1 / 3.2e9 };
	struct npu_fit f = { .t_call = 0, .t_task = 0, .s_mac = truth.s_mac, .s_byte = truth.s_byte };

	make(p, probes, NPROBES, &board, 0, 1);
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), 0);
	CHECKF(rel(f.s_byte, board.s_byte) < 1e-6, "s_byte %g", f.s_byte);
	CHECKF(rel(f.t_call, board.t_call) < 1e-6, "t_call %g", f.t_call);
	CHECKF(rel(f.t_task, board.t_task) < 1e-6, "t_task %g", f.t_task);
	/* no task is compute-bound on this board: the MAC rate is not determined */
	CHECK(!f.mac_fitted);
	CHECK(f.byte_fitted);
	CHECKF(f.s_mac == truth.s_mac, "s_mac moved to %g", f.s_mac);
}

static void test_noise(void)
{
	struct npu_fit_probe p[NPROBES];

	for (unsigned seed = 1; seed <= 20; seed++) {
		struct npu_fit f = { .t_call = 0, .t_task = 0, .s_mac = 1e-12, .s_byte = 1e-10 };

		make(p, probes, NPROBES, &truth, 0.02, seed);
		CHECK_EQ_INT(npu_fit(p, NPROBES, &f), 0);
		CHECKF(rel(f.s_byte, truth.s_byte) < 0.1, "seed %u: s_byte %g", seed, f.s_byte);
		CHECKF(rel(f.s_mac, truth.s_mac) < 0.1, "seed %u: s_mac %g", seed, f.s_mac);
		CHECKF(rel(f.t_call, truth.t_call) < 0.5, "seed %u: t_call %g", seed, f.t_call);
		CHECKF(f.t_task >= 0, "seed %u: t_task %g", seed, f.t_task);
	}
}

/* A board without per-task cost and noise around it: the fit must not report a negative one. */
static void test_stays_physical(void)
{
	struct npu_fit board = truth;
	struct npu_fit_probe p[NPROBES];
	unsigned held = 0;

	board.t_task = 0;
	for (unsigned seed = 1; seed <= 40; seed++) {
		struct npu_fit f = { .s_mac = 1e-12, .s_byte = 1e-10 };

		make(p, probes, NPROBES, &board, 0.05, seed);
		CHECK_EQ_INT(npu_fit(p, NPROBES, &f), 0);
		CHECKF(f.t_task >= 0 && f.t_call >= 0, "seed %u: t_task %g t_call %g", seed, f.t_task,
		       f.t_call);
		held += f.t_task == 0;
	}
	/* with noise both ways, some fits must have wanted a negative task cost */
	CHECKF(held > 0, "no fit was held at t_task = 0");
}

static void test_refuses(void)
{
	struct npu_fit_probe p[NPROBES];
	struct npu_fit f = { .s_mac = 1e-12, .s_byte = 1e-10 };

	make(p, probes, NPROBES, &truth, 0, 1);
	CHECK_EQ_INT(npu_fit(p, 1, &f), -1);
	CHECK_EQ_INT(npu_fit(p, 0, &f), -1);
	p[2].t = NAN;
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), -1);
	make(p, probes, NPROBES, &truth, 0, 1);
	p[1].ntasks = 0;
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), -1);
	make(p, probes, NPROBES, &truth, 0, 1);
	p[1].ntasks = NPU_FIT_MAX_TASKS + 1;
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), -1);
	make(p, probes, NPROBES, &truth, 0, 1);
	p[3].task[0].bytes = -1;
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), -1);
	make(p, probes, NPROBES, &truth, 0, 1);
	f.s_byte = 0;	/* no rate to class the tasks with */
	CHECK_EQ_INT(npu_fit(p, NPROBES, &f), -1);
	/* two identical probes cannot separate the call from the task cost */
	{
		struct npu_fit_probe q[3] = { p[0], p[0], p[0] };
		struct npu_fit g = { .s_mac = 1e-12, .s_byte = 1e-10 };

		CHECK_EQ_INT(npu_fit(q, 3, &g), -1);
	}
}

int main(void)
{
	RUN(test_exact_from_far_starts);
	RUN(test_slow_dma_board);
	RUN(test_noise);
	RUN(test_stays_physical);
	RUN(test_refuses);
	return tap_done();
}
