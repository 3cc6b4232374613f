// SPDX-License-Identifier: MIT
/*
 * NPU model tests: golden cases, strictness (mutated golden streams must fail
 * with the specific error naming qword, register and field), register-state
 * persistence across tasks (vendor-style delta task, PC chain and mainline
 * per-task start), counters for a known shape, and random-stream robustness.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_min.h"
#include "npu_case.h"
#include "npu_sim.h"
#include "tap.h"

static char golden_dir[1024];

static int load(const char *name, struct npu_case *c)
{
	char dir[2048], err[512];

	snprintf(dir, sizeof(dir), "%s/%s", golden_dir, name);
	if (npu_case_load(dir, c, err, sizeof(err))) {
		tap_fail(__FILE__, __LINE__, "load %s: %s", name, err);
		return -1;
	}
	return 0;
}

/* Index of the first body qword writing register offset off. */
static long find_q(const struct npu_case *c, uint16_t off)
{
	for (size_t i = 0; i < c->nq; i++) {
		uint16_t t = (uint16_t)(c->qwords[i] >> 48);

		if ((uint16_t)c->qwords[i] == off && (t == 0x0201 || t == 0x0801 || t == 0x1001))
			return (long)i;
	}
	return -1;
}

static void set_val(struct npu_case *c, long i, uint32_t v)
{
	c->qwords[i] = (c->qwords[i] & 0xffff00000000ffffull) | ((uint64_t)v << 16);
}

static uint32_t get_val(const struct npu_case *c, long i)
{
	return (uint32_t)(c->qwords[i] >> 16);
}

/* Set every write of register off (value only). */
static void set_reg(struct npu_case *c, uint16_t off, uint32_t v)
{
	for (size_t i = 0; i < c->nq; i++) {
		uint16_t t = (uint16_t)(c->qwords[i] >> 48);

		if ((uint16_t)c->qwords[i] == off && (t == 0x0201 || t == 0x0801 || t == 0x1001))
			set_val(c, (long)i, v);
	}
}

static int run_case(struct npu_case *c, struct npu_sim_error *err)
{
	struct npu_sim *sim = npu_sim_new();
	int rc;

	if (!sim)
		return -1;
	rc = npu_case_setup(sim, c, err);
	if (!rc)
		rc = npu_case_run(sim, c, err);
	npu_sim_free(sim);
	return rc;
}

/* Expect a specific error: code, register, field and (if >= 0) qword index. */
#define EXPECT_ERR(c, code_, reg_, field_, qword_) do { \
	struct npu_sim_error e_; \
	int rc_ = run_case((c), &e_); \
	CHECKF(rc_ == (code_), "rc %d (%s), expected %d (%s): %s", rc_, npu_sim_code_name(rc_), (code_), \
	       npu_sim_code_name(code_), rc_ ? e_.msg : "no error"); \
	if (rc_) { \
		CHECK_STR(e_.reg, (reg_)); \
		CHECK_STR(e_.field, (field_)); \
		if ((qword_) >= 0) { \
			char qs_[32]; \
			CHECK_EQ_INT(e_.qword, (qword_)); \
			snprintf(qs_, sizeof(qs_), "qword %ld ", (long)(qword_)); \
			CHECKF(strstr(e_.msg, qs_) != NULL, "message does not name %s: %s", qs_, e_.msg); \
		} \
		CHECKF(!(reg_)[0] || strstr(e_.msg, (reg_)) != NULL, "message does not name %s: %s", (reg_), e_.msg); \
	} \
} while (0)

/* ---- golden ------------------------------------------------------------------ */

static void golden_all_exact(void)
{
	static const char *const cases[] = {
		"formula_int8_1x1536x256", "formula_int8_32x128x96", "formula_int8_4x64x64",
		"hw_mtx512_fp16_4x36x16", "hw_mtx512_fp16_fp16_1x32x16", "hw_mtx512_int8_1x32x32",
		"hw_mtx512_int8_1x64x64", "vendor_fp16_385x385x385", "vendor_fp16_4x64x32", "vendor_int8_4x64x32",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct npu_case c;
		struct npu_sim_error e;
		char msg[512];

		if (load(cases[i], &c))
			continue;
		int rc = run_case(&c, &e);

		CHECKF(rc == 0, "%s: %s", cases[i], e.msg);
		if (!rc)
			CHECKF(npu_case_compare(&c, msg, sizeof(msg)) == 0, "%s: %s", cases[i], msg);
		npu_case_free(&c);
	}
}

/* ---- strictness ----------------------------------------------------------------- */

#define CASE_I8 "hw_mtx512_int8_1x64x64"

