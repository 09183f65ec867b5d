/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment layer, part 1: EAL start-up, logging, time, locks, NUMA and
 * address look-ups.  The arena itself is in env_mem.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/kernel-page-flags.h>
#include <numa.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <rte_pause.h>
#include <rte_telemetry.h>

#include "env/env.h"
#include "env/env_internal.h"

/* ---------------------------------------------------------------- logging */

static const char *const logmod_names[UENV_LOG__COUNT] = {
	[UENV_LOG_CORE] = "uiommu.core",   [UENV_LOG_ENV] = "uiommu.env",
	[UENV_LOG_PGT] = "uiommu.pgtable", [UENV_LOG_FW] = "uiommu.fw",
	[UENV_LOG_VTD] = "uiommu.vtd",	   [UENV_LOG_SMMU] = "uiommu.smmuv3",
	[UENV_LOG_AMDVI] = "uiommu.amdvi", [UENV_LOG_MODEL] = "uiommu.model",
	[UENV_LOG_CLI] = "uiommu.cli",
};
static int logtypes[UENV_LOG__COUNT];
static int log_ready;

static void log_register(void)
{
	const char *lvl = getenv("UIOMMU_LOG_LEVEL");
	int deflvl = lvl ? atoi(lvl) : (int)RTE_LOG_NOTICE;

	if (log_ready)
		return;
	for (unsigned int i = 0; i < UENV_LOG__COUNT; i++) {
		int t = rte_log_register_type_and_pick_level(logmod_names[i], (uint32_t)deflvl);
		logtypes[i] = t < 0 ? RTE_LOGTYPE_USER1 : t;
	}
	log_ready = 1;
}

void uenv_log(enum uenv_logmod mod, enum uenv_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!log_ready)
		log_register();
	if ((unsigned int)mod >= UENV_LOG__COUNT)
		mod = UENV_LOG_CORE;
	va_start(ap, fmt);
	rte_vlog((uint32_t)lvl, (uint32_t)logtypes[mod], fmt, ap);
	va_end(ap);
}

void uenv_log_set_level(enum uenv_logmod mod, int level)
{
	if (!log_ready)
		log_register();
	if ((unsigned int)mod < UENV_LOG__COUNT)
		rte_log_set_level((uint32_t)logtypes[mod], (uint32_t)level);
}

/* ------------------------------------------------------------- telemetry */

/*
 * DPDK telemetry (usertools/dpdk-telemetry.py, when the application runs
 * EAL with telemetry on): /uiommu/arena reports the arena, /uiommu/objects
 * what the core publishes through uenv_telemetry_set_objects().
 */
static uenv_telemetry_fn objects_fn;

void uenv_telemetry_set_objects(uenv_telemetry_fn fn)
{
	objects_fn = fn;
}

static int tel_arena(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct uenv_stats st;

	(void)cmd;
	(void)params;
	uenv_get_stats(&st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "chunks", st.chunks);
	rte_tel_data_add_dict_u64(d, "table_pages", st.pages_live);
	rte_tel_data_add_dict_u64(d, "dma_blocks", st.dma_live);
	rte_tel_data_add_dict_u64(d, "objects", st.heap_live);
	rte_tel_data_add_dict_u64(d, "allocations", st.allocs);
	rte_tel_data_add_dict_int(d, "iova_is_va", uenv_iova_is_va());
	return 0;
}

static int tel_objects(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct uenv_kv kv[16];
	int n;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!objects_fn)
		return 0;
	n = objects_fn(kv, 16);
	for (int i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(d, kv[i].key, kv[i].val);
	return 0;
}

static void telemetry_register(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	rte_telemetry_register_cmd("/uiommu/arena", tel_arena,
				   "uiommu arena: chunks, table pages, DMA blocks, objects");
	rte_telemetry_register_cmd("/uiommu/objects", tel_objects,
				   "uiommu objects: units, devices, IOASes, HWPTs, vIOMMUs");
}

/* ------------------------------------------------------------------- EAL */

static int eal_started_here;

int env_eal_start(int argc, char **argv)
{
	static char *defaults[] = {
		"uiommu",      "--no-huge",	  "--no-shconf",    "-m", "1024", "--no-pci",
		"--log-level", "lib.eal:warning", "--no-telemetry", "-l", "0"};
	char **args = argv;
	int n = argc;
	char *copy[64];

	log_register();
	telemetry_register();
	if (eal_started_here)
		return 0;
	if (!args || n <= 0) {
		args = defaults;
		n = (int)(sizeof(defaults) / sizeof(defaults[0]));
	}
	if (n > 63)
		return -E2BIG;
	/* rte_eal_init may permute argv: give it a copy. */
	memcpy(copy, args, (size_t)n * sizeof(char *));
	copy[n] = NULL;
	if (rte_eal_init(n, copy) < 0) {
		if (rte_errno == EALREADY)
			return 0; /* the application initialised EAL already */
		UENV_LOG(ENV, ERR, "EAL initialisation failed: %s", rte_strerror(rte_errno));
		return -(rte_errno ? rte_errno : EINVAL);
	}
	eal_started_here = 1;
	return 0;
}

