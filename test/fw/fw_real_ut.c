/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every real firmware table in test/data/acpi/real parses and its summary
 * matches SOURCES.md; the known quirks give their diagnostics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "fw_test.h"

struct expect {
	const char *file, *sig;
	uint32_t info, flags; /* DMAR: HAW, flags; IVRS: IVinfo */
	unsigned int nunits;
	uint64_t bases[5];
	uint32_t all_mask;      /* DMAR: units with INCLUDE_PCI_ALL */
	unsigned int scopes[5]; /* DMAR: scopes per DRHD */
	unsigned int rmrr, atsr, rhsa, satc, sidp, andd;
	unsigned int ivmd, ioapic, hpet, hid, ivhd;
};

/* Generated from SOURCES.md (the "Notable contents" column). */
static const struct expect expects[] = {
	{"DMAR-hp-proliant-dl380e-gen8.dat", "DMAR", 46, 0x3, 2, {0xfbefe000,0xbeffe000}, 0x2, {16,3}, 9, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-supermicro-x10dai.dat", "DMAR", 46, 0x1, 3, {0xfbffc000,0xf3ffd000,0xf3ffc000}, 0x4, {11,1,3}, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-hp-proliant-dl360-g7.dat", "DMAR", 39, 0x2, 1, {0xe7ffe000}, 0x1, {2}, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-dell-precision-t7500.dat", "DMAR", 40, 0x1, 2, {0xdfffe000,0xfedc0000}, 0x2, {4,2}, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-hp-z400-workstation.dat", "DMAR", 39, 0x0, 1, {0xfed90000}, 0x1, {2}, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-dell-precision-tower-5810.dat", "DMAR", 46, 0x3, 2, {0xf7ffd000,0xf7ffc000}, 0x2, {1,3}, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-gigabyte-x299-ud4-pro.dat", "DMAR", 46, 0x3, 4, {0xb5ffc000,0xd8ffc000,0xfbffc000,0x92ffc000}, 0x8, {1,2,1,3}, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-hp-compaq-6730b.dat", "DMAR", 36, 0x0, 3, {0xfeb03000,0xfeb01000,0xfeb02000}, 0x4, {1,2,0}, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-lenovo-thinkpad-e15-gen2.dat", "DMAR", 39, 0x0, 3, {0xfed90000,0xfed84000,0x0}, 0x4, {1,1,0}, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-samsung-galaxy-book-960qha.dat", "DMAR", 38, 0x5, 3, {0xfc800000,0xfc810000,0xfc820000}, 0x4, {1,4,2}, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0},
	{"DMAR-apple-macbookpro14-3.dat", "DMAR", 39, 0x1, 2, {0xfed90000,0xfed91000}, 0x2, {1,8}, 1, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0},
	{"DMAR-dell-latitude-9420.dat", "DMAR", 39, 0x5, 5, {0xfed90000,0xfed92000,0xfed84000,0xfed86000,0xfed91000}, 0x10, {1,1,1,1,2}, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-lenovo-thinkpad-p17-gen2i.dat", "DMAR", 39, 0x5, 3, {0xfed84000,0xfed85000,0xfed91000}, 0x4, {1,1,2}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-lenovo-thinkcentre-m58p.dat", "DMAR", 36, 0x0, 4, {0xfed90000,0xfed91000,0xfed92000,0xfed93000}, 0x8, {1,2,3,0}, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-asus-rog-maximus-z790-apex-encore.dat", "DMAR", 39, 0x1, 1, {0xfed91000}, 0x1, {2}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-lenovo-ideapad-gaming3-15imh05.dat", "DMAR", 39, 0x4, 2, {0xfed90000,0xfed91000}, 0x2, {1,0}, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"DMAR-dell-precision-5540.dat", "DMAR", 39, 0x1, 2, {0xfed90000,0xfed91000}, 0x2, {1,2}, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"IVRS-asus-prime-x399-a.dat", "IVRS", 0x203041, 0, 2, {0xefd00000,0xb7b00000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 6, 2, 0, 4},
	{"IVRS-supermicro-h8dgu.dat", "IVRS", 0x203400, 0, 1, {0xf6000000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 1},
	{"IVRS-asus-zenbook-s16-um5606wa.dat", "IVRS", 0x203043, 0, 1, {0xfd200000}, 0, {0}, 0, 0, 0, 0, 0, 0, 2, 6, 3, 5, 3},
	{"IVRS-mechrevo-wujie14xa.dat", "IVRS", 0x203043, 0, 1, {0xfd200000}, 0, {0}, 0, 0, 0, 0, 0, 0, 5, 6, 3, 4, 3},
	{"IVRS-lenovo-thinkpad-t14-gen3-amd.dat", "IVRS", 0x203043, 0, 1, {0xfe000000}, 0, {0}, 0, 0, 0, 0, 0, 0, 1, 6, 3, 4, 3},
	{"IVRS-lenovo-ideapad-s145-15ast.dat", "IVRS", 0x203041, 0, 1, {0xfeb80000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2},
	{"IVRS-asus-sabertooth-990fx.dat", "IVRS", 0x203400, 0, 1, {0xfeb20000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 1},
	{"IVRS-framework-laptop-16.dat", "IVRS", 0x203043, 0, 1, {0xc0200000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 6, 3, 4, 3},
	{"IVRS-valve-jupiter-steamdeck.dat", "IVRS", 0x203041, 0, 1, {0xa0200000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 6, 3, 4, 3},
	{"IVRS-asrock-x370-killer-sli.dat", "IVRS", 0x203041, 0, 1, {0xfd200000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 6, 3, 1, 3},
	{"IVRS-asus-rog-strix-x670e-f.dat", "IVRS", 0x203041, 0, 1, {0xfd500000}, 0, {0}, 0, 0, 0, 0, 0, 0, 0, 4, 2, 0, 2},
};

/* Known quirks: the diagnostic each file must produce (warning or worse). */
static const struct {
	const char *file, *msg;
	unsigned int count;
} quirks[] = {
	{"DMAR-hp-compaq-6730b.dat", "RMRR from 0x0 to 0x0", 1},
	{"DMAR-lenovo-thinkpad-e15-gen2.dat", "register base is 0", 1},
	{"DMAR-hp-proliant-dl360-g7.dat", "X2APIC_OPT_OUT without INTR_REMAP", 1},
	{"IVRS-mechrevo-wujie14xa.dat", "not page granular", 5},
	{"IVRS-lenovo-thinkpad-t14-gen3-amd.dat", "unknown IVRS subtable type 0x51", 1},
	{"IVRS-lenovo-ideapad-s145-15ast.dat", "no IOAPIC", 1},
};

static unsigned int count_kind(const struct uiommu_fw_topo *t, const char *kind)
{
	unsigned int n = 0;

	for (size_t i = 0; i < t->nitems; i++)
		n += !strcmp(t->items[i].kind, kind);
	return n;
}

static unsigned int count_special(const struct uiommu_fw_topo *t, const char *variety)
{
	unsigned int n = 0;

	for (size_t i = 0; i < t->nitems; i++)
		for (unsigned int k = 0; k < t->items[i].nfields; k++)
			n += !strcmp(t->items[i].fields[k].name, "variety") &&
			     !strcmp(t->items[i].fields[k].str, variety);
	return n;
}

/* Scopes below the @nth DRHD item. */
static unsigned int drhd_scopes(const struct uiommu_fw_topo *t, unsigned int nth)
{
	unsigned int seen = 0, n = 0;
	size_t i;

	for (i = 0; i < t->nitems; i++)
		if (!strcmp(t->items[i].kind, "DRHD") && seen++ == nth)
			break;
	for (i++; i < t->nitems && t->items[i].depth == 2; i++)
		n++;
	return n;
}

static unsigned int quirk_count(const struct uiommu_fw_topo *t, const char *msg)
{
	unsigned int n = 0;

	for (size_t i = 0; i < t->ndiags; i++)
		n += t->diags[i].severity >= UIOMMU_FW_WARN && strstr(t->diags[i].msg, msg);
	return n;
}

static void test_real_tables(void)
{
	CU_ASSERT_EQUAL(ARRAY_SIZE(expects), 28);
	for (size_t e = 0; e < ARRAY_SIZE(expects); e++) {
		const struct expect *x = &expects[e];
		struct uiommu_fw_topo t;
		const char *quirk = NULL;
		unsigned int qcount = 0;
		int ret = fwt_load(&t, "acpi/real", x->file);

		printf("\n  %s", x->file);
		CU_ASSERT_EQUAL_FATAL(ret, 0);
		CU_ASSERT_EQUAL(t.ntables, 1);
		CU_ASSERT_STRING_EQUAL(t.tables[0].signature, x->sig);
		CU_ASSERT(t.tables[0].checksum_ok);
		CU_ASSERT_EQUAL(t.tables[0].info, x->info);
		CU_ASSERT_EQUAL(t.nunits, x->nunits);
		for (unsigned int i = 0; i < x->nunits && i < t.nunits; i++) {
			CU_ASSERT_EQUAL(t.units[i].base, x->bases[i]);
			if (!strcmp(x->sig, "DMAR")) {
				CU_ASSERT_EQUAL(!!(t.units[i].flags & UIOMMU_FW_UNIT_INCLUDE_ALL),
						!!(x->all_mask & (1u << i)));
				CU_ASSERT_EQUAL(drhd_scopes(&t, i), x->scopes[i]);
			}
		}
		if (!strcmp(x->sig, "DMAR")) {
			CU_ASSERT_EQUAL(t.tables[0].flags, x->flags);
			CU_ASSERT_EQUAL(count_kind(&t, "RMRR"), x->rmrr);
			CU_ASSERT_EQUAL(count_kind(&t, "ATSR"), x->atsr);
			CU_ASSERT_EQUAL(count_kind(&t, "RHSA"), x->rhsa);
			CU_ASSERT_EQUAL(count_kind(&t, "SATC"), x->satc);
			CU_ASSERT_EQUAL(count_kind(&t, "SIDP"), x->sidp);
			CU_ASSERT_EQUAL(count_kind(&t, "ANDD"), x->andd);
		} else {
			CU_ASSERT_EQUAL(count_kind(&t, "IVHD"), x->ivhd);
			CU_ASSERT_EQUAL(count_kind(&t, "IVMD"), x->ivmd);
			CU_ASSERT_EQUAL(t.nresv, x->ivmd);
			CU_ASSERT_EQUAL(count_special(&t, "ioapic"), x->ioapic);
			CU_ASSERT_EQUAL(count_special(&t, "hpet"), x->hpet);
			CU_ASSERT_EQUAL(count_kind(&t, "acpi-hid"), x->hid);
			for (size_t i = 0; i < t.nunits; i++)
				CU_ASSERT_EQUAL(t.units[i].family, UIOMMU_FAMILY_AMDVI);
		}
		for (size_t q = 0; q < ARRAY_SIZE(quirks); q++)
			if (!strcmp(quirks[q].file, x->file)) {
				quirk = quirks[q].msg;
				qcount = quirks[q].count;
			}
		if (quirk) {
			CU_ASSERT_EQUAL(quirk_count(&t, quirk), qcount);
		} else {
			CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
		}
		CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR), 0);
		uiommu_fw_free(&t);
	}
	printf("\n");
}

/* Device to unit lookups on a few real tables. */
static void test_real_lookup(void)
{
	struct uiommu_fw_topo t;
	uint32_t id;

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "DMAR-apple-macbookpro14-3.dat"), 0);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0010, &id), 0); /* IGD on its own unit */
	CU_ASSERT_EQUAL(id, 0x10);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x00fb, &id), 1); /* 00:1f.3: INCLUDE_ALL */
	CU_ASSERT_EQUAL(id, 0xfb);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1, 0x00fb, &id), -ENOENT);
	CU_ASSERT_EQUAL(count_kind(&t, "ANDD"), 6);
	for (size_t i = 0; i < t.ndevs; i++)
		if (t.devs[i].kind == UIOMMU_FW_DEV_ACPI)
			CU_ASSERT(strstr(t.devs[i].name, "\\_SB.PCI0.") == t.devs[i].name);
	uiommu_fw_free(&t);

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "IVRS-framework-laptop-16.dat"), 0);
	CU_ASSERT_EQUAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.units[0].amd.types, 7);
	CU_ASSERT_EQUAL(t.units[0].amd.best_type, 0x40);
	CU_ASSERT_EQUAL(t.units[0].amd.cap_offset, 0x40);
	CU_ASSERT_EQUAL(t.units[0].amd.efr, 0x246577efa2054adaull);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0300, &id), 0);
	CU_ASSERT_EQUAL(id, 0x300);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0xff05, &id), 0); /* alias range */
	CU_ASSERT_EQUAL(id, 0xa5);
	uiommu_fw_free(&t);

	/* Two IOMMUs' entries over bus 0xff: the first IVHD's alias range
	 * ff00-ffff (-> 00:14.4), then the second IVHD's range 4008-fffe.
	 * Linux applies them in order: ff00-fffe belong to the second IOMMU
	 * and keep the alias as DeviceID; ffff stays with the first. */
	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "IVRS-asus-prime-x399-a.dat"), 0);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 2);
	CU_ASSERT_EQUAL(t.units[0].base, 0xefd00000ull);
	CU_ASSERT_EQUAL(t.units[1].base, 0xb7b00000ull);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0xff05, &id), 1);
	CU_ASSERT_EQUAL(id, 0xa4);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0xffff, &id), 0);
	CU_ASSERT_EQUAL(id, 0xa4);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x4100, &id), 1);
	CU_ASSERT_EQUAL(id, 0x4100);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0100, &id), 0);
	CU_ASSERT_EQUAL(id, 0x0100);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0004, &id), -ENOENT);
	{
		size_t said = 0;

		for (size_t i = 0; i < t.ndiags; i++)
			said += strstr(t.diags[i].msg, "0xff00-0xfffe: entries of IOMMUs") != NULL;
		CU_ASSERT_EQUAL(said, 1);
	}
	uiommu_fw_free(&t);

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "DMAR-supermicro-x10dai.dat"), 0);
	/* Two RHSA: units get their proximity domains. */
	CU_ASSERT(t.units[0].proximity >= 0);
	uiommu_fw_free(&t);

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "DMAR-lenovo-thinkpad-e15-gen2.dat"), 0);
	CU_ASSERT(t.units[2].flags & UIOMMU_FW_UNIT_BAD_BASE);
	uiommu_fw_free(&t);
}

