/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-table engine: the format-independent walker.
 *
 * Map and unmap walk a whole range in one recursive descent (depth <= 6),
 * choosing at each entry the largest leaf that alignment and size allow.
 * Entries are built from templates precomputed at pgt_alloc() (see
 * pgt_internal.h), so the inner loops contain no calls and no division.
 *
 * Invariants:
 *  - a non-root table is linked only while it holds at least one present
 *    entry (unmap unlinks a table as soon as it becomes empty);
 *  - with mem->page_count, every table's slot holds its exact number of
 *    present entries (emptiness in O(1)); without it, emptiness is a scan;
 *  - a table created by a map is filled before it is linked, so a failing
 *    map discards it without a walker ever having seen it;
 *  - non-present entries are 0.
 *
 * Caller's lock: one writer per struct pgt (map/unmap/free); iova_to_phys
 * and walk may run concurrently with a writer and see either state of an
 * entry (entries are written with single 64-bit stores).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/phash.h"
#include "pgtable/pgt_hw.h"
#include "pgtable/pgt_internal.h"

int pgt_describe_head(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len,
		      size_t *off)
{
	*off = 0;
	pgt_bufprintf(buf, len, off, "%s L%u[%u] 0x%016llx: ", pgt_format_name(p->cfg.fmt),
		      l->level, l->index, (unsigned long long)l->entry);
	if (!l->present) {
		pgt_bufprintf(buf, len, off, "not present");
		return 0;
	}
	if (l->leaf) {
		uint64_t sz = l->pgsize;

		pgt_bufprintf(buf, len, off, "leaf %llu%c -> 0x%llx",
			      (unsigned long long)(sz >= (1ULL << 30)	? sz >> 30
						   : sz >= (1ULL << 20) ? sz >> 20
									: sz >> 10),
			      sz >= (1ULL << 30)   ? 'G'
			      : sz >= (1ULL << 20) ? 'M'
						   : 'K',
			      (unsigned long long)(l->entry & p->addr_mask & ~(sz - 1)));
	} else {
		pgt_bufprintf(buf, len, off, "table -> 0x%llx",
			      (unsigned long long)(l->entry & p->addr_mask));
	}
	return 1;
}

void pgt_bufprintf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* ---- configuration helpers for the format files ---- */

unsigned int pgt_levels_for_ias(unsigned int ias)
{
	return ias <= PGT_PAGE_SHIFT ? 1 : (ias - PGT_PAGE_SHIFT + PGT_LVL_BITS - 1) / PGT_LVL_BITS;
}

int pgt_resolve_levels(struct pgt *p, unsigned int min_levels, unsigned int max_levels,
		       unsigned int ias_cap)
{
	struct pgt_cfg *cfg = &p->cfg;
	unsigned int lv = cfg->levels;

	if (lv == 0) {
		if (cfg->ias == 0 || cfg->ias > ias_cap)
			return -EINVAL;
		lv = pgt_levels_for_ias(cfg->ias);
		if (lv < min_levels)
			lv = min_levels;
	}
	if (lv < min_levels || lv > max_levels)
		return -EINVAL;
	unsigned int span = pgt_lvl_shift(lv) > 64 ? 64 : pgt_lvl_shift(lv);
	if (cfg->ias == 0)
		cfg->ias = span < ias_cap ? span : ias_cap;
	if (cfg->ias <= PGT_PAGE_SHIFT || cfg->ias > span || cfg->ias > ias_cap)
		return -EINVAL;
	cfg->levels = lv;
	p->levels = lv;
	p->iova_last = cfg->ias >= 64 ? UINT64_MAX : (1ULL << cfg->ias) - 1;
	return 0;
}

int pgt_resolve_pgsizes(struct pgt *p, uint64_t supported)
{
	struct pgt_cfg *cfg = &p->cfg;
	uint64_t want = cfg->pgsize_bitmap ? cfg->pgsize_bitmap : supported;
	uint64_t used = 0;

	p->leaf_lvls = 0;
	for (unsigned int lvl = 0; lvl < p->levels; lvl++) {
		uint64_t sz = 1ULL << pgt_lvl_shift(lvl);

		if ((want & supported & sz) != 0) {
			p->leaf_lvls |= 1u << lvl;
			used |= sz;
		}
	}
	if (!(used & PGT_PAGE_SIZE))
		return -EINVAL;
	cfg->pgsize_bitmap = used;
	return 0;
}

/* ---- table memory ---- */

/*
 * Address translation.  Table memory comes in a few large linear spans
 * (the env arena's 2 MiB chunks): the engine remembers the last
 * PGT_SPAN_SLOTS spans the provider described (mem->span) and translates a
 * table's bus address, or finds its count slot, with a compare and an add.
 * A span stays valid until the provider bumps its generation word, which it
 * does when a span goes away; that can only happen inside a call that
 * frees a page, so the generation is checked at the start of every
 * operation and after each such call.
 */
static inline void pgt_wc_drop(struct pgt *p)
{
	p->wc.tag = UINT64_MAX;
}

static void pgt_span_reset(struct pgt *p)
{
	pgt_wc_drop(p);
	memset(p->span, 0, sizeof(p->span));
	p->span_gen = NULL;
	p->span_gen_val = 0;
	p->span_next = 0;
}

static inline void pgt_span_check(struct pgt *p)
{
	if (p->span_gen && __atomic_load_n(p->span_gen, __ATOMIC_ACQUIRE) != p->span_gen_val)
		pgt_span_reset(p);
}

static const struct pgt_span_slot *pgt_span_fill(struct pgt *p, uint64_t pa)
{
	struct pgt_mem_span ms;
	struct pgt_span_slot *slot;

	if (!pgt_mem(p)->span || pgt_mem(p)->span(pgt_cookie(p), pa, &ms) || pa - ms.pa >= ms.len)
		return NULL;
	if (p->span_gen != ms.gen || p->span_gen_val != ms.gen_val) {
		pgt_span_reset(p);
		p->span_gen = ms.gen;
		p->span_gen_val = ms.gen_val;
	}
	slot = &p->span[p->span_next];
	p->span_next = (p->span_next + 1) % PGT_SPAN_SLOTS;
	*slot = (struct pgt_span_slot){
		.pa = ms.pa,
		.len = ms.len,
		.va = ms.va,
		/* counts only where the engine keeps them */
		.cnt = pgt_mem(p)->page_count ? ms.cnt : NULL,
	};
	return slot;
}

/* Through the op, for the const (read-only) paths. */
static inline uint64_t *pgt_va_op(const struct pgt *p, uint64_t pa)
{
	return pgt_mem(p)->pa_to_va(pgt_cookie(p), pa);
}

static __attribute__((noinline)) uint64_t *pgt_va_miss(struct pgt *p, uint64_t pa)
{
	const struct pgt_span_slot *s = pgt_span_fill(p, pa);

	return s ? (uint64_t *)(void *)(s->va + (pa - s->pa)) : pgt_va_op(p, pa);
}

static inline uint64_t *pgt_va(struct pgt *p, uint64_t pa)
{
	for (unsigned int i = 0; i < PGT_SPAN_SLOTS; i++) {
		const struct pgt_span_slot *s = &p->span[i];

		if (pa - s->pa < s->len) {
			uint64_t *t = (uint64_t *)(void *)(s->va + (pa - s->pa));
#ifdef PGT_DEBUG_COUNTS
			if (t != pgt_va_op(p, pa)) {
				fprintf(stderr, "pgtable: span gives %p for 0x%llx, op %p\n",
					(void *)t, (unsigned long long)pa,
					(void *)pgt_va_op(p, pa));
				abort();
			}
#endif
			return t;
		}
	}
	return pgt_va_miss(p, pa);
}

static inline uint64_t *pgt_child(struct pgt *p, uint64_t e)
{
	return pgt_va(p, e & p->addr_mask);
}

static inline uint64_t *pgt_child_op(const struct pgt *p, uint64_t e)
{
	return pgt_va_op(p, e & p->addr_mask);
}

/* The remembered span holding CPU address @t (*off: @t's offset in it),
 * or NULL. */
static inline const struct pgt_span_slot *pgt_span_of_va(const struct pgt *p, const void *t,
							 uint64_t *off)
{
	for (unsigned int i = 0; i < PGT_SPAN_SLOTS; i++) {
		const struct pgt_span_slot *s = &p->span[i];

		*off = (uint64_t)((uintptr_t)t - (uintptr_t)s->va);
		if (*off < s->len)
			return s;
	}
	return NULL;
}

/* Bus address of table page @t when a remembered span holds it, else
 * UINT64_MAX. */
static inline uint64_t pgt_pa_of(const struct pgt *p, const void *t)
{
	uint64_t off;
	const struct pgt_span_slot *s = pgt_span_of_va(p, t, &off);

	return s ? s->pa + off : UINT64_MAX;
}

/* The table's count of present entries, or NULL (no page_count op). */
static inline uint16_t *pgt_cnt_op(const struct pgt *p, uint64_t *t)
{
	return pgt_mem(p)->page_count ? pgt_mem(p)->page_count(pgt_cookie(p), t) : NULL;
}

static inline uint16_t *pgt_cnt(struct pgt *p, uint64_t *t)
{
	uint64_t off;
	const struct pgt_span_slot *s = pgt_span_of_va(p, t, &off);

	/* s->cnt is NULL for every span when there is no page_count op */
	if (s && s->cnt) {
		uint16_t *c = &s->cnt[off >> PGT_PAGE_SHIFT];
#ifdef PGT_DEBUG_COUNTS
		if (c != pgt_cnt_op(p, t)) {
			fprintf(stderr, "pgtable: span count slot %p for %p, op %p\n", (void *)c,
				(void *)t, (void *)pgt_cnt_op(p, t));
			abort();
		}
#endif
		return c;
	}
	return pgt_cnt_op(p, t);
}

