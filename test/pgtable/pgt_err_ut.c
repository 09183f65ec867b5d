/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error paths and bookkeeping: every allocation failure of a map that needs
 * many new tables (fail-nth) and a late -EEXIST leave the table exactly as
 * before; argument and config validation; unmap semantics (partial leaves,
 * table freeing, gathers); write-back accounting for non-coherent walkers.
 */
#include <errno.h>
#include <inttypes.h>

#include "pgt_test_mem.h"
#include "pgtable/pgt_internal.h"
#include "ut.h"

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL
#define RW    (PGT_PROT_READ | PGT_PROT_WRITE)

static struct tmem mem;
/* fail_nth, eexist_rollback and unmap_semantics run with both kinds of
 * table memory: without page_count (tables scanned for emptiness) and with
 * it (counts kept; built with PGT_DEBUG_COUNTS, see meson.build). */
static const struct pgt_mem_ops *cur_ops = &tmem_ops;

static int err_init(void)
{
	return tmem_init(&mem, 8192, false);
}

static int err_fini(void)
{
	tmem_fini(&mem);
	return 0;
}

struct fmt_case {
	enum pgt_format fmt;
	unsigned int ias;
	bool coherent;
};

static const struct fmt_case cases[] = {
	{PGT_VTD_SL, 48, true},	   {PGT_VTD_SL, 48, false},    {PGT_X86_FL, 47, true},
	{PGT_X86_FL, 56, false},   {PGT_AMD_V1, 48, true},     {PGT_AMD_V1, 64, false},
	{PGT_ARM_S1_4K, 48, true}, {PGT_ARM_S2_4K, 48, false},
};

static struct pgt *alloc_case(const struct fmt_case *c)
{
	struct pgt_cfg cfg = {.fmt = c->fmt, .ias = c->ias, .coherent = c->coherent};
	int err = 0;
	struct pgt *p = pgt_alloc(&cfg, cur_ops, &mem, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/* The baseline: a few mappings whose tables the failing map shares. */
struct mapping {
	uint64_t iova, pa, size;
};

/* Target range: 3 pages before a 512G boundary (into an existing leaf
 * table), then a 1G leaf, a 2M leaf and 5 pages, all in new tables. */
#define T_IOVA ((1ULL << 39) - 3 * SZ_4K)
#define T_PA   ((1ULL << 32) - 3 * SZ_4K) /* pa - iova is 1G aligned */
#define T_SIZE (3 * SZ_4K + SZ_1G + SZ_2M + 5 * SZ_4K)

static const struct mapping base[] = {
	{0x1000, 0x5000, SZ_4K},
	{0x40000000, 0x80000000, SZ_2M},
	{0x200000, 0x300000, 100 * SZ_4K},
	{T_IOVA - 16 * SZ_4K, 0x7000000, SZ_4K}, /* shares the leaf table with T_IOVA */
	{(1ULL << 40) + 0x5000, 0x1000000, SZ_4K},
};

static void map_base(struct pgt *p)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(base); i++) {
		struct pgt_gather g = {0};

		CU_ASSERT_EQUAL(pgt_map(p, base[i].iova, base[i].pa, base[i].size, RW, &g), 0);
	}
}

