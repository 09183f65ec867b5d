/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi driver, end to end on the built-in model through the public API:
 * unit_add (model) -> device_add -> ioas -> attach -> map -> DMA by the
 * model's engine -> unmap -> DMA faults, decoded by uiommu_poll, no byte
 * moves, no stale translation.  3/4-level and 2M, read-only, isolation,
 * identity and blocked, aliases, replace (DTE invalidation), event log
 * overflow, ILLEGAL_COMMAND recovery, wait time-out, a deliberately
 * skipped invalidation caught by the model, page requests, recovery after
 * a rollback, randomized map/unmap/DMA against a reference (AMDVI_UT_OPS,
 * AMDVI_UT_SEED), bad input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/amdvi/amdvi_internal.h"
#include "model/amdvi/amdvi_model.h"
#include "tail_drop.h"

#define RID	 0x0018u /* 00:03.0 */
#define BUF_SIZE (4u << 20)

static struct uiommu_ctx *ctx;

struct tenv {
	struct uiommu_unit *unit;
	struct amdvi_unit *au;
	struct amdvi_model *m;
	struct uiommu_device *dev;
	struct uiommu_ioas *ioas;
	struct uenv_dma buf;
};

static int suite_init(void)
{
	return uiommu_ctx_create(NULL, &ctx) ? -1 : 0;
}

static int suite_fini(void)
{
	return 0;
}

static int unit_up_opts(struct tenv *t, const char *cfg, const struct uiommu_amdvi_unit_opts *o)
{
	struct uiommu_unit_desc d = {
		.family = UIOMMU_FAMILY_AMDVI,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
		.model_cfg = cfg,
		.family_opts = o,
	};
	int rc;

	memset(t, 0, sizeof(*t));
	rc = uiommu_unit_add(ctx, &d, &t->unit);
	if (rc)
		return rc;
	t->au = amdvi_of(t->unit);
	t->m = t->unit->model;
	return 0;
}

static int unit_up(struct tenv *t, const char *cfg, unsigned int levels)
{
	struct uiommu_amdvi_unit_opts o = {.family = UIOMMU_FAMILY_AMDVI, .levels = levels};

	return unit_up_opts(t, cfg, levels ? &o : NULL);
}

static int dev_add(struct tenv *t, uint16_t rid, uint32_t hw_id, bool pri,
		   struct uiommu_device **out)
{
	struct uiommu_device_desc dd = {
		.bus = (uint8_t)(rid >> 8),
		.devfn = (uint8_t)rid,
		.hw_id = hw_id,
		.pri = pri,
	};

	return uiommu_device_add(t->unit, &dd, out);
}

static void scenario_up(struct tenv *t, const char *cfg, unsigned int levels)
{
	CU_ASSERT_FATAL(unit_up(t, cfg, levels) == 0);
	CU_ASSERT_FATAL(dev_add(t, RID, RID, false, &t->dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t->ioas) == 0);
	CU_ASSERT_FATAL(
		uiommu_device_attach(t->dev, UIOMMU_NO_PASID, uiommu_ioas_id(t->ioas), NULL) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(BUF_SIZE, 2u << 20, -1, &t->buf) == 0);
}

static void scenario_down(struct tenv *t)
{
	if (t->buf.va)
		uenv_dma_free(&t->buf);
	if (t->dev) {
		(void)uiommu_device_detach(t->dev, UIOMMU_NO_PASID);
		CU_ASSERT(uiommu_device_remove(t->dev) == 0);
	}
	if (t->ioas) {
		CU_ASSERT(uiommu_ioas_unmap_all(t->ioas, NULL) == 0);
		CU_ASSERT(uiommu_ioas_destroy(t->ioas) == 0);
	}
	if (t->unit)
		CU_ASSERT(uiommu_unit_remove(t->unit) == 0);
	memset(t, 0, sizeof(*t));
}

static int dma(struct tenv *t, uint16_t id, uint64_t iova, void *b, size_t len, bool wr,
	       struct amdvi_model_fault *f)
{
	return amdvi_model_dma(t->m, id, AMDVI_MODEL_NO_PASID, iova, b, len, wr, f);
}

static uint16_t drain(struct uiommu_event *ev, uint16_t max)
{
	return uiommu_poll(ctx, ev, max);
}

static void drain_all(void)
{
	struct uiommu_event ev[32];

	while (drain(ev, 32))
		;
}

static int map(struct tenv *t, uint64_t iova, uint64_t off, uint64_t len, uint32_t prot)
{
	uint64_t i = iova;

	return uiommu_ioas_map_va(t->ioas, &i, (uint8_t *)t->buf.va + off, len,
				  prot | UIOMMU_MAP_FIXED_IOVA);
}

/* ------------------------------------------------------------------ */

static void map_dma_unmap(const char *cfg, unsigned int levels, uint64_t iova, uint64_t len)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	struct uiommu_event ev[8];
	uint8_t src[512], dst[512];
	uint8_t *b;
	uint16_t n;

	scenario_up(&t, cfg, levels);
	b = t.buf.va;
	CU_ASSERT(map(&t, iova, 0, len, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	CU_ASSERT(dma(&t, RID, iova + len - 512, src, 512, true, &f) == 0);
	CU_ASSERT(memcmp(b + len - 512, src, 512) == 0);
	CU_ASSERT(dma(&t, RID, iova + len - 512, dst, 512, false, &f) == 0);
	CU_ASSERT(memcmp(dst, src, 512) == 0);
	/* Another DeviceID is blocked. */
	CU_ASSERT(dma(&t, RID + 1, iova, dst, 16, false, &f) == -EFAULT);
	drain_all();
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, iova, len, NULL) == 0);
	memset(b, 0, 4096);
	CU_ASSERT(dma(&t, RID, iova, src, 64, true, &f) == -EFAULT);
	CU_ASSERT(b[0] == 0);
	n = drain(ev, 8);
	CU_ASSERT_FATAL(n == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_FAULT);
	CU_ASSERT(ev[0].reason == AMDVI_EV_IO_PAGE_FAULT);
	CU_ASSERT(ev[0].hw_id == RID);
	CU_ASSERT(ev[0].dev_id == uiommu_device_id(t.dev));
	CU_ASSERT(ev[0].addr == iova);
	CU_ASSERT(ev[0].flags & UIOMMU_EV_WRITE);
	CU_ASSERT(strcmp(ev[0].reason_text, "IO_PAGE_FAULT") == 0);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb == 0 && st.stale_dte == 0);
	scenario_down(&t);
}

static void test_translate_4level(void)
{
	map_dma_unmap(NULL, 0, 0x100000, 64 * 1024);
	CU_PASS("4-level");
}

static void test_translate_3level(void)
{
	struct tenv t;
	struct uiommu_hwpt_info hi;

	map_dma_unmap(NULL, 3, 0x7ff00000, 16 * 1024);
	/* 3 levels = 39 bits: above is the aperture (reserved). */
	scenario_up(&t, NULL, 3);
	CU_ASSERT(map(&t, 1ull << 39, 0, 4096, UIOMMU_MAP_READ) == -EINVAL);
	CU_ASSERT(uiommu_hwpt_get_info(
			  uiommu_hwpt_get(ctx, uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID)),
			  &hi) == 0);
	CU_ASSERT(hi.levels == 3);
	scenario_down(&t);
	/* 5 and 6 levels on a unit that walks them; 5 on one that does not. */
	map_dma_unmap(NULL, 6, 1ull << 50, 8192);
	CU_ASSERT(unit_up(&t, "hats=0", 5) == -EINVAL);
}

static void test_2m_pages(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_walk_level lv[8];
	uint8_t v = 0x3c;
	int k;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x40000000, 0, 2u << 20, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	k = uiommu_hwpt_walk(
		uiommu_hwpt_get(ctx, uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID)),
		0x40000000 + 0x12345, lv, 8);
	CU_ASSERT_FATAL(k == 3); /* L4, L3, L2 leaf */
	CU_ASSERT(lv[2].leaf && lv[2].pgsize == (2u << 20));
	CU_ASSERT(dma(&t, RID, 0x40000000 + 0x1fffff, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[0x1fffff] == 0x3c);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x40000000, 2u << 20, NULL) == 0);
	CU_ASSERT(dma(&t, RID, 0x40000000 + 0x1fffff, &v, 1, true, &f) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

static void test_read_only(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_event ev[4];
	uint8_t v = 0x77, r = 0;

	scenario_up(&t, NULL, 0);
	((uint8_t *)t.buf.va)[0] = 0x11;
	CU_ASSERT(map(&t, 0x300000, 0, 4096, UIOMMU_MAP_READ) == 0);
	CU_ASSERT(dma(&t, RID, 0x300000, &r, 1, false, &f) == 0 && r == 0x11);
	CU_ASSERT(dma(&t, RID, 0x300000, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(((uint8_t *)t.buf.va)[0] == 0x11);
	CU_ASSERT_FATAL(drain(ev, 4) == 1);
	CU_ASSERT(ev[0].reason == AMDVI_EV_IO_PAGE_FAULT && (ev[0].flags & UIOMMU_EV_WRITE));
	scenario_down(&t);
}

/* Two devices, two IOASes: neither reaches the other's memory. */
static void test_isolation(void)
{
	struct tenv t;
	struct uiommu_device *d2;
	struct uiommu_ioas *io2;
	struct amdvi_model_fault f;
	uint8_t v = 1;

	scenario_up(&t, NULL, 0);
	CU_ASSERT_FATAL(dev_add(&t, 0x0020, 0x0020, false, &d2) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &io2) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_ioas_id(io2), NULL) == 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	uint64_t i2 = 0x200000;

	CU_ASSERT(uiommu_ioas_map_va(io2, &i2, (uint8_t *)t.buf.va + 8192, 4096,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) ==
		  0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT(dma(&t, 0x20, 0x200000, &v, 1, true, &f) == 0);
	CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(dma(&t, 0x20, 0x100000, &v, 1, true, &f) == -EFAULT);
	/* Different DomainIDs in the DTEs. */
	CU_ASSERT(((struct amdvi_dev *)t.dev->priv)->did != ((struct amdvi_dev *)d2->priv)->did);
	drain_all();
	CU_ASSERT(uiommu_device_detach(d2, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(d2) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(io2, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(io2) == 0);
	scenario_down(&t);
}

/* Identity (pass-through), blocked (detached), and re-attach. */
static void test_identity_blocked(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	uint8_t v = 0x42;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(4096, 4096, -1, &t.buf) == 0);
	/* Not attached: blocked. */
	CU_ASSERT(dma(&t, RID, t.buf.iova, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_IO_PAGE_FAULT);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0);
	CU_ASSERT(dma(&t, RID, t.buf.iova, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[0] == 0x42);
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(dma(&t, RID, t.buf.iova, &v, 1, true, &f) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* An IVRS alias: the DTE at both the DeviceID and the RID. */
static void test_alias(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_device *d2;
	uint8_t v = 0x99;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT_FATAL(dev_add(&t, RID, 0x0100, false, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(BUF_SIZE, 2u << 20, -1, &t.buf) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, 0x0100, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT(dma(&t, RID, 0x100001, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[1] == 0x99);
	{
		struct uiommu_walk_level cl[4];

		CU_ASSERT(uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0x100000, cl, 4) == 2);
		CU_ASSERT(strstr(cl[0].text, "DTE[0x0100]") && strstr(cl[0].text, "V TV Mode=4"));
		CU_ASSERT(cl[0].present && cl[0].index == 0x0100);
		CU_ASSERT(strstr(cl[1].text, "DTE[0x0018]") &&
			  strstr(cl[1].text, "alias of 0x0100"));
		CU_ASSERT(cl[1].entry == cl[0].entry && cl[1].index == 0x0018);
		CU_ASSERT(uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0x100000, cl, 1) == 1);
		CU_ASSERT(uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0x100000, NULL, 1) ==
			  -EINVAL);
	}
	/* Another function behind the same alias is refused. */
	CU_ASSERT(dev_add(&t, 0x0019, 0x0100, false, &d2) == -EEXIST); /* the core's */
	CU_ASSERT(dev_add(&t, 0x0200, RID, false, &d2) == -EBUSY);     /* the driver's */
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(dma(&t, 0x0100, 0x100000, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* Replace onto another IOAS: the DTE is invalidated, the old
 * translation is gone at once (no stale DTE or IOTLB hit). */
static void test_replace(void)
{
	struct tenv t;
	struct uiommu_ioas *io2;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t i2 = 0x100000;
	uint8_t v = 5;
	uint64_t dte_before;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &io2) == 0);
	CU_ASSERT(uiommu_ioas_map_va(io2, &i2, (uint8_t *)t.buf.va + 0x5000, 4096,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) ==
		  0);
	dte_before = t.au->stats.inv_dte;
	amdvi_model_reset_stale(t.m);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(io2), NULL) == 0);
	CU_ASSERT(t.au->stats.inv_dte == dte_before + 1);
	v = 6;
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[0x5000] == 6);
	CU_ASSERT(((uint8_t *)t.buf.va)[0] == 5);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb == 0 && st.stale_dte == 0);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(io2, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(io2) == 0);
	scenario_down(&t);
}

/* The core's flush skipped on purpose: the model catches the stale
 * translation (the DMA still lands in the old page). */
static int noflush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	(void)u, (void)f, (void)n;
	return 0;
}

static void test_skipped_invalidation_detected(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	struct uiommu_family_ops broken = amdvi_family_ops;
	uint8_t v = 0xee;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0); /* cached */
	amdvi_model_reset_stale(t.m);
	broken.flush = noflush;
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, &broken);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, NULL);
	((uint8_t *)t.buf.va)[0] = 0;
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0); /* stale hit */
	CU_ASSERT(((uint8_t *)t.buf.va)[0] == 0xee);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb >= 1);
	/* With the flush: the same sequence leaves no stale hit. */
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	amdvi_model_reset_stale(t.m);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == -EFAULT);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb == 0);
	drain_all();
	scenario_down(&t);
}

