/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile firmware tables: well-formed enough to pass every length check,
 * built to make the parsers amplify (many tiny entries, RMR mappings times
 * descriptors, thousands of units) or to make the loader block or read
 * something that is not a table.  Each case names what the parser must
 * bound and checks that the bound holds with a clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ut.h"
#include "fw/fw_internal.h"

/* A table being built in a malloc'd buffer. */
struct hb {
	uint8_t *b;
	size_t n, cap;
};

static void hb_put(struct hb *t, uint64_t v, unsigned int bytes)
{
	if (t->n + bytes > t->cap) {
		t->cap = (t->n + bytes) * 2;
		t->b = realloc(t->b, t->cap);
	}
	for (unsigned int i = 0; i < bytes; i++)
		t->b[t->n++] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0; /* wider fields: zero above */
}

static void hb_set16(struct hb *t, size_t off, uint16_t v)
{
	t->b[off] = (uint8_t)v;
	t->b[off + 1] = (uint8_t)(v >> 8);
}

static void hb_set32(struct hb *t, size_t off, uint32_t v)
{
	hb_set16(t, off, (uint16_t)v);
	hb_set16(t, off + 2, (uint16_t)(v >> 16));
}

/* ACPI header (36 bytes) plus 12 bytes of fixed part (zeroed). */
static void hb_header(struct hb *t, const char *sig)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 4; i++)
		hb_put(t, (uint8_t)sig[i], 1);
	hb_put(t, 0, 4); /* length, set by hb_finish */
	hb_put(t, 1, 1); /* revision */
	hb_put(t, 0, 1); /* checksum */
	for (int i = 0; i < 6; i++)
		hb_put(t, 'H', 1); /* OEM ID */
	for (int i = 0; i < 8; i++)
		hb_put(t, 'T', 1); /* OEM table ID */
	hb_put(t, 1, 4), hb_put(t, 0, 4), hb_put(t, 0, 4);
	hb_put(t, 0, 12);
}

static void hb_finish(struct hb *t)
{
	uint8_t sum = 0;

	hb_set32(t, 4, (uint32_t)t->n);
	t->b[9] = 0;
	for (size_t i = 0; i < t->n; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)(0x100 - sum);
}

static bool has_diag(const struct uiommu_fw_topo *t, enum uiommu_fw_severity sev, const char *text)
{
	for (size_t i = 0; i < t->ndiags; i++)
		if (t->diags[i].severity == sev && strstr(t->diags[i].msg, text))
			return true;
	return false;
}

/* Entries a table added to the topology (the header item included). */
static size_t entries(const struct uiommu_fw_topo *t)
{
	return t->nitems + t->ndevs + t->nresv + t->ndiags;
}

/*
 * IVRS of five 64 KiB IVHD 10h blocks full of 4-byte padding entries: 80k
 * device entries, each one a ~1 KiB display item.  A 16 MiB table of them
 * (what the loader accepts) was 4 GiB of items.
 */
static void test_ivrs_many_entries(void)
{
	struct uiommu_fw_topo t;
	struct hb h;

	hb_header(&h, "IVRS");
	for (int blk = 0; blk < 5; blk++) {
		size_t s = h.n;

		hb_put(&h, 0x10, 1), hb_put(&h, 0, 1), hb_put(&h, 0, 2);
		hb_put(&h, 0x0002 + blk, 2), hb_put(&h, 0x40, 2);
		hb_put(&h, 0xfd000000ull + 0x100000ull * blk, 8);
		hb_put(&h, 0, 2), hb_put(&h, 0, 2), hb_put(&h, 0, 4);
		while (h.n - s + 4 <= 0xffff)
			hb_put(&h, 0, 4); /* DE_PAD4 */
		hb_set16(&h, s + 2, (uint16_t)(h.n - s));
	}
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT(entries(&t) <= FW_MAX_ENTRIES + 1);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_ERROR, "structures, entries and messages in one table"));
	CU_ASSERT_EQUAL(t.worst, UIOMMU_FW_ERROR);
	/* The IOMMUs themselves were found before the budget ran out. */
	CU_ASSERT_EQUAL(t.nunits, 5);
	uiommu_fw_free(&t);
	free(h.b);
}

