/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d events: primary fault recording registers (VT-d 7.2.1, 11.4.14), the
 * page request queue (7.5) and page group responses (7.7.1), drained by
 * polling (interrupts stay masked: FECTL.IM, PECTL.IM).
 *
 * Fault records are read starting at FSTS.FRI and wrapping, each cleared by
 * writing 1 to F (bit 127).  FSTS.PFO (records dropped because all were
 * full) becomes one UIOMMU_EV_OVERFLOW event; it is cleared only once the
 * event has been handed out, so an overflow is never lost.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_internal.h"

int vtd_fault_init(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);

	/* Polling only: mask the fault event interrupt. */
	reg_write32(r, VTD_REG_FECTL, (uint32_t)VTD_FECTL_IM);
	/* Drop records left by the previous owner. */
	for (uint32_t i = 0; i < vu->nfr; i++)
		reg_write32(r, vu->fro + i * VTD_FRCD_STRIDE + 12, 1u << 31);
	reg_write32(r, VTD_REG_FSTS, (uint32_t)(VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF));
	vu->next_fr = 0;
	return 0;
}

void vtd_fault_fini(struct vtd_unit *vu)
{
	(void)vu;
}

int vtd_prq_init(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	int rc;

	rc = uenv_dma_alloc(4096u << VTD_PRQ_ORDER, 4096, vu->u->numa_node, &vu->prqm);
	if (rc)
		return rc;
	vu->prq_entries = (4096u << VTD_PRQ_ORDER) >> 5;
	reg_write32(r, VTD_REG_PECTL, (uint32_t)VTD_PECTL_IM);
	/* PQA with PQH = 0; PQT is read-only (hardware resets it with PQA). */
	reg_write64(r, VTD_REG_PQH, 0);
	reg_write64(r, VTD_REG_PQA,
		    (vu->prqm.iova & VTD_PQA_PQA) | FIELD_PREP(VTD_PQA_PQS, VTD_PRQ_ORDER));
	reg_write32(r, VTD_REG_PRS, (uint32_t)(VTD_PRS_PPR | VTD_PRS_PRO));
	return 0;
}

void vtd_prq_fini(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);

	reg_write64(r, VTD_REG_PQA, 0);
	reg_write64(r, VTD_REG_PQH, 0);
	if (vu->prqm.va)
		uenv_dma_free(&vu->prqm);
	memset(&vu->prqm, 0, sizeof(vu->prqm));
}

static void ev_source(struct vtd_unit *vu, struct uiommu_event *ev, uint16_t rid)
{
	struct vtd_dev *vd = vtd_dev_by_rid(vu, rid);

	ev->unit_id = vu->u->obj.id;
	ev->segment = vu->u->segment;
	ev->hw_id = rid;
	ev->dev_id = vd ? vd->dev->obj.id : 0;
}

/* Decode one fault record (VT-d 11.4.14). */
static void decode_fault(struct vtd_unit *vu, uint64_t lo, uint64_t hi, struct uiommu_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = UIOMMU_EV_FAULT;
	ev_source(vu, ev, (uint16_t)FIELD_GET(VTD_FRCD_Q1_SID, hi));
	ev->addr = lo & VTD_FRCD_Q0_FI;
	ev->reason = (uint32_t)FIELD_GET(VTD_FRCD_Q1_FR, hi);
	ev->reason_text = vtd_fault_reason_text(ev->reason);
	/* T2:T1 = 00 write, 01 read, 10 page request, 11 AtomicOp; older
	 * units have only T1 (1 = read). */
	if (hi & VTD_FRCD_Q1_T1)
		ev->flags |= UIOMMU_EV_READ;
	else if (!(hi & VTD_FRCD_Q1_T2))
		ev->flags |= UIOMMU_EV_WRITE;
	if (hi & VTD_FRCD_Q1_EXE)
		ev->flags |= UIOMMU_EV_EXEC;
	if (hi & VTD_FRCD_Q1_PRIV)
		ev->flags |= UIOMMU_EV_PRIV;
	if (hi & VTD_FRCD_Q1_PP) {
		ev->flags |= UIOMMU_EV_PASID;
		ev->pasid = (uint32_t)FIELD_GET(VTD_FRCD_Q1_PV, hi);
	} else {
		ev->pasid = UIOMMU_NO_PASID;
	}
}

static uint16_t poll_faults(struct vtd_unit *vu, struct uiommu_event *ev, uint16_t max)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint32_t fsts = reg_read32(r, VTD_REG_FSTS);
	uint32_t start;
	uint16_t n = 0;

	/* VT-d 7.2.1 / 11.4.9.1: FSTS.PPF (bit 1) is the OR of every record's F
	 * bit; FSTS.FRI (bits 15:8), valid while PPF is set, is the index of
	 * the first (oldest) pending record.  Hardware fills the records as a
	 * circular array, so reading nfr records from FRI, wrapping, gives
	 * them in the order they were recorded.  The start is fixed before
	 * the loop: one pass drains everything pending (up to @max). */
	if (fsts & VTD_FSTS_PPF) {
		start = (uint32_t)FIELD_GET(VTD_FSTS_FRI, fsts) % vu->nfr;
		for (uint32_t k = 0; k < vu->nfr && n < max; k++) {
			uint32_t i = (start + k) % vu->nfr;
			uint32_t off = vu->fro + i * VTD_FRCD_STRIDE;
			uint64_t hi = reg_read64(r, off + 8);
			uint64_t lo;

			if (!(hi & VTD_FRCD_Q1_F))
				continue;
			lo = reg_read64(r, off);
			decode_fault(vu, lo, hi, &ev[n++]);
			vu->stats.faults++;
			reg_write32(r, off + 12, 1u << 31); /* F is RW1C (bit 127) */
			vu->next_fr = (i + 1) % vu->nfr;
		}
	}
	if ((fsts & VTD_FSTS_PFO) && n < max) {
		struct uiommu_event *o = &ev[n++];

		memset(o, 0, sizeof(*o));
		o->type = UIOMMU_EV_OVERFLOW;
		o->unit_id = vu->u->obj.id;
		o->segment = vu->u->segment;
		o->pasid = UIOMMU_NO_PASID;
		o->reason_text = "primary fault overflow: faults were dropped";
		vu->stats.overflows++;
		reg_write32(r, VTD_REG_FSTS, (uint32_t)VTD_FSTS_PFO);
	}
	return n;
}

