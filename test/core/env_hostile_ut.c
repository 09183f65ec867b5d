/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The environment layer on hostile input:
 *  - PCI access through libpci (src/env/env_pci.c) on a fake
 *    /sys/bus/pci: a device that disappears between the scan and the
 *    look-up (hot unplug, SR-IOV VFs disabled) must give an error, not let
 *    libpci's error callback abort the process;
 *  - joining a DPDK primary (src/env/env_dpdk.c): a runtime directory or
 *    config file someone else could have made or written is refused;
 *  - the hugepage state backend (src/env/env_mem.c) on a directory that
 *    is not hugetlbfs: refused, nothing created;
 *  - the bus address of ordinary memory through the page map (src/env/env.c):
 *    unknown, since the kernel may move the page under the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.h"
#include "env/env_pci.h"
#include "ut.h"

static char dir[] = "/tmp/uiommu-envpci-XXXXXX";

static void put(const char *dev, const char *name, const void *data, size_t len)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/devices/%s/%s", dir, dev, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void put_dev(const char *dev, uint16_t vendor, uint16_t device, uint32_t class_code,
		    uint8_t htype, uint8_t sec, uint8_t sub)
{
	static uint8_t cfg[4096];
	char p[256], v[32];

	snprintf(p, sizeof(p), "%s/devices/%s", dir, dev);
	CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
	memset(cfg, 0, sizeof(cfg));
	cfg[0] = (uint8_t)vendor, cfg[1] = (uint8_t)(vendor >> 8);
	cfg[2] = (uint8_t)device, cfg[3] = (uint8_t)(device >> 8);
	cfg[9] = (uint8_t)class_code, cfg[10] = (uint8_t)(class_code >> 8),
	cfg[11] = (uint8_t)(class_code >> 16);
	cfg[0x0e] = htype;
	cfg[0x19] = sec, cfg[0x1a] = sub;
	put(dev, "config", cfg, sizeof(cfg));
	snprintf(v, sizeof(v), "0x%04x\n", vendor);
	put(dev, "vendor", v, strlen(v));
	snprintf(v, sizeof(v), "0x%04x\n", device);
	put(dev, "device", v, strlen(v));
	snprintf(v, sizeof(v), "0x%06x\n", class_code);
	put(dev, "class", v, strlen(v));
}

static void rm_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void test_removed_device(void)
{
	struct uenv_pci_dev d;
	struct uenv_pci *p = NULL;
	char path[256];
	uint8_t sec = 0, sub = 0, cfg[4];

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/devices", dir);
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	put_dev("0000:00:01.0", 0x8086, 0x1234, 0x020000, 0, 0, 0);
	put_dev("0000:00:02.0", 0x8086, 0x5678, 0x060400, 1, 5, 7);
	uenv_pci_set_sysfs_path(dir);
	CU_ASSERT_EQUAL_FATAL(uenv_pci_open(&p), 0);
	CU_ASSERT_EQUAL(uenv_pci_count(p), 2);
	CU_ASSERT_EQUAL(uenv_pci_find(p, 0, 0, 2, 0, &d), 0);
	CU_ASSERT_EQUAL(d.vendor, 0x8086);
	CU_ASSERT_EQUAL(d.device, 0x5678);
	CU_ASSERT(d.is_bridge);
	CU_ASSERT_EQUAL(uenv_pci_bridge_buses(p, 0, 0, 2, 0, &sec, &sub), 0);
	CU_ASSERT_EQUAL(sec, 5);
	CU_ASSERT_EQUAL(sub, 7);
	CU_ASSERT_EQUAL(uenv_pci_bridge_buses(p, 0, 0, 1, 0, &sec, &sub), -ENOTDIR);
	CU_ASSERT_EQUAL(uenv_pci_read_config(p, 0, 0, 1, 0, 0, cfg, 4), 0);
	CU_ASSERT_EQUAL(cfg[0] | cfg[1] << 8, 0x8086);
	/* 00:01.0 goes away after the scan: libpci's lazy read fails. */
	snprintf(path, sizeof(path), "%s/devices/0000:00:01.0/vendor", dir);
	CU_ASSERT_FATAL(unlink(path) == 0);
	CU_ASSERT_EQUAL(uenv_pci_find(p, 0, 0, 1, 0, &d), -EIO);
	/* The handle still works for the others. */
	CU_ASSERT_EQUAL(uenv_pci_find(p, 0, 0, 2, 0, &d), 0);
	CU_ASSERT_EQUAL(uenv_pci_find(p, 0, 0, 3, 0, &d), -ENOENT);
	uenv_pci_close(p);
	uenv_pci_set_sysfs_path(NULL);
	rm_tree();
}

/* EAL's runtime directory for @prefix, as env_dpdk.c (and EAL) pick it;
 * without root, $XDG_RUNTIME_DIR is pointed at a directory of ours. */
static char rt_base[64] = "/tmp/uiommu-envrt-XXXXXX";

static void rt_path(char *buf, size_t len, const char *prefix, const char *file)
{
	snprintf(buf, len, "%s/dpdk/%s%s%s", getuid() == 0 ? "/var/run" : rt_base, prefix,
		 file ? "/" : "", file ? file : "");
}

