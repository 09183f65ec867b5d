/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VT-d model: configuration, creation, and the register file.
 *
 * Register semantics (spec ch. 11): VER/CAP/ECAP/GSTS/IQH/PQT/IQERCD are
 * read-only; FSTS, ICS, PRS and FRCD.F are write-1-to-clear; GCMD is
 * write-only and executes commands (its reads return 0); CCMD.ICC and
 * IOTLB.IVT execute register-based invalidations and clear when done; a
 * write to IQT processes the invalidation queue synchronously.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_cfg.h"
#include "model/vtd/vtd_model_internal.h"

void vtd_model_cfg_default(struct vtd_model_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->sagaw = (uint8_t)(VTD_SAGAW_48 | VTD_SAGAW_57);
	c->sllps = (uint8_t)(VTD_SLLPS_2M | VTD_SLLPS_1G);
	c->nd = 6;
	c->mgaw = 57;
	c->mamv = 18;
	c->nfr = 8;
	c->pasid_bits = 20;
	c->smts = c->qi = c->coherent = true;
	c->flts = c->slts = c->nest = c->prs = true;
	c->pt = c->sc = c->dt = c->psi = true;
	c->fl1gp = c->fl5lp = c->srs = true;
	c->ers = false;
	c->iotlb_size = 256;
	c->ctx_cache_size = 64;
	c->pasid_cache_size = 64;
}

static const struct model_key cfg_keys[] = {
	MODEL_KEY_NUM(struct vtd_model_cfg, "sagaw", sagaw, 0x2, 0xe), MODEL_KEY_NUM(struct vtd_model_cfg, "sllps", sllps, 0, 3), MODEL_KEY_NUM(struct vtd_model_cfg, "nd", nd, 0, 6),
	MODEL_KEY_NUM(struct vtd_model_cfg, "mgaw", mgaw, 39, 57), MODEL_KEY_NUM(struct vtd_model_cfg, "mamv", mamv, 0, 63), MODEL_KEY_NUM(struct vtd_model_cfg, "nfr", nfr, 1, VTDM_NFR_MAX),
	MODEL_KEY_NUM(struct vtd_model_cfg, "pasid", pasid_bits, 0, 20), MODEL_KEY_BOOL(struct vtd_model_cfg, "smts", smts), MODEL_KEY_BOOL(struct vtd_model_cfg, "qi", qi), MODEL_KEY_BOOL(struct vtd_model_cfg, "coherent", coherent),
	MODEL_KEY_BOOL(struct vtd_model_cfg, "flts", flts), MODEL_KEY_BOOL(struct vtd_model_cfg, "slts", slts), MODEL_KEY_BOOL(struct vtd_model_cfg, "nest", nest), MODEL_KEY_BOOL(struct vtd_model_cfg, "prs", prs), MODEL_KEY_BOOL(struct vtd_model_cfg, "pt", pt),
	MODEL_KEY_BOOL(struct vtd_model_cfg, "sc", sc), MODEL_KEY_BOOL(struct vtd_model_cfg, "dt", dt), MODEL_KEY_BOOL(struct vtd_model_cfg, "psi", psi), MODEL_KEY_BOOL(struct vtd_model_cfg, "fl1gp", fl1gp), MODEL_KEY_BOOL(struct vtd_model_cfg, "fl5lp", fl5lp),
	MODEL_KEY_BOOL(struct vtd_model_cfg, "srs", srs), MODEL_KEY_BOOL(struct vtd_model_cfg, "ers", ers), MODEL_KEY_NUM(struct vtd_model_cfg, "iotlb", iotlb_size, 1, 65536),
	MODEL_KEY_NUM(struct vtd_model_cfg, "ctxc", ctx_cache_size, 1, 65536), MODEL_KEY_NUM(struct vtd_model_cfg, "pasidc", pasid_cache_size, 1, 65536),
};

int vtd_model_cfg_parse(struct vtd_model_cfg *cfg, const char *s)
{
	struct vtd_model_cfg c = *cfg;
	int rc = model_cfg_parse(&c, sizeof(c), cfg_keys, ARRAY_SIZE(cfg_keys), s, "VT-d");

	if (rc)
		return rc;
	if (c.sagaw & 0x11)
		return -EINVAL; /* only 39/48/57-bit tables */
	*cfg = c;
	return 0;
}

