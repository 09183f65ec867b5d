/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Built-in software model of an Intel VT-d remapping unit.
 *
 * The model has the architectural state of one DRHD: the register file
 * (read-only, RW1C, write-one-to-execute semantics), root/context/PASID
 * table walks in legacy and scalable mode, second-level, first-level,
 * nested and pass-through translation, an IOTLB, a context cache and a
 * PASID cache that really cache (a missing invalidation shows as a stale
 * translation), register-based and queued invalidation, fault recording
 * registers, and a page request queue.  A DMA engine stands in for devices.
 *
 * Memory: the model reads tables and queues, and does DMA, at bus
 * addresses through the env layer (vtdm_mem(): arena memory, or any
 * address when IOVA == VA).
 *
 * State lives in the arena (uenv_zalloc) so it survives the process that
 * created it; the register hooks are process-local and re-bound with
 * vtd_model_regio().  Every entry point takes the model's lock, so a test
 * thread doing DMA may run beside a driver thread.
 */
#ifndef UIOMMU_VTD_MODEL_H
#define UIOMMU_VTD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/regs.h"

struct vtd_model;

/** Capabilities of a model instance.  See vtd_model_cfg_parse() for the
 *  string form (uiommu_unit_desc.model_cfg); docs/models.md lists every
 *  key with its default. */
struct vtd_model_cfg {
	uint8_t sagaw;       /**< CAP.SAGAW bits: 0x2 39-bit, 0x4 48-bit, 0x8 57-bit */
	uint8_t sllps;       /**< CAP.SLLPS: bit0 2M, bit1 1G */
	uint8_t nd;          /**< CAP.ND: 4 + 2*nd domain-ID bits (0..6) */
	uint8_t mgaw;        /**< max guest address width, bits (39..57) */
	uint8_t mamv;        /**< CAP.MAMV */
	uint16_t nfr;        /**< fault recording registers (1..128) */
	uint8_t pasid_bits;  /**< PASID width (0: no PASID support; <= 20) */
	bool smts;           /**< scalable mode; off clears flts/slts/nest/prs/pasid */
	bool qi;             /**< queued invalidation */
	bool coherent;       /**< page walks snoop (ECAP.C / SMPWC) */
	bool flts, slts, nest;
	bool prs;            /**< page requests */
	bool pt;             /**< pass-through */
	bool sc;             /**< snoop control (SNP bit allowed in SL leaves) */
	bool dt;             /**< device-TLB (ATS) */
	bool psi;            /**< page-selective invalidation */
	bool fl1gp, fl5lp;   /**< first-level 1G pages, 5-level paging */
	bool srs, ers;       /**< supervisor / execute requests */
	uint32_t iotlb_size;      /**< IOTLB entries */
	uint32_t ctx_cache_size;  /**< context-cache entries */
	uint32_t pasid_cache_size; /**< PASID-cache entries */
};

/** Defaults: a modern server unit (SAGAW 4+5-level, SLLPS 2M+1G, 16-bit
 *  DIDs, QI, PT, SMTS, 20-bit PASID, FLTS, SLTS, NEST, PRS, 8 fault
 *  records, coherent). */
void vtd_model_cfg_default(struct vtd_model_cfg *cfg);

/**
 * Apply a capability string on top of @cfg: comma-separated key=value,
 * values in C notation.  Keys: sagaw, sllps, nd, mgaw, mamv, nfr, pasid
 * (bits), smts, qi, coherent, flts, slts, nest, prs, pt, sc, dt, psi,
 * fl1gp, fl5lp, srs, ers, iotlb, ctxc, pasidc (cache sizes); their
 * defaults, ranges and meaning: docs/models.md (test vtd-model-doc keeps
 * the two in step).
 * Example: "sagaw=0x6,sllps=0x3,nd=2,smts=1,pasid=20,qi=1,nfr=4".
 * @return 0 or -EINVAL (unknown key, bad value).  @cfg is untouched on error.
 */
