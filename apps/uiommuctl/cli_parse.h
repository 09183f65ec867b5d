/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: the strict parsers every verb and the layout files use (numbers,
 * sizes, PCI addresses, object names).  Pure string code: no state, no
 * output, so the layout fuzzer links it alone (cli_parse.c).
 *
 * Numbers: C notation (decimal, 0x hex, 0 octal), digits first: no sign,
 * no blanks, nothing after, and the value must fit (never truncated).
 * Sizes: a number, optionally followed by K, M or G (binary; "KiB"/"KB"
 * forms too); the product must fit in 64 bits.
 * PCI addresses: [[SEG:]BUS:]DEV.FN in hex, SEG 1-4 digits <= ffff, BUS 1-2
 * digits <= ff, DEV 1-2 digits <= 1f, FN 1 digit <= 7; nothing before or
 * after.
 */
#ifndef UIOMMUCTL_CLI_PARSE_H
#define UIOMMUCTL_CLI_PARSE_H

#include <stdint.h>

/* 0, or -EINVAL (malformed) / -ERANGE (does not fit). */
int cli_parse_u64(const char *s, uint64_t *v);
int cli_parse_size(const char *s, uint64_t *v);
/* A number that must lie in [min, max]: 0, -EINVAL or -ERANGE. */
int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *v);
/* [[SEG:]BUS:]DEV.FN -> segment and requester ID: 0 or -EINVAL. */
int cli_parse_bdf(const char *s, uint16_t *seg, uint16_t *rid);

/*
 * Object names (units, devices, IOASes): what is wrong with @s, or NULL
 * when it is a good name.  The rule (CLI_NAME_RULE) keeps every reference
 * unambiguous: a name never reads as an ID (it starts with a letter or '_')
 * nor as a PCI address.
 */
#define CLI_NAME_RULE                                                                            \
	"1-31 characters: a letter or '_' first, then letters, digits, '_', '-', '.', ':'; not " \
	"a PCI address"
const char *cli_name_problem(const char *s);

#endif
