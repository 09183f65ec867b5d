/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IVRS (AMD I/O Virtualization Technology spec 48882, chapter 5): IVinfo,
 * IVHD blocks of types 10h, 11h and 40h with their device entries, IVMD
 * blocks.  Several IVHD blocks usually describe one IOMMU; they are merged
 * into one unit and the device entries of the richest type are used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitfield.h"
#include "fw/fw_internal.h"

#define IVRS_IVINFO 36
#define IVRS_FIXED_LEN 48u

#define IVINFO_EFRSUP BIT_ULL(0)
#define IVINFO_DMA_GUARD BIT_ULL(1)
#define IVINFO_GVA_SIZE GENMASK_ULL(7, 5)
#define IVINFO_PA_SIZE GENMASK_ULL(14, 8)
#define IVINFO_VA_SIZE GENMASK_ULL(21, 15)
#define IVINFO_HT_ATS_RESV BIT_ULL(22)

/* Subtable types. */
#define IVHD_10 0x10
#define IVHD_11 0x11
#define IVHD_40 0x40
#define IVMD_ALL 0x20
#define IVMD_SELECT 0x21
#define IVMD_RANGE 0x22

#define IVHD10_LEN 24u
#define IVHD11_LEN 40u /* also 40h */
#define IVMD_LEN 32u

#define IVMD_F_UNITY BIT_ULL(0)
#define IVMD_F_IR BIT_ULL(1)
#define IVMD_F_IW BIT_ULL(2)
#define IVMD_F_EXCL BIT_ULL(3)

/* Device entry types. */
enum {
	DE_PAD4 = 0x00,
	DE_ALL = 0x01,
	DE_SELECT = 0x02,
	DE_START = 0x03,
	DE_END = 0x04,
	DE_PAD8 = 0x40,
	DE_ALIAS_SELECT = 0x42,
	DE_ALIAS_START = 0x43,
	DE_EXT_SELECT = 0x46,
	DE_EXT_START = 0x47,
	DE_SPECIAL = 0x48,
	DE_ACPI_HID = 0xf0,
};
#define DE_HID_FIXED_LEN 22u
#define SPECIAL_IOAPIC 1
#define SPECIAL_HPET 2

static int type_rank(uint8_t type)
{
	return type == IVHD_40 ? 2 : type == IVHD_11 ? 1 : 0;
}

static const char *entry_name(uint8_t t)
{
	switch (t) {
	case DE_PAD4:
	case DE_PAD8:
		return "pad";
	case DE_ALL:
		return "all";
	case DE_SELECT:
		return "select";
	case DE_START:
		return "range-start";
	case DE_END:
		return "range-end";
	case DE_ALIAS_SELECT:
		return "alias-select";
	case DE_ALIAS_START:
		return "alias-range-start";
	case DE_EXT_SELECT:
		return "ext-select";
	case DE_EXT_START:
		return "ext-range-start";
	case DE_SPECIAL:
		return "special";
	case DE_ACPI_HID:
		return "acpi-hid";
	default:
		return "unknown";
	}
}

/* Length of the device entry at @p with @left bytes available; 0 if invalid. */
static uint32_t entry_len(const uint8_t *p, uint32_t left)
{
	uint8_t t = p[0];

	if (t == DE_ACPI_HID) {
		if (left < DE_HID_FIXED_LEN)
			return 0;
		return DE_HID_FIXED_LEN + p[21];
	}
	/* Bits 7:6 of the type give the size: 4, 8, 16 or 32 bytes. */
	return 4u << (t >> 6);
}

/* Emit a PCI device map entry for requester IDs first..last. */
static void emit_pci(struct fw_ctx *c, int unit, uint16_t seg, uint32_t off, uint16_t first,
		     uint16_t last, uint8_t dte, bool alias, uint16_t alias_id)
{
	struct uiommu_fw_devmap *d;

	if (unit < 0)
		return;
	d = fw_add_dev(c, unit, UIOMMU_FW_DEV_PCI, off);
	if (!d)
		return;
	d->segment = seg;
	d->first = first;
	d->last = last;
	d->dte = dte;
	d->id_base = alias ? alias_id : first;
	if (alias) {
		d->flags |= UIOMMU_FW_DEV_ALIAS;
		snprintf(d->name, sizeof(d->name), "alias of %02x:%02x.%x", alias_id >> 8,
			 (alias_id >> 3) & 0x1f, alias_id & 7);
	}
}

