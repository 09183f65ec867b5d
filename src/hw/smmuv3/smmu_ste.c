/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 stream table and context descriptors (IHI 0070 3.3, 5.2, 5.4):
 * linear or 2-level stream table (second-level tables allocated on a
 * device's first attach), a CD table per device for stage 1 (linear, or
 * 2-level with 4 KiB leaves for SubstreamIDs), and the attach logic.
 *
 * Update order of an entry the SMMU may cache: a valid STE that changes is
 * first made to abort (word 0 only), invalidated (CFGI_STE) and synced;
 * then words 1-7 are written, word 0 last, and CFGI_STE + CMD_SYNC follow.
 * A CD likewise (CFGI_CD).  Lines are written back before each command
 * when the SMMU does not snoop (IDR0.COHACC 0).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hw/smmuv3/smmu_internal.h"
#include "pgtable/pgt_hw.h"

/* ------------------------------------------------------------ builders */

void smmu_cd_build(const struct pgt_cfg *cfg, uint16_t asid, uint64_t *cd)
{
	uint64_t tcr = cfg->hw.arm_s1.tcr;

	memset(cd, 0, SMMU_CD_SIZE);
	cd[0] = FIELD_PREP(SMMU_CD0_T0SZ, FIELD_GET(ARM_TCR_T0SZ, tcr)) |
		FIELD_PREP(SMMU_CD0_TG0, FIELD_GET(ARM_TCR_TG0, tcr)) |
		FIELD_PREP(SMMU_CD0_IRGN0, FIELD_GET(ARM_TCR_IRGN0, tcr)) |
		FIELD_PREP(SMMU_CD0_ORGN0, FIELD_GET(ARM_TCR_ORGN0, tcr)) |
		FIELD_PREP(SMMU_CD0_SH0, FIELD_GET(ARM_TCR_SH0, tcr)) |
		FIELD_PREP(SMMU_CD0_IPS, FIELD_GET(ARM_TCR_IPS, tcr)) | SMMU_CD0_EPD1 | SMMU_CD0_V |
		SMMU_CD0_AA64 | SMMU_CD0_R | SMMU_CD0_A | SMMU_CD0_ASET |
		FIELD_PREP(SMMU_CD0_ASID, asid);
	cd[1] = cfg->root_pa & SMMU_CD1_TTB0;
	cd[3] = cfg->hw.arm_s1.mair;
}

static void ste_s2(const struct smmu_dev *sd, uint64_t *ste)
{
	ste[2] = FIELD_PREP(SMMU_STE2_S2VMID, sd->vmid) | FIELD_PREP(SMMU_STE2_VTCR, sd->vtcr) |
		 SMMU_STE2_S2AA64 | SMMU_STE2_S2PTW | SMMU_STE2_S2R;
	ste[3] = sd->s2ttb & SMMU_STE3_S2TTB;
}

void smmu_ste_build(const struct smmu_unit *su, const struct smmu_dev *sd, uint64_t *ste)
{
	unsigned int cfg;

	memset(ste, 0, SMMU_STE_SIZE);
	ste[1] = FIELD_PREP(SMMU_STE1_SHCFG, 1); /* shareability: incoming */
	switch (sd->rid) {
	case SMMU_RID_S2:
		ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S2);
		ste_s2(sd, ste);
		return;
	case SMMU_RID_NESTED:
		cfg = (unsigned int)FIELD_GET(SMMU_STE0_CONFIG, sd->vste[0]);
		if (!(sd->vste[0] & SMMU_STE0_V) || cfg == SMMU_STE_CFG_ABORT) {
			ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_ABORT);
			return;
		}
		ste_s2(sd, ste);
		if (cfg == SMMU_STE_CFG_BYPASS) { /* the guest bypasses: stage 2 only */
			ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S2);
			return;
		}
		ste[0] =
			(sd->vste[0] & (SMMU_STE0_S1FMT | SMMU_STE0_S1CTXPTR | SMMU_STE0_S1CDMAX)) |
			SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_NESTED);
		/* EATS is the host's (no ATS here): the guest's is not installed. */
		ste[1] |= sd->vste[1] & SMMU_VSTE1_ALLOWED & ~SMMU_STE1_EATS;
		return;
	default:
		break;
	}
	if (sd->rid == SMMU_RID_S1 || sd->nr_pasids) {
		unsigned int dss = sd->rid == SMMU_RID_S1	  ? SMMU_S1DSS_SSID0
				   : sd->rid == SMMU_RID_IDENTITY ? SMMU_S1DSS_BYPASS
								  : SMMU_S1DSS_TERMINATE;
		unsigned int rgn = su->coherent ? 1u /* WBRA */ : 0u;

		ste[0] =
			SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1) |
			FIELD_PREP(SMMU_STE0_S1FMT, su->ssid_bits && su->cd2l ? SMMU_S1FMT_4K_L2
									      : SMMU_S1FMT_LINEAR) |
			(sd->cdtab.iova & SMMU_STE0_S1CTXPTR) |
			FIELD_PREP(SMMU_STE0_S1CDMAX, su->ssid_bits);
		ste[1] |= FIELD_PREP(SMMU_STE1_S1DSS, dss) | FIELD_PREP(SMMU_STE1_S1CIR, rgn) |
			  FIELD_PREP(SMMU_STE1_S1COR, rgn) |
			  FIELD_PREP(SMMU_STE1_S1CSH, su->coherent ? SMMU_SH_ISH : SMMU_SH_OSH);
		return;
	}
	if (sd->rid == SMMU_RID_IDENTITY)
		ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_BYPASS);
	else
		ste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_ABORT);
}

