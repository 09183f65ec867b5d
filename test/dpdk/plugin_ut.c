/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK plugin on the built-in VT-d model, IOVA as VA (EAL --no-huge):
 * bad configurations refused with nothing changed; every memseg mapped;
 * DMA inside DPDK's memory lands, outside it faults and the target stays
 * unchanged; faults counted per device and in telemetry; external memory
 * through a malloc heap (memory events) and through rte_dev_dma_map; the
 * same state seen by uiommuctl; a killed process's state adopted and given
 * back by the next start; give-back on release and on rte_eal_cleanup.
 *
 * argv[1]: the uiommuctl binary.  "--crash STATE": the child that protects
 * and dies by SIGKILL.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_service.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "uiommu/uiommu_dpdk.h"

static const char *uiommuctl;
static char self[512];
static char prefix[64], state[128], cfg[256];

static bool state_exists(const char *name)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "/dev/shm/uiommu-%u/%s", (unsigned)geteuid(), name);
	return stat(p, &sb) == 0;
}

/* DPDK telemetry (its unix socket): one command's reply. */
static int telemetry(const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || read(fd, out, len - 1) <= 0 ||
	    write(fd, cmd, strlen(cmd)) < 0 || (n = read(fd, out, len - 1)) <= 0) {
		close(fd);
		return -1;
	}
	out[n] = 0;
	close(fd);
	return 0;
}

static struct uiommu_device *the_dev(void)
{
	struct uiommu_ctx *ctx = uiommu_dpdk_ctx();
	struct uiommu_device *d;

	for (d = ctx ? uiommu_device_next(ctx, NULL) : NULL; d; d = uiommu_device_next(ctx, d)) {
		struct uiommu_device_desc dd;

		if (uiommu_device_get_desc(d, &dd) == 0 && dd.bus == 0 && dd.devfn == (3 << 3))
			return d;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */

static void test_bad_config(void)
{
	static const char *const bad[] = {
		"model=nope",
		"model=vtd,attach=zz:1",
		"model=vtd,poll_ms=0",
		"model=vtd,foo=1",
		"model=vtd,model=vtd",
		"model=vtd,state=../x",
		"model=vtd,poll=app,poll_ms=5",
		"model=vtd,force=1",
		",",
		"model",
		"model=vtd,,poll=app",
		"model=vtd,attach=00:20.0",
		"model=vtd,log_rate=-1",
		"model=vtd,on_error=maybe",
		"model=vtd,attach=00:03.0,attach=0000:00:03.0",
		"model=vtd,amdvi_small_devtab=1",
		"model=amdvi,amdvi_small_devtab=2",
		"model=amdvi,amdvi_small_devtab=1,amdvi_small_devtab=1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char c[256];

		snprintf(c, sizeof(c), "%s,state=%s", bad[i], state);
		if (strstr(bad[i], "state=") || bad[i][0] == ',' || !strcmp(bad[i], "model"))
			snprintf(c, sizeof(c), "%s", bad[i]);
		int rc = uiommu_dpdk_protect(c);
		if (rc != -EINVAL)
			printf("\n    '%s' -> %d\n", c, rc);
		CU_ASSERT(rc == -EINVAL);
		CU_ASSERT(!uiommu_dpdk_active());
		CU_ASSERT(!state_exists(state));
	}
	CU_ASSERT(uiommu_dpdk_ctx() == NULL);
	CU_ASSERT(uiommu_dpdk_release() == -ENOENT);
}

/* amdvi_small_devtab=1: the AMD-Vi model unit comes up with it (the flag
 * only matters when 2 MiB is not contiguous: amdvi-drv small_devtab),
 * isolates, and is given back. */
static void test_amdvi_small_devtab(void)
{
	struct uiommu_dpdk_stats st;
	struct uiommu_device *dev;
	uint8_t pat[16];
	char reply[4096];

	snprintf(cfg, sizeof(cfg),
		 "model=amdvi,amdvi_small_devtab=1,state=%s,attach=00:03.0,poll=app", state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0);
	CU_ASSERT(uiommu_dpdk_get_stats(&st) == 0 && st.nr_units == 1 && st.nr_attached == 1);
	CU_ASSERT(telemetry("/uiommu/units", reply, sizeof(reply)) == 0);
	CU_ASSERT(strstr(reply, "\"family\":\"amdvi\"") != NULL);
	dev = the_dev();
	CU_ASSERT_FATAL(dev != NULL);
	uint8_t *buf = rte_zmalloc("dma", 4096, 4096);
	CU_ASSERT_FATAL(buf != NULL);
	memset(pat, 0x3c, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, rte_malloc_virt2iova(buf), pat,
				   sizeof(pat), true) == 0);
	CU_ASSERT(buf[0] == 0x3c && buf[15] == 0x3c);
	rte_free(buf);
	CU_ASSERT(uiommu_dpdk_release() == 0);
	CU_ASSERT(!state_exists(state));
}

struct seg_check {
	uint64_t segs, unmapped;
};

static int check_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct seg_check *c = arg;
	struct uiommu_area_info a;