/* Build CAP/ECAP from the configuration. */
static void regs_init(struct vtd_model *m)
{
	const struct vtd_model_cfg *c = &m->cfg;
	uint64_t cap, ecap;

	cap = FIELD_PREP(VTD_CAP_ND, c->nd) | FIELD_PREP(VTD_CAP_SAGAW, c->sagaw) |
	      FIELD_PREP(VTD_CAP_MGAW, c->mgaw - 1u) | FIELD_PREP(VTD_CAP_FRO, VTDM_FRO_OFF / 16) |
	      FIELD_PREP(VTD_CAP_SLLPS, c->sllps) | FIELD_PREP(VTD_CAP_NFR, c->nfr - 1u) |
	      FIELD_PREP(VTD_CAP_MAMV, c->mamv) | VTD_CAP_DWD | VTD_CAP_DRD;
	if (c->psi)
		cap |= VTD_CAP_PSI;
	if (c->flts && c->fl1gp)
		cap |= VTD_CAP_FL1GP;
	if (c->flts && c->fl5lp)
		cap |= VTD_CAP_FL5LP;

	ecap = FIELD_PREP(VTD_ECAP_IRO, VTDM_IRO_OFF / 16);
	if (c->coherent)
		ecap |= VTD_ECAP_C;
	if (c->qi)
		ecap |= VTD_ECAP_QI;
	if (c->qi && c->dt)
		ecap |= VTD_ECAP_DT;
	if (c->pt)
		ecap |= VTD_ECAP_PT;
	if (c->sc)
		ecap |= VTD_ECAP_SC;
	if (c->smts) {
		ecap |= VTD_ECAP_SMTS;
		if (c->coherent)
			ecap |= VTD_ECAP_SMPWC;
		if (c->slts)
			ecap |= VTD_ECAP_SLTS;
		if (c->flts)
			ecap |= VTD_ECAP_FLTS;
		if (c->nest)
			ecap |= VTD_ECAP_NEST;
		if (c->pasid_bits) {
			ecap |= VTD_ECAP_PASID | FIELD_PREP(VTD_ECAP_PSS, c->pasid_bits - 1u);
			if (c->prs)
				ecap |= VTD_ECAP_PRS;
		}
		if (c->srs)
			ecap |= VTD_ECAP_SRS;
		if (c->ers)
			ecap |= VTD_ECAP_ERS;
	}
	vtdm_w32(m, VTD_REG_VER, 0x10);
	vtdm_w64(m, VTD_REG_CAP, cap);
	vtdm_w64(m, VTD_REG_ECAP, ecap);
}

int vtd_model_create(const struct vtd_model_cfg *cfg, struct vtd_model **out)
{
	struct vtd_model_cfg c;
	struct vtd_model *m;

	if (cfg)
		c = *cfg;
	else
		vtd_model_cfg_default(&c);
	if (!c.sagaw || (c.sagaw & 0x11) || c.nd > 6 || c.nfr < 1 || c.nfr > VTDM_NFR_MAX ||
	    c.mgaw < 39 || c.mgaw > 57 || c.pasid_bits > 20 || !c.iotlb_size ||
	    !c.ctx_cache_size || !c.pasid_cache_size)
		return -EINVAL;
	if (!c.smts) /* scalable-mode-only features */
		c.flts = c.slts = c.nest = c.prs = false, c.pasid_bits = 0;
	if (!c.flts)
		c.nest = false;
	if (!c.slts && c.smts)
		c.nest = false;
	if (!c.pasid_bits)
		c.prs = false;
	if (!c.qi) /* page requests are answered through the queue */
		c.prs = false, c.dt = false;

	m = uenv_zalloc(sizeof(*m));
	if (!m)
		goto fail;
	m->iotlb = uenv_zalloc(c.iotlb_size * sizeof(*m->iotlb));
	if (!m->iotlb)
		goto free_model;
	m->ctxc = uenv_zalloc(c.ctx_cache_size * sizeof(*m->ctxc));
	if (!m->ctxc)
		goto free_iotlb;
	m->pc = uenv_zalloc(c.pasid_cache_size * sizeof(*m->pc));
	if (!m->pc)
		goto free_ctxc;
	m->magic = VTDM_MAGIC;
	m->cfg = c;
	m->reg_size = VTD_REG_SIZE;
	regs_init(m);
	*out = m;
	return 0;

free_ctxc:
	uenv_free(m->ctxc);
free_iotlb:
	uenv_free(m->iotlb);
free_model:
	uenv_free(m);
fail:
	return -ENOMEM;
}

int vtd_model_create_str(const char *s, struct vtd_model **out)
{
	struct vtd_model_cfg c;
	int rc;

	vtd_model_cfg_default(&c);
	rc = vtd_model_cfg_parse(&c, s);
	if (rc)
		return rc;
	return vtd_model_create(&c, out);
}

