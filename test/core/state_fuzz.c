/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * State-file corruption fuzzer.
 *
 * Builds a realistic shared state on the VT-d model (two units, one of them
 * legacy with register-based invalidation; devices; three IOASes with many
 * mappings of 4 KiB and 2 MiB, spare records, spare tables and kept pieces;
 * an explicit stage-1 HWPT, a nest parent with a vIOMMU and a nested HWPT,
 * PASID and pass-through attachments; reserved and allowed ranges; named
 * objects; buffers), notes where every structure core owns lies in the
 * file (the arena's header, hash slots, chunk table and chunk bookkeeping,
 * slab free lists, the context, objects, list links, attachment records,
 * IOVA tree records and blocks, page-table structs, table pages and their
 * count slots, buffer and name records), and saves the file.
 *
 * Then, for each iteration: put the saved file back, change 1-4 words of
 * those structures (bit flips, random values, 0, ~0, small numbers,
 * neighbouring values, pointers into the arena, values copied from other
 * words), sometimes with a valid undo image beside it that is corrupted
 * instead (adoption puts it back first), and adopt it in a child process
 * (without CAP_SYS_RAWIO: a unit turned into an MMIO unit cannot reach
 * /dev/mem).  The child must be refused cleanly (-EUCLEAN, -EINVAL, -EPERM,
 * -ETIMEDOUT; -EADDRINUSE when the arena's placement is taken in this
 * process, -ENODEV when a unit's registers cannot be reached) or adopt a state that `uiommu_state_check` finds clean; then
 * it runs a short workload (list everything, map a page, model DMA through
 * it and through an old mapping, unmap, poll) and checks again.  A signal,
 * a sanitizer report (exit status 1), a hang, or a check failure after
 * adoption is a bug; each is printed with what was changed, replayable
 * with --seed S --replay I.
 *
 *   state_fuzz --iterations N --seed S [--replay I] [--verbose]
 *
 * Offline run of 100k mutations (about a quarter of an hour):
 *   build/test/core/core-state-fuzz --iterations 100000 --seed 1
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uiommu/uiommu.h"
#include "core/core.h"
#include "core/ctx_ext.h"
#include "core/iopt.h"
#include "pgtable/pgt_internal.h"

/* ---- targets: byte ranges of the state file, by category ---- */
enum cat {
	C_HEADER,
	C_HASH,
	C_CHUNK,
	C_CHUNKMETA,
	C_SLABFREE,
	C_CTX,
	C_OBJ,
	C_LINK,
	C_ATTACH,
	C_UNITMEM,
	C_AREA,
	C_IOPTMEM,
	C_PGT,
	C_PTE,
	C_COUNT,
	C_EXT,
	C_UNDO, /* the undo image's header (only with an undo file) */
	C__N
};
static const char *const cat_name[C__N] = {
	"header",     "hash slot", "chunk entry", "chunk bookkeeping", "slab free link",
	"context",    "object",    "list link",   "attachment",	       "unit memory",
	"area record", "iopt memory", "pgt struct", "table entry",     "count slot",
	"tool state", "undo header",
};

struct target {
	uint64_t off; /* in the file */
	uint32_t len;
};

static struct tlist {
	struct target *t;
	size_t n, cap;
} targets[C__N];

static uint64_t base;	   /* the arena's address (file offset 0) */
static uint8_t *image;	   /* the saved state file */
static uint64_t image_len;
static uint8_t *undo_image; /* a valid undo image (a transaction left open) */
static uint64_t undo_len;
static char path[512], undo_path[600], name[64];
static bool verbose;
static bool nofork; /* --replay --nofork: run the child in this process (for a debugger) */

static void add(enum cat c, const void *p, size_t len)
{
	struct tlist *l = &targets[c];
	uint64_t a = (uint64_t)(uintptr_t)p;

	if (!p || !len || a < base)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->t = realloc(l->t, l->cap * sizeof(*l->t));
		if (!l->t)
			abort();
	}
	l->t[l->n++] = (struct target){a - base, (uint32_t)len};
}

static void region_cb(void *arg, const char *what, void *p, size_t len)
{
	(void)arg;
	if (!strcmp(what, "header"))
		add(C_HEADER, p, len);
	else if (!strcmp(what, "hash slot"))
		add(C_HASH, p, len);
	else if (!strcmp(what, "chunk entry"))
		add(C_CHUNK, p, len);
	else if (!strcmp(what, "slab free link"))
		add(C_SLABFREE, p, len);
	else
		add(C_CHUNKMETA, p, len);
}

static void add_links(const struct list_node *n)
{
	add(C_LINK, n, sizeof(*n));
}

