/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The AMD-Vi model at register and memory level, without the driver:
 * register semantics, DTE forms (V/TV/Mode/IR/IW), v1 walks (levels 1-6,
 * 2M/1G leaves, sized pages, skipped levels), the DTE cache and IOTLB
 * (stale until invalidated, counted), every command, ILLEGAL_COMMAND,
 * event log and PPR log with their overflow.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "env/env.h"
#include "hw/amdvi/amdvi_regs.h"
#include "model/amdvi/amdvi_model.h"

static struct uiommu_ctx *ctx;

struct menv {
	struct amdvi_model *m;
	struct uiommu_regio r;
	struct uenv_dma devtab, cmd, evt, ppr, sem, tables, data;
	uint32_t cmd_tail;
	uint32_t next_table; /* 4 KiB pages handed out of @tables */
};

#define DEVID 0x0018u
#define DOMID 7u

static int suite_init(void)
{
	return uiommu_ctx_create(NULL, &ctx) ? -1 : 0;
}

static int suite_fini(void)
{
	uiommu_ctx_destroy(ctx);
	return 0;
}

static uint64_t rd(struct menv *e, uint32_t off)
{
	return reg_read64(&e->r, off);
}

static void wr(struct menv *e, uint32_t off, uint64_t v)
{
	reg_write64(&e->r, off, v);
}

static void menv_up(struct menv *e, const char *cfg, unsigned int evt_len)
{
	memset(e, 0, sizeof(*e));
	CU_ASSERT_FATAL(amdvi_model_create_str(cfg, &e->m) == 0);
	amdvi_model_regio(e->m, &e->r);
	CU_ASSERT_FATAL(uenv_dma_alloc(65536 * 32, 4096, -1, &e->devtab) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(4096, 4096, -1, &e->cmd) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(16u << evt_len, 4096, -1, &e->evt) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(4096, 4096, -1, &e->ppr) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(4096, 4096, -1, &e->sem) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(64 * 4096, 4096, -1, &e->tables) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(4u << 20, 2u << 20, -1, &e->data) == 0);
	wr(e, AMDVI_REG_DEVTAB, e->devtab.iova | 0x1ff);
	wr(e, AMDVI_REG_CMDBUF, e->cmd.iova | FIELD_PREP(AMDVI_BUF_LEN, 8));
	wr(e, AMDVI_REG_EVTLOG, e->evt.iova | FIELD_PREP(AMDVI_BUF_LEN, evt_len));
	wr(e, AMDVI_REG_PPRLOG, e->ppr.iova | FIELD_PREP(AMDVI_BUF_LEN, 8));
	wr(e, AMDVI_REG_CONTROL,
	   AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVT_LOG_EN |
		   AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_PPR_EN);
}

static void menv_down(struct menv *e)
{
	uenv_dma_free(&e->data);
	uenv_dma_free(&e->tables);
	uenv_dma_free(&e->sem);
	uenv_dma_free(&e->ppr);
	uenv_dma_free(&e->evt);
	uenv_dma_free(&e->cmd);
	uenv_dma_free(&e->devtab);
	amdvi_model_destroy(e->m);
}

static uint64_t *dte(struct menv *e, uint16_t id)
{
	return (uint64_t *)e->devtab.va + (size_t)id * 4;
}

static uint64_t table_new(struct menv *e, uint64_t **va)
{
	CU_ASSERT_FATAL(e->next_table < 64);
	*va = (uint64_t *)((uint8_t *)e->tables.va + (size_t)e->next_table * 4096);
	return e->tables.iova + (uint64_t)e->next_table++ * 4096;
}

static void cmd(struct menv *e, uint64_t w0, uint64_t w1)
{
	uint64_t *p = (uint64_t *)((uint8_t *)e->cmd.va + e->cmd_tail);

	p[0] = w0;
	p[1] = w1;
	e->cmd_tail = (e->cmd_tail + 16) % 4096;
	wr(e, AMDVI_REG_CMD_TAIL, e->cmd_tail);
}

static uint64_t op(unsigned int o)
{
	return FIELD_PREP(AMDVI_CMD_OP, o);
}

static int xlate(struct menv *e, uint16_t id, uint64_t iova, bool write, uint64_t *pa,
		 struct amdvi_model_fault *f)
{
	return amdvi_model_translate(e->m, id, iova, write, pa, f);
}

/* Events logged so far (head .. tail); consumes them. */
static unsigned int events(struct menv *e, uint64_t *w0, uint64_t *w1, unsigned int max)
{
	uint64_t head = rd(e, AMDVI_REG_EVT_HEAD), tail = rd(e, AMDVI_REG_EVT_TAIL);
	unsigned int n = 0;
	uint32_t len = (uint32_t)e->evt.len;

	while (head != tail) {
		const uint64_t *p = (const uint64_t *)((uint8_t *)e->evt.va + head);

		if (n < max) {
			w0[n] = p[0];
			w1[n] = p[1];
		}
		n++;
		head = (head + 16) % len;
	}
	wr(e, AMDVI_REG_EVT_HEAD, head);
	return n;
}

