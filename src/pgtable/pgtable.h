/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-table engine: every format the three IOMMU families walk.
 *
 * Pure memory code in the style of Linux io-pgtable: a config in, an object
 * out, and the config filled back with what the hardware registers need.
 * No register access, no invalidation commands: map and unmap record what
 * must be invalidated in a gather; the owning driver issues the commands and
 * only then releases the table pages the gather collected (a walker may hold
 * an old table until its paging-structure cache is invalidated).
 *
 * The struct pgt lives in the shared arena, so it holds no pointer that is
 * only valid in one process except the memory ops, which a process that
 * adopts existing state re-binds with pgt_bind().
 */
#ifndef UIOMMU_PGTABLE_H
#define UIOMMU_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pgt_format {
	PGT_VTD_SL = 1, /* VT-d second-level (legacy and scalable) */
	PGT_X86_FL,	/* x86-64 first-level: VT-d scalable FL, AMD-Vi v2 */
	PGT_AMD_V1,	/* AMD-Vi host (v1) page table */
	PGT_ARM_S1_4K,	/* Arm VMSAv8-64 stage 1, 4 KiB granule */
	PGT_ARM_S2_4K,	/* Arm VMSAv8-64 stage 2, 4 KiB granule */
};

/* At most this many emptied table pages are kept per page table for reuse
 * (pgt_gather_release): a map/unmap pair at one IOVA then neither returns
 * nor asks the allocator for its tables. */
#define PGT_SPARE_MAX 16u

/* Protection flags for pgt_map. */
#define PGT_PROT_READ	(1u << 0)
#define PGT_PROT_WRITE	(1u << 1)
#define PGT_PROT_NOEXEC (1u << 2) /* formats with an execute-never bit */
#define PGT_PROT_CACHE	(1u << 3) /* coherent/snooped access where the format has a bit */
#define PGT_PROT_MMIO	(1u << 4) /* device memory attributes (Arm) */
#define PGT_PROT_PRIV	(1u << 5) /* supervisor (x86 FL: U/S clear; Arm: AP[1] clear) */

/* Quirks. */
#define PGT_QUIRK_VTD_SNOOP (1u << 0) /* VT-d SL: set SNP in leaves (ECAP.SC) */
#define PGT_QUIRK_ARM_NS    (1u << 1) /* Arm S1: set NS */

/*
 * A stretch of table memory that is linear in both address spaces: bus
 * addresses [pa, pa + len) are CPU addresses [va, va + len).  When the
 * provider keeps count slots (page_count), the slot of the page at bus
 * address x is cnt[(x - pa) >> 12] (cnt may be NULL).  The description
 * holds while *gen == gen_val: the provider bumps *gen whenever any span it
 * described goes away.
 */
struct pgt_mem_span {
	uint64_t pa;
	uint64_t len;
	uint8_t *va;
	uint16_t *cnt;
	const uint64_t *gen;
	uint64_t gen_val;
};

/* Providers with an id (1 .. PGT_MEM_IDS - 1). */
#define PGT_MEM_IDS 8u

/* Table memory: 4 KiB zeroed pages with their bus address. */
struct pgt_mem_ops {
	/* 0: the pgt keeps a pointer to these ops (one process).  Else the
	 * provider is shared by processes (its tables are in shared memory):
	 * the pgt records the id only, and every process that uses such a
	 * pgt registers its own ops under it first (pgt_mem_register). */
	uint32_t id;
	void *(*alloc_page)(void *cookie, int node, uint64_t *pa);
	void (*free_page)(void *cookie, void *va);
	/* Optional: free a page whose 4 KiB are all zero (an empty table), so
	 * that the allocator may skip clearing it when it hands it out again. */
	void (*free_zeroed_page)(void *cookie, void *va);
	void *(*pa_to_va)(void *cookie, uint64_t pa);
	/* Optional: a 16-bit slot kept outside the table page at @va (all 512
	 * entries of a table are the hardware's), where the engine keeps the
	 * table's count of present entries so that unmap knows in O(1) that a
	 * table became empty.  The engine initialises the slot when it
	 * allocates a table and owns it until it frees the page.  Either every
	 * table page of a pgt has a slot (never NULL) for the pgt's whole life,
	 * or the op is NULL and the engine scans tables for emptiness. */
	uint16_t *(*page_count)(void *cookie, void *va);
	/* Optional: describe the stretch of table memory that holds bus
	 * address @pa (for the env arena: its 2 MiB chunk), so that the engine
	 * translates table addresses and finds count slots with a compare and
	 * an add instead of a call per table.  0, or -ENOENT (the engine then
	 * uses pa_to_va/page_count for this address). */
	int (*span)(void *cookie, uint64_t pa, struct pgt_mem_span *out);
	/* Optional, for pgt_check: the CPU address of the live table page of
	 * this provider at bus address @pa, NULL when @pa is not one (a state
	 * read from a file is checked with it before anything is followed;
	 * without it pgt_check trusts pa_to_va). */
	void *(*table_va)(void *cookie, uint64_t pa);
};

