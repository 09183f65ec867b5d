/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d translation structures: root table, context tables (legacy: one per
 * bus; scalable: two halves per bus), per-device PASID directory and PASID
 * tables; attach (dev_set) and IOTLB flushes.
 *
 * dev_set runs in two phases so that a failure changes nothing:
 *  1. prepare: check the request and allocate every page/struct it may
 *     need (nothing visible to hardware yet);
 *  2. commit: tear down the old entry (clear present -> write back ->
 *     invalidate context/PASID cache, IOTLB, device-TLB -> wait), then
 *     write the new entry (upper words first, present last -> write back
 *     -> invalidate what caching mode may hold -> wait).
 * Context tables and PASID tables, once linked, stay until the unit (or
 * the device) goes: a table that hardware may still have cached a pointer
 * to is never freed under it.
 *
 * Tags (struct vtd_tag) record which (DID, PASID, device) triples are
 * installed, so that a flush of a DID emits PASID-based invalidation for
 * first-level tables and device-TLB invalidation for ATS devices.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_internal.h"

#define RID_PASID 0u /* PASID used for requests without PASID (SM context RID_PASID) */

/* ------------------------------------------------------------------ */
/* Root and context tables. */

int vtd_ctx_init(struct vtd_unit *vu)
{
	vu->plain_did = VTD_DID_NONE; /* nothing known about any DID yet */
	vu->root = uenv_page_alloc(vu->u->numa_node, &vu->root_pa);
	if (!vu->root)
		return -ENOMEM;
	vtd_clflush(vu, vu->root, 4096);
	return 0;
}

void vtd_ctx_fini(struct vtd_unit *vu)
{
	for (unsigned int bus = 0; bus < 256; bus++) {
		for (unsigned int h = 0; h < 2; h++) {
			if (vu->ctx[bus][h].va)
				uenv_page_free(vu->ctx[bus][h].va);
			memset(&vu->ctx[bus][h], 0, sizeof(vu->ctx[bus][h]));
		}
	}
	if (vu->root)
		uenv_page_free(vu->root);
	vu->root = NULL;
	vu->root_pa = 0;
}

/* Which context table and slot hold @rid. */
static struct vtd_ctx_tbl *ctx_tbl(struct vtd_unit *vu, uint16_t rid, unsigned int *slot)
{
	unsigned int bus = rid >> 8, devfn = rid & 0xff;

	if (!vu->sm) {
		*slot = devfn;
		return &vu->ctx[bus][0];
	}
	*slot = devfn & 0x7f;
	return &vu->ctx[bus][devfn >> 7];
}

static uint64_t *ctx_entry(struct vtd_unit *vu, uint16_t rid)
{
	unsigned int slot;
	struct vtd_ctx_tbl *t = ctx_tbl(vu, rid, &slot);

	if (!t->va)
		return NULL;
	return (uint64_t *)t->va + slot * (vu->sm ? 4u : 2u);
}

/* Link a freshly allocated context table into the root entry. */
static void ctx_tbl_link(struct vtd_unit *vu, uint16_t rid, void *va, uint64_t pa)
{
	unsigned int slot, bus = rid >> 8;
	struct vtd_ctx_tbl *t = ctx_tbl(vu, rid, &slot);
	uint64_t *re = (uint64_t *)vu->root + bus * 2u;

	vtd_clflush(vu, va, 4096);
	t->va = va;
	t->pa = pa;
	if (!vu->sm)
		re[0] = (pa & VTD_RE_Q0_CTP) | VTD_RE_Q0_P;
	else if ((rid & 0xff) < 128)
		re[0] = (pa & VTD_SMRE_Q0_LCTP) | VTD_SMRE_Q0_LP;
	else
		re[1] = (pa & VTD_SMRE_Q1_UCTP) | VTD_SMRE_Q1_UP;
	vtd_clflush(vu, re, 16);
}

/* ------------------------------------------------------------------ */
/* Devices. */

struct vtd_dev *vtd_dev_by_rid(struct vtd_unit *vu, uint16_t rid)
{
	struct list_node *pos;

	list_for_each(pos, &vu->devs) {
		struct vtd_dev *vd = list_entry(pos, struct vtd_dev, link);

		if (vd->rid == rid)
			return vd;
	}
	return NULL;
}

static struct vtd_tag *tag_find(struct vtd_unit *vu, const struct vtd_dev *vd, uint32_t pasid)
{
	struct list_node *pos;

