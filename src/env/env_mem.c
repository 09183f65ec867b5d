/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment layer, part 2: the arena.
 *
 * The arena is a set of 2 MiB chunks, each IOVA-contiguous and 2 MiB
 * aligned in both CPU and bus address, plus "dedicated" chunks for large
 * IOVA-contiguous blocks.  A standard chunk keeps its own bookkeeping in
 * its first 4 KiB page (struct chunk_meta: a used-page bitmap and a tag per
 * page), so the other 511 pages are table pages, runs of pages (DMA blocks,
 * large metadata) or slab pages (small metadata objects).
 *
 * Look-ups go through two hashes keyed by the 2 MiB frame number of the
 * CPU address and of the bus address: O(1) for pgt's pa_to_va on the map
 * path.
 *
 * Backends (see env.h): DPDK memzones (the header is process memory), or a
 * file mapped at a fixed address whose first 2 MiB hold the header, so that
 * a later process finds every chunk again (shared state).
 *
 * One spinlock (in the header) serialises allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <linux/falloc.h>

#include "core/bitfield.h"
#include "env/env.h"
#include "env/env_internal.h"

#define ARENA_MAGIC	   0x75696f6d6d754152ull /* "uiommuAR" */
#define ARENA_VERSION	   8 /* 2: chunk_meta.clean; 3: chunk_meta.count; 4: hwpt.flush_on_map; 5: pgt pieces, iopt B-tree; 6: session lock, no process-local pointers; 7: DMA runs tagged apart from metadata; 8: unit register windows, models and event rings in core, data buffers */
#define ARENA_MAX_CHUNKS   4096
#define ARENA_HASH	   65536 /* power of two; at most half of it used (ARENA_MAX_FRAMES) */
#define ARENA_MAX_FRAMES   (ARENA_HASH / 2)
#define ARENA_HDR_LEN	   ((uint64_t)UENV_CHUNK_SIZE)
#define ARENA_DEFAULT_BASE 0x5e0000000000ull
#define ARENA_DEFAULT_MAX  (4ull << 30)
#define ARENA_LIMIT_MAX	   (1ull << 40) /* largest arena a state file may declare */
/* The fixed address must leave room below the top of the user address
 * space (47 bits on x86-64 and arm64 with 4-level tables). */
#define ARENA_VA_MIN	   (1ull << 32)
#define ARENA_VA_END	   (1ull << 47)
/* Lock sessions: slot s of a state file is held by the process that has an
 * OFD write lock on byte SESS_LOCK_OFF + s of the file (far past any data:
 * locks may lie beyond the end of a file). */
#define ARENA_SESS_SLOTS   1024u
#define SESS_LOCK_OFF	   (1ll << 50)
#define PAGES_PER_CHUNK	   (UENV_CHUNK_SIZE / UENV_PAGE_SIZE)
#define FRAME_SHIFT	   20 /* hash granule: 1 MiB (the smallest chunk) */

#define HASH_EMPTY (-1)
#define HASH_TOMB  (-2)

enum page_tag {
	PG_FREE = 0,
	PG_META,
	PG_TABLE,
	PG_RUN_HEAD, /* first page of a run of metadata (a large object) */
	PG_RUN_TAIL,
	PG_SLAB0, /* PG_SLAB0 + class */
};

#define SLAB_CLASSES   7 /* 32 .. 2048 bytes */
#define SLAB_MIN_SHIFT 5
/* First page of a DMA block: a run like PG_RUN_HEAD's, told apart so that
 * memory a device may write is never taken for metadata. */
#define PG_DMA	       (PG_SLAB0 + SLAB_CLASSES)

/* chunk.dma_block of a dedicated chunk: 1 a DMA block, DMA_DATA a data
 * buffer (not state: left out of transaction images). */
#define DMA_DATA 2u

enum chunk_kind {
	CK_NONE = 0,
	CK_STD,
	CK_DEDICATED,
	CK_META /* large metadata: not IOVA-contiguous */
};

struct chunk_meta {
	uint64_t used[PAGES_PER_CHUNK / 64];
	uint64_t clean[PAGES_PER_CHUNK / 64]; /* free pages known to be all zero */
	uint8_t tag[PAGES_PER_CHUNK];
	uint16_t run[PAGES_PER_CHUNK]; /* run length, on PG_RUN_HEAD and PG_DMA pages */
	/* PG_TABLE pages: a 16-bit slot the page-table engine owns while the
	 * page is allocated (its count of present entries, uenv_page_count). */
	uint16_t count[PAGES_PER_CHUNK];
	uint32_t nfree;
	uint32_t idx;
	uint32_t npages; /* pages in this chunk (256 or 512) */
};
_Static_assert(sizeof(struct chunk_meta) <= UENV_PAGE_SIZE, "chunk meta fits one page");

struct chunk {
	uint8_t *va;
	uint64_t iova;
	uint64_t len;
	int32_t node;
	uint32_t kind;
	uint32_t dma_block; /* dedicated: used as a DMA block (vs large object);
			     * DMA_DATA: a data buffer, not state (no undo image) */
	uint32_t pad;
	uint64_t file_off; /* shared backends */
	const void *mz;	   /* DPDK backend */
};

struct arena {
	uint64_t magic;
	uint32_t version;
	uint32_t backend;
	uenv_lock_t lock;
	void *root;
	uint64_t base;
	uint64_t max;
	uint64_t file_len;
	uint32_t iova_is_va;
	uint32_t nr_chunks;
	uint32_t frames;    /* hash entries in use per hash */
	uint64_t gen;	    /* bumped when a chunk goes away (look-up caches) */
	uint64_t chunk_len; /* standard chunk: 2 MiB, or 1 MiB where a 2 MiB-aligned
			     * IOVA-contiguous 2 MiB cannot be had (DPDK, IOVA as PA) */
	uint32_t hint[8];   /* per node (mod 8): last chunk with free pages */
	void *slab_free[SLAB_CLASSES];
	uint64_t heap_live, pages_live, dma_live, allocs;
	int32_t vhash[ARENA_HASH];
	int32_t ihash[ARENA_HASH];
	struct chunk chunks[ARENA_MAX_CHUNKS];
	/* Lock sessions (env.h): the generation and pid of the process that
	 * took each slot last; sess_next hands out generations. */
	uint64_t sess_next;
	struct arena_sess {
		uint64_t gen;
		uint32_t pid;
		uint32_t pad;
	} sess[ARENA_SESS_SLOTS];
};
_Static_assert(sizeof(struct arena) <= ARENA_HDR_LEN, "arena header fits its 2 MiB");

/* Process-local state. */
static struct arena *A;
static int arena_fd = -1;
static uint64_t mapped_len; /* shared backends: bytes of the file mapped here */
/* Shared backends: base and size of the reservation, as validated at open
 * (never re-read from the file: it is input). */
static uint64_t loc_base, loc_max;
static enum uiommu_mem_backend loc_backend;
static uint64_t adopt_wait_ns = UINT64_MAX; /* uiommu_env_opts.lock_wait_ms */
static int sess_fd = -1;     /* this process's own open of the state file */
static uint32_t sess_slot;   /* 0: none */
static int state_dfd = -1;   /* the state directory (validated at open) */
static int undo_dfd = -1;    /* where undo images go: the tmpfs state directory */
static char state_name[72];  /* the state's file name in it */
/* Transactions (uenv_txn_*): the undo image file, and the chunks whose
 * memory a transaction freed (given back only when it commits). */
static int undo_fd = -1;
static bool txn_active;
static struct deferred_drop {
	uint64_t file_off;
	uint64_t len;
} *deferred;
static uint32_t nr_deferred;
static bool adopted;
/* An undo image put back failed its checks: nothing in the arena is
 * followed any more (look-ups fail, allocations fail). */
static bool arena_broken;
static char arena_path[512];
static unsigned long fail_countdown;
static bool fail_fired;
static unsigned long crash_countdown;

/* ---------------------------------------------------------- fault inject */

void uenv_fail_nth(unsigned long n)
{
	fail_countdown = n;
	fail_fired = false;
}

bool uenv_fail_fired(void)
{
	return fail_fired;
}

void uenv_crash_nth(unsigned long n)
{
	crash_countdown = n;
}