/* ------------------------------------------------------------ stream table */

int smmu_strtab_init(struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);
	unsigned int sidsize = (unsigned int)FIELD_GET(SMMU_IDR1_SIDSIZE, su->idr[1]);
	bool two = FIELD_GET(SMMU_IDR0_ST_LEVEL, su->idr[0]) == 1 && sidsize > SMMU_SPLIT;
	size_t len;
	uint32_t cfg;
	int rc;

	if (two) {
		su->sid_bits = sidsize < SMMU_SID_BITS_MAX ? sidsize : SMMU_SID_BITS_MAX;
		su->nr_l1 = 1u << (su->sid_bits - SMMU_SPLIT);
		len = (size_t)su->nr_l1 * 8;
		su->l2 = uenv_zalloc(sizeof(*su->l2) * su->nr_l1);
		if (!su->l2)
			return -ENOMEM;
		cfg = (uint32_t)(FIELD_PREP(SMMU_STRTAB_CFG_FMT, 1) |
				 FIELD_PREP(SMMU_STRTAB_CFG_SPLIT, SMMU_SPLIT) |
				 FIELD_PREP(SMMU_STRTAB_CFG_LOG2SIZE, su->sid_bits));
	} else {
		su->sid_bits = sidsize < SMMU_LINEAR_SID_MAX ? sidsize : SMMU_LINEAR_SID_MAX;
		len = (size_t)SMMU_STE_SIZE << su->sid_bits;
		cfg = (uint32_t)FIELD_PREP(SMMU_STRTAB_CFG_LOG2SIZE, su->sid_bits);
	}
	/* Aligned to its size (STRTAB_BASE.ADDR, 6.3.23). */
	rc = uenv_dma_alloc(len, len > UENV_PAGE_SIZE ? len : UENV_PAGE_SIZE, su->u->numa_node,
			    &su->strtab);
	if (rc) {
		uenv_free(su->l2);
		su->l2 = NULL;
		return rc;
	}
	su->st_2lvl = two;
	/* Every STE starts invalid (V 0): nothing translates until attached. */
	smmu_wb(su, su->strtab.va, len);
	reg_write64(r, SMMU_STRTAB_BASE,
		    (su->strtab.iova & SMMU_STRTAB_BASE_ADDR) |
			    (su->coherent ? SMMU_STRTAB_BASE_RA : 0));
	reg_write32(r, SMMU_STRTAB_BASE_CFG, cfg);
	return 0;
}

void smmu_strtab_fini(struct smmu_unit *su)
{
	for (uint32_t i = 0; su->l2 && i < su->nr_l1; i++)
		if (su->l2[i].va)
			uenv_dma_free(&su->l2[i]);
	uenv_free(su->l2);
	su->l2 = NULL;
	if (su->strtab.va)
		uenv_dma_free(&su->strtab);
	memset(&su->strtab, 0, sizeof(su->strtab));
}

/* The STE slot of @sid; with @alloc the second-level table is made on
 * first use.  NULL: none (not @alloc) or -ENOMEM. */
static uint64_t *ste_slot(struct smmu_unit *su, uint32_t sid, bool alloc)
{
	if (!su->st_2lvl)
		return (uint64_t *)su->strtab.va + (size_t)sid * SMMU_STE_DWORDS;
	uint32_t i = sid >> SMMU_SPLIT;
	struct uenv_dma *l2 = &su->l2[i];

	if (!l2->va) {
		uint64_t *l1 = (uint64_t *)su->strtab.va + i;

		/* The SMMU takes L2Ptr[5 + Span - 1:0] as zero (IHI 0070 5.1):
		 * the table is aligned to its size, 16 KiB. */
		if (!alloc ||
		    uenv_dma_alloc(SMMU_L2_STRTAB_SIZE, SMMU_L2_STRTAB_SIZE, su->u->numa_node, l2))
			return NULL;
		smmu_wb(su, l2->va, l2->len);
		__atomic_store_n(l1,
				 (l2->iova & SMMU_L1STD_L2PTR) |
					 FIELD_PREP(SMMU_L1STD_SPAN, SMMU_SPLIT + 1),
				 __ATOMIC_RELEASE);
		smmu_wb(su, l1, 8);
		su->stats.l2_tables++;
	}
	return (uint64_t *)l2->va + (size_t)(sid & ((1u << SMMU_SPLIT) - 1)) * SMMU_STE_DWORDS;
}

/* A second-level stream table made for an attach that then failed goes
 * again when no STE in it is valid (its level-1 descriptor cleared and
 * invalidated first: the SMMU may have fetched it). */
static void ste_l2_undo(struct smmu_unit *su, uint32_t sid)
{
	uint32_t i = sid >> SMMU_SPLIT;
	struct uenv_dma *l2;
	struct smmu_batch b;

	if (!su->st_2lvl || !su->l2[i].va)
		return;
	l2 = &su->l2[i];
	for (uint32_t k = 0; k < (1u << SMMU_SPLIT); k++)
		if (((const uint64_t *)l2->va)[k * SMMU_STE_DWORDS] & SMMU_STE0_V)
			return;
	__atomic_store_n((uint64_t *)su->strtab.va + i, 0, __ATOMIC_RELEASE);
	smmu_wb(su, (uint64_t *)su->strtab.va + i, 8);
	smmu_batch_init(&b, su);
	smmu_cmd_cfgi_ste(&b, sid);
	if (smmu_batch_sync(&b))
		return; /* not confirmed: keep the table */
	uenv_dma_free(l2);
	memset(l2, 0, sizeof(*l2));
	su->stats.l2_tables--;
}

