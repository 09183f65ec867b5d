/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Firmware discovery: the ACPI DMAR (Intel VT-d), IVRS (AMD-Vi) and IORT
 * (Arm SMMUv3) tables, parsed into one *platform topology*.
 *
 * The parse functions are pure: they take a table image and its length,
 * never do I/O and never trust a length, offset or count in the image.
 * Everything they find goes into a struct uiommu_fw_topo:
 *  - units: the IOMMUs (family, register base, segment, NUMA proximity);
 *  - device maps: which unit serves which requester IDs and the ID each
 *    device carries on that unit (VT-d source-id, AMD-Vi DeviceID, SMMUv3
 *    StreamID);
 *  - reserved regions (RMRR, IVMD, IORT RMR);
 *  - decoded items: every structure of every table as named fields, for
 *    `uiommuctl acpi decode`;
 *  - diagnostics: warnings and errors with the table and byte offset.
 *
 * Firmware is bad input as a matter of course: problems become diagnostics;
 * a parse function fails (negative errno) only when the table as a whole is
 * unusable (bad signature, truncated header, length beyond the buffer).
 * A checksum mismatch is a warning; the table is still parsed.
 */
#ifndef UIOMMU_FW_H
#define UIOMMU_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu_family.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a diagnostic. */
enum uiommu_fw_severity {
	UIOMMU_FW_INFO = 0, /**< worth knowing, nothing is wrong */
	UIOMMU_FW_WARN,     /**< firmware is wrong; worked around or ignored */
	UIOMMU_FW_ERROR,    /**< a structure (or the table) was rejected */
};

/** One diagnostic produced while parsing. */
struct uiommu_fw_diag {
	enum uiommu_fw_severity severity; /**< how bad */
	char table[5];   /**< signature, NUL terminated */
	uint32_t offset; /**< byte offset in the table */
	char msg[160];   /**< human-readable message */
};

/** Unit flags (struct uiommu_fw_unit.flags). */
#define UIOMMU_FW_UNIT_INCLUDE_ALL (1u << 0) /**< serves all devices of its segment not listed elsewhere */
#define UIOMMU_FW_UNIT_BAD_BASE (1u << 1)    /**< register base is 0: unusable */
#define UIOMMU_FW_UNIT_ATS_ALL (1u << 2)     /**< VT-d: ATSR ALL_PORTS on its segment */

/** An IOMMU. */
struct uiommu_fw_unit {
	enum uiommu_family family; /**< the same numbering as uiommu.h */
	uint64_t base;     /**< register base (MMIO) */
	uint64_t size;     /**< register window in bytes (0: family default) */
	uint16_t segment;  /**< PCI segment */
	int32_t proximity; /**< ACPI proximity domain, -1 when unknown */
	uint32_t flags;    /**< UIOMMU_FW_UNIT_* */
	uint32_t offset;   /**< byte offset of the (first) describing structure */
	/** Raw firmware flags: DRHD flags, IVHD flags, SMMUv3 node flags. */
	uint32_t fw_flags;
	/** VT-d: nothing; AMD-Vi: fields of the richest IVHD block. */
	struct {
		uint16_t devid;       /**< the IOMMU's own requester ID */
		uint16_t cap_offset;  /**< offset of its PCI capability block */
		uint16_t info;        /**< IOMMU info (MSI number, unit id) */
		uint32_t attr;        /**< type 10h feature reporting / 11h+ attributes */
		uint64_t efr;         /**< EFR image (types 11h/40h), 0 otherwise */
		uint64_t efr2;        /**< EFR2 image (types 11h/40h) */
		uint8_t types;        /**< bit 0: 10h seen, bit 1: 11h, bit 2: 40h */
		uint8_t best_type;    /**< IVHD type the device entries came from */
	} amd;
	/** SMMUv3 node fields. */
	struct {
		uint32_t model;
		uint32_t gsiv_event, gsiv_pri, gsiv_gerr, gsiv_sync;
		uint64_t vatos;
		uint32_t node_offset; /**< offset of the node in IORT */
	} smmu;
};

/** What a device map entry describes (struct uiommu_fw_devmap.kind). */
enum uiommu_fw_devkind {
	UIOMMU_FW_DEV_PCI = 0, /**< PCI requester IDs first..last */
	UIOMMU_FW_DEV_BRIDGE,  /**< a bridge and everything below it (VT-d) */
	UIOMMU_FW_DEV_ALL,     /**< the whole segment not matched otherwise */
	UIOMMU_FW_DEV_IOAPIC,  /**< an I/O APIC (id in enum_id) */
	UIOMMU_FW_DEV_HPET,    /**< an HPET block (id in enum_id) */
	UIOMMU_FW_DEV_ACPI,    /**< an ACPI device (name or HID/UID) */
	UIOMMU_FW_DEV_NAMED,   /**< IORT named component */
};

/** Device map flags. */
#define UIOMMU_FW_DEV_UNRESOLVED (1u << 0) /**< PCI path could not be resolved to a bus */
#define UIOMMU_FW_DEV_ALIAS (1u << 1)      /**< ID on the unit is an alias, not the BDF */
#define UIOMMU_FW_DEV_SINGLE (1u << 2)     /**< IORT single mapping: one ID for all */

