/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Randomized differential test: one seeded sequence of map/unmap operations
 * is applied to every format (several geometries, coherent and not, pa != va
 * and pa == va table memory) and to a plain reference list of extents.
 * Results, gathers and iova_to_phys must agree everywhere.
 *
 * The run is made twice with the same seed: once with table memory that
 * offers a page_count slot (the engine keeps a count of present entries
 * per table; built with PGT_DEBUG_COUNTS every emptiness decision is
 * checked against a scan, and every table's count is recounted
 * periodically) and once without (the engine scans).
 *
 * PGT_SEED=<n> replays a run, PGT_OPS=<n> changes its length (default
 * 100000 operations).
 */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "pgt_test_mem.h"
#include "pgtable/pgt_internal.h"
#include "ut.h"

#define SZ_4K	   0x1000ULL
#define SZ_2M	   0x200000ULL
#define SZ_1G	   0x40000000ULL
#define WINDOW	   (1ULL << 35) /* IOVA window shared by all formats: 32 GiB */
#define MAX_LIVE   256
#define POOL_PAGES 4096

struct ext {
	uint64_t iova, pa, size;
};

struct inst {
	const char *name;
	enum pgt_format fmt;
	unsigned int ias;
	bool coherent;
	bool identity;
	unsigned int quirks;
	struct tmem mem;
	struct pgt *p;
};

static struct inst insts[] = {
	{"vtd-sl/4", PGT_VTD_SL, 48, true, false, 0},
	{"vtd-sl/3 nc snp", PGT_VTD_SL, 39, false, false, PGT_QUIRK_VTD_SNOOP},
	{"x86-fl/4 pa==va", PGT_X86_FL, 47, true, true, 0},
	{"x86-fl/5 nc", PGT_X86_FL, 56, false, false, 0},
	{"amd-v1/3", PGT_AMD_V1, 39, true, false, 0},
	{"amd-v1/6", PGT_AMD_V1, 64, true, false, 0},
	{"arm-s1/4", PGT_ARM_S1_4K, 48, true, false, 0},
	{"arm-s2/3 nc", PGT_ARM_S2_4K, 39, false, false, 0},
	{"arm-s2/3 36-bit", PGT_ARM_S2_4K, 36, true, false, 0},
};
#define NR_INST ARRAY_SIZE(insts)

static struct ext ref[MAX_LIVE + 1];
static size_t nref;
static uint64_t rng_state;
static unsigned long failures;
static const struct pgt_mem_ops *cur_ops;
static uint64_t run_seed;
static bool have_seed;
static unsigned long nr_eexist;
static unsigned long nr_unmap_page; /* pages pgt_unmap_page took */

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			if (failures++ < 20) {                                      \
				fprintf(stderr, "\n  %s:%d: ", __FILE__, __LINE__); \
				fprintf(stderr, __VA_ARGS__);                       \
			}                                                           \
		}                                                                   \
	} while (0)

/* ---- reference model: sorted, non-overlapping extents ---- */

