/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d invalidation: queued invalidation (VT-d 6.5.2) and the register-based
 * fallback (VT-d 6.5.1, CCMD and IOTLB registers).
 *
 * Commands are built by pure functions (vtd_desc_*), gathered in a batch
 * (struct vtd_inv) and submitted with one invalidation wait descriptor
 * whose status write is polled with a bounded timeout.  Recovery:
 *  - FSTS.IQE: the descriptor at IQH is bad; it is replaced by a no-op wait
 *    (status write to a scratch word), IQE is cleared and the hardware
 *    resumes; the batch reports -EIO and a queue-error event is queued;
 *  - FSTS.ITE or no status write within the timeout: -ETIMEDOUT, the queue
 *    is disabled, reset to empty and re-enabled.
 * Without QI, context-cache and IOTLB descriptors are executed through the
 * CCMD/IOTLB registers (each poll bounded); PASID-granular commands need QI.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_internal.h"

#define STATUS_WAIT    VTD_STATUS_WAIT
#define STATUS_SCRATCH VTD_STATUS_SCRATCH

/* ------------------------------------------------------------------ */
/* Descriptor builders (pure). */

void vtd_desc_cc(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint16_t sid, unsigned int fm)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_CC) | FIELD_PREP(VTD_QI_CC_G, g) |
		  FIELD_PREP(VTD_QI_CC_DID, did) | FIELD_PREP(VTD_QI_CC_SID, sid) |
		  FIELD_PREP(VTD_QI_CC_FM, fm);
}

void vtd_desc_iotlb(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint64_t addr,
		    unsigned int am, bool ih, bool dr, bool dw)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_IOTLB) | FIELD_PREP(VTD_QI_IOTLB_G, g) |
		  FIELD_PREP(VTD_QI_IOTLB_DID, did) | (dr ? VTD_QI_IOTLB_DR : 0) |
		  (dw ? VTD_QI_IOTLB_DW : 0);
	if (g == VTD_IOTLB_G_PAGE)
		d->d[1] = (addr & VTD_QI_IOTLB_ADDR) | FIELD_PREP(VTD_QI_IOTLB_AM, am) |
			  (ih ? VTD_QI_IOTLB_IH : 0);
}

void vtd_desc_piotlb(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am, bool ih)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_PIOTLB) | FIELD_PREP(VTD_QI_PIOTLB_G, g) |
		  FIELD_PREP(VTD_QI_PIOTLB_DID, did) | FIELD_PREP(VTD_QI_PIOTLB_PASID, pasid);
	if (g == VTD_PIOTLB_G_PAGE)
		d->d[1] = (addr & VTD_QI_PIOTLB_ADDR) | FIELD_PREP(VTD_QI_PIOTLB_AM, am) |
			  (ih ? VTD_QI_PIOTLB_IH : 0);
}

void vtd_desc_pc(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint32_t pasid)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_PC) | FIELD_PREP(VTD_QI_PC_G, g) |
		  FIELD_PREP(VTD_QI_PC_DID, did) | FIELD_PREP(VTD_QI_PC_PASID, pasid);
}

/* Device-TLB address with the size encoding of VT-d 6.5.2.5: S=1 and the
 * low bits of the address all ones up to bit (12 + order - 2). */
static uint64_t devtlb_addr(uint64_t addr, unsigned int order, bool *s)
{
	addr &= ~0xfffull;
	*s = order > 0;
	if (order > 0) {
		if (order >= 52)
			return ~0ull >> 1 & ~0xfffull;
		addr &= ~((1ull << (12 + order)) - 1);
		addr |= ((1ull << (12 + order - 1)) - 1) & ~0xfffull;
	}
	return addr;
}

void vtd_desc_devtlb(struct vtd_qi_desc *d, uint16_t sid, uint16_t pfsid, unsigned int qdep,
		     uint64_t addr, unsigned int order)
{
	bool s;

	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_DEVTLB) |
		  FIELD_PREP(VTD_QI_DEVTLB_PFSID_LO, pfsid & 0xf) |
		  FIELD_PREP(VTD_QI_DEVTLB_MIP, qdep) | FIELD_PREP(VTD_QI_DEVTLB_SID, sid) |
		  FIELD_PREP(VTD_QI_DEVTLB_PFSID_HI, pfsid >> 4);
	d->d[1] = devtlb_addr(addr, order, &s) | (s ? VTD_QI_DEVTLB_S : 0);
}

