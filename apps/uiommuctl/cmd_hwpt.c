/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl hwpt list|show, and walk: "why did this DMA fault?".
 *
 * `walk DEVICE IOVA` follows what the IOMMU does for a request from that
 * device: is the RID (or PASID) attached, to which page table, is the IOVA
 * in a mapping of the IOAS, and then the table walk with every level's
 * entry decoded (uiommu_hwpt_walk).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WALK_MAX 8

static json_t *hwpt_json(struct uiommu_ctx *ctx, void *obj, bool full)
{
	struct uiommu_hwpt *h = obj;
	struct uiommu_hwpt_info hi;
	char nm[UIOMMU_NAME_MAX], b[32];
	json_t *o = json_object(), *inst = json_array();

	(void)full;
	uiommu_hwpt_get_info(h, &hi);
	json_object_set_new(o, "id", json_integer(hi.id));
	json_object_set_new(o, "name", json_string(cli_obj_name(ctx, hi.id, nm)));
	json_object_set_new(o, "kind", json_string(hi.nested ? "nested" : "paging"));
	json_object_set_new(o, "ioas", json_integer(hi.ioas_id));
	if (hi.nested)
		json_object_set_new(o, "parent", json_integer(hi.parent_id));
	json_object_set_new(o, "format", json_string(hi.format_name ? hi.format_name : "?"));
	json_object_set_new(o, "levels", json_integer(hi.levels));
	json_object_set_new(o, "ias", json_integer(hi.ias));
	snprintf(b, sizeof(b), "%#" PRIx64, hi.root);
	json_object_set_new(o, "root", json_string(b));
	for (uint32_t i = 0; i < hi.nr_units && i < 8; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "unit", json_integer(hi.unit_ids[i]));
		json_object_set_new(e, "domain_id", json_integer(hi.domain_ids[i]));
		json_array_append_new(inst, e);
	}
	json_object_set_new(o, "installed", inst);
	return o;
}

static void hwpt_print(struct uiommu_ctx *ctx, void *obj, json_t *o)
{
	json_t *inst = json_object_get(o, "installed"), *e;
	size_t i;

	(void)ctx;
	(void)obj;
	printf("hwpt %" JSON_INTEGER_FORMAT ": %s, %s, %" JSON_INTEGER_FORMAT
	       " levels, %" JSON_INTEGER_FORMAT "-bit IOVA, root %s, ioas %" JSON_INTEGER_FORMAT,
	       json_integer_value(json_object_get(o, "id")),
	       json_string_value(json_object_get(o, "kind")),
	       json_string_value(json_object_get(o, "format")),
	       json_integer_value(json_object_get(o, "levels")),
	       json_integer_value(json_object_get(o, "ias")),
	       json_string_value(json_object_get(o, "root")),
	       json_integer_value(json_object_get(o, "ioas")));
	json_array_foreach(inst, i, e)
		printf("%s unit %" JSON_INTEGER_FORMAT " DID %" JSON_INTEGER_FORMAT,
		       i ? "," : "; installed on", json_integer_value(json_object_get(e, "unit")),
		       json_integer_value(json_object_get(e, "domain_id")));
	printf("\n");
}

/* `hwpt show` is its own verb (entries of every mapping): list only. */
static const struct cli_kind hwpt_kind = {
	.type = CLI_HWPT,
	.name = "hwpt",
	.json = hwpt_json,
	.print = hwpt_print,
};

int cmd_hwpt_list(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_list(opts, argc, argv, &hwpt_kind);
}

static json_t *levels_json(const struct uiommu_walk_level *lv, int n)
{
	json_t *arr = json_array();
	char b[32];

	for (int i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "level", json_integer(lv[i].level));
		snprintf(b, sizeof(b), "%#" PRIx64, lv[i].table);
		json_object_set_new(e, "table", json_string(b));
		json_object_set_new(e, "index", json_integer(lv[i].index));
		snprintf(b, sizeof(b), "0x%016" PRIx64, lv[i].entry);
		json_object_set_new(e, "entry", json_string(b));
		json_object_set_new(e, "present", json_boolean(lv[i].present));
		json_object_set_new(e, "leaf", json_boolean(lv[i].leaf));
		if (lv[i].leaf)
			json_object_set_new(e, "pgsize", json_integer((json_int_t)lv[i].pgsize));
		json_object_set_new(e, "text", json_string(lv[i].text));
		json_array_append_new(arr, e);
	}
	return arr;
}

static void levels_print(const struct uiommu_walk_level *lv, int n, const char *indent)
{
	for (int i = 0; i < n; i++)
		printf("%sL%u table %#" PRIx64 " [%3u] = 0x%016" PRIx64 "  %s\n", indent,
		       lv[i].level, lv[i].table, lv[i].index, lv[i].entry, lv[i].text);
}

