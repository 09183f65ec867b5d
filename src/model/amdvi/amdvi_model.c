/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi model: settings, creation, the register file (AMD IOMMU 3.4),
 * the command buffer (2.4) and the event and PPR logs (2.5, 2.6).
 *
 * Register semantics: EFR/EFR2 read-only; Status: run bits read-only, the
 * overflow and interrupt bits write-1-to-clear; the command head, and the
 * event/PPR tails, are software-writable only while the buffer/log is
 * off (the IOMMU owns them while it runs); a write of the command tail
 * processes the buffer synchronously.  A base register is latched when
 * its buffer or log is enabled in Control.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/amdvi/amdvi_model_internal.h"

void amdvi_model_cfg_default(struct amdvi_model_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->hats = 2;
	c->pasmax = 15;
	c->ia = c->ppr = c->nx = c->he = true;
	c->gt = false;
	c->pref = false;
	c->iotlb_size = 256;
	c->dtec_size = 64;
	c->pdec_size = 32;
}

struct amdm_key {
	const char *name;
	size_t off;
	uint8_t size; /* 0: bool */
	uint64_t min, max;
};
#define AK_B(n, f)                                              \
	{                                                       \
		n, offsetof(struct amdvi_model_cfg, f), 0, 0, 1 \
	}
#define AK_I(n, f, lo, hi)                                                                        \
	{                                                                                         \
		n, offsetof(struct amdvi_model_cfg, f), sizeof(((struct amdvi_model_cfg *)0)->f), \
			lo, hi                                                                    \
	}
static const struct amdm_key amdm_keys[] = {
	AK_I("hats", hats, 0, 2),
	AK_I("pasmax", pasmax, 0, 19),
	AK_B("ia", ia),
	AK_B("ppr", ppr),
	AK_B("gt", gt),
	AK_B("nx", nx),
	AK_B("pref", pref),
	AK_B("he", he),
	AK_I("iotlb", iotlb_size, 1, 65536),
	AK_I("dtec", dtec_size, 1, 65536), AK_I("pdec", pdec_size, 1, 65536),
};

static int key_set(struct amdvi_model_cfg *c, const char *key, size_t klen, const char *val)
{
	for (size_t i = 0; i < ARRAY_SIZE(amdm_keys); i++) {
		const struct amdm_key *k = &amdm_keys[i];
		unsigned long long v;
		char *end;
		uint8_t *p = (uint8_t *)c + k->off;

		if (strlen(k->name) != klen || memcmp(k->name, key, klen) != 0)
			continue;
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || (*end && *end != ',') || v < k->min || v > k->max)
			return -EINVAL;
		switch (k->size) {
		case 0:
			*(bool *)p = v != 0;
			break;
		case 1:
			*p = (uint8_t)v;
			break;
		default:
			*(uint32_t *)(void *)p = (uint32_t)v;
			break;
		}
		return 0;
	}
	return -EINVAL;
}

int amdvi_model_cfg_parse(struct amdvi_model_cfg *cfg, const char *s)
{
	struct amdvi_model_cfg c = *cfg;

	while (s && *s) {
		const char *eq = strchr(s, '='), *comma = strchr(s, ',');

		if (comma == s) {
			s++;
			continue;
		}
		if (!eq || (comma && comma < eq))
			return -EINVAL;
		int rc = key_set(&c, s, (size_t)(eq - s), eq + 1);

		if (rc)
			return rc;
		s = comma ? comma + 1 : NULL;
	}
	*cfg = c;
	return 0;
}

static uint64_t efr_of(const struct amdvi_model_cfg *c)
{
	uint64_t efr =
		FIELD_PREP(AMDVI_EFR_HATS, c->hats) | FIELD_PREP(AMDVI_EFR_PASMAX, c->pasmax);

	efr |= c->pref ? AMDVI_EFR_PREF_SUP : 0;
	efr |= c->ppr ? AMDVI_EFR_PPR_SUP : 0;
	efr |= c->nx ? AMDVI_EFR_NX_SUP : 0;
	efr |= c->gt ? AMDVI_EFR_GT_SUP | FIELD_PREP(AMDVI_EFR_GLX_SUP, 1) : 0;
	efr |= c->ia ? AMDVI_EFR_IA_SUP : 0;
	efr |= c->he ? AMDVI_EFR_HE_SUP : 0;
	return efr;
}

