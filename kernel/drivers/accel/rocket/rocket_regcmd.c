// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rocket NPU (RK3588) matmul regcmd generator: validates a matmul
 * description and writes the register command stream of its tasks.
 *
 * Pure C (no allocation, no I/O, no floating point), shared unchanged by
 * the kernel module and the userspace tests / emulated device. The recipe
 * and the status of each choice are in docs/npu-generator.md.
 */

#include <linux/array_size.h>
#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/overflow.h>
#include <linux/types.h>

#include "rocket_regcmd.h"
#include "rocket_regcmd_regs.h"

#define RRC_ADDR_LIMIT		0x100000000ULL	/* NPU addresses are 32 bit */
#define RRC_ADDR_ALIGN		16
#define RRC_K_ALIGN		32
#define RRC_DATA_ENTRY_BYTES	64		/* CBUF_CON1 data entry */
#define RRC_ATOM_BYTES		16		/* one C2 atom of A / C */

static inline u32 rrc_div_up(u64 n, u32 d)
{
	return (u32)((n + d - 1) / d);
}

u32 rocket_mm_type_size(u32 type)
{
	switch (type) {
	case ROCKET_MM_TYPE_INT8:
		return 1;
	case ROCKET_MM_TYPE_FP16:
		return 2;
	case ROCKET_MM_TYPE_INT32:
	case ROCKET_MM_TYPE_FP32:
		return 4;
	default:
		return 0;
	}
}

/*
 * Per type combination: what the 104-register task needs. Only the three
 * combinations with a hardware-proven recipe exist; int4 has no facts.
 */
struct rrc_combo {
	u32 in_type, out_type;
	u32 in_prec;		/* conv in/proc, DPU in/proc precision */
	u32 out_prec;		/* DPU out precision */
	u32 core_prec;		/* CORE MISC_CFG proc precision */
	u32 core_qd_en;		/* CORE MISC_CFG qd_en */
	u32 ow_size_e;		/* BS_OW_CFG size_e_0/1/2 */
	u32 fp32tofp16;		/* OUT_CVT_SCALE fp32tofp16_en */
	u32 surf_add_mult;	/* SURFACE_ADD = rows * 16 * mult */
	u32 kernel_block;	/* N padding = weight block rows */
};

/* Plain numbers only: FIELD_PREP() is not usable in static initializers. */
static const struct rrc_combo rrc_combos[] = {
	{
		.in_type = ROCKET_MM_TYPE_INT8, .out_type = ROCKET_MM_TYPE_INT32,
		.in_prec = RRC_PREC_INT8, .out_prec = RRC_PREC_INT32,
		.core_prec = RRC_PREC_INT8, .core_qd_en = 0, .ow_size_e = 7,
		.fp32tofp16 = 0, .surf_add_mult = 8, .kernel_block = 32,
	},
	{
		.in_type = ROCKET_MM_TYPE_FP16, .out_type = ROCKET_MM_TYPE_FP32,
		.in_prec = RRC_PREC_FP16, .out_prec = RRC_PREC_FP32,
		.core_prec = RRC_PREC_FP16, .core_qd_en = 1, .ow_size_e = 3,
		.fp32tofp16 = 0, .surf_add_mult = 4, .kernel_block = 16,
	},
	{
		.in_type = ROCKET_MM_TYPE_FP16, .out_type = ROCKET_MM_TYPE_FP16,
		.in_prec = RRC_PREC_FP16, .out_prec = RRC_PREC_FP16,
		.core_prec = RRC_PREC_FP16, .core_qd_en = 1, .ow_size_e = 1,
		.fp32tofp16 = 1, .surf_add_mult = 2, .kernel_block = 16,
	},
};

static const struct rrc_combo *rrc_find_combo(const struct rocket_matmul_desc *d)
{
	unsigned int i;

	if (d->weight_type != d->in_type)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(rrc_combos); i++)
		if (rrc_combos[i].in_type == d->in_type &&
		    rrc_combos[i].out_type == d->out_type)
			return &rrc_combos[i];
	return NULL;
}