/* Every structure core owns in the live state. */
static void collect(struct uiommu_ctx *ctx)
{
	struct uobj *o;

	uenv_debug_regions(region_cb, NULL);
	add(C_CTX, ctx, sizeof(*ctx));
	for (uint32_t t = UOBJ_UNIT; t <= UOBJ_VIOMMU; t++) {
		add_links(&ctx->objs[t]);
		for (o = uobj_next(ctx, t, NULL); o; o = uobj_next(ctx, t, o)) {
			static const size_t sz[] = {0, sizeof(struct uiommu_unit),
						    sizeof(struct uiommu_device),
						    sizeof(struct uiommu_ioas),
						    sizeof(struct uiommu_hwpt),
						    sizeof(struct uiommu_viommu)};

			add(C_OBJ, o, sz[t]);
			add_links(&o->ctx_link);
			add_links(&o->id_link);
		}
	}
	for (uint32_t b = 0; b < UOBJ_HASH; b += 17)
		add_links(&ctx->id_hash[b]);
	for (o = uobj_next(ctx, UOBJ_UNIT, NULL); o; o = uobj_next(ctx, UOBJ_UNIT, o)) {
		struct uiommu_unit *u = (struct uiommu_unit *)o;

		add(C_UNITMEM, u->did_map, u->did_words * 8);
		add(C_UNITMEM, u->resv, u->nr_resv * sizeof(*u->resv));
		/* The event history's header and its first records. */
		if (u->evhist)
			add(C_UNITMEM, u->evhist, 16 + 8 * sizeof(u->evhist->r[0]));
	}
	for (o = uobj_next(ctx, UOBJ_DEVICE, NULL); o; o = uobj_next(ctx, UOBJ_DEVICE, o)) {
		struct uiommu_device *d = (struct uiommu_device *)o;
		struct list_node *pos;

		add_links(&d->attaches);
		list_for_each(pos, &d->attaches)
		{
			struct dev_attach *a = list_entry(pos, struct dev_attach, link);

			add(C_ATTACH, a, sizeof(*a));
			add_links(&a->link);
			add_links(&a->hwpt_link);
		}
	}
	for (o = uobj_next(ctx, UOBJ_IOAS, NULL); o; o = uobj_next(ctx, UOBJ_IOAS, o)) {
		struct uiommu_ioas *s = (struct uiommu_ioas *)o;
		struct iopt *io = &s->iopt;

		add_links(&s->hwpts);
		for (struct iopt_area *a = iopt_first(io, 0, UINT64_MAX); a;
		     a = iopt_next(a, UINT64_MAX)) {
			add(C_AREA, a, sizeof(*a));
			add(C_IOPTMEM, a->blk, sizeof(struct iopt_blk));
		}
		for (struct iopt_area *a = io->spare; a; a = rb_entry(a->node.parent, struct iopt_area, node))
			add(C_AREA, a, sizeof(*a));
		add(C_IOPTMEM, io->resv, io->nr_resv * sizeof(*io->resv));
		add(C_IOPTMEM, io->allowed, io->nr_allowed * sizeof(*io->allowed));
	}
	for (o = uobj_next(ctx, UOBJ_HWPT, NULL); o; o = uobj_next(ctx, UOBJ_HWPT, o)) {
		struct uiommu_hwpt *h = (struct uiommu_hwpt *)o;
		struct pgt *p = h->pgt;

		add_links(&h->attaches);
		add_links(&h->child_list);
		add_links(&h->viommu_list);
		if (h->nested) {
			add_links(&h->child_link);
			continue;
		}
		add_links(&h->ioas_link);
		add(C_PGT, p, sizeof(*p));
		/* Its tables: every page of the walk of each area's first page,
		 * and the spare ones. */
		for (struct iopt_area *a = iopt_first(&h->ioas->iopt, 0, UINT64_MAX); a;
		     a = iopt_next(a, UINT64_MAX)) {
			struct pgt_walk_level w[8];
			int n = pgt_walk(p, a->iova, w, 8);

			for (int i = 0; i < n; i++) {
				uint64_t *t = uenv_iova_to_va(w[i].table_pa);

				/* the entry itself (most often), or the whole table */
				add(C_PTE, &t[w[i].index], 8);
				add(C_PTE, t, 4096);
				add(C_COUNT, uenv_page_count(t), 2);
			}
		}
		uint64_t pa = p->spare_pa;
		for (uint32_t i = 0; i < p->nr_spare; i++) {
			uint64_t *t = uenv_iova_to_va(pa);

			add(C_PTE, t, 4096);
			pa = t[0];
		}
		for (uint32_t i = 0; i < p->nr_piece; i++)
			add(C_PTE, uenv_iova_to_va(p->piece[i].pa), 4096);
	}
	for (o = uobj_next(ctx, UOBJ_VIOMMU, NULL); o; o = uobj_next(ctx, UOBJ_VIOMMU, o))
		add_links(&((struct uiommu_viommu *)o)->parent_link);
	if (ctx->ext) {
		struct ctx_ext *e = ctx->ext;
		struct list_node *pos;

		add(C_EXT, e, sizeof(*e));
		list_for_each(pos, &e->bufs)
		{
			add(C_EXT, list_entry(pos, struct ext_buf, link), sizeof(struct ext_buf));
			add_links(pos);
		}
		list_for_each(pos, &e->names)
		{
			add(C_EXT, list_entry(pos, struct ext_name, link), sizeof(struct ext_name));
			add_links(pos);
		}
	}
}

