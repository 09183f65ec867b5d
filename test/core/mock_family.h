/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A mock IOMMU family for the core's tests (iommufd selftest style): it
 * records what the core asks of a driver, so the object model can be tested
 * without any hardware or model.  Installed with uiommu_family_override().
 */
#ifndef UIOMMU_MOCK_FAMILY_H
#define UIOMMU_MOCK_FAMILY_H

#include <stdint.h>

#include "core/core.h"

#define MOCK_MAX_SLOTS 64

struct mock_slot {
	uint32_t hw_id;
	uint32_t pasid;
	enum fam_attach_kind kind;
	uint32_t did;
	uint64_t root;
	uint32_t s2_did;
	int used;
};

/* Per-unit mock state (in the arena, so it survives adoption). */
struct mock_unit {
	uint32_t ias; /* input width it reports */
	int nested;
	struct mock_slot slots[MOCK_MAX_SLOTS];
	uint32_t flush_calls;	/* ops->flush invocations */
	uint32_t flush_entries; /* fam_flush entries seen */
	uint32_t inv_cmds;	/* user invalidation commands */
	uint32_t pending_events;
	uint32_t adopted;
};

extern const struct uiommu_family_ops mock_family_ops;
/* Knobs read by unit_init: the next unit's input width and page sizes. */
extern uint32_t mock_next_ias;
extern uint64_t mock_next_pgsizes;
/* Make the Nth dev_set fail with -EIO (0: never). */
extern unsigned int mock_fail_dev_set;
/* Make the Nth dev_release fail with -EIO (0: never); calls counted, and
 * unit_fini calls. */
extern unsigned int mock_fail_dev_release;
extern unsigned int mock_dev_releases;
extern unsigned int mock_unit_finis;

struct mock_unit *mock_of(struct uiommu_unit *u);
struct mock_slot *mock_slot_find(struct uiommu_unit *u, uint32_t hw_id, uint32_t pasid);
/* Translate through what the mock "hardware" has for (hw_id, pasid). */
uint64_t mock_translate(struct uiommu_ctx *ctx, struct uiommu_unit *u, uint32_t hw_id,
			uint32_t pasid, uint64_t iova);

#endif
