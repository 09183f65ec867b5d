/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 event and PRI queues (IHI 0070 7.2-7.4, 8): drained by
 * uiommu_poll into decoded uiommu_event records.  A queue overflow
 * (PROD.OVFLG differing from our CONS.OVACKFLG) is one UIOMMU_EV_OVERFLOW
 * event, acknowledged by copying the flag into CONS.  Every field read
 * from a record is checked before it is used.
 */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmu_internal.h"

static int queue_init(struct smmu_unit *su, struct smmu_queue *q, unsigned int want,
		      unsigned int max, unsigned int ent, uint32_t base_reg)
{
	const struct uiommu_regio *r = smmu_rio(su);
	int rc;

	q->shift = want < max ? want : max;
	if (!q->shift)
		return -ENODEV;
	rc = uenv_dma_alloc((size_t)ent << q->shift, UENV_PAGE_SIZE, su->u->numa_node, &q->mem);
	if (rc)
		return rc;
	q->cons = 0;
	reg_write64(r, base_reg,
		    (q->mem.iova & SMMU_Q_BASE_ADDR) | FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, q->shift) |
			    (su->coherent ? SMMU_Q_BASE_RWA : 0));
	return 0;
}

int smmu_evtq_init(struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);
	int rc;

	rc = queue_init(su, &su->evtq, SMMU_EVTQ_SHIFT,
			(unsigned int)FIELD_GET(SMMU_IDR1_EVTQS, su->idr[1]), 32, SMMU_EVTQ_BASE);
	if (rc)
		return rc;
	reg_write32(r, SMMU_EVTQ_PROD, 0);
	reg_write32(r, SMMU_EVTQ_CONS, 0);
	if (su->pri) {
		rc = queue_init(su, &su->priq, SMMU_PRIQ_SHIFT,
				(unsigned int)FIELD_GET(SMMU_IDR1_PRIQS, su->idr[1]), 16,
				SMMU_PRIQ_BASE);
		if (rc)
			goto err_evtq;
		reg_write32(r, SMMU_PRIQ_PROD, 0);
		reg_write32(r, SMMU_PRIQ_CONS, 0);
	}
	return 0;

err_evtq:
	uenv_dma_free(&su->evtq.mem);
	memset(&su->evtq, 0, sizeof(su->evtq));
	return rc;
}

void smmu_evtq_fini(struct smmu_unit *su)
{
	if (su->priq.mem.va)
		uenv_dma_free(&su->priq.mem);
	if (su->evtq.mem.va)
		uenv_dma_free(&su->evtq.mem);
	memset(&su->priq, 0, sizeof(su->priq));
	memset(&su->evtq, 0, sizeof(su->evtq));
}

static void decode_event(struct smmu_unit *su, const uint64_t *e, struct uiommu_event *ev)
{
	unsigned int id = (unsigned int)FIELD_GET(SMMU_EVT0_ID, e[0]);

	memset(ev, 0, sizeof(*ev));
	ev->type = UIOMMU_EV_FAULT;
	ev->unit_id = su->u->obj.id;
	ev->segment = su->u->segment;
	ev->hw_id = (uint32_t)FIELD_GET(SMMU_EVT0_SID, e[0]);
	ev->pasid = UIOMMU_NO_PASID;
	if (e[0] & SMMU_EVT0_SSV) {
		ev->pasid = (uint32_t)FIELD_GET(SMMU_EVT0_SSID, e[0]);
		ev->flags |= UIOMMU_EV_PASID;
	}
	ev->reason = id;
	ev->reason_text = smmu_event_text(id);
	ev->addr = e[2];
	ev->flags |= (e[1] & SMMU_EVT1_RNW) ? UIOMMU_EV_READ : UIOMMU_EV_WRITE;
	if (e[1] & SMMU_EVT1_PNU)
		ev->flags |= UIOMMU_EV_PRIV;
	if (e[1] & SMMU_EVT1_IND)
		ev->flags |= UIOMMU_EV_EXEC;
	if ((e[1] & SMMU_EVT1_STALL) && su->stall) { /* answered with CMD_RESUME */
		ev->flags |= UIOMMU_EV_STALL;
		ev->grpid = (uint32_t)FIELD_GET(SMMU_EVT1_STAG, e[1]);
	}
	if (id >= SMMU_EVT_F_TRANSLATION && id <= SMMU_EVT_F_PERMISSION && (e[1] & SMMU_EVT1_S2)) {
		ev->flags |= UIOMMU_EV_STAGE2;
		ev->addr2 = e[3] & SMMU_EVT3_IPA;
	} else if (id == SMMU_EVT_F_STE_FETCH || id == SMMU_EVT_F_CD_FETCH ||
		   id == SMMU_EVT_F_WALK_EABT) {
		ev->addr2 = e[3] & SMMU_EVT3_FETCH;
	}
}