void vtd_model_destroy(struct vtd_model *m)
{
	if (!m)
		return;
	m->magic = 0;
	uenv_free(m->pc);
	uenv_free(m->ctxc);
	uenv_free(m->iotlb);
	uenv_free(m);
}

uint32_t vtd_model_reg_size(const struct vtd_model *m)
{
	return m->reg_size;
}

/* ------------------------------------------------------------ commands */

static void gcmd_write(struct vtd_model *m, uint32_t cmd)
{
	uint32_t gsts = vtdm_r32(m, VTD_REG_GSTS);
	uint64_t ecap = vtdm_ecap(m);

	if (cmd & VTD_GCMD_SRTP) {
		uint64_t rt = vtdm_r64(m, VTD_REG_RTADDR);
		m->rta = rt & VTD_RTADDR_RTA;
		m->ttm = (uint8_t)FIELD_GET(VTD_RTADDR_TTM, rt);
		gsts |= VTD_GSTS_RTPS;
		VTDM_LOG(DEBUG, "SRTP rta=0x%llx ttm=%u", (unsigned long long)m->rta, m->ttm);
	}
	if (cmd & VTD_GCMD_WBF)
		gsts &= ~(uint32_t)VTD_GSTS_WBFS; /* completes at once */
	if (cmd & VTD_GCMD_SIRTP)
		gsts |= VTD_GSTS_IRTPS;
	if (cmd & VTD_GCMD_SFL)
		gsts |= VTD_GSTS_FLS;

	if ((cmd & VTD_GCMD_TE) && !(gsts & VTD_GSTS_TES))
		gsts |= VTD_GSTS_TES;
	else if (!(cmd & VTD_GCMD_TE) && (gsts & VTD_GSTS_TES))
		gsts &= ~(uint32_t)VTD_GSTS_TES;

	if ((cmd & VTD_GCMD_QIE) && !(gsts & VTD_GSTS_QIES) && (ecap & VTD_ECAP_QI)) {
		uint64_t iqa = vtdm_r64(m, VTD_REG_IQA);
		m->dw = (uint8_t)FIELD_GET(VTD_IQA_DW, iqa);
		vtdm_w64(m, VTD_REG_IQH, 0); /* the queue starts at its base */
		gsts |= VTD_GSTS_QIES;
		vtdm_w32(m, VTD_REG_GSTS, gsts);
		vtdm_qi_run(m);
		gsts = vtdm_r32(m, VTD_REG_GSTS);
	} else if (!(cmd & VTD_GCMD_QIE) && (gsts & VTD_GSTS_QIES)) {
		gsts &= ~(uint32_t)VTD_GSTS_QIES;
		vtdm_w64(m, VTD_REG_IQH, 0);
	}
	/* Interrupt remapping is not modelled; the status follows the command. */
	gsts = (gsts & ~(uint32_t)(VTD_GSTS_IRES | VTD_GSTS_CFIS)) |
	       (cmd & (uint32_t)(VTD_GCMD_IRE | VTD_GCMD_CFI));
	vtdm_w32(m, VTD_REG_GSTS, gsts);
}

static void ccmd_exec(struct vtd_model *m)
{
	uint64_t v = vtdm_r64(m, VTD_REG_CCMD);
	unsigned int g = (unsigned int)FIELD_GET(VTD_CCMD_CIRG, v);

	v &= ~(VTD_CCMD_ICC | VTD_CCMD_CAIG);
	if (vtdm_r32(m, VTD_REG_GSTS) & VTD_GSTS_QIES) {
		/* Register-based invalidation is not available while QI is on. */
		VTDM_LOG(WARNING, "CCMD written with queued invalidation enabled: ignored");
	} else if (g) {
		vtdm_inv_ctx(m, g, (uint16_t)FIELD_GET(VTD_CCMD_DID, v),
			     (uint16_t)FIELD_GET(VTD_CCMD_SID, v),
			     (unsigned int)FIELD_GET(VTD_CCMD_FM, v));
		v |= FIELD_PREP(VTD_CCMD_CAIG, g);
	}
	vtdm_w64(m, VTD_REG_CCMD, v);
}

