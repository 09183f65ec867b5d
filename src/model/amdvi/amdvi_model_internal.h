/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi model: private state shared by amdvi_model*.c.
 *
 *   amdvi_model.c        settings, creation, the register file, the
 *                        command buffer, the event and PPR logs
 *   amdvi_model_xlate.c  the DTE cache, v1 walks, the IOTLB, the DMA
 *                        engine, page requests
 *
 * m->lock guards everything; each public entry point takes it once, the
 * amdm_* helpers expect it held.
 */
#ifndef UIOMMU_AMDVI_MODEL_INTERNAL_H
#define UIOMMU_AMDVI_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "env/env.h"
#include "hw/amdvi/amdvi_regs.h"
#include "model/amdvi/amdvi_model.h"

#define AMDM_LOG(lvl, fmt, ...) UENV_LOG(MODEL, lvl, "amdvi-model: " fmt, ##__VA_ARGS__)

#define AMDM_PERM_R  1u
#define AMDM_PERM_W  2u
#define AMDM_PPR_MAX 64u /* outstanding page request groups tracked */

struct amdm_iotlb_ent {
	uint64_t lru;  /* 0: free */
	uint64_t iova; /* page base (size 1 << shift) */
	uint64_t pa;
	uint16_t domid;
	uint8_t shift;
	uint8_t perm;
	uint32_t pasid;	 /* AMDVI_MODEL_NO_PASID: a host (v1) translation */
	uint64_t dte[2]; /* DTE words 0-1 it was walked with (stale check) */
};

/* A cached page-directory entry of a host table: the table it points to
 * (level @level) for the region of IOVAs @base .. + 2^(@shift) - 1. */
struct amdm_pde_ent {
	uint64_t lru; /* 0: free */
	uint64_t base;
	uint64_t table;
	uint16_t domid;
	uint8_t level;
	uint8_t shift;
	uint8_t perm; /* IR/IW of the DTE and every entry above */
};

struct amdm_dte_ent {
	uint64_t lru; /* 0: free */
	uint16_t devid;
	uint64_t dte[AMDVI_DTE_WORDS];
};

struct amdm_ppr {
	uint8_t state; /* 0 free, 1 outstanding, 2 answered */
	uint8_t status;
	uint16_t devid;
	uint16_t tag;
};

struct amdvi_model {
	uint64_t magic;
#define AMDM_MAGIC 0x616d6476696d646cULL /* "amdvimdl" */
	uenv_lock_t lock;
	struct amdvi_model_cfg cfg;
	/* The register file. */
	uint64_t devtab, cmdbuf, evtlog, control, excl_base, excl_limit, efr, efr2, pprlog;
	uint64_t cmd_head, cmd_tail, evt_head, evt_tail, status, ppr_head, ppr_tail;
	/* Latched when the buffer/log was enabled. */
	uint64_t cmd_base, evt_base, ppr_base;
	uint32_t cmd_len, evt_len, ppr_len; /* bytes */
	uint64_t tick;
	struct amdm_iotlb_ent *iotlb;
	struct amdm_dte_ent *dtec;
	struct amdm_pde_ent *pdec;
	struct amdm_ppr ppr[AMDM_PPR_MAX];
	struct amdvi_model_stats st;
};

/* amdvi_model.c */
/* Append an event (2 words) to the event log: dropped when logging is off
 * or stopped; EventOverflow (and the log stops) when it is full. */
void amdm_event(struct amdvi_model *m, uint64_t w0, uint64_t w1);
/* 0, -ENXIO (log not running), -ENOSPC (full: PPROverflow set). */
int amdm_ppr_log(struct amdvi_model *m, uint64_t w0, uint64_t w1);

/* amdvi_model_xlate.c */
void amdm_inv_dte(struct amdvi_model *m, uint16_t devid);
/* @gn: only the guest (v2) translations of @pasid; else every translation
 * of the DomainID. */
void amdm_inv_pages(struct amdvi_model *m, uint16_t domid, uint64_t start, uint64_t size, bool gn,
		    uint32_t pasid, bool pde);
void amdm_inv_all(struct amdvi_model *m);
void amdm_ppr_complete(struct amdvi_model *m, uint16_t devid, uint16_t tag, unsigned int status);

static inline uint64_t amdm_now(struct amdvi_model *m)
{
	return ++m->tick;
}

#endif
