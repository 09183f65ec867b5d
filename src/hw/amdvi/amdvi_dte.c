/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi device table (AMD IOMMU 2.2.2): one 256-bit entry per DeviceID,
 * every one V = 1, TV = 1, IR = IW = 0, Mode 0 ("blocked": DMA is
 * target-aborted) until a device is attached.  A DTE with V = 0 or TV = 0
 * would let DMA through untranslated: no entry ever has them clear.
 *
 * Writing an entry: words 3..1 first, word 0 (V, TV, Mode, root, IR/IW)
 * last, then INVALIDATE_DEVTAB_ENTRY and one COMPLETION_WAIT.  A device
 * with an IVRS alias (its DeviceID on the unit differs from its RID) gets
 * the same entry at both IDs, as Linux's amd_iommu does: a DMA seen with
 * either uses the same translation.
 *
 * The table holds all 65536 DeviceIDs, or fewer when memory has no
 * contiguous 2 MiB: Device Table Base.Size says so, and larger DeviceIDs
 * are refused at dev_probe.
 *
 * DomainIDs are the core's domain IDs (from 1; DomainID 0 tags the
 * blocked entries, which cache nothing).  One v1 table can be installed
 * under several DomainIDs on several units: the core flushes each.
 *
 * Nesting (EFR.GTSup): a nested HWPT carries the guest's GCR3 table root,
 * GLX and GIoV; its DTE is the parent's v1 table (Mode, root) plus GV and
 * those fields, under the nested HWPT's DomainID.  User invalidations
 * (uiommu_cache_invalidate) map 1:1 onto INVALIDATE_IOMMU_PAGES with GN
 * and the PASID, INVALIDATE_DEVTAB_ENTRY and INVALIDATE_IOTLB_PAGES.
 * Our own v2 tables (UIOMMU_HWPT_STAGE1) and PASIDs go through a GCR3
 * table per device: amdvi_gcr3.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

void amdvi_dte_blocked(uint64_t d[AMDVI_DTE_WORDS])
{
	d[0] = AMDVI_DTE0_V | AMDVI_DTE0_TV;
	d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, AMDVI_DOMID_BLOCKED);
	d[2] = 0;
	d[3] = 0;
}

static uint64_t *dte_at(struct amdvi_unit *au, uint16_t devid)
{
	return (uint64_t *)((uint8_t *)au->devtab.va + (size_t)devid * AMDVI_DTE_SIZE);
}

/* Word 0 last, each word one store: a walker that reads the entry while
 * it changes sees either the old word 0 or the new one. */
static void dte_write(struct amdvi_unit *au, uint16_t devid, const uint64_t d[AMDVI_DTE_WORDS])
{
	uint64_t *p = dte_at(au, devid);

	for (int i = AMDVI_DTE_WORDS - 1; i >= 1; i--)
		__atomic_store_n(&p[i], d[i], __ATOMIC_RELAXED);
	__atomic_store_n(&p[0], d[0], __ATOMIC_RELEASE);
}

int amdvi_devtab_init(struct amdvi_unit *au, bool small)
{
	uint64_t d[AMDVI_DTE_WORDS];
	int rc;

	/* The whole 2 MiB.  A smaller table (down to bus 0's 256 IDs) only
	 * when the user asked for it (DPDK in IOVA-as-PA mode gives 1 MiB
	 * blocks): Device Table Base.Size tells the unit and devices with a
	 * larger DeviceID are refused at dev_probe, but a requester we do
	 * not know with such an ID would have the unit read past the
	 * table. */
	for (uint32_t n = AMDVI_NR_DEVIDS;; n /= 2) {
		rc = uenv_dma_alloc((size_t)n * AMDVI_DTE_SIZE, 4096, au->u->numa_node,
				    &au->devtab);
		if (!rc) {
			au->nr_dte = n;
			break;
		}
		if (rc == -ENOMEM && !small) {
			AMDVI_LOG(ERR,
				  "unit at 0x%llx: no contiguous 2 MiB for the device table "
				  "(65536 DeviceIDs); a smaller table is opt-in "
				  "(UIOMMU_AMDVI_F_SMALL_DEVTAB)",
				  (unsigned long long)au->u->reg_base);
			return rc;
		}
		if (rc != -ENOMEM || n <= 256)
			return rc;
	}
	if (au->nr_dte < AMDVI_NR_DEVIDS)
		AMDVI_LOG(WARNING,
			  "unit at 0x%llx: device table for DeviceIDs below 0x%x only "
			  "(no contiguous 2 MiB)",
			  (unsigned long long)au->u->reg_base, au->nr_dte);
	amdvi_dte_blocked(d);
	for (uint32_t id = 0; id < au->nr_dte; id++)
		dte_write(au, (uint16_t)id, d);
	return 0;
}

void amdvi_devtab_block_devices(struct amdvi_unit *au)
{
	uint64_t d[AMDVI_DTE_WORDS];
	struct list_node *pos;

	amdvi_dte_blocked(d);
	list_for_each(pos, &au->devs)
	{
		struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

		dte_write(au, ad->devid, d);
		if (ad->alias)
			dte_write(au, ad->rid, d);
	}
}

void amdvi_devtab_fini(struct amdvi_unit *au)
{
	if (au->devtab.va)
		uenv_dma_free(&au->devtab);
	memset(&au->devtab, 0, sizeof(au->devtab));
}

