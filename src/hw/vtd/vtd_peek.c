/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A DRHD's identification registers, read through the read-only window
 * the core mapped, without taking the unit over: what `uiommuctl probe`
 * shows of a live machine; and their decoding for tools (VER, CAP, ECAP
 * and their fields, GSTS; the mode in use), which `uiommuctl probe` and
 * `unit show` print through uiommu_unit_peek_decode / uiommu_hw_info_decode.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/reg_decode.h"
#include "hw/vtd/vtd_internal.h"

static void describe(uint64_t cap, uint64_t ecap, char *t, size_t len)
{
	unsigned int sagaw = (unsigned int)FIELD_GET(VTD_CAP_SAGAW, cap);
	unsigned int sllps = (unsigned int)FIELD_GET(VTD_CAP_SLLPS, cap);
	size_t n = 0;

	n += (size_t)snprintf(t + n, len - n, "mgaw %u-bit, levels%s%s%s, large%s%s, %u domains, "
					      "%u fault records",
			      vtd_cap_mgaw(cap), (sagaw & 2) ? " 3" : "", (sagaw & 4) ? " 4" : "",
			      (sagaw & 8) ? " 5" : "", (sllps & 1) ? " 2M" : "",
			      (sllps & 2) ? " 1G" : "", 1u << vtd_cap_domain_bits(cap),
			      vtd_cap_nfr(cap));
	static const struct {
		uint64_t bit;
		const char *name;
	} e[] = {
		{VTD_ECAP_QI, "qi"},	 {VTD_ECAP_PT, "pt"},	 {VTD_ECAP_C, "coherent"},
		{VTD_ECAP_SC, "snoop"},	 {VTD_ECAP_SMTS, "smts"}, {VTD_ECAP_SLTS, "slts"},
		{VTD_ECAP_FLTS, "flts"}, {VTD_ECAP_NEST, "nest"}, {VTD_ECAP_PRS, "prs"},
		{VTD_ECAP_PASID, "pasid"},
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]) && n < len; i++)
		if (ecap & e[i].bit)
			n += (size_t)snprintf(t + n, len - n, ", %s", e[i].name);
	if ((ecap & VTD_ECAP_PASID) && n < len)
		n += (size_t)snprintf(t + n, len - n, " %u-bit", vtd_ecap_pasid_bits(ecap));
	if ((cap & VTD_CAP_CM) && n < len)
		snprintf(t + n, len - n, ", caching-mode");
}

