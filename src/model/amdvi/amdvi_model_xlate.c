/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi model: device table entries through the DTE cache (2.2.2), v1
 * host page table walks (2.2.3) through the IOTLB, the DMA engine, page
 * requests (2.6).
 *
 * Both caches are tagged as hardware tags them: the DTE cache by DeviceID
 * (INVALIDATE_DEVTAB_ENTRY), the IOTLB by DomainID and address
 * (INVALIDATE_IOMMU_PAGES).  Every hit is also compared with a fresh read
 * of memory; a difference is counted as a stale hit (stats) but the cached
 * value is what the DMA uses, as on hardware.
 */
#include <errno.h>
#include <string.h>

#include "model/amdvi/amdvi_model_internal.h"

/* ------------------------------------------------------------ DTEs */

/* Read DTE @devid from memory: 0, or the event code (DeviceID beyond the
 * table: ILLEGAL_DEV_TABLE_ENTRY; unreachable: DEV_TAB_HARDWARE_ERROR). */
static uint32_t dte_fetch(struct amdvi_model *m, uint16_t devid, uint64_t d[AMDVI_DTE_WORDS])
{
	uint64_t bytes = (FIELD_GET(AMDVI_DEVTAB_SIZE, m->devtab) + 1) * 4096;
	uint64_t off = (uint64_t)devid * AMDVI_DTE_SIZE;
	uint64_t *p;

	if (off + AMDVI_DTE_SIZE > bytes)
		return AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY;
	p = model_mem((m->devtab & AMDVI_BASE_ADDR) + off, false);
	if (!p)
		return AMDVI_EV_DEV_TAB_HW_ERROR;
	for (unsigned int i = 0; i < AMDVI_DTE_WORDS; i++)
		d[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
	return 0;
}

static uint32_t dte_get(struct amdvi_model *m, uint16_t devid, uint64_t d[AMDVI_DTE_WORDS])
{
	struct amdm_dte_ent *victim = &m->dtec[0];
	uint64_t fresh[AMDVI_DTE_WORDS];
	uint32_t code;

	for (uint32_t i = 0; i < m->cfg.dtec_size; i++) {
		struct amdm_dte_ent *e = &m->dtec[i];

		if (e->lru && e->devid == devid) {
			e->lru = amdm_now(m);
			memcpy(d, e->dte, sizeof(e->dte));
			m->st.dtec_hit++;
			if (!dte_fetch(m, devid, fresh) && memcmp(fresh, d, sizeof(fresh)))
				m->st.stale_dte++;
			return 0;
		}
		if (e->lru < victim->lru)
			victim = e;
	}
	m->st.dtec_miss++;
	code = dte_fetch(m, devid, d);
	if (code)
		return code;
	/* Only valid, translating entries are cached. */
	if ((d[0] & AMDVI_DTE0_V) && (d[0] & AMDVI_DTE0_TV)) {
		victim->lru = amdm_now(m);
		victim->devid = devid;
		memcpy(victim->dte, d, sizeof(victim->dte));
	}
	return 0;
}

void amdm_inv_dte(struct amdvi_model *m, uint16_t devid)
{
	for (uint32_t i = 0; i < m->cfg.dtec_size; i++)
		if (m->dtec[i].lru && m->dtec[i].devid == devid) {
			m->dtec[i].lru = 0;
			m->st.dtec_inval++;
		}
}

void amdm_inv_pages(struct amdvi_model *m, uint16_t domid, uint64_t start, uint64_t size, bool gn,
		    uint32_t pasid, bool pde)
{
	uint64_t last = size ? start + size - 1 : UINT64_MAX;

	/* PDE: the host table's directory entries of the range go too. */
	for (uint32_t i = 0; pde && !gn && i < m->cfg.pdec_size; i++) {
		struct amdm_pde_ent *e = &m->pdec[i];
		uint64_t elast = e->base + ((1ull << e->shift) - 1);

		if (!e->lru || e->domid != domid || elast < start || e->base > last)
			continue;
		e->lru = 0;
		m->st.pdec_inval++;
	}

	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct amdm_iotlb_ent *e = &m->iotlb[i];
		uint64_t elast = e->iova + (1ull << e->shift) - 1;

		if (!e->lru || e->domid != domid || elast < start || e->iova > last)
			continue;
		if (gn && e->pasid != pasid)
			continue;
		e->lru = 0;
		m->st.iotlb_inval++;
	}
}

