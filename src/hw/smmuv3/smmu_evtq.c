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

/* ---- pending page request groups and stalled transactions ---- */

/* The device added on this unit with StreamID @sid, or NULL.  Called
 * with the context locked (uiommu_poll). */
static struct smmu_dev *sd_of_sid(const struct smmu_unit *su, uint32_t sid)
{
	struct uiommu_ctx *ctx = su->u->ctx;

	for (struct uiommu_device *d = uobj_next(ctx, UOBJ_DEVICE, NULL); d;
	     d = uobj_next(ctx, UOBJ_DEVICE, d))
		if (d->unit == su->u && d->desc.hw_id == sid)
			return d->priv;
	return NULL;
}

/* A log line for the 1st, 2nd, 4th, 8th ... occurrence of a counted
 * condition a device can repeat at will (no log flood). */
static bool log_this(uint64_t count)
{
	return (count & (count - 1u)) == 0;
}

static int prg_find(const struct smmu_unit *su, uint32_t sid, uint32_t ssid, uint32_t grpid)
{
	for (unsigned int i = 0; i < SMMU_PRG_MAX; i++) {
		const struct smmu_prg *p = &su->prg[i];

		if (p->valid && p->sid == sid && p->ssid == ssid && p->grpid == grpid)
			return (int)i;
	}
	return -1;
}

bool smmu_prg_take(struct smmu_unit *su, struct smmu_dev *sd, uint32_t ssid, uint32_t grpid)
{
	int i = prg_find(su, sd->sid, ssid, grpid);

	if (i < 0)
		return false;
	su->prg[i].valid = false;
	if (sd->nr_prg)
		sd->nr_prg--;
	return true;
}

static int stall_find(const struct smmu_unit *su, uint32_t sid, uint32_t stag)
{
	for (unsigned int i = 0; i < SMMU_STALL_TRACK; i++) {
		const struct smmu_stalled *s = &su->stalled[i];

		if (s->valid && s->sid == sid && s->stag == stag)
			return (int)i;
	}
	return -1;
}

bool smmu_stall_take(struct smmu_unit *su, struct smmu_dev *sd, uint32_t stag)
{
	int i = stall_find(su, sd->sid, stag);

	if (i < 0)
		return false;
	su->stalled[i].valid = false;
	if (sd->nr_stalled)
		sd->nr_stalled--;
	return true;
}

static void cmd_resume_abort(struct smmu_batch *b, uint32_t sid, uint32_t stag)
{
	smmu_batch_add(b,
		       FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_RESUME) | FIELD_PREP(SMMU_CMD0_SID, sid) |
			       FIELD_PREP(SMMU_CMD0_RESUME_RESP, 2u), /* Abort */
		       FIELD_PREP(SMMU_CMD1_RESUME_STAG, stag));
}

void smmu_prg_forget(struct smmu_unit *su, struct smmu_dev *sd)
{
	struct smmu_batch b;
	unsigned int n = 0;

	for (unsigned int i = 0; i < SMMU_PRG_MAX; i++)
		if (su->prg[i].valid && su->prg[i].sid == sd->sid)
			su->prg[i].valid = false;
	sd->nr_prg = 0;
	/* Nobody will resume its stalled transactions: aborted (the STE is an
	 * abort already; a retry would fault again). */
	smmu_batch_init(&b, su);
	for (unsigned int i = 0; i < SMMU_STALL_TRACK; i++) {
		struct smmu_stalled *s = &su->stalled[i];

		if (!s->valid || s->sid != sd->sid)
			continue;
		s->valid = false;
		cmd_resume_abort(&b, s->sid, s->stag);
		n++;
	}
	sd->nr_stalled = 0;
	if (n && smmu_batch_sync(&b))
		SMMU_LOG(WARNING,
			 "unit %u: StreamID 0x%x: aborting %u stalled transactions not "
			 "confirmed",
			 su->u->obj.id, sd->sid, n);
}

/* A fault event @ev with Stall: the transaction waits for a CMD_RESUME.
 * It is tracked (the event keeps UIOMMU_EV_STALL) when a stalling device
 * was added for its StreamID and both the table and the device's budget
 * have room;
 * otherwise the driver aborts it at once and the event is handed out as a
 * plain fault.  A STAG reported again while it waits stays one. */
