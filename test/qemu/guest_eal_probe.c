/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program proving that DPDK's EAL starts inside the QEMU guest
 * initramfs (shared librte_* libraries copied by mkinitramfs.sh, hugepages
 * reserved by /init) and that a memzone's IOVA is the physical address that
 * edu can DMA to: what a libuiommu guest program needs.
 *
 * Scenarios (argv after "--", or all):
 *   eal-start  rte_eal_init in IOVA-as-PA mode, 2 MiB hugepages.
 *   eal-dma    edu DMA RAM -> edu -> RAM through an IOVA-contiguous memzone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>

#include "guest_lib.h"

#define DMA_LEN	       4000u
#define DMA_TIMEOUT_MS 5000u

static int scenario_eal_dma(void)
{
	const char *sc = "eal-dma";
	const struct rte_memzone *mz;
	struct gt_edu edu;
	uint8_t *src, *dst;
	uint64_t pa;
	unsigned int i, bad = 0;
	int ret, rc = 1;

	mz = rte_memzone_reserve_aligned("qemu_eal_dma", 64 << 10, SOCKET_ID_ANY,
					 RTE_MEMZONE_IOVA_CONTIG, 4096);
	if (!mz) {
		gt_result(sc, GT_FAIL, "memzone: %s", rte_strerror(rte_errno));
		return 1;
	}
	pa = gt_virt_to_phys(mz->addr);
	gt_log("memzone va=%p iova=0x%" PRIx64 " pagemap pa=0x%" PRIx64, mz->addr,
	       (uint64_t)mz->iova, pa);
	if (pa != (uint64_t)mz->iova) {
		gt_result(sc, GT_FAIL, "memzone iova 0x%" PRIx64 " != pagemap 0x%" PRIx64,
			  (uint64_t)mz->iova, pa);
		goto out_mz;
	}
	ret = gt_edu_open(&edu);
	if (ret) {
		gt_result(sc, GT_FAIL, "edu: %s", strerror(-ret));
		goto out_mz;
	}
	ret = gt_edu_bus_master(&edu, true);
	if (ret) {
		gt_result(sc, GT_FAIL, "bus master: %s", strerror(-ret));
		goto out_edu;
	}
	src = mz->addr;
	dst = src + (32 << 10);
	for (i = 0; i < DMA_LEN; i++)
		src[i] = (uint8_t)(i ^ 0xa5);
	memset(dst, 0, DMA_LEN);
	ret = gt_edu_dma(&edu, mz->iova, 0, DMA_LEN, false, DMA_TIMEOUT_MS);
	if (!ret)
		ret = gt_edu_dma(&edu, mz->iova + (32 << 10), 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	if (ret) {
		gt_result(sc, GT_FAIL, "edu DMA: %s", strerror(-ret));
		goto out_master;
	}
	for (i = 0; i < DMA_LEN; i++)
		bad += dst[i] != src[i];
	if (bad) {
		gt_result(sc, GT_FAIL, "%u of %u bytes differ", bad, DMA_LEN);
		goto out_master;
	}
	gt_result(sc, GT_PASS, "%u bytes through memzone iova 0x%" PRIx64, DMA_LEN,
		  (uint64_t)mz->iova);
	rc = 0;
out_master:
	gt_edu_bus_master(&edu, false);
out_edu:
	gt_edu_close(&edu);
out_mz:
	rte_memzone_free(mz);
	return rc;
}

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
		"16",
		"--log-level=lib.eal:notice",
		NULL,
	};
	int eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1;
	int fails = 0, ret;

	gt_init();
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		gt_result("eal-start", GT_FAIL, "rte_eal_init: %s", rte_strerror(rte_errno));
		if (gt_wanted(argc, argv, "eal-dma"))
			gt_result("eal-dma", GT_SKIP, "no EAL");
		return EXIT_FAILURE;
	}
	if (gt_wanted(argc, argv, "eal-start")) {
		if (rte_eal_iova_mode() == RTE_IOVA_PA)
			gt_result("eal-start", GT_PASS, "IOVA as PA, %s",
				  rte_eal_has_hugepages() ? "hugepages" : "no hugepages");
		else {
			gt_result("eal-start", GT_FAIL, "IOVA mode %d, expected PA",
				  (int)rte_eal_iova_mode());
			fails++;
		}
	}
	if (gt_wanted(argc, argv, "eal-dma"))
		fails += scenario_eal_dma();
	rte_eal_cleanup();
	return fails ? EXIT_FAILURE : EXIT_SUCCESS;
}
