/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk_protect: a DPDK application that protects itself with uiommu in
 * code (uiommu_dpdk_protect(), the same as `-d librte_uiommu.so --vdev
 * uiommu,...` on the command line), then allocates and frees DMA memory at
 * run time and shows what a device may reach.
 *
 *   dpdk_protect [EAL options] -- [uiommu configuration]
 *
 * With the built-in VT-d model (no hardware needed):
 *
 *   dpdk_protect --no-huge -m 64 --no-pci -l 0 -- model=vtd,attach=00:03.0
 *
 * a model device (00:03.0) does the DMA: into memory DPDK handed out it
 * lands, into memory DPDK took back it faults and the fault is counted.
 * On a machine with an IOMMU (root, hugepages, devices bound to vfio-pci
 * or uio_pci_generic) leave the configuration empty: the units come from
 * the firmware tables and DPDK's devices are isolated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include <uiommu/uiommu.h>
#include <uiommu/uiommu_dpdk.h>

/* The model device the configuration attached (attach=BUS:DEV.FN), if any. */
static struct uiommu_device *model_device(void)
{
	struct uiommu_ctx *ctx = uiommu_dpdk_ctx();

	for (struct uiommu_device *d = uiommu_device_next(ctx, NULL); d;
	     d = uiommu_device_next(ctx, d)) {
		struct uiommu_unit_info ui;

		if (uiommu_unit_get_info(uiommu_device_unit(d), &ui) == 0 &&
		    ui.access == UIOMMU_UNIT_MODEL)
			return d;
	}
	return NULL;
}

static int surprises; /* outcomes other than the ones the demo expects */

/* What a device sees at @iova: mapped (and, with a model device, a DMA
 * write that lands) or not (the DMA faults).  @expect: should be mapped. */
static void probe(const char *what, uint64_t iova, uint8_t *cpu, bool expect)
{
	struct uiommu_device *dev = model_device();
	struct uiommu_area_info a;
	uint8_t pat[16];
	bool mapped = uiommu_ioas_lookup(uiommu_dpdk_ioas(), iova, &a) == 0;

	surprises += mapped != expect;
	printf("%-28s IOVA %#14" PRIx64 ": %s", what, iova,
	       mapped ? "mapped for DMA" : "NOT reachable by devices");
	if (dev) {
		memset(pat, 0x5a, sizeof(pat));
		int rc = uiommu_model_dma(dev, UIOMMU_NO_PASID, iova, pat, sizeof(pat), true);

		surprises += (rc == 0) != expect;
		printf("; model DMA %s", rc == 0 ? (cpu && cpu[0] == 0x5a ? "landed" : "done")
					 : rc == -EFAULT ? "blocked (fault)"
							 : strerror(-rc));
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	struct uiommu_dpdk_stats st;
	const char *cfg;
	int n, rc;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	cfg = argc > 1 ? argv[1] : "";
	rc = uiommu_dpdk_protect(cfg);
	if (rc) {
		fprintf(stderr, "uiommu_dpdk_protect('%s'): %s\n", cfg, strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	uiommu_dpdk_get_stats(&st);
	printf("protected: %u unit(s), %u device(s) isolated, %u in pass-through; %" PRIu64
	       " bytes of DPDK memory mapped in %.3f ms\n",
	       st.nr_units, st.nr_attached, st.nr_passthrough, st.mapped_bytes,
	       st.startup_map_ns / 1e6);

	/* Memory DPDK hands out: reachable as soon as rte_malloc returns. */
	uint8_t *buf = rte_zmalloc("demo", 4096, 4096);
	if (!buf) {
		fprintf(stderr, "rte_zmalloc failed\n");
		return 1;
	}
	uint64_t iova = rte_malloc_virt2iova(buf);
	probe("rte_zmalloc'd buffer", iova, buf, true);

	/* Memory that is not DPDK's: never reachable. */
	static uint8_t not_dpdk[4096] __attribute__((aligned(4096)));
	probe("a static array (not DPDK's)", (uintptr_t)not_dpdk, not_dpdk, false);

	/* A large allocation that grows DPDK's memory (hugepages, memory
	 * events): mapped before it is handed out, unmapped once given back. */
	uint8_t *big = rte_malloc("big", 8u << 20, 2u << 20);
	uint64_t big_iova = big ? rte_malloc_virt2iova(big) : 0;
	if (big) {
		probe("8 MiB allocated at run time", big_iova, big, true);
		rte_free(big);
		uiommu_dpdk_get_stats(&st);
		if (st.unmap_events)
			probe("... after rte_free", big_iova, NULL, false);
	}
	rte_free(buf);

	uiommu_dpdk_poll();
	uiommu_dpdk_get_stats(&st);
	printf("faults seen: %" PRIu64 "; memory events: %" PRIu64 " mapped, %" PRIu64
	       " unmapped\n",
	       st.faults, st.map_events, st.unmap_events);
	/* rte_eal_cleanup gives the units back as they were found. */
	rte_eal_cleanup();
	printf("given back; %s\n", surprises ? "UNEXPECTED results above" : "all as expected");
	return surprises ? 1 : 0;
}