/* A 3-level table mapping @iova (4 KiB) to @pa with @perm bits. */
static uint64_t map3(struct menv *e, uint64_t iova, uint64_t pa, uint64_t perm, uint64_t **l1out)
{
	uint64_t *l3, *l2, *l1;
	uint64_t r3 = table_new(e, &l3), r2 = table_new(e, &l2), r1 = table_new(e, &l1);

	l3[(iova >> 30) & 511] =
		r2 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 2) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	l2[(iova >> 21) & 511] =
		r1 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 1) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	l1[(iova >> 12) & 511] = pa | AMDVI_PTE_PR | perm;
	if (l1out)
		*l1out = l1;
	return r3;
}

static void set_dte(struct menv *e, uint16_t id, uint64_t root, unsigned int mode, uint16_t dom)
{
	uint64_t *d = dte(e, id);

	d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, dom);
	d[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_DTE0_IR | AMDVI_DTE0_IW |
	       FIELD_PREP(AMDVI_DTE0_MODE, mode) | root;
}

/* ------------------------------------------------------------------ */

static void test_registers(void)
{
	struct menv e;
	uint64_t efr;

	menv_up(&e, "hats=1,ia=0", 8);
	efr = rd(&e, AMDVI_REG_EFR);
	CU_ASSERT(FIELD_GET(AMDVI_EFR_HATS, efr) == 1);
	CU_ASSERT(!(efr & AMDVI_EFR_IA_SUP));
	CU_ASSERT(efr & AMDVI_EFR_PPR_SUP);
	wr(&e, AMDVI_REG_EFR, 0); /* read-only */
	CU_ASSERT(rd(&e, AMDVI_REG_EFR) == efr);
	CU_ASSERT((uint32_t)reg_read32(&e.r, AMDVI_REG_EFR + 4) == (uint32_t)(efr >> 32));
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_EVT_RUN);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_PPR_RUN);
	/* Status: run bits read-only, W1C bits cleared by writing one. */
	wr(&e, AMDVI_REG_STATUS, ~0ull);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN);
	/* The command head belongs to the IOMMU while it runs. */
	wr(&e, AMDVI_REG_CMD_HEAD, 0x100);
	CU_ASSERT(rd(&e, AMDVI_REG_CMD_HEAD) == 0);
	/* Unknown offsets read 0 and ignore writes; misaligned reads all ones. */
	wr(&e, 0x1000, 5);
	CU_ASSERT(rd(&e, 0x1000) == 0);
	CU_ASSERT(reg_read32(&e.r, 0x2) == UINT32_MAX);
	/* Disabling the buffer stops it. */
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_CMD_BUF_EN);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN));
	menv_down(&e);
	/* Bad settings. */
	struct amdvi_model *m;
	CU_ASSERT(amdvi_model_create_str("hats=3", &m) == -EINVAL);
	CU_ASSERT(amdvi_model_create_str("bogus=1", &m) == -EINVAL);
	CU_ASSERT(amdvi_model_create_str("iotlb=0", &m) == -EINVAL);
	CU_ASSERT(amdvi_model_create_str("ia", &m) == -EINVAL);
}

