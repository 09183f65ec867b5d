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
 *   Between 2 and 3, transactions rolled back on this hardware: one
 *   aborted after an unmap and a new map reached the IOMMU, one whose
 *   process was killed (SIGKILL) after its unmap was invalidated; after
 *   each, QEMU's VT-d must translate the old mapping again (restored
 *   tables, queue restarted, caches invalidated by unit_recover) and block
 *   the new one.
 *
 * Scenario: vtd-cli-hw.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* edu writes 16 bytes of its buffer to @iova: does a fault at @iova come? */
static bool dma_faults(struct uiommu_ctx *ctx, struct gt_edu *edu, uint64_t iova)
{
	struct uiommu_event ev[8];
	bool fault = false;
	uint16_t n;

	while (uiommu_poll(ctx, ev, 8))
		;
	gt_edu_dma(edu, iova, 0, 16, true, 2000);
	n = uiommu_poll(ctx, ev, 8);
	for (uint16_t i = 0; i < n; i++)
		if (ev[i].type == UIOMMU_EV_FAULT && (ev[i].addr & ~0xfffull) == iova)
			fault = true;
	return fault;
}

#define NEW_IOVA 0x400000ull

static int rollbacks(struct gt_edu *edu)
{
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *ioas;
	struct uiommu_area_info ai;
	uint64_t iova = NEW_IOVA;
	int status, rc;
	pid_t pid;

	/* 1. Abort: unmap the 2 MiB and map it elsewhere, then undo. */
	if (adopt(&ctx))
		return -1;
	ioas = uiommu_ioas_get(ctx, uiommu_obj_find(ctx, "dma0"));
	if (!ioas || uiommu_ioas_lookup(ioas, IOVA, &ai) || uiommu_txn_begin(ctx, 1000, NULL) ||
	    uiommu_ioas_unmap(ioas, IOVA, ai.len, NULL) ||
	    uiommu_ioas_map(ioas, &iova, ai.phys, ai.len,
			    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)) {
		snprintf(why, sizeof(why), "rollback set-up failed");
		uiommu_ctx_detach(ctx);
		return -1;
	}
	if (!dma_faults(ctx, edu, IOVA) || dma_faults(ctx, edu, NEW_IOVA)) {
		snprintf(why, sizeof(why), "inside the transaction the hardware did not follow");
		uiommu_ctx_detach(ctx);
		return -1;
	}
	rc = uiommu_txn_abort(ctx);
	if (rc || dma_faults(ctx, edu, IOVA) || !dma_faults(ctx, edu, NEW_IOVA)) {
		snprintf(why, sizeof(why), "after abort (%d): old mapping not back or new one left",
			 rc);
		uiommu_ctx_detach(ctx);
		return -1;
	}
	uiommu_ctx_detach(ctx);

	/* 2. kill -9 after an unmap the IOMMU has seen. */
	pid = fork();
	if (pid == 0) {
		struct uiommu_ctx *c;
		struct uiommu_ioas *s;

		if (adopt(&c) || uiommu_txn_begin(c, 1000, NULL))
			_exit(2);
		s = uiommu_ioas_get(c, uiommu_obj_find(c, "dma0"));
		if (!s || uiommu_ioas_unmap(s, IOVA, ai.len, NULL))
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "the killed transaction did not die as planned");
		return -1;
	}
	if (adopt(&ctx)) /* rolls it back */
		return -1;
	rc = dma_faults(ctx, edu, IOVA);
	uiommu_ctx_detach(ctx);
	if (rc) {
		snprintf(why, sizeof(why), "after kill -9: the old mapping was not restored");
		return -1;
	}
	return 0;
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

	if (rollbacks(&edu))
		goto out;

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
	gt_result(SCEN, ok ? GT_PASS : GT_FAIL, "%s", ok ? "CLI carve + app DMA + rollbacks + unmap + fault + reset; " : "");
	if (ok)
		gt_log("%s", why);
	else
		gt_log("failed: %s", why);
	gt_edu_close(&edu);
	return ok ? 0 : 1;
}
