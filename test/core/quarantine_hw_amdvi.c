/* SPDX-License-Identifier: BSD-3-Clause */
/* core-quarantine: the AMD-Vi driver's wait limit (quarantine_hw.c). */
#include "quarantine_hw.h"
#include "hw/amdvi/amdvi_internal.h"

void quarantine_amdvi_timeout(struct uiommu_unit *u, uint64_t ns)
{
	amdvi_of(u)->timeout_ns = ns;
}
