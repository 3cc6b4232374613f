/* SPDX-License-Identifier: MIT */
/*
 * Strict functional model of the RK3588 NPU for matmul-as-1x1-convolution
 * register-command (regcmd) streams. See docs/npu-model.md.
 *
 * The simulator is an independent model of the hardware: it knows the regcmd
 * encoding, the register table and the two proven data-layout recipes
 * (docs/npu-facts.md), never the generator. Everything it does not model is an
 * error (struct npu_sim_error), never silently ignored, never abort().
 */
#ifndef ROSENBLATT_NPU_SIM_H
#define ROSENBLATT_NPU_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Error codes (struct npu_sim_error.code). */
enum npu_sim_code {
	NPU_SIM_OK = 0,
	NPU_SIM_E_ARG,		/* bad API argument (overlapping map, NULL, ...) */
	NPU_SIM_E_NOMEM,
	NPU_SIM_E_DMA,		/* access outside every mapped buffer / misaligned */
	NPU_SIM_E_DECODE,	/* qword not decodable: unknown target, unmodelled block */
	NPU_SIM_E_TARGET,	/* target does not own the register offset */
	NPU_SIM_E_REG,		/* register offset not in the modelled table */
	NPU_SIM_E_FIELD,	/* a field value outside what is modelled */
	NPU_SIM_E_CONSIST,	/* CNA/CORE/DPU registers disagree with each other */
	NPU_SIM_E_UNSET,	/* a modelled register was never written since reset */
	NPU_SIM_E_TRAILER,	/* task trailer (PC words, 0x0041, op-enable) malformed */
	NPU_SIM_E_CHAIN,	/* PC chain: bad next address / amount, too many tasks */
};

const char *npu_sim_code_name(int code);

struct npu_sim_error {
	int code;		/* enum npu_sim_code */
	int task;		/* task index in the run, -1 if not applicable */
	long qword;		/* qword index from the start of its buffer, -1 if none */
	long task_qword;	/* qword index inside its task, -1 if none */
	uint64_t qword_addr;	/* DMA address of that qword */
	uint64_t raw;		/* the raw qword */
	char reg[40];		/* register name, e.g. "CNA_DMA_CON2" ("" if none) */
	char field[40];		/* field name, e.g. "SURF_STRIDE" ("" if none) */
	char msg[1024];		/* complete human-readable message */
};

/* Documented, modelled (not measured) performance parameters. */
struct npu_sim_perf {
	double clock_hz;		/* NPU core clock */
	double macs_per_cycle_int8;	/* per core */
	double macs_per_cycle_fp16;	/* per core */
	double dram_bytes_per_cycle;	/* sustained DMA bandwidth per core */
	double task_overhead_cycles;	/* PC fetch/decode + pipeline fill per task */
};

struct npu_sim_stats {
	uint64_t tasks;			/* op-enables executed */
	uint64_t reg_writes;		/* register-write qwords decoded (body) */
	uint64_t qwords_fetched;	/* every qword the PC fetched (incl. trailer) */
	uint64_t macs;			/* multiply-accumulates as executed (padded shapes) */
	uint64_t macs_int8, macs_fp16;
	uint64_t bytes_read, bytes_written;	/* all buffers, regcmd fetch included */
	uint64_t weight_reuse_tasks;	/* tasks that used WEIGHT_REUSE (no weight fetch) */
	double cycles_mac, cycles_dma, cycles;	/* modelled, see docs/npu-model.md */
};

struct npu_sim_buf_info {
	char name[32];
	uint64_t iova, size;
	uint64_t bytes_read, bytes_written;
};

/* What the last executed task computed (for tools and tests). */
enum npu_sim_recipe { NPU_SIM_RECIPE_NONE = 0, NPU_SIM_RECIPE_NC1HWC2, NPU_SIM_RECIPE_ROWMAJOR };
enum npu_sim_prec { NPU_PREC_INT8 = 0, NPU_PREC_FP16 = 2, NPU_PREC_INT32 = 4, NPU_PREC_FP32 = 5 };

