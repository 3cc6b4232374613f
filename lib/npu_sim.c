// SPDX-License-Identifier: MIT
/*
 * RK3588 NPU functional model: PC (task fetch, trailer, chaining), per-block
 * register state, DMA address space, and the direct 1x1 convolution (matmul)
 * executed on op-enable. Semantics and their status: docs/npu-model.md.
 */
#include "npu_sim.h"
#include "npu_sim_int.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUFS 64
#define CBUF_BANKS 12u
#define CBUF_BANK_BYTES 32768u
#define DEFAULT_MAX_TASKS 65536u

#define T_PC 0x0101
#define T_MARK 0x0041
#define T_OPEN 0x0081
#define PC_BASE_ADDRESS 0x0010
#define PC_REGISTER_AMOUNTS 0x0014
#define PC_OPERATION_ENABLE 0x0008
#define QW_MARKER 0x0041000000000000ull
#define OP_ENABLE_VALUE 0xdu

/* Where a value came from: one qword of a regcmd stream. */
struct qref {
	int task;
	long qword;		/* index in its buffer */
	long task_qword;	/* index in its task */
	uint64_t addr;
	uint64_t raw;
};

struct regstate {
	uint32_t value;
	int written;
	struct qref ref;
};

struct buf {
	uint64_t iova, size;
	uint8_t *host;
	char name[32];
	uint64_t rd, wr;
};

struct npu_sim {
	struct buf bufs[MAX_BUFS];
	size_t nbufs;
	struct regstate regs[NPU_SIM_NREGS];
	/* CBUF weight banks as left by the last task (for WEIGHT_REUSE) */
	uint8_t *cbuf_w;
	size_t cbuf_w_cap;
	const uint8_t *cbuf_src;	/* by reference: the weights still in DRAM, not copied yet */
	int cbuf_by_ref;
	int cbuf_valid;
	uint32_t cbuf_addr, cbuf_bytes, cbuf_K, cbuf_N, cbuf_prec, cbuf_wbanks;
	FILE *trace;
	struct npu_sim_perf perf;
	struct npu_sim_stats st;
	struct npu_sim_task_info last;
	int cur_task;
};

/* ---- names ---------------------------------------------------------------- */

const char *npu_sim_code_name(int code)
{
	static const char *const names[] = {
		"ok", "bad argument", "out of memory", "DMA", "decode", "wrong target",
		"unknown register", "field not modelled", "inconsistent registers",
		"register never written", "trailer", "chain",
	};
	if (code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]))
		return names[code];
	return "?";
}

/* ---- errors ---------------------------------------------------------------- */

static struct npu_sim_error scratch_err;

static int seterr(struct npu_sim_error *e, int code, int task, const struct qref *q,
		  const char *reg, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static int seterr(struct npu_sim_error *e, int code, int task, const struct qref *q,
		  const char *reg, const char *field, const char *fmt, ...)
{
	char detail[640];
	va_list ap;
	size_t n;

	if (!e)
		e = &scratch_err;
	memset(e, 0, sizeof(*e));
	e->code = code;
	e->task = q ? q->task : task;
	e->qword = q ? q->qword : -1;
	e->task_qword = q ? q->task_qword : -1;
	e->qword_addr = q ? q->addr : 0;
	e->raw = q ? q->raw : 0;
	snprintf(e->reg, sizeof(e->reg), "%s", reg ? reg : "");
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	n = (size_t)snprintf(e->msg, sizeof(e->msg), "npu-sim %s error", npu_sim_code_name(code));
	if (e->task >= 0 && n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n, ": task %d", e->task);
	if (q && n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n,
				      ", qword %ld (qword %ld of the task, at 0x%08" PRIx64 ") = 0x%016" PRIx64,
				      q->qword, q->task_qword, q->addr, q->raw);
	if (e->reg[0] && n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n, ", %s%s%s", e->reg,
				      e->field[0] ? "." : "", e->field);
	else if (e->field[0] && n < sizeof(e->msg))
		n += (size_t)snprintf(e->msg + n, sizeof(e->msg) - n, ", %s", e->field);
	if (n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", detail);
	return code;
}

/* ---- lifetime --------------------------------------------------------------- */

void npu_sim_perf_default(struct npu_sim_perf *p)
{
	p->clock_hz = 1.0e9;
	p->macs_per_cycle_int8 = 1024;
	p->macs_per_cycle_fp16 = 512;
	p->dram_bytes_per_cycle = 16;
	p->task_overhead_cycles = 1000;
}

struct npu_sim *npu_sim_new(void)
{
	struct npu_sim *sim = calloc(1, sizeof(*sim));

	if (!sim)
		return NULL;
	npu_sim_perf_default(&sim->perf);
	return sim;
}

void npu_sim_free(struct npu_sim *sim)
{
	if (!sim)
		return;
	free(sim->cbuf_w);
	free(sim);
}

void npu_sim_reset(struct npu_sim *sim)
{
	memset(sim->regs, 0, sizeof(sim->regs));
	sim->cbuf_valid = 0;
	sim->cbuf_src = NULL;
	memset(&sim->last, 0, sizeof(sim->last));
}

void npu_sim_reset_stats(struct npu_sim *sim)
{
	memset(&sim->st, 0, sizeof(sim->st));
	for (size_t i = 0; i < sim->nbufs; i++)
		sim->bufs[i].rd = sim->bufs[i].wr = 0;
}

void npu_sim_set_cbuf_by_reference(struct npu_sim *sim, int on)
{
	sim->cbuf_by_ref = on;
}

/* The CBUF's weights as a copy of their own, as the banks hold them. */
static int cbuf_copy(struct npu_sim *sim, const uint8_t *w, uint64_t bytes)
{
	if (sim->cbuf_w_cap < bytes) {
		uint8_t *nb = realloc(sim->cbuf_w, bytes);

		if (!nb)
			return -1;
		sim->cbuf_w = nb;
		sim->cbuf_w_cap = bytes;
	}
	memmove(sim->cbuf_w, w, bytes);
	sim->cbuf_src = NULL;
	return 0;
}

void npu_sim_set_trace(struct npu_sim *sim, FILE *f)
{
	sim->trace = f;
}

void npu_sim_set_perf(struct npu_sim *sim, const struct npu_sim_perf *perf)
{
	sim->perf = *perf;
}

const struct npu_sim_stats *npu_sim_get_stats(const struct npu_sim *sim)
{
	return &sim->st;
}

const struct npu_sim_task_info *npu_sim_last_task(const struct npu_sim *sim)
{
	return &sim->last;
}

size_t npu_sim_buf_count(const struct npu_sim *sim)
{
	return sim->nbufs;
}

int npu_sim_buf_get(const struct npu_sim *sim, size_t i, struct npu_sim_buf_info *out)
{
	if (i >= sim->nbufs)
		return NPU_SIM_E_ARG;
	snprintf(out->name, sizeof(out->name), "%s", sim->bufs[i].name);
	out->iova = sim->bufs[i].iova;
	out->size = sim->bufs[i].size;
	out->bytes_read = sim->bufs[i].rd;
	out->bytes_written = sim->bufs[i].wr;
	return 0;
}

/* ---- DMA address space ------------------------------------------------------ */

int npu_sim_map(struct npu_sim *sim, uint64_t iova, uint64_t size, void *host,
		const char *name, struct npu_sim_error *err)
{
	if (!sim || !host || !size)
		return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL,
			      "map '%s': NULL simulator/host pointer or zero size", name ? name : "");
	if (iova >= (1ull << 32) || size > (1ull << 32) - iova)
		return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL,
			      "map '%s' [0x%" PRIx64 ", +0x%" PRIx64 "): outside the 32-bit IOVA space",
			      name ? name : "", iova, size);
	if (sim->nbufs >= MAX_BUFS)
		return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL, "more than %d buffers mapped", MAX_BUFS);
	for (size_t i = 0; i < sim->nbufs; i++) {
		const struct buf *b = &sim->bufs[i];

		if (iova < b->iova + b->size && b->iova < iova + size)
			return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL,
				      "map '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps '%s' [0x%" PRIx64
				      ", 0x%" PRIx64 ")", name ? name : "", iova, iova + size, b->name,
				      b->iova, b->iova + b->size);
	}
	struct buf *b = &sim->bufs[sim->nbufs++];

	memset(b, 0, sizeof(*b));
	b->iova = iova;
	b->size = size;
	b->host = host;
	name = name ? name : "?";	/* a bounded copy: snprintf() showed in the emulator's profile */
	size_t nlen = strnlen(name, sizeof(b->name) - 1);

	memcpy(b->name, name, nlen);
	b->name[nlen] = '\0';
	return 0;
}

uint64_t npu_sim_find_free(const struct npu_sim *sim, uint64_t hint, uint64_t size)
{
	uint64_t a = (hint + 4095) & ~4095ull;

	if (!size)
		return 0;
	for (int guard = 0; guard <= MAX_BUFS + 1; guard++) {
		int moved = 0;

		if (a + size > (1ull << 32))
			return 0;
		for (size_t i = 0; i < sim->nbufs; i++) {
			const struct buf *b = &sim->bufs[i];

			if (a < b->iova + b->size && b->iova < a + size) {
				a = (b->iova + b->size + 4095) & ~4095ull;
				moved = 1;
			}
		}
		if (!moved)
			return a;
	}
	return 0;
}

