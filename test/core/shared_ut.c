/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * State that outlives the process: a child creates a context in a shared
 * arena (SHARED_SHM backend), builds objects and mappings and leaves (or is
 * killed with SIGKILL while holding the context lock); the parent adopts
 * the same state and finds every object, mapping and table where it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "mock_family.h"
#include "uiommu/uiommu.h"

static char name[64];

static struct uiommu_env_opts opts(bool create)
{
	struct uiommu_env_opts o = {.backend = UIOMMU_MEM_SHARED_SHM,
				    .name = name,
				    .create = create,
				    .arena_max = 256u << 20};
	return o;
}

/* Child: build state; how it ends depends on @mode. */
static void child(int mode)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas *ioas;
	uint64_t iova = 0x100000;

	if (uiommu_ctx_create(&o, &ctx))
		_exit(10);
	struct uiommu_unit_desc ud = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL};
	if (uiommu_unit_add(ctx, &ud, &u))
		_exit(11);
	if (uiommu_device_add(u, &(struct uiommu_device_desc){.hw_id = 0x10}, &d))
		_exit(12);
	if (uiommu_ioas_alloc(ctx, &ioas))
		_exit(13);
	if (uiommu_device_attach(d, UIOMMU_NO_PASID, uiommu_ioas_id(ioas), NULL))
		_exit(14);
	for (int i = 0; i < 1000; i++) {
		iova = 0x100000 + (uint64_t)i * 0x2000;
		if (uiommu_ioas_map(ioas, &iova, 0x40000000 + (uint64_t)i * 0x1000, 0x1000,
				    UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA))
			_exit(15);
	}
	if (mode >= 1) {
		/* Die holding the lock, as a crashed owner would. */
		ctx_lock(ctx);
		kill(getpid(), SIGKILL);
	}
	uiommu_ctx_detach(ctx);
	_exit(0);
}

static void adopt_and_check(void)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *ioas;
	struct uiommu_unit *u;
	struct uiommu_device *d;
	struct uiommu_ioas_stats st;

	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT(uiommu_ctx_adopted(ctx));
	u = uiommu_unit_next(ctx, NULL);
	d = uiommu_device_next(ctx, NULL);
	ioas = uiommu_ioas_next(ctx, NULL);
	CU_ASSERT_FATAL(u && d && ioas);
	CU_ASSERT(mock_of(u)->adopted == 1);
	uiommu_ioas_get_stats(ioas, &st);
	CU_ASSERT(st.nr_areas == 1000 && st.nr_hwpts == 1 && st.nr_attached == 1);
	/* The tables were not rebuilt: the "hardware" still translates. */
	CU_ASSERT(mock_translate(ctx, u, 0x10, UIOMMU_NO_PASID, 0x100000 + 999 * 0x2000 + 8) ==
		  0x40000000 + 999 * 0x1000 + 8);
	/* And the adopted state works: map, unmap, detach. */
	uint64_t iova = 0x80000000, bytes;
	CU_ASSERT(uiommu_ioas_map(ioas, &iova, 0x1234000, 0x1000,
				  UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA) == 0);
	CU_ASSERT(mock_translate(ctx, u, 0x10, UIOMMU_NO_PASID, 0x80000000) == 0x1234000);
	CU_ASSERT(uiommu_ioas_unmap_all(ioas, &bytes) == 0 && bytes == 1001 * 0x1000);
	uiommu_ctx_destroy(ctx);
	CU_ASSERT(uenv_shared_exists(&o) == 0); /* destroy leaves nothing behind */
}

static void run(int mode)
{
	pid_t pid;
	int status;

	snprintf(name, sizeof(name), "ut-%d-%d", (int)getpid(), mode);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		child(mode);
	if (mode == 2) {
		/* Adopt while the killed owner is still a zombie (not reaped). */
		char path[64], st[256];
		bool zombie = false;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		for (int i = 0; i < 2000 && !zombie; i++) {
			FILE *f = fopen(path, "r");
			size_t n = f ? fread(st, 1, sizeof(st) - 1, f) : 0;
			if (f)
				fclose(f);
			st[n] = 0;
			char *rp = strrchr(st, ')');
			zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
			if (!zombie)
				usleep(1000);
		}
		CU_ASSERT_FATAL(zombie);
		adopt_and_check();
		CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		return;
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	if (mode == 1) {
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	} else {
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	adopt_and_check();
}

static void test_detach_adopt(void)
{
	run(0);
}

static void test_kill9_adopt(void)
{
	run(1);
}

static void test_kill9_zombie_adopt(void)
{
	run(2);
}

static void test_bad_state(void)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	char path[128];
	FILE *f;

	snprintf(name, sizeof(name), "ut-%d-missing", (int)getpid());
	CU_ASSERT(uiommu_ctx_create(&o, &ctx) == -ENOENT);
	snprintf(name, sizeof(name), "ut-%d-junk", (int)getpid());
	CU_ASSERT_FATAL(uiommu_state_path(&o, path, sizeof(path)) == 0);
	{
		char dir[128];

		snprintf(dir, sizeof(dir), "/dev/shm/uiommu-%u", (unsigned int)geteuid());
		mkdir(dir, 0700);
	}
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs("this is not a uiommu state file, but it is long enough to read a header from....",
	      f);
	fclose(f);
	CU_ASSERT(uiommu_ctx_create(&o, &ctx) == -EINVAL);
	unlink(path);
	o.name = "bad/name";
	CU_ASSERT(uiommu_ctx_create(&o, &ctx) == -EINVAL);
}

static const struct ut_test tests[] = {
	{"detach_then_adopt", test_detach_adopt},
	{"kill9_owner_then_adopt", test_kill9_adopt},
	{"kill9_owner_zombie_then_adopt", test_kill9_zombie_adopt},
	{"bad_state_files", test_bad_state},
	{NULL, NULL},
};

static int init(void)
{
	uiommu_family_override(UIOMMU_FAMILY_VTD, &mock_family_ops);
	return 0;
}

static const struct ut_suite suites[] = {
	{"shared_state", init, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
