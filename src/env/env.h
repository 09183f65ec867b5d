/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment layer: the only part of uiommu that includes DPDK, libnuma or
 * libpci headers.  Everything else asks this layer for memory, addresses,
 * logging and PCI config space.
 *
 * Memory lives in one *arena*.  The arena is either
 *  - DPDK-backed: IOVA-contiguous memzones reserved from an EAL the caller
 *    (or uenv_init) initialised; lives as long as the process; or
 *  - file-backed ("shared state"): a hugetlbfs file (2 MiB pages, IOVA =
 *    physical address from /proc/self/pagemap) or, for the built-in models,
 *    a /dev/shm file (IOVA = virtual address), mapped at one fixed virtual
 *    address in every process so that plain pointers stay valid after the
 *    creating process exits.  See docs/architecture.md, "Shared state".
 *
 * The arena hands out three kinds of memory, all zeroed:
 *  - table pages: 4 KiB, 4 KiB aligned, carved from 2 MiB chunks (the hot
 *    path of page-table code: a free-list pop);
 *  - DMA blocks: IOVA-contiguous, power-of-two aligned, up to the chunk size
 *    (queues, root/stream/device tables), or larger dedicated chunks in the
 *    DPDK backend;
 *  - metadata: small objects (slab size classes) for the object model.
 *
 * Every allocation can be made to fail on demand (uenv_fail_nth) so that the
 * fail-nth tests can walk every error path.
 */
#ifndef UIOMMU_ENV_H
#define UIOMMU_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu_env.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UENV_PAGE_SIZE	4096u
#define UENV_CHUNK_SIZE (2u << 20) /* 2 MiB: one hugepage */
#define UENV_NODE_ANY	(-1)

/** Initialise the environment (EAL if needed, arena).  Idempotent per process. */
int uenv_init(const struct uiommu_env_opts *opts);
/** Release process-local resources; a file-backed arena stays unless @destroy. */
void uenv_fini(bool destroy);
/** True once uenv_init succeeded. */
bool uenv_ready(void);
/** True when IOVA == virtual address (no-huge / model mode). */
bool uenv_iova_is_va(void);
/** The arena's root pointer slot (for the core's context object). */
void **uenv_root_slot(void);
/** True when the arena was adopted from an earlier process. */
bool uenv_adopted(void);
/** Nothing is allocated in the arena (its counts, checked at adoption). */
bool uenv_arena_empty(void);
/** How long adoption may wait for a lock (UINT64_MAX: no bound). */
uint64_t uenv_adopt_wait_ns(void);
/** Shared backends: map what another process added to the arena. */
void uenv_sync_slow(void);
/* Private to env_mem.c: true while the arena is a shared file (only then
 * can another process have grown it). */
extern bool uenv_arena_shared;
static inline void uenv_sync(void)
{
	if (uenv_arena_shared)
		uenv_sync_slow();
}
/** Shared backends: does a state file of this name exist? */
int uenv_shared_exists(const struct uiommu_env_opts *opts);
/** Shared backends: the state file's path.  0, -EINVAL (bad name), -ENAMETOOLONG. */
int uenv_state_path(const struct uiommu_env_opts *opts, char *buf, size_t len);
/** Other processes that have this shared state open now (live sessions):
 *  up to @max pids; returns how many there are. */
int uenv_state_users(uint32_t *pids, uint32_t max);
/** Delete the state file @opts names without opening it (after the same
 *  directory checks as an open).  0 or -errno. */
int uenv_state_unlink(const struct uiommu_env_opts *opts);
/* ---- transactions on a shared arena (all or nothing under kill -9) ---- */
/** Can this arena do transactions (a shared state)? */
bool uenv_txn_supported(void);
/** Save the arena's image (caller holds the state lock).  0, -EOPNOTSUPP,
 *  -EBUSY (one is open), -EUCLEAN (an image is pending restore), -errno. */
int uenv_txn_begin(void);
/** A transaction of this process is open. */
bool uenv_txn_active(void);
/** Drop the image: the changes stay. */
int uenv_txn_commit(void);
/** Put back a valid image (a transaction that was aborted or whose process
 *  died): 1 restored, 0 none pending, <0 error.  Caller holds the lock.
 *  [@keep, @keep + @keep_len) (arena memory, e.g. the state lock's word)
 *  keeps its current bytes throughout. */
