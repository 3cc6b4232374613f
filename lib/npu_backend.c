// SPDX-License-Identifier: MIT
/*
 * NPU backend: see npu_backend.h and docs/npu-backend.md.
 *
 * Device access is the rocket uAPI only: libdrm (drmGetVersion, drmIoctl)
 * on /dev/accel/accelN, CREATE_BO + mmap, PREP_BO/FINI_BO around CPU
 * access, SUBMIT_MATMUL, GEM_CLOSE. The data layouts are lib/npu_layout.h's
 * (the uAPI's documented NPU layouts); the row-block height of A and C for
 * M > 1 follows docs/npu-generator.md ("Tiling", M): it is part of the
 * layout contract, computed here from the documented formula, not by
 * calling the generator.
 */
#include "npu_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <drm/rocket_accel.h>

#include "fp16.h"
#include "ggml_types.h"
#include "ops.h"
#include "quant.h"
#include "threadpool.h"

/* The A/C row-block rule (docs/npu-generator.md, Tiling: M). */
#define NPU_DATA_BANK_BYTES (10u * 32768u)
#define NPU_MAX_TILE_ROWS 1020u
#define NPU_WB 32u		/* int8 weight block height */
#define NPU_ALIGN 64u		/* our offsets inside BOs (uAPI needs 16) */
#define NPU_WAIT_NS (60LL * 1000000000LL)
#define NPU_INFLIGHT 4		/* calls submitted and not yet waited for */

struct npu_bo {
	uint32_t handle;
	uint64_t size;
	uint64_t dma;
	void *map;
};

struct npu_chunk {
	uint32_t k0, k, kp;	/* first column, columns, padded */
	uint64_t b_off;		/* byte offset of this chunk's Np x kp image */
};

struct npu_weight {
	int64_t rows, cols;
	uint32_t np;		/* rows padded to 32 */
	uint32_t hb;		/* Hadamard block (0: none) */
	uint32_t nchunks;
	struct npu_chunk *chunks;
	float *scale;		/* [rows] */
	struct npu_bo bo;
	uint32_t nsub;		/* stacked matrices */
	uint32_t sub_off[NPU_MAX_SUB], sub_rows[NPU_MAX_SUB];
	/* row split (npu_weight_set_cpu_share): decode calls run stacked rows
	 * [0, n_npu) on the NPU and the slices on the CPU */
	uint32_t n_npu;		/* 0: no split */
	uint32_t ncpu;
	struct npu_cpu_slice {
		uint32_t sub;	/* stacked matrix */
		uint32_t r0;	/* first row inside it */
		struct qmat q;	/* its rows r0.. in the source encoding */
	} cpu[NPU_MAX_SUB];
};

/* One descriptor's bookkeeping for the read-back. */
struct npu_part {
	int mm;			/* index into the batch */
	uint32_t chunk, nchunks;
	uint32_t n0, nlen;	/* columns of W (padded part) */
	uint32_t m0, mlen;	/* rows of A/C (a row group: whole row blocks) */
	uint32_t slot;		/* C buffer */
	uint32_t R;		/* row block of this descriptor's A/C */
};

/* One distinct input of a batch, per K chunk: where its image is in A. */
struct npu_input {
	const float *x;
	int64_t K;
	uint32_t hb;
	uint32_t kchunk;	/* chunking of the weights using it */
	uint64_t off;		/* first chunk's offset in the A BO */
	uint64_t bytes;
	float *scale;		/* [M] */
};

/*
 * One submitted call (npu_matmul_submit) until its results are read
 * (npu_matmul_wait): its own activation and result buffers, so the next
 * call can be quantised and queued while the NPU works on this one.
 */
struct npu_call {
	struct npu_bo a;
	struct npu_bo *c;
	uint32_t nc;
	struct npu_input *in;
	size_t in_n;
	uint32_t nin;
	struct npu_part *parts;
	size_t parts_n;
	uint32_t nparts;
	float *scales;
	size_t scales_n;
	struct npu_mm *mm;	/* the caller's matmuls (output pointers) */
	size_t mm_n;
	int count;
	uint32_t M, Mu, Mp;
};

struct npu_backend {
	int fd;
	bool dry;
	struct npu_backend_opts o;
	char desc[300];
	uint64_t dry_dma;
	uint32_t dry_handle;
	struct npu_call calls[NPU_INFLIGHT];
	uint64_t head, tail;	/* tickets: next to submit, next to wait for */
	struct npu_stats st;
	/* scratch */
	float *xt;
	size_t xt_n;
	int8_t *q;
	size_t q_n;
	int32_t *acc;
	size_t acc_n;
	void *xq;		/* CPU rows: activations in ops_quantize_act8 form */
	size_t xq_n;
	float *cy;		/* CPU rows: one slice's results */
	size_t cy_n;
	enum ops_isa isa;
	struct threadpool *own_tp;	/* for the CPU rows when the caller gave no pool */
	struct drm_rocket_matmul *descs;
	size_t descs_n;
};

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool grow(void **p, size_t *cap, size_t need, size_t esz)
{
	void *n;

	if (need <= *cap)
		return true;
	n = realloc(*p, need * esz);
	if (!n)
		return false;
	*p = n;
	*cap = need;
	return true;
}

/* ---- device and buffers ------------------------------------------------ */

static int bo_create(struct npu_backend *be, uint64_t size, struct npu_bo *bo, bool host)
{
	struct drm_rocket_create_bo cb = { 0 };
	void *map;

	memset(bo, 0, sizeof(*bo));
	size = (size + 4095) & ~(uint64_t)4095;
	if (!size)
		size = 4096;
	if (be->dry) {
		bo->size = size;
		bo->dma = be->dry_dma;
		be->dry_dma += size;
		bo->handle = ++be->dry_handle;
		if (host) {
			bo->map = calloc(1, size);
			if (!bo->map)
				return -ENOMEM;
		}
		return 0;
	}
	if (size > UINT32_MAX)
		return -E2BIG;
	cb.size = (uint32_t)size;
	if (drmIoctl(be->fd, DRM_IOCTL_ROCKET_CREATE_BO, &cb))
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, be->fd, (off_t)cb.offset);
	if (map == MAP_FAILED) {
		int e = -errno;
		struct drm_gem_close gc = { .handle = cb.handle };

		drmIoctl(be->fd, DRM_IOCTL_GEM_CLOSE, &gc);
		return e;
	}
	bo->handle = cb.handle;
	bo->size = size;
	bo->dma = cb.dma_address;
	bo->map = map;
	return 0;
}

static void bo_free(struct npu_backend *be, struct npu_bo *bo)
{
	if (!bo->handle)
		return;
	if (be->dry) {
		free(bo->map);
	} else {
		struct drm_gem_close gc = { .handle = bo->handle };

		if (bo->map)
			munmap(bo->map, bo->size);
		drmIoctl(be->fd, DRM_IOCTL_GEM_CLOSE, &gc);
	}
	memset(bo, 0, sizeof(*bo));
}

/* CPU access begins: waits for NPU writers of the BO, syncs caches. */
static int bo_prep(struct npu_backend *be, const struct npu_bo *bo)
{
	struct drm_rocket_prep_bo pb = { .handle = bo->handle };

	if (be->dry)
		return 0;
	pb.timeout_ns = now_ns() + NPU_WAIT_NS;
	return drmIoctl(be->fd, DRM_IOCTL_ROCKET_PREP_BO, &pb) ? -errno : 0;
}

/* CPU access ends: the NPU may use the BO. */
static int bo_fini(struct npu_backend *be, const struct npu_bo *bo)
{
	struct drm_rocket_fini_bo fb = { .handle = bo->handle };

	if (be->dry)
		return 0;
	return drmIoctl(be->fd, DRM_IOCTL_ROCKET_FINI_BO, &fb) ? -errno : 0;
}

