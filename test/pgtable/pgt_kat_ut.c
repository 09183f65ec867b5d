/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Known-answer tests: exact 64-bit entries per format for representative
 * mappings, the register images filled back into the config, every field
 * macro of pgt_hw.h, walk and describe.
 *
 * Expected values are written as literals computed by hand from the cited
 * specification sections, not from the macros under test.
 */
#include <errno.h>

#include "pgt_test_mem.h"
#include "pgtable/pgt_hw.h"
#include "pgtable/pgt_internal.h"
#include "ut.h"

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

static struct tmem mem;

static int kat_init(void)
{
	return tmem_init(&mem, 4096, false);
}

static int kat_fini(void)
{
	tmem_fini(&mem);
	return 0;
}

static struct pgt *kat_alloc(enum pgt_format fmt, unsigned int ias, unsigned int oas,
			     unsigned int quirks, bool coherent, struct pgt_cfg *cfg)
{
	int err = 0;
	struct pgt *p;

	memset(cfg, 0, sizeof(*cfg));
	cfg->fmt = fmt;
	cfg->ias = ias;
	cfg->oas = oas;
	cfg->quirks = quirks;
	cfg->coherent = coherent;
	p = pgt_alloc(cfg, &tmem_ops, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(cfg->root_pa, pgt_config(p)->root_pa);
	CU_ASSERT_NOT_EQUAL(cfg->root_pa, 0);
	return p;
}

static void kat_map(struct pgt *p, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot)
{
	struct pgt_gather g = {0};

	CU_ASSERT_EQUAL(pgt_map(p, iova, pa, size, prot, &g), 0);
	CU_ASSERT_EQUAL(g.start, iova);
	CU_ASSERT_EQUAL(g.end, iova + size);
	CU_ASSERT_TRUE(g.map_nonpresent);
	CU_ASSERT_PTR_NULL(g.freed);
}

/* Table-pointer bits expected at a walk level (format numbering). */
typedef uint64_t (*tbl_bits_fn)(unsigned int level);

/*
 * Walk @iova: every table entry must be exactly (next table pa | tbl(level))
 * and the leaf exactly @leaf at @pgsize.
 */
static void kat_check(struct pgt *p, uint64_t iova, uint64_t leaf, uint64_t pgsize, tbl_bits_fn tbl)
{
	struct pgt_walk_level w[8];
	int n = pgt_walk(p, iova, w, 8);

	CU_ASSERT_FATAL(n >= 1);
	for (int i = 0; i < n - 1; i++) {
		CU_ASSERT_TRUE(w[i].present);
		CU_ASSERT_FALSE(w[i].leaf);
		CU_ASSERT_EQUAL(w[i].entry, w[i + 1].table_pa | tbl(w[i].level));
	}
	CU_ASSERT_TRUE(w[n - 1].leaf);
	CU_ASSERT_EQUAL(w[n - 1].pgsize, pgsize);
	if (w[n - 1].entry != leaf)
		fprintf(stderr, "\n  iova 0x%llx: entry 0x%016llx, expected 0x%016llx\n",
			(unsigned long long)iova, (unsigned long long)w[n - 1].entry,
			(unsigned long long)leaf);
	CU_ASSERT_EQUAL(w[n - 1].entry, leaf);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, iova + 0x123),
			(leaf & 0x000ffffffffff000ULL & ~(pgsize - 1) & ~(1ULL << 62)) | 0x123);
}

/* ---- VT-d second-level: VT-d spec 9.8, QEMU VTD_SL_*, Linux DMA_PTE_* ---- */

static uint64_t vtd_tbl(unsigned int level)
{
	(void)level;
	return 0x3; /* R (bit 0) | W (bit 1): Linux DMA_PTE_READ|DMA_PTE_WRITE */
}

