/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Intel VT-d driver: take-over and give-back of a DRHD unit, capabilities,
 * page-table configuration and the family ops table.
 *
 * Bring-up order (VT-d 10.4.4 / Linux dmar.c practice): map registers ->
 * read VER/CAP/ECAP -> refuse if someone translates (GSTS.TES/QIES/IRES)
 * -> root table -> fault registers quiet -> invalidation queue -> page
 * request queue -> SRTP -> global context/PASID/IOTLB invalidation -> TE
 * with every device blocked (empty root table).  unit_fini undoes it and
 * writes back the register values found at take-over.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_internal.h"

/* ------------------------------------------------------------------ */
/* Small helpers shared by the driver files. */

/* Global command: GCMD = persistent status bits +/- @bit (11.4.4); wait
 * for the status to follow.  One-shot commands (SRTP, WBF) report
 * completion through RTPS set / WBFS clear. */
int vtd_gcmd(struct vtd_unit *vu, uint32_t bit, bool set, bool oneshot)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint32_t cmd = reg_read32(r, VTD_REG_GSTS) & (uint32_t)VTD_GSTS_PERSIST;
	uint32_t want;

	if (set)
		cmd |= bit;
	else
		cmd &= ~bit;
	reg_write32(r, VTD_REG_GCMD, cmd);
	if (oneshot)
		want = bit == VTD_GCMD_WBF ? 0 : bit;
	else
		want = set ? bit : 0;
	return reg_poll32(r, VTD_REG_GSTS, bit, want, vu->timeout_ns, "GSTS");
}

/* Write back what the CPU wrote to a table the unit walks, when its walks
 * do not snoop (the shared routine: core/cachemaint.h). */
void vtd_clflush(struct vtd_unit *vu, const void *va, size_t len)
{
	if (vu->coherent || len == 0)
		return;
	vu->stats.clflush_lines += cache_wb_range(va, len);
}

/* ------------------------------------------------------------------ */
/* Capabilities. */

/* Second-level AW for new tables: the smallest supported one (SAGAW) that
 * covers MGAW, else the largest supported; 0 when SAGAW is empty. */
static unsigned int best_aw(const struct vtd_unit *vu)
{
	unsigned int largest = 0;

	for (unsigned int aw = VTD_AW_39; aw <= VTD_AW_57; aw++) {
		if (!(vu->sagaw & (1u << aw)))
			continue;
		if (vtd_aw_bits(aw) >= vu->mgaw)
			return aw;
		largest = aw;
	}
	return largest;
}

/* The output width is the platform's HAW (DMAR), which CAP does not carry:
 * allow what the entry formats can hold. */
#define VTD_OAS 52u

static uint64_t sl_pgsizes(const struct vtd_unit *vu)
{
	uint64_t sllps = FIELD_GET(VTD_CAP_SLLPS, vu->cap);

	return (1ull << 12) | ((sllps & VTD_SLLPS_2M) ? 1ull << 21 : 0) |
	       ((sllps & VTD_SLLPS_1G) ? 1ull << 30 : 0);
}

static uint64_t fl_pgsizes(const struct vtd_unit *vu)
{
	return (1ull << 12) | (1ull << 21) | ((vu->cap & VTD_CAP_FL1GP) ? 1ull << 30 : 0);
}

static bool has_sl(const struct vtd_unit *vu)
{
	return !vu->sm || (vu->ecap & VTD_ECAP_SLTS);
}

static bool has_fl(const struct vtd_unit *vu)
{
	return vu->sm && (vu->ecap & VTD_ECAP_FLTS);
}

