/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cache maintenance for IOMMU table walkers that do not snoop the CPU's
 * caches (VT-d ECAP.C / SMPWC clear, SMMUv3 IDR0.COHACC clear, AMD-Vi
 * without coherent table walks): after the CPU writes a table entry, the
 * lines holding it are written back to memory, then a fence orders the
 * write-backs before whatever tells the hardware (an invalidation, a
 * doorbell).  One routine for the page-table engine (src/pgtable) and
 * every driver.
 *
 *  x86:   CLWB (writes back, keeps the line), else CLFLUSHOPT, else
 *         CLFLUSH, chosen once from CPUID; each is ordered after earlier
 *         stores to its line; then SFENCE orders them before later stores.
 *  arm64: DC CVAC per line (clean to the point of coherency), then DSB SY
 *         (the walker is a system observer: the barrier Linux's
 *         dcache_clean_poc ends with).  Lines are counted in CACHE_WB_LINE
 *         blocks everywhere; a CPU whose smallest data cache line
 *         (CTR_EL0.DminLine) is shorter gets one DC CVAC per line of the
 *         block (QEMU's "max" CPU reports 32-byte lines).
 *  other: a full memory fence only.
 *
 * Pure CPU code: no environment layer, no locks.  The method is chosen
 * when the library is loaded (and again, idempotently, by cache_wb_init).
 */
#ifndef UIOMMU_CACHEMAINT_H
#define UIOMMU_CACHEMAINT_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_WB_LINE 64u /* bytes per line written back (x86, and arm64 CTR_EL0.DminLine = 64) */

enum cache_wb_method {
	CACHE_WB_NONE = 0, /* nothing known: compiler barrier per line */
	CACHE_WB_CLFLUSH,
	CACHE_WB_CLFLUSHOPT,
	CACHE_WB_CLWB,
	CACHE_WB_DC_CVAC,
};

/* Chosen by cache_wb_init() (CPUID on x86). */
extern enum cache_wb_method cache_wb_method;
/* arm64: bytes between the DC CVACs within one CACHE_WB_LINE block: the
 * CPU's smallest data cache line (CTR_EL0.DminLine), at most
 * CACHE_WB_LINE; set by cache_wb_init(), CACHE_WB_LINE before. */
extern unsigned int cache_wb_dline;
void cache_wb_init(void);
/* "clwb", "clflushopt", "clflush", "dc cvac" or "none". */
const char *cache_wb_method_name(void);

/* Tests: called with the address of every line cache_wb_lines() writes
 * back (NULL: nothing is called). */
extern void (*cache_wb_test_hook)(const void *line);

/* Write back the line holding @addr (no fence). */
static inline void cache_wb_line(const void *addr)
{
#if defined(__x86_64__) || defined(__i386__)
	switch (cache_wb_method) {
	case CACHE_WB_CLWB:
		__asm__ volatile("clwb %0" : "+m"(*(volatile char *)addr));
		break;
	case CACHE_WB_CLFLUSHOPT:
		__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)addr));
		break;
	case CACHE_WB_CLFLUSH:
		__asm__ volatile("clflush %0" : "+m"(*(volatile char *)addr));
		break;
	default:
		__asm__ volatile("" ::: "memory");
		break;
	}
#elif defined(__aarch64__)
	/* Every CPU line of the block holding @addr; the block never crosses
	 * a page, so no address here is outside @addr's page. */
	const char *blk = (const char *)((uintptr_t)addr & ~(uintptr_t)(CACHE_WB_LINE - 1));

	for (unsigned int o = 0; o < CACHE_WB_LINE; o += cache_wb_dline)
		__asm__ volatile("dc cvac, %0" ::"r"(blk + o) : "memory");
#else
	(void)addr;
	__asm__ volatile("" ::: "memory");
#endif
}

/* Order every earlier write-back before later stores (the doorbell). */
static inline void cache_wb_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ volatile("dsb sy" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Write back every line [va, va + len) touches, each once, without the
 * fence (callers writing several ranges fence once); returns how many. */
static inline size_t cache_wb_lines(const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va & ~(uintptr_t)(CACHE_WB_LINE - 1);
	uintptr_t end = (uintptr_t)va + len;
	size_t n = 0;

	if (!len)
		return 0;
	for (; a < end; a += CACHE_WB_LINE, n++) {
		if (__builtin_expect(cache_wb_test_hook != NULL, 0))
			cache_wb_test_hook((const void *)a);
		cache_wb_line((const void *)a);
	}
	return n;
}

/* cache_wb_lines() then the fence: what a driver does after writing one
 * entry or table the walker reads.  Returns the number of lines. */
size_t cache_wb_range(const void *va, size_t len);

/* ---- the other direction: reading what a non-coherent device wrote ----
 *
 * Before the CPU reads memory a device that does not snoop wrote (SMMUv3
 * EVTQ/PRIQ records with IDR0.COHACC 0), the lines are invalidated so the
 * read misses and fetches from memory (a line the CPU had cached earlier,
 * or prefetched, would show the old contents).
 *
 *  arm64: DC CIVAC per line (clean and invalidate to the point of
 *         coherency: DC IVAC is EL1-only, and the CPU never wrote these
 *         lines, so the clean half writes nothing back), then DSB SY so
 *         the loads come after.  Linux's dcache_inval_poc for DMA from a
 *         device likewise.
 *  x86:   nothing to do: every DMA write snoops the CPU caches (a device
 *         cannot bypass cache coherency on x86 for write-back memory), so
 *         a compiler barrier only.
 *  other: a full memory fence only.
 */

/* Tests: called with the address of every line cache_inv_range() handles. */
extern void (*cache_inv_test_hook)(const void *line);

/* Invalidate the line (CACHE_WB_LINE block) holding @addr (no fence). */
static inline void cache_inv_line(const void *addr)
{
#if defined(__aarch64__)
	const char *blk = (const char *)((uintptr_t)addr & ~(uintptr_t)(CACHE_WB_LINE - 1));

	for (unsigned int o = 0; o < CACHE_WB_LINE; o += cache_wb_dline)
		__asm__ volatile("dc civac, %0" ::"r"(blk + o) : "memory");
#else
	(void)addr;
	__asm__ volatile("" ::: "memory");
#endif
}

/* Invalidate every line [va, va + len) touches, then the barrier that
 * orders the later loads: returns the number of lines. */
size_t cache_inv_range(const void *va, size_t len);

#endif