static void test_vtd_sl(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_VTD_SL, 48, 48, 0, true, &cfg);

	CU_ASSERT_EQUAL(cfg.levels, 4);
	CU_ASSERT_EQUAL(cfg.hw.vtd.aw, 2); /* 9.3 context entry AW 010b: 48-bit, 4-level */
	CU_ASSERT_EQUAL(cfg.pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x2000, 0x23456000, SZ_4K, PGT_PROT_READ);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x80000000, 0x1c0000000, SZ_1G, PGT_PROT_READ | PGT_PROT_WRITE);
	/* 4K: R=bit 0, W=bit 1 */
	kat_check(p, 0x1000, 0x0000000012345003ULL, SZ_4K, vtd_tbl);
	kat_check(p, 0x2000, 0x0000000023456001ULL, SZ_4K, vtd_tbl);
	/* 2M/1G: PS = bit 7 (QEMU VTD_PT_PAGE_SIZE_MASK, Linux DMA_PTE_LARGE_PAGE) */
	kat_check(p, 0x40200000, 0x0000000080200083ULL, SZ_2M, vtd_tbl);
	kat_check(p, 0x80000000, 0x00000001c0000083ULL, SZ_1G, vtd_tbl);
	pgt_free(p);

	/* SNP = bit 11 (ECAP.SC; Linux DMA_PTE_SNP); 3-level = AW 1, 5-level = AW 3 */
	p = kat_alloc(PGT_VTD_SL, 39, 46, PGT_QUIRK_VTD_SNOOP, true, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 3);
	CU_ASSERT_EQUAL(cfg.hw.vtd.aw, 1);
	kat_map(p, 0x5000, 0x3fff0000000ULL, SZ_4K, PGT_PROT_WRITE);
	kat_check(p, 0x5000, 0x000003fff0000802ULL, SZ_4K, vtd_tbl);
	kat_map(p, 0x40000000, 0x40000000, SZ_1G, PGT_PROT_READ);
	kat_check(p, 0x40000000, 0x0000000040000881ULL, SZ_1G, vtd_tbl);
	pgt_free(p);

	p = kat_alloc(PGT_VTD_SL, 57, 52, 0, true, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 5);
	CU_ASSERT_EQUAL(cfg.hw.vtd.aw, 3);
	kat_map(p, 0x01ff000000000000ULL, 0xfffffffff000ULL, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_check(p, 0x01ff000000000000ULL, 0x0000fffffffff003ULL, SZ_4K, vtd_tbl);
	pgt_free(p);

	/* CAP.SLLPS without 1G: a 1G range becomes 512 2M leaves. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.fmt = PGT_VTD_SL;
	cfg.ias = 48;
	cfg.coherent = true;
	cfg.pgsize_bitmap = SZ_4K | SZ_2M;
	int err;
	p = pgt_alloc(&cfg, &tmem_ops, &mem, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(cfg.pgsize_bitmap, SZ_4K | SZ_2M);
	kat_map(p, SZ_1G, SZ_1G, SZ_1G, PGT_PROT_READ);
	kat_check(p, SZ_1G + SZ_2M * 7, 0x0000000040e00081ULL, SZ_2M, vtd_tbl);
	pgt_free(p);
}

/* ---- x86-64 first level: SDM 4.5 tables 4-15..4-20, Linux DMA_FL_PTE_* ---- */

static uint64_t x86_tbl(unsigned int level)
{
	(void)level;
	return 0x27; /* P (0) | R/W (1) | U/S (2) | A (5) */
}

static void test_x86_fl(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_X86_FL, 47, 48, 0, true, &cfg);

	CU_ASSERT_EQUAL(cfg.levels, 4);
	CU_ASSERT_EQUAL(cfg.hw.x86.flpm, 0); /* VT-d 9.6 PASID entry FLPM 00b: 4-level */
	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x2000, 0x23456000, SZ_4K, PGT_PROT_READ);
	kat_map(p, 0x3000, 0x34567000, SZ_4K,
		PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_PRIV | PGT_PROT_NOEXEC);
	kat_map(p, 0x4000, 0xfe000000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_MMIO);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x80000000, 0x1c0000000, SZ_1G, PGT_PROT_READ | PGT_PROT_WRITE);
	/* P|RW|US|A(5)|D(6) = 0x67 */
	kat_check(p, 0x1000, 0x0000000012345067ULL, SZ_4K, x86_tbl);
	kat_check(p, 0x2000, 0x0000000023456065ULL, SZ_4K, x86_tbl);
	/* supervisor: U/S clear; XD = bit 63 */
	kat_check(p, 0x3000, 0x8000000034567063ULL, SZ_4K, x86_tbl);
	/* PWT (3) | PCD (4): UC */
	kat_check(p, 0x4000, 0x00000000fe00007fULL, SZ_4K, x86_tbl);
	/* PS = bit 7 in PDE / PDPTE */
	kat_check(p, 0x40200000, 0x00000000802000e7ULL, SZ_2M, x86_tbl);
	kat_check(p, 0x80000000, 0x00000001c00000e7ULL, SZ_1G, x86_tbl);
	pgt_free(p);

	p = kat_alloc(PGT_X86_FL, 56, 52, 0, true, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 5);
	CU_ASSERT_EQUAL(cfg.hw.x86.flpm, 1); /* FLPM 01b: 5-level */
	kat_map(p, 0x00ff000000000000ULL, 0x000ffffffffff000ULL, SZ_4K, PGT_PROT_READ);
	kat_check(p, 0x00ff000000000000ULL, 0x000ffffffffff065ULL, SZ_4K, x86_tbl);
	pgt_free(p);
}

