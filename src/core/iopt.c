/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOVA engine behind an IOAS: areas (a red-black tree keyed by IOVA),
 * reserved ranges (a sorted array; owners may overlap) and allowed ranges
 * (a sorted, merged array).  Modelled on Linux iommufd io_pagetable.c
 * without the page tables.
 *
 * Every call that can fail allocates first and commits after, so a failed
 * call (including an injected allocation failure) changes nothing.
 *
 * Gap augmentation: each area records the free bytes before it (area->gap:
 * from the previous area's last + 1 up to iova - 1) and the largest gap of
 * its subtree (max_gap).  The space before the lowest area ([0, iova - 1]
 * of iopt->leftmost, whose gap field is 0) and the space after the highest
 * are not in the tree: allocation checks them first and last.  So a run of
 * unmaps from the bottom (the hole below the lowest area grows each time)
 * or from the top updates no gap above the removed node.  An insert shrinks its
 * successor's gap; a removal merges its own gap, its bytes and its
 * successor's gap.  max_gap is kept by the rbtree's augment callbacks and
 * by gap_propagate, which stops at the first node whose value holds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"
#include "core/iopt.h"
#include "core/phash.h"
#include "core/rbtree_augmented.h"

#define IOPT_MIN_ALIGN	    4096ull
#define IOPT_MAX_AUTO_ALIGN (1ull << 30) /* cap on auto-allocation alignment */
#define IOPT_RESV_MIN_CAP   8u

/* node.aux: the record came from its block at its insert and has not been
 * committed by iopt_find_exact (iopt_remove gives it back to the block
 * instead of keeping it, so an undone insert leaves the heap as it was). */
#define AREA_FRESH 1u

/*
 * Record blocks: one heap allocation carved into records, so that an
 * insert needs neither the arena lock nor a hash look-up.  A block is freed
 * as soon as its last record comes back (a failed call that needed a new
 * block leaves the heap exactly as before).
 */
#define IOPT_BLK_RECS ((IOPT_BLK_BYTES - sizeof(struct iopt_blk)) / sizeof(struct iopt_area))
_Static_assert(IOPT_BLK_RECS >= 16, "a record block holds a useful number of records");

static inline void blk_put(struct iopt *iopt, struct iopt_area *a);
static inline void resv_win_reset(struct iopt *iopt);

static inline struct iopt_area *to_area(const struct rb_node *n)
{
	return n ? rb_entry(n, struct iopt_area, node) : NULL;
}

static inline bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Smallest multiple of @a (a power of two) >= @x; false if it is 2^64. */
static inline bool align_up(uint64_t x, uint64_t a, uint64_t *out)
{
	if (x > ~(a - 1))
		return false;
	*out = (x + a - 1) & ~(a - 1);
	return true;
}

/* First IOVA of the free space before @a. */
static inline uint64_t gap_start(const struct iopt *iopt, const struct iopt_area *a)
{
	return a == iopt->leftmost ? 0 : a->iova - a->gap;
}

/* ------------------------------------------------------------------ */
/* Gap augmentation                                                    */

static inline uint64_t sub_gap(const struct rb_node *n)
{
	return n ? to_area(n)->max_gap : 0;
}

/* Recompute a->max_gap; true if it changed. */
static inline bool gap_compute(struct iopt_area *a)
{
	uint64_t m = a->gap, l = sub_gap(a->node.left), r = sub_gap(a->node.right);

	if (l > m)
		m = l;
	if (r > m)
		m = r;
	if (m == a->max_gap)
		return false;
	a->max_gap = m;
	return true;
}

static inline void gap_propagate_inline(struct rb_node *n, struct rb_node *stop)
{
	while (n != stop && gap_compute(to_area(n)))
		n = n->parent;
}

/* @n's subtree now holds a gap of @gap bytes (a gap grew, or a node was
 * linked below): raise max_gap up the path as far as it is exceeded. */
static inline void gap_raise(struct rb_node *n, uint64_t gap)
{
	for (; n && to_area(n)->max_gap < gap; n = n->parent)
		to_area(n)->max_gap = gap;
}

static void gap_propagate(struct rb_node *n, struct rb_node *stop)
{
	gap_propagate_inline(n, stop);
}

static void gap_copy(struct rb_node *old, struct rb_node *new_node)
{
	to_area(new_node)->max_gap = to_area(old)->max_gap;
}

static void gap_rotate(struct rb_node *old, struct rb_node *new_node)
{
	to_area(new_node)->max_gap = to_area(old)->max_gap;
	gap_compute(to_area(old));
}

static const struct rb_augment_callbacks gap_cb = {
	.propagate = gap_propagate,
	.copy = gap_copy,
	.rotate = gap_rotate,
};

/* ------------------------------------------------------------------ */
/* Init / destroy                                                      */

void iopt_init(struct iopt *iopt)
{
	memset(iopt, 0, sizeof(*iopt));
	iopt->areas.node = NULL;
	iopt->iova_alignment = IOPT_MIN_ALIGN;
	resv_win_reset(iopt);
}

void iopt_destroy(struct iopt *iopt)
{
	struct rb_node *n = iopt->areas.node, *p;

	/* Post-order teardown without rebalancing: O(n), no recursion. */
	while (n) {
		if (n->left) {
			n = n->left;
			continue;
		}
		if (n->right) {
			n = n->right;
			continue;
		}
		p = n->parent;
		if (p) {
			if (p->left == n)
				p->left = NULL;
			else
				p->right = NULL;
		}
		blk_put(iopt, to_area(n));
		n = p;
	}
	while (iopt->spare) {
		struct iopt_area *a = iopt->spare;

		iopt->spare = to_area(a->node.parent);
		blk_put(iopt, a);
	}
	uenv_free(iopt->resv);
	uenv_free(iopt->allowed);
	iopt_init(iopt);
}

/* ------------------------------------------------------------------ */
/* Lookup                                                              */

/* The lowest area whose last IOVA is >= @iova (areas never overlap, so
 * their last IOVAs are sorted like their first ones). */
static struct iopt_area *first_ending_at_or_after(const struct iopt *iopt, uint64_t iova)
{
	struct rb_node *n = iopt->areas.node;
	struct iopt_area *best = NULL;

	while (n) {
		struct iopt_area *a = to_area(n);

		if (a->last >= iova) {
			best = a;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct iopt_area *iopt_find(const struct iopt *iopt, uint64_t iova)
{
	struct rb_node *n = iopt->areas.node;

	while (n) {
		struct iopt_area *a = to_area(n);

		if (iova < a->iova)
			n = n->left;
		else if (iova > a->last)
			n = n->right;
		else
			return a;
	}
	return NULL;
}

static inline __attribute__((always_inline)) int
find_exact(struct iopt *iopt, uint64_t start, uint64_t last, struct iopt_area **out)
{
	struct iopt_area *a = iopt->hint_area, *succ;

	if (start > last)
		return -ENOENT;
	/* The area just inserted, or the one after the last insert/remove
	 * (unmapping in ascending order). */
	if (a && a->iova == start)
		goto found;
	a = iopt->hint_gap;
	if (a && a->iova == start)
		goto found;
	succ = NULL;
	for (struct rb_node *n = iopt->areas.node; n;) {
		a = to_area(n);
		if (start < a->iova) {
			succ = a;
			n = n->left;
		} else if (start > a->last) {
			n = n->right;
		} else {
			goto found;
		}
	}
	/* @start is in a hole: fine if some area begins in [start, last]. */
	return succ && succ->iova <= last ? IOPT_NOT_ONE : -ENOENT;
found:
	if (a->iova != start || a->last > last)
		return -EINVAL; /* would cut @a */
	if (a->last != last)
		return IOPT_NOT_ONE;
	a->node.aux &= ~AREA_FRESH;
	*out = a;
	return 0;
}

int iopt_find_exact(struct iopt *iopt, uint64_t start, uint64_t last, struct iopt_area **out)
{
	return find_exact(iopt, start, last, out);
}

struct iopt_area *iopt_first(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	struct iopt_area *a;

	if (start > last)
		return NULL;
	a = first_ending_at_or_after(iopt, start);
	return a && a->iova <= last ? a : NULL;
}

struct iopt_area *iopt_next(const struct iopt_area *area, uint64_t last)
{
	struct iopt_area *a = to_area(rb_next(&area->node));

	return a && a->iova <= last ? a : NULL;
}

/* ------------------------------------------------------------------ */
/* Ranges                                                              */

/* Index of the first reserved range (in array order) that intersects
 * [start, last], or -1.  The array is sorted by start and max_last is the
 * running maximum of last: the first entry whose max_last reaches @start is
 * the first one ending at or after @start (binary search); it is a hit iff
 * it starts at or before @last (every later one starts later still). */
/* The first entry whose max_last reaches @start (nr_resv when none). */
static inline uint32_t resv_lower_bound(const struct iopt *iopt, uint64_t start)
{
	const struct iopt_resv *rv = iopt->resv;
	uint32_t lo = 0, hi = iopt->nr_resv;

	if (!hi || rv[hi - 1].max_last < start)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rv[mid].max_last < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline int64_t resv_first_hit(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	uint32_t lo = resv_lower_bound(iopt, start);

	return lo < iopt->nr_resv && iopt->resv[lo].start <= last ? (int64_t)lo : -1;
}

/* Forget the free window (the reserved ranges changed). */
static inline void resv_win_reset(struct iopt *iopt)
{
	iopt->resv_win_lo = 1;
	iopt->resv_win_hi = 0;
}

/*
 * resv_first_hit() for the map path, which asks about neighbouring
 * addresses again and again: remember the widest window around the last
 * miss that holds no reserved range ([max_last of the entries before the
 * insertion point + 1, start of the entry at it - 1]), and answer from it
 * while the ranges stay as they are.
 */
static inline bool resv_hit_cached(struct iopt *iopt, uint64_t start, uint64_t last)
{
	const struct iopt_resv *rv = iopt->resv;
	uint32_t lo;

	if (start >= iopt->resv_win_lo && last <= iopt->resv_win_hi)
		return false;
	lo = resv_lower_bound(iopt, start);
	if (lo < iopt->nr_resv && rv[lo].start <= last)
		return true;
	iopt->resv_win_lo = lo ? rv[lo - 1].max_last + 1 : 0;
	iopt->resv_win_hi = lo < iopt->nr_resv ? rv[lo].start - 1 : UINT64_MAX;
	return false;
}

/* Recompute max_last from entry @from on (after any change of the array). */
static void resv_fix_max(struct iopt *iopt, uint32_t from)
{
	resv_win_reset(iopt);
	uint64_t m = from ? iopt->resv[from - 1].max_last : 0;

	for (uint32_t i = from; i < iopt->nr_resv; i++) {
		if (iopt->resv[i].last > m)
			m = iopt->resv[i].last;
		iopt->resv[i].max_last = m;
	}
}

bool iopt_is_reserved(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	if (start > last)
		return false;
	return resv_first_hit(iopt, start, last) >= 0;
}

/* The allowed range intersecting [start, last] with the lowest start, or
 * NULL (binary search: the array is sorted and disjoint). */
static const struct iopt_range *allowed_first_hit(const struct iopt *iopt, uint64_t start,
						  uint64_t last)
{
	uint32_t lo = 0, hi = iopt->nr_allowed;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (iopt->allowed[mid].last < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < iopt->nr_allowed && iopt->allowed[lo].start <= last)
		return &iopt->allowed[lo];
	return NULL;
}

int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, const void *owner, uint32_t kind)
{
	struct iopt_resv *arr = iopt->resv;
	uint32_t n = iopt->nr_resv, pos;

	if (start > last)
		return -EINVAL;
	if (iopt_first(iopt, start, last) || allowed_first_hit(iopt, start, last))
		return -EADDRINUSE;

	/* Keep the array sorted by start; equal starts in insertion order. */
	for (pos = n; pos > 0 && iopt->resv[pos - 1].start > start; pos--)
		;

	if (n == iopt->cap_resv) {
		uint32_t cap = n ? n * 2 : IOPT_RESV_MIN_CAP;

		if (cap <= n)
			return -ENOMEM;
		arr = uenv_zalloc((size_t)cap * sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		if (pos)
			memcpy(arr, iopt->resv, pos * sizeof(*arr));
		if (n > pos)
			memcpy(arr + pos + 1, iopt->resv + pos, (n - pos) * sizeof(*arr));
		uenv_free(iopt->resv);
		iopt->resv = arr;
		iopt->cap_resv = cap;
	} else if (n > pos) {
		memmove(arr + pos + 1, arr + pos, (n - pos) * sizeof(*arr));
	}
	arr[pos] = (struct iopt_resv){.start = start, .last = last, .owner = owner, .kind = kind};
	iopt->nr_resv = n + 1;
	resv_fix_max(iopt, pos);
	return 0;
}

void iopt_unreserve_owner(struct iopt *iopt, const void *owner)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < iopt->nr_resv; i++)
		if (iopt->resv[i].owner != owner)
			iopt->resv[j++] = iopt->resv[i];
	iopt->nr_resv = j;
	resv_fix_max(iopt, 0);
	if (!j) {
		/* Nothing left: give the array back, so that a reserve + unreserve
		 * pair (a failed attach) leaves the allocation counts as they were. */
		uenv_free(iopt->resv);
		iopt->resv = NULL;
		iopt->cap_resv = 0;
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct iopt_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return 0;
}

int iopt_set_allowed(struct iopt *iopt, const struct iopt_range *r, uint32_t n)
{
	struct iopt_range *arr;
	uint32_t m;

	if (n && !r)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		if (r[i].start > r[i].last)
			return -EINVAL;
	/* The union intersects a reserved range iff some input range does. */
	for (uint32_t i = 0; i < n; i++)
		if (resv_first_hit(iopt, r[i].start, r[i].last) >= 0)
			return -EADDRINUSE;

	arr = NULL;
	m = 0;
	if (n) {
		arr = uenv_zalloc((size_t)n * sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		memcpy(arr, r, (size_t)n * sizeof(*arr));
		qsort(arr, n, sizeof(*arr), range_cmp);
		/* Merge overlapping and adjacent ranges. */
		for (uint32_t i = 1; i < n; i++) {
			struct iopt_range *cur = &arr[m];

			if (cur->last == UINT64_MAX || arr[i].start <= cur->last + 1) {
				if (arr[i].last > cur->last)
					cur->last = arr[i].last;
			} else {
				arr[++m] = arr[i];
			}
		}
		m++;
	}
	uenv_free(iopt->allowed);
	iopt->allowed = arr;
	iopt->nr_allowed = m;
	return 0;
}

uint32_t iopt_usable_ranges(const struct iopt *iopt, struct iopt_range *out, uint32_t max)
{
	uint64_t cur = 0; /* lowest IOVA not yet accounted for */
	uint32_t total = 0;

	for (uint32_t i = 0; i < iopt->nr_resv; i++) {
		const struct iopt_resv *rv = &iopt->resv[i];

		if (rv->last < cur)
			continue; /* nested in what is already covered */
		if (rv->start > cur) {
			if (total < max)
				out[total] = (struct iopt_range){cur, rv->start - 1};
			total++;
		}
		if (rv->last == UINT64_MAX)
			return total;
		cur = rv->last + 1;
	}
	if (total < max)
		out[total] = (struct iopt_range){cur, UINT64_MAX};
	return total + 1;
}

/* ------------------------------------------------------------------ */
/* Map / unmap checks                                                  */

/* The checks of iopt_check_map that need no area look-up. */
static inline int check_map_range(const struct iopt *iopt, uint64_t iova, uint64_t len)
{
	if (!len || (iova | len) & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (len - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	if (resv_first_hit(iopt, iova, iova + len - 1) >= 0)
		return -EINVAL;
	return 0;
}

int iopt_check_map(const struct iopt *iopt, uint64_t iova, uint64_t len)
{
	int rc = check_map_range(iopt, iova, len);

	if (rc)
		return rc;
	if (iopt_first(iopt, iova, iova + len - 1))
		return -EEXIST;
	return 0;
}

int iopt_check_unmap(const struct iopt *iopt, uint64_t start, uint64_t last, uint64_t *bytes,
		     uint64_t *count)
{
	struct iopt_area *a, *prev = NULL;
	uint64_t b = 0, c = 0;

	a = iopt_first(iopt, start, last);
	if (!a)
		return -ENOENT;
	if (a->iova < start)
		return -EINVAL; /* would cut the first area */
	for (; a; a = iopt_next(a, last)) {
		b += a->last - a->iova + 1;
		c++;
		prev = a;
	}
	if (prev->last > last)
		return -EINVAL; /* would cut the last area */
	if (bytes)
		*bytes = b;
	if (count)
		*count = c;
	return 0;
}

int iopt_check_contig(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	struct iopt_area *a;

	if (start > last)
		return -ENOENT;
	a = iopt_find(iopt, start);
	while (a) {
		if (a->last >= last)
			return 0;
		struct iopt_area *nx = to_area(rb_next(&a->node));

		if (!nx || nx->iova != a->last + 1)
			return -ENOENT;
		a = nx;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Areas                                                               */

/* Where a new area [iova, last] goes: its parent and link in the tree, the
 * first free IOVA before it (gs: the gap it lands in starts there) and its
 * successor (NULL: it goes after the highest area). */
struct slot {
	struct rb_node *parent;
	struct rb_node **link;
	struct iopt_area *succ;
	uint64_t gs;
};

/* Find the slot for [iova, last]; false if it intersects an area.  The
 * areas are disjoint and sorted, so [iova, last] is free iff it lies in the
 * gap before its successor (or after the highest area).  Tries, in order:
 * the gap the last insert/remove changed, the space after the highest area,
 * then one descent (which only tracks the successor: the gap's start is
 * succ->iova - succ->gap). */
static inline __attribute__((always_inline)) bool find_slot(struct iopt *iopt, uint64_t iova,
							    uint64_t last, struct slot *sl)
{
	struct iopt_area *s = iopt->hint_gap, *r = iopt->rightmost;
	struct rb_node **link, *n;

	if (s && last < s->iova && iova >= gap_start(iopt, s)) {
		sl->succ = s;
		sl->gs = gap_start(iopt, s);
		n = s->node.left;
		if (!n) {
			sl->parent = &s->node;
			sl->link = &s->node.left;
			return true;
		}
		while (n->right) /* the predecessor: no right child */
			n = n->right;
		sl->parent = n;
		sl->link = &n->right;
		return true;
	}
	if (!r || iova > r->last) {
		sl->succ = NULL;
		sl->gs = r ? r->last + 1 : 0;
		sl->parent = r ? &r->node : NULL;
		sl->link = r ? &r->node.right : &iopt->areas.node;
		return true;
	}
	/* iova <= r->last: there is a successor or an intersection. */
	s = NULL;
	n = NULL;
	link = &iopt->areas.node;
	while (*link) {
		struct iopt_area *a;
		unsigned int right;

		n = *link;
		a = to_area(n);
		right = iova >= a->iova;
		s = right ? s : a;
		link = &n->child[right];
	}
	sl->parent = n;
	sl->link = link;
	sl->succ = s;
	if (!s) { /* iova is inside the highest area */
		sl->gs = 0;
		return false;
	}
	sl->gs = gap_start(iopt, s);
	return iova >= sl->gs && last < s->iova;
}

static void blk_link(struct iopt *iopt, struct iopt_blk *b)
{
	b->prev = NULL;
	b->next = iopt->partial;
	if (b->next)
		b->next->prev = b;
	iopt->partial = b;
}

static void blk_unlink(struct iopt *iopt, struct iopt_blk *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		iopt->partial = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->next = b->prev = NULL;
}

static __attribute__((noinline)) struct iopt_blk *blk_new(struct iopt *iopt)
{
	struct iopt_blk *b = uenv_zalloc(IOPT_BLK_BYTES);

	if (!b)
		return NULL;
	for (size_t i = 0; i < IOPT_BLK_RECS; i++)
		b->rec[i].node.parent = i + 1 < IOPT_BLK_RECS ? &b->rec[i + 1].node : NULL;
	b->free = &b->rec[0];
	blk_link(iopt, b);
	iopt->nr_blocks++;
	return b;
}

/* An emptied block goes (rare: out of line, off the unmap path). */
static __attribute__((noinline)) void blk_drop(struct iopt *iopt, struct iopt_blk *b)
{
	blk_unlink(iopt, b);
	iopt->nr_blocks--;
	uenv_free(b);
}

/* Give a record back to its block; the block goes when it is empty. */
static inline void blk_put(struct iopt *iopt, struct iopt_area *a)
{
	struct iopt_blk *b = a->blk;

	a->node.parent = b->free ? &b->free->node : NULL;
	if (!b->free)
		blk_link(iopt, b);
	b->free = a;
	if (--b->used == 0)
		blk_drop(iopt, b);
}

/* Take a record from the free list, else from a block (a new block may
 * fail: NULL). */
static inline struct iopt_area *area_get(struct iopt *iopt)
{
	struct iopt_area *a = iopt->spare;
	struct iopt_blk *b;

	if (a) {
		iopt->spare = to_area(a->node.parent);
		iopt->nr_spare--;
		a->node.aux = 0;
		a->flags = 0;
		return a;
	}
	b = iopt->partial;
	if (!b) {
		b = blk_new(iopt);
		if (!b)
			return NULL;
	}
	a = b->free;
	b->free = to_area(a->node.parent);
	b->used++;
	if (!b->free)
		blk_unlink(iopt, b);
	/* insert_at() sets every other field */
	a->blk = b;
	a->node.aux = AREA_FRESH;
	a->flags = 0;
	return a;
}

/* Allocate an area and link it at @sl (from find_slot). */
static inline __attribute__((always_inline)) int insert_at(struct iopt *iopt, const struct slot *sl,
							   uint64_t iova, uint64_t len,
							   uint64_t phys, void *va, uint32_t prot,
							   struct iopt_area **out)
{
	struct iopt_area *area = area_get(iopt), *s = sl->succ;

	if (!area)
		return -ENOMEM;
	/* Every field but blk, node.aux and flags (area_get). */
	area->iova = iova;
	area->last = iova + len - 1;
	area->phys = phys;
	area->va = va;
	area->prot = prot;
	rb_link_node(&area->node, sl->parent, sl->link);
	if (s == iopt->leftmost) {
		/* The new lowest area (its gap stays out of the tree); the old
		 * lowest one's gap enters it. */
		area->gap = 0;
		area->max_gap = 0;
		iopt->leftmost = area;
		if (s) {
			s->gap = s->iova - area->last - 1;
			gap_raise(&s->node, s->gap);
		} else {
			iopt->rightmost = area;
		}
		goto linked;
	}
	area->gap = iova - sl->gs;
	area->max_gap = area->gap;
	/* The new leaf's gap may raise the values above it; then the
	 * successor's gap shrinks to what is left after the new area (which
	 * can only lower a value that was this very gap). */
	gap_raise(sl->parent, area->gap);
	if (s) {
		bool was_max = s->gap == s->max_gap;

		s->gap = s->iova - area->last - 1;
		if (was_max)
			gap_propagate_inline(&s->node, NULL);
	} else {
		iopt->rightmost = area;
	}
linked:
	rb_insert_augmented_inline(&iopt->areas, &area->node, &gap_cb);
	iopt->nr_areas++;
	iopt->mapped_bytes += len;
	/* The next insert most likely goes right after this one. */
	iopt->hint_gap = s;
	iopt->hint_area = area;
	if (out)
		*out = area;
	return 0;
}

int iopt_insert(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
		uint32_t prot, struct iopt_area **out)
{
	struct slot sl;

	(void)find_slot(iopt, iova, iova + len - 1, &sl);
	return insert_at(iopt, &sl, iova, len, phys, va, prot, out);
}

int iopt_insert_checked(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
			uint32_t prot, struct iopt_area **out)
{
	struct slot sl;

	/* check_map_range(), with the reserved-range window cache */
	if (!len || (iova | len) & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (len - 1 > UINT64_MAX - iova)
		return -EOVERFLOW;
	if (resv_hit_cached(iopt, iova, iova + len - 1))
		return -EINVAL;
	if (!find_slot(iopt, iova, iova + len - 1, &sl))
		return -EEXIST;
	return insert_at(iopt, &sl, iova, len, phys, va, prot, out);
}

static inline __attribute__((always_inline)) void remove_area(struct iopt *iopt,
							       struct iopt_area *area)
{
	/* Undoing or unmapping the area just inserted: its successor is known
	 * (the tree has not changed since). */
	struct iopt_area *s =
		area == iopt->hint_area ? iopt->hint_gap : to_area(rb_next(&area->node));
	uint64_t len = area->last - area->iova + 1;

	/* The successor's gap absorbs this area and its gap (before the erase:
	 * the rebalancing needs consistent values); the lowest area's successor
	 * becomes the lowest, its gap leaves the tree. */
	if (area == iopt->leftmost) {
		iopt->leftmost = s;
		if (s) {
			bool was_max = s->gap == s->max_gap;

			s->gap = 0;
			if (was_max)
				gap_propagate_inline(&s->node, NULL);
		} else {
			iopt->rightmost = NULL;
		}
	} else if (s) {
		s->gap += area->gap + len;
		gap_raise(&s->node, s->gap);
	} else {
		iopt->rightmost = to_area(rb_prev(&area->node));
	}
	rb_erase_augmented_inline(&iopt->areas, &area->node, &gap_cb);
	iopt->nr_areas--;
	iopt->mapped_bytes -= len;
	iopt->hint_gap = s;
	iopt->hint_area = NULL; /* hint_gap is its successor only after an insert */
	if ((area->node.aux & AREA_FRESH) || iopt->nr_spare >= IOPT_SPARE_MAX) {
		blk_put(iopt, area);
		return;
	}
	area->node.parent = iopt->spare ? &iopt->spare->node : NULL;
	iopt->spare = area;
	iopt->nr_spare++;
}

void iopt_remove(struct iopt *iopt, struct iopt_area *area)
{
	remove_area(iopt, area);
}

int iopt_set_alignment(struct iopt *iopt, uint64_t align)
{
	if (!is_pow2(align) || align < IOPT_MIN_ALIGN)
		return -EINVAL;
	for (struct rb_node *n = rb_first(&iopt->areas); n; n = rb_next(n)) {
		struct iopt_area *a = to_area(n);

		if ((a->iova | (a->last + 1)) & (align - 1))
			return -EADDRINUSE;
	}
	iopt->iova_alignment = align;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Automatic allocation                                                */

/* The leftmost node of @n's subtree whose gap is >= @len (there is one:
 * n->max_gap >= len). */
static const struct iopt_area *leftmost_fit(const struct rb_node *n, uint64_t len)
{
	for (;;) {
		const struct iopt_area *a = to_area(n);

		if (n->left && to_area(n->left)->max_gap >= len)
			n = n->left;
		else if (a->gap >= len)
			return a;
		else
			n = n->right;
	}
}

/* The first area after @a (in IOVA order) whose gap is >= @len, or NULL:
 * the right subtree if it has one, else up to the first ancestor we reach
 * from its left, that ancestor, then its right subtree, and so on.  Skips
 * every subtree whose largest gap is too small. */
static const struct iopt_area *next_fit(const struct iopt_area *a, uint64_t len)
{
	const struct rb_node *n = &a->node, *p;

	if (n->right && to_area(n->right)->max_gap >= len)
		return leftmost_fit(n->right, len);
	while ((p = n->parent)) {
		if (n == p->left) {
			if (to_area(p)->gap >= len)
				return to_area(p);
			if (p->right && to_area(p->right)->max_gap >= len)
				return leftmost_fit(p->right, len);
		}
		n = p;
	}
	return NULL;
}

/* The first area whose iova is >= @key and whose gap is >= @len, or NULL. */
static const struct iopt_area *first_fit(const struct iopt *iopt, uint64_t key, uint64_t len)
{
	const struct rb_node *n = iopt->areas.node;
	const struct iopt_area *best = NULL;

	if (!n || to_area(n)->max_gap < len)
		return NULL;
	while (n) { /* lower bound: the first area with iova >= key */
		const struct iopt_area *a = to_area(n);

		if (a->iova >= key) {
			best = a;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	if (!best || best->gap >= len)
		return best;
	return next_fit(best, len);
}

/*
 * The lowest @align-aligned c >= @c with [c, c + len - 1] inside the gap
 * ending at @gap_last and the window ending at @win_last, clear of
 * reserved ranges.  0 with *iova set; 1 if this gap cannot hold it (try the
 * next one); -ENOSPC if no higher gap can either (past the window, or the
 * address space wraps).
 */
static int fit_in_gap(const struct iopt *iopt, uint64_t c, uint64_t gap_last, uint64_t win_last,
		      uint64_t len, uint64_t align, uint64_t *iova)
{
	uint64_t e;
	int64_t r;

	if (!align_up(c, align, &c))
		return -ENOSPC;
	for (;;) {
		if (len - 1 > UINT64_MAX - c)
			return -ENOSPC;
		e = c + len - 1;
		if (e > win_last)
			return -ENOSPC;
		if (e > gap_last)
			return 1;
		r = resv_first_hit(iopt, c, e);
		if (r < 0) {
			*iova = c;
			return 0;
		}
		/* Skip every reserved range hitting the candidate. */
		uint64_t skip = iopt->resv[r].last;

		for (uint32_t i = (uint32_t)r + 1; i < iopt->nr_resv && iopt->resv[i].start <= e;
		     i++)
			if (iopt->resv[i].last > skip)
				skip = iopt->resv[i].last;
		if (skip == UINT64_MAX || !align_up(skip + 1, align, &c))
			return -ENOSPC;
	}
}

/*
 * Lowest @align-aligned c >= max(win_start, align) with [c, c + len - 1]
 * inside [win_start, win_last] and clear of reserved ranges and areas.
 * Only the gaps of at least @len bytes that end at or after the first
 * candidate's end are visited, in IOVA order (first_fit / next_fit, each
 * O(log n)), then the space after the highest area.
 */
static int alloc_in_window(const struct iopt *iopt, uint64_t win_start, uint64_t win_last,
			   uint64_t len, uint64_t align, uint64_t *iova)
{
	const struct iopt_area *a, *r = iopt->rightmost;
	uint64_t c0, gs;
	int rc;

	if (!align_up(win_start > align ? win_start : align, align, &c0))
		return -ENOSPC;
	if (len - 1 > UINT64_MAX - c0 || c0 + len - 1 > win_last)
		return -ENOSPC;
	/* A gap ending before c0 + len - 1 cannot hold [c, c + len - 1]
	 * for any c >= c0: start from areas at or above c0 + len.  (When
	 * c0 + len wraps, only the space after the highest area is left.) */
	/* The space below the lowest area (not in the tree) comes first. */
	if (iopt->leftmost && iopt->leftmost->iova) {
		rc = fit_in_gap(iopt, c0, iopt->leftmost->iova - 1, win_last, len, align, iova);
		if (rc <= 0)
			return rc;
	}
	a = c0 + len - 1 == UINT64_MAX ? NULL : first_fit(iopt, c0 + len, len);
	for (; a; a = next_fit(a, len)) {
		gs = a->iova - a->gap;
		rc = fit_in_gap(iopt, gs > c0 ? gs : c0, a->iova - 1, win_last, len, align, iova);
		if (rc <= 0)
			return rc;
	}
	if (r && r->last == UINT64_MAX)
		return -ENOSPC;
	gs = r ? r->last + 1 : 0;
	rc = fit_in_gap(iopt, gs > c0 ? gs : c0, UINT64_MAX, win_last, len, align, iova);
	return rc <= 0 ? rc : -ENOSPC;
}

int iopt_alloc_iova(const struct iopt *iopt, uint64_t len, uint64_t phys, uint64_t *iova)
{
	uint64_t align;

	if (!len || (len & (iopt->iova_alignment - 1)))
		return -EINVAL;

	/* min(roundup_pow2(len), 1 GiB), computed without overflow. */
	if (len >= IOPT_MAX_AUTO_ALIGN)
		align = IOPT_MAX_AUTO_ALIGN;
	else
		align = 1ull << (64 - __builtin_clzll(len - 1));
	if (phys) {
		uint64_t pa = 1ull << __builtin_ctzll(phys);

		if (pa < align)
			align = pa;
	}
	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;

	/* The lowest candidate is @align itself (never 0): if even that
	 * wraps, no address space is large enough. */
	if (len - 1 > UINT64_MAX - align)
		return -EOVERFLOW;

	if (!iopt->nr_allowed)
		return alloc_in_window(iopt, 0, UINT64_MAX, len, align, iova);
	for (uint32_t i = 0; i < iopt->nr_allowed; i++) {
		const struct iopt_range *w = &iopt->allowed[i];

		if (w->last < align)
			continue;
		if (alloc_in_window(iopt, w->start, w->last, len, align, iova) == 0)
			return 0;
	}
	return -ENOSPC;
}

/* ------------------------------------------------------------------ */
/* The checker                                                         */

/*
 * iopt_check: everything above as invariants, on an IOVA space read from a
 * state file, following no pointer it has not checked first.  Linear in
 * the number of areas (plus a binary search of the reserved ranges per
 * area): each record is checked to be a record slot of a live 4 KiB block
 * before it is read; the tree is walked with its depth bounded by what a
 * red-black tree of 2^64 nodes can have, so a chain or a cycle of links
 * stops the walk instead of the stack; each record is noted in a map of
 * its block (a record reached twice is a cycle or a shared node).
 */
#define IOPT_CHECK_DEPTH 130 /* > 2 log2(2^64): deeper is not a red-black tree */

_Static_assert(offsetof(struct iopt_area, node) == 0, "a record starts with its node");
_Static_assert(IOPT_BLK_RECS <= 64, "a block's records fit one word of marks");

struct ick {
	const struct iopt *iopt;
	const struct iopt_check_ops *ops;
	unsigned int errors;
	bool stop;		       /* the tree cannot be walked further */
	struct phash blks;	       /* block -> records seen (bit per record) */
	const struct iopt_area *prev;  /* in-order predecessor so far */
	uint64_t count, bytes;
	bool seen_hint_gap, seen_hint_area, seen_leftmost, seen_rightmost;
	const struct iopt_area *hint_area_succ; /* the node visited after hint_area */
	bool after_hint_area;
};

static void ick_report(struct ick *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ick_report(struct ick *c, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->errors++;
	if (c->ops && c->ops->report)
		c->ops->report(c->ops->arg, buf);
}

/* Index of record @a in block @b, or -1 when @a is not one of its slots. */
static int blk_rec_index(const struct iopt_blk *b, const void *a)
{
	uintptr_t first = (uintptr_t)b->rec, p = (uintptr_t)a;

	if (p < first || (p - first) % sizeof(struct iopt_area) ||
	    (p - first) / sizeof(struct iopt_area) >= IOPT_BLK_RECS)
		return -1;
	return (int)((p - first) / sizeof(struct iopt_area));
}

/* Is @p an area record in a live block (its own, as its blk says)? */
static const struct iopt_area *ick_rec(struct ick *c, const void *p, const char *what)
{
	const struct iopt_area *a = p;

	if (((uintptr_t)a & (_Alignof(struct iopt_area) - 1)) || !uenv_in_arena(a, sizeof(*a))) {
		ick_report(c, "%s %p is not arena memory", what, p);
		return NULL;
	}
	if (!uenv_is_meta(a->blk, IOPT_BLK_BYTES) || blk_rec_index(a->blk, a) < 0) {
		ick_report(c, "%s %p is not an area record (block %p)", what, p, (void *)a->blk);
		return NULL;
	}
	return a;
}

/* Note record @a (checked by ick_rec) as used; false if it was already. */
static bool ick_note(struct ick *c, const struct iopt_area *a, const char *what)
{
	uint64_t *bits = phash_get(&c->blks, (uint64_t)(uintptr_t)a->blk, true, NULL);
	uint64_t bit = 1ull << blk_rec_index(a->blk, a);

	if (!bits) {
		ick_report(c, "out of memory");
		c->stop = true;
		return false;
	}
	if (*bits & bit) {
		ick_report(c, "%s %p [0x%llx-0x%llx] reached twice (a cycle or a shared record)",
			   what, (const void *)a, (unsigned long long)a->iova,
			   (unsigned long long)a->last);
		return false;
	}
	*bits |= bit;
	return true;
}

static void ick_visit(struct ick *c, const struct iopt_area *a)
{
	const struct iopt *iopt = c->iopt;
	uint64_t want_gap;

	if (a->iova > a->last)
		ick_report(c, "area at %p: first 0x%llx after last 0x%llx", (const void *)a,
			   (unsigned long long)a->iova, (unsigned long long)a->last);
	else if ((a->iova | (a->last + 1)) & (iopt->iova_alignment - 1))
		ick_report(c, "area [0x%llx-0x%llx]: not aligned to 0x%llx",
			   (unsigned long long)a->iova, (unsigned long long)a->last,
			   (unsigned long long)iopt->iova_alignment);
	if (a->prot & ~(IOPT_READ | IOPT_WRITE) || a->node.aux & ~AREA_FRESH)
		ick_report(c, "area [0x%llx-0x%llx]: protection 0x%x, flags 0x%x",
			   (unsigned long long)a->iova, (unsigned long long)a->last, a->prot,
			   a->node.aux);
	if (c->prev && c->prev->last >= a->iova)
		ick_report(c, "area [0x%llx-0x%llx] overlaps or is out of order after [0x%llx-0x%llx]",
			   (unsigned long long)a->iova, (unsigned long long)a->last,
			   (unsigned long long)c->prev->iova, (unsigned long long)c->prev->last);
	want_gap = c->prev ? a->iova - c->prev->last - 1 : 0;
	if (a->gap != want_gap)
		ick_report(c, "area [0x%llx-0x%llx]: gap 0x%llx recorded, 0x%llx before it",
			   (unsigned long long)a->iova, (unsigned long long)a->last,
			   (unsigned long long)a->gap, (unsigned long long)want_gap);
	if (iopt->nr_resv && a->iova <= a->last && resv_first_hit(iopt, a->iova, a->last) >= 0)
		ick_report(c, "area [0x%llx-0x%llx] lies in a reserved range",
			   (unsigned long long)a->iova, (unsigned long long)a->last);
	if (!c->prev) {
		c->seen_leftmost = a == iopt->leftmost;
		if (!c->seen_leftmost)
			ick_report(c, "the lowest area is not the one recorded as lowest");
	}
	if (c->after_hint_area) {
		c->hint_area_succ = a;
		c->after_hint_area = false;
	}
	if (a == iopt->hint_gap)
		c->seen_hint_gap = true;
	if (a == iopt->hint_area) {
		c->seen_hint_area = true;
		c->after_hint_area = true;
	}
	c->count++;
	c->bytes += a->last - a->iova + 1;
	c->prev = a;
}

/* Walk the subtree at @n (a child of @parent): links, colours, order, gaps.
 * Returns its black height, or -1 (reported). *max_gap: its largest gap. */
static int ick_walk(struct ick *c, const struct rb_node *n, const struct rb_node *parent,
		    unsigned int depth, uint64_t *max_gap)
{
	const struct iopt_area *a;
	uint64_t lg = 0, rg = 0, m;
	int lh, rh;

	*max_gap = 0;
	if (!n)
		return 1;
	if (c->stop)
		return -1;
	if (depth > IOPT_CHECK_DEPTH) {
		ick_report(c, "tree deeper than %u: not balanced (or a cycle)", IOPT_CHECK_DEPTH);
		c->stop = true;
		return -1;
	}
	a = ick_rec(c, n, "tree node");
	if (!a) {
		c->stop = true;
		return -1;
	}
	if (n->parent != parent) {
		ick_report(c, "area [0x%llx-0x%llx]: parent link %p, reached from %p",
			   (unsigned long long)a->iova, (unsigned long long)a->last,
			   (void *)n->parent, (const void *)parent);
		c->stop = true;
		return -1;
	}
	if (n->left && n->left == n->right) {
		ick_report(c, "area [0x%llx-0x%llx]: both children the same node",
			   (unsigned long long)a->iova, (unsigned long long)a->last);
		c->stop = true;
		return -1;
	}
	if (!ick_note(c, a, "tree node")) {
		c->stop = true;
		return -1;
	}
	if (n->red > 1)
		ick_report(c, "area [0x%llx-0x%llx]: colour %u", (unsigned long long)a->iova,
			   (unsigned long long)a->last, n->red);
	lh = ick_walk(c, n->left, n, depth + 1, &lg);
	if (c->stop)
		return -1;
	ick_visit(c, a);
	rh = ick_walk(c, n->right, n, depth + 1, &rg);
	if (c->stop)
		return -1;
	if (n->red && ((n->left && n->left->red) || (n->right && n->right->red)))
		ick_report(c, "area [0x%llx-0x%llx]: red node with a red child",
			   (unsigned long long)a->iova, (unsigned long long)a->last);
	if (lh >= 0 && rh >= 0 && lh != rh)
		ick_report(c, "area [0x%llx-0x%llx]: black heights %d and %d below it",
			   (unsigned long long)a->iova, (unsigned long long)a->last, lh, rh);
	m = a->gap;
	if (lg > m)
		m = lg;
	if (rg > m)
		m = rg;
	if (a->max_gap != m)
		ick_report(c, "area [0x%llx-0x%llx]: largest gap below 0x%llx recorded, 0x%llx found",
			   (unsigned long long)a->iova, (unsigned long long)a->last,
			   (unsigned long long)a->max_gap, (unsigned long long)m);
	*max_gap = m;
	if (lh < 0 || rh < 0)
		return -1;
	return lh + (n->red ? 0 : 1);
}

/* The ranges: sorted, in the arena, max_last right, the free window true. */
static void ick_ranges(struct ick *c)
{
	const struct iopt *iopt = c->iopt;
	uint64_t m = 0;

	if (iopt->nr_resv > iopt->cap_resv || (iopt->cap_resv && !uenv_is_meta(iopt->resv, (size_t)iopt->cap_resv * sizeof(*iopt->resv))) ||
	    (!iopt->cap_resv && iopt->resv)) {
		ick_report(c, "reserved ranges: %u of %u at %p not in the arena", iopt->nr_resv,
			   iopt->cap_resv, (void *)iopt->resv);
		c->stop = true;
		return;
	}
	for (uint32_t i = 0; i < iopt->nr_resv; i++) {
		const struct iopt_resv *r = &iopt->resv[i];

		if (r->start > r->last || (i && r->start < r[-1].start))
			ick_report(c, "reserved range %u [0x%llx-0x%llx] out of order", i,
				   (unsigned long long)r->start, (unsigned long long)r->last);
		if (r->last > m)
			m = r->last;
		if (r->max_last != m) {
			ick_report(c, "reserved range %u: running end 0x%llx, want 0x%llx", i,
				   (unsigned long long)r->max_last, (unsigned long long)m);
			m = r->max_last; /* report each wrong entry once */
		}
	}
	if (iopt->resv_win_lo <= iopt->resv_win_hi &&
	    resv_first_hit(iopt, iopt->resv_win_lo, iopt->resv_win_hi) >= 0)
		ick_report(c, "window [0x%llx-0x%llx] said to be free of reserved ranges is not",
			   (unsigned long long)iopt->resv_win_lo,
			   (unsigned long long)iopt->resv_win_hi);
	if ((iopt->nr_allowed && !uenv_is_meta(iopt->allowed, (size_t)iopt->nr_allowed * sizeof(*iopt->allowed))) ||
	    (!iopt->nr_allowed && iopt->allowed)) {
		ick_report(c, "allowed ranges: %u at %p not in the arena", iopt->nr_allowed,
			   (void *)iopt->allowed);
		c->stop = true;
		return;
	}
	for (uint32_t i = 0; i < iopt->nr_allowed; i++) {
		const struct iopt_range *r = &iopt->allowed[i];

		if (r->start > r->last || (i && (r[-1].last == UINT64_MAX || r->start <= r[-1].last + 1)))
			ick_report(c, "allowed range %u [0x%llx-0x%llx] out of order or not merged", i,
				   (unsigned long long)r->start, (unsigned long long)r->last);
		else if (iopt->nr_resv && resv_first_hit(iopt, r->start, r->last) >= 0)
			ick_report(c, "allowed range %u [0x%llx-0x%llx] intersects a reserved range",
				   i, (unsigned long long)r->start, (unsigned long long)r->last);
	}
}

/* A block's own free list: records of the block, not in use, bounded. */
static uint32_t ick_blk_free(struct ick *c, const struct iopt_blk *b, uint64_t used_bits)
{
	uint32_t n = 0;

	for (const struct iopt_area *a = b->free; a; a = to_area(a->node.parent)) {
		int i = blk_rec_index(b, a);

		if (i < 0 || n >= IOPT_BLK_RECS || (used_bits & (1ull << i))) {
			ick_report(c, "record block %p: free list broken at %p", (const void *)b,
				   (const void *)a);
			return UINT32_MAX;
		}
		used_bits |= 1ull << i;
		n++;
	}
	return n;
}

unsigned int iopt_check(const struct iopt *iopt, const struct iopt_check_ops *ops)
{
	struct ick c = {.iopt = iopt, .ops = ops};
	uint64_t max_gap, nspare = 0, i, k, *v;
	const struct iopt_blk *b, *prevb;
	uint32_t nblocks = 0;

	if (!is_pow2(iopt->iova_alignment) || iopt->iova_alignment < IOPT_MIN_ALIGN) {
		ick_report(&c, "alignment 0x%llx", (unsigned long long)iopt->iova_alignment);
		return c.errors; /* nothing below can be judged */
	}
	ick_ranges(&c);
	if (c.stop)
		goto out;
	/* The tree. */
	if (ick_walk(&c, iopt->areas.node, NULL, 0, &max_gap) >= 0 && iopt->areas.node &&
	    iopt->areas.node->red)
		ick_report(&c, "the root is red");
	if (c.stop)
		goto out;
	if (c.count != iopt->nr_areas || c.bytes != iopt->mapped_bytes)
		ick_report(&c, "%llu areas of 0x%llx bytes recorded, %llu of 0x%llx found",
			   (unsigned long long)iopt->nr_areas, (unsigned long long)iopt->mapped_bytes,
			   (unsigned long long)c.count, (unsigned long long)c.bytes);
	if (!c.count && iopt->leftmost)
		ick_report(&c, "no areas, but a lowest one recorded");
	if (c.prev != iopt->rightmost)
		ick_report(&c, "the highest area is not the one recorded as highest");
	if (iopt->hint_gap && !c.seen_hint_gap)
		ick_report(&c, "insert hint %p is not an area of the tree", (void *)iopt->hint_gap);
	if (iopt->hint_area && !c.seen_hint_area)
		ick_report(&c, "last insert %p is not an area of the tree", (void *)iopt->hint_area);
	else if (iopt->hint_area && c.hint_area_succ != iopt->hint_gap)
		ick_report(&c, "insert hint is not the successor of the last insert");
	/* Spare records: bounded, records not in the tree. */
	for (const struct iopt_area *a = iopt->spare; a; a = to_area(a->node.parent)) {
		if (++nspare > IOPT_SPARE_MAX || !ick_rec(&c, a, "spare record") ||
		    !ick_note(&c, a, "spare record")) {
			ick_report(&c, "spare list broken after %llu records",
				   (unsigned long long)nspare - 1);
			goto out;
		}
	}
	if (nspare != iopt->nr_spare)
		ick_report(&c, "%u spare records recorded, %llu found", iopt->nr_spare,
			   (unsigned long long)nspare);
	/* Blocks with a free record: doubly linked, each a live block. */
	prevb = NULL;
	for (b = iopt->partial; b; prevb = b, b = b->next) {
		bool found;
		uint64_t *bits;

		if (!uenv_is_meta(b, IOPT_BLK_BYTES) || b->prev != prevb) {
			ick_report(&c, "record block list broken at %p", (const void *)b);
			goto out;
		}
		bits = phash_get(&c.blks, (uint64_t)(uintptr_t)b, true, &found);
		if (!bits)
			goto out;
		if (*bits & (1ull << 63)) {
			ick_report(&c, "record block list loops at %p", (const void *)b);
			goto out;
		}
		if (!found)
			ick_report(&c, "record block %p holds no record in use", (const void *)b);
		*bits |= 1ull << 63; /* listed (bit 63 is no record: IOPT_BLK_RECS < 64) */
		if (!b->free)
			ick_report(&c, "record block %p listed, but full", (const void *)b);
		if (++nblocks > iopt->nr_blocks) {
			ick_report(&c, "more record blocks listed than the %u recorded",
				   iopt->nr_blocks);
			goto out;
		}
	}
	/* Every block reached: its count, its free list, listed iff not full. */
	nblocks = 0;
	for (i = 0; phash_next(&c.blks, &i, &k, &v);) {
		uint64_t recs = *v & ~(1ull << 63);
		uint32_t nfree;

		b = (const struct iopt_blk *)(uintptr_t)k;
		nblocks++;
		if (b->used != (uint32_t)__builtin_popcountll(recs))
			ick_report(&c, "record block %p: %u records in use recorded, %d found",
				   (const void *)b, b->used, __builtin_popcountll(recs));
		nfree = ick_blk_free(&c, b, recs);
		if (nfree != UINT32_MAX && nfree + __builtin_popcountll(recs) != IOPT_BLK_RECS)
			ick_report(&c, "record block %p: %u free and %d used of %u records",
				   (const void *)b, nfree, __builtin_popcountll(recs),
				   (unsigned int)IOPT_BLK_RECS);
		if (b->free && !(*v & (1ull << 63)))
			ick_report(&c, "record block %p has free records but is not listed",
				   (const void *)b);
		if (ops && ops->owned)
			ops->owned(ops->arg, b, IOPT_BLK_BYTES);
	}
	if (nblocks != iopt->nr_blocks)
		ick_report(&c, "%u record blocks recorded, %u found", iopt->nr_blocks, nblocks);
	if (ops && ops->owned) {
		if (iopt->resv)
			ops->owned(ops->arg, iopt->resv, (size_t)iopt->cap_resv * sizeof(*iopt->resv));
		if (iopt->allowed)
			ops->owned(ops->arg, iopt->allowed,
				   (size_t)iopt->nr_allowed * sizeof(*iopt->allowed));
	}
out:
	if (c.blks.oom)
		ick_report(&c, "out of memory");
	phash_free(&c.blks);
	return c.errors;
}
