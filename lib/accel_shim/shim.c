// SPDX-License-Identifier: MIT
/*
 * librocket-shim.so: an EMULATED Rockchip rocket NPU device, in the manner of
 * Mesa's drm-shim. Preloaded (LD_PRELOAD) into a process, it fakes
 * /dev/accel/accel0, the one device mainline rocket registers over all NPU
 * cores (open, close, ioctl, mmap, munmap, mprotect, the stat family, the sysfs uevent
 * files) and implements the rocket uAPI on top of the strict NPU simulator
 * (lib/npu_sim.h). ROSENBLATT_SHIM_UPSTREAM=1 emulates the unpatched
 * upstream driver instead of our series. See docs/emulator.md.
 *
 * It is not hardware and says so: DRM_IOCTL_VERSION's desc names the
 * Rosenblatt emulator. Model of the kernel it follows (7.3 rocket + our
 * patches): one GEM handle table and one NPU address space (IOMMU domain)
 * per open file, BO IOVAs first-fit from 0 page aligned, mmap through a fake
 * offset, jobs run their tasks in order on one core with the mainline task
 * start (PC_BASE_ADDRESS / REGISTER_AMOUNTS per task, npu_sim_run_task()).
 * Jobs run asynchronously on one worker thread per emulated core, with the
 * kernel's references, implicit fences and PREP_BO waits; see the document
 * for every difference.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
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
#include <time.h>
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
static int (*real_mprotect)(void *, size_t, int);
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
	LOAD(ioctl); LOAD(mmap); LOAD(mmap64); LOAD(munmap); LOAD(mprotect);
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
struct shim_job;

/* An unfinished job's fence on a BO (one dma_resv entry). */
struct shim_fence {
	struct shim_job *job;
	int write;			/* DMA_RESV_USAGE_WRITE, else READ */
	struct shim_fence *next;
};

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
	struct shim_fence *fences;	/* of unfinished jobs */
};

struct shim_domain {
	int refs;
	struct shim_bo *bos;
	unsigned int nbos;
};

/* A queued job (struct rocket_job). All fields but the statistics under g_lock. */
struct shim_job {
	int refs;
	struct shim_job *qnext;		/* its core's queue */
	struct shim_dev *dev;
	struct shim_domain *dom;	/* reference */
	struct shim_task *tasks;
	uint32_t ntasks;
	struct shim_bo **bos;		/* references: nin in BOs, then nout out BOs */
	uint32_t nin, nout;
	struct shim_job **deps;		/* references to the jobs it waits for */
	uint32_t ndeps, capdeps;
	unsigned int core;
	int done;			/* its finished fence has signalled */
	unsigned long jobno;
	int timeout_fault;
	unsigned int delay_ms;
	int claimed;			/* head of its core's queue, run by the submitting thread */
};

/* One emulated NPU core: a worker thread running its queue in order. */
struct shim_core {
	struct shim_dev *dev;
	pthread_t thread;
	pthread_cond_t wake;		/* its thread waits here: a job queued, a dependency done */
	int started;
	struct shim_job *head, *tail;
	unsigned int queued;
	unsigned long jobs, tasks, faults;	/* worker only */
};

struct shim_dev {
	int minor;
	int ncores;
	uint64_t next_mmap_off;
	struct shim_bo *bos;
	struct shim_core cores[SHIM_MAX_CORES];
	unsigned int next_core;
};

struct shim_file {
	struct shim_dev *dev;
	struct shim_domain *dom;
	struct shim_bo **handles;	/* [0] unused */
	uint32_t nhandles;
	int fd;
	/* last job of each drm_sched entity: [0] shared, [1 + c] core c's */
	struct shim_job *ent_last[1 + SHIM_MAX_CORES];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond;		/* CLOCK_MONOTONIC; job queued or finished */
static unsigned long g_inflight;	/* queued or running jobs */
static int g_upstream;			/* ROSENBLATT_SHIM_UPSTREAM=1 */
static struct shim_file *g_fds[MAX_FDS];
static struct shim_dev g_devs[SHIM_MAX_DEVS];
static int g_ndevs;
static atomic_ulong g_allocs, g_jobs;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&g_cond, &a);
	pthread_condattr_destroy(&a);
}

/*
 * fork(): the worker threads do not exist in the child, so the device is
 * idle first (queued jobs finish), and the child starts its own workers.
 */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
	while (g_inflight)
		pthread_cond_wait(&g_cond, &g_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
}

static void atfork_child(void)
{
	pthread_mutex_unlock(&g_lock);
	cond_init();
	for (int d = 0; d < g_ndevs; d++)
		for (int c = 0; c < SHIM_MAX_CORES; c++) {
			g_devs[d].cores[c].started = 0;
			g_devs[d].cores[c].head = g_devs[d].cores[c].tail = NULL;
			g_devs[d].cores[c].queued = 0;
		}
}

