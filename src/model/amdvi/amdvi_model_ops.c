/* SPDX-License-Identifier: BSD-3-Clause */
/* The AMD-Vi model as the core sees it (core/model.h). */
#include <errno.h>

#include "core/model.h"
#include "hw/amdvi/amdvi_regs.h"
#include "model/amdvi/amdvi_model.h"

static int am_create(const char *cfg, void **out)
{
	struct amdvi_model *m;
	int rc = amdvi_model_create_str(cfg, &m);

	if (!rc)
		*out = m;
	return rc;
}

static void am_destroy(void *m)
{
	amdvi_model_destroy(m);
}

static uint64_t am_reg_size(const void *m)
{
	(void)m;
	return AMDVI_REG_SIZE;
}

/* DeviceIDs are 16 bits. */
static int am_dma(void *m, uint32_t hw_id, uint32_t pasid, uint64_t iova, void *buf, uint64_t len,
		  bool write)
{
	if (hw_id > UINT16_MAX)
		return -EINVAL;
	return amdvi_model_dma(m, (uint16_t)hw_id,
			       pasid == UIOMMU_NO_PASID ? AMDVI_MODEL_NO_PASID : pasid, iova, buf,
			       len, write, NULL);
}

const struct uiommu_model_ops amdvi_model_ops = {
	.family = UIOMMU_FAMILY_AMDVI,
	.name = "amdvi",
	.what = "AMD-Vi",
	.create = am_create,
	.destroy = am_destroy,
	.reg_size = am_reg_size,
	.io = &amdvi_model_io,
	.dma = am_dma,
};
