/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU guest program for the AMD-Vi driver: uiommu drives QEMU 10's
 * `-device amd-iommu,pt=off` from userspace (kernel amd_iommu=off), and
 * QEMU's edu device does DMA through it.
 *
 * Scenarios (one boot, the unit taken over and given back per scenario):
 *   amdvi-probe-cli   `uiommuctl -j probe`: the IVRS from
 *                     /sys/firmware/acpi/tables, the IOMMU's PCI function
 *                     and capability (libpci), its registers (peek), edu's
 *                     DeviceID from the IVHD
 *   amdvi-3level      3-level v1 tables (DTE Mode 3)
 *   amdvi-4level      4-level v1 tables (DTE Mode 4)
 *   amdvi-cli-hw      uiommuctl takes the unit over in hugepage shared state,
 *                     an application adopts it and DMAs, a transaction is
 *                     aborted (unit_recover drops QEMU's cached translation),
 *                     unmap, reset
 * Each table scenario: translated edu DMA RAM -> edu -> RAM; a read-only
 * mapping (edu's write does not land); stale until INVALIDATE_IOMMU_PAGES
 * (the driver's flush skipped on purpose: QEMU's cached translation still
 * lets the DMA land; the command then stops it), strict unmap; the DTE
 * invalidated on re-attach (replace onto another IOAS: DMA lands in the
 * new page only); a 2 MiB page; give-back turns IommuEn off.
 * QEMU 10.0.2's event log never receives faults and a not-present PTE
 * raises no fault (NOTES.md): blocked DMA is proven by its bytes not
 * landing; events are proven on the model (amdvi-drv).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "guest_lib.h"
#include "uiommu/uiommu.h"
#include "uiommu/uiommu_fw.h"
#include "core/core.h"
#include "hw/amdvi/amdvi_internal.h"

#define DMA_TIMEOUT_MS 5000u
#define IOVA_BASE      0x10000000ull /* below 2^39, away from the MSI window */
#define IOVA_RO	       0x10100000ull
#define IOVA_S	       0x10200000ull
#define IOVA_R	       0x10300000ull
#define IOVA_2M	       0x20000000ull
#define MAP_LEN	       (64u * 1024)
#define XFER	       4095u

static struct uiommu_ctx *ctx;

/* The IVHD's MMIO base and edu's DeviceID, from uiommu's IVRS parser. */
static int ivrs(uint64_t *base, uint16_t rid, uint32_t *devid)
{
	struct uiommu_fw_topo topo;
	char err[160] = "";
	int n, rc = -ENOENT;

	uiommu_fw_init(&topo);
	n = uiommu_fw_load_dir(&topo, NULL, err, sizeof(err));
	if (n <= 0)
		gt_log("uiommu_fw_load_dir: %d %s", n, err);
	for (size_t i = 0; n > 0 && i < topo.nunits; i++)
		if (topo.units[i].family == UIOMMU_FAMILY_AMDVI) {
			*base = topo.units[i].base;
			rc = uiommu_fw_lookup(&topo, 0, rid, devid) < 0 ? -ENODEV : 0;
			gt_log("IVRS: IVHD at 0x%" PRIx64
			       " (types 0x%x), edu RID 0x%x -> DeviceID 0x%x",
			       *base, topo.units[i].amd.types, rid, rc ? 0 : *devid);
			break;
		}
	uiommu_fw_free(&topo);
	return rc;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int probe_cli(uint64_t base, uint16_t rid, uint32_t devid)
{
	const char *scen = "amdvi-probe-cli";
	char why[256] = "", want[32], edubdf[32];
	json_error_t jerr;
	json_t *root, *u0, *regs, *pcis, *iommu = NULL, *edu = NULL;
	FILE *p = popen("uiommuctl -j probe", "r");
	int rc;

	if (!p) {
		gt_result(scen, GT_FAIL, "popen: %s", strerror(errno));
		return 1;
	}
	root = json_loadf(p, 0, &jerr);
	rc = pclose(p);
	if (!root) {
		gt_result(scen, GT_FAIL, "not JSON (line %d: %s), exit %d", jerr.line, jerr.text,
			  rc);
		return 1;
	}
	u0 = json_array_get(json_object_get(root, "units"), 0);
	regs = json_object_get(u0, "registers");
	pcis = json_object_get(root, "pci_devices");
	snprintf(want, sizeof(want), "0x%" PRIx64, base);
	snprintf(edubdf, sizeof(edubdf), "0000:%02x:%02x.%x", rid >> 8, (rid >> 3) & 31, rid & 7);
	for (size_t i = 0; i < json_array_size(pcis); i++) {
		json_t *d = json_array_get(pcis, i);

		if (json_object_get(d, "amdvi_cap_offset"))
			iommu = d;
		if (!strcmp(jstr(d, "device"), edubdf))
			edu = d;
	}
	if (rc)
		snprintf(why, sizeof(why), "uiommuctl exit status %d", rc);
	else if (strcmp(jstr(u0, "base"), want) || strcmp(jstr(u0, "family"), "amdvi"))
		snprintf(why, sizeof(why), "unit 0: base %s family %s", jstr(u0, "base"),
			 jstr(u0, "family"));
	else if (strcmp(jstr(regs, "status"), "ok") ||
		 !strcmp(jstr(regs, "efr"), "0x0000000000000000"))
		snprintf(why, sizeof(why), "registers: status '%s' efr '%s'", jstr(regs, "status"),
			 jstr(regs, "efr"));
	else if (json_is_true(json_object_get(regs, "in_use")))
		snprintf(why, sizeof(why), "registers say the unit is in use (kernel driver on?)");
	else if (!iommu || strtoull(jstr(iommu, "amdvi_base"), NULL, 0) != base)
		snprintf(why, sizeof(why), "IOMMU PCI function: %s, capability base %s",
			 iommu ? jstr(iommu, "device") : "not found",
			 iommu ? jstr(iommu, "amdvi_base") : "-");
	else if (!edu || json_integer_value(json_object_get(edu, "unit")) != 0 ||
		 (uint32_t)json_integer_value(json_object_get(edu, "unit_id")) != devid)
		snprintf(why, sizeof(why), "edu %s: %s (want unit 0 DeviceID 0x%x)", edubdf,
			 edu ? "wrong unit/id" : "not listed", devid);
	if (why[0])
		gt_result(scen, GT_FAIL, "%s", why);
	else
		gt_result(scen, GT_PASS,
			  "IVHD at %s, IOMMU function %s cap 0x%llx, EFR %s, edu %s DeviceID 0x%x; "
			  "%s",
			  want, jstr(iommu, "device"),
			  (long long)json_integer_value(json_object_get(iommu, "amdvi_cap_offset")),
			  jstr(regs, "efr"), edubdf, devid, jstr(regs, "decoded"));
	json_decref(root);
	return why[0] ? 1 : 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int noflush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	(void)u, (void)f, (void)n;
	return 0;
}

static int map_pa(struct uiommu_ioas *io, uint64_t iova, uint64_t pa, uint64_t len, uint32_t prot)
{
	return uiommu_ioas_map(io, &iova, pa, len, prot | UIOMMU_MAP_FIXED_IOVA);
}

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			snprintf(why, sizeof(why), __VA_ARGS__); \
			goto out;                                \
		}                                                \
	} while (0)

static int run_tables(const char *scen, unsigned int levels, uint64_t base, uint32_t devid)
{
	/* DPDK's 24 MiB in IOVA-as-PA mode need not hold 2 MiB of contiguous
	 * memory: a smaller device table is accepted (edu and the IOMMU's
	 * own function are the only requesters, DeviceIDs below 0x100). */
	struct uiommu_amdvi_unit_opts ao = {.family = UIOMMU_FAMILY_AMDVI,
					    .flags = UIOMMU_AMDVI_F_SMALL_DEVTAB,
					    .levels = levels};
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_AMDVI,
		.access = UIOMMU_UNIT_MMIO,
		.reg_base = base,
		.numa_node = -1,
		.family_opts = &ao,
	};
	struct uiommu_unit *unit = NULL;
	struct uiommu_device *dev = NULL;
	struct uiommu_ioas *ioa = NULL, *iob = NULL;
	struct uiommu_family_ops broken = amdvi_family_ops;
	struct uiommu_unit_peek pk;
	struct uiommu_hw_info hwi;
	struct uiommu_walk_level lv[8];
	struct gt_edu edu;
	struct gt_huge ha = {0}, hb = {0};
	uint64_t t0 = gt_now_ns();
	uint8_t *a, *b;
	char why[240] = "";
	int rc, fail = 1, k;

	rc = gt_edu_open(&edu);
	if (rc) {
		gt_result(scen, GT_FAIL, "edu: %s", strerror(-rc));
		return 1;
	}
	rc = uiommu_unit_peek(&ud, &pk);
	CHECK(!rc && !pk.in_use, "peek: %s in_use=%d", strerror(-rc), pk.in_use);
	rc = uiommu_unit_add(ctx, &ud, &unit);
	CHECK(!rc, "unit_add(0x%" PRIx64 "): %s", base, strerror(-rc));
	uiommu_unit_hw_info(unit, &hwi);
	gt_log("EFR 0x%016" PRIx64 " EFR2 0x%016" PRIx64 " Control 0x%" PRIx64 " levels %u",
	       hwi.u.amdvi.efr, hwi.u.amdvi.efr2, hwi.u.amdvi.control, hwi.u.amdvi.levels);
	CHECK(hwi.u.amdvi.levels == levels && hwi.u.amdvi.efr == pk.info.u.amdvi.efr,
	      "hw_info: levels %u EFR 0x%" PRIx64, hwi.u.amdvi.levels, hwi.u.amdvi.efr);
	{
		struct uiommu_device_desc dd = {
			.bus = (uint8_t)(edu.requester_id >> 8),
			.devfn = (uint8_t)edu.requester_id,
			.hw_id = devid,
		};
		rc = uiommu_device_add(unit, &dd, &dev);
		CHECK(!rc, "device_add: %s", strerror(-rc));
	}
	rc = uiommu_ioas_alloc(ctx, &ioa);
	if (!rc)
		rc = uiommu_ioas_alloc(ctx, &iob);
	if (!rc)
		rc = uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioa), NULL);
	CHECK(!rc, "ioas/attach: %s", strerror(-rc));
	rc = gt_huge_alloc(&ha);
	if (!rc)
		rc = gt_huge_alloc(&hb);
	CHECK(!rc, "hugepages: %s", strerror(-rc));
	a = ha.va;
	b = hb.va;
	rc = map_pa(ioa, IOVA_BASE, ha.pa, MAP_LEN, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE);
	if (!rc)
		rc = map_pa(ioa, IOVA_RO, ha.pa + 0x100000, 4096, UIOMMU_MAP_READ);
	CHECK(!rc, "map: %s", strerror(-rc));
	rc = gt_edu_bus_master(&edu, true);
	CHECK(!rc, "bus master: %s", strerror(-rc));

	/* 1. Translated DMA: RAM -> edu -> RAM. */
	for (unsigned int i = 0; i < XFER; i++)
		a[i] = (uint8_t)(i * 13 + 1);
	rc = gt_edu_dma(&edu, IOVA_BASE, 0, XFER, false, DMA_TIMEOUT_MS);
	if (!rc)
		rc = gt_edu_dma(&edu, IOVA_BASE + 0x8000, 0, XFER, true, DMA_TIMEOUT_MS);
	CHECK(!rc, "edu DMA: %s", strerror(-rc));
	CHECK(memcmp(a, a + 0x8000, XFER) == 0, "translated DMA: bytes differ");

	/* 2. Read-only: the device's write does not land. */
	rc = gt_edu_dma(&edu, IOVA_RO, 0, 64, true, DMA_TIMEOUT_MS);
	CHECK(!rc && all_zero(a + 0x100000, 64), "read-only page %s",
	      rc ? "edu timed out" : "WRITTEN");
	rc = gt_edu_dma(&edu, IOVA_RO, 0, 64, false, DMA_TIMEOUT_MS); /* reads are fine */
	CHECK(!rc, "read of the read-only page: %s", strerror(-rc));
	/* edu's buffer holds the pattern again (the read above zeroed it). */
	rc = gt_edu_dma(&edu, IOVA_BASE, 0, XFER, false, DMA_TIMEOUT_MS);
	CHECK(!rc, "edu reload: %s", strerror(-rc));

	/* 3. Stale until INVALIDATE_IOMMU_PAGES: unmap with the flush skipped. */
	rc = map_pa(ioa, IOVA_S, ha.pa + 0x40000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE);
	CHECK(!rc, "map S: %s", strerror(-rc));
	rc = gt_edu_dma(&edu, IOVA_S, 0, 64, true, DMA_TIMEOUT_MS); /* QEMU caches it */
	CHECK(!rc && !all_zero(a + 0x40000, 64), "DMA to S did not land");
	broken.flush = noflush;
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, &broken);
	rc = uiommu_ioas_unmap(ioa, IOVA_S, 4096, NULL);
	uiommu_family_override(UIOMMU_FAMILY_AMDVI, NULL);
	CHECK(!rc, "unmap S: %s", strerror(-rc));
	memset(a + 0x40000, 0, 64);
	rc = gt_edu_dma(&edu, IOVA_S, 0, 64, true, DMA_TIMEOUT_MS);
	CHECK(!rc && !all_zero(a + 0x40000, 64), "without INVALIDATE_IOMMU_PAGES the unmapped page "
						 "was not written: QEMU did not cache");
	{
		struct amdvi_batch bt;
		struct amdvi_cmd c;
		uint32_t did = ((struct amdvi_dev *)dev->priv)->did;

		amdvi_batch_init(&bt, amdvi_of(unit));
		amdvi_cmd_inv_pages(&c, (uint16_t)did, IOVA_S, 4096, true);
		amdvi_batch_add(&bt, &c);
		rc = amdvi_batch_sync(&bt);
		CHECK(!rc, "INVALIDATE_IOMMU_PAGES + COMPLETION_WAIT: %s", strerror(-rc));
	}
	memset(a + 0x40000, 0, 64);
	rc = gt_edu_dma(&edu, IOVA_S, 0, 64, true, DMA_TIMEOUT_MS);
	CHECK(!rc && all_zero(a + 0x40000, 64),
	      "after INVALIDATE_IOMMU_PAGES the DMA still landed");

	/* 4. Strict unmap: the driver's own flush. */
	rc = uiommu_ioas_unmap(ioa, IOVA_BASE, MAP_LEN, NULL);
	CHECK(!rc, "unmap: %s", strerror(-rc));
	memset(a + 0x8000, 0, 64);
	rc = gt_edu_dma(&edu, IOVA_BASE + 0x8000, 0, 4, true, DMA_TIMEOUT_MS);
	CHECK(!rc && all_zero(a + 0x8000, 64), "write after unmap landed (stale IOTLB)");

	/* 5. DTE invalidation on re-attach: the same IOVA in two IOASes. */
	rc = map_pa(ioa, IOVA_R, ha.pa + 0x1c0000, 4096, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE);
	if (!rc)
		rc = map_pa(iob, IOVA_R, ha.pa + 0x180000, 4096,
			    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE);
	CHECK(!rc, "map R: %s", strerror(-rc));
	rc = gt_edu_dma(&edu, IOVA_R, 0, 64, true, DMA_TIMEOUT_MS);
	CHECK(!rc && !all_zero(a + 0x1c0000, 64), "DMA through IOAS A did not land");
	memset(a + 0x1c0000, 0, 64);
	rc = uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_ioas_id(iob), NULL);
	CHECK(!rc, "replace: %s", strerror(-rc));
	rc = gt_edu_dma(&edu, IOVA_R, 0, 64, true, DMA_TIMEOUT_MS);
	CHECK(!rc && !all_zero(a + 0x180000, 64) && all_zero(a + 0x1c0000, 64),
	      "after replace: new page %s, old page %s",
	      all_zero(a + 0x180000, 64) ? "empty" : "written",
	      all_zero(a + 0x1c0000, 64) ? "untouched" : "WRITTEN (stale DTE)");

	/* 6. A 2 MiB page. */
	rc = map_pa(iob, IOVA_2M, hb.pa, 2u << 20, UIOMMU_MAP_READ | UIOMMU_MAP_WRITE);
	CHECK(!rc, "map 2M: %s", strerror(-rc));
	k = uiommu_hwpt_walk(
		uiommu_hwpt_get(ctx, uiommu_device_attached_hwpt(dev, UIOMMU_NO_PASID)),
		IOVA_2M + 0x180000, lv, 8);
	CHECK(k == (int)levels - 1 && lv[k - 1].leaf && lv[k - 1].pgsize == (2u << 20),
	      "2M walk: %d levels, leaf %d size 0x%" PRIx64, k, k > 0 ? lv[k - 1].leaf : 0,
	      k > 0 ? lv[k - 1].pgsize : 0);
	rc = gt_edu_dma(&edu, IOVA_2M + 0x180000, 0, XFER, true, DMA_TIMEOUT_MS);
	CHECK(!rc && memcmp(b + 0x180000, a, XFER) == 0, "DMA into the 2M page: bytes differ");
	snprintf(why, sizeof(why),
		 "%u-level: translated DMA, read-only, stale until INVALIDATE_IOMMU_PAGES, strict "
		 "unmap, DTE re-attach, 2M page ok; %" PRIu64 " commands %" PRIu64 " waits; %.1f s",
		 levels, amdvi_of(unit)->stats.cmds, amdvi_of(unit)->stats.waits,
		 (double)(gt_now_ns() - t0) / 1e9);
	fail = 0;