int uenv_txn_restore(const void *keep, size_t keep_len);
/** After a restore and the hardware's invalidation: give back memory the
 *  rolled-back transaction had added. */
void uenv_txn_trim(void);
/** Is @p the start of a live metadata allocation (uenv_zalloc) of at least
 *  @size bytes?  For checking pointers read from a state file. */
bool uenv_is_meta(const void *p, size_t size);
/** Is [p, p + size) inside arena memory (any kind)? */
bool uenv_in_arena(const void *p, size_t size);

/* ---- the state checker (check.c): the arena's side ---- */
/** Check the arena's own bookkeeping (chunk table, chunk pages, hashes,
 *  slab free lists, live counts), as a process adopting it does; the
 *  problem found goes to @report too.  0, -EUCLEAN, -ENODEV. */
int uenv_arena_check(void (*report)(void *arg, const char *msg), void *arg);
/** CPU address of the live table page (uenv_page_alloc) at bus address
 *  @iova; NULL when there is none there. */
void *uenv_table_page(uint64_t iova);
/** Is @va a live table page? */
bool uenv_is_table_page(const void *va);
/** Is @p the start of a live DMA block (uenv_dma_alloc) of at least @size
 *  bytes? */
bool uenv_is_dma(const void *p, size_t size);
/*
 * The mark pass of the leak check: a set of marks over the arena's live
 * allocations (process memory; the arena must not change while it is in
 * use: hold the state lock).  uenv_mark() marks an allocation a pointer
 * the caller understands names exactly; uenv_mark_scan() marks,
 * conservatively, whatever the words of an allocation the caller cannot
 * interpret (a driver's private state) may point at, by CPU or by bus
 * address, and so on from there.  uenv_marks_report() lists what no mark
 * reached.
 */
#define UENV_MARK_META	1u /* uenv_zalloc */
#define UENV_MARK_TABLE 2u /* uenv_page_alloc */
#define UENV_MARK_DMA	4u /* uenv_dma_alloc */
struct uenv_marks;
/** NULL: no memory (or no usable arena). */
struct uenv_marks *uenv_marks_new(void);
void uenv_marks_free(struct uenv_marks *mk);
/** Mark the live allocation that starts at @p, of one of @kinds, at least
 *  @size bytes long: 1 newly marked, 0 marked before, -ENOENT no such
 *  allocation (a free slot, the wrong kind, too short, not the arena). */
int uenv_mark(struct uenv_marks *mk, const void *p, size_t size, unsigned int kinds);
/** Conservative scan from the allocation holding @p; returns how many
 *  allocations it newly reached. */
uint64_t uenv_mark_scan(struct uenv_marks *mk, const void *p);
/** Report every live allocation nothing marked (at most @max_lines lines,
 *  then a summary line); returns how many there are. */
uint64_t uenv_marks_report(struct uenv_marks *mk, unsigned int max_lines,
			   void (*cb)(void *arg, const char *msg), void *arg);
/** Tests (the state-file fuzzer): the arena's own bookkeeping, region by
 *  region (header, hash slots in use, chunk entries, chunk bookkeeping
 *  pages, free-list links). */
void uenv_debug_regions(void (*cb)(void *arg, const char *what, void *p, size_t len), void *arg);

/* ---- table pages (4 KiB) ---- */
/** A zeroed, 4 KiB aligned, 4 KiB page; *iova receives its bus address. */
void *uenv_page_alloc(int node, uint64_t *iova);
void uenv_page_free(void *va);
/** Free a table page the caller left all zero: it is handed out again
 *  without being cleared. */
void uenv_page_free_zeroed(void *va);
/** A 16-bit slot kept beside the table page at @va (0 when the page is
 *  allocated; the page-table engine keeps its count of present entries
 *  there).  NULL when @va is not a table page of the arena. */
uint16_t *uenv_page_count(void *va);

