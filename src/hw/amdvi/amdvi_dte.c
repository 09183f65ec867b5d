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
 * The driver builds no v2 tables of its own (UIOMMU_HWPT_STAGE1:
 * -EOPNOTSUPP) and attaches no PASIDs itself: they live in the guest's
 * GCR3 table.
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

int amdvi_devtab_init(struct amdvi_unit *au)
{
	uint64_t d[AMDVI_DTE_WORDS];
	int rc;

	/* The whole 2 MiB when the memory has it; a smaller table (down to
	 * bus 0's 256 IDs) where it does not (DPDK in IOVA-as-PA mode gives
	 * 1 MiB blocks): Device Table Base.Size tells the unit, and devices
	 * with a larger DeviceID are refused at dev_probe. */
	for (uint32_t n = AMDVI_NR_DEVIDS;; n /= 2) {
		rc = uenv_dma_alloc((size_t)n * AMDVI_DTE_SIZE, 4096, au->u->numa_node,
				    &au->devtab);
		if (!rc) {
			au->nr_dte = n;
			break;
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
	ad->pri = dev->desc.pri && au->ppr;
	ad->did = AMDVI_DOMID_BLOCKED;
	list_add_tail(&au->devs, &ad->link);
	dev->priv = ad;
	return 0;
}

/* Build the DTE of an attachment: 0, -EOPNOTSUPP, -EINVAL. */
static int dte_build(struct amdvi_unit *au, const struct amdvi_dev *ad, const struct fam_attach *a,
		     uint64_t d[AMDVI_DTE_WORDS])
{
	amdvi_dte_blocked(d);
	switch (a->kind) {
	case FAM_ATTACH_BLOCKED:
		return 0;
	case FAM_ATTACH_IDENTITY:
		/* Mode 0 with IR/IW: untranslated, permitted. */
		d[0] |= AMDVI_DTE0_IR | AMDVI_DTE0_IW;
		break;
	case FAM_ATTACH_NESTED:
	case FAM_ATTACH_PAGING: {
		/* Nested: the parent's v1 table is the host table. */
		const struct pgt_cfg *c = a->kind == FAM_ATTACH_NESTED ? a->s2_cfg : a->cfg;

		if (!c || c->fmt != PGT_AMD_V1) /* our own v2 tables need GCR3: not driven */
			return -EOPNOTSUPP;
		if (c->hw.amd.mode < 1 || c->hw.amd.mode > au->max_levels ||
		    (c->root_pa & ~AMDVI_DTE0_ROOT))
			return -EINVAL;
		d[0] |= AMDVI_DTE0_IR | AMDVI_DTE0_IW |
			FIELD_PREP(AMDVI_DTE0_MODE, c->hw.amd.mode) |
			(c->root_pa & AMDVI_DTE0_ROOT);
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	if (a->did > UINT16_MAX || a->did == AMDVI_DOMID_BLOCKED)
		return -EINVAL;
	d[1] = FIELD_PREP(AMDVI_DTE1_DOMID, a->did);
	if (a->kind == FAM_ATTACH_NESTED) {
		const struct uiommu_hwpt_s1_data *s1 = a->s1;
		int rc = amdvi_s1_check(au->u, s1);

		if (rc)
			return rc;
		/* The guest's GCR3 table over the host table (AMD IOMMU 2.2.2.1:
		 * GV, GLX, GCR3 Table Root Pointer, GIoV). */
		d[0] |= AMDVI_DTE0_GV | FIELD_PREP(AMDVI_DTE0_GLX, s1->u.amdvi.glx) |
			(s1->u.amdvi.giov ? AMDVI_DTE0_GIOV : 0);
		amdvi_dte_set_gcr3(d, s1->u.amdvi.gcr3);
	}
	if (ad->ats)
		d[1] |= AMDVI_DTE1_I;
	if (ad->pri)
		d[0] |= AMDVI_DTE0_PPR;
	return 0;
}

/* Write @d at the device's IDs and make the unit forget the old entry.
 * @old_did: the DomainID the entry had when it translated (else
 * AMDVI_DOMID_BLOCKED). */
static int dte_install(struct amdvi_unit *au, struct amdvi_dev *ad, const uint64_t *d,
		       uint32_t old_did)
{
	uint32_t new_did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
	struct amdvi_batch b;
	struct amdvi_cmd c;

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
	return amdvi_batch_sync(&b);
}

int amdvi_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		  const struct fam_attach *a)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	uint64_t d[AMDVI_DTE_WORDS];
	uint32_t old;
	int rc;

	if (!ad)
		return -ENODEV;
	if (pasid != UIOMMU_NO_PASID)
		return -EOPNOTSUPP; /* PASIDs need v2 / GCR3 tables */
	rc = dte_build(au, ad, a, d);
	if (rc)
		return rc;
	old = ad->translating ? ad->did : AMDVI_DOMID_BLOCKED;
	rc = dte_install(au, ad, d, old);
	/* The entry is in memory whatever the wait said: record it. */
	ad->did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
	ad->translating = a->kind != FAM_ATTACH_BLOCKED;
	ad->nested = a->kind == FAM_ATTACH_NESTED;
	return rc;
}

void amdvi_dev_release(struct uiommu_unit *u, struct uiommu_device *dev)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_dev *ad = dev->priv;
	uint64_t d[AMDVI_DTE_WORDS];

	if (!ad)
		return;
	if (ad->translating) {
		amdvi_dte_blocked(d);
		(void)dte_install(au, ad, d, ad->did);
	}
	list_del(&ad->link);
	dev->priv = NULL;
	uenv_free(ad);
}

/* ------------------------------------------------------------ flush */

int amdvi_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	struct amdvi_unit *au = amdvi_of(u);
	struct amdvi_batch b;
	struct amdvi_cmd c;

	amdvi_batch_init(&b, au);
	for (uint32_t i = 0; i < n; i++) {
		struct list_node *pos;

		if (f[i].did > UINT16_MAX)
			continue;
		/* PDE: table pages were freed, the unit may cache them. */
		amdvi_cmd_inv_pages(&c, (uint16_t)f[i].did, f[i].iova, f[i].size, !f[i].leaf_only);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
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

/* A nested HWPT's guest fields the unit can carry: 0, -EINVAL. */
int amdvi_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1)
{
	struct amdvi_unit *au = amdvi_of(u);

	if (!au->gt || s1->family != UIOMMU_FAMILY_AMDVI)
		return -EINVAL;
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
	uint32_t dids[32], nd = 0;
	struct amdvi_batch b;
	struct amdvi_cmd c;
	int rc;

	(void)vmid;
	*done = 0;
	if (!au->gt)
		return -EOPNOTSUPP;
	/* The DomainIDs the stage-1 entries reach. */
	if (s1_did == FAM_S1_DID_ALL) {
		struct list_node *pos;

		list_for_each(pos, &au->devs)
		{
			struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);
			bool seen = false;

			if (!ad->nested)
				continue;
			for (uint32_t i = 0; i < nd; i++)
				seen |= dids[i] == ad->did;
			if (!seen && nd < ARRAY_SIZE(dids))
				dids[nd++] = ad->did;
		}
	} else if (s1_did != FAM_S1_DID_NONE && s1_did <= UINT16_MAX) {
		dids[nd++] = s1_did;
	}
	/* Everything is checked before a command is issued. */
	for (uint32_t i = 0; i < n; i++) {
		if ((e[i].type == UIOMMU_INV_S1_RANGE || e[i].type == UIOMMU_INV_S1_PASID) &&
		    e[i].pasid >= (1u << 20))
			return -EINVAL;
		if ((e[i].type == UIOMMU_INV_DEV_TLB || e[i].type == UIOMMU_INV_CFG) &&
		    !dev_by_obj(au, e[i].dev_id))
			return -EINVAL;
	}
	amdvi_batch_init(&b, au);
	for (uint32_t i = 0; i < n; i++) {
		struct amdvi_dev *ad;

		switch (e[i].type) {
		case UIOMMU_INV_S1_RANGE:
		case UIOMMU_INV_S1_PASID:
			for (uint32_t k = 0; k < nd; k++) {
				amdvi_cmd_inv_pages(&c, (uint16_t)dids[k],
						    e[i].type == UIOMMU_INV_S1_RANGE ? e[i].addr
										     : 0,
						    e[i].type == UIOMMU_INV_S1_RANGE ? e[i].len : 0,
						    !(e[i].flags & UIOMMU_INV_F_LEAF));
				c.w[0] |= FIELD_PREP(AMDVI_INVP_PASID, e[i].pasid);
				c.w[1] |= AMDVI_INV_GN;
				amdvi_batch_add(&b, &c);
				au->stats.inv_pages++;
			}
			break;
		case UIOMMU_INV_S1_ALL:
			for (uint32_t k = 0; k < nd; k++) {
				amdvi_cmd_inv_pages(&c, (uint16_t)dids[k], 0, 0, true);
				amdvi_batch_add(&b, &c);
				au->stats.inv_pages++;
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
			     (d0 & AMDVI_DTE0_V) ? " V" : "", (d0 & AMDVI_DTE0_TV) ? " TV" : "", mode);
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

int amdvi_dev_walk(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		   uint64_t iova, struct uiommu_walk_level *out, int max)
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
	if (pasid != UIOMMU_NO_PASID && n < max) {
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].text, sizeof(out[n].text),
			 "PASID %u: no GCR3 table of ours (v2 tables are not driven)", pasid);
		n++;
	}
	return n;
}
