/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `uiommu` virtual device: how EAL hands the plugin control once its
 * memory is up.  EAL probes virtual devices last (rte_bus_probe: the vdev
 * bus after every other bus), so when our probe runs DPDK's PCI devices
 * are probed (and not yet started) and every memseg exists.
 * rte_eal_cleanup() removes virtual devices: that gives everything back.
 *
 * Configuration: `--vdev uiommu,KEY=VALUE,...`, or, without that option,
 * the environment variable UIOMMU_DPDK (the plugin then adds the device
 * itself when EAL loads it, before the buses are scanned).
 *
 * Debian's DPDK 22.11 does not install the driver SDK headers
 * (bus_vdev_driver.h, dev_driver.h), so the two structures the vdev bus
 * exchanges with a driver are declared here as DPDK 22.11 (ABI 23) lays
 * them out; meson builds this file for DPDK 22.11 only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include "dpdk/dpdk_internal.h"

#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0) || RTE_VERSION >= RTE_VERSION_NUM(22, 12, 0, 0)
#error "dpdk_vdev.c declares DPDK 22.11's vdev driver structures: check them for this DPDK"
#endif

/* DPDK 22.11 lib/eal/include/dev_driver.h: struct rte_driver. */
struct udp_rte_driver {
	TAILQ_ENTRY(udp_rte_driver) next;
	const char *name;
	const char *alias;
};

/* DPDK 22.11 drivers/bus/vdev/bus_vdev_driver.h. */
struct udp_vdev_device {
	TAILQ_ENTRY(udp_vdev_device) next;
	/* struct rte_device device: opaque here, reached by address */
	char device[];
};

typedef int(udp_vdev_probe_t)(struct udp_vdev_device *dev);
typedef int(udp_vdev_remove_t)(struct udp_vdev_device *dev);
typedef int(udp_vdev_dma_map_t)(struct udp_vdev_device *dev, void *addr, uint64_t iova, size_t len);

struct udp_vdev_driver {
	TAILQ_ENTRY(udp_vdev_driver) next;
	struct udp_rte_driver driver;
	udp_vdev_probe_t *probe;
	udp_vdev_remove_t *remove;
	udp_vdev_dma_map_t *dma_map;
	udp_vdev_dma_map_t *dma_unmap;
	uint32_t drv_flags;
};

void rte_vdev_register(struct udp_vdev_driver *driver);

int uiommu_dpdk_logtype = RTE_LOGTYPE_EAL;

static bool api_call; /* probe runs for uiommu_dpdk_protect(): return errors */

static struct rte_device *vdev_dev(struct udp_vdev_device *v)
{
	return (struct rte_device *)(void *)v->device;
}

static int vdev_probe(struct udp_vdev_device *v)
{
	struct rte_device *dev = vdev_dev(v);
	const struct rte_devargs *da = rte_dev_devargs(dev);
	const char *args = da && da->args ? da->args : "";
	struct udp_cfg cfg;
	char err[320];
	int rc;

	if (strcmp(rte_dev_name(dev), UIOMMU_DPDK_VDEV)) {
		UDP_LOG(ERR, "device '%s': only one, named '%s', is supported", rte_dev_name(dev),
			UIOMMU_DPDK_VDEV);
		return -EINVAL;
	}
	udp_telemetry_register();
	rc = udp_cfg_parse(args, &cfg, err, sizeof(err));
	if (rc) {
		UDP_LOG(ERR, "bad configuration '%s': %s; nothing was changed", args, err);
		cfg.exit_on_error = true;
		if (strstr(args, "on_error=continue"))
			cfg.exit_on_error = false;
	} else {
		rc = udp_protect(&cfg);
	}
	if (rc && !api_call && cfg.exit_on_error) {
		/* The application asked for isolation: it must not run without. */
		UDP_LOG(CRIT, "NOT protected (%s): exiting (on_error=continue runs without)",
			rte_strerror(-rc));
		fflush(stdout);
		fflush(stderr);
		exit(EXIT_FAILURE);
	}
	if (rc && !api_call)
		UDP_LOG(CRIT, "NOT protected (%s): DPDK's devices can DMA anywhere",
			rte_strerror(-rc));
	return rc;
}

static int vdev_remove(struct udp_vdev_device *v)
{
	(void)v;
	udp_release();
	return 0;
}

static int vdev_dma_map(struct udp_vdev_device *v, void *addr, uint64_t iova, size_t len)
{
	int rc;

	(void)v;
	rc = udp_dma_map(addr, iova, len);
	if (rc) {
		rte_errno = -rc;
		return -1;
	}
	return 0;
}

static int vdev_dma_unmap(struct udp_vdev_device *v, void *addr, uint64_t iova, size_t len)
{
	int rc;

	(void)v;
	rc = udp_dma_unmap(addr, iova, len);
	if (rc) {
		rte_errno = -rc;
		return -1;
	}
	return 0;
}

