/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: opening the shared state, and helpers shared by the object
 * verbs (parsing, finding objects by ID, name or PCI address).
 *
 * Every object verb opens the state (a model state in /dev/shm, or a
 * hardware state on hugetlbfs), adopts it (uiommu_ctx_create: the library
 * re-binds registers and table memory), does its work and leaves it with
 * uiommu_ctx_detach(): translation goes on, the next command adopts it
 * again.  Only `reset` destroys it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool state_model; /* the open state is a model state */
static bool txn_wanted;	 /* the command changes the state: run it as a transaction */
static struct uiommu_ctx *open_ctx;
static bool open_txn;

void cli_state_set_txn(bool on)
{
	txn_wanted = on;
}

const char *cli_state_name(const struct cli_opts *o)
{
	static char buf[64];
	const char *env = getenv("UIOMMUCTL_STATE");
	size_t n;

	if (o->state)
		return o->state;
	if (env && *env)
		return env;
	if (!o->model)
		return "hw";
	n = strcspn(o->model, ":");
	snprintf(buf, sizeof(buf), "model-%.*s", (int)(n < 32 ? n : 32), o->model);
	return buf;
}

bool cli_state_is_model(void)
{
	return state_model;
}

int cli_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("uiommuctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", uiommu_strerror(rc));
	return CLI_FAILED;
}

void cli_proc_desc(uint32_t pid, char *buf, size_t len)
{
	char path[64], cmd[160] = "";
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[n] = '\0';
	snprintf(buf, len, "%u%s%s%s", pid, n ? " (" : "", cmd, n ? ")" : "");
}

static int report_open_error(const struct uiommu_env_opts *eo, int rc)
{
	char path[512] = "";

	(void)uiommu_state_path(eo, path, sizeof(path));
	if (rc == -ETIMEDOUT)
		cli_err("state '%s' is busy: another process holds its lock (--wait SECS to wait "
			"longer)",
			eo->name);
	else if (rc == -EADDRINUSE)
		cli_err("state '%s': the arena's fixed address is taken in this process "
			"(UIOMMU_ARENA_BASE)",
			eo->name);
	else if (rc == -EPERM)
		cli_err("state '%s' (%s): refused: not a private state file of this user "
			"(see the log line above)",
			eo->name, path);
	else if (rc == -EUCLEAN)
		cli_err("state '%s' (%s) is corrupt (see the log lines above); 'uiommuctl "
			"--state %s reset --force' deletes it",
			eo->name, path, eo->name);
	else
		cli_fail(rc, "cannot open state '%s' (%s)", eo->name, path);
	return CLI_FAILED;
}

/* Hold the state's lock for the whole command (bounded wait); a command
 * that changes the state runs as one transaction (all or nothing, even
 * under kill -9). */
static int state_lock(const struct cli_opts *o, struct uiommu_ctx *ctx, const char *name,
		      bool txn)
{
	uint32_t ms = o->wait_set ? o->wait_ms : 5000u, pid = 0;
	char who[200];
	int rc = txn ? uiommu_txn_begin(ctx, ms, &pid) : uiommu_ctx_lock(ctx, ms, &pid);

	if (rc == -EOPNOTSUPP && txn) {
		/* No undo image possible here (no tmpfs): go on without. */
		cli_err("warning: state '%s': no transactions here (no /dev/shm): a kill of "
			"this command half-way would leave its change half done",
			name);
		txn = false;
		rc = uiommu_ctx_lock(ctx, ms, &pid);
	}
	if (!rc) {
		open_ctx = ctx;
		open_txn = txn;
		return CLI_OK;
	}
	if (rc == -ETIMEDOUT) {
		if (pid) {
			cli_proc_desc(pid, who, sizeof(who));
			cli_err("state '%s' is busy: process %s has held its lock for more "
				"than %u s (--wait SECS to wait longer)",
				name, who, (o->wait_set ? o->wait_ms : 5000u) / 1000u);
		} else {
			cli_err("state '%s' is busy (--wait SECS to wait longer)", name);
		}
		return CLI_FAILED;
	}
	return cli_fail(rc, "state '%s': cannot %s", name,
			txn ? "begin a transaction" : "take its lock");
}

/* "NAME" or "NAME:CFG", NAME a built-in model ("vtd"). */
static int parse_model(const char *spec, enum uiommu_family *fam, const char **cfg)
{
	size_t n = strcspn(spec, ":"), off = 0;
	char names[64] = "";

	*cfg = spec[n] == ':' ? spec + n + 1 : NULL;
	if (uiommu_model_lookup(spec, n, fam) == 0)
		return 0;
	for (int f = 1; f <= UIOMMU_FAMILY_MAX; f++) {
		const char *m = uiommu_model_name((enum uiommu_family)f);

		if (m && off < sizeof(names))
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
						off ? ", " : "", m);
	}
	cli_err("--model %s: unknown model (built in: %s)", spec, off ? names : "none");
	return -EINVAL;
}

enum uiommu_family cli_model_family(const char *spec)
{
	enum uiommu_family fam;

