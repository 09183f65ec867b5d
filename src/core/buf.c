/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA buffers for tools and tests: IOVA-contiguous arena memory recorded in
 * the context, so that a buffer mapped by one uiommuctl invocation can be
 * found (and freed) by the next, and is given back with the context.  And
 * DPDK memzones of another process (uiommu_memzone_lookup), found through
 * the env layer, never recorded.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "core/ctx_ext.h"

#define BUF_LARGE (2ull << 20) /* from here on: 2 MiB aligned (large pages) */

int uiommu_buf_alloc(struct uiommu_ctx *ctx, uint64_t len, void **va, uint64_t *bus_addr)
{
	struct ctx_ext *e;
	struct ext_buf *b;
	int rc;

	if (!ctx || !len || !va || !bus_addr || len > (1ull << 40))
		return -EINVAL;
	ctx_lock(ctx);
	e = ctx_ext_get(ctx, true);
	if (!e) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	b = uenv_zalloc(sizeof(*b));
	if (!b) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	rc = uenv_dma_alloc_data((size_t)len, len >= BUF_LARGE ? BUF_LARGE : UENV_PAGE_SIZE,
			    UENV_NODE_ANY, &b->dma);
	if (rc)
		goto err_free_rec;
	list_add_tail(&e->bufs, &b->link);
	e->nr_bufs++;
	*va = b->dma.va;
	*bus_addr = b->dma.iova; /* the env layer's "IOVA": the bus address */
	ctx_unlock(ctx);
	return 0;

err_free_rec:
	uenv_free(b);
out_unlock:
	ctx_unlock(ctx);
	return rc;
}

/* The buffer containing bus address @bus (exact start when @start_only). */
static struct ext_buf *buf_find(struct ctx_ext *e, uint64_t bus, bool start_only)
{
	struct list_node *pos;

	if (!e)
		return NULL;
	list_for_each(pos, &e->bufs)
	{
		struct ext_buf *b = list_entry(pos, struct ext_buf, link);

		if (start_only ? b->dma.iova == bus
			       : bus >= b->dma.iova && bus - b->dma.iova < b->dma.len)
			return b;
	}
	return NULL;
}

int uiommu_buf_free(struct uiommu_ctx *ctx, uint64_t bus_addr)
{
	struct ctx_ext *e;
	struct ext_buf *b;

	if (!ctx)
		return -EINVAL;
	ctx_lock(ctx);
	e = ctx_ext_get(ctx, false);
	b = buf_find(e, bus_addr, true);
	if (!b) {
		ctx_unlock(ctx);
		return -ENOENT;
	}
	list_del(&b->link);
	e->nr_bufs--;
	uenv_dma_free(&b->dma);
	uenv_free(b);
	ctx_unlock(ctx);
	return 0;
}

static void buf_info(const struct ext_buf *b, struct uiommu_buf_info *out)
{
	out->bus_addr = b->dma.iova;
	out->len = b->dma.len;
	out->va = b->dma.va;
}

int uiommu_buf_lookup(struct uiommu_ctx *ctx, uint64_t bus_addr, struct uiommu_buf_info *out)
{
	struct ext_buf *b;

	if (!ctx || !out)
		return -EINVAL;
	ctx_lock(ctx);
	b = buf_find(ctx_ext_get(ctx, false), bus_addr, false);
	if (b)
		buf_info(b, out);
	ctx_unlock(ctx);
	return b ? 0 : -ENOENT;
}

uint32_t uiommu_buf_list(struct uiommu_ctx *ctx, struct uiommu_buf_info *out, uint32_t max)
{
	struct list_node *pos;
	struct ctx_ext *e;
	uint32_t n = 0;

	if (!ctx)
		return 0;
	ctx_lock(ctx);
	e = ctx_ext_get(ctx, false);
	if (e)
		list_for_each(pos, &e->bufs)
		{
			if (out && n < max)
				buf_info(list_entry(pos, struct ext_buf, link), &out[n]);
			n++;
		}
	ctx_unlock(ctx);
	return n;
}

int uiommu_memzone_lookup(const char *name, const char *dpdk_prefix, struct uiommu_buf_info *out)
{
	struct uenv_dma mz;
	int rc;

	if (!name || !out)
		return -EINVAL;
	rc = uenv_memzone_find(name, dpdk_prefix, &mz);
	if (rc)
		return rc;
	out->bus_addr = mz.iova;
	out->len = mz.len;
	out->va = mz.va;
	return 0;
}
