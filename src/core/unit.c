/* SPDX-License-Identifier: BSD-3-Clause */
/* Units: one IOMMU instance each, driven by its family's ops. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/model.h"
#include "uiommu/uiommu_fw.h"

#define UNIT_FAM_RESV_MAX 8u /* regions a family's unit_resv may give */

/* ---------------------------------------------- process-local registers */

struct unit_local uiommu_unit_local[UIOMMU_MAX_UNITS];

static uint64_t dead_read(void *model, uint32_t off, unsigned int size)
{
	(void)model;
	(void)off;
	return size == 8 ? UINT64_MAX : UINT32_MAX;
}

static void dead_write(void *model, uint32_t off, uint64_t val, unsigned int size)
{
	(void)model;
	(void)off;
	(void)val;
	(void)size;
}

static const struct uiommu_model_io dead_io = {.read = dead_read, .write = dead_write};

void unit_regs_set_dead(struct uiommu_regio *r)
{
	memset(r, 0, sizeof(*r));
	r->model = &dead_io;
}

void unit_local_release(uint32_t slot)
{
	struct unit_local *l = &uiommu_unit_local[slot & (UIOMMU_MAX_UNITS - 1)];

	uenv_regio_unmap(&l->regs);
	unit_regs_set_dead(&l->regs);
	l->bind_gen = 0;
}

void unit_local_forget(uint32_t slot)
{
	unit_local_release(slot);
	uiommu_unit_local[slot & (UIOMMU_MAX_UNITS - 1)].has_fd = false;
}

/* (local) The unit being added by this process and its description:
 * unit_regs_map creates the model / checks /proc/iomem only then. */
static struct uiommu_unit *adding_unit;
static const struct uiommu_unit_desc *adding_desc;

static int model_window(struct uiommu_unit *u, uint64_t size)
{
	const struct uiommu_model_ops *m = uiommu_model_ops_get(u->family);
	struct uiommu_regio *r = unit_regs(u);
	uint64_t have;
	int rc;

	if (!m) {
		UENV_LOG(CORE, ERR, "no built-in model of family %s in this library",
			 uiommu_family_ops_get(u->family)->name);
		return -EOPNOTSUPP;
	}
	if (!u->model) {
		const char *cfg;

		/* Created at take-over only: a unit of the state has one. */
		if (adding_unit != u)
			return -ENODEV;
		cfg = adding_desc->model_cfg;
		rc = m->create(cfg, &u->model);
		if (rc) {
			UENV_LOG(CORE, ERR, "%s model \"%s\": %s", m->what, cfg ? cfg : "",
				 strerror(-rc));
			return rc;
		}
	}
	have = m->reg_size(u->model);
	if (size > have) {
		UENV_LOG(CORE, ERR, "%s model: %" PRIu64 " bytes of registers asked, it has %" PRIu64,
			 m->what, size, have);
		return -EINVAL;
	}
	r->base = NULL;
	r->size = have;
	r->model = m->io;
	r->model_priv = u->model;
	return 0;
}

static void model_destroy(struct uiommu_unit *u)
{
	const struct uiommu_model_ops *m = uiommu_model_ops_get(u->family);

	if (u->model && m)
		m->destroy(u->model);
	u->model = NULL;
}

int unit_regs_map(struct uiommu_unit *u, uint64_t size)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	struct unit_local *l = &uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)];
	struct uiommu_regio *cur = &l->regs, r;
	struct uenv_regsrc src = {
		.base = u->reg_base,
		.path = u->reg_path[0] ? u->reg_path : NULL,
		.fd = -1,
		.claims = ops->regs.claims,
		.platform_driver = ops->regs.platform_driver,
		.what = ops->regs.what,
		.kernel_off = ops->regs.kernel_off,
		/* Only a take-over asks the kernel: an adopting process maps
		 * a unit the state already owns. */
		.force = u->force || adding_unit != u,
	};
	int rc;

	if (!size)
		return -EINVAL;
	if (u->reg_fd) {
		if (!l->has_fd) {
			UENV_LOG(CORE, ERR,
				 "unit %u: its registers are reached through a file descriptor of "
				 "the process that added it: this process cannot map them",
				 u->obj.id);
			return -EOPNOTSUPP;
		}
		src.fd = l->reg_fd;
		src.fd_offset = u->reg_fd_offset;
	}
	if (u->access == UIOMMU_UNIT_MODEL)
		rc = model_window(u, size);
	else if (cur->base && size <= cur->size)
		rc = 0;
	else {
		if (size < u->reg_size)
			size = u->reg_size;
		rc = uenv_regio_map(&src, size, true, &r);
		if (!rc) {
			uenv_regio_unmap(cur);
			*cur = r;
		}
	}
	if (!rc && size > u->reg_window)
		u->reg_window = size;
	return rc;
}

