/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-table engine benchmark: map and unmap of 4K, 2M, 1G and 256 x 4K
 * batches, for every format, from a pre-warmed page pool (so it measures
 * the walk, not the allocator).  Prints ns per operation (and per page for
 * batches), the median of several runs.
 *
 *   bench-pgtable [-r runs] [-f format] [-q]
 *
 * Each measured loop is its own non-inlined function (loop_map_4k, ...), so
 * `valgrind --tool=callgrind --toggle-collect=loop_map_4k bench-pgtable -q`
 * counts only that loop; -q (quick) runs once with the op counts printed so
 * instructions/op = Ir / ops.  See docs/pgtable.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bitfield.h"
#include "pgtable/pgtable.h"

#define SZ_4K	   0x1000ULL
#define SZ_2M	   0x200000ULL
#define SZ_1G	   0x40000000ULL
#define RW	   (PGT_PROT_READ | PGT_PROT_WRITE)
#define BASE_IOVA  (1ULL << 40)
#define BASE_PA	   0x10000000000ULL /* 1 TiB, 1G aligned */
#define POOL_PAGES 4096
#define FAKE_PA	   0x0000008000000000ULL

/* ---- pre-warmed pool: pages touched once up front, then recycled ---- */

struct pool {
	uint8_t *base;
	uint32_t free[POOL_PAGES];
	unsigned int nr_free;
};

static void *pool_alloc(void *cookie, int node, uint64_t *pa)
{
	struct pool *p = cookie;
	uint8_t *va;

	(void)node;
	if (p->nr_free == 0)
		return NULL;
	va = p->base + ((size_t)p->free[--p->nr_free] << 12);
	memset(va, 0, 4096);
	*pa = FAKE_PA + (uint64_t)(va - p->base);
	return va;
}

static void pool_free(void *cookie, void *va)
{
	struct pool *p = cookie;

	p->free[p->nr_free++] = (uint32_t)(((uint8_t *)va - p->base) >> 12);
}

static void *pool_pa_to_va(void *cookie, uint64_t pa)
{
	struct pool *p = cookie;

	return p->base + (pa - FAKE_PA);
}

static const struct pgt_mem_ops pool_ops = {
	.alloc_page = pool_alloc,
	.free_page = pool_free,
	.pa_to_va = pool_pa_to_va,
};

static int pool_init(struct pool *p)
{
	p->base = aligned_alloc(4096, (size_t)POOL_PAGES << 12);
	if (!p->base)
		return -ENOMEM;
	memset(p->base, 0, (size_t)POOL_PAGES << 12); /* fault every page in */
	for (unsigned int i = 0; i < POOL_PAGES; i++)
		p->free[i] = POOL_PAGES - 1 - i;
	p->nr_free = POOL_PAGES;
	return 0;
}

/* ---- measured loops ---- */

static unsigned long nr_errors;

#define NOINLINE __attribute__((noinline))

/* One pair of loops per size, each its own function, so that callgrind
 * can collect exactly one of them (--toggle-collect=loop_map_4k). */
#define BENCH_LOOPS(tag, size)                                                                     \
	NOINLINE static void loop_map_##tag(struct pgt *t, unsigned int n)                         \
	{                                                                                          \
		for (unsigned int i = 0; i < n; i++) {                                             \
			struct pgt_gather g = {0};                                                 \
			uint64_t off = (uint64_t)i * (size);                                       \
                                                                                                   \
			nr_errors +=                                                               \
				pgt_map(t, BASE_IOVA + off, BASE_PA + off, (size), RW, &g) != 0;   \
		}                                                                                  \
	}                                                                                          \
	NOINLINE static void loop_unmap_##tag(struct pgt *t, unsigned int n)                       \
	{                                                                                          \
		for (unsigned int i = 0; i < n; i++) {                                             \
			struct pgt_gather g = {0};                                                 \
                                                                                                   \
			nr_errors += pgt_unmap(t, BASE_IOVA + (uint64_t)i * (size), (size), &g) != \
				     (size);                                                       \
			if (g.freed)                                                               \
				pgt_gather_release(t, &g);                                         \
		}                                                                                  \
	}

BENCH_LOOPS(4k, SZ_4K)
BENCH_LOOPS(2m, SZ_2M)
BENCH_LOOPS(1g, SZ_1G)
BENCH_LOOPS(256x4k, 256 * SZ_4K)

