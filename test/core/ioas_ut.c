/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core object model through the public API, on the mock family:
 * IOAS semantics (iommufd's errno classes), HWPT sharing, attach/replace/
 * detach with RID and PASID, nesting and vIOMMU, reserved ranges that
 * follow attach/detach, polling, and that every failed call changes
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "mock_family.h"
#include "uiommu/uiommu.h"

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_device *dev;

static int setup(void)
{
	uiommu_family_override(UIOMMU_FAMILY_VTD, &mock_family_ops);
	mock_next_ias = 48;
	if (uiommu_ctx_create(NULL, &ctx))
		return -1;
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	if (uiommu_unit_add(ctx, &ud, &unit))
		return -1;
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x10, .hw_id = 0x10, .pasid_bits = 8};
	return uiommu_device_add(unit, &dd, &dev) ? -1 : 0;
}

static int teardown(void)
{
	uiommu_ctx_destroy(ctx);
	ctx = NULL;
	uiommu_family_override(UIOMMU_FAMILY_VTD, NULL);
	return 0;
}

/* A snapshot of an IOAS, to prove failed calls change nothing. */
struct snap {
	uint32_t n;
	struct uiommu_area_info a[64];
	uint32_t nr;
	struct uiommu_iova_range r[16];
};

static void take(struct uiommu_ioas *ioas, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->n = uiommu_ioas_areas(ioas, 0, s->a, 64);
	s->nr = uiommu_ioas_iova_ranges(ioas, s->r, 16, NULL);
}

static int same(const struct snap *x, const struct snap *y)
{
	return x->n == y->n && x->nr == y->nr && !memcmp(x->a, y->a, sizeof(x->a)) &&
	       !memcmp(x->r, y->r, sizeof(x->r));
}

