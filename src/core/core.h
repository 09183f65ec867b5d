/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Core object model: the structures behind the public handles.
 *
 * Every object lives in the arena (uenv_zalloc) and embeds a struct
 * uobj header.  Plain pointers between objects are fine because the arena
 * is mapped at one address in every process (see env.h).  Nothing
 * process-local is stored in an object: a unit's register access lives in
 * a per-process table indexed by the unit's slot (unit_regs), bound when a
 * process first takes the lock after the set of units changed.
 *
 * Creation: allocate -> initialise -> publish in the context's lists; on
 * failure unwind in reverse through labels named for what they undo.
 *
 * Lock order: ctx->lock -> arena lock (env) -> model locks.  ctx->lock is
 * the one lock of the object model: every public call that reads or
 * changes state takes it, in any number of processes at once; it nests
 * within a thread (uiommu_ctx_lock holds it across calls).
 */
#ifndef UIOMMU_CORE_H
#define UIOMMU_CORE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "uiommu/uiommu.h"
#include "env/env.h"
#include "core/family.h"
#include "core/iopt.h"
#include "core/list.h"
#include "core/regs.h"
#include "pgtable/pgtable.h"

#define UIOMMU_MAX_UNITS	 64
#define UIOMMU_HWPT_MAX_INSTALLS 8 /* units one HWPT can be installed on */

enum uobj_type {
	UOBJ_UNIT = 1,
	UOBJ_DEVICE,
	UOBJ_IOAS,
	UOBJ_HWPT,
	UOBJ_VIOMMU,
};

struct uobj {
	uint32_t id;
	uint32_t type;
	struct list_node ctx_link; /* ctx->objs[type] */
	struct list_node id_link;  /* hash bucket */
};

/* The root of all state; ctx lives in the arena (uenv_root_slot). */
struct uiommu_ctx {
	uint64_t magic;
#define UIOMMU_CTX_MAGIC 0x75696f6d6d753031ULL /* "uiommu01" */
	uenv_lock_t lock;
	uint32_t next_id;
	uint32_t nr_units;
	struct list_head objs[UOBJ_VIOMMU + 1];
#define UOBJ_HASH 256
	struct list_head id_hash[UOBJ_HASH];
	uint32_t corrupt;    /* found inconsistent after a crash: adoption refused */
	uint64_t units_gen;  /* bumped when a unit comes or goes */
	uint64_t bind_next;  /* hands out unit bind generations */
	struct ctx_ext *ext; /* tool state: DMA buffers, object names (buf.c, introspect.c) */
};

/* A HWPT installed on one unit under one domain ID. */
struct hwpt_install {
	struct uiommu_unit *unit;
	uint32_t did;
	uint32_t users; /* RID/PASID attachments through this unit */
};

struct uiommu_unit {
	struct uobj obj;
	struct uiommu_ctx *ctx;
	enum uiommu_family family;
	enum uiommu_unit_access access;
	uint64_t reg_base;
	uint16_t segment;
	int numa_node;
	struct uiommu_unit_caps caps;
	struct uiommu_hw_info hw_info;
	uint32_t slot;	   /* index of its register access in unit_local[] */
	uint64_t bind_gen; /* unique per unit: a process re-binds when it differs */
	void *priv;	   /* family driver state (arena) */
	/* Where its registers are (unit_regs_map maps them in each process). */
	uint64_t reg_size;   /* desc->reg_size: the firmware's window (0: unknown) */
	uint64_t reg_window; /* bytes the family asked for (0: none yet) */
	char reg_path[108];  /* desc->uio_path: UIO device or resource file ("": /dev/mem) */
	bool reg_fd;	     /* through a file descriptor of the process that added it */
	uint64_t reg_fd_offset;
	bool force;	     /* desc->force: taken over although in use */
	void *model;	     /* access == UIOMMU_UNIT_MODEL: the model instance (arena) */
	struct unit_evring *evring; /* events from the driver itself, for uiommu_poll */
	/* Domain IDs: bitmap of IDs in use (bit set = used). */
	uint64_t *did_map;
	uint32_t did_words;
	uint32_t did_min; /* lowest usable ID (VT-d reserves 0 when CM) */
	/* Firmware-reserved regions. */
	struct unit_resv {
		int32_t rid; /* -1: every device of the unit */
		struct uiommu_resv_region r;
	} * resv;
	uint32_t nr_resv;
	uint32_t nr_devices;
	uint32_t nr_installs; /* HWPT installations and vIOMMUs using it */
	bool flush_on_map;    /* hardware caches not-present entries (VT-d CAP.CM) */
	uint32_t id_did;      /* domain ID shared by identity (pass-through) attachments */
	uint32_t id_users;
	struct unit_evhist *evhist; /* every event uiommu_poll handed out, for any reader
				     * (NULL in a state made before: made at the first event) */
	/* Domain-ID quarantine (unit_did_release): IDs whose last flush
	 * failed, still set in did_map, not handed out until a unit-wide
	 * invalidation succeeds (bit set = quarantined; NULL: none yet). */
	uint64_t *did_quar;
	uint32_t nr_quar;
	/* A flush or an entry update on the unit was not confirmed (failed,
	 * timed out): the unit may still cache what the core believes gone.
	 * The next unit_flush or unit_did_alloc first invalidates everything
	 * (unit_inv_stale_recover). */
	bool inv_stale;
};

