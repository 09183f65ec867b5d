/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one interface between the core object model and a hardware family.
 *
 * One ops table per family (VT-d, SMMUv3, AMD-Vi), found by family number
 * (uiommu_family_ops_get), never stored in shared state: function pointers
 * differ between processes.  What each hook means per family:
 *
 *   core notion        VT-d                      SMMUv3                 AMD-Vi
 *   ----------------   -----------------------   --------------------   ------------------
 *   domain ID          DID (CAP.ND)              ASID (S1) / VMID (S2)  DomainID (DTE)
 *   device context     root+context entry        STE                    DTE
 *                      (scalable: +PASID entry)
 *   PASID table        PASID dir + PASID table   CD table               GCR3 table
 *   paging HWPT        second-level table        S2 (or S1 with CD)     v1 host table
 *   stage-1 HWPT       first-level table         S1 via CD              v2 (GCR3) table
 *   invalidation       QI descriptors /          CMDQ commands +        command buffer +
 *                      register-based + wait     CMD_SYNC               COMPLETION_WAIT
 *   events             fault recording regs,     EVTQ, PRIQ             event log, PPR log
 *                      page request queue
 *
 * Every hook runs with the context lock held.  Hooks that write an entry
 * the hardware may cache follow: write entry -> write back cache lines if
 * the walker is not coherent -> invalidate -> wait, before returning.
 */
#ifndef UIOMMU_FAMILY_H
#define UIOMMU_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu.h"
#include "core/regs.h"
#include "pgtable/pgtable.h"

struct uiommu_unit;
struct uiommu_device;
struct uiommu_hwpt;

/* How a RID or PASID is to be translated, as the family must program it. */
enum fam_attach_kind {
	FAM_ATTACH_BLOCKED = 0, /* no translation: every DMA faults/aborts */
	FAM_ATTACH_PAGING,	/* one table (second-level/S2/v1, or first-level/S1) */
	FAM_ATTACH_NESTED,	/* user stage-1 over a nest-parent stage-2 */
	FAM_ATTACH_IDENTITY,	/* pass-through */
};

struct fam_attach {
	enum fam_attach_kind kind;
	uint32_t did;			      /* domain ID / ASID / VMID on this unit */
	const struct pgt_cfg *cfg;	      /* PAGING: the table (cfg->fmt says which stage) */
	const struct pgt_cfg *s2_cfg;	      /* NESTED: the parent's stage-2 table */
	const struct uiommu_hwpt_s1_data *s1; /* NESTED: user stage-1 description */
	uint32_t s2_did;		      /* NESTED: parent's domain ID (VMID) */
};

/* Invalidation of one domain's translations after a map/unmap. */
struct fam_flush {
	uint32_t did;
	uint64_t iova;	 /* start */
	uint64_t size;	 /* 0: the whole domain */
	uint64_t pgsize; /* smallest leaf touched */
	bool leaf_only;	 /* no table pages were freed */
	enum pgt_format fmt;
};

/* Where a family's registers are and who else may own them: the core maps
 * a unit's window (unit_regs_map) and peeks with these. */
struct fam_regs_info {
	const char *what;	   /* the family for people: "VT-d" */
	uint64_t size;		   /* the window peek maps (identification registers) */
	const char *const *claims; /* /proc/iomem names (prefixes) of the kernel's driver
				    * for such units, NULL-terminated ("dmar") */
	const char *kernel_off;	   /* how to keep that driver off ("boot with intel_iommu=off") */
	const char *platform_driver; /* a platform driver whose bound devices own their
				      * units (uenv_platform_claim), NULL: none */
};

struct uiommu_family_ops {
	const char *name;
	enum uiommu_family family;
	struct fam_regs_info regs;
	/* A fact: an attach to an IOAS picks or makes a stage-1 HWPT where
	 * the unit has stage 1 (SMMUv3: a SubstreamID selects a CD, and a
	 * RID on a stage-2 STE could have none; iommufd's paging domains
	 * on SMMUv3 are stage 1 too).  uiommu_hwpt_alloc keeps its meaning. */
	bool auto_stage1;
	/* A fact: a PASID is translated by a stage-1 table only (AMD-Vi: a
	 * GCR3 entry names a v2 table): an attach of a PASID to an IOAS
	 * picks or makes a stage-1 HWPT. */
	bool pasid_stage1;

