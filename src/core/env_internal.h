/* SPDX-License-Identifier: BSD-3-Clause */
/* Private glue between env.c and env_mem.c.  Not for other modules. */
#ifndef UIOMMU_ENV_INTERNAL_H
#define UIOMMU_ENV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "uiommu/uiommu_env.h"

int env_eal_start(int argc, char **argv);
bool env_eal_iova_is_va(void);
int env_numa_bind(void *va, size_t len, int node);
uint64_t env_pagemap_phys(const void *va);
uint64_t env_arena_virt2iova(const void *va, uint64_t *contig);
enum uiommu_mem_backend env_backend(void);

/* DPDK memzone glue (env_dpdk.c) */
struct env_mz {
	void *va;
	uint64_t iova;
	uint64_t len;
	int node;
	const void *handle;
};
int env_dpdk_reserve(uint64_t len, uint64_t align, int node, bool contig, struct env_mz *out);
void env_dpdk_release(const void *handle);

#endif