static void strict_unknown_register(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x1060);	/* CNA_FC_CON0 -> unmodelled CNA offset 0x10f0 */

	c.qwords[i] = (c.qwords[i] & ~0xffffull) | 0x10f0;
	EXPECT_ERR(&c, NPU_SIM_E_REG, "CNA", "offset", i);
	npu_case_free(&c);
}

static void strict_wrong_target(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x4040);	/* DPU_BS_CFG sent to CNA */

	c.qwords[i] = (c.qwords[i] & 0x0000ffffffffffffull) | (0x0201ull << 48);
	EXPECT_ERR(&c, NPU_SIM_E_TARGET, "DPU_BS_CFG", "target", i);
	npu_case_free(&c);
}

static void strict_unknown_target_and_block(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x1060);

	c.qwords[i] = (c.qwords[i] & 0x0000ffffffffffffull) | (0x0301ull << 48);
	EXPECT_ERR(&c, NPU_SIM_E_DECODE, "CNA_FC_CON0", "target", i);
	c.qwords[i] = 0x4001000000006000ull;	/* a PPU write: block not modelled */
	EXPECT_ERR(&c, NPU_SIM_E_DECODE, "PPU", "target", i);
	c.qwords[i] = 0;	/* no-op inside the body */
	EXPECT_ERR(&c, NPU_SIM_E_DECODE, "", "", i);
	npu_case_free(&c);
}

static void strict_bs_not_bypassed(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x4040);

	set_val(&c, i, 0x52);	/* BS_BYPASS cleared */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "DPU_BS_CFG", "BS_BYPASS", i);
	set_val(&c, i, 0x13);	/* BS relu not bypassed */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "DPU_BS_CFG", "BS_RELU_BYPASS", i);
	set_val(&c, i, 0x53);
	i = find_q(&c, 0x4060);
	set_val(&c, i, 0x43);	/* BN mul not bypassed */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "DPU_BN_CFG", "BN_MUL_BYPASS", i);
	npu_case_free(&c);
}

static void strict_conv_mode_stride_precision(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x100C);

	set_val(&c, i, 0x1);
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CONV_CON1", "CONV_MODE", i);
	set_val(&c, i, 0x0);
	i = find_q(&c, 0x1014);
	set_val(&c, i, 0xa);	/* x stride 2 */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CONV_CON3", "CONV_X_STRIDE", i);
	set_val(&c, i, 0x9);
	i = find_q(&c, 0x4010);
	set_val(&c, i, 0xa0000000);	/* int8 in, fp32 out: not a modelled combination */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "DPU_DATA_FORMAT", "OUT_PRECISION", i);
	npu_case_free(&c);
}

static void strict_cbuf_banks(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x1040);

	set_val(&c, i, 0xa1);	/* 10 + 1 = 11 banks */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CBUF_CON0", "DATA_BANK", i);
	set_val(&c, i, 0x10b1);
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CBUF_CON0", "DATA_REUSE", i);
	set_val(&c, i, 0x20b1);	/* WEIGHT_REUSE on the first task: nothing in the CBUF */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CBUF_CON0", "WEIGHT_REUSE", i);
	npu_case_free(&c);

	/* 385x416 fp16 input (320320 B) does not fit 9 data banks */
	if (load("vendor_fp16_385x385x385", &c))
		return;
	set_reg(&c, 0x1040, 0x39);
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CBUF_CON0", "DATA_BANK", -1);
	npu_case_free(&c);
}

static void strict_inconsistent_sizes(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x3018);

	set_val(&c, i, get_val(&c, i) - 1);
	EXPECT_ERR(&c, NPU_SIM_E_CONSIST, "CORE_DATAOUT_SIZE_1", "DATAOUT_CHANNEL", i);
	npu_case_free(&c);
	if (load(CASE_I8, &c))
		return;
	i = find_q(&c, 0x4034);
	set_val(&c, i, 3);
	EXPECT_ERR(&c, NPU_SIM_E_CONSIST, "DPU_DATA_CUBE_HEIGHT", "HEIGHT", i);
	npu_case_free(&c);
}

