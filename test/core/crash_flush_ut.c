/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kill -9 between a table change and its invalidation, outside a
 * transaction.  A holder killed after the tables were changed consistently
 * (here: an unmap's PTE cleared and its area removed, as uiommu_ioas_unmap
 * leaves them once its flush is issued; a detach whose context entry is
 * cleared is the same case) but before the unit confirmed the
 * invalidation leaves a state that checks clean while the unit may still
 * cache the old translation.  The next process to take the lock (adopting
 * the state, or a peer that has it open) must invalidate the unit's caches
 * before anything follows: a new map of the same IOVA to other memory is
 * then reached through the new PTE, not the stale IOTLB entry.  On each
 * family's model (they really cache).  A holder killed with the area
 * removed but the PTE still there (a state no API call leaves: the
 * translations go first) is an inconsistency the check reports.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "core/core.h"
#include "uiommu/uiommu.h"

#define IOVA 0x100000ull

static char name[64];
static enum uiommu_family family;

static struct uiommu_env_opts opts(bool create)
{
	return (struct uiommu_env_opts){
		.backend = UIOMMU_MEM_SHARED_SHM, .name = name, .create = create};
}

static int dma_read(struct uiommu_ctx *ctx, uint64_t iova, uint8_t *b)
{
	struct uiommu_event ev[16];
	int rc =
		uiommu_model_dma(uiommu_device_next(ctx, NULL), UIOMMU_NO_PASID, iova, b, 1, false);

	while (uiommu_poll(ctx, ev, 16) > 0) /* drain what a fault recorded */
		;
	return rc;
}

/* One model unit, one device attached to an IOAS; IOVA (and the page
 * after the next, so the leaf table stays) mapped to page 0 of a buffer
 * whose page 1 holds another pattern; a DMA through IOVA caches it. */
static uint64_t make_state(void)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_unit_desc ud = {
		.family = family, .access = UIOMMU_UNIT_MODEL, .numa_node = -1};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x10, .hw_id = 0x10};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *s;
	uint64_t bus, iova;
	uint8_t *va, b = 0;

	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &d) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &s) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(s), NULL) == 0);
	CU_ASSERT_FATAL(uiommu_buf_alloc(ctx, 2 * 4096, (void **)&va, &bus) == 0);
	va[0] = 0xa1;
	va[4096] = 0xb2;
	for (uint64_t off = 0; off <= 0x2000; off += 0x2000) {
		iova = IOVA + off;
		CU_ASSERT_FATAL(uiommu_ioas_map(s, &iova, bus, 4096,
						UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
							UIOMMU_MAP_FIXED_IOVA) == 0);
	}
	CU_ASSERT_FATAL(dma_read(ctx, IOVA, &b) == 0);
	CU_ASSERT_FATAL(b == 0xa1);
	uiommu_ctx_detach(ctx);
	return bus;
}

/* The unmap of IOVA without its invalidation: PTE cleared (unless
 * !@clear), area out of the tree, then SIGKILL before any flush. */
static void __attribute__((noreturn)) die_before_flush(struct uiommu_ctx *ctx, bool clear)
{
	struct uiommu_ioas *s = uiommu_ioas_next(ctx, NULL);
	struct pgt_gather g = {0};
	struct uiommu_hwpt *h;
	struct iopt_area *a;

	if (!s || uiommu_ctx_lock(ctx, 5000, NULL))
		_exit(11);
	if (iopt_find_exact(&s->iopt, IOVA, IOVA + 4095, &a) != 0 || list_empty(&s->hwpts))
		_exit(12);
	h = list_entry(s->hwpts.next, struct uiommu_hwpt, ioas_link);
	if (clear && pgt_unmap(h->pgt, IOVA, 4096, &g) != 4096)
		_exit(13);
	iopt_remove(&s->iopt, a);
	kill(getpid(), SIGKILL);
	_exit(14);
}