/* Every baseline page still maps as before; @t_iova..+t_size maps nothing. */
static void check_base(struct pgt *p, uint64_t t_iova, uint64_t t_size)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(base); i++)
		for (uint64_t off = 0; off < base[i].size; off += SZ_4K)
			bad += pgt_iova_to_phys(p, base[i].iova + off) != base[i].pa + off;
	for (uint64_t off = 0; off < t_size;
	     off += (off < 8 * SZ_4K || t_size - off < 16 * SZ_4K) ? SZ_4K : SZ_2M)
		bad += pgt_iova_to_phys(p, t_iova + off) != UINT64_MAX;
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_fail_nth(void)
{
	for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++) {
		struct pgt *p = alloc_case(&cases[c]);
		uint64_t tables0, live0;
		unsigned int n, failed = 0;
		int rc;

		map_base(p);
		tables0 = p->nr_tables;
		live0 = mem.live;
		for (n = 1;; n++) {
			struct pgt_gather g = {0};

			mem.fail_at = mem.nr_calls + n;
			rc = pgt_map(p, T_IOVA, T_PA, T_SIZE, RW, &g);
			mem.fail_at = 0;
			if (rc == 0)
				break;
			CU_ASSERT_EQUAL(rc, -ENOMEM);
			failed++;
			pgt_gather_release(p, &g);
			/* Emptied tables of the rollback may sit in the reserve:
			 * give them back so the next try asks the allocator. */
			pgt_trim(p);
			CU_ASSERT_EQUAL(p->nr_tables, tables0);
			CU_ASSERT_EQUAL(mem.live, live0);
			CU_ASSERT_EQUAL(pgt_check_counts(p), 0);
			check_base(p, T_IOVA, T_SIZE);
			if (n > 64)
				break;
		}
		CU_ASSERT_EQUAL(rc, 0);
		/* New tables past the boundary: one under the root, one for
		 * the 2M leaf, one for the 5 pages. */
		CU_ASSERT(failed >= 3);
		for (uint64_t off = 0; off < T_SIZE; off += SZ_4K * 97)
			CU_ASSERT_EQUAL(pgt_iova_to_phys(p, T_IOVA + off), T_PA + off);
		CU_ASSERT_EQUAL(pgt_check_counts(p), 0);

		struct pgt_gather g = {0};

		CU_ASSERT_EQUAL(pgt_unmap(p, T_IOVA, T_SIZE, &g), T_SIZE);
		CU_ASSERT_TRUE(g.tables_freed);
		CU_ASSERT_EQUAL(g.pgsize, SZ_4K);
		pgt_gather_release(p, &g);
		CU_ASSERT_EQUAL(p->nr_tables, tables0);
		CU_ASSERT_EQUAL(mem.live, live0 + pgt_nr_spare(p));
		CU_ASSERT_EQUAL(pgt_check_counts(p), 0);
		check_base(p, T_IOVA, T_SIZE);
		pgt_free(p);
	}
	CU_ASSERT_EQUAL(mem.live, 0);

	/* pgt_alloc: the object page, then the root table. */
	for (unsigned int n = 1; n <= 2; n++) {
		struct pgt_cfg cfg = {.fmt = PGT_ARM_S1_4K, .ias = 48};
		int err = 0;

		mem.fail_at = mem.nr_calls + n;
		CU_ASSERT_PTR_NULL(pgt_alloc(&cfg, cur_ops, &mem, &err));
		mem.fail_at = 0;
		CU_ASSERT_EQUAL(err, -ENOMEM);
		CU_ASSERT_EQUAL(mem.live, 0);
	}
}

/* A conflict at the far end of a long map: nothing of it may remain. */
static void test_eexist_rollback(void)
{
	for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++) {
		struct pgt *p = alloc_case(&cases[c]);
		struct pgt_gather g = {0};
		uint64_t obstacle = T_IOVA + T_SIZE - SZ_4K;
		uint64_t tables0, live0;

		map_base(p);
		CU_ASSERT_EQUAL(pgt_map(p, obstacle, 0x9000, SZ_4K, PGT_PROT_READ, &g), 0);
		tables0 = p->nr_tables;
		live0 = mem.live;
		CU_ASSERT_EQUAL(pgt_map(p, T_IOVA, T_PA, T_SIZE, RW, &g), -EEXIST);
		/* what was written and removed again is reported for invalidation */
		CU_ASSERT_FALSE(g.map_nonpresent);
		CU_ASSERT(g.end > g.start);
		pgt_gather_release(p, &g);
		CU_ASSERT_EQUAL(p->nr_tables, tables0);
		CU_ASSERT_EQUAL(mem.live, live0);
		check_base(p, T_IOVA, T_SIZE - SZ_4K);
		CU_ASSERT_EQUAL(pgt_iova_to_phys(p, obstacle), 0x9000);
		CU_ASSERT_EQUAL(pgt_check_counts(p), 0);

		/* conflicts with a larger leaf, from inside and from around it */
		CU_ASSERT_EQUAL(pgt_map(p, 0x40000000 + SZ_4K, 0, SZ_4K, RW, &g), -EEXIST);
		CU_ASSERT_EQUAL(pgt_map(p, 0, 0, SZ_1G + SZ_2M, RW, &g), -EEXIST);
		CU_ASSERT_EQUAL(pgt_map(p, 0x40000000 - SZ_4K, 0x1000, 2 * SZ_4K, RW, &g), -EEXIST);
		pgt_gather_release(p, &g);
		CU_ASSERT_EQUAL(p->nr_tables, tables0);
		CU_ASSERT_EQUAL(pgt_check_counts(p), 0);
		check_base(p, 0, 0);
		pgt_free(p);
	}
	CU_ASSERT_EQUAL(mem.live, 0);
}

