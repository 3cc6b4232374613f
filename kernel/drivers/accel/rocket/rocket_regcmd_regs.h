/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RK3588 NPU registers used by the matmul regcmd generator (rocket_regcmd.c).
 *
 * Only what the generator writes is defined here, named RRC_* so it cannot
 * clash with the generated rocket_registers.h. Offsets are byte offsets in
 * one NPU core's MMIO window; field positions follow Mesa's registers.xml
 * as summarised in docs/npu-generator.md ("Register reference"). Every
 * field the generator fills with a computed value has an explicit mask so
 * rocket_regcmd.c can check the value fits before packing it.
 */
#ifndef __ROCKET_REGCMD_REGS_H__
#define __ROCKET_REGCMD_REGS_H__

#include <linux/bits.h>

/* ---- regcmd qword: target[63:48] | value[47:16] | offset[15:0] ---------- */
#define RRC_QW_TARGET			GENMASK_ULL(63, 48)
#define RRC_QW_VALUE			GENMASK_ULL(47, 16)
#define RRC_QW_OFFSET			GENMASK_ULL(15, 0)

/* Targets: block id | 1 ("write register"). */
#define RRC_TGT_PC			0x0101
#define RRC_TGT_CNA			0x0201
#define RRC_TGT_CORE			0x0801
#define RRC_TGT_DPU			0x1001
/* Trailer-only targets. */
#define RRC_TGT_PC_PRE_ENABLE		0x0041	/* must precede the enable */
#define RRC_TGT_PC_ENABLE_ALL		0x0081	/* op enable to every block */

/* ---- PC (0x0000) ------------------------------------------------------- */
#define RRC_PC_OPERATION_ENABLE		0x0008
#define   RRC_PC_OP_EN			BIT(0)
#define   RRC_PC_OP_ENABLE_MATMUL	0x0d	/* op_en, conv and DPU (mtx512) */
#define RRC_PC_BASE_ADDRESS		0x0010
#define   RRC_PC_SOURCE_ADDR		GENMASK(31, 4)
#define RRC_PC_REGISTER_AMOUNTS		0x0014
#define   RRC_PC_DATA_AMOUNT		GENMASK(15, 0)