/* A flush that leaves the PDE bit out although table pages were freed:
 * the model's page-directory cache keeps the old table, a 2 MiB page mapped
 * in its place is not seen (stale_pde), until a flush with PDE. */
static int flush_no_pde(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct fam_flush g[8];

	for (uint32_t i = 0; i < n && i < 8; i++) {
		g[i] = f[i];
		g[i].leaf_only = true;
	}
	return amdvi_flush(u, g, n < 8 ? n : 8);
}

static void test_skipped_pde_detected(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	struct uiommu_family_ops broken = amdvi_family_ops;
	const uint64_t iova = 0x40000000;
	uint8_t v = 0x21;

	for (int pass = 0; pass < 2; pass++) {
		scenario_up(&t, NULL, 0);
		CU_ASSERT(map(&t, iova, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(dma(&t, RID, iova, &v, 1, true, &f) == 0); /* PDEs cached */
		broken.flush = flush_no_pde;
		if (pass == 0)
			uiommu_family_override(UIOMMU_FAMILY_AMDVI, &broken);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, iova, 4096, NULL) == 0);
		CU_ASSERT(map(&t, iova, 0, 2u << 20, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		uiommu_family_override(UIOMMU_FAMILY_AMDVI, NULL);
		amdvi_model_reset_stale(t.m);
		int rc = dma(&t, RID, iova + 0x1000, &v, 1, true, &f);

		amdvi_model_get_stats(t.m, &st);
		if (pass == 0) { /* without PDE: the old table is walked */
			CU_ASSERT(st.stale_pde > 0 && rc == -EFAULT);
		} else { /* the driver's own flush: PDE set, the 2 MiB page is seen */
			CU_ASSERT(st.stale_pde == 0 && rc == 0);
		}
		drain_all();
		scenario_down(&t);
	}
}

/* Event log overflow: reported as UIOMMU_EV_OVERFLOW, the log restarted. */
static void test_event_overflow(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_event ev[64];
	uint8_t v = 0;
	unsigned int faults = 0, overflows = 0;
	uint16_t n;

	scenario_up(&t, NULL, 0);
	drain_all();
	for (int i = 0; i < 400; i++)
		CU_ASSERT(dma(&t, RID, 0x800000 + ((uint64_t)i << 12), &v, 1, false, &f) ==
			  -EFAULT);
	while ((n = drain(ev, 64)) > 0)
		for (uint16_t i = 0; i < n; i++) {
			faults += ev[i].type == UIOMMU_EV_FAULT;
			overflows += ev[i].type == UIOMMU_EV_OVERFLOW;
		}
	CU_ASSERT(faults == 255);
	CU_ASSERT(overflows == 1);
	CU_ASSERT(t.au->stats.overflows == 1);
	/* Logging again after the restart. */
	CU_ASSERT(dma(&t, RID, 0x800000, &v, 1, false, &f) == -EFAULT);
	CU_ASSERT(drain(ev, 64) == 1 && ev[0].type == UIOMMU_EV_FAULT);
	scenario_down(&t);
}

/* The unit stops its event log by itself (it could not write it: here a
 * base register pointing nowhere): uiommu_poll reports the loss and
 * restarts the log at the driver's own buffer. */
static void test_event_log_stopped(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_event ev[8];
	const struct uiommu_regio *r;
	uint8_t v = 0;
	uint64_t ctl;
	uint16_t n;

	scenario_up(&t, NULL, 0);
	r = unit_regs(t.unit);
	drain_all();
	ctl = reg_read64(r, AMDVI_REG_CONTROL);
	reg_write64(r, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTRL_EVT_LOG_EN);
	reg_write64(r, AMDVI_REG_EVTLOG, 0x1000 | FIELD_PREP(AMDVI_BUF_LEN, 8));
	reg_write64(r, AMDVI_REG_CONTROL, ctl);
	CU_ASSERT(dma(&t, RID, 0x800000, &v, 1, false, &f) == -EFAULT); /* cannot be logged */
	CU_ASSERT(!(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_EVT_RUN));
	n = drain(ev, 8);
	CU_ASSERT_FATAL(n == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_OVERFLOW && strstr(ev[0].reason_text, "stopped"));
	CU_ASSERT(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_EVT_RUN);
	CU_ASSERT((reg_read64(r, AMDVI_REG_EVTLOG) & AMDVI_BASE_ADDR) == t.au->evt.iova);
	CU_ASSERT(dma(&t, RID, 0x800000, &v, 1, false, &f) == -EFAULT);
	CU_ASSERT(drain(ev, 8) == 1 && ev[0].type == UIOMMU_EV_FAULT);
	CU_ASSERT(drain(ev, 8) == 0); /* a running log is not restarted again */
	scenario_down(&t);
}

/* The unit stops the PPR log by itself (it could not write it): the
 * driver reports the loss and restarts the log; page requests flow again. */
static void test_ppr_log_stopped(void)
{
	struct tenv t;
	struct uiommu_event ev[8];
	struct amdvi_model_ppr rq = {.devid = RID, .pasid = AMDVI_MODEL_NO_PASID, .addr = 0x5000};
	const struct uiommu_regio *r;
	uint64_t ctl;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT_FATAL(t.au->ppr);
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, true, &t.dev) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0);
	r = unit_regs(t.unit);
	drain_all();
	ctl = reg_read64(r, AMDVI_REG_CONTROL);
	reg_write64(r, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTRL_PPR_LOG_EN);
	reg_write64(r, AMDVI_REG_PPRLOG, 0x1000 | FIELD_PREP(AMDVI_BUF_LEN, 8));
	reg_write64(r, AMDVI_REG_CONTROL, ctl);
	CU_ASSERT(amdvi_model_page_request(t.m, &rq) == -ENXIO); /* cannot be logged */
	CU_ASSERT(!(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_PPR_RUN));
	CU_ASSERT_FATAL(drain(ev, 8) == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_OVERFLOW && strstr(ev[0].reason_text, "PPR log stopped"));
	CU_ASSERT(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_PPR_RUN);
	CU_ASSERT((reg_read64(r, AMDVI_REG_PPRLOG) & AMDVI_BASE_ADDR) == t.au->pprl.iova);
	rq.tag = 3;
	CU_ASSERT(amdvi_model_page_request(t.m, &rq) == 0);
	CU_ASSERT(drain(ev, 8) == 1 && ev[0].type == UIOMMU_EV_PAGE_REQ && ev[0].grpid == 3);
	CU_ASSERT(drain(ev, 8) == 0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, 3, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	scenario_down(&t);
}

/* A bad command stops the buffer: the driver restarts it, invalidates
 * everything, reports a queue error, and carries on. */
static void test_illegal_command_recovery(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct uiommu_event ev[8];
	struct amdvi_batch b;
	struct amdvi_cmd c = {{0xfull << 60, 0}};
	unsigned int qerr = 0;
	uint8_t v = 1;
	uint16_t n;

	for (int ia = 1; ia >= 0; ia--) {
		scenario_up(&t, ia ? NULL : "ia=0", 0);
		CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		amdvi_batch_init(&b, t.au);
		amdvi_batch_add(&b, &c);
		CU_ASSERT(amdvi_batch_sync(&b) == -EIO);
		CU_ASSERT(t.au->stats.cmd_errors == 1);
		qerr = 0;
		while ((n = drain(ev, 8)) > 0)
			for (uint16_t i = 0; i < n; i++)
				qerr += ev[i].type == UIOMMU_EV_QUEUE_ERROR;
		CU_ASSERT(qerr == 2); /* the driver's report and the unit's ILLEGAL_COMMAND */
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == -EFAULT);
		drain_all();
		scenario_down(&t);
	}
}

/* The unit stops answering (command buffer disabled behind the driver's
 * back): the wait times out, bounded, and the buffer is restarted. */
