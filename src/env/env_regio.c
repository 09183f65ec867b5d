/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register windows: mapping an IOMMU's registers into the process, for
 * every family (see env.h, "register windows").  Sources:
 *
 *  - /dev/mem at the physical register base (page aligned).  With the
 *    kernel's IOMMU driver on, the range is claimed in /proc/iomem ("dmar"
 *    for VT-d, "AMD-Vi" / "amd_iommu" for AMD-Vi, "arm-smmu-v3" for
 *    SMMUv3: the family says which names) and STRICT_DEVMEM refuses the
 *    mapping: /proc/iomem is checked first to say so clearly.  Where a
 *    name in /proc/iomem does not tell (SMMUv3 platform devices), the
 *    family names its platform driver instead: a device bound to it whose
 *    own range holds the base means the kernel owns the unit;
 *  - a file mapped from offset 0: a UIO device (/dev/uioN, its map 0) or a
 *    sysfs PCI resource file (/sys/bus/pci/devices/.../resourceN);
 *  - an open file descriptor at an offset: a VFIO device fd at the
 *    offset of a region (VFIO_DEVICE_GET_REGION_INFO).
 *
 * Read-write mappings are for taking a unit over (failures logged);
 * read-only ones are for peeking (quiet: the caller reports).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bitfield.h"
#include "env/env.h"
#include "core/regs.h"

#define REGIO_PAGE 4096u

static const char *iomem_path = "/proc/iomem";
static const char *platform_path = "/sys/bus/platform/drivers";

void uenv_regio_set_iomem_path(const char *path)
{
	iomem_path = path ? path : "/proc/iomem";
}

void uenv_regio_set_platform_path(const char *path)
{
	platform_path = path ? path : "/sys/bus/platform/drivers";
}

/* /proc/iomem: is there a range holding @base named exactly @name (after
 * its nesting indent)?  1 yes, 0 no, -EACCES unreadable / hidden. */
static int iomem_named(uint64_t base, const char *name)
{
	char line[256];
	int ret = 0, seen = 0, hidden = 0;
	FILE *f = fopen(iomem_path, "r");

	if (!f)
		return -EACCES;
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		uint64_t s, e;
		char n[128];

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %127[^\n]", &s, &e, n) != 3)
			continue;
		seen++;
		if (s == 0 && e == 0) {
			hidden++;
			continue;
		}
		if (base >= s && base <= e && strcmp(n, name) == 0)
			ret = 1;
	}
	fclose(f);
	if (ret == 0 && (!seen || hidden == seen))
		return -EACCES;
	return ret;
}

/*
 * Who owns an SMMU-like platform unit: the name a range has in /proc/iomem
 * says nothing by itself (with ACPI an *unbound* SMMU's platform device
 * already lists its resource as "arm-smmu-v3.0.auto"; with a device tree
 * the bound driver's request is named "9050000.smmuv3").  The driver's
 * sysfs directory lists the devices bound to it; a bound device requests
 * its registers under its own name (devm_ioremap_resource), so a range
 * holding @base named like a bound device is the kernel's.
 */
int uenv_platform_claim(uint64_t base, const char *driver, char *dev, size_t len)
{
	char path[512];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	if (!driver || !driver[0] || strchr(driver, '/'))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", platform_path, driver);
	dir = opendir(path);
	if (!dir)
		return 0; /* driver not registered (module absent, initcall off) */
	while (ret != 1 && (d = readdir(dir))) {
		struct stat st;
		int r;

		/* Bound devices are symlinks; "module" is the driver's module. */
		if (d->d_name[0] == '.' || strcmp(d->d_name, "module") == 0)
			continue;
		if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISLNK(st.st_mode))
			continue;
		r = iomem_named(base, d->d_name);
		if (r == 1 || (r < 0 && ret == 0)) {
			if (dev && len)
				snprintf(dev, len, "%s", d->d_name);
			ret = r;
		}
	}
	closedir(dir);
	return ret;
}

const char *uenv_iomem_claim(uint64_t base, const char *const *claims)
{
	const char *found = NULL;
	char line[256];
	FILE *f;

	if (!claims || !claims[0])
		return NULL;
	f = fopen(iomem_path, "r");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t s, e;
		char name[128];

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %127[^\n]", &s, &e, name) != 3)
			continue;
		/* Without CAP_SYS_ADMIN addresses read as 0: nothing to learn. */
		if ((s == 0 && e == 0) || base < s || base > e)
			continue;
		for (const char *const *c = claims; *c; c++)
			if (strncmp(name, *c, strlen(*c)) == 0) {
				found = *c;
				break;
			}
	}
	fclose(f);
	return found;
}

