/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOVA engine behind an IOAS (Linux iommufd io_pagetable style): which
 * IOVA ranges are mapped (areas), which are reserved and which are allowed.
 *
 * Pure data structure: no page tables, no hardware.  The IOAS object layer
 * (ioas.c) checks a request here, then fills or unfills the HWPTs, then
 * commits here, so that every failed call leaves the IOAS exactly as it
 * was.  All memory comes from uenv_zalloc/uenv_free (shared arena, fault
 * injection).  Areas are kept in a red-black tree keyed by IOVA: lookup and
 * insert are O(log n); a million areas is a normal load.  The tree is
 * augmented with the largest free gap of each subtree, so automatic IOVA
 * allocation skips subtrees that cannot hold the request (O(log n) per
 * gap tried).  Area records come from per-iopt 4 KiB blocks (no heap call
 * per record); removed ones are kept on a small per-iopt free list
 * (at most IOPT_SPARE_MAX) and reused by the next insert; a hint (the
 * neighbourhood of the last insert/remove) makes sequential inserts and
 * map/unmap at one IOVA O(1).
 *
 * Ranges are inclusive: [start, last].
 *
 * Locking: none inside; the owning IOAS serialises callers.
 */
#ifndef UIOMMU_IOPT_H
#define UIOMMU_IOPT_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "core/rbtree.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protection bits of an area (same values as UIOMMU_MAP_READ/WRITE). */
#define IOPT_READ  (1u << 0)
#define IOPT_WRITE (1u << 1)

struct iopt_area {
	struct rb_node node; /* node.aux: private to iopt.c */
	uint64_t iova;	     /* first IOVA */
	uint64_t last;	     /* last IOVA (inclusive) */
	uint64_t phys;	     /* bus/physical address the first IOVA maps to */
	void *va;	     /* CPU address of the backing memory, or NULL */
	uint32_t prot;	     /* IOPT_READ | IOPT_WRITE */
	uint32_t flags;	     /* owner-defined */
	/* Private to iopt.c: free bytes between the previous area and iova
	 * (0 for the lowest area: see iopt.leftmost), and the largest such gap
	 * in this node's subtree. */
	uint64_t gap;
	uint64_t max_gap;
	struct iopt_blk *blk; /* private: the block the record lives in */
};

/* Private to iopt.c (here for its checker's tests): a 4 KiB block of area
 * records. */
#define IOPT_BLK_BYTES 4096u
struct iopt_blk {
	struct iopt_blk *next, *prev; /* iopt->partial */
	struct iopt_area *free;	      /* chained by node.parent */
	uint32_t used;		      /* records handed out */
	uint32_t pad;
	struct iopt_area rec[];
};

/* Spare area records kept for reuse (beyond that, removal gives them back
 * to their block). */
#define IOPT_SPARE_MAX 64u

/* A reserved range.  Several owners may reserve overlapping ranges. */
struct iopt_resv {
	uint64_t start;
	uint64_t last;
	const void *owner; /* who reserved it (unit, device, aperture, ...) */
	uint32_t kind;	   /* UIOMMU_RESV_* for reporting */
	/* Private: the largest last of this and every earlier entry (the
	 * array is sorted by start, so this makes look-ups a binary search). */
	uint64_t max_last;
};

struct iopt_range {
	uint64_t start;
	uint64_t last;
};

