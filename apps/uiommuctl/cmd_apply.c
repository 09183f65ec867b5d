/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl apply LAYOUT: a declarative layout, applied all or nothing and
 * idempotently.  The format and its parser: layout.h, layout.c.
 *
 * Objects are found by name (uiommu_obj_find): a statement whose object
 * already exists as described changes nothing; one that contradicts the
 * state (same name, other description; a PCI address another device has; a
 * window overlapping another mapping; a device attached elsewhere) is an
 * error.  Three passes: parse and check the file (file:line: message), plan
 * against the state (still nothing changed), execute with an undo log; on
 * any failure the log is undone in reverse, so the state is as before.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "layout.h"

#define lerr layout_err

/* ---------------------------------------------------------------- plan */

static struct layout_stmt *find_decl(const struct layout *l, enum layout_kind k, const char *name,
				     int upto)
{
	for (int i = 0; i < upto; i++)
		if (l->st[i].kind == k && !strcmp(l->st[i].name, name))
			return &l->st[i];
	return NULL;
}

/* The unit a device statement names (by ID or by name), or NULL. */
static struct uiommu_unit *stmt_unit(struct uiommu_ctx *ctx, const struct layout_stmt *s)
{
	return uiommu_unit_get(ctx, s->unit_id ? s->unit_id : uiommu_obj_find(ctx, s->unit));
}

/* The unit as the file names it, for messages. */
static const char *stmt_unit_ref(const struct layout_stmt *s, char *buf, size_t len)
{
	if (!s->unit_id)
		return s->unit;
	snprintf(buf, len, "%u", s->unit_id);
	return buf;
}

static uint32_t attached_ioas(struct uiommu_device *d, uint32_t pasid, bool *attached)
{
	struct uiommu_attach_info at[64];
	uint32_t n = uiommu_device_attachments(d, at, 64);

	*attached = false;
	for (uint32_t i = 0; i < n && i < 64; i++)
		if (at[i].pasid == pasid) {
			*attached = true;
			return at[i].ioas_id;
		}
	return 0;
}

/* Compare every statement with the state: noop, to do, or a conflict. */
static int plan(struct uiommu_ctx *ctx, struct layout *l)
{
	for (int i = 0; i < l->n; i++) {
		struct layout_stmt *s = &l->st[i];
		uint32_t id;

		switch (s->kind) {
		case ST_DEVICE: {
			struct uiommu_device *d;
			struct uiommu_unit *u;
			struct uiommu_device_desc dd;
			char ub[16], bdf[32];

			u = stmt_unit(ctx, s);
			if (!u)
				return lerr(l, s->line, "no unit '%s'",
					    stmt_unit_ref(s, ub, sizeof(ub)));
			id = uiommu_obj_find(ctx, s->name);
			if (!id) {
				for (d = uiommu_device_next(ctx, NULL); d;
				     d = uiommu_device_next(ctx, d)) {
					uiommu_device_get_desc(d, &dd);
					if (uiommu_device_unit(d) == u && dd.hw_id == s->id)
						return lerr(
							l, s->line,
							"unit %s has a device with id %#x already "
							"(device %u)",
							stmt_unit_ref(s, ub, sizeof(ub)), s->id,
							uiommu_device_id(d));
					if (dd.segment == s->seg &&
					    (uint16_t)(dd.bus << 8 | dd.devfn) == s->rid) {
						cli_fmt_bdf(bdf, sizeof(bdf), s->seg, s->rid);
						return lerr(l, s->line,
							    "device %s: %s exists already (device "
							    "%u): a PCI address is added once",
							    s->name, bdf, uiommu_device_id(d));
					}
				}
				break;
			}
			d = uiommu_device_get(ctx, id);
			if (!d)
				return lerr(l, s->line, "'%s' exists and is not a device", s->name);
			uiommu_device_get_desc(d, &dd);
			if (uiommu_device_unit(d) != u || dd.segment != s->seg ||
			    (uint16_t)(dd.bus << 8 | dd.devfn) != s->rid || dd.hw_id != s->id ||
			    dd.pasid_bits != s->pasid_bits)
				return lerr(
					l, s->line,
					"device %s exists with another description (see 'device "
					"show %s')",
					s->name, s->name);
			s->noop = true;
			break;
		}
		case ST_IOAS:
			id = uiommu_obj_find(ctx, s->name);
			if (id && !uiommu_ioas_get(ctx, id))
				return lerr(l, s->line, "'%s' exists and is not an IOAS", s->name);
			s->noop = id != 0;
			break;
		case ST_WINDOW: {
			struct uiommu_ioas *a = uiommu_ioas_get(ctx, uiommu_obj_find(ctx, s->name));
			struct uiommu_area_info ar;

			if (!a && !find_decl(l, ST_IOAS, s->name, i))
				return lerr(l, s->line,
					    "no IOAS '%s' (declare it with 'ioas %s' above)",
					    s->name, s->name);
			if (!a)
				break;
			if (uiommu_ioas_lookup(a, s->iova, &ar) == 0 && ar.iova == s->iova &&
			    ar.len == s->len && ar.prot == s->prot &&
			    (s->alloc || ar.phys == s->phys)) {
				s->noop = true;
				break;
			}
			if (uiommu_ioas_areas(a, s->iova, &ar, 1) == 1 &&
			    ar.iova <= s->iova + s->len - 1)
				return lerr(l, s->line,
					    "window %#" PRIx64 "+%#" PRIx64
					    " overlaps the mapping at %#" PRIx64 "+%#" PRIx64
					    " of %s",
					    s->iova, s->len, ar.iova, ar.len, s->name);
			if (uiommu_ioas_lookup(a, s->iova, &ar) == 0)
				return lerr(l, s->line,
					    "window %#" PRIx64
					    " lies inside the mapping at %#" PRIx64 " of %s",
					    s->iova, ar.iova, s->name);
			break;
		}
		case ST_ATTACH: {
			struct uiommu_device *d =
				uiommu_device_get(ctx, uiommu_obj_find(ctx, s->dev));
			uint32_t aid = uiommu_obj_find(ctx, s->name), cur;
			bool att;

			if (!d && !find_decl(l, ST_DEVICE, s->dev, i))
				return lerr(l, s->line, "no device '%s'", s->dev);
			if (!uiommu_ioas_get(ctx, aid) && !find_decl(l, ST_IOAS, s->name, i))
				return lerr(l, s->line, "no IOAS '%s'", s->name);
			if (!d)
				break;
			cur = attached_ioas(d, s->pasid, &att);
			if (att && aid && cur == aid) {
				s->noop = true;
			} else if (att) {
				return lerr(l, s->line,
					    "%s %s is attached elsewhere (ioas %u): detach it "
					    "first",
					    s->dev, s->pasid == UIOMMU_NO_PASID ? "RID" : "PASID",
					    cur);
			}
			break;
		}
		}
	}
	return 0;
}