/* Give this process access to @u's registers (the window its family asked
 * for at take-over), then let the family check the hardware.  On failure
 * the unit reads as dead here. */
int unit_local_bind(struct uiommu_unit *u)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	struct unit_local *l = &uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)];
	int rc = 0;

	unit_local_release(u->slot);
	if (!ops)
		return -EOPNOTSUPP;
	if (u->reg_window)
		rc = unit_regs_map(u, u->reg_window);
	if (!rc && ops->unit_adopt)
		rc = ops->unit_adopt(u);
	if (rc) {
		unit_local_release(u->slot);
		UENV_LOG(CORE, ERR, "unit %u: no access to its registers in this process: %s",
			 u->obj.id, strerror(-rc));
		return rc;
	}
	l->bind_gen = u->bind_gen;
	return 0;
}

/* ----------------------------------------------------------- event ring */

void unit_event_push(struct uiommu_unit *u, const struct uiommu_event *ev)
{
	struct unit_evring *q = u->evring;
	struct unit_ev *e;

	if (!q)
		return;
	if (q->n >= UNIT_EVRING_SIZE || q->head >= UNIT_EVRING_SIZE) {
		q->lost++;
		return;
	}
	e = &q->e[(q->head + q->n) % UNIT_EVRING_SIZE];
	e->ev = *ev;
	e->ev.reason_text = NULL;
	e->text[0] = '\0';
	if (ev->reason_text)
		snprintf(e->text, sizeof(e->text), "%s", ev->reason_text);
	q->n++;
}

/* (local) The texts of ring and history events, one copy per distinct
 * text in this process: reason_text stays valid for as long as the caller
 * likes.  Context lock held. */
#define EV_TEXTS_MAX 256u
static char ev_texts[EV_TEXTS_MAX][UNIT_EV_TEXT];
static unsigned int ev_ntexts;

static const char *ev_text(const char *s)
{
	if (!s[0])
		return NULL;
	for (unsigned int i = 0; i < ev_ntexts; i++)
		if (!strcmp(ev_texts[i], s))
			return ev_texts[i];
	if (ev_ntexts == EV_TEXTS_MAX)
		return "(driver event: its text is not kept)";
	memcpy(ev_texts[ev_ntexts], s, UNIT_EV_TEXT);
	return ev_texts[ev_ntexts++];
}

uint16_t unit_events_drain(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max)
{
	struct unit_evring *q = u->evring;
	uint16_t n = 0;

	if (!q)
		return 0;
	/* The ring is shared memory: indices and texts are kept in bounds. */
	if (q->head >= UNIT_EVRING_SIZE || q->n > UNIT_EVRING_SIZE)
		q->head = q->n = 0;
	while (q->n && n < max) {
		struct unit_ev *e = &q->e[q->head];

		e->text[UNIT_EV_TEXT - 1] = '\0';
		ev[n] = e->ev;
		ev[n].reason_text = ev_text(e->text);
		n++;
		q->head = (q->head + 1) % UNIT_EVRING_SIZE;
		q->n--;
	}
	if (q->lost && n < max) {
		struct uiommu_event *o = &ev[n++];

		memset(o, 0, sizeof(*o));
		o->type = UIOMMU_EV_OVERFLOW;
		o->unit_id = u->obj.id;
		o->pasid = UIOMMU_NO_PASID;
		o->count = q->lost;
		o->reason_text = "driver event queue overflow";
		q->lost = 0;
	}
	return n;
}

/* --------------------------------------------------------- event history */