	list_for_each(pos, &vu->tags) {
		struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);

		if (t->vd == vd && t->pasid == pasid)
			return t;
	}
	return NULL;
}

static void tag_drop(struct vtd_unit *vu, struct vtd_tag *t)
{
	if (!t)
		return;
	vu->plain_did = VTD_DID_NONE; /* tags change (first: a kill -9 leaves no stale cache) */
	list_del(&t->link);
	uenv_free(t);
}

int vtd_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct vtd_unit *vu = vtd_of(u);
	struct vtd_dev *vd;
	uint32_t bits = 0;
	int rc;

	vd = uenv_zalloc(sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->dev = dev;
	vd->rid = (uint16_t)dev->desc.hw_id;
	vd->ats = dev->desc.ats && vu->qi && (vu->ecap & VTD_ECAP_DT);
	vd->pri = dev->desc.pri && vu->prq;
	if (vu->sm) {
		uint32_t entries, dirbytes;

		if ((vu->ecap & VTD_ECAP_PASID) && dev->desc.pasid_bits) {
			bits = dev->desc.pasid_bits;
			if (bits > vtd_ecap_pasid_bits(vu->ecap))
				bits = vtd_ecap_pasid_bits(vu->ecap);
			if (bits > 20)
				bits = 20;
		}
		vd->pasid_limit = bits ? 1u << bits : 1u; /* RID_PASID only */
		entries = vd->pasid_limit >> 6;
		if (entries < 128)
			entries = 128; /* PDTS = 0 */
		vd->pdir_entries = entries;
		dirbytes = entries * 8u;
		rc = uenv_dma_alloc(dirbytes < 4096 ? 4096 : dirbytes, 4096, u->numa_node,
				    &vd->pdir);
		if (rc) {
			uenv_free(vd);
			return rc;
		}
		vtd_clflush(vu, vd->pdir.va, vd->pdir.len);
	}
	list_add_tail(&vu->devs, &vd->link);
	dev->priv = vd;
	return 0;
}

static uint64_t *pdir_entry(struct vtd_dev *vd, uint32_t pasid)
{
	return (uint64_t *)vd->pdir.va + VTD_PASID_DIR_IDX(pasid);
}

static uint64_t *pasid_entry(struct vtd_dev *vd, uint32_t pasid)
{
	uint64_t pde = *pdir_entry(vd, pasid);
	uint64_t *tbl;

	if (!(pde & VTD_PDE_P))
		return NULL;
	tbl = uenv_iova_to_va(pde & VTD_PDE_SMPTBLPTR);
	return tbl ? tbl + VTD_PASID_TBL_IDX(pasid) * 8u : NULL;
}

/* Invalidations for an entry (context or PASID) that was present with @did
 * and @kind and is now cleared. */
static void inv_old(struct vtd_inv *b, struct vtd_dev *vd, uint32_t pasid, uint32_t did,
		    enum vtd_tag_kind kind)
{
	struct vtd_unit *vu = b->vu;

	if (!vu->sm) {
		vtd_inv_cc_dev(b, did, vd->rid);
		vtd_inv_iotlb(b, did, 0, 0, false);
		vtd_inv_devtlb(b, vd, VTD_LEGACY_PASID, 0, 0);
		return;
	}
	vtd_inv_pc(b, did, pasid);
	if (kind == VTD_TAG_FL || kind == VTD_TAG_NESTED)
		vtd_inv_piotlb(b, did, pasid, 0, 0, false);
	if (kind != VTD_TAG_FL)
		vtd_inv_iotlb(b, did, 0, 0, false);
	vtd_inv_devtlb(b, vd, pasid, 0, 0);
}

