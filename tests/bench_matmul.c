// SPDX-License-Identifier: MIT
/*
 * Matmul kernel microbenchmark (`make bench-matmul`, not a test): ns per
 * weight per token for each weight type, kernel set and batch size, one
 * thread, on a 4864 x 1792 matrix (Qwen2.5-0.5B-like FFN rows); for
 * Q4_K/Q6_K and the blocks of 32 also with 8-bit activations
 * (ops_matmul_act8, "-act8": Q8_K or Q8_1 rows) and, for Q4_K/Q6_K
 * where qmat_repack makes one, on the 8-row interleaved copy ("-x8").
 * `bench_matmul ROWS COLS` for another shape (e.g. 151936 1536, the
 * Qwen2.5-1.5B output head, to time a matrix that does not fit a cache).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ggml_types.h"
#include "ops.h"
#include "quant.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);	/* CPU time: steadier on a loaded machine */
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static float frand(void)
{
	return (float)rand() / RAND_MAX - 0.5f;
}

int main(int argc, char **argv)
{
	const int rows = argc > 2 ? atoi(argv[1]) : 4864, cols = argc > 2 ? atoi(argv[2]) : 1792;
	const int Ms[] = { 1, 4, 32 };
	const uint32_t types[] = {
		GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
		GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
	};
	float *f = malloc(sizeof(float) * cols), *x = malloc(sizeof(float) * cols * 32);
	float *y = malloc(sizeof(float) * rows * 32);
	struct threadpool *tp = threadpool_new(1);
	void *q8 = malloc(ops_act8_bytes(GGML_TYPE_Q8_1, 32, cols) + ops_act8_bytes(GGML_TYPE_Q8_K, 32, cols));

	if (!f || !x || !y || !tp || !q8)
		return 1;
	for (int i = 0; i < cols * 32; i++)
		x[i] = frand();
	printf("%-5s %3s %s\n", "type", "M", "ns/weight/token per kernel set");
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		uint64_t rb;
		struct qmat w;

		ggml_row_size(types[t], cols, &rb);
		unsigned char *d = malloc(rb * rows);

		if (!d)
			return 1;
		/* real blocks where we can quantise, else random bytes (speed only) */
		for (size_t i = 0; i < rb * rows; i++)
			d[i] = (unsigned char)rand();
		if (quantize_supported(types[t]))
			for (int r = 0; r < rows; r++) {
				for (int c = 0; c < cols; c++)
					f[c] = frand();
				quantize_row(types[t], f, d + r * rb, cols);
			}
		qmat_init(&w, d, types[t], rows, cols);
		for (size_t mi = 0; mi < sizeof(Ms) / sizeof(Ms[0]); mi++) {
			printf("%-5s %3d", ggml_type_name(types[t]), Ms[mi]);
			for (int isa = 0; isa < OPS_ISA_COUNT; isa++) {
				if (!ops_isa_available(isa))
					continue;
				int reps = isa == OPS_ISA_REF ? 2 : 8;
				double t0 = now();

				for (int k = 0; k < reps; k++)
					ops_matmul(tp, isa, &w, x, Ms[mi], y);
				double dt = (now() - t0) / reps;

				printf("  %s %.3f", ops_isa_name(isa),
				       dt * 1e9 / ((double)rows * cols * Ms[mi]));
				if (!ops_act8_type(types[t]))
					continue;
				/* 8-bit activations: the quantisation is timed too */
				t0 = now();
				for (int k = 0; k < reps; k++) {
					ops_quantize_act8(tp, isa, ops_act8_format(types[t]), x, Ms[mi], cols, q8);
					ops_matmul_act8(tp, isa, &w, x, q8, Ms[mi], y);
				}
				dt = (now() - t0) / reps;
				printf("  %s-act8 %.3f", ops_isa_name(isa),
				       dt * 1e9 / ((double)rows * cols * Ms[mi]));
				struct qmat w8 = w;

				if (isa == OPS_ISA_REF || !qmat_repack(&w8))
					continue;
				t0 = now();
				for (int k = 0; k < reps; k++) {
					ops_quantize_act8(tp, isa, ops_act8_format(types[t]), x, Ms[mi], cols, q8);
					ops_matmul_act8(tp, isa, &w8, x, q8, Ms[mi], y);
				}
				dt = (now() - t0) / reps;
				printf("  %s-x8 %.3f", ops_isa_name(isa),
				       dt * 1e9 / ((double)rows * cols * Ms[mi]));
				qmat_free_repack(&w8);
			}
			printf("\n");
		}
		free(d);
	}
	threadpool_free(tp);
	free(f);
	free(x);
	free(y);
	free(q8);
	return 0;
}
