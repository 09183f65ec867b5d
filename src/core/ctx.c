/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Context: creation, adoption of shared state, teardown, the object-ID
 * registry and the event poll loop.
 *
 * The environment (EAL, arena) is one per process, so there is at most one
 * live context per process; a second uiommu_ctx_create fails with -EBUSY.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/ctx_ext.h"

static struct uiommu_ctx *live_ctx; /* (local) the context of this process */

/* /uiommu/objects: counts per object type (telemetry thread: take the lock). */
static int ctx_telemetry(struct uenv_kv *kv, int max)
{
	static const char *const names[] = {NULL, "units", "devices", "ioas", "hwpts", "viommus"};
	struct uiommu_ctx *ctx = live_ctx;
	int n = 0;

	if (!ctx)
		return 0;
	ctx_lock(ctx);
	for (int t = UOBJ_UNIT; t <= UOBJ_VIOMMU && n < max; t++) {
		uint64_t c = 0;
		for (void *o = uobj_next(ctx, t, NULL); o; o = uobj_next(ctx, t, o))
			c++;
		kv[n].key = names[t];
		kv[n].val = c;
		n++;
	}
	ctx_unlock(ctx);
	return n;
}

/* ---------------------------------------------------------- object IDs */

void uobj_publish(struct uiommu_ctx *ctx, struct uobj *o, enum uobj_type type)
{
	if (++ctx->next_id == 0)
		ctx->next_id = 1;
	/* IDs are never reused while the old one lives. */
	while (uobj_lookup(ctx, ctx->next_id, 0))
		if (++ctx->next_id == 0)
			ctx->next_id = 1;
	o->id = ctx->next_id;
	o->type = type;
	list_add_tail(&ctx->objs[type], &o->ctx_link);
	list_add_tail(&ctx->id_hash[o->id % UOBJ_HASH], &o->id_link);
}

void uobj_unpublish(struct uiommu_ctx *ctx, struct uobj *o)
{
	(void)ctx;
	list_del(&o->ctx_link);
	list_del(&o->id_link);
}

/* type 0 matches any type. */
void *uobj_lookup(struct uiommu_ctx *ctx, uint32_t id, enum uobj_type type)
{
	struct list_node *pos;

	if (!ctx || !id)
		return NULL;
	list_for_each(pos, &ctx->id_hash[id % UOBJ_HASH])
	{
		struct uobj *o = list_entry(pos, struct uobj, id_link);
		if (o->id == id)
			return (!type || o->type == (uint32_t)type) ? o : NULL;
	}
	return NULL;
}

void *uobj_next(struct uiommu_ctx *ctx, enum uobj_type type, void *prev)
{
	struct list_node *n;

	if (!ctx)
		return NULL;
	n = prev ? ((struct uobj *)prev)->ctx_link.next : ctx->objs[type].next;
	if (n == &ctx->objs[type])
		return NULL;
	return list_entry(n, struct uobj, ctx_link);
}

/* ------------------------------------------------------------- context */

static int ctx_adopt(struct uiommu_ctx *ctx)
{
	struct uobj *o;
	int rc;

	if (ctx->magic != UIOMMU_CTX_MAGIC)
		return -EINVAL;
	if (ctx->owner_pid != (uint32_t)getpid() && uenv_pid_alive(ctx->owner_pid)) {
		UENV_LOG(CORE, ERR, "shared state is owned by live process %u", ctx->owner_pid);
		return -EBUSY;
	}
	/* Re-bind everything process-local: register mappings, table memory ops. */
	for (o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
		if (!ops || !ops->unit_adopt)
			return -EOPNOTSUPP;
		rc = ops->unit_adopt(u);
		if (rc) {
			UENV_LOG(CORE, ERR, "unit %u: cannot adopt: %s", u->obj.id, strerror(-rc));
			return rc;
		}
	}
	for (o = uobj_next(ctx, UOBJ_HWPT, NULL); o; o = uobj_next(ctx, UOBJ_HWPT, o)) {
		struct uiommu_hwpt *h = (struct uiommu_hwpt *)o;
		if (h->pgt)
			pgt_bind(h->pgt, &uiommu_pgt_mem, NULL);
	}
	ctx->owner_pid = (uint32_t)getpid();
	ctx->adopted = true;
	ctx->lock.v = 0; /* no process of ours holds it now */
	return 0;
}

