/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register windows (src/env/env_regio.c) and bounded register polls
 * (src/core/regs.c), without hardware: a plain file stands in for a UIO
 * device / resource file and for a VFIO device fd; a synthetic
 * /proc/iomem for the kernel's claims of each family.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/env.h"
#include "core/regs.h"
#include "ut.h"

static char dir[] = "/tmp/uiommu-regio-XXXXXX";
static char file[64], iomem[64];

static int suite_init(void)
{
	static const char iomem_text[] =
		"00000000-00000fff : Reserved\n"
		"fed90000-fed90fff : dmar0\n"
		"fed91000-fed91fff : dmar1\n"
		"fd800000-fd87ffff : AMD-Vi\n"
		"  feb80000-febfffff : amd_iommu\n"
		"2b400000-2b41ffff : arm-smmu-v3.0.auto\n"
		"e0000000-efffffff : PCI Bus 0000:00\n"
		"  e0000000-e0000fff : 0000:00:02.0\n";
	uint8_t page[8192];
	FILE *f;
	int fd;

	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/resource0", dir);
	snprintf(iomem, sizeof(iomem), "%s/iomem", dir);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)i;
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		return -1;
	close(fd);
	f = fopen(iomem, "w");
	if (!f)
		return -1;
	fputs(iomem_text, f);
	fclose(f);
	uenv_regio_set_iomem_path(iomem);
	return 0;
}

static int suite_fini(void)
{
	uenv_regio_set_iomem_path(NULL);
	unlink(file);
	unlink(iomem);
	rmdir(dir);
	return 0;
}

/* A file mapped from offset 0 (UIO device / PCI resource file). */
static void test_path(void)
{
	struct uenv_regsrc src = {.path = file, .fd = -1, .what = "test"};
	struct uiommu_regio r, ro;

	CU_ASSERT_EQUAL_FATAL(uenv_regio_map(&src, 100, true, &r), 0);
	CU_ASSERT_PTR_NOT_NULL(r.base);
	CU_ASSERT_EQUAL(r.size, 4096); /* rounded up to a page */
	CU_ASSERT_PTR_NULL(r.model);
	CU_ASSERT_EQUAL(reg_read32(&r, 0), 0x03020100u);
	CU_ASSERT_EQUAL(reg_read64(&r, 8), 0x0f0e0d0c0b0a0908ull);
	reg_write32(&r, 16, 0xdeadbeef);
	reg_write64(&r, 24, 0x0123456789abcdefull);
	/* Read-only, and a larger window, over the same file: sees the writes. */
	CU_ASSERT_EQUAL_FATAL(uenv_regio_map(&src, 8192, false, &ro), 0);
	CU_ASSERT_EQUAL(ro.size, 8192);
	CU_ASSERT_EQUAL(reg_read32(&ro, 16), 0xdeadbeef);
	CU_ASSERT_EQUAL(reg_read64(&ro, 24), 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(reg_read32(&ro, 4096), 0x03020100u);
	uenv_regio_unmap(&ro);
	CU_ASSERT_PTR_NULL(ro.base);
	uenv_regio_unmap(&ro); /* nothing mapped: nothing done */
	uenv_regio_unmap(&r);
	/* A window larger than the file (a BAR smaller than the family's
	 * registers): refused, not a SIGBUS at the first register read. */
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 8192 + 1, true, &r), -ENODEV);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 3 * 4096, false, &r), -ENODEV);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, UINT64_MAX - 4096, false, &r), -ENODEV);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, UINT64_MAX, true, &r), -EINVAL); /* wraps */
}

/* An open file descriptor at a region's offset (VFIO device fd). */
static void test_fd(void)
{
	int fd = open(file, O_RDWR);
	struct uenv_regsrc src = {.fd = fd, .fd_offset = 4096, .what = "test"};
	struct uiommu_regio r;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(uenv_regio_map(&src, 4096, true, &r), 0);
	CU_ASSERT_EQUAL(reg_read32(&r, 4), 0x07060504u); /* byte 4096 + 4 of the file */
	uenv_regio_unmap(&r);
	/* The descriptor stays the caller's. */
	CU_ASSERT(fcntl(fd, F_GETFD) >= 0);
	/* The region's end past the file's end. */
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 8192, true, &r), -ENODEV);
	src.fd_offset = 8192;
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, false, &r), -ENODEV);
	src.fd_offset = 100;
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, true, &r), -EINVAL);
	close(fd);
}