void amdm_inv_all(struct amdvi_model *m)
{
	for (uint32_t i = 0; i < m->cfg.pdec_size; i++)
		m->pdec[i].lru = 0;
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++)
		m->iotlb[i].lru = 0;
	for (uint32_t i = 0; i < m->cfg.dtec_size; i++)
		m->dtec[i].lru = 0;
}

/* ------------------------------------------------------------ v1 walk */

struct amdm_walk {
	uint64_t pa; /* output page base */
	unsigned int shift;
	unsigned int perm;
	uint32_t code;	/* event code on failure */
	uint32_t flags; /* AMDVI_EVF_* */
};

static unsigned int level_shift(unsigned int level)
{
	return 12u + 9u * (level - 1u);
}

/* Walk @iova from the table at @root with @mode levels.  0 with w->pa,
 * shift, perm (IR/IW of every level ANDed, starting from @perm); -EFAULT
 * with w->code/flags. */
/* The directory entries a walk went through (for the PDE cache): the
 * table each points to, its level, the permissions so far. */
struct amdm_pdes {
	unsigned int n;
	struct {
		uint64_t table;
		unsigned int level, perm;
	} e[AMDVI_MODE_MAX];
};

/* Walk @iova from @table at @level with the permissions @perm gathered
 * above it; records the directory entries it follows in @pd (may be NULL). */
static int v1_walk_from(uint64_t table, unsigned int level, unsigned int perm, uint64_t iova,
			struct amdm_walk *w, struct amdm_pdes *pd)
{
	for (;;) {
		unsigned int sh = level_shift(level);
		uint64_t idx = (iova >> sh) & 511, e, *p;
		unsigned int nl;

		p = model_mem(table + idx * 8, false);
		if (!p) {
			w->code = AMDVI_EV_PAGE_TAB_HW_ERROR;
			w->flags = 0;
			return -EFAULT;
		}
		e = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		if (!(e & AMDVI_PTE_PR)) {
			w->code = AMDVI_EV_IO_PAGE_FAULT;
			w->flags = 0;
			return -EFAULT;
		}
		perm &= (e & AMDVI_PTE_IR ? AMDM_PERM_R : 0) | (e & AMDVI_PTE_IW ? AMDM_PERM_W : 0);
		nl = (unsigned int)FIELD_GET(AMDVI_PTE_NL, e);
		if (nl == 0 || nl == AMDVI_NL_SIZED) {
			unsigned int shift = sh;

			if (nl == AMDVI_NL_SIZED) {
				/* Sized page (2.2.3.2): the first zero address
				 * bit from bit 12 up gives the size. */
				uint64_t ones = ~((e & AMDVI_PTE_ADDR) >> 12);
				unsigned int n = (unsigned int)__builtin_ctzll(ones);

				/* Larger than this level's default page, smaller
				 * than the next level's (Linux: PAGE_SIZE_LEVEL). */
				shift = 13u + n;
				if (shift <= sh || shift >= sh + 9u) {
					/* A size this level cannot hold. */
					w->code = AMDVI_EV_IO_PAGE_FAULT;
					w->flags = AMDVI_EVF_PR | AMDVI_EVF_RZ;
					return -EFAULT;
				}
			}
			w->shift = shift;
			w->pa = (e & AMDVI_PTE_ADDR) & ~((1ull << shift) - 1);
			w->perm = perm;
			return 0;
		}
		if (nl >= level) {
			/* A next level at or above this one. */
			w->code = AMDVI_EV_IO_PAGE_FAULT;
			w->flags = AMDVI_EVF_PR | AMDVI_EVF_RZ;
			return -EFAULT;
		}
		/* Skipped levels (nl < level - 1): their index bits must be
		 * zero. */
		if (nl < level - 1 &&
		    ((iova >> level_shift(nl + 1)) & ((1ull << (9u * (level - 1 - nl))) - 1))) {
			w->code = AMDVI_EV_IO_PAGE_FAULT;
			w->flags = 0;
			return -EFAULT;
		}
		table = e & AMDVI_PTE_ADDR;
		level = nl;
		if (pd && pd->n < AMDVI_MODE_MAX) {
			pd->e[pd->n].table = table;
			pd->e[pd->n].level = level;
			pd->e[pd->n].perm = perm;
			pd->n++;
		}
	}
}

