/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IOVA engine behind an IOAS: areas (a red-black tree keyed by IOVA),
 * reserved ranges (a sorted array; owners may overlap) and allowed ranges
 * (a sorted, merged array).  Modelled on Linux iommufd io_pagetable.c
 * without the page tables.
 *
 * Every call that can fail allocates first and commits after, so a failed
 * call (including an injected allocation failure) changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "core/iopt.h"

#define IOPT_MIN_ALIGN	    4096ull
#define IOPT_MAX_AUTO_ALIGN (1ull << 30) /* cap on auto-allocation alignment */
#define IOPT_RESV_MIN_CAP   8u

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

void iopt_init(struct iopt *iopt)
{
	memset(iopt, 0, sizeof(*iopt));
	iopt->areas.node = NULL;
	iopt->iova_alignment = IOPT_MIN_ALIGN;
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
		uenv_free(to_area(n));
		n = p;
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

/* Index of the first reserved range that intersects [start, last], or -1.
 * The array is sorted by start but ranges may nest, so scan every range
 * that starts at or before @last. */
static int64_t resv_first_hit(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	for (uint32_t i = 0; i < iopt->nr_resv && iopt->resv[i].start <= last; i++)
		if (iopt->resv[i].last >= start)
			return i;
	return -1;
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
	return 0;
}

void iopt_unreserve_owner(struct iopt *iopt, const void *owner)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < iopt->nr_resv; i++)
		if (iopt->resv[i].owner != owner)
			iopt->resv[j++] = iopt->resv[i];
	iopt->nr_resv = j;
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
static int check_map_range(const struct iopt *iopt, uint64_t iova, uint64_t len)
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
	if (!a || a->iova < start)
		return -ENOENT;
	for (; a; a = iopt_next(a, last)) {
		b += a->last - a->iova + 1;
		c++;
		prev = a;
	}
	if (prev->last > last)
		return -ENOENT;
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

/* Allocate an area and link it at @link under @parent (from a descent). */
static int insert_at(struct iopt *iopt, struct rb_node *parent, struct rb_node **link,
		     uint64_t iova, uint64_t len, uint64_t phys, void *va, uint32_t prot,
		     struct iopt_area **out)
{
	struct iopt_area *area = uenv_zalloc(sizeof(*area));

	if (!area)
		return -ENOMEM;
	area->iova = iova;
	area->last = iova + len - 1;
	area->phys = phys;
	area->va = va;
	area->prot = prot;
	rb_link_insert(&iopt->areas, &area->node, parent, link);
	iopt->nr_areas++;
	iopt->mapped_bytes += len;
	if (out)
		*out = area;
	return 0;
}

int iopt_insert(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
		uint32_t prot, struct iopt_area **out)
{
	struct rb_node **link = &iopt->areas.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = iova < to_area(parent)->iova ? &parent->left : &parent->right;
	}
	return insert_at(iopt, parent, link, iova, len, phys, va, prot, out);
}

int iopt_insert_checked(struct iopt *iopt, uint64_t iova, uint64_t len, uint64_t phys, void *va,
			uint32_t prot, struct iopt_area **out)
{
	struct rb_node **link = &iopt->areas.node, *parent = NULL;
	const struct iopt_area *pred = NULL, *succ = NULL;
	int rc = check_map_range(iopt, iova, len);

	if (rc)
		return rc;
	/*
	 * One descent to the insertion point.  Areas are disjoint and sorted,
	 * so only its neighbours can intersect [iova, last]: the predecessor
	 * (the last node we went right at: start <= iova) and the successor
	 * (the last node we went left at: start > iova).
	 */
	while (*link) {
		const struct iopt_area *a;

		parent = *link;
		a = to_area(parent);
		if (iova < a->iova) {
			succ = a;
			link = &parent->left;
		} else {
			pred = a;
			link = &parent->right;
		}
	}
	if ((pred && pred->last >= iova) || (succ && succ->iova - iova < len))
		return -EEXIST;
	return insert_at(iopt, parent, link, iova, len, phys, va, prot, out);
}

void iopt_remove(struct iopt *iopt, struct iopt_area *area)
{
	rb_erase(&iopt->areas, &area->node);
	iopt->nr_areas--;
	iopt->mapped_bytes -= area->last - area->iova + 1;
	uenv_free(area);
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

/*
 * Lowest @align-aligned c >= max(win_start, align) with [c, c + len - 1]
 * inside [win_start, win_last] and clear of reserved ranges and areas.
 * Areas are visited in order with rb_next from one O(log n) descent, so
 * the cost is O(log n + areas skipped + resv * candidates tried).
 */
static int alloc_in_window(const struct iopt *iopt, uint64_t win_start, uint64_t win_last,
			   uint64_t len, uint64_t align, uint64_t *iova)
{
	struct iopt_area *cursor;
	uint64_t c, e;
	int64_t r;

	if (!align_up(win_start > align ? win_start : align, align, &c))
		return -ENOSPC;
	cursor = first_ending_at_or_after(iopt, c);
	for (;;) {
		if (len - 1 > UINT64_MAX - c)
			return -ENOSPC;
		e = c + len - 1;
		if (e > win_last)
			return -ENOSPC;

		r = resv_first_hit(iopt, c, e);
		if (r >= 0) {
			/* Skip every reserved range hitting the candidate. */
			uint64_t skip = iopt->resv[r].last;

			for (uint32_t i = (uint32_t)r + 1;
			     i < iopt->nr_resv && iopt->resv[i].start <= e; i++)
				if (iopt->resv[i].last > skip)
					skip = iopt->resv[i].last;
			if (skip == UINT64_MAX || !align_up(skip + 1, align, &c))
				return -ENOSPC;
			if (cursor && cursor->last < c)
				cursor = first_ending_at_or_after(iopt, c);
			continue;
		}
		if (cursor && cursor->iova <= e) {
			/* cursor->last >= c, so it intersects [c, e]. */
			if (cursor->last == UINT64_MAX || !align_up(cursor->last + 1, align, &c))
				return -ENOSPC;
			do
				cursor = to_area(rb_next(&cursor->node));
			while (cursor && cursor->last < c);
			continue;
		}
		*iova = c;
		return 0;
	}
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