/*
 * Bounds-checked access to [addr, addr+len). On success *host points at the
 * bytes and the buffer's counters are charged. On failure the error names the
 * address, the nearest buffer, and the qword/register that produced the address.
 */
static int dma_access(struct npu_sim *sim, uint64_t addr, uint64_t len, int write,
		      const char *what, const struct qref *src, const char *reg, const char *field,
		      uint8_t **host, size_t *bufidx, struct npu_sim_error *err)
{
	const struct buf *near = NULL;
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < sim->nbufs; i++) {
		struct buf *b = &sim->bufs[i];

		if (addr >= b->iova && addr - b->iova < b->size) {
			if (len <= b->size - (addr - b->iova)) {
				*host = b->host + (addr - b->iova);
				if (bufidx)
					*bufidx = i;
				if (write) {
					b->wr += len;
					sim->st.bytes_written += len;
				} else {
					b->rd += len;
					sim->st.bytes_read += len;
				}
				return 0;
			}
			near = b;
			best = 0;
			break;
		}
		uint64_t d = addr < b->iova ? b->iova - addr : addr - (b->iova + b->size);

		if (d < best) {
			best = d;
			near = b;
		}
	}
	char nearbuf[200] = "no buffer is mapped";

	if (near && best == 0)
		snprintf(nearbuf, sizeof(nearbuf),
			 "starts inside '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") but ends 0x%" PRIx64
			 " bytes past its end", near->name, near->iova, near->iova + near->size,
			 addr + len - (near->iova + near->size));
	else if (near)
		snprintf(nearbuf, sizeof(nearbuf), "nearest buffer '%s' [0x%" PRIx64 ", 0x%" PRIx64 ")",
			 near->name, near->iova, near->iova + near->size);
	return seterr(err, NPU_SIM_E_DMA, sim->cur_task, src, reg, field,
		      "%s %s [0x%" PRIx64 ", 0x%" PRIx64 ") (0x%" PRIx64 " bytes) is outside every mapped buffer: %s",
		      what, write ? "write" : "read", addr, addr + len, len, nearbuf);
}

/* ---- fp16 ----------------------------------------------------------------- */

double npu_sim_f16_to_double(uint16_t h)
{
	int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0)
		v = ldexp((double)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp((double)(m | 0x400), e - 25);
	return s ? -v : v;
}

uint16_t npu_sim_f32_to_f16(float f)
{
	uint32_t x;

	memcpy(&x, &f, 4);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t e = (x >> 23) & 0xff, m = x & 0x7fffff;

	if (e == 0xff)
		return sign | 0x7c00 | (m ? (uint16_t)(0x200 | (m >> 13)) : 0);
	int ee = (int)e - 127 + 15;

	if (ee >= 31)
		return sign | 0x7c00;
	if (ee <= 0) {
		if (ee < -10)
			return sign;
		uint32_t mm = m | 0x800000;
		int shift = 14 - ee;
		uint32_t hm = mm >> shift, rem = mm & ((1u << shift) - 1), half = 1u << (shift - 1);

		if (rem > half || (rem == half && (hm & 1)))
			hm++;
		return sign | (uint16_t)hm;
	}
	uint32_t hm = m >> 13, rem = m & 0x1fff;
	uint32_t v = ((uint32_t)ee << 10) | hm;

	if (rem > 0x1000 || (rem == 0x1000 && (hm & 1)))
		v++;	/* may carry into the exponent, up to Inf: correct */
	return sign | (uint16_t)v;
}

/* ---- register write decode ---------------------------------------------------- */

static int decode_body_qword(struct npu_sim *sim, uint64_t q, const struct qref *r,
			     struct npu_sim_error *err)
{
	uint16_t target = (uint16_t)(q >> 48), off = (uint16_t)q;
	uint32_t value = (uint32_t)(q >> 16);
	int plain = npu_sim_reg_find_plain(target, off);

	if (plain >= 0) {	/* the common case: no check below can fail */
		sim->regs[plain].value = value;
		sim->regs[plain].written = 1;
		sim->regs[plain].ref = *r;
		sim->st.reg_writes++;
		return 0;
	}
	const char *tname = npu_sim_target_name(target);
	const struct npu_sim_block *blk = npu_sim_block_of_offset(off);
	int idx = npu_sim_reg_find(off);
	const char *rname = idx >= 0 ? npu_sim_reg_get((size_t)idx)->name : "";

	if (q == 0)
		return seterr(err, NPU_SIM_E_DECODE, -1, r, NULL, NULL,
			      "zero (no-op) qword inside the register-write body; no-ops are only "
			      "modelled in trailer slot 1 and as fetch padding after the op-enable");
	if (target == T_PC || target == T_MARK || target == T_OPEN)
		return seterr(err, NPU_SIM_E_TRAILER, -1, r,
			      target == T_PC ? (off == PC_BASE_ADDRESS ? "PC_BASE_ADDRESS" :
						off == PC_REGISTER_AMOUNTS ? "PC_REGISTER_AMOUNTS" : "PC")
					     : target == T_OPEN ? "PC_OPERATION_ENABLE" : "PC_MARKER",
			      "target",
			      "PC word (target 0x%04x) inside the register-write body; PC words are only "
			      "modelled as the 4-qword task trailer", target);
	if (!tname)
		return seterr(err, NPU_SIM_E_DECODE, -1, r, rname, "target",
			      "unknown target 0x%04x (modelled: 0x0201 CNA, 0x0801 CORE, 0x1001 DPU)",
			      target);
	if (!blk)
		return seterr(err, NPU_SIM_E_REG, -1, r, NULL, "offset",
			      "offset 0x%04x belongs to no known block (target 0x%04x %s)", off, target,
			      tname);
	if (blk->target != target)
		return seterr(err, NPU_SIM_E_TARGET, -1, r, rname[0] ? rname : blk->name, "target",
			      "target 0x%04x (%s) but offset 0x%04x belongs to %s (target 0x%04x)",
			      target, tname, off, blk->name, blk->target);
	if (!blk->modelled)
		return seterr(err, NPU_SIM_E_DECODE, -1, r, blk->name, "target",
			      "block %s is not modelled (matmul streams never write it); offset 0x%04x",
			      blk->name, off);
	if (idx < 0)
		return seterr(err, NPU_SIM_E_REG, -1, r, blk->name, "offset",
			      "register 0x%04x of %s is not in the modelled register table", off,
			      blk->name);
	sim->regs[idx].value = value;
	sim->regs[idx].written = 1;
	sim->regs[idx].ref = *r;
	sim->st.reg_writes++;
	return 0;
}

/* ---- op-enable: validation ----------------------------------------------------- */

struct plan {
	int recipe, in_prec, out_prec;
	uint32_t M, K, N, esz, osz, c2in, c2out, nb;
	uint32_t in_addr, w_addr, out_addr;
	uint64_t in_bytes, w_bytes, out_bytes;
	uint64_t out_surf, out_line;	/* bytes between channel groups / rows */
	uint32_t db, wb, grains;
	int weight_reuse;
};

static uint32_t R(const struct npu_sim *sim, uint16_t off)
{
	return sim->regs[npu_sim_reg_find(off)].value;
}

static int ferr(struct npu_sim *sim, struct npu_sim_error *err, int code, uint16_t off,
		const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int ferr(struct npu_sim *sim, struct npu_sim_error *err, int code, uint16_t off,
		const char *field, const char *fmt, ...)
{
	int idx = npu_sim_reg_find(off);
	char detail[560];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return seterr(err, code, sim->cur_task, &sim->regs[idx].ref, npu_sim_reg_get((size_t)idx)->name,
		      field, "value 0x%08x: %s", sim->regs[idx].value, detail);
}

/* Registers whose whole value is fixed by the facts; bit names for the report. */
struct fixed_reg {
	uint16_t off;
	uint32_t value;
	const char *bits[32];	/* field name per bit (NULL = generic) */
};

#define BSBITS { [0] = "BS_BYPASS", [1] = "BS_ALU_BYPASS", [4] = "BS_MUL_BYPASS", \
		 [6] = "BS_RELU_BYPASS", [2] = "BS_ALU_ALGO", [3] = "BS_ALU_ALGO", [5] = "BS_RELUX_EN" }
#define BNBITS { [0] = "BN_BYPASS", [1] = "BN_ALU_BYPASS", [4] = "BN_MUL_BYPASS", \
		 [6] = "BN_RELU_BYPASS", [2] = "BN_ALU_ALGO", [3] = "BN_ALU_ALGO", [5] = "BN_RELUX_EN" }