static void strict_m_not_in_surf_formula(void)
{
	struct npu_case c;
	uint32_t M = 6;

	if (load("formula_int8_4x64x64", &c))
		return;
	/* a fully consistent M=6 stream: only the NC1HWC2 surf_stride formula refuses it */
	set_reg(&c, 0x1020, 0x10000 | M);
	set_reg(&c, 0x102C, M);
	set_reg(&c, 0x1084, 0x10000 | M);
	set_reg(&c, 0x1010, (M + 1) << 4);
	set_reg(&c, 0x3014, (M - 1) << 16);
	set_reg(&c, 0x4034, M - 1);
	set_reg(&c, 0x405C, (M - 1) << 16);
	set_reg(&c, 0x4024, M << 4);
	set_reg(&c, 0x40C0, (8 * M) << 4);
	long i = find_q(&c, 0x1080);

	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_DMA_CON2", "SURF_STRIDE", i);
	{
		struct npu_sim_error e;

		run_case(&c, &e);
		CHECKF(strstr(e.msg, "surf_stride formula") != NULL, "%s", e.msg);
	}
	npu_case_free(&c);
}

static void strict_layout_recipe(void)
{
	struct npu_case c;

	if (load("vendor_int8_4x64x32", &c))
		return;
	long i = find_q(&c, 0x4038);	/* row-major notch, but GROUP_LINE_OFF cleared */

	set_reg(&c, 0x100C, 0);
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "CNA_CONV_CON1", "GROUP_LINE_OFF", -1);
	npu_case_free(&c);
	if (load("vendor_int8_4x64x32", &c))
		return;
	set_val(&c, i, 0x00070006);	/* notch halves disagree */
	EXPECT_ERR(&c, NPU_SIM_E_FIELD, "DPU_DATA_CUBE_NOTCH_ADDR", "NOTCH_ADDR", i);
	npu_case_free(&c);
}

static void strict_address_out_of_buffer(void)
{
	struct npu_case c;
	struct npu_sim_error e;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x1070);

	set_val(&c, i, (uint32_t)c.in_dma + 0x30);	/* 64-byte read starting 48 bytes in */
	EXPECT_ERR(&c, NPU_SIM_E_DMA, "CNA_FEATURE_DATA_ADDR", "FEATURE_BASE_ADDR", i);
	run_case(&c, &e);
	CHECKF(strstr(e.msg, "'input'") && strstr(e.msg, "0xffe00030"), "%s", e.msg);
	set_val(&c, i, 0x12345000);
	run_case(&c, &e);
	CHECKF(e.code == NPU_SIM_E_DMA && strstr(e.msg, "nearest buffer"), "%s", e.msg);
	set_val(&c, i, (uint32_t)c.in_dma + 8);	/* misaligned */
	EXPECT_ERR(&c, NPU_SIM_E_DMA, "CNA_FEATURE_DATA_ADDR", "FEATURE_BASE_ADDR", i);
	set_val(&c, i, (uint32_t)c.in_dma);
	i = find_q(&c, 0x4020);
	set_val(&c, i, (uint32_t)c.out_dma + 0x10);
	EXPECT_ERR(&c, NPU_SIM_E_DMA, "DPU_DST_BASE_ADDR", "DST_BASE_ADDR", i);
	npu_case_free(&c);
}

static void strict_never_written(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long i = find_q(&c, 0x1060);

	c.qwords[i] = c.qwords[i - 1];	/* CNA_FC_CON0 dropped */
	EXPECT_ERR(&c, NPU_SIM_E_UNSET, "CNA_FC_CON0", "", -1);
	npu_case_free(&c);
}

static void strict_bad_trailer(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long n = (long)c.nq;	/* 104 writes + trailer */

	c.qwords[n - 2] = 0x0042000000000000ull;
	EXPECT_ERR(&c, NPU_SIM_E_TRAILER, "PC_MARKER", "value", n - 2);
	c.qwords[n - 2] = 0x0041000000000000ull;
	c.qwords[n - 1] = 0x00810000001d0008ull;	/* Mesa's 0x1d: not modelled */
	EXPECT_ERR(&c, NPU_SIM_E_TRAILER, "PC_OPERATION_ENABLE", "OP_EN", n - 1);
	c.qwords[n - 1] = 0x00810000000d0008ull;
	c.qwords[n - 3] = 0x0101000000000010ull;	/* amount slot holds PC_BASE_ADDRESS */
	EXPECT_ERR(&c, NPU_SIM_E_TRAILER, "PC_REGISTER_AMOUNTS", "target", n - 3);
	c.qwords[n - 3] = 0x0101000000050014ull;	/* amount without a next address */
	EXPECT_ERR(&c, NPU_SIM_E_CHAIN, "PC_REGISTER_AMOUNTS", "PC_DATA_AMOUNT", n - 3);
	npu_case_free(&c);
}

