/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef QUARANTINE_HW_H
#define QUARANTINE_HW_H
#include <stdint.h>

struct uiommu_unit;
/* Set the driver's limit for a wait or register poll on @u. */
void quarantine_vtd_timeout(struct uiommu_unit *u, uint64_t ns);
void quarantine_smmuv3_timeout(struct uiommu_unit *u, uint64_t ns);
void quarantine_amdvi_timeout(struct uiommu_unit *u, uint64_t ns);
#endif
