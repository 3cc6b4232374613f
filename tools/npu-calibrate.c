// SPDX-License-Identifier: MIT
/*
 * npu-calibrate: measure the unit times of the performance model
 * (tools/npu-perf-model.c, docs/npu-backend.md) on a rocket NPU, so that
 * `make bench-npu`'s assumptions can be replaced by measurements
 * (`make calibrate` on boltzmann).
 *
 * It runs matmuls of chosen shapes through the real backend
 * (lib/npu_backend.c, SUBMIT_MATMUL via libdrm) and times them:
 *  - single-core probes (below the kernel's split threshold) whose tasks,
 *    MACs and bytes come from the kernel's own tiling; lib/npu_fit.c fits
 *    the job/task costs, the MAC rate and the per-core DMA rate to them;
 *  - a matmul the kernel splits over the three cores at one row (decode's
 *    gate/up): DRAM bandwidth of all cores together;
 *  - one split at 128 rows: whether the cores compute in parallel;
 *  - the CPU's side: time in the ioctl, quantising activations, unpacking
 *    results, and its row share (Q4_K rows while the NPU runs).
 * On the emulated device every time is the simulator's on this host, and
 * the report says so.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ggml_types.h"
#include "npu_backend.h"
#include "npu_fit.h"
#include "npu_job_tasks.h"
#include "quant.h"
#include "threadpool.h"

#define MAX_REPS 1000

struct opts {
	const char *device;
	int reps, threads;
	double npu_mhz;
	bool flags_only, quick;
};

static bool g_progress;	/* stderr is a terminal */