int vtd_dev_release(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct vtd_unit *vu = vtd_of(u);
	struct vtd_dev *vd = dev->priv;
	struct list_node *pos, *tmp;
	struct vtd_inv b;
	uint64_t *ce;
	int rc;

	if (!vd)
		return 0;
	vtd_inv_init(&b, vu);
	ce = ctx_entry(vu, vd->rid);
	if (vd->ctx_present && ce) {
		unsigned int slot;
		uint32_t did = vu->sm ? 0 : (uint32_t)FIELD_GET(VTD_CE_Q1_DID, ce[1]);

		ce[0] = 0;
		vtd_clflush(vu, ce, vu->sm ? 32 : 16);
		vtd_inv_cc_dev(&b, did, vd->rid);
		vd->ctx_present = false;
		ctx_tbl(vu, vd->rid, &slot)->users--;
	}
	/* Whatever the tags still name goes from the caches. */
	list_for_each_safe(pos, tmp, &vu->tags) {
		struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);

		if (t->vd != vd)
			continue;
		inv_old(&b, vd, t->pasid, t->did, t->kind);
		tag_drop(vu, t);
	}
	rc = vtd_inv_sync(&b);
	if (rc)
		VTD_LOG(WARNING, "unit %u: invalidation for released device %04x failed",
			u->obj.id, vd->rid);
	if (vd->pdir.va) {
		for (uint32_t i = 0; i < vd->pdir_entries; i++) {
			uint64_t pde = ((uint64_t *)vd->pdir.va)[i];

			if (pde & VTD_PDE_P)
				uenv_page_free(uenv_iova_to_va(pde & VTD_PDE_SMPTBLPTR));
		}
		uenv_dma_free(&vd->pdir);
	}
	list_del(&vd->link);
	dev->priv = NULL;
	uenv_free(vd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* dev_set */

struct set_prep {
	void *ctx_va;       /* new context table */
	uint64_t ctx_pa;
	void *pt_va;        /* new PASID table */
	uint64_t pt_pa;
	struct vtd_tag *tag; /* existing or new tag */
	bool tag_new;
	enum vtd_tag_kind kind;
};

static void prep_undo(struct set_prep *p)
{
	if (p->ctx_va)
		uenv_page_free(p->ctx_va);
	if (p->pt_va)
		uenv_page_free(p->pt_va);
	if (p->tag_new)
		uenv_free(p->tag);
}

/* AW for pass-through and first-level entries: the largest supported
 * (VT-d 9.3: for TT=10b AW is the largest AGAW the unit supports). */
static unsigned int best_aw(const struct vtd_unit *vu)
{
	for (unsigned int aw = VTD_AW_57; aw >= VTD_AW_39; aw--)
		if (vu->sagaw & (1u << aw))
			return aw;
	return VTD_AW_48;
}

/* A user stage-1 description for a nested PASID entry (VT-d 9.6): FLPM
 * from the width (5-level needs CAP.FL5LP), FLPTR 4 KiB aligned, SRE
 * (needs ECAP.SRS), WPE, EAFE (needs ECAP.EAFS); no other flag exists. */
static int vtd_s1_valid(const struct vtd_unit *vu, const struct uiommu_hwpt_s1_data *s1)
{
	uint32_t fl = s1->u.vtd.flags;

	if (s1->family != UIOMMU_FAMILY_VTD)
		return -EINVAL;
	if (fl & ~(UIOMMU_VTD_S1_SRE | UIOMMU_VTD_S1_WPE | UIOMMU_VTD_S1_EAFE))
		return -EOPNOTSUPP;
	if (s1->u.vtd.addr_width != 48 && s1->u.vtd.addr_width != 57)
		return -EINVAL;
	if (s1->u.vtd.addr_width == 57 && !(vu->cap & VTD_CAP_FL5LP))
		return -EINVAL;
	if (s1->u.vtd.flptr & ~VTD_PE_Q2_FLPTPTR)
		return -EINVAL;
	if ((fl & UIOMMU_VTD_S1_SRE) && !(vu->ecap & VTD_ECAP_SRS))
		return -EINVAL;
	if ((fl & UIOMMU_VTD_S1_EAFE) && !(vu->ecap & VTD_ECAP_EAFS))
		return -EINVAL;
	return 0;
}

int vtd_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1)
{
	struct vtd_unit *vu = vtd_of(u);

	if (!vu->sm || !(vu->ecap & VTD_ECAP_NEST))
		return -EOPNOTSUPP;
	return vtd_s1_valid(vu, s1);
}