bool unit_hist_rec_ok(const struct unit_hist_rec *r, uint32_t slot, uint64_t next)
{
	uint64_t seq = r->seq;

	if (!seq)
		return true;
	/* Published (< next), or written but not yet published (== next). */
	if (seq % UNIT_EVHIST_SIZE != slot || seq > next ||
	    (next > UNIT_EVHIST_SIZE && seq < next - UNIT_EVHIST_SIZE))
		return false;
	if (r->type < UIOMMU_EV_FAULT || r->type > UIOMMU_EV_QUEUE_ERROR)
		return false;
	return memchr(r->text, '\0', sizeof(r->text)) != NULL;
}

void unit_evhist_append(struct uiommu_unit *u, const struct uiommu_event *ev, uint16_t n)
{
	struct unit_evhist *h = u->evhist;

	if (!h) { /* a state made before units had a history: one now */
		h = uenv_zalloc(sizeof(*h));
		if (!h)
			return;
		h->size = UNIT_EVHIST_SIZE;
		h->next = 1;
		u->evhist = h;
	}
	if (h->size != UNIT_EVHIST_SIZE)
		return;
	for (uint16_t i = 0; i < n; i++) {
		const struct uiommu_event *e = &ev[i];
		uint64_t seq = h->next ? h->next : 1;
		struct unit_hist_rec *r = &h->r[seq % UNIT_EVHIST_SIZE];

		/* Write order (core.h): unpublish the slot, fill it, stamp it,
		 * then publish the sequence. */
		__atomic_store_n(&r->seq, 0, __ATOMIC_RELEASE);
		r->addr = e->addr;
		r->addr2 = e->addr2;
		r->count = e->count;
		r->type = e->type;
		r->dev_id = e->dev_id;
		r->hw_id = e->hw_id;
		r->pasid = e->pasid;
		r->flags = e->flags;
		r->reason = e->reason;
		r->grpid = e->grpid;
		r->segment = e->segment;
		r->rsvd = 0;
		r->text[0] = '\0';
		if (e->reason_text)
			snprintf(r->text, sizeof(r->text), "%s", e->reason_text);
		__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
		__atomic_store_n(&h->next, seq + 1, __ATOMIC_RELEASE);
	}
}

static void ev_lost(struct uiommu_event *o, const struct uiommu_unit *u, uint64_t count)
{
	memset(o, 0, sizeof(*o));
	o->type = UIOMMU_EV_LOST;
	o->unit_id = u->obj.id;
	o->segment = u->segment;
	o->pasid = UIOMMU_NO_PASID;
	o->count = count;
	o->reason_text = "events lost: this reader fell behind the event history";
}

int uiommu_events_read(struct uiommu_unit *u, uint64_t *cursor, struct uiommu_event *ev,
		       uint16_t max)
{
	const struct unit_evhist *h;
	uint64_t c, next, oldest, lost = 0;
	int n = 0;

	if (!u || !cursor || !ev)
		return -EINVAL;
	ctx_lock(u->ctx);
	h = u->evhist;
	if (!h) { /* nothing polled yet in a state made before histories */
		if (*cursor == UIOMMU_EVENTS_LATEST)
			*cursor = 1;
		goto out;
	}
	if (!uenv_is_meta(h, sizeof(*h)) || h->size != UNIT_EVHIST_SIZE || !h->next) {
		UENV_LOG(CORE, ERR, "unit %u: its event history is not well-formed", u->obj.id);
		n = -EUCLEAN;
		goto out;
	}
	next = __atomic_load_n(&h->next, __ATOMIC_ACQUIRE);
	oldest = next > UNIT_EVHIST_SIZE ? next - UNIT_EVHIST_SIZE : 1;
	c = *cursor;
	if (c == UIOMMU_EVENTS_LATEST) {
		*cursor = next;
		goto out;
	}
	if (c == 0 || c > next)
		c = oldest;
	if (c < oldest) {
		lost = oldest - c;
		c = oldest;
	}
	while (c < next && n < max) {
		const struct unit_hist_rec *r = &h->r[c % UNIT_EVHIST_SIZE];
		struct unit_hist_rec cp = *r;
		struct uiommu_event *o;

		if (cp.seq != c || !unit_hist_rec_ok(&cp, (uint32_t)(c % UNIT_EVHIST_SIZE), next)) {
			lost++; /* overwritten by a writer that died, or damaged */
			c++;
			continue;
		}
		if (lost) {
			if (n + 1 >= max)
				break; /* the LOST record and its successor go together */
			ev_lost(&ev[n++], u, lost);
			lost = 0;
		}
		o = &ev[n++];
		memset(o, 0, sizeof(*o));
		o->type = (enum uiommu_event_type)cp.type;
		o->unit_id = u->obj.id;
		o->dev_id = cp.dev_id;
		o->segment = cp.segment;
		o->hw_id = cp.hw_id;
		o->pasid = cp.pasid;
		o->addr = cp.addr;
		o->addr2 = cp.addr2;
		o->flags = cp.flags;
		o->reason = cp.reason;
		o->reason_text = ev_text(cp.text);
		o->grpid = cp.grpid;
		o->count = cp.count;
		c++;
	}
	if (lost && n < max) {
		ev_lost(&ev[n++], u, lost);
		lost = 0;
	}
	*cursor = c - lost; /* an unreported loss is reported by the next call */
out:
	ctx_unlock(u->ctx);
	return n;
}