struct pgt_cfg {
	enum pgt_format fmt;
	unsigned int ias;	/* input (IOVA) address bits */
	unsigned int oas;	/* output address bits */
	unsigned int levels;	/* 0: derive from ias (VT-d SL: from AGAW) */
	uint64_t pgsize_bitmap; /* leaf sizes allowed (0: all the format has); filled back
				   with the used set */
	bool coherent;		/* walker snoops CPU caches */
	unsigned int quirks;
	int node; /* NUMA node for table pages */

	/* Filled back by pgt_init(): what the hardware registers need. */
	uint64_t root_pa;
	union {
		struct {
			unsigned int aw; /* context/PASID entry AW / SLPTE levels-2 */
		} vtd;
		struct {
			unsigned int flpm; /* VT-d PASID entry FLPM: 0 = 4-level, 1 = 5-level */
		} x86;
		struct {
			unsigned int mode; /* DTE Mode field (levels) */
		} amd;
		struct {
			uint64_t tcr; /* CD TCR fields (T0SZ, TG0, IRGN0, ORGN0, SH0, IPS) as a
					 TCR_EL1 image */
			uint64_t mair;
			uint64_t ttbr;
		} arm_s1;
		struct {
			uint64_t vtcr; /* STE S2 VTCR image (T0SZ, SL0, IR0, OR0, SH0, TG0, PS) */
			uint64_t vttbr;
		} arm_s2;
	} hw;
};

/* What map/unmap changed, for the driver's invalidation.  Zero-initialise. */
struct pgt_gather {
	uint64_t start;	     /* first IOVA touched (valid when end > start) */
	uint64_t end;	     /* one past the last IOVA touched */
	uint64_t pgsize;     /* smallest leaf size touched (for page-selective invalidation) */
	bool tables_freed;   /* non-leaf entries changed: paging-structure caches too */
	bool map_nonpresent; /* map only filled not-present entries (no flush needed if the
				hardware does not cache not-present entries) */
	void *freed;	     /* chain of table pages to free after invalidation */
	unsigned int nr_freed;
	/* A 4 KiB unmap that empties its leaf table and the tables above it
	 * unlinks them as one piece: only the entry above the highest is
	 * cleared, the links inside the piece stay (a walker that still holds
	 * it sees a consistent table with the page gone).  One such piece per
	 * gather: its head (CPU and bus address), the IOVA it was unmapped at, and how
	 * many tables it holds (its head's level + 1). */
	void *piece;
	uint64_t piece_pa;
	uint64_t piece_iova;
	unsigned int piece_len;
};

/* Does @g hold table pages to release after invalidation? */
static inline bool pgt_gather_has_pages(const struct pgt_gather *g)
{
	return g->freed || g->piece;
}

/* One level of a walk, for tools ("why did this DMA fault?"). */
struct pgt_walk_level {
	unsigned int level; /* format's own numbering, root first */
	uint64_t table_pa;  /* table holding the entry */
	unsigned int index;
	uint64_t entry; /* raw 64-bit entry */
	bool present;
	bool leaf;
	uint64_t pgsize; /* leaf size when leaf */
};

struct pgt;

/** Allocate and initialise a page table; fills back cfg->root_pa and cfg->hw.
 *  Returns NULL with *err set (-EINVAL bad config, -ENOMEM). */
struct pgt *pgt_alloc(struct pgt_cfg *cfg, const struct pgt_mem_ops *mem, void *cookie, int *err);
/** Free every table page (the caller has made sure no walker uses it). */
void pgt_free(struct pgt *pgt);
/** Re-bind the memory ops of a pgt whose provider has no id (one process). */
void pgt_bind(struct pgt *pgt, const struct pgt_mem_ops *mem, void *cookie);
/** Register this process's ops for the provider @mem->id (1 .. PGT_MEM_IDS
 *  - 1): every pgt allocated with that id, by any process, uses them here.
 *  0, or -EINVAL. */
int pgt_mem_register(const struct pgt_mem_ops *mem, void *cookie);
/** The provider id a pgt was allocated with (0: none). */
uint32_t pgt_mem_id(const struct pgt *pgt);
/** The config as filled back at allocation. */
const struct pgt_cfg *pgt_config(const struct pgt *pgt);

/** Map [iova, iova+size) to [pa, pa+size) with the largest leaves alignment
 *  allows.  All of iova, pa and size must be multiples of the smallest page
 *  size.  Fails with -EEXIST if any part is already mapped (and then maps
 *  nothing), -EINVAL on bad arguments, -ENOMEM (and then maps nothing).
 *  A failed map may have briefly installed and then removed entries: the
 *  gather then describes them (map_nonpresent false, maybe freed tables),
 *  so invalidate and release it exactly as after an unmap. */