/* Check @a against what the unit can program; the tag kind it makes. */
static int check_attach(struct vtd_unit *vu, const struct fam_attach *a, enum vtd_tag_kind *kind)
{
	int rc;

	switch (a->kind) {
	case FAM_ATTACH_BLOCKED:
		*kind = 0;
		return 0;
	case FAM_ATTACH_IDENTITY:
		if (!(vu->ecap & VTD_ECAP_PT))
			return -EOPNOTSUPP;
		*kind = VTD_TAG_PT;
		break;
	case FAM_ATTACH_PAGING:
		if (!a->cfg)
			return -EINVAL;
		if (a->cfg->fmt == PGT_VTD_SL) {
			if (vu->sm && !(vu->ecap & VTD_ECAP_SLTS))
				return -EOPNOTSUPP;
			if (!(vu->sagaw & (1u << a->cfg->hw.vtd.aw)))
				return -EINVAL;
			*kind = VTD_TAG_SL;
		} else if (a->cfg->fmt == PGT_X86_FL) {
			if (!vu->sm || !(vu->ecap & VTD_ECAP_FLTS))
				return -EOPNOTSUPP;
			*kind = VTD_TAG_FL;
		} else {
			return -EINVAL;
		}
		break;
	case FAM_ATTACH_NESTED:
		if (!vu->sm || !(vu->ecap & VTD_ECAP_NEST) || !a->s2_cfg || !a->s1 ||
		    a->s2_cfg->fmt != PGT_VTD_SL)
			return -EOPNOTSUPP;
		rc = vtd_s1_valid(vu, a->s1);
		if (rc)
			return rc;
		*kind = VTD_TAG_NESTED;
		break;
	default:
		return -EINVAL;
	}
	if (a->did == 0 || a->did >= (1u << vtd_cap_domain_bits(vu->cap)))
		return -EINVAL;
	return 0;
}

static int prepare(struct vtd_unit *vu, struct vtd_dev *vd, uint32_t hw_pasid,
		   const struct fam_attach *a, struct set_prep *p)
{
	unsigned int slot;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = check_attach(vu, a, &p->kind);
	if (rc || a->kind == FAM_ATTACH_BLOCKED)
		return rc;
	if (!ctx_tbl(vu, vd->rid, &slot)->va) {
		p->ctx_va = uenv_page_alloc(vu->u->numa_node, &p->ctx_pa);
		if (!p->ctx_va)
			goto err_nomem;
	}
	if (vu->sm && !(*pdir_entry(vd, hw_pasid) & VTD_PDE_P)) {
		p->pt_va = uenv_page_alloc(vu->u->numa_node, &p->pt_pa);
		if (!p->pt_va)
			goto err_nomem;
	}
	p->tag = tag_find(vu, vd, hw_pasid);
	if (!p->tag) {
		p->tag = uenv_zalloc(sizeof(*p->tag));
		if (!p->tag)
			goto err_nomem;
		p->tag_new = true;
	}
	return 0;

err_nomem:
	prep_undo(p);
	return -ENOMEM;
}

static void tag_commit(struct vtd_unit *vu, struct vtd_dev *vd, uint32_t hw_pasid,
		       const struct fam_attach *a, struct set_prep *p)
{
	struct vtd_tag *t = p->tag;

	vu->plain_did = VTD_DID_NONE; /* tags change (first: a kill -9 leaves no stale cache) */
	t->vd = vd;
	t->pasid = hw_pasid;
	t->did = a->did;
	t->s2_did = a->kind == FAM_ATTACH_NESTED ? a->s2_did : VTD_DID_NONE;
	t->kind = p->kind;
	if (p->tag_new)
		list_add_tail(&vu->tags, &t->link);
}