/* Entries of @t became present (d > 0) or not present (d < 0). */
static inline void pgt_cnt_add(struct pgt *p, uint64_t *t, int d)
{
	uint16_t *c = pgt_cnt(p, t);

	if (c) {
#ifdef PGT_DEBUG_COUNTS
		if ((int)*c + d < 0 || (int)*c + d > (int)PGT_ENTRIES) {
			fprintf(stderr, "pgtable: table %p: count %u%+d\n", (void *)t, *c, d);
			abort();
		}
#endif
		*c = (uint16_t)(*c + d);
	}
}

/* A zeroed table page: from the reserve of emptied tables if it has one
 * (*spare: then, for a non-coherent walker, only its first cache line may
 * differ in memory: every other line was written back when its entries
 * were cleared), else from the allocator.  The count slot of a new table is set by whoever
 * fills it: map_level() with fresh, or pgt_alloc() for the root. */
static inline uint64_t *pgt_table_take(struct pgt *p, uint64_t *pa, bool *spare)
{
	uint64_t *t;

	*spare = p->nr_spare != 0;
	if (p->nr_spare) {
		t = pgt_va(p, p->spare_pa);
		*pa = p->spare_pa;
		p->spare_pa = t[0];
		t[0] = 0;
		p->nr_spare--;
	} else {
		t = pgt_mem(p)->alloc_page(pgt_cookie(p), p->cfg.node, pa);
		pgt_span_check(p);
	}
	if (t)
		p->nr_tables++;
	return t;
}

static void pgt_table_free_now(struct pgt *p, uint64_t *t)
{
	pgt_wc_drop(p);
	p->nr_tables--;
	pgt_mem(p)->free_page(pgt_cookie(p), t);
	pgt_span_check(p);
}

/* Give back a page that is all zero. */
static void pgt_page_free_zeroed(struct pgt *p, void *t)
{
	if (pgt_mem(p)->free_zeroed_page)
		pgt_mem(p)->free_zeroed_page(pgt_cookie(p), t);
	else
		pgt_mem(p)->free_page(pgt_cookie(p), t);
	pgt_span_check(p);
}

/* Put an all-zero page (word 0 included) in the reserve of single pages
 * when it has room and the page's bus address is known; else free it. */
static void pgt_spare_put(struct pgt *p, uint64_t *t)
{
	uint64_t pa = p->nr_spare + p->nr_piece_pages < PGT_SPARE_MAX ? pgt_pa_of(p, t)
								      : UINT64_MAX;

	if (pa != UINT64_MAX) {
		t[0] = p->spare_pa;
		p->spare_pa = pa;
		p->nr_spare++;
	} else {
		pgt_page_free_zeroed(p, t);
	}
}

/*
 * Take a piece of @len emptied tables apart (head @t, unmapped at @iova):
 * clear the link in each, then each page goes to the reserve of single
 * pages (@keep, where there is room) or back to the allocator.  A page that
 * goes to the reserve must differ from memory in line 0 at most (see
 * pgt_table_take), so a non-coherent walker's cleared link line is written
 * back.
 */
static void pgt_piece_dissolve(struct pgt *p, uint64_t *t, uint64_t iova, unsigned int len,
			       bool keep)
{
	for (unsigned int lvl = len; lvl-- > 0;) {
		uint64_t *next = NULL;

		if (lvl) {
			unsigned int i = (unsigned int)(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK;

			next = pgt_child(p, t[i]);
			t[i] = 0;
			if (keep && !p->cfg.coherent && i >= 8)
				pgt_clean_entries(p, t, i, i);
		}
		if (keep)
			pgt_spare_put(p, t);
		else
			pgt_page_free_zeroed(p, t);
		t = next;
	}
	if (keep && !p->cfg.coherent) {
		pgt_clean_fence();
		p->nr_fences++;
	}
}

unsigned int pgt_trim(struct pgt *p)
{
	unsigned int n = p->nr_piece_pages;

	pgt_span_check(p);
	while (p->nr_piece) {
		const struct pgt_piece *pc = &p->piece[--p->nr_piece];

		p->nr_piece_pages -= pc->len;
		pgt_piece_dissolve(p, pgt_va(p, pc->pa), pc->iova, pc->len, false);
	}
	while (p->nr_spare) {
		uint64_t *t = pgt_va(p, p->spare_pa);

		p->spare_pa = t[0];
		t[0] = 0;
		p->nr_spare--;
		pgt_page_free_zeroed(p, t);
		n++;
	}
	p->spare_pa = 0;
	return n;
}

unsigned int pgt_nr_spare(const struct pgt *p)
{
	return p->nr_spare + p->nr_piece_pages;
}

/*
 * Chain an unlinked table into the gather, to be freed after invalidation.
 * The link lives in the page's first word: a page-aligned pointer has bits
 * 11:0 clear, which every format reads as a non-present entry, so a walker
 * still holding the old table pointer sees nothing wrong before the
 * invalidation completes; bit 0 of a link marks a page that is NOT all
 * zero.  @empty: every entry is zero (it lost its last entry), so the
 * allocator may hand the page out again without clearing it.  A table freed
 * with its whole subtree keeps its entries until then (a walker that still
 * holds it sees a consistent, if stale, table) and must be cleared before
 * reuse.
 */
#define PGT_CHAIN_DIRTY 1ull

static void pgt_gather_table(struct pgt *p, struct pgt_gather *g, uint64_t *t, bool empty)
{
	pgt_wc_drop(p);
	p->nr_tables--;
	*(uint64_t *)t = (uint64_t)(uintptr_t)g->freed | (empty ? 0 : PGT_CHAIN_DIRTY);
	g->freed = t;
	g->nr_freed++;
	g->tables_freed = true;
}

static void pgt_gather_range(struct pgt_gather *g, uint64_t start, uint64_t end, uint64_t pgsize)
{
	if (g->end <= g->start) {
		g->start = start;
		g->end = end;
	} else {
		if (start < g->start)
			g->start = start;
		if (end > g->end)
			g->end = end;
	}
	if (pgsize && (g->pgsize == 0 || pgsize < g->pgsize))
		g->pgsize = pgsize;
}

void pgt_gather_release(struct pgt *pgt, struct pgt_gather *g)
{
	void *t = g->freed;

	pgt_span_check(pgt);
	if (g->piece) {
		/* Kept whole while there is room: the next 4 KiB map needing as
		 * many tables relinks it (map_one_relink). */
		if (pgt->nr_piece < PGT_PIECE_MAX &&
		    pgt->nr_spare + pgt->nr_piece_pages + g->piece_len <= PGT_SPARE_MAX) {
			pgt->piece[pgt->nr_piece++] = (struct pgt_piece){
				.pa = g->piece_pa, .iova = g->piece_iova, .len = g->piece_len};
			pgt->nr_piece_pages += g->piece_len;
		} else {
			pgt_piece_dissolve(pgt, g->piece, g->piece_iova, g->piece_len, true);
		}
		g->piece = NULL;
		g->piece_len = 0;
	}
	while (t) {
		uint64_t link = *(uint64_t *)t;
		void *next = (void *)(uintptr_t)(link & ~PGT_CHAIN_DIRTY);

		/* An empty table is all zero but for the link: it goes to the
		 * reserve (chained by bus address in the same word), or to an
		 * allocator that knows it need not clear it again.  A dirty one
		 * goes back as it is. */
		if (!(link & PGT_CHAIN_DIRTY)) {
			*(uint64_t *)t = 0;
			pgt_spare_put(pgt, t);
		} else {
			pgt_mem(pgt)->free_page(pgt_cookie(pgt), t);
			pgt_span_check(pgt);
		}
		t = next;
	}
	g->freed = NULL;
	g->nr_freed = 0;
}

/* Free a subtree that no walker can reach (never linked, or pgt_free). */
static void pgt_subtree_free_now(struct pgt *p, uint64_t *t, unsigned int lvl)
{
	if (lvl > 0) {
		for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
			uint64_t e = t[i];

			if (pgt_pte_present(p, e) && pgt_pte_is_table(p, e, lvl))
				pgt_subtree_free_now(p, pgt_child(p, e), lvl - 1);
		}
	}
	memset(t, 0, PGT_PAGE_SIZE);
	pgt_table_free_now(p, t);
}

static inline uint64_t pgt_line_or(const uint64_t *t, unsigned int line)
{
	const uint64_t *l = t + line * 8;

	return l[0] | l[1] | l[2] | l[3] | l[4] | l[5] | l[6] | l[7];
}

/*
 * Is the table empty?  Entries are cleared in address order, so a live
 * neighbour is usually one line away: look outwards from the line of @hint,
 * alternating up and down, instead of from the start of the table.
 */
static bool pgt_table_empty(const uint64_t *t, unsigned int hint)
{
	const unsigned int nlines = PGT_ENTRIES / 8;
	unsigned int h = (hint & PGT_IDX_MASK) / 8;

	if (pgt_line_or(t, h))
		return false;
	for (unsigned int d = 1; d < nlines; d++) {
		if (h + d < nlines && pgt_line_or(t, h + d))
			return false;
		if (d <= h && pgt_line_or(t, h - d))
			return false;
	}
	return true;
}

