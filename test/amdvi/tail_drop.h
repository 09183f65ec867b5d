/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exactly one wait fails (amdvi-drv, amdvi-v2): a register window that
 * drops the next @tail_drop writes of the command buffer's tail.  The
 * unit never sees those commands, their COMPLETION_WAIT times out, and
 * the recovery's global invalidation (a later tail write) goes through.
 * Install: tail_real = unit_regs(u)->model; unit_regs(u)->model = &tail_io.
 */
#ifndef UIOMMU_TEST_AMDVI_TAIL_DROP_H
#define UIOMMU_TEST_AMDVI_TAIL_DROP_H

#include "core/regs.h"
#include "hw/amdvi/amdvi_regs.h"

static const struct uiommu_model_io *tail_real;
static unsigned int tail_drop;

static uint64_t tail_read(void *m, uint32_t off, unsigned int size)
{
	return tail_real->read(m, off, size);
}

static void tail_write(void *m, uint32_t off, uint64_t v, unsigned int size)
{
	if (off == AMDVI_REG_CMD_TAIL && tail_drop) {
		tail_drop--;
		return;
	}
	tail_real->write(m, off, v, size);
}

static const struct uiommu_model_io tail_io = {.read = tail_read, .write = tail_write};

#endif
