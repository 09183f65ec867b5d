/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protecting a DPDK application: take-over, DPDK memory, devices, memory
 * events, give-back.  No family-specific code: units come from the
 * firmware tables (or the built-in model) and everything goes through the
 * library's public calls.
 *
 * Order (all or nothing: any failure gives back everything done so far):
 *  1. plan: parse the firmware tables, list the PCI devices (sysfs) and
 *     which of them DPDK owns; every owned device must be behind a unit;
 *  2. open the shared state (a state left by a killed process is adopted
 *     and given back first);
 *  3. take over each unit that serves an owned device, translation still
 *     off (UIOMMU_UNIT_F_DEFER_ENABLE), and put every other device of its
 *     scope in pass-through (identity);
 *  4. one IOAS; every memseg mapped at its own IOVA;
 *  5. DPDK's devices attached to the IOAS; then translation on: a device
 *     the kernel drives never sees a blocked moment;
 *  6. memory events: later allocations mapped before DPDK hands them out,
 *     frees unmapped (the library invalidates and waits) before DPDK
 *     gives the pages back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "dpdk/dpdk_internal.h"
#include "uiommu/uiommu_fw.h"

struct udp_state udp_g;
pthread_mutex_t udp_lock = PTHREAD_MUTEX_INITIALIZER;

#define PROT_RW (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE)

static const char *const user_drivers[] = {"vfio-pci", "uio_pci_generic", "igb_uio"};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bdf_str(const struct udp_bdf *b, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", b->seg, b->bus, b->devfn >> 3, b->devfn & 7);
}

/* ------------------------------------------------------------ PCI (sysfs) */

struct pci_ent {
	struct udp_bdf bdf;
	char driver[32];
	bool owned; /* to be attached to the IOAS */
};

struct plan {
	struct uiommu_fw_topo topo;
	struct pci_ent *pci;
	uint32_t npci;
	int unit_of[UDP_MAX_DEVS]; /* per pci entry: topo unit index or -1 */
	uint32_t hwid_of[UDP_MAX_DEVS];
	bool unit_needed[UDP_MAX_UNITS];
};

/* Bridge bus numbers for DMAR scope paths: the bridge's config space. */
static int sysfs_bridge_buses(void *arg, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
			      uint8_t *secondary, uint8_t *subordinate)
{
	char path[96];
	uint8_t cfg[0x1b];
	int fd;
	ssize_t n;

	(void)arg;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%04x:%02x:%02x.%x/config", seg, bus, dev,
		 fn);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n != (ssize_t)sizeof(cfg) || (cfg[0x0e] & 0x7f) != 1) /* header type 1: a bridge */
		return -ENODEV;
	*secondary = cfg[0x19];
	*subordinate = cfg[0x1a];
	return 0;
}

static void read_driver(const char *name, char *out, size_t len)
{
	char path[300], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.32s/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(out, len, "none");
		return;
	}
	link[n] = '\0';
	snprintf(out, len, "%.31s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
}

/* True when DPDK in this process probed the PCI device @name (the PCI
 * bus iterates by address only: "bus=pci,addr=..."). */
static bool dpdk_probed(const char *name)
{
	struct rte_dev_iterator it;
	struct rte_device *dev;
	char filter[64];
	bool found = false;

	snprintf(filter, sizeof(filter), "bus=pci,addr=%.32s", name);
	RTE_DEV_FOREACH(dev, filter, &it)
	{
		if (!found && !strcmp(rte_dev_name(dev), name) && rte_dev_is_probed(dev))
			found = true;
	}
	return found;
}

static bool user_driver(const char *drv)
{
	for (size_t i = 0; i < sizeof(user_drivers) / sizeof(user_drivers[0]); i++)
		if (!strcmp(drv, user_drivers[i]))
			return true;
	return false;
}

static bool in_attach_list(const struct udp_cfg *cfg, const struct udp_bdf *b)
{
	for (uint32_t i = 0; i < cfg->nr_attach; i++)
		if (!memcmp(&cfg->attach[i], b, sizeof(*b)))
			return true;
	return false;
}

