/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O address spaces: map, unmap, copy, allowed and reserved ranges.
 *
 * Every operation checks in the IOVA engine first (iopt), then changes the
 * HWPTs, then commits, so a failed call leaves the IOAS as it was:
 *   map:   check/alloc IOVA -> insert areas -> fill every HWPT (undo on
 *          failure) -> flush where the hardware caches not-present entries
 *   unmap: check that only whole areas are covered -> unmap them from every
 *          HWPT, gathering ranges -> one invalidation batch + one wait per
 *          unit -> free table pages -> remove areas
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"

#define MAP_FLAGS (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)

/* One physically contiguous piece of a mapping request. */
struct seg {
	uint64_t phys;
	uint64_t len;
	void *va;
};

int uiommu_ioas_alloc(struct uiommu_ctx *ctx, struct uiommu_ioas **out)
{
	struct uiommu_ioas *ioas;

	if (!ctx || !out)
		return -EINVAL;
	ctx_lock(ctx);
	ioas = uenv_zalloc(sizeof(*ioas));
	if (!ioas) {
		ctx_unlock(ctx);
		return -ENOMEM;
	}
	ioas->ctx = ctx;
	iopt_init(&ioas->iopt);
	list_init(&ioas->hwpts);
	uobj_publish(ctx, &ioas->obj, UOBJ_IOAS);
	*out = ioas;
	ctx_unlock(ctx);
	return 0;
}

int uiommu_ioas_destroy(struct uiommu_ioas *ioas)
{
	struct uiommu_ctx *ctx;
	struct list_node *pos, *tmp;

	if (!ioas)
		return -EINVAL;
	ctx = ioas->ctx;
	ctx_lock(ctx);
	/* Busy while any of its HWPTs is in use, and while a HWPT the caller
	 * allocated exists (it is the caller's to destroy, as in iommufd);
	 * unused automatic ones die with it. */
	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		if (!h->auto_created || h->users || h->nr_inst || h->children || h->viommus) {
			ctx_unlock(ctx);
			return -EBUSY;
		}
	}
	list_for_each_safe(pos, tmp, &ioas->hwpts)
		hwpt_paging_release(list_entry(pos, struct uiommu_hwpt, ioas_link));
	iopt_destroy(&ioas->iopt);
	uobj_unpublish(ctx, &ioas->obj);
	uenv_free(ioas);
	ctx_unlock(ctx);
	return 0;
}

uint32_t uiommu_ioas_id(const struct uiommu_ioas *ioas)
{
	return ioas ? ioas->obj.id : 0;
}

struct uiommu_ioas *uiommu_ioas_get(struct uiommu_ctx *ctx, uint32_t id)
{
	return uobj_lookup(ctx, id, UOBJ_IOAS);
}

struct uiommu_ioas *uiommu_ioas_next(struct uiommu_ctx *ctx, struct uiommu_ioas *prev)
{
	return uobj_next(ctx, UOBJ_IOAS, prev);
}

/* Unmap the areas from @first up to @last from every HWPT and flush; used
 * by unmap of several areas.  Returns the first flush error. */
static int hwpts_unmap(struct uiommu_ioas *ioas, struct iopt_area *first, uint64_t last)
{
	struct list_node *pos;
	int rc = 0;

	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		struct pgt_gather g = {0};

		for (struct iopt_area *a = first; a; a = iopt_next(a, last))
			pgt_unmap(h->pgt, a->iova, a->last - a->iova + 1, &g);
		int r = hwpt_flush_gather(h, &g);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

/* The area after @a of a run of @n inserted areas (@k: index of @a), or NULL
 * after the last: no rb_next climb past the end of the run. */
static inline struct iopt_area *run_next(struct iopt_area *a, uint32_t k, uint32_t n, uint64_t last)
{
	return k + 1 < n ? iopt_next(a, last) : NULL;
}

/* Map the @n inserted areas [first .. last IOVA] into every HWPT. */
static int hwpts_map(struct uiommu_ioas *ioas, struct iopt_area *first, uint32_t n, uint64_t last)
{
	struct list_node *pos;
	int rc = 0;

	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		struct pgt_gather g = {0};
		struct iopt_area *a;
		uint32_t k = 0;

		for (a = first; a; a = run_next(a, k++, n, last)) {
			rc = pgt_map(h->pgt, a->iova, a->phys, a->last - a->iova + 1,
				     hwpt_area_prot(a), &g);
			if (rc)
				break;
		}
		if (rc) {
			/* Undo this HWPT's part, then the HWPTs before it. */
			struct pgt_gather ug = {0};
			for (struct iopt_area *b = first; b && b != a; b = iopt_next(b, last))
				pgt_unmap(h->pgt, b->iova, b->last - b->iova + 1, &ug);
			/* A failed map may have made entries briefly visible: flush. */
			(void)hwpt_flush_gather(h, &ug);
			(void)hwpt_flush_gather(h, &g);
			for (struct list_node *p2 = ioas->hwpts.next; p2 != pos; p2 = p2->next) {
				struct uiommu_hwpt *h2 =
					list_entry(p2, struct uiommu_hwpt, ioas_link);
				struct pgt_gather g2 = {0};
				for (struct iopt_area *b = first; b; b = iopt_next(b, last))
					pgt_unmap(h2->pgt, b->iova, b->last - b->iova + 1, &g2);
				(void)hwpt_flush_gather(h2, &g2);
			}
			return rc;
		}
		/* Not-present -> present needs a flush only where the unit caches
		 * not-present entries (VT-d caching mode). */
		if (h->flush_on_map)
			(void)hwpt_flush_gather(h, &g);
		else if (pgt_gather_has_pages(&g))
			pgt_gather_release(h->pgt, &g);
	}
	return 0;
}

