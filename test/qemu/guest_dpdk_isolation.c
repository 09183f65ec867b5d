/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program of qemu-dpdk-isolation: the DPDK plugin on QEMU's VT-d,
 * proven with edu's DMA (bound to uio_pci_generic, attached with attach=)
 * and a virtio-blk disk the guest kernel drives.
 *
 * Scenarios (UIOMMU-RESULT lines):
 *   dpdk-control       without the plugin, edu's write outside DPDK's
 *                      memory lands (the control run)
 *   dpdk-isolation     with the plugin, DMA into DPDK memory lands; the
 *                      same write outside it faults (counted for edu) and
 *                      the target is unchanged
 *   dpdk-ctl-faults    `uiommuctl --state dpdk -j faults`, another process
 *                      on the plugin's shared state, shows that fault (edu,
 *                      the page written) after the plugin drained it
 *   dpdk-safe-takeover the kernel's virtio-blk disk keeps reading correct
 *                      data while and after the plugin takes the unit over
 *   dpdk-dynamic       memory DPDK allocates at run time is DMA-able when
 *                      rte_malloc returns; once freed, DMA to it faults
 *   dpdk-giveback      after uiommu_dpdk_release() the unit is given back:
 *                      the outside write lands again
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "guest_lib.h"
#include "uiommu/uiommu_dpdk.h"

#define SECTOR	   512u
#define DISK_BYTES (8u << 20)

static struct gt_edu edu;

/* RAM -> edu buffer -> RAM: edu writes @len bytes of @src_iova's data at
 * @dst_iova (edu copies 4 bytes at a time; a blocked write lands nowhere). */
static int edu_copy(uint64_t src_iova, uint64_t dst_iova, size_t len)
{
	int rc = gt_edu_dma(&edu, src_iova, 0, len, false, 2000);

	return rc ? rc : gt_edu_dma(&edu, dst_iova, 0, len, true, 2000);
}

/* Run `uiommuctl --state dpdk -j faults` and look for a fault of @bdf at
 * the page @page (the history every process reads: the plugin's poll
 * drained it already).  1: shown, 0: not, -1: could not run. */
static int ctl_shows_fault(const char *bdf, uint64_t page, char *out, size_t outlen)
{
	char want[32];
	size_t n = 0;
	FILE *p = popen("uiommuctl --state dpdk -j faults 2>&1", "r");

	if (!p)
		return -1;
	while (n + 1 < outlen && fgets(out + n, (int)(outlen - n), p))
		n += strlen(out + n);
	out[n] = 0;
	if (pclose(p) != 0)
		return -1;
	snprintf(want, sizeof(want), "\"%#" PRIx64 "\"", page);
	/* uiommuctl names a device of segment 0 as BB:DD.F */
	if (!strncmp(bdf, "0000:", 5))
		bdf += 5;
	return strstr(out, bdf) && strstr(out, want) ? 1 : 0;
}

static bool all(const uint8_t *p, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* The kernel's disk: read it with O_DIRECT (real DMA each time) and check
 * every sector's pattern (sector number mod 251, written by the host). */
static int disk_check_once(int fd, uint8_t *buf, unsigned int seed)
{
	off_t off = (off_t)((seed * 2654435761u) % (DISK_BYTES / 65536)) * 65536;

	if (pread(fd, buf, 65536, off) != 65536)
		return -EIO;
	for (unsigned int s = 0; s < 65536 / SECTOR; s++)
		if (!all(buf + s * SECTOR, (uint8_t)((off / SECTOR + s) % 251), SECTOR))
			return -EILSEQ;
	return 0;
}

/* Child: read the disk for @ms milliseconds; exit status 0 all good,
 * 1 a read failed or returned wrong data, 2 could not start. */
static void disk_reader(const char *dev, unsigned int ms)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);
	uint8_t *buf = aligned_alloc(4096, 65536);
	uint64_t end = gt_now_ns() + (uint64_t)ms * 1000000u;
	unsigned int n = 0, bad = 0;

	if (fd < 0 || !buf)
		_exit(2);
	while (gt_now_ns() < end) {
		if (disk_check_once(fd, buf, n++))
			bad++;
	}
	printf("# disk reader: %u reads of 64 KiB, %u bad\n", n, bad);
	fflush(stdout);
	_exit(bad || n < 10 ? 1 : 0);
}