/* One RID or PASID attachment of a device. */
struct dev_attach {
	struct list_node link;	    /* dev->attaches */
	struct list_node hwpt_link; /* hwpt->attaches */
	uint32_t pasid;		    /* UIOMMU_NO_PASID for the RID */
	struct uiommu_hwpt *hwpt;
	struct uiommu_ioas *ioas; /* when attached through an IOAS */
};

struct uiommu_device {
	struct uobj obj;
	struct uiommu_unit *unit;
	struct uiommu_device_desc desc;
	struct list_head attaches; /* struct dev_attach */
	void *priv;		   /* family per-device state (PASID dir, CD table, ...) */
};

struct uiommu_ioas {
	struct uobj obj;
	struct uiommu_ctx *ctx;
	struct iopt iopt;
	struct list_head hwpts; /* paging HWPTs following this IOAS */
	uint32_t nr_hwpts;
	uint32_t users; /* attachments made through this IOAS */
};

struct uiommu_hwpt {
	struct uobj obj;
	struct uiommu_ctx *ctx;
	uint32_t flags; /* UIOMMU_HWPT_* */
	bool nested;
	/* Paging: */
	struct uiommu_ioas *ioas;
	struct list_node ioas_link;
	struct pgt *pgt;
	struct pgt_cfg cfg;
	/* Nested: */
	struct uiommu_hwpt *parent;
	struct uiommu_viommu *viommu;
	struct list_node child_link; /* parent->child_list */
	struct uiommu_hwpt_s1_data s1;
	/* Nest parent: its nested HWPTs and the vIOMMUs over it (a stage-2
	 * change is flushed under each child's and each vIOMMU's ID). */
	struct list_head child_list;  /* struct uiommu_hwpt, child_link */
	struct list_head viommu_list; /* struct uiommu_viommu, parent_link */
	uint32_t children;
	/* Installations (one table, several IDs). */
	struct hwpt_install inst[UIOMMU_HWPT_MAX_INSTALLS];
	uint32_t nr_inst;
	struct list_head attaches; /* struct dev_attach */
	uint32_t users;		   /* attachments */
	uint32_t viommus;	   /* vIOMMUs over this nest parent */
	bool auto_created;	   /* made by an attach to an IOAS: dies with its last user */
	bool flush_on_map;	   /* some unit it is installed on caches not-present entries */
};

struct uiommu_viommu {
	struct uobj obj;
	struct uiommu_ctx *ctx;
	struct uiommu_unit *unit;
	struct uiommu_hwpt *parent;
	struct list_node parent_link; /* parent->viommu_list */
	uint32_t vmid; /* its own domain ID on @unit: the parent's stage 2 under this VM */
	uint32_t children;
};

/* ---- helpers shared by the core files ---- */
void uobj_publish(struct uiommu_ctx *ctx, struct uobj *o, enum uobj_type type);
void uobj_unpublish(struct uiommu_ctx *ctx, struct uobj *o);
void *uobj_lookup(struct uiommu_ctx *ctx, uint32_t id, enum uobj_type type);
void *uobj_next(struct uiommu_ctx *ctx, enum uobj_type type, void *prev);

int unit_did_alloc(struct uiommu_unit *u, uint32_t *did);
void unit_did_free(struct uiommu_unit *u, uint32_t did);

