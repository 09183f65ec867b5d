/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state checker (an fsck): walks everything a context holds and
 * reports every inconsistency it finds, one line each, following no
 * pointer it has not checked first.
 *
 *  1. The arena's own bookkeeping (uenv_arena_check).
 *  2. The object lists and the ID hash: every node arena memory with
 *     consistent links, every object a live metadata allocation of its
 *     type's size, every ID unique and found in its bucket.  Nothing below
 *     runs when these are broken (it would follow them).
 *  3. Each object's fields and cross-references, resolved through a map of
 *     the objects found in 2 (O(1) each): units (slot, domain-ID map,
 *     reserved regions), IOASes (the IOVA tree: iopt_check; owners of
 *     reserved ranges, the alignment, the apertures), HWPTs (the page
 *     table: pgt_check; installations, children, vIOMMUs), vIOMMUs, devices
 *     and their attachment records, the tool state (buffers, names).
 *     Every count an object keeps (devices, installations, users,
 *     children, domain IDs in use) is recounted.
 *  4. Areas against page-table entries: for every paging HWPT of an IOAS,
 *     every area's pages translate to the area's memory with its
 *     protection ("area without PTEs"), and every present leaf lies inside
 *     an area at the right offset ("PTE without area").
 *  5. Leaks: a mark pass over every allocation reached from the context,
 *     compared with the arena's bookkeeping.  The driver state of units and
 *     devices (unit->priv, device->priv) is the family's own: core cannot
 *     interpret it without the driver (src/hw/<family>), so it is scanned
 *     conservatively, as a garbage collector scans a stack: every word that
 *     looks like the CPU or bus address of an allocation keeps that
 *     allocation (and what its words point at) alive.  What the driver
 *     reaches is thus never reported; a leak it still points at is not
 *     found either.  Everything core owns is marked precisely.
 *
 * Cost: linear in the size of the state (hash maps, no nested walks; a
 * binary search of the reserved ranges per area).  Run when a process
 * adopts a state (a corrupted or hostile file is refused with a clear error
 * instead of crashing a later call) and by `uiommuctl state check`.  Runs
 * under the context lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/core.h"
#include "core/ctx_ext.h"
#include "core/phash.h"

/* More objects of one kind than this is a loop, not a state. */
#define CHECK_MAX_OBJS (1u << 24)
/* Leaks listed one by one; the rest are summed up in one line. */
#define CHECK_MAX_LEAK_LINES 64u

/* What the checker notes about each object (struct ck.info). */
struct oinfo {
	void *o;
	uint32_t type;
	bool in_hash;
	bool sane;	   /* its own fields hold: what it points at may be followed */
	uint32_t n_dev;	   /* unit: devices; vIOMMU: nested children */
	uint32_t n_inst;   /* unit: installations, vIOMMUs, identity attachments */
	uint32_t n_id;	   /* unit: identity attachments */
	uint32_t n_users;  /* IOAS, HWPT: attachments through it */
	uint32_t n_child;  /* HWPT: nested children */
	uint32_t n_viommu; /* HWPT: vIOMMUs over it */
	uint32_t n_hwpts;  /* IOAS: paging HWPTs */
	bool aperture;	   /* HWPT: its aperture is reserved in its IOAS */
	bool pgt_ok;	   /* HWPT: its page table passed pgt_check */
	bool flags_ok;	   /* HWPT: its bools hold 0 or 1 (may be read) */
	uint32_t inst_users[UIOMMU_HWPT_MAX_INSTALLS];
	uint64_t *did_used; /* unit: domain IDs found in use */
};

struct ck {
	struct uiommu_ctx *ctx;
	struct check_report *r;
	struct phash objs;     /* object -> index in info */
	struct phash attaches; /* dev_attach -> 1 + found on its HWPT's list */
	struct phash ids;      /* ID -> 1 */
	struct phash hw_ids;   /* unit slot << 32 | hw_id -> 1 */
	struct oinfo *info;
	size_t n_info, cap_info;
	struct uenv_marks *mk;
	const char *sub; /* prefix of what a sub-checker reports */
	bool oom;
};

