/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi driver: private state shared by the driver's files.
 *
 *   amdvi_drv.c    take-over / give-back, adopt, recover, capabilities,
 *                  page-table configuration, the ops table
 *   amdvi_cmd.c    command builders (pure) and the command buffer: one
 *                  COMPLETION_WAIT per batch, bounded wait, recovery
 *   amdvi_dte.c    device table entries: attach, flush, page responses
 *   amdvi_gcr3.c   our own v2 tables: a GCR3 table per device (PASIDs)
 *   amdvi_event.c  event log and PPR log: drained by uiommu_poll
 *   amdvi_peek.c   registers read without take-over, their decoding
 *
 * Everything here lives in the arena and holds nothing process-local; the
 * registers are the core's window (unit_regs).  Every hook runs under the
 * context lock.
 */
#ifndef UIOMMU_AMDVI_INTERNAL_H
#define UIOMMU_AMDVI_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bitfield.h"
#include "core/core.h"
#include "core/list.h"
#include "core/regs.h"
#include "env/env.h"
#include "hw/amdvi/amdvi_regs.h"

#define AMDVI_LOG(lvl, fmt, ...) UENV_LOG(AMDVI, lvl, fmt, ##__VA_ARGS__)

#define AMDVI_TIMEOUT_NS    (1000ull * 1000 * 1000) /* command wait, register polls */
#define AMDVI_CMD_LEN	    8u			    /* log2 entries: 256 commands, 4 KiB */
#define AMDVI_EVT_LEN	    8u			    /* 256 events */
#define AMDVI_PPRL_LEN	    8u			    /* 256 page requests */
#define AMDVI_BATCH	    64u			    /* commands gathered before a submit */
#define AMDVI_DOMID_BLOCKED 0u /* DomainID of blocked DTEs (never a core domain) */

/* The command buffer's size in bytes (amdvi_unit.cmd_bytes). */
#define AMDVI_CMD_BYTES (AMDVI_CMD_SIZE << AMDVI_CMD_LEN)

/* One PASID's entry of a device's GCR3 table (0: the RID, under GIoV). */
struct amdvi_pasid {
	struct list_node link; /* amdvi_gcr3.pasids */
	uint32_t pasid;
	uint32_t did; /* the v2 HWPT's domain ID on the unit (what flushes name) */
	uint64_t cr3; /* its root (the GCR3 entry's address) */
};

/* A device's GCR3 table (AMD IOMMU 2.2.6) over our own v2 tables: the
 * root table (level GLX) and, with GLX 1, the level-0 tables made as
 * PASIDs need them.  The DTE's DomainID is the table's own (@did, from
 * unit_did_alloc): guest translations are cached by DomainID and PASID,
 * and two devices' PASID n may point at different tables. */
struct amdvi_gcr3 {
	struct uenv_dma root;
	struct uenv_dma *l0; /* GLX 1: 512 slots (va NULL: none); GLX 0: NULL */
	unsigned int glx;
	uint32_t did;
	uint32_t n;		/* entries in @pasids */
	struct list_head pasids; /* struct amdvi_pasid */
};

/* Per-device state (uiommu_device.priv). */
struct amdvi_dev {
	struct list_node link; /* amdvi_unit.devs */
	struct uiommu_device *dev;
	uint16_t devid; /* the DeviceID on the unit (desc.hw_id) */
	uint16_t rid;	/* bus << 8 | devfn */
	bool alias;	/* devid != rid: both DTEs are programmed */
	bool ats, pri;
	bool translating; /* the DTE is V, TV, Mode > 0 or IR/IW */
	bool nested;	  /* the DTE carries a guest GCR3 table (GV) */
	uint32_t did;	  /* DomainID in the DTE */
	uint32_t vmid;	  /* nested: the vIOMMU's ID on the unit (fam_attach.s2_did) */
	/* What the RID is attached to (the DTE is built from this and the
	 * GCR3 table): kind, and for PAGING / IDENTITY the host part. */
	uint8_t rid_kind; /* enum fam_attach_kind */
	bool rid_v2;	  /* PAGING with our own v2 table: GCR3[0] under GIoV */
	uint32_t rid_did; /* the RID attachment's domain ID (v1, identity) */
	uint64_t rid_d0;  /* v1 / identity / nested: Mode, root, IR/IW (GV...) of word 0 */
	uint64_t rid_d1;  /* nested: the guest GCR3 root's bits in word 1 */
	struct amdvi_gcr3 *g; /* NULL: no v2 table of ours is in use */
};

