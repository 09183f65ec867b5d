/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d model: memory access, the DMA engine, primary fault logging
 * (spec 7.2.1, FRCD/FSTS) and the page request queue (spec 7.5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/vtd/vtd_model_internal.h"

/* ------------------------------------------------------------ memory */

/*
 * CPU pointer for [pa, pa + len) (never crossing a 4 KiB page): arena
 * memory by its bus address; for DMA data (@dma) also any address when
 * IOVA == VA (tests hand ordinary buffers to the DMA engine).  NULL when
 * the model cannot reach it.
 */
static void *model_mem(uint64_t pa, size_t len, bool dma)
{
	void *va = uenv_iova_to_va(pa);

	(void)len;
	if (va)
		return va;
	if (dma && pa >= UENV_PAGE_SIZE && uenv_iova_is_va())
		return (void *)(uintptr_t)pa;
	return NULL;
}

void *vtdm_mem(uint64_t pa, size_t len)
{
	return model_mem(pa, len, false);
}

bool vtdm_read64(uint64_t pa, uint64_t *v)
{
	uint64_t *p = IS_ALIGNED_ULL(pa, 8) ? vtdm_mem(pa, 8) : NULL;

	if (!p)
		return false;
	*v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

bool vtdm_read_words(uint64_t pa, uint64_t *v, unsigned int n)
{
	uint64_t *p = IS_ALIGNED_ULL(pa, 8) ? vtdm_mem(pa, n * 8u) : NULL;

	if (!p)
		return false;
	for (unsigned int i = 0; i < n; i++)
		v[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
	return true;
}

/* ------------------------------------------------------------ faults */

static uint32_t frcd_off(unsigned int i)
{
	return VTDM_FRO_OFF + i * VTD_FRCD_STRIDE;
}

/* PPF = any record's F; FRI = the oldest pending record; FECTL.IP while
 * any fault condition is pending. */
void vtdm_fsts_update(struct vtd_model *m)
{
	uint32_t fsts = vtdm_r32(m, VTD_REG_FSTS) & ~(uint32_t)(VTD_FSTS_PPF | VTD_FSTS_FRI);
	unsigned int nfr = m->cfg.nfr;

	for (unsigned int k = 0; k < nfr; k++) {
		unsigned int i = (m->fr_next + k) % nfr;
		if (vtdm_r64(m, frcd_off(i) + 8) & VTD_FRCD_Q1_F) {
			fsts |= (uint32_t)(VTD_FSTS_PPF | FIELD_PREP(VTD_FSTS_FRI, i));
			break;
		}
	}
	vtdm_w32(m, VTD_REG_FSTS, fsts);
	uint32_t fectl = vtdm_r32(m, VTD_REG_FECTL) & ~(uint32_t)VTD_FECTL_IP;
	if (fsts & (VTD_FSTS_PPF | VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE))
		fectl |= (uint32_t)VTD_FECTL_IP;
	vtdm_w32(m, VTD_REG_FECTL, fectl);
}

void vtdm_fault_record(struct vtd_model *m, const struct vtdm_req *rq, unsigned int reason)
{
	uint32_t fsts = vtdm_r32(m, VTD_REG_FSTS);
	unsigned int i = m->fr_next;
	uint64_t hi;

	VTDM_LOG(DEBUG, "fault rid %04x pasid %x iova 0x%llx %s: 0x%02x %s", rq->rid, rq->pasid,
		 (unsigned long long)rq->iova, rq->write ? "write" : "read", reason,
		 vtd_fault_reason_text(reason));
	if (fsts & VTD_FSTS_PFO) { /* overflowed: nothing is logged until PFO is cleared */
		m->st.faults_dropped++;
		return;
	}
	if (vtdm_r64(m, frcd_off(i) + 8) & VTD_FRCD_Q1_F) {
		vtdm_w32(m, VTD_REG_FSTS, fsts | (uint32_t)VTD_FSTS_PFO);
		m->st.faults_dropped++;
		vtdm_fsts_update(m);
		return;
	}
	hi = VTD_FRCD_Q1_F | FIELD_PREP(VTD_FRCD_Q1_SID, rq->rid) |
	     FIELD_PREP(VTD_FRCD_Q1_FR, reason) | (rq->write ? 0 : VTD_FRCD_Q1_T1) |
	     (rq->priv ? VTD_FRCD_Q1_PRIV : 0) | (rq->exec ? VTD_FRCD_Q1_EXE : 0);
	if (rq->pasid != VTDM_NO_PASID)
		hi |= VTD_FRCD_Q1_PP | FIELD_PREP(VTD_FRCD_Q1_PV, rq->pasid);
	vtdm_w64(m, frcd_off(i), rq->iova & VTD_FRCD_Q0_FI);
	vtdm_w64(m, frcd_off(i) + 8, hi);
	m->fr_next = (uint16_t)((i + 1) % m->cfg.nfr);
	m->st.faults_logged++;
	vtdm_fsts_update(m);
}

/* ------------------------------------------------------------ DMA engine */

static int translate_one(struct vtd_model *m, const struct vtdm_req *rq, uint64_t *pa,
			 unsigned int *reason)
{
	struct vtdm_xlate x;

	if (vtdm_translate(m, rq, &x) == 0) {
		*pa = x.pa;
		return 0;
	}
	if (reason)
		*reason = x.reason;
	if (x.fpd)
		m->st.faults_suppressed++;
	else
		vtdm_fault_record(m, rq, x.reason);
	return -EFAULT;
}

int vtd_model_dma(struct vtd_model *m, uint16_t rid, uint32_t pasid, uint64_t iova, void *buf,
		  size_t len, bool is_write, uint32_t flags, unsigned int *reason)
{
	struct vtdm_req rq = {
		.rid = rid, .pasid = pasid, .write = is_write,
		.priv = (flags & VTD_DMA_PRIV) != 0, .exec = (flags & VTD_DMA_EXEC) != 0,
	};
	uint64_t small[16], *pas = small;
	size_t npages, off;
	int rc = 0;

	if (reason)
		*reason = 0;
	if (!len)
		return 0;
	if (iova + len - 1 < iova)
		return -EINVAL;
	npages = (size_t)((ALIGN_DOWN_ULL(iova + len - 1, 4096) - ALIGN_DOWN_ULL(iova, 4096)) >>
			  12) + 1;
	if (npages > ARRAY_SIZE(small)) {
		pas = malloc(npages * sizeof(*pas));
		if (!pas)
			return -ENOMEM;
	}
	uenv_lock(&m->lock);
	/* Translate every page first: a faulting DMA moves no byte. */
	for (size_t i = 0; i < npages; i++) {
		rq.iova = i ? ALIGN_DOWN_ULL(iova, 4096) + (i << 12) : iova;
		rc = translate_one(m, &rq, &pas[i], reason);
		if (rc)
			goto unlock;
		if (!model_mem(pas[i], 1, true)) {
			rc = -EIO;
			goto unlock;
		}
	}
	off = 0;
	for (size_t i = 0; i < npages; i++) {
		size_t n = 4096 - (size_t)(pas[i] & 4095);
		uint8_t *p = model_mem(pas[i], n, true);
		if (n > len - off)
			n = len - off;
		if (is_write)
			memcpy(p, (const uint8_t *)buf + off, n);
		else
			memcpy((uint8_t *)buf + off, p, n);
		off += n;
	}
	m->st.dma_ok++;
	m->st.dma_bytes += len;
unlock:
	uenv_unlock(&m->lock);
	if (pas != small)
		free(pas);
	return rc;
}

int vtd_model_translate(struct vtd_model *m, uint16_t rid, uint32_t pasid, uint64_t iova,
			bool is_write, uint32_t flags, uint64_t *pa, unsigned int *reason)
{
	struct vtdm_req rq = {
		.rid = rid, .pasid = pasid, .iova = iova, .write = is_write,
		.priv = (flags & VTD_DMA_PRIV) != 0, .exec = (flags & VTD_DMA_EXEC) != 0,
	};
	int rc;

	if (reason)
		*reason = 0;
	uenv_lock(&m->lock);
	rc = translate_one(m, &rq, pa, reason);
	uenv_unlock(&m->lock);
	return rc;
}

/* ------------------------------------------------------------ page requests */

static struct vtdm_prg *prg_find(struct vtd_model *m, uint16_t rid, uint16_t prgi)
{
	for (unsigned int i = 0; i < VTDM_PRG_MAX; i++)
		if (m->prg[i].state && m->prg[i].rid == rid && m->prg[i].prgi == prgi)
			return &m->prg[i];
	return NULL;
}

void vtdm_prg_respond(struct vtd_model *m, uint16_t rid, uint32_t pasid, bool pp, uint16_t prgi,
		      unsigned int rc)
{
	struct vtdm_prg *g = prg_find(m, rid, prgi);

	m->st.prq_responses++;
	if (!g || g->state != 1 || (pp && g->pasid != pasid)) {
		VTDM_LOG(DEBUG, "page group response for unknown group rid %04x prgi %u", rid, prgi);
		return;
	}
	g->state = 2;
	g->rc = (uint8_t)rc;
}

int vtd_model_page_request(struct vtd_model *m, const struct vtd_model_prq *req)
{
	struct vtdm_req rq = {
		.rid = req->rid, .pasid = req->pasid, .iova = req->addr, .write = req->write,
		.priv = req->priv, .exec = req->exec,
	};
	uint64_t ce[4], pqa, d[4];
	uint32_t n, head, tail;
	unsigned int reason;
	uint64_t *slot;
	int rc = 0;

	uenv_lock(&m->lock);
	if (!(vtdm_ecap(m) & VTD_ECAP_PRS) || !(vtdm_r32(m, VTD_REG_GSTS) & VTD_GSTS_TES)) {
		rc = -EOPNOTSUPP;
		goto unlock;
	}
	if (m->ttm != VTD_TTM_SCALABLE) {
		vtdm_fault_record(m, &rq, VTD_FR_SM_TTM_PRQ);
		rc = -EOPNOTSUPP;
		goto unlock;
	}
	reason = vtdm_sm_context(m, req->rid, ce);
	if (!reason && !(ce[0] & VTD_SMCE_Q0_PRE))
		reason = VTD_FR_SM_CTX_PRE;
	if (reason) {
		vtdm_fault_record(m, &rq, reason);
		rc = -EOPNOTSUPP;
		goto unlock;
	}
	pqa = vtdm_r64(m, VTD_REG_PQA);
	if (!(pqa & VTD_PQA_PQA)) {
		rc = -ENXIO;
		goto unlock;
	}
	n = vtd_pqa_entries(pqa);
	head = (uint32_t)FIELD_GET(VTD_PQH_PQH, vtdm_r64(m, VTD_REG_PQH)) % n;
	tail = (uint32_t)FIELD_GET(VTD_PQT_PQT, vtdm_r64(m, VTD_REG_PQT)) % n;
	if ((vtdm_r32(m, VTD_REG_PRS) & VTD_PRS_PRO) || (tail + 1) % n == head) {
		vtdm_w32(m, VTD_REG_PRS, vtdm_r32(m, VTD_REG_PRS) | (uint32_t)VTD_PRS_PRO);
		vtdm_w32(m, VTD_REG_PECTL, vtdm_r32(m, VTD_REG_PECTL) | (uint32_t)VTD_PECTL_IP);
		m->st.prq_dropped++;
		rc = -ENOSPC;
		goto unlock;
	}
	slot = model_mem((pqa & VTD_PQA_PQA) + (uint64_t)tail * 32u, 32, false);
	if (!slot) {
		rc = -ENXIO;
		goto unlock;
	}
	d[0] = FIELD_PREP(VTD_PRQ_Q0_RID, req->rid) | (req->priv ? VTD_PRQ_Q0_PM : 0) |
	       (req->exec ? VTD_PRQ_Q0_ER : 0) | (req->has_priv_data ? VTD_PRQ_Q0_PDP : 0);
	if (req->pasid != VTD_DMA_NO_PASID)
		d[0] |= VTD_PRQ_Q0_PP | FIELD_PREP(VTD_PRQ_Q0_PASID, req->pasid);
	d[1] = (req->read ? VTD_PRQ_Q1_RDR : 0) | (req->write ? VTD_PRQ_Q1_WRR : 0) |
	       (req->last ? VTD_PRQ_Q1_LPIG : 0) | FIELD_PREP(VTD_PRQ_Q1_PRGI, req->prgi) |
	       (req->addr & VTD_PRQ_Q1_ADDR);
	d[2] = req->has_priv_data ? req->priv_data[0] : 0;
	d[3] = req->has_priv_data ? req->priv_data[1] : 0;
	for (unsigned int i = 0; i < 4; i++)
		__atomic_store_n(&slot[i], d[i], __ATOMIC_RELEASE);
	vtdm_w64(m, VTD_REG_PQT, FIELD_PREP(VTD_PQT_PQT, (tail + 1) % n));
	vtdm_w32(m, VTD_REG_PRS, vtdm_r32(m, VTD_REG_PRS) | (uint32_t)VTD_PRS_PPR);
	vtdm_w32(m, VTD_REG_PECTL, vtdm_r32(m, VTD_REG_PECTL) | (uint32_t)VTD_PECTL_IP);
	m->st.prq_issued++;
	if (req->last && !prg_find(m, req->rid, req->prgi & 0x1ff)) {
		for (unsigned int i = 0; i < VTDM_PRG_MAX; i++) {
			if (!m->prg[i].state) {
				m->prg[i] = (struct vtdm_prg){ .state = 1, .rid = req->rid,
							       .prgi = req->prgi & 0x1ff,
							       .pasid = req->pasid };
				break;
			}
		}
	}
unlock:
	uenv_unlock(&m->lock);
	return rc;
}

int vtd_model_page_response(struct vtd_model *m, uint16_t rid, uint16_t prgi, unsigned int *rc)
{
	struct vtdm_prg *g;
	int ret;

	uenv_lock(&m->lock);
	g = prg_find(m, rid, prgi);
	if (!g) {
		ret = -ENOENT;
	} else if (g->state == 1) {
		ret = -EAGAIN;
	} else {
		if (rc)
			*rc = g->rc;
		g->state = 0;
		ret = 0;
	}
	uenv_unlock(&m->lock);
	return ret;
}
