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
bool env_phys_is_hugetlb(uint64_t pa);
uint64_t env_arena_virt2iova(const void *va, uint64_t *contig);
enum uiommu_mem_backend env_backend(void);

/* Lock sessions (env.c <-> env_mem.c). */
/* 0 and *sid: a session of the shared arena; -ENOENT: no shared arena. */
int env_arena_session(uint64_t *sid);
/* 1 alive, 0 dead, -1 no shared arena to ask. */
int env_arena_session_alive(uint64_t sid, uint32_t *pid);
/* Drop this process's session slot (@after_fork: only forget it). */
void env_arena_session_forget(bool after_fork);
void env_session_reset(void);

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