/* Table memory for pgt: uenv pages, a provider shared by processes. */
#define UIOMMU_PGT_MEM_ID 1u
extern const struct pgt_mem_ops uiommu_pgt_mem;
/* Register uiommu_pgt_mem in this process (at context create/adopt). */
void uiommu_pgt_mem_register(void);

/* HWPT <-> IOAS plumbing (hwpt.c). */
int hwpt_paging_create(struct uiommu_ioas *ioas, struct uiommu_unit *unit, uint32_t flags,
		       struct uiommu_hwpt **out);
void hwpt_paging_release(struct uiommu_hwpt *h);
int hwpt_install_get(struct uiommu_hwpt *h, struct uiommu_unit *u, struct hwpt_install **out);
void hwpt_install_put(struct uiommu_hwpt *h, struct uiommu_unit *u);
/* The parts of a stage-1 description the public header defines: 0,
 * -EOPNOTSUPP (unknown flag bits) or -EINVAL. */
int hwpt_s1_data_check(const struct uiommu_hwpt_s1_data *d);
/* Page-table protection for an area's IOPT_READ/IOPT_WRITE. */
static inline uint32_t hwpt_area_prot(const struct iopt_area *a)
{
	return PGT_PROT_CACHE | (a->prot & IOPT_READ ? PGT_PROT_READ : 0) |
	       (a->prot & IOPT_WRITE ? PGT_PROT_WRITE : 0);
}

/* ---- flushes, and what the core does when one fails ----
 *
 * Every flush the core issues goes through unit_flush.  When one fails
 * (or an entry update is not confirmed: unit_hw_result), the unit is
 * marked inv_stale and the next unit_flush or unit_did_alloc on it first
 * invalidates everything through the family's unit_recover (queues
 * restarted, every cache invalidated: VT-d global context / PASID / IOTLB
 * invalidation, SMMUv3 CFGI_ALL + TLBI_*_ALL, AMD-Vi INVALIDATE_ALL);
 * its success also releases the quarantined domain IDs. */
/* 0 when the unit is clean again (or was). */
int unit_inv_stale_recover(struct uiommu_unit *u);
static inline int unit_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	int rc;

	if (__builtin_expect(u->inv_stale, 0))
		(void)unit_inv_stale_recover(u);
	rc = uiommu_family_ops_get(u->family)->flush(u, f, n);
	if (__builtin_expect(rc != 0, 0))
		u->inv_stale = true;
	return rc;
}
/* @rc of a family hook that writes entries the unit caches and waits for
 * their invalidation: a time-out or a queue error leaves the unit stale. */
static inline int unit_hw_result(struct uiommu_unit *u, int rc)
{
	if (__builtin_expect(rc == -ETIMEDOUT || rc == -EIO, 0))
		u->inv_stale = true;
	return rc;
}

/* After invalidation (or when none was needed): free what @g collected
 * and clear it. */
static inline void hwpt_gather_done(struct uiommu_hwpt *h, struct pgt_gather *g)
{
	if (pgt_gather_has_pages(g))
		pgt_gather_release(h->pgt, g);
	memset(g, 0, sizeof(*g));
}
/* hwpt_flush_gather when @h has several installations, vIOMMUs or nested
 * children: per unit, one family call per HWPT_FLUSH_CHUNK domain IDs
 * (no limit on how many). */
int hwpt_flush_general(struct uiommu_hwpt *h, struct pgt_gather *g);
#define HWPT_FLUSH_CHUNK 32

/* Invalidate what @g touched on every unit that walks @h (its own domain
 * IDs, the VMID of every vIOMMU over it, and every nested child's ID:
 * their cached translations include @h's stage 2); then free the table
 * pages @g collected.  Inline: the common case (one unit, no nesting) is
 * one family call on the unmap path. */
static inline int hwpt_flush_gather(struct uiommu_hwpt *h, struct pgt_gather *g)
{
	if (g->end <= g->start && !pgt_gather_has_pages(g))
		return 0;
	if (h->nr_inst != 1 || (h->children | h->viommus))
		return hwpt_flush_general(h, g);

	struct uiommu_unit *u = h->inst[0].unit;
	struct fam_flush f = {
		.did = h->inst[0].did,
		.iova = g->start,
		.size = g->end - g->start,
		.pgsize = g->pgsize ? g->pgsize : UENV_PAGE_SIZE,
		.leaf_only = !g->tables_freed,
		.fmt = h->cfg.fmt,
	};
	int rc = unit_flush(u, &f, 1);

	hwpt_gather_done(h, g);
	return rc;
}