int amdvi_model_create(const struct amdvi_model_cfg *cfg, struct amdvi_model **out)
{
	struct amdvi_model_cfg c;
	struct amdvi_model *m;

	if (cfg)
		c = *cfg;
	else
		amdvi_model_cfg_default(&c);
	if (c.hats > 2 || c.pasmax > 19 || !c.iotlb_size || !c.dtec_size || !c.pdec_size ||
	    c.pdec_size > 65536 || c.iotlb_size > 65536 ||
	    c.dtec_size > 65536)
		return -EINVAL;
	m = uenv_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->iotlb = uenv_zalloc(c.iotlb_size * sizeof(*m->iotlb));
	if (!m->iotlb)
		goto free_model;
	m->dtec = uenv_zalloc(c.dtec_size * sizeof(*m->dtec));
	if (!m->dtec)
		goto free_iotlb;
	m->pdec = uenv_zalloc(c.pdec_size * sizeof(*m->pdec));
	if (!m->pdec)
		goto free_dtec;
	m->magic = AMDM_MAGIC;
	m->cfg = c;
	m->efr = efr_of(&c);
	m->efr2 = 0;
	/* Reset values: a 4 KiB minimum for each buffer length. */
	*out = m;
	return 0;

free_dtec:
	uenv_free(m->dtec);
free_iotlb:
	uenv_free(m->iotlb);
free_model:
	uenv_free(m);
	return -ENOMEM;
}

int amdvi_model_create_str(const char *s, struct amdvi_model **out)
{
	struct amdvi_model_cfg c;
	int rc;

	amdvi_model_cfg_default(&c);
	rc = amdvi_model_cfg_parse(&c, s);
	if (rc) {
		AMDM_LOG(ERR, "bad settings '%s' (keys: docs/models.md)", s);
		return rc;
	}
	return amdvi_model_create(&c, out);
}

void amdvi_model_destroy(struct amdvi_model *m)
{
	if (!m)
		return;
	m->magic = 0;
	uenv_free(m->pdec);
	uenv_free(m->dtec);
	uenv_free(m->iotlb);
	uenv_free(m);
}

/* ------------------------------------------------------------ logs */

/* Bytes of a buffer whose base register holds Len = log2(entries). */
static uint32_t buf_bytes(uint64_t base_reg)
{
	unsigned int len = (unsigned int)FIELD_GET(AMDVI_BUF_LEN, base_reg);

	if (len < AMDVI_BUF_LEN_MIN)
		len = AMDVI_BUF_LEN_MIN; /* smaller values are reserved */
	return 16u << len;
}

/* Write one 16-byte entry at @base + @off; false when unreachable. */
static bool put16(uint64_t base, uint32_t off, uint64_t w0, uint64_t w1)
{
	uint64_t *p = model_mem(base + off, false);

	if (!p)
		return false;
	p[0] = w0;
	__atomic_store_n(&p[1], w1, __ATOMIC_RELEASE);
	return true;
}

void amdm_event(struct amdvi_model *m, uint64_t w0, uint64_t w1)
{
	uint32_t tail = (uint32_t)m->evt_tail, next;

	if (!(m->control & AMDVI_CTRL_EVT_LOG_EN) || !(m->status & AMDVI_STS_EVT_RUN)) {
		m->st.events_dropped++;
		return;
	}
	next = (tail + AMDVI_EVT_SIZE) % m->evt_len;
	if (next == (uint32_t)m->evt_head) {
		/* Full: EventOverflow, and the log stops until software
		 * re-enables it (AMD IOMMU 2.5). */
		m->status |= AMDVI_STS_EVT_OVERFLOW;
		m->status &= ~AMDVI_STS_EVT_RUN;
		m->st.events_dropped++;
		return;
	}
	if (!put16(m->evt_base, tail, w0, w1)) {
		m->status &= ~AMDVI_STS_EVT_RUN;
		m->st.events_dropped++;
		return;
	}
	m->evt_tail = next;
	m->st.events++;
	if (m->control & AMDVI_CTRL_EVT_INT_EN)
		m->status |= AMDVI_STS_EVT_INT;
}

int amdm_ppr_log(struct amdvi_model *m, uint64_t w0, uint64_t w1)
{
	uint32_t tail = (uint32_t)m->ppr_tail, next;

	if (!(m->control & AMDVI_CTRL_PPR_LOG_EN) || !(m->status & AMDVI_STS_PPR_RUN)) {
		m->st.ppr_dropped++;
		return -ENXIO;
	}
	next = (tail + AMDVI_PPR_SIZE) % m->ppr_len;
	if (next == (uint32_t)m->ppr_head) {
		m->status |= AMDVI_STS_PPR_OVERFLOW;
		m->status &= ~AMDVI_STS_PPR_RUN;
		m->st.ppr_dropped++;
		return -ENOSPC;
	}
	if (!put16(m->ppr_base, tail, w0, w1)) {
		m->status &= ~AMDVI_STS_PPR_RUN;
		m->st.ppr_dropped++;
		return -ENXIO;
	}
	m->ppr_tail = next;
	m->st.ppr_logged++;
	if (m->control & AMDVI_CTRL_PPR_INT_EN)
		m->status |= AMDVI_STS_PPR_INT;
	return 0;
}

