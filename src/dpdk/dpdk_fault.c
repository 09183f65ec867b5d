/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Faults: polled by an EAL alarm (the interrupt thread: works for any
 * application, no core to give), by an rte_service the application maps
 * to a service core, or by the application (uiommu_dpdk_poll()).  Each
 * fault is counted for its device and logged through rte_log at most
 * log_rate lines per second (the rest are counted and summarised).
 * Telemetry: /uiommu/faults, /uiommu/ioas, /uiommu/units.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_service.h>
#include <rte_service_component.h>
#include <rte_telemetry.h>

#include "dpdk/dpdk_internal.h"

#define POLL_BURST 32

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct udp_dev *dev_by_id(uint32_t id)
{
	for (uint32_t i = 0; i < udp_g.nr_devs; i++)
		if (udp_g.devs[i].dev_id == id)
			return &udp_g.devs[i];
	return NULL;
}

static void log_event(const struct uiommu_event *ev, const struct udp_dev *d)
{
	uint64_t now = mono_ns();
	char who[24];

	if (now - udp_g.log_window_start >= 1000000000ull) {
		if (udp_g.log_suppressed)
			UDP_LOG(WARNING, "%" PRIu64 " more fault(s) not logged (log_rate=%u/s)",
				udp_g.log_suppressed, udp_g.cfg.log_rate);
		udp_g.log_window_start = now;
		udp_g.log_in_window = 0;
		udp_g.log_suppressed = 0;
	}
	if (udp_g.log_in_window >= udp_g.cfg.log_rate) {
		udp_g.log_suppressed++;
		return;
	}
	udp_g.log_in_window++;
	if (d)
		snprintf(who, sizeof(who), "%04x:%02x:%02x.%x", d->bdf.seg, d->bdf.bus,
			 d->bdf.devfn >> 3, d->bdf.devfn & 7);
	else
		snprintf(who, sizeof(who), "id %#x", ev->hw_id);
	if (ev->type == UIOMMU_EV_FAULT)
		UDP_LOG(WARNING, "DMA fault: %s %s at IOVA %#" PRIx64 " (unit %u): %s", who,
			ev->flags & UIOMMU_EV_WRITE ? "write" : "read", ev->addr, ev->unit_id,
			ev->reason_text ? ev->reason_text : "?");
	else if (ev->type == UIOMMU_EV_OVERFLOW)
		UDP_LOG(WARNING, "unit %u dropped %" PRIu64 " fault record(s) (overflow)",
			ev->unit_id, ev->count);
	else
		UDP_LOG(WARNING, "unit %u: event type %d (%s)", ev->unit_id, (int)ev->type,
			ev->reason_text ? ev->reason_text : "");
}

uint32_t udp_poll_once(void)
{
	struct uiommu_event ev[POLL_BURST];
	uint32_t total = 0;
	uint16_t n;

	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return 0;
	}
	do {
		n = uiommu_poll(udp_g.ctx, ev, POLL_BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct udp_dev *d = ev[i].dev_id ? dev_by_id(ev[i].dev_id) : NULL;

			if (ev[i].type == UIOMMU_EV_FAULT) {
				udp_g.st.faults++;
				if (d)
					d->faults++;
				else
					udp_g.st.faults_unknown++;
				udp_g.last = ev[i];
				udp_g.last.reason_text = NULL; /* points into the burst */
				udp_g.have_last = true;
			}
			log_event(&ev[i], d);
		}
		total += n;
	} while (n == POLL_BURST && total < 4096);
	pthread_mutex_unlock(&udp_lock);
	return total;
}

/* ------------------------------------------------------------- pollers */

static volatile bool alarm_on;

static void alarm_cb(void *arg)
{
	(void)arg;
	(void)udp_poll_once();
	if (alarm_on && rte_eal_alarm_set(udp_g.cfg.poll_ms * 1000ull, alarm_cb, NULL))
		UDP_LOG(ERR, "cannot re-arm the fault poll alarm: faults are no longer polled");
}

static int32_t service_cb(void *arg)
{
	(void)arg;
	return udp_poll_once() ? 0 : -EAGAIN;
}