out:
	(void)gt_edu_bus_master(&edu, false);
	if (dev) {
		(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
		(void)uiommu_device_remove(dev);
	}
	if (ioa) {
		(void)uiommu_ioas_unmap_all(ioa, NULL);
		(void)uiommu_ioas_destroy(ioa);
	}
	if (iob) {
		(void)uiommu_ioas_unmap_all(iob, NULL);
		(void)uiommu_ioas_destroy(iob);
	}
	if (unit && uiommu_unit_remove(unit) != 0 && !fail) {
		snprintf(why, sizeof(why), "unit_remove failed");
		fail = 1;
	}
	if (!fail) {
		volatile uint8_t *regs = gt_phys_map(base, 16384);
		uint64_t ctl = regs ? *(volatile uint64_t *)(regs + 0x18) : ~0ull;

		if (regs)
			gt_phys_unmap((void *)(uintptr_t)regs, 16384);
		if (ctl & 1) {
			snprintf(why, sizeof(why), "Control 0x%" PRIx64 " after unit_remove", ctl);
			fail = 1;
		}
	}
	gt_huge_free(&hb);
	gt_huge_free(&ha);
	gt_edu_close(&edu);
	gt_result(scen, fail ? GT_FAIL : GT_PASS, "%s", why);
	return fail;
}

