/* SPDX-License-Identifier: MIT */
/*
 * The DRM_IOCTL_ROCKET_SUBMIT_MATMUL fuzz check, shared by the libFuzzer
 * target (fuzz/rocket_matmul_fuzz.c) and the regression replay in
 * tests/test_rocket_matmul.c. It runs the ioctl's pure-C path the way
 * rocket_ioctl_submit_matmul() does (kernel/drivers/accel/rocket/
 * rocket_job.c): rocket_matmul_check_args(), then per element
 * rocket_matmul_copy() + rocket_matmul_prepare() with a fake file (BO table,
 * user memory), then rocket_matmul_layout() over all jobs of the call and
 * rocket_matmul_emit_job() into a heap buffer of exactly the laid-out size
 * (ASan catches any write past it), with the kernel's 1024-entry task
 * arrays (also exact heap allocations).
 *
 * Input (little endian; missing bytes read as 0):
 *   0   u8   num_cores (used modulo 8; prepare() maps 0 to 1, caps at 3)
 *   1   u8   BOs in the table (modulo 9); handle h names BO h - 1
 *   2   u8   bit 0: `matmuls` is absolute (else USER_BASE + low 32 bits)
 *   3   u8   unused
 *   4   u32  matmul_count, 8 u32 matmul_struct_size, 12 u32 flags, 16 u32 pad
 *   20  u32  NPU address of the regcmd buffer (page aligned by masking)
 *   24  u64  matmuls
 *   32  8 x { u64 size; u64 dma; }	the BO table (dma page aligned by masking)
 *   160 ...  user memory, mapped at RMF_USER_BASE; any copy touching a byte
 *            outside it fails with -EFAULT
 *
 * Checked (besides ASan/UBSan), against an independent reimplementation of
 * the documented rules:
 *   - check_args() exactly; copy() returns 0 only for a readable element
 *     with a zero tail (and then copies it verbatim), -E2BIG only when a
 *     readable tail byte is non-zero, 0 whenever the element is readable
 *     with a zero tail;
 *   - prepare(): errnos from the documented set; success only if every
 *     static rule holds, the handles exist, each range is inside its BO and
 *     below 4 GiB and C overlaps no input (and no bias); if all of that
 *     holds, only 0 or -E2BIG (job limits); 1..min(3, cores) jobs, each of
 *     1..1024 tasks with the plan the generator computes for it;
 *   - layout(): 64-byte aligned, non-overlapping job regions;
 *   - emit_job(): -ENOSPC without writing anything when the buffer is one
 *     qword short; else the plan's task count; every job region written,
 *     nothing else; each task a 108-qword, 64-byte aligned stream with
 *     only CNA/CORE/DPU writes and the non-chained trailer, whose A/B reads
 *     and C write (address and extent, decoded from the registers) lie in
 *     the element's validated A/B/C ranges, and whose C writes over all
 *     tasks of an element tile the C range exactly (disjoint, full size).
 * rocket_matmul_fuzz_one() returns NULL, or what went wrong.
 */
#ifndef ROSENBLATT_ROCKET_MATMUL_FUZZ_H
#define ROSENBLATT_ROCKET_MATMUL_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocket_matmul.h"
#include "rocket_regcmd.h"

#define RMF_HDR			160
#define RMF_MAX_BOS		8
#define RMF_USER_BASE		0x10000000000ULL
#define RMF_PATTERN		0xa5a5a5a5a5a5a5a5ULL
#define RMF_TASK_QWORDS		(ROCKET_MM_TASK_REGS + ROCKET_MM_TRAILER_QWORDS)

struct rmf_ctx {
	const uint8_t *mem;
	size_t mem_len;
	uint32_t nbo;
	struct rocket_matmul_bo bos[RMF_MAX_BOS];
	char msg[256];
};

/* The validated ranges of one element, computed by the harness. */
struct rmf_ranges {
	uint64_t a, a_len, b, b_len, c, c_len;
	uint32_t k, esz, osz;
};

struct rmf_interval {
	uint64_t start, len;
};

static uint64_t rmf_le(const uint8_t *data, size_t size, size_t off, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = (v << 8) | (off + i < size ? data[off + i] : 0);
	return v;
}

