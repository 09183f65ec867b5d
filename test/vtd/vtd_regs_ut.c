/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d hardware facts (src/hw/vtd/vtd_regs.h): every field mask is checked
 * for shape (contiguous, round trip), the fields of one register or word
 * must not overlap, and real register values from QEMU decode to what
 * /work/shared/qemu/NOTES.md measured.  test/vtd/check_regs_coverage.sh
 * makes sure every mask of the header is named here.
 */
#include <stdbool.h>
#include <stdint.h>

#include "hw/vtd/vtd_regs.h"
#include "pgtable/pgt_hw.h"
#include "ut.h"

struct mask {
	const char *name;
	uint64_t m;
};
#define M(x) { #x, (x) }
#define ANY(v, m) ((((uint64_t)(v)) & (m)) != 0)

/* One register or descriptor word: its fields must be disjoint. */
struct group {
	const char *name;
	const struct mask *f;
	size_t n;
};
#define G(arr) { #arr, arr, ARRAY_SIZE(arr) }

static const struct mask ver[] = { M(VTD_VER_MIN), M(VTD_VER_MAX) };
static const struct mask cap[] = {
	M(VTD_CAP_ND), M(VTD_CAP_AFL), M(VTD_CAP_RWBF), M(VTD_CAP_PLMR), M(VTD_CAP_PHMR),
	M(VTD_CAP_CM), M(VTD_CAP_SAGAW), M(VTD_CAP_MGAW), M(VTD_CAP_ZLR), M(VTD_CAP_FRO),
	M(VTD_CAP_SLLPS), M(VTD_CAP_PSI), M(VTD_CAP_NFR), M(VTD_CAP_MAMV), M(VTD_CAP_DWD),
	M(VTD_CAP_DRD), M(VTD_CAP_FL1GP), M(VTD_CAP_PI), M(VTD_CAP_FL5LP), M(VTD_CAP_ECMDS),
	M(VTD_CAP_ESIRTPS), M(VTD_CAP_ESRTPS),
};
static const struct mask ecap[] = {
	M(VTD_ECAP_C), M(VTD_ECAP_QI), M(VTD_ECAP_DT), M(VTD_ECAP_IR), M(VTD_ECAP_EIM),
	M(VTD_ECAP_PT), M(VTD_ECAP_SC), M(VTD_ECAP_IRO), M(VTD_ECAP_MHMV), M(VTD_ECAP_MTS),
	M(VTD_ECAP_NEST), M(VTD_ECAP_PRS), M(VTD_ECAP_ERS), M(VTD_ECAP_SRS), M(VTD_ECAP_NWFS),
	M(VTD_ECAP_EAFS), M(VTD_ECAP_PSS), M(VTD_ECAP_PASID), M(VTD_ECAP_DIT), M(VTD_ECAP_PDS),
	M(VTD_ECAP_SMTS), M(VTD_ECAP_VCS), M(VTD_ECAP_SLADS), M(VTD_ECAP_SLTS), M(VTD_ECAP_FLTS),
	M(VTD_ECAP_SMPWC), M(VTD_ECAP_RPS), M(VTD_ECAP_PMS), M(VTD_ECAP_ADMS), M(VTD_ECAP_RPRIVS),
};
static const struct mask gcmd[] = {
	M(VTD_GCMD_CFI), M(VTD_GCMD_SIRTP), M(VTD_GCMD_IRE), M(VTD_GCMD_QIE), M(VTD_GCMD_WBF),
	M(VTD_GCMD_EAFL), M(VTD_GCMD_SFL), M(VTD_GCMD_SRTP), M(VTD_GCMD_TE),
};
static const struct mask gsts[] = {
	M(VTD_GSTS_CFIS), M(VTD_GSTS_IRTPS), M(VTD_GSTS_IRES), M(VTD_GSTS_QIES), M(VTD_GSTS_WBFS),
	M(VTD_GSTS_AFLS), M(VTD_GSTS_FLS), M(VTD_GSTS_RTPS), M(VTD_GSTS_TES),
};
static const struct mask gsts_sets[] = { M(VTD_GSTS_ONESHOT), M(VTD_GSTS_PERSIST) };
static const struct mask rtaddr[] = { M(VTD_RTADDR_TTM), M(VTD_RTADDR_RTA) };
static const struct mask ccmd[] = {
	M(VTD_CCMD_DID), M(VTD_CCMD_SID), M(VTD_CCMD_FM), M(VTD_CCMD_CAIG), M(VTD_CCMD_CIRG),
	M(VTD_CCMD_ICC),
};
static const struct mask iva[] = { M(VTD_IVA_AM), M(VTD_IVA_IH), M(VTD_IVA_ADDR) };
static const struct mask iotlb[] = {
	M(VTD_IOTLB_DID), M(VTD_IOTLB_DW), M(VTD_IOTLB_DR), M(VTD_IOTLB_IAIG), M(VTD_IOTLB_IIRG),
	M(VTD_IOTLB_IVT),
};
static const struct mask fsts[] = {
	M(VTD_FSTS_PFO), M(VTD_FSTS_PPF), M(VTD_FSTS_AFO), M(VTD_FSTS_APF), M(VTD_FSTS_IQE),
	M(VTD_FSTS_ICE), M(VTD_FSTS_ITE), M(VTD_FSTS_FRI),
};
static const struct mask xectl[] = { M(VTD_xECTL_IP), M(VTD_xECTL_IM) };
static const struct mask fectl[] = { M(VTD_FECTL_IP), M(VTD_FECTL_IM) };
static const struct mask iectl[] = { M(VTD_IECTL_IP), M(VTD_IECTL_IM) };
static const struct mask pectl[] = { M(VTD_PECTL_IP), M(VTD_PECTL_IM) };
static const struct mask aflog[] = { M(VTD_AFLOG_FLS), M(VTD_AFLOG_FLA) };
static const struct mask pmen[] = { M(VTD_PMEN_PRS), M(VTD_PMEN_EPM) };
static const struct mask frcd0[] = { M(VTD_FRCD_Q0_FI) };
static const struct mask frcd1[] = {
	M(VTD_FRCD_Q1_SID), M(VTD_FRCD_Q1_T2), M(VTD_FRCD_Q1_PRIV), M(VTD_FRCD_Q1_EXE),
	M(VTD_FRCD_Q1_PP), M(VTD_FRCD_Q1_FR), M(VTD_FRCD_Q1_PV), M(VTD_FRCD_Q1_AT),
	M(VTD_FRCD_Q1_T1), M(VTD_FRCD_Q1_F),
};
static const struct mask iqh[] = { M(VTD_IQH_QH) };
static const struct mask iqt[] = { M(VTD_IQT_QT) };
static const struct mask iqa[] = { M(VTD_IQA_QS), M(VTD_IQA_DW), M(VTD_IQA_IQA) };
static const struct mask ics[] = { M(VTD_ICS_IWC) };
static const struct mask iqercd[] = {
	M(VTD_IQERCD_IQEI), M(VTD_IQERCD_ITESID), M(VTD_IQERCD_ICESID),
};
static const struct mask irta[] = { M(VTD_IRTA_S), M(VTD_IRTA_EIME), M(VTD_IRTA_IRTA) };
static const struct mask pqh[] = { M(VTD_PQH_PQH) };
static const struct mask pqt[] = { M(VTD_PQT_PQT) };
static const struct mask pqa[] = { M(VTD_PQA_PQS), M(VTD_PQA_PQA) };
static const struct mask prs[] = { M(VTD_PRS_PPR), M(VTD_PRS_PRO) };
static const struct mask re0[] = { M(VTD_RE_Q0_P), M(VTD_RE_Q0_CTP) };
static const struct mask smre0[] = { M(VTD_SMRE_Q0_LP), M(VTD_SMRE_Q0_LCTP) };
static const struct mask smre1[] = { M(VTD_SMRE_Q1_UP), M(VTD_SMRE_Q1_UCTP) };
static const struct mask ce0[] = {
	M(VTD_CE_Q0_P), M(VTD_CE_Q0_FPD), M(VTD_CE_Q0_TT), M(VTD_CE_Q0_SLPTPTR),
};
static const struct mask ce1[] = { M(VTD_CE_Q1_AW), M(VTD_CE_Q1_AVAIL), M(VTD_CE_Q1_DID) };
static const struct mask smce0[] = {
	M(VTD_SMCE_Q0_P), M(VTD_SMCE_Q0_FPD), M(VTD_SMCE_Q0_DTE), M(VTD_SMCE_Q0_PASIDE),
	M(VTD_SMCE_Q0_PRE), M(VTD_SMCE_Q0_PDTS), M(VTD_SMCE_Q0_PASIDDIRPTR),
};
static const struct mask smce1[] = { M(VTD_SMCE_Q1_RID_PASID), M(VTD_SMCE_Q1_RID_PRIV) };
static const struct mask pde[] = { M(VTD_PDE_P), M(VTD_PDE_FPD), M(VTD_PDE_SMPTBLPTR) };
static const struct mask pe0[] = {
	M(VTD_PE_Q0_P), M(VTD_PE_Q0_FPD), M(VTD_PE_Q0_AW), M(VTD_PE_Q0_PGTT), M(VTD_PE_Q0_SLADE),
	M(VTD_PE_Q0_SLPTPTR),
};
static const struct mask pe1[] = {
	M(VTD_PE_Q1_DID), M(VTD_PE_Q1_PWSNP), M(VTD_PE_Q1_PGSNP), M(VTD_PE_Q1_CD),
	M(VTD_PE_Q1_EMTE), M(VTD_PE_Q1_EMT), M(VTD_PE_Q1_PWT), M(VTD_PE_Q1_PCD), M(VTD_PE_Q1_PAT),
};
static const struct mask pe2[] = {
	M(VTD_PE_Q2_SRE), M(VTD_PE_Q2_ERE), M(VTD_PE_Q2_FLPM), M(VTD_PE_Q2_WPE), M(VTD_PE_Q2_NXE),
	M(VTD_PE_Q2_SMEP), M(VTD_PE_Q2_EAFE), M(VTD_PE_Q2_FLPTPTR),
};
static const struct mask qi_type[] = { M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI) };
static const struct mask qi_cc[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_CC_G), M(VTD_QI_CC_DID), M(VTD_QI_CC_SID),
	M(VTD_QI_CC_FM), M(VTD_QI_CC_Q0_RSVD),
};
static const struct mask qi_iotlb0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_IOTLB_G), M(VTD_QI_IOTLB_DW),
	M(VTD_QI_IOTLB_DR), M(VTD_QI_IOTLB_DID), M(VTD_QI_IOTLB_Q0_RSVD),
};
static const struct mask qi_iotlb1[] = {
	M(VTD_QI_IOTLB_AM), M(VTD_QI_IOTLB_IH), M(VTD_QI_IOTLB_ADDR), M(VTD_QI_IOTLB_Q1_RSVD),
};
static const struct mask qi_devtlb0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_DEVTLB_PFSID_LO), M(VTD_QI_DEVTLB_MIP),
	M(VTD_QI_DEVTLB_SID), M(VTD_QI_DEVTLB_PFSID_HI),
};
static const struct mask qi_devtlb1[] = { M(VTD_QI_DEVTLB_S), M(VTD_QI_DEVTLB_ADDR) };
static const struct mask qi_iec[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_IEC_G), M(VTD_QI_IEC_IM), M(VTD_QI_IEC_IIDX),
};
static const struct mask qi_wait0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_WAIT_IF), M(VTD_QI_WAIT_SW),
	M(VTD_QI_WAIT_FN), M(VTD_QI_WAIT_PD), M(VTD_QI_WAIT_SDATA), M(VTD_QI_WAIT_Q0_RSVD),
};
static const struct mask qi_wait1[] = { M(VTD_QI_WAIT_SADDR), M(VTD_QI_WAIT_Q1_RSVD) };
static const struct mask qi_piotlb0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_PIOTLB_G), M(VTD_QI_PIOTLB_DID),
	M(VTD_QI_PIOTLB_PASID), M(VTD_QI_PIOTLB_Q0_RSVD),
};
static const struct mask qi_piotlb1[] = {
	M(VTD_QI_PIOTLB_AM), M(VTD_QI_PIOTLB_IH), M(VTD_QI_PIOTLB_ADDR), M(VTD_QI_PIOTLB_Q1_RSVD),
};
static const struct mask qi_pc[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_PC_G), M(VTD_QI_PC_DID), M(VTD_QI_PC_PASID),
	M(VTD_QI_PC_Q0_RSVD),
};
static const struct mask qi_pdevtlb0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_PDEVTLB_MIP), M(VTD_QI_PDEVTLB_PFSID_LO),
	M(VTD_QI_PDEVTLB_SID), M(VTD_QI_PDEVTLB_PASID), M(VTD_QI_PDEVTLB_PFSID_HI),
};
static const struct mask qi_pdevtlb1[] = {
	M(VTD_QI_PDEVTLB_G), M(VTD_QI_PDEVTLB_S), M(VTD_QI_PDEVTLB_ADDR),
};
static const struct mask qi_pgrp0[] = {
	M(VTD_QI_TYPE_LO), M(VTD_QI_TYPE_HI), M(VTD_QI_PGRP_PP), M(VTD_QI_PGRP_PDP),
	M(VTD_QI_PGRP_RC), M(VTD_QI_PGRP_RID), M(VTD_QI_PGRP_PASID),
};
static const struct mask qi_pgrp1[] = { M(VTD_QI_PGRP_LPIG), M(VTD_QI_PGRP_PRGI) };
static const struct mask prq0[] = {
	M(VTD_PRQ_Q0_PP), M(VTD_PRQ_Q0_PDP), M(VTD_PRQ_Q0_RID), M(VTD_PRQ_Q0_PASID),
	M(VTD_PRQ_Q0_ER), M(VTD_PRQ_Q0_PM),
};
static const struct mask prq1[] = {
	M(VTD_PRQ_Q1_RDR), M(VTD_PRQ_Q1_WRR), M(VTD_PRQ_Q1_LPIG), M(VTD_PRQ_Q1_PRGI),
	M(VTD_PRQ_Q1_ADDR),
};
/* Bit-set constants (values of a field, not fields). */
static const struct mask sagaw_bits[] = { M(VTD_SAGAW_39), M(VTD_SAGAW_48), M(VTD_SAGAW_57) };
static const struct mask sllps_bits[] = { M(VTD_SLLPS_2M), M(VTD_SLLPS_1G) };
static const struct mask fsts_rw1c[] = { M(VTD_FSTS_RW1C) };

