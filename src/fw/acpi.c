/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Common ACPI table handling: header and checksum checks, diagnostics and
 * the appenders that grow the topology lists.  Pure memory code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/fw_internal.h"

void fw_printable(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t i;

	if (!dstlen)
		return;
	for (i = 0; i < n && i + 1 < dstlen; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[i] = '\0';
}

static void diag_v(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt,
		   va_list ap) __attribute__((format(printf, 4, 0)));
static void diag_v(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt,
		   va_list ap)
{
	struct uiommu_fw_topo *t = c->topo;
	struct uiommu_fw_diag *d;
	size_t n = t->ndiags;

	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n < 8 ? 8 : 2 * n;
		void *p = realloc(t->diags, cap * sizeof(*t->diags));

		if (!p) {
			t->oom = true;
			return;
		}
		t->diags = p;
	}
	d = &t->diags[t->ndiags++];
	memset(d, 0, sizeof(*d));
	d->severity = sev;
	memcpy(d->table, c->sig, sizeof(d->table));
	d->offset = off;
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	if ((int)sev > t->worst)
		t->worst = (int)sev;
}

static void diag(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diag(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c, sev, off, fmt, ap);
	va_end(ap);
}

/* One more entry of this table's budget (FW_MAX_ENTRIES); past it, one
 * error names the limit and nothing more is added. */
static bool budget(struct fw_ctx *c, uint32_t off)
{
	if (c->full)
		return false;
	if (c->nent < FW_MAX_ENTRIES) {
		c->nent++;
		return true;
	}
	c->full = true;
	diag(c, UIOMMU_FW_ERROR, off,
	     "more than %u structures, entries and messages in one table (hostile or corrupt?); "
	     "the rest of the table is ignored",
	     FW_MAX_ENTRIES);
	return false;
}

void fw_diag(struct fw_ctx *c, enum uiommu_fw_severity sev, uint32_t off, const char *fmt, ...)
{
	va_list ap;

	if (!budget(c, off))
		return;
	va_start(ap, fmt);
	diag_v(c, sev, off, fmt, ap);
	va_end(ap);
}

