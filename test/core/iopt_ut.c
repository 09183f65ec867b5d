/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IOVA engine unit tests: every errno class, boundaries of the 64-bit
 * space, allowed/reserved ranges, auto-allocation, unmap semantics, a
 * seeded randomized comparison against a naive reference, fail-nth, scale.
 *
 * Environment: UIOMMU_SEED replays the random test; IOPT_RANDOM_OPS and
 * IOPT_SCALE_N override its sizes (e.g. under valgrind).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iopt.h"
#include "fake_env.h"
#include "ut.h"

#define PG	  4096ull
#define MiB	  (1ull << 20)
#define GiB	  (1ull << 30)
#define LAST_PAGE (UINT64_MAX - PG + 1) /* first IOVA of the last page */

static const int OWNER_A = 1, OWNER_B = 2, OWNER_C = 3;

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static uint64_t g_rng;

static uint64_t rnd(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t live(void)
{
	struct uenv_stats st;

	uenv_get_stats(&st);
	return st.heap_live;
}

/* check_map + insert, as the IOAS layer does it. */
static int map(struct iopt *io, uint64_t iova, uint64_t len)
{
	int rc = iopt_check_map(io, iova, len);

	if (rc)
		return rc;
	return iopt_insert(io, iova, len, 0, NULL, IOPT_READ | IOPT_WRITE, NULL);
}

/* check_unmap + remove every area in [start, last]. */
static int unmap(struct iopt *io, uint64_t start, uint64_t last, uint64_t *bytes)
{
	uint64_t count;
	int rc = iopt_check_unmap(io, start, last, bytes, &count);
	struct iopt_area *a, *nx;

	if (rc)
		return rc;
	for (a = iopt_first(io, start, last); a; a = nx) {
		nx = iopt_next(a, last);
		iopt_remove(io, a);
		count--;
	}
	CU_ASSERT_EQUAL(count, 0);
	return 0;
}

/* A full copy of the observable state, to prove failed calls change nothing. */
struct snap {
	uint64_t nr_areas, mapped_bytes, align;
	uint32_t nr_resv, nr_allowed;
	struct iopt_area *areas;
	struct iopt_resv *resv;
	struct iopt_range *allowed;
};

static void snap_take(const struct iopt *io, struct snap *s)
{
	uint64_t i = 0;

	memset(s, 0, sizeof(*s));
	s->nr_areas = io->nr_areas;
	s->mapped_bytes = io->mapped_bytes;
	s->align = io->iova_alignment;
	s->nr_resv = io->nr_resv;
	s->nr_allowed = io->nr_allowed;
	s->areas = calloc(io->nr_areas + 1, sizeof(*s->areas));
	s->resv = calloc(io->nr_resv + 1, sizeof(*s->resv));
	s->allowed = calloc(io->nr_allowed + 1, sizeof(*s->allowed));
	for (struct rb_node *n = rb_first(&io->areas); n && i < io->nr_areas; n = rb_next(n))
		s->areas[i++] = *rb_entry(n, struct iopt_area, node);
	if (io->nr_resv)
		memcpy(s->resv, io->resv, io->nr_resv * sizeof(*s->resv));
	if (io->nr_allowed)
		memcpy(s->allowed, io->allowed, io->nr_allowed * sizeof(*s->allowed));
}

static bool snap_same(const struct iopt *io, const struct snap *s)
{
	uint64_t i = 0;

	if (io->nr_areas != s->nr_areas || io->mapped_bytes != s->mapped_bytes ||
	    io->iova_alignment != s->align || io->nr_resv != s->nr_resv ||
	    io->nr_allowed != s->nr_allowed)
		return false;
	for (struct rb_node *n = rb_first(&io->areas); n; n = rb_next(n), i++) {
		const struct iopt_area *a = rb_entry(n, struct iopt_area, node);

		if (i >= s->nr_areas || a->iova != s->areas[i].iova ||
		    a->last != s->areas[i].last || a->phys != s->areas[i].phys ||
		    a->va != s->areas[i].va || a->prot != s->areas[i].prot)
			return false;
	}
	if (i != s->nr_areas)
		return false;
	for (uint32_t k = 0; k < s->nr_resv; k++)
		if (memcmp(&io->resv[k], &s->resv[k], sizeof(s->resv[k])))
			return false;
	for (uint32_t k = 0; k < s->nr_allowed; k++)
		if (memcmp(&io->allowed[k], &s->allowed[k], sizeof(s->allowed[k])))
			return false;
	return true;
}

static void snap_free(struct snap *s)
{
	free(s->areas);
	free(s->resv);
	free(s->allowed);
}

/* The private invariants of the engine: every area's gap is the free space
 * before it, every max_gap the largest gap of its subtree, rightmost the
 * highest area, the hints NULL or in the tree, the free list as counted. */
static uint64_t check_subtree(const struct rb_node *n, bool *ok)
{
	const struct iopt_area *a;
	uint64_t m, l, r;

	if (!n)
		return 0;
	a = rb_entry(n, struct iopt_area, node);
	l = check_subtree(n->left, ok);
	r = check_subtree(n->right, ok);
	m = a->gap > l ? a->gap : l;
	m = m > r ? m : r;
	if (a->max_gap != m)
		*ok = false;
	return m;
}

/* The checker (iopt_check) finds nothing wrong with @io. */
static void check_line(void *arg, const char *msg)
{
	(void)arg;
	printf("  iopt_check: %s\n", msg);
}

static bool iopt_check_clean(const struct iopt *io)
{
	struct iopt_check_ops ops = {.report = check_line};

	return iopt_check(io, &ops) == 0;
}

/* Every IOVA space a test leaves must check clean before it goes. */
static void iopt_destroy_checked(struct iopt *io)
{
	CU_ASSERT(iopt_check_clean(io));
	iopt_destroy(io);
}
#define iopt_destroy(io) iopt_destroy_checked(io)

static bool iopt_invariants_ok(const struct iopt *io)
{
	const struct iopt_area *prev = NULL;
	bool ok = true, hint_gap = !io->hint_gap, hint_area = !io->hint_area;
	uint32_t spares = 0;

	for (struct rb_node *n = rb_first(&io->areas); n; n = rb_next(n)) {
		const struct iopt_area *a = rb_entry(n, struct iopt_area, node);

		/* the lowest area's gap stays out of the augmentation */
		if (a->gap != (prev ? a->iova - (prev->last + 1) : 0))
			ok = false;
		hint_gap |= a == io->hint_gap;
		hint_area |= a == io->hint_area;
		prev = a;
	}
	if (io->rightmost != prev)
		ok = false;
	if (io->leftmost != (io->areas.node ? rb_entry(rb_first(&io->areas), struct iopt_area, node)
					    : NULL))
		ok = false;
	/* right after an insert, hint_gap is the new area's successor */
	if (io->hint_area &&
	    rb_next(&io->hint_area->node) != (io->hint_gap ? &io->hint_gap->node : NULL))
		ok = false;
	check_subtree(io->areas.node, &ok);
	for (const struct iopt_area *a = io->spare; a && spares <= IOPT_SPARE_MAX;
	     a = a->node.parent ? rb_entry(a->node.parent, struct iopt_area, node) : NULL)
		spares++;
	return ok && hint_gap && hint_area && spares == io->nr_spare &&
	       io->nr_spare <= IOPT_SPARE_MAX;
}

static uint64_t g_live_base;

static int suite_init(void)
{
	fake_env_reset();
	g_live_base = live();
	return 0;
}

/* ------------------------------------------------------------------ */
/* basic                                                               */

static void test_init_destroy(void)
{
	struct iopt io;
	struct iopt_range r[2];

	iopt_init(&io);
	CU_ASSERT_EQUAL(io.iova_alignment, PG);
	CU_ASSERT_EQUAL(io.nr_areas, 0);
	CU_ASSERT_EQUAL(io.mapped_bytes, 0);
	CU_ASSERT_PTR_NULL(iopt_find(&io, 0));
	CU_ASSERT_PTR_NULL(iopt_first(&io, 0, UINT64_MAX));
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, r, 2), 1);
	CU_ASSERT_EQUAL(r[0].start, 0);
	CU_ASSERT_EQUAL(r[0].last, UINT64_MAX);
	CU_ASSERT_FALSE(iopt_is_reserved(&io, 0, UINT64_MAX));
	iopt_destroy(&io);
	/* destroy leaves a usable empty iopt; destroy twice is harmless */
	CU_ASSERT_EQUAL(map(&io, 0, PG), 0);
	iopt_destroy(&io);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_check_map_errno(void)
{
	struct iopt io;

	iopt_init(&io);
	/* -EINVAL: zero or misaligned */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, PG, 0), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 1, PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, PG, PG + 1), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, PG, PG - 1), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, UINT64_MAX, PG), -EINVAL);
	/* -EOVERFLOW: iova + len - 1 wraps */
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE, 2 * PG), -EOVERFLOW);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 2 * PG, UINT64_MAX - PG + 1), -EOVERFLOW);
	CU_ASSERT_EQUAL(iopt_check_map(&io, PG, UINT64_MAX - PG + 1 - PG), 0); /* to the end */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 1ull << 63, 1ull << 63), 0);       /* exactly fits */
	CU_ASSERT_EQUAL(iopt_check_map(&io, (1ull << 63) + PG, 1ull << 63), -EOVERFLOW);
	/* order: misaligned beats overflow */
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE, 2 * PG + 1), -EINVAL);
	/* boundaries that fit: IOVA 0, last page, UINT64_MAX - len + 1 */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, PG), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE, PG), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, UINT64_MAX - 16 * PG + 1, 16 * PG), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, UINT64_MAX - PG + 1), 0); /* largest len */

	/* reserved [16 pages, 19 pages] */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 16 * PG, 20 * PG - 1, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 16 * PG, PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 19 * PG, PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, 17 * PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, 64 * PG), -EINVAL); /* spans it */
	/* adjacent to the reserved range on both sides: fine */
	CU_ASSERT_EQUAL(map(&io, 15 * PG, PG), 0);
	CU_ASSERT_EQUAL(map(&io, 20 * PG, PG), 0);
	/* -EEXIST */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 15 * PG, PG), -EEXIST);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, 16 * PG), -EEXIST);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 20 * PG, 8 * PG), -EEXIST);
	/* order: reserved (-EINVAL) beats area (-EEXIST) */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 15 * PG, 2 * PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, 32 * PG), -EINVAL);
	/* order: overflow beats reserved/area */
	CU_ASSERT_EQUAL(iopt_reserve(&io, LAST_PAGE, UINT64_MAX, &OWNER_B, 0), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE, 2 * PG), -EOVERFLOW);
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE, PG), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE - PG, PG), 0);

	/* areas adjacent to each other */
	CU_ASSERT_EQUAL(map(&io, 21 * PG, PG), 0);
	CU_ASSERT_EQUAL(map(&io, 14 * PG, PG), 0);
	CU_ASSERT_EQUAL(io.nr_areas, 4);
	CU_ASSERT_EQUAL(io.mapped_bytes, 4 * PG);
	/* area at IOVA 0 and in the last unreserved page */
	CU_ASSERT_EQUAL(map(&io, 0, PG), 0);
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE - PG, PG), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, LAST_PAGE - 2 * PG, 2 * PG), -EEXIST);

	/* allowed ranges do not restrict fixed maps */
	struct iopt_range al = {1ull << 40, (1ull << 41) - 1};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, &al, 1), 0);
	CU_ASSERT_EQUAL(map(&io, 100 * PG, PG), 0);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/*
 * iopt_insert_checked must answer exactly like iopt_check_map; on success
 * the area is linked (then removed again here, so the state the next probe
 * sees is the same for both).
 */