static const struct group groups[] = {
	G(ver), G(cap), G(ecap), G(gcmd), G(gsts), G(gsts_sets), G(rtaddr), G(ccmd), G(iva),
	G(iotlb), G(fsts), G(xectl), G(fectl), G(iectl), G(pectl), G(aflog), G(pmen), G(frcd0),
	G(frcd1), G(iqh), G(iqt), G(iqa), G(ics), G(iqercd), G(irta), G(pqh), G(pqt), G(pqa),
	G(prs), G(re0), G(smre0), G(smre1), G(ce0), G(ce1), G(smce0), G(smce1), G(pde), G(pe0),
	G(pe1), G(pe2), G(qi_type), G(qi_cc), G(qi_iotlb0), G(qi_iotlb1), G(qi_devtlb0),
	G(qi_devtlb1), G(qi_iec), G(qi_wait0), G(qi_wait1), G(qi_piotlb0), G(qi_piotlb1),
	G(qi_pc), G(qi_pdevtlb0), G(qi_pdevtlb1), G(qi_pgrp0), G(qi_pgrp1), G(prq0), G(prq1),
	G(sagaw_bits), G(sllps_bits), G(fsts_rw1c),
};

static bool contiguous(uint64_t m)
{
	uint64_t low = m & -m;
	return m != 0 && ((m + low) & m) == 0;
}

