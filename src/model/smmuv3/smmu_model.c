/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMMUv3 model: settings, the register file and the command queue.
 *
 * Register semantics (IHI 0070 6.3): IDRx/IIDR/AIDR read-only; CR0ACK
 * follows CR0 at once; GBPA changes only by a write with Update set, which
 * the model completes at once (Update reads 0); GERROR is read-only and an
 * error is active while a GERROR bit differs from GERRORN; the queue bases
 * and CMDQ_CONS / EVTQ_PROD / PRIQ_PROD are writable only while their queue
 * is disabled, STRTAB_BASE* only while SMMUEN is 0.  A write to CMDQ_PROD
 * executes the queue up to it, synchronously.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_cfg.h"
#include "model/smmuv3/smmu_model_internal.h"

/* ------------------------------------------------------------ settings */

void smmu_model_cfg_default(struct smmu_model_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->sidsize = 16;
	c->ssidsize = 20;
	c->oas = 48;
	c->cmdqs = 19;
	c->evtqs = 19;
	c->priqs = 19;
	c->st2l = c->cd2l = c->s1 = c->s2 = true;
	c->asid16 = c->vmid16 = c->ril = c->cohacc = true;
	c->pri = false;
	c->tlb_size = 256;
	c->cfgc_size = 64;
	c->stall_max = 8;
	c->oasenc = SMMUM_OASENC_OAS;
}

static const struct model_key smmum_keys[] = {
	MODEL_KEY_NUM(struct smmu_model_cfg, "sidsize", sidsize, 1, 24),
	MODEL_KEY_NUM(struct smmu_model_cfg, "ssidsize", ssidsize, 0, 20),
	MODEL_KEY_NUM(struct smmu_model_cfg, "oas", oas, 32, 48),
	MODEL_KEY_NUM(struct smmu_model_cfg, "cmdqs", cmdqs, 1, 19),
	MODEL_KEY_NUM(struct smmu_model_cfg, "evtqs", evtqs, 1, 19),
	MODEL_KEY_NUM(struct smmu_model_cfg, "priqs", priqs, 1, 19),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "st2l", st2l),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "cd2l", cd2l),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "s1", s1),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "s2", s2),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "asid16", asid16),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "vmid16", vmid16),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "ril", ril),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "cohacc", cohacc),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "pri", pri),
	MODEL_KEY_NUM(struct smmu_model_cfg, "busy", busy, 0, 2),
	MODEL_KEY_NUM(struct smmu_model_cfg, "oasenc", oasenc, 0, 7),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "bypass", bypass),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "preset", preset),
	MODEL_KEY_BOOL(struct smmu_model_cfg, "stall", stall),
	MODEL_KEY_NUM(struct smmu_model_cfg, "stallmax", stall_max, 1, SMMUM_STALL_MAX),
	MODEL_KEY_NUM(struct smmu_model_cfg, "tlb", tlb_size, 1, 65536),
	MODEL_KEY_NUM(struct smmu_model_cfg, "cfgc", cfgc_size, 1, 65536),
};

int smmu_model_cfg_parse(struct smmu_model_cfg *cfg, const char *s)
{
	struct smmu_model_cfg c = *cfg;
	int rc = model_cfg_parse(&c, sizeof(c), smmum_keys, ARRAY_SIZE(smmum_keys), s, "SMMUv3");

	if (rc)
		return rc;
	if (!c.s1 && !c.s2)
		return -EINVAL; /* an SMMU translates at one stage at least */
	*cfg = c;
	return 0;
}

static unsigned int oas_enc(unsigned int bits)
{
	for (unsigned int e = 0; e < 7; e++)
		if (smmu_oas_bits(e) >= bits)
			return e;
	return 5;
}