/* ------------------------------------------------- domain-ID quarantine */

void unit_did_release(struct uiommu_unit *u, uint32_t did, int flush_rc)
{
	if (!flush_rc) {
		unit_did_free(u, did);
		return;
	}
	if (did / 64 >= u->did_words)
		return;
	if (!u->did_quar) {
		u->did_quar = uenv_zalloc(sizeof(uint64_t) * u->did_words);
		if (!u->did_quar) {
			/* No memory to note it: the ID stays set in did_map for
			 * good (a leak the checker reports, never a reuse). */
			UENV_LOG(CORE, ERR, "unit %u: domain %u kept in use for good (no memory)",
				 u->obj.id, did);
			return;
		}
	}
	if (!(u->did_quar[did / 64] & (1ull << (did % 64)))) {
		u->did_quar[did / 64] |= 1ull << (did % 64);
		u->nr_quar++;
	}
	UENV_LOG(CORE, WARNING,
		 "unit %u: flush of domain %u failed (%s): the ID is quarantined until a "
		 "unit-wide invalidation succeeds",
		 u->obj.id, did, strerror(-flush_rc));
}

void unit_quarantine_clear(struct uiommu_unit *u)
{
	if (!u->did_quar || !u->nr_quar)
		return;
	for (uint32_t w = 0; w < u->did_words; w++) {
		u->did_map[w] &= ~u->did_quar[w];
		u->did_quar[w] = 0;
	}
	UENV_LOG(CORE, INFO, "unit %u: %u quarantined domain ID(s) released", u->obj.id,
		 u->nr_quar);
	u->nr_quar = 0;
}

int unit_inv_stale_recover(struct uiommu_unit *u)
{
	const struct uiommu_family_ops *ops = uiommu_family_ops_get(u->family);
	int rc;

	if (!ops || !ops->unit_recover)
		return -EOPNOTSUPP;
	rc = ops->unit_recover(u);
	if (rc) {
		UENV_LOG(CORE, WARNING,
			 "unit %u: invalidation of everything after a failed flush failed (%s); "
			 "%u domain ID(s) in quarantine",
			 u->obj.id, strerror(-rc), u->nr_quar);
		return rc;
	}
	u->inv_stale = false;
	unit_quarantine_clear(u);
	return 0;
}

/* A slot no live unit uses. */
static int unit_slot_alloc(struct uiommu_ctx *ctx, uint32_t *slot)
{
	uint64_t used = 0;

	for (struct uobj *o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o))
		used |= 1ull << (((struct uiommu_unit *)o)->slot & (UIOMMU_MAX_UNITS - 1));
	if (!~used)
		return -ENOSPC;
	*slot = (uint32_t)__builtin_ctzll(~used);
	return 0;
}

int unit_did_alloc(struct uiommu_unit *u, uint32_t *did)
{
	uint32_t limit = u->caps.num_domains;

	if (__builtin_expect(u->inv_stale || u->nr_quar, 0))
		(void)unit_inv_stale_recover(u);

	for (uint32_t w = u->did_min / 64; w < u->did_words; w++) {
		uint64_t free = ~u->did_map[w];
		if (w == u->did_min / 64)
			free &= ~0ull << (u->did_min % 64);
		if (!free)
			continue;
		uint32_t id = w * 64 + (uint32_t)__builtin_ctzll(free);
		if (id >= limit)
			break;
		u->did_map[w] |= 1ull << (id % 64);
		*did = id;
		return 0;
	}
	return -ENOSPC;
}