/* Write a 64-byte descriptor (STE or CD) over a live one: word 0 to
 * @brk first (an abort STE / an invalid CD), words 1-7, word 0 last. */
static void desc_store(struct smmu_unit *su, uint64_t *slot, const uint64_t *w, uint64_t brk)
{
	__atomic_store_n(&slot[0], brk, __ATOMIC_RELEASE);
	for (unsigned int i = 1; i < 8; i++)
		__atomic_store_n(&slot[i], w[i], __ATOMIC_RELAXED);
	__atomic_store_n(&slot[0], w[0], __ATOMIC_RELEASE);
	smmu_wb(su, slot, 64);
}

#define STE_ABORT (SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_ABORT))

/* Install @ste for @sd in the safe order (its slot exists: dev_set made
 * it before changing anything).  On failure (a sync not confirmed) the
 * slot is put back to what it held, so that memory never names a table
 * the caller was told is not in use (it may free it); the SMMU is asked
 * to drop what it cached, best effort. */
static int ste_write(struct smmu_unit *su, struct smmu_dev *sd, const uint64_t *ste)
{
	uint64_t *slot = ste_slot(su, sd->sid, false), old[SMMU_STE_DWORDS];
	struct smmu_batch b;
	bool cd_changed;
	int rc;

	if (!slot) /* never attached: nothing translates for it, nothing to block */
		return (ste[0] & SMMU_STE0_CONFIG) ? -ENOMEM : 0;
	if (!memcmp(slot, ste, SMMU_STE_SIZE))
		return 0;
	memcpy(old, slot, sizeof(old));
	cd_changed = (slot[0] & SMMU_STE0_S1CTXPTR) != (ste[0] & SMMU_STE0_S1CTXPTR);
	smmu_batch_init(&b, su);
	if (slot[0] & SMMU_STE0_V) {
		/* Break: abort while the other words change. */
		__atomic_store_n(&slot[0], STE_ABORT, __ATOMIC_RELEASE);
		smmu_wb(su, slot, 8);
		smmu_cmd_cfgi_ste(&b, sd->sid);
		rc = smmu_batch_sync(&b);
		if (rc)
			goto undo;
	}
	desc_store(su, slot, ste, slot[0]);
	smmu_cmd_cfgi_ste(&b, sd->sid);
	if (cd_changed)
		smmu_cmd_cfgi_cd_all(&b, sd->sid);
	rc = smmu_batch_sync(&b);
	if (rc)
		goto undo;
	sd->ste_live = ste[0] & SMMU_STE0_V;
	return 0;

undo:
	SMMU_LOG(ERR, "StreamID 0x%x: STE update not confirmed (%d): the previous STE is back",
		 sd->sid, rc);
	desc_store(su, slot, old, STE_ABORT);
	smmu_batch_init(&b, su);
	smmu_cmd_cfgi_ste(&b, sd->sid);
	(void)smmu_batch_sync(&b);
	return rc;
}

static int ste_update(struct smmu_unit *su, struct smmu_dev *sd)
{
	uint64_t ste[SMMU_STE_DWORDS];

	smmu_ste_build(su, sd, ste);
	return ste_write(su, sd, ste);
}

/* ------------------------------------------------------------ CD tables */

static int cd_table(struct smmu_unit *su, struct smmu_dev *sd)
{
	size_t len;

	if (sd->cdtab.va)
		return 0;
	if (su->ssid_bits && su->cd2l) {
		sd->cd_nr_l1 = 1u << (su->ssid_bits - SMMU_CD_LEAF_BITS);
		sd->cd_l2 = uenv_zalloc(sizeof(*sd->cd_l2) * sd->cd_nr_l1);
		if (!sd->cd_l2)
			return -ENOMEM;
		len = (size_t)sd->cd_nr_l1 * 8;
	} else {
		len = (size_t)SMMU_CD_SIZE << su->ssid_bits;
	}
	/* A linear CD table is aligned to its size, an L1 CD table to its
	 * size or 64 bytes (IHI 0070 5.2 S1Fmt): the SMMU takes the low bits
	 * of S1ContextPtr as zero. */
	if (uenv_dma_alloc(len, len > UENV_PAGE_SIZE ? len : UENV_PAGE_SIZE, su->u->numa_node,
			   &sd->cdtab)) {
		uenv_free(sd->cd_l2);
		sd->cd_l2 = NULL;
		return -ENOMEM;
	}
	smmu_wb(su, sd->cdtab.va, len);
	return 0;
}

static void cd_table_free(struct smmu_dev *sd)
{
	for (uint32_t i = 0; sd->cd_l2 && i < sd->cd_nr_l1; i++)
		if (sd->cd_l2[i].va)
			uenv_dma_free(&sd->cd_l2[i]);
	uenv_free(sd->cd_l2);
	sd->cd_l2 = NULL;
	if (sd->cdtab.va)
		uenv_dma_free(&sd->cdtab);
	memset(&sd->cdtab, 0, sizeof(sd->cdtab));
}

static uint64_t *cd_slot(struct smmu_unit *su, struct smmu_dev *sd, uint32_t ssid, bool alloc)
{
	if (!sd->cdtab.va)
		return NULL;
	if (!sd->cd_l2)
		return (uint64_t *)sd->cdtab.va + (size_t)ssid * SMMU_CD_DWORDS;
	uint32_t i = ssid >> SMMU_CD_LEAF_BITS;
	struct uenv_dma *l2 = &sd->cd_l2[i];

	if (!l2->va) {
		uint64_t *l1 = (uint64_t *)sd->cdtab.va + i;

		if (!alloc || uenv_dma_alloc(UENV_PAGE_SIZE, UENV_PAGE_SIZE, su->u->numa_node, l2))
			return NULL;
		smmu_wb(su, l2->va, l2->len);
		__atomic_store_n(l1, (l2->iova & SMMU_L1CD_L2PTR) | SMMU_L1CD_V, __ATOMIC_RELEASE);
		smmu_wb(su, l1, 8);
	}
	return (uint64_t *)l2->va +
	       (size_t)(ssid & ((1u << SMMU_CD_LEAF_BITS) - 1)) * SMMU_CD_DWORDS;
}

