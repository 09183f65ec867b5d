/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 driver on the built-in SMMUv3 model, through the public API with
 * real (modelled) DMA: translation and isolation with linear and 2-level
 * stream tables, stage 1 (4 KiB and 2 MiB), stage 2, SubstreamIDs, nested
 * stage 1 over stage 2 with two VMIDs on one stage 2, faults decoded from
 * the event queue (stage-2 faults with the IPA), no stale translation
 * after unmap and a skipped TLBI seen by the model, command errors
 * recovered, the one-page flush (its command's fields, queue wrap,
 * refusal, time-out, a slow CONS, non-coherent slots, nested VMIDs left
 * to the batch), event queue overflow, take-over refusal and give-back,
 * the guest STE rules, all-or-nothing on bad input, and a randomized
 * map/unmap/DMA differential test against the IOAS contents.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/smmuv3/smmu_internal.h"
#include "model/smmuv3/smmu_model.h"
#include "model/smmuv3/smmu_model_internal.h"
#include "pgtable/pgt_hw.h"

#define SID	 0x0310u
#define SID2	 0x0420u
#define BUF_SIZE (4u << 20)
#define RW	 (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)

static struct uiommu_ctx *ctx;

struct tenv {
	struct uiommu_unit *unit;
	struct smmu_model *m;
	struct uiommu_device *dev;
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *hwpt;
	struct uenv_dma buf; /* 2 MiB aligned, a buffer of the context (uiommu_buf_alloc) */
};

static int suite_init(void)
{
	return (ctx || uiommu_ctx_create(NULL, &ctx) == 0) ? 0 : -1;
}

static int suite_fini(void)
{
	return 0;
}

/* A DMA buffer the context records (the state checker knows it). */
static int buf_get(struct uenv_dma *b)
{
	b->len = BUF_SIZE;
	return uiommu_buf_alloc(ctx, BUF_SIZE, &b->va, &b->iova);
}

static int unit_up(struct tenv *t, const char *cfg)
{
	struct uiommu_unit_desc d = {
		.family = UIOMMU_FAMILY_SMMUV3,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
		.model_cfg = cfg,
	};
	int rc;

	memset(t, 0, sizeof(*t));
	rc = uiommu_unit_add(ctx, &d, &t->unit);
	if (!rc)
		t->m = t->unit->model;
	return rc;
}

static int dev_up(struct tenv *t, uint32_t sid, uint32_t pasid_bits, struct uiommu_device **out)
{
	struct uiommu_device_desc dd = {
		.bus = (uint8_t)(sid >> 8),
		.devfn = (uint8_t)sid,
		.hw_id = sid,
		.pasid_bits = pasid_bits,
	};

	return uiommu_device_add(t->unit, &dd, out);
}

/* Unit, device, IOAS, buffer; attach through an IOAS or an explicit HWPT
 * with @flags (UIOMMU_HWPT_STAGE1: stage 1). */
static void scenario_up(struct tenv *t, const char *cfg, int flags)
{
	uint32_t pt;

	CU_ASSERT_FATAL(unit_up(t, cfg) == 0);
	CU_ASSERT_FATAL(dev_up(t, SID, 8, &t->dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t->ioas) == 0);
	pt = uiommu_ioas_id(t->ioas);
	if (flags >= 0) {
		CU_ASSERT_FATAL(uiommu_hwpt_alloc(t->ioas, t->unit, (uint32_t)flags, &t->hwpt) ==
				0);
		pt = uiommu_hwpt_id(t->hwpt);
	}
	CU_ASSERT_FATAL(uiommu_device_attach(t->dev, UIOMMU_NO_PASID, pt, NULL) == 0);
	CU_ASSERT_FATAL(buf_get(&t->buf) == 0);
}

static void scenario_down(struct tenv *t)
{
	uint64_t n = 0;

	if (t->dev) {
		(void)uiommu_device_detach(t->dev, UIOMMU_NO_PASID);
		CU_ASSERT(uiommu_device_remove(t->dev) == 0);
	}
	if (t->hwpt)
		CU_ASSERT(uiommu_hwpt_destroy(t->hwpt) == 0);
	if (t->ioas) {
		CU_ASSERT(uiommu_ioas_unmap_all(t->ioas, &n) == 0);
		CU_ASSERT(uiommu_ioas_destroy(t->ioas) == 0);
	}
	if (t->buf.va)
		CU_ASSERT(uiommu_buf_free(ctx, t->buf.iova) == 0);
	if (t->unit)
		CU_ASSERT(uiommu_unit_remove(t->unit) == 0);
	memset(t, 0, sizeof(*t));
}

static void check_line(void *arg, const char *msg)
{
	(void)arg;
	printf("\n    state check: %s ", msg);
}

/* The state checker finds nothing wrong with what the driver built. */
static void state_clean(void)
{
	CU_ASSERT(uiommu_state_check(ctx, check_line, NULL) == 0);
}

static uint16_t drain(struct uiommu_event *ev, uint16_t max)
{
	return uiommu_poll(ctx, ev, max);
}

static void drain_all(void)
{
	struct uiommu_event ev[64];

	while (drain(ev, 64))
		;
}

static int dma(struct uiommu_device *d, uint32_t pasid, uint64_t iova, void *b, uint64_t len,
	       bool write)
{
	return uiommu_model_dma(d, pasid, iova, b, len, write);
}

/* The one pending fault event (after @n events are drained). */
static bool one_fault(struct uiommu_event *out)
{
	struct uiommu_event ev[8];
	uint16_t n = drain(ev, 8);

	if (n != 1 || ev[0].type != UIOMMU_EV_FAULT) {
		printf("\n    expected one fault, got %u (type %d reason 0x%x) ", n,
		       n ? (int)ev[0].type : 0, n ? ev[0].reason : 0);
		return false;
	}
	*out = ev[0];
	return true;
}

/* ------------------------------------------------------------ translation */

static void rw_check(struct tenv *t, uint64_t iova, uint64_t off)
{
	uint8_t *p = (uint8_t *)t->buf.va + off;
	uint32_t v = 0x5eed0000u | (uint32_t)off, r = 0;

	CU_ASSERT(dma(t->dev, UIOMMU_NO_PASID, iova, &v, sizeof(v), true) == 0);
	CU_ASSERT(memcmp(p, &v, sizeof(v)) == 0);
	memset(p, 0xa5, 4);
	CU_ASSERT(dma(t->dev, UIOMMU_NO_PASID, iova, &r, sizeof(r), false) == 0);
	CU_ASSERT(r == 0xa5a5a5a5u);
}

static void translate(const char *cfg, int flags)
{
	struct tenv t;
	struct uiommu_device *other;
	struct uiommu_event ev;
	uint64_t iova = 0x40000000, v = 0;

	scenario_up(&t, cfg, flags);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, BUF_SIZE, RW) == 0);
	rw_check(&t, 0x40000000, 0);
	rw_check(&t, 0x40000000 + 0x1234, 0x1234);
	rw_check(&t, 0x40000000 + (3u << 20) + 8, (3u << 20) + 8);
	/* Outside the mapping: F_TRANSLATION with the address. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x50000000, &v, 8, false) == -EFAULT);
	if (one_fault(&ev)) {
		CU_ASSERT(ev.reason == SMMU_EVT_F_TRANSLATION);
		CU_ASSERT(ev.addr == 0x50000000);
		CU_ASSERT(ev.hw_id == SID);
		CU_ASSERT(ev.dev_id == uiommu_device_id(t.dev));
		CU_ASSERT(ev.flags & UIOMMU_EV_READ);
		/* An explicit HWPT: stage 2 unless asked for stage 1 (or the SMMU
		 * has no S2); through an IOAS: stage 1 (auto_stage1) unless the
		 * SMMU has no S1. */
		bool s2 = flags >= 0 ? !(flags & UIOMMU_HWPT_STAGE1) && !strstr(cfg, "s2=0")
				     : strstr(cfg, "s1=0") != NULL;
		CU_ASSERT(!!(ev.flags & UIOMMU_EV_STAGE2) == s2);
	}
	/* Isolation: a device never attached is blocked (no STE). */
	CU_ASSERT_FATAL(dev_up(&t, SID2, 0, &other) == 0);
	CU_ASSERT(dma(other, UIOMMU_NO_PASID, 0x40000000, &v, 8, false) == -EFAULT);
	if (one_fault(&ev))
		CU_ASSERT(ev.reason == SMMU_EVT_C_BAD_STE && ev.hw_id == SID2);
	/* Attached then detached: an abort STE, no event. */
	CU_ASSERT(uiommu_device_attach(other, UIOMMU_NO_PASID, uiommu_ioas_id(t.ioas), NULL) == 0);
	CU_ASSERT(dma(other, UIOMMU_NO_PASID, 0x40000008, &v, 8, false) == 0);
	CU_ASSERT(uiommu_device_detach(other, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(dma(other, UIOMMU_NO_PASID, 0x40000008, &v, 8, false) == -EFAULT);
	CU_ASSERT(drain(&ev, 1) == 0);
	CU_ASSERT(uiommu_device_remove(other) == 0);
	scenario_down(&t);
}

static void test_s2_2lvl(void)
{
	struct tenv t;

	translate("", 0);
	translate("", -1);
	translate("s1=0", -1);
	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT(t.unit->hw_info.u.smmuv3.st_2lvl);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
}

static void test_s2_linear(void)
{
	struct tenv t;

	translate("st2l=0,sidsize=12", 0);
	translate("st2l=0,sidsize=12", -1);
	CU_ASSERT_FATAL(unit_up(&t, "st2l=0,sidsize=12") == 0);
	CU_ASSERT(!t.unit->hw_info.u.smmuv3.st_2lvl);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
}

/* Pass-through (bypass STE) on both kinds of SMMU; its release issues
 * no command the SMMU refuses. */
static void test_identity(void)
{
	for (int k = 0; k < 2; k++) {
		struct tenv t;
		struct uiommu_event ev[4];
		uint64_t v = 0x99;

		CU_ASSERT_FATAL(unit_up(&t, k ? "s2=0" : "") == 0);
		CU_ASSERT_FATAL(dev_up(&t, SID, 0, &t.dev) == 0);
		CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
		CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL) ==
			  0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, t.buf.iova + 64, &v, 8, true) == 0);
		CU_ASSERT(*(uint64_t *)((uint8_t *)t.buf.va + 64) == 0x99);
		CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, t.buf.iova + 64, &v, 8, true) == -EFAULT);
		CU_ASSERT(drain(ev, 4) == 0); /* no queue error, no event: an abort STE */
		scenario_down(&t);
	}
}

static void test_s1(void)
{
	translate("", UIOMMU_HWPT_STAGE1);
	translate("cd2l=0,ssidsize=8", UIOMMU_HWPT_STAGE1);
	translate("s2=0", 0); /* a stage-1-only SMMU: paging is stage 1 */
}

/* 2 MiB blocks are used (one walk level less) and translate. */
static void test_blocks(void)
{
	for (int s1 = 0; s1 < 2; s1++) {
		struct tenv t;
		struct uiommu_walk_level lv[8];
		uint64_t iova = 0x80000000;
		int n;

		scenario_up(&t, "", s1 ? UIOMMU_HWPT_STAGE1 : 0);
		CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, BUF_SIZE, RW) == 0);
		n = uiommu_hwpt_walk(t.hwpt, 0x80000000 + (1u << 20), lv, 8);
		CU_ASSERT(n > 0 && lv[n - 1].leaf && lv[n - 1].pgsize == (2u << 20));
		rw_check(&t, 0x80000000 + (1u << 20) + 64, (1u << 20) + 64);
		rw_check(&t, 0x80000000 + (2u << 20) + 4096, (2u << 20) + 4096);
		scenario_down(&t);
	}
}

/* Read-only mapping: a write is F_PERMISSION, nothing written. */
static void test_permission(void)
{
	for (int s1 = 0; s1 < 2; s1++) {
		struct tenv t;
		struct uiommu_event ev;
		uint64_t iova = 0x10000, v = 0x1122334455667788ull;

		scenario_up(&t, "", s1 ? UIOMMU_HWPT_STAGE1 : 0);
		CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096,
						UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
		memset(t.buf.va, 0, 8);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x10000, &v, 8, false) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x10000, &v, 8, true) == -EFAULT);
		CU_ASSERT(*(uint64_t *)t.buf.va == 0);
		if (one_fault(&ev)) {
			CU_ASSERT(ev.reason == SMMU_EVT_F_PERMISSION);
			CU_ASSERT(ev.flags & UIOMMU_EV_WRITE);
			CU_ASSERT(!!(ev.flags & UIOMMU_EV_STAGE2) == !s1);
		}
		scenario_down(&t);
	}
}

/* ------------------------------------------------------------ invalidation */

static void test_no_stale(void)
{
	for (int s1 = 0; s1 < 2; s1++) {
		struct tenv t;
		struct smmu_model_stats st0, st1;
		uint64_t iova = 0x200000, v;

		scenario_up(&t, "", s1 ? UIOMMU_HWPT_STAGE1 : 0);
		CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 8192, RW) == 0);
		smmu_model_get_stats(t.m, &st0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
		smmu_model_get_stats(t.m, &st1);
		CU_ASSERT(st1.tlb_hits > st0.tlb_hits); /* the TLB really caches */
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 8192, NULL) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
		drain_all();

		/* The same with the TLBI skipped: the model still translates
		 * (the stale entry a missing invalidation leaves). */
		iova = 0x200000;
		CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 8192, RW) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
		smmu_test_skip_tlbi(t.unit, true);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 8192, NULL) == 0);
		smmu_test_skip_tlbi(t.unit, false);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0); /* stale */
		/* The right TLBI removes it. */
		struct smmu_batch b;
		smmu_batch_init(&b, smmu_of(t.unit));
		if (s1)
			smmu_cmd_tlbi_asid(&b, (uint16_t)t.hwpt->inst[0].did);
		else
			smmu_cmd_tlbi_vmall(&b, (uint16_t)t.hwpt->inst[0].did);
		CU_ASSERT(smmu_batch_sync(&b) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
		drain_all();
		scenario_down(&t);
	}
}

/* A command queue smaller than a batch (IDR1.CMDQS 2: 4 slots): a batch
 * of more commands than the queue holds is issued in pieces that fit,
 * each with its CMD_SYNC; none is lost to a queue that wrapped onto
 * itself (16 TLBIs without RIL for a 16-page unmap: every page faults
 * after it). */