static bool inject_failure(void)
{
	if (arena_broken)
		return true; /* nothing is handed out of an arena that failed its checks */
	if (A)
		A->allocs++;
	if (crash_countdown && --crash_countdown == 0)
		kill(getpid(), SIGKILL); /* the crash-point tests: die right here */
	if (fail_countdown && --fail_countdown == 0) {
		fail_fired = true;
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- hashes */

static uint32_t hslot(uint64_t frame)
{
	return (uint32_t)((frame * 0x9e3779b97f4a7c15ull) >> 40) & (ARENA_HASH - 1);
}

static void hash_put(int32_t *h, uint64_t addr, int32_t idx)
{
	uint64_t frame = addr >> FRAME_SHIFT;

	/* At most half the slots are used (ARENA_MAX_FRAMES), so a free one is
	 * always found; the bound only guards a corrupted table. */
	for (uint32_t i = hslot(frame), n = 0; n < ARENA_HASH; i = (i + 1) & (ARENA_HASH - 1), n++) {
		if (h[i] < 0) {
			h[i] = idx;
			return;
		}
	}
}

static int32_t hash_get(const int32_t *h, uint64_t addr, bool by_iova)
{
	uint64_t frame = addr >> FRAME_SHIFT;

	if (arena_broken)
		return -1;

	for (uint32_t i = hslot(frame), n = 0; n < ARENA_HASH;
	     i = (i + 1) & (ARENA_HASH - 1), n++) {
		int32_t c = h[i];

		if (c == HASH_EMPTY)
			return -1;
		if (c < 0 || (uint32_t)c >= A->nr_chunks)
			continue; /* tombstone (or a corrupted slot: never followed) */
		const struct chunk *ck = &A->chunks[c];
		uint64_t start = by_iova ? ck->iova : (uint64_t)(uintptr_t)ck->va;
		if (addr >= start && addr - start < ck->len)
			return c;
	}
	return -1;
}

static void hash_del(int32_t *h, uint64_t addr, int32_t idx)
{
	uint64_t frame = addr >> FRAME_SHIFT;

	for (uint32_t i = hslot(frame), n = 0; n < ARENA_HASH;
	     i = (i + 1) & (ARENA_HASH - 1), n++) {
		if (h[i] == HASH_EMPTY)
			return;
		if (h[i] == idx) {
			h[i] = HASH_TOMB;
			return;
		}
	}
}

static void chunk_hash(int32_t idx, bool add)
{
	struct chunk *ck = &A->chunks[idx];

	if (add)
		A->frames += (uint32_t)(ck->len >> FRAME_SHIFT);
	else
		A->frames -= (uint32_t)(ck->len >> FRAME_SHIFT);

	for (uint64_t off = 0; off < ck->len; off += 1ull << FRAME_SHIFT) {
		bool bus = ck->kind != CK_META || A->iova_is_va;
		if (add) {
			hash_put(A->vhash, (uint64_t)(uintptr_t)ck->va + off, idx);
			if (bus)
				hash_put(A->ihash, ck->iova + off, idx);
		} else {
			hash_del(A->vhash, (uint64_t)(uintptr_t)ck->va + off, idx);
			if (bus)
				hash_del(A->ihash, ck->iova + off, idx);
		}
	}
}

static struct chunk *chunk_of_va(const void *va)
{
	int32_t c;

	if (!A)
		return NULL;
	c = hash_get(A->vhash, (uint64_t)(uintptr_t)va, false);
	return c < 0 ? NULL : &A->chunks[c];
}

/* ------------------------------------------------------------ backends */

static bool shared_backend(void)
{
	return A && loc_backend != UIOMMU_MEM_DPDK;
}

/* Map file bytes [mapped_len, file_len) at their fixed addresses. */
static int shared_sync_mapping(void)
{
	uint64_t want_len;

	if (!shared_backend())
		return 0;
	want_len = __atomic_load_n(&A->file_len, __ATOMIC_ACQUIRE);
	if (mapped_len >= want_len)
		return 0;
	/* The length is read from the file: never map outside the range
	 * reserved at open. */
	if (want_len > loc_max || (want_len & (UENV_CHUNK_SIZE - 1))) {
		UENV_LOG(ENV, ERR, "%s: arena length 0x%llx out of range: not mapped",
			 arena_path, (unsigned long long)want_len);
		return -EIO;
	}
	void *want = (void *)(uintptr_t)(loc_base + mapped_len);
	void *p = mmap(want, want_len - mapped_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, arena_fd, (off_t)mapped_len);
	if (p == MAP_FAILED)
		return -errno;
	mapped_len = want_len;
	return 0;
}

bool uenv_arena_shared;

void uenv_sync_slow(void)
{
	if (A && shared_backend())
		(void)shared_sync_mapping();
}

/* Shared backends: undo a grow of the file from @off (its new pages were
 * mapped when @mapped): the pages go back to the pool (a hugetlbfs file
 * gives them back when it shrinks), the address range stays reserved. */
static void grow_undo(uint64_t off, bool mapped)
{
	if (mapped && mapped_len > off) {
		void *va = (void *)(uintptr_t)(loc_base + off);
		size_t n = (size_t)(mapped_len - off);

		munmap(va, n);
		mmap(va, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		     0);
		mapped_len = off;
	}
	A->file_len = off;
	if (ftruncate(arena_fd, (off_t)off) < 0) /* the file stays longer: harmless */
		UENV_LOG(ENV, WARNING, "state file: shrink back failed: %s", strerror(errno));
}

/* Obtain @len bytes (multiple of 2 MiB) of IOVA-contiguous memory. */
static int backend_grab(uint64_t len, uint64_t align, int node, bool contig, struct chunk *ck)
{
	if (loc_backend == UIOMMU_MEM_DPDK) {
		struct env_mz mz;
		int rc = env_dpdk_reserve(len, align < A->chunk_len ? A->chunk_len : align, node,
					  contig, &mz);
		if (rc)
			return rc;
		ck->va = mz.va;
		ck->iova = mz.iova;
		ck->len = len;
		ck->node = mz.node;
		ck->mz = mz.handle;
		memset(ck->va, 0, len);
		return 0;
	}

	/* Shared backends: grow the file. */
	if (contig && loc_backend == UIOMMU_MEM_SHARED_HUGE && len > UENV_CHUNK_SIZE)
		return -ENOMEM; /* hugepages are contiguous only 2 MiB at a time */
	uint64_t off = A->file_len;
	if (off + len > loc_max)
		return -ENOMEM;
	if (ftruncate(arena_fd, (off_t)(off + len)) < 0)
		return -errno;
	A->file_len = off + len;
	int rc = shared_sync_mapping();
	if (rc) {
		grow_undo(off, false);
		return rc;
	}
	ck->va = (uint8_t *)(uintptr_t)(loc_base + off);
	ck->len = len;
	ck->file_off = off;
	env_numa_bind(ck->va, len, node);
	/* Fault the pages in (a hugetlbfs file may run out of pages here). */
	memset(ck->va, 0, len);
	if (A->iova_is_va) {
		ck->iova = (uint64_t)(uintptr_t)ck->va;
	} else if (!contig) {
		ck->iova = UINT64_MAX; /* CPU-only memory: no single bus address */
	} else {
		ck->iova = env_pagemap_phys(ck->va);
		if (ck->iova == UINT64_MAX || (ck->iova & (UENV_CHUNK_SIZE - 1))) {
			UENV_LOG(ENV, ERR,
				 "cannot read the physical address of a hugepage "
				 "(need root and hugetlbfs)");
			grow_undo(off, true);
			return -EPERM;
		}
	}
	int n = uenv_numa_node_of(ck->va);
	ck->node = n < 0 ? (node < 0 ? 0 : node) : n;
	return 0;
}

static void backend_drop(struct chunk *ck)
{
	if (loc_backend == UIOMMU_MEM_DPDK) {
		env_dpdk_release(ck->mz);
		return;
	}
	if (txn_active && deferred) {
		/* A rollback must find the memory as it was (a hugepage keeps
		 * its physical address only while it is not given back). */
		deferred[nr_deferred++] = (struct deferred_drop){ck->file_off, ck->len};
		return;
	}
	/* Shared: give the pages back; the file keeps its length (a hole). */
	if (ck->file_off + ck->len == A->file_len) {
		munmap(ck->va, ck->len);
		A->file_len = ck->file_off;
		mapped_len = A->file_len;
		if (ftruncate(arena_fd, (off_t)A->file_len) < 0) /* longer file: harmless */
			UENV_LOG(ENV, WARNING, "state file: shrink failed: %s", strerror(errno));
		/* keep the VA range reserved */
		mmap(ck->va, ck->len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	} else {
		(void)fallocate(arena_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)ck->file_off, (off_t)ck->len);
	}
}

static int32_t chunk_slot(void)
{
	for (uint32_t i = 0; i < A->nr_chunks; i++)
		if (A->chunks[i].kind == CK_NONE)
			return (int32_t)i;
	if (A->nr_chunks >= ARENA_MAX_CHUNKS)
		return -1;
	return (int32_t)A->nr_chunks++;
}

static int32_t chunk_new(uint64_t len, uint64_t align, int node, enum chunk_kind kind)
{
	int32_t idx = chunk_slot();
	struct chunk ck = {0};

	if (idx < 0 || A->frames + (len >> FRAME_SHIFT) > ARENA_MAX_FRAMES) {
		if (idx >= 0 && (uint32_t)idx == A->nr_chunks - 1)
			A->nr_chunks--;
		return -ENOSPC;
	}
	int rc = backend_grab(len, align, node, kind != CK_META, &ck);
	if (rc) {
		if ((uint32_t)idx == A->nr_chunks - 1)
			A->nr_chunks--;
		return rc;
	}
	ck.kind = kind;
	A->chunks[idx] = ck;
	if (kind == CK_STD) {
		struct chunk_meta *m = (struct chunk_meta *)ck.va;
		m->used[0] = 1;
		m->tag[0] = PG_META;
		m->npages = (uint32_t)(ck.len / UENV_PAGE_SIZE);
		m->nfree = m->npages - 1;
		m->idx = (uint32_t)idx;
		/* backend_grab cleared the chunk: every page starts clean. */
		for (uint32_t w = 0; w < m->npages / 64; w++)
			m->clean[w] = ~0ull;
		m->clean[0] &= ~1ull;
	}
	chunk_hash(idx, true);
	return idx;
}

static void chunk_delete(int32_t idx)
{
	struct chunk *ck = &A->chunks[idx];

	chunk_hash(idx, false);
	/* Shared header: other processes' look-up caches see it too. */
	__atomic_fetch_add(&A->gen, 1, __ATOMIC_RELEASE);
	backend_drop(ck);
	memset(ck, 0, sizeof(*ck));
	while (A->nr_chunks && A->chunks[A->nr_chunks - 1].kind == CK_NONE)
		A->nr_chunks--;
}

/* ----------------------------------------------------- page allocation */

static bool run_free(const struct chunk_meta *m, uint32_t first, uint32_t n)
{
	for (uint32_t p = first; p < first + n; p++)
		if (m->used[p / 64] & (1ull << (p % 64)))
			return false;
	return true;
}

static void run_mark(struct chunk_meta *m, uint32_t first, uint32_t n, bool used)
{
	for (uint32_t p = first; p < first + n; p++) {
		if (used)
			m->used[p / 64] |= 1ull << (p % 64);
		else
			m->used[p / 64] &= ~(1ull << (p % 64));
	}
	if (used)
		m->nfree -= n;
	else
		m->nfree += n;
}

/* Find @n free pages aligned to @align_pages in a standard chunk. */
static int32_t find_run(struct chunk *ck, uint32_t n, uint32_t align_pages)
{
	struct chunk_meta *m = (struct chunk_meta *)ck->va;

	if (m->nfree < n)
		return -1;
	if (n == 1) {
		for (uint32_t w = 0; w < m->npages / 64; w++)
			if (~m->used[w])
				return (int32_t)(w * 64 + (uint32_t)__builtin_ctzll(~m->used[w]));
		return -1;
	}
	for (uint32_t p = align_pages; p + n <= m->npages; p += align_pages)
		if (run_free(m, p, n))
			return (int32_t)p;
	return -1;
}

static bool node_ok(const struct chunk *ck, int node)
{
	return ck->kind == CK_STD && (node < 0 || ck->node == node);
}

/* Allocate a run of pages; returns its first page's CPU address. */
static void *pages_get(uint32_t n, uint32_t align_pages, int node, uint8_t tag, uint64_t *iova)
{
	uint32_t h = (uint32_t)(node < 0 ? 0 : node) % 8;
	int32_t page = -1;
	int32_t idx = -1;

	/* 1: the hint; 2: any chunk on the node; 3: a new chunk on the node;
	 * 4: any chunk; 5: a new chunk anywhere. */
	if (A->hint[h] < A->nr_chunks && node_ok(&A->chunks[A->hint[h]], node)) {
		idx = (int32_t)A->hint[h];
		page = find_run(&A->chunks[idx], n, align_pages);
	}
	for (uint32_t i = 0; i < A->nr_chunks && page < 0; i++) {
		if (!node_ok(&A->chunks[i], node))
			continue;
		idx = (int32_t)i;
		page = find_run(&A->chunks[i], n, align_pages);
	}
	if (page < 0) {
		idx = chunk_new(A->chunk_len, A->chunk_len, node, CK_STD);
		if (idx >= 0)
			page = find_run(&A->chunks[idx], n, align_pages);
	}
	for (uint32_t i = 0; i < A->nr_chunks && page < 0 && node >= 0; i++) {
		if (!node_ok(&A->chunks[i], UENV_NODE_ANY))
			continue;
		idx = (int32_t)i;
		page = find_run(&A->chunks[i], n, align_pages);
	}
	if (page < 0)
		return NULL;
	struct chunk *ck = &A->chunks[idx];
	struct chunk_meta *m = (struct chunk_meta *)ck->va;
	run_mark(m, (uint32_t)page, n, true);
	m->tag[page] = tag;
	m->run[page] = (uint16_t)n;
	m->count[page] = 0;
	for (uint32_t p = (uint32_t)page + 1; p < (uint32_t)page + n; p++)
		m->tag[p] = PG_RUN_TAIL;
	A->hint[h] = (uint32_t)idx;
	uint8_t *va = ck->va + (uint64_t)page * UENV_PAGE_SIZE;
	if (iova)
		*iova = ck->iova + (uint64_t)page * UENV_PAGE_SIZE;
	/* Clear only pages not known to be zero already. */
	for (uint32_t p = (uint32_t)page; p < (uint32_t)page + n; p++) {
		uint64_t bit = 1ull << (p % 64);
		if (m->clean[p / 64] & bit)
			m->clean[p / 64] &= ~bit;
		else
			memset(ck->va + (uint64_t)p * UENV_PAGE_SIZE, 0, UENV_PAGE_SIZE);
	}
	return va;
}

/* Free the run at @va (which must be a run head or a single page). */
static void pages_put(struct chunk *ck, void *va)
{
	struct chunk_meta *m = (struct chunk_meta *)ck->va;
	uint32_t page = (uint32_t)(((uint8_t *)va - ck->va) / UENV_PAGE_SIZE);
	uint32_t n = m->run[page] ? m->run[page] : 1;

	for (uint32_t p = page; p < page + n; p++)
		m->tag[p] = PG_FREE;
	m->run[page] = 0;
	run_mark(m, page, n, false);
}

void *uenv_page_alloc(int node, uint64_t *iova)
{
	void *va;

	if (!A || inject_failure())
		return NULL;
	uenv_lock(&A->lock);
	va = pages_get(1, 1, node, PG_TABLE, iova);
	if (va)
		A->pages_live++;
	uenv_unlock(&A->lock);
	return va;
}

static void page_free(void *va, bool zeroed);

void uenv_page_free(void *va)
{
	page_free(va, false);
}

void uenv_page_free_zeroed(void *va)
{
	page_free(va, true);
}

static void page_free(void *va, bool zeroed)
{
	struct chunk *ck;

	if (!va || !A)
		return;
	uenv_lock(&A->lock);
	ck = chunk_of_va(va);
	if (ck && ck->kind == CK_STD) {
		struct chunk_meta *m = (struct chunk_meta *)ck->va;
		uint32_t page = (uint32_t)(((uint8_t *)va - ck->va) / UENV_PAGE_SIZE);
		if (m->tag[page] == PG_TABLE && ((uintptr_t)va & (UENV_PAGE_SIZE - 1)) == 0) {
			pages_put(ck, va);
			if (zeroed)
				m->clean[page / 64] |= 1ull << (page % 64);
			A->pages_live--;
			uenv_unlock(&A->lock);
			return;
		}
	}
	uenv_unlock(&A->lock);
	UENV_LOG(ENV, ERR, "uenv_page_free(%p): not a table page", va);
}

/* ------------------------------------------------------------ DMA blocks */

static int dma_alloc(size_t len, size_t align, int node, struct uenv_dma *out, uint32_t kind);

int uenv_dma_alloc(size_t len, size_t align, int node, struct uenv_dma *out)
{
	return dma_alloc(len, align, node, out, 1);
}

int uenv_dma_alloc_data(size_t len, size_t align, int node, struct uenv_dma *out)
{
	return dma_alloc(len, align, node, out, DMA_DATA);
}

static int dma_alloc(size_t len, size_t align, int node, struct uenv_dma *out, uint32_t kind)
{
	uint64_t l = ALIGN_UP_ULL(len, UENV_PAGE_SIZE);
	int rc = 0;

	if (!A)
		return -ENODEV;
	if (!len || !out || (align && !IS_POW2_ULL(align)))
		return -EINVAL;
	if (align < UENV_PAGE_SIZE)
		align = UENV_PAGE_SIZE;
	if (inject_failure())
		return -ENOMEM;
	uenv_lock(&A->lock);
	if (l <= A->chunk_len / 2 && align < A->chunk_len) {
		uint64_t iova;
		void *va = pages_get((uint32_t)(l / UENV_PAGE_SIZE),
				     (uint32_t)(align / UENV_PAGE_SIZE), node, PG_DMA, &iova);
		if (!va) {
			rc = -ENOMEM;
			goto out;
		}
		out->va = va;
		out->iova = iova;
		out->len = l;
	} else {
		int32_t c = chunk_new(ALIGN_UP_ULL(l, A->chunk_len), align, node, CK_DEDICATED);
		if (c < 0) {
			rc = c == -ENOSPC ? -ENOMEM : c;
			goto out;
		}
		A->chunks[c].dma_block = kind;
		out->va = A->chunks[c].va;
		out->iova = A->chunks[c].iova;
		out->len = l;
		if (out->iova & (align - 1)) {
			chunk_delete(c);
			rc = -ENOMEM;
			goto out;
		}
	}
	A->dma_live++;
out:
	uenv_unlock(&A->lock);
	return rc;
}

void uenv_dma_free(struct uenv_dma *dma)
{
	struct chunk *ck;

	if (!dma || !dma->va || !A)
		return;
	uenv_lock(&A->lock);
	ck = chunk_of_va(dma->va);
	if (!ck) {
		uenv_unlock(&A->lock);
		UENV_LOG(ENV, ERR, "uenv_dma_free(%p): unknown block", dma->va);
		return;
	}
	if (ck->kind == CK_DEDICATED && ck->dma_block && dma->va == ck->va) {
		chunk_delete((int32_t)(ck - A->chunks));
	} else if (ck->kind == CK_STD && !((uintptr_t)dma->va & (UENV_PAGE_SIZE - 1)) &&
		   ((struct chunk_meta *)ck->va)
				   ->tag[((uint8_t *)dma->va - ck->va) / UENV_PAGE_SIZE] == PG_DMA) {
		pages_put(ck, dma->va);
	} else {
		uenv_unlock(&A->lock);
		UENV_LOG(ENV, ERR, "uenv_dma_free(%p): not a DMA block", dma->va);
		return;
	}
	A->dma_live--;
	uenv_unlock(&A->lock);
	dma->va = NULL;
	dma->iova = 0;
	dma->len = 0;
}

/* ------------------------------------------------------------ metadata */

static int slab_class(size_t size)
{
	for (int c = 0; c < SLAB_CLASSES; c++)
		if (size <= (1u << (SLAB_MIN_SHIFT + c)))
			return c;
	return -1;
}

void *uenv_zalloc(size_t size)
{
	void *p = NULL;
	int c;

	if (!A || inject_failure())
		return NULL;
	if (size == 0)
		size = 1;
	uenv_lock(&A->lock);
	c = slab_class(size);
	if (c >= 0) {
		size_t osz = 1u << (SLAB_MIN_SHIFT + c);
		if (!A->slab_free[c]) {
			uint8_t *pg = pages_get(1, 1, UENV_NODE_ANY, (uint8_t)(PG_SLAB0 + c), NULL);
			if (!pg)
				goto out;
			/* Carve the page into objects, chained through their first word. */
			for (size_t off = 0; off + osz <= UENV_PAGE_SIZE; off += osz)
				*(void **)(pg + off) =
					off + 2 * osz <= UENV_PAGE_SIZE ? pg + off + osz : NULL;
			A->slab_free[c] = pg;
		}
		p = A->slab_free[c];
		A->slab_free[c] = *(void **)p;
		memset(p, 0, osz);
	} else if (size <= A->chunk_len / 2) {
		p = pages_get((uint32_t)(ALIGN_UP_ULL(size, UENV_PAGE_SIZE) / UENV_PAGE_SIZE), 1,
			      UENV_NODE_ANY, PG_RUN_HEAD, NULL);
	} else {
		int32_t ci = chunk_new(ALIGN_UP_ULL(size, A->chunk_len), A->chunk_len,
				       UENV_NODE_ANY, CK_META);
		if (ci >= 0)
			p = A->chunks[ci].va;
	}
	if (p)
		A->heap_live++;
out:
	uenv_unlock(&A->lock);
	return p;
}

void uenv_free(void *p)
{
	struct chunk *ck;

	if (!p || !A)
		return;
	uenv_lock(&A->lock);
	ck = chunk_of_va(p);
	if (!ck)
		goto bad;
	if (ck->kind == CK_DEDICATED || ck->kind == CK_META) {
		if (ck->dma_block || p != ck->va)
			goto bad;
		chunk_delete((int32_t)(ck - A->chunks));
	} else {
		struct chunk_meta *m = (struct chunk_meta *)ck->va;
		uint32_t page = (uint32_t)(((uint8_t *)p - ck->va) / UENV_PAGE_SIZE);
		uint8_t tag = m->tag[page];
		if (tag >= PG_SLAB0 && tag < PG_SLAB0 + SLAB_CLASSES) {
			int c = tag - PG_SLAB0;
			*(void **)p = A->slab_free[c];
			A->slab_free[c] = p;
		} else if (tag == PG_RUN_HEAD && ((uintptr_t)p & (UENV_PAGE_SIZE - 1)) == 0) {
			pages_put(ck, p);
		} else {
			goto bad;
		}
	}
	A->heap_live--;
	uenv_unlock(&A->lock);
	return;
bad:
	uenv_unlock(&A->lock);
	UENV_LOG(ENV, ERR, "uenv_free(%p): not arena metadata", p);
}

char *uenv_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = uenv_zalloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* ------------------------------------------------------------ look-ups */

uint64_t uenv_va_to_iova(const void *va)
{
	struct chunk *ck = chunk_of_va(va);

	if (!ck || ck->iova == UINT64_MAX)
		return UINT64_MAX;
	return ck->iova + (uint64_t)((const uint8_t *)va - ck->va);
}

/*
 * Page-table walks translate one bus address per level, nearly always in
 * the chunk of the previous look-up: a per-thread one-entry cache in front
 * of the hash.  Any chunk deletion bumps chunk_gen and so empties every
 * thread's cache.
 */
static uint64_t arena_epoch = 1; /* (local) bumped at every init/fini */
/* initial-exec: a plain access instead of a __tls_get_addr call per
 * look-up (the library is linked, not dlopen()ed; 48 bytes fit glibc's
 * static TLS surplus even if it were). */
static __thread struct {
	uint64_t epoch;
	uint64_t gen;
	uint64_t iova;
	uint64_t len;
	uint8_t *va;
	struct chunk_meta *meta; /* standard chunk: its bookkeeping page; else NULL */
} last_chunk __attribute__((tls_model("initial-exec")));

void *uenv_iova_to_va(uint64_t iova)
{
	int32_t c;

	if (!A)
		return NULL;
	if (last_chunk.gen == __atomic_load_n(&A->gen, __ATOMIC_ACQUIRE) &&
	    last_chunk.epoch == arena_epoch && iova - last_chunk.iova < last_chunk.len)
		return last_chunk.va + (iova - last_chunk.iova);
	c = hash_get(A->iova_is_va ? A->vhash : A->ihash, iova, !A->iova_is_va);
	if (c < 0)
		return NULL;
	const struct chunk *ck = &A->chunks[c];
	if (ck->iova == UINT64_MAX)
		return NULL; /* CPU-only metadata chunk */
	last_chunk.gen = __atomic_load_n(&A->gen, __ATOMIC_ACQUIRE);
	last_chunk.epoch = arena_epoch;
	last_chunk.iova = ck->iova;
	last_chunk.len = ck->len;
	last_chunk.va = ck->va;
	last_chunk.meta = ck->kind == CK_STD ? (struct chunk_meta *)ck->va : NULL;
	return ck->va + (iova - ck->iova);
}

int uenv_iova_span(uint64_t iova, struct uenv_span *out)
{
	int32_t c;

	if (!A)
		return -ENOENT;
	c = hash_get(A->iova_is_va ? A->vhash : A->ihash, iova, !A->iova_is_va);
	if (c < 0)
		return -ENOENT;
	const struct chunk *ck = &A->chunks[c];
	if (ck->iova == UINT64_MAX || iova - ck->iova >= ck->len)
		return -ENOENT;
	out->iova = ck->iova;
	out->len = ck->len;
	out->va = ck->va;
	out->cnt = ck->kind == CK_STD ? ((struct chunk_meta *)ck->va)->count : NULL;
	out->gen = &A->gen;
	/* Read before the caller uses the description: a deletion after this
	 * shows as a different value. */
	out->gen_val = __atomic_load_n(&A->gen, __ATOMIC_ACQUIRE);
	return 0;
}

uint16_t *uenv_page_count(void *va)
{
	struct chunk_meta *m;
	uint8_t *base;

	if (!A)
		return NULL;
	/* The engine asks for the table it has just translated: nearly always
	 * in the cached chunk. */
	if (last_chunk.gen == __atomic_load_n(&A->gen, __ATOMIC_ACQUIRE) &&
	    last_chunk.epoch == arena_epoch && last_chunk.meta &&
	    (uint64_t)((uint8_t *)va - last_chunk.va) < last_chunk.len) {
		m = last_chunk.meta;
		base = last_chunk.va;
	} else {
		struct chunk *ck = chunk_of_va(va);

		if (!ck || ck->kind != CK_STD)
			return NULL;
		m = (struct chunk_meta *)ck->va;
		base = ck->va;
	}
	return &m->count[((uint8_t *)va - base) / UENV_PAGE_SIZE];
}

bool uenv_in_arena(const void *p, size_t size)
{
	const struct chunk *ck = chunk_of_va(p);

	return ck && size <= ck->len &&
	       (uint64_t)((const uint8_t *)p - ck->va) <= ck->len - size;
}

bool uenv_is_meta(const void *p, size_t size)
{
	struct chunk *ck;
	const struct chunk_meta *m;
	uint64_t off;
	uint32_t page;

	if (!p || !size)
		return false;
	ck = chunk_of_va(p);
	if (!ck)
		return false;
	off = (uint64_t)((const uint8_t *)p - ck->va);
	if (ck->kind == CK_DEDICATED || ck->kind == CK_META)
		return !ck->dma_block && off == 0 && size <= ck->len;
	if (ck->kind != CK_STD)
		return false;
	m = (const struct chunk_meta *)ck->va;
	page = (uint32_t)(off / UENV_PAGE_SIZE);
	if (page >= m->npages || page >= PAGES_PER_CHUNK)
		return false;
	if (m->tag[page] >= PG_SLAB0 && m->tag[page] < PG_SLAB0 + SLAB_CLASSES) {
		size_t osz = 1u << (SLAB_MIN_SHIFT + (m->tag[page] - PG_SLAB0));

		return (off % UENV_PAGE_SIZE) % osz == 0 && size <= osz;
	}
	if (m->tag[page] == PG_RUN_HEAD && (off % UENV_PAGE_SIZE) == 0)
		return size <= (uint64_t)m->run[page] * UENV_PAGE_SIZE &&
		       m->run[page] <= m->npages - page;
	return false;
}

uint64_t env_arena_virt2iova(const void *va, uint64_t *contig)
{
	struct chunk *ck = chunk_of_va(va);

	if (!ck || ck->iova == UINT64_MAX)
		return UINT64_MAX;
	if (contig)
		*contig = ck->len - (uint64_t)((const uint8_t *)va - ck->va);
	return ck->iova + (uint64_t)((const uint8_t *)va - ck->va);
}

void uenv_get_stats(struct uenv_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!A)
		return;
	st->heap_live = A->heap_live;
	st->pages_live = A->pages_live;
	st->dma_live = A->dma_live;
	st->allocs = A->allocs;
	for (uint32_t i = 0; i < A->nr_chunks; i++)
		if (A->chunks[i].kind != CK_NONE)
			st->chunks++;
}

/* ---------------------------------------------------------- init / fini */

bool uenv_ready(void)
{
	return A != NULL;
}

bool uenv_iova_is_va(void)
{
	return A ? A->iova_is_va != 0 : env_eal_iova_is_va();
}

bool uenv_adopted(void)
{
	return adopted;
}

bool uenv_arena_empty(void)
{
	return A && !A->heap_live && !A->pages_live && !A->dma_live;
}

uint64_t uenv_adopt_wait_ns(void)
{
	return adopt_wait_ns;
}

void **uenv_root_slot(void)
{
	return A ? &A->root : NULL;
}

enum uiommu_mem_backend env_backend(void)
{
	return A ? loc_backend : UIOMMU_MEM_DPDK;
}

static void arena_header_init(struct arena *a, enum uiommu_mem_backend be)
{
	memset(a, 0, sizeof(*a));
	a->magic = ARENA_MAGIC;
	a->version = ARENA_VERSION;
	a->backend = be;
	for (uint32_t i = 0; i < ARENA_HASH; i++)
		a->vhash[i] = a->ihash[i] = HASH_EMPTY;
}

static int init_dpdk(const struct uiommu_env_opts *o)
{
	int rc = env_eal_start(o ? o->eal_argc : 0, o ? o->eal_argv : NULL);
	struct arena *a;

	if (rc)
		return rc;
	a = aligned_alloc(64, ALIGN_UP_ULL(sizeof(*a), 64));
	if (!a)
		return -ENOMEM;
	arena_header_init(a, UIOMMU_MEM_DPDK);
	a->iova_is_va = env_eal_iova_is_va();
	/* With IOVA as PA, memzones come from 2 MiB hugepages that are rarely
	 * physically adjacent, and a memzone has a header: 1 MiB chunks fit. */
	a->chunk_len = a->iova_is_va ? UENV_CHUNK_SIZE : UENV_CHUNK_SIZE / 2;
	a->gen = 1;
	loc_backend = UIOMMU_MEM_DPDK;
	A = a;
	return 0;
}

/* UIOMMU_ARENA_BASE: a number (C notation), 2 MiB aligned, with room for
 * @max bytes below the top of the user address space. */
static int arena_base(uint64_t max, uint64_t *out)
{
	const char *s = getenv("UIOMMU_ARENA_BASE");
	char *end;
	uint64_t b;

	if (!s) {
		*out = ARENA_DEFAULT_BASE;
		return 0;
	}
	errno = 0;
	b = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || (b & (UENV_CHUNK_SIZE - 1)) ||
	    b < ARENA_VA_MIN || b >= ARENA_VA_END || max > ARENA_VA_END - b) {
		UENV_LOG(ENV, ERR,
			 "UIOMMU_ARENA_BASE=\"%s\": want a 2 MiB-aligned address in "
			 "[0x%llx, 0x%llx - arena size)",
			 s, (unsigned long long)ARENA_VA_MIN, (unsigned long long)ARENA_VA_END);
		return -EINVAL;
	}
	*out = b;
	return 0;
}