void vtd_desc_pdevtlb(struct vtd_qi_desc *d, uint16_t sid, uint16_t pfsid, uint32_t pasid,
		      unsigned int qdep, uint64_t addr, unsigned int order)
{
	bool s;

	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_PDEVTLB) |
		  FIELD_PREP(VTD_QI_PDEVTLB_PFSID_LO, pfsid & 0xf) |
		  FIELD_PREP(VTD_QI_PDEVTLB_MIP, qdep) | FIELD_PREP(VTD_QI_PDEVTLB_SID, sid) |
		  FIELD_PREP(VTD_QI_PDEVTLB_PASID, pasid) |
		  FIELD_PREP(VTD_QI_PDEVTLB_PFSID_HI, pfsid >> 4);
	d->d[1] = devtlb_addr(addr, order, &s) | (s ? VTD_QI_PDEVTLB_S : 0);
}

void vtd_desc_wait(struct vtd_qi_desc *d, uint64_t status_pa, uint32_t data)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_WAIT) | VTD_QI_WAIT_SW |
		  FIELD_PREP(VTD_QI_WAIT_SDATA, data);
	d->d[1] = status_pa & VTD_QI_WAIT_SADDR;
}

void vtd_desc_pgrp_resp(struct vtd_qi_desc *d, uint16_t rid, bool pasid_present, uint32_t pasid,
			uint32_t grpid, unsigned int code, bool lpig)
{
	memset(d, 0, sizeof(*d));
	d->d[0] = vtd_qi_type_prep(VTD_QI_PGRP_RESP) |
		  (pasid_present ? VTD_QI_PGRP_PP : 0) |
		  FIELD_PREP(VTD_QI_PGRP_RC, code) | FIELD_PREP(VTD_QI_PGRP_RID, rid) |
		  FIELD_PREP(VTD_QI_PGRP_PASID, pasid);
	d->d[1] = (lpig ? VTD_QI_PGRP_LPIG : 0) | FIELD_PREP(VTD_QI_PGRP_PRGI, grpid);
}

