/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl unit list|show|add.
 *
 * `unit show` decodes the capability registers from the unit's raw hardware
 * information (uiommu_unit_hw_info) through the family driver's decoder
 * (uiommu_hw_info_decode): no register fact lives here.  `unit add` on hardware takes
 * over a unit the firmware probe found: it needs root, hugepages for the
 * state and an IOMMU the kernel left alone.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* A register's value as shown: the family's text, else hex. */
static void reg_value_text(const struct uiommu_reg_view *r, char *buf, size_t len)
{
	if (r->text)
		snprintf(buf, len, "%s", r->text);
	else
		snprintf(buf, len, "0x%0*" PRIx64, (int)r->hex_digits, r->value);
}

/* A register's fields: JSON (flags as booleans, the others as numbers) and
 * text (flags that are set by name, the others NAME=value). */
static json_t *reg_fields(const struct uiommu_reg_view *r, char *txt, size_t len)
{
	json_t *o = json_object();
	size_t off = 0;

	txt[0] = '\0';
	for (uint32_t i = 0; i < r->nr_fields; i++) {
		const struct uiommu_reg_field *f = &r->fields[i];

		if (f->flag) {
			json_object_set_new(o, f->name, json_boolean(f->value));
			if (f->value && off < len)
				off += (size_t)snprintf(txt + off, len - off, " %s", f->name);
		} else {
			json_object_set_new(o, f->name, json_integer((json_int_t)f->value));
			if (off < len)
				off += (size_t)snprintf(txt + off, len - off, " %s=%#" PRIx64,
							f->name, f->value);
		}
	}
	return o;
}

/* uiommu_hw_info_decode for unit_json: registers (full form) and the
 * family's own capabilities, after the generic ones. */
struct unit_regs_json {
	json_t *regs; /* NULL: not wanted */
	json_t *caps;
};

static void unit_regs_json_cb(void *arg, const struct uiommu_reg_view *r)
{
	struct unit_regs_json *j = arg;
	char txt[512], key[32];
	size_t i;

	if (r->kind == UIOMMU_REG_FEATURE) {
		json_object_set_new(j->caps, r->name, json_boolean(r->value != 0));
		return;
	}
	if (r->kind != UIOMMU_REG_ID || !j->regs)
		return;
	reg_value_text(r, txt, sizeof(txt));
	json_object_set_new(j->regs, r->name, json_string(txt));
	if (!r->nr_fields)
		return;
	for (i = 0; r->name[i] && i + 1 < sizeof(key); i++)
		key[i] = (char)tolower((unsigned char)r->name[i]);
	key[i] = '\0';
	json_object_set_new(j->regs, key, reg_fields(r, txt, sizeof(txt)));
}

/* uiommu_hw_info_decode for unit_print: "  CAP  0x...: FIELDS". */
static void unit_regs_print_cb(void *arg, const struct uiommu_reg_view *r)
{
	char val[64], txt[512];

	(void)arg;
	if (r->kind != UIOMMU_REG_ID)
		return;
	reg_value_text(r, val, sizeof(val));
	txt[0] = '\0';
	if (r->nr_fields)
		json_decref(reg_fields(r, txt, sizeof(txt)));
	printf("  %-4s %s%s%s\n", r->name, val, r->nr_fields ? ":" : "", txt);
}

static void pgsizes_text(uint64_t bm, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int b = 12; b < 64 && off < len; b++) {
		if (!(bm & (1ull << b)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%llu%c", off ? "," : "",
					b >= 30	  ? 1ull << (b - 30)
					: b >= 20 ? 1ull << (b - 20)
						  : 1ull << (b - 10),
					b >= 30	  ? 'G'
					: b >= 20 ? 'M'
						  : 'K');
	}
	if (!off)
		snprintf(buf, len, "-");
}