/* ---- AMD-Vi v1: AMD IOMMU 2.2.3, Linux IOMMU_PTE_*, PM_LEVEL_ENC ---- */

static uint64_t amd_tbl(unsigned int level)
{
	/* PR (0) | NextLevel (11:9) = level - 1 | IR (61) | IW (62) */
	return 0x6000000000000001ULL | ((uint64_t)(level - 1) << 9);
}

static void test_amd_v1(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_AMD_V1, 48, 52, 0, true, &cfg);

	CU_ASSERT_EQUAL(cfg.levels, 4);
	CU_ASSERT_EQUAL(cfg.hw.amd.mode, 4); /* DTE Mode = 100b: 4-level */
	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x2000, 0x23456000, SZ_4K, PGT_PROT_READ);
	kat_map(p, 0x3000, 0x34567000, SZ_4K, PGT_PROT_WRITE | PGT_PROT_CACHE);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_map(p, 0x80000000, 0x1c0000000, SZ_1G, PGT_PROT_READ | PGT_PROT_WRITE);
	kat_check(p, 0x1000, 0x6000000012345001ULL, SZ_4K, amd_tbl);
	kat_check(p, 0x2000, 0x2000000023456001ULL, SZ_4K, amd_tbl);
	/* IW (62) | FC (60) */
	kat_check(p, 0x3000, 0x5000000034567001ULL, SZ_4K, amd_tbl);
	/* default-size leaves: Next Level = 0 at level 2 (2M) and 3 (1G) */
	kat_check(p, 0x40200000, 0x6000000080200001ULL, SZ_2M, amd_tbl);
	kat_check(p, 0x80000000, 0x60000001c0000001ULL, SZ_1G, amd_tbl);
	pgt_free(p);

	/* Mode 6 covers the full 64-bit space: top level indexes bits 63:57. */
	p = kat_alloc(PGT_AMD_V1, 64, 48, 0, true, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 6);
	CU_ASSERT_EQUAL(cfg.hw.amd.mode, 6);
	kat_map(p, 0xfffffffffffff000ULL, 0xabcd000, SZ_4K, PGT_PROT_READ);
	kat_check(p, 0xfffffffffffff000ULL, 0x200000000abcd001ULL, SZ_4K, amd_tbl);
	pgt_free(p);

	/* Mode 1: a single 4K-entry table, 21-bit input. */
	p = kat_alloc(PGT_AMD_V1, 21, 48, 0, true, &cfg);
	CU_ASSERT_EQUAL(cfg.hw.amd.mode, 1);
	CU_ASSERT_EQUAL(cfg.pgsize_bitmap, SZ_4K);
	kat_map(p, 0x1ff000, 0x7000, SZ_4K, PGT_PROT_WRITE);
	kat_check(p, 0x1ff000, 0x4000000000007001ULL, SZ_4K, amd_tbl);
	pgt_free(p);
}

