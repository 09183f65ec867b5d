/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fail-nth (iommufd_fail_nth style): for each object sequence, fail the
 * Nth allocation for N = 1, 2, ... until the sequence runs without an
 * injected failure.  The failing call must return -ENOMEM and change
 * nothing (state and live allocations as before); a retry must succeed;
 * after the sequence is torn down, nothing may be left allocated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "mock_family.h"
#include "uiommu/uiommu.h"

static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_device *dev;
static struct uiommu_ioas *ioas_a, *ioas_b;
static unsigned int failures_seen;
static bool any_fired;

struct state {
	struct uenv_stats st;
	uint32_t na, nb, ra, rb;
	struct uiommu_area_info a[16], b[16];
	uint32_t att_rid, att_pasid;
	uint32_t nr_hwpt;
};

static void snap(struct state *s)
{
	memset(s, 0, sizeof(*s));
	uenv_get_stats(&s->st);
	s->st.allocs = 0;
	if (ioas_a) {
		s->na = uiommu_ioas_areas(ioas_a, 0, s->a, 16);
		s->ra = uiommu_ioas_iova_ranges(ioas_a, NULL, 0, NULL);
	}
	if (ioas_b) {
		s->nb = uiommu_ioas_areas(ioas_b, 0, s->b, 16);
		s->rb = uiommu_ioas_iova_ranges(ioas_b, NULL, 0, NULL);
	}
	if (dev) {
		s->att_rid = uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID);
		s->att_pasid = uiommu_device_attached_hwpt(dev, 3);
	}
	for (struct uiommu_hwpt *h = uiommu_hwpt_next(ctx, NULL); h; h = uiommu_hwpt_next(ctx, h))
		s->nr_hwpt++;
}

static void diff(const char *what, const struct state *b, const struct state *a)
{
	printf("\n    %s: heap %lu->%lu pages %lu->%lu dma %lu->%lu areas %u/%u->%u/%u "
	       "ranges %u/%u->%u/%u att %u/%u->%u/%u hwpts %u->%u\n",
	       what, (unsigned long)b->st.heap_live, (unsigned long)a->st.heap_live,
	       (unsigned long)b->st.pages_live, (unsigned long)a->st.pages_live,
	       (unsigned long)b->st.dma_live, (unsigned long)a->st.dma_live, b->na, b->nb, a->na,
	       a->nb, b->ra, b->rb, a->ra, a->rb, b->att_rid, b->att_pasid, a->att_rid,
	       a->att_pasid, b->nr_hwpt, a->nr_hwpt);
}

/* Run one call; if an injected failure hit it, check it was clean and retry. */
#define STEP(call)                                                               \
	do {                                                                     \
		struct state before, after;                                      \
		snap(&before);                                                   \
		int rc_ = (call);                                                \
		if (rc_) {                                                       \
			CU_ASSERT(uenv_fail_fired());                            \
			any_fired = true;                                        \
			CU_ASSERT_EQUAL(rc_, -ENOMEM);                           \
			snap(&after);                                            \
			CU_ASSERT(memcmp(&before, &after, sizeof(before)) == 0); \
			if (memcmp(&before, &after, sizeof(before)))             \
				diff(#call, &before, &after);                    \
			failures_seen++;                                         \
			uenv_fail_nth(0);                                        \
			rc_ = (call);                                            \
			CU_ASSERT_EQUAL(rc_, 0);                                 \
		}                                                                \
	} while (0)

static char buf[64 * 1024] __attribute__((aligned(4096)));

static void seq_ioas(void)
{
	uint64_t iova, bytes;
	uint32_t hw;

	ioas_a = ioas_b = NULL;
	STEP(uiommu_ioas_alloc(ctx, &ioas_a));
	STEP(uiommu_ioas_alloc(ctx, &ioas_b));
	STEP(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas_a), &hw));
	iova = 0x40000000;
	STEP(uiommu_ioas_map(ioas_a, &iova, 0x80000000, 0x201000,
			     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA));
	iova = 0x7fff000000ull;
	STEP(uiommu_ioas_map(ioas_a, &iova, 0x1000, 0x1000,
			     UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA));
	STEP(uiommu_ioas_map_va(ioas_a, &iova, buf, sizeof(buf), UIOMMU_MAP_READ));
	iova = 0x10000;
	STEP(uiommu_ioas_copy(ioas_b, &iova, ioas_a, 0x40000000, 0x201000,
			      UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA));
	struct uiommu_iova_range r[3] = {{0x100000000ull, 0x1ffffffffull},
					 {0x10000, 0xfffff},
					 {0x300000000ull, 0x3ffffffffull}};
	STEP(uiommu_ioas_allow_iovas(ioas_b, r, 3));
	STEP(uiommu_ioas_reserve(ioas_b, 0x500000000ull, 0x5ffffffffull));
	STEP(uiommu_device_attach(dev, 3, uiommu_ioas_id(ioas_b), NULL));
	STEP(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas_b), NULL));
	STEP(uiommu_ioas_unmap(ioas_a, 0x40000000, 0x201000, &bytes));
	STEP(uiommu_device_detach(dev, 3));
	STEP(uiommu_device_detach(dev, UIOMMU_NO_PASID));
	STEP(uiommu_ioas_unmap_all(ioas_b, &bytes));
	STEP(uiommu_ioas_destroy(ioas_b));
	ioas_b = NULL;
	STEP(uiommu_ioas_destroy(ioas_a));
	ioas_a = NULL;
}

