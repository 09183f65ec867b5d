/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mapping a DRHD's register page into the process.
 *
 *  - desc->uio_path: a UIO device (/dev/uioN, map 0) or a sysfs/resource
 *    file mapped at offset 0;
 *  - otherwise /dev/mem at the physical register base.  With the kernel's
 *    VT-d driver on, the range is claimed ("dmar0" in /proc/iomem) and
 *    STRICT_DEVMEM refuses the mapping; we check /proc/iomem first to
 *    give a clear message.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/vtd/vtd_internal.h"

/* True when /proc/iomem shows a kernel claim of @base named "dmar*". */
bool vtd_mmio_kernel_owned(uint64_t base)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	bool owned = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		uint64_t s, e;
		char name[128];

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %127[^\n]", &s, &e, name) != 3)
			continue;
		/* Without CAP_SYS_ADMIN addresses read as 0: nothing to learn. */
		if (s == 0 && e == 0)
			continue;
		if (base >= s && base <= e && strncmp(name, "dmar", 4) == 0) {
			owned = true;
			break;
		}
	}
	fclose(f);
	return owned;
}

static int map_fd(struct uiommu_unit *u, int fd, off_t off, uint64_t size, const char *what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED) {
		int err = errno;

		VTD_LOG(ERR, "cannot map %" PRIu64 " bytes of VT-d registers at 0x%" PRIx64
			     " through %s: %s",
			size, u->reg_base, what, strerror(err));
		return err == EACCES || err == EPERM ? -EPERM : -err;
	}
	unit_regs(u)->base = p;
	unit_regs(u)->size = size;
	unit_regs(u)->model = NULL;
	unit_regs(u)->model_priv = NULL;
	return 0;
}

static int do_map(struct uiommu_unit *u, const char *uio_path, uint64_t size)
{
	const char *path = uio_path ? uio_path : "/dev/mem";
	off_t off = uio_path ? 0 : (off_t)u->reg_base;
	int fd, rc;

	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		VTD_LOG(ERR, "cannot open %s: %s", path, strerror(err));
		return err == EACCES || err == EPERM ? -EPERM : -ENODEV;
	}
	rc = map_fd(u, fd, off, size, path);
	close(fd); /* the mapping stays */
	return rc;
}

/* The path used at init, kept for remap/adopt (arena string). */
static const char *unit_uio_path(struct uiommu_unit *u)
{
	struct vtd_unit *vu = vtd_of(u);

	return vu && vu->uio_path[0] ? vu->uio_path : NULL;
}

int vtd_mmio_map(struct uiommu_unit *u, const struct uiommu_unit_desc *desc)
{
	struct vtd_unit *vu = vtd_of(u);
	uint64_t size = desc->reg_size ? desc->reg_size : VTD_REG_SIZE;

	if (desc->uio_path) {
		if (strlen(desc->uio_path) >= sizeof(vu->uio_path))
			return -ENAMETOOLONG;
		if (desc->uio_path != vu->uio_path)
			strcpy(vu->uio_path, desc->uio_path);
	} else {
		if (!desc->reg_base || (desc->reg_base & 0xfff))
			return -EINVAL;
		if (vtd_mmio_kernel_owned(desc->reg_base) && !desc->force) {
			VTD_LOG(ERR, "VT-d unit at 0x%" PRIx64
				     " is claimed by the kernel (/proc/iomem \"dmar\"): boot with "
				     "intel_iommu=off",
				desc->reg_base);
			return -EBUSY;
		}
	}
	size = ALIGN_UP_ULL(size, 4096);
	return do_map(u, unit_uio_path(u), size);
}

/* Grow the mapping to cover @need bytes (fault/IOTLB registers beyond the
 * first page). */
int vtd_mmio_remap(struct uiommu_unit *u, uint64_t need)
{
	uint64_t size = ALIGN_UP_ULL(need, 4096);

	if (size <= unit_regs(u)->size)
		return 0;
	vtd_mmio_unmap(u);
	return do_map(u, unit_uio_path(u), size);
}

void vtd_mmio_unmap(struct uiommu_unit *u)
{
	if (unit_regs(u)->base)
		munmap((void *)(uintptr_t)unit_regs(u)->base, unit_regs(u)->size);
	unit_regs(u)->base = NULL;
	unit_regs(u)->size = 0;
}
