/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 driver internals: per-unit and per-device state (in the arena),
 * shared by smmu_drv.c (take-over, caps, ops table), smmu_ste.c (stream
 * table, CD tables, attach), smmu_cmdq.c (commands, invalidation) and
 * smmu_evtq.c (events).
 */
#ifndef UIOMMU_SMMU_INTERNAL_H
#define UIOMMU_SMMU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cachemaint.h"
#include "core/core.h"
#include "hw/smmuv3/smmu_regs.h"

#define SMMU_LOG(lvl, fmt, ...) UENV_LOG(SMMU, lvl, "smmuv3: " fmt, ##__VA_ARGS__)

/* Bounds the driver keeps whatever the hardware offers. */
#define SMMU_TIMEOUT_NS	     (100ull * 1000 * 1000) /* any handshake or CMD_SYNC */
#define SMMU_SID_BITS_MAX    20u		    /* stream table L1: at most 4096 descriptors */
#define SMMU_LINEAR_SID_MAX  12u		    /* linear stream table: at most 256 KiB */
#define SMMU_SPLIT	     8u	 /* 2-level: 256 STEs (16 KiB) per second-level table */
#define SMMU_L2_STRTAB_SIZE  ((size_t)SMMU_STE_SIZE << SMMU_SPLIT) /* and its alignment */
#define SMMU_SSID_BITS_MAX   16u /* CD tables: L1 of 1024 descriptors (8 KiB) */
#define SMMU_SSID_LINEAR_MAX 10u /* linear CD table: at most 64 KiB */
#define SMMU_CD_LEAF_BITS    6u	 /* 2-level CD table: 4 KiB leaves of 64 CDs (S1Fmt 1) */
#define SMMU_CMDQ_SHIFT	     8u	 /* 256 commands (4 KiB) */
#define SMMU_EVTQ_SHIFT	     7u	 /* 128 events (4 KiB) */
#define SMMU_PRIQ_SHIFT	     8u	 /* 256 page requests (4 KiB) */

struct smmu_queue {
	struct uenv_dma mem;
	unsigned int shift; /* log2 entries */
	uint32_t prod;	    /* CMDQ: our producer (index + wrap); EVTQ/PRIQ: unused */
	uint32_t cons;	    /* EVTQ/PRIQ: our consumer with its OVACKFLG */
	uint32_t bad_prod;  /* EVTQ/PRIQ: the last PROD refused (logged once) */
};

struct smmu_stats {
	/* syncs - batches: the one-command flushes (smmu_cmdq.c cmdq_issue1) */
	uint64_t cmds, syncs, batches, cmd_errors, timeouts, l2_tables, wb_lines, inv_lines;
	uint64_t prg_denied;	 /* page request groups denied by the driver: no room to track */
	uint64_t prg_foreign;	 /* page request groups from a StreamID with no device: failed */
	uint64_t stalls_aborted; /* stalled transactions the driver aborted (no one to resume) */
};

/* A page request group the SMMU reported (its Last request seen) and
 * nobody answered yet: a PRI_RESP is sent only for one of these (the
 * device gets exactly one response per group, PCIe 10.4.2). */
#define SMMU_PRG_MAX 512u /* per unit; a function has at most 512 PRG indexes */
/* The per-device budget: one device holds at most a quarter of the
 * unit's table, so a device that never answers cannot keep the others'
 * groups out (its own further groups are denied; three more such devices
 * are needed to fill the table). */
#define SMMU_PRG_DEV_MAX (SMMU_PRG_MAX / 4u)
struct smmu_prg {
	uint32_t sid, ssid; /* ssid: UIOMMU_NO_PASID without a SubstreamID */
	uint16_t grpid;
	bool valid;
};

/* A transaction the SMMU stalled and reported on the EVTQ (Stall=1 with
 * its STAG, IHI 0070 3.12.2) that nobody resumed yet: a CMD_RESUME is
 * sent only for one of these.  Each device holds at most a quarter of the
 * table; a stall with no room (or no device) is aborted by the driver. */
#define SMMU_STALL_TRACK   128u
#define SMMU_STALL_DEV_MAX (SMMU_STALL_TRACK / 4u)
struct smmu_stalled {
	uint32_t sid;
	uint16_t stag;
	bool valid;
};