/* ---- Arm VMSAv8-64 4K: Arm ARM D8.3, Linux ARM_LPAE_PTE_* ---- */

static uint64_t arm_tbl(unsigned int level)
{
	(void)level;
	return 0x3; /* valid (0) | table (1) */
}

static uint64_t arm_tbl_ns(unsigned int level)
{
	(void)level;
	return 0x8000000000000003ULL; /* NSTable = bit 63 */
}

static void test_arm_s1(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_ARM_S1_4K, 48, 48, 0, true, &cfg);

	CU_ASSERT_EQUAL(cfg.levels, 4);
	/* TCR: T0SZ=16 (5:0), IRGN0=ORGN0=WBWA 01b (9:8, 11:10), SH0=IS 11b
	 * (13:12), TG0=4K 00b (15:14), IPS=48-bit 101b (34:32) */
	CU_ASSERT_EQUAL(cfg.hw.arm_s1.tcr, 0x0000000500003510ULL);
	/* MAIR: Attr0 0xff normal WB, Attr1 0x04 device nGnRE, Attr2 0x44 normal NC */
	CU_ASSERT_EQUAL(cfg.hw.arm_s1.mair, 0x00000000004404ffULL);
	CU_ASSERT_EQUAL(cfg.hw.arm_s1.ttbr, cfg.root_pa);

	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	kat_map(p, 0x2000, 0x23456000, SZ_4K, PGT_PROT_READ);
	kat_map(p, 0x3000, 0x34567000, SZ_4K,
		PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_MMIO | PGT_PROT_PRIV | PGT_PROT_NOEXEC);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	kat_map(p, 0x80000000, 0x1c0000000, SZ_1G, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	/* page 11b | AttrIndx 0 | AP[2:1]=01 (EL0 RW, 0x40) | SH=IS (0x300) |
	 * AF (0x400) | nG (0x800) */
	kat_check(p, 0x1000, 0x0000000012345f43ULL, SZ_4K, arm_tbl);
	/* AttrIndx 2 NC (0x8) | AP=11 RO+EL0 (0xc0) | SH=OS (0x200) | AF | nG */
	kat_check(p, 0x2000, 0x0000000023456ecbULL, SZ_4K, arm_tbl);
	/* AttrIndx 1 device (0x4) | AP=00 | SH=OS | AF | nG | PXN (53) | UXN (54) */
	kat_check(p, 0x3000, 0x0060000034567e07ULL, SZ_4K, arm_tbl);
	/* block descriptors 01b at levels 2 and 1 */
	kat_check(p, 0x40200000, 0x0000000080200f41ULL, SZ_2M, arm_tbl);
	kat_check(p, 0x80000000, 0x00000001c0000f41ULL, SZ_1G, arm_tbl);
	pgt_free(p);

	/* 39-bit input starts at level 1; NS quirk; non-coherent walker. */
	p = kat_alloc(PGT_ARM_S1_4K, 39, 40, PGT_QUIRK_ARM_NS, false, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 3);
	/* T0SZ=25, IRGN0=ORGN0=NC, SH0=OS 10b, IPS=40-bit 010b */
	CU_ASSERT_EQUAL(cfg.hw.arm_s1.tcr, 0x0000000200002019ULL);
	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	/* + NS (bit 5) */
	kat_check(p, 0x1000, 0x0000000012345f63ULL, SZ_4K, arm_tbl_ns);
	pgt_free(p);
}