static void fill_caps(struct uiommu_unit *u, struct vtd_unit *vu)
{
	struct uiommu_unit_caps *c = &u->caps;
	unsigned int aw = best_aw(vu);

	memset(c, 0, sizeof(*c));
	c->family = UIOMMU_FAMILY_VTD;
	c->stage2 = has_sl(vu) && aw;
	c->stage1 = has_fl(vu);
	c->pgsize_bitmap = c->stage2 ? sl_pgsizes(vu) : fl_pgsizes(vu);
	c->s1_pgsize_bitmap = c->stage1 ? fl_pgsizes(vu) : 0;
	c->ias = c->stage2 ? vtd_aw_bits(aw) : 47;
	if (c->ias > vu->mgaw)
		c->ias = vu->mgaw;
	c->oas = VTD_OAS;
	c->pasid_bits = (vu->sm && (vu->ecap & VTD_ECAP_PASID)) ? vtd_ecap_pasid_bits(vu->ecap) : 0;
	c->num_domains = 1u << vtd_cap_domain_bits(vu->cap);
	c->nesting = vu->sm && (vu->ecap & VTD_ECAP_NEST) && c->stage1 && c->stage2;
	c->coherent = vu->coherent;
	c->queued_inv = vu->qi;
	c->page_requests = vu->prq;
	c->pass_through = vu->ecap & VTD_ECAP_PT;
	c->ats = vu->qi && (vu->ecap & VTD_ECAP_DT);

	u->hw_info.family = UIOMMU_FAMILY_VTD;
	u->hw_info.u.vtd.ver = vu->ver;
	u->hw_info.u.vtd.cap = vu->cap;
	u->hw_info.u.vtd.ecap = vu->ecap;
	u->hw_info.u.vtd.scalable = vu->sm;
	/* DID 0 stays reserved: caching-mode hardware tags not-present
	 * entries with it (VT-d 6.2.2), and keeping it unused is harmless. */
	u->did_min = 1;
	/* Caching mode: not-present entries may be cached, so a map needs
	 * an IOTLB flush too (VT-d 6.1). */
	u->flush_on_map = vu->cap & VTD_CAP_CM;
}

/* Driver options: desc->family_opts (struct uiommu_vtd_unit_opts, checked
 * by vtd_desc_check).  A model can also be configured without scalable
 * mode or the queue (its settings: smts=0, qi=0). */
static void driver_opts(const struct uiommu_unit_desc *desc, bool *legacy, bool *noqi)
{
	const struct uiommu_vtd_unit_opts *o = desc->family_opts;
	uint32_t f = o ? o->flags : 0;

	*legacy = f & UIOMMU_VTD_OPT_LEGACY;
	*noqi = f & UIOMMU_VTD_OPT_NO_QI;
}

static int vtd_desc_check(const struct uiommu_unit_desc *desc)
{
	const struct uiommu_vtd_unit_opts *o = desc->family_opts;

	return (o->flags & ~(UIOMMU_VTD_OPT_LEGACY | UIOMMU_VTD_OPT_NO_QI)) ? -EOPNOTSUPP : 0;
}

/* ------------------------------------------------------------------ */
/* unit_init / unit_fini */

int vtd_takeover_check(struct vtd_unit *vu, bool force)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	uint32_t gsts = reg_read32(r, VTD_REG_GSTS);
	uint32_t busy = gsts & (uint32_t)(VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES);

	if (!busy)
		return 0;
	if (!force) {
		VTD_LOG(ERR,
			"unit at 0x%llx is in use (GSTS 0x%08x:%s%s%s): is the kernel's IOMMU driver on? "
			"boot with intel_iommu=off intremap=off, or set force",
			(unsigned long long)vu->u->reg_base, gsts,
			(gsts & VTD_GSTS_TES) ? " translation" : "",
			(gsts & VTD_GSTS_QIES) ? " queued-invalidation" : "",
			(gsts & VTD_GSTS_IRES) ? " interrupt-remapping" : "");
		return -EBUSY;
	}
	VTD_LOG(WARNING, "unit at 0x%llx: taking over from its previous owner (GSTS 0x%08x)",
		(unsigned long long)vu->u->reg_base, gsts);
	if (gsts & VTD_GSTS_TES)
		(void)vtd_gcmd(vu, VTD_GCMD_TE, false, false);
	if (gsts & VTD_GSTS_IRES)
		VTD_LOG(WARNING, "interrupt remapping stays on; its queue user is gone");
	if (gsts & VTD_GSTS_QIES)
		(void)vtd_gcmd(vu, VTD_GCMD_QIE, false, false);
	return 0;
}

static void save_regs(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);

	vu->saved.gsts = reg_read32(r, VTD_REG_GSTS);
	vu->saved.fectl = reg_read32(r, VTD_REG_FECTL);
	vu->saved.rtaddr = reg_read64(r, VTD_REG_RTADDR);
	if (vu->ecap & VTD_ECAP_QI)
		vu->saved.iqa = reg_read64(r, VTD_REG_IQA);
	if (vu->ecap & VTD_ECAP_PRS) {
		vu->saved.pqa = reg_read64(r, VTD_REG_PQA);
		vu->saved.pectl = reg_read32(r, VTD_REG_PECTL);
	}
}