/*
 * Where state files live: DIR/uiommu-EUID/NAME, the directory 0700 and
 * owned by the effective user, so that nobody else can plant, replace or
 * link a file there.  DIR is /dev/shm, or the hugetlbfs mount.
 */
static int state_dir_path(const struct uiommu_env_opts *o, char *buf, size_t len)
{
	bool huge = o->backend == UIOMMU_MEM_SHARED_HUGE;
	const char *dir = huge ? (o->huge_dir ? o->huge_dir : "/dev/hugepages") : "/dev/shm";

	if ((size_t)snprintf(buf, len, "%s/uiommu-%u", dir, (unsigned int)geteuid()) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int state_name_ok(const char *name)
{
	if (!*name || strlen(name) > 64 || name[0] == '.')
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return -EINVAL;
	return 0;
}

int uenv_state_path(const struct uiommu_env_opts *o, char *buf, size_t len)
{
	const char *name = o->name ? o->name : "default";
	char dir[448];
	int rc = state_name_ok(name);

	if (rc)
		return rc;
	rc = state_dir_path(o, dir, sizeof(dir));
	if (rc)
		return rc;
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Open (@create: make) the per-user state directory; refuse one that is
 * not ours, not a directory, or open to others. */
static int state_dir_open(const struct uiommu_env_opts *o, bool create)
{
	char dir[448];
	struct stat st;
	int rc = state_dir_path(o, dir, sizeof(dir)), fd;

	if (rc)
		return rc;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP || rc == -ENOTDIR) {
			/* A link or a file where our directory should be:
			 * someone else's doing. */
			UENV_LOG(ENV, ERR, "%s: not a directory (a symlink?): refused", dir);
			rc = -EPERM;
		}
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		UENV_LOG(ENV, ERR,
			 "%s: owned by uid %u with mode %03o; want uid %u, mode 0700: refused",
			 dir, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 0777),
			 (unsigned int)geteuid());
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * The hugepage backend takes a 2 MiB chunk's bus address from its first
 * page and trusts the other 511: only true of hugetlbfs with pages of 2 MiB
 * or more.  A huge_dir on tmpfs or a disk would hand devices and the IOMMU
 * the physical addresses of other processes' pages.
 */
static int hugetlbfs_check(int dfd, const struct uiommu_env_opts *o)
{
	const char *dir = o->huge_dir ? o->huge_dir : "/dev/hugepages";
	struct statfs sfs;

	if (fstatfs(dfd, &sfs) < 0)
		return -errno;
	if ((unsigned long)sfs.f_type != (unsigned long)HUGETLBFS_MAGIC) {
		UENV_LOG(ENV, ERR,
			 "%s is not a hugetlbfs mount (filesystem type 0x%lx): its pages are not "
			 "physically contiguous; refused",
			 dir, (unsigned long)sfs.f_type);
		return -EINVAL;
	}
	if (sfs.f_bsize < (long)UENV_CHUNK_SIZE || sfs.f_bsize % (long)UENV_CHUNK_SIZE) {
		UENV_LOG(ENV, ERR,
			 "%s: hugepages of %ld KiB; the arena needs 2 MiB or larger: refused", dir,
			 (long)sfs.f_bsize / 1024);
		return -EINVAL;
	}
	return 0;
}

/* A state file we may trust as much as our own memory: a regular file of
 * the effective user, writable by nobody else, with no other name. */
static int state_file_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_nlink != 1) {
		UENV_LOG(ENV, ERR,
			 "%s: not a state file of this user (type %o, uid %u, mode %03o, "
			 "%u links): refused",
			 path, (unsigned int)(st.st_mode & S_IFMT), (unsigned int)st.st_uid,
			 (unsigned int)(st.st_mode & 0777), (unsigned int)st.st_nlink);
		return -EPERM;
	}
	return 0;
}

