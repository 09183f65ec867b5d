/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in VT-d model, tested on its own: every table is built here by
 * hand in env memory (independent of the VT-d driver), every register is
 * reached through the model's register hooks, devices are played by the
 * model's DMA engine.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"
#include "core/regs.h"
#include "hw/vtd/vtd_regs.h"
#include "model/vtd/vtd_model.h"
#include "pgtable/pgt_hw.h"
#include "ut.h"

#define RID_A 0x0018 /* 00:03.0 */
#define RID_B 0x0110 /* 01:02.0 */
#define RID_HI 0x02f8 /* 02:1f.0: devfn >= 128 (SM upper context table) */
#define NOP VTD_DMA_NO_PASID
#define FRO 0x400u /* what the model reports: checked in test_regs */

static struct vtd_model *m;
static struct uiommu_regio rio;
static uint64_t root_pa;
static uint64_t *root;

/* ------------------------------------------------------------ helpers */

static void *pg(uint64_t *pa)
{
	void *va = uenv_page_alloc(UENV_NODE_ANY, pa);
	CU_ASSERT_FATAL(va != NULL);
	return va;
}

static uint64_t *va_of(uint64_t pa)
{
	uint64_t *p = uenv_iova_to_va(pa);
	CU_ASSERT_FATAL(p != NULL);
	return p;
}

static void model_new(const char *cfg)
{
	CU_ASSERT_FATAL(vtd_model_create_str(cfg, &m) == 0);
	vtd_model_regio(m, &rio);
	root = pg(&root_pa);
}

static void model_del(void)
{
	vtd_model_destroy(m);
	m = NULL;
}

static uint32_t r32(uint32_t off) { return reg_read32(&rio, off); }
static uint64_t r64(uint32_t off) { return reg_read64(&rio, off); }
static void w32(uint32_t off, uint32_t v) { reg_write32(&rio, off, v); }
static void w64(uint32_t off, uint64_t v) { reg_write64(&rio, off, v); }

/* GCMD: keep the persistent bits of GSTS, add/remove @set/@clr. */
static void gcmd(uint32_t set, uint32_t clr)
{
	uint32_t sts = r32(VTD_REG_GSTS) & (uint32_t)VTD_GSTS_PERSIST;
	w32(VTD_REG_GCMD, (sts | set) & ~clr);
}

static void enable(unsigned int ttm)
{
	w64(VTD_REG_RTADDR, root_pa | FIELD_PREP(VTD_RTADDR_TTM, ttm));
	gcmd((uint32_t)VTD_GCMD_SRTP, 0);
	CU_ASSERT(r32(VTD_REG_GSTS) & VTD_GSTS_RTPS);
	gcmd((uint32_t)VTD_GCMD_TE, 0);
	CU_ASSERT(r32(VTD_REG_GSTS) & VTD_GSTS_TES);
}

static int dma(uint16_t rid, uint32_t pasid, uint64_t iova, void *buf, size_t len, bool wr,
	       unsigned int *reason)
{
	return vtd_model_dma(m, rid, pasid, iova, buf, len, wr, 0, reason);
}

/* Read 8 bytes at @iova: the value, or ~0 on a fault (reason in *fr). */
static uint64_t rd64(uint16_t rid, uint32_t pasid, uint64_t iova, unsigned int *fr)
{
	uint64_t v = 0;
	unsigned int r = 0;
	if (dma(rid, pasid, iova, &v, 8, false, &r))
		v = ~0ULL;
	if (fr)
		*fr = r;
	return v;
}

/* ---- page tables ---- */

/* "Guest" memory for nested tests: first-level table pages get GPAs that
 * the second-level table maps to their real pages. */
static struct {
	bool on;
	uint64_t sl_root;
	unsigned int sl_levels;
	uint64_t next;
	uint64_t gpa[64], hpa[64];
	unsigned int n;
} guest;

static void sl_map(uint64_t rootpa, unsigned int levels, uint64_t iova, uint64_t pa,
		   unsigned int shift, uint64_t perm);

static uint64_t tbl_new(void)
{
	uint64_t pa;
	pg(&pa);
	if (!guest.on)
		return pa;
	uint64_t gpa = guest.next;
	guest.next += 4096;
	sl_map(guest.sl_root, guest.sl_levels, gpa, pa, 12, VTD_SL_R | VTD_SL_W);
	guest.gpa[guest.n] = gpa;
	guest.hpa[guest.n++] = pa;
	return gpa;
}

static uint64_t *tbl_va(uint64_t addr)
{
	if (guest.on)
		for (unsigned int i = 0; i < guest.n; i++)
			if (guest.gpa[i] == addr)
				return va_of(guest.hpa[i]);
	return va_of(addr);
}

/* Second-level entry for @iova at the level of @shift; tables on the way
 * are created with R+W. */
static uint64_t *sl_slot(uint64_t rootpa, unsigned int levels, uint64_t iova, unsigned int shift)
{
	uint64_t table = rootpa;
	for (unsigned int l = levels;; l--) {
		unsigned int s = 12 + 9 * (l - 1);
		uint64_t *e = va_of(table) + ((iova >> s) & 511);
		if (s == shift)
			return e;
		if (!(*e & (VTD_SL_R | VTD_SL_W))) {
			uint64_t pa;
			pg(&pa);
			*e = pa | VTD_SL_R | VTD_SL_W;
		}
		table = *e & VTD_SL_ADDR;
	}
}

static void sl_map(uint64_t rootpa, unsigned int levels, uint64_t iova, uint64_t pa,
		   unsigned int shift, uint64_t perm)
{
	*sl_slot(rootpa, levels, iova, shift) = pa | perm | (shift > 12 ? VTD_SL_PS : 0);
}

static uint64_t *fl_slot(uint64_t rootaddr, unsigned int levels, uint64_t iova, unsigned int shift)
{
	uint64_t table = rootaddr;
	for (unsigned int l = levels;; l--) {
		unsigned int s = 12 + 9 * (l - 1);
		uint64_t *e = tbl_va(table) + ((iova >> s) & 511);
		if (s == shift)
			return e;
		if (!(*e & X86_P))
			*e = tbl_new() | X86_P | X86_RW | X86_US;
		table = *e & X86_ADDR;
	}
}

static void fl_map(uint64_t rootaddr, unsigned int levels, uint64_t iova, uint64_t pa,
		   unsigned int shift, uint64_t flags)
{
	*fl_slot(rootaddr, levels, iova, shift) = pa | X86_P | flags | (shift > 12 ? X86_PS : 0);
}

/* ---- legacy root/context ---- */

static uint64_t *legacy_ce(uint16_t rid)
{
	uint64_t *re = root + (rid >> 8) * 2;
	if (!(re[0] & VTD_RE_Q0_P)) {
		uint64_t pa;
		pg(&pa);
		re[0] = pa | VTD_RE_Q0_P;
	}
	return va_of(re[0] & VTD_RE_Q0_CTP) + (rid & 0xff) * 2;
}

static void legacy_ctx(uint16_t rid, uint64_t slpt, unsigned int aw, uint16_t did, unsigned int tt)
{
	uint64_t *ce = legacy_ce(rid);
	ce[1] = FIELD_PREP(VTD_CE_Q1_AW, aw) | FIELD_PREP(VTD_CE_Q1_DID, did);
	ce[0] = slpt | FIELD_PREP(VTD_CE_Q0_TT, tt) | VTD_CE_Q0_P;
}

/* ---- scalable root/context/PASID ---- */

