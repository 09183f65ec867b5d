/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Side B of the side-by-side benchmark (bench/qemu/run.sh): the
 * same three workloads as guest_vfio_bench.c, through uiommu's public API.
 * The guest kernel leaves QEMU's intel-iommu alone (intel_iommu=off);
 * uiommu drives it through /dev/mem, edu is bound to uio_pci_generic.
 * Built for aarch64 it drives QEMU virt's SMMUv3 instead (BENCH_SMMUV3).
 *
 *   guest_uiommu_bench [n4k=N] [n2m=N] [nbatch=N] [warm=N] [mem=dpdk|shared]
 *                      [fam=vtd|amdvi]
 *
 * fam=amdvi: QEMU's amd-iommu (kernel amd_iommu=off), the unit and edu's
 * DeviceID from the IVRS (uiommu's parser); desc = the AMD-Vi driver's
 * commands (waits included), waits = its COMPLETION_WAITs; no floor.
 *
 * mem=dpdk (default): DPDK backend, EAL --in-memory --iova-mode=pa (the
 * library's default EAL arguments are IOVA-as-VA: wrong under a real
 * IOMMU, see docs/qemu-testing.md).  mem=shared: UIOMMU_MEM_SHARED_HUGE.
 *
 * Scenarios (UIOMMU-RESULT lines):
 *   uiommu-setup        unit (MMIO, DRHD from the ACPI DMAR), device, IOAS, attach
 *   uiommu-dma          edu DMA RAM -> edu -> RAM through one 4 KiB mapping
 *   uiommu-unmap-fault  after uiommu_ioas_unmap, an edu write to the old IOVA
 *                       writes nothing and uiommu_poll() reports the fault
 *   uiommu-bench        the three timed loops ran
 * Figures: one line per workload, as side A prints them, plus the
 * invalidation work the driver did per iteration (driver counters):
 *   UIOMMU-BENCH side=B wl=<4k|4ka|2m|256x4k|floor> iters=N ns=<total> per=<ns/iter>
 *                desc=<descriptors/iter> waits=<wait descriptors/iter>
 * wl=floor (side B only, n4k iterations): the bare hardware work of a
 * strict 4 KiB unmap, without the library around it: one PTE write into an
 * existing leaf table, one page-selective IOTLB invalidation descriptor and
 * one wait descriptor, the IQT doorbell and the status poll, by the VT-d
 * driver's own vtd_qi_iotlb_psi_sync.  Under TCG this is mostly QEMU's
 * emulation of the invalidation: B's 4ka minus floor is uiommu's software.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_lib.h"
#include "uiommu/uiommu.h"
#include "uiommu/uiommu_fw.h"

/* Driver counters (test hook: the benchmark is built inside the tree). */
#include "core/core.h"
#include "hw/vtd/vtd_internal.h"
#if defined(__aarch64__)
/* arm64 (bench/qemu/run.sh --arch arm64): QEMU virt's SMMUv3
 * (iommu=smmuv3), its base from the device tree, the kernel's driver kept
 * off (initcall_blacklist=arm_smmu_driver_init); edu's StreamID is its RID.
 * desc = commands + CMD_SYNCs, waits = CMD_SYNCs (the driver's counters);
 * wl=floor: the PTE write and the driver's smmu_flush of that page
 * (TLBI_NH_VA + CMD_SYNC, the CMDQ_PROD doorbell, the CMDQ_CONS poll). */
#include "hw/smmuv3/smmu_internal.h"
#define BENCH_SMMUV3 1
#endif
#ifdef UIOMMU_BENCH_AMDVI
#include "hw/amdvi/amdvi_internal.h"
#endif

#define PG_4K	       4096ull
#define PG_2M	       (2ull << 20)
#define NBATCH_PAGES   256u
#define IOVA_4K	       0x10000000ull
#define IOVA_2M	       0x40000000ull
#define IOVA_BATCH     0x20000000ull
#define DMA_LEN	       64u
#define DMA_TIMEOUT_MS 5000u
#define RW	       (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)

static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_device *dev;
static struct uiommu_ioas *ioas;
static struct gt_edu edu;
static bool amd; /* fam=amdvi */

/* The invalidation work the driver counted so far: descriptors or
 * commands (with their waits), and the waits alone. */
static void inv_counts(uint64_t *desc, uint64_t *waits)
{
#ifdef UIOMMU_BENCH_AMDVI
	if (amd) {
		*desc = amdvi_of(unit)->stats.cmds;
		*waits = amdvi_of(unit)->stats.waits;
		return;
	}
#endif
#ifdef BENCH_SMMUV3
	struct smmu_stats st;

	smmu_get_stats(unit, &st);
	*desc = st.cmds + st.syncs;
	*waits = st.syncs;
#else
	struct vtd_unit *vu = vtd_of(unit);

	*desc = vu->stats.qi_desc + vu->stats.reg_inv;
	*waits = vu->stats.qi_waits;
#endif
}

/* fam=amdvi: the IVHD's MMIO base and edu's DeviceID from the IVRS. */
static int ivrs_unit(uint64_t *base, uint16_t rid, uint32_t *devid)
{
	struct uiommu_fw_topo topo;
	char err[160] = "";
	int n, rc = -ENOENT;

	uiommu_fw_init(&topo);
	n = uiommu_fw_load_dir(&topo, NULL, err, sizeof(err));
	for (size_t i = 0; n > 0 && i < topo.nunits; i++)
		if (topo.units[i].family == UIOMMU_FAMILY_AMDVI) {
			*base = topo.units[i].base;
			rc = uiommu_fw_lookup(&topo, 0, rid, devid) < 0 ? -ENODEV : 0;
			break;
		}
	if (n <= 0)
		gt_log("uiommu_fw_load_dir: %d %s", n, err);
	uiommu_fw_free(&topo);
	return rc;
}

static int setup(char *why, size_t wlen, const char *mem, char *prog)
{
	char *eal_argv[] = {
		prog,
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
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_VTD,
		.access = UIOMMU_UNIT_MMIO,
		.numa_node = -1,
	};
	struct uiommu_unit_caps caps;
	uint64_t bases[4];
	unsigned int haw;
	int rc;

	if (!strcmp(mem, "shared")) {
		memset(&opts, 0, sizeof(opts));
		opts.backend = UIOMMU_MEM_SHARED_HUGE;
		opts.name = "bench";
		opts.create = true;
		opts.arena_max = 64u << 20;
	}
	rc = gt_edu_open(&edu);
	if (rc) {
		snprintf(why, wlen, "edu: %s", strerror(-rc));
		return rc;
	}
	uint32_t hw_id = edu.requester_id;
	/* DPDK's 24 MiB in IOVA-as-PA mode need not hold 2 MiB of contiguous
	 * memory: a smaller device table is accepted (edu is the only
	 * requester, DeviceID below 0x100). */
	static const struct uiommu_amdvi_unit_opts ao = {.family = UIOMMU_FAMILY_AMDVI,
							 .flags = UIOMMU_AMDVI_F_SMALL_DEVTAB};

#ifdef BENCH_SMMUV3
	ud.family = UIOMMU_FAMILY_SMMUV3;
	(void)bases;
	(void)haw;
	rc = gt_dt_smmu_base(&ud.reg_base);
	if (rc) {
		snprintf(why, wlen, "no arm,smmu-v3 node in the device tree (%d)", rc);
		return rc;
	}
#else
	rc = gt_dmar_drhd_bases(bases, 4, &haw);
	if (rc <= 0) {
		snprintf(why, wlen, "no DRHD in the ACPI DMAR (%d)", rc);
		return rc ? rc : -ENODEV;
	}
	ud.reg_base = bases[0];
#endif
	if (amd) {
		ud.family = UIOMMU_FAMILY_AMDVI;
		ud.family_opts = &ao;
		rc = ivrs_unit(&ud.reg_base, edu.requester_id, &hw_id);
		if (rc) {
			snprintf(why, wlen, "no AMD-Vi unit / edu DeviceID in the IVRS (%d)", rc);
			return rc;
		}
	}
	rc = uiommu_ctx_create(&opts, &ctx);
	if (rc) {
		snprintf(why, wlen, "ctx_create(mem=%s): %s", mem, strerror(-rc));
		return rc;
	}
	rc = uiommu_unit_add(ctx, &ud, &unit);
	if (rc) {
		snprintf(why, wlen, "unit_add(0x%" PRIx64 "): %s", ud.reg_base, strerror(-rc));
		return rc;
	}
	uiommu_unit_get_caps(unit, &caps);
	struct uiommu_device_desc dd = {
		.bus = (uint8_t)(edu.requester_id >> 8),
		.devfn = (uint8_t)edu.requester_id,
		.hw_id = hw_id,
	};
	rc = uiommu_device_add(unit, &dd, &dev);
	if (!rc)
		rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc)
		rc = uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL);
	if (rc) {
		snprintf(why, wlen, "device/ioas/attach: %s", strerror(-rc));
		return rc;
	}
	rc = gt_edu_bus_master(&edu, true);
	if (rc) {
		snprintf(why, wlen, "bus master: %s", strerror(-rc));
		return rc;
	}
	struct uiommu_hw_info hi = {0};

	(void)uiommu_unit_hw_info(unit, &hi);