static void test_wait_timeout(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	const struct uiommu_regio *r;
	uint8_t v = 1;

	scenario_up(&t, NULL, 0);
	r = unit_regs(t.unit);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	t.au->timeout_ns = 20ull * 1000 * 1000;
	/* Head != tail with the buffer stopped looks like a hang; simulate
	 * it by clearing CmdBufEn and then re-reading Status as running:
	 * easiest is a COMPLETION_WAIT to memory the model cannot reach,
	 * which stops the buffer with COMMAND_HARDWARE_ERROR (-EIO). */
	struct amdvi_batch b;
	struct amdvi_cmd c;

	amdvi_cmd_completion_wait(&c, 0x8, 1);
	amdvi_batch_init(&b, t.au);
	amdvi_batch_add(&b, &c);
	CU_ASSERT(amdvi_batch_sync(&b) == -EIO);
	CU_ASSERT(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN);
	t.au->timeout_ns = AMDVI_TIMEOUT_NS;
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	drain_all();
	scenario_down(&t);
}

static void test_one_wait_per_batch(void)
{
	struct tenv t;
	uint64_t waits, pages;

	scenario_up(&t, NULL, 0);
	for (int i = 0; i < 8; i++)
		CU_ASSERT(map(&t, 0x100000 + ((uint64_t)i << 12), (uint64_t)i << 12, 4096,
			      UIOMMU_MAP_READ) == 0);
	waits = t.au->stats.waits;
	pages = t.au->stats.inv_pages;
	/* Map: no invalidation (nothing not-present is cached). */
	CU_ASSERT(waits == t.au->stats.waits);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 8 << 12, NULL) == 0);
	CU_ASSERT(t.au->stats.waits == waits + 1);
	CU_ASSERT(t.au->stats.inv_pages >= pages + 1);
	scenario_down(&t);
}

static void test_range_encoding(void)
{
	struct amdvi_cmd c;

	amdvi_cmd_inv_pages(&c, 9, 0x5000, 4096, false);
	CU_ASSERT(FIELD_GET(AMDVI_CMD_OP, c.w[0]) == AMDVI_OP_INV_IOMMU_PAGES);
	CU_ASSERT(FIELD_GET(AMDVI_INVP_DOMID, c.w[0]) == 9);
	CU_ASSERT(c.w[1] == 0x5000);
	/* 0x4000..0x5fff: 8 KiB at 0x4000: bit 12 clear. */
	amdvi_cmd_inv_pages(&c, 9, 0x4000, 0x2000, true);
	CU_ASSERT(c.w[1] == (0x4000 | AMDVI_INV_S | AMDVI_INV_PDE));
	/* 0x5000..0x6fff straddles 0x6000: 16 KiB at 0x4000. */
	amdvi_cmd_inv_pages(&c, 9, 0x5000, 0x2000, false);
	CU_ASSERT(c.w[1] == (0x5000 | AMDVI_INV_S));
	/* 2 MiB at 0x200000. */
	amdvi_cmd_inv_pages(&c, 9, 0x200000, 0x200000, false);
	CU_ASSERT(c.w[1] == ((0x200000 | 0xff000) | AMDVI_INV_S));
	/* Everything. */
	amdvi_cmd_inv_pages(&c, 9, 0, 0, false);
	CU_ASSERT(c.w[1] == (AMDVI_INV_ALL_ADDR | AMDVI_INV_S));
	amdvi_cmd_inv_pages(&c, 9, 0, UINT64_MAX, false);
	CU_ASSERT((c.w[1] & AMDVI_INV_ADDR) == AMDVI_INV_ALL_ADDR);
	/* The inline one-page test (amdvi_inv_range) at its edges: one
	 * byte, the page's last byte, the top page; size 0 and a range
	 * that wraps are not one page, wherever in the page they start. */
	CU_ASSERT(amdvi_inv_range(0x5fff, 1) == 0x5000);
	CU_ASSERT(amdvi_inv_range(0x5800, 0x800) == 0x5000);
	CU_ASSERT(amdvi_inv_range(0x5800, 0x801) == (0x5000 | AMDVI_INV_S));
	CU_ASSERT(amdvi_inv_range(0xfffffffffffff000ull, 0x1000) == 0xfffffffffffff000ull);
	CU_ASSERT(amdvi_inv_range(0x5800, 0) == (AMDVI_INV_ALL_ADDR | AMDVI_INV_S));
	CU_ASSERT(amdvi_inv_range(0xfffffffffffff800ull, 0x1000) ==
		  (AMDVI_INV_ALL_ADDR | AMDVI_INV_S));
	/* ... and agrees with the general encoding everywhere. */
	{
		uint64_t x = 0x9e3779b97f4a7c15ull;

		for (int i = 0; i < 100000; i++) {
			uint64_t iova, size;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			iova = (i & 1) ? x : x & 0xffffffull;
			size = (i & 2) ? (x >> 40) & 0x1fff : (x >> (i % 61));
			CU_ASSERT_FATAL(amdvi_inv_range(iova, size) ==
					amdvi_inv_range_block(iova, size));
		}
	}
	amdvi_cmd_completion_wait(&c, 0x12345678, 77);
	CU_ASSERT(FIELD_GET(AMDVI_CMD_OP, c.w[0]) == AMDVI_OP_COMPLETION_WAIT);
	CU_ASSERT((c.w[0] & AMDVI_CW_ADDR) == 0x12345678 && (c.w[0] & AMDVI_CW_S));
	CU_ASSERT(c.w[1] == 77);
	amdvi_cmd_complete_ppr(&c, 0x18, 3, 0x1f, AMDVI_PPR_FAILURE);
	CU_ASSERT(FIELD_GET(AMDVI_PPRC_PASID, c.w[0]) == 3 && (c.w[1] & AMDVI_PPRC_GN));
	CU_ASSERT(FIELD_GET(AMDVI_PPRC_TAG, c.w[1]) == 0x1f);
	CU_ASSERT(FIELD_GET(AMDVI_PPRC_STATUS, c.w[1]) == AMDVI_PPR_FAILURE);
}

static void test_page_request(void)
{
	struct tenv t;
	struct uiommu_event ev[8];
	struct amdvi_model_ppr rq = {.devid = RID,
				     .pasid = AMDVI_MODEL_NO_PASID,
				     .addr = 0x123000,
				     .tag = 7,
				     .read = true};
	unsigned int status = 0;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, true, &t.dev) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0);
	CU_ASSERT(amdvi_model_page_request(t.m, &rq) == 0);
	CU_ASSERT_FATAL(drain(ev, 8) == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_PAGE_REQ && ev[0].grpid == 7 && ev[0].addr == 0x123000);
	CU_ASSERT(ev[0].flags & UIOMMU_EV_READ);
	CU_ASSERT(ev[0].dev_id == uiommu_device_id(t.dev));
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, 7, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	CU_ASSERT(amdvi_model_ppr_status(t.m, RID, 7, &status) == 0 && status == AMDVI_PPR_SUCCESS);
	/* PPR log overflow. */
	for (int i = 0; i < 300; i++) {
		rq.tag = (uint16_t)(i & 0x1ff);
		(void)amdvi_model_page_request(t.m, &rq);
	}
	unsigned int reqs = 0, ovf = 0;
	uint16_t n;

	while ((n = drain(ev, 8)) > 0)
		for (uint16_t i = 0; i < n; i++) {
			reqs += ev[i].type == UIOMMU_EV_PAGE_REQ;
			ovf += ev[i].type == UIOMMU_EV_OVERFLOW;
		}
	CU_ASSERT(reqs == 255 && ovf == 1);
	rq.tag = 9;
	CU_ASSERT(amdvi_model_page_request(t.m, &rq) == 0);
	CU_ASSERT(drain(ev, 8) == 1);
	scenario_down(&t);
}

/* The core's rollback asks the unit to recover: everything flushed, the
 * buffer restarted, translation still right. */
static void test_recover(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	const struct uiommu_regio *r;
	uint8_t v = 3;

	scenario_up(&t, NULL, 0);
	r = unit_regs(t.unit);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	/* As if the unit had been given back half-way: translation off. */
	reg_write64(r, AMDVI_REG_CONTROL, reg_read64(r, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_IOMMU_EN);
	CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == 0);
	CU_ASSERT(reg_read64(r, AMDVI_REG_CONTROL) & AMDVI_CTRL_IOMMU_EN);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == 0);
	/* The driver's state in the arena is checked before it is used:
	 * each corruption is refused, and the unit works once it is undone. */
	{
		struct amdvi_unit *au = t.au, save = *au;
		struct amdvi_dev *ad = t.dev->priv;
		uint16_t devid = ad->devid;

		au->cmd_tail = 0x12340;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == -ESTALE);
		*au = save;
		au->cmd_tail += 8;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		*au = save;
		au->nr_dte = AMDVI_NR_DEVIDS * 2;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		*au = save;
		au->evt_bytes = 1u << 20;
		CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == -ESTALE);
		*au = save;
		au->cw_w0 ^= 0x1000; /* every wait would store somewhere else */
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		*au = save;
		au->levels = 9;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		*au = save;
		au->n_ats = 0; /* the flush would skip an ATS device's IOTLB */
		ad->ats = true;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		ad->ats = false;
		*au = save;
		ad->dev->priv = NULL; /* a device entry that is not its device's */
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == -ESTALE);
		t.dev->priv = ad;
		ad->devid = devid;
		CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == 0);
		CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == 0);
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	}
	drain_all();
	scenario_down(&t);
}

/* The recovery's own global invalidation fails (every COMPLETION_WAIT
 * stops the buffer): the unit fails -- every DTE blocked in memory,
 * nothing issued, attachments refused, a queue-error event -- and can
 * still be detached from and removed. */
static void test_recover_inv_fails(void)
{
	struct tenv t;
	struct uiommu_event ev[8];
	const uint64_t *d;
	uint64_t sem;
	uint16_t n;
	bool seen = false;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	t.au->timeout_ns = 20ull * 1000 * 1000;
	sem = t.au->sem.iova;
	/* COMPLETION_WAIT to memory the model cannot reach (the store
	 * target and the word-0 template every wait is built from). */
	t.au->sem.iova = 0x8;
	t.au->cw_w0 = amdvi_cw_w0(0x8);
	CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == -EIO);
	t.au->sem.iova = sem;
	t.au->cw_w0 = amdvi_cw_w0(sem);
	CU_ASSERT(t.au->failed);
	d = (const uint64_t *)t.au->devtab.va + (size_t)RID * 4;
	CU_ASSERT(d[0] == (AMDVI_DTE0_V | AMDVI_DTE0_TV) && d[1] == 0);
	while ((n = drain(ev, 8)) != 0)
		for (uint16_t i = 0; i < n; i++)
			if (ev[i].type == UIOMMU_EV_QUEUE_ERROR &&
			    strstr(ev[i].reason_text, "unit failed"))
				seen = true;
	CU_ASSERT(seen);
	/* Sticky: a second recovery, an attachment, a flush are refused
	 * without touching the unit. */
	uint64_t cmds = t.au->stats.cmds;

	CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == -EIO);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) ==
		  -EIO);
	CU_ASSERT(t.au->stats.cmds == cmds);
	CU_ASSERT(d[0] == (AMDVI_DTE0_V | AMDVI_DTE0_TV));
	CU_ASSERT(amdvi_family_ops.unit_adopt(t.unit) == 0);
	t.au->timeout_ns = AMDVI_TIMEOUT_NS;
	drain_all();
	scenario_down(&t);
	/* A new unit works as ever. */
	scenario_up(&t, NULL, 0);
	CU_ASSERT(!t.au->failed);
	scenario_down(&t);
}

