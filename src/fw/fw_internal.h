/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private helpers of the firmware parsers: bounded little-endian loads from
 * table bytes, the common ACPI header, and appenders for the topology lists.
 * Nothing here does I/O.
 */
#ifndef UIOMMU_FW_INTERNAL_H
#define UIOMMU_FW_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu_fw.h"

/* The ACPI table header (ACPI 6.5, 5.2.6): 36 bytes. */
#define ACPI_HDR_LEN 36u
#define ACPI_HDR_SIG 0
#define ACPI_HDR_LENGTH 4
#define ACPI_HDR_REV 8
#define ACPI_HDR_CSUM 9
#define ACPI_HDR_OEMID 10
#define ACPI_HDR_OEMTID 16

/*
 * A table being parsed: the bytes, the table length (never beyond the
 * buffer), the signature for diagnostics and the output.
 */
struct fw_ctx {
	const uint8_t *b;
	uint32_t len;
	char sig[5];
	struct uiommu_fw_topo *topo;
	int table; /* index in topo->tables */
	unsigned int unresolved; /* DMAR scopes whose path could not be walked */
	/* Budget of one table (hostile tables: a 16 MiB table of 4-byte
	 * entries would otherwise become gigabytes of items): entries added
	 * to items/devs/resv/diags, and units. */
	uint32_t nent;
	uint32_t nunits;
	bool full, units_full;
};

/*
 * Most entries (items, device maps, reserved regions, diagnostics) one
 * table may add, and most units.  Real tables have a few hundred entries;
 * Linux sizes its DMAR unit ids for 1024 (DMAR_UNITS_SUPPORTED).  Beyond
 * that the rest of the table is ignored with one error diagnostic.
 */
#define FW_MAX_ENTRIES 65536u
#define FW_MAX_UNITS 1024u

/* Little-endian loads; the caller has checked off + size <= len. */
static inline uint8_t ld8(const uint8_t *b, size_t off)
{
	return b[off];
}
static inline uint16_t ld16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] | (uint16_t)b[off + 1] << 8);
}
static inline uint32_t ld32(const uint8_t *b, size_t off)
{
	return (uint32_t)ld16(b, off) | (uint32_t)ld16(b, off + 2) << 16;
}
static inline uint64_t ld64(const uint8_t *b, size_t off)
{
	return (uint64_t)ld32(b, off) | (uint64_t)ld32(b, off + 4) << 32;
}

/* True when [off, off + n) lies inside [0, lim) without overflow. */
static inline int fw_in(size_t off, size_t n, size_t lim)
{
	return off <= lim && n <= lim - off;
}

#define PCI_RID(bus, dev, fn) ((uint16_t)(((bus) << 8) | (((dev)&0x1f) << 3) | ((fn)&7)))

/* Diagnostics. */
void fw_diag(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Common header: checks signature, length against the buffer, minimum
 * length and checksum; records the table in topo->tables.  Returns 0 or
 * -EINVAL (with an error diagnostic).
 */
int fw_begin(struct fw_ctx *c, struct uiommu_fw_topo *topo, const void *buf, size_t len,
	     const char *sig, uint32_t min_len);

/* Appenders: return a zeroed new element, or NULL (topo->oom set). */
struct uiommu_fw_unit *fw_add_unit(struct fw_ctx *c);
struct uiommu_fw_devmap *fw_add_dev(struct fw_ctx *c, int unit, enum uiommu_fw_devkind kind,
				    uint32_t off);
struct uiommu_fw_resv *fw_add_resv(struct fw_ctx *c, enum uiommu_fw_resv_source src,
				   uint32_t off);
struct uiommu_fw_item *fw_add_item(struct fw_ctx *c, unsigned int depth, uint32_t off,
				   uint32_t length, uint32_t type, const char *kind);
/* Add a numeric or text field to an item (ignored when item is NULL or full). */
void fw_field(struct uiommu_fw_item *it, const char *name, uint64_t v);
void fw_field_str(struct uiommu_fw_item *it, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy @n bytes of a firmware string, printable only, NUL terminated. */
void fw_printable(char *dst, size_t dstlen, const uint8_t *src, size_t n);

#endif
