/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI access through libpci (environment layer: only env_pci.c includes
 * <pci/pci.h>).  Enumerates devices and reads the capabilities that attach
 * checks need: PASID, ATS, PRI, and the AMD-Vi IOMMU's capability block.
 * Not thread safe: use one handle per thread.
 */
#ifndef UIOMMU_ENV_PCI_H
#define UIOMMU_ENV_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uenv_pci;

struct uenv_pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
	bool is_bridge;
	uint8_t secondary, subordinate; /* bridges */
	/* PASID extended capability (0 = absent). */
	uint16_t pasid_cap;
	uint8_t pasid_width; /* Max PASID Width, bits */
	bool pasid_exec, pasid_priv;
	/* ATS extended capability. */
	uint16_t ats_cap;
	uint8_t ats_queue_depth; /* 0 means 32 */
	bool ats_page_aligned;
	/* PRI extended capability. */
	uint16_t pri_cap;
	uint32_t pri_max_requests; /* Outstanding Page Request Capacity */
	/* AMD-Vi IOMMU capability block (capability ID 0Fh, type 3). */
	uint16_t amdvi_cap;
	uint32_t amdvi_header, amdvi_base_lo, amdvi_base_hi, amdvi_range, amdvi_misc0,
		amdvi_misc1;
};

/** Open libpci and scan the buses.  Returns 0 or -errno. */
int uenv_pci_open(struct uenv_pci **out);
/** Close a handle (NULL is fine). */
void uenv_pci_close(struct uenv_pci *p);
/** Number of devices found by the scan. */
size_t uenv_pci_count(const struct uenv_pci *p);
/** Fill @out for device @i (0 .. count-1): IDs and capabilities. 0 or -errno. */
int uenv_pci_get(struct uenv_pci *p, size_t i, struct uenv_pci_dev *out);
/** Find a device by address and fill @out.  0, -ENOENT. */
int uenv_pci_find(struct uenv_pci *p, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
		  struct uenv_pci_dev *out);
/** Read @len bytes of config space at @off.  0 or -errno. */
int uenv_pci_read_config(struct uenv_pci *p, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			 unsigned int off, void *buf, unsigned int len);
/**
 * Secondary and subordinate bus of a bridge; signature of
 * uiommu_fw_bus_resolver, @ctx is the struct uenv_pci handle.
 */
int uenv_pci_bridge_buses(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			  uint8_t *secondary, uint8_t *subordinate);
/** Tests: scan @path (a fake /sys/bus/pci) instead of the system's; NULL
 *  restores.  Takes effect at the next uenv_pci_open(). */
void uenv_pci_set_sysfs_path(const char *path);

#endif
