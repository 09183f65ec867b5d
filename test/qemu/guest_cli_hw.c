/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program: the operator workflow on (emulated) hardware.
 *   1. `uiommuctl` takes the DRHD over and carves an address space in
 *      hugepage-backed shared state: unit add, device add (edu), ioas create,
 *      attach, map a 2 MiB arena buffer at IOVA 0x200000.  Each command is its
 *      own process: the state outlives them.
 *   2. This program, an "application", adopts the same state and makes edu
 *      DMA through the translation; the bytes must arrive.
 *   3. `uiommuctl walk` explains the translation; `uiommuctl ioas unmap`
 *      removes it (strict: invalidated before it returns).
 *   4. edu DMA again: QEMU must block it and the application must see the
 *      fault through uiommu_poll(); `uiommuctl reset` gives the unit back
 *      (translation off, as found).
 *
 * Scenario: vtd-cli-hw.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_lib.h"
#include "uiommu/uiommu.h"

#define SCEN "vtd-cli-hw"
#define STATE "guesthw"
#define IOVA 0x200000ull

static char why[700];

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "uiommuctl --state " STATE " %s", cmd);
	return gt_system(full, why, sizeof(why));
}

static int adopt(struct uiommu_ctx **ctx)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_HUGE, .name = STATE};
	int rc = uiommu_ctx_create(&o, ctx);

	if (rc)
		snprintf(why, sizeof(why), "adopt: %s", strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct uiommu_ctx *ctx = NULL;
	struct gt_edu edu;
	struct uiommu_area_info ai;
	struct uiommu_buf_info bi;
	struct uiommu_event ev[8];
	uint8_t *buf;
	int ok = 0, n, rc;

	gt_init();
	if (!gt_wanted(argc, argv, SCEN))
		return 0;
	if (gt_edu_open(&edu) || gt_edu_bus_master(&edu, true)) {
		gt_result(SCEN, GT_FAIL, "edu not usable");
		return 1;
	}
	char devcmd[128];
	snprintf(devcmd, sizeof(devcmd), "device add 1 %s --name edu", edu.bdf + 5);
	if (sh("unit add --index 0") || sh(devcmd) || sh("ioas create --name dma0") ||
	    sh("ioas attach dma0 edu") || sh("ioas map dma0 --alloc 2M --iova 0x200000") ||
	    sh("ioas list"))
		goto out;

	/* The application adopts the state the commands left. */
	if (adopt(&ctx))
		goto out;
	struct uiommu_ioas *ioas = uiommu_ioas_get(ctx, uiommu_obj_find(ctx, "dma0"));
	if (!ioas || uiommu_ioas_lookup(ioas, IOVA, &ai) ||
	    uiommu_buf_lookup(ctx, ai.phys, &bi)) {
		snprintf(why, sizeof(why), "adopted state lacks ioas dma0 / its buffer");
		goto out;
	}
	buf = bi.va;
	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	memset(buf + 0x1000, 0, 256);
	/* RAM(IOVA) -> edu -> RAM(IOVA + 0x1000), both through the IOMMU. */
	if (gt_edu_dma(&edu, IOVA, 0, 256, false, 2000) ||
	    gt_edu_dma(&edu, IOVA + 0x1000, 0, 256, true, 2000) ||
	    memcmp(buf, buf + 0x1000, 256) != 0) {
		snprintf(why, sizeof(why), "translated edu DMA did not arrive");
		goto out;
	}
	uiommu_ctx_detach(ctx);
	ctx = NULL;

	/* The operator looks, then unmaps. */
	if (sh("walk edu 0x200000") || sh("ioas unmap dma0 0x200000"))
		goto out;

	/* The application again: the same DMA must now be blocked. */
	if (adopt(&ctx))
		goto out;
	/* (The --alloc buffer went back to the arena with the unmap.) */
	gt_edu_dma(&edu, IOVA + 0x1000, 0, 256, true, 2000);
	n = uiommu_poll(ctx, ev, 8);
	if (n < 1 || ev[0].type != UIOMMU_EV_FAULT || (ev[0].addr & ~0xfffull) != IOVA + 0x1000) {
		snprintf(why, sizeof(why), "after unmap: %d events (want a fault at 0x%llx)", n,
			 (unsigned long long)(IOVA + 0x1000));
		goto out;
	}
	rc = snprintf(why, sizeof(why), "fault 0x%x %s", ev[0].reason,
		      ev[0].reason_text ? ev[0].reason_text : "");
	(void)rc;
	uiommu_ctx_detach(ctx);
	ctx = NULL;
	if (sh("reset"))
		goto out;
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MMIO,
				      .reg_base = 0xfed90000};
	struct uiommu_unit_peek pk;
	if (uiommu_unit_peek(&ud, &pk) || pk.in_use) {
		snprintf(why, sizeof(why), "after reset the unit is still in use");
		goto out;
	}
	ok = 1;
out:
	if (ctx)
		uiommu_ctx_detach(ctx);
	gt_result(SCEN, ok ? GT_PASS : GT_FAIL, "%s", ok ? "CLI carve + app DMA + unmap + fault + reset; " : "");
	if (ok)
		gt_log("%s", why);
	else
		gt_log("failed: %s", why);
	gt_edu_close(&edu);
	return ok ? 0 : 1;
}