	(void)msl;
	c->segs++;
	if (uiommu_ioas_lookup(uiommu_dpdk_ioas(), ms->iova, &a) ||
	    a.phys + (ms->iova - a.iova) != (uint64_t)(uintptr_t)ms->addr ||
	    a.iova + a.len < ms->iova + ms->len)
		c->unmapped++;
	return 0;
}

static void test_protect_model(void)
{
	struct uiommu_dpdk_stats st;
	struct seg_check sc = {0, 0};
	struct uiommu_device *dev;
	static uint8_t outside[8192] __attribute__((aligned(4096)));
	uint8_t pat[64];
	char reply[4096];

	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=app,log_rate=2", state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0);
	CU_ASSERT(uiommu_dpdk_active());
	CU_ASSERT(state_exists(state));
	CU_ASSERT(uiommu_dpdk_protect(cfg) == -EEXIST);
	CU_ASSERT_FATAL(uiommu_dpdk_get_stats(&st) == 0);
	CU_ASSERT(st.nr_units == 1);
	CU_ASSERT(st.nr_attached == 1);
	CU_ASSERT(st.mapped_bytes >= 64ull << 20);
	printf("\n    %" PRIu64 " bytes in %" PRIu64 " areas mapped in %.3f ms\n", st.mapped_bytes,
	       st.nr_areas, st.startup_map_ns / 1e6);

	/* Every memseg is mapped at its IOVA, onto its own memory. */
	CU_ASSERT(rte_memseg_walk(check_seg, &sc) == 0);
	CU_ASSERT(sc.segs > 0);
	CU_ASSERT(sc.unmapped == 0);

	/* DMA into DPDK memory lands. */
	dev = the_dev();
	CU_ASSERT_FATAL(dev != NULL);
	uint8_t *buf = rte_zmalloc("dma", 4096, 4096);
	CU_ASSERT_FATAL(buf != NULL);
	memset(pat, 0xa5, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, rte_malloc_virt2iova(buf), pat,
				   sizeof(pat), true) == 0);
	CU_ASSERT(buf[0] == 0xa5 && buf[63] == 0xa5 && buf[64] == 0);

	/* DMA outside DPDK memory faults; the target is unchanged. */
	CU_ASSERT(uiommu_dpdk_poll() == 0);
	memset(outside, 0x11, sizeof(outside));
	for (int i = 0; i < 5; i++)
		CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)outside + 64 * i, pat,
					   sizeof(pat), true) == -EFAULT);
	CU_ASSERT(outside[0] == 0x11 && outside[4095] == 0x11);
	CU_ASSERT(uiommu_dpdk_poll() >= 1);
	CU_ASSERT(uiommu_dpdk_device_faults("0000:00:03.0") >= 1);
	CU_ASSERT(uiommu_dpdk_device_faults("00:04.0") == -ENOENT);
	CU_ASSERT(uiommu_dpdk_device_faults("bogus") == -EINVAL);
	CU_ASSERT(uiommu_dpdk_get_stats(&st) == 0 && st.faults >= 1);

	/* Telemetry shows it all. */
	CU_ASSERT_FATAL(telemetry("/uiommu/faults", reply, sizeof(reply)) == 0);
	printf("    %s\n", reply);
	CU_ASSERT(strstr(reply, "\"per_device\":{\"0000_00_03_0\":5}") != NULL);
	CU_ASSERT(strstr(reply, "\"faults\":0") == NULL);
	CU_ASSERT(telemetry("/uiommu/ioas", reply, sizeof(reply)) == 0);
	printf("    %s\n", reply);
	CU_ASSERT(strstr(reply, "\"mapped_bytes\":") != NULL);
	CU_ASSERT(strstr(reply, "0000:00:03.0") != NULL);
	CU_ASSERT(telemetry("/uiommu/units", reply, sizeof(reply)) == 0);
	printf("    %s\n", reply);
	CU_ASSERT(strstr(reply, "\"family\":\"vtd\"") != NULL);
	CU_ASSERT(strstr(reply, "\"access\":\"model\"") != NULL);
	rte_free(buf);
}