static void test_einval(void)
{
	struct pgt_cfg cfg = {.fmt = PGT_VTD_SL, .ias = 48, .oas = 40, .coherent = true};
	struct pgt_gather g = {0};
	int err = 0;
	struct pgt *p = pgt_alloc(&cfg, &tmem_ops, &mem, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1000, 0, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1800, 0x1000, SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1800, SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1000, 0x1800, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 1ULL << 48, 0x1000, SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, (1ULL << 48) - SZ_4K, 0x1000, 2 * SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0xfffffffffffff000ULL, 0x1000, 2 * SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 1ULL << 40, SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0xfffffffffffff000ULL, 2 * SZ_4K, RW, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1000, SZ_4K, 0, &g), -EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1000, SZ_4K, PGT_PROT_NOEXEC | PGT_PROT_CACHE, &g),
			-EINVAL);
	CU_ASSERT_EQUAL(pgt_map(p, 0x1000, 0x1000, SZ_4K, 1u << 6 | PGT_PROT_READ, &g), -EINVAL);
	CU_ASSERT_EQUAL(g.end, g.start);
	CU_ASSERT_EQUAL(p->nr_tables, 1);
	/* unmap of nonsense removes nothing */
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x1000, 0, &g), 0);
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x1800, SZ_4K, &g), 0);
	CU_ASSERT_EQUAL(pgt_unmap(p, 1ULL << 48, SZ_4K, &g), 0);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, 1ULL << 48), UINT64_MAX);
	pgt_free(p);

	/* configs */
	static const struct pgt_cfg bad[] = {
		{.fmt = 0, .ias = 48},
		{.fmt = 99, .ias = 48},
		{.fmt = PGT_VTD_SL}, /* no size at all */
		{.fmt = PGT_VTD_SL, .levels = 2},
		{.fmt = PGT_VTD_SL, .levels = 6},
		{.fmt = PGT_VTD_SL, .ias = 58},
		{.fmt = PGT_VTD_SL, .ias = 48, .oas = 53},
		{.fmt = PGT_VTD_SL, .ias = 48, .oas = 20},
		{.fmt = PGT_VTD_SL, .ias = 48, .levels = 3},
		{.fmt = PGT_VTD_SL, .ias = 48, .quirks = PGT_QUIRK_ARM_NS},
		{.fmt = PGT_VTD_SL, .ias = 48, .pgsize_bitmap = SZ_2M}, /* no 4K */
		{.fmt = PGT_X86_FL, .ias = 48, .levels = 4},		/* canonical: 47 bits */
		{.fmt = PGT_X86_FL, .levels = 3},
		{.fmt = PGT_X86_FL, .ias = 57},
		{.fmt = PGT_X86_FL, .ias = 47, .quirks = PGT_QUIRK_VTD_SNOOP},
		{.fmt = PGT_AMD_V1, .levels = 7},
		{.fmt = PGT_AMD_V1, .ias = 40, .levels = 3},
		{.fmt = PGT_ARM_S1_4K, .ias = 49},
		{.fmt = PGT_ARM_S1_4K, .ias = 24},
		{.fmt = PGT_ARM_S1_4K, .ias = 39, .levels = 4}, /* T0SZ says level 1 */
		{.fmt = PGT_ARM_S1_4K, .ias = 48, .oas = 49},
		{.fmt = PGT_ARM_S2_4K, .ias = 48, .quirks = PGT_QUIRK_ARM_NS},
	};
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		struct pgt_cfg b = bad[i];

		err = 0;
		CU_ASSERT_PTR_NULL(pgt_alloc(&b, &tmem_ops, &mem, &err));
		if (err != -EINVAL)
			fprintf(stderr, "\n  bad config %u accepted (%d)\n", i, err);
		CU_ASSERT_EQUAL(err, -EINVAL);
	}
	CU_ASSERT_PTR_NULL(pgt_alloc(&cfg, NULL, &mem, &err));
	CU_ASSERT_EQUAL(mem.live, 0);

	/* levels only: ias derived */
	struct pgt_cfg ok = {.fmt = PGT_AMD_V1, .levels = 5};
	p = pgt_alloc(&ok, &tmem_ops, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ok.ias, 57);
	CU_ASSERT_EQUAL(ok.hw.amd.mode, 5);
	pgt_free(p);
	ok = (struct pgt_cfg){.fmt = PGT_ARM_S2_4K, .levels = 3};
	p = pgt_alloc(&ok, &tmem_ops, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ok.ias, 39);
	pgt_free(p);
}