static struct amdvi_dev *dev_by_id(struct amdvi_unit *au, uint16_t id)
{
	struct list_node *pos;

	list_for_each(pos, &au->devs)
	{
		struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

		if (ad->devid == id || (ad->alias && ad->rid == id))
			return ad;
	}
	return NULL;
}

int amdvi_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad;
	uint16_t rid = (uint16_t)(dev->desc.bus << 8 | dev->desc.devfn);

	if (dev->desc.hw_id > UINT16_MAX) {
		AMDVI_LOG(ERR, "DeviceID 0x%x is wider than 16 bits", dev->desc.hw_id);
		return -EINVAL;
	}
	if (dev->desc.hw_id >= au->nr_dte || rid >= au->nr_dte) {
		AMDVI_LOG(ERR,
			  "unit %u: DeviceID 0x%x / RID 0x%x beyond the device table (0x%x IDs)",
			  u->obj.id, dev->desc.hw_id, rid, au->nr_dte);
		return -ERANGE;
	}
	/* Two devices behind one alias would share a DTE: refuse. */
	if (dev_by_id(au, (uint16_t)dev->desc.hw_id) ||
	    (rid != dev->desc.hw_id && dev_by_id(au, rid))) {
		AMDVI_LOG(ERR,
			  "unit %u: DeviceID 0x%x / RID 0x%x already used by another device "
			  "(an IVRS alias shared by several functions)",
			  u->obj.id, dev->desc.hw_id, rid);
		return -EBUSY;
	}
	ad = uenv_zalloc(sizeof(*ad));
	if (!ad)
		return -ENOMEM;
	ad->dev = dev;
	ad->devid = (uint16_t)dev->desc.hw_id;
	ad->rid = rid;
	/* A device added without a BDF (bus 0, devfn 0, hw_id elsewhere) has
	 * no alias of its own to program. */
	ad->alias = rid != ad->devid && (dev->desc.bus || dev->desc.devfn);
	ad->ats = dev->desc.ats;
	au->n_ats += ad->ats ? 1u : 0u;
	ad->pri = dev->desc.pri && au->ppr;
	ad->did = AMDVI_DOMID_BLOCKED;
	list_add_tail(&au->devs, &ad->link);
	dev->priv = ad;
	return 0;
}