	/* Optional.  Check desc->family_opts (not NULL, tagged with this
	 * family: the core checked) before anything changes: 0, -EOPNOTSUPP
	 * (unknown flag bits), -EINVAL.  Called by unit_add and peek.
	 * Without it, family_opts must be NULL. */
	int (*desc_check)(const struct uiommu_unit_desc *desc);
	/* Take over the unit: ask the core for its register window
	 * (unit_regs_map: MMIO or the built-in model, the driver cannot tell),
	 * read capabilities into unit->caps and unit->hw_info, check nobody
	 * else translates (-EBUSY unless desc->force), allocate root/stream/
	 * device tables and queues, enable translation with every device
	 * blocked.  On failure everything is undone (the window is the
	 * core's). */
	int (*unit_init)(struct uiommu_unit *u, const struct uiommu_unit_desc *desc);
	/* Optional.  desc->flags has UIOMMU_UNIT_F_DEFER_ENABLE: unit_init
	 * leaves translation off (everything else up); this turns it on, with
	 * the attachments made since in force.  0 or -errno (stays off).
	 * Without it the flag is refused (-EOPNOTSUPP). */
	int (*unit_enable)(struct uiommu_unit *u);
	/* Translation off, queues off, free everything unit_init allocated. */
	void (*unit_fini)(struct uiommu_unit *u);
	/* Optional.  A new process adopts shared state; the core has mapped
	 * the register window unit_init asked for: check the hardware still
	 * points at our tables; do not rewrite them. */
	int (*unit_adopt)(struct uiommu_unit *u);
	/* Optional.  This process leaves the state: release process-local
	 * resources of the family's own (the core unmaps the window). */
	void (*unit_leave)(struct uiommu_unit *u);
	/* The unit's tables in memory were put back to an earlier image (a
	 * transaction rolled back, or its process died half-way): bring the
	 * hardware in line with them, without trusting any queue position
	 * the memory holds (restart the command/invalidation queue), and
	 * invalidate every cache the unit has (global invalidations), then
	 * wait.  0, or -errno (the unit is then left blocked if possible). */
	int (*unit_recover)(struct uiommu_unit *u);
	/* Optional.  Reserved regions every unit of the family has whatever
	 * the firmware says (x86: the MSI window, fam_resv_x86_msi): up to
	 * @max written to @out, returns how many.  Asked once, after
	 * unit_init; they apply to every device of the unit. */
	uint32_t (*unit_resv)(struct uiommu_unit *u, struct uiommu_resv_region *out, uint32_t max);

	/* Fill a page-table config for a table this unit can walk.
	 * stage1 = first-level/stage-1 format.  -EOPNOTSUPP if not supported. */
	int (*pgt_config)(struct uiommu_unit *u, bool stage1, bool nest_parent,
			  struct pgt_cfg *cfg);
	/* Can this unit walk an existing table with this config? */
	bool (*pgt_compatible)(struct uiommu_unit *u, const struct pgt_cfg *cfg);

	/* Program (or re-program, atomically where the hardware allows) the
	 * RID (pasid == UIOMMU_NO_PASID) or PASID of a device, flush the
	 * caches that held the old entry, and wait. */
	int (*dev_set)(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
		       const struct fam_attach *a);
	/* Optional: can the unit program this user stage-1 description (widths,
	 * features behind its flags)?  0, -EOPNOTSUPP (unknown flags) or
	 * -EINVAL.  Called before a nested HWPT is allocated. */
	int (*s1_check)(struct uiommu_unit *u, const struct uiommu_hwpt_s1_data *s1);

	/* Optional, for tools (uiommu_device_ctx_walk): the device-context
	 * entries the unit reads for @dev's RID or @pasid before the page
	 * table (SMMUv3: L1STD, STE, L1CD, CD; nested: the guest's stage-1
	 * levels for @iova through stage 2; AMD-Vi: the DTE, and again at an
	 * IVRS alias), each decoded, into @out (at most
	 * @max); returns how many. */
	int (*dev_walk)(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
			uint64_t iova, struct uiommu_walk_level *out, int max);