static void strict_truncated_chain(void)
{
	struct npu_case c;

	if (load(CASE_I8, &c))
		return;
	long n = (long)c.nq;

	c.regcmd_dma_given = 1;
	c.regcmd_dma = 0x20000000;
	/* next task at the end of the regcmd buffer, 108 registers */
	c.qwords[n - 4] = 0x0101000000000010ull | ((uint64_t)(0x20000000u + (uint32_t)n * 8) << 16);
	c.qwords[n - 3] = 0x0101000000000014ull | ((uint64_t)55 << 16);
	EXPECT_ERR(&c, NPU_SIM_E_DMA, "PC_BASE_ADDRESS", "value", n - 4);
	/* next task inside the buffer but its 112-qword fetch runs past the end */
	c.qwords[n - 4] = 0x0101000000000010ull | ((uint64_t)0x20000000u << 16);
	c.qwords[n - 3] = 0x0101000000000014ull | ((uint64_t)56 << 16);
	EXPECT_ERR(&c, NPU_SIM_E_DMA, "PC_BASE_ADDRESS", "value", n - 4);
	/* misaligned next address */
	c.qwords[n - 4] = 0x0101000000000010ull | ((uint64_t)0x20000008u << 16);
	EXPECT_ERR(&c, NPU_SIM_E_CHAIN, "PC_BASE_ADDRESS", "PC_SOURCE_ADDR", n - 4);
	/* a chain to itself never ends: bounded */
	c.qwords[n - 4] = 0x0101000000000010ull | ((uint64_t)0x20000000u << 16);
	c.qwords[n - 3] = 0x0101000000000014ull | ((uint64_t)53 << 16);
	{
		struct npu_sim *sim = npu_sim_new();
		struct npu_sim_error e;

		CHECK(npu_case_setup(sim, &c, &e) == 0);
		CHECK_EQ_INT(npu_sim_run_chain(sim, c.regcmd_dma, 104, 50, &e), NPU_SIM_E_CHAIN);
		CHECK_EQ_INT(npu_sim_get_stats(sim)->tasks, 50);
		npu_sim_free(sim);
	}
	npu_case_free(&c);
}

/* ---- persistence ------------------------------------------------------------------ */

/*
 * Two tasks: the full golden task, then a vendor-style delta task writing only
 * FEATURE_DATA_ADDR, DST_BASE_ADDR and CBUF_CON0 (+WEIGHT_REUSE); everything
 * else is inherited. Input 2 = -input 1, so output 2 must be -output 1.
 */
struct two_task {
	struct npu_case c;
	uint64_t *q;
	size_t nq;
	int8_t in2[64];
	uint8_t out2[256];
};

static int two_task_build(struct two_task *t, int chained, uint32_t cbuf2, uint32_t waddr_delta)
{
	if (load(CASE_I8, &t->c))
		return -1;
	size_t n1 = t->c.nq;	/* 108 */

	t->nq = n1 + 8;
	t->q = calloc(t->nq, 8);
	memcpy(t->q, t->c.qwords, n1 * 8);
	uint32_t base = 0x20000000, task2 = base + (uint32_t)n1 * 8;

	if (chained) {
		t->q[n1 - 4] = 0x0101000000000010ull | ((uint64_t)task2 << 16);
		t->q[n1 - 3] = 0x0101000000000014ull | ((uint64_t)((4 + 4 + 1) / 2 - 1) << 16);
	}
	t->q[n1 + 0] = 0x0201000000001070ull | ((uint64_t)0x30000000u << 16);	/* FEATURE_DATA_ADDR */
	t->q[n1 + 1] = 0x1001000000004020ull | ((uint64_t)0x30001000u << 16);	/* DST_BASE_ADDR */
	t->q[n1 + 2] = 0x0201000000001040ull | ((uint64_t)cbuf2 << 16);		/* CBUF_CON0 */
	t->q[n1 + 3] = 0x0201000000001110ull | ((uint64_t)((uint32_t)t->c.w_dma + waddr_delta) << 16);
	t->q[n1 + 4] = 0;
	t->q[n1 + 5] = 0x0101000000000014ull;
	t->q[n1 + 6] = 0x0041000000000000ull;
	t->q[n1 + 7] = 0x00810000000d0008ull;
	free(t->c.qwords);
	t->c.qwords = t->q;
	t->c.nq = t->nq;
	t->c.regcmd_dma_given = 1;
	t->c.regcmd_dma = base;
	for (int k = 0; k < 64; k++)
		t->in2[k] = (int8_t)-(int8_t)t->c.input[k];
	memset(t->out2, 0xcd, sizeof(t->out2));
	return 0;
}