/* Make sure bo is at least size bytes (contents not kept). */
static int bo_ensure(struct npu_backend *be, struct npu_bo *bo, uint64_t size)
{
	uint64_t want = 1 << 16;

	if (bo->handle && bo->size >= size)
		return 0;
	while (want < size)
		want *= 2;
	bo_free(be, bo);
	return bo_create(be, want, bo, true);
}

static bool is_rocket(int fd, char *desc, size_t len, int *maj, int *min, int *pl)
{
	drmVersionPtr v = drmGetVersion(fd);
	bool ok;

	if (!v)
		return false;
	ok = v->name && !strcmp(v->name, "rocket");
	if (ok) {
		*maj = v->version_major;
		*min = v->version_minor;
		*pl = v->version_patchlevel;
		snprintf(desc, len, "%s", v->desc ? v->desc : "");
	}
	drmFreeVersion(v);
	return ok;
}

static int open_device(struct npu_backend *be, char *err, size_t err_len)
{
	const char *path = be->o.device ? be->o.device : getenv("ROCKET_ACCEL_DEV");
	char p[64], vdesc[200] = "";
	int maj = 0, min = 0, pl = 0, fd = -1;
	struct drm_rocket_submit_matmul probe = {
		.matmul_struct_size = sizeof(struct drm_rocket_matmul),
	};

	if (path && *path) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			seterr(err, err_len, "npu: cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		if (!is_rocket(fd, vdesc, sizeof(vdesc), &maj, &min, &pl)) {
			close(fd);
			seterr(err, err_len, "npu: %s is not a rocket NPU device", path);
			return -1;
		}
		snprintf(p, sizeof(p), "%s", path);
	} else {
		for (int i = 0; i < 64 && fd < 0; i++) {
			snprintf(p, sizeof(p), "/dev/accel/accel%d", i);
			fd = open(p, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (!is_rocket(fd, vdesc, sizeof(vdesc), &maj, &min, &pl)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0) {
			seterr(err, err_len,
			       "npu: no rocket NPU device (/dev/accel/accel*): load the rocket driver "
			       "(RK3588), or run with LD_PRELOAD=build/librocket-shim.so for the "
			       "emulated device");
			return -1;
		}
	}
	if (maj < 1 || (maj == 1 && min < 1)) {
		close(fd);
		seterr(err, err_len,
		       "npu: the rocket driver on %s is version %d.%d.%d, which lacks "
		       "DRM_IOCTL_ROCKET_SUBMIT_MATMUL (needs 1.1: the Rosenblatt kernel series, "
		       "kernel/patches/rocket/)", p, maj, min, pl);
		return -1;
	}
	if (drmIoctl(fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &probe)) {
		int e = errno;

		close(fd);
		seterr(err, err_len,
		       "npu: rocket %d.%d on %s does not accept SUBMIT_MATMUL (%s): kernel without "
		       "the Rosenblatt series?", maj, min, p, strerror(e));
		return -1;
	}
	be->fd = fd;
	snprintf(be->desc, sizeof(be->desc), "rocket %d.%d.%d (%s) on %s", maj, min, pl, vdesc, p);
	return 0;
}

struct npu_backend *npu_backend_open(const struct npu_backend_opts *o, char *err, size_t err_len)
{
	struct npu_backend *be = calloc(1, sizeof(*be));

	if (!be) {
		seterr(err, err_len, "npu: out of memory");
		return NULL;
	}
	if (o)
		be->o = *o;
	be->fd = -1;
	be->dry = be->o.dry;
	if (!be->o.k_chunk)
		be->o.k_chunk = NPU_MAX_K;
	if (be->o.k_chunk % 32 || be->o.k_chunk > NPU_MAX_K) {
		seterr(err, err_len, "npu: K chunk %u is not a multiple of 32 up to %d",
		       be->o.k_chunk, NPU_MAX_K);
		free(be);
		return NULL;
	}
	if (be->o.n_split > 3 * 8)
		be->o.n_split = 3 * 8;
	if (!be->o.cores || be->o.cores > 3)
		be->o.cores = 3;
	if (!be->o.n_split_min_macs)
		be->o.n_split_min_macs = 1u << 20;
	if (be->o.hadamard && (be->o.hadamard & (be->o.hadamard - 1))) {
		seterr(err, err_len, "npu: Hadamard block %u is not a power of two", be->o.hadamard);
		free(be);
		return NULL;
	}
	be->isa = ops_isa_best();
	if (be->dry) {
		be->dry_dma = 1 << 20;
		snprintf(be->desc, sizeof(be->desc), "dry run (no device)");
	} else if (open_device(be, err, err_len)) {
		free(be);
		return NULL;
	}
	return be;
}

void npu_backend_close(struct npu_backend *be)
{
	if (!be)
		return;
	for (int k = 0; k < NPU_INFLIGHT; k++) {
		struct npu_call *cl = &be->calls[k];

		bo_free(be, &cl->a);
		for (uint32_t i = 0; i < cl->nc; i++)
			bo_free(be, &cl->c[i]);
		free(cl->c);
		free(cl->in);
		free(cl->parts);
		free(cl->scales);
		free(cl->mm);
	}
	if (be->fd >= 0)
		close(be->fd);
	free(be->xt);
	free(be->q);
	free(be->acc);
	free(be->xq);
	free(be->cy);
	threadpool_free(be->own_tp);
	free(be->descs);
	free(be);
}

const char *npu_backend_describe(const struct npu_backend *be)
{
	return be->desc;
}

const struct npu_stats *npu_backend_stats(const struct npu_backend *be)
{
	return &be->st;
}

void npu_backend_reset_stats(struct npu_backend *be)
{
	uint64_t wb = be->st.weight_bytes, nw = be->st.weights;

	memset(&be->st, 0, sizeof(be->st));
	be->st.weight_bytes = wb;
	be->st.weights = nw;
}

/* ---- quantisation ---------------------------------------------------- */

float npu_quantize_row(const float *x, int64_t K, int8_t *q)
{
	float amax = 0.0f, inv;

	for (int64_t k = 0; k < K; k++) {
		float a = fabsf(x[k]);

		if (a > amax)
			amax = a;
	}
	if (!(amax > 0.0f) || !isfinite(amax)) {
		memset(q, 0, (size_t)K);
		return 0.0f;
	}
	inv = 127.0f / amax;
	for (int64_t k = 0; k < K; k++) {
		/* a NaN gives 0 (lrintf's value for it differs between x86 and arm64) */
		long v = isnan(x[k]) ? 0 : lrintf(x[k] * inv);

		q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	return amax / 127.0f;
}

void npu_hadamard(float *x, int64_t n, uint32_t hb)
{
	float norm;

	if (hb < 2)
		return;
	norm = 1.0f / sqrtf((float)hb);
	for (int64_t b = 0; b + hb <= n; b += hb) {
		float *v = x + b;

		for (uint32_t h = 1; h < hb; h *= 2)
			for (uint32_t i = 0; i < hb; i += 2 * h)
				for (uint32_t j = i; j < i + h; j++) {
					float a = v[j], c = v[j + h];

					v[j] = a + c;
					v[j + h] = a - c;
				}
		for (uint32_t i = 0; i < hb; i++)
			v[i] *= norm;
	}
}

/* The two above on this CPU's best ISA (the same bits). */
static float quantize_row_isa(enum ops_isa isa, const float *x, int64_t K, int8_t *q)
{
#if defined(__x86_64__)
	if (isa == OPS_ISA_AVX2)
		return ops_quantize_i8_row_avx2(x, K, q);
#endif
#if defined(__aarch64__)
	if (isa == OPS_ISA_NEON)
		return ops_quantize_i8_row_neon(x, K, q);
#endif
	(void)isa;
	return npu_quantize_row(x, K, q);
}

static void hadamard_isa(enum ops_isa isa, float *x, int64_t n, uint32_t hb)
{
#if defined(__x86_64__)
	if (isa == OPS_ISA_AVX2 && hb >= 8) {
		ops_hadamard_avx2(x, n, hb);
		return;
	}
#endif
#if defined(__aarch64__)
	if (isa == OPS_ISA_NEON && hb >= 8) {
		ops_hadamard_neon(x, n, hb);
		return;
	}
#endif
	(void)isa;
	npu_hadamard(x, n, hb);
}

uint32_t npu_backend_hadamard_block(const struct npu_backend *be, int64_t K)
{
	uint32_t hb = 1;

	if (!be->o.hadamard || K <= 0)
		return 0;
	while (hb < be->o.hadamard && K % (2 * (int64_t)hb) == 0)
		hb *= 2;
	return hb >= 16 ? hb : 0;
}

/* ---- weights ---------------------------------------------------------- */

bool npu_weight_type_supported(uint32_t t)
{
	return t == GGML_TYPE_F32 || t == GGML_TYPE_F16 || t == GGML_TYPE_BF16 ||
	       dequantize_supported(t);
}

static int row_to_f32(uint32_t type, const void *src, float *dst, int64_t n)
{
	switch (type) {
	case GGML_TYPE_F32:
		memcpy(dst, src, (size_t)n * sizeof(float));
		return 0;
	case GGML_TYPE_F16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = fp16_to_fp32(((const uint16_t *)src)[i]);
		return 0;
	case GGML_TYPE_BF16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = bf16_to_fp32(((const uint16_t *)src)[i]);
		return 0;
	default:
		return dequantize_row(type, src, dst, n);
	}
}

/* Byte offset of weight element (n, k) of a chunk image (npu_layout.h). */
static inline size_t w_index(uint32_t n, uint32_t k, uint32_t kp)
{
	return (size_t)(n / NPU_WB) * NPU_WB * kp + (size_t)(k / 32) * NPU_WB * 32 +
	       (size_t)(n % NPU_WB) * 32 + k % 32;
}

static void chunk_k(const struct npu_backend *be, int64_t K, struct npu_chunk *ch, uint32_t *n)
{
	uint32_t kc = be->o.k_chunk;
	uint32_t cnt = (uint32_t)((K + kc - 1) / kc);
	/* equal chunks (multiples of 32), the last one shorter */
	uint32_t per = (uint32_t)(((K + cnt - 1) / cnt + 31) / 32 * 32);

	*n = 0;
	for (uint32_t k0 = 0; k0 < K; k0 += per) {
		if (ch) {
			ch[*n].k0 = k0;
			ch[*n].k = (uint32_t)(K - k0 < per ? K - k0 : per);
			ch[*n].kp = (ch[*n].k + 31) / 32 * 32;
		}
		(*n)++;
	}
}

struct npu_weight *npu_weight_load(struct npu_backend *be, const void *data, uint32_t type,
				   int64_t rows, int64_t cols, npu_progress_fn progress,
				   void *progress_arg, char *err, size_t err_len)
{
	struct npu_wsrc src = { .data = data, .type = type, .rows = rows };

	return npu_weight_load_fused(be, &src, 1, cols, progress, progress_arg, err, err_len);
}

struct npu_weight *npu_weight_load_fused(struct npu_backend *be, const struct npu_wsrc *src,
					 int nsrc, int64_t cols, npu_progress_fn progress,
					 void *progress_arg, char *err, size_t err_len)
{
	struct npu_weight *w;
	uint64_t total = 0;
	int64_t rows = 0;
	bool have_data = true;
	float *f = NULL;
	int8_t *q = NULL;
	int rc;

	if (nsrc < 1 || nsrc > NPU_MAX_SUB) {
		seterr(err, err_len, "npu: %d stacked matrices (1..%d)", nsrc, NPU_MAX_SUB);
		return NULL;
	}
	for (int s = 0; s < nsrc; s++) {
		uint64_t rb;

		if (!npu_weight_type_supported(src[s].type)) {
			seterr(err, err_len, "npu: weight type %s not supported",
			       ggml_type_name(src[s].type));
			return NULL;
		}
		if (src[s].rows <= 0 || cols <= 0 || cols > (1 << 24) ||
		    !ggml_row_size(src[s].type, (uint64_t)cols, &rb)) {
			seterr(err, err_len, "npu: bad weight shape %lld x %lld (%s)",
			       (long long)src[s].rows, (long long)cols, ggml_type_name(src[s].type));
			return NULL;
		}
		rows += src[s].rows;
		have_data &= src[s].data != NULL;
	}
	if (rows > 262144) {
		seterr(err, err_len, "npu: %lld weight rows (at most 262144)", (long long)rows);
		return NULL;
	}
	if (!have_data && !be->dry) {
		seterr(err, err_len, "npu: no weight data");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto oom;
	w->nsub = (uint32_t)nsrc;
	for (int s = 0, off = 0; s < nsrc; s++) {
		w->sub_off[s] = (uint32_t)off;
		w->sub_rows[s] = (uint32_t)src[s].rows;
		off += (int)src[s].rows;
	}
	w->rows = rows;
	w->cols = cols;
	w->np = (uint32_t)((rows + NPU_WB - 1) / NPU_WB * NPU_WB);
	w->hb = npu_backend_hadamard_block(be, cols);
	chunk_k(be, cols, NULL, &w->nchunks);
	w->chunks = calloc(w->nchunks, sizeof(*w->chunks));
	w->scale = calloc((size_t)rows, sizeof(float));
	if (!w->chunks || !w->scale)
		goto oom;
	chunk_k(be, cols, w->chunks, &w->nchunks);
	for (uint32_t c = 0; c < w->nchunks; c++) {
		w->chunks[c].b_off = total;
		total += ((uint64_t)w->np * w->chunks[c].kp + NPU_ALIGN - 1) / NPU_ALIGN * NPU_ALIGN;
	}
	rc = bo_create(be, total, &w->bo, have_data);
	if (rc) {
		seterr(err, err_len, "npu: cannot allocate %llu bytes of weights: %s",
		       (unsigned long long)total, strerror(-rc));
		goto fail;
	}
	be->st.weight_bytes += w->bo.size;
	be->st.weights++;
	if (!have_data)
		return w;

	f = malloc((size_t)cols * sizeof(float));
	q = malloc((size_t)cols + 32);
	if (!f || !q)
		goto oom;
	rc = bo_prep(be, &w->bo);
	if (rc) {
		seterr(err, err_len, "npu: PREP_BO on weights: %s", strerror(-rc));
		goto fail;
	}
	for (int64_t n = 0; n < rows; n++) {
		uint32_t s = 0;
		uint64_t rb;

		while (s + 1 < w->nsub && n >= w->sub_off[s + 1])
			s++;
		ggml_row_size(src[s].type, (uint64_t)cols, &rb);
		if (row_to_f32(src[s].type,
			       (const uint8_t *)src[s].data + (size_t)(n - w->sub_off[s]) * rb, f,
			       cols)) {
			seterr(err, err_len, "npu: cannot dequantise %s row",
			       ggml_type_name(src[s].type));
			goto fail;
		}
		if (w->hb)
			hadamard_isa(be->isa, f, cols, w->hb);
		w->scale[n] = quantize_row_isa(be->isa, f, cols, q);
		for (uint32_t c = 0; c < w->nchunks; c++) {
			const struct npu_chunk *ch = &w->chunks[c];
			uint8_t *img = (uint8_t *)w->bo.map + ch->b_off;

			for (uint32_t k = 0; k < ch->kp; k += 32) {
				uint8_t *d = img + w_index((uint32_t)n, k, ch->kp);
				uint32_t len = ch->k - k < 32 ? ch->k - k : 32;

				if (k >= ch->k)
					len = 0;
				memcpy(d, q + ch->k0 + k, len);
				memset(d + len, 0, 32 - len);
			}
		}
		if (progress && ((n + 1) % 1024 == 0 || n + 1 == rows))
			progress(progress_arg, (uint64_t)n + 1, (uint64_t)rows);
	}
	/* padding rows (n >= rows) of the last block */
	for (uint32_t c = 0; c < w->nchunks; c++) {
		const struct npu_chunk *ch = &w->chunks[c];
		uint8_t *img = (uint8_t *)w->bo.map + ch->b_off;

		for (uint32_t n = (uint32_t)rows; n < w->np; n++)
			for (uint32_t k = 0; k < ch->kp; k += 32)
				memset(img + w_index(n, k, ch->kp), 0, 32);
	}
	rc = bo_fini(be, &w->bo);
	if (rc) {
		seterr(err, err_len, "npu: FINI_BO on weights: %s", strerror(-rc));
		goto fail;
	}
	free(f);
	free(q);
	return w;
oom:
	seterr(err, err_len, "npu: out of memory");
fail:
	free(f);
	free(q);
	npu_weight_free(be, w);
	return NULL;
}

void npu_weight_free(struct npu_backend *be, struct npu_weight *w)
{
	if (!w)
		return;
	if (w->bo.handle) {
		be->st.weight_bytes -= w->bo.size;
		be->st.weights--;
	}
	bo_free(be, &w->bo);
	for (uint32_t i = 0; i < w->ncpu; i++)
		qmat_free_repack(&w->cpu[i].q);
	free(w->chunks);
	free(w->scale);
	free(w);
}

/* ---- packed-weight cache ---------------------------------------------- */

uint64_t npu_hash64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v;

	h ^= 0x9e3779b97f4a7c15ull + n;
	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&v, b, 8);
		h = (h ^ v) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; n; n--, b++)
		h = (h ^ *b) * 0x100000001b3ull;
	return h;
}

