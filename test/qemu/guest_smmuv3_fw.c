/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest program for the aarch64 QEMU suite (qemu-system-aarch64 -M
 * virt,iommu=smmuv3, the kernel's SMMUv3 driver kept off with
 * initcall_blacklist=arm_smmu_driver_init): find the SMMUv3 the way the
 * firmware describes it, map its registers through the project's
 * environment layer (uenv_regio_map: /dev/mem, with the /proc/iomem claim
 * check) and check that they are an SMMUv3 nobody has enabled.
 *
 * Scenarios (argv selects; none = all that fit the boot):
 *   smmuv3-dt-regs       device tree boot: the node compatible with
 *                        "arm,smmu-v3" (smmuv3@9050000 on virt), its reg
 *                        property -> base and size; IDR0..IDR5 fields sane,
 *                        CR0 == CR0ACK == 0.
 *   smmuv3-dt-iommu-map  device tree boot: the PCI host's iommu-map names
 *                        that SMMU, and edu's StreamID computed from it
 *                        equals edu's requester ID found through sysfs.
 *   smmuv3-acpi-iort     UEFI + ACPI boot: `uiommuctl -j probe` parses the
 *                        live IORT (/sys/firmware/acpi/tables/IORT): one
 *                        SMMUv3 unit, edu behind it with StreamID = its
 *                        requester ID from sysfs; `uiommuctl acpi decode`
 *                        of the same table is clean; then the IDR/CR0
 *                        checks on the base the IORT gave.
 * Option: dump-iort=1 prints the live IORT as "# IORT-HEX <offset> <bytes>"
 * lines (how test/data/acpi/real/IORT-qemu-*.dat was captured).
 *
 * Register fields: Arm IHI 0070 (SMMUv3 architecture), section 6.3
 * "Register formats": SMMU_IDR0..5 at 0x0..0x14, SMMU_IIDR 0x18, SMMU_AIDR
 * 0x1c, SMMU_CR0 0x20, SMMU_CR0ACK 0x24.  Fields are checked, not QEMU's
 * exact words (docs/qemu-testing.md lists what QEMU 10.0.2 shows).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/bitfield.h"
#include "core/regs.h"
#include "env/env.h"
#include "guest_lib.h"

#define B32(n)	   (1u << (n))
#define GM32(h, l) ((uint32_t)GENMASK_ULL(h, l))

#define SMMU_IDR0   0x00
#define SMMU_IDR1   0x04
#define SMMU_IDR2   0x08
#define SMMU_IDR3   0x0c
#define SMMU_IDR4   0x10
#define SMMU_IDR5   0x14
#define SMMU_IIDR   0x18
#define SMMU_AIDR   0x1c
#define SMMU_CR0    0x20
#define SMMU_CR0ACK 0x24

/* SMMU_IDR0 */
#define IDR0_S2P	 B32(0)
#define IDR0_S1P	 B32(1)
#define IDR0_TTF	 GM32(3, 2) /* 0b10 AArch64, 0b11 AArch32+AArch64 */
#define IDR0_COHACC	 B32(4)
#define IDR0_ASID16	 B32(12)
#define IDR0_VMID16	 B32(18)
#define IDR0_TTENDIAN	 GM32(22, 21) /* 0b01 reserved */
#define IDR0_STALL_MODEL GM32(25, 24) /* 0b11 reserved */
#define IDR0_ST_LEVEL	 GM32(28, 27) /* 0b00 linear, 0b01 2-level */
/* SMMU_IDR1 */
#define IDR1_SIDSIZE	   GM32(5, 0)
#define IDR1_SSIDSIZE	   GM32(10, 6)
#define IDR1_PRIQS	   GM32(15, 11)
#define IDR1_EVTQS	   GM32(20, 16)
#define IDR1_CMDQS	   GM32(25, 21)
#define IDR1_REL	   B32(29)
#define IDR1_QUEUES_PRESET B32(30)
#define IDR1_TABLES_PRESET B32(31)
/* SMMU_IDR3 */
#define IDR3_RIL B32(10)
/* SMMU_IDR5 */
#define IDR5_OAS     GM32(2, 0)
#define IDR5_GRAN4K  B32(4)
#define IDR5_GRAN16K B32(5)
#define IDR5_GRAN64K B32(6)

