/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment layer.  Run without arguments: DPDK EAL with --no-huge
 * (IOVA as VA).  Run with "huge": 2 MiB hugepages are reserved through
 * /sys/kernel/mm/hugepages and hugetlbfs is mounted if needed (root), then
 * EAL runs --in-memory with IOVA as PA, and the shared hugetlbfs arena
 * backend is tested too.  Without root or hugepages the "huge" run skips
 * (exit 77).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "env/env.h"

static bool huge_mode;

/* Table pages: aligned, zeroed, distinct, translatable both ways. */
static void test_pages(void)
{
	enum { N = 3000 }; /* more than one chunk */
	static void *va[N];
	static uint64_t pa[N];
	struct uenv_stats st0, st1;

	uenv_get_stats(&st0);
	for (int i = 0; i < N; i++) {
		va[i] = uenv_page_alloc(UENV_NODE_ANY, &pa[i]);
		CU_ASSERT_FATAL(va[i] != NULL);
		CU_ASSERT(((uintptr_t)va[i] & 4095) == 0);
		CU_ASSERT((pa[i] & 4095) == 0);
		CU_ASSERT(((uint64_t *)va[i])[0] == 0 && ((uint64_t *)va[i])[511] == 0);
		CU_ASSERT(uenv_iova_to_va(pa[i]) == va[i]);
		CU_ASSERT(uenv_iova_to_va(pa[i] + 0x123) == (char *)va[i] + 0x123);
		CU_ASSERT(uenv_va_to_iova(va[i]) == pa[i]);
		/* The span the page-table engine uses agrees with the look-ups:
		 * linear over the chunk, same count slot, a generation word. */
		struct uenv_span sp;
		CU_ASSERT_FATAL(uenv_iova_span(pa[i] + 8, &sp) == 0);
		CU_ASSERT(pa[i] - sp.iova < sp.len && sp.len >= 4096 && (sp.len & 4095) == 0);
		CU_ASSERT(sp.va + (pa[i] - sp.iova) == (uint8_t *)va[i]);
		CU_ASSERT(sp.cnt && &sp.cnt[(pa[i] - sp.iova) >> 12] == uenv_page_count(va[i]));
		CU_ASSERT(sp.gen && *sp.gen == sp.gen_val);
		memset(va[i], 0xa5, 4096);
	}
	/* Not arena memory: no span. */
	struct uenv_span none;
	CU_ASSERT(uenv_iova_span(0x1000, &none) == -ENOENT);
	uenv_get_stats(&st1);
	CU_ASSERT(st1.pages_live == st0.pages_live + N);
	CU_ASSERT(st1.chunks > st0.chunks);
	for (int i = 0; i < N; i += 2)
		uenv_page_free(va[i]);
	/* Freed pages come back zeroed. */
	for (int i = 0; i < N; i += 2) {
		va[i] = uenv_page_alloc(UENV_NODE_ANY, &pa[i]);
		CU_ASSERT_FATAL(va[i] != NULL);
		CU_ASSERT(((uint64_t *)va[i])[7] == 0);
	}
	struct uenv_span before;
	struct uenv_stats sm;
	CU_ASSERT_FATAL(uenv_iova_span(pa[0], &before) == 0);
	uenv_get_stats(&sm);
	for (int i = 0; i < N; i++)
		uenv_page_free(va[i]);
	uenv_get_stats(&st1);
	CU_ASSERT(st1.pages_live == st0.pages_live);
	/* A chunk that went away with its pages shows in the generation
	 * (else the span would still hold). */
	CU_ASSERT((st1.chunks < sm.chunks) == (*before.gen != before.gen_val));
	/* Not arena memory. */
	int local;
	CU_ASSERT(uenv_va_to_iova(&local) == UINT64_MAX);
	CU_ASSERT(uenv_iova_to_va(0x1000) == NULL);
}

