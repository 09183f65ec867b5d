/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile state files (run as root: chown, chmod, links): a state file
 * owned by another user, a symbolic link in its place, a file writable by
 * the group or by others, a file with a second hard link, a state directory
 * open to others, owned by another user or replaced by a symbolic link, and
 * the same for the undo image beside a state.  Each is refused with -EPERM
 * and a log line saying why, and changes nothing: not the file, not the
 * directory, no file created.
 *
 * The directory cases use the hugepage backend's configurable directory (a
 * private temporary one), so that /dev/shm/uiommu-EUID, which other tests
 * use at the same time, is never touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut.h"
#include "uiommu/uiommu.h"

#define OTHER_UID 65534u

static char name[64], path[512], dir[512];
static char tmpdir[] = "/tmp/uiommu-hostile-XXXXXX";

/* ---- what must not change ---- */
struct snap {
	struct stat st;
	uint64_t sum; /* of the file's bytes */
	char entries[1024];
};

static uint64_t file_sum(const char *p)
{
	uint64_t h = 1469598103934665603ull;
	uint8_t buf[65536];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK); /* a FIFO must not block */

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static void dir_list(const char *d, char *out, size_t len)
{
	DIR *dp = opendir(d);
	struct dirent *e;

	out[0] = 0;
	if (!dp)
		return;
	/* readdir order is stable for an unchanged directory; other tests
	 * use /dev/shm/uiommu-EUID at the same time: only our names count */
	while ((e = readdir(dp)))
		if (!strncmp(e->d_name, name, strlen(name)) &&
		    strlen(out) + strlen(e->d_name) + 2 < len) {
			strcat(out, e->d_name);
			strcat(out, "/");
		}
	closedir(dp);
}

static void snap(const char *p, const char *d, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	(void)lstat(p, &s->st);
	s->sum = file_sum(p);
	dir_list(d, s->entries, sizeof(s->entries));
}

static bool snap_same(const struct snap *a, const struct snap *b)
{
	return a->st.st_mode == b->st.st_mode && a->st.st_uid == b->st.st_uid &&
	       a->st.st_gid == b->st.st_gid && a->st.st_size == b->st.st_size &&
	       a->st.st_nlink == b->st.st_nlink && a->st.st_ino == b->st.st_ino &&
	       a->sum == b->sum && !strcmp(a->entries, b->entries);
}

/* ---- the log, captured from stderr ---- */
static char logbuf[16384];
static int saved_fd = -1;
static FILE *log_fp;

static void log_begin(void)
{
	fflush(stderr);
	log_fp = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(log_fp), 2);
}

static void log_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(log_fp);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, log_fp);
	logbuf[n] = 0;
	fclose(log_fp);
}

/* Try to adopt with @o; it must be refused with -EPERM, logging @why,
 * with nothing changed. */
static void expect_refused(const struct uiommu_env_opts *o, const char *p, const char *d,
			   const char *why)
{
	struct uiommu_ctx *ctx = NULL;
	struct snap before, after;
	int rc;

	snap(p, d, &before);
	log_begin();
	rc = uiommu_ctx_create(o, &ctx);
	log_end();
	snap(p, d, &after);
	if (rc != -EPERM || !strstr(logbuf, why))
		fprintf(stderr, "\n    want -EPERM and \"%s\"; got %d, log:\n%s", why, rc, logbuf);
	CU_ASSERT(rc == -EPERM);
	CU_ASSERT(strstr(logbuf, why) != NULL);
	CU_ASSERT(snap_same(&before, &after));
	if (!rc)
		uiommu_ctx_detach(ctx);
}

static struct uiommu_env_opts shm_opts(bool create)
{
	return (struct uiommu_env_opts){.backend = UIOMMU_MEM_SHARED_SHM, .name = name,
					 .create = create};
}

/* A valid state with one transaction done (so an undo image exists). */
static void make_state(void)
{
	struct uiommu_env_opts o = shm_opts(true);
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *s;

	CU_ASSERT_FATAL(uiommu_ctx_create(&o, &ctx) == 0);
	CU_ASSERT_FATAL(uiommu_txn_begin(ctx, 1000, NULL) == 0);
	CU_ASSERT_FATAL(uiommu_ioas_alloc(ctx, &s) == 0);
	CU_ASSERT_FATAL(uiommu_txn_commit(ctx) == 0);
	uiommu_ctx_detach(ctx);
}