struct bcase {
	const char *name;
	void (*map)(struct pgt *, unsigned int);
	void (*unmap)(struct pgt *, unsigned int);
	unsigned int n;	    /* operations per run */
	unsigned int pages; /* 4K pages per operation (for the per-page column) */
};

static const struct bcase cases[] = {
	{"4K", loop_map_4k, loop_unmap_4k, 65536, 1},
	{"2M", loop_map_2m, loop_unmap_2m, 8192, 1},
	{"1G", loop_map_1g, loop_unmap_1g, 512, 1},
	{"256x4K", loop_map_256x4k, loop_unmap_256x4k, 2048, 256},
};

struct bfmt {
	const char *name;
	enum pgt_format fmt;
	unsigned int ias;
	bool coherent;
};

static const struct bfmt fmts[] = {
	{"vtd-sl", PGT_VTD_SL, 48, true},	{"vtd-sl-noncoh", PGT_VTD_SL, 48, false},
	{"x86-fl", PGT_X86_FL, 47, true},	{"amd-v1", PGT_AMD_V1, 48, true},
	{"arm-s1-4k", PGT_ARM_S1_4K, 48, true}, {"arm-s2-4k", PGT_ARM_S2_4K, 48, true},
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define MAX_RUNS 31

int main(int argc, char **argv)
{
	unsigned int runs = 7;
	const char *only = NULL;
	bool quick = false;
	int opt;

	while ((opt = getopt(argc, argv, "r:f:q")) != -1) {
		switch (opt) {
		case 'r':
			runs = (unsigned int)atoi(optarg);
			break;
		case 'f':
			only = optarg;
			break;
		case 'q':
			quick = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-r runs] [-f format] [-q]\n", argv[0]);
			return 2;
		}
	}
	if (quick)
		runs = 1;
	if (runs < 1 || runs > MAX_RUNS)
		runs = 7;

	printf("bench-pgtable: ns/op, median of %u run(s); batch columns: ns/op (ns/page)\n", runs);
	printf("%-14s", "format");
	for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++)
		printf(" %9s %9s", "map", "unmap");
	printf("\n%-14s", "");
	for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++)
		printf(" %9s %9s", cases[c].name, cases[c].name);
	printf("\n");

	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++) {
		struct pool pool;
		struct pgt_cfg cfg = {
			.fmt = fmts[f].fmt, .ias = fmts[f].ias, .coherent = fmts[f].coherent};
		struct pgt *t;
		int err = 0;

		if (only && strcmp(fmts[f].name, only) != 0)
			continue;
		if (pool_init(&pool))
			return 1;
		t = pgt_alloc(&cfg, &pool_ops, &pool, &err);
		if (!t) {
			fprintf(stderr, "%s: pgt_alloc: %d\n", fmts[f].name, err);
			return 1;
		}
		printf("%-14s", fmts[f].name);
		for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++) {
			const struct bcase *bc = &cases[c];
			double tm[MAX_RUNS], tu[MAX_RUNS];
			unsigned int n = quick ? bc->n / 8 : bc->n;

			for (unsigned int r = 0; r < runs; r++) {
				double t0 = now_ns();

				bc->map(t, n);
				double t1 = now_ns();

				bc->unmap(t, n);
				double t2 = now_ns();

				tm[r] = (t1 - t0) / n;
				tu[r] = (t2 - t1) / n;
			}
			qsort(tm, runs, sizeof(double), cmp_double);
			qsort(tu, runs, sizeof(double), cmp_double);
			if (bc->pages > 1) {
				char a[32], b[32];

				snprintf(a, sizeof(a), "%.0f(%.2f)", tm[runs / 2],
					 tm[runs / 2] / bc->pages);
				snprintf(b, sizeof(b), "%.0f(%.2f)", tu[runs / 2],
					 tu[runs / 2] / bc->pages);
				printf(" %9s %9s", a, b);
			} else {
				printf(" %9.1f %9.1f", tm[runs / 2], tu[runs / 2]);
			}
			fflush(stdout);
		}
		printf("\n");
		pgt_free(t);
		free(pool.base);
	}
	if (quick) {
		printf("ops per loop (-q):");
		for (unsigned int c = 0; c < ARRAY_SIZE(cases); c++)
			printf(" %s=%u", cases[c].name, cases[c].n / 8);
		printf("\n");
	}
	if (nr_errors)
		fprintf(stderr, "%lu operations failed\n", nr_errors);
	return nr_errors ? 1 : 0;
}
