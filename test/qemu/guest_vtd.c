/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU guest program for the VT-d driver: uiommu itself drives QEMU's
 * intel-iommu from userspace, and QEMU's edu device does DMA through it.
 *
 * Scenarios (argv; one IOMMU configuration per boot, so usually one):
 *   vtd-legacy-3level   aw-bits=39: legacy root/context, 3-level SL, QI
 *   vtd-legacy-cm       aw-bits=39,caching-mode=on: CAP.CM set
 *   vtd-legacy-4level   aw-bits=48: legacy, 4-level SL, QI
 *   vtd-legacy-regs     aw-bits=48: legacy, register-based invalidation
 *   vtd-sm-sl           x-scalable-mode=on: scalable mode, PASID entry SL
 *   vtd-sm-as-legacy    x-scalable-mode=on, driven in legacy mode
 *   vtd-sm-fl           x-scalable-mode=on,x-flts=on: scalable, first level
 * Each: DRHD from the ACPI DMAR (uiommu_fw parser) -> uiommu_unit_add
 * (MMIO, /dev/mem) -> edu as a device by its requester ID -> IOAS ->
 * attach -> map a hugepage -> edu DMA RAM->edu->RAM through the IOVA,
 * check bytes -> no events -> unmap -> edu write and read DMA of 4 bytes
 * to the same (QEMU-cached) pages fault -> one fault record each (QEMU: NFR=1; legacy FR 0x5 write, 0x6
 * read), nothing written -> teardown -> GSTS.TES back to 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_lib.h"
#include "uiommu/uiommu.h"
#include "uiommu/uiommu_fw.h"

#define DMA_LEN 4095u
#define DMA_TIMEOUT_MS 5000u
#define IOVA_BASE 0x10000000ull /* below 2^39 and away from the MSI window */
#define MAP_LEN (64u * 1024)

struct scen {
	const char *name;
	uint32_t opts;         /* UIOMMU_VTD_OPT_* for the driver (struct uiommu_vtd_unit_opts) */
	bool scalable;
	bool stage1;
	uint32_t ias;          /* expected input width of the default table */
	unsigned int fr_write; /* expected fault reasons (0: any) */
	unsigned int fr_read;
};

static const struct scen scens[] = {
	{"vtd-legacy-3level", 0, false, false, 39, 0x5, 0x6},
	/* caching-mode=on: not-present entries cached, flushed on map too */
	{"vtd-legacy-cm", 0, false, false, 39, 0x5, 0x6},
	{"vtd-legacy-4level", 0, false, false, 48, 0x5, 0x6},
	/* register-based invalidation (CCMD/IOTLB registers) instead of QI */
	{"vtd-legacy-regs", UIOMMU_VTD_OPT_NO_QI, false, false, 48, 0x5, 0x6},
	/* QEMU 10.0.2 reports SL not-present in scalable mode with the legacy
	 * codes, FL not-present as 0x71. */
	{"vtd-sm-sl", 0, true, false, 48, 0x5, 0x6},
	/* a scalable-mode unit driven in legacy mode */
	{"vtd-sm-as-legacy", UIOMMU_VTD_OPT_LEGACY, false, false, 48, 0x5, 0x6},
	{"vtd-sm-fl", 0, true, true, 47, 0x71, 0x71},
};

static struct uiommu_ctx *ctx;

/* DRHD base: uiommu's firmware parser, or the minimal scan as fallback. */
static int drhd_base(uint64_t *base)
{
	struct uiommu_fw_topo topo;
	char err[160] = "";
	int n, rc = -ENOENT;

	uiommu_fw_init(&topo);
	n = uiommu_fw_load_dir(&topo, NULL, err, sizeof(err));
	if (n > 0) {
		for (size_t i = 0; i < topo.nunits; i++) {
			if (topo.units[i].family == UIOMMU_FAMILY_VTD &&
			    !(topo.units[i].flags & UIOMMU_FW_UNIT_BAD_BASE)) {
				*base = topo.units[i].base;
				gt_log("DMAR via uiommu_fw: DRHD at 0x%" PRIx64 " (%zu units)", *base,
				       topo.nunits);
				rc = 0;
				break;
			}
		}
	} else {
		gt_log("uiommu_fw_load_dir: %d %s", n, err);
	}
	uiommu_fw_free(&topo);
	if (rc) {
		uint64_t b[4];
		unsigned int haw;

		n = gt_dmar_drhd_bases(b, 4, &haw);
		if (n > 0) {
			*base = b[0];
			rc = 0;
		}
	}
	return rc;
}