/* Index of the first extent ending above @iova. */
static size_t ref_find(uint64_t iova)
{
	size_t lo = 0, hi = nref;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ref[mid].iova + ref[mid].size <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool ref_overlaps(uint64_t iova, uint64_t size)
{
	size_t i = ref_find(iova);

	return i < nref && ref[i].iova < iova + size;
}

static uint64_t ref_lookup(uint64_t iova)
{
	size_t i = ref_find(iova);

	if (i < nref && ref[i].iova <= iova)
		return ref[i].pa + (iova - ref[i].iova);
	return UINT64_MAX;
}

static void ref_insert(uint64_t iova, uint64_t pa, uint64_t size)
{
	size_t i = ref_find(iova);

	memmove(&ref[i + 1], &ref[i], (nref - i) * sizeof(ref[0]));
	ref[i] = (struct ext){iova, pa, size};
	nref++;
}

/* Remove extents [k, j]; returns their total size. */
static uint64_t ref_remove(size_t k, size_t j)
{
	uint64_t bytes = 0;

	for (size_t i = k; i <= j; i++)
		bytes += ref[i].size;
	memmove(&ref[k], &ref[j + 1], (nref - j - 1) * sizeof(ref[0]));
	nref -= j - k + 1;
	return bytes;
}

/* ---- applying operations everywhere ---- */

static void probe(uint64_t iova)
{
	if (iova >= WINDOW)
		return;
	iova += rnd_below(SZ_4K);
	uint64_t want = ref_lookup(iova);

	for (size_t n = 0; n < NR_INST; n++) {
		uint64_t got = pgt_iova_to_phys(insts[n].p, iova);

		CHECK(got == want,
		      "%s: iova 0x%" PRIx64 " -> 0x%" PRIx64 ", reference 0x%" PRIx64 "\n",
		      insts[n].name, iova, got, want);
	}
}

static void probe_range(uint64_t iova, uint64_t size)
{
	probe(iova);
	probe(iova + size - SZ_4K);
	probe(iova + (rnd_below(size) & ~(SZ_4K - 1)));
	if (iova)
		probe(iova - SZ_4K);
	probe(iova + size);
}

static void do_map(uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot)
{
	int want = ref_overlaps(iova, size) ? -EEXIST : 0;

	for (size_t n = 0; n < NR_INST; n++) {
		struct inst *in = &insts[n];
		struct pgt_gather g = {0};
		int rc = pgt_map(in->p, iova, pa, size, prot, &g);

		CHECK(rc == want, "%s: map 0x%" PRIx64 "+0x%" PRIx64 " -> %d, reference %d\n",
		      in->name, iova, size, rc, want);
		if (rc == 0)
			CHECK(g.start == iova && g.end == iova + size && g.pgsize >= SZ_4K &&
				      !g.tables_freed,
			      "%s: map gather [0x%" PRIx64 ", 0x%" PRIx64 ")\n", in->name, g.start,
			      g.end);
		pgt_gather_release(in->p, &g);
	}
	if (want == 0)
		ref_insert(iova, pa, size);
	else
		nr_eexist++;
	probe_range(iova, size);
}

static void do_unmap(uint64_t iova, uint64_t size, uint64_t want)
{
	for (size_t n = 0; n < NR_INST; n++) {
		struct inst *in = &insts[n];
		struct pgt_gather g = {0};
		uint64_t got;

		/* Half the single pages go through the strict-unmap fast path
		 * first: when it takes the page it must be what pgt_unmap
		 * would have removed; when it declines, pgt_unmap does it. */
		if (size == SZ_4K && rnd_below(2) && pgt_unmap_page(in->p, iova)) {
			CHECK(want == SZ_4K, "%s: unmap_page 0x%" PRIx64 " took a page, reference 0x%" PRIx64 "\n",
			      in->name, iova, want);
			nr_unmap_page++;
			continue;
		}
		got = pgt_unmap(in->p, iova, size, &g);
		CHECK(got == want,
		      "%s: unmap 0x%" PRIx64 "+0x%" PRIx64 " removed 0x%" PRIx64
		      ", reference 0x%" PRIx64 "\n",
		      in->name, iova, size, got, want);
		if (got)
			CHECK(g.start >= iova && g.end <= iova + size && g.end - g.start >= got &&
				      g.pgsize >= SZ_4K,
			      "%s: unmap gather\n", in->name);
		else
			CHECK(g.end == g.start && !g.freed, "%s: empty unmap gathered\n", in->name);
		pgt_gather_release(in->p, &g);
	}
	probe_range(iova, size);
}

static void random_map(void)
{
	uint64_t cls = rnd_below(100), size, align, pa_align;
	uint64_t iova, pa;

	if (cls < 55) {
		size = (1 + rnd_below(16)) * SZ_4K;
		align = pa_align = SZ_4K;
	} else if (cls < 75) {
		size = (1 + rnd_below(700)) * SZ_4K;
		align = pa_align = SZ_4K;
	} else if (cls < 92) {
		size = (1 + rnd_below(4)) * SZ_2M + (rnd_below(3) == 0 ? rnd_below(64) * SZ_4K : 0);
		align = SZ_2M;
		pa_align = rnd_below(5) ? SZ_2M : SZ_4K;
	} else if (cls < 97) {
		size = SZ_1G + rnd_below(3) * SZ_2M;
		align = pa_align = SZ_1G;
	} else {
		/* unaligned start: 4K head, 2M leaves, maybe a 1G one, 4K tail */
		size = SZ_1G + rnd_below(2048) * SZ_4K;
		align = SZ_4K;
		pa_align = SZ_2M; /* pa congruent to iova modulo 2M */
	}

	if (nref && rnd_below(10) < 3) {
		/* next to (or onto) a live extent: provokes -EEXIST */
		const struct ext *e = &ref[rnd_below(nref)];
		int64_t d = ((int64_t)rnd_below(17) - 8) * (int64_t)SZ_4K;

		iova = rnd_below(2) ? e->iova + e->size : e->iova - size;
		iova = ALIGN_DOWN_ULL(iova + (uint64_t)d, align);
	} else {
		iova = ALIGN_DOWN_ULL(rnd_below(WINDOW), align);
	}
	if (iova >= WINDOW || iova + size > WINDOW)
		iova = ALIGN_DOWN_ULL(WINDOW - size, align > SZ_1G ? align : SZ_1G);

	pa = ALIGN_DOWN_ULL(rnd_below(1ULL << 38), pa_align > align ? pa_align : align);
	if (align == SZ_4K && pa_align == SZ_2M)
		pa = ALIGN_DOWN_ULL(pa, SZ_2M) | (iova & (SZ_2M - 1));
	else if (pa_align == SZ_4K && align > SZ_4K)
		pa |= SZ_4K * (1 + rnd_below(511)); /* defeat 2M leaves */

	do_map(iova, pa, size, PGT_PROT_READ | (unsigned int)rnd_below(64));
}

static void random_unmap(void)
{
	uint64_t r = rnd_below(100);
	size_t k = rnd_below(nref);

	if (r < 70) {
		/* exactly one extent, as drivers do */
		uint64_t iova = ref[k].iova, size = ref[k].size;

		do_unmap(iova, size, ref_remove(k, k));
	} else if (r < 90) {
		/* several extents, boundaries anywhere in the gaps around them */
		size_t j = k + rnd_below(4);

		if (j >= nref)
			j = nref - 1;
		uint64_t gap_lo = k ? ref[k - 1].iova + ref[k - 1].size : 0;
		uint64_t gap_hi = j + 1 < nref ? ref[j + 1].iova : WINDOW;
		uint64_t lo = gap_lo + (rnd_below(ref[k].iova - gap_lo + 1) & ~(SZ_4K - 1));
		uint64_t end_j = ref[j].iova + ref[j].size;
		uint64_t hi = end_j + (rnd_below(gap_hi - end_j + 1) & ~(SZ_4K - 1));

		do_unmap(lo, hi - lo, ref_remove(k, j));
	} else {
		/* a hole: nothing to remove */
		uint64_t lo = ref[k].iova + ref[k].size;
		uint64_t hi = k + 1 < nref ? ref[k + 1].iova : WINDOW;

		if (hi > lo)
			do_unmap(lo, ALIGN_DOWN_ULL(rnd_below(hi - lo), SZ_4K) + SZ_4K, 0);
	}
}

static void pgt_check_line(void *arg, const char *msg)
{
	fprintf(stderr, "  pgt_check %s: %s\n", (const char *)arg, msg);
}

/* Every table's kept count against a recount (no-op without counts), and
 * the whole table through the checker (pgt_check). */
static void check_counts(void)
{
	for (size_t n = 0; n < NR_INST; n++) {
		unsigned long bad = pgt_check_counts(insts[n].p);
		struct pgt_check_ops co = {.report = pgt_check_line, .arg = (void *)insts[n].name};

		CHECK(bad == 0, "%s: %lu tables with a wrong count\n", insts[n].name, bad);
		bad = pgt_check(insts[n].p, &co);
		CHECK(bad == 0, "%s: pgt_check found %lu problems\n", insts[n].name, bad);
	}
}

static void full_check(void)
{
	for (size_t i = 0; i < nref; i++)
		probe_range(ref[i].iova, ref[i].size);
	check_counts();
}

static void run_differential(const struct pgt_mem_ops *ops_kind)
{
	const char *s = getenv("PGT_SEED"), *o = getenv("PGT_OPS");
	unsigned long ops = o ? strtoul(o, NULL, 0) : 100000;
	unsigned long nmap = 0, nunmap = 0;

	if (!have_seed) {
		run_seed =
			s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
		have_seed = true;
	}
	uint64_t seed = run_seed;

	cur_ops = ops_kind;
	printf("\n  pgtable differential (%s): PGT_SEED=%" PRIu64 " PGT_OPS=%lu\n",
	       ops_kind->span	      ? "spans"
	       : ops_kind->page_count ? "counted"
				      : "scanned",
	       seed, ops);
	fflush(stdout);
	rng_state = seed;
	nref = 0;
	failures = 0;
	nr_eexist = 0;
	nr_unmap_page = 0;
	for (size_t n = 0; n < NR_INST; n++) {
		struct inst *in = &insts[n];
		struct pgt_cfg cfg = {
			.fmt = in->fmt,
			.ias = in->ias,
			.coherent = in->coherent,
			.quirks = in->quirks,
		};
		int err = 0;

		CU_ASSERT_FATAL(tmem_init(&in->mem, POOL_PAGES, in->identity) == 0);
		in->p = pgt_alloc(&cfg, cur_ops, &in->mem, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(in->p);
	}

	for (unsigned long op = 0; op < ops && failures == 0; op++) {
		if (nref > 0 &&
		    (nref >= MAX_LIVE || rnd_below(100) < (nref < MAX_LIVE / 2 ? 25 : 45))) {
			random_unmap();
			nunmap++;
		} else {
			random_map();
			nmap++;
		}
		if (op % 10000 == 9999)
			full_check();
		else if (op % 64 == 63)
			check_counts();
	}
	full_check();
	printf("  %lu maps (%lu -EEXIST), %lu unmaps (%lu pages by pgt_unmap_page), %zu extents "
	       "live at the end\n",
	       nmap, nr_eexist, nunmap, nr_unmap_page, nref);

	/* Unmap everything: every format must be back to its root table. */
	while (nref) {
		uint64_t iova = ref[0].iova, size = ref[0].size;

		do_unmap(iova, size, ref_remove(0, 0));
	}
	check_counts();
	uint64_t relinks = 0;
	for (size_t n = 0; n < NR_INST; n++)
		relinks += insts[n].p->nr_relinks;
	/* With counts, 4 KiB unmaps that empty tables leave kept pieces and
	 * later 4 KiB maps relink them (at other IOVAs, mostly): make sure the
	 * sequence exercised that. */
	if (ops_kind->page_count)
		CHECK(relinks > 100, "only %" PRIu64 " piece relinks\n", relinks);
	printf("(%" PRIu64 " piece relinks) ", relinks);
	for (size_t n = 0; n < NR_INST; n++) {
		struct inst *in = &insts[n];

		CHECK(in->p->nr_tables == 1, "%s: %" PRIu64 " tables left\n", in->name,
		      in->p->nr_tables);
		CHECK(in->mem.live == 2 + pgt_nr_spare(in->p), "%s: %zu pages live\n", in->name,
		      in->mem.live);
		pgt_trim(in->p);
		CHECK(in->mem.live == 2, "%s: %zu pages live after trim\n", in->name, in->mem.live);
		pgt_free(in->p);
		CHECK(in->mem.live == 0, "%s: leak after free\n", in->name);
		tmem_fini(&in->mem);
	}
	if (failures)
		fprintf(stderr, "\n  %lu mismatches; replay with PGT_SEED=%" PRIu64 "\n", failures,
			seed);
	CU_ASSERT_EQUAL(failures, 0);
}

static void test_differential_counted(void)
{
	run_differential(&tmem_ops_counted);
}

static void test_differential_span(void)
{
	run_differential(&tmem_ops_span);
}

static void test_differential_scanned(void)
{
	run_differential(&tmem_ops);
}

/*
 * The strict-unmap fast path against pgt_unmap: single 4 KiB pages mapped
 * across several leaf tables, unmapped in a shuffled order, half of them
 * offered to pgt_unmap_page first.  Every page reads as unmapped right
 * after, every other page as before; tables leave when they empty (the
 * fast path never takes a table's last page); with counted tables on a
 * coherent walker the fast path takes pages, otherwise it declines all.
 */
#define UP_PAGES 1100u
static void run_unmap_page(const struct pgt_mem_ops *ops)
{
	static uint32_t order[UP_PAGES];
	const uint64_t base = 2 * SZ_2M - 8 * SZ_4K, pa0 = 0x40000000ull;

	for (size_t n = 0; n < NR_INST; n++) {
		struct inst *in = &insts[n];
		struct pgt_cfg cfg = {
			.fmt = in->fmt, .ias = in->ias, .coherent = in->coherent, .quirks = in->quirks};
		unsigned long taken = 0;
		int err = 0;

		CU_ASSERT_FATAL(tmem_init(&in->mem, POOL_PAGES, in->identity) == 0);
		in->p = pgt_alloc(&cfg, ops, &in->mem, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(in->p);
		for (uint32_t i = 0; i < UP_PAGES; i++) {
			struct pgt_gather g = {0};

			CU_ASSERT_FATAL(pgt_map(in->p, base + i * SZ_4K, pa0 + i * SZ_4K, SZ_4K,
						PGT_PROT_READ | PGT_PROT_WRITE, &g) == 0);
			pgt_gather_release(in->p, &g);
			order[i] = i;
		}
		for (uint32_t i = UP_PAGES - 1; i > 0; i--) {
			uint32_t j = (uint32_t)rnd_below(i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (uint32_t k = 0; k < UP_PAGES; k++) {
			uint64_t iova = base + order[k] * SZ_4K;
			bool fast = rnd_below(2) && pgt_unmap_page(in->p, iova);

			if (fast) {
				taken++;
			} else {
				struct pgt_gather g = {0};

				CHECK(pgt_unmap(in->p, iova, SZ_4K, &g) == SZ_4K,
				      "%s: unmap of page %u\n", in->name, order[k]);
				pgt_gather_release(in->p, &g);
			}
			CHECK(pgt_iova_to_phys(in->p, iova) == UINT64_MAX,
			      "%s: page %u still mapped\n", in->name, order[k]);
			CHECK(!pgt_unmap_page(in->p, iova), "%s: page %u taken twice\n", in->name,
			      order[k]);
			if (k + 1 < UP_PAGES) {
				uint32_t o = order[k + 1 + rnd_below(UP_PAGES - k - 1)];

				CHECK(pgt_iova_to_phys(in->p, base + o * SZ_4K) == pa0 + o * SZ_4K,
				      "%s: page %u lost\n", in->name, o);
			}
		}
		if (in->coherent && ops->page_count)
			CHECK(taken > UP_PAGES / 8, "%s: fast path took only %lu pages\n", in->name,
			      taken);
		else
			CHECK(taken == 0, "%s: fast path took %lu pages\n", in->name, taken);
		CHECK(in->p->nr_tables == 1, "%s: %" PRIu64 " tables left\n", in->name,
		      in->p->nr_tables);
		pgt_free(in->p);
		CHECK(in->mem.live == 0, "%s: leak after free\n", in->name);
		tmem_fini(&in->mem);
	}
	CU_ASSERT_EQUAL(failures, 0);
}

static void test_unmap_page(void)
{
	rng_state = 12345;
	failures = 0;
	run_unmap_page(&tmem_ops_counted);
	run_unmap_page(&tmem_ops_span);
	run_unmap_page(&tmem_ops);
}

static const struct ut_test diff_tests[] = {
	{"differential_counted", test_differential_counted},
	{"differential_span", test_differential_span},
	{"differential_scanned", test_differential_scanned},
	{"unmap_page", test_unmap_page},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"pgtable_diff", NULL, NULL, diff_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
