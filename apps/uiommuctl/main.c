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
	fprintf(f, "Usage: uiommuctl [-j|--json] [--acpi DIR] [-h|--help] OBJECT VERB [ARGS]\n\n"
		   "Commands:\n");
	for (const struct cli_cmd *c = cli_commands; c->object; c++)
		fprintf(f, "  %s%s%s %-24s %s\n", c->object, c->verb ? " " : "",
			c->verb ? c->verb : "", c->args, c->summary);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     JSON output\n"
		   "  --acpi DIR     read ACPI tables from DIR instead of /sys/firmware/acpi/tables\n"
		   "  -h, --help     this help; 'uiommuctl OBJECT VERB --help' for one command\n"
		   "\nExit status: 0 ok, 1 operation failed, 2 usage error.\n");
}

static void cmd_usage(FILE *f, const struct cli_cmd *c)
{
	fprintf(f, "Usage: uiommuctl %s%s%s %s\n  %s\n", c->object, c->verb ? " " : "",
		c->verb ? c->verb : "", c->args, c->summary);
}

/*
 * Take global options out of argv (anywhere); returns the new argc, or -1
 * on a usage error.  Sets *help for -h/--help.
 */
static int strip_globals(struct cli_opts *o, int argc, char **argv, bool *help)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
		} else if (!strcmp(a, "--acpi")) {
			if (i + 1 >= argc) {
				cli_err("--acpi needs a directory");
				return -1;
			}
			o->acpi_dir = argv[++i];
		} else if (!strncmp(a, "--acpi=", 7)) {
			o->acpi_dir = a + 7;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct cli_opts o = {0};
	const struct cli_cmd *c;
	bool help = false;
	int n;

	n = strip_globals(&o, argc - 1, argv + 1, &help);
	if (n < 0)
		return CLI_USAGE;
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
		n = c->fn(&o, n - used, argv + used);
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
