/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi command buffer (AMD IOMMU 2.4, 3.4.x).
 *
 * Commands are built by pure functions, gathered in a batch and
 * submitted with one COMPLETION_WAIT that stores a sequence number to
 * memory; the driver polls that word (no interrupt), bounded in time.
 * Every batch starts on an empty buffer (the previous one was waited
 * for), so it only has to fit the buffer, not chase the head.
 *
 * When the buffer stops (Status.CmdBufRun clear: an ILLEGAL_COMMAND or a
 * hardware error, the head left on the bad command) or a wait times out,
 * the buffer is restarted empty and everything the unit caches is
 * invalidated (INVALIDATE_IOMMU_ALL, or every DTE and DomainID one by
 * one): the commands after the bad one were never run, and a global
 * invalidation is what they could have been at most.  The batch then
 * fails (-EIO / -ETIMEDOUT) and the core's event ring gets a
 * UIOMMU_EV_QUEUE_ERROR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

/* ------------------------------------------------------------ builders */

void amdvi_cmd_completion_wait(struct amdvi_cmd *c, uint64_t addr, uint64_t data)
{
	c->w[0] = amdvi_cw_w0(addr);
	c->w[1] = data;
}

void amdvi_cmd_inv_dte(struct amdvi_cmd *c, uint16_t devid)
{
	c->w[0] = FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_DEVTAB_ENTRY) |
		  FIELD_PREP(AMDVI_CMD_DEVID, devid);
	c->w[1] = 0;
}

/* The address field of a range invalidation (2.4.3): S = 0 one page
 * (amdvi_inv_range, inline); S = 1 a naturally aligned block of 2^(k+1)
 * pages whose address has bits 12..12+k-1 set and bit 12+k clear. */
uint64_t amdvi_inv_range_block(uint64_t iova, uint64_t size)
{
	uint64_t last, start;
	unsigned int msb;

	if (size == 0 || iova + size - 1 < iova)
		return AMDVI_INV_ALL_ADDR | AMDVI_INV_S;
	last = iova + size - 1;
	if ((iova >> 12) == (last >> 12))
		return iova & AMDVI_INV_ADDR; /* one page (when called directly) */
	/* Highest bit where first and last differ: the block is 2^(msb+1). */
	msb = 63u - (unsigned int)__builtin_clzll(iova ^ last);
	if (msb >= 63u - 1u || msb + 1u > 12u + 51u)
		return AMDVI_INV_ALL_ADDR | AMDVI_INV_S;
	start = iova & ~((2ull << msb) - 1);
	return ((start | ((1ull << msb) - 1)) & AMDVI_INV_ADDR) | AMDVI_INV_S;
}

void amdvi_cmd_inv_pages(struct amdvi_cmd *c, uint16_t domid, uint64_t iova, uint64_t size,
			 bool pde)
{
	c->w[0] = FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_IOMMU_PAGES) |
		  FIELD_PREP(AMDVI_INVP_DOMID, domid);
	c->w[1] = amdvi_inv_range(iova, size) | (pde ? AMDVI_INV_PDE : 0);
}

void amdvi_cmd_inv_iotlb(struct amdvi_cmd *c, uint16_t devid, uint64_t iova, uint64_t size)
{
	c->w[0] = FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_IOTLB_PAGES) |
		  FIELD_PREP(AMDVI_CMD_DEVID, devid) | FIELD_PREP(AMDVI_INVT_MAXPEND, 0xff);
	c->w[1] = amdvi_inv_range(iova, size);
}

void amdvi_cmd_inv_pages_pasid(struct amdvi_cmd *c, uint16_t domid, uint32_t pasid, uint64_t iova,
			       uint64_t size, bool pde)
{
	amdvi_cmd_inv_pages(c, domid, iova, size, pde);
	c->w[0] |= FIELD_PREP(AMDVI_INVP_PASID, pasid);
	c->w[1] |= AMDVI_INV_GN;
}

void amdvi_cmd_inv_iotlb_pasid(struct amdvi_cmd *c, uint16_t devid, uint32_t pasid, uint64_t iova,
			       uint64_t size)
{
	amdvi_cmd_inv_iotlb(c, devid, iova, size);
	c->w[0] |= FIELD_PREP(AMDVI_INVT_PASID_HI, (pasid >> 8) & 0xff) |
		   FIELD_PREP(AMDVI_INVT_PASID_LO, pasid & 0xff);
	c->w[1] |= AMDVI_INV_GN;
}

void amdvi_cmd_inv_all(struct amdvi_cmd *c)
{
	c->w[0] = FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_IOMMU_ALL);
	c->w[1] = 0;
}