static void test_mask_shapes(void)
{
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		const struct group *gr = &groups[g];
		uint64_t seen = 0;
		for (size_t i = 0; i < gr->n; i++) {
			uint64_t m = gr->f[i].m;
			/* only sets of bits (reserved masks, GSTS/FSTS groups) may have holes */
			bool set = strstr(gr->f[i].name, "RSVD") || strstr(gr->f[i].name, "ONESHOT") ||
				   strstr(gr->f[i].name, "PERSIST") || strstr(gr->f[i].name, "RW1C");
			if (!set && !contiguous(m)) {
				printf("%s: %s not contiguous\n", gr->name, gr->f[i].name);
				CU_FAIL("mask not contiguous");
			}
			/* round trips */
			CU_ASSERT_EQUAL(FIELD_PREP(m, FIELD_MAX(m)) & m, FIELD_PREP(m, FIELD_MAX(m)));
			if (contiguous(m)) {
				CU_ASSERT_EQUAL(FIELD_PREP(m, FIELD_MAX(m)), m);
				CU_ASSERT_EQUAL(FIELD_GET(m, FIELD_PREP(m, 1)), 1);
				CU_ASSERT_EQUAL(FIELD_GET(m, ~0ULL), FIELD_MAX(m));
				CU_ASSERT_EQUAL(FIELD_GET(m, ~m), 0);
			}
			if (seen & m) {
				printf("%s: %s overlaps an earlier field\n", gr->name, gr->f[i].name);
				CU_FAIL("fields overlap");
			}
			seen |= m;
		}
	}
}

/* QEMU 7.2 defaults (NOTES.md): CAP=0x00d2008c22260206, ECAP=0xf42. */
static void test_qemu72_cap(void)
{
	uint64_t c = 0x00d2008c22260206ULL, e = 0xf42ULL;

	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_ND, c), 6);
	CU_ASSERT_EQUAL(vtd_cap_domain_bits(c), 16); /* ND=6 -> 4 + 2*6 bits = 65536 DIDs */
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_SAGAW, c), 0x2);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_SAGAW, c), VTD_SAGAW_39);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_MGAW, c), 38);
	CU_ASSERT_EQUAL(vtd_cap_mgaw(c), 39);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_FRO, c), 0x22);
	CU_ASSERT_EQUAL(vtd_cap_fro_off(c), 0x220);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_NFR, c), 0);
	CU_ASSERT_EQUAL(vtd_cap_nfr(c), 1);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_SLLPS, c), VTD_SLLPS_2M | VTD_SLLPS_1G);
	CU_ASSERT(((c) & VTD_CAP_PSI) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_MAMV, c), 18);
	CU_ASSERT(((c) & VTD_CAP_DWD) != 0);
	CU_ASSERT(((c) & VTD_CAP_DRD) != 0);
	CU_ASSERT_FALSE(ANY(c, (VTD_CAP_CM | VTD_CAP_RWBF | VTD_CAP_AFL | VTD_CAP_PLMR |
			     VTD_CAP_PHMR | VTD_CAP_ZLR | VTD_CAP_FL1GP | VTD_CAP_PI |
			     VTD_CAP_FL5LP | VTD_CAP_ECMDS | VTD_CAP_ESIRTPS | VTD_CAP_ESRTPS)));

	CU_ASSERT(((e) & VTD_ECAP_QI) != 0);
	CU_ASSERT(((e) & VTD_ECAP_PT) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_ECAP_IRO, e), 0xf);
	CU_ASSERT_EQUAL(vtd_ecap_iro_off(e), 0xf0);
	CU_ASSERT_EQUAL(vtd_ecap_iro_off(e) + VTD_REG_IOTLB_OFF, 0xf8); /* NOTES: IOTLB reg 0xf8 */
	CU_ASSERT_FALSE(ANY(e, (VTD_ECAP_C | VTD_ECAP_DT | VTD_ECAP_IR | VTD_ECAP_EIM | VTD_ECAP_SC |
			     VTD_ECAP_SMTS | VTD_ECAP_PASID | VTD_ECAP_NEST | VTD_ECAP_PRS)));
	CU_ASSERT_EQUAL(FIELD_GET(VTD_ECAP_MHMV, e), 0);
}

