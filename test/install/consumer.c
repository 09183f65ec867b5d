/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An application built outside the tree: only the installed public header,
 * linked through `pkg-config [--static] --libs uiommu`.  It brings up the
 * built-in VT-d model (a family driver must be linked in, whether the
 * library is static or shared), maps a buffer, has the model DMA through
 * it, unmaps, and checks that the DMA is then blocked.  Exit 0 on success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <uiommu/uiommu.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "consumer: %s:%d: %s failed\n", __FILE__, \
				__LINE__, #cond);                            \
			return 1;                                            \
		}                                                            \
	} while (0)

static int run(struct uiommu_ctx *ctx)
{
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_VTD,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
	};
	struct uiommu_device_desc dd = {.bus = 3, .devfn = 0x10, .hw_id = 0x0310};
	struct uiommu_unit *unit;
	struct uiommu_device *dev;
	struct uiommu_ioas *ioas;
	uint8_t src[64], dst[64];
	uint64_t bus, iova = 0x100000, n = 0;
	uint8_t *va;
	int rc;

	/* The library's version is the headers' (one project version). */
	CHECK(strcmp(uiommu_version(), UIOMMU_VERSION) == 0);
	rc = uiommu_unit_add(ctx, &ud, &unit);
	if (rc)
		fprintf(stderr, "consumer: uiommu_unit_add: %d (%s)\n", rc, uiommu_strerror(rc));
	CHECK(rc == 0);
	CHECK(uiommu_device_add(unit, &dd, &dev) == 0);
	CHECK(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CHECK(uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) == 0);
	CHECK(uiommu_buf_alloc(ctx, 8192, (void **)&va, &bus) == 0);
	CHECK(uiommu_ioas_map(ioas, &iova, bus, 8192,
			      UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 3 + 1);
	CHECK(uiommu_model_dma(dev, UIOMMU_NO_PASID, iova + 0x1010, src, sizeof(src), true) == 0);
	CHECK(memcmp(va + 0x1010, src, sizeof(src)) == 0);
	CHECK(uiommu_model_dma(dev, UIOMMU_NO_PASID, iova + 0x1010, dst, sizeof(dst), false) == 0);
	CHECK(memcmp(dst, src, sizeof(src)) == 0);
	CHECK(uiommu_ioas_unmap(ioas, iova, 8192, &n) == 0 && n == 8192);
	CHECK(uiommu_model_dma(dev, UIOMMU_NO_PASID, iova, dst, 8, false) == -EFAULT);
	CHECK(uiommu_device_detach(dev, UIOMMU_NO_PASID) == 0);
	return 0;
}

int main(void)
{
	struct uiommu_ctx *ctx;
	int rc = uiommu_ctx_create(NULL, &ctx);

	if (rc) {
		fprintf(stderr, "consumer: uiommu_ctx_create: %d\n", rc);
		return 1;
	}
	rc = run(ctx);
	uiommu_ctx_destroy(ctx);
	if (!rc)
		printf("consumer: VT-d model map + DMA + unmap ok\n");
	return rc;
}