unsigned int vtd_psi_chunks(uint64_t iova, uint64_t size, unsigned int max_am,
			    void (*fn)(void *arg, uint64_t addr, unsigned int am), void *arg)
{
	uint64_t pfn = iova >> 12;
	uint64_t end = (iova + size + 0xfff) >> 12; /* one past the last page */
	unsigned int n = 0;

	if (size == 0)
		return 0;
	if (end <= pfn) /* wrapped at the top of the address space */
		end = UINT64_MAX >> 12;
	while (pfn < end) {
		unsigned int am = pfn ? (unsigned int)__builtin_ctzll(pfn) : 63;
		unsigned int fit = 63 - (unsigned int)__builtin_clzll(end - pfn);

		if (am > fit)
			am = fit;
		if (am > max_am)
			am = max_am;
		if (fn)
			fn(arg, pfn << 12, am);
		pfn += 1ull << am;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Queued invalidation. */

static volatile uint32_t *status_word(struct vtd_unit *vu, unsigned int off)
{
	return (volatile uint32_t *)((uint8_t *)vu->status_page + off);
}

/* Largest address mask for page-selective invalidation (CAP.MAMV), or -1
 * when the unit has none (CAP.PSI clear). */
static int psi_max_am(const struct vtd_unit *vu, bool pasid_based)
{
	if (pasid_based) /* PASID-based IOTLB: AM up to MAMV as well (6.5.2.4) */
		return (int)FIELD_GET(VTD_CAP_MAMV, vu->cap);
	if (!(vu->cap & VTD_CAP_PSI))
		return -1;
	return (int)FIELD_GET(VTD_CAP_MAMV, vu->cap);
}

/* Constants of the hot path (vtd_qi_iotlb_psi_sync): what vtd_desc_wait
 * and vtd_desc_iotlb(G_PAGE) put in the words that do not vary. */
static void qi_templates(struct vtd_unit *vu)
{
	struct vtd_qi_desc d;

	vu->iq_mask = vu->iq_entries - 1;
	vtd_desc_wait(&d, vu->status_pa + STATUS_WAIT, 0);
	vu->wait_q0 = d.d[0];
	vu->wait_q1 = d.d[1];
	vtd_desc_iotlb(&d, VTD_IOTLB_G_PAGE, 0, 0, 0, false, vu->cap & VTD_CAP_DRD,
		       vu->cap & VTD_CAP_DWD);
	vu->psi_q0 = d.d[0];
	vu->psi_am = psi_max_am(vu, false);
}

int vtd_qi_init(struct vtd_unit *vu)
{
	int rc;

	vu->iq_shift = vu->sm ? 5 : 4; /* 256-bit descriptors in scalable mode */
	rc = uenv_dma_alloc(4096u << VTD_IQ_ORDER, 4096, vu->u->numa_node, &vu->iq);
	if (rc)
		return rc;
	vu->status_page = uenv_page_alloc(vu->u->numa_node, &vu->status_pa);
	if (!vu->status_page) {
		uenv_dma_free(&vu->iq);
		memset(&vu->iq, 0, sizeof(vu->iq));
		return -ENOMEM;
	}
	vu->iq_entries = (4096u << VTD_IQ_ORDER) >> vu->iq_shift;
	vu->iq_tail = 0;
	qi_templates(vu);
	return 0;
}

void vtd_qi_fini(struct vtd_unit *vu)
{
	if (vu->status_page)
		uenv_page_free(vu->status_page);
	vu->status_page = NULL;
	if (vu->iq.va)
		uenv_dma_free(&vu->iq);
	memset(&vu->iq, 0, sizeof(vu->iq));
}

/* Program IQA with an empty queue and turn QI on (VT-d 6.5.2: IQT = 0
 * before QIE; IQH reads 0 once QI is disabled). */
int vtd_qi_enable(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint64_t iqa = (vu->iq.iova & VTD_IQA_IQA) | FIELD_PREP(VTD_IQA_QS, VTD_IQ_ORDER) |
		       (vu->iq_shift == 5 ? VTD_IQA_DW : 0);

	vu->iq_tail = 0;
	reg_write64(r, VTD_REG_IQT, 0);
	reg_write64(r, VTD_REG_IQA, iqa);
	return vtd_gcmd(vu, VTD_GCMD_QIE, true, false);
}

void vtd_qi_disable(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);

	/* Let the hardware drain what is queued (bounded), then stop it. */
	(void)reg_poll64(r, VTD_REG_IQH, VTD_IQH_QH, reg_read64(r, VTD_REG_IQT) & VTD_IQT_QT,
			 vu->timeout_ns, "IQH (to reach IQT)");
	(void)vtd_gcmd(vu, VTD_GCMD_QIE, false, false);
	vu->iq_tail = 0;
}

static void qi_write(struct vtd_unit *vu, uint32_t slot, const struct vtd_qi_desc *d)
{
	uint64_t *dst = (uint64_t *)((uint8_t *)vu->iq.va + ((size_t)slot << vu->iq_shift));

	/* Queue fetches are always snooped: no write-back needed. */
	dst[0] = d->d[0];
	dst[1] = d->d[1];
	if (vu->iq_shift == 5) {
		dst[2] = d->d[2];
		dst[3] = d->d[3];
	}
}

/* The queue is empty again (hardware idle); reset it. */
static void qi_reset(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint32_t fsts = reg_read32(r, VTD_REG_FSTS);

	VTD_LOG(WARNING, "unit %u: resetting the invalidation queue", vu->u->obj.id);
	(void)vtd_gcmd(vu, VTD_GCMD_QIE, false, false);
	reg_write32(r, VTD_REG_FSTS, fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
	if (vtd_qi_enable(vu))
		VTD_LOG(ERR, "unit %u: invalidation queue does not restart", vu->u->obj.id);
}

static void queue_error_event(struct vtd_unit *vu, uint32_t reason, const char *text)
{
	struct uiommu_event ev = {
		.type = UIOMMU_EV_QUEUE_ERROR,
		.unit_id = vu->u->obj.id,
		.segment = vu->u->segment,
		.reason = reason,
		.reason_text = text,
	};

	unit_event_push(vu->u, &ev); /* the core's ring: uiommu_poll hands it out */
}

/* IQE: replace the descriptor at IQH by a no-op wait and resume. */
static void qi_recover_iqe(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	/* IQH is read from the hardware: kept inside our queue (a unit that
	 * stopped answering reads as all-ones). */
	uint32_t head =
		(uint32_t)((reg_read64(r, VTD_REG_IQH) & VTD_IQH_QH) >> vu->iq_shift) & vu->iq_mask;
	uint64_t *bad = (uint64_t *)((uint8_t *)vu->iq.va + ((size_t)head << vu->iq_shift));
	struct vtd_qi_desc nop;

	VTD_LOG(ERR, "unit %u: invalidation queue error at slot %u: %016llx %016llx (IQERCD %llx)",
		vu->u->obj.id, head, (unsigned long long)bad[0], (unsigned long long)bad[1],
		(unsigned long long)reg_read64(r, VTD_REG_IQERCD));
	vtd_desc_wait(&nop, vu->status_pa + STATUS_SCRATCH, 0);
	qi_write(vu, head, &nop);
	vu->stats.iqe++;
	queue_error_event(vu, VTD_FSTS_IQE, "invalidation queue error (descriptor skipped)");
	reg_write32(r, VTD_REG_FSTS, VTD_FSTS_IQE);
}

int vtd_qi_submit_sync(struct vtd_unit *vu, const struct vtd_qi_desc *d, uint32_t n)
{
	uint32_t seq, tail = vu->iq_tail;

	if (n + 1 >= vu->iq_entries)
		return -EINVAL;
	seq = vtd_qi_next_seq(vu);
	for (uint32_t i = 0; i < n; i++) {
		qi_write(vu, tail, &d[i]);
		tail = (tail + 1) & vu->iq_mask;
	}
	return vtd_qi_wait_kick(vu, tail, n + 1, seq);
}

int vtd_qi_wait_slow(struct vtd_unit *vu, uint32_t seq)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	volatile uint32_t *st = status_word(vu, STATUS_WAIT);
	uint64_t deadline;
	unsigned int iqes = 0;
	int rc = 0;

	for (unsigned int i = 0; i < VTD_QI_FAST_POLLS; i++) {
		uenv_relax();
		if (__atomic_load_n(st, __ATOMIC_ACQUIRE) == seq)
			return 0;
	}
	deadline = uenv_now_ns() + vu->timeout_ns;
	while (__atomic_load_n(st, __ATOMIC_ACQUIRE) != seq) {
		uint32_t fsts = reg_read32(r, VTD_REG_FSTS);

		if (fsts & VTD_FSTS_IQE) {
			/* One per bad descriptor; more than a batch can hold is
			 * a unit that does not clear it (one that stopped
			 * answering reads as all-ones): bounded like the wait. */
			if (++iqes > vu->iq_entries) {
				VTD_LOG(ERR, "unit %u: IQE does not clear (FSTS %#x)",
					vu->u->obj.id, fsts);
				qi_reset(vu);
				return -EIO;
			}
			qi_recover_iqe(vu);
			rc = -EIO;
			continue;
		}
		if (fsts & VTD_FSTS_ITE) {
			VTD_LOG(ERR, "unit %u: device-TLB invalidation time-out (ITE)",
				vu->u->obj.id);
			vu->stats.ite++;
			queue_error_event(vu, VTD_FSTS_ITE, "device-TLB invalidation time-out");
			qi_reset(vu);
			return -ETIMEDOUT;
		}
		if (uenv_now_ns() > deadline) {
			VTD_LOG(ERR, "unit %u: invalidation wait timed out after %llu ns (IQH %llx IQT %llx)",
				vu->u->obj.id, (unsigned long long)vu->timeout_ns,
				(unsigned long long)reg_read64(r, VTD_REG_IQH),
				(unsigned long long)reg_read64(r, VTD_REG_IQT));
			vu->stats.timeouts++;
			queue_error_event(vu, 0, "invalidation wait time-out (queue reset)");
			qi_reset(vu);
			return -ETIMEDOUT;
		}
		uenv_relax();
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Register-based invalidation (no QI). */

static int reg_cc(struct vtd_unit *vu, const struct vtd_qi_desc *d)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint64_t v = VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, FIELD_GET(VTD_QI_CC_G, d->d[0])) |
		     FIELD_PREP(VTD_CCMD_FM, FIELD_GET(VTD_QI_CC_FM, d->d[0])) |
		     FIELD_PREP(VTD_CCMD_SID, FIELD_GET(VTD_QI_CC_SID, d->d[0])) |
		     FIELD_PREP(VTD_CCMD_DID, FIELD_GET(VTD_QI_CC_DID, d->d[0]));

	reg_write64(r, VTD_REG_CCMD, v);
	return reg_poll64(r, VTD_REG_CCMD, VTD_CCMD_ICC, 0, vu->timeout_ns, "CCMD (ICC to clear)");
}

static int reg_iotlb(struct vtd_unit *vu, const struct vtd_qi_desc *d)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	unsigned int g = (unsigned int)FIELD_GET(VTD_QI_IOTLB_G, d->d[0]);
	uint64_t v = VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, g) |
		     FIELD_PREP(VTD_IOTLB_DID, FIELD_GET(VTD_QI_IOTLB_DID, d->d[0])) |
		     ((d->d[0] & VTD_QI_IOTLB_DR) ? VTD_IOTLB_DR : 0) |
		     ((d->d[0] & VTD_QI_IOTLB_DW) ? VTD_IOTLB_DW : 0);

	if (g == VTD_IOTLB_G_PAGE)
		reg_write64(r, vu->iro + VTD_REG_IVA_OFF,
			    (d->d[1] & VTD_IVA_ADDR) |
				    FIELD_PREP(VTD_IVA_AM, FIELD_GET(VTD_QI_IOTLB_AM, d->d[1])) |
				    ((d->d[1] & VTD_QI_IOTLB_IH) ? VTD_IVA_IH : 0));
	reg_write64(r, vu->iro + VTD_REG_IOTLB_OFF, v);
	return reg_poll64(r, vu->iro + VTD_REG_IOTLB_OFF, VTD_IOTLB_IVT, 0, vu->timeout_ns,
			  "IOTLB_REG (IVT to clear)");
}

