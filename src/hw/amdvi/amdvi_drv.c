/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi driver: take-over, give-back, adoption, recovery, capabilities
 * and the ops table.
 *
 * Take-over (AMD IOMMU 3.4, the order Linux's amd_iommu_init uses):
 * save the registers; refuse when Control.IommuEn, CmdBufEn or
 * EventLogEn is set (the kernel or someone else drives the unit) unless
 * forced; device table with every DTE blocked -> exclusion range off ->
 * Device Table Base -> IommuEn
 * (QEMU runs the command buffer only while the IOMMU is enabled) ->
 * command buffer -> event log (and PPR log) -> INVALIDATE_IOMMU_ALL.
 * Give-back: IommuEn off, buffers and logs off, the saved registers
 * written back (Control last).
 */
#include <errno.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

static int amdvi_desc_check(const struct uiommu_unit_desc *desc)
{
	const struct uiommu_amdvi_unit_opts *o = desc->family_opts;

	if (o->flags & ~UIOMMU_AMDVI_F_SMALL_DEVTAB)
		return -EOPNOTSUPP;
	if (o->levels && (o->levels < 3 || o->levels > AMDVI_MODE_MAX))
		return -EINVAL;
	return 0;
}

static unsigned int opt_levels(const struct uiommu_unit_desc *desc)
{
	const struct uiommu_amdvi_unit_opts *o = desc->family_opts;

	return o ? o->levels : 0;
}

static bool opt_small_devtab(const struct uiommu_unit_desc *desc)
{
	const struct uiommu_amdvi_unit_opts *o = desc->family_opts;

	return o && (o->flags & UIOMMU_AMDVI_F_SMALL_DEVTAB);
}

static uint64_t amdvi_pgsizes(void)
{
	return (1ull << 12) | (1ull << 21) | (1ull << 30);
}

/* Input bits of a @levels-level v1 table. */
static unsigned int levels_ias(unsigned int levels)
{
	unsigned int bits = 12u + 9u * levels;

	return bits > 64 ? 64 : bits;
}

#define AMDVI_OAS 52u

static void fill_caps(struct uiommu_unit *u, struct amdvi_unit *au)
{
	struct uiommu_unit_caps *c = &u->caps;

	memset(c, 0, sizeof(*c));
	c->family = UIOMMU_FAMILY_AMDVI;
	c->stage2 = true;    /* v1 host tables */
	c->stage1 = au->v2;  /* v2 tables of our own through a GCR3 table per device */
	c->nesting = au->gt; /* user GCR3 tables (v2) over a v1 parent */
	c->pgsize_bitmap = amdvi_pgsizes();
	c->ias = levels_ias(au->max_levels);
	c->oas = AMDVI_OAS;
	c->pasid_bits = au->v2 ? au->pasid_bits : 0;
	c->num_domains = 1u << 16;
	c->coherent = true;
	c->queued_inv = true;
	c->page_requests = au->ppr;
	c->pass_through = true;
	c->ats = true;
	u->did_min = 1; /* DomainID 0 tags the blocked entries */
	u->flush_on_map = false;
}

static void hw_info_fill(struct uiommu_unit *u, struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);

	u->hw_info.family = UIOMMU_FAMILY_AMDVI;
	u->hw_info.u.amdvi.efr = au->efr;
	u->hw_info.u.amdvi.efr2 = au->efr2;
	u->hw_info.u.amdvi.control = reg_read64(r, AMDVI_REG_CONTROL);
	u->hw_info.u.amdvi.devtab = reg_read64(r, AMDVI_REG_DEVTAB);
	u->hw_info.u.amdvi.cmdbuf = reg_read64(r, AMDVI_REG_CMDBUF);
	u->hw_info.u.amdvi.evtlog = reg_read64(r, AMDVI_REG_EVTLOG);
	u->hw_info.u.amdvi.pprlog = reg_read64(r, AMDVI_REG_PPRLOG);
	u->hw_info.u.amdvi.levels = au->levels;
}

