/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Devices and their RID/PASID attachments.
 *
 * PASID state is per device, not per group: every (device, PASID) pair has
 * its own attachment record.  Attaching to an IOAS picks (or creates) a
 * paging HWPT of that IOAS the device's unit can walk; the device's
 * reserved regions are reserved in that IOAS for as long as it is attached.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "core/model.h"

int uiommu_device_add(struct uiommu_unit *unit, const struct uiommu_device_desc *desc,
		      struct uiommu_device **out)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_device *d;
	struct uobj *o;
	int rc;

	if (!unit || !desc || !out)
		return -EINVAL;
	ops = uiommu_family_ops_get(unit->family);
	ctx_lock(unit->ctx);
	for (o = uobj_next(unit->ctx, UOBJ_DEVICE, NULL); o;
	     o = uobj_next(unit->ctx, UOBJ_DEVICE, o)) {
		struct uiommu_device *e = (struct uiommu_device *)o;
		if (e->unit == unit && e->desc.hw_id == desc->hw_id) {
			rc = -EEXIST;
			goto out_unlock;
		}
	}
	d = uenv_zalloc(sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	d->unit = unit;
	d->desc = *desc;
	list_init(&d->attaches);
	if (ops->dev_probe) {
		rc = ops->dev_probe(unit, d);
		if (rc)
			goto err_free;
	}
	uobj_publish(unit->ctx, &d->obj, UOBJ_DEVICE);
	unit->nr_devices++;
	*out = d;
	ctx_unlock(unit->ctx);
	return 0;

err_free:
	uenv_free(d);
out_unlock:
	ctx_unlock(unit->ctx);
	return rc;
}

int uiommu_device_remove(struct uiommu_device *d)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_ctx *ctx;
	int rc = 0;

	if (!d)
		return -EINVAL;
	ctx = d->unit->ctx;
	ctx_lock(ctx);
	if (!list_empty(&d->attaches)) {
		ctx_unlock(ctx);
		return -EBUSY;
	}
	ops = uiommu_family_ops_get(d->unit->family);
	if (ops->dev_release)
		rc = ops->dev_release(d->unit, d);
	if (rc) {
		/* The device's entries are gone from the tables but perhaps not
		 * from the unit's caches: recover the unit (global
		 * invalidation) now; if that fails too, its next user does. */
		d->unit->inv_stale = true;
		UENV_LOG(CORE, ERR,
			 "device %u: removed, but the invalidation of its cached entries failed "
			 "(%d); unit %u %s",
			 d->obj.id, rc, d->unit->obj.id,
			 unit_inv_stale_recover(d->unit) ? "stays stale until it is recovered"
							 : "recovered");
	}
	d->unit->nr_devices--;
	uobj_unpublish(ctx, &d->obj);
	uenv_free(d);
	ctx_unlock(ctx);
	return rc;
}

uint32_t uiommu_device_id(const struct uiommu_device *d)
{
	return d ? d->obj.id : 0;
}

struct uiommu_device *uiommu_device_get(struct uiommu_ctx *ctx, uint32_t id)
{
	return uobj_lookup(ctx, id, UOBJ_DEVICE);
}

struct uiommu_device *uiommu_device_next(struct uiommu_ctx *ctx, struct uiommu_device *prev)
{
	return uobj_next(ctx, UOBJ_DEVICE, prev);
}

struct uiommu_unit *uiommu_device_unit(const struct uiommu_device *d)
{
	return d ? d->unit : NULL;
}

static struct dev_attach *find_attach(const struct uiommu_device *d, uint32_t pasid)
{
	struct list_node *pos;

	list_for_each(pos, &d->attaches)
	{
		struct dev_attach *a = list_entry(pos, struct dev_attach, link);
		if (a->pasid == pasid)
			return a;
	}
	return NULL;
}

uint32_t uiommu_device_attached_hwpt(const struct uiommu_device *d, uint32_t pasid)
{
	struct dev_attach *a;

	if (!d)
		return 0;
	ctx_lock(d->unit->ctx);
	a = find_attach(d, pasid);
	uint32_t id = !a ? 0 : a->hwpt ? a->hwpt->obj.id : UIOMMU_PT_IDENTITY;
	ctx_unlock(d->unit->ctx);
	return id;
}

