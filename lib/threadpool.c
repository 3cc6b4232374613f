// SPDX-License-Identifier: MIT
/*
 * Fork-join pool: workers sleep on a condition variable and wake when the
 * job generation changes. Kernel calls are a few per layer, each long
 * enough (a whole matmul) that the wake-up cost does not matter much.
 */
#include <pthread.h>
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
	unsigned long gen;	/* bumped per job */
	int pending;		/* workers still running the current job */
	int quit;
	threadpool_fn fn;
	void *arg;
	struct worker *workers;	/* n - 1 of them */
	float **scratch;
	size_t *scratch_n;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct threadpool *tp = w->tp;
	unsigned long seen = 0;

	pthread_mutex_lock(&tp->mu);
	for (;;) {
		while (!tp->quit && tp->gen == seen)
			pthread_cond_wait(&tp->wake, &tp->mu);
		if (tp->quit)
			break;
		seen = tp->gen;
		threadpool_fn fn = tp->fn;
		void *arg = tp->arg;

		pthread_mutex_unlock(&tp->mu);
		fn(arg, w->ith, tp->n);
		pthread_mutex_lock(&tp->mu);
		if (--tp->pending == 0)
			pthread_cond_signal(&tp->done);
	}
	pthread_mutex_unlock(&tp->mu);
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
	tp->n = n_threads;
	pthread_mutex_init(&tp->mu, NULL);
	pthread_cond_init(&tp->wake, NULL);
	pthread_cond_init(&tp->done, NULL);
	tp->scratch = calloc((size_t)n_threads, sizeof(*tp->scratch));
	tp->scratch_n = calloc((size_t)n_threads, sizeof(*tp->scratch_n));
	tp->workers = calloc((size_t)n_threads, sizeof(*tp->workers));
	if (!tp->scratch || !tp->scratch_n || !tp->workers) {
		tp->n = 1;
		threadpool_free(tp);
		return NULL;
	}
	for (int i = 1; i < n_threads; i++) {
		struct worker *w = &tp->workers[i];

		w->tp = tp;
		w->ith = i;
		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			tp->n = i;	/* free joins the ones started */
			threadpool_free(tp);
			return NULL;
		}
	}
	return tp;
}

void threadpool_free(struct threadpool *tp)
{
	if (!tp)
		return;
	pthread_mutex_lock(&tp->mu);
	tp->quit = 1;
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
	pthread_mutex_lock(&tp->mu);
	tp->fn = fn;
	tp->arg = arg;
	tp->pending = tp->n - 1;
	tp->gen++;
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->mu);

	fn(arg, 0, tp->n);

	pthread_mutex_lock(&tp->mu);
	while (tp->pending > 0)
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