static json_t *unit_json(struct uiommu_ctx *ctx, void *obj, bool full)
{
	struct uiommu_unit *u = obj;
	struct uiommu_unit_info ui;
	struct uiommu_unit_caps c;
	char nm[UIOMMU_NAME_MAX], txt[512];
	json_t *o = json_object(), *caps;

	uiommu_unit_get_info(u, &ui);
	uiommu_unit_get_caps(u, &c);
	json_object_set_new(o, "id", json_integer(ui.id));
	json_object_set_new(o, "name", json_string(cli_obj_name(ctx, ui.id, nm)));
	json_object_set_new(o, "family", json_string(cli_family_name(ui.family)));
	json_object_set_new(o, "access",
			    json_string(ui.access == UIOMMU_UNIT_MODEL ? "model" : "mmio"));
	snprintf(txt, sizeof(txt), "%#" PRIx64, ui.reg_base);
	json_object_set_new(o, "reg_base", json_string(txt));
	json_object_set_new(o, "segment", json_integer(ui.segment));
	json_object_set_new(o, "devices", json_integer(ui.nr_devices));
	caps = json_object();
	json_object_set_new(caps, "ias", json_integer(c.ias));
	json_object_set_new(caps, "oas", json_integer(c.oas));
	json_object_set_new(caps, "pasid_bits", json_integer(c.pasid_bits));
	json_object_set_new(caps, "num_domains", json_integer(c.num_domains));
	pgsizes_text(c.pgsize_bitmap, txt, sizeof(txt));
	json_object_set_new(caps, "pgsizes", json_string(txt));
	pgsizes_text(c.s1_pgsize_bitmap, txt, sizeof(txt));
	json_object_set_new(caps, "s1_pgsizes", json_string(txt));
#define CAPB(f) json_object_set_new(caps, #f, json_boolean(c.f))
	CAPB(stage1);
	CAPB(stage2);
	CAPB(nesting);
	CAPB(coherent);
	CAPB(queued_inv);
	CAPB(page_requests);
	CAPB(pass_through);
	CAPB(ats);
#undef CAPB
	/* The family's registers (full form) and its own capabilities (VT-d:
	 * scalable), through its driver's decoder. */
	struct uiommu_hw_info hi;
	struct unit_regs_json rj = {.regs = full ? json_object() : NULL, .caps = caps};
	int drc = uiommu_unit_hw_info(u, &hi);

	if (!drc)
		drc = uiommu_hw_info_decode(&hi, unit_regs_json_cb, &rj);
	json_object_set_new(o, "caps", caps);
	if (!full)
		return o;
	if (drc) {
		json_object_clear(rj.regs);
		json_object_set_new(rj.regs, "status", json_string("not decoded for this family"));
	}
	json_object_set_new(o, "registers", rj.regs);

	struct uiommu_resv_region r[16];
	uint32_t nr = uiommu_unit_resv_regions(u, r, 16);
	json_t *ra = json_array();
	static const char *const kinds[] = {"?", "msi", "firmware", "aperture", "user"};

	for (uint32_t i = 0; i < nr && i < 16; i++) {
		json_t *e = json_object();

		snprintf(txt, sizeof(txt), "%#" PRIx64, r[i].start);
		json_object_set_new(e, "start", json_string(txt));
		snprintf(txt, sizeof(txt), "%#" PRIx64, r[i].last);
		json_object_set_new(e, "last", json_string(txt));
		json_object_set_new(e, "kind", json_string(kinds[r[i].kind <= 4 ? r[i].kind : 0]));
		json_array_append_new(ra, e);
	}
	json_object_set_new(o, "reserved", ra);
	return o;
}