static void regs_init(struct smmu_model *m)
{
	const struct smmu_model_cfg *c = &m->cfg;
	uint64_t idr0;

	idr0 = FIELD_PREP(SMMU_IDR0_TTF, SMMU_IDR0_TTF_AA64) |
	       FIELD_PREP(SMMU_IDR0_STALL, c->stall ? 0 : 1) | /* stall + terminate, or terminate */
	       FIELD_PREP(SMMU_IDR0_TTENDIAN, 2) | SMMU_IDR0_SEV;
	if (c->s1)
		idr0 |= SMMU_IDR0_S1P;
	if (c->s2)
		idr0 |= SMMU_IDR0_S2P;
	if (c->cohacc)
		idr0 |= SMMU_IDR0_COHACC;
	if (c->asid16)
		idr0 |= SMMU_IDR0_ASID16;
	if (c->vmid16 && c->s2)
		idr0 |= SMMU_IDR0_VMID16;
	if (c->cd2l && c->s1 && c->ssidsize)
		idr0 |= SMMU_IDR0_CD2L;
	if (c->pri)
		idr0 |= SMMU_IDR0_PRI;
	if (c->st2l)
		idr0 |= FIELD_PREP(SMMU_IDR0_ST_LEVEL, 1);
	m->idr[0] = (uint32_t)idr0;
	m->idr[1] = (uint32_t)(FIELD_PREP(SMMU_IDR1_SIDSIZE, c->sidsize) |
			       FIELD_PREP(SMMU_IDR1_SSIDSIZE, c->s1 ? c->ssidsize : 0) |
			       FIELD_PREP(SMMU_IDR1_PRIQS, c->priqs) |
			       FIELD_PREP(SMMU_IDR1_EVTQS, c->evtqs) |
			       FIELD_PREP(SMMU_IDR1_CMDQS, c->cmdqs));
	if (c->preset) /* an embedded SMMU: tables and queues where the SoC put them */
		m->idr[1] |= (uint32_t)(SMMU_IDR1_TABLES_PRESET | SMMU_IDR1_QUEUES_PRESET);
	m->idr[3] = c->ril ? (uint32_t)SMMU_IDR3_RIL : 0;
	m->idr[5] =
		(uint32_t)(FIELD_PREP(SMMU_IDR5_OAS,
				      c->oasenc == SMMUM_OASENC_OAS ? oas_enc(c->oas) : c->oasenc) |
			   SMMU_IDR5_GRAN4K);
	if (c->stall)
		m->idr[5] |= (uint32_t)FIELD_PREP(SMMU_IDR5_STALL_MAX, c->stall_max);
	/* Implementer 0x55 ('U'), product 0x001: a model, not an Arm part. */
	m->iidr = (uint32_t)(FIELD_PREP(SMMU_IIDR_IMPLEMENTER, 0x55) |
			     FIELD_PREP(SMMU_IIDR_PRODUCTID, 0x001));
	m->aidr = 0x01;			     /* SMMUv3.1 */
	/* Reset: abort incoming traffic, or let it through (bypass=1, as
	 * QEMU's SMMU resets GBPA). */
	m->gbpa = c->bypass ? 0 : (uint32_t)SMMU_GBPA_ABORT;
	if (c->busy) { /* as a previous owner (a kernel) left it */
		m->cr0 = (uint32_t)(SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN);
		if (c->busy == 1)
			m->cr0 |= (uint32_t)SMMU_CR0_SMMUEN;
		m->gbpa = 0;
		/* Queue positions where the owner left them (give-back puts
		 * them back). */
		m->cmdq_prod = m->cmdq_cons = 0x105; /* wrapped once, index 5 */
		m->evtq_prod = m->evtq_cons = 0x03;
		m->cr1 = 0x5;
		m->strtab_base = 0x40000000;
		m->strtab_cfg = 8;
		m->cmdq_base = 0x40100000 | 8;
		m->evtq_base = 0x40200000 | 7;
	}
}