static const struct fixed_reg fixed_regs[] = {
	{ 0x1028, 1, { [0] = "DATAOUT_WIDTH" } },
	{ 0x104C, 0xb, { [0] = "CVT_BYPASS", [1] = "CVT_TYPE", [3] = "DATA_SIGN" } },
	{ 0x1050, 0x10000, { [16] = "CVT_SCALE0" } },
	{ 0x1054, 0x10000, { [16] = "CVT_SCALE1" } },
	{ 0x1058, 0x10000, { [16] = "CVT_SCALE2" } },
	{ 0x105C, 0x10000, { [16] = "CVT_SCALE3" } },
	{ 0x1060, 0, { NULL } }, { 0x1064, 0, { NULL } },
	{ 0x1068, 0, { [0] = "PAD_TOP", [4] = "PAD_LEFT" } },
	{ 0x1074, 0, { NULL } },
	{ 0x1078, 0xf000f, { [0] = "DATA_BURST_LEN", [1] = "DATA_BURST_LEN", [2] = "DATA_BURST_LEN",
			     [3] = "DATA_BURST_LEN", [16] = "WEIGHT_BURST_LEN", [17] = "WEIGHT_BURST_LEN",
			     [18] = "WEIGHT_BURST_LEN", [19] = "WEIGHT_BURST_LEN" } },
	{ 0x1100, 0, { NULL } }, { 0x1104, 0, { NULL } },
	{ 0x1140, 0, { NULL } }, { 0x1144, 0, { NULL } }, { 0x1148, 0, { NULL } }, { 0x114C, 0, { NULL } },
	{ 0x1150, 0, { NULL } }, { 0x1154, 0, { NULL } }, { 0x1158, 0, { NULL } }, { 0x115C, 0, { NULL } },
	{ 0x1160, 0, { NULL } }, { 0x1164, 0, { NULL } }, { 0x1168, 0, { NULL } }, { 0x116C, 0, { NULL } },
	{ 0x1170, 0, { NULL } }, { 0x1174, 0, { NULL } }, { 0x1178, 0, { NULL } }, { 0x117C, 0, { NULL } },
	{ 0x1180, 0, { NULL } }, { 0x1184, 0, { NULL } },
	{ 0x301C, 0, { NULL } }, { 0x3030, 0, { NULL } },
	{ 0x4004, 0xe, { [1] = "POINTER_PP_EN", [2] = "EXECUTER_PP_EN", [3] = "POINTER_PP_MODE" } },
	{ 0x400C, 0x1e4, { [0] = "FLYING_MODE", [1] = "OUTPUT_MODE", [2] = "OUTPUT_MODE",
			   [3] = "CONV_MODE", [4] = "CONV_MODE", [5] = "BURST_LEN", [6] = "BURST_LEN",
			   [7] = "BURST_LEN", [8] = "BURST_LEN" } },
	{ 0x4014, 0, { NULL } },
	{ 0x4030, 0, { [0] = "WIDTH" } },
	{ 0x4040, 0x53, BSBITS },
	{ 0x4044, 0, { NULL } }, { 0x4048, 0, { NULL } }, { 0x404C, 0, { NULL } },
	{ 0x4054, 0, { NULL } },
	{ 0x4060, 0x53, BNBITS },
	{ 0x4064, 0, { NULL } }, { 0x4068, 0, { NULL } }, { 0x406C, 0, { NULL } },
	{ 0x4070, 0x383, { [0] = "EW_BYPASS", [1] = "EW_OP_BYPASS", [7] = "EW_LUT_BYPASS",
			   [8] = "EW_OP_CVT_BYPASS", [9] = "EW_RELU_BYPASS" } },
	{ 0x4074, 0, { NULL } }, { 0x4078, 1, { [0] = "EW_CVT_SCALE" } }, { 0x407C, 0, { NULL } },
	{ 0x4080, 0, { NULL } }, { 0x4088, 0, { NULL } },
	{ 0x4090, 0, { NULL } }, { 0x4094, 0, { NULL } }, { 0x4098, 0, { NULL } }, { 0x409C, 0, { NULL } },
	{ 0x40A0, 0, { NULL } }, { 0x40A4, 0, { NULL } }, { 0x40A8, 0, { NULL } }, { 0x40AC, 0, { NULL } },
	{ 0x40C4, 0, { NULL } },
	{ 0x4100, 0, { NULL } }, { 0x4104, 0, { NULL } }, { 0x4108, 0, { NULL } }, { 0x410C, 0, { NULL } },
	{ 0x4110, 0, { NULL } }, { 0x4114, 0, { NULL } }, { 0x4118, 0, { NULL } }, { 0x411C, 0, { NULL } },
	{ 0x4120, 0, { NULL } }, { 0x4124, 0, { NULL } }, { 0x4128, 0, { NULL } }, { 0x412C, 0, { NULL } },
};

static const char *prec_name(int p)
{
	switch (p) {
	case 0: return "int8";
	case 2: return "fp16";
	case 4: return "int32";
	case 5: return "fp32";
	default: return "unmodelled";
	}
}

