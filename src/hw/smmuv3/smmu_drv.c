/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Arm SMMUv3 driver: take-over and give-back, capabilities, page-table
 * configuration, register decoding, and the family ops table.
 *
 * Bring-up (IHI 0070 6.3.9 CR0, 6.3.14 GBPA; the order Linux's
 * arm_smmu_device_reset follows): map the two register pages -> read the
 * ID registers -> refuse when CR0.SMMUEN or a queue enable is set (someone
 * translates or drives the queues) -> save what we change -> CR0 off
 * (CR0ACK) -> GBPA abort (Update handshake) -> CR1/CR2 -> stream table
 * (every STE invalid) -> command queue on -> CFGI_ALL + TLBI_NSNH_ALL +
 * CMD_SYNC -> event (and PRI) queue on -> SMMUEN (deferred to unit_enable
 * with UIOMMU_UNIT_F_DEFER_ENABLE, GBPA left as found meanwhile).
 * unit_fini turns the SMMU off and writes back what it found, queue
 * positions included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/reg_decode.h"
#include "hw/smmuv3/smmu_internal.h"

/* ------------------------------------------------------------ helpers */

/* GBPA changes through its Update handshake: wait for Update 0, write
 * with Update 1, wait for Update 0 again (6.3.14). */
static int gbpa_write(struct smmu_unit *su, uint32_t val)
{
	const struct uiommu_regio *r = smmu_rio(su);
	int rc = reg_poll32(r, SMMU_GBPA, (uint32_t)SMMU_GBPA_UPDATE, 0, su->timeout_ns, "GBPA");

	if (rc)
		return rc;
	reg_write32(r, SMMU_GBPA, (val & ~(uint32_t)SMMU_GBPA_UPDATE) | (uint32_t)SMMU_GBPA_UPDATE);
	return reg_poll32(r, SMMU_GBPA, (uint32_t)SMMU_GBPA_UPDATE, 0, su->timeout_ns, "GBPA");
}

static void fill_caps(struct uiommu_unit *u, struct smmu_unit *su)
{
	struct uiommu_unit_caps *c = &u->caps;
	unsigned int asid_bits = su->asid16 ? 16 : 8, vmid_bits = su->vmid16 ? 16 : 8;

	memset(c, 0, sizeof(*c));
	c->family = UIOMMU_FAMILY_SMMUV3;
	c->stage1 = su->s1;
	c->stage2 = su->s2;
	c->pgsize_bitmap = (1ull << 12) | (1ull << 21) | (1ull << 30);
	c->s1_pgsize_bitmap = su->s1 ? c->pgsize_bitmap : 0;
	c->ias = 48;
	c->oas = su->oas;
	c->pasid_bits = su->s1 ? su->ssid_bits : 0;
	/* ASIDs and VMIDs come from one domain-ID space. */
	if (su->s1 && su->s2)
		c->num_domains = 1u << (asid_bits < vmid_bits ? asid_bits : vmid_bits);
	else
		c->num_domains = 1u << (su->s1 ? asid_bits : vmid_bits);
	c->nesting = su->s1 && su->s2;
	c->coherent = su->coherent;
	c->queued_inv = true;
	c->page_requests = su->pri;
	c->pass_through = true;
	c->ats = false;
	u->hw_info.family = UIOMMU_FAMILY_SMMUV3;
	memcpy(u->hw_info.u.smmuv3.idr, su->idr, sizeof(su->idr));
	u->hw_info.u.smmuv3.iidr = su->iidr;
	u->hw_info.u.smmuv3.aidr = su->aidr;
	u->hw_info.u.smmuv3.st_2lvl = su->st_2lvl;
	u->hw_info.u.smmuv3.sid_bits = su->sid_bits;
	u->did_min = 1; /* ASID/VMID 0 stay unused (bypass and S1-only STEs carry VMID 0) */
	u->flush_on_map = false;
}

static void save_regs(struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);

	su->saved.cr0 = reg_read32(r, SMMU_CR0);
	su->saved.cr1 = reg_read32(r, SMMU_CR1);
	su->saved.cr2 = reg_read32(r, SMMU_CR2);
	su->saved.gbpa = reg_read32(r, SMMU_GBPA);
	su->saved.irq_ctrl = reg_read32(r, SMMU_IRQ_CTRL);
	su->saved.strtab_base = reg_read64(r, SMMU_STRTAB_BASE);
	su->saved.strtab_cfg = reg_read32(r, SMMU_STRTAB_BASE_CFG);
	su->saved.cmdq_base = reg_read64(r, SMMU_CMDQ_BASE);
	su->saved.evtq_base = reg_read64(r, SMMU_EVTQ_BASE);
	su->saved.priq_base = reg_read64(r, SMMU_PRIQ_BASE);
	su->saved.cmdq_prod = reg_read32(r, SMMU_CMDQ_PROD);
	su->saved.cmdq_cons = reg_read32(r, SMMU_CMDQ_CONS);
	su->saved.evtq_prod = reg_read32(r, SMMU_EVTQ_PROD);
	su->saved.evtq_cons = reg_read32(r, SMMU_EVTQ_CONS);
	if (su->pri) {
		su->saved.priq_prod = reg_read32(r, SMMU_PRIQ_PROD);
		su->saved.priq_cons = reg_read32(r, SMMU_PRIQ_CONS);
	}
}