static int reg_exec(struct vtd_unit *vu, const struct vtd_qi_desc *d)
{
	vu->stats.reg_inv++;
	switch (vtd_qi_type(d->d[0])) {
	case VTD_QI_CC:
		return reg_cc(vu, d);
	case VTD_QI_IOTLB:
		return reg_iotlb(vu, d);
	default:
		/* PASID-granular and device-TLB commands exist only as descriptors. */
		VTD_LOG(ERR, "unit %u: descriptor type %llu needs queued invalidation",
			vu->u->obj.id, (unsigned long long)vtd_qi_type(d->d[0]));
		return -EOPNOTSUPP;
	}
}

void vtd_write_buffer_flush(struct vtd_unit *vu)
{
	if (vu->cap & VTD_CAP_RWBF)
		(void)vtd_gcmd(vu, VTD_GCMD_WBF, true, true);
}

/* ------------------------------------------------------------------ */
/* Batches. */

void vtd_inv_init(struct vtd_inv *b, struct vtd_unit *vu)
{
	b->vu = vu;
	b->n = 0;
	b->err = 0;
}

static void inv_submit(struct vtd_inv *b)
{
	int rc;

	if (b->n == 0)
		return;
	rc = vtd_qi_submit_sync(b->vu, b->d, b->n);
	if (rc && !b->err)
		b->err = rc;
	b->n = 0;
}