/* @addr + @bytes must stay inside the 32-bit NPU address space. */
static int rrc_check_extent(u64 addr, u64 bytes)
{
	u64 end;

	if (check_add_overflow(addr, bytes, &end) || end > RRC_ADDR_LIMIT)
		return -EOVERFLOW;
	return 0;
}

static int rrc_plan(const struct rocket_matmul_desc *d,
		    struct rocket_matmul_plan *p, const struct rrc_combo **combop)
{
	const struct rrc_combo *c;
	u32 esz, osz, row_bytes, max_rows;
	u64 tasks, qwords;
	int ret;

	if (d->flags & ~ROCKET_MM_F_ALL)
		return -EINVAL;
	if (d->reserved || d->bias_dma || d->a_row_stride || d->c_row_stride)
		return -EINVAL;
	c = rrc_find_combo(d);
	if (!c)
		return -EINVAL;
	esz = rocket_mm_type_size(d->in_type);
	osz = rocket_mm_type_size(d->out_type);

	if (!d->m || !d->k || !d->n)
		return -EINVAL;
	if (d->m != 1 && d->m % 4)
		return -EINVAL;
	if (d->k % RRC_K_ALIGN || d->n % c->kernel_block)
		return -EINVAL;
	if (d->a_dma % RRC_ADDR_ALIGN || d->b_dma % RRC_ADDR_ALIGN ||
	    d->c_dma % RRC_ADDR_ALIGN)
		return -EINVAL;
	if ((d->flags & ROCKET_MM_F_CHAIN) &&
	    (!d->regcmd_dma || d->regcmd_dma % RRC_ADDR_ALIGN))
		return -EINVAL;

	/* One kernel (K elements) must fit one CBUF bank; no K tiling. */
	if ((u64)d->k * esz > ROCKET_MM_CBUF_BANK_BYTES)
		return -ERANGE;
	/* DATAIN_CHANNEL_REAL (K - 1) is 14 bits: K <= 16384 for int8 too. */
	if (d->k - 1 > FIELD_MAX(RRC_CNA_DATAIN_CHANNEL_REAL))
		return -ERANGE;
	row_bytes = d->k * esz;

	/* Extents of A, B, C in the 32-bit NPU address space. */
	p->a_bytes = (u64)d->m * row_bytes;
	p->b_bytes = (u64)d->n * row_bytes;
	if (check_mul_overflow((u64)d->m, (u64)d->n * osz, &p->c_bytes))
		return -EOVERFLOW;
	ret = rrc_check_extent(d->a_dma, p->a_bytes);
	if (!ret)
		ret = rrc_check_extent(d->b_dma, p->b_bytes);
	if (!ret)
		ret = rrc_check_extent(d->c_dma, p->c_bytes);
	if (ret)
		return ret;

	/* M tiles: the input tile must fit the data banks, rows+1 10 bits. */
	if (d->m == 1) {
		p->tile_rows = 1;
	} else {
		max_rows = ROCKET_MM_MAX_DATA_BANKS * ROCKET_MM_CBUF_BANK_BYTES /
			   row_bytes;
		if (max_rows > ROCKET_MM_MAX_TILE_ROWS)
			max_rows = ROCKET_MM_MAX_TILE_ROWS;
		max_rows &= ~3U;
		p->tile_rows = d->m < max_rows ? d->m : max_rows;
	}
	p->m_tiles = rrc_div_up(d->m, p->tile_rows);

	/* N tiles: DPU channel / WDMA fields are 13 bits wide. */
	p->tile_n = d->n < ROCKET_MM_MAX_TILE_N ? d->n : ROCKET_MM_MAX_TILE_N;
	p->n_tiles = rrc_div_up(d->n, p->tile_n);

	tasks = (u64)p->m_tiles * p->n_tiles;
	if (tasks > ROCKET_MM_MAX_TASKS)
		return -E2BIG;
	p->tasks = (u32)tasks;
	qwords = (tasks - 1) * ROCKET_MM_TASK_STRIDE_QWORDS +
		 ROCKET_MM_TASK_REGS + ROCKET_MM_TRAILER_QWORDS;
	p->qwords = (u32)qwords;

