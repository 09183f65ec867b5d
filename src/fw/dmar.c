/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMAR (Intel VT-d spec 4.x, chapter 8): DRHD, RMRR, ATSR, RHSA, ANDD, SATC,
 * SIDP and their device scopes.  Pure memory code: every length is checked
 * against its parent before a byte is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitfield.h"
#include "fw/fw_internal.h"

/* Fixed part of the table. */
#define DMAR_HAW 36
#define DMAR_FLAGS 37
#define DMAR_FIXED_LEN 48u

/* Remapping structure types. */
enum {
	DMAR_DRHD = 0,
	DMAR_RMRR = 1,
	DMAR_ATSR = 2,
	DMAR_RHSA = 3,
	DMAR_ANDD = 4,
	DMAR_SATC = 5,
	DMAR_SIDP = 6,
};
/* Minimum lengths (fixed part before device scopes). */
#define DRHD_LEN 16u
#define RMRR_LEN 24u
#define ATSR_LEN 8u
#define RHSA_LEN 20u
#define ANDD_LEN 8u
#define SATC_LEN 8u
#define SIDP_LEN 8u

#define DRHD_F_INCLUDE_ALL BIT_ULL(0)
#define DRHD_SIZE GENMASK_ULL(3, 0) /* 2^N pages of 4 KiB */
#define ATSR_F_ALL_PORTS BIT_ULL(0)
#define SATC_F_ATC_REQUIRED BIT_ULL(0)

/* Device scope. */
#define SCOPE_HDR_LEN 6u
enum {
	SCOPE_ENDPOINT = 1,
	SCOPE_BRIDGE = 2,
	SCOPE_IOAPIC = 3,
	SCOPE_HPET = 4,
	SCOPE_ACPI = 5,
};

static const char *const scope_names[] = {
	"reserved", "endpoint", "bridge", "ioapic", "hpet", "acpi-namespace",
};

/* What a scope resolved to. */
struct scope {
	uint8_t type;
	uint8_t enum_id;
	bool resolved;
	uint16_t rid;
	uint8_t sec, sub; /* bridge: bus range below it, when resolved */
	bool bus_range;
	char text[48];
};

/*
 * Walk the PCI path: every element but the last is a bridge whose secondary
 * bus holds the next element.  Without a resolver only one-element paths
 * resolve.
 */
static void resolve_path(struct fw_ctx *c, uint16_t seg, const uint8_t *p, unsigned int n,
			 uint8_t start_bus, struct scope *s)
{
	struct uiommu_fw_topo *t = c->topo;
	uint8_t bus = start_bus, sec, sub;
	size_t pos;

	pos = (size_t)snprintf(s->text, sizeof(s->text), "%02x:", start_bus);
	s->resolved = true;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t dev = p[2 * i], fn = p[2 * i + 1];

		if (pos < sizeof(s->text))
			pos += (size_t)snprintf(s->text + pos, sizeof(s->text) - pos, "%s%02x.%x",
						i ? "/" : "", dev & 0x1f, fn & 7);
		if (i + 1 == n)
			break;
		if (!t->resolver || t->resolver(t->resolver_ctx, seg, bus, dev, fn, &sec, &sub) < 0) {
			s->resolved = false;
			continue;
		}
		bus = sec;
	}
	if (n)
		s->rid = PCI_RID(bus, p[2 * (n - 1)], p[2 * (n - 1) + 1]);
	if (s->resolved && n > 1)
		snprintf(s->text, sizeof(s->text), "%02x:%02x.%x", bus, (s->rid >> 3) & 0x1f,
			 s->rid & 7);
	if (s->resolved && s->type == SCOPE_BRIDGE && t->resolver &&
	    t->resolver(t->resolver_ctx, seg, bus, p[2 * (n - 1)], p[2 * (n - 1) + 1], &sec,
			&sub) == 0) {
		s->sec = sec;
		s->sub = sub;
		s->bus_range = true;
	}
}

/*
 * Parse the device scopes in [off, end).  @fn is called for every scope that
 * is well formed.  Returns the number of scopes seen.
 */
typedef void (*scope_fn)(struct fw_ctx *c, void *arg, const struct scope *s, uint32_t off);