	if (!spec || uiommu_model_lookup(spec, strcspn(spec, ":"), &fam))
		return UIOMMU_FAMILY_NONE;
	return fam;
}

static int add_model_unit(struct uiommu_ctx *ctx, enum uiommu_family fam, const char *cfg)
{
	struct uiommu_unit_desc d = {
		.family = fam,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
		.model_cfg = cfg,
	};
	struct uiommu_unit *u;
	int rc = uiommu_unit_add(ctx, &d, &u);

	if (rc)
		return cli_fail(rc, "model unit '%s'", cfg ? cfg : "(defaults)");
	return CLI_OK;
}

int cli_state_open(const struct cli_opts *o, unsigned int flags, struct uiommu_ctx **out)
{
	struct uiommu_env_opts eo = {.name = cli_state_name(o),
				     .lock_wait_ms = o->wait_set ? (o->wait_ms ? o->wait_ms : 1) : 5000u};
	struct uiommu_ctx *ctx;
	enum uiommu_family fam;
	const char *cfg;
	int rc;

	*out = NULL;
	if (o->model) {
		if (parse_model(o->model, &fam, &cfg))
			return CLI_USAGE;
		eo.backend = UIOMMU_MEM_SHARED_SHM;
		eo.create = !(flags & CLI_STATE_NOCREATE);
		rc = uiommu_ctx_create(&eo, &ctx);
		if (rc == -ENOENT) {
			cli_err("no state '%s'", eo.name);
			return CLI_FAILED;
		}
		if (rc)
			return report_open_error(&eo, rc);
		state_model = true;
		if (state_lock(o, ctx, eo.name, txn_wanted)) {
			uiommu_ctx_detach(ctx);
			return CLI_FAILED;
		}
		if (!uiommu_ctx_adopted(ctx) && !uiommu_unit_next(ctx, NULL) &&
		    !(flags & CLI_STATE_NO_UNIT)) {
			rc = add_model_unit(ctx, fam, cfg);
			if (rc) {
				cli_state_destroy(ctx); /* leave nothing behind */
				return rc;
			}
		}
		*out = ctx;
		return CLI_OK;
	}
	/* No --model: a model state of that name, else a hardware state. */
	eo.backend = UIOMMU_MEM_SHARED_SHM;
	rc = uiommu_ctx_create(&eo, &ctx);
	if (rc == 0) {
		state_model = true;
		if (state_lock(o, ctx, eo.name, txn_wanted)) {
			uiommu_ctx_detach(ctx);
			return CLI_FAILED;
		}
		*out = ctx;
		return CLI_OK;
	}
	if (rc != -ENOENT)
		return report_open_error(&eo, rc);
	eo.backend = UIOMMU_MEM_SHARED_HUGE;
	eo.huge_dir = getenv("UIOMMU_HUGE_DIR");
	eo.create = (flags & CLI_STATE_HW_CREATE) != 0;
	rc = uiommu_ctx_create(&eo, &ctx);
	if (rc == -ENOENT && !eo.create) {
		cli_err("no state '%s': start one with '--model vtd' (built-in model) or "
			"'uiommuctl unit add' (hardware)",
			eo.name);
		return CLI_FAILED;
	}
	if (rc == -ENOENT || rc == -EACCES || rc == -EPERM) {
		return cli_fail(rc,
				"cannot create the hardware state '%s' in %s (needs root and a "
				"mounted hugetlbfs with free 2 MiB pages)",
				eo.name, eo.huge_dir ? eo.huge_dir : "/dev/hugepages");
	}
	if (rc)
		return report_open_error(&eo, rc);
	state_model = false;
	/* Taking hardware over changes registers no rollback restores. */
	if (state_lock(o, ctx, eo.name, txn_wanted && !(flags & CLI_STATE_HW_CREATE))) {
		uiommu_ctx_detach(ctx);
		return CLI_FAILED;
	}
	*out = ctx;
	return CLI_OK;
}

/* The command is done with the state; cli_state_end() leaves it once the
 * command's result is known. */
void cli_state_close(struct uiommu_ctx *ctx)
{
	(void)ctx;
}

void cli_state_destroy(struct uiommu_ctx *ctx)
{
	if (!ctx)
		return;
	uiommu_ctx_destroy(ctx);
	if (ctx == open_ctx)
		open_ctx = NULL;
}

int cli_state_end(int rc)
{
	struct uiommu_ctx *ctx = open_ctx;
	int r;

	if (!ctx)
		return rc;
	open_ctx = NULL;
	if (open_txn) {
		if (rc == CLI_OK) {
			r = uiommu_txn_commit(ctx);
			if (r) {
				cli_fail(r, "cannot commit the change");
				rc = CLI_FAILED;
			}
		} else {
			/* A failed command changes nothing. */
			(void)uiommu_txn_abort(ctx);
		}
	}
	uiommu_ctx_detach(ctx);
	return rc;
}

/* ------------------------------------------------------------- options */

void cli_fmt_bdf(char *buf, size_t len, uint16_t seg, uint16_t rid)
{
	if (seg)
		snprintf(buf, len, "%04x:%02x:%02x.%x", seg, rid >> 8, (rid >> 3) & 31, rid & 7);
	else
		snprintf(buf, len, "%02x:%02x.%x", rid >> 8, (rid >> 3) & 31, rid & 7);
}