int vtd_peek(const struct uiommu_regio *r, struct uiommu_unit_peek *out)
{
	out->info.family = UIOMMU_FAMILY_VTD;
	out->info.u.vtd.ver = reg_read32(r, VTD_REG_VER);
	out->info.u.vtd.cap = reg_read64(r, VTD_REG_CAP);
	out->info.u.vtd.ecap = reg_read64(r, VTD_REG_ECAP);
	out->status = reg_read32(r, VTD_REG_GSTS);
	/* All ones: nothing answers at that address. */
	if (out->info.u.vtd.ver == UINT32_MAX && out->info.u.vtd.cap == UINT64_MAX)
		return -ENODEV;
	out->in_use = out->status & (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES);
	describe(out->info.u.vtd.cap, out->info.u.vtd.ecap, out->text, sizeof(out->text));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Register decoding for tools. */


static const struct reg_field_desc cap_fields[] = {
	{"ND", VTD_CAP_ND, 0},	     {"AFL", VTD_CAP_AFL, 0},	  {"RWBF", VTD_CAP_RWBF, 0},
	{"PLMR", VTD_CAP_PLMR, 0},   {"PHMR", VTD_CAP_PHMR, 0},	  {"CM", VTD_CAP_CM, 0},
	{"SAGAW", VTD_CAP_SAGAW, 0}, {"MGAW", VTD_CAP_MGAW, 1},	  {"ZLR", VTD_CAP_ZLR, 0},
	{"FRO", VTD_CAP_FRO, 0},     {"SLLPS", VTD_CAP_SLLPS, 0}, {"PSI", VTD_CAP_PSI, 0},
	{"NFR", VTD_CAP_NFR, 1},     {"MAMV", VTD_CAP_MAMV, 0},	  {"DWD", VTD_CAP_DWD, 0},
	{"DRD", VTD_CAP_DRD, 0},     {"FL1GP", VTD_CAP_FL1GP, 0}, {"PI", VTD_CAP_PI, 0},
	{"FL5LP", VTD_CAP_FL5LP, 0}, {"ECMDS", VTD_CAP_ECMDS, 0}, {"ESIRTPS", VTD_CAP_ESIRTPS, 0},
	{"ESRTPS", VTD_CAP_ESRTPS, 0},
};

static const struct reg_field_desc ecap_fields[] = {
	{"C", VTD_ECAP_C, 0},	    {"QI", VTD_ECAP_QI, 0},	  {"DT", VTD_ECAP_DT, 0},
	{"IR", VTD_ECAP_IR, 0},	    {"EIM", VTD_ECAP_EIM, 0},	  {"PT", VTD_ECAP_PT, 0},
	{"SC", VTD_ECAP_SC, 0},	    {"IRO", VTD_ECAP_IRO, 0},	  {"MHMV", VTD_ECAP_MHMV, 0},
	{"MTS", VTD_ECAP_MTS, 0},   {"NEST", VTD_ECAP_NEST, 0},	  {"PRS", VTD_ECAP_PRS, 0},
	{"ERS", VTD_ECAP_ERS, 0},   {"SRS", VTD_ECAP_SRS, 0},	  {"NWFS", VTD_ECAP_NWFS, 0},
	{"EAFS", VTD_ECAP_EAFS, 0}, {"PSS", VTD_ECAP_PSS, 1},	  {"PASID", VTD_ECAP_PASID, 0},
	{"DIT", VTD_ECAP_DIT, 0},   {"PDS", VTD_ECAP_PDS, 0},	  {"SMTS", VTD_ECAP_SMTS, 0},
	{"VCS", VTD_ECAP_VCS, 0},   {"SLADS", VTD_ECAP_SLADS, 0}, {"SLTS", VTD_ECAP_SLTS, 0},
	{"FLTS", VTD_ECAP_FLTS, 0}, {"SMPWC", VTD_ECAP_SMPWC, 0}, {"RPS", VTD_ECAP_RPS, 0},
	{"PMS", VTD_ECAP_PMS, 0},   {"ADMS", VTD_ECAP_ADMS, 0},	  {"RPRIVS", VTD_ECAP_RPRIVS, 0},
};

static const struct reg_field_desc gsts_fields[] = {
	{"TES", VTD_GSTS_TES, 0},     {"RTPS", VTD_GSTS_RTPS, 0},   {"FLS", VTD_GSTS_FLS, 0},
	{"AFLS", VTD_GSTS_AFLS, 0},   {"WBFS", VTD_GSTS_WBFS, 0},   {"QIES", VTD_GSTS_QIES, 0},
	{"IRES", VTD_GSTS_IRES, 0},   {"IRTPS", VTD_GSTS_IRTPS, 0}, {"CFIS", VTD_GSTS_CFIS, 0},
};

void vtd_decode_regs(const struct uiommu_hw_info *info, const uint64_t *status, uiommu_reg_cb cb,
		     void *arg)
{
	uint32_t ver = info->u.vtd.ver;
	char vtxt[16];

	/* VER: major.minor (bits 7:4, 3:0). */
	snprintf(vtxt, sizeof(vtxt), "%u.%u", (ver >> 4) & 0xf, ver & 0xf);
	reg_view_emit(cb, arg, UIOMMU_REG_ID, "VER", VTD_REG_VER, 32, ver, vtxt, 0, NULL, 0);
	reg_view_emit(cb, arg, UIOMMU_REG_ID, "CAP", VTD_REG_CAP, 64, info->u.vtd.cap, NULL, 16, cap_fields,
	     ARRAY_SIZE(cap_fields));
	reg_view_emit(cb, arg, UIOMMU_REG_ID, "ECAP", VTD_REG_ECAP, 64, info->u.vtd.ecap, NULL, 16,
	     ecap_fields, ARRAY_SIZE(ecap_fields));
	if (status) {
		reg_view_emit(cb, arg, UIOMMU_REG_STATUS, "GSTS", VTD_REG_GSTS, 32, *status, NULL, 8,
		     gsts_fields, ARRAY_SIZE(gsts_fields));
		return;
	}
	reg_view_emit(cb, arg, UIOMMU_REG_FEATURE, "scalable", 0, 0, info->u.vtd.scalable, NULL, 0, NULL, 0);
}