static int va_tag;

static void probe_insert_checked(struct iopt *io, uint64_t iova, uint64_t len, int want)
{
	uint64_t nr = io->nr_areas, bytes = io->mapped_bytes, base = live();
	struct iopt_area *a = NULL;
	int rc;

	CU_ASSERT_EQUAL(iopt_check_map(io, iova, len), want);
	rc = iopt_insert_checked(io, iova, len, 0xabc000, &va_tag, IOPT_WRITE, &a);
	CU_ASSERT_EQUAL(rc, want);
	if (rc) {
		CU_ASSERT_EQUAL(io->nr_areas, nr);
		CU_ASSERT_EQUAL(io->mapped_bytes, bytes);
		CU_ASSERT_EQUAL(live(), base);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->iova, iova);
	CU_ASSERT_EQUAL(a->last, iova + len - 1);
	CU_ASSERT_EQUAL(a->phys, 0xabc000);
	CU_ASSERT_PTR_EQUAL(a->va, &va_tag);
	CU_ASSERT_EQUAL(a->prot, IOPT_WRITE);
	CU_ASSERT_PTR_EQUAL(iopt_find(io, iova), a);
	CU_ASSERT_PTR_EQUAL(iopt_find(io, iova + len - 1), a);
	CU_ASSERT_EQUAL(io->nr_areas, nr + 1);
	CU_ASSERT_EQUAL(io->mapped_bytes, bytes + len);
	/* now it is there: the same range is taken */
	CU_ASSERT_EQUAL(iopt_insert_checked(io, iova, len, 0, NULL, 0, NULL), -EEXIST);
	iopt_remove(io, a);
	CU_ASSERT_EQUAL(live(), base);
}

static void test_insert_checked_errno(void)
{
	struct iopt io;

	iopt_init(&io);
	/* -EINVAL: zero or misaligned */
	probe_insert_checked(&io, 0, 0, -EINVAL);
	probe_insert_checked(&io, PG, 0, -EINVAL);
	probe_insert_checked(&io, 1, PG, -EINVAL);
	probe_insert_checked(&io, PG, PG + 1, -EINVAL);
	probe_insert_checked(&io, PG, PG - 1, -EINVAL);
	probe_insert_checked(&io, UINT64_MAX, PG, -EINVAL);
	/* -EOVERFLOW */
	probe_insert_checked(&io, LAST_PAGE, 2 * PG, -EOVERFLOW);
	probe_insert_checked(&io, 2 * PG, UINT64_MAX - PG + 1, -EOVERFLOW);
	probe_insert_checked(&io, PG, UINT64_MAX - PG + 1 - PG, 0);
	probe_insert_checked(&io, 1ull << 63, 1ull << 63, 0);
	probe_insert_checked(&io, (1ull << 63) + PG, 1ull << 63, -EOVERFLOW);
	probe_insert_checked(&io, LAST_PAGE, 2 * PG + 1, -EINVAL);
	probe_insert_checked(&io, 0, PG, 0);
	probe_insert_checked(&io, LAST_PAGE, PG, 0);
	probe_insert_checked(&io, UINT64_MAX - 16 * PG + 1, 16 * PG, 0);
	probe_insert_checked(&io, 0, UINT64_MAX - PG + 1, 0);

	/* reserved [16 pages, 19 pages] */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 16 * PG, 20 * PG - 1, &OWNER_A, 0), 0);
	probe_insert_checked(&io, 16 * PG, PG, -EINVAL);
	probe_insert_checked(&io, 19 * PG, PG, -EINVAL);
	probe_insert_checked(&io, 0, 17 * PG, -EINVAL);
	probe_insert_checked(&io, 0, 64 * PG, -EINVAL);
	/* areas at 15 and 20 pages, kept (linked by insert_checked itself) */
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 15 * PG, PG, 0, NULL, IOPT_READ, NULL), 0);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 20 * PG, PG, 0, NULL, IOPT_READ, NULL), 0);
	/* -EEXIST: same start, inside, covering, overlapping either end */
	probe_insert_checked(&io, 15 * PG, PG, -EEXIST);
	probe_insert_checked(&io, 0, 16 * PG, -EEXIST);
	probe_insert_checked(&io, 20 * PG, 8 * PG, -EEXIST);
	probe_insert_checked(&io, 14 * PG, 2 * PG, -EEXIST);
	/* order: reserved beats area */
	probe_insert_checked(&io, 15 * PG, 2 * PG, -EINVAL);
	probe_insert_checked(&io, 0, 32 * PG, -EINVAL);
	/* order: overflow beats reserved/area */
	CU_ASSERT_EQUAL(iopt_reserve(&io, LAST_PAGE, UINT64_MAX, &OWNER_B, 0), 0);
	probe_insert_checked(&io, LAST_PAGE, 2 * PG, -EOVERFLOW);
	probe_insert_checked(&io, LAST_PAGE, PG, -EINVAL);
	probe_insert_checked(&io, LAST_PAGE - PG, PG, 0);

	/* a denser tree: areas every other page from 100 to 300 pages, so
	 * the predecessor and the successor sit at every depth */
	for (uint64_t pg = 100; pg < 300; pg += 2)
		CU_ASSERT_EQUAL(iopt_insert_checked(&io, pg * PG, PG, 0, NULL, IOPT_READ, NULL), 0);
	for (uint64_t pg = 98; pg < 302; pg++) {
		probe_insert_checked(&io, pg * PG, PG,
				     (pg >= 100 && pg < 300 && !(pg & 1)) ? -EEXIST : 0);
		probe_insert_checked(&io, pg * PG, 2 * PG, (pg >= 99 && pg < 299) ? -EEXIST : 0);
	}
	probe_insert_checked(&io, 50 * PG, 50 * PG, 0);
	probe_insert_checked(&io, 50 * PG, 51 * PG, -EEXIST);
	probe_insert_checked(&io, 298 * PG, 10 * PG, -EEXIST);
	probe_insert_checked(&io, 299 * PG, 10 * PG, 0);
	probe_insert_checked(&io, 300 * PG, 10 * PG, 0);
	CU_ASSERT_EQUAL(io.nr_areas, 102);

	/* allowed ranges do not restrict fixed maps */
	struct iopt_range al = {1ull << 40, (1ull << 41) - 1};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, &al, 1), 0);
	probe_insert_checked(&io, 1000 * PG, PG, 0);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_lookup(void)
{
	struct iopt io;
	struct iopt_area *a, *b, *c, *out = NULL;
	int x;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_insert(&io, 0x10000, 0x4000, 0xabc000, &x, IOPT_READ, &a), 0);
	CU_ASSERT_EQUAL(iopt_insert(&io, 0x14000, 0x1000, 0, NULL, IOPT_WRITE, &b), 0);
	CU_ASSERT_EQUAL(iopt_insert(&io, 0x20000, 0x2000, 0, NULL, 0, &c), 0);
	CU_ASSERT_EQUAL(iopt_insert(&io, LAST_PAGE, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(iopt_insert(&io, 0, PG, 0, NULL, 0, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(out);
	CU_ASSERT_EQUAL(a->iova, 0x10000);
	CU_ASSERT_EQUAL(a->last, 0x13fff);
	CU_ASSERT_EQUAL(a->phys, 0xabc000);
	CU_ASSERT_PTR_EQUAL(a->va, &x);
	CU_ASSERT_EQUAL(a->prot, IOPT_READ);
	CU_ASSERT_EQUAL(a->flags, 0);

	CU_ASSERT_PTR_EQUAL(iopt_find(&io, 0x10000), a);
	CU_ASSERT_PTR_EQUAL(iopt_find(&io, 0x13fff), a);
	CU_ASSERT_PTR_EQUAL(iopt_find(&io, 0x14000), b);
	CU_ASSERT_PTR_NULL(iopt_find(&io, 0x15000));
	CU_ASSERT_PTR_NULL(iopt_find(&io, 0xffff));
	CU_ASSERT_PTR_EQUAL(iopt_find(&io, 0), out);
	CU_ASSERT_EQUAL(iopt_find(&io, UINT64_MAX)->iova, LAST_PAGE);

	CU_ASSERT_PTR_EQUAL(iopt_first(&io, 0x1000, UINT64_MAX), a);
	CU_ASSERT_PTR_EQUAL(iopt_first(&io, 0x12000, 0x12000), a);
	CU_ASSERT_PTR_EQUAL(iopt_first(&io, 0x14000, 0x30000), b);
	CU_ASSERT_PTR_EQUAL(iopt_first(&io, 0x15000, 0x20000), c);
	CU_ASSERT_PTR_NULL(iopt_first(&io, 0x15000, 0x1ffff));
	CU_ASSERT_PTR_NULL(iopt_first(&io, 0x20000, 0x1ffff)); /* start > last */
	CU_ASSERT_PTR_EQUAL(iopt_next(a, UINT64_MAX), b);
	CU_ASSERT_PTR_EQUAL(iopt_next(b, 0x20000), c);
	CU_ASSERT_PTR_NULL(iopt_next(b, 0x1ffff));
	CU_ASSERT_EQUAL(iopt_next(c, UINT64_MAX)->iova, LAST_PAGE);
	CU_ASSERT_PTR_NULL(iopt_next(iopt_find(&io, UINT64_MAX), UINT64_MAX));

	CU_ASSERT_EQUAL(io.nr_areas, 5);
	CU_ASSERT_EQUAL(io.mapped_bytes, 0x4000 + 0x1000 + 0x2000 + 2 * PG);
	iopt_remove(&io, b);
	CU_ASSERT_PTR_NULL(iopt_find(&io, 0x14000));
	CU_ASSERT_PTR_EQUAL(iopt_next(a, UINT64_MAX), c);
	CU_ASSERT_EQUAL(io.nr_areas, 4);
	CU_ASSERT_EQUAL(io.mapped_bytes, 0x4000 + 0x2000 + 2 * PG);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_alignment(void)
{
	struct iopt io;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 0), -EINVAL);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 2048), -EINVAL);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 3 * PG), -EINVAL);
	CU_ASSERT_EQUAL(io.iova_alignment, PG);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 64 * 1024), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, PG, 64 * 1024), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 64 * 1024, PG), -EINVAL);
	CU_ASSERT_EQUAL(map(&io, 64 * 1024, 64 * 1024), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, PG), 0); /* lowering always works */
	CU_ASSERT_EQUAL(map(&io, 0x30000, PG), 0);	 /* aligned start, 4K length */
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 64 * 1024), -EADDRINUSE);
	CU_ASSERT_EQUAL(io.iova_alignment, PG);
	CU_ASSERT_EQUAL(map(&io, 0x41000, PG), 0); /* misaligned start */
	CU_ASSERT_EQUAL(unmap(&io, 0x30000, 0x30fff, NULL), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 8192), -EADDRINUSE);
	CU_ASSERT_EQUAL(unmap(&io, 0x41000, 0x41fff, NULL), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 64 * 1024), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 128 * 1024), -EADDRINUSE);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 1ull << 63), -EADDRINUSE);
	/* alignment larger than the auto cap is still honoured */
	CU_ASSERT_EQUAL(unmap(&io, 0, UINT64_MAX, NULL), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 4 * GiB), 0);
	uint64_t iova = 0;

	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), -EINVAL);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * GiB, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 4 * GiB);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* unmap / contig                                                      */