/* Give back: everything off, then the registers as found (the enables
 * last, each through its acknowledgement).  The queue positions go back
 * while their queues are off: CMDQ_CONS, EVTQ_PROD and PRIQ_PROD are the
 * SMMU's own indexes, read-only while CR0/CR0ACK has the queue enabled
 * (IHI 0070: SMMU_CMDQ_CONS, SMMU_EVTQ_PROD, SMMU_PRIQ_PROD); the owner's
 * side (CMDQ_PROD, EVTQ_CONS, PRIQ_CONS) is written in the same window,
 * so a queue comes back on with nothing new in it. */
static void restore_regs(struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);

	(void)smmu_cr0_set(su, (uint32_t)SMMU_CR0_MASK, false);
	reg_write64(r, SMMU_STRTAB_BASE, su->saved.strtab_base);
	reg_write32(r, SMMU_STRTAB_BASE_CFG, su->saved.strtab_cfg);
	reg_write64(r, SMMU_CMDQ_BASE, su->saved.cmdq_base);
	reg_write64(r, SMMU_EVTQ_BASE, su->saved.evtq_base);
	reg_write32(r, SMMU_CMDQ_CONS, su->saved.cmdq_cons & ~(uint32_t)SMMU_CMDQ_CONS_ERR);
	reg_write32(r, SMMU_CMDQ_PROD, su->saved.cmdq_prod);
	reg_write32(r, SMMU_EVTQ_PROD, su->saved.evtq_prod);
	reg_write32(r, SMMU_EVTQ_CONS, su->saved.evtq_cons);
	if (su->pri) {
		reg_write64(r, SMMU_PRIQ_BASE, su->saved.priq_base);
		reg_write32(r, SMMU_PRIQ_PROD, su->saved.priq_prod);
		reg_write32(r, SMMU_PRIQ_CONS, su->saved.priq_cons);
	}
	reg_write32(r, SMMU_CR1, su->saved.cr1);
	reg_write32(r, SMMU_CR2, su->saved.cr2);
	reg_write32(r, SMMU_IRQ_CTRL, su->saved.irq_ctrl);
	(void)gbpa_write(su, su->saved.gbpa);
	if (su->saved.cr0 & SMMU_CR0_MASK)
		(void)smmu_cr0_set(su, su->saved.cr0 & (uint32_t)SMMU_CR0_MASK, true);
}

/* ------------------------------------------------------------ take-over */

static int read_ids(struct uiommu_unit *u, struct smmu_unit *su)
{
	const struct uiommu_regio *r = smmu_rio(su);

	for (unsigned int i = 0; i < 6; i++)
		su->idr[i] = reg_read32(r, SMMU_IDR0 + 4 * i);
	su->iidr = reg_read32(r, SMMU_IIDR);
	su->aidr = reg_read32(r, SMMU_AIDR);
	if (su->idr[0] == UINT32_MAX || !(su->idr[0] & (SMMU_IDR0_S1P | SMMU_IDR0_S2P))) {
		SMMU_LOG(ERR, "no SMMUv3 at 0x%llx (IDR0 0x%08x)", (unsigned long long)u->reg_base,
			 su->idr[0]);
		return -ENODEV;
	}
	if (!(FIELD_GET(SMMU_IDR0_TTF, su->idr[0]) & SMMU_IDR0_TTF_AA64) ||
	    !(su->idr[5] & SMMU_IDR5_GRAN4K) || FIELD_GET(SMMU_IDR0_TTENDIAN, su->idr[0]) == 3) {
		SMMU_LOG(ERR,
			 "unit at 0x%llx: no AArch64 little-endian tables with 4 KiB granule "
			 "(IDR0 0x%08x IDR5 0x%08x)",
			 (unsigned long long)u->reg_base, su->idr[0], su->idr[5]);
		return -EOPNOTSUPP;
	}
	/* Fixed table/queue addresses (an embedded SMMU) or bases relative to
	 * something we do not know (IDR1.REL): our STRTAB_BASE and queue bases
	 * would be ignored and the SMMU would walk tables we do not own.
	 * Linux's arm_smmu_device_hw_probe refuses these too. */
	if (su->idr[1] & (SMMU_IDR1_TABLES_PRESET | SMMU_IDR1_QUEUES_PRESET | SMMU_IDR1_REL)) {
		SMMU_LOG(ERR,
			 "unit at 0x%llx: table/queue addresses fixed by the implementation "
			 "(IDR1 0x%08x: TABLES_PRESET %u QUEUES_PRESET %u REL %u): not supported",
			 (unsigned long long)u->reg_base, su->idr[1],
			 !!(su->idr[1] & SMMU_IDR1_TABLES_PRESET),
			 !!(su->idr[1] & SMMU_IDR1_QUEUES_PRESET), !!(su->idr[1] & SMMU_IDR1_REL));
		return -EOPNOTSUPP;
	}
	su->s1 = su->idr[0] & SMMU_IDR0_S1P;
	su->s2 = su->idr[0] & SMMU_IDR0_S2P;
	su->coherent = su->idr[0] & SMMU_IDR0_COHACC;
	su->asid16 = su->idr[0] & SMMU_IDR0_ASID16;
	su->vmid16 = su->idr[0] & SMMU_IDR0_VMID16;
	su->cd2l = su->idr[0] & SMMU_IDR0_CD2L;
	su->pri = su->idr[0] & SMMU_IDR0_PRI;
	su->stall = FIELD_GET(SMMU_IDR0_STALL, su->idr[0]) != 1; /* 0 both, 2 stall only */
	su->ril = su->idr[3] & SMMU_IDR3_RIL;
	/* IDR5.OAS 0..6 are 32..52 bits; 7 is reserved (IHI 0070 6.3.6 SMMU_IDR5): an
	 * output size we cannot know, so no table we build can be right. */
	su->oas = smmu_oas_bits((unsigned int)FIELD_GET(SMMU_IDR5_OAS, su->idr[5]));
	if (!su->oas) {
		SMMU_LOG(ERR,
			 "unit at 0x%llx: IDR5.OAS encoding %u is reserved (IDR5 0x%08x): "
			 "output address size unknown, not taken over",
			 (unsigned long long)u->reg_base,
			 (unsigned int)FIELD_GET(SMMU_IDR5_OAS, su->idr[5]), su->idr[5]);
		return -EOPNOTSUPP;
	}
	if (su->oas > 48)
		su->oas = 48; /* the page-table engine's largest output (no LPA) */
	unsigned int ssid = (unsigned int)FIELD_GET(SMMU_IDR1_SSIDSIZE, su->idr[1]);
	unsigned int max = su->cd2l ? SMMU_SSID_BITS_MAX : SMMU_SSID_LINEAR_MAX;
	su->ssid_bits = ssid < max ? ssid : max;
	if (su->cd2l && su->ssid_bits && su->ssid_bits <= SMMU_CD_LEAF_BITS)
		su->cd2l = false; /* one leaf: linear is smaller */
	return 0;
}