static int legacy_set(struct vtd_unit *vu, struct vtd_dev *vd, const struct fam_attach *a)
{
	struct set_prep p;
	struct vtd_inv b;
	uint64_t *ce, lo, hi;
	unsigned int slot;
	int rc;

	rc = prepare(vu, vd, VTD_LEGACY_PASID, a, &p);
	if (rc)
		return rc;
	vtd_inv_init(&b, vu);
	ce = ctx_entry(vu, vd->rid);
	if (ce && (ce[0] & VTD_CE_Q0_P)) {
		uint32_t old = (uint32_t)FIELD_GET(VTD_CE_Q1_DID, ce[1]);
		struct vtd_tag *t = tag_find(vu, vd, VTD_LEGACY_PASID);

		ce[0] = 0; /* present bit first (VT-d 6.5.3.3) */
		vtd_clflush(vu, ce, 16);
		inv_old(&b, vd, VTD_LEGACY_PASID, old, t ? t->kind : VTD_TAG_SL);
		rc = vtd_inv_sync(&b);
		vd->ctx_present = false;
		ctx_tbl(vu, vd->rid, &slot)->users--;
	}
	if (a->kind == FAM_ATTACH_BLOCKED) {
		tag_drop(vu, tag_find(vu, vd, VTD_LEGACY_PASID));
		return rc;
	}
	if (rc) {
		/* The old translation may still be cached: stay blocked. */
		prep_undo(&p);
		return rc;
	}
	if (p.ctx_va) {
		ctx_tbl_link(vu, vd->rid, p.ctx_va, p.ctx_pa);
		p.ctx_va = NULL;
	}
	ce = ctx_entry(vu, vd->rid);
	if (a->kind == FAM_ATTACH_IDENTITY) {
		lo = FIELD_PREP(VTD_CE_Q0_TT, VTD_CE_TT_PT);
		hi = FIELD_PREP(VTD_CE_Q1_AW, best_aw(vu));
	} else {
		lo = FIELD_PREP(VTD_CE_Q0_TT, vd->ats ? VTD_CE_TT_SL_DT : VTD_CE_TT_SL) |
		     (a->cfg->root_pa & VTD_CE_Q0_SLPTPTR);
		hi = FIELD_PREP(VTD_CE_Q1_AW, a->cfg->hw.vtd.aw);
	}
	hi |= FIELD_PREP(VTD_CE_Q1_DID, a->did);
	ce[1] = hi;
	__atomic_store_n(&ce[0], lo | VTD_CE_Q0_P, __ATOMIC_RELEASE);
	vtd_clflush(vu, ce, 16);
	vd->ctx_present = true;
	ctx_tbl(vu, vd->rid, &slot)->users++;
	tag_commit(vu, vd, VTD_LEGACY_PASID, a, &p);
	/* Not-present -> present: only caching-mode hardware may hold the old
	 * (not-present) entry; it is tagged with DID 0 (VT-d 6.2.2). */
	vtd_inv_init(&b, vu);
	if (vu->cap & VTD_CAP_CM) {
		vtd_inv_cc_dev(&b, 0, vd->rid);
		vtd_inv_iotlb(&b, a->did, 0, 0, false);
	}
	/* The entry is live: report a failed flush but keep it (the caller's
	 * bookkeeping must match the hardware). */
	if (vtd_inv_sync(&b))
		VTD_LOG(WARNING, "unit %u: flush after programming %04x failed", vu->u->obj.id,
			vd->rid);
	return 0;
}

static void sm_ctx_write(struct vtd_unit *vu, struct vtd_dev *vd)
{
	uint64_t *ce = ctx_entry(vu, vd->rid);
	unsigned int pdts = (unsigned int)__builtin_ctz(vd->pdir_entries) - 7u;
	unsigned int slot;
	uint64_t q0;

	q0 = (vd->pdir.iova & VTD_SMCE_Q0_PASIDDIRPTR) | FIELD_PREP(VTD_SMCE_Q0_PDTS, pdts) |
	     VTD_SMCE_Q0_P;
	if (vd->pasid_limit > 1)
		q0 |= VTD_SMCE_Q0_PASIDE;
	if (vd->ats)
		q0 |= VTD_SMCE_Q0_DTE;
	if (vd->pri)
		q0 |= VTD_SMCE_Q0_PRE;
	ce[3] = 0;
	ce[2] = 0;
	ce[1] = FIELD_PREP(VTD_SMCE_Q1_RID_PASID, RID_PASID);
	__atomic_store_n(&ce[0], q0, __ATOMIC_RELEASE);
	vtd_clflush(vu, ce, 32);
	vd->ctx_present = true;
	ctx_tbl(vu, vd->rid, &slot)->users++;
}