int cli_opt_val(int argc, char **argv, int *i, const char *opt, const char **val)
{
	size_t n = strlen(opt);
	const char *a = argv[*i];

	if (strncmp(a, opt, n) || (a[n] && a[n] != '='))
		return 0;
	if (*val) {
		cli_err("option %s given twice", opt);
		return -1;
	}
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (*i + 1 >= argc) {
		cli_err("%s needs a value", opt);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int cli_check_name(const char *name)
{
	const char *why = cli_name_problem(name);

	if (!why)
		return 0;
	cli_err("bad name '%s': %s (names: %s)", name, why, CLI_NAME_RULE);
	return -1;
}

int cli_flag(const char *arg, const char *flag, bool *set)
{
	if (strcmp(arg, flag))
		return 0;
	if (*set) {
		cli_err("option %s given twice", flag);
		return -1;
	}
	*set = true;
	return 1;
}

const char *cli_family_name(enum uiommu_family f)
{
	switch (f) {
	case UIOMMU_FAMILY_VTD:
		return "vtd";
	case UIOMMU_FAMILY_SMMUV3:
		return "smmuv3";
	case UIOMMU_FAMILY_AMDVI:
		return "amdvi";
	default:
		return "none";
	}
}

/* --------------------------------------------------------- finding objects */

const char *cli_obj_name(struct uiommu_ctx *ctx, uint32_t id, char *buf)
{
	if (uiommu_obj_get_name(ctx, id, buf, UIOMMU_NAME_MAX))
		buf[0] = '\0';
	return buf;
}

/* A numeric ID, or the ID of a named object; 0 when neither. */
static uint32_t ref_id(struct uiommu_ctx *ctx, const char *s)
{
	uint64_t v;

	if (cli_parse_u64(s, &v) == 0)
		return v <= UINT32_MAX ? (uint32_t)v : 0;
	return uiommu_obj_find(ctx, s);
}

void *cli_next(struct uiommu_ctx *ctx, enum cli_type type, void *prev)
{
	switch (type) {
	case CLI_UNIT:
		return uiommu_unit_next(ctx, prev);
	case CLI_DEVICE:
		return uiommu_device_next(ctx, prev);
	case CLI_IOAS:
		return uiommu_ioas_next(ctx, prev);
	case CLI_HWPT:
		return uiommu_hwpt_next(ctx, prev);
	}
	return NULL;
}

/* A device by [SEG:]BUS:DEV.FN. */
static struct uiommu_device *find_bdf(struct uiommu_ctx *ctx, uint16_t seg, uint16_t rid)
{
	struct uiommu_device *d = NULL;

	while ((d = uiommu_device_next(ctx, d))) {
		struct uiommu_device_desc dd;

		uiommu_device_get_desc(d, &dd);
		if (dd.segment == seg && (uint16_t)(dd.bus << 8 | dd.devfn) == rid)
			break;
	}
	return d;
}

void *cli_find(struct uiommu_ctx *ctx, enum cli_type type, const char *s)
{
	/* What a miss says: "no <what> 's' (see 'uiommuctl <list> list')". */
	static const char *const what[] = {"unit", "device", "IOAS", "HWPT"};
	static const char *const list[] = {"unit", "device", "ioas", "hwpt"};
	uint16_t seg, rid;
	void *o = NULL;

	switch (type) {
	case CLI_UNIT:
		o = uiommu_unit_get(ctx, ref_id(ctx, s));
		break;
	case CLI_DEVICE:
		if (strchr(s, '.') && cli_parse_bdf(s, &seg, &rid) == 0)
			o = find_bdf(ctx, seg, rid);
		else
			o = uiommu_device_get(ctx, ref_id(ctx, s));
		break;
	case CLI_IOAS:
		o = uiommu_ioas_get(ctx, ref_id(ctx, s));
		break;
	case CLI_HWPT:
		o = uiommu_hwpt_get(ctx, ref_id(ctx, s));
		break;
	}
	if (!o)
		cli_err("no %s '%s' (see 'uiommuctl %s list')", what[type], s, list[type]);
	return o;
}

/* --------------------------------------------------------------- buffers */

void cli_buf_release(struct uiommu_ctx *ctx, uint64_t phys)
{
	struct uiommu_buf_info b;
	struct uiommu_ioas *a = NULL;
	struct uiommu_area_info ar;

	if (uiommu_buf_lookup(ctx, phys, &b) || b.bus_addr != phys)
		return;
	while ((a = uiommu_ioas_next(ctx, a))) {
		uint64_t from = 0;
		uint32_t n;

		while ((n = uiommu_ioas_areas(a, from, &ar, 1)) == 1) {
			if (ar.phys < b.bus_addr + b.len && b.bus_addr < ar.phys + ar.len)
				return; /* still mapped somewhere */
			if (ar.iova + ar.len == 0)
				break;
			from = ar.iova + ar.len;
		}
	}
	(void)uiommu_buf_free(ctx, phys);
}