/* ---- the state ---- */
#define RW (UIOMMU_MAP_READ | UIOMMU_MAP_WRITE | UIOMMU_MAP_FIXED_IOVA)
#define MUST(x)                                                                        \
	do {                                                                           \
		int rc_ = (x);                                                         \
		if (rc_) {                                                             \
			fprintf(stderr, "state_fuzz: %s: %s\n", #x, uiommu_strerror(rc_)); \
			exit(2);                                                       \
		}                                                                      \
	} while (0)

static struct uiommu_env_opts opts(bool create)
{
	return (struct uiommu_env_opts){.backend = UIOMMU_MEM_SHARED_SHM, .name = name,
					 .create = create, .lock_wait_ms = 200};
}

static void build(void)
{
	struct uiommu_env_opts o = opts(true);
	struct uiommu_unit_desc ud1 = {.family = UIOMMU_FAMILY_VTD, .access = UIOMMU_UNIT_MODEL,
				       .numa_node = -1};
	struct uiommu_unit_desc ud2 = ud1;
	struct uiommu_device_desc dd[4] = {
		{.devfn = 0x10, .hw_id = 0x10, .pasid_bits = 8},
		{.devfn = 0x18, .hw_id = 0x18, .pasid_bits = 8},
		{.devfn = 0x20, .hw_id = 0x20, .pasid_bits = 8},
		{.devfn = 0x08, .hw_id = 0x08},
	};
	struct uiommu_hwpt_s1_data s1 = {.family = UIOMMU_FAMILY_VTD,
					 .u.vtd = {.flptr = 0x10000000, .addr_width = 48}};
	struct uiommu_iova_range allow[2] = {{0x100000000ull, 0x1ffffffffull},
					     {0x400000000ull, 0x4ffffffffull}};
	struct uiommu_ctx *ctx;
	struct uiommu_unit *u1, *u2;
	struct uiommu_device *d[4];
	struct uiommu_ioas *a, *b, *c;
	struct uiommu_hwpt *fl = NULL, *parent, *nested;
	struct uiommu_viommu *vi;
	uint64_t small, large, iova;
	void *va;

	static const struct uiommu_vtd_unit_opts legacy_noqi = {
		.family = UIOMMU_FAMILY_VTD,
		.flags = UIOMMU_VTD_OPT_LEGACY | UIOMMU_VTD_OPT_NO_QI,
	};
	ud2.family_opts = &legacy_noqi;
	ud2.reg_base = 0x1000; /* (a model: a unique base, not used) */
	MUST(uiommu_ctx_create(&o, &ctx));
	MUST(uiommu_unit_add(ctx, &ud1, &u1));
	MUST(uiommu_unit_add(ctx, &ud2, &u2));
	for (int i = 0; i < 3; i++)
		MUST(uiommu_device_add(u1, &dd[i], &d[i]));
	MUST(uiommu_device_add(u2, &dd[3], &d[3]));
	MUST(uiommu_buf_alloc(ctx, 1u << 20, &va, &small));
	MUST(uiommu_buf_alloc(ctx, 2u << 20, &va, &large));
	MUST(uiommu_buf_alloc(ctx, 64u << 10, &va, &iova));
	MUST(uiommu_ioas_alloc(ctx, &a));
	MUST(uiommu_ioas_alloc(ctx, &b));
	MUST(uiommu_ioas_alloc(ctx, &c));
	/* A: d0's RID, d1's PASID 3; 1500 single pages, 2 MiB pages, a range. */
	MUST(uiommu_device_attach(d[0], UIOMMU_NO_PASID, uiommu_ioas_id(a), NULL));
	MUST(uiommu_device_attach(d[1], 3, uiommu_ioas_id(a), NULL));
	for (uint32_t i = 0; i < 1500; i++) {
		iova = 0x100000ull + i * 0x3000ull + (i / 300) * (1ull << 30);
		MUST(uiommu_ioas_map(a, &iova, small + (i % 256) * 4096ull, 4096,
				     i % 3 ? RW : UIOMMU_MAP_READ | UIOMMU_MAP_FIXED_IOVA));
	}
	for (uint32_t i = 0; i < 4; i++) {
		iova = 0x2000000000ull + i * (2ull << 20);
		MUST(uiommu_ioas_map(a, &iova, large, 2u << 20, RW));
	}
	iova = 0x3000000000ull;
	MUST(uiommu_ioas_map(a, &iova, small, 64u << 10, RW));
	for (uint32_t i = 0; i < 1500; i += 5) /* spare records, spare tables, pieces */
		MUST(uiommu_ioas_unmap(a, 0x100000ull + i * 0x3000ull + (i / 300) * (1ull << 30),
				       4096, NULL));
	MUST(uiommu_ioas_unmap(a, 0x3000000000ull, 64u << 10, NULL));
	iova = 0x3000000000ull;
	MUST(uiommu_ioas_map(a, &iova, small, 32u << 10, RW));
	MUST(uiommu_ioas_reserve(a, 0xd0000000ull, 0xd00fffffull));
	MUST(uiommu_ioas_allow_iovas(a, allow, 2));
	/* B: a nest parent, its vIOMMU, a nested HWPT for d2. */
	MUST(uiommu_hwpt_alloc(b, u1, UIOMMU_HWPT_NEST_PARENT, &parent));
	MUST(uiommu_viommu_alloc(u1, parent, &vi));
	MUST(uiommu_hwpt_alloc_nested(vi, &s1, &nested));
	MUST(uiommu_device_attach(d[2], UIOMMU_NO_PASID, uiommu_hwpt_id(nested), NULL));
	for (uint32_t i = 0; i < 64; i++) {
		iova = 0x10000000ull + i * 4096ull;
		MUST(uiommu_ioas_map(b, &iova, small + i * 4096ull, 4096, RW));
	}
	/* C: an explicit first-level HWPT for d1's RID on u1, and d3 on the
	 * legacy unit (a second-level HWPT beside it). */
	if (uiommu_hwpt_alloc(c, u1, UIOMMU_HWPT_STAGE1, &fl) == 0)
		MUST(uiommu_device_attach(d[1], UIOMMU_NO_PASID, uiommu_hwpt_id(fl), NULL));
	MUST(uiommu_device_attach(d[3], UIOMMU_NO_PASID, uiommu_ioas_id(c), NULL));
	for (uint32_t i = 0; i < 200; i++) {
		iova = 0x40000000ull + i * (1ull << 21);
		MUST(uiommu_ioas_map(c, &iova, small + (i % 256) * 4096ull, 4096, RW));
	}
	/* Pass-through on a PASID of d0 (where the unit has it). */
	(void)uiommu_device_attach(d[0], 7, UIOMMU_PT_IDENTITY, NULL);
	MUST(uiommu_obj_set_name(ctx, uiommu_ioas_id(a), "dma_a"));
	MUST(uiommu_obj_set_name(ctx, uiommu_ioas_id(c), "dma_c"));
	MUST(uiommu_obj_set_name(ctx, uiommu_device_id(d[0]), "nic"));
	MUST(uiommu_obj_set_name(ctx, uiommu_hwpt_id(nested), "guest"));
	/* A few faults drained: records in the units' event histories. */
	for (uint64_t i = 0; i < 5; i++) {
		struct uiommu_event ev[8];
		uint8_t byte = 0;

		(void)uiommu_model_dma(d[3], UIOMMU_NO_PASID, 0x7ff000000ull + i * 4096, &byte, 1,
				       i & 1);
		while (uiommu_poll(ctx, ev, 8))
			;
	}
	{
		int n = uiommu_state_check(ctx, NULL, NULL);

		if (n) {
			fprintf(stderr, "state_fuzz: the state built does not check clean (%d)\n", n);
			exit(2);
		}
	}
	base = (uint64_t)(uintptr_t)uenv_root_slot() & ~((2ull << 20) - 1);
	collect(ctx);
	/* A valid undo image: a transaction left open (a copy of the file
	 * taken while it was), then committed. */
	MUST(uiommu_txn_begin(ctx, 1000, NULL));
	iova = 0x50000000ull;
	MUST(uiommu_ioas_map(b, &iova, small, 4096, RW));
	{
		int fd = open(undo_path, O_RDONLY);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			exit(2);
		undo_len = (uint64_t)st.st_size;
		undo_image = malloc(undo_len);
		if (!undo_image || pread(fd, undo_image, undo_len, 0) != (ssize_t)undo_len)
			exit(2);
		close(fd);
	}
	MUST(uiommu_txn_commit(ctx));
	MUST(uiommu_ioas_unmap(b, 0x50000000ull, 4096, NULL));
	add(C_UNDO, (void *)(uintptr_t)base, 64); /* (offsets in the undo file) */
	uiommu_ctx_detach(ctx);
}

static void save_image(void)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		exit(2);
	image_len = (uint64_t)st.st_size;
	image = malloc(image_len);
	if (!image || pread(fd, image, image_len, 0) != (ssize_t)image_len)
		exit(2);
	close(fd);
}

