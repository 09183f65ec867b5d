/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program: run the real `uiommuctl -j probe` on a live machine (the
 * QEMU guest: DMAR from /sys/firmware/acpi/tables, PCI devices through
 * libpci, VT-d registers read through uiommu_unit_peek) and check what it
 * says against what QEMU is known to present (docs/qemu-testing.md): one
 * DRHD at 0xfed90000 whose registers decode, edu at 00:01.0 behind it with
 * requester ID 0x0008.
 *
 * Scenario: vtd-probe-cli.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "guest_lib.h"

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int main(int argc, char **argv)
{
	const char *scen = "vtd-probe-cli";
	char why[256] = "";
	json_error_t jerr;
	json_t *root = NULL;
	FILE *p;
	int rc, ok = 0;

	gt_init();
	if (!gt_wanted(argc, argv, scen))
		return 0;
	p = popen("uiommuctl -j probe", "r");
	if (!p) {
		gt_result(scen, GT_FAIL, "popen: %s", strerror(errno));
		return 1;
	}
	root = json_loadf(p, 0, &jerr);
	rc = pclose(p);
	if (!root) {
		gt_result(scen, GT_FAIL, "output is not JSON (line %d: %s), exit %d", jerr.line,
			  jerr.text, rc);
		return 1;
	}
	json_t *units = json_object_get(root, "units");
	json_t *u0 = json_array_get(units, 0);
	json_t *regs = json_object_get(u0, "registers");
	json_t *pcis = json_object_get(root, "pci_devices");
	json_t *edu = NULL;
	for (size_t i = 0; i < json_array_size(pcis); i++) {
		json_t *d = json_array_get(pcis, i);
		if (strstr(str(d, "device"), "00:01.0"))
			edu = d;
	}
	if (rc != 0)
		snprintf(why, sizeof(why), "uiommuctl exit status %d", rc);
	else if (json_array_size(units) != 1 || strcmp(str(u0, "base"), "0xfed90000"))
		snprintf(why, sizeof(why), "units: %zu, first base %s", json_array_size(units),
			 str(u0, "base"));
	else if (strcmp(str(regs, "status"), "ok") || strcmp(str(regs, "ver"), "0x10"))
		snprintf(why, sizeof(why), "registers: status '%s' ver '%s'", str(regs, "status"),
			 str(regs, "ver"));
	else if (json_is_true(json_object_get(regs, "in_use")))
		snprintf(why, sizeof(why), "registers say the unit is in use (kernel driver on?)");
	else if (!edu)
		snprintf(why, sizeof(why), "edu (00:01.0) not among %zu PCI devices",
			 json_array_size(pcis));
	else if (json_integer_value(json_object_get(edu, "unit")) != 0 ||
		 json_integer_value(json_object_get(edu, "unit_id")) != 0x8)
		snprintf(why, sizeof(why), "edu: unit %lld id 0x%llx (want unit 0 id 0x8)",
			 (long long)json_integer_value(json_object_get(edu, "unit")),
			 (long long)json_integer_value(json_object_get(edu, "unit_id")));
	else
		ok = 1;
	if (ok)
		gt_result(scen, GT_PASS, "unit 0xfed90000 cap %s; %zu PCI devices, edu -> unit 0 RID 0x8; %s",
			  str(regs, "cap"), json_array_size(pcis), str(regs, "decoded"));
	else
		gt_result(scen, GT_FAIL, "%s", why);
	json_decref(root);
	return ok ? 0 : 1;
}