/*
 * Device entries of one IVHD block.  Device maps are emitted for @unit >= 0
 * (the block chosen for its IOMMU); items always.
 */
static void ivhd_entries(struct fw_ctx *c, uint32_t off, uint32_t end, uint16_t seg, int unit)
{
	bool in_range = false;
	uint32_t range_off = 0;
	uint16_t range_start = 0, range_alias = 0;
	uint8_t range_dte = 0, range_type = 0;

	while (off < end) {
		const uint8_t *p = c->b + off;
		uint8_t t = p[0];
		uint32_t elen = entry_len(p, end - off);
		struct uiommu_fw_item *it;
		uint16_t devid;

		if (elen == 0 || !fw_in(off, elen, end)) {
			fw_diag(c, UIOMMU_FW_ERROR, off,
				"IVHD device entry type 0x%02x (length %u) runs past the block end (%u bytes left); rest of block ignored",
				t, elen, end - off);
			return;
		}
		devid = ld16(p, 1);
		it = fw_add_item(c, 2, off, elen, t, entry_name(t));
		fw_field(it, "devid", devid);
		fw_field(it, "dte_setting", ld8(p, 3));
		switch (t) {
		case DE_PAD4:
		case DE_PAD8:
			break;
		case DE_ALL:
			if (unit >= 0) {
				struct uiommu_fw_devmap *d =
					fw_add_dev(c, unit, UIOMMU_FW_DEV_ALL, off);

				if (d) {
					d->segment = seg;
					d->last = 0xffff;
					d->dte = ld8(p, 3);
					snprintf(d->name, sizeof(d->name), "all");
				}
			}
			break;
		case DE_SELECT:
		case DE_EXT_SELECT:
			if (t == DE_EXT_SELECT)
				fw_field(it, "ext_data", ld32(p, 4));
			emit_pci(c, unit, seg, off, devid, devid, ld8(p, 3), false, 0);
			break;
		case DE_ALIAS_SELECT:
			fw_field(it, "alias", ld16(p, 5));
			emit_pci(c, unit, seg, off, devid, devid, ld8(p, 3), true, ld16(p, 5));
			break;
		case DE_START:
		case DE_ALIAS_START:
		case DE_EXT_START:
			if (in_range)
				fw_diag(c, UIOMMU_FW_WARN, off,
					"range start while the range at offset %u is still open; the old one is dropped",
					range_off);
			in_range = true;
			range_off = off;
			range_start = devid;
			range_dte = ld8(p, 3);
			range_type = t;
			if (t == DE_ALIAS_START) {
				range_alias = ld16(p, 5);
				fw_field(it, "alias", range_alias);
			}
			if (t == DE_EXT_START)
				fw_field(it, "ext_data", ld32(p, 4));
			break;
		case DE_END:
			if (!in_range) {
				fw_diag(c, UIOMMU_FW_WARN, off, "range end 0x%04x without a range start",
					devid);
				break;
			}
			in_range = false;
			if (devid < range_start) {
				fw_diag(c, UIOMMU_FW_WARN, off,
					"range 0x%04x-0x%04x ends before it starts; ignored",
					range_start, devid);
				break;
			}
			emit_pci(c, unit, seg, range_off, range_start, devid, range_dte,
				 range_type == DE_ALIAS_START, range_alias);
			break;
		case DE_SPECIAL: {
			uint8_t handle = ld8(p, 4), variety = ld8(p, 7);
			uint16_t src = ld16(p, 5);

			fw_field(it, "handle", handle);
			fw_field(it, "source_devid", src);
			fw_field_str(it, "variety", "%s",
				     variety == SPECIAL_IOAPIC ? "ioapic" :
				     variety == SPECIAL_HPET   ? "hpet" :
								 "unknown");
			if (variety != SPECIAL_IOAPIC && variety != SPECIAL_HPET) {
				fw_diag(c, UIOMMU_FW_WARN, off,
					"special device entry of unknown variety %u ignored", variety);
				break;
			}
			if (unit >= 0) {
				struct uiommu_fw_devmap *d = fw_add_dev(
					c, unit,
					variety == SPECIAL_IOAPIC ? UIOMMU_FW_DEV_IOAPIC :
								    UIOMMU_FW_DEV_HPET,
					off);

				if (d) {
					d->segment = seg;
					d->first = d->last = src;
					d->id_base = src;
					d->enum_id = handle;
					d->dte = ld8(p, 3);
				}
			}
			break;
		}
		case DE_ACPI_HID: {
			char hid[9], cid[9], uid[32] = "";
			uint8_t ufmt = ld8(p, 20), ulen = ld8(p, 21);

			fw_printable(hid, sizeof(hid), p + 4, strnlen((const char *)p + 4, 8));
			fw_printable(cid, sizeof(cid), p + 12, strnlen((const char *)p + 12, 8));
			if (ufmt == 1 && ulen >= 8) /* integer UID */
				snprintf(uid, sizeof(uid), "%llu",
					 (unsigned long long)ld64(p, DE_HID_FIXED_LEN));
			else if (ufmt == 1 && ulen) { /* short integer */
				uint64_t v = 0;

				for (unsigned int i = ulen; i-- > 0;)
					v = v << 8 | p[DE_HID_FIXED_LEN + i];
				snprintf(uid, sizeof(uid), "%llu", (unsigned long long)v);
			} else if (ufmt == 2)
				fw_printable(uid, sizeof(uid), p + DE_HID_FIXED_LEN, ulen);
			else if (ufmt != 0)
				fw_diag(c, UIOMMU_FW_WARN, off, "ACPI HID entry: unknown UID format %u",
					ufmt);
			/* Strings in the table may be NUL padded. */
			fw_field_str(it, "hid", "%s", hid);
			fw_field_str(it, "cid", "%s", cid);
			fw_field(it, "uid_format", ufmt);
			fw_field_str(it, "uid", "%s", uid);
			if (unit >= 0) {
				struct uiommu_fw_devmap *d =
					fw_add_dev(c, unit, UIOMMU_FW_DEV_ACPI, off);

				if (d) {
					d->segment = seg;
					d->first = d->last = devid;
					d->id_base = devid;
					d->dte = ld8(p, 3);
					snprintf(d->name, sizeof(d->name), "%s:%s", hid, uid);
				}
			}
			break;
		}
		default:
			fw_diag(c, UIOMMU_FW_INFO, off,
				"unknown IVHD device entry type 0x%02x (length %u) skipped", t, elen);
			break;
		}
		off += elen;
	}
	if (in_range)
		fw_diag(c, UIOMMU_FW_WARN, range_off,
			"range start 0x%04x without a range end; ignored", range_start);
}