void amdvi_cmd_complete_ppr(struct amdvi_cmd *c, uint16_t devid, uint32_t pasid, uint16_t tag,
			    unsigned int status)
{
	c->w[0] = FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_COMPLETE_PPR) |
		  FIELD_PREP(AMDVI_CMD_DEVID, devid);
	c->w[1] = FIELD_PREP(AMDVI_PPRC_TAG, tag & 0x1ff) | FIELD_PREP(AMDVI_PPRC_STATUS, status);
	if (pasid != UIOMMU_NO_PASID) {
		c->w[0] |= FIELD_PREP(AMDVI_PPRC_PASID, pasid);
		c->w[1] |= AMDVI_PPRC_GN;
	}
}

/* ------------------------------------------------------------ the buffer */

int amdvi_cmd_start(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t ctl = reg_read64(r, AMDVI_REG_CONTROL);

	reg_write64(r, AMDVI_REG_CMDBUF, au->cmd.iova | FIELD_PREP(AMDVI_BUF_LEN, AMDVI_CMD_LEN));
	reg_write64(r, AMDVI_REG_CMD_HEAD, 0);
	reg_write64(r, AMDVI_REG_CMD_TAIL, 0);
	au->cmd_tail = 0;
	reg_write64(r, AMDVI_REG_CONTROL, ctl | AMDVI_CTRL_CMD_BUF_EN);
	return reg_poll64(r, AMDVI_REG_STATUS, AMDVI_STS_CMD_RUN, AMDVI_STS_CMD_RUN, au->timeout_ns,
			  "Status.CmdBufRun");
}

void amdvi_cmd_stop(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);

	reg_write64(r, AMDVI_REG_CONTROL,
		    reg_read64(r, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_CMD_BUF_EN);
	(void)reg_poll64(r, AMDVI_REG_STATUS, AMDVI_STS_CMD_RUN, 0, au->timeout_ns,
			 "Status.CmdBufRun");
}

void amdvi_batch_init(struct amdvi_batch *b, struct amdvi_unit *au)
{
	b->au = au;
	b->n = 0;
	b->err = 0;
}

void amdvi_batch_add(struct amdvi_batch *b, const struct amdvi_cmd *c)
{
	if (b->n == AMDVI_BATCH) {
		int rc = amdvi_batch_sync(b);

		if (rc && !b->err)
			b->err = rc;
	}
	b->c[b->n++] = *c;
}

/* Tell the application what happened (the core's event ring). */
static void queue_error(struct amdvi_unit *au, uint32_t code, uint64_t head, uint64_t cmd0,
			const char *what)
{
	struct uiommu_event ev;
	char text[64];

	memset(&ev, 0, sizeof(ev));
	ev.type = UIOMMU_EV_QUEUE_ERROR;
	ev.unit_id = au->u->obj.id;
	ev.pasid = UIOMMU_NO_PASID;
	ev.addr = au->cmd.iova + head;
	ev.reason = code;
	snprintf(text, sizeof(text), "%s (opcode %u at head 0x%llx): recovered", what,
		 (unsigned int)FIELD_GET(AMDVI_CMD_OP, cmd0), (unsigned long long)head);
	ev.reason_text = text;
	unit_event_push(au->u, &ev);
}

static int submit(struct amdvi_unit *au, const struct amdvi_cmd *c, uint32_t n, bool recovering);

/* The buffer stopped or a wait timed out: restart it empty and
 * invalidate everything.  @rc is what the batch returns. */
static int recover(struct amdvi_unit *au, int rc)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t head = reg_read64(r, AMDVI_REG_CMD_HEAD) & AMDVI_PTR_OFF;
	uint64_t cmd0 = 0;
	struct amdvi_cmd chunk[AMDVI_BATCH];

	if (head < au->cmd_bytes)
		cmd0 = ((const uint64_t *)((const uint8_t *)au->cmd.va + head))[0];
	if (rc == -EIO) {
		au->stats.cmd_errors++;
		AMDVI_LOG(ERR,
			  "unit %u: command buffer stopped at 0x%llx (opcode %u): restarting it",
			  au->u->obj.id, (unsigned long long)head,
			  (unsigned int)FIELD_GET(AMDVI_CMD_OP, cmd0));
		queue_error(au, AMDVI_EV_ILLEGAL_COMMAND, head, cmd0, "command buffer stopped");
	} else {
		au->stats.timeouts++;
		AMDVI_LOG(ERR,
			  "unit %u: COMPLETION_WAIT timed out (head 0x%llx tail 0x%x): restarting",
			  au->u->obj.id, (unsigned long long)head, au->cmd_tail);
		queue_error(au, 0, head, cmd0, "command wait timed out");
	}
	amdvi_cmd_stop(au);
	if (amdvi_cmd_start(au)) {
		amdvi_unit_fail(au, rc);
		return rc;
	}
	/* The global invalidation, in batches of its own, without a second
	 * recovery; when it fails too, the unit's caches cannot be brought
	 * in line with memory: the unit fails (amdvi_unit_fail). */
	if (au->efr & AMDVI_EFR_IA_SUP) {
		amdvi_cmd_inv_all(&chunk[0]);
		au->stats.inv_all++;
		if (submit(au, chunk, 1, true))
			amdvi_unit_fail(au, rc);
		return rc;
	}
	for (uint32_t i = 0; i < 2 * AMDVI_NR_DEVIDS; i += AMDVI_BATCH) {
		for (uint32_t k = 0; k < AMDVI_BATCH; k++) {
			uint32_t id = i + k;

			if (id < AMDVI_NR_DEVIDS)
				amdvi_cmd_inv_dte(&chunk[k], (uint16_t)id);
			else
				amdvi_cmd_inv_pages(&chunk[k], (uint16_t)(id - AMDVI_NR_DEVIDS), 0,
						    0, true);
		}
		if (submit(au, chunk, AMDVI_BATCH, true)) {
			amdvi_unit_fail(au, rc);
			break;
		}
	}
	return rc;
}