static void reap_killed(pid_t pid)
{
	int status;

	CU_ASSERT_FATAL(pid >= 0);
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	if (!WIFSIGNALED(status))
		fprintf(stderr, "  child exited with %d\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CU_ASSERT_FATAL(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* After the death: the state checks clean, IOVA is free; mapped again to
 * page 1, a DMA reads page 1's pattern. */
static void check_after(struct uiommu_ctx *ctx, uint64_t bus)
{
	struct uiommu_ioas *s = uiommu_ioas_next(ctx, NULL);
	uint64_t iova = IOVA;
	uint8_t b = 0;

	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_map(s, &iova, bus + 4096, 4096,
					UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(dma_read(ctx, IOVA, &b) == 0);
	if (b != 0xb2)
		fprintf(stderr, "  DMA at 0x%llx read 0x%02x: the stale translation\n",
			(unsigned long long)IOVA, b);
	CU_ASSERT(b == 0xb2);
}

/* The next process adopts the state the dead one left. */
static void adopt_after_death(enum uiommu_family fam, const char *tag)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	uint64_t bus;
	pid_t pid;

	family = fam;
	snprintf(name, sizeof(name), "crashflush-%s-a-%d", tag, (int)getpid());
	bus = make_state();
	pid = fork();
	if (pid == 0) {
		if (uiommu_ctx_create(&o, &ctx))
			_exit(10);
		die_before_flush(ctx, true);
	}
	reap_killed(pid);
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	check_after(ctx, bus);
	uiommu_ctx_destroy(ctx);
}

/* A peer that has the state open takes the lock next. */
static void peer_after_death(enum uiommu_family fam, const char *tag)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	uint64_t bus;
	pid_t pid;

	family = fam;
	snprintf(name, sizeof(name), "crashflush-%s-p-%d", tag, (int)getpid());
	bus = make_state();
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	pid = fork();
	if (pid == 0)
		die_before_flush(ctx, true); /* the same mapping, another process */
	reap_killed(pid);
	check_after(ctx, bus);
	uiommu_ctx_destroy(ctx);
}

/* Killed before the table is cleared: a PTE without an area.  Adoption
 * is refused (the check finds it); a peer that has the state open goes on,
 * but the IOVA is not mapped again over the stale PTE (a DMA there never
 * reaches the memory the refused map named). */
static void test_before_clear(void)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	uint64_t bus, iova = IOVA;
	uint8_t b = 0;
	pid_t pid;

	family = UIOMMU_FAMILY_VTD;
	snprintf(name, sizeof(name), "crashflush-clear-%d", (int)getpid());
	bus = make_state();
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	pid = fork();
	if (pid == 0)
		die_before_flush(ctx, false);
	reap_killed(pid);
	CU_ASSERT(uiommu_ioas_map(uiommu_ioas_next(ctx, NULL), &iova, bus + 4096, 4096,
				  UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA) == -EEXIST);
	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) > 0);
	/* (The old page, or a fault once the stale PTE is cleared: never
	 * the page the refused map named.) */
	(void)dma_read(ctx, IOVA, &b);
	CU_ASSERT(b != 0xb2);
	uiommu_ctx_detach(ctx);
	CU_ASSERT(uiommu_ctx_create(&o, &ctx) == -EUCLEAN);
	CU_ASSERT(uiommu_state_remove(&o) == 0);
}

static void test_adopt_vtd(void)
{
	adopt_after_death(UIOMMU_FAMILY_VTD, "vtd");
}
static void test_peer_vtd(void)
{
	peer_after_death(UIOMMU_FAMILY_VTD, "vtd");
}
static void test_adopt_smmuv3(void)
{
	adopt_after_death(UIOMMU_FAMILY_SMMUV3, "smmu");
}
static void test_peer_smmuv3(void)
{
	peer_after_death(UIOMMU_FAMILY_SMMUV3, "smmu");
}
static void test_adopt_amdvi(void)
{
	adopt_after_death(UIOMMU_FAMILY_AMDVI, "amd");
}
static void test_peer_amdvi(void)
{
	peer_after_death(UIOMMU_FAMILY_AMDVI, "amd");
}

int main(int argc, char **argv)
{
	static const struct ut_test tests[] = {
		{"vtd_adopt_after_death_before_flush", test_adopt_vtd},
		{"vtd_peer_after_death_before_flush", test_peer_vtd},
		{"smmuv3_adopt_after_death_before_flush", test_adopt_smmuv3},
		{"smmuv3_peer_after_death_before_flush", test_peer_smmuv3},
		{"amdvi_adopt_after_death_before_flush", test_adopt_amdvi},
		{"amdvi_peer_after_death_before_flush", test_peer_amdvi},
		{"vtd_death_before_clear", test_before_clear},
		{NULL, NULL},
	};
	static const struct ut_suite suites[] = {
		{"crash_flush", NULL, NULL, tests},
		{NULL, NULL, NULL, NULL},
	};

	return ut_main(suites, argc, argv);
}