static int map_errno(int err, bool writable)
{
	if (err == EACCES || err == EPERM)
		return -EPERM;
	return writable ? -err : -ENODEV;
}

int uenv_regio_map(const struct uenv_regsrc *src, uint64_t size, bool writable,
		   struct uiommu_regio *r)
{
	const char *what = src->what ? src->what : "IOMMU";
	const char *path = src->path;
	bool own_fd = src->fd < 0;
	int fd = src->fd, prot = PROT_READ | (writable ? PROT_WRITE : 0);
	off_t off;
	void *p;

	if (!size)
		return -EINVAL;
	size = ALIGN_UP_ULL(size, REGIO_PAGE);
	if (!size || size > SIZE_MAX) /* rounded up past 2^64 */
		return -EINVAL;
	if (!own_fd) {
		if (src->fd_offset & (REGIO_PAGE - 1))
			return -EINVAL;
		off = (off_t)src->fd_offset;
		path = "a file descriptor";
	} else if (path) {
		off = 0;
	} else {
		const char *claim;

		if (!src->base || (src->base & (REGIO_PAGE - 1)))
			return -EINVAL;
		claim = src->force ? NULL : uenv_iomem_claim(src->base, src->claims);
		if (claim) {
			if (writable)
				UENV_LOG(ENV, ERR,
					 "%s unit at 0x%" PRIx64
					 " is claimed by the kernel (/proc/iomem \"%s\")%s%s",
					 what, src->base, claim, src->kernel_off ? ": " : "",
					 src->kernel_off ? src->kernel_off : "");
			return -EBUSY;
		}
		if (!src->force && src->platform_driver) {
			char dev[128] = "";
			int pc = uenv_platform_claim(src->base, src->platform_driver, dev,
						     sizeof(dev));

			if (pc) {
				if (writable)
					UENV_LOG(ENV, ERR,
						 "%s unit at 0x%" PRIx64
						 " %s %s (bound to the kernel's "
						 "%s driver)%s%s",
						 what, src->base,
						 pc > 0 ? "is owned by"
							: "may be owned by (cannot read "
							  "/proc/iomem addresses)",
						 dev, src->platform_driver,
						 src->kernel_off ? ": " : "",
						 src->kernel_off ? src->kernel_off : "");
				return -EBUSY;
			}
		}
		path = "/dev/mem";
		off = (off_t)src->base;
	}
	if (own_fd) {
		fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_SYNC | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;

			if (writable)
				UENV_LOG(ENV, ERR, "cannot open %s: %s", path, strerror(err));
			return err == EACCES || err == EPERM ? -EPERM : -ENODEV;
		}
	}
	/*
	 * A regular file (a sysfs PCI resource file: its size is the BAR's;
	 * or any file named as a UIO device) must hold the whole window: the
	 * kernel maps a file past its end, and the first register read there
	 * is a SIGBUS.  Devices (UIO, /dev/mem) and VFIO fds check themselves.
	 */
	{
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    ((uint64_t)st.st_size < size || (uint64_t)st.st_size - size < (uint64_t)off)) {
			if (own_fd)
				close(fd);
			if (writable)
				UENV_LOG(ENV, ERR,
					 "%s registers: %s is %lld bytes, too small for a %" PRIu64
					 "-byte window at offset 0x%llx",
					 what, path, (long long)st.st_size, size,
					 (unsigned long long)off);
			return -ENODEV;
		}
	}
	p = mmap(NULL, size, prot, MAP_SHARED, fd, off);
	if (p == MAP_FAILED) {
		int err = errno;

		if (own_fd)
			close(fd);
		if (writable)
			UENV_LOG(ENV, ERR,
				 "cannot map %" PRIu64 " bytes of %s registers at 0x%" PRIx64
				 " through %s: %s",
				 size, what, src->base, path, strerror(err));
		return map_errno(err, writable);
	}
	if (own_fd)
		close(fd); /* the mapping stays */
	memset(r, 0, sizeof(*r));
	r->base = p;
	r->size = size;
	return 0;
}

void uenv_regio_unmap(struct uiommu_regio *r)
{
	if (r->base)
		munmap((void *)(uintptr_t)r->base, r->size);
	r->base = NULL;
	r->size = 0;
}