/* ------------------------------------------------------------- execute */

struct undo {
	enum layout_kind kind;
	uint32_t id;   /* device / ioas created; device attached */
	uint32_t ioas; /* window */
	uint64_t iova, len, buf;
	uint32_t pasid;
};

static void rollback(struct uiommu_ctx *ctx, struct undo *u, int n)
{
	while (n--) {
		switch (u[n].kind) {
		case ST_ATTACH:
			(void)uiommu_device_detach(uiommu_device_get(ctx, u[n].id), u[n].pasid);
			break;
		case ST_WINDOW:
			(void)uiommu_ioas_unmap(uiommu_ioas_get(ctx, u[n].ioas), u[n].iova,
						u[n].len, NULL);
			if (u[n].buf)
				(void)uiommu_buf_free(ctx, u[n].buf);
			break;
		case ST_IOAS:
			(void)uiommu_ioas_destroy(uiommu_ioas_get(ctx, u[n].id));
			break;
		case ST_DEVICE:
			(void)uiommu_device_remove(uiommu_device_get(ctx, u[n].id));
			break;
		}
	}
}

static int exec_stmt(struct uiommu_ctx *ctx, const struct layout *l, const struct layout_stmt *s,
		     struct undo *u)
{
	int rc = 0;

	memset(u, 0, sizeof(*u));
	u->kind = s->kind;
	switch (s->kind) {
	case ST_DEVICE: {
		struct uiommu_device_desc dd = {
			.segment = s->seg,
			.bus = (uint8_t)(s->rid >> 8),
			.devfn = (uint8_t)s->rid,
			.hw_id = s->id,
			.pasid_bits = s->pasid_bits,
		};
		struct uiommu_unit *un = stmt_unit(ctx, s);
		struct uiommu_device *d;

		rc = uiommu_device_add(un, &dd, &d);
		if (rc)
			break;
		u->id = uiommu_device_id(d);
		rc = uiommu_obj_set_name(ctx, u->id, s->name);
		break;
	}
	case ST_IOAS: {
		struct uiommu_ioas *a;

		rc = uiommu_ioas_alloc(ctx, &a);
		if (rc)
			break;
		u->id = uiommu_ioas_id(a);
		rc = uiommu_obj_set_name(ctx, u->id, s->name);
		break;
	}
	case ST_WINDOW: {
		struct uiommu_ioas *a = uiommu_ioas_get(ctx, uiommu_obj_find(ctx, s->name));
		uint64_t phys = s->phys, iova = s->iova;
		void *va;

		if (s->alloc) {
			rc = uiommu_buf_alloc(ctx, s->len, &va, &phys);
			if (rc)
				break;
		} else if (cli_state_is_model()) {
			struct uiommu_buf_info b;

			if (uiommu_buf_lookup(ctx, phys, &b) || phys + s->len > b.bus_addr + b.len) {
				lerr(l, s->line,
				     "on a model, phys= must lie inside an alloc buffer");
				return -EINVAL;
			}
		}
		rc = uiommu_ioas_map(a, &iova, phys, s->len, s->prot | UIOMMU_MAP_FIXED_IOVA);
		if (rc) {
			if (s->alloc)
				(void)uiommu_buf_free(ctx, phys);
			break;
		}
		u->ioas = uiommu_ioas_id(a);
		u->iova = iova;
		u->len = s->len;
		u->buf = s->alloc ? phys : 0;
		break;
	}
	case ST_ATTACH: {
		struct uiommu_device *d = uiommu_device_get(ctx, uiommu_obj_find(ctx, s->dev));
		uint32_t hwpt;

		rc = uiommu_device_attach(d, s->pasid, uiommu_obj_find(ctx, s->name), &hwpt);
		if (rc)
			break;
		u->id = uiommu_device_id(d);
		u->pasid = s->pasid;
		break;
	}
	}
	if (rc) {
		static const char *const what[] = {"", "device", "ioas", "window", "attach"};
		const char *hint = rc == -EADDRINUSE && s->kind == ST_ATTACH
					   ? " (the device's reserved regions, e.g. the MSI window "
					     "0xfee00000-0xfeefffff, intersect a window)"
				   : rc == -EINVAL && s->kind == ST_WINDOW
					   ? " (inside a reserved range?)"
					   : "";

		lerr(l, s->line, "%s %s: %s%s", what[s->kind],
		     s->kind == ST_ATTACH ? s->dev : s->name, uiommu_strerror(rc), hint);
		/* A half-done statement (created, not named) is undone here. */
		if (u->id && (s->kind == ST_DEVICE || s->kind == ST_IOAS))
			rollback(ctx, u, 1);
		return rc;
	}
	return 0;
}

