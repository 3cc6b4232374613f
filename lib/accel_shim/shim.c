// SPDX-License-Identifier: MIT
/*
 * librocket-shim.so: an EMULATED Rockchip rocket NPU device, in the manner of
 * Mesa's drm-shim. Preloaded (LD_PRELOAD) into a process, it fakes
 * /dev/accel/accel0.. (open, close, ioctl, mmap, munmap, the stat family, the
 * sysfs uevent files) and implements the rocket uAPI on top of the strict NPU
 * simulator (lib/npu_sim.h). See docs/emulator.md.
 *
 * It is not hardware and says so: DRM_IOCTL_VERSION's desc names the
 * Rosenblatt emulator. Model of the kernel it follows (7.3 rocket + our
 * patches): one GEM handle table and one NPU address space (IOMMU domain)
 * per open file, BO IOVAs first-fit from 0 page aligned, mmap through a fake
 * offset, jobs run their tasks in order on one core with the mainline task
 * start (PC_BASE_ADDRESS / REGISTER_AMOUNTS per task, npu_sim_run_task()).
 * Jobs execute synchronously inside the submitting ioctl (so PREP_BO never
 * has to wait); see the document for every other difference.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <drm/rocket_accel.h>

#include "npu_sim.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- real libc entry points ------------------------------------------------ */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static int (*real_munmap)(void *, size_t);
static int (*real_stat)(const char *, struct stat *);
static int (*real_stat64)(const char *, struct stat64 *);
static int (*real_lstat)(const char *, struct stat *);
static int (*real_lstat64)(const char *, struct stat64 *);
static int (*real_fstat)(int, struct stat *);
static int (*real_fstat64)(int, struct stat64 *);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static int (*real_fstatat64)(int, const char *, struct stat64 *, int);
static int (*real_statx)(int, const char *, int, unsigned int, struct statx *);

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

#define LOAD(name) (*(void **)&real_##name = dlsym(RTLD_NEXT, #name))

static void load_real(void)
{
	LOAD(open); LOAD(open64); LOAD(openat); LOAD(openat64); LOAD(close);
	LOAD(ioctl); LOAD(mmap); LOAD(mmap64); LOAD(munmap);
	LOAD(stat); LOAD(stat64); LOAD(lstat); LOAD(lstat64); LOAD(fstat);
	LOAD(fstat64); LOAD(fstatat); LOAD(fstatat64); LOAD(statx);
}

static void real_init(void)
{
	pthread_once(&real_once, load_real);
}

/* ---- configuration (environment) ---------------------------------------- */

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 0);
	if (*end || v < lo || v > hi) {
		fprintf(stderr, "rocket-shim: %s=%s out of range %d..%d, using %d\n", name, s, lo, hi, def);
		return def;
	}
	return (int)v;
}

/*
 * ROSENBLATT_SHIM_FAULT: comma-separated "alloc", "alloc@N", "timeout",
 * "timeout@N". Read on every decision so a test may setenv() it.
 */
int shim_fault_hit(const char *what, unsigned long count)
{
	const char *s = getenv("ROSENBLATT_SHIM_FAULT");
	size_t wl = strlen(what);

	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len >= wl && !strncmp(s, what, wl)) {
			if (len == wl)
				return 1;
			if (s[wl] == '@' && strtoul(s + wl + 1, NULL, 10) == count)
				return 1;
		}
		s = e ? e + 1 : NULL;
	}
	return 0;
}

/* ---- device model ----------------------------------------------------------- */

#define PAGE 4096ull
#define NPU_SPACE (1ull << 32)		/* rockchip-iommu aperture: 0 .. 4 GiB - 1 */
#define MMAP_OFFSET_START (1ull << 32)	/* DRM_FILE_PAGE_OFFSET_START, 64 bit */
#define MAX_FDS 16384
#define MAX_COPY (64u << 20)		/* largest array the emulator copies in */

struct shim_domain;

struct shim_bo {
	int refs;			/* under g_lock */
	struct shim_dev *dev;
	struct shim_domain *dom;
	int memfd;
	uint8_t *host;
	uint64_t size;			/* requested size (drm_mm node size) */
	uint64_t map_size;		/* page aligned */
	uint64_t dma;
	uint64_t mmap_off;
	struct shim_bo *dom_next;	/* domain list, sorted by dma */
	struct shim_bo *dev_next;	/* device list (mmap offsets) */
};

struct shim_domain {
	int refs;
	struct shim_bo *bos;
	unsigned int nbos;
};

struct shim_core {
	pthread_mutex_t lock;
	unsigned long jobs, tasks, faults;
};

struct shim_dev {
	int minor;
	int ncores;
	uint64_t next_mmap_off;
	struct shim_bo *bos;
	struct shim_core cores[SHIM_MAX_CORES];
	atomic_uint next_core;
};

