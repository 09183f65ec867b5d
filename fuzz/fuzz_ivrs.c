/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the IVRS parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu_fw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uiommu_fw_topo t;
	uint32_t id;

	uiommu_fw_init(&t);
	uiommu_fw_parse_ivrs(&t, data, size);
	/* Exercise the result: lookups must stay in bounds. */
	for (uint32_t rid = 0; rid < 0x10000; rid += 0x101)
		(void)uiommu_fw_lookup(&t, 0, (uint16_t)rid, &id);
	uiommu_fw_free(&t);
	return 0;
}
