/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UIOMMU_UNIT_F_DEFER_ENABLE / uiommu_unit_enable() on the VT-d and SMMUv3
 * models (public API only): a unit taken over with translation deferred lets DMA
 * through untranslated (as before the take-over) while devices are
 * attached; after uiommu_unit_enable() the same DMA is translated (and
 * faults where nothing is mapped).  A shared state with a deferred unit is
 * adopted by another process.  Enabling twice, or a unit added without the
 * flag, is a no-op.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "uiommu/uiommu.h"

static char name[64], self[512];

/* A fresh process (one context per process) adopts the state. */
static int adopt(const char *st)
{
	struct uiommu_env_opts e2 = {.backend = UIOMMU_MEM_SHARED_SHM, .name = st};
	struct uiommu_ctx *c2;
	int rc = uiommu_ctx_create(&e2, &c2);

	if (rc) {
		fprintf(stderr, "adopt %s: %s\n", st, uiommu_strerror(rc));
		return 1;
	}
	rc = uiommu_ctx_adopted(c2) && uiommu_unit_next(c2, NULL) ? 0 : 1;
	uiommu_ctx_detach(c2);
	return rc;
}

/* One family: its model unit taken over deferred (@cfg: the model's
 * settings), then enabled.  false: the family is not built in (skipped). */
static bool defer_case(enum uiommu_family fam, const char *cfg, uint32_t hw_id)
{
	char st[96];
	struct uiommu_env_opts eo = {.backend = UIOMMU_MEM_SHARED_SHM, .name = st, .create = true};
	struct uiommu_unit_desc d = {.family = fam,
				     .access = UIOMMU_UNIT_MODEL,
				     .numa_node = -1,
				     .model_cfg = cfg,
				     .flags = UIOMMU_UNIT_F_DEFER_ENABLE};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 3 << 3, .hw_id = hw_id};
	static uint8_t target[4096] __attribute__((aligned(4096)));
	uint8_t pat[16];
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u, *u2;
	struct uiommu_device *dev;
	struct uiommu_ioas *ioas;
	pid_t pid;
	int ws, rc;

	snprintf(st, sizeof(st), "%s-%d", name, (int)fam);
	CU_ASSERT_FATAL(uiommu_ctx_create(&eo, &ctx) == 0);
	/* Not built into the library: skipped (a built family without the
	 * hook would fail below: DEFER_ENABLE is -EOPNOTSUPP only then). */
	d.flags = 0;
	rc = uiommu_unit_add(ctx, &d, &u);
	if (rc == -EOPNOTSUPP) {
		uiommu_ctx_destroy(ctx);
		return false;
	}
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	/* unknown flags are still refused */
	d.flags = 1u << 7;
	CU_ASSERT(uiommu_unit_add(ctx, &d, &u) == -EOPNOTSUPP);
	d.flags = UIOMMU_UNIT_F_DEFER_ENABLE;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) ==
			0);

	/* Translation off: the DMA goes where it is aimed (bus = CPU address
	 * on the model), as it did before the take-over. */
	memset(target, 0, sizeof(target));
	memset(pat, 0x77, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, pat, sizeof(pat),
				   true) == 0);
	CU_ASSERT(target[0] == 0x77);

	/* Another process adopts the state with the unit still deferred. */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		execl(self, self, "--adopt", st, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* On: nothing is mapped at target's address, so the same DMA faults. */
	CU_ASSERT(uiommu_unit_enable(u) == 0);
	memset(target, 0, sizeof(target));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, pat, sizeof(pat),
				   true) == -EFAULT);
	CU_ASSERT(target[0] == 0);
	CU_ASSERT(uiommu_unit_enable(u) == 0); /* already on */
	CU_ASSERT(uiommu_unit_enable(NULL) == -EINVAL);

	/* A unit without the flag translates from the start; enable is a no-op. */
	d.flags = 0;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u2) == 0);
	CU_ASSERT(uiommu_unit_enable(u2) == 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	uiommu_ctx_destroy(ctx);
	return true;
}

static void test_defer_then_enable(void)
{
	CU_ASSERT(defer_case(UIOMMU_FAMILY_VTD, NULL, 0x18));
}

/* SMMUv3: deferred, SMMUEN stays off and traffic follows GBPA as the
 * take-over found it: bypass on this model (bypass=1, as QEMU resets). */
static void test_defer_then_enable_smmuv3(void)
{
	if (!defer_case(UIOMMU_FAMILY_SMMUV3, "bypass=1", 0x18))
		printf("(SMMUv3 not built: skipped) ");
}

/* SMMUv3 whose GBPA aborts when found: the deferred window keeps it (no
 * device gets a bypass it did not have). */
