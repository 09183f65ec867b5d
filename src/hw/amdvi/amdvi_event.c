/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi event log (2.5) and PPR log (2.6), drained by uiommu_poll into
 * struct uiommu_event records.
 *
 * The IOMMU writes an entry and moves the tail register; the driver reads
 * from its head to the tail and writes the head back.  A tail that is not
 * inside the log (a misbehaving unit) is not trusted: the log is
 * restarted.  On EventOverflow / PPROverflow the unit has stopped logging:
 * what is in the log is drained, a UIOMMU_EV_OVERFLOW reports the loss,
 * and the log is restarted (enable bit off, overflow cleared, head = tail
 * = 0, enable bit on), as Linux's amd_iommu_restart_event_logging does.
 */
#include <errno.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

const char *amdvi_event_text(unsigned int code)
{
	switch (code) {
	case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
		return "ILLEGAL_DEV_TABLE_ENTRY";
	case AMDVI_EV_IO_PAGE_FAULT:
		return "IO_PAGE_FAULT";
	case AMDVI_EV_DEV_TAB_HW_ERROR:
		return "DEV_TAB_HARDWARE_ERROR";
	case AMDVI_EV_PAGE_TAB_HW_ERROR:
		return "PAGE_TAB_HARDWARE_ERROR";
	case AMDVI_EV_ILLEGAL_COMMAND:
		return "ILLEGAL_COMMAND_ERROR";
	case AMDVI_EV_COMMAND_HW_ERROR:
		return "COMMAND_HARDWARE_ERROR";
	case AMDVI_EV_IOTLB_INV_TIMEOUT:
		return "IOTLB_INV_TIMEOUT";
	case AMDVI_EV_INVALID_DEVICE_REQUEST:
		return "INVALID_DEVICE_REQUEST";
	case AMDVI_EV_INVALID_PPR_REQUEST:
		return "INVALID_PPR_REQUEST";
	case AMDVI_EV_EVENT_COUNTER_ZERO:
		return "EVENT_COUNTER_ZERO";
	default:
		return "unknown event";
	}
}

/* Start one log: base register, head = tail = 0, then the enable bits. */
static int log_start(struct amdvi_unit *au, uint32_t base_reg, uint64_t iova, unsigned int len,
		     uint32_t head_reg, uint32_t tail_reg, uint64_t en, uint64_t run,
		     const char *name)
{
	const struct uiommu_regio *r = amdvi_rio(au);

	reg_write64(r, AMDVI_REG_CONTROL, reg_read64(r, AMDVI_REG_CONTROL) & ~en);
	reg_write64(r, base_reg, iova | FIELD_PREP(AMDVI_BUF_LEN, len));
	reg_write64(r, head_reg, 0);
	reg_write64(r, tail_reg, 0);
	reg_write64(r, AMDVI_REG_CONTROL, reg_read64(r, AMDVI_REG_CONTROL) | en);
	return reg_poll64(r, AMDVI_REG_STATUS, run, run, au->timeout_ns, name);
}

static int evt_restart(struct amdvi_unit *au)
{
	reg_write64(amdvi_rio(au), AMDVI_REG_STATUS, AMDVI_STS_EVT_OVERFLOW);
	return log_start(au, AMDVI_REG_EVTLOG, au->evt.iova, AMDVI_EVT_LEN, AMDVI_REG_EVT_HEAD,
			 AMDVI_REG_EVT_TAIL, AMDVI_CTRL_EVT_LOG_EN, AMDVI_STS_EVT_RUN,
			 "Status.EventLogRun");
}

static int ppr_restart(struct amdvi_unit *au)
{
	uint64_t tmo = au->timeout_ns;
	int rc;

	/* A unit that runs the log sets the bit at once; one that does not
	 * (QEMU) should not cost the whole bound at every take-over. */
	au->timeout_ns = tmo / 100;
	reg_write64(amdvi_rio(au), AMDVI_REG_STATUS, AMDVI_STS_PPR_OVERFLOW);
	rc = log_start(au, AMDVI_REG_PPRLOG, au->pprl.iova, AMDVI_PPRL_LEN, AMDVI_REG_PPR_HEAD,
		       AMDVI_REG_PPR_TAIL, AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_PPR_EN,
		       AMDVI_STS_PPR_RUN, "Status.PPRLogRun");
	au->timeout_ns = tmo;
	return rc;
}

