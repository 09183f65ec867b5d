/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d model: translation.  Root and context tables (legacy, spec 9.1/9.3;
 * scalable, 9.2/9.4), PASID directory and table (9.5/9.6), second-level
 * tables (9.8, 3/4/5 levels), first-level x86-64 tables (9.7, 4/5
 * levels), nested first-over-second (3.8: every first-level table
 * address and the output are guest-physical and go through the second
 * level), pass-through.
 *
 * Three caches really cache: the context cache (present context entries,
 * by RID), the PASID cache (PASID entries, by RID+PASID, tagged with the
 * entry's DID) and the IOTLB (final translations tagged with DID, PASID
 * and the kind of table that produced them).  Only successful walks are
 * cached (CAP.CM = 0).  All have a fixed capacity and evict the least
 * recently used entry.  A cached translation whose permissions do not
 * allow a request is dropped and the tables are walked again (so a
 * permission upgrade needs no invalidation, as on x86 CPUs); everything
 * else stays stale until invalidated.
 */
#include <errno.h>
#include <string.h>

#include "model/vtd/vtd_model_internal.h"
#include "pgtable/pgt_hw.h"

/* ------------------------------------------------------------ caches */

static uint64_t next_tick(struct vtd_model *m)
{
	return ++m->tick;
}

static struct vtdm_ctx_ent *ctxc_find(struct vtd_model *m, uint16_t rid, bool sm)
{
	for (uint32_t i = 0; i < m->cfg.ctx_cache_size; i++) {
		struct vtdm_ctx_ent *e = &m->ctxc[i];
		if (e->lru && e->rid == rid && e->sm == sm) {
			e->lru = next_tick(m);
			m->st.ctx_hit++;
			return e;
		}
	}
	m->st.ctx_miss++;
	return NULL;
}

static void ctxc_insert(struct vtd_model *m, uint16_t rid, bool sm, uint16_t did,
			const uint64_t *ce)
{
	struct vtdm_ctx_ent *v = &m->ctxc[0];

	for (uint32_t i = 0; i < m->cfg.ctx_cache_size; i++) {
		struct vtdm_ctx_ent *e = &m->ctxc[i];
		if (!e->lru || e->lru < v->lru)
			v = e;
		if (!e->lru)
			break;
	}
	memset(v, 0, sizeof(*v));
	memcpy(v->ce, ce, (sm ? 4 : 2) * sizeof(uint64_t));
	v->rid = rid;
	v->did = did;
	v->sm = sm;
	v->lru = next_tick(m);
}

static struct vtdm_pc_ent *pc_find(struct vtd_model *m, uint16_t rid, uint32_t pasid)
{
	for (uint32_t i = 0; i < m->cfg.pasid_cache_size; i++) {
		struct vtdm_pc_ent *e = &m->pc[i];
		if (e->lru && e->rid == rid && e->pasid == pasid) {
			e->lru = next_tick(m);
			m->st.pc_hit++;
			return e;
		}
	}
	m->st.pc_miss++;
	return NULL;
}

static void pc_insert(struct vtd_model *m, uint16_t rid, uint32_t pasid, const uint64_t *pe,
		      bool fpd)
{
	struct vtdm_pc_ent *v = &m->pc[0];

	for (uint32_t i = 0; i < m->cfg.pasid_cache_size; i++) {
		struct vtdm_pc_ent *e = &m->pc[i];
		if (!e->lru || e->lru < v->lru)
			v = e;
		if (!e->lru)
			break;
	}
	memset(v, 0, sizeof(*v));
	memcpy(v->pe, pe, sizeof(v->pe));
	v->rid = rid;
	v->pasid = pasid;
	v->did = (uint16_t)FIELD_GET(VTD_PE_Q1_DID, pe[1]);
	v->fpd = fpd;
	v->lru = next_tick(m);
}

static struct vtdm_iotlb_ent *iotlb_find(struct vtd_model *m, uint16_t did, uint32_t pasid,
					 uint64_t iova)
{
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct vtdm_iotlb_ent *e = &m->iotlb[i];
		if (e->lru && e->did == did && e->pasid == pasid &&
		    (iova >> e->shift) == (e->va >> e->shift))
			return e;
	}
	return NULL;
}