static uint64_t *sm_ce(uint16_t rid)
{
	uint64_t *re = root + (rid >> 8) * 2 + ((rid & 0x80) ? 1 : 0);
	if (!(*re & VTD_SMRE_Q0_LP)) {
		uint64_t pa;
		pg(&pa);
		*re = pa | VTD_SMRE_Q0_LP;
	}
	return va_of(*re & VTD_SMRE_Q0_LCTP) + (rid & 0x7f) * 4;
}

/* Context with a one-page PASID directory (PDTS=0: PASIDs 0..8191). */
static uint64_t sm_ctx(uint16_t rid, uint64_t flags, uint32_t rid_pasid)
{
	uint64_t *ce = sm_ce(rid), dir;
	pg(&dir);
	ce[1] = FIELD_PREP(VTD_SMCE_Q1_RID_PASID, rid_pasid);
	ce[0] = dir | flags | VTD_SMCE_Q0_P;
	return dir;
}

static uint64_t *sm_pe(uint64_t dir, uint32_t pasid)
{
	uint64_t *de = va_of(dir) + VTD_PASID_DIR_IDX(pasid);
	if (!(*de & VTD_PDE_P)) {
		uint64_t pa;
		pg(&pa);
		*de = pa | VTD_PDE_P;
	}
	return va_of(*de & VTD_PDE_SMPTBLPTR) + VTD_PASID_TBL_IDX(pasid) * 8;
}

static void pe_sl(uint64_t *pe, uint64_t slpt, unsigned int aw, uint16_t did)
{
	pe[1] = FIELD_PREP(VTD_PE_Q1_DID, did);
	pe[2] = 0;
	pe[0] = slpt | FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_SL) | FIELD_PREP(VTD_PE_Q0_AW, aw) |
		VTD_PE_Q0_P;
}

static void pe_fl(uint64_t *pe, uint64_t flpt, unsigned int flpm, uint16_t did)
{
	pe[1] = FIELD_PREP(VTD_PE_Q1_DID, did);
	pe[2] = flpt | FIELD_PREP(VTD_PE_Q2_FLPM, flpm);
	pe[0] = FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_FL) | VTD_PE_Q0_P;
}

/* ---- register-based invalidation ---- */

static void reg_iotlb(unsigned int g, uint16_t did, uint64_t addr, unsigned int am)
{
	uint32_t iro = vtd_ecap_iro_off(r64(VTD_REG_ECAP));
	w64(iro + VTD_REG_IVA_OFF, addr | FIELD_PREP(VTD_IVA_AM, am));
	w64(iro + VTD_REG_IOTLB_OFF, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, g) |
					     FIELD_PREP(VTD_IOTLB_DID, did));
	uint64_t v = r64(iro + VTD_REG_IOTLB_OFF);
	CU_ASSERT_FALSE((v & VTD_IOTLB_IVT) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IOTLB_IAIG, v), g);
}

static void reg_ctx(unsigned int g, uint16_t did, uint16_t sid)
{
	w64(VTD_REG_CCMD, VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, g) |
				  FIELD_PREP(VTD_CCMD_DID, did) | FIELD_PREP(VTD_CCMD_SID, sid));
	uint64_t v = r64(VTD_REG_CCMD);
	CU_ASSERT_FALSE((v & VTD_CCMD_ICC) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CCMD_CAIG, v), g);
}

/* ---- queued invalidation ---- */

static struct {
	uint64_t pa;
	uint64_t *va;
	uint32_t tail; /* in descriptors */
	bool dw;
	uint64_t st_pa;
	volatile uint32_t *st;
} q;

static void qi_on(bool dw)
{
	q.va = pg(&q.pa);
	q.st = (volatile uint32_t *)pg(&q.st_pa);
	q.tail = 0;
	q.dw = dw;
	w64(VTD_REG_IQT, 0);
	w64(VTD_REG_IQA, q.pa | (dw ? VTD_IQA_DW : 0));
	gcmd((uint32_t)VTD_GCMD_QIE, 0);
	CU_ASSERT(r32(VTD_REG_GSTS) & VTD_GSTS_QIES);
}

static void qi_put(uint64_t d0, uint64_t d1)
{
	unsigned int w = q.dw ? 4 : 2;
	uint64_t *d = q.va + q.tail * w;
	d[0] = d0;
	d[1] = d1;
	if (q.dw)
		d[2] = d[3] = 0;
	q.tail = (q.tail + 1) % (4096 / (8 * w));
}

static void qi_kick(void)
{
	w64(VTD_REG_IQT, (uint64_t)q.tail << VTD_IQ_DESC_SHIFT(q.dw));
}

/* Queue a wait with status write and run everything; true if it completed. */
static bool qi_sync(void)
{
	static uint32_t seq = 0x100;
	*q.st = 0;
	qi_put(vtd_qi_type_prep(VTD_QI_WAIT) | VTD_QI_WAIT_SW | FIELD_PREP(VTD_QI_WAIT_SDATA, ++seq),
	       q.st_pa);
	qi_kick();
	return *q.st == seq;
}

static void qi_iotlb(unsigned int g, uint16_t did, uint64_t addr, unsigned int am)
{
	qi_put(vtd_qi_type_prep(VTD_QI_IOTLB) | FIELD_PREP(VTD_QI_IOTLB_G, g) |
		       FIELD_PREP(VTD_QI_IOTLB_DID, did),
	       addr | FIELD_PREP(VTD_QI_IOTLB_AM, am));
}

/* ------------------------------------------------------------ suite setup */

static int suite_init(void)
{
	return uenv_init(NULL);
}

static int suite_fini(void)
{
	uenv_fini(true);
	return 0;
}

/* ------------------------------------------------------------ tests */

static void test_cfg(void)
{
	struct vtd_model_cfg c;

	vtd_model_cfg_default(&c);
	CU_ASSERT(c.smts && c.flts && c.slts && c.nest && c.prs && c.pt && c.qi && c.coherent);
	CU_ASSERT_EQUAL(c.sagaw, 0xc);
	CU_ASSERT_EQUAL(c.nfr, 8);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "sagaw=0x6,sllps=0x3,nd=2,smts=1,pasid=20,qi=1,"
						"coherent=0,nfr=4,flts=1,slts=1,nest=1,prs=1,"
						"pt=1,sc=1"), 0);
	CU_ASSERT_EQUAL(c.sagaw, 6);
	CU_ASSERT_EQUAL(c.nd, 2);
	CU_ASSERT_EQUAL(c.nfr, 4);
	CU_ASSERT_FALSE(c.coherent);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "bogus=1"), -EINVAL);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "nd=7"), -EINVAL);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "nfr=0"), -EINVAL);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "sagaw=0x1"), -EINVAL);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "nfr"), -EINVAL);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "nfr=4x"), -EINVAL);
	CU_ASSERT_EQUAL(c.nfr, 4); /* untouched by failures */
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, ""), 0);
	CU_ASSERT_EQUAL(vtd_model_cfg_parse(&c, "iotlb=8,ctxc=2,pasidc=3,"), 0);
	CU_ASSERT_EQUAL(c.iotlb_size, 8);
}

