/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared state under kill -9, on the VT-d model: a transaction killed at
 * each of its allocation points in turn (uenv_crash_nth, like the fail-nth
 * walk) leaves the state exactly as before it began once the next process
 * adopts it: the same objects, mappings and arena use, `state check`
 * clean, DMA through the old mappings working and through the new ones
 * faulting.  The same walk with the transaction left to finish finds every
 * change there.  An explicit abort rolls back the same way.  A process
 * killed while changing the state outside a transaction is detected: the
 * next adoption passes the check or is refused, never crashes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "uiommu/uiommu.h"
#include "env/env.h"

#define BASE_IOVA  0x100000ull
#define BASE_PAGES 64u
#define NEW_IOVA   0x10000000ull
#define NEW_PAGES  96u
#define BIG_IOVA   0x40000000ull
#define BIG_LEN	   (4ull << 20)

static char name[64];

static struct uiommu_env_opts opts(bool create)
{
	return (struct uiommu_env_opts){
		.backend = UIOMMU_MEM_SHARED_SHM, .name = name, .create = create};
}

/* What must be the same before a rolled-back transaction and after. */
struct fingerprint {
	uint32_t nr[4]; /* units, devices, IOASes, HWPTs */
	uint32_t nr_areas;
	uint64_t area_sum; /* over (iova, len, phys) of every area */
	struct uenv_stats st;
};

static void fingerprint(struct uiommu_ctx *ctx, struct fingerprint *f)
{
	struct uiommu_area_info a[64];

	memset(f, 0, sizeof(*f));
	for (struct uiommu_unit *u = uiommu_unit_next(ctx, NULL); u; u = uiommu_unit_next(ctx, u))
		f->nr[0]++;
	for (struct uiommu_device *d = uiommu_device_next(ctx, NULL); d;
	     d = uiommu_device_next(ctx, d))
		f->nr[1]++;
	for (struct uiommu_hwpt *h = uiommu_hwpt_next(ctx, NULL); h; h = uiommu_hwpt_next(ctx, h))
		f->nr[3]++;
	for (struct uiommu_ioas *s = uiommu_ioas_next(ctx, NULL); s; s = uiommu_ioas_next(ctx, s)) {
		uint64_t from = 0;
		uint32_t n;

		f->nr[2]++;
		while ((n = uiommu_ioas_areas(s, from, a, 64)) > 0) {
			for (uint32_t i = 0; i < n; i++) {
				f->nr_areas++;
				f->area_sum += a[i].iova * 3 + a[i].len * 5 + a[i].phys * 7;
			}
			from = a[n - 1].iova + a[n - 1].len;
		}
	}
	uenv_get_stats(&f->st);
	f->st.allocs = 0; /* a counter, not state */
}

static bool fp_equal(const struct fingerprint *a, const struct fingerprint *b)
{
	return !memcmp(a->nr, b->nr, sizeof(a->nr)) && a->nr_areas == b->nr_areas &&
	       a->area_sum == b->area_sum && a->st.heap_live == b->st.heap_live &&
	       a->st.pages_live == b->st.pages_live && a->st.dma_live == b->st.dma_live &&
	       a->st.chunks == b->st.chunks;
}

static void fp_print(const char *what, const struct fingerprint *f)
{
	fprintf(stderr,
		"  %s: units %u devices %u ioas %u hwpts %u areas %u sum %llx heap %llu pages "
		"%llu dma %llu chunks %llu\n",
		what, f->nr[0], f->nr[1], f->nr[2], f->nr[3], f->nr_areas,
		(unsigned long long)f->area_sum, (unsigned long long)f->st.heap_live,
		(unsigned long long)f->st.pages_live, (unsigned long long)f->st.dma_live,
		(unsigned long long)f->st.chunks);
}

static void report_line(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  state check: %s\n", msg);
}

/* The family whose model is under test (UIOMMU_CRASH_FAMILY: "vtd", the
 * default, or "smmuv3"). */
static enum uiommu_family crash_family(void)
{
	const char *f = getenv("UIOMMU_CRASH_FAMILY");

	return f && !strcmp(f, "smmuv3") ? UIOMMU_FAMILY_SMMUV3 : UIOMMU_FAMILY_VTD;
}

/* The base state: one model unit, device 0x10 attached to an IOAS with
 * BASE_PAGES 4 KiB mappings of a buffer. */