int cmd_hwpt_show(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_walk_level lv[WALK_MAX];
	struct uiommu_area_info ar[64];
	struct uiommu_hwpt_info hi;
	struct uiommu_ctx *ctx;
	struct uiommu_hwpt *h;
	struct uiommu_ioas *a;
	const char *ref = NULL;
	bool all = false;
	int np = 0;
	json_t *o, *maps;
	uint64_t from = 0;
	uint32_t n;
	int rc;

	for (int i = 0; i < argc; i++) {
		int m = cli_flag(argv[i], "--all", &all);

		if (m < 0 || (!m && cli_pos_arg(argv[i], &ref, &np, 1)))
			return CLI_USAGE;
	}
	if (!ref)
		return CLI_USAGE;
	h = cli_open_obj(opts, CLI_HWPT, ref, &ctx, &rc);
	if (!h)
		return rc;
	uiommu_hwpt_get_info(h, &hi);
	o = hwpt_json(ctx, h, true);
	if (!opts->json)
		hwpt_print(ctx, h, o);
	maps = json_array();
	a = hi.ioas_id ? uiommu_ioas_get(ctx, hi.ioas_id) : NULL;
	/* Entries: the walk of each mapping's first page (--all: of every page). */
	while (a && (n = uiommu_ioas_areas(a, from, ar, 64)) > 0) {
		for (uint32_t i = 0; i < n; i++) {
			json_t *m = json_object(), *pages = json_array();
			uint64_t iova = ar[i].iova, end = ar[i].iova + ar[i].len;
			char b[32];

			snprintf(b, sizeof(b), "%#" PRIx64, ar[i].iova);
			json_object_set_new(m, "iova", json_string(b));
			json_object_set_new(m, "len", json_integer((json_int_t)ar[i].len));
			if (!opts->json)
				printf("  mapping %#" PRIx64 "-%#" PRIx64 " -> %#" PRIx64 "\n",
				       iova, end - 1, ar[i].phys);
			do {
				int k = uiommu_hwpt_walk(h, iova, lv, WALK_MAX);
				uint64_t step = k > 0 && lv[k - 1].leaf ? lv[k - 1].pgsize : 4096;

				if (k < 0)
					break;
				if (opts->json) {
					json_t *p = json_object();

					snprintf(b, sizeof(b), "%#" PRIx64, iova);
					json_object_set_new(p, "iova", json_string(b));
					json_object_set_new(p, "levels", levels_json(lv, k));
					json_array_append_new(pages, p);
				} else if (all && iova != ar[i].iova && k > 0) {
					levels_print(&lv[k - 1], 1, "    ");
				} else {
					levels_print(lv, k, "    ");
				}
				iova = (iova & ~(step - 1)) + step;
			} while (all && iova < end && iova != 0);
			json_object_set_new(m, "pages", pages);
			json_array_append_new(maps, m);
		}
		from = ar[n - 1].iova + ar[n - 1].len;
		if (n < 64 || from == 0)
			break;
	}
	json_object_set_new(o, "mappings", maps);
	if (opts->json)
		cli_json_print(o);
	json_decref(o);
	cli_state_close(ctx);
	return CLI_OK;
}

/* ---------------------------------------------------------------- walk */

