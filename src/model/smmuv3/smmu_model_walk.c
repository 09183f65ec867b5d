/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 model: configuration and translation caches, the stream table,
 * CD and page-table walks (IHI 0070 chapters 3 and 5; Arm ARM D8 for the
 * VMSAv8-64 4 KiB-granule walk), the event queue and the DMA engine.
 *
 * Caches: an STE cache keyed by StreamID and a CD cache keyed by
 * (StreamID, SubstreamID), filled on use, emptied only by CFGI_*; a TLB
 * of walk results tagged (VMID, ASID) for configurations with stage 1 and
 * (VMID) for stage 2 only, emptied only by TLBI_*.  So a driver that skips
 * an invalidation sees the stale entry, as it would on hardware.
 */
#include <errno.h>
#include <string.h>

#include "core/model.h"
#include "model/smmuv3/smmu_model_internal.h"
#include "pgtable/pgt_hw.h"

/* ------------------------------------------------------------ memory */

/* CPU address of [pa, pa + len) when it is arena memory in one piece. */
static void *mem(uint64_t pa, uint64_t len, bool dma)
{
	uint8_t *va = uenv_iova_to_va(pa);

	if (va && len > 1 && uenv_iova_to_va(pa + len - 1) != va + len - 1)
		return NULL;
	if (!va && dma && pa >= UENV_PAGE_SIZE && uenv_iova_is_va())
		return (void *)(uintptr_t)pa; /* tests: IOVA == VA buffers */
	return va;
}