static int validate(struct npu_sim *sim, struct plan *p, struct npu_sim_error *err)
{
	uint32_t v;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < NPU_SIM_NREGS; i++)
		if (!sim->regs[i].written)
			return seterr(err, NPU_SIM_E_UNSET, sim->cur_task, NULL, npu_sim_reg_get(i)->name, NULL,
				      "op-enable with %s never written since reset (reset values are not modelled)",
				      npu_sim_reg_get(i)->name);

	/* fixed-value registers */
	for (size_t i = 0; i < sizeof(fixed_regs) / sizeof(fixed_regs[0]); i++) {
		const struct fixed_reg *f = &fixed_regs[i];

		v = R(sim, f->off);
		if (v != f->value) {
			uint32_t diff = v ^ f->value;
			int bit = __builtin_ctz(diff);
			const char *field = f->bits[bit] ? f->bits[bit] : "value";

			return ferr(sim, err, NPU_SIM_E_FIELD, f->off, field,
				    "only 0x%x is modelled (first differing bit %d: %s)", f->value, bit,
				    diff & f->value ? "a bypass/enable bit the model needs is clear"
						    : "a bit the model does not implement is set");
		}
	}

	/* precisions */
	v = R(sim, 0x100C);
	if (v & 0xf)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "CONV_MODE",
			    "conv mode %u; only 0 (direct convolution) is modelled", v & 0xf);
	p->in_prec = (v >> 4) & 7;
	if (p->in_prec != NPU_PREC_INT8 && p->in_prec != NPU_PREC_FP16)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "IN_PRECISION",
			    "input precision %d (%s); only int8 (0) and fp16 (2) are modelled", p->in_prec,
			    prec_name(p->in_prec));
	if ((int)((v >> 7) & 7) != p->in_prec)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "PROC_PRECISION",
			    "proc precision %u != input precision %d; not modelled", (v >> 7) & 7, p->in_prec);
	if (v & ~(0x3ffu | (1u << 29)))
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "reserved",
			    "bits 0x%08x set; only CONV_MODE, IN/PROC_PRECISION and GROUP_LINE_OFF are modelled",
			    v & ~(0x3ffu | (1u << 29)));
	p->esz = p->in_prec == NPU_PREC_INT8 ? 1 : 2;
	p->c2in = 16 / p->esz;
	p->nb = p->in_prec == NPU_PREC_INT8 ? 32 : 16;

	v = R(sim, 0x4010);
	if (v & 0x03fffff8u)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4010, "reserved", "bits 0x%08x set; not modelled",
			    v & 0x03fffff8u);
	if ((int)((v >> 26) & 7) != p->in_prec)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x4010, "IN_PRECISION",
			    "DPU input precision %u != CNA input precision %d", (v >> 26) & 7, p->in_prec);
	if ((int)(v & 7) != p->in_prec)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x4010, "PROC_PRECISION",
			    "DPU proc precision %u != CNA input precision %d", v & 7, p->in_prec);
	p->out_prec = (int)(v >> 29);
	if (!((p->in_prec == NPU_PREC_INT8 && p->out_prec == NPU_PREC_INT32) ||
	      (p->in_prec == NPU_PREC_FP16 && (p->out_prec == NPU_PREC_FP32 || p->out_prec == NPU_PREC_FP16))))
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4010, "OUT_PRECISION",
			    "precision combination %s -> %s not modelled (int8->int32, fp16->fp32, fp16->fp16 are)",
			    prec_name(p->in_prec), prec_name(p->out_prec));
	p->osz = p->out_prec == NPU_PREC_FP16 ? 2 : 4;
	p->c2out = 16 / p->osz;

	v = R(sim, 0x3010);
	if (v & ~0x701u)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x3010, "reserved", "bits 0x%x set; not modelled", v & ~0x701u);
	if ((int)((v >> 8) & 7) != p->in_prec)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x3010, "PROC_PRECISION",
			    "CORE proc precision %u != CNA input precision %d", (v >> 8) & 7, p->in_prec);
	if (p->in_prec == NPU_PREC_FP16 && !(v & 1))
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x3010, "QD_EN",
			    "fp16 with QD_EN=0 was never seen; only 0x201 is modelled for fp16");

	v = R(sim, 0x4050);
	if (!((p->out_prec == NPU_PREC_INT32 && (v == 0x7fe || v == 0x7fc)) ||
	      (p->out_prec == NPU_PREC_FP32 && v == 0x36e) || (p->out_prec == NPU_PREC_FP16 && v == 0x126)))
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4050, "SIZE_E",
			    "not a modelled value for %s -> %s (int32: 0x7fe/0x7fc, fp32: 0x36e, fp16: 0x126)",
			    prec_name(p->in_prec), prec_name(p->out_prec));

	v = R(sim, 0x4084);
	if ((v & 0xffff) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4084, "OUT_CVT_SCALE",
			    "output scale %u; only 1 is modelled", v & 0xffff);
	if (((v >> 16) & 1) != (p->out_prec == NPU_PREC_FP16))
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x4084, "FP32TOFP16_EN",
			    "fp32->fp16 conversion %s but DPU output precision is %s",
			    (v >> 16) & 1 ? "enabled" : "disabled", prec_name(p->out_prec));
	if (v & ~0x1ffffu)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4084, "reserved", "bits 0x%x set; not modelled", v & ~0x1ffffu);

	/* stride, sizes */
	v = R(sim, 0x1014);
	if ((v & 7) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1014, "CONV_X_STRIDE", "stride %u; only 1 is modelled", v & 7);
	if (((v >> 3) & 7) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1014, "CONV_Y_STRIDE", "stride %u; only 1 is modelled",
			    (v >> 3) & 7);
	if (v & ~0x3fu)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1014, "reserved", "bits 0x%x set; not modelled", v & ~0x3fu);

	v = R(sim, 0x1020);
	if (((v >> 16) & 0x7ff) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1020, "DATAIN_WIDTH", "width %u; only W=1 (matmul) is modelled",
			    (v >> 16) & 0x7ff);
	p->M = v & 0x7ff;
	if (!p->M)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1020, "DATAIN_HEIGHT", "height 0");
	if (v & ~0x07ff07ffu)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1020, "reserved", "bits 0x%x set", v & ~0x07ff07ffu);

	v = R(sim, 0x1024);
	p->K = v & 0xffff;
	if (!p->K || p->K % 32)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1024, "DATAIN_CHANNEL",
			    "K=%u; only K%%32==0, K>0 is modelled", p->K);
	if (((v >> 16) & 0x3fff) != p->K - 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1024, "DATAIN_CHANNEL_REAL",
			    "channel_real %u; only K-1 = %u is modelled", (v >> 16) & 0x3fff, p->K - 1);
	if (v >> 30)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1024, "reserved", "bits 31:30 set");

	if (R(sim, 0x102C) != p->M)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x102C, "DATAOUT_ATOMICS",
			    "%u != W*H = %u (CNA_DATA_SIZE0)", R(sim, 0x102C), p->M);
	v = R(sim, 0x1084);
	if (((v >> 16) & 0x7ff) != 1 || v & ~0x07ff07ffu)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1084, "DMA_WIDTH", "only DMA_WIDTH=1 is modelled");
	if ((v & 0x7ff) != p->M)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1084, "DMA_HEIGHT", "%u != M = %u (CNA_DATA_SIZE0)",
			    v & 0x7ff, p->M);
	if (R(sim, 0x1088) != p->K)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1088, "DMA_CHANNEL", "%u != K = %u (CNA_DATA_SIZE1)",
			    R(sim, 0x1088), p->K);

	v = R(sim, 0x1038);
	if (((v >> 24) & 0x1f) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1038, "WEIGHT_WIDTH", "kernel width %u; only 1x1 is modelled",
			    (v >> 24) & 0x1f);
	if (((v >> 16) & 0x1f) != 1)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1038, "WEIGHT_HEIGHT", "kernel height %u; only 1x1 is modelled",
			    (v >> 16) & 0x1f);
	if (v & ~0x1f1f3fffu)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1038, "reserved", "bits 0x%x set", v & ~0x1f1f3fffu);
	p->N = v & 0x3fff;
	if (!p->N || p->N % p->nb)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1038, "WEIGHT_KERNELS",
			    "N=%u; the %s weight blocking needs N%%%u==0", p->N, prec_name(p->in_prec), p->nb);
	if (p->N > 8192)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1038, "WEIGHT_KERNELS",
			    "N=%u exceeds the 13-bit DPU channel fields", p->N);
	if (R(sim, 0x1034) != p->K * p->esz)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1034, "WEIGHT_BYTES_PER_KERNEL",
			    "%u != K*esz = %u", R(sim, 0x1034), p->K * p->esz);
	if (p->K * p->esz > CBUF_BANK_BYTES)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1034, "WEIGHT_BYTES_PER_KERNEL",
			    "%u bytes per kernel > one 32 KiB bank; not modelled (npu-facts 8.6)", p->K * p->esz);
	p->w_bytes = (uint64_t)p->K * p->N * p->esz;
	if (R(sim, 0x1030) != p->w_bytes)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1030, "WEIGHT_BYTES", "%u != K*N*esz = %" PRIu64,
			    R(sim, 0x1030), p->w_bytes);

	v = R(sim, 0x3014);
	if ((v >> 16) != p->M - 1)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x3014, "DATAOUT_HEIGHT", "%u != M-1 = %u", v >> 16, p->M - 1);
	if (v & 0xffff)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x3014, "DATAOUT_WIDTH", "%u != W-1 = 0", v & 0xffff);
	if (R(sim, 0x3018) != p->N - 1)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x3018, "DATAOUT_CHANNEL", "%u != N-1 = %u",
			    R(sim, 0x3018), p->N - 1);
	if (R(sim, 0x4034) != p->M - 1)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x4034, "HEIGHT", "%u != M-1 = %u", R(sim, 0x4034), p->M - 1);
	v = R(sim, 0x403C);
	if ((v & 0x1fff) != p->N - 1)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x403C, "CHANNEL", "%u != N-1 = %u", v & 0x1fff, p->N - 1);
	if (((v >> 16) & 0x1fff) != p->N - 1 || (v & ~0x1fff1fffu))
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x403C, "ORIG_CHANNEL", "%u != N-1 = %u",
			    (v >> 16) & 0x1fff, p->N - 1);
	if (R(sim, 0x4058) != p->N - 1)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x4058, "CHANNEL_WDMA", "%u != N-1 = %u", R(sim, 0x4058),
			    p->N - 1);
	v = R(sim, 0x405C);
	if (((v >> 16) & 0x1fff) != p->M - 1 || (v & ~0x1fff1fffu))
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x405C, "HEIGHT_WDMA", "%u != M-1 = %u", (v >> 16) & 0x1fff,
			    p->M - 1);
	if (v & 0x1fff)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x405C, "WIDTH_WDMA", "%u != W-1 = 0", v & 0x1fff);

	/* CBUF */
	v = R(sim, 0x1040);
	p->db = v & 0xf;
	p->wb = (v >> 4) & 0xf;
	if (v & ~0x30ffu)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, "reserved", "bits 0x%x set; not modelled", v & ~0x30ffu);
	if (p->db + p->wb != CBUF_BANKS)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, "DATA_BANK",
			    "DATA_BANK %u + WEIGHT_BANK %u = %u banks; the CBUF has 12 and every stream uses all 12",
			    p->db, p->wb, p->db + p->wb);
	if (!p->db || !p->wb)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, p->db ? "WEIGHT_BANK" : "DATA_BANK",
			    "a bank count of 0 is not modelled");
	if (v & (1u << 12))
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, "DATA_REUSE", "DATA_REUSE is not modelled");
	p->weight_reuse = !!(v & (1u << 13));
	p->in_bytes = (uint64_t)p->M * p->K * p->esz;
	if (p->in_bytes > (uint64_t)p->db * CBUF_BANK_BYTES)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, "DATA_BANK",
			    "input %u x %u x %u bytes = %" PRIu64 " does not fit %u data banks (%u bytes)", p->M, p->K,
			    p->esz, p->in_bytes, p->db, p->db * CBUF_BANK_BYTES);
	v = R(sim, 0x1044);
	if (v != (p->K * p->esz + 63) / 64)
		return ferr(sim, err, NPU_SIM_E_CONSIST, 0x1044, "DATA_ENTRIES", "%u != ceil(W*K*esz/64) = %u", v,
			    (p->K * p->esz + 63) / 64);

	v = R(sim, 0x1010);
	p->grains = (v >> 4) & 0x3ff;
	if (v & ~0x3ff0u)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1010, (v >> 16) & 0xff ? "KERNEL_GROUP" : "reserved",
			    "bits 0x%x set; only FEATURE_GRAINS is modelled", v & ~0x3ff0u);
	{
		uint32_t entries = (p->K * p->esz + 63) / 64, cap = 1040 / entries;
		int ok = p->grains == p->M + 1 || (p->grains == p->M && p->M > 1) ||
			 (p->grains == cap && cap < p->M + 1);

		if (!ok)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x1010, "FEATURE_GRAINS",
				    "%u rows; modelled values: M+1 = %u, M (if M > 1), or floor(1040/DATA_ENTRIES) = %u "
				    "when smaller than M+1 (vendor streams)", p->grains, p->M + 1, cap);
	}

	/* layout recipe: NC1HWC2 (mtx512, [HW]) or row-major (vendor, [VENDOR]/[INF]) */
	uint32_t notch = R(sim, 0x4038), ls = R(sim, 0x107C), ss = R(sim, 0x1080);
	uint32_t dss = R(sim, 0x4024), sadd = R(sim, 0x40C0), g29 = (R(sim, 0x100C) >> 29) & 1;
	uint32_t factor = p->out_prec == NPU_PREC_FP32 ? 4 : p->out_prec == NPU_PREC_INT32 ? 8 : 2;

	if (ls >> 28)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x107C, "reserved", "bits 31:28 set");
	if (ss >> 28)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x1080, "reserved", "bits 31:28 set");
	if (dss & 0xf)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x4024, "reserved", "bits 3:0 set (16-byte units)");
	if (sadd & 0xf)
		return ferr(sim, err, NPU_SIM_E_FIELD, 0x40C0, "reserved", "bits 3:0 set (16-byte units)");
	if (notch == 0) {
		uint32_t want_ss;

		p->recipe = NPU_SIM_RECIPE_NC1HWC2;
		if (g29)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "GROUP_LINE_OFF",
				    "GROUP_LINE_OFF=1 with the NC1HWC2 recipe (NOTCH_ADDR 0) was never seen; not modelled");
		if (ls != 4)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x107C, "LINE_STRIDE",
				    "%u; the NC1HWC2 recipe (DPU NOTCH_ADDR 0) uses 4", ls);
		if (p->M == 1)
			want_ss = 0xffffffdu;
		else if (p->M % 4 == 0)
			want_ss = 4 * (p->M / 4 - 1);
		else
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x1080, "SURF_STRIDE",
				    "M=%u is not modelled by the surf_stride formula 4*(M/4-1) (needs M==1 or M%%4==0)",
				    p->M);
		if (ss != want_ss)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x1080, "SURF_STRIDE",
				    "%u; the NC1HWC2 recipe needs 0x%x for M=%u", ss, want_ss, p->M);
		if (dss >> 4 != p->M)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x4024, "DST_SURF_STRIDE",
				    "%u (x16 bytes); the NC1HWC2 recipe needs M = %u", dss >> 4, p->M);
		if (sadd >> 4 != p->M * factor)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x40C0, "SURF_ADD",
				    "%u; the NC1HWC2 recipe needs DST_SURF_STRIDE*%u = %u for %s output", sadd >> 4,
				    factor, p->M * factor, prec_name(p->out_prec));
		p->out_surf = (uint64_t)p->M * 16;
		p->out_line = 16;
		p->out_bytes = (uint64_t)(p->N / p->c2out) * p->M * 16;
	} else {
		uint32_t q = p->N / 4 - 1;

		p->recipe = NPU_SIM_RECIPE_ROWMAJOR;
		if ((notch & 0x1fff) != q || ((notch >> 16) & 0x1fff) != q || (notch & ~0x1fff1fffu))
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x4038, "NOTCH_ADDR",
				    "non-zero NOTCH_ADDR selects the row-major recipe, which needs both halves = N/4-1 = %u",
				    q);
		if (p->out_prec == NPU_PREC_FP16)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x4010, "OUT_PRECISION",
				    "fp16 output with the row-major recipe (NOTCH_ADDR != 0) was never seen; not modelled");
		if (!g29)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x100C, "GROUP_LINE_OFF",
				    "the row-major recipe was only seen with GROUP_LINE_OFF=1");
		if (ls != p->K * p->esz / 16)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x107C, "LINE_STRIDE",
				    "%u; the row-major recipe needs K*esz/16 = %u", ls, p->K * p->esz / 16);
		if (ss != 0)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x1080, "SURF_STRIDE",
				    "%u; the row-major recipe needs 0", ss);
		if (dss >> 4 != 1)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x4024, "DST_SURF_STRIDE",
				    "%u (x16 bytes); the row-major recipe needs 1", dss >> 4);
		if (sadd >> 4 != factor)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x40C0, "SURF_ADD",
				    "%u; the row-major recipe needs %u for %s output", sadd >> 4, factor,
				    prec_name(p->out_prec));
		p->out_surf = 16;
		p->out_line = (uint64_t)(q + 1) * 16;
		p->out_bytes = (uint64_t)p->M * p->N * 4;
	}

	/* addresses */
	p->in_addr = R(sim, 0x1070);
	p->w_addr = R(sim, 0x1110);
	p->out_addr = R(sim, 0x4020);
	if (p->in_addr & 15)
		return ferr(sim, err, NPU_SIM_E_DMA, 0x1070, "FEATURE_BASE_ADDR", "not 16-byte aligned");
	if (p->w_addr & 15)
		return ferr(sim, err, NPU_SIM_E_DMA, 0x1110, "DECOMPRESS_ADDR0", "not 16-byte aligned");
	if (p->out_addr & 15)
		return ferr(sim, err, NPU_SIM_E_DMA, 0x4020, "DST_BASE_ADDR", "not 16-byte aligned");

	if (p->weight_reuse) {
		const char *why = NULL;

		if (!sim->cbuf_valid)
			why = "no previous task left all its weights resident in the CBUF";
		else if (sim->cbuf_prec != (uint32_t)p->in_prec || sim->cbuf_K != p->K || sim->cbuf_N != p->N)
			why = "the weights in the CBUF have a different precision/K/N";
		else if (sim->cbuf_wbanks != p->wb)
			why = "WEIGHT_BANK differs from the task that loaded the weights";
		else if (sim->cbuf_addr != p->w_addr)
			why = "DCOMP_ADDR0 differs from the address the CBUF weights came from "
			      "(the hardware would silently use the old weights)";
		if (why)
			return ferr(sim, err, NPU_SIM_E_FIELD, 0x1040, "WEIGHT_REUSE", "%s", why);
	}
	return 0;
}