/* Check a RID attachment the unit can program: 0, -EOPNOTSUPP, -EINVAL. */
static int rid_check(struct amdvi_unit *au, const struct fam_attach *a)
{
	const struct pgt_cfg *c = a->kind == FAM_ATTACH_NESTED ? a->s2_cfg : a->cfg;

	switch (a->kind) {
	case FAM_ATTACH_BLOCKED:
		return 0;
	case FAM_ATTACH_IDENTITY:
		break;
	case FAM_ATTACH_NESTED:
	case FAM_ATTACH_PAGING:
		/* Nested: the parent's v1 table is the host table. */
		if (!c)
			return -EINVAL;
		if (c->fmt == PGT_X86_FL && a->kind == FAM_ATTACH_PAGING) {
			if (!au->v2)
				return -EOPNOTSUPP;
			if (c->levels != 4 || (c->root_pa & ~AMDVI_GCR3_ADDR) || !c->root_pa)
				return -EINVAL;
			break;
		}
		if (c->fmt != PGT_AMD_V1)
			return -EOPNOTSUPP;
		if (c->hw.amd.mode < 1 || c->hw.amd.mode > au->max_levels ||
		    (c->root_pa & ~AMDVI_DTE0_ROOT))
			return -EINVAL;
		if (a->kind == FAM_ATTACH_NESTED) {
			int rc = amdvi_s1_check(au->u, a->s1);

			if (rc)
				return rc;
		}
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (a->did > UINT16_MAX || a->did == AMDVI_DOMID_BLOCKED)
		return -EINVAL;
	return 0;
}

int amdvi_dte_compose(struct amdvi_unit *au, const struct amdvi_dev *ad,
		      uint64_t d[AMDVI_DTE_WORDS])
{
	amdvi_dte_blocked(d);
	if (au->failed) /* every entry stays blocked */
		return 0;
	if (ad->g) {
		/* Our own v2 tables: Mode 0 with IR/IW (their addresses are
		 * system addresses), GV, the GCR3 table; GIoV unless the RID
		 * passes through (a blocked RID: slot 0 empty, DMA faults). */
		d[0] |= AMDVI_DTE0_IR | AMDVI_DTE0_IW | AMDVI_DTE0_GV |
			FIELD_PREP(AMDVI_DTE0_GLX, ad->g->glx) |
			(ad->rid_kind == FAM_ATTACH_IDENTITY ? 0 : AMDVI_DTE0_GIOV);
		d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, ad->g->did);
		amdvi_dte_set_gcr3(d, ad->g->root.iova);
	} else {
		switch (ad->rid_kind) {
		case FAM_ATTACH_BLOCKED:
			return 0;
		case FAM_ATTACH_IDENTITY: /* Mode 0 with IR/IW: untranslated, permitted */
		case FAM_ATTACH_PAGING:
		case FAM_ATTACH_NESTED:
			d[0] |= ad->rid_d0;
			d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, ad->rid_did) | ad->rid_d1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (ad->ats)
		d[1] |= AMDVI_DTE1_I;
	if (ad->pri)
		d[0] |= AMDVI_DTE0_PPR;
	return 0;
}

/* The host part of a v1 / identity / nested RID attachment's DTE words
 * 0 and 1 (GCR3 fields of a nested one included). */
static void rid_words(const struct fam_attach *a, uint64_t *d0, uint64_t d1_gcr3[2])
{
	const struct pgt_cfg *c = a->kind == FAM_ATTACH_NESTED ? a->s2_cfg : a->cfg;

	*d0 = AMDVI_DTE0_IR | AMDVI_DTE0_IW;
	d1_gcr3[0] = d1_gcr3[1] = 0;
	if (a->kind == FAM_ATTACH_IDENTITY)
		return;
	*d0 |= FIELD_PREP(AMDVI_DTE0_MODE, c->hw.amd.mode) | (c->root_pa & AMDVI_DTE0_ROOT);
	if (a->kind == FAM_ATTACH_NESTED) {
		const struct uiommu_hwpt_s1_data *s1 = a->s1;

		/* The guest's GCR3 table over the host table (AMD IOMMU 2.2.2.1:
		 * GV, GLX, GCR3 Table Root Pointer, GIoV). */
		*d0 |= AMDVI_DTE0_GV | FIELD_PREP(AMDVI_DTE0_GLX, s1->u.amdvi.glx) |
		       (s1->u.amdvi.giov ? AMDVI_DTE0_GIOV : 0);
		amdvi_dte_set_gcr3(d1_gcr3, s1->u.amdvi.gcr3);
		*d0 |= d1_gcr3[0];
	}
}

/* Write @d at the device's IDs and make the unit forget the old entry.
 * @old_did: the DomainID the entry had when it translated (else
 * AMDVI_DOMID_BLOCKED). */
int amdvi_dte_install(struct amdvi_unit *au, struct amdvi_dev *ad, const uint64_t *d,
		      uint32_t old_did)
{
	uint32_t new_did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
	const uint64_t *cur = dte_at(au, ad->devid);
	struct amdvi_batch b;
	struct amdvi_cmd c;
	int rc0 = 0, rc;

	/* The GCR3 table root is split over words 0 and 1 (2.2.2.1): with
	 * GV set in the live entry, a new word 1 under the old word 0 names
	 * a GCR3 table that is neither the old nor the new one.  Such an
	 * entry is blocked first (word 0 alone: V, TV, Mode 0, GV clear),
	 * the unit forgets it, and only then are the other words written.
	 * (The alias carries the same entry.) */
	if ((__atomic_load_n(&cur[0], __ATOMIC_ACQUIRE) & AMDVI_DTE0_GV) &&
	    (cur[1] != d[1] || cur[2] != d[2] || cur[3] != d[3])) {
		uint64_t blk[AMDVI_DTE_WORDS];

		amdvi_dte_blocked(blk);
		__atomic_store_n((uint64_t *)&cur[0], blk[0], __ATOMIC_RELEASE);
		if (ad->alias)
			__atomic_store_n(&dte_at(au, ad->rid)[0], blk[0], __ATOMIC_RELEASE);
		amdvi_batch_init(&b, au);
		amdvi_cmd_inv_dte(&c, ad->devid);
		amdvi_batch_add(&b, &c);
		au->stats.inv_dte++;
		if (ad->alias) {
			amdvi_cmd_inv_dte(&c, ad->rid);
			amdvi_batch_add(&b, &c);
			au->stats.inv_dte++;
		}
		/* A failed wait was recovered with a global invalidation:
		 * the blocked entry is what the unit sees either way. */
		rc0 = amdvi_batch_sync(&b);
	}
	dte_write(au, ad->devid, d);
	if (ad->alias)
		dte_write(au, ad->rid, d);
	amdvi_batch_init(&b, au);
	amdvi_cmd_inv_dte(&c, ad->devid);
	amdvi_batch_add(&b, &c);
	au->stats.inv_dte++;
	if (ad->alias) {
		amdvi_cmd_inv_dte(&c, ad->rid);
		amdvi_batch_add(&b, &c);
		au->stats.inv_dte++;
	}
	/* Word 1 (DomainID) and word 0 (root) are two stores: a walk between
	 * them could have cached the old table under the new DomainID.
	 * Replacing one translating entry by another with a different
	 * DomainID therefore also drops the new DomainID's translations. */
	if (old_did != AMDVI_DOMID_BLOCKED && new_did != old_did &&
	    new_did != AMDVI_DOMID_BLOCKED) {
		amdvi_cmd_inv_pages(&c, (uint16_t)new_did, 0, 0, true);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
	}
	if (ad->ats && old_did != AMDVI_DOMID_BLOCKED) {
		amdvi_cmd_inv_iotlb(&c, ad->devid, 0, 0);
		amdvi_batch_add(&b, &c);
		au->stats.inv_iotlb++;
	}
	rc = amdvi_batch_sync(&b);
	return rc ? rc : rc0;
}

bool amdvi_dte_is(struct amdvi_unit *au, const struct amdvi_dev *ad, const uint64_t *d)
{
	const uint64_t *cur = dte_at(au, ad->devid);

	return __atomic_load_n(&cur[0], __ATOMIC_ACQUIRE) == d[0] && cur[1] == d[1] &&
	       cur[2] == d[2] && cur[3] == d[3];
}

/* Does the device have PASIDs of ours (slots other than the RID's)? */
static bool has_pasids(const struct amdvi_dev *ad)
{
	return ad->g && ad->g->n > (ad->rid_v2 ? 1u : 0u);
}

/* The RID: v1 / identity / nested / blocked in the DTE itself, a v2
 * table in slot 0 of the device's GCR3 table. */
static int rid_set(struct amdvi_unit *au, struct amdvi_dev *ad, const struct fam_attach *a)
{
	bool v2 = a->kind == FAM_ATTACH_PAGING && a->cfg->fmt == PGT_X86_FL;
	uint8_t o_kind = ad->rid_kind;
	bool o_v2 = ad->rid_v2;
	uint32_t o_did = ad->rid_did;
	uint64_t o_d0 = ad->rid_d0, o_d1 = ad->rid_d1, w[2];
	const struct amdvi_rid_state o_rid = {
		.kind = o_kind, .v2 = o_v2, .did = o_did, .d0 = o_d0, .d1 = o_d1};
	int rc;

	if (has_pasids(ad) && (a->kind == FAM_ATTACH_NESTED || (a->kind == FAM_ATTACH_PAGING && !v2))) {
		AMDVI_LOG(ERR,
			  "unit %u: DeviceID 0x%x has PASIDs attached: its RID can be on a v2 "
			  "table, identity or blocked, not on a v1 or a guest's table",
			  au->u->obj.id, ad->devid);
		return -EBUSY;
	}
	ad->rid_kind = (uint8_t)a->kind;
	ad->rid_v2 = v2;
	ad->rid_did = a->kind == FAM_ATTACH_BLOCKED ? AMDVI_DOMID_BLOCKED : a->did;
	ad->rid_d0 = ad->rid_d1 = 0;
	if (!v2 && a->kind != FAM_ATTACH_BLOCKED) {
		rid_words(a, &ad->rid_d0, w);
		ad->rid_d1 = w[1];
	}
	if (v2 || o_v2) {
		rc = amdvi_gcr3_set(au, ad, 0, v2 ? a->cfg->root_pa : 0, a->did, &o_rid);
		if ((rc == -EIO || rc == -ETIMEDOUT) && !au->failed &&
		    a->kind != FAM_ATTACH_BLOCKED)
			return rc; /* put back (amdvi_gcr3_set) */
	} else {
		uint64_t d[AMDVI_DTE_WORDS];
		uint32_t old = ad->translating ? ad->did : AMDVI_DOMID_BLOCKED;

		rc = amdvi_dte_compose(au, ad, d);
		if (!rc && ad->g) {
			rc = amdvi_gcr3_set(au, ad, UIOMMU_NO_PASID, 0, 0, &o_rid);
			if ((rc == -EIO || rc == -ETIMEDOUT) && !au->failed &&
			    a->kind != FAM_ATTACH_BLOCKED)
				return rc; /* put back (amdvi_gcr3_set) */
		} else if (!rc) {
			uint32_t o_hw_did = ad->did;
			bool o_translating = ad->translating;

			rc = amdvi_dte_install(au, ad, d, old);
			/* The entry is in memory whatever the wait said. */
			ad->did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
			ad->translating = a->kind != FAM_ATTACH_BLOCKED || ad->g;
			/* A detach is not undone: the core releases the
			 * attachment whatever the wait said, and the blocked
			 * entry is what the recovered unit sees. */
			if ((rc == -EIO || rc == -ETIMEDOUT) && !au->failed &&
			    a->kind != FAM_ATTACH_BLOCKED) {
				/* The wait failed and was recovered (a global
				 * invalidation): the new entry is in force, but
				 * the core keeps the old attachment and may free
				 * the new table.  All or nothing: the old entry
				 * goes back; if that cannot be made the unit's
				 * view, the unit fails (every entry blocked). */
				uint64_t od[AMDVI_DTE_WORDS];

				ad->rid_kind = o_kind;
				ad->rid_v2 = o_v2;
				ad->rid_did = o_did;
				ad->rid_d0 = o_d0;
				ad->rid_d1 = o_d1;
				if (amdvi_dte_compose(au, ad, od) ||
				    amdvi_dte_install(au, ad, od, ad->did))
					amdvi_unit_fail(au, rc);
				ad->did = o_hw_did;
				ad->translating = o_translating;
				AMDVI_LOG(ERR,
					  "unit %u: DeviceID 0x%x: the new entry's invalidation "
					  "failed (%d): %s",
					  au->u->obj.id, ad->devid, rc,
					  au->failed ? "unit failed" : "the old entry is back");
				return rc;
			}
		}
	}
	if (rc == -ENOMEM || rc == -ENOSPC || rc == -EINVAL) {
		/* Refused before anything was written (allocations, the root):
		 * the state is the old one.  (-EIO / -ETIMEDOUT: the entry is
		 * in memory and the unit was brought in line with it.) */
		ad->rid_kind = o_kind;
		ad->rid_v2 = o_v2;
		ad->rid_did = o_did;
		ad->rid_d0 = o_d0;
		ad->rid_d1 = o_d1;
		return rc;
	}
	ad->nested = a->kind == FAM_ATTACH_NESTED;
	ad->vmid = ad->nested ? a->s2_did : 0;
	return rc;
}

/* A PASID: a v2 table in its slot of the device's GCR3 table, or none. */
static int pasid_set(struct amdvi_unit *au, struct amdvi_dev *ad, uint32_t pasid,
		     const struct fam_attach *a)
{
	if (!au->v2)
		return -EOPNOTSUPP;
	/* PASID 0 is the RID's slot under GIoV. */
	if (pasid == 0 || pasid >= (1u << au->pasid_bits))
		return -EINVAL;
	if (a->kind != FAM_ATTACH_BLOCKED &&
	    (a->kind != FAM_ATTACH_PAGING || a->cfg->fmt != PGT_X86_FL))
		return -EOPNOTSUPP; /* a PASID is translated by a v2 table only */
	if (a->kind == FAM_ATTACH_BLOCKED)
		return amdvi_gcr3_set(au, ad, pasid, 0, 0, NULL);
	if (ad->rid_kind == FAM_ATTACH_NESTED ||
	    (ad->rid_kind == FAM_ATTACH_PAGING && !ad->rid_v2)) {
		AMDVI_LOG(ERR,
			  "unit %u: DeviceID 0x%x: PASIDs need the RID on a v2 table, identity or "
			  "blocked (it is on a v1 or a guest's table)",
			  au->u->obj.id, ad->devid);
		return -EBUSY;
	}
	return amdvi_gcr3_set(au, ad, pasid, a->cfg->root_pa, a->did, NULL);
}

int amdvi_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		  const struct fam_attach *a)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	int rc;

	if (!ad)
		return -ENODEV;
	if (au->failed && a->kind != FAM_ATTACH_BLOCKED) {
		AMDVI_LOG(ERR, "unit %u failed (a global invalidation did not complete): "
			       "no attachment; remove the unit and add it again",
			  u->obj.id);
		return -EIO;
	}
	rc = rid_check(au, a);
	if (rc)
		return rc;
	if (pasid != UIOMMU_NO_PASID)
		return pasid_set(au, ad, pasid, a);
	return rid_set(au, ad, a);
}