static void test_dte_forms(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	uint64_t pa = 0, w0[8], w1[8];

	menv_up(&e, NULL, 8);
	/* V = 0: untranslated. */
	CU_ASSERT(xlate(&e, 1, 0x1234, true, &pa, &f) == 0 && pa == 0x1234);
	/* V, TV, Mode 0, no IR/IW: blocked, IO_PAGE_FAULT with PR. */
	dte(&e, 2)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV;
	CU_ASSERT(xlate(&e, 2, 0x1000, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_IO_PAGE_FAULT && (f.flags & AMDVI_EVF_PR));
	/* Mode 0 with IR only: reads pass untranslated, writes fault. */
	dte(&e, 3)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_DTE0_IR;
	CU_ASSERT(xlate(&e, 3, 0x5000, false, &pa, &f) == 0 && pa == 0x5000);
	CU_ASSERT(xlate(&e, 3, 0x5000, true, &pa, &f) == -EFAULT);
	CU_ASSERT(f.flags & AMDVI_EVF_RW);
	/* V, TV = 0: untranslated. */
	dte(&e, 4)[0] = AMDVI_DTE0_V;
	CU_ASSERT(xlate(&e, 4, 0x7000, true, &pa, &f) == 0 && pa == 0x7000);
	/* Mode 7 and reserved bits: ILLEGAL_DEV_TABLE_ENTRY. */
	dte(&e, 5)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV | FIELD_PREP(AMDVI_DTE0_MODE, 7);
	CU_ASSERT(xlate(&e, 5, 0, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
	dte(&e, 6)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV | BIT_ULL(3);
	CU_ASSERT(xlate(&e, 6, 0, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
	/* GV without GTSup. */
	dte(&e, 8)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_DTE0_GV;
	CU_ASSERT(xlate(&e, 8, 0, false, &pa, &f) == -EFAULT);
	/* SA suppresses the event. */
	dte(&e, 9)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV;
	dte(&e, 9)[1] = AMDVI_DTE1_SA;
	CU_ASSERT(events(&e, w0, w1, 8) == 5);
	CU_ASSERT(xlate(&e, 9, 0x3000, false, &pa, &f) == -EFAULT);
	CU_ASSERT(events(&e, w0, w1, 8) == 0);
	/* Event contents: IO_PAGE_FAULT of DeviceID 2, DomainID 0, read. */
	CU_ASSERT(xlate(&e, 2, 0xabc000, false, &pa, &f) == -EFAULT);
	CU_ASSERT_FATAL(events(&e, w0, w1, 8) == 1);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_CODE, w0[0]) == AMDVI_EV_IO_PAGE_FAULT);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_DEVID, w0[0]) == 2);
	CU_ASSERT(!(FIELD_GET(AMDVI_EVT_FLAGS, w0[0]) & AMDVI_EVF_RW));
	CU_ASSERT(w1[0] == 0xabc000);
	/* A DeviceID beyond the table's Size. */
	wr(&e, AMDVI_REG_CONTROL, 0);
	wr(&e, AMDVI_REG_DEVTAB, e.devtab.iova | 0);
	wr(&e, AMDVI_REG_CONTROL, AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_EVT_LOG_EN);
	CU_ASSERT(xlate(&e, 200, 0, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
	/* IommuEn off: everything untranslated. */
	wr(&e, AMDVI_REG_CONTROL, 0);
	CU_ASSERT(xlate(&e, 2, 0x9000, true, &pa, &f) == 0 && pa == 0x9000);
	menv_down(&e);
}

static void test_walks(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	uint64_t pa, *l1, *t6, *t3, *t2;
	uint64_t out;

	menv_up(&e, NULL, 8);
	out = e.data.iova;
	/* 3-level, 4 KiB; read-only page. */
	uint64_t root = map3(&e, 0x40201000, out + 0x3000, AMDVI_PTE_IR, &l1);

	set_dte(&e, DEVID, root, 3, DOMID);
	CU_ASSERT(xlate(&e, DEVID, 0x40201abc, false, &pa, &f) == 0);
	CU_ASSERT(pa == out + 0x3abc);
	CU_ASSERT(xlate(&e, DEVID, 0x40201abc, true, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_IO_PAGE_FAULT && (f.flags & AMDVI_EVF_PR));
	/* Above the 39 bits of Mode 3. */
	CU_ASSERT(xlate(&e, DEVID, 1ull << 39, false, &pa, &f) == -EFAULT);
	/* Not present. */
	CU_ASSERT(xlate(&e, DEVID, 0x40202000, false, &pa, &f) == -EFAULT);
	CU_ASSERT(!(f.flags & AMDVI_EVF_PR));

	/* Mode 6 whose top level skips to level 2 (NL = 2 at level 6): the
	 * skipped index bits must be zero; a 2 MiB default-size leaf. */
	uint64_t r6 = table_new(&e, &t6), r2 = table_new(&e, &t2);

	t6[0] = r2 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 2) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	t2[3] = (out + (2u << 20)) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	set_dte(&e, DEVID + 1, r6, 6, DOMID + 1);
	CU_ASSERT(xlate(&e, DEVID + 1, (3ull << 21) + 0x12345, true, &pa, &f) == 0);
	CU_ASSERT(pa == out + (2u << 20) + 0x12345);
	CU_ASSERT(xlate(&e, DEVID + 1, (1ull << 30) + (3ull << 21), true, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_IO_PAGE_FAULT);
	/* Mode 1: one level, 2 MiB of input. */
	uint64_t *t1;
	uint64_t r1 = table_new(&e, &t1);

	t1[5] = (out + 0x7000) | AMDVI_PTE_PR | AMDVI_PTE_IR;
	set_dte(&e, DEVID + 2, r1, 1, DOMID + 2);
	CU_ASSERT(xlate(&e, DEVID + 2, 0x5010, false, &pa, &f) == 0 && pa == out + 0x7010);
	CU_ASSERT(xlate(&e, DEVID + 2, 1ull << 21, false, &pa, &f) == -EFAULT);
	/* 1 GiB leaf at level 3 (output need not exist for a translation). */
	uint64_t r3 = table_new(&e, &t3);

	t3[2] = (1ull << 40) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	set_dte(&e, DEVID + 3, r3, 3, DOMID + 3);
	CU_ASSERT(xlate(&e, DEVID + 3, (2ull << 30) + 0x1234567, false, &pa, &f) == 0);
	CU_ASSERT(pa == (1ull << 40) + 0x1234567);
	/* Sized page (NL = 7) at level 2: address bits 12..13 set, 14 clear:
	 * 32 KiB pages. */
	uint64_t *s3, *s2, *s1;
	uint64_t q3 = table_new(&e, &s3), q2 = table_new(&e, &s2), q1 = table_new(&e, &s1);

	s3[0] = q2 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 2) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	s2[0] = q1 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 1) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	for (int i = 8; i < 16; i++)
		s1[i] = ((1ull << 35) | 0x3000) | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 7) |
			AMDVI_PTE_IR;
	set_dte(&e, DEVID + 4, q3, 3, DOMID + 4);
	/* NL = 7 at level 1: 32 KiB (8 entries), base aligned down. */
	CU_ASSERT(xlate(&e, DEVID + 4, 0xa123, false, &pa, &f) == 0);
	CU_ASSERT(pa == (1ull << 35) + 0x2123);
	CU_ASSERT(xlate(&e, DEVID + 4, 0xa123, true, &pa, &f) == -EFAULT);
	/* NL = 7 at level 2 with a size below 2 MiB: reserved. */
	s2[1] = ((1ull << 35) | 0x3000) | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 7) | AMDVI_PTE_IR;
	CU_ASSERT(xlate(&e, DEVID + 4, (1ull << 21) + 0x6123, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.flags & AMDVI_EVF_RZ);
	/* A next level at or above the entry's own. */
	s3[1] = q2 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 3) | AMDVI_PTE_IR;
	CU_ASSERT(xlate(&e, DEVID + 4, 1ull << 30, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.flags & AMDVI_EVF_RZ);
	/* Unreachable table memory: PAGE_TAB_HARDWARE_ERROR. */
	set_dte(&e, DEVID + 5, 0x1000, 3, DOMID + 5);
	CU_ASSERT(xlate(&e, DEVID + 5, 0, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_PAGE_TAB_HW_ERROR);
	menv_down(&e);
}

static void test_sized_page(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	uint64_t pa, *s3, *s2;

	menv_up(&e, NULL, 8);
	uint64_t q3 = table_new(&e, &s3), q2 = table_new(&e, &s2);

	s3[0] = q2 | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 2) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	/* At level 2 a sized page is 4 MiB..512 MiB... here 8 MiB: address
	 * bits 12..21 set, bit 22 clear (2^(13+10) = 8 MiB). */
	uint64_t a = (1ull << 36) | GENMASK_ULL(21, 12);

	for (int i = 0; i < 4; i++)
		s2[i] = a | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 7) | AMDVI_PTE_IR;
	set_dte(&e, DEVID, q3, 3, DOMID);
	CU_ASSERT(xlate(&e, DEVID, (3ull << 21) + 0x1234, false, &pa, &f) == 0);
	CU_ASSERT(pa == (1ull << 36) + (3ull << 21) + 0x1234);
	menv_down(&e);
}