/* Write @n commands + one COMPLETION_WAIT, ring the tail, wait. */
static int submit(struct amdvi_unit *au, const struct amdvi_cmd *c, uint32_t n, bool recovering)
{
	const uint32_t mask = AMDVI_CMD_BYTES - 1; /* cmd_bytes (state_check) */
	uint64_t seq = ++au->wait_seq;
	struct amdvi_cmd w;
	uint32_t t;

	if (au->failed)
		return -EIO; /* nothing it would do could be trusted */
	if (au->deferred)
		return 0; /* translation off: nothing cached; enable invalidates all */
	w.w[0] = au->cw_w0;
	w.w[1] = seq;
	/* In the buffer and on a slot (as amdvi_cmd_sync1). */
	t = au->cmd_tail & (mask & ~(AMDVI_CMD_SIZE - 1));
	for (uint32_t i = 0; i <= n; i++) {
		const struct amdvi_cmd *x = i < n ? &c[i] : &w;
		uint64_t *slot = (uint64_t *)((uint8_t *)au->cmd.va + t);

		/* Commands are fetched with snooping (coherent). */
		slot[0] = x->w[0];
		slot[1] = x->w[1];
		t = (t + AMDVI_CMD_SIZE) & mask;
	}
	au->cmd_tail = t;
	au->stats.cmds += n + 1;
	au->stats.waits++;
	return amdvi_cmd_ring(au, seq, recovering);
}

/* After the tail write and a first look (amdvi_cmd_ring): poll the store
 * of @seq, bounded in time, Status.CmdBufRun checked every 64 polls;
 * recovered.  Out of line: on the model the first look finds the store;
 * on hardware the time goes to waiting, not to this call. */
int amdvi_cmd_wait(struct amdvi_unit *au, uint64_t seq, bool recovering)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	volatile uint64_t *sem = au->sem.va;
	uint64_t t0 = 0;
	int rc = 0;

	for (uint32_t polls = 0;; polls++) {
		if (__atomic_load_n(sem, __ATOMIC_ACQUIRE) == seq)
			return 0;
		if ((polls & 63) != 63) {
			uenv_relax();
			continue;
		}
		if (!(reg_read64(r, AMDVI_REG_STATUS) & AMDVI_STS_CMD_RUN)) {
			if (__atomic_load_n(sem, __ATOMIC_ACQUIRE) == seq)
				return 0;
			rc = -EIO;
			break;
		}
		if (!t0)
			t0 = uenv_now_ns();
		else if (uenv_now_ns() - t0 > au->timeout_ns) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (recovering) {
		AMDVI_LOG(ERR, "unit %u: the recovery's own invalidation failed (%d)",
			  au->u->obj.id, rc);
		return rc;
	}
	return recover(au, rc);
}

int amdvi_batch_sync(struct amdvi_batch *b)
{
	/* One slot stays free (head == tail means empty) and one holds the wait. */
	static_assert(AMDVI_BATCH + 2 <= (1u << AMDVI_CMD_LEN), "a batch fits the buffer");
	uint32_t n = b->n;
	int rc;

	b->n = 0;
	if (!n && b->err)
		return b->err;
	rc = submit(b->au, b->c, n, false);
	if (!rc)
		rc = b->err;
	b->err = 0;
	return rc;
}

void amdvi_batch_inv_everything(struct amdvi_batch *b)
{
	struct amdvi_unit *au = b->au;
	struct amdvi_cmd c;

	if (au->efr & AMDVI_EFR_IA_SUP) {
		amdvi_cmd_inv_all(&c);
		amdvi_batch_add(b, &c);
		au->stats.inv_all++;
		return;
	}
	/* Without IASup: every DTE, then every DomainID (as Linux's
	 * amd_iommu_flush_all does). */
	for (uint32_t id = 0; id < au->nr_dte; id++) {
		amdvi_cmd_inv_dte(&c, (uint16_t)id);
		amdvi_batch_add(b, &c);
	}
	for (uint32_t id = 0; id < AMDVI_NR_DEVIDS; id++) {
		amdvi_cmd_inv_pages(&c, (uint16_t)id, 0, 0, true);
		amdvi_batch_add(b, &c);
	}
	au->stats.inv_dte += au->nr_dte;
	au->stats.inv_pages += AMDVI_NR_DEVIDS;
}