	if (d->flags & ROCKET_MM_F_CHAIN) {
		ret = rrc_check_extent(d->regcmd_dma, qwords * 8);
		if (ret)
			return ret;
	}
	if (combop)
		*combop = c;
	return 0;
}

int rocket_matmul_plan(const struct rocket_matmul_desc *d,
		       struct rocket_matmul_plan *plan)
{
	struct rocket_matmul_plan p = { 0 };
	int ret;

	if (!d)
		return -EINVAL;
	ret = rrc_plan(d, &p, NULL);
	if (!ret && plan)
		*plan = p;
	return ret;
}

int rocket_matmul_size(const struct rocket_matmul_desc *d)
{
	struct rocket_matmul_plan p;
	int ret = rocket_matmul_plan(d, &p);

	return ret ? ret : (int)p.qwords;
}

int rocket_matmul_tile_rows(const struct rocket_matmul_desc *d)
{
	struct rocket_matmul_plan p;
	int ret = rocket_matmul_plan(d, &p);

	return ret ? ret : (int)p.tile_rows;
}

/* ---- emission ------------------------------------------------------------ */

struct rrc_out {
	u64 *p;
	int err;
};

static inline void rrc_w(struct rrc_out *o, u16 target, u16 reg, u32 val)
{
	*o->p++ = ((u64)target << 48) | ((u64)val << 16) | reg;
}

/*
 * Pack @val into the contiguous field @mask, recording -ERANGE in @o if it
 * does not fit. A function rather than FIELD_FIT() + FIELD_PREP() so that
 * @val is evaluated once; inlined with a constant @mask, the division and
 * multiplication by the field's lowest bit become shifts.
 */
static inline u32 rrc_field(struct rrc_out *o, u32 mask, u32 val)
{
	u32 lsb = mask & (~mask + 1);

	if (val > mask / lsb) {
		o->err = -ERANGE;
		return 0;
	}
	return val * lsb;
}

struct rrc_task_args {
	u32 rows;		/* M rows of this task */
	u32 cols;		/* N columns (kernels) of this task */
	u32 k;
	u32 esz;
	u64 a;			/* FEATURE_DATA_ADDR */
	u64 b;			/* DCOMP_ADDR0 (weights) */
	u64 c;			/* DST_BASE_ADDR */
};