static void test_regs(void)
{
	model_new("nfr=4,nd=2,sagaw=0x6,smts=0");
	uint64_t cap = r64(VTD_REG_CAP), ecap = r64(VTD_REG_ECAP);

	CU_ASSERT_EQUAL(vtd_cap_nfr(cap), 4);
	CU_ASSERT_EQUAL(vtd_cap_domain_bits(cap), 8);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_SAGAW, cap), 6);
	CU_ASSERT_EQUAL(vtd_cap_fro_off(cap), FRO);
	CU_ASSERT_EQUAL(vtd_cap_mgaw(cap), 57);
	CU_ASSERT_FALSE((ecap & (VTD_ECAP_SMTS | VTD_ECAP_PASID | VTD_ECAP_FLTS | VTD_ECAP_PRS)) != 0);
	CU_ASSERT((ecap & VTD_ECAP_QI) != 0);
	CU_ASSERT(vtd_ecap_iro_off(ecap) + 16 <= FRO);
	CU_ASSERT(FRO + 4 * 16 <= vtd_model_reg_size(m));
	/* read-only registers ignore writes; GCMD reads 0 */
	w64(VTD_REG_CAP, 0);
	CU_ASSERT_EQUAL(r64(VTD_REG_CAP), cap);
	w32(VTD_REG_GSTS, 0xffffffff);
	CU_ASSERT_EQUAL(r32(VTD_REG_GSTS), 0);
	w64(VTD_REG_IQH, 0x40);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), 0);
	/* RTADDR: plain storage until SRTP latches it */
	w64(VTD_REG_RTADDR, root_pa);
	CU_ASSERT_EQUAL(r64(VTD_REG_RTADDR), root_pa);
	gcmd((uint32_t)VTD_GCMD_SRTP, 0);
	CU_ASSERT(r32(VTD_REG_GSTS) & VTD_GSTS_RTPS);
	CU_ASSERT_EQUAL(r32(VTD_REG_GCMD), 0);
	gcmd((uint32_t)VTD_GCMD_TE, 0);
	CU_ASSERT(r32(VTD_REG_GSTS) & VTD_GSTS_TES);
	gcmd(0, (uint32_t)VTD_GCMD_TE);
	CU_ASSERT_FALSE((r32(VTD_REG_GSTS) & VTD_GSTS_TES) != 0);
	/* DW is reserved without scalable mode; 32-bit halves of 64-bit registers */
	w64(VTD_REG_IQA, 0x1000 | VTD_IQA_DW | 1);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQA), 0x1001);
	w32(VTD_REG_IQA + 4, 0x12);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQA), 0x1200001001ULL);
	/* FECTL.IM is RW, IP is RO */
	w32(VTD_REG_FECTL, (uint32_t)(VTD_FECTL_IM | VTD_FECTL_IP));
	CU_ASSERT_EQUAL(r32(VTD_REG_FECTL), (uint32_t)VTD_FECTL_IM);
	/* translation off: DMA is untranslated */
	uint64_t pa, v = 0x1122334455667788ULL, back = 0;
	uint64_t *p = pg(&pa);
	CU_ASSERT_EQUAL(dma(RID_A, NOP, pa, &v, 8, true, NULL), 0);
	CU_ASSERT_EQUAL(*p, v);
	CU_ASSERT_EQUAL(dma(RID_A, NOP, pa, &back, 8, false, NULL), 0);
	CU_ASSERT_EQUAL(back, v);
	model_del();
}

/* Legacy mode, 3- and 4-level second-level tables, 4K/2M/1G leaves. */
static void legacy_levels(unsigned int aw)
{
	unsigned int levels = vtd_aw_levels(aw);
	uint64_t slpt, pa4k, pa2m = 0, v, fr;
	unsigned int reason;
	uint64_t *d4k = pg(&pa4k);
	struct uenv_dma big;

	pg(&slpt);
	d4k[1] = 0xabcdef;
	sl_map(slpt, levels, 0x1000, pa4k, 12, VTD_SL_R | VTD_SL_W);
	CU_ASSERT_FATAL(uenv_dma_alloc(2u << 20, 2u << 20, UENV_NODE_ANY, &big) == 0);
	pa2m = big.iova;
	((uint64_t *)big.va)[0x1000 / 8] = 0x2020;
	sl_map(slpt, levels, 0x40000000, pa2m, 21, VTD_SL_R);
	/* a 1G leaf pointing at the same 2M block (only its first 2M is real) */
	sl_map(slpt, levels, 0x80000000, ALIGN_DOWN_ULL(pa2m, 1u << 30), 30, VTD_SL_R);
	legacy_ctx(RID_A, slpt, aw, 5, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);

	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1008, NULL), 0xabcdef);
	v = 0x5555;
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x1010, &v, 8, true, NULL), 0);
	CU_ASSERT_EQUAL(d4k[2], 0x5555);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x40001000, NULL), 0x2020);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x80000000 + (pa2m & ((1u << 30) - 1)) + 0x1000, NULL),
			0x2020);
	/* unmapped read / write; read-only write: no byte moves */
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x3000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_READ);
	v = 1;
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x3000, &v, 8, true, &reason), -EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_WRITE);
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x40001000, &v, 8, true, &reason), -EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_WRITE);
	CU_ASSERT_EQUAL(((uint64_t *)big.va)[0x1000 / 8], 0x2020);
	/* a DMA that crosses into an unmapped page writes nothing at all */
	uint8_t buf[64];
	memset(buf, 0x77, sizeof(buf));
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x2000 - 32, buf, 64, true, &reason), -EFAULT);
	CU_ASSERT_EQUAL(d4k[511], 0);
	/* beyond the table width */
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 1ULL << vtd_aw_bits(aw), &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_ADDR_BEYOND);
	/* fault record 0: the first read fault */
	fr = r64(FRO + 8);
	CU_ASSERT((fr & VTD_FRCD_Q1_F) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_FR, fr), VTD_FR_READ);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_SID, fr), RID_A);
	CU_ASSERT((fr & VTD_FRCD_Q1_T1) != 0);
	CU_ASSERT_FALSE((fr & VTD_FRCD_Q1_PP) != 0);
	CU_ASSERT_EQUAL(r64(FRO), 0x3000);
	fr = r64(FRO + 16 + 8);
	CU_ASSERT_FALSE((fr & VTD_FRCD_Q1_T1) != 0); /* write */
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_PPF);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FSTS_FRI, r32(VTD_REG_FSTS)), 0);
	/* no root entry for another bus */
	CU_ASSERT_EQUAL(rd64(RID_B, NOP, 0x1000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_ROOT_P);
	/* a context entry not present on a bus that has a table */
	CU_ASSERT_EQUAL(rd64(RID_A + 1, NOP, 0x1000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_CTX_P);
	/* a request with PASID in legacy mode */
	CU_ASSERT_EQUAL(rd64(RID_A, 1, 0x1000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_TTM_PASID);
	uenv_dma_free(&big);
}

static void test_legacy_3level(void)
{
	model_new("sagaw=0x2,smts=0,mgaw=39,nfr=16");
	legacy_levels(VTD_AW_39);
	model_del();
}

static void test_legacy_4level(void)
{
	model_new("sagaw=0x4,smts=0,mgaw=48,nfr=16");
	legacy_levels(VTD_AW_48);
	model_del();
}

static void test_legacy_invalid_ctx(void)
{
	uint64_t slpt;
	unsigned int reason;

	model_new("sagaw=0x4,smts=0,mgaw=48,pt=0,sllps=0");
	pg(&slpt);
	legacy_ctx(RID_A, slpt, VTD_AW_57, 1, VTD_CE_TT_SL); /* AW not in SAGAW */
	legacy_ctx(RID_A + 1, slpt, VTD_AW_48, 1, VTD_CE_TT_PT); /* no PT support */
	legacy_ctx(RID_A + 2, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	legacy_ce(RID_A + 2)[1] |= BIT_ULL(30); /* reserved */
	legacy_ctx(RID_A + 3, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	sl_map(slpt, 4, 0x200000, 0x200000, 21, VTD_SL_R); /* 2M leaf, SLLPS=0 */
	enable(VTD_TTM_LEGACY);
	rd64(RID_A, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_CTX_INV);
	rd64(RID_A + 1, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_CTX_INV);
	rd64(RID_A + 2, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_CTX_RSVD);
	rd64(RID_A + 3, NOP, 0x200000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_PTE_RSVD);
	/* an invalid root table mode */
	w64(VTD_REG_RTADDR, root_pa | FIELD_PREP(VTD_RTADDR_TTM, 2));
	gcmd((uint32_t)VTD_GCMD_SRTP, 0);
	rd64(RID_A + 3, NOP, 0x1000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_RTA_INV);
	model_del();
}

static void test_fault_records(void)
{
	uint64_t slpt;
	unsigned int reason;
	struct vtd_model_stats st;

	model_new("smts=0,sagaw=0x4,mgaw=48,nfr=2");
	pg(&slpt);
	legacy_ctx(RID_A, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);
	rd64(RID_A, NOP, 0x1000, &reason);
	rd64(RID_A, NOP, 0x2000, &reason);
	CU_ASSERT_FALSE((r32(VTD_REG_FSTS) & VTD_FSTS_PFO) != 0);
	rd64(RID_A, NOP, 0x3000, &reason); /* both records full: overflow */
	CU_ASSERT_EQUAL(reason, VTD_FR_READ);
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_PFO);
	CU_ASSERT(r32(VTD_REG_FECTL) & VTD_FECTL_IP);
	CU_ASSERT_EQUAL(r64(FRO), 0x1000);
	CU_ASSERT_EQUAL(r64(FRO + 16), 0x2000);
	vtd_model_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.faults_logged, 2);
	CU_ASSERT_EQUAL(st.faults_dropped, 1);
	/* clear record 0 (F is RW1C through the upper dword, as Linux does) */
	w32(FRO + 12, (uint32_t)(VTD_FRCD_Q1_F >> 32));
	CU_ASSERT_FALSE((r64(FRO + 8) & VTD_FRCD_Q1_F) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FSTS_FRI, r32(VTD_REG_FSTS)), 1);
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_PPF);
	/* still overflowed: dropped until PFO is cleared */
	rd64(RID_A, NOP, 0x4000, &reason);
	CU_ASSERT_FALSE((r64(FRO + 8) & VTD_FRCD_Q1_F) != 0);
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_PFO);
	CU_ASSERT_FALSE((r32(VTD_REG_FSTS) & VTD_FSTS_PFO) != 0);
	rd64(RID_A, NOP, 0x5000, &reason); /* next index is 0 again */
	CU_ASSERT((r64(FRO + 8) & VTD_FRCD_Q1_F) != 0);
	CU_ASSERT_EQUAL(r64(FRO), 0x5000);
	/* RO fields of a record ignore writes */
	w64(FRO, 0);
	CU_ASSERT_EQUAL(r64(FRO), 0x5000);
	w64(FRO + 8, VTD_FRCD_Q1_F);
	w64(FRO + 24, VTD_FRCD_Q1_F);
	CU_ASSERT_FALSE((r32(VTD_REG_FSTS) & VTD_FSTS_PPF) != 0);
	CU_ASSERT_FALSE((r32(VTD_REG_FECTL) & VTD_FECTL_IP) != 0);
	/* fault processing disabled: nothing recorded */
	legacy_ce(RID_A)[0] |= VTD_CE_Q0_FPD;
	reg_ctx(VTD_CC_G_GLOBAL, 0, 0);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x6000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_READ);
	CU_ASSERT_FALSE((r32(VTD_REG_FSTS) & VTD_FSTS_PPF) != 0);
	vtd_model_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.faults_suppressed, 1);
	model_del();
}

