/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl apply: parsing and checking a layout file (layout.h has the
 * format).  No state, no library calls: the layout fuzzer runs this alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_parse.h"
#include "layout.h"

#define MAX_TOKS 16

int layout_err(const struct layout *l, int line, const char *fmt, ...)
{
	va_list ap;

	if (!l->err)
		return -1;
	fprintf(l->err, "uiommuctl: %s:%d: ", l->file ? l->file : "-", line);
	va_start(ap, fmt);
	vfprintf(l->err, fmt, ap);
	va_end(ap);
	fputc('\n', l->err);
	return -1;
}

/* A message about the whole file: "uiommuctl: FILE: message". */
static int file_err(const struct layout *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int file_err(const struct layout *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->err)
		return -1;
	fprintf(l->err, "uiommuctl: %s: ", l->file ? l->file : "-");
	va_start(ap, fmt);
	vfprintf(l->err, fmt, ap);
	va_end(ap);
	fputc('\n', l->err);
	return -1;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* key=value at @tok: the value, or NULL when the key differs. */
static const char *kv(const char *tok, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(tok, key, n) && tok[n] == '=' ? tok + n + 1 : NULL;
}

/* A name (CLI_NAME_RULE) into @dst, or a message naming @what. */
static int take_name(const struct layout *l, int line, const char *what, const char *s, char *dst)
{
	const char *why = cli_name_problem(s);

	if (why)
		return layout_err(l, line, "%s: bad name '%s': %s (names: %s)", what, s, why,
				  CLI_NAME_RULE);
	strcpy(dst, s); /* cli_name_problem() checked the length */
	return 0;
}

/* The field bit of a key=value (or flag) token; a field may appear once. */
static int once(const struct layout *l, int line, unsigned int *seen, unsigned int bit,
		const char *field)
{
	if (*seen & bit)
		return layout_err(l, line, "field %s given twice", field);
	*seen |= bit;
	return 0;
}

static int parse_device(const struct layout *l, int line, char **t, int nt, struct layout_stmt *s)
{
	enum { F_UNIT = 1, F_BDF = 2, F_ID = 4, F_PB = 8 };
	unsigned int seen = 0;
	const char *v;
	uint64_t x;

	s->kind = ST_DEVICE;
	if (nt < 2)
		return layout_err(l, line, "device: expected a NAME");
	if (take_name(l, line, "device", t[1], s->name))
		return -1;
	for (int i = 2; i < nt; i++) {
		if ((v = kv(t[i], "unit"))) {
			if (once(l, line, &seen, F_UNIT, "unit="))
				return -1;
			/* A name starts with a letter or '_'; anything else is
			 * meant as an ID and must be one. */
			if (!is_name_start(v[0])) {
				if (cli_parse_range(v, 1, UINT32_MAX, &x))
					return layout_err(l, line,
							  "bad unit '%s' (a unit ID, 1 .. %u, or a "
							  "unit name)",
							  v, UINT32_MAX);
				s->unit_id = (uint32_t)x;
			} else if (take_name(l, line, "unit", v, s->unit)) {
				return -1;
			}
		} else if ((v = kv(t[i], "bdf"))) {
			if (once(l, line, &seen, F_BDF, "bdf="))
				return -1;
			if (cli_parse_bdf(v, &s->seg, &s->rid))
				return layout_err(l, line,
						  "bad bdf '%s' ([[SEG:]BUS:]DEV.FN, hex: SEG <= "
						  "ffff, BUS <= ff, DEV <= 1f, FN <= 7)",
						  v);
		} else if ((v = kv(t[i], "id"))) {
			if (once(l, line, &seen, F_ID, "id="))
				return -1;
			if (cli_parse_range(v, 0, UINT32_MAX, &x))
				return layout_err(l, line, "bad id '%s' (0 .. %#x)", v, UINT32_MAX);
			s->id = (uint32_t)x;
			s->has_id = true;
		} else if ((v = kv(t[i], "pasid-bits"))) {
			if (once(l, line, &seen, F_PB, "pasid-bits="))
				return -1;
			if (cli_parse_range(v, 0, 20, &x))
				return layout_err(l, line, "bad pasid-bits '%s' (0 .. 20)", v);
			s->pasid_bits = (uint32_t)x;
		} else {
			return layout_err(l, line, "device: unknown field '%s'", t[i]);
		}
	}
	if (!(seen & F_UNIT) || !(seen & F_BDF))
		return layout_err(l, line, "device %s: needs unit= and bdf=", s->name);
	if (!s->has_id)
		s->id = s->rid;
	return 0;
}

static int parse_window(const struct layout *l, int line, char **t, int nt, struct layout_stmt *s)
{
	enum { F_IOVA = 1, F_LEN = 2, F_SRC = 4, F_PROT = 8 };
	unsigned int seen = 0;
	const char *v;

	s->kind = ST_WINDOW;
	s->prot = UIOMMU_MAP_READ | UIOMMU_MAP_WRITE;
	if (nt < 2)
		return layout_err(l, line, "window: expected the IOAS name first");
	if (take_name(l, line, "window", t[1], s->name))
		return -1;
	for (int i = 2; i < nt; i++) {
		if ((v = kv(t[i], "iova"))) {
			if (once(l, line, &seen, F_IOVA, "iova="))
				return -1;
			if (cli_parse_u64(v, &s->iova))
				return layout_err(l, line, "bad iova '%s' (a 64-bit number)", v);
		} else if ((v = kv(t[i], "len"))) {
			if (once(l, line, &seen, F_LEN, "len="))
				return -1;
			if (cli_parse_size(v, &s->len) || !s->len)
				return layout_err(l, line,
						  "bad len '%s' (a size, not 0, below 2^64)", v);
		} else if ((v = kv(t[i], "phys"))) {
			if (seen & F_SRC)
				return layout_err(l, line, "give one of alloc or phys=, once");
			seen |= F_SRC;
			if (cli_parse_u64(v, &s->phys))
				return layout_err(l, line, "bad phys '%s' (a 64-bit number)", v);
		} else if (!strcmp(t[i], "alloc")) {
			if (seen & F_SRC)
				return layout_err(l, line, "give one of alloc or phys=, once");
			seen |= F_SRC;
			s->alloc = true;
		} else if (!strcmp(t[i], "rw") || !strcmp(t[i], "r") || !strcmp(t[i], "w")) {
			if (once(l, line, &seen, F_PROT, "rw|r|w"))
				return -1;
			s->prot = (strchr(t[i], 'r') ? UIOMMU_MAP_READ : 0) |
				  (strchr(t[i], 'w') ? UIOMMU_MAP_WRITE : 0);
		} else {
			return layout_err(l, line, "window: unknown field '%s'", t[i]);
		}
	}
	if (!(seen & F_IOVA) || !(seen & F_LEN) || !(seen & F_SRC))
		return layout_err(l, line, "window: needs iova=, len= and alloc or phys=");
	if ((s->iova | s->len | s->phys) & 0xfff)
		return layout_err(l, line, "window: iova, len and phys must be 4 KiB aligned");
	if (s->iova + (s->len - 1) < s->iova || s->phys + (s->len - 1) < s->phys)
		return layout_err(l, line, "window: range wraps around");
	return 0;
}

static int parse_stmt(const struct layout *l, int line, char **t, int nt, struct layout_stmt *s)
{
	const char *v;
	uint64_t x;

	memset(s, 0, sizeof(*s));
	s->line = line;
	s->pasid = UIOMMU_NO_PASID;
	if (!strcmp(t[0], "device"))
		return parse_device(l, line, t, nt, s);
	if (!strcmp(t[0], "ioas")) {
		s->kind = ST_IOAS;
		if (nt != 2)
			return layout_err(l, line, "ioas: expected exactly a NAME");
		return take_name(l, line, "ioas", t[1], s->name);
	}
	if (!strcmp(t[0], "window"))
		return parse_window(l, line, t, nt, s);
	if (!strcmp(t[0], "attach")) {
		s->kind = ST_ATTACH;
		if (nt < 3 || nt > 4)
			return layout_err(l, line, "attach: expected DEVICE IOAS [pasid=N]");
		if (take_name(l, line, "attach", t[1], s->dev) ||
		    take_name(l, line, "attach", t[2], s->name))
			return -1;
		if (nt == 4) {
			if (!(v = kv(t[3], "pasid")) || cli_parse_range(v, 0, (1u << 20) - 1, &x))
				return layout_err(l, line,
						  "attach: bad '%s' (pasid=N, 0 .. 0xfffff)", t[3]);
			s->pasid = (uint32_t)x;
		}
		return 0;
	}
	return layout_err(l, line, "unknown statement '%s' (device, ioas, window, attach)", t[0]);
}

/* Checks within the file: unique names and PCI addresses, windows not
 * overlapping, one attachment per RID / PASID. */
static int check_file(const struct layout *l)
{
	for (int i = 0; i < l->n; i++) {
		const struct layout_stmt *s = &l->st[i];

		for (int j = 0; j < i; j++) {
			const struct layout_stmt *o = &l->st[j];

			if ((s->kind == ST_DEVICE || s->kind == ST_IOAS) &&
			    (o->kind == ST_DEVICE || o->kind == ST_IOAS) &&
			    !strcmp(o->name, s->name))
				return layout_err(l, s->line, "'%s' is declared already (line %d)",
						  s->name, o->line);
			if (s->kind == ST_DEVICE && o->kind == ST_DEVICE && o->seg == s->seg &&
			    o->rid == s->rid)
				return layout_err(l, s->line,
						  "device %s: its PCI address is device %s's "
						  "already (line %d)",
						  s->name, o->name, o->line);
			if (s->kind == ST_WINDOW && o->kind == ST_WINDOW &&
			    !strcmp(o->name, s->name) && s->iova <= o->iova + o->len - 1 &&
			    o->iova <= s->iova + s->len - 1)
				return layout_err(l, s->line,
						  "window overlaps the window of line %d in %s",
						  o->line, s->name);
			if (s->kind == ST_ATTACH && o->kind == ST_ATTACH &&
			    !strcmp(o->dev, s->dev) && o->pasid == s->pasid)
				return layout_err(
					l, s->line, "%s %s is attached already (line %d)", s->dev,
					s->pasid == UIOMMU_NO_PASID ? "RID" : "PASID", o->line);
		}
	}
	return 0;
}

/* One line (@len bytes, no newline) into l->st[l->n]. */
static int parse_line(struct layout *l, int line, const char *p, size_t len)
{
	char buf[LAYOUT_LINE_MAX + 1], *t[MAX_TOKS], *tok, *save = NULL, *hash;
	int nt = 0;

	if (memchr(p, '\0', len))
		return layout_err(l, line, "NUL byte at line %d (a layout is a text file)", line);
	if (len > LAYOUT_LINE_MAX)
		return layout_err(l, line, "line too long (max %d characters)", LAYOUT_LINE_MAX);
	memcpy(buf, p, len);
	buf[len] = '\0';
	if ((hash = strchr(buf, '#')))
		*hash = '\0';
	for (tok = strtok_r(buf, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (nt == MAX_TOKS)
			return layout_err(l, line, "too many fields (max %d)", MAX_TOKS);
		t[nt++] = tok;
	}
	if (!nt)
		return 0;
	if (l->n == LAYOUT_MAX_STMTS)
		return layout_err(l, line, "too many statements (max %d)", LAYOUT_MAX_STMTS);
	if (parse_stmt(l, line, t, nt, &l->st[l->n]))
		return -1;
	l->n++;
	return 0;
}

int layout_parse(struct layout *l, const char *buf, size_t len)
{
	size_t off = 0;
	int line = 0;

	l->n = 0;
	if (!l->st) {
		l->st = calloc(LAYOUT_MAX_STMTS, sizeof(*l->st));
		if (!l->st)
			return file_err(l, "out of memory");
	}
	while (off < len) {
		const char *p = buf + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;

		if (parse_line(l, ++line, p, n))
			return -1;
		off += n + 1;
	}
	return check_file(l);
}

int layout_read(struct layout *l, const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = -1;

	l->file = path;
	/* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return file_err(l, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		file_err(l, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		file_err(l, "not a regular file (%s): a layout is a text file",
			 S_ISDIR(st.st_mode)	? "a directory"
			 : S_ISFIFO(st.st_mode) ? "a FIFO"
			 : S_ISCHR(st.st_mode)	? "a character device"
			 : S_ISBLK(st.st_mode)	? "a block device"
			 : S_ISSOCK(st.st_mode) ? "a socket"
						: "not a file");
		goto out;
	}
	if ((uint64_t)st.st_size > LAYOUT_FILE_MAX) {
		file_err(l, "too large (%lld bytes; at most %u)", (long long)st.st_size,
			 LAYOUT_FILE_MAX);
		goto out;
	}
	buf = malloc(LAYOUT_FILE_MAX + 1);
	if (!buf) {
		file_err(l, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, LAYOUT_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			file_err(l, "read error: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > LAYOUT_FILE_MAX) {
			file_err(l, "too large (more than %u bytes)", LAYOUT_FILE_MAX);
			goto out;
		}
	}
	rc = layout_parse(l, buf, len);
out:
	free(buf);
	close(fd);
	return rc;
}

void layout_free(struct layout *l)
{
	free(l->st);
	l->st = NULL;
	l->n = 0;
}
