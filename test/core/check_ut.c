/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state checker (uiommu_state_check, an fsck) on a live state of the
 * VT-d model: clean, it reports nothing; with one specific thing corrupted
 * through the internals (a gap, a colour, a link, a PTE, a count, a
 * domain ID, a flag, a leaked allocation...), it reports that thing.  Each
 * corruption is undone byte for byte before the next test, and the state
 * must check clean again.  Last, a corrupted state file is refused at
 * adoption.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "core/core.h"
#include "core/ctx_ext.h"
#include "core/iopt.h"
#include "pgtable/pgt_hw.h"
#include "pgtable/pgt_internal.h"

static char name[64];
static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_device *dev1, *dev2, *dev3;
static struct uiommu_ioas *ioas_a, *ioas_b;
static struct uiommu_hwpt *hw_a, *parent, *nested, *fl;
static struct uiommu_viommu *vi;
static uint64_t bus;
static uint8_t *bufva;

#define BUF_LEN	  (8ull << 20)
#define A_SMALL	  0x100000ull /* 32 single pages, every other 8 KiB */
#define A_LARGE	  0x40000000ull /* one 2 MiB leaf */
#define A_LONE	  0x80000000ull /* one page alone in its 1 GiB: its tables */
#define A_SPARE	  0x8000000000ull /* its own 512 GiB: all its tables emptied at once */
#define B_IOVA	  0x200000ull

/* ---- byte-exact corruption and its undoing ---- */
static struct saved {
	void *p;
	size_t len;
	uint8_t old[64];
} sv[16];
static int nsv;

static void poke(void *p, const void *val, size_t len)
{
	CU_ASSERT_FATAL(nsv < 16 && len <= 64);
	sv[nsv].p = p;
	sv[nsv].len = len;
	memcpy(sv[nsv].old, p, len);
	nsv++;
	memcpy(p, val, len);
}
#define POKE(lv, val)                                \
	do {                                         \
		__typeof__(lv) v_ = (val);           \
		poke(&(lv), &v_, sizeof(lv));        \
	} while (0)

static void undo(void)
{
	while (nsv) {
		nsv--;
		memcpy(sv[nsv].p, sv[nsv].old, sv[nsv].len);
	}
}

/* ---- running the checker ---- */
static char lines[128][320];
static int nlines;

static void collect(void *arg, const char *msg)
{
	(void)arg;
	if (nlines < 128)
		snprintf(lines[nlines], sizeof(lines[0]), "%s", msg);
	nlines++;
}

static int run_check(void)
{
	nlines = 0;
	return uiommu_state_check(ctx, collect, NULL);
}

static void dump(const char *why)
{
	fprintf(stderr, "\n    %s: %d line(s)\n", why, nlines);
	for (int i = 0; i < nlines && i < 128; i++)
		fprintf(stderr, "      %s\n", lines[i]);
}

static void expect_clean(void)
{
	int n = run_check();

	if (n)
		dump("expected a clean state");
	CU_ASSERT(n == 0);
}

/* The checker reports a line holding @needle; then undo and check clean. */
static void expect(const char *needle)
{
	int n = run_check();
	bool found = false;

	for (int i = 0; i < nlines && i < 128; i++)
		found |= strstr(lines[i], needle) != NULL;
	if (!found || n <= 0)
		dump(needle);
	CU_ASSERT(n > 0 && found);
	undo();
	expect_clean();
}

/* ---- finding things in the live state ---- */
static struct iopt_area *area(const struct rb_node *n)
{
	return n ? rb_entry(n, struct iopt_area, node) : NULL;
}

static struct iopt_area *area_at(struct uiommu_ioas *s, uint64_t iova)
{
	return iopt_find(&s->iopt, iova);
}

/* The entry that maps @iova in @h's table, and its table. */
static uint64_t *pte_of(struct uiommu_hwpt *h, uint64_t iova, uint64_t **table, int *level)
{
	struct pgt_walk_level w[8];
	int n = pgt_walk(h->pgt, iova, w, 8);
	uint64_t *t;

	CU_ASSERT_FATAL(n > 0);
	t = uenv_iova_to_va(w[n - 1].table_pa);
	CU_ASSERT_FATAL(t != NULL);
	if (table)
		*table = t;
	if (level)
		*level = n - 1;
	return &t[w[n - 1].index];
}

static uint16_t *count_of(void *table)
{
	return uenv_page_count(table);
}

static struct pgt *pgt_a(void)
{
	return hw_a->pgt;
}

