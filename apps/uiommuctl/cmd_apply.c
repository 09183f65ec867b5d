/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl apply LAYOUT: a declarative layout, applied all or nothing and
 * idempotently.
 *
 * Format: one statement a line; '#' starts a comment; numbers in C
 * notation, sizes with K/M/G.
 *
 *   device NAME unit=UNIT bdf=[SEG:]BB:DD.F [id=ID] [pasid-bits=N]
 *   ioas   NAME
 *   window IOAS iova=ADDR len=SIZE (alloc | phys=ADDR) [rw|r|w]
 *   attach DEVICE IOAS [pasid=N]
 *
 * Objects are found by name (uiommu_obj_find): a statement whose object
 * already exists as described changes nothing; one that contradicts the
 * state (same name, other description; a window overlapping another
 * mapping; a device attached elsewhere) is an error.  Three passes: parse
 * and check the file (file:line: message), plan against the state (still
 * nothing changed), execute with an undo log; on any failure the log is
 * undone in reverse, so the state is as before.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define LINE_MAX_LEN 512
#define MAX_STMTS    1024
#define MAX_TOKS     16

enum st_kind { ST_DEVICE = 1, ST_IOAS, ST_WINDOW, ST_ATTACH };

struct stmt {
	enum st_kind kind;
	int line;
	bool noop;		    /* plan: already there */
	char name[UIOMMU_NAME_MAX]; /* device / ioas: its name; window / attach: the IOAS */
	char dev[UIOMMU_NAME_MAX];  /* attach: the device */
	char unit[UIOMMU_NAME_MAX];
	uint16_t seg, rid;
	bool has_id;
	uint32_t id, pasid_bits, pasid, prot;
	uint64_t iova, len, phys;
	bool alloc;
};

struct layout {
	const char *file;
	struct stmt *st;
	int n;
};

static int lerr(const struct layout *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lerr(const struct layout *l, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uiommuctl: %s:%d: ", l->file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ------------------------------------------------------------- parsing */

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) >= UIOMMU_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_-.:", *p)))
			return false;
	return true;
}

/* key=value at @tok: the value, or NULL when the key differs. */
static const char *kv(const char *tok, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(tok, key, n) && tok[n] == '=' ? tok + n + 1 : NULL;
}