/* ---- CNA_*: convolution (0x1000) -------------------------------------- */
#define RRC_CNA_CONV_CON1		0x100c
#define   RRC_CNA_PROC_PRECISION	GENMASK(9, 7)
#define   RRC_CNA_IN_PRECISION		GENMASK(6, 4)
#define   RRC_CNA_CONV_MODE		GENMASK(3, 0)	/* 0 = direct */
#define RRC_CNA_CONV_CON2		0x1010
#define   RRC_CNA_KERNEL_GROUP		GENMASK(23, 16)
#define   RRC_CNA_FEATURE_GRAINS	GENMASK(13, 4)
#define RRC_CNA_CONV_CON3		0x1014
#define   RRC_CNA_CONV_Y_STRIDE		GENMASK(5, 3)
#define   RRC_CNA_CONV_X_STRIDE		GENMASK(2, 0)
#define RRC_CNA_DATA_SIZE0		0x1020
#define   RRC_CNA_DATAIN_WIDTH		GENMASK(26, 16)
#define   RRC_CNA_DATAIN_HEIGHT		GENMASK(10, 0)
#define RRC_CNA_DATA_SIZE1		0x1024
#define   RRC_CNA_DATAIN_CHANNEL_REAL	GENMASK(29, 16)
#define   RRC_CNA_DATAIN_CHANNEL	GENMASK(15, 0)
#define RRC_CNA_DATA_SIZE2		0x1028
#define   RRC_CNA_DATAOUT_WIDTH		GENMASK(10, 0)
#define RRC_CNA_DATA_SIZE3		0x102c
#define   RRC_CNA_DATAOUT_ATOMICS	GENMASK(21, 0)
#define RRC_CNA_WEIGHT_SIZE0		0x1030	/* total weight bytes, 32 bit */
#define RRC_CNA_WEIGHT_SIZE1		0x1034
#define   RRC_CNA_WEIGHT_BYTES_PER_KERNEL GENMASK(18, 0)
#define RRC_CNA_WEIGHT_SIZE2		0x1038
#define   RRC_CNA_WEIGHT_WIDTH		GENMASK(28, 24)
#define   RRC_CNA_WEIGHT_HEIGHT		GENMASK(20, 16)
#define   RRC_CNA_WEIGHT_KERNELS	GENMASK(13, 0)
#define RRC_CNA_CBUF_CON0		0x1040
#define   RRC_CNA_WEIGHT_REUSE		BIT(13)
#define   RRC_CNA_DATA_REUSE		BIT(12)
#define   RRC_CNA_WEIGHT_BANK		GENMASK(7, 4)
#define   RRC_CNA_DATA_BANK		GENMASK(3, 0)
#define RRC_CNA_CBUF_CON1		0x1044
#define   RRC_CNA_DATA_ENTRIES		GENMASK(12, 0)
#define RRC_CNA_CVT_CON0		0x104c
#define   RRC_CNA_DATA_SIGN		BIT(3)
#define   RRC_CNA_CVT_TYPE		BIT(1)
#define   RRC_CNA_CVT_BYPASS		BIT(0)
#define RRC_CNA_CVT_CON1		0x1050	/* .. CVT_CON4 at 0x105c */
#define   RRC_CNA_CVT_SCALE		GENMASK(31, 16)
#define RRC_CNA_FC_CON0			0x1060
#define RRC_CNA_FC_CON1			0x1064
#define RRC_CNA_PAD_CON0		0x1068
#define RRC_CNA_FEATURE_DATA_ADDR	0x1070
#define RRC_CNA_FC_CON2			0x1074
#define RRC_CNA_DMA_CON0		0x1078
#define   RRC_CNA_WEIGHT_BURST_LEN	GENMASK(19, 16)
#define   RRC_CNA_DATA_BURST_LEN	GENMASK(3, 0)
#define RRC_CNA_DMA_CON1		0x107c
#define   RRC_CNA_LINE_STRIDE		GENMASK(27, 0)
#define RRC_CNA_DMA_CON2		0x1080
#define   RRC_CNA_SURF_STRIDE		GENMASK(27, 0)
#define RRC_CNA_FC_DATA_SIZE0		0x1084
#define   RRC_CNA_DMA_WIDTH		GENMASK(26, 16)
#define   RRC_CNA_DMA_HEIGHT		GENMASK(10, 0)
#define RRC_CNA_FC_DATA_SIZE1		0x1088
#define   RRC_CNA_DMA_CHANNEL		GENMASK(15, 0)
#define RRC_CNA_DCOMP_CTRL		0x1100
#define RRC_CNA_DCOMP_REGNUM		0x1104
#define RRC_CNA_DCOMP_ADDR0		0x1110	/* weight address, no decomp */
#define RRC_CNA_DCOMP_AMOUNT0		0x1140	/* .. AMOUNT15 at 0x117c */
#define RRC_CNA_CVT_CON5		0x1180
#define RRC_CNA_PAD_CON1		0x1184

/* ---- CORE (0x3000) ----------------------------------------------------- */
#define RRC_CORE_MISC_CFG		0x3010
#define   RRC_CORE_PROC_PRECISION	GENMASK(10, 8)
#define   RRC_CORE_QD_EN		BIT(0)
#define RRC_CORE_DATAOUT_SIZE_0		0x3014
#define   RRC_CORE_DATAOUT_HEIGHT	GENMASK(31, 16)
#define   RRC_CORE_DATAOUT_WIDTH	GENMASK(15, 0)
#define RRC_CORE_DATAOUT_SIZE_1		0x3018
#define   RRC_CORE_DATAOUT_CHANNEL	GENMASK(15, 0)
#define RRC_CORE_CLIP_TRUNCATE		0x301c
#define RRC_CORE_3030			0x3030	/* undocumented, written as 0 */