/* IOTLB and DTE cache: stale until invalidated, and counted. */
static void test_caches_stale(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t pa, *l1;

	menv_up(&e, NULL, 8);
	uint64_t root = map3(&e, 0x200000, e.data.iova, AMDVI_PTE_IR | AMDVI_PTE_IW, &l1);

	l1[1] = (e.data.iova + 0x1000) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	l1[2] = (e.data.iova + 0x2000) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	l1[9] = (e.data.iova + 0x9000) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	set_dte(&e, DEVID, root, 3, DOMID);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(xlate(&e, DEVID, 0x200000 + i * 0x1000, true, &pa, &f) == 0);
	CU_ASSERT(xlate(&e, DEVID, 0x209000, true, &pa, &f) == 0);
	/* Clear the PTEs without invalidation: still translates (stale). */
	l1[0] = l1[1] = l1[2] = l1[9] = 0;
	amdvi_model_reset_stale(e.m);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0 && pa == e.data.iova);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.stale_iotlb == 1);
	/* INVALIDATE_IOMMU_PAGES, one page (S = 0), another DomainID: nothing. */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID + 1), 0x200000);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0);
	/* Right DomainID, S = 0: page 0 only. */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID), 0x200000);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == -EFAULT);
	CU_ASSERT(xlate(&e, DEVID, 0x201000, true, &pa, &f) == 0);
	/* S = 1, address 0x202000 with bit 12 clear: 8 KiB at 0x202000.
	 * Page 1 (0x201000) stays, page 2 goes. */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID),
	    0x202000 | AMDVI_INV_S);
	CU_ASSERT(xlate(&e, DEVID, 0x202000, true, &pa, &f) == -EFAULT);
	CU_ASSERT(xlate(&e, DEVID, 0x201000, true, &pa, &f) == 0);
	CU_ASSERT(xlate(&e, DEVID, 0x209000, true, &pa, &f) == 0);
	/* S = 1, bits 12..14 set, 15 clear: 64 KiB at 0x200000 (page 9 too). */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID),
	    0x207000 | AMDVI_INV_S | AMDVI_INV_PDE);
	CU_ASSERT(xlate(&e, DEVID, 0x201000, true, &pa, &f) == -EFAULT);
	CU_ASSERT(xlate(&e, DEVID, 0x209000, true, &pa, &f) == -EFAULT);

	/* DTE cache: a changed DTE is not seen until INVALIDATE_DEVTAB_ENTRY. */
	l1[0] = e.data.iova | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0);
	dte(&e, DEVID)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV; /* blocked */
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.stale_dte >= 1);
	cmd(&e, op(AMDVI_OP_INV_DEVTAB_ENTRY) | DEVID, 0);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == -EFAULT);
	/* INVALIDATE_IOMMU_ALL drops both caches. */
	set_dte(&e, DEVID, root, 3, DOMID);
	cmd(&e, op(AMDVI_OP_INV_DEVTAB_ENTRY) | DEVID, 0);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0);
	l1[0] = 0;
	cmd(&e, op(AMDVI_OP_INV_IOMMU_ALL), 0);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == -EFAULT);
	/* S = 1 with every bit set: everything of the domain. */
	l1[0] = e.data.iova | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == 0);
	l1[0] = 0;
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID),
	    AMDVI_INV_ALL_ADDR | AMDVI_INV_S);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, true, &pa, &f) == -EFAULT);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.iotlb_inval > 0 && st.dtec_inval > 0);
	menv_down(&e);
}