static int two_task_map(struct two_task *t, struct npu_sim *sim, struct npu_sim_error *e)
{
	int rc = npu_case_setup(sim, &t->c, e);

	if (!rc)
		rc = npu_sim_map(sim, 0x30000000, sizeof(t->in2), t->in2, "input2", e);
	if (!rc)
		rc = npu_sim_map(sim, 0x30001000, sizeof(t->out2), t->out2, "output2", e);
	return rc;
}

static void check_out2(struct two_task *t)
{
	char msg[256];

	CHECKF(npu_case_compare(&t->c, msg, sizeof(msg)) == 0, "task 1: %s", msg);
	for (int i = 0; i < 64; i++) {
		int32_t want, got;

		memcpy(&want, t->c.expected + 4 * i, 4);
		memcpy(&got, t->out2 + 4 * i, 4);
		if (got != -want) {
			tap_fail(__FILE__, __LINE__, "task 2 element %d: got %d expected %d", i, got, -want);
			break;
		}
	}
}

/* Both CBUF modes (copied, and by reference as the emulated device runs it). */
static void persistence_pc_chain_delta_task(void)
{
	for (int by_ref = 0; by_ref < 2; by_ref++) {
		struct two_task t;
		struct npu_sim_error e;
		struct npu_sim_buf_info bi;

		if (two_task_build(&t, 1, 0x20b1, 0))
			return;
		struct npu_sim *sim = npu_sim_new();

		npu_sim_set_cbuf_by_reference(sim, by_ref);
		CHECK(two_task_map(&t, sim, &e) == 0);
		int rc = npu_sim_run_chain(sim, t.c.regcmd_dma, 104, 0, &e);

		CHECKF(rc == 0, "by_ref %d: %s", by_ref, e.msg);
		const struct npu_sim_stats *s = npu_sim_get_stats(sim);

		CHECK_EQ_INT(s->tasks, 2);
		CHECK_EQ_INT(s->reg_writes, 104 + 4);
		CHECK_EQ_INT(s->weight_reuse_tasks, 1);
		check_out2(&t);
		/* weights fetched once: task 2 used the CBUF copy */
		for (size_t i = 0; i < npu_sim_buf_count(sim); i++)
			if (!npu_sim_buf_get(sim, i, &bi) && !strcmp(bi.name, "weight"))
				CHECK_EQ_INT(bi.bytes_read, 4096);
		CHECK(npu_sim_last_task(sim)->weight_reuse == 1);
		npu_sim_free(sim);
		npu_case_free(&t.c);
	}
}

/*
 * The CBUF by reference (persistence_pc_chain_delta_task runs the plain
 * chain in both modes): when task 2 writes its output over the weights it
 * reuses, it still computes with the weights as loaded (the CBUF is copied
 * first).
 */
static void persistence_cbuf_by_reference(void)
{
	struct two_task t;
	struct npu_sim_error e;
	struct npu_sim *sim;
	int rc;

	/*
	 * Task 2's output goes over the tail of the weights it reuses: kernels
	 * it has not read yet when it writes its first results.
	 */
	if (two_task_build(&t, 1, 0x20b1, 0))
		return;
	size_t tail = t.c.weight_len - 256;

	CHECK(t.c.weight_len >= 512 && tail % 256 == 0);
	t.q[t.c.nq - 7] = 0x1001000000004020ull | ((uint64_t)((uint32_t)t.c.w_dma + (uint32_t)tail) << 16);
	for (int by_ref = 0; by_ref < 2; by_ref++) {
		uint8_t *w0 = malloc(t.c.weight_len);

		memcpy(w0, t.c.weight, t.c.weight_len);
		sim = npu_sim_new();
		npu_sim_set_cbuf_by_reference(sim, by_ref);
		CHECK(two_task_map(&t, sim, &e) == 0);
		rc = npu_sim_run_chain(sim, t.c.regcmd_dma, 104, 0, &e);
		CHECKF(rc == 0, "by_ref %d: %s", by_ref, e.msg);
		for (int i = 0; i < 64; i++) {
			int32_t want, got;

			memcpy(&want, t.c.expected + 4 * i, 4);
			memcpy(&got, t.c.weight + tail + 4 * i, 4);
			if (got != -want) {
				tap_fail(__FILE__, __LINE__, "by_ref %d: task 2 element %d: got %d expected %d",
					 by_ref, i, got, -want);
				break;
			}
		}
		npu_sim_free(sim);
		memcpy(t.c.weight, w0, t.c.weight_len);	/* the next run starts from the same weights */
		free(w0);
	}
	npu_case_free(&t.c);
}