/* Grow a list by one zeroed element; capacity follows powers of two. */
static void *grow(struct uiommu_fw_topo *t, void **arr, size_t *n, size_t elem)
{
	uint8_t *p;

	if (t->oom)
		return NULL;
	if (*n == 0 || (*n & (*n - 1)) == 0) {
		size_t cap = *n < 8 ? 8 : 2 * *n;
		void *np = realloc(*arr, cap * elem);

		if (!np) {
			t->oom = true;
			return NULL;
		}
		*arr = np;
	}
	p = (uint8_t *)*arr + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

struct uiommu_fw_unit *fw_add_unit(struct fw_ctx *c)
{
	struct uiommu_fw_topo *t = c->topo;
	struct uiommu_fw_unit *u;

	if (c->nunits >= FW_MAX_UNITS) {
		if (!c->units_full)
			fw_diag(c, UIOMMU_FW_ERROR, 0,
				"more than %u IOMMU units in one table (hostile or corrupt?); "
				"the others are ignored",
				FW_MAX_UNITS);
		c->units_full = true;
		return NULL;
	}
	u = grow(t, (void **)&t->units, &t->nunits, sizeof(*u));
	if (u) {
		u->proximity = -1;
		c->nunits++;
	}
	return u;
}

struct uiommu_fw_devmap *fw_add_dev(struct fw_ctx *c, int unit, enum uiommu_fw_devkind kind,
				    uint32_t off)
{
	struct uiommu_fw_topo *t = c->topo;
	struct uiommu_fw_devmap *d =
		budget(c, off) ? grow(t, (void **)&t->devs, &t->ndevs, sizeof(*d)) : NULL;

	if (d) {
		d->unit = unit;
		d->kind = kind;
		d->offset = off;
	}
	return d;
}

struct uiommu_fw_resv *fw_add_resv(struct fw_ctx *c, enum uiommu_fw_resv_source src, uint32_t off)
{
	struct uiommu_fw_topo *t = c->topo;
	struct uiommu_fw_resv *r =
		budget(c, off) ? grow(t, (void **)&t->resv, &t->nresv, sizeof(*r)) : NULL;

	if (r) {
		r->source = src;
		r->offset = off;
		r->unit = -1;
	}
	return r;
}

struct uiommu_fw_item *fw_add_item(struct fw_ctx *c, unsigned int depth, uint32_t off,
				   uint32_t length, uint32_t type, const char *kind)
{
	struct uiommu_fw_topo *t = c->topo;
	struct uiommu_fw_item *it =
		budget(c, off) ? grow(t, (void **)&t->items, &t->nitems, sizeof(*it)) : NULL;

	if (it) {
		memcpy(it->table, c->sig, sizeof(it->table));
		it->depth = (uint8_t)depth;
		it->offset = off;
		it->length = length;
		it->type = type;
		it->kind = kind;
	}
	return it;
}

void fw_field(struct uiommu_fw_item *it, const char *name, uint64_t v)
{
	if (!it || it->nfields >= UIOMMU_FW_ITEM_FIELDS)
		return;
	it->fields[it->nfields].name = name;
	it->fields[it->nfields].value = v;
	it->fields[it->nfields].str[0] = '\0';
	it->nfields++;
}

void fw_field_str(struct uiommu_fw_item *it, const char *name, const char *fmt, ...)
{
	struct uiommu_fw_field *f;
	va_list ap;

	if (!it || it->nfields >= UIOMMU_FW_ITEM_FIELDS)
		return;
	f = &it->fields[it->nfields++];
	f->name = name;
	f->value = 0;
	va_start(ap, fmt);
	vsnprintf(f->str, sizeof(f->str), fmt, ap);
	va_end(ap);
	if (!f->str[0]) /* keep "text" distinguishable from numbers */
		snprintf(f->str, sizeof(f->str), "%s", "\"\"");
}

int fw_begin(struct fw_ctx *c, struct uiommu_fw_topo *topo, const void *buf, size_t len,
	     const char *sig, uint32_t min_len)
{
	struct uiommu_fw_table *tb;
	struct uiommu_fw_item *it;
	uint32_t tlen;
	uint8_t sum = 0;

	memset(c, 0, sizeof(*c));
	c->topo = topo;
	c->b = buf;
	memcpy(c->sig, sig, 4);
	c->table = -1;
	if (!buf || len < ACPI_HDR_LEN) {
		fw_diag(c, UIOMMU_FW_ERROR, 0, "truncated: %zu bytes, shorter than an ACPI header",
			buf ? len : 0);
		return -EINVAL;
	}
	if (memcmp(c->b, sig, 4) != 0) {
		char got[5];

		fw_printable(got, sizeof(got), c->b, 4);
		fw_diag(c, UIOMMU_FW_ERROR, 0, "signature is \"%s\", expected \"%s\"", got, sig);
		return -EINVAL;
	}
	tlen = ld32(c->b, ACPI_HDR_LENGTH);
	if (tlen > len) {
		fw_diag(c, UIOMMU_FW_ERROR, ACPI_HDR_LENGTH,
			"truncated: header length %u but only %zu bytes available", tlen, len);
		return -EINVAL;
	}
	if (tlen < min_len) {
		fw_diag(c, UIOMMU_FW_ERROR, ACPI_HDR_LENGTH,
			"header length %u is shorter than the fixed part (%u)", tlen, min_len);
		return -EINVAL;
	}
	if (tlen < len)
		fw_diag(c, UIOMMU_FW_WARN, tlen,
			"%zu bytes after the end of the table (length %u) ignored", len - tlen,
			tlen);
	c->len = tlen;
	for (uint32_t i = 0; i < tlen; i++)
		sum = (uint8_t)(sum + c->b[i]);

	tb = grow(topo, (void **)&topo->tables, &topo->ntables, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	c->table = (int)(topo->ntables - 1);
	memcpy(tb->signature, sig, 4);
	fw_printable(tb->oem_id, sizeof(tb->oem_id), c->b + ACPI_HDR_OEMID, 6);
	fw_printable(tb->oem_table_id, sizeof(tb->oem_table_id), c->b + ACPI_HDR_OEMTID, 8);
	tb->revision = ld8(c->b, ACPI_HDR_REV);
	tb->length = tlen;
	tb->checksum_ok = sum == 0;
	if (sum != 0)
		fw_diag(c, UIOMMU_FW_WARN, ACPI_HDR_CSUM,
			"checksum mismatch (bytes sum to 0x%02x); parsing anyway", sum);

	it = fw_add_item(c, 0, 0, tlen, 0, "table");
	fw_field_str(it, "signature", "%s", tb->signature);
	fw_field(it, "length", tlen);
	fw_field(it, "revision", tb->revision);
	fw_field(it, "checksum_ok", tb->checksum_ok);
	fw_field_str(it, "oem_id", "%s", tb->oem_id);
	fw_field_str(it, "oem_table_id", "%s", tb->oem_table_id);
	fw_field(it, "oem_revision", ld32(c->b, 24));
	return topo->oom ? -ENOMEM : 0;
}