static void test_small_cmdq(void)
{
	struct tenv t;
	struct smmu_model_stats st0, st1;
	struct smmu_stats ds0, ds1;
	uint64_t iova = 0x200000, v;

	scenario_up(&t, "cmdqs=2,ril=0", UIOMMU_HWPT_STAGE1);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 16 * 4096, RW) == 0);
	for (unsigned int i = 0; i < 16; i++)
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) == 0);
	smmu_model_get_stats(t.m, &st0);
	smmu_get_stats(t.unit, &ds0);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 16 * 4096, NULL) == 0);
	smmu_model_get_stats(t.m, &st1);
	smmu_get_stats(t.unit, &ds1);
	CU_ASSERT(ds1.cmds - ds0.cmds == 16);
	CU_ASSERT(ds1.syncs - ds0.syncs == 6); /* 3 commands + CMD_SYNC per piece */
	CU_ASSERT(st1.cmds - st0.cmds == 16 + 6);
	for (unsigned int i = 0; i < 16; i++)
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
			  -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* The STE cache: an STE changed in memory without CFGI_STE is not seen;
 * after CFGI_STE it is. */
static void test_ste_cache(void)
{
	struct tenv t;
	struct smmu_dev *sd;
	struct smmu_batch b;
	uint64_t iova = 0x200000, v, *ste;

	scenario_up(&t, "", 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	sd = t.dev->priv;
	ste = (uint64_t *)smmu_of(t.unit)->l2[sd->sid >> SMMU_SPLIT].va +
	      (sd->sid & ((1u << SMMU_SPLIT) - 1)) * SMMU_STE_DWORDS;
	uint64_t w0 = ste[0];
	ste[0] = SMMU_STE0_V; /* abort, behind the SMMU's back */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0); /* cached */
	smmu_batch_init(&b, smmu_of(t.unit));
	smmu_cmd_cfgi_ste(&b, sd->sid);
	CU_ASSERT(smmu_batch_sync(&b) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	ste[0] = w0;
	smmu_batch_init(&b, smmu_of(t.unit));
	smmu_cmd_cfgi_ste(&b, sd->sid);
	CU_ASSERT(smmu_batch_sync(&b) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	drain_all();
	scenario_down(&t);
}

/* One CMD_SYNC per flush batch; ranges by RIL are one command. */
static void test_batching(void)
{
	struct tenv t;
	struct smmu_stats a, b;
	uint64_t iova = 0x100000;

	scenario_up(&t, "", 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 64 * 4096, RW) == 0);
	smmu_get_stats(t.unit, &a);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 64 * 4096, NULL) == 0);
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.syncs - a.syncs == 1);
	CU_ASSERT(b.cmds - a.cmds == 1);
	scenario_down(&t);
	/* Without RIL: per page, or the whole domain beyond 16 pages. */
	scenario_up(&t, "ril=0", 0);
	iova = 0x100000;
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4 * 4096, RW) == 0);
	smmu_get_stats(t.unit, &a);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x100000, 4 * 4096, NULL) == 0);
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.syncs - a.syncs == 1);
	CU_ASSERT(b.cmds - a.cmds == 4);
	scenario_down(&t);
}

/* A refused command: reported with its index, skipped, the queue goes on. */
static void test_cmdq_error(void)
{
	struct tenv t;
	struct smmu_batch b;
	struct smmu_model_stats st0, st1;
	struct uiommu_event ev[4];
	uint64_t iova = 0x200000, v;

	scenario_up(&t, "", 0);
	smmu_model_get_stats(t.m, &st0);
	smmu_batch_init(&b, smmu_of(t.unit));
	smmu_cmd_cfgi_ste(&b, SID);
	smmu_batch_add(&b, 0x7f, 0); /* no such opcode */
	smmu_cmd_cfgi_ste(&b, SID);
	CU_ASSERT(smmu_batch_sync(&b) == -EIO);
	CU_ASSERT(b.bad == 1);
	smmu_model_get_stats(t.m, &st1);
	CU_ASSERT(st1.cmd_errors == st0.cmd_errors + 1);
	CU_ASSERT(st1.cfgi == st0.cfgi + 2); /* the one after it ran */
	CU_ASSERT(drain(ev, 4) == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_QUEUE_ERROR && ev[0].reason == SMMU_CERROR_ILL &&
		  ev[0].addr == 1);
	/* The queue works afterwards. */
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* An SMMU that stops consuming commands: the wait is bounded, the call
 * fails with -ETIMEDOUT, the queue is restarted, and work goes on. */
static void test_cmdq_timeout(void)
{
	struct tenv t;
	struct smmu_batch b;
	struct uiommu_event ev[4];
	uint64_t iova = 0x200000, v;

	scenario_up(&t, "", 0);
	smmu_of(t.unit)->timeout_ns = 2 * 1000 * 1000;
	smmu_model_set_stuck(t.m, true);
	smmu_batch_init(&b, smmu_of(t.unit));
	smmu_cmd_cfgi_ste(&b, SID);
	CU_ASSERT(smmu_batch_sync(&b) == -ETIMEDOUT);
	CU_ASSERT(drain(ev, 4) == 1 && ev[0].type == UIOMMU_EV_QUEUE_ERROR);
	smmu_model_set_stuck(t.m, false);
	smmu_of(t.unit)->timeout_ns = SMMU_TIMEOUT_NS;
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* An SMMU that refuses every command it fetches (here: its CMDQ_BASE no
 * longer points at memory, so each fetch aborts, the CMD_SYNC written over
 * a refused command too): the wait is bounded all the same, the call
 * fails, and once the SMMU behaves the queue works again. */
static void test_cmdq_error_storm(void)
{
	struct tenv t;
	struct smmu_batch b;
	uint64_t iova = 0x200000, v, base;
	uint64_t t0;
	int rc;

	scenario_up(&t, "", 0);
	smmu_of(t.unit)->timeout_ns = 2 * 1000 * 1000;
	base = t.m->cmdq_base;
	t.m->cmdq_base = (base & ~SMMU_Q_BASE_ADDR) | 0xdead000000ull; /* not memory */
	smmu_batch_init(&b, smmu_of(t.unit));
	smmu_cmd_cfgi_ste(&b, SID);
	t0 = uenv_now_ns();
	rc = smmu_batch_sync(&b);
	CU_ASSERT(rc == -ETIMEDOUT || rc == -EIO);
	CU_ASSERT(uenv_now_ns() - t0 < 1000ull * 1000 * 1000);
	/* The timeout restarted the queue at our base, its refusal acknowledged. */
	CU_ASSERT(t.m->cmdq_base == base && t.m->gerror == t.m->gerrorn);
	smmu_of(t.unit)->timeout_ns = SMMU_TIMEOUT_NS;
	drain_all();
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	drain_all();
	scenario_down(&t);
}

/* ------------------------------------------------------------ one-page flush
 *
 * The strict unmap of one 4 KiB page goes around the batch (smmu_cmdq.c
 * cmdq_issue1): its TLBI and CMD_SYNC written straight into the queue.
 * A CMD_SYNC without a batch is what tells it apart in the counters
 * (syncs - batches). */

/* The command in queue slot @pos (index + wrap) of @t's unit. */
static const uint64_t *cmdq_slot(struct tenv *t, uint32_t pos)
{
	const struct smmu_queue *q = &smmu_of(t->unit)->cmdq;

	return (const uint64_t *)q->mem.va + 2u * SMMU_Q_IDX(pos, q->shift);
}

/* @n pages from 0x200000, one mapping each (an unmap removes whole
 * mappings). */
static void map_pages(struct tenv *t, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t iova = 0x200000 + i * 4096;

		CU_ASSERT_FATAL(uiommu_ioas_map(t->ioas, &iova, t->buf.iova + i * 4096, 4096, RW) ==
				0);
	}
}

/* Stage 1 (TLBI_NH_VA by ASID) and stage 2 (TLBI_S2_IPA by VMID): one
 * command and one CMD_SYNC per page, no batch, the fields a batch would
 * give (the page's address, its domain's ID, Leaf), executed by the model
 * (the page faults at once, its neighbour still translates); with the
 * TLBI skipped the model's TLB keeps the page (so the fault above is the
 * TLBI's doing). */
static void test_flush1(void)
{
	for (int s1 = 0; s1 < 2; s1++) {
		struct tenv t;
		struct smmu_stats a, b;
		struct smmu_model_stats ma, mb;
		uint64_t v;

		scenario_up(&t, "", s1 ? UIOMMU_HWPT_STAGE1 : 0);
		map_pages(&t, 4);
		for (unsigned int i = 0; i < 4; i++)
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
				  0);
		for (unsigned int i = 0; i < 3; i++) {
			uint32_t start = smmu_of(t.unit)->cmdq.prod;
			uint32_t did = t.hwpt->inst[0].did;
			const uint64_t *c;

			smmu_get_stats(t.unit, &a);
			smmu_model_get_stats(t.m, &ma);
			CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000 + i * 4096, 4096, NULL) == 0);
			smmu_get_stats(t.unit, &b);
			smmu_model_get_stats(t.m, &mb);
			CU_ASSERT(b.cmds - a.cmds == 1 && b.syncs - a.syncs == 1);
			CU_ASSERT(b.batches == a.batches); /* no batch */
			CU_ASSERT(mb.cmds - ma.cmds == 2 && mb.tlbi - ma.tlbi == 1 &&
				  mb.syncs - ma.syncs == 1);
			c = cmdq_slot(&t, start);
			if (s1) {
				CU_ASSERT(FIELD_GET(SMMU_CMD0_OP, c[0]) == SMMU_OP_TLBI_NH_VA);
				CU_ASSERT(FIELD_GET(SMMU_CMD0_ASID, c[0]) == did);
				CU_ASSERT(FIELD_GET(SMMU_CMD0_VMID, c[0]) == 0);
				CU_ASSERT((c[1] & SMMU_CMD1_VA) == 0x200000 + i * 4096);
			} else {
				CU_ASSERT(FIELD_GET(SMMU_CMD0_OP, c[0]) == SMMU_OP_TLBI_S2_IPA);
				CU_ASSERT(FIELD_GET(SMMU_CMD0_VMID, c[0]) == did);
				CU_ASSERT(FIELD_GET(SMMU_CMD0_ASID, c[0]) == 0);
				CU_ASSERT((c[1] & SMMU_CMD1_IPA) == 0x200000 + i * 4096);
			}
			CU_ASSERT(c[1] & SMMU_CMD1_LEAF);
			CU_ASSERT(FIELD_GET(SMMU_CMD0_OP, cmdq_slot(&t, start + 1)[0]) ==
				  SMMU_OP_CMD_SYNC);
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
				  -EFAULT);
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + (i + 1) * 4096, &v, 8,
				      false) == 0);
		}
		/* The last page with the TLBI skipped: stale, as the model must
		 * show; no fast path then (nothing but the CMD_SYNC). */
		smmu_get_stats(t.unit, &a);
		smmu_test_skip_tlbi(t.unit, true);
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000 + 3 * 4096, 4096, NULL) == 0);
		smmu_test_skip_tlbi(t.unit, false);
		smmu_get_stats(t.unit, &b);
		CU_ASSERT(b.cmds == a.cmds && b.batches - a.batches == 1);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + 3 * 4096, &v, 8, false) == 0);
		drain_all();
		scenario_down(&t);
	}
}

/* The queue wraps under the one-page flush: on a queue of 2 slots
 * (IDR1.CMDQS 1: every flush fills it) and of 4 and 8 slots with the
 * position made odd by batches of 3 slots in between, so a TLBI lands in
 * the last slot and its CMD_SYNC in the first, and (8 slots: 2 lines) in
 * two cache lines; with IDR0.COHACC 0 both slots' lines are written back.
 * The two slots are filled with a refused opcode first: the driver must
 * write both (in the right places).  Every page faults after its unmap. */
static const void *wb_want[2];
static unsigned int wb_seen[2];

static void wb_hook(const void *line)
{
	for (int i = 0; i < 2; i++)
		if (line == wb_want[i])
			wb_seen[i]++;
}

static void flush1_wrap(const char *cfg)
{
	struct tenv t;
	uint64_t v;
	bool split = false, wrapped = false, cross = false;
	bool nc = strstr(cfg, "cohacc=0") != NULL;

	scenario_up(&t, cfg, UIOMMU_HWPT_STAGE1);
	struct smmu_unit *su = smmu_of(t.unit);
	uint32_t idx_mask = (1u << su->cmdq.shift) - 1u, mask = (2u << su->cmdq.shift) - 1u;

	map_pages(&t, 16);
	for (unsigned int i = 0; i < 16; i++)
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) == 0);
	for (unsigned int i = 0; i < 16; i++) {
		struct smmu_stats a, b;
		uint32_t start;

		if (i % 3 == 1) { /* two commands + CMD_SYNC: 3 slots */
			struct smmu_batch bt;

			smmu_batch_init(&bt, su);
			smmu_cmd_cfgi_ste(&bt, SID);
			smmu_cmd_cfgi_ste(&bt, SID);
			CU_ASSERT(smmu_batch_sync(&bt) == 0);
		}
		start = su->cmdq.prod;
		split |= (start & idx_mask) == idx_mask;
		wb_want[0] = (const void *)((uintptr_t)cmdq_slot(&t, start) &
					    ~(uintptr_t)(CACHE_WB_LINE - 1));
		wb_want[1] = (const void *)((uintptr_t)cmdq_slot(&t, start + 1) &
					    ~(uintptr_t)(CACHE_WB_LINE - 1));
		cross |= wb_want[0] != wb_want[1];
		/* The two slots it must write hold commands the SMMU refuses
		 * until then (the queue is empty: nothing pending there). */
		for (uint32_t k = 0; k < 2; k++) {
			uint64_t *slot = (uint64_t *)cmdq_slot(&t, start + k);

			slot[0] = 0x7f; /* no such opcode */
			slot[1] = 0;
		}
		wb_seen[0] = wb_seen[1] = 0;
		smmu_get_stats(t.unit, &a);
		cache_wb_test_hook = wb_hook;
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000 + i * 4096, 4096, NULL) == 0);
		cache_wb_test_hook = NULL;
		smmu_get_stats(t.unit, &b);
		CU_ASSERT(b.syncs - a.syncs == 1 && b.batches == a.batches);
		CU_ASSERT(su->cmdq.prod == ((start + 2u) & mask));
		CU_ASSERT(b.cmd_errors == a.cmd_errors);
		CU_ASSERT(FIELD_GET(SMMU_CMD0_OP, cmdq_slot(&t, start)[0]) == SMMU_OP_TLBI_NH_VA);
		CU_ASSERT((cmdq_slot(&t, start)[1] & SMMU_CMD1_VA) == 0x200000 + i * 4096);
		CU_ASSERT(FIELD_GET(SMMU_CMD0_OP, cmdq_slot(&t, start + 1)[0]) == SMMU_OP_CMD_SYNC);
		wrapped |= su->cmdq.prod < start;
		CU_ASSERT(nc ? wb_seen[0] >= 1 && wb_seen[1] >= 1 : !wb_seen[0] && !wb_seen[1]);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
			  -EFAULT);
		if (i < 15)
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + (i + 1) * 4096, &v, 8,
				      false) == 0);
	}
	CU_ASSERT(wrapped);
	if (idx_mask > 1)
		CU_ASSERT(split); /* a TLBI in the last slot, its sync in the first */
	if (nc && su->cmdq.shift >= 3)
		CU_ASSERT(cross); /* and in two cache lines */
	drain_all();
	scenario_down(&t);
}

