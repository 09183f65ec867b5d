/* SPDX-License-Identifier: BSD-3-Clause */
/* Cache maintenance for non-coherent table walkers (see cachemaint.h). */
#include <stdbool.h>

#include "core/cachemaint.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

enum cache_wb_method cache_wb_method = CACHE_WB_NONE;
unsigned int cache_wb_dline = CACHE_WB_LINE;
void (*cache_wb_test_hook)(const void *line);
void (*cache_inv_test_hook)(const void *line);

void cache_wb_init(void)
{
	static bool done;

	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return;
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;
	enum cache_wb_method m = CACHE_WB_NONE;

	/* CPUID.01H:EDX[19] CLFSH; CPUID.(07H,0):EBX[23] CLFLUSHOPT, [24] CLWB */
	if (__get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19)))
		m = CACHE_WB_CLFLUSH;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		if (b & (1u << 24))
			m = CACHE_WB_CLWB;
		else if (b & (1u << 23))
			m = CACHE_WB_CLFLUSHOPT;
	}
	cache_wb_method = m;
#elif defined(__aarch64__)
	uint64_t ctr;
	unsigned int dline;

	/* CTR_EL0.DminLine [19:16]: log2 of the smallest data cache line in
	 * 4-byte words (Arm ARM, CTR_EL0; Linux sets SCTLR_EL1.UCT so EL0 may
	 * read it, else it traps and the kernel emulates the read). */
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	dline = 4u << ((ctr >> 16) & 0xf);
	cache_wb_dline = dline < CACHE_WB_LINE ? dline : CACHE_WB_LINE;
	cache_wb_method = CACHE_WB_DC_CVAC;
#endif
	__atomic_store_n(&done, true, __ATOMIC_RELEASE);
}

/* Chosen when the library is loaded: nothing can write back a line before. */
__attribute__((constructor)) static void cache_wb_ctor(void)
{
	cache_wb_init();
}

const char *cache_wb_method_name(void)
{
	switch (cache_wb_method) {
	case CACHE_WB_CLWB:
		return "clwb";
	case CACHE_WB_CLFLUSHOPT:
		return "clflushopt";
	case CACHE_WB_CLFLUSH:
		return "clflush";
	case CACHE_WB_DC_CVAC:
		return "dc cvac";
	default:
		return "none";
	}
}

size_t cache_wb_range(const void *va, size_t len)
{
	size_t n = cache_wb_lines(va, len);

	if (n)
		cache_wb_fence();
	return n;
}

size_t cache_inv_range(const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va & ~(uintptr_t)(CACHE_WB_LINE - 1);
	uintptr_t end = (uintptr_t)va + len;
	size_t n = 0;

	if (!len)
		return 0;
	for (; a < end; a += CACHE_WB_LINE, n++) {
		if (cache_inv_test_hook)
			cache_inv_test_hook((const void *)a);
		cache_inv_line((const void *)a);
	}
#if defined(__aarch64__)
	__asm__ volatile("dsb sy" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("" ::: "memory"); /* DMA writes snoop: nothing to wait for */
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	return n;
}