/* Write (@cd) or clear (NULL) the CD of @ssid, invalidate, sync. */
static int cd_write(struct smmu_unit *su, struct smmu_dev *sd, uint32_t ssid, const uint64_t *cd)
{
	uint64_t *slot = cd_slot(su, sd, ssid, cd != NULL), old[SMMU_CD_DWORDS];
	struct smmu_batch b;
	int rc;

	if (!slot)
		return cd ? -ENOMEM : 0;
	memcpy(old, slot, sizeof(old));
	smmu_batch_init(&b, su);
	if (slot[0] & SMMU_CD0_V) {
		__atomic_store_n(&slot[0], 0, __ATOMIC_RELEASE);
		smmu_wb(su, slot, 8);
		smmu_cmd_cfgi_cd(&b, sd->sid, ssid);
		rc = smmu_batch_sync(&b);
		if (rc && cd)
			goto undo;
		if (rc || !cd)
			return rc; /* a clear: the CD stays invalid (safe) */
	}
	if (!cd)
		return 0;
	desc_store(su, slot, cd, 0);
	smmu_cmd_cfgi_cd(&b, sd->sid, ssid);
	rc = smmu_batch_sync(&b);
	if (!rc)
		return 0;
undo: /* as ste_write: the CD names the table it named before */
	SMMU_LOG(ERR,
		 "StreamID 0x%x SSID %u: CD update not confirmed (%d): the previous CD is back",
		 sd->sid, ssid, rc);
	desc_store(su, slot, old, 0);
	smmu_batch_init(&b, su);
	smmu_cmd_cfgi_cd(&b, sd->sid, ssid);
	(void)smmu_batch_sync(&b);
	return rc;
}

/* ------------------------------------------------------------ devices */

int smmu_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_dev *sd;

	if (dev->desc.hw_id >> su->sid_bits) {
		SMMU_LOG(ERR, "unit %u: StreamID 0x%x beyond the stream table (%u bits)", u->obj.id,
			 dev->desc.hw_id, su->sid_bits);
		return -EINVAL;
	}
	if (dev->desc.stall && !su->stall) {
		SMMU_LOG(ERR,
			 "unit %u: StreamID 0x%x: a stalling device, but IDR0.STALL_MODEL is 1 "
			 "(terminate only)",
			 u->obj.id, dev->desc.hw_id);
		return -EOPNOTSUPP;
	}
	sd = uenv_zalloc(sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->stall = dev->desc.stall;
	sd->dev = dev;
	sd->sid = dev->desc.hw_id;
	dev->priv = sd;
	return 0;
}

int smmu_dev_release(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_dev *sd = dev->priv;
	int rc = 0;

	if (!sd)
		return 0;
	if (sd->ste_live) {
		sd->rid = SMMU_RID_BLOCKED;
		sd->nr_pasids = 0;
		rc = ste_update(su, sd);
		if (rc)
			SMMU_LOG(WARNING, "unit %u: StreamID 0x%x: abort STE not confirmed",
				 u->obj.id, sd->sid);
	}
	cd_table_free(sd);
	smmu_prg_forget(su, sd);
	dev->priv = NULL;
	uenv_free(sd);
	return rc;
}

static void mark_nested_vmid(struct smmu_unit *su, uint32_t vmid)
{
	if (su->nested_vmids && vmid < 65536)
		su->nested_vmids[vmid / 64] |= 1ull << (vmid % 64);
}

static int set_rid(struct smmu_unit *su, struct smmu_dev *sd, const struct fam_attach *a)
{
	struct smmu_dev nsd = *sd;
	uint64_t cd[SMMU_CD_DWORDS];
	int rc;

	switch (a->kind) {
	case FAM_ATTACH_BLOCKED:
		nsd.rid = SMMU_RID_BLOCKED;
		break;
	case FAM_ATTACH_IDENTITY:
		nsd.rid = SMMU_RID_IDENTITY;
		break;
	case FAM_ATTACH_PAGING:
		if (a->cfg->fmt == PGT_ARM_S1_4K) {
			bool fresh = !sd->cdtab.va;

			rc = cd_table(su, sd);
			if (rc)
				return rc;
			smmu_cd_build(a->cfg, (uint16_t)a->did, cd);
			if (sd->stall)
				cd[0] |= SMMU_CD0_S; /* faults stall (IHI 0070 5.4 CD.S) */
			rc = cd_write(su, sd, 0, cd);
			if (rc) {
				if (fresh) /* all or nothing: no table is left behind */
					cd_table_free(sd);
				return rc;
			}
			nsd = *sd;
			nsd.rid = SMMU_RID_S1;
			break;
		}
		if (a->cfg->fmt != PGT_ARM_S2_4K)
			return -EINVAL;
		if (sd->nr_pasids) {
			SMMU_LOG(ERR,
				 "StreamID 0x%x: SubstreamIDs in use need a stage-1 STE: the RID "
				 "cannot take a stage-2 table",
				 sd->sid);
			return -EINVAL;
		}
		nsd.rid = SMMU_RID_S2;
		nsd.vmid = (uint16_t)a->did;
		nsd.vtcr = a->cfg->hw.arm_s2.vtcr;
		nsd.s2ttb = a->cfg->root_pa;
		break;
	case FAM_ATTACH_NESTED:
		if (sd->nr_pasids) {
			SMMU_LOG(ERR, "StreamID 0x%x: SubstreamIDs in use: no nested RID", sd->sid);
			return -EINVAL;
		}
		nsd.rid = SMMU_RID_NESTED;
		nsd.vmid = (uint16_t)a->s2_did;
		nsd.vtcr = a->s2_cfg->hw.arm_s2.vtcr;
		nsd.s2ttb = a->s2_cfg->root_pa;
		nsd.vste[0] = a->s1->u.smmuv3.ste[0];
		nsd.vste[1] = a->s1->u.smmuv3.ste[1];
		mark_nested_vmid(su, nsd.vmid);
		break;
	default:
		return -EINVAL;
	}
	rc = ste_update(su, &nsd);
	if (rc) {
		/* All or nothing: the STE is what it was (ste_write); so is our
		 * record of it.  (A stage-1 attach's CD 0 now names the new
		 * table, and no STE reaches it unless the old one did.) */
		sd->ste_live = nsd.ste_live;
		return rc;
	}
	if (sd->rid == SMMU_RID_S1 && nsd.rid != SMMU_RID_S1 &&
	    cd_write(su, &nsd, 0, NULL)) /* CD 0 is no longer reachable: no harm if kept */
		SMMU_LOG(WARNING, "StreamID 0x%x: clearing CD 0 not confirmed", sd->sid);
	*sd = nsd;
	return 0;
}