/* Input bits above the levels the DTE gives must be zero (mode 6: the
 * whole 64 bits). */
static bool v1_in_range(unsigned int mode, uint64_t iova, struct amdm_walk *w)
{
	if (mode < 6 && (iova >> level_shift(mode + 1)) != 0) {
		w->code = AMDVI_EV_IO_PAGE_FAULT;
		w->flags = 0;
		return false;
	}
	return true;
}

/* A walk of memory alone (no PDE cache). */
static int v1_walk(uint64_t root, unsigned int mode, unsigned int perm, uint64_t iova,
		   struct amdm_walk *w)
{
	if (!v1_in_range(mode, iova, w))
		return -EFAULT;
	return v1_walk_from(root, mode, perm, iova, w, NULL);
}

/* ------------------------------------------------------------ translation */

struct amdm_req {
	uint16_t devid;
	uint32_t pasid; /* AMDVI_MODEL_NO_PASID: none */
	uint64_t iova;
	bool write;
};

struct amdm_xlate {
	uint64_t pa;   /* output for rq->iova */
	uint32_t code; /* event code of a fault */
	uint32_t flags;
	uint16_t domid;
	bool suppress; /* DTE.SA / SE: log nothing */
	bool guest;    /* a guest (v2) translation of @pasid */
	uint32_t pasid;
};

static unsigned int dte_perm(const uint64_t *d)
{
	return (d[0] & AMDVI_DTE0_IR ? AMDM_PERM_R : 0) | (d[0] & AMDVI_DTE0_IW ? AMDM_PERM_W : 0);
}

static bool dte_illegal(const struct amdvi_model *m, const uint64_t *d)
{
	unsigned int mode = (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, d[0]);

	if (d[0] & (AMDVI_DTE0_RSVD_LO | AMDVI_DTE0_RSVD_HI))
		return true;
	if (d[1] & AMDVI_DTE1_RSVD)
		return true;
	if (mode > AMDVI_MODE_MAX || mode > amdvi_efr_max_levels(m->efr))
		return true;
	if ((d[0] & AMDVI_DTE0_GV) && (!m->cfg.gt || !(m->control & AMDVI_CTRL_GT_EN) ||
				       FIELD_GET(AMDVI_DTE0_GLX, d[0]) > AMDVI_GLX_MAX))
		return true;
	if ((d[0] & AMDVI_DTE0_PPR) && !m->cfg.ppr)
		return true;
	return false;
}

/* The IOTLB entry for (@domid, @pasid, @iova), or NULL. */
static struct amdm_iotlb_ent *iotlb_find(struct amdvi_model *m, uint16_t domid, uint32_t pasid,
					 uint64_t iova)
{
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		struct amdm_iotlb_ent *e = &m->iotlb[i];

		if (e->lru && e->domid == domid && e->pasid == pasid &&
		    (iova >> e->shift) == (e->iova >> e->shift))
			return e;
	}
	return NULL;
}

/* ------------------------------------------------------------ v2 (guest) */

/* A guest physical address through the DTE's host table (Mode 0: the
 * address itself, with the DTE's IR/IW). */
static int host_xlate(const uint64_t *d, uint64_t gpa, struct amdm_walk *w)
{
	unsigned int mode = (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, d[0]);

	if (mode == AMDVI_MODE_NONE) {
		w->pa = gpa & ~0xfffull;
		w->shift = 12;
		w->perm = dte_perm(d);
		return 0;
	}
	return v1_walk(d[0] & AMDVI_DTE0_ROOT, mode, dte_perm(d), gpa, w);
}

/* Read the 8-byte entry at GPA @gpa (a guest table) through the host
 * table; false with w->code/flags when it cannot be. */
