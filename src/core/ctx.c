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
#include "core/check.h"
#include "core/ctx_ext.h"

static struct uiommu_ctx *live_ctx; /* (local) the context of this process */
static bool live_adopted;	    /* (local) it was adopted, not created */
static bool tearing_down;	    /* (local) uiommu_ctx_destroy is running */

__thread unsigned int uiommu_lock_depth __attribute__((tls_model("initial-exec")));
uint64_t uiommu_local_units_gen;

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

/*
 * Taken the lock and found the units changed since this process last
 * looked (or the previous holder died holding the lock): bind this
 * process's register access to every unit that is new to it, release
 * what belonged to units that are gone.
 */
static void ctx_rebind(struct uiommu_ctx *ctx)
{
	uint64_t seen = 0;

	for (struct uobj *o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		uint32_t slot = u->slot & (UIOMMU_MAX_UNITS - 1);

		seen |= 1ull << slot;
		if (uiommu_unit_local[slot].bind_gen != u->bind_gen)
			(void)unit_local_bind(u);
	}
	for (uint32_t slot = 0; slot < UIOMMU_MAX_UNITS; slot++)
		if (!(seen & (1ull << slot)) && uiommu_unit_local[slot].bind_gen)
			unit_local_release(slot);
	uiommu_local_units_gen = ctx->units_gen;
}

/*
 * Bring every unit this process reaches in line with the state after a
 * rollback or the death of a lock holder: queues restarted, every cache
 * invalidated (the family's unit_recover).  A holder killed between a
 * table change and the completion of its invalidation (the one-area unmap
 * takes the area out of the tree first, then clears and flushes) leaves a
 * state that checks clean while the unit may still cache the old
 * translation: without this, the next map of that IOVA would be reached
 * through the stale entry.  (Units bound: ctx_rebind first.)
 */
static void ctx_recover_units(struct uiommu_ctx *ctx, const char *after)
{
	for (struct uobj *o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
		int r;

		if (!ops || !ops->unit_recover)
			continue;
		/* A unit this process cannot reach (its binding failed: its
		 * registers read as all-ones) has nothing to recover from here:
		 * its polls could only time out, one after another. */
		if (uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)].bind_gen != u->bind_gen) {
			UENV_LOG(CORE, ERR, "unit %u: not reachable from this process: not recovered",
				 u->obj.id);
			continue;
		}
		r = ops->unit_recover(u);
		if (r) {
			/* The next flush on it tries again (unit_flush). */
			u->inv_stale = true;
			UENV_LOG(CORE, ERR, "unit %u: recovery after %s failed: %s", u->obj.id,
				 after, strerror(-r));
		} else { /* every cache invalidated */
			u->inv_stale = false;
			unit_quarantine_clear(u);
		}
	}
}

/*
 * Put back the image of an unfinished transaction (ours, aborted, or a dead
 * process's): memory first; then the whole state is checked (the image is
 * input like the file) before anything follows it; then every unit's
 * hardware brought in line with it (queues restarted, every cache
 * invalidated), then what the transaction had added is given back.
 * Returns 1 when an image was restored, 0 when there was none, <0 error
 * (-EUCLEAN: what was put back does not check; the state is marked
 * inconsistent).
 */
static int ctx_restore(struct uiommu_ctx *ctx)
{
	/* The lock word keeps its value (ours) through the restore: were the
	 * image's (the dead holder's) seen for a moment, a waiter would take
	 * the lock over from under us. */
	int rc = uenv_txn_restore(&ctx->lock, sizeof(ctx->lock));

	if (rc <= 0)
		return rc;
	if (ctx_check(ctx, NULL)) {
		UENV_LOG(CORE, ERR, "the state put back from the transaction image is inconsistent: "
				    "'uiommuctl state check' lists what is wrong; reset it");
		if (uenv_is_meta(ctx, sizeof(*ctx)))
			ctx->corrupt = 1;
		return -EUCLEAN;
	}
	ctx_rebind(ctx);
	ctx_recover_units(ctx, "the rollback");
	uenv_txn_trim();
	return 1;
}