static void decode_pri(struct smmu_unit *su, const uint64_t *e, struct uiommu_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = UIOMMU_EV_PAGE_REQ;
	ev->unit_id = su->u->obj.id;
	ev->segment = su->u->segment;
	ev->hw_id = (uint32_t)FIELD_GET(SMMU_PRIQ0_SID, e[0]);
	ev->pasid = UIOMMU_NO_PASID;
	if (e[0] & SMMU_PRIQ0_SSV) {
		ev->pasid = (uint32_t)FIELD_GET(SMMU_PRIQ0_SSID, e[0]);
		ev->flags |= UIOMMU_EV_PASID;
	}
	ev->flags |= ((e[0] & SMMU_PRIQ0_READ) ? UIOMMU_EV_READ : 0) |
		     ((e[0] & SMMU_PRIQ0_WRITE) ? UIOMMU_EV_WRITE : 0) |
		     ((e[0] & SMMU_PRIQ0_EXEC) ? UIOMMU_EV_EXEC : 0) |
		     ((e[0] & SMMU_PRIQ0_PRIV) ? UIOMMU_EV_PRIV : 0) |
		     ((e[0] & SMMU_PRIQ0_LAST) ? UIOMMU_EV_LAST : 0);
	ev->addr = e[1] & SMMU_PRIQ1_ADDR;
	ev->grpid = (uint32_t)FIELD_GET(SMMU_PRIQ1_GRPID, e[1]);
	ev->reason_text = "page request";
}

/* ---- pending page request groups ---- */

static int prg_find(const struct smmu_unit *su, uint32_t sid, uint32_t ssid, uint32_t grpid)
{
	for (unsigned int i = 0; i < SMMU_PRG_MAX; i++) {
		const struct smmu_prg *p = &su->prg[i];

		if (p->valid && p->sid == sid && p->ssid == ssid && p->grpid == grpid)
			return (int)i;
	}
	return -1;
}

bool smmu_prg_take(struct smmu_unit *su, uint32_t sid, uint32_t ssid, uint32_t grpid)
{
	int i = prg_find(su, sid, ssid, grpid);

	if (i < 0)
		return false;
	su->prg[i].valid = false;
	return true;
}

void smmu_prg_forget(struct smmu_unit *su, uint32_t sid)
{
	for (unsigned int i = 0; i < SMMU_PRG_MAX; i++)
		if (su->prg[i].sid == sid)
			su->prg[i].valid = false;
}

/* The last request of a group arrived (@ev decoded): the group waits for
 * its response.  A group reported again before it was answered stays
 * one.  With no slot free the driver denies it at once (PRI_RESP Deny:
 * the device sees Invalid Request for the group, not silence) and the
 * event is not handed out: false. */
static bool prg_track(struct smmu_unit *su, const struct uiommu_event *ev)
{
	struct smmu_batch b;
	int free_slot = -1;

	if (prg_find(su, ev->hw_id, ev->pasid, ev->grpid) >= 0)
		return true;
	for (unsigned int i = 0; i < SMMU_PRG_MAX && free_slot < 0; i++)
		if (!su->prg[i].valid)
			free_slot = (int)i;
	if (free_slot >= 0) {
		su->prg[free_slot] = (struct smmu_prg){.sid = ev->hw_id,
						       .ssid = ev->pasid,
						       .grpid = (uint16_t)ev->grpid,
						       .valid = true};
		return true;
	}
	su->stats.prg_denied++;
	SMMU_LOG(WARNING,
		 "unit %u: %u page request groups await a response: StreamID 0x%x group %u "
		 "denied",
		 su->u->obj.id, SMMU_PRG_MAX, ev->hw_id, ev->grpid);
	smmu_batch_init(&b, su);
	smmu_batch_add(&b,
		       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_PRI_RESP) |
			       FIELD_PREP(SMMU_CMD0_SID, ev->hw_id) |
			       (ev->pasid != UIOMMU_NO_PASID
					? SMMU_CMD0_SSV | FIELD_PREP(SMMU_CMD0_SSID, ev->pasid)
					: 0),
		       FIELD_PREP(SMMU_CMD1_PRI_GRPID, ev->grpid) |
			       FIELD_PREP(SMMU_CMD1_PRI_RESP, SMMU_PRI_RESP_DENY));
	(void)smmu_batch_sync(&b);
	return false;
}

