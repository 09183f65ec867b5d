/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cache write-back (src/core/cachemaint.c): the method is chosen, the
 * instructions run on real memory, and every line a range touches is
 * written back exactly once, for aligned, unaligned and single-byte
 * ranges (seen through the test hook).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cachemaint.h"
#include "ut.h"

#define BUF_LINES 64u

static uint8_t buf[BUF_LINES * CACHE_WB_LINE] __attribute__((aligned(4096)));
static unsigned int hits[BUF_LINES];
static unsigned int strays; /* lines outside buf */

static void hook(const void *line)
{
	uintptr_t a = (uintptr_t)line, b = (uintptr_t)buf;

	if ((a & (CACHE_WB_LINE - 1)) || a < b || a >= b + sizeof(buf)) {
		strays++;
		return;
	}
	hits[(a - b) / CACHE_WB_LINE]++;
}

/* Write back [off, off + len) of buf; check each line it touches was
 * written back once and no other line at all; returns the count. */
static size_t check_range(size_t off, size_t len, bool fence)
{
	size_t first = off / CACHE_WB_LINE, last = len ? (off + len - 1) / CACHE_WB_LINE : 0;
	size_t n;
	bool ok = true;

	memset(hits, 0, sizeof(hits));
	strays = 0;
	cache_wb_test_hook = hook;
	n = fence ? cache_wb_range(buf + off, len) : cache_wb_lines(buf + off, len);
	cache_wb_test_hook = NULL;
	for (size_t i = 0; i < BUF_LINES; i++) {
		unsigned int want = len && i >= first && i <= last ? 1 : 0;

		if (hits[i] != want)
			ok = false;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(strays, 0);
	CU_ASSERT_EQUAL(n, len ? last - first + 1 : 0);
	return n;
}

static void test_method(void)
{
	cache_wb_init();
	cache_wb_init(); /* idempotent */
	CU_ASSERT_PTR_NOT_NULL(cache_wb_method_name());
#if defined(__x86_64__)
	/* Every x86-64 CPU has CLFLUSH (SSE2). */
	CU_ASSERT(cache_wb_method == CACHE_WB_CLFLUSH || cache_wb_method == CACHE_WB_CLFLUSHOPT ||
		  cache_wb_method == CACHE_WB_CLWB);
#elif defined(__aarch64__)
	CU_ASSERT_EQUAL(cache_wb_method, CACHE_WB_DC_CVAC);
	{
		/* CTR_EL0.DminLine [19:16]: log2 of the smallest data cache line in
		 * 4-byte words.  Each CACHE_WB_LINE block gets one DC CVAC per
		 * line of that size (QEMU's "max" CPU: 32 bytes), at most one
		 * per block. */
		uint64_t ctr;
		unsigned int dline;

		__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
		dline = 4u << ((ctr >> 16) & 0xf);
		printf("\n    CTR_EL0=0x%llx: smallest D-line %u bytes, DC CVAC every %u bytes\n",
		       (unsigned long long)ctr, dline, cache_wb_dline);
		CU_ASSERT_EQUAL(cache_wb_dline, dline < CACHE_WB_LINE ? dline : CACHE_WB_LINE);
		CU_ASSERT(cache_wb_dline >= 4 && (cache_wb_dline & (cache_wb_dline - 1)) == 0);
		CU_ASSERT_EQUAL(CACHE_WB_LINE % cache_wb_dline, 0);
	}
#endif
}

/* The instructions run on real memory and the data stays what it was. */
static void test_runs(void)
{
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	CU_ASSERT_EQUAL(cache_wb_range(buf, sizeof(buf)), BUF_LINES);
	cache_wb_fence();
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != (uint8_t)(i * 7)) {
			CU_FAIL("data changed by the write-back");
			break;
		}
}

static void test_aligned(void)
{
	check_range(0, CACHE_WB_LINE, true);	       /* one whole line */
	check_range(CACHE_WB_LINE, 4 * CACHE_WB_LINE, true); /* four whole lines */
	check_range(0, sizeof(buf), false);		       /* everything */
	check_range(0, 0, true);			       /* nothing */
}

static void test_unaligned(void)
{
	CU_ASSERT_EQUAL(check_range(5, 130, true), 3); /* bytes 5..134: lines 0, 1, 2 */
	CU_ASSERT_EQUAL(check_range(63, 2, true), 2);  /* straddles one boundary */
	CU_ASSERT_EQUAL(check_range(64 + 17, 1, true), 1);
	CU_ASSERT_EQUAL(check_range(127, 1, false), 1);
	CU_ASSERT_EQUAL(check_range(8, 16, true), 1); /* two 8-byte entries in one line */
	CU_ASSERT_EQUAL(check_range(3 * 64 - 8, 16, false), 2); /* ... across two */
}

/* Random ranges against the line arithmetic. */
static void test_random(void)
{
	unsigned int s = 12345;

	for (int i = 0; i < 2000; i++) {
		size_t off, len;

		s = s * 1103515245u + 12345u;
		off = (s >> 8) % sizeof(buf);
		s = s * 1103515245u + 12345u;
		len = (s >> 8) % (sizeof(buf) - off + 1);
		check_range(off, len, i & 1);
	}
}

static const struct ut_test cachemaint_tests[] = {
	{"method", test_method},	 {"runs", test_runs},	  {"aligned", test_aligned},
	{"unaligned", test_unaligned}, {"random", test_random}, {NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"cachemaint", NULL, NULL, cachemaint_tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