static void test_map_errors(void)
{
	struct uiommu_ioas *ioas;
	struct snap s0, s1;
	uint64_t iova;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	iova = 0x100000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x800000, SZ_2M,
				  UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	take(ioas, &s0);
	/* No permission. */
	iova = 0x10000000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_FIXED_IOVA) == -EINVAL);
	/* Unknown flag (iommufd: -EOPNOTSUPP). */
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_READ | 0x100) == -EOPNOTSUPP);
	/* Zero length. */
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, 0, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EINVAL);
	/* Misaligned IOVA, length, phys. */
	iova = 0x10000800;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EINVAL);
	iova = 0x10000000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, 0x800, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EINVAL);
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x123, SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EINVAL);
	/* Wraps around. */
	iova = UINT64_MAX - SZ_4K + 1;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, 2 * SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EOVERFLOW);
	/* Overlaps, at either end and inside. */
	iova = 0x100000 - SZ_4K;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, 2 * SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EEXIST);
	iova = 0x100000 + SZ_2M - SZ_4K;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, 2 * SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EEXIST);
	iova = 0x180000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EEXIST);
	/* A user-reserved range refuses fixed maps with -EINVAL. */
	CU_ASSERT(uiommu_ioas_reserve(ioas, 0x40000000, 0x40ffffff) == 0);
	take(ioas, &s0);
	iova = 0x40800000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EINVAL);
	/* Reserving over a mapping is refused. */
	CU_ASSERT(uiommu_ioas_reserve(ioas, 0x100000, 0x100fff) == -EADDRINUSE);
	take(ioas, &s1);
	CU_ASSERT(same(&s0, &s1));
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_auto_iova(void)
{
	struct uiommu_ioas *ioas;
	uint64_t iova, prev = 0;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	for (int i = 0; i < 16; i++) {
		CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x10000000 + (uint64_t)i * SZ_4K,
						SZ_4K, UIOMMU_MAP_READ) == 0);
		CU_ASSERT(iova != 0);
		CU_ASSERT(iova % SZ_4K == 0);
		CU_ASSERT(iova != prev);
		prev = iova;
	}
	/* Large-page alignment of the backing memory is kept. */
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x40000000, 2 * SZ_2M, UIOMMU_MAP_READ) == 0);
	CU_ASSERT(iova % SZ_2M == 0);
	/* Allowed ranges steer allocation. */
	struct uiommu_iova_range allow[2] = {{0x7000000000, 0x70000fffff},
					     {0x100000000, 0x10000ffff}};
	CU_ASSERT(uiommu_ioas_allow_iovas(ioas, allow, 2) == 0);
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x50000000, SZ_4K, UIOMMU_MAP_READ) == 0);
	CU_ASSERT((iova >= 0x100000000 && iova <= 0x10000ffff) ||
		  (iova >= 0x7000000000 && iova <= 0x70000fffff));
	/* Until full. */
	int got = 0;
	for (int i = 0; i < 400; i++) {
		if (uiommu_ioas_map(ioas, &iova, 0x50000000, SZ_4K, UIOMMU_MAP_READ))
			break;
		got++;
	}
	if (got != 15 + 256)
		printf("\n    got %d\n", got);
	CU_ASSERT(got == 15 + 256);
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x50000000, SZ_4K, UIOMMU_MAP_READ) == -ENOSPC);
	/* Fixed maps outside the allowed ranges are still fine (iommufd). */
	iova = 0x90000000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x50000000, SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	uint64_t bytes;
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, &bytes) == 0);
	CU_ASSERT(bytes == 16 * SZ_4K + 2 * SZ_2M + SZ_4K + (uint64_t)got * SZ_4K + SZ_4K);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_unmap_semantics(void)
{
	struct uiommu_ioas *ioas;
	struct snap s0, s1;
	uint64_t iova, bytes;
	const uint32_t f = UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	for (uint64_t i = 0; i < 4; i++) {
		iova = 0x100000 + i * 0x10000; /* 16 KiB areas with 48 KiB gaps */
		CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x200000 + i * 0x4000, 0x4000, f) ==
				0);
	}
	take(ioas, &s0);
	/* Cutting the first or last area: fails (-EINVAL, not -ENOENT),
	 * nothing removed. */
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x101000, 0x40000, &bytes) == -EINVAL);
	CU_ASSERT(bytes == 0);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x100000, 0x31000, &bytes) == -EINVAL);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x100000, 0x1000, &bytes) == -EINVAL);
	take(ioas, &s1);
	CU_ASSERT(same(&s0, &s1));
	/* Nothing there. */
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x900000, 0x1000, NULL) == -ENOENT);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x104000, 0xc000, NULL) == -ENOENT);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x100000, 0, NULL) == -EINVAL);
	CU_ASSERT(uiommu_ioas_unmap(ioas, UINT64_MAX, 2, NULL) == -EOVERFLOW);
	/* A range covering two whole areas and the gaps around them. */
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x104000, 0x20000, &bytes) == 0);
	CU_ASSERT(bytes == 2 * 0x4000);
	CU_ASSERT(uiommu_ioas_lookup(ioas, 0x110000, &(struct uiommu_area_info){0}) == -ENOENT);
	/* Exact area. */
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0x100000, 0x4000, &bytes) == 0 && bytes == 0x4000);
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, &bytes) == 0 && bytes == 0x4000);
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, &bytes) == 0 && bytes == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_copy(void)
{
	struct uiommu_ioas *a, *b;
	struct uiommu_area_info ai;
	uint64_t iova, dst;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &a) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	iova = 0x100000;
	CU_ASSERT(uiommu_ioas_map(a, &iova, 0x400000, 0x4000,
				  UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	iova = 0x104000;
	CU_ASSERT(uiommu_ioas_map(a, &iova, 0x900000, 0x4000,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	/* A slice over two areas, read-only. */
	dst = 0x200000;
	CU_ASSERT(uiommu_ioas_copy(b, &dst, a, 0x102000, 0x4000,
				   UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(uiommu_ioas_lookup(b, 0x200000, &ai) == 0);
	CU_ASSERT(ai.phys == 0x402000 && ai.len == 0x2000);
	CU_ASSERT(uiommu_ioas_lookup(b, 0x202000, &ai) == 0);
	CU_ASSERT(ai.phys == 0x900000 && ai.len == 0x2000);
	/* Writable copy of a read-only source. */
	dst = 0x300000;
	CU_ASSERT(uiommu_ioas_copy(b, &dst, a, 0x102000, 0x4000,
				   UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == -EPERM);
	/* Source with a hole. */
	CU_ASSERT(uiommu_ioas_copy(b, &dst, a, 0x106000, 0x4000,
				   UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -ENOENT);
	/* Destination overlap. */
	dst = 0x201000;
	CU_ASSERT(uiommu_ioas_copy(b, &dst, a, 0x100000, 0x1000,
				   UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EEXIST);
	/* Auto IOVA. */
	CU_ASSERT(uiommu_ioas_copy(b, &dst, a, 0x100000, 0x8000, UIOMMU_MAP_READ) == 0);
	CU_ASSERT(dst != 0);
	struct uiommu_ioas_stats st;
	uiommu_ioas_get_stats(b, &st);
	CU_ASSERT(st.nr_areas == 4 && st.mapped_bytes == 0xc000);
	CU_ASSERT(uiommu_ioas_destroy(a) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
}

static int has_range(const struct uiommu_iova_range *r, uint32_t n, uint64_t s, uint64_t l)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].start == s && r[i].last == l)
			return 1;
	return 0;
}

static void test_reserved_follow_attach(void)
{
	struct uiommu_ioas *ioas;
	struct uiommu_iova_range r[8];
	uint32_t n, hw;
	uint64_t iova;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	n = uiommu_ioas_iova_ranges(ioas, r, 8, NULL);
	CU_ASSERT(n == 1 && r[0].start == 0 && r[0].last == UINT64_MAX);
	/* Attach: the x86 MSI window and the 48-bit aperture become reserved. */
	CU_ASSERT_FATAL(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &hw) == 0);
	n = uiommu_ioas_iova_ranges(ioas, r, 8, NULL);
	CU_ASSERT(n == 2);
	CU_ASSERT(has_range(r, n, 0, 0xfedfffff));
	CU_ASSERT(has_range(r, n, 0xfef00000, (1ull << 48) - 1));
	iova = 0xfee00000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K,
				  UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == -EINVAL);
	/* Allowed ranges may not cover reserved ones. */
	struct uiommu_iova_range bad = {0xfe000000, 0xfeffffff};
	CU_ASSERT(uiommu_ioas_allow_iovas(ioas, &bad, 1) == -EADDRINUSE);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	n = uiommu_ioas_iova_ranges(ioas, r, 8, NULL);
	CU_ASSERT(n == 1);
	/* Now allowed; and then attach is refused because it would narrow it. */
	CU_ASSERT(uiommu_ioas_allow_iovas(ioas, &bad, 1) == 0);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) ==
		  -EADDRINUSE);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_ioas_allow_iovas(ioas, NULL, 0) == 0);
	/* A mapping in the MSI window also blocks attach, and nothing changes. */
	iova = 0xfee00000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K,
				  UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) ==
		  -EADDRINUSE);
	struct uiommu_ioas_stats st;
	uiommu_ioas_get_stats(ioas, &st);
	CU_ASSERT(st.nr_hwpts == 0 && st.nr_areas == 1);
	CU_ASSERT(mock_slot_find(unit, 0x10, UIOMMU_NO_PASID) == NULL);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_hwpt_fill_and_unmap(void)
{
	struct uiommu_ioas *ioas;
	uint64_t iova = 0x100000;
	uint32_t hw;
	struct mock_unit *m = mock_of(unit);

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x40000000, SZ_2M,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	/* Attach after mapping: the new table holds the existing mapping. */
	CU_ASSERT_FATAL(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &hw) == 0);
	CU_ASSERT(hw != 0);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID) == hw);
	CU_ASSERT(mock_translate(ctx, unit, 0x10, UIOMMU_NO_PASID, 0x101234) == 0x40001234);
	/* Map after attach: visible at once. */
	iova = 0x80000000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x7000000, SZ_4K,
				  UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(mock_translate(ctx, unit, 0x10, UIOMMU_NO_PASID, 0x80000010) == 0x7000010);
	/* Walk for tools. */
	struct uiommu_walk_level lv[6];
	int n = uiommu_hwpt_walk(uiommu_hwpt_get(ctx, hw), 0x80000000, lv, 6);
	CU_ASSERT(n >= 3 && lv[n - 1].leaf && lv[n - 1].present);
	/* Unmap: one flush batch for the unit, translation gone. */
	uint32_t calls = m->flush_calls;
	uint64_t bytes;
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, 1ull << 40, &bytes) == 0);
	CU_ASSERT(bytes == SZ_2M + SZ_4K);
	CU_ASSERT(m->flush_calls == calls + 1);
	CU_ASSERT(mock_translate(ctx, unit, 0x10, UIOMMU_NO_PASID, 0x101234) == UINT64_MAX);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == -EBUSY);
	CU_ASSERT(uiommu_hwpt_destroy(uiommu_hwpt_get(ctx, hw)) == -EBUSY);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == -ENOENT);
	/* The automatic HWPT went with its last user. */
	CU_ASSERT(uiommu_hwpt_get(ctx, hw) == NULL);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_hwpt_shared_units(void)
{
	struct uiommu_unit *u2, *u3;
	struct uiommu_device *d2, *d3;
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt_info info;
	uint32_t h1, h2, h3;
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};

	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u2) == 0);
	mock_next_ias = 39;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u3) == 0);
	mock_next_ias = 48;
	CU_ASSERT_FATAL(uiommu_device_add(u2, &(struct uiommu_device_desc){.hw_id = 0x20}, &d2) ==
			0);
	CU_ASSERT_FATAL(uiommu_device_add(u3, &(struct uiommu_device_desc){.hw_id = 0x30}, &d3) ==
			0);
	CU_ASSERT(uiommu_device_add(u3, &(struct uiommu_device_desc){.hw_id = 0x30}, &d3) ==
		  -EEXIST);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &h1) == 0);
	CU_ASSERT(uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &h2) == 0);
	/* One table, two units, each with its own ID. */
	CU_ASSERT(h1 == h2);
	CU_ASSERT(uiommu_hwpt_get_info(uiommu_hwpt_get(ctx, h1), &info) == 0);
	CU_ASSERT(info.nr_units == 2);
	CU_ASSERT(info.unit_ids[0] != info.unit_ids[1]);
	/* A unit with a narrower input width gets a second HWPT of the same IOAS. */
	CU_ASSERT(uiommu_device_attach(d3, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &h3) == 0);
	CU_ASSERT(h3 != h1);
	/* And a HWPT it cannot walk is refused by ID. */
	CU_ASSERT(uiommu_device_replace(d3, UIOMMU_NO_PASID, h1, NULL) == -EINVAL);
	CU_ASSERT(uiommu_device_attached_hwpt(d3, UIOMMU_NO_PASID) == h3);
	uint64_t iova = 0x1000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x5000, SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(mock_translate(ctx, unit, 0x10, UIOMMU_NO_PASID, 0x1000) == 0x5000);
	CU_ASSERT(mock_translate(ctx, u2, 0x20, UIOMMU_NO_PASID, 0x1000) == 0x5000);
	CU_ASSERT(mock_translate(ctx, u3, 0x30, UIOMMU_NO_PASID, 0x1000) == 0x5000);
	/* Above 39 bits: reserved now (aperture of the 39-bit table). */
	iova = 1ull << 40;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x5000, SZ_4K,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EINVAL);
	CU_ASSERT(uiommu_unit_remove(u2) == -EBUSY);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_detach(d2, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_detach(d3, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(d2) == 0);
	CU_ASSERT(uiommu_device_remove(d3) == 0);
	CU_ASSERT(uiommu_unit_remove(u2) == 0);
	CU_ASSERT(uiommu_unit_remove(u3) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_pasid_and_replace(void)
{
	struct uiommu_ioas *a, *b;
	struct uiommu_hwpt *hp;
	uint32_t ha, hb;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &a) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	CU_ASSERT(uiommu_device_attach(dev, 5, uiommu_ioas_id(a), &ha) == 0);
	CU_ASSERT(uiommu_device_attach(dev, 5, uiommu_ioas_id(a), NULL) == -EBUSY);
	/* Device has 8 PASID bits. */
	CU_ASSERT(uiommu_device_attach(dev, 256, uiommu_ioas_id(a), NULL) == -EINVAL);
	CU_ASSERT(uiommu_device_attach(dev, 7, 999999, NULL) == -ENOENT);
	CU_ASSERT(uiommu_device_attach(dev, 7, uiommu_device_id(dev), NULL) == -ENOENT);
	/* PASIDs and RID are independent. */
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(b), &hb) == 0);
	CU_ASSERT(ha != hb);
	CU_ASSERT(mock_slot_find(unit, 0x10, 5) != NULL);
	/* Explicit stage-1 HWPT, then replace PASID 5 onto it. */
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(b, unit, UIOMMU_HWPT_STAGE1, &hp) == 0);
	CU_ASSERT(uiommu_device_replace(dev, 5, uiommu_hwpt_id(hp), NULL) == 0);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, 5) == uiommu_hwpt_id(hp));
	CU_ASSERT(uiommu_hwpt_get(ctx, ha) == NULL); /* the auto HWPT of a is gone */
	CU_ASSERT(uiommu_device_replace(dev, 6, uiommu_hwpt_id(hp), NULL) == -ENODEV);
	/* A failing hardware update leaves the old attachment. */
	mock_fail_dev_set = 1;
	CU_ASSERT(uiommu_device_replace(dev, 5, uiommu_ioas_id(a), NULL) == -EIO);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, 5) == uiommu_hwpt_id(hp));
	CU_ASSERT(uiommu_hwpt_destroy(hp) == -EBUSY);
	CU_ASSERT(uiommu_device_detach(dev, 5) == 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(mock_slot_find(unit, 0x10, 5) == NULL);
	CU_ASSERT(uiommu_hwpt_destroy(hp) == 0);
	CU_ASSERT(uiommu_ioas_destroy(a) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
}

static void test_nesting(void)
{
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *parent, *plain, *s1;
	struct uiommu_viommu *v;
	uint32_t done = 99;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, 0, &plain) == 0);
	CU_ASSERT(uiommu_hwpt_alloc(ioas, unit, UIOMMU_HWPT_NEST_PARENT | UIOMMU_HWPT_STAGE1,
				    &s1) == -EINVAL);
	CU_ASSERT(uiommu_viommu_alloc(unit, plain, &v) == -EINVAL);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(unit, parent, &v) == 0);
	CU_ASSERT(uiommu_viommu_vmid(v) != 0);
	struct uiommu_hwpt_s1_data d = {.family = UIOMMU_FAMILY_VTD,
					.u.vtd = {.flptr = 0xabc000, .addr_width = 48}};
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v, &d, &s1) == 0);
	d.family = UIOMMU_FAMILY_SMMUV3;
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &d, &s1) == -EINVAL);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_hwpt_id(s1), NULL) == 0);
	struct mock_slot *sl = mock_slot_find(unit, 0x10, UIOMMU_NO_PASID);
	CU_ASSERT_FATAL(sl != NULL);
	CU_ASSERT(sl->kind == FAM_ATTACH_NESTED && sl->root == 0xabc000 &&
		  sl->s2_did == uiommu_viommu_vmid(v));
	/* Invalidation arrays report how many entries were done. */
	struct uiommu_inv_entry inv[3] = {
		{.type = UIOMMU_INV_S1_RANGE, .addr = 0x1000, .len = 0x1000},
		{.type = UIOMMU_INV_S1_ALL},
		{.type = (enum uiommu_inv_type)77},
	};
	CU_ASSERT(uiommu_cache_invalidate(v, s1, inv, 2, &done) == 0 && done == 2);
	CU_ASSERT(uiommu_cache_invalidate(v, s1, inv, 3, &done) == -EINVAL && done == 2);
	CU_ASSERT(uiommu_cache_invalidate(v, plain, inv, 1, &done) == -EINVAL);
	CU_ASSERT(uiommu_viommu_destroy(v) == -EBUSY);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == -EBUSY);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(s1) == 0);
	CU_ASSERT(uiommu_viommu_destroy(v) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(plain) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static uint32_t count_objs(void)
{
	uint32_t n = 0;

	for (struct uiommu_unit *u = uiommu_unit_next(ctx, NULL); u; u = uiommu_unit_next(ctx, u))
		n++;
	for (struct uiommu_hwpt *h = uiommu_hwpt_next(ctx, NULL); h; h = uiommu_hwpt_next(ctx, h))
		n++;
	return n;
}

/* iommufd's rule on every entry point taking flags: unknown bits
 * -EOPNOTSUPP, bad fields -EINVAL, and nothing changes. */
static void test_unknown_flags(void)
{
	struct uiommu_ioas *ioas, *b;
	struct uiommu_unit *u2 = NULL;
	struct uiommu_hwpt *parent, *h = NULL, *s1;
	struct uiommu_viommu *v;
	struct snap s0, s1snap;
	uint64_t iova = 0x100000;
	uint32_t n0, done = 99, cmds;
	int buf[16];

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x800000, SZ_2M,
					UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	n0 = count_objs();
	/* unit_add: desc.flags, desc.access */
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL,
				      .flags = 1u << 7};
	CU_ASSERT(uiommu_unit_add(ctx, &ud, &u2) == -EOPNOTSUPP && u2 == NULL);
	ud.flags = 1u << 31;
	CU_ASSERT(uiommu_unit_add(ctx, &ud, &u2) == -EOPNOTSUPP && u2 == NULL);
	ud.flags = 0;
	ud.access = (enum uiommu_unit_access)7;
	CU_ASSERT(uiommu_unit_add(ctx, &ud, &u2) == -EINVAL && u2 == NULL);
	/* hwpt_alloc */
	CU_ASSERT(uiommu_hwpt_alloc(ioas, unit, 1u << 5, &h) == -EOPNOTSUPP && h == NULL);
	/* map, map_va, copy */
	take(ioas, &s0);
	iova = 0x10000000;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_4K, UIOMMU_MAP_READ | (1u << 9)) ==
		  -EOPNOTSUPP);
	CU_ASSERT(uiommu_ioas_map_va(ioas, &iova, buf, sizeof(buf),
				     UIOMMU_MAP_READ | (1u << 30)) == -EOPNOTSUPP);
	CU_ASSERT(uiommu_ioas_copy(b, &iova, ioas, 0x100000, SZ_4K, UIOMMU_MAP_READ | (1u << 3)) ==
		  -EOPNOTSUPP);
	take(ioas, &s1snap);
	CU_ASSERT(same(&s0, &s1snap));
	CU_ASSERT(count_objs() == n0);
	/* hwpt_alloc_nested: stage-1 flags and fields */
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(unit, parent, &v) == 0);
	n0 = count_objs();
	struct uiommu_hwpt_s1_data d = {.family = UIOMMU_FAMILY_VTD,
					.u.vtd = {.flptr = 0xabc000, .addr_width = 48,
						  .flags = 1u << 3}};
	s1 = NULL;
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &d, &s1) == -EOPNOTSUPP && s1 == NULL);
	d.u.vtd.flags = 1u << 31;
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &d, &s1) == -EOPNOTSUPP && s1 == NULL);
	d.u.vtd.flags = 0;
	d.u.vtd.addr_width = 39;
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &d, &s1) == -EINVAL && s1 == NULL);
	d.u.vtd.addr_width = 48;
	d.u.vtd.flptr = 0xabc800;
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &d, &s1) == -EINVAL && s1 == NULL);
	CU_ASSERT(count_objs() == n0);
	d.u.vtd.flptr = 0xabc000;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v, &d, &s1) == 0);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_hwpt_id(s1), NULL) == 0);
	/* cache_invalidate: entry flags checked before any command */
	cmds = mock_of(unit)->inv_cmds;
	struct uiommu_inv_entry inv[2] = {
		{.type = UIOMMU_INV_S1_RANGE, .addr = 0x1000, .len = 0x1000, .flags = 1u << 1},
		{.type = UIOMMU_INV_S1_ALL},
	};
	CU_ASSERT(uiommu_cache_invalidate(v, s1, inv, 2, &done) == -EOPNOTSUPP && done == 0);
	CU_ASSERT(mock_of(unit)->inv_cmds == cmds);
	inv[0].flags = 1u << 0; /* leaf only: defined */
	inv[1].flags = 1u << 16;
	CU_ASSERT(uiommu_cache_invalidate(v, s1, inv, 2, &done) == -EOPNOTSUPP && done == 1);
	CU_ASSERT(mock_of(unit)->inv_cmds == cmds + 1);
	inv[1].flags = 0;
	inv[1].addr = 0x1000; /* S1_ALL has no range */
	CU_ASSERT(uiommu_cache_invalidate(v, NULL, &inv[1], 1, &done) == -EINVAL && done == 0);
	inv[0].addr = 0x1800; /* misaligned range */
	CU_ASSERT(uiommu_cache_invalidate(v, NULL, inv, 1, &done) == -EINVAL && done == 0);
	CU_ASSERT(mock_of(unit)->inv_cmds == cmds + 1);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(s1) == 0);
	CU_ASSERT(uiommu_viommu_destroy(v) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* unmap(0, UINT64_MAX) is "unmap everything" (iommufd), all or nothing,
 * also with an area in the last page; 0 on an empty IOAS. */
static void test_unmap_everything(void)
{
	struct uiommu_ioas *ioas;
	uint64_t iova, bytes = 99;
	const uint32_t f = UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, UINT64_MAX, &bytes) == 0 && bytes == 0);
	iova = 0x100000;
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x800000, SZ_2M, f) == 0);
	iova = UINT64_MAX - SZ_4K + 1; /* the last page */
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x200000, SZ_4K, f) == 0);
	iova = 0;
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x300000, SZ_4K, f) == 0);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, UINT64_MAX, &bytes) == 0);
	CU_ASSERT(bytes == SZ_2M + 2 * SZ_4K);
	CU_ASSERT(uiommu_ioas_areas(ioas, 0, &(struct uiommu_area_info){0}, 1) == 0);
	/* any other range still may not cut the last page */
	iova = UINT64_MAX - SZ_4K + 1;
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x200000, SZ_4K, f) == 0);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 1, UINT64_MAX - 1, &bytes) == -EINVAL); /* [1, 2^64-2] */
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, UINT64_MAX - SZ_4K + 2, &bytes) == -EINVAL);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, UINT64_MAX - SZ_4K + 1, &bytes) == -ENOENT);
	CU_ASSERT(uiommu_ioas_unmap(ioas, 0, UINT64_MAX, &bytes) == 0 && bytes == SZ_4K);
	CU_ASSERT(uiommu_ioas_areas(ioas, 0, &(struct uiommu_area_info){0}, 1) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* iommufd's out_iova_alignment: what the IOAS requires of a map now. */
static void test_iova_alignment(void)
{
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *h;
	struct uiommu_iova_range r[4];
	uint64_t align = 0, iova;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_ioas_iova_ranges(ioas, r, 4, &align) >= 1);
	CU_ASSERT(align == SZ_4K);
	CU_ASSERT(uiommu_ioas_iova_ranges(ioas, NULL, 0, NULL) >= 1);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, 0, &h) == 0);
	align = 0;
	uiommu_ioas_iova_ranges(ioas, r, 4, &align);
	CU_ASSERT(align == SZ_4K); /* the page-table engine's smallest page */
	/* A HWPT whose smallest page is 2 MiB raises it (white box: the
	 * engine itself always has 4 KiB pages). */
	CU_ASSERT_FATAL(iopt_set_alignment(&ioas->iopt, SZ_2M) == 0);
	uiommu_ioas_iova_ranges(ioas, r, 4, &align);
	CU_ASSERT(align == SZ_2M);
	iova = SZ_2M + SZ_4K; /* what the reported alignment refuses */
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0, SZ_2M, UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) ==
		  -EINVAL);
	CU_ASSERT_FATAL(iopt_set_alignment(&ioas->iopt, SZ_4K) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(h) == 0);
	uiommu_ioas_iova_ranges(ioas, r, 4, &align);
	CU_ASSERT(align == SZ_4K);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* Every object kind can be looked up by ID and iterated: vIOMMUs too. */
