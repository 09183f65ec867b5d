/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi: our own v2 tables (UIOMMU_HWPT_STAGE1, the engine's x86-64
 * format) through a GCR3 table per device, end to end on the built-in
 * model (gt=1): the RID on a v2 table (GCR3 slot 0 under GIoV), PASIDs
 * isolated from each other and from the RID, replace and detach, the
 * refusals (PASIDs beside a v1 RID, PASID 0, no GTSup), a v1-style flush
 * of a v2 table caught by the model as a stale hit, the one-slot flush
 * (two commands) against the batch (several slots, ATS), two GCR3 levels
 * (GLX 1), no stale translation after unmap, allocation failures that
 * change nothing (a rollback: amdvi-txn), the walk through GCR3, and a randomized map/unmap/DMA
 * differential over several PASIDs (AMDVI_UT_OPS, AMDVI_UT_SEED).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/amdvi/amdvi_internal.h"
#include "model/amdvi/amdvi_model.h"
#include "tail_drop.h"

#define RID	 0x0018u
#define RID2	 0x0020u
#define BUF_SIZE (4u << 20)
#define NPAS	 4u

static struct uiommu_ctx *ctx;

static void report_line(void *arg, const char *msg)
{
	(void)arg;
	printf("\n    check: %s", msg);
}

struct tenv {
	struct uiommu_unit *unit;
	struct amdvi_unit *au;
	struct amdvi_model *m;
	struct uiommu_device *dev, *dev2;
	struct uiommu_ioas *ioas[NPAS];
	struct uiommu_hwpt *h[NPAS]; /* STAGE1 (v2) HWPT of each IOAS */
	struct uenv_dma buf;
};

static int unit_up(struct uiommu_ctx *c, struct tenv *t, const char *cfg)
{
	struct uiommu_unit_desc d = {
		.family = UIOMMU_FAMILY_AMDVI,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
		.model_cfg = cfg,
	};
	int rc;

	memset(t, 0, sizeof(*t));
	rc = uiommu_unit_add(c, &d, &t->unit);
	if (rc)
		return rc;
	t->au = amdvi_of(t->unit);
	t->m = t->unit->model;
	return 0;
}

static int dev_add(struct tenv *t, uint16_t rid, uint32_t pasid_bits, struct uiommu_device **out)
{
	struct uiommu_device_desc dd = {
		.bus = (uint8_t)(rid >> 8),
		.devfn = (uint8_t)rid,
		.hw_id = rid,
		.pasid_bits = pasid_bits,
	};

	return uiommu_device_add(t->unit, &dd, out);
}

/* A unit with v2 support, two devices, NPAS IOASes each with a v2 HWPT. */
static void up(struct uiommu_ctx *c, struct tenv *t, const char *cfg, uint32_t pasid_bits)
{
	CU_ASSERT_FATAL(unit_up(c, t, cfg) == 0);
	CU_ASSERT_FATAL(dev_add(t, RID, pasid_bits, &t->dev) == 0);
	CU_ASSERT_FATAL(dev_add(t, RID2, pasid_bits, &t->dev2) == 0);
	for (unsigned int i = 0; i < NPAS; i++) {
		CU_ASSERT_FATAL(uiommu_ioas_alloc(c, &t->ioas[i]) == 0);
		CU_ASSERT_FATAL(
			uiommu_hwpt_alloc(t->ioas[i], t->unit, UIOMMU_HWPT_STAGE1, &t->h[i]) == 0);
	}
	CU_ASSERT_FATAL(uenv_dma_alloc(BUF_SIZE, 2u << 20, -1, &t->buf) == 0);
}

static void drain_all(struct uiommu_ctx *c)
{
	struct uiommu_event ev[32];

	while (uiommu_poll(c, ev, 32))
		;
}

static void down(struct uiommu_ctx *c, struct tenv *t)
{
	struct uiommu_device *ds[2] = {t->dev, t->dev2};

	for (unsigned int k = 0; k < 2; k++) {
		struct uiommu_attach_info at[16];
		uint32_t n;

		if (!ds[k])
			continue;
		n = uiommu_device_attachments(ds[k], at, 16);
		for (uint32_t i = 0; i < n && i < 16; i++)
			CU_ASSERT(uiommu_device_detach(ds[k], at[i].pasid) == 0);
		CU_ASSERT(uiommu_device_remove(ds[k]) == 0);
	}
	for (unsigned int i = 0; i < NPAS; i++) {
		if (t->h[i])
			CU_ASSERT(uiommu_hwpt_destroy(t->h[i]) == 0);
		if (t->ioas[i]) {
			CU_ASSERT(uiommu_ioas_unmap_all(t->ioas[i], NULL) == 0);
			CU_ASSERT(uiommu_ioas_destroy(t->ioas[i]) == 0);
		}
	}
	if (t->buf.va)
		uenv_dma_free(&t->buf);
	drain_all(c);
	CU_ASSERT(uiommu_state_check(c, report_line, NULL) == 0);
	if (t->unit)
		CU_ASSERT(uiommu_unit_remove(t->unit) == 0);
	memset(t, 0, sizeof(*t));
}

static int map(struct tenv *t, unsigned int i, uint64_t iova, uint64_t off, uint64_t len,
	       uint32_t prot)
{
	uint64_t v = iova;

	return uiommu_ioas_map_va(t->ioas[i], &v, (uint8_t *)t->buf.va + off, len,
				  prot | UIOMMU_MAP_FIXED_IOVA);
}

