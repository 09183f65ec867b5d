/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AMD-Vi registers read through the read-only window the core mapped,
 * without taking the unit over (`uiommuctl probe`), and their decoding
 * for tools (EFR, EFR2, Control, the base registers; Status for a peek).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/amdvi/amdvi_internal.h"

static void describe(uint64_t efr, uint64_t ctl, char *t, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} f[] = {
		{AMDVI_EFR_PREF_SUP, "prefetch"},
		{AMDVI_EFR_PPR_SUP, "ppr"},
		{AMDVI_EFR_XT_SUP, "x2apic"},
		{AMDVI_EFR_NX_SUP, "nx"},
		{AMDVI_EFR_GT_SUP, "guest-translation"},
		{AMDVI_EFR_IA_SUP, "invalidate-all"},
		{AMDVI_EFR_GA_SUP, "guest-vapic"},
		{AMDVI_EFR_HE_SUP, "hw-error-regs"},
		{AMDVI_EFR_PC_SUP, "perf-counters"},
	};
	size_t n = (size_t)snprintf(t, len, "host tables up to %u levels, %u-bit PASIDs",
				    amdvi_efr_max_levels(efr),
				    (unsigned int)FIELD_GET(AMDVI_EFR_PASMAX, efr) + 1);

	for (size_t i = 0; i < ARRAY_SIZE(f) && n < len; i++)
		if (efr & f[i].bit)
			n += (size_t)snprintf(t + n, len - n, ", %s", f[i].name);
	if (n < len)
		snprintf(t + n, len - n, "; control%s%s%s",
			 (ctl & AMDVI_CTRL_IOMMU_EN) ? " IommuEn" : "",
			 (ctl & AMDVI_CTRL_CMD_BUF_EN) ? " CmdBufEn" : "",
			 (ctl & AMDVI_CTRL_EVT_LOG_EN) ? " EventLogEn" : "");
}

int amdvi_peek(const struct uiommu_regio *r, struct uiommu_unit_peek *out)
{
	struct uiommu_hw_info *i = &out->info;

	i->family = UIOMMU_FAMILY_AMDVI;
	i->u.amdvi.efr = reg_read64(r, AMDVI_REG_EFR);
	i->u.amdvi.efr2 = reg_read64(r, AMDVI_REG_EFR2);
	i->u.amdvi.control = reg_read64(r, AMDVI_REG_CONTROL);
	i->u.amdvi.devtab = reg_read64(r, AMDVI_REG_DEVTAB);
	i->u.amdvi.cmdbuf = reg_read64(r, AMDVI_REG_CMDBUF);
	i->u.amdvi.evtlog = reg_read64(r, AMDVI_REG_EVTLOG);
	i->u.amdvi.pprlog = reg_read64(r, AMDVI_REG_PPRLOG);
	i->u.amdvi.levels = 0;
	out->status = reg_read64(r, AMDVI_REG_STATUS);
	if (i->u.amdvi.efr == UINT64_MAX && i->u.amdvi.control == UINT64_MAX)
		return -ENODEV;
	out->in_use = i->u.amdvi.control &
		      (AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVT_LOG_EN);
	describe(i->u.amdvi.efr, i->u.amdvi.control, out->text, sizeof(out->text));
	return 0;
}

/* ------------------------------------------------------------------ */

struct field {
	const char *name;
	uint64_t mask;
	int plus; /* shown as value + plus */
};

static const struct field efr_fields[] = {
	{"PreFSup", AMDVI_EFR_PREF_SUP, 0},   {"PPRSup", AMDVI_EFR_PPR_SUP, 0},
	{"XTSup", AMDVI_EFR_XT_SUP, 0},	      {"NXSup", AMDVI_EFR_NX_SUP, 0},
	{"GTSup", AMDVI_EFR_GT_SUP, 0},	      {"IASup", AMDVI_EFR_IA_SUP, 0},
	{"GASup", AMDVI_EFR_GA_SUP, 0},	      {"HESup", AMDVI_EFR_HE_SUP, 0},
	{"PCSup", AMDVI_EFR_PC_SUP, 0},	      {"HATS", AMDVI_EFR_HATS, 0},
	{"GATS", AMDVI_EFR_GATS, 0},	      {"GLXSup", AMDVI_EFR_GLX_SUP, 0},
	{"GAMVAPIC", AMDVI_EFR_GAM_VAPIC, 0}, {"PASmax", AMDVI_EFR_PASMAX, 0},
	{"GIoSup", AMDVI_EFR_GIO_SUP, 0},     {"HASup", AMDVI_EFR_HA_SUP, 0},
	{"EPHSup", AMDVI_EFR_EPH_SUP, 0},     {"HDSup", AMDVI_EFR_HD_SUP, 0},
	{"SNPSup", AMDVI_EFR_SNP_SUP, 0},
};

static const struct field efr2_fields[] = {
	{"SNPAVICSup", AMDVI_EFR2_SNP_AVIC, 0},
};

