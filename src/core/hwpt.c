/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HWPTs (one page table in one hardware format) and vIOMMUs.
 *
 * A paging HWPT follows an IOAS: it is filled with every area when created
 * and kept in step by ioas.c.  It may be installed on several units whose
 * walkers understand its format and widths; each installation has its own
 * domain ID.  A nested HWPT describes a user-owned stage-1 table over a
 * nest-parent paging HWPT, through a vIOMMU that owns the VMID.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"

static uint64_t min_pgsize(uint64_t bitmap)
{
	return bitmap ? (bitmap & -bitmap) : UENV_PAGE_SIZE;
}

/* The IOAS alignment is the largest smallest-page of its HWPTs. */
static uint64_t ioas_wanted_alignment(const struct uiommu_ioas *ioas,
				      const struct uiommu_hwpt *except)
{
	uint64_t align = UENV_PAGE_SIZE;
	struct list_node *pos;

	list_for_each(pos, &ioas->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		if (h != except && min_pgsize(h->cfg.pgsize_bitmap) > align)
			align = min_pgsize(h->cfg.pgsize_bitmap);
	}
	return align;
}

/* Remove [first area, stop) from a table that no unit walks yet. */
static void unfill(struct uiommu_hwpt *h, struct iopt_area *stop)
{
	struct pgt_gather g = {0};

	for (struct iopt_area *a = iopt_first(&h->ioas->iopt, 0, UINT64_MAX); a && a != stop;
	     a = iopt_next(a, UINT64_MAX))
		pgt_unmap(h->pgt, a->iova, a->last - a->iova + 1, &g);
	pgt_gather_release(h->pgt, &g);
}

int hwpt_paging_create(struct uiommu_ioas *ioas, struct uiommu_unit *unit, uint32_t flags,
		       struct uiommu_hwpt **out)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(unit->family);
	struct uiommu_hwpt *h;
	struct iopt_area *a = NULL;
	uint64_t old_align = ioas->iopt.iova_alignment;
	int rc, err = 0;

	h = uenv_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ctx = ioas->ctx;
	h->ioas = ioas;
	h->flags = flags;
	list_init(&h->attaches);
	list_init(&h->child_list);
	list_init(&h->viommu_list);
	rc = ops->pgt_config(unit, flags & UIOMMU_HWPT_STAGE1, flags & UIOMMU_HWPT_NEST_PARENT,
			     &h->cfg);
	if (rc)
		goto err_free;
	h->cfg.node = unit->numa_node;
	h->pgt = pgt_alloc(&h->cfg, &uiommu_pgt_mem, NULL, &err);
	if (!h->pgt) {
		rc = err ? err : -ENOMEM;
		goto err_free;
	}
	if (min_pgsize(h->cfg.pgsize_bitmap) > old_align) {
		rc = iopt_set_alignment(&ioas->iopt, min_pgsize(h->cfg.pgsize_bitmap));
		if (rc)
			goto err_pgt;
	}
	if (h->cfg.ias < 64) {
		rc = iopt_reserve(&ioas->iopt, 1ull << h->cfg.ias, UINT64_MAX, h,
				  UIOMMU_RESV_APERTURE);
		if (rc)
			goto err_align;
	}
	for (a = iopt_first(&ioas->iopt, 0, UINT64_MAX); a; a = iopt_next(a, UINT64_MAX)) {
		struct pgt_gather g = {0};
		rc = pgt_map(h->pgt, a->iova, a->phys, a->last - a->iova + 1, hwpt_area_prot(a),
			     &g);
		/* Not installed anywhere yet: nothing to invalidate, only pages to free
		 * (a failed map may have linked and rolled back tables). */
		pgt_gather_release(h->pgt, &g);
		if (rc)
			goto err_unfill;
	}
	list_add_tail(&ioas->hwpts, &h->ioas_link);
	ioas->nr_hwpts++;
	uobj_publish(h->ctx, &h->obj, UOBJ_HWPT);
	*out = h;
	return 0;

err_unfill:
	unfill(h, a);
	iopt_unreserve_owner(&ioas->iopt, h);