static void test_arm_s2(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_ARM_S2_4K, 40, 40, 0, true, &cfg);

	CU_ASSERT_EQUAL(cfg.levels, 4);
	/* VTCR: T0SZ=24, SL0=2 (start level 0), IRGN0=ORGN0=WBWA, SH0=IS,
	 * TG0=4K, PS=40-bit 010b (18:16) */
	CU_ASSERT_EQUAL(cfg.hw.arm_s2.vtcr, 0x0000000000023598ULL);
	CU_ASSERT_EQUAL(cfg.hw.arm_s2.vttbr, cfg.root_pa);
	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	kat_map(p, 0x2000, 0x23456000, SZ_4K, PGT_PROT_READ);
	kat_map(p, 0x3000, 0x34567000, SZ_4K, PGT_PROT_WRITE | PGT_PROT_MMIO | PGT_PROT_NOEXEC);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	kat_map(p, 0x80000000, 0x1c0000000, SZ_1G, PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_CACHE);
	/* page | MemAttr 1111b (0x3c) | S2AP 11b (0xc0) | SH=IS | AF */
	kat_check(p, 0x1000, 0x00000000123457ffULL, SZ_4K, arm_tbl);
	/* MemAttr 0101b NC (0x14) | S2AP read (0x40) | SH=OS | AF */
	kat_check(p, 0x2000, 0x0000000023456657ULL, SZ_4K, arm_tbl);
	/* MemAttr 0001b device (0x4) | S2AP write (0x80) | SH=OS | AF | XN (54) */
	kat_check(p, 0x3000, 0x0040000034567687ULL, SZ_4K, arm_tbl);
	kat_check(p, 0x40200000, 0x00000000802007fdULL, SZ_2M, arm_tbl);
	kat_check(p, 0x80000000, 0x00000001c00007fdULL, SZ_1G, arm_tbl);
	pgt_free(p);

	/* 39-bit: start level 1, SL0=1; 30-bit: start level 2, SL0=0 */
	p = kat_alloc(PGT_ARM_S2_4K, 39, 40, 0, true, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 3);
	CU_ASSERT_EQUAL(cfg.hw.arm_s2.vtcr, 0x0000000000023559ULL);
	pgt_free(p);
	p = kat_alloc(PGT_ARM_S2_4K, 30, 32, 0, false, &cfg);
	CU_ASSERT_EQUAL(cfg.levels, 2);
	CU_ASSERT_EQUAL(cfg.pgsize_bitmap, SZ_4K | SZ_2M);
	/* T0SZ=34 (0x22), SL0=0, NC, SH0=OS, PS=32-bit 000b */
	CU_ASSERT_EQUAL(cfg.hw.arm_s2.vtcr, 0x0000000000002022ULL);
	kat_map(p, 0x3fe00000, 0x200000, SZ_2M, PGT_PROT_READ);
	kat_check(p, 0x3fe00000, 0x0000000000200655ULL, SZ_2M, arm_tbl);
	pgt_free(p);
}

/* ---- every field macro against an independently written constant ---- */

struct field {
	const char *name;
	uint64_t mask;
	uint64_t expect;
};

#define F(m, v)              \
	{                    \
#m, (m), (v) \
	}