int amdvi_dev_release(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	uint64_t d[AMDVI_DTE_WORDS];
	int rc = 0;

	if (!ad)
		return 0;
	if (ad->translating) {
		amdvi_dte_blocked(d);
		rc = amdvi_dte_install(au, ad, d, ad->did);
	}
	amdvi_gcr3_free(au, ad);
	au->n_ats -= ad->ats ? 1u : 0u;
	list_del(&ad->link);
	dev->priv = NULL;
	uenv_free(ad);
	return rc;
}

/* ------------------------------------------------------------ flush */

/* The general case: a batch (one COMPLETION_WAIT), the devices scanned
 * for ATS ones and v2 tables.  (Out of line: its batch's stack frame is
 * not the fast path's.) */
static __attribute__((noinline)) int flush_batch(struct amdvi_unit *au, const struct fam_flush *f,
						 uint32_t n)
{
	struct amdvi_batch b;
	struct amdvi_cmd c;

	amdvi_batch_init(&b, au);
	for (uint32_t i = 0; i < n; i++) {
		struct list_node *pos;

		if (f[i].did > UINT16_MAX)
			continue;
		if (f[i].fmt == PGT_X86_FL) {
			/* A v2 table: cached under each device's GCR3 DomainID
			 * and the PASIDs that hold it. */
			amdvi_gcr3_flush(au, &b, &f[i]);
			continue;
		}
		/* PDE: table pages were freed, the unit may cache them. */
		amdvi_cmd_inv_pages(&c, (uint16_t)f[i].did, f[i].iova, f[i].size, !f[i].leaf_only);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
		if (!au->n_ats)
			continue; /* no device's IOTLB to invalidate */
		list_for_each(pos, &au->devs)
		{
			struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

			if (!ad->ats || !ad->translating || ad->did != f[i].did)
				continue;
			amdvi_cmd_inv_iotlb(&c, ad->devid, f[i].iova, f[i].size);
			amdvi_batch_add(&b, &c);
			au->stats.inv_iotlb++;
		}
	}
	return amdvi_batch_sync(&b);
}