static int check_flags(uint32_t flags)
{
	if (flags & ~MAP_FLAGS)
		return -EOPNOTSUPP; /* unknown flags, as iommufd */
	if (!(flags & (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE)))
		return -EINVAL;
	return 0;
}

/* One range at a fixed IOVA (lengths and alignment checked): check and
 * insert in one tree descent, fill the HWPTs, undo the insert on failure.
 * Same errors and allocations as check + insert + fill. */
static inline int map_fixed_one(struct uiommu_ioas *ioas, uint64_t iova, uint64_t phys, void *va,
				uint64_t len, uint32_t prot)
{
	struct iopt_area *a;
	int rc = iopt_insert_checked(&ioas->iopt, iova, len, phys, va, prot, &a);

	if (rc)
		return rc;
	rc = hwpts_map(ioas, a, 1, a->last);
	if (rc)
		iopt_remove(&ioas->iopt, a);
	return rc;
}

/* Map the segments at one IOVA range: the core of map, map_va and copy.
 * Called with the context lock held. */
static int map_segments(struct uiommu_ioas *ioas, uint64_t *iova, const struct seg *s, uint32_t n,
			uint64_t len, uint32_t flags)
{
	struct iopt *iopt = &ioas->iopt;
	uint32_t prot = flags & (IOPT_READ | IOPT_WRITE);
	struct iopt_area *first = NULL;
	uint64_t at;
	uint32_t i;
	int rc;

	if (!len)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((s[i].phys | s[i].len) & (iopt->iova_alignment - 1))
			return -EINVAL;
	if (n == 1 && (flags & UIOMMU_MAP_FIXED_IOVA))
		return map_fixed_one(ioas, *iova, s[0].phys, s[0].va, len, prot);
	if (flags & UIOMMU_MAP_FIXED_IOVA)
		rc = iopt_check_map(iopt, *iova, len);
	else
		rc = iopt_alloc_iova(iopt, len, s[0].phys, iova);
	if (rc)
		return rc;
	at = *iova;
	for (i = 0; i < n; i++) {
		struct iopt_area *a;
		rc = iopt_insert(iopt, at, s[i].len, s[i].phys, s[i].va, prot, &a);
		if (rc)
			goto err_remove;
		if (!first)
			first = a;
		at += s[i].len;
	}
	rc = hwpts_map(ioas, first, n, *iova + len - 1);
	if (rc)
		goto err_remove;
	return 0;

err_remove:
	/* The range was free before: every area in [*iova, at) is ours. */
	if (at > *iova) {
		struct iopt_area *a, *next;
		for (a = iopt_first(iopt, *iova, at - 1); a; a = next) {
			next = iopt_next(a, at - 1);
			iopt_remove(iopt, a);
		}
	}
	return rc;
}

