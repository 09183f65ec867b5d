/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tool state hung off the context (ctx->ext): DMA buffers handed out by
 * uiommu_buf_alloc() and object names.  Lives in the arena like every
 * other object, created on first use; callers hold ctx->lock.
 */
#ifndef UIOMMU_CTX_EXT_H
#define UIOMMU_CTX_EXT_H

#include "core/core.h"

struct ctx_ext {
	struct list_head bufs;	/* struct ext_buf, allocation order */
	struct list_head names; /* struct ext_name */
	uint32_t nr_bufs;
};

struct ext_buf {
	struct list_node link;
	struct uenv_dma dma;
};

struct ext_name {
	struct list_node link;
	uint32_t id;
	char name[UIOMMU_NAME_MAX];
};

/* The context's ext, allocated when @create; NULL when absent / no memory. */
static inline struct ctx_ext *ctx_ext_get(struct uiommu_ctx *ctx, bool create)
{
	if (!ctx->ext && create) {
		struct ctx_ext *e = uenv_zalloc(sizeof(*e));

		if (!e)
			return NULL;
		list_init(&e->bufs);
		list_init(&e->names);
		ctx->ext = e;
	}
	return ctx->ext;
}

#endif