/*
 * The IORT QEMU 10.0.2's virt machine (iommu=smmuv3) hands to a UEFI+ACPI
 * guest, captured live by the aarch64 QEMU suite (SOURCES.md): one SMMUv3
 * at 0x9050000; bus 0 of segment 0 is behind it with StreamID = RID, the
 * other buses go straight to the ITS (MSIs only, not translated).
 */
static void test_real_iort_qemu(void)
{
	struct uiommu_fw_topo t;
	uint32_t id = 0;

	CU_ASSERT_EQUAL_FATAL(fwt_load(&t, "acpi/real", "IORT-qemu-10.0.2-virt-smmuv3.dat"), 0);
	CU_ASSERT_EQUAL(t.ntables, 1);
	CU_ASSERT_STRING_EQUAL(t.tables[0].signature, "IORT");
	CU_ASSERT(t.tables[0].checksum_ok);
	CU_ASSERT_EQUAL_FATAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.units[0].family, UIOMMU_FAMILY_SMMUV3);
	CU_ASSERT_EQUAL(t.units[0].base, 0x9050000);
	CU_ASSERT_EQUAL(t.units[0].segment, 0);
	CU_ASSERT_EQUAL(t.units[0].fw_flags & 1u, 1u); /* COHACC override */
	CU_ASSERT_EQUAL(t.units[0].smmu.gsiv_event, 0x6a);
	CU_ASSERT_EQUAL(t.units[0].smmu.gsiv_gerr, 0x6d);
	CU_ASSERT_EQUAL(t.units[0].smmu.node_offset, 0x48);
	/* edu at 00:01.0 in the QEMU suite: StreamID 0x8 */
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x0008, &id), 0);
	CU_ASSERT_EQUAL(id, 0x8);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x00ff, &id), 0);
	CU_ASSERT_EQUAL(id, 0xff);
	/* Bus 1 and above map to the ITS only: no SMMU serves them. */
	CU_ASSERT(uiommu_fw_lookup(&t, 0, 0x0100, &id) < 0);
	CU_ASSERT(uiommu_fw_lookup(&t, 1, 0x0008, &id) < 0);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_ERROR), 0);
	CU_ASSERT_EQUAL(uiommu_fw_count_diags(&t, UIOMMU_FW_WARN), 0);
	uiommu_fw_free(&t);
}