int uiommu_ioas_map(struct uiommu_ioas *ioas, uint64_t *iova, uint64_t phys, uint64_t len,
		    uint32_t flags)
{
	struct seg s = {.phys = phys, .len = len};
	int rc;

	if (!ioas || !iova)
		return -EINVAL;
	rc = check_flags(flags);
	if (rc)
		return rc;
	if (len && phys + (len - 1) < phys)
		return -EOVERFLOW;
	ctx_lock(ioas->ctx);
	if (__builtin_expect(len > CTX_TXN_AUTO_BYTES, 0)) {
		/* Many pages: all or nothing under kill -9 too. */
		bool txn = ctx_txn_auto_begin(ioas->ctx);

		rc = map_segments(ioas, iova, &s, 1, len, flags);
		ctx_txn_auto_end(ioas->ctx, txn);
	} else if ((flags & UIOMMU_MAP_FIXED_IOVA) && len &&
		   !((phys | len) & (ioas->iopt.iova_alignment - 1))) {
		/* The common case without the segment checks map_segments would
		 * make first (they pass: len and alignment just checked). */
		rc = map_fixed_one(ioas, *iova, phys, NULL, len, flags & (IOPT_READ | IOPT_WRITE));
	} else {
		rc = map_segments(ioas, iova, &s, 1, len, flags);
	}
	ctx_unlock(ioas->ctx);
	return rc;
}

int uiommu_ioas_map_va(struct uiommu_ioas *ioas, uint64_t *iova, void *va, uint64_t len,
		       uint32_t flags)
{
	struct seg *segs = NULL;
	uint32_t n = 0, cap = 0;
	uint64_t off = 0;
	int rc;

	if (!ioas || !iova || !va)
		return -EINVAL;
	rc = check_flags(flags);
	if (rc)
		return rc;
	if (!len)
		return -EINVAL;
	if ((uintptr_t)va + (len - 1) < (uintptr_t)va)
		return -EOVERFLOW;
	ctx_lock(ioas->ctx);
	/* Split into IOVA-contiguous runs. */
	while (off < len) {
		uint64_t contig = 0;
		uint64_t pa = uenv_mem_virt2iova((uint8_t *)va + off, &contig);
		if (pa == UINT64_MAX || !contig) {
			rc = -EFAULT;
			goto out;
		}
		if (contig > len - off)
			contig = len - off;
		if (n && segs[n - 1].phys + segs[n - 1].len == pa) {
			segs[n - 1].len += contig;
		} else {
			if (n == cap) {
				uint32_t ncap = cap ? cap * 2 : 8;
				struct seg *ns = uenv_zalloc(sizeof(*ns) * ncap);
				if (!ns) {
					rc = -ENOMEM;
					goto out;
				}
				if (n)
					memcpy(ns, segs, sizeof(*ns) * n);
				uenv_free(segs);
				segs = ns;
				cap = ncap;
			}
			segs[n++] =
				(struct seg){.phys = pa, .len = contig, .va = (uint8_t *)va + off};
		}
		off += contig;
	}
	{
		bool txn = len > CTX_TXN_AUTO_BYTES && ctx_txn_auto_begin(ioas->ctx);

		rc = map_segments(ioas, iova, segs, n, len, flags);
		ctx_txn_auto_end(ioas->ctx, txn);
	}
out:
	uenv_free(segs);
	ctx_unlock(ioas->ctx);
	return rc;
}

/* Unfill [iova, iova + len - 1], one whole area already taken out of the
 * tree, from every HWPT and flush.  Inline: one function on the unmap path
 * (a gather that stays in this frame, no walk of the area list). */