/* ---- op-enable: execution ---------------------------------------------------- */

static int ranges_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* fp16 -> double, exact; the same values as npu_sim_f16_to_double() without ldexp() */
static inline double h2d(uint16_t h)
{
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
	uint64_t bits;
	double v;

	if (e == 0x1f)
		return npu_sim_f16_to_double(h);
	if (e == 0) {
		v = (double)m * 0x1p-24;
		return h >> 15 ? -v : v;
	}
	bits = (uint64_t)(h >> 15) << 63 | (uint64_t)(e - 15 + 1023) << 52 | (uint64_t)m << 42;
	memcpy(&v, &bits, 8);
	return v;
}

/*
 * int8 dot product of a row-major input row @a with one kernel of the weight
 * layout, read in place: @nblk blocks of 32 k-values, @wstride bytes apart.
 * @asum is the sum of the row's K values (the VNNI variant needs it). Exact
 * in int32 (see compute()). The variants picked at run time on x86-64 give
 * the same sums: the emulated device spends most of a small model's decode
 * step here. NPU_SIM_DOT=generic|avx2|vnni|vnni512 asks for one (if the CPU
 * has it).
 */
typedef int32_t (*dot_i8_fn)(const int8_t *a, const int8_t *w, uint32_t nblk, size_t wstride,
			     int32_t asum);

static int32_t dot_i8_blocked(const int8_t *a, const int8_t *w, uint32_t nblk, size_t wstride,
			      int32_t asum)
{
	int32_t acc = 0;

	(void)asum;
	for (uint32_t kb = 0; kb < nblk; kb++, a += 32, w += wstride)
		for (int i = 0; i < 32; i++)
			acc += (int32_t)a[i] * (int32_t)w[i];
	return acc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2")))
static int32_t hsum_i32x8(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2")))
static int32_t dot_i8_blocked_avx2(const int8_t *a, const int8_t *w, uint32_t nblk, size_t wstride,
				   int32_t asum)
{
	__m256i acc = _mm256_setzero_si256();

	(void)asum;
	for (uint32_t kb = 0; kb < nblk; kb++, a += 32, w += wstride) {
		__m256i va = _mm256_loadu_si256((const __m256i *)a);
		__m256i vw = _mm256_loadu_si256((const __m256i *)w);
		/* int8 -> int16, then pairwise int16 products summed into int32 */
		__m256i alo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(va));
		__m256i ahi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(va, 1));
		__m256i wlo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(vw));
		__m256i whi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(vw, 1));

		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(alo, wlo));
		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ahi, whi));
	}
	return hsum_i32x8(acc);
}

/*
 * VPDPBUSD multiplies unsigned by signed bytes: the weights go in with their
 * sign bit flipped (w + 128, as u8), and 128 * sum(a) comes off at the end.
 * The sums wrap in uint32 like the hardware adder would not, but the true
 * result fits in int32, so the wrapped one is that result.
 */
__attribute__((target("avx2,avx512vl,avx512vnni")))
static int32_t dot_i8_blocked_vnni(const int8_t *a, const int8_t *w, uint32_t nblk, size_t wstride,
				   int32_t asum)
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	__m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
	uint32_t kb = 0;

	for (; kb + 2 <= nblk; kb += 2, a += 64, w += 2 * wstride) {
		__m256i w0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)w), flip);
		__m256i w1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w + wstride)), flip);

		acc0 = _mm256_dpbusd_epi32(acc0, w0, _mm256_loadu_si256((const __m256i *)a));
		acc1 = _mm256_dpbusd_epi32(acc1, w1, _mm256_loadu_si256((const __m256i *)(a + 32)));
	}
	if (kb < nblk) {
		__m256i w0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)w), flip);

		acc0 = _mm256_dpbusd_epi32(acc0, w0, _mm256_loadu_si256((const __m256i *)a));
	}
	uint32_t sum = (uint32_t)hsum_i32x8(_mm256_add_epi32(acc0, acc1));

	return (int32_t)(sum - 128u * (uint32_t)asum);
}

/* Four neighbouring kernels of one weight group (32 bytes apart) at once:
 * the input row is loaded once, and one reduction serves all four. */
__attribute__((target("avx2,avx512vl,avx512vnni")))
static void dot_i8_blocked_vnni_x4(const int8_t *a, const int8_t *w, uint32_t nblk, size_t wstride,
				   int32_t asum, int32_t out[4])
{
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	__m256i acc[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
			   _mm256_setzero_si256() };

	for (uint32_t kb = 0; kb < nblk; kb++, a += 32, w += wstride) {
		__m256i va = _mm256_loadu_si256((const __m256i *)a);

		for (int k = 0; k < 4; k++) {
			__m256i wk = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w + 32 * k)), flip);

			acc[k] = _mm256_dpbusd_epi32(acc[k], wk, va);
		}
	}
	__m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
	uint32_t sums[4];

	_mm_storeu_si128((__m128i *)sums, s);
	for (int k = 0; k < 4; k++)
		out[k] = (int32_t)(sums[k] - 128u * (uint32_t)asum);
}

