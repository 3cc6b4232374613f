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
 *
 * Thread indices are claimed, not assigned: fn(arg, i, n) runs once for
 * every i, by whichever thread claims i first, and the caller claims what
 * is left when it is done with its own. So a worker the scheduler has not
 * run yet (a busy machine, more threads than cores) delays nothing: the
 * caller does its share and returns. Measured on the 2-core build VM with
 * four busy loops beside it, 1.5B Q4_K_M decode at -t 2: 2.5-4.4 tok/s
 * with fixed indices (slower than -t 1's 8-9), 11-13 tok/s claimed.
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
	atomic_ullong claim;	/* (job number << 16) | the next thread index to claim */
	atomic_int running;	/* workers between trying to claim and finishing an index */
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

/*
 * Claim thread indices of job @g and run them until none is left. Workers
 * count themselves in @running before they claim, so the caller, once it
 * has seen every index claimed, knows whom to wait for.
 */
static void run_claims(struct threadpool *tp, unsigned long g, int worker)
{
	for (;;) {
		unsigned long long c, want = (unsigned long long)g << 16;
		int i = -1;

		if (worker)
			atomic_fetch_add(&tp->running, 1);
		c = atomic_load(&tp->claim);
		while ((c & ~0xffffull) == want && (int)(c & 0xffff) < tp->n) {
			if (atomic_compare_exchange_weak(&tp->claim, &c, c + 1)) {
				i = (int)(c & 0xffff);
				break;
			}
		}
		if (i >= 0)
			tp->fn(tp->arg, i, tp->n);
		if (worker && atomic_fetch_sub(&tp->running, 1) == 1) {
			/* under the lock, so a caller about to sleep sees it */
			pthread_mutex_lock(&tp->mu);
			pthread_cond_signal(&tp->done);
			pthread_mutex_unlock(&tp->mu);
		}
		if (i < 0)
			return;
	}
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
		run_claims(tp, seen, 1);
	}
	return NULL;
}

struct threadpool *threadpool_new(int n_threads)
{
	struct threadpool *tp;

	if (n_threads < 1)
		n_threads = 1;
	if (n_threads > THREADPOOL_MAX_THREADS)	/* claims carry the index in 16 bits */
		n_threads = THREADPOOL_MAX_THREADS;
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
	atomic_init(&tp->claim, 0);
	atomic_init(&tp->running, 0);
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
	unsigned long g;

	if (!tp || tp->n == 1) {
		fn(arg, 0, 1);
		return;
	}
	tp->fn = fn;
	tp->arg = arg;
	g = atomic_load_explicit(&tp->gen, memory_order_relaxed) + 1;
	/* index 0 is the caller's; job numbers wrap in 48 bits, harmlessly */
	atomic_store(&tp->claim, ((unsigned long long)g << 16) | 1);
	pthread_mutex_lock(&tp->mu);
	atomic_store_explicit(&tp->gen, g, memory_order_release);
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->mu);

	fn(arg, 0, tp->n);
	run_claims(tp, g, 0);	/* what no worker has taken yet */

	for (int i = 0; i < tp->spin; i++) {
		if (atomic_load(&tp->running) == 0)
			return;
		relax(i);
	}
	pthread_mutex_lock(&tp->mu);
	while (atomic_load(&tp->running) > 0)
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