/* ------------------------------------------------------ header checks */

/* Where arena_check's finding goes besides the log: the state checker
 * (uenv_arena_check) sets it for the length of one check. */
static void (*bad_cb)(void *arg, const char *msg);
static void *bad_arg;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	UENV_LOG(ENV, ERR, "%s: corrupt state: %s", arena_path[0] ? arena_path : "arena", buf);
	if (bad_cb)
		bad_cb(bad_arg, buf);
	return -EUCLEAN;
}

#define BAD(...) return bad(__VA_ARGS__)

/* The part of the header read before anything is mapped. */
static int header_check_fixed(const struct arena *h, enum uiommu_mem_backend be, uint64_t size)
{
	if (h->magic != ARENA_MAGIC || h->version != ARENA_VERSION) {
		UENV_LOG(ENV, ERR, "%s: not a uiommu state file (or another version)", arena_path);
		return -EINVAL;
	}
	if (h->backend != (uint32_t)be)
		BAD("backend %u, opened as %u", h->backend, (unsigned int)be);
	if ((h->base & (UENV_CHUNK_SIZE - 1)) || h->base < ARENA_VA_MIN || h->base >= ARENA_VA_END)
		BAD("base 0x%llx", (unsigned long long)h->base);
	if (!h->max || (h->max & (UENV_CHUNK_SIZE - 1)) || h->max > ARENA_LIMIT_MAX ||
	    h->max > ARENA_VA_END - h->base)
		BAD("size 0x%llx", (unsigned long long)h->max);
	if (h->file_len < ARENA_HDR_LEN || (h->file_len & (UENV_CHUNK_SIZE - 1)) ||
	    h->file_len > h->max || h->file_len > size)
		BAD("length 0x%llx (file 0x%llx, arena 0x%llx)", (unsigned long long)h->file_len,
		    (unsigned long long)size, (unsigned long long)h->max);
	if (size > h->max)
		BAD("file larger than its arena");
	if (h->iova_is_va != (be == UIOMMU_MEM_SHARED_SHM))
		BAD("address mode %u", h->iova_is_va);
	if (h->chunk_len != UENV_CHUNK_SIZE)
		BAD("chunk size 0x%llx", (unsigned long long)h->chunk_len);
	return 0;
}

static bool page_tag_ok(uint8_t t)
{
	return t <= PG_DMA;
}

static bool is_run_head(uint8_t t)
{
	return t == PG_RUN_HEAD || t == PG_DMA;
}

/* What arena_check counts on its way, to compare with the header. */
struct arena_count {
	uint64_t table_pages;		  /* PG_TABLE */
	uint64_t dma_blocks;		  /* PG_DMA runs and DMA dedicated chunks */
	uint64_t meta_objs;		  /* metadata runs and chunks (slab objects: below) */
	uint64_t slab_pages[SLAB_CLASSES]; /* pages per slab class */
};

/* One standard chunk's bookkeeping page. */
static int chunk_meta_check(uint32_t idx, const struct chunk *ck, struct arena_count *cnt)
{
	const struct chunk_meta *m = (const struct chunk_meta *)ck->va;
	uint32_t used = 0;

	if (m->npages != ck->len / UENV_PAGE_SIZE || m->idx != idx)
		BAD("chunk %u: %u pages, index %u", idx, m->npages, m->idx);
	if (!(m->used[0] & 1) || m->tag[0] != PG_META)
		BAD("chunk %u: bookkeeping page not reserved", idx);
	for (uint32_t p = 0; p < m->npages; p++) {
		bool u = m->used[p / 64] & (1ull << (p % 64));
		uint8_t t = m->tag[p];

		used += u;
		if (!page_tag_ok(t) || (u != (t != PG_FREE)))
			BAD("chunk %u page %u: tag %u, used %d", idx, p, t, u);
		/* A free page said to be clean is trusted to be all zero
		 * (arena_forget_clean); a used one is never clean. */
		if (u && (m->clean[p / 64] & (1ull << (p % 64))))
			BAD("chunk %u page %u: in use and marked clean", idx, p);
		if (is_run_head(t)) {
			uint32_t n = m->run[p];

			if (!n || n > m->npages - p)
				BAD("chunk %u page %u: run of %u", idx, p, n);
			for (uint32_t q = p + 1; q < p + n; q++)
				if (m->tag[q] != PG_RUN_TAIL)
					BAD("chunk %u page %u: run broken", idx, q);
			if (t == PG_DMA)
				cnt->dma_blocks++;
			else
				cnt->meta_objs++;
		} else if (t == PG_RUN_TAIL) {
			if (!p || (!is_run_head(m->tag[p - 1]) && m->tag[p - 1] != PG_RUN_TAIL))
				BAD("chunk %u page %u: stray run tail", idx, p);
		} else if (t == PG_TABLE) {
			cnt->table_pages++;
		} else if (t >= PG_SLAB0 && t < PG_SLAB0 + SLAB_CLASSES) {
			cnt->slab_pages[t - PG_SLAB0]++;
		}
	}
	/* A run's tail pages must belong to its head: a head's run that ends
	 * before a following tail leaves that tail stray. */
	for (uint32_t p = 0; p < m->npages;) {
		if (is_run_head(m->tag[p])) {
			p += m->run[p];
			continue;
		}
		if (m->tag[p] == PG_RUN_TAIL)
			BAD("chunk %u page %u: run tail outside any run", idx, p);
		p++;
	}
	for (uint32_t w = m->npages / 64; w < PAGES_PER_CHUNK / 64; w++)
		if (m->used[w] || m->clean[w])
			BAD("chunk %u: used bits past its end", idx);
	if (m->nfree != m->npages - used)
		BAD("chunk %u: %u free pages recorded, %u counted", idx, m->nfree, m->npages - used);
	return 0;
}

/* Is @p the start of an object slot of slab class @c in a live slab page? */
static bool slab_slot_ok(const void *p, int c)
{
	struct chunk *ck = chunk_of_va(p);
	const struct chunk_meta *m;
	uint64_t off;
	uint32_t page;

	if (!ck || ck->kind != CK_STD)
		return false;
	m = (const struct chunk_meta *)ck->va;
	off = (uint64_t)((const uint8_t *)p - ck->va);
	page = (uint32_t)(off / UENV_PAGE_SIZE);
	if (page >= m->npages || m->tag[page] != PG_SLAB0 + c)
		return false;
	return (off % UENV_PAGE_SIZE) % (1u << (SLAB_MIN_SHIFT + c)) == 0;
}