/*
 * A whole weight group of 32 int8 kernels (1 KiB per 32-value k-block) with
 * 512-bit VPDPBUSD, two kernels per register: k-blocks outermost, so the
 * group's bytes are read in address order. Per kernel, streaming from DRAM
 * runs ~3x faster than kernel by kernel (which strides 1 KiB), and in cache
 * ~1.5x (build VM, K = 576).
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))
static void dot_i8_group32_vnni512(const int8_t *a, const int8_t *w, uint32_t nblk, int32_t asum,
				   int32_t out[32])
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	__m512i acc[16];

	for (int i = 0; i < 16; i++)
		acc[i] = _mm512_setzero_si512();
	for (uint32_t kb = 0; kb < nblk; kb++, a += 32, w += 32 * 32) {
		__m512i va = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)a));

		for (int i = 0; i < 16; i++)
			acc[i] = _mm512_dpbusd_epi32(acc[i],
						     _mm512_xor_si512(_mm512_loadu_si512(w + 64 * i), flip), va);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t lo = (uint32_t)hsum_i32x8(_mm512_castsi512_si256(acc[i]));
		uint32_t hi = (uint32_t)hsum_i32x8(_mm512_extracti64x4_epi64(acc[i], 1));

		out[2 * i] = (int32_t)(lo - 128u * (uint32_t)asum);
		out[2 * i + 1] = (int32_t)(hi - 128u * (uint32_t)asum);
	}
}
#endif

/* vnni512: dot_i8_group32_vnni512 for whole groups, dot_i8_blocked_vnni for the rest */
static const char *dot_choice;	/* NPU_SIM_DOT, read once */
static pthread_once_t dot_choice_once = PTHREAD_ONCE_INIT;

static void dot_choice_read(void)
{
	dot_choice = getenv("NPU_SIM_DOT");
}

static dot_i8_fn pick_dot_i8(int *need_asum, int *group32)
{
	const char *want;

	pthread_once(&dot_choice_once, dot_choice_read);
	want = dot_choice;
	*need_asum = 0;
	*group32 = 0;
	if (want && !strcmp(want, "generic"))
		return dot_i8_blocked;
#if defined(__x86_64__) && defined(__GNUC__)
	if ((!want || !strcmp(want, "vnni512")) && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni") &&
	    __builtin_cpu_supports("avx512vl")) {
		*need_asum = 1;
		*group32 = 1;
		return dot_i8_blocked_vnni;
	}
	if ((!want || !strcmp(want, "vnni")) && __builtin_cpu_supports("avx512vnni") &&
	    __builtin_cpu_supports("avx512vl")) {
		*need_asum = 1;
		return dot_i8_blocked_vnni;
	}
	if ((!want || !strcmp(want, "avx2")) && __builtin_cpu_supports("avx2"))
		return dot_i8_blocked_avx2;
#endif
	return dot_i8_blocked;
}

/* Where output element (m, n) goes in the NC1HWC2 output surface. */
static uint8_t *out_elem(const struct plan *p, uint8_t *out, uint32_t m, uint32_t n)
{
	return out + (uint64_t)(n / p->c2out) * p->out_surf + (uint64_t)m * p->out_line +
	       (uint64_t)(n % p->c2out) * p->osz;
}

static void store_out(const struct plan *p, uint8_t *out, uint32_t m, uint32_t n, double acc)
{
	uint8_t *dst = out_elem(p, out, m, n);
	float f = (float)acc;
	uint32_t bits;

	if (p->out_prec == NPU_PREC_FP16) {
		uint16_t h = npu_sim_f32_to_f16(f);

		dst[0] = (uint8_t)h;
		dst[1] = (uint8_t)(h >> 8);
	} else {
		memcpy(&bits, &f, 4);
		st32(dst, bits);
	}
}

/* The MACs of one validated task: 0, or -1 when out of memory (nothing written then). */
static int compute(const struct plan *p, const uint8_t *in, const uint8_t *w, uint8_t *out)
{
	const uint32_t M = p->M, K = p->K, N = p->N, esz = p->esz, nb = p->nb;
	const size_t MK = (size_t)M * K;
	/* weight element (n, k) is at (n/nb)*nb*K + (k/32)*nb*32 + (n%nb)*32 + k%32 */
	const size_t wblk = (size_t)nb * 32;	/* elements between k-blocks of one kernel */

	if (p->in_prec == NPU_PREC_INT8) {
		const int8_t *a = (const int8_t *)in;
		int8_t *abuf = NULL;
		int32_t *asum;
		int need_asum, group32;
		dot_i8_fn dot = pick_dot_i8(&need_asum, &group32);

		if (p->recipe == NPU_SIM_RECIPE_NC1HWC2) {
			abuf = malloc(MK ? MK : 1);
			if (!abuf)
				return -1;
			for (uint32_t c1 = 0; c1 < K / p->c2in; c1++)
				for (uint32_t m = 0; m < M; m++)
					memcpy(abuf + (size_t)m * K + (size_t)c1 * p->c2in,
					       in + ((size_t)c1 * M + m) * p->c2in, p->c2in);
			a = abuf;
		}
		asum = calloc(M ? M : 1, sizeof(*asum));
		if (!asum) {
			free(abuf);
			return -1;
		}
		for (uint32_t m = 0; need_asum && m < M; m++)
			for (uint32_t k = 0; k < K; k++)
				asum[m] += a[(size_t)m * K + k];
		for (uint32_t n = 0; n < N; n++) {
			const int8_t *wn = (const int8_t *)w + (size_t)(n / nb) * nb * K + (size_t)(n % nb) * 32;

#if defined(__x86_64__) && defined(__GNUC__)
			if (group32 && nb == 32 && n % 32 == 0 && n + 32 <= N) {
				for (uint32_t m = 0; m < M; m++) {
					int32_t acc32[32];

					dot_i8_group32_vnni512(a + (size_t)m * K, wn, K / 32, asum[m], acc32);
					for (uint32_t k = 0; k < 32; k++)
						st32(out_elem(p, out, m, n + k), (uint32_t)acc32[k]);
				}
				n += 31;
				continue;
			}
			if (dot == dot_i8_blocked_vnni && n % nb + 4 <= nb && n + 4 <= N) {
				for (uint32_t m = 0; m < M; m++) {
					int32_t acc4[4];

					dot_i8_blocked_vnni_x4(a + (size_t)m * K, wn, K / 32, wblk, asum[m], acc4);
					for (uint32_t k = 0; k < 4; k++)
						st32(out_elem(p, out, m, n + k), (uint32_t)acc4[k]);
				}
				n += 3;
				continue;
			}
#endif
			for (uint32_t m = 0; m < M; m++) {
				int32_t acc = dot(a + (size_t)m * K, wn, K / 32, wblk, asum[m]);

				st32(out_elem(p, out, m, n), (uint32_t)acc);
			}
		}
		free(asum);
		free(abuf);
		return 0;
	}

	/* fp16: 4 kernels at a time, each summed in k order (independent chains, same rounding) */
	double *ad = malloc(sizeof(double) * (MK ? MK : 1));
	double *bd = malloc(sizeof(double) * 4 * (K ? K : 1));

	if (!ad || !bd) {
		free(ad);
		free(bd);
		return -1;
	}
	for (uint32_t m = 0; m < M; m++)
		for (uint32_t k = 0; k < K; k++) {
			size_t src = p->recipe == NPU_SIM_RECIPE_NC1HWC2
				? ((size_t)(k / p->c2in) * M * p->c2in + (size_t)m * p->c2in + k % p->c2in)
				: (size_t)m * K + k;
			ad[(size_t)m * K + k] = h2d(ld16(in + src * esz));
		}
	for (uint32_t n0 = 0; n0 < N; n0 += 4) {
		uint32_t nn = N - n0 < 4 ? N - n0 : 4;

		for (uint32_t j = 0; j < nn; j++) {
			uint32_t n = n0 + j;
			const uint8_t *wn = w + ((size_t)(n / nb) * nb * K + (size_t)(n % nb) * 32) * esz;

			for (uint32_t kb = 0; kb < K / 32; kb++)
				for (uint32_t i = 0; i < 32; i++)
					bd[(size_t)j * K + kb * 32 + i] = h2d(ld16(wn + (kb * wblk + i) * esz));
		}
		for (uint32_t m = 0; m < M; m++) {
			const double *ar = ad + (size_t)m * K;

			if (nn == 4) {
				const double *b0 = bd, *b1 = bd + K, *b2 = bd + 2 * (size_t)K, *b3 = bd + 3 * (size_t)K;
				double s0 = 0, s1 = 0, s2 = 0, s3 = 0;

				for (uint32_t k = 0; k < K; k++) {
					double x = ar[k];

					s0 += x * b0[k];
					s1 += x * b1[k];
					s2 += x * b2[k];
					s3 += x * b3[k];
				}
				store_out(p, out, m, n0, s0);
				store_out(p, out, m, n0 + 1, s1);
				store_out(p, out, m, n0 + 2, s2);
				store_out(p, out, m, n0 + 3, s3);
			} else {
				for (uint32_t j = 0; j < nn; j++) {
					const double *bj = bd + (size_t)j * K;
					double s = 0;

					for (uint32_t k = 0; k < K; k++)
						s += ar[k] * bj[k];
					store_out(p, out, m, n0 + j, s);
				}
			}
		}
	}
	free(ad);
	free(bd);
	return 0;
}