	/* Optional, for the state checker (check.c): domain IDs a device
	 * holds that the family took itself with unit_did_alloc (AMD-Vi:
	 * the DomainID of a device's GCR3 table), up to @max into @out;
	 * returns how many.  Called on a device whose priv is an arena
	 * allocation; it must follow no pointer it has not checked
	 * (uenv_is_meta). */
	uint32_t (*dev_dids)(const struct uiommu_unit *u, const struct uiommu_device *dev,
			     uint32_t *out, uint32_t max);

	/* Per-device setup/teardown (e.g. PASID directory, CD table).
	 * dev_release frees the device's driver state whatever happens; it
	 * returns 0, or the error of the invalidation of what the unit may
	 * still cache for the device (the core then marks the unit stale). */
	int (*dev_probe)(struct uiommu_unit *u, struct uiommu_device *dev);
	int (*dev_release)(struct uiommu_unit *u, struct uiommu_device *dev);

	/* Invalidate a batch of ranges, all in one sync/wait.  Returns 0 or
	 * -ETIMEDOUT / -EIO after recovery. */
	int (*flush)(struct uiommu_unit *u, const struct fam_flush *f, uint32_t n);

	/* User (stage-1) invalidations for a vIOMMU: each entry one command,
	 * one sync at the end; *done = number completed.  @s1_did is the
	 * nested HWPT's domain ID on @u, FAM_S1_DID_ALL for every stage-1
	 * domain under @vmid (the vIOMMU as a whole), or FAM_S1_DID_NONE when
	 * the HWPT is installed nowhere (nothing of it is cached). */
	int (*cache_invalidate)(struct uiommu_unit *u, uint32_t vmid, uint32_t s1_did,
				const struct uiommu_inv_entry *e, uint32_t n, uint32_t *done);

	/* Drain events; returns the number written (<= max). */
	uint16_t (*poll)(struct uiommu_unit *u, struct uiommu_event *ev, uint16_t max);
	int (*page_response)(struct uiommu_unit *u, struct uiommu_device *dev, uint32_t pasid,
			     uint32_t grpid, enum uiommu_page_resp code);

	/* Decode the identification registers of a unit the core mapped
	 * read-only (regs.size bytes) without taking it over: out->info,
	 * out->status, out->in_use, out->text.  -ENODEV when nothing of this
	 * family answers there. */
	int (*peek)(const struct uiommu_regio *r, struct uiommu_unit_peek *out);
	/* Describe registers for tools (uiommu_hw_info_decode,
	 * uiommu_unit_peek_decode): one @cb call per identification register
	 * of @info with its fields (UIOMMU_REG_ID), then, for a peek (@status
	 * not NULL), the status register (UIOMMU_REG_STATUS), else the
	 * family-specific capabilities in use that @info carries
	 * (UIOMMU_REG_FEATURE). */
	void (*decode_regs)(const struct uiommu_hw_info *info, const uint64_t *status,
			    uiommu_reg_cb cb, void *arg);
};

/* The x86 interrupt window: DMA writes there are MSIs, never memory
 * (VT-d 3.15, AMD IOMMU 2.1.4.x: 0xFEE0_0000 - 0xFEEF_FFFF).  Every unit
 * of an x86 family reserves it: their unit_resv hook. */
#define FAM_X86_MSI_START 0xfee00000ull
#define FAM_X86_MSI_LAST  0xfeefffffull
uint32_t fam_resv_x86_msi(struct uiommu_unit *u, struct uiommu_resv_region *out, uint32_t max);

#define FAM_S1_DID_ALL  UINT32_MAX	   /* cache_invalidate: the whole vIOMMU */
#define FAM_S1_DID_NONE (UINT32_MAX - 1u) /* cache_invalidate: a HWPT on no unit */

#define UIOMMU_FAMILY_SLOTS 4u
extern const struct uiommu_family_ops *uiommu_family_tab[UIOMMU_FAMILY_SLOTS];
/* The ops of a family, or NULL when it is not built into this library (or
 * the number is not a family). */
static inline const struct uiommu_family_ops *uiommu_family_ops_get(enum uiommu_family fam)
{
	return (unsigned int)fam < UIOMMU_FAMILY_SLOTS ? uiommu_family_tab[fam] : NULL;
}
/* Tests only: make @fam use @ops in this process (NULL restores). */
void uiommu_family_override(enum uiommu_family fam, const struct uiommu_family_ops *ops);

#endif