struct iopt {
	struct rb_root areas;
	uint64_t nr_areas;
	uint64_t mapped_bytes;
	/* Reserved ranges: array sorted by start (may overlap each other). */
	struct iopt_resv *resv;
	uint32_t nr_resv;
	uint32_t cap_resv;
	/* Allowed ranges: sorted, merged, non-overlapping; none = everything. */
	struct iopt_range *allowed;
	uint32_t nr_allowed;
	/* Every IOVA and length must be a multiple of this (power of two,
	 * >= 4096): the largest smallest-page-size of the attached tables. */
	uint64_t iova_alignment;
	/* Private to iopt.c (all in the arena, like the areas). */
	struct iopt_area *rightmost; /* highest area, or NULL */
	struct iopt_area *leftmost;  /* lowest area, or NULL; its gap field is 0
				      * (the space before it is its iova: kept
				      * out of the augmentation) */
	struct iopt_area *hint_gap;  /* area whose gap the last insert/remove
				      * changed (NULL: the space after the
				      * highest area) */
	struct iopt_area *hint_area; /* area just inserted (hint_gap is its
				      * successor), or NULL */
	struct iopt_area *spare;     /* free records, chained by node.parent */
	uint32_t nr_spare;
	/* Records are carved from 4 KiB blocks (one uenv_zalloc per ~40
	 * records; a block goes back to the heap when its last record does):
	 * blocks with a free record, doubly linked. */
	struct iopt_blk *partial;
	uint32_t nr_blocks;
	/* Private: a window known to hold no reserved range (empty when
	 * lo > hi), for the map path's check; reset when the ranges change. */
	uint64_t resv_win_lo, resv_win_hi;
};

/** Initialise an empty IOVA space (alignment 4096). */
void iopt_init(struct iopt *iopt);
/** Free every area node and range array.  The page tables must already be
 *  unfilled by the caller. */
void iopt_destroy(struct iopt *iopt);

/** Can [iova, iova+len) be mapped at a fixed IOVA?  0, or -EINVAL (zero
 *  length, misaligned iova/len, intersects a reserved range), -EOVERFLOW
 *  (iova + len - 1 wraps), -EEXIST (intersects an area).  Allowed ranges do
 *  not restrict fixed mappings (iommufd semantics: they steer allocation). */
int iopt_check_map(const struct iopt *iopt, uint64_t iova, uint64_t len);

/** Choose an IOVA for @len bytes: never 0, aligned to
 *  max(iova_alignment, min(roundup_pow2(len), 1 << ctz(phys))) when
 *  phys != 0 (keeps large-page alignment of the backing memory), else
 *  roundup_pow2(len) capped at 1 GiB; inside the allowed ranges when there
 *  are any; outside reserved ranges and areas; lowest such address.
 *  0, or -EINVAL (zero/misaligned length), -EOVERFLOW (len too large),
 *  -ENOSPC (no room). */
int iopt_alloc_iova(const struct iopt *iopt, uint64_t len, uint64_t phys, uint64_t *iova);

/** Insert an area (the caller checked with iopt_check_map).  -ENOMEM, or 0
 *  with *out set.  The record comes from the free list when there is one
 *  (no allocation), else from uenv_zalloc (which may fail). */
int iopt_insert(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
		uint32_t prot, struct iopt_area **out);
/** iopt_check_map and iopt_insert in at most one tree descent (none when
 *  the range lies in the gap the last insert/remove changed, or after the
 *  highest area): the same errors as iopt_check_map in the same order
 *  (-EINVAL, -EOVERFLOW, -EINVAL for a reserved range, -EEXIST), then
 *  -ENOMEM; on any error nothing changes.  0 with *out set. */
int iopt_insert_checked(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
			uint32_t prot, struct iopt_area **out);
/** Unlink an area and recycle its record: amortised O(1) rebalancing plus
 *  the gap updates, no uenv_free while the free list holds fewer than
 *  IOPT_SPARE_MAX records.  One exception keeps failed calls clean (the
 *  caller's fail-nth contract: live allocations as before): a record that
 *  its insert got from uenv_zalloc and that was never returned by
 *  iopt_find_exact is freed, so that undoing an insert gives the record back
 *  where it came from.  An area unmapped through iopt_find_exact (a
 *  committed mapping) always goes to the free list. */
void iopt_remove(struct iopt *iopt, struct iopt_area *area);