static int check_pasid(const struct uiommu_device *d, uint32_t pasid)
{
	uint32_t bits;

	if (pasid == UIOMMU_NO_PASID)
		return 0;
	bits = d->desc.pasid_bits < d->unit->caps.pasid_bits ? d->desc.pasid_bits
							     : d->unit->caps.pasid_bits;
	if (!bits || bits > 20 || pasid >= (1u << bits))
		return -EINVAL;
	return 0;
}

/* The IOAS whose reservations an attachment to @h affects. */
static struct uiommu_ioas *hwpt_ioas(struct uiommu_hwpt *h)
{
	return h->nested ? h->parent->ioas : h->ioas;
}

/* Reserve the device's regions (unit-wide and for its RID) in @ioas. */
static int reserve_dev_regions(struct uiommu_ioas *ioas, struct uiommu_device *d, const void *owner)
{
	struct uiommu_unit *u = d->unit;
	int rc;

	for (uint32_t i = 0; i < u->nr_resv; i++) {
		if (u->resv[i].rid >= 0 && (uint32_t)u->resv[i].rid != d->desc.hw_id)
			continue;
		rc = iopt_reserve(&ioas->iopt, u->resv[i].r.start, u->resv[i].r.last, owner,
				  u->resv[i].r.kind);
		if (rc) {
			iopt_unreserve_owner(&ioas->iopt, owner);
			return rc;
		}
	}
	return 0;
}

/* Find a paging HWPT of @ioas that @u can walk, or make one. */
static int ioas_pick_hwpt(struct uiommu_ioas *ioas, struct uiommu_unit *u, uint32_t pasid,
			  struct uiommu_hwpt **out, bool *created)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	/* A family whose automatic HWPTs are stage 1 (SMMUv3) gets one; so
	 * does a PASID where only stage 1 translates PASIDs (AMD-Vi). */
	uint32_t want = (ops->auto_stage1 || (ops->pasid_stage1 && pasid != UIOMMU_NO_PASID)) &&
					u->caps.stage1
				? UIOMMU_HWPT_STAGE1
				: 0;
	struct list_node *pos;
	int rc;

	*created = false;
	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		if ((h->flags & UIOMMU_HWPT_STAGE1) != want)
			continue;
		/* Already on this unit, or compatible and room for another ID. */
		for (uint32_t i = 0; i < h->nr_inst; i++) {
			if (h->inst[i].unit == u) {
				*out = h;
				return 0;
			}
		}
		if (h->nr_inst < UIOMMU_HWPT_MAX_INSTALLS && ops->pgt_compatible(u, &h->cfg)) {
			*out = h;
			return 0;
		}
	}
	rc = hwpt_paging_create(ioas, u, want, out);
	if (rc == 0) {
		(*out)->auto_created = true;
		*created = true;
	}
	return rc;
}

static void identity_put(struct uiommu_unit *u)
{
	u->nr_installs--;
	if (--u->id_users == 0) {
		struct fam_flush f = {.did = u->id_did};
		unit_did_release(u, u->id_did, unit_flush(u, &f, 1));
		u->id_did = 0;
	}
}

/* Identity (pass-through): no table, no IOAS; one shared domain ID per unit. */
static int attach_prepare_identity(struct uiommu_device *d, uint32_t pasid, struct dev_attach **out)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(d->unit->family);
	struct fam_attach fa = {.kind = FAM_ATTACH_IDENTITY};
	struct dev_attach *a;
	int rc;

	struct uiommu_unit *u = d->unit;

	if (!u->caps.pass_through)
		return -EOPNOTSUPP;
	a = uenv_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pasid = pasid;
	/* Hardware tags even pass-through entries with a domain ID: one per unit. */
	if (!u->id_users) {
		rc = unit_did_alloc(u, &u->id_did);
		if (rc)
			goto err_free;
	}
	u->id_users++;
	u->nr_installs++;
	fa.did = u->id_did;
	rc = unit_hw_result(u, ops->dev_set(u, d, pasid, &fa));
	if (rc)
		goto err_did;
	*out = a;
	return 0;