/* hwpt_flush_gather for what pgt_unmap_page cleared: one 4 KiB leaf
 * entry at @iova, no table to release. */
static inline int hwpt_flush_page(struct uiommu_hwpt *h, uint64_t iova)
{
	if (h->nr_inst != 1 || (h->children | h->viommus)) {
		struct pgt_gather g = {
			.start = iova, .end = iova + UENV_PAGE_SIZE, .pgsize = UENV_PAGE_SIZE};

		return hwpt_flush_general(h, &g);
	}

	struct fam_flush f = {
		.did = h->inst[0].did,
		.iova = iova,
		.size = UENV_PAGE_SIZE,
		.pgsize = UENV_PAGE_SIZE,
		.leaf_only = true,
		.fmt = h->cfg.fmt,
	};

	return unit_flush(h->inst[0].unit, &f, 1);
}

/* ---- the unit's event ring ----
 *
 * Events a driver produces itself, outside the hardware's own fault /
 * event / page-request queues (which its poll hook reads): queue errors it
 * recovered from, time-outs.  One ring per unit, in the arena, living and
 * dying with the unit; uiommu_poll hands its events out first (in the
 * order pushed), then a UIOMMU_EV_OVERFLOW event counting what was pushed
 * while it was full, then the family's poll.  The ring keeps each event's
 * text itself (a pointer to a string is process-local): the process that
 * polls gets its own copy in reason_text. */
#define UNIT_EVRING_SIZE 64u
#define UNIT_EV_TEXT	 64u
struct unit_ev {
	struct uiommu_event ev; /* reason_text NULL */
	char text[UNIT_EV_TEXT];
};
struct unit_evring {
	uint32_t head; /* oldest */
	uint32_t n;
	uint64_t lost; /* pushed while full, not yet reported */
	struct unit_ev e[UNIT_EVRING_SIZE];
};
/* Queue @ev (its reason_text copied, at most UNIT_EV_TEXT - 1 bytes) for
 * uiommu_poll; counted as lost when the ring is full.  Context lock held. */
void unit_event_push(struct uiommu_unit *u, const struct uiommu_event *ev);
/* uiommu_poll: up to @max of the ring's events, then the overflow event. */
uint16_t unit_events_drain(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max);

/* ---- the unit's event history ----
 *
 * Every event uiommu_poll hands out for the unit (decoded from the
 * hardware's queues or pushed by the driver) is also appended here with
 * its sequence number (1, 2, ...; 64 bits: never wraps), so that any
 * process reading the shared state sees it, whoever drained it
 * (uiommu_events_read: each reader keeps its own cursor).  A bounded
 * ring: the record of event S is in slot S % UNIT_EVHIST_SIZE; a reader
 * that fell more than the ring behind gets one UIOMMU_EV_LOST record.
 *
 * Written under the context lock; crash-safe by write order: the slot's
 * seq is cleared first, then the record is written, then seq is set to
 * S, and only then is @next moved past S.  A writer killed in between
 * leaves either a slot with seq 0 (the older event it held is counted as
 * lost) or a slot whose seq is @next (not yet published: overwritten by
 * the next append).  Readers validate every record (seq, type, text). */
#define UNIT_EVHIST_SIZE 256u /* power of two */
struct unit_hist_rec {
	uint64_t seq; /* the event's sequence number; 0: empty or being written */
	uint64_t addr, addr2, count;
	uint32_t type, dev_id, hw_id, pasid, flags, reason, grpid;
	uint16_t segment, rsvd;
	char text[UNIT_EV_TEXT]; /* reason text, NUL-terminated */
};
struct unit_evhist {
	uint32_t size; /* UNIT_EVHIST_SIZE (checked by readers) */
	uint32_t rsvd;
	uint64_t next; /* the sequence number the next event gets (>= 1) */
	struct unit_hist_rec r[UNIT_EVHIST_SIZE];
};
/* Append @n events handed out for @u (unit_id filled in).  Lock held. */
void unit_evhist_append(struct uiommu_unit *u, const struct uiommu_event *ev, uint16_t n);
/* Is record @r of a history whose next sequence is @next well-formed for
 * slot @slot (seq in the ring's window, type known, text terminated)?
 * Empty slots (seq 0) are well-formed.  Readers and the checker use it. */