/* In use: translating (SMMUEN), or any of its queues on.  An owner that
 * enabled a queue without SMMUEN still issues commands (a kernel between
 * its queue and SMMUEN steps, firmware using CMD_SYNC / PRI) or consumes
 * events: taking the queues from under it is refused like SMMUEN. */
static int takeover_check(struct uiommu_unit *u, struct smmu_unit *su, bool force)
{
	uint32_t cr0 = reg_read32(smmu_rio(su), SMMU_CR0);
	uint32_t busy =
		(uint32_t)(SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN | SMMU_CR0_PRIQEN);

	if (!(cr0 & busy))
		return 0;
	if (!force) {
		SMMU_LOG(ERR,
			 "unit at 0x%llx is in use (CR0 0x%x:%s%s%s%s): is the kernel's "
			 "arm-smmu-v3 driver on? boot with module_blacklist=arm_smmu_v3 (or "
			 "initcall_blacklist=arm_smmu_driver_init), or set force",
			 (unsigned long long)u->reg_base, cr0,
			 (cr0 & SMMU_CR0_SMMUEN) ? " SMMUEN" : "",
			 (cr0 & SMMU_CR0_CMDQEN) ? " CMDQEN" : "",
			 (cr0 & SMMU_CR0_EVTQEN) ? " EVTQEN" : "",
			 (cr0 & SMMU_CR0_PRIQEN) ? " PRIQEN" : "");
		return -EBUSY;
	}
	SMMU_LOG(WARNING, "unit at 0x%llx: taking over from its previous owner (CR0 0x%x)",
		 (unsigned long long)u->reg_base, cr0);
	return 0;
}