static int write_file(const char *p, const uint8_t *buf, uint64_t len)
{
	int fd = open(p, O_RDWR | O_CREAT, 0600);
	uint64_t done = 0;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0) {
		close(fd);
		return -1;
	}
	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (uint64_t)n;
	}
	close(fd);
	return 0;
}

/* ---- random numbers: splitmix64 ---- */
static uint64_t rs;
static uint64_t rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- one mutation ---- */
struct mut {
	enum cat cat;
	bool undo;    /* in the undo image rather than the state file */
	uint64_t off; /* in that file */
	uint32_t width;
	uint64_t old, val;
	const char *how;
};

/* A word of the saved state file (for values copied from elsewhere). */
static uint64_t image_word(uint64_t off)
{
	uint64_t v = 0;

	if (off + 8 <= image_len)
		memcpy(&v, image + off, 8);
	return v;
}

static void mutate(struct mut *m, bool undo)
{
	enum cat c;
	const struct target *t;
	uint64_t v, off;
	static const uint32_t widths[] = {8, 8, 8, 4, 2, 1};

	do
		c = (enum cat)below(C__N);
	while (!targets[c].n || (c == C_UNDO && !undo));
	t = &targets[c].t[below(targets[c].n)];
	m->cat = c;
	m->width = widths[below(6)];
	while (m->width > t->len)
		m->width /= 2;
	off = t->off + below(t->len - m->width + 1);
	off &= ~(uint64_t)(m->width - 1);
	if (off < t->off)
		off = t->off;
	m->off = off;
	m->undo = undo;
	if (undo && c != C_UNDO)
		m->off = (2ull << 20) + off; /* where the image keeps the file's byte */
	if (m->off + m->width > (m->undo ? undo_len : image_len)) {
		m->undo = false;
		m->off = off;
	}
	v = 0;
	memcpy(&v, (m->undo ? undo_image : image) + m->off, m->width);
	m->old = v;
	switch (below(11)) {
	case 0:
		v ^= 1ull << below(m->width * 8);
		m->how = "bit flip";
		break;
	case 1:
		v = rnd();
		m->how = "random";
		break;
	case 2:
		v = 0;
		m->how = "zero";
		break;
	case 3:
		v = ~0ull;
		m->how = "all ones";
		break;
	case 4:
		v = below(17);
		m->how = "small";
		break;
	case 5: {
		static const int64_t d[] = {1, -1, 2, -2, 8, -8, 64, 4096, -4096, 2 << 20};

		v += (uint64_t)d[below(10)];
		m->how = "near";
		break;
	}
	case 6: /* a pointer into the arena: another target, or anywhere */
		if (below(2)) {
			enum cat c2;

			do
				c2 = (enum cat)below(C__N);
			while (!targets[c2].n || c2 == C_UNDO);
			const struct target *t2 = &targets[c2].t[below(targets[c2].n)];
			v = base + t2->off + (below(4) ? 0 : below(t2->len) & ~7ull);
		} else {
			v = base + (below(image_len) & ~7ull);
		}
		m->how = "pointer";
		break;
	case 7: /* a value from elsewhere in the state */
		v = image_word(targets[C_OBJ].n && below(2) ? targets[C_OBJ].t[below(targets[C_OBJ].n)].off
							     : below(image_len) & ~7ull);
		m->how = "copied";
		break;
	case 8:
		v = (uint64_t)(int64_t)-(int64_t)below(4);
		m->how = "negative";
		break;
	case 9:
		v ^= 0xffull << (8 * below(m->width));
		m->how = "byte";
		break;
	default:
		v = m->old ^ (rnd() & 0xfff);
		m->how = "low bits";
		break;
	}
	if (m->width < 8)
		v &= (1ull << (m->width * 8)) - 1;
	if (v == m->old)
		v ^= 1;
	m->val = v;
}

