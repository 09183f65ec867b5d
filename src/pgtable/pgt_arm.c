/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Arm VMSAv8-64 formats, 4 KiB granule, stage 1 and stage 2 (SMMUv3 CD and
 * STE).  Bit positions: pgt_hw.h.
 *
 * The start level follows from the input size (T0SZ): 40..48 bits start at
 * level 0, 31..39 at level 1, 25..30 at level 2.  Stage 2 never uses
 * concatenated start-level tables: the root is always one 4 KiB page, so
 * SL0 = 2 - start level and T0SZ = 64 - ias.
 */
#include <errno.h>

#include "pgtable/pgt_hw.h"
#include "pgtable/pgt_internal.h"

#define SZ_4K (1ULL << 12)
#define SZ_2M (1ULL << 21)
#define SZ_1G (1ULL << 30)

/* TCR.IPS / VTCR.PS encodings (D19.2): smallest size >= oas. */
static int arm_ps_encode(unsigned int oas)
{
	static const unsigned char bits[] = {32, 36, 40, 42, 44, 48};

	for (unsigned int i = 0; i < ARRAY_SIZE(bits); i++)
		if (oas <= bits[i])
			return (int)i;
	return -EINVAL;
}

int pgt_arm_init(struct pgt *p)
{
	struct pgt_cfg *cfg = &p->cfg;
	bool s1 = cfg->fmt == PGT_ARM_S1_4K;
	unsigned int memattr[3], attridx[3];
	int ps, rc;

	if (cfg->quirks & ~(s1 ? PGT_QUIRK_ARM_NS : 0u))
		return -EINVAL;
	rc = pgt_resolve_levels(p, 2, 4, 48);
	if (rc)
		return rc;
	/* T0SZ fixes the start level: the level count must be exactly the
	 * one the input size needs. */
	if (cfg->ias < 25 || cfg->ias <= pgt_lvl_shift(p->levels - 1))
		return -EINVAL;
	if (cfg->oas == 0)
		cfg->oas = 48;
	ps = arm_ps_encode(cfg->oas);
	if (cfg->oas < 32 || ps < 0)
		return -EINVAL;
	p->pa_last = (1ULL << cfg->oas) - 1;
	p->addr_mask = ARM_ADDR & GENMASK_ULL(cfg->oas - 1, PGT_PAGE_SHIFT);
	/* Blocks at levels 1 (1G) and 2 (2M); none at level 0 without LPA2. */
	rc = pgt_resolve_pgsizes(p, SZ_4K | SZ_2M | SZ_1G);
	if (rc)
		return rc;

	p->present = ARM_VALID;
	p->type_mask = ARM_TYPE;
	for (unsigned int lvl = 0; lvl < PGT_MAX_LEVELS; lvl++) {
		p->tbl_type[lvl] = ARM_TYPE;
		p->tbl_bits[lvl] = ARM_VALID | ARM_TYPE;
		if (s1 && (cfg->quirks & PGT_QUIRK_ARM_NS))
			p->tbl_bits[lvl] |= ARM_TBL_NSTABLE;
		/* Level 3 page descriptor 0b11, block descriptor 0b01. */
		p->leaf_bits[lvl] = lvl ? ARM_VALID : ARM_VALID | ARM_TYPE;
	}

	/* Memory type per prot: [0] normal WB, [1] device, [2] normal NC. */
	attridx[0] = ARM_MAIR_IDX_WB;
	attridx[1] = ARM_MAIR_IDX_DEV;
	attridx[2] = ARM_MAIR_IDX_NC;
	memattr[0] = ARM_S2_MEMATTR_WB;
	memattr[1] = ARM_S2_MEMATTR_DEV;
	memattr[2] = ARM_S2_MEMATTR_NC;
	for (unsigned int prot = 0; prot < PGT_NR_PROT; prot++) {
		unsigned int type = (prot & PGT_PROT_MMIO) ? 1 : (prot & PGT_PROT_CACHE) ? 0 : 2;
		uint64_t e;

		if (!(prot & (PGT_PROT_READ | PGT_PROT_WRITE))) {
			p->prot_bits[prot] = 0;
			continue;
		}
		/* AF preset: no access-flag faults.  Cacheable memory is
		 * inner shareable, the rest outer shareable (as Linux). */
		e = ARM_AF | FIELD_PREP(ARM_SH, type == 0 ? ARM_SH_IS : ARM_SH_OS);
		if (s1) {
			unsigned int ap = 0;

			if (!(prot & PGT_PROT_WRITE))
				ap |= ARM_S1_AP_RDONLY;
			if (!(prot & PGT_PROT_PRIV))
				ap |= ARM_S1_AP_UNPRIV;
			e |= FIELD_PREP(ARM_S1_AP, ap) | FIELD_PREP(ARM_S1_ATTRIDX, attridx[type]) |
			     ARM_S1_NG;
			if (cfg->quirks & PGT_QUIRK_ARM_NS)
				e |= ARM_S1_NS;
			if (prot & PGT_PROT_NOEXEC)
				e |= ARM_S1_UXN | ARM_S1_PXN;
		} else {
			unsigned int s2ap = 0;

			if (prot & PGT_PROT_READ)
				s2ap |= ARM_S2AP_R;
			if (prot & PGT_PROT_WRITE)
				s2ap |= ARM_S2AP_W;
			e |= FIELD_PREP(ARM_S2_S2AP, s2ap) |
			     FIELD_PREP(ARM_S2_MEMATTR, memattr[type]);
			if (prot & PGT_PROT_NOEXEC)
				e |= ARM_S2_XN;
		}
		p->prot_bits[prot] = e;
	}

	unsigned int rgn = cfg->coherent ? ARM_RGN_WBWA : ARM_RGN_NC;
	unsigned int sh = cfg->coherent ? ARM_SH_IS : ARM_SH_OS;

	if (s1) {
		cfg->hw.arm_s1.tcr =
			FIELD_PREP(ARM_TCR_T0SZ, 64 - cfg->ias) | FIELD_PREP(ARM_TCR_IRGN0, rgn) |
			FIELD_PREP(ARM_TCR_ORGN0, rgn) | FIELD_PREP(ARM_TCR_SH0, sh) |
			FIELD_PREP(ARM_TCR_TG0, ARM_TG0_4K) | FIELD_PREP(ARM_TCR_IPS, ps);
		cfg->hw.arm_s1.mair =
			FIELD_PREP(ARM_MAIR_ATTR(ARM_MAIR_IDX_WB), ARM_MAIR_NORMAL_WB) |
			FIELD_PREP(ARM_MAIR_ATTR(ARM_MAIR_IDX_DEV), ARM_MAIR_DEVICE_NGNRE) |
			FIELD_PREP(ARM_MAIR_ATTR(ARM_MAIR_IDX_NC), ARM_MAIR_NORMAL_NC);
	} else {
		/* Start level 4 - levels; SL0 (4K granule) = 2 - start level. */
		cfg->hw.arm_s2.vtcr =
			FIELD_PREP(ARM_VTCR_T0SZ, 64 - cfg->ias) |
			FIELD_PREP(ARM_VTCR_SL0, p->levels - 2) | FIELD_PREP(ARM_VTCR_IRGN0, rgn) |
			FIELD_PREP(ARM_VTCR_ORGN0, rgn) | FIELD_PREP(ARM_VTCR_SH0, sh) |
			FIELD_PREP(ARM_VTCR_TG0, ARM_TG0_4K) | FIELD_PREP(ARM_VTCR_PS, ps);
	}
	return 0;
}