static void make_base(struct fingerprint *fp)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_unit_desc ud = {.family = crash_family(), .access = UIOMMU_UNIT_MODEL,
				      .numa_node = -1};
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x10, .hw_id = 0x10};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *s;
	uint64_t bus, iova;
	uint8_t *va;

	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &dd, &d) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &s) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(s), NULL) == 0);
	CU_ASSERT_FATAL(uiommu_buf_alloc(ctx, BASE_PAGES * 4096ull, (void **)&va, &bus) == 0);
	for (uint32_t i = 0; i < BASE_PAGES; i++) {
		va[i * 4096] = (uint8_t)(0x40 + i);
		iova = BASE_IOVA + i * 0x2000ull;
		CU_ASSERT_FATAL(uiommu_ioas_map(s, &iova, bus + i * 4096ull, 4096,
						UIOMMU_MAP_READ | UIOMMU_MAP_WRITE |
							UIOMMU_MAP_FIXED_IOVA) == 0);
	}
	fingerprint(ctx, fp);
	uiommu_ctx_detach(ctx);
}

/* The transaction under test: a second device and IOAS, many single-page
 * maps, a 4 MiB map of 4 KiB pages (one call), unmaps of half the base
 * pages, the first device detached. */
static int txn_ops(struct uiommu_ctx *ctx)
{
	struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x20, .hw_id = 0x20};
	struct uiommu_unit *u = uiommu_unit_next(ctx, NULL);
	struct uiommu_device *d1 = uiommu_device_next(ctx, NULL), *d2;
	struct uiommu_ioas *s1 = uiommu_ioas_next(ctx, NULL), *s2;
	uint64_t bus, iova;
	void *va;
	int rc;

	if ((rc = uiommu_ioas_alloc(ctx, &s2)) || (rc = uiommu_device_add(u, &dd, &d2)) ||
	    (rc = uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_ioas_id(s2), NULL)))
		return rc;
	rc = uiommu_buf_alloc(ctx, BIG_LEN + 4096, &va, &bus);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < NEW_PAGES; i++) {
		iova = NEW_IOVA + i * 0x3000ull;
		rc = uiommu_ioas_map(i & 1 ? s2 : s1, &iova, bus + (i % 64) * 4096ull, 4096,
				     UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA);
		if (rc)
			return rc;
	}
	/* 4 KiB aligned, not 2 MiB: one call, 1024 leaves. */
	iova = BIG_IOVA;
	rc = uiommu_ioas_map(s1, &iova, bus + 4096, BIG_LEN,
			     UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < BASE_PAGES; i += 2)
		if ((rc = uiommu_ioas_unmap(s1, BASE_IOVA + i * 0x2000ull, 4096, NULL)))
			return rc;
	return uiommu_device_detach(d1, UIOMMU_NO_PASID);
}

/* DMA through the base state's mappings works, through the new ones faults. */
static void check_dma_base(struct uiommu_ctx *ctx)
{
	struct uiommu_device *d1 = uiommu_device_next(ctx, NULL);
	uint8_t b = 0;

	CU_ASSERT_FATAL(d1 != NULL);
	for (uint32_t i = 0; i < BASE_PAGES; i += 7) {
		CU_ASSERT(uiommu_model_dma(d1, UIOMMU_NO_PASID, BASE_IOVA + i * 0x2000ull, &b, 1,
					   false) == 0);
		CU_ASSERT(b == (uint8_t)(0x40 + i));
	}
	CU_ASSERT(uiommu_model_dma(d1, UIOMMU_NO_PASID, NEW_IOVA, &b, 1, false) == -EFAULT);
	CU_ASSERT(uiommu_model_dma(d1, UIOMMU_NO_PASID, BIG_IOVA + 0x1000, &b, 1, false) ==
		  -EFAULT);
	/* Drain the faults this recorded. */
	struct uiommu_event ev[16];
	while (uiommu_poll(ctx, ev, 16))
		;
}

/* Adopt after the child; compare with @want; the state checks clean. */
static void adopt_and_compare(const struct fingerprint *want, bool base, int n)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	struct fingerprint got;
	int rc = uiommu_ctx_create(&o, &ctx);

	CU_ASSERT_FATAL(rc == 0);
	fingerprint(ctx, &got);
	if (!fp_equal(&got, want)) {
		fprintf(stderr, "  crash point %d: state differs\n", n);
		fp_print("want", want);
		fp_print("got ", &got);
		CU_FAIL("state after the crash is not the one expected");
	}
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	if (base)
		check_dma_base(ctx);
	uiommu_ctx_detach(ctx);
}

/* Child: adopt, arm the crash, run the transaction, commit. */
static void __attribute__((noreturn)) child(unsigned long crash_at, bool txn)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;

	if (uiommu_ctx_create(&o, &ctx))
		_exit(10);
	if (txn && uiommu_txn_begin(ctx, 5000, NULL))
		_exit(11);
	uenv_crash_nth(crash_at);
	int rc = txn_ops(ctx);
	uenv_crash_nth(0);
	if (rc)
		_exit(12);
	if (txn && uiommu_txn_commit(ctx))
		_exit(13);
	uiommu_ctx_detach(ctx);
	_exit(0);
}