static int list_pci(const struct udp_cfg *cfg, struct plan *p)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;

	if (!d) {
		UDP_LOG(ERR, "cannot list PCI devices (/sys/bus/pci/devices): %s", strerror(errno));
		return -ENODEV;
	}
	while ((e = readdir(d))) {
		struct pci_ent *pe;
		struct udp_bdf b;

		if (e->d_name[0] == '.' || udp_parse_bdf(e->d_name, &b))
			continue;
		if (p->npci == UDP_MAX_DEVS) {
			UDP_LOG(ERR, "more than %d PCI devices: not supported", UDP_MAX_DEVS);
			closedir(d);
			return -E2BIG;
		}
		pe = &p->pci[p->npci++];
		pe->bdf = b;
		read_driver(e->d_name, pe->driver, sizeof(pe->driver));
		pe->owned = (user_driver(pe->driver) && dpdk_probed(e->d_name)) ||
			    in_attach_list(cfg, &b);
		if (user_driver(pe->driver) && !pe->owned)
			UDP_LOG(WARNING,
				"%s is bound to %s but not used by this DPDK process: left in "
				"pass-through",
				e->d_name, pe->driver);
	}
	closedir(d);
	return 0;
}

/* Step 1, hardware: which units, which devices; nothing changes. */
static int plan_hw(const struct udp_cfg *cfg, struct plan *p)
{
	char err[256] = "", name[16];
	uint32_t owned = 0;
	int rc;

	p->topo.resolver = sysfs_bridge_buses;
	rc = uiommu_fw_load_dir(&p->topo, cfg->acpi_dir[0] ? cfg->acpi_dir : NULL, err,
				sizeof(err));
	if (rc < 0) {
		UDP_LOG(ERR, "firmware tables: %s", err);
		return rc;
	}
	if (rc == 0 || !p->topo.nunits) {
		UDP_LOG(ERR,
			"no IOMMU in the firmware tables (%s): nothing can isolate DPDK's "
			"devices (is the IOMMU enabled in the firmware setup?)",
			cfg->acpi_dir[0] ? cfg->acpi_dir : "/sys/firmware/acpi/tables");
		return -ENODEV;
	}
	if (p->topo.nunits > UDP_MAX_UNITS) {
		UDP_LOG(ERR, "%zu IOMMU units: at most %d supported", p->topo.nunits,
			UDP_MAX_UNITS);
		return -E2BIG;
	}
	rc = list_pci(cfg, p);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < p->npci; i++) {
		struct pci_ent *pe = &p->pci[i];
		uint16_t rid = (uint16_t)(pe->bdf.bus << 8 | pe->bdf.devfn);

		p->unit_of[i] = uiommu_fw_lookup(&p->topo, pe->bdf.seg, rid, &p->hwid_of[i]);
		bdf_str(&pe->bdf, name, sizeof(name));
		if (!pe->owned)
			continue;
		owned++;
		if (p->unit_of[i] < 0) {
			UDP_LOG(ERR, "%s (%s): no IOMMU unit serves it in the firmware tables",
				name, pe->driver);
			return -ENODEV;
		}
		if (p->topo.units[p->unit_of[i]].flags & UIOMMU_FW_UNIT_BAD_BASE) {
			UDP_LOG(ERR, "%s: its unit %d has no usable register base", name,
				p->unit_of[i]);
			return -ENODEV;
		}
		p->unit_needed[p->unit_of[i]] = true;
	}
	for (uint32_t i = 0; i < cfg->nr_attach; i++) {
		bool found = false;

		for (uint32_t j = 0; j < p->npci && !found; j++)
			found = !memcmp(&p->pci[j].bdf, &cfg->attach[i], sizeof(struct udp_bdf));
		if (!found) {
			bdf_str(&cfg->attach[i], name, sizeof(name));
			UDP_LOG(ERR, "attach=%s: no such PCI device", name);
			return -ENODEV;
		}
	}
	if (!owned)
		UDP_LOG(WARNING, "DPDK owns no PCI device (vfio-pci, uio_pci_generic, igb_uio): no "
				 "unit taken over");
	return 0;
}