/* Header checks of an IVHD block; returns the header length or 0. */
static uint32_t ivhd_hdr_len(struct fw_ctx *c, uint32_t off, uint8_t type, uint16_t slen)
{
	uint32_t hl = type == IVHD_10 ? IVHD10_LEN : IVHD11_LEN;

	if (slen < hl) {
		fw_diag(c, UIOMMU_FW_ERROR, off,
			"IVHD type 0x%02x length %u shorter than its header %u; block ignored", type,
			slen, hl);
		return 0;
	}
	return hl;
}

/* First pass: one unit per IOMMU, the richest IVHD block wins. */
static void ivhd_merge(struct fw_ctx *c, uint32_t off, uint8_t type, size_t unit0,
		       uint32_t *best_off, size_t nbest)
{
	uint16_t devid = ld16(c->b, off + 4), seg = ld16(c->b, off + 16);
	uint64_t base = ld64(c->b, off + 8);
	struct uiommu_fw_unit *u = NULL;
	size_t i;

	for (i = unit0; i < c->topo->nunits; i++) {
		struct uiommu_fw_unit *o = &c->topo->units[i];

		if (o->segment == seg && o->amd.devid == devid && o->base == base) {
			u = o;
			break;
		}
	}
	if (!u) {
		if (c->topo->nunits - unit0 >= nbest)
			return;
		u = fw_add_unit(c);
		if (!u)
			return;
		u->family = UIOMMU_FAMILY_AMDVI;
		u->base = base;
		u->size = 0x80000; /* 512 KiB register window */
		u->segment = seg;
		u->amd.devid = devid;
		u->offset = off;
		if (base == 0) {
			u->flags |= UIOMMU_FW_UNIT_BAD_BASE;
			fw_diag(c, UIOMMU_FW_WARN, off + 8,
				"IVHD (devid 0x%04x) register base is 0 (firmware bug); unit unusable",
				devid);
		}
	} else if (u->amd.types && type_rank(type) <= type_rank(u->amd.best_type)) {
		u->amd.types |= (uint8_t)(1u << type_rank(type));
		if (type_rank(type) == type_rank(u->amd.best_type))
			fw_diag(c, UIOMMU_FW_WARN, off,
				"second IVHD of type 0x%02x for the IOMMU at 0x%llx; the first one is used",
				type, (unsigned long long)base);
		return;
	}
	u->amd.types |= (uint8_t)(1u << type_rank(type));
	u->amd.best_type = type;
	u->amd.cap_offset = ld16(c->b, off + 6);
	u->amd.info = ld16(c->b, off + 18);
	u->amd.attr = ld32(c->b, off + 20);
	u->fw_flags = ld8(c->b, off + 1);
	if (type != IVHD_10) {
		u->amd.efr = ld64(c->b, off + 24);
		u->amd.efr2 = ld64(c->b, off + 32);
	}
	best_off[u - c->topo->units - unit0] = off;
}