static void test_flush1_wrap(void)
{
	flush1_wrap("cmdqs=1");
	flush1_wrap("cmdqs=2");
	flush1_wrap("cmdqs=3,cohacc=0");
	flush1_wrap("cmdqs=1,cohacc=0");
}

/* After a failed one-page flush left the unit stale (pages 0x200000 and
 * 0x201000 mapped, the first one's unmap failed): the next unmap first
 * invalidates everything, then its page; neither page translates after.
 * Then the scenario goes. */
static void unmap_recovers(struct tenv *tp)
{
	struct tenv t = *tp;
	uint64_t v;

	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x201000, 4096, NULL) == 0);
	CU_ASSERT(!t.unit->inv_stale);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x201000, &v, 8, false) == -EFAULT);
	drain_all();
	scenario_down(tp);
}

/* The one-page TLBI refused (the model without stage 1 or 2 refuses
 * TLBI_NH_VA or TLBI_S2_IPA: CERROR_ILL): the unmap fails with -EIO, the
 * refusal is reported as the first command (index 0) and recovered (its
 * CMD_SYNC ran after it), the unit is left stale (the page still
 * translates in the model's TLB) and the next flush invalidates
 * everything first: then neither page translates. */
static void test_flush1_refused(void)
{
	for (int s1 = 0; s1 < 2; s1++) {
		struct tenv t;
		struct smmu_stats a, b;
		struct smmu_model_stats ma, mb;
		struct uiommu_event ev[4];
		uint64_t v;

		scenario_up(&t, "", s1 ? UIOMMU_HWPT_STAGE1 : 0);
		map_pages(&t, 2);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x201000, &v, 8, false) == 0);
		drain_all();
		smmu_get_stats(t.unit, &a);
		smmu_model_get_stats(t.m, &ma);
		if (s1)
			t.m->cfg.s1 = false;
		else
			t.m->cfg.s2 = false;
		CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == -EIO);
		t.m->cfg.s1 = t.m->cfg.s2 = true;
		smmu_get_stats(t.unit, &b);
		smmu_model_get_stats(t.m, &mb);
		CU_ASSERT(b.cmd_errors - a.cmd_errors == 1 && b.batches == a.batches);
		CU_ASSERT(mb.cmd_errors - ma.cmd_errors == 1);
		CU_ASSERT(mb.syncs - ma.syncs == 2);	/* the one written over it, its own */
		CU_ASSERT(t.m->gerror == t.m->gerrorn); /* acknowledged */
		CU_ASSERT(t.unit->inv_stale);
		CU_ASSERT(drain(ev, 4) == 1);
		CU_ASSERT(ev[0].type == UIOMMU_EV_QUEUE_ERROR && ev[0].reason == SMMU_CERROR_ILL &&
			  ev[0].addr == 0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0); /* stale */
		/* The next one: everything invalidated first, then its page. */
		unmap_recovers(&t);
	}
}

/* An SMMU that stops consuming during a one-page flush: the wait is
 * bounded, the unmap fails with -ETIMEDOUT, the queue is restarted at 0,
 * and once the SMMU answers the next unmap works (after invalidating
 * everything: the stale unit). */
static void test_flush1_timeout(void)
{
	struct tenv t;
	struct smmu_stats a, b;
	struct uiommu_event ev[4];
	uint64_t v, t0;

	scenario_up(&t, "", UIOMMU_HWPT_STAGE1);
	map_pages(&t, 2);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x201000, &v, 8, false) == 0);
	smmu_of(t.unit)->timeout_ns = 2 * 1000 * 1000;
	smmu_get_stats(t.unit, &a);
	smmu_model_set_stuck(t.m, true);
	t0 = uenv_now_ns();
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == -ETIMEDOUT);
	CU_ASSERT(uenv_now_ns() - t0 < 1000ull * 1000 * 1000);
	smmu_model_set_stuck(t.m, false);
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.timeouts - a.timeouts == 1);
	CU_ASSERT(smmu_of(t.unit)->cmdq.prod == 0 && t.m->cmdq_prod == 0);
	CU_ASSERT(t.unit->inv_stale);
	CU_ASSERT(drain(ev, 4) == 1 && ev[0].type == UIOMMU_EV_QUEUE_ERROR &&
		  ev[0].reason == UINT32_MAX);
	smmu_of(t.unit)->timeout_ns = SMMU_TIMEOUT_NS;
	unmap_recovers(&t);
}

/* CMDQ_CONS that is not PROD at the first read: the SMMU still busy (the
 * next @cons_lag reads show the old value), or RES0 bits above the index
 * set (IHI 0070 6.3.27: bits [23:20] here).  The one-page flush then
 * waits as every batch does (the index compared under the queue's mask)
 * and succeeds; the page faults after.  CONS.ERR with an old code while no
 * CMDQ_ERR is active (its value is UNKNOWN then) does not delay it. */
static const struct uiommu_model_io *cons_real;
static unsigned int cons_lag, cons_lag_left, cons_reads;
static uint32_t cons_res0, cons_old;

static uint64_t cons_read(void *m, uint32_t off, unsigned int size)
{
	uint64_t v = cons_real->read(m, off, size);

	if (off != SMMU_CMDQ_CONS)
		return v;
	cons_reads++;
	if (cons_lag_left) {
		cons_lag_left--;
		return cons_old;
	}
	return v | cons_res0;
}

static void cons_write(void *m, uint32_t off, uint64_t v, unsigned int size)
{
	if (off == SMMU_CMDQ_PROD) {
		cons_old = (uint32_t)cons_real->read(m, SMMU_CMDQ_CONS, 4);
		cons_lag_left = cons_lag;
	}
	cons_real->write(m, off, v, size);
}

static const struct uiommu_model_io cons_io = {.read = cons_read, .write = cons_write};

static void test_flush1_slow_cons(void)
{
	static const struct {
		unsigned int lag;
		uint32_t bits; /* ORed into CONS after the lag */
		bool done_at_once;
	} c[] = {{0, 0, true},
		 {3, 0, false},
		 {0, 0x00f00000u, false},
		 {2, 0x00100000u, false},
		 /* CONS.ERR holding an old code (no CMDQ_ERR active): done. */
		 {0, 0x7f000000u, true},
		 {2, 0x01000000u, false}};

	for (size_t k = 0; k < ARRAY_SIZE(c); k++) {
		struct tenv t;
		struct smmu_stats a, b;
		uint64_t v;

		scenario_up(&t, "cmdqs=2", UIOMMU_HWPT_STAGE1);
		map_pages(&t, 4);
		cons_real = unit_regs(t.unit)->model;
		unit_regs(t.unit)->model = &cons_io;
		cons_lag = c[k].lag;
		cons_res0 = c[k].bits;
		for (unsigned int i = 0; i < 4; i++) {
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
				  0);
			smmu_get_stats(t.unit, &a);
			cons_reads = 0;
			CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000 + i * 4096, 4096, NULL) == 0);
			smmu_get_stats(t.unit, &b);
			CU_ASSERT(b.syncs - a.syncs == 1 && b.batches == a.batches);
			CU_ASSERT(b.cmd_errors == a.cmd_errors && b.timeouts == a.timeouts);
			/* One read when it is done at once; else the first, the
			 * lagging ones and the one that sees it done. */
			CU_ASSERT(cons_reads ==
				  (c[k].done_at_once ? 1 : 1 + (c[k].lag ? c[k].lag : 1)));
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000 + i * 4096, &v, 8, false) ==
				  -EFAULT);
		}
		CU_ASSERT(!t.unit->inv_stale);
		unit_regs(t.unit)->model = cons_real;
		cons_lag = 0;
		cons_res0 = 0;
		drain_all();
		scenario_down(&t);
	}
}

/* The STE of @sid in the driver's stream table (it exists). */
static const uint64_t *ste_mem(const struct smmu_unit *su, uint32_t sid)
{
	if (!su->st_2lvl)
		return (const uint64_t *)su->strtab.va + (size_t)sid * SMMU_STE_DWORDS;
	return (const uint64_t *)su->l2[sid >> SMMU_SPLIT].va +
	       (size_t)(sid & ((1u << SMMU_SPLIT) - 1)) * SMMU_STE_DWORDS;
}

/* An attach whose STE update is not confirmed (the SMMU stops consuming
 * commands) fails and changes nothing: the STE in memory and the driver's
 * record are the old attachment's (the core keeps it, and may free the
 * new table), and once the SMMU refetches, the device translates as
 * before.  Likewise a stage-1 attach of a PASID. */
static void test_attach_rollback(void)
{
	struct tenv t;
	struct uiommu_ioas *io2;
	struct uiommu_hwpt *h2;
	uint64_t iova = 0x200000, v, ste[SMMU_STE_DWORDS], ttb0;
	struct smmu_dev *sd;

	scenario_up(&t, "", 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &io2) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(io2, t.unit, 0, &h2) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	sd = t.dev->priv;
	ttb0 = sd->s2ttb;
	smmu_of(t.unit)->timeout_ns = 2 * 1000 * 1000;
	smmu_model_set_stuck(t.m, true);
	CU_ASSERT(uiommu_device_replace(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(h2), NULL) ==
		  -ETIMEDOUT);
	smmu_model_set_stuck(t.m, false);
	smmu_of(t.unit)->timeout_ns = SMMU_TIMEOUT_NS;
	CU_ASSERT(uiommu_device_attached_hwpt(t.dev, UIOMMU_NO_PASID) == uiommu_hwpt_id(t.hwpt));
	smmu_ste_build(smmu_of(t.unit), sd, ste);
	CU_ASSERT(memcmp(ste, ste_mem(smmu_of(t.unit), SID), sizeof(ste)) == 0);
	CU_ASSERT(sd->s2ttb == ttb0 && sd->rid == SMMU_RID_S2);
	CU_ASSERT(smmu_inv_all(smmu_of(t.unit)) == 0); /* the SMMU refetches */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	drain_all();
	CU_ASSERT(uiommu_hwpt_destroy(h2) == 0);
	CU_ASSERT(uiommu_ioas_destroy(io2) == 0);
	state_clean();
	scenario_down(&t);
}

static uint64_t v_junk[64];

/* Adoption (a new process after kill -9) and recovery read the driver's
 * record from the state file: a size, index or pointer it would follow
 * that is out of its bounds is refused, nothing is touched. */
static void test_adopt_check(void)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(UIOMMU_FAMILY_SMMUV3);
	struct tenv t;
	struct smmu_unit *su;
	struct smmu_unit save;

	scenario_up(&t, "", 0);
	su = smmu_of(t.unit);
	save = *su;
	CU_ASSERT(ops->unit_adopt(t.unit) == 0);
	CU_ASSERT(ops->unit_recover(t.unit) == 0);
	su->evtq.shift = 30; /* drain would index far past the queue */
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	CU_ASSERT(ops->unit_recover(t.unit) == -EINVAL);
	*su = save;
	su->evtq.cons = 0x12345;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->cmdq.prod = 1u << 20;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->nr_l1 = save.nr_l1 * 2; /* L1 index past the table */
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->sid_bits = 24;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->strtab.va = (uint8_t *)su->strtab.va + 4096; /* va and bus address disagree */
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->l2 = (struct uenv_dma *)(void *)&v_junk;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	su->ssid_bits = 17;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	/* A second-level table not aligned to its 16 KiB (the SMMU would read
	 * STEs at the aligned address below it), or a stream table not
	 * aligned to its size: refused, also by recover. */
	{
		uint32_t i = SID >> SMMU_SPLIT;
		struct uenv_dma l2 = su->l2[i];

		CU_ASSERT_FATAL(l2.va && IS_ALIGNED_ULL(l2.iova, SMMU_L2_STRTAB_SIZE));
		su->l2[i].va = (uint8_t *)l2.va + 4096;
		su->l2[i].iova = l2.iova + 4096;
		CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
		CU_ASSERT(ops->unit_recover(t.unit) == -EINVAL);
		su->l2[i] = l2;
		/* ... and the walk shows an L1 descriptor pointing off-size. */
		uint64_t *l1 = (uint64_t *)su->strtab.va + i, d = *l1;
		struct uiommu_walk_level lv[8];

		*l1 = d + 4096;
		int k = uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0, lv, 8);
		CU_ASSERT(k == 1 && !lv[0].present && strstr(lv[0].text, "not aligned"));
		*l1 = d;
		k = uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, 0, lv, 8);
		CU_ASSERT(k > 1 && lv[0].present);
	}
	su->strtab.va = (uint8_t *)su->strtab.va + 64;
	su->strtab.iova += 64;
	CU_ASSERT(ops->unit_adopt(t.unit) == -EINVAL);
	*su = save;
	CU_ASSERT(ops->unit_adopt(t.unit) == 0);
	scenario_down(&t);
}