static bool guest_read(const uint64_t *d, uint64_t gpa, uint64_t *e, struct amdm_walk *w)
{
	struct amdm_walk h = {0};
	uint64_t *p;

	if (host_xlate(d, gpa, &h) || !(h.perm & AMDM_PERM_R)) {
		w->code = h.code ? h.code : AMDVI_EV_IO_PAGE_FAULT;
		w->flags = h.code ? h.flags : AMDVI_EVF_PR | AMDVI_EVF_PE;
		return false;
	}
	p = model_mem((h.pa & ~((1ull << h.shift) - 1)) | (gpa & ((1ull << h.shift) - 1) & ~7ull),
		      false);
	if (!p) {
		w->code = AMDVI_EV_PAGE_TAB_HW_ERROR;
		w->flags = 0;
		return false;
	}
	*e = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return true;
}

/* Guest translation of @iova for @pasid: the GCR3 table (DTE.GLX + 1
 * levels) gives the guest CR3, a 4-level x86-64 walk the guest physical
 * address, the host table the system address; every table address is a
 * GPA.  Permissions: present = read, RW at every level = write, ANDed
 * with the host's.  0 with w->pa (4 KiB granule), -EFAULT with
 * w->code/flags. */
static int v2_walk(const uint64_t *d, uint32_t pasid, uint64_t iova, struct amdm_walk *w)
{
	unsigned int glx = (unsigned int)FIELD_GET(AMDVI_DTE0_GLX, d[0]);
	uint64_t table = amdvi_dte_gcr3(d), e = 0;
	unsigned int perm = AMDM_PERM_R | AMDM_PERM_W;
	struct amdm_walk h = {0};

	for (int l = (int)glx; l >= 0; l--) {
		if (!guest_read(d, table + ((pasid >> (9 * l)) & 511) * 8, &e, w))
			return -EFAULT;
		if (!(e & AMDVI_GCR3_V)) {
			w->code = AMDVI_EV_IO_PAGE_FAULT;
			w->flags = 0;
			return -EFAULT;
		}
		table = e & AMDVI_GCR3_ADDR;
	}
	if (iova >> 47) { /* the lower canonical half of 4 levels */
		w->code = AMDVI_EV_IO_PAGE_FAULT;
		w->flags = 0;
		return -EFAULT;
	}
	for (unsigned int lvl = 4;; lvl--) {
		unsigned int sh = 12u + 9u * (lvl - 1u);

		if (!guest_read(d, table + ((iova >> sh) & 511) * 8, &e, w))
			return -EFAULT;
		if (!(e & 1ull)) { /* P */
			w->code = AMDVI_EV_IO_PAGE_FAULT;
			w->flags = 0;
			return -EFAULT;
		}
		if (!(e & 2ull)) /* R/W */
			perm &= ~AMDM_PERM_W;
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (e & (1ull << 7)))) { /* PS */
			uint64_t gpa = ((e & AMDVI_GCR3_ADDR) & ~((1ull << sh) - 1)) |
				       (iova & ((1ull << sh) - 1) & ~0xfffull);

			if (host_xlate(d, gpa, &h)) {
				w->code = h.code;
				w->flags = h.flags;
				return -EFAULT;
			}
			w->pa = (h.pa & ~((1ull << h.shift) - 1)) |
				(gpa & ((1ull << h.shift) - 1) & ~0xfffull);
			w->shift = 12;
			w->perm = perm & h.perm;
			return 0;
		}
		table = e & AMDVI_GCR3_ADDR;
	}
}

static void iotlb_fill(struct amdvi_model *m, uint16_t domid, uint32_t pasid, uint64_t iova,
		       const struct amdm_walk *w, const uint64_t *d)
{

	struct amdm_iotlb_ent *victim = &m->iotlb[0];

	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++) {
		if (!m->iotlb[i].lru) {
			victim = &m->iotlb[i];
			break;
		}
		if (m->iotlb[i].lru < victim->lru)
			victim = &m->iotlb[i];
	}
	victim->lru = amdm_now(m);
	victim->domid = domid;
	victim->shift = (uint8_t)w->shift;
	victim->iova = iova & ~((1ull << w->shift) - 1);
	victim->pa = w->pa;
	victim->perm = (uint8_t)w->perm;
	victim->pasid = pasid;
	victim->dte[0] = d[0];
	victim->dte[1] = d[1];
}

