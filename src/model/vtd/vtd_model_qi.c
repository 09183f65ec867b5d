/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d model: cache invalidation (spec 6.5), register-based (CCMD, IOTLB
 * registers) and queued (6.5.2).
 *
 * Which invalidation reaches which cached translation (6.5.2.3/6.5.2.4):
 *  - IOTLB invalidate (type 2 / IOTLB register): global drops everything;
 *    domain-selective drops every entry of the DID; page-selective drops
 *    second-level and pass-through entries of the DID in the range, and
 *    every nested entry of the DID (their second-level input address is
 *    not known to the IOTLB).  First-level-only entries are not reached
 *    by page-selective type 2.
 *  - PASID-based IOTLB invalidate (type 6): first-level and nested
 *    entries of DID+PASID (all, or in the range).
 *  - Context cache: global, by DID (legacy entries), by SID with function
 *    mask (and DID in legacy mode).
 *  - PASID cache (type 7): by DID, by DID+PASID, global.
 *
 * The queue: descriptors are processed from IQH to IQT when IQT is
 * written with QIE set.  A bad descriptor sets FSTS.IQE and IQERCD, leaves
 * IQH pointing at it and stops processing until software clears IQE.
 */
#include <string.h>

#include "model/vtd/vtd_model_internal.h"

/* ------------------------------------------------------------ invalidation */

static bool range_hit(const struct vtdm_iotlb_ent *e, uint64_t addr, unsigned int am)
{
	uint64_t size = 4096ULL << am;
	uint64_t start = ALIGN_DOWN_ULL(addr, size), last = start + size - 1;
	uint64_t es = e->va, el = e->va + (1ULL << e->shift) - 1;

	return es <= last && start <= el;
}

static void iotlb_drop(struct vtd_model *m, struct vtdm_iotlb_ent *e)
{
	e->lru = 0;
	m->st.iotlb_inval++;
}

void vtdm_inv_iotlb(struct vtd_model *m, unsigned int g, uint16_t did, uint64_t addr,
		    unsigned int am)
{
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct vtdm_iotlb_ent *e = &m->iotlb[i];
		if (!e->lru)
			continue;
		if (g == VTD_IOTLB_G_GLOBAL) {
			iotlb_drop(m, e);
			continue;
		}
		if (e->did != did)
			continue;
		if (g == VTD_IOTLB_G_DOMAIN || e->kind == VTDM_K_NESTED)
			iotlb_drop(m, e);
		else if (e->kind != VTDM_K_FL && range_hit(e, addr, am))
			iotlb_drop(m, e);
	}
}

void vtdm_inv_piotlb(struct vtd_model *m, unsigned int g, uint16_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am)
{
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct vtdm_iotlb_ent *e = &m->iotlb[i];
		if (!e->lru || e->did != did || e->pasid != pasid)
			continue;
		if (e->kind != VTDM_K_FL && e->kind != VTDM_K_NESTED)
			continue;
		if (g == VTD_PIOTLB_G_PASID || range_hit(e, addr, am))
			iotlb_drop(m, e);
	}
}

/* Function mask: FM=1 ignores SID bit 2, 2 bits 2:1, 3 bits 2:0. */
static uint16_t fm_mask(unsigned int fm)
{
	static const uint16_t mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	return mask[fm & 3];
}

void vtdm_inv_ctx(struct vtd_model *m, unsigned int g, uint16_t did, uint16_t sid, unsigned int fm)
{
	uint16_t mask = fm_mask(fm);

	for (uint32_t i = 0; i < m->cfg.ctx_cache_size; i++) {
		struct vtdm_ctx_ent *e = &m->ctxc[i];
		bool hit;

		if (!e->lru)
			continue;
		switch (g) {
		case VTD_CC_G_GLOBAL:
			hit = true;
			break;
		case VTD_CC_G_DOMAIN: /* scalable entries carry no DID: all of them */
			hit = e->sm || e->did == did;
			break;
		case VTD_CC_G_DEVICE:
			hit = (e->rid & mask) == (sid & mask) && (e->sm || e->did == did);
			break;
		default:
			hit = false;
			break;
		}
		if (hit) {
			e->lru = 0;
			m->st.ctx_inval++;
		}
	}
}

void vtdm_inv_pc(struct vtd_model *m, unsigned int g, uint16_t did, uint32_t pasid)
{
	for (uint32_t i = 0; i < m->cfg.pasid_cache_size; i++) {
		struct vtdm_pc_ent *e = &m->pc[i];
		if (!e->lru)
			continue;
		if (g == VTD_PC_G_GLOBAL || (e->did == did && (g == VTD_PC_G_DOMAIN ||
							       e->pasid == pasid))) {
			e->lru = 0;
			m->st.pc_inval++;
		}
	}
}