/* PRI: a page request from the PRI queue, answered with PRI_RESP. */
static void test_pri(void)
{
	struct tenv t;
	struct uiommu_event ev[4];
	struct smmu_model_stats st;

	scenario_up(&t, "pri=1", UIOMMU_HWPT_STAGE1);
	CU_ASSERT(t.unit->caps.page_requests);
	CU_ASSERT(smmu_model_page_request(t.m, SID, 5, 0x123456000, 7, true, true) == 0);
	CU_ASSERT(drain(ev, 4) == 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_PAGE_REQ && ev[0].hw_id == SID && ev[0].pasid == 5 &&
		  ev[0].addr == 0x123456000 && ev[0].grpid == 7 &&
		  (ev[0].flags & (UIOMMU_EV_LAST | UIOMMU_EV_WRITE | UIOMMU_EV_PASID)) ==
			  (UIOMMU_EV_LAST | UIOMMU_EV_WRITE | UIOMMU_EV_PASID) &&
		  ev[0].dev_id == uiommu_device_id(t.dev));
	CU_ASSERT(uiommu_page_response(t.dev, 5, 7, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.pri_resps == 1 && st.last_pri_resp == (SID << 12 | 7u << 2 | 2u));
	CU_ASSERT(uiommu_page_response(t.dev, 5, 0x200, UIOMMU_PAGE_RESP_SUCCESS) == -EINVAL);
	scenario_down(&t);
	/* Without PRI: no queue, no response. */
	scenario_up(&t, "", UIOMMU_HWPT_STAGE1);
	CU_ASSERT(!t.unit->caps.page_requests);
	CU_ASSERT(uiommu_page_response(t.dev, 5, 7, UIOMMU_PAGE_RESP_SUCCESS) == -EOPNOTSUPP);
	scenario_down(&t);
}

/* PRI_RESP only for a page request group the SMMU reported (its Last
 * request drained) and not answered yet, matched by StreamID, SubstreamID
 * and group index; a group with no room to wait is denied by the driver. */
static void test_pri_match(void)
{
	struct tenv t;
	struct uiommu_event ev[128];
	struct smmu_model_stats st0, st;
	struct smmu_stats ds;

	scenario_up(&t, "pri=1", UIOMMU_HWPT_STAGE1);
	smmu_model_get_stats(t.m, &st0);
	/* Never requested: refused, nothing sent. */
	CU_ASSERT(uiommu_page_response(t.dev, 5, 9, UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	/* A group is answered after its Last request, once. */
	CU_ASSERT(smmu_model_page_request(t.m, SID, 5, 0x1000, 3, false, false) == 0);
	CU_ASSERT(drain(ev, 4) == 1 && !(ev[0].flags & UIOMMU_EV_LAST));
	CU_ASSERT(uiommu_page_response(t.dev, 5, 3, UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	CU_ASSERT(smmu_model_page_request(t.m, SID, 5, 0x2000, 3, true, false) == 0);
	CU_ASSERT(drain(ev, 4) == 1 && (ev[0].flags & UIOMMU_EV_LAST));
	CU_ASSERT(uiommu_page_response(t.dev, 5, 3, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	CU_ASSERT(uiommu_page_response(t.dev, 5, 3, UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	/* Matched by SubstreamID too (and its absence). */
	CU_ASSERT(smmu_model_page_request(t.m, SID, 5, 0x3000, 4, true, false) == 0);
	CU_ASSERT(drain(ev, 4) == 1);
	CU_ASSERT(uiommu_page_response(t.dev, 6, 4, UIOMMU_PAGE_RESP_INVALID) == -ENOENT);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, 4, UIOMMU_PAGE_RESP_INVALID) ==
		  -ENOENT);
	CU_ASSERT(uiommu_page_response(t.dev, 5, 4, UIOMMU_PAGE_RESP_INVALID) == 0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.pri_resps == st0.pri_resps + 2);
	/* SMMU_PRG_DEV_MAX groups of one device wait; one more is denied by
	 * the driver (the device is answered, the event not handed out). */
	for (uint32_t i = 0; i < SMMU_PRG_DEV_MAX; i += 64) {
		for (uint32_t k = i; k < i + 64; k++)
			CU_ASSERT(smmu_model_page_request(t.m, SID, 1, 0x4000, k, true, false) ==
				  0);
		CU_ASSERT(drain(ev, 128) == 64);
	}
	CU_ASSERT(smmu_model_page_request(t.m, SID, 2, 0x5000, 1, true, false) == 0);
	CU_ASSERT(drain(ev, 4) == 0);
	smmu_model_get_stats(t.m, &st);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.prg_denied == 1 && st.pri_resps == st0.pri_resps + 3 &&
		  st.last_pri_resp == (SID << 12 | 1u << 2 | SMMU_PRI_RESP_DENY));
	CU_ASSERT(uiommu_page_response(t.dev, 2, 1, UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	for (uint32_t k = 0; k < SMMU_PRG_DEV_MAX; k++)
		CU_ASSERT(uiommu_page_response(t.dev, 1, k, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	/* Answered: the device's budget is back. */
	CU_ASSERT(smmu_model_page_request(t.m, SID, 2, 0x5000, 1, true, false) == 0);
	CU_ASSERT(drain(ev, 4) == 1);
	CU_ASSERT(uiommu_page_response(t.dev, 2, 1, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	scenario_down(&t);
}

/* Fill @n groups of @sid (group indexes @g0..), all handed out. */
static void prg_fill(struct tenv *t, uint32_t sid, uint32_t g0, uint32_t n)
{
	struct uiommu_event ev[64];

	for (uint32_t i = 0; i < n; i += 64) {
		uint32_t m = n - i < 64 ? n - i : 64;

		for (uint32_t k = 0; k < m; k++)
			CU_ASSERT(smmu_model_page_request(t->m, sid, UIOMMU_NO_PASID, 0x4000,
							  g0 + i + k, true, false) == 0);
		CU_ASSERT(drain(ev, 64) == m);
	}
}

/* One device that never answers cannot keep the others' page request
 * groups out: its budget is a quarter of the unit's table; the table
 * fills only when four devices hold their whole budget.  Requests from a
 * StreamID with no device are not handed out and their group is failed
 * by the driver. */
static void test_pri_budget(void)
{
	static const uint32_t sids[5] = {SID, SID2, 0x0530, 0x0640, 0x0750};
	struct uiommu_device *d[5] = {0};
	struct uiommu_event ev[8];
	struct smmu_model_stats st;
	struct smmu_stats ds;
	struct tenv t;

	CU_ASSERT_FATAL(SMMU_PRG_DEV_MAX * 4u == SMMU_PRG_MAX);
	CU_ASSERT_FATAL(unit_up(&t, "pri=1") == 0);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_FATAL(dev_up(&t, sids[i], 0, &d[i]) == 0);
	/* Device 0 holds its whole budget and does not answer. */
	prg_fill(&t, sids[0], 0, SMMU_PRG_DEV_MAX);
	CU_ASSERT(smmu_model_page_request(t.m, sids[0], UIOMMU_NO_PASID, 0, 0x1ff, true, false) ==
		  0);
	CU_ASSERT(drain(ev, 8) == 0);
	/* The others still get theirs. */
	prg_fill(&t, sids[1], 0, SMMU_PRG_DEV_MAX);
	prg_fill(&t, sids[2], 0, SMMU_PRG_DEV_MAX);
	prg_fill(&t, sids[3], 0, SMMU_PRG_DEV_MAX - 1);
	/* The last slot of the table. */
	CU_ASSERT(smmu_model_page_request(t.m, sids[4], UIOMMU_NO_PASID, 0, 9, true, false) == 0);
	CU_ASSERT(drain(ev, 8) == 1 && ev[0].hw_id == sids[4] && ev[0].grpid == 9);
	/* Full: denied, whoever asks. */
	CU_ASSERT(smmu_model_page_request(t.m, sids[3], UIOMMU_NO_PASID, 0, 0x1fe, true, false) ==
		  0);
	CU_ASSERT(drain(ev, 8) == 0);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.prg_denied == 2);
	/* One answer makes room for anyone under its budget. */
	CU_ASSERT(uiommu_page_response(d[1], UIOMMU_NO_PASID, 5, UIOMMU_PAGE_RESP_SUCCESS) == 0);
	CU_ASSERT(smmu_model_page_request(t.m, sids[3], UIOMMU_NO_PASID, 0, 0x1fe, true, false) ==
		  0);
	CU_ASSERT(drain(ev, 8) == 1 && ev[0].grpid == 0x1fe);
	CU_ASSERT(uiommu_page_response(d[3], UIOMMU_NO_PASID, 0x1fe, UIOMMU_PAGE_RESP_SUCCESS) ==
		  0);
	/* A StreamID with no device: nothing handed out, the group failed
	 * at its Last request (Response Failure), nothing to answer. */
	CU_ASSERT(smmu_model_page_request(t.m, 0x0860, 3, 0x6000, 4, false, false) == 0);
	CU_ASSERT(drain(ev, 8) == 0);
	smmu_model_get_stats(t.m, &st);
	{
		uint64_t before = st.pri_resps;

		CU_ASSERT(smmu_model_page_request(t.m, 0x0860, 3, 0x7000, 4, true, false) == 0);
		CU_ASSERT(drain(ev, 8) == 0);
		smmu_model_get_stats(t.m, &st);
		CU_ASSERT(st.pri_resps == before + 1 &&
			  st.last_pri_resp == (0x0860u << 12 | 4u << 2 | SMMU_PRI_RESP_FAIL));
	}
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.prg_foreign == 1);
	/* A device removed: its groups go (and its budget with them); the
	 * StreamID is foreign again. */
	CU_ASSERT(uiommu_device_remove(d[0]) == 0);
	d[0] = NULL;
	CU_ASSERT(smmu_model_page_request(t.m, sids[0], UIOMMU_NO_PASID, 0, 7, true, false) == 0);
	CU_ASSERT(drain(ev, 8) == 0);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.prg_foreign == 2);
	CU_ASSERT(smmu_model_page_request(t.m, sids[4], UIOMMU_NO_PASID, 0, 10, true, false) == 0);
	CU_ASSERT(drain(ev, 8) == 1);
	for (int i = 1; i < 5; i++)
		CU_ASSERT(uiommu_device_remove(d[i]) == 0);
	scenario_down(&t);
}

/* Stall mode: a stalling device's stage-1 fault parks the transaction
 * (the fault event carries Stall and its STAG); CMD_RESUME through
 * uiommu_page_response retries it (after the host mapped the page) or
 * aborts it. */
static void test_stall(void)
{
	struct tenv t;
	struct uiommu_device_desc dd = {.bus = 3, .devfn = 0x10, .hw_id = SID, .stall = true};
	struct uiommu_device *plain;
	struct smmu_model_stats st;
	struct smmu_stats ds0, ds;
	struct uiommu_event ev;
	uint64_t iova = 0x300000, val = 0x51a11ed0cafeull, rd = 0;

	CU_ASSERT_FATAL(unit_up(&t, "stall=1") == 0);
	CU_ASSERT(FIELD_GET(SMMU_IDR0_STALL, t.unit->hw_info.u.smmuv3.idr[0]) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_STAGE1, &t.hwpt) == 0);
	CU_ASSERT_FATAL(
		uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(t.hwpt), NULL) == 0);
	CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
	memset(t.buf.va, 0, 4096);
	/* Not mapped yet: the write stalls. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x300008, &val, 8, true) == -EAGAIN);
	CU_ASSERT_FATAL(one_fault(&ev));
	CU_ASSERT(ev.reason == SMMU_EVT_F_TRANSLATION && (ev.flags & UIOMMU_EV_STALL) &&
		  ev.addr == 0x300008 && ev.dev_id == uiommu_device_id(t.dev));
	/* A tag nothing is stalled under: refused, nothing sent. */
	smmu_get_stats(t.unit, &ds0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, ev.grpid + 1,
				       UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.cmds == ds0.cmds);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.stalls == 1 && st.resumes == 0);
	/* The host maps the page, then resumes: the write lands. */
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, ev.grpid,
				       UIOMMU_PAGE_RESP_SUCCESS) == 0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == 1 && st.last_resume_rc == 0);
	CU_ASSERT(memcmp((uint8_t *)t.buf.va + 8, &val, 8) == 0);
	/* Resumed already: refused, nothing sent. */
	smmu_get_stats(t.unit, &ds0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, ev.grpid,
				       UIOMMU_PAGE_RESP_SUCCESS) == -ENOENT);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.cmds == ds0.cmds);
	/* Another stall, answered with a failure: aborted, nothing read. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x700000, &rd, 8, false) == -EAGAIN);
	CU_ASSERT_FATAL(one_fault(&ev));
	CU_ASSERT(ev.flags & UIOMMU_EV_STALL);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, ev.grpid,
				       UIOMMU_PAGE_RESP_INVALID) == 0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == 2 && st.last_resume_rc == -EFAULT && rd == 0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, 0x10000, UIOMMU_PAGE_RESP_SUCCESS) ==
		  -EINVAL);
	/* A device that does not stall, on the same SMMU: terminated. */
	dd.hw_id = SID2;
	dd.stall = false;
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &plain) == 0);
	CU_ASSERT(uiommu_device_attach(plain, UIOMMU_NO_PASID, uiommu_hwpt_id(t.hwpt), NULL) == 0);
	CU_ASSERT(dma(plain, UIOMMU_NO_PASID, 0x700000, &rd, 8, false) == -EFAULT);
	CU_ASSERT(one_fault(&ev) && !(ev.flags & UIOMMU_EV_STALL));
	CU_ASSERT(uiommu_device_detach(plain, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(plain) == 0);
	scenario_down(&t);
	/* An SMMU that only terminates: no stalling device on it. */
	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	dd.stall = true;
	CU_ASSERT(uiommu_device_add(t.unit, &dd, &plain) == -EOPNOTSUPP);
	scenario_down(&t);
}

/* The driver's stall table (SMMU_STALL_TRACK) and each device's share of
 * it (SMMU_STALL_DEV_MAX): an SMMU that parks more than that (model
 * stallmax=200).  A device past its share, and any device once the table
 * is full, gets its new stalls aborted at once (CMD_RESUME Abort, the
 * event handed out as a plain fault, counted); what was tracked can
 * still be resumed, and resuming frees room again. */
#define NSTALL_DEV 5u
static void test_stall_full(void)
{
	struct tenv t;
	struct uiommu_device *d[NSTALL_DEV];
	struct uiommu_event ev[64];
	struct smmu_model_stats st;
	struct smmu_stats ds;
	uint32_t tracked[NSTALL_DEV] = {0}, plain[NSTALL_DEV] = {0}, stag_kept = 0;
	uint64_t rd = 0;

	CU_ASSERT_FATAL(unit_up(&t, "stall=1,stallmax=200") == 0);
	CU_ASSERT(FIELD_GET(SMMU_IDR5_STALL_MAX, t.unit->hw_info.u.smmuv3.idr[5]) == 200);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_STAGE1, &t.hwpt) == 0);
	for (uint32_t i = 0; i < NSTALL_DEV; i++) {
		struct uiommu_device_desc dd = {
			.bus = 3, .devfn = (uint8_t)(0x10 + i), .hw_id = SID + i, .stall = true};

		CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &d[i]) == 0);
		CU_ASSERT_FATAL(uiommu_device_attach(d[i], UIOMMU_NO_PASID, uiommu_hwpt_id(t.hwpt),
						     NULL) == 0);
	}
	/* Device 0: SMMU_STALL_DEV_MAX + 8 stalls; devices 1..4: as many
	 * as their share, until the table is full. */
	for (uint32_t i = 0; i < NSTALL_DEV; i++) {
		uint32_t n = i == 0 ? SMMU_STALL_DEV_MAX + 8 : SMMU_STALL_DEV_MAX;

		for (uint32_t k = 0; k < n; k++) {
			CU_ASSERT(dma(d[i], UIOMMU_NO_PASID, 0x300000 + (uint64_t)k * 4096, &rd, 8,
				      false) == -EAGAIN);
			for (uint16_t e = drain(ev, 64), j = 0; j < e; j++) {
				uint32_t who = ev[j].hw_id - SID;

				CU_ASSERT_FATAL(ev[j].type == UIOMMU_EV_FAULT && who < NSTALL_DEV);
				if (ev[j].flags & UIOMMU_EV_STALL) {
					tracked[who]++;
					if (who == 1 && !stag_kept)
						stag_kept = ev[j].grpid | 0x10000u;
				} else {
					plain[who]++;
				}
			}
		}
	}
	/* 0: its share, the rest aborted; 1-3: their share; 4: what is left
	 * of the table (128 - 4 * 32 = 0): all aborted. */
	CU_ASSERT(tracked[0] == SMMU_STALL_DEV_MAX && plain[0] == 8);
	for (uint32_t i = 1; i < 4; i++)
		CU_ASSERT(tracked[i] == SMMU_STALL_DEV_MAX && plain[i] == 0);
	CU_ASSERT(tracked[4] == SMMU_STALL_TRACK - 4 * SMMU_STALL_DEV_MAX &&
		  plain[4] == SMMU_STALL_DEV_MAX - tracked[4]);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.stalls_aborted == 8 + plain[4]);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == ds.stalls_aborted && st.last_resume_rc == -EFAULT);
	/* A tracked stall is resumed by its owner; that frees a slot: the
	 * next stall of device 4 is tracked. */
	CU_ASSERT_FATAL(stag_kept != 0);
	CU_ASSERT(uiommu_page_response(d[1], UIOMMU_NO_PASID, stag_kept & 0xffffu,
				       UIOMMU_PAGE_RESP_FAILURE) == 0);
	CU_ASSERT(dma(d[4], UIOMMU_NO_PASID, 0x900000, &rd, 8, false) == -EAGAIN);
	CU_ASSERT(drain(ev, 64) == 1 && (ev[0].flags & UIOMMU_EV_STALL) && ev[0].hw_id == SID + 4);
	/* Every device goes: what they still had stalled is aborted. */
	for (uint32_t i = 0; i < NSTALL_DEV; i++) {
		CU_ASSERT(uiommu_device_detach(d[i], UIOMMU_NO_PASID) == 0);
		CU_ASSERT(uiommu_device_remove(d[i]) == 0);
	}
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == st.stalls);
	drain_all();
	scenario_down(&t);
}