#define SMMU_MAP_LEN 0x1000u /* page 0 holds every register read here */

/*
 * Whether the kernel's SMMUv3 driver owns a unit: a device bound to the
 * platform driver "arm-smmu-v3".  /proc/iomem cannot tell here: with ACPI
 * the IORT's platform device "arm-smmu-v3.0.auto" is listed whether or not
 * a driver requested the range (the driver adds busy children of the same
 * name), and with a device tree the driver's claim is named
 * "9050000.smmuv3".  So no /proc/iomem claim names are passed to the
 * register-window code here; the driver's own take-over asks the same
 * question through uenv_platform_claim (a bound device whose request
 * holds the base), proven by guest_smmuv3 smmuv3-kernel-owned.
 * CONFIG_IO_STRICT_DEVMEM still refuses the mapping of a range a driver
 * holds.
 */
static int smmu_driver_bound(char *dev, size_t len)
{
	DIR *d = opendir("/sys/bus/platform/drivers/arm-smmu-v3");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0; /* driver not registered (blacklisted initcall) */
	while ((e = readdir(d)))
		if (e->d_type == DT_LNK && strcmp(e->d_name, "module")) {
			snprintf(dev, len, "%.63s", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

static unsigned int field(uint32_t v, uint32_t mask)
{
	return (unsigned int)((v & mask) >> __builtin_ctz(mask));
}

/* Map the registers at @base through the environment layer, check the
 * ID registers and that nothing enabled the SMMU.  0, or 1 with @why. */
static int check_regs(uint64_t base, char *why, size_t n, char *info, size_t ilen)
{
	struct uenv_regsrc src = {
		.base = base,
		.fd = -1,
		.claims = NULL,
		.what = "SMMUv3",
		.kernel_off = "boot with initcall_blacklist=arm_smmu_driver_init",
	};
	struct uiommu_regio r;
	uint32_t idr[6], iidr, aidr, cr0, cr0ack;
	char bound[64];
	int ret;

	if (smmu_driver_bound(bound, sizeof(bound))) {
		snprintf(why, n,
			 "the kernel's arm-smmu-v3 driver owns %s (boot with "
			 "initcall_blacklist=arm_smmu_driver_init)",
			 bound);
		return 1;
	}
	ret = uenv_regio_map(&src, SMMU_MAP_LEN, false, &r);
	if (ret) {
		snprintf(why, n, "cannot map SMMUv3 registers at 0x%" PRIx64 ": %s%s", base,
			 strerror(-ret), ret == -EBUSY ? " (claimed by the kernel's driver)" : "");
		return 1;
	}
	for (unsigned int i = 0; i < 6; i++)
		idr[i] = reg_read32(&r, SMMU_IDR0 + 4 * i);
	iidr = reg_read32(&r, SMMU_IIDR);
	aidr = reg_read32(&r, SMMU_AIDR);
	cr0 = reg_read32(&r, SMMU_CR0);
	cr0ack = reg_read32(&r, SMMU_CR0ACK);
	uenv_regio_unmap(&r);
	gt_log("SMMUv3 at 0x%" PRIx64 ": IDR0=0x%x IDR1=0x%x IDR2=0x%x IDR3=0x%x IDR4=0x%x "
	       "IDR5=0x%x IIDR=0x%x AIDR=0x%x CR0=0x%x CR0ACK=0x%x",
	       base, idr[0], idr[1], idr[2], idr[3], idr[4], idr[5], iidr, aidr, cr0, cr0ack);
	gt_log("IDR0: S1P=%u S2P=%u TTF=%u COHACC=%u ASID16=%u VMID16=%u ST_LEVEL=%u; "
	       "IDR1: SIDSIZE=%u SSIDSIZE=%u CMDQS=%u EVTQS=%u PRIQS=%u; IDR3: RIL=%u; "
	       "IDR5: OAS=%u GRAN4K=%u GRAN16K=%u GRAN64K=%u",
	       field(idr[0], IDR0_S1P), field(idr[0], IDR0_S2P), field(idr[0], IDR0_TTF),
	       field(idr[0], IDR0_COHACC), field(idr[0], IDR0_ASID16), field(idr[0], IDR0_VMID16),
	       field(idr[0], IDR0_ST_LEVEL), field(idr[1], IDR1_SIDSIZE),
	       field(idr[1], IDR1_SSIDSIZE), field(idr[1], IDR1_CMDQS), field(idr[1], IDR1_EVTQS),
	       field(idr[1], IDR1_PRIQS), field(idr[3], IDR3_RIL), field(idr[5], IDR5_OAS),
	       field(idr[5], IDR5_GRAN4K), field(idr[5], IDR5_GRAN16K),
	       field(idr[5], IDR5_GRAN64K));

	if (idr[0] == 0 || idr[0] == 0xffffffffu)
		snprintf(why, n, "IDR0=0x%x: no SMMUv3 register file at 0x%" PRIx64, idr[0], base);
	else if (!(idr[0] & (IDR0_S1P | IDR0_S2P)))
		snprintf(why, n, "IDR0=0x%x: neither stage 1 nor stage 2", idr[0]);
	else if (!(field(idr[0], IDR0_TTF) & 2))
		snprintf(why, n, "IDR0.TTF=%u: no AArch64 table format", field(idr[0], IDR0_TTF));
	else if (field(idr[0], IDR0_ST_LEVEL) > 1 || field(idr[0], IDR0_TTENDIAN) == 1 ||
		 field(idr[0], IDR0_STALL_MODEL) == 3)
		snprintf(why, n, "IDR0=0x%x has reserved field values", idr[0]);
	else if (field(idr[1], IDR1_SIDSIZE) < 8 || field(idr[1], IDR1_SIDSIZE) > 32)
		snprintf(why, n, "IDR1.SIDSIZE=%u: cannot hold PCI bus 0's requester IDs",
			 field(idr[1], IDR1_SIDSIZE));
	else if (field(idr[1], IDR1_SSIDSIZE) > 20 || field(idr[1], IDR1_CMDQS) > 19 ||
		 field(idr[1], IDR1_EVTQS) > 19 || field(idr[1], IDR1_PRIQS) > 19)
		snprintf(why, n, "IDR1=0x%x: a size field beyond the architecture's maximum",
			 idr[1]);
	else if (idr[1] & (IDR1_TABLES_PRESET | IDR1_QUEUES_PRESET | IDR1_REL))
		snprintf(why, n, "IDR1=0x%x: fixed table/queue bases (TABLES/QUEUES_PRESET)",
			 idr[1]);
	else if (field(idr[5], IDR5_OAS) > 6 || !(idr[5] & IDR5_GRAN4K))
		snprintf(why, n, "IDR5=0x%x: OAS reserved or no 4K granule", idr[5]);
	else if (cr0 || cr0ack)
		snprintf(why, n, "CR0=0x%x CR0ACK=0x%x: the SMMU is enabled (kernel driver on?)",
			 cr0, cr0ack);
	else {
		snprintf(info, ilen,
			 "base=0x%" PRIx64 " idr0=0x%x idr1=0x%x idr3=0x%x idr5=0x%x %s%s, "
			 "%u-bit SIDs, OAS=%u, cr0=0",
			 base, idr[0], idr[1], idr[3], idr[5], idr[0] & IDR0_S1P ? "S1" : "",
			 idr[0] & IDR0_S2P ? "+S2" : "", field(idr[1], IDR1_SIDSIZE),
			 field(idr[5], IDR5_OAS));
		return 0;
	}
	return 1;
}

/* ---- device tree ---- */

#define DT_ROOT "/sys/firmware/devicetree/base"

/* Read a property: returns its length (>= 0) or -errno. */
static ssize_t dt_prop(const char *node, const char *prop, void *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s/%s", DT_ROOT, node, prop);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	n = fread(buf, 1, len, f);
	fclose(f);
	return (ssize_t)n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Cells at the root (virt: #address-cells = #size-cells = 2). */
static int dt_root_cells(const char *prop, unsigned int *cells)
{
	uint8_t b[4];

	if (dt_prop("", prop, b, sizeof(b)) != 4)
		return -ENOENT;
	*cells = be32(b);
	return *cells >= 1 && *cells <= 2 ? 0 : -EINVAL;
}

/* The first top-level node compatible with "arm,smmu-v3": its name, base,
 * size and phandle.  0 or -errno. */
static int dt_find_smmu(char *name, size_t nlen, uint64_t *base, uint64_t *size, uint32_t *phandle)
{
	unsigned int ac, sc;
	DIR *d;
	struct dirent *e;
	int ret = -ENOENT;

	if (dt_root_cells("#address-cells", &ac) || dt_root_cells("#size-cells", &sc))
		return -ENOENT;
	d = opendir(DT_ROOT);
	if (!d)
		return -errno;
	while (ret == -ENOENT && (e = readdir(d))) {
		char compat[256];
		uint8_t reg[16], ph[4];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		n = dt_prop(e->d_name, "compatible", compat, sizeof(compat) - 1);
		if (n <= 0)
			continue;
		compat[n] = 0;
		/* compatible is a list of NUL-separated strings */
		bool match = false;
		for (ssize_t off = 0; off < n; off += (ssize_t)strlen(compat + off) + 1)
			match |= !strcmp(compat + off, "arm,smmu-v3");
		if (!match)
			continue;
		n = dt_prop(e->d_name, "reg", reg, sizeof(reg));
		if (n < (ssize_t)(4 * (ac + sc))) {
			ret = -EINVAL;
			break;
		}
		*base = ac == 2 ? (uint64_t)be32(reg) << 32 | be32(reg + 4) : be32(reg);
		*size = sc == 2 ? (uint64_t)be32(reg + 4 * ac) << 32 | be32(reg + 4 * ac + 4)
				: be32(reg + 4 * ac);
		*phandle = dt_prop(e->d_name, "phandle", ph, sizeof(ph)) == 4 ? be32(ph) : 0;
		snprintf(name, nlen, "%s", e->d_name);
		ret = 0;
	}
	closedir(d);
	return ret;
}

static int scenario_dt_regs(void)
{
	const char *sc = "smmuv3-dt-regs";
	char name[256], why[256] = "", info[256] = "", want[64];
	uint64_t base = 0, size = 0;
	uint32_t ph;
	int ret = dt_find_smmu(name, sizeof(name), &base, &size, &ph);

	if (ret) {
		gt_result(sc, GT_FAIL, "no arm,smmu-v3 node under %s: %s", DT_ROOT, strerror(-ret));
		return 1;
	}
	gt_log("device tree: %s reg=<0x%" PRIx64 " 0x%" PRIx64 "> phandle=%u", name, base, size,
	       ph);
	snprintf(want, sizeof(want), "smmuv3@%" PRIx64, base);
	if (strcmp(name, want)) {
		gt_result(sc, GT_FAIL, "node '%s' does not carry its base in its name (%s)", name,
			  want);
		return 1;
	}
	if (size < 0x20000) {
		gt_result(sc, GT_FAIL, "reg size 0x%" PRIx64 " < 128 KiB (pages 0 and 1)", size);
		return 1;
	}
	if (check_regs(base, why, sizeof(why), info, sizeof(info))) {
		gt_result(sc, GT_FAIL, "%s", why);
		return 1;
	}
	gt_result(sc, GT_PASS, "%s: %s", name, info);
	return 0;
}

static int scenario_dt_iommu_map(void)
{
	const char *sc = "smmuv3-dt-iommu-map";
	char name[256];
	uint64_t base, size;
	uint32_t ph, sid = 0;
	uint8_t map[16 * 8];
	DIR *d;
	struct dirent *e;
	ssize_t n = -ENOENT;
	struct gt_edu edu;
	int found = 0, ret;

	if (dt_find_smmu(name, sizeof(name), &base, &size, &ph) || !ph) {
		gt_result(sc, GT_FAIL, "no arm,smmu-v3 node with a phandle");
		return 1;
	}
	/* The PCI host bridge node: the one with an iommu-map property. */
	d = opendir(DT_ROOT);
	if (!d) {
		gt_result(sc, GT_FAIL, "opendir %s: %s", DT_ROOT, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && !strncmp(e->d_name, "pcie@", 5)) {
			n = dt_prop(e->d_name, "iommu-map", map, sizeof(map));
			if (n > 0)
				break;
		}
	closedir(d);
	if (n <= 0 || n % 16) {
		gt_result(sc, GT_FAIL, "no usable iommu-map on a pcie@ node (%zd bytes)", n);
		return 1;
	}
	ret = gt_edu_open(&edu);
	if (ret) {
		gt_result(sc, GT_FAIL, "edu not found: %s", strerror(-ret));
		return 1;
	}
	/* iommu-map entries: <rid-base iommu-phandle sid-base length>
	 * (Documentation/devicetree/bindings/pci/pci-iommu.txt). */
	for (ssize_t off = 0; off < n && !found; off += 16) {
		uint32_t rid_base = be32(map + off), iph = be32(map + off + 4),
			 sid_base = be32(map + off + 8), len = be32(map + off + 12);

		gt_log("iommu-map: rid 0x%x..+0x%x -> phandle %u sid 0x%x", rid_base, len, iph,
		       sid_base);
		if (edu.requester_id >= rid_base && edu.requester_id - rid_base < len) {
			if (iph != ph) {
				gt_result(sc, GT_FAIL, "edu's RID maps to phandle %u, not %s (%u)",
					  iph, name, ph);
				gt_edu_close(&edu);
				return 1;
			}
			sid = sid_base + (edu.requester_id - rid_base);
			found = 1;
		}
	}
	if (!found) {
		gt_result(sc, GT_FAIL, "edu %s (RID 0x%x) is not in the iommu-map", edu.bdf,
			  edu.requester_id);
		gt_edu_close(&edu);
		return 1;
	}
	gt_result(sc, GT_PASS, "edu %s RID 0x%x -> %s StreamID 0x%x", edu.bdf, edu.requester_id,
		  name, sid);
	gt_edu_close(&edu);
	return 0;
}

/* ---- ACPI (UEFI boot) ---- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void dump_iort(void)
{
	FILE *f = fopen("/sys/firmware/acpi/tables/IORT", "rb");
	uint8_t b[16];
	size_t n, off = 0;

	if (!f) {
		gt_log("no IORT to dump: %s", strerror(errno));
		return;
	}
	while ((n = fread(b, 1, sizeof(b), f)) > 0) {
		char line[64] = "";

		for (size_t i = 0; i < n; i++)
			snprintf(line + 3 * i, sizeof(line) - 3 * i, "%02x ", b[i]);
		gt_log("IORT-HEX %06zx %s", off, line);
		off += n;
	}
	fclose(f);
}

/* The probe's decoded IDR0..IDR5 and CR0 equal what /dev/mem reads. */
static bool probe_idr_match(uint64_t base, json_t *regs, char *why, size_t n)
{
	static const char *const key[] = {"idr0", "idr1", "idr2", "idr3", "idr4", "idr5", "cr0"};
	static const unsigned int off[] = {SMMU_IDR0, SMMU_IDR1, SMMU_IDR2, SMMU_IDR3,
					   SMMU_IDR4, SMMU_IDR5, SMMU_CR0};
	volatile uint8_t *r = gt_phys_map(base, 4096);
	bool ok = r != NULL;

	if (!r)
		snprintf(why, n, "cannot map 0x%" PRIx64 ": %s", base, strerror(errno));
	for (size_t i = 0; ok && i < sizeof(key) / sizeof(key[0]); i++) {
		const char *v = jstr(regs, key[i]);
		uint32_t hw = *(volatile uint32_t *)(r + off[i]);

		if (!v[0] || strtoull(v, NULL, 16) != hw) {
			snprintf(why, n, "probe's %s '%s', the register reads 0x%08x", key[i], v,
				 hw);
			ok = false;
		}
	}
	if (r)
		gt_phys_unmap((void *)(uintptr_t)r, 4096);
	return ok;
}

static int scenario_acpi_iort(void)
{
	const char *sc = "smmuv3-acpi-iort";
	char why[256] = "", info[256] = "", bdf[32];
	json_error_t jerr;
	json_t *root, *units, *u0, *pcis, *edu_j = NULL, *regs;
	struct gt_edu edu;
	uint64_t base;
	uint16_t rid;
	FILE *p;
	int rc, ret;

	rc = gt_system("uiommuctl acpi decode /sys/firmware/acpi/tables/IORT > /dev/null", why,
		       sizeof(why));
	if (rc) {
		gt_result(sc, GT_FAIL, "the live IORT does not decode cleanly: %s", why);
		return 1;
	}
	ret = gt_edu_open(&edu);
	if (ret) {
		gt_result(sc, GT_FAIL, "edu not found: %s", strerror(-ret));
		return 1;
	}
	snprintf(bdf, sizeof(bdf), "%s", edu.bdf);
	rid = edu.requester_id;
	gt_edu_close(&edu);
	p = popen("uiommuctl -j probe", "r");
	if (!p) {
		gt_result(sc, GT_FAIL, "popen: %s", strerror(errno));
		return 1;
	}
	root = json_loadf(p, 0, &jerr);
	rc = pclose(p);
	if (!root) {
		gt_result(sc, GT_FAIL, "probe output is not JSON (line %d: %s), exit %d", jerr.line,
			  jerr.text, rc);
		return 1;
	}
	units = json_object_get(root, "units");
	u0 = json_array_get(units, 0);
	regs = json_object_get(u0, "registers");
	pcis = json_object_get(root, "pci_devices");
	for (size_t i = 0; i < json_array_size(pcis); i++) {
		json_t *d = json_array_get(pcis, i);

		/* "0000:00:01.0" in sysfs; the probe may omit the segment */
		if (strstr(bdf, jstr(d, "device")) && jstr(d, "device")[0])
			edu_j = d;
	}
	base = strtoull(jstr(u0, "base"), NULL, 0);
	gt_log("probe: %zu unit(s), first %s at %s; registers: %s; %zu PCI devices",
	       json_array_size(units), jstr(u0, "family"), jstr(u0, "base"), jstr(regs, "status"),
	       json_array_size(pcis));
	if (rc != 0)
		snprintf(why, sizeof(why), "uiommuctl -j probe exit status %d", rc);
	else if (json_array_size(units) != 1 || strcmp(jstr(u0, "family"), "smmuv3") || !base)
		snprintf(why, sizeof(why), "want one smmuv3 unit, got %zu (first '%s' at '%s')",
			 json_array_size(units), jstr(u0, "family"), jstr(u0, "base"));
	else if (strcmp(jstr(regs, "status"), "ok") != 0)
		/* The driver's peek decodes the live registers (no longer "not
		 * decoded": the unbound SMMU's "arm-smmu-v3.0.auto" entry in
		 * /proc/iomem is not mistaken for the kernel's claim). */
		snprintf(why, sizeof(why), "probe did not decode the registers: '%s'",
			 jstr(regs, "status"));
	else if (!json_is_false(json_object_get(regs, "in_use")))
		snprintf(why, sizeof(why), "probe says the SMMU is in use (kernel driver on?)");
	else if (!probe_idr_match(base, regs, why, sizeof(why)))
		; /* why set */
	else if (!edu_j)
		snprintf(why, sizeof(why), "edu (%s) not among %zu PCI devices", bdf,
			 json_array_size(pcis));
	else if (!json_is_integer(json_object_get(edu_j, "unit")) ||
		 json_integer_value(json_object_get(edu_j, "unit")) != 0)
		snprintf(why, sizeof(why), "edu is not behind unit 0 in the IORT");
	else if (json_integer_value(json_object_get(edu_j, "unit_id")) != rid)
		/* QEMU's root complex maps bus 0 one to one: StreamID = RID */
		snprintf(why, sizeof(why), "edu StreamID 0x%llx from the IORT, RID 0x%x from sysfs",
			 (long long)json_integer_value(json_object_get(edu_j, "unit_id")), rid);
	else if (check_regs(base, why, sizeof(why), info, sizeof(info)) == 0) {
		gt_result(sc, GT_PASS, "IORT smmuv3 %s, edu %s StreamID 0x%x = RID; %s",
			  jstr(u0, "base"), bdf, rid, info);
		json_decref(root);
		return 0;
	}
	gt_result(sc, GT_FAIL, "%s", why);
	json_decref(root);
	return 1;
}

int main(int argc, char **argv)
{
	bool acpi = access("/sys/firmware/acpi/tables/IORT", R_OK) == 0;
	int bad = 0;

	gt_init();
	if (gt_arg_uint(argc, argv, "dump-iort", 0))
		dump_iort();
	/* With no scenario named, run those the boot's firmware allows. */
	if (argc <= 1 ? !acpi : gt_wanted(argc, argv, "smmuv3-dt-regs"))
		bad |= scenario_dt_regs();
	if (argc <= 1 ? !acpi : gt_wanted(argc, argv, "smmuv3-dt-iommu-map"))
		bad |= scenario_dt_iommu_map();
	if (argc <= 1 ? acpi : gt_wanted(argc, argv, "smmuv3-acpi-iort"))
		bad |= scenario_acpi_iort();
	return bad;
}