bool smmum_read(uint64_t pa, uint64_t *w, unsigned int n)
{
	const uint64_t *p = IS_ALIGNED_ULL(pa, 8) ? mem(pa, n * 8ull, false) : NULL;

	if (!p)
		return false;
	for (unsigned int i = 0; i < n; i++)
		w[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
	return true;
}

/* ------------------------------------------------------------ events */

void smmum_event(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t addr, bool write,
		 const struct smmum_fault *f)
{
	unsigned int shift = (unsigned int)FIELD_GET(SMMU_Q_BASE_LOG2SIZE, m->evtq_base);
	uint32_t prod, cons, mask;
	uint64_t e[SMMU_EVT_DWORDS], *slot;

	if (shift > m->cfg.evtqs)
		shift = m->cfg.evtqs;
	mask = (2u << shift) - 1u;
	if (!(m->cr0 & SMMU_CR0_EVTQEN)) {
		m->st.events_lost++;
		return;
	}
	prod = m->evtq_prod & mask;
	cons = m->evtq_cons & mask;
	if (SMMU_Q_IDX(prod, shift) == SMMU_Q_IDX(cons, shift) && prod != cons) {
		/* Full: the record is lost; PROD.OVFLG toggles unless an
		 * overflow is already unacknowledged (IHI 0070 7.4). */
		if ((m->evtq_prod ^ m->evtq_cons) & SMMU_Q_OVF) {
		} else {
			m->evtq_prod ^= (uint32_t)SMMU_Q_OVF;
		}
		m->st.events_lost++;
		return;
	}
	memset(e, 0, sizeof(e));
	e[0] = FIELD_PREP(SMMU_EVT0_ID, f->id) | FIELD_PREP(SMMU_EVT0_SID, sid);
	if (ssid != SMMUM_NO_SSID)
		e[0] |= SMMU_EVT0_SSV | FIELD_PREP(SMMU_EVT0_SSID, ssid);
	e[1] = FIELD_PREP(SMMU_EVT1_CLASS, f->class) | (write ? 0 : SMMU_EVT1_RNW) |
	       (f->s2 ? SMMU_EVT1_S2 : 0);
	if (f->stall)
		e[1] |= SMMU_EVT1_STALL | FIELD_PREP(SMMU_EVT1_STAG, f->stag);
	e[2] = addr;
	if (f->id == SMMU_EVT_F_STE_FETCH || f->id == SMMU_EVT_F_CD_FETCH ||
	    f->id == SMMU_EVT_F_WALK_EABT)
		e[3] = f->fetch & SMMU_EVT3_FETCH;
	else if (f->s2)
		e[3] = f->ipa & SMMU_EVT3_IPA;
	slot = mem((m->evtq_base & SMMU_Q_BASE_ADDR) + SMMU_Q_IDX(prod, shift) * 32ull, 32, false);
	if (!slot) {
		m->gerror ^= (uint32_t)SMMU_GERROR_EVTQ_ABT_ERR;
		m->st.events_lost++;
		return;
	}
	for (unsigned int i = 0; i < SMMU_EVT_DWORDS; i++)
		__atomic_store_n(&slot[i], e[i], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	m->evtq_prod = (m->evtq_prod & (uint32_t)SMMU_Q_OVF) | ((prod + 1u) & mask);
	m->st.events++;
}

/* ------------------------------------------------------------ caches */

static struct smmum_cfgc *cfgc_find(struct smmum_cfgc *c, uint32_t n, uint32_t sid, uint32_t ssid)
{
	for (uint32_t i = 0; i < n; i++)
		if (c[i].valid && c[i].sid == sid && c[i].ssid == ssid)
			return &c[i];
	return NULL;
}

static void cfgc_put(struct smmu_model *m, struct smmum_cfgc *c, uint32_t sid, uint32_t ssid,
		     const uint64_t *w)
{
	uint32_t victim = 0;

	for (uint32_t i = 0; i < m->cfg.cfgc_size; i++) {
		if (!c[i].valid) {
			victim = i;
			break;
		}
		if (c[i].stamp < c[victim].stamp)
			victim = i;
	}
	c[victim].valid = true;
	c[victim].sid = sid;
	c[victim].ssid = ssid;
	memcpy(c[victim].w, w, sizeof(c[victim].w));
	c[victim].stamp = ++m->stamp;
}

void smmum_inv_ste(struct smmu_model *m, uint32_t first, uint64_t n)
{
	for (uint32_t i = 0; i < m->cfg.cfgc_size; i++)
		if (m->stec[i].valid && m->stec[i].sid >= first && m->stec[i].sid - first < n)
			m->stec[i].valid = false;
}

void smmum_inv_cd(struct smmu_model *m, uint32_t sid, uint32_t ssid, bool all_ssid)
{
	for (uint32_t i = 0; i < m->cfg.cfgc_size; i++)
		if (m->cdc[i].valid && m->cdc[i].sid == sid && (all_ssid || m->cdc[i].ssid == ssid))
			m->cdc[i].valid = false;
}

void smmum_inv_cfg_all(struct smmu_model *m)
{
	for (uint32_t i = 0; i < m->cfg.cfgc_size; i++)
		m->stec[i].valid = m->cdc[i].valid = false;
}

/*
 * The TLB is indexed: an entry sits in the hash bucket of (VMID, its size,
 * its input address), so a lookup probes one bucket per page size (4 KiB,
 * 2 MiB, 1 GiB) and an invalidation by address one bucket per size and
 * page of its range, as hardware finds entries by tag and not by walking
 * all of them.  Invalidations without an address (by ASID, by VMID, all)
 * or over more pages than the TLB holds look at every entry.
 */
static const unsigned int tlb_shift[3] = {12, 21, 30};

static uint32_t *tlb_bucket(struct smmu_model *m, uint16_t vmid, unsigned int shift, uint64_t va)
{
	uint64_t h = ((va >> shift) ^ ((uint64_t)vmid << 40) ^ ((uint64_t)shift << 58)) *
		     0x9e3779b97f4a7c15ull;

	return &m->tlb_hash[(uint32_t)(h >> 32) & m->tlb_hmask];
}

static unsigned int size_shift(uint64_t size)
{
	return size == (1ull << 30) ? 30 : size == (1ull << 21) ? 21 : 12;
}

/* Take entry @i out of its bucket (it is valid, so it is in one). */
static void tlb_unlink(struct smmu_model *m, uint32_t i)
{
	struct smmum_tlb *t = &m->tlb[i];
	uint32_t *link = tlb_bucket(m, t->vmid, size_shift(t->size), t->va);

	while (*link && *link != i + 1)
		link = &m->tlb[*link - 1].hnext;
	if (*link)
		*link = t->hnext;
	t->hnext = 0;
	t->valid = false;
	m->tlb_used--;
}

static bool tlb_match(const struct smmum_tlb *t, int vmid, int asid, int s1, uint64_t start,
		      uint64_t len)
{
	if (!t->valid || (vmid >= 0 && t->vmid != vmid) || (s1 >= 0 && t->s1 != (s1 > 0)))
		return false;
	if (asid >= 0 && (!t->s1 || t->asid != asid))
		return false;
	return !len || !(t->va + t->size <= start || (start + len > start && t->va >= start + len));
}

void smmum_tlb_inv(struct smmu_model *m, int vmid, int asid, int s1, uint64_t start, uint64_t len)
{
	uint64_t pages = len ? ((start & 0xfffull) + len + 0xfffull) >> 12 : 0;

	if (!m->tlb_used)
		return;
	if (!len || vmid < 0 || start + len < start || pages > m->cfg.tlb_size) {
		for (uint32_t i = 0; i < m->cfg.tlb_size; i++)
			if (tlb_match(&m->tlb[i], vmid, asid, s1, start, len))
				tlb_unlink(m, i);
		return;
	}
	for (unsigned int k = 0; k < 3; k++) {
		uint64_t step = 1ull << tlb_shift[k], a = start & ~(step - 1);

		for (; a < start + len && a >= (start & ~(step - 1)); a += step) {
			uint32_t *link = tlb_bucket(m, (uint16_t)vmid, tlb_shift[k], a);

			while (*link) {
				uint32_t i = *link - 1;
				struct smmum_tlb *t = &m->tlb[i];

				if (t->size == step && t->va == a &&
				    tlb_match(t, vmid, asid, s1, start, len)) {
					*link = t->hnext; /* unlinked here */
					t->hnext = 0;
					t->valid = false;
					m->tlb_used--;
				} else {
					link = &t->hnext;
				}
			}
		}
	}
}

static struct smmum_tlb *tlb_find(struct smmu_model *m, bool s1, uint16_t vmid, uint16_t asid,
				  uint64_t va)
{
	for (unsigned int k = 0; k < 3; k++) {
		uint64_t size = 1ull << tlb_shift[k], base = va & ~(size - 1);

		for (uint32_t e = *tlb_bucket(m, vmid, tlb_shift[k], base); e;
		     e = m->tlb[e - 1].hnext) {
			struct smmum_tlb *t = &m->tlb[e - 1];

			if (t->valid && t->size == size && t->va == base && t->s1 == s1 &&
			    t->vmid == vmid && (!s1 || t->asid == asid))
				return t;
		}
	}
	return NULL;
}

static void tlb_put(struct smmu_model *m, const struct smmum_tlb *e)
{
	uint32_t victim = 0, *head;

	for (uint32_t i = 0; i < m->cfg.tlb_size; i++) {
		if (!m->tlb[i].valid) {
			victim = i;
			break;
		}
		if (m->tlb[i].stamp < m->tlb[victim].stamp)
			victim = i;
	}
	if (m->tlb[victim].valid)
		tlb_unlink(m, victim);
	head = tlb_bucket(m, e->vmid, size_shift(e->size), e->va);
	m->tlb[victim] = *e;
	m->tlb[victim].valid = true;
	m->tlb[victim].stamp = ++m->stamp;
	m->tlb[victim].hnext = *head;
	*head = victim + 1;
	m->tlb_used++;
}

/* ------------------------------------------------------------ walks */

/* One VMSAv8-64 4 KiB-granule walk. */
struct walk {
	uint64_t root;
	unsigned int start; /* start level 0..3 */
	unsigned int ias, oas;
	bool s2;
	const struct walk *s2w; /* stage 1 of a nested config: table addresses are IPAs */
};
struct walk_out {
	uint64_t pa, size;
	uint8_t perm; /* SMMUM_P_* the leaf allows */
};

static int walk(struct smmu_model *m, const struct walk *w, uint64_t in, struct walk_out *o,
		struct smmum_fault *f);

/* A nested stage 1 reads its tables (and the CDs) at IPAs: stage 2 first. */
static int s2_fetch(struct smmu_model *m, const struct walk *s2w, uint64_t ipa, uint64_t *pa,
		    struct smmum_fault *f, unsigned int class)
{
	struct walk_out o;

	if (!s2w) {
		*pa = ipa;
		return 0;
	}
	if (walk(m, s2w, ipa, &o, f)) {
		f->class = class;
		return -1;
	}
	if (!(o.perm & SMMUM_P_R)) {
		f->id = SMMU_EVT_F_PERMISSION;
		f->s2 = true;
		f->ipa = ipa;
		f->class = class;
		return -1;
	}
	*pa = o.pa + (ipa & (o.size - 1));
	return 0;
}

static int walk(struct smmu_model *m, const struct walk *w, uint64_t in, struct walk_out *o,
		struct smmum_fault *f)
{
	uint64_t table = w->root;

	f->s2 = w->s2;
	f->ipa = in;
	f->class = SMMU_EVT_CLASS_IN;
	if (w->ias < 64 && (in >> w->ias)) {
		f->id = SMMU_EVT_F_TRANSLATION;
		return -1;
	}
	f->class = SMMU_EVT_CLASS_TT;
	for (unsigned int lvl = w->start; lvl <= 3; lvl++) {
		unsigned int shift = 12 + 9 * (3 - lvl);
		uint64_t daddr = table + ((in >> shift) & 511) * 8, d, pa;

		if (s2_fetch(m, w->s2w, daddr, &pa, f, SMMU_EVT_CLASS_TT))
			return -1;
		if (!smmum_read(pa, &d, 1)) {
			f->id = SMMU_EVT_F_WALK_EABT;
			f->s2 = w->s2;
			f->fetch = pa;
			return -1;
		}
		f->s2 = w->s2;
		f->ipa = in;
		if (!(d & ARM_VALID) || (lvl == 3 && !(d & ARM_TYPE)) ||
		    (lvl == 0 && !(d & ARM_TYPE))) {
			f->id = SMMU_EVT_F_TRANSLATION;
			return -1;
		}
		uint64_t addr = d & ARM_ADDR;
		if (addr >> w->oas) {
			f->id = SMMU_EVT_F_ADDR_SIZE;
			return -1;
		}
		if (lvl < 3 && (d & ARM_TYPE)) {
			table = addr;
			continue;
		}
		/* Leaf: a page (level 3) or a block (levels 1, 2). */
		if (!(d & ARM_AF)) {
			f->id = SMMU_EVT_F_ACCESS; /* no HTTU: software sets AF */
			return -1;
		}
		o->size = 1ull << shift;
		o->pa = addr & ~(o->size - 1);
		if (w->s2) {
			unsigned int ap = (unsigned int)FIELD_GET(ARM_S2_S2AP, d);
			o->perm = (uint8_t)(((ap & ARM_S2AP_R) ? SMMUM_P_R : 0) |
					    ((ap & ARM_S2AP_W) ? SMMUM_P_W : 0));
		} else {
			unsigned int ap = (unsigned int)FIELD_GET(ARM_S1_AP, d);
			/* Device traffic is unprivileged here: AP[1] must allow EL0. */
			if (!(ap & ARM_S1_AP_UNPRIV))
				o->perm = 0;
			else
				o->perm = (uint8_t)(SMMUM_P_R |
						    ((ap & ARM_S1_AP_RDONLY) ? 0 : SMMUM_P_W));
		}
		return 0;
	}
	f->id = SMMU_EVT_F_TRANSLATION;
	return -1;
}

/* ------------------------------------------------------------ config */

static bool bad(struct smmum_fault *f, uint32_t id)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	return false;
}

/* The STE of @sid, through the STE cache. */
static bool ste_get(struct smmu_model *m, uint32_t sid, uint64_t *ste, struct smmum_fault *f)
{
	struct smmum_cfgc *c = cfgc_find(m->stec, m->cfg.cfgc_size, sid, 0);
	unsigned int log2 = (unsigned int)FIELD_GET(SMMU_STRTAB_CFG_LOG2SIZE, m->strtab_cfg);
	uint64_t base = m->strtab_base & SMMU_STRTAB_BASE_ADDR, pa;
	/* The base's alignment follows LOG2SIZE as written, not SIDSIZE. */
	uint64_t lin_mask = ((uint64_t)SMMU_STE_SIZE << log2) - 1;

	if (c) {
		m->st.ste_hits++;
		memcpy(ste, c->w, sizeof(c->w));
		return true;
	}
	if (log2 > m->cfg.sidsize)
		log2 = m->cfg.sidsize;
	if (log2 < 32 && (sid >> log2))
		return bad(f, SMMU_EVT_C_BAD_STREAMID);
	if (FIELD_GET(SMMU_STRTAB_CFG_FMT, m->strtab_cfg) == 1 && m->cfg.st2l) {
		unsigned int split = (unsigned int)FIELD_GET(SMMU_STRTAB_CFG_SPLIT, m->strtab_cfg);
		uint64_t l1, span;

		if (split != 6 && split != 8 && split != 10)
			return bad(f, SMMU_EVT_C_BAD_STREAMID); /* reserved SPLIT */
		/* The base is aligned to the L1 table's size, at least 64
		 * bytes: the low bits are taken as zero (6.3.24). */
		if (log2 > split + 3)
			base &= ~((1ull << (log2 - split + 3)) - 1);
		(void)lin_mask;
		pa = base + (uint64_t)(sid >> split) * 8;
		if (!smmum_read(pa, &l1, 1)) {
			bad(f, SMMU_EVT_F_STE_FETCH);
			f->fetch = pa;
			return false;
		}
		span = FIELD_GET(SMMU_L1STD_SPAN, l1);
		if (span == 0 || span > split + 1 ||
		    (sid & ((1u << split) - 1)) >= (1ull << (span - 1)))
			return bad(f, SMMU_EVT_C_BAD_STE);
		/* L2Ptr[5 + Span - 1:0] are taken as zero: the L2 table is
		 * aligned to its size (5.1). */
		pa = ((l1 & SMMU_L1STD_L2PTR) & ~(((uint64_t)SMMU_STE_SIZE << (span - 1)) - 1)) +
		     (uint64_t)(sid & ((1u << split) - 1)) * SMMU_STE_SIZE;
	} else {
		pa = (base & ~lin_mask) + (uint64_t)sid * SMMU_STE_SIZE; /* aligned to its size */
	}
	if (!smmum_read(pa, ste, SMMU_STE_DWORDS)) {
		bad(f, SMMU_EVT_F_STE_FETCH);
		f->fetch = pa;
		return false;
	}
	if (ste[0] & SMMU_STE0_V) /* only valid entries are cached */
		cfgc_put(m, m->stec, sid, 0, ste);
	return true;
}

/* Stage 2 of an STE (S2 or nested). */
static bool s2_setup(struct smmu_model *m, const uint64_t *ste, struct walk *w,
		     struct smmum_fault *f)
{
	uint64_t vtcr = FIELD_GET(SMMU_STE2_VTCR, ste[2]);
	unsigned int t0sz = (unsigned int)FIELD_GET(ARM_VTCR_T0SZ, vtcr);
	unsigned int sl0 = (unsigned int)FIELD_GET(ARM_VTCR_SL0, vtcr);
	unsigned int ps = (unsigned int)FIELD_GET(ARM_VTCR_PS, vtcr);

	if (!(ste[2] & SMMU_STE2_S2AA64) || FIELD_GET(ARM_VTCR_TG0, vtcr) != ARM_TG0_4K ||
	    sl0 == 3 || t0sz < 16 || t0sz > 39 || (ste[3] & SMMU_STE3_S2TTB & 0xfffull))
		return bad(f, SMMU_EVT_C_BAD_STE);
	w->ias = 64 - t0sz;
	w->start = 2 - sl0;
	/* No concatenated start tables: the start level must be the one the
	 * input size needs (5.2, S2SL0/S2T0SZ consistency). */
	if (4 - w->start != (w->ias - 12 + 8) / 9)
		return bad(f, SMMU_EVT_C_BAD_STE);
	w->oas = smmu_oas_bits(ps);
	if (!w->oas || w->oas > m->cfg.oas)
		w->oas = m->cfg.oas;
	w->root = ste[3] & SMMU_STE3_S2TTB;
	w->s2 = true;
	w->s2w = NULL;
	return true;
}

/* The CD for @ssid of a stage-1 STE, through the CD cache (at IPAs via
 * @s2w when nested). */
static bool cd_get(struct smmu_model *m, uint32_t sid, uint32_t ssid, const uint64_t *ste,
		   const struct walk *s2w, uint64_t *cd, struct smmum_fault *f)
{
	struct smmum_cfgc *c = cfgc_find(m->cdc, m->cfg.cfgc_size, sid, ssid);
	unsigned int fmt = (unsigned int)FIELD_GET(SMMU_STE0_S1FMT, ste[0]);
	unsigned int cdmax = (unsigned int)FIELD_GET(SMMU_STE0_S1CDMAX, ste[0]);
	uint64_t base = ste[0] & SMMU_STE0_S1CTXPTR, ipa, pa;

	if (c) {
		m->st.cd_hits++;
		memcpy(cd, c->w, sizeof(c->w));
		return true;
	}
	/* S1Fmt != linear with substreams on an SMMU without CD2L is ILLEGAL;
	 * the reserved S1Fmt 3 behaves as linear (5.2 S1Fmt). */
	if (cdmax && fmt != SMMU_S1FMT_LINEAR && !m->cfg.cd2l)
		return bad(f, SMMU_EVT_C_BAD_STE);
	if (cdmax == 0 || (fmt != SMMU_S1FMT_4K_L2 && fmt != SMMU_S1FMT_64K_L2)) {
		/* A linear table is aligned to its size: S1ContextPtr[S1CDMax +
		 * 5:6] taken as zero (5.2 S1Fmt, one of the permitted
		 * behaviours when they are not). */
		ipa = (base & ~(((uint64_t)SMMU_CD_SIZE << cdmax) - 1)) +
		      (uint64_t)ssid * SMMU_CD_SIZE;
	} else {
		unsigned int leaf_bits = fmt == SMMU_S1FMT_4K_L2 ? 6 : 10;
		uint64_t l1, l1_size = cdmax > leaf_bits ? 8ull << (cdmax - leaf_bits) : 8;

		/* The L1 table is aligned to its size, at least 64 bytes. */
		base &= ~((l1_size > 64 ? l1_size : 64) - 1);
		ipa = base + (uint64_t)(ssid >> leaf_bits) * 8;
		memset(f, 0, sizeof(*f));
		if (s2_fetch(m, s2w, ipa, &pa, f, SMMU_EVT_CLASS_CD))
			return false;
		if (!smmum_read(pa, &l1, 1)) {
			bad(f, SMMU_EVT_F_CD_FETCH);
			f->fetch = pa;
			return false;
		}
		if (!(l1 & SMMU_L1CD_V))
			return bad(f, SMMU_EVT_C_BAD_SUBSTREAMID);
		/* Leaves are aligned to their size (4 KiB or 64 KiB). */
		ipa = ((l1 & SMMU_L1CD_L2PTR) & ~(((uint64_t)SMMU_CD_SIZE << leaf_bits) - 1)) +
		      (uint64_t)(ssid & ((1u << leaf_bits) - 1)) * SMMU_CD_SIZE;
	}
	memset(f, 0, sizeof(*f));
	if (s2_fetch(m, s2w, ipa, &pa, f, SMMU_EVT_CLASS_CD))
		return false;
	if (!smmum_read(pa, cd, SMMU_CD_DWORDS)) {
		bad(f, SMMU_EVT_F_CD_FETCH);
		f->fetch = pa;
		return false;
	}
	if (!(cd[0] & SMMU_CD0_V))
		return bad(f, SMMU_EVT_C_BAD_CD);
	cfgc_put(m, m->cdc, sid, ssid, cd);
	return true;
}

static bool s1_setup(struct smmu_model *m, const uint64_t *cd, struct walk *w,
		     struct smmum_fault *f)
{
	unsigned int t0sz = (unsigned int)FIELD_GET(SMMU_CD0_T0SZ, cd[0]);
	unsigned int ips = (unsigned int)FIELD_GET(SMMU_CD0_IPS, cd[0]);

	if (!(cd[0] & SMMU_CD0_AA64) || FIELD_GET(SMMU_CD0_TG0, cd[0]) != ARM_TG0_4K || t0sz < 16 ||
	    t0sz > 39 || (cd[0] & SMMU_CD0_ENDI) ||
	    (FIELD_GET(SMMU_CD0_ASID, cd[0]) > 0xff && !m->cfg.asid16))
		return bad(f, SMMU_EVT_C_BAD_CD);
	w->ias = 64 - t0sz;
	w->start = 4 - (w->ias - 12 + 8) / 9;
	w->oas = smmu_oas_bits(ips);
	if (!w->oas || w->oas > m->cfg.oas)
		w->oas = m->cfg.oas;
	w->root = cd[1] & SMMU_CD1_TTB0;
	w->s2 = false;
	return true;
}

/* ------------------------------------------------------------ translate */

int smmum_translate(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t iova, bool write,
		    uint64_t *pa, struct smmum_fault *f)
{
	uint64_t ste[SMMU_STE_DWORDS], cd[SMMU_CD_DWORDS];
	struct walk s1w, s2w;
	struct walk_out o1, o2;
	struct smmum_tlb t, *hit;
	unsigned int cfg;
	bool has_s1, has_s2;
	uint8_t need = write ? SMMUM_P_W : SMMUM_P_R;

	memset(f, 0, sizeof(*f));
	m->xl_cd_s = m->xl_s2s = false;
	if (!(m->cr0 & SMMU_CR0_SMMUEN)) {
		if (m->gbpa & SMMU_GBPA_ABORT)
			return -1; /* aborted, no event */
		*pa = iova;
		return 0;
	}
	if (!ste_get(m, sid, ste, f))
		return -1;
	cfg = (unsigned int)FIELD_GET(SMMU_STE0_CONFIG, ste[0]);
	if (!(ste[0] & SMMU_STE0_V) || (cfg != SMMU_STE_CFG_ABORT && cfg < SMMU_STE_CFG_BYPASS))
		return bad(f, SMMU_EVT_C_BAD_STE), -1;
	if (cfg == SMMU_STE_CFG_ABORT)
		return -1; /* abort, no event (5.2 Config) */
	if (cfg == SMMU_STE_CFG_BYPASS) {
		if (ssid != SMMUM_NO_SSID)
			return bad(f, SMMU_EVT_C_BAD_SUBSTREAMID), -1;
		*pa = iova;
		return 0;
	}
	has_s1 = cfg & 1u;
	has_s2 = cfg & 2u;
	if ((has_s1 && !m->cfg.s1) || (has_s2 && !m->cfg.s2))
		return bad(f, SMMU_EVT_C_BAD_STE), -1;
	if (has_s2 && !s2_setup(m, ste, &s2w, f))
		return -1;
	m->xl_s2s = has_s2 && (ste[2] & SMMU_STE2_S2S);
	uint16_t vmid = m->cfg.s2 ? (uint16_t)FIELD_GET(SMMU_STE2_S2VMID, ste[2]) : 0;
	if (!m->cfg.vmid16)
		vmid &= 0xff;

	if (has_s1) {
		unsigned int cdmax = (unsigned int)FIELD_GET(SMMU_STE0_S1CDMAX, ste[0]);
		uint32_t cdi = ssid;

		/* More SubstreamID bits than the SMMU has: ILLEGAL (5.2 S1CDMax). */
		if (cdmax > m->cfg.ssidsize)
			return bad(f, SMMU_EVT_C_BAD_STE), -1;
		if (ssid == SMMUM_NO_SSID) {
			unsigned int dss = (unsigned int)FIELD_GET(SMMU_STE1_S1DSS, ste[1]);
			cdi = 0;
			if (cdmax && dss == SMMU_S1DSS_TERMINATE)
				return bad(f, SMMU_EVT_F_STREAM_DISABLED), -1;
			if (cdmax && dss == SMMU_S1DSS_BYPASS)
				has_s1 = false; /* stage 1 bypassed */
			else if (cdmax && dss != SMMU_S1DSS_SSID0)
				return bad(f, SMMU_EVT_C_BAD_STE), -1;
		} else if (!cdmax || cdmax > m->cfg.ssidsize || (ssid >> cdmax) ||
			   (ssid == 0 && FIELD_GET(SMMU_STE1_S1DSS, ste[1]) == SMMU_S1DSS_SSID0)) {
			return bad(f, SMMU_EVT_C_BAD_SUBSTREAMID), -1;
		}
		if (has_s1) {
			if (!cd_get(m, sid, cdi, ste, has_s2 ? &s2w : NULL, cd, f))
				return -1;
			if (!s1_setup(m, cd, &s1w, f))
				return -1;
			m->xl_cd_s = (cd[0] & SMMU_CD0_S) && !(ste[1] & SMMU_STE1_S1STALLD);
			s1w.s2w = has_s2 ? &s2w : NULL;
			if (cd[0] & SMMU_CD0_EPD0) {
				bad(f, SMMU_EVT_F_TRANSLATION);
				f->class = SMMU_EVT_CLASS_IN;
				return -1;
			}
		}
	} else if (ssid != SMMUM_NO_SSID) {
		return bad(f, SMMU_EVT_C_BAD_SUBSTREAMID), -1;
	}

	uint16_t asid = has_s1 ? (uint16_t)FIELD_GET(SMMU_CD0_ASID, cd[0]) : 0;
	if (!m->cfg.asid16)
		asid &= 0xff;
	hit = tlb_find(m, has_s1, vmid, asid, iova);
	if (hit) {
		m->st.tlb_hits++;
		t = *hit;
		hit->stamp = ++m->stamp;
	} else {
		m->st.tlb_misses++;
		memset(&t, 0, sizeof(t));
		t.s1 = has_s1;
		t.vmid = vmid;
		t.asid = asid;
		uint64_t ipa = iova;
		t.perm = SMMUM_P_R | SMMUM_P_W;
		t.size = 1ull << 30;
		if (has_s1) {
			if (walk(m, &s1w, iova, &o1, f))
				return -1;
			t.perm = o1.perm;
			t.size = o1.size;
			ipa = o1.pa + (iova & (o1.size - 1));
		}
		t.perm2 = SMMUM_P_R | SMMUM_P_W;
		uint64_t out = ipa;
		if (has_s2) {
			if (walk(m, &s2w, ipa, &o2, f))
				return -1;
			t.perm2 = o2.perm;
			if (o2.size < t.size)
				t.size = o2.size;
			out = o2.pa + (ipa & (o2.size - 1));
		}
		t.va = iova & ~(t.size - 1);
		t.pa = out & ~(t.size - 1);
		t.ipa = ipa & ~(t.size - 1);
		tlb_put(m, &t);
	}
	if (!(t.perm & need)) {
		bad(f, SMMU_EVT_F_PERMISSION);
		f->class = SMMU_EVT_CLASS_IN;
		return -1;
	}
	if (!(t.perm2 & need)) {
		bad(f, SMMU_EVT_F_PERMISSION);
		f->s2 = true;
		f->ipa = t.ipa + (iova - t.va);
		f->class = SMMU_EVT_CLASS_IN;
		return -1;
	}
	*pa = t.pa + (iova - t.va);
	return 0;
}

/* ------------------------------------------------------------ DMA */

/* Stall mode (IHI 0070 3.12.2): a translation-class fault of a stage
 * that stalls parks the whole transaction under a new STAG; a full park
 * (IDR5.STALL_MAX) terminates it instead. */
static bool stall(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t iova, void *buf,
		  uint64_t len, bool write, struct smmum_fault *f)
{
	if (!m->cfg.stall || f->id < SMMU_EVT_F_TRANSLATION || f->id > SMMU_EVT_F_PERMISSION ||
	    !(f->s2 ? m->xl_s2s : m->xl_cd_s))
		return false;
	for (unsigned int i = 0; i < m->cfg.stall_max && i < SMMUM_STALL_MAX; i++) {
		struct smmum_stall *s = &m->stalls[i];

		if (s->valid)
			continue;
		*s = (struct smmum_stall){.valid = true,
					  .write = write,
					  .stag = m->next_stag++,
					  .sid = sid,
					  .ssid = ssid,
					  .iova = iova,
					  .len = len,
					  .buf = buf};
		f->stall = true;
		f->stag = s->stag;
		m->st.stalls++;
		return true;
	}
	return false;
}

int smmu_model_dma(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t iova, void *buf,
		   uint64_t len, bool write)
{
	struct smmum_fault f;
	uint64_t done = 0;

	if (m->magic != SMMUM_MAGIC)
		return -EIO;
	if (ssid != SMMUM_NO_SSID && ssid >= (1u << 20))
		return -EINVAL;
	if (iova + len < iova)
		return -EINVAL;
	/* Translate every page first: a blocked access moves no byte. */
	for (uint64_t a = iova; a < iova + len;
	     a = ALIGN_DOWN_ULL(a, UENV_PAGE_SIZE) + UENV_PAGE_SIZE) {
		uint64_t pa;

		if (smmum_translate(m, sid, ssid, a, write, &pa, &f)) {
			if (f.id && stall(m, sid, ssid, iova, buf, len, write, &f)) {
				smmum_event(m, sid, ssid, a, write, &f);
				return -EAGAIN; /* parked until CMD_RESUME */
			}
			if (f.id)
				smmum_event(m, sid, ssid, a, write, &f);
			m->st.dma_faults++;
			return -EFAULT;
		}
	}
	while (done < len) {
		uint64_t a = iova + done, pa;
		uint64_t n = UENV_PAGE_SIZE - (a & (UENV_PAGE_SIZE - 1));
		uint8_t *p;

		if (n > len - done)
			n = len - done;
		if (smmum_translate(m, sid, ssid, a, write, &pa, &f))
			return -EFAULT; /* cannot change between the passes */
		p = mem(pa, n, true);
		if (!p)
			return -EIO; /* not memory the model can reach */
		if (write)
			memcpy(p, (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, p, n);
		done += n;
	}
	m->st.dma_ok++;
	return 0;
}

/* ------------------------------------------------------------ ops */

static int sm_create(const char *cfg, void **out)
{
	struct smmu_model_cfg c;
	struct smmu_model *m;
	int rc;

	smmu_model_cfg_default(&c);
	rc = smmu_model_cfg_parse(&c, cfg);
	if (rc)
		return rc;
	rc = smmu_model_create(&c, &m);
	if (!rc)
		*out = m;
	return rc;
}

static void sm_destroy(void *m)
{
	smmu_model_destroy(m);
}

static uint64_t sm_reg_size(const void *m)
{
	(void)m;
	return SMMU_REG_SIZE;
}

static int sm_dma(void *m, uint32_t hw_id, uint32_t pasid, uint64_t iova, void *buf, uint64_t len,
		  bool write)
{
	return smmu_model_dma(m, hw_id, pasid == UIOMMU_NO_PASID ? SMMUM_NO_SSID : pasid, iova, buf,
			      len, write);
}

const struct uiommu_model_ops smmuv3_model_ops = {
	.family = UIOMMU_FAMILY_SMMUV3,
	.name = "smmuv3",
	.what = "SMMUv3",
	.create = sm_create,
	.destroy = sm_destroy,
	.reg_size = sm_reg_size,
	.io = &smmu_model_io,
	.dma = sm_dma,
};