/* Hugepage backend: the bus address a chunk claims must be the physical
 * address of its memory (the hardware is given it). */
static int chunk_phys_check(uint32_t i, const struct chunk *ck)
{
	for (uint64_t off = 0; off < ck->len; off += UENV_CHUNK_SIZE) {
		const volatile uint8_t *b = ck->va + off;
		uint64_t pa;

		(void)*b; /* fault the page in: pagemap shows mapped pages only */
		pa = env_pagemap_phys((const void *)b);
		if (pa != ck->iova + off)
			BAD("chunk %u: bus address 0x%llx, but its memory is at 0x%llx", i,
			    (unsigned long long)(ck->iova + off), (unsigned long long)pa);
	}
	return 0;
}

/*
 * Everything the arena's own code follows: the chunk table, each chunk's
 * bookkeeping, the look-up hashes, the slab free lists, the live counts.
 * Run under the arena lock when a process adopts a state and after an
 * undo image is put back: a corrupted or hostile file gives an error here,
 * not a wild access later.
 */
static int arena_check(void)
{
	struct arena_count cnt = {0};
	uint32_t frames = 0, bus_frames = 0;
	bool shared = shared_backend();

	if (shared && (A->base != loc_base || A->max != loc_max))
		BAD("placed at 0x%llx (+0x%llx), mapped at 0x%llx (+0x%llx)",
		    (unsigned long long)A->base, (unsigned long long)A->max,
		    (unsigned long long)loc_base, (unsigned long long)loc_max);
	if (A->nr_chunks > ARENA_MAX_CHUNKS)
		BAD("%u chunks", A->nr_chunks);
	for (uint32_t i = 0; i < A->nr_chunks; i++) {
		const struct chunk *ck = &A->chunks[i];

		if (ck->kind == CK_NONE)
			continue;
		if (ck->kind > CK_META || !ck->len || (ck->len & (A->chunk_len - 1)) ||
		    (shared && (ck->file_off < ARENA_HDR_LEN || (ck->file_off & (UENV_CHUNK_SIZE - 1)) ||
				ck->len > A->file_len || ck->file_off > A->file_len - ck->len ||
				(uint64_t)(uintptr_t)ck->va != loc_base + ck->file_off)))
			BAD("chunk %u: kind %u, 0x%llx bytes at file offset 0x%llx", i, ck->kind,
			    (unsigned long long)ck->len, (unsigned long long)ck->file_off);
		if (ck->kind == CK_STD && ck->len != A->chunk_len)
			BAD("chunk %u: standard chunk of 0x%llx bytes", i, (unsigned long long)ck->len);
		if (ck->dma_block > (ck->kind == CK_DEDICATED ? DMA_DATA : 0u))
			BAD("chunk %u: kind %u, DMA flag %u", i, ck->kind, ck->dma_block);
		if (shared && (A->iova_is_va ? ck->iova != (uint64_t)(uintptr_t)ck->va
					     : (ck->kind == CK_META ? ck->iova != UINT64_MAX
								    : (ck->iova & (UENV_CHUNK_SIZE - 1)) != 0)))
			BAD("chunk %u: bus address 0x%llx", i, (unsigned long long)ck->iova);
		/* Overlapping chunks share a frame: one of them fails its
		 * look-ups below (chunks are aligned to the frame size). */
		frames += (uint32_t)(ck->len >> FRAME_SHIFT);
		if (ck->kind != CK_META || A->iova_is_va)
			bus_frames += (uint32_t)(ck->len >> FRAME_SHIFT);
		if (frames > ARENA_MAX_FRAMES)
			BAD("more chunk frames than the hashes hold");
		if (ck->kind == CK_META || (ck->kind == CK_DEDICATED && !ck->dma_block))
			cnt.meta_objs++;
		else if (ck->kind == CK_DEDICATED)
			cnt.dma_blocks++;
	}
	/* Every used hash slot names a chunk (the count matches below). */
	for (int h = 0; h < 2; h++) {
		const int32_t *tab = h ? A->ihash : A->vhash;
		uint32_t n = 0;

		for (uint32_t s = 0; s < ARENA_HASH; s++) {
			int32_t c = tab[s];

			if (c == HASH_EMPTY || c == HASH_TOMB)
				continue;
			if (c < 0 || (uint32_t)c >= A->nr_chunks || A->chunks[c].kind == CK_NONE)
				BAD("%s hash slot %u: chunk %d", h ? "bus" : "CPU", s, c);
			n++;
		}
		if (n != (h ? bus_frames : frames))
			BAD("%s hash holds %u frames, the chunks %u", h ? "bus" : "CPU", n,
			    h ? bus_frames : frames);
	}
	for (uint32_t i = 0; i < A->nr_chunks; i++) {
		const struct chunk *ck = &A->chunks[i];
		int rc;

		if (ck->kind == CK_NONE)
			continue;
		/* Every frame must be found by both look-ups. */
		for (uint64_t off = 0; off < ck->len; off += 1ull << FRAME_SHIFT) {
			if (hash_get(A->vhash, (uint64_t)(uintptr_t)ck->va + off, false) != (int32_t)i)
				BAD("chunk %u: CPU address look-up broken", i);
			if ((ck->kind != CK_META || A->iova_is_va) &&
			    hash_get(A->iova_is_va ? A->vhash : A->ihash, ck->iova + off,
				     !A->iova_is_va) != (int32_t)i)
				BAD("chunk %u: bus address look-up broken", i);
		}
		if (ck->kind == CK_STD && (rc = chunk_meta_check(i, ck, &cnt)))
			return rc;
		if (shared && !A->iova_is_va && ck->kind != CK_META && (rc = chunk_phys_check(i, ck)))
			return rc;
	}
	if (A->frames != frames)
		BAD("%u hash frames recorded, %u counted", A->frames, frames);
	/* Slab free lists: every link a free slot of its class, no cycle (a
	 * list longer than its class has slots loops). */
	for (int c = 0; c < SLAB_CLASSES; c++) {
		uint64_t n = 0,
			 max = cnt.slab_pages[c] * (UENV_PAGE_SIZE >> (SLAB_MIN_SHIFT + c));

		for (void *p = A->slab_free[c]; p; p = *(void **)p) {
			if (!slab_slot_ok(p, c) || ++n > max)
				BAD("slab free list %d broken at %p", c, p);
		}
		cnt.meta_objs += max - n;
	}
	if (A->pages_live != cnt.table_pages || A->dma_live != cnt.dma_blocks ||
	    A->heap_live != cnt.meta_objs)
		BAD("live counts %llu tables, %llu DMA blocks, %llu objects recorded; %llu, %llu, "
		    "%llu counted",
		    (unsigned long long)A->pages_live, (unsigned long long)A->dma_live,
		    (unsigned long long)A->heap_live, (unsigned long long)cnt.table_pages,
		    (unsigned long long)cnt.dma_blocks, (unsigned long long)cnt.meta_objs);
	return 0;
}

/* After arena_check at adoption: a free page the file says is clean
 * (all zero) would be handed out without clearing: the file is input, so
 * forget what it says (pages freed from now on are known again). */
static void arena_forget_clean(void)
{
	for (uint32_t i = 0; i < A->nr_chunks; i++) {
		struct chunk_meta *m = (struct chunk_meta *)A->chunks[i].va;

		if (A->chunks[i].kind == CK_STD)
			memset(m->clean, 0, sizeof(m->clean));
	}
}

#undef BAD

/* --------------------------------------------- the state checker's help */

void *uenv_table_page(uint64_t iova)
{
	const struct chunk_meta *m;
	const struct chunk *ck;
	uint64_t page;
	int32_t c;

	if (!A || (iova & (UENV_PAGE_SIZE - 1)))
		return NULL;
	c = hash_get(A->iova_is_va ? A->vhash : A->ihash, iova, !A->iova_is_va);
	if (c < 0)
		return NULL;
	ck = &A->chunks[c];
	if (ck->kind != CK_STD || ck->iova == UINT64_MAX || iova - ck->iova >= ck->len)
		return NULL;
	m = (const struct chunk_meta *)ck->va;
	page = (iova - ck->iova) / UENV_PAGE_SIZE;
	if (page >= m->npages || m->tag[page] != PG_TABLE)
		return NULL;
	return ck->va + page * UENV_PAGE_SIZE;
}

bool uenv_is_table_page(const void *va)
{
	const struct chunk *ck = chunk_of_va(va);
	const struct chunk_meta *m;
	uint64_t page;

	if (!ck || ck->kind != CK_STD || ((uintptr_t)va & (UENV_PAGE_SIZE - 1)))
		return false;
	m = (const struct chunk_meta *)ck->va;
	page = (uint64_t)((const uint8_t *)va - ck->va) / UENV_PAGE_SIZE;
	return page < m->npages && m->tag[page] == PG_TABLE;
}

bool uenv_is_dma(const void *p, size_t size)
{
	const struct chunk *ck = chunk_of_va(p);
	const struct chunk_meta *m;
	uint64_t page;

	if (!ck || !size)
		return false;
	if (ck->kind == CK_DEDICATED)
		return ck->dma_block && p == ck->va && size <= ck->len;
	if (ck->kind != CK_STD || ((uintptr_t)p & (UENV_PAGE_SIZE - 1)))
		return false;
	m = (const struct chunk_meta *)ck->va;
	page = (uint64_t)((const uint8_t *)p - ck->va) / UENV_PAGE_SIZE;
	return page < m->npages && m->tag[page] == PG_DMA && m->run[page] <= m->npages - page &&
	       size <= (uint64_t)m->run[page] * UENV_PAGE_SIZE;
}

int uenv_arena_check(void (*report)(void *arg, const char *msg), void *arg)
{
	int rc;

	if (!A)
		return -ENODEV;
	if (arena_broken) {
		if (report)
			report(arg, "the arena failed its checks after an undo image was put back");
		return -EUCLEAN;
	}
	uenv_lock(&A->lock);
	bad_cb = report;
	bad_arg = arg;
	rc = arena_check();
	bad_cb = NULL;
	bad_arg = NULL;
	uenv_unlock(&A->lock);
	return rc;
}

/*
 * The mark pass: which allocations of the arena something reaches.  One
 * mark bit per table page, run and dedicated chunk, one per slab slot; the
 * free slab slots are known from the free lists (snapshot at creation).
 * Process memory only; the arena must not change meanwhile (the caller
 * holds the state lock, under which every allocation is made).
 */
#define SLOTS_MAX (UENV_PAGE_SIZE >> SLAB_MIN_SHIFT) /* 128 */

struct mark_std {
	uint64_t page[PAGES_PER_CHUNK / 64];	       /* tables and runs, by head page */
	uint64_t slot[PAGES_PER_CHUNK][SLOTS_MAX / 64]; /* slab slots */
	uint64_t free[PAGES_PER_CHUNK][SLOTS_MAX / 64]; /* slab slots on a free list */
};

struct mark_work {
	const uint8_t *p;
	uint64_t len;
};

struct uenv_marks {
	uint32_t nr;		 /* chunks covered */
	struct mark_std **std;	 /* per chunk (standard chunks only) */
	uint8_t *whole;		 /* per chunk: a dedicated/metadata chunk is marked */
	struct mark_work *work;	 /* conservative scan: allocations still to scan */
	size_t nwork, capwork;
	uint64_t lo, hi;	 /* CPU addresses of the arena's chunks */
	uint64_t scanned;	 /* allocations the conservative scan reached */
	bool oom;
};

/* A live allocation: where it starts, how long it is, what it is. */
struct alloc_ref {
	int32_t c;
	uint32_t page; /* head page (standard chunks) */
	int32_t slot;  /* slab slot, or -1 */
	unsigned int kind;
	const uint8_t *start;
	uint64_t len;
};

/* The live allocation holding @p (@exact: starting at @p).  Free slab
 * slots, free pages and bookkeeping pages are none. */
static bool alloc_find(const struct uenv_marks *mk, const void *p, bool exact,
		       struct alloc_ref *r)
{
	const struct chunk *ck = chunk_of_va(p);
	const struct chunk_meta *m;
	uint64_t off;
	uint32_t page;
	uint8_t t;

