/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The platform topology: lifetime, table dispatch and device lookup.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitfield.h"
#include "fw/fw_internal.h"

void uiommu_fw_init(struct uiommu_fw_topo *topo)
{
	memset(topo, 0, sizeof(*topo));
	topo->worst = -1;
}

void uiommu_fw_free(struct uiommu_fw_topo *topo)
{
	uiommu_fw_bus_resolver r;
	void *ctx;

	if (!topo)
		return;
	r = topo->resolver;
	ctx = topo->resolver_ctx;
	free(topo->tables);
	free(topo->units);
	free(topo->devs);
	free(topo->resv);
	free(topo->items);
	free(topo->diags);
	uiommu_fw_init(topo);
	topo->resolver = r;
	topo->resolver_ctx = ctx;
}

int uiommu_fw_parse_table(struct uiommu_fw_topo *topo, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	if (!topo)
		return -EINVAL;
	if (!buf || len < ACPI_HDR_LEN)
		return -EINVAL;
	if (!memcmp(b, "DMAR", 4))
		return uiommu_fw_parse_dmar(topo, buf, len);
	if (!memcmp(b, "IVRS", 4))
		return uiommu_fw_parse_ivrs(topo, buf, len);
	if (!memcmp(b, "IORT", 4))
		return uiommu_fw_parse_iort(topo, buf, len);
	return -ENOTSUP;
}

/* Rank of a match: lower wins. */
static int match_rank(const struct uiommu_fw_devmap *d, uint16_t seg, uint16_t rid)
{
	if (d->segment != seg)
		return -1;
	switch (d->kind) {
	case UIOMMU_FW_DEV_PCI:
		if (rid >= d->first && rid <= d->last && !(d->flags & UIOMMU_FW_DEV_UNRESOLVED))
			return 0;
		return -1;
	case UIOMMU_FW_DEV_BRIDGE:
		if (rid == d->first && !(d->flags & UIOMMU_FW_DEV_UNRESOLVED))
			return 0;
		if (d->bus_last && (rid >> 8) >= d->bus_first && (rid >> 8) <= d->bus_last)
			return 1;
		return -1;
	case UIOMMU_FW_DEV_ALL:
		return rid >= d->first && rid <= d->last ? 2 : -1;
	default:
		return -1;
	}
}

/* Width of what an entry covers; on equal rank the narrowest entry wins. */
static unsigned int match_width(const struct uiommu_fw_devmap *d, int rank)
{
	if (rank == 1)
		return (unsigned int)(d->bus_last - d->bus_first);
	return (unsigned int)(d->last - d->first);
}

static bool devmap_is_ivrs(const struct uiommu_fw_topo *topo, const struct uiommu_fw_devmap *d)
{
	return d->unit >= 0 && (size_t)d->unit < topo->nunits &&
	       topo->units[d->unit].family == UIOMMU_FAMILY_AMDVI;
}

/*
 * IVRS device entries are applied in table order, as Linux's
 * init_iommu_from_acpi does: each entry that names a device (select, range,
 * "all") makes its IOMMU the device's, so the last one wins; an alias entry
 * sets the DeviceID the device's DMA carries, and only another alias entry
 * changes it (a later plain entry keeps the alias).  Firmware is tested
 * against that reading: overlapping entries in real tables (two IOMMUs'
 * ranges over one bus, an alias range inside a wide range) mean what Linux
 * makes of them.  -ENOENT when no IVRS entry names @rid.
 */
static int lookup_ivrs(const struct uiommu_fw_topo *topo, uint16_t segment, uint16_t rid,
		       uint32_t *id)
{
	int unit = -ENOENT;
	uint32_t devid = rid;

	for (size_t i = 0; i < topo->ndevs; i++) {
		const struct uiommu_fw_devmap *d = &topo->devs[i];

		if (d->segment != segment || !devmap_is_ivrs(topo, d))
			continue;
		if (d->kind == UIOMMU_FW_DEV_ALL) {
			unit = d->unit;
		} else if (d->kind == UIOMMU_FW_DEV_PCI && rid >= d->first && rid <= d->last) {
			unit = d->unit;
			if (d->flags & UIOMMU_FW_DEV_ALIAS)
				devid = d->id_base;
		}
	}
	if (unit >= 0 && id)
		*id = devid;
	return unit;
}

int uiommu_fw_lookup(const struct uiommu_fw_topo *topo, uint16_t segment, uint16_t rid,
		     uint32_t *id)
{
	const struct uiommu_fw_devmap *best = NULL;
	int best_rank = 99;
	int u = lookup_ivrs(topo, segment, rid, id);

	if (u >= 0)
		return u;
	for (size_t i = 0; i < topo->ndevs; i++) {
		const struct uiommu_fw_devmap *d = &topo->devs[i];
		int r = match_rank(d, segment, rid);

		if (devmap_is_ivrs(topo, d))
			continue;

		if (r < 0 || r > best_rank)
			continue;
		if (r == best_rank && best && match_width(d, r) >= match_width(best, r))
			continue;
		best = d;
		best_rank = r;
	}
	if (!best)
		return -ENOENT;
	if (id) {
		if (best_rank > 0)
			*id = rid; /* bridge subtree or "all": the requester ID itself */
		else if (best->flags & (UIOMMU_FW_DEV_ALIAS | UIOMMU_FW_DEV_SINGLE))
			*id = best->id_base;
		else
			*id = best->id_base + (uint32_t)(rid - best->first);
	}
	return best->unit;
}

size_t uiommu_fw_count_diags(const struct uiommu_fw_topo *topo, enum uiommu_fw_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < topo->ndiags; i++)
		n += topo->diags[i].severity >= sev;
	return n;
}

const char *uiommu_fw_family_name(enum uiommu_family f)
{
	static const char *const n[] = {
		[UIOMMU_FAMILY_VTD] = "vtd",
		[UIOMMU_FAMILY_SMMUV3] = "smmuv3",
		[UIOMMU_FAMILY_AMDVI] = "amdvi",
	};

	return (unsigned)f < ARRAY_SIZE(n) && n[f] ? n[f] : "unknown";
}

const char *uiommu_fw_devkind_name(enum uiommu_fw_devkind k)
{
	static const char *const n[] = {"pci", "bridge", "all", "ioapic", "hpet", "acpi", "named"};

	return (unsigned)k < ARRAY_SIZE(n) ? n[k] : "unknown";
}

const char *uiommu_fw_resv_source_name(enum uiommu_fw_resv_source s)
{
	static const char *const n[] = {"rmrr", "ivmd", "rmr"};

	return (unsigned)s < ARRAY_SIZE(n) ? n[s] : "unknown";
}

const char *uiommu_fw_severity_name(enum uiommu_fw_severity s)
{
	static const char *const n[] = {"info", "warning", "error"};

	return (unsigned)s < ARRAY_SIZE(n) ? n[s] : "unknown";
}