bool env_eal_iova_is_va(void)
{
	return rte_eal_iova_mode() == RTE_IOVA_VA;
}

/* ------------------------------------------------------------ time, lock */

uint64_t uenv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void uenv_relax(void)
{
	rte_pause();
}

/* A process that is gone or a zombie.  Used for messages ("held by ...")
 * only: the lock's take-over does not trust pids. */
bool uenv_pid_alive(uint32_t pid)
{
	char path[64], buf[256];
	FILE *f;

	if (!pid)
		return false;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return false;
	/* A killed process its parent has not reaped yet still answers kill(0):
	 * its state in /proc/PID/stat is Z (zombie) or X (dead). */
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true; /* no /proc: trust kill() */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *rp = strrchr(buf, ')'); /* comm may contain spaces */
	if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
		return false;
	return true;
}

/*
 * Sessions (see env.h).  The session and the pid are cached (getpid() is a
 * system call) and forgotten in a child created by fork(): the child shares
 * its parent's open file description, hence its OFD lock, so it must take
 * a session of its own.  The handler is registered before the first value
 * is cached, so no fork can slip between the two.
 */
uint64_t uenv_self_sid;
uint32_t uenv_self_pid;

static void session_forget(void)
{
	__atomic_store_n(&uenv_self_sid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&uenv_self_pid, 0, __ATOMIC_RELAXED);
	env_arena_session_forget(true);
}

static void session_register(void)
{
	(void)pthread_atfork(NULL, NULL, session_forget);
}

