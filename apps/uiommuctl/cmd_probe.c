/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl probe: find the IOMMUs from the ACPI tables (live or a dump),
 * list units, which unit serves which device with its ID, and the reserved
 * regions.  On the live machine PCI devices are enumerated with libpci:
 * bridges resolve DMAR scope paths and every device is looked up.
 *
 * "No IOMMU found" exits 1: the operation (finding an IOMMU) failed, and a
 * script running `uiommuctl probe && start-app` must not go on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "env/env_pci.h"

/* Registers: only on the live machine and through the drivers' decoders
 * (uiommu_unit_peek: -EOPNOTSUPP when the family's driver has none). */
static json_t *unit_regs(const struct uiommu_fw_unit *u, bool live)
{
	json_t *o = json_object();
	int ret;

	if (!live) {
		json_object_set_new(o, "status", json_string("not mapped (tables from a dump)"));
		return o;
	}
	if (u->flags & UIOMMU_FW_UNIT_BAD_BASE) {
		json_object_set_new(o, "status", json_string("not mapped (bad base)"));
		return o;
	}
	ret = cli_regs_peek(u, o);
	if (ret == -EOPNOTSUPP) {
		json_object_set_new(o, "status", json_string("not decoded (no decoder)"));
		return o;
	}
	json_object_set_new(o, "status", json_string(ret ? strerror(-ret) : "ok"));
	return o;
}

static void print_regs(json_t *regs)
{
	const char *k;
	json_t *v;

	json_object_foreach(regs, k, v)
	{
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		printf(" %s=%s", k, s ? s : "?");
		free(s);
	}
	printf("\n");
}

static json_t *pci_dev_json(const struct uiommu_fw_topo *t, const struct uenv_pci_dev *d)
{
	char s[24];
	uint32_t id = 0;
	int unit = uiommu_fw_lookup(t, d->segment, (uint16_t)(d->bus << 8 | d->dev << 3 | d->fn),
				    &id);
	json_t *o = json_object();

	snprintf(s, sizeof(s), "%04x:%02x:%02x.%x", d->segment, d->bus, d->dev, d->fn);
	json_object_set_new(o, "device", json_string(s));
	snprintf(s, sizeof(s), "%04x:%04x", d->vendor, d->device);
	json_object_set_new(o, "id", json_string(s));
	json_object_set_new(o, "class", json_integer(d->class_code));
	json_object_set_new(o, "unit", unit < 0 ? json_null() : json_integer(unit));
	json_object_set_new(o, "unit_id", unit < 0 ? json_null() : json_integer(id));
	json_object_set_new(o, "pasid_width", d->pasid_cap ? json_integer(d->pasid_width) :
							   json_null());
	json_object_set_new(o, "ats", json_boolean(d->ats_cap));
	json_object_set_new(o, "pri", d->pri_cap ? json_integer(d->pri_max_requests) : json_null());
	if (d->amdvi_cap) {
		snprintf(s, sizeof(s), "0x%08x%08x", d->amdvi_base_hi, d->amdvi_base_lo & ~0x3fffu);
		json_object_set_new(o, "amdvi_cap_offset", json_integer(d->amdvi_cap));
		json_object_set_new(o, "amdvi_cap_header", json_integer(d->amdvi_header));
		json_object_set_new(o, "amdvi_base", json_string(s));
		json_object_set_new(o, "amdvi_misc0", json_integer(d->amdvi_misc0));
	}
	return o;
}

int cmd_probe(const struct cli_opts *opts, int argc, char **argv)
{
	const char *dir = opts->acpi_dir;
	struct uenv_pci *pci = NULL;
	struct uiommu_fw_topo t;
	json_t *out = NULL, *pcis = json_array(), *regs = json_array();
	size_t usable = 0;
	char err[512] = "";
	int ret, rc = CLI_OK;

	if (argc > 0) {
		cli_err("probe: unexpected argument '%s'", argv[0]);
		json_decref(pcis);
		json_decref(regs);
		return CLI_USAGE;
	}
	uiommu_fw_init(&t);
	if (!dir && uenv_pci_open(&pci) == 0) {
		t.resolver = uenv_pci_bridge_buses;
		t.resolver_ctx = pci;
	}
	ret = uiommu_fw_load_dir(&t, dir, err, sizeof(err));
	if (ret < 0) {
		cli_err("probe: %s", err);
		rc = CLI_FAILED;
		goto free_all;
	}
	for (size_t i = 0; i < t.nunits; i++) {
		usable += !(t.units[i].flags & UIOMMU_FW_UNIT_BAD_BASE);
		json_array_append_new(regs, unit_regs(&t.units[i], !dir));
	}
	for (size_t i = 0; i < uenv_pci_count(pci); i++) {
		struct uenv_pci_dev d;

		if (uenv_pci_get(pci, i, &d) == 0)
			json_array_append_new(pcis, pci_dev_json(&t, &d));
	}
	if (opts->json) {
		out = fw_json_topo(&t);
		json_object_set_new(out, "source", json_string(dir ? dir : "/sys/firmware/acpi/tables"));
		json_object_set_new(out, "iommu_found", json_boolean(usable > 0));
		for (size_t i = 0; i < t.nunits; i++)
			json_object_set(json_array_get(json_object_get(out, "units"), i), "registers",
					json_array_get(regs, i));
		json_object_set(out, "pci_devices", pcis);
		cli_json_print(out);
	} else if (t.ntables) {
		fw_print_topo(stdout, &t);
		for (size_t i = 0; i < t.nunits; i++) {
			printf("unit %zu registers:", i);
			print_regs(json_array_get(regs, i));
		}
		if (json_array_size(pcis))
			printf("pci devices: %zu\n", json_array_size(pcis));
		for (size_t i = 0; i < json_array_size(pcis); i++) {
			json_t *p = json_array_get(pcis, i), *u = json_object_get(p, "unit");
			json_t *pw = json_object_get(p, "pasid_width"), *pr = json_object_get(p, "pri");

			printf("  %s %s", json_string_value(json_object_get(p, "device")),
			       json_string_value(json_object_get(p, "id")));
			if (json_is_integer(u))
				/* JSON_INTEGER_FORMAT is a decimal conversion ("lld"). */
				printf(" -> unit %" JSON_INTEGER_FORMAT " id 0x%llx",
				       json_integer_value(u),
				       (unsigned long long)json_integer_value(
					       json_object_get(p, "unit_id")));
			else
				printf(" -> no unit");
			if (json_is_integer(pw))
				printf(" pasid-width %" JSON_INTEGER_FORMAT, json_integer_value(pw));
			if (json_is_true(json_object_get(p, "ats")))
				printf(" ats");
			if (json_is_integer(pr))
				printf(" pri %" JSON_INTEGER_FORMAT, json_integer_value(pr));
			printf("\n");
		}
		fw_print_diags(stdout, &t);
	}
	if (ret == 0) {
		cli_err("probe: no IOMMU found: no DMAR, IVRS or IORT table in %s "
			"(no IOMMU, or it is disabled in the firmware setup)",
			dir ? dir : "/sys/firmware/acpi/tables");
		rc = CLI_FAILED;
	} else if (!usable) {
		cli_err("probe: no usable IOMMU: %zu unit(s) described, none with a valid register base",
			t.nunits);
		rc = CLI_FAILED;
	}
free_all:
	json_decref(out);
	json_decref(pcis);
	json_decref(regs);
	uenv_pci_close(pci);
	uiommu_fw_free(&t);
	return rc;
}