int pgt_map(struct pgt *pgt, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
	    struct pgt_gather *g);
/** Unmap whatever is mapped in [iova, iova+size); returns the bytes removed.
 *  A leaf larger than the range at either end is not split: unmap stops
 *  and returns what it removed so far (callers unmap exactly what they
 *  mapped).  Empty tables are unlinked and chained into the gather. */
uint64_t pgt_unmap(struct pgt *pgt, uint64_t iova, uint64_t size, struct pgt_gather *g);
/** The strict-unmap fast path of one 4 KiB page: when clearing the leaf
 *  entry of @iova changes no table (coherent tables, the leaf table in the
 *  walk cache and keeping other entries), clear it and return true: what
 *  pgt_unmap would have done, with a gather of exactly [iova, iova + 4 KiB),
 *  4 KiB pages, leaf entries only, nothing to release.  false: nothing was
 *  changed; use pgt_unmap. */
bool pgt_unmap_page(struct pgt *pgt, uint64_t iova);
/** Physical address for @iova, or UINT64_MAX when not mapped. */
uint64_t pgt_iova_to_phys(const struct pgt *pgt, uint64_t iova);
/** Walk for @iova; fills up to @max levels; returns the number filled. */
int pgt_walk(const struct pgt *pgt, uint64_t iova, struct pgt_walk_level *out, int max);
/** Decode an entry of this format into text (for tools). */
int pgt_entry_describe(const struct pgt *pgt, const struct pgt_walk_level *lvl, char *buf,
		       size_t len);
/** Free the table pages chained in @g (after invalidation).  Emptied
 *  tables (all zero) go to the table's reserve of at most PGT_SPARE_MAX
 *  pages, which the next map that needs a table takes from before asking
 *  the allocator; the rest go back to the allocator.  A piece of emptied
 *  tables unlinked together by a 4 KiB unmap is kept whole in the reserve
 *  (the next 4 KiB map that needs as many tables relinks it with one entry)
 *  while there is room, else taken apart. */
void pgt_gather_release(struct pgt *pgt, struct pgt_gather *g);
/** Give the reserve of spare table pages back to the allocator; returns
 *  how many pages that was.  pgt_free does it too. */
unsigned int pgt_trim(struct pgt *pgt);
/** Pages held in the reserve (unlinked, not counted as tables; all zero
 *  but for the links inside kept pieces). */
unsigned int pgt_nr_spare(const struct pgt *pgt);
/* ---- checking a page table read from a state file ---- */

/* What a page the table holds is to it (pgt_check_ops.page). */
enum pgt_page_kind {
	PGT_PAGE_SELF,	/* the page holding the struct pgt */
	PGT_PAGE_TABLE, /* a linked table, the root included */
	PGT_PAGE_SPARE, /* in the reserve (spare tables, kept pieces) */
};

struct pgt_check_ops {
	/* Each problem found, as one line of text. */
	void (*report)(void *arg, const char *msg);
	/* Optional: each table page the pgt holds, once; false when the
	 * caller knows the page from elsewhere (reported as shared). */
	bool (*page)(void *arg, uint64_t pa, void *va, enum pgt_page_kind kind);
	void *arg;
};

/** Check a page table (an fsck): its configuration and the format
 *  description derived from it, every table reached (a table page of the
 *  provider, reached once: no shared or cyclic tables), every entry (no
 *  junk in not-present entries, leaves where the format has them, aligned,
 *  with known bits only, nothing beyond the input width), the count slot of
 *  every table, the table count, the reserve (spare chain and kept pieces)
 *  and the look-up and walk caches.  A pgt whose provider has no id (the
 *  ops are a pointer it holds) must come from this process.  Returns the
 *  number of problems reported. */
unsigned long pgt_check(const struct pgt *pgt, const struct pgt_check_ops *ops);

/* A present leaf, for pgt_for_each_leaf. */
struct pgt_leaf {
	uint64_t iova;	    /* first IOVA it maps */
	uint64_t pa;	    /* the address field of the entry */
	uint64_t size;	    /* bytes it maps */
	uint64_t attr;	    /* the entry's other bits, less those the walker sets */
	unsigned int level; /* from the leaf level: 0 = 4 KiB */
};
/** Call @fn for each present leaf in IOVA order, until it returns non-zero
 *  (returned).  For a pgt that passed pgt_check; -EFAULT when a table
 *  cannot be reached. */
int pgt_for_each_leaf(const struct pgt *pgt, int (*fn)(void *arg, const struct pgt_leaf *l),
		      void *arg);
/** The attr a leaf like @l has when it is mapped with @prot (PGT_PROT_*);
 *  UINT64_MAX when this table cannot map with @prot. */
uint64_t pgt_leaf_attr(const struct pgt *pgt, unsigned int prot, const struct pgt_leaf *l);

/** Name of a format. */
const char *pgt_format_name(enum pgt_format fmt);

#ifdef __cplusplus
}
#endif
#endif
