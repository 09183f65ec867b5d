/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: command dispatcher.  Exit codes: 0 ok, 1 operation failed,
 * 2 usage error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One line per command; see cli.h. */
static const struct cli_cmd cli_commands[] = {
	{"probe", NULL, "[--acpi DIR] [-j]",
	 "find the IOMMUs: units, device-to-unit map, reserved regions", cmd_probe},
	{"acpi", "decode", "FILE [-j]", "decode one DMAR, IVRS or IORT table file",
	 cmd_acpi_decode},
	{"unit", "list", "", "units of the state: family, access, widths", cmd_unit_list},
	{"unit", "show", "UNIT", "one unit: capabilities and registers decoded", cmd_unit_show},
	{"unit", "add",
	 "[--base ADDR|--index N] [--force] [--uio PATH] [--cfg CFG] [--small-devtab] [--name NAME]",
	 "take over a unit the firmware probe found (model: add a model unit; --cfg, --name only); "
	 "--small-devtab: AMD-Vi, a device table below 65536 IDs if 2 MiB is not contiguous",
	 cmd_unit_add},
	{"device", "list", "", "devices: PCI address, ID on the unit, attachments", cmd_device_list},
	{"device", "show", "DEVICE", "one device and its RID/PASID attachments", cmd_device_show},
	{"device", "add", "UNIT [[SEG:]BUS:]DEV.FN [--id ID] [--pasid-bits N] [--name NAME]",
	 "add a device behind a unit", cmd_device_add},
	{"device", "remove", "DEVICE", "forget a (detached) device", cmd_device_remove},
	{"ioas", "create", "[--name NAME]", "create an I/O address space", cmd_ioas_create},
	{"ioas", "destroy", "IOAS", "destroy an address space (unmaps, frees its buffers)",
	 cmd_ioas_destroy},
	{"ioas", "list", "", "address spaces: mappings, page tables, users", cmd_ioas_list},
	{"ioas", "show", "IOAS", "one address space: mappings, usable ranges", cmd_ioas_show},
	{"ioas", "map",
	 "IOAS (--alloc SIZE|--phys ADDR --len SIZE|--hugefile PATH[:OFF] --len SIZE|"
	 "--memzone NAME[@PREFIX] [--len SIZE]) [--iova ADDR] [--prot r|w|rw]",
	 "map memory into an address space (--memzone: of the running DPDK application "
	 "with --file-prefix PREFIX, default rte)",
	 cmd_ioas_map},
	{"ioas", "unmap", "IOAS (IOVA [LEN]|--all)", "unmap whole mappings (frees --alloc buffers)",
	 cmd_ioas_unmap},
	{"ioas", "attach", "IOAS DEVICE [--pasid N]", "attach a device's RID or PASID",
	 cmd_ioas_attach},
	{"ioas", "detach", "IOAS DEVICE [--pasid N]", "detach a device's RID or PASID",
	 cmd_ioas_detach},
	{"hwpt", "list", "", "hardware page tables", cmd_hwpt_list},
	{"hwpt", "show", "HWPT [--all]", "a page table: installs and entries (--all: every page)",
	 cmd_hwpt_show},
	{"walk", NULL, "DEVICE IOVA [--pasid N]", "walk a translation level by level", cmd_walk},
	{"dma", NULL, "DEVICE IOVA LEN --read|--write [--pasid N] [--pattern BYTE]",
	 "model DMA through the IOMMU", cmd_dma},
	{"faults", NULL, "[--follow]",
	 "the units' event history, whoever drained it (--follow: until ^C)", cmd_faults},
	{"apply", NULL, "LAYOUT [--dry-run]", "apply a layout file atomically and idempotently",
	 cmd_apply},
	{"show", NULL, "--svg FILE|--dot [FILE]", "picture of the address spaces and their devices",
	 cmd_show},
	{"reset", NULL, "[--force]",
	 "give everything back and delete the state (--force: even in use, or corrupt)", cmd_reset},
	{"state", "users", "", "the other processes that have the state open", cmd_state_users},
	{"state", "check", "", "check the whole state for consistency (exit 1 on a problem)",
	 cmd_state_check},
	{NULL, NULL, NULL, NULL, NULL},
};

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("uiommuctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_json_print(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: uiommuctl [-j|--json] [--acpi DIR] [--model MODEL[:CFG]] [--state NAME] [-h|--help]\n"
		   "                 [--wait SECS] OBJECT VERB [ARGS]\n"
		   "       uiommuctl --version\n\n"
		   "Commands:\n");
	for (const struct cli_cmd *c = cli_commands; c->object; c++)
		fprintf(f, "  %s%s%s %-24s %s\n", c->object, c->verb ? " " : "",
			c->verb ? c->verb : "", c->args, c->summary);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     JSON output\n"
		   "  --acpi DIR     read ACPI tables from DIR instead of /sys/firmware/acpi/tables\n"
		   "  --model MODEL[:CFG]  use a built-in model (CFG: its settings, docs/models.md,\n"
		   "                 e.g. vtd:smts=0, smmuv3:st2l=0); models:");
	/* The models this library has, from its own table (the completion
	 * reads this line). */
	for (int fam = 1; fam <= UIOMMU_FAMILY_MAX; fam++) {
		const char *m = uiommu_model_name((enum uiommu_family)fam);
		if (m)
			fprintf(f, " %s", m);
	}
	fprintf(f, "\n"
		   "  --state NAME   shared state to create or adopt (default model-NAME / hw)\n"
		   "  --wait SECS    wait at most SECS for another command to finish (default 5)\n"
		   "  -h, --help     this help; 'uiommuctl OBJECT VERB --help' for one command\n"
		   "  --version      print the version (uiommu_version()) and exit\n"
		   "\nArguments:\n"
		   "  numbers        C notation (42, 0x2a, 052): no sign, no blanks, nothing after;\n"
		   "                 out-of-range values are refused, never truncated\n"
		   "  sizes          a number, optionally with K, M or G (binary): 4K, 2M, 0x1000\n"
		   "  PCI addresses  [[SEG:]BUS:]DEV.FN in hex: SEG <= ffff, BUS <= ff, DEV <= 1f, FN <= 7\n"
		   "  names (--name) %s\n"
		   "  IOVA, lengths  map/unmap: multiples of 4 KiB; a range may not wrap past 2^64\n"
		   "  options        each at most once (a repeated option is an error)\n"
		   "\nExit status: 0 ok, 1 operation failed (nothing changed), 2 usage error.\n",
		CLI_NAME_RULE);
}