int smmu_model_create(const struct smmu_model_cfg *cfg, struct smmu_model **out)
{
	struct smmu_model_cfg c;
	struct smmu_model *m;

	if (cfg)
		c = *cfg;
	else
		smmu_model_cfg_default(&c);
	if (c.sidsize < 1 || c.sidsize > 24 || c.ssidsize > 20 || c.oas < 32 || c.oas > 48 ||
	    c.busy > 2 || (c.oasenc > 7 && c.oasenc != SMMUM_OASENC_OAS) || !c.tlb_size ||
	    !c.cfgc_size || (!c.s1 && !c.s2) || !c.cmdqs || c.cmdqs > 19 || !c.evtqs ||
	    c.evtqs > 19 || !c.priqs || c.priqs > 19)
		return -EINVAL;
	m = uenv_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->tlb = uenv_zalloc(sizeof(*m->tlb) * c.tlb_size);
	if (!m->tlb)
		goto free_model;
	m->tlb_hmask = 1;
	while (m->tlb_hmask < 2 * c.tlb_size)
		m->tlb_hmask <<= 1;
	m->tlb_hash = uenv_zalloc(sizeof(*m->tlb_hash) * m->tlb_hmask);
	m->tlb_hmask--;
	if (!m->tlb_hash)
		goto free_tlb;
	m->stec = uenv_zalloc(sizeof(*m->stec) * c.cfgc_size);
	if (!m->stec)
		goto free_tlb;
	m->cdc = uenv_zalloc(sizeof(*m->cdc) * c.cfgc_size);
	if (!m->cdc)
		goto free_stec;
	m->magic = SMMUM_MAGIC;
	m->cfg = c;
	regs_init(m);
	*out = m;
	return 0;

free_stec:
	uenv_free(m->stec);
free_tlb:
	uenv_free(m->tlb_hash);
	uenv_free(m->tlb);
free_model:
	uenv_free(m);
	return -ENOMEM;
}

void smmu_model_destroy(struct smmu_model *m)
{
	if (!m)
		return;
	m->magic = 0;
	uenv_free(m->cdc);
	uenv_free(m->stec);
	uenv_free(m->tlb_hash);
	uenv_free(m->tlb);
	uenv_free(m);
}

void smmu_model_get_stats(const struct smmu_model *m, struct smmu_model_stats *st)
{
	*st = m->st;
}

void smmu_model_set_stuck(struct smmu_model *m, bool stuck)
{
	m->stuck = stuck;
}

uint32_t smmu_model_tlb_entries(const struct smmu_model *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->cfg.tlb_size; i++)
		n += m->tlb[i].valid;
	return n;
}

/* ------------------------------------------------------------ commands */

/* log2 entries of a queue: its base's LOG2SIZE, at most what IDR1 allows. */
static unsigned int q_shift(uint64_t base, unsigned int max)
{
	unsigned int s = (unsigned int)FIELD_GET(SMMU_Q_BASE_LOG2SIZE, base);

	return s < max ? s : max;
}

static bool cmdq_error_active(const struct smmu_model *m)
{
	return ((m->gerror ^ m->gerrorn) & SMMU_GERROR_CMDQ_ERR) != 0;
}

static void cmdq_error(struct smmu_model *m, unsigned int err)
{
	m->cmdq_cons = (uint32_t)FIELD_SET(SMMU_CMDQ_CONS_ERR, m->cmdq_cons, err);
	if (!cmdq_error_active(m))
		m->gerror ^= (uint32_t)SMMU_GERROR_CMDQ_ERR;
	m->st.cmd_errors++;
	SMMUM_LOG(DEBUG, "command at CONS 0x%x refused: %s", m->cmdq_cons & 0xffffffu,
		  smmu_cerror_text(err));
}

/* TLBI range: [addr, addr + len) from the TG/NUM/SCALE fields (IDR3.RIL),
 * else one address (len 1). */
static uint64_t tlbi_len(const struct smmu_model *m, const uint64_t *c)
{
	unsigned int tg = (unsigned int)FIELD_GET(SMMU_CMD1_TG, c[1]);

	if (!m->cfg.ril || tg == 0)
		return 1;
	return (FIELD_GET(SMMU_CMD0_TLBI_NUM, c[0]) + 1)
	       << (FIELD_GET(SMMU_CMD0_TLBI_SCALE, c[0]) + 12);
}