/* [uptr, uptr + len) inside the fake user memory: pointer or NULL. */
static const uint8_t *rmf_user(const struct rmf_ctx *f, uint64_t uptr, uint64_t len)
{
	uint64_t off;

	if (uptr < RMF_USER_BASE)
		return NULL;
	off = uptr - RMF_USER_BASE;
	if (off > f->mem_len || len > f->mem_len - off)
		return NULL;
	return f->mem + off;
}

static int rmf_copy(void *ctx, void *dst, u64 uptr, size_t len)
{
	const uint8_t *src = rmf_user(ctx, uptr, len);

	if (!src)
		return -EFAULT;
	if (len)
		memcpy(dst, src, len);
	return 0;
}

static int rmf_lookup(void *ctx, enum rocket_matmul_slot slot, u32 handle,
		      struct rocket_matmul_bo *bo)
{
	struct rmf_ctx *f = ctx;

	(void)slot;
	if (!handle || handle > f->nbo)
		return -ENOENT;
	*bo = f->bos[handle - 1];
	return 0;
}

static const struct rocket_matmul_ops rmf_ops = {
	.copy_from_user = rmf_copy,
	.lookup = rmf_lookup,
};

/* The harness's own reading of the uAPI rules. */
static int rmf_check_args(const struct drm_rocket_submit_matmul *a)
{
	if (a->flags || a->pad)
		return -EINVAL;
	if (!a->matmul_count)
		return 0;
	if (a->matmul_struct_size < 88)
		return -EINVAL;
	if (a->matmul_struct_size > 4096 || a->matmul_count > 64)
		return -E2BIG;
	return a->matmuls ? 0 : -EFAULT;
}

static uint32_t rmf_size(uint32_t t)
{
	return t == DRM_ROCKET_TYPE_INT8 ? 1 : t == DRM_ROCKET_TYPE_FP16 ? 2 :
	       t == DRM_ROCKET_TYPE_INT32 || t == DRM_ROCKET_TYPE_FP32 ? 4 : 0;
}

/* Static rules of docs/kernel.md ("Errors"), without the BOs. */
static int rmf_static_ok(const struct drm_rocket_matmul *mm)
{
	uint32_t esz = rmf_size(mm->in_type);
	int types = mm->weight_type == mm->in_type &&
		    ((mm->in_type == DRM_ROCKET_TYPE_INT8 &&
		      mm->out_type == DRM_ROCKET_TYPE_INT32) ||
		     (mm->in_type == DRM_ROCKET_TYPE_FP16 &&
		      (mm->out_type == DRM_ROCKET_TYPE_FP32 ||
		       mm->out_type == DRM_ROCKET_TYPE_FP16)));

	return types &&
	       !(mm->flags & ~(uint32_t)(DRM_ROCKET_MATMUL_NO_SPLIT | DRM_ROCKET_MATMUL_SPLIT)) &&
	       (mm->flags & (DRM_ROCKET_MATMUL_NO_SPLIT | DRM_ROCKET_MATMUL_SPLIT)) !=
	       (DRM_ROCKET_MATMUL_NO_SPLIT | DRM_ROCKET_MATMUL_SPLIT) && !mm->pad &&
	       mm->m && mm->k && mm->n &&
	       mm->m <= 262144 && mm->n <= 262144 && mm->k <= 16384 &&
	       (uint64_t)mm->k * esz <= 32768 &&
	       (mm->m == 1 || mm->m % 4 == 0) && mm->k % 32 == 0 &&
	       mm->n % (esz == 1 ? 32 : 16) == 0 &&
	       mm->a_offset % 16 == 0 && mm->b_offset % 16 == 0 &&
	       mm->c_offset % 16 == 0 && mm->bias_offset % 16 == 0 &&
	       (mm->bias_handle || !mm->bias_offset) &&
	       !mm->a_row_stride && !mm->c_row_stride;
}