static void test_check_unmap(void)
{
	struct iopt io;
	struct snap s;
	uint64_t bytes = 7, count = 7;

	iopt_init(&io);
	/* [0x10000-0x11fff] gap [0x14000-0x14fff][0x15000-0x17fff] gap [0x40000-0x40fff] */
	CU_ASSERT_EQUAL(map(&io, 0x10000, 0x2000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x14000, 0x1000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x15000, 0x3000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x40000, 0x1000), 0);

	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0, 0xffff, &bytes, &count), -ENOENT);
	CU_ASSERT_EQUAL(bytes, 7); /* untouched on error */
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x12000, 0x13fff, &bytes, &count), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x20000, 0x10000, &bytes, &count), -ENOENT);
	/* whole areas with gaps in between */
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0, UINT64_MAX, &bytes, &count), 0);
	CU_ASSERT_EQUAL(bytes, 0x2000 + 0x1000 + 0x3000 + 0x1000);
	CU_ASSERT_EQUAL(count, 4);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x12000, 0x3ffff, &bytes, &count), 0);
	CU_ASSERT_EQUAL(bytes, 0x4000);
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x10000, 0x11fff, &bytes, &count), 0);
	CU_ASSERT_EQUAL(bytes, 0x2000);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x10000, 0x11fff, NULL, NULL), 0);

	/* a cut at either end fails and nothing changes */
	snap_take(&io, &s);
	CU_ASSERT_EQUAL(unmap(&io, 0x11000, 0x17fff, &bytes), -EINVAL); /* cuts first */
	CU_ASSERT_EQUAL(unmap(&io, 0x10000, 0x16fff, &bytes), -EINVAL); /* cuts last */
	CU_ASSERT_EQUAL(unmap(&io, 0x10000, 0x10fff, &bytes), -EINVAL); /* inside one */
	CU_ASSERT_EQUAL(unmap(&io, 0x11000, 0x11fff, &bytes), -EINVAL);
	CU_ASSERT_EQUAL(unmap(&io, 0x0, 0x14000, &bytes), -EINVAL);
	CU_ASSERT_EQUAL(unmap(&io, 0x14fff, UINT64_MAX, &bytes), -EINVAL);
	CU_ASSERT(snap_same(&io, &s));
	snap_free(&s);

	CU_ASSERT_EQUAL(unmap(&io, 0x13000, 0x17fff, &bytes), 0);
	CU_ASSERT_EQUAL(bytes, 0x4000);
	CU_ASSERT_EQUAL(io.nr_areas, 2);
	CU_ASSERT_EQUAL(io.mapped_bytes, 0x3000);
	CU_ASSERT_EQUAL(unmap(&io, 0x13000, 0x17fff, &bytes), -ENOENT); /* now empty */

	/* areas at both ends of the address space */
	CU_ASSERT_EQUAL(map(&io, 0, PG), 0);
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE, PG), 0);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0, UINT64_MAX, &bytes, &count), 0);
	CU_ASSERT_EQUAL(bytes, 0x3000 + 2 * PG);
	CU_ASSERT_EQUAL(count, 4);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 1, UINT64_MAX, &bytes, &count), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0, UINT64_MAX - 1, &bytes, &count), -EINVAL);
	CU_ASSERT_EQUAL(unmap(&io, LAST_PAGE, UINT64_MAX, &bytes), 0);
	CU_ASSERT_EQUAL(unmap(&io, 0, PG - 1, &bytes), 0);
	CU_ASSERT_EQUAL(bytes, PG);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_check_contig(void)
{
	struct iopt io;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0, 0), -ENOENT);
	CU_ASSERT_EQUAL(map(&io, 0x10000, 0x2000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x12000, 0x1000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x13000, 0x4000), 0);
	CU_ASSERT_EQUAL(map(&io, 0x18000, 0x1000), 0); /* gap at 0x17000 */

	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x10000, 0x16fff), 0);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x10800, 0x10900), 0); /* inside one area */
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x11fff, 0x12000), 0); /* across a seam */
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x10000, 0x17000), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x10000, 0x18fff), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0xf000, 0x10fff), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x17000, 0x17fff), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x18000, 0x19000), -ENOENT);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0x12000, 0x11000), -ENOENT); /* start > last */
	/* up to the top of the address space */
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE - PG, PG), 0);
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE, PG), 0);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, LAST_PAGE - PG, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, LAST_PAGE - 2 * PG, UINT64_MAX), -ENOENT);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* reserved / allowed / usable                                         */

static bool usable_is(const struct iopt *io, const struct iopt_range *want, uint32_t n)
{
	struct iopt_range got[16];
	uint32_t total = iopt_usable_ranges(io, got, 16);

	if (total != n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (got[i].start != want[i].start || got[i].last != want[i].last)
			return false;
	return true;
}

static void test_reserve(void)
{
	struct iopt io;
	struct snap s;
	struct iopt_range out[2];

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x2000, 0x1fff, &OWNER_A, 0), -EINVAL);
	/* single-byte and unaligned reservations are allowed */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x1234, 0x1234, &OWNER_A, 1), 0);
	CU_ASSERT(iopt_is_reserved(&io, 0x1000, 0x1fff));
	CU_ASSERT(iopt_is_reserved(&io, 0x1234, 0x1234));
	CU_ASSERT_FALSE(iopt_is_reserved(&io, 0x1235, 0x2000));
	CU_ASSERT_FALSE(iopt_is_reserved(&io, 0x1235, 0x1234)); /* empty query */
	CU_ASSERT_EQUAL(io.resv[0].kind, 1);
	CU_ASSERT_PTR_EQUAL(io.resv[0].owner, &OWNER_A);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0x1000, PG), -EINVAL);

	/* several owners, overlapping and nested */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x10000, 0x1ffff, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x18000, 0x2ffff, &OWNER_B, 0), 0);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x11000, 0x11fff, &OWNER_C, 0), 0); /* nested */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x10000, 0x1ffff, &OWNER_C, 0), 0); /* duplicate */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0xfee00000, 0xfeefffff, &OWNER_B, 0), 0);
	CU_ASSERT_EQUAL(io.nr_resv, 6);
	for (uint32_t i = 1; i < io.nr_resv; i++)
		CU_ASSERT(io.resv[i - 1].start <= io.resv[i].start);
	{
		const struct iopt_range w[] = {{0, 0x1233},
					       {0x1235, 0xffff},
					       {0x30000, 0xfedfffff},
					       {0xfef00000, UINT64_MAX}};
		CU_ASSERT(usable_is(&io, w, 4));
	}
	/* truncated output still reports the total */
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, out, 2), 4);
	CU_ASSERT_EQUAL(out[1].start, 0x1235);
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, NULL, 0), 4);

	iopt_unreserve_owner(&io, &OWNER_A);
	{
		/* C still holds 0x10000-0x1ffff, B 0x18000-0x2ffff */
		const struct iopt_range w[] = {
			{0, 0xffff}, {0x30000, 0xfedfffff}, {0xfef00000, UINT64_MAX}};
		CU_ASSERT(usable_is(&io, w, 3));
	}
	CU_ASSERT_FALSE(iopt_is_reserved(&io, 0x1234, 0x1234));
	iopt_unreserve_owner(&io, &OWNER_C);
	{
		const struct iopt_range w[] = {
			{0, 0x17fff}, {0x30000, 0xfedfffff}, {0xfef00000, UINT64_MAX}};
		CU_ASSERT(usable_is(&io, w, 3));
	}
	iopt_unreserve_owner(&io, &OWNER_C); /* nothing left: no-op */
	iopt_unreserve_owner(&io, &OWNER_B);
	CU_ASSERT_EQUAL(io.nr_resv, 0);
	{
		const struct iopt_range w[] = {{0, UINT64_MAX}};
		CU_ASSERT(usable_is(&io, w, 1));
	}

	/* -EADDRINUSE: area, allowed range; nothing changes */
	CU_ASSERT_EQUAL(map(&io, 0x50000, 0x2000), 0);
	struct iopt_range al = {0x100000, 0x1fffff};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, &al, 1), 0);
	snap_take(&io, &s);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x51fff, 0x52000, &OWNER_A, 0), -EADDRINUSE);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0, UINT64_MAX, &OWNER_A, 0), -EADDRINUSE);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x1fffff, 0x1fffff, &OWNER_A, 0), -EADDRINUSE);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0xff000, 0x100000, &OWNER_A, 0), -EADDRINUSE);
	CU_ASSERT(snap_same(&io, &s));
	snap_free(&s);
	/* adjacent to the area and to the allowed range: fine */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x4f000, 0x4ffff, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x52000, 0xfffff, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x200000, UINT64_MAX, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0x52000, PG), -EINVAL);
	{
		const struct iopt_range w[] = {
			{0, 0x4efff}, {0x50000, 0x51fff}, {0x100000, 0x1fffff}};
		CU_ASSERT(usable_is(&io, w, 3));
	}
	iopt_unreserve_owner(&io, &OWNER_A);

	/* the whole space reserved: nothing usable; growth past the
	 * initial capacity keeps the array sorted */
	CU_ASSERT_EQUAL(iopt_set_allowed(&io, NULL, 0), 0);
	CU_ASSERT_EQUAL(unmap(&io, 0, UINT64_MAX, NULL), 0);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0, UINT64_MAX, &OWNER_B, 0), 0);
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, out, 2), 0);
	for (int i = 99; i >= 0; i--)
		CU_ASSERT_EQUAL(
			iopt_reserve(&io, (uint64_t)i * 2 * PG, (uint64_t)i * 2 * PG, &OWNER_C, 0),
			0);
	CU_ASSERT_EQUAL(io.nr_resv, 101);
	CU_ASSERT(io.cap_resv >= 101);
	for (uint32_t i = 1; i < io.nr_resv; i++)
		CU_ASSERT(io.resv[i - 1].start <= io.resv[i].start);
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, out, 2), 0);
	iopt_unreserve_owner(&io, &OWNER_B);
	CU_ASSERT_EQUAL(iopt_usable_ranges(&io, out, 2), 100);
	CU_ASSERT_EQUAL(out[0].start, 1);
	CU_ASSERT_EQUAL(out[0].last, 2 * PG - 1);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_allowed(void)
{
	struct iopt io;
	struct snap s;

	iopt_init(&io);
	/* unsorted, overlapping, nested, adjacent: sorted and merged */
	const struct iopt_range in[] = {
		{0x50000, 0x5ffff}, {0x10000, 0x1ffff},	     {0x18000, 0x28fff},
		{0x12000, 0x13fff}, {0x29000, 0x29fff},	     {0x60000, 0x60fff},
		{0x90000, 0x90000}, {LAST_PAGE, UINT64_MAX}, {UINT64_MAX, UINT64_MAX},
	};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, in, 9), 0);
	CU_ASSERT_EQUAL_FATAL(io.nr_allowed, 4);
	CU_ASSERT_EQUAL(io.allowed[0].start, 0x10000);
	CU_ASSERT_EQUAL(io.allowed[0].last, 0x29fff);
	CU_ASSERT_EQUAL(io.allowed[1].start, 0x50000);
	CU_ASSERT_EQUAL(io.allowed[1].last, 0x60fff);
	CU_ASSERT_EQUAL(io.allowed[2].start, 0x90000);
	CU_ASSERT_EQUAL(io.allowed[2].last, 0x90000);
	CU_ASSERT_EQUAL(io.allowed[3].start, LAST_PAGE);
	CU_ASSERT_EQUAL(io.allowed[3].last, UINT64_MAX);

	/* failed replacements keep the old set */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x80000, 0x80fff, &OWNER_A, 0), 0);
	snap_take(&io, &s);
	const struct iopt_range bad_order[] = {{0, 0xfff}, {0x3000, 0x2000}};
	const struct iopt_range hits_resv[] = {{0, 0xfff}, {0x7f000, 0x80000}};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, bad_order, 2), -EINVAL);
	CU_ASSERT_EQUAL(iopt_set_allowed(&io, hits_resv, 2), -EADDRINUSE);
	CU_ASSERT_EQUAL(iopt_set_allowed(&io, NULL, 1), -EINVAL);
	CU_ASSERT(snap_same(&io, &s));
	snap_free(&s);
	/* -EINVAL is reported before -EADDRINUSE */
	const struct iopt_range both[] = {{0x80000, 0x80000}, {2, 1}};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, both, 2), -EINVAL);

	/* a whole-space range merges with anything */
	const struct iopt_range all[] = {{0x1000, 0x1fff}, {0, UINT64_MAX}, {5, 6}};

	iopt_unreserve_owner(&io, &OWNER_A);
	CU_ASSERT_EQUAL(iopt_set_allowed(&io, all, 3), 0);
	CU_ASSERT_EQUAL(io.nr_allowed, 1);
	CU_ASSERT_EQUAL(io.allowed[0].start, 0);
	CU_ASSERT_EQUAL(io.allowed[0].last, UINT64_MAX);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0, 0, &OWNER_A, 0), -EADDRINUSE);
	/* n == 0 clears */
	CU_ASSERT_EQUAL(iopt_set_allowed(&io, NULL, 0), 0);
	CU_ASSERT_EQUAL(io.nr_allowed, 0);
	CU_ASSERT_PTR_NULL(io.allowed);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0, 0, &OWNER_A, 0), 0);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* automatic allocation                                                */

