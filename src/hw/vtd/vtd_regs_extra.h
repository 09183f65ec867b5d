/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d hardware facts the driver needs that vtd_regs.h (owned by the model
 * engineer) does not carry yet.  Facts only; move them into vtd_regs.h when
 * it grows them.
 */
#ifndef UIOMMU_VTD_REGS_EXTRA_H
#define UIOMMU_VTD_REGS_EXTRA_H

#include "core/bitfield.h"

#endif