/* A replace whose DTE invalidation is not confirmed fails all or nothing:
 * the old entry is back in force (the core keeps the old attachment and
 * frees the new table), the unit has not failed, the state checks clean. */
static void test_attach_wait_fails(void)
{
	struct tenv t;
	struct uiommu_ioas *b;
	uint64_t iova = 0x100000;
	uint32_t v = 0;
	int rc;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	((uint32_t *)t.buf.va)[0] = 0xaaaa5555u;
	((uint32_t *)((uint8_t *)t.buf.va + 0x1000))[0] = 0xbbbb6666u;
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	CU_ASSERT(uiommu_ioas_map_va(b, &iova, (uint8_t *)t.buf.va + 0x1000, 4096,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) ==
		  0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 4, false, NULL) == 0 && v == 0xaaaa5555u);
	t.au->timeout_ns = 20ull * 1000 * 1000;
	tail_real = unit_regs(t.unit)->model;
	unit_regs(t.unit)->model = &tail_io;
	tail_drop = 1;
	rc = uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(b), NULL);
	unit_regs(t.unit)->model = tail_real;
	CU_ASSERT(rc == -ETIMEDOUT || rc == -EIO);
	CU_ASSERT(tail_drop == 0);
	CU_ASSERT(!t.au->failed);
	v = 0;
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 4, false, NULL) == 0);
	CU_ASSERT(v == 0xaaaa5555u); /* the old translation, not the new table's */
	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
	/* The unit works on: the replace goes through now. */
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(b), NULL) == 0);
	v = 0;
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 4, false, NULL) == 0 && v == 0xbbbb6666u);
	/* A detach whose wait fails stays done: the core releases the
	 * attachment (and may free the table) whatever the wait said. */
	unit_regs(t.unit)->model = &tail_io;
	tail_drop = 1;
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	unit_regs(t.unit)->model = tail_real;
	CU_ASSERT(tail_drop == 0 && !t.au->failed);
	CU_ASSERT(uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID) == 0);
	/* The entry in memory blocks (no table root, no IR/IW). */
	CU_ASSERT(FIELD_GET(AMDVI_DTE0_MODE,
			    ((const uint64_t *)t.au->devtab.va)[(size_t)RID * 4]) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 4, false, NULL) == -EFAULT);
	drain_all();
	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(b, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
	t.au->timeout_ns = AMDVI_TIMEOUT_NS;
	drain_all();
	scenario_down(&t);
}

/* The strict unmap's flush: without an ATS device, one
 * INVALIDATE_IOMMU_PAGES and its COMPLETION_WAIT (the fast path); with
 * one on the same DomainID, its INVALIDATE_IOTLB_PAGES too, and again
 * none once it is gone; the count of ATS devices follows add and remove. */
static void test_flush_ats_count(void)
{
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x28, .hw_id = 0x28, .ats = true};
	struct uiommu_device *ats;
	struct amdvi_stats s0;
	struct tenv t;
	uint8_t v = 1;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(t.au->n_ats == 0);
	CU_ASSERT(map(&t, 0x100000, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(map(&t, 0x101000, 0x1000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x101000, &v, 1, true, NULL) == 0);
	s0 = t.au->stats;
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x101000, 0x1000, NULL) == 0);
	CU_ASSERT(t.au->stats.cmds == s0.cmds + 2 && t.au->stats.waits == s0.waits + 1);
	CU_ASSERT(t.au->stats.inv_pages == s0.inv_pages + 1 && t.au->stats.inv_iotlb == 0);
	CU_ASSERT(dma(&t, RID, 0x101000, &v, 1, true, NULL) == -EFAULT); /* strict */
	drain_all();
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &ats) == 0);
	CU_ASSERT(t.au->n_ats == 1);
	CU_ASSERT(uiommu_device_attach(ats, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT(map(&t, 0x101000, 0x1000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	s0 = t.au->stats;
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x101000, 0x1000, NULL) == 0);
	CU_ASSERT(t.au->stats.inv_iotlb == s0.inv_iotlb + 1);
	CU_ASSERT(t.au->stats.cmds == s0.cmds + 3 && t.au->stats.waits == s0.waits + 1);
	CU_ASSERT(uiommu_device_detach(ats, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(ats) == 0);
	CU_ASSERT(t.au->n_ats == 0);
	CU_ASSERT(map(&t, 0x101000, 0x1000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	s0 = t.au->stats;
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x101000, 0x1000, NULL) == 0);
	CU_ASSERT(t.au->stats.inv_iotlb == s0.inv_iotlb && t.au->stats.cmds == s0.cmds + 2);
	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
	drain_all();
	scenario_down(&t);
}

/* The fast path's two slots across the end of the ring: one odd-sized
 * batch puts the tail 16 bytes off the 32-byte stride, then strict
 * 4 KiB unmaps go round the buffer more than once -- one of them starts
 * in the last slot and puts its COMPLETION_WAIT in slot 0.  Each is
 * seen by the unit (two commands, one wait, head == tail), leaves no
 * stale translation and the DMA after it faults. */
static void test_flush_fast_wrap(void)
{
	const uint32_t last_slot = AMDVI_CMD_BYTES - AMDVI_CMD_SIZE;
	const struct uiommu_regio *r;
	struct amdvi_model_stats m0, m1;
	struct amdvi_batch b;
	struct amdvi_cmd c;
	struct tenv t;
	bool wrapped = false;
	uint8_t v = 1;

	scenario_up(&t, NULL, 0);
	r = unit_regs(t.unit);
	amdvi_batch_init(&b, t.au);
	amdvi_cmd_inv_dte(&c, RID);
	amdvi_batch_add(&b, &c);
	amdvi_batch_add(&b, &c);
	CU_ASSERT(amdvi_batch_sync(&b) == 0);
	CU_ASSERT_FATAL(t.au->cmd_tail % (2 * AMDVI_CMD_SIZE) == AMDVI_CMD_SIZE);
	for (uint32_t i = 0; i < 2 * AMDVI_CMD_BYTES / (2 * AMDVI_CMD_SIZE) + 4; i++) {
		uint64_t iova = 0x100000 + ((uint64_t)(i % 64) << 12);
		uint32_t tail = t.au->cmd_tail;

		CU_ASSERT_FATAL(map(&t, iova, (uint64_t)(i % 64) << 12, 4096,
				    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(dma(&t, RID, iova, &v, 1, true, NULL) == 0); /* cached */
		amdvi_model_get_stats(t.m, &m0);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, iova, 4096, NULL) == 0);
		amdvi_model_get_stats(t.m, &m1);
		CU_ASSERT(m1.cmds == m0.cmds + 2 && m1.waits == m0.waits + 1);
		CU_ASSERT(t.au->cmd_tail == ((tail + 2 * AMDVI_CMD_SIZE) & (AMDVI_CMD_BYTES - 1)));
		CU_ASSERT((reg_read64(r, AMDVI_REG_CMD_HEAD) & AMDVI_PTR_OFF) == t.au->cmd_tail);
		CU_ASSERT(dma(&t, RID, iova, &v, 1, true, NULL) == -EFAULT);
		CU_ASSERT(m1.stale_iotlb == 0);
		if (tail == last_slot) {
			wrapped = true;
			/* The command in the last slot, its wait in slot 0. */
			const uint64_t *q = t.au->cmd.va;

			CU_ASSERT(FIELD_GET(AMDVI_CMD_OP, q[last_slot / 8]) ==
				  AMDVI_OP_INV_IOMMU_PAGES);
			CU_ASSERT((q[last_slot / 8 + 1] & ~AMDVI_INV_PDE) == iova); /* S = 0 */
			CU_ASSERT(q[0] == t.au->cw_w0 && q[1] == t.au->wait_seq);
		}
	}
	CU_ASSERT(wrapped);
	CU_ASSERT(t.au->stats.timeouts == 0 && t.au->stats.cmd_errors == 0);
	drain_all();
	scenario_down(&t);
}

/* The fast path's wait fails: its tail write is lost (time-out), or its
 * COMPLETION_WAIT cannot store (the buffer stops: -EIO).  Either is
 * recovered out of line as any other wait -- the buffer restarted, all
 * invalidated (INVALIDATE_IOMMU_ALL, or without IASup every DTE and
 * DomainID), a queue-error event -- the unmap reports it, no stale
 * translation is left, and the next unmap takes the fast path again.
 * When the recovery's own invalidation fails too, the unit fails: the
 * fast path then issues nothing and returns -EIO. */
static void test_flush_fast_wait_fails(void)
{
	struct uiommu_event ev[8];
	struct amdvi_model_stats st;
	struct amdvi_stats s0;
	struct tenv t;
	uint64_t sem;
	unsigned int qerr;
	uint16_t n;
	uint8_t v = 1;
	int rc;

	for (int ia = 1; ia >= 0; ia--) {
		scenario_up(&t, ia ? NULL : "ia=0", 0);
		t.au->timeout_ns = 20ull * 1000 * 1000;
		CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == 0); /* cached */
		amdvi_model_reset_stale(t.m);
		s0 = t.au->stats;
		tail_real = unit_regs(t.unit)->model;
		unit_regs(t.unit)->model = &tail_io;
		tail_drop = 1;
		rc = uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL);
		unit_regs(t.unit)->model = tail_real;
		CU_ASSERT(rc == -ETIMEDOUT);
		CU_ASSERT(tail_drop == 0 && !t.au->failed);
		CU_ASSERT(t.au->stats.timeouts == s0.timeouts + 1);
		CU_ASSERT(ia ? t.au->stats.inv_all == s0.inv_all + 1 : t.au->stats.inv_all == 0);
		qerr = 0;
		while ((n = drain(ev, 8)) > 0)
			for (uint16_t i = 0; i < n; i++)
				qerr += ev[i].type == UIOMMU_EV_QUEUE_ERROR;
		CU_ASSERT(qerr == 1);
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == -EFAULT);
		amdvi_model_get_stats(t.m, &st);
		CU_ASSERT(st.stale_iotlb == 0);
		drain_all();
		/* Carries on: the next strict unmap is two commands and a wait
		 * (after the core's own catch-up invalidation, inv_stale). */
		CU_ASSERT(map(&t, 0x101000, 0x1000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(dma(&t, RID, 0x101000, &v, 1, true, NULL) == 0);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x101000, 4096, NULL) == 0);
		s0 = t.au->stats;
		CU_ASSERT(map(&t, 0x101000, 0x1000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x101000, 4096, NULL) == 0);
		CU_ASSERT(t.au->stats.cmds == s0.cmds + 2 && t.au->stats.waits == s0.waits + 1);
		CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);

		/* The COMPLETION_WAIT cannot store: the buffer stops (-EIO),
		 * and so does the recovery's: the unit fails. */
		CU_ASSERT(map(&t, 0x102000, 0x2000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		sem = t.au->sem.iova;
		t.au->sem.iova = 0x8;
		t.au->cw_w0 = amdvi_cw_w0(0x8);
		s0 = t.au->stats;
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x102000, 4096, NULL) == -EIO);
		CU_ASSERT(t.au->stats.cmd_errors == s0.cmd_errors + 1);
		CU_ASSERT(t.au->failed);
		t.au->sem.iova = sem;
		t.au->cw_w0 = amdvi_cw_w0(sem);
		s0 = t.au->stats;
		CU_ASSERT(map(&t, 0x103000, 0x3000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x103000, 4096, NULL) == -EIO);
		CU_ASSERT(t.au->stats.cmds == s0.cmds && t.au->stats.waits == s0.waits);
		t.au->timeout_ns = AMDVI_TIMEOUT_NS;
		drain_all();
		scenario_down(&t);
	}
}