/* The 104 register writes of one full task, in the mtx512 order. */
static void rrc_emit_task(struct rrc_out *o, const struct rrc_combo *c,
			  const struct rrc_task_args *t)
{
	u32 row_bytes = t->k * t->esz;
	u32 data_bank = rrc_div_up((u64)t->rows * row_bytes,
				   ROCKET_MM_CBUF_BANK_BYTES);
	u32 surf_stride, i;

	/*
	 * RRC_CNA_SURF_STRIDE: 4 * (rows / 4 - 1); for a single row the recipe
	 * gives -4, plus one, masked to the 28-bit field (0x0ffffffd).
	 */
	if (t->rows == 1)
		surf_stride = (u32)(-3) & RRC_CNA_SURF_STRIDE;
	else
		surf_stride = rrc_field(o, RRC_CNA_SURF_STRIDE,
					4 * (t->rows / 4 - 1));

	rrc_w(o, RRC_TGT_DPU, RRC_DPU_S_POINTER, RRC_DPU_S_POINTER_MATMUL);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CONV_CON1,
	      FIELD_PREP(RRC_CNA_PROC_PRECISION, c->in_prec) |
	      FIELD_PREP(RRC_CNA_IN_PRECISION, c->in_prec));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CONV_CON2,
	      rrc_field(o, RRC_CNA_FEATURE_GRAINS, t->rows + 1));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CONV_CON3,
	      FIELD_PREP(RRC_CNA_CONV_Y_STRIDE, 1) |
	      FIELD_PREP(RRC_CNA_CONV_X_STRIDE, 1));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DATA_SIZE0,
	      FIELD_PREP(RRC_CNA_DATAIN_WIDTH, 1) |
	      rrc_field(o, RRC_CNA_DATAIN_HEIGHT, t->rows));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DATA_SIZE1,
	      rrc_field(o, RRC_CNA_DATAIN_CHANNEL_REAL, t->k - 1) |
	      rrc_field(o, RRC_CNA_DATAIN_CHANNEL, t->k));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DATA_SIZE2,
	      FIELD_PREP(RRC_CNA_DATAOUT_WIDTH, 1));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DATA_SIZE3,
	      rrc_field(o, RRC_CNA_DATAOUT_ATOMICS, t->rows));
	/* cols * row_bytes <= 8192 * 32 KiB: always fits 32 bits. */
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_WEIGHT_SIZE0, t->cols * row_bytes);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_WEIGHT_SIZE1,
	      rrc_field(o, RRC_CNA_WEIGHT_BYTES_PER_KERNEL, row_bytes));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_WEIGHT_SIZE2,
	      FIELD_PREP(RRC_CNA_WEIGHT_WIDTH, 1) |
	      FIELD_PREP(RRC_CNA_WEIGHT_HEIGHT, 1) |
	      rrc_field(o, RRC_CNA_WEIGHT_KERNELS, t->cols));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CBUF_CON0,
	      rrc_field(o, RRC_CNA_WEIGHT_BANK,
			ROCKET_MM_CBUF_BANKS - data_bank) |
	      rrc_field(o, RRC_CNA_DATA_BANK, data_bank));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CBUF_CON1,
	      rrc_field(o, RRC_CNA_DATA_ENTRIES,
			rrc_div_up(row_bytes, RRC_DATA_ENTRY_BYTES)));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CVT_CON0,
	      RRC_CNA_DATA_SIGN | RRC_CNA_CVT_TYPE | RRC_CNA_CVT_BYPASS);
	for (i = 0; i < 4; i++)
		rrc_w(o, RRC_TGT_CNA, RRC_CNA_CVT_CON1 + 4 * i,
		      FIELD_PREP(RRC_CNA_CVT_SCALE, 1));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FC_CON0, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FC_CON1, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_PAD_CON0, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FEATURE_DATA_ADDR, (u32)t->a);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FC_CON2, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DMA_CON0,
	      FIELD_PREP(RRC_CNA_WEIGHT_BURST_LEN, 15) |
	      FIELD_PREP(RRC_CNA_DATA_BURST_LEN, 15));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DMA_CON1,
	      FIELD_PREP(RRC_CNA_LINE_STRIDE, 4));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DMA_CON2, surf_stride);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FC_DATA_SIZE0,
	      FIELD_PREP(RRC_CNA_DMA_WIDTH, 1) |
	      rrc_field(o, RRC_CNA_DMA_HEIGHT, t->rows));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_FC_DATA_SIZE1,
	      rrc_field(o, RRC_CNA_DMA_CHANNEL, t->k));
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DCOMP_CTRL, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DCOMP_REGNUM, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_DCOMP_ADDR0, (u32)t->b);
	for (i = 0; i < 16; i++)
		rrc_w(o, RRC_TGT_CNA, RRC_CNA_DCOMP_AMOUNT0 + 4 * i, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_CVT_CON5, 0);
	rrc_w(o, RRC_TGT_CNA, RRC_CNA_PAD_CON1, 0);

	rrc_w(o, RRC_TGT_CORE, RRC_CORE_MISC_CFG,
	      FIELD_PREP(RRC_CORE_PROC_PRECISION, c->core_prec) |
	      (c->core_qd_en ? RRC_CORE_QD_EN : 0));
	rrc_w(o, RRC_TGT_CORE, RRC_CORE_DATAOUT_SIZE_0,
	      rrc_field(o, RRC_CORE_DATAOUT_HEIGHT, t->rows - 1));
	rrc_w(o, RRC_TGT_CORE, RRC_CORE_DATAOUT_SIZE_1,
	      rrc_field(o, RRC_CORE_DATAOUT_CHANNEL, t->cols - 1));
	rrc_w(o, RRC_TGT_CORE, RRC_CORE_CLIP_TRUNCATE, 0);
	rrc_w(o, RRC_TGT_CORE, RRC_CORE_3030, 0);

	rrc_w(o, RRC_TGT_DPU, RRC_DPU_FEATURE_MODE_CFG,
	      FIELD_PREP(RRC_DPU_BURST_LEN, 15) |
	      FIELD_PREP(RRC_DPU_OUTPUT_MODE, 2));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DATA_FORMAT,
	      FIELD_PREP(RRC_DPU_OUT_PRECISION, c->out_prec) |
	      FIELD_PREP(RRC_DPU_IN_PRECISION, c->in_prec) |
	      FIELD_PREP(RRC_DPU_PROC_PRECISION, c->in_prec));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_OFFSET_PEND, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DST_BASE_ADDR, (u32)t->c);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DST_SURF_STRIDE,
	      rrc_field(o, RRC_DPU_DST_SURF_STRIDE_F, t->rows));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DATA_CUBE_WIDTH, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DATA_CUBE_HEIGHT,
	      rrc_field(o, RRC_DPU_CUBE_HEIGHT, t->rows - 1));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DATA_CUBE_NOTCH_ADDR, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_DATA_CUBE_CHANNEL,
	      rrc_field(o, RRC_DPU_CUBE_ORIG_CHANNEL, t->cols - 1) |
	      rrc_field(o, RRC_DPU_CUBE_CHANNEL, t->cols - 1));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_CFG, RRC_DPU_BS_ALL_BYPASS);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_ALU_CFG, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_MUL_CFG, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_RELUX_CMP_VALUE, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_OW_CFG,
	      FIELD_PREP(RRC_DPU_SIZE_E_2, c->ow_size_e) |
	      FIELD_PREP(RRC_DPU_SIZE_E_1, c->ow_size_e) |
	      FIELD_PREP(RRC_DPU_SIZE_E_0, c->ow_size_e) | RRC_DPU_OD_BYPASS);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BS_OW_OP, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_WDMA_SIZE_0,
	      rrc_field(o, RRC_DPU_CHANNEL_WDMA, t->cols - 1));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_WDMA_SIZE_1,
	      rrc_field(o, RRC_DPU_HEIGHT_WDMA, t->rows - 1));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BN_CFG, RRC_DPU_BN_ALL_BYPASS);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BN_ALU_CFG, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BN_MUL_CFG, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_BN_RELUX_CMP_VALUE, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_EW_CFG, RRC_DPU_EW_ALL_BYPASS);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_EW_CVT_OFFSET_VALUE, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_EW_CVT_SCALE_VALUE, 1);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_EW_RELUX_CMP_VALUE, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_OUT_CVT_OFFSET, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_OUT_CVT_SCALE,
	      FIELD_PREP(RRC_DPU_OUT_CVT_SCALE_F, 1) |
	      (c->fp32tofp16 ? RRC_DPU_FP32TOFP16_EN : 0));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_OUT_CVT_SHIFT, 0);
	for (i = 0; i < 8; i++)
		rrc_w(o, RRC_TGT_DPU, RRC_DPU_EW_OP_VALUE_0 + 4 * i, 0);
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_SURFACE_ADD,
	      rrc_field(o, RRC_DPU_SURF_ADD, t->rows * c->surf_add_mult));
	rrc_w(o, RRC_TGT_DPU, RRC_DPU_40C4, 0);
	for (i = RRC_DPU_LUT_FIRST; i <= RRC_DPU_LUT_LAST; i += 4)
		rrc_w(o, RRC_TGT_DPU, (u16)i, 0);
}

