/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU guest program for the SMMUv3 driver (aarch64 guest, qemu-system-
 * aarch64 -M virt,iommu=smmuv3, QEMU 10's "nested" SMMU, the kernel's
 * driver kept off with initcall_blacklist=arm_smmu_driver_init): uiommu
 * drives the SMMU from userspace through the public API and QEMU's edu
 * device does DMA through it.
 *
 * Scenarios (argv selects; none = all):
 *   smmuv3-strtab-2lvl  IDR0.ST_LEVEL=1, SIDSIZE=16: the driver builds a
 *                       2-level stream table (hw_info.st_2lvl, 16 StreamID
 *                       bits); edu's STE is reached through an L1STD
 *                       (device walk); a bypass STE passes edu DMA at PA;
 *                       detach -> abort STE, the DMA is dropped; give-back
 *                       of a previous owner's CR2, STRTAB_BASE(_CFG) and
 *                       queue bases (written before the take-over).
 *   smmuv3-no-ssid      QEMU 10.0.2 has IDR1.SSIDSIZE=0 (no SubstreamIDs):
 *                       caps.pasid_bits is 0 and a PASID attach is refused
 *                       with nothing changed (the RID still translates).
 *                       PASID/SubstreamID attach is proven on the built-in
 *                       model (test/smmuv3/smmu_ut.c test_pasid).
 *   smmuv3-s1           stage 1 (UIOMMU_HWPT_STAGE1: STE Config=S1, CD,
 *                       ASID): 4 KiB pages and a 2 MiB block (walk leaf
 *                       sizes), DMA both ways; a read-only page -> edu
 *                       write F_PERMISSION from EVTQ; a PTE cleared behind
 *                       the driver's back still translates (QEMU caches
 *                       the IOTLB entry); uiommu_ioas_unmap -> the same
 *                       IOVA faults at once (F_TRANSLATION, nothing
 *                       written): the driver's TLBI_NH_VA made it fault.
 *   smmuv3-s2           the same on stage 2 only (STE Config=S2, VMID,
 *                       VTCR): faults carry S2 and the IPA (addr2).
 *   smmuv3-nested       a nest-parent stage 2 (IPA -> PA) and two vIOMMUs
 *                       (two VMIDs) over it; each VM's CD and stage-1
 *                       tables live in memory mapped by stage 2 (addressed
 *                       by IPA); the same guest VA and ASID reach each VM's
 *                       own page; a guest PTE edit stays stale (also
 *                       after a TLBI of another ASID, or of its ASID under
 *                       the other VMID) until the guest's own TLBI_NH_ASID
 *                       (uiommu_cache_invalidate); a
 *                       guest-unmapped VA -> stage-1 fault; the host unmaps
 *                       the data IPA -> stage-2 fault with the IPA.
 *   smmuv3-kernel-owned (only when named; a boot with the kernel's driver
 *                       on): a device is bound to arm-smmu-v3 and
 *                       uiommu_unit_add refuses the take-over with EBUSY.
 * The SMMU's base: the live IORT through uiommu_fw (UEFI + ACPI boot) or
 * the device tree node compatible with "arm,smmu-v3".
 * Every scenario ends with the unit given back: CR0, CR1, CR2, GBPA,
 * STRTAB_BASE(_CFG), CMDQ_BASE and EVTQ_BASE read through /dev/mem equal
 * what they were before the take-over.
 *
 * Register offsets and fields: Arm IHI 0070 (SMMUv3), 6.3; CD layout 5.4;
 * VMSAv8-64 stage-1 descriptors (the guest's own tables): Arm ARM D8.3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_memory.h>

#include "core/bitfield.h"
#include "guest_lib.h"
#include "hw/smmuv3/smmu_regs.h"
#include "pgtable/pgt_hw.h"
#include "uiommu/uiommu.h"
#include "uiommu/uiommu_fw.h"

#define TMO_MS	   5000u
#define IOVA_4K	   0x10000000ull /* 64 KiB of 4 KiB pages -> huge + 0 */
#define IOVA_2M	   0x40000000ull /* one 2 MiB block -> huge */
#define IOVA_RO	   0x20000000ull /* one read-only 4 KiB page -> huge + 0x20000 */
#define NEST_IPA   0x80000000ull /* the VMs' "RAM": IPA -> huge */
#define GUEST_VA   0x7000123000ull
#define GUEST_ASID 3u
#define VM_RAM	   0x40000ull /* both VMs' RAM (IPA NEST_IPA..), 128 KiB each */

static struct uiommu_ctx *ctx;
static uint64_t smmu_base;

/* ---- firmware: the SMMU's base from the device tree (gt_dt_smmu_base) ---- */

/* UEFI + ACPI: the SMMUv3 node of the live IORT, through uiommu's own
 * firmware parser (the same as `uiommuctl probe`). */
static int fw_smmu_base(uint64_t *base)
{
	struct uiommu_fw_topo topo;
	char err[160] = "";
	int n, rc = -ENOENT;

	uiommu_fw_init(&topo);
	n = uiommu_fw_load_dir(&topo, NULL, err, sizeof(err));
	for (size_t i = 0; n > 0 && i < topo.nunits; i++)
		if (topo.units[i].family == UIOMMU_FAMILY_SMMUV3 &&
		    !(topo.units[i].flags & UIOMMU_FW_UNIT_BAD_BASE)) {
			*base = topo.units[i].base;
			gt_log("IORT via uiommu_fw: SMMUv3 at 0x%" PRIx64, *base);
			rc = 0;
			break;
		}
	uiommu_fw_free(&topo);
	return rc;
}

/* Devices bound to the kernel's arm-smmu-v3 driver (0: none). */
static int kernel_bound(char *dev, size_t len)
{
	DIR *d = opendir("/sys/bus/platform/drivers/arm-smmu-v3");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_type == DT_LNK && strcmp(e->d_name, "module")) {
			snprintf(dev, len, "%.63s", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* ---- registers a give-back must restore (read through /dev/mem) ---- */

struct regsnap {
	uint32_t cr0, cr1, cr2, gbpa, strtab_cfg;
	uint64_t strtab, cmdq, evtq;
};

static int snap(struct regsnap *s)
{
	volatile uint8_t *r = gt_phys_map(smmu_base, 4096);

	if (!r)
		return -errno;
	s->cr0 = *(volatile uint32_t *)(r + SMMU_CR0);
	s->cr1 = *(volatile uint32_t *)(r + SMMU_CR1);
	s->cr2 = *(volatile uint32_t *)(r + SMMU_CR2);
	s->gbpa = *(volatile uint32_t *)(r + SMMU_GBPA);
	s->strtab_cfg = *(volatile uint32_t *)(r + SMMU_STRTAB_BASE_CFG);
	s->strtab = *(volatile uint64_t *)(r + SMMU_STRTAB_BASE);
	s->cmdq = *(volatile uint64_t *)(r + SMMU_CMDQ_BASE);
	s->evtq = *(volatile uint64_t *)(r + SMMU_EVTQ_BASE);
	gt_phys_unmap((void *)(uintptr_t)r, 4096);
	return 0;
}

static bool snap_eq(const struct regsnap *a, const struct regsnap *b, char *why, size_t n)
{
	if (a->cr0 == b->cr0 && a->cr1 == b->cr1 && a->cr2 == b->cr2 && a->gbpa == b->gbpa &&
	    a->strtab_cfg == b->strtab_cfg && a->strtab == b->strtab && a->cmdq == b->cmdq &&
	    a->evtq == b->evtq)
		return true;
	snprintf(why, n,
		 "give-back: CR0 %x->%x CR1 %x->%x CR2 %x->%x GBPA %x->%x STRTAB %" PRIx64
		 "->%" PRIx64 " CFG %x->%x CMDQ %" PRIx64 "->%" PRIx64 " EVTQ %" PRIx64
		 "->%" PRIx64,
		 a->cr0, b->cr0, a->cr1, b->cr1, a->cr2, b->cr2, a->gbpa, b->gbpa, a->strtab,
		 b->strtab, a->strtab_cfg, b->strtab_cfg, a->cmdq, b->cmdq, a->evtq, b->evtq);
	return false;
}

/* ---- events ---- */

/* Drain; count faults of @sid, keep the last; other events counted apart. */
static int faults(uint32_t sid, struct uiommu_event *last, int *other)
{
	struct uiommu_event ev[16];
	uint16_t got;
	int n = 0;

	*other = 0;
	while ((got = uiommu_poll(ctx, ev, 16)) > 0) {
		for (uint16_t i = 0; i < got; i++) {
			gt_log("event type %d sid 0x%x addr 0x%" PRIx64 " addr2 0x%" PRIx64
			       " flags 0x%x reason 0x%x (%s)",
			       (int)ev[i].type, ev[i].hw_id, ev[i].addr, ev[i].addr2, ev[i].flags,
			       ev[i].reason, ev[i].reason_text ? ev[i].reason_text : "-");
			if (ev[i].type == UIOMMU_EV_FAULT && ev[i].hw_id == sid) {
				*last = ev[i];
				n++;
			} else {
				(*other)++;
			}
		}
	}
	return n;
}

/* Exactly one fault of @sid with @reason, @flags all set, at @addr (and
 * @addr2 when not ~0); else 1 with @why. */
static int want_fault(uint32_t sid, uint32_t reason, uint32_t flags, uint64_t addr, uint64_t addr2,
		      const char *what, char *why, size_t n)
{
	struct uiommu_event ev = {0};
	int other, nf = faults(sid, &ev, &other);

	if (nf == 1 && !other && ev.reason == reason && (ev.flags & flags) == flags &&
	    ev.addr == addr && (addr2 == ~0ull || ev.addr2 == addr2) &&
	    ((flags & UIOMMU_EV_STAGE2) || !(ev.flags & UIOMMU_EV_STAGE2)))
		return 0;
	snprintf(why, n,
		 "%s: %d faults (%d other), want reason 0x%x flags 0x%x addr 0x%" PRIx64
		 " addr2 0x%" PRIx64 "; got 0x%x 0x%x 0x%" PRIx64 " 0x%" PRIx64,
		 what, nf, other, reason, flags, addr, addr2, ev.reason, ev.flags, ev.addr,
		 ev.addr2);
	return 1;
}

static bool all_val(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* ---- common set-up ---- */

struct env {
	struct regsnap before;
	struct gt_edu edu;
	bool edu_open;
	struct gt_huge huge;
	struct uiommu_unit *unit;
	struct uiommu_device *dev;
};

static int env_up(struct env *e, char *why, size_t n)
{
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_SMMUV3,
		.access = UIOMMU_UNIT_MMIO,
		.reg_base = smmu_base,
		.numa_node = -1,
	};
	struct uiommu_device_desc dd = {0};
	int rc;

	memset(e, 0, sizeof(*e));
	rc = snap(&e->before);
	if (rc) {
		snprintf(why, n, "registers via /dev/mem: %s", strerror(-rc));
		return 1;
	}
	if (e->before.cr0 & SMMU_CR0_SMMUEN) {
		snprintf(why, n, "SMMU already enabled (CR0 0x%x)", e->before.cr0);
		return 1;
	}
	rc = gt_edu_open(&e->edu);
	if (rc) {
		snprintf(why, n, "edu: %s", strerror(-rc));
		return 1;
	}
	e->edu_open = true;
	rc = gt_huge_alloc(&e->huge);
	if (rc) {
		snprintf(why, n, "hugepage: %s", strerror(-rc));
		return 1;
	}
	rc = uiommu_unit_add(ctx, &ud, &e->unit);
	if (rc) {
		snprintf(why, n, "unit_add(0x%" PRIx64 "): %s", smmu_base, strerror(-rc));
		return 1;
	}
	/* virt's PCI host maps RIDs 1:1 to StreamIDs (iommu-map, checked by
	 * guest_smmuv3_fw's smmuv3-dt-iommu-map). */
	dd.bus = (uint8_t)(e->edu.requester_id >> 8);
	dd.devfn = (uint8_t)e->edu.requester_id;
	dd.hw_id = e->edu.requester_id;
	rc = uiommu_device_add(e->unit, &dd, &e->dev);
	if (rc) {
		snprintf(why, n, "device_add(StreamID 0x%x): %s", dd.hw_id, strerror(-rc));
		return 1;
	}
	rc = gt_edu_bus_master(&e->edu, true);
	if (rc) {
		snprintf(why, n, "bus master: %s", strerror(-rc));
		return 1;
	}
	return 0;
}

/* Tear down; a give-back that does not restore the registers fails. */
static int env_down(struct env *e, int fail, char *why, size_t n)
{
	struct regsnap after;

	if (e->edu_open)
		(void)gt_edu_bus_master(&e->edu, false);
	if (e->dev) {
		(void)uiommu_device_detach(e->dev, UIOMMU_NO_PASID);
		(void)uiommu_device_remove(e->dev);
	}
	if (e->unit && uiommu_unit_remove(e->unit) != 0 && !fail) {
		snprintf(why, n, "unit_remove failed");
		fail = 1;
	}
	if (e->unit && !fail && (snap(&after) || !snap_eq(&e->before, &after, why, n)))
		fail = 1;
	gt_huge_free(&e->huge);
	if (e->edu_open)
		gt_edu_close(&e->edu);
	return fail;
}

static int dma(struct env *e, uint64_t iova, size_t len, bool to_ram, char *why, size_t n)
{
	int rc = gt_edu_dma(&e->edu, iova, 0, len, to_ram, TMO_MS);

	if (rc)
		snprintf(why, n, "edu DMA 0x%" PRIx64 ": %s", iova, strerror(-rc));
	return rc ? 1 : 0;
}

/* A previous owner's settings (SMMUEN off), so that the give-back has
 * something other than reset values to restore: CR2.RECINVSID only (the
 * driver sets PTM too), a linear table base/config and queue bases
 * (IHI 0070 6.3.12, 6.3.23-6.3.27).  @set false: back to reset values. */
static int prestate(bool set)
{
	volatile uint8_t *r = gt_phys_map(smmu_base, 4096);

	if (!r)
		return -errno;
	*(volatile uint32_t *)(r + SMMU_CR2) = set ? 0x2u : 0;
	*(volatile uint64_t *)(r + SMMU_STRTAB_BASE) = set ? 0x47000000ull : 0;
	*(volatile uint32_t *)(r + SMMU_STRTAB_BASE_CFG) = set ? 8u : 0;
	*(volatile uint64_t *)(r + SMMU_CMDQ_BASE) = set ? 0x47100000ull | 5 : 0x13;
	*(volatile uint64_t *)(r + SMMU_EVTQ_BASE) = set ? 0x47200000ull | 5 : 0x13;
	gt_phys_unmap((void *)(uintptr_t)r, 4096);
	return 0;
}

/* ---- smmuv3-strtab-2lvl ---- */

static int scen_strtab(const char *sc)
{
	struct env e;
	struct uiommu_hw_info hi;
	struct uiommu_walk_level lv[8];
	char why[400] = "";
	int fail = 1, k, other;
	struct uiommu_event ev;

	if (prestate(true) || env_up(&e, why, sizeof(why)))
		goto out;
	if (e.before.cr2 != 0x2 || e.before.strtab != 0x47000000ull) {
		snprintf(why, sizeof(why), "previous-owner state not set (CR2 0x%x)", e.before.cr2);
		goto out;
	}
	uiommu_unit_hw_info(e.unit, &hi);
	if (!FIELD_GET(SMMU_IDR0_ST_LEVEL, hi.u.smmuv3.idr[0]) || !hi.u.smmuv3.st_2lvl ||
	    hi.u.smmuv3.sid_bits != FIELD_GET(SMMU_IDR1_SIDSIZE, hi.u.smmuv3.idr[1])) {
		snprintf(why, sizeof(why), "IDR0 0x%x IDR1 0x%x: st_2lvl %d sid_bits %u",
			 hi.u.smmuv3.idr[0], hi.u.smmuv3.idr[1], hi.u.smmuv3.st_2lvl,
			 hi.u.smmuv3.sid_bits);
		goto out;
	}
	if (uiommu_device_attach(e.dev, UIOMMU_NO_PASID, UIOMMU_PT_IDENTITY, NULL)) {
		snprintf(why, sizeof(why), "identity attach failed");
		goto out;
	}
	k = uiommu_device_ctx_walk(e.dev, UIOMMU_NO_PASID, 0, lv, 8);
	for (int i = 0; i < k; i++)
		gt_log("walk[%d] table 0x%" PRIx64 "[%u] = 0x%" PRIx64 ": %s", i, lv[i].table,
		       lv[i].index, lv[i].entry, lv[i].text);
	if (k < 2 || !strstr(lv[0].text, "L1STD") || !strstr(lv[1].text, "Config=bypass")) {
		snprintf(why, sizeof(why), "walk: %d levels, first '%s'", k,
			 k > 0 ? lv[0].text : "");
		goto out;
	}
	/* Bypass: edu reaches RAM at its physical address through the L2 STE. */
	uint8_t *m = e.huge.va;
	fill(m, 256, 5);
	memset(m + 0x1000, 0, 256);
	if (dma(&e, e.huge.pa, 256, false, why, sizeof(why)) ||
	    dma(&e, e.huge.pa + 0x1000, 256, true, why, sizeof(why)))
		goto out;
	if (memcmp(m, m + 0x1000, 256)) {
		snprintf(why, sizeof(why), "bypass DMA: bytes differ");
		goto out;
	}
	/* Detached: abort STE (no event; the write is dropped). */
	if (uiommu_device_detach(e.dev, UIOMMU_NO_PASID)) {
		snprintf(why, sizeof(why), "detach failed");
		goto out;
	}
	memset(m + 0x2000, 0, 64);
	if (dma(&e, e.huge.pa + 0x2000, 4, true, why, sizeof(why)))
		goto out;
	if (!all_val(m + 0x2000, 64, 0) || faults(e.edu.requester_id, &ev, &other) || other) {
		snprintf(why, sizeof(why), "abort STE: DMA %s, events seen",
			 all_val(m + 0x2000, 64, 0) ? "dropped" : "WRITTEN");
		goto out;
	}
	snprintf(why, sizeof(why),
		 "2-level stream table (%u-bit StreamIDs, L1STD -> STE of 0x%x), bypass DMA ok, "
		 "abort after detach; give-back restored a previous owner's CR2/STRTAB/queue bases",
		 hi.u.smmuv3.sid_bits, e.edu.requester_id);
	fail = 0;
out:
	fail = env_down(&e, fail, why, sizeof(why));
	(void)prestate(false);
	gt_result(sc, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

/* ---- smmuv3-no-ssid ---- */

static int scen_no_ssid(const char *sc)
{
	struct env e;
	struct uiommu_hw_info hi;
	struct uiommu_unit_caps caps;
	struct uiommu_ioas *ioas = NULL;
	struct uiommu_hwpt *hwpt = NULL;
	char why[400] = "";
	int fail = 1, rc;
	uint64_t iova = IOVA_4K;

	if (env_up(&e, why, sizeof(why)))
		goto out;
	uiommu_unit_hw_info(e.unit, &hi);
	uiommu_unit_get_caps(e.unit, &caps);
	if (FIELD_GET(SMMU_IDR1_SSIDSIZE, hi.u.smmuv3.idr[1]) != 0 || caps.pasid_bits != 0) {
		snprintf(why, sizeof(why),
			 "IDR1.SSIDSIZE %u, pasid_bits %u: this QEMU has SubstreamIDs; the "
			 "scenario is written for QEMU 10.0.2 (none)",
			 (unsigned int)FIELD_GET(SMMU_IDR1_SSIDSIZE, hi.u.smmuv3.idr[1]),
			 caps.pasid_bits);
		goto out;
	}
	rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc)
		rc = uiommu_hwpt_alloc(ioas, e.unit, UIOMMU_HWPT_STAGE1, &hwpt);
	if (!rc)
		rc = uiommu_ioas_map(ioas, &iova, e.huge.pa, 0x10000,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	if (!rc)
		rc = uiommu_device_attach(e.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(hwpt), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "stage-1 set-up: %s", strerror(-rc));
		goto out;
	}
	rc = uiommu_device_attach(e.dev, 1, uiommu_hwpt_id(hwpt), NULL);
	if (rc == 0) {
		snprintf(why, sizeof(why), "PASID 1 attach accepted without SubstreamIDs");
		goto out;
	}
	/* Nothing changed: the RID still translates. */
	uint8_t *m = e.huge.va;
	fill(m, 128, 9);
	memset(m + 0x4000, 0, 128);
	if (dma(&e, IOVA_4K, 128, false, why, sizeof(why)) ||
	    dma(&e, IOVA_4K + 0x4000, 128, true, why, sizeof(why)))
		goto out;
	if (memcmp(m, m + 0x4000, 128)) {
		snprintf(why, sizeof(why), "RID translation broken after the refused PASID attach");
		goto out;
	}
	snprintf(why, sizeof(why),
		 "IDR1 0x%08x: SSIDSIZE=0 (QEMU 10.0.2 has no SubstreamIDs; PASIDs are proven "
		 "on the model); PASID attach refused (%s), RID unaffected",
		 hi.u.smmuv3.idr[1], strerror(-rc));
	fail = 0;
out:
	if (e.dev)
		(void)uiommu_device_detach(e.dev, UIOMMU_NO_PASID);
	if (hwpt)
		(void)uiommu_hwpt_destroy(hwpt);
	if (ioas) {
		(void)uiommu_ioas_unmap_all(ioas, NULL);
		(void)uiommu_ioas_destroy(ioas);
	}
	fail = env_down(&e, fail, why, sizeof(why));
	gt_result(sc, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

/* ---- smmuv3-s1 / smmuv3-s2 ---- */

/* The leaf entry of @iova in @hwpt, as a CPU pointer (DPDK memory, IOVA
 * as PA); its page size in *pgsize. */
static volatile uint64_t *leaf_pte(struct uiommu_hwpt *hwpt, uint64_t iova, uint64_t *pgsize)
{
	struct uiommu_walk_level lv[8];
	int k = uiommu_hwpt_walk(hwpt, iova, lv, 8);
	uint8_t *t;

	if (k <= 0 || !lv[k - 1].leaf || !lv[k - 1].present)
		return NULL;
	*pgsize = lv[k - 1].pgsize;
	t = rte_mem_iova2virt(lv[k - 1].table);
	return t ? (volatile uint64_t *)(t + 8 * lv[k - 1].index) : NULL;
}

static int scen_paging(const char *sc, bool stage1)
{
	struct env e;
	struct uiommu_ioas *ioas = NULL;
	struct uiommu_hwpt *hwpt = NULL;
	struct uiommu_unit_caps caps;
	char why[400] = "";
	int fail = 1, rc;
	uint64_t iova, sz4k = 0, sz2m = 0;
	uint32_t s2 = stage1 ? 0 : UIOMMU_EV_STAGE2;
	uint64_t t0 = gt_now_ns();
	volatile uint64_t *pte;
	uint8_t *m;

	if (env_up(&e, why, sizeof(why)))
		goto out;
	m = e.huge.va;
	uiommu_unit_get_caps(e.unit, &caps);
	if (!(stage1 ? caps.stage1 : caps.stage2)) {
		snprintf(why, sizeof(why), "unit has no stage %d", stage1 ? 1 : 2);
		goto out;
	}
	rc = uiommu_ioas_alloc(ctx, &ioas);
	/* Flags 0 on an SMMU with S2P: the default table is stage 2. */
	if (!rc)
		rc = uiommu_hwpt_alloc(ioas, e.unit, stage1 ? UIOMMU_HWPT_STAGE1 : 0, &hwpt);
	iova = IOVA_4K;
	if (!rc)
		rc = uiommu_ioas_map(ioas, &iova, e.huge.pa, 0x10000,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	iova = IOVA_2M;
	if (!rc)
		rc = uiommu_ioas_map(ioas, &iova, e.huge.pa, 2u << 20,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	iova = IOVA_RO;
	if (!rc)
		rc = uiommu_ioas_map(ioas, &iova, e.huge.pa + 0x20000, 0x1000,
				     UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA);
	if (!rc)
		rc = uiommu_device_attach(e.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(hwpt), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "ioas/hwpt/map/attach: %s", strerror(-rc));
		goto out;
	}
	{
		struct uiommu_walk_level lv[8];
		int k = uiommu_device_ctx_walk(e.dev, UIOMMU_NO_PASID, IOVA_4K, lv, 8);
		const char *want = stage1 ? "Config=stage 1" : "Config=stage 2";

		for (int i = 0; i < k; i++)
			gt_log("walk[%d] 0x%" PRIx64 ": %s", i, lv[i].entry, lv[i].text);
		if (k < 2 || !strstr(lv[1].text, want)) {
			snprintf(why, sizeof(why), "device walk: no '%s' STE (%d levels)", want, k);
			goto out;
		}
	}
	if (!leaf_pte(hwpt, IOVA_4K, &sz4k) || !leaf_pte(hwpt, IOVA_2M + 0x123000, &sz2m) ||
	    sz4k != 0x1000 || sz2m != (2u << 20)) {
		snprintf(why, sizeof(why), "leaf sizes 0x%" PRIx64 " / 0x%" PRIx64, sz4k, sz2m);
		goto out;
	}
	/* 4K page -> edu -> 2M block (+1 MiB) and back the other way. */
	fill(m, GT_EDU_DMA_MAX, 1);
	memset(m + 0x100000, 0, GT_EDU_DMA_MAX);
	if (dma(&e, IOVA_4K, GT_EDU_DMA_MAX, false, why, sizeof(why)) ||
	    dma(&e, IOVA_2M + 0x100000, GT_EDU_DMA_MAX, true, why, sizeof(why)))
		goto out;
	if (memcmp(m, m + 0x100000, GT_EDU_DMA_MAX)) {
		snprintf(why, sizeof(why), "4K -> 2M DMA: bytes differ");
		goto out;
	}
	fill(m + 0x1c0000, 2048, 3);
	memset(m + 0x8000, 0, 2048);
	if (dma(&e, IOVA_2M + 0x1c0000, 2048, false, why, sizeof(why)) ||
	    dma(&e, IOVA_4K + 0x8000, 2048, true, why, sizeof(why)))
		goto out;
	if (memcmp(m + 0x1c0000, m + 0x8000, 2048)) {
		snprintf(why, sizeof(why), "2M -> 4K DMA: bytes differ");
		goto out;
	}
	{
		struct uiommu_event ev;
		int other;

		if (faults(e.edu.requester_id, &ev, &other) || other) {
			snprintf(why, sizeof(why), "events while mapped");
			goto out;
		}
	}
	/* Read-only page: a write is a permission fault, nothing lands; then
	 * the read works.  The write goes first: QEMU 10.0.2 attributes a
	 * write that hits a cached read-only stage-2-only entry to stage 1
	 * (smmu_translate: stage = perm has no WO ? STAGE_1 : STAGE_2) and
	 * then records it only if the CD's R bit is set -- there is no CD in
	 * a stage-2-only STE, so that fault is aborted but never reported. */
	memset(m + 0x20000, 0xa5, 64);
	if (dma(&e, IOVA_RO, 4, true, why, sizeof(why)))
		goto out;
	if (!all_val(m + 0x20000, 64, 0xa5)) {
		snprintf(why, sizeof(why), "write to a read-only page landed");
		goto out;
	}
	if (want_fault(e.edu.requester_id, SMMU_EVT_F_PERMISSION, UIOMMU_EV_WRITE | s2, IOVA_RO,
		       stage1 ? ~0ull : IOVA_RO, "read-only write", why, sizeof(why)))
		goto out;
	if (dma(&e, IOVA_RO, 4, false, why, sizeof(why)))
		goto out;
	{
		struct uiommu_event ev;
		int other, nf = faults(e.edu.requester_id, &ev, &other);

		if (nf || other) {
			snprintf(why, sizeof(why), "read of a read-only page: %d faults", nf);
			goto out;
		}
	}
	/* The same write again, now against QEMU's cached entry: still
	 * refused (checked), reported on stage 1 only (see above: logged). */
	if (dma(&e, IOVA_RO, 4, true, why, sizeof(why)))
		goto out;
	if (!all_val(m + 0x20000, 64, 0xa5)) {
		snprintf(why, sizeof(why), "write to a cached read-only page landed");
		goto out;
	}
	{
		struct uiommu_event ev;
		int other, nf = faults(e.edu.requester_id, &ev, &other);

		gt_log("write to the cached read-only page: %d fault record(s)%s", nf,
		       stage1 ? "" : " (QEMU 10.0.2 reports none on stage 2 only)");
		if (stage1 && (nf != 1 || other)) {
			snprintf(why, sizeof(why), "cached read-only write: %d faults", nf);
			goto out;
		}
	}

	/* Stale translation: clear the leaf behind the driver's back; the
	 * cached IOTLB entry of QEMU still translates (without this the
	 * strict-unmap check below could not fail). */
	const uint64_t probe = IOVA_4K + 0x3000;
	uint64_t saved, pgs;
	memset(m + 0x3000, 0, 64);
	if (dma(&e, probe, 4, true, why, sizeof(why))) /* warm the IOTLB */
		goto out;
	pte = leaf_pte(hwpt, probe, &pgs);
	if (!pte) {
		snprintf(why, sizeof(why), "leaf of 0x%" PRIx64 " not found", probe);
		goto out;
	}
	saved = *pte;
	*pte = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memset(m + 0x3000, 0, 64);
	rc = dma(&e, probe, 4, true, why, sizeof(why));
	*pte = saved;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rc)
		goto out;
	bool stale = !all_val(m + 0x3000, 4, 0);
	{
		struct uiommu_event ev;
		int other;
		int nf = faults(e.edu.requester_id, &ev, &other);

		if (!stale || nf || other) {
			snprintf(
				why, sizeof(why),
				"PTE cleared without TLBI: DMA %s, %d faults: QEMU did not use its "
				"cached entry, the strict-unmap check cannot tell",
				stale ? "landed" : "dropped", nf);
			goto out;
		}
	}
	/* Strict unmap: the driver's TLBI makes the cached IOVA fault now. */
	rc = uiommu_ioas_unmap(ioas, IOVA_4K, 0x10000, NULL);
	if (rc) {
		snprintf(why, sizeof(why), "unmap: %s", strerror(-rc));
		goto out;
	}
	memset(m + 0x3000, 0, 64);
	if (dma(&e, probe, 4, true, why, sizeof(why)))
		goto out;
	if (!all_val(m + 0x3000, 64, 0)) {
		snprintf(why, sizeof(why), "write after unmap landed (stale IOTLB)");
		goto out;
	}
	if (want_fault(e.edu.requester_id, SMMU_EVT_F_TRANSLATION, UIOMMU_EV_WRITE | s2, probe,
		       stage1 ? ~0ull : probe, "write after unmap", why, sizeof(why)))
		goto out;
	if (dma(&e, IOVA_4K, 4, false, why, sizeof(why)) ||
	    want_fault(e.edu.requester_id, SMMU_EVT_F_TRANSLATION, UIOMMU_EV_READ | s2, IOVA_4K,
		       stage1 ? ~0ull : IOVA_4K, "read after unmap", why, sizeof(why)))
		goto out;
	/* The 2M block still translates. */
	fill(m + 0x1d0000, 256, 11);
	memset(m + 0x1e0000, 0, 256);
	if (dma(&e, IOVA_2M + 0x1d0000, 256, false, why, sizeof(why)) ||
	    dma(&e, IOVA_2M + 0x1e0000, 256, true, why, sizeof(why)))
		goto out;
	if (memcmp(m + 0x1d0000, m + 0x1e0000, 256)) {
		snprintf(why, sizeof(why), "2M block broken after the 4K unmap");
		goto out;
	}
	snprintf(why, sizeof(why),
		 "stage %d: 4K+2M DMA ok; read-only write F_PERMISSION; cleared PTE stale until "
		 "unmap's TLBI, then F_TRANSLATION write+read%s; %.1f s",
		 stage1 ? 1 : 2, stage1 ? "" : " (S2, IPA)", (double)(gt_now_ns() - t0) / 1e9);
	fail = 0;
out:
	if (e.dev)
		(void)uiommu_device_detach(e.dev, UIOMMU_NO_PASID);
	if (hwpt)
		(void)uiommu_hwpt_destroy(hwpt);
	if (ioas) {
		(void)uiommu_ioas_unmap_all(ioas, NULL);
		(void)uiommu_ioas_destroy(ioas);
	}
	fail = env_down(&e, fail, why, sizeof(why));
	gt_result(sc, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

/* ---- smmuv3-nested ---- */

/* One VM's stage-1 world in 128 KiB of RAM at IPA @ipa: CD at +0,
 * four table levels at +4K..+16K, data pages at +64K and +68K. */
struct vm {
	uint8_t *va;
	uint64_t ipa;
};

static uint64_t *vp(const struct vm *g, uint64_t off)
{
	return (uint64_t *)(g->va + off);
}

static uint64_t s1_leaf(uint64_t oa)
{
	/* VMSAv8-64 page descriptor: valid, page, AF, inner shareable,
	 * AP[1] (EL0 = unprivileged, as edu's requests are). */
	return oa | ARM_VALID | ARM_TYPE | ARM_AF | FIELD_PREP(ARM_SH, ARM_SH_IS) |
	       FIELD_PREP(ARM_S1_AP, ARM_S1_AP_UNPRIV);
}

/* The guest builds its CD and tables itself (this is the guest's job, not
 * the driver's): 48-bit VA, 4 KiB granule, 4 levels. */
static void vm_build(struct vm *g, uint64_t *vste)
{
	const uint64_t t[4] = {0x1000, 0x2000, 0x3000, 0x4000};
	uint64_t *cd = vp(g, 0);

	memset(g->va, 0, 0x20000);
	for (int l = 0; l < 3; l++)
		vp(g, t[l])[(GUEST_VA >> (39 - 9 * l)) & 511] =
			(g->ipa + t[l + 1]) | ARM_VALID | ARM_TYPE;
	vp(g, t[3])[(GUEST_VA >> 12) & 511] = s1_leaf(g->ipa + 0x10000);
	/* CD (IHI 0070 5.4): T0SZ 16, TG0 4K, IPS 44 bits (0b100), TTB1
	 * walks off (EPD1), valid, AArch64, R/A (faults recorded, aborted),
	 * ASET, ASID; TTB0 = the level-0 table's IPA; MAIR0 attr 0 normal. */
	cd[0] = FIELD_PREP(SMMU_CD0_T0SZ, 16) | FIELD_PREP(SMMU_CD0_TG0, 0) |
		FIELD_PREP(SMMU_CD0_IRGN0, 1) | FIELD_PREP(SMMU_CD0_ORGN0, 1) |
		FIELD_PREP(SMMU_CD0_SH0, 3) | SMMU_CD0_EPD1 | SMMU_CD0_V |
		FIELD_PREP(SMMU_CD0_IPS, 4) | SMMU_CD0_AA64 | SMMU_CD0_R | SMMU_CD0_A |
		SMMU_CD0_ASET | FIELD_PREP(SMMU_CD0_ASID, GUEST_ASID);
	cd[1] = (g->ipa + t[0]) & SMMU_CD1_TTB0;
	cd[3] = 0xff;
	/* The guest's STE: stage 1, linear CD table of one CD at that IPA. */
	vste[0] = SMMU_STE0_V | FIELD_PREP(SMMU_STE0_CONFIG, SMMU_STE_CFG_S1) |
		  ((g->ipa + 0) & SMMU_STE0_S1CTXPTR);
	vste[1] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* edu copies 512 bytes GUEST_VA -> GUEST_VA + 0x800 (both in the VM's
 * data page): 0 when @g's page saw the copy of pattern @seed. */
static int vm_copy(struct env *e, const struct vm *g, uint8_t seed, uint64_t page_off, char *why,
		   size_t n)
{
	uint8_t *d = g->va + page_off;

	fill(d, 512, seed);
	memset(d + 0x800, 0, 512);
	if (dma(e, GUEST_VA, 512, false, why, n) || dma(e, GUEST_VA + 0x800, 512, true, why, n))
		return 1;
	if (memcmp(d, d + 0x800, 512)) {
		snprintf(why, n,
			 "nested DMA (VM at IPA 0x%" PRIx64 ", page +0x%" PRIx64 "): bytes differ",
			 g->ipa, page_off);
		return 1;
	}
	return 0;
}

static int scen_nested(const char *sc)
{
	struct env e;
	struct uiommu_ioas *ioas = NULL;
	struct uiommu_hwpt *parent = NULL, *n1 = NULL, *n2 = NULL;
	struct uiommu_viommu *v1 = NULL, *v2 = NULL;
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_SMMUV3};
	struct uiommu_unit_caps caps;
	struct vm g1, g2;
	char why[400] = "";
	int fail = 1, rc;
	uint64_t ipa = NEST_IPA, t0 = gt_now_ns(), vm_pa = 0;
	void *vm_va = NULL;

	if (env_up(&e, why, sizeof(why)))
		goto out;
	uiommu_unit_get_caps(e.unit, &caps);
	if (!caps.nesting) {
		snprintf(why, sizeof(why), "unit reports no nesting");
		goto out;
	}
	/* The VMs' RAM comes from the library's DMA memory, so that the
	 * device walk (a tool reading the library's own memory) can show the
	 * guest's CD and tables too. */
	rc = uiommu_buf_alloc(ctx, VM_RAM, &vm_va, &vm_pa);
	if (rc) {
		snprintf(why, sizeof(why), "buf_alloc: %s", strerror(-rc));
		goto out;
	}
	g1.va = vm_va;
	g1.ipa = NEST_IPA;
	g2.va = (uint8_t *)vm_va + VM_RAM / 2;
	g2.ipa = NEST_IPA + VM_RAM / 2;
	rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc) /* stage 2: the VMs' IPA space -> that memory */
		rc = uiommu_ioas_map(ioas, &ipa, vm_pa, VM_RAM,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	if (!rc)
		rc = uiommu_hwpt_alloc(ioas, e.unit, UIOMMU_HWPT_NEST_PARENT, &parent);
	if (!rc) /* two VMs (two VMIDs) over the one stage 2 */
		rc = uiommu_viommu_alloc(e.unit, parent, &v1);
	if (!rc)
		rc = uiommu_viommu_alloc(e.unit, parent, &v2);
	if (rc) {
		snprintf(why, sizeof(why), "ioas/parent/viommus: %s", strerror(-rc));
		goto out;
	}
	if (uiommu_viommu_vmid(v1) == uiommu_viommu_vmid(v2)) {
		snprintf(why, sizeof(why), "two vIOMMUs share VMID %u", uiommu_viommu_vmid(v1));
		goto out;
	}
	vm_build(&g1, s1.u.smmuv3.ste);
	rc = uiommu_hwpt_alloc_nested(v1, &s1, &n1);
	vm_build(&g2, s1.u.smmuv3.ste); /* the same VA and ASID in the other VM */
	if (!rc)
		rc = uiommu_hwpt_alloc_nested(v2, &s1, &n2);
	if (!rc)
		rc = uiommu_device_attach(e.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n1), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "nested HWPTs / attach: %s", strerror(-rc));
		goto out;
	}
	{
		struct uiommu_walk_level lv[16];
		int k = uiommu_device_ctx_walk(e.dev, UIOMMU_NO_PASID, GUEST_VA, lv, 16);

		for (int i = 0; i < k; i++)
			gt_log("walk[%d] 0x%" PRIx64 ": %s", i, lv[i].entry, lv[i].text);
		/* L1STD, STE, the guest's CD, its 4 levels (each read at its
		 * IPA through stage 2), the data page through stage 2. */
		if (k < 7 || !strstr(lv[1].text, "Config=nested") ||
		    !strstr(lv[2].text, "CD[0] (guest): V ASID=3") || !lv[k - 1].present ||
		    !strstr(lv[k - 1].text, "(stage 2)")) {
			snprintf(why, sizeof(why), "device walk: %d levels, STE '%.60s'", k,
				 k > 1 ? lv[1].text : "");
			goto out;
		}
	}
	if (vm_copy(&e, &g1, 21, 0x10000, why, sizeof(why)))
		goto out;
	/* VM 2: same VA, same ASID, other VMID -> its own page (and VM 1's
	 * page untouched: QEMU's IOTLB is tagged by VMID too). */
	memset(g1.va + 0x10800, 0, 512);
	rc = uiommu_device_replace(e.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n2), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "replace n1 -> n2: %s", strerror(-rc));
		goto out;
	}
	if (vm_copy(&e, &g2, 22, 0x10000, why, sizeof(why)))
		goto out;
	if (!all_val(g1.va + 0x10800, 512, 0)) {
		snprintf(why, sizeof(why), "VM 2's DMA reached VM 1's page");
		goto out;
	}
	/* The guest of VM 2 repoints its leaf to another data page without
	 * invalidating: QEMU keeps the cached translation... */
	vp(&g2, 0x4000)[(GUEST_VA >> 12) & 511] = s1_leaf(g2.ipa + 0x11000);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vm_copy(&e, &g2, 23, 0x10000, why, sizeof(why))) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " (guest PTE edit took effect without TLBI: not stale)");
		goto out;
	}
	/* ...also after a TLBI_NH_ASID of another ASID (not the right TLBI),
	 * and of the right ASID in the *other* VM (VMID 1)... */
	{
		struct uiommu_inv_entry inv = {.type = UIOMMU_INV_S1_PASID,
					       .pasid = GUEST_ASID + 1};
		uint32_t done = 0;

		rc = uiommu_cache_invalidate(v2, n2, &inv, 1, &done);
		inv.pasid = GUEST_ASID;
		if (!rc)
			rc = uiommu_cache_invalidate(v1, n1, &inv, 1, &done);
		if (rc) {
			snprintf(why, sizeof(why), "cache_invalidate (other ASID / VMID): %s",
				 strerror(-rc));
			goto out;
		}
		if (vm_copy(&e, &g2, 26, 0x10000, why, sizeof(why))) {
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " (a TLBI of another ASID or VMID dropped VM 2's entry)");
			goto out;
		}
	}
	/* ...until its own TLBI_NH_ASID, carried 1:1 by uiommu_cache_invalidate. */
	{
		struct uiommu_inv_entry inv = {.type = UIOMMU_INV_S1_PASID, .pasid = GUEST_ASID};
		uint32_t done = 0;

		rc = uiommu_cache_invalidate(v2, n2, &inv, 1, &done);
		if (rc || done != 1) {
			snprintf(why, sizeof(why), "cache_invalidate: %s, done %u", strerror(-rc),
				 done);
			goto out;
		}
	}
	if (vm_copy(&e, &g2, 24, 0x11000, why, sizeof(why)))
		goto out;
	/* Back to VM 1: a VA its guest did not map -> stage-1 fault. */
	rc = uiommu_device_replace(e.dev, UIOMMU_NO_PASID, uiommu_hwpt_id(n1), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "replace n2 -> n1: %s", strerror(-rc));
		goto out;
	}
	if (dma(&e, GUEST_VA + 0x1000, 4, true, why, sizeof(why)) ||
	    want_fault(e.edu.requester_id, SMMU_EVT_F_TRANSLATION, UIOMMU_EV_WRITE,
		       GUEST_VA + 0x1000, ~0ull, "stage-1 fault", why, sizeof(why)))
		goto out;
	/* The host takes VM 1's data page away at stage 2 (unmap, map back
	 * only the CD and tables): stage-2 fault with the IPA. */
	if (vm_copy(&e, &g1, 25, 0x10000, why, sizeof(why))) /* warm */
		goto out;
	rc = uiommu_ioas_unmap(ioas, NEST_IPA, VM_RAM, NULL);
	ipa = NEST_IPA;
	if (!rc)
		rc = uiommu_ioas_map(ioas, &ipa, vm_pa, 0x10000,
				     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	if (rc) {
		snprintf(why, sizeof(why), "stage-2 unmap/map: %s", strerror(-rc));
		goto out;
	}
	memset(g1.va + 0x10000, 0, 64);
	if (dma(&e, GUEST_VA, 4, true, why, sizeof(why)))
		goto out;
	if (!all_val(g1.va + 0x10000, 64, 0)) {
		snprintf(why, sizeof(why), "write through an unmapped IPA landed (stale S2)");
		goto out;
	}
	if (want_fault(e.edu.requester_id, SMMU_EVT_F_TRANSLATION,
		       UIOMMU_EV_WRITE | UIOMMU_EV_STAGE2, GUEST_VA, NEST_IPA + 0x10000,
		       "stage-2 fault", why, sizeof(why)))
		goto out;
	snprintf(why, sizeof(why),
		 "nested S1+S2 with VMIDs %u and %u over one stage 2; guest PTE stale after "
		 "other ASID/VMID TLBIs, fresh after its TLBI_NH_ASID; S1 fault; S2 fault with "
		 "IPA 0x%llx; %.1f s",
		 uiommu_viommu_vmid(v1), uiommu_viommu_vmid(v2),
		 (unsigned long long)(NEST_IPA + 0x10000), (double)(gt_now_ns() - t0) / 1e9);
	fail = 0;
out:
	if (e.dev)
		(void)uiommu_device_detach(e.dev, UIOMMU_NO_PASID);
	if (n1)
		(void)uiommu_hwpt_destroy(n1);
	if (n2)
		(void)uiommu_hwpt_destroy(n2);
	if (v1)
		(void)uiommu_viommu_destroy(v1);
	if (v2)
		(void)uiommu_viommu_destroy(v2);
	if (parent)
		(void)uiommu_hwpt_destroy(parent);
	if (ioas) {
		(void)uiommu_ioas_unmap_all(ioas, NULL);
		(void)uiommu_ioas_destroy(ioas);
	}
	if (vm_va)
		(void)uiommu_buf_free(ctx, vm_pa);
	fail = env_down(&e, fail, why, sizeof(why));
	gt_result(sc, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

/* ---- smmuv3-kernel-owned (a boot with the kernel's driver on) ---- */

/* The kernel's arm-smmu-v3 driver is bound and enabled the SMMU: the
 * take-over is refused with -EBUSY by the claim check (the sysfs binding
 * plus the device's own /proc/iomem request) before /dev/mem is opened,
 * also with force=false ... and nothing changed. */
static int scen_kernel_owned(const char *sc)
{
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_SMMUV3,
		.access = UIOMMU_UNIT_MMIO,
		.reg_base = smmu_base,
		.numa_node = -1,
	};
	struct uiommu_unit *unit = NULL;
	char dev[64] = "", why[300] = "";
	int rc, fail = 1;

	if (!kernel_bound(dev, sizeof(dev))) {
		snprintf(why, sizeof(why),
			 "no device bound to arm-smmu-v3 (boot with the kernel "
			 "driver on)");
		goto out;
	}
	rc = uiommu_unit_add(ctx, &ud, &unit);
	if (rc != -EBUSY) {
		snprintf(why, sizeof(why), "unit_add of %s's SMMU: %s, want EBUSY", dev,
			 rc ? strerror(-rc) : "accepted");
		if (!rc)
			(void)uiommu_unit_remove(unit);
		goto out;
	}
	/* Where the EBUSY came from: the peek maps the same window without the
	 * claim check.  -EPERM there (IO_STRICT_DEVMEM: the bound driver holds
	 * the range busy) means /dev/mem would have said EPERM, so EBUSY came
	 * from the claim check; a peek that maps shows SMMUEN (CR0 check). */
	struct uiommu_unit_peek pk;
	int prc = uiommu_unit_peek(&ud, &pk);

	if (prc != -EPERM && !(prc == 0 && pk.in_use)) {
		snprintf(why, sizeof(why), "peek of the kernel's SMMU: %s, in_use %d",
			 prc ? strerror(-prc) : "ok", prc ? -1 : pk.in_use);
		goto out;
	}
	snprintf(why, sizeof(why),
		 "bound to the kernel as %s: take-over refused (EBUSY) by the claim check; "
		 "/dev/mem peek: %s",
		 dev, prc ? strerror(-prc) : "maps, SMMUEN set");
	fail = 0;
out:
	gt_result(sc, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

static int scen_s1(const char *sc)
{
	return scen_paging(sc, true);
}

static int scen_s2(const char *sc)
{
	return scen_paging(sc, false);
}

static const struct {
	const char *name;
	int (*fn)(const char *sc);
} scens[] = {
	{"smmuv3-strtab-2lvl", scen_strtab},
	{"smmuv3-no-ssid", scen_no_ssid},
	{"smmuv3-s1", scen_s1},
	{"smmuv3-s2", scen_s2},
	{"smmuv3-nested", scen_nested},
	{"smmuv3-kernel-owned", scen_kernel_owned},
};

int main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0],
		"-l",
		"0",
		"--in-memory",
		"--no-telemetry",
		"--iova-mode=pa",
		"-m",
		"24",
		"--log-level=lib.eal:notice",
		NULL,
	};
	struct uiommu_env_opts opts = {
		.backend = UIOMMU_MEM_DPDK,
		.eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1,
		.eal_argv = eal_argv,
	};
	int fails = 0, rc;

	gt_init();
	rc = access("/sys/firmware/acpi/tables/IORT", R_OK) == 0 ? fw_smmu_base(&smmu_base)
								 : gt_dt_smmu_base(&smmu_base);
	if (!rc)
		rc = uiommu_ctx_create(&opts, &ctx);
	for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++) {
		if (!gt_wanted(argc, argv, scens[i].name) ||
		    (argc <= 1 && scens[i].fn == scen_kernel_owned))
			continue;
		if (rc) {
			gt_result(scens[i].name, GT_FAIL, "setup: %s", strerror(-rc));
			fails++;
			continue;
		}
		fails += scens[i].fn(scens[i].name);
	}
	if (ctx)
		uiommu_ctx_destroy(ctx);
	return fails ? 1 : 0;
}