struct smmu_unit {
	struct uiommu_unit *u;
	uint32_t idr[6], iidr, aidr;
	bool coherent, s1, s2, ril, cd2l, pri, asid16, vmid16;
	bool stall;		/* IDR0.STALL_MODEL 0 or 2: transactions can stall */
	bool st_2lvl;		/* the stream table in use is 2-level */
	unsigned int sid_bits;	/* STRTAB_BASE_CFG.LOG2SIZE we programmed */
	unsigned int ssid_bits; /* CD table size we build (0: one CD, no SubstreamIDs) */
	unsigned int oas;
	uint64_t timeout_ns;
	struct uenv_dma strtab; /* linear table, or the L1 descriptors */
	struct uenv_dma *l2;	/* 2-level: one per L1 descriptor (va NULL: none yet) */
	uint32_t nr_l1;
	struct smmu_queue cmdq, evtq, priq;
	uint64_t *nested_vmids; /* bitmap: VMIDs some nested STE uses */
	struct {
		uint32_t cr0, cr1, cr2, gbpa, irq_ctrl;
		uint64_t strtab_base, cmdq_base, evtq_base, priq_base;
		uint32_t strtab_cfg;
		/* The queues' positions (give-back writes them back while
		 * each queue is disabled, as Linux's reset programs them). */
		uint32_t cmdq_prod, cmdq_cons, evtq_prod, evtq_cons, priq_prod, priq_cons;
	} saved;
	/* UIOMMU_UNIT_F_DEFER_ENABLE: SMMUEN waits for unit_enable; until
	 * then traffic follows GBPA (as found, or abort: smmu_unit_init). */
	bool en_deferred;
	struct smmu_stats stats;
	struct smmu_prg prg[SMMU_PRG_MAX];
	struct smmu_stalled stalled[SMMU_STALL_TRACK];
	bool test_skip_tlbi; /* tests only: flush issues no TLBI (the model must show it) */
};

enum smmu_rid_kind {
	SMMU_RID_BLOCKED = 0,
	SMMU_RID_IDENTITY,
	SMMU_RID_S1, /* CD 0 */
	SMMU_RID_S2,
	SMMU_RID_NESTED,
};

struct smmu_dev {
	struct uiommu_device *dev;
	uint32_t sid;
	enum smmu_rid_kind rid;
	/* SMMU_RID_S2 and _NESTED: the stage 2 */
	uint16_t vmid;
	uint64_t vtcr, s2ttb;
	/* SMMU_RID_NESTED: the guest's STE words (checked) */
	uint64_t vste[2];
	/* Our CD table (stage 1), allocated on the first stage-1 attach. */
	struct uenv_dma cdtab;	/* linear, or the L1 descriptors */
	struct uenv_dma *cd_l2; /* 2-level: one per L1 descriptor */
	uint32_t cd_nr_l1;
	uint32_t nr_pasids;  /* SubstreamIDs > 0 with a valid CD */
	bool ste_live;	     /* the STE we wrote is valid (not the initial zero) */
	bool stall;	     /* its CDs have S set: stage-1 faults stall (RESUME) */
	uint16_t nr_prg;     /* its entries in smmu_unit.prg (<= SMMU_PRG_DEV_MAX) */
	uint16_t nr_stalled; /* its entries in smmu_unit.stalled (<= SMMU_STALL_DEV_MAX) */
};

static inline struct smmu_unit *smmu_of(const struct uiommu_unit *u)
{
	return u->priv;
}

static inline const struct uiommu_regio *smmu_rio(const struct smmu_unit *su)
{
	return unit_regs(su->u);
}

/* Write back what the CPU wrote to memory the SMMU reads (IDR0.COHACC 0). */
static inline void smmu_wb(struct smmu_unit *su, const void *va, size_t len)
{
	if (!su->coherent && len)
		su->stats.wb_lines += cache_wb_range(va, len);
}

/* Invalidate what the SMMU wrote (queue records) before reading it when it
 * does not snoop (IDR0.COHACC 0). */
static inline void smmu_inv(struct smmu_unit *su, const void *va, size_t len)
{
	if (!su->coherent && len)
		su->stats.inv_lines += cache_inv_range(va, len);
}

