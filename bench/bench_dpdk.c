/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-dpdk: the DPDK plugin's own costs on the built-in VT-d model (no
 * QEMU, no hardware), issue 17 / docs/performance.md "DPDK plugin":
 *
 *   startup-4k  EAL --no-huge -m MIB (4 KiB pages, IOVA as VA): the time
 *               uiommu_dpdk_protect() spends walking and mapping DPDK's
 *               memory (startup_map_ns), per GiB
 *   startup-2m  EAL with MIB of 2 MiB hugepages (IOVA as PA, root): the same
 *   events      EAL with hugepages, dynamic memory: rte_malloc() of EVENT
 *               MiB grows the heap (a memory event maps the new pages before
 *               rte_malloc returns), rte_free() gives them back (the event
 *               unmaps them, invalidates and waits): the plugin's time per
 *               event and the whole rte_malloc / rte_free
 *
 * Each repetition runs in its own child process (EAL starts once per
 * process).  Prints medians and ranges; no pass/fail.
 *
 *   bench-dpdk [--reps N] [--mib MIB] [--huge-mib MIB] [--event-mib MIB]
 *              [--loops N] [--only startup-4k|startup-2m|events]
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <uiommu/uiommu.h>

#include <uiommu/uiommu_dpdk.h>

#define MAX_REPS     64
#define MAX_LOOPS    256
#define REMAP_OFFSET (1ull << 40)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_stat(const char *what, double *v, int n, const char *unit)
{
	if (n <= 0) {
		printf("| %s | - | - | - |\n", what);
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	printf("| %s | %.3f | %.3f-%.3f | %d |\n", what,
	       n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1], n);
	(void)unit;
}

static uint64_t free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

struct chunks {
	int n;
	void *va[256];
	size_t len[256];
};

static int add_chunk(const struct rte_memseg_list *msl, const struct rte_memseg *ms, size_t len,
		     void *arg)
{
	struct chunks *c = arg;

	(void)msl;
	if (c->n >= 256)
		return -1;
	c->va[c->n] = ms->addr;
	c->len[c->n++] = len;
	return 0;
}

/* DPDK's memory mapped once more into the plugin's IOAS, which has a device
 * attached: the page tables are written as the map returns (the start-up
 * map itself only records the areas; the attach writes them), one mapping
 * per IOVA-contiguous run of memsegs, at the run's own IOVA + 1 TiB (fixed,
 * as the plugin maps at the memseg's IOVA: same alignment).  Returns the
 * map and unmap (invalidation waited for) times in ns, or -1. */
static int remap_attached(uint64_t *map_ns, uint64_t *unmap_ns, uint64_t *bytes, uint64_t *runs)
{
	static struct chunks c;
	uint64_t iova[256], t;
	struct uiommu_ioas *ioas = uiommu_dpdk_ioas();
	int i;

	c.n = 0;
	if (!ioas || rte_memseg_contig_walk(add_chunk, &c) < 0)
		return -1;
	*bytes = 0;
	for (i = 0; i < c.n; i++)
		iova[i] = rte_mem_virt2iova(c.va[i]) + REMAP_OFFSET;
	t = now_ns();
	for (i = 0; i < c.n; i++) {
		/* the model's bus addresses are the process's own (the plugin's
		 * bus_addr() for model=vtd): the plugin's map_one() path */
		if (uiommu_ioas_map(ioas, &iova[i], (uintptr_t)c.va[i], c.len[i],
				    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA))
			break;
		*bytes += c.len[i];
	}
	*map_ns = now_ns() - t;
	int mapped = i;
	t = now_ns();
	for (i = 0; i < mapped; i++)
		uiommu_ioas_unmap(ioas, iova[i], c.len[i], NULL);
	*unmap_ns = now_ns() - t;
	*runs = (uint64_t)c.n;
	return mapped == c.n ? 0 : -1;
}

/* One child: EAL, protect, measure, release; results as one text line on
 * the pipe (doubles). */