void ctx_lock_slow(struct uiommu_ctx *ctx, int recovered)
{
	if (recovered > 0) {
		int rc;

		UENV_LOG(CORE, WARNING, "the previous holder of the state lock died holding it");
		rc = ctx_restore(ctx);
		if (rc == 1)
			UENV_LOG(CORE, WARNING,
				 "its unfinished transaction was rolled back: the state is as "
				 "before it began");
		else if (rc < 0)
			UENV_LOG(CORE, ERR, "rolling its transaction back failed: %s",
				 strerror(-rc));
		if (rc == 0 && ctx_check(ctx, NULL)) {
			ctx->corrupt = 1;
			UENV_LOG(CORE, ERR,
				 "the state is inconsistent after the death of a process that "
				 "changed it outside a transaction: 'uiommuctl state check' "
				 "lists what is wrong; reset it");
		} else if (rc == 0) {
			/* Consistent, but the dead holder's last invalidation
			 * may not have reached the unit. */
			ctx_rebind(ctx);
			ctx_recover_units(ctx, "the death of the lock holder");
		}
	}
	/* A graph known to be inconsistent is not followed. */
	if (!ctx->corrupt)
		ctx_rebind(ctx);
}

/* Release this process's register mappings (it leaves the state). */
static void ctx_local_release_all(struct uiommu_ctx *ctx)
{
	for (struct uobj *o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);

		if (uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)].bind_gen && ops &&
		    ops->unit_leave)
			ops->unit_leave(u);
	}
	for (uint32_t slot = 0; slot < UIOMMU_MAX_UNITS; slot++)
		unit_local_forget(slot);
	uiommu_local_units_gen = 0;
}

/* A process adopts existing state: check the root, then bind every unit
 * (every unit must be reachable from this process, or the adoption fails). */
/* Take the state lock at depth 0 waiting at most @ns: 0, -ETIMEDOUT. */
static int ctx_lock_bounded(struct uiommu_ctx *ctx, uint64_t ns, uint32_t *holder_pid)
{
	int r = uenv_lock_timed(&ctx->lock, ns);

	if (r < 0) {
		if (holder_pid)
			*holder_pid = uenv_lock_holder(&ctx->lock, NULL);
		return r;
	}
	uiommu_lock_depth = 1;
	uenv_sync();
	if (r != 0 || ctx->units_gen != uiommu_local_units_gen)
		ctx_lock_slow(ctx, r);
	return 0;
}

/* A process adopts existing state: check the root, take the lock (rolling
 * back a transaction left behind), check everything, and only then bind
 * every unit (every unit must be reachable from this process, or the
 * adoption fails).  Nothing follows the graph before it is checked. */