struct amdvi_stats {
	uint64_t cmds;	     /* commands submitted (waits included) */
	uint64_t waits;	     /* COMPLETION_WAITs */
	uint64_t inv_dte;    /* INVALIDATE_DEVTAB_ENTRY */
	uint64_t inv_pages;  /* INVALIDATE_IOMMU_PAGES */
	uint64_t inv_all;    /* INVALIDATE_IOMMU_ALL */
	uint64_t inv_iotlb;  /* INVALIDATE_IOTLB_PAGES */
	uint64_t ppr_done;   /* COMPLETE_PPR_REQUEST */
	uint64_t cmd_errors; /* the buffer stopped (ILLEGAL_COMMAND, hardware error): recovered */
	uint64_t timeouts;   /* waits that timed out: recovered */
	uint64_t events;     /* event log entries read */
	uint64_t page_reqs;  /* PPR log entries read */
	uint64_t overflows;  /* EventOverflow / PPROverflow: log restarted */
};

struct amdvi_unit {
	struct uiommu_unit *u;
	uint64_t efr, efr2;
	unsigned int max_levels; /* 4 + EFR.HATS */
	unsigned int levels;	 /* of new tables */
	bool ppr;		 /* PPR log in use */
	bool gt;		 /* guest translation (EFR.GTSup): nested HWPTs, Control.GTEn */
	bool v2;		 /* our own v2 tables and PASIDs (GTSup and GIoSup) */
	unsigned int pasid_bits; /* PASIDs of our GCR3 tables (EFR.PASMax, GLX) */
	unsigned int glx_max;	 /* largest DTE.GLX (EFR.GLXSup, at most AMDVI_GLX_MAX) */
	struct uenv_dma devtab;	 /* nr_dte DTEs */
	uint32_t nr_dte;	 /* 65536, or fewer when 2 MiB was not contiguous */
	struct uenv_dma cmd;
	uint32_t cmd_bytes;
	uint32_t cmd_tail; /* byte offset of the next free slot */
	struct uenv_dma evt;
	uint32_t evt_bytes;
	struct uenv_dma pprl;
	uint32_t ppr_bytes;
	struct uenv_dma sem; /* COMPLETION_WAIT store target (8 bytes) */
	uint64_t wait_seq;
	uint64_t cw_w0;	       /* word 0 of every COMPLETION_WAIT: amdvi_cw_w0(sem.iova) */
	struct list_head devs; /* struct amdvi_dev */
	uint32_t n_ats;	       /* devices in @devs with ATS (amdvi_dev.ats) */
	struct {
		uint64_t control, devtab, cmdbuf, evtlog, pprlog, excl_base, excl_limit;
		uint64_t cmd_head, cmd_tail, evt_head, evt_tail, ppr_head, ppr_tail;
	} saved;
	uint64_t timeout_ns;
	/* A global invalidation failed (a recovery's own, or unit_recover's):
	 * the unit's caches may hold what memory no longer says.  Every DTE
	 * is blocked, no command is issued, every change but a detach is
	 * refused (-EIO) until the unit is removed and added again. */
	bool failed;
	/* UIOMMU_UNIT_F_DEFER_ENABLE: IommuEn off, command buffer and logs
	 * not started (QEMU runs them only with IommuEn); DTEs are written,
	 * no command is issued (nothing is cached while off) until
	 * amdvi_unit_enable. */
	bool deferred;
	struct amdvi_stats stats;
};

