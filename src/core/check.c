/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state checker: walks the object graph of a context read from a state
 * file and reports every inconsistency it finds, following no pointer it
 * has not checked first (every object must be a live metadata allocation
 * of the arena of at least its type's size, every list node must point
 * back at its neighbour, every cross-reference must name a listed object).
 *
 * Run when a process adopts a state (a corrupted or hostile file is then
 * refused with a clear error instead of crashing a later call) and by
 * `uiommuctl state check`.  Runs under the context lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "core/core.h"

/* More objects of one kind than this is a loop, not a state. */
#define CHECK_MAX_OBJS (1u << 24)

static void report(struct check_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct check_report *r, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r) {
		r->errors++;
		if (r->cb)
			r->cb(r->arg, buf);
	}
	UENV_LOG(CORE, ERR, "state check: %s", buf);
}

static bool node_ok(const struct list_node *n)
{
	return uenv_in_arena(n, sizeof(*n));
}

/*
 * Walk the list at @h, calling @visit on each node (checked to be arena
 * memory with consistent links).  Returns the number of nodes, or -1 when
 * the list is broken (reported).
 */
static long list_check(struct check_report *r, const struct list_head *h, const char *what,
		       bool (*visit)(struct check_report *, const struct list_node *, void *),
		       void *arg)
{
	const struct list_node *prev = h, *n;
	long count = 0;

	if (!node_ok(h) || !node_ok(h->next) || !node_ok(h->prev)) {
		report(r, "%s: list head is not arena memory", what);
		return -1;
	}
	for (n = h->next; n != h; prev = n, n = n->next) {
		if (!node_ok(n) || !node_ok(n->next)) {
			report(r, "%s: link %ld leaves the arena", what, count);
			return -1;
		}
		if (n->prev != prev) {
			report(r, "%s: node %ld does not point back at its predecessor", what, count);
			return -1;
		}
		if (++count > (long)CHECK_MAX_OBJS) {
			report(r, "%s: loops", what);
			return -1;
		}
		if (visit && !visit(r, n, arg))
			return -1;
	}
	if (h->prev != prev) {
		report(r, "%s: head does not point back at the last node", what);
		return -1;
	}
	return count;
}

static const size_t obj_size[] = {
	[UOBJ_UNIT] = sizeof(struct uiommu_unit),   [UOBJ_DEVICE] = sizeof(struct uiommu_device),
	[UOBJ_IOAS] = sizeof(struct uiommu_ioas),   [UOBJ_HWPT] = sizeof(struct uiommu_hwpt),
	[UOBJ_VIOMMU] = sizeof(struct uiommu_viommu),
};
static const char *const obj_name[] = {
	[UOBJ_UNIT] = "unit", [UOBJ_DEVICE] = "device", [UOBJ_IOAS] = "IOAS",
	[UOBJ_HWPT] = "HWPT", [UOBJ_VIOMMU] = "vIOMMU",
};

struct type_walk {
	struct uiommu_ctx *ctx;
	uint32_t type;
};

static bool visit_obj(struct check_report *r, const struct list_node *n, void *arg)
{
	const struct type_walk *w = arg;
	const struct uobj *o = list_entry(n, struct uobj, ctx_link);

	if (!uenv_is_meta(o, obj_size[w->type])) {
		report(r, "%s list: entry at %p is not a %s object of the arena", obj_name[w->type],
		       (const void *)o, obj_name[w->type]);
		return false;
	}
	if (o->type != w->type || !o->id) {
		report(r, "%s list: object %u has type %u", obj_name[w->type], o->id, o->type);
		return false;
	}
	return true;
}

static bool visit_hash(struct check_report *r, const struct list_node *n, void *arg)
{
	const struct type_walk *w = arg; /* type: the bucket */
	const struct uobj *o = list_entry(n, struct uobj, id_link);

	if (!uenv_in_arena(o, sizeof(*o)) || !o->type || o->type > UOBJ_VIOMMU ||
	    !uenv_is_meta(o, obj_size[o->type])) {
		report(r, "ID hash bucket %u: entry at %p is not an object", w->type,
		       (const void *)o);
		return false;
	}
	if (o->id % UOBJ_HASH != w->type) {
		report(r, "ID hash: object %u in bucket %u", o->id, w->type);
		return false;
	}
	return true;
}