	if (!ck || (uint32_t)(ck - A->chunks) >= mk->nr)
		return false;
	r->c = (int32_t)(ck - A->chunks);
	r->slot = -1;
	off = (uint64_t)((const uint8_t *)p - ck->va);
	if (ck->kind == CK_DEDICATED || ck->kind == CK_META) {
		r->page = 0;
		r->kind = ck->dma_block ? UENV_MARK_DMA : UENV_MARK_META;
		r->start = ck->va;
		r->len = ck->len;
		return !exact || off == 0;
	}
	if (ck->kind != CK_STD)
		return false;
	m = (const struct chunk_meta *)ck->va;
	page = (uint32_t)(off / UENV_PAGE_SIZE);
	if (page >= m->npages)
		return false;
	t = m->tag[page];
	if (t == PG_RUN_TAIL && !exact) {
		/* Back to the head (arena_check: every tail has one). */
		while (page && m->tag[page] == PG_RUN_TAIL)
			page--;
		t = m->tag[page];
		if (!is_run_head(t))
			return false;
	}
	r->page = page;
	r->start = ck->va + (uint64_t)page * UENV_PAGE_SIZE;
	if (t == PG_TABLE) {
		r->kind = UENV_MARK_TABLE;
		r->len = UENV_PAGE_SIZE;
	} else if (is_run_head(t)) {
		r->kind = t == PG_DMA ? UENV_MARK_DMA : UENV_MARK_META;
		r->len = (uint64_t)m->run[page] * UENV_PAGE_SIZE;
	} else if (t >= PG_SLAB0 && t < PG_SLAB0 + SLAB_CLASSES) {
		uint32_t osz = 1u << (SLAB_MIN_SHIFT + (t - PG_SLAB0));
		uint32_t s = (uint32_t)(off % UENV_PAGE_SIZE) / osz;

		if (mk->std[r->c]->free[page][s / 64] & (1ull << (s % 64)))
			return false;
		r->kind = UENV_MARK_META;
		r->slot = (int32_t)s;
		r->start += (uint64_t)s * osz;
		r->len = osz;
	} else {
		return false;
	}
	return !exact || (const uint8_t *)p == r->start;
}

/* Mark @r; true when it was not marked yet. */
static bool alloc_mark(struct uenv_marks *mk, const struct alloc_ref *r)
{
	uint64_t *w, bit;

	if (A->chunks[r->c].kind != CK_STD) {
		if (mk->whole[r->c])
			return false;
		mk->whole[r->c] = 1;
		return true;
	}
	if (r->slot >= 0) {
		w = &mk->std[r->c]->slot[r->page][r->slot / 64];
		bit = 1ull << (r->slot % 64);
	} else {
		w = &mk->std[r->c]->page[r->page / 64];
		bit = 1ull << (r->page % 64);
	}
	if (*w & bit)
		return false;
	*w |= bit;
	return true;
}

struct uenv_marks *uenv_marks_new(void)
{
	struct uenv_marks *mk;

	if (!A || arena_broken)
		return NULL;
	mk = calloc(1, sizeof(*mk));
	if (!mk)
		return NULL;
	mk->nr = A->nr_chunks <= ARENA_MAX_CHUNKS ? A->nr_chunks : ARENA_MAX_CHUNKS;
	mk->std = calloc(mk->nr ? mk->nr : 1, sizeof(*mk->std));
	mk->whole = calloc(mk->nr ? mk->nr : 1, 1);
	if (!mk->std || !mk->whole)
		goto err;
	mk->lo = UINT64_MAX;
	for (uint32_t i = 0; i < mk->nr; i++) {
		const struct chunk *ck = &A->chunks[i];

		if (ck->kind == CK_NONE)
			continue;
		if ((uint64_t)(uintptr_t)ck->va < mk->lo)
			mk->lo = (uint64_t)(uintptr_t)ck->va;
		if ((uint64_t)(uintptr_t)ck->va + ck->len > mk->hi)
			mk->hi = (uint64_t)(uintptr_t)ck->va + ck->len;
		if (ck->kind == CK_STD && !(mk->std[i] = calloc(1, sizeof(struct mark_std))))
			goto err;
	}
	/* The free slab slots (each list bounded as in arena_check: no longer
	 * than its class has slots). */
	uint64_t slots[SLAB_CLASSES] = {0};

	for (uint32_t i = 0; i < mk->nr; i++) {
		const struct chunk_meta *m = (const struct chunk_meta *)A->chunks[i].va;

		if (!mk->std[i])
			continue;
		for (uint32_t p = 0; p < m->npages && p < PAGES_PER_CHUNK; p++)
			if (m->tag[p] >= PG_SLAB0 && m->tag[p] < PG_SLAB0 + SLAB_CLASSES)
				slots[m->tag[p] - PG_SLAB0] +=
					UENV_PAGE_SIZE >> (SLAB_MIN_SHIFT + m->tag[p] - PG_SLAB0);
	}
	for (int c = 0; c < SLAB_CLASSES; c++) {
		uint64_t n = 0, max = slots[c];

		for (void *p = A->slab_free[c]; p && slab_slot_ok(p, c) && n++ < max;
		     p = *(void **)p) {
			const struct chunk *ck = chunk_of_va(p);
			uint64_t off = (uint64_t)((uint8_t *)p - ck->va);
			uint32_t page = (uint32_t)(off / UENV_PAGE_SIZE);
			uint32_t s = (uint32_t)(off % UENV_PAGE_SIZE) >> (SLAB_MIN_SHIFT + c);
			uint32_t ci = (uint32_t)(ck - A->chunks);

			if (ci < mk->nr && mk->std[ci])
				mk->std[ci]->free[page][s / 64] |= 1ull << (s % 64);
		}
	}
	return mk;
err:
	uenv_marks_free(mk);
	return NULL;
}

void uenv_marks_free(struct uenv_marks *mk)
{
	if (!mk)
		return;
	if (mk->std)
		for (uint32_t i = 0; i < mk->nr; i++)
			free(mk->std[i]);
	free(mk->std);
	free(mk->whole);
	free(mk->work);
	free(mk);
}

int uenv_mark(struct uenv_marks *mk, const void *p, size_t size, unsigned int kinds)
{
	struct alloc_ref r;

	if (!mk || !p || !alloc_find(mk, p, true, &r) || !(r.kind & kinds) || size > r.len)
		return -ENOENT;
	return alloc_mark(mk, &r) ? 1 : 0;
}

static void work_push(struct uenv_marks *mk, const struct alloc_ref *r)
{
	if (mk->nwork == mk->capwork) {
		size_t cap = mk->capwork ? mk->capwork * 2 : 256;
		struct mark_work *n = realloc(mk->work, cap * sizeof(*n));

		if (!n) {
			mk->oom = true;
			return;
		}
		mk->work = n;
		mk->capwork = cap;
	}
	mk->work[mk->nwork++] = (struct mark_work){r->start, r->len};
}

/* Conservative scan: mark what the word @w may point at (a CPU address, or
 * a bus address with flag bits below 12 and above 51, as hardware table
 * entries hold them); queue it for scanning. */
static void scan_word(struct uenv_marks *mk, uint64_t w)
{
	struct alloc_ref r;
	const void *p = NULL;
	uint64_t bus = w & 0x000ffffffffff000ull;

	if (w >= mk->lo && w < mk->hi)
		p = (const void *)(uintptr_t)w;
	else if (bus && A->iova_is_va && bus >= mk->lo && bus < mk->hi)
		p = (const void *)(uintptr_t)bus;
	else if (bus && !A->iova_is_va) {
		int32_t c = hash_get(A->ihash, bus, true);

		if (c >= 0 && A->chunks[c].iova != UINT64_MAX)
			p = A->chunks[c].va + (bus - A->chunks[c].iova);
	}
	if (!p || !alloc_find(mk, p, false, &r) || !alloc_mark(mk, &r))
		return;
	mk->scanned++;
	work_push(mk, &r);
}

uint64_t uenv_mark_scan(struct uenv_marks *mk, const void *p)
{
	struct alloc_ref r;
	uint64_t before;

	if (!mk || !alloc_find(mk, p, false, &r))
		return 0;
	before = mk->scanned;
	/* Scanned even when marked already: it is a root of the scan. */
	(void)alloc_mark(mk, &r);
	work_push(mk, &r);
	while (mk->nwork) {
		struct mark_work wk = mk->work[--mk->nwork];
		const uint64_t *w = (const uint64_t *)(const void *)wk.p;

		for (uint64_t i = 0; i < wk.len / 8; i++)
			if (w[i])
				scan_word(mk, w[i]);
	}
	return mk->scanned - before;
}

uint64_t uenv_marks_report(struct uenv_marks *mk, unsigned int max_lines,
			   void (*cb)(void *arg, const char *msg), void *arg)
{
	uint64_t n = 0, bytes = 0;
	char buf[160];

#define LEAK(len_, ...)                                               \
	do {                                                          \
		if (n++ < max_lines && cb) {                          \
			snprintf(buf, sizeof(buf), __VA_ARGS__);      \
			cb(arg, buf);                                 \
		}                                                     \
		bytes += (len_);                                      \
	} while (0)

	if (!mk)
		return 0;
	if (mk->oom && cb)
		cb(arg, "out of memory in the leak scan: leaks may be reported that are not");
	for (uint32_t i = 0; i < mk->nr; i++) {
		const struct chunk *ck = &A->chunks[i];
		const struct chunk_meta *m;

		if (ck->kind == CK_DEDICATED || ck->kind == CK_META) {
			if (!mk->whole[i])
				LEAK(ck->len, "leaked chunk %u: %s, 0x%llx bytes at %p", i,
				     ck->dma_block ? "DMA block" : "metadata",
				     (unsigned long long)ck->len, (void *)ck->va);
			continue;
		}
		if (ck->kind != CK_STD || !mk->std[i])
			continue;
		m = (const struct chunk_meta *)ck->va;
		for (uint32_t p = 1; p < m->npages && p < PAGES_PER_CHUNK; p++) {
			const uint8_t *va = ck->va + (uint64_t)p * UENV_PAGE_SIZE;
			uint8_t t = m->tag[p];
			bool marked = mk->std[i]->page[p / 64] & (1ull << (p % 64));

			if (t == PG_TABLE && !marked) {
				LEAK(UENV_PAGE_SIZE, "leaked table page at %p (bus 0x%llx)",
				     (const void *)va,
				     (unsigned long long)(ck->iova + (uint64_t)p * UENV_PAGE_SIZE));
			} else if (is_run_head(t) && !marked) {
				LEAK((uint64_t)m->run[p] * UENV_PAGE_SIZE,
				     "leaked %s: %u pages at %p", t == PG_DMA ? "DMA block" : "metadata run",
				     m->run[p], (const void *)va);
			} else if (t >= PG_SLAB0 && t < PG_SLAB0 + SLAB_CLASSES) {
				uint32_t osz = 1u << (SLAB_MIN_SHIFT + (t - PG_SLAB0));

				for (uint32_t s = 0; s < UENV_PAGE_SIZE / osz; s++) {
					uint64_t bit = 1ull << (s % 64);

					if ((mk->std[i]->slot[p][s / 64] | mk->std[i]->free[p][s / 64]) & bit)
						continue;
					LEAK(osz, "leaked metadata object at %p (%u-byte slot)",
					     (const void *)(va + (uint64_t)s * osz), osz);
				}
			}
		}
	}
	if (n > max_lines && cb) {
		snprintf(buf, sizeof(buf), "%llu more leaked allocations (%llu bytes in all)",
			 (unsigned long long)(n - max_lines), (unsigned long long)bytes);
		cb(arg, buf);
	}
#undef LEAK
	return n;
}

void uenv_debug_regions(void (*cb)(void *arg, const char *what, void *p, size_t len), void *arg)
{
	if (!A || !cb)
		return;
	cb(arg, "header", A, offsetof(struct arena, vhash));
	for (int h = 0; h < 2; h++) {
		int32_t *tab = h ? A->ihash : A->vhash;

		for (uint32_t s = 0; s < ARENA_HASH; s++)
			if (tab[s] != HASH_EMPTY)
				cb(arg, "hash slot", &tab[s], sizeof(tab[s]));
	}
	for (uint32_t i = 0; i < A->nr_chunks && i < ARENA_MAX_CHUNKS; i++) {
		struct chunk *ck = &A->chunks[i];
		struct chunk_meta *m = (struct chunk_meta *)ck->va;

		if (ck->kind == CK_NONE)
			continue;
		cb(arg, "chunk entry", ck, sizeof(*ck));
		if (ck->kind != CK_STD)
			continue;
		cb(arg, "chunk used bitmap", m->used, sizeof(m->used));
		cb(arg, "chunk clean bitmap", m->clean, sizeof(m->clean));
		cb(arg, "chunk tags", m->tag, sizeof(m->tag));
		cb(arg, "chunk runs", m->run, sizeof(m->run));
		cb(arg, "chunk count slots", m->count, sizeof(m->count));
		cb(arg, "chunk bookkeeping", &m->nfree, sizeof(*m) - offsetof(struct chunk_meta, nfree));
	}
	for (int c = 0; c < SLAB_CLASSES; c++) {
		uint64_t n = 0;

		for (void *p = A->slab_free[c]; p && slab_slot_ok(p, c) && n++ < 4096; p = *(void **)p)
			cb(arg, "slab free link", p, sizeof(void *));
	}
}