static inline struct amdvi_unit *amdvi_of(const struct uiommu_unit *u)
{
	return (struct amdvi_unit *)u->priv;
}

static inline const struct uiommu_regio *amdvi_rio(const struct amdvi_unit *au)
{
	return unit_regs(au->u);
}

/* The ops table (amdvi_drv.c). */
extern const struct uiommu_family_ops amdvi_family_ops;

/* ---- amdvi_cmd.c ---- */
struct amdvi_cmd {
	uint64_t w[2];
};
/* Builders (pure). */
void amdvi_cmd_completion_wait(struct amdvi_cmd *c, uint64_t addr, uint64_t data);
void amdvi_cmd_inv_dte(struct amdvi_cmd *c, uint16_t devid);
/* Range [iova, iova + size) rounded out to one naturally aligned
 * power-of-two block (size 0, or a block beyond 2^51 pages: everything). */
void amdvi_cmd_inv_pages(struct amdvi_cmd *c, uint16_t domid, uint64_t iova, uint64_t size,
			 bool pde);
void amdvi_cmd_inv_iotlb(struct amdvi_cmd *c, uint16_t devid, uint64_t iova, uint64_t size);
/* The guest (v2) translations of @pasid only: GN set, the PASID added. */
void amdvi_cmd_inv_pages_pasid(struct amdvi_cmd *c, uint16_t domid, uint32_t pasid, uint64_t iova,
			       uint64_t size, bool pde);
void amdvi_cmd_inv_iotlb_pasid(struct amdvi_cmd *c, uint16_t devid, uint32_t pasid, uint64_t iova,
			       uint64_t size);
void amdvi_cmd_inv_all(struct amdvi_cmd *c);
void amdvi_cmd_complete_ppr(struct amdvi_cmd *c, uint16_t devid, uint32_t pasid, uint16_t tag,
			    unsigned int status);

/* A batch: commands gathered, submitted with one COMPLETION_WAIT. */
struct amdvi_batch {
	struct amdvi_unit *au;
	uint32_t n;
	int err;
	struct amdvi_cmd c[AMDVI_BATCH];
};
void amdvi_batch_init(struct amdvi_batch *b, struct amdvi_unit *au);
void amdvi_batch_add(struct amdvi_batch *b, const struct amdvi_cmd *c);
/* Submit what is gathered with one wait: 0, -EIO (the buffer stopped:
 * recovered with a global invalidation), -ETIMEDOUT (recovered). */
int amdvi_batch_sync(struct amdvi_batch *b);
/* Everything the unit caches goes: INVALIDATE_IOMMU_ALL, or without
 * EFR.IASup every DTE and every DomainID one by one. */
void amdvi_batch_inv_everything(struct amdvi_batch *b);
/* Command buffer: program the base, head = tail = 0, enable. */
int amdvi_cmd_start(struct amdvi_unit *au);
void amdvi_cmd_stop(struct amdvi_unit *au);

/* ---- the command buffer's fast path (inline: the strict unmap's flush) ---- */

/* Word 0 of a COMPLETION_WAIT that stores to @sem_iova (2.4.1: S, the
 * address in bits 51:3); the unit keeps it in amdvi_unit.cw_w0. */
static inline uint64_t amdvi_cw_w0(uint64_t sem_iova)
{
	return FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_COMPLETION_WAIT) | (sem_iova & AMDVI_CW_ADDR) |
	       AMDVI_CW_S;
}

/* The range of more than one page, or none (amdvi_inv_range). */
uint64_t amdvi_inv_range_block(uint64_t iova, uint64_t size);
/* Word 1's address and S of a range invalidation (2.4.3) for [iova,
 * iova + size): one page is its address with S = 0 (the test is
 * 1 <= size <= what is left of iova's page, so size 0 and wrapping
 * ranges are not one page); anything else is rounded out to one
 * naturally aligned power-of-two block (amdvi_inv_range_block). */
