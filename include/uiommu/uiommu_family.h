/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The IOMMU families, one numbering for the firmware parsers
 * (uiommu_fw.h: struct uiommu_fw_unit.family) and the object model
 * (uiommu.h: struct uiommu_unit_desc.family, capabilities, hardware
 * information), so that a unit found in the ACPI tables is added with the
 * family the parser gave it.
 */
#ifndef UIOMMU_PUBLIC_FAMILY_H
#define UIOMMU_PUBLIC_FAMILY_H

#ifdef __cplusplus
extern "C" {
#endif

/** IOMMU family of a unit.  0 is no family (a zeroed description). */
enum uiommu_family {
	UIOMMU_FAMILY_NONE = 0,
	UIOMMU_FAMILY_VTD = 1,	  /**< Intel VT-d (ACPI DMAR DRHD) */
	UIOMMU_FAMILY_SMMUV3 = 2, /**< Arm SMMUv3 (ACPI IORT node type 4) */
	UIOMMU_FAMILY_AMDVI = 3,  /**< AMD-Vi (ACPI IVRS IVHD) */
	UIOMMU_FAMILY_MAX = UIOMMU_FAMILY_AMDVI, /**< the largest family number */
};

#ifdef __cplusplus
}
#endif
#endif