struct npu_sim_task_info {
	int recipe;		/* enum npu_sim_recipe */
	int in_prec, out_prec;	/* enum npu_sim_prec */
	uint32_t M, K, N;	/* K, N as programmed (padded) */
	uint64_t in_addr, w_addr, out_addr;
	uint64_t in_bytes, w_bytes, out_bytes;
	int weight_reuse;	/* weights taken from CBUF (WEIGHT_REUSE) */
	int weights_streamed;	/* weight bytes exceed the weight banks */
	uint32_t data_banks, weight_banks, feature_grains;
};

/* Register table (read-only view, for docs and tests). */
struct npu_sim_reg_info {
	uint16_t target;	/* 0x0201 CNA, 0x0801 CORE, 0x1001 DPU */
	uint16_t offset;
	const char *name;
	const char *model;	/* what values/fields are modelled */
};
size_t npu_sim_reg_count(void);
const struct npu_sim_reg_info *npu_sim_reg_get(size_t i);
/* Index into the table for (offset), -1 if not modelled. */
int npu_sim_reg_find(uint16_t offset);

struct npu_sim;

struct npu_sim *npu_sim_new(void);
void npu_sim_free(struct npu_sim *sim);
/* Reset register state and CBUF (mapped buffers and counters stay). */
void npu_sim_reset(struct npu_sim *sim);
void npu_sim_reset_stats(struct npu_sim *sim);
/* Trace of tasks/registers/accesses to f (NULL = off). */
/*
 * By reference (off by default): a task that leaves its weights in the CBUF
 * for WEIGHT_REUSE does not copy them; they are read from DRAM again, and
 * copied only before the NPU itself overwrites them. Exact as long as nothing
 * else writes the mapped memory while tasks run: the emulated device, whose
 * jobs' buffers are ordered by fences, turns it on.
 */
void npu_sim_set_cbuf_by_reference(struct npu_sim *sim, int on);
void npu_sim_set_trace(struct npu_sim *sim, FILE *f);
void npu_sim_set_perf(struct npu_sim *sim, const struct npu_sim_perf *perf);
void npu_sim_perf_default(struct npu_sim_perf *perf);

/*
 * Map host memory at [iova, iova+size) of the simulated 32-bit DMA space.
 * The memory stays owned by the caller and must outlive the mapping.
 */
int npu_sim_map(struct npu_sim *sim, uint64_t iova, uint64_t size, void *host,
		const char *name, struct npu_sim_error *err);
/* Lowest 4 KiB-aligned address >= hint where size bytes fit unmapped; 0 if none. */
uint64_t npu_sim_find_free(const struct npu_sim *sim, uint64_t hint, uint64_t size);

/*
 * Vendor (rknpu, PC-chained) start: the kernel gives the first task's regcmd
 * address and regcfg_amount (register writes, trailer not counted); further
 * tasks follow the in-stream PC_BASE_ADDRESS / PC_REGISTER_AMOUNTS chain.
 * max_tasks bounds the chain (0 = 65536).
 */
int npu_sim_run_chain(struct npu_sim *sim, uint64_t regcmd_addr, uint32_t regcfg_amount,
		      uint32_t max_tasks, struct npu_sim_error *err);
/*
 * Mainline rocket start of ONE task: the kernel writes PC_BASE_ADDRESS=addr and
 * PC_REGISTER_AMOUNTS=(qword_count+1)/2-1 (qword_count includes the trailer);
 * the in-stream chaining words must be 0.
 */
int npu_sim_run_task(struct npu_sim *sim, uint64_t regcmd_addr, uint32_t qword_count,
		     struct npu_sim_error *err);

const struct npu_sim_stats *npu_sim_get_stats(const struct npu_sim *sim);
const struct npu_sim_task_info *npu_sim_last_task(const struct npu_sim *sim);
size_t npu_sim_buf_count(const struct npu_sim *sim);
int npu_sim_buf_get(const struct npu_sim *sim, size_t i, struct npu_sim_buf_info *out);
void npu_sim_print_stats(const struct npu_sim *sim, FILE *f);

/* IEEE binary16 helpers used by the model (bit exact, RNE). */
double npu_sim_f16_to_double(uint16_t h);
uint16_t npu_sim_f32_to_f16(float f);

#endif