/* A cleared PTE keeps translating until the IOTLB is invalidated. */
static void stale_iotlb(bool use_qi)
{
	uint64_t slpt, pa;
	unsigned int reason;
	uint64_t *data = pg(&pa);

	model_new("smts=0,sagaw=0x4,mgaw=48");
	pg(&slpt);
	data[0] = 42;
	for (unsigned int i = 0; i < 4; i++)
		sl_map(slpt, 4, 0x10000 + i * 0x1000, pa, 12, VTD_SL_R | VTD_SL_W);
	legacy_ctx(RID_A, slpt, VTD_AW_48, 3, VTD_CE_TT_SL);
	legacy_ctx(RID_B, slpt, VTD_AW_48, 4, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);
	if (use_qi)
		qi_on(false);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000 + i * 0x1000, NULL), 42);
		CU_ASSERT_EQUAL(rd64(RID_B, NOP, 0x10000 + i * 0x1000, NULL), 42);
	}
	for (unsigned int i = 0; i < 4; i++)
		*sl_slot(slpt, 4, 0x10000 + i * 0x1000, 12) = 0;
	/* stale: still translates */
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000, NULL), 42);
	/* page-selective, another domain: still stale */
	if (use_qi) {
		qi_iotlb(VTD_IOTLB_G_PAGE, 4, 0x10000, 0);
		CU_ASSERT(qi_sync());
	} else {
		reg_iotlb(VTD_IOTLB_G_PAGE, 4, 0x10000, 0);
	}
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000, NULL), 42);
	CU_ASSERT_EQUAL(rd64(RID_B, NOP, 0x10000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_READ);
	/* page-selective with AM=1 on domain 3: 0x10000-0x11fff */
	if (use_qi) {
		qi_iotlb(VTD_IOTLB_G_PAGE, 3, 0x10000, 1);
		CU_ASSERT(qi_sync());
	} else {
		reg_iotlb(VTD_IOTLB_G_PAGE, 3, 0x10000, 1);
	}
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000, NULL), ~0ULL);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x11000, NULL), ~0ULL);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x12000, NULL), 42);
	/* domain-selective */
	if (use_qi) {
		qi_iotlb(VTD_IOTLB_G_DOMAIN, 3, 0, 0);
		CU_ASSERT(qi_sync());
	} else {
		reg_iotlb(VTD_IOTLB_G_DOMAIN, 3, 0, 0);
	}
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x12000, NULL), ~0ULL);
	CU_ASSERT_EQUAL(rd64(RID_B, NOP, 0x13000, NULL), 42);
	/* global */
	if (use_qi) {
		qi_iotlb(VTD_IOTLB_G_GLOBAL, 0, 0, 0);
		CU_ASSERT(qi_sync());
	} else {
		reg_iotlb(VTD_IOTLB_G_GLOBAL, 0, 0, 0);
	}
	CU_ASSERT_EQUAL(rd64(RID_B, NOP, 0x13000, NULL), ~0ULL);
	/* register-based invalidation is ignored while QI is on */
	if (use_qi) {
		sl_map(slpt, 4, 0x10000, pa, 12, VTD_SL_R);
		CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000, NULL), 42);
		*sl_slot(slpt, 4, 0x10000, 12) = 0;
		w64(VTD_REG_CCMD, VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, VTD_CC_G_GLOBAL));
		CU_ASSERT_EQUAL(FIELD_GET(VTD_CCMD_CAIG, r64(VTD_REG_CCMD)), 0);
		uint32_t iro = vtd_ecap_iro_off(r64(VTD_REG_ECAP));
		w64(iro + 8, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, VTD_IOTLB_G_GLOBAL));
		CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x10000, NULL), 42);
	}
	model_del();
}

static void test_stale_iotlb_reg(void)
{
	stale_iotlb(false);
}

static void test_stale_iotlb_qi(void)
{
	stale_iotlb(true);
}