static void test_alloc_errno(void)
{
	struct iopt io;
	uint64_t iova = 12345;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 0, 0, &iova), -EINVAL);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG + 1, 0, &iova), -EINVAL);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, UINT64_MAX, 0, &iova), -EINVAL);
	/* the largest aligned length cannot fit above the (non-zero) first
	 * aligned address */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, UINT64_MAX - PG + 1, 0, &iova), -EOVERFLOW);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, UINT64_MAX - GiB + 1 + PG, 0, &iova), -EOVERFLOW);
	CU_ASSERT_EQUAL(iova, 12345);
	/* just fits: aligned to 1 GiB, at 1 GiB, ending at UINT64_MAX */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, UINT64_MAX - GiB + 1, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, GiB);
	/* ...but with phys alignment of 4 KiB it can start at 4 KiB */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, UINT64_MAX - PG + 1 - PG, PG, &iova), 0);
	CU_ASSERT_EQUAL(iova, PG);
	/* -ENOSPC: everything reserved */
	CU_ASSERT_EQUAL(iopt_reserve(&io, PG, UINT64_MAX, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), -ENOSPC);
	/* 0 is free but never handed out */
	CU_ASSERT_EQUAL(iopt_check_map(&io, 0, PG), 0);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_alloc_alignment(void)
{
	struct iopt io;
	uint64_t iova = 0;

	iopt_init(&io);
	/* never 0 */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, PG);
	/* phys 2 MiB aligned, 4 MiB long -> 2 MiB aligned IOVA */
	CU_ASSERT_EQUAL(map(&io, PG, PG), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * MiB, 0x40200000, &iova), 0);
	CU_ASSERT_EQUAL(iova, 2 * MiB);
	/* no phys: roundup_pow2(len) = 4 MiB */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * MiB, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 4 * MiB);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 3 * MiB, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 4 * MiB);
	/* phys more aligned than the length: the length bound wins */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 8 * PG, 1ull << 40, &iova), 0);
	CU_ASSERT_EQUAL(iova, 8 * PG);
	/* phys only 4 KiB aligned: first free page */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * MiB, 0x12345000, &iova), 0);
	CU_ASSERT_EQUAL(iova, 2 * PG);
	/* capped at 1 GiB, with and without phys */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 3 * GiB, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, GiB);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 8 * GiB, 1ull << 40, &iova), 0);
	CU_ASSERT_EQUAL(iova, GiB);
	/* iova_alignment beats a smaller phys alignment */
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 64 * 1024), -EADDRINUSE); /* area at PG */
	CU_ASSERT_EQUAL(unmap(&io, PG, 2 * PG - 1, NULL), 0);
	CU_ASSERT_EQUAL(iopt_set_alignment(&io, 64 * 1024), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 64 * 1024, PG, &iova), 0);
	CU_ASSERT_EQUAL(iova, 64 * 1024);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), -EINVAL); /* len misaligned */
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_alloc_placement(void)
{
	struct iopt io;
	uint64_t iova = 0;

	iopt_init(&io);
	/* skips areas and reserved ranges, lowest fit wins */
	CU_ASSERT_EQUAL(map(&io, PG, 3 * PG), 0);				/* 1..3 */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 5 * PG, 6 * PG - 1, &OWNER_A, 0), 0); /* 5 */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 5 * PG, 9 * PG - 1, &OWNER_B, 0), 0); /* 5..8 */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 6 * PG, 6 * PG + 1, &OWNER_C, 0), 0); /* 6 */
	CU_ASSERT_EQUAL(map(&io, 10 * PG, PG), 0);				/* 10 */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 4 * PG);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 2 * PG, PG, &iova), 0);
	CU_ASSERT_EQUAL(iova, 11 * PG);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 2 * PG, 0, &iova), 0); /* 8K aligned */
	CU_ASSERT_EQUAL(iova, 12 * PG);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, PG, &iova), 0);
	CU_ASSERT_EQUAL(iova, 4 * PG);
	CU_ASSERT_EQUAL(map(&io, 4 * PG, PG), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, PG, &iova), 0);
	CU_ASSERT_EQUAL(iova, 9 * PG);

	/* allowed ranges confine it */
	const struct iopt_range al[] = {{0x100000, 0x101fff}, {0x200000, 0x2fffff}};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, al, 2), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 0x100000);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * PG, 0, &iova), 0); /* too big for the first */
	CU_ASSERT_EQUAL(iova, 0x200000);
	CU_ASSERT_EQUAL(map(&io, 0x100000, 2 * PG), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 0x200000);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, MiB, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 0x200000);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 2 * MiB, 0, &iova), -ENOSPC); /* window too small */
	CU_ASSERT_EQUAL(map(&io, 0x200000, 512 * 1024), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, MiB, 0, &iova), -ENOSPC);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, MiB, PG, &iova), -ENOSPC);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 512 * 1024, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 0x280000);
	iopt_destroy(&io);

	/* a window entirely below the alignment is skipped, not the end */
	iopt_init(&io);
	const struct iopt_range tiny[] = {{PG, 2 * PG - 1}, {0x100000, 0x1fffff}};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, tiny, 2), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 0x100000);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, PG);
	iopt_destroy(&io);

	/* allowed range starting at 0: still never 0 */
	iopt_init(&io);
	const struct iopt_range low = {0, 4 * PG - 1};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, &low, 1), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, PG);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * PG, 0, &iova), -ENOSPC);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 2 * PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, 2 * PG);
	iopt_destroy(&io);

	/* the top of the address space */
	iopt_init(&io);
	const struct iopt_range top = {UINT64_MAX - 4 * PG + 1, UINT64_MAX};

	CU_ASSERT_EQUAL(iopt_set_allowed(&io, &top, 1), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 4 * PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, UINT64_MAX - 4 * PG + 1);
	CU_ASSERT_EQUAL(map(&io, iova, 3 * PG), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, LAST_PAGE);
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE, PG), 0);
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), -ENOSPC);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* randomized comparison against a naive reference                     */

#define REF_MAX_AREAS 128
#define REF_MAX_RESV  24
#define REF_MAX_ALLOW 6

struct ref_range {
	uint64_t s, l;
	const void *owner;
};

struct ref {
	struct ref_range area[REF_MAX_AREAS];
	uint32_t n_area;
	struct ref_range resv[REF_MAX_RESV];
	uint32_t n_resv;
	struct ref_range allow[REF_MAX_ALLOW]; /* raw, unmerged input */
	uint32_t n_allow;
	uint64_t align;
};

static bool ref_hits(const struct ref_range *r, uint32_t n, uint64_t s, uint64_t l)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].s <= l && s <= r[i].l)
			return true;
	return false;
}

/* Is [s, l] inside the union of the raw allowed ranges? */
static bool ref_in_allowed(const struct ref *r, uint64_t s, uint64_t l)
{
	uint64_t pos = s;

	for (;;) {
		uint32_t i;

		for (i = 0; i < r->n_allow; i++)
			if (r->allow[i].s <= pos && pos <= r->allow[i].l)
				break;
		if (i == r->n_allow)
			return false;
		if (r->allow[i].l >= l)
			return true;
		pos = r->allow[i].l + 1;
	}
}

static int ref_check_map(const struct ref *r, uint64_t iova, uint64_t len)
{
	if (!len || iova % r->align || len % r->align)
		return -EINVAL;
	if (iova + (len - 1) < iova)
		return -EOVERFLOW;
	if (ref_hits(r->resv, r->n_resv, iova, iova + len - 1))
		return -EINVAL;
	if (ref_hits(r->area, r->n_area, iova, iova + len - 1))
		return -EEXIST;
	return 0;
}

static bool ref_fits(const struct ref *r, uint64_t c, uint64_t len)
{
	uint64_t e = c + len - 1;

	if (!c || e < c)
		return false;
	if (ref_hits(r->resv, r->n_resv, c, e) || ref_hits(r->area, r->n_area, c, e))
		return false;
	return !r->n_allow || ref_in_allowed(r, c, e);
}

static void ref_try(const struct ref *r, uint64_t x, uint64_t a, uint64_t len, uint64_t *best)
{
	uint64_t c = (x + a - 1) & ~(a - 1);

	if (c < x) /* wrapped */
		return;
	if (c < *best && ref_fits(r, c, len))
		*best = c;
}

/* The lowest feasible IOVA is @a itself, an allowed start rounded up, or
 * just after an obstacle rounded up. */
