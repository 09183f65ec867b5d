/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl apply: the layout file parser (layout.c).  Parsing never
 * touches the state: layout_parse() turns a buffer into statements and
 * checks them against each other; cmd_apply.c plans and executes them.
 *
 * Format: one statement a line; '#' starts a comment; numbers in C
 * notation, sizes with K/M/G, PCI addresses and names as in cli_parse.h.
 *
 *   device NAME unit=UNIT bdf=[[SEG:]BB:]DD.F [id=ID] [pasid-bits=N]
 *   ioas   NAME
 *   window IOAS iova=ADDR len=SIZE (alloc | phys=ADDR) [rw|r|w]
 *   attach DEVICE IOAS [pasid=N]
 *
 * UNIT is a unit ID (1 .. 2^32-1) or a unit name.  A field given twice, a
 * number out of range, a NUL byte, a line longer than LAYOUT_LINE_MAX: all
 * errors ("FILE:LINE: message").
 */
#ifndef UIOMMUCTL_LAYOUT_H
#define UIOMMUCTL_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uiommu/uiommu.h"

#define LAYOUT_LINE_MAX	 512
#define LAYOUT_MAX_STMTS 1024
#define LAYOUT_FILE_MAX	 (1u << 20)

enum layout_kind { ST_DEVICE = 1, ST_IOAS, ST_WINDOW, ST_ATTACH };

struct layout_stmt {
	enum layout_kind kind;
	int line;
	bool noop;		    /* plan: already there */
	char name[UIOMMU_NAME_MAX]; /* device / ioas: its name; window / attach: the IOAS */
	char dev[UIOMMU_NAME_MAX];  /* attach: the device */
	char unit[UIOMMU_NAME_MAX]; /* device: the unit by name ("" when by ID) */
	uint32_t unit_id;	    /* device: the unit by ID (0 when by name) */
	uint16_t seg, rid;
	bool has_id;
	uint32_t id, pasid_bits, pasid, prot;
	uint64_t iova, len, phys;
	bool alloc;
};

struct layout {
	const char *file; /* for messages */
	FILE *err;	  /* where messages go; NULL: nowhere */
	struct layout_stmt *st;
	int n;
};

/* Parse @len bytes (no NUL terminator needed) into l->st / l->n and check
 * the statements against each other.  0, or -1 after a message.  The
 * caller sets l->file and l->err and calls layout_free() in either case. */
int layout_parse(struct layout *l, const char *buf, size_t len);
/* Read the regular file @path (at most LAYOUT_FILE_MAX bytes) and parse it
 * (l->file = @path). */
int layout_read(struct layout *l, const char *path);
void layout_free(struct layout *l);
/* "uiommuctl: FILE:LINE: message" on l->err; returns -1. */
int layout_err(const struct layout *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
