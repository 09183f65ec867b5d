/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Native benchmark of the SMMUv3 driver on the built-in SMMUv3 model: the
 * public API, no QEMU.  One model unit, one device (StreamID 0x18), one
 * IOAS attached (stage 1 with a CD, what an IOAS gives; --s2: an explicit
 * stage-2 HWPT), then
 * timed loops:
 *
 *   map4k / unmap4k   N maps of 4 KiB at consecutive IOVAs, then N unmaps
 *                     (strict: each unmap invalidates and waits)
 *   pair4k            map + unmap of one 4 KiB page, N times
 *   map2m / unmap2m   the same with 2 MiB pages
 *   batch             256 maps of 4 KiB + one unmap of the range
 *
 * For each: ns/op (median of R repetitions, as bench-native's VT-d rows)
 * and, per op, the commands and
 * CMD_SYNCs the driver issued and the model executed.  The model executes
 * every command inside the CMDQ_PROD write, so ns/op includes the
 * "hardware" work.
 *
 *   bench-native-smmuv3 [--cfg MODELCFG] [--s2] [--n N] [--reps R] [--null-queue]
 *                       [--only NAME]
 *
 * --only NAME: that row alone.  For callgrind, whose count is per loop
 * function: smmu_bench_unmap_n also runs as the untimed clean-up of map4k
 * and for the 2 MiB rows, so its total divided by N is right only with
 * --only unmap4k (N calls; as bench-native --only unmap4k for VT-d).
 *
 * --null-queue: the driver alone.  The command queue is consumed the
 * moment CMDQ_PROD is written, without the model (nullq_write): CMDQ_CONS
 * reads back what PROD was set to, so each CMD_SYNC completes at once and
 * no command (TLBI, CFGI) is executed.  ns/op is then uiommu's own time
 * plus the stub's few instructions (callgrind shows nullq_write apart);
 * "model cmd/op" reads 0.  The model's queue no longer matches the
 * driver's, so the unit is not torn down afterwards (as bench-native's
 * VT-d --null-queue).
 *
 * Instructions per op: callgrind with collection limited to one loop
 * function (smmu_bench_map_n, smmu_bench_unmap_n, smmu_bench_pair4k;
 * docs/performance.md):
 *   valgrind --tool=callgrind --collect-atstart=no \
 *       --toggle-collect=smmu_bench_pair4k ./bench-native-smmuv3 --n 1000 --reps 1
 *
 * bench-native links this file too (BENCH_SMMUV3_EMBEDDED: main becomes
 * bench_smmuv3_main) and prints these rows after its VT-d rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uiommu/uiommu.h"
#include "core/core.h"
#include "hw/smmuv3/smmu_internal.h"
#include "model/smmuv3/smmu_model.h"

#define PG_4K	  4096ull
#define PG_2M	  (2ull << 20)
#define IOVA_BASE 0x100000000ull
#define RW	  (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)

static struct uiommu_ioas *ioas;
static struct uiommu_unit *unit;
static uint64_t phys; /* 4 MiB, 2 MiB aligned */

/* ---- --null-queue ---- */
static const struct uiommu_model_io *real_io;
static uint32_t nq_cons;

static uint64_t nullq_read(void *m, uint32_t off, unsigned int size)
{
	if (off == SMMU_CMDQ_CONS)
		return nq_cons;
	return real_io->read(m, off, size);
}

static __attribute__((noinline)) void nullq_write(void *m, uint32_t off, uint64_t val,
						  unsigned int size)
{
	if (off == SMMU_CMDQ_PROD)
		nq_cons = (uint32_t)val; /* everything up to PROD consumed, no error */
	else
		real_io->write(m, off, val, size);
}

static const struct uiommu_model_io nullq_io = {.read = nullq_read, .write = nullq_write};

static void nullq_install(void)
{
	real_io = unit_regs(unit)->model;
	nq_cons = (uint32_t)real_io->read(unit->model, SMMU_CMDQ_CONS, 4);
	unit_regs(unit)->model = &nullq_io;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) int smmu_bench_map_n(uint64_t pg, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE + i * pg;
		int rc = uiommu_ioas_map(ioas, &iova, phys + (pg == PG_4K ? (i % 512) * pg : 0), pg,
					 RW);
		if (rc)
			return rc;
	}
	return 0;
}

