/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text and JSON renderings of a firmware topology, shared by `probe` and
 * `acpi decode`.  Addresses are hex strings in JSON (they exceed 2^53).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/bitfield.h"

static void bdf(char *s, size_t n, uint16_t seg, uint16_t rid)
{
	snprintf(s, n, "%04x:%02x:%02x.%x", seg, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
}

static json_t *hex(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%" PRIx64, v);
	return json_string(s);
}

/* AMD-Vi extended features (EFR image from the IVHD). */
static const struct {
	const char *name;
	uint64_t mask;
} efr_fields[] = {
	{"prefetch", BIT_ULL(0)}, {"ppr", BIT_ULL(1)},		 {"x2apic", BIT_ULL(2)},
	{"nx", BIT_ULL(3)},	  {"guest_translation", BIT_ULL(4)}, {"invalidate_all", BIT_ULL(6)},
	{"guest_apic", BIT_ULL(7)}, {"hw_error", BIT_ULL(8)},	 {"perf_counters", BIT_ULL(9)},
	{"host_levels", GENMASK_ULL(11, 10)}, {"guest_levels", GENMASK_ULL(13, 12)},
	{"pasid_max", GENMASK_ULL(36, 32)}, {"gio", BIT_ULL(48)}, {"snp", BIT_ULL(63)},
};

static const char *unit_flags(const struct uiommu_fw_unit *u, char *s, size_t n)
{
	snprintf(s, n, "%s%s%s", u->flags & UIOMMU_FW_UNIT_INCLUDE_ALL ? " include-all" : "",
		 u->flags & UIOMMU_FW_UNIT_ATS_ALL ? " ats-all-ports" : "",
		 u->flags & UIOMMU_FW_UNIT_BAD_BASE ? " UNUSABLE(bad-base)" : "");
	return s;
}

json_t *fw_json_unit(const struct uiommu_fw_topo *t, size_t i)
{
	const struct uiommu_fw_unit *u = &t->units[i];
	json_t *o = json_object();

	json_object_set_new(o, "index", json_integer((json_int_t)i));
	json_object_set_new(o, "family", json_string(uiommu_fw_family_name(u->family)));
	json_object_set_new(o, "base", hex(u->base));
	json_object_set_new(o, "size", hex(u->size));
	json_object_set_new(o, "segment", json_integer(u->segment));
	json_object_set_new(o, "proximity_domain",
			    u->proximity < 0 ? json_null() : json_integer(u->proximity));
	json_object_set_new(o, "usable", json_boolean(!(u->flags & UIOMMU_FW_UNIT_BAD_BASE)));
	json_object_set_new(o, "include_all", json_boolean(u->flags & UIOMMU_FW_UNIT_INCLUDE_ALL));
	json_object_set_new(o, "firmware_flags", hex(u->fw_flags));
	json_object_set_new(o, "table_offset", json_integer(u->offset));
	if (u->family == UIOMMU_FAMILY_VTD) {
		json_object_set_new(o, "ats_all_ports", json_boolean(u->flags & UIOMMU_FW_UNIT_ATS_ALL));
	} else if (u->family == UIOMMU_FAMILY_AMDVI) {
		json_t *ivhd = json_array(), *efr = json_object();
		char s[16];

		for (int k = 0; k < 3; k++)
			if (u->amd.types & (1u << k))
				json_array_append_new(ivhd, json_string(k == 0 ? "0x10" :
								       k == 1 ? "0x11" : "0x40"));
		json_object_set_new(o, "ivhd_types", ivhd);
		snprintf(s, sizeof(s), "0x%02x", u->amd.best_type);
		json_object_set_new(o, "devices_from_ivhd", json_string(s));
		bdf(s, sizeof(s), u->segment, u->amd.devid);
		json_object_set_new(o, "iommu_device", json_string(s));
		json_object_set_new(o, "capability_offset", hex(u->amd.cap_offset));
		json_object_set_new(o, "info", hex(u->amd.info));
		json_object_set_new(o, "attributes", hex(u->amd.attr));
		json_object_set_new(o, "efr", hex(u->amd.efr));
		json_object_set_new(o, "efr2", hex(u->amd.efr2));
		for (size_t k = 0; k < ARRAY_SIZE(efr_fields) && u->amd.efr; k++)
			json_object_set_new(efr, efr_fields[k].name,
					    json_integer((json_int_t)FIELD_GET(efr_fields[k].mask,
									       u->amd.efr)));
		json_object_set_new(o, "efr_decoded", efr);
	} else {
		json_object_set_new(o, "model", json_integer(u->smmu.model));
		json_object_set_new(o, "coherent", json_boolean(u->fw_flags & 1));
		json_object_set_new(o, "gsiv_event", json_integer(u->smmu.gsiv_event));
		json_object_set_new(o, "gsiv_pri", json_integer(u->smmu.gsiv_pri));
		json_object_set_new(o, "gsiv_gerr", json_integer(u->smmu.gsiv_gerr));
		json_object_set_new(o, "gsiv_sync", json_integer(u->smmu.gsiv_sync));
	}
	return o;
}

static json_t *json_dev(const struct uiommu_fw_devmap *d)
{
	json_t *o = json_object();
	char s[24];

	json_object_set_new(o, "unit", json_integer(d->unit));
	json_object_set_new(o, "kind", json_string(uiommu_fw_devkind_name(d->kind)));
	json_object_set_new(o, "segment", json_integer(d->segment));
	bdf(s, sizeof(s), d->segment, d->first);
	json_object_set_new(o, "first", json_string(s));
	bdf(s, sizeof(s), d->segment, d->last);
	json_object_set_new(o, "last", json_string(s));
	json_object_set_new(o, "id", hex(d->id_base));
	json_object_set_new(o, "id_fixed", json_boolean(d->flags & (UIOMMU_FW_DEV_ALIAS |
								    UIOMMU_FW_DEV_SINGLE)));
	json_object_set_new(o, "resolved", json_boolean(!(d->flags & UIOMMU_FW_DEV_UNRESOLVED)));
	if (d->kind == UIOMMU_FW_DEV_IOAPIC || d->kind == UIOMMU_FW_DEV_HPET ||
	    d->kind == UIOMMU_FW_DEV_ACPI)
		json_object_set_new(o, "enumeration_id", json_integer(d->enum_id));
	if (d->kind == UIOMMU_FW_DEV_BRIDGE && d->bus_last) {
		json_object_set_new(o, "bus_first", json_integer(d->bus_first));
		json_object_set_new(o, "bus_last", json_integer(d->bus_last));
	}
	if (d->name[0])
		json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "table_offset", json_integer(d->offset));
	return o;
}