/** Which unit serves which devices, and the devices' IDs on it. */
struct uiommu_fw_devmap {
	enum uiommu_fw_devkind kind; /**< what the entry describes */
	int unit;          /**< index in topo->units */
	uint16_t segment;  /**< PCI segment */
	uint16_t first;    /**< first requester ID (bus << 8 | dev << 3 | fn) */
	uint16_t last;     /**< last requester ID (== first for one device) */
	/** ID on the unit of @first: RID r has id_base + (r - first), or id_base
	 *  for all of them with UIOMMU_FW_DEV_ALIAS / UIOMMU_FW_DEV_SINGLE. */
	uint32_t id_base;
	uint32_t flags;    /**< UIOMMU_FW_DEV_* */
	uint8_t enum_id;   /**< IOAPIC/HPET id, ANDD number */
	uint8_t dte;       /**< AMD-Vi DTE setting byte */
	uint8_t bus_first; /**< BRIDGE: secondary bus when resolved */
	uint8_t bus_last;  /**< BRIDGE: subordinate bus when resolved */
	uint32_t offset;   /**< byte offset of the describing structure */
	char name[64];     /**< ACPI name / HID:UID / IORT object name / PCI path text */
};

/** Where a reserved region came from. */
enum uiommu_fw_resv_source {
	UIOMMU_FW_RESV_RMRR = 0, /**< DMAR RMRR */
	UIOMMU_FW_RESV_IVMD,     /**< IVRS IVMD */
	UIOMMU_FW_RESV_RMR,      /**< IORT RMR node */
};

/** A reserved memory region that some devices need mapped 1:1. */
struct uiommu_fw_resv {
	enum uiommu_fw_resv_source source; /**< the table structure it came from */
	uint64_t base;    /**< first byte */
	uint64_t length;  /**< in bytes (0: empty / malformed) */
	uint16_t segment; /**< PCI segment of the devices */
	bool all;         /**< applies to every device (IVMD type 20h) */
	uint16_t first;   /**< first requester ID / StreamID covered */
	uint16_t last;    /**< last requester ID / StreamID covered */
	int unit;         /**< RMR: the SMMU the StreamIDs belong to; else -1 */
	uint32_t flags;   /**< IVMD flags / RMR flags */
	uint32_t offset;  /**< byte offset of the describing structure */
	char devices[96]; /**< devices in text (RMRR scopes) */
};

/** Maximum fields of one decoded item. */
#define UIOMMU_FW_ITEM_FIELDS 16

/** One named field of a decoded item. */
struct uiommu_fw_field {
	const char *name;  /**< static string */
	uint64_t value;    /**< numeric value, when str[0] == 0 */
	char str[48];      /**< text value (names, paths); empty for numbers */
};

/** One decoded structure (table header, subtable, entry) for display. */
struct uiommu_fw_item {
	char table[5];   /**< signature */
	uint8_t depth;   /**< 0 table, 1 subtable, 2 entry in a subtable */
	uint32_t offset; /**< byte offset in the table */
	uint32_t length; /**< bytes */
	uint32_t type;   /**< raw type code */
	const char *kind; /**< static name: "DRHD", "IVHD", "device-scope", ... */
	unsigned int nfields;				      /**< entries used in @p fields */
	struct uiommu_fw_field fields[UIOMMU_FW_ITEM_FIELDS]; /**< its fields, in table order */
};

/** A table that was parsed. */
struct uiommu_fw_table {
	char signature[5];    /**< "DMAR", "IVRS" or "IORT", NUL terminated */
	char oem_id[7];       /**< printable (non-printable bytes as '?') */
	char oem_table_id[9]; /**< printable, as oem_id */
	uint8_t revision;     /**< header revision */
	uint32_t length;      /**< header length, bytes */
	bool checksum_ok;     /**< the bytes sum to 0 */
	/** DMAR: host address width (bits); IVRS: IVinfo; IORT: node count. */
	uint32_t info;
	/** DMAR: flags; IORT: revision. */
	uint32_t flags;
};

/** DMAR table flags (struct uiommu_fw_table.flags for DMAR). */
#define UIOMMU_FW_DMAR_INTR_REMAP (1u << 0)
#define UIOMMU_FW_DMAR_X2APIC_OPT_OUT		(1u << 1) /**< firmware asks for xAPIC mode */
#define UIOMMU_FW_DMAR_DMA_CTRL_PLATFORM_OPT_IN (1u << 2) /**< firmware protects DMA at boot */

/**
 * Resolve the secondary and subordinate bus of a PCI bridge (VT-d device
 * scope paths).  Return 0 and fill @secondary/@subordinate, or negative errno.
 */
typedef int (*uiommu_fw_bus_resolver)(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev,
				      uint8_t fn, uint8_t *secondary, uint8_t *subordinate);

