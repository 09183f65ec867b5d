/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl acpi decode FILE: every structure of one DMAR/IVRS/IORT table,
 * the topology it yields and the diagnostics.  Exit 1 when the table is
 * rejected or has errors (warnings alone are fine).
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

int cmd_acpi_decode(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_fw_topo t;
	char err[512];
	size_t nerr;
	int ret;

	if (argc != 1 || argv[0][0] == '-') {
		cli_err(argc < 1 ? "acpi decode: missing FILE" :
			argc > 1 ? "acpi decode: one FILE only" :
				   "acpi decode: unknown option");
		return CLI_USAGE;
	}
	uiommu_fw_init(&t);
	ret = uiommu_fw_load_file(&t, argv[0], err, sizeof(err));
	if (ret && t.nitems == 0) {
		if (opts->json) {
			json_t *o = json_pack("{s:s, s:s}", "file", argv[0], "error", err);

			json_object_set_new(o, "diagnostics", fw_json_diags(&t));
			cli_json_print(o);
			json_decref(o);
		}
		cli_err("%s", err);
		uiommu_fw_free(&t);
		return CLI_FAILED;
	}
	if (opts->json) {
		json_t *o = fw_json_topo(&t);

		json_object_set_new(o, "file", json_string(argv[0]));
		json_object_set_new(o, "items", fw_json_items(&t));
		cli_json_print(o);
		json_decref(o);
	} else {
		fw_print_items(stdout, &t);
		fw_print_topo(stdout, &t);
		fw_print_diags(stdout, &t);
	}
	nerr = uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR);
	if (ret || nerr) {
		cli_err("%s: %zu error(s) in table; first: %s", argv[0], nerr ? nerr : 1,
			ret ? err : t.diags[0].msg);
		for (size_t i = 0; i < t.ndiags; i++)
			if (t.diags[i].severity == UIOMMU_FW_ERROR) {
				cli_err("%s: %s+0x%x: %s", argv[0], t.diags[i].table,
					t.diags[i].offset, t.diags[i].msg);
				break;
			}
		uiommu_fw_free(&t);
		return CLI_FAILED;
	}
	uiommu_fw_free(&t);
	return CLI_OK;
}