static int dma(struct tenv *t, uint16_t id, uint32_t pasid, uint64_t iova, void *b, size_t len,
	       bool wr)
{
	struct amdvi_model_fault f;

	return amdvi_model_dma(t->m, id, pasid == UIOMMU_NO_PASID ? AMDVI_MODEL_NO_PASID : pasid,
			       iova, b, len, wr, &f);
}

static int attach(struct uiommu_device *d, uint32_t pasid, const struct uiommu_hwpt *h)
{
	return uiommu_device_attach(d, pasid, uiommu_hwpt_id(h), NULL);
}

static const uint64_t *dte(struct tenv *t, uint16_t id)
{
	return (const uint64_t *)((uint8_t *)t->au->devtab.va + (size_t)id * AMDVI_DTE_SIZE);
}

static void no_stale(struct tenv *t)
{
	struct amdvi_model_stats st;

	amdvi_model_get_stats(t->m, &st);
	CU_ASSERT(st.stale_iotlb == 0 && st.stale_dte == 0 && st.stale_pde == 0);
}

/* ------------------------------------------------------------------ */

static void test_caps(void)
{
	struct tenv t;
	struct uiommu_hwpt *h;
	struct uiommu_ioas *a;
	struct uiommu_unit_caps c;

	/* Without GTSup: no stage 1, no PASIDs. */
	CU_ASSERT_FATAL(unit_up(ctx, &t, NULL) == 0);
	uiommu_unit_get_caps(t.unit, &c);
	CU_ASSERT(!c.stage1 && c.pasid_bits == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &a) == 0);
	CU_ASSERT(uiommu_hwpt_alloc(a, t.unit, UIOMMU_HWPT_STAGE1, &h) == -EOPNOTSUPP);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
	/* GTSup without GIoSup: a blocked RID beside PASIDs could not fault. */
	CU_ASSERT_FATAL(unit_up(ctx, &t, "gt=1,giosup=0") == 0);
	uiommu_unit_get_caps(t.unit, &c);
	CU_ASSERT(!c.stage1 && c.pasid_bits == 0 && c.nesting);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
	/* PASMax 15 with GLX 1: 16 bits; PASMax 4: 5 bits. */
	CU_ASSERT_FATAL(unit_up(ctx, &t, "gt=1") == 0);
	uiommu_unit_get_caps(t.unit, &c);
	CU_ASSERT(c.stage1 && c.pasid_bits == 16);
	CU_ASSERT(uiommu_hwpt_alloc(a, t.unit, UIOMMU_HWPT_STAGE1, &h) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(h) == 0);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
	CU_ASSERT_FATAL(unit_up(ctx, &t, "gt=1,pasmax=4") == 0);
	uiommu_unit_get_caps(t.unit, &c);
	CU_ASSERT(c.pasid_bits == 5);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
	CU_ASSERT(uiommu_ioas_destroy(a) == 0);
}

/* The RID on a v2 table: GCR3 slot 0 under GIoV, Mode 0. */
static void test_rid_v2(void)
{
	struct tenv t;
	uint8_t src[256], dst[256];
	const uint64_t *d;

	up(ctx, &t, "gt=1", 0);
	CU_ASSERT(map(&t, 0, 0x10000000, 0, 0x4000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(map(&t, 0, 0x20000000, 2u << 20, 2u << 20, UIOMMU_MAP_READ) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10000000, src, 16, true) == -EFAULT);
	drain_all(ctx);
	CU_ASSERT_FATAL(attach(t.dev, UIOMMU_NO_PASID, t.h[0]) == 0);
	d = dte(&t, RID);
	CU_ASSERT((d[0] & AMDVI_DTE0_GV) && (d[0] & AMDVI_DTE0_GIOV));
	CU_ASSERT(FIELD_GET(AMDVI_DTE0_MODE, d[0]) == AMDVI_MODE_NONE);
	CU_ASSERT(FIELD_GET(AMDVI_DTE1_DOMID, d[1]) != uiommu_hwpt_id(t.h[0]));
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 3 + 1);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10003000 + 100, src, sizeof(src), true) == 0);
	CU_ASSERT(memcmp((uint8_t *)t.buf.va + 0x3000 + 100, src, sizeof(src)) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10003000 + 100, dst, sizeof(dst), false) == 0);
	CU_ASSERT(memcmp(dst, src, sizeof(src)) == 0);
	/* A 2 MiB leaf, read-only. */
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x20000000 + 0x12345, dst, 8, false) == 0);
	CU_ASSERT(memcmp(dst, (uint8_t *)t.buf.va + (2u << 20) + 0x12345, 8) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x20000000, src, 8, true) == -EFAULT);
	/* The other device is blocked. */
	CU_ASSERT(dma(&t, RID2, UIOMMU_NO_PASID, 0x10000000, dst, 8, false) == -EFAULT);
	/* Unmap: the cached translation goes (strict). */
	CU_ASSERT(uiommu_ioas_unmap(t.ioas[0], 0x10000000, 0x4000, NULL) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10003000 + 100, dst, 8, false) == -EFAULT);
	no_stale(&t);
	/* A RID on a v2 table takes no PASID 0 of its own. */
	CU_ASSERT(attach(t.dev, 0, t.h[1]) == -EINVAL);
	/* Replace by a v1 table (the IOAS's automatic HWPT) and back. */
	CU_ASSERT(map(&t, 1, 0x10000000, 0x8000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas[1]), NULL) ==
		  0);
	CU_ASSERT(!(dte(&t, RID)[0] & AMDVI_DTE0_GV));
	CU_ASSERT(t.au->devs.next && ((struct amdvi_dev *)t.dev->priv)->g == NULL);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10000000, src, 8, true) == 0);
	CU_ASSERT(memcmp((uint8_t *)t.buf.va + 0x8000, src, 8) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x20000000, dst, 8, false) == -EFAULT);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(t.h[0]), NULL) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x20000000, dst, 8, false) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x10000000, dst, 8, false) == -EFAULT);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	no_stale(&t);
	down(ctx, &t);
}