static void pe_build(struct vtd_unit *vu, const struct fam_attach *a, enum vtd_tag_kind kind,
		     uint64_t pe[8])
{
	uint64_t pwsnp = (vu->ecap & VTD_ECAP_SMPWC) ? VTD_PE_Q1_PWSNP : 0;

	memset(pe, 0, 8 * sizeof(uint64_t));
	pe[1] = FIELD_PREP(VTD_PE_Q1_DID, a->did) | pwsnp;
	switch (kind) {
	case VTD_TAG_SL:
		pe[0] = FIELD_PREP(VTD_PE_Q0_AW, a->cfg->hw.vtd.aw) |
			FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_SL) |
			(a->cfg->root_pa & VTD_PE_Q0_SLPTPTR);
		break;
	case VTD_TAG_FL:
		pe[0] = FIELD_PREP(VTD_PE_Q0_AW, best_aw(vu)) |
			FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_FL);
		pe[2] = (a->cfg->root_pa & VTD_PE_Q2_FLPTPTR) |
			FIELD_PREP(VTD_PE_Q2_FLPM, a->cfg->hw.x86.flpm);
		break;
	case VTD_TAG_NESTED: {
		uint32_t fl = a->s1->u.vtd.flags;

		pe[0] = FIELD_PREP(VTD_PE_Q0_AW, a->s2_cfg->hw.vtd.aw) |
			FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_NESTED) |
			(a->s2_cfg->root_pa & VTD_PE_Q0_SLPTPTR);
		pe[2] = (a->s1->u.vtd.flptr & VTD_PE_Q2_FLPTPTR) |
			FIELD_PREP(VTD_PE_Q2_FLPM, a->s1->u.vtd.addr_width == 57 ? VTD_FLPM_5LVL :
										   VTD_FLPM_4LVL) |
			((fl & UIOMMU_VTD_S1_SRE) ? VTD_PE_Q2_SRE : 0) |
			((fl & UIOMMU_VTD_S1_WPE) ? VTD_PE_Q2_WPE : 0) |
			((fl & UIOMMU_VTD_S1_EAFE) ? VTD_PE_Q2_EAFE : 0);
		break;
	}
	case VTD_TAG_PT:
		pe[0] = FIELD_PREP(VTD_PE_Q0_AW, best_aw(vu)) |
			FIELD_PREP(VTD_PE_Q0_PGTT, VTD_PGTT_PT);
		break;
	}
}

static int sm_set(struct vtd_unit *vu, struct vtd_dev *vd, uint32_t pasid,
		  const struct fam_attach *a)
{
	uint32_t hw_pasid = pasid == UIOMMU_NO_PASID ? RID_PASID : pasid;
	struct set_prep p;
	struct vtd_inv b;
	uint64_t *pe, npe[8];
	int rc;

	if (pasid != UIOMMU_NO_PASID && (pasid == RID_PASID || pasid >= vd->pasid_limit)) {
		VTD_LOG(WARNING, "unit %u: device %04x: PASID %u %s (limit %u)", vu->u->obj.id,
			vd->rid, pasid, pasid == RID_PASID ? "is RID_PASID" : "out of range",
			vd->pasid_limit);
		return -EINVAL;
	}
	rc = prepare(vu, vd, hw_pasid, a, &p);
	if (rc)
		return rc;
	vtd_inv_init(&b, vu);
	pe = pasid_entry(vd, hw_pasid);
	if (pe && (pe[0] & VTD_PE_Q0_P)) {
		uint32_t old = (uint32_t)FIELD_GET(VTD_PE_Q1_DID, pe[1]);
		struct vtd_tag *t = tag_find(vu, vd, hw_pasid);

		__atomic_store_n(&pe[0], 0, __ATOMIC_RELEASE);
		vtd_clflush(vu, pe, 64);
		inv_old(&b, vd, hw_pasid, old, t ? t->kind : VTD_TAG_SL);
		rc = vtd_inv_sync(&b);
		vd->nr_pasids--;
	}
	if (a->kind == FAM_ATTACH_BLOCKED) {
		tag_drop(vu, tag_find(vu, vd, hw_pasid));
		return rc;
	}
	if (rc) {
		/* The old translation may still be cached: stay blocked. */
		prep_undo(&p);
		return rc;
	}
	if (p.ctx_va) {
		ctx_tbl_link(vu, vd->rid, p.ctx_va, p.ctx_pa);
		p.ctx_va = NULL;
	}
	if (p.pt_va) {
		uint64_t *pde = pdir_entry(vd, hw_pasid);

		vtd_clflush(vu, p.pt_va, 4096);
		*pde = (p.pt_pa & VTD_PDE_SMPTBLPTR) | VTD_PDE_P;
		vtd_clflush(vu, pde, 8);
		vd->nr_ptables++;
		p.pt_va = NULL;
	}
	vtd_inv_init(&b, vu);
	if (!vd->ctx_present) {
		sm_ctx_write(vu, vd);
		if (vu->cap & VTD_CAP_CM)
			vtd_inv_cc_dev(&b, 0, vd->rid);
	}
	pe = pasid_entry(vd, hw_pasid);
	pe_build(vu, a, p.kind, npe);
	for (unsigned int i = 7; i > 0; i--)
		pe[i] = npe[i];
	__atomic_store_n(&pe[0], npe[0] | VTD_PE_Q0_P, __ATOMIC_RELEASE);
	vtd_clflush(vu, pe, 64);
	vd->nr_pasids++;
	tag_commit(vu, vd, hw_pasid, a, &p);
	if (vu->cap & VTD_CAP_CM) {
		vtd_inv_pc(&b, a->did, hw_pasid);
		if (p.kind == VTD_TAG_FL || p.kind == VTD_TAG_NESTED)
			vtd_inv_piotlb(&b, a->did, hw_pasid, 0, 0, false);
		else
			vtd_inv_iotlb(&b, a->did, 0, 0, false);
	}
	if (vtd_inv_sync(&b))
		VTD_LOG(WARNING, "unit %u: flush after programming %04x PASID %u failed",
			vu->u->obj.id, vd->rid, hw_pasid);
	return 0;
}

