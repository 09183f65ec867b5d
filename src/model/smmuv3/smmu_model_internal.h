/* SPDX-License-Identifier: BSD-3-Clause */
/* SMMUv3 model internals, shared by its files. */
#ifndef UIOMMU_SMMU_MODEL_INTERNAL_H
#define UIOMMU_SMMU_MODEL_INTERNAL_H

#include "env/env.h"
#include "hw/smmuv3/smmu_regs.h"
#include "model/smmuv3/smmu_model.h"

#define SMMUM_MAGIC		 0x534d4d55766d3031ull /* "SMMUvm01" */
#define SMMUM_LOG(lvl, fmt, ...) UENV_LOG(SMMU, lvl, "smmuv3 model: " fmt, ##__VA_ARGS__)
#define SMMUM_NO_SSID		 UINT32_MAX

struct smmum_tlb {
	bool valid;
	bool s1;       /* carries stage 1 (tagged by ASID too); else stage 2 only */
	uint8_t perm;  /* SMMUM_P_* allowed by stage 1 */
	uint8_t perm2; /* allowed by stage 2 (all when there is none) */
	uint16_t vmid, asid;
	uint64_t va; /* input address of the first byte, aligned to size */
	uint64_t size;
	uint64_t pa;
	uint64_t ipa; /* nested: the IPA of va (stage-2 faults) */
	uint64_t stamp;
	uint32_t hnext; /* the next entry of its hash bucket, + 1 (0: none) */
};
#define SMMUM_P_R 1u
#define SMMUM_P_W 2u

struct smmum_cfgc {
	bool valid;
	uint32_t sid, ssid; /* ssid: CD cache only */
	uint64_t w[8];
	uint64_t stamp;
};

#define SMMUM_STALL_MAX 256u /* room for cfg.stall_max (IDR5.STALL_MAX) parked transactions */
struct smmum_stall {
	bool valid;
	bool write;
	uint16_t stag;
	uint32_t sid, ssid;
	uint64_t iova, len;
	void *buf;
};

struct smmu_model {
	uint64_t magic;
	struct smmu_model_cfg cfg;
	uint32_t idr[6], iidr, aidr;
	uint32_t cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn;
	uint64_t strtab_base;
	uint32_t strtab_cfg;
	uint64_t cmdq_base, evtq_base, priq_base;
	uint32_t cmdq_prod, cmdq_cons, evtq_prod, evtq_cons, priq_prod, priq_cons;
	uint64_t stamp;
	bool stuck; /* tests: the command queue is not consumed */
	/* Stall mode: what the last translation found (a fault stalls?) and
	 * the parked transactions. */
	bool xl_cd_s, xl_s2s;
	uint16_t next_stag;
	struct smmum_stall stalls[SMMUM_STALL_MAX];
	struct smmu_model_stats st;
	struct smmum_tlb *tlb;
	/* The TLB's index (smmu_model_walk.c): buckets by VMID, page size and
	 * the address at that size; each holds entry index + 1 (0: none). */
	uint32_t *tlb_hash;
	uint32_t tlb_hmask;
	uint32_t tlb_used; /* valid entries (an empty TLB has nothing to invalidate) */
	struct smmum_cfgc *stec, *cdc;
};

/* Translation result or fault. */
struct smmum_fault {
	uint32_t id; /* SMMU_EVT_*; 0: silently aborted (Config abort, GBPA.ABORT) */
	bool s2;
	uint32_t class;
	uint64_t ipa;
	uint64_t fetch;
	bool stall; /* the transaction is stalled: the record carries STAG */
	uint16_t stag;
};

/* smmu_model_walk.c */
bool smmum_read(uint64_t pa, uint64_t *w, unsigned int n);
void smmum_event(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t addr, bool write,
		 const struct smmum_fault *f);
int smmum_translate(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t iova, bool write,
		    uint64_t *pa, struct smmum_fault *f);
/* Cache invalidation by the commands. */
void smmum_inv_ste(struct smmu_model *m, uint32_t first, uint64_t n);
void smmum_inv_cd(struct smmu_model *m, uint32_t sid, uint32_t ssid, bool all_ssid);
void smmum_inv_cfg_all(struct smmu_model *m);
/* TLB: entries of @vmid (or any when vmid < 0), @asid (any when < 0),
 * stage-1 entries (s1 > 0), stage-2-only (s1 == 0) or both (s1 < 0),
 * overlapping [start, start + len) (len 0: any address). */
void smmum_tlb_inv(struct smmu_model *m, int vmid, int asid, int s1, uint64_t start, uint64_t len);

#endif