static int execute(struct npu_sim *sim, struct npu_sim_error *err)
{
	struct plan p;
	uint8_t *in, *w, *out;
	int rc = validate(sim, &p, err);

	if (rc)
		return rc;
	const struct regstate *rin = &sim->regs[npu_sim_reg_find(0x1070)];
	const struct regstate *rw = &sim->regs[npu_sim_reg_find(0x1110)];
	const struct regstate *rout = &sim->regs[npu_sim_reg_find(0x4020)];

	if (ranges_overlap(p.out_addr, p.out_bytes, p.in_addr, p.in_bytes) ||
	    (!p.weight_reuse && ranges_overlap(p.out_addr, p.out_bytes, p.w_addr, p.w_bytes)))
		return seterr(err, NPU_SIM_E_DMA, sim->cur_task, &rout->ref, "DPU_DST_BASE_ADDR", "DST_BASE_ADDR",
			      "output [0x%x, +0x%" PRIx64 ") overlaps the input or weights; not modelled",
			      p.out_addr, p.out_bytes);
	rc = dma_access(sim, p.in_addr, p.in_bytes, 0, "CNA feature (input)", &rin->ref,
			"CNA_FEATURE_DATA_ADDR", "FEATURE_BASE_ADDR", &in, NULL, err);
	if (rc)
		return rc;
	if (p.weight_reuse) {
		w = sim->cbuf_src ? (uint8_t *)sim->cbuf_src : sim->cbuf_w;
		sim->st.weight_reuse_tasks++;
	} else {
		rc = dma_access(sim, p.w_addr, p.w_bytes, 0, "CNA weight", &rw->ref, "CNA_DCOMP_ADDR0",
				"DECOMPRESS_ADDR0", &w, NULL, err);
		if (rc)
			return rc;
	}
	rc = dma_access(sim, p.out_addr, p.out_bytes, 1, "DPU output", &rout->ref, "DPU_DST_BASE_ADDR",
			"DST_BASE_ADDR", &out, NULL, err);
	if (rc)
		return rc;

	/*
	 * Weights resident in the CBUF for a later WEIGHT_REUSE task. By reference,
	 * the copy is put off until the NPU is about to overwrite them in DRAM (a
	 * reuse task's output; a loading task's may not overlap its weights).
	 */
	if (!p.weight_reuse) {
		if (p.w_bytes <= (uint64_t)p.wb * CBUF_BANK_BYTES) {
			if (sim->cbuf_by_ref) {
				sim->cbuf_src = w;
			} else {
				if (cbuf_copy(sim, w, p.w_bytes))
					return seterr(err, NPU_SIM_E_NOMEM, sim->cur_task, NULL, NULL, NULL, "CBUF copy");
				w = sim->cbuf_w;
			}
			sim->cbuf_valid = 1;
			sim->cbuf_addr = p.w_addr;
			sim->cbuf_bytes = (uint32_t)p.w_bytes;
			sim->cbuf_K = p.K;
			sim->cbuf_N = p.N;
			sim->cbuf_prec = (uint32_t)p.in_prec;
			sim->cbuf_wbanks = p.wb;
		} else {
			sim->cbuf_valid = 0;	/* streamed: the banks hold only the tail */
			sim->cbuf_src = NULL;
		}
	} else if (sim->cbuf_src && ranges_overlap(p.out_addr, p.out_bytes, sim->cbuf_addr, sim->cbuf_bytes)) {
		if (cbuf_copy(sim, sim->cbuf_src, sim->cbuf_bytes))
			return seterr(err, NPU_SIM_E_NOMEM, sim->cur_task, NULL, NULL, NULL, "CBUF copy");
		w = sim->cbuf_w;
	}

	/*
	 * Compute. The operands are gathered once per task out of the NPU layouts into host
	 * row-major scratch (A: [M][K]; B: one kernel row of K at a time, from its 32-element
	 * blocks), then plain dot products. The arithmetic is the documented model: int8 x int8
	 * summed exactly (|sum| <= 32768*128*128 < 2^31, so int32 lanes are exact), fp16 products
	 * (exact in double) summed in double in k order, rounded once to fp32 (and to fp16).
	 */
	int rc2 = compute(&p, in, w, out);

	if (rc2)
		return seterr(err, NPU_SIM_E_NOMEM, sim->cur_task, NULL, NULL, NULL, "input copy");

	/* counters and the modelled cycle estimate */
	uint64_t macs = (uint64_t)p.M * p.K * p.N;
	double rate = p.in_prec == NPU_PREC_INT8 ? sim->perf.macs_per_cycle_int8 : sim->perf.macs_per_cycle_fp16;
	uint64_t dbytes = p.in_bytes + (p.weight_reuse ? 0 : p.w_bytes) + p.out_bytes;
	double cm = rate > 0 ? (double)macs / rate : 0;
	double cd = sim->perf.dram_bytes_per_cycle > 0 ? (double)dbytes / sim->perf.dram_bytes_per_cycle : 0;

	sim->st.macs += macs;
	if (p.in_prec == NPU_PREC_INT8)
		sim->st.macs_int8 += macs;
	else
		sim->st.macs_fp16 += macs;
	sim->st.cycles_mac += cm;
	sim->st.cycles_dma += cd;
	sim->st.cycles += sim->perf.task_overhead_cycles + (cm > cd ? cm : cd);
	sim->st.tasks++;

	struct npu_sim_task_info *ti = &sim->last;

	ti->recipe = p.recipe;
	ti->in_prec = p.in_prec;
	ti->out_prec = p.out_prec;
	ti->M = p.M;
	ti->K = p.K;
	ti->N = p.N;
	ti->in_addr = p.in_addr;
	ti->w_addr = p.w_addr;
	ti->out_addr = p.out_addr;
	ti->in_bytes = p.in_bytes;
	ti->w_bytes = p.w_bytes;
	ti->out_bytes = p.out_bytes;
	ti->weight_reuse = p.weight_reuse;
	ti->weights_streamed = p.w_bytes > (uint64_t)p.wb * CBUF_BANK_BYTES;
	ti->data_banks = p.db;
	ti->weight_banks = p.wb;
	ti->feature_grains = p.grains;
	if (sim->trace)
		fprintf(sim->trace,
			"npu-sim: task %d op-enable: %s recipe, %s x %s -> %s, M=%u K=%u N=%u; in 0x%08x (+0x%" PRIx64
			") w 0x%08x (+0x%" PRIx64 ")%s%s out 0x%08x (+0x%" PRIx64 "); banks data %u weight %u, "
			"grains %u; %" PRIu64 " MACs\n",
			sim->cur_task, p.recipe == NPU_SIM_RECIPE_NC1HWC2 ? "NC1HWC2" : "row-major",
			prec_name(p.in_prec), prec_name(p.in_prec), prec_name(p.out_prec), p.M, p.K, p.N, p.in_addr,
			p.in_bytes, p.w_addr, p.w_bytes, p.weight_reuse ? " [WEIGHT_REUSE: from CBUF]" : "",
			ti->weights_streamed ? " [streamed through the weight banks]" : "", p.out_addr,
			p.out_bytes, p.db, p.wb, p.grains, macs);
	return 0;
}

/* ---- PC: task fetch, trailer, chain ------------------------------------------- */

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

enum { MODE_FIRST, MODE_CHAINED, MODE_MAINLINE };

/*
 * Fetch and run one task of `fetch` qwords at addr. known_n >= 0 gives the
 * register-write count (kernel's regcfg_amount or mainline count-4); otherwise
 * the op-enable must end the fetched block (optionally followed by one zero
 * pad qword). Returns the chain words in *next_addr / *next_amount.
 */
static int run_one(struct npu_sim *sim, uint64_t addr, uint32_t fetch, long known_n, int mode,
		   const struct qref *src, const char *src_reg, uint64_t *next_addr, uint32_t *next_amount,
		   struct qref *next_ref, struct npu_sim_error *err)
{
	uint8_t *p;
	size_t bi;
	long n;
	int rc = dma_access(sim, addr, (uint64_t)fetch * 8, 0, "PC regcmd fetch", src, src_reg,
			    src_reg ? "value" : NULL, &p, &bi, err);