/* ---- the state ---- */
static int suite_init(void)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM, .name = name, .create = true};
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL,
				      .numa_node = -1};
	struct uiommu_device_desc d1 = {.devfn = 0x10, .hw_id = 0x10, .pasid_bits = 8};
	struct uiommu_device_desc d2 = {.devfn = 0x20, .hw_id = 0x20, .pasid_bits = 8};
	struct uiommu_device_desc d3 = {.devfn = 0x30, .hw_id = 0x30, .pasid_bits = 8};
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_VTD,
					 .u.vtd = {.flptr = 0x10000000, .addr_width = 48}};
	const uint32_t rw = UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA;
	uint64_t iova;
	void *va;

	snprintf(name, sizeof(name), "check-ut-%d", (int)getpid());
	if (uiommu_ctx_create(&o, &ctx) || uiommu_unit_add(ctx, &ud, &unit) ||
	    uiommu_device_add(unit, &d1, &dev1) || uiommu_device_add(unit, &d2, &dev2) ||
	    uiommu_device_add(unit, &d3, &dev3) || uiommu_ioas_alloc(ctx, &ioas_a) ||
	    uiommu_ioas_alloc(ctx, &ioas_b) || uiommu_buf_alloc(ctx, BUF_LEN, &va, &bus))
		return -1;
	bufva = va;
	/* A: single pages, a 2 MiB leaf, a lone page; a user reservation and
	 * an allowed range; then some pages unmapped (spare records, spare
	 * tables and a kept piece). */
	if (uiommu_device_attach(dev1, UIOMMU_NO_PASID, uiommu_ioas_id(ioas_a), NULL))
		return -1;
	hw_a = list_entry(ioas_a->hwpts.next, struct uiommu_hwpt, ioas_link);
	for (uint32_t i = 0; i < 40; i++) {
		iova = A_SMALL + i * 0x2000ull;
		if (uiommu_ioas_map(ioas_a, &iova, bus + i * 4096ull, 4096, rw))
			return -1;
	}
	iova = A_LARGE;
	if (uiommu_ioas_map(ioas_a, &iova, bus + (2ull << 20), 2ull << 20, rw))
		return -1;
	for (uint32_t i = 0; i < 3; i++) {
		iova = A_LONE + i * (1ull << 30);
		if (uiommu_ioas_map(ioas_a, &iova, bus, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA))
			return -1;
	}
	for (uint32_t i = 32; i < 40; i++)
		if (uiommu_ioas_unmap(ioas_a, A_SMALL + i * 0x2000ull, 4096, NULL))
			return -1;
	/* The lone pages: one leaves a kept piece, one spare tables. */
	if (uiommu_ioas_unmap(ioas_a, A_LONE + (1ull << 30), 4096, NULL) ||
	    uiommu_ioas_unmap(ioas_a, A_LONE + (2ull << 30), 4096, NULL))
		return -1;
	/* Two pages unmapped in one call: their emptied tables go to the
	 * reserve of spare tables. */
	iova = A_SPARE;
	if (uiommu_ioas_map(ioas_a, &iova, bus, 8192, rw) ||
	    uiommu_ioas_unmap(ioas_a, A_SPARE, 8192, NULL))
		return -1;
	if (uiommu_ioas_reserve(ioas_a, 0xf0000000ull, 0xf00fffffull))
		return -1;
	struct uiommu_iova_range allow = {.start = 0x1000000000ull, .last = 0x1fffffffffull};
	if (uiommu_ioas_allow_iovas(ioas_a, &allow, 1))
		return -1;
	/* B: a nest parent, a vIOMMU, a nested HWPT that dev2 uses. */
	if (uiommu_hwpt_alloc(ioas_b, unit, UIOMMU_HWPT_NEST_PARENT, &parent) ||
	    uiommu_viommu_alloc(unit, parent, &vi) || uiommu_hwpt_alloc_nested(vi, &s1, &nested) ||
	    uiommu_device_attach(dev2, UIOMMU_NO_PASID, uiommu_hwpt_id(nested), NULL))
		return -1;
	/* A first-level table beside the nest parent (x86 format: its root has
	 * entries beyond its input width). */
	if (uiommu_hwpt_alloc(ioas_b, unit, UIOMMU_HWPT_STAGE1, &fl))
		return -1;
	iova = B_IOVA;
	if (uiommu_ioas_map(ioas_b, &iova, bus, 16 * 4096, rw))
		return -1;
	/* dev3: pass-through on its RID, a PASID on A. */
	if (unit->caps.pass_through &&
	    uiommu_device_attach(dev3, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL))
		return -1;
	if (uiommu_device_attach(dev3, 5, uiommu_ioas_id(ioas_a), NULL))
		return -1;
	if (uiommu_obj_set_name(ctx, uiommu_ioas_id(ioas_a), "dma_a") ||
	    uiommu_obj_set_name(ctx, uiommu_device_id(dev1), "nic"))
		return -1;
	return 0;
}

static int suite_fini(void)
{
	if (ctx)
		uiommu_ctx_destroy(ctx);
	return 0;
}

/* ---- tests ---- */

static void t_clean(void)
{
	CU_ASSERT(pgt_a()->nr_spare + pgt_a()->nr_piece > 0);
	CU_ASSERT(ioas_a->iopt.nr_spare > 0);
	expect_clean();
}

/* -- IOVA tree -- */
static void t_iopt_gap(void)
{
	struct iopt_area *a = area_at(ioas_a, A_SMALL + 0x4000);

	POKE(a->gap, a->gap + 0x1000);
	expect("gap 0x");
}

static void t_iopt_max_gap(void)
{
	struct iopt_area *a = area(ioas_a->iopt.areas.node);

	POKE(a->max_gap, a->max_gap + 1);
	expect("largest gap below");
}

static void t_iopt_root_red(void)
{
	POKE(ioas_a->iopt.areas.node->red, 1u);
	expect("the root is red");
}

static void t_iopt_colour(void)
{
	/* A red node under a red parent (or a black height off by one). */
	struct rb_node *n = ioas_a->iopt.areas.node->left;

	while (n->left)
		n = n->left;
	POKE(n->red, n->red ? 0u : 1u);
	POKE(n->parent->red, 1u);
	run_check();
	bool found = false;
	for (int i = 0; i < nlines && i < 128; i++)
		found |= strstr(lines[i], "red child") || strstr(lines[i], "black heights");
	CU_ASSERT(found);
	undo();
	expect_clean();
}

static void t_iopt_parent_link(void)
{
	struct rb_node *n = ioas_a->iopt.areas.node->right;

	POKE(n->parent, n);
	expect("parent link");
}