static void restore_regs(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);

	reg_write64(r, VTD_REG_RTADDR, vu->saved.rtaddr);
	if (vu->ecap & VTD_ECAP_QI) {
		reg_write64(r, VTD_REG_IQT, 0);
		reg_write64(r, VTD_REG_IQA, vu->saved.iqa);
	}
	if (vu->ecap & VTD_ECAP_PRS) {
		reg_write64(r, VTD_REG_PQA, vu->saved.pqa);
		reg_write32(r, VTD_REG_PECTL, vu->saved.pectl);
	}
	reg_write32(r, VTD_REG_FECTL, vu->saved.fectl);
}

static int set_root(struct vtd_unit *vu)
{
	const struct uiommu_regio *r = vtd_rio(vu);
	struct vtd_inv b;
	int rc;

	reg_write64(r, VTD_REG_RTADDR,
		    (vu->root_pa & VTD_RTADDR_RTA) |
			    FIELD_PREP(VTD_RTADDR_TTM, vu->sm ? VTD_TTM_SCALABLE : VTD_TTM_LEGACY));
	rc = vtd_gcmd(vu, VTD_GCMD_SRTP, true, true);
	if (rc)
		return rc;
	/* Whatever the previous owner left cached goes (VT-d 6.5.3.x). */
	vtd_inv_init(&b, vu);
	vtd_inv_cc_global(&b);
	if (vu->sm)
		vtd_inv_pc_global(&b);
	vtd_inv_iotlb_global(&b);
	return vtd_inv_sync(&b);
}

static void free_devices(struct vtd_unit *vu)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &vu->devs) {
		struct vtd_dev *vd = list_entry(pos, struct vtd_dev, link);

		vtd_dev_release(vu->u, vd->dev);
	}
}

static int vtd_unit_init(struct uiommu_unit *u, const struct uiommu_unit_desc *desc)
{
	struct vtd_unit *vu;
	bool legacy, noqi;
	int rc;

	vu = uenv_zalloc(sizeof(*vu));
	if (!vu)
		return -ENOMEM;
	vu->u = u;
	u->priv = vu;
	list_init(&vu->devs);
	list_init(&vu->tags);
	vu->timeout_ns = VTD_WAIT_TIMEOUT_NS;
	vu->psi_max_chunks = VTD_PSI_MAX_CHUNKS;
	vu->force = desc->force;

	/* The core maps the window (MMIO or the built-in model). */
	rc = unit_regs_map(u, VTD_REG_SIZE);
	if (rc)
		goto err_free;

	vu->ver = reg_read32(unit_regs(u), VTD_REG_VER);
	vu->cap = reg_read64(unit_regs(u), VTD_REG_CAP);
	vu->ecap = reg_read64(unit_regs(u), VTD_REG_ECAP);
	if (vu->ver == UINT32_MAX || vu->cap == 0 || vu->cap == UINT64_MAX) {
		VTD_LOG(ERR, "no VT-d unit at 0x%llx (VER 0x%x CAP 0x%llx)",
			(unsigned long long)u->reg_base, vu->ver, (unsigned long long)vu->cap);
		rc = -ENODEV;
		goto err_free;
	}
	vu->fro = vtd_cap_fro_off(vu->cap);
	vu->nfr = vtd_cap_nfr(vu->cap);
	vu->iro = vtd_ecap_iro_off(vu->ecap);
	vu->mgaw = vtd_cap_mgaw(vu->cap);
	vu->sagaw = (uint32_t)FIELD_GET(VTD_CAP_SAGAW, vu->cap);
	/* Fault recording and IOTLB registers may lie beyond the first page. */
	rc = unit_regs_map(u, vtd_reg_window(vu));
	if (rc)
		goto err_free;

	rc = vtd_takeover_check(vu, desc->force);
	if (rc)
		goto err_free;
	save_regs(vu);

	driver_opts(desc, &legacy, &noqi);
	vu->qi = (vu->ecap & VTD_ECAP_QI) && !noqi;
	/* Scalable mode needs QI (PASID-cache and PASID-based invalidation). */
	vu->sm = (vu->ecap & VTD_ECAP_SMTS) && vu->qi && !legacy;
	vu->coherent = vu->sm ? !!(vu->ecap & VTD_ECAP_SMPWC) : !!(vu->ecap & VTD_ECAP_C);
	vu->prq = vu->sm && (vu->ecap & VTD_ECAP_PRS);

	rc = vtd_ctx_init(vu);
	if (rc)
		goto err_free;
	rc = vtd_fault_init(vu);
	if (rc)
		goto err_ctx;
	if (vu->qi) {
		rc = vtd_qi_init(vu);
		if (rc)
			goto err_fault;
		rc = vtd_qi_enable(vu);
		if (rc)
			goto err_qi;
	}
	if (vu->prq) {
		rc = vtd_prq_init(vu);
		if (rc)
			goto err_qi_off;
	}
	rc = set_root(vu);
	if (rc)
		goto err_prq;
	/* Deferred: the caller attaches (or passes through) its devices first
	 * and turns TE on with vtd_unit_enable. */
	vu->te_deferred = (desc->flags & UIOMMU_UNIT_F_DEFER_ENABLE) != 0;
	rc = vu->te_deferred ? 0 : vtd_gcmd(vu, VTD_GCMD_TE, true, false);
	if (rc)
		goto err_prq;
	fill_caps(u, vu);
	VTD_LOG(INFO, "unit %u at 0x%llx: VER %x CAP %016llx ECAP %016llx, %s mode, %s invalidation",
		u->obj.id, (unsigned long long)u->reg_base, vu->ver, (unsigned long long)vu->cap,
		(unsigned long long)vu->ecap, vu->sm ? "scalable" : "legacy",
		vu->qi ? "queued" : "register");
	return 0;

err_prq:
	if (vu->prq)
		vtd_prq_fini(vu);
err_qi_off:
	if (vu->qi)
		vtd_qi_disable(vu);
err_qi:
	if (vu->qi)
		vtd_qi_fini(vu);
err_fault:
	vtd_fault_fini(vu);
err_ctx:
	restore_regs(vu);
	vtd_ctx_fini(vu);
err_free:
	u->priv = NULL;
	uenv_free(vu);
	return rc;
}