/* Drain one queue into @ev: returns how many were written. */
static uint16_t drain(struct smmu_unit *su, struct smmu_queue *q, uint32_t prod_reg,
		      uint32_t cons_reg, unsigned int dwords, bool pri, struct uiommu_event *ev,
		      uint16_t max)
{
	const struct uiommu_regio *r = smmu_rio(su);
	uint32_t mask = (2u << q->shift) - 1u, prod, n = 0;

	if (!q->mem.va || !max)
		return 0;
	prod = reg_read32(r, prod_reg);
	if (prod == UINT32_MAX)
		return 0; /* the unit does not answer */
	if (((prod - q->cons) & mask) > (1u << q->shift)) {
		/* More records than the queue holds: PROD is not a position the
		 * SMMU can reach from our CONS (IHI 0070 3.5.1).  Read nothing
		 * (stale slots are not events), CONS stays; logged once per value. */
		if (prod != q->bad_prod)
			SMMU_LOG(ERR,
				 "unit %u: %s_PROD 0x%x is more than %u records ahead of CONS "
				 "0x%x: ignored",
				 su->u->obj.id, pri ? "PRIQ" : "EVTQ", prod, 1u << q->shift,
				 q->cons);
		q->bad_prod = prod;
		return 0;
	}
	q->bad_prod = 0;
	if ((prod ^ q->cons) & SMMU_Q_OVF) {
		memset(&ev[n], 0, sizeof(ev[n]));
		ev[n].type = UIOMMU_EV_OVERFLOW;
		ev[n].unit_id = su->u->obj.id;
		ev[n].reason_text = pri ? "PRI queue overflow (Q_OVF): page requests lost"
					: "event queue overflow (Q_OVF): events lost";
		n++;
		q->cons ^= (uint32_t)SMMU_Q_OVF;
	}
	while (n < max && (q->cons & mask) != (prod & mask)) {
		const uint64_t *slot =
			(const uint64_t *)q->mem.va + dwords * SMMU_Q_IDX(q->cons, q->shift);
		uint64_t e[SMMU_EVT_DWORDS];

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		smmu_inv(su, slot, dwords * 8u); /* COHACC 0: not a stale cached copy */
		for (unsigned int i = 0; i < dwords; i++)
			e[i] = __atomic_load_n(&slot[i], __ATOMIC_RELAXED);
		if (!pri)
			decode_event(su, e, &ev[n++]);
		else {
			decode_pri(su, e, &ev[n]);
			if (!(ev[n].flags & UIOMMU_EV_LAST) || prg_track(su, &ev[n]))
				n++;
		}
		q->cons = (q->cons & (uint32_t)SMMU_Q_OVF) | ((q->cons + 1u) & mask);
	}
	/* The entries are read before CONS hands their slots back to the
	 * SMMU (reg_write32's io_wmb orders only writes). */
	io_mb();
	reg_write32(r, cons_reg, q->cons);
	return (uint16_t)n;
}

uint16_t smmu_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max)
{
	struct smmu_unit *su = smmu_of(u);
	uint16_t n;

	if (!su)
		return 0;
	n = drain(su, &su->evtq, SMMU_EVTQ_PROD, SMMU_EVTQ_CONS, SMMU_EVT_DWORDS, false, ev, max);
	if (su->pri)
		n = (uint16_t)(n + drain(su, &su->priq, SMMU_PRIQ_PROD, SMMU_PRIQ_CONS,
					 SMMU_PRIQ_DWORDS, true, ev + n, (uint16_t)(max - n)));
	return n;
}