/* PASIDs of our GCR3 tables: EFR.PASMax + 1, at most what GLX levels of
 * 9 bits reach, and 16 (INVALIDATE_IOTLB_PAGES carries 16 PASID bits). */
static unsigned int v2_pasid_bits(const struct amdvi_unit *au)
{
	unsigned int bits = (unsigned int)FIELD_GET(AMDVI_EFR_PASMAX, au->efr) + 1u;

	if (bits > 9u * (au->glx_max + 1u))
		bits = 9u * (au->glx_max + 1u);
	return bits > 16u ? 16u : bits;
}

#define AMDVI_BUSY (AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVT_LOG_EN)

static int takeover_check(struct amdvi_unit *au, bool force)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t ctl = reg_read64(r, AMDVI_REG_CONTROL);

	if (!(ctl & AMDVI_BUSY))
		return 0;
	if (!force) {
		AMDVI_LOG(ERR,
			  "unit at 0x%llx is in use (Control 0x%llx:%s%s%s): is the kernel's AMD "
			  "IOMMU "
			  "driver on? boot with amd_iommu=off, or set force",
			  (unsigned long long)au->u->reg_base, (unsigned long long)ctl,
			  (ctl & AMDVI_CTRL_IOMMU_EN) ? " IommuEn" : "",
			  (ctl & AMDVI_CTRL_CMD_BUF_EN) ? " CmdBufEn" : "",
			  (ctl & AMDVI_CTRL_EVT_LOG_EN) ? " EventLogEn" : "");
		return -EBUSY;
	}
	AMDVI_LOG(WARNING, "unit at 0x%llx: taking over from its previous owner (Control 0x%llx)",
		  (unsigned long long)au->u->reg_base, (unsigned long long)ctl);
	reg_write64(r, AMDVI_REG_CONTROL, ctl & ~(AMDVI_BUSY | AMDVI_CTRL_PPR_LOG_EN));
	return 0;
}

static void save_regs(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);

	au->saved.control = reg_read64(r, AMDVI_REG_CONTROL);
	au->saved.devtab = reg_read64(r, AMDVI_REG_DEVTAB);
	au->saved.cmdbuf = reg_read64(r, AMDVI_REG_CMDBUF);
	au->saved.evtlog = reg_read64(r, AMDVI_REG_EVTLOG);
	au->saved.pprlog = reg_read64(r, AMDVI_REG_PPRLOG);
	au->saved.excl_base = reg_read64(r, AMDVI_REG_EXCL_BASE);
	au->saved.excl_limit = reg_read64(r, AMDVI_REG_EXCL_LIMIT);
	au->saved.cmd_head = reg_read64(r, AMDVI_REG_CMD_HEAD);
	au->saved.cmd_tail = reg_read64(r, AMDVI_REG_CMD_TAIL);
	au->saved.evt_head = reg_read64(r, AMDVI_REG_EVT_HEAD);
	au->saved.evt_tail = reg_read64(r, AMDVI_REG_EVT_TAIL);
	au->saved.ppr_head = reg_read64(r, AMDVI_REG_PPR_HEAD);
	au->saved.ppr_tail = reg_read64(r, AMDVI_REG_PPR_TAIL);
}

/* Everything off, then the registers as they were (Control last). */
static void restore_regs(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);

	reg_write64(r, AMDVI_REG_CONTROL, 0);
	reg_write64(r, AMDVI_REG_DEVTAB, au->saved.devtab);
	reg_write64(r, AMDVI_REG_CMDBUF, au->saved.cmdbuf);
	reg_write64(r, AMDVI_REG_EVTLOG, au->saved.evtlog);
	reg_write64(r, AMDVI_REG_PPRLOG, au->saved.pprlog);
	reg_write64(r, AMDVI_REG_EXCL_LIMIT, au->saved.excl_limit);
	reg_write64(r, AMDVI_REG_EXCL_BASE, au->saved.excl_base);
	reg_write64(r, AMDVI_REG_CMD_HEAD, au->saved.cmd_head);
	reg_write64(r, AMDVI_REG_CMD_TAIL, au->saved.cmd_tail);
	reg_write64(r, AMDVI_REG_EVT_HEAD, au->saved.evt_head);
	reg_write64(r, AMDVI_REG_EVT_TAIL, au->saved.evt_tail);
	reg_write64(r, AMDVI_REG_PPR_HEAD, au->saved.ppr_head);
	reg_write64(r, AMDVI_REG_PPR_TAIL, au->saved.ppr_tail);
	reg_write64(r, AMDVI_REG_CONTROL, au->saved.control);
}