static int parse_stmt(const struct layout *l, int line, char **t, int nt, struct stmt *s)
{
	const char *v;
	uint64_t x;

	memset(s, 0, sizeof(*s));
	s->line = line;
	s->pasid = UIOMMU_NO_PASID;
	if (!strcmp(t[0], "device")) {
		s->kind = ST_DEVICE;
		if (nt < 2 || !name_ok(t[1]))
			return lerr(l, line, "device: expected a NAME (a letter first)");
		strcpy(s->name, t[1]);
		for (int i = 2; i < nt; i++) {
			if ((v = kv(t[i], "unit"))) {
				if (strlen(v) >= sizeof(s->unit))
					return lerr(l, line, "unit: too long");
				strcpy(s->unit, v);
			} else if ((v = kv(t[i], "bdf"))) {
				if (cli_parse_bdf(v, &s->seg, &s->rid))
					return lerr(l, line, "bad bdf '%s' ([SEG:]BB:DD.F)", v);
				s->alloc = true; /* bdf seen */
			} else if ((v = kv(t[i], "id"))) {
				if (cli_parse_u64(v, &x) || x > UINT32_MAX)
					return lerr(l, line, "bad id '%s'", v);
				s->id = (uint32_t)x;
				s->has_id = true;
			} else if ((v = kv(t[i], "pasid-bits"))) {
				if (cli_parse_u64(v, &x) || x > 20)
					return lerr(l, line, "bad pasid-bits '%s' (0..20)", v);
				s->pasid_bits = (uint32_t)x;
			} else {
				return lerr(l, line, "device: unknown field '%s'", t[i]);
			}
		}
		if (!s->unit[0] || !s->alloc)
			return lerr(l, line, "device %s: needs unit= and bdf=", s->name);
		s->alloc = false;
		if (!s->has_id)
			s->id = s->rid;
		return 0;
	}
	if (!strcmp(t[0], "ioas")) {
		s->kind = ST_IOAS;
		if (nt != 2 || !name_ok(t[1]))
			return lerr(l, line, "ioas: expected exactly a NAME (a letter first)");
		strcpy(s->name, t[1]);
		return 0;
	}
	if (!strcmp(t[0], "window")) {
		bool have_iova = false, have_src = false;

		s->kind = ST_WINDOW;
		s->prot = UIOMMU_MAP_READ | UIOMMU_MAP_WRITE;
		if (nt < 2 || !name_ok(t[1]))
			return lerr(l, line, "window: expected the IOAS name first");
		strcpy(s->name, t[1]);
		for (int i = 2; i < nt; i++) {
			if ((v = kv(t[i], "iova"))) {
				if (cli_parse_u64(v, &s->iova))
					return lerr(l, line, "bad iova '%s'", v);
				have_iova = true;
			} else if ((v = kv(t[i], "len"))) {
				if (cli_parse_size(v, &s->len) || !s->len)
					return lerr(l, line, "bad len '%s'", v);
			} else if ((v = kv(t[i], "phys"))) {
				if (cli_parse_u64(v, &s->phys) || have_src)
					return lerr(l, line,
						    "bad phys '%s' (or alloc and phys both)", v);
				have_src = true;
			} else if (!strcmp(t[i], "alloc")) {
				if (have_src)
					return lerr(l, line, "alloc and phys= both given");
				s->alloc = have_src = true;
			} else if (!strcmp(t[i], "rw") || !strcmp(t[i], "r") ||
				   !strcmp(t[i], "w")) {
				s->prot = (strchr(t[i], 'r') ? UIOMMU_MAP_READ : 0) |
					  (strchr(t[i], 'w') ? UIOMMU_MAP_WRITE : 0);
			} else {
				return lerr(l, line, "window: unknown field '%s'", t[i]);
			}
		}
		if (!have_iova || !s->len || !have_src)
			return lerr(l, line, "window: needs iova=, len= and alloc or phys=");
		if ((s->iova | s->len | s->phys) & 0xfff)
			return lerr(l, line, "window: iova, len and phys must be 4 KiB aligned");
		if (s->iova + s->len - 1 < s->iova)
			return lerr(l, line, "window: range wraps around");
		return 0;
	}
	if (!strcmp(t[0], "attach")) {
		s->kind = ST_ATTACH;
		if (nt < 3 || nt > 4 || !name_ok(t[1]) || !name_ok(t[2]))
			return lerr(l, line, "attach: expected DEVICE IOAS [pasid=N] (names)");
		strcpy(s->dev, t[1]);
		strcpy(s->name, t[2]);
		if (nt == 4) {
			if (!(v = kv(t[3], "pasid")) || cli_parse_u64(v, &x) || x >= (1u << 20))
				return lerr(l, line, "attach: bad '%s' (pasid=N)", t[3]);
			s->pasid = (uint32_t)x;
		}
		return 0;
	}
	return lerr(l, line, "unknown statement '%s' (device, ioas, window, attach)", t[0]);
}

static struct stmt *find_decl(const struct layout *l, enum st_kind k, const char *name, int upto)
{
	for (int i = 0; i < upto; i++)
		if (l->st[i].kind == k && !strcmp(l->st[i].name, name))
			return &l->st[i];
	return NULL;
}

