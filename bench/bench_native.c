/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Native benchmark: uiommu's public API on the built-in VT-d
 * model, no QEMU.  uiommu_ctx_create(NULL) (DPDK backend, EAL --no-huge),
 * uiommu_unit_add(UIOMMU_UNIT_MODEL, VTD), one device, one IOAS, attach,
 * then timed loops:
 *
 *   map4k    N maps of 4 KiB at consecutive IOVAs (fixed IOVA)
 *   unmap4k  the same N pages unmapped one by one (strict: each unmap
 *            invalidates and waits)
 *   pair4k   map + unmap of one 4 KiB page at one IOVA, N times
 *   map2m / unmap2m / pair2m   the same with 2 MiB pages
 *   batch    256 separate 4 KiB maps + one range unmap (per batch)
 *   auto4k   N maps of 4 KiB with an automatically chosen IOVA
 *   autoun   unmap of those
 *
 * For each: ns/op (median of the repetitions), the model's share (time
 * spent inside the model's register hooks, which is where the model does
 * the hardware's work: queue processing, IOTLB invalidation, wait status
 * write), ns/op without it, and the invalidation work per op from the
 * model's counters (vtd_model_get_stats: descriptors, waits) and the
 * driver's (descriptors submitted, register invalidations).
 *
 *   bench-native [--cfg MODELCFG] [--n N] [--reps R] [--only NAME] [--no-shim | --null-queue]
 *
 * Instructions per op: run under callgrind with collection limited to one
 * loop function (bench_loop_<name>; see docs/performance.md):
 *   valgrind --tool=callgrind --collect-atstart=no \
 *       --toggle-collect=bench_loop_map4k ./bench-native --only map4k --reps 1
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uiommu/uiommu.h"

/* Test hooks: the model's counters and the driver's, through the in-tree
 * headers (the benchmark is built inside the tree). */
#include "core/core.h"
#include "hw/vtd/vtd_internal.h"
#include "model/vtd/vtd_model.h"

#define PG_4K	  4096ull
#define PG_2M	  (2ull << 20)
#define BATCH	  256u
#define IOVA_BASE 0x100000000ull /* 4 GiB: clear of the MSI window */
#define RW	  (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE)
#define MAXREPS	  64

static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_device *dev;
static struct uiommu_ioas *ioas;
static uint8_t *buf; /* 4 MiB, 2 MiB aligned: the "physical" memory (IOVA = VA) */
static uint64_t *autoiova;

/* ---- time ---- */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ticks(void)
{
	return __rdtsc();
}
#else
static inline uint64_t ticks(void)
{
	return now_ns();
}
#endif
static double ns_per_tick = 1.0;
static double tick_overhead; /* ticks of one empty start/stop pair */

static void calibrate(void)
{
	uint64_t t0 = now_ns(), c0 = ticks(), t1, c1;
	uint64_t best = UINT64_MAX;

	do {
		t1 = now_ns();
	} while (t1 - t0 < 50000000ull);
	c1 = ticks();
	ns_per_tick = (double)(t1 - t0) / (double)(c1 - c0);
	for (int i = 0; i < 1000; i++) {
		uint64_t a = ticks(), b = ticks();

		if (b - a < best)
			best = b - a;
	}
	tick_overhead = (double)best;
}

/* ---- the model's share: time inside its register hooks ---- */
static const struct uiommu_model_io *real_io;
static uint64_t model_ticks, model_calls;

static uint64_t timed_read(void *m, uint32_t off, unsigned int size)
{
	uint64_t t = ticks(), v = real_io->read(m, off, size);

	model_ticks += ticks() - t;
	model_calls++;
	return v;
}

static void timed_write(void *m, uint32_t off, uint64_t val, unsigned int size)
{
	uint64_t t = ticks();

	real_io->write(m, off, val, size);
	model_ticks += ticks() - t;
	model_calls++;
}

static const struct uiommu_model_io timed_io = {.read = timed_read, .write = timed_write};
static bool shim_on = true;