struct shim_file {
	struct shim_dev *dev;
	struct shim_domain *dom;
	struct shim_bo **handles;	/* [0] unused */
	uint32_t nhandles;
	int fd;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_file *g_fds[MAX_FDS];
static struct shim_dev g_devs[SHIM_MAX_DEVS];
static int g_ndevs;
static atomic_ulong g_allocs, g_jobs;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
}

static void atfork_child(void)
{
	pthread_mutex_unlock(&g_lock);
	/* Core locks may be held by threads that do not exist in the child. */
	for (int d = 0; d < g_ndevs; d++)
		for (int c = 0; c < SHIM_MAX_CORES; c++)
			pthread_mutex_init(&g_devs[d].cores[c].lock, NULL);
}

static void g_init(void)
{
	real_init();
	g_ndevs = env_int("ROSENBLATT_SHIM_DEVICES", 1, 1, SHIM_MAX_DEVS);
	for (int d = 0; d < SHIM_MAX_DEVS; d++) {
		g_devs[d].minor = d;
		g_devs[d].ncores = env_int("ROSENBLATT_SHIM_CORES", 3, 1, SHIM_MAX_CORES);
		g_devs[d].next_mmap_off = MMAP_OFFSET_START;
		for (int c = 0; c < SHIM_MAX_CORES; c++)
			pthread_mutex_init(&g_devs[d].cores[c].lock, NULL);
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void shim_init(void)
{
	pthread_once(&g_once, g_init);
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (!getenv("ROSENBLATT_SHIM_STATS"))
		return;
	for (int d = 0; d < g_ndevs; d++)
		for (int c = 0; c < g_devs[d].ncores; c++)
			fprintf(stderr, "rocket-shim: pid %d accel%d core %d: %lu jobs, %lu tasks, %lu faults\n",
				(int)getpid(), d, c, g_devs[d].cores[c].jobs, g_devs[d].cores[c].tasks,
				g_devs[d].cores[c].faults);
}

/* Device minor of an accel path, -1 if it is not one of ours. */
static int accel_path_minor(const char *path)
{
	static const char pfx[] = "/dev/accel/accel";
	char *end;
	long n;

	if (strncmp(path, pfx, sizeof(pfx) - 1))
		return -1;
	path += sizeof(pfx) - 1;
	if (*path < '0' || *path > '9')
		return -1;
	n = strtol(path, &end, 10);
	if (*end)
		return -1;
	shim_init();
	return n < g_ndevs ? (int)n : -1;
}

static struct shim_file *fd_file(int fd)
{
	struct shim_file *f = NULL;

	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	pthread_mutex_lock(&g_lock);
	f = g_fds[fd];
	pthread_mutex_unlock(&g_lock);
	return f;
}

/* ---- user memory access that fails with -EFAULT instead of crashing ------- */

static __thread int tl_pipe[2] = { -1, -1 };
static __thread pid_t tl_pid;

static int umem_pipe(void)
{
	pid_t pid = getpid();

	if (tl_pipe[0] >= 0 && tl_pid == pid)
		return 0;
	if (tl_pipe[0] >= 0) {	/* inherited through fork: the parent's pipe */
		syscall(SYS_close, tl_pipe[0]);
		syscall(SYS_close, tl_pipe[1]);
	}
	if (pipe2(tl_pipe, O_CLOEXEC | O_NONBLOCK)) {
		tl_pipe[0] = tl_pipe[1] = -1;
		return -ENOMEM;
	}
	tl_pid = pid;
	return 0;
}

static void umem_drain(void)
{
	char tmp[4096];

	while (syscall(SYS_read, tl_pipe[0], tmp, sizeof(tmp)) > 0)
		;
}

/* The kernel's copy_from_user(): 0 or -EFAULT. */
int shim_copy_from_user(void *dst, uint64_t src, size_t len)
{
	uint8_t *d = dst;

	if (!len)
		return 0;
	if (!src || src + len < src)
		return -EFAULT;
	if (umem_pipe())
		return -ENOMEM;
	while (len) {
		size_t c = len > 4096 ? 4096 : len;
		long n = syscall(SYS_write, tl_pipe[1], (const void *)(uintptr_t)src, c);

		if (n != (long)c) {
			umem_drain();
			return -EFAULT;
		}
		if (syscall(SYS_read, tl_pipe[0], d, c) != (long)c) {
			umem_drain();
			return -EFAULT;
		}
		d += c;
		src += c;
		len -= c;
	}
	return 0;
}

int shim_copy_to_user(uint64_t dst, const void *src, size_t len)
{
	const uint8_t *s = src;

	if (!len)
		return 0;
	if (!dst || dst + len < dst)
		return -EFAULT;
	if (umem_pipe())
		return -ENOMEM;
	while (len) {
		size_t c = len > 4096 ? 4096 : len;

		if (syscall(SYS_write, tl_pipe[1], s, c) != (long)c) {
			umem_drain();
			return -EFAULT;
		}
		if (syscall(SYS_read, tl_pipe[0], (void *)(uintptr_t)dst, c) != (long)c) {
			umem_drain();
			return -EFAULT;
		}
		s += c;
		dst += c;
		len -= c;
	}
	return 0;
}

/* ---- BOs, handles, domains ---------------------------------------------------- */

static void domain_put_locked(struct shim_domain *dom)
{
	if (--dom->refs == 0)
		free(dom);
}

static void bo_get_locked(struct shim_bo *bo)
{
	bo->refs++;
}

static void bo_put_locked(struct shim_bo *bo)
{
	struct shim_bo **pp;

	if (--bo->refs)
		return;
	for (pp = &bo->dom->bos; *pp; pp = &(*pp)->dom_next)
		if (*pp == bo) {
			*pp = bo->dom_next;
			bo->dom->nbos--;
			break;
		}
	for (pp = &bo->dev->bos; *pp; pp = &(*pp)->dev_next)
		if (*pp == bo) {
			*pp = bo->dev_next;
			break;
		}
	domain_put_locked(bo->dom);
	real_munmap(bo->host, bo->map_size);
	syscall(SYS_close, bo->memfd);
	free(bo);
}

struct shim_bo *shim_bo_lookup_get(struct shim_file *f, uint32_t handle)
{
	struct shim_bo *bo = NULL;

	pthread_mutex_lock(&g_lock);
	if (handle && handle < f->nhandles && f->handles[handle]) {
		bo = f->handles[handle];
		bo_get_locked(bo);
	}
	pthread_mutex_unlock(&g_lock);
	return bo;
}

void shim_bo_put(struct shim_bo *bo)
{
	if (!bo)
		return;
	pthread_mutex_lock(&g_lock);
	bo_put_locked(bo);
	pthread_mutex_unlock(&g_lock);
}

uint64_t shim_bo_dma(const struct shim_bo *bo) { return bo->dma; }
uint64_t shim_bo_size(const struct shim_bo *bo) { return bo->map_size; }
void *shim_bo_host(const struct shim_bo *bo) { return bo->host; }

/* First fit in [0, 4 GiB), page aligned, like drm_mm_insert_node_generic(). */
static int domain_alloc_locked(struct shim_domain *dom, uint64_t size, uint64_t *out)
{
	uint64_t at = 0;

	for (struct shim_bo *b = dom->bos; b; b = b->dom_next) {
		if (b->dma >= at && b->dma - at >= size)
			break;
		at = (b->dma + b->size + PAGE - 1) & ~(PAGE - 1);
	}
	if (at > NPU_SPACE || NPU_SPACE - at < size)
		return -ENOSPC;
	*out = at;
	return 0;
}

static void domain_insert_locked(struct shim_domain *dom, struct shim_bo *bo)
{
	struct shim_bo **pp = &dom->bos;

	while (*pp && (*pp)->dma < bo->dma)
		pp = &(*pp)->dom_next;
	bo->dom_next = *pp;
	*pp = bo;
	dom->nbos++;
}

static int handle_alloc_locked(struct shim_file *f, struct shim_bo *bo, uint32_t *handle)
{
	uint32_t h;

	for (h = 1; h < f->nhandles; h++)
		if (!f->handles[h])
			break;
	if (h >= f->nhandles) {
		uint32_t n = f->nhandles ? f->nhandles * 2 : 16;
		struct shim_bo **nh = realloc(f->handles, n * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		memset(nh + f->nhandles, 0, (n - f->nhandles) * sizeof(*nh));
		f->handles = nh;
		h = f->nhandles ? f->nhandles : 1;
		f->nhandles = n;
	}
	f->handles[h] = bo;
	*handle = h;
	return 0;
}

/* ---- ioctls ------------------------------------------------------------------ */

/*
 * A BO in the file's NPU space: shmem-like memory (a memfd), an IOVA first-fit
 * from 0, a fake mmap offset. No handle (the caller adds one, or keeps the BO
 * kernel-internal like the SUBMIT_MATMUL regcmd buffer).
 */
struct shim_bo *shim_bo_alloc(struct shim_file *f, uint64_t size, int *err)
{
	struct shim_bo *bo;
	uint64_t dma;
	int ret;

	bo = calloc(1, sizeof(*bo));
	if (!bo) {
		*err = -ENOMEM;
		return NULL;
	}
	bo->size = size;
	bo->map_size = (bo->size + PAGE - 1) & ~(PAGE - 1);
	bo->memfd = memfd_create("rocket-shim-bo", MFD_CLOEXEC);
	if (bo->memfd < 0 || ftruncate(bo->memfd, (off_t)bo->map_size)) {
		ret = -ENOMEM;
		goto err;
	}
	bo->host = real_mmap(NULL, bo->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, bo->memfd, 0);
	if (bo->host == MAP_FAILED) {
		bo->host = NULL;
		ret = -ENOMEM;
		goto err;
	}
	pthread_mutex_lock(&g_lock);
	ret = domain_alloc_locked(f->dom, bo->size, &dma);
	if (ret) {
		pthread_mutex_unlock(&g_lock);
		goto err;
	}
	bo->refs = 1;
	bo->dev = f->dev;
	bo->dom = f->dom;
	f->dom->refs++;
	bo->dma = dma;
	domain_insert_locked(f->dom, bo);
	bo->mmap_off = f->dev->next_mmap_off;
	f->dev->next_mmap_off += bo->map_size;
	bo->dev_next = f->dev->bos;
	f->dev->bos = bo;
	pthread_mutex_unlock(&g_lock);
	return bo;
err:
	if (bo->host)
		real_munmap(bo->host, bo->map_size);
	if (bo->memfd >= 0)
		syscall(SYS_close, bo->memfd);
	free(bo);
	*err = ret;
	return NULL;
}

static int ioctl_create_bo(struct shim_file *f, void *data)
{
	struct drm_rocket_create_bo *args = data;
	struct shim_bo *bo;
	int ret = 0;

	if (args->size == 0)
		return -EINVAL;
	if (shim_fault_hit("alloc", atomic_fetch_add(&g_allocs, 1) + 1))
		return -ENOMEM;
	bo = shim_bo_alloc(f, args->size, &ret);
	if (!bo)
		return ret;
	pthread_mutex_lock(&g_lock);
	ret = handle_alloc_locked(f, bo, &args->handle);
	if (ret)
		bo_put_locked(bo);
	pthread_mutex_unlock(&g_lock);
	if (ret)
		return ret;
	args->dma_address = bo->dma;
	args->offset = bo->mmap_off;
	return 0;
}

static int ioctl_prep_bo(struct shim_file *f, void *data)
{
	struct drm_rocket_prep_bo *args = data;
	struct shim_bo *bo;

	if (args->reserved)
		return -EINVAL;
	bo = shim_bo_lookup_get(f, args->handle);
	if (!bo)
		return -ENOENT;
	/* Jobs complete inside SUBMIT: nothing is ever pending here. */
	shim_bo_put(bo);
	return 0;
}

static int ioctl_fini_bo(struct shim_file *f, void *data)
{
	struct drm_rocket_fini_bo *args = data;
	struct shim_bo *bo;

	if (args->reserved)
		return -EINVAL;
	bo = shim_bo_lookup_get(f, args->handle);
	if (!bo)
		return -ENOENT;
	shim_bo_put(bo);
	return 0;
}

static int ioctl_gem_close(struct shim_file *f, void *data)
{
	struct drm_gem_close *args = data;
	struct shim_bo *bo = NULL;

	pthread_mutex_lock(&g_lock);
	if (args->handle && args->handle < f->nhandles) {
		bo = f->handles[args->handle];
		f->handles[args->handle] = NULL;
	}
	if (bo)
		bo_put_locked(bo);
	pthread_mutex_unlock(&g_lock);
	return bo ? 0 : -EINVAL;
}

static int copy_field(uint64_t uptr, __kernel_size_t *ulen, const char *s)
{
	size_t len = strlen(s);
	size_t n = *ulen < len ? *ulen : len;

	*ulen = len;
	if (n && shim_copy_to_user(uptr, s, n))
		return -EFAULT;
	return 0;
}

static int ioctl_version(struct shim_file *f, void *data)
{
	struct drm_version *v = data;

	(void)f;
	v->version_major = SHIM_DRV_MAJOR;
	v->version_minor = SHIM_DRV_MINOR;
	v->version_patchlevel = 0;
	if (copy_field((uintptr_t)v->name, &v->name_len, SHIM_DRV_NAME) ||
	    copy_field((uintptr_t)v->date, &v->date_len, SHIM_DRV_DATE) ||
	    copy_field((uintptr_t)v->desc, &v->desc_len, SHIM_DRV_DESC))
		return -EFAULT;
	return 0;
}

/* -- job execution -- */

/*
 * Run one job's tasks on one core, as rocket_job_run()/the IRQ thread do:
 * every task started with PC_BASE_ADDRESS = regcmd, REGISTER_AMOUNTS from
 * regcmd_count. The NPU sees the file's whole IOMMU domain (at most the
 * simulator's 64 buffers: the job's BOs and the regcmd BOs first).
 * Returns 0 (the job ran, faulted or timed out: as on hardware, SUBMIT does
 * not report that) or a negative errno before anything ran.
 */
int shim_run_job(struct shim_file *f, const struct shim_task *tasks, uint32_t ntasks,
		 struct shim_bo *const *prio, uint32_t nprio)
{
	struct shim_dev *dev = f->dev;
	struct shim_bo *bos[64];
	unsigned int nbos = 0, start, ci;
	struct shim_core *core;
	struct npu_sim_error err;
	struct npu_sim *sim;
	unsigned long jobno = atomic_fetch_add(&g_jobs, 1) + 1;
	int failed = 0;

	/* Snapshot the domain (references keep freed handles' BOs alive). */
	pthread_mutex_lock(&g_lock);
	for (uint32_t i = 0; i < nprio && nbos < 64; i++) {
		int dup = 0;

		for (unsigned int j = 0; j < nbos; j++)
			dup |= bos[j] == prio[i];
		if (!dup) {
			bo_get_locked(prio[i]);
			bos[nbos++] = prio[i];
		}
	}
	for (uint32_t t = 0; t < ntasks; t++)
		for (struct shim_bo *b = f->dom->bos; b && nbos < 64; b = b->dom_next) {
			int dup = 0;

			if (tasks[t].regcmd < b->dma || tasks[t].regcmd >= b->dma + b->map_size)
				continue;
			for (unsigned int j = 0; j < nbos; j++)
				dup |= bos[j] == b;
			if (!dup) {
				bo_get_locked(b);
				bos[nbos++] = b;
			}
		}
	for (struct shim_bo *b = f->dom->bos; b && nbos < 64; b = b->dom_next) {
		int dup = 0;

		for (unsigned int j = 0; j < nbos; j++)
			dup |= bos[j] == b;
		if (!dup) {
			bo_get_locked(b);
			bos[nbos++] = b;
		}
	}
	pthread_mutex_unlock(&g_lock);

	/* Least busy core: the first free one from a rotating start. */
	start = atomic_fetch_add(&dev->next_core, 1) % (unsigned int)dev->ncores;
	core = NULL;
	for (unsigned int i = 0; i < (unsigned int)dev->ncores; i++) {
		ci = (start + i) % (unsigned int)dev->ncores;
		if (!pthread_mutex_trylock(&dev->cores[ci].lock)) {
			core = &dev->cores[ci];
			break;
		}
	}
	if (!core) {
		ci = start;
		core = &dev->cores[ci];
		pthread_mutex_lock(&core->lock);
	}
	core->jobs++;

	if (shim_fault_hit("timeout", jobno)) {
		fprintf(stderr, "rocket-shim: accel%d core %u: job %lu timed out (injected), core reset\n",
			dev->minor, ci, jobno);
		core->faults++;
		goto out;
	}
	sim = npu_sim_new();
	if (!sim) {
		failed = 1;
		goto out;
	}
	for (unsigned int i = 0; i < nbos && !failed; i++) {
		char name[32];

		snprintf(name, sizeof(name), "bo@0x%" PRIx64, bos[i]->dma);
		if (npu_sim_map(sim, bos[i]->dma, bos[i]->map_size, bos[i]->host, name, &err)) {
			fprintf(stderr, "rocket-shim: map: %s\n", err.msg);
			failed = 1;
		}
	}
	for (uint32_t t = 0; t < ntasks && !failed; t++) {
		core->tasks++;
		if (npu_sim_run_task(sim, tasks[t].regcmd, tasks[t].regcmd_count, &err)) {
			fprintf(stderr,
				"rocket-shim: accel%d core %u: job %lu task %u (regcmd 0x%" PRIx64
				", %u qwords) faulted; the real NPU would hang until the 500 ms job timeout: %s\n",
				dev->minor, ci, jobno, t, tasks[t].regcmd, tasks[t].regcmd_count, err.msg);
			core->faults++;
			failed = 1;
		}
	}
	npu_sim_free(sim);
out:
	pthread_mutex_unlock(&core->lock);
	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < nbos; i++)
		bo_put_locked(bos[i]);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static int lookup_handles(struct shim_file *f, uint64_t uptr, uint32_t count,
			  struct shim_bo **out)
{
	uint32_t *h;
	int ret = 0;
	uint32_t i;

	if (!count)
		return 0;
	h = malloc(count * sizeof(*h));
	if (!h)
		return -ENOMEM;
	ret = shim_copy_from_user(h, uptr, count * sizeof(*h));
	for (i = 0; i < count && !ret; i++) {
		out[i] = shim_bo_lookup_get(f, h[i]);
		if (!out[i])
			ret = -ENOENT;
	}
	free(h);
	return ret;
}

static int submit_one(struct shim_file *f, const struct drm_rocket_job *job)
{
	struct shim_task *tasks = NULL;
	struct shim_bo **bos = NULL;
	uint32_t nbos = 0, i;
	int ret;

	if (job->task_count == 0)
		return -EINVAL;
	if (job->task_struct_size < sizeof(struct drm_rocket_task))
		return -EINVAL;
	if ((uint64_t)job->task_count * sizeof(*tasks) > MAX_COPY ||
	    (uint64_t)job->in_bo_handle_count + job->out_bo_handle_count > MAX_COPY / sizeof(void *))
		return -ENOMEM;
	tasks = calloc(job->task_count, sizeof(*tasks));
	bos = calloc((size_t)job->in_bo_handle_count + job->out_bo_handle_count + 1, sizeof(*bos));
	if (!tasks || !bos) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < job->task_count; i++) {
		struct drm_rocket_task t;

		ret = shim_copy_from_user(&t, job->tasks + (uint64_t)i * job->task_struct_size, sizeof(t));
		if (ret)
			goto out;
		if (t.regcmd_count == 0) {
			ret = -EINVAL;
			goto out;
		}
		tasks[i].regcmd = t.regcmd;
		tasks[i].regcmd_count = t.regcmd_count;
	}
	ret = lookup_handles(f, job->in_bo_handles, job->in_bo_handle_count, bos);
	nbos = job->in_bo_handle_count;
	if (!ret)
		ret = lookup_handles(f, job->out_bo_handles, job->out_bo_handle_count, bos + nbos);
	nbos += job->out_bo_handle_count;
	if (!ret)
		ret = shim_run_job(f, tasks, job->task_count, bos, nbos);
out:
	if (bos)
		for (i = 0; i < nbos; i++)
			shim_bo_put(bos[i]);
	free(bos);
	free(tasks);
	return ret;
}

/*
 * As rocket_ioctl_submit(), with the fix our series makes: the first failing
 * job's error is returned (earlier jobs of the call have run).
 */
static int ioctl_submit(struct shim_file *f, void *data)
{
	struct drm_rocket_submit *args = data;
	struct drm_rocket_job *jobs;
	int ret = 0;

	if (args->job_count == 0)
		return 0;
	if (args->job_struct_size < sizeof(struct drm_rocket_job))
		return -EINVAL;
	if (args->reserved)
		return -EINVAL;
	if ((uint64_t)args->job_count * sizeof(*jobs) > MAX_COPY)
		return -ENOMEM;
	jobs = calloc(args->job_count, sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	for (uint32_t i = 0; i < args->job_count && !ret; i++)
		ret = shim_copy_from_user(&jobs[i], args->jobs + (uint64_t)i * args->job_struct_size,
					  sizeof(*jobs));
	for (uint32_t i = 0; i < args->job_count && !ret; i++)
		ret = submit_one(f, &jobs[i]);
	free(jobs);
	return ret;
}

struct shim_ioctl_desc {
	unsigned long cmd;
	int (*fn)(struct shim_file *f, void *data);
};

static const struct shim_ioctl_desc core_ioctls[] = {
	{ DRM_IOCTL_VERSION, ioctl_version },
	{ DRM_IOCTL_GEM_CLOSE, ioctl_gem_close },
};

static const struct shim_ioctl_desc drv_ioctls[] = {
	{ DRM_IOCTL_ROCKET_CREATE_BO, ioctl_create_bo },
	{ DRM_IOCTL_ROCKET_SUBMIT, ioctl_submit },
	{ DRM_IOCTL_ROCKET_PREP_BO, ioctl_prep_bo },
	{ DRM_IOCTL_ROCKET_FINI_BO, ioctl_fini_bo },
#ifdef SHIM_HAVE_MATMUL
	{ DRM_IOCTL_ROCKET_SUBMIT_MATMUL, shim_ioctl_submit_matmul },
#endif
};

/* drm_ioctl(): dispatch on the number, copy the user's size in, zero-extend. */
static int shim_ioctl(struct shim_file *f, unsigned long cmd, uint64_t arg)
{
	unsigned int nr = _IOC_NR(cmd);
	const struct shim_ioctl_desc *d = NULL;
	size_t usize = _IOC_SIZE(cmd), in, out, ksize;
	unsigned char stack[512];
	unsigned char *kdata = stack;
	int ret;

	if (nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END) {
		if (nr - DRM_COMMAND_BASE < sizeof(drv_ioctls) / sizeof(drv_ioctls[0]))
			d = &drv_ioctls[nr - DRM_COMMAND_BASE];
	} else {
		for (size_t i = 0; i < sizeof(core_ioctls) / sizeof(core_ioctls[0]); i++)
			if (_IOC_NR(core_ioctls[i].cmd) == nr)
				d = &core_ioctls[i];
	}
	if (!d)
		return -EINVAL;
	in = (cmd & d->cmd & IOC_IN) ? usize : 0;
	out = (cmd & d->cmd & IOC_OUT) ? usize : 0;
	ksize = _IOC_SIZE(d->cmd);
	if (ksize < in)
		ksize = in;
	if (ksize < out)
		ksize = out;
	if (ksize > sizeof(stack)) {
		kdata = malloc(ksize);
		if (!kdata)
			return -ENOMEM;
	}
	memset(kdata, 0, ksize);
	ret = shim_copy_from_user(kdata, arg, in);
	if (!ret)
		ret = d->fn(f, kdata);
	if (shim_copy_to_user(arg, kdata, out))
		ret = -EFAULT;
	if (kdata != stack)
		free(kdata);
	return ret;
}

/* ---- file lifetime ----------------------------------------------------------- */

static int shim_open_dev(int minor, int flags)
{
	struct shim_file *f = calloc(1, sizeof(*f));
	int fd;

	if (!f) {
		errno = ENOMEM;
		return -1;
	}
	f->dom = calloc(1, sizeof(*f->dom));
	fd = memfd_create("rocket-shim-accel", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (!f->dom || fd < 0 || fd >= MAX_FDS) {
		if (fd >= 0)
			syscall(SYS_close, fd);
		free(f->dom);
		free(f);
		errno = fd < 0 ? EMFILE : ENFILE;
		return -1;
	}
	f->dom->refs = 1;
	f->dev = &g_devs[minor];
	f->fd = fd;
	pthread_mutex_lock(&g_lock);
	g_fds[fd] = f;
	pthread_mutex_unlock(&g_lock);
	return fd;
}

static void shim_release(struct shim_file *f)
{
	pthread_mutex_lock(&g_lock);
	for (uint32_t h = 1; h < f->nhandles; h++)
		if (f->handles[h])
			bo_put_locked(f->handles[h]);
	domain_put_locked(f->dom);
	pthread_mutex_unlock(&g_lock);
	free(f->handles);
	free(f);
}

/* sysfs files libdrm-style code reads: /sys/dev/char/261:N/{uevent,device/uevent}. */
static int sysfs_open(const char *path)
{
	char buf[256];
	unsigned int maj, min;
	int n = 0, fd;

	if (strncmp(path, "/sys/", 5))
		return -2;
	shim_init();
	if (sscanf(path, "/sys/dev/char/%u:%u/%n", &maj, &min, &n) == 2 && n && maj == SHIM_ACCEL_MAJOR &&
	    min < (unsigned int)g_ndevs) {
		path += n;
	} else if (sscanf(path, "/sys/class/accel/accel%u/%n", &min, &n) == 1 && n &&
		   min < (unsigned int)g_ndevs) {
		path += n;
	} else {
		return -2;
	}
	if (!strcmp(path, "uevent"))
		snprintf(buf, sizeof(buf), "MAJOR=%d\nMINOR=%u\nDEVNAME=accel/accel%u\n",
			 SHIM_ACCEL_MAJOR, min, min);
	else if (!strcmp(path, "device/uevent"))
		snprintf(buf, sizeof(buf), "DRIVER=rocket\nMODALIAS=platform:rknn\nROSENBLATT_EMULATOR=1\n");
	else
		return -2;
	fd = memfd_create("rocket-shim-sysfs", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, buf, strlen(buf)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		syscall(SYS_close, fd);
		return -1;
	}
	return fd;
}

static int do_open(const char *path, int flags)
{
	int minor = accel_path_minor(path);
	int fd;

	if (minor >= 0)
		return shim_open_dev(minor, flags);
	fd = sysfs_open(path);
	return fd;	/* -2: not ours */
}

/* ---- interposed libc functions ---------------------------------------------- */

static mode_t va_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	fd = do_open(path, flags);
	if (fd != -2)
		return fd;
	real_init();
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	fd = do_open(path, flags);
	if (fd != -2)
		return fd;
	real_init();
	return real_open64(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	fd = do_open(path, flags);	/* absolute paths only */
	if (fd != -2)
		return fd;
	real_init();
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	fd = do_open(path, flags);
	if (fd != -2)
		return fd;
	real_init();
	return real_openat64(dirfd, path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

EXPORT int close(int fd)
{
	struct shim_file *f = NULL;

	real_init();
	if (fd >= 0 && fd < MAX_FDS) {
		pthread_mutex_lock(&g_lock);
		f = g_fds[fd];
		g_fds[fd] = NULL;
		pthread_mutex_unlock(&g_lock);
	}
	if (f)
		shim_release(f);
	return real_close(fd);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	struct shim_file *f = fd_file(fd);
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!f) {
		real_init();
		return real_ioctl(fd, request, arg);
	}
	ret = shim_ioctl(f, request, (uintptr_t)arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* drm_gem_mmap(): the offset names a BO of the device; the file must hold it. */
static void *shim_mmap(struct shim_file *f, void *addr, size_t len, int prot, int flags, uint64_t off)
{
	struct shim_bo *bo = NULL;
	int allowed = 0, fd = -1;
	void *p;

	if (!(flags & MAP_SHARED)) {	/* drm_gem_shmem_mmap() refuses COW mappings */
		errno = EINVAL;
		return MAP_FAILED;
	}
	pthread_mutex_lock(&g_lock);
	for (struct shim_bo *b = f->dev->bos; b; b = b->dev_next)
		if (b->mmap_off == off) {
			bo = b;
			break;
		}
	if (bo) {
		for (uint32_t h = 1; h < f->nhandles; h++)
			allowed |= f->handles[h] == bo;
		if (allowed && len <= bo->map_size)
			fd = fcntl(bo->memfd, F_DUPFD_CLOEXEC, 0);
	}
	pthread_mutex_unlock(&g_lock);
	if (!bo || (allowed && len > bo->map_size)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (!allowed) {
		errno = EACCES;
		return MAP_FAILED;
	}
	if (fd < 0) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = real_mmap(addr, len, prot, flags, fd, 0);
	syscall(SYS_close, fd);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct shim_file *f = fd_file(fd);

	real_init();
	if (f)
		return shim_mmap(f, addr, len, prot, flags, (uint64_t)off);
	return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	struct shim_file *f = fd_file(fd);

	real_init();
	if (f)
		return shim_mmap(f, addr, len, prot, flags, (uint64_t)off);
	return real_mmap64(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	/* BO mappings are plain shared mappings of the BO's memfd. */
	real_init();
	return real_munmap(addr, len);
}

static void fake_stat(int minor, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0666;
	st->st_rdev = makedev(SHIM_ACCEL_MAJOR, (unsigned int)minor);
	st->st_dev = makedev(0, 5);
	st->st_ino = 0x5eed0000u + (unsigned int)minor;
	st->st_nlink = 1;
	st->st_blksize = 4096;
}

static int fd_minor(int fd)
{
	struct shim_file *f = fd_file(fd);

	return f ? f->dev->minor : -1;
}

EXPORT int stat(const char *path, struct stat *st)
{
	int m = accel_path_minor(path);

	if (m >= 0) {
		fake_stat(m, st);
		return 0;
	}
	real_init();
	return real_stat(path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	int m = accel_path_minor(path);

	if (m >= 0) {
		fake_stat(m, st);
		return 0;
	}
	real_init();
	return real_lstat(path, st);
}

EXPORT int fstat(int fd, struct stat *st)
{
	int m = fd_minor(fd);

	if (m >= 0) {
		fake_stat(m, st);
		return 0;
	}
	real_init();
	return real_fstat(fd, st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int m = accel_path_minor(path);

	if (m < 0 && (flags & AT_EMPTY_PATH) && !*path)
		m = fd_minor(dirfd);
	if (m >= 0) {
		fake_stat(m, st);
		return 0;
	}
	real_init();
	return real_fstatat(dirfd, path, st, flags);
}

/* On LP64 glibc struct stat64 has the layout of struct stat. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "LP64 stat64");

EXPORT int stat64(const char *path, struct stat64 *st)
{
	int m = accel_path_minor(path);

	if (m >= 0) {
		fake_stat(m, (struct stat *)st);
		return 0;
	}
	real_init();
	return real_stat64(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	int m = accel_path_minor(path);

	if (m >= 0) {
		fake_stat(m, (struct stat *)st);
		return 0;
	}
	real_init();
	return real_lstat64(path, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	int m = fd_minor(fd);

	if (m >= 0) {
		fake_stat(m, (struct stat *)st);
		return 0;
	}
	real_init();
	return real_fstat64(fd, st);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	int m = accel_path_minor(path);

	if (m < 0 && (flags & AT_EMPTY_PATH) && !*path)
		m = fd_minor(dirfd);
	if (m >= 0) {
		fake_stat(m, (struct stat *)st);
		return 0;
	}
	real_init();
	return real_fstatat64(dirfd, path, st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	int m = accel_path_minor(path);

	if (m < 0 && (flags & AT_EMPTY_PATH) && !*path)
		m = fd_minor(dirfd);
	if (m >= 0) {
		memset(stx, 0, sizeof(*stx));
		stx->stx_mask = STATX_BASIC_STATS;
		stx->stx_mode = S_IFCHR | 0666;
		stx->stx_nlink = 1;
		stx->stx_blksize = 4096;
		stx->stx_ino = 0x5eed0000u + (unsigned int)m;
		stx->stx_rdev_major = SHIM_ACCEL_MAJOR;
		stx->stx_rdev_minor = (unsigned int)m;
		stx->stx_dev_minor = 5;
		return 0;
	}
	real_init();
	return real_statx(dirfd, path, flags, mask, stx);
}

int shim_num_cores(const struct shim_file *f)
{
	return f->dev->ncores;
}
