/* SPDX-License-Identifier: BSD-3-Clause */
/* Family and model ops look-up, shared family facts, the page-table memory
 * adapter. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/core.h"
#include "core/model.h"
#include "hw/family_builtin.h"
#include "model/model_builtin.h"

/* The built-in families by number (NULL: not built).  The table is
 * generated at configure time with strong references to the ops of every
 * family built (hw/family_builtin.h), so whatever links this file links
 * the drivers too: a program linking libuiommu.a gets them as one linking
 * the shared library does. */
#define BUILTIN_FAMILIES UIOMMU_BUILTIN_FAMILIES
static const struct uiommu_family_ops *const builtin[UIOMMU_FAMILY_SLOTS] = BUILTIN_FAMILIES;

/* (local) What uiommu_family_ops_get() answers: the built-in ops, or a
 * replacement for the core's own tests (a mock family, like iommufd's
 * selftest mock domain). */
const struct uiommu_family_ops *uiommu_family_tab[UIOMMU_FAMILY_SLOTS] = BUILTIN_FAMILIES;

/* The built-in models by family number (NULL: none built); generated like
 * the family table (model/model_builtin.h). */
const struct uiommu_model_ops *const uiommu_model_tab[UIOMMU_MODEL_SLOTS] = UIOMMU_BUILTIN_MODELS;

const char *uiommu_model_name(enum uiommu_family fam)
{
	const struct uiommu_model_ops *m = uiommu_model_ops_get(fam);

	return m && uiommu_family_ops_get(fam) ? m->name : NULL;
}

int uiommu_model_lookup(const char *name, size_t len, enum uiommu_family *fam)
{
	for (unsigned int f = 0; name && f < UIOMMU_MODEL_SLOTS; f++) {
		const char *n = uiommu_model_name((enum uiommu_family)f);

		if (n && strlen(n) == len && !strncmp(n, name, len)) {
			*fam = (enum uiommu_family)f;
			return 0;
		}
	}
	return -ENOENT;
}

void uiommu_family_override(enum uiommu_family fam, const struct uiommu_family_ops *ops)
{
	if ((unsigned int)fam < UIOMMU_FAMILY_SLOTS)
		uiommu_family_tab[fam] = ops ? ops : builtin[fam];
}

uint32_t fam_resv_x86_msi(struct uiommu_unit *u, struct uiommu_resv_region *out, uint32_t max)
{
	(void)u;
	if (!max)
		return 0;
	out[0] = (struct uiommu_resv_region){
		.start = FAM_X86_MSI_START,
		.last = FAM_X86_MSI_LAST,
		.kind = UIOMMU_RESV_MSI,
	};
	return 1;
}

static void *pgt_mem_alloc(void *cookie, int node, uint64_t *pa)
{
	(void)cookie;
	return uenv_page_alloc(node, pa);
}

static void pgt_mem_free(void *cookie, void *va)
{
	(void)cookie;
	uenv_page_free(va);
}

static void pgt_mem_free_zeroed(void *cookie, void *va)
{
	(void)cookie;
	uenv_page_free_zeroed(va);
}

static void *pgt_mem_pa_to_va(void *cookie, uint64_t pa)
{
	(void)cookie;
	return uenv_iova_to_va(pa);
}

static uint16_t *pgt_mem_page_count(void *cookie, void *va)
{
	(void)cookie;
	return uenv_page_count(va);
}

static int pgt_mem_span(void *cookie, uint64_t pa, struct pgt_mem_span *out)
{
	struct uenv_span s;
	int rc;

	(void)cookie;
	rc = uenv_iova_span(pa, &s);
	if (rc)
		return rc;
	*out = (struct pgt_mem_span){
		.pa = s.iova,
		.len = s.len,
		.va = s.va,
		.cnt = s.cnt,
		.gen = s.gen,
		.gen_val = s.gen_val,
	};
	return 0;
}

static void *pgt_mem_table_va(void *cookie, uint64_t pa)
{
	(void)cookie;
	return uenv_table_page(pa);
}

const struct pgt_mem_ops uiommu_pgt_mem = {
	.table_va = pgt_mem_table_va,
	.id = UIOMMU_PGT_MEM_ID,
	.span = pgt_mem_span,
	.alloc_page = pgt_mem_alloc,
	.free_page = pgt_mem_free,
	.free_zeroed_page = pgt_mem_free_zeroed,
	.pa_to_va = pgt_mem_pa_to_va,
	.page_count = pgt_mem_page_count,
};

void uiommu_pgt_mem_register(void)
{
	(void)pgt_mem_register(&uiommu_pgt_mem, NULL);
}