/* ------------------------------------------------------------- memory */

/* The bus address the unit's tables must point at for CPU address @va of
 * memseg @ms: a model walks CPU addresses; hardware in IOVA-as-PA mode uses
 * the memseg's IOVA; in IOVA-as-VA mode the page's physical address. */
static uint64_t bus_addr(const void *va, const struct rte_memseg *ms)
{
	if (udp_g.model)
		return (uintptr_t)va;
	if (ms->iova == RTE_BAD_IOVA)
		return UINT64_MAX;
	if (rte_eal_iova_mode() == RTE_IOVA_PA)
		return ms->iova + ((uintptr_t)va - (uintptr_t)ms->addr);
	phys_addr_t pa = rte_mem_virt2phy(va);
	return pa == RTE_BAD_IOVA ? UINT64_MAX : pa;
}

static int map_one(uint64_t iova, uint64_t phys, uint64_t len)
{
	uint64_t at = iova;
	int rc = uiommu_ioas_map(udp_g.ioas, &at, phys, len, PROT_RW | UIOMMU_MAP_FIXED_IOVA);

	if (rc == -EEXIST) {
		/* Mapped already (an event and the start-up walk met): fine if it is
		 * the same memory. */
		struct uiommu_area_info a;

		if (uiommu_ioas_lookup(udp_g.ioas, iova, &a) == 0 && a.iova <= iova &&
		    iova + len <= a.iova + a.len && a.phys + (iova - a.iova) == phys)
			return 0;
	}
	if (rc)
		UDP_LOG(ERR, "cannot map IOVA %#" PRIx64 " (+%#" PRIx64 ") -> %#" PRIx64 ": %s",
			iova, len, phys, uiommu_strerror(rc));
	return rc;
}

/* Start-up walk: coalesce runs contiguous in CPU, IOVA and bus addresses
 * when memory can never be freed page by page (no memory events). */
struct walk {
	const struct rte_memseg_list *msl;
	uint64_t va, iova, phys, len;
	int rc;
	uint64_t nsegs;
};

static int walk_flush(struct walk *w)
{
	int rc = 0;

	if (w->len)
		rc = map_one(w->iova, w->phys, w->len);
	w->len = 0;
	return rc;
}

static int walk_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct walk *w = arg;
	uint64_t phys;

	if (msl->external && !msl->heap)
		return 0; /* rte_extmem_register only: rte_dev_dma_map maps it */
	if (ms->iova == RTE_BAD_IOVA) {
		UDP_LOG(WARNING, "memseg at %p has no IOVA: not mapped", ms->addr);
		return 0;
	}
	phys = bus_addr(ms->addr, ms);
	if (phys == UINT64_MAX) {
		UDP_LOG(ERR, "memseg at %p: physical address unknown (not root?)", ms->addr);
		w->rc = -EFAULT;
		return -1;
	}
	w->nsegs++;
	if (w->len && !udp_g.dynamic_mem && w->msl == msl &&
	    w->va + w->len == (uintptr_t)ms->addr && w->iova + w->len == ms->iova &&
	    w->phys + w->len == phys) {
		w->len += ms->len;
		return 0;
	}
	w->rc = walk_flush(w);
	if (w->rc)
		return -1;
	w->msl = msl;
	w->va = (uintptr_t)ms->addr;
	w->iova = ms->iova;
	w->phys = phys;
	w->len = ms->len;
	return 0;
}

