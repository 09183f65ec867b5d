/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl show --svg FILE | --dot [FILE]: a picture of each address
 * space's IOVA layout (its mappings, in IOVA order, with the gaps between
 * them compressed) and of the devices (RID or PASID) that use it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_AREAS 256
#define SVG_W	  960
#define ROW_H	  110
#define BAR_X	  260
#define BAR_W	  (SVG_W - BAR_X - 20)

static void fmt_size(char *b, size_t n, uint64_t v)
{
	if (v >= (1ull << 30) && !(v & ((1ull << 30) - 1)))
		snprintf(b, n, "%" PRIu64 "G", v >> 30);
	else if (v >= (1ull << 20) && !(v & ((1ull << 20) - 1)))
		snprintf(b, n, "%" PRIu64 "M", v >> 20);
	else
		snprintf(b, n, "%" PRIu64 "K", v >> 10);
}

static const char *prot_s(uint32_t p)
{
	return p == 3 ? "rw" : p == 1 ? "r" : "w";
}

/* Users of an IOAS: "device 2 nic RID" lines. */
static int ioas_users(struct uiommu_ctx *ctx, uint32_t ioas, char out[][128], int max)
{
	struct uiommu_device *d = NULL;
	int n = 0;

	while ((d = uiommu_device_next(ctx, d))) {
		struct uiommu_attach_info at[64];
		struct uiommu_device_desc dd;
		char nm[UIOMMU_NAME_MAX], bdf[32];
		uint32_t k = uiommu_device_attachments(d, at, 64);

		uiommu_device_get_desc(d, &dd);
		cli_fmt_bdf(bdf, sizeof(bdf), dd.segment, (uint16_t)(dd.bus << 8 | dd.devfn));
		cli_obj_name(ctx, uiommu_device_id(d), nm);
		for (uint32_t i = 0; i < k && i < 64 && n < max; i++) {
			if (at[i].ioas_id != ioas)
				continue;
			if (at[i].pasid == UIOMMU_NO_PASID)
				snprintf(out[n++], 128, "dev %u %s %s RID", uiommu_device_id(d),
					 *nm ? nm : bdf, bdf);
			else
				snprintf(out[n++], 128, "dev %u %s %s PASID %u",
					 uiommu_device_id(d), *nm ? nm : bdf, bdf, at[i].pasid);
		}
	}
	return n;
}

static void write_dot(struct uiommu_ctx *ctx, FILE *f)
{
	struct uiommu_area_info ar[MAX_AREAS];
	struct uiommu_ioas *a = NULL;
	struct uiommu_device *d = NULL;

	fprintf(f, "digraph uiommu {\n\trankdir=LR;\n\tcompound=true;\n\tnode [shape=box, "
		   "fontname=\"monospace\", fontsize=10];\n");
	while ((a = uiommu_ioas_next(ctx, a))) {
		uint32_t id = uiommu_ioas_id(a), n = uiommu_ioas_areas(a, 0, ar, MAX_AREAS);
		char nm[UIOMMU_NAME_MAX], sz[24];

		fprintf(f, "\tsubgraph cluster_ioas%u {\n\t\tlabel=\"ioas %u %s\";\n", id, id,
			cli_obj_name(ctx, id, nm));
		fprintf(f, "\t\tioas%u [shape=folder, label=\"ioas %u\"];\n", id, id);
		for (uint32_t i = 0; i < n; i++) {
			fmt_size(sz, sizeof(sz), ar[i].len);
			fprintf(f,
				"\t\tioas%u_%u [label=\"%#" PRIx64 "-%#" PRIx64
				"\\n%s %s -> %#" PRIx64
				"\"];\n\t\tioas%u -> ioas%u_%u [style=invis];\n",
				id, i, ar[i].iova, ar[i].iova + ar[i].len - 1, sz,
				prot_s(ar[i].prot), ar[i].phys, id, id, i);
		}
		fprintf(f, "\t}\n");
	}
	while ((d = uiommu_device_next(ctx, d))) {
		struct uiommu_attach_info at[64];
		struct uiommu_device_desc dd;
		char nm[UIOMMU_NAME_MAX], bdf[32];
		uint32_t k = uiommu_device_attachments(d, at, 64), id = uiommu_device_id(d);

		uiommu_device_get_desc(d, &dd);
		cli_fmt_bdf(bdf, sizeof(bdf), dd.segment, (uint16_t)(dd.bus << 8 | dd.devfn));
		fprintf(f, "\tdev%u [shape=component, label=\"device %u %s\\n%s id %#x\"];\n", id,
			id, cli_obj_name(ctx, id, nm), bdf, dd.hw_id);
		for (uint32_t i = 0; i < k && i < 64; i++) {
			if (!at[i].ioas_id)
				continue;
			if (at[i].pasid == UIOMMU_NO_PASID)
				fprintf(f,
					"\tdev%u -> ioas%u [lhead=cluster_ioas%u, "
					"label=\"RID\"];\n",
					id, at[i].ioas_id, at[i].ioas_id);
			else
				fprintf(f,
					"\tdev%u -> ioas%u [lhead=cluster_ioas%u, label=\"PASID "
					"%u\"];\n",
					id, at[i].ioas_id, at[i].ioas_id, at[i].pasid);
		}
	}
	fprintf(f, "}\n");
}