/* A stalling device removed with transactions stalled: the driver aborts
 * them (CMD_RESUME Abort) and forgets them; the same StreamID added again
 * cannot resume the old STAGs. */
static void test_stall_forget(void)
{
	struct tenv t;
	struct uiommu_device_desc dd = {.bus = 3, .devfn = 0x10, .hw_id = SID, .stall = true};
	struct smmu_model_stats st;
	struct smmu_stats ds;
	struct uiommu_event ev[2];
	uint32_t stag0, stag1;
	uint64_t rd = 0;

	CU_ASSERT_FATAL(unit_up(&t, "stall=1") == 0);
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_STAGE1, &t.hwpt) == 0);
	CU_ASSERT_FATAL(
		uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(t.hwpt), NULL) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x300000, &rd, 8, false) == -EAGAIN);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x301000, &rd, 8, false) == -EAGAIN);
	CU_ASSERT_FATAL(drain(ev, 2) == 2);
	CU_ASSERT((ev[0].flags & ev[1].flags & UIOMMU_EV_STALL) && ev[0].grpid != ev[1].grpid);
	stag0 = ev[0].grpid;
	stag1 = ev[1].grpid;
	/* One resumed (aborted) by its owner, one left stalled. */
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, stag0, UIOMMU_PAGE_RESP_FAILURE) ==
		  0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == 1);
	/* A third stall, its event not drained yet when the device goes. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x302000, &rd, 8, false) == -EAGAIN);
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(t.dev) == 0);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == 2 && st.last_resume_rc == -EFAULT);
	/* Its event: nobody can resume it, the driver aborts it; handed out
	 * as a plain fault. */
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(ds.stalls_aborted == 0);
	CU_ASSERT_FATAL(drain(ev, 2) == 1);
	CU_ASSERT(ev[0].hw_id == SID && ev[0].addr == 0x302000 && !(ev[0].flags & UIOMMU_EV_STALL));
	smmu_model_get_stats(t.m, &st);
	smmu_get_stats(t.unit, &ds);
	CU_ASSERT(st.resumes == 3 && st.last_resume_rc == -EFAULT && ds.stalls_aborted == 1);
	CU_ASSERT_FATAL(uiommu_device_add(t.unit, &dd, &t.dev) == 0);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, stag1, UIOMMU_PAGE_RESP_SUCCESS) ==
		  -ENOENT);
	CU_ASSERT(uiommu_page_response(t.dev, UIOMMU_NO_PASID, stag0, UIOMMU_PAGE_RESP_SUCCESS) ==
		  -ENOENT);
	smmu_model_get_stats(t.m, &st);
	CU_ASSERT(st.resumes == 3);
	scenario_down(&t);
}

/* More faults than the event queue holds: one overflow event, then the
 * records that fit, in order. */
static void test_evtq_overflow(void)
{
	struct tenv t;
	struct uiommu_event ev[256];
	uint64_t v;
	uint16_t n;
	unsigned int qsize = 1u << SMMU_EVTQ_SHIFT;

	scenario_up(&t, "", 0);
	drain_all();
	for (unsigned int i = 0; i < qsize + 10; i++)
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x100000 + i * 4096ull, &v, 8, false) ==
			  -EFAULT);
	n = drain(ev, 256);
	CU_ASSERT(n == qsize + 1);
	CU_ASSERT(ev[0].type == UIOMMU_EV_OVERFLOW);
	CU_ASSERT(ev[1].type == UIOMMU_EV_FAULT && ev[1].addr == 0x100000);
	CU_ASSERT(ev[n - 1].addr == 0x100000 + (qsize - 1) * 4096ull);
	/* After the acknowledgement events flow again, without overflow. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x900000, &v, 8, false) == -EFAULT);
	n = drain(ev, 8);
	CU_ASSERT(n == 1 && ev[0].type == UIOMMU_EV_FAULT && ev[0].addr == 0x900000);
	scenario_down(&t);
}

/* EVTQ_PROD is input: a value more than a queue's worth ahead of our CONS
 * (a broken or hostile SMMU) is refused: no record is invented from stale
 * slots, CONS does not move; a sane PROD afterwards drains as usual. */
static void test_evtq_bad_prod(void)
{
	struct tenv t;
	struct uiommu_event ev[256];
	unsigned int qsize = 1u << SMMU_EVTQ_SHIFT;
	uint32_t good;
	uint64_t v;

	scenario_up(&t, "", 0);
	drain_all();
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x100000, &v, 8, false) == -EFAULT);
	good = t.m->evtq_prod;
	/* cons 0, PROD index 5 with the wrap bit: qsize + 5 records "ready". */
	t.m->evtq_prod = (uint32_t)qsize | 5u;
	CU_ASSERT(drain(ev, 256) == 0);
	CU_ASSERT(smmu_of(t.unit)->evtq.cons == 0);
	t.m->evtq_prod = good;
	CU_ASSERT(drain(ev, 256) == 1 && ev[0].type == UIOMMU_EV_FAULT && ev[0].addr == 0x100000);
	scenario_down(&t);
}

/* ------------------------------------------------------------ PASIDs */

static void test_pasid(void)
{
	struct tenv t;
	struct uiommu_ioas *io2;
	struct uiommu_hwpt *h2;
	struct uiommu_event ev;
	uint64_t iova = 0x300000, v = 0x77, r = 0;

	scenario_up(&t, "", UIOMMU_HWPT_STAGE1);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &io2) == 0);
	iova = 0x300000;
	CU_ASSERT_FATAL(uiommu_ioas_map(io2, &iova, t.buf.iova + 8192, 4096, RW) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(io2, t.unit, UIOMMU_HWPT_STAGE1, &h2) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, 5, uiommu_hwpt_id(h2), NULL) == 0);
	/* SSID 5 -> io2, no SSID -> CD 0 (the RID's, S1DSS SSID0). */
	CU_ASSERT(dma(t.dev, 5, 0x300000, &v, 8, true) == 0);
	CU_ASSERT(*(uint64_t *)((uint8_t *)t.buf.va + 8192) == 0x77);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x300000, &r, 8, false) == 0);
	CU_ASSERT(r == *(uint64_t *)t.buf.va);
	/* A SubstreamID without a CD: C_BAD_CD. */
	CU_ASSERT(dma(t.dev, 6, 0x300000, &r, 8, false) == -EFAULT);
	if (one_fault(&ev))
		CU_ASSERT(ev.reason == SMMU_EVT_C_BAD_CD && ev.pasid == 6 &&
			  (ev.flags & UIOMMU_EV_PASID));
	/* RID blocked with SSIDs live: S1DSS terminate -> F_STREAM_DISABLED. */
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x300000, &r, 8, false) == -EFAULT);
	if (one_fault(&ev))
		CU_ASSERT(ev.reason == SMMU_EVT_F_STREAM_DISABLED);
	CU_ASSERT(dma(t.dev, 5, 0x300000, &r, 8, false) == 0);
	/* A stage-2 table cannot go on a SubstreamID: refused, nothing changes. */
	struct uiommu_hwpt *s2;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(io2, t.unit, 0, &s2) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, 7, uiommu_hwpt_id(s2), NULL) != 0);
	CU_ASSERT(dma(t.dev, 5, 0x300000, &r, 8, false) == 0);
	state_clean();
	CU_ASSERT(uiommu_device_detach(t.dev, 5) == 0);
	CU_ASSERT(dma(t.dev, 5, 0x300000, &r, 8, false) == -EFAULT);
	drain_all();
	CU_ASSERT(uiommu_hwpt_destroy(s2) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(h2) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(io2, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(io2) == 0);
	scenario_down(&t);
}

/* ------------------------------------------------------------ nested */

/* A guest's stage-1 world in one 2 MiB block at IPA @ipa: CD at +0,
 * tables at +4K.., data at +64K; guest VA @va -> data. */
struct guest {
	uint8_t *va; /* CPU address of the block */
	uint64_t ipa;
};

static uint64_t *gp(struct guest *g, uint64_t off)
{
	return (uint64_t *)(g->va + off);
}

static void guest_build(struct guest *g, uint64_t va, uint16_t asid, uint64_t *vste)
{
	struct pgt_cfg c;
	uint64_t t[4] = {0x1000, 0x2000, 0x3000, 0x4000};

	memset(g->va, 0, 0x20000);
	for (int l = 0; l < 3; l++)
		gp(g, t[l])[(va >> (39 - 9 * l)) & 511] =
			(g->ipa + t[l + 1]) | ARM_VALID | ARM_TYPE;
	gp(g, t[3])[(va >> 12) & 511] = (g->ipa + 0x10000) | ARM_VALID | ARM_TYPE | ARM_AF |
					FIELD_PREP(ARM_SH, ARM_SH_IS) |
					FIELD_PREP(ARM_S1_AP, ARM_S1_AP_UNPRIV);
	memset(&c, 0, sizeof(c));
	c.hw.arm_s1.tcr = FIELD_PREP(ARM_TCR_T0SZ, 16) | FIELD_PREP(ARM_TCR_IPS, 5);
	c.root_pa = g->ipa + t[0];
	smmu_cd_build(&c, asid, gp(g, 0));
	vste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1) |
		  ((g->ipa + 0) & SMMU_STE0_S1CTXPTR);
	vste[1] = 0;
}