/* @o from unit_json(): the full form has "reserved". */
static void unit_print(struct uiommu_ctx *ctx, void *obj, json_t *o)
{
	json_t *c = json_object_get(o, "caps"), *ra = json_object_get(o, "reserved");
	struct uiommu_unit *u = obj;
	const char *k;
	json_t *v;

	(void)ctx;
	printf("unit %" JSON_INTEGER_FORMAT "%s%s: %s %s base %s segment %" JSON_INTEGER_FORMAT
	       ", %" JSON_INTEGER_FORMAT " device(s)\n",
	       json_integer_value(json_object_get(o, "id")),
	       *json_string_value(json_object_get(o, "name")) ? " " : "",
	       json_string_value(json_object_get(o, "name")),
	       json_string_value(json_object_get(o, "family")),
	       json_string_value(json_object_get(o, "access")),
	       json_string_value(json_object_get(o, "reg_base")),
	       json_integer_value(json_object_get(o, "segment")),
	       json_integer_value(json_object_get(o, "devices")));
	printf("  widths: ias %" JSON_INTEGER_FORMAT " oas %" JSON_INTEGER_FORMAT
	       " pasid %" JSON_INTEGER_FORMAT " bits, %" JSON_INTEGER_FORMAT
	       " domain IDs; pages %s, stage-1 pages %s\n  features:",
	       json_integer_value(json_object_get(c, "ias")),
	       json_integer_value(json_object_get(c, "oas")),
	       json_integer_value(json_object_get(c, "pasid_bits")),
	       json_integer_value(json_object_get(c, "num_domains")),
	       json_string_value(json_object_get(c, "pgsizes")),
	       json_string_value(json_object_get(c, "s1_pgsizes")));
	json_object_foreach(c, k, v) if (json_is_true(v)) printf(" %s", k);
	printf("\n");
	if (ra) {
		struct uiommu_hw_info hi;

		if (uiommu_unit_hw_info(u, &hi) == 0)
			(void)uiommu_hw_info_decode(&hi, unit_regs_print_cb, NULL);
		size_t i;

		json_array_foreach(ra, i, v) printf("  reserved %s-%s %s\n",
						    json_string_value(json_object_get(v, "start")),
						    json_string_value(json_object_get(v, "last")),
						    json_string_value(json_object_get(v, "kind")));
	}
}

static const struct cli_kind unit_kind = {
	.type = CLI_UNIT,
	.name = "unit",
	.json = unit_json,
	.print = unit_print,
};

int cmd_unit_list(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_list(opts, argc, argv, &unit_kind);
}

int cmd_unit_show(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_show(opts, argc, argv, &unit_kind);
}

/* Hardware: pick the unit from the firmware tables (--base or --index,
 * already checked: at most one of them). */
static int hw_unit_desc(const struct cli_opts *opts, const char *base_s, uint64_t base,
			const char *index_s, uint64_t index, struct uiommu_unit_desc *d)
{
	const char *dir = opts->acpi_dir ? opts->acpi_dir : "/sys/firmware/acpi/tables";
	struct uiommu_fw_topo t;
	char err[256] = "";
	size_t pick = SIZE_MAX;
	int ret;

	uiommu_fw_init(&t);
	ret = uiommu_fw_load_dir(&t, dir, err, sizeof(err));
	if (ret < 0 || !t.nunits) {
		cli_err("no IOMMU in the firmware tables (%s)%s%s", dir, *err ? ": " : "", err);
		uiommu_fw_free(&t);
		return CLI_FAILED;
	}
	for (size_t i = 0; i < t.nunits; i++)
		if ((base_s && t.units[i].base == base) || (index_s && i == index))
			pick = i;
	if (!base_s && !index_s) {
		if (t.nunits == 1) {
			pick = 0;
		} else {
			cli_err("%zu units found: choose one with --index N or --base ADDR "
				"(see 'uiommuctl probe')",
				t.nunits);
			uiommu_fw_free(&t);
			return CLI_USAGE;
		}
	}
	if (pick == SIZE_MAX) {
		if (base_s)
			cli_err("no unit at --base %#" PRIx64 " in the firmware tables (see "
				"'uiommuctl probe')",
				base);
		else
			cli_err("no unit %" PRIu64 " in the firmware tables: %zu unit(s), "
				"--index 0 .. %zu (see 'uiommuctl probe')",
				index, t.nunits, t.nunits - 1);
		uiommu_fw_free(&t);
		return CLI_FAILED;
	}
	if (t.units[pick].flags & UIOMMU_FW_UNIT_BAD_BASE) {
		cli_err("unit %zu has no usable register base", pick);
		uiommu_fw_free(&t);
		return CLI_FAILED;
	}
	d->family = t.units[pick].family;
	d->access = UIOMMU_UNIT_MMIO;
	d->reg_base = t.units[pick].base;
	d->reg_size = t.units[pick].size;
	d->segment = t.units[pick].segment;
	d->numa_node = t.units[pick].proximity;
	uiommu_fw_free(&t);
	return CLI_OK;
}