/*
 * IORT RMR node whose ID mapping array and descriptor array are the same
 * bytes: N mappings to the SMMU times N descriptors made N * N reserved
 * regions (a 64 KiB node: 10 million, 1.5 GiB).
 */
static void test_iort_rmr_product(void)
{
	const unsigned int n = 600;
	struct uiommu_fw_topo t;
	size_t smmu, rmr;
	struct hb h;

	hb_header(&h, "IORT");
	hb_set32(&h, 36, 2);  /* node count */
	hb_set32(&h, 40, 48); /* node offset */
	smmu = h.n;
	hb_put(&h, 4, 1), hb_put(&h, 68, 2), hb_put(&h, 4, 1), hb_put(&h, 0, 4), hb_put(&h, 0, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x2b400000, 8);
	while (h.n - smmu < 68)
		hb_put(&h, 0, 1);
	rmr = h.n;
	hb_put(&h, 6, 1), hb_put(&h, 0, 2), hb_put(&h, 3, 1), hb_put(&h, 1, 4);
	hb_put(&h, n, 4), hb_put(&h, 28, 4);		       /* mappings at +28 */
	hb_put(&h, 1, 4), hb_put(&h, n, 4), hb_put(&h, 28, 4); /* descriptors at +28 too */
	for (unsigned int i = 0; i < n; i++) {
		/* As a mapping: input, count, output, reference, flags; as a
		 * descriptor: base, length, reserved. */
		hb_put(&h, 0x10000 * i, 4), hb_put(&h, 0, 4), hb_put(&h, i, 4), hb_put(&h, smmu, 4),
			hb_put(&h, 1, 4);
	}
	hb_set16(&h, rmr + 1, (uint16_t)(h.n - rmr));
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT_EQUAL(t.nunits, 1);
	CU_ASSERT(t.nresv <= FW_MAX_ENTRIES);
	CU_ASSERT(entries(&t) <= FW_MAX_ENTRIES + 1);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_ERROR, "structures, entries and messages in one table"));
	uiommu_fw_free(&t);
	free(h.b);
}

/* DMAR of 2000 minimal DRHDs (16 bytes each, distinct bases): each new
 * unit was compared with every earlier one (quadratic) and all were kept. */
static void test_dmar_many_units(void)
{
	struct uiommu_fw_topo t;
	struct hb h;

	hb_header(&h, "DMAR");
	h.b[36] = 38; /* host address width - 1 */
	for (unsigned int i = 0; i < 2000; i++) {
		hb_put(&h, 0, 2), hb_put(&h, 16, 2), hb_put(&h, 0, 1), hb_put(&h, 0, 1),
			hb_put(&h, 0, 2);
		hb_put(&h, 0xf0000000ull + 0x1000ull * i, 8);
	}
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT_EQUAL(t.nunits, FW_MAX_UNITS);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_ERROR, "IOMMU units in one table"));
	/* What was kept is the table's first units, in order. */
	CU_ASSERT_EQUAL(t.units[0].base, 0xf0000000ull);
	CU_ASSERT_EQUAL(t.units[FW_MAX_UNITS - 1].base,
			0xf0000000ull + 0x1000ull * (FW_MAX_UNITS - 1));
	uiommu_fw_free(&t);
	free(h.b);
}

/* IORT: many nodes, each with a mapping to a node far away; the node
 * look-up must find the right one (binary search over node offsets). */
