/* SPDX-License-Identifier: BSD-3-Clause */
/* Environment layer: DPDK memzones as arena chunks. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_memzone.h>
#include <rte_errno.h>

#include "core/env.h"
#include "core/env_internal.h"

int env_dpdk_reserve(uint64_t len, uint64_t align, int node, bool contig, struct env_mz *out)
{
	static uint32_t seq;
	const struct rte_memzone *mz;
	char name[RTE_MEMZONE_NAMESIZE];
	int socket = node < 0 ? SOCKET_ID_ANY : node;

	snprintf(name, sizeof(name), "uiommu_%d_%u", (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	unsigned int flags = contig ? RTE_MEMZONE_IOVA_CONTIG : 0;

	mz = rte_memzone_reserve_aligned(name, len, socket, flags, (unsigned)align);
	if (!mz && socket != SOCKET_ID_ANY) {
		/* The IOMMU's node has no memory here: any node is better than none. */
		UENV_LOG(ENV, WARNING, "no IOVA-contiguous memory on node %d; using any node",
			 node);
		mz = rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY, flags, (unsigned)align);
	}
	if (!mz)
		return -ENOMEM;
	out->va = mz->addr;
	out->iova = contig ? mz->iova : UINT64_MAX;
	out->len = mz->len;
	out->node = mz->socket_id;
	out->handle = mz;
	return 0;
}

void env_dpdk_release(const void *handle)
{
	if (handle)
		rte_memzone_free(handle);
}
