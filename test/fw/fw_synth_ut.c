/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic tables for what the real set lacks.  The iasl-compiled ones
 * (test/data/acpi/synth/NAME.asl, built by meson into $UIOMMU_SYNTH_DIR) and,
 * for what iasl 20200925 cannot express (IVHD 40h with ACPI HID entries,
 * IORT RMR nodes), tables assembled here byte by byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "fw_test.h"

static void test_ivrs40(void)
{
	uint8_t buf[1024];
	struct uiommu_fw_topo t;
	size_t len;
	uint32_t id;
	int hid = 0;

	fwt_build_ivrs40(buf, &len);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL_FATAL(uiommu_fw_parse_ivrs(&t, buf, len), 0);
	CU_ASSERT(t.tables[0].checksum_ok);
	CU_ASSERT_EQUAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.units[0].segment, 1);
	CU_ASSERT_EQUAL(t.units[0].amd.types, 5);
	CU_ASSERT_EQUAL(t.units[0].amd.best_type, 0x40);
	CU_ASSERT_EQUAL(t.units[0].amd.efr, 0x246577efa2054adaull);
	for (size_t i = 0; i < t.ndevs; i++) {
		const struct uiommu_fw_devmap *d = &t.devs[i];

		if (d->kind != UIOMMU_FW_DEV_ACPI)
			continue;
		hid++;
		if (d->first == 0xa5)
			CU_ASSERT_STRING_EQUAL(d->name, "AMDI0020:\\_SB.FUR0");
		if (d->first == 0xa6)
			CU_ASSERT_STRING_EQUAL(d->name, "AMDI0010:3");
	}
	CU_ASSERT_EQUAL(hid, 2);
	/* "all" from 40h; the 10h select entry is not used. */
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1, 0x0345, &id), 0);
	CU_ASSERT_EQUAL(id, 0x345);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1, 0x0100, &id), 0);
	CU_ASSERT_EQUAL(id, 0xa4);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0100, &id), -ENOENT);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
	uiommu_fw_free(&t);
}

static void test_iort(void)
{
	uint8_t buf[1024];
	struct uiommu_fw_topo t;
	size_t len;
	uint32_t id;
	int named = 0;

	fwt_build_iort(buf, &len);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL_FATAL(uiommu_fw_parse_iort(&t, buf, len), 0);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR), 0);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.units[0].family, UIOMMU_FAMILY_SMMUV3);
	CU_ASSERT_EQUAL(t.units[0].base, 0x2b400000);
	CU_ASSERT_EQUAL(t.units[0].proximity, 1);
	CU_ASSERT_EQUAL(t.units[0].segment, 2);
	CU_ASSERT_EQUAL(t.units[0].smmu.gsiv_event, 106);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 2, 0x0108, &id), 0);
	CU_ASSERT_EQUAL(id, 0x10108);
	for (size_t i = 0; i < t.ndevs; i++)
		if (t.devs[i].kind == UIOMMU_FW_DEV_NAMED) {
			named++;
			CU_ASSERT_STRING_EQUAL(t.devs[i].name, "\\_SB.DMA0");
			CU_ASSERT_EQUAL(t.devs[i].id_base, 0x20);
			CU_ASSERT(t.devs[i].flags & UIOMMU_FW_DEV_SINGLE);
		}
	CU_ASSERT_EQUAL(named, 1);
	CU_ASSERT_EQUAL_FATAL(t.nresv, 2);
	CU_ASSERT_EQUAL(t.resv[0].source, UIOMMU_FW_RESV_RMR);
	CU_ASSERT_EQUAL(t.resv[0].base, 0x80000000);
	CU_ASSERT_EQUAL(t.resv[0].length, 0x100000);
	CU_ASSERT_EQUAL(t.resv[0].unit, 0);
	CU_ASSERT_EQUAL(t.resv[0].first, 0x20);
	CU_ASSERT_EQUAL(t.resv[0].last, 0x21);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 1); /* 4 KiB RMR */
	uiommu_fw_free(&t);
}