static void test_iort_node_lookup(void)
{
	const unsigned int nrc = 3000;
	struct uiommu_fw_topo t;
	size_t smmu;
	struct hb h;
	uint32_t id;

	hb_header(&h, "IORT");
	hb_set32(&h, 36, 1 + nrc);
	hb_set32(&h, 40, 48);
	smmu = h.n;
	hb_put(&h, 4, 1), hb_put(&h, 68, 2), hb_put(&h, 4, 1), hb_put(&h, 0, 4), hb_put(&h, 0, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x2b400000, 8);
	while (h.n - smmu < 68)
		hb_put(&h, 0, 1);
	for (unsigned int i = 0; i < nrc; i++) {
		/* Root complex, segment i, RIDs 0..0xff -> StreamID i * 0x100. */
		hb_put(&h, 2, 1), hb_put(&h, 36 + 20, 2), hb_put(&h, 1, 1), hb_put(&h, i, 4);
		hb_put(&h, 1, 4), hb_put(&h, 36, 4);
		hb_put(&h, 0, 4), hb_put(&h, 0, 4), hb_put(&h, 1, 4), hb_put(&h, i, 4),
			hb_put(&h, 48, 1), hb_put(&h, 0, 3);
		hb_put(&h, 0, 4), hb_put(&h, 0xff, 4), hb_put(&h, i * 0x100, 4),
			hb_put(&h, smmu, 4), hb_put(&h, 0, 4);
	}
	/* And one mapping to an offset inside a node, not its start. */
	hb_set32(&h, h.n - 8, (uint32_t)smmu + 4);
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT_EQUAL(t.nunits, 1);
	CU_ASSERT_EQUAL(t.ndevs, nrc - 1);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 1234, 0x42, &id), 0);
	CU_ASSERT_EQUAL(id, 1234 * 0x100 + 0x42);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, (uint16_t)(nrc - 1), 0x42, &id), -ENOENT);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_WARN, "which is not a node"));
	uiommu_fw_free(&t);
	free(h.b);
}

/* IORT root complex mapping whose output range passes 2^32: the StreamIDs
 * of the upper RIDs wrapped onto 0.., another device's StreamIDs. */
static void test_iort_output_wrap(void)
{
	struct uiommu_fw_topo t;
	size_t smmu;
	struct hb h;
	uint32_t id;

	hb_header(&h, "IORT");
	hb_set32(&h, 36, 2);
	hb_set32(&h, 40, 48);
	smmu = h.n;
	hb_put(&h, 4, 1), hb_put(&h, 68, 2), hb_put(&h, 4, 1), hb_put(&h, 0, 4), hb_put(&h, 0, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x2b400000, 8);
	while (h.n - smmu < 68)
		hb_put(&h, 0, 1);
	/* Root complex, segment 0, two mappings: RIDs 0x100..0x2ff from
	 * 0xffffff00 (wraps), RIDs 0x0..0xff from 0x1000 (fine). */
	hb_put(&h, 2, 1), hb_put(&h, 36 + 40, 2), hb_put(&h, 1, 1), hb_put(&h, 0, 4);
	hb_put(&h, 2, 4), hb_put(&h, 36, 4);
	hb_put(&h, 0, 4), hb_put(&h, 0, 4), hb_put(&h, 1, 4), hb_put(&h, 0, 4), hb_put(&h, 48, 1),
		hb_put(&h, 0, 3);
	hb_put(&h, 0x100, 4), hb_put(&h, 0x1ff, 4), hb_put(&h, 0xffffff00u, 4), hb_put(&h, smmu, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0, 4), hb_put(&h, 0xff, 4), hb_put(&h, 0x1000, 4), hb_put(&h, smmu, 4),
		hb_put(&h, 0, 4);
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT_EQUAL(t.nunits, 1);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_ERROR, "passes 2^32"));
	/* RID 0x250 had StreamID 0xffffff00 + 0x150 = 0x50 (wrapped). */
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x250, &id), -ENOENT);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x50, &id), 0);
	CU_ASSERT_EQUAL(id, 0x1050);
	uiommu_fw_free(&t);
	free(h.b);
}

/* IORT root complex with two mappings to the SMMU for overlapping RIDs:
 * the device's StreamID was whichever the look-up's tie-break chose. */