static int map_memsegs(void)
{
	struct walk w = {.rc = 0};
	uint64_t t0 = now_ns();

	if (rte_memseg_walk(walk_seg, &w) < 0 && !w.rc)
		w.rc = -EFAULT;
	if (!w.rc)
		w.rc = walk_flush(&w);
	udp_g.st.startup_map_ns = now_ns() - t0;
	if (!w.rc)
		UDP_LOG(INFO, "%" PRIu64 " memsegs mapped in %.3f ms (IOVA as %s)", w.nsegs,
			udp_g.st.startup_map_ns / 1e6,
			rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" : "VA");
	return w.rc;
}

/* Unmap [iova, iova + len) page by page; a page inside a larger mapping
 * (memory the start-up walk coalesced) takes the rest of the run at once. */
static void unmap_run(uint64_t iova, uint64_t len, uint64_t pg)
{
	for (uint64_t off = 0; off < len; off += pg) {
		int rc = uiommu_ioas_unmap(udp_g.ioas, iova + off, pg, NULL);

		if (rc == -EINVAL) {
			pg = len - off;
			rc = uiommu_ioas_unmap(udp_g.ioas, iova + off, pg, NULL);
		}
		if (rc && rc != -ENOENT)
			UDP_LOG(ERR, "cannot unmap IOVA %#" PRIx64 " (+%#" PRIx64 "): %s",
				iova + off, pg, uiommu_strerror(rc));
	}
}

/* Memory event: ALLOC before DPDK hands the pages out, FREE before it gives
 * them back.  The hotplug lock is held: only the _thread_unsafe look-ups
 * (rte_mem_virt2memseg with the list) are allowed here. */
static void mem_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	uintptr_t va = (uintptr_t)addr, end = va + len;
	uint64_t pg, t0 = now_ns();

	(void)arg;
	if (!msl)
		return;
	pg = msl->page_sz;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active || !udp_g.ioas) {
		pthread_mutex_unlock(&udp_lock);
		return;
	}
	if (type == RTE_MEM_EVENT_ALLOC) {
		for (; va < end; va += pg) {
			const struct rte_memseg *ms = rte_mem_virt2memseg((void *)va, msl);
			uint64_t phys = ms ? bus_addr((void *)va, ms) : UINT64_MAX;

			if (!ms || ms->iova == RTE_BAD_IOVA || phys == UINT64_MAX ||
			    map_one(ms->iova, phys, pg)) {
				udp_g.st.map_errors++;
				UDP_LOG(ERR,
					"new memory at %#lx is NOT mapped: devices cannot "
					"reach it (DMA to it faults)",
					(unsigned long)va);
			}
		}
		udp_g.st.map_events++;
		udp_g.st.map_event_bytes += len;
		udp_g.st.map_event_ns += now_ns() - t0;
	} else {
		/* IOVA-contiguous runs, each unmapped page by page as the pages
		 * were mapped (one area each, invalidated and waited for).  Not a
		 * run at once: the library makes an unmap of more than one 2 MiB
		 * page all or nothing under kill -9 by first copying the shared
		 * state's whole image into its undo file (src/env/env_mem.c,
		 * uenv_txn_begin), which made each such event cost ~1 ms and grow
		 * with the state (docs/performance.md, "DPDK plugin").  Freeing
		 * needs no atomicity across pages: a page left mapped by a crash
		 * half-way is one the dead process owned, like all its memory. */
		uint64_t run_iova = 0, run_len = 0;

		for (; va <= end; va += pg) {
			const struct rte_memseg *ms =
				va < end ? rte_mem_virt2memseg((void *)va, msl) : NULL;

			if (ms && ms->iova != RTE_BAD_IOVA && run_len &&
			    run_iova + run_len == ms->iova) {
				run_len += pg;
				continue;
			}
			if (run_len)
				unmap_run(run_iova, run_len, pg);
			run_len = 0;
			if (ms && ms->iova != RTE_BAD_IOVA) {
				run_iova = ms->iova;
				run_len = pg;
			}
		}
		udp_g.st.unmap_events++;
		udp_g.st.unmap_event_ns += now_ns() - t0;
	}
	pthread_mutex_unlock(&udp_lock);
}