static void test_dma(void)
{
	struct uenv_dma d[6];
	size_t sizes[6] = {4096, 8192, 64 * 1024, 256 * 1024, 1 << 20, 4 << 20};

	for (int i = 0; i < 6; i++) {
		size_t align = sizes[i] > (1 << 20) ? (1 << 20) : sizes[i];
		int rc = uenv_dma_alloc(sizes[i], align, UENV_NODE_ANY, &d[i]);
		if (huge_mode && sizes[i] > (1 << 20) && rc == -ENOMEM) {
			/* Contiguous beyond one hugepage is not always possible. */
			d[i].va = NULL;
			continue;
		}
		CU_ASSERT_FATAL(rc == 0);
		CU_ASSERT((d[i].iova & (align - 1)) == 0);
		CU_ASSERT(d[i].len >= sizes[i]);
		CU_ASSERT(uenv_iova_to_va(d[i].iova + sizes[i] - 1) ==
			  (char *)d[i].va + sizes[i] - 1);
		memset(d[i].va, 0x5a, sizes[i]);
	}
	for (int i = 0; i < 6; i++)
		uenv_dma_free(&d[i]);
	struct uenv_dma bad;
	CU_ASSERT(uenv_dma_alloc(0, 4096, UENV_NODE_ANY, &bad) == -EINVAL);
	CU_ASSERT(uenv_dma_alloc(4096, 3000, UENV_NODE_ANY, &bad) == -EINVAL);
	/* Node preference: any node in this machine works. */
	CU_ASSERT(uenv_dma_alloc(4096, 4096, uenv_numa_nodes() - 1, &bad) == 0);
	uenv_dma_free(&bad);
}

static void test_heap(void)
{
	void *p[2000];
	struct uenv_stats st0, st1;

	uenv_get_stats(&st0);
	for (int i = 0; i < 2000; i++) {
		size_t sz = (size_t)(i * 37 % 9000) + 1;
		p[i] = uenv_zalloc(sz);
		CU_ASSERT_FATAL(p[i] != NULL);
		CU_ASSERT(((char *)p[i])[sz - 1] == 0);
		memset(p[i], 0x33, sz);
	}
	void *big = uenv_zalloc(3 << 20);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 1, 3 << 20);
	uenv_free(big);
	for (int i = 0; i < 2000; i++)
		uenv_free(p[i]);
	uenv_get_stats(&st1);
	CU_ASSERT(st1.heap_live == st0.heap_live);
	char *s = uenv_strdup("uiommu");
	CU_ASSERT(s && strcmp(s, "uiommu") == 0);
	uenv_free(s);
}

static void test_fail_nth(void)
{
	uint64_t pa;
	struct uenv_dma d;

	uenv_fail_nth(3);
	void *a = uenv_zalloc(10);
	void *b = uenv_page_alloc(UENV_NODE_ANY, &pa);
	CU_ASSERT(a && b && !uenv_fail_fired());
	CU_ASSERT(uenv_dma_alloc(4096, 4096, UENV_NODE_ANY, &d) == -ENOMEM);
	CU_ASSERT(uenv_fail_fired());
	void *c = uenv_zalloc(10);
	CU_ASSERT(c != NULL); /* one shot */
	uenv_fail_nth(1);
	CU_ASSERT(uenv_page_alloc(UENV_NODE_ANY, &pa) == NULL);
	uenv_fail_nth(0);
	uenv_free(a);
	uenv_free(c);
	uenv_page_free(b);
}

static void test_virt2iova_and_misc(void)
{
	uint64_t contig = 0;
	static char buf[3 * 4096] __attribute__((aligned(4096)));

	memset(buf, 1, sizeof(buf)); /* fault the pages in: pagemap shows only present pages */
	uint64_t io = uenv_mem_virt2iova(buf, &contig);
	if (uenv_iova_is_va()) {
		CU_ASSERT(io == (uint64_t)(uintptr_t)buf);
	} else {
		CU_ASSERT(io != UINT64_MAX && (io & 4095) == 0);
		CU_ASSERT(contig >= 4096);
	}
	void *pg = uenv_page_alloc(UENV_NODE_ANY, &io);
	CU_ASSERT(uenv_mem_virt2iova((char *)pg + 8, &contig) == io + 8);
	uenv_page_free(pg);
	CU_ASSERT(uenv_now_ns() > 0);
	uenv_lock_t l = {0};
	uenv_lock(&l);
	CU_ASSERT(l.v == uenv_session() && l.v != 0 && uenv_lock_holder(&l, NULL) == (uint32_t)getpid());
	uenv_unlock(&l);
	CU_ASSERT(l.v == 0);
	CU_ASSERT(uenv_numa_nodes() >= 1);
	uenv_log_set_level(UENV_LOG_CORE, 8);
	UENV_LOG(CORE, DEBUG, "debug line from the env test");
	uenv_log_set_level(UENV_LOG_CORE, 6);
}

static int init_dpdk(void)
{
	if (!huge_mode)
		return uenv_init(NULL);
	char *args[] = {"env_ut",   "--in-memory",    "--iova-mode=pa",
			"--no-pci", "--no-telemetry", "-l",
			"0",	    "--log-level",    "lib.eal:warning"};
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_DPDK, .eal_argc = 9, .eal_argv = args};
	return uenv_init(&o);
}

