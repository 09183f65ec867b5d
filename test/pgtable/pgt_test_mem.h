/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fake table memory for the page-table tests: a pool of 4 KiB pages whose
 * "physical" address is a fixed offset from a fake base (so pa != va), or
 * equal to the virtual address (identity mode).  Any allocation can be made
 * to fail (fail-nth); freed pages are poisoned so a use-after-free in the
 * engine shows up as a wrong translation or a crash.
 */
#ifndef UIOMMU_PGT_TEST_MEM_H
#define UIOMMU_PGT_TEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtable/pgtable.h"

#define TMEM_FAKE_BASE 0x0000004000000000ULL /* 256 GiB: well inside a 48-bit OA */
#define TMEM_POISON    0xa5

struct tmem {
	uint8_t *base;
	size_t nr_pages;
	uint32_t *free_stack; /* indices of free pages */
	size_t nr_free;
	bool identity;	   /* pa == va */
	uint64_t nr_calls; /* alloc_page calls so far */
	uint64_t fail_at;  /* fail the call whose number this is (0: never) */
	size_t live;	   /* pages currently handed out */
	uint16_t *counts;  /* page_count slots (tmem_ops_counted) */
	uint64_t gen;	   /* span generation (tmem_ops_span) */
	uint64_t nr_span;  /* span calls so far */
	uint8_t *live_map; /* per page: handed out (tmem_table_va) */
};

/* Spans handed to the engine: 2 MiB (512-page) pieces of the pool. */
#define TMEM_SPAN_PAGES 512u

#define TMEM_COUNT_POISON 0xdeadu /* a slot the engine has not initialised */

static inline uint64_t tmem_pa(const struct tmem *m, const void *va)
{
	if (m->identity)
		return (uint64_t)(uintptr_t)va;
	return TMEM_FAKE_BASE + (uint64_t)((const uint8_t *)va - m->base);
}

static void *tmem_alloc(void *cookie, int node, uint64_t *pa)
{
	struct tmem *m = cookie;
	uint8_t *va;

	(void)node;
	m->nr_calls++;
	if (m->fail_at && m->nr_calls == m->fail_at)
		return NULL;
	if (m->nr_free == 0)
		return NULL;
	va = m->base + ((size_t)m->free_stack[--m->nr_free] << 12);
	memset(va, 0, 4096);
	m->counts[(size_t)(va - m->base) >> 12] = TMEM_COUNT_POISON;
	m->live_map[(size_t)(va - m->base) >> 12] = 1;
	m->live++;
	*pa = tmem_pa(m, va);
	return va;
}

static void tmem_free(void *cookie, void *va)
{
	struct tmem *m = cookie;
	size_t idx = (size_t)((uint8_t *)va - m->base) >> 12;

	if ((uint8_t *)va < m->base || idx >= m->nr_pages || ((uintptr_t)va & 4095)) {
		fprintf(stderr, "tmem: bad free %p\n", va);
		abort();
	}
	memset(va, TMEM_POISON, 4096);
	m->counts[idx] = TMEM_COUNT_POISON;
	m->live_map[idx] = 0;
	m->free_stack[m->nr_free++] = (uint32_t)idx;
	m->live--;
}

/* The engine says this page is all zero (an emptied table): check it. */
static __attribute__((unused)) void tmem_free_zeroed(void *cookie, void *va)
{
	const uint64_t *w = va;

	for (unsigned int i = 0; i < 512; i++) {
		if (w[i]) {
			fprintf(stderr, "tmem: page %p freed as zeroed has word %u = 0x%llx\n", va,
				i, (unsigned long long)w[i]);
			abort();
		}
	}
	tmem_free(cookie, va);
}

static void *tmem_pa_to_va(void *cookie, uint64_t pa)
{
	struct tmem *m = cookie;

	if (m->identity)
		return (void *)(uintptr_t)pa;
	if (pa < TMEM_FAKE_BASE || pa - TMEM_FAKE_BASE >= (uint64_t)m->nr_pages << 12) {
		fprintf(stderr, "tmem: pa 0x%llx outside the pool\n", (unsigned long long)pa);
		abort();
	}
	return m->base + (pa - TMEM_FAKE_BASE);
}

