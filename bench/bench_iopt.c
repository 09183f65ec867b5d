/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA engine benchmark: insert / find / remove ns per operation at 1k,
 * 100k and 1M areas (random order), and automatic IOVA allocation.
 * Uses the fake env of the unit tests (calloc-backed metadata).
 *
 *   bench-iopt [max_areas]     (default 1000000)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
	struct iopt_area *a;
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
	for (uint32_t i = 0; i < iters; i++) {
		if (iopt_alloc_iova(&io, PG, 0, &iova) ||
		    iopt_insert(&io, iova, PG, 0, NULL, 0, &a))
			return -ENOMEM;
		iopt_remove(&io, a);
	}
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

int main(int argc, char **argv)
{
	uint32_t max = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000u;
	static const uint32_t sizes[] = {1000, 100000, 1000000};

	printf("bench-iopt: IOVA engine (rbtree of areas), random order, fake env (calloc)\n");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] <= max && bench_tree(sizes[i]))
			return 1;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] <= max && bench_alloc(sizes[i]))
			return 1;
	return 0;
}