int vtd_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		const struct fam_attach *a)
{
	struct vtd_unit *vu = vtd_of(u);
	struct vtd_dev *vd = dev->priv;

	if (!vd || !a)
		return -EINVAL;
	if (!vu->sm) {
		if (pasid != UIOMMU_NO_PASID) {
			VTD_LOG(ERR, "unit %u: PASID %u needs scalable mode", u->obj.id, pasid);
			return -EINVAL;
		}
		return legacy_set(vu, vd, a);
	}
	return sm_set(vu, vd, pasid, a);
}

/* ------------------------------------------------------------------ */
/* Flushes */

static void flush_one(struct vtd_inv *b, const struct fam_flush *f)
{
	struct vtd_unit *vu = b->vu;
	struct list_node *pos;
	bool ih = f->leaf_only && f->size;
	bool iotlb_done = false, dsi = false;

	list_for_each(pos, &vu->tags) {
		struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);

		if (t->did == f->did && t->kind == VTD_TAG_NESTED)
			dsi = true; /* combined entries are tagged by stage-1 address */
	}
	if (f->fmt != PGT_X86_FL) {
		vtd_inv_iotlb(b, f->did, f->iova, dsi ? 0 : f->size, ih);
		iotlb_done = true;
	}
	list_for_each(pos, &vu->tags) {
		struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);

		if (t->did != f->did)
			continue;
		if (t->kind == VTD_TAG_FL)
			vtd_inv_piotlb(b, f->did, t->pasid, f->iova, f->size, ih);
		else if (t->kind == VTD_TAG_NESTED) {
			vtd_inv_piotlb(b, f->did, t->pasid, 0, 0, false);
			if (!iotlb_done) {
				vtd_inv_iotlb(b, f->did, 0, 0, false);
				iotlb_done = true;
			}
		}
		vtd_inv_devtlb(b, t->vd, t->pasid, dsi ? 0 : f->iova, dsi ? 0 : f->size);
	}
}

/* Does flushing @did need nothing but IOTLB invalidation (what flush_one
 * emits for a second-level table when no tag of the DID is first-level or
 * nested, and none has a device-TLB to invalidate), through QI?  The
 * answer for one DID is remembered (with its PSI descriptor word 0) until
 * the tags change. */
static __attribute__((noinline)) bool did_plain_walk(struct vtd_unit *vu, uint32_t did)
{
	struct list_node *pos;

	if (!vu->qi)
		return false; /* register-based invalidation: the general path */
	list_for_each(pos, &vu->tags) {
		struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);

		if (t->did != did)
			continue;
		if (t->kind == VTD_TAG_FL || t->kind == VTD_TAG_NESTED ||
		    (t->vd->ats && (vu->ecap & VTD_ECAP_DT)))
			return false;
	}
	vu->plain_did = did;
	vu->plain_q0 = vu->psi_q0 | FIELD_PREP(VTD_QI_IOTLB_DID, did);
	return true;
}

static inline bool did_plain(struct vtd_unit *vu, uint32_t did)
{
	return vu->plain_did == did || did_plain_walk(vu, did);
}

/* Out of line: its batch (1 KiB of stack) and calls stay off the hot path. */
static __attribute__((noinline)) int flush_general(struct vtd_unit *vu, const struct fam_flush *f,
						   uint32_t n)
{
	struct vtd_inv b;

	vtd_inv_init(&b, vu);
	for (uint32_t i = 0; i < n; i++)
		flush_one(&b, &f[i]);
	return vtd_inv_sync(&b);
}