/* Checks within the file: unique names, windows not overlapping. */
static int check_file(const struct layout *l)
{
	for (int i = 0; i < l->n; i++) {
		const struct stmt *s = &l->st[i];

		if ((s->kind == ST_DEVICE || s->kind == ST_IOAS)) {
			for (int j = 0; j < i; j++)
				if ((l->st[j].kind == ST_DEVICE || l->st[j].kind == ST_IOAS) &&
				    !strcmp(l->st[j].name, s->name))
					return lerr(l, s->line,
						    "'%s' is declared already (line %d)", s->name,
						    l->st[j].line);
		}
		if (s->kind == ST_WINDOW) {
			for (int j = 0; j < i; j++) {
				const struct stmt *o = &l->st[j];

				if (o->kind == ST_WINDOW && !strcmp(o->name, s->name) &&
				    s->iova <= o->iova + o->len - 1 &&
				    o->iova <= s->iova + s->len - 1)
					return lerr(l, s->line,
						    "window overlaps the window of line %d in %s",
						    o->line, s->name);
			}
		}
		if (s->kind == ST_ATTACH) {
			for (int j = 0; j < i; j++)
				if (l->st[j].kind == ST_ATTACH && !strcmp(l->st[j].dev, s->dev) &&
				    l->st[j].pasid == s->pasid)
					return lerr(l, s->line,
						    "%s %s is attached already (line %d)", s->dev,
						    s->pasid == UIOMMU_NO_PASID ? "RID" : "PASID",
						    l->st[j].line);
		}
	}
	return 0;
}

static int parse_file(struct layout *l)
{
	char buf[LINE_MAX_LEN + 2];
	FILE *f = fopen(l->file, "r");
	int line = 0, rc = 0;

	if (!f) {
		cli_err("%s: %s", l->file, strerror(errno));
		return -1;
	}
	l->st = calloc(MAX_STMTS, sizeof(*l->st));
	if (!l->st) {
		fclose(f);
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *t[MAX_TOKS], *p, *save = NULL;
		int nt = 0;

		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = lerr(l, line, "line too long (max %d)", LINE_MAX_LEN);
			break;
		}
		if ((p = strchr(buf, '#')))
			*p = '\0';
		for (p = strtok_r(buf, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
			if (nt == MAX_TOKS) {
				rc = lerr(l, line, "too many fields");
				break;
			}
			t[nt++] = p;
		}
		if (rc)
			break;
		if (!nt)
			continue;
		if (l->n == MAX_STMTS) {
			rc = lerr(l, line, "too many statements (max %d)", MAX_STMTS);
			break;
		}
		rc = parse_stmt(l, line, t, nt, &l->st[l->n]);
		if (rc)
			break;
		l->n++;
	}
	fclose(f);
	return rc ? rc : check_file(l);
}

/* ---------------------------------------------------------------- plan */

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
		struct stmt *s = &l->st[i];
		uint32_t id;

		switch (s->kind) {
		case ST_DEVICE: {
			struct uiommu_device *d;
			struct uiommu_unit *u;
			struct uiommu_device_desc dd;
			uint64_t uid;

			u = cli_parse_u64(s->unit, &uid) == 0
				    ? uiommu_unit_get(ctx, (uint32_t)uid)
				    : uiommu_unit_get(ctx, uiommu_obj_find(ctx, s->unit));
			if (!u)
				return lerr(l, s->line, "no unit '%s'", s->unit);
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
							s->unit, s->id, uiommu_device_id(d));
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
	enum st_kind kind;
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

static int exec_stmt(struct uiommu_ctx *ctx, const struct layout *l, const struct stmt *s,
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
		uint64_t uid;
		struct uiommu_unit *un =
			cli_parse_u64(s->unit, &uid) == 0
				? uiommu_unit_get(ctx, (uint32_t)uid)
				: uiommu_unit_get(ctx, uiommu_obj_find(ctx, s->unit));
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
	bool dry = false;
	int rc, done = 0, pending = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (!l.file)
			l.file = argv[i];
		else
			return CLI_USAGE;
	}
	if (!l.file)
		return CLI_USAGE;
	if (parse_file(&l)) {
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
	free(l.st);
	cli_state_close(ctx);
	return rc;
}