/* One range of a v2 table: when one GCR3 slot of one device without
 * ATS holds it, the command amdvi_gcr3_flush would batch
 * (amdvi_cmd_inv_pages_pasid: the GCR3 DomainID, the PASID, GN) and its
 * COMPLETION_WAIT straight into the buffer; else the batch.  Out of
 * line: the v1 path's registers stay its own. */
static __attribute__((noinline)) int flush_v2_one(struct amdvi_unit *au, const struct fam_flush *f)
{
	uint32_t gdid, pasid;

	if (!amdvi_gcr3_sole(au, f->did, &gdid, &pasid))
		return flush_batch(au, f, 1);
	au->stats.inv_pages++;
	return amdvi_cmd_sync1(au,
			       FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_IOMMU_PAGES) |
				       FIELD_PREP(AMDVI_INVP_DOMID, gdid) |
				       FIELD_PREP(AMDVI_INVP_PASID, pasid),
			       amdvi_inv_range(f->iova, f->size) | AMDVI_INV_GN |
				       (f->leaf_only ? 0 : AMDVI_INV_PDE));
}

int amdvi_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct amdvi_unit *au = amdvi_of(u);

	/* The strict unmap's case: one v1 range, no ATS device on the unit
	 * (no INVALIDATE_IOTLB_PAGES to add): its command, built in place
	 * (one page: the page's address, S = 0), and the COMPLETION_WAIT
	 * straight into the buffer, no batch, no device scan, no call but
	 * the doorbell's; the wait's slow part out of line.  The same
	 * commands flush_batch would issue. */
	if (n == 1 && f->fmt != PGT_X86_FL && !au->n_ats) {
		if (__builtin_expect(f->did > UINT16_MAX, 0))
			return 0;
		au->stats.inv_pages++;
		/* amdvi_cmd_inv_pages: the DomainID (16 bits, checked) shifted
		 * in place; PDE when table pages were freed (the unit may
		 * cache them): leaf_only - 1 is all ones when it is false. */
		static_assert(AMDVI_INVP_DOMID == 0xffffull << 32, "DomainID in bits 47:32");
		return amdvi_cmd_sync1(au,
				       FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_INV_IOMMU_PAGES) |
					       (uint64_t)f->did << 32,
				       amdvi_inv_range(f->iova, f->size) |
					       (((uint64_t)f->leaf_only - 1) & AMDVI_INV_PDE));
	}
	if (n == 1 && f->fmt == PGT_X86_FL)
		return flush_v2_one(au, f);
	return flush_batch(au, f, n);
}