static void persistence_mainline_per_task(void)
{
	struct two_task t;
	struct npu_sim_error e;

	if (two_task_build(&t, 0, 0xb1, 0))
		return;
	struct npu_sim *sim = npu_sim_new();

	CHECK(two_task_map(&t, sim, &e) == 0);
	int rc = npu_sim_run_task(sim, t.c.regcmd_dma, 108, &e);

	CHECKF(rc == 0, "%s", e.msg);
	rc = npu_sim_run_task(sim, t.c.regcmd_dma + 108 * 8, 8, &e);
	CHECKF(rc == 0, "%s", e.msg);
	CHECK_EQ_INT(npu_sim_get_stats(sim)->tasks, 2);
	CHECK_EQ_INT(npu_sim_get_stats(sim)->weight_reuse_tasks, 0);
	check_out2(&t);
	/* after a reset the delta task alone is refused: state is gone */
	npu_sim_reset(sim);
	rc = npu_sim_run_task(sim, t.c.regcmd_dma + 108 * 8, 8, &e);
	CHECK_EQ_INT(rc, NPU_SIM_E_UNSET);
	npu_sim_free(sim);
	npu_case_free(&t.c);
}

static void persistence_mainline_refuses_chain_words(void)
{
	struct two_task t;
	struct npu_sim_error e;

	if (two_task_build(&t, 1, 0xb1, 0))
		return;
	struct npu_sim *sim = npu_sim_new();

	CHECK(two_task_map(&t, sim, &e) == 0);
	CHECK_EQ_INT(npu_sim_run_task(sim, t.c.regcmd_dma, 108, &e), NPU_SIM_E_CHAIN);
	CHECK_STR(e.reg, "PC_BASE_ADDRESS");
	CHECK_EQ_INT(e.qword, 104);
	npu_sim_free(sim);
	npu_case_free(&t.c);
}

static void persistence_weight_reuse_other_address(void)
{
	struct two_task t;
	struct npu_sim_error e;

	if (two_task_build(&t, 1, 0x20b1, 0x10))
		return;
	struct npu_sim *sim = npu_sim_new();

	CHECK(two_task_map(&t, sim, &e) == 0);
	CHECK_EQ_INT(npu_sim_run_chain(sim, t.c.regcmd_dma, 104, 0, &e), NPU_SIM_E_FIELD);
	CHECK_STR(e.reg, "CNA_CBUF_CON0");
	CHECK_STR(e.field, "WEIGHT_REUSE");
	CHECK_EQ_INT(e.task, 1);
	CHECK_EQ_INT(e.qword, 110);
	npu_sim_free(sim);
	npu_case_free(&t.c);
}

/* ---- counters ------------------------------------------------------------------- */

static void counters_known_shape(void)
{
	struct npu_case c;
	struct npu_sim_error e;

	if (load(CASE_I8, &c))
		return;
	struct npu_sim *sim = npu_sim_new();

	CHECK(npu_case_setup(sim, &c, &e) == 0);
	CHECK(npu_case_run(sim, &c, &e) == 0);
	const struct npu_sim_stats *s = npu_sim_get_stats(sim);

	CHECK_EQ_INT(s->tasks, 1);
	CHECK_EQ_INT(s->reg_writes, 104);
	CHECK_EQ_INT(s->qwords_fetched, 108);
	CHECK_EQ_INT(s->macs, 1 * 64 * 64);
	CHECK_EQ_INT(s->macs_int8, 4096);
	CHECK_EQ_INT(s->bytes_read, 64 + 4096 + 108 * 8);
	CHECK_EQ_INT(s->bytes_written, 64 * 4);
	/* defaults: 1024 int8 MACs/cycle, 16 B/cycle, 1000 cycles per task */
	CHECK_EQ_INT((long long)s->cycles_mac, 4);
	CHECK_EQ_INT((long long)s->cycles_dma, (64 + 4096 + 256) / 16);
	CHECK_EQ_INT((long long)s->cycles, 1000 + 276);
	const struct npu_sim_task_info *ti = npu_sim_last_task(sim);

	CHECK_EQ_INT(ti->M, 1);
	CHECK_EQ_INT(ti->K, 64);
	CHECK_EQ_INT(ti->N, 64);
	CHECK_EQ_INT(ti->recipe, NPU_SIM_RECIPE_NC1HWC2);
	npu_sim_free(sim);
	npu_case_free(&c);
}

/* ---- table, fp16, map --------------------------------------------------------------- */

static void register_table(void)
{
	CHECK_EQ_INT(npu_sim_reg_count(), 104);
	for (size_t i = 0; i < npu_sim_reg_count(); i++) {
		const struct npu_sim_reg_info *r = npu_sim_reg_get(i);

		CHECK(r->name && r->name[0] && r->model && r->model[0]);
		CHECK_EQ_INT(npu_sim_reg_find(r->offset), (long long)i);
	}
	CHECK_EQ_INT(npu_sim_reg_find(0x10f0), -1);
	CHECK(npu_sim_reg_get(104) == NULL);
}