static void test_unmap_semantics(void)
{
	for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++) {
		struct pgt *p = alloc_case(&cases[c]);
		struct pgt_gather g = {0};
		unsigned int lv = pgt_config(p)->levels;

		/* one page: every table on its path is freed again */
		CU_ASSERT_EQUAL(pgt_map(p, 0x7000, 0x8000, SZ_4K, RW, &g), 0);
		CU_ASSERT_EQUAL(p->nr_tables, lv);
		g = (struct pgt_gather){0};
		CU_ASSERT_EQUAL(pgt_unmap(p, 0, SZ_2M, &g), SZ_4K);
		CU_ASSERT_EQUAL(g.start, 0x7000);
		CU_ASSERT_EQUAL(g.end, 0x8000);
		CU_ASSERT_EQUAL(g.pgsize, SZ_4K);
		CU_ASSERT_EQUAL(g.nr_freed, lv - 1);
		CU_ASSERT_TRUE(g.tables_freed);
		CU_ASSERT_FALSE(g.map_nonpresent);
		CU_ASSERT_EQUAL(p->nr_tables, 1);
		pgt_gather_release(p, &g);
		CU_ASSERT_PTR_NULL(g.freed);
		CU_ASSERT_EQUAL(mem.live, 2 + pgt_nr_spare(p));

		/* leaves larger than the range are not split */
		g = (struct pgt_gather){0};
		CU_ASSERT_EQUAL(pgt_map(p, SZ_2M - 2 * SZ_4K, 0x10000000 - 2 * SZ_4K,
					2 * SZ_4K + SZ_2M, RW, &g),
				0);
		CU_ASSERT_EQUAL(g.pgsize, SZ_4K);
		g = (struct pgt_gather){0};
		CU_ASSERT_EQUAL(pgt_unmap(p, SZ_2M, SZ_4K, &g), 0);
		CU_ASSERT_EQUAL(pgt_unmap(p, SZ_2M + SZ_4K, SZ_2M, &g), 0);
		/* from the 4K pages into the middle of the 2M leaf: stops there */
		CU_ASSERT_EQUAL(pgt_unmap(p, SZ_2M - 2 * SZ_4K, 3 * SZ_4K, &g), 2 * SZ_4K);
		CU_ASSERT_EQUAL(pgt_iova_to_phys(p, SZ_2M), 0x10000000);
		CU_ASSERT_EQUAL(pgt_unmap(p, SZ_2M, SZ_2M, &g), SZ_2M);
		CU_ASSERT_EQUAL(pgt_iova_to_phys(p, SZ_2M), UINT64_MAX);
		pgt_gather_release(p, &g);
		CU_ASSERT_EQUAL(p->nr_tables, 1);

		/* a whole subtree at once: 1G of 2M leaves plus a 4K-mapped 2M */
		g = (struct pgt_gather){0};
		CU_ASSERT_EQUAL(pgt_map(p, SZ_1G, SZ_1G + SZ_2M, SZ_1G, RW, &g), 0);
		CU_ASSERT_EQUAL(g.pgsize, SZ_2M);
		CU_ASSERT_EQUAL(pgt_map(p, 2 * SZ_1G, 0x12345000, SZ_2M, RW, &g), 0);
		g = (struct pgt_gather){0};
		CU_ASSERT_EQUAL(pgt_unmap(p, 0, 1ULL << 39, &g), SZ_1G + SZ_2M);
		CU_ASSERT_EQUAL(g.pgsize, SZ_4K);
		CU_ASSERT_EQUAL(g.start, SZ_1G);
		CU_ASSERT_EQUAL(g.end, 2 * SZ_1G + SZ_2M);
		pgt_gather_release(p, &g);
		CU_ASSERT_EQUAL(p->nr_tables, 1);
		CU_ASSERT_EQUAL(mem.live, 2 + pgt_nr_spare(p));
		CU_ASSERT_EQUAL(pgt_check_counts(p), 0);
		pgt_free(p);
	}
}