static int child(int fd, const char *what, unsigned mib, unsigned event_mib, unsigned loops)
{
	char prefix[64], state[64], mstr[16], cfg[160];
	char *args[16];
	int n = 0;
	FILE *out = fdopen(fd, "w");

	if (!out)
		return 2;
	snprintf(prefix, sizeof(prefix), "uiommu-bench-dpdk-%d", (int)getpid());
	snprintf(state, sizeof(state), "bench-dpdk-%d", (int)getpid());
	snprintf(mstr, sizeof(mstr), "%u", mib);
	args[n++] = "bench-dpdk";
	if (strcmp(what, "startup-4k")) {
		args[n++] = "--in-memory"; /* not with --no-huge (legacy memory) */
	} else {
		args[n++] = "--file-prefix";
		args[n++] = prefix;
	}
	args[n++] = "--no-pci";
	args[n++] = "-l";
	args[n++] = "0";
	args[n++] = "--log-level";
	args[n++] = "lib.eal:error";
	args[n++] = "--log-level";
	args[n++] = "pmd.uiommu:warning";
	if (!strcmp(what, "startup-4k")) {
		args[n++] = "--no-huge";
		args[n++] = "--iova-mode=va";
		args[n++] = "-m";
		args[n++] = mstr;
	} else {
		args[n++] = "--iova-mode=pa";
		if (!strcmp(what, "startup-2m")) {
			args[n++] = "-m";
			args[n++] = mstr;
		}
	}
	args[n] = NULL;
	if (rte_eal_init(n, args) < 0) {
		fprintf(stderr, "bench-dpdk: EAL: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	snprintf(cfg, sizeof(cfg), "model=vtd,state=%s,attach=00:03.0,poll=app", state);
	uint64_t t0 = now_ns();
	int rc = uiommu_dpdk_protect(cfg);
	uint64_t t_protect = now_ns() - t0;
	struct uiommu_dpdk_stats s0, s1;

	if (rc || uiommu_dpdk_get_stats(&s0)) {
		fprintf(stderr, "bench-dpdk: protect: %d\n", rc);
		rte_eal_cleanup();
		return 2;
	}
	if (strcmp(what, "events")) {
		/* the fault poll the alarm runs every poll_ms (nothing pending) */
		enum { NPOLL = 2000 };
		uint64_t tp = now_ns();

		for (int i = 0; i < NPOLL; i++)
			uiommu_dpdk_poll();
		uint64_t poll_ns = (now_ns() - tp) / NPOLL;

		uint64_t rm = 0, ru = 0, rb = 0, runs = 0, rm2 = 0, ru2 = 0;

		/* twice: the first map also allocates (and first touches) the
		 * page-table pages of the new IOVA range */
		if (remap_attached(&rm, &ru, &rb, &runs) ||
		    remap_attached(&rm2, &ru2, &rb, &runs)) {
			fprintf(stderr, "bench-dpdk: mapping DPDK's memory again failed\n");
			rc = 2;
		}
		/* bytes, startup_map_ns, protect_ns, whole call ns, areas,
		 * remap ns, unmap ns, remapped bytes, runs, second remap, unmap,
		 * poll ns */
		fprintf(out,
			"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			"\n",
			s0.mapped_bytes, s0.startup_map_ns, s0.protect_ns, t_protect, s0.nr_areas,
			rm, ru, rb, runs, rm2, ru2, poll_ns);
	} else {
		size_t len = (size_t)event_mib << 20;

		for (unsigned i = 0; i < loops; i++) {
			uint64_t a = now_ns();
			void *p = rte_malloc("bench", len, 2u << 20);
			uint64_t b = now_ns();

			if (!p) {
				fprintf(stderr, "bench-dpdk: rte_malloc(%u MiB) failed\n",
					event_mib);
				rc = 2;
				break;
			}
			memset(p, 0, 64);
			if (uiommu_dpdk_get_stats(&s1))
				break;
			uint64_t mapn = s1.map_events - s0.map_events,
				 mapns = s1.map_event_ns - s0.map_event_ns,
				 mapb = s1.map_event_bytes - s0.map_event_bytes;
			uint64_t c = now_ns();
			rte_free(p);
			uint64_t d = now_ns();

			s0 = s1;
			if (uiommu_dpdk_get_stats(&s1))
				break;
			uint64_t unn = s1.unmap_events - s0.unmap_events,
				 unns = s1.unmap_event_ns - s0.unmap_event_ns;
			s0 = s1;
			/* map events, map ns, mapped bytes, rte_malloc ns,
			 * unmap events, unmap ns, rte_free ns */
			fprintf(out,
				"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
				" %" PRIu64 " %" PRIu64 "\n",
				mapn, mapns, mapb, b - a, unn, unns, d - c);
		}
	}
	fflush(out);
	uiommu_dpdk_release();
	rte_eal_cleanup();
	return rc;
}

/* Run one child; read its lines into @rows (up to @max rows of @cols). */
static int run_child(const char *what, unsigned mib, unsigned event_mib, unsigned loops,
		     double rows[][12], int max, int cols)
{
	int p[2];

	if (pipe(p))
		return -errno;
	fflush(stdout);
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		_exit(child(p[1], what, mib, event_mib, loops));
	}
	close(p[1]);
	FILE *in = fdopen(p[0], "r");
	char line[512];
	int n = 0;

	while (in && fgets(line, sizeof(line), in) && n < max) {
		char *s = line, *e;
		int c;

		for (c = 0; c < cols; c++, s = e) {
			rows[n][c] = strtod(s, &e);
			if (e == s)
				break;
		}
		if (c == cols)
			n++;
	}
	if (in)
		fclose(in);
	int st;

	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -ECHILD;
	return n;
}

static void bench_startup(const char *what, unsigned mib, int reps)
{
	double per_gib[MAX_REPS], map_ms[MAX_REPS], prot_ms[MAX_REPS], rows[1][12];
	double remap_gib[MAX_REPS], unmap_gib[MAX_REPS], remap2_gib[MAX_REPS], unmap2_gib[MAX_REPS],
		poll_us[MAX_REPS];
	double bytes = 0, areas = 0;
	int n = 0, nchunks = 0;

	for (int r = 0; r < reps; r++) {
		int got = run_child(what, mib, 0, 0, rows, 1, 12);

		if (got != 1) {
			printf("# %s: repetition %d failed (%d)\n", what, r, got);
			continue;
		}
		bytes = rows[0][0];
		areas = rows[0][4];
		nchunks = (int)rows[0][8];
		map_ms[n] = rows[0][1] / 1e6;
		per_gib[n] = rows[0][1] / 1e6 * (double)(1ull << 30) / bytes;
		prot_ms[n] = rows[0][2] / 1e6;
		remap_gib[n] = rows[0][5] / 1e6 * (double)(1ull << 30) / rows[0][7];
		unmap_gib[n] = rows[0][6] / 1e6 * (double)(1ull << 30) / rows[0][7];
		remap2_gib[n] = rows[0][9] / 1e6 * (double)(1ull << 30) / rows[0][7];
		poll_us[n] = rows[0][11] / 1e3;
		unmap2_gib[n] = rows[0][10] / 1e6 * (double)(1ull << 30) / rows[0][7];
		n++;
	}
	printf("\n%s: %.0f MiB of DPDK memory, %.0f mapping(s) in the IOAS\n\n", what,
	       bytes / (1 << 20), areas);
	printf("| %s | median | min-max | runs |\n|---|---:|---:|---:|\n", what);
	print_stat("start-up map (memseg walk + uiommu_ioas_map, before attach), ms", map_ms, n,
		   "ms");
	print_stat("the same per GiB, ms", per_gib, n, "ms");
	print_stat("whole take-over (protect_ns: model unit, state, IOAS, map, attach, enable), ms",
		   prot_ms, n, "ms");
	print_stat("map into the attached IOAS (page tables written), ms per GiB", remap_gib, n,
		   "ms");
	print_stat("unmap from it (IOTLB invalidated, waited for), ms per GiB", unmap_gib, n, "ms");
	print_stat("the same map again, ms per GiB", remap2_gib, n, "ms");
	print_stat("and unmap again, ms per GiB", unmap2_gib, n, "ms");
	print_stat("fault poll, nothing pending (uiommu_dpdk_poll: what the alarm runs), µs",
		   poll_us, n, "us");
	printf("(%d IOVA-contiguous run(s) mapped again)\n", nchunks);
}

static void bench_events(unsigned event_mib, unsigned loops, int reps)
{
	static double rows[MAX_LOOPS][12];
	static double map_us[MAX_REPS * MAX_LOOPS], unmap_us[MAX_REPS * MAX_LOOPS],
		malloc_us[MAX_REPS * MAX_LOOPS], free_us[MAX_REPS * MAX_LOOPS],
		per_page_us[MAX_REPS * MAX_LOOPS];
	int n = 0, skipped = 0;

	for (int r = 0; r < reps; r++) {
		int got = run_child("events", 0, event_mib, loops, rows, MAX_LOOPS, 7);

		if (got < 0) {
			printf("# events: repetition %d failed (%d)\n", r, got);
			continue;
		}
		for (int i = 0; i < got; i++) {
			/* only allocations that grew the heap by one event and
			 * frees that gave it back by one event */
			if (rows[i][0] != 1 || rows[i][4] != 1) {
				skipped++;
				continue;
			}
			map_us[n] = rows[i][1] / 1e3;
			per_page_us[n] = rows[i][1] / 1e3 / (rows[i][2] / (2 << 20));
			malloc_us[n] = rows[i][3] / 1e3;
			unmap_us[n] = rows[i][5] / 1e3;
			free_us[n] = rows[i][6] / 1e3;
			n++;
		}
	}
	printf("\nevents: rte_malloc(%u MiB) + rte_free, %u per process x %d processes; %d "
	       "pairs left out (not exactly one memory event each)\n\n",
	       event_mib, loops, reps, skipped);
	printf("| events (%u MiB) | median µs | min-max µs | pairs |\n|---|---:|---:|---:|\n",
	       event_mib);
	print_stat("map event (plugin: map every new 2 MiB page)", map_us, n, "us");
	print_stat("  per 2 MiB page", per_page_us, n, "us");
	print_stat("rte_malloc that grew the heap (whole call)", malloc_us, n, "us");
	print_stat("unmap event (plugin: unmap, invalidate, wait)", unmap_us, n, "us");
	print_stat("rte_free that shrank the heap (whole call)", free_us, n, "us");
}

int main(int argc, char **argv)
{
	unsigned mib = 1024, huge_mib = 128, event_mib = 8, loops = 50;
	int reps = 5;
	const char *only = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(a, "--reps"))
			reps = atoi(v);
		else if (!strcmp(a, "--mib"))
			mib = (unsigned)atoi(v);
		else if (!strcmp(a, "--huge-mib"))
			huge_mib = (unsigned)atoi(v);
		else if (!strcmp(a, "--event-mib"))
			event_mib = (unsigned)atoi(v);
		else if (!strcmp(a, "--loops"))
			loops = (unsigned)atoi(v);
		else if (!strcmp(a, "--only"))
			only = v;
		else
			goto usage;
		i++;
	}
	if (reps < 1 || reps > MAX_REPS || loops < 1 || loops > MAX_LOOPS || mib < 8 ||
	    huge_mib < 4 || event_mib < 2)
		goto usage;
	printf("bench-dpdk: the DPDK plugin on the built-in VT-d model (model=vtd), %d "
	       "processes each\n",
	       reps);
	if (!only || !strcmp(only, "startup-4k"))
		bench_startup("startup-4k", mib, reps);
	bool huge_ok = geteuid() == 0 && free_hugepages() >= huge_mib / 2 + 4 &&
		       free_hugepages() >= event_mib / 2 + 8;
	if (!huge_ok && (!only || strcmp(only, "startup-4k")))
		printf("\n# startup-2m, events: need root and %u free 2 MiB hugepages (%" PRIu64
		       " free): skipped\n",
		       huge_mib / 2 + 4, free_hugepages());
	if (huge_ok && (!only || !strcmp(only, "startup-2m")))
		bench_startup("startup-2m", huge_mib, reps);
	if (huge_ok && (!only || !strcmp(only, "events")))
		bench_events(event_mib, loops, reps);
	return 0;
usage:
	fprintf(stderr,
		"usage: bench-dpdk [--reps 1-%d] [--mib MIB] [--huge-mib MIB] "
		"[--event-mib MIB] [--loops 1-%d] [--only startup-4k|startup-2m|events]\n",
		MAX_REPS, MAX_LOOPS);
	return 2;
}
