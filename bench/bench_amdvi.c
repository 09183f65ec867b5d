/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The AMD-Vi rows of bench-native: the AMD-Vi driver on the built-in AMD-Vi model, through the
 * public API (the same workloads as bench-native's VT-d rows): one unit,
 * one device, one IOAS, attach, then timed loops of map/unmap.  Prints
 * ns per operation (wall), the part of it spent inside the model's
 * register hooks (command processing, its IOTLB scan), and the driver's
 * commands and COMPLETION_WAITs per operation (amdvi_unit.stats).
 * Figures only: nothing here asserts a time.
 *
 * bench-native links this file (BENCH_AMDVI_EMBEDDED: main becomes
 * bench_amdvi_main) and prints these rows after its VT-d (and SMMUv3)
 * rows: bench-native --only amdvi [--amdvi-cfg MODELCFG].  Instructions
 * per operation: callgrind with collection limited to one loop
 * (bench_loop_amdvi_<name>, docs/performance.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/amdvi/amdvi_internal.h"

#define PG_4K	  4096ull
#define PG_2M	  (2ull << 20)
#define IOVA_BASE 0x40000000ull
#define BATCH	  256u
#define MAXREPS	  15
#define RW	  (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)
#define NOINLINE  __attribute__((noinline))

static struct uiommu_ctx *ctx;
static struct uiommu_unit *unit;
static struct uiommu_ioas *ioas;
/* With EFR.GTSup and GIoSup (--amdvi-cfg gt=1): a second IOAS on PASID 1
 * of a second device (its RID blocked: a v1 RID takes no PASIDs), through
 * its GCR3 table and a v2 table (the v2* rows). */
static struct uiommu_ioas *ioas_v1, *ioas_v2;
static uint8_t *buf;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Time spent in the model's register hooks (the doorbell write runs the
 * command buffer). */
static const struct uiommu_model_io *real_io;
static uint64_t model_ns;
static uint64_t timed_read(void *m, uint32_t off, unsigned int size)
{
	uint64_t t0 = now_ns(), v = real_io->read(m, off, size);

	model_ns += now_ns() - t0;
	return v;
}
static void timed_write(void *m, uint32_t off, uint64_t val, unsigned int size)
{
	uint64_t t0 = now_ns();

	real_io->write(m, off, val, size);
	model_ns += now_ns() - t0;
}
static const struct uiommu_model_io timed_io = {.read = timed_read, .write = timed_write};

/* --null-queue: a unit that does its commands in no time, to measure the
 * driver alone (as bench-native --null-queue does for VT-d and SMMUv3).
 * A tail write completes every command up to it at once: a
 * COMPLETION_WAIT with S stores its data (AMD IOMMU 2.4.1), the rest is
 * dropped (no IOTLB, nothing invalidated).  Never taken out: the model's
 * command buffer no longer matches the driver's, so nothing is torn
 * down afterwards. */
static bool nullq;
static uint32_t nq_head, nq_mask;
static const uint8_t *nq_buf;
/* Word 0 of the last COMPLETION_WAIT with S seen, and where it stores
 * (never NULL: set up by nullq_install with the driver's own). */
static uint64_t nq_cw0;
static uint64_t *nq_sem;

static uint64_t nullq_read(void *m, uint32_t off, unsigned int size)
{
	if (off == AMDVI_REG_CMD_HEAD)
		return nq_head;
	return real_io->read(m, off, size);
}

/* Word 0 of a COMPLETION_WAIT with S: opcode (bits 63:60) and S (bit 0)
 * tested together. */
#define NQ_CW_MASK (AMDVI_CMD_OP | AMDVI_CW_S)
#define NQ_CW_WANT (FIELD_PREP(AMDVI_CMD_OP, AMDVI_OP_COMPLETION_WAIT) | AMDVI_CW_S)

/* The commands from @h to @t, the first a COMPLETION_WAIT with S whose
 * word 0 is not the one last seen: each such store target translated,
 * the store done where it translates, and the last word 0 that did kept
 * (nq_cw0 -> nq_sem) for nullq_write. */
static NOINLINE void nullq_run_slow(uint32_t h, uint32_t t)
{
	for (; h != t; h = (h + AMDVI_CMD_SIZE) & nq_mask) {
		const uint64_t *c = (const uint64_t *)(const void *)(nq_buf + h);
		uint64_t *va;

		if ((c[0] & NQ_CW_MASK) != NQ_CW_WANT)
			continue;
		va = c[0] == nq_cw0 ? nq_sem : uenv_iova_to_va(c[0] & AMDVI_CW_ADDR);
		if (!va)
			continue; /* no memory there: the store goes nowhere */
		nq_cw0 = c[0];
		nq_sem = va;
		__atomic_store_n(va, c[1], __ATOMIC_RELEASE);
	}
	nq_head = t;
}

/* The doorbell: every command from the head to the new tail is looked
 * at once, a COMPLETION_WAIT with S stores its data, anything else is
 * consumed.  The COMPLETION_WAIT the driver sends has the same word 0
 * each time: it is compared whole and its translated target kept
 * (nullq_run_slow does the rest); no call in the loop (tail calls only). */
static NOINLINE void nullq_write(void *m, uint32_t off, uint64_t val, unsigned int size)
{
	uint32_t h = nq_head, t = (uint32_t)val & nq_mask;

	if (__builtin_expect(off != AMDVI_REG_CMD_TAIL, 0)) {
		real_io->write(m, off, val, size);
		return;
	}
	for (; h != t; h = (h + AMDVI_CMD_SIZE) & nq_mask) {
		const uint64_t *c = (const uint64_t *)(const void *)(nq_buf + h);

		if (c[0] == nq_cw0) {
			__atomic_store_n(nq_sem, c[1], __ATOMIC_RELEASE);
			continue;
		}
		if (__builtin_expect((c[0] & NQ_CW_MASK) == NQ_CW_WANT, 0)) {
			nullq_run_slow(h, t);
			return;
		}
	}
	nq_head = t;
}

static const struct uiommu_model_io nullq_io = {.read = nullq_read, .write = nullq_write};

static int nullq_install(void)
{
	struct amdvi_unit *au = amdvi_of(unit);

	nq_buf = au->cmd.va;
	nq_mask = au->cmd_bytes - 1;
	nq_head = au->cmd_tail;
	nq_cw0 = amdvi_cw_w0(au->sem.iova);
	nq_sem = uenv_iova_to_va(au->sem.iova);
	if (!nq_buf || !nq_sem ||
	    (uint32_t)(real_io->read(unit->model, AMDVI_REG_CMD_HEAD, 8) & nq_mask) != nq_head)
		return -EIO; /* the model has commands pending */
	unit_regs(unit)->model = &nullq_io;
	return 0;
}

static int map_n(uint64_t stride, uint64_t len, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE + i * stride;
		int rc = uiommu_ioas_map(ioas, &iova, (uintptr_t)buf + (i * len) % PG_2M, len, RW);

		if (rc)
			return rc;
	}
	return 0;
}