/* ------------------------------------------------------------ commands */

/* Stop the command buffer at the entry at @head with an event. */
static void cmd_stop(struct amdvi_model *m, uint32_t code, uint64_t addr)
{
	m->status &= ~AMDVI_STS_CMD_RUN;
	amdm_event(m, FIELD_PREP(AMDVI_EVT_CODE, code), addr);
}

/* Execute one command.  false: illegal (reserved bits, unknown opcode,
 * or a feature the unit lacks). */
static bool cmd_exec(struct amdvi_model *m, uint64_t w0, uint64_t w1, uint32_t *hw_err)
{
	unsigned int op = (unsigned int)FIELD_GET(AMDVI_CMD_OP, w0);

	m->st.cmds++;
	switch (op) {
	case AMDVI_OP_COMPLETION_WAIT: {
		uint64_t addr = w0 & AMDVI_CW_ADDR;

		if (w0 & GENMASK_ULL(59, 52))
			return false;
		if (!(w0 & (AMDVI_CW_S | AMDVI_CW_I | AMDVI_CW_F)))
			return false;
		if (w0 & AMDVI_CW_S) {
			uint64_t *p = model_mem(addr, false);

			if (!p) {
				*hw_err = AMDVI_EV_COMMAND_HW_ERROR;
				return true;
			}
			__atomic_store_n(p, w1, __ATOMIC_RELEASE);
		}
		if (w0 & AMDVI_CW_I)
			m->status |= AMDVI_STS_COMWAIT_INT;
		m->st.waits++;
		return true;
	}
	case AMDVI_OP_INV_DEVTAB_ENTRY:
		if ((w0 & GENMASK_ULL(59, 16)) || w1)
			return false;
		amdm_inv_dte(m, (uint16_t)FIELD_GET(AMDVI_CMD_DEVID, w0));
		return true;
	case AMDVI_OP_INV_IOMMU_PAGES: {
		uint64_t addr = w1 & AMDVI_INV_ADDR, start, size;

		if ((w0 & (GENMASK_ULL(31, 20) | GENMASK_ULL(59, 48))) || (w1 & GENMASK_ULL(11, 3)))
			return false;
		if (w1 & AMDVI_INV_S) {
			/* Size-encoded (2.4.3): the first zero bit from
			 * bit 12 up gives the size; none: everything. */
			uint64_t ones = ~(addr >> 12);
			unsigned int n = ones ? (unsigned int)__builtin_ctzll(ones) : 64;

			if (n >= 51) {
				start = 0;
				size = 0;
			} else {
				size = 1ull << (13 + n);
				start = addr & ~(size - 1);
			}
		} else {
			start = addr;
			size = 4096;
		}
		amdm_inv_pages(m, (uint16_t)FIELD_GET(AMDVI_INVP_DOMID, w0), start, size,
			       w1 & AMDVI_INV_GN, (uint32_t)FIELD_GET(AMDVI_INVP_PASID, w0),
			       w1 & AMDVI_INV_PDE);
		return true;
	}
	case AMDVI_OP_INV_IOTLB_PAGES:
		if (w1 & GENMASK_ULL(11, 3))
			return false;
		m->st.iotlb_pages_cmds++; /* the device-side IOTLB is not modelled */
		return true;
	case AMDVI_OP_INV_INTERRUPT_TABLE:
		return !((w0 & GENMASK_ULL(59, 16)) || w1);
	case AMDVI_OP_PREFETCH_PAGES:
		return m->cfg.pref;
	case AMDVI_OP_COMPLETE_PPR:
		if (!m->cfg.ppr)
			return false;
		amdm_ppr_complete(m, (uint16_t)FIELD_GET(AMDVI_CMD_DEVID, w0),
				  (uint16_t)FIELD_GET(AMDVI_PPRC_TAG, w1),
				  (unsigned int)FIELD_GET(AMDVI_PPRC_STATUS, w1));
		return true;
	case AMDVI_OP_INV_IOMMU_ALL:
		if (!m->cfg.ia || (w0 & GENMASK_ULL(59, 0)) || w1)
			return false;
		m->st.inv_all++;
		amdm_inv_all(m);
		return true;
	default:
		return false;
	}
}