void unit_did_free(struct uiommu_unit *u, uint32_t did)
{
	if (did / 64 < u->did_words && !(u->did_quar && (u->did_quar[did / 64] >> (did % 64) & 1)))
		u->did_map[did / 64] &= ~(1ull << (did % 64));
}

static int unit_add_resv_locked(struct uiommu_unit *u, int32_t rid, uint64_t start, uint64_t last,
				enum uiommu_resv_kind kind)
{
	struct unit_resv *n;

	if (start > last)
		return -EINVAL;
	n = uenv_zalloc(sizeof(*n) * (u->nr_resv + 1));
	if (!n)
		return -ENOMEM;
	if (u->nr_resv)
		memcpy(n, u->resv, sizeof(*n) * u->nr_resv);
	n[u->nr_resv].rid = rid;
	n[u->nr_resv].r.start = start;
	n[u->nr_resv].r.last = last;
	n[u->nr_resv].r.kind = kind;
	uenv_free(u->resv);
	u->resv = n;
	u->nr_resv++;
	return 0;
}

/* What unit_add and peek check of a description before anything changes:
 * flags, the family's options (tagged with its number), REG_FD. */
static int desc_check(const struct uiommu_family_ops *ops, const struct uiommu_unit_desc *desc)
{
	if (desc->flags & ~(UIOMMU_UNIT_F_REG_FD | UIOMMU_UNIT_F_DEFER_ENABLE))
		return -EOPNOTSUPP;
	if ((desc->flags & UIOMMU_UNIT_F_DEFER_ENABLE) && !ops->unit_enable)
		return -EOPNOTSUPP;
	if ((desc->flags & UIOMMU_UNIT_F_REG_FD) &&
	    (desc->access != UIOMMU_UNIT_MMIO || desc->reg_fd < 0))
		return -EINVAL;
	if (!desc->family_opts)
		return 0;
	if (*(const enum uiommu_family *)desc->family_opts != desc->family || !ops->desc_check)
		return -EINVAL;
	return ops->desc_check(desc);
}

