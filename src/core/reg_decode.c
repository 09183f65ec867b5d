/* SPDX-License-Identifier: BSD-3-Clause */
/* Register decoding for tools, shared by every family (reg_decode.h). */
#include "core/reg_decode.h"
#include "core/bitfield.h"

void reg_view_emit(uiommu_reg_cb cb, void *arg, enum uiommu_reg_kind kind, const char *name,
		   uint32_t off, uint32_t width, uint64_t val, const char *text, uint32_t digits,
		   const struct reg_field_desc *fd, size_t nfd)
{
	struct uiommu_reg_field f[REG_FIELDS_MAX];
	struct uiommu_reg_view v = {
		.kind = kind,
		.name = name,
		.offset = off,
		.width = width,
		.value = val,
		.text = text,
		.hex_digits = digits,
		.fields = f,
	};

	for (size_t i = 0; i < nfd && i < REG_FIELDS_MAX; i++) {
		uint64_t raw = FIELD_GET(fd[i].mask, val);

		f[i].name = fd[i].name;
		f[i].value = fd[i].decode ? fd[i].decode(raw) : raw + (uint64_t)(int64_t)fd[i].plus;
		f[i].flag = FIELD_MAX(fd[i].mask) == 1;
		v.nr_fields++;
	}
	cb(arg, &v);
}