static int smmu_unit_init(struct uiommu_unit *u, const struct uiommu_unit_desc *desc)
{
	struct smmu_unit *su;
	const struct uiommu_regio *r;
	uint32_t cr1, attr;
	int rc;

	su = uenv_zalloc(sizeof(*su));
	if (!su)
		return -ENOMEM;
	su->u = u;
	su->timeout_ns = SMMU_TIMEOUT_NS;
	u->priv = su;
	rc = unit_regs_map(u, SMMU_REG_SIZE);
	if (rc)
		goto err_free;
	r = smmu_rio(su);
	rc = read_ids(u, su);
	if (rc)
		goto err_free;
	rc = takeover_check(u, su, desc->force);
	if (rc)
		goto err_free;
	su->nested_vmids = uenv_zalloc(65536 / 8);
	if (!su->nested_vmids) {
		rc = -ENOMEM;
		goto err_free;
	}
	save_regs(su);
	rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_MASK, false);
	if (rc)
		goto err_restore;
	/* While we set up, incoming traffic aborts.  Deferred (the DPDK
	 * plugin's safe take-over): SMMUEN stays off until unit_enable, and
	 * until then every device sees GBPA as it found it (bypass, or abort,
	 * whatever the firmware left), so devices still in use by others are
	 * not cut off, not even while we set up; the tables and queues are
	 * built meanwhile, and attachments take effect at SMMUEN.  Only when
	 * a previous owner translated (force over SMMUEN) the window aborts:
	 * its devices never went untranslated and must not now. */
	su->en_deferred = (desc->flags & UIOMMU_UNIT_F_DEFER_ENABLE) != 0;
	if (!su->en_deferred || (su->saved.cr0 & SMMU_CR0_SMMUEN)) {
		rc = gbpa_write(su, (uint32_t)SMMU_GBPA_ABORT);
		if (rc)
			goto err_restore;
	}
	attr = su->coherent ? SMMU_CR1_CACHE_WB : SMMU_CR1_CACHE_NC;
	cr1 = (uint32_t)(FIELD_PREP(SMMU_CR1_TABLE_SH, su->coherent ? SMMU_SH_ISH : SMMU_SH_OSH) |
			 FIELD_PREP(SMMU_CR1_TABLE_OC, attr) | FIELD_PREP(SMMU_CR1_TABLE_IC, attr) |
			 FIELD_PREP(SMMU_CR1_QUEUE_SH, su->coherent ? SMMU_SH_ISH : SMMU_SH_OSH) |
			 FIELD_PREP(SMMU_CR1_QUEUE_OC, attr) | FIELD_PREP(SMMU_CR1_QUEUE_IC, attr));
	reg_write32(r, SMMU_CR1, cr1);
	/* Private TLB maintenance: our ASIDs are not the CPU's. */
	reg_write32(r, SMMU_CR2, (uint32_t)(SMMU_CR2_PTM | SMMU_CR2_RECINVSID));
	reg_write32(r, SMMU_IRQ_CTRL, 0); /* polled: no interrupts */
	rc = smmu_strtab_init(su);
	if (rc)
		goto err_restore;
	rc = smmu_cmdq_init(su);
	if (rc)
		goto err_strtab;
	rc = smmu_cmdq_enable(su);
	if (rc)
		goto err_cmdq;
	rc = smmu_inv_all(su);
	if (rc)
		goto err_cmdq;
	rc = smmu_evtq_init(su);
	if (rc)
		goto err_cmdq;
	rc = smmu_cr0_set(su, (uint32_t)(SMMU_CR0_EVTQEN | (su->pri ? SMMU_CR0_PRIQEN : 0)), true);
	if (rc)
		goto err_evtq;
	if (!su->en_deferred) {
		rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_SMMUEN, true);
		if (rc)
			goto err_evtq;
	}
	fill_caps(u, su);
	SMMU_LOG(INFO,
		 "unit %u at 0x%llx: IDR0 %08x IDR1 %08x IDR5 %08x, %s stream table (%u-bit "
		 "StreamIDs), %u-bit SubstreamIDs, %scoherent%s",
		 u->obj.id, (unsigned long long)u->reg_base, su->idr[0], su->idr[1], su->idr[5],
		 su->st_2lvl ? "2-level" : "linear", su->sid_bits, su->ssid_bits,
		 su->coherent ? "" : "non-",
		 su->en_deferred ? ", translation deferred (SMMUEN off, GBPA in force)" : "");
	return 0;

err_evtq:
	(void)smmu_cr0_set(su, (uint32_t)SMMU_CR0_MASK, false);
	smmu_evtq_fini(su);
err_cmdq:
	(void)smmu_cr0_set(su, (uint32_t)SMMU_CR0_MASK, false);
	smmu_cmdq_fini(su);
err_strtab:
	smmu_strtab_fini(su);
err_restore:
	restore_regs(su);
err_free:
	uenv_free(su->nested_vmids);
	u->priv = NULL;
	uenv_free(su);
	return rc;
}

static void smmu_unit_fini(struct uiommu_unit *u)
{
	struct smmu_unit *su = smmu_of(u);

	if (!su)
		return;
	restore_regs(su);
	smmu_evtq_fini(su);
	smmu_cmdq_fini(su);
	smmu_strtab_fini(su);
	uenv_free(su->nested_vmids);
	u->priv = NULL;
	uenv_free(su);
}

/* UIOMMU_UNIT_F_DEFER_ENABLE: translation on (CR0.SMMUEN through CR0ACK),
 * with the STEs written since take-over in force (each went out with its
 * CFGI_STE + CMD_SYNC, and take-over invalidated everything). */
static int smmu_unit_enable(struct uiommu_unit *u)
{
	struct smmu_unit *su = smmu_of(u);
	int rc;

	if (!su)
		return -EINVAL;
	if (reg_read32(smmu_rio(su), SMMU_CR0) & SMMU_CR0_SMMUEN) {
		su->en_deferred = false;
		return 0;
	}
	rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_SMMUEN, true);
	if (rc) {
		SMMU_LOG(ERR, "unit %u: translation did not come on (CR0ACK.SMMUEN)", u->obj.id);
		return rc;
	}
	su->en_deferred = false;
	return 0;
}

/* A DMA block of the state: at least @len bytes, its va in the arena and
 * matching its bus address. */
static bool dma_ok(const struct uenv_dma *d, size_t len)
{
	return d->va && d->len >= len && uenv_in_arena(d->va, len) &&
	       uenv_va_to_iova(d->va) == d->iova;
}