static inline __attribute__((always_inline)) int hwpts_unmap_one(struct uiommu_ioas *ioas,
								 uint64_t iova, uint64_t len)
{
	struct list_node *pos;
	int rc = 0;

	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		struct pgt_gather g = {0};

		pgt_unmap(h->pgt, iova, len, &g);
		int r = hwpt_flush_gather(h, &g);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

static void log_unmap_flush_failed(const struct uiommu_ioas *ioas, int rc)
{
	UENV_LOG(CORE, ERR,
		 "IOAS %u: invalidation after unmap failed (%d); "
		 "tables are cleared, hardware was reset by its driver",
		 ioas->obj.id, rc);
}

/* [start, last] holds several areas (or starts in a hole): check that it
 * cuts none, then unfill and remove them all. */
static __attribute__((noinline)) int unmap_several(struct uiommu_ioas *ioas, uint64_t start,
						   uint64_t last, uint64_t *unmapped)
{
	struct iopt *iopt = &ioas->iopt;
	struct iopt_area *first, *a, *next;
	uint64_t bytes = 0, count = 0;
	int rc = iopt_check_unmap(iopt, start, last, &bytes, &count);

	if (rc)
		return rc;
	first = iopt_first(iopt, start, last);
	rc = hwpts_unmap(ioas, first, last);
	if (rc)
		log_unmap_flush_failed(ioas, rc);
	for (a = first; a; a = next) {
		next = iopt_next(a, last);
		iopt_remove(iopt, a);
	}
	if (unmapped)
		*unmapped = bytes;
	return rc;
}

/* Inline: uiommu_ioas_unmap is one function on the unmap path. */
static inline __attribute__((always_inline)) int
unmap_range(struct uiommu_ioas *ioas, uint64_t start, uint64_t last, uint64_t *unmapped)
{
	/* The common case, exactly one whole area: found and taken out of the
	 * tree in one call (the tree and the tables are changed under the
	 * lock).  A process killed before the table is cleared leaves a PTE
	 * without an area, which the next holder's check finds; killed after
	 * it, before the flush completes, a state that checks clean while the
	 * unit may cache the page: the next holder invalidates every unit's
	 * caches after a holder's death (ctx.c, ctx_recover_units). */
	int rc = iopt_take_exact(&ioas->iopt, start, last);

	if (rc < 0)
		return rc;
	if (__builtin_expect(rc != 0, 0))
		return unmap_several(ioas, start, last, unmapped);
	rc = hwpts_unmap_one(ioas, start, last - start + 1);
	if (__builtin_expect(rc != 0, 0))
		log_unmap_flush_failed(ioas, rc);
	if (unmapped)
		*unmapped = last - start + 1;
	return rc;
}

/* unmap_range out of line, for the paths that are not the hot one. */
static __attribute__((noinline)) int
unmap_range_slow(struct uiommu_ioas *ioas, uint64_t start, uint64_t last, uint64_t *unmapped)
{
	return unmap_range(ioas, start, last, unmapped);
}

/* More than CTX_TXN_AUTO_BYTES at once: all or nothing under kill -9 too.
 * (0, UINT64_MAX) is "everything", as in iommufd: when [0, 2^64 - 2]
 * fails (it missed an area in the last page, or there was nothing; a
 * failure removed nothing), the whole space is unmapped. */
static __attribute__((noinline)) int
ioas_unmap_big(struct uiommu_ioas *ioas, uint64_t iova, uint64_t len, uint64_t *unmapped)
{
	int rc;

	ctx_lock(ioas->ctx);
	bool txn = ctx_txn_auto_begin(ioas->ctx);
	rc = unmap_range_slow(ioas, iova, iova + (len - 1), unmapped);
	if (rc && (rc == -ENOENT || rc == -EINVAL) && iova == 0 && len == UINT64_MAX) {
		rc = unmap_range_slow(ioas, 0, UINT64_MAX, unmapped);
		if (rc == -ENOENT)
			rc = 0; /* empty: unmapping everything succeeds */
	}
	ctx_txn_auto_end(ioas->ctx, txn);
	ctx_unlock(ioas->ctx);
	return rc;
}

int uiommu_ioas_unmap(struct uiommu_ioas *ioas, uint64_t iova, uint64_t len, uint64_t *unmapped)
{
	int rc;

	if (unmapped)
		*unmapped = 0;
	if (!ioas || !len)
		return -EINVAL;
	if (iova + (len - 1) < iova)
		return -EOVERFLOW;
	if (__builtin_expect(len > CTX_TXN_AUTO_BYTES, 0))
		return ioas_unmap_big(ioas, iova, len, unmapped);
	ctx_lock(ioas->ctx);
	rc = unmap_range(ioas, iova, iova + (len - 1), unmapped);
	ctx_unlock(ioas->ctx);
	return rc;
}

int uiommu_ioas_unmap_all(struct uiommu_ioas *ioas, uint64_t *unmapped)
{
	int rc;

	if (unmapped)
		*unmapped = 0;
	if (!ioas)
		return -EINVAL;
	ctx_lock(ioas->ctx);
	bool txn = ctx_txn_auto_begin(ioas->ctx);
	rc = unmap_range_slow(ioas, 0, UINT64_MAX, unmapped);
	ctx_txn_auto_end(ioas->ctx, txn);
	ctx_unlock(ioas->ctx);
	return rc == -ENOENT ? 0 : rc;
}

int uiommu_ioas_copy(struct uiommu_ioas *dst, uint64_t *dst_iova, struct uiommu_ioas *src,
		     uint64_t src_iova, uint64_t len, uint32_t flags)
{
	struct seg *segs = NULL;
	uint32_t n = 0;
	uint64_t last;
	int rc;

	if (!dst || !src || !dst_iova || dst->ctx != src->ctx)
		return -EINVAL;
	rc = check_flags(flags);
	if (rc)
		return rc;
	if (!len)
		return -EINVAL;
	if (src_iova + (len - 1) < src_iova)
		return -EOVERFLOW;
	last = src_iova + (len - 1);
	ctx_lock(dst->ctx);
	rc = iopt_check_contig(&src->iopt, src_iova, last);
	if (rc)
		goto out;
	for (struct iopt_area *a = iopt_first(&src->iopt, src_iova, last); a;
	     a = iopt_next(a, last))
		n++;
	segs = uenv_zalloc(sizeof(*segs) * n);
	if (!segs) {
		rc = -ENOMEM;
		goto out;
	}
	n = 0;
	for (struct iopt_area *a = iopt_first(&src->iopt, src_iova, last); a;
	     a = iopt_next(a, last)) {
		uint64_t s = a->iova < src_iova ? src_iova : a->iova;
		uint64_t e = a->last > last ? last : a->last;
		if ((flags & UIOMMU_MAP_WRITE) && !(a->prot & IOPT_WRITE)) {
			rc = -EPERM;
			goto out;
		}
		if ((flags & UIOMMU_MAP_READ) && !(a->prot & IOPT_READ)) {
			rc = -EPERM;
			goto out;
		}
		segs[n].phys = a->phys + (s - a->iova);
		segs[n].len = e - s + 1;
		segs[n].va = a->va ? (uint8_t *)a->va + (s - a->iova) : NULL;
		n++;
	}
	rc = map_segments(dst, dst_iova, segs, n, len, flags);
out:
	uenv_free(segs);
	ctx_unlock(dst->ctx);
	return rc;
}

int uiommu_ioas_allow_iovas(struct uiommu_ioas *ioas, const struct uiommu_iova_range *ranges,
			    uint32_t n)
{
	int rc;

	if (!ioas || (n && !ranges))
		return -EINVAL;
	ctx_lock(ioas->ctx);
	rc = iopt_set_allowed(&ioas->iopt, (const struct iopt_range *)ranges, n);
	ctx_unlock(ioas->ctx);
	return rc;
}
_Static_assert(sizeof(struct uiommu_iova_range) == sizeof(struct iopt_range), "same layout");

uint32_t uiommu_ioas_iova_ranges(const struct uiommu_ioas *ioas, struct uiommu_iova_range *out,
				 uint32_t max, uint64_t *alignment)
{
	uint32_t n;

	if (!ioas)
		return 0;
	ctx_lock(ioas->ctx);
	n = iopt_usable_ranges(&ioas->iopt, (struct iopt_range *)out, out ? max : 0);
	if (alignment)
		*alignment = ioas->iopt.iova_alignment;
	ctx_unlock(ioas->ctx);
	return n;
}

int uiommu_ioas_reserve(struct uiommu_ioas *ioas, uint64_t start, uint64_t last)
{
	int rc;

	if (!ioas)
		return -EINVAL;
	ctx_lock(ioas->ctx);
	rc = iopt_reserve(&ioas->iopt, start, last, ioas, UIOMMU_RESV_USER);
	ctx_unlock(ioas->ctx);
	return rc;
}

static void area_info(const struct iopt_area *a, struct uiommu_area_info *o)
{
	o->iova = a->iova;
	o->len = a->last - a->iova + 1;
	o->phys = a->phys;
	o->prot = a->prot;
}

int uiommu_ioas_lookup(const struct uiommu_ioas *ioas, uint64_t iova, struct uiommu_area_info *out)
{
	struct iopt_area *a;

	if (!ioas || !out)
		return -EINVAL;
	ctx_lock(ioas->ctx);
	a = iopt_find(&ioas->iopt, iova);
	if (a)
		area_info(a, out);
	ctx_unlock(ioas->ctx);
	return a ? 0 : -ENOENT;
}

uint32_t uiommu_ioas_areas(const struct uiommu_ioas *ioas, uint64_t from,
			   struct uiommu_area_info *out, uint32_t max)
{
	uint32_t n = 0;

	if (!ioas || !out)
		return 0;
	ctx_lock(ioas->ctx);
	for (struct iopt_area *a = iopt_first(&ioas->iopt, from, UINT64_MAX); a && n < max;
	     a = iopt_next(a, UINT64_MAX))
		area_info(a, &out[n++]);
	ctx_unlock(ioas->ctx);
	return n;
}

void uiommu_ioas_get_stats(const struct uiommu_ioas *ioas, struct uiommu_ioas_stats *st)
{
	struct list_node *pos;

	if (!ioas || !st)
		return;
	memset(st, 0, sizeof(*st));
	ctx_lock(ioas->ctx);
	st->nr_areas = ioas->iopt.nr_areas;
	st->mapped_bytes = ioas->iopt.mapped_bytes;
	st->nr_hwpts = ioas->nr_hwpts;
	list_for_each(pos, &ioas->hwpts) st->nr_attached +=
		list_entry(pos, struct uiommu_hwpt, ioas_link)->users;
	ctx_unlock(ioas->ctx);
	return;
}