/* @off + @len inside BO @h and below 4 GiB: NPU start in *addr. */
static int rmf_range(const struct rmf_ctx *f, uint32_t h, uint64_t off,
		     uint64_t len, uint64_t *addr)
{
	const struct rocket_matmul_bo *bo;
	uint64_t end, a, a_end;

	if (!h || h > f->nbo)
		return 0;
	bo = &f->bos[h - 1];
	if (__builtin_add_overflow(off, len, &end) || end > bo->size)
		return 0;
	if (__builtin_add_overflow(bo->dma, off, &a) ||
	    __builtin_add_overflow(a, len, &a_end) || a_end > 0x100000000ULL)
		return 0;
	*addr = a;
	return 1;
}

static int rmf_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* 1 when the element must be accepted up to the job limits. */
static int rmf_expect_ok(const struct rmf_ctx *f, const struct drm_rocket_matmul *mm,
			 struct rmf_ranges *r)
{
	if (!rmf_static_ok(mm) || mm->bias_handle)
		return 0;
	r->k = mm->k;
	r->esz = rmf_size(mm->in_type);
	r->osz = rmf_size(mm->out_type);
	/* m, n <= 2^18, k <= 2^14, sizes <= 4: no overflow */
	r->a_len = (uint64_t)mm->m * mm->k * r->esz;
	r->b_len = (uint64_t)mm->n * mm->k * r->esz;
	r->c_len = (uint64_t)mm->m * mm->n * r->osz;
	if (!rmf_range(f, mm->a_handle, mm->a_offset, r->a_len, &r->a) ||
	    !rmf_range(f, mm->b_handle, mm->b_offset, r->b_len, &r->b) ||
	    !rmf_range(f, mm->c_handle, mm->c_offset, r->c_len, &r->c))
		return 0;
	return !rmf_overlap(r->c, r->c_len, r->a, r->a_len) &&
	       !rmf_overlap(r->c, r->c_len, r->b, r->b_len);
}

static int rmf_inside(uint64_t s, uint64_t len, uint64_t lo, uint64_t lo_len)
{
	return s >= lo && len <= lo_len && s - lo <= lo_len - len;
}