static int ref_alloc(const struct ref *r, uint64_t len, uint64_t phys, uint64_t *iova)
{
	uint64_t a = 1, best = UINT64_MAX;
	bool found;

	if (!len || len % r->align)
		return -EINVAL;
	while (a < len && a < GiB)
		a <<= 1;
	if (phys && (phys & -phys) < a)
		a = phys & -phys;
	if (a < r->align)
		a = r->align;
	if (a + (len - 1) < a)
		return -EOVERFLOW;
	ref_try(r, a, a, len, &best);
	for (uint32_t i = 0; i < r->n_area; i++)
		if (r->area[i].l != UINT64_MAX)
			ref_try(r, r->area[i].l + 1, a, len, &best);
	for (uint32_t i = 0; i < r->n_resv; i++)
		if (r->resv[i].l != UINT64_MAX)
			ref_try(r, r->resv[i].l + 1, a, len, &best);
	for (uint32_t i = 0; i < r->n_allow; i++)
		ref_try(r, r->allow[i].s, a, len, &best);
	/* best == UINT64_MAX is never aligned, so it means "none" */
	found = best != UINT64_MAX;
	if (!found)
		return -ENOSPC;
	*iova = best;
	return 0;
}

static uint64_t rnd_addr(void)
{
	uint64_t r = rnd();
	uint64_t page = (r >> 8) % 1024;

	switch (r & 7) {
	case 0:
		return UINT64_MAX - 1024 * PG + 1 + page * PG; /* top 4 MiB */
	case 1:
		return page * PG + ((r >> 40) & 1 ? (r >> 20) % PG : 0); /* unaligned */
	default:
		return page * PG;
	}
}

static uint64_t rnd_len(void)
{
	uint64_t r = rnd();

	switch (r & 15) {
	case 0:
		return 0;
	case 1:
		return (r >> 8) % (8 * PG); /* usually misaligned */
	case 2:
		return (uint64_t)1 << (12 + (r >> 8) % 10); /* up to 2 MiB */
	case 3:
		return UINT64_MAX - ((r >> 8) % 4) * PG + 1; /* huge */
	default:
		return (1 + (r >> 8) % 8) * PG;
	}
}

static bool ref_matches_tree(const struct iopt *io, const struct ref *r)
{
	uint64_t bytes = 0, prev_last = 0;
	uint32_t i = 0;

	if (io->nr_areas != r->n_area || io->iova_alignment != r->align || io->nr_resv != r->n_resv)
		return false;
	for (uint32_t k = 0; k < r->n_area; k++)
		bytes += r->area[k].l - r->area[k].s + 1;
	if (bytes != io->mapped_bytes)
		return false;
	/* in-order walk: sorted, disjoint, each present in the reference */
	for (struct rb_node *n = rb_first(&io->areas); n; n = rb_next(n), i++) {
		const struct iopt_area *a = rb_entry(n, struct iopt_area, node);
		bool present = false;

		if (i && a->iova <= prev_last)
			return false;
		prev_last = a->last;
		for (uint32_t k = 0; k < r->n_area; k++)
			if (r->area[k].s == a->iova && r->area[k].l == a->last)
				present = true;
		if (!present)
			return false;
	}
	return i == r->n_area;
}

/* Usable ranges computed point-wise: every boundary of a reserved range
 * splits the space; a piece is usable iff its first address is. */
