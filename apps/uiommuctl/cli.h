/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: iproute2-style "uiommuctl [OPTIONS] OBJECT VERB [ARGS]".
 *
 * To add a command: write cmd_<object>.c with a handler of type cli_fn,
 * declare it below and add one line to cli_commands[] in main.c.
 * A handler returns CLI_OK, CLI_FAILED (after printing a one-line reason
 * with cli_err()) or CLI_USAGE.
 */
#ifndef UIOMMUCTL_CLI_H
#define UIOMMUCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "uiommu/uiommu_fw.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Global options, accepted before OBJECT or anywhere among the verb's args. */
struct cli_opts {
	bool json;            /* -j, --json */
	const char *acpi_dir; /* --acpi DIR: table dump instead of /sys */
};

/* @argc/@argv: the verb's arguments (global options removed). */
typedef int (*cli_fn)(const struct cli_opts *opts, int argc, char **argv);

struct cli_cmd {
	const char *object;  /* "probe", "acpi", ... */
	const char *verb;    /* "decode"; NULL when the object alone is the command */
	const char *args;    /* argument synopsis for help */
	const char *summary; /* one line */
	cli_fn fn;
};

/* Print "uiommuctl: <msg>" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a JSON value on stdout (indented), followed by a newline. */
void cli_json_print(json_t *v);

/* Shared firmware output (fw_print.c). */
void fw_print_topo(FILE *f, const struct uiommu_fw_topo *t);
void fw_print_items(FILE *f, const struct uiommu_fw_topo *t);
void fw_print_diags(FILE *f, const struct uiommu_fw_topo *t);
json_t *fw_json_topo(const struct uiommu_fw_topo *t);
json_t *fw_json_items(const struct uiommu_fw_topo *t);
json_t *fw_json_unit(const struct uiommu_fw_topo *t, size_t i);
json_t *fw_json_diags(const struct uiommu_fw_topo *t);

/*
 * Register decoders, one per family (UIOMMU_FW_VTD/AMDVI/SMMUV3), filled in
 * by the hardware drivers.  Called by `probe` on the live machine for units
 * with a usable base: map the registers, add what they say to @obj, return 0;
 * or return -errno (e.g. -EACCES, -ENODEV) when they cannot be mapped.
 * NULL: no decoder yet (probe says "registers: not decoded").
 */
typedef int (*cli_unit_regs_fn)(const struct uiommu_fw_unit *u, json_t *obj);
extern cli_unit_regs_fn cli_unit_regs[3];

/* Commands. */
int cmd_probe(const struct cli_opts *opts, int argc, char **argv);
int cmd_acpi_decode(const struct cli_opts *opts, int argc, char **argv);

#endif