static void t_iopt_cycle(void)
{
	struct rb_node *n = ioas_a->iopt.areas.node->left;

	while (n->left)
		n = n->left;
	POKE(n->left, ioas_a->iopt.areas.node);
	expect("parent link");
}

static void t_iopt_overlap(void)
{
	struct iopt_area *a = area_at(ioas_a, A_SMALL);

	POKE(a->last, A_SMALL + 0x2fffull);
	expect("overlaps");
}

static void t_iopt_align(void)
{
	struct iopt_area *a = area_at(ioas_a, A_SMALL + 0x2000);

	POKE(a->last, a->last - 0x800);
	expect("not aligned");
}

static void t_iopt_counts(void)
{
	POKE(ioas_a->iopt.nr_areas, ioas_a->iopt.nr_areas + 1);
	expect("areas of 0x");
	POKE(ioas_a->iopt.mapped_bytes, ioas_a->iopt.mapped_bytes - 4096);
	expect("areas of 0x");
}

static void t_iopt_ends(void)
{
	POKE(ioas_a->iopt.leftmost, area_at(ioas_a, A_SMALL + 0x2000));
	expect("recorded as lowest");
	POKE(ioas_a->iopt.rightmost, area_at(ioas_a, A_SMALL));
	expect("recorded as highest");
}

static void t_iopt_hints(void)
{
	/* A record that is not in the tree: a spare one. */
	POKE(ioas_a->iopt.hint_gap, ioas_a->iopt.spare);
	expect("insert hint");
	POKE(ioas_a->iopt.hint_area, area_at(ioas_a, A_SMALL));
	POKE(ioas_a->iopt.hint_gap, area_at(ioas_a, A_LARGE));
	expect("not the successor");
}

static void t_iopt_foreign_node(void)
{
	struct rb_node *n = ioas_a->iopt.areas.node->left;

	while (n->left)
		n = n->left;
	/* An arena object that is no area record: the IOAS itself. */
	POKE(n->left, (struct rb_node *)(void *)ioas_b);
	expect("not an area record");
}

static void t_iopt_spare(void)
{
	struct iopt_area *s = ioas_a->iopt.spare;

	POKE(ioas_a->iopt.nr_spare, ioas_a->iopt.nr_spare + 1);
	expect("spare records recorded");
	POKE(s->node.parent, &s->node);
	expect("reached twice");
	/* A record both in the tree and spare. */
	POKE(s->node.parent, &area_at(ioas_a, A_SMALL)->node);
	expect("reached twice");
}

static void t_iopt_blocks(void)
{
	struct iopt_area *a = area_at(ioas_a, A_SMALL);
	struct iopt_blk *b = a->blk;

	POKE(b->used, b->used + 1);
	expect("records in use recorded");
	POKE(ioas_a->iopt.nr_blocks, ioas_a->iopt.nr_blocks + 1);
	expect("record blocks recorded");
	if (b->free) {
		POKE(b->free->node.parent, &b->free->node);
		expect("free list broken");
	}
}

static void t_iopt_ranges(void)
{
	struct iopt *io = &ioas_a->iopt;

	CU_ASSERT_FATAL(io->nr_resv >= 2);
	POKE(io->resv[0].start, io->resv[1].start + 1);
	expect("out of order");
	POKE(io->resv[io->nr_resv - 1].max_last, 0ull);
	expect("running end");
	POKE(io->resv_win_lo, 0ull);
	POKE(io->resv_win_hi, UINT64_MAX);
	expect("said to be free of reserved ranges");
	POKE(io->allowed, (struct iopt_range *)(void *)bufva);
	expect("allowed ranges");
	POKE(io->iova_alignment, 0x3000ull);
	expect("alignment 0x3000");
}

/* -- page tables against areas -- */
static void t_pte_wrong_pa(void)
{
	uint64_t *e = pte_of(hw_a, A_SMALL + 0x2000, NULL, NULL);

	POKE(*e, *e + 0x1000);
	expect("maps 0x");
}

static void t_pte_missing(void)
{
	uint64_t *t, *e = pte_of(hw_a, A_SMALL + 0x4000, &t, NULL);

	POKE(*e, 0ull);
	POKE(*count_of(t), (uint16_t)(*count_of(t) - 1));
	expect("area without PTEs");
}

static void t_pte_stray(void)
{
	uint64_t *t, *e = pte_of(hw_a, A_SMALL, &t, NULL);

	/* The page after the first one: no area there. */
	POKE(e[1], e[0] + 0x1000);
	POKE(*count_of(t), (uint16_t)(*count_of(t) + 1));
	expect("PTE without area");
}

static void t_pte_prot(void)
{
	uint64_t *e = pte_of(hw_a, A_SMALL + 0x6000, NULL, NULL);

	POKE(*e, *e & ~VTD_SL_W);
	expect("protection wants");
}

static void t_pte_large(void)
{
	int lvl;
	uint64_t *e = pte_of(hw_a, A_LARGE, NULL, &lvl);

	CU_ASSERT(lvl >= 1); /* a 2 MiB leaf */
	POKE(*e, *e + (2ull << 20));
	expect("maps 0x");
}

static void t_pte_count(void)
{
	uint64_t *t;

	(void)pte_of(hw_a, A_SMALL, &t, NULL);
	POKE(*count_of(t), (uint16_t)(*count_of(t) + 3));
	expect("present entries recorded");
}

static void t_pte_junk(void)
{
	uint64_t *t;

	(void)pte_of(hw_a, A_SMALL, &t, NULL);
	POKE(t[511], 0x5000ull); /* no R/W bit: not present, not zero */
	expect("not present but");
}