err_align:
	(void)iopt_set_alignment(&ioas->iopt, old_align);
err_pgt:
	pgt_free(h->pgt);
err_free:
	uenv_free(h);
	return rc;
}

void hwpt_paging_release(struct uiommu_hwpt *h)
{
	struct uiommu_ioas *ioas = h->ioas;

	pgt_free(h->pgt);
	iopt_unreserve_owner(&ioas->iopt, h);
	(void)iopt_set_alignment(&ioas->iopt, ioas_wanted_alignment(ioas, h));
	list_del(&h->ioas_link);
	ioas->nr_hwpts--;
	uobj_unpublish(h->ctx, &h->obj);
	uenv_free(h);
}

static const struct pgt_cfg *hwpt_table_cfg(const struct uiommu_hwpt *h)
{
	return h->nested ? &h->parent->cfg : &h->cfg;
}

/* Does a map into @h need an invalidation (VT-d caching mode)?  Any unit
 * that walks it: its installations and the units of vIOMMUs over it (whose
 * nested children cache through its stage 2). */
static void hwpt_update_flush_on_map(struct uiommu_hwpt *h)
{
	struct list_node *pos;
	bool need = false;

	for (uint32_t i = 0; i < h->nr_inst; i++)
		need |= h->inst[i].unit->flush_on_map;
	if (!h->nested)
		list_for_each(pos, &h->viommu_list)
			need |= list_entry(pos, struct uiommu_viommu, parent_link)->unit->flush_on_map;
	h->flush_on_map = need;
}

int hwpt_install_get(struct uiommu_hwpt *h, struct uiommu_unit *u, struct hwpt_install **out)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	struct hwpt_install *in;
	uint32_t did;
	int rc;

	for (uint32_t i = 0; i < h->nr_inst; i++) {
		if (h->inst[i].unit == u) {
			h->inst[i].users++;
			*out = &h->inst[i];
			return 0;
		}
	}
	if (h->nr_inst >= UIOMMU_HWPT_MAX_INSTALLS)
		return -ENOSPC;
	if (!ops->pgt_compatible(u, hwpt_table_cfg(h))) {
		UENV_LOG(CORE, ERR, "HWPT %u: unit %u cannot walk its %s table (%u-bit input)",
			 h->obj.id, u->obj.id, pgt_format_name(hwpt_table_cfg(h)->fmt),
			 hwpt_table_cfg(h)->ias);
		return -EINVAL;
	}
	rc = unit_did_alloc(u, &did);
	if (rc)
		return rc;
	in = &h->inst[h->nr_inst++];
	in->unit = u;
	in->did = did;
	in->users = 1;
	u->nr_installs++;
	hwpt_update_flush_on_map(h);
	*out = in;
	return 0;
}

void hwpt_install_put(struct uiommu_hwpt *h, struct uiommu_unit *u)
{
	for (uint32_t i = 0; i < h->nr_inst; i++) {
		struct hwpt_install *in = &h->inst[i];
		if (in->unit != u)
			continue;
		if (--in->users)
			return;
		/* Last user gone: drop whatever the unit still caches for the ID. */
		struct fam_flush f = {.did = in->did, .fmt = hwpt_table_cfg(h)->fmt};
		/* Failed: quarantined, not reused over what the unit may hold. */
		unit_did_release(u, in->did, unit_flush(u, &f, 1));
		u->nr_installs--;
		*in = h->inst[--h->nr_inst];
		memset(&h->inst[h->nr_inst], 0, sizeof(h->inst[0]));
		hwpt_update_flush_on_map(h);
		return;
	}
}

/* Domain-ID flushes for one unit, handed to the family HWPT_FLUSH_CHUNK at
 * a time (no bound on how many: a nest parent may have any number of
 * children). */
struct flush_batch {
	struct uiommu_unit *u;
	uint32_t n;
	int rc;
	struct fam_flush f[HWPT_FLUSH_CHUNK];
};

static void flush_batch_submit(struct flush_batch *b)
{
	int r;

	if (!b->n)
		return;
	r = unit_flush(b->u, b->f, b->n);
	if (r && !b->rc)
		b->rc = r;
	b->n = 0;
}

