/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-table engine internals, shared by the common walker (pgtable.c) and
 * the format files (pgt_x86.c, pgt_arm.c).  Not for use outside
 * src/pgtable and its tests.
 *
 * The engine is data-driven: a format is described at pgt_alloc() time by a
 * handful of precomputed entry templates (below), so map/unmap never call
 * through a per-format function pointer.  Levels are numbered internally
 * from the leaf: lvl 0 holds 4 KiB entries, an entry at lvl n maps
 * 1 << (12 + 9 n) bytes.
 */
#ifndef UIOMMU_PGT_INTERNAL_H
#define UIOMMU_PGT_INTERNAL_H

#include <assert.h>
#include <stdio.h>

#include "core/bitfield.h"
#include "core/cachemaint.h"
#include "pgtable/pgtable.h"

#define PGT_PAGE_SHIFT 12
#define PGT_PAGE_SIZE  (1ULL << PGT_PAGE_SHIFT)
#define PGT_LVL_BITS   9
#define PGT_ENTRIES    512u
#define PGT_IDX_MASK   (PGT_ENTRIES - 1)
#define PGT_MAX_LEVELS 6
#define PGT_NR_PROT    64u /* every combination of the PGT_PROT_* flags */
#define PGT_PIECE_MAX 2u   /* kept pieces of emptied tables per pgt */
#define PGT_SPAN_SLOTS 4u  /* table-memory spans remembered per pgt */

static inline unsigned int pgt_lvl_shift(unsigned int lvl)
{
	return PGT_PAGE_SHIFT + PGT_LVL_BITS * lvl;
}

/*
 * Lives in a table-memory page (the shared arena).  Its memory ops: a
 * provider with an id (pgt_mem_ops.id, shared state) is found by that id in
 * each process's own table (pgt_mem_register), so no process ever calls
 * through a pointer another process stored; a provider without one (a
 * single process: tests, benchmarks) is kept in mem/cookie.
 */
struct pgt {
	struct pgt_cfg cfg; /* as filled back */
	uint32_t mem_id;    /* 0: mem/cookie below */
	const struct pgt_mem_ops *mem;
	void *cookie;
	uint64_t self_pa; /* page holding this struct */

	/* Format description, precomputed by the format's init. */
	unsigned int levels;
	unsigned int leaf_lvls; /* bit n: leaves allowed at lvl n */
	uint64_t iova_last;	/* last valid input address */
	uint64_t pa_last;	/* last valid output address */
	uint64_t addr_mask;	/* output-address field of an entry */
	uint64_t present;	/* any of these bits set: entry present */
	uint64_t type_mask;	/* lvl > 0: (e & type_mask) == tbl_type[lvl] => table */
	uint64_t tbl_type[PGT_MAX_LEVELS];
	uint64_t tbl_bits[PGT_MAX_LEVELS];  /* table pointer = pa | tbl_bits[lvl] */
	uint64_t leaf_bits[PGT_MAX_LEVELS]; /* added to a leaf at lvl (PS, page/block type) */
	uint64_t prot_bits[PGT_NR_PROT];    /* leaf attributes per prot; 0 = rejected */

	/* Reserve of emptied table pages (pgt_gather_release), chained by
	 * bus address through each page's first word; every other word is 0. */
	uint64_t spare_pa;
	uint32_t nr_spare;
	/* Kept pieces (see struct pgt_gather): bus address of the head, the
	 * IOVA they were unmapped at (which says where their inner links
	 * are), and their length in tables.  The head's first word may be a
	 * link, so pieces are listed here rather than chained through it. */
	uint32_t nr_piece;
	uint32_t nr_piece_pages;
	struct pgt_piece {
		uint64_t pa;
		uint64_t iova;
		uint32_t len;
	} piece[PGT_PIECE_MAX];