static int set_pasid(struct smmu_unit *su, struct smmu_dev *sd, uint32_t pasid,
		     const struct fam_attach *a)
{
	uint64_t cd[SMMU_CD_DWORDS], *slot;
	bool had;
	int rc;

	if (!pasid || pasid >> su->ssid_bits || !su->ssid_bits)
		return -EINVAL;
	slot = cd_slot(su, sd, pasid, false);
	had = slot && (slot[0] & SMMU_CD0_V);
	if (a->kind == FAM_ATTACH_BLOCKED) {
		rc = cd_write(su, sd, pasid, NULL);
		if (rc || !had)
			return rc;
		sd->nr_pasids--;
		return ste_update(su, sd);
	}
	if (a->kind != FAM_ATTACH_PAGING)
		return -EOPNOTSUPP; /* PASIDs carry stage-1 tables only */
	if (a->cfg->fmt != PGT_ARM_S1_4K)
		return -EINVAL;
	if (sd->rid == SMMU_RID_S2 || sd->rid == SMMU_RID_NESTED) {
		SMMU_LOG(ERR,
			 "StreamID 0x%x: the RID uses a %s STE: SubstreamIDs need a stage-1 STE "
			 "(attach the RID to a stage-1 table, or detach it)",
			 sd->sid, sd->rid == SMMU_RID_S2 ? "stage-2" : "nested");
		return -EINVAL;
	}
	bool fresh = !sd->cdtab.va;
	rc = cd_table(su, sd);
	if (rc)
		return rc;
	smmu_cd_build(a->cfg, (uint16_t)a->did, cd);
	if (sd->stall)
		cd[0] |= SMMU_CD0_S;
	rc = cd_write(su, sd, pasid, cd);
	if (rc) {
		if (fresh && sd->rid != SMMU_RID_S1 && !sd->nr_pasids)
			cd_table_free(sd); /* all or nothing: no table is left behind */
		return rc;
	}
	if (!had)
		sd->nr_pasids++;
	rc = ste_update(su, sd);
	if (rc && !had) { /* all or nothing: the new PASID's CD goes again */
		sd->nr_pasids--;
		(void)cd_write(su, sd, pasid, NULL);
	}
	return rc;
}

int smmu_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		 const struct fam_attach *a)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_dev *sd = dev->priv;

	if (!sd)
		return -ENODEV;
	if (a->kind != FAM_ATTACH_BLOCKED && a->kind != FAM_ATTACH_IDENTITY &&
	    a->did > (su->asid16 ? 0xffffu : 0xffu))
		return -ENOSPC;
	/* Memory first (the second-level stream table on the first attach),
	 * so that nothing below fails for want of it half-way. */
	bool fresh = su->st_2lvl && !su->l2[sd->sid >> SMMU_SPLIT].va;
	int rc;

	if (a->kind != FAM_ATTACH_BLOCKED && !ste_slot(su, sd->sid, true))
		return -ENOMEM;
	if (pasid == UIOMMU_NO_PASID)
		rc = set_rid(su, sd, a);
	else
		rc = set_pasid(su, sd, pasid, a);
	if (rc && fresh)
		ste_l2_undo(su, sd->sid);
	return rc;
}

/* The STE words a guest may give (iommufd's vSTE rules for
 * IOMMU_HWPT_DATA_ARM_SMMUV3): only the stage-1 fields; Config abort,
 * bypass or stage 1; no ATS. */
/* A guest's STE words for a nested HWPT, by iommufd's rules (Linux's
 * arm_smmu_validate_vste): an STE without V is an abort whatever else it
 * holds (the driver installs abort); a valid one may set only the bits
 * the guest owns (SMMU_VSTE*_ALLOWED), Config abort, bypass or stage 1,
 * and EATS "no ATS" or "full ATS" (the host decides the installed EATS:
 * 0, this driver enables no ATS).  Everything the SMMU checks itself when
 * it walks (S1Fmt against IDR0.CD2L, S1CDMax against IDR1.SSIDSIZE, the
 * CD pointer) is left to it: a bad one gives the guest C_BAD_STE, as on
 * Linux, and harms nobody else. */