static bool queue_ok(const struct smmu_queue *q, unsigned int max, unsigned int ent, bool cons_ovf)
{
	if (!q->shift || q->shift > max || !dma_ok(&q->mem, (size_t)ent << q->shift))
		return false;
	uint32_t mask = (2u << q->shift) - 1u;
	return !(q->prod & ~mask) && !(q->cons & ~(mask | (cons_ovf ? (uint32_t)SMMU_Q_OVF : 0)));
}

/* What a new process (or a restored image) reads from the state file is
 * input: every size, index and pointer the driver will follow is checked
 * against the bounds it builds with (-EINVAL: not adopted). */
static int smmu_state_check(struct uiommu_unit *u, const struct smmu_unit *su)
{
	const char *bad = NULL;

	if (!su || !uenv_is_meta(su, sizeof(*su)) || su->u != u)
		bad = "unit record";
	else if (!queue_ok(&su->cmdq, SMMU_CMDQ_SHIFT, 16, false))
		bad = "command queue";
	else if (!queue_ok(&su->evtq, SMMU_EVTQ_SHIFT, 32, true))
		bad = "event queue";
	else if (su->pri && !queue_ok(&su->priq, SMMU_PRIQ_SHIFT, 16, true))
		bad = "PRI queue";
	else if (su->ssid_bits > SMMU_SSID_BITS_MAX ||
		 (!su->cd2l && su->ssid_bits > SMMU_SSID_LINEAR_MAX) ||
		 (su->cd2l && su->ssid_bits && su->ssid_bits <= SMMU_CD_LEAF_BITS))
		bad = "SubstreamID size";
	else if (!su->nested_vmids || !uenv_is_meta(su->nested_vmids, 65536 / 8))
		bad = "VMID map";
	else if (su->st_2lvl) {
		if (su->sid_bits <= SMMU_SPLIT || su->sid_bits > SMMU_SID_BITS_MAX ||
		    su->nr_l1 != 1u << (su->sid_bits - SMMU_SPLIT) ||
		    !dma_ok(&su->strtab, (size_t)su->nr_l1 * 8) ||
		    !uenv_is_meta(su->l2, sizeof(*su->l2) * su->nr_l1))
			bad = "stream table";
		/* The SMMU reads each L2 table aligned to its size (IHI 0070
		 * 5.1 L2Ptr): one that is not would have it read STEs that are
		 * not the ones we write. */
		for (uint32_t i = 0; !bad && i < su->nr_l1; i++)
			if (su->l2[i].va && (!dma_ok(&su->l2[i], SMMU_L2_STRTAB_SIZE) ||
					     !IS_ALIGNED_ULL(su->l2[i].iova, SMMU_L2_STRTAB_SIZE)))
				bad = "second-level stream table";
	} else if (su->sid_bits > SMMU_LINEAR_SID_MAX ||
		   !dma_ok(&su->strtab, (size_t)SMMU_STE_SIZE << su->sid_bits)) {
		bad = "stream table";
	}
	/* STRTAB_BASE.ADDR is aligned by the SMMU to the (L1) table's size,
	 * at least 64 bytes (6.3.24). */
	if (!bad) {
		uint64_t size = su->st_2lvl ? (uint64_t)su->nr_l1 * 8
					    : (uint64_t)SMMU_STE_SIZE << su->sid_bits;

		if (!IS_ALIGNED_ULL(su->strtab.iova, size > 64 ? size : 64))
			bad = "stream table alignment";
	}
	if (!bad)
		return 0;
	SMMU_LOG(ERR, "unit %u: the state's %s is not one this driver builds: not adopted",
		 u->obj.id, bad);
	return -EINVAL;
}

/* A new process adopts the state: the SMMU must still use our tables. */
static int smmu_unit_adopt(struct uiommu_unit *u)
{
	struct smmu_unit *su = smmu_of(u);
	int rc = smmu_state_check(u, su);

	if (rc)
		return rc;
	const struct uiommu_regio *r = smmu_rio(su);
	uint64_t st = reg_read64(r, SMMU_STRTAB_BASE), cq = reg_read64(r, SMMU_CMDQ_BASE);

	if ((st & SMMU_STRTAB_BASE_ADDR) != su->strtab.iova ||
	    (cq & SMMU_Q_BASE_ADDR) != su->cmdq.mem.iova ||
	    (!su->en_deferred && !(reg_read32(r, SMMU_CR0) & SMMU_CR0_SMMUEN))) {
		SMMU_LOG(ERR, "unit %u: the SMMU no longer uses our tables (STRTAB_BASE 0x%llx)",
			 u->obj.id, (unsigned long long)st);
		return -ESTALE;
	}
	return 0;
}

/* Tables were put back to an earlier image: restart the command queue
 * (the image's PROD is not where the SMMU is), point the SMMU at our
 * tables again, invalidate every cache, translation on. */
