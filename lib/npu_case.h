/* SPDX-License-Identifier: MIT */
/*
 * Golden-case loader for the NPU model (tests/golden/README.md format):
 * case.json, regcmd.txt, NPU-layout images (built from the row-major
 * matrices through the layout case.json states when an image is absent).
 */
#ifndef ROSENBLATT_NPU_CASE_H
#define ROSENBLATT_NPU_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "npu_sim.h"

enum npu_case_layout { NPU_LAYOUT_UNKNOWN = 0, NPU_LAYOUT_NC1HWC2, NPU_LAYOUT_ROWMAJOR };

#define NPU_CASE_MAX_TASKS 64

struct npu_case {
	char name[128];
	uint32_t M, K, N, Kp, Np;	/* Kp/Np: padded sizes the buffers use */
	int in_prec, out_prec;		/* enum npu_sim_prec */
	uint32_t esz, osz;
	int in_layout, out_layout;	/* enum npu_case_layout */
	uint64_t in_dma, w_dma, out_dma, regcmd_dma;
	int regcmd_dma_given;		/* 0: case.json had null, an address was picked */
	uint8_t *input, *weight, *expected, *output, *regcmd;
	size_t input_len, weight_len, expected_len, regcmd_len;
	int input_built, weight_built, expected_built;	/* images built from row-major files */
	uint64_t *qwords;
	size_t nq;
	struct { uint32_t offset, regcfg_amount; } tasks[NPU_CASE_MAX_TASKS];
	size_t ntasks;
};

/* Load a case folder. 0 on success; otherwise a message in err. */
int npu_case_load(const char *dir, struct npu_case *c, char *err, size_t errlen);
void npu_case_free(struct npu_case *c);
/*
 * Map input, weight, output (filled with 0xcd poison) and the regcmd image
 * (built from c->qwords, so tests may mutate them first) into sim.
 */
int npu_case_setup(struct npu_sim *sim, struct npu_case *c, struct npu_sim_error *err);
/* Run the case as the vendor kernel would (first task, then the PC chain). */
int npu_case_run(struct npu_sim *sim, struct npu_case *c, struct npu_sim_error *err);
/*
 * Compare c->output with c->expected bit for bit. 0 if equal; 1 with the
 * first mismatch (index, m, n, got, expected) described in msg.
 */
int npu_case_compare(const struct npu_case *c, char *msg, size_t msglen);
/* Element index of the output image -> (m, n), from the case's output layout. */
void npu_case_index_mn(const struct npu_case *c, size_t idx, uint32_t *m, uint32_t *n);

#endif