static int ctx_adopt(struct uiommu_ctx *ctx)
{
	int rc = 0, r;
	bool restored = false;

	if (!uenv_is_meta(ctx, sizeof(*ctx)) || ctx->magic != UIOMMU_CTX_MAGIC) {
		UENV_LOG(CORE, ERR, "corrupt state: the root object is not a context");
		return -EUCLEAN;
	}
	r = uenv_lock_timed(&ctx->lock, uenv_adopt_wait_ns());
	if (r < 0) {
		UENV_LOG(CORE, ERR, "the state stays locked by process %u",
			 uenv_lock_holder(&ctx->lock, NULL));
		return r;
	}
	uiommu_lock_depth = 1;
	uenv_sync();
	if (r > 0)
		UENV_LOG(CORE, WARNING, "the previous holder of the state lock died holding it");
	/* A transaction whose holder died, or released the lock without
	 * ending it (cannot happen through the API): roll it back (the image
	 * put back is checked there). */
	if (uenv_txn_supported() && !uenv_txn_active()) {
		rc = ctx_restore(ctx);
		restored = rc == 1;
		if (rc == 1)
			UENV_LOG(CORE, WARNING, "an unfinished transaction was rolled back");
		if (rc < 0)
			goto out_unlock;
	}
	rc = rc == 1 ? 0 : ctx_check(ctx, NULL);
	if (!rc && ctx->corrupt) {
		UENV_LOG(CORE, ERR, "the state was marked inconsistent: reset it");
		rc = -EUCLEAN;
	}
	if (rc)
		goto out_unlock;
	for (struct uobj *o = uobj_next(ctx, UOBJ_UNIT, NULL); o && !rc;
	     o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;

		if (uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)].bind_gen != u->bind_gen)
			rc = unit_local_bind(u);
	}
	if (!rc)
		uiommu_local_units_gen = ctx->units_gen;
	/* The holder died outside a transaction (nothing was rolled back,
	 * the state checks clean): its last invalidation may not have
	 * reached the unit (ctx_recover_units). */
	if (!rc && r > 0 && !restored)
		ctx_recover_units(ctx, "the death of the lock holder");
	ctx_unlock(ctx);
	if (rc)
		ctx_local_release_all(ctx);
	return rc;

out_unlock:
	ctx_unlock(ctx);
	return rc;
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
	uiommu_pgt_mem_register();
	root = uenv_root_slot();
	if (uenv_adopted() && !*root && !uenv_arena_empty()) {
		/* Creating a context here would leave the state's allocations
		 * to nobody: the root pointer is gone, not the state. */
		UENV_LOG(CORE, ERR, "corrupt state: no context, but memory in use: reset it");
		rc = -EUCLEAN;
		goto err_env;
	}
	if (uenv_adopted() && *root) {
		ctx = *root;
		rc = ctx_adopt(ctx);
		if (rc)
			goto err_env;
		live_ctx = ctx;
		live_adopted = true;
		*out = ctx;
		return 0;
	}
	ctx = uenv_zalloc(sizeof(*ctx));
	if (!ctx) {
		rc = -ENOMEM;
		goto err_env;
	}
	ctx->magic = UIOMMU_CTX_MAGIC;
	for (unsigned int i = 0; i < sizeof(ctx->objs) / sizeof(ctx->objs[0]); i++)
		list_init(&ctx->objs[i]);
	for (unsigned int i = 0; i < UOBJ_HASH; i++)
		list_init(&ctx->id_hash[i]);
	uiommu_local_units_gen = 0;
	/* Published last: a process that adopts the file sees a whole context. */
	__atomic_store_n(root, (void *)ctx, __ATOMIC_RELEASE);
	live_ctx = ctx;
	live_adopted = false;
	*out = ctx;
	return 0;

err_env:
	uenv_fini(false);
	return rc;
}

int uiommu_ctx_lock(struct uiommu_ctx *ctx, uint32_t timeout_ms, uint32_t *holder_pid)
{
	uint64_t ns;

	if (holder_pid)
		*holder_pid = 0;
	if (!ctx || ctx != live_ctx)
		return -EINVAL;
	if (uiommu_lock_depth) {
		uiommu_lock_depth++;
		return 0;
	}
	ns = timeout_ms == UINT32_MAX ? UINT64_MAX : (uint64_t)timeout_ms * 1000000ull;
	return ctx_lock_bounded(ctx, ns, holder_pid);
}

void uiommu_ctx_unlock(struct uiommu_ctx *ctx)
{
	if (!ctx || ctx != live_ctx || !uiommu_lock_depth)
		return;
	ctx_unlock(ctx);
}

/* ------------------------------------------------------------ transactions */

/*
 * A multi-step call (attach, a map or unmap of many pages, ...) on a
 * shared state runs inside a transaction of its own when the caller has
 * none open, so that a kill -9 half-way leaves it undone rather than half
 * done.  Its own error paths unwind as before; the transaction commits
 * either way.  Called with the state lock held.
 */