static bool ref_usable_ok(const struct iopt *io, const struct ref *r)
{
	struct iopt_range got[2 * REF_MAX_RESV + 2];
	uint64_t cuts[2 * REF_MAX_RESV + 1];
	uint32_t nc = 0, total, nwant = 0;
	struct iopt_range want[2 * REF_MAX_RESV + 2];

	total = iopt_usable_ranges(io, got, 2 * REF_MAX_RESV + 2);
	cuts[nc++] = 0;
	for (uint32_t i = 0; i < r->n_resv; i++) {
		cuts[nc++] = r->resv[i].s;
		if (r->resv[i].l != UINT64_MAX)
			cuts[nc++] = r->resv[i].l + 1;
	}
	/* insertion sort + dedup */
	for (uint32_t i = 1; i < nc; i++)
		for (uint32_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			uint64_t t = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	for (uint32_t i = 0; i < nc; i++) {
		uint64_t s = cuts[i], l;

		if (i && cuts[i] == cuts[i - 1])
			continue;
		l = UINT64_MAX;
		for (uint32_t j = i + 1; j < nc; j++)
			if (cuts[j] != s) {
				l = cuts[j] - 1;
				break;
			}
		if (ref_hits(r->resv, r->n_resv, s, s))
			continue;
		if (nwant && want[nwant - 1].last + 1 == s)
			want[nwant - 1].last = l;
		else
			want[nwant++] = (struct iopt_range){s, l};
	}
	if (total != nwant)
		return false;
	for (uint32_t i = 0; i < nwant; i++)
		if (got[i].start != want[i].start || got[i].last != want[i].last)
			return false;
	return true;
}

static void test_random(void)
{
	static const int owners[4];
	uint64_t seed = env_u64("UIOMMU_SEED", 0);
	uint64_t ops = env_u64("IOPT_RANDOM_OPS", 150000);
	struct ref *r = calloc(1, sizeof(*r));
	struct iopt io;
	uint64_t stat[16] = {0};
	bool ok = true;

	CU_ASSERT_FATAL(r != NULL);
	if (!seed)
		seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)clock() ^ 0x9e3779b97f4a7c15ull;
	printf("\n  iopt random seed=0x%llx ops=%llu (UIOMMU_SEED to replay)\n",
	       (unsigned long long)seed, (unsigned long long)ops);
	g_rng = seed;
	iopt_init(&io);
	r->align = PG;

	for (uint64_t op = 0; op < ops && ok; op++) {
		uint64_t k = rnd() % 100;
		int rc, want;

		if (k < 30) { /* fixed map */
			uint64_t iova = rnd_addr(), len = rnd_len();

			bool one = r->n_area < REF_MAX_AREAS && (rnd() & 1);

			want = ref_check_map(r, iova, len);
			/* half of them in one descent (check and insert) */
			rc = one ? iopt_insert_checked(&io, iova, len, 0, NULL, 0, NULL)
				 : iopt_check_map(&io, iova, len);
			if (rc != want) {
				printf("  op %llu %s(0x%llx, 0x%llx) = %d want %d\n",
				       (unsigned long long)op, one ? "insert_checked" : "check_map",
				       (unsigned long long)iova, (unsigned long long)len, rc, want);
				ok = false;
			}
			if (!rc && r->n_area < REF_MAX_AREAS) {
				if (!one)
					ok &= iopt_insert(&io, iova, len, 0, NULL, 0, NULL) == 0;
				r->area[r->n_area++] =
					(struct ref_range){iova, iova + len - 1, NULL};
				stat[0]++;
			}
		} else if (k < 42) { /* auto map */
			uint64_t len = rnd_len(), phys = rnd() & ~(PG - 1), iova = 0, wiova = 0;

			if (rnd() & 1)
				phys &= ~((1ull << (rnd() % 32)) - 1);
			if (rnd() % 8 == 0)
				phys = 0;
			want = ref_alloc(r, len, phys, &wiova);
			rc = iopt_alloc_iova(&io, len, phys, &iova);
			if (rc != want || (!rc && iova != wiova)) {
				printf("  op %llu alloc(0x%llx, 0x%llx) = %d/0x%llx want "
				       "%d/0x%llx\n",
				       (unsigned long long)op, (unsigned long long)len,
				       (unsigned long long)phys, rc, (unsigned long long)iova, want,
				       (unsigned long long)wiova);
				ok = false;
			}
			if (!rc && (iova == 0 || iopt_check_map(&io, iova, len) != 0))
				ok = false;
			if (!rc && r->n_area < REF_MAX_AREAS) {
				ok &= iopt_insert(&io, iova, len, phys, NULL, 0, NULL) == 0;
				r->area[r->n_area++] =
					(struct ref_range){iova, iova + len - 1, NULL};
				stat[1]++;
			}
			stat[rc == -ENOSPC ? 2 : 3]++;
		} else if (k < 62) { /* unmap range */
			uint64_t s, l, bytes = 0, count = 0, wb = 0, wc = 0;
			bool cut = false;

			if (r->n_area && rnd() % 2) {
				/* span from one area's start to another's end,
				 * sometimes off by a page */
				const struct ref_range *x = &r->area[rnd() % r->n_area];
				const struct ref_range *y = &r->area[rnd() % r->n_area];

				s = x->s < y->s ? x->s : y->s;
				l = x->l > y->l ? x->l : y->l;
				if (rnd() % 4 == 0)
					s += PG;
				if (rnd() % 4 == 0)
					l -= PG;
			} else {
				s = rnd_addr();
				l = rnd_addr();
			}
			for (uint32_t i = 0; i < r->n_area; i++)
				if (r->area[i].s <= l && s <= r->area[i].l) {
					wb += r->area[i].l - r->area[i].s + 1;
					wc++;
					if (r->area[i].s < s || r->area[i].l > l)
						cut = true;
				}
			want = (s > l || !wc) ? -ENOENT : cut ? -EINVAL : 0;
			rc = iopt_check_unmap(&io, s, l, &bytes, &count);
			if (rc != want || (!rc && (bytes != wb || count != wc))) {
				printf("  op %llu check_unmap(0x%llx, 0x%llx) = %d want %d\n",
				       (unsigned long long)op, (unsigned long long)s,
				       (unsigned long long)l, rc, want);
				ok = false;
			}
			/* the one-area fast path agrees: 0 iff exactly one whole
			 * area, an error only when check_unmap fails the same way */
			struct iopt_area *ex = NULL;
			int rx = iopt_find_exact(&io, s, l, &ex);

			bool one = !want && wc == 1 && iopt_find(&io, s) &&
				   iopt_find(&io, s)->iova == s && iopt_find(&io, s)->last == l;

			if ((rx == 0) != one || (rx < 0 && rx != want) ||
			    (rx && rx != -ENOENT && rx != -EINVAL && rx != IOPT_NOT_ONE) ||
			    (!rx && (ex->iova != s || ex->last != l))) {
				printf("  op %llu find_exact(0x%llx, 0x%llx) = %d\n",
				       (unsigned long long)op, (unsigned long long)s,
				       (unsigned long long)l, rx);
				ok = false;
			}
			if (!rc && !rx) {
				iopt_remove(&io, ex);
				stat[8]++;
			} else if (!rc) {
				struct iopt_area *a, *nx;

				for (a = iopt_first(&io, s, l); a; a = nx) {
					nx = iopt_next(a, l);
					iopt_remove(&io, a);
				}
			}
			if (!rc) {
				for (uint32_t i = 0; i < r->n_area;)
					if (r->area[i].s <= l && s <= r->area[i].l)
						r->area[i] = r->area[--r->n_area];
					else
						i++;
				stat[4]++;
			}
		} else if (k < 74) { /* find / first */
			uint64_t q = rnd_addr(), q2 = rnd_addr();
			const struct ref_range *wf = NULL, *w1 = NULL;
			struct iopt_area *f, *f1;

			if (r->n_area && rnd() % 2)
				q = r->area[rnd() % r->n_area].l - (rnd() % 2);
			for (uint32_t i = 0; i < r->n_area; i++) {
				if (r->area[i].s <= q && q <= r->area[i].l)
					wf = &r->area[i];
				if (q <= q2 && r->area[i].s <= q2 && q <= r->area[i].l &&
				    (!w1 || r->area[i].s < w1->s))
					w1 = &r->area[i];
			}
			f = iopt_find(&io, q);
			f1 = iopt_first(&io, q, q2);
			if ((!f) != (!wf) || (f && f->iova != wf->s))
				ok = false;
			if ((!f1) != (!w1) || (f1 && f1->iova != w1->s))
				ok = false;
			if (!ok)
				printf("  op %llu find/first(0x%llx, 0x%llx)\n",
				       (unsigned long long)op, (unsigned long long)q,
				       (unsigned long long)q2);
		} else if (k < 80) { /* contig */
			uint64_t s = rnd_addr(), l = rnd_addr(), pos = s;
			bool covered = s <= l;

			if (r->n_area && rnd() % 2) {
				s = r->area[rnd() % r->n_area].s + (rnd() % 2);
				l = s + (rnd() % 4) * PG;
				pos = s;
				covered = l >= s;
			}
			while (covered) {
				const struct ref_range *x = NULL;

				for (uint32_t i = 0; i < r->n_area; i++)
					if (r->area[i].s <= pos && pos <= r->area[i].l)
						x = &r->area[i];
				if (!x) {
					covered = false;
					break;
				}
				if (x->l >= l)
					break;
				pos = x->l + 1;
			}
			rc = iopt_check_contig(&io, s, l);
			if (rc != (covered ? 0 : -ENOENT)) {
				printf("  op %llu contig(0x%llx, 0x%llx) = %d\n",
				       (unsigned long long)op, (unsigned long long)s,
				       (unsigned long long)l, rc);
				ok = false;
			}
			stat[5] += covered;
		} else if (k < 87) { /* reserve */
			uint64_t s = rnd_addr(), l = s + rnd() % (4 * PG);
			const void *owner = &owners[rnd() % 4];

			if (rnd() % 16 == 0)
				l = s - 1;
			if (l < s)
				want = -EINVAL;
			else if (ref_hits(r->area, r->n_area, s, l) ||
				 ref_hits(r->allow, r->n_allow, s, l))
				want = -EADDRINUSE;
			else
				want = 0;
			if (!want && r->n_resv == REF_MAX_RESV)
				continue;
			rc = iopt_reserve(&io, s, l, owner, 0);
			if (rc != want) {
				printf("  op %llu reserve(0x%llx, 0x%llx) = %d want %d\n",
				       (unsigned long long)op, (unsigned long long)s,
				       (unsigned long long)l, rc, want);
				ok = false;
			}
			if (!rc)
				r->resv[r->n_resv++] = (struct ref_range){s, l, owner};
			stat[6] += !rc;
		} else if (k < 91) { /* unreserve */
			const void *owner = &owners[rnd() % 4];

			iopt_unreserve_owner(&io, owner);
			for (uint32_t i = 0; i < r->n_resv;)
				if (r->resv[i].owner == owner)
					r->resv[i] = r->resv[--r->n_resv];
				else
					i++;
		} else if (k < 96) { /* set_allowed */
			struct iopt_range in[REF_MAX_ALLOW];
			uint32_t n = (uint32_t)(rnd() % (REF_MAX_ALLOW + 1));

			for (uint32_t i = 0; i < n; i++) {
				in[i].start = rnd_addr();
				in[i].last = in[i].start + rnd() % (256 * PG);
				if (rnd() % 32 == 0)
					in[i].last = in[i].start - 1;
			}
			want = 0;
			for (uint32_t i = 0; i < n; i++)
				if (in[i].start > in[i].last)
					want = -EINVAL;
			for (uint32_t i = 0; i < n && !want; i++)
				if (ref_hits(r->resv, r->n_resv, in[i].start, in[i].last))
					want = -EADDRINUSE;
			rc = iopt_set_allowed(&io, in, n);
			if (rc != want) {
				printf("  op %llu set_allowed(n=%u) = %d want %d\n",
				       (unsigned long long)op, n, rc, want);
				ok = false;
			}
			if (!rc) {
				r->n_allow = n;
				for (uint32_t i = 0; i < n; i++)
					r->allow[i] =
						(struct ref_range){in[i].start, in[i].last, NULL};
			}
			stat[7] += !rc;
			/* merged form: sorted, disjoint, not adjacent, same union */
			for (uint32_t i = 0; i < io.nr_allowed; i++) {
				if (i && io.allowed[i].start <= io.allowed[i - 1].last + 1)
					ok = false;
				if (!ref_in_allowed(r, io.allowed[i].start, io.allowed[i].last))
					ok = false;
			}
			for (uint32_t i = 0; i < r->n_allow; i++) {
				bool inside = false;

				for (uint32_t j = 0; j < io.nr_allowed; j++)
					if (io.allowed[j].start <= r->allow[i].s &&
					    r->allow[i].l <= io.allowed[j].last)
						inside = true;
				ok &= inside;
			}
		} else { /* alignment */
			static const uint64_t aligns[] = {PG, PG, 2 * PG, 4 * PG, 16 * PG};
			uint64_t a = aligns[rnd() % 5];

			want = 0;
			for (uint32_t i = 0; i < r->n_area; i++)
				if (r->area[i].s % a || (r->area[i].l + 1) % a)
					want = -EADDRINUSE;
			rc = iopt_set_alignment(&io, a);
			if (rc != want)
				ok = false;
			if (!rc)
				r->align = a;
		}
		if (!iopt_invariants_ok(&io)) {
			printf("  op %llu: gap/hint/free-list invariants broken\n",
			       (unsigned long long)op);
			ok = false;
		}
		if ((op & 1023) == 0 && !iopt_check_clean(&io)) {
			printf("  op %llu: iopt_check reports problems\n", (unsigned long long)op);
			ok = false;
		}
		if ((op & 63) == 0 || !ok) {
			if (!ref_matches_tree(&io, r)) {
				printf("  op %llu: tree differs from reference\n",
				       (unsigned long long)op);
				ok = false;
			}
			if (!ref_usable_ok(&io, r)) {
				printf("  op %llu: usable ranges differ\n", (unsigned long long)op);
				ok = false;
			}
		}
	}
	CU_ASSERT(ok);
	CU_ASSERT(ref_matches_tree(&io, r));
	printf("  fixed maps %llu, auto maps %llu (ENOSPC %llu), unmaps %llu (one-area %llu),"
	       " contig hits %llu, reserves %llu, allowed sets %llu\n",
	       (unsigned long long)stat[0], (unsigned long long)stat[1],
	       (unsigned long long)stat[2], (unsigned long long)stat[4],
	       (unsigned long long)stat[8], (unsigned long long)stat[5],
	       (unsigned long long)stat[6], (unsigned long long)stat[7]);
	if (!ok)
		printf("  FAILED: replay with UIOMMU_SEED=0x%llx\n", (unsigned long long)seed);
	iopt_destroy(&io);
	free(r);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* auto-allocation against the linear algorithm it replaced            */

/* The allocator before the gap augmentation (a linear walk with rb_next
 * from one descent), kept verbatim as the reference: same lowest address,
 * same alignment rule, same windows, same reserved-range skipping. */
static struct iopt_area *lin_first_ending_at_or_after(const struct iopt *io, uint64_t iova)
{
	struct rb_node *n = io->areas.node;
	struct iopt_area *best = NULL;

	while (n) {
		struct iopt_area *a = rb_entry(n, struct iopt_area, node);

		if (a->last >= iova) {
			best = a;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

static int64_t lin_resv_first_hit(const struct iopt *io, uint64_t start, uint64_t last)
{
	for (uint32_t i = 0; i < io->nr_resv && io->resv[i].start <= last; i++)
		if (io->resv[i].last >= start)
			return i;
	return -1;
}

static bool lin_align_up(uint64_t x, uint64_t a, uint64_t *out)
{
	if (x > ~(a - 1))
		return false;
	*out = (x + a - 1) & ~(a - 1);
	return true;
}

static int lin_alloc_in_window(const struct iopt *io, uint64_t win_start, uint64_t win_last,
			       uint64_t len, uint64_t align, uint64_t *iova)
{
	struct iopt_area *cursor;
	uint64_t c, e;
	int64_t r;

	if (!lin_align_up(win_start > align ? win_start : align, align, &c))
		return -ENOSPC;
	cursor = lin_first_ending_at_or_after(io, c);
	for (;;) {
		if (len - 1 > UINT64_MAX - c)
			return -ENOSPC;
		e = c + len - 1;
		if (e > win_last)
			return -ENOSPC;
		r = lin_resv_first_hit(io, c, e);
		if (r >= 0) {
			uint64_t skip = io->resv[r].last;

			for (uint32_t i = (uint32_t)r + 1;
			     i < io->nr_resv && io->resv[i].start <= e; i++)
				if (io->resv[i].last > skip)
					skip = io->resv[i].last;
			if (skip == UINT64_MAX || !lin_align_up(skip + 1, align, &c))
				return -ENOSPC;
			if (cursor && cursor->last < c)
				cursor = lin_first_ending_at_or_after(io, c);
			continue;
		}
		if (cursor && cursor->iova <= e) {
			if (cursor->last == UINT64_MAX ||
			    !lin_align_up(cursor->last + 1, align, &c))
				return -ENOSPC;
			do {
				struct rb_node *nx = rb_next(&cursor->node);

				cursor = nx ? rb_entry(nx, struct iopt_area, node) : NULL;
			} while (cursor && cursor->last < c);
			continue;
		}
		*iova = c;
		return 0;
	}
}

static int lin_alloc(const struct iopt *io, uint64_t len, uint64_t phys, uint64_t *iova)
{
	uint64_t align;

	if (!len || (len & (io->iova_alignment - 1)))
		return -EINVAL;
	if (len >= GiB)
		align = GiB;
	else
		align = 1ull << (64 - __builtin_clzll(len - 1));
	if (phys) {
		uint64_t pa = 1ull << __builtin_ctzll(phys);

		if (pa < align)
			align = pa;
	}
	if (align < io->iova_alignment)
		align = io->iova_alignment;
	if (len - 1 > UINT64_MAX - align)
		return -EOVERFLOW;
	if (!io->nr_allowed)
		return lin_alloc_in_window(io, 0, UINT64_MAX, len, align, iova);
	for (uint32_t i = 0; i < io->nr_allowed; i++) {
		const struct iopt_range *w = &io->allowed[i];

		if (w->last < align)
			continue;
		if (lin_alloc_in_window(io, w->start, w->last, len, align, iova) == 0)
			return 0;
	}
	return -ENOSPC;
}

/* A random address in a space of @span pages based at @base, page aligned. */
static uint64_t rnd_page(uint64_t base, uint64_t span)
{
	return base + (rnd() % span) * PG;
}

static void test_alloc_vs_linear(void)
{
	uint64_t seed = env_u64("UIOMMU_SEED", 0);
	uint64_t cases = env_u64("IOPT_ALLOC_CASES", 4000), queries = 0, found = 0;
	bool ok = true;

	if (!seed)
		seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)clock() ^ 0x51ed270b1dull;
	g_rng = seed;
	printf("\n  alloc vs linear seed=0x%llx cases=%llu\n", (unsigned long long)seed,
	       (unsigned long long)cases);
	for (uint64_t c = 0; c < cases && ok; c++) {
		/* a small space (dense: tight gaps) or one near the top of the
		 * 64-bit space (wrap-around) */
		uint64_t span = 16 + rnd() % 2048;
		uint64_t base = rnd() % 8 == 0 ? UINT64_MAX - span * PG + 1 : 0;
		uint32_t nops = (uint32_t)(rnd() % 600);
		struct iopt io;

		iopt_init(&io);
		if (rnd() % 4 == 0)
			(void)iopt_set_alignment(&io, PG << (rnd() % 4));
		/* reserved ranges first (they exclude areas), some nested */
		for (uint32_t i = (uint32_t)(rnd() % 7); i > 0; i--) {
			uint64_t st = rnd_page(base, span), l = st + (rnd() % 64) * PG + PG - 1;

			if (l < st)
				l = UINT64_MAX;
			(void)iopt_reserve(&io, st, l, &OWNER_A, 0);
		}
		/* areas: random inserts and removals (merged gaps), some
		 * committed through the one-area path (free list) */
		for (uint32_t i = 0; i < nops; i++) {
			uint64_t len = (1 + rnd() % (rnd() % 4 ? 4 : 64)) * io.iova_alignment;
			uint64_t iova = rnd_page(base, span) & ~(io.iova_alignment - 1);

			if (rnd() % 3 == 0 && io.nr_areas) {
				struct iopt_area *a = iopt_first(&io, iova, UINT64_MAX);
				struct iopt_area *x;

				if (a && !iopt_find_exact(&io, a->iova, a->last, &x))
					iopt_remove(&io, x);
			} else if (rnd() % 4 == 0) {
				if (!iopt_alloc_iova(&io, len, 0, &iova))
					(void)iopt_insert_checked(&io, iova, len, 0, NULL, 0, NULL);
			} else {
				(void)iopt_insert_checked(&io, iova, len, 0, NULL, 0, NULL);
			}
		}
		if (rnd() % 2) {
			struct iopt_range al[4];
			uint32_t n = (uint32_t)(1 + rnd() % 4);

			for (uint32_t i = 0; i < n; i++) {
				al[i].start =
					rnd_page(base, span) + (rnd() % 8 == 0 ? rnd() % PG : 0);
				al[i].last = al[i].start + (rnd() % 256) * PG + rnd() % (2 * PG);
				if (al[i].last < al[i].start)
					al[i].last = UINT64_MAX;
			}
			(void)iopt_set_allowed(&io, al, n); /* may hit a reservation */
		}
		ok &= iopt_invariants_ok(&io);
		for (int q = 0; q < 20 && ok; q++) {
			uint64_t len = (1 + rnd() % (rnd() % 2 ? 4 : 300)) * io.iova_alignment;
			uint64_t phys = rnd() % 3 ? (rnd() & ~(PG - 1)) << (rnd() % 20) : 0;
			uint64_t got = 0, want = 0;
			int rc, wrc;

			if (rnd() % 16 == 0)
				len = rnd() % 3 ? UINT64_MAX - (rnd() % 4) * PG + 1 : PG + 1;
			wrc = lin_alloc(&io, len, phys, &want);
			rc = iopt_alloc_iova(&io, len, phys, &got);
			queries++;
			found += !rc;
			if (rc != wrc || (!rc && got != want)) {
				printf("  case %llu: alloc(0x%llx, phys 0x%llx) = %d/0x%llx, "
				       "linear "
				       "%d/0x%llx (%llu areas, %u resv, %u allowed)\n",
				       (unsigned long long)c, (unsigned long long)len,
				       (unsigned long long)phys, rc, (unsigned long long)got, wrc,
				       (unsigned long long)want, (unsigned long long)io.nr_areas,
				       io.nr_resv, io.nr_allowed);
				ok = false;
			}
		}
		iopt_destroy(&io);
	}
	printf("  %llu queries, %llu found\n", (unsigned long long)queries,
	       (unsigned long long)found);
	if (!ok)
		printf("  FAILED: replay with UIOMMU_SEED=0x%llx\n", (unsigned long long)seed);
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* one-area fast paths, free list, hints                               */

static void test_find_exact(void)
{
	struct iopt io;
	struct iopt_area *a = NULL, *b;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0, UINT64_MAX, &a), -ENOENT);
	CU_ASSERT_EQUAL(map(&io, 0x10000, 4 * PG), 0);
	CU_ASSERT_EQUAL(map(&io, 0x14000, PG), 0); /* abuts the first */
	CU_ASSERT_EQUAL(map(&io, 0x20000, 2 * PG), 0);
	CU_ASSERT_EQUAL(map(&io, LAST_PAGE, PG), 0);
	/* exact: from the hints and from a descent */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, LAST_PAGE, UINT64_MAX, &a), 0);
	CU_ASSERT(a && a->iova == LAST_PAGE);
	io.hint_area = io.hint_gap = NULL;
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x10000, 0x13fff, &a), 0);
	CU_ASSERT(a && a->iova == 0x10000 && a->last == 0x13fff);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x14000, 0x14fff, &a), 0);
	/* cut: inside an area, or past its end, or before it */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x11000, 0x13fff, &b), -EINVAL);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x10000, 0x11fff, &b), -EINVAL);
	/* a cut in a later area is not visible from @start: the slow path */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x10000, 0x14ffe, &b), IOPT_NOT_ONE);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x10000, 0x14ffe, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x20000, 0x21ffe, &b), -EINVAL);
	/* several whole areas, or a hole then whole areas: the slow path */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x10000, 0x14fff, &b), IOPT_NOT_ONE);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x10000, 0x1ffff, &b), IOPT_NOT_ONE);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x1000, 0x14fff, &b), IOPT_NOT_ONE);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x15000, 0x21fff, &b), IOPT_NOT_ONE);
	/* holes only, or reversed */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x15000, 0x1ffff, &b), -ENOENT);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0, 0xffff, &b), -ENOENT);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x22000, LAST_PAGE - 1, &b), -ENOENT);
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x14fff, 0x10000, &b), -ENOENT);
	/* a cut reported by find_exact is a cut for check_unmap too */
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x11000, 0x13fff, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0x10000, 0x14fff, NULL, NULL), 0);
	iopt_remove(&io, a);
	CU_ASSERT_EQUAL(io.nr_areas, 3);
	CU_ASSERT_EQUAL(io.nr_spare, 1); /* committed: kept for reuse */
	CU_ASSERT(iopt_invariants_ok(&io));
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

