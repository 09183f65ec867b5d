/* SPDX-License-Identifier: BSD-3-Clause */
/* uiommu_version(): the project version meson configured into
 * uiommu/uiommu_version.h (include/uiommu/meson.build). */
#include "uiommu/uiommu.h"

const char *uiommu_version(void)
{
	return UIOMMU_VERSION;
}
