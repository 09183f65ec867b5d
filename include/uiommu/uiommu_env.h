/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * How uiommu obtains its memory: options for the environment layer.
 */
#ifndef UIOMMU_ENV_PUBLIC_H
#define UIOMMU_ENV_PUBLIC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where uiommu keeps its state, tables and queues. */
enum uiommu_mem_backend {
	/** DPDK memzones; state lives as long as the process (default). */
	UIOMMU_MEM_DPDK = 0,
	/** A named file on hugetlbfs (2 MiB pages, IOVA = physical address),
	 *  mapped at a fixed address: state outlives the process. */
	UIOMMU_MEM_SHARED_HUGE,
	/** A named file in /dev/shm (IOVA = virtual address), mapped at a fixed
	 *  address: state outlives the process.  For the built-in models. */
	UIOMMU_MEM_SHARED_SHM,
};

/** Options for the environment layer. */
struct uiommu_env_opts {
	/** Memory backend. */
	enum uiommu_mem_backend backend;
	/** EAL arguments used when EAL is not yet initialised (DPDK backend).
	 *  NULL: "--no-huge --no-shconf -m 256 --no-pci" (IOVA as VA). */
	int eal_argc;
	char **eal_argv; /**< the @p eal_argc EAL arguments */
	/** Name of the shared state (shared backends); NULL: "default". */
	const char *name;
	/** Largest arena size in bytes (shared backends); 0: 4 GiB. */
	size_t arena_max;
	/** Directory of the hugetlbfs mount (SHARED_HUGE); NULL: /dev/hugepages. */
	const char *huge_dir;
	/** Shared backends: create the state if it does not exist. */
	bool create;
	/** Shared backends: how long adopting an existing state waits for its
	 *  lock (another process in the middle of a change), in ms; 0: no
	 *  bound.  uiommu_ctx_create() then fails with -ETIMEDOUT. */
	uint32_t lock_wait_ms;
};

#ifdef __cplusplus
}
#endif
#endif