/* ---- commands (smmu_cmdq.c) ---- */
#define SMMU_BATCH_MAX 64u
struct smmu_batch {
	struct smmu_unit *su;
	uint32_t n;
	uint32_t cap;	 /* commands before the batch is issued (smmu_cmdq.c batch_cap) */
	int rc;		 /* first error */
	int32_t bad;	 /* index (in the batch) of a command the SMMU refused, -1: none */
	uint32_t issued; /* commands of the batch synced already */
	uint64_t cmd[SMMU_BATCH_MAX][SMMU_CMD_DWORDS];
};
void smmu_batch_init(struct smmu_batch *b, struct smmu_unit *su);
void smmu_batch_add(struct smmu_batch *b, uint64_t c0, uint64_t c1);
/* Issue what is queued with one CMD_SYNC and wait (bounded): 0, -EIO (a
 * command was refused: b->bad says which; the queue was recovered),
 * -ETIMEDOUT (the queue was restarted). */
int smmu_batch_sync(struct smmu_batch *b);
void smmu_cmd_cfgi_ste(struct smmu_batch *b, uint32_t sid);
void smmu_cmd_cfgi_cd(struct smmu_batch *b, uint32_t sid, uint32_t ssid);
void smmu_cmd_cfgi_cd_all(struct smmu_batch *b, uint32_t sid);
void smmu_cmd_tlbi_asid(struct smmu_batch *b, uint16_t asid);
void smmu_cmd_tlbi_vmall(struct smmu_batch *b, uint16_t vmid);
/* CFGI_ALL + TLBI_NSNH_ALL + sync: every cache of the unit. */
int smmu_inv_all(struct smmu_unit *su);
int smmu_cmdq_init(struct smmu_unit *su);
int smmu_cmdq_enable(struct smmu_unit *su);
void smmu_cmdq_fini(struct smmu_unit *su);
int smmu_cr0_set(struct smmu_unit *su, uint32_t bits, bool on);
int smmu_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n);
int smmu_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
			  const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done);
int smmu_page_response(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		       uint32_t grpid, enum uiommu_page_resp code);

/* ---- stream table and CDs (smmu_ste.c) ---- */
int smmu_strtab_init(struct smmu_unit *su);
void smmu_strtab_fini(struct smmu_unit *su);
int smmu_dev_probe(struct uiommu_unit *u, struct uiommu_device *dev);
int smmu_dev_release(struct uiommu_unit *u, struct uiommu_device *dev);
int smmu_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		 const struct fam_attach *a);
int smmu_s1_check(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1);
/* Pure builders (tested): the STE of a device's state, a CD. */
void smmu_ste_build(const struct smmu_unit *su, const struct smmu_dev *sd, uint64_t *ste);
void smmu_cd_build(const struct pgt_cfg *cfg, uint16_t asid, uint64_t *cd);
int smmu_dev_walk(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid, uint64_t iova,
		  struct uiommu_walk_level *out, int max);

/* ---- events (smmu_evtq.c) ---- */
int smmu_evtq_init(struct smmu_unit *su);
void smmu_evtq_fini(struct smmu_unit *su);
uint16_t smmu_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max);
/* A pending page request group of @sd's (@ssid, @grpid): true and it is
 * answered from now on (taken), or false (never reported, or answered). */
bool smmu_prg_take(struct smmu_unit *su, struct smmu_dev *sd, uint32_t ssid, uint32_t grpid);
/* A stalled transaction of @sd's with @stag: true and it is resumed from
 * now on (taken), or false (never reported, or resumed already). */
bool smmu_stall_take(struct smmu_unit *su, struct smmu_dev *sd, uint32_t stag);
/* A device goes: its pending groups are forgotten, its stalled
 * transactions aborted (CMD_RESUME Abort) and forgotten. */
void smmu_prg_forget(struct smmu_unit *su, struct smmu_dev *sd);

/* Tests only: make flush skip its TLBI commands on @u. */
void smmu_test_skip_tlbi(struct uiommu_unit *u, bool skip);
/* Tests only: the driver's counters. */
void smmu_get_stats(const struct uiommu_unit *u, struct smmu_stats *st);

#endif
