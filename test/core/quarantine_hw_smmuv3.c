/* SPDX-License-Identifier: BSD-3-Clause */
/* core-quarantine: the SMMUv3 driver's wait limit (quarantine_hw.c). */
#include "quarantine_hw.h"
#include "hw/smmuv3/smmu_internal.h"

void quarantine_smmuv3_timeout(struct uiommu_unit *u, uint64_t ns)
{
	smmu_of(u)->timeout_ns = ns;
}