static struct udp_vdev_driver uiommu_vdev_drv = {
	.driver = {.name = UIOMMU_DPDK_VDEV},
	.probe = vdev_probe,
	.remove = vdev_remove,
	.dma_map = vdev_dma_map,
	.dma_unmap = vdev_dma_unmap,
};

RTE_INIT(uiommu_dpdk_init)
{
	const char *env = getenv(UIOMMU_DPDK_ENV);
	char devstr[1100];
	int lt;

	lt = rte_log_register_type_and_pick_level("pmd.uiommu", RTE_LOG_INFO);
	if (lt >= 0)
		uiommu_dpdk_logtype = lt;
	rte_vdev_register(&uiommu_vdev_drv);
	if (!env)
		return;
	/* Before the buses are scanned: the vdev bus finds it.  A --vdev
	 * uiommu on the command line is parsed later and replaces it. */
	if (strlen(env) + sizeof(UIOMMU_DPDK_VDEV) + 1 >= sizeof(devstr)) {
		UDP_LOG(ERR, "%s: too long", UIOMMU_DPDK_ENV);
		snprintf(devstr, sizeof(devstr), "%s,on_error=exit,bad=%s", UIOMMU_DPDK_VDEV,
			 "too-long");
	} else {
		snprintf(devstr, sizeof(devstr), "%s%s%s", UIOMMU_DPDK_VDEV, *env ? "," : "", env);
	}
	if (rte_devargs_add(RTE_DEVTYPE_VIRTUAL, devstr))
		UDP_LOG(ERR, "%s='%s': cannot add the uiommu device", UIOMMU_DPDK_ENV, env);
}

/* ------------------------------------------------------------ the calls */

int uiommu_dpdk_protect(const char *args)
{
	struct udp_cfg cfg;
	char err[320];
	int rc;

	if (rte_lcore_count() == 0) {
		UDP_LOG(ERR, "uiommu_dpdk_protect: call it after rte_eal_init()");
		return -EINVAL;
	}
	if (udp_cfg_parse(args, &cfg, err, sizeof(err))) {
		UDP_LOG(ERR, "bad configuration '%s': %s; nothing was changed", args ? args : "",
			err);
		return -EINVAL;
	}
	if (uiommu_dpdk_active())
		return -EEXIST;
	api_call = true;
	rc = rte_vdev_init(UIOMMU_DPDK_VDEV, args ? args : "");
	api_call = false;
	if (rc == -EEXIST && !uiommu_dpdk_active()) {
		/* A device left by a failed probe: drop it and try once more. */
		(void)rte_vdev_uninit(UIOMMU_DPDK_VDEV);
		api_call = true;
		rc = rte_vdev_init(UIOMMU_DPDK_VDEV, args ? args : "");
		api_call = false;
	}
	if (rc) {
		/* vdev_probe's error; a failed device stays on the bus */
		(void)rte_vdev_uninit(UIOMMU_DPDK_VDEV);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

int uiommu_dpdk_release(void)
{
	if (!uiommu_dpdk_active())
		return -ENOENT;
	if (rte_vdev_uninit(UIOMMU_DPDK_VDEV))
		udp_release(); /* protected without the device: cannot happen; be sure */
	return 0;
}

bool uiommu_dpdk_active(void)
{
	bool a;

	pthread_mutex_lock(&udp_lock);
	a = udp_g.active;
	pthread_mutex_unlock(&udp_lock);
	return a;
}

uint32_t uiommu_dpdk_poll(void)
{
	return udp_poll_once();
}

struct uiommu_ctx *uiommu_dpdk_ctx(void)
{
	return udp_g.active ? udp_g.ctx : NULL;
}

struct uiommu_ioas *uiommu_dpdk_ioas(void)
{
	return udp_g.active ? udp_g.ioas : NULL;
}

int uiommu_dpdk_dma_map(void *va, uint64_t iova, uint64_t len)
{
	return udp_dma_map(va, iova, len);
}

int uiommu_dpdk_dma_unmap(void *va, uint64_t iova, uint64_t len)
{
	return udp_dma_unmap(va, iova, len);
}

int uiommu_dpdk_get_stats(struct uiommu_dpdk_stats *st)
{
	struct uiommu_ioas_stats s;

	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return -ENOENT;
	}
	*st = udp_g.st;
	st->nr_units = udp_g.nr_units;
	uiommu_ioas_get_stats(udp_g.ioas, &s);
	st->nr_areas = s.nr_areas;
	st->mapped_bytes = s.mapped_bytes;
	pthread_mutex_unlock(&udp_lock);
	return 0;
}

int64_t uiommu_dpdk_device_faults(const char *bdf)
{
	struct udp_bdf b;
	int64_t r = -ENOENT;

	if (udp_parse_bdf(bdf, &b))
		return -EINVAL;
	pthread_mutex_lock(&udp_lock);
	for (uint32_t i = 0; udp_g.active && i < udp_g.nr_devs; i++)
		if (!memcmp(&udp_g.devs[i].bdf, &b, sizeof(b)))
			r = (int64_t)udp_g.devs[i].faults;
	pthread_mutex_unlock(&udp_lock);
	return r;
}