/* Walk as the cached entry @e was walked: what memory says now. */
static int rewalk(const struct amdm_iotlb_ent *e, uint64_t iova, struct amdm_walk *w)
{
	if (e->pasid != AMDVI_MODEL_NO_PASID)
		return v2_walk(e->dte, e->pasid, iova, w);
	return v1_walk(e->dte[0] & AMDVI_DTE0_ROOT,
		       (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, e->dte[0]), dte_perm(e->dte), iova,
		       w);
}

/* The guest (v2) path of translate(), through the IOTLB tagged with the
 * PASID. */
static int v2_translate(struct amdvi_model *m, const struct amdm_req *rq, const uint64_t *d,
			unsigned int need, struct amdm_xlate *x)
{
	uint32_t pasid = rq->pasid == AMDVI_MODEL_NO_PASID ? 0 : rq->pasid;
	struct amdm_iotlb_ent *e = iotlb_find(m, x->domid, pasid, rq->iova);
	struct amdm_walk w;

	x->guest = true;
	x->pasid = pasid;
	if (e) {
		struct amdm_walk fresh;

		e->lru = amdm_now(m);
		m->st.iotlb_hit++;
		if (rewalk(e, rq->iova, &fresh) || fresh.pa != e->pa || fresh.perm != e->perm)
			m->st.stale_iotlb++;
		w.pa = e->pa;
		w.perm = e->perm;
	} else {
		m->st.iotlb_miss++;
		if (v2_walk(d, pasid, rq->iova, &w)) {
			x->code = w.code;
			x->flags = w.flags;
			return -EFAULT;
		}
		iotlb_fill(m, x->domid, pasid, rq->iova, &w, d);
	}
	if (!(w.perm & need)) {
		x->code = AMDVI_EV_IO_PAGE_FAULT;
		x->flags = AMDVI_EVF_PR | AMDVI_EVF_PE;
		return -EFAULT;
	}
	x->pa = w.pa | (rq->iova & 0xfff);
	return 0;
}

/* The deepest cached PDE of @domid whose region holds @iova, or NULL. */
static struct amdm_pde_ent *pdec_find(struct amdvi_model *m, uint16_t domid, uint64_t iova)
{
	struct amdm_pde_ent *best = NULL;

	for (uint32_t i = 0; i < m->cfg.pdec_size; i++) {
		struct amdm_pde_ent *e = &m->pdec[i];

		if (e->lru && e->domid == domid && ((iova ^ e->base) >> e->shift) == 0 &&
		    (!best || e->level < best->level))
			best = e;
	}
	return best;
}

static void pdec_fill(struct amdvi_model *m, uint16_t domid, uint64_t iova,
		      const struct amdm_pdes *pd)
{
	for (unsigned int k = 0; k < pd->n; k++) {
		struct amdm_pde_ent *victim = &m->pdec[0];
		unsigned int shift = level_shift(pd->e[k].level) + 9u;

		for (uint32_t i = 0; i < m->cfg.pdec_size; i++) {
			if (!m->pdec[i].lru) {
				victim = &m->pdec[i];
				break;
			}
			if (m->pdec[i].lru < victim->lru)
				victim = &m->pdec[i];
		}
		victim->lru = amdm_now(m);
		victim->domid = domid;
		victim->shift = (uint8_t)shift;
		victim->base = iova & ~((1ull << shift) - 1);
		victim->table = pd->e[k].table;
		victim->level = (uint8_t)pd->e[k].level;
		victim->perm = (uint8_t)pd->e[k].perm;
	}
}

/* A host-table walk as the hardware does it: from the deepest cached PDE
 * (the page-directory cache, stale until INVALIDATE_IOMMU_PAGES with PDE)
 * or from the root; what it follows gets cached.  A walk that started at a
 * cached PDE is checked against memory (stats.stale_pde). */
static int v1_walk_cached(struct amdvi_model *m, uint16_t domid, const uint64_t *d, uint64_t iova,
			  struct amdm_walk *w)
{
	unsigned int mode = (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, d[0]);
	struct amdm_pde_ent *c;
	struct amdm_pdes pd = {0};
	int rc;