/* A fake PCI topology resolves multi-element DMAR paths. */
static int fake_resolver(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			 uint8_t *sec, uint8_t *sub)
{
	(void)ctx;
	if (seg || bus)
		return -ENOENT;
	*sec = (uint8_t)(0x10 + dev + fn); /* 00:1c.4 -> bus 0x30 */
	*sub = *sec;
	return 0;
}

static void test_real_resolver(void)
{
	struct uiommu_fw_topo t;
	unsigned int resolved = 0;
	uint32_t id;

	uiommu_fw_init(&t);
	t.resolver = fake_resolver;
	CU_ASSERT_EQUAL_FATAL(fwt_load_into(&t, "acpi/real", "DMAR-hp-proliant-dl360-g7.dat"), 0);
	for (size_t i = 0; i < t.nresv; i++) {
		CU_ASSERT(strstr(t.resv[i].devices, "unresolved") == NULL);
		resolved += t.resv[i].first == 0x3000; /* 00:1c.4/00.0 -> 30:00.0 */
	}
	CU_ASSERT(resolved >= 2);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x3000, &id), 0);
	uiommu_fw_free(&t);
}

static const struct ut_test real_tests[] = {
	{"real_tables", test_real_tables},
	{"real_lookup", test_real_lookup},
	{"real_resolver", test_real_resolver},
	{"real_iort_qemu", test_real_iort_qemu},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"fw_real", NULL, NULL, real_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
