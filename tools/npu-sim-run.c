// SPDX-License-Identifier: MIT
/*
 * npu-sim-run: execute a golden-format NPU case on the strict NPU model and
 * compare the output buffer bit for bit. Exit 0 exact match, 1 mismatch,
 * 2 malformed case or stream (including anything the model refuses).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npu_case.h"
#include "npu_sim.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: npu-sim-run CASE_DIR [--verbose] [--stats] [--help]\n"
		"  Loads CASE_DIR/case.json, regcmd.txt and the buffer images (input_npu.bin,\n"
		"  weight_npu.bin, output_expected_npu.bin; built from the row-major matrices\n"
		"  through case.json's layouts when absent), runs the regcmd stream on the\n"
		"  NPU model as the vendor kernel starts it (first task + PC chain) and compares\n"
		"  the output buffer bit for bit.\n"
		"  --verbose  trace tasks, addresses and decisions\n"
		"  --stats    print counters and the MODELLED (not measured) cycle estimate\n"
		"exit: 0 exact match, 1 mismatch (first one printed), 2 malformed case/stream\n");
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int verbose = 0, stats = 0, rc;
	struct npu_case c;
	struct npu_sim_error err;
	char msg[1024];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--stats"))
			stats = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || dir) {
			usage(stderr);
			return 2;
		} else
			dir = argv[i];
	}
	if (!dir) {
		usage(stderr);
		return 2;
	}
	if (npu_case_load(dir, &c, msg, sizeof(msg))) {
		fprintf(stderr, "npu-sim-run: %s: %s\n", dir, msg);
		return 2;
	}
	struct npu_sim *sim = npu_sim_new();

	if (!sim) {
		fprintf(stderr, "npu-sim-run: out of memory\n");
		npu_case_free(&c);
		return 2;
	}
	if (verbose)
		npu_sim_set_trace(sim, stdout);
	rc = npu_case_setup(sim, &c, &err);
	if (rc) {
		fprintf(stderr, "npu-sim-run: %s: %s\n", c.name, err.msg);
		goto fail;
	}
	if (verbose) {
		printf("case %s: M=%u K=%u(->%u) N=%u(->%u), %s input, %s output\n", c.name, c.M, c.K, c.Kp, c.N, c.Np,
		       c.in_layout == NPU_LAYOUT_NC1HWC2 ? "NC1HWC2" : "row-major",
		       c.out_layout == NPU_LAYOUT_NC1HWC2 ? "NC1HWC2" : "row-major");
		printf("buffers: input 0x%08" PRIx64 " (%zu B%s), weight 0x%08" PRIx64 " (%zu B%s), output 0x%08" PRIx64
		       " (%zu B%s)\n", c.in_dma, c.input_len, c.input_built ? ", built from a_rowmajor" : "", c.w_dma,
		       c.weight_len, c.weight_built ? ", built from b_rowmajor" : "", c.out_dma, c.expected_len,
		       c.expected_built ? ", expected built from c_expected_rowmajor" : "");
		printf("regcmd: %zu qwords at 0x%08" PRIx64 "%s\n", c.nq, c.regcmd_dma,
		       c.regcmd_dma_given ? "" : " (case.json regcmd_dma is null: picked a free address)");
	}
	rc = npu_case_run(sim, &c, &err);
	if (rc) {
		fprintf(stderr, "npu-sim-run: %s: %s\n", c.name, err.msg);
		goto fail;
	}
	if (stats)
		npu_sim_print_stats(sim, stdout);
	rc = npu_case_compare(&c, msg, sizeof(msg));
	printf("%s: %s: %s\n", c.name, rc ? "MISMATCH" : "PASS", msg);
	npu_sim_free(sim);
	npu_case_free(&c);
	return rc ? 1 : 0;
fail:
	if (stats)
		npu_sim_print_stats(sim, stdout);
	npu_sim_free(sim);
	npu_case_free(&c);
	return 2;
}