	if (!v1_in_range(mode, iova, w))
		return -EFAULT;
	c = pdec_find(m, domid, iova);
	if (!c) {
		rc = v1_walk_from(d[0] & AMDVI_DTE0_ROOT, mode, dte_perm(d), iova, w, &pd);
	} else {
		struct amdm_walk fresh;
		int frc;

		c->lru = amdm_now(m);
		m->st.pdec_hit++;
		rc = v1_walk_from(c->table, c->level, c->perm, iova, w, &pd);
		frc = v1_walk(d[0] & AMDVI_DTE0_ROOT, mode, dte_perm(d), iova, &fresh);
		if (frc != rc || (!rc && (fresh.pa != w->pa || fresh.shift != w->shift ||
					  fresh.perm != w->perm)))
			m->st.stale_pde++;
	}
	pdec_fill(m, domid, iova, &pd);
	return rc;
}

/* Translate: 0 or -EFAULT (x->code, x->flags). */
static int translate(struct amdvi_model *m, const struct amdm_req *rq, struct amdm_xlate *x)
{
	uint64_t d[AMDVI_DTE_WORDS];
	unsigned int mode, perm, need = rq->write ? AMDM_PERM_W : AMDM_PERM_R;
	struct amdm_iotlb_ent *e;
	struct amdm_walk w;

	memset(x, 0, sizeof(*x));
	if (!(m->control & AMDVI_CTRL_IOMMU_EN)) {
		x->pa = rq->iova; /* the IOMMU is off: untranslated */
		return 0;
	}
	x->code = dte_get(m, rq->devid, d);
	if (x->code)
		return -EFAULT;
	/* V = 0 or TV = 0: no translation information, the access passes
	 * untranslated (2.2.2.1). */
	if (!(d[0] & AMDVI_DTE0_V) || !(d[0] & AMDVI_DTE0_TV)) {
		x->pa = rq->iova;
		return 0;
	}
	x->domid = (uint16_t)FIELD_GET(AMDVI_DTE1_DOMID, d[1]);
	x->suppress = d[1] & (AMDVI_DTE1_SA | AMDVI_DTE1_SE);
	if (dte_illegal(m, d)) {
		x->code = AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY;
		x->suppress = false;
		return -EFAULT;
	}
	mode = (unsigned int)FIELD_GET(AMDVI_DTE0_MODE, d[0]);
	perm = dte_perm(d);
	/* A request with a PASID needs guest translation; without one, GIoV
	 * sends it through PASID 0's guest table. */
	if (rq->pasid != AMDVI_MODEL_NO_PASID && !(d[0] & AMDVI_DTE0_GV)) {
		x->code = AMDVI_EV_IO_PAGE_FAULT;
		x->flags = 0;
		return -EFAULT;
	}
	if ((d[0] & AMDVI_DTE0_GV) &&
	    (rq->pasid != AMDVI_MODEL_NO_PASID || (d[0] & AMDVI_DTE0_GIOV)))
		return v2_translate(m, rq, d, need, x);
	if (mode == AMDVI_MODE_NONE) {
		/* Untranslated, with the DTE's IR/IW (blocked when both 0). */
		if (!(perm & need))
			goto perm_fault;
		x->pa = rq->iova;
		return 0;
	}
	e = iotlb_find(m, x->domid, AMDVI_MODEL_NO_PASID, rq->iova);
	if (e) {
		struct amdm_walk fresh;

		e->lru = amdm_now(m);
		m->st.iotlb_hit++;
		/* The stale check: what a walk of memory gives now. */
		if (rewalk(e, rq->iova, &fresh) || fresh.pa != e->pa || fresh.shift != e->shift ||
		    fresh.perm != e->perm)
			m->st.stale_iotlb++;
		if (!(e->perm & need))
			goto perm_fault;
		x->pa = e->pa | (rq->iova & ((1ull << e->shift) - 1));
		return 0;
	}
	m->st.iotlb_miss++;
	if (v1_walk_cached(m, x->domid, d, rq->iova, &w)) {
		x->code = w.code;
		x->flags = w.flags;
		return -EFAULT;
	}
	iotlb_fill(m, x->domid, AMDVI_MODEL_NO_PASID, rq->iova, &w, d);
	if (!(w.perm & need))
		goto perm_fault;
	x->pa = w.pa | (rq->iova & ((1ull << w.shift) - 1));
	return 0;

perm_fault:
	x->code = AMDVI_EV_IO_PAGE_FAULT;
	x->flags = AMDVI_EVF_PR | AMDVI_EVF_PE;
	return -EFAULT;
}