/* Execute one command: 0, or a CERROR_* code. */
static unsigned int cmd_exec(struct smmu_model *m, const uint64_t *c)
{
	unsigned int op = (unsigned int)FIELD_GET(SMMU_CMD0_OP, c[0]);
	uint32_t sid = (uint32_t)FIELD_GET(SMMU_CMD0_SID, c[0]);
	int vmid = (int)FIELD_GET(SMMU_CMD0_VMID, c[0]);
	int asid = (int)FIELD_GET(SMMU_CMD0_ASID, c[0]);
	uint64_t len;

	if (!m->cfg.asid16 && asid > 0xff)
		asid &= 0xff; /* upper bits ignored without ASID16 */
	if (!m->cfg.vmid16)
		vmid &= 0xff;
	switch (op) {
	case SMMU_OP_PREFETCH_CFG:
		return 0;
	case SMMU_OP_CFGI_STE:
		m->st.cfgi++;
		smmum_inv_ste(m, sid, 1);
		return 0;
	case SMMU_OP_CFGI_STE_RANGE: {
		unsigned int range = (unsigned int)FIELD_GET(SMMU_CMD1_RANGE, c[1]);
		m->st.cfgi++;
		if (range == 31) { /* CFGI_ALL */
			smmum_inv_cfg_all(m);
			return 0;
		}
		uint64_t n = 1ull << (range + 1);
		smmum_inv_ste(m, (uint32_t)ALIGN_DOWN_ULL(sid, n), n);
		return 0;
	}
	case SMMU_OP_CFGI_CD:
		m->st.cfgi++;
		smmum_inv_cd(m, sid, (uint32_t)FIELD_GET(SMMU_CMD0_SSID, c[0]), false);
		return 0;
	case SMMU_OP_CFGI_CD_ALL:
		m->st.cfgi++;
		smmum_inv_cd(m, sid, 0, true);
		return 0;
	case SMMU_OP_TLBI_NH_ALL:
	case SMMU_OP_TLBI_NH_ASID:
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_NH_VAA:
		if (!m->cfg.s1)
			return SMMU_CERROR_ILL;
		m->st.tlbi++;
		if (!m->cfg.s2)
			vmid = 0;
		if (op == SMMU_OP_TLBI_NH_ALL)
			smmum_tlb_inv(m, vmid, -1, 1, 0, 0);
		else if (op == SMMU_OP_TLBI_NH_ASID)
			smmum_tlb_inv(m, vmid, asid, 1, 0, 0);
		else {
			len = tlbi_len(m, c);
			smmum_tlb_inv(m, vmid, op == SMMU_OP_TLBI_NH_VA ? asid : -1, 1,
				      c[1] & SMMU_CMD1_VA, len);
		}
		return 0;
	case SMMU_OP_TLBI_S2_IPA:
		if (!m->cfg.s2)
			return SMMU_CERROR_ILL;
		m->st.tlbi++;
		/* Stage-2-only entries; combined (nested) entries need
		 * TLBI_NH_* or TLBI_S12_VMALL (IHI 0070 4.4.2). */
		smmum_tlb_inv(m, vmid, -1, 0, c[1] & SMMU_CMD1_IPA, tlbi_len(m, c));
		return 0;
	case SMMU_OP_TLBI_S12_VMALL:
		if (!m->cfg.s2)
			return SMMU_CERROR_ILL;
		m->st.tlbi++;
		smmum_tlb_inv(m, vmid, -1, -1, 0, 0);
		return 0;
	case SMMU_OP_TLBI_NSNH_ALL:
		m->st.tlbi++;
		smmum_tlb_inv(m, -1, -1, -1, 0, 0);
		return 0;
	case SMMU_OP_ATC_INV:
		return 0; /* no ATS: no ATC to invalidate */
	case SMMU_OP_PRI_RESP:
		if (!m->cfg.pri || FIELD_GET(SMMU_CMD1_PRI_RESP, c[1]) > 2)
			return SMMU_CERROR_ILL;
		m->st.pri_resps++;
		m->st.last_pri_resp =
			(uint32_t)(sid << 12 | FIELD_GET(SMMU_CMD1_PRI_GRPID, c[1]) << 2 |
				   FIELD_GET(SMMU_CMD1_PRI_RESP, c[1]));
		return 0;
	case SMMU_OP_RESUME: {
		if (!m->cfg.stall)
			return SMMU_CERROR_ILL; /* terminate model: nothing ever stalls */
		uint32_t rsid = (uint32_t)FIELD_GET(SMMU_CMD0_SID, c[0]);
		uint16_t stag = (uint16_t)FIELD_GET(SMMU_CMD1_RESUME_STAG, c[1]);
		unsigned int resp = (unsigned int)FIELD_GET(SMMU_CMD0_RESUME_RESP, c[0]);

		if (resp == 3)
			return SMMU_CERROR_ILL;
		for (unsigned int i = 0; i < m->cfg.stall_max && i < SMMUM_STALL_MAX; i++) {
			struct smmum_stall s = m->stalls[i];

			if (!s.valid || s.sid != rsid || s.stag != stag)
				continue;
			m->stalls[i].valid = false;
			m->st.resumes++;
			if (resp == 1) { /* retry: translated again (it may stall again) */
				m->st.last_resume_rc = smmu_model_dma(m, s.sid, s.ssid, s.iova,
								      s.buf, s.len, s.write);
			} else { /* terminate / abort: the device sees an abort */
				m->st.dma_faults++;
				m->st.last_resume_rc = -EFAULT;
			}
			return 0;
		}
		return 0; /* no such stalled transaction: ignored (IHI 0070 4.7.2) */
	}
	case SMMU_OP_CMD_SYNC:
		if (FIELD_GET(SMMU_CMD0_SYNC_CS, c[0]) == 3)
			return SMMU_CERROR_ILL;
		m->st.syncs++;
		return 0;
	default:
		return SMMU_CERROR_ILL;
	}
}