/* External memory through a malloc heap: the heap add/remove raise memory
 * events (when EAL has them), rte_dev_dma_map on the uiommu device maps. */
static void test_external_memory(void)
{
	const size_t pg = 4096, len = 64 * 4096;
	struct uiommu_device *dev = the_dev();
	rte_iova_t iovas[64];
	uint8_t pat[32], back[32];
	struct rte_device *udev;
	uint8_t *mem;
	int rc;

	CU_ASSERT_FATAL(dev != NULL);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(mem != MAP_FAILED);
	for (size_t i = 0; i < 64; i++)
		iovas[i] = (uintptr_t)mem + i * pg; /* IOVA as VA */
	memset(pat, 0x5a, sizeof(pat));

	/* rte_extmem_register + rte_dev_dma_map on the uiommu device. */
	CU_ASSERT_FATAL(rte_extmem_register(mem, len, iovas, 64, pg) == 0);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, iovas[3], pat, sizeof(pat), true) ==
		  -EFAULT); /* not mapped yet */
	udev = NULL;
	{
		struct rte_dev_iterator it;
		struct rte_device *d;

		RTE_DEV_FOREACH(d, "bus=vdev", &it)
		{
			if (!strcmp(rte_dev_name(d), "uiommu"))
				udev = d;
		}
	}
	CU_ASSERT_FATAL(udev != NULL);
	CU_ASSERT(rte_dev_dma_map(udev, mem + pg, iovas[1], 3 * pg + 1) < 0); /* misaligned */
	CU_ASSERT(rte_dev_dma_map(udev, mem, iovas[0], len) == 0);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, iovas[3], pat, sizeof(pat), true) == 0);
	CU_ASSERT(mem[3 * pg] == 0x5a);
	CU_ASSERT(rte_dev_dma_unmap(udev, mem, iovas[0], len) == 0);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, iovas[3], back, sizeof(back), false) ==
		  -EFAULT);
	CU_ASSERT(rte_extmem_unregister(mem, len) == 0);

	/* A heap over the same memory: mapped on add, unmapped on remove. */
	struct uiommu_dpdk_stats st0, st1;
	CU_ASSERT(uiommu_dpdk_get_stats(&st0) == 0);
	CU_ASSERT_FATAL(rte_malloc_heap_create("uiommu-ut") == 0);
	rc = rte_malloc_heap_memory_add("uiommu-ut", mem, len, iovas, 64, pg);
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT(uiommu_dpdk_get_stats(&st1) == 0);
	if (st1.map_events == st0.map_events) {
		printf("\n    no memory events in this EAL mode: heap memory not checked\n");
	} else {
		int sock = rte_malloc_heap_get_socket("uiommu-ut");
		uint8_t *p = rte_malloc_socket("x", 4096, 4096, sock);

		CU_ASSERT_FATAL(p != NULL);
		CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, rte_malloc_virt2iova(p), pat,
					   sizeof(pat), true) == 0);
		CU_ASSERT(p[0] == 0x5a);
		rte_free(p);
		CU_ASSERT(rte_malloc_heap_memory_remove("uiommu-ut", mem, len) == 0);
		CU_ASSERT(uiommu_dpdk_get_stats(&st1) == 0 && st1.unmap_events > st0.unmap_events);
		CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, iovas[0], pat, sizeof(pat),
					   true) == -EFAULT);
	}
	if (st1.map_events == st0.map_events)
		CU_ASSERT(rte_malloc_heap_memory_remove("uiommu-ut", mem, len) == 0);
	CU_ASSERT(rte_malloc_heap_destroy("uiommu-ut") == 0);
	munmap(mem, len);
	(void)uiommu_dpdk_poll();
}

