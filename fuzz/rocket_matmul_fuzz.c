// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for DRM_IOCTL_ROCKET_SUBMIT_MATMUL's validation and
 * regcmd generation (kernel/drivers/accel/rocket/rocket_matmul.c and
 * rocket_regcmd.c, built unchanged through lib/kcompat). The checks are in
 * rocket_matmul_fuzz.h, shared with the replay in tests/test_rocket_matmul.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rocket_matmul_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad = rocket_matmul_fuzz_one(data, size);

	if (bad) {
		fprintf(stderr, "rocket_matmul_fuzz: %s\n", bad);
		abort();
	}
	return 0;
}
