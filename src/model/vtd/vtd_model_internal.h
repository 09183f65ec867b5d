/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d model: private state shared by vtd_model*.c.
 *
 * Files: vtd_model.c (config, create, register file, commands),
 * vtd_model_walk.c (table walks and caches), vtd_model_qi.c (invalidation,
 * register-based and queued), vtd_model_dma.c (memory access, DMA engine,
 * fault recording, page requests).
 *
 * Locking: m->lock guards everything below; every public entry point takes
 * it once; internal functions (vtdm_*) expect it held.
 */
#ifndef UIOMMU_VTD_MODEL_INTERNAL_H
#define UIOMMU_VTD_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "env/env.h"
#include "hw/vtd/vtd_regs.h"
#include "model/vtd/vtd_model.h"

#define VTDM_LOG(lvl, fmt, ...) UENV_LOG(MODEL, lvl, "vtd-model: " fmt, ##__VA_ARGS__)

/* Register layout of the model (CAP.FRO / ECAP.IRO). */
#define VTDM_IRO_OFF   0x200u /* IVA at 0x200, IOTLB at 0x208 */
#define VTDM_FRO_OFF   0x400u
#define VTDM_NFR_MAX   128u   /* 0x400 + 128 * 16 = 0xc00 < 4 KiB */
#define VTDM_PRG_MAX   64u    /* outstanding page request groups tracked */
#define VTDM_NO_PASID  UINT32_MAX

/* Kind of a cached translation (which invalidations reach it). */
enum vtdm_kind {
	VTDM_K_SL = 1, /* legacy or PGTT=SL */
	VTDM_K_FL,     /* PGTT=FL */
	VTDM_K_NESTED, /* PGTT=nested */
	VTDM_K_PT,     /* pass-through (not cached in the IOTLB) */
};

/* Cached permissions, per request privilege. */
#define VTDM_P_RU 1u /* read, user request */
#define VTDM_P_WU 2u /* write, user request */
#define VTDM_P_RS 4u /* read, supervisor request */
#define VTDM_P_WS 8u /* write, supervisor request */
#define VTDM_P_D 16u /* dirty already set (or not tracked): writes need no walk */

struct vtdm_iotlb_ent {
	uint64_t lru;       /* 0: free */
	uint64_t va;        /* input page base (size 1 << shift) */
	uint64_t pa;
	uint32_t pasid;     /* VTDM_NO_PASID in legacy mode */
	uint16_t did;
	uint8_t shift;      /* 12, 21, 30 */
	uint8_t kind;       /* enum vtdm_kind */
	uint8_t perm;       /* VTDM_P_* */
};

/* A context entry as read (legacy: d[0..1]; scalable: d[0..3]). */
struct vtdm_ctx_ent {
	uint64_t lru;       /* 0: free */
	uint64_t ce[4];
	uint16_t rid;
	uint16_t did;       /* legacy: the entry's DID; scalable: unused */
	uint8_t sm;         /* read in scalable mode */
};

/* A PASID entry as read (first three words matter). */
struct vtdm_pc_ent {
	uint64_t lru;       /* 0: free */
	uint64_t pe[3];
	uint32_t pasid;
	uint16_t rid;
	uint16_t did;
	uint8_t fpd;        /* from the directory entry or the PASID entry */
};

struct vtdm_prg {
	uint8_t state;      /* 0 free, 1 outstanding, 2 answered */
	uint8_t rc;
	uint16_t rid;
	uint16_t prgi;
	uint32_t pasid;
};

struct vtd_model {
	uint64_t magic;
#define VTDM_MAGIC 0x7674646d6f64656cULL /* "vtdmodel" */
	uenv_lock_t lock;
	struct vtd_model_cfg cfg;
	uint32_t reg_size;
	uint8_t regs[VTD_REG_SIZE];  /* register file, little-endian */
	/* Latched by SRTP: */
	uint64_t rta;
	uint8_t ttm;
	uint8_t dw;                  /* IQA.DW as latched at QIE enable */
	uint16_t fr_next;            /* next fault record to fill */
	uint64_t tick;               /* LRU clock */
	/* Caches (arena arrays) */
	struct vtdm_iotlb_ent *iotlb;
	struct vtdm_ctx_ent *ctxc;
	struct vtdm_pc_ent *pc;
	struct vtdm_prg prg[VTDM_PRG_MAX];
	struct vtd_model_stats st;
};