static unsigned int parse_scopes(struct fw_ctx *c, uint32_t off, uint32_t end, uint16_t seg,
				 scope_fn fn, void *arg)
{
	unsigned int count = 0;

	while (off < end) {
		struct uiommu_fw_item *it;
		struct scope s;
		uint8_t slen;
		unsigned int npath;

		if (!fw_in(off, SCOPE_HDR_LEN, end)) {
			fw_diag(c, UIOMMU_FW_ERROR, off,
				"device scope truncated: %u bytes left, header needs %u",
				end - off, SCOPE_HDR_LEN);
			break;
		}
		memset(&s, 0, sizeof(s));
		s.type = ld8(c->b, off);
		slen = ld8(c->b, off + 1);
		if (slen < SCOPE_HDR_LEN || !fw_in(off, slen, end)) {
			fw_diag(c, UIOMMU_FW_ERROR, off,
				"device scope length %u invalid (min %u, %u bytes left)", slen,
				SCOPE_HDR_LEN, end - off);
			break;
		}
		count++;
		s.enum_id = ld8(c->b, off + 4);
		npath = (slen - SCOPE_HDR_LEN) / 2;
		if ((slen - SCOPE_HDR_LEN) & 1)
			fw_diag(c, UIOMMU_FW_WARN, off, "device scope length %u leaves half a path entry",
				slen);
		it = fw_add_item(c, 2, off, slen, s.type, "device-scope");
		fw_field_str(it, "scope_type", "%s",
			     s.type < ARRAY_SIZE(scope_names) ? scope_names[s.type] : "unknown");
		fw_field(it, "enumeration_id", s.enum_id);
		fw_field(it, "start_bus", ld8(c->b, off + 5));
		if (s.type == 0 || s.type > SCOPE_ACPI) {
			fw_diag(c, UIOMMU_FW_WARN, off, "unknown device scope type %u, skipped", s.type);
		} else if (npath == 0) {
			fw_diag(c, UIOMMU_FW_ERROR, off, "device scope (%s) without a PCI path, ignored",
				scope_names[s.type]);
		} else {
			resolve_path(c, seg, c->b + off + SCOPE_HDR_LEN, npath, ld8(c->b, off + 5), &s);
			fw_field_str(it, "path", "%s", s.text);
			if (s.resolved)
				fw_field_str(it, "device", "%04x:%02x:%02x.%x", seg, s.rid >> 8,
					     (s.rid >> 3) & 0x1f, s.rid & 7);
			else if (c->unresolved++ == 0)
				fw_diag(c, UIOMMU_FW_INFO, off,
					"device scope path %s goes through a bridge: its bus is unknown without PCI access (more may follow; see devices marked unresolved)",
					s.text);
			if (fn)
				fn(c, arg, &s, off);
		}
		off += slen;
	}
	return count;
}

/* DRHD scope: the unit serves this device. */
static void drhd_scope(struct fw_ctx *c, void *arg, const struct scope *s, uint32_t off)
{
	const struct uiommu_fw_unit *u = arg;
	int unit = (int)(u - c->topo->units);
	static const enum uiommu_fw_devkind kinds[] = {
		UIOMMU_FW_DEV_PCI,    UIOMMU_FW_DEV_PCI,  UIOMMU_FW_DEV_BRIDGE,
		UIOMMU_FW_DEV_IOAPIC, UIOMMU_FW_DEV_HPET, UIOMMU_FW_DEV_ACPI,
	};
	struct uiommu_fw_devmap *d = fw_add_dev(c, unit, kinds[s->type], off);

	if (!d)
		return;
	d->segment = u->segment;
	d->first = d->last = s->rid;
	d->id_base = s->rid;
	d->enum_id = s->enum_id;
	if (!s->resolved)
		d->flags |= UIOMMU_FW_DEV_UNRESOLVED;
	if (s->bus_range) {
		d->bus_first = s->sec;
		d->bus_last = s->sub;
	}
	snprintf(d->name, sizeof(d->name), "%s", s->text);
}

/* RMRR scope: one reserved region entry per device. */
struct rmrr_arg {
	uint16_t seg;
	uint64_t base, len;
	uint32_t off;
	unsigned int n;
};

static void rmrr_scope(struct fw_ctx *c, void *arg, const struct scope *s, uint32_t off)
{
	struct rmrr_arg *a = arg;
	struct uiommu_fw_resv *r = fw_add_resv(c, UIOMMU_FW_RESV_RMRR, a->off);

	(void)off;
	if (!r)
		return;
	r->base = a->base;
	r->length = a->len;
	r->segment = a->seg;
	r->first = r->last = s->rid;
	snprintf(r->devices, sizeof(r->devices), "%s%s", s->text, s->resolved ? "" : " (unresolved)");
	a->n++;
}