bool unit_hist_rec_ok(const struct unit_hist_rec *r, uint32_t slot, uint64_t next);

/* ---- domain-ID release and quarantine ----
 *
 * unit_did_release(u, did, flush_rc): an ID whose flush failed (@flush_rc
 * != 0) may still tag entries the unit caches; the next owner of the ID
 * would hit them.  Such an ID is quarantined: it stays set in did_map
 * (not reallocated) until a unit-wide invalidation succeeds on the unit:
 * a successful unit_recover, the core's after a rollback or the one the
 * next unit_flush / unit_did_alloc issues first (the failed flush left
 * the unit inv_stale).  Then every quarantined ID of the unit is free.  The state checker
 * counts quarantined IDs as neither free nor owned (no leak). */
void unit_did_release(struct uiommu_unit *u, uint32_t did, int flush_rc);
/* A unit-wide invalidation succeeded: free every quarantined ID. */
void unit_quarantine_clear(struct uiommu_unit *u);

/* ---- process-local register access, per unit slot ---- */
struct unit_local {
	uint64_t bind_gen; /* the unit bound here (0: none) */
	struct uiommu_regio regs;
	bool has_fd; /* the unit's registers are reached through @reg_fd (REG_FD) */
	int reg_fd;  /* the descriptor it was added with (the caller's) */
};
extern struct unit_local uiommu_unit_local[UIOMMU_MAX_UNITS];
static inline struct uiommu_regio *unit_regs(const struct uiommu_unit *u)
{
	return &uiommu_unit_local[u->slot & (UIOMMU_MAX_UNITS - 1)].regs;
}
/* Register access that answers all-ones and drops writes: what a unit this
 * process could not bind reads as (its polls then time out cleanly). */
void unit_regs_set_dead(struct uiommu_regio *r);
/*
 * For the family's unit_init: give this process at least @size bytes of
 * the unit's registers in unit_regs(u) (asking again with a larger size
 * grows the window).  An MMIO unit's window is mapped by the env layer
 * from what the description named (/dev/mem at reg_base after the
 * /proc/iomem check, a UIO device or resource file), at least the
 * firmware's reg_size; a model unit's is the family's built-in model,
 * created on the first call.  The core maps the same window in every
 * process that adopts the state, before the family's unit_adopt.
 * 0, -EBUSY (claimed by the kernel), -EPERM, -EINVAL, -ENODEV, -ENOMEM,
 * -EOPNOTSUPP (no model of the family built in).
 */
int unit_regs_map(struct uiommu_unit *u, uint64_t size);
/* Bind/release this process's access to @u's registers (unit.c);
 * unit_local_forget also drops what the slot knew of the unit (its
 * REG_FD descriptor): the unit is gone. */
int unit_local_bind(struct uiommu_unit *u);
void unit_local_release(uint32_t slot);
void unit_local_forget(uint32_t slot);

/* ---- the state lock ---- */
/* Per thread: how deep this thread holds ctx->lock (it nests). */
extern __thread unsigned int uiommu_lock_depth __attribute__((tls_model("initial-exec")));
/* Process-local: the units_gen this process's bindings match. */
extern uint64_t uiommu_local_units_gen;
/* After taking the lock: re-bind units (@recovered: the last holder died
 * holding it). */
void ctx_lock_slow(struct uiommu_ctx *c, int recovered);

/* A transaction around one multi-step call when none is open (ctx.c). */
bool ctx_txn_auto_begin(struct uiommu_ctx *ctx);
void ctx_txn_auto_end(struct uiommu_ctx *ctx, bool began);
/* Calls that change more than this much at once run in one. */
#define CTX_TXN_AUTO_BYTES (2ull << 20)

static inline void ctx_lock(struct uiommu_ctx *c)
{
	if (uiommu_lock_depth++)
		return;
	int r = uenv_lock(&c->lock);
	uenv_sync(); /* shared state: map what another process added */
	if (__builtin_expect(r != 0 || c->units_gen != uiommu_local_units_gen, 0))
		ctx_lock_slow(c, r);
}
static inline void ctx_unlock(struct uiommu_ctx *c)
{
	if (--uiommu_lock_depth == 0)
		uenv_unlock(&c->lock);
}

#endif