/* Consume commands from CONS up to PROD, stopping at an error. */
static void cmdq_run(struct smmu_model *m)
{
	unsigned int shift = q_shift(m->cmdq_base, m->cfg.cmdqs);
	uint32_t mask = (2u << shift) - 1u; /* index + wrap bit */
	uint64_t base = m->cmdq_base & SMMU_Q_BASE_ADDR;

	if (!(m->cr0 & SMMU_CR0_CMDQEN) || cmdq_error_active(m) || m->stuck)
		return;
	m->cmdq_cons = (uint32_t)FIELD_SET(SMMU_CMDQ_CONS_ERR, m->cmdq_cons, 0);
	for (uint32_t guard = 0; guard <= mask; guard++) {
		uint32_t cons = m->cmdq_cons & mask, prod = m->cmdq_prod & mask;
		uint64_t c[SMMU_CMD_DWORDS];
		unsigned int err;

		if (cons == prod)
			return;
		if (!smmum_read(base + SMMU_Q_IDX(cons, shift) * 16ull, c, SMMU_CMD_DWORDS))
			err = SMMU_CERROR_ABT;
		else
			err = cmd_exec(m, c);
		if (err) {
			cmdq_error(m, err);
			return;
		}
		m->st.cmds++;
		m->cmdq_cons = (m->cmdq_cons & ~mask) | ((cons + 1u) & mask);
	}
}

/* ------------------------------------------------------------ registers */