static void print_mut(FILE *f, const struct mut *m)
{
	fprintf(f, "    %s%s at 0x%llx (+%u): 0x%llx -> 0x%llx (%s)\n", m->undo ? "undo " : "",
		cat_name[m->cat], (unsigned long long)m->off, m->width, (unsigned long long)m->old,
		(unsigned long long)m->val, m->how);
}

/* ---- the child: adopt, check, work, check ---- */
enum {
	EX_CLEAN = 0,
	EX_SANITIZER = 1, /* ASan/UBSan exit status */
	EX_SETUP = 2,
	EX_REFUSED = 10,  /* + 0 EUCLEAN, 1 EINVAL, 2 EPERM, 3 ETIMEDOUT, 4 other,
			     5 EADDRINUSE (the file places the arena where this
			     process has something: a valid placement, elsewhere),
			     6 ENODEV (a unit's registers cannot be reached from
			     this process: a model unit turned into an MMIO one) */
	EX_ADOPTED_DIRTY = 20,
	EX_WORK_DIRTY = 21,
};

static void drop_rawio(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	(void)prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) == 0) {
		d[0].effective &= ~(1u << CAP_SYS_RAWIO);
		d[0].permitted &= ~(1u << CAP_SYS_RAWIO);
		d[0].inheritable &= ~(1u << CAP_SYS_RAWIO);
		(void)syscall(SYS_capset, &h, d);
	}
}

