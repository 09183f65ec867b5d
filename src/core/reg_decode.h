/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register decoding for tools (a family's decode_regs hook: `uiommuctl
 * probe`, `unit show`, uiommu_hw_info_decode): one register's fields,
 * described by a table of masks, handed to the caller's callback as a
 * struct uiommu_reg_view.  Shared by every family's driver.
 */
#ifndef UIOMMU_REG_DECODE_H
#define UIOMMU_REG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "uiommu/uiommu.h"

/** One field of a register. */
struct reg_field_desc {
	const char *name; /**< as the specification spells it */
	uint64_t mask;	  /**< its bits in the register */
	int plus;	  /**< the field holds its value minus this (width-1 fields) */
	/** Optional: what an encoded field means (e.g. SMMUv3 IDR5.OAS -> bits). */
	uint64_t (*decode)(uint64_t field);
};

/** The most fields one register may have. */
#define REG_FIELDS_MAX 32u

/**
 * Decode @val with the fields @fd[0..@nfd) and hand the register to @cb.
 * @width is 32 or 64; @digits the hex digits the raw value is shown with (0:
 * as few as needed, uiommu_reg_view.hex_digits);
 * @text an optional description in words (NULL: none).
 */
void reg_view_emit(uiommu_reg_cb cb, void *arg, enum uiommu_reg_kind kind, const char *name,
		   uint32_t off, uint32_t width, uint64_t val, const char *text, uint32_t digits,
		   const struct reg_field_desc *fd, size_t nfd);

#endif