struct npu_wmeta {
	uint32_t magic, nsub, hb, nchunks;
	uint32_t sub_rows[NPU_MAX_SUB];
	int64_t cols;
	uint64_t image_bytes;
};

#define NPU_WMAGIC 0x5750504eu	/* "NPPW" */

static uint64_t image_bytes(const struct npu_weight *w)
{
	const struct npu_chunk *last = &w->chunks[w->nchunks - 1];

	return last->b_off + (uint64_t)w->np * last->kp;
}

static int put(FILE *f, uint64_t *hash, const void *p, size_t n)
{
	*hash = npu_hash64(*hash, p, n);
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int get(FILE *f, uint64_t *hash, void *p, size_t n)
{
	if (fread(p, 1, n, f) != n)
		return -1;
	*hash = npu_hash64(*hash, p, n);
	return 0;
}

int npu_weight_write(const struct npu_weight *w, FILE *f, uint64_t *hash)
{
	struct npu_wmeta m = { .magic = NPU_WMAGIC, .nsub = w->nsub, .hb = w->hb,
			       .nchunks = w->nchunks, .cols = w->cols,
			       .image_bytes = image_bytes(w) };

	if (!w->bo.map)
		return -1;
	memcpy(m.sub_rows, w->sub_rows, sizeof(m.sub_rows));
	if (put(f, hash, &m, sizeof(m)) ||
	    put(f, hash, w->scale, (size_t)w->rows * sizeof(float)) ||
	    put(f, hash, w->bo.map, m.image_bytes))
		return -1;
	return 0;
}

struct npu_weight *npu_weight_read(struct npu_backend *be, FILE *f, uint64_t *hash, char *err,
				   size_t err_len)
{
	struct npu_wmeta m;
	struct npu_wsrc src[NPU_MAX_SUB];
	struct npu_weight *w;
	int rc;

	if (get(f, hash, &m, sizeof(m)) || m.magic != NPU_WMAGIC || !m.nsub ||
	    m.nsub > NPU_MAX_SUB) {
		seterr(err, err_len, "npu: cache: bad weight record");
		return NULL;
	}
	for (uint32_t i = 0; i < m.nsub; i++)
		src[i] = (struct npu_wsrc){ .data = NULL, .type = GGML_TYPE_F32,
					    .rows = m.sub_rows[i] };
	/* the shape as this backend would prepare it, without data */
	{
		bool dry = be->dry;

		be->dry = true;
		w = npu_weight_load_fused(be, src, (int)m.nsub, m.cols, NULL, NULL, err, err_len);
		be->dry = dry;
	}
	if (!w)
		return NULL;
	be->st.weight_bytes -= w->bo.size;
	be->st.weights--;
	memset(&w->bo, 0, sizeof(w->bo));
	if (w->hb != m.hb || w->nchunks != m.nchunks || image_bytes(w) != m.image_bytes) {
		seterr(err, err_len, "npu: cache made with other options");
		goto fail;
	}
	rc = bo_create(be, m.image_bytes, &w->bo, true);
	if (rc) {
		seterr(err, err_len, "npu: cannot allocate weights: %s", strerror(-rc));
		goto fail;
	}
	be->st.weight_bytes += w->bo.size;
	be->st.weights++;
	if (bo_prep(be, &w->bo) || get(f, hash, w->scale, (size_t)w->rows * sizeof(float)) ||
	    get(f, hash, w->bo.map, m.image_bytes) || bo_fini(be, &w->bo)) {
		seterr(err, err_len, "npu: cache: short weight record");
		goto fail;
	}
	return w;
fail:
	npu_weight_free(be, w);
	return NULL;
}

int npu_weight_set_cpu_share(struct npu_backend *be, struct npu_weight *w,
			     const struct npu_wsrc *src, int n, double share, char *err,
			     size_t err_len)
{
	uint32_t keep;

	for (uint32_t i = 0; i < w->ncpu; i++)
		qmat_free_repack(&w->cpu[i].q);
	w->ncpu = 0;
	w->n_npu = 0;
	if (!(share >= 0 && share < 1)) {
		seterr(err, err_len, "npu: CPU share %g is not in [0, 1)", share);
		return -1;
	}
	if (n != (int)w->nsub) {
		seterr(err, err_len, "npu: CPU share: %d source matrices for %u stacked", n, w->nsub);
		return -1;
	}
	for (int s = 0; s < n; s++) {
		if (src[s].rows != w->sub_rows[s] || (!src[s].data && !be->dry) ||
		    !ops_type_supported(src[s].type)) {
			seterr(err, err_len, "npu: CPU share: source matrix %d (%lld rows, %s) does "
			       "not match or the CPU cannot use it", s, (long long)src[s].rows,
			       ggml_type_name(src[s].type));
			return -1;
		}
	}
	/* the CPU rows run on the caller's pool, else on a one-thread pool of ours */
	if (share > 0 && !be->dry && !be->o.tp && !be->own_tp && !(be->own_tp = threadpool_new(1))) {
		seterr(err, err_len, "npu: out of memory");
		return -1;
	}
	/* NPU rows: whole 32-row weight blocks, at least one */
	keep = (uint32_t)((1.0 - share) * (double)w->rows) / NPU_WB * NPU_WB;
	if (keep < NPU_WB)
		keep = NPU_WB;
	if (share == 0 || keep >= w->rows)
		return 0;
	for (uint32_t s = 0; s < w->nsub; s++) {
		uint32_t lo = w->sub_off[s], hi = lo + w->sub_rows[s];
		uint32_t r0 = keep > lo ? keep - lo : 0;
		struct npu_cpu_slice *c = &w->cpu[w->ncpu];
		uint64_t rb;

		if (hi <= keep)
			continue;
		ggml_row_size(src[s].type, (uint64_t)w->cols, &rb);
		c->sub = s;
		c->r0 = r0;
		if (!qmat_init(&c->q, src[s].data ? (const uint8_t *)src[s].data + (size_t)r0 * rb : NULL,
			       src[s].type, w->sub_rows[s] - r0, w->cols)) {
			seterr(err, err_len, "npu: CPU share: bad source matrix %d", (int)s);
			w->ncpu = 0;
			return -1;
		}
		if (src[s].data)
			qmat_repack(&c->q);	/* the CPU's fast layout, when it has one */
		w->ncpu++;
	}
	w->n_npu = keep;
	return 0;
}

int64_t npu_weight_npu_rows(const struct npu_weight *w)
{
	return w->n_npu ? w->n_npu : w->rows;
}

int64_t npu_weight_rows(const struct npu_weight *w) { return w->rows; }
int64_t npu_weight_cols(const struct npu_weight *w) { return w->cols; }
uint64_t npu_weight_nbytes(const struct npu_weight *w) { return w->bo.size; }

int npu_weight_row_q(const struct npu_weight *w, int64_t n, int8_t *q, float *scale)
{
	if (!w->bo.map || n < 0 || n >= w->rows)
		return -1;
	for (uint32_t c = 0; c < w->nchunks; c++) {
		const struct npu_chunk *ch = &w->chunks[c];
		const int8_t *img = (const int8_t *)w->bo.map + ch->b_off;

		for (uint32_t k = 0; k < ch->k; k++)
			q[ch->k0 + k] = img[w_index((uint32_t)n, k, ch->kp)];
	}
	*scale = w->scale[n];
	return 0;
}

/* ---- one batch ----------------------------------------------------- */

/* Rows per A/C block for an M x kp int8 matmul (docs/npu-generator.md). */
static uint32_t tile_rows(uint32_t Mp, uint32_t kp)
{
	uint32_t r;

	if (Mp == 1)
		return 1;
	r = NPU_DATA_BANK_BYTES / kp;
	if (r > NPU_MAX_TILE_ROWS)
		r = NPU_MAX_TILE_ROWS;
	r &= ~3u;
	return Mp < r ? Mp : r;
}

/*
 * Pack rows [m_lo, m_hi) and columns [k0, k0+k) of q (pitch K) into an
 * Mp x kp NPU input image (already zeroed).
 */
static void pack_a(uint8_t *dst, const int8_t *q, uint32_t m_lo, uint32_t m_hi, uint32_t Mp,
		   int64_t K, uint32_t k0, uint32_t k, uint32_t kp)
{
	uint32_t R = tile_rows(Mp, kp);

	for (uint32_t m = m_lo; m < m_hi; m++) {
		uint32_t blk = m / R, mi = m % R;
		uint32_t rows = Mp - blk * R < R ? Mp - blk * R : R;
		uint8_t *base = dst + (size_t)blk * R * kp + (size_t)mi * 16;
		const int8_t *src = q + (size_t)m * K + k0;

		for (uint32_t kk = 0; kk < k; kk += 16) {
			uint32_t len = k - kk < 16 ? k - kk : 16;

			memcpy(base + (size_t)(kk / 16) * rows * 16, src + kk, len);
		}
	}
}

static int slot_ensure(struct npu_backend *be, struct npu_call *cl, uint32_t slot, uint64_t bytes)
{
	if (slot >= cl->nc) {
		struct npu_bo *n = realloc(cl->c, (slot + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		memset(n + cl->nc, 0, (slot + 1 - cl->nc) * sizeof(*n));
		cl->c = n;
		cl->nc = slot + 1;
	}
	return bo_ensure(be, &cl->c[slot], bytes);
}

/* Output row pointer and bias of column n (global row of W) for row m. */
static inline void out_of(const struct npu_mm *mm, const struct npu_weight *w, uint32_t s,
			  float **y, const float **bias, uint32_t *ld)
{
	*y = mm->ys[s] ? mm->ys[s] : s == 0 ? mm->y : NULL;
	*bias = mm->biases[s] ? mm->biases[s] : s == 0 ? mm->bias : NULL;
	*ld = w->sub_rows[s];
}

/*
 * Read one descriptor's C (Mp x nlen int32, row blocks of R) into the
 * matmul's int32 accumulator (add: later K chunks) or, rescaled, straight
 * into the outputs of the stacked matrices it covers.
 */
static void read_c(const int32_t *C, const struct npu_part *p, const struct npu_mm *mm,
		   uint32_t m_lo, uint32_t m_hi, const float *as, int32_t *acc, bool add)
{
	const struct npu_weight *w = mm->w;
	uint32_t N = (uint32_t)w->rows, R = p->R, Mp = p->mlen;

	for (uint32_t s = 0; s < w->nsub; s++) {
		uint32_t lo = w->sub_off[s] > p->n0 ? w->sub_off[s] : p->n0;
		uint32_t hi = w->sub_off[s] + w->sub_rows[s];
		float *y;
		const float *bias;
		uint32_t ld;

		if (hi > p->n0 + p->nlen)
			hi = p->n0 + p->nlen;
		if (lo >= hi)
			continue;
		out_of(mm, w, s, &y, &bias, &ld);
		for (uint32_t blk = 0; blk * R < Mp; blk++) {
			uint32_t rows = Mp - blk * R < R ? Mp - blk * R : R;
			const int32_t *cb = C + (size_t)blk * R * p->nlen;

			for (uint32_t mi = 0; mi < rows; mi++) {
				uint32_t m = p->m0 + blk * R + mi;

				if (m < m_lo)
					continue;
				if (m >= m_hi)
					break;
				for (uint32_t n = lo; n < hi; n++) {
					uint32_t c = n - p->n0;
					int32_t v = cb[(size_t)(c & ~3u) * rows + (size_t)mi * 4 + (c & 3)];

					if (acc) {
						int32_t *d = acc + (size_t)m * N + n;

						*d = add ? *d + v : v;
					} else if (y) {
						uint32_t j = n - w->sub_off[s];

						y[(size_t)m * ld + j] = (float)v * as[m] * w->scale[n] +
									(bias ? bias[j] : 0.0f);
					}
				}
			}
		}
	}
}

/*
 * acc -> outputs for columns [n0, n1) and rows [m_lo, m_hi) (after the last K
 * chunk). lo > 0: hi/lo rows, y[m] = (acc[m] a[m] + acc[lo + m] a[lo + m]) w[n]
 * (+ bias), summed in double.
 */
static void rescale_acc(const struct npu_mm *mm, const int32_t *acc, uint32_t lo_rows,
			uint32_t m_lo, uint32_t m_hi, uint32_t n0, uint32_t n1, const float *as)
{
	const struct npu_weight *w = mm->w;
	uint32_t N = (uint32_t)w->rows;

	for (uint32_t s = 0; s < w->nsub; s++) {
		uint32_t lo = w->sub_off[s] > n0 ? w->sub_off[s] : n0;
		uint32_t hi = w->sub_off[s] + w->sub_rows[s] < n1 ? w->sub_off[s] + w->sub_rows[s] : n1;
		float *y;
		const float *bias;
		uint32_t ld;

		out_of(mm, w, s, &y, &bias, &ld);
		if (!y)
			continue;
		for (uint32_t m = m_lo; m < m_hi; m++)
			for (uint32_t n = lo; n < hi; n++) {
				uint32_t j = n - w->sub_off[s];
				const int32_t *a = acc + (size_t)m * N + n;
				float v;

				if (lo_rows)
					v = (float)(((double)a[0] * as[m] +
						     (double)a[(size_t)lo_rows * N] * as[lo_rows + m]) *
						    w->scale[n]);
				else
					v = (float)a[0] * as[m] * w->scale[n];
				y[(size_t)m * ld + j] = v + (bias ? bias[j] : 0.0f);
			}
	}
}

/* Row-parallel work of a batch on the thread pool. */
struct par {
	int kind;		/* 0: quantise + pack, 1: read C, 2: rescale acc */
	enum ops_isa isa;
	uint32_t m_lo, m_hi;
	uint32_t Mu;		/* hi/lo: user rows (lo rows at Mu..) */
	/* quantise */
	const float *x;
	int64_t K;
	int8_t *q;
	float *scales;
	const struct npu_weight *w;
	uint8_t *img;
	uint32_t Mp;
	/* read */
	const int32_t *C;
	const struct npu_part *p;
	const struct npu_mm *mm;
	const float *as;
	int32_t *acc;
	bool add;
	uint32_t n0, n1;
};

static void par_rows(const struct par *j, int ith, int nth, uint32_t *lo, uint32_t *hi)
{
	uint32_t n = j->m_hi - j->m_lo;

	*lo = j->m_lo + (uint32_t)((uint64_t)n * ith / nth);
	*hi = j->m_lo + (uint32_t)((uint64_t)n * (ith + 1) / nth);
}

static void par_fn(void *arg, int ith, int nth)
{
	const struct par *j = arg;
	uint32_t lo, hi;

	par_rows(j, ith, nth, &lo, &hi);
	if (lo >= hi)
		return;
	if (j->kind == 0) {
		uint8_t *img = j->img;

		for (uint32_t m = lo; m < hi; m++) {
			const float *x = j->x + (size_t)m * j->K;
			int8_t *q = j->q + (size_t)m * j->K;
			float s = quantize_row_isa(j->isa, x, j->K, q);

			j->scales[m] = s;
			if (j->Mu) {	/* the residual as a second row, scale s / 254 */
				int8_t *q2 = j->q + (size_t)(j->Mu + m) * j->K;
				float inv = s > 0 ? 254.0f / s : 0.0f;

				for (int64_t k = 0; k < j->K; k++) {
					long v = lrintf((x[k] - s * q[k]) * inv);

					q2[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
				}
				j->scales[j->Mu + m] = s / 254.0f;
			}
		}
		for (uint32_t c = 0; c < j->w->nchunks; c++) {
			const struct npu_chunk *ch = &j->w->chunks[c];

			pack_a(img, j->q, lo, hi, j->Mp, j->K, ch->k0, ch->k, ch->kp);
			if (j->Mu)
				pack_a(img, j->q, j->Mu + lo, j->Mu + hi, j->Mp, j->K, ch->k0, ch->k,
				       ch->kp);
			img += ((uint64_t)j->Mp * ch->kp + NPU_ALIGN - 1) / NPU_ALIGN * NPU_ALIGN;
		}
	} else if (j->kind == 1) {
		read_c(j->C, j->p, j->mm, lo, hi, j->as, j->acc, j->add);
	} else {
		rescale_acc(j->mm, j->acc, j->Mu, lo, hi, j->n0, j->n1, j->as);
	}
}

/* Run j over its rows, in parallel when there is enough work. */
static void par_run(struct npu_backend *be, struct par *j, uint64_t work)
{
	if (be->o.tp && work >= 65536 && j->m_hi - j->m_lo > 1)
		threadpool_run(be->o.tp, par_fn, j);
	else
		par_fn(j, 0, 1);
}

static int submit(struct npu_backend *be, const struct drm_rocket_matmul *d, uint32_t count,
		  char *err, size_t err_len)
{
	struct drm_rocket_submit_matmul args = {
		.matmuls = (uint64_t)(uintptr_t)d,
		.matmul_count = count,
		.matmul_struct_size = sizeof(*d),
	};
	double t0 = now_s();

	if (be->o.on_submit)
		be->o.on_submit(be->o.on_submit_arg, d, count);
	be->st.ioctls++;
	be->st.descs += count;
	for (uint32_t i = 0; i < count; i++)
		be->st.macs += (uint64_t)d[i].m * d[i].k * d[i].n;
	if (be->dry)
		return 0;
	if (drmIoctl(be->fd, DRM_IOCTL_ROCKET_SUBMIT_MATMUL, &args)) {
		seterr(err, err_len, "npu: SUBMIT_MATMUL of %u matmuls failed: %s", count,
		       strerror(errno));
		return -1;
	}
	be->st.t_submit += now_s() - t0;
	return 0;
}

/*
 * Row groups of a matmul for the kernel's core split: with T row tiles and
 * T % cores != 0 the kernel would give some core more tiles than others;
 * submitting floor(T / cores) * cores tiles as one descriptor and each
 * remaining tile as its own (which the kernel then splits by N) keeps the
 * cores even. Row groups are whole row blocks, so they address the same
 * A image (and C layout) as the full matmul.
 */
static uint32_t row_groups(const struct npu_backend *be, const struct npu_weight *w, uint32_t Mp,
			   bool hilo, uint32_t g[][2])
{
	uint32_t kp = w->chunks[0].kp, R, tiles, first, n = 0;
	uint64_t macs = (uint64_t)Mp * kp * w->np;

	g[0][0] = 0;
	g[0][1] = Mp;
	if (Mp == 1 || w->nchunks > 1 || be->o.no_row_groups || hilo ||
	    macs < NPU_KERNEL_SPLIT_MACS)
		return 1;
	R = tile_rows(Mp, kp);
	tiles = (Mp + R - 1) / R;
	if (tiles < 2 || tiles % be->o.cores == 0)
		return 1;
	first = tiles / be->o.cores * be->o.cores;
	if (first) {
		g[n][0] = 0;
		g[n][1] = first * R;
		n++;
	}
	for (uint32_t t = first; t < tiles; t++) {
		g[n][0] = t * R;
		g[n][1] = Mp - t * R < R ? Mp - t * R : R;
		n++;
	}
	return n;
}

static const struct npu_input *input_of(const struct npu_call *cl, uint32_t nin,
					const struct npu_mm *m)
{
	for (uint32_t j = 0; j < nin; j++)
		if (cl->in[j].x == m->x && cl->in[j].K == m->w->cols && cl->in[j].hb == m->w->hb)
			return &cl->in[j];
	return NULL;
}

/* The CPU's rows of a row-split decode call, computed while the NPU runs. */
static int cpu_rows(struct npu_backend *be, const struct npu_mm *mm, int count, uint32_t Mu,
		    char *err, size_t err_len)
{
	struct threadpool *tp = be->o.tp ? be->o.tp : be->own_tp;
	const float *xq_src = NULL;
	double t0 = now_s();

	if (Mu > NPU_HILO_MAX_M)
		return 0;
	for (int i = 0; i < count; i++) {
		const struct npu_weight *w = mm[i].w;

		for (uint32_t c = 0; c < w->ncpu; c++) {
			const struct npu_cpu_slice *sl = &w->cpu[c];
			const struct qmat *q = &sl->q;
			size_t n = (size_t)q->rows;
			const float *bias;
			float *y;
			uint32_t ld;

			be->st.cpu_bytes += (uint64_t)q->rows * q->row_bytes;
			be->st.cpu_macs += (uint64_t)Mu * q->rows * q->cols;
			out_of(&mm[i], w, sl->sub, &y, &bias, &ld);
			if (be->dry || !y)
				continue;
			/* Q8_K activations for K-quant rows only: the blocks of 32
			 * keep f32 here, so the share stays closer to the f32 path
			 * than the NPU's int8 (test_npu_model) */
			bool k8 = ops_act8_ok(q) && ops_act8_format(q->type) == GGML_TYPE_Q8_K;

			if (k8 && xq_src != mm[i].x) {
				if (!grow(&be->xq, &be->xq_n, ops_act8_bytes(GGML_TYPE_Q8_K, Mu, q->cols), 1))
					goto oom;
				ops_quantize_act8(tp, be->isa, GGML_TYPE_Q8_K, mm[i].x, Mu, q->cols, be->xq);
				xq_src = mm[i].x;
			}
			if (!grow((void **)&be->cy, &be->cy_n, Mu * n, sizeof(float)))
				goto oom;
			if (k8 ? ops_matmul_act8(tp, be->isa, q, mm[i].x, be->xq, Mu, be->cy) :
				 ops_matmul(tp, be->isa, q, mm[i].x, Mu, be->cy))
				goto oom;
			for (uint32_t m = 0; m < Mu; m++)
				for (size_t j = 0; j < n; j++)
					y[(size_t)m * ld + sl->r0 + j] =
						be->cy[m * n + j] + (bias ? bias[sl->r0 + j] : 0.0f);
		}
	}
	be->st.t_cpu += now_s() - t0;
	return 0;
oom:
	seterr(err, err_len, "npu: out of memory (CPU rows)");
	return -1;
}

int npu_matmul_submit(struct npu_backend *be, const struct npu_mm *mm, int count, int64_t M64,
		      char *err, size_t err_len)
{
	struct npu_call *cl = &be->calls[be->head % NPU_INFLIGHT];
	uint32_t M, Mp, Mu, nin = 0, nparts = 0, ndesc = 0;
	uint64_t a_total = 0;
	double t0 = now_s();
	int rc;

	if (count < 0 || count > 4096) {
		seterr(err, err_len, "npu: bad matmul count %d", count);
		return -1;
	}
	if (be->head - be->tail >= NPU_INFLIGHT) {
		seterr(err, err_len, "npu: more than %d calls in flight", NPU_INFLIGHT);
		return -1;
	}
	cl->count = 0;
	cl->nin = 0;
	cl->nparts = 0;
	if (count == 0)
		return (int)(be->head++ & INT32_MAX);
	if (M64 <= 0 || M64 > 65536) {
		seterr(err, err_len, "npu: bad row count %lld", (long long)M64);
		return -1;
	}
	Mu = (uint32_t)M64;
	/* hi/lo (decode-sized calls only): the lo rows after the hi rows */
	M = be->o.act_hilo && Mu <= NPU_HILO_MAX_M ? 2 * Mu : Mu;
	Mp = M == 1 ? 1 : (M + 3) / 4 * 4;
	if (M == 1 && be->o.pad_for_split)
		for (int i = 0; i < count; i++) {
			uint64_t macs = (uint64_t)mm[i].w->np * (uint64_t)mm[i].w->chunks[0].kp;

			if (macs < NPU_KERNEL_SPLIT_MACS && 4 * macs >= NPU_KERNEL_SPLIT_MACS)
				Mp = 4;
		}
	be->st.calls++;
	if (!grow((void **)&cl->mm, &cl->mm_n, (size_t)count, sizeof(*cl->mm)))
		goto oom;
	memcpy(cl->mm, mm, (size_t)count * sizeof(*mm));
	mm = cl->mm;

	/* distinct inputs, and the parts (descriptors) of every matmul */
	if (!grow((void **)&cl->in, &cl->in_n, (size_t)count, sizeof(*cl->in)))
		goto oom;
	for (int i = 0; i < count; i++) {
		const struct npu_weight *w = mm[i].w;
		/* a decode call of a row-split weight: only the NPU's rows */
		uint32_t n_use = w->n_npu && Mu <= NPU_HILO_MAX_M ? w->n_npu : w->np;
		uint32_t nparts_i = 1, units = n_use / NPU_WB, groups[64][2], ng;
		uint64_t macs = (uint64_t)Mp * n_use * (uint64_t)w->cols;

		if (!input_of(cl, nin, &mm[i])) {
			struct npu_input *in = &cl->in[nin++];

			memset(in, 0, sizeof(*in));
			in->x = mm[i].x;
			in->K = w->cols;
			in->hb = w->hb;
			in->off = a_total;
			for (uint32_t c = 0; c < w->nchunks; c++)
				in->bytes += ((uint64_t)Mp * w->chunks[c].kp + NPU_ALIGN - 1) /
					     NPU_ALIGN * NPU_ALIGN;
			a_total += in->bytes;
		}
		/* below the kernel's own split (2^24 MACs): split by N ourselves */
		if (be->o.n_split > 1 && macs >= be->o.n_split_min_macs && macs < NPU_KERNEL_SPLIT_MACS)
			nparts_i = be->o.n_split < units ? be->o.n_split : units;
		ng = row_groups(be, w, Mp, M != Mu, groups);
		if (!grow((void **)&cl->parts, &cl->parts_n,
			  nparts + (size_t)ng * nparts_i * w->nchunks, sizeof(*cl->parts)))
			goto oom;
		for (uint32_t g = 0; g < ng; g++)
			for (uint32_t p = 0, done = 0; p < nparts_i; p++) {
				uint32_t share = units / nparts_i + (p < units % nparts_i);

				for (uint32_t c = 0; c < w->nchunks; c++) {
					struct npu_part *pt = &cl->parts[nparts];

					pt->mm = i;
					pt->chunk = c;
					pt->nchunks = w->nchunks;
					pt->n0 = done * NPU_WB;
					pt->nlen = share * NPU_WB;
					pt->m0 = groups[g][0];
					pt->mlen = groups[g][1];
					pt->slot = nparts;
					pt->R = tile_rows(pt->mlen, w->chunks[c].kp);
					nparts++;
				}
				done += share;
			}
	}

	/* quantise and pack every distinct input */
	rc = bo_ensure(be, &cl->a, a_total);
	if (!rc)
		rc = bo_prep(be, &cl->a);
	if (rc) {
		seterr(err, err_len, "npu: activation buffer: %s", strerror(-rc));
		return -1;
	}
	if (!grow((void **)&cl->scales, &cl->scales_n, (size_t)M * nin, sizeof(float)))
		goto oom;
	memset(cl->a.map, 0, a_total);
	for (uint32_t j = 0; j < nin; j++) {
		struct npu_input *in = &cl->in[j];
		const struct npu_weight *w = NULL;
		const float *x = in->x;
		struct par pj;

		for (int i = 0; i < count && !w; i++)
			if (mm[i].x == in->x && mm[i].w->cols == in->K && mm[i].w->hb == in->hb)
				w = mm[i].w;
		if (!grow((void **)&be->q, &be->q_n, (size_t)M * in->K, 1))
			goto oom;
		if (in->hb) {
			if (!grow((void **)&be->xt, &be->xt_n, (size_t)Mu * in->K, sizeof(float)))
				goto oom;
			memcpy(be->xt, x, (size_t)Mu * in->K * sizeof(float));
			for (uint32_t m = 0; m < Mu; m++)
				hadamard_isa(be->isa, be->xt + (size_t)m * in->K, in->K, in->hb);
			x = be->xt;
		}
		in->scale = cl->scales + (size_t)j * M;
		pj = (struct par){ .kind = 0, .isa = be->isa, .m_lo = 0, .m_hi = Mu, .x = x, .K = in->K, .q = be->q,
				   .scales = in->scale, .w = w, .Mu = M != Mu ? Mu : 0,
				   .img = (uint8_t *)cl->a.map + in->off, .Mp = Mp };
		par_run(be, &pj, (uint64_t)M * in->K);
		be->st.a_bytes += in->bytes;
	}
	rc = bo_fini(be, &cl->a);
	if (rc) {
		seterr(err, err_len, "npu: FINI_BO on activations: %s", strerror(-rc));
		return -1;
	}
	be->st.t_quant += now_s() - t0;

	/* descriptors, submitted 64 at a time */
	if (!grow((void **)&be->descs, &be->descs_n, nparts, sizeof(*be->descs)))
		goto oom;
	for (uint32_t p = 0; p < nparts; p++) {
		struct npu_part *pt = &cl->parts[p];
		const struct npu_weight *w = mm[pt->mm].w;
		const struct npu_chunk *ch = &w->chunks[pt->chunk];
		struct drm_rocket_matmul *d = &be->descs[ndesc++];
		uint64_t a_off = input_of(cl, nin, &mm[pt->mm])->off;

		for (uint32_t c = 0; c < pt->chunk; c++)
			a_off += ((uint64_t)Mp * w->chunks[c].kp + NPU_ALIGN - 1) / NPU_ALIGN *
				 NPU_ALIGN;
		a_off += (uint64_t)pt->m0 * ch->kp;	/* row group: whole row blocks */
		rc = slot_ensure(be, cl, pt->slot, (uint64_t)pt->mlen * pt->nlen * 4);
		if (rc) {
			seterr(err, err_len, "npu: result buffer: %s", strerror(-rc));
			return -1;
		}
		memset(d, 0, sizeof(*d));
		d->a_handle = cl->a.handle;
		d->a_offset = a_off;
		d->b_handle = w->bo.handle;
		d->b_offset = ch->b_off + (uint64_t)pt->n0 * ch->kp;
		d->c_handle = cl->c[pt->slot].handle;
		d->m = pt->mlen;
		d->k = ch->kp;
		d->n = pt->nlen;
		d->in_type = DRM_ROCKET_TYPE_INT8;
		d->weight_type = DRM_ROCKET_TYPE_INT8;
		d->out_type = DRM_ROCKET_TYPE_INT32;
		if (be->o.split_decode && Mu <= NPU_HILO_MAX_M)
			d->flags = DRM_ROCKET_MATMUL_SPLIT;
		be->st.b_bytes += (uint64_t)pt->nlen * ch->kp;
	}
	for (uint32_t s = 0; s < ndesc; s += NPU_MAX_DESCS)
		if (submit(be, be->descs + s, ndesc - s < NPU_MAX_DESCS ? ndesc - s : NPU_MAX_DESCS,
			   err, err_len))
			return -1;
	cl->nin = nin;
	cl->nparts = nparts;
	cl->M = M;
	cl->Mu = Mu;
	cl->Mp = Mp;
	cl->count = count;
	return (int)(be->head++ & INT32_MAX);
oom:
	seterr(err, err_len, "npu: out of memory");
	return -1;
}

int npu_matmul_wait(struct npu_backend *be, int ticket, char *err, size_t err_len)
{
	struct npu_call *cl = &be->calls[be->tail % NPU_INFLIGHT];
	const struct npu_mm *mm = cl->mm;
	uint32_t M = cl->M, Mu = cl->Mu, nin = cl->nin, nparts = cl->nparts;
	int rc;

	if (be->head == be->tail || ticket != (int)(be->tail & INT32_MAX)) {
		seterr(err, err_len, "npu: waiting for call %d, the next one is %lld", ticket,
		       (long long)(be->tail & INT32_MAX));
		return -1;
	}
	be->tail++;
	if (cpu_rows(be, mm, cl->count, Mu, err, err_len))
		return -1;

	/* results, in order: wait, unpack, rescale */
	for (uint32_t p = 0; p < nparts; p++) {
		const struct npu_part *pt = &cl->parts[p];
		const struct npu_mm *m = &mm[pt->mm];
		const struct npu_weight *w = m->w;
		const float *as = input_of(cl, nin, m)->scale;
		bool multi = pt->nchunks > 1 || m->acc || M != Mu;
		int32_t *acc = m->acc;
		uint32_t m_hi = pt->m0 + pt->mlen < M ? pt->m0 + pt->mlen : M;
		uint32_t n1 = pt->n0 + pt->nlen < w->rows ? pt->n0 + pt->nlen : (uint32_t)w->rows;
		double t1 = now_s();
		struct par pj;

		if (pt->m0 >= M)
			continue;	/* padding rows only */
		if (multi && !acc) {
			if (!grow((void **)&be->acc, &be->acc_n, (size_t)M * w->rows, sizeof(int32_t)))
				goto oom;
			acc = be->acc;
		}
		if (be->dry) {
			if (pt->chunk + 1 == pt->nchunks) {
				if (!grow((void **)&be->acc, &be->acc_n, (size_t)M * w->rows,
					  sizeof(int32_t)))
					goto oom;
				memset(be->acc, 0, (size_t)M * w->rows * sizeof(int32_t));
				if (M != Mu)
					rescale_acc(m, be->acc, Mu, 0, Mu, pt->n0, n1, as);
				else
					rescale_acc(m, be->acc, 0, pt->m0, m_hi, pt->n0, n1, as);
			}
			continue;
		}
		rc = bo_prep(be, &cl->c[pt->slot]);
		if (rc) {
			seterr(err, err_len, "npu: waiting for the NPU: %s", strerror(-rc));
			return -1;
		}
		be->st.waits++;
		be->st.t_wait += now_s() - t1;
		t1 = now_s();
		pj = (struct par){ .kind = 1, .m_lo = pt->m0, .m_hi = m_hi, .C = cl->c[pt->slot].map,
				   .p = pt, .mm = m, .as = as, .acc = multi ? acc : NULL,
				   .add = pt->chunk > 0 };
		par_run(be, &pj, (uint64_t)pt->mlen * pt->nlen);
		be->st.c_bytes += (uint64_t)pt->mlen * pt->nlen * 4;
		rc = bo_fini(be, &cl->c[pt->slot]);
		if (rc) {
			seterr(err, err_len, "npu: FINI_BO on results: %s", strerror(-rc));
			return -1;
		}
		if (multi && pt->chunk + 1 == pt->nchunks) {
			/* hi/lo: every part covers all rows (no row groups) */
			pj = (struct par){ .kind = 2, .m_lo = M != Mu ? 0 : pt->m0,
					   .m_hi = M != Mu ? Mu : m_hi, .Mu = M != Mu ? Mu : 0,
					   .mm = m, .acc = acc,
					   .as = as, .n0 = pt->n0, .n1 = n1 };
			par_run(be, &pj, (uint64_t)(m_hi - pt->m0) * (n1 - pt->n0));
		}
		be->st.t_unpack += now_s() - t1;
	}
	return 0;
oom:
	seterr(err, err_len, "npu: out of memory");
	return -1;
}

int npu_matmul_in_flight(const struct npu_backend *be)
{
	return (int)(be->head - be->tail);
}

int npu_matmul_batch(struct npu_backend *be, const struct npu_mm *mm, int count, int64_t M64,
		     char *err, size_t err_len)
{
	int t = npu_matmul_submit(be, mm, count, M64, err, err_len);

	return t < 0 ? -1 : npu_matmul_wait(be, t, err, err_len);
}