static uint64_t reg_read(void *p, uint32_t off, unsigned int size)
{
	struct smmu_model *m = p;
	uint64_t v;

	switch (off) {
	case SMMU_IDR0:
	case SMMU_IDR1:
	case SMMU_IDR2:
	case SMMU_IDR3:
	case SMMU_IDR4:
	case SMMU_IDR5:
		v = m->idr[off / 4];
		break;
	case SMMU_IIDR:
		v = m->iidr;
		break;
	case SMMU_AIDR:
		v = m->aidr;
		break;
	case SMMU_CR0:
		v = m->cr0;
		break;
	case SMMU_CR0ACK:
		v = m->cr0;
		break;
	case SMMU_CR1:
		v = m->cr1;
		break;
	case SMMU_CR2:
		v = m->cr2;
		break;
	case SMMU_GBPA:
		v = m->gbpa;
		break;
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		v = m->irq_ctrl;
		break;
	case SMMU_GERROR:
		v = m->gerror;
		break;
	case SMMU_GERRORN:
		v = m->gerrorn;
		break;
	case SMMU_STRTAB_BASE:
		v = m->strtab_base;
		break;
	case SMMU_STRTAB_BASE_CFG:
		v = m->strtab_cfg;
		break;
	case SMMU_CMDQ_BASE:
		v = m->cmdq_base;
		break;
	case SMMU_CMDQ_PROD:
		v = m->cmdq_prod;
		break;
	case SMMU_CMDQ_CONS:
		v = m->cmdq_cons;
		break;
	case SMMU_EVTQ_BASE:
		v = m->evtq_base;
		break;
	case SMMU_EVTQ_PROD:
		v = m->evtq_prod;
		break;
	case SMMU_EVTQ_CONS:
		v = m->evtq_cons;
		break;
	case SMMU_PRIQ_BASE:
		v = m->priq_base;
		break;
	case SMMU_PRIQ_PROD:
		v = m->priq_prod;
		break;
	case SMMU_PRIQ_CONS:
		v = m->priq_cons;
		break;
	default:
		v = 0;
		break; /* RES0 / IMPLEMENTATION DEFINED */
	}
	return size == 4 ? (uint32_t)v : v;
}

static void reg_write(void *p, uint32_t off, uint64_t v, unsigned int size)
{
	struct smmu_model *m = p;
	uint32_t v32 = (uint32_t)v;
	bool smmuen = m->cr0 & SMMU_CR0_SMMUEN;

	(void)size;
	switch (off) {
	case SMMU_CR0: {
		uint32_t old = m->cr0;
		m->cr0 = v32 & (uint32_t)SMMU_CR0_MASK;
		if (!(m->cfg.pri))
			m->cr0 &= ~(uint32_t)SMMU_CR0_PRIQEN;
		if ((m->cr0 & ~old) & SMMU_CR0_CMDQEN)
			cmdq_run(m);
		break;
	}
	case SMMU_CR1:
		if (!smmuen && !(m->cr0 & (SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN)))
			m->cr1 = v32 & 0xfffu;
		break;
	case SMMU_CR2:
		if (!smmuen)
			m->cr2 = v32 & 0x7u;
		break;
	case SMMU_GBPA:
		if (v32 & SMMU_GBPA_UPDATE) /* applied at once: Update reads 0 */
			m->gbpa = v32 & (uint32_t)(SMMU_GBPA_ABORT | SMMU_GBPA_INSTCFG |
						   SMMU_GBPA_PRIVCFG | SMMU_GBPA_SHCFG |
						   SMMU_GBPA_ALLOCFG | SMMU_GBPA_MTCFG |
						   SMMU_GBPA_MEMATTR);
		break;
	case SMMU_IRQ_CTRL:
		m->irq_ctrl = v32 & 7u;
		break;
	case SMMU_GERRORN:
		m->gerrorn = v32 & (uint32_t)SMMU_GERROR_MASK;
		cmdq_run(m); /* an acknowledged CMDQ_ERR lets the queue go on */
		break;
	case SMMU_STRTAB_BASE:
		if (!smmuen && !m->cfg.preset)
			m->strtab_base = v & (SMMU_STRTAB_BASE_ADDR | SMMU_STRTAB_BASE_RA);
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (!smmuen && !m->cfg.preset)
			m->strtab_cfg =
				v32 & (uint32_t)(SMMU_STRTAB_CFG_FMT | SMMU_STRTAB_CFG_SPLIT |
						 SMMU_STRTAB_CFG_LOG2SIZE);
		break;
	case SMMU_CMDQ_BASE:
		if (!(m->cr0 & SMMU_CR0_CMDQEN) && !m->cfg.preset)
			m->cmdq_base =
				v & (SMMU_Q_BASE_ADDR | SMMU_Q_BASE_RWA | SMMU_Q_BASE_LOG2SIZE);
		break;
	case SMMU_CMDQ_PROD:
		m->cmdq_prod = v32 & 0xfffffu;
		cmdq_run(m);
		break;
	case SMMU_CMDQ_CONS:
		if (!(m->cr0 & SMMU_CR0_CMDQEN))
			m->cmdq_cons = v32 & 0xfffffu;
		break;
	case SMMU_EVTQ_BASE:
		if (!(m->cr0 & SMMU_CR0_EVTQEN) && !m->cfg.preset)
			m->evtq_base =
				v & (SMMU_Q_BASE_ADDR | SMMU_Q_BASE_RWA | SMMU_Q_BASE_LOG2SIZE);
		break;
	case SMMU_EVTQ_PROD:
		if (!(m->cr0 & SMMU_CR0_EVTQEN))
			m->evtq_prod = v32 & (0xfffffu | (uint32_t)SMMU_Q_OVF);
		break;
	case SMMU_EVTQ_CONS:
		m->evtq_cons = v32 & (0xfffffu | (uint32_t)SMMU_Q_OVF);
		break;
	case SMMU_PRIQ_BASE:
		if (!(m->cr0 & SMMU_CR0_PRIQEN) && !m->cfg.preset)
			m->priq_base =
				v & (SMMU_Q_BASE_ADDR | SMMU_Q_BASE_RWA | SMMU_Q_BASE_LOG2SIZE);
		break;
	case SMMU_PRIQ_PROD:
		if (!(m->cr0 & SMMU_CR0_PRIQEN))
			m->priq_prod = v32 & (0xfffffu | (uint32_t)SMMU_Q_OVF);
		break;
	case SMMU_PRIQ_CONS:
		m->priq_cons = v32 & (0xfffffu | (uint32_t)SMMU_Q_OVF);
		break;
	default:
		break; /* read-only or RES0 */
	}
}