/* The page-directory cache: a directory entry changed in memory is not
 * seen until INVALIDATE_IOMMU_PAGES with PDE. */
static void test_pde_cache(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t pa, *l1, *l1b;

	menv_up(&e, NULL, 8);
	uint64_t root = map3(&e, 0x200000, e.data.iova, AMDVI_PTE_IR | AMDVI_PTE_IW, &l1);
	uint64_t l1b_pa = table_new(&e, &l1b);

	l1b[0] = (e.data.iova + 0x5000) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	set_dte(&e, DEVID, root, 3, DOMID);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, false, &pa, &f) == 0 && pa == e.data.iova);
	/* Repoint the level-2 entry at another leaf table. */
	uint64_t *l3 = (uint64_t *)e.tables.va, *l2 = l3 + 512;

	l2[1] = l1b_pa | AMDVI_PTE_PR | FIELD_PREP(AMDVI_PTE_NL, 1) | AMDVI_PTE_IR | AMDVI_PTE_IW;
	amdvi_model_reset_stale(e.m);
	/* Leaf invalidation only: the walk starts from the cached PDE. */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID), 0x200000);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, false, &pa, &f) == 0 && pa == e.data.iova);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.stale_pde == 1 && st.pdec_hit >= 1);
	/* With PDE: the new table. */
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, DOMID),
	    0x200000 | AMDVI_INV_PDE);
	CU_ASSERT(xlate(&e, DEVID, 0x200000, false, &pa, &f) == 0 && pa == e.data.iova + 0x5000);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.stale_pde == 1 && st.pdec_inval >= 1);
	menv_down(&e);
}

static void test_commands(void)
{
	struct menv e;
	uint64_t w0[8], w1[8];
	volatile uint64_t *sem;

	menv_up(&e, "ia=0", 8);
	sem = e.sem.va;
	/* COMPLETION_WAIT with a store. */
	cmd(&e, op(AMDVI_OP_COMPLETION_WAIT) | e.sem.iova | AMDVI_CW_S, 0x1122334455667788ull);
	CU_ASSERT(*sem == 0x1122334455667788ull);
	CU_ASSERT(rd(&e, AMDVI_REG_CMD_HEAD) == rd(&e, AMDVI_REG_CMD_TAIL));
	/* With I: ComWaitInt (W1C). */
	cmd(&e, op(AMDVI_OP_COMPLETION_WAIT) | AMDVI_CW_I, 0);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_COMWAIT_INT);
	wr(&e, AMDVI_REG_STATUS, AMDVI_STS_COMWAIT_INT);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_COMWAIT_INT));
	/* INVALIDATE_IOTLB_PAGES and INVALIDATE_INTERRUPT_TABLE are accepted. */
	cmd(&e, op(AMDVI_OP_INV_IOTLB_PAGES) | DEVID, 0x1000);
	cmd(&e, op(AMDVI_OP_INV_INTERRUPT_TABLE) | DEVID, 0);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN);
	CU_ASSERT(events(&e, w0, w1, 8) == 0);
	/* INVALIDATE_IOMMU_ALL without IASup: ILLEGAL_COMMAND, the buffer
	 * stops with its head on the command, later commands wait. */
	uint64_t bad = rd(&e, AMDVI_REG_CMD_TAIL);

	cmd(&e, op(AMDVI_OP_INV_IOMMU_ALL), 0);
	cmd(&e, op(AMDVI_OP_COMPLETION_WAIT) | e.sem.iova | AMDVI_CW_S, 42);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN));
	CU_ASSERT(rd(&e, AMDVI_REG_CMD_HEAD) == bad);
	CU_ASSERT(*sem != 42);
	CU_ASSERT_FATAL(events(&e, w0, w1, 8) == 1);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_CODE, w0[0]) == AMDVI_EV_ILLEGAL_COMMAND);
	CU_ASSERT(w1[0] == e.cmd.iova + bad);
	/* Restart: off, head = tail, on. */
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_CMD_BUF_EN);
	wr(&e, AMDVI_REG_CMD_HEAD, 0);
	wr(&e, AMDVI_REG_CMD_TAIL, 0);
	e.cmd_tail = 0;
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) | AMDVI_CTRL_CMD_BUF_EN);
	cmd(&e, op(AMDVI_OP_COMPLETION_WAIT) | e.sem.iova | AMDVI_CW_S, 43);
	CU_ASSERT(*sem == 43);
	/* Unknown opcodes, reserved bits, a wait without S/I/F: illegal. */
	static const uint64_t bads[][2] = {
		{0xfull << 60, 0},
		{0x9ull << 60, 0},
		{(uint64_t)AMDVI_OP_INV_DEVTAB_ENTRY << 60 | BIT_ULL(20), 0},
		{(uint64_t)AMDVI_OP_COMPLETION_WAIT << 60, 0},
		{(uint64_t)AMDVI_OP_INV_IOMMU_PAGES << 60, 0x1000 | BIT_ULL(5)},
		{(uint64_t)AMDVI_OP_PREFETCH_PAGES << 60, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_CMD_BUF_EN);
		wr(&e, AMDVI_REG_CMD_HEAD, 0);
		wr(&e, AMDVI_REG_CMD_TAIL, 0);
		e.cmd_tail = 0;
		wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) | AMDVI_CTRL_CMD_BUF_EN);
		cmd(&e, bads[i][0], bads[i][1]);
		CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN));
		CU_ASSERT(events(&e, w0, w1, 8) == 1);
	}
	/* A store to memory the unit cannot reach: COMMAND_HARDWARE_ERROR. */
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_CMD_BUF_EN);
	wr(&e, AMDVI_REG_CMD_HEAD, 0);
	wr(&e, AMDVI_REG_CMD_TAIL, 0);
	e.cmd_tail = 0;
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) | AMDVI_CTRL_CMD_BUF_EN);
	cmd(&e, op(AMDVI_OP_COMPLETION_WAIT) | 0x8 | AMDVI_CW_S, 1);
	CU_ASSERT_FATAL(events(&e, w0, w1, 8) == 1);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_CODE, w0[0]) == AMDVI_EV_COMMAND_HW_ERROR);
	menv_down(&e);
}