int vtd_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct vtd_unit *vu = vtd_of(u);
	uint64_t addr;
	unsigned int am;

	/* Hot path (a strict unmap): one range of a second-level table, a DID
	 * whose tags need only the IOTLB, one page-selective chunk: exactly
	 * what the general path emits, without building a batch. */
	if (n == 1 && f->fmt != PGT_X86_FL && did_plain(vu, f->did) &&
	    vtd_psi_single(vu, f->iova, f->size, &addr, &am))
		return vtd_qi_psi_q0_sync(vu, vu->plain_q0, addr, am, f->leaf_only);
	return flush_general(vu, f, n);
}

/* Is @t a stage-1 (nested) translation the request names: the nested
 * HWPT's DID, or (FAM_S1_DID_ALL) any nested entry whose stage 2 is the
 * vIOMMU's (tag s2_did == VMID: every child of that vIOMMU on this unit). */
static bool s1_tag_match(const struct vtd_tag *t, uint32_t vmid, uint32_t s1_did)
{
	if (t->kind != VTD_TAG_NESTED)
		return false;
	return s1_did == FAM_S1_DID_ALL ? t->s2_did == vmid : t->did == s1_did;
}

/* User (stage-1) invalidation for nested HWPTs: one descriptor (or chunk
 * set) per entry and matching PASID entry, one wait at the end.  Combined
 * (nested) IOTLB entries are tagged with the nested entry's DID and PASID
 * (VT-d 6.2.1, 6.5.2.4): PASID-based IOTLB invalidation of each. */
int vtd_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			 const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done)
{
	struct vtd_unit *vu = vtd_of(u);
	struct vtd_inv b;
	uint32_t i;
	int rc = 0;

	*done = 0;
	if (!vu->sm || !vu->qi)
		return -EOPNOTSUPP;
	vtd_inv_init(&b, vu);
	for (i = 0; i < n; i++) {
		struct list_node *pos;

		switch (e[i].type) {
		case UIOMMU_INV_S1_ALL:
		case UIOMMU_INV_S1_RANGE:
		case UIOMMU_INV_S1_PASID:
			list_for_each(pos, &vu->tags) {
				struct vtd_tag *t = list_entry(pos, struct vtd_tag, link);
				uint64_t len = e[i].type == UIOMMU_INV_S1_RANGE ? e[i].len : 0;
				uint64_t addr = e[i].type == UIOMMU_INV_S1_RANGE ? e[i].addr : 0;

				if (!s1_tag_match(t, vmid, s1_did))
					continue;
				if (e[i].type == UIOMMU_INV_S1_PASID && t->pasid != e[i].pasid)
					continue;
				vtd_inv_piotlb(&b, t->did, t->pasid, addr, len,
					       (e[i].flags & UIOMMU_INV_F_LEAF) && len);
				vtd_inv_devtlb(&b, t->vd, t->pasid, addr, len);
			}
			break;
		case UIOMMU_INV_DEV_TLB:
		case UIOMMU_INV_CFG: {
			struct uiommu_device *dev = uobj_lookup(u->ctx, e[i].dev_id, UOBJ_DEVICE);
			struct vtd_dev *vd = dev && dev->unit == u ? dev->priv : NULL;
			uint32_t p = e[i].pasid == UIOMMU_NO_PASID ? RID_PASID : e[i].pasid;
			struct vtd_tag *t;

			if (!vd) {
				rc = -EINVAL;
				goto out;
			}
			if (e[i].type == UIOMMU_INV_DEV_TLB) {
				vtd_inv_devtlb(&b, vd, p, e[i].addr, e[i].len);
				break;
			}
			/* The PASID cache tags an entry with the DID it holds
			 * (6.5.2.6): the installed entry's; else the HWPT's ID;
			 * for the whole vIOMMU without an entry, globally. */
			t = tag_find(vu, vd, p);
			if (t)
				vtd_inv_pc(&b, t->did, p);
			else if (s1_did != FAM_S1_DID_ALL && s1_did != FAM_S1_DID_NONE)
				vtd_inv_pc(&b, s1_did, p);
			else
				vtd_inv_pc_global(&b);
			break;
		}
		default:
			rc = -EINVAL;
			goto out;
		}
	}
out:
	{
		int r = vtd_inv_sync(&b);

		if (r)
			return r;
	}
	*done = i;
	return rc;
}
