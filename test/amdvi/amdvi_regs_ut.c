/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every fact of src/hw/amdvi/amdvi_regs.h against the value the AMD IOMMU
 * specification (48882), QEMU's hw/i386/amd_iommu.h or Linux's
 * amd_iommu_types.h gives, written out here as literals; and the
 * descriptor fields round-trip.  (amdvi-regs-coverage: every macro of the
 * header is named here.)
 */
#include <stdint.h>

#include "ut.h"
#include "hw/amdvi/amdvi_regs.h"

struct fact {
	const char *name;
	uint64_t have, want;
};
#define F(m, v)                                  \
	{                                        \
#m, (uint64_t)(m), (uint64_t)(v) \
	}

static const struct fact facts[] = {
	/* MMIO offsets (QEMU AMDVI_MMIO_*, Linux MMIO_*_OFFSET) */
	F(AMDVI_REG_DEVTAB, 0x0),
	F(AMDVI_REG_CMDBUF, 0x8),
	F(AMDVI_REG_EVTLOG, 0x10),
	F(AMDVI_REG_CONTROL, 0x18),
	F(AMDVI_REG_EXCL_BASE, 0x20),
	F(AMDVI_REG_EXCL_LIMIT, 0x28),
	F(AMDVI_REG_EFR, 0x30),
	F(AMDVI_REG_PPRLOG, 0x38),
	F(AMDVI_REG_EFR2, 0x1a0),
	F(AMDVI_REG_CMD_HEAD, 0x2000),
	F(AMDVI_REG_CMD_TAIL, 0x2008),
	F(AMDVI_REG_EVT_HEAD, 0x2010),
	F(AMDVI_REG_EVT_TAIL, 0x2018),
	F(AMDVI_REG_STATUS, 0x2020),
	F(AMDVI_REG_PPR_HEAD, 0x2030),
	F(AMDVI_REG_PPR_TAIL, 0x2038),
	F(AMDVI_REG_SIZE, 0x4000),
	/* base registers */
	F(AMDVI_BASE_ADDR, 0x000ffffffffff000ull),
	F(AMDVI_DEVTAB_SIZE, 0x1ff),
	F(AMDVI_BUF_LEN, 0x0f00000000000000ull),
	F(AMDVI_BUF_LEN_MIN, 8),
	F(AMDVI_BUF_LEN_MAX, 15),
	F(AMDVI_PTR_OFF, 0x7fff0),
	F(AMDVI_EXCL_EN, 0x1),
	F(AMDVI_EXCL_ALLOW, 0x2),
	/* Control */
	F(AMDVI_CTRL_IOMMU_EN, 1ull << 0),
	F(AMDVI_CTRL_HT_TUN_EN, 1ull << 1),
	F(AMDVI_CTRL_EVT_LOG_EN, 1ull << 2),
	F(AMDVI_CTRL_EVT_INT_EN, 1ull << 3),
	F(AMDVI_CTRL_COMWAIT_INT_EN, 1ull << 4),
	F(AMDVI_CTRL_INV_TIMEOUT, 0x7ull << 5),
	F(AMDVI_CTRL_PASS_PW, 1ull << 8),
	F(AMDVI_CTRL_RES_PASS_PW, 1ull << 9),
	F(AMDVI_CTRL_COHERENT, 1ull << 10),
	F(AMDVI_CTRL_ISOC, 1ull << 11),
	F(AMDVI_CTRL_CMD_BUF_EN, 1ull << 12),
	F(AMDVI_CTRL_PPR_LOG_EN, 1ull << 13),
	F(AMDVI_CTRL_PPR_INT_EN, 1ull << 14),
	F(AMDVI_CTRL_PPR_EN, 1ull << 15),
	F(AMDVI_CTRL_GT_EN, 1ull << 16),
	F(AMDVI_CTRL_GA_EN, 1ull << 17),
	/* Status */
	F(AMDVI_STS_EVT_OVERFLOW, 1ull << 0),
	F(AMDVI_STS_EVT_INT, 1ull << 1),
	F(AMDVI_STS_COMWAIT_INT, 1ull << 2),
	F(AMDVI_STS_EVT_RUN, 1ull << 3),
	F(AMDVI_STS_CMD_RUN, 1ull << 4),
	F(AMDVI_STS_PPR_OVERFLOW, 1ull << 5),
	F(AMDVI_STS_PPR_INT, 1ull << 6),
	F(AMDVI_STS_PPR_RUN, 1ull << 7),
	F(AMDVI_STS_GA_RUN, 1ull << 8),
	F(AMDVI_STS_W1C, 0x67),
	/* EFR (Linux FEATURE_*) */
	F(AMDVI_EFR_PREF_SUP, 1ull << 0),
	F(AMDVI_EFR_PPR_SUP, 1ull << 1),
	F(AMDVI_EFR_XT_SUP, 1ull << 2),
	F(AMDVI_EFR_NX_SUP, 1ull << 3),
	F(AMDVI_EFR_GT_SUP, 1ull << 4),
	F(AMDVI_EFR_IA_SUP, 1ull << 6),
	F(AMDVI_EFR_GA_SUP, 1ull << 7),
	F(AMDVI_EFR_HE_SUP, 1ull << 8),
	F(AMDVI_EFR_PC_SUP, 1ull << 9),
	F(AMDVI_EFR_HATS, 0x3ull << 10),
	F(AMDVI_EFR_GATS, 0x3ull << 12),
	F(AMDVI_EFR_GLX_SUP, 0x3ull << 14),
	F(AMDVI_EFR_GAM_VAPIC, 1ull << 21),
	F(AMDVI_EFR_PASMAX, 0x1full << 32),
	F(AMDVI_EFR_GIO_SUP, 1ull << 48),
	F(AMDVI_EFR_HA_SUP, 1ull << 49),
	F(AMDVI_EFR_EPH_SUP, 1ull << 50),
	F(AMDVI_EFR_HD_SUP, 1ull << 52),
	F(AMDVI_EFR_SNP_SUP, 1ull << 63),
	F(AMDVI_EFR2_SNP_AVIC, 0x7ull << 5),
	/* DTE */
	F(AMDVI_DTE_SIZE, 32),
	F(AMDVI_DTE_WORDS, 4),
	F(AMDVI_NR_DEVIDS, 65536),
	F(AMDVI_DTE0_V, 1ull << 0),
	F(AMDVI_DTE0_TV, 1ull << 1),
	F(AMDVI_DTE0_RSVD_LO, 0x7cull),
	F(AMDVI_DTE0_HAD, 0x3ull << 7),
	F(AMDVI_DTE0_MODE, 0x7ull << 9),
	F(AMDVI_DTE0_ROOT, 0x000ffffffffff000ull),
	F(AMDVI_DTE0_PPR, 1ull << 52),
	F(AMDVI_DTE0_GPRP, 1ull << 53),
	F(AMDVI_DTE0_GIOV, 1ull << 54),
	F(AMDVI_DTE0_GV, 1ull << 55),
	F(AMDVI_DTE0_GLX, 0x3ull << 56),
	F(AMDVI_DTE0_GCR3_LO, 0x7ull << 58),
	F(AMDVI_DTE0_IR, 1ull << 61),
	F(AMDVI_DTE0_IW, 1ull << 62),
	F(AMDVI_DTE0_RSVD_HI, 1ull << 63),
	F(AMDVI_DTE1_DOMID, 0xffff),
	F(AMDVI_DTE1_GCR3_MID, 0xffffull << 16),
	F(AMDVI_DTE1_I, 1ull << 32),
	F(AMDVI_DTE1_SE, 1ull << 33),
	F(AMDVI_DTE1_SA, 1ull << 34),
	F(AMDVI_DTE1_IOCTL, 0x3ull << 35),
	F(AMDVI_DTE1_CACHE, 1ull << 37),
	F(AMDVI_DTE1_SD, 1ull << 38),
	F(AMDVI_DTE1_EX, 1ull << 39),
	F(AMDVI_DTE1_SYSMGT, 0x3ull << 40),
	F(AMDVI_DTE1_RSVD, 1ull << 42),
	F(AMDVI_DTE1_GCR3_HI, 0x1fffffull << 43),
	F(AMDVI_MODE_NONE, 0),
	F(AMDVI_MODE_MAX, 6),
	/* commands */
	F(AMDVI_CMD_SIZE, 16),
	F(AMDVI_CMD_OP, 0xfull << 60),
	F(AMDVI_OP_COMPLETION_WAIT, 1),
	F(AMDVI_OP_INV_DEVTAB_ENTRY, 2),
	F(AMDVI_OP_INV_IOMMU_PAGES, 3),
	F(AMDVI_OP_INV_IOTLB_PAGES, 4),
	F(AMDVI_OP_INV_INTERRUPT_TABLE, 5),
	F(AMDVI_OP_PREFETCH_PAGES, 6),
	F(AMDVI_OP_COMPLETE_PPR, 7),
	F(AMDVI_OP_INV_IOMMU_ALL, 8),
	F(AMDVI_CW_S, 1),
	F(AMDVI_CW_I, 2),
	F(AMDVI_CW_F, 4),
	F(AMDVI_CW_ADDR, 0x000ffffffffffff8ull),
	F(AMDVI_CMD_DEVID, 0xffff),
	F(AMDVI_INVP_PASID, 0xfffff),
	F(AMDVI_INVP_DOMID, 0xffffull << 32),
	F(AMDVI_INV_S, 1),
	F(AMDVI_INV_PDE, 2),
	F(AMDVI_INV_GN, 4),
	F(AMDVI_INV_ADDR, 0xfffffffffffff000ull),
	F(AMDVI_INV_ALL_ADDR, 0x7ffffffffffff000ull),
	F(AMDVI_INVT_MAXPEND, 0xffull << 24),
	F(AMDVI_INVT_QUEUEID, 0xffffull << 32),
	F(AMDVI_INVT_PASID_HI, 0xffull << 16),
	F(AMDVI_INVT_PASID_LO, 0xffull << 48),
	F(AMDVI_PPRC_PASID, 0xfffffull << 32),
	F(AMDVI_PPRC_GN, 4),
	F(AMDVI_PPRC_TAG, 0x1ffull << 32),
	F(AMDVI_PPRC_STATUS, 0xfull << 44),
	/* event log */
	F(AMDVI_EVT_SIZE, 16),
	F(AMDVI_EVT_CODE, 0xfull << 60),
	F(AMDVI_EVT_DEVID, 0xffff),
	F(AMDVI_EVT_PASID_HI, 0xfull << 16),
	F(AMDVI_EVT_DOMID, 0xffffull << 32),
	F(AMDVI_EVT_FLAGS, 0xfffull << 48),
	F(AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY, 1),
	F(AMDVI_EV_IO_PAGE_FAULT, 2),
	F(AMDVI_EV_DEV_TAB_HW_ERROR, 3),
	F(AMDVI_EV_PAGE_TAB_HW_ERROR, 4),
	F(AMDVI_EV_ILLEGAL_COMMAND, 5),
	F(AMDVI_EV_COMMAND_HW_ERROR, 6),
	F(AMDVI_EV_IOTLB_INV_TIMEOUT, 7),
	F(AMDVI_EV_INVALID_DEVICE_REQUEST, 8),
	F(AMDVI_EV_INVALID_PPR_REQUEST, 9),
	F(AMDVI_EV_EVENT_COUNTER_ZERO, 0xa),
	F(AMDVI_EVF_GN, 0x1),
	F(AMDVI_EVF_NX, 0x2),
	F(AMDVI_EVF_US, 0x4),
	F(AMDVI_EVF_I, 0x8),
	F(AMDVI_EVF_PR, 0x10),
	F(AMDVI_EVF_RW, 0x20),
	F(AMDVI_EVF_PE, 0x40),
	F(AMDVI_EVF_RZ, 0x80),
	F(AMDVI_EVF_TR, 0x100),
	/* PPR log (Linux PPR_*) */
	F(AMDVI_PPR_SIZE, 16),
	F(AMDVI_PPR_DEVID, 0xffff),
	F(AMDVI_PPR_PASID_LO, 0xffffull << 16),
	F(AMDVI_PPR_TAG, 0x3ffull << 32),
	F(AMDVI_PPR_PASID_HI, 0xfull << 42),
	F(AMDVI_PPR_FLAGS, 0xfffull << 48),
	F(AMDVI_PPR_TYPE, 0xfull << 60),
	F(AMDVI_PPR_REQ_FAULT, 1),
	F(AMDVI_PPRF_EXEC, 0x2),
	F(AMDVI_PPRF_READ, 0x4),
	F(AMDVI_PPRF_WRITE, 0x20),
	F(AMDVI_PPRF_US, 0x40),
	F(AMDVI_PPRF_GN, 0x100),
	F(AMDVI_PPR_SUCCESS, 0),
	F(AMDVI_PPR_INVALID, 1),
	F(AMDVI_PPR_FAILURE, 0xf),
	/* v1 PTE (Linux IOMMU_PTE_*) */
	F(AMDVI_PTE_PR, 1),
	F(AMDVI_PTE_NL, 0x7ull << 9),
	F(AMDVI_PTE_ADDR, 0x000ffffffffff000ull),
	F(AMDVI_GCR3_V, 1),
	F(AMDVI_GCR3_ADDR, 0x000ffffffffff000ull),
	F(AMDVI_GLX_MAX, 1),
	F(AMDVI_PTE_IR, 1ull << 61),
	F(AMDVI_PTE_IW, 1ull << 62),
	F(AMDVI_NL_SIZED, 7),
};