static int smmu_unit_recover(struct uiommu_unit *u)
{
	struct smmu_unit *su = smmu_of(u);
	const struct uiommu_regio *r;
	uint32_t gerror, gerrorn;
	int rc = smmu_state_check(u, su);

	if (rc)
		return rc;
	r = smmu_rio(su);
	gerror = reg_read32(r, SMMU_GERROR);
	gerrorn = reg_read32(r, SMMU_GERRORN);
	if ((gerror ^ gerrorn) & SMMU_GERROR_CMDQ_ERR)
		reg_write32(r, SMMU_GERRORN, gerrorn ^ (uint32_t)SMMU_GERROR_CMDQ_ERR);
	rc = smmu_cmdq_enable(su);
	if (rc)
		return rc;
	if ((reg_read64(r, SMMU_STRTAB_BASE) & SMMU_STRTAB_BASE_ADDR) != su->strtab.iova) {
		rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_SMMUEN, false);
		if (rc)
			return rc;
		reg_write64(r, SMMU_STRTAB_BASE,
			    (su->strtab.iova & SMMU_STRTAB_BASE_ADDR) |
				    (su->coherent ? SMMU_STRTAB_BASE_RA : 0));
	}
	rc = smmu_inv_all(su);
	if (rc)
		return rc;
	if (!su->en_deferred && !(reg_read32(r, SMMU_CR0) & SMMU_CR0_SMMUEN))
		rc = smmu_cr0_set(su, (uint32_t)SMMU_CR0_SMMUEN, true);
	return rc;
}

/* ------------------------------------------------------------ page tables */

static int smmu_pgt_config(struct uiommu_unit *u, bool stage1, bool nest_parent,
			   struct pgt_cfg *cfg)
{
	struct smmu_unit *su = smmu_of(u);

	memset(cfg, 0, sizeof(*cfg));
	cfg->node = u->numa_node;
	cfg->coherent = su->coherent;
	cfg->pgsize_bitmap = (1ull << 12) | (1ull << 21) | (1ull << 30);
	cfg->oas = su->oas;
	/* An explicit paging HWPT is stage 2 where the SMMU has it (the
	 * family table), stage 1 + CD on request (UIOMMU_HWPT_STAGE1, and
	 * every automatic HWPT: auto_stage1) or on a stage-1-only SMMU. */
	if (stage1 || !su->s2) {
		if (!su->s1 || nest_parent)
			return -EOPNOTSUPP;
		cfg->fmt = PGT_ARM_S1_4K;
		cfg->ias = 48;
		return 0;
	}
	if (nest_parent && !(su->s1 && su->s2))
		return -EOPNOTSUPP;
	cfg->fmt = PGT_ARM_S2_4K;
	cfg->ias = su->oas; /* IPA size <= OAS */
	return 0;
}

static bool smmu_pgt_compatible(struct uiommu_unit *u, const struct pgt_cfg *cfg)
{
	struct smmu_unit *su = smmu_of(u);

	if (cfg->fmt == PGT_ARM_S1_4K ? !su->s1 : cfg->fmt == PGT_ARM_S2_4K ? !su->s2 : true)
		return false;
	if (cfg->oas > su->oas || (cfg->fmt == PGT_ARM_S2_4K && cfg->ias > su->oas))
		return false;
	/* Tables written for a snooping walker are not written back. */
	return !cfg->coherent || su->coherent;
}

/* ------------------------------------------------------------ peek, decode */

/* IDR5.OAS is an encoding: shown as the number of bits. */
static uint64_t oas_bits(uint64_t enc)
{
	return smmu_oas_bits((unsigned int)enc);
}