static void test_nested(void)
{
	struct tenv t;
	struct uiommu_viommu *v1, *v2;
	struct uiommu_hwpt *parent, *n1, *n2;
	struct uiommu_device *d2;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_SMMUV3};
	struct uiommu_event ev;
	struct guest g1, g2;
	uint64_t ipa = 0x80000000, val, gva = 0x7000123000ull;

	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT_FATAL(dev_up(&t, SID, 0, &t.dev) == 0);
	CU_ASSERT_FATAL(dev_up(&t, SID2, 0, &d2) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
	/* Guest memory: IPA 0x80000000.. -> the buffer. */
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &ipa, t.buf.iova, BUF_SIZE, RW) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	/* Two vIOMMUs (two VMIDs) over one stage 2. */
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v1) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v2) == 0);
	CU_ASSERT(uiommu_viommu_vmid(v1) != uiommu_viommu_vmid(v2));
	g1.va = t.buf.va;
	g1.ipa = 0x80000000;
	g2.va = (uint8_t *)t.buf.va + (2u << 20);
	g2.ipa = 0x80000000 + (2u << 20);
	guest_build(&g1, gva, 3, s1.u.smmuv3.ste);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v1, &s1, &n1) == 0);
	guest_build(&g2, gva, 3, s1.u.smmuv3.ste); /* the same ASID in another VM */
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v2, &s1, &n2) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n1), NULL) == 0);
	CU_ASSERT(uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_hwpt_id(n2), NULL) == 0);
	*gp(&g1, 0x10000) = 0x1111;
	*gp(&g2, 0x10000) = 0x2222;
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x1111);
	CU_ASSERT(dma(d2, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x2222);
	/* The walk for tools: STE, guest CD, guest stage 1 through stage 2. */
	struct uiommu_walk_level lv[16];
	int k = uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, gva, lv, 16);
	CU_ASSERT(k >= 7 && strstr(lv[0].text, "L1STD") && strstr(lv[1].text, "Config=nested") &&
		  strstr(lv[2].text, "CD[0] (guest): V ASID=3"));
	if (k > 0)
		CU_ASSERT(lv[k - 1].present && lv[k - 1].entry == 0x80010000 + (gva & 0xfff) &&
			  strstr(lv[k - 1].text, "(stage 2)"));
	/* Stage 2 of the data page's IPA level by level, ending in the leaf
	 * that holds the buffer's page. */
	{
		int s2 = 0, last = -1;

		for (int i = 0; i < k; i++)
			if (!strncmp(lv[i].text, "S2 L", 4)) {
				s2++;
				last = i;
			}
		CU_ASSERT(s2 >= 2 && last == k - 2);
		if (last >= 0) {
			CU_ASSERT(lv[last].leaf && lv[last].present && lv[last].pgsize >= 4096);
			CU_ASSERT((lv[last].entry & ARM_ADDR & ~(lv[last].pgsize - 1)) ==
				  ((t.buf.iova + 0x10000) & ~(lv[last].pgsize - 1)));
			CU_ASSERT(strstr(lv[last].text, "-> PA") != NULL);
		}
	}
	/* The guest edits its CD (another data page through a new leaf):
	 * the SMMU keeps the cached CD and TLB entry until the guest's
	 * CFGI_CD and TLBI_NH_ASID, carried 1:1 by uiommu_cache_invalidate. */
	{
		struct uiommu_inv_entry cfg[2] = {
			{.type = UIOMMU_INV_CFG, .dev_id = uiommu_device_id(t.dev), .pasid = 0},
			{.type = UIOMMU_INV_S1_PASID, .pasid = 3},
		};
		struct smmu_model_stats st0, st1;
		uint32_t dn = 0;

		*gp(&g1, 0x11000) = 0x3333;
		gp(&g1, 0x4000)[(gva >> 12) & 511] = (g1.ipa + 0x11000) | ARM_VALID | ARM_TYPE |
						     ARM_AF | FIELD_PREP(ARM_SH, ARM_SH_IS) |
						     FIELD_PREP(ARM_S1_AP, ARM_S1_AP_UNPRIV);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x1111);
		smmu_model_get_stats(t.m, &st0);
		cfg[0].pasid = UIOMMU_NO_PASID; /* CFGI_STE */
		CU_ASSERT(uiommu_cache_invalidate(v1, n1, cfg, 1, &dn) == 0 && dn == 1);
		cfg[0].pasid = 0; /* CFGI_CD of SubstreamID 0 */
		CU_ASSERT(uiommu_cache_invalidate(v1, n1, cfg, 2, &dn) == 0 && dn == 2);
		smmu_model_get_stats(t.m, &st1);
		CU_ASSERT(st1.cfgi == st0.cfgi + 2 && st1.tlbi == st0.tlbi + 1);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x3333);
		/* A device of another vIOMMU's unit... or no device: refused
		 * before anything is issued, *done says which entry. */
		cfg[1].type = UIOMMU_INV_CFG;
		cfg[1].dev_id = 0xfffff;
		cfg[1].pasid = UIOMMU_NO_PASID;
		CU_ASSERT(uiommu_cache_invalidate(v1, n1, cfg, 2, &dn) == -EINVAL && dn == 1);
		/* A device of the other vIOMMU (another VM's StreamID): the
		 * guest of v1 cannot name it, for CFGI nor for ATC_INV, and
		 * nothing is issued. */
		struct uiommu_inv_entry other[2] = {
			{.type = UIOMMU_INV_CFG,
			 .dev_id = uiommu_device_id(d2),
			 .pasid = UIOMMU_NO_PASID},
			{.type = UIOMMU_INV_DEV_TLB,
			 .dev_id = uiommu_device_id(d2),
			 .pasid = UIOMMU_NO_PASID},
		};
		smmu_model_get_stats(t.m, &st0);
		for (int i = 0; i < 2; i++) {
			dn = 9;
			CU_ASSERT(uiommu_cache_invalidate(v1, n1, &other[i], 1, &dn) == -EINVAL &&
				  dn == 0);
			CU_ASSERT(uiommu_cache_invalidate(v2, n2, &other[i], 1, &dn) == 0 &&
				  dn == 1);
		}
		smmu_model_get_stats(t.m, &st1);
		CU_ASSERT(st1.cmds - st0.cmds == 2 + 2); /* v2's two and their syncs */
		struct uiommu_inv_entry atc = {.type = UIOMMU_INV_DEV_TLB,
					       .dev_id = uiommu_device_id(t.dev),
					       .pasid = UIOMMU_NO_PASID,
					       .addr = 0x10000,
					       .len = 0x3000};
		CU_ASSERT(uiommu_cache_invalidate(v1, n1, &atc, 1, &dn) == 0 && dn == 1);
	}
	/* Guest VA not mapped by the guest: stage-1 fault, no S2 bit. */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva + 4096, &val, 8, false) == -EFAULT);
	if (one_fault(&ev))
		CU_ASSERT(ev.reason == SMMU_EVT_F_TRANSLATION && !(ev.flags & UIOMMU_EV_STAGE2));
	/* One stage-2 page flushed under a VMID that nested STEs use: not
	 * the one-command path (TLBI_S2_IPA does not reach combined
	 * entries), a batch with TLBI_NH_ALL: the guest's next DMA misses. */
	{
		struct fam_flush ff = {
			.did = uiommu_viommu_vmid(v1),
			.iova = 0x80011000,
			.size = 4096,
			.pgsize = 4096,
			.leaf_only = true,
			.fmt = parent->cfg.fmt,
		};
		struct smmu_model_stats st0, st1;
		struct smmu_stats ds0, ds1;

		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x3333);
		smmu_model_get_stats(t.m, &st0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0);
		smmu_model_get_stats(t.m, &st1);
		CU_ASSERT(st1.tlb_hits > st0.tlb_hits &&
			  st1.tlb_misses == st0.tlb_misses); /* cached */
		smmu_get_stats(t.unit, &ds0);
		CU_ASSERT(smmu_flush(t.unit, &ff, 1) == 0);
		smmu_get_stats(t.unit, &ds1);
		CU_ASSERT(ds1.batches - ds0.batches == 1 && ds1.cmds - ds0.cmds == 2);
		smmu_model_get_stats(t.m, &st0);
		CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x3333);
		smmu_model_get_stats(t.m, &st1);
		CU_ASSERT(st1.tlb_misses > st0.tlb_misses); /* walked again */
	}
	/* The host unmaps the data page's IPA: a stage-2 fault with the IPA,
	 * at once (no stale combined entry: TLBI_NH_ALL for the VMIDs). */
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x80000000, BUF_SIZE, NULL) == 0);
	ipa = 0x80000000;
	CU_ASSERT(uiommu_ioas_map(t.ioas, &ipa, t.buf.iova, 0x10000, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == -EFAULT);
	if (one_fault(&ev)) {
		CU_ASSERT(ev.reason == SMMU_EVT_F_TRANSLATION && (ev.flags & UIOMMU_EV_STAGE2));
		CU_ASSERT(ev.addr == gva && ev.addr2 == 0x80011000); /* the edited leaf */
	}
	k = uiommu_device_ctx_walk(t.dev, UIOMMU_NO_PASID, gva, lv, 16);
	CU_ASSERT(k > 0 && !lv[k - 1].present && strstr(lv[k - 1].text, "not mapped at stage 2"));
	/* ... and the stage-2 level where it stops. */
	CU_ASSERT(k > 1 && !lv[k - 2].present && strstr(lv[k - 2].text, "S2 L") &&
		  strstr(lv[k - 2].text, "not present"));
	/* The guest's own invalidation goes 1:1 to TLBI_NH_* under its VMID. */
	struct uiommu_inv_entry inv[2] = {{.type = UIOMMU_INV_S1_PASID, .pasid = 3},
					  {.type = UIOMMU_INV_S1_ALL}};
	uint32_t done = 9;
	CU_ASSERT(uiommu_cache_invalidate(v1, n1, inv, 2, &done) == 0 && done == 2);
	inv[1].type = UIOMMU_INV_S1_PASID;
	inv[1].pasid = 0x10000; /* beyond 16-bit ASIDs */
	CU_ASSERT(uiommu_cache_invalidate(v1, n1, inv, 2, &done) == -EINVAL && done == 1);
	drain_all();
	state_clean();
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_detach(d2, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(n1) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(n2) == 0);
	CU_ASSERT(uiommu_viommu_destroy(v1) == 0);
	CU_ASSERT(uiommu_viommu_destroy(v2) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	CU_ASSERT(uiommu_device_remove(d2) == 0);
	scenario_down(&t);
}

/* A VMID whose flush was not confirmed (the SMMU stopped consuming
 * commands while its vIOMMU was destroyed) is quarantined by the core;
 * the next vIOMMU gets it back only after the core's invalidation of
 * everything (core.h, unit_flush): the new guest never hits the old
 * guest's entries. */
static void test_vmid_reuse(void)
{
	struct tenv t;
	struct uiommu_viommu *v1, *v2;
	struct uiommu_hwpt *parent, *n1, *n2;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_SMMUV3};
	struct guest g1, g2;
	uint64_t ipa = 0x80000000, val, gva = 0x7000123000ull;
	uint32_t vmid;

	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT_FATAL(dev_up(&t, SID, 0, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &ipa, t.buf.iova, BUF_SIZE, RW) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v1) == 0);
	vmid = uiommu_viommu_vmid(v1);
	g1.va = t.buf.va;
	g1.ipa = 0x80000000;
	g2.va = (uint8_t *)t.buf.va + (2u << 20);
	g2.ipa = 0x80000000 + (2u << 20);
	guest_build(&g1, gva, 3, s1.u.smmuv3.ste);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v1, &s1, &n1) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n1), NULL) == 0);
	*gp(&g1, 0x10000) = 0x1111;
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 && val == 0x1111);
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(n1) == 0);
	/* The SMMU stops: the VMID's flush times out, the VMID is freed. */
	smmu_of(t.unit)->timeout_ns = 2 * 1000 * 1000;
	smmu_model_set_stuck(t.m, true);
	CU_ASSERT(uiommu_viommu_destroy(v1) == 0);
	smmu_model_set_stuck(t.m, false);
	smmu_of(t.unit)->timeout_ns = SMMU_TIMEOUT_NS;
	drain_all();
	/* Another guest under the same VMID, the same ASID and VA. */
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v2) == 0);
	CU_ASSERT(uiommu_viommu_vmid(v2) == vmid);
	guest_build(&g2, gva, 3, s1.u.smmuv3.ste);
	*gp(&g2, 0x10000) = 0x2222;
	CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v2, &s1, &n2) == 0);
	CU_ASSERT(uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n2), NULL) == 0);
	int drc = dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false);
	if (drc || val != 0x2222)
		printf("\n    dma %d val %#llx ", drc, (unsigned long long)val);
	CU_ASSERT(drc == 0 && val == 0x2222);
	CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(n2) == 0);
	CU_ASSERT(uiommu_viommu_destroy(v2) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	scenario_down(&t);
}

/* The guest STE words follow iommufd's vSTE rules; nothing is made on a refusal. */
static void test_vste_rules(void)
{
	struct tenv t;
	struct uiommu_viommu *v;
	struct uiommu_hwpt *parent, *n, *first;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_SMMUV3};
	static const uint64_t bad0[] = {
		SMMU_STE0_V |
			FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S2), /* stage 2: the host's */
		SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_NESTED), /* likewise */
		SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, 1),			 /* reserved */
		SMMU_STE0_V | BIT_ULL(52), /* beyond S1ContextPtr */
	};

	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v) == 0);
	first = uiommu_hwpt_next(ctx, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(bad0); i++) {
		s1.u.smmuv3.ste[0] = bad0[i];
		s1.u.smmuv3.ste[1] = 0;
		n = NULL;
		CU_ASSERT(uiommu_hwpt_alloc_nested(v, &s1, &n) == -EINVAL && !n);
	}
	s1.u.smmuv3.ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1);
	s1.u.smmuv3.ste[1] = SMMU_STE2_S2VMID; /* a word-1 bit the guest does not own */
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &s1, &n) == -EINVAL);
	/* EATS: "no ATS" and "full ATS" only (split-stage 2 and the reserved
	 * 3 refused), as iommufd. */
	for (unsigned int e = 2; e <= 3; e++) {
		s1.u.smmuv3.ste[1] = FIELD_PREP(SMMU_STE1_EATS, e);
		CU_ASSERT(uiommu_hwpt_alloc_nested(v, &s1, &n) == -EINVAL);
	}
	CU_ASSERT(uiommu_hwpt_next(ctx, NULL) == first && uiommu_hwpt_next(ctx, parent) == NULL);
	s1.u.smmuv3.ste[1] = FIELD_PREP(SMMU_STE1_S1DSS, SMMU_S1DSS_BYPASS);
	CU_ASSERT(uiommu_hwpt_alloc_nested(v, &s1, &n) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(n) == 0);
	/* Accepted as iommufd accepts them: full ATS (the host decides what is
	 * installed), an invalid STE whatever its other bits (an abort), and
	 * what only the SMMU's walk judges (S1Fmt 3, S1CDMax beyond
	 * SSIDSIZE: C_BAD_STE for the guest, test_vste_walk). */
	static const uint64_t ok[][2] = {
		{SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1),
		 FIELD_PREP(SMMU_STE1_EATS, SMMU_EATS_TRANS)},
		{FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S2) | BIT_ULL(60), SMMU_STE2_S2VMID},
		{SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1) |
			 FIELD_PREP(SMMU_STE0_S1FMT, 3),
		 0},
		{SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1) |
			 FIELD_PREP(SMMU_STE0_S1CDMAX, 21),
		 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		s1.u.smmuv3.ste[0] = ok[i][0];
		s1.u.smmuv3.ste[1] = ok[i][1];
		n = NULL;
		CU_ASSERT(uiommu_hwpt_alloc_nested(v, &s1, &n) == 0 && n);
		if (n)
			CU_ASSERT(uiommu_hwpt_destroy(n) == 0);
	}
	CU_ASSERT(uiommu_viommu_destroy(v) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	scenario_down(&t);
}

/* A guest STE the SMMU refuses when it walks it (S1Fmt 2-level or 3 on an
 * SMMU without IDR0.CD2L, S1CDMax beyond IDR1.SSIDSIZE) is accepted at
 * allocation, as iommufd does, and the guest's DMA gets C_BAD_STE; a
 * guest STE with EATS "full ATS" translates (EATS is the host's), and so
 * does S1Fmt 3 where CD2L makes it mean linear. */
struct vste_case {
	uint64_t set0, set1;
	uint32_t reason; /* 0: translates */
};

static void vste_walk_on(const char *cfg, const struct vste_case *c, size_t nc)
{
	struct tenv t;
	struct uiommu_viommu *v;
	struct uiommu_hwpt *parent, *n;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_SMMUV3};
	struct uiommu_event ev;
	struct guest g;
	uint64_t ipa = 0x80000000, val, gva = 0x7000123000ull;

	CU_ASSERT_FATAL(unit_up(&t, cfg) == 0);
	CU_ASSERT_FATAL(dev_up(&t, SID, 0, &t.dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
	CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &ipa, t.buf.iova, BUF_SIZE, RW) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_NEST_PARENT, &parent) == 0);
	CU_ASSERT_FATAL(uiommu_viommu_alloc(t.unit, parent, &v) == 0);
	g.va = t.buf.va;
	g.ipa = 0x80000000;
	for (size_t i = 0; i < nc; i++) {
		guest_build(&g, gva, 3, s1.u.smmuv3.ste);
		*gp(&g, 0x10000) = 0x4444;
		s1.u.smmuv3.ste[0] |= c[i].set0;
		s1.u.smmuv3.ste[1] |= c[i].set1;
		n = NULL;
		CU_ASSERT_FATAL(uiommu_hwpt_alloc_nested(v, &s1, &n) == 0);
		CU_ASSERT_FATAL(
			uiommu_device_attach(t.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n), NULL) == 0);
		val = 0;
		if (!c[i].reason) {
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == 0 &&
				  val == 0x4444);
		} else {
			CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, gva, &val, 8, false) == -EFAULT);
			if (one_fault(&ev) && ev.reason != c[i].reason)
				CU_FAIL("not the expected event");
		}
		CU_ASSERT(uiommu_device_detach(t.dev, UIOMMU_NO_PASID) == 0);
		CU_ASSERT(uiommu_hwpt_destroy(n) == 0);
	}
	drain_all();
	CU_ASSERT(uiommu_viommu_destroy(v) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(parent) == 0);
	scenario_down(&t);
}