static void test_stale_context(void)
{
	uint64_t slpt1, slpt2, pa1, pa2;
	uint64_t *d1 = pg(&pa1), *d2 = pg(&pa2);

	model_new("smts=0,sagaw=0x4,mgaw=48");
	pg(&slpt1);
	pg(&slpt2);
	d1[0] = 1;
	d2[0] = 2;
	sl_map(slpt1, 4, 0x1000, pa1, 12, VTD_SL_R);
	sl_map(slpt2, 4, 0x1000, pa2, 12, VTD_SL_R);
	legacy_ctx(RID_A, slpt1, VTD_AW_48, 1, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 1);
	/* switch the device to domain 2 without telling the model */
	legacy_ctx(RID_A, slpt2, VTD_AW_48, 2, VTD_CE_TT_SL);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 1);
	/* device-selective with the wrong (new) DID misses the cached entry */
	reg_ctx(VTD_CC_G_DEVICE, 2, RID_A);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 1);
	reg_ctx(VTD_CC_G_DEVICE, 1, RID_A);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 2);
	/* domain-selective through the queue, with a function mask */
	qi_on(false);
	legacy_ctx(RID_A, slpt1, VTD_AW_48, 1, VTD_CE_TT_SL);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 2);
	qi_put(vtd_qi_type_prep(VTD_QI_CC) | FIELD_PREP(VTD_QI_CC_G, VTD_CC_G_DEVICE) |
		       FIELD_PREP(VTD_QI_CC_DID, 2) | FIELD_PREP(VTD_QI_CC_SID, RID_A | 7) |
		       FIELD_PREP(VTD_QI_CC_FM, 3),
	       0);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 1);
	struct vtd_model_stats st;
	vtd_model_get_stats(m, &st);
	CU_ASSERT(st.ctx_hit > 0 && st.ctx_inval >= 2);
	model_del();
}

static void test_qi_wait_and_errors(void)
{
	uint64_t iqh;

	model_new(NULL);
	enable(VTD_TTM_LEGACY);
	qi_on(false);
	/* wait with status write and interrupt flag */
	*q.st = 0;
	qi_put(vtd_qi_type_prep(VTD_QI_WAIT) | VTD_QI_WAIT_SW | VTD_QI_WAIT_IF | VTD_QI_WAIT_FN |
		       FIELD_PREP(VTD_QI_WAIT_SDATA, 0xfeed),
	       q.st_pa);
	qi_kick();
	CU_ASSERT_EQUAL(*q.st, 0xfeed);
	CU_ASSERT(r32(VTD_REG_ICS) & VTD_ICS_IWC);
	CU_ASSERT(r32(VTD_REG_IECTL) & VTD_IECTL_IP);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), r64(VTD_REG_IQT));
	w32(VTD_REG_ICS, (uint32_t)VTD_ICS_IWC);
	CU_ASSERT_EQUAL(r32(VTD_REG_ICS), 0);
	CU_ASSERT_FALSE((r32(VTD_REG_IECTL) & VTD_IECTL_IP) != 0);
	/* a bad descriptor: IQE, IQERCD, IQH left on it, processing stops */
	qi_put(vtd_qi_type_prep(VTD_QI_IOTLB) | FIELD_PREP(VTD_QI_IOTLB_G, VTD_IOTLB_G_GLOBAL) |
		       BIT_ULL(40), /* reserved */
	       0);
	iqh = r64(VTD_REG_IQH);
	CU_ASSERT_FALSE(qi_sync());
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_IQE);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_RSVD);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), iqh);
	CU_ASSERT(r32(VTD_REG_FECTL) & VTD_FECTL_IP);
	/* more tail writes do nothing while IQE is set */
	qi_kick();
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), iqh);
	CU_ASSERT_EQUAL(*q.st, 0);
	/* software fixes the descriptor (turns it into a wait) and clears IQE */
	uint64_t *bad = q.va + (iqh >> 4) * 2;
	bad[0] = vtd_qi_type_prep(VTD_QI_WAIT);
	bad[1] = 0;
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT_FALSE((r32(VTD_REG_FSTS) & VTD_FSTS_IQE) != 0);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), r64(VTD_REG_IQT));
	CU_ASSERT(*q.st != 0);
	/* unknown type and IEC without interrupt remapping */
	qi_put(vtd_qi_type_prep(0xa), 0);
	qi_kick();
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_TYPE);
	q.va[(r64(VTD_REG_IQH) >> 4) * 2] = vtd_qi_type_prep(VTD_QI_IEC);
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_IQE);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_TYPE);
	q.va[(r64(VTD_REG_IQH) >> 4) * 2] = vtd_qi_type_prep(VTD_QI_WAIT);
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), r64(VTD_REG_IQT));
	/* tail beyond the queue */
	w64(VTD_REG_IQT, 300u << 4);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_TAIL_RANGE);
	w64(VTD_REG_IQT, (uint64_t)q.tail << 4);
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT(qi_sync());
	/* disable / re-enable: IQH restarts at 0 */
	gcmd(0, (uint32_t)VTD_GCMD_QIE);
	CU_ASSERT_FALSE((r32(VTD_REG_GSTS) & VTD_GSTS_QIES) != 0);
	qi_on(false);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), 0);
	CU_ASSERT(qi_sync());
	struct vtd_model_stats st;
	vtd_model_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.qi_errors, 4);
	model_del();
}

static void test_qi_256(void)
{
	model_new(NULL);
	enable(VTD_TTM_SCALABLE);
	qi_on(true);
	CU_ASSERT(r64(VTD_REG_IQA) & VTD_IQA_DW);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), 1u << 5);
	/* PASID-based IOTLB and PASID cache descriptors are fine */
	qi_put(vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, VTD_PIOTLB_G_PASID) |
		       FIELD_PREP(VTD_QI_PIOTLB_DID, 1) | FIELD_PREP(VTD_QI_PIOTLB_PASID, 5),
	       0);
	qi_put(vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_GLOBAL), 0);
	CU_ASSERT(qi_sync());
	/* non-zero upper half */
	qi_put(vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_GLOBAL), 0);
	q.va[((q.tail + 127) % 128) * 4 + 3] = 1;
	CU_ASSERT_FALSE(qi_sync());
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_RSVD);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), 4u << 5);
	q.va[4 * 4 + 3] = 0;
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT_EQUAL(r64(VTD_REG_IQH), r64(VTD_REG_IQT));
	/* a tail not aligned to 256 bits */
	w64(VTD_REG_IQT, (6u << 5) | 0x10);
	CU_ASSERT(r32(VTD_REG_FSTS) & VTD_FSTS_IQE);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_TAIL);
	w64(VTD_REG_IQT, (uint64_t)q.tail << 5);
	w32(VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
	CU_ASSERT(qi_sync());
	/* PASID-based descriptors need scalable mode */
	model_del();
	model_new("smts=0");
	enable(VTD_TTM_LEGACY);
	qi_on(false);
	qi_put(vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_GLOBAL), 0);
	CU_ASSERT_FALSE(qi_sync());
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQERCD_IQEI, r64(VTD_REG_IQERCD)), VTD_IQEI_TYPE);
	model_del();
}

