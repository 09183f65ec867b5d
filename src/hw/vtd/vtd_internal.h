/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intel VT-d driver: private state shared by the driver's files.
 *
 *   vtd_drv.c    probe/init/fini/adopt, capabilities, ops table
 *   vtd_peek.c   identification registers read-only (peek), their decoding
 *   vtd_ctx.c    root/context tables, PASID directories/tables, attach
 *   vtd_qi.c     invalidation: queued (descriptors + wait) and registers
 *   vtd_fault.c  fault recording registers, page request queue, events
 *
 * All of struct vtd_unit / vtd_dev / vtd_tag lives in the arena (shared
 * state) and holds nothing process-local: the register window is the
 * core's (unit_regs(), mapped by unit_regs_map in every process; MMIO or
 * the built-in model, the driver cannot tell).  Every function here runs
 * under the context lock (see core/family.h): no lock of its own.
 */
#ifndef UIOMMU_VTD_INTERNAL_H
#define UIOMMU_VTD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bitfield.h"
#include "core/cachemaint.h"
#include "core/core.h"
#include "env/env.h"
#include "core/list.h"
#include "core/regs.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "hw/vtd/vtd_regs_extra.h"

#define VTD_LOG(lvl, fmt, ...) UENV_LOG(VTD, lvl, fmt, ##__VA_ARGS__)

/* Defaults (tunable per unit, for tests). */
#define VTD_WAIT_TIMEOUT_NS (1000ull * 1000 * 1000) /* QI wait / register poll */
#define VTD_PSI_MAX_CHUNKS 16u  /* more page-selective chunks: domain flush */
#define VTD_IQ_ORDER 0u         /* IQA.QS: 2^QS 4 KiB pages */
#define VTD_PRQ_ORDER 0u        /* PQA.PQS: 2^PQS 4 KiB pages */
#define VTD_INV_BATCH 32u       /* descriptors gathered before a submit */

/* Kind of translation behind a tag (what a flush of its DID must emit). */
enum vtd_tag_kind {
	VTD_TAG_SL = 1,  /* second-level (legacy context or PGTT=SL) */
	VTD_TAG_FL,      /* first-level (PGTT=FL): PASID-based IOTLB */
	VTD_TAG_NESTED,  /* PGTT=nested: flush with IOTLB by DID */
	VTD_TAG_PT,      /* pass-through: nothing cached but the entry */
};

struct vtd_dev;

/* One RID/PASID translation installed on the unit (Linux "cache tag"):
 * tells a flush of a DID which PASIDs and device-TLBs hold its entries. */
struct vtd_tag {
	struct list_node link;  /* vtd_unit.tags */
	struct vtd_dev *vd;
	uint32_t pasid;         /* hardware PASID; VTD_LEGACY_PASID in legacy mode */
	uint32_t did;
	uint32_t s2_did;        /* nested: the parent's DID; VTD_DID_NONE otherwise */
	enum vtd_tag_kind kind;
};
#define VTD_LEGACY_PASID UINT32_MAX
#define VTD_DID_NONE UINT32_MAX

/* Per-device state (uiommu_device.priv). */
struct vtd_dev {
	struct list_node link;  /* vtd_unit.devs */
	struct uiommu_device *dev;
	uint16_t rid;           /* bus << 8 | devfn */
	bool ats;               /* device-TLB to invalidate */
	bool pri;
	bool ctx_present;       /* our context entry is present */
	/* Scalable mode: PASID directory. */
	struct uenv_dma pdir;
	uint32_t pdir_entries;  /* 2^(PDTS+7) */
	uint32_t pasid_limit;   /* PASIDs < limit are usable */
	uint32_t nr_ptables;    /* PASID tables allocated */
	uint32_t nr_pasids;     /* PASID entries present */
};

/* A context table (legacy: one per bus; scalable: lower/upper half). */
struct vtd_ctx_tbl {
	void *va;
	uint64_t pa;
	uint32_t users;         /* devices with a present entry in it */
};

/* Counters, for tests and `uiommuctl`. */
struct vtd_stats {
	uint64_t qi_desc;       /* descriptors submitted (waits included) */
	uint64_t qi_waits;      /* wait descriptors */
	uint64_t reg_inv;       /* register-based invalidations */
	uint64_t cc_inv;        /* context-cache invalidations */
	uint64_t iotlb_psi;     /* page-selective IOTLB chunks */
	uint64_t iotlb_dsi;     /* domain-selective IOTLB */
	uint64_t iotlb_glob;
	uint64_t piotlb;        /* PASID-based IOTLB */
	uint64_t pc_inv;        /* PASID-cache */
	uint64_t devtlb;        /* device-TLB */
	uint64_t iqe;           /* invalidation queue errors recovered */
	uint64_t ite;           /* invalidation time-outs */
	uint64_t timeouts;      /* our own wait time-outs (queue reset) */
	uint64_t faults;        /* fault records read */
	uint64_t overflows;     /* PFO / PRO seen */
	uint64_t page_reqs;
	uint64_t clflush_lines;
};