static void flush_batch_add(struct flush_batch *b, const struct fam_flush *f)
{
	if (b->n == HWPT_FLUSH_CHUNK)
		flush_batch_submit(b);
	b->f[b->n++] = *f;
}

/* Everything unit @u caches through @h's table for the range in @g: @h's
 * own ID there, the VMID of each vIOMMU over @h on @u (the range), and each
 * nested child's ID on @u (whole domain: combined entries are tagged by
 * stage-1 address). */
static int flush_unit(struct uiommu_hwpt *h, struct uiommu_unit *u, const struct pgt_gather *g)
{
	struct flush_batch b = {.u = u};
	struct fam_flush range = {
		.iova = g->start,
		.size = g->end - g->start,
		.pgsize = g->pgsize ? g->pgsize : UENV_PAGE_SIZE,
		.leaf_only = !g->tables_freed,
		.fmt = h->cfg.fmt,
	};
	struct list_node *pos;

	for (uint32_t i = 0; i < h->nr_inst; i++) {
		if (h->inst[i].unit != u)
			continue;
		range.did = h->inst[i].did;
		flush_batch_add(&b, &range);
	}
	list_for_each(pos, &h->viommu_list)
	{
		struct uiommu_viommu *v = list_entry(pos, struct uiommu_viommu, parent_link);
		if (v->unit != u)
			continue;
		range.did = v->vmid;
		flush_batch_add(&b, &range);
	}
	list_for_each(pos, &h->child_list)
	{
		struct uiommu_hwpt *c = list_entry(pos, struct uiommu_hwpt, child_link);
		for (uint32_t i = 0; i < c->nr_inst; i++) {
			if (c->inst[i].unit != u)
				continue;
			struct fam_flush f = {.did = c->inst[i].did, .fmt = h->cfg.fmt};
			flush_batch_add(&b, &f);
		}
	}
	flush_batch_submit(&b);
	return b.rc;
}

/* Several units, vIOMMUs or nested children: unit by unit.  The units are
 * those of @h's installations and of its vIOMMUs (a nested child is only
 * ever installed on its vIOMMU's unit). */
int hwpt_flush_general(struct uiommu_hwpt *h, struct pgt_gather *g)
{
	struct list_node *pos, *p2;
	int rc = 0, r;

	for (uint32_t i = 0; i < h->nr_inst; i++) {
		r = flush_unit(h, h->inst[i].unit, g); /* one installation per unit */
		if (r && !rc)
			rc = r;
	}
	list_for_each(pos, &h->viommu_list)
	{
		struct uiommu_unit *u = list_entry(pos, struct uiommu_viommu, parent_link)->unit;
		bool seen = false;

		for (uint32_t i = 0; i < h->nr_inst && !seen; i++)
			seen = h->inst[i].unit == u;
		for (p2 = h->viommu_list.next; p2 != pos && !seen; p2 = p2->next)
			seen = list_entry(p2, struct uiommu_viommu, parent_link)->unit == u;
		if (seen)
			continue;
		r = flush_unit(h, u, g);
		if (r && !rc)
			rc = r;
	}
	hwpt_gather_done(h, g);
	return rc;
}

/* ------------------------------------------------------------ public */

int uiommu_hwpt_alloc(struct uiommu_ioas *ioas, struct uiommu_unit *unit, uint32_t flags,
		      struct uiommu_hwpt **out)
{
	int rc;

	if (!ioas || !unit || !out)
		return -EINVAL;
	if (flags & ~(UIOMMU_HWPT_NEST_PARENT | UIOMMU_HWPT_STAGE1))
		return -EOPNOTSUPP;
	if ((flags & UIOMMU_HWPT_NEST_PARENT) && (flags & UIOMMU_HWPT_STAGE1))
		return -EINVAL;
	if ((flags & UIOMMU_HWPT_NEST_PARENT) && !unit->caps.nesting)
		return -EOPNOTSUPP;
	if ((flags & UIOMMU_HWPT_STAGE1) && !unit->caps.stage1)
		return -EOPNOTSUPP;
	if (ioas->ctx != unit->ctx)
		return -EINVAL;
	ctx_lock(ioas->ctx);
	rc = hwpt_paging_create(ioas, unit, flags, out);
	ctx_unlock(ioas->ctx);
	return rc;
}