/*
 * `unit add`.  Everything is checked before the state is opened or
 * created: values (--base, --index: numbers; --name: CLI_NAME_RULE) and
 * whether each option applies.  A model unit has no firmware entry and no
 * registers to choose, so --base, --index, --uio and --force are refused
 * there; --cfg is for model units only, --small-devtab for AMD-Vi units.
 * The name must be free: it is looked up before the unit is added, and a
 * unit that cannot be named is removed again (or the state it created
 * destroyed).
 */
int cmd_unit_add(const struct cli_opts *opts, int argc, char **argv)
{
	const char *base_s = NULL, *index_s = NULL, *uio = NULL, *cfg = NULL, *name = NULL;
	struct uiommu_unit_desc d = {.numa_node = -1};
	struct cli_opts mo = *opts;
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	uint64_t base = 0, index = 0;
	char model[256];
	bool fresh, force = false, small = false;
	/* --small-devtab: an AMD-Vi device table below 65536 DeviceIDs when
	 * 2 MiB of contiguous memory is not to be had. */
	struct uiommu_amdvi_unit_opts ao = {.family = UIOMMU_FAMILY_AMDVI,
					    .flags = UIOMMU_AMDVI_F_SMALL_DEVTAB};
	int rc;

	for (int i = 0; i < argc; i++) {
		int m;

		if ((m = cli_flag(argv[i], "--force", &force)) ||
		    (m = cli_flag(argv[i], "--small-devtab", &small)) ||
		    (m = cli_opt_val(argc, argv, &i, "--base", &base_s)) ||
		    (m = cli_opt_val(argc, argv, &i, "--index", &index_s)) ||
		    (m = cli_opt_val(argc, argv, &i, "--uio", &uio)) ||
		    (m = cli_opt_val(argc, argv, &i, "--cfg", &cfg)) ||
		    (m = cli_opt_val(argc, argv, &i, "--name", &name))) {
			if (m < 0)
				return CLI_USAGE;
			continue;
		}
		cli_err("unexpected argument '%s'", argv[i]);
		return CLI_USAGE;
	}
	if (base_s && cli_parse_u64(base_s, &base)) {
		cli_err("bad --base '%s' (a 64-bit register address, C notation)", base_s);
		return CLI_USAGE;
	}
	if (index_s && cli_parse_u64(index_s, &index)) {
		cli_err("bad --index '%s' (a unit number from 'uiommuctl probe': 0, 1, ...)",
			index_s);
		return CLI_USAGE;
	}
	if (base_s && index_s) {
		cli_err("give one of --base or --index");
		return CLI_USAGE;
	}
	if (uio && !*uio) {
		cli_err("--uio: empty path");
		return CLI_USAGE;
	}
	if (name && cli_check_name(name))
		return CLI_USAGE;
	d.force = force;
	if (opts->model) {
		const char *bad = base_s    ? "--base"
				  : index_s ? "--index"
				  : uio	    ? "--uio"
				  : force   ? "--force"
					    : NULL;
		const char *mcfg = strchr(opts->model, ':');

		if (bad) {
			cli_err("%s is for hardware units (a model unit has no firmware entry or "
				"registers to choose; its options: --cfg CFG, --name NAME)",
				bad);
			return CLI_USAGE;
		}
		if (cfg && mcfg && strcmp(cfg, mcfg + 1)) {
			cli_err("--cfg '%s' contradicts --model %s: give the configuration once",
				cfg, opts->model);
			return CLI_USAGE;
		}
		if (!cfg && mcfg)
			cfg = mcfg + 1;
		if (cfg && !*cfg) {
			cli_err("--cfg: empty configuration");
			return CLI_USAGE;
		}
		if (small && cli_model_family(opts->model) != UIOMMU_FAMILY_AMDVI) {
			cli_err("--small-devtab is for AMD-Vi units (--model amdvi)");
			return CLI_USAGE;
		}
		/* A fresh state comes up with its first unit: give it the same
		 * configuration as a unit added to an existing state. */
		if (cfg) {
			size_t fam = mcfg ? (size_t)(mcfg - opts->model) : strlen(opts->model);

			if (fam + 1 + strlen(cfg) >= sizeof(model)) {
				cli_err("--cfg: too long");
				return CLI_USAGE;
			}
			snprintf(model, sizeof(model), "%.*s:%s", (int)fam, opts->model, cfg);
			mo.model = model;
		}
		/* A fresh model state comes with its first unit, made from --cfg:
		 * that is the one; with --small-devtab the unit is added here. */
		rc = cli_state_open(&mo, small ? CLI_STATE_NO_UNIT : 0, &ctx);
		if (rc)
			return rc;
		fresh = !uiommu_ctx_adopted(ctx);
		if (name && uiommu_obj_find(ctx, name)) {
			cli_err("an object named '%s' exists already", name);
			goto fail;
		}
		d.family = cli_model_family(opts->model); /* checked by cli_state_open */
		d.access = UIOMMU_UNIT_MODEL;
		d.model_cfg = cfg;
		if (small)
			d.family_opts = &ao;
		if (fresh && !small) {
			u = uiommu_unit_next(ctx, NULL);
			rc = 0;
		} else {
			rc = uiommu_unit_add(ctx, &d, &u);
		}
	} else {
		if (cfg) {
			cli_err("--cfg is for model units (use --model vtd)");
			return CLI_USAGE;
		}
		rc = hw_unit_desc(opts, base_s, base, index_s, index, &d);
		if (rc)
			return rc;
		if (small && d.family != UIOMMU_FAMILY_AMDVI) {
			cli_err("--small-devtab is for AMD-Vi units (the unit at %#" PRIx64
				" is not one)",
				d.reg_base);
			return CLI_USAGE;
		}
		if (small)
			d.family_opts = &ao;
		d.uio_path = uio;
		if (geteuid() != 0)
			cli_err("warning: not root: mapping registers and hugepages will likely "
				"fail");
		rc = cli_state_open(opts, CLI_STATE_HW_CREATE, &ctx);
		if (rc)
			return rc;
		fresh = !uiommu_ctx_adopted(ctx) && !uiommu_unit_next(ctx, NULL);
		if (name && uiommu_obj_find(ctx, name)) {
			cli_err("an object named '%s' exists already", name);
			goto fail;
		}
		rc = uiommu_unit_add(ctx, &d, &u);
	}
	if (rc) {
		if (rc == -EBUSY)
			cli_err("unit at %#" PRIx64 ": translation is enabled by someone else (the "
				"kernel?): boot with intel_iommu=off / leave it alone, or --force",
				d.reg_base);
		else if (d.access == UIOMMU_UNIT_MODEL)
			cli_fail(rc, "cannot add a model unit (configuration '%s')",
				 cfg ? cfg : "defaults");
		else
			cli_fail(rc, "cannot take over the unit at %#" PRIx64, d.reg_base);
		goto fail;
	}
	if (name && (rc = uiommu_obj_set_name(ctx, uiommu_unit_id(u), name))) {
		cli_fail(rc, "unit %u: cannot name it '%s'", uiommu_unit_id(u), name);
		if (!fresh)
			(void)uiommu_unit_remove(u);
		goto fail;
	}
	cli_print_new(opts, &unit_kind, ctx, u, uiommu_unit_id(u));
	cli_state_close(ctx);
	return CLI_OK;
fail:
	if (fresh)
		cli_state_destroy(ctx); /* leave nothing behind */
	else
		cli_state_close(ctx);
	return CLI_FAILED;
}