/* ------------------------------------------------------------ sessions */

int env_arena_session(uint64_t *sid)
{
	char path[64];
	uint32_t pid = (uint32_t)getpid();

	if (!A || !shared_backend() || arena_fd < 0)
		return -ENOENT;
	if (sess_fd < 0) {
		/* An open of our own: after fork() the parent's file
		 * description (and its locks) is shared with the child. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", arena_fd);
		sess_fd = open(path, O_RDWR | O_CLOEXEC);
		if (sess_fd < 0)
			return -errno;
		sess_slot = 0;
	}
	for (uint32_t i = 0; !sess_slot && i < ARENA_SESS_SLOTS - 1; i++) {
		uint32_t slot = 1 + (pid + i) % (ARENA_SESS_SLOTS - 1);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_start = SESS_LOCK_OFF + slot, .l_len = 1};

		if (fcntl(sess_fd, F_OFD_SETLK, &fl) == 0)
			sess_slot = slot;
	}
	if (!sess_slot)
		return -EUSERS;
	uint64_t gen = __atomic_add_fetch(&A->sess_next, 1, __ATOMIC_ACQ_REL) & ((1ull << 48) - 1);
	if (!gen)
		gen = __atomic_add_fetch(&A->sess_next, 1, __ATOMIC_ACQ_REL) & ((1ull << 48) - 1);
	A->sess[sess_slot].pid = pid;
	__atomic_store_n(&A->sess[sess_slot].gen, gen, __ATOMIC_RELEASE);
	*sid = gen << 16 | sess_slot;
	return 0;
}

int env_arena_session_alive(uint64_t sid, uint32_t *pid)
{
	uint32_t slot = (uint32_t)(sid & 0xffff);
	struct flock fl;

	if (!A || !shared_backend() || sess_fd < 0)
		return -1;
	if (!slot || slot >= ARENA_SESS_SLOTS)
		return 0; /* not a session of a shared arena: nobody's */
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = SESS_LOCK_OFF + slot, .l_len = 1};
	if (fcntl(sess_fd, F_OFD_GETLK, &fl) < 0)
		return 1; /* cannot tell: assume alive (the wait is bounded) */
	if (fl.l_type == F_UNLCK) {
		if (slot == sess_slot)
			return 1;
		/* Dead: its pid, for messages, while the slot still names it. */
		if (pid && __atomic_load_n(&A->sess[slot].gen, __ATOMIC_ACQUIRE) == sid >> 16)
			*pid = A->sess[slot].pid;
		return 0;
	}
	/* Someone holds the slot: the same process only if the generation
	 * matches (a slot is taken again after its holder died). */
	if (__atomic_load_n(&A->sess[slot].gen, __ATOMIC_ACQUIRE) != sid >> 16)
		return 0;
	if (pid)
		*pid = A->sess[slot].pid;
	return 1;
}

void env_arena_session_forget(bool after_fork)
{
	if (sess_fd >= 0) {
		/* In a child the description is the parent's too: closing our
		 * descriptor leaves the parent's lock in place. */
		close(sess_fd);
		sess_fd = -1;
	}
	(void)after_fork;
	sess_slot = 0;
}

int uenv_state_users(uint32_t *pids, uint32_t max)
{
	uint32_t n = 0;

	if (!A || !shared_backend() || sess_fd < 0)
		return 0;
	for (uint32_t slot = 1; slot < ARENA_SESS_SLOTS; slot++) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_start = SESS_LOCK_OFF + slot, .l_len = 1};

		if (slot == sess_slot || fcntl(sess_fd, F_OFD_GETLK, &fl) < 0 ||
		    fl.l_type == F_UNLCK)
			continue;
		if (n < max)
			pids[n] = A->sess[slot].pid;
		n++;
	}
	return (int)n;
}

int uenv_state_unlink(const struct uiommu_env_opts *o)
{
	const char *name = o->name ? o->name : "default";
	int dfd, rc = 0;

	if (state_name_ok(name))
		return -EINVAL;
	char undo_name[96];

	dfd = state_dir_open(o, false);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, name, 0) < 0)
		rc = -errno;
	close(dfd);
	if (o->backend == UIOMMU_MEM_SHARED_HUGE) {
		struct uiommu_env_opts shm = {.backend = UIOMMU_MEM_SHARED_SHM};

		snprintf(undo_name, sizeof(undo_name), "%s~hugeundo", name);
		dfd = state_dir_open(&shm, false);
	} else {
		snprintf(undo_name, sizeof(undo_name), "%s~undo", name);
		dfd = state_dir_open(o, false);
	}
	if (dfd >= 0) {
		(void)unlinkat(dfd, undo_name, 0);
		close(dfd);
	}
	return rc;
}

/* ------------------------------------------------------------ transactions */

/*
 * A transaction makes a sequence of changes to a shared state all or
 * nothing, even if the process is killed half-way: before the first change
 * the state's whole image (arena header and every chunk) is copied into an
 * undo file beside it (NAME~undo: '~' is not allowed in state names), and
 * marked valid; commit marks it invalid.  Whoever takes the state's lock
 * over from a dead holder, or aborts, finds it valid and copies the image
 * back.  Chunks freed during a transaction are given back to the system
 * only at commit, so the image's memory (and, for hugepages, its physical
 * addresses, which the hardware uses) is still there to restore into.
 * Chunks added during one are cut off after a rollback (uenv_txn_trim),
 * once the hardware has been told to forget what it cached.
 *
 * The session table is live state, not the transaction's: it is kept as
 * it is across a restore.
 */
#define UNDO_MAGIC   0x75696f6d6d75554eull /* "uiommuUN" */
#define UNDO_IMG_OFF ((off_t)UENV_CHUNK_SIZE)

struct undo_hdr {
	uint64_t magic;
	uint32_t valid;
	uint32_t nr_ranges;
	uint64_t file_len;
	uint64_t grown_from; /* set by restore: file length to trim to */
	struct undo_range {
		uint64_t off;
		uint64_t len;
	} range[ARENA_MAX_CHUNKS + 1];
};
_Static_assert(sizeof(struct undo_hdr) <= (size_t)UNDO_IMG_OFF, "undo header fits");

/* The undo image is written with pwrite(), which hugetlbfs does not
 * support: it always lives in the per-user tmpfs directory, named after
 * the state and its backend ('~' is not allowed in state names). */
static void undo_file_name(char *buf, size_t len)
{
	snprintf(buf, len, "%s~%sundo", state_name,
		 A && A->backend == UIOMMU_MEM_SHARED_HUGE ? "huge" : "");
}

static int undo_open(bool create)
{
	char name[96];
	int fd, rc;

	if (undo_fd >= 0)
		return 0;
	if (undo_dfd < 0)
		return -ENODEV;
	undo_file_name(name, sizeof(name));
	fd = openat(undo_dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create)
		fd = openat(undo_dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
	if (fd < 0 && errno == ELOOP) {
		UENV_LOG(ENV, ERR, "%s~undo: a symbolic link, not an undo image: refused",
			 arena_path);
		return -EPERM;
	}
	if (fd < 0)
		return -errno;
	rc = state_file_check(fd, name);
	if (rc) {
		close(fd);
		return rc;
	}
	undo_fd = fd;
	return 0;
}

static int xfer(bool write, void *buf, uint64_t len, off_t off)
{
	uint8_t *p = buf;

	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t r = write ? pwrite(undo_fd, p, n, off) : pread(undo_fd, p, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		off += r;
		len -= (uint64_t)r;
	}
	return 0;
}

bool uenv_txn_supported(void)
{
	return A && shared_backend() && undo_dfd >= 0;
}

int uenv_txn_begin(void)
{
	struct undo_hdr *h;
	uint32_t valid = 1;
	int rc;

	if (!uenv_txn_supported())
		return -EOPNOTSUPP;
	if (txn_active)
		return -EBUSY;
	rc = undo_open(true);
	if (rc)
		return rc;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (!deferred) {
		deferred = calloc(ARENA_MAX_CHUNKS, sizeof(*deferred));
		if (!deferred) {
			free(h);
			return -ENOMEM;
		}
	}
	/* An image that is still valid was never restored: not ours to drop. */
	if (pread(undo_fd, &valid, sizeof(valid), offsetof(struct undo_hdr, valid)) ==
		    (ssize_t)sizeof(valid) &&
	    valid == 1) {
		free(h);
		return -EUCLEAN;
	}
	valid = 0;
	h->magic = UNDO_MAGIC;
	h->file_len = A->file_len;
	h->range[h->nr_ranges++] = (struct undo_range){0, ARENA_HDR_LEN};
	for (uint32_t i = 0; i < A->nr_chunks; i++)
		if (A->chunks[i].kind != CK_NONE && A->chunks[i].dma_block != DMA_DATA)
			h->range[h->nr_ranges++] =
				(struct undo_range){A->chunks[i].file_off, A->chunks[i].len};
	rc = 0;
	for (uint32_t i = 0; i < h->nr_ranges && !rc; i++)
		rc = xfer(true, (uint8_t *)(uintptr_t)loc_base + h->range[i].off, h->range[i].len,
			  UNDO_IMG_OFF + (off_t)h->range[i].off);
	if (!rc)
		rc = xfer(true, h, sizeof(*h), 0);
	free(h);
	if (rc)
		return rc;
	/* Valid last: a process killed before this line changed nothing. */
	valid = 1;
	rc = xfer(true, &valid, sizeof(valid), offsetof(struct undo_hdr, valid));
	if (rc)
		return rc;
	nr_deferred = 0;
	txn_active = true;
	return 0;
}

bool uenv_txn_active(void)
{
	return txn_active;
}

int uenv_txn_commit(void)
{
	uint32_t valid = 0;
	int rc;

	if (!txn_active)
		return -EINVAL;
	rc = xfer(true, &valid, sizeof(valid), offsetof(struct undo_hdr, valid));
	txn_active = false;
	/* Committed: now the memory freed during it can go. */
	for (uint32_t i = 0; i < nr_deferred; i++)
		(void)fallocate(arena_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)deferred[i].file_off, (off_t)deferred[i].len);
	nr_deferred = 0;
	return rc;
}

/* Live bytes a restore must not write (not even with their own value: a
 * process may change them at any time without the state lock). */
struct keep_range {
	uint64_t off;
	uint64_t len;
};

/* Read image range [off, off + len) back into the arena, leaving out the
 * @nk ranges of @keep (sorted by offset, not overlapping). */
static int restore_range(uint64_t off, uint64_t len, const struct keep_range *keep, unsigned int nk)
{
	uint64_t end = off + len;
	int rc = 0;

	for (unsigned int i = 0; i <= nk && !rc && off < end; i++) {
		uint64_t stop = i < nk ? keep[i].off : end;

		if (stop > end)
			stop = end;
		if (stop > off)
			rc = xfer(false, (uint8_t *)(uintptr_t)loc_base + off, stop - off,
				  UNDO_IMG_OFF + (off_t)off);
		if (i < nk && keep[i].off + keep[i].len > off)
			off = keep[i].off + keep[i].len;
	}
	return rc;
}