/* Log the event of a failed translation. */
static void fault_log(struct amdvi_model *m, const struct amdm_req *rq, const struct amdm_xlate *x)
{
	uint32_t flags = x->flags | (rq->write ? AMDVI_EVF_RW : 0);
	uint64_t w0 = FIELD_PREP(AMDVI_EVT_CODE, x->code) | FIELD_PREP(AMDVI_EVT_DEVID, rq->devid);

	if (x->suppress)
		return;
	switch (x->code) {
	case AMDVI_EV_IO_PAGE_FAULT:
		if (x->guest || rq->pasid != AMDVI_MODEL_NO_PASID) {
			uint32_t pasid = x->guest ? x->pasid : rq->pasid;

			/* GN: the DomainID field carries PASID[15:0]. */
			w0 |= FIELD_PREP(AMDVI_EVT_DOMID, pasid & 0xffff) |
			      FIELD_PREP(AMDVI_EVT_PASID_HI, (pasid >> 16) & 0xf) |
			      FIELD_PREP(AMDVI_EVT_FLAGS, flags | AMDVI_EVF_GN);
			break;
		}
		w0 |= FIELD_PREP(AMDVI_EVT_DOMID, x->domid) | FIELD_PREP(AMDVI_EVT_FLAGS, flags);
		break;
	case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
		w0 |= FIELD_PREP(AMDVI_EVT_FLAGS, rq->write ? AMDVI_EVF_RW : 0);
		break;
	default:
		break;
	}
	amdm_event(m, w0, rq->iova);
}

#define AMDM_PAGE 4096ull

int amdvi_model_dma(struct amdvi_model *m, uint16_t devid, uint32_t pasid, uint64_t iova, void *buf,
		    size_t len, bool write, struct amdvi_model_fault *f)
{
	struct amdm_req rq = {.devid = devid, .pasid = pasid, .write = write};
	struct amdm_xlate x;
	uint64_t off;
	int rc = 0;

	if (f)
		memset(f, 0, sizeof(*f));
	if (pasid != AMDVI_MODEL_NO_PASID &&
	    (!m->cfg.gt || pasid >= (2u << FIELD_GET(AMDVI_EFR_PASMAX, m->efr))))
		return -EINVAL; /* no guest translation, or a PASID wider than PASmax */
	if (len == 0 || iova + len - 1 < iova)
		return -EINVAL;
	(void)uenv_lock(&m->lock);
	/* Translate every page first: a fault moves nothing. */
	for (off = 0; off < len;) {
		uint64_t a = iova + off, n = AMDM_PAGE - (a & (AMDM_PAGE - 1));

		rq.iova = a;
		if (translate(m, &rq, &x)) {
			fault_log(m, &rq, &x);
			if (f) {
				f->code = x.code;
				f->flags = x.flags | (write ? AMDVI_EVF_RW : 0);
				f->addr = a;
			}
			m->st.dma_fault++;
			rc = -EFAULT;
			goto out;
		}
		if (!model_mem(x.pa, true)) {
			rc = -EIO;
			goto out;
		}
		off += n;
	}
	for (off = 0; off < len;) {
		uint64_t a = iova + off, n = AMDM_PAGE - (a & (AMDM_PAGE - 1));
		uint8_t *p;

		if (n > len - off)
			n = len - off;
		rq.iova = a;
		(void)translate(m, &rq, &x);
		p = model_mem(x.pa, true);
		if (!p) {
			rc = -EIO;
			goto out;
		}
		if (write)
			memcpy(p, (const uint8_t *)buf + off, n);
		else
			memcpy((uint8_t *)buf + off, p, n);
		off += n;
	}
	m->st.dma_ok++;
	m->st.dma_bytes += len;
out:
	uenv_unlock(&m->lock);
	return rc;
}

int amdvi_model_translate(struct amdvi_model *m, uint16_t devid, uint64_t iova, bool write,
			  uint64_t *pa, struct amdvi_model_fault *f)
{
	return amdvi_model_translate_pasid(m, devid, AMDVI_MODEL_NO_PASID, iova, write, pa, f);
}