static struct uiommu_fw_unit *drhd(struct fw_ctx *c, uint32_t off, uint32_t len,
				   struct uiommu_fw_item *it)
{
	uint8_t flags = ld8(c->b, off + 4), size = ld8(c->b, off + 5);
	uint16_t seg = ld16(c->b, off + 6);
	uint64_t base = ld64(c->b, off + 8);
	struct uiommu_fw_unit *u;
	int idx;

	fw_field(it, "flags", flags);
	fw_field(it, "include_pci_all", FIELD_GET(DRHD_F_INCLUDE_ALL, flags));
	fw_field(it, "size_pages_log2", FIELD_GET(DRHD_SIZE, size));
	fw_field(it, "segment", seg);
	fw_field(it, "register_base", base);
	u = fw_add_unit(c);
	if (!u)
		return NULL;
	u->family = UIOMMU_FAMILY_VTD;
	u->base = base;
	u->size = 4096ull << FIELD_GET(DRHD_SIZE, size);
	u->segment = seg;
	u->offset = off;
	u->fw_flags = flags;
	if (FIELD_GET(DRHD_F_INCLUDE_ALL, flags))
		u->flags |= UIOMMU_FW_UNIT_INCLUDE_ALL;
	if (base == 0) {
		u->flags |= UIOMMU_FW_UNIT_BAD_BASE;
		fw_diag(c, UIOMMU_FW_WARN, off + 8,
			"DRHD register base is 0 (firmware bug); unit unusable");
	} else if (!IS_ALIGNED_ULL(base, 4096)) {
		u->flags |= UIOMMU_FW_UNIT_BAD_BASE;
		fw_diag(c, UIOMMU_FW_WARN, off + 8,
			"DRHD register base 0x%llx is not 4 KiB aligned; unit unusable",
			(unsigned long long)base);
	}
	idx = (int)(u - c->topo->units);
	for (int i = 0; i < idx; i++) {
		const struct uiommu_fw_unit *o = &c->topo->units[i];

		if (o->family != UIOMMU_FAMILY_VTD || o->segment != seg)
			continue;
		if (o->base == base && base)
			fw_diag(c, UIOMMU_FW_WARN, off, "DRHD base 0x%llx listed twice",
				(unsigned long long)base);
		if ((o->flags & u->flags & UIOMMU_FW_UNIT_INCLUDE_ALL))
			fw_diag(c, UIOMMU_FW_WARN, off,
				"second INCLUDE_PCI_ALL DRHD on segment %u; the first one wins",
				seg);
	}
	if (u->flags & UIOMMU_FW_UNIT_INCLUDE_ALL) {
		struct uiommu_fw_devmap *d = fw_add_dev(c, idx, UIOMMU_FW_DEV_ALL, off);

		if (d) {
			d->segment = seg;
			d->first = 0;
			d->last = 0xffff;
			snprintf(d->name, sizeof(d->name), "INCLUDE_PCI_ALL");
		}
	}
	parse_scopes(c, off + DRHD_LEN, off + len, seg, drhd_scope, &c->topo->units[idx]);
	return &c->topo->units[idx];
}

static void rmrr(struct fw_ctx *c, uint32_t off, uint32_t len, struct uiommu_fw_item *it)
{
	struct rmrr_arg a = {
		.seg = ld16(c->b, off + 6),
		.base = ld64(c->b, off + 8),
		.off = off,
	};
	uint64_t limit = ld64(c->b, off + 16);

	fw_field(it, "segment", a.seg);
	fw_field(it, "base", a.base);
	fw_field(it, "limit", limit);
	if (limit < a.base) {
		fw_diag(c, UIOMMU_FW_ERROR, off,
			"RMRR limit 0x%llx below base 0x%llx; region ignored",
			(unsigned long long)limit, (unsigned long long)a.base);
		parse_scopes(c, off + RMRR_LEN, off + len, a.seg, NULL, NULL);
		return;
	}
	a.len = limit - a.base + 1;
	if (a.len == 0) /* 0 .. 2^64-1 */
		a.len = UINT64_MAX;
	if (a.base == 0 && limit == 0)
		fw_diag(c, UIOMMU_FW_WARN, off,
			"RMRR from 0x0 to 0x0 (BIOS bug: bad RMRR); kept as a 1-byte region, not usable for mapping");
	else if (!IS_ALIGNED_ULL(a.base, 4096) || !IS_ALIGNED_ULL(limit + 1, 4096))
		fw_diag(c, UIOMMU_FW_WARN, off,
			"RMRR 0x%llx-0x%llx is not 4 KiB granular; rounded out when mapped",
			(unsigned long long)a.base, (unsigned long long)limit);
	parse_scopes(c, off + RMRR_LEN, off + len, a.seg, rmrr_scope, &a);
	if (a.n == 0) {
		struct uiommu_fw_resv *r = fw_add_resv(c, UIOMMU_FW_RESV_RMRR, off);

		fw_diag(c, UIOMMU_FW_WARN, off, "RMRR 0x%llx-0x%llx has no device scope",
			(unsigned long long)a.base, (unsigned long long)limit);
		if (r) {
			r->base = a.base;
			r->length = a.len;
			r->segment = a.seg;
			snprintf(r->devices, sizeof(r->devices), "none");
		}
	}
}