/* ---- DPU (0x4000) ------------------------------------------------------ */
#define RRC_DPU_S_POINTER		0x4004
#define   RRC_DPU_S_POINTER_MATMUL	0x0e	/* pp_mode|exec_pp_en|pp_en */
#define RRC_DPU_FEATURE_MODE_CFG	0x400c
#define   RRC_DPU_BURST_LEN		GENMASK(8, 5)
#define   RRC_DPU_CONV_MODE		GENMASK(4, 3)
#define   RRC_DPU_OUTPUT_MODE		GENMASK(2, 1)
#define   RRC_DPU_FLYING_MODE		BIT(0)
#define RRC_DPU_DATA_FORMAT		0x4010
#define   RRC_DPU_OUT_PRECISION		GENMASK(31, 29)
#define   RRC_DPU_IN_PRECISION		GENMASK(28, 26)
#define   RRC_DPU_PROC_PRECISION	GENMASK(2, 0)
#define RRC_DPU_OFFSET_PEND		0x4014
#define RRC_DPU_DST_BASE_ADDR		0x4020
#define RRC_DPU_DST_SURF_STRIDE		0x4024
#define   RRC_DPU_DST_SURF_STRIDE_F	GENMASK(31, 4)
#define RRC_DPU_DATA_CUBE_WIDTH		0x4030
#define   RRC_DPU_CUBE_WIDTH		GENMASK(12, 0)
#define RRC_DPU_DATA_CUBE_HEIGHT	0x4034
#define   RRC_DPU_CUBE_HEIGHT		GENMASK(12, 0)
#define RRC_DPU_DATA_CUBE_NOTCH_ADDR	0x4038
#define RRC_DPU_DATA_CUBE_CHANNEL	0x403c
#define   RRC_DPU_CUBE_ORIG_CHANNEL	GENMASK(28, 16)
#define   RRC_DPU_CUBE_CHANNEL		GENMASK(12, 0)
#define RRC_DPU_BS_CFG			0x4040
#define   RRC_DPU_BS_ALL_BYPASS		0x53	/* relu,mul,alu,bs bypass */
#define RRC_DPU_BS_ALU_CFG		0x4044
#define RRC_DPU_BS_MUL_CFG		0x4048
#define RRC_DPU_BS_RELUX_CMP_VALUE	0x404c
#define RRC_DPU_BS_OW_CFG		0x4050
#define   RRC_DPU_SIZE_E_2		GENMASK(10, 8)
#define   RRC_DPU_SIZE_E_1		GENMASK(7, 5)
#define   RRC_DPU_SIZE_E_0		GENMASK(4, 2)
#define   RRC_DPU_OD_BYPASS		BIT(1)
#define RRC_DPU_BS_OW_OP		0x4054
#define RRC_DPU_WDMA_SIZE_0		0x4058
#define   RRC_DPU_CHANNEL_WDMA		GENMASK(12, 0)
#define RRC_DPU_WDMA_SIZE_1		0x405c
#define   RRC_DPU_HEIGHT_WDMA		GENMASK(28, 16)
#define   RRC_DPU_WIDTH_WDMA		GENMASK(12, 0)
#define RRC_DPU_BN_CFG			0x4060
#define   RRC_DPU_BN_ALL_BYPASS		0x53
#define RRC_DPU_BN_ALU_CFG		0x4064
#define RRC_DPU_BN_MUL_CFG		0x4068
#define RRC_DPU_BN_RELUX_CMP_VALUE	0x406c
#define RRC_DPU_EW_CFG			0x4070
#define   RRC_DPU_EW_ALL_BYPASS		0x383	/* relu,op_cvt,lut,op,ew */
#define RRC_DPU_EW_CVT_OFFSET_VALUE	0x4074
#define RRC_DPU_EW_CVT_SCALE_VALUE	0x4078
#define RRC_DPU_EW_RELUX_CMP_VALUE	0x407c
#define RRC_DPU_OUT_CVT_OFFSET		0x4080
#define RRC_DPU_OUT_CVT_SCALE		0x4084
#define   RRC_DPU_FP32TOFP16_EN		BIT(16)
#define   RRC_DPU_OUT_CVT_SCALE_F	GENMASK(15, 0)
#define RRC_DPU_OUT_CVT_SHIFT		0x4088
#define RRC_DPU_EW_OP_VALUE_0		0x4090	/* .. VALUE_7 at 0x40ac */
#define RRC_DPU_SURFACE_ADD		0x40c0
#define   RRC_DPU_SURF_ADD		GENMASK(31, 4)
#define RRC_DPU_40C4			0x40c4	/* undocumented, written as 0 */
#define RRC_DPU_LUT_FIRST		0x4100	/* LUT_* 0x4100..0x412c, all 0 */
#define RRC_DPU_LUT_LAST		0x412c

/* Precision codes (CNA_*, CORE_*, DPU_* precision fields). */
#define RRC_PREC_INT8			0
#define RRC_PREC_FP16			2
#define RRC_PREC_INT32			4
#define RRC_PREC_FP32			5

#endif /* __ROCKET_REGCMD_REGS_H__ */
