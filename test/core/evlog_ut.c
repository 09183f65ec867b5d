/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-unit event history (uiommu_events_read): one process polls the
 * faults a VT-d model's DMA produced (as the DPDK plugin's service does),
 * another reads them from the shared state through the API and through
 * `uiommuctl faults`; a reader that falls behind gets one "lost" record;
 * a damaged history (every field of the ring) crashes no reader and is
 * named by the state checker; a writer killed half-way through an append
 * leaves a history the readers and the checker accept.
 *
 * Usage: core-evlog [UIOMMUCTL] (without it the uiommuctl part is skipped)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ut.h"
#include "core/core.h"
#include "uiommu/uiommu.h"

static const char *ctl_path;
static char name[64];

#define RID	   0x18
#define NR_LATER   2
#define NR_OVERRUN 300

static struct uiommu_env_opts opts(bool create)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM,
				    .name = name,
				    .create = create,
				    .arena_max = 64u << 20};
	return o;
}

/* The address of the @i-th fault the poller makes (reads at odd i). */
static uint64_t fault_addr(unsigned int i)
{
	return 0x10000000ull + (uint64_t)i * 0x1000;
}

static int fault_dma(struct uiommu_device *d, unsigned int i)
{
	uint8_t buf[16] = {0};

	return uiommu_model_dma(d, UIOMMU_NO_PASID, fault_addr(i), buf, sizeof(buf), !(i & 1));
}

/* Make faults [@from, @to) and drain them with uiommu_poll, one by one
 * (the model has 8 fault recording registers). */
static int fault_and_poll(struct uiommu_ctx *ctx, struct uiommu_device *d, unsigned int from,
			  unsigned int to)
{
	struct uiommu_event ev[8];

	for (unsigned int i = from; i < to; i++) {
		if (fault_dma(d, i) != -EFAULT)
			return 1;
		if (uiommu_poll(ctx, ev, 8) != 1 || ev[0].type != UIOMMU_EV_FAULT ||
		    ev[0].addr != fault_addr(i))
			return 2;
	}
	return 0;
}

static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

static char hear(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

/* The poller: creates the state, polls what its DMA faults, step by step. */
static void poller(int to_parent, int from_parent)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *ioas;

	if (uiommu_ctx_create(&o, &ctx) || uiommu_unit_add(ctx, &ud, &u) ||
	    uiommu_device_add(u, &(struct uiommu_device_desc){.hw_id = RID}, &d) ||
	    uiommu_ioas_alloc(ctx, &ioas) ||
	    uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL))
		_exit(10);
	/* Nothing is mapped: every DMA faults. */
	if (fault_and_poll(ctx, d, 0, 3))
		_exit(11);
	say(to_parent, '1');
	if (hear(from_parent) != 'g' || fault_and_poll(ctx, d, 3, 3 + NR_LATER))
		_exit(12);
	say(to_parent, '2');
	if (hear(from_parent) != 'g' ||
	    fault_and_poll(ctx, d, 3 + NR_LATER, 3 + NR_LATER + NR_OVERRUN))
		_exit(13);
	say(to_parent, '3');
	if (hear(from_parent) != 'g')
		_exit(14);
	uiommu_ctx_detach(ctx);
	_exit(0);
}

static void check_fault(const struct uiommu_event *e, struct uiommu_unit *u, unsigned int i)
{
	CU_ASSERT(e->type == UIOMMU_EV_FAULT);
	CU_ASSERT(e->unit_id == uiommu_unit_id(u));
	CU_ASSERT(e->hw_id == RID);
	CU_ASSERT(e->dev_id != 0);
	CU_ASSERT(e->addr == fault_addr(i));
	CU_ASSERT(!!(e->flags & UIOMMU_EV_WRITE) == !(i & 1));
	CU_ASSERT(e->reason_text && e->reason_text[0]);
}

/* `uiommuctl -j faults` on the state: every address of faults [@from, @to)
 * is in what it prints (drained by another process before it ran). */
static void ctl_shows(unsigned int from, unsigned int to, const char *also)
{
	char cmd[512], *out;
	size_t len = 0, cap = 1 << 20;
	FILE *p;

	if (!ctl_path)
		return;
	snprintf(cmd, sizeof(cmd), "%s --state %s -j faults", ctl_path, name);
	p = popen(cmd, "r");
	CU_ASSERT_FATAL(p != NULL);
	out = calloc(1, cap);
	CU_ASSERT_FATAL(out != NULL);
	while (len < cap - 1) {
		size_t n = fread(out + len, 1, cap - 1 - len, p);
		if (!n)
			break;
		len += n;
	}
	CU_ASSERT(pclose(p) == 0);
	for (unsigned int i = from; i < to; i++) {
		char a[64];

		snprintf(a, sizeof(a), "\"addr\": \"%#" PRIx64 "\"", fault_addr(i));
		if (!strstr(out, a)) {
			printf("\n    uiommuctl faults misses %s: %.300s", a, out);
			CU_FAIL("uiommuctl faults");
			break;
		}
	}
	if (also && !strstr(out, also)) {
		printf("\n    uiommuctl faults misses %s: %.300s", also, out);
		CU_FAIL("uiommuctl faults");
	}
	free(out);
}