/* Is @p an object of @type listed in the context? */
static bool listed(struct uiommu_ctx *ctx, const void *p, enum uobj_type type)
{
	if (!p || !uenv_in_arena(p, sizeof(struct uobj)))
		return false;
	for (struct uobj *o = uobj_next(ctx, type, NULL); o; o = uobj_next(ctx, type, o))
		if ((const void *)o == p)
			return true;
	return false;
}

static void check_unit(struct check_report *r, struct uiommu_ctx *ctx, struct uiommu_unit *u,
		       uint64_t *slots)
{
	uint32_t id = u->obj.id;

	if (u->ctx != ctx)
		report(r, "unit %u: belongs to another context", id);
	if (!uiommu_family_ops_get(u->family))
		report(r, "unit %u: family %d is not built into this library", id, (int)u->family);
	if (u->slot >= UIOMMU_MAX_UNITS || (*slots & (1ull << u->slot)))
		report(r, "unit %u: register slot %u out of range or shared", id, u->slot);
	else
		*slots |= 1ull << u->slot;
	if (!u->bind_gen || u->bind_gen > ctx->bind_next)
		report(r, "unit %u: bind generation %llu", id, (unsigned long long)u->bind_gen);
	if (!u->caps.num_domains || u->did_words != (u->caps.num_domains + 63) / 64 ||
	    !uenv_is_meta(u->did_map, sizeof(uint64_t) * u->did_words))
		report(r, "unit %u: domain-ID map (%u domains, %u words) broken", id,
		       u->caps.num_domains, u->did_words);
	if (u->nr_resv && !uenv_is_meta(u->resv, sizeof(*u->resv) * u->nr_resv))
		report(r, "unit %u: %u reserved regions not in the arena", id, u->nr_resv);
	if (!u->priv || !uenv_in_arena(u->priv, 64))
		report(r, "unit %u: driver state not in the arena", id);
}

static void check_hwpt(struct check_report *r, struct uiommu_ctx *ctx, struct uiommu_hwpt *h)
{
	uint32_t id = h->obj.id;

	if (h->ctx != ctx)
		report(r, "HWPT %u: belongs to another context", id);
	if (h->nr_inst > UIOMMU_HWPT_MAX_INSTALLS) {
		report(r, "HWPT %u: %u installations", id, h->nr_inst);
		return;
	}
	for (uint32_t i = 0; i < h->nr_inst; i++) {
		struct uiommu_unit *u = h->inst[i].unit;

		if (!listed(ctx, u, UOBJ_UNIT)) {
			report(r, "HWPT %u: installed on a unit that does not exist", id);
			continue;
		}
		if (h->inst[i].did >= u->caps.num_domains || h->inst[i].did / 64 >= u->did_words ||
		    !(u->did_map[h->inst[i].did / 64] & (1ull << (h->inst[i].did % 64))))
			report(r, "HWPT %u: domain ID %u on unit %u not allocated", id,
			       h->inst[i].did, u->obj.id);
	}
	if (h->nested) {
		if (!listed(ctx, h->parent, UOBJ_HWPT))
			report(r, "HWPT %u: nested over a parent that does not exist", id);
		if (h->viommu && !listed(ctx, h->viommu, UOBJ_VIOMMU))
			report(r, "HWPT %u: vIOMMU does not exist", id);
	} else {
		if (!listed(ctx, h->ioas, UOBJ_IOAS))
			report(r, "HWPT %u: its IOAS does not exist", id);
		if (!h->pgt || !uenv_in_arena(h->pgt, 4096))
			report(r, "HWPT %u: page table not in the arena", id);
	}
	if (list_check(r, &h->attaches, "HWPT attachments", NULL, NULL) < 0)
		return;
}