static __attribute__((noinline)) int smmu_bench_unmap_n(uint64_t pg, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = uiommu_ioas_unmap(ioas, IOVA_BASE + i * pg, pg, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static __attribute__((noinline)) int smmu_bench_pair4k(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE;
		int rc = uiommu_ioas_map(ioas, &iova, phys, PG_4K, RW);
		if (!rc)
			rc = uiommu_ioas_unmap(ioas, IOVA_BASE, PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int batch(uint32_t n)
{
	for (uint32_t b = 0; b < n; b++) {
		int rc = smmu_bench_map_n(PG_4K, 256);
		if (!rc)
			rc = uiommu_ioas_unmap(ioas, IOVA_BASE, 256 * PG_4K, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

struct snap {
	struct smmu_stats d;
	struct smmu_model_stats m;
	uint64_t t;
};

/* The counters and the time; @end: the time first (the counters are read
 * outside the timed part at both ends, as bench-native's VT-d loop). */
static void snap(struct snap *s, bool end)
{
	if (end)
		s->t = now_ns();
	smmu_get_stats(unit, &s->d);
	smmu_model_get_stats(unit->model, &s->m);
	if (!end)
		s->t = now_ns();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n figures (sorts them), as bench-native's VT-d rows. */
static double median_ns(uint64_t *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static void row(const char *name, uint32_t ops, const struct snap *a, const struct snap *b,
		double ns)
{
	printf("%-8s %10.1f %10.2f %10.2f %10.2f\n", name, ns / ops,
	       (double)(b->d.cmds - a->d.cmds) / ops, (double)(b->d.syncs - a->d.syncs) / ops,
	       (double)(b->m.cmds - a->m.cmds) / ops);
}

#ifdef BENCH_SMMUV3_EMBEDDED
int bench_smmuv3_main(int argc, char **argv);
int bench_smmuv3_main(int argc, char **argv)
#else
int main(int argc, char **argv)
#endif
{
	const char *cfg = "", *only = NULL;
	uint32_t n = 2000, reps = 5;
	bool s2 = false, nullq = false;
	struct uiommu_ctx *ctx;
	struct uiommu_device *dev;
	struct uiommu_hwpt *h = NULL;
	void *va;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cfg") && i + 1 < argc)
			cfg = argv[++i];
		else if (!strcmp(argv[i], "--s2"))
			s2 = true;
		else if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--null-queue"))
			nullq = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr,
				"usage: %s [--cfg MODELCFG] [--s2] [--n N] [--reps R] "
				"[--null-queue] [--only NAME]\n",
				argv[0]);
			return 2;
		}
	}
	if (!n || n > 4096 || !reps || reps > 64) {
		fprintf(stderr, "--n 1..4096, --reps 1..64\n");
		return 2;
	}
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_SMMUV3,
				      .access = UIOMMU_UNIT_MODEL,
				      .numa_node = -1,
				      .model_cfg = cfg};
	struct uiommu_device_desc dd = {.devfn = 0x18, .hw_id = 0x18};
	if (uiommu_ctx_create(NULL, &ctx) || uiommu_unit_add(ctx, &ud, &unit) ||
	    uiommu_device_add(unit, &dd, &dev) || uiommu_ioas_alloc(ctx, &ioas) ||
	    uiommu_buf_alloc(ctx, 4u << 20, &va, &phys)) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	if (s2 && uiommu_hwpt_alloc(ioas, unit, 0, &h)) {
		fprintf(stderr, "stage-2 HWPT failed\n");
		return 1;
	}
	if (uiommu_device_attach(dev, UIOMMU_NO_PASID, h ? uiommu_hwpt_id(h) : uiommu_ioas_id(ioas),
				 NULL)) {
		fprintf(stderr, "attach failed\n");
		return 1;
	}
	if (nullq)
		nullq_install();
	printf("SMMUv3 model '%s', %s, N=%u, median of %u%s\n", cfg,
	       s2 ? "stage 2" : "stage 1 (CD)", n, reps,
	       nullq ? ", --null-queue (driver only: commands consumed at once)" : "");
	printf("%-8s %10s %10s %10s %10s\n", "op", "ns/op", "cmds/op", "syncs/op", "model cmd/op");
	static const struct {
		const char *name;
		int kind;
	} t[] = {{"map4k", 0}, {"unmap4k", 1}, {"pair4k", 2},
		 {"map2m", 3}, {"unmap2m", 4}, {"batch", 5}};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct snap a, b;
		uint64_t ns[64];
		uint32_t ops = t[k].kind == 5 ? 1 + n / 256 : t[k].kind >= 3 ? 1 + n / 64 : n;
		int rc = 0;

		if (only && strcmp(only, t[k].name))
			continue;
		for (uint32_t r = 0; r < reps && !rc; r++) {
			/* Set-up outside the timed part. */
			if (t[k].kind == 1)
				rc = smmu_bench_map_n(PG_4K, ops);
			else if (t[k].kind == 4)
				rc = smmu_bench_map_n(PG_2M, ops);
			snap(&a, false);
			switch (t[k].kind) {
			case 0:
				rc = rc ? rc : smmu_bench_map_n(PG_4K, ops);
				break;
			case 1:
				rc = rc ? rc : smmu_bench_unmap_n(PG_4K, ops);
				break;
			case 2:
				rc = rc ? rc : smmu_bench_pair4k(ops);
				break;
			case 3:
				rc = rc ? rc : smmu_bench_map_n(PG_2M, ops);
				break;
			case 4:
				rc = rc ? rc : smmu_bench_unmap_n(PG_2M, ops);
				break;
			default:
				rc = rc ? rc : batch(ops);
				break;
			}
			snap(&b, true);
			ns[r] = b.t - a.t; /* (the counts are the same every repetition) */
			/* Clean-up outside the timed part. */
			if (t[k].kind == 0)
				rc = rc ? rc : smmu_bench_unmap_n(PG_4K, ops);
			else if (t[k].kind == 3)
				rc = rc ? rc : smmu_bench_unmap_n(PG_2M, ops);
		}
		if (rc) {
			fprintf(stderr, "%s: %d\n", t[k].name, rc);
			return 1;
		}
		row(t[k].name, ops, &a, &b, median_ns(ns, reps));
	}
	if (nullq)
		return 0; /* see --null-queue: not torn down */
	(void)uiommu_device_detach(dev, UIOMMU_NO_PASID);
	uiommu_ctx_destroy(ctx);
	return 0;
}