static void vtd_unit_fini(struct uiommu_unit *u)
{
	struct vtd_unit *vu = vtd_of(u);

	if (!vu)
		return;
	(void)vtd_gcmd(vu, VTD_GCMD_TE, false, false);
	free_devices(vu);
	if (vu->prq)
		vtd_prq_fini(vu);
	if (vu->qi) {
		vtd_qi_disable(vu);
		vtd_qi_fini(vu);
	}
	vtd_fault_fini(vu);
	restore_regs(vu);
	vtd_ctx_fini(vu);
	u->priv = NULL;
	uenv_free(vu);
}

/* UIOMMU_UNIT_F_DEFER_ENABLE: translation on, now that the context
 * entries the caller wanted are written (GCMD.TE, VT-d 11.4.4). */
static int vtd_unit_enable(struct uiommu_unit *u)
{
	struct vtd_unit *vu = vtd_of(u);
	int rc;

	if (!vu)
		return -EINVAL;
	if (reg_read32(vtd_rio(vu), VTD_REG_GSTS) & VTD_GSTS_TES) {
		vu->te_deferred = false;
		return 0;
	}
	rc = vtd_gcmd(vu, VTD_GCMD_TE, true, false);
	if (!rc)
		vu->te_deferred = false;
	else
		VTD_LOG(ERR, "unit %u: translation did not come on (GSTS.TES)", u->obj.id);
	return rc;
}

/* A new process takes over shared state (the core mapped the register
 * window): the registers must still point at our tables and queues;
 * nothing is rewritten. */
static int vtd_unit_adopt(struct uiommu_unit *u)
{
	struct vtd_unit *vu = vtd_of(u);
	const struct uiommu_regio *r = vtd_rio(vu);
	uint64_t rta = reg_read64(r, VTD_REG_RTADDR);

	if ((rta & VTD_RTADDR_RTA) != vu->root_pa ||
	    (!vu->te_deferred && !(reg_read32(r, VTD_REG_GSTS) & VTD_GSTS_TES)) ||
	    (vu->qi && (reg_read64(r, VTD_REG_IQA) & VTD_IQA_IQA) != vu->iq.iova)) {
		VTD_LOG(ERR, "unit %u: hardware no longer uses our tables (RTADDR 0x%llx)",
			u->obj.id, (unsigned long long)rta);
		return -ESTALE;
	}
	return 0;
}

/* The unit's tables were put back to an earlier image: restart the
 * invalidation queue (the image's tail is not where the hardware is),
 * point the unit at the root table again if it no longer is (a rolled-back
 * give-back), and invalidate every cache (VT-d 6.5.2: context-cache,
 * PASID-cache and IOTLB, global).  set_root does the last two. */