struct vtd_unit {
	struct uiommu_unit *u;
	uint32_t ver;
	uint64_t cap;
	uint64_t ecap;
	bool sm;                /* scalable mode in use */
	bool qi;                /* queued invalidation in use */
	bool coherent;          /* root/context/PASID/paging walks snoop */
	bool prq;               /* page request queue in use */
	bool te_deferred;       /* UIOMMU_UNIT_F_DEFER_ENABLE: TE waits for unit_enable */
	bool force;
	uint32_t fro;           /* byte offset of fault recording registers */
	uint32_t nfr;           /* number of fault recording registers */
	uint32_t iro;           /* byte offset of IVA (IOTLB register = iro + 8) */
	uint32_t mgaw;          /* CAP.MGAW + 1 */
	uint32_t sagaw;
	uint32_t next_fr;       /* record after the last one read (poll starts at FSTS.FRI) */

	/* Root table and context tables. */
	void *root;
	uint64_t root_pa;
	struct vtd_ctx_tbl ctx[256][2];

	/* Invalidation queue. */
	struct uenv_dma iq;
	uint32_t iq_entries;
	uint32_t iq_shift;      /* log2(descriptor size): 4 or 5 */
	uint32_t iq_tail;       /* next free slot */
	void *status_page;      /* wait status words */
	uint64_t status_pa;
	uint32_t wait_seq;
	/* Hot-path constants (vtd_qi_init), see vtd_qi_iotlb_psi_sync. */
	uint32_t iq_mask; /* iq_entries - 1 (a power of two) */
	int32_t psi_am;	  /* largest PSI address mask (CAP.MAMV); -1: no PSI */
	uint64_t wait_q0; /* wait descriptor word 0 without SDATA */
	uint64_t wait_q1; /* wait descriptor word 1 (status word address) */
	uint64_t psi_q0;  /* page-selective IOTLB word 0 without DID */

	/* Flush fast path (vtd_ctx.c): a DID whose tags need nothing but IOTLB
	 * invalidation (no first-level or nested tag, no device-TLB to flush);
	 * back to VTD_DID_NONE whenever a tag changes.  QI units only. */
	uint32_t plain_did;
	uint64_t plain_q0; /* psi_q0 with plain_did in it */

	/* Page request queue. */
	struct uenv_dma prqm;
	uint32_t prq_entries;

	struct list_head devs;  /* struct vtd_dev */
	struct list_head tags;  /* struct vtd_tag */

	/* Register values found at take-over, restored by unit_fini. */
	struct {
		uint32_t gsts;
		uint32_t fectl;
		uint32_t pectl;
		uint64_t rtaddr;
		uint64_t iqa;
		uint64_t pqa;
	} saved;

	/* Tunables. */
	uint64_t timeout_ns;
	uint32_t psi_max_chunks;

	struct vtd_stats stats;
};

static inline struct vtd_unit *vtd_of(const struct uiommu_unit *u)
{
	return (struct vtd_unit *)u->priv;
}

static inline const struct uiommu_regio *vtd_rio(const struct vtd_unit *vu)
{
	return unit_regs(vu->u);
}

/* The register window the driver uses: the first page, and the fault
 * recording and IOTLB registers (CAP.FRO / ECAP.IRO may put them beyond). */
static inline uint64_t vtd_reg_window(const struct vtd_unit *vu)
{
	uint64_t need = vu->fro + (uint64_t)vu->nfr * VTD_FRCD_STRIDE;

	if (vu->iro + 16u > need)
		need = vu->iro + 16u;
	return need > VTD_REG_SIZE ? need : VTD_REG_SIZE;
}

/* ---- vtd_drv.c ---- */
int vtd_gcmd(struct vtd_unit *vu, uint32_t bit, bool set, bool oneshot);
void vtd_clflush(struct vtd_unit *vu, const void *va, size_t len);
/* -EBUSY when someone else translates (GSTS.TES/QIES/IRES) unless @force;
 * with @force, translation and QI are turned off. */
int vtd_takeover_check(struct vtd_unit *vu, bool force);

/* ---- vtd_peek.c ---- */
int vtd_peek(const struct uiommu_regio *r, struct uiommu_unit_peek *out);
void vtd_decode_regs(const struct uiommu_hw_info *info, const uint64_t *status, uiommu_reg_cb cb,
		     void *arg);

/* ---- vtd_qi.c ---- */
/* A batch of invalidations: gathered, then submitted with one wait. */
struct vtd_inv {
	struct vtd_unit *vu;
	uint32_t n;
	int err;
	struct vtd_qi_desc d[VTD_INV_BATCH];
};