/* QEMU 10 scalable mode: ECAP=0x0000490080000f42; with x-flts
 * CAP=0x01d2008c222f0606, ECAP=0x0000890000000f42. */
static void test_qemu10_scalable(void)
{
	uint64_t e = 0x0000490080000f42ULL;

	CU_ASSERT(((e) & VTD_ECAP_SMTS) != 0);
	CU_ASSERT(((e) & VTD_ECAP_SLTS) != 0);
	CU_ASSERT(((e) & VTD_ECAP_SRS) != 0);
	CU_ASSERT(((e) & VTD_ECAP_PASID) != 0);
	CU_ASSERT_FALSE(ANY(e, VTD_ECAP_FLTS));
	CU_ASSERT_FALSE(ANY(e, (VTD_ECAP_NEST | VTD_ECAP_PRS | VTD_ECAP_ERS | VTD_ECAP_SLADS |
			     VTD_ECAP_SMPWC | VTD_ECAP_RPS | VTD_ECAP_PDS | VTD_ECAP_DIT |
			     VTD_ECAP_VCS | VTD_ECAP_PMS | VTD_ECAP_ADMS | VTD_ECAP_RPRIVS |
			     VTD_ECAP_NWFS | VTD_ECAP_EAFS | VTD_ECAP_MTS)));
	CU_ASSERT_EQUAL(FIELD_GET(VTD_ECAP_PSS, e), 0); /* NOTES: PSS=0 */
	CU_ASSERT_EQUAL(vtd_ecap_pasid_bits(e), 1);

	uint64_t c = 0x01d2008c222f0606ULL;
	e = 0x0000890000000f42ULL;
	CU_ASSERT(((e) & VTD_ECAP_SMTS) != 0);
	CU_ASSERT(((e) & VTD_ECAP_FLTS) != 0);
	CU_ASSERT_FALSE(ANY(e, VTD_ECAP_SLTS));
	CU_ASSERT(((e) & VTD_ECAP_PASID) != 0);
	CU_ASSERT(((c) & VTD_CAP_FL1GP) != 0);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_CAP_SAGAW, c), VTD_SAGAW_39 | VTD_SAGAW_48);
	CU_ASSERT_EQUAL(vtd_cap_mgaw(c), 48);
	CU_ASSERT_EQUAL(vtd_cap_fro_off(c), 0x220);
	CU_ASSERT_EQUAL(vtd_cap_domain_bits(c), 16);
}