/* A nested HWPT's guest fields the unit can carry: 0, -EINVAL. */
int amdvi_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1)
{
	struct amdvi_unit *au = amdvi_of(u);

	if (!au->gt || s1->family != UIOMMU_FAMILY_AMDVI)
		return -EINVAL;
	/* GIoV (requests without a PASID through PASID 0's guest table)
	 * needs EFR.GIoSup; without it the unit rejects the DTE. */
	if (s1->u.amdvi.giov && !(au->efr & AMDVI_EFR_GIO_SUP)) {
		AMDVI_LOG(ERR, "unit %u: GIoV asked, the unit has no EFR.GIoSup", u->obj.id);
		return -EINVAL;
	}
	if (s1->u.amdvi.glx > au->glx_max || s1->u.amdvi.giov > 1 || (s1->u.amdvi.gcr3 & 0xfff) ||
	    (s1->u.amdvi.gcr3 >> 52))
		return -EINVAL;
	return 0;
}

/* The device object @id of this unit (NULL: none). */
static struct amdvi_dev *dev_by_obj(struct amdvi_unit *au, uint32_t id)
{
	struct list_node *pos;

	list_for_each(pos, &au->devs)
	{
		struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

		if (ad->dev->obj.id == id)
			return ad;
	}
	return NULL;
}

/* One stage-1 entry under DomainID @did: INVALIDATE_IOMMU_PAGES, with GN
 * and the PASID for S1_RANGE / S1_PASID. */
static void s1_inv(struct amdvi_unit *au, struct amdvi_batch *b, const struct uiommu_inv_entry *e,
		   uint16_t did)
{
	struct amdvi_cmd c;

	if (e->type == UIOMMU_INV_S1_ALL) {
		amdvi_cmd_inv_pages(&c, did, 0, 0, true);
	} else {
		bool range = e->type == UIOMMU_INV_S1_RANGE;

		amdvi_cmd_inv_pages(&c, did, range ? e->addr : 0, range ? e->len : 0,
				    !(e->flags & UIOMMU_INV_F_LEAF));
		c.w[0] |= FIELD_PREP(AMDVI_INVP_PASID, e->pasid);
		c.w[1] |= AMDVI_INV_GN;
	}
	amdvi_batch_add(b, &c);
	au->stats.inv_pages++;
}

/* Does a device before @ad in the list have @ad's nested DomainID under
 * @vmid (already invalidated)? */
static bool did_seen(const struct amdvi_unit *au, const struct amdvi_dev *ad, uint32_t vmid)
{
	for (const struct list_node *pos = au->devs.next; pos != &ad->link; pos = pos->next) {
		const struct amdvi_dev *o = list_entry(pos, struct amdvi_dev, link);

		if (o->nested && o->vmid == vmid && o->did == ad->did)
			return true;
	}
	return false;
}

/* Guest (stage-1) invalidations of a nested HWPT (DomainID @s1_did) or of
 * every nested DomainID of the unit (FAM_S1_DID_ALL), each entry one
 * command, one COMPLETION_WAIT at the end:
 *   S1_RANGE / S1_PASID -> INVALIDATE_IOMMU_PAGES with GN and the PASID
 *   S1_ALL              -> INVALIDATE_IOMMU_PAGES of the whole DomainID
 *   DEV_TLB             -> INVALIDATE_IOTLB_PAGES (ATS devices)
 *   CFG                 -> INVALIDATE_DEVTAB_ENTRY (the device's DTE)
 */