/* uenv_memzone_find in a child (EAL joins once per process). */
static int memzone_in_child(const char *prefix)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct uenv_dma mz;
		int rc = uenv_memzone_find("uiommu-ut-mz", prefix, &mz);

		_exit(rc == -EPERM ? 1 : rc == -ENODEV ? 2 : rc == 0 ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_runtime_dir(void)
{
	char prefix[64], p[256];
	int fd;

	if (getuid() != 0) {
		CU_ASSERT_FATAL(mkdtemp(rt_base) != NULL);
		setenv("XDG_RUNTIME_DIR", rt_base, 1);
	}
	snprintf(prefix, sizeof(prefix), "uiommu-rtcheck-%d", (int)getpid());
	rt_path(p, sizeof(p), "", NULL);
	(void)mkdir(p, 0700); /* .../dpdk, as EAL makes it */
	rt_path(p, sizeof(p), prefix, NULL);
	CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
	rt_path(p, sizeof(p), prefix, "config");
	fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	/* As EAL makes them, with no primary holding the lock: no primary. */
	CU_ASSERT_EQUAL(memzone_in_child(prefix), 2);
	/* A config file others can write: refused before EAL reads it. */
	CU_ASSERT(chmod(p, 0666) == 0);
	CU_ASSERT_EQUAL(memzone_in_child(prefix), 1);
	CU_ASSERT(chmod(p, 0600) == 0);
	/* A runtime directory others can write. */
	rt_path(p, sizeof(p), prefix, NULL);
	CU_ASSERT(chmod(p, 0777) == 0);
	CU_ASSERT_EQUAL(memzone_in_child(prefix), 1);
	CU_ASSERT(chmod(p, 0700) == 0);
	/* A symlink instead of the config file. */
	rt_path(p, sizeof(p), prefix, "config");
	CU_ASSERT(unlink(p) == 0);
	CU_ASSERT(symlink("/dev/null", p) == 0);
	CU_ASSERT_EQUAL(memzone_in_child(prefix), 1);
	CU_ASSERT(unlink(p) == 0);
	rt_path(p, sizeof(p), prefix, NULL);
	CU_ASSERT(rmdir(p) == 0);
	if (getuid() != 0) {
		rt_path(p, sizeof(p), "", NULL);
		rmdir(p);
		rmdir(rt_base);
	}
}

/* SHARED_HUGE with huge_dir on tmpfs or a disk: 4 KiB pages, which the
 * arena would have taken for physically contiguous 2 MiB chunks. */
static void test_huge_dir_not_hugetlbfs(void)
{
	char tmp[] = "/tmp/uiommu-envhuge-XXXXXX", name[64], p[256];
	struct uiommu_env_opts o = {
		.backend = UIOMMU_MEM_SHARED_HUGE, .create = true, .arena_max = 64u << 20};
	struct stat st;
	int rc;

	CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
	snprintf(name, sizeof(name), "envhostile-%d", (int)getpid());
	o.name = name;
	o.huge_dir = tmp;
	rc = uenv_init(&o);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	if (rc == 0)
		uenv_fini(true);
	snprintf(p, sizeof(p), "%s/uiommu-%u/%s", tmp, (unsigned int)geteuid(), name);
	CU_ASSERT(lstat(p, &st) < 0 && errno == ENOENT);
	unlink(p);
	snprintf(p, sizeof(p), "%s/uiommu-%u", tmp, (unsigned int)geteuid());
	rmdir(p);
	CU_ASSERT(rmdir(tmp) == 0);
}

/* uenv_mem_virt2iova on memory that is neither arena nor DPDK memory: the
 * page map's answer only for hugetlbfs pages. */
static void test_pagemap_not_hugetlb(void)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t contig = 1, pa;
	void *h;

	CU_ASSERT_FATAL(p != MAP_FAILED);
	p[0] = 1; /* present */
	CU_ASSERT_EQUAL(uenv_mem_virt2iova(p, &contig), UINT64_MAX);
	CU_ASSERT_EQUAL(contig, 0);
	munmap(p, 4096);
	if (getuid() != 0)
		return; /* no PFNs in the page map: nothing else to tell */
	h = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		 -1, 0);
	if (h == MAP_FAILED) {
		fprintf(stderr, "no free 2 MiB hugepage: hugetlbfs half skipped\n");
		return;
	}
	((volatile uint8_t *)h)[4096 + 8] = 1;
	pa = uenv_mem_virt2iova((uint8_t *)h + 4096 + 8, &contig);
	CU_ASSERT(pa != UINT64_MAX && pa != 0);
	CU_ASSERT_EQUAL(pa & 0xfff, 8);
	CU_ASSERT_EQUAL(contig, 4096 - 8);
	munmap(h, 2u << 20);
}

static const struct ut_test tests[] = {
	{"removed-device", test_removed_device},
	{"runtime-dir", test_runtime_dir},
	{"huge-dir-not-hugetlbfs", test_huge_dir_not_hugetlbfs},
	{"pagemap-not-hugetlb", test_pagemap_not_hugetlb},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"env_hostile", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