err_did:
	identity_put(u);
err_free:
	uenv_free(a);
	return rc;
}

/*
 * Resolve @pt_id, reserve, get an ID on the unit, program the hardware.
 * On success *out is a new attachment record (not yet linked to @d).
 */
static int attach_prepare(struct uiommu_device *d, uint32_t pasid, uint32_t pt_id,
			  struct dev_attach **out)
{
	struct uiommu_unit *u = d->unit;
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	struct uiommu_ctx *ctx = u->ctx;
	struct uobj *o = uobj_lookup(ctx, pt_id, 0);
	struct uiommu_ioas *ioas = NULL;
	struct uiommu_hwpt *h;
	struct hwpt_install *in;
	struct dev_attach *a;
	bool created = false;
	int rc;

	rc = check_pasid(d, pasid);
	if (rc)
		return rc;
	if (pt_id == UIOMMU_PT_IDENTITY)
		return attach_prepare_identity(d, pasid, out);
	if (!o || (o->type != UOBJ_IOAS && o->type != UOBJ_HWPT))
		return -ENOENT;
	a = uenv_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pasid = pasid;
	if (o->type == UOBJ_IOAS) {
		ioas = (struct uiommu_ioas *)o;
		rc = ioas_pick_hwpt(ioas, u, pasid, &h, &created);
		if (rc)
			goto err_free;
	} else {
		h = (struct uiommu_hwpt *)o;
		if (h->nested && h->viommu->unit != u) {
			rc = -EINVAL;
			goto err_free;
		}
	}
	rc = reserve_dev_regions(hwpt_ioas(h), d, a);
	if (rc)
		goto err_hwpt;
	rc = hwpt_install_get(h, u, &in);
	if (rc)
		goto err_resv;

	struct fam_attach fa = {.did = in->did};
	if (h->nested) {
		fa.kind = FAM_ATTACH_NESTED;
		fa.s1 = &h->s1;
		fa.s2_cfg = &h->parent->cfg;
		fa.s2_did = h->viommu->vmid;
	} else {
		fa.kind = FAM_ATTACH_PAGING;
		fa.cfg = &h->cfg;
	}
	rc = unit_hw_result(u, ops->dev_set(u, d, pasid, &fa));
	if (rc)
		goto err_install;
	a->hwpt = h;
	a->ioas = ioas;
	*out = a;
	return 0;

err_install:
	hwpt_install_put(h, u);
err_resv:
	iopt_unreserve_owner(&hwpt_ioas(h)->iopt, a);
err_hwpt:
	if (created)
		hwpt_paging_release(h);
err_free:
	uenv_free(a);
	return rc;
}

/* Undo the bookkeeping of an attachment whose hardware entry is already gone. */
static void attach_release(struct uiommu_device *d, struct dev_attach *a)
{
	struct uiommu_hwpt *h = a->hwpt;

	list_del(&a->link);
	if (!h) { /* identity */
		identity_put(d->unit);
		uenv_free(a);
		return;
	}
	list_del(&a->hwpt_link);
	h->users--;
	if (a->ioas)
		a->ioas->users--;
	iopt_unreserve_owner(&hwpt_ioas(h)->iopt, a);
	hwpt_install_put(h, d->unit);
	if (h->auto_created && !h->users && !h->nr_inst && !h->children && !h->viommus)
		hwpt_paging_release(h);
	uenv_free(a);
}

static void attach_commit(struct uiommu_device *d, struct dev_attach *a)
{
	list_add_tail(&d->attaches, &a->link);
	if (!a->hwpt) {
		list_init(&a->hwpt_link);
		return;
	}
	list_add_tail(&a->hwpt->attaches, &a->hwpt_link);
	a->hwpt->users++;
	if (a->ioas)
		a->ioas->users++;
}

