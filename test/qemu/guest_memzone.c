/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program: the operator maps a DPDK application's memzone.
 *   1. This program is the DPDK application: the EAL primary process with
 *      2 MiB hugepage files under --file-prefix uiommumz, IOVA as PA; it
 *      reserves an IOVA-contiguous memzone.
 *   2. `uiommuctl` takes the DRHD over, adds edu, creates and attaches an
 *      address space and maps the memzone by name:
 *      `ioas map dma0 --memzone NAME@uiommumz --iova 0x400000` (uiommuctl
 *      joins this DPDK instance as an EAL secondary process to look it up).
 *   3. edu DMA through IOVA 0x400000: RAM -> edu -> RAM, the bytes must land
 *      in the memzone.
 *   4. `uiommuctl ioas unmap`; edu DMA again: nothing may be written (QEMU
 *      logs the translation fault); `uiommuctl reset`.
 *
 * Scenario: vtd-cli-memzone.
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

#define SCEN	   "vtd-cli-memzone"
#define STATE	   "mz"
#define PREFIX	   "uiommumz"
#define MZ_NAME	   "app_rx_ring"
#define MZ_LEN	   (64u << 10)
#define IOVA	   0x400000ull
#define DST_OFF	   0x8000u /* where edu writes back, inside the memzone */
#define DMA_LEN	   3000u
#define TIMEOUT_MS 2000u

static char why[700];

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "uiommuctl --state " STATE " %s", cmd);
	return gt_system(full, why, sizeof(why));
}

/* A command that must fail (exit 1) with a message, not crash. */
static int sh_refused(const char *cmd)
{
	if (sh(cmd) == 1)
		return 0;
	snprintf(why, sizeof(why), "'%s' did not exit 1", cmd);
	return -1;
}

/* The operator carves: unit, edu, an IOAS with the memzone mapped (after
 * two refusals: no such memzone, no such DPDK instance). */
static int carve(const struct gt_edu *edu)
{
	char devcmd[128];

	snprintf(devcmd, sizeof(devcmd), "device add 1 %s --name edu", edu->bdf + 5);
	return sh("unit add --index 0") || sh(devcmd) || sh("ioas create --name dma0") ||
	       sh("ioas attach dma0 edu") ||
	       sh_refused("ioas map dma0 --memzone no_such_mz@" PREFIX " --iova 0x400000") ||
	       sh_refused("ioas map dma0 --memzone " MZ_NAME "@no_such_app --iova 0x400000") ||
	       sh("ioas map dma0 --memzone " MZ_NAME "@" PREFIX " --iova 0x400000") ||
	       sh("ioas show dma0");
}

/* RAM(IOVA) -> edu -> RAM(IOVA + DST_OFF), both through the IOMMU; the
 * copy must appear in the memzone. */
static int dma_through(struct gt_edu *edu, uint8_t *mz)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < DMA_LEN; i++)
		mz[i] = (uint8_t)(i * 13 + 5);
	memset(mz + DST_OFF, 0, DMA_LEN);
	if (gt_edu_dma(edu, IOVA, 0, DMA_LEN, false, TIMEOUT_MS) ||
	    gt_edu_dma(edu, IOVA + DST_OFF, 0, DMA_LEN, true, TIMEOUT_MS)) {
		snprintf(why, sizeof(why), "edu DMA timed out");
		return -1;
	}
	for (unsigned int i = 0; i < DMA_LEN; i++)
		bad += mz[DST_OFF + i] != mz[i];
	if (bad) {
		snprintf(why, sizeof(why),
			 "translated DMA: %u of %u bytes did not land in the "
			 "memzone",
			 bad, DMA_LEN);
		return -1;
	}
	return 0;
}

/* After unmap: edu's write to IOVA + DST_OFF must be blocked. */
static int dma_blocked(struct gt_edu *edu, uint8_t *mz)
{
	unsigned int written = 0;

	memset(mz + DST_OFF, 0, DMA_LEN);
	gt_edu_dma(edu, IOVA + DST_OFF, 0, DMA_LEN, true, TIMEOUT_MS);
	for (unsigned int i = 0; i < DMA_LEN; i++)
		written += mz[DST_OFF + i] != 0;
	if (written) {
		snprintf(why, sizeof(why), "after unmap: %u bytes written into the memzone",
			 written);
		return -1;
	}
	return 0;
}

static int run(void)
{
	const struct rte_memzone *mz;
	struct gt_edu edu;
	int rc = -1;

	mz = rte_memzone_reserve_aligned(MZ_NAME, MZ_LEN, SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG,
					 4096);
	if (!mz) {
		snprintf(why, sizeof(why), "memzone: %s", rte_strerror(rte_errno));
		return -1;
	}
	gt_log("memzone %s va=%p iova=0x%" PRIx64 " len=%zu", MZ_NAME, mz->addr, (uint64_t)mz->iova,
	       mz->len);
	if (gt_edu_open(&edu) || gt_edu_bus_master(&edu, true)) {
		snprintf(why, sizeof(why), "edu not usable");
		goto out_mz;
	}
	if (carve(&edu) || dma_through(&edu, mz->addr))
		goto out_edu;
	if (sh("ioas unmap dma0 0x400000") || dma_blocked(&edu, mz->addr))
		goto out_edu;
	if (sh("reset"))
		goto out_edu;
	snprintf(why, sizeof(why),
		 "memzone iova 0x%" PRIx64 " mapped at IOVA 0x%llx by name; DMA landed; "
		 "blocked after unmap",
		 (uint64_t)mz->iova, IOVA);
	rc = 0;
out_edu:
	if (rc)
		(void)system("uiommuctl --state " STATE " reset >/dev/null 2>&1");
	gt_edu_bus_master(&edu, false);
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
		"--file-prefix",
		PREFIX,
		"--no-pci",
		"--no-telemetry",
		"--iova-mode=pa",
		"--log-level=lib.eal:notice",
		NULL,
	};
	int eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1;
	int rc;

	gt_init();
	if (!gt_wanted(argc, argv, SCEN))
		return 0;
	/* Hugepage files under the prefix (not --in-memory): a secondary
	 * process can attach only to those. */
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		gt_result(SCEN, GT_FAIL, "rte_eal_init: %s", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	rc = run();
	gt_result(SCEN, rc ? GT_FAIL : GT_PASS, "%s", why);
	rte_eal_cleanup();
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