static void child_line(void *arg, const char *msg)
{
	(void)arg;
	if (verbose)
		fprintf(stderr, "    check: %s\n", msg);
}

static void workload(struct uiommu_ctx *ctx)
{
	struct uiommu_area_info ai[16];
	struct uiommu_buf_info bi[8];
	struct uiommu_walk_level wl[8];
	struct uiommu_attach_info at[8];
	struct uiommu_event ev[16];
	char nm[UIOMMU_NAME_MAX];
	uint32_t nb;
	uint8_t byte = 0x5a;

	for (struct uiommu_unit *u = uiommu_unit_next(ctx, NULL); u; u = uiommu_unit_next(ctx, u)) {
		struct uiommu_unit_info ui;
		struct uiommu_resv_region rr[4];

		(void)uiommu_unit_get_info(u, &ui);
		(void)uiommu_unit_resv_regions(u, rr, 4);
		(void)uiommu_obj_get_name(ctx, uiommu_unit_id(u), nm, sizeof(nm));
	}
	for (struct uiommu_device *d = uiommu_device_next(ctx, NULL); d;
	     d = uiommu_device_next(ctx, d)) {
		(void)uiommu_device_attachments(d, at, 8);
		(void)uiommu_obj_get_name(ctx, uiommu_device_id(d), nm, sizeof(nm));
	}
	for (struct uiommu_hwpt *h = uiommu_hwpt_next(ctx, NULL); h; h = uiommu_hwpt_next(ctx, h)) {
		struct uiommu_hwpt_info hi;

		(void)uiommu_hwpt_get_info(h, &hi);
		(void)uiommu_hwpt_walk(h, 0x100000, wl, 8);
	}
	for (struct uiommu_ioas *s = uiommu_ioas_next(ctx, NULL); s; s = uiommu_ioas_next(ctx, s)) {
		struct uiommu_iova_range r[8];

		(void)uiommu_ioas_areas(s, 0, ai, 16);
		uint64_t al;

		(void)uiommu_ioas_iova_ranges(s, r, 8, &al);
	}
	nb = uiommu_buf_list(ctx, bi, 8);
	(void)uiommu_obj_find(ctx, "dma_a");
	/* Map a page of a buffer into the IOAS "dma_a" (or the first), DMA
	 * through it and through an old mapping, unmap it. */
	struct uiommu_ioas *s = uiommu_ioas_get(ctx, uiommu_obj_find(ctx, "dma_a"));
	struct uiommu_device *d = uiommu_device_get(ctx, uiommu_obj_find(ctx, "nic"));

	if (!s)
		s = uiommu_ioas_next(ctx, NULL);
	if (!d)
		d = uiommu_device_next(ctx, NULL);
	if (s && nb) {
		uint64_t iova = 0x7000000000ull;

		if (uiommu_ioas_map(s, &iova, bi[0].bus_addr, 4096, RW) == 0) {
			if (d) {
				(void)uiommu_model_dma(d, UIOMMU_NO_PASID, iova + 8, &byte, 1, true);
				(void)uiommu_model_dma(d, UIOMMU_NO_PASID, 0x103000, &byte, 1, false);
			}
			(void)uiommu_ioas_unmap(s, iova, 4096, NULL);
		}
		iova = 0;
		if (uiommu_ioas_map(s, &iova, bi[0].bus_addr, 8192,
				    UIOMMU_MAP_READ | UIOMMU_MAP_WRITE) == 0)
			(void)uiommu_ioas_unmap(s, iova, 8192, NULL);
	}
	while (uiommu_poll(ctx, ev, 16))
		;
	/* Every unit's event history, from the oldest kept. */
	for (struct uiommu_unit *u = uiommu_unit_next(ctx, NULL); u; u = uiommu_unit_next(ctx, u)) {
		uint64_t cur = 0;

		while (uiommu_events_read(u, &cur, ev, 16) > 0)
			;
	}
}