/* rte_dev_dma_map() / uiommu_dpdk_dma_map(): external memory. */
int udp_dma_map(void *va, uint64_t iova, uint64_t len)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);
	uint64_t done = 0;
	int rc = 0;

	if (!msl || !msl->external)
		return -EINVAL;
	if (!len || ((uintptr_t)va | iova | len) & (msl->page_sz - 1) ||
	    (uintptr_t)va + len > (uintptr_t)msl->base_va + msl->len)
		return -EINVAL;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return -ENOENT;
	}
	for (; done < len; done += msl->page_sz) {
		void *p = (char *)va + done;
		const struct rte_memseg *ms = rte_mem_virt2memseg(p, msl);
		uint64_t phys;

		if (!ms) {
			rc = -EINVAL;
			break;
		}
		/* The IOVA is the caller's; the bus address that of the page. */
		if (udp_g.model)
			phys = (uintptr_t)p;
		else if (rte_eal_iova_mode() == RTE_IOVA_PA)
			phys = iova + done;
		else
			phys = rte_mem_virt2phy(p);
		if (phys == UINT64_MAX) {
			rc = -EFAULT;
			break;
		}
		rc = map_one(iova + done, phys, msl->page_sz);
		if (rc)
			break;
	}
	if (rc && done)
		(void)uiommu_ioas_unmap(udp_g.ioas, iova, done, NULL); /* all or nothing */
	if (!rc)
		udp_g.st.map_events++;
	pthread_mutex_unlock(&udp_lock);
	return rc;
}

int udp_dma_unmap(void *va, uint64_t iova, uint64_t len)
{
	int rc;

	(void)va;
	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&udp_lock);
	rc = udp_g.active ? uiommu_ioas_unmap(udp_g.ioas, iova, len, NULL) : -ENOENT;
	if (!rc)
		udp_g.st.unmap_events++;
	pthread_mutex_unlock(&udp_lock);
	return rc;
}

/* ------------------------------------------------------------- devices */

static int add_dev(struct uiommu_unit *u, const struct udp_bdf *b, uint32_t hw_id,
		   const char *driver, bool attach)
{
	struct uiommu_device_desc dd = {
		.segment = b->seg, .bus = b->bus, .devfn = b->devfn, .hw_id = hw_id};
	struct uiommu_device *dev;
	struct udp_dev *ud;
	char name[16];
	int rc;

	bdf_str(b, name, sizeof(name));
	if (udp_g.nr_devs == UDP_MAX_DEVS)
		return -E2BIG;
	rc = uiommu_device_add(u, &dd, &dev);
	if (rc) {
		UDP_LOG(ERR, "%s: cannot add it to unit %u: %s", name, uiommu_unit_id(u),
			uiommu_strerror(rc));
		return rc;
	}
	rc = uiommu_device_attach(dev, UIOMMU_NO_PASID,
				  attach ? uiommu_ioas_id(udp_g.ioas) : UIOMMU_PT_IDENTITY, NULL);
	if (rc) {
		UDP_LOG(ERR, "%s: cannot attach it to %s: %s", name,
			attach ? "DPDK's address space" : "pass-through", uiommu_strerror(rc));
		(void)uiommu_device_remove(dev);
		return rc;
	}
	(void)uiommu_obj_set_name(udp_g.ctx, uiommu_device_id(dev), name);
	ud = &udp_g.devs[udp_g.nr_devs++];
	ud->bdf = *b;
	ud->dev_id = uiommu_device_id(dev);
	ud->unit_id = uiommu_unit_id(u);
	ud->attached = attach;
	ud->faults = 0;
	snprintf(ud->driver, sizeof(ud->driver), "%s", driver);
	if (attach)
		udp_g.st.nr_attached++;
	else
		udp_g.st.nr_passthrough++;
	UDP_LOG(INFO, "%s (%s): %s on unit %u", name, driver,
		attach ? "isolated: DPDK's memory only" : "pass-through", uiommu_unit_id(u));
	return 0;
}

/* Step 3 for one hardware unit: take it over, then at once every device of
 * its scope that DPDK does not own goes to pass-through. */