static void test_bad(void)
{
	struct uenv_regsrc src = {.fd = -1, .what = "test"};
	struct uiommu_regio r;

	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, false, &r), -EINVAL); /* base 0 */
	src.base = 0xfed90010;
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, false, &r), -EINVAL); /* not page aligned */
	src.base = 0xfed90000;
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 0, false, &r), -EINVAL); /* no size */
	src.path = "/nonexistent/uio9";
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, true, &r), -ENODEV);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, false, &r), -ENODEV);
}

/* The kernel's claims in /proc/iomem, per family. */
static void test_claims(void)
{
	static const char *const vtd[] = {"dmar", NULL};
	static const char *const amd[] = {"AMD-Vi", "amd_iommu", NULL};
	static const char *const smmu[] = {"arm-smmu-v3", NULL};
	struct uenv_regsrc src = {.base = 0xfed91000, .fd = -1, .claims = vtd, .what = "VT-d",
				  .kernel_off = "boot with intel_iommu=off"};
	struct uiommu_regio r;
	const char *c;

	c = uenv_iomem_claim(0xfed90000, vtd);
	CU_ASSERT(c && !strcmp(c, "dmar"));
	c = uenv_iomem_claim(0xfed91800, vtd);
	CU_ASSERT(c && !strcmp(c, "dmar"));
	c = uenv_iomem_claim(0xfd800000, amd);
	CU_ASSERT(c && !strcmp(c, "AMD-Vi"));
	c = uenv_iomem_claim(0xfeb80000, amd); /* an indented (nested) entry */
	CU_ASSERT(c && !strcmp(c, "amd_iommu"));
	c = uenv_iomem_claim(0x2b400000, smmu);
	CU_ASSERT(c && !strcmp(c, "arm-smmu-v3"));
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0xfed90000, amd)); /* another family's driver */
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0xfed92000, vtd)); /* outside every claim */
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0xe0000000, vtd)); /* someone else's */
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0xfed90000, NULL));
	/* A take-over of a claimed unit is refused before /dev/mem is opened. */
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, true, &r), -EBUSY);
	/* Addresses hidden (no CAP_SYS_ADMIN): all zero, nothing learnt. */
	FILE *f = fopen(iomem, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs("00000000-00000000 : dmar0\n", f);
	fclose(f);
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0, vtd));
	uenv_regio_set_iomem_path("/nonexistent/iomem");
	CU_ASSERT_PTR_NULL(uenv_iomem_claim(0xfed90000, vtd));
	uenv_regio_set_iomem_path(iomem);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* SMMUv3: who owns a platform unit is decided by the devices bound to the
 * driver, not by a name in /proc/iomem (uenv_platform_claim). */