/* The parts of a stage-1 description the public header defines: flag bits
 * (unknown: -EOPNOTSUPP, as iommufd), widths and alignment (-EINVAL). */
int hwpt_s1_data_check(const struct uiommu_hwpt_s1_data *d)
{
	switch (d->family) {
	case UIOMMU_FAMILY_VTD:
		if (d->u.vtd.flags & ~(UIOMMU_VTD_S1_SRE | UIOMMU_VTD_S1_WPE | UIOMMU_VTD_S1_EAFE))
			return -EOPNOTSUPP;
		if (d->u.vtd.addr_width != 48 && d->u.vtd.addr_width != 57)
			return -EINVAL;
		if (d->u.vtd.flptr & 0xfff)
			return -EINVAL;
		return 0;
	case UIOMMU_FAMILY_SMMUV3:
		return 0; /* the guest STE words: the driver's s1_check (vSTE rules) */
	case UIOMMU_FAMILY_AMDVI:
		/* The unit's limits (EFR.GLXSup) are the driver's s1_check. */
		if (d->u.amdvi.giov > 1 || d->u.amdvi.glx > 3)
			return -EINVAL;
		if ((d->u.amdvi.gcr3 & 0xfff) || (d->u.amdvi.gcr3 >> 52))
			return -EINVAL;
		return 0;
	default:
		/* No nesting driver for the family: nothing defines its fields. */
		return -EOPNOTSUPP;
	}
}

int uiommu_hwpt_alloc_nested(struct uiommu_viommu *v, const struct uiommu_hwpt_s1_data *data,
			     struct uiommu_hwpt **out)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_hwpt *h;
	int rc;

	if (!v || !data || !out)
		return -EINVAL;
	if (data->family != v->unit->family)
		return -EINVAL;
	rc = hwpt_s1_data_check(data);
	if (rc)
		return rc;
	ops = uiommu_family_ops_get(v->unit->family);
	ctx_lock(v->ctx);
	rc = ops->s1_check ? ops->s1_check(v->unit, data) : 0;
	if (rc) {
		ctx_unlock(v->ctx);
		return rc;
	}
	h = uenv_zalloc(sizeof(*h));
	if (!h) {
		ctx_unlock(v->ctx);
		return -ENOMEM;
	}
	h->ctx = v->ctx;
	h->nested = true;
	h->parent = v->parent;
	h->viommu = v;
	h->s1 = *data;
	h->cfg = v->parent->cfg;
	list_init(&h->attaches);
	list_init(&h->child_list);
	list_init(&h->viommu_list);
	list_add_tail(&v->parent->child_list, &h->child_link);
	v->parent->children++;
	v->children++;
	uobj_publish(h->ctx, &h->obj, UOBJ_HWPT);
	*out = h;
	ctx_unlock(v->ctx);
	return 0;
}

int uiommu_hwpt_destroy(struct uiommu_hwpt *h)
{
	struct uiommu_ctx *ctx;

	if (!h)
		return -EINVAL;
	ctx = h->ctx;
	ctx_lock(ctx);
	if (h->users || h->children || h->viommus || h->nr_inst) {
		ctx_unlock(ctx);
		return -EBUSY;
	}
	if (h->nested) {
		list_del(&h->child_link);
		h->parent->children--;
		h->viommu->children--;
		uobj_unpublish(ctx, &h->obj);
		uenv_free(h);
	} else {
		hwpt_paging_release(h);
	}
	ctx_unlock(ctx);
	return 0;
}

uint32_t uiommu_hwpt_id(const struct uiommu_hwpt *h)
{
	return h ? h->obj.id : 0;
}

struct uiommu_hwpt *uiommu_hwpt_get(struct uiommu_ctx *ctx, uint32_t id)
{
	return uobj_lookup(ctx, id, UOBJ_HWPT);
}