/* PASIDs: each its own table, the RID apart; replace, detach. */
static void test_pasids(void)
{
	struct tenv t;
	uint8_t v = 0x5a, r;
	struct uiommu_event ev[8];
	uint16_t n;

	up(ctx, &t, "gt=1", 8);
	/* The same IOVA in each IOAS, different memory. */
	for (unsigned int i = 0; i < NPAS; i++)
		CU_ASSERT(map(&t, i, 0x40000000, (uint64_t)i * 0x10000, 0x1000,
			      UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(attach(t.dev, 1, t.h[1]) == 0);
	CU_ASSERT(attach(t.dev, 2, t.h[2]) == 0);
	CU_ASSERT(attach(t.dev2, 1, t.h[3]) == 0);
	/* PASID 0, beyond the device's 8 bits, a v1 table: refused. */
	CU_ASSERT(attach(t.dev, 0, t.h[0]) == -EINVAL);
	CU_ASSERT(attach(t.dev, 256, t.h[0]) == -EINVAL);
	{
		/* A PASID on a v1 table: refused; through an IOAS: its v2 HWPT. */
		struct uiommu_hwpt *v1;

		CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas[0], t.unit, 0, &v1) == 0);
		CU_ASSERT(attach(t.dev, 3, v1) == -EOPNOTSUPP);
		CU_ASSERT(uiommu_hwpt_destroy(v1) == 0);
		CU_ASSERT(uiommu_device_attach(t.dev, 3, uiommu_ioas_id(t.ioas[0]), NULL) == 0);
		CU_ASSERT(uiommu_device_attached_hwpt(t.dev, 3) == uiommu_hwpt_id(t.h[0]));
		CU_ASSERT(dma(&t, RID, 3, 0x40000000 + 8, &r, 1, false) == 0);
		CU_ASSERT(uiommu_device_detach(t.dev, 3) == 0);
	}
	CU_ASSERT(uiommu_device_attach(t.dev, 3, UIOMMU_PT_IDENTITY, NULL) != 0);
	/* A blocked RID beside PASIDs: GV, GIoV, slot 0 empty. */
	CU_ASSERT((dte(&t, RID)[0] & AMDVI_DTE0_GV) && (dte(&t, RID)[0] & AMDVI_DTE0_GIOV));
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == -EFAULT);
	n = uiommu_poll(ctx, ev, 8);
	CU_ASSERT(n == 1 && ev[0].reason == AMDVI_EV_IO_PAGE_FAULT);
	for (uint32_t p = 1; p <= 2; p++) {
		CU_ASSERT(dma(&t, RID, p, 0x40000000 + 8, &v, 1, true) == 0);
		CU_ASSERT(((uint8_t *)t.buf.va)[p * 0x10000 + 8] == 0x5a);
	}
	CU_ASSERT(dma(&t, RID2, 1, 0x40000000 + 9, &v, 1, true) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[3 * 0x10000 + 9] == 0x5a);
	/* Device 2's PASID 1 is not device 1's: no byte moved into IOAS 1 at 9. */
	CU_ASSERT(((uint8_t *)t.buf.va)[1 * 0x10000 + 9] == 0);
	CU_ASSERT(dma(&t, RID, 3, 0x40000000, &r, 1, false) == -EFAULT);
	CU_ASSERT(dma(&t, RID2, 2, 0x40000000, &r, 1, false) == -EFAULT);
	n = uiommu_poll(ctx, ev, 8);
	CU_ASSERT(n == 2);
	if (n >= 1)
		CU_ASSERT(ev[0].pasid == 3);
	/* Unmap in IOAS 1: PASID 1 faults at once, PASID 2 still works. */
	CU_ASSERT(uiommu_ioas_unmap(t.ioas[1], 0x40000000, 0x1000, NULL) == 0);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000 + 8, &r, 1, false) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 8, &r, 1, false) == 0 && r == 0x5a);
	no_stale(&t);
	/* Replace PASID 2's table by IOAS 0's. */
	CU_ASSERT(uiommu_device_replace(t.dev, 2, uiommu_hwpt_id(t.h[0]), NULL) == 0);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 7, &v, 1, true) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[7] == 0x5a && ((uint8_t *)t.buf.va)[0x20007] == 0);
	/* A v1 RID beside PASIDs: refused, nothing changes. */
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas[1]), NULL) ==
		  -EBUSY);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 7, &r, 1, false) == 0);
	/* The RID identity: it passes, the PASIDs still translate. */
	if (uiommu_device_attach(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0) {
		CU_ASSERT(!(dte(&t, RID)[0] & AMDVI_DTE0_GIOV));
		CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, t.buf.iova + 0x30000, &v, 1, true) == 0);
		CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 7, &r, 1, false) == 0);
		/* ... and a PASID beside an identity RID attaches too. */
		CU_ASSERT(attach(t.dev, 5, t.h[3]) == 0);
		CU_ASSERT(dma(&t, RID, 5, 0x40000000 + 9, &r, 1, false) == 0 && r == 0x5a);
		CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
		CU_ASSERT(!!(dte(&t, RID)[0] & AMDVI_DTE0_GIOV));
		CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == -EFAULT);
		CU_ASSERT(uiommu_device_detach(t.dev, 5) == 0);
	} else {
		CU_FAIL("identity attach beside PASIDs");
	}
	/* The RID on a v2 table beside the PASIDs. */
	CU_ASSERT(attach(t.dev, UIOMMU_NO_PASID, t.h[3]) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000 + 9, &r, 1, false) == 0 && r == 0x5a);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 7, &r, 1, false) == 0 && r == 0x5a);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	/* Detach: each goes alone; with the last, GV goes. */
	CU_ASSERT(uiommu_device_detach(t.dev, 2) == 0);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000 + 7, &r, 1, false) == -EFAULT);
	CU_ASSERT(uiommu_device_detach(t.dev, 1) == 0);
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(!(dte(&t, RID)[0] & AMDVI_DTE0_GV));
	CU_ASSERT(((struct amdvi_dev *)t.dev->priv)->g == NULL);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == -EFAULT);
	drain_all(ctx);
	no_stale(&t);
	down(ctx, &t);
}