/* Scalable mode, PGTT=SL, requests without PASID (RID_PASID) and with. */
static void test_sm_second_level(void)
{
	uint64_t slpt, pa, dir, *pe;
	unsigned int reason;
	uint64_t *data = pg(&pa);

	model_new("sagaw=0x8,mgaw=57");
	pg(&slpt);
	data[0] = 77;
	sl_map(slpt, 5, 0x100000000000000ULL, pa, 12, VTD_SL_R | VTD_SL_W);
	dir = sm_ctx(RID_HI, VTD_SMCE_Q0_PASIDE, 0);
	pe_sl(sm_pe(dir, 0), slpt, VTD_AW_57, 9);
	pe_sl(sm_pe(dir, 100), slpt, VTD_AW_57, 10);
	enable(VTD_TTM_SCALABLE);
	CU_ASSERT_EQUAL(rd64(RID_HI, NOP, 0x100000000000000ULL, NULL), 77);
	CU_ASSERT_EQUAL(rd64(RID_HI, 100, 0x100000000000000ULL, NULL), 77);
	CU_ASSERT_EQUAL(rd64(RID_HI, NOP, 0x1000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_SL_PERM);
	uint64_t fr = r64(FRO + 8);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_FR, fr), VTD_FR_SM_SL_PERM);
	CU_ASSERT_FALSE((fr & VTD_FRCD_Q1_PP) != 0);
	rd64(RID_HI, 100, 0x2000, &reason);
	fr = r64(FRO + 16 + 8);
	CU_ASSERT((fr & VTD_FRCD_Q1_PP) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_PV, fr), 100);
	/* PASID without an entry; PASID beyond the directory; PASIDE clear */
	rd64(RID_HI, 101, 0x1000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_PE_P);
	rd64(RID_HI, 64 * 128, 0x1000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_CTX_PASID_BIG);
	rd64(RID_HI, 64 * 5, 0x1000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_PDE_P);
	dir = sm_ctx(RID_A, 0, 0);
	pe_sl(sm_pe(dir, 0), slpt, VTD_AW_57, 9);
	rd64(RID_A, 100, 0x1000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_CTX_PASIDE);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x100000000000000ULL, NULL), 77);
	/* no context for another device; invalid PGTT; AW not supported */
	rd64(RID_B, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_ROOT_P);
	rd64(RID_A + 1, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_CTX_P);
	pe = sm_pe(sm_ctx(RID_A + 2, 0, 0), 0);
	pe_sl(pe, slpt, VTD_AW_48, 9);
	rd64(RID_A + 2, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_PE_INV);
	pe = sm_pe(sm_ctx(RID_A + 3, 0, 0), 0);
	pe_sl(pe, slpt, VTD_AW_57, 9);
	pe[0] = FIELD_SET(VTD_PE_Q0_PGTT, pe[0], 6);
	rd64(RID_A + 3, NOP, 0, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_PE_INV);
	/* pass-through PASID entry */
	pe = sm_pe(sm_ctx(RID_A + 4, 0, 0), 0);
	pe[1] = FIELD_PREP(VTD_PE_Q1_DID, 1);
	pe[0] = FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_PT) | VTD_PE_Q0_P;
	CU_ASSERT_EQUAL(rd64(RID_A + 4, NOP, pa, NULL), 77);
	model_del();
}

/* First level (4- and 5-level), privilege and write checks, A/D bits. */
static void test_sm_first_level(void)
{
	uint64_t flpt, flpt5, pa, dir, *leaf;
	unsigned int reason;
	uint64_t *data = pg(&pa);

	model_new(NULL);
	data[0] = 99;
	pg(&flpt);
	pg(&flpt5);
	fl_map(flpt, 4, 0x7f0000000000ULL, pa, 12, X86_RW | X86_US);
	fl_map(flpt, 4, 0x1000, pa, 12, X86_US);            /* read-only */
	fl_map(flpt, 4, 0x2000, pa, 12, X86_RW);            /* supervisor */
	fl_map(flpt, 4, 0xffff800000001000ULL, pa, 12, X86_RW); /* upper half, supervisor */
	fl_map(flpt5, 5, 0x00f0000000000000ULL, pa, 12, X86_RW | X86_US);
	dir = sm_ctx(RID_A, VTD_SMCE_Q0_PASIDE, 0);
	pe_fl(sm_pe(dir, 0), flpt, VTD_FLPM_4LVL, 3);
	pe_fl(sm_pe(dir, 7), flpt5, VTD_FLPM_5LVL, 4);
	sm_pe(dir, 7)[2] |= VTD_PE_Q2_SRE;
	enable(VTD_TTM_SCALABLE);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x7f0000000000ULL, NULL), 99);
	leaf = fl_slot(flpt, 4, 0x7f0000000000ULL, 12);
	CU_ASSERT((*leaf & X86_A) != 0);
	CU_ASSERT_FALSE((*leaf & X86_D) != 0);
	uint64_t v = 100;
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x7f0000000000ULL, &v, 8, true, NULL), 0);
	CU_ASSERT((*leaf & X86_D) != 0);
	CU_ASSERT_EQUAL(data[0], 100);
	/* read-only page */
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), 100);
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x1000, &v, 8, true, &reason), -EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_WRITE);
	/* supervisor page, user request (requests without PASID are user) */
	rd64(RID_A, NOP, 0x2000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_FL_US);
	/* not present; non-canonical */
	rd64(RID_A, NOP, 0x3000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_FL_P);
	rd64(RID_A, NOP, 0x0000900000000000ULL, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_NONCANON);
	/* 5-level table, supervisor request with PASID (SRE set) */
	CU_ASSERT_EQUAL(rd64(RID_A, 7, 0x00f0000000000000ULL, NULL), 100);
	uint64_t out = 0;
	CU_ASSERT_EQUAL(vtd_model_dma(m, RID_A, 7, 0x00f0000000000000ULL, &out, 8, false,
				      VTD_DMA_PRIV, NULL), 0);
	CU_ASSERT_EQUAL(out, 100);
	/* supervisor request without SRE */
	CU_ASSERT_EQUAL(vtd_model_dma(m, RID_A, 0, 0xffff800000001000ULL, &out, 8, false,
				      VTD_DMA_PRIV, &reason), -EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_PE_SRE);
	sm_pe(dir, 0)[2] |= VTD_PE_Q2_SRE;
	vtd_model_flush_caches(m);
	CU_ASSERT_EQUAL(vtd_model_dma(m, RID_A, 0, 0xffff800000001000ULL, &out, 8, false,
				      VTD_DMA_PRIV, NULL), 0);
	/* supervisor writes to a read-only page succeed unless WPE */
	CU_ASSERT_EQUAL(vtd_model_dma(m, RID_A, 0, 0x1000, &v, 8, true, VTD_DMA_PRIV, NULL), 0);
	sm_pe(dir, 0)[2] |= VTD_PE_Q2_WPE;
	vtd_model_flush_caches(m);
	CU_ASSERT_EQUAL(vtd_model_dma(m, RID_A, 0, 0x1000, &v, 8, true, VTD_DMA_PRIV, &reason),
			-EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_WRITE);
	/* PS at the top level is reserved; 1G leaf */
	*fl_slot(flpt, 4, 0x8000000000ULL, 39) = pa | X86_P | X86_PS;
	rd64(RID_A, NOP, 0x8000000000ULL, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_FL_RSVD);
	fl_map(flpt, 4, 0x40000000, ALIGN_DOWN_ULL(pa, 1u << 30), 30, X86_US);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x40000000 + (pa & ((1u << 30) - 1)), NULL), 100);
	model_del();
	/* without FL1GP the 1G leaf is reserved */
	model_new("fl1gp=0");
	pg(&flpt);
	fl_map(flpt, 4, 0x40000000, 0, 30, X86_US);
	pe_fl(sm_pe(sm_ctx(RID_A, 0, 0), 0), flpt, VTD_FLPM_4LVL, 3);
	enable(VTD_TTM_SCALABLE);
	rd64(RID_A, NOP, 0x40000000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_FL_RSVD);
	model_del();
}