/* Name of ANDD device @num, collected in a first pass. */
struct andd_names {
	char name[256][48];
};

static void fill_acpi_names(struct fw_ctx *c, size_t dev0, const struct andd_names *an)
{
	for (size_t i = dev0; i < c->topo->ndevs; i++) {
		struct uiommu_fw_devmap *d = &c->topo->devs[i];

		if (d->kind != UIOMMU_FW_DEV_ACPI)
			continue;
		if (an->name[d->enum_id][0]) {
			char path[24];

			snprintf(path, sizeof(path), "%.20s", d->name);
			snprintf(d->name, sizeof(d->name), "%.36s (%.20s)", an->name[d->enum_id],
				 path);
		}
		else
			fw_diag(c, UIOMMU_FW_WARN, d->offset,
				"ACPI namespace scope refers to ANDD %u which is not in the table",
				d->enum_id);
	}
}

static void rhsa_apply(struct fw_ctx *c, uint32_t off, uint64_t base, uint32_t pxm)
{
	for (size_t i = 0; i < c->topo->nunits; i++) {
		struct uiommu_fw_unit *u = &c->topo->units[i];

		if (u->family == UIOMMU_FAMILY_VTD && u->base == base && base) {
			u->proximity = (int32_t)pxm;
			return;
		}
	}
	fw_diag(c, UIOMMU_FW_WARN, off, "RHSA for base 0x%llx which no DRHD describes; ignored",
		(unsigned long long)base);
}