/** The platform topology: everything found in one or more tables. */
struct uiommu_fw_topo {
	struct uiommu_fw_table *tables; /**< the tables parsed */
	size_t ntables;			/**< entries in @p tables */
	struct uiommu_fw_unit *units;	/**< the IOMMU units found */
	size_t nunits;			/**< entries in @p units */
	struct uiommu_fw_devmap *devs;	/**< device-to-unit map */
	size_t ndevs;			/**< entries in @p devs */
	struct uiommu_fw_resv *resv;	/**< reserved memory regions */
	size_t nresv;			/**< entries in @p resv */
	struct uiommu_fw_item *items;	/**< every structure decoded, for display */
	size_t nitems;			/**< entries in @p items */
	struct uiommu_fw_diag *diags;	/**< what was wrong with the tables */
	size_t ndiags;			/**< entries in @p diags */
	/** Worst severity in diags, -1 when there are none. */
	int worst;
	/** Optional bridge resolver used by the DMAR parser (set before parsing). */
	uiommu_fw_bus_resolver resolver;
	void *resolver_ctx; /**< passed to @p resolver */
	/** Internal: set on allocation failure; parsing stops with -ENOMEM. */
	bool oom;
};

/** Initialise an empty topology (all zero, worst = -1). */
void uiommu_fw_init(struct uiommu_fw_topo *topo);

/** Free everything a topology holds and re-initialise it. */
void uiommu_fw_free(struct uiommu_fw_topo *topo);

/**
 * Parse a DMAR table image into @topo (appends).
 * One table adds at most 1024 units and 65536 entries (items, device maps,
 * reserved regions, diagnostics together); past either, an error
 * diagnostic names the limit and the rest of the table is ignored (all
 * parsers).
 * @return 0 (possibly with warnings/errors in topo->diags), or -EINVAL when the
 *         table header is unusable, -ENOMEM on allocation failure.
 */
int uiommu_fw_parse_dmar(struct uiommu_fw_topo *topo, const void *buf, size_t len);

/**
 * Parse an IVRS table image into @topo (appends).  IVHD blocks describing the
 * same IOMMU (same segment, devid and base) are merged into one unit whose
 * device entries come from the richest type (40h > 11h > 10h).
 * @return 0, -EINVAL or -ENOMEM as for uiommu_fw_parse_dmar().
 */
int uiommu_fw_parse_ivrs(struct uiommu_fw_topo *topo, const void *buf, size_t len);

/**
 * Parse an IORT table image into @topo (appends): SMMUv3 units, root complex
 * and named component ID mappings, RMR reserved regions.
 * @return 0, -EINVAL or -ENOMEM as for uiommu_fw_parse_dmar().
 */
int uiommu_fw_parse_iort(struct uiommu_fw_topo *topo, const void *buf, size_t len);

/**
 * Parse any supported table, chosen by its signature.
 * @return as the specific parser, or -ENOTSUP for an unknown signature,
 *         -EINVAL when @len is shorter than an ACPI header.
 */
int uiommu_fw_parse_table(struct uiommu_fw_topo *topo, const void *buf, size_t len);

/**
 * Load the IOMMU tables (DMAR, IVRS, IORT) found in @dir into @topo.
 * @dir: NULL for /sys/firmware/acpi/tables; otherwise a directory of raw
 *       table files, recognised by their signature, not their name
 *       (acpidump -b "dmar.dat", acpixtract output, "DMAR", "DMAR1", ...).
 *       Only regular files are read, not through symbolic links (each
 *       through one open, without blocking on a FIFO put there).
 * @return number of tables parsed (0: no IOMMU table), or negative errno
 *         when @dir cannot be read; @err receives a one-line reason.
 */
int uiommu_fw_load_dir(struct uiommu_fw_topo *topo, const char *dir, char *err, size_t errlen);

/**
 * Read one file and parse it as a table.
 * @return as uiommu_fw_parse_table(), or -errno when the file cannot be read;
 *         @err receives a one-line reason.
 */
int uiommu_fw_load_file(struct uiommu_fw_topo *topo, const char *path, char *err, size_t errlen);

/**
 * Find the unit serving a PCI device and its ID on that unit.  DMAR and
 * IORT: specific entries win over bridge subtrees, which win over
 * INCLUDE_PCI_ALL / "all".  IVRS: entries apply in table order as in
 * Linux (the last entry naming the device gives its IOMMU; the last alias
 * entry covering it gives its DeviceID, else the requester ID).
 * @return index of the unit, or -ENOENT; *id receives the device's ID.
 */
int uiommu_fw_lookup(const struct uiommu_fw_topo *topo, uint16_t segment, uint16_t rid,
		     uint32_t *id);

/** Number of diagnostics at or above @sev. */
size_t uiommu_fw_count_diags(const struct uiommu_fw_topo *topo, enum uiommu_fw_severity sev);

/** Static names for display. */
const char *uiommu_fw_family_name(enum uiommu_family f);
/** Static name of a device map kind. */
const char *uiommu_fw_devkind_name(enum uiommu_fw_devkind k);
/** Static name of a reserved region source. */
const char *uiommu_fw_resv_source_name(enum uiommu_fw_resv_source s);
/** Static name of a severity ("info", "warning", "error"). */
const char *uiommu_fw_severity_name(enum uiommu_fw_severity s);

#ifdef __cplusplus
}
#endif
#endif