#ifdef BENCH_SMMUV3
	snprintf(why, wlen,
		 "SMMUv3 0x%" PRIx64 " mem=%s IDR0 0x%08x %s stream table ias=%u oas=%u "
		 "pgsizes=0x%" PRIx64 " edu %s StreamID 0x%04x",
		 ud.reg_base, mem, hi.u.smmuv3.idr[0], hi.u.smmuv3.st_2lvl ? "2-level" : "linear",
		 caps.ias, caps.oas, caps.pgsize_bitmap, edu.bdf, edu.requester_id);
	return 0;
#endif
	if (amd) {
		snprintf(why, wlen,
			 "IVHD 0x%" PRIx64 " mem=%s EFR 0x%" PRIx64 " levels=%u ias=%u pgsizes=0x%" PRIx64
			 " edu %s DeviceID 0x%04x",
			 ud.reg_base, mem, hi.u.amdvi.efr, hi.u.amdvi.levels, caps.ias,
			 caps.pgsize_bitmap, edu.bdf, hw_id);
		return 0;
	}
	snprintf(why, wlen,
		 "DRHD 0x%" PRIx64 " mem=%s scalable=%d qi=%d ias=%u pgsizes=0x%" PRIx64
		 " edu %s rid 0x%04x",
		 ud.reg_base, mem, hi.u.vtd.scalable, caps.queued_inv, caps.ias, caps.pgsize_bitmap,
		 edu.bdf, edu.requester_id);
	return 0;
}