/* Drain events; count faults matching @rid, remember the last one. */
static int faults(uint16_t rid, struct uiommu_event *last, int *other)
{
	struct uiommu_event ev[16];
	int n = 0;
	uint16_t got;

	*other = 0;
	while ((got = uiommu_poll(ctx, ev, 16)) > 0) {
		for (uint16_t i = 0; i < got; i++) {
			gt_log("event type %d hw_id 0x%x addr 0x%" PRIx64 " flags 0x%x reason 0x%x (%s)",
			       (int)ev[i].type, ev[i].hw_id, ev[i].addr, ev[i].flags, ev[i].reason,
			       ev[i].reason_text ? ev[i].reason_text : "-");
			if (ev[i].type == UIOMMU_EV_FAULT && ev[i].hw_id == rid) {
				*last = ev[i];
				n++;
			} else {
				(*other)++;
			}
		}
	}
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int run(const struct scen *s, uint64_t base)
{
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_VTD,
		.access = UIOMMU_UNIT_MMIO,
		.reg_base = base,
		.numa_node = -1,
	};
	struct uiommu_unit *unit = NULL;
	struct uiommu_device *dev = NULL;
	struct uiommu_ioas *ioas = NULL;
	struct uiommu_hwpt *hwpt = NULL;
	struct uiommu_unit_caps caps;
	struct uiommu_event ev;
	struct gt_edu edu;
	struct gt_huge huge = {0};
	uint64_t iova = IOVA_BASE, t0 = gt_now_ns();
	uint8_t *mem;
	int rc, nf, other, fail = 1;
	char why[200] = "";
	struct uiommu_vtd_unit_opts vo = {.family = UIOMMU_FAMILY_VTD, .flags = s->opts};

	ud.family_opts = s->opts ? &vo : NULL;
	rc = gt_edu_open(&edu);
	if (rc) {
		gt_result(s->name, GT_FAIL, "edu: %s", strerror(-rc));
		return 1;
	}
	/* Read-only peek (what `uiommuctl probe` shows) before taking over. */
	struct uiommu_unit_peek pk, pk2;
	rc = uiommu_unit_peek(&ud, &pk);
	if (rc || pk.in_use) {
		snprintf(why, sizeof(why), "peek: %s in_use=%d", strerror(-rc), pk.in_use);
		goto out;
	}
	gt_log("peek: ver 0x%x cap 0x%016" PRIx64 " ecap 0x%016" PRIx64 ": %s",
	       pk.info.u.vtd.ver, pk.info.u.vtd.cap, pk.info.u.vtd.ecap, pk.text);
	rc = uiommu_unit_add(ctx, &ud, &unit);
	if (rc) {
		snprintf(why, sizeof(why), "unit_add(0x%" PRIx64 "): %s", base, strerror(-rc));
		goto out;
	}
	struct uiommu_hw_info hwi;
	uiommu_unit_hw_info(unit, &hwi);
	if (hwi.u.vtd.ver != pk.info.u.vtd.ver || hwi.u.vtd.cap != pk.info.u.vtd.cap ||
	    hwi.u.vtd.ecap != pk.info.u.vtd.ecap || uiommu_unit_peek(&ud, &pk2) || !pk2.in_use) {
		snprintf(why, sizeof(why), "peek disagrees with the driver (in_use after take-over %d)",
			 pk2.in_use);
		goto out;
	}
	uiommu_unit_get_caps(unit, &caps);
	gt_log("unit: scalable=%d stage1=%d stage2=%d ias=%u qi=%d coherent=%d pt=%d domains=%u",
	       hwi.u.vtd.scalable, caps.stage1, caps.stage2, caps.ias, caps.queued_inv, caps.coherent,
	       caps.pass_through, caps.num_domains);
	if (hwi.u.vtd.scalable != s->scalable || caps.queued_inv != !(s->opts & UIOMMU_VTD_OPT_NO_QI) ||
	    (s->ias && caps.ias != s->ias) ||
	    (s->stage1 && !caps.stage1)) {
		snprintf(why, sizeof(why), "unexpected caps: scalable=%d qi=%d ias=%u stage1=%d",
			 hwi.u.vtd.scalable, caps.queued_inv, caps.ias, caps.stage1);
		goto out;
	}
	if (strcmp(s->name, "vtd-legacy-cm") == 0) {
		struct uiommu_hw_info hi;

		if (uiommu_unit_hw_info(unit, &hi) || !(hi.u.vtd.cap & (1ull << 7))) {
			snprintf(why, sizeof(why), "CAP.CM not set");
			goto out;
		}
	}
	{
		struct uiommu_device_desc dd = {
			.bus = (uint8_t)(edu.requester_id >> 8),
			.devfn = (uint8_t)edu.requester_id,
			.hw_id = edu.requester_id,
		};
		rc = uiommu_device_add(unit, &dd, &dev);
		if (rc) {
			snprintf(why, sizeof(why), "device_add: %s", strerror(-rc));
			goto out;
		}
	}
	rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc && s->stage1)
		rc = uiommu_hwpt_alloc(ioas, unit, UIOMMU_HWPT_STAGE1, &hwpt);
	if (!rc)
		rc = uiommu_device_attach(dev, UIOMMU_NO_PASID,
					  hwpt ? uiommu_hwpt_id(hwpt) : uiommu_ioas_id(ioas), NULL);
	if (rc) {
		snprintf(why, sizeof(why), "ioas/hwpt/attach: %s", strerror(-rc));
		goto out;
	}
	rc = gt_huge_alloc(&huge);
	if (rc) {
		snprintf(why, sizeof(why), "hugepage: %s", strerror(-rc));
		goto out;
	}
	mem = huge.va;
	rc = uiommu_ioas_map(ioas, &iova, huge.pa, MAP_LEN,
			     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	if (rc) {
		snprintf(why, sizeof(why), "map: %s", strerror(-rc));
		goto out;
	}
	for (unsigned int i = 0; i < DMA_LEN; i++)
		mem[i] = (uint8_t)(i * 13 + 1);
	rc = gt_edu_bus_master(&edu, true);
	/* RAM -> edu (device reads IOVA), edu -> RAM (device writes IOVA+32K) */
	if (!rc)
		rc = gt_edu_dma(&edu, iova, 0, DMA_LEN, false, DMA_TIMEOUT_MS);
	if (!rc)
		rc = gt_edu_dma(&edu, iova + 0x8000, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	if (rc) {
		snprintf(why, sizeof(why), "edu DMA: %s", strerror(-rc));
		goto out;
	}
	if (memcmp(mem, mem + 0x8000, DMA_LEN) != 0) {
		snprintf(why, sizeof(why), "translated DMA: bytes differ");
		goto out;
	}
	nf = faults(edu.requester_id, &ev, &other);
	if (nf || other) {
		snprintf(why, sizeof(why), "%d unexpected faults/events while mapped", nf + other);
		goto out;
	}

	/* unmap: the same IOVAs must fault now */
	rc = uiommu_ioas_unmap(ioas, iova, MAP_LEN, NULL);
	if (rc) {
		snprintf(why, sizeof(why), "unmap: %s", strerror(-rc));
		goto out;
	}
	/* Pages whose translations QEMU has cached: only the invalidation
	 * makes these fault (NOTES: QEMU really caches). */
	memset(mem + 0x8000, 0, 64);
	rc = gt_edu_dma(&edu, iova + 0x8000, 0, 4, true, DMA_TIMEOUT_MS);
	if (rc || !all_zero(mem + 0x8000, 64)) {
		snprintf(why, sizeof(why), "write after unmap: rc %d, bytes %s", rc,
			 all_zero(mem + 0x8000, 64) ? "untouched" : "WRITTEN (stale IOTLB)");
		goto out;
	}
	nf = faults(edu.requester_id, &ev, &other);
	if (nf != 1 || !(ev.flags & UIOMMU_EV_WRITE) || ev.addr != iova + 0x8000 ||
	    (s->fr_write && ev.reason != s->fr_write) || ev.dev_id != uiommu_device_id(dev)) {
		snprintf(why, sizeof(why),
			 "write fault: %d records, flags 0x%x addr 0x%" PRIx64 " FR 0x%x", nf,
			 nf ? ev.flags : 0, nf ? ev.addr : 0, nf ? ev.reason : 0);
		goto out;
	}
	unsigned int frw = ev.reason;
	rc = gt_edu_dma(&edu, iova, 0, 4, false, DMA_TIMEOUT_MS);
	nf = faults(edu.requester_id, &ev, &other);
	if (rc || nf != 1 || !(ev.flags & UIOMMU_EV_READ) || ev.addr != iova ||
	    (s->fr_read && ev.reason != s->fr_read)) {
		snprintf(why, sizeof(why), "read fault: rc %d, %d records, flags 0x%x FR 0x%x", rc,
			 nf, nf ? ev.flags : 0, nf ? ev.reason : 0);
		goto out;
	}
	snprintf(why, sizeof(why),
		 "translated DMA ok; after unmap write FR=0x%x read FR=0x%x (%s), %d other; %.1f s",
		 frw, ev.reason, ev.reason_text ? ev.reason_text : "-", other,
		 (double)(gt_now_ns() - t0) / 1e9);
	fail = 0;
out:
	(void)gt_edu_bus_master(&edu, false);
	if (dev) {
		(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
		(void)uiommu_device_remove(dev);
	}
	if (hwpt)
		(void)uiommu_hwpt_destroy(hwpt);
	if (ioas) {
		(void)uiommu_ioas_unmap_all(ioas, NULL);
		(void)uiommu_ioas_destroy(ioas);
	}
	if (unit && uiommu_unit_remove(unit) != 0 && !fail) {
		snprintf(why, sizeof(why), "unit_remove failed");
		fail = 1;
	}
	if (!fail) {
		/* given back: translation off */
		volatile uint8_t *regs = gt_phys_map(base, 4096);
		uint32_t gsts = regs ? *(volatile uint32_t *)(regs + 0x1c) : ~0u;

		if (regs)
			gt_phys_unmap((void *)(uintptr_t)regs, 4096);
		if (gsts & ((1u << 31) | (1u << 26))) {
			snprintf(why, sizeof(why), "GSTS 0x%08x after unit_remove", gsts);
			fail = 1;
		}
	}
	gt_huge_free(&huge);
	gt_edu_close(&edu);
	gt_result(s->name, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

int main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0],    "-l", "0", "--in-memory", "--no-telemetry", "--iova-mode=pa",
		"-m",       "24", "--log-level=lib.eal:notice",          NULL,
	};
	struct uiommu_env_opts opts = {
		.backend = UIOMMU_MEM_DPDK,
		.eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1,
		.eal_argv = eal_argv,
	};
	uint64_t base = 0;
	int fails = 0, rc;

	gt_init();
	rc = drhd_base(&base);
	if (!rc)
		rc = uiommu_ctx_create(&opts, &ctx);
	for (size_t i = 0; i < sizeof(scens) / sizeof(scens[0]); i++) {
		if (!gt_wanted(argc, argv, scens[i].name))
			continue;
		if (rc) {
			gt_result(scens[i].name, GT_FAIL, "setup: %s", strerror(-rc));
			fails++;
			continue;
		}
		fails += run(&scens[i], base);
	}
	if (ctx)
		uiommu_ctx_destroy(ctx);
	return fails ? 1 : 0;
}