static void iotlb_exec(struct vtd_model *m)
{
	uint32_t off = VTDM_IRO_OFF + VTD_REG_IOTLB_OFF;
	uint64_t v = vtdm_r64(m, off), iva = vtdm_r64(m, VTDM_IRO_OFF + VTD_REG_IVA_OFF);
	unsigned int g = (unsigned int)FIELD_GET(VTD_IOTLB_IIRG, v);

	v &= ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG);
	if (vtdm_r32(m, VTD_REG_GSTS) & VTD_GSTS_QIES) {
		VTDM_LOG(WARNING, "IOTLB register written with queued invalidation enabled: ignored");
	} else if (g) {
		/* Without PSI, page-selective requests are performed domain-wide. */
		if (g == VTD_IOTLB_G_PAGE && !(vtdm_cap(m) & VTD_CAP_PSI))
			g = VTD_IOTLB_G_DOMAIN;
		vtdm_inv_iotlb(m, g, (uint16_t)FIELD_GET(VTD_IOTLB_DID, v),
			       iva & VTD_IVA_ADDR, (unsigned int)FIELD_GET(VTD_IVA_AM, iva));
		v |= FIELD_PREP(VTD_IOTLB_IAIG, g);
	}
	vtdm_w64(m, off, v);
}

/* ------------------------------------------------------------ register file */

/* Bits of each register software may write (plain RW storage). */
static uint64_t rw_mask(const struct vtd_model *m, uint32_t off8)
{
	switch (off8) {
	case VTD_REG_RTADDR:
		return VTD_RTADDR_RTA | VTD_RTADDR_TTM;
	case VTD_REG_CCMD:
		return ~VTD_CCMD_CAIG;
	case 0x38: /* FECTL (IM) | FEDATA */
		return VTD_FECTL_IM | (0xffffffffULL << 32);
	case 0x40: /* FEADDR | FEUADDR */
	case VTD_REG_PHMBASE:
	case VTD_REG_PHMLIMIT:
		return ~0ULL;
	case VTD_REG_AFLOG:
		return 0; /* no advanced fault logging */
	case 0x60: /* PMEN in the high half */
		return (uint64_t)VTD_PMEN_EPM << 32;
	case 0x68: /* PLMBASE | PLMLIMIT */
		return ~0ULL;
	case VTD_REG_IQT:
		return VTD_IQT_QT;
	case VTD_REG_IQA:
		return VTD_IQA_IQA | VTD_IQA_QS |
		       ((vtdm_ecap(m) & VTD_ECAP_SMTS) ? VTD_IQA_DW : 0);
	case 0xa0: /* IECTL | IEDATA */
		return VTD_IECTL_IM | (0xffffffffULL << 32);
	case 0xa8: /* IEADDR | IEUADDR */
		return ~0ULL;
	case VTD_REG_IRTA:
		return VTD_IRTA_IRTA | VTD_IRTA_EIME | VTD_IRTA_S;
	case VTD_REG_PQH:
		return VTD_PQH_PQH;
	case VTD_REG_PQA:
		return VTD_PQA_PQA | VTD_PQA_PQS;
	case 0xe0: /* PECTL | PEDATA */
		return VTD_PECTL_IM | (0xffffffffULL << 32);
	case 0xe8: /* PEADDR | PEUADDR */
		return ~0ULL;
	case VTDM_IRO_OFF + VTD_REG_IVA_OFF:
		return VTD_IVA_ADDR | VTD_IVA_IH | VTD_IVA_AM;
	case VTDM_IRO_OFF + VTD_REG_IOTLB_OFF:
		return ~VTD_IOTLB_IAIG;
	default:
		return 0;
	}
}

/* Write-1-to-clear bits of each 8-byte slot. */
static uint64_t rw1c_mask(const struct vtd_model *m, uint32_t off8)
{
	uint32_t fro = VTDM_FRO_OFF, nfr = m->cfg.nfr;

	if (off8 == 0x30) /* FSTS in the high half */
		return VTD_FSTS_RW1C << 32;
	if (off8 == 0x98) /* ICS in the high half */
		return VTD_ICS_IWC << 32;
	if (off8 == 0xd8) /* PRS in the high half */
		return (VTD_PRS_PPR | VTD_PRS_PRO) << 32;
	if (off8 >= fro && off8 < fro + nfr * 16 && ((off8 - fro) & 15) == 8)
		return VTD_FRCD_Q1_F;
	return 0;
}

static uint64_t model_read(void *priv, uint32_t off, unsigned int size)
{
	struct vtd_model *m = priv;
	uint64_t v = 0;

	if ((size != 4 && size != 8) || (off & (size - 1)) || off + size > m->reg_size)
		return ~0ULL >> (64 - 8 * size);
	uenv_lock(&m->lock);
	memcpy(&v, m->regs + off, size);
	uenv_unlock(&m->lock);
	/* GCMD is write-only. */
	if (off <= VTD_REG_GCMD && off + size > VTD_REG_GCMD)
		v &= size == 8 ? ~0xffffffffULL : 0;
	return v;
}