/* Process commands from head to tail while the buffer runs. */
static void cmd_run(struct amdvi_model *m)
{
	while ((m->status & AMDVI_STS_CMD_RUN) && m->cmd_head != m->cmd_tail) {
		uint32_t head = (uint32_t)m->cmd_head, hw_err = 0;
		uint64_t pa = m->cmd_base + head;
		uint64_t *p = model_mem(pa, false);

		if (!p) {
			cmd_stop(m, AMDVI_EV_COMMAND_HW_ERROR, pa);
			return;
		}
		uint64_t w0 = __atomic_load_n(&p[0], __ATOMIC_ACQUIRE), w1 = p[1];

		if (!cmd_exec(m, w0, w1, &hw_err)) {
			/* The head stays on the bad command (2.4.1). */
			m->st.illegal_cmds++;
			cmd_stop(m, AMDVI_EV_ILLEGAL_COMMAND, pa);
			return;
		}
		if (hw_err) {
			cmd_stop(m, hw_err, pa);
			return;
		}
		m->cmd_head = (head + AMDVI_CMD_SIZE) % m->cmd_len;
	}
}

/* ------------------------------------------------------------ registers */

static uint64_t *reg_slot(struct amdvi_model *m, uint32_t off)
{
	switch (off) {
	case AMDVI_REG_DEVTAB:
		return &m->devtab;
	case AMDVI_REG_CMDBUF:
		return &m->cmdbuf;
	case AMDVI_REG_EVTLOG:
		return &m->evtlog;
	case AMDVI_REG_CONTROL:
		return &m->control;
	case AMDVI_REG_EXCL_BASE:
		return &m->excl_base;
	case AMDVI_REG_EXCL_LIMIT:
		return &m->excl_limit;
	case AMDVI_REG_EFR:
		return &m->efr;
	case AMDVI_REG_PPRLOG:
		return &m->pprlog;
	case AMDVI_REG_EFR2:
		return &m->efr2;
	case AMDVI_REG_CMD_HEAD:
		return &m->cmd_head;
	case AMDVI_REG_CMD_TAIL:
		return &m->cmd_tail;
	case AMDVI_REG_EVT_HEAD:
		return &m->evt_head;
	case AMDVI_REG_EVT_TAIL:
		return &m->evt_tail;
	case AMDVI_REG_STATUS:
		return &m->status;
	case AMDVI_REG_PPR_HEAD:
		return &m->ppr_head;
	case AMDVI_REG_PPR_TAIL:
		return &m->ppr_tail;
	default:
		return NULL;
	}
}

static uint64_t amdm_read(void *priv, uint32_t off, unsigned int size)
{
	struct amdvi_model *m = priv;
	uint64_t v = 0, *r;

	if (m->magic != AMDM_MAGIC || off >= AMDVI_REG_SIZE || (size != 4 && size != 8) ||
	    (off & (size - 1)))
		return ~0ull;
	(void)uenv_lock(&m->lock);
	r = reg_slot(m, off & ~7u);
	if (r)
		v = *r;
	uenv_unlock(&m->lock);
	if (size == 4)
		return (uint32_t)(off & 4 ? v >> 32 : v);
	return v;
}

static void control_write(struct amdvi_model *m, uint64_t v)
{
	uint64_t old = m->control, up = v & ~old, down = old & ~v;

	m->control = v;
	if (up & AMDVI_CTRL_CMD_BUF_EN) {
		m->cmd_base = m->cmdbuf & AMDVI_BASE_ADDR;
		m->cmd_len = buf_bytes(m->cmdbuf);
		m->cmd_head %= m->cmd_len;
		m->cmd_tail %= m->cmd_len;
		m->status |= AMDVI_STS_CMD_RUN;
	}
	if (down & AMDVI_CTRL_CMD_BUF_EN)
		m->status &= ~AMDVI_STS_CMD_RUN;
	if (up & AMDVI_CTRL_EVT_LOG_EN) {
		m->evt_base = m->evtlog & AMDVI_BASE_ADDR;
		m->evt_len = buf_bytes(m->evtlog);
		m->evt_head %= m->evt_len;
		m->evt_tail %= m->evt_len;
		m->status |= AMDVI_STS_EVT_RUN;
	}
	if (down & AMDVI_CTRL_EVT_LOG_EN)
		m->status &= ~AMDVI_STS_EVT_RUN;
	if ((up & AMDVI_CTRL_PPR_LOG_EN) && m->cfg.ppr) {
		m->ppr_base = m->pprlog & AMDVI_BASE_ADDR;
		m->ppr_len = buf_bytes(m->pprlog);
		m->ppr_head %= m->ppr_len;
		m->ppr_tail %= m->ppr_len;
		m->status |= AMDVI_STS_PPR_RUN;
	}
	if (down & AMDVI_CTRL_PPR_LOG_EN)
		m->status &= ~AMDVI_STS_PPR_RUN;
	if (!m->cfg.ppr)
		m->control &= ~(AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_PPR_EN | AMDVI_CTRL_PPR_INT_EN);
	if (!m->cfg.gt)
		m->control &= ~AMDVI_CTRL_GT_EN;
	if (up & AMDVI_CTRL_CMD_BUF_EN)
		cmd_run(m);
}