static void ivmd(struct fw_ctx *c, uint32_t off, uint8_t type, uint8_t flags,
		 struct uiommu_fw_item *it)
{
	uint16_t devid = ld16(c->b, off + 4), aux = ld16(c->b, off + 6);
	uint64_t start = ld64(c->b, off + 16), mlen = ld64(c->b, off + 24);
	struct uiommu_fw_resv *r;

	fw_field(it, "flags", flags);
	fw_field(it, "unity", FIELD_GET(IVMD_F_UNITY, flags));
	fw_field(it, "read", FIELD_GET(IVMD_F_IR, flags));
	fw_field(it, "write", FIELD_GET(IVMD_F_IW, flags));
	fw_field(it, "exclusion", FIELD_GET(IVMD_F_EXCL, flags));
	fw_field(it, "devid", devid);
	if (type == IVMD_RANGE)
		fw_field(it, "devid_end", aux);
	fw_field(it, "start", start);
	fw_field(it, "length", mlen);
	if (type == IVMD_RANGE && aux < devid) {
		fw_diag(c, UIOMMU_FW_ERROR, off, "IVMD device range 0x%04x-0x%04x is reversed; ignored",
			devid, aux);
		return;
	}
	if (mlen == 0)
		fw_diag(c, UIOMMU_FW_WARN, off, "IVMD with zero length at 0x%llx",
			(unsigned long long)start);
	else if (!IS_ALIGNED_ULL(start, 4096) || !IS_ALIGNED_ULL(mlen, 4096))
		fw_diag(c, UIOMMU_FW_WARN, off,
			"IVMD 0x%llx+0x%llx is not page granular; rounded out to 4 KiB pages",
			(unsigned long long)start, (unsigned long long)mlen);
	if (mlen && start + mlen - 1 < start)
		fw_diag(c, UIOMMU_FW_WARN, off, "IVMD 0x%llx+0x%llx wraps around", (unsigned long long)start,
			(unsigned long long)mlen);
	if (!(flags & 0xf))
		fw_diag(c, UIOMMU_FW_WARN, off, "IVMD with no unity/exclusion flag set");
	r = fw_add_resv(c, UIOMMU_FW_RESV_IVMD, off);
	if (!r)
		return;
	r->base = start;
	r->length = mlen;
	r->flags = flags;
	r->all = type == IVMD_ALL;
	r->first = type == IVMD_ALL ? 0 : devid;
	r->last = type == IVMD_ALL ? 0xffff : type == IVMD_RANGE ? aux : devid;
	if (r->all)
		snprintf(r->devices, sizeof(r->devices), "all");
	else
		snprintf(r->devices, sizeof(r->devices), "%02x:%02x.%x-%02x:%02x.%x", r->first >> 8,
			 (r->first >> 3) & 0x1f, r->first & 7, r->last >> 8, (r->last >> 3) & 0x1f,
			 r->last & 7);
}