static const struct field fields[] = {
	F(VTD_SL_R, 0x1),
	F(VTD_SL_W, 0x2),
	F(VTD_SL_X, 0x4),
	F(VTD_SL_EMT, 0x38),
	F(VTD_SL_IPAT, 0x40),
	F(VTD_SL_PS, 0x80),
	F(VTD_SL_A, 0x100),
	F(VTD_SL_D, 0x200),
	F(VTD_SL_SNP, 0x800),
	F(VTD_SL_ADDR, 0x000ffffffffff000ULL),
	F(VTD_SL_TM, 1ULL << 62),
	F(X86_P, 0x1),
	F(X86_RW, 0x2),
	F(X86_US, 0x4),
	F(X86_PWT, 0x8),
	F(X86_PCD, 0x10),
	F(X86_A, 0x20),
	F(X86_D, 0x40),
	F(X86_PS, 0x80),
	F(X86_G, 0x100),
	F(X86_ADDR, 0x000ffffffffff000ULL),
	F(X86_XD, 1ULL << 63),
	F(AMD_PR, 0x1),
	F(AMD_A, 0x20),
	F(AMD_D, 0x40),
	F(AMD_NL, 0xe00),
	F(AMD_ADDR, 0x000ffffffffff000ULL),
	F(AMD_U, 1ULL << 59),
	F(AMD_FC, 1ULL << 60),
	F(AMD_IR, 1ULL << 61),
	F(AMD_IW, 1ULL << 62),
	F(ARM_VALID, 0x1),
	F(ARM_TYPE, 0x2),
	F(ARM_ADDR, 0x0000fffffffff000ULL),
	F(ARM_S1_ATTRIDX, 0x1c),
	F(ARM_S1_NS, 0x20),
	F(ARM_S1_AP, 0xc0),
	F(ARM_SH, 0x300),
	F(ARM_AF, 0x400),
	F(ARM_S1_NG, 0x800),
	F(ARM_S2_MEMATTR, 0x3c),
	F(ARM_S2_S2AP, 0xc0),
	F(ARM_DBM, 1ULL << 51),
	F(ARM_CONT, 1ULL << 52),
	F(ARM_S1_PXN, 1ULL << 53),
	F(ARM_S1_UXN, 1ULL << 54),
	F(ARM_S2_XN, 1ULL << 54),
	F(ARM_SW, 0x0780000000000000ULL),
	F(ARM_TBL_NSTABLE, 1ULL << 63),
	F(ARM_MAIR_ATTR(0), 0xff),
	F(ARM_MAIR_ATTR(2), 0xff0000),
	F(ARM_TCR_T0SZ, 0x3f),
	F(ARM_TCR_IRGN0, 0x300),
	F(ARM_TCR_ORGN0, 0xc00),
	F(ARM_TCR_SH0, 0x3000),
	F(ARM_TCR_TG0, 0xc000),
	F(ARM_TCR_IPS, 0x700000000ULL),
	F(ARM_VTCR_T0SZ, 0x3f),
	F(ARM_VTCR_SL0, 0xc0),
	F(ARM_VTCR_IRGN0, 0x300),
	F(ARM_VTCR_ORGN0, 0xc00),
	F(ARM_VTCR_SH0, 0x3000),
	F(ARM_VTCR_TG0, 0xc000),
	F(ARM_VTCR_PS, 0x70000),
};