static void test_decoders(void)
{
	CU_ASSERT_EQUAL(vtd_aw_levels(VTD_AW_39), 3);
	CU_ASSERT_EQUAL(vtd_aw_levels(VTD_AW_48), 4);
	CU_ASSERT_EQUAL(vtd_aw_levels(VTD_AW_57), 5);
	CU_ASSERT_EQUAL(vtd_aw_bits(VTD_AW_39), 39);
	CU_ASSERT_EQUAL(vtd_aw_bits(VTD_AW_48), 48);
	CU_ASSERT_EQUAL(vtd_aw_bits(VTD_AW_57), 57);
	CU_ASSERT_EQUAL(VTD_AW_FROM_LEVELS(4), VTD_AW_48); /* pgt_hw.h agrees */
	CU_ASSERT_EQUAL(X86_FLPM_FROM_LEVELS(5), VTD_FLPM_5LVL);
	CU_ASSERT_EQUAL(X86_FLPM_FROM_LEVELS(4), VTD_FLPM_4LVL);

	/* IQ: one 4 KiB page holds 256 legacy or 128 wide descriptors. */
	CU_ASSERT_EQUAL(vtd_iqa_entries(FIELD_PREP(VTD_IQA_QS, 0)), 256);
	CU_ASSERT_EQUAL(vtd_iqa_entries(FIELD_PREP(VTD_IQA_QS, 0) | VTD_IQA_DW), 128);
	CU_ASSERT_EQUAL(vtd_iqa_entries(FIELD_PREP(VTD_IQA_QS, 7)), 256 * 128);
	CU_ASSERT_EQUAL(VTD_IQ_DESC_SHIFT(0), 4);
	CU_ASSERT_EQUAL(VTD_IQ_DESC_SHIFT(1), 5);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQT_QT, 3u << 4), 3);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_IQH_QH, 0x7fff0), 0x7fff);
	CU_ASSERT_EQUAL(vtd_pqa_entries(FIELD_PREP(VTD_PQA_PQS, 0)), 128);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PQT_PQT, 2u << 5), 2);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_PQH_PQH, 2u << 5), 2);

	/* descriptor types */
	CU_ASSERT_EQUAL(vtd_qi_type(vtd_qi_type_prep(VTD_QI_PGRP_RESP)), VTD_QI_PGRP_RESP);
	CU_ASSERT_EQUAL(vtd_qi_type(vtd_qi_type_prep(0x17)), 0x17);
	CU_ASSERT_EQUAL(vtd_qi_type_prep(0x17), 0x7 | (1u << 9));
	const unsigned int types[] = { VTD_QI_CC, VTD_QI_IOTLB, VTD_QI_DEVTLB, VTD_QI_IEC,
				       VTD_QI_WAIT, VTD_QI_PIOTLB, VTD_QI_PC, VTD_QI_PDEVTLB,
				       VTD_QI_PGRP_RESP };
	for (unsigned int i = 0; i < ARRAY_SIZE(types); i++)
		CU_ASSERT_EQUAL(types[i], i + 1);

	/* Linux qi_flush_iotlb-style page descriptor, built and decoded */
	uint64_t q0 = vtd_qi_type_prep(VTD_QI_IOTLB) | FIELD_PREP(VTD_QI_IOTLB_G, VTD_IOTLB_G_PAGE) |
		      FIELD_PREP(VTD_QI_IOTLB_DID, 0x1234) | VTD_QI_IOTLB_DR | VTD_QI_IOTLB_DW;
	CU_ASSERT_EQUAL(q0, 0x12340000ULL | 0x32 | 0xc0);
	CU_ASSERT_EQUAL(q0 & VTD_QI_IOTLB_Q0_RSVD, 0);
	uint64_t q1 = FIELD_PREP(VTD_QI_IOTLB_ADDR, 0xabcde) | FIELD_PREP(VTD_QI_IOTLB_AM, 9) |
		      VTD_QI_IOTLB_IH;
	CU_ASSERT_EQUAL(q1, 0xabcde000ULL | 0x49);
	/* wait descriptor: status data in the high half, address in word 1 */
	q0 = vtd_qi_type_prep(VTD_QI_WAIT) | VTD_QI_WAIT_SW | VTD_QI_WAIT_IF | VTD_QI_WAIT_FN |
	     FIELD_PREP(VTD_QI_WAIT_SDATA, 0xdeadbeef);
	CU_ASSERT_EQUAL(q0, 0xdeadbeef00000075ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_QI_WAIT_SADDR, 0x1000 >> 2), 0x1000);
	/* context-cache device-selective: SID 0x0018, FM 3 */
	q0 = vtd_qi_type_prep(VTD_QI_CC) | FIELD_PREP(VTD_QI_CC_G, VTD_CC_G_DEVICE) |
	     FIELD_PREP(VTD_QI_CC_DID, 5) | FIELD_PREP(VTD_QI_CC_SID, 0x18) |
	     FIELD_PREP(VTD_QI_CC_FM, 3);
	CU_ASSERT_EQUAL(q0, 0x0003001800050031ULL);
	/* PASID-based IOTLB, PASID-selective; PASID cache, PASID-selective */
	q0 = vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, VTD_PIOTLB_G_PASID) |
	     FIELD_PREP(VTD_QI_PIOTLB_DID, 7) | FIELD_PREP(VTD_QI_PIOTLB_PASID, 0xfffff);
	CU_ASSERT_EQUAL(q0, 0x000fffff00070026ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_QI_PIOTLB_ADDR, 1) | FIELD_PREP(VTD_QI_PIOTLB_AM, 1) |
				VTD_QI_PIOTLB_IH, 0x1041);
	q0 = vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, VTD_PC_G_PASID) |
	     FIELD_PREP(VTD_QI_PC_DID, 7) | FIELD_PREP(VTD_QI_PC_PASID, 3);
	CU_ASSERT_EQUAL(q0, 0x0000000300070017ULL);
	CU_ASSERT_EQUAL(VTD_PIOTLB_G_PAGE, 3);
	CU_ASSERT_EQUAL(VTD_PC_G_DOMAIN, 0);
	CU_ASSERT_EQUAL(VTD_PC_G_GLOBAL, 3);
	/* device-TLB: PFSID split 3:0 / 15:4 */
	q0 = FIELD_PREP(VTD_QI_DEVTLB_PFSID_LO, 0xabcd & 0xf) |
	     FIELD_PREP(VTD_QI_DEVTLB_PFSID_HI, 0xabcd >> 4) | FIELD_PREP(VTD_QI_DEVTLB_MIP, 31) |
	     FIELD_PREP(VTD_QI_DEVTLB_SID, 0x100) | vtd_qi_type_prep(VTD_QI_DEVTLB);
	CU_ASSERT_EQUAL(q0, 0xabc00100001fd003ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_QI_DEVTLB_ADDR, 2) | VTD_QI_DEVTLB_S, 0x2001);
	q0 = vtd_qi_type_prep(VTD_QI_PDEVTLB) | FIELD_PREP(VTD_QI_PDEVTLB_SID, 0x100) |
	     FIELD_PREP(VTD_QI_PDEVTLB_PASID, 2) | FIELD_PREP(VTD_QI_PDEVTLB_MIP, 1) |
	     FIELD_PREP(VTD_QI_PDEVTLB_PFSID_LO, 1) | FIELD_PREP(VTD_QI_PDEVTLB_PFSID_HI, 1);
	CU_ASSERT_EQUAL(q0, 0x0010000201001018ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_QI_PDEVTLB_ADDR, 1) | VTD_QI_PDEVTLB_S | VTD_QI_PDEVTLB_G,
			0x1801);
	q0 = vtd_qi_type_prep(VTD_QI_IEC) | VTD_QI_IEC_G | FIELD_PREP(VTD_QI_IEC_IM, 1) |
	     FIELD_PREP(VTD_QI_IEC_IIDX, 0x20);
	CU_ASSERT_EQUAL(q0, 0x0000002008000014ULL);
	/* page group response */
	q0 = vtd_qi_type_prep(VTD_QI_PGRP_RESP) | VTD_QI_PGRP_PP | VTD_QI_PGRP_PDP |
	     FIELD_PREP(VTD_QI_PGRP_RC, VTD_PGRP_RC_FAILURE) | FIELD_PREP(VTD_QI_PGRP_RID, 0x18) |
	     FIELD_PREP(VTD_QI_PGRP_PASID, 5);
	CU_ASSERT_EQUAL(q0, 0x000000050018f039ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_QI_PGRP_PRGI, 0x1ff) | VTD_QI_PGRP_LPIG, 0xffc);
	CU_ASSERT_EQUAL(VTD_PGRP_RC_SUCCESS, 0);
	CU_ASSERT_EQUAL(VTD_PGRP_RC_INVALID, 1);
	/* page request descriptor */
	uint64_t p0 = VTD_PRQ_Q0_PP | FIELD_PREP(VTD_PRQ_Q0_RID, 0x18) |
		      FIELD_PREP(VTD_PRQ_Q0_PASID, 9) | VTD_PRQ_Q0_PM | VTD_PRQ_Q0_ER | VTD_PRQ_Q0_PDP;
	CU_ASSERT_EQUAL(p0, 0x0030000900180300ULL);
	uint64_t p1 = VTD_PRQ_Q1_RDR | VTD_PRQ_Q1_WRR | VTD_PRQ_Q1_LPIG |
		      FIELD_PREP(VTD_PRQ_Q1_PRGI, 1) | FIELD_PREP(VTD_PRQ_Q1_ADDR, 0x12345);
	CU_ASSERT_EQUAL(p1, 0x1234500fULL);
}