static void cmd_usage(FILE *f, const struct cli_cmd *c)
{
	fprintf(f, "Usage: uiommuctl %s%s%s %s\n  %s\n", c->object, c->verb ? " " : "",
		c->verb ? c->verb : "", c->args, c->summary);
}

/* A global option's value, refused when the option was given already. */
static int set_global(const char **slot, const char *opt, const char *val)
{
	if (*slot) {
		cli_err("option %s given twice", opt);
		return -1;
	}
	*slot = val;
	return 0;
}

/*
 * Take global options out of argv (anywhere); returns the new argc, or -1
 * on a usage error (a missing value, an option given twice).  Sets *help
 * for -h/--help, *version for --version.
 */
static int strip_globals(struct cli_opts *o, int argc, char **argv, bool *help, bool *version)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *name = a;
		const char **slot = NULL;

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			if (o->json) {
				cli_err("option -j/--json given twice");
				return -1;
			}
			o->json = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
			continue;
		}
		if (!strcmp(a, "--version")) {
			*version = true;
			continue;
		}
		if (!strncmp(a, "--wait", 6) && (!a[6] || a[6] == '=')) {
			uint64_t secs;

			v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
			if (o->wait_set) {
				cli_err("option --wait given twice");
				return -1;
			}
			if (!v || cli_parse_u64(v, &secs) || secs > 3600) {
				cli_err("--wait wants a number of seconds (0 to 3600)");
				return -1;
			}
			o->wait_ms = (uint32_t)secs * 1000u;
			o->wait_set = true;
			continue;
		}
		if (!strncmp(a, "--acpi", 6) && (!a[6] || a[6] == '=')) {
			slot = &o->acpi_dir;
			name = "--acpi";
		} else if (!strncmp(a, "--model", 7) && (!a[7] || a[7] == '=')) {
			slot = &o->model;
			name = "--model";
		} else if (!strncmp(a, "--state", 7) && (!a[7] || a[7] == '=')) {
			slot = &o->state;
			name = "--state";
		} else {
			argv[n++] = argv[i];
			continue;
		}
		if (a[strlen(name)] == '=') {
			v = a + strlen(name) + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			cli_err("%s needs a value", name);
			return -1;
		}
		if (!*v) {
			cli_err("%s: empty value", name);
			return -1;
		}
		if (set_global(slot, name, v))
			return -1;
	}
	return n;
}

/* Commands that change the state run as one transaction: all or nothing,
 * even when killed half-way.  `dma` and `faults` are not among them (a
 * fault a DMA recorded must stay for `faults`); `reset` deletes it all. */
static bool cmd_changes_state(const struct cli_cmd *c)
{
	static const char *const objs[] = {"unit", "device", "ioas", "apply"};

	if (c->verb && (!strcmp(c->verb, "list") || !strcmp(c->verb, "show")))
		return false;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (!strcmp(c->object, objs[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli_opts o = {0};
	const struct cli_cmd *c;
	bool help = false, version = false;
	int n;

	n = strip_globals(&o, argc - 1, argv + 1, &help, &version);
	if (n < 0)
		return CLI_USAGE;
	if (version) {
		/* The library's version: meson's project version (uiommu_version.h). */
		printf("uiommuctl %s\n", uiommu_version());
		return CLI_OK;
	}
	argv++;
	if (n == 0) {
		if (help) {
			usage(stdout);
			return CLI_OK;
		}
		cli_err("missing command; try 'uiommuctl --help'");
		return CLI_USAGE;
	}
	for (c = cli_commands; c->object; c++) {
		int used;

		if (strcmp(c->object, argv[0]) != 0)
			continue;
		if (c->verb && (n < 2 || strcmp(c->verb, argv[1]) != 0))
			continue;
		used = c->verb ? 2 : 1;
		if (help) {
			cmd_usage(stdout, c);
			return CLI_OK;
		}
		cli_state_set_txn(cmd_changes_state(c));
		n = cli_state_end(c->fn(&o, n - used, argv + used));
		if (n == CLI_USAGE)
			cmd_usage(stderr, c);
		return n;
	}
	if (help) {
		usage(stdout);
		return CLI_OK;
	}
	cli_err("unknown command '%s%s%s'; try 'uiommuctl --help'", argv[0], n > 1 ? " " : "",
		n > 1 ? argv[1] : "");
	return CLI_USAGE;
}