static int take_unit(const struct udp_cfg *cfg, struct plan *p, int idx)
{
	const struct uiommu_fw_unit *fu = &p->topo.units[idx];
	struct uiommu_unit_desc d = {
		.family = fu->family,
		.access = UIOMMU_UNIT_MMIO,
		.reg_base = fu->base,
		.reg_size = fu->size,
		.segment = fu->segment,
		.numa_node = fu->proximity,
		.force = cfg->force,
		.flags = UIOMMU_UNIT_F_DEFER_ENABLE,
	};
	struct uiommu_amdvi_unit_opts ao = {.family = UIOMMU_FAMILY_AMDVI,
					    .flags = UIOMMU_AMDVI_F_SMALL_DEVTAB};
	struct uiommu_unit_caps caps;
	struct uiommu_unit *u;
	char name[16];
	int rc;

	if (fu->family == UIOMMU_FAMILY_AMDVI && cfg->amdvi_small_devtab)
		d.family_opts = &ao;
	rc = uiommu_unit_add(udp_g.ctx, &d, &u);
	if (rc == -EOPNOTSUPP) {
		UDP_LOG(WARNING,
			"the %s driver cannot defer translation: the other devices of "
			"the unit at %#" PRIx64 " are blocked for a moment during take-over",
			uiommu_fw_family_name(fu->family), fu->base);
		d.flags = 0;
		rc = uiommu_unit_add(udp_g.ctx, &d, &u);
	}
	if (rc) {
		if (rc == -EBUSY)
			UDP_LOG(ERR,
				"unit at %#" PRIx64 " is translating for someone else (the "
				"kernel?): boot with its IOMMU driver off, or force=1",
				fu->base);
		else
			UDP_LOG(ERR, "cannot take over the %s unit at %#" PRIx64 ": %s",
				uiommu_fw_family_name(fu->family), fu->base, uiommu_strerror(rc));
		return rc;
	}
	udp_g.nr_units++;
	uiommu_unit_get_caps(u, &caps);
	for (uint32_t i = 0; i < p->npci; i++) {
		if (p->unit_of[i] != idx || p->pci[i].owned)
			continue;
		if (!caps.pass_through) {
			bdf_str(&p->pci[i].bdf, name, sizeof(name));
			UDP_LOG(ERR,
				"unit at %#" PRIx64 " cannot do pass-through: taking it over "
				"would cut off %s (%s); refused",
				fu->base, name, p->pci[i].driver);
			return -EOPNOTSUPP;
		}
		rc = add_dev(u, &p->pci[i].bdf, p->hwid_of[i], p->pci[i].driver, false);
		if (rc)
			return rc;
	}
	return 0;
}