int uiommu_fw_parse_dmar(struct uiommu_fw_topo *topo, const void *buf, size_t len)
{
	static const char *const names[] = {"DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP"};
	static const uint32_t minlen[] = {DRHD_LEN, RMRR_LEN, ATSR_LEN, RHSA_LEN,
					  ANDD_LEN, SATC_LEN, SIDP_LEN};
	struct andd_names *an;
	struct uiommu_fw_item *it;
	struct fw_ctx c;
	size_t unit0, dev0;
	uint32_t off;
	uint8_t haw, flags;
	int ret;

	ret = fw_begin(&c, topo, buf, len, "DMAR", DMAR_FIXED_LEN);
	if (ret)
		return ret;
	an = calloc(1, sizeof(*an));
	if (!an) {
		topo->oom = true;
		return -ENOMEM;
	}
	unit0 = topo->nunits;
	dev0 = topo->ndevs;
	haw = (uint8_t)(ld8(c.b, DMAR_HAW) + 1);
	flags = ld8(c.b, DMAR_FLAGS);
	topo->tables[c.table].info = haw;
	topo->tables[c.table].flags = flags;
	it = &topo->items[topo->nitems - 1];
	fw_field(it, "host_address_width", haw);
	fw_field(it, "flags", flags);
	fw_field(it, "intr_remap", !!(flags & UIOMMU_FW_DMAR_INTR_REMAP));
	fw_field(it, "x2apic_opt_out", !!(flags & UIOMMU_FW_DMAR_X2APIC_OPT_OUT));
	fw_field(it, "dma_ctrl_platform_opt_in", !!(flags & UIOMMU_FW_DMAR_DMA_CTRL_PLATFORM_OPT_IN));
	if (haw < 32 || haw > 64)
		fw_diag(&c, UIOMMU_FW_WARN, DMAR_HAW, "host address width %u bits is implausible",
			haw);
	if ((flags & UIOMMU_FW_DMAR_X2APIC_OPT_OUT) && !(flags & UIOMMU_FW_DMAR_INTR_REMAP))
		fw_diag(&c, UIOMMU_FW_WARN, DMAR_FLAGS,
			"odd flags 0x%x: X2APIC_OPT_OUT without INTR_REMAP (meaningless)", flags);
	if ((flags & UIOMMU_FW_DMAR_DMA_CTRL_PLATFORM_OPT_IN) &&
	    !(flags & UIOMMU_FW_DMAR_INTR_REMAP))
		fw_diag(&c, UIOMMU_FW_INFO, DMAR_FLAGS,
			"odd flags 0x%x: DMA_CTRL_PLATFORM_OPT_IN without INTR_REMAP", flags);
	if (flags & ~7u)
		fw_diag(&c, UIOMMU_FW_INFO, DMAR_FLAGS, "reserved flag bits set: 0x%x", flags);

	for (off = DMAR_FIXED_LEN; off < c.len && !topo->oom;) {
		uint16_t type, slen;

		if (!fw_in(off, 4, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"%u trailing bytes too short for a remapping structure header",
				c.len - off);
			break;
		}
		type = ld16(c.b, off);
		slen = ld16(c.b, off + 2);
		if (slen < 4 || !fw_in(off, slen, c.len)) {
			fw_diag(&c, UIOMMU_FW_ERROR, off,
				"remapping structure type %u: length %u invalid (%u bytes left); rest of table ignored",
				type, slen, c.len - off);
			break;
		}
		it = fw_add_item(&c, 1, off, slen, type,
				 type < ARRAY_SIZE(names) ? names[type] : "unknown");
		if (type >= ARRAY_SIZE(names)) {
			fw_diag(&c, UIOMMU_FW_INFO, off,
				"unknown remapping structure type %u (length %u) skipped", type,
				slen);
			off += slen;
			continue;
		}
		if (slen < minlen[type]) {
			fw_diag(&c, UIOMMU_FW_ERROR, off, "%s length %u shorter than its fixed part %u",
				names[type], slen, minlen[type]);
			off += slen;
			continue;
		}
		switch (type) {
		case DMAR_DRHD:
			drhd(&c, off, slen, it);
			break;
		case DMAR_RMRR:
			rmrr(&c, off, slen, it);
			break;
		case DMAR_ATSR:
		case DMAR_SATC: {
			uint8_t f = ld8(c.b, off + 4);
			uint16_t seg = ld16(c.b, off + 6);

			fw_field(it, "flags", f);
			fw_field(it, type == DMAR_ATSR ? "all_ports" : "atc_required", f & 1);
			fw_field(it, "segment", seg);
			parse_scopes(&c, off + 8, off + slen, seg, NULL, NULL);
			break;
		}
		case DMAR_SIDP: {
			uint16_t seg = ld16(c.b, off + 6);

			fw_field(it, "segment", seg);
			parse_scopes(&c, off + 8, off + slen, seg, NULL, NULL);
			break;
		}
		case DMAR_RHSA:
			fw_field(it, "register_base", ld64(c.b, off + 8));
			fw_field(it, "proximity_domain", ld32(c.b, off + 16));
			break;
		case DMAR_ANDD: {
			uint8_t num = ld8(c.b, off + 7);
			const uint8_t *nm = c.b + off + 8;
			size_t max = slen - ANDD_LEN, n = 0;

			while (n < max && nm[n])
				n++;
			if (n == max)
				fw_diag(&c, UIOMMU_FW_WARN, off,
					"ANDD object name is not NUL terminated");
			fw_printable(an->name[num], sizeof(an->name[num]), nm, n);
			fw_field(it, "device_number", num);
			fw_field_str(it, "object_name", "%s", an->name[num]);
			break;
		}
		}
		off += slen;
	}
	/* Second look at what needs the whole table: RHSA, ANDD names, ATSR. */
	for (off = DMAR_FIXED_LEN; fw_in(off, 4, c.len);) {
		uint16_t type = ld16(c.b, off), slen = ld16(c.b, off + 2);

		if (slen < 4 || !fw_in(off, slen, c.len))
			break;
		if (type == DMAR_RHSA && slen >= RHSA_LEN)
			rhsa_apply(&c, off, ld64(c.b, off + 8), ld32(c.b, off + 16));
		if (type == DMAR_ATSR && slen >= ATSR_LEN && (ld8(c.b, off + 4) & ATSR_F_ALL_PORTS))
			for (size_t i = unit0; i < topo->nunits; i++)
				if (topo->units[i].segment == ld16(c.b, off + 6))
					topo->units[i].flags |= UIOMMU_FW_UNIT_ATS_ALL;
		off += slen;
	}
	fill_acpi_names(&c, dev0, an);
	free(an);
	if (topo->nunits == unit0)
		fw_diag(&c, UIOMMU_FW_WARN, 0, "DMAR describes no remapping hardware unit");
	return topo->oom ? -ENOMEM : 0;
}