static void test_iort_overlap(void)
{
	struct uiommu_fw_topo t;
	size_t smmu, rc;
	struct hb h;
	uint32_t id;

	hb_header(&h, "IORT");
	hb_set32(&h, 36, 2);
	hb_set32(&h, 40, 48);
	smmu = h.n;
	hb_put(&h, 4, 1), hb_put(&h, 68, 2), hb_put(&h, 4, 1), hb_put(&h, 0, 4), hb_put(&h, 0, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x2b400000, 8);
	while (h.n - smmu < 68)
		hb_put(&h, 0, 1);
	rc = h.n;
	hb_put(&h, 2, 1), hb_put(&h, 36 + 60, 2), hb_put(&h, 1, 1), hb_put(&h, 0, 4);
	hb_put(&h, 3, 4), hb_put(&h, 36, 4);
	hb_put(&h, 0, 4), hb_put(&h, 0, 4), hb_put(&h, 1, 4), hb_put(&h, 0, 4), hb_put(&h, 48, 1),
		hb_put(&h, 0, 3);
	/* RIDs 0x000-0x0ff -> 0x1000; 0x080-0x17f -> 0x5000 (overlaps);
	 * 0x200-0x2ff -> 0x2000 (fine). */
	hb_put(&h, 0x000, 4), hb_put(&h, 0xff, 4), hb_put(&h, 0x1000, 4), hb_put(&h, smmu, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x080, 4), hb_put(&h, 0xff, 4), hb_put(&h, 0x5000, 4), hb_put(&h, smmu, 4),
		hb_put(&h, 0, 4);
	hb_put(&h, 0x200, 4), hb_put(&h, 0xff, 4), hb_put(&h, 0x2000, 4), hb_put(&h, smmu, 4),
		hb_put(&h, 0, 4);
	CU_ASSERT_EQUAL(h.n - rc, 36 + 60);
	hb_finish(&h);
	uiommu_fw_init(&t);
	CU_ASSERT_EQUAL(uiommu_fw_parse_table(&t, h.b, h.n), 0);
	CU_ASSERT(has_diag(&t, UIOMMU_FW_ERROR, "overlaps the one at"));
	CU_ASSERT_EQUAL(t.ndevs, 2);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x90, &id), 0);
	CU_ASSERT_EQUAL(id, 0x1090);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x150, &id), -ENOENT);
	CU_ASSERT_EQUAL(uiommu_fw_lookup(&t, 0, 0x210, &id), 0);
	CU_ASSERT_EQUAL(id, 0x2010);
	uiommu_fw_free(&t);
	free(h.b);
}

/*
 * The loader on a directory someone else can write to (a dump directory):
 * a file that is regular when checked and a FIFO when opened.  stat() and
 * fstatat() are interposed here to make that swap at the worst moment; a
 * loader that opens by name after checking blocks forever in open().  A
 * FIFO that is there from the start and a symlink to it are not opened at
 * all (a writer waiting on the FIFO stays blocked): opening what a link
 * points at can start a watchdog or rewind a tape.
 */
static char swap_path[512], swap_fifo[512];

