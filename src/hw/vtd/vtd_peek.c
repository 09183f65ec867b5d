/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A DRHD's identification registers, read through the read-only window
 * the core mapped, without taking the unit over: what `uiommuctl probe`
 * shows of a live machine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