static json_t *json_resv(const struct uiommu_fw_resv *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "source", json_string(uiommu_fw_resv_source_name(r->source)));
	json_object_set_new(o, "base", hex(r->base));
	json_object_set_new(o, "length", hex(r->length));
	json_object_set_new(o, "segment", json_integer(r->segment));
	json_object_set_new(o, "all_devices", json_boolean(r->all));
	json_object_set_new(o, "devices", json_string(r->devices));
	json_object_set_new(o, "unit", r->unit < 0 ? json_null() : json_integer(r->unit));
	json_object_set_new(o, "flags", hex(r->flags));
	json_object_set_new(o, "table_offset", json_integer(r->offset));
	return o;
}

json_t *fw_json_diags(const struct uiommu_fw_topo *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->ndiags; i++) {
		const struct uiommu_fw_diag *d = &t->diags[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s}", "severity",
						   uiommu_fw_severity_name(d->severity), "table",
						   d->table, "offset", (json_int_t)d->offset,
						   "message", d->msg));
	}
	return a;
}

json_t *fw_json_topo(const struct uiommu_fw_topo *t)
{
	json_t *o = json_object(), *a;

	a = json_array();
	for (size_t i = 0; i < t->ntables; i++) {
		const struct uiommu_fw_table *tb = &t->tables[i];
		json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}", "signature", tb->signature,
				      "oem_id", tb->oem_id, "oem_table_id", tb->oem_table_id,
				      "revision", (json_int_t)tb->revision, "length",
				      (json_int_t)tb->length, "checksum_ok", tb->checksum_ok);

		if (!strcmp(tb->signature, "DMAR")) {
			json_object_set_new(j, "host_address_width", json_integer(tb->info));
			json_object_set_new(j, "flags", hex(tb->flags));
		} else if (!strcmp(tb->signature, "IVRS")) {
			json_object_set_new(j, "ivinfo", hex(tb->info));
		} else {
			json_object_set_new(j, "node_count", json_integer(tb->info));
		}
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "tables", a);
	a = json_array();
	for (size_t i = 0; i < t->nunits; i++)
		json_array_append_new(a, fw_json_unit(t, i));
	json_object_set_new(o, "units", a);
	a = json_array();
	for (size_t i = 0; i < t->ndevs; i++)
		json_array_append_new(a, json_dev(&t->devs[i]));
	json_object_set_new(o, "devices", a);
	a = json_array();
	for (size_t i = 0; i < t->nresv; i++)
		json_array_append_new(a, json_resv(&t->resv[i]));
	json_object_set_new(o, "reserved", a);
	json_object_set_new(o, "diagnostics", fw_json_diags(t));
	return o;
}