/* ---- register file helpers (vtd_model.c) ---- */
static inline uint64_t vtdm_r64(const struct vtd_model *m, uint32_t off)
{
	uint64_t v;
	__builtin_memcpy(&v, m->regs + off, 8);
	return v;
}
static inline uint32_t vtdm_r32(const struct vtd_model *m, uint32_t off)
{
	uint32_t v;
	__builtin_memcpy(&v, m->regs + off, 4);
	return v;
}
static inline void vtdm_w64(struct vtd_model *m, uint32_t off, uint64_t v)
{
	__builtin_memcpy(m->regs + off, &v, 8);
}
static inline void vtdm_w32(struct vtd_model *m, uint32_t off, uint32_t v)
{
	__builtin_memcpy(m->regs + off, &v, 4);
}
static inline uint64_t vtdm_cap(const struct vtd_model *m) { return vtdm_r64(m, VTD_REG_CAP); }
static inline uint64_t vtdm_ecap(const struct vtd_model *m) { return vtdm_r64(m, VTD_REG_ECAP); }
static inline unsigned int vtdm_did_bits(const struct vtd_model *m)
{
	return vtd_cap_domain_bits(vtdm_cap(m));
}

/* ---- memory (vtd_model_dma.c) ---- */
/* CPU pointer for @len bytes at bus address @pa (within one 4 KiB page for
 * arena memory), or NULL when the model cannot reach it. */
void *vtdm_mem(uint64_t pa, size_t len);
bool vtdm_read64(uint64_t pa, uint64_t *v);
bool vtdm_read_words(uint64_t pa, uint64_t *v, unsigned int n);

/* ---- faults (vtd_model_dma.c) ---- */
struct vtdm_req {
	uint16_t rid;
	uint32_t pasid;     /* VTDM_NO_PASID: request without PASID */
	uint64_t iova;
	bool write;
	bool priv;
	bool exec;
};
void vtdm_fault_record(struct vtd_model *m, const struct vtdm_req *rq, unsigned int reason);
void vtdm_fsts_update(struct vtd_model *m);

/* ---- translation (vtd_model_walk.c) ---- */
struct vtdm_xlate {
	uint64_t pa;        /* output address of rq->iova */
	unsigned int reason; /* fault reason when the result is -EFAULT */
	bool fpd;           /* fault processing disabled for this fault */
	bool blocked;       /* silently blocked (abort mode) */
};
/* 0 (translated), -EFAULT (fault: x->reason, x->fpd). */
int vtdm_translate(struct vtd_model *m, const struct vtdm_req *rq, struct vtdm_xlate *x);
/* Read the context entry for @rid through the context cache (scalable
 * mode), for page requests: 0 or the fault reason. */
unsigned int vtdm_sm_context(struct vtd_model *m, uint16_t rid, uint64_t ce[4]);

/* ---- invalidation (vtd_model_qi.c) ---- */
void vtdm_inv_ctx(struct vtd_model *m, unsigned int g, uint16_t did, uint16_t sid, unsigned int fm);
void vtdm_inv_iotlb(struct vtd_model *m, unsigned int g, uint16_t did, uint64_t addr,
		    unsigned int am);
void vtdm_inv_piotlb(struct vtd_model *m, unsigned int g, uint16_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am);
void vtdm_inv_pc(struct vtd_model *m, unsigned int g, uint16_t did, uint32_t pasid);
void vtdm_inv_all(struct vtd_model *m);
/* Process the invalidation queue from IQH to IQT (QIE set, IQE clear). */
void vtdm_qi_run(struct vtd_model *m);
/* Record a page group response (vtd_model_dma.c). */
void vtdm_prg_respond(struct vtd_model *m, uint16_t rid, uint32_t pasid, bool pp, uint16_t prgi,
		      unsigned int rc);

#endif
