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

#include <numa.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <rte_pause.h>
#include <rte_telemetry.h>

#include "core/env.h"
#include "core/env_internal.h"

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

/*
 * A spinlock in shared memory.  The holder's pid is recorded so that a
 * process killed while holding it (kill -9) does not wedge every later
 * process: after spinning a while, a waiter checks whether the holder
 * still exists and takes the lock over if not.
 */
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
 * The lock records its holder's pid (for take-over when the holder dies).
 * getpid() is a system call (glibc no longer caches it), ~100 ns: twice per
 * map it was the largest single cost.  Cache it, and forget it in a child
 * created by fork() (pthread_atfork handler, registered before the first
 * value is cached, so no fork can slip between the two).
 */
uint32_t uenv_self_pid;

static void self_pid_forget(void)
{
	__atomic_store_n(&uenv_self_pid, 0, __ATOMIC_RELAXED);
}

static void self_pid_register(void)
{
	(void)pthread_atfork(NULL, NULL, self_pid_forget);
}

uint32_t uenv_lock_self(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint32_t pid = __atomic_load_n(&uenv_self_pid, __ATOMIC_RELAXED);

	if (__builtin_expect(pid != 0, 1))
		return pid;
	(void)pthread_once(&once, self_pid_register);
	pid = (uint32_t)getpid();
	__atomic_store_n(&uenv_self_pid, pid, __ATOMIC_RELAXED);
	return pid;
}

void uenv_lock_slow(uenv_lock_t *l)
{
	uint32_t self = uenv_lock_self();
	unsigned int spins = 0;

	for (;;) {
		uint32_t expect = 0;

		if (__atomic_compare_exchange_n(&l->v, &expect, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&l->owner_pid, self, __ATOMIC_RELAXED);
			return;
		}
		if (++spins < 4096) {
			rte_pause();
			continue;
		}
		spins = 0;
		uint32_t owner = __atomic_load_n(&l->owner_pid, __ATOMIC_RELAXED);
		if (owner && owner != self && !uenv_pid_alive(owner)) {
			/* Holder died: take over. */
			if (__atomic_compare_exchange_n(&l->owner_pid, &owner, self, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
				__atomic_store_n(&l->v, 1, __ATOMIC_RELAXED);
				UENV_LOG(ENV, WARNING, "lock holder pid %u died; lock taken over",
					 owner);
				return;
			}
		}
		usleep(50);
	}
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
	static __thread int fd = -1;
	uint64_t ent;
	uintptr_t v = (uintptr_t)va;
	long psz = sysconf(_SC_PAGESIZE);

	if (fd < 0)
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UINT64_MAX;
	if (pread(fd, &ent, sizeof(ent), (off_t)(v / (uintptr_t)psz * sizeof(ent))) != sizeof(ent))
		return UINT64_MAX;
	/* Bit 63: present; bits 54..0: PFN (zero without CAP_SYS_ADMIN). */
	if (!(ent & (1ull << 63)) || (ent & ((1ull << 55) - 1)) == 0)
		return UINT64_MAX;
	return (ent & ((1ull << 55) - 1)) * (uint64_t)psz + (v % (uintptr_t)psz);
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
	if (contig)
		*contig = iova == UINT64_MAX ? 0 : page_left;
	return iova;
}