static void write_svg(struct uiommu_ctx *ctx, FILE *f)
{
	static char users[32][128];
	struct uiommu_area_info ar[MAX_AREAS];
	struct uiommu_ioas *a = NULL;
	int rows = 0, y;

	while ((a = uiommu_ioas_next(ctx, a)))
		rows++;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"11\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"10\" y=\"20\" font-size=\"14\">uiommu: IOVA layout per address space "
		"(mappings in IOVA order, gaps compressed)</text>\n",
		SVG_W, 40 + (rows ? rows : 1) * ROW_H);
	y = 40;
	while ((a = uiommu_ioas_next(ctx, a))) {
		uint32_t id = uiommu_ioas_id(a), n = uiommu_ioas_areas(a, 0, ar, MAX_AREAS);
		int nu = ioas_users(ctx, id, users, 32);
		char nm[UIOMMU_NAME_MAX], sz[24];
		double units = 0, x = BAR_X, scale;

		fprintf(f,
			"<text x=\"10\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">ioas %u %s"
			"</text>\n",
			y + 16, id, cli_obj_name(ctx, id, nm));
		for (int i = 0; i < nu && i < 5; i++)
			fprintf(f,
				"<text x=\"20\" y=\"%d\">%s</text>\n<line x1=\"%d\" y1=\"%d\" "
				"x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
				y + 34 + 14 * i, users[i], 200, y + 30 + 14 * i, BAR_X, y + 45);
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"30\" fill=\"#eee\" "
			"stroke=\"#999\"/>\n",
			BAR_X, y + 30, BAR_W);
		/* Width: each mapping log2-sized, each gap a fixed unit. */
		for (uint32_t i = 0; i < n; i++) {
			int lg = 63 - __builtin_clzll(ar[i].len);

			units += (lg > 11 ? lg - 11 : 1) + 1;
		}
		scale = units ? BAR_W / (units + 1) : 0;
		for (uint32_t i = 0; i < n; i++) {
			int lg = 63 - __builtin_clzll(ar[i].len);
			double w = (lg > 11 ? lg - 11 : 1) * scale;

			x += scale; /* gap */
			fmt_size(sz, sizeof(sz), ar[i].len);
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"30\" "
				"fill=\"%s\" "
				"stroke=\"#333\"><title>%#" PRIx64 "-%#" PRIx64 " -> %#" PRIx64
				" %s</title></rect>\n"
				"<text x=\"%.1f\" y=\"%d\">%s %s</text>\n"
				"<text x=\"%.1f\" y=\"%d\" font-size=\"9\">%#" PRIx64 "</text>\n",
				x, y + 30, w, ar[i].prot == 3 ? "#8fc98f" : "#f0c674", ar[i].iova,
				ar[i].iova + ar[i].len - 1, ar[i].phys, prot_s(ar[i].prot), x + 3,
				y + 49, sz, prot_s(ar[i].prot), x, y + 74 + (int)(i % 2) * 10,
				ar[i].iova);
			x += w;
		}
		if (!n)
			fprintf(f, "<text x=\"%d\" y=\"%d\">(nothing mapped)</text>\n", BAR_X + 8,
				y + 49);
		y += ROW_H;
	}
	fprintf(f, "</svg>\n");
}

int cmd_show(const struct cli_opts *opts, int argc, char **argv)
{
	const char *svg = NULL, *dot = NULL;
	bool want_dot = false;
	struct uiommu_ctx *ctx;
	FILE *f = stdout;
	int rc;

	for (int i = 0; i < argc; i++) {
		int r;

		if ((r = cli_flag(argv[i], "--dot", &want_dot)) > 0) {
			if (i + 1 < argc && argv[i + 1][0] != '-')
				dot = argv[++i];
		} else if (r || (r = cli_opt_val(argc, argv, &i, "--svg", &svg))) {
			if (r < 0)
				return CLI_USAGE;
		} else {
			return CLI_USAGE;
		}
	}
	if (!!svg + want_dot != 1) {
		cli_err("give one of --svg FILE or --dot [FILE]");
		return CLI_USAGE;
	}
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		return rc;
	const char *path = svg ? svg : dot;

	if (path && strcmp(path, "-")) {
		f = fopen(path, "w");
		if (!f) {
			cli_err("cannot create the output file %s: %s", path, strerror(errno));
			cli_state_close(ctx);
			return CLI_FAILED;
		}
	}
	if (svg)
		write_svg(ctx, f);
	else
		write_dot(ctx, f);
	if (f != stdout && (ferror(f) | fclose(f))) {
		cli_err("cannot write the output file %s: %s", path, strerror(errno));
		rc = CLI_FAILED;
	} else {
		if (f != stdout && !opts->json)
			printf("wrote %s\n", path);
		rc = CLI_OK;
	}
	cli_state_close(ctx);
	return rc;
}