int uiommu_unit_add(struct uiommu_ctx *ctx, const struct uiommu_unit_desc *desc,
		    struct uiommu_unit **out)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_unit *u;
	int rc;

	if (!ctx || !desc || !out)
		return -EINVAL;
	/* Checked before anything changes: unknown flags -EOPNOTSUPP (as
	 * iommufd), an unknown access kind -EINVAL. */
	if (desc->flags & ~(UIOMMU_UNIT_F_REG_FD | UIOMMU_UNIT_F_DEFER_ENABLE))
		return -EOPNOTSUPP;
	if (desc->access != UIOMMU_UNIT_MMIO && desc->access != UIOMMU_UNIT_MODEL)
		return -EINVAL;
	ops = uiommu_family_ops_get(desc->family);
	if (!ops) {
		const char *fname = uiommu_fw_family_name(desc->family);

		UENV_LOG(CORE, ERR,
			 "IOMMU family %s (%d) is not built into this library (no driver yet, "
			 "or the build was configured with -D%s=disabled)",
			 fname, (int)desc->family, fname);
		return -EOPNOTSUPP;
	}
	rc = desc_check(ops, desc);
	if (rc)
		return rc;
	/* A descriptor is this process's: no other could map such a unit. */
	if ((desc->flags & UIOMMU_UNIT_F_REG_FD) && uenv_txn_supported()) {
		UENV_LOG(CORE, ERR, "a unit reached through a file descriptor cannot be in a "
				    "shared state (other processes could not map it)");
		return -EOPNOTSUPP;
	}
	ctx_lock(ctx);
	if (ctx->nr_units >= UIOMMU_MAX_UNITS) {
		rc = -ENOSPC;
		goto out_unlock;
	}
	u = uenv_zalloc(sizeof(*u));
	if (!u) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	u->ctx = ctx;
	u->family = desc->family;
	u->access = desc->access;
	u->reg_base = desc->reg_base;
	u->segment = desc->segment;
	u->numa_node = desc->numa_node;
	u->reg_size = desc->reg_size;
	u->force = desc->force;
	u->reg_fd = desc->flags & UIOMMU_UNIT_F_REG_FD;
	u->reg_fd_offset = u->reg_fd ? desc->reg_fd_offset : 0;
	if (desc->uio_path) {
		if (strlen(desc->uio_path) >= sizeof(u->reg_path)) {
			rc = -ENAMETOOLONG;
			goto err_free;
		}
		strcpy(u->reg_path, desc->uio_path);
	}
	u->evring = uenv_zalloc(sizeof(*u->evring));
	u->evhist = uenv_zalloc(sizeof(*u->evhist));
	if (!u->evring || !u->evhist) {
		rc = -ENOMEM;
		goto err_free;
	}
	u->evhist->size = UNIT_EVHIST_SIZE;
	u->evhist->next = 1;
	rc = unit_slot_alloc(ctx, &u->slot);
	if (rc)
		goto err_free;
	u->bind_gen = ++ctx->bind_next;
	unit_local_forget(u->slot);
	if (u->reg_fd) {
		uiommu_unit_local[u->slot].has_fd = true;
		uiommu_unit_local[u->slot].reg_fd = desc->reg_fd;
	}
	adding_unit = u;
	adding_desc = desc;
	rc = ops->unit_init(u, desc);
	adding_unit = NULL;
	adding_desc = NULL;
	if (rc) {
		unit_local_forget(u->slot);
		model_destroy(u);
		goto err_free;
	}
	uiommu_unit_local[u->slot].bind_gen = u->bind_gen;
	u->caps.family = desc->family;
	if (!u->caps.num_domains)
		u->caps.num_domains = 1;
	u->did_words = (u->caps.num_domains + 63) / 64;
	u->did_map = uenv_zalloc(sizeof(uint64_t) * u->did_words);
	if (!u->did_map) {
		rc = -ENOMEM;
		goto err_fini;
	}
	/* The family's own reserved regions (x86: the MSI window). */
	if (ops->unit_resv) {
		struct uiommu_resv_region r[UNIT_FAM_RESV_MAX];
		uint32_t nr = ops->unit_resv(u, r, UNIT_FAM_RESV_MAX);

		for (uint32_t i = 0; i < nr && i < UNIT_FAM_RESV_MAX; i++) {
			rc = unit_add_resv_locked(u, -1, r[i].start, r[i].last, r[i].kind);
			if (rc)
				goto err_didmap;
		}
	}
	uobj_publish(ctx, &u->obj, UOBJ_UNIT);
	ctx->nr_units++;
	/* Other processes bind it when they next take the lock. */
	ctx->units_gen++;
	uiommu_local_units_gen = ctx->units_gen;
	*out = u;
	ctx_unlock(ctx);
	return 0;

err_didmap:
	uenv_free(u->resv);
	uenv_free(u->did_map);
err_fini:
	ops->unit_fini(u);
	unit_local_forget(u->slot);
	model_destroy(u);
err_free:
	uenv_free(u->evhist);
	uenv_free(u->evring);
	uenv_free(u);
out_unlock:
	ctx_unlock(ctx);
	return rc;
}

int uiommu_unit_enable(struct uiommu_unit *u)
{
	const struct uiommu_family_ops *ops;
	int rc;

	if (!u)
		return -EINVAL;
	ops = uiommu_family_ops_get(u->family);
	if (!ops || !ops->unit_enable)
		return -EOPNOTSUPP;
	ctx_lock(u->ctx);
	rc = ops->unit_enable(u);
	ctx_unlock(u->ctx);
	return rc;
}

int uiommu_unit_remove(struct uiommu_unit *u)
{
	struct uiommu_ctx *ctx;
	const struct uiommu_family_ops *ops;

	if (!u)
		return -EINVAL;
	ctx = u->ctx;
	ctx_lock(ctx);
	if (u->nr_devices || u->nr_installs) {
		ctx_unlock(ctx);
		return -EBUSY;
	}
	ops = uiommu_family_ops_get(u->family);
	ops->unit_fini(u);
	unit_local_forget(u->slot);
	model_destroy(u);
	uobj_unpublish(ctx, &u->obj);
	ctx->nr_units--;
	ctx->units_gen++;
	uiommu_local_units_gen = ctx->units_gen;
	uenv_free(u->resv);
	uenv_free(u->did_map);
	uenv_free(u->did_quar);
	uenv_free(u->evring);
	uenv_free(u->evhist);
	uenv_free(u);
	ctx_unlock(ctx);
	return 0;
}