/* A PCI device entry of this table, for the overlap check. */
struct ovl {
	uint32_t seg_first; /* segment << 16 | first requester ID */
	uint32_t idx;	    /* index in topo->devs: table order */
};

static int ovl_cmp(const void *a, const void *b)
{
	const struct ovl *x = a, *y = b;

	if (x->seg_first != y->seg_first)
		return x->seg_first < y->seg_first ? -1 : 1;
	return x->idx < y->idx ? -1 : 1;
}

/*
 * Tell where the device entries of two IOMMUs name the same requester IDs
 * (uiommu_fw_lookup then goes by table order, as Linux: the later entry's
 * IOMMU serves them).  One sort of this table's PCI entries; at most four
 * diagnostics and a count.
 */
static void ivrs_overlaps(struct fw_ctx *c, size_t dev0)
{
	struct uiommu_fw_topo *topo = c->topo;
	size_t n = 0, shown = 0, total = 0;
	struct ovl *v;

	for (size_t i = dev0; i < topo->ndevs; i++)
		n += topo->devs[i].kind == UIOMMU_FW_DEV_PCI;
	if (n < 2)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return; /* a diagnostic only */
	n = 0;
	for (size_t i = dev0; i < topo->ndevs; i++)
		if (topo->devs[i].kind == UIOMMU_FW_DEV_PCI)
			v[n++] = (struct ovl){(uint32_t)topo->devs[i].segment << 16 |
						      topo->devs[i].first,
					      (uint32_t)i};
	qsort(v, n, sizeof(*v), ovl_cmp);
	/* The entry reaching furthest so far, against each next one. */
	for (size_t k = 1, far = 0; k < n; k++) {
		const struct uiommu_fw_devmap *a = &topo->devs[v[far].idx];
		const struct uiommu_fw_devmap *b = &topo->devs[v[k].idx];

		if (a->segment == b->segment && b->first <= a->last && a->unit != b->unit) {
			const struct uiommu_fw_devmap *later = v[far].idx > v[k].idx ? a : b;
			uint16_t hi = a->last < b->last ? a->last : b->last;

			total++;
			if (shown++ < 4)
				fw_diag(c, UIOMMU_FW_INFO, later->offset,
					"requester IDs 0x%04x-0x%04x: entries of IOMMUs 0x%llx and 0x%llx overlap; as in Linux the later one (0x%llx) serves them",
					b->first, hi, (unsigned long long)topo->units[a->unit].base,
					(unsigned long long)topo->units[b->unit].base,
					(unsigned long long)topo->units[later->unit].base);
		}
		if (a->segment != b->segment || b->last > a->last)
			far = k;
	}
	if (total > 4)
		fw_diag(c, UIOMMU_FW_INFO, 0,
			"%zu more overlaps of two IOMMUs' device entries not listed", total - 4);
	free(v);
}