	if (rc)
		return rc;
	sim->st.qwords_fetched += fetch;
	const struct buf *b = &sim->bufs[bi];
	struct qref r = { sim->cur_task, (long)((addr - b->iova) / 8), 0, addr, 0 };

#define QREF(i) (r.task_qword = (long)(i), r.qword = (long)((addr - b->iova) / 8 + (i)), \
		 r.addr = addr + 8 * (uint64_t)(i), r.raw = ld64(p + 8 * (size_t)(i)), &r)

	if (known_n >= 0) {
		n = known_n;
	} else {
		uint64_t last = ld64(p + 8 * (size_t)(fetch - 1));

		if ((last >> 48) == T_OPEN)
			n = (long)fetch - 4;
		else if (last == 0 && fetch >= 5 && (ld64(p + 8 * (size_t)(fetch - 2)) >> 48) == T_OPEN)
			n = (long)fetch - 5;
		else
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(fetch - 1), "PC_REGISTER_AMOUNTS",
				      "value",
				      "chained task fetch of %u qwords (from the previous PC_REGISTER_AMOUNTS) does not "
				      "end with the op-enable (optionally followed by one zero pad qword)", fetch);
	}
	if (n < 0 || (uint64_t)n + 4 > fetch)
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, NULL, "PC_REGISTER_AMOUNTS", "value",
			      "register count %ld does not leave room for the 4-qword trailer in %u fetched qwords", n,
			      fetch);
	if (sim->trace)
		fprintf(sim->trace, "npu-sim: task %d at 0x%08" PRIx64 " ('%s' qword %ld): %ld register writes, "
			"%u qwords fetched\n", sim->cur_task, addr, b->name, (long)((addr - b->iova) / 8), n, fetch);

	for (long i = 0; i < n; i++) {
		rc = decode_body_qword(sim, ld64(p + 8 * (size_t)i), QREF(i), err);
		if (rc)
			return rc;
	}

	/* trailer */
	uint64_t q0 = ld64(p + 8 * (size_t)n), q1 = ld64(p + 8 * (size_t)(n + 1));
	uint64_t q2 = ld64(p + 8 * (size_t)(n + 2)), q3 = ld64(p + 8 * (size_t)(n + 3));

	*next_addr = 0;
	*next_amount = 0;
	if (q0 != 0 && ((q0 >> 48) != T_PC || (uint16_t)q0 != PC_BASE_ADDRESS))
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(n), "PC_BASE_ADDRESS", "target",
			      "trailer slot 1 must be 0 or PC_BASE_ADDRESS (0x0101/0x0010)");
	if ((q1 >> 48) != T_PC || (uint16_t)q1 != PC_REGISTER_AMOUNTS)
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(n + 1), "PC_REGISTER_AMOUNTS", "target",
			      "trailer slot 2 must be PC_REGISTER_AMOUNTS (0x0101/0x0014)");
	if (q2 != QW_MARKER)
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(n + 2), "PC_MARKER", "value",
			      "trailer slot 3 must be 0x0041000000000000");
	if ((q3 >> 48) != T_OPEN || (uint16_t)q3 != PC_OPERATION_ENABLE)
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(n + 3), "PC_OPERATION_ENABLE", "target",
			      "trailer slot 4 must be the op-enable 0x0081/0x0008");
	if ((uint32_t)(q3 >> 16) != OP_ENABLE_VALUE)
		return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(n + 3), "PC_OPERATION_ENABLE", "OP_EN",
			      "value 0x%x; only 0xd is modelled", (uint32_t)(q3 >> 16));
	for (uint32_t i = (uint32_t)n + 4; i < fetch; i++)
		if (ld64(p + 8 * (size_t)i) != 0)
			return seterr(err, NPU_SIM_E_TRAILER, sim->cur_task, QREF(i), NULL, "padding",
				      "the PC fetches whole 128-bit pairs; the qword fetched after the op-enable must be "
				      "a zero no-op");

	uint32_t na = (uint32_t)(q1 >> 16), nx = q0 ? (uint32_t)(q0 >> 16) : 0;

	if (mode == MODE_MAINLINE) {
		if (nx)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n), "PC_BASE_ADDRESS", "PC_SOURCE_ADDR",
				      "in-stream chaining is not used by mainline rocket (the kernel starts each "
				      "task); must be 0");
		if (na)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n + 1), "PC_REGISTER_AMOUNTS",
				      "PC_DATA_AMOUNT",
				      "in-stream chaining is not used by mainline rocket; must be 0");
	} else {
		if (nx & 0xf)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n), "PC_BASE_ADDRESS", "PC_SOURCE_ADDR",
				      "next task address 0x%x not 16-byte aligned", nx);
		if (!nx && na)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n + 1), "PC_REGISTER_AMOUNTS",
				      "PC_DATA_AMOUNT", "amount %u without a next task address", na);
		if (nx && na < 2)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n + 1), "PC_REGISTER_AMOUNTS",
				      "PC_DATA_AMOUNT", "amount %u: a task needs at least 3 pairs (4 trailer qwords "
				      "+ 1 register)", na);
		if (na > 0xffff)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, QREF(n + 1), "PC_REGISTER_AMOUNTS",
				      "PC_DATA_AMOUNT", "amount %u not modelled (> 0xffff)", na);
		*next_addr = nx;
		*next_amount = na;
		*next_ref = *QREF(nx ? n : n + 1);
	}
#undef QREF
	rc = execute(sim, err);
	return rc;
}

int npu_sim_run_chain(struct npu_sim *sim, uint64_t regcmd_addr, uint32_t regcfg_amount, uint32_t max_tasks,
		      struct npu_sim_error *err)
{
	uint64_t addr = regcmd_addr, nx;
	uint32_t na, fetch;
	long known = (long)regcfg_amount;
	struct qref ref;
	int rc, first = 1;

	if (!sim)
		return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL, "NULL simulator");
	if (regcmd_addr & 0xf)
		return seterr(err, NPU_SIM_E_ARG, 0, NULL, NULL, NULL,
			      "regcmd address 0x%" PRIx64 " not 16-byte aligned", regcmd_addr);
	if (regcfg_amount > 0xffff * 2)
		return seterr(err, NPU_SIM_E_ARG, 0, NULL, NULL, NULL, "regcfg_amount %u too large", regcfg_amount);
	if (!max_tasks)
		max_tasks = DEFAULT_MAX_TASKS;
	/* the vendor kernel writes (regcfg_amount + 4 + 1)/2 - 1 pairs */
	fetch = 2 * ((regcfg_amount + 5) / 2);
	for (sim->cur_task = 0;; sim->cur_task++) {
		if ((uint32_t)sim->cur_task >= max_tasks)
			return seterr(err, NPU_SIM_E_CHAIN, sim->cur_task, first ? NULL : &ref, "PC_BASE_ADDRESS",
				      "PC_SOURCE_ADDR", "chain longer than %u tasks", max_tasks);
		rc = run_one(sim, addr, fetch, known, first ? MODE_FIRST : MODE_CHAINED, first ? NULL : &ref,
			     first ? NULL : "PC_BASE_ADDRESS", &nx, &na, &ref, err);
		if (rc)
			return rc;
		if (!nx)
			return 0;
		first = 0;
		known = -1;
		addr = nx;
		fetch = 2 * (na + 1);
	}
}

int npu_sim_run_task(struct npu_sim *sim, uint64_t regcmd_addr, uint32_t qword_count, struct npu_sim_error *err)
{
	uint64_t nx;
	uint32_t na;
	struct qref ref;

	if (!sim)
		return seterr(err, NPU_SIM_E_ARG, -1, NULL, NULL, NULL, "NULL simulator");
	sim->cur_task = 0;
	if (regcmd_addr & 0xf)
		return seterr(err, NPU_SIM_E_ARG, 0, NULL, NULL, NULL,
			      "regcmd address 0x%" PRIx64 " not 16-byte aligned", regcmd_addr);
	if (qword_count < 5 || qword_count > 0x20000)
		return seterr(err, NPU_SIM_E_ARG, 0, NULL, NULL, NULL,
			      "qword count %u: need 4 trailer qwords + at least one register write", qword_count);
	/* mainline: PC_REGISTER_AMOUNTS = (count + 1)/2 - 1 pairs */
	return run_one(sim, regcmd_addr, 2 * ((qword_count + 1) / 2), (long)qword_count - 4, MODE_MAINLINE, NULL,
		       NULL, &nx, &na, &ref, err);
}

void npu_sim_print_stats(const struct npu_sim *sim, FILE *f)
{
	const struct npu_sim_stats *s = &sim->st;

	fprintf(f, "tasks %" PRIu64 ", register writes %" PRIu64 ", qwords fetched %" PRIu64 "\n", s->tasks,
		s->reg_writes, s->qwords_fetched);
	fprintf(f, "MACs %" PRIu64 " (int8 %" PRIu64 ", fp16 %" PRIu64 "), weight-reuse tasks %" PRIu64 "\n",
		s->macs, s->macs_int8, s->macs_fp16, s->weight_reuse_tasks);
	fprintf(f, "bytes read %" PRIu64 ", written %" PRIu64 "\n", s->bytes_read, s->bytes_written);
	for (size_t i = 0; i < sim->nbufs; i++)
		fprintf(f, "  buffer %-8s 0x%08" PRIx64 " +0x%-8" PRIx64 " read %" PRIu64 " written %" PRIu64 "\n",
			sim->bufs[i].name, sim->bufs[i].iova, sim->bufs[i].size, sim->bufs[i].rd, sim->bufs[i].wr);
	fprintf(f, "MODELLED (not measured) cycles %.0f = sum over tasks of %.0f overhead + max(MAC %.0f, DMA %.0f) "
		"-> %.3f us at %.0f MHz (assumptions: %.0f int8 / %.0f fp16 MACs/cycle, %.0f DRAM bytes/cycle, "
		"one core)\n", s->cycles, sim->perf.task_overhead_cycles, s->cycles_mac, s->cycles_dma,
		sim->perf.clock_hz > 0 ? s->cycles / sim->perf.clock_hz * 1e6 : 0.0, sim->perf.clock_hz / 1e6,
		sim->perf.macs_per_cycle_int8, sim->perf.macs_per_cycle_fp16, sim->perf.dram_bytes_per_cycle);
}