static void check_device(struct check_report *r, struct uiommu_ctx *ctx, struct uiommu_device *d)
{
	uint32_t id = d->obj.id;
	struct list_node *pos;

	if (!listed(ctx, d->unit, UOBJ_UNIT)) {
		report(r, "device %u: its unit does not exist", id);
		return;
	}
	if (list_check(r, &d->attaches, "device attachments", NULL, NULL) < 0)
		return;
	list_for_each(pos, &d->attaches)
	{
		struct dev_attach *a = list_entry(pos, struct dev_attach, link);

		if (!uenv_is_meta(a, sizeof(*a))) {
			report(r, "device %u: attachment record not in the arena", id);
			return;
		}
		if (a->hwpt && !listed(ctx, a->hwpt, UOBJ_HWPT))
			report(r, "device %u: attached to a HWPT that does not exist", id);
		if (a->ioas && !listed(ctx, a->ioas, UOBJ_IOAS))
			report(r, "device %u: attached through an IOAS that does not exist", id);
	}
}

static void check_ioas(struct check_report *r, struct uiommu_ctx *ctx, struct uiommu_ioas *s)
{
	struct list_node *pos;

	if (s->ctx != ctx)
		report(r, "IOAS %u: belongs to another context", s->obj.id);
	if (list_check(r, &s->hwpts, "IOAS HWPTs", NULL, NULL) < 0)
		return;
	list_for_each(pos, &s->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);

		if (!listed(ctx, h, UOBJ_HWPT) || h->ioas != s) {
			report(r, "IOAS %u: follows a HWPT that is not its own", s->obj.id);
			return;
		}
	}

}

int ctx_check(struct uiommu_ctx *ctx, struct check_report *r)
{
	struct check_report local = {0};
	uint64_t slots = 0;
	bool lists_ok = true;

	if (!r)
		r = &local;
	r->errors = 0;
	/* 1. Every list of the context: links, then object headers. */
	for (uint32_t t = UOBJ_UNIT; t <= UOBJ_VIOMMU; t++) {
		struct type_walk w = {ctx, t};

		if (list_check(r, &ctx->objs[t], obj_name[t], visit_obj, &w) < 0)
			lists_ok = false;
	}
	for (uint32_t b = 0; b < UOBJ_HASH; b++) {
		struct type_walk w = {ctx, b};

		if (list_check(r, &ctx->id_hash[b], "ID hash", visit_hash, &w) < 0)
			lists_ok = false;
	}
	if (!lists_ok)
		return -EUCLEAN; /* nothing below may follow them */
	/* 2. Each object, and what it points at. */
	for (uint32_t t = UOBJ_UNIT; t <= UOBJ_VIOMMU; t++)
		for (struct uobj *o = uobj_next(ctx, t, NULL); o; o = uobj_next(ctx, t, o)) {
			if (uobj_lookup(ctx, o->id, 0) != o)
				report(r, "%s %u: not found by its ID", obj_name[t], o->id);
			switch (t) {
			case UOBJ_UNIT:
				check_unit(r, ctx, (struct uiommu_unit *)o, &slots);
				break;
			case UOBJ_DEVICE:
				check_device(r, ctx, (struct uiommu_device *)o);
				break;
			case UOBJ_IOAS:
				check_ioas(r, ctx, (struct uiommu_ioas *)o);
				break;
			case UOBJ_HWPT:
				check_hwpt(r, ctx, (struct uiommu_hwpt *)o);
				break;
			case UOBJ_VIOMMU: {
				struct uiommu_viommu *v = (struct uiommu_viommu *)o;

				if (!listed(ctx, v->unit, UOBJ_UNIT) ||
				    !listed(ctx, v->parent, UOBJ_HWPT))
					report(r, "vIOMMU %u: unit or parent does not exist", o->id);
				break;
			}
			}
		}
	return r->errors ? -EUCLEAN : 0;
}

int uiommu_state_check(struct uiommu_ctx *ctx, void (*cb)(void *arg, const char *msg), void *arg)
{
	struct check_report r = {.cb = cb, .arg = arg};

	if (!ctx)
		return -EINVAL;
	ctx_lock(ctx);
	(void)ctx_check(ctx, &r);
	ctx_unlock(ctx);
	return (int)r.errors;
}