static void fp16_conversions(void)
{
	CHECK_EQ_INT(npu_sim_f32_to_f16(1.0f), 0x3c00);
	CHECK_EQ_INT(npu_sim_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);	/* tie to even */
	CHECK_EQ_INT(npu_sim_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);	/* tie to even, up */
	CHECK_EQ_INT(npu_sim_f32_to_f16(65504.0f), 0x7bff);
	CHECK_EQ_INT(npu_sim_f32_to_f16(65520.0f), 0x7c00);	/* rounds to Inf */
	CHECK_EQ_INT(npu_sim_f32_to_f16(-0.0f), 0x8000);
	CHECK_EQ_INT(npu_sim_f32_to_f16(5.9604645e-8f), 0x0001);	/* smallest subnormal */
	CHECK_EQ_INT(npu_sim_f32_to_f16(2.9802322e-8f), 0x0000);	/* half of it: tie to even 0 */
	CHECK(npu_sim_f16_to_double(0x0001) == 5.9604644775390625e-8);
	CHECK(npu_sim_f16_to_double(0xc000) == -2.0);
	for (uint32_t h = 0; h < 0x10000; h++) {
		double d = npu_sim_f16_to_double((uint16_t)h);

		if (d == d && npu_sim_f32_to_f16((float)d) != h) {
			tap_fail(__FILE__, __LINE__, "round trip of 0x%04x", h);
			break;
		}
	}
}

static void map_checks(void)
{
	struct npu_sim *sim = npu_sim_new();
	struct npu_sim_error e;
	static uint8_t a[4096], b[4096];

	CHECK_EQ_INT(npu_sim_map(sim, 0x1000, sizeof(a), a, "a", &e), 0);
	CHECK_EQ_INT(npu_sim_map(sim, 0x1800, sizeof(b), b, "b", &e), NPU_SIM_E_ARG);
	CHECK(strstr(e.msg, "overlaps 'a'") != NULL);
	CHECK_EQ_INT(npu_sim_map(sim, 0xfffff800, sizeof(b), b, "b", &e), NPU_SIM_E_ARG);
	CHECK_EQ_INT(npu_sim_map(sim, 0x3000, 0, b, "b", &e), NPU_SIM_E_ARG);
	CHECK_EQ_INT(npu_sim_find_free(sim, 0x1000, 100), 0x2000);
	CHECK_EQ_INT(npu_sim_run_task(sim, 0x1000, 3, &e), NPU_SIM_E_ARG);
	CHECK_EQ_INT(npu_sim_run_chain(sim, 0x1008, 104, 0, &e), NPU_SIM_E_ARG);
	npu_sim_free(sim);
}