int udp_poll_start(void)
{
	struct rte_service_spec spec = {.name = "uiommu_faults", .callback = service_cb};
	int rc;

	switch (udp_g.cfg.poll) {
	case UDP_POLL_ALARM:
		alarm_on = true;
		rc = rte_eal_alarm_set(udp_g.cfg.poll_ms * 1000ull, alarm_cb, NULL);
		if (rc) {
			alarm_on = false;
			UDP_LOG(ERR, "cannot set the fault poll alarm: %s", strerror(-rc));
			return rc;
		}
		udp_g.alarm_armed = true;
		return 0;
	case UDP_POLL_SERVICE:
		rc = rte_service_component_register(&spec, &udp_g.service_id);
		if (rc) {
			UDP_LOG(ERR, "cannot register the fault service: %s", strerror(-rc));
			return rc;
		}
		udp_g.service_registered = true;
		(void)rte_service_component_runstate_set(udp_g.service_id, 1);
		(void)rte_service_runstate_set(udp_g.service_id, 1);
		UDP_LOG(INFO, "faults: service 'uiommu_faults' (id %u): map it to a service core",
			udp_g.service_id);
		return 0;
	case UDP_POLL_APP:
	default:
		return 0;
	}
}

void udp_poll_stop(void)
{
	if (udp_g.alarm_armed) {
		alarm_on = false;
		/* Waits for a callback running on the interrupt thread. */
		(void)rte_eal_alarm_cancel(alarm_cb, (void *)-1);
		udp_g.alarm_armed = false;
	}
	if (udp_g.service_registered) {
		(void)rte_service_runstate_set(udp_g.service_id, 0);
		(void)rte_service_component_runstate_set(udp_g.service_id, 0);
		/* Bounded wait for a service core still inside the callback. */
		for (int i = 0; i < 1000 && rte_service_may_be_active(udp_g.service_id) == 1; i++)
			rte_delay_us_sleep(1000);
		if (rte_service_component_unregister(udp_g.service_id))
			UDP_LOG(WARNING, "fault service still running: left registered");
		udp_g.service_registered = false;
	}
}

/* ------------------------------------------------------------ telemetry */

static int tel_inactive(struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "active", 0);
	return 0;
}

static int tel_faults(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *per;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return tel_inactive(d);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "active", 1);
	rte_tel_data_add_dict_u64(d, "faults", udp_g.st.faults);
	rte_tel_data_add_dict_u64(d, "faults_unknown_source", udp_g.st.faults_unknown);
	/* Telemetry names are [A-Za-z0-9_]: "0000_00_03_0" is 0000:00:03.0.
	 * (DPDK 22.11 nests one level: a dict of counts.) */
	per = rte_tel_data_alloc();
	if (per) {
		rte_tel_data_start_dict(per);
		for (uint32_t i = 0; i < udp_g.nr_devs; i++) {
			char name[24];
			const struct udp_dev *x = &udp_g.devs[i];

			snprintf(name, sizeof(name), "%04x_%02x_%02x_%x", x->bdf.seg, x->bdf.bus,
				 x->bdf.devfn >> 3, x->bdf.devfn & 7);
			rte_tel_data_add_dict_u64(per, name, x->faults);
		}
		rte_tel_data_add_dict_container(d, "per_device", per, 0);
	}
	if (udp_g.have_last) {
		rte_tel_data_add_dict_u64(d, "last_iova", udp_g.last.addr);
		rte_tel_data_add_dict_u64(d, "last_reason", udp_g.last.reason);
		rte_tel_data_add_dict_u64(d, "last_hw_id", udp_g.last.hw_id);
		rte_tel_data_add_dict_int(d, "last_write", !!(udp_g.last.flags & UIOMMU_EV_WRITE));
	}
	pthread_mutex_unlock(&udp_lock);
	return 0;
}

