/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tables iasl 20200925 cannot compile (IVHD 40h with ACPI HID entries, IORT
 * RMR nodes), assembled byte by byte for fw_synth_ut and fw_malformed_ut.
 */
#include <string.h>

#include "fw_test.h"

/* A tiny little-endian table assembler. */
struct tb {
	uint8_t b[1024];
	size_t n;
};
static void put(struct tb *t, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		t->b[t->n++] = (uint8_t)(i < 8 ? v >> (8 * i) : 0);
}
static void puts_n(struct tb *t, const char *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		t->b[t->n++] = (uint8_t)(i < strlen(s) ? s[i] : 0);
}
static void set16(struct tb *t, size_t off, uint16_t v)
{
	t->b[off] = (uint8_t)v;
	t->b[off + 1] = (uint8_t)(v >> 8);
}
static void header(struct tb *t, const char *sig, uint8_t rev)
{
	t->n = 0;
	puts_n(t, sig, 4);
	put(t, 0, 4);
	put(t, rev, 1);
	put(t, 0, 1);
	puts_n(t, "UIOMMU", 6);
	puts_n(t, "SYNTH", 8);
	put(t, 1, 4);
	puts_n(t, "UIOM", 4);
	put(t, 1, 4);
}
static void finish(struct tb *t)
{
	uint8_t sum = 0;

	t->b[4] = (uint8_t)t->n;
	t->b[5] = (uint8_t)(t->n >> 8);
	t->b[9] = 0;
	for (size_t i = 0; i < t->n; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)(0x100 - sum);
}

/* IVRS with IVHD 10h and 40h for one IOMMU; 40h has ACPI HID entries. */
void fwt_build_ivrs40(uint8_t *out, size_t *len)
{
	struct tb t;
	size_t h;

	header(&t, "IVRS", 2);
	put(&t, 0x203043, 4);
	put(&t, 0, 8);
	/* IVHD 10h: one select entry (ignored: 40h is richer). */
	h = t.n;
	put(&t, 0x10, 1), put(&t, 0xb0, 1), put(&t, 0, 2), put(&t, 0x0002, 2), put(&t, 0x40, 2);
	put(&t, 0xfd200000, 8), put(&t, 1, 2), put(&t, 0, 2), put(&t, 0, 4);
	put(&t, 0x02, 1), put(&t, 0x0008, 2), put(&t, 0, 1);
	set16(&t, h + 2, (uint16_t)(t.n - h));
	/* IVHD 40h. */
	h = t.n;
	put(&t, 0x40, 1), put(&t, 0x30, 1), put(&t, 0, 2), put(&t, 0x0002, 2), put(&t, 0x40, 2);
	put(&t, 0xfd200000, 8), put(&t, 1, 2), put(&t, 0, 2), put(&t, 0x48000, 4);
	put(&t, 0x246577efa2054adaull, 8), put(&t, 0, 8);
	put(&t, 0x01, 1), put(&t, 0, 2), put(&t, 0, 1); /* all */
	put(&t, 0x42, 1), put(&t, 0x0100, 2), put(&t, 0, 1), put(&t, 0, 1), put(&t, 0x00a4, 2),
		put(&t, 0, 1); /* alias select */
	put(&t, 0x48, 1), put(&t, 0, 2), put(&t, 0xd7, 1), put(&t, 0x21, 1), put(&t, 0x00a0, 2),
		put(&t, 1, 1); /* IOAPIC 0x21 */
	/* ACPI HID, string UID. */
	put(&t, 0xf0, 1), put(&t, 0x00a5, 2), put(&t, 0x40, 1);
	puts_n(&t, "AMDI0020", 8), puts_n(&t, "", 8), put(&t, 2, 1), put(&t, 9, 1);
	puts_n(&t, "\\_SB.FUR0", 9);
	/* ACPI HID, integer UID. */
	put(&t, 0xf0, 1), put(&t, 0x00a6, 2), put(&t, 0, 1);
	puts_n(&t, "AMDI0010", 8), puts_n(&t, "PNP0C50", 8), put(&t, 1, 1), put(&t, 8, 1);
	put(&t, 3, 8);
	/* An unknown 16-byte entry type (bits 7:6 = 10b): skipped by length. */
	put(&t, 0x85, 1), put(&t, 0, 15);
	set16(&t, h + 2, (uint16_t)(t.n - h));
	finish(&t);
	memcpy(out, t.b, t.n);
	*len = t.n;
}