static void t_table_not_table(void)
{
	struct pgt_walk_level w[8];
	int n = pgt_walk(hw_a->pgt, A_SMALL, w, 8);
	uint64_t *t = uenv_iova_to_va(w[n - 2].table_pa), *e = &t[w[n - 2].index];

	/* The link to the leaf table now points at the buffer (DMA memory). */
	POKE(*e, (*e & ~VTD_SL_ADDR) | bus);
	expect("is not a table page");
}

static void t_table_shared(void)
{
	struct pgt_walk_level w[8];
	int n = pgt_walk(hw_a->pgt, A_SMALL, w, 8);
	uint64_t *t = uenv_iova_to_va(w[n - 2].table_pa);
	unsigned int i = w[n - 2].index;

	/* The next 2 MiB links the same leaf table: shared. */
	CU_ASSERT_FATAL(i < 511 && t[i + 1] == 0);
	POKE(t[i + 1], t[i]);
	POKE(*count_of(t), (uint16_t)(*count_of(t) + 1));
	expect("reached before");
}

static void t_pgt_fields(void)
{
	struct pgt *p = pgt_a();

	POKE(p->nr_tables, p->nr_tables + 1);
	expect("tables recorded");
	POKE(p->present, 0ull);
	expect("format description");
	POKE(p->addr_mask, ~0ull);
	expect("format description");
	POKE(p->prot_bits[PGT_PROT_READ], VTD_SL_R | VTD_SL_W);
	expect("format description");
	POKE(p->cfg.levels, 9u);
	expect("not a valid configuration");
	POKE(p->cfg.root_pa, bus);
	expect("root table");
	POKE(p->self_pa, p->cfg.root_pa);
	expect("its own page");
	POKE(p->mem_id, 5u);
	expect("page table not in the arena");
}

static void t_pgt_reserve(void)
{
	struct pgt *p = pgt_a();

	CU_ASSERT_FATAL(p->nr_spare > 0 && p->nr_piece > 0);
	uint64_t *sp = uenv_iova_to_va(p->spare_pa);

	POKE(sp[7], 1ull);
	expect("is not empty");
	POKE(p->nr_spare, p->nr_spare + 1);
	expect("spare table");
	POKE(p->nr_spare, 40u);
	expect("too large");
	POKE(p->piece[0].len, 0u);
	expect("kept piece");
	POKE(p->piece[0].iova, p->piece[0].iova + (2ull << 20));
	expect("no link at");
	/* A spare table that is also linked. */
	POKE(p->spare_pa, p->cfg.root_pa);
	expect("reached before");
}

static void t_pgt_caches(void)
{
	struct pgt *p = pgt_a();
	uint64_t iova = A_SMALL;

	/* Fill the walk cache (a map of one page) and the look-up cache. */
	iova = A_SMALL + 0x1000;
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas_a, &iova, bus, 4096,
					UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_unmap(ioas_a, iova, 4096, NULL) == 0);
	expect_clean();
	CU_ASSERT_FATAL(p->wc.tag != UINT64_MAX || p->span[0].len);
	POKE(p->span_next, 9u);
	expect("look-up cache slot 9");
	for (unsigned int i = 0; i < PGT_SPAN_SLOTS; i++)
		if (p->span[i].len) {
			POKE(p->span[i].va, p->span[i].va + 4096);
			expect("does not describe table memory");
			break;
		}
	POKE(p->span_gen, (const uint64_t *)(void *)bufva);
	expect("generation word");
	if (p->wc.tag != UINT64_MAX) {
		POKE(p->wc.tbl[0], (uint64_t *)(void *)bufva);
		expect("walk cache");
		POKE(p->wc.cnt0, (uint16_t *)(void *)bufva);
		expect("count slot");
	}
}

static void t_hwpt_cfg(void)
{
	POKE(hw_a->cfg.root_pa, hw_a->cfg.root_pa + 4096);
	expect("not its page table's");
}

/* -- objects -- */
static void t_did(void)
{
	uint32_t did = hw_a->inst[0].did;

	POKE(unit->did_map[did / 64], unit->did_map[did / 64] & ~(1ull << (did % 64)));
	expect("not allocated");
	POKE(unit->did_map[1], unit->did_map[1] | 1ull << 7);
	expect("allocated that nothing uses");
	POKE(vi->vmid, hw_a->inst[0].did);
	expect("used twice");
}

static void t_counts(void)
{
	POKE(unit->nr_devices, unit->nr_devices + 1);
	expect("devices, ");
	POKE(unit->nr_installs, unit->nr_installs - 1);
	expect("installations");
	POKE(hw_a->users, hw_a->users + 1);
	expect("users, ");
	POKE(hw_a->inst[0].users, hw_a->inst[0].users + 1);
	expect("users on unit");
	POKE(ioas_a->users, 0u);
	expect("users recorded");
	POKE(parent->children, 0u);
	expect("children");
	POKE(vi->children, 3u);
	expect("children recorded");
	POKE(ioas_a->nr_hwpts, 2u);
	expect("HWPTs recorded");
	POKE(ctx->nr_units, 2u);
	expect("units recorded");
}

static void t_flags(void)
{
	uint8_t junk = 7;

	poke(&hw_a->flush_on_map, &junk, 1);
	expect("neither true nor false");
	poke(&unit->caps.pass_through, &junk, 1);
	expect("neither true nor false");
	poke(&dev1->desc.ats, &junk, 1);
	expect("neither true nor false");
	POKE(hw_a->flags, 0x80u);
	expect("flags 0x80");
}