/* A unit that completes late: the tail write is held back and reaches
 * the unit only at the next Status read -- which the wait makes after
 * its first look (inline) and 63 more polls (out of line) came back
 * empty.  The wait then finds the store: no recovery, no event, the
 * unmap is strict. */
static uint64_t late_tail;
static bool late_pending;
static unsigned int late_status_reads;

static uint64_t late_read(void *m, uint32_t off, unsigned int size)
{
	if (off == AMDVI_REG_STATUS) {
		late_status_reads++;
		if (late_pending) {
			late_pending = false;
			tail_real->write(m, AMDVI_REG_CMD_TAIL, late_tail, 8);
		}
	}
	return tail_real->read(m, off, size);
}

static void late_write(void *m, uint32_t off, uint64_t v, unsigned int size)
{
	if (off == AMDVI_REG_CMD_TAIL) {
		late_tail = v;
		late_pending = true;
		return;
	}
	tail_real->write(m, off, v, size);
}

static const struct uiommu_model_io late_io = {.read = late_read, .write = late_write};

static void test_flush_fast_late_completion(void)
{
	struct uiommu_event ev[8];
	struct amdvi_model_stats st;
	struct amdvi_stats s0;
	struct tenv t;
	uint8_t v = 1;
	int rc;

	scenario_up(&t, NULL, 0);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == 0); /* cached */
	amdvi_model_reset_stale(t.m);
	drain_all();
	s0 = t.au->stats;
	tail_real = unit_regs(t.unit)->model;
	unit_regs(t.unit)->model = &late_io;
	late_status_reads = 0;
	rc = uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL);
	unit_regs(t.unit)->model = tail_real;
	CU_ASSERT(rc == 0);
	CU_ASSERT(!late_pending && late_status_reads == 1);
	CU_ASSERT(t.au->stats.cmds == s0.cmds + 2 && t.au->stats.waits == s0.waits + 1);
	CU_ASSERT(t.au->stats.timeouts == 0 && t.au->stats.cmd_errors == 0);
	CU_ASSERT(t.au->stats.inv_all == s0.inv_all);
	CU_ASSERT(!t.unit->inv_stale);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == -EFAULT);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb == 0);
	/* The DMA's fault, no queue error. */
	CU_ASSERT(drain(ev, 8) == 1 && ev[0].type == UIOMMU_EV_FAULT);
	scenario_down(&t);
}

/* Translation deferred (UIOMMU_UNIT_F_DEFER_ENABLE): nothing is cached
 * and the command buffer is not running, so the strict unmap's flush
 * issues nothing and succeeds; after uiommu_unit_enable it issues its
 * two commands and the unmap is strict. */
static void test_flush_fast_deferred(void)
{
	struct uiommu_unit_desc d = {
		.family = UIOMMU_FAMILY_AMDVI,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
		.flags = UIOMMU_UNIT_F_DEFER_ENABLE,
	};
	struct amdvi_stats s0;
	struct tenv t;
	uint8_t v = 1;

	memset(&t, 0, sizeof(t));
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &t.unit) == 0);
	t.au = amdvi_of(t.unit);
	t.m = t.unit->model;
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(
		uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(BUF_SIZE, 2u << 20, -1, &t.buf) == 0);
	CU_ASSERT(t.au->deferred);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	s0 = t.au->stats;
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
	CU_ASSERT(t.au->stats.cmds == s0.cmds && t.au->stats.waits == s0.waits);
	CU_ASSERT(!t.unit->inv_stale);
	CU_ASSERT(uiommu_unit_enable(t.unit) == 0);
	CU_ASSERT(!t.au->deferred);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == 0);
	s0 = t.au->stats;
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
	CU_ASSERT(t.au->stats.cmds == s0.cmds + 2 && t.au->stats.waits == s0.waits + 1);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, NULL) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* No contiguous 2 MiB for the device table: refused unless the user
 * accepted a smaller one (UIOMMU_AMDVI_F_SMALL_DEVTAB).  Every
 * allocation of unit_add fails in turn. */
static void test_small_devtab(void)
{
	struct uiommu_amdvi_unit_opts o = {.family = UIOMMU_FAMILY_AMDVI};
	unsigned int small = 0, refused = 0;

	for (int flag = 0; flag < 2; flag++) {
		o.flags = flag ? UIOMMU_AMDVI_F_SMALL_DEVTAB : 0;
		for (unsigned long nth = 1; nth < 200; nth++) {
			struct tenv t;
			struct uiommu_device *d = NULL;
			bool fired;
			int rc;

			uenv_fail_nth(nth);
			rc = unit_up_opts(&t, NULL, &o);
			fired = uenv_fail_fired();
			uenv_fail_nth(0);
			if (rc) {
				CU_ASSERT(rc == -ENOMEM);
				refused++;
				continue;
			}
			if (t.au->nr_dte < AMDVI_NR_DEVIDS) {
				CU_ASSERT(flag == 1 && t.au->nr_dte == AMDVI_NR_DEVIDS / 2);
				small++;
				/* A DeviceID beyond the table is refused. */
				CU_ASSERT(dev_add(&t, 0x8018, 0x8018, false, &d) == -ERANGE);
				CU_ASSERT(dev_add(&t, RID, RID, false, &d) == 0);
				CU_ASSERT(uiommu_device_remove(d) == 0);
			}
			CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
			if (!fired)
				break;
		}
	}
	printf("\n    %u refused, %u small tables ", refused, small);
	CU_ASSERT(small == 1 && refused > 0);
	/* Unknown flags. */
	o.flags = 2;
	{
		struct tenv t;

		CU_ASSERT(unit_up_opts(&t, NULL, &o) == -EOPNOTSUPP);
	}
}

/* An exclusion range firmware left enabled (ExEn + Allow: every device's
 * DMA inside it untranslated) is turned off at take-over: the range
 * translates through the DTE like everything else. */
static void test_exclusion_range_off(void)
{
	struct tenv t;
	struct amdvi_model_fault f;
	uint64_t pa = 0;

	/* Firmware left ExEn + Allow over 2 MiB..3 MiB. */
	scenario_up(&t, "excl_base=0x200003,excl_limit=0x2ff000", 0);
	CU_ASSERT(reg_read64(unit_regs(t.unit), AMDVI_REG_EXCL_BASE) == 0);
	CU_ASSERT(t.au->saved.excl_base == 0x200003 && t.au->saved.excl_limit == 0x2ff000);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x200000, true, &pa, &f) == -EFAULT);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x2ffff8, false, &pa, &f) == -EFAULT);
	CU_ASSERT(map(&t, 0x200000, 0x3000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x200010, true, &pa, &f) == 0 &&
		  pa == t.buf.iova + 0x3010);
	/* The model's exclusion itself: turned back on, the range bypasses. */
	reg_write64(unit_regs(t.unit), AMDVI_REG_EXCL_LIMIT, 0x2ff000);
	reg_write64(unit_regs(t.unit), AMDVI_REG_EXCL_BASE, 0x200003);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x2ffff8, false, &pa, &f) == 0 && pa == 0x2ffff8);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x300000, false, &pa, &f) == -EFAULT);
	/* unit_recover turns it off again. */
	CU_ASSERT(amdvi_family_ops.unit_recover(t.unit) == 0);
	CU_ASSERT(amdvi_model_translate(t.m, RID, 0x2ffff8, false, &pa, &f) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* Bad input is refused and changes nothing. */
static void test_bad_input(void)
{
	struct tenv t;
	struct uiommu_device *d;
	struct uiommu_hwpt *h;
	struct uiommu_amdvi_unit_opts o = {.family = UIOMMU_FAMILY_AMDVI};
	struct uenv_stats before, after;

	o.flags = 1u << 5;
	CU_ASSERT(unit_up_opts(&t, NULL, &o) == -EOPNOTSUPP);
	o.flags = 0;
	o.levels = 2;
	CU_ASSERT(unit_up_opts(&t, NULL, &o) == -EINVAL);
	o.levels = 7;
	CU_ASSERT(unit_up_opts(&t, NULL, &o) == -EINVAL);
	CU_ASSERT(unit_up(&t, "hats=9", 0) == -EINVAL);
	scenario_up(&t, NULL, 0);
	uenv_get_stats(&before);
	CU_ASSERT(dev_add(&t, 0x30, 0x10000, false, &d) == -EINVAL);
	CU_ASSERT(dev_add(&t, RID, RID, false, &d) == -EEXIST);
	CU_ASSERT(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_STAGE1, &h) == -EOPNOTSUPP);
	CU_ASSERT(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &h) == -EOPNOTSUPP);
	/* (default model: gt=0, no nesting) */
	CU_ASSERT(uiommu_device_attach(t.dev, 1, uiommu_ioas_id(t.ioas), NULL) != 0);
	uenv_get_stats(&after);
	CU_ASSERT(after.heap_live == before.heap_live && after.pages_live == before.pages_live &&
		  after.dma_live == before.dma_live);
	scenario_down(&t);
}

