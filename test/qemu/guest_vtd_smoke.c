/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * First guest program of the QEMU suite: proves the harness end to end with
 * translation OFF.  Plain C, libc only.
 *
 * Scenarios (argv selects; none = all):
 *   vtd-probe           DRHD base from ACPI DMAR, registers mapped through
 *                       /dev/mem, VER/CAP/ECAP printed, GSTS.TES == 0.
 *   smoke-untranslated  edu DMA RAM -> edu buffer -> RAM through a 2 MiB
 *                       hugepage addressed by its physical address.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_lib.h"

#define VTD_REG_VER	0x00
#define VTD_REG_CAP	0x08
#define VTD_REG_ECAP	0x10
#define VTD_REG_GSTS	0x1c
#define VTD_GSTS_TES	(1u << 31)
#define VTD_REG_MAP_LEN 0x1000

#define DMA_LEN	       4095u
#define DMA_TIMEOUT_MS 5000u
#define DST_OFF	       (1u << 20) /* second half of the hugepage */

static int scenario_vtd_probe(void)
{
	const char *sc = "vtd-probe";
	uint64_t bases[8];
	unsigned int haw = 0;
	volatile uint8_t *regs;
	uint64_t cap, ecap;
	uint32_t ver, gsts;
	int n = gt_dmar_drhd_bases(bases, 8, &haw);

	if (n < 0) {
		gt_result(sc, GT_FAIL, "no usable ACPI DMAR table: %s", strerror(-n));
		return 1;
	}
	if (n == 0) {
		gt_result(sc, GT_FAIL, "DMAR has no DRHD");
		return 1;
	}
	gt_log("DMAR HAW=%u, %d DRHD, first at 0x%" PRIx64, haw, n, bases[0]);
	regs = gt_phys_map(bases[0], VTD_REG_MAP_LEN);
	if (!regs) {
		gt_result(sc, GT_FAIL, "mmap /dev/mem at 0x%" PRIx64 ": %s (kernel IOMMU on?)",
			  bases[0], strerror(errno));
		return 1;
	}
	ver = *(volatile uint32_t *)(regs + VTD_REG_VER);
	cap = *(volatile uint64_t *)(regs + VTD_REG_CAP);
	ecap = *(volatile uint64_t *)(regs + VTD_REG_ECAP);
	gsts = *(volatile uint32_t *)(regs + VTD_REG_GSTS);
	gt_phys_unmap((void *)(uintptr_t)regs, VTD_REG_MAP_LEN);
	gt_log("VT-d VER=0x%x CAP=0x%016" PRIx64 " ECAP=0x%016" PRIx64 " GSTS=0x%08x", ver, cap,
	       ecap, gsts);
	if (ver == 0 || ver == 0xffffffffu) {
		gt_result(sc, GT_FAIL, "VER=0x%x: no VT-d register set at 0x%" PRIx64, ver,
			  bases[0]);
		return 1;
	}
	if (gsts & VTD_GSTS_TES) {
		gt_result(sc, GT_FAIL, "translation already enabled (GSTS=0x%08x)", gsts);
		return 1;
	}
	gt_result(sc, GT_PASS,
		  "base=0x%" PRIx64 " ver=0x%x cap=0x%016" PRIx64 " ecap=0x%016" PRIx64, bases[0],
		  ver, cap, ecap);
	return 0;
}

static int scenario_smoke_untranslated(void)
{
	const char *sc = "smoke-untranslated";
	struct gt_edu edu;
	struct gt_huge hp;
	uint8_t *src, *dst;
	uint64_t t0, t1, t2;
	unsigned int i, bad = 0;
	int ret, rc = 1;

	ret = gt_edu_open(&edu);
	if (ret) {
		gt_result(sc, GT_FAIL, "edu: %s", strerror(-ret));
		return 1;
	}
	gt_log("edu at %s (RID 0x%04x) id=0x%08x", edu.bdf, edu.requester_id,
	       gt_edu_read32(&edu, GT_EDU_REG_ID));
	ret = gt_huge_alloc(&hp);
	if (ret) {
		gt_result(sc, GT_FAIL, "2 MiB hugepage: %s", strerror(-ret));
		goto out_edu;
	}
	gt_log("hugepage va=%p pa=0x%" PRIx64, hp.va, hp.pa);
	ret = gt_edu_bus_master(&edu, true);
	if (ret) {
		gt_result(sc, GT_FAIL, "bus master: %s", strerror(-ret));
		goto out_huge;
	}
	src = hp.va;
	dst = (uint8_t *)hp.va + DST_OFF;
	for (i = 0; i < DMA_LEN; i++)
		src[i] = (uint8_t)(i * 7u + 0x5a);
	memset(dst, 0xcc, DMA_LEN + 64);

	t0 = gt_now_ns();
	ret = gt_edu_dma(&edu, hp.pa, 0, DMA_LEN, false, DMA_TIMEOUT_MS);
	t1 = gt_now_ns();
	if (!ret)
		ret = gt_edu_dma(&edu, hp.pa + DST_OFF, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	t2 = gt_now_ns();
	if (ret) {
		gt_result(sc, GT_FAIL, "edu DMA: %s", strerror(-ret));
		goto out_master;
	}
	for (i = 0; i < DMA_LEN; i++)
		if (dst[i] != src[i] && bad++ == 0)
			gt_log("first mismatch at %u: 0x%02x != 0x%02x", i, dst[i], src[i]);
	for (i = DMA_LEN; i < DMA_LEN + 64; i++)
		if (dst[i] != 0xcc && bad++ == 0)
			gt_log("DMA wrote past its end at %u", i);
	if (bad) {
		gt_result(sc, GT_FAIL, "%u bad bytes after RAM->edu->RAM of %u bytes", bad,
			  DMA_LEN);
		goto out_master;
	}
	gt_result(sc, GT_PASS,
		  "edu %s %u bytes RAM(pa 0x%" PRIx64 ")->edu->RAM(pa 0x%" PRIx64 ") in %" PRIu64
		  "+%" PRIu64 " ms",
		  edu.bdf, DMA_LEN, hp.pa, hp.pa + DST_OFF, (t1 - t0) / 1000000u,
		  (t2 - t1) / 1000000u);
	rc = 0;
out_master:
	gt_edu_bus_master(&edu, false);
out_huge:
	gt_huge_free(&hp);
out_edu:
	gt_edu_close(&edu);
	return rc;
}

int main(int argc, char **argv)
{
	int fails = 0;

	gt_init();
	if (gt_wanted(argc, argv, "vtd-probe"))
		fails += scenario_vtd_probe();
	if (gt_wanted(argc, argv, "smoke-untranslated"))
		fails += scenario_smoke_untranslated();
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "vtd-probe") != 0 && strcmp(argv[i], "smoke-untranslated") != 0)
			gt_result(argv[i], GT_SKIP, "unknown to %s", argv[0]);
	return fails ? EXIT_FAILURE : EXIT_SUCCESS;
}
