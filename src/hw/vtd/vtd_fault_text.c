/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Short text for VT-d fault reason codes (spec appendix "Non-Recoverable
 * Fault Reason Encodings").  Shared by the driver (events) and the model.
 */
#include <stddef.h>

#include "hw/vtd/vtd_regs.h"

struct fr_text {
	unsigned char code;
	const char *text;
};

static const struct fr_text fr_table[] = {
	{ VTD_FR_ROOT_P, "root entry not present" },
	{ VTD_FR_CTX_P, "context entry not present" },
	{ VTD_FR_CTX_INV, "context entry invalid" },
	{ VTD_FR_ADDR_BEYOND, "address beyond the guest address width" },
	{ VTD_FR_WRITE, "write not permitted" },
	{ VTD_FR_READ, "read not permitted" },
	{ VTD_FR_PTE_ACCESS, "paging entry not accessible" },
	{ VTD_FR_ROOT_ACCESS, "root table not accessible" },
	{ VTD_FR_CTX_ACCESS, "context table not accessible" },
	{ VTD_FR_ROOT_RSVD, "root entry reserved bits set" },
	{ VTD_FR_CTX_RSVD, "context entry reserved bits set" },
	{ VTD_FR_PTE_RSVD, "paging entry reserved bits set" },
	{ VTD_FR_CTX_TT_BLOCK, "request blocked by context translation type" },
	{ VTD_FR_INTR_ADDR, "output address in the interrupt range" },
	{ VTD_FR_SM_RTA_INV, "SM: root table address invalid" },
	{ VTD_FR_SM_TTM_PASID, "SM: request with PASID in legacy mode" },
	{ VTD_FR_SM_TTM_PRQ, "SM: page request in legacy mode" },
	{ VTD_FR_SM_ROOT_ACCESS, "SM: root entry not accessible" },
	{ VTD_FR_SM_ROOT_P, "SM: root entry not present" },
	{ VTD_FR_SM_ROOT_RSVD, "SM: root entry reserved bits set" },
	{ VTD_FR_SM_CTX_ACCESS, "SM: context entry not accessible" },
	{ VTD_FR_SM_CTX_P, "SM: context entry not present" },
	{ VTD_FR_SM_CTX_RSVD, "SM: context entry reserved bits set" },
	{ VTD_FR_SM_CTX_INV, "SM: context entry invalid" },
	{ VTD_FR_SM_CTX_DTE, "SM: translated request with DTE clear" },
	{ VTD_FR_SM_CTX_PASIDE, "SM: request with PASID and PASIDE clear" },
	{ VTD_FR_SM_CTX_PASID_BIG, "SM: PASID beyond the PASID directory" },
	{ VTD_FR_SM_CTX_PRE, "SM: page request with PRE clear" },
	{ VTD_FR_SM_CTX_RIDPASID, "SM: RID_PASID invalid" },
	{ VTD_FR_SM_PDE_ACCESS, "SM: PASID directory entry not accessible" },
	{ VTD_FR_SM_PDE_P, "SM: PASID directory entry not present" },
	{ VTD_FR_SM_PDE_RSVD, "SM: PASID directory entry reserved bits set" },
	{ VTD_FR_SM_PE_ACCESS, "SM: PASID entry not accessible" },
	{ VTD_FR_SM_PE_P, "SM: PASID entry not present" },
	{ VTD_FR_SM_PE_RSVD, "SM: PASID entry reserved bits set" },
	{ VTD_FR_SM_PE_INV, "SM: PASID entry invalid" },
	{ VTD_FR_SM_PE_ERE, "SM: execute request with ERE clear" },
	{ VTD_FR_SM_PE_SRE, "SM: supervisor request with SRE clear" },
	{ VTD_FR_SM_FL_ACCESS, "SM: first-level entry not accessible" },
	{ VTD_FR_SM_FL_P, "SM: first-level entry not present" },
	{ VTD_FR_SM_FL_RSVD, "SM: first-level entry reserved bits set" },
	{ VTD_FR_SM_FLPTR_INV, "SM: first-level table pointer invalid" },
	{ VTD_FR_SM_NEST_FL_BEYOND, "SM: nested first-level entry beyond second-level width" },
	{ VTD_FR_SM_NEST_FLROOT_R, "SM: nested first-level root not readable at second level" },
	{ VTD_FR_SM_NEST_FL_R, "SM: nested first-level table not readable at second level" },
	{ VTD_FR_SM_NEST_FL_W, "SM: nested first-level A/D update not writable" },
	{ VTD_FR_SM_SL_ACCESS, "SM: second-level entry not accessible" },
	{ VTD_FR_SM_SL_PERM, "SM: second-level entry denies read/write" },
	{ VTD_FR_SM_SL_RSVD, "SM: second-level entry reserved bits set" },
	{ VTD_FR_SM_SLPTR_INV, "SM: second-level table pointer invalid" },
	{ VTD_FR_SM_SL_AD_NOSNOOP, "SM: second-level A/D update without snoop" },
	{ VTD_FR_SM_NONCANON, "SM: first-level address not canonical" },
	{ VTD_FR_SM_FL_US, "SM: user request to a supervisor page" },
	{ VTD_FR_SM_EXEC, "SM: execute not permitted" },
	{ VTD_FR_SM_ADDR_BEYOND, "SM: address beyond the table width" },
	{ VTD_FR_SM_SL_OUT_BEYOND, "SM: second-level output beyond the address width" },
	{ VTD_FR_SM_WRITE, "SM: write not permitted" },
	{ VTD_FR_SM_READ, "SM: read not permitted" },
	{ VTD_FR_SM_INTR_ADDR, "SM: output address in the interrupt range" },
	{ VTD_FR_SM_FL_AD_NOSNOOP, "SM: first-level A/D update without snoop" },
	{ VTD_FR_SM_FL_AD_FAIL, "SM: first-level A/D update failed" },
};

const char *vtd_fault_reason_text(unsigned int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(fr_table); i++)
		if (fr_table[i].code == code)
			return fr_table[i].text;
	return "unknown";
}
