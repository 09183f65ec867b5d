/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register and descriptor field helpers (Linux bitfield.h style).
 *
 * Fields are described by a contiguous mask; FIELD_PREP shifts a value into
 * the mask, FIELD_GET extracts it.  All arithmetic is 64-bit.
 */
#ifndef UIOMMU_BITFIELD_H
#define UIOMMU_BITFIELD_H

#include <stdint.h>

#define BIT_ULL(n) (1ULL << (n))
/* Mask of bits h..l inclusive, h >= l, h <= 63. */
#define GENMASK_ULL(h, l) ((~0ULL >> (63 - (h))) & (~0ULL << (l)))

/* Index of the lowest set bit of a non-zero mask. */
#define FIELD_SHIFT(mask)     ((unsigned)__builtin_ctzll((uint64_t)(mask)))
#define FIELD_PREP(mask, val) ((((uint64_t)(val)) << FIELD_SHIFT(mask)) & (uint64_t)(mask))
#define FIELD_GET(mask, reg)  ((((uint64_t)(reg)) & (uint64_t)(mask)) >> FIELD_SHIFT(mask))
/* Replace the field in reg by val. */
#define FIELD_SET(mask, reg, val) (((uint64_t)(reg) & ~(uint64_t)(mask)) | FIELD_PREP(mask, val))
/* Largest value the field can hold. */
#define FIELD_MAX(mask) ((uint64_t)(mask) >> FIELD_SHIFT(mask))

#define ALIGN_DOWN_ULL(x, a) ((uint64_t)(x) & ~((uint64_t)(a)-1))
#define ALIGN_UP_ULL(x, a)   (((uint64_t)(x) + (uint64_t)(a)-1) & ~((uint64_t)(a)-1))
#define IS_ALIGNED_ULL(x, a) ((((uint64_t)(x)) & ((uint64_t)(a)-1)) == 0)
#define IS_POW2_ULL(x)	     ((x) != 0 && (((uint64_t)(x) & ((uint64_t)(x)-1)) == 0))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