static void test_vste_walk(void)
{
	static const struct vste_case no_cd2l[] = {
		{FIELD_PREP(SMMU_STE0_S1FMT, SMMU_S1FMT_4K_L2) | FIELD_PREP(SMMU_STE0_S1CDMAX, 4),
		 FIELD_PREP(SMMU_STE1_S1DSS, SMMU_S1DSS_SSID0), SMMU_EVT_C_BAD_STE},
		{FIELD_PREP(SMMU_STE0_S1FMT, 3) | FIELD_PREP(SMMU_STE0_S1CDMAX, 4),
		 FIELD_PREP(SMMU_STE1_S1DSS, SMMU_S1DSS_SSID0), SMMU_EVT_C_BAD_STE},
		{FIELD_PREP(SMMU_STE0_S1CDMAX, 9), FIELD_PREP(SMMU_STE1_S1DSS, SMMU_S1DSS_SSID0),
		 SMMU_EVT_C_BAD_STE},
		{0, FIELD_PREP(SMMU_STE1_EATS, SMMU_EATS_TRANS), 0},
	};
	/* With CD2L the reserved S1Fmt 3 behaves as linear (IHI 0070 5.2). */
	static const struct vste_case cd2l[] = {
		{FIELD_PREP(SMMU_STE0_S1FMT, 3) | FIELD_PREP(SMMU_STE0_S1CDMAX, 4),
		 FIELD_PREP(SMMU_STE1_S1DSS, SMMU_S1DSS_SSID0), 0},
	};

	vste_walk_on("cd2l=0,ssidsize=8", no_cd2l, ARRAY_SIZE(no_cd2l));
	vste_walk_on("", cd2l, ARRAY_SIZE(cd2l));
}

/* ------------------------------------------------------------ take-over */

static void test_takeover(void)
{
	struct uiommu_unit_desc d = {.family = UIOMMU_FAMILY_SMMUV3,
				     .access = UIOMMU_UNIT_MODEL,
				     .numa_node = -1,
				     .model_cfg = "busy=1"};
	struct uiommu_unit *u = NULL;
	const struct uiommu_regio *r;

	CU_ASSERT(uiommu_unit_add(ctx, &d, &u) == -EBUSY && !u);
	d.force = true;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	r = unit_regs(u);
	CU_ASSERT(reg_read64(r, SMMU_STRTAB_BASE) != 0x40000000);
	CU_ASSERT(reg_read32(r, SMMU_CR0) == (SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN));
	CU_ASSERT(reg_read32(r, SMMU_GBPA) & SMMU_GBPA_ABORT);
	/* Give back (the driver's half of unit_remove), then look. */
	uiommu_family_ops_get(UIOMMU_FAMILY_SMMUV3)->unit_fini(u);
	CU_ASSERT(reg_read64(r, SMMU_STRTAB_BASE) == 0x40000000);
	CU_ASSERT(reg_read32(r, SMMU_STRTAB_BASE_CFG) == 8);
	CU_ASSERT(reg_read64(r, SMMU_CMDQ_BASE) == (0x40100000 | 8));
	CU_ASSERT(reg_read64(r, SMMU_EVTQ_BASE) == (0x40200000 | 7));
	CU_ASSERT(reg_read32(r, SMMU_CR1) == 0x5);
	CU_ASSERT(reg_read32(r, SMMU_GBPA) == 0);
	CU_ASSERT(reg_read32(r, SMMU_CR0) == (SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN));
	/* ... with its queue positions (the model's busy owner left them at
	 * CMDQ 0x105, EVTQ 0x3). */
	CU_ASSERT(reg_read32(r, SMMU_CMDQ_PROD) == 0x105 && reg_read32(r, SMMU_CMDQ_CONS) == 0x105);
	CU_ASSERT(reg_read32(r, SMMU_EVTQ_PROD) == 0x3 && reg_read32(r, SMMU_EVTQ_CONS) == 0x3);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	/* Queues on without SMMUEN: someone drives the SMMU, refused alike;
	 * with force taken, and given back with SMMUEN still clear. */
	d.force = false;
	d.model_cfg = "busy=2";
	u = NULL;
	CU_ASSERT(uiommu_unit_add(ctx, &d, &u) == -EBUSY && !u);
	d.force = true;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	r = unit_regs(u);
	CU_ASSERT(reg_read32(r, SMMU_CR0) & SMMU_CR0_SMMUEN);
	uiommu_family_ops_get(UIOMMU_FAMILY_SMMUV3)->unit_fini(u);
	CU_ASSERT(reg_read32(r, SMMU_CR0) == (SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN));
	CU_ASSERT(reg_read32(r, SMMU_CMDQ_PROD) == 0x105 && reg_read32(r, SMMU_EVTQ_CONS) == 0x3);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	/* IDR5.OAS: the reserved encoding 7 is refused (also with force);
	 * 52 bits (6) is used as the page tables' 48. */
	d.model_cfg = "oasenc=7";
	u = NULL;
	CU_ASSERT(uiommu_unit_add(ctx, &d, &u) == -EOPNOTSUPP && !u);
	d.model_cfg = "oasenc=6";
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	CU_ASSERT(u->caps.oas == 48);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	/* An SMMU whose table and queue addresses are fixed (IDR1.*_PRESET)
	 * would ignore our bases and walk tables we do not own: refused,
	 * also with force. */
	d.model_cfg = "preset=1";
	u = NULL;
	CU_ASSERT(uiommu_unit_add(ctx, &d, &u) == -EOPNOTSUPP && !u);
}

/* Register decoding for probe / unit show. */
struct seen {
	unsigned int regs;
	bool st_level, cr0;
};
static void reg_cb(void *arg, const struct uiommu_reg_view *v)
{
	struct seen *s = arg;

	s->regs++;
	for (uint32_t i = 0; i < v->nr_fields; i++)
		if (!strcmp(v->name, "IDR0") && !strcmp(v->fields[i].name, "ST_LEVEL"))
			s->st_level = v->fields[i].value == 1;
	if (!strcmp(v->name, "CR0"))
		s->cr0 = true;
}

static void test_decode(void)
{
	struct tenv t;
	struct uiommu_hw_info hi;
	struct seen s = {0};

	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT(uiommu_unit_hw_info(t.unit, &hi) == 0);
	CU_ASSERT(hi.family == UIOMMU_FAMILY_SMMUV3);
	CU_ASSERT(FIELD_GET(SMMU_IDR1_SIDSIZE, hi.u.smmuv3.idr[1]) == 16);
	CU_ASSERT(uiommu_hw_info_decode(&hi, reg_cb, &s) == 0);
	CU_ASSERT(s.regs >= 8 && s.st_level && !s.cr0);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
	/* Bad settings are refused. */
	CU_ASSERT(unit_up(&t, "sidsize=40") == -EINVAL);
	CU_ASSERT(unit_up(&t, "nosuchkey=1") == -EINVAL);
	CU_ASSERT(unit_up(&t, "s1=0,s2=0") == -EINVAL);
}

/* Peek (what probe shows of a live SMMU): IDRs, CR0 and GBPA decoded. */
static void test_peek(void)
{
	struct tenv t;
	struct uiommu_unit_peek pk;
	struct seen s = {0};

	CU_ASSERT_FATAL(unit_up(&t, "") == 0);
	CU_ASSERT(uiommu_family_ops_get(UIOMMU_FAMILY_SMMUV3)->peek(unit_regs(t.unit), &pk) == 0);
	CU_ASSERT(pk.in_use); /* ours: SMMUEN */
	CU_ASSERT((uint32_t)pk.status & SMMU_CR0_SMMUEN);
	CU_ASSERT((pk.status >> 32) & SMMU_GBPA_ABORT);
	CU_ASSERT(strstr(pk.text, "16-bit StreamIDs") && strstr(pk.text, "STRTAB_BASE 0x"));
	CU_ASSERT(uiommu_unit_peek_decode(&pk, reg_cb, &s) == 0);
	CU_ASSERT(s.st_level && s.cr0);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
}

/* Two SMMUs whose output sizes differ cannot walk one stage-2 table: the
 * IOAS gets a second HWPT, and both translate. */