/*
 * ---- --null-queue: hardware that does its work in no time ----
 * Subtracting the time measured inside the model's hooks leaves the cost of
 * the measurement itself (two TSC reads per hook call, ~15-20 ns here) in
 * "excl".  This mode measures uiommu alone instead: the register hooks
 * complete every submitted descriptor at once without the model (no IOTLB
 * scan): IQH follows each IQT write and each wait descriptor's status is
 * written.  ns/op then measures uiommu's own time plus this stub's
 * few instructions (nullq_write; callgrind shows them apart).  Installed
 * after the DMA check (which needs the real model) and never taken out: the
 * model's queue state no longer matches the driver's, so the unit is not
 * torn down afterwards.
 */
static bool nullq;
static uint64_t nq_iqh, nq_qsize, nq_spa = UINT64_MAX;
static uint8_t *nq_base;
static unsigned int nq_shift;
static uint32_t *nq_status;

static uint64_t nullq_read(void *m, uint32_t off, unsigned int size)
{
	if (off == VTD_REG_IQH)
		return nq_iqh;
	return real_io->read(m, off, size);
}

/* Descriptors [h, tail): each wait with SW set stores its data.  @fast:
 * leave for the slow version (a tail call) at a status address not seen
 * before, so that the common case keeps no registers across a call. */
static __attribute__((noinline)) void nullq_run_slow(uint64_t h, uint64_t tail);

static inline __attribute__((always_inline)) void nullq_run(uint64_t h, uint64_t tail, bool fast)
{
	/* The queue's geometry in locals: the status store below may alias
	 * any global as far as the compiler knows. */
	const uint64_t step = 1ull << nq_shift, mask = nq_qsize - 1;
	const uint8_t *base = nq_base;

	for (; h != tail; h = (h + step) & mask) {
		const uint64_t *d = (const uint64_t *)(const void *)(base + h);
		uint64_t d0 = d[0];

		/* type == wait with SW set, in one mask compare */
		if ((d0 & (VTD_QI_TYPE_LO | VTD_QI_TYPE_HI | VTD_QI_WAIT_SW)) !=
		    (vtd_qi_type_prep(VTD_QI_WAIT) | VTD_QI_WAIT_SW))
			continue;
		uint64_t spa = d[1] & VTD_QI_WAIT_SADDR;

		if (spa != nq_spa) {
			if (fast) {
				nullq_run_slow(h, tail);
				return;
			}
			nq_status = uenv_iova_to_va(spa);
			nq_spa = spa;
		}
		__atomic_store_n(nq_status, (uint32_t)FIELD_GET(VTD_QI_WAIT_SDATA, d0),
				 __ATOMIC_RELEASE);
	}
	nq_iqh = tail;
}

static void nullq_run_slow(uint64_t h, uint64_t tail)
{
	nullq_run(h, tail, false);
}

static __attribute__((noinline)) void nullq_write(void *m, uint32_t off, uint64_t val,
						  unsigned int size)
{
	if (off != VTD_REG_IQT) {
		real_io->write(m, off, val, size);
		return;
	}
	nullq_run(nq_iqh, val & VTD_IQT_QT, true);
}

static const struct uiommu_model_io nullq_io = {.read = nullq_read, .write = nullq_write};

static int nullq_install(void)
{
	const struct uiommu_model_io *io = unit_regs(unit)->model;
	void *m = unit->model;
	uint64_t iqa = io->read(m, VTD_REG_IQA, 8);

	if (!io->read(m, VTD_REG_IQT, 8) && !iqa)
		return -ENODEV; /* no queue: register-based invalidation */
	nq_shift = VTD_IQ_DESC_SHIFT(FIELD_GET(VTD_IQA_DW, iqa));
	nq_qsize = 4096ull << FIELD_GET(VTD_IQA_QS, iqa);
	nq_base = uenv_iova_to_va(iqa & VTD_IQA_IQA);
	nq_iqh = io->read(m, VTD_REG_IQH, 8) & VTD_IQH_QH;
	if (!nq_base || nq_iqh != (io->read(m, VTD_REG_IQT, 8) & VTD_IQT_QT))
		return -EIO;
	real_io = io;
	unit_regs(unit)->model = &nullq_io;
	return 0;
}