void vtdm_inv_all(struct vtd_model *m)
{
	vtdm_inv_ctx(m, VTD_CC_G_GLOBAL, 0, 0, 0);
	vtdm_inv_pc(m, VTD_PC_G_GLOBAL, 0, 0);
	vtdm_inv_iotlb(m, VTD_IOTLB_G_GLOBAL, 0, 0, 0);
}

/* ------------------------------------------------------------ queue */

static void qi_error(struct vtd_model *m, unsigned int iqei)
{
	vtdm_w64(m, VTD_REG_IQERCD, FIELD_PREP(VTD_IQERCD_IQEI, iqei));
	vtdm_w32(m, VTD_REG_FSTS, vtdm_r32(m, VTD_REG_FSTS) | (uint32_t)VTD_FSTS_IQE);
	vtdm_fsts_update(m);
	m->st.qi_errors++;
	VTDM_LOG(DEBUG, "invalidation queue error %u at IQH 0x%llx", iqei,
		 (unsigned long long)vtdm_r64(m, VTD_REG_IQH));
}

/* Process one descriptor; 0 or the IQEI of its error. */
static unsigned int qi_one(struct vtd_model *m, const uint64_t *d)
{
	uint64_t ecap = vtdm_ecap(m);
	unsigned int type = vtd_qi_type(d[0]);
	bool sm = (ecap & VTD_ECAP_SMTS) != 0;

	/* In 256-bit mode the upper half is reserved except for private data. */
	if (m->dw && type != VTD_QI_PGRP_RESP && (d[2] || d[3]))
		return VTD_IQEI_RSVD;

	switch (type) {
	case VTD_QI_CC: {
		unsigned int g = (unsigned int)FIELD_GET(VTD_QI_CC_G, d[0]);
		if ((d[0] & VTD_QI_CC_Q0_RSVD) || d[1] || !g)
			return VTD_IQEI_RSVD;
		vtdm_inv_ctx(m, g, (uint16_t)FIELD_GET(VTD_QI_CC_DID, d[0]),
			     (uint16_t)FIELD_GET(VTD_QI_CC_SID, d[0]),
			     (unsigned int)FIELD_GET(VTD_QI_CC_FM, d[0]));
		return 0;
	}
	case VTD_QI_IOTLB: {
		unsigned int g = (unsigned int)FIELD_GET(VTD_QI_IOTLB_G, d[0]);
		if ((d[0] & VTD_QI_IOTLB_Q0_RSVD) || (d[1] & VTD_QI_IOTLB_Q1_RSVD) || !g)
			return VTD_IQEI_RSVD;
		if (g == VTD_IOTLB_G_PAGE && !(vtdm_cap(m) & VTD_CAP_PSI))
			g = VTD_IOTLB_G_DOMAIN;
		vtdm_inv_iotlb(m, g, (uint16_t)FIELD_GET(VTD_QI_IOTLB_DID, d[0]),
			       d[1] & VTD_QI_IOTLB_ADDR,
			       (unsigned int)FIELD_GET(VTD_QI_IOTLB_AM, d[1]));
		return 0;
	}
	case VTD_QI_DEVTLB:
	case VTD_QI_PDEVTLB:
		/* No device TLB is modelled: accepted and completed at once. */
		if (!(ecap & VTD_ECAP_DT) || (type == VTD_QI_PDEVTLB && !sm))
			return VTD_IQEI_TYPE;
		return 0;
	case VTD_QI_WAIT: {
		if ((d[0] & VTD_QI_WAIT_Q0_RSVD) || (d[1] & VTD_QI_WAIT_Q1_RSVD))
			return VTD_IQEI_RSVD;
		if (d[0] & VTD_QI_WAIT_SW) {
			uint32_t *st = vtdm_mem(d[1] & VTD_QI_WAIT_SADDR, 4);
			if (!st)
				return VTD_IQEI_FETCH;
			__atomic_store_n(st, (uint32_t)FIELD_GET(VTD_QI_WAIT_SDATA, d[0]),
					 __ATOMIC_RELEASE);
		}
		if (d[0] & VTD_QI_WAIT_IF) {
			vtdm_w32(m, VTD_REG_ICS, vtdm_r32(m, VTD_REG_ICS) | (uint32_t)VTD_ICS_IWC);
			vtdm_w32(m, VTD_REG_IECTL,
				 vtdm_r32(m, VTD_REG_IECTL) | (uint32_t)VTD_IECTL_IP);
		}
		m->st.waits++;
		return 0;
	}
	case VTD_QI_PIOTLB: {
		unsigned int g = (unsigned int)FIELD_GET(VTD_QI_PIOTLB_G, d[0]);
		if (!sm)
			return VTD_IQEI_TYPE;
		if ((d[0] & VTD_QI_PIOTLB_Q0_RSVD) || (d[1] & VTD_QI_PIOTLB_Q1_RSVD) ||
		    (g != VTD_PIOTLB_G_PASID && g != VTD_PIOTLB_G_PAGE))
			return VTD_IQEI_RSVD;
		vtdm_inv_piotlb(m, g, (uint16_t)FIELD_GET(VTD_QI_PIOTLB_DID, d[0]),
				(uint32_t)FIELD_GET(VTD_QI_PIOTLB_PASID, d[0]),
				d[1] & VTD_QI_PIOTLB_ADDR,
				(unsigned int)FIELD_GET(VTD_QI_PIOTLB_AM, d[1]));
		return 0;
	}
	case VTD_QI_PC: {
		unsigned int g = (unsigned int)FIELD_GET(VTD_QI_PC_G, d[0]);
		if (!sm)
			return VTD_IQEI_TYPE;
		if ((d[0] & VTD_QI_PC_Q0_RSVD) || d[1] || g == 2)
			return VTD_IQEI_RSVD;
		vtdm_inv_pc(m, g, (uint16_t)FIELD_GET(VTD_QI_PC_DID, d[0]),
			    (uint32_t)FIELD_GET(VTD_QI_PC_PASID, d[0]));
		return 0;
	}
	case VTD_QI_PGRP_RESP:
		if (!(ecap & VTD_ECAP_PRS))
			return VTD_IQEI_TYPE;
		if ((d[0] & (GENMASK_ULL(11, 6) | GENMASK_ULL(63, 52))) ||
		    (d[1] & (GENMASK_ULL(1, 0) | GENMASK_ULL(63, 12))))
			return VTD_IQEI_RSVD;
		vtdm_prg_respond(m, (uint16_t)FIELD_GET(VTD_QI_PGRP_RID, d[0]),
				 (uint32_t)FIELD_GET(VTD_QI_PGRP_PASID, d[0]),
				 (d[0] & VTD_QI_PGRP_PP) != 0,
				 (uint16_t)FIELD_GET(VTD_QI_PGRP_PRGI, d[1]),
				 (unsigned int)FIELD_GET(VTD_QI_PGRP_RC, d[0]));
		return 0;
	case VTD_QI_IEC: /* interrupt remapping is not modelled (ECAP.IR = 0) */
	default:
		return VTD_IQEI_TYPE;
	}
}