static int attach_owned_hw(struct plan *p)
{
	for (uint32_t i = 0; i < p->npci; i++) {
		struct uiommu_unit *u = NULL;
		int rc;

		if (!p->pci[i].owned)
			continue;
		/* Units were added in index order, skipping those not needed. */
		uint32_t nth = 0;
		for (int k = 0; k < p->unit_of[i]; k++)
			nth += p->unit_needed[k];
		u = uiommu_unit_next(udp_g.ctx, NULL);
		while (u && nth--)
			u = uiommu_unit_next(udp_g.ctx, u);
		if (!u)
			return -ENODEV;
		rc = add_dev(u, &p->pci[i].bdf, p->hwid_of[i], p->pci[i].driver, true);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------- protect */

/* Last step: translation on, every unit, now that every device of their
 * scope is attached to DPDK's IOAS or in pass-through. */
static int enable_units(void)
{
	for (struct uiommu_unit *u = uiommu_unit_next(udp_g.ctx, NULL); u;
	     u = uiommu_unit_next(udp_g.ctx, u)) {
		int rc = uiommu_unit_enable(u);

		if (rc && rc != -EOPNOTSUPP) {
			UDP_LOG(ERR, "unit %u: cannot turn translation on: %s", uiommu_unit_id(u),
				uiommu_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int open_state(const struct udp_cfg *cfg)
{
	struct uiommu_env_opts eo = {
		.backend = cfg->model ? UIOMMU_MEM_SHARED_SHM : UIOMMU_MEM_SHARED_HUGE,
		.name = cfg->state,
		.create = true,
		.huge_dir = getenv("UIOMMU_HUGE_DIR"),
		.lock_wait_ms = 5000,
	};
	int rc = uiommu_ctx_create(&eo, &udp_g.ctx);

	if (rc) {
		UDP_LOG(ERR, "cannot open the shared state '%s': %s%s", cfg->state,
			uiommu_strerror(rc),
			cfg->model ? "" : " (needs root and free 2 MiB pages on hugetlbfs)");
		return rc;
	}
	if (uiommu_ctx_adopted(udp_g.ctx)) {
		/* An earlier process died with the units taken over (their
		 * translation stayed in force): give everything back first. */
		UDP_LOG(WARNING,
			"state '%s' left by an earlier process: adopted and given back "
			"before taking over again",
			cfg->state);
		uiommu_ctx_destroy(udp_g.ctx);
		udp_g.ctx = NULL;
		rc = uiommu_ctx_create(&eo, &udp_g.ctx);
		if (rc) {
			UDP_LOG(ERR, "cannot create the shared state '%s': %s", cfg->state,
				uiommu_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int protect_model(const struct udp_cfg *cfg)
{
	struct uiommu_unit_desc d = {.family = cfg->model,
				     .access = UIOMMU_UNIT_MODEL,
				     .numa_node = -1,
				     .flags = UIOMMU_UNIT_F_DEFER_ENABLE,
				     .model_cfg = cfg->model_cfg[0] ? cfg->model_cfg : NULL};
	struct uiommu_amdvi_unit_opts ao = {.family = UIOMMU_FAMILY_AMDVI,
					    .flags = UIOMMU_AMDVI_F_SMALL_DEVTAB};
	struct uiommu_unit_caps caps;
	struct uiommu_unit *u;
	char name[16];
	int rc;

	if (cfg->model == UIOMMU_FAMILY_AMDVI && cfg->amdvi_small_devtab)
		d.family_opts = &ao;
	rc = uiommu_unit_add(udp_g.ctx, &d, &u);

	if (rc) {
		UDP_LOG(ERR, "cannot add the %s model unit (model_cfg '%s'): %s",
			uiommu_model_name(cfg->model), cfg->model_cfg, uiommu_strerror(rc));
		return rc;
	}
	udp_g.nr_units = 1;
	/* The other devices of the unit's scope (passthrough=): as on
	 * hardware, in pass-through before translation goes on, or refused. */
	uiommu_unit_get_caps(u, &caps);
	for (uint32_t i = 0; i < cfg->nr_passthrough; i++) {
		const struct udp_bdf *b = &cfg->passthrough[i];

		if (!caps.pass_through) {
			bdf_str(b, name, sizeof(name));
			UDP_LOG(ERR,
				"the model unit cannot do pass-through: taking it over would "
				"cut off %s; refused",
				name);
			return -EOPNOTSUPP;
		}
		rc = add_dev(u, b, (uint32_t)(b->bus << 8 | b->devfn), "model", false);
		if (rc)
			return rc;
	}
	rc = uiommu_ioas_alloc(udp_g.ctx, &udp_g.ioas);
	if (rc)
		return rc;
	rc = map_memsegs();
	if (rc)
		return rc;
	for (uint32_t i = 0; i < cfg->nr_attach; i++) {
		rc = add_dev(u, &cfg->attach[i],
			     (uint32_t)(cfg->attach[i].bus << 8 | cfg->attach[i].devfn), "model",
			     true);
		if (rc)
			return rc;
	}
	return enable_units();
}

static int protect_hw(const struct udp_cfg *cfg, struct plan *p)
{
	int rc;

	for (size_t i = 0; i < p->topo.nunits; i++) {
		if (!p->unit_needed[i])
			continue;
		rc = take_unit(cfg, p, (int)i);
		if (rc)
			return rc;
	}
	rc = uiommu_ioas_alloc(udp_g.ctx, &udp_g.ioas);
	if (rc)
		return rc;
	rc = map_memsegs();
	if (rc)
		return rc;
	rc = attach_owned_hw(p);
	if (rc)
		return rc;
	return enable_units();
}

int udp_protect(const struct udp_cfg *cfg)
{
	struct plan p = {.npci = 0};
	uint64_t t0 = now_ns();
	int rc;

	uiommu_fw_init(&p.topo);
	pthread_mutex_lock(&udp_lock);
	if (udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		UDP_LOG(ERR, "this process is protected already");
		return -EEXIST;
	}
	memset(&udp_g, 0, sizeof(udp_g));
	udp_g.cfg = *cfg;
	udp_g.model = cfg->model != UIOMMU_FAMILY_NONE;
	if (!udp_g.model) {
		p.pci = calloc(UDP_MAX_DEVS, sizeof(*p.pci));
		rc = p.pci ? plan_hw(cfg, &p) : -ENOMEM;
		if (rc)
			goto out;
	}
	/* Whether DPDK's memory comes and goes page by page decides how it is
	 * mapped: register first (the callback does nothing until active). */
	udp_g.dynamic_mem = rte_mem_event_callback_register("uiommu", mem_event, NULL) == 0;
	if (!udp_g.dynamic_mem && rte_errno != ENOTSUP) {
		UDP_LOG(ERR, "cannot register for memory events: %s", rte_strerror(rte_errno));
		rc = -rte_errno;
		goto out;
	}
	rc = open_state(cfg);
	if (rc)
		goto out_cb;
	rc = udp_g.model ? protect_model(cfg) : protect_hw(cfg, &p);
	if (rc)
		goto out_destroy;
	(void)uiommu_obj_set_name(udp_g.ctx, uiommu_ioas_id(udp_g.ioas), "dpdk");
	udp_g.st.protect_ns = now_ns() - t0;
	udp_g.active = true;
	pthread_mutex_unlock(&udp_lock);
	rc = udp_poll_start();
	if (rc) {
		udp_release();
		rc = rc < 0 ? rc : -EIO;
	} else {
		UDP_LOG(INFO,
			"protected: %u unit(s), %u device(s) isolated, %u in pass-through, "
			"state '%s'%s; take-over %.3f ms",
			udp_g.nr_units, udp_g.st.nr_attached, udp_g.st.nr_passthrough, cfg->state,
			udp_g.dynamic_mem ? ", memory events on" : "", udp_g.st.protect_ns / 1e6);
	}
	free(p.pci);
	uiommu_fw_free(&p.topo);
	return rc;

out_destroy:
	/* Everything done so far is undone: units given back as found. */
	uiommu_ctx_destroy(udp_g.ctx);
	udp_g.ctx = NULL;
	udp_g.ioas = NULL;
out_cb:
	if (udp_g.dynamic_mem)
		(void)rte_mem_event_callback_unregister("uiommu", NULL);
out:
	memset(&udp_g, 0, sizeof(udp_g));
	pthread_mutex_unlock(&udp_lock);
	free(p.pci);
	uiommu_fw_free(&p.topo);
	return rc;
}

void udp_release(void)
{
	bool dyn;

	/* Outside the lock: a callback or a poll may be waiting for it. */
	udp_poll_stop();
	pthread_mutex_lock(&udp_lock);
	dyn = udp_g.active && udp_g.dynamic_mem;
	pthread_mutex_unlock(&udp_lock);
	if (dyn)
		(void)rte_mem_event_callback_unregister("uiommu", NULL);
	pthread_mutex_lock(&udp_lock);
	if (udp_g.active) {
		udp_g.active = false;
		uiommu_ctx_destroy(udp_g.ctx);
		UDP_LOG(INFO, "released: units given back as they were found, state '%s' deleted",
			udp_g.cfg.state);
		udp_g.ctx = NULL;
		udp_g.ioas = NULL;
	}
	pthread_mutex_unlock(&udp_lock);
}