static const struct field ctl_fields[] = {
	{"IommuEn", AMDVI_CTRL_IOMMU_EN, 0},
	{"HtTunEn", AMDVI_CTRL_HT_TUN_EN, 0},
	{"EventLogEn", AMDVI_CTRL_EVT_LOG_EN, 0},
	{"EventIntEn", AMDVI_CTRL_EVT_INT_EN, 0},
	{"ComWaitIntEn", AMDVI_CTRL_COMWAIT_INT_EN, 0},
	{"InvTimeOut", AMDVI_CTRL_INV_TIMEOUT, 0},
	{"PassPW", AMDVI_CTRL_PASS_PW, 0},
	{"ResPassPW", AMDVI_CTRL_RES_PASS_PW, 0},
	{"Coherent", AMDVI_CTRL_COHERENT, 0},
	{"Isoc", AMDVI_CTRL_ISOC, 0},
	{"CmdBufEn", AMDVI_CTRL_CMD_BUF_EN, 0},
	{"PPRLogEn", AMDVI_CTRL_PPR_LOG_EN, 0},
	{"PprIntEn", AMDVI_CTRL_PPR_INT_EN, 0},
	{"PPREn", AMDVI_CTRL_PPR_EN, 0},
	{"GTEn", AMDVI_CTRL_GT_EN, 0},
	{"GAEn", AMDVI_CTRL_GA_EN, 0},
};

static const struct field devtab_fields[] = {
	{"DevTabBase", AMDVI_BASE_ADDR, 0}, {"Size", AMDVI_DEVTAB_SIZE, 1}, /* 4 KiB pages */
};

static const struct field buf_fields[] = {
	{"Base", AMDVI_BASE_ADDR, 0}, {"Len", AMDVI_BUF_LEN, 0}, /* log2 entries */
};

static const struct field sts_fields[] = {
	{"EventOverflow", AMDVI_STS_EVT_OVERFLOW, 0},
	{"EventLogInt", AMDVI_STS_EVT_INT, 0},
	{"ComWaitInt", AMDVI_STS_COMWAIT_INT, 0},
	{"EventLogRun", AMDVI_STS_EVT_RUN, 0},
	{"CmdBufRun", AMDVI_STS_CMD_RUN, 0},
	{"PprOverflow", AMDVI_STS_PPR_OVERFLOW, 0},
	{"PprInt", AMDVI_STS_PPR_INT, 0},
	{"PprLogRun", AMDVI_STS_PPR_RUN, 0},
	{"GALogRun", AMDVI_STS_GA_RUN, 0},
};

#define FIELDS_MAX 32u

static void emit(uiommu_reg_cb cb, void *arg, enum uiommu_reg_kind kind, const char *name,
		 uint32_t off, uint64_t val, const struct field *fd, size_t nfd)
{
	struct uiommu_reg_field f[FIELDS_MAX];
	struct uiommu_reg_view v = {
		.kind = kind,
		.name = name,
		.offset = off,
		.width = 64,
		.value = val,
		.hex_digits = 16,
		.fields = f,
	};

	for (size_t i = 0; i < nfd && i < FIELDS_MAX; i++) {
		f[i].name = fd[i].name;
		f[i].value = FIELD_GET(fd[i].mask, val) + (uint64_t)fd[i].plus;
		f[i].flag = FIELD_MAX(fd[i].mask) == 1;
		v.nr_fields++;
	}
	cb(arg, &v);
}

void amdvi_decode_regs(const struct uiommu_hw_info *info, const uint64_t *status, uiommu_reg_cb cb,
		       void *arg)
{

	emit(cb, arg, UIOMMU_REG_ID, "EFR", AMDVI_REG_EFR, info->u.amdvi.efr, efr_fields,
	     ARRAY_SIZE(efr_fields));
	emit(cb, arg, UIOMMU_REG_ID, "EFR2", AMDVI_REG_EFR2, info->u.amdvi.efr2, efr2_fields,
	     ARRAY_SIZE(efr2_fields));
	emit(cb, arg, UIOMMU_REG_ID, "Control", AMDVI_REG_CONTROL, info->u.amdvi.control,
	     ctl_fields, ARRAY_SIZE(ctl_fields));
	emit(cb, arg, UIOMMU_REG_ID, "DevTabBase", AMDVI_REG_DEVTAB, info->u.amdvi.devtab,
	     devtab_fields, ARRAY_SIZE(devtab_fields));
	emit(cb, arg, UIOMMU_REG_ID, "CmdBufBase", AMDVI_REG_CMDBUF, info->u.amdvi.cmdbuf,
	     buf_fields, ARRAY_SIZE(buf_fields));
	emit(cb, arg, UIOMMU_REG_ID, "EventLogBase", AMDVI_REG_EVTLOG, info->u.amdvi.evtlog,
	     buf_fields, ARRAY_SIZE(buf_fields));
	emit(cb, arg, UIOMMU_REG_ID, "PPRLogBase", AMDVI_REG_PPRLOG, info->u.amdvi.pprlog,
	     buf_fields, ARRAY_SIZE(buf_fields));
	if (status) {
		emit(cb, arg, UIOMMU_REG_STATUS, "Status", AMDVI_REG_STATUS, *status, sts_fields,
		     ARRAY_SIZE(sts_fields));
		return;
	}
	/* The depth of the v1 tables the unit's HWPTs get, as a feature name
	 * (tools show features as flags). */
	static const char *const lv[] = {"v1-3level", "v1-4level", "v1-5level", "v1-6level"};
	uint32_t l = info->u.amdvi.levels;

	if (l >= 3 && l <= 6)
		emit(cb, arg, UIOMMU_REG_FEATURE, lv[l - 3], 0, 1, NULL, 0);
}