/* A flush as for a v1 table (INVALIDATE_IOMMU_PAGES under the HWPT's own
 * DomainID, no GN): the unit caches a v2 translation under the device's
 * GCR3 DomainID and the PASID, so it stays -- the model catches it. */
static int flush_as_v1(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct fam_flush g[8];

	for (uint32_t i = 0; i < n && i < 8; i++) {
		g[i] = f[i];
		g[i].fmt = PGT_AMD_V1;
	}
	return amdvi_flush(u, g, n < 8 ? n : 8);
}

static void test_wrong_flush_detected(void)
{
	struct tenv t;
	struct amdvi_model_stats st;
	struct uiommu_family_ops broken = amdvi_family_ops;
	uint8_t v = 0xee;

	up(ctx, &t, "gt=1", 8);
	CU_ASSERT(map(&t, 0, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT_FATAL(attach(t.dev, 7, t.h[0]) == 0);
	CU_ASSERT(dma(&t, RID, 7, 0x100000, &v, 1, true) == 0); /* cached */
	amdvi_model_reset_stale(t.m);
	broken.flush = flush_as_v1;
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, &broken);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas[0], 0x100000, 4096, NULL) == 0);
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, NULL);
	((uint8_t *)t.buf.va)[0] = 0;
	CU_ASSERT(dma(&t, RID, 7, 0x100000, &v, 1, true) == 0); /* stale hit */
	CU_ASSERT(((uint8_t *)t.buf.va)[0] == 0xee);
	amdvi_model_get_stats(t.m, &st);
	CU_ASSERT(st.stale_iotlb >= 1);
	/* The driver's own flush: the same sequence leaves nothing stale. */
	CU_ASSERT(map(&t, 0, 0x100000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 7, 0x100000, &v, 1, true) == 0);
	amdvi_model_reset_stale(t.m);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas[0], 0x100000, 4096, NULL) == 0);
	CU_ASSERT(dma(&t, RID, 7, 0x100000, &v, 1, true) == -EFAULT);
	no_stale(&t);
	drain_all(ctx);
	down(ctx, &t);
}

/* The strict unmap of a v2 table held by one GCR3 slot: one
 * INVALIDATE_IOMMU_PAGES (GCR3 DomainID, PASID, GN) and one
 * COMPLETION_WAIT written straight into the buffer (amdvi_gcr3_sole).
 * Held by two slots (two devices, or two PASIDs of one), or by a device
 * with ATS: the batch, one command per slot (and the device IOTLB's).
 * Each leaves no stale translation; a lost tail write on the one-slot
 * path is recovered like any other wait. */
static unsigned int unmap_cmds(struct tenv *t, unsigned int i, uint64_t iova)
{
	uint64_t c0 = t->au->stats.cmds, w0 = t->au->stats.waits;

	CU_ASSERT(uiommu_ioas_unmap(t->ioas[i], iova, 0x1000, NULL) == 0);
	CU_ASSERT(t->au->stats.waits == w0 + 1);
	return (unsigned int)(t->au->stats.cmds - c0);
}