/* Is @t (which just lost entries) empty?  O(1) with counts. */
static bool pgt_table_now_empty(struct pgt *p, uint64_t *t, unsigned int hint)
{
	const uint16_t *c = pgt_cnt(p, t);

	if (!c)
		return pgt_table_empty(t, hint);
#ifdef PGT_DEBUG_COUNTS
	if ((*c == 0) != pgt_table_empty(t, hint)) {
		fprintf(stderr, "pgtable: table %p: count %u but %s\n", (void *)t, *c,
			pgt_table_empty(t, hint) ? "empty" : "not empty");
		abort();
	}
#endif
	return *c == 0;
}

/* @t lost @n present entries; is it empty now?  Without counts it is
 * scanned only when @test (the root is never freed: not worth a scan). */
static bool pgt_cnt_drop(struct pgt *p, uint64_t *t, unsigned int n, bool test, unsigned int hint)
{
	uint16_t *c = pgt_cnt(p, t);

	if (!c)
		return test && pgt_table_empty(t, hint);
#ifdef PGT_DEBUG_COUNTS
	if (*c < n || (test && (*c == n) != pgt_table_empty(t, hint))) {
		fprintf(stderr, "pgtable: table %p: count %u-%u, table %s\n", (void *)t, *c, n,
			pgt_table_empty(t, hint) ? "empty" : "not empty");
		abort();
	}
#endif
	*c = (uint16_t)(*c - n);
	return *c == 0;
}

static unsigned long check_counts(const struct pgt *p, uint64_t *t, unsigned int lvl)
{
	const uint16_t *c = pgt_cnt_op(p, t);
	unsigned long bad = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
		uint64_t e = t[i];

		if (!pgt_pte_present(p, e))
			continue;
		n++;
		if (pgt_pte_is_table(p, e, lvl))
			bad += check_counts(p, pgt_child_op(p, e), lvl - 1);
	}
	if (c && *c != n) {
		fprintf(stderr, "pgtable: table %p (level %u): count %u, %u entries present\n",
			(void *)t, lvl, *c, n);
		bad++;
	}
	return bad;
}

unsigned long pgt_check_counts(const struct pgt *p)
{
	if (!pgt_mem(p)->page_count)
		return 0;
	return check_counts(p, pgt_va_op(p, p->cfg.root_pa), p->levels - 1);
}

/* ---- unmap ---- */

struct unmap_ctx {
	struct pgt *p;
	struct pgt_gather *g;
	uint64_t removed;
	uint64_t lo, hi; /* removed span [lo, hi] */
	uint64_t minsz;
	bool stop; /* met a leaf larger than the range */
	bool clean;
};

static inline void unmap_note(struct unmap_ctx *c, uint64_t lo, uint64_t hi, uint64_t sz)
{
	if (lo < c->lo)
		c->lo = lo;
	if (hi > c->hi)
		c->hi = hi;
	if (sz < c->minsz)
		c->minsz = sz;
}

/* Unlink-free a fully covered subtree spanning from @iova, counting the
 * bytes it mapped and noting their exact span. */
static uint64_t unmap_subtree(struct unmap_ctx *c, uint64_t *t, unsigned int lvl, uint64_t iova)
{
	struct pgt *p = c->p;
	uint64_t bytes = 0;

	if (lvl == 0) {
		unsigned int n = 0, first = PGT_ENTRIES, last = 0;

		for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
			if (t[i] & p->present) {
				n++;
				if (i < first)
					first = i;
				last = i;
			}
		}
		if (n)
			unmap_note(c, iova + ((uint64_t)first << PGT_PAGE_SHIFT),
				   iova + ((uint64_t)(last + 1) << PGT_PAGE_SHIFT) - 1,
				   PGT_PAGE_SIZE);
		bytes = (uint64_t)n << PGT_PAGE_SHIFT;
	} else {
		unsigned int shift = pgt_lvl_shift(lvl);
		uint64_t esz = 1ULL << shift;

		for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
			uint64_t e = t[i];
			uint64_t at = iova + ((uint64_t)i << shift);

			if (!pgt_pte_present(p, e))
				continue;
			if (pgt_pte_is_table(p, e, lvl)) {
				bytes += unmap_subtree(c, pgt_child(p, e), lvl - 1, at);
			} else {
				bytes += esz;
				unmap_note(c, at, at + esz - 1, esz);
			}
		}
	}
	pgt_gather_table(p, c->g, t, false);
	return bytes;
}

/*
 * Unmap [iova, last], which lies inside the span of table @t at @lvl.
 * Returns the number of entries of @t that were cleared.
 */
static unsigned int unmap_level(struct unmap_ctx *c, uint64_t *t, unsigned int lvl, uint64_t iova,
				uint64_t last)
{
	struct pgt *p = c->p;
	unsigned int shift = pgt_lvl_shift(lvl);
	unsigned int i = (unsigned int)(iova >> shift) & PGT_IDX_MASK;
	unsigned int end = (unsigned int)(last >> shift) & PGT_IDX_MASK;
	unsigned int dfirst = PGT_ENTRIES, dlast = 0, cleared = 0;

	if (lvl == 0) {
		/* Hot loop, branch-free: non-present entries are already 0,
		 * so storing 0 over the whole range is harmless. */
		const uint64_t present = p->present;

		for (unsigned int j = i; j <= end; j++) {
			cleared += (t[j] & present) != 0;
			t[j] = 0;
		}
		if (cleared) {
			c->removed += (uint64_t)cleared << PGT_PAGE_SHIFT;
			unmap_note(c, iova, last, PGT_PAGE_SIZE);
			dfirst = i;
			dlast = end;
		}
		goto clean;
	}

	uint64_t esz = 1ULL << shift;

	for (;; i++) {
		uint64_t e_last = (iova | (esz - 1)) < last ? (iova | (esz - 1)) : last;
		uint64_t e = t[i];
		bool whole = (iova & (esz - 1)) == 0 && e_last - iova == esz - 1;

		if (pgt_pte_present(p, e)) {
			if (!pgt_pte_is_table(p, e, lvl)) {
				if (!whole) {
					c->stop = true;
					break;
				}
				t[i] = 0;
				c->removed += esz;
				unmap_note(c, iova, e_last, esz);
			} else if (whole) {
				t[i] = 0;
				c->removed += unmap_subtree(c, pgt_child(p, e), lvl - 1, iova);
			} else {
				uint64_t *child = pgt_child(p, e);
				unsigned int hint = (unsigned int)(iova >> (shift - PGT_LVL_BITS));

				/* Only a table that lost entries can have become empty. */
				if (!unmap_level(c, child, lvl - 1, iova, e_last) ||
				    !pgt_table_now_empty(p, child, hint))
					goto next;
				t[i] = 0;
				pgt_gather_table(p, c->g, child, true);
			}
			cleared++;
			if (i < dfirst)
				dfirst = i;
			dlast = i;
		}
	next:
		if (c->stop || i == end)
			break;
		iova = e_last + 1;
	}
clean:
	if (cleared) {
		pgt_cnt_add(p, t, -(int)cleared);
		if (c->clean)
			pgt_clean_entries(p, t, dfirst, dlast);
	}
	return cleared;
}

/* Unmap [iova, last] (validated) into @g; returns bytes removed. */
static uint64_t pgt_unmap_range(struct pgt *p, uint64_t iova, uint64_t last, struct pgt_gather *g)
{
	struct unmap_ctx c = {
		.p = p,
		.g = g,
		.lo = UINT64_MAX,
		.minsz = UINT64_MAX,
		.clean = !p->cfg.coherent,
	};
	unmap_level(&c, pgt_va(p, p->cfg.root_pa), p->levels - 1, iova, last);
	if (c.removed) {
		pgt_gather_range(g, c.lo, c.hi + 1, c.minsz);
		g->map_nonpresent = false;
	}
	if (c.clean && c.removed) {
		pgt_clean_fence();
		p->nr_fences++;
	}
	return c.removed;
}

/* Walk to the leaf table of @iova and remember the path in the walk
 * cache; false when a level is not mapped or is a larger leaf. */