static void test_registers(void)
{
	/* CCMD: Linux-style device-selective request */
	uint64_t v = VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, VTD_CC_G_DEVICE) |
		     FIELD_PREP(VTD_CCMD_FM, 3) | FIELD_PREP(VTD_CCMD_SID, 0x18) |
		     FIELD_PREP(VTD_CCMD_DID, 1);
	CU_ASSERT_EQUAL(v, 0xe000000300180001ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_CCMD_CAIG, VTD_CC_G_GLOBAL), 1ULL << 59);
	CU_ASSERT_EQUAL(VTD_CC_G_GLOBAL, 1);
	CU_ASSERT_EQUAL(VTD_CC_G_DOMAIN, 2);
	/* IOTLB register: QEMU VTD_TLB_GLOBAL_FLUSH = 1 << 60, DSI = 2 << 60 */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IOTLB_IIRG, VTD_IOTLB_G_GLOBAL), 1ULL << 60);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IOTLB_IIRG, VTD_IOTLB_G_DOMAIN), 2ULL << 60);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IOTLB_IAIG, VTD_IOTLB_G_PAGE), 3ULL << 57);
	CU_ASSERT_EQUAL(VTD_IOTLB_IVT | VTD_IOTLB_DR | VTD_IOTLB_DW | FIELD_PREP(VTD_IOTLB_DID, 2),
			0x8003000200000000ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IVA_ADDR, 0x10) | VTD_IVA_IH | FIELD_PREP(VTD_IVA_AM, 2),
			0x10042);
	/* GCMD/GSTS share positions; one-shot vs persistent */
	CU_ASSERT_EQUAL(VTD_GCMD_TE, VTD_GSTS_TES);
	CU_ASSERT_EQUAL(VTD_GCMD_SRTP, VTD_GSTS_RTPS);
	CU_ASSERT_EQUAL(VTD_GCMD_QIE, VTD_GSTS_QIES);
	CU_ASSERT_EQUAL(VTD_GCMD_WBF, VTD_GSTS_WBFS);
	CU_ASSERT_EQUAL(VTD_GCMD_IRE, VTD_GSTS_IRES);
	CU_ASSERT_EQUAL(VTD_GCMD_SIRTP, VTD_GSTS_IRTPS);
	CU_ASSERT_EQUAL(VTD_GCMD_SFL, VTD_GSTS_FLS);
	CU_ASSERT_EQUAL(VTD_GCMD_EAFL, VTD_GSTS_AFLS);
	CU_ASSERT_EQUAL(VTD_GCMD_CFI, VTD_GSTS_CFIS);
	CU_ASSERT_EQUAL(VTD_GSTS_ONESHOT & VTD_GSTS_PERSIST, 0);
	CU_ASSERT_EQUAL(VTD_GCMD_TE, 0x80000000u);
	/* RTADDR */
	v = 0x12345000ULL | FIELD_PREP(VTD_RTADDR_TTM, VTD_TTM_SCALABLE);
	CU_ASSERT_EQUAL(v, 0x12345400ULL); /* QEMU VTD_RTADDR_SMT = 1 << 10 */
	CU_ASSERT_EQUAL(FIELD_GET(VTD_RTADDR_RTA, v) << 12, 0x12345000ULL);
	CU_ASSERT_EQUAL(VTD_TTM_LEGACY, 0);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_RTADDR_TTM, VTD_TTM_ABORT), 0xc00);
	/* FSTS (QEMU: FRI << 8, IQE bit 4) and FRCD (Linux reads F at +12 bit 31) */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_FSTS_FRI, 3) | VTD_FSTS_IQE | VTD_FSTS_PPF, 0x312);
	CU_ASSERT_EQUAL(VTD_FSTS_RW1C, 0x7d);
	CU_ASSERT_EQUAL(VTD_FRCD_Q1_F >> 32, 1u << 31);
	CU_ASSERT_EQUAL(VTD_FRCD_Q1_T1 >> 32, 1u << 30);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_FR, 0x0000000600000018ULL), 6);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_SID, 0x0000000600000018ULL), 0x18);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q1_PV, FIELD_PREP(VTD_FRCD_Q1_PV, 0xfffff)) , 0xfffff);
	CU_ASSERT_EQUAL(VTD_FRCD_Q1_PP, 1ULL << 31); /* Linux: (readl(+8) >> 31) & 1 */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_FRCD_Q1_AT, 1) | VTD_FRCD_Q1_T2 | VTD_FRCD_Q1_PRIV |
				VTD_FRCD_Q1_EXE, 0x1000000070000000ULL);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_FRCD_Q0_FI, 0xabcdefULL), 0xabc);
	CU_ASSERT_EQUAL(VTD_FRCD_STRIDE, 16);
	CU_ASSERT_EQUAL(VTD_xECTL_IM | VTD_xECTL_IP, 0xc0000000u);
	CU_ASSERT_EQUAL(VTD_FECTL_IM, VTD_IECTL_IM);
	CU_ASSERT_EQUAL(VTD_PECTL_IM, VTD_IECTL_IM);
	CU_ASSERT_EQUAL(VTD_FECTL_IP, VTD_PECTL_IP);
	CU_ASSERT_EQUAL(VTD_IECTL_IP, VTD_xECTL_IP);
	/* IQA / IQERCD / ICS / IRTA / PQA / PRS / PMEN / AFLOG / VER */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IQA_IQA, 0x1234) | VTD_IQA_DW | FIELD_PREP(VTD_IQA_QS, 2),
			0x1234802ULL);
	v = FIELD_PREP(VTD_IQERCD_IQEI, VTD_IQEI_RSVD) | FIELD_PREP(VTD_IQERCD_ITESID, 0x18) |
	    FIELD_PREP(VTD_IQERCD_ICESID, 0x19);
	CU_ASSERT_EQUAL(v, 0x0019001800000004ULL);
	CU_ASSERT_EQUAL(VTD_IQEI_NONE, 0);
	CU_ASSERT(VTD_IQEI_TAIL < VTD_IQEI_FETCH && VTD_IQEI_FETCH < VTD_IQEI_TYPE &&
		  VTD_IQEI_TYPE < VTD_IQEI_RSVD && VTD_IQEI_RSVD < VTD_IQEI_WIDTH &&
		  VTD_IQEI_WIDTH < VTD_IQEI_TAIL_RANGE);
	CU_ASSERT_EQUAL(VTD_ICS_IWC, 1);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_IRTA_IRTA, 1) | VTD_IRTA_EIME | FIELD_PREP(VTD_IRTA_S, 0xf),
			0x180fULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_PQA_PQA, 1) | FIELD_PREP(VTD_PQA_PQS, 1), 0x1001ULL);
	CU_ASSERT_EQUAL(VTD_PRS_PPR | VTD_PRS_PRO, 3);
	CU_ASSERT_EQUAL(VTD_PMEN_EPM | VTD_PMEN_PRS, 0x80000001u);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_AFLOG_FLA, 1) | FIELD_PREP(VTD_AFLOG_FLS, 7), 0x1e00ULL);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_VER_MAX, 0x10), 1);
	CU_ASSERT_EQUAL(FIELD_GET(VTD_VER_MIN, 0x10), 0);
	/* offsets (QEMU/Linux register map) */
	CU_ASSERT_EQUAL(VTD_REG_VER, 0x00);
	CU_ASSERT_EQUAL(VTD_REG_CAP, 0x08);
	CU_ASSERT_EQUAL(VTD_REG_ECAP, 0x10);
	CU_ASSERT_EQUAL(VTD_REG_GCMD, 0x18);
	CU_ASSERT_EQUAL(VTD_REG_GSTS, 0x1c);
	CU_ASSERT_EQUAL(VTD_REG_RTADDR, 0x20);
	CU_ASSERT_EQUAL(VTD_REG_CCMD, 0x28);
	CU_ASSERT_EQUAL(VTD_REG_FSTS, 0x34);
	CU_ASSERT_EQUAL(VTD_REG_FECTL, 0x38);
	CU_ASSERT_EQUAL(VTD_REG_FEDATA, 0x3c);
	CU_ASSERT_EQUAL(VTD_REG_FEADDR, 0x40);
	CU_ASSERT_EQUAL(VTD_REG_FEUADDR, 0x44);
	CU_ASSERT_EQUAL(VTD_REG_AFLOG, 0x58);
	CU_ASSERT_EQUAL(VTD_REG_PMEN, 0x64);
	CU_ASSERT_EQUAL(VTD_REG_PLMBASE, 0x68);
	CU_ASSERT_EQUAL(VTD_REG_PLMLIMIT, 0x6c);
	CU_ASSERT_EQUAL(VTD_REG_PHMBASE, 0x70);
	CU_ASSERT_EQUAL(VTD_REG_PHMLIMIT, 0x78);
	CU_ASSERT_EQUAL(VTD_REG_IQH, 0x80);
	CU_ASSERT_EQUAL(VTD_REG_IQT, 0x88);
	CU_ASSERT_EQUAL(VTD_REG_IQA, 0x90);
	CU_ASSERT_EQUAL(VTD_REG_ICS, 0x9c);
	CU_ASSERT_EQUAL(VTD_REG_IECTL, 0xa0);
	CU_ASSERT_EQUAL(VTD_REG_IEDATA, 0xa4);
	CU_ASSERT_EQUAL(VTD_REG_IEADDR, 0xa8);
	CU_ASSERT_EQUAL(VTD_REG_IEUADDR, 0xac);
	CU_ASSERT_EQUAL(VTD_REG_IQERCD, 0xb0);
	CU_ASSERT_EQUAL(VTD_REG_IRTA, 0xb8);
	CU_ASSERT_EQUAL(VTD_REG_PQH, 0xc0);
	CU_ASSERT_EQUAL(VTD_REG_PQT, 0xc8);
	CU_ASSERT_EQUAL(VTD_REG_PQA, 0xd0);
	CU_ASSERT_EQUAL(VTD_REG_PRS, 0xdc);
	CU_ASSERT_EQUAL(VTD_REG_PECTL, 0xe0);
	CU_ASSERT_EQUAL(VTD_REG_PEDATA, 0xe4);
	CU_ASSERT_EQUAL(VTD_REG_PEADDR, 0xe8);
	CU_ASSERT_EQUAL(VTD_REG_PEUADDR, 0xec);
	CU_ASSERT_EQUAL(VTD_REG_MTRRCAP, 0x100);
	CU_ASSERT_EQUAL(VTD_REG_MTRRDEF, 0x108);
	CU_ASSERT_EQUAL(VTD_REG_IVA_OFF, 0);
	CU_ASSERT_EQUAL(VTD_REG_IOTLB_OFF, 8);
	CU_ASSERT_EQUAL(VTD_REG_SIZE, 0x1000);
}