/* IORT: ITS group, SMMUv3, root complex -> SMMUv3, named component, RMR. */
void fwt_build_iort(uint8_t *out, size_t *len)
{
	struct tb t;
	size_t its, smmu, h;

	header(&t, "IORT", 5);
	put(&t, 5, 4), put(&t, 48, 4), put(&t, 0, 4);
	/* ITS group (node 0). */
	its = t.n;
	put(&t, 0, 1), put(&t, 24, 2), put(&t, 1, 1), put(&t, 0, 4), put(&t, 0, 4), put(&t, 0, 4);
	put(&t, 1, 4), put(&t, 0, 4);
	/* SMMUv3 with PXM valid, one mapping to the ITS. */
	smmu = t.n;
	put(&t, 4, 1), put(&t, 68 + 20, 2), put(&t, 4, 1), put(&t, 1, 4), put(&t, 1, 4),
		put(&t, 68, 4);
	put(&t, 0x2b400000, 8), put(&t, 0x9, 4), put(&t, 0, 4), put(&t, 0, 8), put(&t, 0, 4);
	put(&t, 106, 4), put(&t, 107, 4), put(&t, 108, 4), put(&t, 109, 4), put(&t, 1, 4),
		put(&t, 0, 4);
	put(&t, 0, 4), put(&t, 0, 4), put(&t, 0x10000, 4), put(&t, its, 4), put(&t, 1, 4);
	/* Root complex, segment 2: RID 0x0000-0xffff -> StreamID 0x10000+. */

	put(&t, 2, 1), put(&t, 36 + 20, 2), put(&t, 1, 1), put(&t, 2, 4), put(&t, 1, 4),
		put(&t, 36, 4);
	put(&t, 1, 4), put(&t, 0, 4), put(&t, 1, 4), put(&t, 2, 4), put(&t, 48, 1), put(&t, 0, 3);
	put(&t, 0, 4), put(&t, 0xffff, 4), put(&t, 0x10000, 4), put(&t, smmu, 4), put(&t, 0, 4);
	/* Named component, single mapping to StreamID 0x20. */

	h = t.n;
	put(&t, 1, 1), put(&t, 0, 2), put(&t, 4, 1), put(&t, 3, 4), put(&t, 1, 4), put(&t, 0, 4);
	put(&t, 0, 4), put(&t, 0, 8), put(&t, 40, 1);
	puts_n(&t, "\\_SB.DMA0", 11);
	t.b[h + 12] = (uint8_t)(t.n - h);
	put(&t, 0, 4), put(&t, 0, 4), put(&t, 0x20, 4), put(&t, smmu, 4), put(&t, 1, 4);
	set16(&t, h + 1, (uint16_t)(t.n - h));
	/* RMR: two ranges for StreamIDs 0x20..0x21. */

	put(&t, 6, 1), put(&t, 28 + 20 + 40, 2), put(&t, 3, 1), put(&t, 4, 4), put(&t, 1, 4),
		put(&t, 28, 4);
	put(&t, 1, 4), put(&t, 2, 4), put(&t, 48, 4);
	put(&t, 0, 4), put(&t, 1, 4), put(&t, 0x20, 4), put(&t, smmu, 4), put(&t, 0, 4);
	put(&t, 0x80000000, 8), put(&t, 0x100000, 8), put(&t, 0, 4);
	put(&t, 0x90000000, 8), put(&t, 0x1000, 8), put(&t, 0, 4); /* not 64K: warns */
	finish(&t);
	memcpy(out, t.b, t.n);
	*len = t.n;
}

