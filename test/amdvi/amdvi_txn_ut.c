/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi under the core's transactions, in shared state: a transaction
 * that maps, replaces the device's attachment (a DTE change) and unmaps is
 * aborted; the core puts the tables back and asks the unit to recover
 * (amdvi unit_recover: the command buffer restarted, INVALIDATE_IOMMU_ALL).
 * Afterwards the model translates exactly the old mappings, none of the
 * transaction's, and the state checks clean.  (The model instance lives in
 * the arena too, so the rollback also puts its caches back: what proves
 * unit_recover's invalidation itself is amdvi-drv's "recover".)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/amdvi/amdvi_internal.h"
#include "model/amdvi/amdvi_model.h"

#define RID 0x0018u

static char name[64];

static void report_line(void *arg, const char *msg)
{
	(void)arg;
	printf("\n    check: %s", msg);
}

static int dma1(struct uiommu_device *d, uint64_t iova, bool write)
{
	uint8_t b = 0x42;

	return uiommu_model_dma(d, UIOMMU_NO_PASID, iova, &b, 1, write);
}

static void test_abort_recovers(void)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM, .name = name, .create = true};
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_AMDVI, .access = UIOMMU_UNIT_MODEL, .numa_node = -1};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x18, .hw_id = RID};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *a, *b;
	struct uenv_dma m;
	struct amdvi_model_stats st;
	struct uiommu_event ev[16];
	uint64_t iova;

	snprintf(name, sizeof(name), "amdvi-txn-%d", (int)getpid());
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &d) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &a) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(64 * 4096, 4096, -1, &m) == 0);
	iova = 0x100000;
	CU_ASSERT_FATAL(
		uiommu_ioas_map(a, &iova, m.iova, 16 * 4096,
				UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	iova = 0x900000;
	CU_ASSERT_FATAL(
		uiommu_ioas_map(b, &iova, m.iova + 32 * 4096, 4096,
				UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(a), NULL) == 0);
	CU_ASSERT(dma1(d, 0x100000, true) == 0);

	/* The transaction: map, unmap, replace; its translations get cached. */
	CU_ASSERT_FATAL(uiommu_txn_begin(ctx, 1000, NULL) == 0);
	iova = 0x200000;
	CU_ASSERT(uiommu_ioas_map(a, &iova, m.iova + 20 * 4096, 4096,
				  UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(dma1(d, 0x200000, true) == 0);
	CU_ASSERT(uiommu_ioas_unmap(a, 0x100000, 16 * 4096, NULL) == 0);
	CU_ASSERT(dma1(d, 0x100000, true) == -EFAULT);
	CU_ASSERT(uiommu_device_replace(d, UIOMMU_NO_PASID, uiommu_ioas_id(b), NULL) == 0);
	CU_ASSERT(dma1(d, 0x900000, true) == 0);
	CU_ASSERT(uiommu_txn_abort(ctx) == 0);
	/* Back to before: A attached, its mapping there, none of the rest. */
	CU_ASSERT(uiommu_device_attached_hwpt(d, UIOMMU_NO_PASID) != 0);
	amdvi_model_reset_stale(u->model);
	CU_ASSERT(dma1(d, 0x100000, true) == 0);
	CU_ASSERT(dma1(d, 0x100000 + 15 * 4096, false) == 0);
	CU_ASSERT(dma1(d, 0x200000, true) == -EFAULT);
	CU_ASSERT(dma1(d, 0x900000, true) == -EFAULT);
	amdvi_model_get_stats(u->model, &st);
	CU_ASSERT(st.stale_iotlb == 0 && st.stale_dte == 0);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	while (uiommu_poll(ctx, ev, 16))
		;
	/* The state works on. */
	CU_ASSERT(uiommu_ioas_unmap(a, 0x100000, 16 * 4096, NULL) == 0);
	CU_ASSERT(dma1(d, 0x100000, true) == -EFAULT);
	CU_ASSERT(uiommu_device_detach(d, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_device_remove(d) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(b, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(a) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
	uenv_dma_free(&m);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	uiommu_ctx_destroy(ctx);
	o.create = false;
	int r = uiommu_state_remove(&o); /* an empty state may be gone already */

	CU_ASSERT(r == 0 || r == -ENOENT);
}

static int map_fixed(struct uiommu_ioas *a, uint64_t iova, uint64_t pa, uint64_t len)
{
	return uiommu_ioas_map(a, &iova, pa, len,
			       UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
}

static int pdma(struct uiommu_device *d, uint32_t pasid, uint64_t iova)
{
	uint8_t b = 0x42;

	return uiommu_model_dma(d, pasid, iova, &b, 1, true);
}

/* Our own v2 tables: a transaction attaches, detaches and replaces
 * PASIDs (GCR3 tables made and freed, DomainIDs taken and given back),
 * then is rolled back: tables, DTEs and the unit's caches as before. */
static void test_abort_pasids(void)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM, .name = name, .create = true};
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_AMDVI,
				      .access = UIOMMU_UNIT_MODEL,
				      .numa_node = -1,
				      .model_cfg = "gt=1"};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x18, .hw_id = RID, .pasid_bits = 16};
	struct uiommu_device_desc dd2 = {.bus = 0, .devfn = 0x20, .hw_id = 0x20, .pasid_bits = 16};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d, *d2;
	struct uiommu_ioas *a, *b;
	struct uiommu_hwpt *ha, *hb;
	struct amdvi_model_stats st;
	struct uiommu_event ev[16];
	struct uenv_dma m;

	snprintf(name, sizeof(name), "amdvi-txn-v2-%d", (int)getpid());
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &d) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd2, &d2) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &a) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &b) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(a, u, UIOMMU_HWPT_STAGE1, &ha) == 0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(b, u, UIOMMU_HWPT_STAGE1, &hb) == 0);
	CU_ASSERT_FATAL(uenv_dma_alloc(64 * 4096, 4096, -1, &m) == 0);
	CU_ASSERT_FATAL(map_fixed(a, 0x100000, m.iova, 4096) == 0);
	CU_ASSERT_FATAL(map_fixed(b, 0x100000, m.iova + 4096, 4096) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d, 1, uiommu_hwpt_id(ha), NULL) == 0);
	CU_ASSERT(pdma(d, 1, 0x100000) == 0);

	CU_ASSERT_FATAL(uiommu_txn_begin(ctx, 1000, NULL) == 0);
	CU_ASSERT(uiommu_device_attach(d, 0x4321, uiommu_hwpt_id(hb), NULL) == 0);
	CU_ASSERT(pdma(d, 0x4321, 0x100000) == 0);
	CU_ASSERT(uiommu_device_replace(d, 1, uiommu_hwpt_id(hb), NULL) == 0);
	CU_ASSERT(pdma(d, 1, 0x100000) == 0);
	CU_ASSERT(uiommu_device_attach(d2, 2, uiommu_hwpt_id(hb), NULL) == 0);
	CU_ASSERT(pdma(d2, 2, 0x100000) == 0);
	CU_ASSERT(uiommu_ioas_unmap(a, 0x100000, 4096, NULL) == 0);
	CU_ASSERT(uiommu_txn_abort(ctx) == 0);

	amdvi_model_reset_stale(u->model);
	CU_ASSERT(uiommu_device_attached_hwpt(d, 1) == uiommu_hwpt_id(ha));
	CU_ASSERT(uiommu_device_attached_hwpt(d, 0x4321) == 0);
	((uint8_t *)m.va)[0] = 0;
	CU_ASSERT(pdma(d, 1, 0x100000) == 0);
	CU_ASSERT(((uint8_t *)m.va)[0] == 0x42); /* IOAS A's page again */
	CU_ASSERT(pdma(d, 0x4321, 0x100000) == -EFAULT);
	CU_ASSERT(pdma(d2, 2, 0x100000) == -EFAULT);
	CU_ASSERT(((struct amdvi_dev *)d2->priv)->g == NULL);
	amdvi_model_get_stats(u->model, &st);
	CU_ASSERT(st.stale_iotlb == 0 && st.stale_dte == 0);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	while (uiommu_poll(ctx, ev, 16))
		;
	/* The state works on. */
	CU_ASSERT(uiommu_device_attach(d, 0x4321, uiommu_hwpt_id(hb), NULL) == 0);
	CU_ASSERT(pdma(d, 0x4321, 0x100000) == 0);
	CU_ASSERT(uiommu_device_detach(d, 0x4321) == 0);
	CU_ASSERT(uiommu_device_detach(d, 1) == 0);
	CU_ASSERT(uiommu_device_remove(d) == 0);
	CU_ASSERT(uiommu_device_remove(d2) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(ha) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(hb) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(a, NULL) == 0);
	CU_ASSERT(uiommu_ioas_unmap_all(b, NULL) == 0);
	CU_ASSERT(uiommu_ioas_destroy(a) == 0);
	CU_ASSERT(uiommu_ioas_destroy(b) == 0);
	uenv_dma_free(&m);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	uiommu_ctx_destroy(ctx);
	o.create = false;
	int r = uiommu_state_remove(&o);

	CU_ASSERT(r == 0 || r == -ENOENT);
}

static const struct ut_test tests[] = {
	{"abort_recovers", test_abort_recovers},
	{"abort_pasids", test_abort_pasids},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"amdvi-txn", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