static void test_fields(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		uint64_t max = FIELD_MAX(f->mask);

		if (f->mask != f->expect)
			fprintf(stderr, "\n  %s = 0x%llx, expected 0x%llx\n", f->name,
				(unsigned long long)f->mask, (unsigned long long)f->expect);
		CU_ASSERT_EQUAL(f->mask, f->expect);
		/* contiguous, and PREP/GET round-trip at both ends */
		CU_ASSERT_EQUAL(FIELD_PREP(f->mask, max), f->mask);
		CU_ASSERT_EQUAL(FIELD_GET(f->mask, ~0ULL), max);
		CU_ASSERT_EQUAL(FIELD_GET(f->mask, FIELD_PREP(f->mask, 1)), 1);
		CU_ASSERT_EQUAL(FIELD_SET(f->mask, ~0ULL, 0), ~f->mask);
	}
	/* value encodings */
	CU_ASSERT_EQUAL(VTD_AW_FROM_LEVELS(3), 1);
	CU_ASSERT_EQUAL(VTD_AW_FROM_LEVELS(5), 3);
	CU_ASSERT_EQUAL(X86_FLPM_FROM_LEVELS(4), 0);
	CU_ASSERT_EQUAL(X86_FLPM_FROM_LEVELS(5), 1);
	CU_ASSERT_EQUAL(AMD_NL_SIZED, 7);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_S1_AP, ARM_S1_AP_UNPRIV | ARM_S1_AP_RDONLY), 0xc0);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_SH, ARM_SH_IS), 0x300);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_SH, ARM_SH_OS), 0x200);
	CU_ASSERT_EQUAL(ARM_SH_NS, 0);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_S2_MEMATTR, ARM_S2_MEMATTR_WB), 0x3c);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_S2_MEMATTR, ARM_S2_MEMATTR_NC), 0x14);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_S2_MEMATTR, ARM_S2_MEMATTR_DEV), 0x4);
	CU_ASSERT_EQUAL(FIELD_PREP(ARM_S2_S2AP, ARM_S2AP_R | ARM_S2AP_W), 0xc0);
	CU_ASSERT_EQUAL(ARM_MAIR_NORMAL_WB | ARM_MAIR_DEVICE_NGNRE << 8 | ARM_MAIR_NORMAL_NC << 16,
			0x4404ff);
	CU_ASSERT_EQUAL(ARM_MAIR_IDX_WB, 0);
	CU_ASSERT_EQUAL(ARM_MAIR_IDX_DEV, 1);
	CU_ASSERT_EQUAL(ARM_MAIR_IDX_NC, 2);
	CU_ASSERT_EQUAL(ARM_RGN_NC, 0);
	CU_ASSERT_EQUAL(ARM_RGN_WBWA, 1);
	CU_ASSERT_EQUAL(ARM_TG0_4K, 0);
}

/* ---- walk and describe ---- */

static void describe_has(struct pgt *p, uint64_t iova, int level_idx, const char *want)
{
	struct pgt_walk_level w[8];
	char buf[256];
	int n = pgt_walk(p, iova, w, 8);
	int idx = level_idx < 0 ? n - 1 : level_idx;

	CU_ASSERT_FATAL(idx < n);
	CU_ASSERT(pgt_entry_describe(p, &w[idx], buf, sizeof(buf)) > 0);
	const char *hit = strstr(buf, want);

	if (!hit)
		fprintf(stderr, "\n  describe: \"%.*s\" lacks \"%s\"\n", (int)sizeof(buf), buf,
			want ? want : "");
	CU_ASSERT_PTR_NOT_NULL(hit);
}