static const struct reg_field_desc idr0_f[] = {
	{"S2P", SMMU_IDR0_S2P},
	{"S1P", SMMU_IDR0_S1P},
	{"TTF", SMMU_IDR0_TTF},
	{"COHACC", SMMU_IDR0_COHACC},
	{"BTM", SMMU_IDR0_BTM},
	{"HTTU", SMMU_IDR0_HTTU},
	{"HYP", SMMU_IDR0_HYP},
	{"ATS", SMMU_IDR0_ATS},
	{"ASID16", SMMU_IDR0_ASID16},
	{"MSI", SMMU_IDR0_MSI},
	{"SEV", SMMU_IDR0_SEV},
	{"PRI", SMMU_IDR0_PRI},
	{"VMID16", SMMU_IDR0_VMID16},
	{"CD2L", SMMU_IDR0_CD2L},
	{"TTENDIAN", SMMU_IDR0_TTENDIAN},
	{"STALL_MODEL", SMMU_IDR0_STALL},
	{"TERM_MODEL", SMMU_IDR0_TERM_MODEL},
	{"ST_LEVEL", SMMU_IDR0_ST_LEVEL},
};
static const struct reg_field_desc idr1_f[] = {
	{"SIDSIZE", SMMU_IDR1_SIDSIZE},
	{"SSIDSIZE", SMMU_IDR1_SSIDSIZE},
	{"PRIQS", SMMU_IDR1_PRIQS},
	{"EVTQS", SMMU_IDR1_EVTQS},
	{"CMDQS", SMMU_IDR1_CMDQS},
	{"REL", SMMU_IDR1_REL},
	{"QUEUES_PRESET", SMMU_IDR1_QUEUES_PRESET},
	{"TABLES_PRESET", SMMU_IDR1_TABLES_PRESET},
};
static const struct reg_field_desc idr3_f[] = {{"HAD", SMMU_IDR3_HAD}, {"RIL", SMMU_IDR3_RIL}};
static const struct reg_field_desc idr5_f[] = {
	{"OAS", SMMU_IDR5_OAS, 0, oas_bits},		{"GRAN4K", SMMU_IDR5_GRAN4K},
	{"GRAN16K", SMMU_IDR5_GRAN16K}, {"GRAN64K", SMMU_IDR5_GRAN64K},
	{"VAX", SMMU_IDR5_VAX},		{"STALL_MAX", SMMU_IDR5_STALL_MAX},
};
static const struct reg_field_desc iidr_f[] = {
	{"Implementer", SMMU_IIDR_IMPLEMENTER},
	{"Revision", SMMU_IIDR_REVISION},
	{"Variant", SMMU_IIDR_VARIANT},
	{"ProductID", SMMU_IIDR_PRODUCTID},
};
static const struct reg_field_desc cr0_f[] = {
	{"SMMUEN", SMMU_CR0_SMMUEN}, {"PRIQEN", SMMU_CR0_PRIQEN}, {"EVTQEN", SMMU_CR0_EVTQEN},
	{"CMDQEN", SMMU_CR0_CMDQEN}, {"ATSCHK", SMMU_CR0_ATSCHK},
};
static const struct reg_field_desc gbpa_f[] = {
	{"MemAttr", SMMU_GBPA_MEMATTR}, {"MTCFG", SMMU_GBPA_MTCFG},
	{"ALLOCFG", SMMU_GBPA_ALLOCFG}, {"SHCFG", SMMU_GBPA_SHCFG},
	{"PRIVCFG", SMMU_GBPA_PRIVCFG}, {"INSTCFG", SMMU_GBPA_INSTCFG},
	{"ABORT", SMMU_GBPA_ABORT},	{"Update", SMMU_GBPA_UPDATE},
};
static const struct reg_field_desc stcfg_f[] = {
	{"LOG2SIZE", SMMU_STRTAB_CFG_LOG2SIZE},
	{"SPLIT", SMMU_STRTAB_CFG_SPLIT},
	{"FMT", SMMU_STRTAB_CFG_FMT},
};

static void emit(uiommu_reg_cb cb, void *arg, enum uiommu_reg_kind kind, const char *name,
		 uint32_t off, uint32_t width, uint64_t val, const char *text,
		 const struct reg_field_desc *fd, size_t nfd)
{
	reg_view_emit(cb, arg, kind, name, off, width, val, text, width / 4, fd, nfd);
}

/* A peek's status: CR0 (bits 31:0) and GBPA (63:32). */
static void smmu_decode_regs(const struct uiommu_hw_info *info, const uint64_t *status,
			     uiommu_reg_cb cb, void *arg)
{
	const uint32_t *idr = info->u.smmuv3.idr;
	char aidr[16];

	emit(cb, arg, UIOMMU_REG_ID, "IDR0", SMMU_IDR0, 32, idr[0], NULL, idr0_f,
	     ARRAY_SIZE(idr0_f));
	emit(cb, arg, UIOMMU_REG_ID, "IDR1", SMMU_IDR1, 32, idr[1], NULL, idr1_f,
	     ARRAY_SIZE(idr1_f));
	emit(cb, arg, UIOMMU_REG_ID, "IDR2", SMMU_IDR2, 32, idr[2], NULL, NULL, 0);
	emit(cb, arg, UIOMMU_REG_ID, "IDR3", SMMU_IDR3, 32, idr[3], NULL, idr3_f,
	     ARRAY_SIZE(idr3_f));
	emit(cb, arg, UIOMMU_REG_ID, "IDR4", SMMU_IDR4, 32, idr[4], NULL, NULL, 0);
	emit(cb, arg, UIOMMU_REG_ID, "IDR5", SMMU_IDR5, 32, idr[5], NULL, idr5_f,
	     ARRAY_SIZE(idr5_f));
	emit(cb, arg, UIOMMU_REG_ID, "IIDR", SMMU_IIDR, 32, info->u.smmuv3.iidr, NULL, iidr_f,
	     ARRAY_SIZE(iidr_f));
	snprintf(aidr, sizeof(aidr), "3.%u",
		 (unsigned int)FIELD_GET(SMMU_AIDR_MINOR, info->u.smmuv3.aidr));
	emit(cb, arg, UIOMMU_REG_ID, "AIDR", SMMU_AIDR, 32, info->u.smmuv3.aidr, aidr, NULL, 0);
	if (status) {
		emit(cb, arg, UIOMMU_REG_STATUS, "CR0", SMMU_CR0, 32, (uint32_t)*status, NULL,
		     cr0_f, ARRAY_SIZE(cr0_f));
		emit(cb, arg, UIOMMU_REG_STATUS, "GBPA", SMMU_GBPA, 32, *status >> 32, NULL, gbpa_f,
		     ARRAY_SIZE(gbpa_f));
		return;
	}
	emit(cb, arg, UIOMMU_REG_FEATURE, "strtab-2lvl", 0, 0, info->u.smmuv3.st_2lvl, NULL, NULL,
	     0);
	(void)stcfg_f;
}

