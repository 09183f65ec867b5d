/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Read a DRHD's identification registers read-only, without taking the
 * unit over: what `uiommuctl probe` shows of a live machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/vtd/vtd_internal.h"

static void describe(uint64_t cap, uint64_t ecap, char *t, size_t len)
{
	unsigned int sagaw = (unsigned int)FIELD_GET(VTD_CAP_SAGAW, cap);
	unsigned int sllps = (unsigned int)FIELD_GET(VTD_CAP_SLLPS, cap);
	size_t n = 0;

	n += (size_t)snprintf(t + n, len - n, "mgaw %u-bit, levels%s%s%s, large%s%s, %u domains, "
					      "%u fault records",
			      vtd_cap_mgaw(cap), (sagaw & 2) ? " 3" : "", (sagaw & 4) ? " 4" : "",
			      (sagaw & 8) ? " 5" : "", (sllps & 1) ? " 2M" : "",
			      (sllps & 2) ? " 1G" : "", 1u << vtd_cap_domain_bits(cap),
			      vtd_cap_nfr(cap));
	static const struct {
		uint64_t bit;
		const char *name;
	} e[] = {
		{VTD_ECAP_QI, "qi"},	 {VTD_ECAP_PT, "pt"},	 {VTD_ECAP_C, "coherent"},
		{VTD_ECAP_SC, "snoop"},	 {VTD_ECAP_SMTS, "smts"}, {VTD_ECAP_SLTS, "slts"},
		{VTD_ECAP_FLTS, "flts"}, {VTD_ECAP_NEST, "nest"}, {VTD_ECAP_PRS, "prs"},
		{VTD_ECAP_PASID, "pasid"},
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]) && n < len; i++)
		if (ecap & e[i].bit)
			n += (size_t)snprintf(t + n, len - n, ", %s", e[i].name);
	if ((ecap & VTD_ECAP_PASID) && n < len)
		n += (size_t)snprintf(t + n, len - n, " %u-bit", vtd_ecap_pasid_bits(ecap));
	if ((cap & VTD_CAP_CM) && n < len)
		snprintf(t + n, len - n, ", caching-mode");
}

int vtd_peek(const struct uiommu_unit_desc *desc, struct uiommu_unit_peek *out)
{
	const char *path = desc->uio_path ? desc->uio_path : "/dev/mem";
	off_t off = desc->uio_path ? 0 : (off_t)desc->reg_base;
	struct uiommu_regio r = {0};
	void *p;
	int fd;

	if (desc->access != UIOMMU_UNIT_MMIO)
		return -EOPNOTSUPP;
	if (!desc->uio_path && (!desc->reg_base || (desc->reg_base & 0xfff)))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EPERM : -ENODEV;
	p = mmap(NULL, VTD_REG_SIZE, PROT_READ, MAP_SHARED, fd, off);
	close(fd);
	if (p == MAP_FAILED)
		return errno == EACCES || errno == EPERM ? -EPERM : -ENODEV;
	r.base = p;
	r.size = VTD_REG_SIZE;
	out->info.family = UIOMMU_FAMILY_VTD;
	out->info.u.vtd.ver = reg_read32(&r, VTD_REG_VER);
	out->info.u.vtd.cap = reg_read64(&r, VTD_REG_CAP);
	out->info.u.vtd.ecap = reg_read64(&r, VTD_REG_ECAP);
	out->status = reg_read32(&r, VTD_REG_GSTS);
	munmap(p, VTD_REG_SIZE);
	/* All ones: nothing answers at that address. */
	if (out->info.u.vtd.ver == UINT32_MAX && out->info.u.vtd.cap == UINT64_MAX)
		return -ENODEV;
	out->in_use = out->status & (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES);
	describe(out->info.u.vtd.cap, out->info.u.vtd.ecap, out->text, sizeof(out->text));
	return 0;
}