static void test_facts(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(facts); i++) {
		if (facts[i].have != facts[i].want)
			printf("\n    %s = 0x%llx, want 0x%llx", facts[i].name,
			       (unsigned long long)facts[i].have,
			       (unsigned long long)facts[i].want);
		CU_ASSERT(facts[i].have == facts[i].want);
	}
}

static void test_levels(void)
{
	CU_ASSERT(amdvi_efr_max_levels(0) == 4);
	CU_ASSERT(amdvi_efr_max_levels(FIELD_PREP(AMDVI_EFR_HATS, 1)) == 5);
	CU_ASSERT(amdvi_efr_max_levels(FIELD_PREP(AMDVI_EFR_HATS, 2)) == 6);
	CU_ASSERT(amdvi_efr_max_levels(FIELD_PREP(AMDVI_EFR_HATS, 3)) == 4); /* reserved */
	CU_ASSERT(amdvi_efr_max_levels(0x29d3) == 6);			     /* QEMU's EFR */
}

/* A DTE built from fields reads back field by field, and no two fields
 * of a word overlap. */
static void test_dte_fields(void)
{
	static const uint64_t w0[] = {AMDVI_DTE0_V,   AMDVI_DTE0_TV,   AMDVI_DTE0_RSVD_LO,
				      AMDVI_DTE0_HAD, AMDVI_DTE0_MODE, AMDVI_DTE0_ROOT,
				      AMDVI_DTE0_PPR, AMDVI_DTE0_GPRP, AMDVI_DTE0_GIOV,
				      AMDVI_DTE0_GV,  AMDVI_DTE0_GLX,  AMDVI_DTE0_GCR3_LO,
				      AMDVI_DTE0_IR,  AMDVI_DTE0_IW,   AMDVI_DTE0_RSVD_HI};
	static const uint64_t w1[] = {AMDVI_DTE1_DOMID,	 AMDVI_DTE1_GCR3_MID, AMDVI_DTE1_I,
				      AMDVI_DTE1_SE,	 AMDVI_DTE1_SA,	      AMDVI_DTE1_IOCTL,
				      AMDVI_DTE1_CACHE,	 AMDVI_DTE1_SD,	      AMDVI_DTE1_EX,
				      AMDVI_DTE1_SYSMGT, AMDVI_DTE1_RSVD,     AMDVI_DTE1_GCR3_HI};
	uint64_t all = 0;

	for (size_t i = 0; i < ARRAY_SIZE(w0); i++) {
		CU_ASSERT((all & w0[i]) == 0);
		all |= w0[i];
	}
	CU_ASSERT(all == ~0ull); /* word 0 fully described */
	all = 0;
	for (size_t i = 0; i < ARRAY_SIZE(w1); i++) {
		CU_ASSERT((all & w1[i]) == 0);
		all |= w1[i];
	}
	CU_ASSERT(all == ~0ull);
	uint64_t d0 = FIELD_PREP(AMDVI_DTE0_MODE, 4) | FIELD_PREP(AMDVI_DTE0_ROOT, 0x12345) |
		      AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_DTE0_IR;

	CU_ASSERT(FIELD_GET(AMDVI_DTE0_MODE, d0) == 4);
	CU_ASSERT((d0 & AMDVI_DTE0_ROOT) == 0x12345000ull);
	CU_ASSERT(!(d0 & AMDVI_DTE0_IW));
	/* The GCR3 root split over three fields covers bits 51:12. */
	CU_ASSERT(FIELD_MAX(AMDVI_DTE0_GCR3_LO) + 1 == 1u << 3);
	/* The GCR3 root round-trips through the three fields. */
	uint64_t d[2] = {AMDVI_DTE0_V, FIELD_PREP(AMDVI_DTE1_DOMID, 7)};

	amdvi_dte_set_gcr3(d, 0x000fedcba9876000ull);
	CU_ASSERT(amdvi_dte_gcr3(d) == 0x000fedcba9876000ull);
	CU_ASSERT(FIELD_GET(AMDVI_DTE1_DOMID, d[1]) == 7 && (d[0] & AMDVI_DTE0_V));
	CU_ASSERT(FIELD_GET(AMDVI_DTE0_GCR3_LO, d[0]) == 0x6);
	CU_ASSERT(__builtin_popcountll(AMDVI_DTE0_GCR3_LO) +
			  __builtin_popcountll(AMDVI_DTE1_GCR3_MID) +
			  __builtin_popcountll(AMDVI_DTE1_GCR3_HI) ==
		  40);
}

static const struct ut_test tests[] = {
	{"facts", test_facts},
	{"levels", test_levels},
	{"dte_fields", test_dte_fields},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"amdvi-regs", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