/* ---- amdvi-cli-hw: the operator workflow on QEMU's amd-iommu ----
 * uiommuctl takes the unit over and carves an address space in hugepage
 * shared state; an application (a child process) adopts it and makes edu
 * DMA; a transaction is aborted (unit_recover must drop what QEMU cached
 * meanwhile); uiommuctl unmaps, the DMA no longer lands; reset gives the
 * unit back.  Blocked DMA is judged by its bytes (QEMU 10.0.2 logs no
 * events). */
#define CLI_STATE "guestamd"
#define CLI_IOVA  0x200000ull
#define CLI_NEW	  0x400000ull

static char cwhy[400];

static int sh(const char *cmd)
{
	char full[512];

	snprintf(full, sizeof(full), "uiommuctl --state " CLI_STATE " %s", cmd);
	return gt_system(full, cwhy, sizeof(cwhy));
}

static int adopt(struct uiommu_ctx **c)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_HUGE, .name = CLI_STATE};
	int rc = uiommu_ctx_create(&o, c);

	if (rc)
		snprintf(cwhy, sizeof(cwhy), "adopt: %s", strerror(-rc));
	return rc;
}

/* edu writes 16 bytes to @iova; did they land at @dst? */
static bool lands(struct gt_edu *edu, uint64_t iova, uint8_t *dst)
{
	memset(dst, 0, 16);
	(void)gt_edu_dma(edu, iova, 0, 16, true, DMA_TIMEOUT_MS);
	return !all_zero(dst, 16);
}

