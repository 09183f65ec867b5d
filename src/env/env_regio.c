/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Register windows: mapping an IOMMU's registers into the process, for
 * every family (see env.h, "register windows").  Sources:
 *
 *  - /dev/mem at the physical register base (page aligned).  With the
 *    kernel's IOMMU driver on, the range is claimed in /proc/iomem ("dmar"
 *    for VT-d, "AMD-Vi" / "amd_iommu" for AMD-Vi, "arm-smmu-v3" for
 *    SMMUv3: the family says which names) and STRICT_DEVMEM refuses the
 *    mapping: /proc/iomem is checked first to say so clearly;
 *  - a file mapped from offset 0: a UIO device (/dev/uioN, its map 0) or a
 *    sysfs PCI resource file (/sys/bus/pci/devices/.../resourceN);
 *  - an open file descriptor at an offset: a VFIO device fd at the
 *    offset of a region (VFIO_DEVICE_GET_REGION_INFO).
 *
 * Read-write mappings are for taking a unit over (failures logged);
 * read-only ones are for peeking (quiet: the caller reports).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/bitfield.h"
#include "env/env.h"
#include "core/regs.h"

#define REGIO_PAGE 4096u

static const char *iomem_path = "/proc/iomem";

void uenv_regio_set_iomem_path(const char *path)
{
	iomem_path = path ? path : "/proc/iomem";
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