void vtd_inv_add(struct vtd_inv *b, const struct vtd_qi_desc *d)
{
	if (!b->vu->qi) {
		int rc = reg_exec(b->vu, d);

		if (rc && !b->err)
			b->err = rc;
		return;
	}
	if (b->n == VTD_INV_BATCH)
		inv_submit(b);
	b->d[b->n++] = *d;
}

int vtd_inv_sync(struct vtd_inv *b)
{
	if (b->vu->qi)
		inv_submit(b);
	else if (b->vu->cap & VTD_CAP_RWBF)
		vtd_write_buffer_flush(b->vu);
	return b->err;
}

void vtd_inv_cc_global(struct vtd_inv *b)
{
	struct vtd_qi_desc d;

	vtd_desc_cc(&d, VTD_CC_G_GLOBAL, 0, 0, 0);
	b->vu->stats.cc_inv++;
	vtd_inv_add(b, &d);
}

void vtd_inv_cc_dev(struct vtd_inv *b, uint32_t did, uint16_t sid)
{
	struct vtd_qi_desc d;

	vtd_desc_cc(&d, VTD_CC_G_DEVICE, did, sid, 0);
	b->vu->stats.cc_inv++;
	vtd_inv_add(b, &d);
}

void vtd_inv_pc_global(struct vtd_inv *b)
{
	struct vtd_qi_desc d;

	vtd_desc_pc(&d, VTD_PC_G_GLOBAL, 0, 0);
	b->vu->stats.pc_inv++;
	vtd_inv_add(b, &d);
}

void vtd_inv_pc(struct vtd_inv *b, uint32_t did, uint32_t pasid)
{
	struct vtd_qi_desc d;

	vtd_desc_pc(&d, VTD_PC_G_PASID, did, pasid);
	b->vu->stats.pc_inv++;
	vtd_inv_add(b, &d);
}