/*
 * Trailer: [next PC_BASE_ADDRESS or 0] [PC_REGISTER_AMOUNTS] [0x0041 marker]
 * [PC_OPERATION_ENABLE to all blocks].
 */
static void rrc_emit_trailer(struct rrc_out *o, u64 next_addr, u32 next_qwords)
{
	if (next_addr) {
		rrc_w(o, RRC_TGT_PC, RRC_PC_BASE_ADDRESS,
		      (u32)next_addr & RRC_PC_SOURCE_ADDR);
		rrc_w(o, RRC_TGT_PC, RRC_PC_REGISTER_AMOUNTS,
		      rrc_field(o, RRC_PC_DATA_AMOUNT,
				(next_qwords + 1) / 2 - 1));
	} else {
		*o->p++ = 0;
		rrc_w(o, RRC_TGT_PC, RRC_PC_REGISTER_AMOUNTS, 0);
	}
	rrc_w(o, RRC_TGT_PC_PRE_ENABLE, 0, 0);
	rrc_w(o, RRC_TGT_PC_ENABLE_ALL, RRC_PC_OPERATION_ENABLE,
	      RRC_PC_OP_ENABLE_MATMUL);
}

int rocket_matmul_emit(const struct rocket_matmul_desc *d, u64 *buf, u32 cap,
		       struct rocket_regcmd_task *tasks, u32 task_cap,
		       u32 *n_tasks)
{
	const u32 task_qwords = ROCKET_MM_TASK_REGS + ROCKET_MM_TRAILER_QWORDS;
	struct rocket_matmul_plan p = { 0 };
	const struct rrc_combo *c = NULL;
	struct rrc_task_args t;
	struct rrc_out o;
	u32 mi, ni, idx = 0, osz;
	int ret;

	if (!d)
		return -EINVAL;
	ret = rrc_plan(d, &p, &c);
	if (ret)
		return ret;
	if (!buf || cap < p.qwords)
		return -ENOSPC;
	if (tasks && task_cap < p.tasks)
		return -ENOSPC;

	o.p = buf;
	o.err = 0;
	t.k = d->k;
	t.esz = rocket_mm_type_size(d->in_type);
	osz = rocket_mm_type_size(d->out_type);

	for (mi = 0; mi < p.m_tiles; mi++) {
		u32 m0 = mi * p.tile_rows;

		t.rows = d->m - m0 < p.tile_rows ? d->m - m0 : p.tile_rows;
		/* Row tile mi is its own NC1HWC2 block right after tile mi-1. */
		t.a = d->a_dma + (u64)m0 * d->k * t.esz;
		for (ni = 0; ni < p.n_tiles; ni++, idx++) {
			u32 n0 = ni * p.tile_n;
			u64 start = (u64)idx * ROCKET_MM_TASK_STRIDE_QWORDS;
			u64 next = 0;

			t.cols = d->n - n0 < p.tile_n ? d->n - n0 : p.tile_n;
			t.b = d->b_dma + (u64)n0 * d->k * t.esz;
			/* Columns n0.. are C2-planes n0/C2.. of the block. */
			t.c = d->c_dma + (u64)m0 * d->n * osz +
			      (u64)n0 * t.rows * osz;

			o.p = buf + start;
			rrc_emit_task(&o, c, &t);
			if ((d->flags & ROCKET_MM_F_CHAIN) && idx + 1 < p.tasks)
				next = d->regcmd_dma +
				       (start + ROCKET_MM_TASK_STRIDE_QWORDS) * 8;
			rrc_emit_trailer(&o, next, task_qwords);
			/* Zero the alignment gap up to the next task. */
			if (idx + 1 < p.tasks)
				while (o.p < buf + start +
					     ROCKET_MM_TASK_STRIDE_QWORDS)
					*o.p++ = 0;

			if (tasks) {
				tasks[idx].offset = (u32)start;
				tasks[idx].reg_count = ROCKET_MM_TASK_REGS;
				tasks[idx].qwords = task_qwords;
				tasks[idx].amounts = (task_qwords + 1) / 2 - 1;
				tasks[idx].m0 = m0;
				tasks[idx].rows = t.rows;
				tasks[idx].n0 = n0;
				tasks[idx].cols = t.cols;
			}
		}
	}
	if (o.err)
		return o.err;
	if (n_tasks)
		*n_tasks = p.tasks;
	return (int)p.qwords;
}
