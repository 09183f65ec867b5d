/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Side A of the side-by-side benchmark (bench/qemu/run.sh): what
 * users run today.  The guest kernel owns QEMU's intel-iommu
 * (intel_iommu=on); edu is bound to vfio-pci and driven through a
 * VFIO_TYPE1v2_IOMMU container, as DPDK's VFIO bus driver does.
 *
 * Plain C + <linux/vfio.h>; guest_lib for edu DMA and result lines.
 *
 *   guest_vfio_bench [n4k=N] [n2m=N] [nbatch=N] [warm=N]
 *
 * Scenarios (UIOMMU-RESULT lines):
 *   vfio-setup        allow_unsafe_interrupts, bind edu to vfio-pci, group,
 *                     TYPE1v2 container, device fd, BAR0 mmap
 *   vfio-dma          edu DMA RAM -> edu -> RAM through one 4 KiB mapping
 *   vfio-unmap-fault  after VFIO_IOMMU_UNMAP_DMA, an edu write to the old
 *                     IOVA writes nothing and the kernel logs a DMAR fault
 *   vfio-bench        the three timed loops ran
 * Figures: one line per workload
 *   UIOMMU-BENCH side=A wl=<4k|4ka|2m|256x4k> iters=N ns=<total> per=<ns/iter>
 * (per iteration = one map + one unmap; 4ka = 4k with the neighbour page
 * mapped all along, so the last-level table never becomes empty; for 256x4k one iteration is 256
 * separate 4 KiB maps + one range unmap).  Under QEMU -icount shift=0 the
 * guest clock counts instructions: ns = guest instructions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "guest_lib.h"

#define PG_4K	       4096ull
#define PG_2M	       (2ull << 20)
#define NBATCH_PAGES   256u
#define IOVA_4K	       0x10000000ull /* below 2^39, away from the MSI window */
#define IOVA_2M	       0x40000000ull /* 2 MiB aligned: one superpage */
#define IOVA_BATCH     0x20000000ull /* 256 x 4 KiB = 1 MiB */
#define DMA_LEN	       64u
#define DMA_TIMEOUT_MS 5000u

static int container = -1, group = -1, device = -1;
static struct gt_edu edu;
static char edu_bdf[32];

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static unsigned long read_hex(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static int find_edu(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	char p[PATH_MAX];
	int rc = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (read_hex(p) != GT_EDU_VENDOR)
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (read_hex(p) != GT_EDU_DEVICE)
			continue;
		if (strlen(de->d_name) >= sizeof(edu_bdf))
			continue;
		memcpy(edu_bdf, de->d_name, strlen(de->d_name) + 1);
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/* allow_unsafe_interrupts, bind, container, device fd, BAR0.  Fills @why. */
static int vfio_setup(char *why, size_t wlen)
{
	char p[PATH_MAX], link[PATH_MAX], gpath[64];
	struct vfio_group_status gs = {.argsz = sizeof(gs)};
	struct vfio_region_info ri = {.argsz = sizeof(ri)};
	unsigned int bus, dev, fn;
	ssize_t n;
	int rc;

	/* QEMU intremap=off: no interrupt remapping, so type1 refuses the
	 * group unless unsafe interrupts are allowed (module parameter, 0644). */
	rc = write_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "1");
	if (rc) {
		snprintf(why, wlen, "allow_unsafe_interrupts: %s", strerror(-rc));
		return rc;
	}
	rc = find_edu();
	if (rc) {
		snprintf(why, wlen, "no edu device");
		return rc;
	}
	if (sscanf(edu_bdf, "%*x:%x:%x.%x", &bus, &dev, &fn) != 3)
		return -EINVAL;
	edu.requester_id = (uint16_t)(bus << 8 | dev << 3 | fn);
	memcpy(edu.bdf, edu_bdf, sizeof(edu.bdf));

	/* Bound first: with a device tree (arm64 virt) the kernel configures a
	 * device's IOMMU (iommu-map -> arm-smmu-v3) when a driver binds, so an
	 * unbound edu has no group yet; with VT-d it had one from boot. */
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", edu_bdf);
	rc = write_file(p, "vfio-pci");
	if (!rc)
		rc = write_file("/sys/bus/pci/drivers_probe", edu_bdf);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", edu_bdf);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(why, wlen, "%s: no IOMMU group (kernel IOMMU off?)", edu_bdf);
		return -ENODEV;
	}
	link[n] = 0;
	snprintf(gpath, sizeof(gpath), "/dev/vfio/%s", strrchr(link, '/') + 1);
	if (rc) {
		snprintf(why, wlen, "bind %s to vfio-pci: %s", edu_bdf, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < 50 && access(gpath, F_OK) != 0; i++)
		usleep(100000);

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		snprintf(why, wlen, "/dev/vfio/vfio: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		snprintf(why, wlen, "VFIO API or TYPE1v2 missing");
		return -ENOTSUP;
	}
	group = open(gpath, O_RDWR);
	if (group < 0) {
		snprintf(why, wlen, "%s: %s", gpath, strerror(errno));
		return -errno;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(why, wlen, "%s not viable (other devices in the group?)", gpath);
		return -EBUSY;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		snprintf(why, wlen, "SET_CONTAINER/SET_IOMMU TYPE1v2: %s", strerror(errno));
		return -errno;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, edu_bdf);
	if (device < 0) {
		snprintf(why, wlen, "GET_DEVICE_FD: %s", strerror(errno));
		return -errno;
	}
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		snprintf(why, wlen, "BAR0 region info: %s", strerror(errno));
		return -EIO;
	}
	void *bar =
		mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)ri.offset);
	if (bar == MAP_FAILED) {
		snprintf(why, wlen, "BAR0 mmap: %s", strerror(errno));
		return -errno;
	}
	edu.bar0 = bar;
	edu.bar0_len = ri.size;
	edu.cfg_fd = -1;
	edu.bar_fd = device;
	if (gt_edu_read32(&edu, GT_EDU_REG_ID) != 0x010000ed) {
		snprintf(why, wlen, "edu ID 0x%08x", gt_edu_read32(&edu, GT_EDU_REG_ID));
		return -ENODEV;
	}
	/* bus master through VFIO's config region */
	uint64_t bar_size = ri.size;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		snprintf(why, wlen, "config region: %s", strerror(errno));
		return -EIO;
	}
	uint16_t cmd = 0;
	if (pread(device, &cmd, 2, (off_t)ri.offset + 4) != 2)
		return -EIO;
	cmd |= 0x6; /* memory space + bus master */
	if (pwrite(device, &cmd, 2, (off_t)ri.offset + 4) != 2) {
		snprintf(why, wlen, "bus master: %s", strerror(errno));
		return -EIO;
	}
	snprintf(why, wlen, "edu %s rid 0x%04x in %s, TYPE1v2 container, BAR0 %llu KiB", edu_bdf,
		 edu.requester_id, gpath, (unsigned long long)bar_size >> 10);
	return 0;
}