static void iotlb_insert(struct vtd_model *m, uint16_t did, uint32_t pasid, uint64_t iova,
			 uint64_t pa, unsigned int shift, enum vtdm_kind kind, uint8_t perm)
{
	struct vtdm_iotlb_ent *v = &m->iotlb[0];

	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct vtdm_iotlb_ent *e = &m->iotlb[i];
		if (!e->lru || e->lru < v->lru)
			v = e;
		if (!e->lru)
			break;
	}
	if (v->lru)
		m->st.iotlb_evict++;
	v->va = ALIGN_DOWN_ULL(iova, 1ULL << shift);
	v->pa = ALIGN_DOWN_ULL(pa, 1ULL << shift);
	v->did = did;
	v->pasid = pasid;
	v->shift = (uint8_t)shift;
	v->kind = (uint8_t)kind;
	v->perm = perm;
	v->lru = next_tick(m);
}

static uint8_t perm_need(bool write, bool priv)
{
	if (priv)
		return write ? VTDM_P_WS : VTDM_P_RS;
	return write ? VTDM_P_WU : VTDM_P_RU;
}

/* A cached translation serves the request: permission, and for a write
 * the dirty flag already set (else the walk must set it). */
static bool perm_ok(uint8_t perm, bool write, bool priv)
{
	return (perm & perm_need(write, priv)) && (!write || (perm & VTDM_P_D));
}

static uint8_t sl_perm(bool r, bool w)
{
	return (uint8_t)((r ? VTDM_P_RU | VTDM_P_RS : 0) | (w ? VTDM_P_WU | VTDM_P_WS : 0));
}

/* ------------------------------------------------------------ second level */

/* Fault codes differ between legacy and scalable mode. */
struct sl_codes {
	uint8_t access, root_access, rsvd, read, write;
};
static const struct sl_codes sl_legacy = {
	VTD_FR_PTE_ACCESS, VTD_FR_PTE_ACCESS, VTD_FR_PTE_RSVD, VTD_FR_READ, VTD_FR_WRITE,
};
static const struct sl_codes sl_sm = {
	VTD_FR_SM_SL_ACCESS, VTD_FR_SM_SLPTR_INV, VTD_FR_SM_SL_RSVD, VTD_FR_SM_SL_PERM,
	VTD_FR_SM_SL_PERM,
};

struct sl_walk {
	uint64_t root;
	unsigned int levels;
	bool ad;            /* set A/D (PASID entry SLADE) */
	const struct sl_codes *fc;
};

struct walk_out {
	uint64_t pa;
	unsigned int shift;
	bool r, w;          /* accumulated permissions */
};

static bool sl_rsvd(const struct vtd_model *m, uint64_t pte, unsigned int level, bool leaf)
{
	uint8_t sllps = m->cfg.sllps;

	if (leaf) {
		if ((pte & VTD_SL_SNP) && !m->cfg.sc)
			return true;
		if (level == 2 && (!(sllps & VTD_SLLPS_2M) || (pte & GENMASK_ULL(20, 12))))
			return true;
		if (level == 3 && (!(sllps & VTD_SLLPS_1G) || (pte & GENMASK_ULL(29, 12))))
			return true;
		return false;
	}
	return (pte & VTD_SL_SNP) != 0;
}

/*
 * Walk a second-level table for @in.  0: leaf found (out->r/w are the
 * permissions along the way); -ENOENT: an entry grants neither read nor
 * write (not present); -EFAULT: *reason set (access, reserved bits).
 */
static int sl_walk(struct vtd_model *m, const struct sl_walk *w, uint64_t in, bool write,
		   struct walk_out *out, unsigned int *reason)
{
	uint64_t table = w->root;
	bool r = true, wr = true;