int amdvi_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			   const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_batch b;
	struct amdvi_cmd c;
	int rc;

	*done = 0;
	if (!au->gt)
		return -EOPNOTSUPP;
	if (s1_did != FAM_S1_DID_ALL && s1_did != FAM_S1_DID_NONE && s1_did > UINT16_MAX)
		return -EINVAL;
	/* Everything is checked before a command is issued.  A device named
	 * by DEV_TLB / CFG is one of this unit's, and not one nested under
	 * another vIOMMU: a user reaches its own vIOMMU's devices only. */
	for (uint32_t i = 0; i < n; i++) {
		const struct amdvi_dev *ad;

		if ((e[i].type == UIOMMU_INV_S1_RANGE || e[i].type == UIOMMU_INV_S1_PASID) &&
		    e[i].pasid >= (1u << 20))
			return -EINVAL;
		if (e[i].type != UIOMMU_INV_DEV_TLB && e[i].type != UIOMMU_INV_CFG)
			continue;
		ad = dev_by_obj(au, e[i].dev_id);
		if (!ad || (ad->nested && ad->vmid != vmid)) {
			AMDVI_LOG(ERR,
				  "unit %u: invalidation names device %u, not one of this vIOMMU",
				  u->obj.id, e[i].dev_id);
			return -EINVAL;
		}
	}
	amdvi_batch_init(&b, au);
	for (uint32_t i = 0; i < n; i++) {
		struct amdvi_dev *ad;

		switch (e[i].type) {
		case UIOMMU_INV_S1_RANGE:
		case UIOMMU_INV_S1_PASID:
		case UIOMMU_INV_S1_ALL:
			/* The nested HWPT's DomainID, or (the whole vIOMMU) every
			 * DomainID nested under this vIOMMU, each once. */
			if (s1_did != FAM_S1_DID_ALL) {
				if (s1_did != FAM_S1_DID_NONE)
					s1_inv(au, &b, &e[i], (uint16_t)s1_did);
				break;
			}
			for (struct list_node *pos = au->devs.next; pos != &au->devs;
			     pos = pos->next) {
				ad = list_entry(pos, struct amdvi_dev, link);
				if (ad->nested && ad->vmid == vmid && !did_seen(au, ad, vmid))
					s1_inv(au, &b, &e[i], (uint16_t)ad->did);
			}
			break;
		case UIOMMU_INV_DEV_TLB:
			ad = dev_by_obj(au, e[i].dev_id);
			if (ad->ats) {
				amdvi_cmd_inv_iotlb(&c, ad->devid, e[i].addr, e[i].len);
				amdvi_batch_add(&b, &c);
				au->stats.inv_iotlb++;
			}
			break;
		case UIOMMU_INV_CFG:
			ad = dev_by_obj(au, e[i].dev_id);
			amdvi_cmd_inv_dte(&c, ad->devid);
			amdvi_batch_add(&b, &c);
			au->stats.inv_dte++;
			if (ad->alias) {
				amdvi_cmd_inv_dte(&c, ad->rid);
				amdvi_batch_add(&b, &c);
				au->stats.inv_dte++;
			}
			break;
		default:
			break;
		}
	}
	rc = amdvi_batch_sync(&b);
	if (!rc)
		*done = n;
	return rc;
}

int amdvi_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
			uint32_t grpid, enum uiommu_page_resp code)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	struct amdvi_batch b;
	struct amdvi_cmd c;

	if (!ad || !au->ppr || !ad->pri)
		return -EOPNOTSUPP;
	if (grpid > 0x1ff || (pasid != UIOMMU_NO_PASID && pasid >= (1u << 20)))
		return -EINVAL;
	if (code != UIOMMU_PAGE_RESP_SUCCESS && code != UIOMMU_PAGE_RESP_INVALID &&
	    code != UIOMMU_PAGE_RESP_FAILURE)
		return -EINVAL;
	amdvi_batch_init(&b, au);
	amdvi_cmd_complete_ppr(&c, ad->devid, pasid, (uint16_t)grpid, (unsigned int)code);
	amdvi_batch_add(&b, &c);
	au->stats.ppr_done++;
	return amdvi_batch_sync(&b);
}

/* The DTE as the unit reads it, decoded: the device-context entry before
 * the v1 table (uiommu_device_ctx_walk, `uiommuctl walk`); for an IVRS
 * alias a second entry, the same DTE at the requester ID. */
static void dte_level(struct amdvi_unit *au, uint16_t devid, int alias_of,
		      struct uiommu_walk_level *o)
{
	const uint64_t *p = dte_at(au, devid);
	uint64_t d0 = __atomic_load_n(&p[0], __ATOMIC_ACQUIRE), d1 = p[1];
	unsigned int mode = (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, d0);
	size_t len = sizeof(o->text), n;
	char *buf = o->text;
	const char *what;