static inline int vmap(void *va, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static inline int vunmap(uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return u.size == len ? 0 : -EIO;
}

/* Kernel log lines "DMAR: ... fault addr 0x<iova> ..." for @iova (arm64:
 * the arm-smmu-v3 driver's event dump). */
static int dmar_faults_logged(uint64_t iova)
{
	static char buf[1 << 18];
	char pat[64];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, (int)sizeof(buf) - 1);
	int cnt = 0;

	if (n < 0)
		return -errno;
	buf[n] = 0;
#if defined(__aarch64__)
	/* arm-smmu-v3: "event 0x10 received:" then the record's dwords, one
	 * per line as 0x%016llx; the third is the input address, unaligned. */
	snprintf(pat, sizeof(pat), "0x%016" PRIx64, iova);
#else
	snprintf(pat, sizeof(pat), "fault addr 0x%" PRIx64,
		 iova & ~(uint64_t)0xfff); /* page-aligned in the log */
#endif
	for (char *s = buf; (s = strstr(s, pat)) != NULL; s += strlen(pat))
		cnt++;
	return cnt;
}

static bool all_byte(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* nofaultlog=1: the IOMMU logs no faults the kernel could print (QEMU
 * 10.0.2's amd-iommu: its event log stays empty, docs/qemu-testing.md):
 * the blocked write alone proves the unmap. */
static bool no_fault_log;

/* Real DMA through one 4 KiB mapping, then a DMA to it after unmap. */
static int check_dma(uint8_t *page)
{
	char why[240];
	int rc, nf = 0;

	for (unsigned int i = 0; i < DMA_LEN; i++)
		page[i] = (uint8_t)(i * 7 + 3);
	memset(page + 2048, 0, DMA_LEN);
	rc = vmap(page, IOVA_4K, PG_4K);
	if (!rc)
		rc = gt_edu_dma(&edu, IOVA_4K, 0, DMA_LEN, false, DMA_TIMEOUT_MS);
	if (!rc)
		rc = gt_edu_dma(&edu, IOVA_4K + 2048, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	if (rc || memcmp(page, page + 2048, DMA_LEN) != 0) {
		gt_result("vfio-dma", GT_FAIL, "rc %d (%s), bytes %s", rc, strerror(-rc),
			  rc ? "-" : "differ");
		return 1;
	}
	gt_result("vfio-dma", GT_PASS, "%u bytes RAM->edu->RAM through IOVA 0x%llx (VFIO map)",
		  DMA_LEN, (unsigned long long)IOVA_4K);

	rc = vunmap(IOVA_4K, PG_4K);
	if (rc) {
		gt_result("vfio-unmap-fault", GT_FAIL, "unmap: %s", strerror(-rc));
		return 1;
	}
	/* The page is still ours (VFIO only unpinned it): a DMA write that got
	 * through would show here. */
	memset(page + 2048, 0xa5, DMA_LEN);
	rc = gt_edu_dma(&edu, IOVA_4K + 2048, 0, DMA_LEN, true, DMA_TIMEOUT_MS);
	for (int i = 0; i < 40 && !rc && !no_fault_log; i++) { /* the fault IRQ may lag */
		nf = dmar_faults_logged(IOVA_4K + 2048);
		if (nf != 0)
			break;
		usleep(50000);
	}
	bool untouched = all_byte(page + 2048, DMA_LEN, 0xa5);
	bool ok = !rc && untouched && (nf > 0 || no_fault_log);

	snprintf(why, sizeof(why),
		 "edu write to IOVA 0x%llx after unmap: bytes %s, %d kernel DMAR fault line(s)%s",
		 (unsigned long long)(IOVA_4K + 2048), untouched ? "untouched" : "WRITTEN", nf,
		 no_fault_log ? " (nofaultlog: the IOMMU logs none)" : "");
	gt_result("vfio-unmap-fault", ok ? GT_PASS : GT_FAIL, "%s", why);
	return ok ? 0 : 1;
}

static int bench(const char *wl, unsigned int iters, unsigned int warm, void *va)
{
	uint64_t t0 = 0;
	int rc = 0;

	/* 4ka: a neighbour page stays mapped, so the last-level table of the
	 * IOVA is never empty (what a long-running application sees). */
	if (!strcmp(wl, "4ka"))
		rc = vmap((uint8_t *)va + PG_4K, IOVA_4K + PG_4K, PG_4K);
	for (unsigned int i = 0; i < warm + iters && !rc; i++) {
		if (i == warm)
			t0 = gt_now_ns();
		if (!strcmp(wl, "4k") || !strcmp(wl, "4ka")) {
			rc = vmap(va, IOVA_4K, PG_4K);
			if (!rc)
				rc = vunmap(IOVA_4K, PG_4K);
		} else if (!strcmp(wl, "2m")) {
			rc = vmap(va, IOVA_2M, PG_2M);
			if (!rc)
				rc = vunmap(IOVA_2M, PG_2M);
		} else {
			for (unsigned int j = 0; j < NBATCH_PAGES && !rc; j++)
				rc = vmap((uint8_t *)va + j * PG_4K, IOVA_BATCH + j * PG_4K, PG_4K);
			if (!rc)
				rc = vunmap(IOVA_BATCH, NBATCH_PAGES * PG_4K);
		}
	}
	uint64_t ns = gt_now_ns() - t0;

	if (!rc && !strcmp(wl, "4ka"))
		rc = vunmap(IOVA_4K + PG_4K, PG_4K);
	if (rc) {
		gt_log("workload %s: %s", wl, strerror(-rc));
		return 1;
	}
	printf("UIOMMU-BENCH side=A wl=%s iters=%u ns=%" PRIu64 " per=%.1f\n", wl, iters, ns,
	       (double)ns / iters);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int n4k = gt_arg_uint(argc, argv, "n4k", 2000),
		     n2m = gt_arg_uint(argc, argv, "n2m", 500);
	unsigned int nb = gt_arg_uint(argc, argv, "nbatch", 20),
		     warm = gt_arg_uint(argc, argv, "warm", 10);
	char why[240] = "";
	struct gt_huge huge = {0};
	uint8_t *page, *batch;
	int fails = 0, rc;

	gt_init();
	no_fault_log = gt_arg_uint(argc, argv, "nofaultlog", 0) != 0;
	rc = vfio_setup(why, sizeof(why));
	gt_result("vfio-setup", rc ? GT_FAIL : GT_PASS, "%s", why);
	if (rc)
		return 1;

	page = mmap(NULL, 2 * PG_4K, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	batch = mmap(NULL, NBATCH_PAGES * PG_4K, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	rc = gt_huge_alloc(&huge);
	if (page == MAP_FAILED || batch == MAP_FAILED || rc) {
		gt_result("vfio-bench", GT_FAIL, "memory: %s", rc ? strerror(-rc) : "mmap failed");
		return 1;
	}
	fails += check_dma(page);

	fails += bench("4k", n4k, warm, page);
	fails += bench("4ka", n4k, warm, page);
	fails += bench("2m", n2m, warm, huge.va);
	fails += bench("256x4k", nb, warm ? 2 : 0, batch);
	gt_result("vfio-bench", fails ? GT_FAIL : GT_PASS, "n4k=%u n2m=%u nbatch=%u warm=%u", n4k,
		  n2m, nb, warm);
	return fails ? 1 : 0;
}