/** The area containing @iova, or NULL. */
struct iopt_area *iopt_find(const struct iopt *iopt, uint64_t iova);
/** The lowest area intersecting [start, last], or NULL. */
struct iopt_area *iopt_first(const struct iopt *iopt, uint64_t start, uint64_t last);
/** The next area after @area (in IOVA order) intersecting [.., last], or NULL. */
struct iopt_area *iopt_next(const struct iopt_area *area, uint64_t last);

/** Would unmapping [start, last] remove only whole areas?  0 with the byte
 *  and area counts, -EINVAL when an area would be cut at either end,
 *  -ENOENT when nothing is mapped there.  Nothing is changed. */
int iopt_check_unmap(const struct iopt *iopt, uint64_t start, uint64_t last, uint64_t *bytes,
		     uint64_t *count);

/** Returned by iopt_find_exact when [start, last] is not one whole area but
 *  may still be a valid unmap of several whole areas. */
#define IOPT_NOT_ONE 1

/** The unmap fast path: is [start, last] exactly one whole area?  One
 *  descent (O(1) for the area just inserted and for the neighbour of the
 *  last insert/remove).  0 with *out set (the area stays in the tree: the
 *  caller unfills it, then iopt_remove); the error iopt_check_unmap would
 *  give when its reason is visible from @start: -EINVAL when the area
 *  holding @start is cut (at @start or at @last), -ENOENT when nothing is
 *  mapped in [start, last]; IOPT_NOT_ONE otherwise (the range holds several areas
 *  or starts in a hole: use iopt_check_unmap).  Nothing changes, except
 *  that the area found is marked committed (see iopt_remove). */
int iopt_find_exact(struct iopt *iopt, uint64_t start, uint64_t last, struct iopt_area **out);

/** Is [start, last] covered by areas with no gap?  0 or -ENOENT. */
int iopt_check_contig(const struct iopt *iopt, uint64_t start, uint64_t last);

/** Reserve [start, last] for @owner.  -EADDRINUSE when an area or an allowed
 *  range intersects it; -EINVAL when start > last; -ENOMEM.  On error nothing
 *  changes. */
int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, const void *owner,
		 uint32_t kind);
/** Drop every reservation made by @owner. */
void iopt_unreserve_owner(struct iopt *iopt, const void *owner);
/** Does any reserved range intersect [start, last]? */
bool iopt_is_reserved(const struct iopt *iopt, uint64_t start, uint64_t last);

/** Replace the allowed ranges atomically (any order, may overlap: they are
 *  sorted and merged).  n == 0 clears them.  -EADDRINUSE when a reserved
 *  range intersects one; -EINVAL for start > last; -ENOMEM.  On error the old
 *  set stays. */
int iopt_set_allowed(struct iopt *iopt, const struct iopt_range *r, uint32_t n);

/** The usable IOVA ranges: [0, UINT64_MAX] minus every reserved range,
 *  ascending.  Writes at most @max and returns the total number (which may
 *  be larger than @max). */
uint32_t iopt_usable_ranges(const struct iopt *iopt, struct iopt_range *out, uint32_t max);

/** Change the alignment (power of two >= 4096).  -EADDRINUSE when an
 *  existing area would become misaligned; nothing changes then. */
int iopt_set_alignment(struct iopt *iopt, uint64_t align);

struct iopt_check_ops {
	/* Each problem found, as one line of text. */
	void (*report)(void *arg, const char *msg);
	/* Optional: each arena allocation the IOVA space owns (record blocks,
	 * the range arrays), once, when they could be walked. */
	void (*owned)(void *arg, const void *p, size_t len);
	void *arg;
};

/** Check an IOVA space read from a state file (an fsck): every record a
 *  record slot of a live block, links and colours of the red-black tree,
 *  areas sorted, disjoint, aligned and outside reserved ranges, the gap
 *  augmentation, the lowest/highest/hint pointers, the counts, the spare
 *  list and the record blocks, the range arrays.  Follows no pointer it has
 *  not checked.  Returns the number of problems reported. */
unsigned int iopt_check(const struct iopt *iopt, const struct iopt_check_ops *ops);

#ifdef __cplusplus
}
#endif
#endif