static void test_entries(void)
{
	/* legacy root + context (QEMU VTD_CONTEXT_ENTRY_DID: >> 8, 16 bits) */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_RE_Q0_CTP, 0x1234) | VTD_RE_Q0_P, 0x1234001ULL);
	uint64_t c0 = FIELD_PREP(VTD_CE_Q0_SLPTPTR, 0x5678) | FIELD_PREP(VTD_CE_Q0_TT, VTD_CE_TT_PT) |
		      VTD_CE_Q0_FPD | VTD_CE_Q0_P;
	CU_ASSERT_EQUAL(c0, 0x567800bULL);
	uint64_t c1 = FIELD_PREP(VTD_CE_Q1_DID, 0xffff) | FIELD_PREP(VTD_CE_Q1_AW, VTD_AW_48) |
		      FIELD_PREP(VTD_CE_Q1_AVAIL, 0xf);
	CU_ASSERT_EQUAL(c1, 0xffff7aULL);
	CU_ASSERT_EQUAL(VTD_CE_TT_SL, 0);
	CU_ASSERT_EQUAL(VTD_CE_TT_SL_DT, 1);
	/* scalable root */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_SMRE_Q0_LCTP, 1) | VTD_SMRE_Q0_LP, 0x1001ULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_SMRE_Q1_UCTP, 2) | VTD_SMRE_Q1_UP, 0x2001ULL);
	/* scalable context: Linux context_pdts(pds) = (pds & 7) << 9, DTE bit 2, PRE bit 4 */
	uint64_t s0 = FIELD_PREP(VTD_SMCE_Q0_PASIDDIRPTR, 3) | FIELD_PREP(VTD_SMCE_Q0_PDTS, 7) |
		      VTD_SMCE_Q0_PRE | VTD_SMCE_Q0_PASIDE | VTD_SMCE_Q0_DTE | VTD_SMCE_Q0_FPD |
		      VTD_SMCE_Q0_P;
	CU_ASSERT_EQUAL(s0, 0x3e1fULL);
	CU_ASSERT_EQUAL(vtd_smce_pdir_entries(s0), 1u << 14);
	CU_ASSERT_EQUAL(vtd_smce_pdir_entries(0), 128);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_SMCE_Q1_RID_PASID, 0xfffff) | VTD_SMCE_Q1_RID_PRIV, 0x1fffffULL);
	/* PASID directory / table indexing */
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_PDE_SMPTBLPTR, 4) | VTD_PDE_FPD | VTD_PDE_P, 0x4003ULL);
	CU_ASSERT_EQUAL(VTD_PASID_DIR_IDX(0xfffff), 0x3fff);
	CU_ASSERT_EQUAL(VTD_PASID_TBL_IDX(0xfffff), 0x3f);
	CU_ASSERT_EQUAL(VTD_PASID_DIR_IDX(64), 1);
	CU_ASSERT_EQUAL(VTD_PASID_TBL_IDX(65), 1);
	/* PASID entry: QEMU PGTT at 8:6, AW 4:2; Linux SSADE bit 9, DID val[1] 15:0,
	 * PWSNP bit 23, PGSNP bit 24, SRE val[2] bit 0, FLPM 3:2, WPE bit 4, EAFE bit 7 */
	uint64_t p0 = FIELD_PREP(VTD_PE_Q0_SLPTPTR, 1) | VTD_PE_Q0_SLADE |
		      FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_NESTED) | FIELD_PREP(VTD_PE_Q0_AW, VTD_AW_57) |
		      VTD_PE_Q0_FPD | VTD_PE_Q0_P;
	CU_ASSERT_EQUAL(p0, 0x12cfULL);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_FL), 1ULL << 6);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_SL), 2ULL << 6);
	CU_ASSERT_EQUAL(FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_PT), 4ULL << 6);
	uint64_t p1 = FIELD_PREP(VTD_PE_Q1_DID, 0xbeef) | VTD_PE_Q1_PWSNP | VTD_PE_Q1_PGSNP |
		      VTD_PE_Q1_CD | VTD_PE_Q1_EMTE | FIELD_PREP(VTD_PE_Q1_EMT, 6) | VTD_PE_Q1_PWT |
		      VTD_PE_Q1_PCD | FIELD_PREP(VTD_PE_Q1_PAT, 0x07060504);
	CU_ASSERT_EQUAL(p1, 0x07060504f780beefULL);
	uint64_t p2 = FIELD_PREP(VTD_PE_Q2_FLPTPTR, 9) | VTD_PE_Q2_EAFE | VTD_PE_Q2_SMEP |
		      VTD_PE_Q2_NXE | VTD_PE_Q2_WPE | FIELD_PREP(VTD_PE_Q2_FLPM, VTD_FLPM_5LVL) |
		      VTD_PE_Q2_ERE | VTD_PE_Q2_SRE;
	CU_ASSERT_EQUAL(p2, 0x90f7ULL);
	CU_ASSERT_EQUAL(VTD_INTR_ADDR_FIRST, 0xfee00000ULL);
	CU_ASSERT_EQUAL(VTD_INTR_ADDR_LAST - VTD_INTR_ADDR_FIRST + 1, 1u << 20);
}