int vtd_model_cfg_parse(struct vtd_model_cfg *cfg, const char *s);

/** Create a model in the arena.  @cfg NULL: defaults.
 *  @return 0, -EINVAL, -ENOMEM. */
int vtd_model_create(const struct vtd_model_cfg *cfg, struct vtd_model **out);
/** Defaults + vtd_model_cfg_parse(@s) (NULL/empty: defaults), then create. */
int vtd_model_create_str(const char *s, struct vtd_model **out);
void vtd_model_destroy(struct vtd_model *m);

/** Bind process-local register access to @m (base NULL, model hooks). */
void vtd_model_regio(struct vtd_model *m, struct uiommu_regio *r);
/** The model's register hooks (for callers filling a regio themselves). */
extern const struct uiommu_model_io vtd_model_io;
/** Size of the register window. */
uint32_t vtd_model_reg_size(const struct vtd_model *m);

/* ---- DMA engine ---- */
#define VTD_DMA_PRIV (1u << 0) /**< privileged (supervisor) request */
#define VTD_DMA_EXEC (1u << 1) /**< execute request */
#define VTD_DMA_NO_PASID UINT32_MAX

/**
 * A device DMA of @len bytes at @iova from requester @rid, with PASID
 * @pasid (VTD_DMA_NO_PASID: none).  Every page is translated before any
 * byte moves: on a fault nothing is written (nor read into @buf), one
 * fault is recorded (unless fault processing is disabled for the entry)
 * and *reason (may be NULL) receives the fault reason.
 * @return 0, -EFAULT (translation fault), -EIO (target memory not
 * reachable by the model).
 */
int vtd_model_dma(struct vtd_model *m, uint16_t rid, uint32_t pasid, uint64_t iova, void *buf,
		  size_t len, bool is_write, uint32_t flags, unsigned int *reason);

/** Translate without moving data (same caches and faults as a DMA of one
 *  byte).  *pa receives the output address. */
int vtd_model_translate(struct vtd_model *m, uint16_t rid, uint32_t pasid, uint64_t iova,
			bool is_write, uint32_t flags, uint64_t *pa, unsigned int *reason);

/* ---- page requests (ECAP.PRS) ---- */
struct vtd_model_prq {
	uint16_t rid;
	uint32_t pasid;     /**< VTD_DMA_NO_PASID: none */
	uint64_t addr;
	uint16_t prgi;      /**< page request group index (9 bits) */
	bool read, write, last, priv, exec;
	uint64_t priv_data[2];
	bool has_priv_data;
};
/** Issue a page request as a device would.
 *  @return 0, -EOPNOTSUPP (no PRS, legacy mode, PRE clear: the model
 *  answers it itself), -ENOSPC (queue full: PRS.PRO set), -ENXIO (no queue). */
int vtd_model_page_request(struct vtd_model *m, const struct vtd_model_prq *req);
/** Response to the group (@rid, @prgi): 0 and *rc when a page group
 *  response arrived, -EAGAIN while outstanding, -ENOENT when unknown. */
int vtd_model_page_response(struct vtd_model *m, uint16_t rid, uint16_t prgi, unsigned int *rc);

/* ---- observability for tests ---- */
struct vtd_model_stats {
	uint64_t iotlb_hit, iotlb_miss, iotlb_evict, iotlb_inval;
	uint64_t ctx_hit, ctx_miss, ctx_inval;
	uint64_t pc_hit, pc_miss, pc_inval;
	uint64_t faults_logged, faults_dropped, faults_suppressed;
	uint64_t qi_desc, qi_errors, waits;
	uint64_t dma_ok, dma_bytes;
	uint64_t prq_issued, prq_dropped, prq_responses;
	uint32_t iotlb_used, ctx_used, pc_used;
};
void vtd_model_get_stats(struct vtd_model *m, struct vtd_model_stats *st);
/** Drop every cached context, PASID and IOTLB entry (as a global flush). */
void vtd_model_flush_caches(struct vtd_model *m);

#endif