static int real_stat(int dfd, const char *path, struct stat *st, int flags)
{
	struct statx sx;

	if (statx(dfd, path, flags & AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_mode = sx.stx_mode;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_nlink = sx.stx_nlink;
	st->st_ino = sx.stx_ino;
	st->st_size = (off_t)sx.stx_size;
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	return 0;
}

static void maybe_swap(const char *path)
{
	const char *base = strrchr(path, '/'), *want = strrchr(swap_path, '/');

	base = base ? base + 1 : path;
	if (swap_path[0] && strcmp(base, want + 1) == 0) {
		if (rename(swap_fifo, swap_path) != 0)
			perror("rename");
		swap_path[0] = '\0';
	}
}

int stat(const char *restrict path, struct stat *restrict st)
{
	int r = real_stat(AT_FDCWD, path, st, 0);

	maybe_swap(path);
	return r;
}

int fstatat(int dfd, const char *restrict path, struct stat *restrict st, int flags)
{
	int r = real_stat(dfd, path, st, flags);

	maybe_swap(path);
	return r;
}

static void test_loader_fifo(void)
{
	char dir[] = "/tmp/uiommu-fwhostile-XXXXXX", p[600], err[256] = "";
	struct hb h;
	int status, fd;
	pid_t pid, writer;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	/* A good DMAR with one DRHD. */
	hb_header(&h, "DMAR");
	h.b[36] = 38;
	hb_put(&h, 0, 2), hb_put(&h, 16, 2), hb_put(&h, 1, 1), hb_put(&h, 0, 1), hb_put(&h, 0, 2);
	hb_put(&h, 0xfed90000ull, 8);
	hb_finish(&h);
	snprintf(p, sizeof(p), "%s/DMAR", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, h.b, h.n) == (ssize_t)h.n);
	close(fd);
	/* "EVIL": regular now, a FIFO once checked. */
	snprintf(swap_path, sizeof(swap_path), "%s/EVIL", dir);
	fd = open(swap_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "IVRS", 4) == 4);
	close(fd);
	snprintf(swap_fifo, sizeof(swap_fifo), "%s/.fifo", dir);
	CU_ASSERT_FATAL(mkfifo(swap_fifo, 0600) == 0);
	/* A FIFO from the start, and a symlink to one. */
	snprintf(p, sizeof(p), "%s/FIFO", dir);
	CU_ASSERT_FATAL(mkfifo(p, 0600) == 0);
	snprintf(p, sizeof(p), "%s/LINK", dir);
	CU_ASSERT_FATAL(symlink("FIFO", p) == 0);

	/* A writer waiting for a reader of FIFO: whoever opens it (through
	 * LINK) lets the writer go. */
	writer = fork();
	CU_ASSERT_FATAL(writer >= 0);
	if (writer == 0) {
		snprintf(p, sizeof(p), "%s/FIFO", dir);
		_exit(open(p, O_WRONLY) >= 0 ? 0 : 1);
	}
	usleep(200 * 1000); /* the writer is in open() */

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct uiommu_fw_topo t;
		int n;

		alarm(10);
		uiommu_fw_init(&t);
		n = uiommu_fw_load_dir(&t, dir, err, sizeof(err));
		if (n != 1 || t.nunits != 1)
			fprintf(stderr, "load_dir: %d (%s), %zu units\n", n, err, t.nunits);
		_exit(n == 1 && t.nunits == 1 ? 0 : 1);
	}
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFSIGNALED(status))
		fprintf(stderr, "load_dir child killed by signal %d (blocked in open?)\n",
			WTERMSIG(status));
	/* Nobody opened the FIFO: its writer still waits. */
	CU_ASSERT_EQUAL(waitpid(writer, &status, WNOHANG), 0);
	kill(writer, SIGKILL);
	waitpid(writer, &status, 0);
	swap_path[0] = '\0';
	for (const char *const *n =
		     (const char *const[]){"DMAR", "EVIL", ".fifo", "FIFO", "LINK", NULL};
	     *n; n++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *n);
		unlink(p);
	}
	rmdir(dir);
	free(h.b);
}

static const struct ut_test tests[] = {
	{"ivrs_many_entries", test_ivrs_many_entries},
	{"iort_rmr_product", test_iort_rmr_product},
	{"dmar_many_units", test_dmar_many_units},
	{"iort_node_lookup", test_iort_node_lookup},
	{"iort_output_wrap", test_iort_output_wrap},
	{"iort_overlap", test_iort_overlap},
	{"loader_fifo", test_loader_fifo},
	{NULL, NULL},
};

static const struct ut_suite suites[] = {
	{"fw_hostile", NULL, NULL, tests},
	{NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return ut_main(suites, argc, argv);
}