static int cli_hw_child(struct gt_edu *edu)
{
	struct uiommu_ctx *c = NULL;
	struct uiommu_ioas *io;
	struct uiommu_area_info ai;
	struct uiommu_buf_info bi;
	uint64_t iova = CLI_NEW;
	uint8_t *buf;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "device add 1 %s --name edu", edu->bdf + 5);
	if (sh("unit add --index 0") || sh(cmd) || sh("ioas create --name dma0") ||
	    sh("ioas attach dma0 edu") || sh("ioas map dma0 --alloc 2M --iova 0x200000") ||
	    sh("unit show 1"))
		return 1;
	if (adopt(&c))
		return 1;
	io = uiommu_ioas_get(c, uiommu_obj_find(c, "dma0"));
	if (!io || uiommu_ioas_lookup(io, CLI_IOVA, &ai) || uiommu_buf_lookup(c, ai.phys, &bi)) {
		snprintf(cwhy, sizeof(cwhy), "adopted state lacks ioas dma0 / its buffer");
		goto fail;
	}
	buf = bi.va;
	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	memset(buf + 0x1000, 0, 256);
	if (gt_edu_dma(edu, CLI_IOVA, 0, 256, false, DMA_TIMEOUT_MS) ||
	    gt_edu_dma(edu, CLI_IOVA + 0x1000, 0, 256, true, DMA_TIMEOUT_MS) ||
	    memcmp(buf, buf + 0x1000, 256)) {
		snprintf(cwhy, sizeof(cwhy), "translated edu DMA did not arrive");
		goto fail;
	}
	/* A transaction moves the buffer to CLI_NEW, QEMU caches that, then
	 * it is aborted: only the recovery's invalidation stops the DMA. */
	if (uiommu_txn_begin(c, 1000, NULL) || uiommu_ioas_unmap(io, CLI_IOVA, ai.len, NULL) ||
	    uiommu_ioas_map(io, &iova, ai.phys, ai.len,
			    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)) {
		snprintf(cwhy, sizeof(cwhy), "transaction set-up failed");
		goto fail;
	}
	if (lands(edu, CLI_IOVA + 0x2000, buf + 0x2000) ||
	    !lands(edu, CLI_NEW + 0x3000, buf + 0x3000)) {
		snprintf(cwhy, sizeof(cwhy), "inside the transaction the IOMMU did not follow");
		goto fail;
	}
	if (uiommu_txn_abort(c)) {
		snprintf(cwhy, sizeof(cwhy), "abort failed");
		goto fail;
	}
	if (!lands(edu, CLI_IOVA + 0x2000, buf + 0x2000) ||
	    lands(edu, CLI_NEW + 0x3000, buf + 0x3000)) {
		snprintf(cwhy, sizeof(cwhy), "after abort: old mapping %s, new one %s",
			 all_zero(buf + 0x2000, 16) ? "NOT back" : "back",
			 all_zero(buf + 0x3000, 16) ? "gone" : "STILL TRANSLATED (stale)");
		goto fail;
	}
	uiommu_ctx_detach(c);
	c = NULL;
	/* The operator looks, then unmaps: the DMA no longer lands. */
	if (sh("walk edu 0x200000") || sh("ioas unmap dma0 0x200000"))
		return 1;
	if (adopt(&c))
		return 1;
	memset(buf + 0x1000, 0, 64);
	(void)gt_edu_dma(edu, CLI_IOVA + 0x1000, 0, 16, true, DMA_TIMEOUT_MS);
	/* (the --alloc buffer went back to the arena with the unmap: its
	 * memory is still ours to look at) */
	if (!all_zero(buf + 0x1000, 64)) {
		snprintf(cwhy, sizeof(cwhy), "after unmap the DMA still landed");
		goto fail;
	}
	uiommu_ctx_detach(c);
	c = NULL;
	if (sh("reset"))
		return 1;
	return 0;