static void test_flush_one_slot(void)
{
	struct uiommu_device_desc dd = {.devfn = 0x28, .hw_id = 0x28, .pasid_bits = 8, .ats = true};
	const uint64_t iova = 0x40000000;
	struct uiommu_device *ats;
	struct tenv t;
	uint64_t iotlb;
	uint8_t r = 0x3c;
	int rc;

	up(ctx, &t, "gt=1", 8);
	CU_ASSERT_FATAL(attach(t.dev, 7, t.h[0]) == 0);
	/* One slot. */
	CU_ASSERT(map(&t, 0, iova, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == 0); /* cached */
	amdvi_model_reset_stale(t.m);
	CU_ASSERT(unmap_cmds(&t, 0, iova) == 2);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == -EFAULT);
	/* Two PASIDs of one device on the table. */
	CU_ASSERT_FATAL(attach(t.dev, 9, t.h[0]) == 0);
	CU_ASSERT(map(&t, 0, iova, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == 0);
	CU_ASSERT(dma(&t, RID, 9, iova, &r, 1, true) == 0);
	CU_ASSERT(unmap_cmds(&t, 0, iova) == 3);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 9, iova, &r, 1, true) == -EFAULT);
	CU_ASSERT(uiommu_device_detach(t.dev, 9) == 0);
	/* Two devices. */
	CU_ASSERT_FATAL(attach(t.dev2, 3, t.h[0]) == 0);
	CU_ASSERT(map(&t, 0, iova, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == 0);
	CU_ASSERT(dma(&t, RID2, 3, iova, &r, 1, true) == 0);
	CU_ASSERT(unmap_cmds(&t, 0, iova) == 3);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == -EFAULT);
	CU_ASSERT(dma(&t, RID2, 3, iova, &r, 1, true) == -EFAULT);
	/* Back to one slot: the short path again. */
	CU_ASSERT(uiommu_device_detach(t.dev2, 3) == 0);
	CU_ASSERT(map(&t, 0, iova, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(unmap_cmds(&t, 0, iova) == 2);
	/* The one slot on a device with ATS: its IOTLB too. */
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &ats) == 0);
	CU_ASSERT_FATAL(attach(ats, 4, t.h[1]) == 0);
	CU_ASSERT(map(&t, 1, iova, 0x1000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, 0x28, 4, iova, &r, 1, true) == 0);
	iotlb = t.au->stats.inv_iotlb;
	CU_ASSERT(unmap_cmds(&t, 1, iova) == 3);
	CU_ASSERT(t.au->stats.inv_iotlb == iotlb + 1);
	CU_ASSERT(dma(&t, 0x28, 4, iova, &r, 1, true) == -EFAULT);
	CU_ASSERT(uiommu_device_detach(ats, 4) == 0);
	CU_ASSERT(uiommu_device_remove(ats) == 0);
	/* A lost tail write on the one-slot path: timed out, recovered. */
	CU_ASSERT(map(&t, 0, iova, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == 0);
	t.au->timeout_ns = 20ull * 1000 * 1000;
	tail_real = unit_regs(t.unit)->model;
	unit_regs(t.unit)->model = &tail_io;
	tail_drop = 1;
	rc = uiommu_ioas_unmap(t.ioas[0], iova, 0x1000, NULL);
	unit_regs(t.unit)->model = tail_real;
	t.au->timeout_ns = AMDVI_TIMEOUT_NS;
	CU_ASSERT(rc == -ETIMEDOUT && tail_drop == 0 && !t.au->failed);
	CU_ASSERT(t.au->stats.timeouts == 1);
	CU_ASSERT(dma(&t, RID, 7, iova, &r, 1, true) == -EFAULT);
	no_stale(&t);
	drain_all(ctx);
	CU_ASSERT(uiommu_device_detach(t.dev, 7) == 0);
	down(ctx, &t);
}

/* 16-bit PASIDs: two GCR3 levels (GLX 1), level-0 tables made and freed
 * as PASIDs come and go. */