static void progress(size_t i, size_t n, const char *what)
{
	if (g_progress)
		fprintf(stderr, "\rnpu-calibrate: probe %zu/%zu (%s)%20s", i, n, what, "");
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: npu-calibrate [options]\n"
"Measures the NPU performance model's unit times on a rocket NPU through\n"
"DRM_IOCTL_ROCKET_SUBMIT_MATMUL, and prints them with the npu-perf-model\n"
"flags that use them (docs/npu-backend.md, \"Calibration\").\n"
"  --device PATH     the accel node (default: $ROCKET_ACCEL_DEV, else the first\n"
"                    rocket device in /dev/accel)\n"
"  --reps N          timed runs per probe, median taken (default 15)\n"
"  --quick           3 runs per probe (a smoke test, not a measurement)\n"
"  -t, --threads N   CPU threads for quantising, unpacking and the CPU rows (default 4)\n"
"  --npu-mhz MHz     the NPU clock, to state the MAC rate per cycle (default 200,\n"
"                    the mainline device tree's)\n"
"  --flags-only      print only the npu-perf-model flags\n"
"  -h, --help        this text\n"
"Exit status: 0 measured, 1 no device or a failed probe, 2 bad usage.\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- what the kernel makes of a call: captured at submit ------------------ */

struct capture {
	unsigned ioctls, descs, jobs;
	struct npu_fit_probe tasks[ROCKET_MATMUL_MAX_PARTS];	/* per job, first descriptor */
	double bytes;	/* all jobs */
	bool too_many;	/* a job with more tasks than a probe holds */
	bool refused;	/* a descriptor the kernel's split refuses */
};

static void on_submit(void *arg, const struct drm_rocket_matmul *mm, unsigned count)
{
	struct capture *c = arg;

	c->ioctls++;
	for (unsigned i = 0; i < count; i++) {
		struct rocket_matmul_job jobs[ROCKET_MATMUL_MAX_PARTS];
		int parts = npu_desc_split(&mm[i], jobs);

		c->descs++;
		if (parts < 0)
			c->refused = true;	/* the kernel refuses it too: the submit fails */
		for (int p = 0; p < parts; p++) {
			const struct rocket_matmul_job *j = &jobs[p];
			struct npu_fit_probe *pr = &c->tasks[c->jobs < ROCKET_MATMUL_MAX_PARTS ?
							     c->jobs : 0];

			if (c->jobs < ROCKET_MATMUL_MAX_PARTS)
				pr->ntasks = 0;
			for (u32 mi = 0; mi < j->plan.m_tiles; mi++)
				for (u32 ni = 0; ni < j->plan.n_tiles; ni++) {
					struct npu_fit_task k = npu_job_task(j, mi, ni);

					c->bytes += k.bytes;
					if (c->jobs >= ROCKET_MATMUL_MAX_PARTS)
						continue;
					if (pr->ntasks == NPU_FIT_MAX_TASKS)
						c->too_many = true;
					else
						pr->task[pr->ntasks++] = k;
				}
			c->jobs++;
		}
	}
}

/* ---- one probe ------------------------------------------------------------ */

struct probe_def {
	const char *name;
	int64_t m, k, n;
	bool split;	/* expected to run on all cores */
};

/* The fit's probes: one core each (below 2^24 MACs), spanning tasks, bytes and MACs. */
static const struct probe_def single_defs[] = {
	{ "latency", 1, 32, 32, false },
	{ "tasks", 8192, 32, 32, false },
	{ "dma, decode up", 1, 1536, 8960, false },
	{ "dma, decode down", 1, 8960, 1536, false },
	{ "compute, 64 rows", 64, 1536, 128, false },
	{ "compute, 256 rows", 256, 1536, 32, false },
};
#define NSINGLE (sizeof(single_defs) / sizeof(single_defs[0]))
static const struct probe_def dram_def = { "dram, 3 cores, decode gate+up", 1, 1536, 17920, true };
static const struct probe_def par_def = { "compute, 3 cores, 128 rows", 128, 1536, 1536, true };

struct probe_res {
	struct capture cap;
	double t_wall;		/* median seconds per call */
	double t_dev;		/* median of wall - ioctl - quantise - unpack: the device's part */
	double t_ioctl;		/* median seconds in the ioctl per call */
	double quant_elems, unpack_elems, t_quant, t_unpack;	/* totals over the timed runs */
	double cpu_bytes, t_cpu;	/* CPU row share, totals */
};

static float *random_floats(size_t n, unsigned *seed)
{
	float *v = malloc(n * sizeof(float));

	for (size_t i = 0; v && i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		v[i] = ((float)(*seed >> 8 & 0xffff) - 32768.0f) / 32768.0f;
	}
	return v;
}

/*
 * Time def on be: reps calls after two untimed ones. type/wdata: the
 * weight's source (F32 random when NULL); share > 0: a CPU row share.
 */
static int run_probe(struct npu_backend *be, struct capture *cap, const struct probe_def *def,
		     int reps, uint32_t type, const void *wdata, double share, struct probe_res *r,
		     char *err, size_t err_len)
{
	unsigned seed = 12345;
	float *w32 = wdata ? NULL : random_floats((size_t)def->n * def->k, &seed);
	float *x = random_floats((size_t)def->m * def->k, &seed);
	float *y = malloc((size_t)def->m * def->n * sizeof(float));
	double *wall = calloc((size_t)reps, sizeof(double)), *dev = calloc((size_t)reps, sizeof(double));
	double *sub = calloc((size_t)reps, sizeof(double));
	struct npu_weight *w = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if ((!wdata && !w32) || !x || !y || !wall || !dev || !sub) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	w = npu_weight_load(be, wdata ? wdata : w32, wdata ? type : GGML_TYPE_F32, def->n, def->k,
			    NULL, NULL, err, err_len);
	if (!w)
		goto out;
	if (share > 0) {
		struct npu_wsrc src = { wdata, type, def->n };

		if (npu_weight_set_cpu_share(be, w, &src, 1, share, err, err_len))
			goto out;
	}
	for (int i = -2; i < reps; i++) {
		struct npu_mm mm = { .w = w, .x = x, .y = y };
		const struct npu_stats *st = npu_backend_stats(be);
		double t0;

		npu_backend_reset_stats(be);
		memset(cap, 0, sizeof(*cap));
		t0 = now_s();
		if (npu_matmul_batch(be, &mm, 1, def->m, err, err_len))
			goto out;
		if (i < 0)
			continue;
		wall[i] = now_s() - t0;
		sub[i] = st->ioctls ? st->t_submit / st->ioctls : 0;
		dev[i] = wall[i] - st->t_submit - st->t_quant - st->t_unpack - st->t_cpu;
		r->t_quant += st->t_quant;
		r->t_unpack += st->t_unpack;
		r->quant_elems += (double)def->m * def->k;
		r->unpack_elems += (double)def->m * def->n;
		r->cpu_bytes += (double)st->cpu_bytes;
		r->t_cpu += st->t_cpu;
	}
	r->cap = *cap;
	r->t_wall = median(wall, reps);
	r->t_dev = median(dev, reps);
	r->t_ioctl = median(sub, reps);
	rc = 0;
out:
	npu_weight_free(be, w);
	free(w32);
	free(x);
	free(y);
	free(wall);
	free(dev);
	free(sub);
	return rc;
}

/*
 * The CPU's per-element costs from calls small enough (below 64 K elements)
 * that the backend quantises and unpacks them on one thread: the model
 * divides bigger ones by the thread count itself.
 */
static void small_cpu(const struct probe_res *r, const struct probe_def *d, double *q_t,
		      double *q_n, double *u_t, double *u_n)
{
	if (d->m * d->k < 65536) {
		*q_t += r->t_quant;
		*q_n += r->quant_elems;
	}
	if (d->m * d->n < 65536) {
		*u_t += r->t_unpack;
		*u_n += r->unpack_elems;
	}
}

static const char *shape(const struct probe_def *d, char *buf, size_t n)
{
	snprintf(buf, n, "%lldx%lldx%lld", (long long)d->m, (long long)d->k, (long long)d->n);
	return buf;
}

/* ---- the report ------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .reps = 15, .threads = 4, .npu_mhz = 200 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--flags-only")) {
			o->flags_only = true;
		} else if (!strcmp(a, "--quick")) {
			o->quick = true;
			o->reps = 3;
		} else if (i + 1 < argc && !strcmp(a, "--device")) {
			o->device = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--reps")) {
			o->reps = (int)strtol(argv[++i], &end, 10);
			if (*end || o->reps < 1 || o->reps > MAX_REPS)
				return fprintf(stderr, "npu-calibrate: --reps wants 1..%d\n", MAX_REPS), -1;
		} else if (i + 1 < argc && (!strcmp(a, "-t") || !strcmp(a, "--threads"))) {
			o->threads = (int)strtol(argv[++i], &end, 10);
			if (*end || o->threads < 1 || o->threads > 256)
				return fprintf(stderr, "npu-calibrate: --threads wants 1..256\n"), -1;
		} else if (i + 1 < argc && !strcmp(a, "--npu-mhz")) {
			o->npu_mhz = strtod(argv[++i], &end);
			if (*end || !(o->npu_mhz > 0 && o->npu_mhz <= 10000))
				return fprintf(stderr, "npu-calibrate: --npu-mhz wants a clock in MHz\n"), -1;
		} else {
			fprintf(stderr, "npu-calibrate: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct capture cap;
	struct probe_res single[NSINGLE], dram, par, rows;
	struct npu_fit_probe fp[NSINGLE];
	/* start: the model's assumptions (1024 MAC/cycle at the clock, 28.8 GB/s) */
	struct npu_fit fit = { .t_call = 30e-6, .t_task = 10e-6, .s_byte = 1 / 28.8e9 };
	struct npu_backend *be = NULL;
	struct threadpool *tp = NULL;
	char err[512], buf[64];
	double ioctl_v[NSINGLE], q_t = 0, q_n = 0, u_t = 0, u_n = 0, dram_gbs, par_pred;
	bool emulated;
	int rc = 1;
	FILE *out;

	if (parse_args(argc, argv, &o))
		return 2;
	out = o.flags_only ? stderr : stdout;
	g_progress = isatty(2);
	fit.s_mac = 1 / (1024 * o.npu_mhz * 1e6);
	tp = threadpool_new(o.threads);
	{
		struct npu_backend_opts bo = { .device = o.device, .tp = tp, .on_submit = on_submit,
					       .on_submit_arg = &cap };

		be = tp ? npu_backend_open(&bo, err, sizeof(err)) : NULL;
	}
	if (!be) {
		fprintf(stderr, "npu-calibrate: %s\n", tp ? err : "cannot start the thread pool");
		goto out;
	}
	emulated = strstr(npu_backend_describe(be), "emulator") != NULL;
	fprintf(out, "npu-calibrate: %s, %d runs per probe, %d CPU threads\n",
		npu_backend_describe(be), o.reps, o.threads);
	if (emulated)
		fprintf(out, "EMULATED DEVICE: every time below is the simulator's on this host; it says "
			"nothing about an RK3588.\n");
	fprintf(out, "\n%-32s %-14s %4s %5s %9s %9s %9s %9s %9s %9s\n", "probe", "M x K x N",
		"jobs", "tasks", "MB", "MMAC", "wall ms", "ioctl ms", "device ms", "fit ms");

	for (size_t i = 0; i < NSINGLE; i++) {
		const struct probe_def *d = &single_defs[i];

		progress(i + 1, NSINGLE + 3, d->name);
		if (run_probe(be, &cap, d, o.reps, 0, NULL, 0, &single[i], err, sizeof(err))) {
			fprintf(stderr, "%snpu-calibrate: probe %s: %s\n", g_progress ? "\n" : "",
				d->name, err);
			goto out;
		}
		if (single[i].cap.ioctls != 1 || single[i].cap.jobs != 1 || single[i].cap.too_many ||
		    single[i].cap.refused) {
			fprintf(stderr, "%snpu-calibrate: probe %s ran as %u ioctls, %u jobs: not a "
				"single-core probe (backend or kernel changed?)\n", g_progress ? "\n" : "", d->name,
				single[i].cap.ioctls, single[i].cap.jobs);
			goto out;
		}
		fp[i] = single[i].cap.tasks[0];
		fp[i].t = single[i].t_dev;
		ioctl_v[i] = single[i].t_ioctl;
	}
	progress(NSINGLE + 1, NSINGLE + 3, dram_def.name);
	if (run_probe(be, &cap, &dram_def, o.reps, 0, NULL, 0, &dram, err, sizeof(err)))
		goto probe_fail;
	progress(NSINGLE + 2, NSINGLE + 3, par_def.name);
	if (run_probe(be, &cap, &par_def, o.reps, 0, NULL, 0, &par, err, sizeof(err)))
		goto probe_fail;
	/* the CPU's row share: decode's up matrix as Q4_K, 40 % of its rows on the CPU */
	progress(NSINGLE + 3, NSINGLE + 3, "CPU row share");
	{
		const struct probe_def *d = &single_defs[2];
		uint64_t rb = 0;
		unsigned seed = 7;
		float *w = random_floats((size_t)d->n * d->k, &seed);
		unsigned char *q = w && ggml_row_size(GGML_TYPE_Q4_K, (uint64_t)d->k, &rb) ?
				   malloc(rb * (size_t)d->n) : NULL;
		int e = !q;

		for (int64_t r = 0; !e && r < d->n; r++)
			e = quantize_row(GGML_TYPE_Q4_K, w + r * d->k, q + r * rb, d->k);
		free(w);
		if (!e)
			e = run_probe(be, &cap, d, o.reps, GGML_TYPE_Q4_K, q, 0.4, &rows, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "cannot make the Q4_K weights");
		free(q);
		if (e)
			goto probe_fail;
	}
	if (g_progress)
		fprintf(stderr, "\r%70s\r", "");

	if (npu_fit(fp, NSINGLE, &fit)) {
		fprintf(stderr, "npu-calibrate: the probes do not determine the model's unit times "
			"(singular fit); times: ");
		for (size_t i = 0; i < NSINGLE; i++)
			fprintf(stderr, "%s%.3f ms", i ? ", " : "", fp[i].t * 1e3);
		fprintf(stderr, "\n");
		goto out;
	}
	for (size_t i = 0; i < NSINGLE; i++) {
		double macs = 0;

		for (unsigned k = 0; k < fp[i].ntasks; k++)
			macs += fp[i].task[k].macs;
		fprintf(out, "%-32s %-14s %4u %5u %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n",
			single_defs[i].name, shape(&single_defs[i], buf, sizeof(buf)), single[i].cap.jobs,
			fp[i].ntasks, single[i].cap.bytes / 1e6, macs / 1e6, single[i].t_wall * 1e3,
			single[i].t_ioctl * 1e3, fp[i].t * 1e3, npu_fit_predict(&fit, &fp[i]) * 1e3);
		small_cpu(&single[i], &single_defs[i], &q_t, &q_n, &u_t, &u_n);
	}
	/* all cores: each job on its core; the call as long as the slowest */
	par_pred = 0;
	for (unsigned j = 0; j < par.cap.jobs && j < ROCKET_MATMUL_MAX_PARTS; j++)
		par_pred = fmax(par_pred, npu_fit_predict(&fit, &par.cap.tasks[j]));
	{
		double dram_pred = 0;

		for (unsigned j = 0; j < dram.cap.jobs && j < ROCKET_MATMUL_MAX_PARTS; j++)
			dram_pred = fmax(dram_pred, npu_fit_predict(&fit, &dram.cap.tasks[j]));
		fprintf(out, "%-32s %-14s %4u %5s %9.3f %9s %9.3f %9.3f %9.3f %9.3f (one core's "
			"rate x %u)\n", dram_def.name, shape(&dram_def, buf, sizeof(buf)), dram.cap.jobs,
			"", dram.cap.bytes / 1e6, "", dram.t_wall * 1e3, dram.t_ioctl * 1e3,
			dram.t_dev * 1e3, dram_pred * 1e3, dram.cap.jobs);
	}
	fprintf(out, "%-32s %-14s %4u %5s %9.3f %9s %9.3f %9.3f %9.3f %9.3f (one core's rate x %u)\n",
		par_def.name, shape(&par_def, buf, sizeof(buf)), par.cap.jobs, "", par.cap.bytes / 1e6,
		"", par.t_wall * 1e3, par.t_ioctl * 1e3, par.t_dev * 1e3, par_pred * 1e3, par.cap.jobs);
	small_cpu(&dram, &dram_def, &q_t, &q_n, &u_t, &u_n);

	/* DRAM: all of the split call's bytes over its device time less a call's fixed cost */
	dram_gbs = dram.t_dev > fit.t_call ? dram.cap.bytes / (dram.t_dev - fit.t_call) / 1e9 : 0;
	{
		double ioctl_s = median(ioctl_v, NSINGLE);
		double macs_cycle = 1 / (fit.s_mac * o.npu_mhz * 1e6);
		double rows_gbs = rows.t_cpu > 0 ? rows.cpu_bytes / rows.t_cpu / 1e9 : 0;

		fprintf(out, "\nfit of the %zu single-core probes (rms %.3f ms, %u refinements):\n",
			NSINGLE, fit.rms * 1e3, fit.iterations);
		if (single[1].t_ioctl > 10 * single[1].t_dev && single[2].t_ioctl > 10 * single[2].t_dev)
			fprintf(out, "  NOTE: the device part is under a tenth of the ioctl: the device "
				"runs its jobs inside SUBMIT_MATMUL\n  (the emulator does), so the fit below "
				"sees almost nothing; the ioctl time carries the work.\n");
		fprintf(out, "  per call, beyond the ioctl (job start, interrupt, wait): %8.1f us\n",
			fit.t_call * 1e6);
		fprintf(out, "  per task:                                                %8.1f us\n",
			fit.t_task * 1e6);
		if (fit.byte_fitted)
			fprintf(out, "  DMA, one core:                                           %8.2f GB/s\n",
				1 / fit.s_byte / 1e9);
		else
			fprintf(out, "  DMA, one core: not determined (no probe was bound by it)\n");
		if (fit.mac_fitted)
			fprintf(out, "  int8 MACs, one core:                                     %8.1f GMAC/s"
				" (%.0f per cycle at %.0f MHz)\n", 1 / fit.s_mac / 1e9, macs_cycle,
				o.npu_mhz);
		else
			fprintf(out, "  int8 MACs, one core: not determined (no probe was bound by compute)\n");
		fprintf(out, "all cores:\n  DRAM, %u cores streaming one row's weights:               %8.2f GB/s\n",
			dram.cap.jobs, dram_gbs);
		fprintf(out, "  128-row matmul on %u cores: %.2fx the one-core fit's prediction\n",
			par.cap.jobs, par_pred > 0 ? par.t_dev / par_pred : 0);
		if (fit.byte_fitted && dram_gbs > 0)
			fprintf(out, "  => %s\n", dram_gbs > 1.3e-9 / fit.s_byte ?
				"the cores together stream more than one: run decode with "
				"--npu-split-decode on" :
				"one core streams about what all do: --npu-split-decode gains little");
		fprintf(out, "CPU (%d threads):\n  in the SUBMIT_MATMUL ioctl:                             %8.1f us\n",
			o.threads, ioctl_s * 1e6);
		fprintf(out, "  quantise + pack:                                         %8.2f ns/activation\n",
			q_n > 0 ? q_t / q_n * 1e9 : 0);
		fprintf(out, "  unpack + rescale:                                        %8.2f ns/result\n",
			u_n > 0 ? u_t / u_n * 1e9 : 0);
		fprintf(out, "  row share (Q4_K rows while the NPU runs):                %8.2f GB/s\n",
			rows_gbs);

		if (!o.flags_only)
			printf("\nnpu-perf-model flags:\n");
		printf("--npu-mhz %g --ioctl-us %.2f --job-us %.2f --task-us %.2f --wait-us 0",
		       o.npu_mhz, ioctl_s * 1e6, fit.t_call * 1e6, fit.t_task * 1e6);
		if (fit.mac_fitted)
			printf(" --macs-per-cycle %.2f", macs_cycle);
		if (fit.byte_fitted)
			printf(" --dma-core %.3f", 1 / fit.s_byte / 1e9);
		if (dram_gbs > 0)
			printf(" --dram %.3f", dram_gbs);
		if (q_n > 0 && u_n > 0)
			printf(" --cpu-quant-ns %.3f --cpu-unpack-ns %.3f", q_t / q_n * 1e9,
			       u_t / u_n * 1e9);
		if (rows_gbs > 0)
			printf(" --cpu-rows %.3f", rows_gbs);
		printf("\n");
	}
	rc = 0;
	goto out;
probe_fail:
	fprintf(stderr, "%snpu-calibrate: %s\n", g_progress ? "\n" : "", err);
out:
	if (be)
		npu_backend_close(be);
	threadpool_free(tp);
	return rc;
}