void uiommu_unit_get_caps(const struct uiommu_unit *u, struct uiommu_unit_caps *caps)
{
	if (u && caps)
		*caps = u->caps;
}

uint32_t uiommu_unit_id(const struct uiommu_unit *u)
{
	return u ? u->obj.id : 0;
}

int uiommu_unit_add_resv(struct uiommu_unit *u, int32_t rid, uint64_t start, uint64_t last,
			 enum uiommu_resv_kind kind)
{
	int rc;

	if (!u)
		return -EINVAL;
	ctx_lock(u->ctx);
	/* Attached devices would not see a new region: refuse while in use. */
	rc = u->nr_installs ? -EBUSY : unit_add_resv_locked(u, rid, start, last, kind);
	ctx_unlock(u->ctx);
	return rc;
}

uint32_t uiommu_unit_resv_regions(const struct uiommu_unit *u, struct uiommu_resv_region *out,
				  uint32_t max)
{
	if (!u)
		return 0;
	for (uint32_t i = 0; i < u->nr_resv && i < max; i++)
		out[i] = u->resv[i].r;
	return u->nr_resv;
}

struct uiommu_unit *uiommu_unit_get(struct uiommu_ctx *ctx, uint32_t id)
{
	return uobj_lookup(ctx, id, UOBJ_UNIT);
}

struct uiommu_unit *uiommu_unit_next(struct uiommu_ctx *ctx, struct uiommu_unit *prev)
{
	return uobj_next(ctx, UOBJ_UNIT, prev);
}

int uiommu_unit_hw_info(const struct uiommu_unit *u, struct uiommu_hw_info *info)
{
	if (!u || !info)
		return -EINVAL;
	*info = u->hw_info;
	info->family = u->family;
	return 0;
}

int uiommu_unit_peek(const struct uiommu_unit_desc *desc, struct uiommu_unit_peek *out)
{
	const struct uiommu_family_ops *ops;
	struct uiommu_regio r;
	int rc;

	if (!desc || !out)
		return -EINVAL;
	if (desc->flags & ~UIOMMU_UNIT_F_REG_FD)
		return -EOPNOTSUPP;
	ops = uiommu_family_ops_get(desc->family);
	if (!ops || !ops->peek || desc->access != UIOMMU_UNIT_MMIO)
		return -EOPNOTSUPP;
	rc = desc_check(ops, desc);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->info.family = desc->family;
	/* Read-only, quiet, no /proc/iomem check: looking is always allowed
	 * where the mapping is. */
	rc = uenv_regio_map(&(struct uenv_regsrc){.base = desc->reg_base,
						  .path = desc->uio_path,
						  .fd = (desc->flags & UIOMMU_UNIT_F_REG_FD) ? desc->reg_fd
											    : -1,
						  .fd_offset = desc->reg_fd_offset,
						  .what = ops->regs.what},
			    ops->regs.size, false, &r);
	if (rc)
		return rc;
	rc = ops->peek(&r, out);
	uenv_regio_unmap(&r);
	return rc;
}

int uiommu_hw_info_decode(const struct uiommu_hw_info *info, uiommu_reg_cb cb, void *arg)
{
	const struct uiommu_family_ops *ops;

	if (!info || !cb)
		return -EINVAL;
	ops = uiommu_family_ops_get(info->family);
	if (!ops || !ops->decode_regs)
		return -EOPNOTSUPP;
	ops->decode_regs(info, NULL, cb, arg);
	return 0;
}

int uiommu_unit_peek_decode(const struct uiommu_unit_peek *pk, uiommu_reg_cb cb, void *arg)
{
	const struct uiommu_family_ops *ops;

	if (!pk || !cb)
		return -EINVAL;
	ops = uiommu_family_ops_get(pk->info.family);
	if (!ops || !ops->decode_regs)
		return -EOPNOTSUPP;
	ops->decode_regs(&pk->info, &pk->status, cb, arg);
	return 0;
}