static int poll_faults(uint64_t addr, struct uiommu_event *last)
{
	struct uiommu_event ev[16];
	int n = 0;
	uint16_t got;

	while ((got = uiommu_poll(ctx, ev, 16)) > 0)
		for (uint16_t i = 0; i < got; i++) {
			gt_log("event type %d hw_id 0x%x addr 0x%" PRIx64 " reason 0x%x (%s)",
			       (int)ev[i].type, ev[i].hw_id, ev[i].addr, ev[i].reason,
			       ev[i].reason_text ? ev[i].reason_text : "-");
			if (ev[i].type == UIOMMU_EV_FAULT && ev[i].hw_id == edu.requester_id &&
			    (ev[i].addr & ~(PG_4K - 1)) == (addr & ~(PG_4K - 1))) {
				*last = ev[i];
				n++;
			}
		}
	return n;
}

static bool all_byte(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static int check_dma(uint8_t *page, uint64_t pa)
{
	struct uiommu_event ev;
	uint64_t iova = IOVA_4K;
	int rc, nf = 0;

	for (unsigned int i = 0; i < DMA_LEN; i++)
		page[i] = (uint8_t)(i * 7 + 3);
	memset(page + 2048, 0, DMA_LEN);
	rc = uiommu_ioas_map(ioas, &iova, pa, PG_4K, RW);
	if (!rc)
		rc = gt_edu_dma(&edu, IOVA_4K, 0, DMA_LEN, false, DMA_TIMEOUT_MS);
	if (!rc)
		rc = gt_edu_dma(&edu, IOVA_4K + 2048, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	if (rc || memcmp(page, page + 2048, DMA_LEN) != 0) {
		gt_result("uiommu-dma", GT_FAIL, "rc %d (%s), bytes %s", rc, strerror(-rc),
			  rc ? "-" : "differ");
		return 1;
	}
	gt_result("uiommu-dma", GT_PASS, "%u bytes RAM->edu->RAM through IOVA 0x%llx (uiommu map)",
		  DMA_LEN, (unsigned long long)IOVA_4K);

	rc = uiommu_ioas_unmap(ioas, IOVA_4K, PG_4K, NULL);
	if (rc) {
		gt_result("uiommu-unmap-fault", GT_FAIL, "unmap: %s", strerror(-rc));
		return 1;
	}
	memset(page + 2048, 0xa5, DMA_LEN);
	rc = gt_edu_dma(&edu, IOVA_4K + 2048, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	if (!rc)
		nf = poll_faults(IOVA_4K + 2048, &ev);
	bool untouched = all_byte(page + 2048, DMA_LEN, 0xa5);
	/* QEMU 10.0.2's amd-iommu logs no events (docs/qemu-testing.md): on
	 * AMD-Vi the blocked write alone proves the unmap. */
	bool ok = !rc && untouched && (nf > 0 || amd);
	gt_result("uiommu-unmap-fault", ok ? GT_PASS : GT_FAIL,
		  "edu write to IOVA 0x%llx after unmap: bytes %s, uiommu_poll: %d fault(s)%s%s%s",
		  (unsigned long long)(IOVA_4K + 2048), untouched ? "untouched" : "WRITTEN", nf,
		  nf ? ", " : "", nf && ev.reason_text ? ev.reason_text : "",
		  amd && !nf ? " (amd-iommu logs none)" : "");
	return ok ? 0 : 1;
}

static int bench(const char *wl, unsigned int iters, unsigned int warm, uint64_t pa)
{
	uint64_t t0 = 0, d0 = 0, w0 = 0, d1, w1, iova;
	int rc = 0;

	/* 4ka: a neighbour page stays mapped, so the last-level table of the
	 * IOVA never becomes empty (what a long-running application sees). */
	if (!strcmp(wl, "4ka")) {
		iova = IOVA_4K + PG_4K;
		rc = uiommu_ioas_map(ioas, &iova, pa + PG_4K, PG_4K, RW);
	}
	for (unsigned int i = 0; i < warm + iters && !rc; i++) {
		if (i == warm) {
			inv_counts(&d0, &w0);
			t0 = gt_now_ns();
		}
		if (!strcmp(wl, "4k") || !strcmp(wl, "4ka")) {
			iova = IOVA_4K;
			rc = uiommu_ioas_map(ioas, &iova, pa, PG_4K, RW);
			if (!rc)
				rc = uiommu_ioas_unmap(ioas, IOVA_4K, PG_4K, NULL);
		} else if (!strcmp(wl, "2m")) {
			iova = IOVA_2M;
			rc = uiommu_ioas_map(ioas, &iova, pa, PG_2M, RW);
			if (!rc)
				rc = uiommu_ioas_unmap(ioas, IOVA_2M, PG_2M, NULL);
		} else {
			for (unsigned int j = 0; j < NBATCH_PAGES && !rc; j++) {
				iova = IOVA_BATCH + j * PG_4K;
				rc = uiommu_ioas_map(ioas, &iova, pa + j * PG_4K, PG_4K, RW);
			}
			if (!rc)
				rc = uiommu_ioas_unmap(ioas, IOVA_BATCH, NBATCH_PAGES * PG_4K,
						       NULL);
		}
	}
	uint64_t ns = gt_now_ns() - t0;

	inv_counts(&d1, &w1);
	uint64_t d = d1 - d0, w = w1 - w0;

	if (!rc && !strcmp(wl, "4ka"))
		rc = uiommu_ioas_unmap(ioas, IOVA_4K + PG_4K, PG_4K, NULL);

	if (rc) {
		gt_log("workload %s: %s", wl, strerror(-rc));
		return 1;
	}
	printf("UIOMMU-BENCH side=B wl=%s iters=%u ns=%" PRIu64 " per=%.1f desc=%.2f waits=%.2f\n",
	       wl, iters, ns, (double)ns / iters, (double)d / iters, (double)w / iters);
	return 0;
}

/* wl=floor (see the top of the file).  Calls the driver directly, without
 * the context lock: this program is single-threaded. */
static int bench_floor(unsigned int iters, unsigned int warm, uint64_t pa)
{
#ifdef BENCH_SMMUV3
	const unsigned int leaf_level = 3; /* VMSAv8-64 4 KiB: L0..L3 */
#else
	const unsigned int leaf_level = 1;
	struct vtd_unit *vu;
#endif
	struct uiommu_hwpt *h = NULL;
	struct pgt_walk_level lv[8];
	uint64_t *pte = NULL;
	uint64_t t0 = 0, d0 = 0, w0 = 0, ns, iova = IOVA_4K + PG_4K;
	uint32_t did = 0;
	int rc, n = 0;

	if (amd) {
		gt_log("workload floor: VT-d and SMMUv3 only: skipped");
		return 0;
	}
#ifndef BENCH_SMMUV3
	vu = vtd_of(unit);
	if (!vu->qi) {
		gt_log("workload floor: the unit does not use queued invalidation: skipped");
		return 0;
	}
#endif
	/* A neighbour page keeps the leaf table of IOVA_4K (as in 4ka). */
	rc = uiommu_ioas_map(ioas, &iova, pa + PG_4K, PG_4K, RW);
	if (!rc && !list_empty(&ioas->hwpts))
		h = list_entry(ioas->hwpts.next, struct uiommu_hwpt, ioas_link);
	for (uint32_t i = 0; h && i < h->nr_inst; i++)
		if (h->inst[i].unit == unit) {
			did = h->inst[i].did;
			break;
		}
	if (h && did)
		n = pgt_walk(h->pgt, IOVA_4K, lv, 8);
	/* The walk ends at IOVA_4K's not-present entry in the leaf table. */
	if (n > 0 && lv[n - 1].level == leaf_level && !lv[n - 1].present)
		pte = (uint64_t *)uenv_iova_to_va(lv[n - 1].table_pa);
	if (rc || !pte) {
		gt_log("workload floor: %s", rc ? strerror(-rc) : "no leaf entry for IOVA_4K");
		if (!rc)
			(void)uiommu_ioas_unmap(ioas, IOVA_4K + PG_4K, PG_4K, NULL);
		return 1;
	}
	pte += lv[n - 1].index;
	for (unsigned int i = 0; i < warm + iters && !rc; i++) {
		if (i == warm) {
			inv_counts(&d0, &w0);
			t0 = gt_now_ns();
		}
		/* the unmap's PTE write (the entry is not present: harmless) */
		__atomic_store_n(pte, 0, __ATOMIC_RELEASE);
#ifdef BENCH_SMMUV3
		/* The driver's own flush of one leaf page: TLBI_NH_VA (with
		 * its range when IDR3.RIL) + CMD_SYNC, CMDQ_PROD, CONS poll. */
		struct fam_flush ff = {.did = did,
				       .iova = IOVA_4K,
				       .size = PG_4K,
				       .pgsize = PG_4K,
				       .leaf_only = true,
				       .fmt = h->cfg.fmt};
		rc = smmu_flush(unit, &ff, 1);
#else
		vtd_clflush(vu, pte, sizeof(*pte)); /* no-op when the walks snoop */
		rc = vtd_qi_iotlb_psi_sync(vu, did, IOVA_4K, 0, true);
#endif
	}
	ns = gt_now_ns() - t0;
	uint64_t d1, w1;

	inv_counts(&d1, &w1);
	uint64_t d = d1 - d0, w = w1 - w0;

	if (!rc)
		rc = uiommu_ioas_unmap(ioas, IOVA_4K + PG_4K, PG_4K, NULL);
	else
		(void)uiommu_ioas_unmap(ioas, IOVA_4K + PG_4K, PG_4K, NULL);
	if (rc) {
		gt_log("workload floor: %s", strerror(-rc));
		return 1;
	}
	printf("UIOMMU-BENCH side=B wl=floor iters=%u ns=%" PRIu64
	       " per=%.1f desc=%.2f waits=%.2f\n",
	       iters, ns, (double)ns / iters, (double)d / iters, (double)w / iters);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int n4k = gt_arg_uint(argc, argv, "n4k", 2000),
		     n2m = gt_arg_uint(argc, argv, "n2m", 500);
	unsigned int nb = gt_arg_uint(argc, argv, "nbatch", 20),
		     warm = gt_arg_uint(argc, argv, "warm", 10);
	/* mem=dpdk|shared; only=WL: that workload alone (profiling) */
	const char *mem = gt_arg_str(argc, argv, "mem", "dpdk");
	const char *only = gt_arg_str(argc, argv, "only", NULL);
	const char *fam = gt_arg_str(argc, argv, "fam", "vtd");
	struct gt_huge huge = {0};
	char why[240] = "";
	int fails = 0, rc;

	gt_init();
	amd = !strcmp(fam, "amdvi");
#ifndef UIOMMU_BENCH_AMDVI
	if (amd) {
		gt_result("uiommu-setup", GT_FAIL, "built without the AMD-Vi family");
		return 1;
	}
#endif
	rc = setup(why, sizeof(why), mem, argv[0]);
	gt_result("uiommu-setup", rc ? GT_FAIL : GT_PASS, "%s", why);
	if (!rc)
		rc = gt_huge_alloc(&huge);
	if (!rc) {
		fails += check_dma(huge.va, huge.pa);
#define WANT(w) (!only || !strcmp(only, (w)))
		if (WANT("4k"))
			fails += bench("4k", n4k, warm, huge.pa);
		if (WANT("4ka"))
			fails += bench("4ka", n4k, warm, huge.pa);
		if (WANT("2m"))
			fails += bench("2m", n2m, warm, huge.pa);
		if (WANT("256x4k"))
			fails += bench("256x4k", nb, warm ? 2 : 0, huge.pa);
		if (WANT("floor"))
			fails += bench_floor(n4k, warm, huge.pa);
#undef WANT
		gt_result("uiommu-bench", fails ? GT_FAIL : GT_PASS,
			  "n4k=%u n2m=%u nbatch=%u warm=%u", n4k, n2m, nb, warm);
	} else {
		fails++;
	}
	(void)gt_edu_bus_master(&edu, false);
	if (dev) {
		(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
		(void)uiommu_device_remove(dev);
	}
	if (ioas) {
		(void)uiommu_ioas_unmap_all(ioas, NULL);
		(void)uiommu_ioas_destroy(ioas);
	}
	if (unit)
		(void)uiommu_unit_remove(unit);
	if (ctx)
		uiommu_ctx_destroy(ctx);
	gt_huge_free(&huge);
	gt_edu_close(&edu);
	return fails ? 1 : 0;
}