int uiommu_device_attach(struct uiommu_device *d, uint32_t pasid, uint32_t pt_id,
			 uint32_t *hwpt_id_out)
{
	struct dev_attach *a;
	int rc;

	if (!d)
		return -EINVAL;
	bool txn;

	ctx_lock(d->unit->ctx);
	txn = ctx_txn_auto_begin(d->unit->ctx);
	if (find_attach(d, pasid)) {
		rc = -EBUSY;
		goto out;
	}
	rc = attach_prepare(d, pasid, pt_id, &a);
	if (rc)
		goto out;
	attach_commit(d, a);
	if (hwpt_id_out)
		*hwpt_id_out = a->hwpt ? a->hwpt->obj.id : UIOMMU_PT_IDENTITY;
out:
	ctx_txn_auto_end(d->unit->ctx, txn);
	ctx_unlock(d->unit->ctx);
	return rc;
}

int uiommu_device_replace(struct uiommu_device *d, uint32_t pasid, uint32_t pt_id,
			  uint32_t *hwpt_id_out)
{
	struct dev_attach *old, *a;
	int rc;

	if (!d)
		return -EINVAL;
	bool txn;

	ctx_lock(d->unit->ctx);
	txn = ctx_txn_auto_begin(d->unit->ctx);
	old = find_attach(d, pasid);
	if (!old) {
		rc = -ENODEV; /* not attached (-ENOENT: no such IOAS/HWPT) */
		goto out;
	}
	/* The new entry replaces the old one in place: no blocked window. */
	rc = attach_prepare(d, pasid, pt_id, &a);
	if (rc)
		goto out;
	attach_release(d, old);
	attach_commit(d, a);
	if (hwpt_id_out)
		*hwpt_id_out = a->hwpt ? a->hwpt->obj.id : UIOMMU_PT_IDENTITY;
out:
	ctx_txn_auto_end(d->unit->ctx, txn);
	ctx_unlock(d->unit->ctx);
	return rc;
}

int uiommu_device_detach(struct uiommu_device *d, uint32_t pasid)
{
	const struct uiommu_family_ops *ops;
	struct fam_attach blocked = {.kind = FAM_ATTACH_BLOCKED};
	struct dev_attach *a;
	int rc;

	if (!d)
		return -EINVAL;
	bool txn;

	ops = uiommu_family_ops_get(d->unit->family);
	ctx_lock(d->unit->ctx);
	txn = ctx_txn_auto_begin(d->unit->ctx);
	a = find_attach(d, pasid);
	if (!a) {
		rc = -ENOENT;
		goto out;
	}
	rc = unit_hw_result(d->unit, ops->dev_set(d->unit, d, pasid, &blocked));
	if (rc) {
		/* The entry is cleared even when the flush timed out; say so. */
		UENV_LOG(CORE, WARNING, "device %u pasid %d: detach flush failed: %d", d->obj.id,
			 (int)pasid, rc);
	}
	attach_release(d, a);
	rc = 0;
out:
	ctx_txn_auto_end(d->unit->ctx, txn);
	ctx_unlock(d->unit->ctx);
	return rc;
}

int uiommu_model_dma(struct uiommu_device *d, uint32_t pasid, uint64_t iova, void *buf,
		     uint64_t len, bool write)
{
	const struct uiommu_model_ops *m;
	int rc = -EOPNOTSUPP;

	if (!d || (len && !buf))
		return -EINVAL;
	m = uiommu_model_ops_get(d->unit->family);
	if (d->unit->access != UIOMMU_UNIT_MODEL || !m || !m->dma)
		return -EOPNOTSUPP;
	ctx_lock(d->unit->ctx);
	if (d->unit->model) /* a unit of a family that never asked for its registers has none */
		rc = m->dma(d->unit->model, d->desc.hw_id, pasid, iova, buf, len, write);
	ctx_unlock(d->unit->ctx);
	return rc;
}

int uiommu_device_ctx_walk(struct uiommu_device *d, uint32_t pasid, uint64_t iova,
			   struct uiommu_walk_level *out, int max)
{
	const struct uiommu_family_ops *ops;
	int n = 0;

	if (!d || max < 0 || (max && !out))
		return -EINVAL;
	ops = uiommu_family_ops_get(d->unit->family);
	ctx_lock(d->unit->ctx);
	if (ops && ops->dev_walk && max)
		n = ops->dev_walk(d->unit, d, pasid, iova, out, max);
	ctx_unlock(d->unit->ctx);
	return n;
}
