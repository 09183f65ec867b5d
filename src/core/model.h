/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in software models of the IOMMU families, as the core sees them.
 *
 * A unit with access == UIOMMU_UNIT_MODEL is the family's model: the core
 * creates the instance (in the arena, so it outlives the process like the
 * rest of the state) the first time the family's driver asks for its
 * register window (unit_regs_map), hands the driver a struct uiommu_regio
 * whose accessors call the model's register hooks, and destroys the
 * instance when the unit goes.  The driver never sees the model, only its
 * registers; uiommu_model_dma() reaches the model's DMA engine through the
 * same table.
 *
 * One ops table per family, found by family number (uiommu_model_ops_get)
 * from a table generated at configure time from the models built
 * (src/model/meson.build -> model/model_builtin.h).
 */
#ifndef UIOMMU_MODEL_H
#define UIOMMU_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uiommu/uiommu.h"
#include "core/regs.h"
#include "env/env.h"

struct uiommu_model_ops {
	enum uiommu_family family;
	const char *name; /* "vtd": what `uiommuctl --model` takes */
	const char *what; /* "VT-d", for messages */

	/* A new instance in the arena, configured by @cfg (comma-separated
	 * key=value, docs/models.md; NULL or "": the defaults).
	 * 0, -EINVAL (unknown key or bad value), -ENOMEM. */
	int (*create)(const char *cfg, void **out);
	void (*destroy)(void *m);
	/* The register file: its size and the hooks behind reg_read*() /
	 * reg_write*() (process-local pointers, the instance is shared). */
	uint64_t (*reg_size)(const void *m);
	const struct uiommu_model_io *io;
	/* DMA of @len bytes at @iova as the device with ID @hw_id (RID,
	 * StreamID, DeviceID) on the unit would, with @pasid or
	 * UIOMMU_NO_PASID: into @buf (read) or from it (@write).  0, -EFAULT
	 * (the modelled IOMMU blocked it: nothing moved, a fault recorded),
	 * -EINVAL (an ID the family cannot carry), -EIO. */
	int (*dma)(void *m, uint32_t hw_id, uint32_t pasid, uint64_t iova, void *buf, uint64_t len,
		   bool write);
};

/*
 * Memory as a model reaches it: the CPU address of bus address @pa (its
 * caller keeps an access within one 4 KiB page).  Tables, queues and logs
 * are arena memory; DMA data (@dma) may also be any address when IOVA ==
 * VA (tests hand ordinary buffers to a model's DMA engine).  NULL when the
 * model cannot reach it (the model reports a hardware error).
 */
static inline void *model_mem(uint64_t pa, bool dma)
{
	void *va = uenv_iova_to_va(pa);

	if (va)
		return va;
	if (dma && pa >= UENV_PAGE_SIZE && uenv_iova_is_va()) {
		/* Any address reaches here (translation off, a pass-through
		 * DTE): only a page this process has mapped is memory, else
		 * the model reports a hardware error instead of crashing. */
		unsigned char in_core[1];
		long ps = sysconf(_SC_PAGESIZE);
		void *page;

		if (pa > UINTPTR_MAX || ps <= 0)
			return NULL;
		page = (void *)(uintptr_t)(pa & ~(uint64_t)(ps - 1));
		if (mincore(page, 1, in_core))
			return NULL;
		return (void *)(uintptr_t)pa;
	}
	return NULL;
}

#define UIOMMU_MODEL_SLOTS 4u
extern const struct uiommu_model_ops *const uiommu_model_tab[UIOMMU_MODEL_SLOTS];
/* The model of a family, or NULL when none is built into this library. */
static inline const struct uiommu_model_ops *uiommu_model_ops_get(enum uiommu_family fam)
{
	return (unsigned int)fam < UIOMMU_MODEL_SLOTS ? uiommu_model_tab[fam] : NULL;
}

#endif