static void test_asl_dmar(void)
{
	struct uiommu_fw_topo t;
	uint32_t id;

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, NULL, "dmar-multiseg.aml"), 0);
	CU_ASSERT(t.tables[0].checksum_ok);
	CU_ASSERT_EQUAL(t.tables[0].info, 52);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 3);
	CU_ASSERT_EQUAL(t.units[0].segment, 1);
	CU_ASSERT_EQUAL(t.units[0].proximity, 1);
	CU_ASSERT_EQUAL(t.units[2].proximity, 0);
	CU_ASSERT(t.units[1].flags & UIOMMU_FW_UNIT_ATS_ALL);
	CU_ASSERT(!(t.units[2].flags & UIOMMU_FW_UNIT_ATS_ALL));
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1, 0x0008, &id), 0);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1, 0x0200, &id), 1);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0200, &id), 2);
	CU_ASSERT_EQUAL_FATAL(t.nresv, 1);
	CU_ASSERT_EQUAL(t.resv[0].segment, 1);
	CU_ASSERT_EQUAL(t.resv[0].first, 0x0200);
	CU_ASSERT_EQUAL(t.resv[0].length, 0x100000);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
	uiommu_fw_free(&t);
}

static void test_asl_ivrs(void)
{
	struct uiommu_fw_topo t;
	uint32_t id;

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, NULL, "ivrs-alias-ext.aml"), 0);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.units[0].base, 0xfeb80000);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0008, &id), 0);
	CU_ASSERT_EQUAL(id, 0x8);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0100, &id), 0); /* alias select */
	CU_ASSERT_EQUAL(id, 0xa4);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0234, &id), 0); /* alias range */
	CU_ASSERT_EQUAL(id, 0xa5);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0300, &id), 0); /* ext select */
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0456, &id), 0); /* ext range */
	CU_ASSERT_EQUAL(id, 0x456);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0500, &id), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(t.nresv, 3);
	CU_ASSERT(t.resv[0].all);
	CU_ASSERT_EQUAL(t.resv[1].first, 0x0008);
	CU_ASSERT_EQUAL(t.resv[2].first, 0x0300);
	CU_ASSERT_EQUAL(t.resv[2].last, 0x03ff);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
	uiommu_fw_free(&t);
}

/* Two IOMMUs' entries overlap: table order decides, as in Linux. */
static void test_asl_ivrs_overlap(void)
{
	struct uiommu_fw_topo t;
	uint32_t id;
	size_t said = 0;

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, NULL, "ivrs-overlap.aml"), 0);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 2);
	CU_ASSERT_EQUAL(t.units[0].base, 0xfeb80000);
	CU_ASSERT_EQUAL(t.units[1].base, 0xfec80000);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0010, &id), 0); /* A's range only */
	CU_ASSERT_EQUAL(id, 0x10);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0020, &id), 1); /* B last, A's alias */
	CU_ASSERT_EQUAL(id, 0x1);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0150, &id), 1);
	CU_ASSERT_EQUAL(id, 0x150);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x01a0, &id), 1);
	CU_ASSERT_EQUAL(id, 0x1a0);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x01c0, &id), 0);
	CU_ASSERT_EQUAL(id, 0x1c0);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0200, &id), -ENOENT);
	for (size_t i = 0; i < t.ndiags; i++)
		said += strstr(t.diags[i].msg, "entries of IOMMUs") != NULL;
	CU_ASSERT_EQUAL(said, 3); /* 0020, 0150 and 0180-01bf inside A's range */
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
	uiommu_fw_free(&t);
}

static const struct ut_test synth_tests[] = {
	{"ivrs_40h_acpi_hid", test_ivrs40},
	{"iort_smmuv3_rmr", test_iort},
	{"asl_dmar_multiseg", test_asl_dmar},
	{"asl_ivrs_alias_ext", test_asl_ivrs},
	{"asl_ivrs_overlap", test_asl_ivrs_overlap},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"fw_synth", NULL, NULL, synth_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
