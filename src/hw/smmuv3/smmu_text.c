/* SPDX-License-Identifier: BSD-3-Clause */
/* SMMUv3 event and command-error texts (IHI 0070 7.3, 4.x CMDQ_CONS.ERR),
 * used by the driver's event decoding and by tools. */
#include "hw/smmuv3/smmu_regs.h"

const char *smmu_event_text(unsigned int id)
{
	switch (id) {
	case SMMU_EVT_F_UUT:
		return "F_UUT: unsupported upstream transaction";
	case SMMU_EVT_C_BAD_STREAMID:
		return "C_BAD_STREAMID: StreamID out of range";
	case SMMU_EVT_F_STE_FETCH:
		return "F_STE_FETCH: stream table entry fetch aborted";
	case SMMU_EVT_C_BAD_STE:
		return "C_BAD_STE: invalid stream table entry";
	case SMMU_EVT_F_STREAM_DISABLED:
		return "F_STREAM_DISABLED: transaction without SubstreamID refused (S1DSS)";
	case SMMU_EVT_C_BAD_SUBSTREAMID:
		return "C_BAD_SUBSTREAMID: SubstreamID out of range or CD table entry invalid";
	case SMMU_EVT_F_CD_FETCH:
		return "F_CD_FETCH: context descriptor fetch aborted";
	case SMMU_EVT_C_BAD_CD:
		return "C_BAD_CD: invalid context descriptor";
	case SMMU_EVT_F_WALK_EABT:
		return "F_WALK_EABT: table walk external abort";
	case SMMU_EVT_F_TRANSLATION:
		return "F_TRANSLATION: translation fault";
	case SMMU_EVT_F_ADDR_SIZE:
		return "F_ADDR_SIZE: address size fault";
	case SMMU_EVT_F_ACCESS:
		return "F_ACCESS: access flag fault";
	case SMMU_EVT_F_PERMISSION:
		return "F_PERMISSION: permission fault";
	case SMMU_EVT_F_TLB_CONFLICT:
		return "F_TLB_CONFLICT: TLB conflict";
	case SMMU_EVT_F_CFG_CONFLICT:
		return "F_CFG_CONFLICT: configuration cache conflict";
	case SMMU_EVT_E_PAGE_REQUEST:
		return "E_PAGE_REQUEST: speculative page request";
	default:
		return "unknown event";
	}
}

const char *smmu_cerror_text(unsigned int err)
{
	switch (err) {
	case SMMU_CERROR_NONE:
		return "CERROR_NONE";
	case SMMU_CERROR_ILL:
		return "CERROR_ILL: illegal command";
	case SMMU_CERROR_ABT:
		return "CERROR_ABT: command fetch aborted";
	case SMMU_CERROR_ATC_INV_SYNC:
		return "CERROR_ATC_INV_SYNC: ATC invalidation timed out";
	default:
		return "unknown command error";
	}
}