static void test_viommu_lookup(void)
{
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *parent;
	struct uiommu_viommu *v1, *v2, *it;
	int n = 0;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT(uiommu_viommu_next(ctx, NULL) == NULL);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(unit, parent, &v1) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(unit, parent, &v2) == 0);
	CU_ASSERT(uiommu_viommu_vmid(v1) != uiommu_viommu_vmid(v2));
	CU_ASSERT(uiommu_viommu_get(ctx, uiommu_viommu_id(v1)) == v1);
	CU_ASSERT(uiommu_viommu_get(ctx, uiommu_viommu_id(v2)) == v2);
	CU_ASSERT(uiommu_viommu_get(ctx, uiommu_hwpt_id(parent)) == NULL); /* not a vIOMMU */
	CU_ASSERT(uiommu_viommu_get(ctx, 0) == NULL);
	CU_ASSERT(uiommu_viommu_unit(v1) == unit && uiommu_viommu_parent(v2) == parent);
	for (it = uiommu_viommu_next(ctx, NULL); it; it = uiommu_viommu_next(ctx, it))
		n += it == v1 || it == v2 ? 1 : 100;
	CU_ASSERT(n == 2);
	uint32_t id1 = uiommu_viommu_id(v1);
	CU_ASSERT(uiommu_viommu_destroy(v1) == 0);
	CU_ASSERT(uiommu_viommu_get(ctx, id1) == NULL);
	CU_ASSERT(uiommu_viommu_next(ctx, NULL) == v2 && uiommu_viommu_next(ctx, v2) == NULL);
	CU_ASSERT(uiommu_viommu_destroy(v2) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* An IOAS is not destroyed under a HWPT the caller allocated for it. */
static void test_ioas_destroy_busy(void)
{
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *h;
	uint32_t hw, hid;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, unit, 0, &h) == 0);
	hid = uiommu_hwpt_id(h);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == -EBUSY);
	CU_ASSERT(uiommu_hwpt_get(ctx, hid) == h); /* still there, still usable */
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, hid, NULL) == 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(h) == 0);
	/* an automatic HWPT dies with its last user; the IOAS is free then */
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &hw) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == -EBUSY); /* attached through it */
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_get(ctx, hw) == NULL);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* replace: -ENOENT names no such object, -ENODEV says nothing is attached. */
static void test_replace_errnos(void)
{
	struct uiommu_ioas *ioas;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) ==
		  -ENODEV);
	CU_ASSERT(uiommu_device_replace(dev, 9, uiommu_ioas_id(ioas), NULL) == -ENODEV);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) == 0);
	CU_ASSERT(uiommu_device_replace(dev, UIOMMU_NO_PASID, 999999, NULL) == -ENOENT);
	CU_ASSERT(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_device_id(dev), NULL) ==
		  -ENOENT);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID) != 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(strcmp(uiommu_strerror(-ENODEV), uiommu_strerror(-ENOENT)) != 0);
	CU_ASSERT(strcmp(uiommu_strerror(-EINVAL), uiommu_strerror(-ENOENT)) != 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_identity(void)
{
	struct uiommu_ioas *ioas;
	uint32_t hw;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT(uiommu_device_attach(dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, &hw) == 0);
	CU_ASSERT(hw == UIOMMU_PT_IDENTITY);
	CU_ASSERT(uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID) == UIOMMU_PT_IDENTITY);
	struct mock_slot *s = mock_slot_find(unit, 0x10, UIOMMU_NO_PASID);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(s->kind == FAM_ATTACH_IDENTITY);
	/* Identity -> IOAS -> identity, never blocked in between. */
	CU_ASSERT(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &hw) == 0);
	CU_ASSERT(hw != UIOMMU_PT_IDENTITY && hw != 0);
	CU_ASSERT(uiommu_device_replace(dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0);
	CU_ASSERT(uiommu_hwpt_get(ctx, hw) == NULL);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(mock_slot_find(unit, 0x10, UIOMMU_NO_PASID) == NULL);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

static void test_poll(void)
{
	struct uiommu_event ev[4];

	mock_of(unit)->pending_events = 3;
	CU_ASSERT(uiommu_poll(ctx, ev, 2) == 2);
	CU_ASSERT(ev[0].type == UIOMMU_EV_FAULT && ev[0].dev_id == uiommu_device_id(dev));
	CU_ASSERT(ev[0].unit_id == uiommu_unit_id(unit));
	CU_ASSERT(ev[0].reason_text != NULL);
	CU_ASSERT(uiommu_poll(ctx, ev, 4) == 1);
	CU_ASSERT(uiommu_poll(ctx, ev, 4) == 0);
}

/* The unit's event ring (core): driver events first, in order, with their
 * texts; then one overflow event counting what did not fit; then the
 * family's own poll. */
static void test_event_ring(void)
{
	static struct uiommu_event ev[UNIT_EVRING_SIZE + 8];
	const char *text0;
	uint16_t n;

	for (uint32_t i = 0; i < UNIT_EVRING_SIZE + 5; i++) {
		char t[UNIT_EV_TEXT + 16];
		struct uiommu_event e = {
			.type = UIOMMU_EV_QUEUE_ERROR,
			.reason = i,
			.reason_text = t,
		};

		/* Longer than the ring keeps: cut to UNIT_EV_TEXT - 1 bytes. */
		snprintf(t, sizeof(t), "queue error %02u %s", i % 2,
			 "................................................................");
		unit_event_push(unit, &e);
	}
	mock_of(unit)->pending_events = 2;
	n = uiommu_poll(ctx, ev, UNIT_EVRING_SIZE + 8);
	CU_ASSERT_EQUAL_FATAL(n, UNIT_EVRING_SIZE + 1 + 2);
	for (uint32_t i = 0; i < UNIT_EVRING_SIZE; i++) {
		CU_ASSERT(ev[i].type == UIOMMU_EV_QUEUE_ERROR && ev[i].reason == i);
		CU_ASSERT(ev[i].unit_id == uiommu_unit_id(unit) && ev[i].dev_id == 0);
		CU_ASSERT(ev[i].reason_text && strlen(ev[i].reason_text) == UNIT_EV_TEXT - 1 &&
			  !strncmp(ev[i].reason_text, i % 2 ? "queue error 01" : "queue error 00", 14));
	}
	/* One copy per distinct text in the process. */
	CU_ASSERT_PTR_EQUAL(ev[0].reason_text, ev[2].reason_text);
	text0 = ev[0].reason_text;
	CU_ASSERT(ev[UNIT_EVRING_SIZE].type == UIOMMU_EV_OVERFLOW);
	CU_ASSERT_EQUAL(ev[UNIT_EVRING_SIZE].count, 5);
	CU_ASSERT(ev[UNIT_EVRING_SIZE + 1].type == UIOMMU_EV_FAULT);
	CU_ASSERT_EQUAL(uiommu_poll(ctx, ev, 8), 0);
	/* Room again; a bounded poll takes what fits and leaves the rest. */
	for (uint32_t i = 0; i < 3; i++) {
		struct uiommu_event e = {.type = UIOMMU_EV_QUEUE_ERROR, .reason = 100 + i};

		unit_event_push(unit, &e);
	}
	CU_ASSERT_EQUAL(uiommu_poll(ctx, ev, 2), 2);
	CU_ASSERT(ev[0].reason == 100 && ev[1].reason == 101 && ev[0].reason_text == NULL);
	CU_ASSERT_EQUAL(uiommu_poll(ctx, ev, 8), 1);
	CU_ASSERT(ev[0].reason == 102);
	CU_ASSERT(!strncmp(text0, "queue error 00", 14)); /* still valid */
}

static void test_scale(void)
{
	struct uiommu_ioas *ioas;
	uint64_t n = getenv("UIOMMU_TEST_QUICK") ? 100000 : 1000000;
	uint64_t iova, bytes;
	uint32_t hw;

	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), &hw) == 0);
	for (uint64_t i = 0; i < n; i++) {
		iova = 0x100000000ull + i * 2 * SZ_4K; /* gaps: no merging anywhere */
		if (uiommu_ioas_map(ioas, &iova, 0x10000000 + (i % 1024) * SZ_4K, SZ_4K,
				    UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA)) {
			CU_FAIL("map failed");
			break;
		}
	}
	struct uiommu_ioas_stats st;
	uiommu_ioas_get_stats(ioas, &st);
	CU_ASSERT(st.nr_areas == n);
	struct uiommu_area_info ai;
	CU_ASSERT(uiommu_ioas_lookup(ioas, 0x100000000ull + (n - 1) * 2 * SZ_4K + 5, &ai) == 0);
	CU_ASSERT(mock_translate(ctx, unit, 0x10, UIOMMU_NO_PASID, 0x100000000ull + 2 * SZ_4K) ==
		  0x10000000 + SZ_4K);
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, &bytes) == 0 && bytes == n * SZ_4K);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_ioas_destroy(ioas) == 0);
}