/* ---- robustness --------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fuzz_random_streams(void)
{
	struct npu_case c;
	struct npu_sim_error e;
	static uint64_t q[256];
	static uint8_t img[256 * 8];
	int counts[16] = { 0 };

	if (load("formula_int8_4x64x64", &c))
		return;
	struct npu_sim *sim = npu_sim_new();

	CHECK(npu_case_setup(sim, &c, &e) == 0);
	CHECK(npu_sim_map(sim, 0x40000000, sizeof(img), img, "fuzz", &e) == 0);
	/* NPU_SIM_FUZZ_ITERS / NPU_SIM_FUZZ_SEED allow longer runs by hand */
	const char *ev = getenv("NPU_SIM_FUZZ_ITERS"), *sv = getenv("NPU_SIM_FUZZ_SEED");
	long iters = ev ? strtol(ev, NULL, 0) : 4000;

	if (sv)
		rng_state = strtoull(sv, NULL, 0) * 2 + 1;
	for (long it = 0; it < iters; it++) {
		size_t n;
		int kind = (int)(rnd() % 4);

		if (kind == 0) {	/* fully random qwords, sometimes with plausible targets */
			static const uint16_t tg[] = { 0x0201, 0x0801, 0x1001, 0x0101, 0x0041, 0x0081, 0x4001 };

			n = 8 + rnd() % 240;
			for (size_t i = 0; i < n; i++) {
				q[i] = rnd();
				if (rnd() & 1)
					q[i] = (q[i] & 0x0000ffffffff0000ull) | ((uint64_t)tg[rnd() % 7] << 48) |
					       (0x1000 + (rnd() % 0x3200 & ~3ull));
			}
		} else {	/* golden stream with a few random mutations */
			n = c.nq;
			memcpy(q, c.qwords, n * 8);
			for (int m = 0, nm = 1 + (int)(rnd() % 4); m < nm; m++) {
				size_t i = rnd() % n;

				switch (rnd() % 4) {
				case 0: q[i] ^= 1ull << (rnd() % 64); break;
				case 1: q[i] = (q[i] & 0xffff00000000ffffull) | ((rnd() & 0xffffffffull) << 16); break;
				case 2: q[i] = q[rnd() % n]; break;
				default: q[i] = (q[i] & 0xffff00000000ffffull) | ((uint64_t)(0x40000000u + (uint32_t)(rnd() % 2048)) << 16); break;
				}
			}
		}
		for (size_t i = 0; i < n; i++)
			for (int b = 0; b < 8; b++)
				img[i * 8 + (size_t)b] = (uint8_t)(q[i] >> (8 * b));
		if (rnd() % 3)
			npu_sim_reset(sim);
		int rc;

		/* mutated golden streams mostly get the right count, to reach validation and execution */
		int exact = kind != 0 && rnd() % 4;

		if (rnd() & 1)
			rc = npu_sim_run_chain(sim, 0x40000000, exact ? (uint32_t)n - 4 : (uint32_t)(rnd() % (n + 3)),
					       8, &e);
		else
			rc = npu_sim_run_task(sim, 0x40000000, exact ? (uint32_t)n : (uint32_t)(rnd() % (n + 3)), &e);
		if (rc < 0 || rc > NPU_SIM_E_CHAIN) {
			tap_fail(__FILE__, __LINE__, "iteration %ld: bad return code %d", it, rc);
			break;
		}
		if (rc && !e.msg[0]) {
			tap_fail(__FILE__, __LINE__, "iteration %ld: error without message", it);
			break;
		}
		counts[rc]++;
	}
	printf("# fuzz outcomes:");
	for (int i = 0; i <= NPU_SIM_E_CHAIN; i++)
		printf(" %s=%d", npu_sim_code_name(i), counts[i]);
	printf("\n");
	npu_sim_free(sim);
	npu_case_free(&c);
}

static void fuzz_json(void)
{
	static const char base[] = "{\"a\": [1, 2.5e3, -3, \"x\\u0041\\n\"], \"b\": {\"c\": null, \"d\": true}}";
	char buf[sizeof(base)], err[128];
	struct json *j = json_parse(base, strlen(base), err, sizeof(err));

	CHECKF(j != NULL, "%s", err);
	CHECK(json_path(j, "b.d") && json_path(j, "b.d")->boolean == 1);
	CHECK_EQ_INT(json_array_len(json_get(j, "a")), 4);
	CHECK_STR(json_array_at(json_get(j, "a"), 3)->str, "xA\n");
	json_free(j);
	CHECK(json_parse("{\"a\":", 5, err, sizeof(err)) == NULL && strstr(err, "JSON 1:"));
	for (int it = 0; it < 3000; it++) {
		size_t n = 1 + rnd() % (sizeof(base) - 1);

		memcpy(buf, base, sizeof(base));
		for (int m = 0; m < 3; m++)
			buf[rnd() % n] = (char)(rnd() & 0xff);
		j = json_parse(buf, n, err, sizeof(err));
		json_free(j);
	}
}

int main(void)
{
	const char *g = getenv("GOLDEN_DIR");

	snprintf(golden_dir, sizeof(golden_dir), "%s", g && g[0] ? g : "tests/golden");
	RUN(golden_all_exact);
	RUN(strict_unknown_register);
	RUN(strict_wrong_target);
	RUN(strict_unknown_target_and_block);
	RUN(strict_bs_not_bypassed);
	RUN(strict_conv_mode_stride_precision);
	RUN(strict_cbuf_banks);
	RUN(strict_inconsistent_sizes);
	RUN(strict_m_not_in_surf_formula);
	RUN(strict_layout_recipe);
	RUN(strict_address_out_of_buffer);
	RUN(strict_never_written);
	RUN(strict_bad_trailer);
	RUN(strict_truncated_chain);
	RUN(persistence_pc_chain_delta_task);
	RUN(persistence_cbuf_by_reference);
	RUN(persistence_mainline_per_task);
	RUN(persistence_mainline_refuses_chain_words);
	RUN(persistence_weight_reuse_other_address);
	RUN(counters_known_shape);
	RUN(register_table);
	RUN(fp16_conversions);
	RUN(map_checks);
	RUN(fuzz_random_streams);
	RUN(fuzz_json);
	return tap_done();
}