/* uiommuctl adopts the same state and sees the device and the IOAS. */
static void test_uiommuctl_sees_it(void)
{
	char cmd[768], out[8192];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s --state %s device list 2>&1", uiommuctl, state);
	f = popen(cmd, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	CU_ASSERT(pclose(f) == 0);
	printf("\n%s", out);
	CU_ASSERT(strstr(out, "00:03.0") != NULL);
	snprintf(cmd, sizeof(cmd), "%s --state %s ioas list 2>&1", uiommuctl, state);
	f = popen(cmd, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	CU_ASSERT(pclose(f) == 0);
	printf("%s", out);
	CU_ASSERT(strstr(out, "dpdk") != NULL);
}

/* poll=service: the plugin's rte_service polls (here run on this lcore,
 * as a service core would). */
static void test_service_poll(void)
{
	struct uiommu_device *dev;
	static uint8_t target[4096] __attribute__((aligned(4096)));
	uint8_t b[8] = {0};
	uint32_t id;

	CU_ASSERT_FATAL(uiommu_dpdk_release() == 0);
	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=service", state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0);
	CU_ASSERT_FATAL(rte_service_get_by_name("uiommu_faults", &id) == 0);
	dev = the_dev();
	CU_ASSERT_FATAL(dev != NULL);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, b, 8, true) == -EFAULT);
	CU_ASSERT(uiommu_dpdk_device_faults("00:03.0") == 0);
	CU_ASSERT(rte_service_run_iter_on_app_lcore(id, 1) == 0);
	CU_ASSERT(uiommu_dpdk_device_faults("00:03.0") == 1);
	/* release unregisters it */
	CU_ASSERT(uiommu_dpdk_release() == 0);
	CU_ASSERT(rte_service_get_by_name("uiommu_faults", &id) != 0);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0); /* for test_release */
}

static struct uiommu_device *dev_at(uint8_t devfn)
{
	struct uiommu_ctx *ctx = uiommu_dpdk_ctx();

	for (struct uiommu_device *d = ctx ? uiommu_device_next(ctx, NULL) : NULL; d;
	     d = uiommu_device_next(ctx, d)) {
		struct uiommu_device_desc dd;

		if (uiommu_device_get_desc(d, &dd) == 0 && dd.bus == 0 && dd.devfn == devfn)
			return d;
	}
	return NULL;
}

/* The other devices of a unit stay in pass-through (they reach all memory,
 * as before the take-over); a unit that cannot do pass-through is refused,
 * naming them, and nothing changes. */
static void test_passthrough_and_refusal(void)
{
	static uint8_t anywhere[4096] __attribute__((aligned(4096)));
	uint8_t pat[8];
	char c[256];

	CU_ASSERT_FATAL(uiommu_dpdk_release() == 0);
	snprintf(c, sizeof(c), "model=vtd,state=%s,attach=00:03.0,passthrough=00:05.0,poll=app",
		 state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(c) == 0);
	struct uiommu_dpdk_stats st;
	CU_ASSERT(uiommu_dpdk_get_stats(&st) == 0 && st.nr_passthrough == 1 && st.nr_attached == 1);
	memset(pat, 0x42, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev_at(5 << 3), UIOMMU_NO_PASID, (uintptr_t)anywhere, pat,
				   sizeof(pat), true) == 0);
	CU_ASSERT(anywhere[0] == 0x42);
	CU_ASSERT(uiommu_model_dma(dev_at(3 << 3), UIOMMU_NO_PASID, (uintptr_t)anywhere + 64, pat,
				   sizeof(pat), true) == -EFAULT);
	CU_ASSERT(anywhere[64] == 0);
	CU_ASSERT(uiommu_dpdk_release() == 0);

	/* No pass-through on the unit: refused, nothing left behind. */
	snprintf(c, sizeof(c),
		 "model=vtd,model_cfg=pt=0,state=%s,attach=00:03.0,passthrough=00:05.0", state);
	CU_ASSERT(uiommu_dpdk_protect(c) == -EOPNOTSUPP);
	CU_ASSERT(!uiommu_dpdk_active());
	CU_ASSERT(!state_exists(state));
	/* the model's own settings are checked by the model */
	snprintf(c, sizeof(c), "model=vtd,model_cfg=pt=7,state=%s", state);
	CU_ASSERT(uiommu_dpdk_protect(c) == -EINVAL);
	CU_ASSERT(!state_exists(state));
	/* bad combinations */
	CU_ASSERT(uiommu_dpdk_protect("passthrough=00:05.0") == -EINVAL);
	CU_ASSERT(uiommu_dpdk_protect("model=vtd,attach=00:05.0,passthrough=00:05.0") == -EINVAL);
	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=app", state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0); /* for test_release */
}