void vtd_desc_cc(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint16_t sid, unsigned int fm);
void vtd_desc_iotlb(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint64_t addr,
		    unsigned int am, bool ih, bool dr, bool dw);
void vtd_desc_piotlb(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am, bool ih);
void vtd_desc_pc(struct vtd_qi_desc *d, unsigned int g, uint32_t did, uint32_t pasid);
void vtd_desc_devtlb(struct vtd_qi_desc *d, uint16_t sid, uint16_t pfsid, unsigned int qdep,
		     uint64_t addr, unsigned int order);
void vtd_desc_pdevtlb(struct vtd_qi_desc *d, uint16_t sid, uint16_t pfsid, uint32_t pasid,
		      unsigned int qdep, uint64_t addr, unsigned int order);
void vtd_desc_wait(struct vtd_qi_desc *d, uint64_t status_pa, uint32_t data);
void vtd_desc_pgrp_resp(struct vtd_qi_desc *d, uint16_t rid, bool pasid_present, uint32_t pasid,
			uint32_t grpid, unsigned int code, bool lpig);
/* Split [iova, iova+size) into aligned power-of-two page chunks of at most
 * 2^max_am pages; calls fn for each (when fn != NULL); returns the count. */
unsigned int vtd_psi_chunks(uint64_t iova, uint64_t size, unsigned int max_am,
			    void (*fn)(void *arg, uint64_t addr, unsigned int am), void *arg);

int vtd_qi_init(struct vtd_unit *vu);
void vtd_qi_fini(struct vtd_unit *vu);
int vtd_qi_enable(struct vtd_unit *vu);
void vtd_qi_disable(struct vtd_unit *vu);
/* Submit descriptors followed by one wait; returns 0, -EIO (IQE recovered),
 * -ETIMEDOUT (queue reset). */
int vtd_qi_submit_sync(struct vtd_unit *vu, const struct vtd_qi_desc *d, uint32_t n);
/* The rest of a wait for @seq once a first look at the status word found
 * nothing: VTD_QI_FAST_POLLS more looks, then a bounded poll that also
 * watches FSTS and recovers from IQE (-EIO), ITE and time-out (-ETIMEDOUT,
 * queue reset). */
int vtd_qi_wait_slow(struct vtd_unit *vu, uint32_t seq);

/* Status words in the status page (4-byte aligned, VT-d 6.5.2.8). */
#define VTD_STATUS_WAIT	   0  /* the batch's wait descriptor */
#define VTD_STATUS_SCRATCH 64 /* no-op waits that replaced a bad descriptor */
/* Polls of the status word before the clock and FSTS are looked at. */
#define VTD_QI_FAST_POLLS 64u

/* Hot path of queued invalidation, inline so that a strict unmap's flush is
 * a few dozen instructions: descriptor words from per-unit templates, the
 * slot index masked, the status word polled without the clock first. */
static inline volatile uint32_t *vtd_qi_status(const struct vtd_unit *vu)
{
	return (volatile uint32_t *)((uint8_t *)vu->status_page + VTD_STATUS_WAIT);
}

/* Next wait sequence number; the status word is set to its complement
 * ("not written yet") before the wait is queued. */
static inline uint32_t vtd_qi_next_seq(struct vtd_unit *vu)
{
	uint32_t seq = ++vu->wait_seq;

	*vtd_qi_status(vu) = ~seq;
	return seq;
}

/* Write a descriptor given by its two low words into @slot (upper words of
 * a 256-bit descriptor zero). */
static inline void vtd_qi_put(struct vtd_unit *vu, uint32_t slot, uint64_t q0, uint64_t q1)
{
	uint64_t *dst = (uint64_t *)((uint8_t *)vu->iq.va + ((size_t)slot << vu->iq_shift));

	/* Queue fetches are always snooped: no write-back needed. */
	dst[0] = q0;
	dst[1] = q1;
	if (vu->iq_shift == 5) {
		dst[2] = 0;
		dst[3] = 0;
	}
}

/* Append the wait for @seq at @tail, ring the doorbell (IQT) for @ndesc
 * descriptors (the wait included) and wait for the status write. */
static inline int vtd_qi_wait_kick(struct vtd_unit *vu, uint32_t tail, uint32_t ndesc, uint32_t seq)
{
	vtd_qi_put(vu, tail, vu->wait_q0 | FIELD_PREP(VTD_QI_WAIT_SDATA, seq), vu->wait_q1);
	tail = (tail + 1) & vu->iq_mask;
	vu->iq_tail = tail;
	vu->stats.qi_desc += ndesc;
	vu->stats.qi_waits++;
	reg_write64(vtd_rio(vu), VTD_REG_IQT, (uint64_t)tail << vu->iq_shift);
	if (__builtin_expect(__atomic_load_n(vtd_qi_status(vu), __ATOMIC_ACQUIRE) == seq, 1))
		return 0;
	return vtd_qi_wait_slow(vu, seq);
}