static int rmf_cmp_interval(const void *x, const void *y)
{
	const struct rmf_interval *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

#define RMF_FAIL(f, ...) \
	do { snprintf((f)->msg, sizeof((f)->msg), __VA_ARGS__); goto out; } while (0)

/* One task's 108 qwords at @q: decode and check against @r. */
static const char *rmf_check_task(const u64 *q, const struct rmf_ranges *r,
				  struct rmf_interval *cw)
{
	uint64_t a = ~0ULL, b = ~0ULL, c = ~0ULL;
	uint32_t rows = 0, k = 0, wbytes = 0, cols = 0;
	int i;

	for (i = 0; i < ROCKET_MM_TASK_REGS; i++) {
		uint32_t tgt = (uint32_t)(q[i] >> 48), reg = (uint32_t)(q[i] & 0xffff);
		uint32_t val = (uint32_t)(q[i] >> 16);

		if (tgt != 0x0201 && tgt != 0x0801 && tgt != 0x1001)
			return "register write to a block other than CNA/CORE/DPU";
		if (tgt == 0x0201 && reg == 0x1070)
			a = val;
		else if (tgt == 0x0201 && reg == 0x1110)
			b = val;
		else if (tgt == 0x1001 && reg == 0x4020)
			c = val;
		else if (tgt == 0x0201 && reg == 0x1020)
			rows = val & 0x7ff;
		else if (tgt == 0x0201 && reg == 0x1088)
			k = val & 0xffff;
		else if (tgt == 0x0201 && reg == 0x1030)
			wbytes = val;
		else if (tgt == 0x0801 && reg == 0x3018)
			cols = (val & 0xffff) + 1;
	}
	if (q[104] != 0 || q[105] != (0x0101ULL << 48 | 0x14) ||
	    q[106] != 0x0041ULL << 48 || q[107] != (0x0081ULL << 48 | 0xdULL << 16 | 0x8))
		return "trailer is not the non-chained one";
	if (a == ~0ULL || b == ~0ULL || c == ~0ULL || !rows || !cols)
		return "task lacks an address or a size register";
	if (k != r->k || wbytes != (uint64_t)cols * k * r->esz)
		return "task K or weight size differs from the descriptor";
	if (!rmf_inside(a, (uint64_t)rows * k * r->esz, r->a, r->a_len))
		return "task reads A outside the validated A range";
	if (!rmf_inside(b, wbytes, r->b, r->b_len))
		return "task reads B outside the validated B range";
	cw->start = c;
	cw->len = (uint64_t)rows * cols * r->osz;
	if (!rmf_inside(c, cw->len, r->c, r->c_len))
		return "task writes C outside the validated C range";
	return NULL;
}

/*
 * What the last rocket_matmul_fuzz_one() call got to, so the replay can
 * check that the seeds reach the paths they are named after: @ret the first
 * errno (0 when the whole call was emitted), @elems elements prepared,
 * @jobs and @tasks emitted.
 */
struct rmf_stats {
	int ret;
	uint32_t elems, jobs, tasks;
};

static struct rmf_stats rmf_last;

struct rmf_elem {
	struct rocket_matmul_prep prep;
	struct rmf_ranges r;
	uint32_t first_job;
};

static const char *rocket_matmul_fuzz_one(const uint8_t *data, size_t size)
{
	struct rmf_ctx *f = calloc(1, sizeof(*f));
	struct drm_rocket_submit_matmul args;
	struct rmf_elem *elems = NULL;
	struct rocket_matmul_job *jobs = NULL;
	struct rocket_regcmd_task *scratch = NULL;
	struct rocket_matmul_hw_task *hw = NULL;
	struct rmf_interval *cw = NULL;
	static char result[256];
	const char *bad = NULL;
	uint32_t cores, i, j, t, njobs = 0, qwords = 0, max_jobs;
	uint64_t regcmd_dma;
	u64 *buf = NULL;
	int ret;

	memset(&rmf_last, 0, sizeof(rmf_last));
	if (!f)
		return NULL;
	cores = (uint32_t)rmf_le(data, size, 0, 1) % 8;
	f->nbo = (uint32_t)rmf_le(data, size, 1, 1) % (RMF_MAX_BOS + 1);
	memset(&args, 0, sizeof(args));
	args.matmul_count = (uint32_t)rmf_le(data, size, 4, 4);
	args.matmul_struct_size = (uint32_t)rmf_le(data, size, 8, 4);
	args.flags = (uint32_t)rmf_le(data, size, 12, 4);
	args.pad = (uint32_t)rmf_le(data, size, 16, 4);
	regcmd_dma = rmf_le(data, size, 20, 4) & ~0xfffULL;
	args.matmuls = rmf_le(data, size, 24, 8);
	if (!(rmf_le(data, size, 2, 1) & 1))
		args.matmuls = RMF_USER_BASE + (args.matmuls & 0xffffffffULL);
	for (i = 0; i < RMF_MAX_BOS; i++) {
		f->bos[i].size = rmf_le(data, size, 32 + 16 * i, 8);
		/* BOs are page aligned in the NPU address space */
		f->bos[i].dma = rmf_le(data, size, 40 + 16 * i, 8) & ~0xfffULL;
	}
	if (size > RMF_HDR) {
		f->mem = data + RMF_HDR;
		f->mem_len = size - RMF_HDR;
	}

	ret = rocket_matmul_check_args(&args);
	rmf_last.ret = ret;
	if (ret != rmf_check_args(&args))
		RMF_FAIL(f, "check_args %d, expected %d", ret, rmf_check_args(&args));
	if (ret || !args.matmul_count)
		goto out;

	elems = calloc(args.matmul_count, sizeof(*elems));
	max_jobs = args.matmul_count * ROCKET_MATMUL_MAX_PARTS;
	jobs = calloc(max_jobs, sizeof(*jobs));
	if (!elems || !jobs)
		goto out;
	for (i = 0; i < args.matmul_count; i++) {
		struct drm_rocket_matmul mm;
		struct rmf_elem *e = &elems[i];
		uint64_t uptr = args.matmuls + (uint64_t)i * args.matmul_struct_size;
		uint32_t stride = args.matmul_struct_size, readable, nz_tail = 0;
		int whole, ok;

		/* How much of the element is readable, and its tail. */
		for (readable = 0; readable < stride; readable++)
			if (uptr + readable < uptr || !rmf_user(f, uptr + readable, 1))
				break;
		whole = readable == stride;
		for (j = 88; j < readable; j++)
			nz_tail |= rmf_user(f, uptr + j, 1)[0];

		memset(&mm, 0x5a, sizeof(mm));
		ret = rocket_matmul_copy(&rmf_ops, f, &args, i, &mm);
		rmf_last.ret = ret;
		if (ret != 0 && ret != -EFAULT && ret != -E2BIG)
			RMF_FAIL(f, "copy %u: errno %d", i, ret);
		if (!ret && (!whole || nz_tail))
			RMF_FAIL(f, "copy %u: accepted an unreadable element or a non-zero tail", i);
		if (ret == -E2BIG && !nz_tail)
			RMF_FAIL(f, "copy %u: -E2BIG with a zero readable tail", i);
		if (whole && !nz_tail && ret)
			RMF_FAIL(f, "copy %u: %d for a readable element with a zero tail", i, ret);
		if (ret)
			goto out;
		if (memcmp(&mm, rmf_user(f, uptr, sizeof(mm)), sizeof(mm)))
			RMF_FAIL(f, "copy %u: element not copied verbatim", i);

		ok = rmf_expect_ok(f, &mm, &e->r);
		ret = rocket_matmul_prepare(&rmf_ops, f, &mm, cores, &e->prep);
		rmf_last.ret = ret;
		if (ret != 0 && ret != -EINVAL && ret != -ENOENT && ret != -EOVERFLOW &&
		    ret != -E2BIG && ret != -EOPNOTSUPP)
			RMF_FAIL(f, "prepare %u: errno %d", i, ret);
		if (!ret && !ok)
			RMF_FAIL(f, "prepare %u: accepted an element the rules reject", i);
		if (ret == -EOPNOTSUPP && !mm.bias_handle)
			RMF_FAIL(f, "prepare %u: -EOPNOTSUPP without a bias", i);
		if (ok && ret && ret != -E2BIG)
			RMF_FAIL(f, "prepare %u: %d for a valid element", i, ret);
		if (ret)
			goto out;
		if (e->prep.job_count < 1 ||
		    e->prep.job_count > (cores < 2 ? 1 : cores > 3 ? 3 : cores))
			RMF_FAIL(f, "prepare %u: %u jobs with %u cores", i,
				 e->prep.job_count, cores);
		if ((mm.flags & DRM_ROCKET_MATMUL_NO_SPLIT) && e->prep.job_count != 1)
			RMF_FAIL(f, "prepare %u: NO_SPLIT made %u jobs", i, e->prep.job_count);
		for (j = 0; j < e->prep.job_count; j++) {
			const struct rocket_matmul_job *jb = &e->prep.jobs[j];
			struct rocket_matmul_plan p;

			if (jb->plan.tasks < 1 || jb->plan.tasks > ROCKET_MATMUL_MAX_JOB_TASKS)
				RMF_FAIL(f, "prepare %u job %u: %u tasks", i, j, jb->plan.tasks);
			if (rocket_matmul_plan(&jb->desc, &p) || memcmp(&p, &jb->plan, sizeof(p)))
				RMF_FAIL(f, "prepare %u job %u: plan differs from the generator's", i, j);
			if (jb->desc.flags & ROCKET_MM_F_CHAIN)
				RMF_FAIL(f, "prepare %u job %u: chained", i, j);
			jobs[njobs++] = *jb;
		}
		e->first_job = njobs - e->prep.job_count;
		rmf_last.elems++;
	}

	ret = rocket_matmul_layout(jobs, njobs, &qwords);
	rmf_last.ret = ret;
	if (ret)
		RMF_FAIL(f, "layout: %d for %u jobs", ret, njobs);
	for (j = 0; j < njobs; j++) {
		uint64_t end = j + 1 < njobs ? jobs[j + 1].qword_offset : qwords;

		if (jobs[j].qword_offset % ROCKET_MM_TASK_ALIGN_QWORDS ||
		    (uint64_t)jobs[j].qword_offset + jobs[j].plan.qwords > end)
			RMF_FAIL(f, "layout: job %u misplaced", j);
	}

	buf = malloc((size_t)qwords * sizeof(*buf));
	scratch = malloc(ROCKET_MATMUL_MAX_JOB_TASKS * sizeof(*scratch));
	hw = malloc(ROCKET_MATMUL_MAX_JOB_TASKS * sizeof(*hw));
	cw = malloc(ROCKET_MATMUL_MAX_PARTS * ROCKET_MATMUL_MAX_JOB_TASKS * sizeof(*cw));
	if (!buf || !scratch || !hw || !cw)
		goto out;
	for (j = 0; j < qwords; j++)
		buf[j] = RMF_PATTERN;

	/* One qword short: -ENOSPC, nothing written. */
	ret = rocket_matmul_emit_job(&jobs[0], buf, jobs[0].plan.qwords - 1, regcmd_dma,
				     scratch, hw, ROCKET_MATMUL_MAX_JOB_TASKS);
	if (ret != -ENOSPC)
		RMF_FAIL(f, "emit into a short buffer: %d", ret);
	for (j = 0; j < qwords; j++)
		if (buf[j] != RMF_PATTERN)
			RMF_FAIL(f, "emit into a short buffer wrote qword %u", j);

	for (i = 0; i < args.matmul_count; i++) {
		struct rmf_elem *e = &elems[i];
		uint32_t n_cw = 0;
		uint64_t covered = 0;

		for (j = e->first_job; j < e->first_job + e->prep.job_count; j++) {
			const struct rocket_matmul_job *jb = &jobs[j];

			ret = rocket_matmul_emit_job(jb, buf, qwords, regcmd_dma, scratch, hw,
						     ROCKET_MATMUL_MAX_JOB_TASKS);
			if (ret < 0 || (uint32_t)ret != jb->plan.tasks)
				RMF_FAIL(f, "emit job %u: %d, plan %u tasks", j, ret, jb->plan.tasks);
			for (t = 0; t < (uint32_t)ret; t++) {
				uint64_t off = hw[t].regcmd - regcmd_dma;

				if (hw[t].regcmd < regcmd_dma || off % 64 ||
				    hw[t].regcmd_count != RMF_TASK_QWORDS ||
				    off / 8 < jb->qword_offset ||
				    off / 8 + RMF_TASK_QWORDS > (uint64_t)jb->qword_offset + jb->plan.qwords)
					RMF_FAIL(f, "emit job %u task %u: regcmd 0x%llx count %u outside the job",
						 j, t, (unsigned long long)hw[t].regcmd,
						 hw[t].regcmd_count);
				bad = rmf_check_task(buf + off / 8, &e->r, &cw[n_cw]);
				if (bad)
					RMF_FAIL(f, "element %u job %u task %u: %s", i, j, t, bad);
				n_cw++;
			}
			rmf_last.jobs++;
			rmf_last.tasks += (uint32_t)ret;
		}
		/* The C writes of all tasks tile C: disjoint, full size. */
		qsort(cw, n_cw, sizeof(*cw), rmf_cmp_interval);
		for (t = 0; t < n_cw; t++) {
			if (t && cw[t - 1].start + cw[t - 1].len > cw[t].start)
				RMF_FAIL(f, "element %u: C writes of two tasks overlap", i);
			covered += cw[t].len;
		}
		if (covered != e->r.c_len)
			RMF_FAIL(f, "element %u: tasks write %llu of %llu C bytes", i,
				 (unsigned long long)covered, (unsigned long long)e->r.c_len);
	}
	/* Every job region written, every gap between regions untouched. */
	for (j = 0, t = 0; j < qwords; j++) {
		int in_job;

		while (t < njobs && j >= jobs[t].qword_offset + jobs[t].plan.qwords)
			t++;
		in_job = t < njobs && j >= jobs[t].qword_offset;
		if (in_job == (buf[j] == RMF_PATTERN))
			RMF_FAIL(f, "qword %u: %s", j, in_job ? "not written" : "written outside a job");
	}
	bad = NULL;
out:
	if (f && f->msg[0]) {
		snprintf(result, sizeof(result), "%s", f->msg);
		bad = result;
	}
	free(cw);
	free(hw);
	free(scratch);
	free(buf);
	free(jobs);
	free(elems);
	free(f);
	return bad;
}

#endif