	memset(o, 0, sizeof(*o));
	o->table = au->devtab.iova;
	o->index = devid;
	o->entry = d0;
	o->present = (d0 & AMDVI_DTE0_V) && (d0 & AMDVI_DTE0_TV);
	n = (size_t)snprintf(buf, len, "DTE[%#06x]:%s%s Mode=%u", devid,
			     (d0 & AMDVI_DTE0_V) ? " V" : "", (d0 & AMDVI_DTE0_TV) ? " TV" : "",
			     mode);
	if (n < len && mode)
		n += (size_t)snprintf(buf + n, len - n, " Root=%#llx",
				      (unsigned long long)(d0 & AMDVI_DTE0_ROOT));
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s DomainID=%llu%s",
				      (d0 & AMDVI_DTE0_IR) ? " IR" : "",
				      (d0 & AMDVI_DTE0_IW) ? " IW" : "",
				      (d0 & AMDVI_DTE0_PPR) ? " PPR" : "",
				      (unsigned long long)FIELD_GET(AMDVI_DTE1_DOMID, d1),
				      (d1 & AMDVI_DTE1_I) ? " I" : "");
	if (n < len && (d0 & AMDVI_DTE0_GV)) {
		uint64_t dd[2] = {d0, d1};

		n += (size_t)snprintf(buf + n, len - n, " GV GLX=%u GCR3=%#llx%s",
				      (unsigned int)FIELD_GET(AMDVI_DTE0_GLX, d0),
				      (unsigned long long)amdvi_dte_gcr3(dd),
				      (d0 & AMDVI_DTE0_GIOV) ? " GIoV" : "");
	}
	if (!(d0 & AMDVI_DTE0_V) || !(d0 & AMDVI_DTE0_TV))
		what = "untranslated (V or TV clear)";
	else if (mode == AMDVI_MODE_NONE && !(d0 & (AMDVI_DTE0_IR | AMDVI_DTE0_IW)))
		what = "blocked";
	else if ((d0 & AMDVI_DTE0_GV) && mode == AMDVI_MODE_NONE)
		what = (d0 & AMDVI_DTE0_GIOV) ? "GCR3 table (v2), RID through slot 0"
					      : "GCR3 table (v2), RID pass-through";
	else if (mode == AMDVI_MODE_NONE)
		what = "pass-through";
	else if (d0 & AMDVI_DTE0_GV)
		what = "guest GCR3 over v1";
	else
		what = "v1 table";
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, " -- %s", what);
	if (n < len && alias_of >= 0)
		snprintf(buf + n, len - n, " (IVRS alias of %#06x)", (unsigned int)alias_of);
}

/* The GCR3 levels of @pasid in our own table, root first. */
static int gcr3_walk(const struct amdvi_gcr3 *g, uint32_t pasid, struct uiommu_walk_level *out,
		     int max)
{
	uint64_t table = g->root.iova;
	const uint64_t *t = g->root.va;
	int n = 0;

	for (int l = (int)g->glx; l >= 0 && n < max; l--) {
		struct uiommu_walk_level *o = &out[n++];
		unsigned int idx = (pasid >> (9 * l)) & 511;
		uint64_t e = __atomic_load_n(&t[idx], __ATOMIC_ACQUIRE);

		memset(o, 0, sizeof(*o));
		o->level = (uint32_t)l;
		o->table = table;
		o->index = idx;
		o->entry = e;
		o->present = e & AMDVI_GCR3_V;
		if (!o->present) {
			snprintf(o->text, sizeof(o->text),
				 "GCR3 L%d[%u]: not valid -- PASID %u%s has no table: DMA faults "
				 "(IO_PAGE_FAULT with GN)",
				 l, idx, pasid, pasid ? "" : " (the RID under GIoV)");
			break;
		}
		if (l) {
			snprintf(o->text, sizeof(o->text), "GCR3 L%d[%u]: V next=%#llx", l, idx,
				 (unsigned long long)(e & AMDVI_GCR3_ADDR));
			table = e & AMDVI_GCR3_ADDR;
			t = g->l0 ? g->l0[idx].va : NULL;
			if (!t || g->l0[idx].iova != table)
				break;
		} else {
			snprintf(o->text, sizeof(o->text),
				 "GCR3 L0[%u]: V CR3=%#llx -- PASID %u%s: v2 (x86-64 4-level) table",
				 idx, (unsigned long long)(e & AMDVI_GCR3_ADDR), pasid,
				 pasid ? "" : " (the RID under GIoV)");
		}
	}
	return n;
}

int amdvi_dev_walk(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid, uint64_t iova,
		   struct uiommu_walk_level *out, int max)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	int n = 0;

	(void)iova;
	if (!ad || !au || max < 1)
		return 0;
	dte_level(au, ad->devid, -1, &out[n++]);
	if (ad->alias && n < max)
		dte_level(au, ad->rid, ad->devid, &out[n++]);
	if (ad->g && n < max) {
		const uint64_t *p = dte_at(au, ad->devid);
		uint64_t d0 = __atomic_load_n(&p[0], __ATOMIC_ACQUIRE);

		/* Our own GCR3 table: the slot of @pasid (the RID: slot 0
		 * under GIoV), each level decoded; the v2 table follows
		 * (uiommu_hwpt_walk). */
		if (pasid != UIOMMU_NO_PASID || (d0 & AMDVI_DTE0_GIOV))
			n += gcr3_walk(ad->g, pasid == UIOMMU_NO_PASID ? 0 : pasid, &out[n], max - n);
		return n;
	}
	if (pasid != UIOMMU_NO_PASID && n < max) {
		const uint64_t *p = dte_at(au, ad->devid);
		uint64_t dd[2] = {__atomic_load_n(&p[0], __ATOMIC_ACQUIRE), p[1]};

		memset(&out[n], 0, sizeof(out[n]));
		if (dd[0] & AMDVI_DTE0_GV)
			/* The guest's table: its addresses are guest physical. */
			snprintf(out[n].text, sizeof(out[n].text),
				 "PASID %u: in the guest's GCR3 table at GPA %#llx (GLX=%u), "
				 "not walked",
				 pasid, (unsigned long long)amdvi_dte_gcr3(dd),
				 (unsigned int)FIELD_GET(AMDVI_DTE0_GLX, dd[0]));
		else
			snprintf(out[n].text, sizeof(out[n].text),
				 "PASID %u: no GCR3 table (GV clear): DMA with a PASID faults",
				 pasid);
		n++;
	}
	return n;
}