int main(int argc, char **argv)
{
	char *eal[] = {"guest_dpdk_isolation",
		       "--in-memory",
		       "--iova-mode=pa",
		       "--no-pci",
		       "-l",
		       "0",
		       "--log-level",
		       "lib.eal:notice",
		       "--log-level",
		       "pmd.uiommu:info"};
	const char *disk = gt_arg_str(argc, argv, "disk", "/dev/vda");
	struct uiommu_dpdk_stats st;
	uint8_t *src, *dst, *outside, *big;
	uint64_t outside_pa, big_iova;
	char cfg[128];
	pid_t reader;
	int ws, rc;

	gt_init();
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		gt_result("dpdk-control", GT_FAIL, "EAL: %s", rte_strerror(rte_errno));
		return 1;
	}
	if (gt_edu_open(&edu) || gt_edu_bus_master(&edu, true)) {
		gt_result("dpdk-control", GT_FAIL, "no edu");
		return 1;
	}
	src = rte_zmalloc("src", 4096, 4096);
	dst = rte_zmalloc("dst", 4096, 4096);
	outside = aligned_alloc(4096, 4096);
	if (!src || !dst || !outside || mlock(outside, 4096)) {
		gt_result("dpdk-control", GT_FAIL, "no memory");
		return 1;
	}
	memset(outside, 0x11, 4096);
	outside_pa = gt_virt_to_phys(outside);

	/* Control: no translation, edu writes where it is told. */
	memset(src, 0xa1, 4096);
	rc = edu_copy(rte_malloc_virt2iova(src), outside_pa, 256);
	gt_result("dpdk-control", !rc && all(outside, 0xa1, 256) ? GT_PASS : GT_FAIL,
		  "outside page %#" PRIx64 " %s without the plugin", outside_pa,
		  all(outside, 0xa1, 256) ? "written" : "NOT written");

	/* Take-over while the kernel's disk is busy. */
	reader = fork();
	if (reader == 0)
		disk_reader(disk, 3000);
	usleep(300000);
	snprintf(cfg, sizeof(cfg), "attach=%s,poll=app", edu.bdf);
	rc = uiommu_dpdk_protect(cfg);
	if (rc) {
		gt_result("dpdk-isolation", GT_FAIL, "uiommu_dpdk_protect: %s", strerror(-rc));
		return 1;
	}
	(void)uiommu_dpdk_get_stats(&st);
	gt_log("protected: %u unit(s), %u isolated, %u pass-through, %" PRIu64
	       " bytes mapped in %.3f ms",
	       st.nr_units, st.nr_attached, st.nr_passthrough, st.mapped_bytes,
	       st.startup_map_ns / 1e6);

	/* Isolation.  (The kernel may migrate even an mlocked page, e.g. when
	 * compacting memory for hugepages: its address is read before each use.) */
	memset(src, 0xb2, 4096);
	memset(outside, 0x11, 4096);
	outside_pa = gt_virt_to_phys(outside);
	rc = edu_copy(rte_malloc_virt2iova(src), rte_malloc_virt2iova(dst), 256);
	bool lands = !rc && all(dst, 0xb2, 256);
	rc = edu_copy(rte_malloc_virt2iova(src), outside_pa, 256);
	(void)uiommu_dpdk_poll();
	int64_t f = uiommu_dpdk_device_faults(edu.bdf);
	gt_result("dpdk-isolation", lands && all(outside, 0x11, 4096) && f >= 1 ? GT_PASS : GT_FAIL,
		  "DPDK memory %s; outside page %s; %" PRId64 " fault(s) counted for %s",
		  lands ? "written" : "NOT written",
		  all(outside, 0x11, 4096) ? "unchanged" : "WRITTEN", f, edu.bdf);
	{
		static char out[16384];
		int shown = ctl_shows_fault(edu.bdf, outside_pa & ~0xfffull, out, sizeof(out));

		if (shown != 1)
			gt_log("uiommuctl -j faults: %.2000s", out);
		gt_result("dpdk-ctl-faults", shown == 1 ? GT_PASS : GT_FAIL,
			  "uiommuctl faults (another process) %s edu %s's fault at %#" PRIx64,
			  shown == 1 ? "shows" : shown ? "could not run for" : "does NOT show",
			  edu.bdf, (uint64_t)(outside_pa & ~0xfffull));
	}

	/* The kernel's disk through the take-over and after it. */
	if (waitpid(reader, &ws, 0) != reader)
		ws = -1;
	int fd = open(disk, O_RDONLY | O_DIRECT);
	uint8_t *dbuf = aligned_alloc(4096, 65536);
	int after = 0;
	for (unsigned int i = 0; fd >= 0 && dbuf && i < 32; i++)
		after += disk_check_once(fd, dbuf, 1000 + i) == 0;
	if (fd >= 0)
		close(fd);
	gt_result("dpdk-safe-takeover",
		  WIFEXITED(ws) && !WEXITSTATUS(ws) && after == 32 ? GT_PASS : GT_FAIL,
		  "kernel's disk read correctly during (status %d) and after (%d/32) the "
		  "take-over; %u device(s) in pass-through",
		  ws, after, st.nr_passthrough);

	/* Dynamic memory. */
	struct uiommu_dpdk_stats s0, s1;
	(void)uiommu_dpdk_get_stats(&s0);
	big = rte_malloc("big", 8u << 20, 2u << 20);
	big_iova = big ? rte_mem_virt2iova(big + (6u << 20)) : RTE_BAD_IOVA;
	memset(src, 0xc3, 4096);
	rc = big ? edu_copy(rte_malloc_virt2iova(src), big_iova, 256) : -ENOMEM;
	bool new_ok = !rc && all(big + (6u << 20), 0xc3, 256);
	(void)uiommu_dpdk_get_stats(&s1);
	int64_t f0 = uiommu_dpdk_device_faults(edu.bdf);
	rte_free(big);
	(void)edu_copy(rte_malloc_virt2iova(src), big_iova, 256);
	(void)uiommu_dpdk_poll();
	int64_t f1 = uiommu_dpdk_device_faults(edu.bdf);
	(void)uiommu_dpdk_get_stats(&st);
	gt_result("dpdk-dynamic",
		  new_ok && s1.map_events > s0.map_events && st.unmap_events > s1.unmap_events &&
				  f1 > f0
			  ? GT_PASS
			  : GT_FAIL,
		  "8 MiB allocated at run time: DMA %s (map events %" PRIu64 "->%" PRIu64
		  "); after rte_free: %" PRId64 " new fault(s) at %#" PRIx64,
		  new_ok ? "lands" : "FAILED", s0.map_events, s1.map_events, f1 - f0, big_iova);
	gt_log("perf: start-up map %" PRIu64 " bytes in %.3f ms; memory events: %" PRIu64
	       " bytes mapped in %.3f ms, unmapped in %.3f ms",
	       st.mapped_bytes, st.startup_map_ns / 1e6, st.map_event_bytes, st.map_event_ns / 1e6,
	       st.unmap_event_ns / 1e6);

	/* Give-back. */
	rc = uiommu_dpdk_release();
	memset(outside, 0x11, 4096);
	memset(src, 0xd4, 4096);
	outside_pa = gt_virt_to_phys(outside);
	int rc2 = edu_copy(rte_malloc_virt2iova(src), outside_pa, 256);
	uint64_t bases[4];
	unsigned int haw;
	uint32_t gsts = 0xffffffff;
	if (gt_dmar_drhd_bases(bases, 4, &haw) > 0) {
		volatile uint8_t *regs = gt_phys_map(bases[0], 4096);
		if (regs) {
			gsts = *(volatile uint32_t *)(regs + 0x1c); /* GSTS_REG, VT-d 11.4.5 */
			gt_phys_unmap((void *)(uintptr_t)regs, 4096);
		}
	}
	gt_result(
		"dpdk-giveback",
		!rc && !rc2 && all(outside, 0xd4, 256) && !(gsts & (1u << 31)) ? GT_PASS : GT_FAIL,
		"release %d; GSTS %#x (TES %s); outside page %s after give-back (DMA %d, byte %#x)",
		rc, gsts, gsts & (1u << 31) ? "on" : "off",
		all(outside, 0xd4, 256) ? "written" : "NOT written", rc2, outside[0]);
	gt_edu_close(&edu);
	rte_eal_cleanup();
	return 0;
}