static void t_refs(void)
{
	struct dev_attach *a = list_entry(dev1->attaches.next, struct dev_attach, link);

	POKE(a->hwpt, parent);
	expect("not installed on its unit");
	POKE(a->ioas, ioas_b);
	expect("does not hold");
	POKE(unit->slot, 70u);
	expect("register slot");
	POKE(unit->family, (enum uiommu_family)9);
	expect("not built into");
	POKE(nested->s1.u.vtd.addr_width, 13u);
	expect("stage-1 description");
	POKE(nested->viommu, (struct uiommu_viommu *)(void *)ioas_b);
	expect("vIOMMU does not exist");
	POKE(dev2->desc.hw_id, dev1->desc.hw_id);
	expect("taken by another device");
	POKE(dev2->obj.id, dev1->obj.id);
	run_check();
	CU_ASSERT(nlines > 0);
	undo();
	expect_clean();
}

static void t_resv_owner(void)
{
	struct iopt *io = &ioas_a->iopt;

	for (uint32_t i = 0; i < io->nr_resv; i++)
		if (io->resv[i].owner == hw_a) {
			POKE(io->resv[i].owner, (const void *)bufva);
			break;
		}
	run_check();
	bool owner = false, aperture = false;
	for (int i = 0; i < nlines && i < 128; i++) {
		owner |= strstr(lines[i], "which does not exist") != NULL;
		aperture |= strstr(lines[i], "aperture") != NULL;
	}
	CU_ASSERT(owner && aperture);
	undo();
	expect_clean();
}

static void t_lists(void)
{
	struct list_node *n = dev1->attaches.next;

	POKE(n->prev, n);
	expect("point back");
	POKE(ctx->objs[UOBJ_DEVICE].next, (struct list_node *)(void *)0x1000);
	expect("not arena memory");
	POKE(dev2->obj.ctx_link.next, (struct list_node *)(void *)0x1000);
	expect("leaves the arena");
	POKE(hw_a->attaches.next->next, &hw_a->attaches);
	expect("HWPT attachments");
}

static void t_ext(void)
{
	struct ctx_ext *e = ctx->ext;
	struct ext_buf *b = list_entry(e->bufs.next, struct ext_buf, link);
	struct ext_name *nm = list_entry(e->names.next, struct ext_name, link);

	POKE(e->nr_bufs, e->nr_bufs + 1);
	expect("buffers recorded");
	POKE(b->dma.va, (void *)(bufva + 4096));
	expect("not a DMA block");
	char full[UIOMMU_NAME_MAX];
	memset(full, 'n', sizeof(full));
	poke(nm->name, full, sizeof(full));
	expect("not a string");
	struct ext_name *nm2 = list_entry(nm->link.next, struct ext_name, link);
	poke(nm2->name, nm->name, sizeof(nm->name));
	expect("given to two objects");
}

/* -- leaks -- */
static void t_leak_table(void)
{
	uint64_t pa;
	void *p = uenv_page_alloc(-1, &pa);

	CU_ASSERT_FATAL(p != NULL);
	run_check();
	CU_ASSERT(nlines == 1 && strstr(lines[0], "leaked table page"));
	uenv_page_free(p);
	expect_clean();
}

static void t_leak_meta(void)
{
	void *p = uenv_zalloc(100), *q = uenv_zalloc(3u << 20);

	CU_ASSERT_FATAL(p && q);
	run_check();
	CU_ASSERT(nlines == 2 && strstr(lines[0], "leaked") && strstr(lines[1], "leaked"));
	bool chunk = false;
	for (int i = 0; i < nlines && i < 128; i++)
		chunk |= strstr(lines[i], "leaked chunk") != NULL;
	CU_ASSERT(chunk);
	uenv_free(p);
	uenv_free(q);
	expect_clean();
}

static void t_leak_dma(void)
{
	struct uenv_dma d, big;

	CU_ASSERT_FATAL(uenv_dma_alloc(8192, 4096, -1, &d) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(2u << 20, 2u << 20, -1, &big) == 0);
	run_check();
	bool dma = false, chunk = false;
	for (int i = 0; i < nlines && i < 128; i++) {
		dma |= strstr(lines[i], "leaked DMA block") != NULL;
		chunk |= strstr(lines[i], "leaked chunk") != NULL;
	}
	CU_ASSERT(nlines == 2 && dma && chunk);
	uenv_dma_free(&d);
	uenv_dma_free(&big);
	expect_clean();
}

static void t_leak_unlinked(void)
{
	struct ctx_ext *e = ctx->ext;
	struct ext_buf *b = list_entry(e->bufs.next, struct ext_buf, link);

	/* The buffer record leaves the list: it and its block leak. */
	POKE(e->bufs.next, b->link.next);
	POKE(b->link.next->prev, &e->bufs);
	POKE(e->nr_bufs, e->nr_bufs - 1);
	run_check();
	bool meta = false, dma = false;
	for (int i = 0; i < nlines && i < 128; i++) {
		meta |= strstr(lines[i], "leaked metadata object") != NULL;
		dma |= strstr(lines[i], "leaked") && strstr(lines[i], "chunk");
	}
	CU_ASSERT(meta && dma);
	undo();
	expect_clean();
}