static uint64_t devtab_reg(const struct amdvi_unit *au)
{
	return (au->devtab.iova & AMDVI_BASE_ADDR) |
	       FIELD_PREP(AMDVI_DEVTAB_SIZE, au->devtab.len / 4096 - 1);
}

/* Point the unit at our device table and (unless translation is
 * deferred: UIOMMU_UNIT_F_DEFER_ENABLE) turn translation on. */
static int enable(struct amdvi_unit *au)
{
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t ctl = reg_read64(r, AMDVI_REG_CONTROL);
	uint64_t excl = reg_read64(r, AMDVI_REG_EXCL_BASE);

	/* No exclusion range: with ExEn (firmware's IVMD, a previous owner)
	 * DMA into it would bypass our tables (with Allow, from every
	 * device).  Give-back puts it back. */
	if (excl & AMDVI_EXCL_EN) {
		AMDVI_LOG(WARNING,
			  "unit %u: exclusion range 0x%llx..0x%llx%s was enabled: turned off "
			  "(uiommu translates every request)",
			  au->u->obj.id, (unsigned long long)(excl & AMDVI_BASE_ADDR),
			  (unsigned long long)((reg_read64(r, AMDVI_REG_EXCL_LIMIT) &
						AMDVI_BASE_ADDR) |
					       0xfff),
			  (excl & AMDVI_EXCL_ALLOW) ? " (all devices)" : "");
		reg_write64(r, AMDVI_REG_EXCL_BASE, 0);
		reg_write64(r, AMDVI_REG_EXCL_LIMIT, 0);
	}
	/* The base may only change while the IOMMU is off. */
	if (reg_read64(r, AMDVI_REG_DEVTAB) != devtab_reg(au)) {
		reg_write64(r, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTRL_IOMMU_EN);
		reg_write64(r, AMDVI_REG_DEVTAB, devtab_reg(au));
	}
	if (au->deferred) {
		/* Off (DMA passes as before the take-over): everything else
		 * waits for amdvi_unit_enable, since QEMU runs the command
		 * buffer and the logs only while IommuEn is set. */
		reg_write64(r, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTRL_IOMMU_EN);
		return 0;
	}
	reg_write64(r, AMDVI_REG_CONTROL,
		    ctl | AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_COHERENT |
			    (au->gt ? AMDVI_CTRL_GT_EN : 0));
	return 0;
}

void amdvi_unit_fail(struct amdvi_unit *au, int rc)
{
	struct uiommu_event ev;

	if (au->failed)
		return;
	/* Translation stays on (off would pass DMA untranslated); every DTE
	 * in memory is blocked so that whatever the unit fetches again
	 * blocks; nothing is issued any more. */
	au->failed = true;
	amdvi_devtab_block_devices(au);
	AMDVI_LOG(ERR,
		  "unit %u: a global invalidation failed (%d): its caches may hold translations "
		  "memory no longer has; every device is blocked and further changes are refused "
		  "(-EIO): remove the unit and add it again",
		  au->u->obj.id, rc);
	memset(&ev, 0, sizeof(ev));
	ev.type = UIOMMU_EV_QUEUE_ERROR;
	ev.unit_id = au->u->obj.id;
	ev.pasid = UIOMMU_NO_PASID;
	ev.reason = (uint32_t)-rc;
	ev.reason_text = "global invalidation failed: unit failed, every device blocked";
	unit_event_push(au->u, &ev);
}