fail:
	if (c)
		uiommu_ctx_detach(c);
	return 1;
}

static int cli_hw(uint64_t base)
{
	const char *scen = "amdvi-cli-hw";
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_AMDVI, .access = UIOMMU_UNIT_MMIO, .reg_base = base};
	struct uiommu_unit_peek pk;
	struct gt_edu edu;
	int status = 0;
	pid_t pid;

	if (gt_edu_open(&edu) || gt_edu_bus_master(&edu, true)) {
		gt_result(scen, GT_FAIL, "edu not usable");
		return 1;
	}
	/* The application side adopts shared state: a process of its own
	 * (this one keeps its DPDK context for the other scenarios). */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int rc = cli_hw_child(&edu);

		if (rc)
			gt_log("amdvi-cli-hw child: %s", cwhy);
		fflush(NULL);
		_exit(rc);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		(void)gt_system("uiommuctl --state " CLI_STATE " reset --force", NULL, 0);
		gt_edu_bus_master(&edu, false);
		gt_edu_close(&edu);
		gt_result(scen, GT_FAIL, "see the child's log above (status 0x%x)", status);
		return 1;
	}
	gt_edu_bus_master(&edu, false);
	gt_edu_close(&edu);
	if (uiommu_unit_peek(&ud, &pk) || pk.in_use) {
		gt_result(scen, GT_FAIL, "after reset the unit is still in use");
		return 1;
	}
	gt_result(scen, GT_PASS,
		  "uiommuctl carve + application DMA + aborted transaction (recovered: QEMU's "
		  "cached translation dropped) + unmap + reset");
	return 0;
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
		"24",
		"--log-level=lib.eal:notice",
		NULL,
	};
	struct uiommu_env_opts opts = {
		.backend = UIOMMU_MEM_DPDK,
		.eal_argc = (int)(sizeof(eal_argv) / sizeof(eal_argv[0])) - 1,
		.eal_argv = eal_argv,
	};
	struct gt_edu edu;
	uint64_t base = 0;
	uint32_t devid = 0;
	uint16_t rid;
	int fails = 0, rc;

	gt_init();
	rc = gt_edu_open(&edu);
	if (rc) {
		gt_log("edu: %s", strerror(-rc));
		return 1;
	}
	rid = edu.requester_id;
	gt_edu_close(&edu);
	rc = ivrs(&base, rid, &devid);
	if (gt_wanted(argc, argv, "amdvi-probe-cli"))
		fails += rc ? (gt_result("amdvi-probe-cli", GT_FAIL, "IVRS: %s", strerror(-rc)), 1)
			    : probe_cli(base, rid, devid);
	if (gt_wanted(argc, argv, "amdvi-cli-hw"))
		fails += rc ? (gt_result("amdvi-cli-hw", GT_FAIL, "IVRS: %s", strerror(-rc)), 1)
			    : cli_hw(base);
	if (!rc)
		rc = uiommu_ctx_create(&opts, &ctx);
	static const struct {
		const char *name;
		unsigned int levels;
	} s[] = {{"amdvi-3level", 3}, {"amdvi-4level", 4}};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (!gt_wanted(argc, argv, s[i].name))
			continue;
		if (rc) {
			gt_result(s[i].name, GT_FAIL, "setup: %s", strerror(-rc));
			fails++;
			continue;
		}
		fails += run_tables(s[i].name, s[i].levels, base, devid);
	}
	if (ctx)
		uiommu_ctx_destroy(ctx);
	return fails ? 1 : 0;
}