static uint16_t poll_prq(struct vtd_unit *vu, struct uiommu_event *ev, uint16_t max)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint32_t prs = reg_read32(r, VTD_REG_PRS);
	uint64_t head = reg_read64(r, VTD_REG_PQH) & VTD_PQH_PQH;
	uint64_t tail = reg_read64(r, VTD_REG_PQT) & VTD_PQT_PQT;
	uint16_t n = 0;

	while (head != tail && n < max) {
		const uint64_t *d = (const uint64_t *)((const uint8_t *)vu->prqm.va + head);
		struct uiommu_event *e = &ev[n++];

		memset(e, 0, sizeof(*e));
		e->type = UIOMMU_EV_PAGE_REQ;
		ev_source(vu, e, (uint16_t)FIELD_GET(VTD_PRQ_Q0_RID, d[0]));
		e->addr = d[1] & VTD_PRQ_Q1_ADDR;
		e->grpid = (uint32_t)FIELD_GET(VTD_PRQ_Q1_PRGI, d[1]);
		if (d[1] & VTD_PRQ_Q1_RDR)
			e->flags |= UIOMMU_EV_READ;
		if (d[1] & VTD_PRQ_Q1_WRR)
			e->flags |= UIOMMU_EV_WRITE;
		if (d[1] & VTD_PRQ_Q1_LPIG)
			e->flags |= UIOMMU_EV_LAST;
		if (d[0] & VTD_PRQ_Q0_ER)
			e->flags |= UIOMMU_EV_EXEC;
		if (d[0] & VTD_PRQ_Q0_PM)
			e->flags |= UIOMMU_EV_PRIV;
		if (d[0] & VTD_PRQ_Q0_PP) {
			e->flags |= UIOMMU_EV_PASID;
			e->pasid = (uint32_t)FIELD_GET(VTD_PRQ_Q0_PASID, d[0]);
		} else {
			e->pasid = UIOMMU_NO_PASID;
		}
		e->reason_text = "page request";
		vu->stats.page_reqs++;
		head = (head + 32) % ((uint64_t)vu->prq_entries * 32);
	}
	reg_write64(r, VTD_REG_PQH, head);
	if ((prs & VTD_PRS_PRO) && n < max) {
		struct uiommu_event *o = &ev[n++];

		memset(o, 0, sizeof(*o));
		o->type = UIOMMU_EV_OVERFLOW;
		o->unit_id = vu->u->obj.id;
		o->segment = vu->u->segment;
		o->pasid = UIOMMU_NO_PASID;
		o->reason_text = "page request queue overflow: requests were dropped";
		vu->stats.overflows++;
		reg_write32(r, VTD_REG_PRS, (uint32_t)VTD_PRS_PRO);
	}
	if (head == tail && (prs & VTD_PRS_PPR))
		reg_write32(r, VTD_REG_PRS, (uint32_t)VTD_PRS_PPR);
	return n;
}

uint16_t vtd_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max)
{
	struct vtd_unit *vu = vtd_of(u);
	uint16_t n;

	/* Queue errors went to the core's event ring (unit_event_push):
	 * uiommu_poll handed them out before calling here. */
	n = poll_faults(vu, ev, max);
	if (vu->prq && n < max)
		n += poll_prq(vu, ev + n, (uint16_t)(max - n));
	return n;
}

int vtd_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		      uint32_t grpid, enum uiommu_page_resp code)
{
	struct vtd_unit *vu = vtd_of(u);
	struct vtd_dev *vd = dev->priv;
	struct vtd_qi_desc d;
	unsigned int rc_code;

	if (!vu->prq || !vd)
		return -EOPNOTSUPP;
	if (grpid > FIELD_MAX(VTD_QI_PGRP_PRGI) ||
	    (pasid != UIOMMU_NO_PASID && pasid > FIELD_MAX(VTD_QI_PGRP_PASID)))
		return -EINVAL;
	switch (code) {
	case UIOMMU_PAGE_RESP_SUCCESS:
		rc_code = VTD_PGRP_RC_SUCCESS;
		break;
	case UIOMMU_PAGE_RESP_INVALID:
		rc_code = VTD_PGRP_RC_INVALID;
		break;
	case UIOMMU_PAGE_RESP_FAILURE:
		rc_code = VTD_PGRP_RC_FAILURE;
		break;
	default:
		return -EINVAL;
	}
	vtd_desc_pgrp_resp(&d, vd->rid, pasid != UIOMMU_NO_PASID,
			   pasid == UIOMMU_NO_PASID ? 0 : pasid, grpid, rc_code, true);
	return vtd_qi_submit_sync(vu, &d, 1);
}