static int vtd_unit_recover(struct uiommu_unit *u)
{
	struct vtd_unit *vu = vtd_of(u);
	const struct uiommu_regio *r = vtd_rio(vu);
	int rc;

	if (vu->qi) {
		vtd_qi_disable(vu);
		rc = vtd_qi_enable(vu);
		if (rc)
			return rc;
	}
	rc = set_root(vu);
	if (rc)
		return rc;
	if (!vu->te_deferred && !(reg_read32(r, VTD_REG_GSTS) & VTD_GSTS_TES)) {
		VTD_LOG(WARNING, "unit %u: translation was off after the rollback: enabling it",
			u->obj.id);
		rc = vtd_gcmd(vu, VTD_GCMD_TE, true, false);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Page-table configuration. */

static int vtd_pgt_config(struct uiommu_unit *u, bool stage1, bool nest_parent,
			  struct pgt_cfg *cfg)
{
	struct vtd_unit *vu = vtd_of(u);

	memset(cfg, 0, sizeof(*cfg));
	cfg->node = u->numa_node;
	cfg->coherent = vu->coherent;
	if (stage1) {
		if (!has_fl(vu) || nest_parent)
			return -EOPNOTSUPP;
		/* 4-level, lower canonical half: 47 input bits (IOVAs with bit
		 * 47 set would have to be sign-extended). */
		cfg->fmt = PGT_X86_FL;
		cfg->levels = 4;
		cfg->ias = 47;
		cfg->oas = VTD_OAS;
		cfg->pgsize_bitmap = fl_pgsizes(vu);
		return 0;
	}
	unsigned int aw = best_aw(vu);

	if (!has_sl(vu) || !aw)
		return -EOPNOTSUPP;
	if (nest_parent && !u->caps.nesting)
		return -EOPNOTSUPP;
	cfg->fmt = PGT_VTD_SL;
	cfg->levels = vtd_aw_levels(aw);
	cfg->ias = vtd_aw_bits(aw) < vu->mgaw ? vtd_aw_bits(aw) : vu->mgaw;
	cfg->oas = VTD_OAS;
	cfg->pgsize_bitmap = sl_pgsizes(vu);
	if (vu->ecap & VTD_ECAP_SC)
		cfg->quirks |= PGT_QUIRK_VTD_SNOOP;
	return 0;
}

static bool vtd_pgt_compatible(struct uiommu_unit *u, const struct pgt_cfg *cfg)
{
	struct vtd_unit *vu = vtd_of(u);

	/* A table written without cache write-back cannot be walked by a
	 * unit that does not snoop. */
	if (cfg->coherent && !vu->coherent)
		return false;
	switch (cfg->fmt) {
	case PGT_VTD_SL: {
		unsigned int aw = cfg->hw.vtd.aw ? cfg->hw.vtd.aw : cfg->levels - 2;

		if (!has_sl(vu) || aw < VTD_AW_39 || aw > VTD_AW_57 || !(vu->sagaw & (1u << aw)))
			return false;
		if (cfg->ias > vu->mgaw)
			return false;
		if (cfg->pgsize_bitmap & ~sl_pgsizes(vu))
			return false;
		if ((cfg->quirks & PGT_QUIRK_VTD_SNOOP) && !(vu->ecap & VTD_ECAP_SC))
			return false;
		return true;
	}
	case PGT_X86_FL:
		if (!has_fl(vu))
			return false;
		if (cfg->hw.x86.flpm == VTD_FLPM_5LVL && !(vu->cap & VTD_CAP_FL5LP))
			return false;
		return !(cfg->pgsize_bitmap & ~fl_pgsizes(vu));
	default:
		return false;
	}
}

/* The kernel's VT-d driver claims a DRHD's registers as "dmar<N>". */
static const char *const vtd_claims[] = {"dmar", NULL};

const struct uiommu_family_ops vtd_family_ops = {
	.name = "vtd",
	.family = UIOMMU_FAMILY_VTD,
	.regs = {
		.what = "VT-d",
		.size = VTD_REG_SIZE,
		.claims = vtd_claims,
		.kernel_off = "boot with intel_iommu=off",
	},
	.desc_check = vtd_desc_check,
	.unit_init = vtd_unit_init,
	.unit_fini = vtd_unit_fini,
	.unit_adopt = vtd_unit_adopt,
	.unit_enable = vtd_unit_enable,
	.unit_recover = vtd_unit_recover,
	.pgt_config = vtd_pgt_config,
	.pgt_compatible = vtd_pgt_compatible,
	.dev_set = vtd_dev_set,
	.s1_check = vtd_s1_check,
	.dev_probe = vtd_dev_probe,
	.dev_release = vtd_dev_release,
	.flush = vtd_flush,
	.cache_invalidate = vtd_cache_invalidate,
	.poll = vtd_poll,
	.page_response = vtd_page_response,
	.unit_resv = fam_resv_x86_msi,
	.peek = vtd_peek,
	.decode_regs = vtd_decode_regs,
};
