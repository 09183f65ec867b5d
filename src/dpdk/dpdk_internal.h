/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK EAL plugin (librte_uiommu.so): private structures.
 *
 * dpdk_cfg.c     the configuration string (devargs style), checked whole
 * dpdk_protect.c take-over, memsegs, devices, memory events, give-back
 * dpdk_fault.c   fault polling (alarm / service / application), telemetry
 * dpdk_vdev.c    the `uiommu` virtual device, UIOMMU_DPDK, the public calls
 *
 * One protection per process (EAL is one per process); its state is the
 * static `g` of dpdk_protect.c, guarded by g_lock (control path) and by the
 * library's context lock (everything the library owns).
 */
#ifndef UIOMMU_DPDK_INTERNAL_H
#define UIOMMU_DPDK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_log.h>

#include "uiommu/uiommu.h"
#include "uiommu/uiommu_dpdk.h"

extern int uiommu_dpdk_logtype;
#define UDP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, uiommu_dpdk_logtype, "uiommu: " fmt "\n", ##__VA_ARGS__)

#define UDP_MAX_ATTACH 32  /* attach= keys */
#define UDP_MAX_DEVS   256 /* devices of the units taken over */
#define UDP_MAX_UNITS  16

enum udp_poll {
	UDP_POLL_ALARM = 0, /* EAL alarm (interrupt thread), every poll_ms */
	UDP_POLL_SERVICE,   /* an rte_service the application maps to a service core */
	UDP_POLL_APP,	    /* the application calls uiommu_dpdk_poll() */
};

struct udp_bdf {
	uint16_t seg;
	uint8_t bus;
	uint8_t devfn;
};

/* The configuration, parsed and checked before anything changes. */
struct udp_cfg {
	enum uiommu_family model; /* UIOMMU_FAMILY_NONE: hardware from firmware */
	char state[65];		  /* shared state name */
	struct udp_bdf attach[UDP_MAX_ATTACH];
	uint32_t nr_attach;
	enum udp_poll poll;
	uint32_t poll_ms;
	uint32_t log_rate; /* fault log lines per second */
	bool force;
	bool exit_on_error;  /* a failure while EAL starts ends the process */
	char acpi_dir[256];  /* firmware tables (tests): "" = /sys */
	char model_cfg[128]; /* model settings, "key=value,..." (docs/models.md) */
	struct udp_bdf passthrough[UDP_MAX_ATTACH]; /* model: other devices of the unit */
	uint32_t nr_passthrough;
	bool amdvi_small_devtab; /* AMD-Vi units: UIOMMU_AMDVI_F_SMALL_DEVTAB */
};

/* Parse @args ("key=value,..."); on error 0 is not returned, @err says why. */
int udp_cfg_parse(const char *args, struct udp_cfg *cfg, char *err, size_t errlen);
int udp_parse_bdf(const char *s, struct udp_bdf *out);

/* One device of a unit taken over. */
struct udp_dev {
	struct udp_bdf bdf;
	uint32_t dev_id; /* library object ID */
	uint32_t unit_id;
	bool attached; /* to the IOAS (DPDK's), else pass-through */
	uint64_t faults;
	char driver[32];
};

struct udp_state {
	bool active;
	struct udp_cfg cfg;
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *ioas;
	bool model;	  /* bus addresses are CPU addresses (model units) */
	bool dynamic_mem; /* memory events registered: one mapping per page */
	struct udp_dev devs[UDP_MAX_DEVS];
	uint32_t nr_devs;
	uint32_t nr_units;
	struct uiommu_dpdk_stats st;
	/* fault log rate limit */
	uint64_t log_window_start;
	uint32_t log_in_window;
	uint64_t log_suppressed;
	/* last fault, for telemetry */
	struct uiommu_event last;
	bool have_last;
	uint32_t service_id;
	bool service_registered;
	bool alarm_armed;
};

extern struct udp_state udp_g;
extern pthread_mutex_t udp_lock;

int udp_protect(const struct udp_cfg *cfg);
void udp_release(void);
int udp_dma_map(void *va, uint64_t iova, uint64_t len);
int udp_dma_unmap(void *va, uint64_t iova, uint64_t len);

/* dpdk_fault.c */
uint32_t udp_poll_once(void);
int udp_poll_start(void);
void udp_poll_stop(void);
void udp_telemetry_register(void);

#endif
