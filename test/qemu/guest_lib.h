/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest-side helpers for the QEMU tests (plain C, libc only, no DPDK).
 *
 * Runs inside the QEMU guest booted by scripts/qemu/run-guest.sh: /dev/mem,
 * /sys/firmware/acpi/tables/DMAR, edu (1234:11e8) bound to uio_pci_generic,
 * 2 MiB hugepages reserved by the initramfs /init.
 *
 * Result protocol (parsed by scripts/qemu/run-suite.sh): every scenario
 * prints exactly one line
 *
 *     UIOMMU-RESULT <scenario> PASS|FAIL|SKIP <details>
 *
 * on stdout.  Everything else a guest program prints should start with "# ".
 */
#ifndef UIOMMU_GUEST_LIB_H
#define UIOMMU_GUEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- result lines ---- */
enum gt_status { GT_PASS, GT_FAIL, GT_SKIP };

/** Make stdout line-buffered (call first in main). */
void gt_init(void);
/** Print "UIOMMU-RESULT <scenario> <status> <details>". */
void gt_result(const char *scenario, enum gt_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Print "# <message>". */
void gt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The value of a "KEY=VALUE" argument in argv[1..argc-1]: a number
 *  (strtoul base 0), or @def when there is none. */
unsigned int gt_arg_uint(int argc, char **argv, const char *key, unsigned int def);
/** The same as a string (NULL: @def). */
const char *gt_arg_str(int argc, char **argv, const char *key, const char *def);
/** True when @scenario is in argv[1..argc-1], or when argc <= 1 (run all). */
bool gt_wanted(int argc, char **argv, const char *scenario);
/** Monotonic clock in nanoseconds. */
uint64_t gt_now_ns(void);
/** Run @cmd with system(), logged as "# $ CMD".  Returns its exit status
 *  (128 when it did not exit); when not 0, @why receives "'CMD' exited N". */
int gt_system(const char *cmd, char *why, size_t why_len);

/* ---- physical memory ---- */
/** Map @len bytes of physical memory at @pa (page-aligned) through /dev/mem,
 *  uncached.  NULL on failure (errno set). */
void *gt_phys_map(uint64_t pa, size_t len);
void gt_phys_unmap(void *va, size_t len);
/** Physical address of @va from /proc/self/pagemap; 0 on failure. */
uint64_t gt_virt_to_phys(const void *va);

/** One 2 MiB hugepage, locked in place, zeroed. */
struct gt_huge {
	void *va;
	uint64_t pa;
	size_t len;
};
/** Allocate one 2 MiB hugepage (MAP_HUGETLB).  0 or negative errno. */
int gt_huge_alloc(struct gt_huge *h);
void gt_huge_free(struct gt_huge *h);

/* ---- ACPI DMAR (minimal scan; the real parser lives in src/fw/) ---- */
/** Register bases of up to @max DRHD structures; returns the count found
 *  (>= 0) or a negative errno.  *haw receives the host address width. */
int gt_dmar_drhd_bases(uint64_t *bases, int max, unsigned int *haw);
/* arm64: the base of the top-level device-tree node compatible with
 * "arm,smmu-v3" (virt: /smmuv3@9050000): 0 or -errno (-ENOENT: none). */
int gt_dt_smmu_base(uint64_t *base);

/* ---- edu (QEMU's educational PCI device, hw/misc/edu.c) ---- */
#define GT_EDU_VENDOR	      0x1234
#define GT_EDU_DEVICE	      0x11e8
#define GT_EDU_REG_ID	      0x00 /* RO: 0xRRrr00ed (major, minor, 0xed) */
#define GT_EDU_REG_LIVE	      0x04 /* RW: reads back the bitwise NOT */
#define GT_EDU_REG_DMA_SRC    0x80 /* 64-bit */
#define GT_EDU_REG_DMA_DST    0x88 /* 64-bit */
#define GT_EDU_REG_DMA_CNT    0x90 /* 64-bit */
#define GT_EDU_REG_DMA_CMD    0x98 /* 64-bit */
#define GT_EDU_DMA_CMD_START  0x1u
#define GT_EDU_DMA_CMD_TO_RAM 0x2u /* direction bit: edu buffer -> RAM */
#define GT_EDU_DMA_CMD_IRQ    0x4u
#define GT_EDU_BUF_ADDR	      0x40000u /* edu's internal buffer, in edu's space */
#define GT_EDU_BUF_SIZE	      4096u
/* 4096-byte transfers abort QEMU (see /work/shared/qemu/NOTES.md). */
#define GT_EDU_DMA_MAX 4095u

struct gt_edu {
	char bdf[32];		/* "0000:00:03.0" */
	volatile uint8_t *bar0; /* 1 MiB BAR0 mapping */
	size_t bar0_len;
	int cfg_fd;	       /* sysfs config file */
	int bar_fd;	       /* /dev/uioN or sysfs resource0 */
	uint16_t requester_id; /* bus << 8 | devfn */
};

/** Find edu, map BAR0 (via /dev/uioN, else sysfs resource0), check the
 *  identification and liveness registers.  0 or negative errno. */
int gt_edu_open(struct gt_edu *e);
void gt_edu_close(struct gt_edu *e);
/** Set or clear PCI command bit 2 (bus master).  0 or negative errno. */
int gt_edu_bus_master(struct gt_edu *e, bool on);
uint32_t gt_edu_read32(const struct gt_edu *e, unsigned int off);
uint64_t gt_edu_read64(const struct gt_edu *e, unsigned int off);
void gt_edu_write32(struct gt_edu *e, unsigned int off, uint32_t v);
void gt_edu_write64(struct gt_edu *e, unsigned int off, uint64_t v);
/**
 * DMA between RAM bus address @iova and edu's buffer at @buf_off (0..4095).
 * @to_ram: true = edu buffer -> RAM (device writes memory), false = RAM ->
 * edu buffer (device reads memory).  @len <= GT_EDU_DMA_MAX.  Polls the
 * command register's start bit for at most @timeout_ms.
 * Returns 0, -EINVAL (bad arguments, nothing started) or -ETIMEDOUT.
 * A faulting DMA still completes from edu's point of view: check the data.
 */
int gt_edu_dma(struct gt_edu *e, uint64_t iova, unsigned int buf_off, size_t len, bool to_ram,
	       unsigned int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
