/* SPDX-License-Identifier: BSD-3-Clause */
/* The VT-d model as the core sees it (core/model.h). */
#include <errno.h>

#include "core/model.h"
#include "model/vtd/vtd_model.h"

static int vm_create(const char *cfg, void **out)
{
	struct vtd_model *m;
	int rc = vtd_model_create_str(cfg, &m);

	if (!rc)
		*out = m;
	return rc;
}

static void vm_destroy(void *m)
{
	vtd_model_destroy(m);
}

static uint64_t vm_reg_size(const void *m)
{
	return vtd_model_reg_size(m);
}

/* Requester IDs are 16 bits. */
static int vm_dma(void *m, uint32_t hw_id, uint32_t pasid, uint64_t iova, void *buf, uint64_t len,
		  bool write)
{
	if (hw_id > UINT16_MAX)
		return -EINVAL;
	return vtd_model_dma(m, (uint16_t)hw_id, pasid == UIOMMU_NO_PASID ? VTD_DMA_NO_PASID : pasid,
			     iova, buf, len, write, 0, NULL);
}

const struct uiommu_model_ops vtd_model_ops = {
	.family = UIOMMU_FAMILY_VTD,
	.name = "vtd",
	.what = "VT-d",
	.create = vm_create,
	.destroy = vm_destroy,
	.reg_size = vm_reg_size,
	.io = &vtd_model_io,
	.dma = vm_dma,
};
