// SPDX-License-Identifier: MIT
/*
 * Register table of the NPU model: every register the simulator accepts in a
 * regcmd stream, with its owning block and what it models. A register not in
 * this table is an error (NPU_SIM_E_REG). Names follow the TRM names used by
 * mtx512/rk3588-npu include/npu_hw.h and Mesa registers.xml; the values checked
 * are those of docs/npu-facts.md section 4 (the checks live in npu_sim.c).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "npu_sim.h"
#include "npu_sim_int.h"

#define CNA 0x0201
#define CORE 0x0801
#define DPU 0x1001

static const struct npu_sim_reg_info regs[] = {
	/* CNA: feature/weight fetch, conv setup */
	{ CNA, 0x100C, "CNA_CONV_CON1", "CONV_MODE[3:0]=0 (direct); IN_PRECISION[6:4]=PROC_PRECISION[9:7] in {0 int8, 2 fp16}; GROUP_LINE_OFF bit29 = 0 (NC1HWC2 recipe) / 1 (row-major recipe); other bits 0" },
	{ CNA, 0x1010, "CNA_CONV_CON2", "FEATURE_GRAINS[13:4] = M+1, or M / floor(1040/DATA_ENTRIES) as in vendor streams ([INF]); KERNEL_GROUP[23:16]=0; other bits 0" },
	{ CNA, 0x1014, "CNA_CONV_CON3", "CONV_X_STRIDE[2:0]=1, CONV_Y_STRIDE[5:3]=1; other bits 0 (= 0x9)" },
	{ CNA, 0x1020, "CNA_DATA_SIZE0", "DATAIN_WIDTH[26:16]=1, DATAIN_HEIGHT[10:0]=M (1..2047)" },
	{ CNA, 0x1024, "CNA_DATA_SIZE1", "DATAIN_CHANNEL[15:0]=K (K%32==0), DATAIN_CHANNEL_REAL[29:16]=K-1" },
	{ CNA, 0x1028, "CNA_DATA_SIZE2", "DATAOUT_WIDTH=1" },
	{ CNA, 0x102C, "CNA_DATA_SIZE3", "DATAOUT_ATOMICS=M (W*H)" },
	{ CNA, 0x1030, "CNA_WEIGHT_SIZE0", "WEIGHT_BYTES=K*N*esz" },
	{ CNA, 0x1034, "CNA_WEIGHT_SIZE1", "WEIGHT_BYTES_PER_KERNEL=K*esz (<=32768)" },
	{ CNA, 0x1038, "CNA_WEIGHT_SIZE2", "WEIGHT_WIDTH[28:24]=1, WEIGHT_HEIGHT[20:16]=1, WEIGHT_KERNELS[13:0]=N (N%16 fp16, N%32 int8)" },
	{ CNA, 0x1040, "CNA_CBUF_CON0", "DATA_BANK[3:0]+WEIGHT_BANK[7:4]=12, both>=1; DATA_REUSE bit12=0; WEIGHT_REUSE bit13 (weights kept from the previous task); M*K*esz <= DATA_BANK*32KiB" },
	{ CNA, 0x1044, "CNA_CBUF_CON1", "DATA_ENTRIES[12:0]=ceil(K*esz/64)" },
	{ CNA, 0x104C, "CNA_CVT_CON0", "=0xb (DATA_SIGN, CVT_TYPE, CVT_BYPASS)" },
	{ CNA, 0x1050, "CNA_CVT_CON1", "=0x10000 (CVT_SCALE0=1)" },
	{ CNA, 0x1054, "CNA_CVT_CON2", "=0x10000 (CVT_SCALE1=1)" },
	{ CNA, 0x1058, "CNA_CVT_CON3", "=0x10000 (CVT_SCALE2=1)" },
	{ CNA, 0x105C, "CNA_CVT_CON4", "=0x10000 (CVT_SCALE3=1)" },
	{ CNA, 0x1060, "CNA_FC_CON0", "=0" },
	{ CNA, 0x1064, "CNA_FC_CON1", "=0" },
	{ CNA, 0x1068, "CNA_PAD_CON0", "=0 (no padding)" },
	{ CNA, 0x1070, "CNA_FEATURE_DATA_ADDR", "input DMA address (16-byte aligned)" },
	{ CNA, 0x1074, "CNA_FC_CON2", "=0" },
	{ CNA, 0x1078, "CNA_DMA_CON0", "=0xf000f (WEIGHT_BURST_LEN=15, DATA_BURST_LEN=15)" },
	{ CNA, 0x107C, "CNA_DMA_CON1", "LINE_STRIDE[27:0] = 4 (NC1HWC2) / K*esz/16 (row-major)" },
	{ CNA, 0x1080, "CNA_DMA_CON2", "SURF_STRIDE[27:0] = 4*(M/4-1), M=1: 0xffffffd (NC1HWC2; M==1 or M%4==0) / 0 (row-major)" },
	{ CNA, 0x1084, "CNA_FC_DATA_SIZE0", "DMA_WIDTH[26:16]=1, DMA_HEIGHT[10:0]=M" },
	{ CNA, 0x1088, "CNA_FC_DATA_SIZE1", "DMA_CHANNEL[15:0]=K" },
	{ CNA, 0x1100, "CNA_DCOMP_CTRL", "=0 (weight decompression off)" },
	{ CNA, 0x1104, "CNA_DCOMP_REGNUM", "=0" },
	{ CNA, 0x1110, "CNA_DCOMP_ADDR0", "weight DMA address (16-byte aligned)" },
	{ CNA, 0x1140, "CNA_DCOMP_AMOUNT0", "=0" },
	{ CNA, 0x1144, "CNA_DCOMP_AMOUNT1", "=0" },
	{ CNA, 0x1148, "CNA_DCOMP_AMOUNT2", "=0" },
	{ CNA, 0x114C, "CNA_DCOMP_AMOUNT3", "=0" },
	{ CNA, 0x1150, "CNA_DCOMP_AMOUNT4", "=0" },
	{ CNA, 0x1154, "CNA_DCOMP_AMOUNT5", "=0" },
	{ CNA, 0x1158, "CNA_DCOMP_AMOUNT6", "=0" },
	{ CNA, 0x115C, "CNA_DCOMP_AMOUNT7", "=0" },
	{ CNA, 0x1160, "CNA_DCOMP_AMOUNT8", "=0" },
	{ CNA, 0x1164, "CNA_DCOMP_AMOUNT9", "=0" },
	{ CNA, 0x1168, "CNA_DCOMP_AMOUNT10", "=0" },
	{ CNA, 0x116C, "CNA_DCOMP_AMOUNT11", "=0" },
	{ CNA, 0x1170, "CNA_DCOMP_AMOUNT12", "=0" },
	{ CNA, 0x1174, "CNA_DCOMP_AMOUNT13", "=0" },
	{ CNA, 0x1178, "CNA_DCOMP_AMOUNT14", "=0" },
	{ CNA, 0x117C, "CNA_DCOMP_AMOUNT15", "=0" },
	{ CNA, 0x1180, "CNA_CVT_CON5", "=0" },
	{ CNA, 0x1184, "CNA_PAD_CON1", "=0" },
	/* CORE: MAC array */
	{ CORE, 0x3010, "CORE_MISC_CFG", "PROC_PRECISION[10:8]=in precision; QD_EN bit0: int8 0 or 1, fp16 1 (0x201); other bits 0" },
	{ CORE, 0x3014, "CORE_DATAOUT_SIZE_0", "DATAOUT_HEIGHT[31:16]=M-1, DATAOUT_WIDTH[15:0]=0" },
	{ CORE, 0x3018, "CORE_DATAOUT_SIZE_1", "DATAOUT_CHANNEL[12:0]=N-1" },
	{ CORE, 0x301C, "CORE_CLIP_TRUNCATE", "=0" },
	{ CORE, 0x3030, "CORE_3030", "=0 (undocumented)" },
	/* DPU: write-out, post-ops all bypassed */
	{ DPU, 0x4004, "DPU_S_POINTER", "=0xe (POINTER_PP_MODE, EXECUTER_PP_EN, POINTER_PP_EN)" },
	{ DPU, 0x400C, "DPU_FEATURE_MODE_CFG", "=0x1e4 (BURST_LEN=15, CONV_MODE=0, OUTPUT_MODE=2, FLYING_MODE=0)" },
	{ DPU, 0x4010, "DPU_DATA_FORMAT", "OUT_PRECISION[31:29], IN_PRECISION[28:26], PROC_PRECISION[2:0]: 0x80000000 int8->int32, 0xa8000002 fp16->fp32, 0x48000002 fp16->fp16" },
	{ DPU, 0x4014, "DPU_OFFSET_PEND", "=0" },
	{ DPU, 0x4020, "DPU_DST_BASE_ADDR", "output DMA address (16-byte aligned)" },
	{ DPU, 0x4024, "DPU_DST_SURF_STRIDE", "DST_SURF_STRIDE[31:4] = M (NC1HWC2) / 1 (row-major); bits 3:0 = 0" },
	{ DPU, 0x4030, "DPU_DATA_CUBE_WIDTH", "=0 (W-1)" },
	{ DPU, 0x4034, "DPU_DATA_CUBE_HEIGHT", "=M-1" },
	{ DPU, 0x4038, "DPU_DATA_CUBE_NOTCH_ADDR", "NOTCH_ADDR_0[12:0], NOTCH_ADDR_1[28:16]: both 0 (NC1HWC2) / both N/4-1 (row-major)" },
	{ DPU, 0x403C, "DPU_DATA_CUBE_CHANNEL", "ORIG_CHANNEL[28:16]=N-1, CHANNEL[12:0]=N-1" },
	{ DPU, 0x4040, "DPU_BS_CFG", "=0x53 (BS, ALU, MUL, RELU bypass)" },
	{ DPU, 0x4044, "DPU_BS_ALU_CFG", "=0" },
	{ DPU, 0x4048, "DPU_BS_MUL_CFG", "=0" },
	{ DPU, 0x404C, "DPU_BS_RELUX_CMP_VALUE", "=0" },
	{ DPU, 0x4050, "DPU_BS_OW_CFG", "int8->int32 0x7fe or 0x7fc; fp16->fp32 0x36e; fp16->fp16 0x126" },
	{ DPU, 0x4054, "DPU_BS_OW_OP", "=0" },
	{ DPU, 0x4058, "DPU_WDMA_SIZE_0", "CHANNEL_WDMA[12:0]=N-1" },
	{ DPU, 0x405C, "DPU_WDMA_SIZE_1", "HEIGHT_WDMA[28:16]=M-1, WIDTH_WDMA[12:0]=0" },
	{ DPU, 0x4060, "DPU_BN_CFG", "=0x53 (all bypass)" },
	{ DPU, 0x4064, "DPU_BN_ALU_CFG", "=0" },
	{ DPU, 0x4068, "DPU_BN_MUL_CFG", "=0" },
	{ DPU, 0x406C, "DPU_BN_RELUX_CMP_VALUE", "=0" },
	{ DPU, 0x4070, "DPU_EW_CFG", "=0x383 (EW, OP, LUT, OP_CVT, RELU bypass)" },
	{ DPU, 0x4074, "DPU_EW_CVT_OFFSET_VALUE", "=0" },
	{ DPU, 0x4078, "DPU_EW_CVT_SCALE_VALUE", "=1" },
	{ DPU, 0x407C, "DPU_EW_RELUX_CMP_VALUE", "=0" },
	{ DPU, 0x4080, "DPU_OUT_CVT_OFFSET", "=0" },
	{ DPU, 0x4084, "DPU_OUT_CVT_SCALE", "OUT_CVT_SCALE[15:0]=1; FP32TOFP16_EN bit16 = 1 iff fp16 output; other bits 0" },
	{ DPU, 0x4088, "DPU_OUT_CVT_SHIFT", "=0" },
	{ DPU, 0x4090, "DPU_EW_OP_VALUE_0", "=0" },
	{ DPU, 0x4094, "DPU_EW_OP_VALUE_1", "=0" },
	{ DPU, 0x4098, "DPU_EW_OP_VALUE_2", "=0" },
	{ DPU, 0x409C, "DPU_EW_OP_VALUE_3", "=0" },
	{ DPU, 0x40A0, "DPU_EW_OP_VALUE_4", "=0" },
	{ DPU, 0x40A4, "DPU_EW_OP_VALUE_5", "=0" },
	{ DPU, 0x40A8, "DPU_EW_OP_VALUE_6", "=0" },
	{ DPU, 0x40AC, "DPU_EW_OP_VALUE_7", "=0" },
	{ DPU, 0x40C0, "DPU_SURFACE_ADD", "SURF_ADD[31:4] = DST_SURF_STRIDE field * (4 fp32, 8 int32, 2 fp16); bits 3:0 = 0" },
	{ DPU, 0x40C4, "DPU_40C4", "=0 (undocumented)" },
	{ DPU, 0x4100, "DPU_LUT_ACCESS_CFG", "=0" },
	{ DPU, 0x4104, "DPU_LUT_ACCESS_DATA", "=0" },
	{ DPU, 0x4108, "DPU_LUT_CFG", "=0" },
	{ DPU, 0x410C, "DPU_LUT_INFO", "=0" },
	{ DPU, 0x4110, "DPU_LUT_LE_START", "=0" },
	{ DPU, 0x4114, "DPU_LUT_LE_END", "=0" },
	{ DPU, 0x4118, "DPU_LUT_LO_START", "=0" },
	{ DPU, 0x411C, "DPU_LUT_LO_END", "=0" },
	{ DPU, 0x4120, "DPU_LUT_LE_SLOPE_SCALE", "=0" },
	{ DPU, 0x4124, "DPU_LUT_LE_SLOPE_SHIFT", "=0" },
	{ DPU, 0x4128, "DPU_LUT_LO_SLOPE_SCALE", "=0" },
	{ DPU, 0x412C, "DPU_LUT_LO_SLOPE_SHIFT", "=0" },
};

