/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl device list|show|add|remove.
 *
 * On a model unit devices are whatever the user adds (the model's DMA
 * engine plays them).  On hardware the device's ID on its unit comes from
 * the firmware tables (DMAR scopes, IVRS aliases, IORT ID maps) unless
 * --id says otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

json_t *cli_device_json(struct uiommu_ctx *ctx, struct uiommu_device *d)
{
	struct uiommu_attach_info at[64];
	struct uiommu_device_desc dd;
	char nm[UIOMMU_NAME_MAX], bdf[32];
	json_t *o = json_object(), *arr = json_array();
	uint32_t n;

	uiommu_device_get_desc(d, &dd);
	cli_fmt_bdf(bdf, sizeof(bdf), dd.segment, (uint16_t)(dd.bus << 8 | dd.devfn));
	json_object_set_new(o, "id", json_integer(uiommu_device_id(d)));
	json_object_set_new(o, "name", json_string(cli_obj_name(ctx, uiommu_device_id(d), nm)));
	json_object_set_new(o, "unit", json_integer(uiommu_unit_id(uiommu_device_unit(d))));
	json_object_set_new(o, "bdf", json_string(bdf));
	json_object_set_new(o, "hw_id", json_integer(dd.hw_id));
	json_object_set_new(o, "pasid_bits", json_integer(dd.pasid_bits));
	n = uiommu_device_attachments(d, at, 64);
	for (uint32_t i = 0; i < n && i < 64; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "pasid",
				    at[i].pasid == UIOMMU_NO_PASID ? json_null()
								   : json_integer(at[i].pasid));
		json_object_set_new(a, "hwpt", json_integer(at[i].hwpt_id));
		json_object_set_new(a, "ioas", json_integer(at[i].ioas_id));
		json_array_append_new(arr, a);
	}
	json_object_set_new(o, "attached", arr);
	return o;
}

static void device_print(struct uiommu_ctx *ctx, void *obj, json_t *o)
{
	json_t *arr = json_object_get(o, "attached"), *a;
	const char *nm = json_string_value(json_object_get(o, "name"));
	size_t i;

	(void)ctx;
	(void)obj;
	printf("device %" JSON_INTEGER_FORMAT "%s%s: %s on unit %" JSON_INTEGER_FORMAT
	       ", id %#" PRIx64 ", %" JSON_INTEGER_FORMAT " PASID bits\n",
	       json_integer_value(json_object_get(o, "id")), *nm ? " " : "", nm,
	       json_string_value(json_object_get(o, "bdf")),
	       json_integer_value(json_object_get(o, "unit")),
	       (uint64_t)json_integer_value(json_object_get(o, "hw_id")),
	       json_integer_value(json_object_get(o, "pasid_bits")));
	if (!json_array_size(arr))
		printf("  not attached (DMA blocked)\n");
	json_array_foreach(arr, i, a)
	{
		json_t *p = json_object_get(a, "pasid");

		if (json_is_null(p))
			printf("  RID");
		else
			printf("  PASID %" JSON_INTEGER_FORMAT, json_integer_value(p));
		printf(" -> hwpt %" JSON_INTEGER_FORMAT,
		       json_integer_value(json_object_get(a, "hwpt")));
		if (json_integer_value(json_object_get(a, "ioas")))
			printf(" (ioas %" JSON_INTEGER_FORMAT ")",
			       json_integer_value(json_object_get(a, "ioas")));
		printf("\n");
	}
}

static json_t *device_json(struct uiommu_ctx *ctx, void *obj, bool full)
{
	(void)full;
	return cli_device_json(ctx, obj);
}

static const struct cli_kind device_kind = {
	.type = CLI_DEVICE,
	.name = "device",
	.json = device_json,
	.print = device_print,
};

int cmd_device_list(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_list(opts, argc, argv, &device_kind);
}

int cmd_device_show(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_show(opts, argc, argv, &device_kind);
}

/* Hardware: the device's ID on @u from the firmware tables. */
static int fw_device_id(const struct cli_opts *opts, struct uiommu_unit *u, uint16_t seg,
			uint16_t rid, uint32_t *id)
{
	const char *dir = opts->acpi_dir ? opts->acpi_dir : "/sys/firmware/acpi/tables";
	struct uiommu_unit_info ui;
	struct uiommu_fw_topo t;
	char err[256];
	int idx;

	uiommu_unit_get_info(u, &ui);
	uiommu_fw_init(&t);
	if (uiommu_fw_load_dir(&t, dir, err, sizeof(err)) < 0) {
		cli_err("cannot read firmware tables (%s): %s; give --id", dir, err);
		uiommu_fw_free(&t);
		return -ENOENT;
	}
	idx = uiommu_fw_lookup(&t, seg, rid, id);
	if (idx < 0 || t.units[idx].base != ui.reg_base) {
		cli_err("the firmware tables do not put this device behind unit %u; give --id to "
			"force",
			ui.id);
		uiommu_fw_free(&t);
		return -ENOENT;
	}
	uiommu_fw_free(&t);
	return 0;
}