int amdvi_logs_start(struct amdvi_unit *au)
{
	int rc;

	rc = uenv_dma_alloc(16u << AMDVI_EVT_LEN, 4096, au->u->numa_node, &au->evt);
	if (rc)
		return rc;
	au->evt_bytes = 16u << AMDVI_EVT_LEN;
	if (au->ppr) {
		rc = uenv_dma_alloc(16u << AMDVI_PPRL_LEN, 4096, au->u->numa_node, &au->pprl);
		if (rc)
			goto free_evt;
		au->ppr_bytes = 16u << AMDVI_PPRL_LEN;
	}
	rc = evt_restart(au);
	if (rc)
		goto stop;
	if (au->ppr && ppr_restart(au)) {
		/* EFR.PPRSup without a PPR log that runs (QEMU's amd-iommu
		 * advertises PPRSup but implements no PPR log): go on without
		 * page requests. */
		AMDVI_LOG(WARNING,
			  "unit %u: the PPR log does not run (Status.PPRLogRun stays 0): "
			  "page requests off",
			  au->u->obj.id);
		reg_write64(amdvi_rio(au), AMDVI_REG_CONTROL,
			    reg_read64(amdvi_rio(au), AMDVI_REG_CONTROL) &
				    ~(AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_PPR_EN));
		uenv_dma_free(&au->pprl);
		memset(&au->pprl, 0, sizeof(au->pprl));
		au->ppr = false;
	}
	return 0;

stop:
	amdvi_logs_stop(au);
	return rc;
free_evt:
	uenv_dma_free(&au->evt);
	return rc;
}

void amdvi_logs_stop(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t ctl = reg_read64(r, AMDVI_REG_CONTROL);

	reg_write64(r, AMDVI_REG_CONTROL,
		    ctl & ~(AMDVI_CTRL_EVT_LOG_EN | AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_PPR_EN));
	(void)reg_poll64(r, AMDVI_REG_STATUS, AMDVI_STS_EVT_RUN | AMDVI_STS_PPR_RUN, 0,
			 au->timeout_ns, "Status.EventLogRun");
	if (au->pprl.va)
		uenv_dma_free(&au->pprl);
	if (au->evt.va)
		uenv_dma_free(&au->evt);
	memset(&au->pprl, 0, sizeof(au->pprl));
	memset(&au->evt, 0, sizeof(au->evt));
}

/* The device object of DeviceID @id (0 when none). */
static uint32_t dev_obj(struct amdvi_unit *au, uint16_t id)
{
	struct list_node *pos;

	list_for_each(pos, &au->devs)
	{
		struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

		if (ad->devid == id || (ad->alias && ad->rid == id))
			return ad->dev->obj.id;
	}
	return 0;
}

static void decode_event(struct amdvi_unit *au, uint64_t w0, uint64_t w1, struct uiommu_event *e)
{
	unsigned int code = (unsigned int)FIELD_GET(AMDVI_EVT_CODE, w0);
	uint16_t devid = (uint16_t)FIELD_GET(AMDVI_EVT_DEVID, w0);
	uint32_t flags = (uint32_t)FIELD_GET(AMDVI_EVT_FLAGS, w0);

	memset(e, 0, sizeof(*e));
	e->unit_id = au->u->obj.id;
	e->segment = au->u->segment;
	e->reason = code;
	e->reason_text = amdvi_event_text(code);
	e->pasid = UIOMMU_NO_PASID;
	e->addr = w1;
	switch (code) {
	case AMDVI_EV_IO_PAGE_FAULT:
	case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
	case AMDVI_EV_DEV_TAB_HW_ERROR:
	case AMDVI_EV_PAGE_TAB_HW_ERROR:
	case AMDVI_EV_INVALID_DEVICE_REQUEST:
	case AMDVI_EV_INVALID_PPR_REQUEST:
	case AMDVI_EV_IOTLB_INV_TIMEOUT:
		e->type = UIOMMU_EV_FAULT;
		e->hw_id = devid;
		e->dev_id = dev_obj(au, devid);
		if (code == AMDVI_EV_IO_PAGE_FAULT || code == AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY) {
			e->flags = (flags & AMDVI_EVF_RW) ? UIOMMU_EV_WRITE : UIOMMU_EV_READ;
			if (flags & AMDVI_EVF_NX)
				e->flags |= UIOMMU_EV_EXEC;
			if (flags & AMDVI_EVF_US)
				e->flags |= UIOMMU_EV_PRIV;
			if (flags & AMDVI_EVF_GN) {
				e->flags |= UIOMMU_EV_PASID;
				e->pasid = (uint32_t)(FIELD_GET(AMDVI_EVT_PASID_HI, w0) << 16 |
						      FIELD_GET(AMDVI_EVT_DOMID, w0));
			}
		}
		break;
	case AMDVI_EV_ILLEGAL_COMMAND:
	case AMDVI_EV_COMMAND_HW_ERROR:
		e->type = UIOMMU_EV_QUEUE_ERROR;
		break;
	default:
		e->type = UIOMMU_EV_FAULT;
		break;
	}
}