bool ctx_txn_auto_begin(struct uiommu_ctx *ctx)
{
	(void)ctx;
	/* A destroy deletes everything anyway: no image per step. */
	if (tearing_down || !uenv_txn_supported() || uenv_txn_active())
		return false;
	return uenv_txn_begin() == 0;
}

void ctx_txn_auto_end(struct uiommu_ctx *ctx, bool began)
{
	(void)ctx;
	if (began)
		(void)uenv_txn_commit();
}

int uiommu_txn_begin(struct uiommu_ctx *ctx, uint32_t timeout_ms, uint32_t *holder_pid)
{
	int rc;

	if (!ctx || ctx != live_ctx)
		return -EINVAL;
	if (!uenv_txn_supported())
		return -EOPNOTSUPP;
	if (uenv_txn_active())
		return -EBUSY; /* no nesting */
	rc = uiommu_ctx_lock(ctx, timeout_ms, holder_pid);
	if (rc)
		return rc;
	rc = uenv_txn_begin();
	if (rc) {
		UENV_LOG(CORE, ERR, "cannot save the state's undo image: %s", strerror(-rc));
		ctx_unlock(ctx);
	}
	return rc;
}

int uiommu_txn_commit(struct uiommu_ctx *ctx)
{
	int rc;

	if (!ctx || ctx != live_ctx || !uenv_txn_active())
		return -EINVAL;
	rc = uenv_txn_commit();
	ctx_unlock(ctx);
	return rc;
}

int uiommu_txn_abort(struct uiommu_ctx *ctx)
{
	int rc;

	if (!ctx || ctx != live_ctx || !uenv_txn_active())
		return -EINVAL;
	rc = ctx_restore(ctx);
	ctx_unlock(ctx);
	return rc < 0 ? rc : 0;
}

bool uiommu_ctx_adopted(const struct uiommu_ctx *ctx)
{
	return ctx && ctx == live_ctx && live_adopted;
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
		/* Only -EBUSY (still attached) leaves the device in place; an
		 * invalidation error comes after its removal: go on. */
		int r = uiommu_device_remove(d);

		if (r == -EBUSY || r == -EINVAL)
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
	ctx_lock(ctx);
	if (uenv_txn_active())
		(void)uenv_txn_commit(); /* everything goes anyway */
	tearing_down = true;
	ctx_teardown(ctx);
	tearing_down = false;
	*uenv_root_slot() = NULL;
	ctx->magic = 0;
	uiommu_lock_depth = 0;
	uenv_unlock(&ctx->lock);
	uenv_free(ctx);
	live_ctx = NULL;
	live_adopted = false;
	for (uint32_t slot = 0; slot < UIOMMU_MAX_UNITS; slot++)
		unit_local_forget(slot);
	uiommu_local_units_gen = 0;
	uenv_fini(true);
}

void uiommu_ctx_detach(struct uiommu_ctx *ctx)
{
	if (!ctx || ctx != live_ctx)
		return;
	if (!uiommu_lock_depth)
		ctx_lock(ctx);
	else
		uiommu_lock_depth++;
	if (uenv_txn_active())
		(void)ctx_restore(ctx); /* left open: it did not commit */
	ctx_local_release_all(ctx);
	/* Whatever depth the caller held the lock at: it goes with us. */
	uiommu_lock_depth = 0;
	uenv_unlock(&ctx->lock);
	live_ctx = NULL;
	live_adopted = false;
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
		uint16_t got = unit_events_drain(u, ev + n, (uint16_t)(max - n));

		if (ops && ops->poll && n + got < max)
			got = (uint16_t)(got + ops->poll(u, ev + n + got, (uint16_t)(max - n - got)));
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
		if (got) /* for every reader of the state (uiommu_events_read) */
			unit_evhist_append(u, ev + n, got);
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