struct uiommu_hwpt *uiommu_hwpt_next(struct uiommu_ctx *ctx, struct uiommu_hwpt *prev)
{
	return uobj_next(ctx, UOBJ_HWPT, prev);
}

int uiommu_hwpt_get_info(const struct uiommu_hwpt *h, struct uiommu_hwpt_info *info)
{
	const struct pgt_cfg *cfg;

	if (!h || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	cfg = hwpt_table_cfg(h);
	info->id = h->obj.id;
	info->ioas_id = h->nested ? 0 : h->ioas->obj.id;
	info->parent_id = h->nested ? h->parent->obj.id : 0;
	info->flags = h->flags;
	info->nested = h->nested;
	info->format = cfg->fmt;
	info->format_name = pgt_format_name(cfg->fmt);
	info->levels = cfg->levels;
	info->ias = cfg->ias;
	info->root = cfg->root_pa;
	info->nr_units = h->nr_inst;
	for (uint32_t i = 0; i < h->nr_inst && i < 8; i++) {
		info->unit_ids[i] = h->inst[i].unit->obj.id;
		info->domain_ids[i] = h->inst[i].did;
	}
	return 0;
}

int uiommu_hwpt_walk(const struct uiommu_hwpt *h, uint64_t iova, struct uiommu_walk_level *out,
		     int max)
{
	struct pgt_walk_level lv[8];
	const struct uiommu_hwpt *t;
	int n;

	if (!h || !out || max <= 0)
		return -EINVAL;
	t = h->nested ? h->parent : h; /* a nested HWPT's own table is the user's */
	n = pgt_walk(t->pgt, iova, lv, max < 8 ? max : 8);
	for (int i = 0; i < n; i++) {
		out[i].level = lv[i].level;
		out[i].table = lv[i].table_pa;
		out[i].index = lv[i].index;
		out[i].entry = lv[i].entry;
		out[i].present = lv[i].present;
		out[i].leaf = lv[i].leaf;
		out[i].pgsize = lv[i].pgsize;
		pgt_entry_describe(t->pgt, &lv[i], out[i].text, sizeof(out[i].text));
	}
	return n;
}

/* -------------------------------------------------------------- vIOMMU */

int uiommu_viommu_alloc(struct uiommu_unit *unit, struct uiommu_hwpt *parent,
			struct uiommu_viommu **out)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_viommu *v;
	int rc;

	if (!unit || !parent || !out || parent->nested ||
	    !(parent->flags & UIOMMU_HWPT_NEST_PARENT) || parent->ctx != unit->ctx)
		return -EINVAL;
	if (!unit->caps.nesting)
		return -EOPNOTSUPP;
	ops = uiommu_family_ops_get(unit->family);
	ctx_lock(unit->ctx);
	if (!ops->pgt_compatible(unit, &parent->cfg)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	v = uenv_zalloc(sizeof(*v));
	if (!v) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	/* Its own VMID: the parent's stage 2 as this VM sees it, flushed under
	 * this ID (beside the parent's other IDs) on every stage-2 change. */
	rc = unit_did_alloc(unit, &v->vmid);
	if (rc)
		goto err_free;
	v->ctx = unit->ctx;
	v->unit = unit;
	v->parent = parent;
	unit->nr_installs++;
	list_add_tail(&parent->viommu_list, &v->parent_link);
	parent->viommus++;
	hwpt_update_flush_on_map(parent);
	uobj_publish(unit->ctx, &v->obj, UOBJ_VIOMMU);
	*out = v;
	ctx_unlock(unit->ctx);
	return 0;

err_free:
	uenv_free(v);
out_unlock:
	ctx_unlock(unit->ctx);
	return rc;
}

int uiommu_viommu_destroy(struct uiommu_viommu *v)
{
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;

	if (!v)
		return -EINVAL;
	ctx = v->ctx;
	u = v->unit;
	ctx_lock(ctx);
	if (v->children) {
		ctx_unlock(ctx);
		return -EBUSY;
	}
	/* Drop whatever the unit still caches under the VMID. */
	struct fam_flush f = {.did = v->vmid, .fmt = v->parent->cfg.fmt};
	unit_did_release(u, v->vmid, unit_flush(u, &f, 1));
	u->nr_installs--;
	list_del(&v->parent_link);
	v->parent->viommus--;
	hwpt_update_flush_on_map(v->parent);
	uobj_unpublish(ctx, &v->obj);
	uenv_free(v);
	ctx_unlock(ctx);
	return 0;
}

uint32_t uiommu_viommu_id(const struct uiommu_viommu *v)
{
	return v ? v->obj.id : 0;
}

uint32_t uiommu_viommu_vmid(const struct uiommu_viommu *v)
{
	return v ? v->vmid : 0;
}

struct uiommu_viommu *uiommu_viommu_get(struct uiommu_ctx *ctx, uint32_t id)
{
	return uobj_lookup(ctx, id, UOBJ_VIOMMU);
}

struct uiommu_viommu *uiommu_viommu_next(struct uiommu_ctx *ctx, struct uiommu_viommu *prev)
{
	return uobj_next(ctx, UOBJ_VIOMMU, prev);
}

struct uiommu_unit *uiommu_viommu_unit(const struct uiommu_viommu *v)
{
	return v ? v->unit : NULL;
}

struct uiommu_hwpt *uiommu_viommu_parent(const struct uiommu_viommu *v)
{
	return v ? v->parent : NULL;
}

/* One request as the API defines it: unknown flag bits -EOPNOTSUPP (as
 * iommufd); an unknown type, or a field the type does not use that is not
 * zero, or a misaligned range -EINVAL. */
static int inv_entry_check(const struct uiommu_inv_entry *e)
{
	if (e->flags & ~UIOMMU_INV_F_LEAF)
		return -EOPNOTSUPP;
	switch (e->type) {
	case UIOMMU_INV_S1_ALL:
	case UIOMMU_INV_S1_PASID:
		return e->dev_id || e->addr || e->len ? -EINVAL : 0;
	case UIOMMU_INV_S1_RANGE:
		if (e->dev_id || ((e->addr | e->len) & (UENV_PAGE_SIZE - 1)))
			return -EINVAL;
		if (!e->len)
			return e->addr ? -EINVAL : 0; /* 0: everything, from 0 */
		return e->addr + (e->len - 1) < e->addr ? -EINVAL : 0;
	case UIOMMU_INV_DEV_TLB:
		return e->dev_id ? 0 : -EINVAL;
	case UIOMMU_INV_CFG:
		return !e->dev_id || e->addr || e->len ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

int uiommu_cache_invalidate(struct uiommu_viommu *v, struct uiommu_hwpt *h,
			    const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done)
{
	const struct uiommu_family_ops *ops;
	uint32_t s1_did, ok;
	uint32_t dummy;
	int rc, bad = 0;

	if (!done)
		done = &dummy;
	*done = 0;
	if (!v || (n && !e))
		return -EINVAL;
	if (h && (!h->nested || h->viommu != v))
		return -EINVAL;
	ops = uiommu_family_ops_get(v->unit->family);
	if (!ops->cache_invalidate)
		return -EOPNOTSUPP;
	/* Every entry is checked before any command is issued; the ones before
	 * the first bad entry are done (and *done says which is bad). */
	for (ok = 0; ok < n; ok++) {
		bad = inv_entry_check(&e[ok]);
		if (bad)
			break;
	}
	if (ok == 0 && bad)
		return bad;
	ctx_lock(v->ctx);
	if (h) {
		/* The child's ID on the vIOMMU's unit (none: nothing cached). */
		s1_did = FAM_S1_DID_NONE;
		for (uint32_t i = 0; i < h->nr_inst; i++)
			if (h->inst[i].unit == v->unit)
				s1_did = h->inst[i].did;
	} else {
		s1_did = FAM_S1_DID_ALL; /* every stage-1 domain under the VMID */
	}
	rc = unit_hw_result(v->unit, ops->cache_invalidate(v->unit, v->vmid, s1_did, e, ok, done));
	ctx_unlock(v->ctx);
	return rc ? rc : bad;
}