int amdvi_model_translate_pasid(struct amdvi_model *m, uint16_t devid, uint32_t pasid,
				uint64_t iova, bool write, uint64_t *pa,
				struct amdvi_model_fault *f)
{
	struct amdm_req rq = {.devid = devid, .pasid = pasid, .iova = iova, .write = write};
	struct amdm_xlate x;
	int rc;

	if (f)
		memset(f, 0, sizeof(*f));
	(void)uenv_lock(&m->lock);
	rc = translate(m, &rq, &x);
	if (rc) {
		fault_log(m, &rq, &x);
		if (f) {
			f->code = x.code;
			f->flags = x.flags | (write ? AMDVI_EVF_RW : 0);
			f->addr = iova;
		}
	} else {
		*pa = x.pa;
	}
	uenv_unlock(&m->lock);
	return rc;
}

/* ------------------------------------------------------------ PPR */

int amdvi_model_page_request(struct amdvi_model *m, const struct amdvi_model_ppr *req)
{
	uint64_t d[AMDVI_DTE_WORDS], w0;
	uint32_t flags = 0;
	struct amdm_ppr *slot = NULL;
	int rc;

	(void)uenv_lock(&m->lock);
	if (!m->cfg.ppr || !(m->control & AMDVI_CTRL_PPR_EN) || dte_get(m, req->devid, d) ||
	    !(d[0] & AMDVI_DTE0_V) || !(d[0] & AMDVI_DTE0_PPR)) {
		amdm_event(m,
			   FIELD_PREP(AMDVI_EVT_CODE, AMDVI_EV_INVALID_PPR_REQUEST) |
				   FIELD_PREP(AMDVI_EVT_DEVID, req->devid),
			   req->addr);
		rc = -EOPNOTSUPP;
		goto out;
	}
	for (unsigned int i = 0; i < AMDM_PPR_MAX; i++)
		if (m->ppr[i].state == 0) {
			slot = &m->ppr[i];
			break;
		}
	flags |= req->read ? AMDVI_PPRF_READ : 0;
	flags |= req->write ? AMDVI_PPRF_WRITE : 0;
	flags |= req->exec ? AMDVI_PPRF_EXEC : 0;
	flags |= req->user ? AMDVI_PPRF_US : 0;
	w0 = FIELD_PREP(AMDVI_PPR_DEVID, req->devid) | FIELD_PREP(AMDVI_PPR_TAG, req->tag & 0x1ff) |
	     FIELD_PREP(AMDVI_PPR_TYPE, AMDVI_PPR_REQ_FAULT);
	if (req->pasid != AMDVI_MODEL_NO_PASID) {
		flags |= AMDVI_PPRF_GN;
		w0 |= FIELD_PREP(AMDVI_PPR_PASID_LO, req->pasid & 0xffff) |
		      FIELD_PREP(AMDVI_PPR_PASID_HI, (req->pasid >> 16) & 0xf);
	}
	w0 |= FIELD_PREP(AMDVI_PPR_FLAGS, flags);
	rc = amdm_ppr_log(m, w0, req->addr & ~0xfffull);
	if (!rc && slot) {
		slot->state = 1;
		slot->devid = req->devid;
		slot->tag = req->tag & 0x1ff;
	}
out:
	uenv_unlock(&m->lock);
	return rc;
}

void amdm_ppr_complete(struct amdvi_model *m, uint16_t devid, uint16_t tag, unsigned int status)
{
	m->st.ppr_completed++;
	for (unsigned int i = 0; i < AMDM_PPR_MAX; i++) {
		struct amdm_ppr *p = &m->ppr[i];

		if (p->state == 1 && p->devid == devid && p->tag == tag) {
			p->state = 2;
			p->status = (uint8_t)status;
			return;
		}
	}
}

int amdvi_model_ppr_status(struct amdvi_model *m, uint16_t devid, uint16_t tag,
			   unsigned int *status)
{
	int rc = -ENOENT;

	(void)uenv_lock(&m->lock);
	for (unsigned int i = 0; i < AMDM_PPR_MAX; i++) {
		struct amdm_ppr *p = &m->ppr[i];

		if (p->state == 0 || p->devid != devid || p->tag != tag)
			continue;
		if (p->state == 1) {
			rc = -EAGAIN;
			break;
		}
		*status = p->status;
		p->state = 0;
		rc = 0;
		break;
	}
	uenv_unlock(&m->lock);
	return rc;
}