static void stall_track(struct smmu_unit *su, struct uiommu_event *ev)
{
	struct smmu_dev *sd = sd_of_sid(su, ev->hw_id);
	struct smmu_batch b;
	int free_slot = -1;

	if (sd && !sd->stall)
		sd = NULL; /* its responses are PRI_RESPs: a RESUME never comes */
	if (sd && stall_find(su, ev->hw_id, ev->grpid) >= 0)
		return;
	if (sd && sd->nr_stalled < SMMU_STALL_DEV_MAX)
		for (unsigned int i = 0; i < SMMU_STALL_TRACK && free_slot < 0; i++)
			if (!su->stalled[i].valid)
				free_slot = (int)i;
	if (free_slot >= 0) {
		su->stalled[free_slot] = (struct smmu_stalled){
			.sid = ev->hw_id, .stag = (uint16_t)ev->grpid, .valid = true};
		sd->nr_stalled++;
		return;
	}
	su->stats.stalls_aborted++;
	if (log_this(su->stats.stalls_aborted))
		SMMU_LOG(WARNING, "unit %u: StreamID 0x%x: stalled transaction %u aborted (%s)",
			 su->u->obj.id, ev->hw_id, ev->grpid,
			 !sd ? "no stalling device" : "no room to track it");
	smmu_batch_init(&b, su);
	cmd_resume_abort(&b, ev->hw_id, ev->grpid);
	(void)smmu_batch_sync(&b);
	ev->flags &= ~(uint32_t)UIOMMU_EV_STALL;
	ev->grpid = 0;
}

/* Answer a group the driver does not hand out: PRI_RESP with @resp. */
static void prg_answer(struct smmu_unit *su, const struct uiommu_event *ev, unsigned int resp)
{
	struct smmu_batch b;

	smmu_batch_init(&b, su);
	smmu_batch_add(
		&b,
		FIELD_PREP(SMMU_CMD0_OP, SMMU_OP_PRI_RESP) | FIELD_PREP(SMMU_CMD0_SID, ev->hw_id) |
			(ev->pasid != UIOMMU_NO_PASID
				 ? SMMU_CMD0_SSV | FIELD_PREP(SMMU_CMD0_SSID, ev->pasid)
				 : 0),
		FIELD_PREP(SMMU_CMD1_PRI_GRPID, ev->grpid) | FIELD_PREP(SMMU_CMD1_PRI_RESP, resp));
	(void)smmu_batch_sync(&b);
}

/* A page request @ev was decoded: true to hand it out.  A request from a
 * StreamID with no device added is never handed out (nobody may answer
 * it); its group is answered at its Last request with Response Failure
 * (PCIe 10.4.2.1: the function stops issuing page requests).  The Last
 * request of a group makes the group wait for its response, if the table
 * has a free slot and the device holds fewer than SMMU_PRG_DEV_MAX groups;
 * else the driver denies it at once (Invalid Request: the device sees an
 * answer, not silence) and does not hand it out.  A group reported again
 * before it was answered stays one. */
static bool prg_track(struct smmu_unit *su, const struct uiommu_event *ev)
{
	struct smmu_dev *sd = sd_of_sid(su, ev->hw_id);
	int free_slot = -1;

	if (!sd) {
		if (!(ev->flags & UIOMMU_EV_LAST))
			return false;
		su->stats.prg_foreign++;
		if (log_this(su->stats.prg_foreign))
			SMMU_LOG(WARNING,
				 "unit %u: page request group %u from StreamID 0x%x, no device "
				 "added: failed",
				 su->u->obj.id, ev->grpid, ev->hw_id);
		prg_answer(su, ev, SMMU_PRI_RESP_FAIL);
		return false;
	}
	if (!(ev->flags & UIOMMU_EV_LAST))
		return true;
	if (prg_find(su, ev->hw_id, ev->pasid, ev->grpid) >= 0)
		return true;
	if (sd->nr_prg < SMMU_PRG_DEV_MAX)
		for (unsigned int i = 0; i < SMMU_PRG_MAX && free_slot < 0; i++)
			if (!su->prg[i].valid)
				free_slot = (int)i;
	if (free_slot >= 0) {
		su->prg[free_slot] = (struct smmu_prg){.sid = ev->hw_id,
						       .ssid = ev->pasid,
						       .grpid = (uint16_t)ev->grpid,
						       .valid = true};
		sd->nr_prg++;
		return true;
	}
	su->stats.prg_denied++;
	if (log_this(su->stats.prg_denied))
		SMMU_LOG(WARNING,
			 "unit %u: StreamID 0x%x: page request group %u denied: %s (%u of "
			 "its groups await a response, budget %u, table %u)",
			 su->u->obj.id, ev->hw_id, ev->grpid,
			 sd->nr_prg < SMMU_PRG_DEV_MAX ? "the unit's table is full"
						       : "its budget is used",
			 sd->nr_prg, SMMU_PRG_DEV_MAX, SMMU_PRG_MAX);
	prg_answer(su, ev, SMMU_PRI_RESP_DENY);
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
		if (!pri) {
			decode_event(su, e, &ev[n]);
			if (ev[n].flags & UIOMMU_EV_STALL)
				stall_track(su, &ev[n]);
			n++;
		} else {
			decode_pri(su, e, &ev[n]);
			if (prg_track(su, &ev[n]))
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
