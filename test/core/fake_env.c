/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fake environment layer: only what the pure core code (rbtree, iopt)
 * needs from core/env.h.  Single-threaded.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"

static uint64_t g_live;
static uint64_t g_allocs;
static unsigned long g_fail_countdown; /* 0 = disarmed */
static bool g_fired;

void fake_env_reset(void)
{
	g_live = 0;
	g_allocs = 0;
	g_fail_countdown = 0;
	g_fired = false;
}

void *uenv_zalloc(size_t size)
{
	void *p;

	g_allocs++;
	if (g_fail_countdown && --g_fail_countdown == 0) {
		g_fired = true;
		return NULL;
	}
	p = calloc(1, size ? size : 1);
	if (p)
		g_live++;
	return p;
}

void uenv_free(void *p)
{
	if (!p)
		return;
	g_live--;
	free(p);
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