/* A unit already enabled by someone else is refused unless forced. */
static void test_busy_refused(void)
{
	struct tenv t;
	const struct uiommu_regio *r;
	struct amdvi_unit *au;
	uint64_t ctl;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	r = unit_regs(t.unit);
	au = t.au;
	/* Take the unit through unit_init again while it runs: refused, and
	 * nothing of it changes. */
	ctl = reg_read64(r, AMDVI_REG_CONTROL);
	struct uiommu_unit_desc d = {.family = UIOMMU_FAMILY_AMDVI, .access = UIOMMU_UNIT_MODEL};

	CU_ASSERT(amdvi_family_ops.unit_init(t.unit, &d) == -EBUSY);
	CU_ASSERT(t.unit->priv == NULL); /* the failed init leaves no state of its own */
	t.unit->priv = au;
	CU_ASSERT(reg_read64(r, AMDVI_REG_CONTROL) == ctl);
	/* Forced: taken over, and given back exactly as it ran (translation
	 * on, the first owner's tables and buffers), not left off with
	 * every DMA untranslated. */
	{
		uint64_t dt = reg_read64(r, AMDVI_REG_DEVTAB), cb = reg_read64(r, AMDVI_REG_CMDBUF);
		struct amdvi_model_fault f;
		struct uenv_dma buf;
		uint64_t iova = 0x100000, pa = 0;
		uint8_t v = 0x5a;

		d.force = true;
		CU_ASSERT_FATAL(amdvi_family_ops.unit_init(t.unit, &d) == 0);
		CU_ASSERT(reg_read64(r, AMDVI_REG_DEVTAB) != dt);
		amdvi_family_ops.unit_fini(t.unit);
		t.unit->priv = au;
		CU_ASSERT(reg_read64(r, AMDVI_REG_CONTROL) == ctl);
		CU_ASSERT(reg_read64(r, AMDVI_REG_DEVTAB) == dt);
		CU_ASSERT(reg_read64(r, AMDVI_REG_CMDBUF) == cb);
		/* The first owner still works: attach, map, DMA. */
		CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
		CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
		CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas),
					       NULL) == 0);
		CU_ASSERT_FATAL(uenv_dma_alloc(4096, 4096, -1, &buf) == 0);
		CU_ASSERT(uiommu_ioas_map_va(t.ioas, &iova, buf.va, 4096,
					     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
						     UIOMMU_MAP_FIXED_IOVA) == 0);
		/* Translated (not passed through to PA 0x100000) before a byte moves. */
		CU_ASSERT_FATAL(amdvi_model_translate(t.m, RID, 0x100000, true, &pa, &f) == 0 &&
				pa == buf.iova);
		CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
		CU_ASSERT(((uint8_t *)buf.va)[0] == 0x5a);
		CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == -EFAULT);
		uenv_dma_free(&buf);
	}
	drain_all();
	scenario_down(&t);
}

struct dec {
	char names[16][24];
	unsigned int n, ids, statuses, features;
	uint64_t hats, cmdbufen, evtrun;
};

static void dec_cb(void *arg, const struct uiommu_reg_view *r)
{
	struct dec *d = arg;

	if (d->n < 16)
		snprintf(d->names[d->n], sizeof(d->names[0]), "%s", r->name);
	d->n++;
	d->ids += r->kind == UIOMMU_REG_ID;
	d->statuses += r->kind == UIOMMU_REG_STATUS;
	d->features += r->kind == UIOMMU_REG_FEATURE;
	for (uint32_t i = 0; i < r->nr_fields; i++) {
		if (!strcmp(r->fields[i].name, "HATS"))
			d->hats = r->fields[i].value;
		if (!strcmp(r->fields[i].name, "CmdBufEn"))
			d->cmdbufen = r->fields[i].value;
		if (!strcmp(r->fields[i].name, "EventLogRun"))
			d->evtrun = r->fields[i].value;
	}
}

static void test_decode(void)
{
	struct tenv t;
	struct uiommu_hw_info hi;

	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT(uiommu_unit_hw_info(t.unit, &hi) == 0);
	CU_ASSERT(hi.family == UIOMMU_FAMILY_AMDVI);
	CU_ASSERT(hi.u.amdvi.efr & AMDVI_EFR_IA_SUP);
	CU_ASSERT(hi.u.amdvi.control & AMDVI_CTRL_IOMMU_EN);
	CU_ASSERT((hi.u.amdvi.devtab & AMDVI_BASE_ADDR) == t.au->devtab.iova);
	CU_ASSERT(FIELD_GET(AMDVI_DEVTAB_SIZE, hi.u.amdvi.devtab) == 0x1ff);
	CU_ASSERT(hi.u.amdvi.levels == 4);
	/* Decoded for tools: EFR, EFR2, Control, the four bases, the depth. */
	struct dec d = {0};
	struct uiommu_unit_peek pk = {.info = hi, .status = AMDVI_STS_CMD_RUN | AMDVI_STS_EVT_RUN};

	CU_ASSERT(uiommu_hw_info_decode(&hi, dec_cb, &d) == 0);
	CU_ASSERT(d.ids == 7 && d.statuses == 0 && d.features == 1);
	CU_ASSERT(!strcmp(d.names[0], "EFR") && !strcmp(d.names[2], "Control") &&
		  !strcmp(d.names[6], "PPRLogBase") && !strcmp(d.names[7], "v1-4level"));
	CU_ASSERT(d.hats == 2 && d.cmdbufen == 1);
	memset(&d, 0, sizeof(d));
	CU_ASSERT(uiommu_unit_peek_decode(&pk, dec_cb, &d) == 0);
	CU_ASSERT(d.ids == 7 && d.statuses == 1 && d.features == 0 && d.evtrun == 1);
	CU_ASSERT(!strcmp(d.names[7], "Status"));
	scenario_down(&t);
}

/* Nesting (gt=1): a guest GCR3 table and x86-64 guest tables, addressed
 * by GPA = IOVA of the nest parent, over the parent's v1 table. */
static void test_nested_v2(void)
{
	struct tenv t;
	struct uiommu_hwpt *parent = NULL, *nested = NULL;
	struct uiommu_viommu *vi = NULL;
	struct uiommu_unit_caps caps;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	struct uenv_dma gm;
	const uint64_t G = 0x1000000; /* GPA of the guest memory */
	uint64_t *pg, gi = G;
	uint8_t v = 0x6b;
	uint32_t done = 0;

	CU_ASSERT_FATAL(unit_up(&t, "gt=1", 0) == 0);
	uiommu_unit_get_caps(t.unit, &caps);
	CU_ASSERT(caps.nesting);
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &vi) == 0);
	/* Guest memory: 16 pages mapped at GPA G.  Page 0 GCR3 table, 1-4
	 * the guest's L4..L1, 8.. data. */
	CU_ASSERT_FATAL(uenv_dma_alloc(16 * 4096, 4096, -1, &gm) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map_va(t.ioas, &gi, gm.va, 16 * 4096,
					   UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
						   UIOMMU_MAP_FIXED_IOVA) == 0);
	pg = gm.va;
#define PAGE(i) (pg + (i)*512)
	PAGE(0)[5] = (G + 1 * 4096) | AMDVI_GCR3_V; /* PASID 5 -> guest CR3 */
	PAGE(1)[0] = (G + 2 * 4096) | 3;
	PAGE(2)[0] = (G + 3 * 4096) | 3;
	PAGE(3)[0] = (G + 4 * 4096) | 3;
	PAGE(4)[7] = (G + 8 * 4096) | 3; /* guest VA 0x7000 -> page 8 */
	PAGE(4)[9] = (G + 9 * 4096) | 1; /* guest VA 0x9000 -> page 9, read-only */
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_AMDVI};

	s1.u.amdvi.gcr3 = G;
	s1.u.amdvi.glx = 2; /* beyond EFR.GLXSup */
	CU_ASSERT(uiommu_hwpt_alloc_nested(vi, &s1, &nested) == -EINVAL);
	s1.u.amdvi.glx = 0;
	s1.u.amdvi.gcr3 = G | 0x800;
	CU_ASSERT(uiommu_hwpt_alloc_nested(vi, &s1, &nested) == -EINVAL);
	s1.u.amdvi.gcr3 = G;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(vi, &s1, &nested) == 0);
	CU_ASSERT_FATAL(
		uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(nested), NULL) == 0);
	CU_ASSERT(((struct amdvi_dev *)t.dev->priv)->nested);
	{
		struct uiommu_walk_level cl[4];

		CU_ASSERT(uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0, cl, 4) >= 1);
		CU_ASSERT(strstr(cl[0].text, "GV GLX=0 GCR3=0x1000000") &&
			  strstr(cl[0].text, "guest GCR3 over v1"));
		CU_ASSERT_FATAL(uiommu_device_ctx_walk(t.dev, 5, 0, cl, 4) == 2);
		CU_ASSERT(strstr(cl[1].text,
				 "PASID 5: in the guest's GCR3 table at GPA 0x1000000") != NULL);
	}
	/* PASID 5 translates through both levels. */
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)PAGE(8))[0x10] == 0x6b);
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x9000, &v, 1, true, &f) == -EFAULT); /* guest RO */
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x9000, &v, 1, false, &f) == 0);
	CU_ASSERT(amdvi_model_dma(t.m, RID, 6, 0x7010, &v, 1, true, &f) == -EFAULT); /* no CR3 */
	/* Without a PASID: the parent's table (GPA = IOVA). */
	CU_ASSERT(amdvi_model_dma(t.m, RID, AMDVI_MODEL_NO_PASID, G + 8 * 4096 + 0x10, &v, 1, false,
				  &f) == 0 &&
		  v == 0x6b);
	/* The guest unmaps a page: stale until the user invalidation. */
	amdvi_model_reset_stale(t.m);
	PAGE(4)[7] = 0;
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == 0);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb > 0);
	struct uiommu_inv_entry inv = {.type = UIOMMU_INV_S1_RANGE,
				       .pasid = 5,
				       .addr = 0x7000,
				       .len = 4096,
				       .flags = UIOMMU_INV_F_LEAF};

	CU_ASSERT(uiommu_cache_invalidate(vi, nested, &inv, 1, &done) == 0 && done == 1);
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == -EFAULT);
	/* vIOMMU-wide S1_ALL reaches the nested DomainID too. */
	PAGE(4)[7] = (G + 8 * 4096) | 3;
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == 0);
	PAGE(4)[7] = 0;
	inv = (struct uiommu_inv_entry){.type = UIOMMU_INV_S1_ALL};
	CU_ASSERT(uiommu_cache_invalidate(vi, NULL, &inv, 1, &done) == 0 && done == 1);
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == -EFAULT);
	/* CFG: the DTE; a device of another unit is refused. */
	inv = (struct uiommu_inv_entry){.type = UIOMMU_INV_CFG, .dev_id = uiommu_device_id(t.dev)};
	CU_ASSERT(uiommu_cache_invalidate(vi, nested, &inv, 1, &done) == 0 && done == 1);
	inv.dev_id = 0xfffff;
	CU_ASSERT(uiommu_cache_invalidate(vi, nested, &inv, 1, &done) == -EINVAL && done == 0);
	/* A host (parent) unmap is flushed under the nested DomainID: the
	 * guest translation that went through it goes. */
	PAGE(4)[7] = (G + 8 * 4096) | 3;
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == 0);
	amdvi_model_reset_stale(t.m);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, G, 16 * 4096, NULL) == 0);
	CU_ASSERT(amdvi_model_dma(t.m, RID, 5, 0x7010, &v, 1, true, &f) == -EFAULT);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb == 0);
	drain_all();
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(nested) == 0);
	CU_ASSERT(uiommu_viommu_destroy(vi) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	uenv_dma_free(&gm);
#undef PAGE
	scenario_down(&t);
	/* GIoV needs EFR.GIoSup: refused where the unit lacks it. */
	CU_ASSERT_FATAL(unit_up(&t, "gt=1,giosup=0", 0) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &vi) == 0);
	s1.u.amdvi.gcr3 = G;
	s1.u.amdvi.giov = 1;
	CU_ASSERT(uiommu_hwpt_alloc_nested(vi, &s1, &nested) == -EINVAL);
	s1.u.amdvi.giov = 0;
	CU_ASSERT(uiommu_hwpt_alloc_nested(vi, &s1, &nested) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(nested) == 0);
	CU_ASSERT(uiommu_viommu_destroy(vi) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	scenario_down(&t);
	/* Without GTSup: no nest parent. */
	CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) ==
		  -EOPNOTSUPP);
	scenario_down(&t);
}

