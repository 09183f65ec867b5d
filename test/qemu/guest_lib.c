/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest-side helpers for the QEMU tests: see guest_lib.h. */
#include "guest_lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HUGE_2M	     (2u << 20)
#define EDU_BAR0_LEN (1u << 20)

/* ---- result lines ---- */

void gt_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void gt_result(const char *scenario, enum gt_status st, const char *fmt, ...)
{
	static const char *const names[] = {"PASS", "FAIL", "SKIP"};
	char details[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	/* One write per line so that kernel messages cannot split it. */
	printf("UIOMMU-RESULT %s %s %s\n", scenario, names[st], details);
	fflush(stdout);
}

const char *gt_arg_str(int argc, char **argv, const char *key, const char *def)
{
	size_t k = strlen(key);

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], key, k) && argv[i][k] == '=')
			return argv[i] + k + 1;
	return def;
}

unsigned int gt_arg_uint(int argc, char **argv, const char *key, unsigned int def)
{
	const char *v = gt_arg_str(argc, argv, key, NULL);

	return v ? (unsigned int)strtoul(v, NULL, 0) : def;
}

void gt_log(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s\n", msg);
	fflush(stdout);
}

bool gt_wanted(int argc, char **argv, const char *scenario)
{
	if (argc <= 1)
		return true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], scenario) == 0)
			return true;
	return false;
}

uint64_t gt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- small file helpers ---- */

static int read_file(const char *path, void *buf, size_t len, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (n < len) {
		ssize_t r = read(fd, (char *)buf + n, len - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*got = n;
	return ret;
}

static int read_hex(const char *path, unsigned long *val)
{
	char buf[64];
	size_t got;
	char *end;
	int ret = read_file(path, buf, sizeof(buf) - 1, &got);

	if (ret)
		return ret;
	buf[got] = '\0';
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/* ---- physical memory ---- */

void *gt_phys_map(uint64_t pa, size_t len)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	void *va;

	if (fd < 0)
		return NULL;
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pa);
	close(fd);
	return va == MAP_FAILED ? NULL : va;
}

void gt_phys_unmap(void *va, size_t len)
{
	if (va)
		munmap(va, len);
}

uint64_t gt_virt_to_phys(const void *va)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t vpn = (uint64_t)(uintptr_t)va / (uint64_t)psz;
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = pread(fd, &ent, sizeof(ent), (off_t)(vpn * sizeof(ent)));
	close(fd);
	if (r != (ssize_t)sizeof(ent) || !(ent & (1ull << 63)))
		return 0;
	ent &= (1ull << 55) - 1; /* PFN: bits 0..54 (0 without CAP_SYS_ADMIN) */
	if (!ent)
		return 0;
	return ent * (uint64_t)psz + (uint64_t)(uintptr_t)va % (uint64_t)psz;
}

int gt_huge_alloc(struct gt_huge *h)
{
	void *va = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);

	memset(h, 0, sizeof(*h));
	if (va == MAP_FAILED)
		return -errno;
	memset(va, 0, HUGE_2M); /* fault it in for sure */
	if (mlock(va, HUGE_2M) != 0)
		gt_log("mlock of the hugepage failed (%s); continuing", strerror(errno));
	h->pa = gt_virt_to_phys(va);
	if (!h->pa) {
		munmap(va, HUGE_2M);
		return -EIO;
	}
	h->va = va;
	h->len = HUGE_2M;
	return 0;
}

void gt_huge_free(struct gt_huge *h)
{
	if (h->va)
		munmap(h->va, h->len);
	memset(h, 0, sizeof(*h));
}