static int smmu_peek(const struct uiommu_regio *r, struct uiommu_unit_peek *out)
{
	uint32_t idr[6], cr0, gbpa, stcfg;
	uint64_t st;

	for (unsigned int i = 0; i < 6; i++)
		idr[i] = reg_read32(r, SMMU_IDR0 + 4 * i);
	if (idr[0] == UINT32_MAX || !(idr[0] & (SMMU_IDR0_S1P | SMMU_IDR0_S2P)))
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	out->info.family = UIOMMU_FAMILY_SMMUV3;
	memcpy(out->info.u.smmuv3.idr, idr, sizeof(idr));
	out->info.u.smmuv3.iidr = reg_read32(r, SMMU_IIDR);
	out->info.u.smmuv3.aidr = reg_read32(r, SMMU_AIDR);
	cr0 = reg_read32(r, SMMU_CR0);
	gbpa = reg_read32(r, SMMU_GBPA);
	st = reg_read64(r, SMMU_STRTAB_BASE);
	stcfg = reg_read32(r, SMMU_STRTAB_BASE_CFG);
	out->status = cr0 | (uint64_t)gbpa << 32;
	out->in_use = cr0 & SMMU_CR0_SMMUEN;
	snprintf(out->text, sizeof(out->text),
		 "stage%s%s, %u-bit StreamIDs, %u-bit SubstreamIDs, OAS %u-bit, %s stream "
		 "tables%s%s%s; "
		 "STRTAB_BASE 0x%llx (%s, LOG2SIZE %u, SPLIT %u)",
		 (idr[0] & SMMU_IDR0_S1P) ? " 1" : "", (idr[0] & SMMU_IDR0_S2P) ? " 2" : "",
		 (unsigned int)FIELD_GET(SMMU_IDR1_SIDSIZE, idr[1]),
		 (unsigned int)FIELD_GET(SMMU_IDR1_SSIDSIZE, idr[1]),
		 smmu_oas_bits((unsigned int)FIELD_GET(SMMU_IDR5_OAS, idr[5])),
		 FIELD_GET(SMMU_IDR0_ST_LEVEL, idr[0]) ? "linear+2-level" : "linear",
		 (idr[0] & SMMU_IDR0_COHACC) ? ", coherent" : "",
		 (idr[3] & SMMU_IDR3_RIL) ? ", RIL" : "", (idr[0] & SMMU_IDR0_PRI) ? ", PRI" : "",
		 (unsigned long long)(st & SMMU_STRTAB_BASE_ADDR),
		 FIELD_GET(SMMU_STRTAB_CFG_FMT, stcfg) ? "2-level" : "linear",
		 (unsigned int)FIELD_GET(SMMU_STRTAB_CFG_LOG2SIZE, stcfg),
		 (unsigned int)FIELD_GET(SMMU_STRTAB_CFG_SPLIT, stcfg));
	return 0;
}

/* ------------------------------------------------------------ tests */

void smmu_test_skip_tlbi(struct uiommu_unit *u, bool skip)
{
	smmu_of(u)->test_skip_tlbi = skip;
}

void smmu_get_stats(const struct uiommu_unit *u, struct smmu_stats *st)
{
	*st = smmu_of(u)->stats;
}

/* No /proc/iomem name tells whether the kernel's driver owns an SMMU: an
 * unbound ACPI SMMU is listed as "arm-smmu-v3.0.auto", a bound DT one as
 * "9050000.smmuv3".  The take-over asks which devices are bound to the
 * arm-smmu-v3 platform driver instead (uenv_platform_claim); CR0.SMMUEN
 * is the second guard (takeover_check). */

const struct uiommu_family_ops smmuv3_family_ops = {
	.name = "smmuv3",
	.family = UIOMMU_FAMILY_SMMUV3,
	.regs =
		{
			.what = "SMMUv3",
			.size = SMMU_PEEK_SIZE,
			.platform_driver = "arm-smmu-v3",
			.kernel_off = "boot with module_blacklist=arm_smmu_v3 (or "
				      "initcall_blacklist=arm_smmu_driver_init)",
		},
	.auto_stage1 = true,
	.unit_init = smmu_unit_init,
	.unit_enable = smmu_unit_enable,
	.unit_fini = smmu_unit_fini,
	.unit_adopt = smmu_unit_adopt,
	.unit_recover = smmu_unit_recover,
	.pgt_config = smmu_pgt_config,
	.pgt_compatible = smmu_pgt_compatible,
	.dev_set = smmu_dev_set,
	.s1_check = smmu_s1_check,
	.dev_probe = smmu_dev_probe,
	.dev_release = smmu_dev_release,
	.dev_walk = smmu_dev_walk,
	.flush = smmu_flush,
	.cache_invalidate = smmu_cache_invalidate,
	.poll = smmu_poll,
	.page_response = smmu_page_response,
	.peek = smmu_peek,
	.decode_regs = smmu_decode_regs,
};
