/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi: our own v2 (x86-64 format, the engine's PGT_X86_FL) tables,
 * reached through a GCR3 table per device (AMD IOMMU 2.2.2.1 DTE GV, GLX,
 * GCR3 Table Root Pointer, GIoV; 2.2.6 the GCR3 table).
 *
 * A device gets a GCR3 table when its RID is attached to a v2 table
 * (slot 0: with GIoV, a request without a PASID is translated through
 * PASID 0's entry, as Linux's v2 domains do) or a PASID is attached.  Its
 * DTE then has Mode 0 with IR/IW (the addresses the v2 tables hold are
 * system addresses: no host table in between), GV, the table's GLX and
 * root, and GIoV unless the RID is identity (pass-through); a blocked RID
 * keeps GIoV with slot 0 empty, so its DMA faults.  A RID on a v1 table or
 * a guest's GCR3 table (nested) cannot have PASIDs of ours (-EBUSY),
 * as Linux refuses PASIDs under a v1 domain.
 *
 * The DomainID of such a DTE is the GCR3 table's own (unit_did_alloc,
 * reported to the state checker by amdvi_dev_dids): the unit caches guest
 * translations by DomainID and PASID, so a v2 table's flush becomes one
 * INVALIDATE_IOMMU_PAGES with GN and the PASID per device slot that holds
 * it (as Linux's per-device gcr3_info domid).
 *
 * Changing a slot: every allocation first (table, level-0 table, record,
 * DomainID), nothing written when one fails; then the 8-byte entry in one
 * store, the DTE if it changes (amdvi_dte_install: INVALIDATE_DEVTAB_ENTRY),
 * INVALIDATE_IOMMU_PAGES (GN, PASID) of the slot, and one COMPLETION_WAIT
 * (a batch each).  When the last slot goes, the DTE loses GV first, then
 * the table's DomainID is invalidated as a whole and freed with the table.
 * A failed wait was recovered with a global invalidation (amdvi_batch_sync):
 * the unit then sees what memory holds.  An attach or replace whose wait
 * failed is undone (gcr3_undo): the core keeps the old attachment and may
 * free the new table, so the old slot entry, records, RID state and DTE go
 * back, confirmed by a wait of their own, or the unit fails.  A detach is
 * not undone: the core releases the attachment whatever the wait said.
 */
#include <errno.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

#define GCR3_ENTRIES 512u

static struct amdvi_pasid *rec_find(const struct amdvi_gcr3 *g, uint32_t pasid)
{
	const struct list_node *pos;

	if (!g)
		return NULL;
	list_for_each(pos, &g->pasids)
	{
		struct amdvi_pasid *p = list_entry(pos, struct amdvi_pasid, link);

		if (p->pasid == pasid)
			return p;
	}
	return NULL;
}

/* The level-0 table holding @pasid's entry (NULL: not made yet). */
static uint64_t *slot_table(const struct amdvi_gcr3 *g, uint32_t pasid)
{
	if (!g->glx)
		return g->root.va;
	return g->l0 ? g->l0[(pasid >> 9) & (GCR3_ENTRIES - 1)].va : NULL;
}

static uint64_t *slot_ptr(const struct amdvi_gcr3 *g, uint32_t pasid)
{
	uint64_t *t = slot_table(g, pasid);

	return t ? &t[pasid & (GCR3_ENTRIES - 1)] : NULL;
}

uint64_t amdvi_gcr3_entry(const struct amdvi_gcr3 *g, uint32_t pasid)
{
	const uint64_t *p = g ? slot_ptr(g, pasid) : NULL;

	return p ? __atomic_load_n(p, __ATOMIC_ACQUIRE) : 0;
}

/* @flush_rc: how the invalidation of the table's DomainID went (0: none
 * was needed or it completed); a failed one quarantines the DomainID
 * (unit_did_release) instead of freeing it. */
static void gcr3_destroy(struct amdvi_unit *au, struct amdvi_gcr3 *g, int flush_rc)
{
	if (g->l0) {
		for (unsigned int i = 0; i < GCR3_ENTRIES; i++)
			if (g->l0[i].va)
				uenv_dma_free(&g->l0[i]);
		uenv_free(g->l0);
	}
	if (g->root.va)
		uenv_dma_free(&g->root);
	if (g->did)
		unit_did_release(au->u, g->did, flush_rc);
	uenv_free(g);
}

/* A new, empty table with its DomainID: levels for the device's PASID
 * width (GLX 0: 9 bits, GLX 1: 18 bits). */
static int gcr3_create(struct amdvi_unit *au, const struct amdvi_dev *ad, struct amdvi_gcr3 **out)
{
	unsigned int bits = ad->dev->desc.pasid_bits;
	struct amdvi_gcr3 *g = uenv_zalloc(sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	list_init(&g->pasids);
	if (bits > au->pasid_bits)
		bits = au->pasid_bits;
	g->glx = bits > 9 ? 1 : 0;
	rc = uenv_dma_alloc(4096, 4096, au->u->numa_node, &g->root);
	if (rc)
		goto err;
	if (g->glx) {
		g->l0 = uenv_zalloc(GCR3_ENTRIES * sizeof(*g->l0));
		if (!g->l0) {
			rc = -ENOMEM;
			goto err;
		}
	}
	rc = unit_did_alloc(au->u, &g->did);
	if (rc) {
		g->did = 0;
		goto err;
	}
	*out = g;
	return 0;
err:
	gcr3_destroy(au, g, 0);
	return rc;
}

/* Make sure the level-0 table of @pasid exists (GLX 1); *made: it is new. */
static int l0_get(struct amdvi_unit *au, struct amdvi_gcr3 *g, uint32_t pasid, bool *made)
{
	unsigned int i = (pasid >> 9) & (GCR3_ENTRIES - 1);
	uint64_t *root = g->root.va;
	int rc;

	*made = false;
	if (!g->glx || g->l0[i].va)
		return 0;
	rc = uenv_dma_alloc(4096, 4096, au->u->numa_node, &g->l0[i]);
	if (rc)
		return rc;
	/* An empty table below a valid entry: nothing it holds is valid, no
	 * invalidation needed. */
	__atomic_store_n(&root[i], (g->l0[i].iova & AMDVI_GCR3_ADDR) | AMDVI_GCR3_V,
			 __ATOMIC_RELEASE);
	*made = true;
	return 0;
}

static void l0_drop(struct amdvi_gcr3 *g, uint32_t pasid)
{
	unsigned int i = (pasid >> 9) & (GCR3_ENTRIES - 1);

	__atomic_store_n(&((uint64_t *)g->root.va)[i], 0, __ATOMIC_RELEASE);
	uenv_dma_free(&g->l0[i]);
	memset(&g->l0[i], 0, sizeof(g->l0[i]));
}

/* The change's wait failed and was recovered (the unit sees memory): put
 * back the old slot entry, records, RID state and DTE, and make the unit
 * forget the new entry, so nothing reaches the new table any more (the
 * core keeps the old attachment and may free it).  If that is not
 * confirmed either, the unit fails (every entry blocked). */
static void gcr3_undo(struct amdvi_unit *au, struct amdvi_dev *ad, struct amdvi_gcr3 *g,
		      struct amdvi_gcr3 *old_g, uint32_t pasid, uint64_t old_e, bool made_l0,
		      const struct amdvi_rid_state *old_rid, int why)
{
	uint64_t od[AMDVI_DTE_WORDS];
	struct amdvi_batch b;
	struct amdvi_cmd c;
	int rc = 0, rc2;

	if (pasid != UIOMMU_NO_PASID && g) {
		uint64_t *p = slot_ptr(g, pasid);

		if (p)
			__atomic_store_n(p, old_e, __ATOMIC_RELEASE);
	}
	ad->g = old_g;
	if (old_rid) {
		ad->rid_kind = old_rid->kind;
		ad->rid_v2 = old_rid->v2;
		ad->rid_did = old_rid->did;
		ad->rid_d0 = old_rid->d0;
		ad->rid_d1 = old_rid->d1;
	}
	rc = amdvi_dte_compose(au, ad, od);
	if (!rc && !amdvi_dte_is(au, ad, od)) {
		uint32_t cur = ad->translating ? ad->did : AMDVI_DOMID_BLOCKED;

		rc = amdvi_dte_install(au, ad, od, cur);
		ad->did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, od[1]);
		ad->translating = ad->rid_kind != FAM_ATTACH_BLOCKED || ad->g;
	}
	if (g && (old_g == g || !old_g)) {
		/* The slot (old table) or the whole new table's DomainID. */
		amdvi_batch_init(&b, au);
		if (old_g == g && pasid != UIOMMU_NO_PASID)
			amdvi_cmd_inv_pages_pasid(&c, (uint16_t)g->did, pasid, 0, 0, true);
		else
			amdvi_cmd_inv_pages(&c, (uint16_t)g->did, 0, 0, true);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
		if (ad->ats && old_g == g && pasid != UIOMMU_NO_PASID) {
			amdvi_cmd_inv_iotlb_pasid(&c, ad->devid, pasid, 0, 0);
			amdvi_batch_add(&b, &c);
			au->stats.inv_iotlb++;
		}
		rc2 = amdvi_batch_sync(&b);
		rc = rc ? rc : rc2;
		if (!old_g)
			gcr3_destroy(au, g, rc2); /* frees its level-0 tables too */
		else if (made_l0)
			l0_drop(g, pasid);
	}
	if (rc)
		amdvi_unit_fail(au, why);
	AMDVI_LOG(ERR,
		  "unit %u: DeviceID 0x%x PASID 0x%x: the change's invalidation failed (%d): %s",
		  au->u->obj.id, ad->devid, pasid, why,
		  au->failed ? "unit failed" : "the old entry is back");
}

int amdvi_gcr3_set(struct amdvi_unit *au, struct amdvi_dev *ad, uint32_t pasid, uint64_t cr3,
		   uint32_t did, const struct amdvi_rid_state *old_rid)
{
	struct amdvi_gcr3 *g = ad->g, *old_g = ad->g;
	struct amdvi_pasid *rec = pasid != UIOMMU_NO_PASID ? rec_find(g, pasid) : NULL,
			   *nrec = NULL;
	bool adding = pasid != UIOMMU_NO_PASID && cr3 && !rec;
	bool removing = pasid != UIOMMU_NO_PASID && !cr3 && rec;
	uint32_t n_after = (g ? g->n : 0) + (adding ? 1 : 0) - (removing ? 1 : 0);
	uint64_t d[AMDVI_DTE_WORDS], old_e = 0;
	bool made_l0 = false;
	struct amdvi_batch b;
	struct amdvi_cmd c;
	uint32_t old_did, o_rdid = rec ? rec->did : 0;
	uint64_t o_rcr3 = rec ? rec->cr3 : 0;
	int rc = 0, rc2;

	if (cr3 & ~AMDVI_GCR3_ADDR)
		return -EINVAL;
	/* 1. Every allocation. */
	if (n_after && !g) {
		rc = gcr3_create(au, ad, &g);
		if (rc)
			return rc;
	}
	if (adding) {
		nrec = uenv_zalloc(sizeof(*nrec));
		if (!nrec) {
			rc = -ENOMEM;
			goto err_alloc;
		}
		rc = l0_get(au, g, pasid, &made_l0);
		if (rc)
			goto err_alloc;
	}
	/* 2. The entry, the records, the DTE. */
	if (pasid != UIOMMU_NO_PASID && g) {
		uint64_t *p = slot_ptr(g, pasid);

		if (p) {
			old_e = __atomic_load_n(p, __ATOMIC_ACQUIRE);
			__atomic_store_n(p, cr3 ? (cr3 & AMDVI_GCR3_ADDR) | AMDVI_GCR3_V : 0,
					 __ATOMIC_RELEASE);
		}
	}
	if (adding) {
		nrec->pasid = pasid;
		nrec->did = did;
		nrec->cr3 = cr3;
		list_add_tail(&g->pasids, &nrec->link);
		g->n++;
	} else if (rec && cr3) {
		rec->did = did;
		rec->cr3 = cr3;
	} else if (removing) {
		/* Freed once the change is in force. */
		list_del(&rec->link);
		g->n--;
	}
	ad->g = n_after ? g : NULL;
	rc = amdvi_dte_compose(au, ad, d);
	if (rc) /* the caller checked the attachment: not reached */
		goto err_alloc;
	old_did = ad->translating ? ad->did : AMDVI_DOMID_BLOCKED;
	if (!amdvi_dte_is(au, ad, d)) {
		rc = amdvi_dte_install(au, ad, d, old_did);
		ad->did = (uint32_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
		ad->translating = ad->rid_kind != FAM_ATTACH_BLOCKED || ad->g;
	}
	/* 3. What the unit may cache of the slot: its translations (as
	 * Linux's update_gcr3 does after every change of an entry). */
	if (g && n_after && pasid != UIOMMU_NO_PASID && !(old_e == 0 && !cr3)) {
		amdvi_batch_init(&b, au);
		amdvi_cmd_inv_pages_pasid(&c, (uint16_t)g->did, pasid, 0, 0, true);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
		if (ad->ats) {
			amdvi_cmd_inv_iotlb_pasid(&c, ad->devid, pasid, 0, 0);
			amdvi_batch_add(&b, &c);
			au->stats.inv_iotlb++;
		}
		rc2 = amdvi_batch_sync(&b);
		rc = rc ? rc : rc2;
	}
	/* A detach (the RID blocked, a PASID cleared) is not undone: the core
	 * releases the attachment whatever the wait said (and may free the
	 * table), and the blocking entry is what the recovered unit sees. */
	if ((rc == -EIO || rc == -ETIMEDOUT) && !au->failed &&
	    (old_rid ? ad->rid_kind != FAM_ATTACH_BLOCKED : cr3 != 0)) {
		/* All or nothing: the records first, then memory and unit. */
		if (adding) {
			list_del(&nrec->link);
			g->n--;
			uenv_free(nrec);
		} else if (removing) {
			list_add_tail(&g->pasids, &rec->link);
			g->n++;
		} else if (rec) {
			rec->did = o_rdid;
			rec->cr3 = o_rcr3;
		}
		gcr3_undo(au, ad, g, old_g, pasid, old_e, made_l0, old_rid, rc);
		return rc;
	}
	if (removing)
		uenv_free(rec);
	if (removing && g->glx && n_after) {
		/* The level-0 table goes when its last entry did. */
		bool empty = true;
		const uint64_t *t = slot_table(g, pasid);

		for (unsigned int i = 0; t && i < GCR3_ENTRIES; i++)
			empty &= !t[i];
		if (t && empty)
			l0_drop(g, pasid);
	}
	/* 4. The table is no longer named by the DTE: its DomainID's
	 * translations go, then the table. */
	if (old_g && !n_after) {
		amdvi_batch_init(&b, au);
		amdvi_cmd_inv_pages(&c, (uint16_t)old_g->did, 0, 0, true);
		amdvi_batch_add(&b, &c);
		au->stats.inv_pages++;
		rc2 = amdvi_batch_sync(&b);
		rc = rc ? rc : rc2;
		gcr3_destroy(au, old_g, rc2);
	}
	return rc;

err_alloc:
	if (made_l0)
		l0_drop(g, pasid);
	uenv_free(nrec);
	if (g && !old_g)
		gcr3_destroy(au, g, 0); /* never installed */
	return rc;
}

void amdvi_gcr3_free(struct amdvi_unit *au, struct amdvi_dev *ad)
{
	struct amdvi_gcr3 *g = ad->g;
	struct amdvi_batch b;
	struct amdvi_cmd c;
	int rc;

	if (!g)
		return;
	/* The DTE is blocked: nothing walks the table any more. */
	amdvi_batch_init(&b, au);
	amdvi_cmd_inv_pages(&c, (uint16_t)g->did, 0, 0, true);
	amdvi_batch_add(&b, &c);
	au->stats.inv_pages++;
	rc = amdvi_batch_sync(&b);
	while (!list_empty(&g->pasids)) {
		struct amdvi_pasid *p = list_entry(g->pasids.next, struct amdvi_pasid, link);

		list_del(&p->link);
		uenv_free(p);
	}
	ad->g = NULL;
	gcr3_destroy(au, g, rc);
}

/* Call @fn for each GCR3 slot of @au whose v2 table is domain @did (the
 * device and the slot), until it returns false. */
static void gcr3_slots_of(const struct amdvi_unit *au, uint32_t did,
			  bool (*fn)(const struct amdvi_dev *ad, const struct amdvi_pasid *p,
				     void *arg),
			  void *arg)
{
	const struct list_node *pos, *q;

	list_for_each(pos, &au->devs)
	{
		const struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

		if (!ad->g)
			continue;
		list_for_each(q, &ad->g->pasids)
		{
			const struct amdvi_pasid *p = list_entry(q, struct amdvi_pasid, link);

			if (p->did == did && !fn(ad, p, arg))
				return;
		}
	}
}

struct slot_flush {
	struct amdvi_unit *au;
	struct amdvi_batch *b;
	const struct fam_flush *f;
};

static bool slot_flush(const struct amdvi_dev *ad, const struct amdvi_pasid *p, void *arg)
{
	const struct slot_flush *sf = arg;
	const struct fam_flush *f = sf->f;
	struct amdvi_cmd c;

	amdvi_cmd_inv_pages_pasid(&c, (uint16_t)ad->g->did, p->pasid, f->iova, f->size,
				  !f->leaf_only);
	amdvi_batch_add(sf->b, &c);
	sf->au->stats.inv_pages++;
	if (ad->ats) {
		amdvi_cmd_inv_iotlb_pasid(&c, ad->devid, p->pasid, f->iova, f->size);
		amdvi_batch_add(sf->b, &c);
		sf->au->stats.inv_iotlb++;
	}
	return true;
}

void amdvi_gcr3_flush(struct amdvi_unit *au, struct amdvi_batch *b, const struct fam_flush *f)
{
	struct slot_flush sf = {au, b, f};

	gcr3_slots_of(au, f->did, slot_flush, &sf);
}

struct slot_sole {
	uint32_t n;	/* slots seen (2: not sole) */
	uint32_t gdid, pasid;
};

static bool slot_sole(const struct amdvi_dev *ad, const struct amdvi_pasid *p, void *arg)
{
	struct slot_sole *ss = arg;

	if (ss->n++ || ad->ats) {
		ss->n = 2; /* a second slot, or a device IOTLB too */
		return false;
	}
	ss->gdid = ad->g->did;
	ss->pasid = p->pasid;
	return true;
}

bool amdvi_gcr3_sole(const struct amdvi_unit *au, uint32_t did, uint32_t *gdid, uint32_t *pasid)
{
	struct slot_sole ss = {0};

	gcr3_slots_of(au, did, slot_sole, &ss);
	if (ss.n != 1)
		return false;
	*gdid = ss.gdid;
	*pasid = ss.pasid;
	return true;
}

int amdvi_gcr3_check(const struct amdvi_unit *au, const struct amdvi_dev *ad)
{
	const struct amdvi_gcr3 *g = ad->g;
	const struct list_node *pos;
	uint32_t n = 0;

	if (!g)
		return 0;
	if (!uenv_is_meta(g, sizeof(*g)) || g->glx > au->glx_max || !g->root.va ||
	    g->root.len < 4096 || (g->glx && !uenv_is_meta(g->l0, GCR3_ENTRIES * sizeof(*g->l0))) ||
	    (!g->glx && g->l0) || !g->did || g->did > UINT16_MAX || !g->n)
		return -ESTALE;
	for (pos = g->pasids.next; pos != &g->pasids; pos = pos->next) {
		const struct amdvi_pasid *p = list_entry(pos, struct amdvi_pasid, link);

		if (!uenv_is_meta(p, sizeof(*p)) || ++n > g->n ||
		    p->pasid >= (1u << (9 * (g->glx + 1))) || !slot_table(g, p->pasid) ||
		    (amdvi_gcr3_entry(g, p->pasid) & AMDVI_GCR3_ADDR) != p->cr3)
			return -ESTALE;
	}
	return n == g->n ? 0 : -ESTALE;
}

uint32_t amdvi_dev_dids(const struct uiommu_unit *u, const struct uiommu_device *dev, uint32_t *out,
			uint32_t max)
{
	const struct amdvi_dev *ad = dev->priv;

	(void)u;
	if (!max || !uenv_is_meta(ad, sizeof(*ad)) || !ad->g ||
	    !uenv_is_meta(ad->g, sizeof(*ad->g)))
		return 0;
	out[0] = ad->g->did;
	return 1;
}