static int run_child(unsigned long crash_at, bool txn)
{
	int status;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		child(crash_at, txn);
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 1;
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}

static void destroy_state(void)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;

	if (uiommu_ctx_create(&o, &ctx) == 0)
		uiommu_ctx_destroy(ctx);
	else
		(void)uiommu_state_remove(&o);
}

static void test_crash_walk(void)
{
	struct fingerprint base;
	unsigned long n, step = getenv("UIOMMU_TEST_QUICK") ? 7 : 1;
	int crashed = 0;

	snprintf(name, sizeof(name), "crash-%d", (int)getpid());
	make_base(&base);
	for (n = 1;; n += step) {
		if (!run_child(n, true))
			break; /* the transaction ran to its end */
		crashed++;
		adopt_and_compare(&base, true, (int)n);
		if (n > 100000) {
			CU_FAIL("no end to the crash walk");
			break;
		}
	}
	printf("\n    %d crash points walked, each rolled back to the base state\n", crashed);
	/* The SMMUv3 driver allocates less per attach (no context tables). */
	CU_ASSERT((unsigned long)crashed * step > (crash_family() == UIOMMU_FAMILY_VTD ? 20u : 10u));
	/* The last child committed: every change is there. */
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	struct fingerprint after;

	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	fingerprint(ctx, &after);
	CU_ASSERT(after.nr[1] == 2 && after.nr[2] == 2);
	CU_ASSERT(after.nr_areas == BASE_PAGES / 2 + NEW_PAGES + 1);
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	{
		struct uiommu_device *d1 = uiommu_device_next(ctx, NULL);
		struct uiommu_device *d2 = uiommu_device_next(ctx, d1);
		uint8_t b;

		/* d1 detached: blocked; d2 reads its odd pages. */
		CU_ASSERT(uiommu_model_dma(d1, UIOMMU_NO_PASID, BASE_IOVA + 0x2000, &b, 1,
					   false) == -EFAULT);
		CU_ASSERT(uiommu_model_dma(d2, UIOMMU_NO_PASID, NEW_IOVA + 0x3000, &b, 1,
					   false) == 0);
	}
	uiommu_ctx_destroy(ctx);
}

static void test_abort(void)
{
	struct uiommu_env_opts o = opts(false);
	struct fingerprint base, got;
	struct uiommu_ctx *ctx;

	snprintf(name, sizeof(name), "abort-%d", (int)getpid());
	make_base(&base);
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_txn_begin(ctx, 1000, NULL) == 0);
	CU_ASSERT(uiommu_txn_begin(ctx, 1000, NULL) == -EBUSY); /* no nesting */
	CU_ASSERT(txn_ops(ctx) == 0);
	CU_ASSERT(uiommu_txn_abort(ctx) == 0);
	fingerprint(ctx, &got);
	CU_ASSERT(fp_equal(&got, &base));
	CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
	check_dma_base(ctx);
	/* The state works on after the rollback. */
	CU_ASSERT_FATAL(uiommu_txn_begin(ctx, 1000, NULL) == 0);
	CU_ASSERT(txn_ops(ctx) == 0);
	CU_ASSERT(uiommu_txn_commit(ctx) == 0);
	fingerprint(ctx, &got);
	CU_ASSERT(got.nr_areas == BASE_PAGES / 2 + NEW_PAGES + 1);
	uiommu_ctx_destroy(ctx);
}

/* One call that changes many things, without a transaction of the
 * caller's: a map of 8 MiB in 4 KiB pages and an attach of a new device
 * (which builds its page table) are each all or nothing under kill -9. */
static void __attribute__((noreturn)) child_one_call(unsigned long crash_at, int which)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	void *va;
	uint64_t bus, iova = BIG_IOVA;
	int rc;

	if (uiommu_ctx_create(&o, &ctx))
		_exit(10);
	struct uiommu_ioas *s1 = uiommu_ioas_next(ctx, NULL);
	if (which == 0) {
		if (uiommu_buf_alloc(ctx, 2 * BIG_LEN + 4096, &va, &bus))
			_exit(11);
		uenv_crash_nth(crash_at);
		rc = uiommu_ioas_map(s1, &iova, bus + 4096, 2 * BIG_LEN,
				     UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA);
	} else {
		struct uiommu_device_desc dd = {.bus = 0, .devfn = 0x28, .hw_id = 0x28};
		struct uiommu_device *d2;
		struct uiommu_ioas *s2;

		if (uiommu_device_add(uiommu_unit_next(ctx, NULL), &dd, &d2) ||
		    uiommu_ioas_alloc(ctx, &s2))
			_exit(11);
		uenv_crash_nth(crash_at);
		rc = uiommu_device_attach(d2, UIOMMU_NO_PASID, uiommu_ioas_id(s2), NULL);
	}
	uenv_crash_nth(0);
	if (rc)
		_exit(12);
	uiommu_ctx_detach(ctx);
	_exit(0);
}