/* ---- DTE store order: what a walk between two stores could see ----
 * The driver writes a DTE one 64-bit word at a time, words 3..1 then 0,
 * and the unit is told (INVALIDATE_DEVTAB_ENTRY) at each CMD_TAIL write.
 * Snapshots at each tail write give the entries the unit was shown; a
 * walk between two of them (P then Q) can see Q's words 1..3 under P's
 * word 0.  With GV set, such a mix must name P's or Q's GCR3 table,
 * never a third one. */
#define SNAP_MAX 16
static struct {
	const struct uiommu_model_io *inner;
	const uint64_t *dte;
	uint64_t snap[SNAP_MAX][2];
	unsigned int n;
} dsnap;

static uint64_t snap_read(void *m, uint32_t off, unsigned int size)
{
	return dsnap.inner->read(m, off, size);
}

static void snap_write(void *m, uint32_t off, uint64_t val, unsigned int size)
{
	if (off == AMDVI_REG_CMD_TAIL && dsnap.n < SNAP_MAX) {
		dsnap.snap[dsnap.n][0] = dsnap.dte[0];
		dsnap.snap[dsnap.n][1] = dsnap.dte[1];
		dsnap.n++;
	}
	dsnap.inner->write(m, off, val, size);
}

static const struct uiommu_model_io snap_io = {.read = snap_read, .write = snap_write};

/* Every mix a walk could see between consecutive snapshots is coherent. */
static bool snaps_coherent(void)
{
	for (unsigned int i = 1; i < dsnap.n; i++) {
		const uint64_t *p = dsnap.snap[i - 1], *q = dsnap.snap[i];
		uint64_t mix[2] = {p[0], q[1]};

		if (!(mix[0] & AMDVI_DTE0_GV))
			continue;
		if (amdvi_dte_gcr3(mix) != amdvi_dte_gcr3(p) &&
		    amdvi_dte_gcr3(mix) != amdvi_dte_gcr3(q))
			return false;
	}
	return true;
}

static void test_dte_gv_replace(void)
{
	struct tenv t;
	struct uiommu_hwpt *parent = NULL, *na = NULL, *nb = NULL;
	struct uiommu_viommu *vi = NULL;
	struct uiommu_regio *rio;
	const uint64_t G = 0x1000000;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_AMDVI};

	CU_ASSERT_FATAL(unit_up(&t, "gt=1", 0) == 0);
	CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &vi) == 0);
	/* Two GCR3 tables that differ in the bits of word 0 and of word 1. */
	s1.u.amdvi.gcr3 = G;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(vi, &s1, &na) == 0);
	s1.u.amdvi.gcr3 = G + 9 * 4096;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(vi, &s1, &nb) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(na), NULL) ==
			0);

	rio = unit_regs(t.unit);
	memset(&dsnap, 0, sizeof(dsnap));
	dsnap.inner = rio->model;
	dsnap.dte = (const uint64_t *)((const uint8_t *)t.au->devtab.va + RID * AMDVI_DTE_SIZE);
	dsnap.snap[0][0] = dsnap.dte[0];
	dsnap.snap[0][1] = dsnap.dte[1];
	dsnap.n = 1;
	rio->model = &snap_io;
	/* GCR3 A -> GCR3 B, then B -> the plain parent (GV off), then back. */
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(nb), NULL) == 0);
	CU_ASSERT(amdvi_dte_gcr3(dsnap.dte) == G + 9 * 4096);
	CU_ASSERT(snaps_coherent());
	dsnap.snap[0][0] = dsnap.dte[0];
	dsnap.snap[0][1] = dsnap.dte[1];
	dsnap.n = 1;
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(parent), NULL) == 0);
	CU_ASSERT(!(dsnap.dte[0] & AMDVI_DTE0_GV));
	CU_ASSERT(snaps_coherent());
	dsnap.n = 1;
	dsnap.snap[0][0] = dsnap.dte[0];
	dsnap.snap[0][1] = dsnap.dte[1];
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(na), NULL) == 0);
	CU_ASSERT(snaps_coherent());
	rio->model = dsnap.inner;

	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(na) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(nb) == 0);
	CU_ASSERT(uiommu_viommu_destroy(vi) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	scenario_down(&t);
}

/* User invalidations stay inside their vIOMMU and reach all of it: a
 * vIOMMU-wide S1_ALL invalidates each of its nested DomainIDs (here 40,
 * more than any fixed list) and none of another vIOMMU's; a device nested
 * under another vIOMMU cannot be named. */
static void test_inv_scope(void)
{
	enum { NDEV = 40 };
	struct tenv t;
	struct uiommu_hwpt *parent = NULL, *nested[NDEV + 1];
	struct uiommu_viommu *va = NULL, *vb = NULL;
	struct uiommu_device *devs[NDEV + 1];
	struct amdvi_model_fault f;
	struct uenv_dma gm;
	const uint64_t G = 0x1000000;
	uint64_t *pg, gi = G, before;
	uint8_t v = 0x33;
	uint32_t done = 0;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_AMDVI};
	struct uiommu_inv_entry inv = {.type = UIOMMU_INV_S1_ALL};

	CU_ASSERT_FATAL(unit_up(&t, "gt=1", 0) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &va) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &vb) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(16 * 4096, 4096, -1, &gm) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map_va(t.ioas, &gi, gm.va, 16 * 4096,
					   UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
						   UIOMMU_MAP_FIXED_IOVA) == 0);
	pg = gm.va;
	pg[0 * 512 + 5] = (G + 1 * 4096) | AMDVI_GCR3_V;
	pg[1 * 512 + 0] = (G + 2 * 4096) | 3;
	pg[2 * 512 + 0] = (G + 3 * 4096) | 3;
	pg[3 * 512 + 0] = (G + 4 * 4096) | 3;
	pg[4 * 512 + 7] = (G + 8 * 4096) | 3;
	s1.u.amdvi.gcr3 = G;
	/* NDEV devices under vIOMMU A, one under B, each its own DomainID. */
	for (unsigned int i = 0; i <= NDEV; i++) {
		CU_ASSERT_FATAL(dev_add(&t, (uint16_t)(0x100 + i), 0x100 + i, false, &devs[i]) ==
				0);
		CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(i < NDEV ? va : vb, &s1, &nested[i]) == 0);
		CU_ASSERT_FATAL(uiommu_device_attach(devs[i], UIOMMU_NO_PASID,
						     uiommu_hwpt_id(nested[i]), NULL) == 0);
	}
	/* The last device of A caches the guest translation; the guest
	 * unmaps it; A's vIOMMU-wide S1_ALL must reach that DomainID. */
	CU_ASSERT(amdvi_model_dma(t.m, 0x100 + NDEV - 1, 5, 0x7010, &v, 1, true, &f) == 0);
	pg[4 * 512 + 7] = 0;
	before = t.au->stats.inv_pages;
	CU_ASSERT(uiommu_cache_invalidate(va, NULL, &inv, 1, &done) == 0 && done == 1);
	CU_ASSERT(t.au->stats.inv_pages - before == NDEV); /* A's only, each once */
	CU_ASSERT(amdvi_model_dma(t.m, 0x100 + NDEV - 1, 5, 0x7010, &v, 1, true, &f) == -EFAULT);
	/* A cannot name B's device; B can. */
	inv = (struct uiommu_inv_entry){.type = UIOMMU_INV_CFG,
					.dev_id = uiommu_device_id(devs[NDEV])};
	CU_ASSERT(uiommu_cache_invalidate(va, NULL, &inv, 1, &done) == -EINVAL && done == 0);
	CU_ASSERT(uiommu_cache_invalidate(vb, NULL, &inv, 1, &done) == 0 && done == 1);
	inv.type = UIOMMU_INV_DEV_TLB;
	CU_ASSERT(uiommu_cache_invalidate(va, nested[0], &inv, 1, &done) == -EINVAL && done == 0);
	drain_all();
	for (unsigned int i = 0; i <= NDEV; i++) {
		CU_ASSERT(uiommu_device_detach(devs[i], UIOMMU_NO_PASID) == 0);
		CU_ASSERT(uiommu_device_remove(devs[i]) == 0);
		CU_ASSERT(uiommu_hwpt_destroy(nested[i]) == 0);
	}
	CU_ASSERT(uiommu_viommu_destroy(va) == 0);
	CU_ASSERT(uiommu_viommu_destroy(vb) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	uenv_dma_free(&gm);
	scenario_down(&t);
}

/* One v1 table installed on two units, under a DomainID on each: both
 * translate through it, an unmap is flushed on both. */
static void test_two_units_one_table(void)
{
	struct tenv t, t2;
	struct uiommu_device *d2;
	struct amdvi_model_fault f;
	struct amdvi_model_stats s1, s2;
	struct uiommu_hwpt_info hi;
	uint32_t h1 = 0, h2 = 0;
	uint8_t v = 0x11;

	scenario_up(&t, NULL, 0);
	CU_ASSERT_FATAL(unit_up(&t2, NULL, 0) == 0);
	CU_ASSERT_FATAL(dev_add(&t2, RID, RID, false, &d2) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), &h2) ==
			0);
	h1 = uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID);
	CU_ASSERT(h1 == h2); /* the same table */
	CU_ASSERT(uiommu_hwpt_get_info(uiommu_hwpt_get(ctx, h1), &hi) == 0 && hi.nr_units == 2);
	CU_ASSERT(map(&t, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == 0);
	CU_ASSERT(amdvi_model_dma(t2.m, RID, AMDVI_MODEL_NO_PASID, 0x100001, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[1] == 0x11);
	amdvi_model_reset_stale(t.m);
	amdvi_model_reset_stale(t2.m);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4096, NULL) == 0);
	CU_ASSERT(dma(&t, RID, 0x100000, &v, 1, true, &f) == -EFAULT);
	CU_ASSERT(amdvi_model_dma(t2.m, RID, AMDVI_MODEL_NO_PASID, 0x100000, &v, 1, true, &f) ==
		  -EFAULT);
	amdvi_model_get_stats(t.m, &s1);
	amdvi_model_get_stats(t2.m, &s2);
	CU_ASSERT(s1.stale_iotlb == 0 && s2.stale_iotlb == 0);
	drain_all();
	CU_ASSERT(uiommu_device_detach(d2, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(d2) == 0);
	CU_ASSERT(uiommu_unit_remove(t2.unit) == 0);
	scenario_down(&t);
}