static void seq_hwpt(void)
{
	struct uiommu_hwpt *h = NULL, *p = NULL, *n = NULL;
	struct uiommu_viommu *v = NULL;
	uint64_t iova = 0x200000;

	ioas_a = ioas_b = NULL;
	STEP(uiommu_ioas_alloc(ctx, &ioas_a));
	for (int i = 0; i < 8; i++) {
		iova = 0x200000 + (uint64_t)i * 0x40000000;
		STEP(uiommu_ioas_map(ioas_a, &iova, 0x1000000, 0x3000,
				     UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA));
	}
	STEP(uiommu_hwpt_alloc(ioas_a, unit, 0, &h));
	STEP(uiommu_hwpt_alloc(ioas_a, unit, UIOMMU_HWPT_NEST_PARENT, &p));
	STEP(uiommu_viommu_alloc(unit, p, &v));
	struct uiommu_hwpt_s1_data d = {.family = UIOMMU_FAMILY_VTD,
					.u.vtd = {.flptr = 0x1000, .addr_width = 48}};
	STEP(uiommu_hwpt_alloc_nested(v, &d, &n));
	STEP(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n), NULL));
	STEP(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_hwpt_id(h), NULL));
	STEP(uiommu_device_detach(dev, UIOMMU_NO_PASID));
	STEP(uiommu_hwpt_destroy(n));
	STEP(uiommu_viommu_destroy(v));
	STEP(uiommu_hwpt_destroy(p));
	STEP(uiommu_hwpt_destroy(h));
	STEP(uiommu_ioas_destroy(ioas_a));
	ioas_a = NULL;
}

static void run_fail_nth(void (*seq)(void), const char *name)
{
	struct uenv_stats base, end;
	unsigned long n;

	uiommu_family_override(UIOMMU_FAMILY_VTD, &mock_family_ops);
	for (n = 1; n < 100000; n++) {
		bool fired;

		CU_ASSERT_FATAL(uiommu_ctx_create(NULL, &ctx) == 0);
		struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD,
					      .access = UIOMMU_UNIT_MODEL};
		CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &unit) == 0);
		struct uiommu_device_desc dd = {.hw_id = 0x10, .pasid_bits = 5};
		CU_ASSERT_FATAL(uiommu_device_add(unit, &dd, &dev) == 0);
		uenv_get_stats(&base);
		any_fired = false;
		uenv_fail_nth(n);
		seq();
		fired = any_fired || uenv_fail_fired();
		uenv_fail_nth(0);
		uenv_get_stats(&end);
		CU_ASSERT_EQUAL(end.heap_live, base.heap_live);
		CU_ASSERT_EQUAL(end.pages_live, base.pages_live);
		CU_ASSERT_EQUAL(end.dma_live, base.dma_live);
		uiommu_ctx_destroy(ctx);
		ctx = NULL;
		dev = NULL;
		if (!fired)
			break;
	}
	printf("\n    %s: %lu allocation points walked, %u clean failures\n", name, n - 1,
	       failures_seen);
	CU_ASSERT(n > 10);
	uiommu_family_override(UIOMMU_FAMILY_VTD, NULL);
}

static void test_fail_nth_ioas(void)
{
	failures_seen = 0;
	run_fail_nth(seq_ioas, "ioas/attach sequence");
}

static void test_fail_nth_hwpt(void)
{
	failures_seen = 0;
	run_fail_nth(seq_hwpt, "hwpt/viommu/nested sequence");
}

static const struct ut_test tests[] = {
	{"fail_nth_ioas_attach", test_fail_nth_ioas},
	{"fail_nth_hwpt_nested", test_fail_nth_hwpt},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"fail_nth", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