static void model_write(void *priv, uint32_t off, uint64_t val, unsigned int size)
{
	struct vtd_model *m = priv;
	uint32_t off8 = off & ~7u, shift = (off & 4u) * 8u;
	uint64_t wmask = size == 8 ? ~0ULL : 0xffffffffULL << shift;
	uint64_t nv = size == 8 ? val : (uint64_t)(uint32_t)val << shift;
	uint64_t old, rw, w1c;

	if ((size != 4 && size != 8) || (off & (size - 1)) || off + size > m->reg_size)
		return;
	uenv_lock(&m->lock);
	old = vtdm_r64(m, off8);

	if (off8 == 0x18 && (wmask & 0xffffffffULL)) { /* GCMD (low half of 0x18) */
		gcmd_write(m, (uint32_t)nv);
		goto out;
	}
	rw = rw_mask(m, off8) & wmask;
	w1c = rw1c_mask(m, off8) & wmask;
	vtdm_w64(m, off8, (old & ~rw & ~(nv & w1c)) | (nv & rw));

	switch (off8) {
	case VTD_REG_CCMD:
		if ((wmask & VTD_CCMD_ICC) && (nv & VTD_CCMD_ICC))
			ccmd_exec(m);
		break;
	case VTDM_IRO_OFF + VTD_REG_IOTLB_OFF:
		if ((wmask & VTD_IOTLB_IVT) && (nv & VTD_IOTLB_IVT))
			iotlb_exec(m);
		break;
	case VTD_REG_IQT:
		vtdm_qi_run(m);
		break;
	case 0x60: { /* PMEN: PRS follows EPM */
		uint32_t pmen = vtdm_r32(m, VTD_REG_PMEN) & (uint32_t)VTD_PMEN_EPM;
		vtdm_w32(m, VTD_REG_PMEN, pmen | (pmen ? (uint32_t)VTD_PMEN_PRS : 0));
		break;
	}
	case 0x30: /* FSTS: clearing IQE resumes the queue at IQH */
		vtdm_fsts_update(m);
		if ((old & (VTD_FSTS_IQE << 32)) && (nv & w1c & (VTD_FSTS_IQE << 32)))
			vtdm_qi_run(m);
		break;
	case 0x98: /* ICS: clearing IWC clears IECTL.IP */
		if (!(vtdm_r32(m, VTD_REG_ICS) & VTD_ICS_IWC))
			vtdm_w32(m, VTD_REG_IECTL,
				 vtdm_r32(m, VTD_REG_IECTL) & ~(uint32_t)VTD_IECTL_IP);
		break;
	case 0xd8: /* PRS */
		if (!(vtdm_r32(m, VTD_REG_PRS) & (VTD_PRS_PPR | VTD_PRS_PRO)))
			vtdm_w32(m, VTD_REG_PECTL,
				 vtdm_r32(m, VTD_REG_PECTL) & ~(uint32_t)VTD_PECTL_IP);
		break;
	default:
		if (w1c) /* a fault record's F bit */
			vtdm_fsts_update(m);
		break;
	}
out:
	uenv_unlock(&m->lock);
}

const struct uiommu_model_io vtd_model_io = {
	.read = model_read,
	.write = model_write,
};

void vtd_model_regio(struct vtd_model *m, struct uiommu_regio *r)
{
	r->base = NULL;
	r->size = m->reg_size;
	r->model = &vtd_model_io;
	r->model_priv = m;
}

void vtd_model_get_stats(struct vtd_model *m, struct vtd_model_stats *st)
{
	uint32_t n = 0;

	uenv_lock(&m->lock);
	*st = m->st;
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++)
		n += m->iotlb[i].lru != 0;
	st->iotlb_used = n;
	n = 0;
	for (uint32_t i = 0; i < m->cfg.ctx_cache_size; i++)
		n += m->ctxc[i].lru != 0;
	st->ctx_used = n;
	n = 0;
	for (uint32_t i = 0; i < m->cfg.pasid_cache_size; i++)
		n += m->pc[i].lru != 0;
	st->pc_used = n;
	uenv_unlock(&m->lock);
}

void vtd_model_flush_caches(struct vtd_model *m)
{
	uenv_lock(&m->lock);
	vtdm_inv_all(m);
	uenv_unlock(&m->lock);
}
