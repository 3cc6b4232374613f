// SPDX-License-Identifier: MIT
/*
 * Fork-join pool. A decode step runs ~115 short jobs (q/k/v and gate/up
 * matmuls share one). Waking a sleeping thread costs ~60 us on the build
 * VM (a futex wake and an idle vCPU coming back), ~15 % of a 1.5B decode
 * step at 2 threads, so workers and the caller first poll an atomic for
 * SPIN_DEFAULT rounds (~50 us), with a sched_yield() every 256 rounds so
 * that on an oversubscribed machine the thread being waited for gets the
 * CPU; then they sleep on a condition variable. Measured on the 2-core
 * build VM, 1.5B Q4_K_M decode at 2 threads: idle 20-22 -> 24-26 tok/s;
 * with a busy loop on the other core mixed (9.7/16.4 vs 15.1/13.8 tok/s).
 * ROSENBLATT_SPIN=N sets the rounds (0: sleep at once).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "threadpool.h"

struct worker {
	struct threadpool *tp;
	int ith;
	pthread_t thread;
};

struct threadpool {
	int n;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_cond_t done;
	atomic_ulong gen;	/* bumped per job (release: fn/arg are set) */
	atomic_int pending;	/* workers still running the current job */
	atomic_int quit;
	int spin;		/* polling rounds before sleeping */
	threadpool_fn fn;
	void *arg;
	struct worker *workers;	/* [1..n) used */
	float **scratch;
	size_t *scratch_n;
};

/* polling rounds before sleeping: ~50 us of pause on x86-64 */
#define SPIN_DEFAULT 3000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* pause, and now and then give the CPU away: on a machine with more
 * runnable threads than cores the thread we wait for may need it */
static inline void relax(int i)
{
	if (i % 256 == 255)
		sched_yield();
	else
		cpu_relax();
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct threadpool *tp = w->tp;
	unsigned long seen = 0;

	for (;;) {
		for (int i = 0; i < tp->spin; i++) {
			if (atomic_load_explicit(&tp->gen, memory_order_acquire) != seen ||
			    atomic_load_explicit(&tp->quit, memory_order_relaxed))
				break;
			relax(i);
		}
		pthread_mutex_lock(&tp->mu);
		while (!atomic_load(&tp->quit) && atomic_load(&tp->gen) == seen)
			pthread_cond_wait(&tp->wake, &tp->mu);
		pthread_mutex_unlock(&tp->mu);
		if (atomic_load(&tp->quit))
			break;
		seen = atomic_load_explicit(&tp->gen, memory_order_acquire);
		tp->fn(tp->arg, w->ith, tp->n);
		if (atomic_fetch_sub_explicit(&tp->pending, 1, memory_order_acq_rel) == 1) {
			/* under the lock, so a caller about to sleep sees it */
			pthread_mutex_lock(&tp->mu);
			pthread_cond_signal(&tp->done);
			pthread_mutex_unlock(&tp->mu);
		}
	}
	return NULL;
}

struct threadpool *threadpool_new(int n_threads)
{
	struct threadpool *tp;

	if (n_threads < 1)
		n_threads = 1;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->n = 1;
	const char *spin = getenv("ROSENBLATT_SPIN");

	tp->spin = spin ? atoi(spin) : SPIN_DEFAULT;
	pthread_mutex_init(&tp->mu, NULL);
	pthread_cond_init(&tp->wake, NULL);
	pthread_cond_init(&tp->done, NULL);
	atomic_init(&tp->gen, 0);
	atomic_init(&tp->pending, 0);
	atomic_init(&tp->quit, 0);
	tp->scratch = calloc((size_t)n_threads, sizeof(*tp->scratch));
	tp->scratch_n = calloc((size_t)n_threads, sizeof(*tp->scratch_n));
	tp->workers = calloc((size_t)n_threads, sizeof(*tp->workers));
	if (!tp->scratch || !tp->scratch_n || !tp->workers) {
		threadpool_free(tp);
		return NULL;
	}
	for (int i = 1; i < n_threads; i++) {
		struct worker *w = &tp->workers[i];

		w->tp = tp;
		w->ith = i;
		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			threadpool_free(tp);	/* joins the tp->n - 1 started */
			return NULL;
		}
		tp->n = i + 1;
	}
	return tp;
}

void threadpool_free(struct threadpool *tp)
{
	if (!tp)
		return;
	pthread_mutex_lock(&tp->mu);
	atomic_store(&tp->quit, 1);
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->mu);
	for (int i = 1; i < tp->n; i++)
		pthread_join(tp->workers[i].thread, NULL);
	for (int i = 0; tp->scratch && i < tp->n; i++)
		free(tp->scratch[i]);
	free(tp->scratch);
	free(tp->scratch_n);
	free(tp->workers);
	pthread_mutex_destroy(&tp->mu);
	pthread_cond_destroy(&tp->wake);
	pthread_cond_destroy(&tp->done);
	free(tp);
}

int threadpool_size(const struct threadpool *tp)
{
	return tp ? tp->n : 1;
}

void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg)
{
	if (!tp || tp->n == 1) {
		fn(arg, 0, 1);
		return;
	}
	tp->fn = fn;
	tp->arg = arg;
	atomic_store_explicit(&tp->pending, tp->n - 1, memory_order_relaxed);
	pthread_mutex_lock(&tp->mu);
	atomic_fetch_add_explicit(&tp->gen, 1, memory_order_release);
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->mu);

	fn(arg, 0, tp->n);

	for (int i = 0; i < tp->spin; i++) {
		if (atomic_load_explicit(&tp->pending, memory_order_acquire) == 0)
			return;
		relax(i);
	}
	pthread_mutex_lock(&tp->mu);
	while (atomic_load_explicit(&tp->pending, memory_order_acquire) > 0)
		pthread_cond_wait(&tp->done, &tp->mu);
	pthread_mutex_unlock(&tp->mu);
}

static float *grow(float **buf, size_t *have, size_t n)
{
	if (*have < n) {
		float *nb = realloc(*buf, n * sizeof(float));

		if (!nb)
			return NULL;
		*buf = nb;
		*have = n;
	}
	return *buf;
}

float *threadpool_scratch(struct threadpool *tp, int ith, size_t n)
{
	if (!tp)
		return NULL;
	return grow(&tp->scratch[ith], &tp->scratch_n[ith], n ? n : 1);
}
