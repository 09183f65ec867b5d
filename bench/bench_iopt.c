/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA engine benchmark: insert / find / remove ns per operation at 1k,
 * 100k and 1M areas (random order), the single-area fast paths at 4096
 * areas (sequential fixed-IOVA insert, insert + remove at one IOVA, find),
 * and automatic IOVA allocation at 4096, 100k and 1M areas.
 * Uses the fake env of the unit tests (calloc-backed metadata).
 *
 *   bench-iopt [max_areas]     (default 1000000)
 *   bench-iopt cg NAME [n]     run only the loop NAME (seq, pair, find,
 *                              alloc_fit, alloc_packed, cycle) on n areas (default
 *                              4096), for instruction counts:
 *     valgrind --tool=callgrind --toggle-collect='loop_*' bench-iopt cg pair
 *   then divide the collected Ir by the op count it prints.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iopt.h"

#define PG 4096ull

static uint64_t g_rng = 0x12345678abcdefull;

static uint64_t rnd(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void shuffle(uint32_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd() % (i + 1)), t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
}

static volatile uint64_t g_sink;

/* Area i lives at [i * 8 KiB, +4 KiB): every area has a free page after it. */
static int bench_tree(uint32_t n)
{
	uint32_t *perm = malloc((size_t)n * sizeof(*perm));
	uint32_t *perm2 = malloc((size_t)n * sizeof(*perm2));
	uint32_t rounds = n >= 1000000 ? 1 : 1000000 / n;
	uint64_t t_ins = 0, t_find = 0, t_rm = 0, t0;
	struct iopt io;

	if (!perm || !perm2)
		return -ENOMEM;
	for (uint32_t r = 0; r < rounds; r++) {
		shuffle(perm, n);
		shuffle(perm2, n);
		iopt_init(&io);
		t0 = now_ns();
		for (uint32_t i = 0; i < n; i++)
			if (iopt_insert(&io, (uint64_t)perm[i] * 2 * PG, PG, 0, NULL, 0, NULL))
				return -ENOMEM;
		t_ins += now_ns() - t0;
		t0 = now_ns();
		for (uint32_t i = 0; i < n; i++)
			g_sink += (uintptr_t)iopt_find(&io, (uint64_t)perm2[i] * 2 * PG + 100);
		t_find += now_ns() - t0;
		t0 = now_ns();
		for (uint32_t i = 0; i < n; i++)
			iopt_remove(&io, iopt_find(&io, (uint64_t)perm2[i] * 2 * PG));
		t_rm += now_ns() - t0;
		iopt_destroy(&io);
	}
	printf("%9u areas  insert %7.1f  find %7.1f  find+remove %7.1f  ns/op  (%u round%s)\n", n,
	       (double)t_ins / ((double)n * rounds), (double)t_find / ((double)n * rounds),
	       (double)t_rm / ((double)n * rounds), rounds, rounds > 1 ? "s" : "");
	free(perm);
	free(perm2);
	return 0;
}

#ifdef BENCH_OLD_API
#define commit_area(io, a) ((void)(io), (void)(a))
#else
/* What the IOAS unmap path does: the one-area look-up commits the area. */
static void commit_area(struct iopt *io, struct iopt_area *a)
{
	struct iopt_area *x;

	if (iopt_find_exact(io, a->iova, a->last, &x))
		exit(1);
}
#endif

/* alloc + insert + unmap: one automatic map/unmap cycle of the engine. */
__attribute__((noinline)) static int loop_cycle(struct iopt *io, uint32_t iters)
{
	struct iopt_area *a;
	uint64_t iova;

	for (uint32_t i = 0; i < iters; i++) {
		if (iopt_alloc_iova(io, PG, 0, &iova) || iopt_insert(io, iova, PG, 0, NULL, 0, &a))
			return -ENOMEM;
		commit_area(io, a);
		iopt_remove(io, a);
	}
	return 0;
}

/*
 * Auto-allocation on a populated space.
 * - first-fit: holes everywhere, the lowest one fits (O(log n));
 * - packed: every area abuts the next, so each call walks every area
 *   below the answer (the cost of "lowest address" semantics).
 */