/* ---- counters ---- */
struct counters {
	uint64_t m_desc, m_waits, m_inval; /* model: descriptors, waits, IOTLB invalidations */
	uint64_t d_desc, d_waits, d_reg; /* driver: QI descriptors, waits, register invalidations */
	uint64_t mticks, mcalls;
};

static void snap(struct counters *c)
{
	struct vtd_unit *vu = vtd_of(unit);
	struct vtd_model_stats st;

	vtd_model_get_stats(unit->model, &st);
	c->m_desc = st.qi_desc;
	c->m_waits = st.waits;
	c->m_inval = st.iotlb_inval;
	c->d_desc = vu->stats.qi_desc;
	c->d_waits = vu->stats.qi_waits;
	c->d_reg = vu->stats.reg_inv;
	c->mticks = model_ticks;
	c->mcalls = model_calls;
}

/* ---- the loops (one function each, for callgrind --toggle-collect) ---- */
#define NOINLINE __attribute__((noinline))

/* Map / unmap @n 4 KiB pages at IOVA_BASE + i * @stride (inlined into
 * each loop function, so callgrind's per-loop counts stay whole). */
static inline int map_pages(uint64_t stride, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE + i * stride;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf + (i % 512) * PG_4K, PG_4K,
					 RW | UIOMMU_MAP_FIXED_IOVA);
		if (rc)
			return rc;
	}
	return 0;
}