static void test_two_units(void)
{
	struct tenv a, b;
	struct uiommu_ioas_stats st;
	uint64_t iova = 0x200000, v = 0;

	scenario_up(&a, "", -1);
	CU_ASSERT_FATAL(unit_up(&b, "oas=40") == 0);
	CU_ASSERT_FATAL(dev_up(&b, SID, 0, &b.dev) == 0);
	CU_ASSERT(uiommu_device_attach(b.dev, UIOMMU_NO_PASID, uiommu_ioas_id(a.ioas), NULL) == 0);
	uiommu_ioas_get_stats(a.ioas, &st);
	CU_ASSERT(st.nr_hwpts == 2);
	if (a.buf.iova + 4096 > (1ull << 40)) {
		/* IOVA == VA: the buffer is beyond what the 40-bit SMMU can
		 * reach; the map is refused and nothing is mapped. */
		CU_ASSERT(uiommu_ioas_map(a.ioas, &iova, a.buf.iova, 4096, RW) != 0);
		uiommu_ioas_get_stats(a.ioas, &st);
		CU_ASSERT(st.nr_areas == 0);
		CU_ASSERT(uiommu_device_detach(b.dev, UIOMMU_NO_PASID) == 0);
		CU_ASSERT(uiommu_device_remove(b.dev) == 0);
		CU_ASSERT(uiommu_unit_remove(b.unit) == 0);
		scenario_down(&a);
		return;
	}
	CU_ASSERT_FATAL(uiommu_ioas_map(a.ioas, &iova, a.buf.iova, 4096, RW) == 0);
	*(uint64_t *)a.buf.va = 0xabcdef;
	CU_ASSERT(dma(a.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0 && v == 0xabcdef);
	v = 0;
	CU_ASSERT(dma(b.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0 && v == 0xabcdef);
	CU_ASSERT(uiommu_device_detach(b.dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(b.dev) == 0);
	CU_ASSERT(uiommu_unit_remove(b.unit) == 0);
	scenario_down(&a);
}

/* Register and descriptor layouts against the positions in IHI 0070
 * (6.3, 5.2, 5.4, 4.x, 7.3, 8.1), written out a second time here. */
static void test_layout(void)
{
	static const struct {
		uint64_t got, want;
	} f[] = {
		{SMMU_PAGE1, 0x10000},
		{SMMU_EVTQ_PROD, 0x100a8},
		{SMMU_PRIQ_CONS, 0x100cc},
		{SMMU_STATUSR, 0x40},
		{SMMU_IDR0_ST_LEVEL, 3ull << 27},
		{SMMU_IDR0_CD2L, 1ull << 19},
		{SMMU_IDR1_SIDSIZE, 0x3f},
		{SMMU_IDR1_CMDQS, 0x1full << 21},
		{SMMU_AIDR_MAJOR, 0xf0},
		{SMMU_SH_NSH, 0},
		{SMMU_CR2_E2H, 1},
		{SMMU_GERROR_SFM_ERR, 1ull << 8},
		{SMMU_Q_WRP(0x100u, 8), 0x100},
		{SMMU_Q_IDX(0x1ffu, 8), 0xff},
		{SMMU_S1FMT_64K_L2, 2},
		{SMMU_STE0_S1CDMAX, 0x1full << 59},
		{SMMU_STE1_S1STALLD, 1ull << 27},
		{SMMU_STE1_STRW, 3ull << 30},
		{SMMU_STE1_EATS, 3ull << 28},
		{SMMU_STE2_VTCR, 0x7ffffull << 32},
		{SMMU_STE2_S2ENDI, 1ull << 52},
		{SMMU_STE2_S2S, 1ull << 57},
		{SMMU_STE2_S2R, 1ull << 58},
		{SMMU_CD0_V, 1ull << 31},
		{SMMU_CD0_AFFD, 1ull << 35},
		{SMMU_CD0_HD, 1ull << 42},
		{SMMU_CD0_HA, 1ull << 43},
		{SMMU_CD0_S, 1ull << 44},
		{SMMU_CD0_ASID, 0xffffull << 48},
		{SMMU_CD3_MAIR, ~0ull},
		{SMMU_CMD1_TTL, 3ull << 8},
		{SMMU_CMD0_ATC_GLOBAL, 1ull << 9},
		{SMMU_CMD0_RESUME_RESP, 3ull << 12},
		{SMMU_CMD1_RESUME_STAG, 0xffff},
		{SMMU_CMD0_TLBI_SCALE, 0x1full << 20},
		{SMMU_EVT1_STAG, 0xffff},
		{SMMU_EVT1_STALL, 1ull << 31},
		{SMMU_EVT1_S2, 1ull << 39},
		{SMMU_EVT3_IPA, 0xffffffffffull << 12},
		{SMMU_PRIQ0_SSV, 1ull << 63},
		{SMMU_PRIQ1_GRPID, 0x1ff},
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (f[i].got != f[i].want) {
			printf("\n    layout entry %zu: %#" PRIx64 " != %#" PRIx64 " ", i, f[i].got,
			       f[i].want);
			CU_FAIL("layout");
		}
}

/* The descriptor builders: a CD from a stage-1 table config, and the STE
 * of each attachment kind. */
static void test_builders(void)
{
	struct smmu_unit su = {.coherent = true, .cd2l = true, .ssid_bits = 16};
	struct smmu_dev sd = {.sid = 5};
	struct pgt_cfg c = {.fmt = PGT_ARM_S1_4K};
	uint64_t cd[8], ste[8];

	c.hw.arm_s1.tcr = FIELD_PREP(ARM_TCR_T0SZ, 16) | FIELD_PREP(ARM_TCR_IRGN0, 1) |
			  FIELD_PREP(ARM_TCR_SH0, 3) | FIELD_PREP(ARM_TCR_IPS, 5);
	c.hw.arm_s1.mair = 0x4404ff;
	c.root_pa = 0x12345000;
	smmu_cd_build(&c, 0x77, cd);
	CU_ASSERT(cd[0] ==
		  (16ull | 1ull << 8 | 3ull << 12 | SMMU_CD0_EPD1 | SMMU_CD0_V | 5ull << 32 |
		   SMMU_CD0_AA64 | SMMU_CD0_R | SMMU_CD0_A | SMMU_CD0_ASET | 0x77ull << 48));
	CU_ASSERT(cd[1] == 0x12345000 && cd[2] == 0 && cd[3] == 0x4404ff);

	smmu_ste_build(&su, &sd, ste); /* blocked */
	CU_ASSERT(ste[0] == (SMMU_STE0_V | 0ull << 1) && ste[2] == 0);
	sd.rid = SMMU_RID_IDENTITY;
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(ste[0] == (SMMU_STE0_V | 4ull << 1));
	sd.rid = SMMU_RID_S2;
	sd.vmid = 9;
	sd.vtcr = 0x25590;
	sd.s2ttb = 0xabcd000;
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(ste[0] == (SMMU_STE0_V | 6ull << 1));
	CU_ASSERT(ste[2] ==
		  (9ull | 0x25590ull << 32 | SMMU_STE2_S2AA64 | SMMU_STE2_S2PTW | SMMU_STE2_S2R));
	CU_ASSERT(ste[3] == 0xabcd000);
	sd.rid = SMMU_RID_S1;
	sd.cdtab.iova = 0x7654000;
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(ste[0] == (SMMU_STE0_V | 5ull << 1 | 1ull << 4 | 0x7654000ull | 16ull << 59));
	CU_ASSERT(FIELD_GET(SMMU_STE1_S1DSS, ste[1]) == SMMU_S1DSS_SSID0);
	sd.rid = SMMU_RID_BLOCKED;
	sd.nr_pasids = 1; /* SubstreamIDs live, the RID blocked: S1DSS terminate */
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(FIELD_GET(SMMU_STE0_CONFIG, ste[0]) == 5 &&
		  FIELD_GET(SMMU_STE1_S1DSS, ste[1]) == SMMU_S1DSS_TERMINATE);
	sd.nr_pasids = 0;
	sd.rid = SMMU_RID_NESTED;
	sd.vste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, 5) | 0x8000000ull;
	sd.vste[1] = FIELD_PREP(SMMU_STE1_S1DSS, 1) | FIELD_PREP(SMMU_STE1_EATS, SMMU_EATS_TRANS);
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(ste[0] == (SMMU_STE0_V | 7ull << 1 | 0x8000000ull));
	CU_ASSERT(FIELD_GET(SMMU_STE1_S1DSS, ste[1]) == 1 &&
		  FIELD_GET(SMMU_STE2_S2VMID, ste[2]) == 9);
	CU_ASSERT(FIELD_GET(SMMU_STE1_EATS, ste[1]) == 0); /* the guest's EATS: not installed */
	sd.vste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, 4); /* guest bypass: S2 only */
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(FIELD_GET(SMMU_STE0_CONFIG, ste[0]) == 6);
	sd.vste[0] = 0; /* guest STE invalid: abort */
	smmu_ste_build(&su, &sd, ste);
	CU_ASSERT(ste[0] == SMMU_STE0_V);
}

/* A StreamID beyond the stream table: refused, nothing added. */
static void test_bad_input(void)
{
	struct tenv t;
	struct uiommu_device *d = NULL;

	CU_ASSERT_FATAL(unit_up(&t, "st2l=0,sidsize=8") == 0);
	CU_ASSERT(dev_up(&t, 0x100, 0, &d) == -EINVAL && !d);
	CU_ASSERT(t.unit->nr_devices == 0);
	CU_ASSERT(dev_up(&t, 0xff, 0, &d) == 0);
	CU_ASSERT(uiommu_device_remove(d) == 0);
	CU_ASSERT(uiommu_unit_remove(t.unit) == 0);
}

/* ------------------------------------------------------------ differential */

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* The model's TLB index holds every valid entry once, in the bucket its
 * tag hashes to, and nothing else. */
static bool tlb_index_ok(const struct smmu_model *m)
{
	uint32_t chained = 0;

	for (uint32_t b = 0; b <= m->tlb_hmask; b++)
		for (uint32_t e = m->tlb_hash[b]; e && chained <= m->cfg.tlb_size;
		     e = m->tlb[e - 1].hnext) {
			if (e > m->cfg.tlb_size || !m->tlb[e - 1].valid)
				return false;
			chained++;
		}
	return chained == m->tlb_used && chained == smmu_model_tlb_entries(m);
}

/* Random maps and unmaps of 4 KiB..2 MiB pieces of the buffer at random
 * IOVAs; after each change, DMA at random pages and compare with what
 * the IOAS says: a mapped page reads the buffer's bytes, an unmapped one
 * faults.  Any stale hit fails. */
static void differential(const char *cfg, int flags)
{
	enum { SLOTS = 64, OPS = 1500 };
	struct tenv t;
	struct {
		uint64_t iova, len, off;
		bool on;
	} s[SLOTS];
	unsigned int stale = 0, wrong = 0, checks = 0;
	const char *seed = getenv("SMMU_UT_SEED");

	rnd_state = seed ? strtoull(seed, NULL, 0) : 0x5eedf00dull;
	memset(s, 0, sizeof(s));
	scenario_up(&t, cfg, flags);
	for (uint64_t i = 0; i < BUF_SIZE / 8; i++)
		((uint64_t *)t.buf.va)[i] = i * 8;
	for (int op = 0; op < OPS; op++) {
		unsigned int k = (unsigned int)(rnd() % SLOTS);

		if (s[k].on) {
			CU_ASSERT(uiommu_ioas_unmap(t.ioas, s[k].iova, s[k].len, NULL) == 0);
			s[k].on = false;
		} else {
			bool big = rnd() % 4 == 0;
			uint64_t len = big ? (2u << 20) : (1 + rnd() % 8) * 4096ull;
			uint64_t iova = ((uint64_t)k << 24) + (big ? 0 : (rnd() % 64) * 4096ull);
			uint64_t off = big ? (rnd() % 2) * (2u << 20) : (rnd() % 256) * 4096ull;

			if (uiommu_ioas_map(t.ioas, &iova, t.buf.iova + off, len, RW) == 0) {
				s[k].iova = iova;
				s[k].len = len;
				s[k].off = off;
				s[k].on = true;
			}
		}
		for (int c = 0; c < 4; c++) {
			unsigned int j = (unsigned int)(rnd() % SLOTS);
			uint64_t a = ((uint64_t)j << 24) + (rnd() % (4u << 20)) / 8 * 8, v = 0;
			int rc = dma(t.dev, UIOMMU_NO_PASID, a, &v, 8, false);
			bool in = s[j].on && a >= s[j].iova && a < s[j].iova + s[j].len;

			checks++;
			if (!in && rc == 0)
				stale++;
			else if (in && (rc != 0 || v != s[j].off + (a - s[j].iova)))
				wrong++;
		}
		if (op % 64 == 0) {
			drain_all();
			CU_ASSERT(tlb_index_ok(t.m));
		}
	}
	drain_all();
	CU_ASSERT(tlb_index_ok(t.m));
	printf("\n    %s %s: %u checks, %u stale, %u wrong ", cfg, flags > 0 ? "S1" : "S2", checks,
	       stale, wrong);
	CU_ASSERT(stale == 0);
	CU_ASSERT(wrong == 0);
	state_clean();
	scenario_down(&t);
	state_clean();
}

static void test_differential(void)
{
	differential("", 0);
	differential("", UIOMMU_HWPT_STAGE1);
	differential("ril=0,tlb=8", 0);
	differential("cohacc=0,st2l=0,sidsize=12", UIOMMU_HWPT_STAGE1);
}

/* IDR0.COHACC 0: every table, STE, CD and command line the CPU writes is
 * written back (core/cachemaint). */
static unsigned int inv_seen;
static const void *inv_line;

static void inv_hook(const void *line)
{
	if (line == inv_line) /* the first event record's line (a new queue) */
		inv_seen++;
}

static void test_noncoherent(void)
{
	struct tenv t;
	struct smmu_stats a, b;
	uint64_t iova = 0x200000, v;

	scenario_up(&t, "cohacc=0", UIOMMU_HWPT_STAGE1);
	CU_ASSERT(!t.unit->caps.coherent);
	smmu_get_stats(t.unit, &a);
	CU_ASSERT(a.wb_lines > 0); /* stream table, STE, CD, commands */
	CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == 0);
	CU_ASSERT(uiommu_ioas_unmap(t.ioas, 0x200000, 4096, NULL) == 0);
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.wb_lines > a.wb_lines); /* the TLBI and CMD_SYNC lines */
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	/* Reading the event record: its line is invalidated first (the
	 * record's own line, once), then read. */
	CU_ASSERT(b.inv_lines == 0);
	inv_seen = 0;
	inv_line = smmu_of(t.unit)->evtq.mem.va;
	cache_inv_test_hook = inv_hook;
	struct uiommu_event ev;
	CU_ASSERT(one_fault(&ev) && ev.addr == 0x200000);
	cache_inv_test_hook = NULL;
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.inv_lines == 1 && inv_seen == 1);
	drain_all();
	scenario_down(&t);
	/* A coherent SMMU: nothing invalidated. */
	scenario_up(&t, "", UIOMMU_HWPT_STAGE1);
	CU_ASSERT(dma(t.dev, UIOMMU_NO_PASID, 0x200000, &v, 8, false) == -EFAULT);
	drain_all();
	smmu_get_stats(t.unit, &b);
	CU_ASSERT(b.inv_lines == 0);
	scenario_down(&t);
}

/* Every allocation of a unit's bring-up and of an attach failing in turn:
 * the call fails with -ENOMEM, nothing leaks, nothing changes. */
static void test_failnth(void)
{
	unsigned int fails = 0;
	unsigned long nth;

	for (nth = 1; nth < 200; nth++) {
		struct uiommu_unit_desc d = {.family = UIOMMU_FAMILY_SMMUV3,
					     .access = UIOMMU_UNIT_MODEL,
					     .numa_node = -1};
		struct uenv_stats before, after;
		struct uiommu_unit *u = NULL;
		int rc;

		uenv_get_stats(&before);
		uenv_fail_nth(nth);
		rc = uiommu_unit_add(ctx, &d, &u);
		bool fired = uenv_fail_fired();
		uenv_fail_nth(0);
		if (rc == 0) {
			CU_ASSERT(uiommu_unit_remove(u) == 0);
			if (!fired)
				break;
			continue;
		}
		fails++;
		uenv_get_stats(&after);
		CU_ASSERT(after.heap_live == before.heap_live &&
			  after.dma_live == before.dma_live &&
			  after.pages_live == before.pages_live);
	}
	CU_ASSERT(fails > 3);
	for (int pasid = 0; pasid < 2; pasid++) {
		unsigned int afails = 0;

		for (nth = 1; nth < 200; nth++) {
			struct tenv t;
			struct uenv_stats before, after;
			struct uiommu_hwpt *h;
			uint64_t iova = 0x200000, v;
			uint32_t p = pasid ? 9 : UIOMMU_NO_PASID;
			int rc;

			CU_ASSERT_FATAL(unit_up(&t, "") == 0);
			CU_ASSERT_FATAL(dev_up(&t, SID, 8, &t.dev) == 0);
			CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &t.ioas) == 0);
			CU_ASSERT_FATAL(buf_get(&t.buf) == 0);
			CU_ASSERT_FATAL(uiommu_ioas_map(t.ioas, &iova, t.buf.iova, 4096, RW) == 0);
			CU_ASSERT_FATAL(uiommu_hwpt_alloc(t.ioas, t.unit, UIOMMU_HWPT_STAGE1, &h) ==
					0);
			t.hwpt = h;
			uenv_get_stats(&before);
			uenv_fail_nth(nth);
			rc = uiommu_device_attach(t.dev, p, uiommu_hwpt_id(h), NULL);
			bool fired = uenv_fail_fired();
			uenv_fail_nth(0);
			if (rc == 0) {
				CU_ASSERT(dma(t.dev, p, 0x200000, &v, 8, false) == 0);
				(void)uiommu_device_detach(t.dev, p);
				scenario_down(&t);
				if (!fired)
					break;
				continue;
			}
			afails++;
			CU_ASSERT(rc == -ENOMEM);
			uenv_get_stats(&after);
			CU_ASSERT(after.heap_live == before.heap_live &&
				  after.dma_live == before.dma_live &&
				  after.pages_live == before.pages_live);
			CU_ASSERT(uiommu_device_attached_hwpt(t.dev, p) == 0);
			CU_ASSERT(dma(t.dev, p, 0x200000, &v, 8, false) == -EFAULT);
			drain_all();
			CU_ASSERT(uiommu_device_attach(t.dev, p, uiommu_hwpt_id(h), NULL) == 0);
			CU_ASSERT(dma(t.dev, p, 0x200000, &v, 8, false) == 0);
			(void)uiommu_device_detach(t.dev, p);
			scenario_down(&t);
		}
		printf("\n    attach %s: %u injected failures ", pasid ? "PASID" : "RID", afails);
		CU_ASSERT(afails > 0);
	}
}

static const struct ut_test tests[] = {
	{"s2_2lvl", test_s2_2lvl},
	{"s2_linear", test_s2_linear},
	{"s1", test_s1},
	{"identity", test_identity},
	{"blocks", test_blocks},
	{"permission", test_permission},
	{"no_stale", test_no_stale},
	{"ste_cache", test_ste_cache},
	{"batching", test_batching},
	{"cmdq_error", test_cmdq_error},
	{"cmdq_timeout", test_cmdq_timeout},
	{"adopt_check", test_adopt_check},
	{"attach_rollback", test_attach_rollback},
	{"cmdq_error_storm", test_cmdq_error_storm},
	{"flush1", test_flush1},
	{"flush1_wrap", test_flush1_wrap},
	{"flush1_refused", test_flush1_refused},
	{"flush1_timeout", test_flush1_timeout},
	{"flush1_slow_cons", test_flush1_slow_cons},
	{"evtq_overflow", test_evtq_overflow},
	{"evtq_bad_prod", test_evtq_bad_prod},
	{"pri", test_pri},
	{"pri_match", test_pri_match},
	{"pri_budget", test_pri_budget},
	{"small_cmdq", test_small_cmdq},
	{"stall_forget", test_stall_forget},
	{"stall", test_stall},
	{"stall_full", test_stall_full},
	{"pasid", test_pasid},
	{"nested", test_nested},
	{"vste_rules", test_vste_rules},
	{"vste_walk", test_vste_walk},
	{"vmid_reuse", test_vmid_reuse},
	{"takeover", test_takeover},
	{"decode", test_decode},
	{"bad_input", test_bad_input},
	{"peek", test_peek},
	{"layout", test_layout},
	{"builders", test_builders},
	{"two_units", test_two_units},
	{"differential", test_differential},
	{"noncoherent", test_noncoherent},
	{"failnth", test_failnth},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"smmuv3", suite_init, suite_fini, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	int rc = ut_main(suites, argc, argv);

	if (ctx)
		uiommu_ctx_destroy(ctx);
	return rc;
}
