/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in software model of an Arm SMMUv3 (register level).
 *
 * The architectural state of one SMMU: the register file (IDR0-5, IIDR,
 * AIDR, CR0/CR0ACK, CR1, CR2, GBPA with its Update handshake, GERROR /
 * GERRORN, STRTAB_BASE/_CFG, the command, event and PRI queues), linear
 * and 2-level stream tables, linear and 2-level CD tables, STE configs
 * abort / bypass / stage 1 / stage 2 / nested, stage-1 and stage-2 walks
 * (4 KiB granule, 2 MiB and 1 GiB blocks), and caches that behave like
 * hardware: an STE cache and a CD cache (stale until CFGI_*), a TLB tagged
 * by VMID and ASID (stale until the right TLBI_*).  Commands execute
 * synchronously when CMDQ_PROD is written; an illegal command stops the
 * queue with GERROR.CMDQ_ERR and CMDQ_CONS.ERR until GERRORN acknowledges
 * it.  Faults are written to the event queue (Q_OVF when it is full).
 *
 * State lives in the arena (it outlives the process); tables, queues and
 * DMA data are reached at bus addresses through the env layer.  Every
 * entry point runs under the context lock (the core's register hooks and
 * uiommu_model_dma both hold it).
 */
#ifndef UIOMMU_SMMU_MODEL_H
#define UIOMMU_SMMU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/regs.h"

struct smmu_model;

#define SMMUM_OASENC_OAS 255u /* smmu_model_cfg.oasenc: the encoding of oas */

/* Settings (docs/models.md, "SMMUv3"). */
struct smmu_model_cfg {
	uint8_t sidsize;    /* IDR1.SIDSIZE */
	uint8_t ssidsize;   /* IDR1.SSIDSIZE (0: no SubstreamIDs) */
	uint8_t oas;	    /* IDR5.OAS, bits (32..48) */
	uint8_t cmdqs;	    /* IDR1.CMDQS: largest command queue, log2 entries */
	uint8_t evtqs;	    /* IDR1.EVTQS */
	uint8_t priqs;	    /* IDR1.PRIQS */
	bool st2l;	    /* IDR0.ST_LEVEL: 2-level stream tables */
	bool cd2l;	    /* IDR0.CD2L: 2-level CD tables */
	bool s1, s2;	    /* IDR0.S1P, IDR0.S2P */
	bool asid16;	    /* IDR0.ASID16 */
	bool vmid16;	    /* IDR0.VMID16 */
	bool ril;	    /* IDR3.RIL: range invalidation */
	bool cohacc;	    /* IDR0.COHACC: coherent table and queue access */
	bool pri;	    /* IDR0.PRI: page requests */
	uint8_t busy;	    /* comes up as another owner left it: 1 SMMUEN + queues on, GBPA
			     * bypass; 2 the queues on with SMMUEN off */
	uint8_t oasenc;	    /* IDR5.OAS encoding as read, overriding oas (tests: reserved 7);
			     * SMMUM_OASENC_OAS: from oas */
	bool bypass;	    /* GBPA.ABORT 0 at reset: untranslated traffic passes (QEMU) */
	bool preset;	    /* IDR1.TABLES_PRESET + QUEUES_PRESET: bases fixed (writes ignored) */
	bool stall;	    /* IDR0.STALL_MODEL 0: faults of a CD with S=1 stall until RESUME */
	uint32_t stall_max; /* IDR5.STALL_MAX: transactions parked at once (stall=1) */
	uint32_t tlb_size;  /* TLB entries */
	uint32_t cfgc_size; /* STE and CD cache entries (each) */
};

/* What the model counted (tests). */
struct smmu_model_stats {
	uint64_t cmds;	     /* commands executed */
	uint64_t syncs;	     /* CMD_SYNCs */
	uint64_t cmd_errors; /* commands refused (CMDQ_ERR) */
	uint64_t tlbi;	     /* TLBI_* commands */
	uint64_t cfgi;	     /* CFGI_* commands */
	uint64_t tlb_hits, tlb_misses;
	uint64_t ste_hits, cd_hits;
	uint64_t events, events_lost;
	uint64_t dma_ok, dma_faults;
	uint64_t page_requests, pri_resps; /* PRIQ records written, PRI_RESPs executed */
	uint32_t last_pri_resp;		   /* the last PRI_RESP: SID << 12 | GRPID << 2 | Resp */
	uint64_t stalls, resumes;	   /* transactions stalled; RESUMEs that found one */
	int last_resume_rc;		   /* the resumed transaction: 0 done, -EFAULT aborted */
};

void smmu_model_cfg_default(struct smmu_model_cfg *c);
/* Apply "key=value,..." to @c: 0 or -EINVAL (@c unchanged). */
int smmu_model_cfg_parse(struct smmu_model_cfg *c, const char *s);
int smmu_model_create(const struct smmu_model_cfg *c, struct smmu_model **out);
void smmu_model_destroy(struct smmu_model *m);
void smmu_model_get_stats(const struct smmu_model *m, struct smmu_model_stats *st);
/* Tests: a stuck SMMU consumes no command until released (the driver's
 * bounded wait and queue restart). */
void smmu_model_set_stuck(struct smmu_model *m, bool stuck);
/* A device's PRI page request (ATS PRI) as the SMMU queues it (IHI 0070
 * 8.1): 0, -EOPNOTSUPP (no PRI), -ENOSPC (the PRI queue is full or off:
 * the request is lost, PRIQ_PROD.OVFLG set). */
int smmu_model_page_request(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t addr,
			    uint32_t grpid, bool last, bool write);
/* DMA as smmu_model_dma(), with stall mode: a fault the SMMU stalls
 * (stage 1 with CD.S 1 and STE.S1STALLD 0, or stage 2 with STE.S2S 1, on
 * a model with stall=1) parks the transaction and returns -EAGAIN; its
 * event carries Stall and STAG.  @buf must stay valid until CMD_RESUME
 * for that StreamID and STAG completes it (Retry: translated and done
 * again, Abort/Terminate: aborted); stats.last_resume_rc tells how. */
/* Valid TLB entries (tests). */
uint32_t smmu_model_tlb_entries(const struct smmu_model *m);
/* DMA as StreamID @sid (with SubstreamID @ssid, or UINT32_MAX for none). */
int smmu_model_dma(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t iova, void *buf,
		   uint64_t len, bool write);

extern const struct uiommu_model_io smmu_model_io;

#endif