int cmd_device_add(const struct cli_opts *opts, int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL}, *id_s = NULL, *pb_s = NULL, *name = NULL;
	struct uiommu_device_desc dd = {0};
	struct uiommu_unit_info ui;
	struct uiommu_device *d;
	struct uiommu_unit *u;
	struct uiommu_ctx *ctx;
	uint64_t v;
	uint16_t seg, rid;
	int np = 0, rc;

	for (int i = 0; i < argc; i++) {
		int m;

		if ((m = cli_opt_val(argc, argv, &i, "--id", &id_s)) ||
		    (m = cli_opt_val(argc, argv, &i, "--pasid-bits", &pb_s)) ||
		    (m = cli_opt_val(argc, argv, &i, "--name", &name))) {
			if (m < 0)
				return CLI_USAGE;
		} else if (cli_pos_arg(argv[i], pos, &np, 2)) {
			return CLI_USAGE;
		}
	}
	if (np != 2)
		return CLI_USAGE;
	if (cli_parse_bdf(pos[1], &seg, &rid)) {
		cli_err("bad PCI address '%s' (expected [[SEG:]BUS:]DEV.FN in hex: SEG <= ffff, "
			"BUS <= ff, DEV <= 1f, FN <= 7)",
			pos[1]);
		return CLI_USAGE;
	}
	dd.segment = seg;
	dd.bus = (uint8_t)(rid >> 8);
	dd.devfn = (uint8_t)rid;
	dd.hw_id = rid;
	if (id_s) {
		if (cli_parse_range(id_s, 0, UINT32_MAX, &v)) {
			cli_err("bad --id '%s' (0 .. %#x)", id_s, UINT32_MAX);
			return CLI_USAGE;
		}
		dd.hw_id = (uint32_t)v;
	}
	if (pb_s) {
		if (cli_parse_range(pb_s, 0, 20, &v)) {
			cli_err("bad --pasid-bits '%s' (0 .. 20)", pb_s);
			return CLI_USAGE;
		}
		dd.pasid_bits = (uint32_t)v;
	}
	if (name && cli_check_name(name))
		return CLI_USAGE;
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		return rc;
	u = cli_find_unit(ctx, pos[0]);
	if (!u) {
		rc = CLI_FAILED;
		goto out;
	}
	if (name && uiommu_obj_find(ctx, name)) {
		cli_err("an object named '%s' exists already", name);
		rc = CLI_FAILED;
		goto out;
	}
	/* A PCI address is one device: a second one would make the address
	 * ambiguous (devices are found by it) and fight over the context entry. */
	for (d = uiommu_device_next(ctx, NULL); d; d = uiommu_device_next(ctx, d)) {
		struct uiommu_device_desc od;

		uiommu_device_get_desc(d, &od);
		if (od.segment == seg && (uint16_t)(od.bus << 8 | od.devfn) == rid) {
			char bdf[32];

			cli_fmt_bdf(bdf, sizeof(bdf), seg, rid);
			cli_err("device %s exists already (device %u on unit %u): %s", bdf,
				uiommu_device_id(d), uiommu_unit_id(uiommu_device_unit(d)),
				strerror(EEXIST));
			rc = CLI_FAILED;
			goto out;
		}
	}
	uiommu_unit_get_info(u, &ui);
	if (ui.segment != seg) {
		cli_err("%s is on segment %u; unit %u serves segment %u", pos[1], seg, ui.id,
			ui.segment);
		rc = CLI_FAILED;
		goto out;
	}
	if (ui.access == UIOMMU_UNIT_MMIO && !id_s && fw_device_id(opts, u, seg, rid, &dd.hw_id)) {
		rc = CLI_FAILED;
		goto out;
	}
	rc = uiommu_device_add(u, &dd, &d);
	if (rc) {
		rc = rc == -EEXIST ? (cli_err("unit %u already has a device with ID %#x", ui.id,
					      dd.hw_id),
				      CLI_FAILED)
				   : cli_fail(rc, "cannot add device %s", pos[1]);
		goto out;
	}
	if (name && (rc = uiommu_obj_set_name(ctx, uiommu_device_id(d), name))) {
		cli_fail(rc, "cannot name device %u '%s'", uiommu_device_id(d), name);
		(void)uiommu_device_remove(d);
		rc = CLI_FAILED;
		goto out;
	}
	cli_print_new(opts, &device_kind, ctx, d, uiommu_device_id(d));
	rc = CLI_OK;
out:
	cli_state_close(ctx);
	return rc;
}

int cmd_device_remove(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_device *d;
	struct uiommu_ctx *ctx;
	int rc;

	if (argc != 1)
		return CLI_USAGE;
	d = cli_open_obj(opts, CLI_DEVICE, argv[0], &ctx, &rc);
	if (!d)
		return rc;
	rc = uiommu_device_remove(d);
	if (rc) {
		rc = rc == -EBUSY ? (cli_err("device %s is attached: detach it first", argv[0]),
				     CLI_FAILED)
				  : cli_fail(rc, "device %s removed, but its unit could not invalidate "
						 "what it cached for it",
					     argv[0]);
	}
	cli_state_close(ctx);
	return rc;
}