static void decode_ppr(struct amdvi_unit *au, uint64_t w0, uint64_t w1, struct uiommu_event *e)
{
	uint32_t flags = (uint32_t)FIELD_GET(AMDVI_PPR_FLAGS, w0);
	uint16_t devid = (uint16_t)FIELD_GET(AMDVI_PPR_DEVID, w0);

	memset(e, 0, sizeof(*e));
	e->type = UIOMMU_EV_PAGE_REQ;
	e->unit_id = au->u->obj.id;
	e->segment = au->u->segment;
	e->hw_id = devid;
	e->dev_id = dev_obj(au, devid);
	e->addr = w1 & ~0xfffull;
	e->grpid = (uint32_t)FIELD_GET(AMDVI_PPR_TAG, w0) & 0x1ff;
	e->reason = (uint32_t)FIELD_GET(AMDVI_PPR_TYPE, w0);
	e->reason_text = "PPR page request";
	e->pasid = UIOMMU_NO_PASID;
	if (flags & AMDVI_PPRF_GN) {
		e->flags |= UIOMMU_EV_PASID;
		e->pasid = (uint32_t)(FIELD_GET(AMDVI_PPR_PASID_HI, w0) << 16 |
				      FIELD_GET(AMDVI_PPR_PASID_LO, w0));
	}
	e->flags |= (flags & AMDVI_PPRF_READ) ? UIOMMU_EV_READ : 0;
	e->flags |= (flags & AMDVI_PPRF_WRITE) ? UIOMMU_EV_WRITE : 0;
	e->flags |= (flags & AMDVI_PPRF_EXEC) ? UIOMMU_EV_EXEC : 0;
	e->flags |= (flags & AMDVI_PPRF_US) ? 0 : UIOMMU_EV_PRIV;
}

/* Drain one log into @ev.  *@overflow is set when the log must be
 * restarted (overflow reported by the unit, or a tail outside the log). */
static uint16_t drain(struct amdvi_unit *au, const struct uenv_dma *log, uint32_t bytes,
		      uint32_t head_reg, uint32_t tail_reg, bool ppr, struct uiommu_event *ev,
		      uint16_t max, bool *bad)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t head = reg_read64(r, head_reg), tail = reg_read64(r, tail_reg);
	uint16_t n = 0;

	if ((head & ~AMDVI_PTR_OFF) || head >= bytes || (tail & ~AMDVI_PTR_OFF) || tail >= bytes) {
		AMDVI_LOG(ERR,
			  "unit %u: %s log head 0x%llx tail 0x%llx outside the log: restarting it",
			  au->u->obj.id, ppr ? "PPR" : "event", (unsigned long long)head,
			  (unsigned long long)tail);
		*bad = true;
		return 0;
	}
	while (head != tail && n < max) {
		const uint64_t *p = (const uint64_t *)((const uint8_t *)log->va + head);
		uint64_t w0 = __atomic_load_n(&p[0], __ATOMIC_ACQUIRE), w1 = p[1];

		if (ppr) {
			decode_ppr(au, w0, w1, &ev[n++]);
			au->stats.page_reqs++;
		} else {
			decode_event(au, w0, w1, &ev[n++]);
			au->stats.events++;
		}
		head = (head + 16) % bytes;
	}
	reg_write64(r, head_reg, head);
	return n;
}

static void overflow_event(struct amdvi_unit *au, struct uiommu_event *e, const char *what)
{
	memset(e, 0, sizeof(*e));
	e->type = UIOMMU_EV_OVERFLOW;
	e->unit_id = au->u->obj.id;
	e->segment = au->u->segment;
	e->pasid = UIOMMU_NO_PASID;
	e->reason_text = what;
	e->count = 0; /* the unit does not say how many */
	au->stats.overflows++;
}

uint16_t amdvi_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max)
{
	struct amdvi_unit *au = amdvi_of(u);
	const struct uiommu_regio *r;
	uint64_t sts;
	uint16_t n = 0;
	bool bad = false;

	if (!au || !au->evt.va || max == 0)
		return 0;
	r = amdvi_rio(au);
	sts = reg_read64(r, AMDVI_REG_STATUS);
	if (sts == UINT64_MAX)
		return 0; /* unreachable unit */
	n += drain(au, &au->evt, au->evt_bytes, AMDVI_REG_EVT_HEAD, AMDVI_REG_EVT_TAIL, false, ev,
		   max, &bad);
	/* Overflow, or a log the unit stopped by itself (EventLogRun clear
	 * without overflow: it could not write the log): reported once the
	 * log is empty, then restarted. */
	if (bad || ((sts & (AMDVI_STS_EVT_OVERFLOW | AMDVI_STS_EVT_RUN)) != AMDVI_STS_EVT_RUN &&
		    reg_read64(r, AMDVI_REG_EVT_HEAD) == reg_read64(r, AMDVI_REG_EVT_TAIL))) {
		if (n < max) {
			overflow_event(
				au, &ev[n++],
				bad ? "event log pointers invalid"
				: (sts & AMDVI_STS_EVT_OVERFLOW)
					? "EventOverflow: events lost"
					: "event log stopped (EventLogRun clear): events lost");
			(void)evt_restart(au);
		}
	}
	if (au->ppr && n < max) {
		bad = false;
		n += drain(au, &au->pprl, au->ppr_bytes, AMDVI_REG_PPR_HEAD, AMDVI_REG_PPR_TAIL,
			   true, ev + n, (uint16_t)(max - n), &bad);
		if (bad ||
		    ((sts & AMDVI_STS_PPR_OVERFLOW) &&
		     reg_read64(r, AMDVI_REG_PPR_HEAD) == reg_read64(r, AMDVI_REG_PPR_TAIL))) {
			if (n < max) {
				overflow_event(au, &ev[n++],
					       bad ? "PPR log pointers invalid"
						   : "PPROverflow: page requests lost");
				(void)ppr_restart(au);
			}
		}
	}
	return n;
}