static void test_release(void)
{
	CU_ASSERT(uiommu_dpdk_release() == 0);
	CU_ASSERT(!uiommu_dpdk_active());
	CU_ASSERT(!state_exists(state));
	CU_ASSERT(uiommu_dpdk_ioas() == NULL);
	CU_ASSERT(uiommu_dpdk_release() == -ENOENT);
}

/* A process protected with a state dies by SIGKILL: the state stays (the
 * units keep translating); the next start adopts it and gives it back
 * before taking over again. */
static void test_crash_then_restart(void)
{
	char cstate[128];
	pid_t pid;
	int ws;

	snprintf(cstate, sizeof(cstate), "%.60s-crash", state);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		execl(self, self, "--crash", cstate, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT(waitpid(pid, &ws, 0) == pid);
	CU_ASSERT(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	CU_ASSERT_FATAL(state_exists(cstate));
	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=alarm,poll_ms=5",
		 cstate);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0);
	CU_ASSERT(uiommu_ctx_adopted(uiommu_dpdk_ctx()) == false); /* a fresh take-over */
	/* the alarm polls faults without the application's help */
	struct uiommu_device *dev = the_dev();
	uint8_t b[8] = {0};
	static uint8_t target[4096] __attribute__((aligned(4096)));
	CU_ASSERT_FATAL(dev != NULL);
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, (uintptr_t)target, b, 8, true) == -EFAULT);
	for (int i = 0; i < 200 && uiommu_dpdk_device_faults("00:03.0") < 1; i++)
		usleep(10000);
	CU_ASSERT(uiommu_dpdk_device_faults("00:03.0") >= 1);
	/* rte_eal_cleanup (main) gives this one back */
	snprintf(state, sizeof(state), "%s", cstate);
}

static int crash_child(const char *st)
{
	char *args[] = {"crash",       "--no-huge",	     "-m",	    "32",
			"--no-pci",    "--no-shconf",	     "-l",	    "0",
			"--log-level", "pmd.uiommu:warning", "--log-level", "lib.eal:error"};
	char c[160];

	if (rte_eal_init(12, args) < 0)
		return 2;
	snprintf(c, sizeof(c), "model=vtd,state=%s,attach=00:03.0,poll=app", st);
	if (uiommu_dpdk_protect(c))
		return 3;
	raise(SIGKILL);
	return 4;
}

/* ------------------------------------------------ hugepages, IOVA as PA */

static uint64_t free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* Memory DPDK allocates at run time is mapped before rte_malloc returns;
 * memory it frees is unmapped before the pages go back. */
static void test_dynamic_memory(void)
{
	struct uiommu_dpdk_stats st0, st1;
	struct seg_check sc = {0, 0};
	struct uiommu_area_info a;
	struct uiommu_device *dev;
	uint8_t pat[64], back[64];
	const size_t len = 8u << 20;

	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=app", state);
	CU_ASSERT_FATAL(uiommu_dpdk_protect(cfg) == 0);
	CU_ASSERT(rte_eal_iova_mode() == RTE_IOVA_PA);
	CU_ASSERT(rte_memseg_walk(check_seg, &sc) == 0);
	CU_ASSERT(sc.segs > 0 && sc.unmapped == 0);
	CU_ASSERT_FATAL(uiommu_dpdk_get_stats(&st0) == 0);
	dev = the_dev();
	CU_ASSERT_FATAL(dev != NULL);

	uint8_t *buf = rte_malloc("grow", len, 2u << 20);
	CU_ASSERT_FATAL(buf != NULL);
	/* Mapped when rte_malloc returned: every page, at its IOVA (a PA). */
	CU_ASSERT_FATAL(uiommu_dpdk_get_stats(&st1) == 0);
	CU_ASSERT(st1.map_events > st0.map_events);
	CU_ASSERT(st1.map_errors == 0);
	uint64_t iova[4];
	for (int i = 0; i < 4; i++) {
		iova[i] = rte_mem_virt2iova(buf + i * (len / 4));
		CU_ASSERT(iova[i] != RTE_BAD_IOVA);
		CU_ASSERT(uiommu_ioas_lookup(uiommu_dpdk_ioas(), iova[i], &a) == 0 &&
			  a.phys + (iova[i] - a.iova) == (uintptr_t)(buf + i * (len / 4)));
	}
	memset(pat, 0x3c, sizeof(pat));
	CU_ASSERT(uiommu_model_dma(dev, UIOMMU_NO_PASID, iova[3], pat, sizeof(pat), true) == 0);
	CU_ASSERT(buf[3 * (len / 4)] == 0x3c);
	printf("\n    grew by %zu MiB: %" PRIu64 " -> %" PRIu64 " areas; IOVA %#" PRIx64 "\n",
	       len >> 20, st0.nr_areas, st1.nr_areas, iova[0]);

	/* Freed: the pages go back to the system, the device loses them. */
	rte_free(buf);
	CU_ASSERT(uiommu_dpdk_get_stats(&st1) == 0);
	CU_ASSERT(st1.unmap_events > st0.unmap_events);
	int faults = 0;
	for (int i = 0; i < 4; i++)
		faults += uiommu_model_dma(dev, UIOMMU_NO_PASID, iova[i], back, sizeof(back),
					   false) == -EFAULT;
	CU_ASSERT(faults >= 3); /* the page holding the heap's own element header may stay */
	CU_ASSERT(uiommu_dpdk_poll() >= 1);
	printf("    after rte_free: %d of 4 freed IOVAs fault; %" PRIu64 " areas\n", faults,
	       st1.nr_areas);
	printf("    memory events: %" PRIu64 " bytes mapped in %.3f ms, unmapped in %.3f ms\n",
	       st1.map_event_bytes, st1.map_event_ns / 1e6, st1.unmap_event_ns / 1e6);
	CU_ASSERT(uiommu_dpdk_release() == 0);
	CU_ASSERT(!state_exists(state));
}