void vtd_inv_iotlb_global(struct vtd_inv *b)
{
	struct vtd_qi_desc d;
	bool dr = b->vu->cap & VTD_CAP_DRD, dw = b->vu->cap & VTD_CAP_DWD;

	vtd_desc_iotlb(&d, VTD_IOTLB_G_GLOBAL, 0, 0, 0, false, dr, dw);
	b->vu->stats.iotlb_glob++;
	vtd_inv_add(b, &d);
}

struct psi_arg {
	struct vtd_inv *b;
	uint32_t did;
	uint32_t pasid;
	bool ih;
	bool pasid_based;
};

static void psi_emit(void *arg, uint64_t addr, unsigned int am)
{
	struct psi_arg *a = arg;
	struct vtd_unit *vu = a->b->vu;
	struct vtd_qi_desc d;

	if (a->pasid_based) {
		vtd_desc_piotlb(&d, VTD_PIOTLB_G_PAGE, a->did, a->pasid, addr, am, a->ih);
		vu->stats.piotlb++;
	} else {
		vtd_desc_iotlb(&d, VTD_IOTLB_G_PAGE, a->did, addr, am, a->ih,
			       vu->cap & VTD_CAP_DRD, vu->cap & VTD_CAP_DWD);
		vu->stats.iotlb_psi++;
	}
	vtd_inv_add(a->b, &d);
}

void vtd_inv_iotlb(struct vtd_inv *b, uint32_t did, uint64_t iova, uint64_t size, bool ih)
{
	struct vtd_unit *vu = b->vu;
	int am = psi_max_am(vu, false);
	struct psi_arg a = { .b = b, .did = did, .ih = ih };
	struct vtd_qi_desc d;

	if (size && am >= 0 &&
	    vtd_psi_chunks(iova, size, (unsigned int)am, NULL, NULL) <= vu->psi_max_chunks) {
		vtd_psi_chunks(iova, size, (unsigned int)am, psi_emit, &a);
		return;
	}
	vtd_desc_iotlb(&d, VTD_IOTLB_G_DOMAIN, did, 0, 0, false, vu->cap & VTD_CAP_DRD,
		       vu->cap & VTD_CAP_DWD);
	vu->stats.iotlb_dsi++;
	vtd_inv_add(b, &d);
}

void vtd_inv_piotlb(struct vtd_inv *b, uint32_t did, uint32_t pasid, uint64_t iova,
		    uint64_t size, bool ih)
{
	struct vtd_unit *vu = b->vu;
	int am = psi_max_am(vu, true);
	struct psi_arg a = { .b = b, .did = did, .pasid = pasid, .ih = ih, .pasid_based = true };
	struct vtd_qi_desc d;

	if (size && am >= 0 &&
	    vtd_psi_chunks(iova, size, (unsigned int)am, NULL, NULL) <= vu->psi_max_chunks) {
		vtd_psi_chunks(iova, size, (unsigned int)am, psi_emit, &a);
		return;
	}
	vtd_desc_piotlb(&d, VTD_PIOTLB_G_PASID, did, pasid, 0, 0, false);
	vu->stats.piotlb++;
	vtd_inv_add(b, &d);
}

/* Smallest order (log2 pages) of an aligned block covering the range. */
static unsigned int cover_order(uint64_t iova, uint64_t size, uint64_t *base)
{
	uint64_t first = iova >> 12, last = (iova + size - 1) >> 12;
	unsigned int order = 0;

	while ((first >> order) != (last >> order) && order < 52)
		order++;
	*base = (first >> order) << (order + 12);
	return order;
}

void vtd_inv_devtlb(struct vtd_inv *b, const struct vtd_dev *vd, uint32_t pasid, uint64_t iova,
		    uint64_t size)
{
	struct vtd_qi_desc d;
	uint64_t base = 0;
	unsigned int order = 52;

	if (!vd->ats || !(b->vu->ecap & VTD_ECAP_DT))
		return;
	if (size)
		order = cover_order(iova, size, &base);
	if (pasid == VTD_LEGACY_PASID || pasid == 0)
		vtd_desc_devtlb(&d, vd->rid, vd->rid, 0, base, order);
	else
		vtd_desc_pdevtlb(&d, vd->rid, vd->rid, pasid, 0, base, order);
	b->vu->stats.devtlb++;
	vtd_inv_add(b, &d);
}