static void g_init(void)
{
	real_init();
	cond_init();
	/* One DRM device, the facade over all cores, as rocket registers it. */
	g_ndevs = 1;
#ifdef SHIM_HAVE_MATMUL
	g_upstream = env_int("ROSENBLATT_SHIM_UPSTREAM", 0, 0, 1);
#else
	g_upstream = 1;	/* built without our uAPI header: only upstream's driver */
#endif
	for (int d = 0; d < SHIM_MAX_DEVS; d++) {
		g_devs[d].minor = d;
		g_devs[d].ncores = env_int("ROSENBLATT_SHIM_CORES", 3, 1, SHIM_MAX_CORES);
		g_devs[d].next_mmap_off = MMAP_OFFSET_START;
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

/*
 * One copy through a pipe: the kernel reads @src and writes @dst for us, so a
 * bad address on either side is -EFAULT, not a crash. (process_vm_readv()
 * does it in one call but costs twice as much here: it pins the pages.)
 */
static int umem_copy_pipe(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (umem_pipe())
		return -ENOMEM;
	while (len) {
		size_t c = len > 4096 ? 4096 : len;

		if (syscall(SYS_write, tl_pipe[1], s, c) != (long)c ||
		    syscall(SYS_read, tl_pipe[0], d, c) != (long)c) {
			umem_drain();
			return -EFAULT;
		}
		d += c;
		s += c;
		len -= c;
	}
	return 0;
}

static __thread uintptr_t tl_stack_lo, tl_stack_hi;	/* this thread's stack, once known */

/*
 * Is [p, p + len) in the live part of this thread's stack (from the stack
 * pointer up)? Those pages are mapped and writable, so a plain memcpy is as
 * safe as the kernel's copy there. Most ioctl arguments live there (drmIoctl
 * passes a local struct), and the pipe costs ~0.7 us a copy on the build VM.
 * Off the thread's own stack (sigaltstack, coroutines) the answer is no.
 */
static int on_live_stack(const void *p, size_t len)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), a = (uintptr_t)p;

	if (!tl_stack_hi) {
		pthread_attr_t attr;
		void *lo;
		size_t size;

		tl_stack_hi = 1;	/* unknown: never matches */
		if (!pthread_getattr_np(pthread_self(), &attr)) {
			if (!pthread_attr_getstack(&attr, &lo, &size)) {
				tl_stack_lo = (uintptr_t)lo;
				tl_stack_hi = (uintptr_t)lo + size;
			}
			pthread_attr_destroy(&attr);
		}
	}
	return sp >= tl_stack_lo && sp < tl_stack_hi && a >= sp && a + len >= a &&
	       a + len <= tl_stack_hi;
}

static uintptr_t g_heap_lo;	/* start of the brk heap; 0: not known (yet) */
static pthread_once_t g_heap_once = PTHREAD_ONCE_INIT;
static atomic_int g_heap_changed;	/* the program remapped or reprotected part of it */

/* start_brk, field 47 of /proc/self/stat (after the parenthesised name) */
static void heap_lo_init(void)
{
	char buf[1024];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? (ssize_t)syscall(SYS_read, fd, buf, sizeof(buf) - 1) : -1;
	char *p;

	if (fd >= 0)
		syscall(SYS_close, fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 47; field++)
		p = strchr(p + 1, ' ');
	if (p)
		g_heap_lo = (uintptr_t)strtoull(p + 1, NULL, 10);
}

/*
 * Is [p, p + len) inside the brk heap, [start_brk, current break)? That
 * range is one read-write mapping, so a plain memcpy is safe there too: the
 * descriptor arrays a program mallocs usually live in it.
 */
static int on_brk_heap(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, hi;

	if (atomic_load_explicit(&g_heap_changed, memory_order_relaxed))
		return 0;
	pthread_once(&g_heap_once, heap_lo_init);
	hi = (uintptr_t)sbrk(0);
	return g_heap_lo && hi != (uintptr_t)-1 && a >= g_heap_lo && a + len >= a && a + len <= hi;
}

/*
 * mprotect, munmap or MAP_FIXED over part of the brk heap: from then on the
 * heap may hold pages a memcpy would fault on, so its copies take the pipe.
 */
static void heap_touched(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, hi;

	pthread_once(&g_heap_once, heap_lo_init);
	hi = (uintptr_t)sbrk(0);
	if (!g_heap_lo || hi == (uintptr_t)-1 || (a < hi && a + len > g_heap_lo))
		atomic_store(&g_heap_changed, 1);
}

static int umem_copy(void *dst, const void *src, size_t len, int to_user)
{
	const void *user = to_user ? dst : src;

	if (on_live_stack(user, len) || on_brk_heap(user, len)) {
		memcpy(dst, src, len);
		return 0;
	}
	return umem_copy_pipe(dst, src, len);
}

/* The kernel's copy_from_user(): 0 or -EFAULT. */
int shim_copy_from_user(void *dst, uint64_t src, size_t len)
{
	if (!len)
		return 0;
	if (!src || src + len < src)
		return -EFAULT;
	return umem_copy(dst, (const void *)(uintptr_t)src, len, 0);
}

