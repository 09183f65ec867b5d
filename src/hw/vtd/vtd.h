/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intel VT-d family driver: the one symbol the core needs.
 *
 * The core finds the ops through uiommu_family_ops_get(UIOMMU_FAMILY_VTD).
 * Everything else of the driver is private (vtd_internal.h).
 */
#ifndef UIOMMU_VTD_H
#define UIOMMU_VTD_H

#include "core/family.h"

extern const struct uiommu_family_ops vtd_family_ops;

#endif