static const char *const arm_sh_name[4] = {"NSH", "SH=1?", "OSH", "ISH"};

int pgt_arm_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len)
{
	bool s1 = p->cfg.fmt == PGT_ARM_S1_4K;
	uint64_t e = l->entry;
	size_t off;

	if (!pgt_describe_head(p, l, buf, len, &off))
		return (int)off;
	if (!l->leaf) {
		if (s1 && (e & ARM_TBL_NSTABLE))
			pgt_bufprintf(buf, len, &off, " NSTable");
		return (int)off;
	}
	pgt_bufprintf(buf, len, &off, " %s %s%s", (e & ARM_TYPE) ? "page" : "block",
		      arm_sh_name[FIELD_GET(ARM_SH, e)], (e & ARM_AF) ? " AF" : "");
	if (s1) {
		unsigned int ap = (unsigned int)FIELD_GET(ARM_S1_AP, e);

		pgt_bufprintf(buf, len, &off, " AttrIndx=%u AP=%u(%s,%s)%s%s%s%s",
			      (unsigned int)FIELD_GET(ARM_S1_ATTRIDX, e), ap,
			      (ap & ARM_S1_AP_RDONLY) ? "RO" : "RW",
			      (ap & ARM_S1_AP_UNPRIV) ? "EL0" : "priv",
			      (e & ARM_S1_NS) ? " NS" : "", (e & ARM_S1_NG) ? " nG" : "",
			      (e & ARM_S1_PXN) ? " PXN" : "", (e & ARM_S1_UXN) ? " UXN" : "");
	} else {
		unsigned int s2ap = (unsigned int)FIELD_GET(ARM_S2_S2AP, e);

		pgt_bufprintf(buf, len, &off, " MemAttr=0x%x S2AP=%s%s%s",
			      (unsigned int)FIELD_GET(ARM_S2_MEMATTR, e),
			      (s2ap & ARM_S2AP_R) ? "R" : "-", (s2ap & ARM_S2AP_W) ? "W" : "-",
			      (e & ARM_S2_XN) ? " XN" : "");
	}
	pgt_bufprintf(buf, len, &off, "%s%s%s", (e & ARM_DBM) ? " DBM" : "",
		      (e & ARM_CONT) ? " Contig" : "", FIELD_GET(ARM_SW, e) ? " SW" : "");
	return (int)off;
}