int uiommu_ctx_create(const struct uiommu_env_opts *opts, struct uiommu_ctx **out)
{
	struct uiommu_ctx *ctx;
	void **root;
	int rc;

	if (!out)
		return -EINVAL;
	if (live_ctx)
		return -EBUSY;
	rc = uenv_init(opts);
	if (rc)
		return rc;
	uenv_telemetry_set_objects(ctx_telemetry);
	root = uenv_root_slot();
	if (uenv_adopted() && *root) {
		ctx = *root;
		rc = ctx_adopt(ctx);
		if (rc)
			goto err_env;
		live_ctx = ctx;
		*out = ctx;
		return 0;
	}
	ctx = uenv_zalloc(sizeof(*ctx));
	if (!ctx) {
		rc = -ENOMEM;
		goto err_env;
	}
	ctx->magic = UIOMMU_CTX_MAGIC;
	ctx->owner_pid = (uint32_t)getpid();
	for (unsigned int i = 0; i < sizeof(ctx->objs) / sizeof(ctx->objs[0]); i++)
		list_init(&ctx->objs[i]);
	for (unsigned int i = 0; i < UOBJ_HASH; i++)
		list_init(&ctx->id_hash[i]);
	*root = ctx;
	live_ctx = ctx;
	*out = ctx;
	return 0;

err_env:
	uenv_fini(false);
	return rc;
}

bool uiommu_ctx_adopted(const struct uiommu_ctx *ctx)
{
	return ctx && ctx->adopted;
}

/* Tear everything down in dependency order. */
static void ctx_teardown(struct uiommu_ctx *ctx)
{
	struct uobj *o;

	/* Attachments first: every device blocked. */
	while ((o = uobj_next(ctx, UOBJ_DEVICE, NULL))) {
		struct uiommu_device *d = (struct uiommu_device *)o;
		while (!list_empty(&d->attaches)) {
			struct dev_attach *a =
				list_entry(d->attaches.next, struct dev_attach, link);
			if (uiommu_device_detach(d, a->pasid))
				break; /* cannot happen; avoid looping forever */
		}
		if (uiommu_device_remove(d))
			break;
	}
	/* Nested HWPTs, then vIOMMUs, then paging HWPTs. */
	for (int pass = 0; pass < 2; pass++) {
		struct uobj *n;
		for (o = uobj_next(ctx, UOBJ_HWPT, NULL); o; o = n) {
			n = uobj_next(ctx, UOBJ_HWPT, o);
			struct uiommu_hwpt *h = (struct uiommu_hwpt *)o;
			if (h->nested == (pass == 0))
				(void)uiommu_hwpt_destroy(h);
		}
		if (pass == 0)
			while ((o = uobj_next(ctx, UOBJ_VIOMMU, NULL)))
				if (uiommu_viommu_destroy((struct uiommu_viommu *)o))
					break;
	}
	while ((o = uobj_next(ctx, UOBJ_IOAS, NULL)))
		if (uiommu_ioas_destroy((struct uiommu_ioas *)o))
			break;
	while ((o = uobj_next(ctx, UOBJ_UNIT, NULL)))
		if (uiommu_unit_remove((struct uiommu_unit *)o))
			break;
	/* Tool state: buffers and names. */
	struct ctx_ext *e = ctx->ext;
	if (e) {
		struct list_node *pos, *tmp;
		list_for_each_safe(pos, tmp, &e->bufs)
		{
			struct ext_buf *b = list_entry(pos, struct ext_buf, link);
			list_del(&b->link);
			uenv_dma_free(&b->dma);
			uenv_free(b);
		}
		list_for_each_safe(pos, tmp, &e->names)
		{
			struct ext_name *nm = list_entry(pos, struct ext_name, link);
			list_del(&nm->link);
			uenv_free(nm);
		}
		uenv_free(e);
		ctx->ext = NULL;
	}
}