/* ------------------------------------------------------------ fail-nth */

/* Every allocation of unit_add fails in turn: -ENOMEM, nothing leaks. */
static void test_failnth_unit_add(void)
{
	unsigned long nth;
	unsigned int fails = 0;

	for (nth = 1; nth < 200; nth++) {
		struct tenv t;
		struct uenv_stats before, after;
		bool fired;
		int rc;

		uenv_get_stats(&before);
		uenv_fail_nth(nth);
		rc = unit_up(&t, NULL, 0);
		fired = uenv_fail_fired();
		uenv_fail_nth(0);
		if (rc == 0) {
			scenario_down(&t);
			if (!fired)
				break;
			continue;
		}
		fails++;
		CU_ASSERT(rc == -ENOMEM);
		uenv_get_stats(&after);
		CU_ASSERT(after.heap_live == before.heap_live);
		CU_ASSERT(after.pages_live == before.pages_live);
		CU_ASSERT(after.dma_live == before.dma_live);
	}
	printf("\n    %u injected failures, success at N=%lu ", fails, nth);
	CU_ASSERT(fails > 0 && nth < 200);
}

/* Every allocation of attach (+ its first map) fails in turn: the device
 * stays blocked, nothing leaks, a retry works. */
static void test_failnth_attach(void)
{
	unsigned long nth;
	unsigned int fails = 0;

	for (nth = 1; nth < 500; nth++) {
		struct tenv t;
		struct uenv_stats before, after;
		struct amdvi_model_fault f;
		uint8_t v = 9;
		bool fired;
		int rc;

		CU_ASSERT_FATAL(unit_up(&t, NULL, 0) == 0);
		CU_ASSERT_FATAL(dev_add(&t, RID, RID, false, &t.dev) == 0);
		CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
		CU_ASSERT_FATAL(uenv_dma_alloc(BUF_SIZE, 2u << 20, -1, &t.buf) == 0);
		CU_ASSERT_FATAL(map(&t, 0x200000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) ==
				0);
		uenv_get_stats(&before);
		uenv_fail_nth(nth);
		rc = uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL);
		fired = uenv_fail_fired();
		uenv_fail_nth(0);
		if (rc == 0) {
			CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == 0);
			scenario_down(&t);
			if (!fired)
				break;
			continue;
		}
		fails++;
		CU_ASSERT(rc == -ENOMEM);
		uenv_get_stats(&after);
		CU_ASSERT(after.heap_live == before.heap_live);
		CU_ASSERT(after.pages_live == before.pages_live);
		CU_ASSERT(after.dma_live == before.dma_live);
		CU_ASSERT(uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID) == 0);
		CU_ASSERT(!((struct amdvi_dev *)t.dev->priv)->translating);
		CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == -EFAULT);
		drain_all();
		CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas),
					       NULL) == 0);
		CU_ASSERT(dma(&t, RID, 0x200000, &v, 1, true, &f) == 0);
		scenario_down(&t);
	}
	printf("\n    %u injected failures, success at N=%lu ", fails, nth);
	CU_ASSERT(fails > 0 && nth < 500);
}

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define SLOTS 64u /* 64 x 64 KiB of IOVA; buffer offsets shifted per slot */

/* Map/unmap/DMA at random against a reference of what is mapped; every
 * DMA must succeed exactly when mapped and land where mapped; no cache
 * hit may be stale. */
/* @big: 2 MiB slots where half the maps are one 2 MiB page (tables are
 * replaced by large leaves and back: PDE invalidations). */
static void random_run(const char *cfg, unsigned int levels, unsigned long ops, bool big)
{
	struct tenv t;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t map_off[SLOTS], map_len[SLOTS];
	bool mapped[SLOTS] = {false}, ro[SLOTS] = {false};
	unsigned long nmap = 0, nunmap = 0, ndma = 0, nfault = 0;
	const uint64_t base = 0x40000000;

	scenario_up(&t, cfg, levels);
	amdvi_model_reset_stale(t.m);
	for (unsigned long i = 0; i < ops; i++) {
		unsigned int s = (unsigned int)(rnd() % (big ? 8 : SLOTS)),
			     what = (unsigned int)(rnd() % 3);
		uint64_t iova = base + (uint64_t)s * (big ? (2u << 20) : 0x10000);

		if (what == 0 && !mapped[s]) {
			if (big && (rnd() & 1)) {
				map_len[s] = 2u << 20;
				map_off[s] = (rnd() & 1) * (2u << 20);
			} else {
				map_len[s] = 4096u * (1 + rnd() % 16);
				map_off[s] = (rnd() % (BUF_SIZE / 4096 - 16)) * 4096;
			}
			ro[s] = rnd() & 1;
			CU_ASSERT_FATAL(map(&t, iova, map_off[s], map_len[s],
					    UIOMMU_MAP_READ | (ro[s] ? 0 : UIOMMU_MAP_WRITE)) == 0);
			mapped[s] = true;
			nmap++;
		} else if (what == 1 && mapped[s]) {
			CU_ASSERT_FATAL(uiommu_ioas_unmap(t.ioas, iova, map_len[s], NULL) == 0);
			mapped[s] = false;
			nunmap++;
		} else {
			/* Mostly inside the mapping, sometimes anywhere. */
			uint64_t off = mapped[s] && (rnd() & 3)
					       ? rnd() % (map_len[s] - 64)
					       : (rnd() % (big ? 512 : 16)) * 4096 + (rnd() % 4000);
			bool wr = rnd() & 1,
			     ok = mapped[s] && off + 64 <= map_len[s] && !(wr && ro[s]);
			uint8_t pat[64], got[64];
			int rc;

			memset(pat, (int)(i & 0xff), sizeof(pat));
			rc = dma(&t, RID, iova + off, wr ? pat : got, 64, wr, &f);
			ndma++;
			CU_ASSERT(rc == (ok ? 0 : -EFAULT));
			if (rc)
				nfault++;
			if (rc == 0 && wr)
				CU_ASSERT(memcmp((uint8_t *)t.buf.va + map_off[s] + off, pat, 64) ==
					  0);
			if (rc == 0 && !wr)
				CU_ASSERT(memcmp((uint8_t *)t.buf.va + map_off[s] + off, got, 64) ==
					  0);
		}
		if ((i & 127) == 0)
			drain_all();
	}
	drain_all();
	amdvi_model_get_stats(t.m, &st);
	printf("\n    %s/%u%s: %lu maps, %lu unmaps, %lu DMAs (%lu faulting), %" PRIu64
	       " waits, %" PRIu64 " IOTLB hits, %" PRIu64 " PDE hits, stale %" PRIu64 "/%" PRIu64
	       "/%" PRIu64 " ",
	       cfg ? cfg : "default", levels ? levels : 4, big ? " 2M" : "", nmap, nunmap, ndma,
	       nfault, t.au->stats.waits, st.iotlb_hit, st.pdec_hit, st.stale_iotlb, st.stale_dte,
	       st.stale_pde);
	CU_ASSERT(st.stale_iotlb == 0);
	CU_ASSERT(st.stale_dte == 0);
	CU_ASSERT(st.stale_pde == 0);
	CU_ASSERT(st.iotlb_hit > 0 && st.pdec_hit > 0);
	scenario_down(&t);
}

static void test_random(void)
{
	const char *seed = getenv("AMDVI_UT_SEED"), *ops_s = getenv("AMDVI_UT_OPS");
	unsigned long ops = ops_s ? strtoul(ops_s, NULL, 0) : 20000;

	rng_state = seed ? strtoull(seed, NULL, 0) : 0x2545f4914f6cdd1dull;
	printf("\n    seed 0x%" PRIx64, rng_state);
	random_run(NULL, 0, ops / 4, false);
	random_run("iotlb=8,dtec=1", 3, ops / 4, false);
	random_run("ia=0", 6, ops / 4, false);
	random_run("pdec=4", 4, ops - 3 * (ops / 4), true);
}

static const struct ut_test drv_tests[] = {
	{"translate_4level", test_translate_4level},
	{"translate_3level_and_more", test_translate_3level},
	{"2m_pages", test_2m_pages},
	{"read_only", test_read_only},
	{"isolation", test_isolation},
	{"identity_blocked", test_identity_blocked},
	{"alias", test_alias},
	{"replace", test_replace},
	{"skipped_invalidation_detected", test_skipped_invalidation_detected},
	{"skipped_pde_detected", test_skipped_pde_detected},
	{"event_overflow", test_event_overflow},
	{"event_log_stopped", test_event_log_stopped},
	{"ppr_log_stopped", test_ppr_log_stopped},
	{"illegal_command_recovery", test_illegal_command_recovery},
	{"command_hw_error", test_wait_timeout},
	{"one_wait_per_batch", test_one_wait_per_batch},
	{"range_encoding", test_range_encoding},
	{"page_request", test_page_request},
	{"recover", test_recover},
	{"recover_inv_fails", test_recover_inv_fails},
	{"attach_wait_fails", test_attach_wait_fails},
	{"flush_ats_count", test_flush_ats_count},
	{"flush_fast_wrap", test_flush_fast_wrap},
	{"flush_fast_wait_fails", test_flush_fast_wait_fails},
	{"flush_fast_late_completion", test_flush_fast_late_completion},
	{"flush_fast_deferred", test_flush_fast_deferred},
	{"small_devtab", test_small_devtab},
	{"exclusion_range_off", test_exclusion_range_off},
	{"bad_input", test_bad_input},
	{"busy_refused", test_busy_refused},
	{"decode", test_decode},
	{"nested_v2", test_nested_v2},
	{"dte_gv_replace", test_dte_gv_replace},
	{"inv_scope", test_inv_scope},
	{"two_units_one_table", test_two_units_one_table},
	{"failnth_unit_add", test_failnth_unit_add},
	{"failnth_attach", test_failnth_attach},
	{"random", test_random},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"amdvi-drv", suite_init, suite_fini, drv_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	int rc = ut_main(suites, argc, argv);

	uiommu_ctx_destroy(ctx);
	return rc;
}