static __attribute__((unused)) uint16_t *tmem_page_count(void *cookie, void *va)
{
	struct tmem *m = cookie;
	size_t idx = (size_t)((uint8_t *)va - m->base) >> 12;

	if ((uint8_t *)va < m->base || idx >= m->nr_pages) {
		fprintf(stderr, "tmem: page_count(%p) outside the pool\n", va);
		abort();
	}
	return &m->counts[idx];
}

/* The pool in 2 MiB spans (the last may be shorter), like the arena's
 * chunks.  A test may bump m->gen to make the engine forget them. */
static __attribute__((unused)) int tmem_span(void *cookie, uint64_t pa, struct pgt_mem_span *out)
{
	struct tmem *m = cookie;
	uint8_t *va = tmem_pa_to_va(cookie, pa);
	size_t idx = (size_t)(va - m->base) >> 12;
	size_t first = idx - idx % TMEM_SPAN_PAGES;
	size_t n = m->nr_pages - first < TMEM_SPAN_PAGES ? m->nr_pages - first : TMEM_SPAN_PAGES;

	m->nr_span++;
	out->va = m->base + (first << 12);
	out->pa = tmem_pa(m, out->va);
	out->len = (uint64_t)n << 12;
	out->cnt = &m->counts[first];
	out->gen = &m->gen;
	out->gen_val = m->gen;
	return 0;
}

/* pgt_check: the live page at @pa, or NULL (never aborts: it is asked
 * about addresses read from tables). */
static __attribute__((unused)) void *tmem_table_va(void *cookie, uint64_t pa)
{
	struct tmem *m = cookie;
	uint64_t off = m->identity ? pa - (uint64_t)(uintptr_t)m->base : pa - TMEM_FAKE_BASE;

	if ((pa & 4095) || off >= (uint64_t)m->nr_pages << 12 || !m->live_map[off >> 12])
		return NULL;
	return m->base + off;
}

/* Without a page_count op: the engine scans tables for emptiness. */
static const struct pgt_mem_ops tmem_ops = {
	.alloc_page = tmem_alloc,
	.free_page = tmem_free,
	.pa_to_va = tmem_pa_to_va,
};

/* With one: the engine keeps a count of present entries per table. */
static __attribute__((unused)) const struct pgt_mem_ops tmem_ops_counted = {
	.alloc_page = tmem_alloc,
	.free_page = tmem_free,
	.free_zeroed_page = tmem_free_zeroed,
	.pa_to_va = tmem_pa_to_va,
	.page_count = tmem_page_count,
};

/* With counts and spans: the fast paths the env arena gives the engine
 * (translation without a call per level, the reserve of emptied tables). */
static __attribute__((unused)) const struct pgt_mem_ops tmem_ops_span = {
	.alloc_page = tmem_alloc,
	.free_page = tmem_free,
	.free_zeroed_page = tmem_free_zeroed,
	.pa_to_va = tmem_pa_to_va,
	.page_count = tmem_page_count,
	.span = tmem_span,
	.table_va = tmem_table_va,
};

static inline int tmem_init(struct tmem *m, size_t nr_pages, bool identity)
{
	memset(m, 0, sizeof(*m));
	m->base = aligned_alloc(4096, nr_pages << 12);
	m->free_stack = calloc(nr_pages, sizeof(*m->free_stack));
	m->counts = calloc(nr_pages, sizeof(*m->counts));
	m->live_map = calloc(nr_pages, 1);
	if (!m->base || !m->free_stack || !m->counts || !m->live_map) {
		free(m->base);
		free(m->free_stack);
		free(m->counts);
		free(m->live_map);
		return -1;
	}
	m->nr_pages = nr_pages;
	m->identity = identity;
	/* Hand out low addresses first (a stack: push in reverse). */
	for (size_t i = 0; i < nr_pages; i++)
		m->free_stack[i] = (uint32_t)(nr_pages - 1 - i);
	m->nr_free = nr_pages;
	return 0;
}

static inline void tmem_fini(struct tmem *m)
{
	free(m->base);
	free(m->free_stack);
	free(m->counts);
	free(m->live_map);
	memset(m, 0, sizeof(*m));
}

#endif