int smmu_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1)
{
	struct smmu_unit *su = smmu_of(u);
	const uint64_t *v = s1->u.smmuv3.ste;
	unsigned int cfg = (unsigned int)FIELD_GET(SMMU_STE0_CONFIG, v[0]);
	unsigned int eats = (unsigned int)FIELD_GET(SMMU_STE1_EATS, v[1]);

	if (!su->s1 || !su->s2)
		return -EOPNOTSUPP;
	if (!(v[0] & SMMU_STE0_V))
		return 0; /* invalid: aborts (smmu_ste_build ignores the rest) */
	if ((v[0] & ~SMMU_VSTE0_ALLOWED) || (v[1] & ~SMMU_VSTE1_ALLOWED))
		return -EINVAL;
	if (cfg != SMMU_STE_CFG_ABORT && cfg != SMMU_STE_CFG_BYPASS && cfg != SMMU_STE_CFG_S1)
		return -EINVAL;
	if (eats != SMMU_EATS_ABT && eats != SMMU_EATS_TRANS)
		return -EINVAL; /* split-stage ATS (2) and the reserved 3 */
	return 0;
}

/* ------------------------------------------------------------ walk (tools) */

static const char *const cfg_name[8] = {"abort",  "reserved", "reserved", "reserved",
					"bypass", "stage 1",  "stage 2",  "nested"};

static int lv_add(struct uiommu_walk_level *out, int n, int max, unsigned int lvl, uint64_t table,
		  uint32_t index, uint64_t entry, bool present, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));
static int lv_add(struct uiommu_walk_level *out, int n, int max, unsigned int lvl, uint64_t table,
		  uint32_t index, uint64_t entry, bool present, const char *fmt, ...)
{
	va_list ap;

	if (n >= max)
		return n;
	memset(&out[n], 0, sizeof(out[n]));
	out[n].level = lvl;
	out[n].table = table;
	out[n].index = index;
	out[n].entry = entry;
	out[n].present = present;
	va_start(ap, fmt);
	vsnprintf(out[n].text, sizeof(out[n].text), fmt, ap);
	va_end(ap);
	return n + 1;
}