_Static_assert(sizeof(regs) / sizeof(regs[0]) == NPU_SIM_NREGS, "NPU_SIM_NREGS out of date");

size_t npu_sim_reg_count(void)
{
	return sizeof(regs) / sizeof(regs[0]);
}

const struct npu_sim_reg_info *npu_sim_reg_get(size_t i)
{
	return i < npu_sim_reg_count() ? &regs[i] : NULL;
}

/*
 * Offset -> table index, one lookup per register write the simulator decodes
 * (a bisection showed in the emulated device's profile). Registers are 32-bit
 * words, so the map is by word: 16 Ki entries, built once.
 */
static int8_t reg_index[0x10000 / 4];
static uint8_t reg_plain[NPU_SIM_NREGS];	/* its block has its target and is modelled */
static pthread_once_t reg_index_once = PTHREAD_ONCE_INIT;

_Static_assert(NPU_SIM_NREGS <= 127, "reg_index entries are int8_t");

static void reg_index_build(void)
{
	memset(reg_index, -1, sizeof(reg_index));
	for (size_t i = 0; i < npu_sim_reg_count(); i++) {
		const struct npu_sim_block *b = npu_sim_block_of_offset(regs[i].offset);

		reg_index[regs[i].offset / 4] = (int8_t)i;
		reg_plain[i] = b && b->target == regs[i].target && b->modelled &&
			       npu_sim_target_name(regs[i].target);
	}
}