static int child(void)
{
	struct uiommu_env_opts o = opts(false);
	struct uiommu_ctx *ctx;
	int rc;

	drop_rawio();
	alarm(30);
	if (!verbose)
		for (int m = 0; m < UENV_LOG__COUNT; m++)
			uenv_log_set_level((enum uenv_logmod)m, 1);
	rc = uiommu_ctx_create(&o, &ctx);
	if (rc) {
		if (verbose)
			fprintf(stderr, "    refused: %s\n", uiommu_strerror(rc));
		switch (rc) {
		case -EUCLEAN:
			return EX_REFUSED + 0;
		case -EINVAL:
			return EX_REFUSED + 1;
		case -EPERM:
			return EX_REFUSED + 2;
		case -ETIMEDOUT:
			return EX_REFUSED + 3;
		case -EADDRINUSE:
			return EX_REFUSED + 5;
		case -ENODEV:
			return EX_REFUSED + 6;
		default:
			fprintf(stderr, "    refused with %d (%s)\n", rc, uiommu_strerror(rc));
			return EX_REFUSED + 4;
		}
	}
	if (uiommu_state_check(ctx, child_line, NULL)) {
		fprintf(stderr, "    adopted, but the state check then fails:\n");
		verbose = true;
		(void)uiommu_state_check(ctx, child_line, NULL);
		return EX_ADOPTED_DIRTY;
	}
	workload(ctx);
	if (uiommu_state_check(ctx, child_line, NULL)) {
		fprintf(stderr, "    the state check fails after the workload:\n");
		verbose = true;
		(void)uiommu_state_check(ctx, child_line, NULL);
		return EX_WORK_DIRTY;
	}
	uiommu_ctx_detach(ctx);
	return EX_CLEAN;
}

/* ---- the loop ---- */
struct stats {
	uint64_t iters, refused[7], clean, adopted_dirty, work_dirty, crashes, sanitizer,
		hangs, other;
};