json_t *fw_json_items(const struct uiommu_fw_topo *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->nitems; i++) {
		const struct uiommu_fw_item *it = &t->items[i];
		json_t *f = json_object();

		for (unsigned int k = 0; k < it->nfields; k++) {
			const struct uiommu_fw_field *fl = &it->fields[k];

			json_object_set_new(f, fl->name,
					    fl->str[0] ? json_string(fl->str) :
							 json_integer((json_int_t)fl->value));
		}
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:o}", "table",
						   it->table, "depth", (json_int_t)it->depth,
						   "offset", (json_int_t)it->offset, "length",
						   (json_int_t)it->length, "type",
						   (json_int_t)it->type, "kind", it->kind,
						   "fields", f));
	}
	return a;
}

void fw_print_diags(FILE *f, const struct uiommu_fw_topo *t)
{
	for (size_t i = 0; i < t->ndiags; i++) {
		const struct uiommu_fw_diag *d = &t->diags[i];

		fprintf(f, "%s: %s+0x%x: %s\n", uiommu_fw_severity_name(d->severity), d->table,
			d->offset, d->msg);
	}
}

void fw_print_topo(FILE *f, const struct uiommu_fw_topo *t)
{
	char s[64], s2[24];

	for (size_t i = 0; i < t->ntables; i++) {
		const struct uiommu_fw_table *tb = &t->tables[i];

		fprintf(f, "table %s rev %u len %u oem \"%s\" \"%s\"%s", tb->signature, tb->revision,
			tb->length, tb->oem_id, tb->oem_table_id,
			tb->checksum_ok ? "" : " CHECKSUM-BAD");
		if (!strcmp(tb->signature, "DMAR"))
			fprintf(f, " haw %u flags 0x%x%s%s%s\n", tb->info, tb->flags,
				tb->flags & UIOMMU_FW_DMAR_INTR_REMAP ? " intr-remap" : "",
				tb->flags & UIOMMU_FW_DMAR_X2APIC_OPT_OUT ? " x2apic-opt-out" : "",
				tb->flags & UIOMMU_FW_DMAR_DMA_CTRL_PLATFORM_OPT_IN ?
					" dma-ctrl-platform-opt-in" : "");
		else if (!strcmp(tb->signature, "IVRS"))
			fprintf(f, " ivinfo 0x%x\n", tb->info);
		else
			fprintf(f, " nodes %u\n", tb->info);
	}
	fprintf(f, "units: %zu\n", t->nunits);
	for (size_t i = 0; i < t->nunits; i++) {
		const struct uiommu_fw_unit *u = &t->units[i];

		fprintf(f, "  unit %zu: %s base 0x%" PRIx64 " size 0x%" PRIx64 " segment %u", i,
			uiommu_fw_family_name(u->family), u->base, u->size, u->segment);
		if (u->proximity >= 0)
			fprintf(f, " proximity %d", u->proximity);
		fprintf(f, "%s\n", unit_flags(u, s, sizeof(s)));
		if (u->family == UIOMMU_FAMILY_AMDVI) {
			bdf(s2, sizeof(s2), u->segment, u->amd.devid);
			fprintf(f, "    iommu device %s cap 0x%x ivhd", s2, u->amd.cap_offset);
			for (int k = 0; k < 3; k++)
				if (u->amd.types & (1u << k))
					fprintf(f, " %s", k == 0 ? "10h" : k == 1 ? "11h" : "40h");
			fprintf(f, " (devices from %02xh) efr 0x%" PRIx64, u->amd.best_type,
				u->amd.efr);
			for (size_t k = 0; k < ARRAY_SIZE(efr_fields) && u->amd.efr; k++) {
				uint64_t v = FIELD_GET(efr_fields[k].mask, u->amd.efr);

				if (v && efr_fields[k].mask & (efr_fields[k].mask - 1))
					fprintf(f, " %s=%" PRIu64, efr_fields[k].name, v);
				else if (v)
					fprintf(f, " %s", efr_fields[k].name);
			}
			fputc('\n', f);
		} else if (u->family == UIOMMU_FAMILY_SMMUV3) {
			fprintf(f, "    model %u gsiv event %u pri %u gerr %u sync %u%s\n",
				u->smmu.model, u->smmu.gsiv_event, u->smmu.gsiv_pri,
				u->smmu.gsiv_gerr, u->smmu.gsiv_sync,
				u->fw_flags & 1 ? " coherent" : "");
		}
	}
	fprintf(f, "devices: %zu\n", t->ndevs);
	for (size_t i = 0; i < t->ndevs; i++) {
		const struct uiommu_fw_devmap *d = &t->devs[i];

		bdf(s, sizeof(s), d->segment, d->first);
		fprintf(f, "  %-7s %s", uiommu_fw_devkind_name(d->kind), s);
		if (d->last != d->first) {
			bdf(s, sizeof(s), d->segment, d->last);
			fprintf(f, "..%s", s + 5);
		}
		fprintf(f, " -> unit %d id 0x%x%s", d->unit, d->id_base,
			d->flags & (UIOMMU_FW_DEV_ALIAS | UIOMMU_FW_DEV_SINGLE) ? " (fixed)" :
			d->last != d->first ? "+" : "");
		if (d->kind == UIOMMU_FW_DEV_IOAPIC || d->kind == UIOMMU_FW_DEV_HPET)
			fprintf(f, " enum-id %u", d->enum_id);
		if (d->kind == UIOMMU_FW_DEV_BRIDGE && d->bus_last)
			fprintf(f, " buses %02x-%02x", d->bus_first, d->bus_last);
		if (d->name[0])
			fprintf(f, " [%s]", d->name);
		fprintf(f, "%s\n", d->flags & UIOMMU_FW_DEV_UNRESOLVED ? " (path unresolved)" : "");
	}
	fprintf(f, "reserved regions: %zu\n", t->nresv);
	for (size_t i = 0; i < t->nresv; i++) {
		const struct uiommu_fw_resv *r = &t->resv[i];

		fprintf(f, "  %s 0x%" PRIx64 "-0x%" PRIx64 " (0x%" PRIx64 " bytes) segment %u for %s",
			uiommu_fw_resv_source_name(r->source), r->base,
			r->length ? r->base + r->length - 1 : r->base, r->length, r->segment,
			r->devices);
		if (r->unit >= 0)
			fprintf(f, " on unit %d", r->unit);
		if (r->source != UIOMMU_FW_RESV_RMRR)
			fprintf(f, " flags 0x%x", r->flags);
		fputc('\n', f);
	}
}

void fw_print_items(FILE *f, const struct uiommu_fw_topo *t)
{
	for (size_t i = 0; i < t->nitems; i++) {
		const struct uiommu_fw_item *it = &t->items[i];

		fprintf(f, "%*s[%04x +%u] %s", 2 * it->depth, "", it->offset, it->length, it->kind);
		if (it->depth)
			fprintf(f, " (type 0x%x)", it->type);
		for (unsigned int k = 0; k < it->nfields; k++) {
			const struct uiommu_fw_field *fl = &it->fields[k];

			if (fl->str[0])
				fprintf(f, " %s=%s", fl->name, fl->str);
			else if (fl->value > 9)
				fprintf(f, " %s=0x%" PRIx64, fl->name, fl->value);
			else
				fprintf(f, " %s=%" PRIu64, fl->name, fl->value);
		}
		fputc('\n', f);
	}
}