int cmd_apply(const struct cli_opts *opts, int argc, char **argv)
{
	struct layout l = {0};
	struct uiommu_ctx *ctx = NULL;
	struct undo *log = NULL;
	const char *file = NULL;
	bool dry = false;
	int rc, done = 0, pending = 0, np = 0;

	for (int i = 0; i < argc; i++) {
		int m = cli_flag(argv[i], "--dry-run", &dry);

		if (m < 0)
			return CLI_USAGE;
		if (!m && cli_pos_arg(argv[i], &file, &np, 1))
			return CLI_USAGE;
	}
	if (!file)
		return CLI_USAGE;
	l.err = stderr;
	if (layout_read(&l, file)) {
		rc = CLI_FAILED;
		goto out;
	}
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		goto out;
	if (plan(ctx, &l)) {
		cli_err("%s: nothing changed", l.file);
		rc = CLI_FAILED;
		goto out;
	}
	for (int i = 0; i < l.n; i++)
		pending += !l.st[i].noop;
	log = calloc((size_t)l.n + 1, sizeof(*log));
	if (!log) {
		rc = cli_fail(-ENOMEM, "apply");
		goto out;
	}
	for (int i = 0; i < l.n && !dry; i++) {
		if (l.st[i].noop)
			continue;
		if (exec_stmt(ctx, &l, &l.st[i], &log[done])) {
			rollback(ctx, log, done);
			cli_err("%s: undone, nothing changed", l.file);
			rc = CLI_FAILED;
			goto out;
		}
		done++;
	}
	if (opts->json) {
		json_t *o = json_object();

		json_object_set_new(o, "file", json_string(l.file));
		json_object_set_new(o, "statements", json_integer(l.n));
		json_object_set_new(o, "changed", json_integer(dry ? 0 : pending));
		json_object_set_new(o, dry ? "would_change" : "unchanged",
				    json_integer(dry ? pending : l.n - pending));
		cli_json_print(o);
		json_decref(o);
	} else if (!pending) {
		printf("%s: nothing to do (%d statements already in place)\n", l.file, l.n);
	} else {
		printf("%s: %s %d of %d statements (%d already in place)\n", l.file,
		       dry ? "would apply" : "applied", pending, l.n, l.n - pending);
	}
	rc = CLI_OK;
out:
	free(log);
	layout_free(&l);
	cli_state_close(ctx);
	return rc;
}