static void amdm_write(void *priv, uint32_t off, uint64_t val, unsigned int size)
{
	struct amdvi_model *m = priv;
	uint32_t base = off & ~7u;
	uint64_t *r, v;

	if (m->magic != AMDM_MAGIC || off >= AMDVI_REG_SIZE || (size != 4 && size != 8) ||
	    (off & (size - 1)))
		return;
	(void)uenv_lock(&m->lock);
	r = reg_slot(m, base);
	if (!r)
		goto out;
	v = val;
	if (size == 4) /* merge the half written */
		v = off & 4 ? (*r & 0xffffffffull) | (val << 32)
			    : (*r & ~0xffffffffull) | (val & 0xffffffffull);
	switch (base) {
	case AMDVI_REG_EFR:
	case AMDVI_REG_EFR2:
		break;
	case AMDVI_REG_DEVTAB:
		m->devtab = v & (AMDVI_BASE_ADDR | AMDVI_DEVTAB_SIZE);
		break;
	case AMDVI_REG_CMDBUF:
	case AMDVI_REG_EVTLOG:
	case AMDVI_REG_PPRLOG:
		*r = v & (AMDVI_BASE_ADDR | AMDVI_BUF_LEN);
		break;
	case AMDVI_REG_CONTROL:
		control_write(m, v & GENMASK_ULL(17, 0));
		break;
	case AMDVI_REG_STATUS:
		m->status &= ~(v & AMDVI_STS_W1C);
		break;
	case AMDVI_REG_CMD_HEAD:
		if (!(m->status & AMDVI_STS_CMD_RUN))
			m->cmd_head = v & AMDVI_PTR_OFF;
		break;
	case AMDVI_REG_CMD_TAIL:
		m->cmd_tail = v & AMDVI_PTR_OFF;
		if (m->cmd_len)
			m->cmd_tail %= m->cmd_len;
		cmd_run(m);
		break;
	case AMDVI_REG_EVT_HEAD:
		m->evt_head = v & AMDVI_PTR_OFF;
		if (m->evt_len)
			m->evt_head %= m->evt_len;
		break;
	case AMDVI_REG_EVT_TAIL:
		if (!(m->status & AMDVI_STS_EVT_RUN))
			m->evt_tail = v & AMDVI_PTR_OFF;
		break;
	case AMDVI_REG_PPR_HEAD:
		m->ppr_head = v & AMDVI_PTR_OFF;
		if (m->ppr_len)
			m->ppr_head %= m->ppr_len;
		break;
	case AMDVI_REG_PPR_TAIL:
		if (!(m->status & AMDVI_STS_PPR_RUN))
			m->ppr_tail = v & AMDVI_PTR_OFF;
		break;
	default:
		*r = v;
		break;
	}
out:
	uenv_unlock(&m->lock);
}

const struct uiommu_model_io amdvi_model_io = {
	.read = amdm_read,
	.write = amdm_write,
};

void amdvi_model_regio(struct amdvi_model *m, struct uiommu_regio *r)
{
	memset(r, 0, sizeof(*r));
	r->size = AMDVI_REG_SIZE;
	r->model = &amdvi_model_io;
	r->model_priv = m;
}

void amdvi_model_get_stats(struct amdvi_model *m, struct amdvi_model_stats *st)
{
	(void)uenv_lock(&m->lock);
	*st = m->st;
	st->iotlb_used = st->dtec_used = 0;
	for (uint32_t i = 0; i < m->cfg.iotlb_size; i++)
		st->iotlb_used += m->iotlb[i].lru != 0;
	for (uint32_t i = 0; i < m->cfg.dtec_size; i++)
		st->dtec_used += m->dtec[i].lru != 0;
	uenv_unlock(&m->lock);
}

void amdvi_model_reset_stale(struct amdvi_model *m)
{
	(void)uenv_lock(&m->lock);
	m->st.stale_iotlb = m->st.stale_dte = m->st.stale_pde = 0;
	uenv_unlock(&m->lock);
}