static void test_two_processes(void)
{
	int up[2], down[2], status;
	struct uiommu_env_opts o = opts(false);
	struct uiommu_event ev[32];
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	uint64_t cur = 0, late = UIOMMU_EVENTS_LATEST, seen;
	pid_t pid;
	int n;

	snprintf(name, sizeof(name), "ut-evlog-%d", (int)getpid());
	CU_ASSERT_FATAL(pipe(up) == 0 && pipe(down) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		poller(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	CU_ASSERT_FATAL(hear(up[0]) == '1');

	/* Another process: the poller drained three faults; they are here. */
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	u = uiommu_unit_next(ctx, NULL);
	CU_ASSERT_FATAL(u != NULL);
	CU_ASSERT(uiommu_poll(ctx, ev, 32) == 0); /* taken from the hardware already */
	n = uiommu_events_read(u, &cur, ev, 32);
	CU_ASSERT_FATAL(n == 3);
	for (int i = 0; i < 3; i++)
		check_fault(&ev[i], u, (unsigned int)i);
	CU_ASSERT(cur == 4); /* sequence numbers 1, 2, 3 */
	CU_ASSERT(uiommu_events_read(u, &cur, ev, 32) == 0 && cur == 4);
	/* A reader that starts now sees only what comes. */
	CU_ASSERT(uiommu_events_read(u, &late, ev, 32) == 0 && late == 4);
	/* A cursor of another history (beyond the newest): from the oldest. */
	seen = 1000;
	CU_ASSERT(uiommu_events_read(u, &seen, ev, 32) == 3 && seen == 4);
	/* Small reads go on where they stopped. */
	seen = 0;
	CU_ASSERT(uiommu_events_read(u, &seen, ev, 2) == 2 && seen == 3);
	CU_ASSERT(uiommu_events_read(u, &seen, ev, 2) == 1 && seen == 4);
	check_fault(&ev[0], u, 2);
	CU_ASSERT(uiommu_events_read(NULL, &seen, ev, 2) == -EINVAL);
	CU_ASSERT(uiommu_events_read(u, NULL, ev, 2) == -EINVAL);
	ctl_shows(0, 3, "\"seq\": 3");

	/* More faults while both read: each reader gets them once. */
	say(down[1], 'g');
	CU_ASSERT_FATAL(hear(up[0]) == '2');
	n = uiommu_events_read(u, &cur, ev, 32);
	CU_ASSERT(n == NR_LATER);
	for (int i = 0; i < n; i++)
		check_fault(&ev[i], u, 3 + (unsigned int)i);
	CU_ASSERT(uiommu_events_read(u, &late, ev, 32) == NR_LATER && late == cur);
	ctl_shows(0, 3 + NR_LATER, NULL);

	/* The poller drains more than the history keeps: this reader fell
	 * behind and is told how many it lost, then gets the rest in order. */
	say(down[1], 'g');
	CU_ASSERT_FATAL(hear(up[0]) == '3');
	{
		uint64_t next = 3 + NR_LATER + NR_OVERRUN + 1, oldest = next - UNIT_EVHIST_SIZE;
		uint64_t want = oldest, got = 0;

		n = uiommu_events_read(u, &cur, ev, 32);
		CU_ASSERT_FATAL(n == 32);
		CU_ASSERT(ev[0].type == UIOMMU_EV_LOST);
		CU_ASSERT(ev[0].count == oldest - (3 + NR_LATER + 1));
		CU_ASSERT(ev[0].reason_text != NULL);
		for (int i = 1; i < n; i++, want++, got++)
			check_fault(&ev[i], u, (unsigned int)(want - 1));
		while ((n = uiommu_events_read(u, &cur, ev, 32)) > 0)
			for (int i = 0; i < n; i++, want++, got++)
				check_fault(&ev[i], u, (unsigned int)(want - 1));
		CU_ASSERT(n == 0);
		CU_ASSERT(got == UNIT_EVHIST_SIZE);
		CU_ASSERT(cur == next);
		/* The oldest kept, the newest, and the lost record. */
		ctl_shows((unsigned int)oldest - 1, (unsigned int)next - 1, NULL);
	}
	CU_ASSERT(uiommu_state_check(ctx, NULL, NULL) == 0);
	say(down[1], 'g');
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(down[1]);
	uiommu_ctx_destroy(ctx);
}

/* ------------------------------------------------- damage and crashes */

static unsigned int nr_reports;
static void count_report(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	nr_reports++;
}

static unsigned int check_problems(struct uiommu_ctx *ctx)
{
	nr_reports = 0;
	(void)uiommu_state_check(ctx, count_report, NULL);
	return nr_reports;
}

/* Read everything from the oldest: events and lost records. */
static int read_all(struct uiommu_unit *u, unsigned int *faults, uint64_t *lost)
{
	struct uiommu_event ev[7];
	uint64_t cur = 0;
	int n, total = 0;

	*faults = 0;
	*lost = 0;
	while ((n = uiommu_events_read(u, &cur, ev, 7)) > 0) {
		for (int i = 0; i < n; i++) {
			if (ev[i].type == UIOMMU_EV_LOST)
				*lost += ev[i].count;
			else if (ev[i].type == UIOMMU_EV_FAULT && ev[i].reason_text)
				(*faults)++;
		}
		total += n;
	}
	return n < 0 ? n : total;
}

static void test_damage(void)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *ioas;
	struct unit_evhist *h, save;
	struct unit_hist_rec *r;
	unsigned int faults;
	uint64_t lost;

	snprintf(name, sizeof(name), "ut-evlog-dmg-%d", (int)getpid());
	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_unit_add(ctx, &ud, &u) == 0);
	CU_ASSERT_FATAL(uiommu_device_add(u, &(struct uiommu_device_desc){.hw_id = RID}, &d) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &ioas) == 0);
	CU_ASSERT_FATAL(uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL) == 0);
	CU_ASSERT_FATAL(fault_and_poll(ctx, d, 0, 10) == 0);
	h = u->evhist;
	save = *h;
	CU_ASSERT(read_all(u, &faults, &lost) == 10 && faults == 10 && lost == 0);
	CU_ASSERT(check_problems(ctx) == 0);

	/* A text without its NUL: that record is lost, the rest is read. */
	r = &h->r[3];
	memset(r->text, 'x', sizeof(r->text));
	CU_ASSERT(read_all(u, &faults, &lost) == 10 && faults == 9 && lost == 1);
	CU_ASSERT(check_problems(ctx) == 1);
	*h = save;

	/* A sequence number that does not belong in its slot, an unknown type. */
	h->r[4].seq = 4 + UNIT_EVHIST_SIZE;
	h->r[6].type = 99;
	CU_ASSERT(read_all(u, &faults, &lost) == 10 && faults == 8 && lost == 2);
	CU_ASSERT(check_problems(ctx) == 1); /* one line: 2 bad records */
	*h = save;

	/* A wild next sequence: everything it would name is lost, no crash. */
	h->next = UINT64_MAX - 5;
	CU_ASSERT(read_all(u, &faults, &lost) == 1 && faults == 0 && lost == UNIT_EVHIST_SIZE);
	CU_ASSERT(check_problems(ctx) == 1);
	h->next = 0;
	CU_ASSERT(read_all(u, &faults, &lost) == -EUCLEAN);
	CU_ASSERT(check_problems(ctx) == 1);
	*h = save;

	/* A wrong size: refused as a whole. */
	h->size = 7;
	CU_ASSERT(read_all(u, &faults, &lost) == -EUCLEAN);
	CU_ASSERT(check_problems(ctx) == 1);
	/* uiommu_poll does not append to it either (nothing written). */
	CU_ASSERT(fault_and_poll(ctx, d, 10, 11) == 0);
	CU_ASSERT(h->next == save.next);
	*h = save;

	/* A writer killed after unpublishing the slot it was overwriting:
	 * the event that slot held is lost, the checker is content. */
	h->r[2].seq = 0;
	CU_ASSERT(read_all(u, &faults, &lost) == 10 && faults == 9 && lost == 1);
	CU_ASSERT(check_problems(ctx) == 0);
	*h = save;

	/* A writer killed after stamping the record but before publishing
	 * the sequence: readers do not see it; the next append takes it over. */
	r = &h->r[h->next % UNIT_EVHIST_SIZE];
	memset(r, 0, sizeof(*r));
	r->seq = h->next;
	r->type = UIOMMU_EV_FAULT;
	r->addr = 0xdead000;
	CU_ASSERT(read_all(u, &faults, &lost) == 10 && faults == 10 && lost == 0);
	CU_ASSERT(check_problems(ctx) == 0);
	CU_ASSERT(fault_and_poll(ctx, d, 10, 11) == 0);
	{
		struct uiommu_event ev[16];
		uint64_t cur = 0;

		CU_ASSERT(uiommu_events_read(u, &cur, ev, 16) == 11);
		check_fault(&ev[10], u, 10);
		CU_ASSERT(cur == 12);
	}
	CU_ASSERT(check_problems(ctx) == 0);

	/* A state made before units had histories: read as empty, checks
	 * clean, and the first event polled makes the history. */
	ctx_lock(ctx);
	uenv_free(u->evhist);
	u->evhist = NULL;
	ctx_unlock(ctx);
	{
		struct uiommu_event ev[4];
		uint64_t cur = UIOMMU_EVENTS_LATEST;

		CU_ASSERT(uiommu_events_read(u, &cur, ev, 4) == 0 && cur == 1);
		CU_ASSERT(check_problems(ctx) == 0);
		CU_ASSERT(fault_and_poll(ctx, d, 11, 12) == 0);
		CU_ASSERT_FATAL(u->evhist != NULL);
		CU_ASSERT(uiommu_events_read(u, &cur, ev, 4) == 1 && cur == 2);
		check_fault(&ev[0], u, 11);
		CU_ASSERT(check_problems(ctx) == 0);
	}
	uiommu_ctx_destroy(ctx);
}