static void with_counts(void (*fn)(void))
{
	cur_ops = &tmem_ops_counted;
	fn();
	cur_ops = &tmem_ops;
}

static void with_spans(void (*fn)(void))
{
	cur_ops = &tmem_ops_span;
	fn();
	cur_ops = &tmem_ops;
}

static void test_fail_nth_span(void)
{
	with_spans(test_fail_nth);
}

static void test_eexist_rollback_span(void)
{
	with_spans(test_eexist_rollback);
}

static void test_unmap_semantics_span(void)
{
	with_spans(test_unmap_semantics);
}

/*
 * The reserve of emptied tables: an unmap that empties tables keeps them
 * (after the release that follows invalidation), the next map takes them
 * without calling the allocator, the reserve never holds more than
 * PGT_SPARE_MAX pages, and pgt_trim/pgt_free give them all back.
 */
static void test_spare_reserve(void)
{
	struct pgt_cfg cfg = {.fmt = PGT_VTD_SL, .ias = 48, .coherent = true};
	struct pgt_gather g = {0};
	struct pgt *p;
	int err = 0;

	p = pgt_alloc(&cfg, &tmem_ops_span, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* 4 levels: one page needs 3 tables under the root. */
	CU_ASSERT_EQUAL(pgt_map(p, 0x40000000, 0x9000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(mem.live, 5);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x40000000, SZ_4K, &g), SZ_4K);
	/* One piece: the three tables leave together, their inner links kept. */
	CU_ASSERT_EQUAL(g.nr_freed, 0);
	CU_ASSERT_PTR_NOT_NULL(g.piece);
	CU_ASSERT_EQUAL(g.piece_len, 3);
	CU_ASSERT(g.tables_freed);
	CU_ASSERT_EQUAL(p->nr_tables, 1);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), 0); /* not before the release */
	pgt_gather_release(p, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), 3);
	CU_ASSERT_EQUAL(mem.live, 5);

	/* The next map takes them: no allocator call, same pages. */
	uint64_t calls = mem.nr_calls;
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(p, 0x80000000, 0xa000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(mem.nr_calls, calls);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), 0);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, 0x80000000), 0xa000);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, 0x40000000), UINT64_MAX);
	CU_ASSERT_EQUAL(pgt_check_counts(p), 0);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x80000000, SZ_4K, &g), SZ_4K);
	pgt_gather_release(p, &g);

	/* Bounded: 20 pages 1 GiB apart need 2 tables each (the level-3
	 * table is shared); emptying them all keeps PGT_SPARE_MAX. */
	g = (struct pgt_gather){0};
	for (uint64_t i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(pgt_map(p, i << 30, 0x100000 + (i << 12), SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(p->nr_tables, 1 + 1 + 2 * 20);
	/* The provider drops its spans: the engine must look them up again. */
	uint64_t spans = mem.nr_span;
	mem.gen++;
	g = (struct pgt_gather){0};
	/* Page by page, so that every table is emptied (a range covering a
	 * whole table frees it with its subtree: those are not zero and go
	 * back to the allocator). */
	for (uint64_t i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(pgt_unmap(p, i << 30, SZ_4K, &g), SZ_4K);
	CU_ASSERT(mem.nr_span > spans);
	/* The first unmap's two tables are the gather's piece; the rest
	 * (and the level-3 table the last one empties) are single pages. */
	CU_ASSERT_EQUAL(g.piece_len, 2);
	CU_ASSERT_EQUAL(g.nr_freed, 39);
	pgt_gather_release(p, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), PGT_SPARE_MAX);
	CU_ASSERT_EQUAL(mem.live, 2 + PGT_SPARE_MAX);
	CU_ASSERT_EQUAL(pgt_trim(p), PGT_SPARE_MAX);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), 0);
	CU_ASSERT_EQUAL(mem.live, 2);

	/* Non-coherent walker: a table from the allocator is written back
	 * whole (64 lines); one from the reserve only in its link word's line
	 * and the new entry's (every other line was written back when its
	 * entries were cleared). */
	struct pgt_cfg nc = {.fmt = PGT_VTD_SL, .ias = 48, .coherent = false};
	struct pgt *q = pgt_alloc(&nc, &tmem_ops_span, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	uint64_t lines0 = q->nr_clean_lines;
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, 0x40000000, 0x9000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(q->nr_clean_lines - lines0, 3 * 64 + 1);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, 0x40000000, SZ_4K, &g), SZ_4K);
	pgt_gather_release(q, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 3);
	lines0 = q->nr_clean_lines;
	g = (struct pgt_gather){0};
	/* The piece goes back at the same IOVA: its inner links are already
	 * in memory; the leaf entry's line and the root's entry are written
	 * back, nothing else. */
	CU_ASSERT_EQUAL(pgt_map(q, 0x40000000, 0xa000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(q->nr_clean_lines - lines0, 2);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 0);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(q, 0x40000000), 0xa000);
	CU_ASSERT_EQUAL(pgt_check_counts(q), 0);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, 0x40000000, SZ_4K, &g), SZ_4K);
	pgt_gather_release(q, &g);
	/* Elsewhere: every inner link moves to the new IOVA's index.  Root
	 * index 1 (was 0); level 2: index 5 (was 1, same line: one line);
	 * level 1: index 70 (was 0: both lines); leaf index 9 (line 1); plus
	 * the root's entry: 5 lines. */
	const uint64_t far = (1ull << 39) + (5ull << 30) + (70ull << 21) + (9ull << 12);
	lines0 = q->nr_clean_lines;
	uint64_t calls0 = mem.nr_calls;
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, far, 0xb000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(mem.nr_calls, calls0);
	CU_ASSERT_EQUAL(q->nr_clean_lines - lines0, 5);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(q, far), 0xb000);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(q, far + SZ_4K), UINT64_MAX);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(q, 0x40000000), UINT64_MAX);
	CU_ASSERT_EQUAL(pgt_check_counts(q), 0);
	struct pgt_walk_level wl[PGT_MAX_LEVELS];
	CU_ASSERT_EQUAL(pgt_walk(q, far, wl, PGT_MAX_LEVELS), 4);
	CU_ASSERT_EQUAL(wl[0].index, 1);
	CU_ASSERT_EQUAL(wl[1].index, 5);
	CU_ASSERT_EQUAL(wl[2].index, 70);
	CU_ASSERT_EQUAL(wl[3].index, 9);
	CU_ASSERT(wl[3].leaf);
	/* Every other entry of the relinked tables is zero. */
	for (int l = 1; l < 4; l++) {
		const uint64_t *tb = tmem_ops_span.pa_to_va(&mem, wl[l].table_pa);
		for (unsigned int i = 0; i < 512; i++)
			if (i != wl[l].index)
				CU_ASSERT_EQUAL_FATAL(tb[i], 0);
	}
	/* A second piece waits in the reserve while the first is linked;
	 * a piece of another length is not used for a 4 KiB map that needs
	 * fewer tables (those come from the allocator). */
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, far + SZ_2M, 0xc000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(pgt_check_counts(q), 0);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, far + SZ_2M, SZ_4K, &g), SZ_4K);
	CU_ASSERT_EQUAL(g.piece_len, 1); /* only its leaf table emptied */
	pgt_gather_release(q, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 1);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, far, SZ_4K, &g), SZ_4K);
	CU_ASSERT_EQUAL(g.piece_len, 3);
	pgt_gather_release(q, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 4);
	CU_ASSERT_EQUAL(q->nr_tables, 1);
	CU_ASSERT_EQUAL(pgt_trim(q), 4);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 0);
	/* The general path (a 2 MiB leaf needs two tables under the root)
	 * takes single pages from the reserve: make three with a range unmap
	 * (which frees tables one by one). */
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, 0x40000000, 0xa000, SZ_4K, RW, &g), 0);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, 0x40000000, 2 * SZ_4K, &g), SZ_4K);
	CU_ASSERT_EQUAL(g.nr_freed, 3);
	CU_ASSERT_PTR_NULL(g.piece);
	pgt_gather_release(q, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 3);
	lines0 = q->nr_clean_lines;
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, 0x40000000, 0x200000, SZ_2M, RW, &g), 0);
	CU_ASSERT_EQUAL(q->nr_clean_lines - lines0, 2 * 2 + 1);
	CU_ASSERT_EQUAL(pgt_nr_spare(q), 1);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(q, 0x40001000), 0x201000);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(q, 0x40000000, SZ_2M, &g), SZ_2M);
	pgt_gather_release(q, &g);
	CU_ASSERT_EQUAL(pgt_trim(q), 3);
	lines0 = q->nr_clean_lines;
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(q, 0x40000000, 0x200000, SZ_2M, RW, &g), 0);
	CU_ASSERT_EQUAL(q->nr_clean_lines - lines0, 2 * 64 + 1);
	pgt_free(q);

	/* pgt_free gives back the reserve too. */
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_map(p, 0x40000000, 0x9000, SZ_4K, RW, &g), 0);
	g = (struct pgt_gather){0};
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x40000000, SZ_4K, &g), SZ_4K);
	pgt_gather_release(p, &g);
	CU_ASSERT_EQUAL(pgt_nr_spare(p), 3);
	pgt_free(p);
	CU_ASSERT_EQUAL(mem.live, 0);
}