/* ---- ACPI DMAR ---- */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int gt_dmar_drhd_bases(uint64_t *bases, int max, unsigned int *haw)
{
	static uint8_t tbl[65536];
	size_t got, off, len;
	int n = 0;
	int ret = read_file("/sys/firmware/acpi/tables/DMAR", tbl, sizeof(tbl), &got);

	if (ret)
		return ret;
	/* ACPI header (36 bytes), HAW (1), flags (1), reserved (10). */
	if (got < 48 || memcmp(tbl, "DMAR", 4) != 0)
		return -EINVAL;
	len = le32(tbl + 4);
	if (len > got || len < 48)
		return -EINVAL;
	if (haw)
		*haw = tbl[36] + 1u;
	for (off = 48; off + 4 <= len;) {
		uint16_t type = le16(tbl + off);
		uint16_t slen = le16(tbl + off + 2);

		if (slen < 4 || off + slen > len)
			return -EINVAL;
		/* Type 0: DRHD; register base address at +8. */
		if (type == 0 && slen >= 16 && n < max)
			bases[n++] = le64(tbl + off + 8);
		off += slen;
	}
	return n;
}

/* ---- edu ---- */

static int edu_find(struct gt_edu *e)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char path[300];
		unsigned long ven, dev;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (read_hex(path, &ven) || ven != GT_EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (read_hex(path, &dev) || dev != GT_EDU_DEVICE)
			continue;
		if (strlen(de->d_name) >= sizeof(e->bdf))
			continue;
		memcpy(e->bdf, de->d_name, strlen(de->d_name) + 1);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

static int edu_map_bar0(struct gt_edu *e)
{
	char path[320];
	DIR *d;
	struct dirent *de;
	void *va;

	/* Preferred: uio_pci_generic's /dev/uioN, map 0 at offset 0. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", e->bdf);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "uio", 3) != 0)
				continue;
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			e->bar_fd = open(path, O_RDWR | O_CLOEXEC);
			break;
		}
		closedir(d);
	}
	if (e->bar_fd < 0) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", e->bdf);
		e->bar_fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
		if (e->bar_fd < 0)
			return -errno;
	}
	gt_log("edu %s BAR0 through %s", e->bdf, path);
	va = mmap(NULL, EDU_BAR0_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, e->bar_fd, 0);
	if (va == MAP_FAILED)
		return -errno;
	e->bar0 = va;
	e->bar0_len = EDU_BAR0_LEN;
	return 0;
}

int gt_edu_open(struct gt_edu *e)
{
	char path[300];
	unsigned int bus, dev, fn, dom;
	uint32_t id, live;
	int ret;

	memset(e, 0, sizeof(*e));
	e->cfg_fd = -1;
	e->bar_fd = -1;
	ret = edu_find(e);
	if (ret)
		return ret;
	if (sscanf(e->bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		ret = -EINVAL;
		goto out_close;
	}
	e->requester_id = (uint16_t)(bus << 8 | dev << 3 | fn);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", e->bdf);
	e->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (e->cfg_fd < 0) {
		ret = -errno;
		goto out_close;
	}
	/* With no driver bound (arm64 ACPI boots: devices behind the SMMU defer
	 * forever while its driver is blacklisted) nobody enabled memory
	 * decoding and BAR0 reads all ones: set PCI command bit 1 ourselves. */
	{
		uint16_t cmd;

		if (pread(e->cfg_fd, &cmd, 2, 4) == 2 && !(cmd & 0x2)) {
			cmd = (uint16_t)(cmd | 0x2);
			if (pwrite(e->cfg_fd, &cmd, 2, 4) != 2)
				gt_log("cannot enable memory decoding of edu: %s", strerror(errno));
		}
	}
	ret = edu_map_bar0(e);
	if (ret)
		goto out_close;
	id = gt_edu_read32(e, GT_EDU_REG_ID);
	if ((id & 0xff) != 0xed) {
		gt_log("edu identification register 0x%08x (expected 0x......ed)", id);
		ret = -ENODEV;
		goto out_close;
	}
	gt_edu_write32(e, GT_EDU_REG_LIVE, 0x12345678u);
	live = gt_edu_read32(e, GT_EDU_REG_LIVE);
	if (live != ~0x12345678u) {
		gt_log("edu liveness register 0x%08x (expected 0x%08x)", live, ~0x12345678u);
		ret = -EIO;
		goto out_close;
	}
	return 0;

out_close:
	gt_edu_close(e);
	return ret;
}

void gt_edu_close(struct gt_edu *e)
{
	if (e->bar0)
		munmap((void *)(uintptr_t)e->bar0, e->bar0_len);
	if (e->bar_fd >= 0)
		close(e->bar_fd);
	if (e->cfg_fd >= 0)
		close(e->cfg_fd);
	e->bar0 = NULL;
	e->bar_fd = -1;
	e->cfg_fd = -1;
}

int gt_edu_bus_master(struct gt_edu *e, bool on)
{
	uint16_t cmd;

	if (pread(e->cfg_fd, &cmd, 2, 4) != 2)
		return -EIO;
	cmd = on ? (uint16_t)(cmd | 0x4) : (uint16_t)(cmd & ~0x4);
	if (pwrite(e->cfg_fd, &cmd, 2, 4) != 2)
		return -EIO;
	return 0;
}

uint32_t gt_edu_read32(const struct gt_edu *e, unsigned int off)
{
	return *(const volatile uint32_t *)(e->bar0 + off);
}

uint64_t gt_edu_read64(const struct gt_edu *e, unsigned int off)
{
	return *(const volatile uint64_t *)(e->bar0 + off);
}

void gt_edu_write32(struct gt_edu *e, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(e->bar0 + off) = v;
}

void gt_edu_write64(struct gt_edu *e, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar0 + off) = v;
}