void vtdm_qi_run(struct vtd_model *m)
{
	uint64_t iqa = vtdm_r64(m, VTD_REG_IQA);
	unsigned int shift = VTD_IQ_DESC_SHIFT(m->dw);
	uint32_t n = vtd_iqa_entries((iqa & ~VTD_IQA_DW) | (m->dw ? VTD_IQA_DW : 0));
	uint64_t base = iqa & VTD_IQA_IQA;
	uint64_t iqt = vtdm_r64(m, VTD_REG_IQT);
	uint32_t head, tail;

	if (!(vtdm_r32(m, VTD_REG_GSTS) & VTD_GSTS_QIES) ||
	    (vtdm_r32(m, VTD_REG_FSTS) & VTD_FSTS_IQE))
		return;
	if (m->dw && (iqt & BIT_ULL(4))) {
		qi_error(m, VTD_IQEI_TAIL);
		return;
	}
	tail = (uint32_t)(iqt >> shift) & 0x7fffu;
	if (tail >= n) {
		qi_error(m, VTD_IQEI_TAIL_RANGE);
		return;
	}
	head = (uint32_t)(vtdm_r64(m, VTD_REG_IQH) >> shift) & 0x7fffu;
	while (head != tail) {
		uint64_t d[4] = { 0, 0, 0, 0 };
		unsigned int err;

		if (!vtdm_read_words(base + ((uint64_t)head << shift), d, m->dw ? 4 : 2))
			err = VTD_IQEI_FETCH;
		else
			err = qi_one(m, d);
		if (err) {
			qi_error(m, err);
			return; /* IQH stays at the bad descriptor */
		}
		m->st.qi_desc++;
		head = (head + 1) % n;
		vtdm_w64(m, VTD_REG_IQH, (uint64_t)head << shift);
	}
}
