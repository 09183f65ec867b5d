/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * uiommu for DPDK applications: the EAL plugin librte_uiommu.so.
 *
 * An unmodified DPDK application gets IOMMU isolation from the command line:
 *
 *     dpdk-testpmd -d librte_uiommu.so --vdev uiommu ...
 *
 * (or the environment variable UIOMMU_DPDK="key=value,..." when the plugin
 * is loaded from the PMD plugin directory).  After EAL's memory is up and
 * the PCI devices are probed, the plugin finds the IOMMU units in the
 * firmware tables, takes over those that serve a device DPDK owns
 * (vfio-pci in no-IOMMU mode, uio_pci_generic, igb_uio), puts every other
 * device of those units in pass-through, creates one I/O address space,
 * maps every memseg at its own IOVA and attaches DPDK's devices to it.
 * Memory DPDK allocates later is mapped before it is handed out; memory it
 * frees is unmapped (invalidated and waited for).  docs/dpdk.md has the
 * configuration keys.
 *
 * The functions below are for applications that prefer code; they run
 * after rte_eal_init().  None of them is for the data path.
 */
#ifndef UIOMMU_DPDK_H
#define UIOMMU_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uiommu_ctx;
struct uiommu_ioas;

/** Name of the plugin's virtual device (`--vdev uiommu,KEY=VALUE,...`). */
#define UIOMMU_DPDK_VDEV "uiommu"
/** Environment variable with the configuration (used when no --vdev uiommu
 *  is given). */
#define UIOMMU_DPDK_ENV "UIOMMU_DPDK"

/**
 * Protect this DPDK application: the same as `--vdev uiommu,ARGS` (it
 * creates that virtual device).  Call it after rte_eal_init() and before
 * any device is started.
 * @param args  the configuration ARGS, "key=value,..." (NULL or "": defaults:
 *              hardware units from the firmware tables).
 * @return 0; -EINVAL (a bad configuration: nothing was changed, a log line
 *         names the bad key or value), -EEXIST (already protected),
 *         -ENODEV (no IOMMU serves DPDK's devices), -EBUSY (a unit is
 *         translating for someone else), -errno of the library.  On error
 *         nothing stays changed.
 */
int uiommu_dpdk_protect(const char *args);

/**
 * Give everything back (the units as they were found) and delete the
 * shared state.  rte_eal_cleanup() does the same.
 * @return 0, -ENOENT (not protected).
 */
int uiommu_dpdk_release(void);

/** True while the application is protected. */
bool uiommu_dpdk_active(void);

/**
 * Poll the IOMMU units for faults once (for `poll=app`, from one lcore of
 * the application; the other modes poll by themselves).  Faults are
 * counted per device and logged (rate-limited) through rte_log.
 * @return the number of events handled, or 0 when not protected.
 */
uint32_t uiommu_dpdk_poll(void);

/** The library context in use, NULL when not protected (for
 *  uiommu.h calls: it stays the plugin's). */
struct uiommu_ctx *uiommu_dpdk_ctx(void);
/** The I/O address space DPDK's devices are attached to, or NULL. */
struct uiommu_ioas *uiommu_dpdk_ioas(void);

/**
 * Map external memory (registered with rte_extmem_register()) for DMA by
 * DPDK's devices: @p len bytes at CPU address @p va, at IOVA @p iova (as DPDK
 * would give it to a device).  rte_dev_dma_map() on the `uiommu` device
 * does the same.  Page granular (the memory's page size).
 * @return 0, -EINVAL (not page aligned, or not external memory DPDK
 *         knows), -EEXIST (overlaps a mapping), -ENOENT (not protected),
 *         -errno of the library.
 */
int uiommu_dpdk_dma_map(void *va, uint64_t iova, uint64_t len);
/**
 * Unmap what uiommu_dpdk_dma_map() mapped (whole mappings); when it
 * returns no device can reach the memory any more.
 * @return 0, -ENOENT (nothing mapped there, or not protected), -EINVAL.
 */
int uiommu_dpdk_dma_unmap(void *va, uint64_t iova, uint64_t len);

/** What the plugin did, for tools and tests. */
struct uiommu_dpdk_stats {
	uint32_t nr_units;	 /**< units taken over */
	uint32_t nr_attached;	 /**< DPDK's devices attached to the IOAS */
	uint32_t nr_passthrough; /**< other devices of those units left in pass-through */
	uint64_t nr_areas;	 /**< mappings of the IOAS */
	uint64_t mapped_bytes;	 /**< bytes mapped */
	uint64_t map_events;	 /**< memory events that mapped memory */
	uint64_t unmap_events;	 /**< memory events that unmapped memory */
	uint64_t map_errors;	 /**< memory DPDK handed out that could not be mapped */
	uint64_t faults;	 /**< fault events seen */
	uint64_t faults_unknown; /**< ... of a source that is no device of ours */
	uint64_t startup_map_ns; /**< time to map DPDK's memory at start-up */
	uint64_t protect_ns;	  /**< the whole take-over: firmware, units, memory into
				       the IOAS, its page tables filled at attach, enable */
	uint64_t map_event_ns;	  /**< time spent mapping in memory events, in all */
	uint64_t unmap_event_ns;  /**< time spent unmapping (invalidation waited for
				       included) in memory events, in all */
	uint64_t map_event_bytes; /**< bytes mapped by memory events, in all */
};
/** Fill @p st.  @return 0, -ENOENT (not protected), -EINVAL. */
int uiommu_dpdk_get_stats(struct uiommu_dpdk_stats *st);
/**
 * Faults counted for the PCI device @p bdf ("0000:00:03.0" or "00:03.0").
 * @return the count, or -ENOENT (no such device of ours), -EINVAL.
 */
int64_t uiommu_dpdk_device_faults(const char *bdf);

#ifdef __cplusplus
}
#endif
#endif