uint64_t uenv_session(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	uint64_t sid = __atomic_load_n(&uenv_self_sid, __ATOMIC_ACQUIRE);

	if (__builtin_expect(sid != 0, 1))
		return sid;
	(void)pthread_once(&once, session_register);
	pthread_mutex_lock(&mu);
	sid = __atomic_load_n(&uenv_self_sid, __ATOMIC_ACQUIRE);
	if (!sid) {
		uint32_t pid = (uint32_t)getpid();

		__atomic_store_n(&uenv_self_pid, pid, __ATOMIC_RELAXED);
		/* A shared arena gives a session slot; otherwise the session is
		 * private to this process (slot 0). */
		if (env_arena_session(&sid) != 0)
			sid = (uint64_t)pid << 16;
		__atomic_store_n(&uenv_self_sid, sid, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&mu);
	return sid;
}

/* The arena was mapped or unmapped: the next lock takes a new session. */
void env_session_reset(void)
{
	__atomic_store_n(&uenv_self_sid, 0, __ATOMIC_RELEASE);
}

bool uenv_session_alive(uint64_t sid, uint32_t *pid)
{
	int r;

	if (pid)
		*pid = 0;
	if (sid == __atomic_load_n(&uenv_self_sid, __ATOMIC_RELAXED)) {
		if (pid)
			*pid = uenv_self_pid;
		return true; /* another thread of ours */
	}
	r = env_arena_session_alive(sid, pid);
	if (r >= 0)
		return r == 1;
	/* No shared arena: only this process uses the lock. */
	if (pid)
		*pid = (uint32_t)(sid >> 16);
	return true;
}

#define LOCK_SPINS	   512
#define LOCK_NAP_NS	   20000ull    /* between tries once spinning is over */
#define LOCK_CHECK_NS	   2000000ull  /* how often the holder's life is checked */

int uenv_lock_slow(uenv_lock_t *l, uint64_t timeout_ns)
{
	uint64_t self = uenv_session();
	uint64_t start = 0, last_check = 0;
	unsigned int spins = 0;

	for (;;) {
		uint64_t cur = 0;

		if (__atomic_compare_exchange_n(&l->v, &cur, self, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
		if (++spins < LOCK_SPINS) {
			rte_pause();
			continue;
		}
		uint64_t now = uenv_now_ns();
		if (!start)
			start = last_check = now;
		if (now - last_check >= LOCK_CHECK_NS) {
			last_check = now;
			uint32_t dead_pid = 0;

			if (cur && !uenv_session_alive(cur, &dead_pid)) {
				/* The holder died holding it: take it over. */
				if (__atomic_compare_exchange_n(&l->v, &cur, self, false,
								__ATOMIC_ACQUIRE,
								__ATOMIC_RELAXED)) {
					UENV_LOG(ENV, WARNING,
						 "lock holder (session %llu, pid %u) died; "
						 "lock taken over",
						 (unsigned long long)cur, dead_pid);
					return 1;
				}
				continue;
			}
		}
		if (timeout_ns != UINT64_MAX && now - start >= timeout_ns)
			return -ETIMEDOUT;
		struct timespec ts = {0, (long)LOCK_NAP_NS};
		nanosleep(&ts, NULL);
	}
}

/* Who holds @l: its pid (0 if free or unknown) and whether it is alive. */
uint32_t uenv_lock_holder(const uenv_lock_t *l, bool *alive)
{
	uint64_t sid = __atomic_load_n(&l->v, __ATOMIC_RELAXED);
	uint32_t pid = 0;
	bool a = sid && uenv_session_alive(sid, &pid);

	if (alive)
		*alive = a;
	return sid ? pid : 0;
}

/* ------------------------------------------------------------------ NUMA */

int uenv_numa_nodes(void)
{
	if (numa_available() < 0)
		return 1;
	int n = numa_max_node() + 1;
	return n > 0 ? n : 1;
}

int uenv_numa_node_of(const void *va)
{
	int status = -1;
	void *page = (void *)((uintptr_t)va & ~(uintptr_t)(UENV_PAGE_SIZE - 1));

	if (numa_available() < 0)
		return -1;
	if (numa_move_pages(0, 1, &page, NULL, &status, 0) < 0 || status < 0)
		return -1;
	return status;
}

int env_numa_bind(void *va, size_t len, int node)
{
	if (node < 0 || numa_available() < 0 || node > numa_max_node())
		return 0;
	numa_tonode_memory(va, len, node);
	return 0;
}

/* ------------------------------------------------------ address look-ups */

uint64_t env_pagemap_phys(const void *va)
{
	/* /proc/self is resolved at open(): a child of fork() must open its
	 * own, the inherited descriptor shows its parent's page map. */
	static __thread int fd = -1;
	static __thread pid_t fd_pid;
	uint64_t ent;
	uintptr_t v = (uintptr_t)va;
	long psz = sysconf(_SC_PAGESIZE);
	pid_t self = getpid();

	if (fd >= 0 && fd_pid != self) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		fd_pid = self;
	}
	if (fd < 0)
		return UINT64_MAX;
	if (pread(fd, &ent, sizeof(ent), (off_t)(v / (uintptr_t)psz * sizeof(ent))) != sizeof(ent))
		return UINT64_MAX;
	/* Bit 63: present; bits 54..0: PFN (zero without CAP_SYS_ADMIN). */
	if (!(ent & (1ull << 63)) || (ent & ((1ull << 55) - 1)) == 0)
		return UINT64_MAX;
	return (ent & ((1ull << 55) - 1)) * (uint64_t)psz + (v % (uintptr_t)psz);
}

/*
 * Is the page at physical address @pa a hugetlbfs page (KPF_HUGE in
 * /proc/kpageflags, readable with the same privilege as pagemap's PFNs)?
 * Only those keep their physical address while mapped (DPDK's IOVA-as-PA
 * rule); an ordinary or transparent huge page can be moved, swapped or
 * reclaimed at any time, and a device would then write into memory that
 * belongs to someone else.  Unknown (no kpageflags): false.
 */
bool env_phys_is_hugetlb(uint64_t pa)
{
	static __thread int fd = -1;
	uint64_t flags;
	long psz = sysconf(_SC_PAGESIZE);

	if (fd < 0)
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, &flags, sizeof(flags), (off_t)(pa / (uint64_t)psz * sizeof(flags))) !=
	    sizeof(flags))
		return false;
	return (flags >> KPF_HUGE) & 1;
}

uint64_t uenv_mem_virt2iova(const void *va, uint64_t *contig)
{
	uint64_t iova;
	uint64_t page_left = UENV_PAGE_SIZE - ((uintptr_t)va & (UENV_PAGE_SIZE - 1));

	iova = env_arena_virt2iova(va, contig);
	if (iova != UINT64_MAX)
		return iova;
	if (uenv_iova_is_va()) {
		if (contig)
			*contig = UINT64_MAX - (uintptr_t)va;
		return (uint64_t)(uintptr_t)va;
	}
	if (uenv_ready() && env_backend() == UIOMMU_MEM_DPDK) {
		iova = rte_mem_virt2iova(va);
		if (iova != RTE_BAD_IOVA) {
			if (contig)
				*contig = page_left;
			return iova;
		}
	}
	iova = env_pagemap_phys(va);
	if (iova != UINT64_MAX && !env_phys_is_hugetlb(iova)) {
		static bool told;

		if (!told)
			UENV_LOG(ENV, ERR,
				 "memory at %p is not on hugetlbfs: its physical address can change "
				 "(the kernel may move, swap or reclaim the page), so it cannot be "
				 "given to a device; use hugepages or DMA memory",
				 va);
		told = true;
		iova = UINT64_MAX;
	}
	if (contig)
		*contig = iova == UINT64_MAX ? 0 : page_left;
	return iova;
}