static void test_fail_nth_counted(void)
{
	with_counts(test_fail_nth);
}

static void test_eexist_rollback_counted(void)
{
	with_counts(test_eexist_rollback);
}

static void test_unmap_semantics_counted(void)
{
	with_counts(test_unmap_semantics);
}

static void test_noncoherent_writeback(void)
{
	struct pgt_cfg cfg = {.fmt = PGT_VTD_SL, .ias = 48, .coherent = false};
	struct pgt_gather g = {0};
	int err = 0;
	struct pgt *p = pgt_alloc(&cfg, &tmem_ops, &mem, &err);
	uint64_t lines, fences;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* keep the leaf table alive with its last entry */
	CU_ASSERT_EQUAL(pgt_map(p, SZ_2M - SZ_4K, 0x1000, SZ_4K, RW, &g), 0);
	/* new tables: three whole pages (64 lines each) + one root line */
	CU_ASSERT_EQUAL(p->nr_clean_lines, 64 + 3 * 64 + 1);

	lines = p->nr_clean_lines;
	fences = p->nr_fences;
	CU_ASSERT_EQUAL(pgt_map(p, 0, 0x100000, 511 * SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(p->nr_clean_lines - lines, 64);
	CU_ASSERT_EQUAL(p->nr_fences - fences, 1);

	lines = p->nr_clean_lines;
	fences = p->nr_fences;
	CU_ASSERT_EQUAL(pgt_unmap(p, 0, 511 * SZ_4K, &g), 511 * SZ_4K);
	CU_ASSERT_EQUAL(p->nr_clean_lines - lines, 64);
	CU_ASSERT_EQUAL(p->nr_fences - fences, 1);

	lines = p->nr_clean_lines;
	CU_ASSERT_EQUAL(pgt_map(p, 0x5000, 0x1000, SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(p->nr_clean_lines - lines, 1);
	lines = p->nr_clean_lines;
	CU_ASSERT_EQUAL(pgt_unmap(p, 0x5000, SZ_4K, &g), SZ_4K);
	CU_ASSERT_EQUAL(p->nr_clean_lines - lines, 1);
	pgt_gather_release(p, &g);
	pgt_free(p);

	cfg.coherent = true;
	p = pgt_alloc(&cfg, &tmem_ops, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(pgt_map(p, 0, 0x100000, 512 * SZ_4K, RW, &g), 0);
	CU_ASSERT_EQUAL(pgt_unmap(p, 0, 512 * SZ_4K, &g), 512 * SZ_4K);
	CU_ASSERT_EQUAL(p->nr_clean_lines, 0);
	CU_ASSERT_EQUAL(p->nr_fences, 0);
	pgt_gather_release(p, &g);
	pgt_free(p);
	CU_ASSERT_EQUAL(mem.live, 0);
}

static const struct ut_test err_tests[] = {
	{"fail_nth", test_fail_nth},
	{"eexist_rollback", test_eexist_rollback},
	{"einval", test_einval},
	{"unmap_semantics", test_unmap_semantics},
	{"noncoherent_writeback", test_noncoherent_writeback},
	{"fail_nth_counted", test_fail_nth_counted},
	{"eexist_rollback_counted", test_eexist_rollback_counted},
	{"unmap_semantics_counted", test_unmap_semantics_counted},
	{"fail_nth_span", test_fail_nth_span},
	{"eexist_rollback_span", test_eexist_rollback_span},
	{"unmap_semantics_span", test_unmap_semantics_span},
	{"spare_reserve", test_spare_reserve},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"pgtable_err", err_init, err_fini, err_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