static void test_event_overflow(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t pa, w0[300], w1[300];

	menv_up(&e, NULL, 8); /* 256 entries: 255 usable */
	dte(&e, 2)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV;
	for (int i = 0; i < 300; i++)
		CU_ASSERT(xlate(&e, 2, (uint64_t)i << 12, false, &pa, &f) == -EFAULT);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_EVT_OVERFLOW);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_EVT_RUN));
	CU_ASSERT(events(&e, w0, w1, 300) == 255);
	CU_ASSERT(w1[254] == 254ull << 12); /* the first ones were kept */
	/* Stopped: nothing is logged until software restarts the log. */
	CU_ASSERT(xlate(&e, 2, 0x1000, false, &pa, &f) == -EFAULT);
	CU_ASSERT(events(&e, w0, w1, 300) == 0);
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_EVT_LOG_EN);
	wr(&e, AMDVI_REG_STATUS, AMDVI_STS_EVT_OVERFLOW);
	wr(&e, AMDVI_REG_EVT_HEAD, 0);
	wr(&e, AMDVI_REG_EVT_TAIL, 0);
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) | AMDVI_CTRL_EVT_LOG_EN);
	CU_ASSERT(xlate(&e, 2, 0x1000, false, &pa, &f) == -EFAULT);
	CU_ASSERT(events(&e, w0, w1, 300) == 1);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.events_dropped == 300 - 255 + 1);
	menv_down(&e);
}

static void test_ppr(void)
{
	struct menv e;
	struct amdvi_model_ppr rq = {
		.devid = DEVID, .pasid = 5, .addr = 0x12345678, .tag = 0x1a, .write = true};
	unsigned int status = 99;
	uint64_t w0[4], w1[4];
	const uint64_t *p;

	menv_up(&e, NULL, 8);
	/* The device's DTE has PPR clear: INVALID_PPR_REQUEST. */
	dte(&e, DEVID)[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV;
	CU_ASSERT(amdvi_model_page_request(e.m, &rq) == -EOPNOTSUPP);
	CU_ASSERT_FATAL(events(&e, w0, w1, 4) == 1);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_CODE, w0[0]) == AMDVI_EV_INVALID_PPR_REQUEST);
	dte(&e, DEVID)[0] |= AMDVI_DTE0_PPR;
	cmd(&e, op(AMDVI_OP_INV_DEVTAB_ENTRY) | DEVID, 0);
	CU_ASSERT(amdvi_model_page_request(e.m, &rq) == 0);
	CU_ASSERT(rd(&e, AMDVI_REG_PPR_TAIL) == 16);
	p = e.ppr.va;
	CU_ASSERT(FIELD_GET(AMDVI_PPR_DEVID, p[0]) == DEVID);
	CU_ASSERT(FIELD_GET(AMDVI_PPR_TAG, p[0]) == 0x1a);
	CU_ASSERT(FIELD_GET(AMDVI_PPR_PASID_LO, p[0]) == 5);
	CU_ASSERT(FIELD_GET(AMDVI_PPR_FLAGS, p[0]) & AMDVI_PPRF_WRITE);
	CU_ASSERT(p[1] == 0x12345000);
	CU_ASSERT(amdvi_model_ppr_status(e.m, DEVID, 0x1a, &status) == -EAGAIN);
	cmd(&e, op(AMDVI_OP_COMPLETE_PPR) | DEVID,
	    FIELD_PREP(AMDVI_PPRC_TAG, 0x1a) | FIELD_PREP(AMDVI_PPRC_STATUS, AMDVI_PPR_INVALID));
	CU_ASSERT(amdvi_model_ppr_status(e.m, DEVID, 0x1a, &status) == 0 &&
		  status == AMDVI_PPR_INVALID);
	CU_ASSERT(amdvi_model_ppr_status(e.m, DEVID, 0x1a, &status) == -ENOENT);
	/* Overflow: 255 usable entries, then PPROverflow and the log stops. */
	for (int i = 1; i < 255; i++) {
		rq.tag = (uint16_t)(i & 0x1ff);
		CU_ASSERT(amdvi_model_page_request(e.m, &rq) == 0);
	}
	CU_ASSERT(amdvi_model_page_request(e.m, &rq) == -ENOSPC);
	CU_ASSERT(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_PPR_OVERFLOW);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_PPR_RUN));
	CU_ASSERT(amdvi_model_page_request(e.m, &rq) == -ENXIO);
	menv_down(&e);
	/* A unit without PPRSup refuses COMPLETE_PPR_REQUEST. */
	menv_up(&e, "ppr=0", 8);
	cmd(&e, op(AMDVI_OP_COMPLETE_PPR) | DEVID, 0);
	CU_ASSERT(!(rd(&e, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN));
	CU_ASSERT(amdvi_model_page_request(e.m, &rq) == -EOPNOTSUPP);
	menv_down(&e);
}

