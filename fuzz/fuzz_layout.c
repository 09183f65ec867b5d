/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the `uiommuctl apply` layout parser on arbitrary bytes
 * (apps/uiommuctl/layout.c: parse and check only, no state).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct layout l = {.file = "fuzz", .err = NULL};

	if (layout_parse(&l, (const char *)data, size) == 0) {
		/* Exercise the result: what the parser accepted must hold up. */
		for (int i = 0; i < l.n; i++) {
			const struct layout_stmt *s = &l.st[i];

			if (s->kind < ST_DEVICE || s->kind > ST_ATTACH ||
			    strnlen(s->name, sizeof(s->name)) == sizeof(s->name) ||
			    strnlen(s->dev, sizeof(s->dev)) == sizeof(s->dev) ||
			    strnlen(s->unit, sizeof(s->unit)) == sizeof(s->unit))
				__builtin_trap();
			if (s->kind == ST_WINDOW &&
			    (!s->len || ((s->iova | s->len | s->phys) & 0xfff) ||
			     s->iova + (s->len - 1) < s->iova))
				__builtin_trap();
			if (s->kind == ST_DEVICE && !s->unit_id == !s->unit[0])
				__builtin_trap();
		}
	}
	layout_free(&l);
	return 0;
}