static int tel_ioas(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct uiommu_ioas_stats s;
	struct rte_tel_data *att;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return tel_inactive(d);
	}
	uiommu_ioas_get_stats(udp_g.ioas, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "active", 1);
	rte_tel_data_add_dict_u64(d, "id", uiommu_ioas_id(udp_g.ioas));
	rte_tel_data_add_dict_u64(d, "areas", s.nr_areas);
	rte_tel_data_add_dict_u64(d, "mapped_bytes", s.mapped_bytes);
	rte_tel_data_add_dict_u64(d, "hwpts", s.nr_hwpts);
	rte_tel_data_add_dict_u64(d, "attachments", s.nr_attached);
	rte_tel_data_add_dict_u64(d, "map_events", udp_g.st.map_events);
	rte_tel_data_add_dict_u64(d, "unmap_events", udp_g.st.unmap_events);
	rte_tel_data_add_dict_u64(d, "map_errors", udp_g.st.map_errors);
	rte_tel_data_add_dict_u64(d, "startup_map_ns", udp_g.st.startup_map_ns);
	rte_tel_data_add_dict_u64(d, "protect_ns", udp_g.st.protect_ns);
	rte_tel_data_add_dict_u64(d, "map_event_ns", udp_g.st.map_event_ns);
	rte_tel_data_add_dict_u64(d, "map_event_bytes", udp_g.st.map_event_bytes);
	rte_tel_data_add_dict_u64(d, "unmap_event_ns", udp_g.st.unmap_event_ns);
	rte_tel_data_add_dict_int(d, "memory_events", udp_g.dynamic_mem);
	att = rte_tel_data_alloc();
	if (att) {
		rte_tel_data_start_array(att, RTE_TEL_STRING_VAL);
		for (uint32_t i = 0; i < udp_g.nr_devs; i++) {
			char name[24];
			const struct udp_dev *x = &udp_g.devs[i];

			if (!x->attached)
				continue;
			snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", x->bdf.seg, x->bdf.bus,
				 x->bdf.devfn >> 3, x->bdf.devfn & 7);
			rte_tel_data_add_array_string(att, name);
		}
		rte_tel_data_add_dict_container(d, "devices", att, 0);
	}
	pthread_mutex_unlock(&udp_lock);
	return 0;
}

static int tel_units(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	pthread_mutex_lock(&udp_lock);
	if (!udp_g.active) {
		pthread_mutex_unlock(&udp_lock);
		return tel_inactive(d);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "active", 1);
	rte_tel_data_add_dict_string(d, "state", udp_g.cfg.state);
	rte_tel_data_add_dict_u64(d, "passthrough_devices", udp_g.st.nr_passthrough);
	for (struct uiommu_unit *u = uiommu_unit_next(udp_g.ctx, NULL); u;
	     u = uiommu_unit_next(udp_g.ctx, u)) {
		struct uiommu_unit_info in;
		struct rte_tel_data *o = rte_tel_data_alloc();
		char key[24];

		if (!o || uiommu_unit_get_info(u, &in)) {
			rte_tel_data_free(o);
			continue;
		}
		rte_tel_data_start_dict(o);
		rte_tel_data_add_dict_string(o, "family",
					     in.family == UIOMMU_FAMILY_VTD	 ? "vtd"
					     : in.family == UIOMMU_FAMILY_SMMUV3 ? "smmuv3"
					     : in.family == UIOMMU_FAMILY_AMDVI	 ? "amdvi"
										 : "?");
		rte_tel_data_add_dict_string(o, "access",
					     in.access == UIOMMU_UNIT_MODEL ? "model" : "mmio");
		rte_tel_data_add_dict_u64(o, "reg_base", in.reg_base);
		rte_tel_data_add_dict_u64(o, "devices", in.nr_devices);
		snprintf(key, sizeof(key), "unit%u", in.id);
		rte_tel_data_add_dict_container(d, key, o, 0);
	}
	pthread_mutex_unlock(&udp_lock);
	return 0;
}

void udp_telemetry_register(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	rte_telemetry_register_cmd("/uiommu/faults", tel_faults,
				   "Faults seen by uiommu: total and per device");
	rte_telemetry_register_cmd("/uiommu/ioas", tel_ioas,
				   "DPDK's I/O address space: mappings, memory events, devices");
	rte_telemetry_register_cmd("/uiommu/units", tel_units,
				   "IOMMU units uiommu took over for this DPDK process");
}