/* ---- IOVA-contiguous DMA blocks ---- */
struct uenv_dma {
	void *va;
	uint64_t iova;
	size_t len;
};
/** Zeroed, IOVA-contiguous block of @len bytes aligned to @align (power of 2,
 *  >= 4096).  Returns 0 or -ENOMEM / -EINVAL. */
int uenv_dma_alloc(size_t len, size_t align, int node, struct uenv_dma *out);
/** As uenv_dma_alloc, for a data buffer (what devices read and write, not
 *  state): a transaction's undo image leaves a large one out. */
int uenv_dma_alloc_data(size_t len, size_t align, int node, struct uenv_dma *out);
void uenv_dma_free(struct uenv_dma *dma);
/**
 * The DPDK memzone @name as DMA memory owned by someone else: looked up in
 * this process's EAL when it is up (an application's own), else after
 * joining the DPDK primary process started with --file-prefix @file_prefix
 * (NULL: "rte") as an EAL secondary process.  The memzone must be
 * IOVA-contiguous.  *out: its CPU address in this process, bus address and
 * length; never freed through uenv_dma_free().
 * @return 0, -ENOENT (no such memzone), -ENODEV (no DPDK primary with that
 * prefix, or EAL could not join it), -EPERM (its runtime directory or
 * config file is not this user's or is writable by others), -EINVAL (bad
 * name, or not IOVA-contiguous).
 */
int uenv_memzone_find(const char *name, const char *file_prefix, struct uenv_dma *out);

/* ---- address translation for table memory ---- */
/** Bus address of arena memory; UINT64_MAX when @va is not arena memory. */
uint64_t uenv_va_to_iova(const void *va);
/** CPU address of arena memory at bus address @iova; NULL when unknown. */
void *uenv_iova_to_va(uint64_t iova);
/* The arena chunk holding bus address @iova: linear in both address spaces
 * over [iova, iova + len); count slots of its table pages (standard chunks,
 * else NULL) indexed by page; valid while *gen == gen_val (any chunk
 * deletion, by any process, bumps *gen). */
struct uenv_span {
	uint64_t iova;
	uint64_t len;
	uint8_t *va;
	uint16_t *cnt;
	const uint64_t *gen;
	uint64_t gen_val;
};
/** 0, or -ENOENT when @iova is not arena memory with a bus address. */
int uenv_iova_span(uint64_t iova, struct uenv_span *out);
/** Bus address of any CPU memory: arena, DPDK memory, or (IOVA as PA) the
 *  process page map (hugetlbfs pages only: others can move); in IOVA-as-VA
 *  mode the address itself.  UINT64_MAX when it cannot be known.  *contig receives how many bytes from @va on are
 *  IOVA-contiguous (at least to the end of the page). */
uint64_t uenv_mem_virt2iova(const void *va, uint64_t *contig);

/* ---- metadata (object model) ---- */
void *uenv_zalloc(size_t size);
void uenv_free(void *p);
/** Like strdup, into the arena. */
char *uenv_strdup(const char *s);

/* ---- fault injection and accounting ---- */
/** Make the @n-th allocation from now fail (1 = the next one); 0 disarms. */
void uenv_fail_nth(unsigned long n);
/** Tests: the @n-th allocation from now kills the process (SIGKILL) instead
 *  of allocating (a crash point, like fail-nth); 0 disarms. */
void uenv_crash_nth(unsigned long n);
/** True if an injected failure has fired since the last uenv_fail_nth(). */
bool uenv_fail_fired(void);
struct uenv_stats {
	uint64_t heap_live;  /* metadata objects live */
	uint64_t pages_live; /* table pages live */
	uint64_t dma_live;   /* DMA blocks live */
	uint64_t chunks;     /* 2 MiB chunks owned by the arena */
	uint64_t allocs;     /* allocation attempts so far */
};
void uenv_get_stats(struct uenv_stats *st);

/* ---- process-shared lock (lives in shared memory) ----
 *
 * The lock word holds the holder's *session*: a number this process gets
 * from the arena (a slot of the state file it holds an OFD lock on, and a
 * generation that is never reused).  The kernel drops the OFD lock when the
 * process dies however it dies, so a waiter can tell "holder dead" from
 * "holder busy" without trusting a pid (pids are reused; the state file is
 * input).  Uncontended: one compare-and-swap, no system call.  glibc's
 * robust mutex does the same job for 136 instructions per lock/unlock pair
 * (measured: callgrind), three times this whole lock's budget on the map
 * path.  A process without a shared arena uses a process-private session
 * (the lock is then only between its threads).
 */