/* ----------------------------------------------- writers killed -9 */

/* Child: adopt (or create) the state and run @what; exit status says how
 * it went (0 fine). */
enum kchild { K_SETUP, K_WRITER, K_CHECK, K_DESTROY };
#define K_LOST 30

static int kready = -1; /* K_WRITER: written to after its first poll */

static void kchild(enum kchild what)
{
	struct uiommu_env_opts o = opts(what == K_SETUP);
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *ioas;
	unsigned int faults;
	uint64_t lost;

	for (int m = 0; m < UENV_LOG__COUNT; m++) /* (recovery lines expected) */
		uenv_log_set_level((enum uenv_logmod)m, 1);
	if (uiommu_ctx_create(&o, &ctx))
		_exit(20);
	switch (what) {
	case K_SETUP:
		if (uiommu_unit_add(ctx, &ud, &u) ||
		    uiommu_device_add(u, &(struct uiommu_device_desc){.hw_id = RID}, &d) ||
		    uiommu_ioas_alloc(ctx, &ioas) ||
		    uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL))
			_exit(21);
		break;
	case K_WRITER: /* faults and polls until killed */
		d = uiommu_device_next(ctx, NULL);
		if (!d)
			_exit(22);
		for (unsigned int i = 0;; i++) {
			struct uiommu_event ev[8];

			(void)fault_dma(d, i % 64);
			while (uiommu_poll(ctx, ev, 8))
				;
			if (!i)
				say(kready, 'r');
		}
		break;
	case K_CHECK:
		u = uiommu_unit_next(ctx, NULL);
		if (!u || uiommu_state_check(ctx, NULL, NULL) != 0)
			_exit(23);
		if (read_all(u, &faults, &lost) <= 0 || !faults)
			_exit(24);
		uiommu_ctx_detach(ctx);
		_exit(lost ? K_LOST : 0); /* a record lost to a kill half-way */
	case K_DESTROY:
		uiommu_ctx_destroy(ctx);
		_exit(0);
	}
	uiommu_ctx_detach(ctx);
	_exit(0);
}