static void remove_state(void)
{
	struct uiommu_env_opts o = shm_opts(false);
	char undo[600];

	snprintf(undo, sizeof(undo), "%s~undo", path);
	if (chown(path, 0, 0) < 0 && geteuid() == 0)
		perror("chown");
	(void)chmod(path, 0600);
	(void)unlink(undo);
	(void)uiommu_state_remove(&o);
}

static int suite_init(void)
{
	struct uiommu_env_opts o;

	if (geteuid() != 0) {
		fprintf(stderr, "hostile-file tests need root (chown): skipped\n");
		return 0;
	}
	snprintf(name, sizeof(name), "hostile-%d", (int)getpid());
	o = shm_opts(false);
	if (uiommu_state_path(&o, path, sizeof(path)))
		return -1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int suite_fini(void)
{
	char cmd[600];

	if (geteuid() != 0)
		return 0;
	remove_state();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define NEED_ROOT()                   \
	do {                          \
		if (geteuid() != 0)   \
			return;       \
	} while (0)

static void t_other_owner(void)
{
	struct uiommu_env_opts o = shm_opts(false);

	NEED_ROOT();
	make_state();
	CU_ASSERT_FATAL(chown(path, OTHER_UID, OTHER_UID) == 0);
	expect_refused(&o, path, dir, "not a state file of this user");
	o.create = true; /* create does not replace it either */
	expect_refused(&o, path, dir, "not a state file of this user");
	remove_state();
}

static void t_symlink(void)
{
	struct uiommu_env_opts o = shm_opts(false);
	char target[600];

	NEED_ROOT();
	make_state();
	snprintf(target, sizeof(target), "%s.real", path);
	CU_ASSERT_FATAL(rename(path, target) == 0);
	CU_ASSERT_FATAL(symlink(target, path) == 0);
	expect_refused(&o, path, dir, "a symbolic link");
	o.create = true;
	expect_refused(&o, path, dir, "a symbolic link");
	/* A dangling link is no better. */
	CU_ASSERT(unlink(path) == 0);
	CU_ASSERT(symlink("/nonexistent/uiommu-state", path) == 0);
	expect_refused(&o, path, dir, "a symbolic link");
	CU_ASSERT(unlink(path) == 0);
	CU_ASSERT(rename(target, path) == 0);
	remove_state();
}

static void t_writable(void)
{
	struct uiommu_env_opts o = shm_opts(false);

	NEED_ROOT();
	make_state();
	CU_ASSERT_FATAL(chmod(path, 0620) == 0);
	expect_refused(&o, path, dir, "not a state file of this user");
	CU_ASSERT_FATAL(chmod(path, 0602) == 0);
	expect_refused(&o, path, dir, "not a state file of this user");
	CU_ASSERT_FATAL(chmod(path, 0600) == 0);
	remove_state();
}

static void t_hard_link(void)
{
	struct uiommu_env_opts o = shm_opts(false);
	char other[600];

	NEED_ROOT();
	make_state();
	snprintf(other, sizeof(other), "%s.link", path);
	CU_ASSERT_FATAL(link(path, other) == 0);
	expect_refused(&o, path, dir, "2 links");
	CU_ASSERT(unlink(other) == 0);
	remove_state();
}

static void t_not_regular(void)
{
	struct uiommu_env_opts o = shm_opts(false);

	NEED_ROOT();
	CU_ASSERT_FATAL(mkfifo(path, 0600) == 0);
	expect_refused(&o, path, dir, "not a state file of this user");
	CU_ASSERT(unlink(path) == 0);
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	o.create = true;
	log_begin();
	struct uiommu_ctx *ctx;
	int rc = uiommu_ctx_create(&o, &ctx);
	log_end();
	CU_ASSERT(rc < 0); /* a directory cannot even be opened for writing */
	CU_ASSERT(rmdir(path) == 0);
}

/* The undo image beside the state is trusted no more than the state. */
static void t_undo_hostile(void)
{
	struct uiommu_env_opts o = shm_opts(false);
	char undo[600], target[600];

	NEED_ROOT();
	make_state();
	snprintf(undo, sizeof(undo), "%s~undo", path);
	snprintf(target, sizeof(target), "%s.undo-real", path);
	CU_ASSERT_FATAL(chown(undo, OTHER_UID, OTHER_UID) == 0);
	expect_refused(&o, undo, dir, "not a state file of this user");
	CU_ASSERT_FATAL(chown(undo, 0, 0) == 0);
	CU_ASSERT_FATAL(chmod(undo, 0666) == 0);
	expect_refused(&o, undo, dir, "not a state file of this user");
	CU_ASSERT_FATAL(chmod(undo, 0600) == 0);
	CU_ASSERT_FATAL(rename(undo, target) == 0);
	CU_ASSERT_FATAL(symlink(target, undo) == 0);
	expect_refused(&o, undo, dir, "a symbolic link");
	CU_ASSERT(unlink(undo) == 0);
	CU_ASSERT(rename(target, undo) == 0);
	/* Put right, the state adopts again. */
	struct uiommu_ctx *ctx;
	CU_ASSERT(uiommu_ctx_create(&o, &ctx) == 0);
	uiommu_ctx_detach(ctx);
	remove_state();
}

/* ---- the state directory (the hugepage backend's, in a private temp dir) ---- */
static struct uiommu_env_opts huge_opts(bool create)
{
	return (struct uiommu_env_opts){.backend = UIOMMU_MEM_SHARED_HUGE, .name = name,
					 .create = create, .huge_dir = tmpdir};
}

static void t_dir(void)
{
	struct uiommu_env_opts o = huge_opts(true);
	char sdir[600], real[600], file[700];

	NEED_ROOT();
	snprintf(sdir, sizeof(sdir), "%s/uiommu-%u", tmpdir, (unsigned int)geteuid());
	snprintf(real, sizeof(real), "%s/elsewhere", tmpdir);
	snprintf(file, sizeof(file), "%s/%s", sdir, name);
	CU_ASSERT_FATAL(mkdir(sdir, 0700) == 0);
	/* Open to the group, to others. */
	CU_ASSERT_FATAL(chmod(sdir, 0750) == 0);
	expect_refused(&o, file, sdir, "want uid 0, mode 0700");
	CU_ASSERT_FATAL(chmod(sdir, 0707) == 0);
	expect_refused(&o, file, sdir, "want uid 0, mode 0700");
	o.create = false;
	expect_refused(&o, file, sdir, "want uid 0, mode 0700");
	o.create = true;
	/* Another owner. */
	CU_ASSERT_FATAL(chmod(sdir, 0700) == 0);
	CU_ASSERT_FATAL(chown(sdir, OTHER_UID, OTHER_UID) == 0);
	expect_refused(&o, file, sdir, "owned by uid 65534");
	CU_ASSERT_FATAL(chown(sdir, 0, 0) == 0);
	/* A symbolic link to a directory that would pass every other check. */
	CU_ASSERT_FATAL(rename(sdir, real) == 0);
	CU_ASSERT_FATAL(symlink(real, sdir) == 0);
	expect_refused(&o, file, real, "not a directory (a symlink?)");
	o.create = false;
	expect_refused(&o, file, real, "not a directory (a symlink?)");
	CU_ASSERT(unlink(sdir) == 0);
	CU_ASSERT(rmdir(real) == 0);
	/* A state file the directory listing must not have gained. */
	struct stat st;
	CU_ASSERT(lstat(file, &st) < 0 && errno == ENOENT);
	/* uiommu_state_remove refuses the same directories. */
	CU_ASSERT_FATAL(mkdir(sdir, 0777) == 0);
	CU_ASSERT_FATAL(chmod(sdir, 0777) == 0);
	CU_ASSERT(uiommu_state_remove(&o) == -EPERM);
	CU_ASSERT(rmdir(sdir) == 0);
}

static const struct ut_test tests[] = {
	{"other_owner", t_other_owner},
	{"symlink", t_symlink},
	{"writable", t_writable},
	{"hard_link", t_hard_link},
	{"not_regular", t_not_regular},
	{"undo_hostile", t_undo_hostile},
	{"dir", t_dir},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"hostile", suite_init, suite_fini, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