static void test_dma_engine(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	uint8_t buf[8192];
	uint64_t *l1;

	menv_up(&e, NULL, 8);
	uint64_t root = map3(&e, 0x10000, e.data.iova, AMDVI_PTE_IR | AMDVI_PTE_IW, &l1);

	l1[0x11] = (e.data.iova + 0x5000) | AMDVI_PTE_PR | AMDVI_PTE_IR; /* read-only */
	set_dte(&e, DEVID, root, 3, DOMID);
	memset(buf, 0xa5, sizeof(buf));
	/* A write across into the read-only page faults and moves nothing. */
	memset(e.data.va, 0, 0x6000);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, 0x10800, buf, 4096, true, &f) ==
		  -EFAULT);
	CU_ASSERT(f.addr == 0x11000 && (f.flags & AMDVI_EVF_RW));
	CU_ASSERT(((uint8_t *)e.data.va)[0x800] == 0);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, 0x10800, buf, 2048, true, &f) ==
		  0);
	CU_ASSERT(((uint8_t *)e.data.va)[0x800] == 0xa5);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, 0x10000, buf, 8192, false,
				  &f) == 0);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, 3, 0x10000, buf, 16, false, &f) == -EINVAL);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, 0x10000, buf, 0, false, &f) ==
		  -EINVAL);
	/* Translation off: the address itself.  One nobody mapped is a
	 * hardware error (-EIO), not a crash (model_mem); the process's own
	 * memory (IOVA == VA here) is reached. */
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_IOMMU_EN);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, 0x10000, buf, 16, false, &f) ==
		  -EIO);
	/* A page that was just unmapped (fixed wild addresses may be mapped
	 * under a sanitizer: ASan's shadow covers much of the address space). */
	void *hole = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CU_ASSERT_FATAL(hole != MAP_FAILED);
	CU_ASSERT(munmap(hole, 2 * 4096) == 0);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, (uintptr_t)hole, buf, 16, true,
				  &f) == -EIO);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, (uintptr_t)hole + 4096 + 8, buf,
				  16, false, &f) == -EIO);
	CU_ASSERT(amdvi_model_dma(e.m, DEVID, AMDVI_MODEL_NO_PASID, e.data.iova + 0x800, buf, 16,
				  false, &f) == 0);
	CU_ASSERT(memcmp(buf, (uint8_t *)e.data.va + 0x800, 16) == 0);
	menv_down(&e);
}

/* Guest (v2) translation, gt=1: GCR3 table -> x86-64 guest tables -> host
 * table; the IOTLB tags it with the PASID. */
static uint64_t tbl_index(struct menv *e, uint64_t pa)
{
	return (pa - e->tables.iova) / 4096;
}