	/* Process-local (reset by pgt_alloc/pgt_bind): the last table-memory
	 * spans seen (mem->span), so that a table walk translates addresses
	 * and finds count slots without a call per level. */
	struct pgt_span_slot {
		uint64_t pa;
		uint64_t len; /* 0: empty slot */
		uint8_t *va;
		uint16_t *cnt;
	} span[PGT_SPAN_SLOTS];
	const uint64_t *span_gen;
	uint64_t span_gen_val;
	unsigned int span_next; /* slot the next miss fills */
	/* Process-local: the path of the last 4 KiB map/unmap walk, so that
	 * the next one in the same 2 MiB goes straight to its leaf table.
	 * Dropped whenever any table is unlinked or freed. */
	struct pgt_walk_cache {
		uint64_t tag;		       /* iova >> 21 of the walk; UINT64_MAX: none */
		uint64_t *tbl[PGT_MAX_LEVELS]; /* table at each level, tbl[0] the leaf table */
		uint16_t *cnt0;		       /* count slot of tbl[0], or NULL */
	} wc;

	/* Statistics (tests, benchmark). */
	uint64_t nr_tables;	 /* table pages linked, root included */
	uint64_t nr_clean_lines; /* cache lines written back (non-coherent) */
	uint64_t nr_fences;
	uint64_t nr_relinks;	 /* kept pieces linked again (map_one_relink) */
};

static_assert(sizeof(struct pgt) <= PGT_PAGE_SIZE, "struct pgt must fit in one table page");

/* This process's registered providers (pgt_mem_register). */
struct pgt_mem_reg {
	const struct pgt_mem_ops *ops;
	void *cookie;
};
extern struct pgt_mem_reg pgt_mem_tab[PGT_MEM_IDS];
static inline const struct pgt_mem_ops *pgt_mem(const struct pgt *p)
{
	return p->mem_id ? pgt_mem_tab[p->mem_id & (PGT_MEM_IDS - 1)].ops : p->mem;
}
static inline void *pgt_cookie(const struct pgt *p)
{
	return p->mem_id ? pgt_mem_tab[p->mem_id & (PGT_MEM_IDS - 1)].cookie : p->cookie;
}

/* Per-format setup: validate cfg, fill the description and cfg->hw. */
int pgt_vtd_sl_init(struct pgt *p);
int pgt_x86_fl_init(struct pgt *p);
int pgt_amd_v1_init(struct pgt *p);
int pgt_arm_init(struct pgt *p);
/* Per-format entry decoding for pgt_entry_describe(). */
int pgt_vtd_sl_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len);
int pgt_x86_fl_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len);
int pgt_amd_v1_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len);
int pgt_arm_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len);

/* Helpers for the format files (pgtable.c). */
/* Levels needed to translate @ias bits with 9-bit strides over 4 KiB. */
unsigned int pgt_levels_for_ias(unsigned int ias);
/* Resolve cfg->ias/levels against [min_levels, max_levels]; -EINVAL if
 * impossible.  ias may not exceed max_ias(levels). */
int pgt_resolve_levels(struct pgt *p, unsigned int min_levels, unsigned int max_levels,
		       unsigned int ias_cap);
/* Choose leaf levels from cfg->pgsize_bitmap & @supported (0 = all). */
int pgt_resolve_pgsizes(struct pgt *p, uint64_t supported);

/* Entry-level queries used by the walkers and describe functions. */
static inline bool pgt_pte_present(const struct pgt *p, uint64_t e)
{
	return (e & p->present) != 0;
}

static inline bool pgt_pte_is_table(const struct pgt *p, uint64_t e, unsigned int lvl)
{
	return lvl > 0 && (e & p->type_mask) == p->tbl_type[lvl];
}

/* Tests: recount the present entries of every table and compare with the
 * counts kept through mem->page_count; returns the number of tables whose
 * count is wrong (0 when the op is NULL). */
unsigned long pgt_check_counts(const struct pgt *p);

/* Append formatted text at *off, never overrunning len. */
void pgt_bufprintf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Print "<fmt> L<n>[<idx>] 0x<entry>: " and not present / leaf / table;
 * returns 1 when the entry is present (the caller appends its fields). */
int pgt_describe_head(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len,
		      size_t *off);

/* ---- Cache maintenance for non-coherent walkers (core/cachemaint.h) ---- */

/* Order all earlier write-backs before later stores. */
static inline void pgt_clean_fence(void)
{
	cache_wb_fence();
}

/* Write back the lines holding entries [first, last] of @tbl. */
static inline void pgt_clean_entries(struct pgt *p, uint64_t *tbl, unsigned int first,
				     unsigned int last)
{
	p->nr_clean_lines += cache_wb_lines(&tbl[first], (size_t)(last - first + 1) * sizeof(*tbl));
}

#endif