int cmd_walk(const struct cli_opts *opts, int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL}, *ps = NULL;
	struct uiommu_walk_level lv[WALK_MAX];
	struct uiommu_area_info ar;
	struct uiommu_device_desc dd;
	struct uiommu_attach_info at[64];
	struct uiommu_device *d;
	struct uiommu_hwpt *h;
	struct uiommu_ctx *ctx;
	uint32_t pasid = UIOMMU_NO_PASID, hwpt_id = 0, ioas_id = 0, n;
	uint64_t iova, v;
	char bdf[32], who[128], verdict[320];
	json_t *o;
	int np = 0, k = 0, rc;
	bool mapped = false;

	for (int i = 0; i < argc; i++) {
		int r = cli_opt_val(argc, argv, &i, "--pasid", &ps);

		if (r < 0)
			return CLI_USAGE;
		if (!r && np < 2)
			pos[np++] = argv[i];
		else if (!r)
			return CLI_USAGE;
	}
	if (np != 2 || cli_parse_u64(pos[1], &iova) ||
	    (ps && (cli_parse_u64(ps, &v) || v >= (1u << 20)))) {
		if (np == 2)
			cli_err("bad IOVA or PASID");
		return CLI_USAGE;
	}
	if (ps)
		pasid = (uint32_t)v;
	d = cli_open_obj(opts, CLI_DEVICE, pos[0], &ctx, &rc);
	if (!d)
		return rc;
	uiommu_device_get_desc(d, &dd);
	cli_fmt_bdf(bdf, sizeof(bdf), dd.segment, (uint16_t)(dd.bus << 8 | dd.devfn));
	if (pasid == UIOMMU_NO_PASID)
		snprintf(who, sizeof(who), "device %u (%s) RID %#x", uiommu_device_id(d), bdf,
			 dd.hw_id);
	else
		snprintf(who, sizeof(who), "device %u (%s) RID %#x PASID %u", uiommu_device_id(d),
			 bdf, dd.hw_id, pasid);
	n = uiommu_device_attachments(d, at, 64);
	for (uint32_t i = 0; i < n && i < 64; i++)
		if (at[i].pasid == pasid) {
			hwpt_id = at[i].hwpt_id;
			ioas_id = at[i].ioas_id;
		}
	h = hwpt_id ? uiommu_hwpt_get(ctx, hwpt_id) : NULL;
	o = json_object();
	json_object_set_new(o, "device", json_integer(uiommu_device_id(d)));
	json_object_set_new(o, "pasid",
			    pasid == UIOMMU_NO_PASID ? json_null() : json_integer(pasid));
	snprintf(verdict, sizeof(verdict), "%#" PRIx64, iova);
	json_object_set_new(o, "iova", json_string(verdict));
	json_object_set_new(o, "hwpt", json_integer(hwpt_id));
	json_object_set_new(o, "ioas", json_integer(ioas_id));
	if (!h) {
		snprintf(verdict, sizeof(verdict),
			 "blocked: %s is not attached (no %s entry): every DMA from it faults", who,
			 pasid == UIOMMU_NO_PASID ? "context" : "PASID");
	} else {
		struct uiommu_ioas *a = ioas_id ? uiommu_ioas_get(ctx, ioas_id) : NULL;

		if (a && uiommu_ioas_lookup(a, iova, &ar) == 0) {
			char b[32];
			json_t *m = json_object();

			mapped = true;
			snprintf(b, sizeof(b), "%#" PRIx64, ar.iova);
			json_object_set_new(m, "iova", json_string(b));
			json_object_set_new(m, "len", json_integer((json_int_t)ar.len));
			snprintf(b, sizeof(b), "%#" PRIx64, ar.phys);
			json_object_set_new(m, "phys", json_string(b));
			json_object_set_new(m, "prot",
					    json_string(ar.prot == 3   ? "rw"
							: ar.prot == 1 ? "r"
								       : "w"));
			json_object_set_new(o, "mapping", m);
		}
		k = uiommu_hwpt_walk(h, iova, lv, WALK_MAX);
		if (k < 0)
			k = 0;
		if (k > 0 && lv[k - 1].present && lv[k - 1].leaf) {
			uint64_t pa = mapped ? ar.phys + (iova - ar.iova)
					     : (lv[k - 1].entry & 0x000ffffffffff000ull &
						~(lv[k - 1].pgsize - 1)) |
						       (iova & (lv[k - 1].pgsize - 1));
			snprintf(verdict, sizeof(verdict),
				 "translates: %#" PRIx64 " -> %#" PRIx64 " (%" PRIu64
				 " KiB page, %s)%s",
				 iova, pa, lv[k - 1].pgsize >> 10,
				 mapped ? (ar.prot == 3	  ? "read/write"
					   : ar.prot == 1 ? "read-only"
							  : "write-only")
					: "?",
				 mapped ? "" : " -- but not in the IOAS: stale table entry?");
		} else if (k > 0) {
			snprintf(verdict, sizeof(verdict), "faults: level %u entry not present%s",
				 lv[k - 1].level,
				 mapped ? " -- yet the IOAS maps it: table out of sync?"
					: ": the IOVA is not mapped in ioas (see 'ioas show')");
		} else {
			struct uiommu_hwpt_info hi;

			uiommu_hwpt_get_info(h, &hi);
			snprintf(verdict, sizeof(verdict),
				 "faults: %#" PRIx64 " is outside the table (beyond %u-bit input)",
				 iova, hi.ias);
		}
	}
	/* The device-context entries before the table (SMMUv3: STE, CD, a
	 * guest's stage 1; AMD-Vi: the DTE), where the family shows them. */
	struct uiommu_walk_level cl[WALK_MAX];
	int ck = uiommu_device_ctx_walk(d, pasid, iova, cl, WALK_MAX);

	if (ck < 0)
		ck = 0;
	if (ck)
		json_object_set_new(o, "context", levels_json(cl, ck));
	if (ck && !cl[ck - 1].present && !h)
		snprintf(verdict, sizeof(verdict), "faults: %s", cl[ck - 1].text);
	json_object_set_new(o, "levels", levels_json(lv, k));
	json_object_set_new(o, "verdict", json_string(verdict));
	if (opts->json) {
		cli_json_print(o);
	} else {
		printf("%s", who);
		if (h)
			printf(" -> hwpt %u%s", hwpt_id, ioas_id ? "" : "\n");
		if (h && ioas_id)
			printf(" (ioas %u)\n", ioas_id);
		if (!h)
			printf("\n");
		for (int i = 0; i < ck; i++)
			printf("  %s @%#" PRIx64 "\n", cl[i].text, cl[i].table);
		if (mapped)
			printf("  in mapping %#" PRIx64 "-%#" PRIx64 " -> %#" PRIx64 "\n", ar.iova,
			       ar.iova + ar.len - 1, ar.phys);
		else if (h)
			printf("  %#" PRIx64 " is in no mapping of ioas %u\n", iova, ioas_id);
		levels_print(lv, k, "  ");
		printf("  => %s\n", verdict);
	}
	json_decref(o);
	cli_state_close(ctx);
	return CLI_OK;
}