static inline int unmap_pages(uint64_t stride, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_unmap(ioas, IOVA_BASE + i * stride, PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_map4k(uint32_t n)
{
	return map_pages(PG_4K, n);
}

static int NOINLINE bench_loop_unmap4k(uint32_t n)
{
	return unmap_pages(PG_4K, n);
}

static int NOINLINE bench_loop_pair4k(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf, PG_4K,
					 RW | UIOMMU_MAP_FIXED_IOVA);
		if (!rc)
			rc = uiommu_ioas_unmap(ioas, IOVA_BASE, PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* The neighbouring page stays mapped: the pair's tables stay too. */
static int neighbour_map(uint32_t n)
{
	uint64_t iova = IOVA_BASE + PG_4K;

	(void)n;
	return uiommu_ioas_map(ioas, &iova, (uintptr_t)buf + PG_4K, PG_4K,
			       RW | UIOMMU_MAP_FIXED_IOVA);
}

static int neighbour_unmap(uint32_t n)
{
	(void)n;
	return uiommu_ioas_unmap(ioas, IOVA_BASE + PG_4K, PG_4K, NULL);
}

static int NOINLINE bench_loop_pair4ka(uint32_t n)
{
	return bench_loop_pair4k(n);
}

/* n areas on the even pages; the loop maps and unmaps odd pages in a
 * pseudo-random order: no insert hint applies, every look-up descends. */
static int even_map(uint32_t n)
{
	return map_pages(2 * PG_4K, n);
}

static int even_unmap(uint32_t n)
{
	return unmap_pages(2 * PG_4K, n);
}

static int NOINLINE bench_loop_rand4k(uint32_t n)
{
	uint32_t x = 12345;

	for (uint32_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		uint64_t at = IOVA_BASE + (2ull * ((x >> 8) % n) + 1) * PG_4K;
		uint64_t iova = at;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf, PG_4K,
					 RW | UIOMMU_MAP_FIXED_IOVA);
		if (!rc)
			rc = uiommu_ioas_unmap(ioas, at, PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_map2m(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE + i * PG_2M;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf, PG_2M,
					 RW | UIOMMU_MAP_FIXED_IOVA);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_unmap2m(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_unmap(ioas, IOVA_BASE + i * PG_2M, PG_2M, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_pair2m(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf, PG_2M,
					 RW | UIOMMU_MAP_FIXED_IOVA);
		if (!rc)
			rc = uiommu_ioas_unmap(ioas, IOVA_BASE, PG_2M, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_batch(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < BATCH; j++) {
			uint64_t iova = IOVA_BASE + j * PG_4K;
			int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf + j * PG_4K, PG_4K,
						 RW | UIOMMU_MAP_FIXED_IOVA);
			if (rc)
				return rc;
		}
		int rc = uiommu_ioas_unmap(ioas, IOVA_BASE, BATCH * PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_auto4k(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_map(ioas, &autoiova[i], (uintptr_t)buf + (i % 512) * PG_4K,
					 PG_4K, RW);
		if (rc)
			return rc;
	}
	return 0;
}

static int NOINLINE bench_loop_autoun(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_unmap(ioas, autoiova[i], PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

struct wl {
	const char *name;
	const char *what;
	int (*loop)(uint32_t n);
	int (*setup)(uint32_t n);   /* untimed, before */
	int (*cleanup)(uint32_t n); /* untimed, after */
	uint32_t div;		    /* n = N / div */
	uint32_t ops_per_iter;	    /* map/unmap calls per iteration (for per-page figures) */
};

static const struct wl wls[] = {
	{"map4k", "map 4 KiB (fixed IOVA)", bench_loop_map4k, NULL, bench_loop_unmap4k, 1, 1},
	{"unmap4k", "unmap 4 KiB (strict)", bench_loop_unmap4k, bench_loop_map4k, NULL, 1, 1},
	{"pair4k", "map+unmap 4 KiB pair", bench_loop_pair4k, NULL, NULL, 1, 2},
	{"pair4ka", "pair, neighbour page kept mapped", bench_loop_pair4ka, neighbour_map,
	 neighbour_unmap, 1, 2},
	{"rand4k", "pair at random IOVAs among N areas", bench_loop_rand4k, even_map, even_unmap, 1,
	 2},
	{"map2m", "map 2 MiB", bench_loop_map2m, NULL, bench_loop_unmap2m, 16, 1},
	{"unmap2m", "unmap 2 MiB (strict)", bench_loop_unmap2m, bench_loop_map2m, NULL, 16, 1},
	{"pair2m", "map+unmap 2 MiB pair", bench_loop_pair2m, NULL, NULL, 1, 2},
	{"batch", "256 x map 4 KiB + 1 range unmap", bench_loop_batch, NULL, NULL, 256, 257},
	{"auto4k", "map 4 KiB, automatic IOVA", bench_loop_auto4k, NULL, bench_loop_autoun, 1, 1},
	{"autoun", "unmap 4 KiB (auto-IOVA areas)", bench_loop_autoun, bench_loop_auto4k, NULL, 1,
	 1},
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_wl(const struct wl *w, uint32_t big_n, int reps)
{
	uint32_t n = big_n / w->div ? big_n / w->div : 1;
	double tot[MAXREPS], mod[MAXREPS], exc[MAXREPS];
	struct counters c0, c1;
	double md = 0, mw = 0, dd = 0, dw = 0, mcalls = 0;
	int rc;

	for (int r = 0; r < reps; r++) {
		if (w->setup && (rc = w->setup(n)) != 0)
			return rc;
		snap(&c0);
		uint64_t t0 = now_ns();
		rc = w->loop(n);
		uint64_t t1 = now_ns();
		snap(&c1);
		if (rc)
			return rc;
		if (w->cleanup && (rc = w->cleanup(n)) != 0)
			return rc;
		double calls = (double)(c1.mcalls - c0.mcalls);
		double mns =
			((double)(c1.mticks - c0.mticks) - calls * tick_overhead) * ns_per_tick;

		tot[r] = (double)(t1 - t0) / n;
		mod[r] = mns / n;
		exc[r] = tot[r] - mod[r];
		md = (double)(c1.m_desc - c0.m_desc) / n;
		mw = (double)(c1.m_waits - c0.m_waits) / n;
		dd = (double)(c1.d_desc - c0.d_desc + c1.d_reg - c0.d_reg) / n;
		dw = (double)(c1.d_waits - c0.d_waits) / n;
		mcalls = calls / n;
	}
	printf("%-8s %-34s %7u %9.1f %9.1f %9.1f %6.2f %6.2f %6.2f %6.2f %6.2f\n", w->name, w->what,
	       n, median(tot, reps), shim_on ? median(mod, reps) : 0.0,
	       shim_on ? median(exc, reps) : median(tot, reps), md, mw, dd, dw, mcalls);
	if (w->ops_per_iter > 2)
		printf("%-8s %-34s %7s %9.1f %9.1f %9.1f   (per page: /%u)\n", "", "", "",
		       median(tot, reps) / BATCH, median(mod, reps) / BATCH,
		       median(exc, reps) / BATCH, BATCH);
	return 0;
}

/* One mapping checked with a model DMA; DMA after unmap must fault. */
static int check(void)
{
	uint64_t iova = IOVA_BASE;
	uint8_t data[64], back[64];
	struct uiommu_event ev[4];
	int rc;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 5 + 1);
	rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf, PG_4K, RW | UIOMMU_MAP_FIXED_IOVA);
	if (!rc)
		rc = uiommu_model_dma(dev, UIOMMU_NO_PASID, IOVA_BASE + 128, data, sizeof(data),
				      true);
	if (!rc)
		rc = uiommu_model_dma(dev, UIOMMU_NO_PASID, IOVA_BASE + 128, back, sizeof(back),
				      false);
	if (rc || memcmp(data, back, sizeof(data)) || memcmp(buf + 128, data, sizeof(data))) {
		fprintf(stderr, "check: DMA through the mapping failed (%d)\n", rc);
		return -EIO;
	}
	rc = uiommu_ioas_unmap(ioas, IOVA_BASE, PG_4K, NULL);
	if (rc)
		return rc;
	rc = uiommu_model_dma(dev, UIOMMU_NO_PASID, IOVA_BASE + 128, data, sizeof(data), true);
	uint16_t nev = uiommu_poll(ctx, ev, 4);
	if (rc != -EFAULT || nev < 1 || ev[0].type != UIOMMU_EV_FAULT) {
		fprintf(stderr, "check: DMA after unmap: rc %d, %u events\n", rc, nev);
		return -EIO;
	}
	printf("# check: model DMA through one 4 KiB mapping ok; after unmap it faults "
	       "(uiommu_poll: addr 0x%" PRIx64 ", %s)\n",
	       ev[0].addr, ev[0].reason_text ? ev[0].reason_text : "-");
	return 0;
}

#ifdef UIOMMU_BENCH_SMMUV3
int bench_smmuv3_main(int argc, char **argv); /* bench_smmuv3.c */
#endif
#ifdef UIOMMU_BENCH_AMDVI
int bench_amdvi_main(int argc, char **argv); /* bench_amdvi.c */
#endif

/* The SMMUv3 model's rows (bench_smmuv3.c), in their own context, after
 * the VT-d rows (with --null-queue too: the driver alone there as well). */
static int smmuv3_rows(const char *only, bool smmu_rows, const char *smmu_cfg, uint32_t n, int reps)
{
#ifdef UIOMMU_BENCH_SMMUV3
	if (smmu_rows && (!only || !strcmp(only, "smmuv3"))) {
		char nb[16], rb[16];
		char *av[] = {"bench-native",
			      "--n",
			      nb,
			      "--reps",
			      rb,
			      "--cfg",
			      (char *)smmu_cfg,
			      nullq ? "--null-queue" : NULL,
			      NULL};

		snprintf(nb, sizeof(nb), "%u", n < 4096 ? n : 4096);
		snprintf(rb, sizeof(rb), "%d", reps);
		printf("\n");
		fflush(stdout);
		return bench_smmuv3_main(nullq ? 8 : 7, av);
	}
#else
	(void)only;
	(void)smmu_rows;
	(void)smmu_cfg;
	(void)n;
	(void)reps;
#endif
	return 0;
}

/* The AMD-Vi model's rows (bench_amdvi.c), in their own context. */
static int amdvi_rows(const char *only, bool rows, const char *cfg, uint32_t n, int reps)
{
#ifdef UIOMMU_BENCH_AMDVI
	if (rows && (!only || !strcmp(only, "amdvi"))) {
		char nb[16], rb[16];
		char *av[] = {"bench-native", "--n", nb, "--reps", rb, "--cfg", (char *)cfg,
			      nullq ? "--null-queue" : NULL, NULL};

		snprintf(nb, sizeof(nb), "%u", n < 4096 ? n : 4096);
		snprintf(rb, sizeof(rb), "%d", reps < 15 ? reps : 15);
		printf("\n");
		fflush(stdout);
		return bench_amdvi_main(nullq ? 8 : 7, av);
	}
#else
	(void)only;
	(void)rows;
	(void)cfg;
	(void)n;
	(void)reps;
#endif
	return 0;
}

int main(int argc, char **argv)
{
	const char *smmu_cfg = "";
	bool smmu_rows = true;
	const char *amdvi_cfg = "";
	bool amdvi_rows_on = true;
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_VTD,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
	};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 8, .hw_id = 0x0008};
	struct uiommu_unit_caps caps;
	const char *only = NULL;
	uint32_t n = 4096;
	int reps = 7, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cfg") && i + 1 < argc)
			ud.model_cfg = argv[++i];
		else if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--no-shim"))
			shim_on = false;
		else if (!strcmp(argv[i], "--null-queue"))
			nullq = true, shim_on = false;
		else if (!strcmp(argv[i], "--smmuv3-cfg") && i + 1 < argc)
			smmu_cfg = argv[++i];
		else if (!strcmp(argv[i], "--no-smmuv3"))
			smmu_rows = false;
		else if (!strcmp(argv[i], "--amdvi-cfg") && i + 1 < argc)
			amdvi_cfg = argv[++i];
		else if (!strcmp(argv[i], "--no-amdvi"))
			amdvi_rows_on = false;
		else {
			fprintf(stderr,
				"usage: bench-native [--cfg MODELCFG] [--n N] [--reps R] "
				"[--only NAME|smmuv3|amdvi] [--no-shim | --null-queue]\n"
				"                    [--smmuv3-cfg MODELCFG] [--no-smmuv3]\n"
				"                    [--amdvi-cfg MODELCFG] [--no-amdvi]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAXREPS || n < 256) {
		fprintf(stderr, "bench-native: --reps 1..%d, --n >= 256\n", MAXREPS);
		return 2;
	}
	buf = aligned_alloc(PG_2M, 2 * PG_2M);
	autoiova = calloc(n, sizeof(*autoiova));
	if (!buf || !autoiova)
		return 1;
	memset(buf, 0, 2 * PG_2M);

	/* --null-queue leaves the VT-d context up (it cannot be torn down) and
	 * a process has one context: the SMMUv3 and AMD-Vi rows come from a
	 * child forked before it, started once the VT-d rows are out (the
	 * SMMUv3 rows from a grandchild: their context stays up too). */
	int go[2] = {-1, -1};
	pid_t smmu_child = -1;
	bool want_smmu = smmu_rows && (!only || !strcmp(only, "smmuv3"));
	bool want_amdvi = amdvi_rows_on && (!only || !strcmp(only, "amdvi"));
	if (nullq && (want_smmu || want_amdvi) && pipe(go) == 0) {
		fflush(stdout);
		smmu_child = fork();
		if (smmu_child == 0) {
			pid_t g = -1;
			int ws = 0;
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(0);
			rc = 0;
			if (want_smmu && (g = fork()) == 0) {
				rc = smmuv3_rows(only, smmu_rows, smmu_cfg, n, reps);
				fflush(stdout);
				_exit(rc);
			}
			if (g > 0)
				rc = waitpid(g, &ws, 0) == g && WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
			if (!rc && want_amdvi)
				rc = amdvi_rows(only, amdvi_rows_on, amdvi_cfg, n, reps);
			fflush(stdout);
			_exit(rc);
		}
		close(go[0]);
	}
	rc = uiommu_ctx_create(NULL, &ctx);
	if (!rc)
		rc = uiommu_unit_add(ctx, &ud, &unit);
	if (!rc)
		rc = uiommu_device_add(unit, &dd, &dev);
	if (!rc)
		rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc)
		rc = uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL);
	if (rc) {
		fprintf(stderr, "bench-native: setup: %s\n", uiommu_strerror(rc));
		return 1;
	}
	uiommu_unit_get_caps(unit, &caps);
	calibrate();
	if (shim_on) {
		real_io = unit_regs(unit)->model;
		unit_regs(unit)->model = &timed_io;
	}
	rc = check();
	if (rc)
		return 1;
	if (nullq && (rc = nullq_install()) != 0) {
		fprintf(stderr, "bench-native: --null-queue: %s\n", uiommu_strerror(rc));
		return 1;
	}
	struct uiommu_hw_info hi = {0};

	(void)uiommu_unit_hw_info(unit, &hi);
	printf("# VT-d model cfg \"%s\": scalable=%d qi=%d ias=%u pgsizes=0x%" PRIx64
	       "; N=%u, %d reps (median); tsc %.3f ns/tick\n",
	       ud.model_cfg ? ud.model_cfg : "(defaults)", hi.u.vtd.scalable, caps.queued_inv, caps.ias,
	       caps.pgsize_bitmap, n, reps, ns_per_tick);
	if (nullq)
		printf("# --null-queue: descriptors complete at once without the model (no IOTLB\n"
		       "# work); ns/op: uiommu's own time and the stub's (nullq_write)\n");
	else
		printf("# model = time inside the model's register hooks (queue processing, IOTLB\n"
		       "# invalidation, wait write): the hardware's work; excl = total - model\n");
	printf("%-8s %-34s %7s %9s %9s %9s %6s %6s %6s %6s %6s\n", "name", "workload", "ops",
	       "ns/op", "model", "excl", "m.desc", "m.wait", "d.desc", "d.wait", "hooks");
	for (size_t i = 0; i < sizeof(wls) / sizeof(wls[0]); i++) {
		if (only && strcmp(only, wls[i].name))
			continue;
		rc = run_wl(&wls[i], n, reps);
		if (rc) {
			fprintf(stderr, "bench-native: %s: %s\n", wls[i].name, uiommu_strerror(rc));
			return 1;
		}
	}
	if (nullq) {
		/* See --null-queue: the unit cannot be torn down cleanly. */
		int ws = 0;

		fflush(stdout);
		rc = 0;
		if (smmu_child > 0) {
			rc = 1;
			if (write(go[1], "g", 1) == 1 &&
			    waitpid(smmu_child, &ws, 0) == smmu_child && WIFEXITED(ws))
				rc = WEXITSTATUS(ws);
		}
		_exit(rc);
	}
	if (shim_on)
		unit_regs(unit)->model = real_io;
	(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
	(void)uiommu_device_remove(dev);
	(void)uiommu_ioas_destroy(ioas);
	(void)uiommu_unit_remove(unit);
	uiommu_ctx_destroy(ctx);
	free(buf);
	free(autoiova);
	rc = smmuv3_rows(only, smmu_rows, smmu_cfg, n, reps);
	if (!rc)
		rc = amdvi_rows(only, amdvi_rows_on, amdvi_cfg, n, reps);
	return rc;
}