int shim_copy_to_user(uint64_t dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	if (!dst || dst + len < dst)
		return -EFAULT;
	return umem_copy((void *)(uintptr_t)dst, src, len, 1);
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

/* The BO's pages: a memfd mapping, or plain memory for a kernel-internal BO. */
static void bo_release_memory(struct shim_bo *bo)
{
	if (bo->memfd < 0) {
		free(bo->host);
		return;
	}
	if (bo->host)
		real_munmap(bo->host, bo->map_size);
	syscall(SYS_close, bo->memfd);
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
	bo_release_memory(bo);
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
 * A BO in the file's NPU space: shmem-like zeroed memory, an IOVA first-fit
 * from 0, a fake mmap offset. No handle (the caller adds one, or keeps the BO
 * kernel-internal like the SUBMIT_MATMUL regcmd buffer). A BO userspace can
 * map is a memfd, so that its mappings are shared with the NPU's view; an
 * @internal one is never mapped by userspace (it gets no handle, and
 * shim_mmap() refuses it), so plain memory serves and the per-submit
 * memfd_create/mmap/munmap (a TLB shootdown on every core) is saved.
 */
static struct shim_bo *bo_alloc(struct shim_file *f, uint64_t size, int internal, int *err)
{
	struct shim_bo *bo;
	uint64_t dma;
	int ret = -ENOMEM;

	bo = calloc(1, sizeof(*bo));
	if (!bo) {
		*err = -ENOMEM;
		return NULL;
	}
	bo->size = size;
	bo->map_size = (bo->size + PAGE - 1) & ~(PAGE - 1);
	if (internal) {
		bo->memfd = -1;
		if (posix_memalign((void **)&bo->host, PAGE, bo->map_size)) {
			bo->host = NULL;
			free(bo);
			*err = -ENOMEM;
			return NULL;
		}
		memset(bo->host, 0, bo->map_size);
	} else {
		bo->memfd = memfd_create("rocket-shim-bo", MFD_CLOEXEC);
		if (bo->memfd < 0 || ftruncate(bo->memfd, (off_t)bo->map_size))
			goto err;
		bo->host = real_mmap(NULL, bo->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				     bo->memfd, 0);
		if (bo->host == MAP_FAILED) {
			bo->host = NULL;
			goto err;
		}
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
	if (bo->memfd >= 0 || bo->host)
		bo_release_memory(bo);
	free(bo);
	*err = ret;
	return NULL;
}

struct shim_bo *shim_bo_alloc(struct shim_file *f, uint64_t size, int *err)
{
	return bo_alloc(f, size, 0, err);
}

struct shim_bo *shim_bo_alloc_internal(struct shim_file *f, uint64_t size, int *err)
{
	return bo_alloc(f, size, 1, err);
}

static int ioctl_create_bo(struct shim_file *f, void *data)
{
	struct drm_rocket_create_bo *args = data;
	struct shim_bo *bo;
	int ret = 0;

	if (shim_fault_hit("alloc", atomic_fetch_add(&g_allocs, 1) + 1))
		return -ENOMEM;
	/*
	 * Size 0: our series refuses it up front; upstream has no check and
	 * drm_gem_shmem_create() fails in drm_gem_create_mmap_offset(), whose
	 * drm_mm_insert_node() of 0 pages returns -ENOSPC.
	 */
	if (args->size == 0)
		return g_upstream ? -ENOSPC : -EINVAL;
	bo = shim_bo_alloc(f, args->size, &ret);
	if (!bo)
		return ret;
	/*
	 * Upstream keeps iommu_map_sgtable()'s ssize_t result in an int: a BO
	 * of 2 GiB or more looks like a failed mapping ("failed to map buffer")
	 * and CREATE_BO returns -ENOMEM. Our series uses a ssize_t.
	 */
	if (g_upstream && args->size > INT32_MAX) {
		shim_bo_put(bo);
		return -ENOMEM;
	}
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

static int bo_busy_write_locked(const struct shim_bo *bo);

/*
 * PREP_BO's wait: dma_resv_wait_timeout(DMA_RESV_USAGE_WRITE) for the
 * unfinished jobs that write the BO (readers do not count), with
 * drm_timeout_abs_to_jiffies(): timeout_ns is absolute CLOCK_MONOTONIC; 0 or
 * a time already past polls. Busy: -EBUSY when polling, -ETIMEDOUT when the
 * time ran out.
 */
static int shim_prep_wait(struct shim_bo *bo, int64_t timeout_ns)
{
	struct timespec now, abs;
	int poll = 1, ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (timeout_ns > 0 && timeout_ns > (int64_t)now.tv_sec * 1000000000 + now.tv_nsec) {
		poll = 0;
		abs.tv_sec = (time_t)(timeout_ns / 1000000000);
		abs.tv_nsec = (long)(timeout_ns % 1000000000);
	}
	pthread_mutex_lock(&g_lock);
	while (bo_busy_write_locked(bo)) {
		if (poll) {
			ret = -EBUSY;
			break;
		}
		if (pthread_cond_timedwait(&g_cond, &g_lock, &abs) == ETIMEDOUT) {
			ret = bo_busy_write_locked(bo) ? -ETIMEDOUT : 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	return ret;
}

static int ioctl_prep_bo(struct shim_file *f, void *data)
{
	struct drm_rocket_prep_bo *args = data;
	struct shim_bo *bo;
	int ret;

	if (args->reserved)
		return -EINVAL;
	bo = shim_bo_lookup_get(f, args->handle);
	if (!bo)
		return -ENOENT;
	ret = shim_prep_wait(bo, args->timeout_ns);
	shim_bo_put(bo);
	return ret;
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
	if (n && uptr && shim_copy_to_user(uptr, s, n))
		return -EFAULT;
	return 0;
}

static int ioctl_version(struct shim_file *f, void *data)
{
	struct drm_version *v = data;

	(void)f;
	/* Upstream leaves .major/.minor unset: 0.0.0; our series reports 1.1. */
	v->version_major = g_upstream ? 0 : SHIM_DRV_MAJOR;
	v->version_minor = g_upstream ? 0 : SHIM_DRV_MINOR;
	v->version_patchlevel = 0;
	if (copy_field((uintptr_t)v->name, &v->name_len, SHIM_DRV_NAME) ||
	    copy_field((uintptr_t)v->date, &v->date_len, SHIM_DRV_DATE) ||
	    copy_field((uintptr_t)v->desc, &v->desc_len,
		       g_upstream ? SHIM_DRV_DESC_UPSTREAM : SHIM_DRV_DESC))
		return -EFAULT;
	return 0;
}

/* -- jobs: asynchronous, one worker thread per emulated core -- */

/*
 * The kernel's scheduling, reduced to what userspace can observe:
 * - a job holds references on its BOs and on the file's domain until it has
 *   finished (rocket_job_cleanup()), so GEM_CLOSE or close() of the file
 *   while it is queued only drops the handle's reference;
 * - implicit sync (drm_sched_job_add_implicit_dependencies()): a job waits
 *   for the unfinished WRITE fences of the BOs it reads and for every
 *   unfinished fence of the BOs it writes; its own fence goes to its out BOs
 *   as WRITE (SUBMIT), and to the in BOs as READ too (SUBMIT_MATMUL);
 * - one drm_sched entity per file (plus one per core for the parts of a
 *   split matmul in our series): an entity's jobs run in order, one at a
 *   time, on the core it was bound to while it has unfinished jobs; an idle
 *   entity binds to the least loaded core (drm_sched_pick_best());
 * - each core runs one job at a time (credit limit 1).
 * A core's queue is FIFO in submission order and a job only depends on
 * earlier jobs, so the earliest unfinished job can always run: no deadlock.
 */

static struct shim_job *job_get_locked(struct shim_job *job)
{
	job->refs++;
	return job;
}

static void job_put_locked(struct shim_job *job)
{
	if (!job || --job->refs)
		return;
	for (uint32_t i = 0; i < job->ndeps; i++)
		job_put_locked(job->deps[i]);
	for (uint32_t i = 0; i < job->nin + job->nout; i++)
		bo_put_locked(job->bos[i]);
	domain_put_locked(job->dom);
	free(job->deps);
	free(job->bos);
	free(job->tasks);
	free(job);
}

static int job_add_dep_locked(struct shim_job *job, struct shim_job *dep)
{
	if (!dep || dep == job || dep->done)
		return 0;
	for (uint32_t i = 0; i < job->ndeps; i++)
		if (job->deps[i] == dep)
			return 0;
	if (job->ndeps == job->capdeps) {
		uint32_t n = job->capdeps ? job->capdeps * 2 : 8;
		struct shim_job **nd = realloc(job->deps, n * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		job->deps = nd;
		job->capdeps = n;
	}
	job->deps[job->ndeps++] = job_get_locked(dep);
	return 0;
}

static int job_writes(const struct shim_job *job, const struct shim_bo *bo)
{
	for (uint32_t i = job->nin; i < job->nin + job->nout; i++)
		if (job->bos[i] == bo)
			return 1;
	return 0;
}

static int job_uses(const struct shim_job *job, const struct shim_bo *bo)
{
	for (uint32_t i = 0; i < job->nin + job->nout; i++)
		if (job->bos[i] == bo)
			return 1;
	return 0;
}

/* rocket_jobs_conflict(): later reads what earlier writes, or writes what it touches. */
static int jobs_conflict(const struct shim_job *earlier, const struct shim_job *later)
{
	for (uint32_t i = 0; i < later->nin + later->nout; i++) {
		const struct shim_bo *bo = later->bos[i];

		if (job_writes(earlier, bo) || (i >= later->nin && job_uses(earlier, bo)))
			return 1;
	}
	return 0;
}

/* Implicit dependencies on the unfinished fences of the job's BOs. */
static int job_add_implicit_deps_locked(struct shim_job *job)
{
	int ret = 0;

	for (uint32_t i = 0; i < job->nin + job->nout && !ret; i++) {
		int write = job_writes(job, job->bos[i]);

		for (struct shim_fence *fe = job->bos[i]->fences; fe && !ret; fe = fe->next)
			if (write || fe->write)
				ret = job_add_dep_locked(job, fe->job);
	}
	return ret;
}

static int bo_add_fence_locked(struct shim_bo *bo, struct shim_job *job, int write)
{
	struct shim_fence *fe;

	for (fe = bo->fences; fe; fe = fe->next)
		if (fe->job == job) {
			fe->write |= write;
			return 0;
		}
	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return -ENOMEM;
	fe->job = job;	/* no reference: the job removes its fences when it finishes */
	fe->write = write;
	fe->next = bo->fences;
	bo->fences = fe;
	return 0;
}

static void bo_remove_fences_locked(struct shim_bo *bo, const struct shim_job *job)
{
	for (struct shim_fence **pp = &bo->fences; *pp;) {
		struct shim_fence *fe = *pp;

		if (fe->job == job) {
			*pp = fe->next;
			free(fe);
		} else {
			pp = &fe->next;
		}
	}
}

/* PREP_BO's dma_resv_wait_timeout(DMA_RESV_USAGE_WRITE): unfinished writers? */
static int bo_busy_write_locked(const struct shim_bo *bo)
{
	for (const struct shim_fence *fe = bo->fences; fe; fe = fe->next)
		if (fe->write)
			return 1;
	return 0;
}

static void job_exec(struct shim_job *job, struct shim_core *core, unsigned int ci);

/* Wake the core threads whose queue head may have become runnable. */
static void wake_cores_locked(struct shim_dev *dev)
{
	for (int c = 0; c < dev->ncores; c++) {
		struct shim_core *core = &dev->cores[c];

		if (core->started && core->head && !core->head->claimed)
			pthread_cond_signal(&core->wake);
	}
}

/* @job, the head of @core's queue, has run: off the queue, its fence signals. */
static void job_finish_locked(struct shim_core *core, struct shim_job *job)
{
	core->head = job->qnext;
	if (!core->head)
		core->tail = NULL;
	core->queued--;
	/* The finished fence signals: off every BO, dependencies released. */
	job->done = 1;
	for (uint32_t i = 0; i < job->nin + job->nout; i++)
		bo_remove_fences_locked(job->bos[i], job);
	for (uint32_t i = 0; i < job->ndeps; i++)
		job_put_locked(job->deps[i]);
	job->ndeps = 0;
	g_inflight--;
	wake_cores_locked(core->dev);
	pthread_cond_broadcast(&g_cond);	/* PREP_BO, fork */
	job_put_locked(job);	/* the queue's reference */
}

static void *core_worker(void *arg)
{
	struct shim_core *core = arg;
	struct shim_dev *dev = core->dev;
	unsigned int ci = (unsigned int)(core - dev->cores);

	pthread_mutex_lock(&g_lock);
	for (;;) {
		struct shim_job *job = core->head;
		int ready = job != NULL && !job->claimed;

		for (uint32_t i = 0; ready && i < job->ndeps; i++)
			ready = job->deps[i]->done;
		if (!ready) {
			pthread_cond_wait(&core->wake, &g_lock);
			continue;
		}
		pthread_mutex_unlock(&g_lock);
		job_exec(job, core, ci);
		pthread_mutex_lock(&g_lock);
		job_finish_locked(core, job);
	}
	return NULL;
}

static int core_start_locked(struct shim_dev *dev, unsigned int ci)
{
	struct shim_core *core = &dev->cores[ci];
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	if (core->started)
		return 0;
	core->dev = dev;
	pthread_cond_init(&core->wake, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the application's business, not the emulated NPU's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&core->thread, &attr, core_worker, core);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	core->started = 1;
	return 0;
}

/* drm_sched_pick_best(): the core with the fewest queued jobs (rotating ties). */
static unsigned int pick_core_locked(struct shim_dev *dev)
{
	unsigned int start = dev->next_core++ % (unsigned int)dev->ncores, best = start;

	for (unsigned int i = 1; i < (unsigned int)dev->ncores; i++) {
		unsigned int ci = (start + i) % (unsigned int)dev->ncores;

		if (dev->cores[ci].queued < dev->cores[best].queued)
			best = ci;
	}
	return best;
}

static int bo_list_lookup(struct shim_file *f, uint64_t uptr, uint32_t count, struct shim_bo **out,
			  uint32_t *got)
{
	uint32_t *h;
	int ret;

	*got = 0;
	if (!count)
		return 0;
	h = malloc(count * sizeof(*h));
	if (!h)
		return -ENOMEM;
	ret = shim_copy_from_user(h, uptr, count * sizeof(*h));
	for (uint32_t i = 0; i < count && !ret; i++) {
		out[i] = shim_bo_lookup_get(f, h[i]);
		if (!out[i])
			ret = -ENOENT;
		else
			(*got)++;
	}
	free(h);
	return ret;
}

static struct shim_job *job_alloc(struct shim_file *f, uint32_t ntasks, uint32_t nbos)
{
	struct shim_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->tasks = calloc(ntasks ? ntasks : 1, sizeof(*job->tasks));
	job->bos = calloc(nbos ? nbos : 1, sizeof(*job->bos));
	if (!job->tasks || !job->bos) {
		free(job->tasks);
		free(job->bos);
		free(job);
		return NULL;
	}
	job->refs = 1;
	job->dev = f->dev;
	job->ntasks = ntasks;
	pthread_mutex_lock(&g_lock);
	job->dom = f->dom;
	f->dom->refs++;	/* rocket_iommu_domain_get() */
	pthread_mutex_unlock(&g_lock);
	/* Decided here, in the submitting thread (setenv() is not thread-safe). */
	job->jobno = atomic_fetch_add(&g_jobs, 1) + 1;
	job->timeout_fault = shim_fault_hit("timeout", job->jobno);
	job->delay_ms = (unsigned int)env_int("ROSENBLATT_SHIM_JOB_DELAY_MS", 0, 0, 10000);
	return job;
}

void shim_job_put(struct shim_job *job)
{
	if (!job)
		return;
	pthread_mutex_lock(&g_lock);
	job_put_locked(job);
	pthread_mutex_unlock(&g_lock);
}

struct shim_job *shim_job_new(struct shim_file *f, const struct shim_task *tasks, uint32_t ntasks,
			      struct shim_bo *const *in, uint32_t nin,
			      struct shim_bo *const *out, uint32_t nout, int *err)
{
	struct shim_job *job = job_alloc(f, ntasks, nin + nout);

	if (!job) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(job->tasks, tasks, ntasks * sizeof(*tasks));
	pthread_mutex_lock(&g_lock);
	for (uint32_t i = 0; i < nin; i++)
		job->bos[job->nin++] = in[i], bo_get_locked(in[i]);
	for (uint32_t i = 0; i < nout; i++)
		job->bos[job->nin + job->nout++] = out[i], bo_get_locked(out[i]);
	pthread_mutex_unlock(&g_lock);
	return job;
}

/*
 * Queue @n jobs as one unit (rocket_job_push(), rocket_matmul_queue()): all
 * dependencies first (fences of earlier submissions, entity order, conflicting
 * jobs of other @group entries of this call), then the fences. @core[i] < 0:
 * the file's shared entity, else core entity @core[i]. Takes the caller's job
 * references. Only -ENOMEM can fail (then nothing is queued).
 */
int shim_jobs_queue(struct shim_file *f, struct shim_job **jobs, uint32_t n, const int *core,
		    const uint32_t *group, int read_fences)
{
	struct shim_dev *dev = f->dev;
	struct shim_job *mine = NULL;	/* run here, not handed to its core's thread */
	uint32_t handed = 0;
	int ret = 0;

	pthread_mutex_lock(&g_lock);
	for (uint32_t i = 0; i < n && !ret; i++) {
		ret = job_add_implicit_deps_locked(jobs[i]);
		for (uint32_t j = 0; group && j < i && !ret; j++)
			if (group[j] != group[i] && jobs_conflict(jobs[j], jobs[i]))
				ret = job_add_dep_locked(jobs[i], jobs[j]);
	}
	for (uint32_t i = 0; i < n && !ret; i++) {
		struct shim_job *job = jobs[i];

		for (uint32_t b = 0; b < job->nin + job->nout && !ret; b++) {
			int write = job_writes(job, job->bos[b]);

			if (write || read_fences)
				ret = bo_add_fence_locked(job->bos[b], job, write);
		}
	}
	if (ret) {
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t b = 0; b < jobs[i]->nin + jobs[i]->nout; b++)
				bo_remove_fences_locked(jobs[i]->bos[b], jobs[i]);
		for (uint32_t i = 0; i < n; i++)
			job_put_locked(jobs[i]);
		pthread_mutex_unlock(&g_lock);
		return ret;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct shim_job *job = jobs[i];
		int e = core[i] < 0 ? 0 : 1 + core[i] % dev->ncores;
		struct shim_job *last = f->ent_last[e];
		unsigned int ci;

		if (last && !last->done) {	/* the entity stays on its core, in order */
			ci = last->core;
			job_add_dep_locked(job, last);	/* same core queue: order holds anyway */
		} else {
			ci = e ? (unsigned int)(e - 1) : pick_core_locked(dev);
		}
		job_put_locked(last);
		f->ent_last[e] = job_get_locked(job);
		job->core = ci;
		if (core_start_locked(dev, ci)) {
			/* No worker thread: run it here, as the old synchronous shim did. */
			pthread_mutex_unlock(&g_lock);
			job_exec(job, &dev->cores[ci], ci);
			pthread_mutex_lock(&g_lock);
			job->done = 1;
			for (uint32_t b = 0; b < job->nin + job->nout; b++)
				bo_remove_fences_locked(job->bos[b], job);
			job_put_locked(job);
			wake_cores_locked(dev);
			pthread_cond_broadcast(&g_cond);
			continue;
		}
		/*
		 * Hand-off saving: one job of the call whose core is idle and which
		 * waits for nothing runs in the submitting thread, as the head of its
		 * core's queue (the core thread leaves a claimed head alone, so later
		 * jobs of that core still run after it). Held-back jobs (JOB_DELAY_MS)
		 * always go to the core thread: tests need them certainly queued.
		 */
		int idle = !mine && !dev->cores[ci].head && !job->delay_ms;

		for (uint32_t d = 0; idle && d < job->ndeps; d++)
			idle = job->deps[d]->done;
		job->qnext = NULL;
		if (dev->cores[ci].tail)
			dev->cores[ci].tail->qnext = job;
		else
			dev->cores[ci].head = job;
		dev->cores[ci].tail = job;
		dev->cores[ci].queued++;
		g_inflight++;
		if (idle) {
			job->claimed = 1;
			mine = job;
		} else {
			handed++;
		}
	}
	if (handed)
		wake_cores_locked(dev);
	if (mine) {
		struct shim_core *c = &dev->cores[mine->core];

		pthread_mutex_unlock(&g_lock);
		job_exec(mine, c, mine->core);
		pthread_mutex_lock(&g_lock);
		job_finish_locked(c, mine);
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* "bo@0x<dma>", the name the simulator's messages give a BO; snprintf() showed in the profile */
static void bo_name(char name[32], uint64_t dma)
{
	static const char hex[] = "0123456789abcdef";
	char digits[16];
	int n = 0;

	do {
		digits[n++] = hex[dma & 15];
		dma >>= 4;
	} while (dma);
	memcpy(name, "bo@0x", 5);
	for (int i = 0; i < n; i++)
		name[5 + i] = digits[n - 1 - i];
	name[5 + n] = '\0';
}

/*
 * Run one job's tasks on core @ci, as rocket_job_run()/the IRQ thread do:
 * every task started with PC_BASE_ADDRESS = regcmd, REGISTER_AMOUNTS from
 * regcmd_count. The NPU sees the domain as it is now (at most the
 * simulator's 64 buffers: the job's BOs and the regcmd BOs first); a BO
 * freed since SUBMIT and not held by the job is unmapped, as in the kernel.
 * A fault or timeout is only logged: on hardware nobody reports it either.
 */
static void job_exec(struct shim_job *job, struct shim_core *core, unsigned int ci)
{
	struct shim_dev *dev = job->dev;
	struct shim_domain *dom = job->dom;
	const struct shim_task *tasks = job->tasks;
	struct shim_bo *bos[64];
	unsigned int nbos = 0;
	struct npu_sim_error err;
	struct npu_sim *sim;
	int failed = 0;

	if (job->delay_ms) {	/* ROSENBLATT_SHIM_JOB_DELAY_MS: a slow NPU */
		struct timespec ts = { job->delay_ms / 1000, (long)(job->delay_ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	/* Snapshot the domain (references keep freed handles' BOs alive). */
	pthread_mutex_lock(&g_lock);
	for (uint32_t i = 0; i < job->nin + job->nout && nbos < 64; i++) {
		int dup = 0;

		for (unsigned int j = 0; j < nbos; j++)
			dup |= bos[j] == job->bos[i];
		if (!dup) {
			bo_get_locked(job->bos[i]);
			bos[nbos++] = job->bos[i];
		}
	}
	for (uint32_t t = 0; t < job->ntasks; t++)
		for (struct shim_bo *b = dom->bos; b && nbos < 64; b = b->dom_next) {
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
	for (struct shim_bo *b = dom->bos; b && nbos < 64; b = b->dom_next) {
		int dup = 0;

		for (unsigned int j = 0; j < nbos; j++)
			dup |= bos[j] == b;
		if (!dup) {
			bo_get_locked(b);
			bos[nbos++] = b;
		}
	}
	pthread_mutex_unlock(&g_lock);

	core->jobs++;
	if (job->timeout_fault) {
		fprintf(stderr, "rocket-shim: accel%d core %u: job %lu timed out (injected), core reset\n",
			dev->minor, ci, job->jobno);
		core->faults++;
		goto out;
	}
	sim = npu_sim_new();
	if (!sim)
		goto out;
	/*
	 * A job's buffers change under it only by its own tasks: jobs that write
	 * them are ordered by fences, and userspace writing a BO under a running
	 * job races on hardware too. So the CBUF may hold weights by reference.
	 */
	npu_sim_set_cbuf_by_reference(sim, 1);
	for (unsigned int i = 0; i < nbos && !failed; i++) {
		char name[32];

		bo_name(name, bos[i]->dma);
		if (npu_sim_map(sim, bos[i]->dma, bos[i]->map_size, bos[i]->host, name, &err)) {
			fprintf(stderr, "rocket-shim: map: %s\n", err.msg);
			failed = 1;
		}
	}
	for (uint32_t t = 0; t < job->ntasks && !failed; t++) {
		core->tasks++;
		if (npu_sim_run_task(sim, tasks[t].regcmd, tasks[t].regcmd_count, &err)) {
			fprintf(stderr,
				"rocket-shim: accel%d core %u: job %lu task %u (regcmd 0x%" PRIx64
				", %u qwords) faulted; the real NPU would hang until the 500 ms job timeout: %s\n",
				dev->minor, ci, job->jobno, t, tasks[t].regcmd, tasks[t].regcmd_count, err.msg);
			core->faults++;
			failed = 1;
		}
	}
	npu_sim_free(sim);
out:
	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < nbos; i++)
		bo_put_locked(bos[i]);
	pthread_mutex_unlock(&g_lock);
}

/*
 * rocket_ioctl_submit_job(): checks, handle lookups (the job's references),
 * push. The result only reaches the caller of this function: the ioctl
 * ignores it (upstream, and our series alike; kernel-facts gap 1).
 */
static int submit_one(struct shim_file *f, const struct drm_rocket_job *job)
{
	struct shim_task *tasks = NULL;
	struct shim_bo **bos = NULL;
	struct shim_job *sj = NULL;
	uint32_t nin = 0, nout = 0, i;
	int ret, shared = -1;

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
	ret = bo_list_lookup(f, job->in_bo_handles, job->in_bo_handle_count, bos, &nin);
	if (!ret)
		ret = bo_list_lookup(f, job->out_bo_handles, job->out_bo_handle_count, bos + nin, &nout);
	if (!ret)
		sj = shim_job_new(f, tasks, job->task_count, bos, nin, bos + nin, nout, &ret);
	if (sj)
		ret = shim_jobs_queue(f, &sj, 1, &shared, NULL, 0);
out:
	if (bos)
		for (i = 0; i < nin + nout; i++)
			shim_bo_put(bos[i]);
	free(bos);
	free(tasks);
	return ret;
}

/*
 * rocket_ioctl_submit(): header checks, the job array copied, then every job
 * submitted on its own; a failing job is dropped and SUBMIT still returns 0
 * (upstream 7.x and our series: the return value of rocket_ioctl_submit_job()
 * is ignored).
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
	for (uint32_t i = 0; i < args->job_count && !ret; i++) {
		int err = submit_one(f, &jobs[i]);

		if (err && getenv("ROSENBLATT_SHIM_DEBUG"))
			fprintf(stderr, "rocket-shim: SUBMIT job %u dropped: %s (the ioctl returns 0, as the kernel)\n",
				i, strerror(-err));
	}
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

	/* Upstream's table ends at FINI_BO: SUBMIT_MATMUL is an unknown driver ioctl. */
	size_t ndrv = g_upstream ? 4 : sizeof(drv_ioctls) / sizeof(drv_ioctls[0]);

	if (_IOC_TYPE(cmd) != DRM_IOCTL_BASE)
		return -ENOTTY;
	if (nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END) {
		if (nr - DRM_COMMAND_BASE < ndrv)
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
	/*
	 * rocket_postclose(): the handles go; queued jobs keep running with
	 * their own references on their BOs and the domain.
	 */
	pthread_mutex_lock(&g_lock);
	for (uint32_t h = 1; h < f->nhandles; h++)
		if (f->handles[h])
			bo_put_locked(f->handles[h]);
	for (int e = 0; e < 1 + SHIM_MAX_CORES; e++)
		job_put_locked(f->ent_last[e]);
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
	else if (!strcmp(path, "device/uevent"))	/* the facade: no driver bound, no OF node */
		snprintf(buf, sizeof(buf), "MODALIAS=platform:rknn\nROSENBLATT_EMULATOR=1\n");
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
		if (allowed && len <= bo->map_size && bo->memfd >= 0)
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
	if (flags & MAP_FIXED)
		heap_touched(addr, len);
	if (f)
		return shim_mmap(f, addr, len, prot, flags, (uint64_t)off);
	return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	struct shim_file *f = fd_file(fd);

	real_init();
	if (flags & MAP_FIXED)
		heap_touched(addr, len);
	if (f)
		return shim_mmap(f, addr, len, prot, flags, (uint64_t)off);
	return real_mmap64(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	/* BO mappings are plain shared mappings of the BO's memfd. */
	real_init();
	heap_touched(addr, len);
	return real_munmap(addr, len);
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	real_init();
	heap_touched(addr, len);
	return real_mprotect(addr, len, prot);
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

int shim_upstream(void)
{
	return g_upstream;
}