	for (unsigned int level = w->levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((in >> shift) & 511) * 8, pte;
		uint64_t *p = vtdm_mem(pa, 8);

		if (!p) {
			*reason = level == w->levels ? w->fc->root_access : w->fc->access;
			return -EFAULT;
		}
		pte = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		if (!(pte & (VTD_SL_R | VTD_SL_W)))
			return -ENOENT;
		bool leaf = level == 1 || ((pte & VTD_SL_PS) && level <= 3);
		if ((level >= 4 && (pte & VTD_SL_PS)) || sl_rsvd(m, pte, level, leaf)) {
			*reason = w->fc->rsvd;
			return -EFAULT;
		}
		r = r && (pte & VTD_SL_R);
		wr = wr && (pte & VTD_SL_W);
		if (w->ad) {
			uint64_t set = VTD_SL_A | (leaf && write && wr ? VTD_SL_D : 0);
			if ((pte & set) != set)
				__atomic_fetch_or(p, set, __ATOMIC_RELEASE);
		}
		if (leaf) {
			out->shift = shift;
			out->pa = (pte & VTD_SL_ADDR & ~((1ULL << shift) - 1)) |
				  (in & ((1ULL << shift) - 1));
			out->r = r;
			out->w = wr;
			return 0;
		}
		table = pte & VTD_SL_ADDR;
	}
	return -ENOENT; /* not reached */
}

/* Second-level translation of @in with permission check; @nperm_reason
 * is the code for a missing permission.  0 or -EFAULT with *reason. */
static int sl_translate(struct vtd_model *m, const struct sl_walk *w, uint64_t in, bool write,
			unsigned int nperm_read, unsigned int nperm_write, struct walk_out *out,
			unsigned int *reason)
{
	int rc = sl_walk(m, w, in, write, out, reason);

	if (rc == -EFAULT)
		return rc;
	if (rc == -ENOENT || (write ? !out->w : !out->r)) {
		*reason = write ? nperm_write : nperm_read;
		return -EFAULT;
	}
	return 0;
}

/* ------------------------------------------------------------ first level */

struct fl_walk {
	uint64_t root;          /* FLPTPTR (guest-physical when nested) */
	unsigned int levels;    /* 4 or 5 */
	bool wpe;
	const struct sl_walk *nest; /* second level under a nested walk */
	unsigned int nest_bits; /* width of the second level */
};

/* Output address of a first-level table at guest-physical @gpa. */
static int fl_table(struct vtd_model *m, const struct fl_walk *f, uint64_t gpa, bool root,
		    bool need_write, uint64_t *hpa, unsigned int *reason)
{
	struct walk_out o;
	int rc;

	if (!f->nest) {
		*hpa = gpa;
		return 0;
	}
	if (gpa >> f->nest_bits) {
		*reason = VTD_FR_SM_NEST_FL_BEYOND;
		return -EFAULT;
	}
	rc = sl_translate(m, f->nest, gpa, need_write,
			  root ? VTD_FR_SM_NEST_FLROOT_R : VTD_FR_SM_NEST_FL_R,
			  VTD_FR_SM_NEST_FL_W, &o, reason);
	if (rc)
		return rc;
	*hpa = o.pa;
	return 0;
}

/*
 * First-level walk (x86-64 paging).  The request's privilege class and
 * write intent decide the faults; out->r/w are not used: *perm receives
 * the VTDM_P_* set the leaf allows.
 */