static void t_leak_spare_table(void)
{
	struct pgt *p = pgt_a();

	/* The reserve forgets one table: it leaks. */
	CU_ASSERT_FATAL(p->nr_spare > 0);
	POKE(p->nr_spare, p->nr_spare - 1);
	uint64_t *first = uenv_iova_to_va(p->spare_pa);
	uint64_t *second = p->nr_spare ? uenv_iova_to_va(first[0]) : NULL;
	if (second)
		POKE(first[0], second[0]);
	POKE(p->spare_pa, p->nr_spare ? p->spare_pa : 0ull);
	run_check();
	bool leak = false;
	for (int i = 0; i < nlines && i < 128; i++)
		leak |= strstr(lines[i], "leaked table page") != NULL;
	if (!leak)
		dump("leaked table page");
	CU_ASSERT(leak);
	undo();
	expect_clean();
}

static void t_shared_alloc(void)
{
	/* Two owners of one allocation: the allowed ranges in the reserved
	 * ranges' array. */
	POKE(ioas_a->iopt.allowed, (struct iopt_range *)(void *)ioas_a->iopt.resv);
	expect("also used by something else");
}

/* -- the arena's own bookkeeping -- */
struct region {
	const char *what;
	void *p;
	size_t len;
};
static struct region regions[4096];
static int nregions;

static void region_cb(void *arg, const char *what, void *p, size_t len)
{
	(void)arg;
	if (nregions < 4096)
		regions[nregions++] = (struct region){what, p, len};
}

static struct region *region(const char *what)
{
	nregions = 0;
	uenv_debug_regions(region_cb, NULL);
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].what, what))
			return &regions[i];
	return NULL;
}

static void t_arena(void)
{
	struct region *r = region("chunk bookkeeping");
	uint32_t *nfree;

	CU_ASSERT_FATAL(r != NULL);
	nfree = r->p;
	POKE(*nfree, *nfree + 1);
	expect("free pages recorded");
	r = region("header");
	CU_ASSERT_FATAL(r != NULL);
	struct uenv_stats st;
	uenv_get_stats(&st);
	/* The live counts among the header's scalars. */
	uint64_t *w = r->p;
	size_t i;
	for (i = 0; i + 3 < r->len / 8; i++)
		if (w[i] == st.heap_live && w[i + 1] == st.pages_live && w[i + 2] == st.dma_live &&
		    w[i + 3] == st.allocs)
			break;
	CU_ASSERT(i + 3 < r->len / 8);
	if (i < r->len / 8) {
		POKE(w[i + 1], w[i + 1] + 1);
		expect("live counts");
	}
}

/* -- adoption refuses what the checker refuses -- */
static void t_adopt_refused(void)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM, .name = name};
	char path[512];
	struct iopt_area *a = area_at(ioas_a, A_SMALL + 0x2000);
	uint64_t off, good = a->gap, bad = a->gap + 0x1000, base;
	struct uiommu_ctx *c2;
	int fd;

	/* The gap's file offset: arena addresses are base + offset. */
	CU_ASSERT_FATAL(uiommu_state_path(&o, path, sizeof(path)) == 0);
	base = 0x5e0000000000ull;
	if (getenv("UIOMMU_ARENA_BASE"))
		base = strtoull(getenv("UIOMMU_ARENA_BASE"), NULL, 0);
	off = (uint64_t)(uintptr_t)&a->gap - base;
	uiommu_ctx_detach(ctx);
	ctx = NULL;
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pwrite(fd, &bad, sizeof(bad), (off_t)off) == sizeof(bad));
	CU_ASSERT(uiommu_ctx_create(&o, &c2) == -EUCLEAN);
	CU_ASSERT(pwrite(fd, &good, sizeof(good), (off_t)off) == sizeof(good));
	close(fd);
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	expect_clean();
}

/* -- more of each kind -- */
static void t_unit_fields(void)
{
	POKE(unit->access, (enum uiommu_unit_access)7);
	expect("access kind");
	POKE(unit->bind_gen, 0ull);
	expect("bind generation");
	POKE(unit->did_min, unit->caps.num_domains);
	expect("domain-ID map");
	POKE(unit->resv[0].r.kind, (enum uiommu_resv_kind)9);
	expect("reserved region 0");
	POKE(unit->caps.family, UIOMMU_FAMILY_AMDVI);
	expect("capabilities of family");
	POKE(unit->priv, (void *)bufva);
	expect("driver state not a metadata allocation");
	POKE(dev1->priv, (void *)(bufva + 8));
	expect("driver state not a metadata allocation");
	/* Two devices with one driver state: shared. */
	POKE(dev3->priv, dev1->priv);
	expect("also used by something else");
}

static void t_hwpt_more(void)
{
	POKE(hw_a->inst[1], hw_a->inst[0]);
	POKE(hw_a->nr_inst, 2u);
	expect("installed twice");
	POKE(hw_a->inst[0].users, 0u);
	expect("without users");
	POKE(hw_a->cfg.node, 77);
	POKE(*(int *)&((struct pgt *)hw_a->pgt)->cfg.node, 77);
	expect("NUMA node");
	POKE(nested->flags, 1u);
	expect("nested, with flags");
	POKE(nested->cfg.ias, 39u);
	expect("stage-2 configuration");
	struct uiommu_hwpt *child = list_entry(parent->child_list.next, struct uiommu_hwpt, child_link);
	POKE(child->parent, hw_a);
	expect("not its own");
	POKE(vi->unit, (struct uiommu_unit *)(void *)ioas_a);
	expect("unit or parent does not exist");
	POKE(ioas_b->ctx, (struct uiommu_ctx *)(void *)ioas_a);
	expect("belongs to another context");
	POKE(fl->ioas, ioas_a);
	expect("follows a HWPT that is not its own");
}