static void one_call_walk(int which)
{
	struct uiommu_env_opts o = opts(false);
	struct fingerprint base, pre, got;
	struct uiommu_ctx *ctx;
	int crashed = 0, status;

	snprintf(name, sizeof(name), "onecall%d-%d", which, (int)getpid());
	make_base(&base);
	for (unsigned long n = 1; n < 10000; n++) {
		pid_t pid = fork();

		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			child_one_call(n, which);
		CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
		CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
		fingerprint(ctx, &got);
		CU_ASSERT(uiommu_state_check(ctx, report_line, NULL) == 0);
		if (WIFEXITED(status)) {
			CU_ASSERT(WEXITSTATUS(status) == 0);
			/* Finished: the call's change is whole. */
			CU_ASSERT(which ? got.nr[3] == base.nr[3] + 1 : got.nr_areas == base.nr_areas + 1);
			uiommu_ctx_destroy(ctx);
			break;
		}
		crashed++;
		/* Killed inside the call: exactly the state before it (the
		 * child's own set-up before the call stays). */
		if (which == 0) {
			CU_ASSERT(got.nr_areas == base.nr_areas && got.area_sum == base.area_sum);
		} else {
			CU_ASSERT(got.nr[3] == base.nr[3]); /* no new HWPT */
		}
		(void)pre;
		check_dma_base(ctx);
		/* Take the child's set-up away again for the next round. */
		if (which == 0) {
			struct uiommu_buf_info bi[8];
			uint32_t nb = uiommu_buf_list(ctx, bi, 8);

			for (uint32_t i = 0; i < nb; i++)
				if (bi[i].len > BIG_LEN)
					CU_ASSERT(uiommu_buf_free(ctx, bi[i].bus_addr) == 0);
		} else {
			struct uiommu_device *d = uiommu_device_next(ctx, NULL), *d2;
			struct uiommu_ioas *s = uiommu_ioas_next(ctx, NULL), *s2;

			d2 = uiommu_device_next(ctx, d);
			s2 = uiommu_ioas_next(ctx, s);
			CU_ASSERT(d2 && s2);
			if (d2)
				CU_ASSERT(uiommu_device_remove(d2) == 0);
			if (s2)
				CU_ASSERT(uiommu_ioas_destroy(s2) == 0);
		}
		fingerprint(ctx, &got);
		CU_ASSERT(fp_equal(&got, &base));
		uiommu_ctx_detach(ctx);
		if (getenv("UIOMMU_TEST_QUICK"))
			n += 4;
	}
	printf("\n    %s: %d crash points inside the call, each undone whole\n",
	       which ? "attach" : "8 MiB map", crashed);
	CU_ASSERT(crashed > 0);
}

static void test_one_call_map(void)
{
	one_call_walk(0);
}

static void test_one_call_attach(void)
{
	one_call_walk(1);
}

/* Without a transaction there is nothing to roll back to: whatever the
 * kill left is either consistent or refused, and never crashes anyone. */
static void test_crash_outside_txn(void)
{
	struct uiommu_env_opts o = opts(false);
	struct fingerprint base;
	int refused = 0, adopted = 0;

	for (unsigned long n = 1; n < 400; n += getenv("UIOMMU_TEST_QUICK") ? 5 : 1) {
		struct uiommu_ctx *ctx;
		int rc;

		snprintf(name, sizeof(name), "notxn-%d-%lu", (int)getpid(), n);
		make_base(&base);
		if (!run_child(n, false)) {
			destroy_state();
			break;
		}
		rc = uiommu_ctx_create(&o, &ctx);
		CU_ASSERT(rc == 0 || rc == -EUCLEAN);
		if (rc == 0) {
			adopted++;
			CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
			uiommu_ctx_destroy(ctx);
		} else {
			refused++;
			CU_ASSERT(uiommu_state_remove(&o) == 0);
		}
	}
	printf("\n    killed outside a transaction: %d adopted (consistent), %d refused\n",
	       adopted, refused);
}

int main(int argc, char **argv)
{
	static const struct ut_test tests[] = {
		{"crash_at_each_allocation_point", test_crash_walk},
		{"abort_rolls_back", test_abort},
		{"big_map_all_or_nothing", test_one_call_map},
		{"attach_all_or_nothing", test_one_call_attach},
		{"crash_outside_a_transaction", test_crash_outside_txn},
		{NULL, NULL},
	};
	static const struct ut_suite suites[] = {
		{"vtd_crash", NULL, NULL, tests},
		{NULL, NULL, NULL, NULL},
	};

	return ut_main(suites, argc, argv);
}