int uiommu_fw_parse_ivrs(struct uiommu_fw_topo *topo, const void *buf, size_t len)
{
	struct uiommu_fw_item *it;
	struct fw_ctx c;
	uint32_t ivinfo, off, *best_off;
	size_t unit0, dev0, nbest;
	int ret;

	ret = fw_begin(&c, topo, buf, len, "IVRS", IVRS_FIXED_LEN);
	if (ret)
		return ret;
	ivinfo = ld32(c.b, IVRS_IVINFO);
	topo->tables[c.table].info = ivinfo;
	it = &topo->items[topo->nitems - 1];
	fw_field(it, "ivinfo", ivinfo);
	fw_field(it, "efr_sup", FIELD_GET(IVINFO_EFRSUP, ivinfo));
	fw_field(it, "dma_guard_opt_in", FIELD_GET(IVINFO_DMA_GUARD, ivinfo));
	fw_field(it, "gva_size", FIELD_GET(IVINFO_GVA_SIZE, ivinfo));
	fw_field(it, "pa_size", FIELD_GET(IVINFO_PA_SIZE, ivinfo));
	fw_field(it, "va_size", FIELD_GET(IVINFO_VA_SIZE, ivinfo));
	fw_field(it, "ht_ats_reserved", FIELD_GET(IVINFO_HT_ATS_RESV, ivinfo));

	/* At most one unit per 24 bytes of table. */
	nbest = c.len / IVHD10_LEN + 1;
	best_off = calloc(nbest, sizeof(*best_off));
	if (!best_off) {
		topo->oom = true;
		return -ENOMEM;
	}
	unit0 = topo->nunits;
	dev0 = topo->ndevs;

	/* Pass 1: IOMMUs. */
	for (off = IVRS_FIXED_LEN; fw_in(off, 4, c.len);) {
		uint8_t type = ld8(c.b, off);
		uint16_t slen = ld16(c.b, off + 2);

		if (slen < 4 || !fw_in(off, slen, c.len))
			break;
		if ((type == IVHD_10 || type == IVHD_11 || type == IVHD_40) && slen >= IVHD10_LEN &&
		    (type == IVHD_10 || slen >= IVHD11_LEN))
			ivhd_merge(&c, off, type, unit0, best_off, nbest);
		off += slen;
	}

	/* Pass 2: everything, in table order. */
	for (off = IVRS_FIXED_LEN; off < c.len && !topo->oom;) {
		uint8_t type, flags;
		uint16_t slen;
		uint32_t hl;
		int unit = -1;

		if (!fw_in(off, 4, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"%u trailing bytes too short for a subtable header", c.len - off);
			break;
		}
		type = ld8(c.b, off);
		flags = ld8(c.b, off + 1);
		slen = ld16(c.b, off + 2);
		if (slen < 4 || !fw_in(off, slen, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"subtable type 0x%02x: length %u invalid (%u bytes left); rest of table ignored",
				type, slen, c.len - off);
			break;
		}
		switch (type) {
		case IVHD_10:
		case IVHD_11:
		case IVHD_40:
			it = fw_add_item(&c, 1, off, slen, type, "IVHD");
			hl = ivhd_hdr_len(&c, off, type, slen);
			if (!hl)
				break;
			fw_field(it, "flags", flags);
			fw_field(it, "devid", ld16(c.b, off + 4));
			fw_field(it, "capability_offset", ld16(c.b, off + 6));
			fw_field(it, "base", ld64(c.b, off + 8));
			fw_field(it, "segment", ld16(c.b, off + 16));
			fw_field(it, "info", ld16(c.b, off + 18));
			fw_field(it, type == IVHD_10 ? "feature_reporting" : "attributes",
				 ld32(c.b, off + 20));
			if (type != IVHD_10) {
				fw_field(it, "efr", ld64(c.b, off + 24));
				fw_field(it, "efr2", ld64(c.b, off + 32));
			}
			for (size_t i = unit0; i < topo->nunits; i++)
				if (best_off[i - unit0] == off)
					unit = (int)i;
			ivhd_entries(&c, off + hl, off + slen, ld16(c.b, off + 16), unit);
			break;
		case IVMD_ALL:
		case IVMD_SELECT:
		case IVMD_RANGE:
			it = fw_add_item(&c, 1, off, slen, type, "IVMD");
			if (slen < IVMD_LEN) {
				fw_diag(&c, UIOMMU_FW_ERROR, off,
					"IVMD length %u shorter than %u; ignored", slen, IVMD_LEN);
				break;
			}
			ivmd(&c, off, type, flags, it);
			break;
		default:
			fw_add_item(&c, 1, off, slen, type, "unknown");
			fw_diag(&c, UIOMMU_FW_WARN, off,
				"unknown IVRS subtable type 0x%02x (length %u) skipped", type, slen);
			break;
		}
		off += slen;
	}
	free(best_off);
	if (!topo->oom)
		ivrs_overlaps(&c, dev0);
	for (size_t i = unit0; i < topo->nunits; i++) {
		const struct uiommu_fw_unit *u = &topo->units[i];
		bool ioapic = false;

		for (size_t j = 0; j < topo->ndevs; j++)
			if (topo->devs[j].unit == (int)i && topo->devs[j].kind == UIOMMU_FW_DEV_IOAPIC)
				ioapic = true;
		if (!ioapic)
			fw_diag(&c, UIOMMU_FW_WARN, u->offset,
				"IOMMU 0x%llx lists no IOAPIC in its special entries; interrupt remapping cannot be used",
				(unsigned long long)u->base);
	}
	if (topo->nunits == unit0)
		fw_diag(&c, UIOMMU_FW_WARN, 0, "IVRS describes no IOMMU");
	return topo->oom ? -ENOMEM : 0;
}
