/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Settings of a built-in model (uiommu_unit_desc.model_cfg, `uiommuctl
 * --model NAME:CFG`): "key=value,key=value", each key from the model's
 * table, each value a C-notation number within the key's range.  One
 * parser for every family's model (docs/models.md lists the keys).
 */
#ifndef UIOMMU_MODEL_CFG_H
#define UIOMMU_MODEL_CFG_H

#include <stddef.h>
#include <stdint.h>

/** One setting: its name, where it goes in the model's settings struct,
 *  its width (0: bool; else 1, 2, 4 or 8 bytes) and its range. */
struct model_key {
	const char *name;
	size_t off;
	uint8_t width;
	uint64_t lo, hi;
};
/* Table entries; the test test/common/check_model_doc.sh finds the keys in
 * the source by these two macro names. */
#define MODEL_KEY_BOOL(T, n, f) {(n), offsetof(T, f), 0, 0, 1}
#define MODEL_KEY_NUM(T, n, f, lo_, hi_) {(n), offsetof(T, f), sizeof(((T *)0)->f), (lo_), (hi_)}

/**
 * Parse @s into the settings struct @cfg (of @cfg_size bytes): all or
 * nothing (on failure @cfg is as it was).  ",," and a trailing comma are
 * tolerated.  @who names the model in the error log line.
 * @return 0, -EINVAL (unknown key, no '=', a value that is not a number
 * or out of range; logged), -ENOMEM.
 */
int model_cfg_parse(void *cfg, size_t cfg_size, const struct model_key *keys, size_t nkeys,
		    const char *s, const char *who);

#endif