/* Nested: first-level tables and output are guest-physical. */
static void test_sm_nested(void)
{
	uint64_t slpt, flpt_gpa, pa, dir, *pe;
	unsigned int reason;
	uint64_t *data = pg(&pa);
	const uint64_t data_gpa = 0x40000000;

	model_new(NULL);
	data[0] = 0x5a5a;
	pg(&slpt);
	memset(&guest, 0, sizeof(guest));
	guest.on = true;
	guest.sl_root = slpt;
	guest.sl_levels = 4;
	guest.next = 0x10000000;
	flpt_gpa = tbl_new();
	fl_map(flpt_gpa, 4, 0x5000, data_gpa, 12, X86_RW | X86_US);
	fl_map(flpt_gpa, 4, 0x6000, data_gpa + 0x1000, 12, X86_RW | X86_US); /* GPA unmapped */
	fl_map(flpt_gpa, 4, 0x7000, data_gpa + 0x2000, 12, X86_RW | X86_US); /* GPA read-only */
	guest.on = false;
	sl_map(slpt, 4, data_gpa, pa, 12, VTD_SL_R | VTD_SL_W);
	sl_map(slpt, 4, data_gpa + 0x2000, pa, 12, VTD_SL_R);
	dir = sm_ctx(RID_A, VTD_SMCE_Q0_PASIDE, 0);
	pe = sm_pe(dir, 0);
	pe[1] = FIELD_PREP(VTD_PE_Q1_DID, 8);
	pe[2] = flpt_gpa;
	pe[0] = slpt | FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_NESTED) |
		FIELD_PREP(VTD_PE_Q0_AW, VTD_AW_48) | VTD_PE_Q0_P;
	enable(VTD_TTM_SCALABLE);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x5000, NULL), 0x5a5a);
	/* first-level A bit was set through the second level */
	guest.on = true;
	CU_ASSERT((tbl_va(flpt_gpa)[0] & X86_A) != 0);
	CU_ASSERT((*fl_slot(flpt_gpa, 4, 0x5000, 12) & X86_A) != 0);
	guest.on = false;
	rd64(RID_A, NOP, 0x6000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_SL_PERM);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x7000, NULL), 0x5a5a);
	uint64_t v = 1;
	CU_ASSERT_EQUAL(dma(RID_A, NOP, 0x7000, &v, 8, true, &reason), -EFAULT);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_SL_PERM);
	/* the first-level root not mapped at the second level */
	*sl_slot(slpt, 4, flpt_gpa, 12) = 0;
	vtd_model_flush_caches(m);
	rd64(RID_A, NOP, 0x5000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_NEST_FLROOT_R);
	/* an intermediate first-level table not mapped */
	sl_map(slpt, 4, flpt_gpa, guest.hpa[0], 12, VTD_SL_R | VTD_SL_W);
	*sl_slot(slpt, 4, guest.gpa[1], 12) = 0;
	vtd_model_flush_caches(m);
	rd64(RID_A, NOP, 0x5000, &reason);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_NEST_FL_R);
	/* nested entries of the DID go with a page-selective IOTLB flush */
	sl_map(slpt, 4, guest.gpa[1], guest.hpa[1], 12, VTD_SL_R | VTD_SL_W);
	vtd_model_flush_caches(m);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x5000, NULL), 0x5a5a);
	*sl_slot(slpt, 4, data_gpa, 12) = 0; /* second-level change */
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x5000, NULL), 0x5a5a);
	reg_iotlb(VTD_IOTLB_G_PAGE, 8, data_gpa, 0);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x5000, &reason), ~0ULL);
	model_del();
}

/* Stale PASID cache and IOTLB in scalable mode, PASID-based invalidation. */
static void test_sm_pasid_cache(void)
{
	uint64_t flpt1, flpt2, pa1, pa2, dir, *pe;
	uint64_t *d1 = pg(&pa1), *d2 = pg(&pa2);

	model_new(NULL);
	d1[0] = 1;
	d2[0] = 2;
	pg(&flpt1);
	pg(&flpt2);
	fl_map(flpt1, 4, 0x1000, pa1, 12, X86_RW | X86_US);
	fl_map(flpt2, 4, 0x1000, pa2, 12, X86_RW | X86_US);
	dir = sm_ctx(RID_A, VTD_SMCE_Q0_PASIDE, 0);
	pe = sm_pe(dir, 33);
	pe_fl(pe, flpt1, VTD_FLPM_4LVL, 5);
	enable(VTD_TTM_SCALABLE);
	qi_on(true);
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 1);
	/* change the PASID entry: the PASID cache still has the old one */
	pe_fl(pe, flpt2, VTD_FLPM_4LVL, 6);
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 1);
	/* PASID-selective with the wrong DID: still stale */
	qi_put(vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_PASID) |
		       FIELD_PREP(VTD_QI_PC_DID, 6) | FIELD_PREP(VTD_QI_PC_PASID, 33),
	       0);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 1);
	qi_put(vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_PASID) |
		       FIELD_PREP(VTD_QI_PC_DID, 5) | FIELD_PREP(VTD_QI_PC_PASID, 33),
	       0);
	CU_ASSERT(qi_sync());
	/* new DID 6: the IOTLB has nothing under it */
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 2);
	/* first-level change: type 2 page-selective does not reach it */
	*fl_slot(flpt2, 4, 0x1000, 12) = 0;
	qi_iotlb(VTD_IOTLB_G_PAGE, 6, 0x1000, 0);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 2);
	/* PASID-based page-selective, wrong PASID then the right one */
	qi_put(vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, VTD_PIOTLB_G_PAGE) |
		       FIELD_PREP(VTD_QI_PIOTLB_DID, 6) | FIELD_PREP(VTD_QI_PIOTLB_PASID, 34),
	       0x1000);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, NULL), 2);
	qi_put(vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, VTD_PIOTLB_G_PAGE) |
		       FIELD_PREP(VTD_QI_PIOTLB_DID, 6) | FIELD_PREP(VTD_QI_PIOTLB_PASID, 33),
	       0x1000);
	CU_ASSERT(qi_sync());
	unsigned int reason;
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x1000, &reason), ~0ULL);
	CU_ASSERT_EQUAL(reason, VTD_FR_SM_FL_P);
	/* PASID-selective drops everything of the PASID */
	fl_map(flpt2, 4, 0x1000, pa2, 12, X86_RW | X86_US);
	fl_map(flpt2, 4, 0x200000, pa2, 12, X86_RW | X86_US);
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x200000, NULL), 2);
	*fl_slot(flpt2, 4, 0x200000, 12) = 0;
	qi_put(vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, VTD_PIOTLB_G_PASID) |
		       FIELD_PREP(VTD_QI_PIOTLB_DID, 6) | FIELD_PREP(VTD_QI_PIOTLB_PASID, 33),
	       0);
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(rd64(RID_A, 33, 0x200000, NULL), ~0ULL);
	struct vtd_model_stats st;
	vtd_model_get_stats(m, &st);
	CU_ASSERT(st.pc_hit > 0 && st.pc_inval >= 1 && st.iotlb_hit > 0);
	model_del();
}

static void test_pass_through(void)
{
	uint64_t pa;
	uint64_t *d = pg(&pa);

	model_new("smts=0");
	d[0] = 3;
	legacy_ctx(RID_A, 0, VTD_AW_48, 1, VTD_CE_TT_PT);
	enable(VTD_TTM_LEGACY);
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, pa, NULL), 3);
	model_del();
}