static int fini(void)
{
	uenv_fini(true);
	return 0;
}

static char shname[64];

static int init_shared(void)
{
	struct uiommu_env_opts o = {.backend = huge_mode ? UIOMMU_MEM_SHARED_HUGE
							 : UIOMMU_MEM_SHARED_SHM,
				    .name = shname,
				    .create = true,
				    .arena_max = 64u << 20};
	snprintf(shname, sizeof(shname), "env-ut-%d", (int)getpid());
	return uenv_init(&o);
}

static void test_shared_limits(void)
{
	struct uenv_dma d;
	/* 64 MiB arena: a 128 MiB block cannot fit. */
	CU_ASSERT(uenv_dma_alloc(128u << 20, 4096, UENV_NODE_ANY, &d) == -ENOMEM);
	CU_ASSERT(uenv_root_slot() != NULL);
}

static long free_hugepages(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Drop CAP_SYS_ADMIN from the effective set: /proc/self/pagemap then shows
 * no page frame numbers (as for a user that is not root). */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

/*
 * Hugepage arena, physical address unreadable (not CAP_SYS_ADMIN): a new
 * chunk is refused with -EPERM and the arena gives its hugepage back (the
 * file shrinks to its old length, the pool has as many free pages).
 */
static void test_shared_grab_no_phys(void)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_HUGE, .name = shname};
	char path[256];
	struct stat before, after;
	pid_t pid;
	int st = 0;

	if (!huge_mode || uenv_iova_is_va()) {
		CU_PASS("hugepage arena only");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(uenv_state_path(&o, path, sizeof(path)), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &before), 0);
	long free0 = free_hugepages();

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct uenv_dma d[8];
		int rc = -1, n;

		if (drop_sys_admin())
			_exit(3);
		/* More than the arena has spare: at least one new chunk. */
		for (n = 0; n < 8; n++) {
			rc = uenv_dma_alloc(2u << 20, 2u << 20, UENV_NODE_ANY, &d[n]);
			if (rc)
				break;
		}
		_exit(rc == -EPERM ? 0 : 4);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &after), 0);
	CU_ASSERT(after.st_size <= before.st_size);
	CU_ASSERT(free_hugepages() >= free0);
}

static const struct ut_test tests[] = {
	{"pages", test_pages},
	{"dma_blocks", test_dma},
	{"heap", test_heap},
	{"fail_nth", test_fail_nth},
	{"virt2iova_lock_numa_log", test_virt2iova_and_misc},
	{NULL, NULL},
};

static const struct ut_test shared_tests[] = {
	{"pages", test_pages},	     {"dma_blocks", test_dma},	     {"heap", test_heap},
	{"fail_nth", test_fail_nth}, {"limits", test_shared_limits},
	{"grab_no_phys", test_shared_grab_no_phys}, {NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"env_dpdk", init_dpdk, fini, tests},
	{"env_shared", init_shared, fini, shared_tests},
	{NULL, NULL, NULL, NULL},
};

/* Reserve 2 MiB hugepages and mount hugetlbfs (as root); false if impossible. */
static bool hugepages_setup(void)
{
	const char *nr = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
	FILE *f = fopen(nr, "r+");
	long have = 0;

	if (!f)
		return false;
	if (fscanf(f, "%ld", &have) != 1)
		have = 0;
	if (have < 128) {
		rewind(f);
		fprintf(f, "%d\n", 128);
	}
	fclose(f);
	if (access("/dev/hugepages", F_OK) != 0)
		mkdir("/dev/hugepages", 0755);
	/* Already mounted? mount returns EBUSY then. */
	if (mount("nodev", "/dev/hugepages", "hugetlbfs", 0, "pagesize=2M") != 0 && errno != EBUSY)
		return false;
	f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	have = 0;
	if (f) {
		if (fscanf(f, "%ld", &have) != 1)
			have = 0;
		fclose(f);
	}
	return have >= 64;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "huge") == 0) {
		huge_mode = true;
		if (!hugepages_setup()) {
			printf("env_ut: no 2 MiB hugepages (need root): skipped\n");
			return 77;
		}
		argc--;
		argv++;
		if (getenv("UIOMMU_UNDER_VALGRIND")) {
			/* valgrind cannot give EAL the virtual-address reservations its
			 * hugepage memory needs: test the hugetlbfs arena only. */
			static char *only[] = {"env_ut", "env_shared", NULL};
			printf("env_ut: under valgrind: DPDK hugepage suite not run\n");
			return ut_main(suites, 2, only);
		}
	}
	return ut_main(suites, argc, argv);
}