static int fl_walk(struct vtd_model *m, const struct fl_walk *f, uint64_t in, bool write,
		   bool priv, struct walk_out *out, uint8_t *perm, unsigned int *reason)
{
	unsigned int bits = f->levels == 5 ? 57 : 48;
	uint64_t table = f->root, *ents[5];
	uint64_t vals[5];
	bool us = true, rw = true;
	unsigned int n = 0;
	int64_t sx = (int64_t)(in << (64 - bits)) >> (64 - bits);

	if ((uint64_t)sx != in) {
		*reason = VTD_FR_SM_NONCANON;
		return -EFAULT;
	}
	for (unsigned int level = f->levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		bool root = level == f->levels;
		uint64_t hpa, pte, *p;

		if (fl_table(m, f, table, root, false, &hpa, reason))
			return -EFAULT;
		p = vtdm_mem(hpa + ((in >> shift) & 511) * 8, 8);
		if (!p) {
			*reason = root ? VTD_FR_SM_FLPTR_INV : VTD_FR_SM_FL_ACCESS;
			return -EFAULT;
		}
		pte = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		if (!(pte & X86_P)) {
			*reason = VTD_FR_SM_FL_P;
			return -EFAULT;
		}
		bool leaf = level == 1 || ((pte & X86_PS) && level <= 3);
		if ((level >= 4 && (pte & X86_PS)) ||
		    (leaf && level == 3 && !(vtdm_cap(m) & VTD_CAP_FL1GP)) ||
		    (leaf && level > 1 && (pte & GENMASK_ULL(shift - 1, 13)))) {
			*reason = VTD_FR_SM_FL_RSVD;
			return -EFAULT;
		}
		us = us && (pte & X86_US);
		rw = rw && (pte & X86_RW);
		ents[n] = p;
		vals[n++] = pte;
		if (leaf) {
			out->shift = shift;
			out->pa = (pte & X86_ADDR & ~((1ULL << shift) - 1)) |
				  (in & ((1ULL << shift) - 1));
			break;
		}
		table = pte & X86_ADDR;
	}
	if (!priv && !us) {
		*reason = VTD_FR_SM_FL_US;
		return -EFAULT;
	}
	*perm = (uint8_t)((us ? VTDM_P_RU : 0) | (us && rw ? VTDM_P_WU : 0) | VTDM_P_RS |
			  (rw || !f->wpe ? VTDM_P_WS : 0));
	if (write && !(*perm & perm_need(true, priv))) {
		*reason = VTD_FR_SM_WRITE;
		return -EFAULT;
	}
	/* Accessed on every entry used, dirty on the leaf of a write.  When
	 * nested, an update needs write permission at the second level. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t set = X86_A | (i == n - 1 && write ? X86_D : 0);
		if ((vals[i] & set) == set)
			continue;
		if (f->nest) {
			uint64_t hpa;
			uint64_t gpa = i == 0 ? f->root : vals[i - 1] & X86_ADDR;
			if (fl_table(m, f, gpa, i == 0, true, &hpa, reason)) {
				*reason = VTD_FR_SM_NEST_FL_W;
				return -EFAULT;
			}
		}
		__atomic_fetch_or(ents[i], set, __ATOMIC_RELEASE);
	}
	return 0;
}

/* ------------------------------------------------------------ legacy mode */

static int legacy_context(struct vtd_model *m, uint16_t rid, uint64_t ce[2], struct vtdm_xlate *x)
{
	struct vtdm_ctx_ent *e = ctxc_find(m, rid, false);
	uint64_t re[2];
	unsigned int tt, aw;

	if (e) {
		ce[0] = e->ce[0];
		ce[1] = e->ce[1];
		x->fpd = (ce[0] & VTD_CE_Q0_FPD) != 0;
		return 0;
	}
	if (!vtdm_read_words(m->rta + (rid >> 8) * 16u, re, 2))
		goto fault_root_access;
	if (!(re[0] & VTD_RE_Q0_P)) {
		x->reason = VTD_FR_ROOT_P;
		return -EFAULT;
	}
	if ((re[0] & GENMASK_ULL(11, 1)) || re[1]) {
		x->reason = VTD_FR_ROOT_RSVD;
		return -EFAULT;
	}
	if (!vtdm_read_words((re[0] & VTD_RE_Q0_CTP) + (rid & 0xffu) * 16u, ce, 2)) {
		x->reason = VTD_FR_CTX_ACCESS;
		return -EFAULT;
	}
	if (!(ce[0] & VTD_CE_Q0_P)) {
		x->reason = VTD_FR_CTX_P;
		return -EFAULT;
	}
	x->fpd = (ce[0] & VTD_CE_Q0_FPD) != 0;
	if ((ce[0] & GENMASK_ULL(11, 4)) || (ce[1] & (BIT_ULL(7) | GENMASK_ULL(63, 24))) ||
	    (FIELD_GET(VTD_CE_Q1_DID, ce[1]) >> vtdm_did_bits(m))) {
		x->reason = VTD_FR_CTX_RSVD;
		return -EFAULT;
	}
	tt = (unsigned int)FIELD_GET(VTD_CE_Q0_TT, ce[0]);
	aw = (unsigned int)FIELD_GET(VTD_CE_Q1_AW, ce[1]);
	if (tt > VTD_CE_TT_PT || (tt == VTD_CE_TT_PT && !(vtdm_ecap(m) & VTD_ECAP_PT)) ||
	    (tt == VTD_CE_TT_SL_DT && !(vtdm_ecap(m) & VTD_ECAP_DT)) ||
	    (tt != VTD_CE_TT_PT && !(m->cfg.sagaw & (1u << aw)))) {
		x->reason = VTD_FR_CTX_INV;
		return -EFAULT;
	}
	ctxc_insert(m, rid, false, (uint16_t)FIELD_GET(VTD_CE_Q1_DID, ce[1]), ce);
	return 0;

fault_root_access:
	x->reason = VTD_FR_ROOT_ACCESS;
	return -EFAULT;
}

static int legacy_translate(struct vtd_model *m, const struct vtdm_req *rq, struct vtdm_xlate *x)
{
	uint64_t ce[2];
	struct walk_out o;
	struct sl_walk w;
	struct vtdm_iotlb_ent *e;
	unsigned int aw;
	uint16_t did;

	if (rq->pasid != VTDM_NO_PASID) {
		x->reason = VTD_FR_SM_TTM_PASID;
		return -EFAULT;
	}
	if (legacy_context(m, rq->rid, ce, x))
		return -EFAULT;
	if (FIELD_GET(VTD_CE_Q0_TT, ce[0]) == VTD_CE_TT_PT) {
		x->pa = rq->iova;
		return 0;
	}
	aw = (unsigned int)FIELD_GET(VTD_CE_Q1_AW, ce[1]);
	did = (uint16_t)FIELD_GET(VTD_CE_Q1_DID, ce[1]);
	if ((rq->iova >> vtd_aw_bits(aw)) || (rq->iova >> m->cfg.mgaw)) {
		x->reason = VTD_FR_ADDR_BEYOND;
		return -EFAULT;
	}
	e = iotlb_find(m, did, VTDM_NO_PASID, rq->iova);
	if (e && perm_ok(e->perm, rq->write, false)) {
		m->st.iotlb_hit++;
		e->lru = next_tick(m);
		x->pa = e->pa | (rq->iova & ((1ULL << e->shift) - 1));
		return 0;
	}
	if (e)
		e->lru = 0; /* cached without the permission: walk again */
	m->st.iotlb_miss++;
	w.root = ce[0] & VTD_CE_Q0_SLPTPTR;
	w.levels = vtd_aw_levels(aw);
	w.ad = false;
	w.fc = &sl_legacy;
	if (sl_translate(m, &w, rq->iova, rq->write, VTD_FR_READ, VTD_FR_WRITE, &o, &x->reason))
		return -EFAULT;
	iotlb_insert(m, did, VTDM_NO_PASID, rq->iova, o.pa, o.shift, VTDM_K_SL,
		     sl_perm(o.r, o.w) | VTDM_P_D);
	x->pa = o.pa;
	return 0;
}

/* ------------------------------------------------------------ scalable mode */

static int sm_context(struct vtd_model *m, uint16_t rid, uint64_t ce[4], struct vtdm_xlate *x)
{
	struct vtdm_ctx_ent *e = ctxc_find(m, rid, true);
	uint8_t devfn = rid & 0xff;
	uint64_t re[2], ctp;

	if (e) {
		memcpy(ce, e->ce, 4 * sizeof(uint64_t));
		x->fpd = (ce[0] & VTD_SMCE_Q0_FPD) != 0;
		return 0;
	}
	if (!vtdm_read_words(m->rta + (rid >> 8) * 16u, re, 2)) {
		x->reason = VTD_FR_SM_ROOT_ACCESS;
		return -EFAULT;
	}
	if (devfn < 128 ? !(re[0] & VTD_SMRE_Q0_LP) : !(re[1] & VTD_SMRE_Q1_UP)) {
		x->reason = VTD_FR_SM_ROOT_P;
		return -EFAULT;
	}
	if ((re[0] & GENMASK_ULL(11, 1)) || (re[1] & GENMASK_ULL(11, 1))) {
		x->reason = VTD_FR_SM_ROOT_RSVD;
		return -EFAULT;
	}
	ctp = devfn < 128 ? re[0] & VTD_SMRE_Q0_LCTP : re[1] & VTD_SMRE_Q1_UCTP;
	if (!vtdm_read_words(ctp + (devfn & 0x7fu) * 32u, ce, 4)) {
		x->reason = VTD_FR_SM_CTX_ACCESS;
		return -EFAULT;
	}
	if (!(ce[0] & VTD_SMCE_Q0_P)) {
		x->reason = VTD_FR_SM_CTX_P;
		return -EFAULT;
	}
	x->fpd = (ce[0] & VTD_SMCE_Q0_FPD) != 0;
	if ((ce[0] & GENMASK_ULL(8, 5)) || (ce[1] & GENMASK_ULL(63, 21)) || ce[2] || ce[3]) {
		x->reason = VTD_FR_SM_CTX_RSVD;
		return -EFAULT;
	}
	if ((ce[0] & VTD_SMCE_Q0_DTE) && !(vtdm_ecap(m) & VTD_ECAP_DT)) {
		x->reason = VTD_FR_SM_CTX_INV;
		return -EFAULT;
	}
	ctxc_insert(m, rid, true, 0, ce);
	return 0;
}

unsigned int vtdm_sm_context(struct vtd_model *m, uint16_t rid, uint64_t ce[4])
{
	struct vtdm_xlate x = { 0 };

	return sm_context(m, rid, ce, &x) ? x.reason : 0;
}

static bool pgtt_ok(const struct vtd_model *m, const uint64_t pe[3])
{
	uint64_t ecap = vtdm_ecap(m);
	unsigned int pgtt = (unsigned int)FIELD_GET(VTD_PE_Q0_PGTT, pe[0]);
	unsigned int aw = (unsigned int)FIELD_GET(VTD_PE_Q0_AW, pe[0]);
	unsigned int flpm = (unsigned int)FIELD_GET(VTD_PE_Q2_FLPM, pe[2]);
	bool need_sl = pgtt == VTD_PGTT_SL || pgtt == VTD_PGTT_NESTED;
	bool need_fl = pgtt == VTD_PGTT_FL || pgtt == VTD_PGTT_NESTED;

	switch (pgtt) {
	case VTD_PGTT_FL:
		if (!(ecap & VTD_ECAP_FLTS))
			return false;
		break;
	case VTD_PGTT_SL:
		if (!(ecap & VTD_ECAP_SLTS))
			return false;
		break;
	case VTD_PGTT_NESTED:
		if (!(ecap & VTD_ECAP_NEST))
			return false;
		break;
	case VTD_PGTT_PT:
		if (!(ecap & VTD_ECAP_PT))
			return false;
		break;
	default:
		return false;
	}
	if (need_sl && !(m->cfg.sagaw & (1u << aw)))
		return false;
	if (need_fl && (flpm > VTD_FLPM_5LVL ||
			(flpm == VTD_FLPM_5LVL && !(vtdm_cap(m) & VTD_CAP_FL5LP))))
		return false;
	return true;
}

static int sm_pasid_entry(struct vtd_model *m, uint16_t rid, uint32_t pasid, const uint64_t ce[4],
			  uint64_t pe[3], struct vtdm_xlate *x)
{
	struct vtdm_pc_ent *e = pc_find(m, rid, pasid);
	uint64_t pde, pw[8];
	bool fpd;

	if (e) {
		memcpy(pe, e->pe, sizeof(e->pe));
		x->fpd = x->fpd || e->fpd;
		return 0;
	}
	if ((pasid >> 6) >= vtd_smce_pdir_entries(ce[0]) ||
	    (m->cfg.pasid_bits < 20 && (pasid >> m->cfg.pasid_bits))) {
		x->reason = VTD_FR_SM_CTX_PASID_BIG;
		return -EFAULT;
	}
	if (!vtdm_read64((ce[0] & VTD_SMCE_Q0_PASIDDIRPTR) + VTD_PASID_DIR_IDX(pasid) * 8u, &pde)) {
		x->reason = VTD_FR_SM_PDE_ACCESS;
		return -EFAULT;
	}
	if (!(pde & VTD_PDE_P)) {
		x->reason = VTD_FR_SM_PDE_P;
		return -EFAULT;
	}
	fpd = (pde & VTD_PDE_FPD) != 0;
	x->fpd = x->fpd || fpd;
	if (pde & GENMASK_ULL(11, 2)) {
		x->reason = VTD_FR_SM_PDE_RSVD;
		return -EFAULT;
	}
	if (!vtdm_read_words((pde & VTD_PDE_SMPTBLPTR) + VTD_PASID_TBL_IDX(pasid) * 64u, pw, 8)) {
		x->reason = VTD_FR_SM_PE_ACCESS;
		return -EFAULT;
	}
	if (!(pw[0] & VTD_PE_Q0_P)) {
		x->reason = VTD_FR_SM_PE_P;
		return -EFAULT;
	}
	fpd = fpd || (pw[0] & VTD_PE_Q0_FPD);
	x->fpd = x->fpd || fpd;
	if ((pw[0] & GENMASK_ULL(11, 10)) || (pw[1] & GENMASK_ULL(22, 16)) ||
	    (pw[2] & GENMASK_ULL(11, 8)) || pw[4] || pw[5] || pw[6] || pw[7] ||
	    (FIELD_GET(VTD_PE_Q1_DID, pw[1]) >> vtdm_did_bits(m))) {
		x->reason = VTD_FR_SM_PE_RSVD;
		return -EFAULT;
	}
	if (!pgtt_ok(m, pw)) {
		x->reason = VTD_FR_SM_PE_INV;
		return -EFAULT;
	}
	memcpy(pe, pw, 3 * sizeof(uint64_t));
	pc_insert(m, rid, pasid, pw, fpd);
	return 0;
}

static int sm_translate(struct vtd_model *m, const struct vtdm_req *rq, struct vtdm_xlate *x)
{
	uint64_t ce[4], pe[3];
	bool has_pasid = rq->pasid != VTDM_NO_PASID;
	uint32_t pasid;
	bool priv;
	unsigned int pgtt, aw;
	struct vtdm_iotlb_ent *e;
	struct walk_out o;
	struct sl_walk w;
	uint16_t did;
	uint8_t perm;

	if (sm_context(m, rq->rid, ce, x))
		return -EFAULT;
	if (has_pasid && !(ce[0] & VTD_SMCE_Q0_PASIDE)) {
		x->reason = VTD_FR_SM_CTX_PASIDE;
		return -EFAULT;
	}
	pasid = has_pasid ? rq->pasid : (uint32_t)FIELD_GET(VTD_SMCE_Q1_RID_PASID, ce[1]);
	priv = has_pasid ? rq->priv : (ce[1] & VTD_SMCE_Q1_RID_PRIV) != 0;
	if (sm_pasid_entry(m, rq->rid, pasid, ce, pe, x))
		return -EFAULT;
	pgtt = (unsigned int)FIELD_GET(VTD_PE_Q0_PGTT, pe[0]);
	did = (uint16_t)FIELD_GET(VTD_PE_Q1_DID, pe[1]);
	if (pgtt == VTD_PGTT_PT) {
		if (rq->iova >> m->cfg.mgaw) {
			x->reason = VTD_FR_SM_ADDR_BEYOND;
			return -EFAULT;
		}
		x->pa = rq->iova;
		return 0;
	}
	if (priv && (pgtt == VTD_PGTT_FL || pgtt == VTD_PGTT_NESTED) && !(pe[2] & VTD_PE_Q2_SRE)) {
		x->reason = VTD_FR_SM_PE_SRE;
		return -EFAULT;
	}
	if (rq->exec && !(pe[2] & VTD_PE_Q2_ERE)) {
		x->reason = VTD_FR_SM_PE_ERE;
		return -EFAULT;
	}

	e = iotlb_find(m, did, pasid, rq->iova);
	if (e && perm_ok(e->perm, rq->write, priv)) {
		m->st.iotlb_hit++;
		e->lru = next_tick(m);
		x->pa = e->pa | (rq->iova & ((1ULL << e->shift) - 1));
		return 0;
	}
	if (e)
		e->lru = 0;
	m->st.iotlb_miss++;

	aw = (unsigned int)FIELD_GET(VTD_PE_Q0_AW, pe[0]);
	w.root = pe[0] & VTD_PE_Q0_SLPTPTR;
	w.levels = vtd_aw_levels(aw);
	w.ad = (pe[0] & VTD_PE_Q0_SLADE) != 0;
	w.fc = &sl_sm;

	if (pgtt == VTD_PGTT_SL) {
		if ((rq->iova >> vtd_aw_bits(aw)) || (rq->iova >> m->cfg.mgaw)) {
			x->reason = VTD_FR_SM_ADDR_BEYOND;
			return -EFAULT;
		}
		if (sl_translate(m, &w, rq->iova, rq->write, VTD_FR_SM_SL_PERM, VTD_FR_SM_SL_PERM,
				 &o, &x->reason))
			return -EFAULT;
		iotlb_insert(m, did, pasid, rq->iova, o.pa, o.shift, VTDM_K_SL,
			     sl_perm(o.r, o.w) | (w.ad && !rq->write ? 0 : VTDM_P_D));
		x->pa = o.pa;
		return 0;
	}

	/* first level, alone or over the second level */
	struct fl_walk f = {
		.root = pe[2] & VTD_PE_Q2_FLPTPTR,
		.levels = FIELD_GET(VTD_PE_Q2_FLPM, pe[2]) == VTD_FLPM_5LVL ? 5 : 4,
		.wpe = (pe[2] & VTD_PE_Q2_WPE) != 0,
		.nest = pgtt == VTD_PGTT_NESTED ? &w : NULL,
		.nest_bits = vtd_aw_bits(aw),
	};
	if (fl_walk(m, &f, rq->iova, rq->write, priv, &o, &perm, &x->reason))
		return -EFAULT;
	if (pgtt == VTD_PGTT_NESTED) {
		struct walk_out o2;
		if (o.pa >> f.nest_bits) {
			x->reason = VTD_FR_SM_ADDR_BEYOND;
			return -EFAULT;
		}
		if (sl_translate(m, &w, o.pa, rq->write, VTD_FR_SM_SL_PERM, VTD_FR_SM_SL_PERM, &o2,
				 &x->reason))
			return -EFAULT;
		perm &= sl_perm(o2.r, o2.w);
		if (o2.shift < o.shift)
			o.shift = o2.shift;
		o.pa = o2.pa;
	}
	if (rq->write)
		perm |= VTDM_P_D;
	iotlb_insert(m, did, pasid, rq->iova, o.pa, o.shift,
		     pgtt == VTD_PGTT_NESTED ? VTDM_K_NESTED : VTDM_K_FL, perm);
	x->pa = o.pa;
	return 0;
}

int vtdm_translate(struct vtd_model *m, const struct vtdm_req *rq, struct vtdm_xlate *x)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if (!(vtdm_r32(m, VTD_REG_GSTS) & VTD_GSTS_TES)) {
		x->pa = rq->iova; /* translation off: DMA goes through untranslated */
		return 0;
	}
	if (m->ttm == VTD_TTM_LEGACY)
		rc = legacy_translate(m, rq, x);
	else if (m->ttm == VTD_TTM_SCALABLE && (vtdm_ecap(m) & VTD_ECAP_SMTS))
		rc = sm_translate(m, rq, x);
	else {
		x->reason = VTD_FR_SM_RTA_INV;
		rc = -EFAULT;
	}
	if (!rc && x->pa >= VTD_INTR_ADDR_FIRST && x->pa <= VTD_INTR_ADDR_LAST &&
	    rq->iova != x->pa) {
		x->reason = m->ttm == VTD_TTM_LEGACY ? VTD_FR_INTR_ADDR : VTD_FR_SM_INTR_ADDR;
		rc = -EFAULT;
	}
	return rc;
}