void uiommu_ctx_destroy(struct uiommu_ctx *ctx)
{
	if (!ctx || ctx != live_ctx)
		return;
	ctx_teardown(ctx);
	*uenv_root_slot() = NULL;
	ctx->magic = 0;
	uenv_free(ctx);
	live_ctx = NULL;
	uenv_fini(true);
}

void uiommu_ctx_detach(struct uiommu_ctx *ctx)
{
	struct uobj *o;

	if (!ctx || ctx != live_ctx)
		return;
	for (o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
		if (ops && ops->unit_leave)
			ops->unit_leave(u);
	}
	ctx->owner_pid = 0;
	ctx->adopted = false;
	live_ctx = NULL;
	uenv_fini(false);
}

/* ---------------------------------------------------------------- poll */

static struct uiommu_device *dev_by_hw_id(struct uiommu_ctx *ctx, struct uiommu_unit *u,
					  uint32_t hw_id)
{
	struct uobj *o;

	for (o = uobj_next(ctx, UOBJ_DEVICE, NULL); o; o = uobj_next(ctx, UOBJ_DEVICE, o)) {
		struct uiommu_device *d = (struct uiommu_device *)o;
		if (d->unit == u && d->desc.hw_id == hw_id)
			return d;
	}
	return NULL;
}

uint16_t uiommu_poll(struct uiommu_ctx *ctx, struct uiommu_event *ev, uint16_t max)
{
	uint16_t n = 0;
	struct uobj *o;

	if (!ctx || !ev || !max)
		return 0;
	ctx_lock(ctx);
	for (o = uobj_next(ctx, UOBJ_UNIT, NULL); o && n < max; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
		uint16_t got;

		if (!ops || !ops->poll)
			continue;
		got = ops->poll(u, ev + n, (uint16_t)(max - n));
		for (uint16_t i = n; i < n + got; i++) {
			ev[i].unit_id = u->obj.id;
			if (!ev[i].segment)
				ev[i].segment = u->segment;
			if (!ev[i].dev_id && ev[i].type != UIOMMU_EV_OVERFLOW &&
			    ev[i].type != UIOMMU_EV_QUEUE_ERROR) {
				struct uiommu_device *d = dev_by_hw_id(ctx, u, ev[i].hw_id);
				ev[i].dev_id = d ? d->obj.id : 0;
			}
		}
		n = (uint16_t)(n + got);
	}
	ctx_unlock(ctx);
	return n;
}

int uiommu_page_response(struct uiommu_device *dev, uint32_t pasid, uint32_t grpid,
			 enum uiommu_page_resp code)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_ctx *ctx;
	int rc;

	if (!dev)
		return -EINVAL;
	ctx = dev->unit->ctx;
	ops = uiommu_family_ops_get(dev->unit->family);
	if (!ops || !ops->page_response)
		return -EOPNOTSUPP;
	ctx_lock(ctx);
	rc = ops->page_response(dev->unit, dev, pasid, grpid, code);
	ctx_unlock(ctx);
	return rc;
}

const char *uiommu_strerror(int err)
{
	switch (-err) {
	case 0:
		return "success";
	case EEXIST:
		return "range overlaps an existing mapping or object exists";
	case ENOENT:
		return "no such object, or nothing mapped in the range";
	case EINVAL:
		return "invalid argument (an unmap range that would cut a mapping, a bad field)";
	case ENODEV:
		return "no such device or hardware, or the RID/PASID is not attached";
	case EADDRINUSE:
		return "IOVA range in use (reserved vs. mapped/allowed conflict)";
	case ENOSPC:
		return "no free IOVA space or domain ID";
	case EBUSY:
		return "object in use";
	case EOVERFLOW:
		return "address range wraps around";
	case ETIMEDOUT:
		return "hardware did not complete in time";
	case EOPNOTSUPP:
		return "not supported by this IOMMU";
	default:
		return strerror(-err);
	}
}
