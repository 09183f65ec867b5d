/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Built-in software model of an AMD-Vi IOMMU (AMD IOMMU spec 48882).
 *
 * The architectural state of one IOMMU: the MMIO register file (base
 * registers, control, status with its RW1C bits, head/tail pointers,
 * EFR/EFR2), the device table read through a DTE cache, v1 host page
 * table walks (modes 1-6, default-size 2 MiB / 1 GiB leaves, sized pages
 * with Next Level 7, skipped levels), an IOTLB tagged by DomainID, the
 * command buffer (processed when the tail is written), the event log and
 * the PPR log with their overflow handling.  Both caches really cache: a
 * missing INVALIDATE_DEVTAB_ENTRY / INVALIDATE_IOMMU_PAGES shows as a
 * stale translation, and is counted (stats.stale_*: every cache hit is
 * compared with what memory holds now).
 *
 * With gt=1 (EFR.GTSup) and Control.GTEn, a DTE with GV set translates
 * requests with a PASID (and, with GIoV, those without one as PASID 0)
 * through its GCR3 table (GLX 0 or 1) and 4-level x86-64 guest tables,
 * nested over the host (v1) table: every guest table address and the
 * output are guest physical addresses.  Not modelled: interrupt
 * remapping, device-side IOTLBs (ATS: INVALIDATE_IOTLB_PAGES is checked
 * and counted), the exclusion range, guest U/S and NX checks.
 *
 * State lives in the arena; every entry point takes the model's lock.
 */
#ifndef UIOMMU_AMDVI_MODEL_H
#define UIOMMU_AMDVI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/regs.h"

struct amdvi_model;

/** Capabilities of a model instance (docs/models.md, `--model amdvi`). */
struct amdvi_model_cfg {
	uint8_t hats;	     /**< EFR.HATS: host table levels 4 + hats (0..2) */
	uint8_t pasmax;	     /**< EFR.PASMax: PASID width - 1 (0..19) */
	bool ia;	     /**< EFR.IASup: INVALIDATE_IOMMU_ALL */
	bool ppr;	     /**< EFR.PPRSup: PPR log, COMPLETE_PPR_REQUEST */
	bool gt;	     /**< EFR.GTSup: guest translation (advertised only) */
	bool nx;	     /**< EFR.NXSup */
	bool pref;	     /**< EFR.PreFSup: PREFETCH_IOMMU_PAGES */
	bool he;	     /**< EFR.HESup */
	uint32_t iotlb_size; /**< IOTLB entries */
	uint32_t dtec_size;  /**< DTE cache entries */
	uint32_t pdec_size;  /**< page-directory cache entries (host table PDEs) */
};

/** Defaults: 6-level tables, IASup, PPRSup, no GTSup, 256 IOTLB entries,
 *  64 cached DTEs, 32 cached PDEs. */
void amdvi_model_cfg_default(struct amdvi_model_cfg *cfg);
/** Apply "key=value,..." on top of @cfg (keys: docs/models.md).
 *  @return 0 or -EINVAL; @cfg is untouched on error. */
int amdvi_model_cfg_parse(struct amdvi_model_cfg *cfg, const char *s);
/** Create an instance in the arena (@cfg NULL: defaults).  0, -EINVAL, -ENOMEM. */
int amdvi_model_create(const struct amdvi_model_cfg *cfg, struct amdvi_model **out);
/** Defaults + amdvi_model_cfg_parse(@s), then create. */
int amdvi_model_create_str(const char *s, struct amdvi_model **out);
void amdvi_model_destroy(struct amdvi_model *m);
/** The register hooks (reg_read* and reg_write* reach them through a regio). */
extern const struct uiommu_model_io amdvi_model_io;
/** Bind process-local register access to @m. */
void amdvi_model_regio(struct amdvi_model *m, struct uiommu_regio *r);

#define AMDVI_MODEL_NO_PASID UINT32_MAX

/** Why a DMA did not happen (the event code logged, or would have been). */
struct amdvi_model_fault {
	uint32_t code;	/**< AMDVI_EV_* (0: none) */
	uint32_t flags; /**< AMDVI_EVF_* of an IO_PAGE_FAULT */
	uint64_t addr;
};

/**
 * A device DMA of @len bytes at @iova from DeviceID @devid.  Every page is
 * translated before a byte moves: on a fault nothing moves, one event is
 * logged (unless the DTE suppresses it) and *f (may be NULL) says why.
 * @return 0, -EFAULT (blocked),
 * -EINVAL (a PASID without gt=1, or wider than EFR.PASmax), -EIO (memory
 * the model cannot reach).
 */
int amdvi_model_dma(struct amdvi_model *m, uint16_t devid, uint32_t pasid, uint64_t iova, void *buf,
		    size_t len, bool write, struct amdvi_model_fault *f);
/** The same with a PASID (AMDVI_MODEL_NO_PASID: none): guest (v2)
 *  translation through the DTE's GCR3 table when DTE.GV is set. */
int amdvi_model_translate_pasid(struct amdvi_model *m, uint16_t devid, uint32_t pasid,
				uint64_t iova, bool write, uint64_t *pa,
				struct amdvi_model_fault *f);
/** Translate one address (same caches and events as a 1-byte DMA). */
int amdvi_model_translate(struct amdvi_model *m, uint16_t devid, uint64_t iova, bool write,
			  uint64_t *pa, struct amdvi_model_fault *f);

/** A page request (PPR) as a device would issue it. */
struct amdvi_model_ppr {
	uint16_t devid;
	uint32_t pasid; /**< AMDVI_MODEL_NO_PASID: none */
	uint64_t addr;
	uint16_t tag; /**< PRG index (9 bits) */
	bool read, write, exec, user;
};
/** 0 (logged), -EOPNOTSUPP (PPR off for the unit or the device:
 *  INVALID_PPR_REQUEST logged), -ENOSPC (log full: PPROverflow), -ENXIO
 *  (the log is not running). */
int amdvi_model_page_request(struct amdvi_model *m, const struct amdvi_model_ppr *req);
/** The answer to (@devid, @tag): 0 and *status when COMPLETE_PPR_REQUEST
 *  arrived, -EAGAIN while outstanding, -ENOENT when unknown. */
int amdvi_model_ppr_status(struct amdvi_model *m, uint16_t devid, uint16_t tag,
			   unsigned int *status);

/** Counters, for tests. */
struct amdvi_model_stats {
	uint64_t iotlb_hit, iotlb_miss, iotlb_inval;
	uint64_t dtec_hit, dtec_miss, dtec_inval;
	uint64_t stale_iotlb; /**< IOTLB hits that memory no longer backs */
	uint64_t stale_dte;   /**< DTE cache hits that differ from memory */
	uint64_t stale_pde;   /**< walks from a cached PDE that memory no longer gives */
	uint64_t pdec_hit, pdec_inval;
	uint64_t cmds, waits, illegal_cmds, iotlb_pages_cmds, inv_all;
	uint64_t events, events_dropped, ppr_logged, ppr_dropped, ppr_completed;
	uint64_t dma_ok, dma_fault, dma_bytes;
	uint32_t iotlb_used, dtec_used;
};
void amdvi_model_get_stats(struct amdvi_model *m, struct amdvi_model_stats *st);
/** Make the stale-hit check count from zero (for a test phase). */
void amdvi_model_reset_stale(struct amdvi_model *m);

#endif