static const struct ut_test huge_tests[] = {
	{"dynamic_memory_mapped_before_use_unmapped_after_free", test_dynamic_memory},
	{NULL, NULL},
};

static const struct ut_suite huge_suites[] = {
	{"dpdk_plugin_huge", NULL, NULL, huge_tests},
	{NULL, NULL, NULL, NULL},
};

static int main_huge(char **argv)
{
	char *args[] = {
		"plugin_ut", "--in-memory", "--iova-mode=pa",  "--no-pci",    "-l",
		"0",	     "--log-level", "lib.eal:warning", "--log-level", "pmd.uiommu:info"};

	if (geteuid() != 0 || free_hugepages() < 16) {
		printf("needs root and 16 free 2 MiB hugepages (IOVA as PA): skipped\n");
		return 77;
	}
	snprintf(state, sizeof(state), "dpdk-ut-huge-%d", (int)getpid());
	if (rte_eal_init(10, args) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 77;
	}
	int rc = ut_main(huge_suites, 1, argv);
	rte_eal_cleanup();
	return rc;
}

static const struct ut_test tests[] = {
	{"bad_config_changes_nothing", test_bad_config},
	{"amdvi_small_devtab", test_amdvi_small_devtab},
	{"protect_model_memsegs_dma_faults_telemetry", test_protect_model},
	{"external_memory", test_external_memory},
	{"uiommuctl_adopts_the_state", test_uiommuctl_sees_it},
	{"service_poll", test_service_poll},
	{"passthrough_and_refusal", test_passthrough_and_refusal},
	{"release_gives_back", test_release},
	{"crash_then_restart", test_crash_then_restart},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"dpdk_plugin", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	char *args[] = {"plugin_ut",
			"--no-huge",
			"-m",
			"64",
			"--no-pci",
			"--file-prefix",
			prefix,
			"-l",
			"0",
			"--log-level",
			"lib.eal:warning",
			"--log-level",
			"pmd.uiommu:info"};
	ssize_t n;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "--crash"))
		return crash_child(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--huge"))
		return main_huge(argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s UIOMMUCTL\n", argv[0]);
		return 2;
	}
	uiommuctl = argv[1];
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = 0;
	snprintf(prefix, sizeof(prefix), "uiommu-dpdk-ut-%d", (int)getpid());
	snprintf(state, sizeof(state), "dpdk-ut-%d", (int)getpid());
	if (rte_eal_init(13, args) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	rc = ut_main(suites, 1, argv);
	/* Give-back on rte_eal_cleanup. */
	bool was = uiommu_dpdk_active();
	rte_eal_cleanup();
	if (was && (uiommu_dpdk_active() || state_exists(state))) {
		fprintf(stderr, "rte_eal_cleanup did not give the units back (state %s)\n", state);
		rc = 1;
	}
	return rc;
}