static void report(struct check_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct check_report *r, const char *fmt, ...)
{
	char buf[320];
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

/* What a sub-checker (arena, IOVA tree, page table) reports, prefixed. */
static void sub_report(void *arg, const char *msg)
{
	struct ck *c = arg;

	report(c->r, "%s%s", c->sub ? c->sub : "", msg);
}

/* A bool read from a file may hold any byte: read it as one. */
static bool bool_bad(const void *b)
{
	uint8_t v;

	memcpy(&v, b, 1);
	return v > 1;
}

static struct oinfo *info_of(struct ck *c, const void *p, uint32_t type)
{
	uint64_t *v;

	if (!p)
		return NULL;
	v = phash_get(&c->objs, (uint64_t)(uintptr_t)p, false, NULL);
	if (!v || (type && c->info[*v].type != type))
		return NULL;
	return &c->info[*v];
}

static bool node_ok(const struct list_node *n)
{
	return !((uintptr_t)n & (_Alignof(struct list_node) - 1)) && uenv_in_arena(n, sizeof(*n));
}

/*
 * Walk the list at @h, calling @visit on each node (checked to be arena
 * memory with consistent links).  Returns the number of nodes, or -1 when
 * the list is broken (reported).  A node cannot be reached twice: it would
 * need two predecessors to point back at.
 */
static long list_check(struct check_report *r, const struct list_head *h, const char *what,
		       bool (*visit)(struct ck *, const struct list_node *, void *), struct ck *c,
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
		if (visit && !visit(c, n, arg))
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

/* Mark an allocation core owns; what it is shared with, or that it is no
 * live allocation, is a problem. */
static void mark(struct ck *c, const void *p, size_t size, unsigned int kinds, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));
static void mark(struct ck *c, const void *p, size_t size, unsigned int kinds, const char *fmt, ...)
{
	char what[128];
	va_list ap;
	int rc;

	if (!c->mk)
		return;
	rc = uenv_mark(c->mk, p, size, kinds);
	if (rc == 1)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (rc == 0)
		report(c->r, "%s at %p is also used by something else", what, p);
	else
		report(c->r, "%s at %p is not a live allocation of its kind", what, p);
}

/* ------------------------------------------------------ 2. lists, IDs */

static bool visit_obj(struct ck *c, const struct list_node *n, void *arg)
{
	uint32_t type = (uint32_t)(uintptr_t)arg;
	struct uobj *o = list_entry(n, struct uobj, ctx_link);
	uint64_t *v;
	bool found;

	if (!uenv_is_meta(o, obj_size[type])) {
		report(c->r, "%s list: entry at %p is not a %s object of the arena", obj_name[type],
		       (void *)o, obj_name[type]);
		return false;
	}
	if (o->type != type || !o->id) {
		report(c->r, "%s list: object %u has type %u", obj_name[type], o->id, o->type);
		return false;
	}
	v = phash_get(&c->objs, (uint64_t)(uintptr_t)o, true, &found);
	if (!v || found) {
		report(c->r, "%s %u: %s", obj_name[type], o->id, v ? "listed twice" : "out of memory");
		return false;
	}
	if (c->n_info == c->cap_info) {
		size_t cap = c->cap_info ? c->cap_info * 2 : 64;
		struct oinfo *ni = realloc(c->info, cap * sizeof(*ni));

		if (!ni) {
			report(c->r, "out of memory");
			return false;
		}
		c->info = ni;
		c->cap_info = cap;
	}
	*v = c->n_info;
	c->info[c->n_info++] = (struct oinfo){.o = o, .type = type};
	v = phash_get(&c->ids, o->id, true, &found);
	if (!v || found) {
		report(c->r, "%s %u: %s", obj_name[type], o->id,
		       v ? "its ID is used by another object too" : "out of memory");
		return false;
	}
	return true;
}

static bool visit_hash(struct ck *c, const struct list_node *n, void *arg)
{
	uint32_t bucket = (uint32_t)(uintptr_t)arg;
	const struct uobj *o = list_entry(n, struct uobj, id_link);
	struct oinfo *in = info_of(c, o, 0);

	if (!in) {
		report(c->r, "ID hash bucket %u: entry at %p is not a listed object", bucket,
		       (const void *)o);
		return false;
	}
	if (o->id % UOBJ_HASH != bucket || in->in_hash) {
		report(c->r, "ID hash: object %u in bucket %u%s", o->id, bucket,
		       in->in_hash ? " again" : "");
		return false;
	}
	in->in_hash = true;
	return true;
}

static bool check_lists(struct ck *c)
{
	struct uiommu_ctx *ctx = c->ctx;
	bool ok = true;

	for (uint32_t t = UOBJ_UNIT; t <= UOBJ_VIOMMU; t++)
		if (list_check(c->r, &ctx->objs[t], obj_name[t], visit_obj, c, (void *)(uintptr_t)t) <
		    0)
			ok = false;
	if (!ok)
		return false;
	for (uint32_t b = 0; b < UOBJ_HASH; b++)
		if (list_check(c->r, &ctx->id_hash[b], "ID hash", visit_hash, c,
			       (void *)(uintptr_t)b) < 0)
			ok = false;
	if (!ok)
		return false;
	for (size_t i = 0; i < c->n_info; i++)
		if (!c->info[i].in_hash) {
			report(c->r, "%s %u: not in the ID hash", obj_name[c->info[i].type],
			       ((struct uobj *)c->info[i].o)->id);
			ok = false;
		}
	return ok;
}

/* ---------------------------------------------------------- 3. objects */


/* The domain-ID quarantine (unit_did_release): a bitmap like did_map,
 * each quarantined ID also set in did_map, counted in nr_quar.  (A
 * quarantined ID is neither free nor owned: the leak check below skips
 * it.) */
static void check_did_quar(struct ck *c, struct uiommu_unit *u)
{
	uint32_t id = u->obj.id, n = 0;

	if (!u->did_quar) {
		if (u->nr_quar)
			report(c->r, "unit %u: %u quarantined domain IDs without a quarantine map",
			       id, u->nr_quar);
		return;
	}
	if (!uenv_is_meta(u->did_quar, sizeof(uint64_t) * u->did_words)) {
		report(c->r, "unit %u: domain-ID quarantine map not in the arena", id);
		return;
	}
	mark(c, u->did_quar, sizeof(uint64_t) * u->did_words, UENV_MARK_META,
	     "unit %u: domain-ID quarantine map", id);
	for (uint32_t w = 0; w < u->did_words; w++) {
		n += (uint32_t)__builtin_popcountll(u->did_quar[w]);
		if (u->did_quar[w] & ~u->did_map[w])
			report(c->r, "unit %u: domain ID %u quarantined but free", id,
			       w * 64 + (uint32_t)__builtin_ctzll(u->did_quar[w] & ~u->did_map[w]));
	}
	if (n != u->nr_quar)
		report(c->r, "unit %u: %u quarantined domain IDs recorded, %u found", id,
		       u->nr_quar, n);
}

/* The event history (unit_evhist_append): size, sequence, every record. */
static void check_evhist(struct ck *c, struct uiommu_unit *u)
{
	const struct unit_evhist *h = u->evhist;
	uint32_t id = u->obj.id, bad = 0, first = 0;

	if (!h) /* a state made before histories: made at the first event */
		return;
	if (!uenv_is_meta(h, sizeof(*h))) {
		report(c->r, "unit %u: event history not in the arena", id);
		return;
	}
	mark(c, h, sizeof(*h), UENV_MARK_META, "unit %u: event history", id);
	if (h->size != UNIT_EVHIST_SIZE || !h->next) {
		report(c->r, "unit %u: event history of size %u, next sequence %llu", id, h->size,
		       (unsigned long long)h->next);
		return;
	}
	for (uint32_t i = 0; i < UNIT_EVHIST_SIZE; i++)
		if (!unit_hist_rec_ok(&h->r[i], i, h->next) && !bad++)
			first = i;
	if (bad)
		report(c->r, "unit %u: %u bad event history records (first: slot %u, sequence %llu "
			     "of next %llu)",
		       id, bad, first, (unsigned long long)h->r[first].seq,
		       (unsigned long long)h->next);
}

static void check_unit(struct ck *c, struct oinfo *in, uint64_t *slots)
{
	struct uiommu_unit *u = in->o;
	uint32_t id = u->obj.id;
	bool sane = true;

	if (u->ctx != c->ctx)
		report(c->r, "unit %u: belongs to another context", id);
	if (!uiommu_family_ops_get(u->family)) {
		report(c->r, "unit %u: family %d is not built into this library", id, (int)u->family);
		sane = false;
	}
	if (u->access != UIOMMU_UNIT_MMIO && u->access != UIOMMU_UNIT_MODEL) {
		report(c->r, "unit %u: access kind %d", id, (int)u->access);
		sane = false;
	}
	if (u->slot >= UIOMMU_MAX_UNITS || (*slots & (1ull << u->slot))) {
		report(c->r, "unit %u: register slot %u out of range or shared", id, u->slot);
		sane = false;
	} else {
		*slots |= 1ull << u->slot;
	}
	if (!u->bind_gen || u->bind_gen > c->ctx->bind_next)
		report(c->r, "unit %u: bind generation %llu", id, (unsigned long long)u->bind_gen);
	if (!u->caps.num_domains || u->did_words != (u->caps.num_domains + 63ull) / 64 ||
	    !uenv_is_meta(u->did_map, sizeof(uint64_t) * u->did_words) ||
	    u->did_min >= u->caps.num_domains) {
		report(c->r, "unit %u: domain-ID map (%u domains from %u, %u words) broken", id,
		       u->caps.num_domains, u->did_min, u->did_words);
		sane = false;
	} else {
		in->did_used = calloc(u->did_words, sizeof(uint64_t));
		if (!in->did_used)
			c->oom = true;
		mark(c, u->did_map, sizeof(uint64_t) * u->did_words, UENV_MARK_META,
		     "unit %u: domain-ID map", id);
		check_did_quar(c, u);
	}
	check_evhist(c, u);
	if (u->nr_resv && !uenv_is_meta(u->resv, sizeof(*u->resv) * u->nr_resv)) {
		report(c->r, "unit %u: %u reserved regions not in the arena", id, u->nr_resv);
		sane = false;
	} else if (u->nr_resv) {
		for (uint32_t i = 0; i < u->nr_resv; i++)
			if (u->resv[i].r.start > u->resv[i].r.last ||
			    u->resv[i].r.kind < UIOMMU_RESV_MSI || u->resv[i].r.kind > UIOMMU_RESV_USER)
				report(c->r, "unit %u: reserved region %u [0x%llx-0x%llx] kind %d", id,
				       i, (unsigned long long)u->resv[i].r.start,
				       (unsigned long long)u->resv[i].r.last, (int)u->resv[i].r.kind);
		mark(c, u->resv, sizeof(*u->resv) * u->nr_resv, UENV_MARK_META,
		     "unit %u: reserved regions", id);
	} else if (u->resv) {
		report(c->r, "unit %u: reserved-region array without regions", id);
	}
	if (u->model && (u->access != UIOMMU_UNIT_MODEL || !uenv_is_meta(u->model, 1))) {
		report(c->r, "unit %u: model instance not in the arena", id);
		sane = false;
	}
	if (u->evring && !uenv_is_meta(u->evring, 1)) {
		report(c->r, "unit %u: event ring not in the arena", id);
		sane = false;
	}
	if (!uenv_is_meta(u->priv, 1)) {
		report(c->r, "unit %u: driver state not a metadata allocation of the arena", id);
		sane = false;
	}
	if (bool_bad(&u->caps.nesting) || bool_bad(&u->caps.stage1) || bool_bad(&u->caps.stage2) ||
	    bool_bad(&u->caps.coherent) || bool_bad(&u->caps.queued_inv) ||
	    bool_bad(&u->caps.page_requests) || bool_bad(&u->caps.pass_through) ||
	    bool_bad(&u->caps.ats) || bool_bad(&u->flush_on_map) || bool_bad(&u->inv_stale)) {
		report(c->r, "unit %u: a flag that is neither true nor false", id);
		sane = false;
	}
	if (u->caps.family != u->family)
		report(c->r, "unit %u: capabilities of family %d", id, (int)u->caps.family);
	in->sane = sane;
}

/* A domain ID @did of unit @u is in use by @what: allocated, used once. */
static void did_use(struct ck *c, struct uiommu_unit *u, uint32_t did, const char *what,
		    uint32_t who)
{
	struct oinfo *ui = info_of(c, u, UOBJ_UNIT);

	if (!ui || !ui->sane)
		return;
	if (did >= u->caps.num_domains || did < u->did_min ||
	    !(u->did_map[did / 64] & (1ull << (did % 64)))) {
		report(c->r, "%s %u: domain ID %u on unit %u not allocated", what, who, did,
		       u->obj.id);
		return;
	}
	if (!ui->did_used)
		return;
	if (ui->did_used[did / 64] & (1ull << (did % 64)))
		report(c->r, "%s %u: domain ID %u on unit %u is used twice", what, who, did,
		       u->obj.id);
	ui->did_used[did / 64] |= 1ull << (did % 64);
}

/* What a nested HWPT's or vIOMMU's list of a nest parent holds. */
static bool visit_child(struct ck *c, const struct list_node *n, void *arg)
{
	struct uiommu_hwpt *parent = arg, *h = list_entry(n, struct uiommu_hwpt, child_link);
	struct oinfo *hi = info_of(c, h, UOBJ_HWPT);

	if (!hi || bool_bad(&h->nested) || !h->nested || h->parent != parent) {
		report(c->r, "HWPT %u: a nested child that is not its own", parent->obj.id);
		return false;
	}
	info_of(c, parent, UOBJ_HWPT)->n_child++;
	return true;
}

static bool visit_viommu(struct ck *c, const struct list_node *n, void *arg)
{
	struct uiommu_hwpt *parent = arg;
	struct uiommu_viommu *v = list_entry(n, struct uiommu_viommu, parent_link);

	if (!info_of(c, v, UOBJ_VIOMMU) || v->parent != parent) {
		report(c->r, "HWPT %u: a vIOMMU that is not its own", parent->obj.id);
		return false;
	}
	info_of(c, parent, UOBJ_HWPT)->n_viommu++;
	return true;
}

static bool pgt_page(void *arg, uint64_t pa, void *va, enum pgt_page_kind kind)
{
	struct ck *c = arg;

	(void)pa;
	(void)kind;
	return !c->mk || uenv_mark(c->mk, va, UENV_PAGE_SIZE, UENV_MARK_TABLE) == 1;
}

static void check_hwpt(struct ck *c, struct oinfo *in)
{
	struct uiommu_hwpt *h = in->o;
	uint32_t id = h->obj.id;
	char pre[48];

	if (h->ctx != c->ctx)
		report(c->r, "HWPT %u: belongs to another context", id);
	if (bool_bad(&h->nested) || bool_bad(&h->auto_created) || bool_bad(&h->flush_on_map) ||
	    bool_bad(&h->cfg.coherent)) {
		report(c->r, "HWPT %u: a flag that is neither true nor false", id);
		return;
	}
	in->flags_ok = true;
	if (h->nr_inst > UIOMMU_HWPT_MAX_INSTALLS) {
		report(c->r, "HWPT %u: %u installations", id, h->nr_inst);
		return;
	}
	for (uint32_t i = 0; i < h->nr_inst; i++) {
		struct uiommu_unit *u = h->inst[i].unit;
		struct oinfo *ui = info_of(c, u, UOBJ_UNIT);

		if (!ui || !ui->sane) {
			report(c->r, "HWPT %u: installed on a unit that does not exist", id);
			return;
		}
		for (uint32_t j = 0; j < i; j++)
			if (h->inst[j].unit == u)
				report(c->r, "HWPT %u: installed twice on unit %u", id, u->obj.id);
		if (!h->inst[i].users)
			report(c->r, "HWPT %u: installation on unit %u without users", id, u->obj.id);
		did_use(c, u, h->inst[i].did, "HWPT", id);
		ui->n_inst++;
	}
	if (h->nested) {
		struct uiommu_hwpt *p = h->parent;
		struct oinfo *pi = info_of(c, p, UOBJ_HWPT);

		if (!pi || !pi->sane || p->nested || !(p->flags & UIOMMU_HWPT_NEST_PARENT)) {
			report(c->r, "HWPT %u: nested over a parent that does not exist", id);
			return;
		}
		if (!info_of(c, h->viommu, UOBJ_VIOMMU) || !info_of(c, h->viommu, UOBJ_VIOMMU)->sane ||
		    h->viommu->parent != p) {
			report(c->r, "HWPT %u: its vIOMMU does not exist or has another parent", id);
			return;
		}
		info_of(c, h->viommu, UOBJ_VIOMMU)->n_dev++;
		for (uint32_t i = 0; i < h->nr_inst; i++)
			if (h->inst[i].unit != h->viommu->unit)
				report(c->r, "HWPT %u: installed on unit %u, not its vIOMMU's", id,
				       h->inst[i].unit->obj.id);
		if (h->flags || h->pgt || h->ioas)
			report(c->r, "HWPT %u: nested, with flags 0x%x, a table or an IOAS", id,
			       h->flags);
		if (hwpt_s1_data_check(&h->s1) || h->s1.family != h->viommu->unit->family)
			report(c->r, "HWPT %u: stage-1 description not valid", id);
		if (memcmp(&h->cfg, &p->cfg, sizeof(h->cfg)))
			report(c->r, "HWPT %u: its stage-2 configuration is not its parent's", id);
		if (!list_empty(&h->child_list) || !list_empty(&h->viommu_list) || h->children ||
		    h->viommus)
			report(c->r, "HWPT %u: nested, with children or vIOMMUs of its own", id);
		in->sane = true;
		return;
	}
	if (h->flags & ~(UIOMMU_HWPT_NEST_PARENT | UIOMMU_HWPT_STAGE1) ||
	    (h->flags & UIOMMU_HWPT_NEST_PARENT && h->flags & UIOMMU_HWPT_STAGE1))
		report(c->r, "HWPT %u: flags 0x%x", id, h->flags);
	if (!info_of(c, h->ioas, UOBJ_IOAS)) {
		report(c->r, "HWPT %u: its IOAS does not exist", id);
		return;
	}
	/* The page table: in a table page of the arena, of the arena's provider. */
	if (!uenv_is_table_page(h->pgt) || pgt_mem_id(h->pgt) != UIOMMU_PGT_MEM_ID) {
		report(c->r, "HWPT %u: page table not in the arena", id);
		return;
	}
	snprintf(pre, sizeof(pre), "HWPT %u: ", id);
	c->sub = pre;
	struct pgt_check_ops po = {.report = sub_report, .page = pgt_page, .arg = c};
	in->pgt_ok = pgt_check(h->pgt, &po) == 0;
	c->sub = NULL;
	if (in->pgt_ok && memcmp(&h->cfg, pgt_config(h->pgt), sizeof(h->cfg)))
		report(c->r, "HWPT %u: its configuration is not its page table's", id);
	if (in->pgt_ok && (h->cfg.node < -1 || h->cfg.node >= uenv_numa_nodes()))
		report(c->r, "HWPT %u: NUMA node %d", id, h->cfg.node);
	if (!(h->flags & UIOMMU_HWPT_NEST_PARENT) &&
	    (!list_empty(&h->child_list) || !list_empty(&h->viommu_list)))
		report(c->r, "HWPT %u: not a nest parent, with children or vIOMMUs", id);
	if (list_check(c->r, &h->child_list, "HWPT children", visit_child, c, h) < 0 ||
	    list_check(c->r, &h->viommu_list, "HWPT vIOMMUs", visit_viommu, c, h) < 0)
		return;
	in->sane = true;
}

static void check_viommu(struct ck *c, struct oinfo *in)
{
	struct uiommu_viommu *v = in->o;
	struct oinfo *ui = info_of(c, v->unit, UOBJ_UNIT), *pi = info_of(c, v->parent, UOBJ_HWPT);

	if (v->ctx != c->ctx)
		report(c->r, "vIOMMU %u: belongs to another context", v->obj.id);
	/* A sane parent is a paging HWPT checked already (its flags read). */
	if (!ui || !ui->sane || !pi || !pi->sane || v->parent->nested ||
	    !(v->parent->flags & UIOMMU_HWPT_NEST_PARENT)) {
		report(c->r, "vIOMMU %u: unit or parent does not exist", v->obj.id);
		return;
	}
	did_use(c, v->unit, v->vmid, "vIOMMU", v->obj.id);
	ui->n_inst++;
	in->sane = true;
}

/* The IOAS's reserved ranges: owned by itself, one of its HWPTs (their
 * apertures) or an attachment through it. */
static void check_resv_owners(struct ck *c, struct uiommu_ioas *s)
{
	const struct iopt *io = &s->iopt;

	for (uint32_t i = 0; i < io->nr_resv; i++) {
		const struct iopt_resv *rv = &io->resv[i];
		struct oinfo *hi = info_of(c, rv->owner, UOBJ_HWPT);
		const struct dev_attach *a = rv->owner;
		bool ok;

		if (rv->kind < UIOMMU_RESV_MSI || rv->kind > UIOMMU_RESV_USER)
			report(c->r, "IOAS %u: reserved range %u of kind %u", s->obj.id, i, rv->kind);
		if (rv->owner == s) {
			ok = true;
		} else if (hi) {
			struct uiommu_hwpt *h = hi->o;

			ok = hi->flags_ok && !h->nested && h->ioas == s;
			if (ok && h->cfg.ias < 64 && rv->start == 1ull << h->cfg.ias &&
			    rv->last == UINT64_MAX)
				hi->aperture = true;
		} else if (phash_get(&c->attaches, (uint64_t)(uintptr_t)a, false, NULL)) {
			struct uiommu_hwpt *h = a->hwpt;
			struct oinfo *ai = info_of(c, h, UOBJ_HWPT);

			ok = ai && ai->sane && (h->nested ? h->parent->ioas == s : h->ioas == s);
		} else {
			ok = false;
		}
		if (!ok)
			report(c->r, "IOAS %u: reserved range [0x%llx-0x%llx] owned by %p, which "
				     "does not exist",
			       s->obj.id, (unsigned long long)rv->start, (unsigned long long)rv->last,
			       rv->owner);
	}
}

static void iopt_owned(void *arg, const void *p, size_t len)
{
	struct ck *c = arg;

	mark(c, p, len, UENV_MARK_META, "%s IOVA tree memory", c->sub);
}

static bool visit_ioas_hwpt(struct ck *c, const struct list_node *n, void *arg)
{
	struct uiommu_ioas *s = arg;
	struct uiommu_hwpt *h = list_entry(n, struct uiommu_hwpt, ioas_link);
	struct oinfo *hi = info_of(c, h, UOBJ_HWPT);

	if (!hi || bool_bad(&h->nested) || h->nested || h->ioas != s) {
		report(c->r, "IOAS %u: follows a HWPT that is not its own", s->obj.id);
		return false;
	}
	info_of(c, s, UOBJ_IOAS)->n_hwpts++;
	return true;
}

static void check_ioas(struct ck *c, struct oinfo *in)
{
	struct uiommu_ioas *s = in->o;
	char pre[48];
	struct iopt_check_ops io = {.report = sub_report, .owned = iopt_owned, .arg = c};

	if (s->ctx != c->ctx)
		report(c->r, "IOAS %u: belongs to another context", s->obj.id);
	if (list_check(c->r, &s->hwpts, "IOAS HWPTs", visit_ioas_hwpt, c, s) < 0)
		return;
	snprintf(pre, sizeof(pre), "IOAS %u: ", s->obj.id);
	c->sub = pre;
	in->sane = iopt_check(&s->iopt, &io) == 0;
	c->sub = NULL;
}

/* After the HWPTs: the alignment, the owners of the reserved ranges. */
static void check_ioas_after(struct ck *c, struct oinfo *in)
{
	struct uiommu_ioas *s = in->o;
	uint64_t align = UENV_PAGE_SIZE;
	struct list_node *pos;

	if (!in->sane)
		return;
	list_for_each(pos, &s->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		uint64_t b = h->cfg.pgsize_bitmap, m = b ? b & -b : UENV_PAGE_SIZE;

		if (m > align)
			align = m;
	}
	if (s->iopt.iova_alignment != align)
		report(c->r, "IOAS %u: alignment 0x%llx, its HWPTs want 0x%llx", s->obj.id,
		       (unsigned long long)s->iopt.iova_alignment, (unsigned long long)align);
	if (s->nr_hwpts != in->n_hwpts)
		report(c->r, "IOAS %u: %u HWPTs recorded, %u follow it", s->obj.id, s->nr_hwpts,
		       in->n_hwpts);
	check_resv_owners(c, s);
}

static bool visit_attach(struct ck *c, const struct list_node *n, void *arg)
{
	struct uiommu_device *d = arg;
	struct dev_attach *a = list_entry(n, struct dev_attach, link);
	uint64_t *v;
	bool found;

	if (!uenv_is_meta(a, sizeof(*a))) {
		report(c->r, "device %u: attachment record not in the arena", d->obj.id);
		return false;
	}
	v = phash_get(&c->attaches, (uint64_t)(uintptr_t)a, true, &found);
	if (!v || found) {
		report(c->r, "device %u: attachment record %s", d->obj.id,
		       v ? "shared with another device" : "out of memory");
		return false;
	}
	*v = 1;
	return true;
}

static void check_attach(struct ck *c, struct uiommu_device *d, struct dev_attach *a)
{
	struct uiommu_unit *u = d->unit;
	struct oinfo *hi, *ui = info_of(c, u, UOBJ_UNIT);
	uint32_t id = d->obj.id;

	mark(c, a, sizeof(*a), UENV_MARK_META, "device %u: attachment record", id);
	if (a->pasid != UIOMMU_NO_PASID && a->pasid >= (1u << 20))
		report(c->r, "device %u: attached at PASID %u", id, a->pasid);
	if (!a->hwpt) { /* identity */
		if (a->ioas || a->hwpt_link.next != &a->hwpt_link ||
		    a->hwpt_link.prev != &a->hwpt_link)
			report(c->r, "device %u: identity attachment with an IOAS or HWPT links", id);
		ui->n_id++;
		ui->n_inst++;
		return;
	}
	hi = info_of(c, a->hwpt, UOBJ_HWPT);
	if (!hi || !hi->sane) {
		report(c->r, "device %u: attached to a HWPT that does not exist", id);
		return;
	}
	if (a->ioas) {
		struct oinfo *si = info_of(c, a->ioas, UOBJ_IOAS);

		if (!si || a->hwpt->nested || a->hwpt->ioas != a->ioas)
			report(c->r, "device %u: attached through IOAS %p, which does not hold "
				     "its HWPT %u",
			       id, (void *)a->ioas, a->hwpt->obj.id);
		else
			si->n_users++;
	}
	if (a->hwpt->nested && a->hwpt->viommu->unit != u)
		report(c->r, "device %u: attached to nested HWPT %u of another unit", id,
		       a->hwpt->obj.id);
	hi->n_users++;
	for (uint32_t i = 0; i < a->hwpt->nr_inst; i++)
		if (a->hwpt->inst[i].unit == u) {
			hi->inst_users[i]++;
			return;
		}
	report(c->r, "device %u: HWPT %u is not installed on its unit", id, a->hwpt->obj.id);
}

static void check_device(struct ck *c, struct oinfo *in)
{
	struct uiommu_device *d = in->o;
	struct oinfo *ui = info_of(c, d->unit, UOBJ_UNIT);
	uint32_t id = d->obj.id;
	struct list_node *pos;
	struct phash pasids = {0};
	uint64_t *v;
	bool found;

	if (!ui || !ui->sane) {
		report(c->r, "device %u: its unit does not exist", id);
		return;
	}
	ui->n_dev++;
	if (bool_bad(&d->desc.ats) || bool_bad(&d->desc.pri))
		report(c->r, "device %u: a flag that is neither true nor false", id);
	if (d->priv && !uenv_is_meta(d->priv, 1))
		report(c->r, "device %u: driver state not a metadata allocation of the arena", id);
	else if (d->priv) {
		/* Domain IDs the family holds for the device (AMD-Vi: GCR3). */
		const struct uiommu_family_ops *ops = uiommu_family_ops_get(d->unit->family);
		uint32_t dids[4], nd = ops && ops->dev_dids ? ops->dev_dids(d->unit, d, dids, 4) : 0;

		for (uint32_t i = 0; i < nd && i < 4; i++)
			did_use(c, d->unit, dids[i], "device", id);
	}
	v = phash_get(&c->hw_ids, (uint64_t)d->unit->slot << 32 | d->desc.hw_id, true, &found);
	if (v && found)
		report(c->r, "device %u: ID 0x%x on unit %u taken by another device", id,
		       d->desc.hw_id, d->unit->obj.id);
	if (list_check(c->r, &d->attaches, "device attachments", visit_attach, c, d) < 0)
		return;
	list_for_each(pos, &d->attaches)
	{
		struct dev_attach *a = list_entry(pos, struct dev_attach, link);

		v = phash_get(&pasids, (uint64_t)a->pasid, true, &found);
		if (v && found)
			report(c->r, "device %u: PASID %d attached twice", id, (int)a->pasid);
		check_attach(c, d, a);
	}
	phash_free(&pasids);
	in->sane = true;
}

/* A HWPT's list of attachments: the records its devices hold, each once. */
static bool visit_hwpt_attach(struct ck *c, const struct list_node *n, void *arg)
{
	struct uiommu_hwpt *h = arg;
	struct dev_attach *a = list_entry(n, struct dev_attach, hwpt_link);
	uint64_t *v = phash_get(&c->attaches, (uint64_t)(uintptr_t)a, false, NULL);

	if (!v || a->hwpt != h || *v != 1) {
		report(c->r, "HWPT %u: an attachment that is not a device's, or listed twice",
		       h->obj.id);
		return false;
	}
	*v = 2;
	return true;
}

static void check_counts(struct ck *c)
{
	struct uiommu_ctx *ctx = c->ctx;
	uint32_t units = 0;

	for (size_t i = 0; i < c->n_info; i++) {
		struct oinfo *in = &c->info[i];

		switch (in->type) {
		case UOBJ_UNIT: {
			struct uiommu_unit *u = in->o;

			units++;
			if (!in->sane)
				break;
			if (u->nr_devices != in->n_dev || u->nr_installs != in->n_inst ||
			    u->id_users != in->n_id)
				report(c->r, "unit %u: %u devices, %u installations, %u identity "
					     "attachments recorded; %u, %u, %u found",
				       u->obj.id, u->nr_devices, u->nr_installs, u->id_users, in->n_dev,
				       in->n_inst, in->n_id);
			if (in->n_id)
				did_use(c, u, u->id_did, "unit", u->obj.id);
			if (!in->did_used)
				break;
			for (uint32_t w = 0; w < u->did_words; w++) {
				/* Quarantined IDs are neither free nor owned. */
				uint64_t q = u->did_quar && uenv_is_meta(u->did_quar,
									 sizeof(uint64_t) * u->did_words)
						     ? u->did_quar[w]
						     : 0;
				uint64_t left = u->did_map[w] & ~in->did_used[w] & ~q;

				if (q & in->did_used[w])
					report(c->r, "unit %u: domain ID %u quarantined and in use",
					       u->obj.id, w * 64 + (uint32_t)__builtin_ctzll(
									   q & in->did_used[w]));
				if (left) {
					report(c->r, "unit %u: domain IDs allocated that nothing uses "
						     "(from %u)",
					       u->obj.id, w * 64 + (uint32_t)__builtin_ctzll(left));
					break;
				}
			}
			break;
		}
		case UOBJ_HWPT: {
			struct uiommu_hwpt *h = in->o;

			if (!in->sane)
				break;
			if (list_check(c->r, &h->attaches, "HWPT attachments", visit_hwpt_attach, c,
				       h) < 0)
				break;
			if (h->users != in->n_users || h->children != in->n_child ||
			    h->viommus != in->n_viommu)
				report(c->r, "HWPT %u: %u users, %u children, %u vIOMMUs recorded; "
					     "%u, %u, %u found",
				       h->obj.id, h->users, h->children, h->viommus, in->n_users,
				       in->n_child, in->n_viommu);
			for (uint32_t k = 0; k < h->nr_inst; k++)
				if (h->inst[k].users != in->inst_users[k])
					report(c->r, "HWPT %u: %u users on unit %u recorded, %u found",
					       h->obj.id, h->inst[k].users, h->inst[k].unit->obj.id,
					       in->inst_users[k]);
			if (!h->nested && h->cfg.ias < 64 && !in->aperture)
				report(c->r, "HWPT %u: its aperture above %u bits is not reserved",
				       h->obj.id, h->cfg.ias);
			break;
		}
		case UOBJ_IOAS: {
			struct uiommu_ioas *s = in->o;

			if (in->sane && s->users != in->n_users)
				report(c->r, "IOAS %u: %u users recorded, %u found", s->obj.id, s->users,
				       in->n_users);
			break;
		}
		case UOBJ_VIOMMU: {
			struct uiommu_viommu *v = in->o;

			if (in->sane && v->children != in->n_dev)
				report(c->r, "vIOMMU %u: %u children recorded, %u found", v->obj.id,
				       v->children, in->n_dev);
			break;
		}
		}
	}
	if (ctx->nr_units != units)
		report(c->r, "%u units recorded, %u found", ctx->nr_units, units);
	for (uint64_t i = 0, k, *v; phash_next(&c->attaches, &i, &k, &v);) {
		const struct dev_attach *a = (const struct dev_attach *)(uintptr_t)k;

		if (*v != 2 && a->hwpt && info_of(c, a->hwpt, UOBJ_HWPT) &&
		    info_of(c, a->hwpt, UOBJ_HWPT)->sane)
			report(c->r, "HWPT %u: a device's attachment to it is not on its list",
			       a->hwpt->obj.id);
	}
}

/* ---------------------------------------------------- 3b. tool state */

static bool visit_buf(struct ck *c, const struct list_node *n, void *arg)
{
	struct ext_buf *b = list_entry(n, struct ext_buf, link);

	(void)arg;
	if (!uenv_is_meta(b, sizeof(*b))) {
		report(c->r, "buffer list: record at %p not in the arena", (void *)b);
		return false;
	}
	if (!b->dma.len || (b->dma.len & (UENV_PAGE_SIZE - 1)) ||
	    !uenv_is_dma(b->dma.va, b->dma.len) || uenv_va_to_iova(b->dma.va) != b->dma.iova) {
		report(c->r, "buffer at bus address 0x%llx (0x%zx bytes): not a DMA block of the "
			     "arena",
		       (unsigned long long)b->dma.iova, b->dma.len);
		return true;
	}
	mark(c, b, sizeof(*b), UENV_MARK_META, "buffer record");
	mark(c, b->dma.va, b->dma.len, UENV_MARK_DMA, "buffer 0x%llx",
	     (unsigned long long)b->dma.iova);
	return true;
}

static bool visit_name(struct ck *c, const struct list_node *n, void *arg)
{
	struct ext_name *nm = list_entry(n, struct ext_name, link);
	struct phash *names = arg;

	if (!uenv_is_meta(nm, sizeof(*nm))) {
		report(c->r, "name list: record at %p not in the arena", (void *)nm);
		return false;
	}
	mark(c, nm, sizeof(*nm), UENV_MARK_META, "name record");
	if (!memchr(nm->name, 0, sizeof(nm->name)) || !nm->name[0]) {
		report(c->r, "name of object %u is not a string", nm->id);
		return true;
	}
	/* Names of objects that are gone are dropped when next seen. */
	if (phash_get(&c->ids, nm->id, false, NULL)) {
		uint64_t h = 1469598103934665603ull, *v;
		bool found;

		for (const char *s = nm->name; *s; s++)
			h = (h ^ (uint8_t)*s) * 1099511628211ull;
		v = phash_get(names, h, true, &found);
		if (v && found && !strcmp(((struct ext_name *)(uintptr_t)*v)->name, nm->name))
			report(c->r, "name \"%s\" given to two objects", nm->name);
		else if (v)
			*v = (uint64_t)(uintptr_t)nm;
	}
	return true;
}

static void check_ext(struct ck *c)
{
	struct ctx_ext *e = c->ctx->ext;
	struct phash names = {0};
	long n;

	if (!e)
		return;
	if (!uenv_is_meta(e, sizeof(*e))) {
		report(c->r, "tool state (buffers, names) not in the arena");
		return;
	}
	mark(c, e, sizeof(*e), UENV_MARK_META, "tool state");
	n = list_check(c->r, &e->bufs, "buffers", visit_buf, c, NULL);
	if (n >= 0 && (uint64_t)n != e->nr_bufs)
		report(c->r, "%u buffers recorded, %ld listed", e->nr_bufs, n);
	(void)list_check(c->r, &e->names, "names", visit_name, c, &names);
	phash_free(&names);
}

/* --------------------------------------------- 4. areas against PTEs */

struct av {
	struct ck *c;
	struct uiommu_hwpt *h;
	struct uiommu_ioas *s;
	struct iopt_area *cur; /* the area the next leaf should be in */
	uint64_t covered;      /* bytes of it mapped so far */
	uint64_t stray_lo, stray_hi; /* leaves outside every area, not reported yet */
	bool stray;
};

static void av_flush_stray(struct av *w)
{
	if (!w->stray)
		return;
	report(w->c->r, "HWPT %u: PTE without area: [0x%llx-0x%llx] is mapped, IOAS %u has no "
			"area there",
	       w->h->obj.id, (unsigned long long)w->stray_lo, (unsigned long long)w->stray_hi,
	       w->s->obj.id);
	w->stray = false;
}

static void av_done(struct av *w)
{
	struct iopt_area *a = w->cur;

	if (w->covered != a->last - a->iova + 1)
		report(w->c->r, "HWPT %u: area without PTEs: [0x%llx-0x%llx] of IOAS %u has 0x%llx "
				"of 0x%llx bytes mapped",
		       w->h->obj.id, (unsigned long long)a->iova, (unsigned long long)a->last,
		       w->s->obj.id, (unsigned long long)w->covered,
		       (unsigned long long)(a->last - a->iova + 1));
	w->cur = iopt_next(a, UINT64_MAX);
	w->covered = 0;
}

static int av_leaf(void *arg, const struct pgt_leaf *l)
{
	struct av *w = arg;
	struct iopt_area *a;
	uint64_t last = l->iova + l->size - 1, want;

	while (w->cur && w->cur->last < l->iova)
		av_done(w);
	a = w->cur;
	if (!a || l->iova < a->iova || last > a->last) {
		if (w->stray && w->stray_hi + 1 == l->iova) {
			w->stray_hi = last;
		} else {
			av_flush_stray(w);
			w->stray = true;
			w->stray_lo = l->iova;
			w->stray_hi = last;
		}
		return 0;
	}
	av_flush_stray(w);
	if (l->pa != a->phys + (l->iova - a->iova))
		report(w->c->r, "HWPT %u: PTE at 0x%llx maps 0x%llx, its area [0x%llx-0x%llx] wants "
				"0x%llx",
		       w->h->obj.id, (unsigned long long)l->iova, (unsigned long long)l->pa,
		       (unsigned long long)a->iova, (unsigned long long)a->last,
		       (unsigned long long)(a->phys + (l->iova - a->iova)));
	else if (l->attr != (want = pgt_leaf_attr(w->h->pgt, hwpt_area_prot(a), l)))
		report(w->c->r, "HWPT %u: PTE at 0x%llx has bits 0x%llx, its area's protection "
				"wants 0x%llx",
		       w->h->obj.id, (unsigned long long)l->iova, (unsigned long long)l->attr,
		       (unsigned long long)want);
	else
		w->covered += l->size;
	return 0;
}

static void check_mappings(struct ck *c, struct oinfo *si)
{
	struct uiommu_ioas *s = si->o;
	struct list_node *pos;

	if (!si->sane)
		return;
	list_for_each(pos, &s->hwpts)
	{
		struct uiommu_hwpt *h = list_entry(pos, struct uiommu_hwpt, ioas_link);
		struct oinfo *hi = info_of(c, h, UOBJ_HWPT);
		struct av w = {.c = c, .h = h, .s = s, .cur = s->iopt.leftmost};

		if (!hi || !hi->pgt_ok)
			continue;
		for (struct iopt_area *a = w.cur; a; a = iopt_next(a, UINT64_MAX))
			if (a->prot < IOPT_READ || a->prot > (IOPT_READ | IOPT_WRITE) || a->flags) {
				report(c->r, "IOAS %u: area [0x%llx-0x%llx] with protection %u, "
					     "flags 0x%x",
				       s->obj.id, (unsigned long long)a->iova,
				       (unsigned long long)a->last, a->prot, a->flags);
				return;
			}
		if (pgt_for_each_leaf(h->pgt, av_leaf, &w))
			report(c->r, "HWPT %u: its page table cannot be walked", h->obj.id);
		av_flush_stray(&w);
		while (w.cur)
			av_done(&w);
	}
}

/* ---------------------------------------------------------- 5. leaks */

static void check_leaks(struct ck *c)
{
	for (size_t i = 0; i < c->n_info; i++) {
		struct oinfo *in = &c->info[i];
		struct uobj *o = in->o;

		mark(c, o, obj_size[in->type], UENV_MARK_META, "%s %u", obj_name[in->type], o->id);
		if (in->type == UOBJ_HWPT && in->flags_ok && !((struct uiommu_hwpt *)o)->nested &&
		    !in->pgt_ok &&
		    uenv_is_table_page(((struct uiommu_hwpt *)o)->pgt))
			/* Its tables are not known: keep what it reaches. */
			(void)uenv_mark_scan(c->mk, ((struct uiommu_hwpt *)o)->pgt);
	}
	/* The drivers' own state (see the top of this file): each unit's and
	 * device's its own, not core memory, not another's; then scanned. */
	for (size_t i = 0; i < c->n_info; i++) {
		struct oinfo *in = &c->info[i];
		void *priv = in->type == UOBJ_UNIT	   ? ((struct uiommu_unit *)in->o)->priv
			     : in->type == UOBJ_DEVICE ? ((struct uiommu_device *)in->o)->priv
						       : NULL;

		if (priv && uenv_is_meta(priv, 1))
			mark(c, priv, 1, UENV_MARK_META, "%s %u: driver state", obj_name[in->type],
			     ((struct uobj *)in->o)->id);
	}
	/* A unit's model instance (opaque, like driver state) and its event
	 * ring (core's, no pointers inside). */
	for (size_t i = 0; i < c->n_info; i++) {
		struct oinfo *in = &c->info[i];
		struct uiommu_unit *u = in->o;

		if (in->type != UOBJ_UNIT || !in->sane)
			continue;
		if (u->model && uenv_is_meta(u->model, 1)) {
			mark(c, u->model, 1, UENV_MARK_META, "unit %u: model", u->obj.id);
			(void)uenv_mark_scan(c->mk, u->model);
		}
		if (u->evring && uenv_is_meta(u->evring, 1))
			mark(c, u->evring, 1, UENV_MARK_META, "unit %u: event ring", u->obj.id);
	}
	for (size_t i = 0; i < c->n_info; i++) {
		struct oinfo *in = &c->info[i];

		if (in->type == UOBJ_UNIT && in->sane)
			(void)uenv_mark_scan(c->mk, ((struct uiommu_unit *)in->o)->priv);
		else if (in->type == UOBJ_DEVICE && ((struct uiommu_device *)in->o)->priv)
			(void)uenv_mark_scan(c->mk, ((struct uiommu_device *)in->o)->priv);
	}
	struct check_report *r = c->r;
	uint64_t before = r->errors;

	r->errors += (unsigned int)uenv_marks_report(c->mk, CHECK_MAX_LEAK_LINES, r->cb, r->arg);
	if (r->errors != before)
		UENV_LOG(CORE, ERR, "state check: %llu allocations nothing reaches (leaked)",
			 (unsigned long long)(r->errors - before));
}

/* ---------------------------------------------------------------- all */

int ctx_check(struct uiommu_ctx *ctx, struct check_report *r)
{
	struct check_report local = {0};
	struct ck c = {.ctx = ctx};
	uint64_t slots = 0;

	if (!r)
		r = &local;
	r->errors = 0;
	c.r = r;
	/* 1. The arena's own bookkeeping (at adoption: checked already). */
	if (!uenv_adopted() || uiommu_ctx_adopted(ctx))
		(void)uenv_arena_check(sub_report, &c);
	if (r->errors)
		return -EUCLEAN; /* the look-ups below would not be sound */
	if (!uenv_is_meta(ctx, sizeof(*ctx)) || ctx->magic != UIOMMU_CTX_MAGIC ||
	    (uenv_root_slot() && *uenv_root_slot() != ctx)) {
		report(r, "the context is not the state's root object");
		return -EUCLEAN;
	}
	c.mk = uenv_marks_new();
	if (!c.mk)
		report(r, "out of memory for the leak check");
	mark(&c, ctx, sizeof(*ctx), UENV_MARK_META, "the context");
	/* 2. Every list of the context: links, then object headers. */
	if (!check_lists(&c))
		goto out; /* nothing below may follow them */
	/* 3. Each object, and what it points at: the units and IOASes first
	 * (the HWPTs and devices count into them). */
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_UNIT)
			check_unit(&c, &c.info[i], &slots);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_IOAS)
			check_ioas(&c, &c.info[i]);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_HWPT && !bool_bad(&((struct uiommu_hwpt *)c.info[i].o)->nested) &&
		    !((struct uiommu_hwpt *)c.info[i].o)->nested)
			check_hwpt(&c, &c.info[i]);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_VIOMMU)
			check_viommu(&c, &c.info[i]);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_HWPT &&
		    (bool_bad(&((struct uiommu_hwpt *)c.info[i].o)->nested) ||
		     ((struct uiommu_hwpt *)c.info[i].o)->nested))
			check_hwpt(&c, &c.info[i]);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_DEVICE)
			check_device(&c, &c.info[i]);
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_IOAS)
			check_ioas_after(&c, &c.info[i]);
	check_counts(&c);
	check_ext(&c);
	/* 4. What each paging HWPT maps against its IOAS's areas. */
	for (size_t i = 0; i < c.n_info; i++)
		if (c.info[i].type == UOBJ_IOAS)
			check_mappings(&c, &c.info[i]);
	/* 5. Leaks: what nothing reaches. */
	if (c.mk)
		check_leaks(&c);
out:
	if (c.oom || c.objs.oom || c.ids.oom || c.attaches.oom || c.hw_ids.oom)
		report(r, "out of memory: the check is not complete");
	for (size_t i = 0; i < c.n_info; i++)
		free(c.info[i].did_used);
	free(c.info);
	phash_free(&c.objs);
	phash_free(&c.ids);
	phash_free(&c.attaches);
	phash_free(&c.hw_ids);
	uenv_marks_free(c.mk);
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