static void test_walk_describe(void)
{
	static const enum pgt_format fmts[] = {PGT_VTD_SL, PGT_X86_FL, PGT_AMD_V1, PGT_ARM_S1_4K,
					       PGT_ARM_S2_4K};
	static const char *const rw_word[] = {" W", " RW", " IW", "AP=1(RW,EL0)", "S2AP=RW"};
	static const char *const names[] = {"vtd-sl", "x86-fl", "amd-v1", "arm-s1-4k", "arm-s2-4k"};

	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++) {
		struct pgt_cfg cfg;
		struct pgt *p =
			kat_alloc(fmts[f], fmts[f] == PGT_X86_FL ? 47 : 48, 48,
				  fmts[f] == PGT_VTD_SL ? PGT_QUIRK_VTD_SNOOP : 0, true, &cfg);
		struct pgt_walk_level w[8];
		char small[8];

		CU_ASSERT_STRING_EQUAL(pgt_format_name(fmts[f]), names[f]);
		kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ | PGT_PROT_WRITE);
		kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ | PGT_PROT_WRITE);
		/* walk: 4 levels to the 4K leaf, 3 to the 2M leaf, root only when empty */
		CU_ASSERT_EQUAL(pgt_walk(p, 0x1000, w, 8), 4);
		CU_ASSERT_EQUAL(w[0].table_pa, cfg.root_pa);
		CU_ASSERT_EQUAL(w[0].level, fmts[f] >= PGT_ARM_S1_4K ? 0u : 4u);
		CU_ASSERT_EQUAL(w[3].level, fmts[f] >= PGT_ARM_S1_4K ? 3u : 1u);
		CU_ASSERT_EQUAL(w[3].index, 1);
		CU_ASSERT_EQUAL(pgt_walk(p, 0x40200000, w, 8), 3);
		CU_ASSERT_EQUAL(w[2].pgsize, SZ_2M);
		CU_ASSERT_EQUAL(pgt_walk(p, 0x40200000, w, 2), 2);
		CU_ASSERT_EQUAL(pgt_walk(p, 1ULL << 45, w, 8), 1);
		CU_ASSERT_FALSE(w[0].present);
		CU_ASSERT_EQUAL(pgt_walk(p, 1ULL << 50, w, 8), 0);
		describe_has(p, 0x1000, 0, "table -> 0x");
		describe_has(p, 0x1000, -1, "leaf 4K -> 0x12345000");
		describe_has(p, 0x1000, -1, rw_word[f]);
		describe_has(p, 0x40200000, -1, "leaf 2M -> 0x80200000");
		describe_has(p, 0x3000, -1, "not present");
		describe_has(p, 1ULL << 45, -1, names[f]);
		/* truncation is safe */
		pgt_walk(p, 0x1000, w, 8);
		CU_ASSERT(pgt_entry_describe(p, &w[3], small, sizeof(small)) < (int)sizeof(small));
		CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
		pgt_free(p);
	}
	/* format-specific words */
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_VTD_SL, 48, 48, PGT_QUIRK_VTD_SNOOP, true, &cfg);
	kat_map(p, 0x40200000, 0x80200000, SZ_2M, PGT_PROT_READ);
	describe_has(p, 0x40200000, -1, " R EMT=0 PS SNP");
	pgt_free(p);
	p = kat_alloc(PGT_AMD_V1, 48, 48, 0, true, &cfg);
	kat_map(p, 0x1000, 0x2000, SZ_4K, PGT_PROT_READ | PGT_PROT_CACHE);
	describe_has(p, 0x1000, 0, "NL=3 IR IW");
	describe_has(p, 0x1000, -1, "NL=0 IR FC");
	pgt_free(p);
	p = kat_alloc(PGT_ARM_S1_4K, 48, 48, 0, true, &cfg);
	kat_map(p, 0x1000, 0x2000, SZ_4K, PGT_PROT_READ | PGT_PROT_MMIO | PGT_PROT_NOEXEC);
	describe_has(p, 0x1000, -1, "page OSH AF AttrIndx=1 AP=3(RO,EL0) nG PXN UXN");
	pgt_free(p);
	p = kat_alloc(PGT_X86_FL, 47, 48, 0, true, &cfg);
	kat_map(p, 0x200000, 0x400000, SZ_2M, PGT_PROT_READ | PGT_PROT_PRIV | PGT_PROT_NOEXEC);
	describe_has(p, 0x200000, -1, " P RO S A XD D PS");
	pgt_free(p);
}

static void test_bind(void)
{
	struct pgt_cfg cfg;
	struct pgt *p = kat_alloc(PGT_X86_FL, 47, 48, 0, true, &cfg);
	struct pgt_mem_ops other = tmem_ops;

	kat_map(p, 0x1000, 0x12345000, SZ_4K, PGT_PROT_READ);
	pgt_bind(p, &other, &mem);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, 0x1010), 0x12345010);
	CU_ASSERT_EQUAL(pgt_iova_to_phys(p, 0x2000), UINT64_MAX);
	pgt_bind(p, &tmem_ops, &mem);
	pgt_free(p);
	CU_ASSERT_EQUAL(mem.live, 0);
}

static const struct ut_test kat_tests[] = {
	{"vtd_sl", test_vtd_sl},
	{"x86_fl", test_x86_fl},
	{"amd_v1", test_amd_v1},
	{"arm_s1", test_arm_s1},
	{"arm_s2", test_arm_s2},
	{"field_macros", test_fields},
	{"walk_describe", test_walk_describe},
	{"bind", test_bind},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"pgtable_kat", kat_init, kat_fini, kat_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