int uenv_txn_restore(const void *keep, size_t keep_len)
{
	uint64_t cur_len;
	struct undo_hdr *h;
	int rc;

	if (!uenv_txn_supported())
		return 0;
	rc = undo_open(false);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	rc = xfer(false, h, sizeof(*h), 0);
	if (rc || h->magic != UNDO_MAGIC || h->valid != 1) {
		rc = rc == -EIO ? 0 : rc; /* short file: no image */
		goto out;
	}
	/* The image is input too: every range must lie in the reservation. */
	if (!h->nr_ranges || h->nr_ranges > ARENA_MAX_CHUNKS + 1 || h->file_len > loc_max ||
	    h->file_len < ARENA_HDR_LEN || (h->file_len & (UENV_CHUNK_SIZE - 1)) || h->range[0].off ||
	    h->range[0].len != ARENA_HDR_LEN) {
		UENV_LOG(ENV, ERR, "%s: undo image header corrupt: not restored", arena_path);
		rc = -EUCLEAN;
		goto out;
	}
	{
		struct stat ust;

		if (fstat(undo_fd, &ust) < 0) {
			rc = -errno;
			goto out;
		}
		for (uint32_t i = 0; i < h->nr_ranges; i++)
			if ((h->range[i].off | h->range[i].len) & (UENV_CHUNK_SIZE - 1) ||
			    h->range[i].len > h->file_len ||
			    h->range[i].off > h->file_len - h->range[i].len ||
			    /* the image must hold all of it: a short read half-way
			     * would leave the arena half put back */
			    (uint64_t)ust.st_size < UNDO_IMG_OFF + h->range[i].off + h->range[i].len) {
				UENV_LOG(ENV, ERR, "%s: undo image range %u corrupt: not restored",
					 arena_path, i);
				rc = -EUCLEAN;
				goto out;
			}
	}
	/* Nobody may look at the arena while it is rewritten (an adopting
	 * process checks it under this lock, without the state lock). */
	uenv_lock(&A->lock);
	cur_len = A->file_len;
	if (cur_len < h->file_len) {
		/* Cannot happen (a transaction gives nothing back before it
		 * commits); grow the file back if it did. */
		if (ftruncate(arena_fd, (off_t)h->file_len) < 0) {
			rc = -errno;
			goto out_unlock;
		}
		A->file_len = h->file_len;
		rc = shared_sync_mapping();
		if (rc)
			goto out_unlock;
		cur_len = h->file_len;
	}
	/* What is live, not the transaction's, is left as it is: the arena
	 * lock we hold, the session table (a process takes a session without
	 * any lock), the caller's state-lock word (a waiter that saw the dead
	 * holder's value in it for a moment would take the lock from us). */
	struct keep_range kr[3] = {
		{(uint64_t)offsetof(struct arena, lock), sizeof(A->lock)},
		{(uint64_t)offsetof(struct arena, sess_next), sizeof(A->sess_next) + sizeof(A->sess)},
		{0, 0},
	};
	unsigned int nk = 2;

	if (keep) {
		uint64_t ko = (uint64_t)(uintptr_t)keep - loc_base;

		if ((uint64_t)(uintptr_t)keep < loc_base + ARENA_HDR_LEN || ko + keep_len > cur_len) {
			rc = -EINVAL;
			goto out_unlock;
		}
		kr[nk++] = (struct keep_range){ko, keep_len};
	}
	for (uint32_t i = 0; i < h->nr_ranges && !rc; i++)
		rc = restore_range(h->range[i].off, h->range[i].len, kr, nk);
	if (rc) {
		/* Part of it may be put back already: nothing can be trusted. */
		UENV_LOG(ENV, ERR, "%s: restoring the undo image: %s: arena unusable", arena_path,
			 strerror(-rc));
		arena_broken = true;
		rc = -EUCLEAN;
		goto out_unlock;
	}
	__atomic_fetch_add(&A->gen, 1, __ATOMIC_RELEASE);
	arena_epoch++;
	mapped_len = mapped_len > cur_len ? mapped_len : cur_len;
	/* The image is input like the state file: check what was put back
	 * before anything follows it.  A broken one leaves the arena unusable
	 * in this process (every look-up fails) rather than trusted. */
	rc = header_check_fixed(A, loc_backend, loc_max);
	if (!rc)
		rc = shared_sync_mapping();
	if (!rc)
		rc = arena_check();
	if (rc) {
		UENV_LOG(ENV, ERR, "%s: the undo image put back is corrupt: arena unusable",
			 arena_path);
		arena_broken = true;
		rc = -EUCLEAN;
		goto out_unlock;
	}
	arena_forget_clean();
	/* Trim what the rolled-back transaction added, after the caller made
	 * the hardware forget it (uenv_txn_trim). */
	h->grown_from = cur_len > A->file_len ? A->file_len : 0;
	(void)xfer(true, &h->grown_from, sizeof(h->grown_from),
		   offsetof(struct undo_hdr, grown_from));
	h->valid = 2; /* restored; trim pending */
	rc = xfer(true, &h->valid, sizeof(h->valid), offsetof(struct undo_hdr, valid));
	txn_active = false;
	nr_deferred = 0;
	if (!rc)
		rc = 1;
out_unlock:
	uenv_unlock(&A->lock);
out:
	free(h);
	return rc;
}

void uenv_txn_trim(void)
{
	uint64_t to = 0;
	uint32_t valid = 0;

	if (undo_fd < 0 || pread(undo_fd, &valid, sizeof(valid), offsetof(struct undo_hdr, valid)) !=
				   (ssize_t)sizeof(valid) ||
	    valid != 2)
		return;
	if (pread(undo_fd, &to, sizeof(to), offsetof(struct undo_hdr, grown_from)) ==
		    (ssize_t)sizeof(to) &&
	    to && to == A->file_len && !(to & (UENV_CHUNK_SIZE - 1)))
		(void)fallocate(arena_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)to,
				(off_t)(mapped_len > to ? mapped_len - to : 0));
	valid = 0;
	(void)xfer(true, &valid, sizeof(valid), offsetof(struct undo_hdr, valid));
}

/* ------------------------------------------------------------ shared open */

static int init_shared(const struct uiommu_env_opts *o)
{
	const char *name = o->name ? o->name : "default";
	bool huge = o->backend == UIOMMU_MEM_SHARED_HUGE;
	uint64_t max =
		o->arena_max ? ALIGN_UP_ULL(o->arena_max, UENV_CHUNK_SIZE) : ARENA_DEFAULT_MAX;
	uint64_t base;
	struct arena hdr;
	struct stat st;
	void *resv;
	int dfd, fd, rc;
	bool created = false;

	if (state_name_ok(name)) {
		UENV_LOG(ENV, ERR, "state name \"%s\": want 1-64 of [A-Za-z0-9._-], not starting with '.'",
			 name);
		return -EINVAL;
	}
	if (max > ARENA_LIMIT_MAX)
		return -EINVAL;
	rc = uenv_state_path(o, arena_path, sizeof(arena_path));
	if (rc)
		return rc;
	dfd = state_dir_open(o, o->create);
	if (dfd < 0)
		return dfd;
	if (huge && (rc = hugetlbfs_check(dfd, o)) != 0) {
		close(dfd);
		return rc;
	}
	fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && o->create) {
		rc = arena_base(max, &base);
		if (rc) {
			close(dfd);
			return rc;
		}
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		created = fd >= 0;
	}
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP) {
			UENV_LOG(ENV, ERR, "%s: a symbolic link, not a state file: refused", arena_path);
			rc = -EPERM;
		}
		close(dfd);
		return rc;
	}
	rc = state_file_check(fd, arena_path);
	if (rc)
		goto err_close;
	if (!created) {
		if (fstat(fd, &st) < 0) {
			rc = -errno;
			goto err_close;
		}
		if (pread(fd, &hdr, offsetof(struct arena, hint), 0) <
		    (ssize_t)offsetof(struct arena, hint)) {
			UENV_LOG(ENV, ERR, "%s: not a uiommu state file (too short)", arena_path);
			rc = -EINVAL;
			goto err_close;
		}
		rc = header_check_fixed(&hdr, o->backend, (uint64_t)st.st_size);
		if (rc)
			goto err_close;
		base = hdr.base;
		max = hdr.max;
	}
	/* Reserve the whole range at its fixed address, then map the file over it. */
	resv = mmap((void *)(uintptr_t)base, max, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (resv == MAP_FAILED || resv != (void *)(uintptr_t)base) {
		/* (EEXIST: something of this process is there already) */
		rc = resv == MAP_FAILED && errno != EEXIST ? -errno : -EADDRINUSE;
		if (resv != MAP_FAILED)
			munmap(resv, max);
		UENV_LOG(ENV, ERR, "cannot reserve the arena at 0x%llx (+0x%llx): %s",
			 (unsigned long long)base, (unsigned long long)max, strerror(-rc));
		goto err_close;
	}
	arena_fd = fd;
	loc_base = base;
	loc_max = max;
	loc_backend = o->backend;
	if (created) {
		if (ftruncate(fd, (off_t)ARENA_HDR_LEN) < 0) {
			rc = -errno;
			goto err_unmap;
		}
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto err_unmap;
	}
	if ((uint64_t)st.st_size > max || (uint64_t)st.st_size < ARENA_HDR_LEN) {
		rc = -EUCLEAN; /* grew or shrank since the header was read */
		goto err_unmap;
	}
	if (mmap(resv, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		rc = -errno;
		goto err_unmap;
	}
	mapped_len = (uint64_t)st.st_size;
	A = resv;
	uenv_arena_shared = true;
	env_session_reset();
	if (created) {
		arena_header_init(A, o->backend);
		A->base = base;
		A->max = max;
		A->file_len = ARENA_HDR_LEN;
		A->iova_is_va = !huge;
		A->chunk_len = UENV_CHUNK_SIZE;
		A->gen = 1;
	} else {
		/* Map what the header says (another process may have grown
		 * the file since our fstat), then check all of it under the
		 * lock. */
		if (uenv_lock_timed(&A->lock, adopt_wait_ns) < 0) {
			UENV_LOG(ENV, ERR, "%s: its arena lock stays held (by pid %u)", arena_path,
				 uenv_lock_holder(&A->lock, NULL));
			rc = -ETIMEDOUT;
			goto err_unmap;
		}
		rc = header_check_fixed(A, o->backend, loc_max);
		if (!rc)
			rc = shared_sync_mapping();
		if (!rc)
			rc = arena_check();
		if (!rc)
			arena_forget_clean();
		uenv_unlock(&A->lock);
		if (rc)
			goto err_unmap;
		adopted = true;
	}
	state_dfd = dfd;
	snprintf(state_name, sizeof(state_name), "%s", name);
	if (huge) {
		/* Undo images need a tmpfs: /dev/shm/uiommu-EUID (without one,
		 * no transactions: uiommu_txn_begin says -EOPNOTSUPP). */
		struct uiommu_env_opts shm = {.backend = UIOMMU_MEM_SHARED_SHM};

		undo_dfd = state_dir_open(&shm, true);
		if (undo_dfd < 0)
			UENV_LOG(ENV, WARNING,
				 "no private /dev/shm directory (%s): no transactions on this "
				 "state",
				 strerror(-undo_dfd));
	} else {
		undo_dfd = dup(dfd);
	}
	return 0;

err_unmap:
	munmap(resv, max);
	A = NULL;
	uenv_arena_shared = false;
	env_arena_session_forget(false);
	env_session_reset();
	arena_fd = -1;
	loc_base = loc_max = 0;
	mapped_len = 0;
err_close:
	close(fd);
	if (created)
		unlinkat(dfd, name, 0);
	close(dfd);
	return rc;
}

int uenv_init(const struct uiommu_env_opts *opts)
{
	if (A)
		return 0;
	adopted = false;
	if (!opts || opts->backend == UIOMMU_MEM_DPDK)
		return init_dpdk(opts);
	if (opts->backend != UIOMMU_MEM_SHARED_HUGE && opts->backend != UIOMMU_MEM_SHARED_SHM)
		return -EINVAL;
	adopt_wait_ns = opts->lock_wait_ms ? opts->lock_wait_ms * 1000000ull : UINT64_MAX;
	return init_shared(opts);
}

void uenv_fini(bool destroy)
{
	if (!A)
		return;
	/* Process-local knowledge: the header is input (and may have been
	 * put back from an image that failed its checks). */
	if (loc_backend == UIOMMU_MEM_DPDK || !uenv_arena_shared) {
		for (uint32_t i = 0; i < A->nr_chunks; i++)
			if (A->chunks[i].kind != CK_NONE)
				env_dpdk_release(A->chunks[i].mz);
		free(A);
	} else {
		char undo_name[96];

		undo_file_name(undo_name, sizeof(undo_name)); /* reads A */
		munmap(A, loc_max);
		close(arena_fd);
		arena_fd = -1;
		mapped_len = 0;
		loc_base = loc_max = 0;
		if (destroy && state_dfd >= 0)
			unlinkat(state_dfd, state_name, 0);
		if (destroy && undo_dfd >= 0)
			unlinkat(undo_dfd, undo_name, 0);
		if (undo_fd >= 0)
			close(undo_fd);
		undo_fd = -1;
		txn_active = false;
		nr_deferred = 0;
		if (state_dfd >= 0)
			close(state_dfd);
		state_dfd = -1;
		if (undo_dfd >= 0)
			close(undo_dfd);
		undo_dfd = -1;
	}
	A = NULL;
	uenv_arena_shared = false;
	env_arena_session_forget(false);
	env_session_reset();
	arena_epoch++;
	adopted = false;
	arena_broken = false;
	fail_countdown = 0;
}

int uenv_shared_exists(const struct uiommu_env_opts *opts)
{
	char path[512];
	struct stat st;

	if (uenv_state_path(opts, path, sizeof(path)))
		return 0;
	return lstat(path, &st) == 0;
}