typedef struct {
	uint64_t v;	/* 0: free; else the holder's session (uenv_session); the
			 * holder's pid is in the session table (uenv_lock_holder) */
	uint64_t spare; /* zero (was the holder's pid: one store per lock saved) */
} uenv_lock_t;

/* Private to env.c: this process's session, 0 until established (and
 * after fork or uenv_fini); its pid. */
extern uint64_t uenv_self_sid;
extern uint32_t uenv_self_pid;
/** This process's session (established on first use). */
uint64_t uenv_session(void);
/** Contended path: wait up to @timeout_ns (UINT64_MAX: no bound).
 *  0: taken; 1: taken over from a holder that died while holding it (what
 *  it protected may be half-changed); -ETIMEDOUT. */
int uenv_lock_slow(uenv_lock_t *l, uint64_t timeout_ns);
/** Is the session @sid alive?  *pid (may be NULL) gets its pid if known. */
bool uenv_session_alive(uint64_t sid, uint32_t *pid);
/** Who holds @l: pid (0: free or unknown); *alive: is the holder alive. */
uint32_t uenv_lock_holder(const uenv_lock_t *l, bool *alive);
/** Is process @pid alive (not gone, not a zombie)?  For messages only. */
bool uenv_pid_alive(uint32_t pid);

/* Inline: the uncontended lock and the unlock are a few instructions on
 * every map and unmap.  Returns as uenv_lock_slow without a bound. */
static inline int uenv_lock(uenv_lock_t *l)
{
	uint64_t sid = __atomic_load_n(&uenv_self_sid, __ATOMIC_RELAXED);
	uint64_t expect = 0;

	if (__builtin_expect(sid != 0, 1) &&
	    __builtin_expect(__atomic_compare_exchange_n(&l->v, &expect, sid, false,
							 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED),
			     1)) {
		return 0;
	}
	return uenv_lock_slow(l, UINT64_MAX);
}

/** As uenv_lock, waiting at most @timeout_ns. */
static inline int uenv_lock_timed(uenv_lock_t *l, uint64_t timeout_ns)
{
	uint64_t sid = __atomic_load_n(&uenv_self_sid, __ATOMIC_RELAXED);
	uint64_t expect = 0;

	if (sid && __atomic_compare_exchange_n(&l->v, &expect, sid, false, __ATOMIC_ACQUIRE,
					       __ATOMIC_RELAXED))
		return 0;
	return uenv_lock_slow(l, timeout_ns);
}