static int flush_everything(struct amdvi_unit *au)
{
	struct amdvi_batch b;

	amdvi_batch_init(&b, au);
	amdvi_batch_inv_everything(&b);
	return amdvi_batch_sync(&b);
}

static void free_devices(struct amdvi_unit *au)
{
	while (!list_empty(&au->devs)) {
		struct amdvi_dev *ad = list_entry(au->devs.next, struct amdvi_dev, link);

		amdvi_dev_release(au->u, ad->dev);
	}
}

static int amdvi_unit_init(struct uiommu_unit *u, const struct uiommu_unit_desc *desc)
{
	struct amdvi_unit *au;
	unsigned int want;
	int rc;

	au = uenv_zalloc(sizeof(*au));
	if (!au)
		return -ENOMEM;
	au->u = u;
	u->priv = au;
	list_init(&au->devs);
	au->timeout_ns = AMDVI_TIMEOUT_NS;

	rc = unit_regs_map(u, AMDVI_REG_SIZE);
	if (rc)
		goto err_free;
	au->efr = reg_read64(amdvi_rio(au), AMDVI_REG_EFR);
	au->efr2 = reg_read64(amdvi_rio(au), AMDVI_REG_EFR2);
	if (au->efr == UINT64_MAX || reg_read64(amdvi_rio(au), AMDVI_REG_CONTROL) == UINT64_MAX) {
		AMDVI_LOG(ERR, "no AMD-Vi unit at 0x%llx (EFR all ones)",
			  (unsigned long long)u->reg_base);
		rc = -ENODEV;
		goto err_free;
	}
	au->max_levels = amdvi_efr_max_levels(au->efr);
	want = opt_levels(desc);
	if (want > au->max_levels) {
		AMDVI_LOG(ERR, "unit at 0x%llx walks at most %u levels (EFR.HATS), %u asked",
			  (unsigned long long)u->reg_base, au->max_levels, want);
		rc = -EINVAL;
		goto err_free;
	}
	au->levels = want ? want : 4;
	au->ppr = au->efr & AMDVI_EFR_PPR_SUP;
	au->gt = au->efr & AMDVI_EFR_GT_SUP;
	au->glx_max = (unsigned int)FIELD_GET(AMDVI_EFR_GLX_SUP, au->efr);
	if (au->glx_max > AMDVI_GLX_MAX)
		au->glx_max = AMDVI_GLX_MAX;
	/* Our own v2 tables: a blocked RID beside PASIDs needs GIoV (its
	 * requests go to the empty slot 0, else Mode 0 would pass them). */
	au->v2 = au->gt && (au->efr & AMDVI_EFR_GIO_SUP);
	au->pasid_bits = v2_pasid_bits(au);

	/* Saved before a forced take-over turns the previous owner's
	 * enables off: give-back puts back the unit as it ran. */
	save_regs(au);
	rc = takeover_check(au, desc->force);
	if (rc)
		goto err_free;

	rc = amdvi_devtab_init(au, opt_small_devtab(desc));
	if (rc)
		goto err_free;
	rc = uenv_dma_alloc(4096, 4096, u->numa_node, &au->sem);
	if (rc)
		goto err_devtab;
	au->cw_w0 = amdvi_cw_w0(au->sem.iova);
	au->cmd_bytes = AMDVI_CMD_BYTES;
	rc = uenv_dma_alloc(au->cmd_bytes, 4096, u->numa_node, &au->cmd);
	if (rc)
		goto err_sem;
	au->deferred = (desc->flags & UIOMMU_UNIT_F_DEFER_ENABLE) != 0;
	rc = enable(au);
	if (rc)
		goto err_regs;
	if (!au->deferred) {
		rc = amdvi_cmd_start(au);
		if (rc)
			goto err_regs;
		rc = amdvi_logs_start(au);
		if (rc)
			goto err_cmd;
		/* Whatever the previous owner left cached goes. */
		rc = flush_everything(au);
		if (rc)
			goto err_logs;
	}
	fill_caps(u, au);
	hw_info_fill(u, au);
	AMDVI_LOG(INFO, "unit %u at 0x%llx: EFR %016llx EFR2 %016llx, %u-level tables (max %u)%s",
		  u->obj.id, (unsigned long long)u->reg_base, (unsigned long long)au->efr,
		  (unsigned long long)au->efr2, au->levels, au->max_levels,
		  au->ppr ? ", PPR log" : "");
	return 0;

err_logs:
	amdvi_logs_stop(au);
err_cmd:
	amdvi_cmd_stop(au);
err_regs:
	restore_regs(au);
	uenv_dma_free(&au->cmd);
err_sem:
	uenv_dma_free(&au->sem);
err_devtab:
	amdvi_devtab_fini(au);
err_free:
	u->priv = NULL;
	uenv_free(au);
	return rc;
}