int gt_edu_dma(struct gt_edu *e, uint64_t iova, unsigned int buf_off, size_t len, bool to_ram,
	       unsigned int timeout_ms)
{
	uint64_t deadline;
	uint64_t buf = GT_EDU_BUF_ADDR + buf_off;

	/* Bad parameters kill the VM: refuse them here. */
	if (len == 0 || len > GT_EDU_DMA_MAX || buf_off + len > GT_EDU_DMA_MAX)
		return -EINVAL;
	if (gt_edu_read64(e, GT_EDU_REG_DMA_CMD) & GT_EDU_DMA_CMD_START)
		return -EBUSY;
	gt_edu_write64(e, GT_EDU_REG_DMA_SRC, to_ram ? buf : iova);
	gt_edu_write64(e, GT_EDU_REG_DMA_DST, to_ram ? iova : buf);
	gt_edu_write64(e, GT_EDU_REG_DMA_CNT, len);
	gt_edu_write64(e, GT_EDU_REG_DMA_CMD,
		       GT_EDU_DMA_CMD_START | (to_ram ? GT_EDU_DMA_CMD_TO_RAM : 0));
	/* edu runs the DMA from a 100 ms (virtual time) timer. */
	deadline = gt_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		if (!(gt_edu_read64(e, GT_EDU_REG_DMA_CMD) & GT_EDU_DMA_CMD_START))
			return 0;
		if (gt_now_ns() > deadline)
			break;
		usleep(1000);
	}
	gt_log("edu DMA %s iova 0x%llx len %zu timed out after %u ms",
	       to_ram ? "to RAM" : "from RAM", (unsigned long long)iova, len, timeout_ms);
	return -ETIMEDOUT;
}

int gt_system(const char *cmd, char *why, size_t why_len)
{
	int rc;

	gt_log("$ %s", cmd);
	fflush(stdout);
	rc = system(cmd);
	rc = rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
	if (rc)
		snprintf(why, why_len, "'%s' exited %d", cmd, rc);
	return rc;
}

/* ---- device tree ---- */

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A top-level node compatible with "arm,smmu-v3" (virt: /smmuv3@9050000),
 * root #address-cells = #size-cells = 2. */
int gt_dt_smmu_base(uint64_t *base)
{
	DIR *d = opendir("/proc/device-tree");
	struct dirent *e;
	int rc = -ENOENT;

	if (!d)
		return -errno;
	while (rc && (e = readdir(d))) {
		char path[320], buf[256];
		uint8_t reg[16];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/device-tree/%s/compatible", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0 || !memmem(buf, (size_t)n, "arm,smmu-v3", 11))
			continue;
		snprintf(path, sizeof(path), "/proc/device-tree/%s/reg", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, reg, sizeof(reg));
		close(fd);
		if (n == 16 && be64(reg) && !(be64(reg) & 0xfff)) {
			*base = be64(reg);
			gt_log("DT: %s at 0x%" PRIx64 " size 0x%" PRIx64, e->d_name, *base,
			       be64(reg + 8));
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}