int npu_sim_reg_find(uint16_t offset)
{
	if (offset % 4)
		return -1;
	pthread_once(&reg_index_once, reg_index_build);
	return reg_index[offset / 4];
}

int npu_sim_reg_find_plain(uint16_t target, uint16_t offset)
{
	int i = npu_sim_reg_find(offset);

	return i >= 0 && reg_plain[i] && regs[i].target == target ? i : -1;
}

/* Block owning an MMIO offset (docs/npu-facts.md section 1). */
const struct npu_sim_block *npu_sim_block_of_offset(uint16_t offset)
{
	static const struct npu_sim_block blocks[] = {
		{ 0x0101, 0x0000, 0x00FF, "PC", 0 },
		{ 0x0201, 0x1000, 0x11FF, "CNA", 1 },
		{ 0x0801, 0x3000, 0x30FF, "CORE", 1 },
		{ 0x1001, 0x4000, 0x41FF, "DPU", 1 },
		{ 0x2001, 0x5000, 0x50FF, "DPU_RDMA", 0 },
		{ 0x4001, 0x6000, 0x60FF, "PPU", 0 },
		{ 0x8001, 0x7000, 0x70FF, "PPU_RDMA", 0 },
	};
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (offset >= blocks[i].lo && offset <= blocks[i].hi)
			return &blocks[i];
	return NULL;
}

const char *npu_sim_target_name(uint16_t target)
{
	switch (target) {
	case 0x0101: return "PC";
	case 0x0201: return "CNA";
	case 0x0801: return "CORE";
	case 0x1001: return "DPU";
	case 0x2001: return "DPU_RDMA";
	case 0x4001: return "PPU";
	case 0x8001: return "PPU_RDMA";
	case 0x0041: return "PC_MARKER(0x0041)";
	case 0x0081: return "PC_OP_ENABLE(0x0081)";
	default: return NULL;
	}
}
