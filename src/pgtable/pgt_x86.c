/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x86-family formats: VT-d second-level, x86-64 first-level (VT-d scalable
 * first-level, AMD-Vi v2) and AMD-Vi v1.  Each init validates the config,
 * describes the format to the engine with entry templates, and fills back
 * what the context / PASID / device table entry needs.  Bit positions:
 * pgt_hw.h.
 */
#include <errno.h>

#include "pgtable/pgt_hw.h"
#include "pgtable/pgt_internal.h"

#define SZ_4K (1ULL << 12)
#define SZ_2M (1ULL << 21)
#define SZ_1G (1ULL << 30)

/* Output size: 0 = @dflt; must lie in [32, max]. */
static int x86_resolve_oas(struct pgt *p, uint64_t addr_field, unsigned int dflt, unsigned int max)
{
	unsigned int oas = p->cfg.oas ? p->cfg.oas : dflt;

	if (oas < 32 || oas > max)
		return -EINVAL;
	p->cfg.oas = oas;
	p->pa_last = (1ULL << oas) - 1;
	p->addr_mask = addr_field & GENMASK_ULL(oas - 1, PGT_PAGE_SHIFT);
	return 0;
}

/* ---- VT-d second-level ---- */

int pgt_vtd_sl_init(struct pgt *p)
{
	int rc;

	if (p->cfg.quirks & ~PGT_QUIRK_VTD_SNOOP)
		return -EINVAL;
	/* AGAW: 3, 4 or 5 levels (39/48/57-bit); a smaller ias rounds up. */
	rc = pgt_resolve_levels(p, 3, 5, 57);
	if (rc)
		return rc;
	rc = x86_resolve_oas(p, VTD_SL_ADDR, 48, 52);
	if (rc)
		return rc;
	/* 2M/1G only where the caller allows them (CAP.SLLPS). */
	rc = pgt_resolve_pgsizes(p, SZ_4K | SZ_2M | SZ_1G);
	if (rc)
		return rc;

	p->present = VTD_SL_R | VTD_SL_W;
	p->type_mask = VTD_SL_PS;
	for (unsigned int lvl = 0; lvl < PGT_MAX_LEVELS; lvl++) {
		p->tbl_type[lvl] = 0;
		/* Non-leaf R/W are ANDed with the leaf's (VT-d 3.7.1). */
		p->tbl_bits[lvl] = VTD_SL_R | VTD_SL_W;
		p->leaf_bits[lvl] = lvl ? VTD_SL_PS : 0;
	}
	for (unsigned int prot = 0; prot < PGT_NR_PROT; prot++) {
		uint64_t e = 0;

		if (prot & PGT_PROT_READ)
			e |= VTD_SL_R;
		if (prot & PGT_PROT_WRITE)
			e |= VTD_SL_W;
		if (e && (p->cfg.quirks & PGT_QUIRK_VTD_SNOOP))
			e |= VTD_SL_SNP;
		p->prot_bits[prot] = e;
	}
	p->cfg.hw.vtd.aw = VTD_AW_FROM_LEVELS(p->levels);
	return 0;
}

int pgt_vtd_sl_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len)
{
	size_t off;
	uint64_t e = l->entry;

	if (pgt_describe_head(p, l, buf, len, &off)) {
		pgt_bufprintf(buf, len, &off, "%s%s%s", (e & VTD_SL_R) ? " R" : "",
			      (e & VTD_SL_W) ? " W" : "", (e & VTD_SL_X) ? " X" : "");
		if (l->leaf) {
			pgt_bufprintf(buf, len, &off, " EMT=%llu%s%s%s%s%s",
				      (unsigned long long)FIELD_GET(VTD_SL_EMT, e),
				      (e & VTD_SL_IPAT) ? " IPAT" : "",
				      (e & VTD_SL_PS) ? " PS" : "", (e & VTD_SL_D) ? " D" : "",
				      (e & VTD_SL_SNP) ? " SNP" : "", (e & VTD_SL_TM) ? " TM" : "");
		}
		pgt_bufprintf(buf, len, &off, "%s", (e & VTD_SL_A) ? " A" : "");
	}
	return (int)off;
}

/* ---- x86-64 first-level ---- */