static void test_guest_v2(void)
{
	struct menv e;
	struct amdvi_model_fault f;
	struct amdvi_model_stats st;
	uint64_t pa, w0[8], w1[8], *h1, *gcr3, *g4, *g3, *g2, *g1;
	const uint16_t dev = 0x20;
	uint8_t v = 0x5a;

	menv_up(&e, "gt=1", 8);
	wr(&e, AMDVI_REG_CONTROL, rd(&e, AMDVI_REG_CONTROL) | AMDVI_CTRL_GT_EN);
	/* Host table: Mode 1 (one level, 2 MiB of GPA).  GPA page i < 64 is
	 * table page i; GPA 0x100000 + j pages is data page j (read/write),
	 * except data page 8, read-only. */
	uint64_t hroot = table_new(&e, &h1);

	for (uint64_t i = 0; i < 64; i++)
		h1[i] = (e.tables.iova + i * 4096) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
	for (uint64_t j = 0; j < 256; j++)
		h1[256 + j] = (e.data.iova + j * 4096) | AMDVI_PTE_PR | AMDVI_PTE_IR |
			      (j == 8 ? 0 : AMDVI_PTE_IW);
	/* Guest tables, addressed by GPA (= table page index * 4 KiB). */
	uint64_t gcr3_pa = table_new(&e, &gcr3), g4_pa = table_new(&e, &g4),
		 g3_pa = table_new(&e, &g3), g2_pa = table_new(&e, &g2), g1_pa = table_new(&e, &g1);
#define GPA(x) (tbl_index(&e, (x)) * 4096)
	gcr3[5] = GPA(g4_pa) | AMDVI_GCR3_V;
	gcr3[0] = GPA(g4_pa) | AMDVI_GCR3_V;
	g4[0] = GPA(g3_pa) | 0x3; /* P RW */
	g3[0] = GPA(g2_pa) | 0x3;
	g2[1] = GPA(g1_pa) | 0x3;
	g1[0x10] = (0x100000 + 3 * 4096) | 0x3; /* guest page -> GPA data page 3 */
	g1[0x11] = (0x100000 + 4 * 4096) | 0x1; /* guest read-only */
	g1[0x12] = (0x100000 + 8 * 4096) | 0x3; /* host read-only */
	uint64_t *d = dte(&e, dev);

	d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, 9);
	amdvi_dte_set_gcr3(d, GPA(gcr3_pa));
	d[0] |= AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_DTE0_IR | AMDVI_DTE0_IW | AMDVI_DTE0_GV |
		FIELD_PREP(AMDVI_DTE0_MODE, 1) | hroot;
	CU_ASSERT(amdvi_dte_gcr3(d) == GPA(gcr3_pa));
	const uint64_t iova = (1ull << 21) + 0x10000;

	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x123, true, &pa, &f) == 0);
	CU_ASSERT(pa == e.data.iova + 3 * 4096 + 0x123);
	CU_ASSERT(amdvi_model_dma(e.m, dev, 5, iova + 7, &v, 1, true, &f) == 0);
	CU_ASSERT(((uint8_t *)e.data.va)[3 * 4096 + 7] == 0x5a);
	/* Guest read-only and host read-only pages. */
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x1000, false, &pa, &f) == 0);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x1000, true, &pa, &f) ==
		  -EFAULT);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x2000, true, &pa, &f) ==
		  -EFAULT);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x2000, false, &pa, &f) == 0);
	/* Another PASID: no GCR3 entry: IO_PAGE_FAULT with GN and the PASID. */
	events(&e, w0, w1, 8);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 0x1234, iova, false, &pa, &f) == -EFAULT);
	CU_ASSERT_FATAL(events(&e, w0, w1, 8) == 1);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_CODE, w0[0]) == AMDVI_EV_IO_PAGE_FAULT);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_FLAGS, w0[0]) & AMDVI_EVF_GN);
	CU_ASSERT(FIELD_GET(AMDVI_EVT_DOMID, w0[0]) == 0x1234);
	/* No PASID and GIoV clear: the host table alone (GPA = IOVA). */
	CU_ASSERT(xlate(&e, dev, 0x100000 + 0x10, false, &pa, &f) == 0 && pa == e.data.iova + 0x10);
	/* GIoV: requests without a PASID use PASID 0's guest table. */
	d[0] |= AMDVI_DTE0_GIOV;
	cmd(&e, op(AMDVI_OP_INV_DEVTAB_ENTRY) | dev, 0);
	CU_ASSERT(xlate(&e, dev, iova + 0x10, false, &pa, &f) == 0 &&
		  pa == e.data.iova + 3 * 4096 + 0x10);
	/* Stale until INVALIDATE_IOMMU_PAGES with GN for that PASID. */
	amdvi_model_reset_stale(e.m);
	g1[0x10] = 0;
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova, false, &pa, &f) == 0);
	amdvi_model_get_stats(e.m, &st);
	CU_ASSERT(st.stale_iotlb == 1);
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, 9) | 6,
	    iova | AMDVI_INV_GN);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova, false, &pa, &f) == 0);
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, 9) | 5,
	    iova | AMDVI_INV_GN);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova, false, &pa, &f) == -EFAULT);
	/* A host change is caught by GN = 0 (every translation of the domain). */
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x1000, false, &pa, &f) == 0);
	h1[256 + 4] = 0;
	cmd(&e, op(AMDVI_OP_INV_IOMMU_PAGES) | FIELD_PREP(AMDVI_INVP_DOMID, 9),
	    AMDVI_INV_ALL_ADDR | AMDVI_INV_S);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova + 0x1000, false, &pa, &f) ==
		  -EFAULT);
	/* GTEn off: the GV entry is illegal; GLX 2: illegal. */
	d[0] = FIELD_SET(AMDVI_DTE0_GLX, d[0], 2);
	cmd(&e, op(AMDVI_OP_INV_DEVTAB_ENTRY) | dev, 0);
	CU_ASSERT(amdvi_model_translate_pasid(e.m, dev, 5, iova, false, &pa, &f) == -EFAULT);
	CU_ASSERT(f.code == AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
	/* A PASID wider than PASmax, or without gt: refused. */
	CU_ASSERT(amdvi_model_dma(e.m, dev, 1u << 16, iova, &v, 1, false, &f) == -EINVAL);
#undef GPA
	menv_down(&e);
}

static const struct ut_test model_tests[] = {
	{"registers", test_registers},
	{"dte_forms", test_dte_forms},
	{"walks", test_walks},
	{"sized_page", test_sized_page},
	{"caches_stale", test_caches_stale},
	{"pde_cache", test_pde_cache},
	{"commands", test_commands},
	{"event_overflow", test_event_overflow},
	{"ppr", test_ppr},
	{"dma_engine", test_dma_engine},
	{"guest_v2", test_guest_v2},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"amdvi-model", suite_init, suite_fini, model_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
