/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * core-quarantine: the drivers' wait limits, shortened so that a unit that
 * stopped answering fails its waits quickly (each driver's internals in a
 * file of its own: the three headers are not meant to meet).
 */
#include "quarantine_hw.h"
#include "hw/vtd/vtd_internal.h"

void quarantine_vtd_timeout(struct uiommu_unit *u, uint64_t ns)
{
	vtd_of(u)->timeout_ns = ns;
}