static inline uint64_t amdvi_inv_range(uint64_t iova, uint64_t size)
{
	if (size - 1 < 4096u - (iova & 4095u))
		return iova & AMDVI_INV_ADDR;
	return amdvi_inv_range_block(iova, size);
}

/* The wait after the tail write once its first look at the store came
 * back empty (amdvi_cmd.c, out of line): polled, bounded by timeout_ns;
 * a stopped buffer (-EIO) or a time-out (-ETIMEDOUT) is recovered
 * (buffer restarted, everything invalidated, a queue-error event; the
 * unit fails when that fails too), unless @recovering (the recovery's
 * own wait: only logged). */
int amdvi_cmd_wait(struct amdvi_unit *au, uint64_t seq, bool recovering);

/* Ring the tail (the commands before it are in the buffer), look once
 * for the COMPLETION_WAIT's store of @seq; the rest out of line. */
static inline int amdvi_cmd_ring(struct amdvi_unit *au, uint64_t seq, bool recovering)
{
	volatile uint64_t *sem = au->sem.va;

	reg_write64(amdvi_rio(au), AMDVI_REG_CMD_TAIL, au->cmd_tail);
	if (__builtin_expect(__atomic_load_n(sem, __ATOMIC_ACQUIRE) == seq, 1))
		return 0;
	return amdvi_cmd_wait(au, seq, recovering);
}

/* One command (@w0, @w1) and its COMPLETION_WAIT written straight into
 * the buffer, rung and waited for: what amdvi_batch_sync of a
 * one-command batch does, without the batch (the strict unmap's flush).
 * The buffer is empty when a submit starts (the previous one was waited
 * for), so two slots are free; the second may be slot 0 (the ring
 * wraps).  Commands are fetched with snooping: no cache cleaning. */
static inline int amdvi_cmd_sync1(struct amdvi_unit *au, uint64_t w0, uint64_t w1)
{
	const uint32_t mask = AMDVI_CMD_BYTES - 1; /* cmd_bytes (state_check) */
	uint64_t *slot;
	uint64_t seq;
	uint32_t t;

	if (__builtin_expect(au->failed | au->deferred, 0))
		/* failed: nothing it would do could be trusted; deferred:
		 * translation off, nothing cached, enable invalidates all. */
		return au->failed ? -EIO : 0;
	seq = ++au->wait_seq;
	/* In the buffer and on a slot whatever the shared state says
	 * (state_check refuses such a tail on adopt; one AND here). */
	t = au->cmd_tail & (mask & ~(AMDVI_CMD_SIZE - 1));
	slot = (uint64_t *)((uint8_t *)au->cmd.va + t);
	slot[0] = w0;
	slot[1] = w1;
	t = (t + AMDVI_CMD_SIZE) & mask;
	slot = (uint64_t *)((uint8_t *)au->cmd.va + t);
	slot[0] = au->cw_w0;
	slot[1] = seq;
	au->cmd_tail = (t + AMDVI_CMD_SIZE) & mask;
	au->stats.cmds += 2;
	au->stats.waits++;
	return amdvi_cmd_ring(au, seq, false);
}

/* ---- amdvi_drv.c ---- */
/* The policy when a global invalidation fails (see amdvi_unit.failed). */
void amdvi_unit_fail(struct amdvi_unit *au, int rc);

/* ---- amdvi_dte.c ---- */
/* The device table: all 65536 DeviceIDs, or (@small: the user accepted
 * it, UIOMMU_AMDVI_F_SMALL_DEVTAB) as many as contiguous memory allows. */
int amdvi_devtab_init(struct amdvi_unit *au, bool small);
void amdvi_devtab_fini(struct amdvi_unit *au);
int amdvi_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev);
int amdvi_dev_release(struct uiommu_unit *u, struct uiommu_device *dev);
int amdvi_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		  const struct fam_attach *a);
int amdvi_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n);
int amdvi_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			   const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done);
int amdvi_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1);
int amdvi_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
			uint32_t grpid, enum uiommu_page_resp code);