static void test_fault_text(void)
{
	CU_ASSERT_STRING_EQUAL(vtd_fault_reason_text(VTD_FR_READ), "read not permitted");
	CU_ASSERT_STRING_EQUAL(vtd_fault_reason_text(0), "unknown");
	CU_ASSERT_STRING_EQUAL(vtd_fault_reason_text(0xff), "unknown");
	/* every code in the two ranges we name has a text */
	const unsigned int codes[] = {
		VTD_FR_ROOT_P, VTD_FR_CTX_P, VTD_FR_CTX_INV, VTD_FR_ADDR_BEYOND, VTD_FR_WRITE,
		VTD_FR_READ, VTD_FR_PTE_ACCESS, VTD_FR_ROOT_ACCESS, VTD_FR_CTX_ACCESS,
		VTD_FR_ROOT_RSVD, VTD_FR_CTX_RSVD, VTD_FR_PTE_RSVD, VTD_FR_CTX_TT_BLOCK,
		VTD_FR_INTR_ADDR, VTD_FR_SM_RTA_INV, VTD_FR_SM_TTM_PASID, VTD_FR_SM_TTM_PRQ,
		VTD_FR_SM_ROOT_ACCESS, VTD_FR_SM_ROOT_P, VTD_FR_SM_ROOT_RSVD, VTD_FR_SM_CTX_ACCESS,
		VTD_FR_SM_CTX_P, VTD_FR_SM_CTX_RSVD, VTD_FR_SM_CTX_INV, VTD_FR_SM_CTX_DTE,
		VTD_FR_SM_CTX_PASIDE, VTD_FR_SM_CTX_PASID_BIG, VTD_FR_SM_CTX_PRE,
		VTD_FR_SM_CTX_RIDPASID, VTD_FR_SM_PDE_ACCESS, VTD_FR_SM_PDE_P, VTD_FR_SM_PDE_RSVD,
		VTD_FR_SM_PE_ACCESS, VTD_FR_SM_PE_P, VTD_FR_SM_PE_RSVD, VTD_FR_SM_PE_INV,
		VTD_FR_SM_PE_ERE, VTD_FR_SM_PE_SRE, VTD_FR_SM_FL_ACCESS, VTD_FR_SM_FL_P,
		VTD_FR_SM_FL_RSVD, VTD_FR_SM_FLPTR_INV, VTD_FR_SM_NEST_FL_BEYOND,
		VTD_FR_SM_NEST_FLROOT_R, VTD_FR_SM_NEST_FL_R, VTD_FR_SM_NEST_FL_W,
		VTD_FR_SM_SL_ACCESS, VTD_FR_SM_SL_PERM, VTD_FR_SM_SL_RSVD, VTD_FR_SM_SLPTR_INV,
		VTD_FR_SM_SL_AD_NOSNOOP, VTD_FR_SM_NONCANON, VTD_FR_SM_FL_US, VTD_FR_SM_EXEC,
		VTD_FR_SM_ADDR_BEYOND, VTD_FR_SM_SL_OUT_BEYOND, VTD_FR_SM_WRITE, VTD_FR_SM_READ,
		VTD_FR_SM_INTR_ADDR, VTD_FR_SM_FL_AD_NOSNOOP, VTD_FR_SM_FL_AD_FAIL,
	};
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		CU_ASSERT_STRING_NOT_EQUAL(vtd_fault_reason_text(codes[i]), "unknown");
	/* spot values (QEMU VTDFaultReason) */
	CU_ASSERT_EQUAL(VTD_FR_READ, 6);
	CU_ASSERT_EQUAL(VTD_FR_WRITE, 5);
	CU_ASSERT_EQUAL(VTD_FR_SM_PE_INV, 0x5b);
	CU_ASSERT_EQUAL(VTD_FR_SM_TTM_PASID, 0x31);
	CU_ASSERT_EQUAL(VTD_FR_SM_WRITE, 0x85);
	CU_ASSERT_EQUAL(VTD_FR_SM_FL_AD_FAIL, 0x91);
}

static const struct ut_test regs_tests[] = {
	{ "mask_shapes", test_mask_shapes },
	{ "qemu72_cap", test_qemu72_cap },
	{ "qemu10_scalable", test_qemu10_scalable },
	{ "decoders", test_decoders },
	{ "registers", test_registers },
	{ "entries", test_entries },
	{ "fault_text", test_fault_text },
	{ NULL, NULL },
};

static const struct ut_suite suites[] = {
	{ "vtd_regs", NULL, NULL, regs_tests },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