static int bench_alloc(uint32_t n)
{
	const uint32_t iters = 200000;
	struct iopt io;
	uint64_t t0, t_fit, t_fit_ins, t_packed, iova = 0;
	uint32_t packed_iters;

	iopt_init(&io);
	for (uint32_t i = 0; i < n; i++)
		if (iopt_insert(&io, (uint64_t)(i + 1) * 2 * PG, PG, 0, NULL, 0, NULL))
			return -ENOMEM;
	t0 = now_ns();
	for (uint32_t i = 0; i < iters; i++)
		g_sink += (uint64_t)iopt_alloc_iova(&io, PG, 0, &iova);
	t_fit = now_ns() - t0;
	/* alloc + insert + remove: one map/unmap cycle of the engine */
	t0 = now_ns();
	if (loop_cycle(&io, iters))
		return -ENOMEM;
	t_fit_ins = now_ns() - t0;
	iopt_destroy(&io);

	/* packed: [4K, (n+1) * 4K), the answer is just past the end */
	iopt_init(&io);
	for (uint32_t i = 0; i < n; i++)
		if (iopt_insert(&io, (uint64_t)(i + 1) * PG, PG, 0, NULL, 0, NULL))
			return -ENOMEM;
	packed_iters = n >= 100000 ? 20 : 2000;
	t0 = now_ns();
	for (uint32_t i = 0; i < packed_iters; i++)
		g_sink += (uint64_t)iopt_alloc_iova(&io, PG, 0, &iova);
	t_packed = now_ns() - t0;
	if (iova != (uint64_t)(n + 1) * PG)
		return -EINVAL;
	iopt_destroy(&io);

	printf("%9u areas  alloc first-fit %7.1f  alloc+insert+remove %7.1f  ns/op;"
	       "  alloc packed (walks all) %10.1f ns/op = %.2f ns/area\n",
	       n, (double)t_fit / iters, (double)t_fit_ins / iters, (double)t_packed / packed_iters,
	       (double)t_packed / packed_iters / n);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Single-area fast paths: each measured loop is its own
 * noinline function, so callgrind can count it alone (--toggle-collect). */

#ifdef BENCH_OLD_API
/* the engine before the fast paths: no iopt_find_exact */
static int unmap_one(struct iopt *io, uint64_t iova, uint64_t len)
{
	uint64_t bytes, count;
	struct iopt_area *a;

	if (iopt_check_unmap(io, iova, iova + len - 1, &bytes, &count))
		return -ENOENT;
	a = iopt_first(io, iova, iova + len - 1);
	iopt_remove(io, a);
	return 0;
}
#else
static int unmap_one(struct iopt *io, uint64_t iova, uint64_t len)
{
	struct iopt_area *a;

	if (iopt_find_exact(io, iova, iova + len - 1, &a))
		return -ENOENT;
	iopt_remove(io, a);
	return 0;
}
#endif

/* n areas at [i * 8 KiB, +4 KiB), ascending, with iopt_insert_checked. */
__attribute__((noinline)) static int loop_seq(struct iopt *io, uint32_t n)
{
	struct iopt_area *a;

	for (uint32_t i = 0; i < n; i++)
		if (iopt_insert_checked(io, (uint64_t)(i + 1) * 2 * PG, PG, 0, NULL, IOPT_READ, &a))
			return -ENOMEM;
	return 0;
}

/* map + unmap of one page at one IOVA (in a hole among the others). */
__attribute__((noinline)) static int loop_pair(struct iopt *io, uint64_t iova, uint32_t iters)
{
	struct iopt_area *a;

	for (uint32_t i = 0; i < iters; i++) {
		if (iopt_insert_checked(io, iova, PG, 0, NULL, IOPT_READ, &a))
			return -ENOMEM;
		if (unmap_one(io, iova, PG))
			return -ENOENT;
	}
	return 0;
}

__attribute__((noinline)) static void loop_find(struct iopt *io, const uint32_t *perm, uint32_t n,
						uint32_t iters)
{
	for (uint32_t i = 0; i < iters; i++)
		g_sink += (uintptr_t)iopt_find(io, (uint64_t)(perm[i % n] + 1) * 2 * PG + 100);
}

__attribute__((noinline)) static void loop_alloc(struct iopt *io, uint32_t iters, uint64_t *iova)
{
	for (uint32_t i = 0; i < iters; i++)
		g_sink += (uint64_t)iopt_alloc_iova(io, PG, 0, iova);
}

static void fill_holes(struct iopt *io, uint32_t n)
{
	iopt_init(io);
	for (uint32_t i = 0; i < n; i++)
		if (iopt_insert(io, (uint64_t)(i + 1) * 2 * PG, PG, 0, NULL, 0, NULL))
			exit(1);
}

static void fill_packed(struct iopt *io, uint32_t n)
{
	iopt_init(io);
	for (uint32_t i = 0; i < n; i++)
		if (iopt_insert(io, (uint64_t)(i + 1) * PG, PG, 0, NULL, 0, NULL))
			exit(1);
}

static int bench_fast(uint32_t n)
{
	const uint32_t pair_iters = 1000000, find_iters = 1000000;
	uint32_t rounds = 2000000 / n, *perm = malloc((size_t)n * sizeof(*perm));
	uint64_t t0, t_seq = 0, t_pair, t_find;
	struct iopt io;

	if (!perm || !rounds)
		return -ENOMEM;
	for (uint32_t r = 0; r < rounds; r++) {
		iopt_init(&io);
		t0 = now_ns();
		if (loop_seq(&io, n))
			return -ENOMEM;
		t_seq += now_ns() - t0;
		iopt_destroy(&io);
	}
	/* the pair lands in the middle hole, between areas n/2 and n/2 + 1 */
	fill_holes(&io, n);
	if (loop_pair(&io, (uint64_t)(n / 2 + 1) * 2 * PG + PG, 1000))
		return -ENOMEM;
	t0 = now_ns();
	if (loop_pair(&io, (uint64_t)(n / 2 + 1) * 2 * PG + PG, pair_iters))
		return -ENOMEM;
	t_pair = now_ns() - t0;
	shuffle(perm, n);
	t0 = now_ns();
	loop_find(&io, perm, n, find_iters);
	t_find = now_ns() - t0;
	iopt_destroy(&io);
	printf("%9u areas  seq insert_checked %6.1f  insert+unmap pair %6.1f  find %6.1f  ns/op\n",
	       n, (double)t_seq / ((double)n * rounds), (double)t_pair / pair_iters,
	       (double)t_find / find_iters);
	free(perm);
	return 0;
}

/* One loop alone, for callgrind. */
static int run_cg(const char *name, uint32_t n)
{
	uint32_t *perm = malloc((size_t)n * sizeof(*perm));
	uint64_t iova = 0, ops;
	struct iopt io;

	if (!perm)
		return 1;
	shuffle(perm, n);
	if (!strcmp(name, "seq")) {
		iopt_init(&io);
		if (loop_seq(&io, n))
			return 1;
		ops = n;
	} else if (!strcmp(name, "pair")) {
		fill_holes(&io, n);
		iopt_insert(&io, (uint64_t)(n / 2 + 1) * 2 * PG + PG, PG, 0, NULL, 0, NULL);
		unmap_one(&io, (uint64_t)(n / 2 + 1) * 2 * PG + PG, PG); /* warm */
		ops = 10000;
		if (loop_pair(&io, (uint64_t)(n / 2 + 1) * 2 * PG + PG, (uint32_t)ops))
			return 1;
	} else if (!strcmp(name, "find")) {
		fill_holes(&io, n);
		ops = 10000;
		loop_find(&io, perm, n, (uint32_t)ops);
	} else if (!strcmp(name, "alloc_fit")) {
		fill_holes(&io, n);
		ops = 10000;
		loop_alloc(&io, (uint32_t)ops, &iova);
	} else if (!strcmp(name, "cycle")) {
		fill_holes(&io, n);
		ops = 10000;
		if (loop_cycle(&io, (uint32_t)ops))
			return 1;
	} else if (!strcmp(name, "alloc_packed")) {
		fill_packed(&io, n);
		ops = 100;
		loop_alloc(&io, (uint32_t)ops, &iova);
		if (iova != (uint64_t)(n + 1) * PG)
			return 1;
	} else {
		fprintf(stderr, "unknown loop %s\n", name);
		return 2;
	}
	iopt_destroy(&io);
	free(perm);
	printf("cg %s: %u areas, %llu ops\n", name, n, (unsigned long long)ops);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t max;
	static const uint32_t sizes[] = {1000, 100000, 1000000};
	static const uint32_t alloc_sizes[] = {4096, 100000, 1000000};

	if (argc > 2 && !strcmp(argv[1], "cg"))
		return run_cg(argv[2], argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 4096u);
	max = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000u;
	printf("bench-iopt: IOVA engine (rbtree of areas), fake env (calloc)\n");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] <= max && bench_tree(sizes[i]))
			return 1;
	if (4096 <= max && bench_fast(4096))
		return 1;
	for (unsigned i = 0; i < sizeof(alloc_sizes) / sizeof(alloc_sizes[0]); i++)
		if (alloc_sizes[i] <= max && bench_alloc(alloc_sizes[i]))
			return 1;
	return 0;
}