int amdvi_dev_walk(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid, uint64_t iova,
		   struct uiommu_walk_level *out, int max);
/* Every device's DTE (and alias) blocked in memory, nothing issued. */
void amdvi_devtab_block_devices(struct amdvi_unit *au);
/* The DTE a blocked DeviceID has (V, TV, no IR/IW, Mode 0). */
void amdvi_dte_blocked(uint64_t d[AMDVI_DTE_WORDS]);

/* The DTE of a device as its state says (RID attachment, GCR3 table). */
int amdvi_dte_compose(struct amdvi_unit *au, const struct amdvi_dev *ad,
		      uint64_t d[AMDVI_DTE_WORDS]);
/* Write @d at the device's IDs, invalidate, wait (amdvi_dte.c). */
int amdvi_dte_install(struct amdvi_unit *au, struct amdvi_dev *ad, const uint64_t *d,
		      uint32_t old_did);
/* Is the DTE in memory the one @d describes? */
bool amdvi_dte_is(struct amdvi_unit *au, const struct amdvi_dev *ad, const uint64_t *d);

/* ---- amdvi_gcr3.c ---- */
/* What the RID was attached to before a change (amdvi_dev.rid_*), for
 * putting it back when the change's wait fails. */
struct amdvi_rid_state {
	uint8_t kind;
	bool v2;
	uint32_t did;
	uint64_t d0, d1;
};
/* Set (@cr3 != 0) or clear one GCR3 slot of @ad (pasid 0: the RID),
 * bringing the DTE along: all-or-nothing.  @old_rid: the RID's state
 * before the caller changed ad->rid_* (NULL: unchanged); when the change's
 * invalidation is not confirmed (-EIO / -ETIMEDOUT), the old entry, records
 * and RID state are put back, or the unit fails. */
int amdvi_gcr3_set(struct amdvi_unit *au, struct amdvi_dev *ad, uint32_t pasid, uint64_t cr3,
		   uint32_t did, const struct amdvi_rid_state *old_rid);
/* The device goes: its table and DomainID with it (DTE already blocked). */
void amdvi_gcr3_free(struct amdvi_unit *au, struct amdvi_dev *ad);
/* The flush of a v2 table (domain ID @f->did) on every device slot that
 * holds it. */
void amdvi_gcr3_flush(struct amdvi_unit *au, struct amdvi_batch *b, const struct fam_flush *f);
/* The flush of a v2 table (domain ID @did) in one command: true, with the
 * device's GCR3 DomainID and the PASID, when exactly one slot of one
 * device holds it and that device has no ATS (no INVALIDATE_IOTLB_PAGES
 * to add); false: none or several, or ATS (amdvi_gcr3_flush). */
bool amdvi_gcr3_sole(const struct amdvi_unit *au, uint32_t did, uint32_t *gdid, uint32_t *pasid);
/* The GCR3 entry of @pasid in memory (0: none), for walks and checks. */
uint64_t amdvi_gcr3_entry(const struct amdvi_gcr3 *g, uint32_t pasid);
/* The driver state of a device's table is consistent: 0 or -ESTALE. */
int amdvi_gcr3_check(const struct amdvi_unit *au, const struct amdvi_dev *ad);
uint32_t amdvi_dev_dids(const struct uiommu_unit *u, const struct uiommu_device *dev, uint32_t *out,
			uint32_t max);

/* ---- amdvi_event.c ---- */
int amdvi_logs_start(struct amdvi_unit *au);
void amdvi_logs_stop(struct amdvi_unit *au);
uint16_t amdvi_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max);
const char *amdvi_event_text(unsigned int code);

/* ---- amdvi_peek.c ---- */
int amdvi_peek(const struct uiommu_regio *r, struct uiommu_unit_peek *out);
void amdvi_decode_regs(const struct uiommu_hw_info *info, const uint64_t *status, uiommu_reg_cb cb,
		       void *arg);

#endif