static void test_spare_list(void)
{
	struct iopt io;
	struct iopt_area *a;
	uint64_t base = live(), iova;
	struct snap s;

	iopt_init(&io);
	/* a fresh record that is removed uncommitted (an undone insert)
	 * goes back to its block, and the emptied block to the heap */
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x100000, PG, 0, NULL, 0, &a), 0);
	CU_ASSERT_EQUAL(live(), base + 1);
	CU_ASSERT_EQUAL(io.nr_blocks, 1);
	iopt_remove(&io, a);
	CU_ASSERT_EQUAL(live(), base);
	CU_ASSERT_EQUAL(io.nr_blocks, 0);
	CU_ASSERT_EQUAL(io.nr_spare, 0);
	/* records come from blocks: one heap allocation per block */
	for (uint32_t i = 0; i < IOPT_SPARE_MAX + 36; i++)
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x100000 + i * 2 * PG, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT(io.nr_blocks >= 2 && io.nr_blocks < IOPT_SPARE_MAX / 8);
	CU_ASSERT_EQUAL(live(), base + io.nr_blocks);
	/* committed unmaps keep at most IOPT_SPARE_MAX records */
	for (uint32_t i = 0; i < IOPT_SPARE_MAX + 36; i++) {
		CU_ASSERT_FATAL(iopt_find_exact(&io, 0x100000 + i * 2 * PG,
						0x100000 + i * 2 * PG + PG - 1, &a) == 0);
		iopt_remove(&io, a);
		CU_ASSERT(iopt_invariants_ok(&io));
	}
	CU_ASSERT_EQUAL(io.nr_areas, 0);
	CU_ASSERT_EQUAL(io.nr_spare, IOPT_SPARE_MAX);
	CU_ASSERT_EQUAL(live(), base + io.nr_blocks);
	uint32_t blocks = io.nr_blocks;
	/* while there are spares, inserts do not allocate (an armed failure
	 * does not fire) and records come back clean */
	uenv_fail_nth(1);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x200000, PG, 0x5000, NULL, IOPT_READ, &a), 0);
	CU_ASSERT(!uenv_fail_fired());
	uenv_fail_nth(0);
	CU_ASSERT(a->flags == 0 && a->phys == 0x5000 && a->prot == IOPT_READ && !a->va);
	CU_ASSERT_EQUAL(io.nr_spare, IOPT_SPARE_MAX - 1);
	/* a recycled record removed uncommitted goes back to the list */
	iopt_remove(&io, a);
	CU_ASSERT_EQUAL(io.nr_spare, IOPT_SPARE_MAX);
	CU_ASSERT_EQUAL(io.nr_blocks, blocks);
	/* empty the list and fill the blocks: then an allocation failure is
	 * possible and clean */
	for (uint32_t i = 0; i < IOPT_SPARE_MAX; i++)
		CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova) ||
					iopt_insert(&io, iova, PG, 0, NULL, 0, NULL),
				0);
	CU_ASSERT_EQUAL(io.nr_spare, 0);
	while (io.partial)
		CU_ASSERT_FATAL(iopt_alloc_iova(&io, PG, 0, &iova) == 0 &&
				iopt_insert(&io, iova, PG, 0, NULL, 0, NULL) == 0);
	blocks = io.nr_blocks;
	snap_take(&io, &s);
	uenv_fail_nth(1);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x300000, PG, 0, NULL, 0, &a), -ENOMEM);
	CU_ASSERT(uenv_fail_fired());
	uenv_fail_nth(0);
	CU_ASSERT(snap_same(&io, &s));
	CU_ASSERT_EQUAL(io.nr_blocks, blocks);
	CU_ASSERT_EQUAL(live(), base + blocks);
	CU_ASSERT(iopt_invariants_ok(&io));
	snap_free(&s);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(io.nr_spare, 0);
	CU_ASSERT_EQUAL(live(), base);
}

/* The hint paths (sequential inserts, map/unmap at one IOVA, descending
 * inserts, unmaps in order) give the same tree and errors as descents. */
static void test_hints(void)
{
	struct iopt io;
	struct iopt_area *a;

	iopt_init(&io);
	/* ascending, abutting: each goes right after the previous one */
	for (uint64_t i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x1000000 + i * PG, PG, 0, NULL, 0, NULL),
				0);
	/* overlaps near the hints still fail */
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x1000000 + 299 * PG, PG, 0, NULL, 0, NULL),
			-EEXIST);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x1000000 - PG, 2 * PG, 0, NULL, 0, NULL),
			-EEXIST);
	/* descending, filling a hole from the top */
	for (uint64_t i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x800000 - (i + 1) * PG, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT(iopt_invariants_ok(&io));
	/* map/unmap at one IOVA among the others */
	CU_ASSERT_EQUAL(iopt_find_exact(&io, 0x1000000 + 150 * PG, 0x1000000 + 151 * PG - 1, &a),
			0);
	iopt_remove(&io, a);
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x1000000 + 150 * PG, PG, 0, NULL, 0, NULL), 0);
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x1000000 + 150 * PG, PG, 0, NULL, 0, NULL),
			-EEXIST);
		CU_ASSERT_EQUAL(
			iopt_find_exact(&io, 0x1000000 + 150 * PG, 0x1000000 + 151 * PG - 1, &a),
			0);
		iopt_remove(&io, a);
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x1000000 + 149 * PG, 2 * PG, 0, NULL, 0, NULL),
			-EEXIST);
		CU_ASSERT_EQUAL(
			iopt_insert_checked(&io, 0x1000000 + 150 * PG, 2 * PG, 0, NULL, 0, NULL),
			-EEXIST);
	}
	CU_ASSERT(iopt_invariants_ok(&io));
	CU_ASSERT_EQUAL(io.nr_areas, 499);
	/* unmap everything in ascending order, one area at a time */
	for (struct iopt_area *f = iopt_first(&io, 0, UINT64_MAX); f;
	     f = iopt_first(&io, 0, UINT64_MAX)) {
		CU_ASSERT_FATAL(iopt_find_exact(&io, f->iova, f->last, &a) == 0);
		CU_ASSERT(a == f);
		iopt_remove(&io, a);
	}
	CU_ASSERT(iopt_invariants_ok(&io));
	CU_ASSERT_EQUAL(io.nr_areas, 0);
	CU_ASSERT_EQUAL(io.mapped_bytes, 0);
	iopt_destroy(&io);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* fail-nth                                                            */