static int krun(enum kchild what, unsigned int kill_after_us)
{
	int status, p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		kready = p[1];
		kchild(what);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	if (kill_after_us) {
		/* From its first poll on (its start-up is no part of it). */
		(void)hear(p[0]);
		usleep(kill_after_us);
		kill(pid, SIGKILL);
	}
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (kill_after_us)
		return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 100;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
}

/* Writers killed with SIGKILL at random points (many of them half-way
 * through an append, holding the state's lock): every time the next
 * process adopts the state, it checks clean and its history reads. */
static void test_kill9(void)
{
	unsigned int seed = (unsigned int)time(NULL);

	snprintf(name, sizeof(name), "ut-evlog-k9-%d", (int)getpid());
	CU_ASSERT_FATAL(krun(K_SETUP, 0) == 0);
	int rounds = 150, lost_rounds = 0;

	for (int i = 0; i < rounds; i++) {
		unsigned int us = 1 + (unsigned int)(rand_r(&seed) % 5000);
		int rc;

		CU_ASSERT(krun(K_WRITER, us) == 0);
		rc = krun(K_CHECK, 0);
		if (rc == K_LOST) {
			lost_rounds++;
			rc = 0;
		}
		if (rc) {
			printf("\n    round %d (killed after %u us): check child %d", i, us, rc);
			CU_FAIL("state after a writer was killed");
			break;
		}
	}
	printf("\n    %d writers killed; after %d of them a record was lost half-way ", rounds,
	       lost_rounds);
	CU_ASSERT(krun(K_DESTROY, 0) == 0);
}

static const struct ut_test tests[] = {
	{"two_processes", test_two_processes},
	{"damage", test_damage},
	{"kill9", test_kill9},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"evlog", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	if (argc > 1)
		ctl_path = argv[1];
	return ut_main(suites, 1, argv);
}