static void test_platform_claim(void)
{
	char root[64], drv[128], lnk[192], lnk2[192], mod[192], dev[64];
	struct uenv_regsrc src = {
		.base = 0x9050000, .fd = -1, .platform_driver = "arm-smmu-v3", .what = "SMMUv3"};
	struct uiommu_regio r;

	snprintf(root, sizeof(root), "%s/drivers", dir); /* kept: the path is not copied */
	uenv_regio_set_platform_path(root);
	/* No such driver directory (initcall blacklisted): not owned. */
	put(iomem, "09050000-0906ffff : 9050000.smmuv3\n");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "arm-smmu-v3", dev, sizeof(dev)), 0);
	CU_ASSERT_FATAL(mkdir(root, 0700) == 0);
	snprintf(drv, sizeof(drv), "%s/arm-smmu-v3", root);
	CU_ASSERT_FATAL(mkdir(drv, 0700) == 0);
	snprintf(mod, sizeof(mod), "%s/module", drv);
	CU_ASSERT_FATAL(symlink("../../module/arm_smmu_v3", mod) == 0);
	/* Driver registered, nothing bound; ACPI lists the unbound device's
	 * resource under the device's name: not owned. */
	put(iomem, "2b400000-2b41ffff : arm-smmu-v3.0.auto\n");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x2b400000, "arm-smmu-v3", dev, sizeof(dev)), 0);
	/* ACPI, bound: the device's own request nested in its resource. */
	snprintf(lnk, sizeof(lnk), "%s/arm-smmu-v3.0.auto", drv);
	CU_ASSERT_FATAL(symlink("../../../../devices/platform/arm-smmu-v3.0.auto", lnk) == 0);
	put(iomem, "2b400000-2b41ffff : arm-smmu-v3.0.auto\n"
		   "  2b400000-2b41ffff : arm-smmu-v3.0.auto\n");
	memset(dev, 0, sizeof(dev));
	CU_ASSERT_EQUAL(uenv_platform_claim(0x2b400000, "arm-smmu-v3", dev, sizeof(dev)), 1);
	CU_ASSERT_STRING_EQUAL(dev, "arm-smmu-v3.0.auto");
	/* ... a second SMMU elsewhere that nobody bound: not owned. */
	put(iomem, "2b400000-2b41ffff : arm-smmu-v3.0.auto\n"
		   "2b500000-2b51ffff : arm-smmu-v3.1.auto\n");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x2b500000, "arm-smmu-v3", dev, sizeof(dev)), 0);
	CU_ASSERT_EQUAL(uenv_platform_claim(0x2b400000, "arm-smmu-v3", dev, sizeof(dev)), 1);
	unlink(lnk);
	/* Device tree, bound: the request is named after the DT node. */
	snprintf(lnk2, sizeof(lnk2), "%s/9050000.smmuv3", drv);
	CU_ASSERT_FATAL(symlink("../../../../devices/platform/9050000.smmuv3", lnk2) == 0);
	put(iomem, "09000000-09000fff : 9000000.pl011 pl011@9000000\n"
		   "09050000-0906ffff : 9050000.smmuv3\n");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "arm-smmu-v3", dev, sizeof(dev)), 1);
	CU_ASSERT_STRING_EQUAL(dev, "9050000.smmuv3");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9060000, "arm-smmu-v3", dev, sizeof(dev)), 1);
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9070000, "arm-smmu-v3", dev, sizeof(dev)), 0);
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9000000, "arm-smmu-v3", dev, sizeof(dev)), 0);
	/* The take-over is refused before /dev/mem is opened; force skips it. */
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, true, &r), -EBUSY);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, false, &r), -EBUSY);
	/* Bound but the addresses are hidden / unreadable: cannot tell. */
	put(iomem, "00000000-00000000 : 9050000.smmuv3\n");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "arm-smmu-v3", dev, sizeof(dev)), -EACCES);
	CU_ASSERT_EQUAL(uenv_regio_map(&src, 4096, true, &r), -EBUSY);
	uenv_regio_set_iomem_path("/nonexistent/iomem");
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "arm-smmu-v3", dev, sizeof(dev)), -EACCES);
	uenv_regio_set_iomem_path(iomem);
	/* Bad driver names look nowhere. */
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "../drivers/arm-smmu-v3", dev, 4), 0);
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, "", dev, 4), 0);
	CU_ASSERT_EQUAL(uenv_platform_claim(0x9050000, NULL, dev, 4), 0);
	unlink(lnk2);
	unlink(mod);
	rmdir(drv);
	rmdir(root);
	uenv_regio_set_platform_path(NULL);
}

static void test_poll(void)
{
	struct uenv_regsrc src = {.path = file, .fd = -1, .what = "test"};
	struct uiommu_regio r;
	uint64_t t0;

	CU_ASSERT_EQUAL_FATAL(uenv_regio_map(&src, 4096, true, &r), 0);
	reg_write32(&r, 0x40, 0x80000001u);
	reg_write64(&r, 0x48, 1ull << 63);
	CU_ASSERT_EQUAL(reg_poll32(&r, 0x40, 0x80000000u, 0x80000000u, 0, "TEST32"), 0);
	CU_ASSERT_EQUAL(reg_poll64(&r, 0x48, 1ull << 63, 1ull << 63, 0, "TEST64"), 0);
	t0 = uenv_now_ns();
	CU_ASSERT_EQUAL(reg_poll32(&r, 0x40, 1u, 0, 2000000, "TEST32"), -ETIMEDOUT);
	CU_ASSERT(uenv_now_ns() - t0 >= 2000000);
	CU_ASSERT_EQUAL(reg_poll64(&r, 0x48, 1ull << 63, 0, 1000000, "TEST64"), -ETIMEDOUT);
	uenv_regio_unmap(&r);
}

static const struct ut_test regio_tests[] = {
	{"path", test_path},
	{"fd", test_fd},
	{"bad", test_bad},
	{"claims", test_claims},
	{"platform-claim", test_platform_claim},
	{"poll", test_poll},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"regio", suite_init, suite_fini, regio_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