static void test_glx1(void)
{
	struct tenv t;
	uint8_t v = 0x77, r;
	struct amdvi_dev *ad;

	up(ctx, &t, "gt=1", 16);
	CU_ASSERT(map(&t, 0, 0x1000, 0, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT(map(&t, 1, 0x1000, 0x1000, 0x1000, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
	CU_ASSERT_FATAL(attach(t.dev, 0xabcd, t.h[0]) == 0);
	CU_ASSERT_FATAL(attach(t.dev, 0xabce, t.h[1]) == 0);
	CU_ASSERT(attach(t.dev, 0x1ff, t.h[1]) == 0);
	ad = t.dev->priv;
	CU_ASSERT_FATAL(ad->g != NULL);
	CU_ASSERT(ad->g->glx == 1 && FIELD_GET(AMDVI_DTE0_GLX, dte(&t, RID)[0]) == 1);
	CU_ASSERT(dma(&t, RID, 0xabcd, 0x1010, &v, 1, true) == 0);
	CU_ASSERT(((uint8_t *)t.buf.va)[0x10] == 0x77);
	CU_ASSERT(dma(&t, RID, 0xabce, 0x1010, &r, 1, false) == 0 && r == 0);
	CU_ASSERT(dma(&t, RID, 0x1ff, 0x1010, &r, 1, false) == 0 && r == 0);
	CU_ASSERT(dma(&t, RID, 0xabcf, 0x1010, &r, 1, false) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 0x2cd, 0x1010, &r, 1, false) == -EFAULT);
	CU_ASSERT(ad->g->l0[0xabcd >> 9].va && ad->g->l0[0].va);
	CU_ASSERT(uiommu_device_detach(t.dev, 0x1ff) == 0);
	CU_ASSERT(ad->g->l0[0].va == NULL && ((uint64_t *)ad->g->root.va)[0] == 0);
	CU_ASSERT(uiommu_device_detach(t.dev, 0xabcd) == 0);
	CU_ASSERT(ad->g->l0[0xabcd >> 9].va != NULL); /* 0xabce still there */
	CU_ASSERT(dma(&t, RID, 0xabcd, 0x1010, &r, 1, false) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 0xabce, 0x1010, &r, 1, false) == 0);
	drain_all(ctx);
	no_stale(&t);
	down(ctx, &t);
}

/* The walk through GCR3 (uiommu_device_ctx_walk), ending with the
 * reason a DMA faults. */
static void test_walk(void)
{
	struct tenv t;
	struct uiommu_walk_level lv[8];
	int n;

	up(ctx, &t, "gt=1", 16);
	CU_ASSERT(attach(t.dev, 0x345, t.h[0]) == 0);
	n = uiommu_device_ctx_walk(t.dev, 0x345, 0x1000, lv, 8);
	CU_ASSERT_FATAL(n == 3);
	CU_ASSERT(strstr(lv[0].text, "GV GLX=1") && strstr(lv[0].text, "GCR3 table (v2)"));
	CU_ASSERT(strstr(lv[1].text, "GCR3 L1[1]: V") != NULL && lv[1].present);
	CU_ASSERT(strstr(lv[2].text, "GCR3 L0[325]: V CR3=") != NULL && lv[2].present);
	/* The RID: slot 0 is empty. */
	n = uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0x1000, lv, 8);
	CU_ASSERT_FATAL(n == 2);
	CU_ASSERT(!lv[1].present && strstr(lv[1].text, "not valid") &&
		  strstr(lv[1].text, "the RID under GIoV"));
	/* Another PASID in the same level-0 table. */
	n = uiommu_device_ctx_walk(t.dev, 0x346, 0x1000, lv, 8);
	CU_ASSERT(n == 3 && !lv[2].present && strstr(lv[2].text, "PASID 838 has no table"));
	for (int i = 0; i < n; i++)
		printf("\n    %s", lv[i].text);
	down(ctx, &t);
}

/* Every allocation of a PASID attach fails in turn: nothing changes.
 * @first: the device has no GCR3 table yet (the table, its level-0
 * table and its DomainID are made too), else one is there. */
static void failnth_pasid(bool first)
{
	unsigned long nth;
	unsigned int fails = 0;

	for (nth = 1; nth < 500; nth++) {
		struct tenv t;
		struct uenv_stats before, after;
		uint8_t v = 9;
		bool fired;
		int rc;

		up(ctx, &t, "gt=1", 16);
		CU_ASSERT_FATAL(map(&t, 0, 0x200000, 0, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) ==
				0);
		if (!first)
			CU_ASSERT_FATAL(attach(t.dev, 0x600, t.h[1]) == 0);
		uenv_get_stats(&before);
		uenv_fail_nth(nth);
		rc = attach(t.dev, 0x1234, t.h[0]);
		fired = uenv_fail_fired();
		uenv_fail_nth(0);
		if (rc == 0) {
			CU_ASSERT(dma(&t, RID, 0x1234, 0x200000, &v, 1, true) == 0);
			down(ctx, &t);
			if (!fired)
				break;
			continue;
		}
		fails++;
		CU_ASSERT(rc == -ENOMEM);
		uenv_get_stats(&after);
		CU_ASSERT(after.heap_live == before.heap_live);
		CU_ASSERT(after.dma_live == before.dma_live);
		CU_ASSERT(uiommu_device_attached_hwpt(t.dev, 0x1234) == 0);
		CU_ASSERT((((struct amdvi_dev *)t.dev->priv)->g == NULL) == first);
		CU_ASSERT(!(dte(&t, RID)[0] & AMDVI_DTE0_GV) == first);
		CU_ASSERT(dma(&t, RID, 0x1234, 0x200000, &v, 1, true) == -EFAULT);
		drain_all(ctx);
		CU_ASSERT(attach(t.dev, 0x1234, t.h[0]) == 0);
		CU_ASSERT(dma(&t, RID, 0x1234, 0x200000, &v, 1, true) == 0);
		down(ctx, &t);
	}
	printf("\n    %s: %u injected failures, success at N=%lu ", first ? "new table" : "table there",
	       fails, nth);
	CU_ASSERT(fails > 0 && nth < 500);
}

static void test_failnth_pasid(void)
{
	failnth_pasid(true);
	failnth_pasid(false);
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

#define SLOTS 32u

/* Map/unmap/DMA and PASID attach/replace/detach at random against a
 * reference: NPAS IOASes, PASIDs 1..NPAS of one device each on one of
 * them (or none), the RID on IOAS 0's table; every DMA must succeed
 * exactly when its PASID's IOAS maps it, and land where mapped; no cache
 * hit may be stale. */
static void random_run(const char *cfg, unsigned long ops)
{
	struct tenv t;
	struct amdvi_model_stats st;
	uint64_t off[NPAS][SLOTS], len[NPAS][SLOTS];
	bool mapped[NPAS][SLOTS] = {{false}}, ro[NPAS][SLOTS] = {{false}};
	int on[NPAS + 1]; /* PASID p (0: the RID) -> IOAS, -1: none */
	unsigned long nmap = 0, nunmap = 0, ndma = 0, nfault = 0, natt = 0;
	const uint64_t base = 0x40000000;

	up(ctx, &t, cfg, 16);
	amdvi_model_reset_stale(t.m);
	CU_ASSERT_FATAL(attach(t.dev, UIOMMU_NO_PASID, t.h[0]) == 0);
	on[0] = 0;
	for (unsigned int p = 1; p <= NPAS; p++)
		on[p] = -1;
	for (unsigned long i = 0; i < ops; i++) {
		unsigned int a = (unsigned int)(rnd() % NPAS), s = (unsigned int)(rnd() % SLOTS);
		unsigned int what = (unsigned int)(rnd() % 8);
		uint64_t iova = base + (uint64_t)s * 0x10000;

		if (what == 0 && !mapped[a][s]) {
			len[a][s] = 4096u * (1 + rnd() % 16);
			off[a][s] = (rnd() % (BUF_SIZE / 4096 - 16)) * 4096;
			ro[a][s] = rnd() & 1;
			CU_ASSERT_FATAL(map(&t, a, iova, off[a][s], len[a][s],
					    UIOMMU_MAP_READ | (ro[a][s] ? 0 : UIOMMU_MAP_WRITE)) ==
					0);
			mapped[a][s] = true;
			nmap++;
		} else if (what == 1 && mapped[a][s]) {
			CU_ASSERT_FATAL(uiommu_ioas_unmap(t.ioas[a], iova, len[a][s], NULL) == 0);
			mapped[a][s] = false;
			nunmap++;
		} else if (what == 2) {
			/* A PASID (1..NPAS, with high bits: two GCR3 levels)
			 * to another table, or away. */
			unsigned int p = 1 + (unsigned int)(rnd() % NPAS);
			uint32_t pasid = p | (p << 10);
			int to = (rnd() % 4) ? (int)a : -1;

			int rc = 0;

			if (to < 0 && on[p] >= 0)
				rc = uiommu_device_detach(t.dev, pasid);
			else if (to >= 0 && on[p] >= 0)
				rc = uiommu_device_replace(t.dev, pasid, uiommu_hwpt_id(t.h[to]),
							   NULL);
			else if (to >= 0)
				rc = attach(t.dev, pasid, t.h[to]);
			CU_ASSERT_FATAL(rc == 0);
			on[p] = to;
			natt++;
		} else {
			unsigned int p = (unsigned int)(rnd() % (NPAS + 1));
			uint32_t pasid = p ? (p | (p << 10)) : UIOMMU_NO_PASID;
			int ia = on[p];
			uint64_t o = ia >= 0 && mapped[ia][s] && (rnd() & 3)
					     ? rnd() % (len[ia][s] - 64)
					     : (rnd() % 16) * 4096 + (rnd() % 4000);
			bool wr = rnd() & 1, ok = ia >= 0 && mapped[ia][s] &&
						  o + 64 <= len[ia][s] && !(wr && ro[ia][s]);
			uint8_t pat[64], got[64];
			int rc;

			memset(pat, (int)(i & 0xff), sizeof(pat));
			rc = dma(&t, RID, pasid, iova + o, wr ? pat : got, 64, wr);
			ndma++;
			CU_ASSERT(rc == (ok ? 0 : -EFAULT));
			if (rc)
				nfault++;
			if (rc == 0)
				CU_ASSERT(memcmp((uint8_t *)t.buf.va + off[ia][s] + o,
						 wr ? pat : got, 64) == 0);
		}
		if ((i & 127) == 0)
			drain_all(ctx);
	}
	drain_all(ctx);
	amdvi_model_get_stats(t.m, &st);
	printf("\n    %s: %lu maps, %lu unmaps, %lu PASID changes, %lu DMAs (%lu faulting), "
	       "%" PRIu64 " waits, %" PRIu64 " IOTLB hits, stale %" PRIu64 "/%" PRIu64 " ",
	       cfg, nmap, nunmap, natt, ndma, nfault, t.au->stats.waits, st.iotlb_hit,
	       st.stale_iotlb, st.stale_dte);
	CU_ASSERT(st.stale_iotlb == 0);
	CU_ASSERT(st.stale_dte == 0);
	CU_ASSERT(st.iotlb_hit > 0);
	down(ctx, &t);
}

static void test_random(void)
{
	const char *seed = getenv("AMDVI_UT_SEED"), *ops_s = getenv("AMDVI_UT_OPS");
	unsigned long ops = ops_s ? strtoul(ops_s, NULL, 0) : 20000;

	rng_state = seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
	printf("\n    seed 0x%" PRIx64, rng_state);
	random_run("gt=1", ops / 2);
	random_run("gt=1,iotlb=8,dtec=1", ops - ops / 2);
}

/* Run @op with one tail write dropped: the wait failed, the unit did not. */
#define WAIT_FAILS(t, op)                                                   \
	do {                                                                \
		int rc_;                                                    \
		tail_real = unit_regs((t)->unit)->model;                    \
		unit_regs((t)->unit)->model = &tail_io;                     \
		tail_drop = 1;                                              \
		rc_ = (op);                                                 \
		unit_regs((t)->unit)->model = tail_real;                    \
		CU_ASSERT(rc_ == -ETIMEDOUT || rc_ == -EIO);                \
		CU_ASSERT(tail_drop == 0);                                  \
		CU_ASSERT(!(t)->au->failed);                                \
		drain_all(ctx);                                             \
		CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0); \
	} while (0)

/* A GCR3 change whose invalidation is not confirmed: the old entry (and
 * DTE) is in force again, the core keeps the old attachment; the new
 * table is not reachable.  A detach stays done (the core releases). */
static void test_wait_fails(void)
{
	struct tenv t;
	struct amdvi_dev *ad;
	uint8_t r;

	up(ctx, &t, "gt=1", 8);
	ad = t.dev->priv;
	t.au->timeout_ns = 20ull * 1000 * 1000;
	for (unsigned int i = 0; i < NPAS; i++) {
		CU_ASSERT(map(&t, i, 0x40000000, (uint64_t)i * 0x10000, 0x1000,
			      UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0);
		((uint8_t *)t.buf.va)[i * 0x10000] = (uint8_t)(0xa0 + i);
	}
	/* One DMA before the first check: the leak check finds the test's
	 * own buffer through the model's state, not before. */
	CU_ASSERT(attach(t.dev2, 1, t.h[3]) == 0);
	CU_ASSERT(dma(&t, RID2, 1, 0x40000000, &r, 1, false) == 0 && r == 0xa3);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	/* The first PASID (a new GCR3 table): none afterwards, no GV. */
	WAIT_FAILS(&t, attach(t.dev, 1, t.h[1]));
	CU_ASSERT(ad->g == NULL && !(dte(&t, RID)[0] & AMDVI_DTE0_GV));
	CU_ASSERT(uiommu_device_attached_hwpt(t.dev, 1) == 0);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == -EFAULT);
	drain_all(ctx);
	CU_ASSERT_FATAL(attach(t.dev, 1, t.h[1]) == 0);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == 0 && r == 0xa1);
	/* A second PASID: slot empty again, PASID 1 untouched. */
	WAIT_FAILS(&t, attach(t.dev, 2, t.h[2]));
	CU_ASSERT(ad->g && ad->g->n == 1 && amdvi_gcr3_entry(ad->g, 2) == 0);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000, &r, 1, false) == -EFAULT);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == 0 && r == 0xa1);
	drain_all(ctx);
	/* Replace PASID 1: the old table translates still. */
	WAIT_FAILS(&t, uiommu_device_replace(t.dev, 1, uiommu_hwpt_id(t.h[2]), NULL));
	CU_ASSERT(uiommu_device_attached_hwpt(t.dev, 1) == uiommu_hwpt_id(t.h[1]));
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == 0 && r == 0xa1);
	/* The RID on a v2 table (slot 0): stays blocked. */
	WAIT_FAILS(&t, attach(t.dev, UIOMMU_NO_PASID, t.h[0]));
	CU_ASSERT(amdvi_gcr3_entry(ad->g, 0) == 0 && ad->rid_kind == FAM_ATTACH_BLOCKED);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == -EFAULT);
	drain_all(ctx);
	CU_ASSERT_FATAL(attach(t.dev, UIOMMU_NO_PASID, t.h[0]) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == 0 && r == 0xa0);
	/* Replace the RID's v2 table by another, and by identity. */
	WAIT_FAILS(&t, uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(t.h[3]), NULL));
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == 0 && r == 0xa0);
	/* (The unit's identity DomainID exists: its allocation is not
	 * what the dropped write hits.) */
	CU_ASSERT(uiommu_device_attach(t.dev2, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) == 0);
	WAIT_FAILS(&t, uiommu_device_replace(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL));
	CU_ASSERT(ad->rid_v2 && (dte(&t, RID)[0] & AMDVI_DTE0_GIOV));
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == 0 && r == 0xa0);
	/* A detach whose wait fails is done all the same (the core releases). */
	tail_real = unit_regs(t.unit)->model;
	unit_regs(t.unit)->model = &tail_io;
	tail_drop = 1;
	CU_ASSERT(uiommu_device_detach(t.dev, 1) == 0); /* the core logs the flush */
	unit_regs(t.unit)->model = tail_real;
	CU_ASSERT(tail_drop == 0 && !t.au->failed);
	drain_all(ctx);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	CU_ASSERT(uiommu_device_attached_hwpt(t.dev, 1) == 0);
	CU_ASSERT(amdvi_gcr3_entry(ad->g, 1) == 0);
	CU_ASSERT(dma(&t, RID, 1, 0x40000000, &r, 1, false) == -EFAULT);
	drain_all(ctx);
	/* The unit works on. */
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(t.h[3]), NULL) == 0);
	CU_ASSERT(dma(&t, RID, UIOMMU_NO_PASID, 0x40000000, &r, 1, false) == 0 && r == 0xa3);
	CU_ASSERT(attach(t.dev, 2, t.h[2]) == 0);
	CU_ASSERT(dma(&t, RID, 2, 0x40000000, &r, 1, false) == 0 && r == 0xa2);
	no_stale(&t);
	t.au->timeout_ns = AMDVI_TIMEOUT_NS;
	down(ctx, &t);
}

static int suite_init(void)
{
	return uiommu_ctx_create(NULL, &ctx) ? -1 : 0;
}

/* clang-format off */
static const struct ut_test tests[] = {
	{"caps", test_caps},
	{"rid_v2", test_rid_v2},
	{"pasids", test_pasids},
	{"wrong_flush_detected", test_wrong_flush_detected},
	{"flush_one_slot", test_flush_one_slot},
	{"glx1", test_glx1},
	{"walk", test_walk},
	{"failnth_pasid", test_failnth_pasid},
	{"wait_fails", test_wait_fails},
	{"random", test_random},
	{NULL, NULL},
};
/* clang-format on */

static const struct ut_suite suites[] = {
	{"amdvi-v2", suite_init, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	int rc = ut_main(suites, argc, argv);

	uiommu_ctx_destroy(ctx);
	return rc;
}
