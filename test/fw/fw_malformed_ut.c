/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Malformed variants of every real and synthetic table, made in memory:
 * truncations (buffer and header length), checksum damage, an overlong
 * buffer, every byte inverted, length fields zeroed and maximised.  The
 * parsers must never crash or read out of bounds (run under ASan/valgrind)
 * and their result must stay self-consistent.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "fw_test.h"

static unsigned long parses;

/* Parse a copy of exactly @len bytes (so ASan sees any overread). */
static int parse(const uint8_t *b, size_t len, struct uiommu_fw_topo *t)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, b, len);
	uiommu_fw_init(t);
	ret = uiommu_fw_parse_table(t, copy, len);
	free(copy);
	parses++;
	for (size_t i = 0; i < t->ndevs; i++)
		CU_ASSERT(t->devs[i].unit >= 0 && (size_t)t->devs[i].unit < t->nunits);
	for (size_t i = 0; i < t->nresv; i++)
		CU_ASSERT(t->resv[i].unit < (int)t->nunits);
	if (ret)
		CU_ASSERT(uiommu_fw_count_diags(t, UIOMMU_FW_ERROR) > 0 || ret == -ENOTSUP ||
			  len < 36);
	return ret;
}

static void fix_checksum(uint8_t *b, size_t len)
{
	uint8_t sum = 0;

	b[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	b[9] = (uint8_t)(0x100 - sum);
}

static void mangle(const uint8_t *orig, size_t len)
{
	uint8_t *b = malloc(len + 64);
	struct uiommu_fw_topo t;

	/* Buffer truncated below the header length: rejected. */
	for (size_t n = 0; n < len; n++) {
		CU_ASSERT(parse(orig, n, &t) < 0);
		uiommu_fw_free(&t);
	}
	/* Header length truncated too: parsed as far as it goes. */
	for (size_t n = 36; n < len; n++) {
		memcpy(b, orig, n);
		b[4] = (uint8_t)n, b[5] = (uint8_t)(n >> 8), b[6] = 0, b[7] = 0;
		fix_checksum(b, n);
		parse(b, n, &t);
		uiommu_fw_free(&t);
	}
	/* Bad checksum: a warning, still parsed. */
	memcpy(b, orig, len);
	b[9] ^= 0x5a;
	CU_ASSERT(parse(b, len, &t) == 0);
	CU_ASSERT(!t.tables[0].checksum_ok);
	uiommu_fw_free(&t);
	/* Overlong buffer: trailing bytes ignored with a warning. */
	memcpy(b, orig, len);
	memset(b + len, 0xee, 64);
	CU_ASSERT(parse(b, len + 64, &t) == 0);
	CU_ASSERT(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN) > 0);
	uiommu_fw_free(&t);
	/* Header length beyond the buffer. */
	memcpy(b, orig, len);
	b[4] = (uint8_t)(len + 1), b[5] = (uint8_t)((len + 1) >> 8);
	CU_ASSERT(parse(b, len, &t) < 0);
	uiommu_fw_free(&t);
	/* Every byte after the signature: inverted, zeroed, 0xff. */
	for (size_t i = 4; i < len; i++) {
		static const int ops[] = {0, 1, 2};

		for (size_t o = 0; o < ARRAY_SIZE(ops); o++) {
			memcpy(b, orig, len);
			b[i] = o == 0 ? (uint8_t)~b[i] : o == 1 ? 0 : 0xff;
			parse(b, len, &t);
			uiommu_fw_free(&t);
		}
	}
	free(b);
}

static void test_real_mangled(void)
{
	char dir[1024];
	struct dirent *de;
	DIR *d;
	int files = 0;

	fwt_path(dir, sizeof(dir), "acpi/real", "");
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = 0;
		uint8_t *b;

		if (!strstr(de->d_name, ".dat"))
			continue;
		b = fwt_read("acpi/real", de->d_name, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		mangle(b, len);
		free(b);
		files++;
	}
	closedir(d);
	CU_ASSERT_EQUAL(files, 29); /* 17 DMAR, 11 IVRS, QEMU 10.0.2's IORT */
	printf("(%lu parses) ", parses);
}

static void test_synth_mangled(void)
{
	uint8_t b[1024];
	size_t len;

	fwt_build_ivrs40(b, &len);
	mangle(b, len);
	fwt_build_iort(b, &len);
	mangle(b, len);
}

/* Specific bad inputs with their diagnostics. */
static void test_specific(void)
{
	struct uiommu_fw_topo t;
	uint8_t b[1024];
	size_t len;

	/* Wrong signature for the parser. */
	fwt_build_iort(b, &len);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_dmar(&t, b, len), -EINVAL);
	CU_ASSERT(strstr(t.diags[0].msg, "signature") != NULL);
	uiommu_fw_free(&t);
	/* Unknown signature. */
	memcpy(b, "FACP", 4);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, b, len), -ENOTSUP);
	uiommu_fw_free(&t);
	/* IORT node count far beyond the table. */
	fwt_build_iort(b, &len);
	b[36] = 0xff, b[37] = 0xff, b[38] = 0xff, b[39] = 0x7f;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(parse(b, len, &t), 0);
	CU_ASSERT(uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR) > 0);
	uiommu_fw_free(&t);
	/* IVHD 40h: ACPI HID UID length running past the block. */
	fwt_build_ivrs40(b, &len);
	for (size_t i = 48; i + 22 < len; i++)
		if (b[i] == 0xf0 && !memcmp(b + i + 4, "AMDI0020", 8)) {
			b[i + 21] = 0xff;
			break;
		}
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(parse(b, len, &t), 0);
	CU_ASSERT(uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR) == 1);
	uiommu_fw_free(&t);
}

static const struct ut_test tests[] = {
	{"real_mangled", test_real_mangled},
	{"synth_mangled", test_synth_mangled},
	{"specific", test_specific},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"fw_malformed", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