int pgt_x86_fl_init(struct pgt *p)
{
	struct pgt_cfg *cfg = &p->cfg;
	int rc;

	if (cfg->quirks)
		return -EINVAL;
	/* Input addresses must be canonical; we use the lower half only, so a
	 * 4-level table translates 47 bits and a 5-level one 56 (as Linux
	 * intel first-stage domains do). */
	if (cfg->levels == 0)
		cfg->levels = cfg->ias > 47 ? 5 : 4;
	if (cfg->levels < 4 || cfg->levels > 5)
		return -EINVAL;
	if (cfg->ias == 0)
		cfg->ias = pgt_lvl_shift(cfg->levels) - 1;
	if (cfg->ias > pgt_lvl_shift(cfg->levels) - 1)
		return -EINVAL;
	rc = pgt_resolve_levels(p, 4, 5, 56);
	if (rc)
		return rc;
	rc = x86_resolve_oas(p, X86_ADDR, 48, 52);
	if (rc)
		return rc;
	rc = pgt_resolve_pgsizes(p, SZ_4K | SZ_2M | SZ_1G);
	if (rc)
		return rc;

	p->present = X86_P;
	p->type_mask = X86_PS;
	for (unsigned int lvl = 0; lvl < PGT_MAX_LEVELS; lvl++) {
		p->tbl_type[lvl] = 0;
		/* Permissions are the AND over all levels: open non-leaves. */
		p->tbl_bits[lvl] = X86_P | X86_RW | X86_US | X86_A;
		p->leaf_bits[lvl] = lvl ? X86_PS : 0;
	}
	for (unsigned int prot = 0; prot < PGT_NR_PROT; prot++) {
		uint64_t e;

		if (!(prot & (PGT_PROT_READ | PGT_PROT_WRITE))) {
			p->prot_bits[prot] = 0;
			continue;
		}
		/* A and D preset so the walker never writes the entry. */
		e = X86_P | X86_A | X86_D;
		if (prot & PGT_PROT_WRITE)
			e |= X86_RW;
		if (!(prot & PGT_PROT_PRIV))
			e |= X86_US;
		if (prot & PGT_PROT_NOEXEC)
			e |= X86_XD;
		if (prot & PGT_PROT_MMIO)
			e |= X86_PCD | X86_PWT; /* UC with the default PAT */
		p->prot_bits[prot] = e;
	}
	cfg->hw.x86.flpm = X86_FLPM_FROM_LEVELS(p->levels);
	return 0;
}

int pgt_x86_fl_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len)
{
	size_t off;
	uint64_t e = l->entry;

	if (pgt_describe_head(p, l, buf, len, &off)) {
		pgt_bufprintf(buf, len, &off, " P%s%s%s%s%s%s", (e & X86_RW) ? " RW" : " RO",
			      (e & X86_US) ? " US" : " S", (e & X86_PWT) ? " PWT" : "",
			      (e & X86_PCD) ? " PCD" : "", (e & X86_A) ? " A" : "",
			      (e & X86_XD) ? " XD" : "");
		if (l->leaf)
			pgt_bufprintf(buf, len, &off, "%s%s%s", (e & X86_D) ? " D" : "",
				      (e & X86_PS) && l->pgsize > SZ_4K ? " PS" : "",
				      (e & X86_G) ? " G" : "");
	}
	return (int)off;
}

/* ---- AMD-Vi v1 ---- */

int pgt_amd_v1_init(struct pgt *p)
{
	int rc;

	if (p->cfg.quirks)
		return -EINVAL;
	/* DTE Mode 1..6: 21, 30, 39, 48, 57, 64-bit input. */
	rc = pgt_resolve_levels(p, 1, 6, 64);
	if (rc)
		return rc;
	rc = x86_resolve_oas(p, AMD_ADDR, 48, 52);
	if (rc)
		return rc;
	/* Default-size leaves only (Next Level = 0): 2M at level 2, 1G at
	 * level 3.  Next Level = 7 (sized pages) is not generated. */
	rc = pgt_resolve_pgsizes(p, SZ_4K | SZ_2M | SZ_1G);
	if (rc)
		return rc;

	p->present = AMD_PR;
	p->type_mask = AMD_NL;
	for (unsigned int lvl = 0; lvl < PGT_MAX_LEVELS; lvl++) {
		/* An entry at AMD level lvl+1 pointing to level lvl. */
		p->tbl_type[lvl] = FIELD_PREP(AMD_NL, lvl);
		p->tbl_bits[lvl] = AMD_PR | AMD_IR | AMD_IW | FIELD_PREP(AMD_NL, lvl);
		p->leaf_bits[lvl] = 0;
	}
	for (unsigned int prot = 0; prot < PGT_NR_PROT; prot++) {
		uint64_t e = 0;

		if (prot & PGT_PROT_READ)
			e |= AMD_IR;
		if (prot & PGT_PROT_WRITE)
			e |= AMD_IW;
		if (e) {
			e |= AMD_PR;
			if (prot & PGT_PROT_CACHE)
				e |= AMD_FC;
		}
		p->prot_bits[prot] = e;
	}
	p->cfg.hw.amd.mode = p->levels;
	return 0;
}

int pgt_amd_v1_describe(const struct pgt *p, const struct pgt_walk_level *l, char *buf, size_t len)
{
	size_t off;
	uint64_t e = l->entry;

	if (pgt_describe_head(p, l, buf, len, &off)) {
		pgt_bufprintf(buf, len, &off, " PR NL=%llu%s%s%s",
			      (unsigned long long)FIELD_GET(AMD_NL, e), (e & AMD_IR) ? " IR" : "",
			      (e & AMD_IW) ? " IW" : "", (e & AMD_A) ? " A" : "");
		if (l->leaf)
			pgt_bufprintf(buf, len, &off, "%s%s%s", (e & AMD_D) ? " D" : "",
				      (e & AMD_U) ? " U" : "", (e & AMD_FC) ? " FC" : "");
	}
	return (int)off;
}