static int iteration(uint64_t seed, uint64_t i, struct stats *st, bool print)
{
	struct mut m[4];
	bool undo;
	int n, status;
	pid_t pid;

	rs = seed ^ (i * 0xd1342543de82ef95ull) ^ 0x5eed;
	(void)rnd();
	undo = below(8) == 0;
	n = 1 + (below(4) == 0) + (below(8) == 0) + (below(16) == 0);
	if (write_file(path, image, image_len) ||
	    (undo ? write_file(undo_path, undo_image, undo_len) : (unlink(undo_path), 0))) {
		fprintf(stderr, "state_fuzz: cannot restore the state file\n");
		exit(2);
	}
	{
		int fd = open(path, O_RDWR), ufd = undo ? open(undo_path, O_RDWR) : -1;

		for (int k = 0; k < n; k++) {
			mutate(&m[k], undo && below(2));
			if (pwrite(m[k].undo ? ufd : fd, &m[k].val, m[k].width, (off_t)m[k].off) !=
			    (ssize_t)m[k].width)
				exit(2);
		}
		close(fd);
		if (ufd >= 0)
			close(ufd);
	}
	if (print) {
		printf("iteration %llu:%s\n", (unsigned long long)i, undo ? " (with an undo image)" : "");
		for (int k = 0; k < n; k++)
			print_mut(stdout, &m[k]);
		fflush(stdout);
	}
	fflush(stderr);
	if (nofork) {
		int r = child();

		unlink(path);
		unlink(undo_path);
		exit(r);
	}
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0)
		_exit(child());
	if (waitpid(pid, &status, 0) < 0)
		exit(2);
	st->iters++;
	const char *bug = NULL;

	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM) {
			st->hangs++;
			bug = "hang";
		} else {
			st->crashes++;
			bug = strsignal(WTERMSIG(status));
		}
	} else {
		int ex = WEXITSTATUS(status);

		if (ex == EX_CLEAN)
			st->clean++;
		else if (ex >= EX_REFUSED && ex <= EX_REFUSED + 3)
			st->refused[ex - EX_REFUSED]++;
		else if (ex == EX_REFUSED + 4)
			st->refused[4]++, bug = "refused with an unexpected error";
		else if (ex == EX_REFUSED + 5 || ex == EX_REFUSED + 6)
			st->refused[ex - EX_REFUSED]++;
		else if (ex == EX_ADOPTED_DIRTY)
			st->adopted_dirty++, bug = "adopted a state that does not check clean";
		else if (ex == EX_WORK_DIRTY)
			st->work_dirty++, bug = "the workload left a state that does not check clean";
		else if (ex == EX_SANITIZER)
			st->sanitizer++, bug = "sanitizer report";
		else
			st->other++, bug = "unexpected exit status";
	}
	if (bug) {
		printf("BUG at iteration %llu (--seed 0x%llx --replay %llu): %s\n",
		       (unsigned long long)i, (unsigned long long)seed, (unsigned long long)i, bug);
		for (int k = 0; k < n; k++)
			print_mut(stdout, &m[k]);
		fflush(stdout);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t iters = 2000, seed = 1, replay = UINT64_MAX;
	struct stats st = {0};
	int bugs = 0;
	time_t t0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			iters = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--replay") && i + 1 < argc)
			replay = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--nofork"))
			nofork = true;
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--seed S] [--replay I [--nofork]] [--verbose]\n",
				argv[0]);
			return 2;
		}
	}
	/* The unit suite under valgrind or in quick mode: fewer (each child
	 * is the whole adoption under the instrumentation). */
	if (getenv("UIOMMU_UNDER_VALGRIND") && iters > 100)
		iters = 100;
	else if (getenv("UIOMMU_TEST_QUICK") && iters > 1000)
		iters = 1000;
	snprintf(name, sizeof(name), "state-fuzz-%d", (int)getpid());
	{
		struct uiommu_env_opts o = opts(false);

		if (uiommu_state_path(&o, path, sizeof(path)))
			return 2;
		snprintf(undo_path, sizeof(undo_path), "%s~undo", path);
	}
	build();
	save_image();
	printf("state_fuzz: state of %llu KiB, targets:", (unsigned long long)(image_len >> 10));
	for (int c = 0; c < C__N; c++)
		printf(" %s %zu%s", cat_name[c], targets[c].n, c + 1 < C__N ? "," : "\n");
	t0 = time(NULL);
	if (replay != UINT64_MAX) {
		verbose = true;
		bugs = iteration(seed, replay, &st, true);
	} else {
		for (uint64_t i = 0; i < iters; i++) {
			bugs += iteration(seed, i, &st, verbose);
			if (!verbose && iters >= 10000 && i % 10000 == 9999) {
				printf("  %llu iterations, %llu refused, %llu adopted clean, %d bugs\n",
				       (unsigned long long)(i + 1),
				       (unsigned long long)(st.refused[0] + st.refused[1] + st.refused[2] +
							    st.refused[3] + st.refused[4] + st.refused[5] +
							    st.refused[6]),
				       (unsigned long long)st.clean, bugs);
				fflush(stdout);
			}
		}
	}
	printf("state_fuzz: seed 0x%llx, %llu iterations in %llds: refused %llu (EUCLEAN %llu, "
	       "EINVAL %llu, EPERM %llu, ETIMEDOUT %llu, EADDRINUSE %llu, ENODEV %llu, other %llu), "
	       "adopted and clean %llu; "
	       "crashes %llu, sanitizer reports %llu, hangs %llu, adopted dirty %llu, dirty after "
	       "work %llu, other %llu\n",
	       (unsigned long long)seed, (unsigned long long)st.iters, (long long)(time(NULL) - t0),
	       (unsigned long long)(st.refused[0] + st.refused[1] + st.refused[2] + st.refused[3] +
				    st.refused[4] + st.refused[5] + st.refused[6]),
	       (unsigned long long)st.refused[0], (unsigned long long)st.refused[1],
	       (unsigned long long)st.refused[2], (unsigned long long)st.refused[3],
	       (unsigned long long)st.refused[5], (unsigned long long)st.refused[6],
	       (unsigned long long)st.refused[4],
	       (unsigned long long)st.clean,
	       (unsigned long long)st.crashes, (unsigned long long)st.sanitizer,
	       (unsigned long long)st.hangs, (unsigned long long)st.adopted_dirty,
	       (unsigned long long)st.work_dirty, (unsigned long long)st.other);
	unlink(path);
	unlink(undo_path);
	return bugs ? 1 : 0;
}