enum fop {
	F_INSERT,
	F_INSERT_CHECKED,
	F_RESERVE_GROW,
	F_RESERVE,
	F_ALLOWED,
	F_ALLOWED_CLEAR,
	F__N
};

/* A populated iopt: areas, reservations (array at capacity), allowed. */
static void fail_setup(struct iopt *io)
{
	const struct iopt_range al[] = {{0x100000000ull, 0x1ffffffffull}, {0x10000, 0x1ffff}};

	iopt_init(io);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(map(io, 0x1000000 + (uint64_t)i * 2 * PG, PG), 0);
	/* fill the record block, so that the next insert needs a new one */
	for (int i = 20; io->partial; i++)
		CU_ASSERT_EQUAL(map(io, 0x1000000 + (uint64_t)i * 2 * PG, PG), 0);
	while (io->nr_resv < io->cap_resv || io->nr_resv < 8)
		CU_ASSERT_EQUAL(iopt_reserve(io, 0x800000 + io->nr_resv * 2 * PG,
					     0x800000 + io->nr_resv * 2 * PG, &OWNER_A, 0),
				0);
	CU_ASSERT_EQUAL(iopt_set_allowed(io, al, 2), 0);
}

static int fail_op(struct iopt *io, enum fop op)
{
	const struct iopt_range al[] = {{0x30000, 0x3ffff}, {0x20000, 0x30fff}, {0x40000, 0x40fff}};

	switch (op) {
	case F_INSERT:
		return iopt_insert(io, 0x2000000, 4 * PG, 0x1234000, NULL, IOPT_READ, NULL);
	case F_INSERT_CHECKED: /* between two areas */
		return iopt_insert_checked(io, 0x1000000 + PG, PG, 0x1234000, NULL, IOPT_READ,
					   NULL);
	case F_RESERVE_GROW: /* the array is full: this one must grow it */
		return iopt_reserve(io, 0x700000, 0x700fff, &OWNER_B, 0);
	case F_RESERVE:
		/* second reservation after a growth: fits without allocating */
		return iopt_reserve(io, 0x710000, 0x710fff, &OWNER_B, 0);
	case F_ALLOWED:
		return iopt_set_allowed(io, al, 3);
	case F_ALLOWED_CLEAR:
		return iopt_set_allowed(io, NULL, 0);
	default:
		return -1;
	}
}

static void test_fail_nth(void)
{
	for (int op = 0; op < F__N; op++) {
		unsigned long n;
		unsigned int failures = 0;

		for (n = 1; n < 64; n++) {
			struct iopt io;
			struct snap s;
			uint64_t base = live();
			int rc;

			fail_setup(&io);
			if (op == F_RESERVE)
				CU_ASSERT_EQUAL(fail_op(&io, F_RESERVE_GROW), 0);
			snap_take(&io, &s);
			uenv_fail_nth(n);
			rc = fail_op(&io, (enum fop)op);
			if (uenv_fail_fired()) {
				failures++;
				CU_ASSERT_EQUAL(rc, -ENOMEM);
				CU_ASSERT(snap_same(&io, &s));
			} else {
				CU_ASSERT_EQUAL(rc, 0);
			}
			uenv_fail_nth(0);
			snap_free(&s);
			iopt_destroy(&io);
			CU_ASSERT_EQUAL(live(), base);
			if (rc == 0)
				break;
		}
		CU_ASSERT(n < 64);
		/* which operations allocate exactly once */
		CU_ASSERT_EQUAL(failures, (op == F_INSERT || op == F_INSERT_CHECKED ||
					   op == F_RESERVE_GROW || op == F_ALLOWED)
						  ? 1u
						  : 0u);
	}

	/* a whole scenario, failing each allocation in turn: every step
	 * either succeeds or fails cleanly; destroy frees everything */
	unsigned long n;

	for (n = 1; n < 10000; n++) {
		struct iopt io;
		uint64_t base = live();
		bool fired;
		int rc = 0;

		iopt_init(&io);
		uenv_fail_nth(n);
		for (int i = 0; i < 40 && !rc; i++) {
			struct snap s;
			uint64_t iova;

			snap_take(&io, &s);
			if (i % 4 == 0) {
				rc = iopt_reserve(&io, 0x100000000ull + (uint64_t)i * PG,
						  0x100000000ull + (uint64_t)i * PG, &OWNER_C, 0);
			} else if (i % 4 == 1) {
				struct iopt_range al = {(uint64_t)i * MiB,
							(uint64_t)i * MiB + MiB - 1};

				rc = iopt_set_allowed(&io, &al, 1);
			} else {
				rc = iopt_alloc_iova(&io, 2 * PG, 0, &iova);
				if (!rc)
					rc = iopt_insert(&io, iova, 2 * PG, 0, NULL, 0, NULL);
			}
			if (rc) {
				CU_ASSERT_EQUAL(rc, -ENOMEM);
				CU_ASSERT(snap_same(&io, &s));
			}
			snap_free(&s);
		}
		fired = uenv_fail_fired();
		uenv_fail_nth(0);
		CU_ASSERT_EQUAL(fired, rc != 0);
		iopt_destroy(&io);
		CU_ASSERT_EQUAL(live(), base);
		if (!fired)
			break;
	}
	printf("\n  scenario: %lu allocation points walked\n", n - 1);
	CU_ASSERT(n > 10 && n < 10000);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* ------------------------------------------------------------------ */
/* scale                                                               */

/* 1M areas: ~3 s in a debugoptimized build, ~6 s under ASan+UBSan on 2
 * cores; IOPT_SCALE_N lowers it for valgrind. */
#define SCALE_DEFAULT 1000000u

static void test_scale(void)
{
	uint32_t n = (uint32_t)env_u64("IOPT_SCALE_N", SCALE_DEFAULT);
	uint32_t *perm = malloc((size_t)n * sizeof(*perm));
	struct iopt io;
	uint64_t iova, bytes, count;
	uint32_t bad = 0;
	double t0, t1, t2, t3, t4;

	CU_ASSERT_FATAL(perm != NULL && n > 1);
	g_rng = 0x5eed5eedull;
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd() % (i + 1)), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	iopt_init(&io);
	/* area i at [i * 8 KiB, +4 KiB): a 4 KiB hole after each */
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		bad += iopt_insert(&io, (uint64_t)perm[i] * 2 * PG, PG, 0, NULL, 0, NULL) != 0;
	t1 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = (uint64_t)perm[(i * 7919u) % n] * 2 * PG;
		struct iopt_area *a = iopt_find(&io, x + PG - 1);

		bad += !a || a->iova != x;
		bad += iopt_find(&io, x + PG) != NULL;
	}
	t2 = now_s();
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(io.nr_areas, n);
	CU_ASSERT_EQUAL(io.mapped_bytes, (uint64_t)n * PG);
	/* first hole vs. a request that only fits past the last area */
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, PG, 0, &iova), 0);
	CU_ASSERT_EQUAL(iova, PG);
	t3 = now_s();
	CU_ASSERT_EQUAL(iopt_alloc_iova(&io, 2 * PG, 0, &iova), 0);
	t4 = now_s();
	CU_ASSERT_EQUAL(iova, (uint64_t)n * 2 * PG);
	CU_ASSERT_EQUAL(iopt_check_unmap(&io, 0, UINT64_MAX, &bytes, &count), 0);
	CU_ASSERT_EQUAL(count, n);
	CU_ASSERT_EQUAL(iopt_check_contig(&io, 0, PG), -ENOENT);
	printf("\n  %u areas: insert %.0f ns/op, find %.0f ns/op (x2), worst-case alloc walk %.1f "
	       "ms\n",
	       n, (t1 - t0) * 1e9 / n, (t2 - t1) * 1e9 / n, (t4 - t3) * 1e3);
	/* remove half in random order, destroy the rest */
	for (uint32_t i = 0; i < n / 2; i++) {
		struct iopt_area *a = iopt_find(&io, (uint64_t)perm[i] * 2 * PG);

		if (a)
			iopt_remove(&io, a);
		else
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(io.nr_areas, n - n / 2);
	iopt_destroy(&io);
	free(perm);
	CU_ASSERT_EQUAL(live(), g_live_base);
}

/* The map path remembers a window free of reserved ranges: it must never
 * outlive a change of the ranges. */
static void test_resv_window(void)
{
	struct iopt io;
	struct iopt_area *a;

	iopt_init(&io);
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x10000000, 0x10000fff, &OWNER_A, 0), 0);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x20000000, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x30000000, PG, 0, NULL, 0, NULL), 0);
	/* a new range inside the remembered window */
	CU_ASSERT_EQUAL(iopt_reserve(&io, 0x40000000, 0x40000fff, &OWNER_B, 0), 0);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x40000000, PG, 0, NULL, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x3ffff000, 2 * PG, 0, NULL, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x40001000, PG, 0, NULL, 0, NULL), 0);
	/* below the first range, then back above it */
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x1000, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x10000000, PG, 0, NULL, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0xffff000, 2 * PG, 0, NULL, 0, NULL), -EINVAL);
	/* the range goes away: the window must not keep refusing */
	iopt_unreserve_owner(&io, &OWNER_B);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x40000000, PG, 0, NULL, 0, &a), 0);
	iopt_unreserve_owner(&io, &OWNER_A);
	CU_ASSERT_EQUAL(iopt_insert_checked(&io, 0x10000000, PG, 0, NULL, 0, NULL), 0);
	CU_ASSERT(iopt_invariants_ok(&io));
	iopt_destroy(&io);
}

static const struct ut_test iopt_tests[] = {
	{"init_destroy", test_init_destroy},
	{"check_map_errno", test_check_map_errno},
	{"insert_checked_errno", test_insert_checked_errno},
	{"lookup", test_lookup},
	{"alignment", test_alignment},
	{"check_unmap", test_check_unmap},
	{"check_contig", test_check_contig},
	{"reserve_usable", test_reserve},
	{"allowed", test_allowed},
	{"alloc_errno", test_alloc_errno},
	{"alloc_alignment", test_alloc_alignment},
	{"alloc_placement", test_alloc_placement},
	{"random_vs_reference", test_random},
	{"alloc_vs_linear", test_alloc_vs_linear},
	{"find_exact", test_find_exact},
	{"spare_list", test_spare_list},
	{"resv_window", test_resv_window},
	{"hints", test_hints},
	{"fail_nth", test_fail_nth},
	{"scale", test_scale},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"iopt", suite_init, NULL, iopt_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
