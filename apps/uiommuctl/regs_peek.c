/* SPDX-License-Identifier: BSD-3-Clause */
/* probe: a live unit's registers through uiommu_unit_peek(), decoded by its
 * family's driver (uiommu_unit_peek_decode): no register fact lives here. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "uiommu/uiommu.h"

/* Each register as "name": "0x..." (lower-case name, the family's width). */
static void peek_reg(void *arg, const struct uiommu_reg_view *r)
{
	json_t *obj = arg;
	char key[32], hex[32];
	size_t i;

	if (r->kind == UIOMMU_REG_FEATURE)
		return;
	for (i = 0; r->name[i] && i + 1 < sizeof(key); i++)
		key[i] = (char)tolower((unsigned char)r->name[i]);
	key[i] = '\0';
	snprintf(hex, sizeof(hex), "0x%0*" PRIx64, (int)r->hex_digits, r->value);
	json_object_set_new(obj, key, json_string(hex));
}

int cli_regs_peek(const struct uiommu_fw_unit *u, json_t *obj)
{
	struct uiommu_unit_desc d = {.family = u->family,
				     .access = UIOMMU_UNIT_MMIO,
				     .reg_base = u->base,
				     .reg_size = u->size,
				     .segment = u->segment};
	struct uiommu_unit_peek pk;
	int rc = uiommu_unit_peek(&d, &pk);

	if (rc)
		return rc;
	(void)uiommu_unit_peek_decode(&pk, peek_reg, obj);
	json_object_set_new(obj, "in_use", json_boolean(pk.in_use));
	json_object_set_new(obj, "decoded", json_string(pk.text));
	return 0;
}