const struct uiommu_model_io smmu_model_io = {
	.read = reg_read,
	.write = reg_write,
};

int smmu_model_page_request(struct smmu_model *m, uint32_t sid, uint32_t ssid, uint64_t addr,
			    uint32_t grpid, bool last, bool write)
{
	unsigned int shift = q_shift(m->priq_base, m->cfg.priqs);
	uint32_t mask = (2u << shift) - 1u, prod = m->priq_prod & mask, cons = m->priq_cons & mask;
	uint64_t *slot;

	if (!m->cfg.pri)
		return -EOPNOTSUPP;
	if (!(m->cr0 & SMMU_CR0_PRIQEN) ||
	    (SMMU_Q_IDX(prod, shift) == SMMU_Q_IDX(cons, shift) && prod != cons)) {
		if (!((m->priq_prod ^ m->priq_cons) & SMMU_Q_OVF))
			m->priq_prod ^= (uint32_t)SMMU_Q_OVF;
		return -ENOSPC;
	}
	slot = uenv_iova_to_va((m->priq_base & SMMU_Q_BASE_ADDR) + SMMU_Q_IDX(prod, shift) * 16ull);
	if (!slot) {
		m->gerror ^= (uint32_t)SMMU_GERROR_PRIQ_ABT_ERR;
		return -ENOSPC;
	}
	slot[0] = FIELD_PREP(SMMU_PRIQ0_SID, sid) | SMMU_PRIQ0_READ |
		  (write ? SMMU_PRIQ0_WRITE : 0) | (last ? SMMU_PRIQ0_LAST : 0);
	if (ssid != SMMUM_NO_SSID)
		slot[0] |= SMMU_PRIQ0_SSV | FIELD_PREP(SMMU_PRIQ0_SSID, ssid);
	slot[1] = FIELD_PREP(SMMU_PRIQ1_GRPID, grpid) | (addr & SMMU_PRIQ1_ADDR);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	m->priq_prod = (m->priq_prod & (uint32_t)SMMU_Q_OVF) | ((prod + 1u) & mask);
	m->st.page_requests++;
	return 0;
}