static void test_capacity(void)
{
	uint64_t slpt, pa;
	struct vtd_model_stats st;

	model_new("smts=0,iotlb=4,ctxc=1");
	pg(&slpt);
	pg(&pa);
	for (unsigned int i = 0; i < 8; i++)
		sl_map(slpt, 4, i * 0x1000, pa, 12, VTD_SL_R);
	legacy_ctx(RID_A, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	legacy_ctx(RID_B, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);
	for (unsigned int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(rd64(i & 1 ? RID_A : RID_B, NOP, i * 0x1000, NULL), 0);
	vtd_model_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.iotlb_used, 4);
	CU_ASSERT_EQUAL(st.ctx_used, 1);
	CU_ASSERT_EQUAL(st.iotlb_evict, 4);
	CU_ASSERT_EQUAL(st.iotlb_miss, 8);
	/* the four most recent are hits; an evicted one is walked again */
	for (unsigned int i = 4; i < 8; i++)
		rd64(RID_A, NOP, i * 0x1000, NULL);
	rd64(RID_A, NOP, 0, NULL);
	vtd_model_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.iotlb_hit, 4);
	CU_ASSERT_EQUAL(st.iotlb_miss, 9);
	/* evicted entries are gone: a cleared PTE faults without invalidation */
	*sl_slot(slpt, 4, 0x1000, 12) = 0;
	CU_ASSERT_EQUAL(rd64(RID_A, NOP, 0x1000, NULL), ~0ULL);
	model_del();
}

/* Ordinary (non-arena) memory as a DMA target when IOVA == VA. */
static void test_malloc_target(void)
{
	uint64_t slpt;
	unsigned int reason;
	uint8_t *buf = aligned_alloc(4096, 8192);

	CU_ASSERT_FATAL(buf != NULL);
	model_new("smts=0");
	pg(&slpt);
	sl_map(slpt, 4, 0x1000, (uint64_t)(uintptr_t)buf, 12, VTD_SL_R | VTD_SL_W);
	sl_map(slpt, 4, 0x2000, (uint64_t)(uintptr_t)buf + 4096, 12, VTD_SL_R | VTD_SL_W);
	legacy_ctx(RID_A, slpt, VTD_AW_48, 1, VTD_CE_TT_SL);
	enable(VTD_TTM_LEGACY);
	uint8_t src[6000];
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	int rc = dma(RID_A, NOP, 0x1000 + 100, src, sizeof(src), true, &reason);
	if (uenv_iova_is_va()) {
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(memcmp(buf + 100, src, sizeof(src)), 0);
	} else {
		CU_ASSERT_EQUAL(rc, -EIO);
	}
	model_del();
	free(buf);
}

static void test_page_requests(void)
{
	uint64_t pqa, flpt;
	unsigned int rc;
	struct vtd_model_prq req = { .rid = RID_A, .pasid = 3, .addr = 0x123000, .read = true,
				     .write = true, .last = true, .prgi = 0x55 };

	model_new(NULL);
	pg(&flpt);
	uint64_t *pq = pg(&pqa);
	uint64_t dir = sm_ctx(RID_A, VTD_SMCE_Q0_PASIDE | VTD_SMCE_Q0_PRE, 0);
	pe_fl(sm_pe(dir, 3), flpt, VTD_FLPM_4LVL, 2);
	sm_ctx(RID_B, VTD_SMCE_Q0_PASIDE, 0); /* PRE clear */
	enable(VTD_TTM_SCALABLE);
	qi_on(false);
	CU_ASSERT_EQUAL(vtd_model_page_request(m, &req), -ENXIO);
	w64(VTD_REG_PQA, pqa); /* one page: 128 requests */
	CU_ASSERT_EQUAL(vtd_model_page_request(m, &req), 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PQT_PQT, r64(VTD_REG_PQT)), 1);
	CU_ASSERT(r32(VTD_REG_PRS) & VTD_PRS_PPR);
	CU_ASSERT(r32(VTD_REG_PECTL) & VTD_PECTL_IP);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PRQ_Q0_RID, pq[0]), RID_A);
	CU_ASSERT((pq[0] & VTD_PRQ_Q0_PP) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PRQ_Q0_PASID, pq[0]), 3);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PRQ_Q1_PRGI, pq[1]), 0x55);
	CU_ASSERT((pq[1] & (VTD_PRQ_Q1_RDR | VTD_PRQ_Q1_WRR | VTD_PRQ_Q1_LPIG)) ==
		  (VTD_PRQ_Q1_RDR | VTD_PRQ_Q1_WRR | VTD_PRQ_Q1_LPIG));
	CU_ASSERT_EQUAL(pq[1] & VTD_PRQ_Q1_ADDR, 0x123000);
	CU_ASSERT_EQUAL(vtd_model_page_response(m, RID_A, 0x55, &rc), -EAGAIN);
	/* software consumes it and answers */
	w64(VTD_REG_PQH, r64(VTD_REG_PQT));
	w32(VTD_REG_PRS, (uint32_t)VTD_PRS_PPR);
	CU_ASSERT_FALSE((r32(VTD_REG_PECTL) & VTD_PECTL_IP) != 0);
	qi_put(vtd_qi_type_prep(VTD_QI_PGRP_RESP) | VTD_QI_PGRP_PP |
		       FIELD_PREP(VTD_QI_PGRP_RC, VTD_PGRP_RC_INVALID) |
		       FIELD_PREP(VTD_QI_PGRP_RID, RID_A) | FIELD_PREP(VTD_QI_PGRP_PASID, 3),
	       VTD_QI_PGRP_LPIG | FIELD_PREP(VTD_QI_PGRP_PRGI, 0x55));
	CU_ASSERT(qi_sync());
	CU_ASSERT_EQUAL(vtd_model_page_response(m, RID_A, 0x55, &rc), 0);
	CU_ASSERT_EQUAL(rc, VTD_PGRP_RC_INVALID);
	CU_ASSERT_EQUAL(vtd_model_page_response(m, RID_A, 0x55, &rc), -ENOENT);
	/* PRE clear: answered by the model, fault recorded */
	req.rid = RID_B;
	CU_ASSERT_EQUAL(vtd_model_page_request(m, &req), -EOPNOTSUPP);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_FR, r64(FRO + 8)), VTD_FR_SM_CTX_PRE);
	/* overflow: 127 fit in a 128-entry ring */
	req.rid = RID_A;
	req.last = false;
	unsigned int ok = 0;
	for (unsigned int i = 0; i < 130; i++)
		ok += vtd_model_page_request(m, &req) == 0;
	CU_ASSERT_EQUAL(ok, 127);
	CU_ASSERT(r32(VTD_REG_PRS) & VTD_PRS_PRO);
	model_del();
	/* no PRS: not supported */
	model_new("prs=0");
	enable(VTD_TTM_SCALABLE);
	CU_ASSERT_EQUAL(vtd_model_page_request(m, &req), -EOPNOTSUPP);
	model_del();
}

static const struct ut_test model_tests[] = {
	{ "cfg", test_cfg },
	{ "regs", test_regs },
	{ "legacy_3level", test_legacy_3level },
	{ "legacy_4level", test_legacy_4level },
	{ "legacy_invalid_ctx", test_legacy_invalid_ctx },
	{ "fault_records", test_fault_records },
	{ "stale_iotlb_reg", test_stale_iotlb_reg },
	{ "stale_iotlb_qi", test_stale_iotlb_qi },
	{ "stale_context", test_stale_context },
	{ "qi_wait_and_errors", test_qi_wait_and_errors },
	{ "qi_256", test_qi_256 },
	{ "sm_second_level", test_sm_second_level },
	{ "sm_first_level", test_sm_first_level },
	{ "sm_nested", test_sm_nested },
	{ "sm_pasid_cache", test_sm_pasid_cache },
	{ "pass_through", test_pass_through },
	{ "capacity", test_capacity },
	{ "malloc_target", test_malloc_target },
	{ "page_requests", test_page_requests },
	{ NULL, NULL },
};

static const struct ut_suite suites[] = {
	{ "vtd_model", suite_init, suite_fini, model_tests },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