/* Arena memory at bus address @pa (8 bytes), or false. */
static bool rd64(uint64_t pa, uint64_t *v)
{
	const uint64_t *p = IS_ALIGNED_ULL(pa, 8) ? uenv_iova_to_va(pa) : NULL;

	if (!p)
		return false;
	*v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

/* IPA -> PA through a stage-2 table in memory (4 KiB granule), for
 * showing a guest's CD and tables; UINT64_MAX when it does not map. */
static uint64_t s2_resolve(uint64_t vtcr, uint64_t ttb, uint64_t ipa)
{
	unsigned int start = 2 - (unsigned int)FIELD_GET(ARM_VTCR_SL0, vtcr);
	uint64_t table = ttb & SMMU_STE3_S2TTB, d;

	for (unsigned int lvl = start; lvl <= 3; lvl++) {
		unsigned int shift = 12 + 9 * (3 - lvl);

		if (!rd64(table + ((ipa >> shift) & 511) * 8, &d) || !(d & ARM_VALID))
			return UINT64_MAX;
		if (lvl < 3 && (d & ARM_TYPE)) {
			table = d & ARM_ADDR;
			continue;
		}
		return (d & ARM_ADDR & ~((1ull << shift) - 1)) | (ipa & ((1ull << shift) - 1));
	}
	return UINT64_MAX;
}

/* The stage-2 walk of @ipa level by level (the leaf that maps the guest's
 * data page), each entry decoded: what `uiommuctl walk` shows under a
 * nested STE after the guest's stage 1. */
static int s2_levels(struct uiommu_walk_level *out, int n, int max, uint64_t vtcr, uint64_t ttb,
		     uint64_t ipa)
{
	unsigned int sl0 = (unsigned int)FIELD_GET(ARM_VTCR_SL0, vtcr);
	uint64_t table = ttb & SMMU_STE3_S2TTB, d;

	if (sl0 > 2)
		return lv_add(out, n, max, 0, table, 0, 0, false,
			      "stage 2: VTCR.SL0=%u not a 4 KiB-granule start level", sl0);
	for (unsigned int lvl = 2 - sl0; lvl <= 3; lvl++) {
		unsigned int shift = 12 + 9 * (3 - lvl), idx = (unsigned int)((ipa >> shift) & 511);

		if (!rd64(table + idx * 8ull, &d))
			return lv_add(out, n, max, 3 - lvl, table, idx, 0, false,
				      "S2 L%u table PA %#llx: not in memory we know", lvl,
				      (unsigned long long)table);
		bool leaf = lvl == 3 || !(d & ARM_TYPE);
		n = lv_add(out, n, max, 3 - lvl, table, idx, d, d & ARM_VALID,
			   "S2 L%u (table PA %#llx)[%u]: %s%s%s %#llx%s%s", lvl,
			   (unsigned long long)table, idx,
			   (d & ARM_VALID) ? "" : "not present (stage-2 F_TRANSLATION)",
			   (d & ARM_VALID) ? (leaf ? (lvl == 3 ? "page" : "block") : "table") : "",
			   (d & ARM_VALID) ? (leaf ? " -> PA" : " ->") : "",
			   (unsigned long long)(d & ARM_ADDR),
			   (d & ARM_VALID) && leaf && !(FIELD_GET(ARM_S2_S2AP, d) & ARM_S2AP_R)
				   ? " S2AP no read"
				   : "",
			   (d & ARM_VALID) && leaf && !(FIELD_GET(ARM_S2_S2AP, d) & ARM_S2AP_W)
				   ? " S2AP no write"
				   : "");
		if (!(d & ARM_VALID) || leaf) {
			if ((d & ARM_VALID) && n > 0) {
				out[n - 1].leaf = true;
				out[n - 1].pgsize = 1ull << shift;
			}
			return n;
		}
		table = d & ARM_ADDR;
	}
	return n;
}

int smmu_dev_walk(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid, uint64_t iova,
		  struct uiommu_walk_level *out, int max)
{
	struct smmu_unit *su = smmu_of(u);
	struct smmu_dev *sd = dev->priv;
	uint64_t *ste, cd[SMMU_CD_DWORDS], ctx, l1;
	unsigned int cfg, fmt, cdmax, dss;
	uint32_t ssid;
	bool nested;
	int n = 0;

	if (!sd)
		return 0;
	if (su->st_2lvl) {
		uint32_t i = sd->sid >> SMMU_SPLIT;
		uint64_t d = ((uint64_t *)su->strtab.va)[i];

		unsigned int span = (unsigned int)FIELD_GET(SMMU_L1STD_SPAN, d);
		/* The SMMU reads the L2 table at L2Ptr with bits [5 + Span - 1:0]
		 * taken as zero (5.1): one not so aligned is not ours. */
		bool aligned = span && span <= 12 &&
			       !((d & SMMU_L1STD_L2PTR) & ((SMMU_STE_SIZE << (span - 1)) - 1));

		n = lv_add(out, n, max, 0, su->strtab.iova, i, d, span && aligned,
			   "L1STD[%u]: Span=%u L2Ptr=%#llx%s", i, span,
			   (unsigned long long)(d & SMMU_L1STD_L2PTR),
			   !span      ? " (invalid: C_BAD_STE)"
			   : !aligned ? " (not aligned to the table's size: the SMMU reads "
					"elsewhere)"
				      : "");
		if (span && !aligned)
			return n;
	}
	ste = ste_slot(su, sd->sid, false);
	if (!ste)
		return n;
	cfg = (unsigned int)FIELD_GET(SMMU_STE0_CONFIG, ste[0]);
	fmt = (unsigned int)FIELD_GET(SMMU_STE0_S1FMT, ste[0]);
	cdmax = (unsigned int)FIELD_GET(SMMU_STE0_S1CDMAX, ste[0]);
	dss = (unsigned int)FIELD_GET(SMMU_STE1_S1DSS, ste[1]);
	n = lv_add(out, n, max, 1, uenv_va_to_iova(ste), sd->sid, ste[0], ste[0] & SMMU_STE0_V,
		   "STE[%#x]: %s Config=%s S1Fmt=%u S1ContextPtr=%#llx S1CDMax=%u S1DSS=%u VMID=%u "
		   "S2T0SZ=%u S2SL0=%u S2TTB=%#llx",
		   sd->sid, (ste[0] & SMMU_STE0_V) ? "V" : "invalid (C_BAD_STE)", cfg_name[cfg],
		   fmt, (unsigned long long)(ste[0] & SMMU_STE0_S1CTXPTR), cdmax, dss,
		   (unsigned int)FIELD_GET(SMMU_STE2_S2VMID, ste[2]),
		   (unsigned int)FIELD_GET(ARM_VTCR_T0SZ, FIELD_GET(SMMU_STE2_VTCR, ste[2])),
		   (unsigned int)FIELD_GET(ARM_VTCR_SL0, FIELD_GET(SMMU_STE2_VTCR, ste[2])),
		   (unsigned long long)(ste[3] & SMMU_STE3_S2TTB));
	if (!(ste[0] & SMMU_STE0_V) || !(cfg & 1u))
		return n;
	nested = cfg == SMMU_STE_CFG_NESTED;
	if (pasid == UIOMMU_NO_PASID) {
		if (cdmax && dss == SMMU_S1DSS_TERMINATE)
			return lv_add(out, n, max, 2, 0, 0, 0, false,
				      "no SubstreamID and S1DSS=terminate: F_STREAM_DISABLED");
		if (cdmax && dss == SMMU_S1DSS_BYPASS)
			return lv_add(out, n, max, 2, 0, 0, 0, true,
				      "no SubstreamID: stage 1 bypassed (S1DSS)");
		ssid = 0;
	} else {
		ssid = pasid;
		if (!cdmax || ssid >> cdmax)
			return lv_add(out, n, max, 2, 0, 0, 0, false,
				      "SubstreamID %u beyond S1CDMax %u: C_BAD_SUBSTREAMID", ssid,
				      cdmax);
	}
	/* The CD: ours, or the guest's at an IPA (nested). */
	uint64_t vtcr = FIELD_GET(SMMU_STE2_VTCR, ste[2]), ttb = ste[3];
	ctx = ste[0] & SMMU_STE0_S1CTXPTR;
	if (cdmax && (fmt == SMMU_S1FMT_4K_L2 || fmt == SMMU_S1FMT_64K_L2)) { /* 3: as linear */
		unsigned int lb = fmt == SMMU_S1FMT_4K_L2 ? 6 : 10;
		uint64_t a = ctx + (uint64_t)(ssid >> lb) * 8,
			 pa = nested ? s2_resolve(vtcr, ttb, a) : a;

		if (pa == UINT64_MAX || !rd64(pa, &l1))
			return lv_add(out, n, max, 2, a, ssid >> lb, 0, false,
				      "L1CD at %s%#llx: not reachable", nested ? "IPA " : "",
				      (unsigned long long)a);
		n = lv_add(out, n, max, 2, a, ssid >> lb, l1, l1 & SMMU_L1CD_V,
			   "L1CD[%u]: %s L2Ptr=%#llx", ssid >> lb,
			   (l1 & SMMU_L1CD_V) ? "V" : "invalid (C_BAD_SUBSTREAMID)",
			   (unsigned long long)(l1 & SMMU_L1CD_L2PTR));
		if (!(l1 & SMMU_L1CD_V))
			return n;
		ctx = (l1 & SMMU_L1CD_L2PTR) + (uint64_t)(ssid & ((1u << lb) - 1)) * SMMU_CD_SIZE;
	} else {
		ctx += (uint64_t)ssid * SMMU_CD_SIZE;
	}
	uint64_t cpa = nested ? s2_resolve(vtcr, ttb, ctx) : ctx;
	bool ok = cpa != UINT64_MAX;
	for (unsigned int i = 0; ok && i < SMMU_CD_DWORDS; i++)
		ok = rd64(cpa + i * 8, &cd[i]);
	if (!ok && cpa != UINT64_MAX && nested) /* mapped, but not memory this process has */
		return lv_add(out, n, max, 3, ctx, ssid, 0, true,
			      "CD at IPA %#llx -> PA %#llx: outside uiommu's memory, not shown",
			      (unsigned long long)ctx, (unsigned long long)cpa);
	if (!ok)
		return lv_add(out, n, max, 3, ctx, ssid, 0, false, "CD at %s%#llx: not reachable%s",
			      nested ? "IPA " : "", (unsigned long long)ctx,
			      nested ? " through stage 2 (stage-2 fault, class CD)" : "");
	n = lv_add(
		out, n, max, 3, ctx, ssid, cd[0], cd[0] & SMMU_CD0_V,
		"CD[%u]%s: %s ASID=%u T0SZ=%u TG0=%u IPS=%u AA64=%u EPD0=%u TTB0=%#llx MAIR=%#llx",
		ssid, nested ? " (guest)" : "", (cd[0] & SMMU_CD0_V) ? "V" : "invalid (C_BAD_CD)",
		(unsigned int)FIELD_GET(SMMU_CD0_ASID, cd[0]),
		(unsigned int)FIELD_GET(SMMU_CD0_T0SZ, cd[0]),
		(unsigned int)FIELD_GET(SMMU_CD0_TG0, cd[0]),
		(unsigned int)FIELD_GET(SMMU_CD0_IPS, cd[0]), !!(cd[0] & SMMU_CD0_AA64),
		!!(cd[0] & SMMU_CD0_EPD0), (unsigned long long)(cd[1] & SMMU_CD1_TTB0),
		(unsigned long long)cd[3]);
	if (!nested || !(cd[0] & SMMU_CD0_V))
		return n; /* our own stage 1: the HWPT's walk follows */
	/* The guest's stage 1, each table read at its IPA through stage 2. */
	unsigned int ias = 64 - (unsigned int)FIELD_GET(SMMU_CD0_T0SZ, cd[0]);
	unsigned int start = ias >= 25 && ias <= 48 ? 4 - (ias - 12 + 8) / 9 : 0;
	uint64_t table = cd[1] & SMMU_CD1_TTB0, d;
	for (unsigned int lvl = start; lvl <= 3; lvl++) {
		unsigned int shift = 12 + 9 * (3 - lvl),
			     idx = (unsigned int)((iova >> shift) & 511);
		uint64_t pa = s2_resolve(vtcr, ttb, table + idx * 8ull);

		if (pa == UINT64_MAX || !rd64(pa, &d))
			return lv_add(out, n, max, 4 + lvl, table, idx, 0, false,
				      "guest S1 L%u table IPA %#llx: not mapped at stage 2 "
				      "(stage-2 fault, class TT)",
				      lvl, (unsigned long long)table);
		bool leaf = lvl == 3 || !(d & ARM_TYPE);
		n = lv_add(out, n, max, 4 + lvl, table, idx, d, d & ARM_VALID,
			   "guest S1 L%u (table IPA %#llx): %s%s -> IPA %#llx%s", lvl,
			   (unsigned long long)table,
			   (d & ARM_VALID) ? "" : "not present (F_TRANSLATION)",
			   (d & ARM_VALID) ? (leaf ? "leaf" : "table") : "",
			   (unsigned long long)(d & ARM_ADDR),
			   (d & ARM_VALID) && leaf && !(d & ARM_AF) ? " AF=0 (F_ACCESS)" : "");
		if (!(d & ARM_VALID) || leaf) {
			if ((d & ARM_VALID) && n > 0) {
				out[n - 1].leaf = true;
				out[n - 1].pgsize = 1ull << shift;
				uint64_t ipa = (d & ARM_ADDR & ~((1ull << shift) - 1)) |
					       (iova & ((1ull << shift) - 1));
				n = s2_levels(out, n, max, vtcr, ttb, ipa);
				uint64_t fpa = s2_resolve(vtcr, ttb, ipa);
				if (fpa == UINT64_MAX)
					n = lv_add(out, n, max, 8, 0, 0, ipa, false,
						   "IPA %#llx: not mapped at stage 2 (stage-2 "
						   "F_TRANSLATION)",
						   (unsigned long long)ipa);
				else
					n = lv_add(out, n, max, 8, 0, 0, ipa, true,
						   "IPA %#llx -> PA %#llx (stage 2)",
						   (unsigned long long)ipa,
						   (unsigned long long)fpa);
			}
			return n;
		}
		table = d & ARM_ADDR;
	}
	return n;
}