static int unmap_n(uint64_t stride, uint64_t len, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_unmap(ioas, IOVA_BASE + i * stride, len, NULL);

		if (rc)
			return rc;
	}
	return 0;
}

static int map4k(uint32_t n)
{
	return map_n(PG_4K, PG_4K, n);
}
static int unmap4k(uint32_t n)
{
	return unmap_n(PG_4K, PG_4K, n);
}
static int map2m(uint32_t n)
{
	return map_n(PG_2M, PG_2M, n);
}
static int unmap2m(uint32_t n)
{
	return unmap_n(PG_2M, PG_2M, n);
}
static int pair4k(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = map_n(PG_4K, PG_4K, 1);

		if (!rc)
			rc = unmap_n(PG_4K, PG_4K, 1);
		if (rc)
			return rc;
	}
	return 0;
}
/* 256 x map 4 KiB, then one unmap of the whole range. */
static int batch(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = map_n(PG_4K, PG_4K, BATCH);

		if (!rc)
			rc = uiommu_ioas_unmap(ioas, IOVA_BASE, BATCH * PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* One function per timed row, named for callgrind's --toggle-collect;
 * set-up and clean-up call the helpers above (not collected). */
#define LOOP(name, fn)                                                                           \
	static int NOINLINE bench_loop_amdvi_##name(uint32_t n)                                  \
	{                                                                                        \
		return fn(n);                                                                    \
	}
LOOP(map4k, map4k)
LOOP(unmap4k, unmap4k)
LOOP(pair4k, pair4k)
LOOP(map2m, map2m)
LOOP(unmap2m, unmap2m)
LOOP(batch, batch)
LOOP(v2map4k, map4k)
LOOP(v2unm4k, unmap4k)
LOOP(v2batch, batch)
#undef LOOP

struct wl {
	const char *name, *what;
	int (*loop)(uint32_t n), (*setup)(uint32_t n), (*cleanup)(uint32_t n);
	uint32_t div;
	bool v2; /* on PASID 1's v2 table (only with gt=1) */
};

static const struct wl wls[] = {
	{"map4k", "map 4 KiB (fixed IOVA)", bench_loop_amdvi_map4k, NULL, unmap4k, 1},
	{"unmap4k", "unmap 4 KiB (strict)", bench_loop_amdvi_unmap4k, map4k, NULL, 1},
	{"pair4k", "map+unmap 4 KiB pair", bench_loop_amdvi_pair4k, NULL, NULL, 1},
	{"map2m", "map 2 MiB", bench_loop_amdvi_map2m, NULL, unmap2m, 16},
	{"unmap2m", "unmap 2 MiB (strict)", bench_loop_amdvi_unmap2m, map2m, NULL, 16},
	{"batch", "256 x map 4 KiB + 1 range unmap", bench_loop_amdvi_batch, NULL, NULL, 256},
	{"v2map4k", "PASID v2 table: map 4 KiB", bench_loop_amdvi_v2map4k, NULL, unmap4k, 1, true},
	{"v2unm4k", "PASID v2 table: unmap 4 KiB (GN)", bench_loop_amdvi_v2unm4k, map4k, NULL, 1,
	 true},
	{"v2batch", "PASID v2 table: 256 x map + 1 unmap", bench_loop_amdvi_v2batch, NULL, NULL,
	 256, true},
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

static int run(const struct wl *w, uint32_t big_n, int reps)
{
	struct amdvi_unit *au = amdvi_of(unit);
	uint32_t n = big_n / w->div ? big_n / w->div : 1;

	if (w->v2 && !ioas_v2)
		return 0; /* no v2 tables on this unit (gt=0) */
	ioas = w->v2 ? ioas_v2 : ioas_v1;
	double tot[MAXREPS], mod[MAXREPS], cmds = 0, waits = 0;
	int rc;

	for (int r = 0; r < reps; r++) {
		if (w->setup && (rc = w->setup(n)) != 0)
			return rc;
		uint64_t c0 = au->stats.cmds, w0 = au->stats.waits, m0 = model_ns;
		uint64_t t0 = now_ns();

		rc = w->loop(n);
		uint64_t t1 = now_ns();

		if (rc)
			return rc;
		tot[r] = (double)(t1 - t0) / n;
		mod[r] = (double)(model_ns - m0) / n;
		cmds = (double)(au->stats.cmds - c0) / n;
		waits = (double)(au->stats.waits - w0) / n;
		if (w->cleanup && (rc = w->cleanup(n)) != 0)
			return rc;
	}
	printf("%-8s %-34s %7u %9.1f %9.1f %9.1f %7.2f %7.2f\n", w->name, w->what, n,
	       median(tot, reps), median(mod, reps), median(tot, reps) - median(mod, reps), cmds,
	       waits);
	return 0;
}

#ifdef BENCH_AMDVI_EMBEDDED
int bench_amdvi_main(int argc, char **argv);
int bench_amdvi_main(int argc, char **argv)
#else
int main(int argc, char **argv)
#endif
{
	struct uiommu_unit_desc ud = {
		.family = UIOMMU_FAMILY_AMDVI,
		.access = UIOMMU_UNIT_MODEL,
		.numa_node = -1,
	};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 8, .hw_id = 0x0008};
	struct uiommu_device_desc dd2 = {.bus = 0, .devfn = 0x10, .hw_id = 0x0010, .pasid_bits = 8};
	struct uiommu_device *dev2 = NULL;
	struct uiommu_unit_caps caps;
	struct uiommu_device *dev;
	uint32_t n = 4096;
	int reps = 7, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cfg") && i + 1 < argc)
			ud.model_cfg = argv[++i];
		else if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--null-queue"))
			nullq = true;
		else {
			fprintf(stderr, "usage: bench-native --only amdvi [--amdvi-cfg MODELCFG]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAXREPS || n < 256 || n > 65536) {
		fprintf(stderr, "bench-native amdvi: --reps 1..%d, --n 256..65536\n", MAXREPS);
		return 2;
	}
	buf = aligned_alloc(PG_2M, 2 * PG_2M);
	if (!buf)
		return 1;
	memset(buf, 0, 2 * PG_2M);
	rc = uiommu_ctx_create(NULL, &ctx);
	if (!rc)
		rc = uiommu_unit_add(ctx, &ud, &unit);
	if (!rc)
		rc = uiommu_device_add(unit, &dd, &dev);
	if (!rc)
		rc = uiommu_ioas_alloc(ctx, &ioas);
	if (!rc)
		rc = uiommu_device_attach(dev, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL);
	ioas_v1 = ioas;
	if (!rc) {
		uiommu_unit_get_caps(unit, &caps);
		if (caps.stage1 && caps.pasid_bits) {
			rc = uiommu_ioas_alloc(ctx, &ioas_v2);
			if (!rc)
				rc = uiommu_device_add(unit, &dd2, &dev2);
			if (!rc)
				rc = uiommu_device_attach(dev2, 1, uiommu_ioas_id(ioas_v2), NULL);
		}
	}
	if (rc) {
		fprintf(stderr, "bench-native amdvi: set-up failed: %s\n", strerror(-rc));
		return 1;
	}
	real_io = unit_regs(unit)->model;
	if (nullq) {
		rc = nullq_install();
		if (rc) {
			fprintf(stderr, "bench-native amdvi: --null-queue: %s\n", strerror(-rc));
			return 1;
		}
	} else {
		unit_regs(unit)->model = &timed_io;
	}
	printf("# AMD-Vi model cfg \"%s\", %d reps (median), N=%u%s\n",
	       ud.model_cfg && *ud.model_cfg ? ud.model_cfg : "(defaults)", reps, n,
	       nullq ? ", --null-queue (driver only: commands done at the tail write)" : "");
	printf("# cmds/op, waits/op: the driver's commands (waits included) and\n"
	       "# COMPLETION_WAITs per operation (per batch for 'batch')\n");
	printf("%-8s %-34s %7s %9s %9s %9s %7s %7s\n", "name", "workload", "n", "ns/op", "model",
	       "excl", "cmds/op", "waits/op");
	for (size_t i = 0; i < sizeof(wls) / sizeof(wls[0]); i++) {
		rc = run(&wls[i], n, reps);
		if (rc) {
			fprintf(stderr, "bench-native amdvi: %s: %s\n", wls[i].name, strerror(-rc));
			return 1;
		}
	}
	if (nullq) {
		/* The stub kept up: it consumed every command up to the
		 * driver's tail and the last COMPLETION_WAIT's data is stored
		 * (not torn down: see --null-queue). */
		struct amdvi_unit *au = amdvi_of(unit);
		bool ok = nq_head == au->cmd_tail &&
			  __atomic_load_n(nq_sem, __ATOMIC_ACQUIRE) == au->wait_seq;

		printf("# check: --null-queue stub at the driver's tail 0x%x, last wait %" PRIu64
		       " stored: %s\n",
		       au->cmd_tail, au->wait_seq, ok ? "ok" : "NO");
		return ok ? 0 : 1;
	}
	unit_regs(unit)->model = real_io;
	if (dev2) {
		(void)uiommu_device_detach(dev2, 1);
		(void)uiommu_device_remove(dev2);
	}
	(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
	(void)uiommu_device_remove(dev);
	(void)uiommu_ioas_destroy(ioas_v1);
	if (ioas_v2)
		(void)uiommu_ioas_destroy(ioas_v2);
	(void)uiommu_unit_remove(unit);
	uiommu_ctx_destroy(ctx);
	free(buf);
	return 0;
}
