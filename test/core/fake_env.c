/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fake environment layer: only what the pure core code (rbtree, iopt)
 * needs from env/env.h.  Single-threaded.  Allocations are page aligned
 * and recorded page by page, so that uenv_is_meta / uenv_in_arena answer
 * as the arena's do (the IOVA engine's checker asks them).
 */
#include <stdlib.h>
#include <string.h>

#include "core/phash.h"
#include "fake_env.h"

#define FPAGE 4096u

static uint64_t g_live;
static uint64_t g_allocs;
static unsigned long g_fail_countdown; /* 0 = disarmed */
static bool g_fired;
/* page -> start of the allocation covering it; start -> its size */
static struct phash g_pages, g_sizes;

void fake_env_reset(void)
{
	g_live = 0;
	g_allocs = 0;
	g_fail_countdown = 0;
	g_fired = false;
}

void *uenv_zalloc(size_t size)
{
	size_t len;
	void *p;

	g_allocs++;
	if (g_fail_countdown && --g_fail_countdown == 0) {
		g_fired = true;
		return NULL;
	}
	if (!size)
		size = 1;
	len = (size + FPAGE - 1) / FPAGE * FPAGE;
	p = aligned_alloc(FPAGE, len);
	if (!p)
		return NULL;
	memset(p, 0, len);
	*phash_get(&g_sizes, (uint64_t)(uintptr_t)p, true, NULL) = size;
	for (size_t off = 0; off < len; off += FPAGE)
		*phash_get(&g_pages, (uint64_t)(uintptr_t)p + off, true, NULL) = (uint64_t)(uintptr_t)p;
	g_live++;
	return p;
}

void uenv_free(void *p)
{
	uint64_t *sz, *pg;

	if (!p)
		return;
	sz = phash_get(&g_sizes, (uint64_t)(uintptr_t)p, false, NULL);
	if (sz && *sz) {
		for (uint64_t off = 0; off < *sz; off += FPAGE)
			if ((pg = phash_get(&g_pages, (uint64_t)(uintptr_t)p + off, false, NULL)))
				*pg = 0;
		*sz = 0;
	}
	g_live--;
	free(p);
}

bool uenv_is_meta(const void *p, size_t size)
{
	uint64_t *sz = p ? phash_get(&g_sizes, (uint64_t)(uintptr_t)p, false, NULL) : NULL;

	return sz && *sz && size && size <= (*sz + FPAGE - 1) / FPAGE * FPAGE;
}

bool uenv_in_arena(const void *p, size_t size)
{
	uint64_t a = (uint64_t)(uintptr_t)p, *start, *sz;

	start = phash_get(&g_pages, a & ~(uint64_t)(FPAGE - 1), false, NULL);
	if (!start || !*start)
		return false;
	sz = phash_get(&g_sizes, *start, false, NULL);
	return sz && size <= (*sz + FPAGE - 1) / FPAGE * FPAGE &&
	       a - *start <= (*sz + FPAGE - 1) / FPAGE * FPAGE - size;
}

void uenv_fail_nth(unsigned long n)
{
	g_fail_countdown = n;
	g_fired = false;
}

bool uenv_fail_fired(void)
{
	return g_fired;
}

void uenv_get_stats(struct uenv_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->heap_live = g_live;
	st->allocs = g_allocs;
}