static void t_attach_more(void)
{
	struct list_node *pos;
	struct dev_attach *id_a = NULL, *pasid_a = NULL;

	list_for_each(pos, &dev3->attaches)
	{
		struct dev_attach *a = list_entry(pos, struct dev_attach, link);

		if (!a->hwpt)
			id_a = a;
		else
			pasid_a = a;
	}
	CU_ASSERT_FATAL(pasid_a != NULL);
	POKE(pasid_a->pasid, 1u << 21);
	expect("attached at PASID");
	if (id_a) {
		POKE(id_a->ioas, ioas_a);
		expect("identity attachment");
		POKE(pasid_a->pasid, UIOMMU_NO_PASID);
		expect("attached twice");
		POKE(unit->id_users, 0u);
		expect("identity attachments recorded");
	}
	POKE(dev1->attaches.next, &dev1->attaches);
	POKE(dev1->attaches.prev, &dev1->attaches);
	run_check();
	CU_ASSERT(nlines > 0); /* its attachment is now nobody's: users, lists, leak */
	undo();
	expect_clean();
}

static void t_ids(void)
{
	struct uobj *o = &dev2->obj;

	/* Out of its bucket: not in the ID hash. */
	POKE(o->id_link.prev->next, o->id_link.next);
	POKE(o->id_link.next->prev, o->id_link.prev);
	expect("not in the ID hash");
	/* In the wrong bucket: bucket of ID + 1. */
	POKE(o->id, o->id + UOBJ_HASH);
	run_check();
	CU_ASSERT(nlines == 0 || strstr(lines[0], "ID"));
	undo();
	expect_clean();
	void **root = uenv_root_slot();
	POKE(*root, (void *)ioas_a);
	expect("not the state's root object");
}

static void t_iopt_more(void)
{
	struct iopt *io = &ioas_a->iopt;
	struct rb_node *r = io->areas.node;

	POKE(r->left->red, 5u);
	expect("colour 5");
	POKE(r->left, r->right);
	expect("both children the same");
	if (io->partial) {
		POKE(io->partial->prev, io->partial);
		expect("record block list broken");
		POKE(io->partial->free, (struct iopt_area *)NULL);
		expect("listed, but full");
		POKE(io->partial, (struct iopt_blk *)NULL);
		expect("not listed");
	}
	POKE(io->allowed[0].start, 0xf0000000ull);
	POKE(io->allowed[0].last, 0xf0000fffull);
	expect("intersects a reserved range");
	POKE(io->resv[0].kind, 77u);
	expect("of kind 77");
	struct iopt_area *a = area_at(ioas_a, A_SMALL);
	POKE(a->prot, 4u);
	expect("protection");
}

static void t_pte_more(void)
{
	struct pgt_walk_level w[8];
	int n = pgt_walk(hw_a->pgt, A_SMALL, w, 8);
	uint64_t *up = uenv_iova_to_va(w[n - 2].table_pa);
	uint64_t *root = uenv_iova_to_va(hw_a->pgt->cfg.root_pa);
	int lvl;

	POKE(up[w[n - 2].index], up[w[n - 2].index] | VTD_SL_X);
	expect("has other bits");
	uint64_t *big = pte_of(hw_a, A_LARGE, NULL, &lvl);
	POKE(*big, *big + 4096);
	expect("not aligned");
	uint64_t *e = pte_of(hw_a, A_SMALL, NULL, NULL);
	POKE(*e, *e | (1ull << 52));
	expect("unknown bits");
	/* A leaf in the root (512 GiB): no such leaves in this format. */
	CU_ASSERT_FATAL(root[300] == 0);
	POKE(root[300], (bus & ~((1ull << 39) - 1)) | VTD_SL_R | VTD_SL_PS);
	POKE(*count_of(root), (uint16_t)(*count_of(root) + 1));
	expect("where there are none");
	/* The x86 first-level root: entries 256-511 are past its 47 bits. */
	uint64_t *flroot = uenv_iova_to_va(fl->pgt->cfg.root_pa);
	unsigned int i0 = (unsigned int)(B_IOVA >> 39) & 511;
	POKE(flroot[400], flroot[i0]);
	POKE(*count_of(flroot), (uint16_t)(*count_of(flroot) + 1));
	expect("beyond the input width");
	struct pgt *p = pgt_a();
	uint64_t *sp = uenv_iova_to_va(p->spare_pa);
	for (uint32_t i = 1; i < p->nr_spare; i++)
		sp = uenv_iova_to_va(sp[0]);
	POKE(sp[0], p->cfg.root_pa);
	expect("goes on after");
	uint64_t *head = uenv_iova_to_va(p->piece[0].pa);
	POKE(head[511], head[511] ? 0ull : 0x1000ull | VTD_SL_R);
	expect("holds more than its link");
}

static void t_ext_more(void)
{
	struct ctx_ext *e = ctx->ext;

	POKE(e->names.next->next, (struct list_node *)(void *)(bufva + 64));
	expect("leaves the arena");
	POKE(e->bufs.next, (struct list_node *)(void *)(bufva + 64));
	POKE(e->bufs.prev, (struct list_node *)(void *)(bufva + 64));
	run_check();
	CU_ASSERT(nlines > 0);
	undo();
	expect_clean();
}