/* A context destroyed while a device's release reports a failed
 * invalidation (a wedged unit): that device is gone all the same, and the
 * teardown goes on with the others, their HWPTs, the IOAS and the unit
 * (none left translating into memory the context gives back). */
static void test_destroy_failed_release(void)
{
	struct uiommu_ctx *c;
	struct uiommu_unit *u;
	struct uiommu_ioas *ioas;
	uint64_t iova = 0x100000;

	uiommu_family_override(UIOMMU_FAMILY_VTD, &mock_family_ops);
	mock_next_ias = 48;
	CU_ASSERT_FATAL(uiommu_ctx_create(NULL, &c) == 0);
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	CU_ASSERT_FATAL(uiommu_unit_add(c, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(c, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(ioas, &iova, 0x40000000, SZ_4K,
					UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct uiommu_device_desc dd = {.devfn = (uint8_t)(0x10 + i),
						.hw_id = 0x10 + i};
		struct uiommu_device *d;

		CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &d) == 0);
		CU_ASSERT_FATAL(uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(ioas),
						     NULL) == 0);
	}
	mock_dev_releases = 0;
	mock_unit_finis = 0;
	mock_fail_dev_release = 1; /* the first device's */
	uiommu_ctx_destroy(c);
	mock_fail_dev_release = 0;
	CU_ASSERT(mock_dev_releases == 3);
	CU_ASSERT(mock_unit_finis == 1);
	uiommu_family_override(UIOMMU_FAMILY_VTD, NULL);
}

static const struct ut_test teardown_tests[] = {
	{"destroy_failed_release", test_destroy_failed_release},
	{NULL, NULL},
};

static const struct ut_test ioas_tests[] = {
	{"map_errors", test_map_errors},
	{"auto_iova", test_auto_iova},
	{"unmap_semantics", test_unmap_semantics},
	{"copy", test_copy},
	{"reserved_follow_attach", test_reserved_follow_attach},
	{"hwpt_fill_and_unmap", test_hwpt_fill_and_unmap},
	{"hwpt_shared_units", test_hwpt_shared_units},
	{"pasid_and_replace", test_pasid_and_replace},
	{"nesting", test_nesting},
	{"unknown_flags", test_unknown_flags},
	{"unmap_everything", test_unmap_everything},
	{"iova_alignment", test_iova_alignment},
	{"viommu_lookup", test_viommu_lookup},
	{"ioas_destroy_busy", test_ioas_destroy_busy},
	{"replace_errnos", test_replace_errnos},
	{"identity", test_identity},
	{"poll", test_poll},
	{"event_ring", test_event_ring},
	{"scale_1M_areas", test_scale},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"core_object_model", setup, teardown, ioas_tests},
	{"core_teardown", NULL, NULL, teardown_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
