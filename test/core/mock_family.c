/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "mock_family.h"

uint32_t mock_next_ias = 48;
uint64_t mock_next_pgsizes = (1ull << 12) | (1ull << 21) | (1ull << 30);
unsigned int mock_fail_dev_set;
unsigned int mock_fail_dev_release;
unsigned int mock_dev_releases;
unsigned int mock_unit_finis;

struct mock_unit *mock_of(struct uiommu_unit *u)
{
	return u->priv;
}

static int mock_unit_init(struct uiommu_unit *u, const struct uiommu_unit_desc *desc)
{
	struct mock_unit *m = uenv_zalloc(sizeof(*m));

	(void)desc;
	if (!m)
		return -ENOMEM;
	m->ias = mock_next_ias;
	u->priv = m;
	u->caps.pgsize_bitmap = mock_next_pgsizes;
	u->caps.s1_pgsize_bitmap = (1ull << 12) | (1ull << 21);
	u->caps.ias = m->ias;
	u->caps.oas = 48;
	u->caps.pasid_bits = 20;
	u->caps.num_domains = 64;
	u->caps.nesting = true;
	u->caps.stage1 = true;
	u->caps.stage2 = true;
	u->caps.coherent = true;
	u->caps.queued_inv = true;
	u->caps.pass_through = true;
	u->did_min = 1;
	u->hw_info.u.vtd.ver = 0x10;
	return 0;
}

static void mock_unit_fini(struct uiommu_unit *u)
{
	mock_unit_finis++;
	uenv_free(u->priv);
	u->priv = NULL;
}

static int mock_unit_adopt(struct uiommu_unit *u)
{
	mock_of(u)->adopted++;
	return 0;
}

static void mock_unit_leave(struct uiommu_unit *u)
{
	(void)u;
}

/* The device's driver state goes; the Nth call (mock_fail_dev_release)
 * says the invalidation of what the unit cached for it failed. */
static int mock_dev_release(struct uiommu_unit *u, struct uiommu_device *dev)
{
	(void)u;
	(void)dev;
	mock_dev_releases++;
	if (mock_fail_dev_release && --mock_fail_dev_release == 0)
		return -EIO;
	return 0;
}

static int mock_pgt_config(struct uiommu_unit *u, bool stage1, bool nest_parent,
			   struct pgt_cfg *cfg)
{
	(void)nest_parent;
	memset(cfg, 0, sizeof(*cfg));
	cfg->fmt = stage1 ? PGT_X86_FL : PGT_VTD_SL;
	cfg->ias = mock_of(u)->ias;
	cfg->oas = 48;
	cfg->pgsize_bitmap = stage1 ? u->caps.s1_pgsize_bitmap : u->caps.pgsize_bitmap;
	cfg->coherent = true;
	cfg->node = -1;
	return 0;
}

static bool mock_pgt_compatible(struct uiommu_unit *u, const struct pgt_cfg *cfg)
{
	return cfg->ias <= mock_of(u)->ias;
}

struct mock_slot *mock_slot_find(struct uiommu_unit *u, uint32_t hw_id, uint32_t pasid)
{
	struct mock_unit *m = mock_of(u);

	for (int i = 0; i < MOCK_MAX_SLOTS; i++)
		if (m->slots[i].used && m->slots[i].hw_id == hw_id && m->slots[i].pasid == pasid)
			return &m->slots[i];
	return NULL;
}

static int mock_dev_set(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
			const struct fam_attach *a)
{
	struct mock_unit *m = mock_of(u);
	struct mock_slot *s;

	if (mock_fail_dev_set && --mock_fail_dev_set == 0)
		return -EIO;
	s = mock_slot_find(u, dev->desc.hw_id, pasid);
	if (a->kind == FAM_ATTACH_BLOCKED) {
		if (s)
			memset(s, 0, sizeof(*s));
		return 0;
	}
	if (!s) {
		for (int i = 0; i < MOCK_MAX_SLOTS && !s; i++)
			if (!m->slots[i].used)
				s = &m->slots[i];
		if (!s)
			return -ENOSPC;
	}
	s->used = 1;
	s->hw_id = dev->desc.hw_id;
	s->pasid = pasid;
	s->kind = a->kind;
	s->did = a->did;
	s->root = a->kind == FAM_ATTACH_NESTED	  ? a->s1->u.vtd.flptr
		  : a->kind == FAM_ATTACH_PAGING ? a->cfg->root_pa
						 : 0;
	s->s2_did = a->s2_did;
	return 0;
}

static int mock_flush(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n)
{
	(void)f;
	mock_of(u)->flush_calls++;
	mock_of(u)->flush_entries += n;
	return 0;
}

static int mock_cache_invalidate(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
				 const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done)
{
	(void)vmid;
	(void)s1_did;
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type < UIOMMU_INV_S1_ALL || e[i].type > UIOMMU_INV_CFG)
			return -EINVAL;
		mock_of(u)->inv_cmds++;
		*done = i + 1;
	}
	return 0;
}

static uint16_t mock_poll(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max)
{
	struct mock_unit *m = mock_of(u);
	uint16_t n = 0;

	while (m->pending_events && n < max) {
		memset(&ev[n], 0, sizeof(ev[n]));
		ev[n].type = UIOMMU_EV_FAULT;
		ev[n].hw_id = 0x10;
		ev[n].pasid = UIOMMU_NO_PASID;
		ev[n].addr = 0x1000ull * m->pending_events;
		ev[n].flags = UIOMMU_EV_WRITE;
		ev[n].reason = 5;
		ev[n].reason_text = "mock: write to a not-present page";
		m->pending_events--;
		n++;
	}
	return n;
}

const struct uiommu_family_ops mock_family_ops = {
	.name = "mock",
	.family = UIOMMU_FAMILY_VTD,
	.unit_init = mock_unit_init,
	.unit_fini = mock_unit_fini,
	.unit_adopt = mock_unit_adopt,
	.unit_leave = mock_unit_leave,
	.unit_resv = fam_resv_x86_msi, /* an x86 family, like the one it stands in for */
	.pgt_config = mock_pgt_config,
	.pgt_compatible = mock_pgt_compatible,
	.dev_set = mock_dev_set,
	.dev_release = mock_dev_release,
	.flush = mock_flush,
	.cache_invalidate = mock_cache_invalidate,
	.poll = mock_poll,
};

uint64_t mock_translate(struct uiommu_ctx *ctx, struct uiommu_unit *u, uint32_t hw_id,
			uint32_t pasid, uint64_t iova)
{
	struct mock_slot *s = mock_slot_find(u, hw_id, pasid);

	if (!s || s->kind != FAM_ATTACH_PAGING)
		return UINT64_MAX;
	/* Find the HWPT whose root the "hardware" points at. */
	for (struct uiommu_hwpt *h = uiommu_hwpt_next(ctx, NULL); h; h = uiommu_hwpt_next(ctx, h))
		if (!h->nested && h->cfg.root_pa == s->root)
			return pgt_iova_to_phys(h->pgt, iova);
	return UINT64_MAX;
}
