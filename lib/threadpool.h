/* SPDX-License-Identifier: MIT */
/*
 * A tiny fork-join pool for the CPU kernels: threadpool_run() calls
 * fn(arg, ith, nth) on every thread (the caller is thread 0) and returns
 * when all are done. One job at a time; not reentrant.
 */
#ifndef ROSENBLATT_THREADPOOL_H
#define ROSENBLATT_THREADPOOL_H

#include <stddef.h>

struct threadpool;

typedef void (*threadpool_fn)(void *arg, int ith, int nth);

#define THREADPOOL_MAX_THREADS 1024

/* n_threads >= 1 (1: no extra threads; more than THREADPOOL_MAX_THREADS are
 * capped). NULL on failure. */
struct threadpool *threadpool_new(int n_threads);
void threadpool_free(struct threadpool *tp);
int threadpool_size(const struct threadpool *tp);

/* tp may be NULL: then fn(arg, 0, 1) runs on the caller. */
void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg);

/*
 * Per-thread scratch of at least n floats, kept between jobs (only valid
 * inside fn for thread ith). NULL on allocation failure.
 */
float *threadpool_scratch(struct threadpool *tp, int ith, size_t n);

#endif
