/* SPDX-License-Identifier: BSD-3-Clause */
/* probe: decode a live unit's registers through uiommu_unit_peek(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "uiommu/uiommu.h"

int cli_regs_peek(const struct uiommu_fw_unit *u, json_t *obj)
{
	struct uiommu_unit_desc d = {.family = u->family,
				     .access = UIOMMU_UNIT_MMIO,
				     .reg_base = u->base,
				     .reg_size = u->size,
				     .segment = u->segment};
	struct uiommu_unit_peek pk;
	char hex[32];
	int rc = uiommu_unit_peek(&d, &pk);

	if (rc)
		return rc;
	if (pk.info.family == UIOMMU_FAMILY_VTD) {
		snprintf(hex, sizeof(hex), "0x%" PRIx32, pk.info.u.vtd.ver);
		json_object_set_new(obj, "ver", json_string(hex));
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, pk.info.u.vtd.cap);
		json_object_set_new(obj, "cap", json_string(hex));
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, pk.info.u.vtd.ecap);
		json_object_set_new(obj, "ecap", json_string(hex));
		snprintf(hex, sizeof(hex), "0x%08" PRIx64, pk.status);
		json_object_set_new(obj, "gsts", json_string(hex));
	}
	json_object_set_new(obj, "in_use", json_boolean(pk.in_use));
	json_object_set_new(obj, "decoded", json_string(pk.text));
	return 0;
}