/* One page-selective IOTLB invalidation (word 0 @q0: psi_q0 with the DID;
 * 2^@am pages at @addr, invalidation hint @ih) followed by one wait. */
static inline int vtd_qi_psi_q0_sync(struct vtd_unit *vu, uint64_t q0, uint64_t addr,
				     unsigned int am, bool ih)
{
	uint32_t tail = vu->iq_tail, seq = vtd_qi_next_seq(vu);

	vtd_qi_put(vu, tail, q0,
		   (addr & VTD_QI_IOTLB_ADDR) | FIELD_PREP(VTD_QI_IOTLB_AM, am) |
			   (ih ? VTD_QI_IOTLB_IH : 0));
	vu->stats.iotlb_psi++;
	return vtd_qi_wait_kick(vu, (tail + 1) & vu->iq_mask, 2, seq);
}

/* One page-selective IOTLB invalidation (2^@am pages at @addr, domain
 * @did, invalidation hint @ih) followed by one wait: what a strict unmap of
 * a small range costs the hardware.  QI only (vu->qi).  Same descriptors,
 * counters and error handling as vtd_inv_iotlb + vtd_inv_sync. */
static inline int vtd_qi_iotlb_psi_sync(struct vtd_unit *vu, uint32_t did, uint64_t addr,
					unsigned int am, bool ih)
{
	return vtd_qi_psi_q0_sync(vu, vu->psi_q0 | FIELD_PREP(VTD_QI_IOTLB_DID, did), addr, am, ih);
}

/* Is [iova, iova + size) one page-selective chunk, i.e. what vtd_inv_iotlb
 * emits as a single PSI descriptor?  Then *addr and *am describe it. */
static inline bool vtd_psi_single(const struct vtd_unit *vu, uint64_t iova, uint64_t size,
				  uint64_t *addr, unsigned int *am)
{
	uint64_t pfn, end, np;

	if (vu->psi_am < 0 || vu->psi_max_chunks == 0)
		return false;
	if (__builtin_expect(size == 4096 && !(iova & 0xfff), 1)) {
		*addr = iova;
		*am = 0;
		return true;
	}
	pfn = iova >> 12;
	end = (iova + size + 0xfff) >> 12; /* what vtd_psi_chunks covers */
	np = end - pfn;
	if (size == 0 || end <= pfn || (np & (np - 1)) || (pfn & (np - 1)) ||
	    __builtin_ctzll(np) > vu->psi_am)
		return false;
	*addr = pfn << 12;
	*am = (unsigned int)__builtin_ctzll(np);
	return true;
}

void vtd_inv_init(struct vtd_inv *b, struct vtd_unit *vu);
void vtd_inv_add(struct vtd_inv *b, const struct vtd_qi_desc *d);
int vtd_inv_sync(struct vtd_inv *b);
/* Helpers building and adding the right commands for QI or registers. */
void vtd_inv_cc_global(struct vtd_inv *b);
void vtd_inv_cc_dev(struct vtd_inv *b, uint32_t did, uint16_t sid);
void vtd_inv_pc_global(struct vtd_inv *b);
void vtd_inv_pc(struct vtd_inv *b, uint32_t did, uint32_t pasid);
void vtd_inv_iotlb_global(struct vtd_inv *b);
void vtd_inv_iotlb(struct vtd_inv *b, uint32_t did, uint64_t iova, uint64_t size, bool ih);
void vtd_inv_piotlb(struct vtd_inv *b, uint32_t did, uint32_t pasid, uint64_t iova,
		    uint64_t size, bool ih);
void vtd_inv_devtlb(struct vtd_inv *b, const struct vtd_dev *vd, uint32_t pasid, uint64_t iova,
		    uint64_t size);
void vtd_write_buffer_flush(struct vtd_unit *vu);

/* ---- vtd_ctx.c ---- */
int vtd_ctx_init(struct vtd_unit *vu);
void vtd_ctx_fini(struct vtd_unit *vu);
int vtd_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev);
int vtd_dev_release(struct uiommu_unit *u, struct uiommu_device *dev);
int vtd_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		const struct fam_attach *a);
int vtd_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n);
int vtd_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1);
int vtd_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			 const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done);
struct vtd_dev *vtd_dev_by_rid(struct vtd_unit *vu, uint16_t rid);

/* ---- vtd_fault.c ---- */
int vtd_fault_init(struct vtd_unit *vu);
void vtd_fault_fini(struct vtd_unit *vu);
int vtd_prq_init(struct vtd_unit *vu);
void vtd_prq_fini(struct vtd_unit *vu);
uint16_t vtd_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max);
int vtd_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		      uint32_t grpid, enum uiommu_page_resp code);

#endif
