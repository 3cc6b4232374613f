/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the NPU model's source files. */
#ifndef ROSENBLATT_NPU_SIM_INT_H
#define ROSENBLATT_NPU_SIM_INT_H

#include <stdint.h>

#define NPU_SIM_NREGS 104

struct npu_sim_block {
	uint16_t target;	/* regcmd target of the block ("write register") */
	uint16_t lo, hi;	/* MMIO offsets it owns */
	const char *name;
	int modelled;		/* registers may appear in a task body */
};

const struct npu_sim_block *npu_sim_block_of_offset(uint16_t offset);
/*
 * The table index of a register write that passes every decode check (a
 * modelled register, written through its own block's target), else -1: the
 * caller then takes the checking path for the error.
 */
int npu_sim_reg_find_plain(uint16_t target, uint16_t offset);
const char *npu_sim_target_name(uint16_t target);

#endif