static inline void uenv_unlock(uenv_lock_t *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/** Held by this process (any of its threads)? */
static inline bool uenv_lock_held_here(const uenv_lock_t *l)
{
	uint64_t sid = __atomic_load_n(&uenv_self_sid, __ATOMIC_RELAXED);

	return sid && __atomic_load_n(&l->v, __ATOMIC_RELAXED) == sid;
}

/* ---- time, for bounded polls ---- */
/** Monotonic time in nanoseconds. */
uint64_t uenv_now_ns(void);
/** CPU pause hint for polling loops. */
void uenv_relax(void);

/* ---- register windows (env_regio.c) ----
 *
 * An IOMMU's registers mapped into the process, for every family: the
 * family asks for a window of N bytes and gets a struct uiommu_regio
 * (core/regs.h) with base and size filled (no model hooks).  A mapping is
 * process-local: every process that adopts a state maps its own. */
struct uiommu_regio;
/* Where a unit's registers are: @fd >= 0, else @path, else /dev/mem at @base. */
struct uenv_regsrc {
	uint64_t base;	    /* physical register base (page aligned) */
	const char *path;   /* a UIO device (/dev/uioN: its map 0) or a sysfs PCI
			     * resource file, mapped from offset 0 */
	int fd;		    /* an open file (a VFIO device fd), or -1 */
	uint64_t fd_offset; /* where in @fd: the region's offset (page aligned) */
	/* /dev/mem: names (prefixes) under which the kernel's driver for this
	 * family claims its units in /proc/iomem ("dmar"; "AMD-Vi",
	 * "amd_iommu"; "arm-smmu-v3"), NULL-terminated; NULL: no check. */
	const char *const *claims;
	/* /dev/mem: a platform driver (SMMUv3: "arm-smmu-v3") that owns the
	 * unit when one of the devices bound to it (a link in
	 * /sys/bus/platform/drivers/<name>/) holds a /proc/iomem range
	 * containing @base under that device's own name; NULL: no check. */
	const char *platform_driver;
	const char *what;	/* the family, for messages ("VT-d") */
	const char *kernel_off; /* what keeps the kernel's driver off ("boot with intel_iommu=off") */
	bool force;		/* map even when the kernel claims it */
};
/** Map @size bytes (rounded up to pages) of @src, read-write (@writable:
 *  failures are logged) or read-only (quiet), into @r.
 *  @return 0, -EINVAL (base 0 or not page aligned, bad offset, size 0),
 *  -EBUSY (/dev/mem: the kernel claims it, !force), -EPERM (not allowed),
 *  -ENODEV (no such file, or nothing to map there), -errno. */
int uenv_regio_map(const struct uenv_regsrc *src, uint64_t size, bool writable,
		   struct uiommu_regio *r);
/** Undo uenv_regio_map (nothing when @r has no mapping). */
void uenv_regio_unmap(struct uiommu_regio *r);
/** The claim of @claims (a prefix) under which /proc/iomem shows a range
 *  holding @base, or NULL (none, or /proc/iomem unreadable / addresses
 *  hidden without CAP_SYS_ADMIN). */
const char *uenv_iomem_claim(uint64_t base, const char *const *claims);
/** Tests: read @path instead of /proc/iomem (NULL restores). */
void uenv_regio_set_iomem_path(const char *path);
/** The device bound to platform driver @driver whose own /proc/iomem
 *  range holds @base, copied to @dev (NUL-terminated): 1; none: 0;
 *  -EACCES when devices are bound but /proc/iomem is unreadable or its
 *  addresses are hidden (cannot tell: the caller refuses). */
int uenv_platform_claim(uint64_t base, const char *driver, char *dev, size_t len);
/** Tests: look for drivers under @path instead of
 *  /sys/bus/platform/drivers (NULL restores). */
void uenv_regio_set_platform_path(const char *path);

/* ---- NUMA ---- */
/** Number of NUMA nodes (1 when libnuma reports none). */
int uenv_numa_nodes(void);
/** Node of the memory at @va, or -1. */
int uenv_numa_node_of(const void *va);

/* ---- telemetry ---- */
struct uenv_kv {
	const char *key;
	uint64_t val;
};
/* Fills up to @max pairs; returns how many.  Runs on DPDK's telemetry thread. */
typedef int (*uenv_telemetry_fn)(struct uenv_kv *kv, int max);
/** Provide the source of /uiommu/objects (process-local). */
void uenv_telemetry_set_objects(uenv_telemetry_fn fn);

/* ---- logging: one rte_log type per module ---- */
enum uenv_logmod {
	UENV_LOG_CORE,
	UENV_LOG_ENV,
	UENV_LOG_PGT,
	UENV_LOG_FW,
	UENV_LOG_VTD,
	UENV_LOG_SMMU,
	UENV_LOG_AMDVI,
	UENV_LOG_MODEL,
	UENV_LOG_CLI,
	UENV_LOG__COUNT
};
enum uenv_level { UENV_ERR = 4, UENV_WARNING = 5, UENV_NOTICE = 6, UENV_INFO = 7, UENV_DEBUG = 8 };
void uenv_log(enum uenv_logmod mod, enum uenv_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Set a module's level (rte_log levels: 1 emergency .. 8 debug). */
void uenv_log_set_level(enum uenv_logmod mod, int level);

#define UENV_LOG(mod, lvl, fmt, ...) uenv_log(UENV_LOG_##mod, UENV_##lvl, fmt "\n", ##__VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