static void amdvi_unit_fini(struct uiommu_unit *u)
{
	struct amdvi_unit *au = amdvi_of(u);
	const struct uiommu_regio *r;

	if (!au)
		return;
	r = amdvi_rio(au);
	free_devices(au);
	reg_write64(r, AMDVI_REG_CONTROL, reg_read64(r, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_IOMMU_EN);
	amdvi_logs_stop(au);
	amdvi_cmd_stop(au);
	restore_regs(au);
	uenv_dma_free(&au->cmd);
	uenv_dma_free(&au->sem);
	amdvi_devtab_fini(au);
	u->priv = NULL;
	uenv_free(au);
}

/* What the driver keeps in the arena (the state file) is input too: a
 * size or offset out of range would have the driver read or write
 * outside its buffers.  0 or -ESTALE with a log line. */
static int state_check(struct amdvi_unit *au)
{
	const char *bad = NULL;
	struct list_node *pos;
	unsigned int nd = 0, nats = 0;

	if (au->nr_dte < 256 || au->nr_dte > AMDVI_NR_DEVIDS || (au->nr_dte & (au->nr_dte - 1)) ||
	    !au->devtab.va || au->devtab.len != (size_t)au->nr_dte * AMDVI_DTE_SIZE)
		bad = "device table size";
	else if (au->cmd_bytes != AMDVI_CMD_BYTES || !au->cmd.va || au->cmd.len < au->cmd_bytes ||
		 au->cmd_tail >= au->cmd_bytes || (au->cmd_tail % AMDVI_CMD_SIZE))
		bad = "command buffer";
	else if (!au->sem.va || au->sem.len < 8 || au->cw_w0 != amdvi_cw_w0(au->sem.iova))
		bad = "completion-wait word";
	else if ((au->evt.va &&
		  (au->evt_bytes != 16u << AMDVI_EVT_LEN || au->evt.len < au->evt_bytes)) ||
		 (au->ppr && !au->deferred &&
		  (!au->pprl.va || au->ppr_bytes != 16u << AMDVI_PPRL_LEN ||
		   au->pprl.len < au->ppr_bytes)))
		bad = "event / PPR log";
	else if (au->max_levels != amdvi_efr_max_levels(au->efr) || au->levels < 1 ||
		 au->levels > au->max_levels || au->glx_max > AMDVI_GLX_MAX ||
		 au->gt != !!(au->efr & AMDVI_EFR_GT_SUP) ||
		 au->v2 != (au->gt && (au->efr & AMDVI_EFR_GIO_SUP)) ||
		 au->pasid_bits != v2_pasid_bits(au))
		bad = "capabilities";
	else if (!au->timeout_ns || au->timeout_ns > 60ull * AMDVI_TIMEOUT_NS)
		bad = "time-out";
	else if (*(const unsigned char *)&au->failed > 1 ||
		 *(const unsigned char *)&au->deferred > 1 || (au->deferred && au->evt.va))
		bad = "failed / deferred flag";
	if (!bad)
		list_for_each(pos, &au->devs)
		{
			const struct amdvi_dev *ad = list_entry(pos, struct amdvi_dev, link);

			if (++nd > AMDVI_NR_DEVIDS || ad->devid >= au->nr_dte ||
			    (ad->alias && ad->rid >= au->nr_dte) || ad->dev->priv != ad) {
				bad = "device list";
				break;
			}
			nats += ad->ats ? 1u : 0u;
			if (amdvi_gcr3_check(au, ad) || (ad->g && !au->v2) ||
			    ad->rid_kind > FAM_ATTACH_IDENTITY) {
				bad = "GCR3 table of a device";
				break;
			}
		}
	/* The flush skips the ATS scan on this count (amdvi_flush). */
	if (!bad && nats != au->n_ats)
		bad = "ATS device count";
	if (bad) {
		AMDVI_LOG(ERR, "unit %u: the saved driver state is inconsistent (%s): not used",
			  au->u->obj.id, bad);
		return -ESTALE;
	}
	return 0;
}

/* A new process adopts the state: the unit must still use our tables. */
static int amdvi_unit_adopt(struct uiommu_unit *u)
{
	struct amdvi_unit *au = amdvi_of(u);
	const struct uiommu_regio *r = amdvi_rio(au);
	uint64_t dt, ctl;

	if (state_check(au))
		return -ESTALE;
	dt = reg_read64(r, AMDVI_REG_DEVTAB);
	ctl = reg_read64(r, AMDVI_REG_CONTROL);
	if (dt != devtab_reg(au) ||
	    (!au->deferred &&
	     (!(ctl & AMDVI_CTRL_IOMMU_EN) ||
	      (reg_read64(r, AMDVI_REG_CMDBUF) & AMDVI_BASE_ADDR) != au->cmd.iova))) {
		AMDVI_LOG(ERR,
			  "unit %u: hardware no longer uses our tables (DevTab 0x%llx Control "
			  "0x%llx)",
			  u->obj.id, (unsigned long long)dt, (unsigned long long)ctl);
		return -ESTALE;
	}
	return 0;
}

/* The tables in memory were put back to an earlier image: restart the
 * command buffer (its position in memory is not the hardware's), put the
 * device table base back if it changed, make sure translation is on, and
 * invalidate everything. */
static int amdvi_unit_recover(struct uiommu_unit *u)
{
	struct amdvi_unit *au = amdvi_of(u);
	const struct uiommu_regio *r = amdvi_rio(au);
	int rc;

	rc = state_check(au);
	if (rc)
		return rc;
	if (au->failed)
		return -EIO;
	if (au->deferred)
		return enable(au); /* off: nothing is cached, the base put back */
	amdvi_cmd_stop(au);
	if (!(reg_read64(r, AMDVI_REG_CONTROL) & AMDVI_CTRL_IOMMU_EN))
		AMDVI_LOG(WARNING, "unit %u: translation was off after the rollback: enabling it",
			  u->obj.id);
	rc = enable(au);
	if (!rc)
		rc = amdvi_cmd_start(au);
	if (rc) {
		/* No command buffer: the rolled-back tables cannot be made
		 * the unit's view. */
		amdvi_unit_fail(au, rc);
		return -EIO;
	}
	/* A failed wait recovers by itself with a second global
	 * invalidation, and fails the unit when that one fails too. */
	(void)flush_everything(au);
	return au->failed ? -EIO : 0;
}

/* UIOMMU_UNIT_F_DEFER_ENABLE: translation on, with the DTEs written
 * since (IommuEn, AMD IOMMU 3.3.x Control), then the command buffer and
 * the logs, and everything the unit may hold from before invalidated. */
static int amdvi_unit_enable(struct uiommu_unit *u)
{
	struct amdvi_unit *au = amdvi_of(u);
	const struct uiommu_regio *r;
	int rc;

	if (!au)
		return -EINVAL;
	if (!au->deferred)
		return 0;
	if (au->failed)
		return -EIO;
	r = amdvi_rio(au);
	au->deferred = false;
	rc = enable(au);
	if (!rc)
		rc = amdvi_cmd_start(au);
	if (rc)
		goto err_off;
	rc = amdvi_logs_start(au);
	if (rc)
		goto err_cmd;
	/* A failed wait recovers by itself, and fails the unit (every
	 * device blocked) when the recovery's own invalidation fails. */
	(void)flush_everything(au);
	hw_info_fill(u, au);
	return au->failed ? -EIO : 0;

err_cmd:
	amdvi_cmd_stop(au);
err_off:
	reg_write64(r, AMDVI_REG_CONTROL, reg_read64(r, AMDVI_REG_CONTROL) & ~AMDVI_CTRL_IOMMU_EN);
	au->deferred = true;
	AMDVI_LOG(ERR, "unit %u: translation did not come on (%d): it stays off", u->obj.id, rc);
	return rc;
}

static int amdvi_pgt_config(struct uiommu_unit *u, bool stage1, bool nest_parent,
			    struct pgt_cfg *cfg)
{
	struct amdvi_unit *au = amdvi_of(u);

	memset(cfg, 0, sizeof(*cfg));
	cfg->node = u->numa_node;
	cfg->coherent = true;
	if (stage1) {
		/* Our own v2 table: x86-64 4-level, the lower canonical half. */
		if (!au->v2 || nest_parent)
			return -EOPNOTSUPP;
		cfg->fmt = PGT_X86_FL;
		cfg->levels = 4;
		cfg->ias = 47;
		cfg->oas = AMDVI_OAS;
		cfg->pgsize_bitmap = amdvi_pgsizes();
		return 0;
	}
	if (nest_parent && !au->gt)
		return -EOPNOTSUPP; /* nesting needs GTSup */
	cfg->fmt = PGT_AMD_V1;
	cfg->levels = au->levels;
	cfg->ias = levels_ias(au->levels);
	cfg->oas = AMDVI_OAS;
	cfg->pgsize_bitmap = amdvi_pgsizes();
	return 0;
}

static bool amdvi_pgt_compatible(struct uiommu_unit *u, const struct pgt_cfg *cfg)
{
	struct amdvi_unit *au = amdvi_of(u);
	unsigned int levels = cfg->hw.amd.mode ? cfg->hw.amd.mode : cfg->levels;

	if (cfg->fmt == PGT_X86_FL)
		return au->v2 && cfg->levels == 4 && cfg->ias <= 47 &&
		       !(cfg->pgsize_bitmap & ~amdvi_pgsizes()) && cfg->oas <= AMDVI_OAS;
	return cfg->fmt == PGT_AMD_V1 && levels >= 1 && levels <= au->max_levels &&
	       !(cfg->pgsize_bitmap & ~amdvi_pgsizes()) && cfg->oas <= AMDVI_OAS;
}

/* The kernel's AMD IOMMU driver claims the MMIO range as "amd_iommu". */
static const char *const amdvi_claims[] = {"amd_iommu", "AMD-Vi", NULL};

const struct uiommu_family_ops amdvi_family_ops = {
	.name = "amdvi",
	.family = UIOMMU_FAMILY_AMDVI,
	.regs =
		{
			.what = "AMD-Vi",
			.size = AMDVI_REG_SIZE,
			.claims = amdvi_claims,
			.kernel_off = "boot with amd_iommu=off",
		},
	.pasid_stage1 = true,
	.desc_check = amdvi_desc_check,
	.unit_init = amdvi_unit_init,
	.unit_enable = amdvi_unit_enable,
	.unit_fini = amdvi_unit_fini,
	.unit_adopt = amdvi_unit_adopt,
	.unit_recover = amdvi_unit_recover,
	.unit_resv = fam_resv_x86_msi,
	.pgt_config = amdvi_pgt_config,
	.pgt_compatible = amdvi_pgt_compatible,
	.dev_set = amdvi_dev_set,
	.s1_check = amdvi_s1_check,
	.dev_walk = amdvi_dev_walk,
	.dev_dids = amdvi_dev_dids,
	.dev_probe = amdvi_dev_probe,
	.dev_release = amdvi_dev_release,
	.flush = amdvi_flush,
	.cache_invalidate = amdvi_cache_invalidate,
	.poll = amdvi_poll,
	.page_response = amdvi_page_response,
	.peek = amdvi_peek,
	.decode_regs = amdvi_decode_regs,
};