static void t_arena_more(void)
{
	struct region *r = region("hash slot");

	CU_ASSERT_FATAL(r != NULL);
	POKE(*(int32_t *)r->p, 999);
	expect("hash slot");
	r = region("chunk clean bitmap");
	CU_ASSERT_FATAL(r != NULL);
	POKE(*(uint64_t *)r->p, *(uint64_t *)r->p | 1ull); /* the bookkeeping page */
	expect("in use and marked clean");
	r = region("chunk entry");
	CU_ASSERT_FATAL(r != NULL);
	POKE(((uint32_t *)r->p)[8], 1u); /* dma_block of a standard chunk */
	expect("DMA flag");
	r = region("chunk tags");
	uint8_t *tag = r->p;
	uint32_t p;
	for (p = 1; p < 511 && !(tag[p] == 0 && tag[p + 1] == 0); p++)
		;
	CU_ASSERT_FATAL(p < 511);
	POKE(tag[p + 1], (uint8_t)4); /* a run tail after a free page */
	region("chunk used bitmap");
	uint64_t *used = regions[0].p;
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].what, "chunk used bitmap") && regions[i].p < (void *)tag &&
		    (uint8_t *)regions[i].p + 4096 > tag)
			used = regions[i].p;
	POKE(used[(p + 1) / 64], used[(p + 1) / 64] | 1ull << ((p + 1) % 64));
	run_check();
	bool tail = false;
	for (int i = 0; i < nlines && i < 128; i++)
		tail |= strstr(lines[i], "run tail") || strstr(lines[i], "free pages recorded");
	CU_ASSERT(tail);
	undo();
	expect_clean();
}

/* A larger state: the check stays clean and about linear (it prints its
 * time; UIOMMU_CHECK_PAGES sets the size). */
static void t_scale(void)
{
	const char *e = getenv("UIOMMU_CHECK_PAGES");
	uint64_t n = e ? strtoull(e, NULL, 0) : getenv("UIOMMU_TEST_QUICK") ? 2000 : 50000;
	struct uiommu_ioas *s;
	struct timespec t0, t1, t2;
	uint64_t iova;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &s) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(dev2, 9, uiommu_ioas_id(s), NULL) == 0);
	for (uint64_t i = 0; i < n; i++) {
		iova = 0x100000000ull + i * 0x2000ull;
		CU_ASSERT_FATAL(uiommu_ioas_map(s, &iova, bus + (i % 2048) * 4096ull, 4096,
						UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_clean();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (uint64_t i = 0; i < n; i++)
		CU_ASSERT_FATAL(uiommu_ioas_map(s, &(uint64_t){0x800000000ull + i * 0x2000ull},
						bus + (i % 2048) * 4096ull, 4096,
						UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	struct timespec t3;
	expect_clean();
	clock_gettime(CLOCK_MONOTONIC, &t3);
	printf("\n    check of %llu more areas: %.1f ms; of %llu: %.1f ms ",
	       (unsigned long long)n,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	       (unsigned long long)(2 * n),
	       (double)(t3.tv_sec - t2.tv_sec) * 1e3 + (double)(t3.tv_nsec - t2.tv_nsec) / 1e6);
	CU_ASSERT(uiommu_ioas_unmap_all(s, NULL) == 0);
	CU_ASSERT(uiommu_device_detach(dev2, 9) == 0);
	CU_ASSERT(uiommu_ioas_destroy(s) == 0);
	expect_clean();
}

static const struct ut_test tests[] = {
	{"clean", t_clean},
	{"iopt_gap", t_iopt_gap},
	{"iopt_max_gap", t_iopt_max_gap},
	{"iopt_root_red", t_iopt_root_red},
	{"iopt_colour", t_iopt_colour},
	{"iopt_parent_link", t_iopt_parent_link},
	{"iopt_cycle", t_iopt_cycle},
	{"iopt_overlap", t_iopt_overlap},
	{"iopt_align", t_iopt_align},
	{"iopt_counts", t_iopt_counts},
	{"iopt_ends", t_iopt_ends},
	{"iopt_hints", t_iopt_hints},
	{"iopt_foreign_node", t_iopt_foreign_node},
	{"iopt_spare", t_iopt_spare},
	{"iopt_blocks", t_iopt_blocks},
	{"iopt_ranges", t_iopt_ranges},
	{"pte_wrong_pa", t_pte_wrong_pa},
	{"pte_missing", t_pte_missing},
	{"pte_stray", t_pte_stray},
	{"pte_prot", t_pte_prot},
	{"pte_large", t_pte_large},
	{"pte_count", t_pte_count},
	{"pte_junk", t_pte_junk},
	{"table_not_table", t_table_not_table},
	{"table_shared", t_table_shared},
	{"pgt_fields", t_pgt_fields},
	{"pgt_reserve", t_pgt_reserve},
	{"pgt_caches", t_pgt_caches},
	{"hwpt_cfg", t_hwpt_cfg},
	{"did", t_did},
	{"counts", t_counts},
	{"flags", t_flags},
	{"refs", t_refs},
	{"resv_owner", t_resv_owner},
	{"lists", t_lists},
	{"ext", t_ext},
	{"leak_table", t_leak_table},
	{"leak_meta", t_leak_meta},
	{"leak_dma", t_leak_dma},
	{"leak_unlinked", t_leak_unlinked},
	{"leak_spare_table", t_leak_spare_table},
	{"shared_alloc", t_shared_alloc},
	{"arena", t_arena},
	{"unit_fields", t_unit_fields},
	{"hwpt_more", t_hwpt_more},
	{"attach_more", t_attach_more},
	{"ids", t_ids},
	{"iopt_more", t_iopt_more},
	{"pte_more", t_pte_more},
	{"ext_more", t_ext_more},
	{"arena_more", t_arena_more},
	{"scale", t_scale},
	{"adopt_refused", t_adopt_refused},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"check", suite_init, suite_fini, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