static void test_defer_smmuv3_gbpa_abort(void)
{
	struct uiommu_unit_desc d = {.family = UIOMMU_FAMILY_SMMUV3,
				     .access = UIOMMU_UNIT_MODEL,
				     .numa_node = -1,
				     .flags = UIOMMU_UNIT_F_DEFER_ENABLE};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 3 << 3, .hw_id = 0x18};
	static uint8_t target[64];
	uint8_t pat[16];
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *dev;
	int rc;

	CU_ASSERT_FATAL(uiommu_ctx_create(NULL, &ctx) == 0);
	d.flags = 0;
	rc = uiommu_unit_add(ctx, &d, &u);
	if (rc == -EOPNOTSUPP) {
		printf("(SMMUv3 not built: skipped) ");
		uiommu_ctx_destroy(ctx);
		return;
	}
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT(uiommu_unit_remove(u) == 0);
	d.flags = UIOMMU_UNIT_F_DEFER_ENABLE;
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &dev) == 0);
	memset(pat, 0x55, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, pat, sizeof(pat),
				   true) == -EFAULT);
	CU_ASSERT(target[0] == 0);
	CU_ASSERT(uiommu_unit_enable(u) == 0);
	uiommu_ctx_destroy(ctx);
}

/* The same on the AMD-Vi model: IommuEn off while devices are attached
 * (v1 and, with gt=1, a PASID on a v2 table), on after
 * uiommu_unit_enable(); adopted by another process while deferred. */
static void test_defer_then_enable_amdvi(void)
{
	char st[80];
	struct uiommu_env_opts eo = {.backend = UIOMMU_MEM_SHARED_SHM, .name = st, .create = true};
	struct uiommu_unit_desc d = {.family = UIOMMU_FAMILY_AMDVI,
				     .access = UIOMMU_UNIT_MODEL,
				     .numa_node = -1,
				     .model_cfg = "gt=1",
				     .flags = UIOMMU_UNIT_F_DEFER_ENABLE};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 3 << 3, .hw_id = 0x18, .pasid_bits = 8};
	static uint8_t target[4096] __attribute__((aligned(4096)));
	static uint8_t page[4096] __attribute__((aligned(4096)));
	uint8_t pat[16];
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *dev;
	struct uiommu_ioas *ioas;
	struct uiommu_hwpt *s1;
	uint64_t iova = 0x40000000;
	pid_t pid;
	int ws;

	snprintf(st, sizeof(st), "%s-amdvi", name);
	CU_ASSERT_FATAL(uiommu_ctx_create(&eo, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &d, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &dev) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map_va(ioas, &iova, page, sizeof(page),
					   UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
						   UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) ==
			0);
	CU_ASSERT_FATAL(uiommu_hwpt_alloc(ioas, u, UIOMMU_HWPT_STAGE1, &s1) == 0);
	CU_ASSERT(uiommu_device_attach(dev, 5, uiommu_hwpt_id(s1), NULL) == -EBUSY);
	CU_ASSERT_FATAL(uiommu_device_replace(dev, UIOMMU_NO_PASID, uiommu_hwpt_id(s1), NULL) ==
			0);
	CU_ASSERT_FATAL(uiommu_device_attach(dev, 5, uiommu_hwpt_id(s1), NULL) == 0);

	/* Off: the DMA goes where it is aimed. */
	memset(pat, 0x66, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, pat, sizeof(pat),
				   true) == 0);
	CU_ASSERT(target[0] == 0x66);

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		execl(self, self, "--adopt", st, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT(waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* On: translated through the tables written while off. */
	CU_ASSERT(uiommu_unit_enable(u) == 0);
	memset(target, 0, sizeof(target));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, pat, sizeof(pat),
				   true) == -EFAULT);
	CU_ASSERT(target[0] == 0);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, 0x40000010, pat, sizeof(pat), true) == 0);
	CU_ASSERT(page[0x10] == 0x66);
	CU_ASSERT(uiommu_model_dma(dev, 5, 0x40000020, pat, sizeof(pat), true) == 0);
	CU_ASSERT(page[0x20] == 0x66);
	CU_ASSERT(uiommu_unit_enable(u) == 0); /* already on */
	CU_ASSERT(uiommu_device_detach(dev, 5) == 0);
	CU_ASSERT(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	CU_ASSERT(uiommu_hwpt_destroy(s1) == 0);
	uiommu_ctx_destroy(ctx);
	eo.create = false;
	(void)uiommu_state_remove(&eo);
}

static const struct ut_test tests[] = {
	{"defer_then_enable", test_defer_then_enable},
	{"defer_then_enable_smmuv3", test_defer_then_enable_smmuv3},
	{"defer_smmuv3_gbpa_abort", test_defer_smmuv3_gbpa_abort},
	{"defer_then_enable_amdvi", test_defer_then_enable_amdvi},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"unit_defer_enable", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], "--adopt"))
		return adopt(argv[2]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = 0;
	snprintf(name, sizeof(name), "defer-ut-%d", (int)getpid());
	return ut_main(suites, argc, argv);
}