static __attribute__((noinline)) bool pgt_wc_fill(struct pgt *p, uint64_t iova)
{
	uint64_t *walk[PGT_MAX_LEVELS] = {0}; /* all of it goes to the walk cache (shared memory) */
	uint64_t *t = pgt_va(p, p->cfg.root_pa);

	for (unsigned int lvl = p->levels - 1; lvl > 0; lvl--) {
		uint64_t e = t[(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK];

		/* not mapped, or inside a larger leaf (never split) */
		if (!pgt_pte_present(p, e) || !pgt_pte_is_table(p, e, lvl))
			return false;
		walk[lvl] = t;
		t = pgt_child(p, e);
	}
	walk[0] = t;
	memcpy(p->wc.tbl, walk, sizeof(walk));
	p->wc.cnt0 = pgt_cnt(p, t);
	p->wc.tag = iova >> pgt_lvl_shift(1);
	return true;
}

/* One 4 KiB page: a straight descent (or the walk cache), then back up
 * through the tables the page leaves empty. */
static __attribute__((noinline)) uint64_t unmap_one(struct pgt *p, uint64_t iova,
						    struct pgt_gather *g)
{
	uint64_t *const *path = p->wc.tbl;
	uint64_t *t;
	const bool clean = !p->cfg.coherent;
	unsigned int lvl, idx;
	bool empty;

	if (p->wc.tag != iova >> pgt_lvl_shift(1) && !pgt_wc_fill(p, iova))
		return 0;
	t = path[0];
	idx = (unsigned int)(iova >> PGT_PAGE_SHIFT) & PGT_IDX_MASK;
	if (!(t[idx] & p->present))
		return 0;
	t[idx] = 0;
	if (clean)
		pgt_clean_entries(p, t, idx, idx);
	/* One count update (and emptiness answer) per table on the way up. */
	if (p->wc.cnt0) {
#ifdef PGT_DEBUG_COUNTS
		if (*p->wc.cnt0 == 0 || (*p->wc.cnt0 == 1) != pgt_table_empty(t, idx)) {
			fprintf(stderr, "pgtable: cached table %p: count %u\n", (void *)t,
				*p->wc.cnt0);
			abort();
		}
#endif
		empty = --*p->wc.cnt0 == 0;
	} else {
		empty = pgt_cnt_drop(p, t, 1, p->levels > 1, idx);
	}

	if (empty && p->wc.cnt0 && !g->piece && p->levels > 1) {
		/* The leaf table and every table above it that holds only the
		 * link to it leave as one piece: clear the entry above the
		 * piece, keep the links inside it (and their counts: 1). */
		unsigned int k = 1;

		while (k + 1 < p->levels && *pgt_cnt(p, path[k]) == 1)
			k++;
		idx = (unsigned int)(iova >> pgt_lvl_shift(k)) & PGT_IDX_MASK;
		t = path[k];
		g->piece_pa = t[idx] & p->addr_mask;
		t[idx] = 0;
		pgt_cnt_drop(p, t, 1, false, idx);
		if (clean)
			pgt_clean_entries(p, t, idx, idx);
		pgt_wc_drop(p);
		p->nr_tables -= k;
		g->piece = path[k - 1];
		g->piece_iova = iova;
		g->piece_len = k;
		g->tables_freed = true;
		empty = false;
	}
	for (lvl = 0; empty && lvl + 1 < p->levels; lvl++) {
		unsigned int pidx = (unsigned int)(iova >> pgt_lvl_shift(lvl + 1)) & PGT_IDX_MASK;
		uint64_t *parent = path[lvl + 1];

		parent[pidx] = 0;
		empty = pgt_cnt_drop(p, parent, 1, lvl + 2 < p->levels, pidx);
		if (clean)
			pgt_clean_entries(p, parent, pidx, pidx);
		pgt_gather_table(p, g, t, true);
		t = parent;
	}
	pgt_gather_range(g, iova, iova + PGT_PAGE_SIZE, PGT_PAGE_SIZE);
	g->map_nonpresent = false;
	if (clean) {
		pgt_clean_fence();
		p->nr_fences++;
	}
	return PGT_PAGE_SIZE;
}

static __attribute__((noinline)) uint64_t unmap_sized(struct pgt *pgt, uint64_t iova, uint64_t size,
						      struct pgt_gather *g)
{
	uint64_t last;

	if (size == 0 || ((iova | size) & (PGT_PAGE_SIZE - 1)) || iova > pgt->iova_last)
		return 0;
	last = iova + size - 1;
	if (last < iova || last > pgt->iova_last)
		last = pgt->iova_last;
	return pgt_unmap_range(pgt, iova, last, g);
}

/* pgt_unmap_page's test and work, for it and for pgt_unmap. */
static inline __attribute__((always_inline)) bool unmap_page_fast(struct pgt *pgt, uint64_t iova)
{
	uint16_t *cnt = pgt->wc.cnt0;

	if ((iova & (PGT_PAGE_SIZE - 1)) || iova > pgt->iova_last ||
	    pgt->wc.tag != iova >> pgt_lvl_shift(1) || !pgt->cfg.coherent || !cnt || *cnt <= 1)
		return false;
	uint64_t *t = pgt->wc.tbl[0];
	unsigned int idx = (unsigned int)(iova >> PGT_PAGE_SHIFT) & PGT_IDX_MASK;

	if (!(t[idx] & pgt->present))
		return false; /* not mapped here: pgt_unmap says so */
	t[idx] = 0;
#ifdef PGT_DEBUG_COUNTS
	if (pgt_table_empty(t, idx)) {
		fprintf(stderr, "pgtable: cached table %p: count %u\n", (void *)t, *cnt);
		abort();
	}
#endif
	--*cnt;
	return true;
}

bool pgt_unmap_page(struct pgt *pgt, uint64_t iova)
{
	pgt_span_check(pgt);
	return unmap_page_fast(pgt, iova);
}

uint64_t pgt_unmap(struct pgt *pgt, uint64_t iova, uint64_t size, struct pgt_gather *g)
{
	pgt_span_check(pgt);
	if (size != PGT_PAGE_SIZE || (iova & (PGT_PAGE_SIZE - 1)) || iova > pgt->iova_last)
		return unmap_sized(pgt, iova, size, g);
	/* The leaf table stays (see pgt_unmap_page) and the gather is empty:
	 * no frame, no table work. */
	if (g->end <= g->start && unmap_page_fast(pgt, iova)) {
		g->start = iova;
		g->end = iova + PGT_PAGE_SIZE;
		if (g->pgsize == 0 || g->pgsize > PGT_PAGE_SIZE)
			g->pgsize = PGT_PAGE_SIZE;
		g->map_nonpresent = false;
		return PGT_PAGE_SIZE;
	}
	return unmap_one(pgt, iova, g);
}

/* ---- map ---- */

struct map_ctx {
	struct pgt *p;
	uint64_t delta;		/* pa - iova, modulo 2^64 */
	uint64_t attr;		/* leaf attributes for this prot */
	unsigned int leaf_lvls; /* levels where size and pa alignment allow a leaf */
	uint64_t fail;		/* on error: everything in [start, fail) is ours */
	uint64_t minsz;
	bool clean;
};

static int map_level(struct map_ctx *c, uint64_t *t, unsigned int lvl, uint64_t iova, uint64_t last,
		     bool fresh);

/* Create, fill and only then link a table for [iova, last] at t[i]. */
static int map_new_table(struct map_ctx *c, uint64_t *t, unsigned int i, unsigned int lvl,
			 uint64_t iova, uint64_t last)
{
	struct pgt *p = c->p;
	uint64_t pa;
	bool spare;
	uint64_t *child = pgt_table_take(p, &pa, &spare);
	int rc;

	if (!child) {
		c->fail = iova;
		return -ENOMEM;
	}
	rc = map_level(c, child, lvl - 1, iova, last, true);
	if (rc) {
		/* Never linked: no walker saw it; drop it and what it held. */
		pgt_subtree_free_now(p, child, lvl - 1);
		c->fail = iova;
		return rc;
	}
	if (c->clean) {
		if (spare) {
			/* Only the link word's line and the entries written
			 * (all of [iova, last] at the child's level) differ from
			 * what memory already holds. */
			unsigned int sh = pgt_lvl_shift(lvl - 1);

			pgt_clean_entries(p, child, 0, 0);
			pgt_clean_entries(p, child, (unsigned int)(iova >> sh) & PGT_IDX_MASK,
					  (unsigned int)(last >> sh) & PGT_IDX_MASK);
		} else {
			/* The whole page: its zeroes must reach memory too. */
			pgt_clean_entries(p, child, 0, PGT_ENTRIES - 1);
		}
		pgt_clean_fence();
		p->nr_fences++;
	}
	__atomic_store_n(&t[i], pa | p->tbl_bits[lvl], __ATOMIC_RELEASE);
	return 0;
}

/* Map [iova, last] (inside the span of @t at @lvl) to iova + delta. */
static int map_level(struct map_ctx *c, uint64_t *t, unsigned int lvl, uint64_t iova, uint64_t last,
		     bool fresh)
{
	struct pgt *p = c->p;
	unsigned int shift = pgt_lvl_shift(lvl);
	unsigned int i = (unsigned int)(iova >> shift) & PGT_IDX_MASK;
	unsigned int end = (unsigned int)(last >> shift) & PGT_IDX_MASK;
	unsigned int first = i, dlast = i, added = 0;
	bool wrote = false;
	int rc = 0;

	if (lvl == 0) {
		/* Hot loop: one store per page, 8 per cache line. */
		const uint64_t present = p->present;
		uint64_t pte = (iova + c->delta) | c->attr | p->leaf_bits[0];
		unsigned int j;

		for (j = i; j <= end; j++, pte += PGT_PAGE_SIZE) {
			if (t[j] & present) {
				c->fail = iova + ((uint64_t)(j - i) << PGT_PAGE_SHIFT);
				rc = -EEXIST;
				break;
			}
			t[j] = pte;
		}
		if (c->minsz > PGT_PAGE_SIZE)
			c->minsz = PGT_PAGE_SIZE;
		wrote = j > i;
		added = j - i;
		dlast = j - 1;
		goto clean;
	}

	uint64_t esz = 1ULL << shift;
	bool leaf_ok = (c->leaf_lvls >> lvl) & 1;

	for (;; i++) {
		uint64_t e_last = (iova | (esz - 1)) < last ? (iova | (esz - 1)) : last;
		uint64_t e = t[i];

		if (leaf_ok && (iova & (esz - 1)) == 0 && e_last - iova == esz - 1) {
			if (pgt_pte_present(p, e)) {
				c->fail = iova;
				rc = -EEXIST;
				break;
			}
			t[i] = (iova + c->delta) | c->attr | p->leaf_bits[lvl];
			if (esz < c->minsz)
				c->minsz = esz;
			wrote = true;
			added++;
			dlast = i;
		} else if (!pgt_pte_present(p, e)) {
			rc = map_new_table(c, t, i, lvl, iova, e_last);
			if (rc)
				break;
			wrote = true;
			added++;
			dlast = i;
		} else if (pgt_pte_is_table(p, e, lvl)) {
			rc = map_level(c, pgt_child(p, e), lvl - 1, iova, e_last, false);
			if (rc)
				break;
		} else {
			/* A larger leaf already covers part of the range. */
			c->fail = iova;
			rc = -EEXIST;
			break;
		}
		if (i == end)
			break;
		iova = e_last + 1;
	}
clean:
	/* Also on failure: what was installed stays until the rollback.  A
	 * fresh table's slot is set here (the allocator's value is unknown). */
	if (fresh) {
		uint16_t *cnt = pgt_cnt(p, t);

		if (cnt)
			*cnt = (uint16_t)added;
	} else if (added) {
		pgt_cnt_add(p, t, (int)added);
	}
	/* A fresh table is written back whole by map_new_table(). */
	if (c->clean && wrote && !fresh)
		pgt_clean_entries(p, t, first, dlast);
	return rc;
}

/*
 * The tables below @walk[top] (exclusive) are missing for a 4 KiB page at
 * @iova: build the chain of @top new tables, the leaf entry in the lowest,
 * and only then link its head into the live table walk[top] (one release
 * store).  Fills walk[0 .. top-1].  -ENOMEM leaves everything as it was.
 */
/*
 * map_one_build() with a kept piece of @top tables (pgt_gather_release):
 * move each inner link to @iova's index where it differs, write the entry
 * in the leaf table, then link the head into walk[top].  Counts inside the
 * piece are still right (1 each: the links stayed, the leaf table's entry
 * is written here).
 */
static void map_one_relink(struct pgt *p, uint64_t iova, uint64_t pte, unsigned int top,
			   uint64_t **walk, unsigned int j)
{
	const struct pgt_piece pc = p->piece[j];
	const bool clean = !p->cfg.coherent;
	uint64_t *t = pgt_va(p, pc.pa);
	unsigned int lvl, i;

	p->piece[j] = p->piece[--p->nr_piece];
	p->nr_piece_pages -= top;
	p->nr_relinks++;
	for (lvl = top - 1; lvl > 0; lvl--) {
		unsigned int oi = (unsigned int)(pc.iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK;
		uint64_t e = t[oi];

		i = (unsigned int)(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK;
		walk[lvl] = t;
		if (oi != i) {
			t[i] = e;
			t[oi] = 0;
			if (clean) {
				pgt_clean_entries(p, t, oi, oi);
				if (oi / 8 != i / 8)
					pgt_clean_entries(p, t, i, i);
			}
		}
		t = pgt_child(p, e);
	}
	walk[0] = t;
	i = (unsigned int)(iova >> PGT_PAGE_SHIFT) & PGT_IDX_MASK;
	t[i] = pte; /* its count: map_one_walk */
	if (clean) {
		pgt_clean_entries(p, t, i, i);
		pgt_clean_fence();
		p->nr_fences++;
	}
	p->nr_tables += top;
	t = walk[top];
	i = (unsigned int)(iova >> pgt_lvl_shift(top)) & PGT_IDX_MASK;
	__atomic_store_n(&t[i], pc.pa | p->tbl_bits[top], __ATOMIC_RELEASE);
	pgt_cnt_add(p, t, 1);
	if (clean) {
		pgt_clean_entries(p, t, i, i);
		pgt_clean_fence();
		p->nr_fences++;
	}
}

static int map_one_build(struct pgt *p, uint64_t iova, uint64_t pte, unsigned int top,
			 uint64_t **walk)
{
	uint64_t pa[PGT_MAX_LEVELS];
	bool spare[PGT_MAX_LEVELS];
	unsigned int lvl;

	for (unsigned int j = 0; j < p->nr_piece; j++) {
		if (p->piece[j].len == top) {
			map_one_relink(p, iova, pte, top, walk, j);
			return 0;
		}
	}

	for (lvl = 0; lvl < top; lvl++) {
		walk[lvl] = pgt_table_take(p, &pa[lvl], &spare[lvl]);
		if (!walk[lvl]) {
			/* Never linked, still all zero. */
			while (lvl--) {
				p->nr_tables--;
				pgt_page_free_zeroed(p, walk[lvl]);
			}
			return -ENOMEM;
		}
	}
	for (lvl = 0; lvl < top; lvl++) {
		uint64_t *t = walk[lvl];
		unsigned int i = (unsigned int)(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK;

		t[i] = lvl ? pa[lvl - 1] | p->tbl_bits[lvl] : pte;
		if (lvl) { /* the leaf table's count: map_one_walk */
			uint16_t *c = pgt_cnt(p, t);

			if (c)
				*c = 1;
		}
		if (p->cfg.coherent)
			continue;
		if (spare[lvl]) {
			/* The link word's line and the new entry's. */
			pgt_clean_entries(p, t, 0, 0);
			pgt_clean_entries(p, t, i, i);
		} else {
			pgt_clean_entries(p, t, 0, PGT_ENTRIES - 1);
		}
	}
	if (!p->cfg.coherent) {
		/* The new tables reach memory before the link that shows them. */
		pgt_clean_fence();
		p->nr_fences++;
	}
	uint64_t *t = walk[top];
	unsigned int i = (unsigned int)(iova >> pgt_lvl_shift(top)) & PGT_IDX_MASK;

	__atomic_store_n(&t[i], pa[top - 1] | p->tbl_bits[top], __ATOMIC_RELEASE);
	pgt_cnt_add(p, t, 1);
	if (!p->cfg.coherent) {
		pgt_clean_entries(p, t, i, i);
		pgt_clean_fence();
		p->nr_fences++;
	}
	return 0;
}

/*
 * map_one() when the walk cache does not hold @iova's leaf table: descend,
 * filling the walk cache; where tables are missing, build them with the
 * entry in place (nothing to check: all new).  1: the leaf table exists
 * (the caller writes the entry), 0: done, or an error.
 */
static __attribute__((noinline)) int map_one_walk(struct pgt *p, uint64_t iova, uint64_t pte)
{
	uint64_t *walk[PGT_MAX_LEVELS] = {0}; /* all of it goes to the walk cache (shared memory) */
	uint64_t *t = pgt_va(p, p->cfg.root_pa);
	int rc = 1;

	for (unsigned int lvl = p->levels - 1; lvl > 0; lvl--) {
		uint64_t e = t[(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK];

		walk[lvl] = t;
		if (!pgt_pte_present(p, e)) {
			rc = map_one_build(p, iova, pte, lvl, walk);
			if (rc)
				return rc;
			t = walk[0];
			break;
		}
		if (!pgt_pte_is_table(p, e, lvl))
			return -EEXIST; /* inside a larger leaf */
		t = pgt_child(p, e);
	}
	walk[0] = t;
	memcpy(p->wc.tbl, walk, sizeof(walk));
	p->wc.cnt0 = pgt_cnt(p, t);
	p->wc.tag = iova >> pgt_lvl_shift(1);
	if (rc == 0 && p->wc.cnt0)
		*p->wc.cnt0 = 1; /* built or relinked: the leaf table holds the new entry */
	return rc;
}

/* One 4 KiB page: a straight descent (or the walk cache), building missing
 * tables on the way (map_one_walk); -EEXIST when the page or a larger leaf
 * is mapped. */
static int map_one(struct pgt *p, uint64_t iova, uint64_t pa, uint64_t attr, struct pgt_gather *g)
{
	bool was_empty = g->end <= g->start;
	unsigned int idx;
	uint64_t *t;

	if (p->wc.tag != iova >> pgt_lvl_shift(1)) {
		int rc = map_one_walk(p, iova, pa | attr | p->leaf_bits[0]);

		if (rc < 0)
			return rc;
		if (rc == 0)
			goto done;
	}
	t = p->wc.tbl[0];
	idx = (unsigned int)(iova >> PGT_PAGE_SHIFT) & PGT_IDX_MASK;
	if (t[idx] & p->present)
		return -EEXIST;
	t[idx] = pa | attr | p->leaf_bits[0];
	if (p->wc.cnt0) {
#ifdef PGT_DEBUG_COUNTS
		if (*p->wc.cnt0 >= PGT_ENTRIES || p->wc.cnt0 != pgt_cnt_op(p, t)) {
			fprintf(stderr, "pgtable: cached table %p: count %u\n", (void *)t,
				*p->wc.cnt0);
			abort();
		}
#endif
		++*p->wc.cnt0;
	} else {
		pgt_cnt_add(p, t, 1);
	}
	if (!p->cfg.coherent) {
		pgt_clean_entries(p, t, idx, idx);
		pgt_clean_fence();
		p->nr_fences++;
	}
done:
	pgt_gather_range(g, iova, iova + PGT_PAGE_SIZE, PGT_PAGE_SIZE);
	if (was_empty)
		g->map_nonpresent = true;
	return 0;
}

/* pgt_map() of anything but one 4 KiB page (arguments checked). */
static __attribute__((noinline)) int pgt_map_range(struct pgt *pgt, uint64_t iova, uint64_t pa,
						   uint64_t size, unsigned int prot,
						   struct pgt_gather *g)
{
	struct map_ctx c;
	uint64_t last = iova + size - 1;
	bool was_empty = g->end <= g->start;
	int rc;

	c.p = pgt;
	c.delta = pa - iova;
	c.attr = pgt->prot_bits[prot];
	c.fail = iova;
	c.minsz = UINT64_MAX;
	c.clean = !pgt->cfg.coherent;
	/* A leaf at lvl needs iova and pa equally aligned to its size; the
	 * per-entry test then checks only the iova. */
	c.leaf_lvls = pgt->leaf_lvls;
	for (unsigned int lvl = 1; lvl < pgt->levels; lvl++)
		if (c.delta & ((1ULL << pgt_lvl_shift(lvl)) - 1))
			c.leaf_lvls &= (1u << lvl) - 1;

	rc = map_level(&c, pgt_va(pgt, pgt->cfg.root_pa), pgt->levels - 1, iova, last, false);
	if (rc == 0) {
		pgt_gather_range(g, iova, last + 1, c.minsz);
		if (was_empty)
			g->map_nonpresent = true;
	} else if (c.fail > iova) {
		/* Roll back [iova, fail): all of it was written by this call.
		 * Walkers may have used it, so it is gathered like an unmap. */
		pgt_unmap_range(pgt, iova, c.fail - 1, g);
	}
	if (c.clean) {
		pgt_clean_fence();
		pgt->nr_fences++;
	}
	return rc;
}

int pgt_map(struct pgt *pgt, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
	    struct pgt_gather *g)
{
	uint64_t last = iova + size - 1;

	if (size == 0 || ((iova | pa | size) & (PGT_PAGE_SIZE - 1)) || last < iova ||
	    last > pgt->iova_last || pa + size - 1 < pa || pa + size - 1 > pgt->pa_last ||
	    prot >= PGT_NR_PROT || pgt->prot_bits[prot] == 0)
		return -EINVAL;
	pgt_span_check(pgt);
	if (size == PGT_PAGE_SIZE)
		return map_one(pgt, iova, pa, pgt->prot_bits[prot], g);
	return pgt_map_range(pgt, iova, pa, size, prot, g);
}

/* ---- lookups ---- */

int pgt_walk(const struct pgt *pgt, uint64_t iova, struct pgt_walk_level *out, int max)
{
	uint64_t table_pa = pgt->cfg.root_pa;
	int n = 0;

	if (iova > pgt->iova_last)
		return 0;
	for (int lvl = (int)pgt->levels - 1; lvl >= 0 && n < max; lvl--) {
		const uint64_t *t = pgt_va_op(pgt, table_pa);
		unsigned int shift = pgt_lvl_shift((unsigned int)lvl);
		unsigned int idx = (unsigned int)(iova >> shift) & PGT_IDX_MASK;
		uint64_t e = __atomic_load_n(&t[idx], __ATOMIC_ACQUIRE);
		struct pgt_walk_level *w = &out[n++];

		w->level = pgt->cfg.fmt == PGT_ARM_S1_4K || pgt->cfg.fmt == PGT_ARM_S2_4K
				   ? 3 - (unsigned int)lvl
				   : (unsigned int)lvl + 1;
		w->table_pa = table_pa;
		w->index = idx;
		w->entry = e;
		w->present = pgt_pte_present(pgt, e);
		w->leaf = w->present && !pgt_pte_is_table(pgt, e, (unsigned int)lvl);
		w->pgsize = w->leaf ? 1ULL << shift : 0;
		if (!w->present || w->leaf)
			break;
		table_pa = e & pgt->addr_mask;
	}
	return n;
}

uint64_t pgt_iova_to_phys(const struct pgt *pgt, uint64_t iova)
{
	uint64_t table_pa = pgt->cfg.root_pa;

	if (iova > pgt->iova_last)
		return UINT64_MAX;
	for (int lvl = (int)pgt->levels - 1; lvl >= 0; lvl--) {
		const uint64_t *t = pgt_va_op(pgt, table_pa);
		unsigned int shift = pgt_lvl_shift((unsigned int)lvl);
		uint64_t e = __atomic_load_n(&t[(iova >> shift) & PGT_IDX_MASK], __ATOMIC_ACQUIRE);

		if (!pgt_pte_present(pgt, e))
			return UINT64_MAX;
		if (!pgt_pte_is_table(pgt, e, (unsigned int)lvl)) {
			uint64_t off = (1ULL << shift) - 1;

			return (e & pgt->addr_mask & ~off) | (iova & off);
		}
		table_pa = e & pgt->addr_mask;
	}
	return UINT64_MAX;
}

int pgt_entry_describe(const struct pgt *pgt, const struct pgt_walk_level *lvl, char *buf,
		       size_t len)
{
	if (!lvl || !buf || len == 0)
		return -EINVAL;
	switch (pgt->cfg.fmt) {
	case PGT_VTD_SL:
		return pgt_vtd_sl_describe(pgt, lvl, buf, len);
	case PGT_X86_FL:
		return pgt_x86_fl_describe(pgt, lvl, buf, len);
	case PGT_AMD_V1:
		return pgt_amd_v1_describe(pgt, lvl, buf, len);
	case PGT_ARM_S1_4K:
	case PGT_ARM_S2_4K:
		return pgt_arm_describe(pgt, lvl, buf, len);
	}
	return -EINVAL;
}

const char *pgt_format_name(enum pgt_format fmt)
{
	switch (fmt) {
	case PGT_VTD_SL:
		return "vtd-sl";
	case PGT_X86_FL:
		return "x86-fl";
	case PGT_AMD_V1:
		return "amd-v1";
	case PGT_ARM_S1_4K:
		return "arm-s1-4k";
	case PGT_ARM_S2_4K:
		return "arm-s2-4k";
	}
	return "unknown";
}

/* ---- object lifetime ---- */

static int pgt_fmt_init(struct pgt *p)
{
	switch (p->cfg.fmt) {
	case PGT_VTD_SL:
		return pgt_vtd_sl_init(p);
	case PGT_X86_FL:
		return pgt_x86_fl_init(p);
	case PGT_AMD_V1:
		return pgt_amd_v1_init(p);
	case PGT_ARM_S1_4K:
	case PGT_ARM_S2_4K:
		return pgt_arm_init(p);
	}
	return -EINVAL;
}

struct pgt *pgt_alloc(struct pgt_cfg *cfg, const struct pgt_mem_ops *mem, void *cookie, int *err)
{
	struct pgt desc;
	struct pgt *p;
	uint64_t self_pa, root_pa;
	uint64_t *root;
	int rc;

	if (!cfg || !mem || !mem->alloc_page || !mem->free_page || !mem->pa_to_va ||
	    mem->id >= PGT_MEM_IDS) {
		rc = -EINVAL;
		goto out;
	}
	if (mem->id && pgt_mem_register(mem, cookie)) {
		rc = -EINVAL;
		goto out;
	}
	memset(&desc, 0, sizeof(desc));
	desc.cfg = *cfg;
	desc.cfg.root_pa = 0;
	memset(&desc.cfg.hw, 0, sizeof(desc.cfg.hw));
	rc = pgt_fmt_init(&desc);
	if (rc)
		goto out;
	cache_wb_init();

	p = mem->alloc_page(cookie, cfg->node, &self_pa);
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	*p = desc;
	if (mem->id) {
		p->mem_id = mem->id; /* this process registered it above */
	} else {
		p->mem = mem;
		p->cookie = cookie;
	}
	pgt_wc_drop(p);
	p->self_pa = self_pa;
	bool spare;

	root = pgt_table_take(p, &root_pa, &spare); /* a new pgt has no reserve */
	if (!root) {
		rc = -ENOMEM;
		goto free_self;
	}
	if (!p->cfg.coherent) {
		pgt_clean_entries(p, root, 0, PGT_ENTRIES - 1);
		pgt_clean_fence();
		p->nr_fences++;
	}
	uint16_t *cnt = pgt_cnt(p, root);

	if (cnt)
		*cnt = 0;
	p->cfg.root_pa = root_pa;
	if (p->cfg.fmt == PGT_ARM_S1_4K)
		p->cfg.hw.arm_s1.ttbr = root_pa;
	else if (p->cfg.fmt == PGT_ARM_S2_4K)
		p->cfg.hw.arm_s2.vttbr = root_pa;
	*cfg = p->cfg;
	return p;

free_self:
	mem->free_page(cookie, p);
out:
	if (err)
		*err = rc;
	return NULL;
}

void pgt_free(struct pgt *pgt)
{
	const struct pgt_mem_ops *mem;
	void *cookie;

	if (!pgt)
		return;
	mem = pgt_mem(pgt);
	cookie = pgt_cookie(pgt);
	pgt_trim(pgt);
	pgt_subtree_free_now(pgt, pgt_va(pgt, pgt->cfg.root_pa), pgt->levels - 1);
	memset(pgt, 0, sizeof(*pgt));
	mem->free_page(cookie, pgt);
}

void pgt_bind(struct pgt *pgt, const struct pgt_mem_ops *mem, void *cookie)
{
	cache_wb_init();
	if (pgt->mem_id)
		return; /* a registered provider: nothing stored in the pgt */
	pgt->mem = mem;
	pgt->cookie = cookie;
	pgt_span_reset(pgt);
}

struct pgt_mem_reg pgt_mem_tab[PGT_MEM_IDS];

int pgt_mem_register(const struct pgt_mem_ops *mem, void *cookie)
{
	if (!mem || !mem->id || mem->id >= PGT_MEM_IDS || !mem->alloc_page || !mem->free_page ||
	    !mem->pa_to_va)
		return -EINVAL;
	cache_wb_init();
	pgt_mem_tab[mem->id].ops = mem;
	pgt_mem_tab[mem->id].cookie = cookie;
	return 0;
}

uint32_t pgt_mem_id(const struct pgt *pgt)
{
	return pgt->mem_id;
}

const struct pgt_cfg *pgt_config(const struct pgt *pgt)
{
	return &pgt->cfg;
}

/* ---- the checker ---- */

/*
 * pgt_check: a struct pgt read from a state file, and everything it holds,
 * checked without following an address before it is known to be a table
 * page of the provider (mem->table_va; pa_to_va for providers without it).
 * The format description is recomputed from the config and compared, so
 * that no template the file holds (present bits, address mask, entry
 * templates) is trusted.  Every table page is noted in a map as it is
 * reached, so a table linked twice (shared, or a cycle) is reported and
 * not walked again: the walk is linear in the number of tables.
 */
struct pck {
	const struct pgt *p;
	const struct pgt_check_ops *ops;
	const struct pgt_mem_ops *mem;
	void *cookie;
	unsigned long errors;
	struct phash seen;		       /* bus address -> enum pgt_page_kind */
	uint64_t tables;		       /* linked tables found, root included */
	uint64_t hw;			       /* entry bits the walker may set */
	uint64_t leaf_ok[PGT_MAX_LEVELS];      /* every bit a leaf may have, per level */
};

static void pck_report(struct pck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pck_report(struct pck *c, const char *fmt, ...)
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

/* Bits the hardware walker sets in entries it uses (accessed, dirty). */
static uint64_t pgt_hw_bits(enum pgt_format fmt)
{
	switch (fmt) {
	case PGT_VTD_SL:
		return VTD_SL_A | VTD_SL_D;
	case PGT_X86_FL:
		return X86_A | X86_D;
	case PGT_AMD_V1:
		return AMD_A | AMD_D;
	case PGT_ARM_S1_4K:
	case PGT_ARM_S2_4K:
		return ARM_AF;
	}
	return 0;
}

static const char *const pck_kind_name[] = {
	[PGT_PAGE_SELF] = "its own page",
	[PGT_PAGE_TABLE] = "a table",
	[PGT_PAGE_SPARE] = "a spare table",
};

/* The table page at bus address @pa, noted as reached (kind @kind); NULL
 * (reported) when it is none, or was reached before. */
static uint64_t *pck_page(struct pck *c, uint64_t pa, enum pgt_page_kind kind, const char *what)
{
	uint64_t *t, *seen;
	bool found;

	if (pa & (PGT_PAGE_SIZE - 1)) {
		pck_report(c, "%s 0x%llx is not page aligned", what, (unsigned long long)pa);
		return NULL;
	}
	t = c->mem->table_va ? c->mem->table_va(c->cookie, pa) : c->mem->pa_to_va(c->cookie, pa);
	if (!t) {
		pck_report(c, "%s 0x%llx is not a table page", what, (unsigned long long)pa);
		return NULL;
	}
	seen = phash_get(&c->seen, pa, true, &found);
	if (!seen) {
		pck_report(c, "out of memory");
		return NULL;
	}
	if (found) {
		pck_report(c, "%s 0x%llx was reached before as %s (shared or a cycle)", what,
			   (unsigned long long)pa, pck_kind_name[*seen]);
		return NULL;
	}
	*seen = kind;
	if (c->ops && c->ops->page && !c->ops->page(c->ops->arg, pa, t, kind)) {
		pck_report(c, "%s 0x%llx is in use elsewhere too", what, (unsigned long long)pa);
		return NULL;
	}
	return t;
}

/* The IOVA of entry @i of a table at @lvl covering from @base; false when it
 * is beyond 2^64. */
static bool pck_entry_iova(unsigned int lvl, uint64_t base, unsigned int i, uint64_t *iova)
{
	unsigned int shift = pgt_lvl_shift(lvl);

	if (shift + PGT_LVL_BITS > 64 && ((uint64_t)i >> (64 - shift)))
		return false;
	*iova = base + ((uint64_t)i << shift);
	return *iova >= base;
}

static void pck_table(struct pck *c, const uint64_t *t, unsigned int lvl, uint64_t base,
		      uint64_t pa)
{
	const struct pgt *p = c->p;
	uint16_t *cnt;
	unsigned int n = 0;

	for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
		uint64_t e = t[i], at;

		if (!pgt_pte_present(p, e)) {
			if (e)
				pck_report(c, "table 0x%llx[%u] (level %u): not present but 0x%llx",
					   (unsigned long long)pa, i, lvl, (unsigned long long)e);
			continue;
		}
		n++;
		if (!pck_entry_iova(lvl, base, i, &at) || at > p->iova_last) {
			pck_report(c, "table 0x%llx[%u] (level %u): an entry beyond the input width",
				   (unsigned long long)pa, i, lvl);
			continue;
		}
		if (pgt_pte_is_table(p, e, lvl)) {
			uint64_t *child;

			if ((e & ~p->addr_mask & ~c->hw) != (p->tbl_bits[lvl] & ~c->hw))
				pck_report(c, "table 0x%llx[%u] (level %u): table entry 0x%llx has "
					      "other bits than 0x%llx",
					   (unsigned long long)pa, i, lvl, (unsigned long long)e,
					   (unsigned long long)p->tbl_bits[lvl]);
			child = pck_page(c, e & p->addr_mask, PGT_PAGE_TABLE, "linked table");
			if (child) {
				c->tables++;
				pck_table(c, child, lvl - 1, at, e & p->addr_mask);
			}
			continue;
		}
		if (!((p->leaf_lvls >> lvl) & 1))
			pck_report(c, "table 0x%llx[%u]: a leaf at level %u, where there are none",
				   (unsigned long long)pa, i, lvl);
		if (e & p->addr_mask & ((1ull << pgt_lvl_shift(lvl)) - 1))
			pck_report(c, "table 0x%llx[%u] (level %u): leaf address 0x%llx not aligned",
				   (unsigned long long)pa, i, lvl,
				   (unsigned long long)(e & p->addr_mask));
		if (e & ~p->addr_mask & ~c->leaf_ok[lvl])
			pck_report(c, "table 0x%llx[%u] (level %u): leaf 0x%llx has unknown bits",
				   (unsigned long long)pa, i, lvl, (unsigned long long)e);
	}
	cnt = c->mem->page_count ? c->mem->page_count(c->cookie, (void *)(uintptr_t)t) : NULL;
	if (c->mem->page_count && (!cnt || *cnt != n))
		pck_report(c, "table 0x%llx (level %u): %d present entries recorded, %u found",
			   (unsigned long long)pa, lvl, cnt ? *cnt : -1, n);
}

/* The format description, recomputed from the config and compared. */
static bool pck_format(struct pck *c)
{
	const struct pgt *p = c->p;
	struct pgt d;
	uint8_t coherent;

	memcpy(&coherent, &p->cfg.coherent, 1); /* a bool read from a file */
	if (coherent > 1) {
		pck_report(c, "coherent flag %u", coherent);
		return false;
	}
	memset(&d, 0, sizeof(d));
	d.cfg.fmt = p->cfg.fmt;
	d.cfg.ias = p->cfg.ias;
	d.cfg.oas = p->cfg.oas;
	d.cfg.levels = p->cfg.levels;
	d.cfg.pgsize_bitmap = p->cfg.pgsize_bitmap;
	d.cfg.coherent = p->cfg.coherent;
	d.cfg.quirks = p->cfg.quirks;
	if (!p->cfg.levels || p->cfg.levels > PGT_MAX_LEVELS || pgt_fmt_init(&d)) {
		pck_report(c, "format %d, %u levels, %u-bit input, %u-bit output: not a valid "
			      "configuration",
			   (int)p->cfg.fmt, p->cfg.levels, p->cfg.ias, p->cfg.oas);
		return false;
	}
	if (d.cfg.fmt == PGT_ARM_S1_4K)
		d.cfg.hw.arm_s1.ttbr = p->cfg.root_pa;
	else if (d.cfg.fmt == PGT_ARM_S2_4K)
		d.cfg.hw.arm_s2.vttbr = p->cfg.root_pa;
	if (d.cfg.ias != p->cfg.ias || d.cfg.oas != p->cfg.oas || d.cfg.levels != p->cfg.levels ||
	    d.cfg.pgsize_bitmap != p->cfg.pgsize_bitmap ||
	    memcmp(&d.cfg.hw, &p->cfg.hw, sizeof(d.cfg.hw)) || d.levels != p->levels ||
	    d.leaf_lvls != p->leaf_lvls || d.iova_last != p->iova_last ||
	    d.pa_last != p->pa_last || d.addr_mask != p->addr_mask || d.present != p->present ||
	    d.type_mask != p->type_mask || memcmp(d.tbl_type, p->tbl_type, sizeof(d.tbl_type)) ||
	    memcmp(d.tbl_bits, p->tbl_bits, sizeof(d.tbl_bits)) ||
	    memcmp(d.leaf_bits, p->leaf_bits, sizeof(d.leaf_bits)) ||
	    memcmp(d.prot_bits, p->prot_bits, sizeof(d.prot_bits))) {
		pck_report(c, "%s table: its format description differs from what its "
			      "configuration gives",
			   pgt_format_name(p->cfg.fmt));
		return false;
	}
	c->hw = pgt_hw_bits(p->cfg.fmt);
	for (unsigned int lvl = 0; lvl < PGT_MAX_LEVELS; lvl++) {
		c->leaf_ok[lvl] = p->leaf_bits[lvl] | c->hw;
		for (unsigned int prot = 0; prot < PGT_NR_PROT; prot++)
			c->leaf_ok[lvl] |= p->prot_bits[prot];
	}
	return true;
}

/* The reserve: nr_spare pages chained by bus address through word 0,
 * every other word 0; then the kept pieces. */
static void pck_spares(struct pck *c)
{
	const struct pgt *p = c->p;
	uint64_t pa = p->spare_pa;
	uint32_t pages = 0;

	if (p->nr_spare > PGT_SPARE_MAX || p->nr_piece > PGT_PIECE_MAX ||
	    p->nr_piece_pages > PGT_SPARE_MAX || p->nr_spare + p->nr_piece_pages > PGT_SPARE_MAX) {
		pck_report(c, "reserve of %u spare tables and %u pieces of %u tables: too large",
			   p->nr_spare, p->nr_piece, p->nr_piece_pages);
		return;
	}
	for (uint32_t i = 0; i < p->nr_spare; i++) {
		const uint64_t *t = pck_page(c, pa, PGT_PAGE_SPARE, "spare table");

		if (!t)
			return;
		for (unsigned int w = 1; w < PGT_ENTRIES; w++)
			if (t[w]) {
				pck_report(c, "spare table 0x%llx is not empty", (unsigned long long)pa);
				break;
			}
		pa = t[0];
	}
	if (pa)
		pck_report(c, "spare chain goes on after its %u tables", p->nr_spare);
	for (uint32_t j = 0; j < p->nr_piece; j++) {
		const struct pgt_piece *pc = &p->piece[j];

		if (!pc->len || pc->len >= p->levels) {
			pck_report(c, "kept piece %u: %u tables", j, pc->len);
			continue;
		}
		pages += pc->len;
		pa = pc->pa;
		/* Head at level len - 1; each holds only the link at the
		 * index of the IOVA it was unmapped at; the leaf table is empty. */
		for (unsigned int lvl = pc->len; lvl-- > 0;) {
			const uint64_t *t = pck_page(c, pa, PGT_PAGE_SPARE, "kept table");
			unsigned int li = (unsigned int)(pc->iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK;
			uint16_t *cnt;

			if (!t)
				break;
			for (unsigned int w = 0; w < PGT_ENTRIES; w++)
				if (t[w] && !(lvl && w == li)) {
					pck_report(c, "kept table 0x%llx holds more than its link",
						   (unsigned long long)pa);
					break;
				}
			cnt = c->mem->page_count ? c->mem->page_count(c->cookie, (void *)(uintptr_t)t)
						 : NULL;
			if (c->mem->page_count && (!cnt || *cnt != (lvl ? 1 : 0)))
				pck_report(c, "kept table 0x%llx: count %d, want %u",
					   (unsigned long long)pa, cnt ? *cnt : -1, lvl ? 1 : 0);
			if (!lvl)
				break;
			if (!pgt_pte_present(p, t[li]) || !pgt_pte_is_table(p, t[li], lvl)) {
				pck_report(c, "kept table 0x%llx: no link at [%u]", (unsigned long long)pa,
					   li);
				break;
			}
			pa = t[li] & p->addr_mask;
		}
	}
	if (pages != p->nr_piece_pages)
		pck_report(c, "kept pieces hold %u tables, %u recorded", pages, p->nr_piece_pages);
}

/* The tables the walk cache holds must be the path to its IOVA. */
static void pck_caches(struct pck *c)
{
	const struct pgt *p = c->p;
	struct pgt_mem_span ms;
	bool live;

	if (p->span_next >= PGT_SPAN_SLOTS) {
		pck_report(c, "look-up cache slot %u", p->span_next);
		return;
	}
	if (p->span_gen) {
		if (!c->mem->span || c->mem->span(c->cookie, p->cfg.root_pa, &ms) ||
		    ms.gen != p->span_gen) {
			pck_report(c, "look-up cache generation word %p is not the provider's",
				   (const void *)p->span_gen);
			return;
		}
	}
	/* Stale caches (the provider's generation moved on) are dropped
	 * before any use: only live ones must be right. */
	live = !p->span_gen || __atomic_load_n(p->span_gen, __ATOMIC_ACQUIRE) == p->span_gen_val;
	if (!live)
		return;
	for (unsigned int i = 0; i < PGT_SPAN_SLOTS; i++) {
		const struct pgt_span_slot *s = &p->span[i];

		if (!s->len)
			continue;
		if (!p->span_gen || c->mem->span(c->cookie, s->pa, &ms) || ms.pa != s->pa ||
		    ms.len != s->len || ms.va != s->va ||
		    (c->mem->page_count ? ms.cnt : NULL) != s->cnt)
			pck_report(c, "look-up cache slot %u (0x%llx +0x%llx) does not describe "
				      "table memory",
				   i, (unsigned long long)s->pa, (unsigned long long)s->len);
	}
	if (p->wc.tag == UINT64_MAX)
		return;
	if (p->wc.tag > p->iova_last >> pgt_lvl_shift(1)) {
		pck_report(c, "walk cache for 0x%llx: beyond the input width",
			   (unsigned long long)(p->wc.tag << pgt_lvl_shift(1)));
		return;
	}
	uint64_t iova = p->wc.tag << pgt_lvl_shift(1), pa = p->cfg.root_pa;
	const uint64_t *t = NULL;

	for (unsigned int lvl = p->levels; lvl-- > 0;) {
		t = c->mem->table_va ? c->mem->table_va(c->cookie, pa) : c->mem->pa_to_va(c->cookie, pa);
		if (!t || p->wc.tbl[lvl] != t) {
			pck_report(c, "walk cache for 0x%llx: table at level %u is not the one linked",
				   (unsigned long long)iova, lvl);
			return;
		}
		if (!lvl)
			break;
		uint64_t e = t[(iova >> pgt_lvl_shift(lvl)) & PGT_IDX_MASK];

		if (!pgt_pte_present(p, e) || !pgt_pte_is_table(p, e, lvl)) {
			pck_report(c, "walk cache for 0x%llx: no table linked at level %u",
				   (unsigned long long)iova, lvl);
			return;
		}
		pa = e & p->addr_mask;
	}
	if (p->wc.cnt0 != (c->mem->page_count ? c->mem->page_count(c->cookie, (void *)(uintptr_t)t)
					       : NULL))
		pck_report(c, "walk cache for 0x%llx: count slot %p is not its table's",
			   (unsigned long long)iova, (void *)p->wc.cnt0);
}

unsigned long pgt_check(const struct pgt *p, const struct pgt_check_ops *ops)
{
	struct pck c = {.p = p, .ops = ops};
	const uint64_t *root;

	if (p->mem_id >= PGT_MEM_IDS || (p->mem_id && !pgt_mem_tab[p->mem_id].ops)) {
		pck_report(&c, "memory provider %u is not known", p->mem_id);
		return c.errors;
	}
	c.mem = pgt_mem(p);
	c.cookie = pgt_cookie(p);
	if (!c.mem || !pck_format(&c))
		return c.errors;
	if (!pck_page(&c, p->self_pa, PGT_PAGE_SELF, "its own page") ||
	    (c.mem->table_va ? c.mem->table_va(c.cookie, p->self_pa)
			     : c.mem->pa_to_va(c.cookie, p->self_pa)) != (const void *)p) {
		pck_report(&c, "its own page 0x%llx is not where it is", (unsigned long long)p->self_pa);
		goto out;
	}
	root = pck_page(&c, p->cfg.root_pa, PGT_PAGE_TABLE, "root table");
	if (!root)
		goto out;
	c.tables = 1;
	pck_table(&c, root, p->levels - 1, 0, p->cfg.root_pa);
	if (c.tables != p->nr_tables)
		pck_report(&c, "%llu tables recorded, %llu linked", (unsigned long long)p->nr_tables,
			   (unsigned long long)c.tables);
	pck_spares(&c);
	pck_caches(&c);
out:
	if (c.seen.oom)
		pck_report(&c, "out of memory");
	phash_free(&c.seen);
	return c.errors;
}

/* ---- leaves, for the checker's comparison with what should be mapped ---- */

struct leaf_walk {
	const struct pgt *p;
	const struct pgt_mem_ops *mem;
	void *cookie;
	uint64_t hw;
	int (*fn)(void *arg, const struct pgt_leaf *l);
	void *arg;
};

static int leaf_table(struct leaf_walk *w, uint64_t pa, unsigned int lvl, uint64_t base)
{
	const struct pgt *p = w->p;
	const uint64_t *t = w->mem->table_va ? w->mem->table_va(w->cookie, pa)
					     : w->mem->pa_to_va(w->cookie, pa);

	if (!t)
		return -EFAULT;
	for (unsigned int i = 0; i < PGT_ENTRIES; i++) {
		uint64_t e = t[i], at;
		int rc;

		if (!pgt_pte_present(p, e))
			continue;
		if (!pck_entry_iova(lvl, base, i, &at))
			return -EFAULT;
		if (pgt_pte_is_table(p, e, lvl)) {
			if (!lvl)
				return -EFAULT;
			rc = leaf_table(w, e & p->addr_mask, lvl - 1, at);
		} else {
			struct pgt_leaf l = {
				.iova = at,
				.pa = e & p->addr_mask,
				.size = 1ull << pgt_lvl_shift(lvl),
				.attr = e & ~p->addr_mask & ~w->hw,
				.level = lvl,
			};
			rc = w->fn(w->arg, &l);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int pgt_for_each_leaf(const struct pgt *p, int (*fn)(void *arg, const struct pgt_leaf *l),
		      void *arg)
{
	struct leaf_walk w = {.p = p, .mem = pgt_mem(p), .cookie = pgt_cookie(p),
			      .hw = pgt_hw_bits(p->cfg.fmt), .fn = fn, .arg = arg};

	if (!w.mem || !p->levels || p->levels > PGT_MAX_LEVELS)
		return -EINVAL;
	return leaf_table(&w, p->cfg.root_pa, p->levels - 1, 0);
}

uint64_t pgt_leaf_attr(const struct pgt *p, unsigned int prot, const struct pgt_leaf *l)
{
	if (prot >= PGT_NR_PROT || !p->prot_bits[prot] || l->level >= PGT_MAX_LEVELS)
		return UINT64_MAX;
	return (p->prot_bits[prot] | p->leaf_bits[l->level]) & ~pgt_hw_bits(p->cfg.fmt);
}
