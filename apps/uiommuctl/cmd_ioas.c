/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl ioas create|destroy|list|show|map|unmap|attach|detach.
 *
 * Backing memory for map:
 *  --alloc SIZE       a DMA buffer from the state's arena (uiommu_buf_alloc):
 *                     works with models and hardware; recorded in the state,
 *                     freed by unmap/destroy/reset;
 *  --phys ADDR        a bus/physical range (bring-up; on a model it must lie
 *                     in an --alloc buffer: there IOVA = VA of this process);
 *  --hugefile PATH[:OFFSET]  a file on hugetlbfs (hardware, IOVA = PA); the
 *                     file keeps its pages after uiommuctl exits;
 *  --memzone NAME[@PREFIX]  an IOVA-contiguous memzone of the running DPDK
 *                     application started with --file-prefix PREFIX
 *                     (default "rte"): uiommuctl joins it as an EAL
 *                     secondary process to look the memzone up
 *                     (uiommu_memzone_lookup) and maps its bus address
 *                     (hardware, IOVA = PA); --len defaults to the
 *                     memzone's length rounded down to 4 KiB.  The memzone
 *                     stays the application's: free it only after unmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

#define PAGE_4K 4096ull

/* ------------------------------------------------------------ helpers */

/* Every area of @a intersecting [start, last]; caller frees. */
static uint32_t collect_areas(struct uiommu_ioas *a, uint64_t start, uint64_t last,
			      struct uiommu_area_info **out)
{
	struct uiommu_area_info batch[64], *v = NULL;
	uint32_t n = 0, got;
	uint64_t from = start;

	while ((got = uiommu_ioas_areas(a, from, batch, 64)) > 0) {
		struct uiommu_area_info *nv = realloc(v, sizeof(*v) * (n + got));
		bool end = false;

		if (!nv)
			break;
		v = nv;
		for (uint32_t i = 0; i < got; i++) {
			if (batch[i].iova > last) {
				end = true;
				break;
			}
			v[n++] = batch[i];
		}
		from = batch[got - 1].iova + batch[got - 1].len;
		if (end || got < 64 || from == 0)
			break;
	}
	*out = v;
	return n;
}

static const char *prot_str(uint32_t prot)
{
	return (prot & UIOMMU_MAP_READ) && (prot & UIOMMU_MAP_WRITE) ? "rw"
	       : (prot & UIOMMU_MAP_READ)			     ? "r"
								     : "w";
}

static json_t *area_json(const struct uiommu_area_info *ar)
{
	json_t *o = json_object();
	char b[32];

	snprintf(b, sizeof(b), "%#" PRIx64, ar->iova);
	json_object_set_new(o, "iova", json_string(b));
	json_object_set_new(o, "len", json_integer((json_int_t)ar->len));
	snprintf(b, sizeof(b), "%#" PRIx64, ar->phys);
	json_object_set_new(o, "phys", json_string(b));
	json_object_set_new(o, "prot", json_string(prot_str(ar->prot)));
	return o;
}

static json_t *ioas_json(struct uiommu_ctx *ctx, void *obj, bool full)
{
	struct uiommu_ioas *a = obj;
	struct uiommu_ioas_stats st;
	struct uiommu_device *d = NULL;
	char nm[UIOMMU_NAME_MAX];
	json_t *o = json_object(), *users = json_array();
	uint32_t id = uiommu_ioas_id(a);

	uiommu_ioas_get_stats(a, &st);
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", json_string(cli_obj_name(ctx, id, nm)));
	json_object_set_new(o, "areas", json_integer((json_int_t)st.nr_areas));
	json_object_set_new(o, "mapped", json_integer((json_int_t)st.mapped_bytes));
	json_object_set_new(o, "hwpts", json_integer(st.nr_hwpts));
	while ((d = uiommu_device_next(ctx, d))) {
		struct uiommu_attach_info at[64];
		uint32_t n = uiommu_device_attachments(d, at, 64);

		for (uint32_t i = 0; i < n && i < 64; i++) {
			json_t *u;

			if (at[i].ioas_id != id)
				continue;
			u = json_object();
			json_object_set_new(u, "device", json_integer(uiommu_device_id(d)));
			json_object_set_new(u, "pasid",
					    at[i].pasid == UIOMMU_NO_PASID
						    ? json_null()
						    : json_integer(at[i].pasid));
			json_object_set_new(u, "hwpt", json_integer(at[i].hwpt_id));
			json_array_append_new(users, u);
		}
	}
	json_object_set_new(o, "users", users);
	if (full) {
		struct uiommu_area_info *ar;
		struct uiommu_iova_range r[32];
		uint32_t n = collect_areas(a, 0, UINT64_MAX, &ar), nr;
		json_t *arr = json_array();
		char b[48];

		for (uint32_t i = 0; i < n; i++)
			json_array_append_new(arr, area_json(&ar[i]));
		free(ar);
		json_object_set_new(o, "mappings", arr);
		arr = json_array();
		nr = uiommu_ioas_iova_ranges(a, r, 32, NULL);
		for (uint32_t i = 0; i < nr && i < 32; i++) {
			snprintf(b, sizeof(b), "%#" PRIx64 "-%#" PRIx64, r[i].start, r[i].last);
			json_array_append_new(arr, json_string(b));
		}
		json_object_set_new(o, "usable", arr);
	}
	return o;
}

static void ioas_print(struct uiommu_ctx *ctx, void *obj, json_t *o)
{
	const char *nm = json_string_value(json_object_get(o, "name"));
	json_t *arr, *v;
	size_t i;

	(void)ctx;
	(void)obj;
	printf("ioas %" JSON_INTEGER_FORMAT "%s%s: %" JSON_INTEGER_FORMAT
	       " mapping(s), %" JSON_INTEGER_FORMAT " bytes, %" JSON_INTEGER_FORMAT " hwpt(s)",
	       json_integer_value(json_object_get(o, "id")), *nm ? " " : "", nm,
	       json_integer_value(json_object_get(o, "areas")),
	       json_integer_value(json_object_get(o, "mapped")),
	       json_integer_value(json_object_get(o, "hwpts")));
	arr = json_object_get(o, "users");
	json_array_foreach(arr, i, v)
	{
		json_t *p = json_object_get(v, "pasid");

		printf("%s device %" JSON_INTEGER_FORMAT, i ? "," : "; used by",
		       json_integer_value(json_object_get(v, "device")));
		if (!json_is_null(p))
			printf(" pasid %" JSON_INTEGER_FORMAT, json_integer_value(p));
	}
	printf("\n");
	arr = json_object_get(o, "mappings");
	json_array_foreach(arr, i, v) printf(
		"  %s +%#" PRIx64 " -> %s %s\n", json_string_value(json_object_get(v, "iova")),
		(uint64_t)json_integer_value(json_object_get(v, "len")),
		json_string_value(json_object_get(v, "phys")),
		json_string_value(json_object_get(v, "prot")));
	arr = json_object_get(o, "usable");
	if (arr) {
		printf("  usable IOVA:");
		json_array_foreach(arr, i, v) printf(" %s", json_string_value(v));
		printf("\n");
	}
}

/* `ioas list -j` has the mappings too; the text form is one line each. */
static const struct cli_kind ioas_kind = {
	.type = CLI_IOAS,
	.name = "ioas",
	.json = ioas_json,
	.print = ioas_print,
	.list_full_json = true,
};

/* ------------------------------------------------------------- verbs */

int cmd_ioas_create(const struct cli_opts *opts, int argc, char **argv)
{
	const char *name = NULL;
	struct uiommu_ioas *a;
	struct uiommu_ctx *ctx;
	int rc;

	for (int i = 0; i < argc; i++) {
		int m = cli_opt_val(argc, argv, &i, "--name", &name);

		if (m < 0)
			return CLI_USAGE;
		if (!m) {
			cli_err("unexpected argument '%s'", argv[i]);
			return CLI_USAGE;
		}
	}
	if (name && cli_check_name(name))
		return CLI_USAGE;
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		return rc;
	if (name && uiommu_obj_find(ctx, name)) {
		cli_err("an object named '%s' exists already", name);
		cli_state_close(ctx);
		return CLI_FAILED;
	}
	rc = uiommu_ioas_alloc(ctx, &a);
	if (rc) {
		cli_state_close(ctx);
		return cli_fail(rc, "cannot create an IOAS");
	}
	if (name && (rc = uiommu_obj_set_name(ctx, uiommu_ioas_id(a), name))) {
		cli_fail(rc, "cannot name the IOAS '%s'", name);
		(void)uiommu_ioas_destroy(a);
		cli_state_close(ctx);
		return CLI_FAILED;
	}
	cli_print_new(opts, &ioas_kind, ctx, a, uiommu_ioas_id(a));
	cli_state_close(ctx);
	return CLI_OK;
}

int cmd_ioas_destroy(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_area_info *ar = NULL;
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *a;
	uint32_t n = 0;
	int rc;

	if (argc != 1)
		return CLI_USAGE;
	a = cli_open_obj(opts, CLI_IOAS, argv[0], &ctx, &rc);
	if (!a)
		return rc;
	n = collect_areas(a, 0, UINT64_MAX, &ar);
	rc = uiommu_ioas_destroy(a);
	if (rc == -EBUSY) {
		cli_err("ioas %s is in use (devices attached): detach them first", argv[0]);
		rc = CLI_FAILED;
		goto out;
	} else if (rc) {
		rc = cli_fail(rc, "cannot destroy ioas %s", argv[0]);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		cli_buf_release(ctx, ar[i].phys);
	rc = CLI_OK;
out:
	free(ar);
	cli_state_close(ctx);
	return rc;
}

int cmd_ioas_list(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_list(opts, argc, argv, &ioas_kind);
}

int cmd_ioas_show(const struct cli_opts *opts, int argc, char **argv)
{
	return cli_show(opts, argc, argv, &ioas_kind);
}

/* ------------------------------------------------------------------ map */

struct map_args {
	const char *ioas, *alloc, *phys, *hugefile, *memzone, *iova, *len, *prot;
};

static int parse_map_args(int argc, char **argv, struct map_args *m)
{
	int np = 0;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < argc; i++) {
		int r;

		if ((r = cli_opt_val(argc, argv, &i, "--alloc", &m->alloc)) ||
		    (r = cli_opt_val(argc, argv, &i, "--phys", &m->phys)) ||
		    (r = cli_opt_val(argc, argv, &i, "--hugefile", &m->hugefile)) ||
		    (r = cli_opt_val(argc, argv, &i, "--memzone", &m->memzone)) ||
		    (r = cli_opt_val(argc, argv, &i, "--iova", &m->iova)) ||
		    (r = cli_opt_val(argc, argv, &i, "--len", &m->len)) ||
		    (r = cli_opt_val(argc, argv, &i, "--prot", &m->prot))) {
			if (r < 0)
				return -1;
		} else if (cli_pos_arg(argv[i], &m->ioas, &np, 1)) {
			return -1;
		}
	}
	if (!m->ioas || (!!m->alloc + !!m->phys + !!m->hugefile + !!m->memzone) != 1) {
		cli_err("give an IOAS and exactly one of --alloc, --phys, --hugefile, --memzone");
		return -1;
	}
	if (m->alloc && m->len) {
		cli_err("--len is for --phys, --hugefile and --memzone: --alloc SIZE is the length");
		return -1;
	}
	return 0;
}

/* Map a hugetlbfs file range: its pages' physical addresses (IOVA = PA)
 * come from the process page map through the library. */
static int map_hugefile(struct uiommu_ioas *a, const char *spec, uint64_t len, uint64_t *iova,
			uint32_t flags, uint64_t *phys)
{
	char path[512];
	const char *colon = strrchr(spec, ':');
	uint64_t off = 0;
	struct uiommu_area_info ar;
	void *va;
	int fd, rc;

	size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);

	if (!plen || plen >= sizeof(path)) {
		cli_err("--hugefile: %s path", plen ? "too long a" : "empty");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%.*s", (int)plen, spec);
	if (colon && (cli_parse_size(colon + 1, &off) || off > (uint64_t)INT64_MAX - len)) {
		cli_err("bad offset in '%s' (a size; offset + length below 2^63)", spec);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		cli_fail(rc, "%s", path);
		return rc;
	}
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
	close(fd);
	if (va == MAP_FAILED) {
		rc = -errno;
		cli_fail(rc,
			 "cannot map %s at offset %#" PRIx64 " (a hugetlbfs file; offset and "
			 "length multiples of the huge page size)",
			 path, off);
		return rc;
	}
	rc = uiommu_ioas_map_va(a, iova, va, len, flags);
	if (rc == 0 && uiommu_ioas_lookup(a, *iova, &ar) == 0)
		*phys = ar.phys;
	munmap(va, len); /* the file keeps its pages; the IOMMU keeps their addresses */
	return rc;
}

/* --memzone NAME[@PREFIX]: the memzone's bus address, and the length to
 * map (*len: --len, or 0 for the memzone's length rounded down to 4 KiB). */
static int memzone_find(const char *spec, uint64_t *phys, uint64_t *len)
{
	const char *at = strrchr(spec, '@');
	struct uiommu_buf_info b;
	char name[64];
	int rc;

	size_t nlen = at ? (size_t)(at - spec) : strlen(spec);

	if (!nlen || nlen >= sizeof(name) || (at && !at[1])) {
		cli_err("--memzone %s: %s", spec,
			!nlen		       ? "empty memzone name"
			: nlen >= sizeof(name) ? "memzone name too long"
					       : "empty file prefix after '@'");
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)nlen, spec);
	rc = uiommu_memzone_lookup(name, at ? at + 1 : NULL, &b);
	if (rc == -ENODEV) {
		cli_err("--memzone %s: no DPDK application with --file-prefix %s to join (is it "
			"running, with hugepage files, not --in-memory?)",
			spec, at ? at + 1 : "rte");
		return rc;
	}
	if (rc == -ENOENT) {
		cli_err("--memzone %s: the DPDK application has no memzone '%s'", spec, name);
		return rc;
	}
	if (rc == -EINVAL) {
		cli_err("--memzone %s: bad name, or the memzone is not IOVA-contiguous (reserve it "
			"with RTE_MEMZONE_IOVA_CONTIG)",
			spec);
		return rc;
	}
	if (rc) {
		cli_fail(rc, "--memzone %s", spec);
		return rc;
	}
	if (*len > b.len) {
		cli_err("--memzone %s: --len %#" PRIx64 " is beyond its %#" PRIx64 " bytes", spec,
			*len, b.len);
		return -EINVAL;
	}
	if (!*len)
		*len = b.len & ~(PAGE_4K - 1);
	if (!*len || (b.bus_addr & (PAGE_4K - 1))) {
		cli_err("--memzone %s: at bus address %#" PRIx64 ", %#" PRIx64 " bytes: not 4 KiB "
			"aligned or shorter than 4 KiB (reserve it with "
			"rte_memzone_reserve_aligned(..., 4096))",
			spec, b.bus_addr, b.len);
		return -EINVAL;
	}
	*phys = b.bus_addr;
	return 0;
}

static int map_error(int rc, const struct map_args *m)
{
	switch (-rc) {
	case EEXIST:
		cli_err("IOVA range overlaps an existing mapping (see 'uiommuctl ioas show %s')",
			m->ioas);
		break;
	case EINVAL:
		cli_err("refused: misaligned (IOVA, address and length must be 4 KiB aligned), "
			"or inside a reserved range (see 'ioas show %s': usable IOVA)",
			m->ioas);
		break;
	case EOVERFLOW:
		cli_err("IOVA range wraps around");
		break;
	case ENOSPC:
		cli_err("no free IOVA range of that size");
		break;
	case EFAULT:
		cli_err("the memory's bus address cannot be known (hugetlbfs file with IOVA = PA "
			"needed)");
		break;
	default:
		cli_fail(rc, "map failed");
	}
	return CLI_FAILED;
}

int cmd_ioas_map(const struct cli_opts *opts, int argc, char **argv)
{
	struct map_args m;
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *a;
	uint64_t len = 0, iova = 0, phys = 0;
	uint32_t flags = 0;
	bool buf = false;
	int rc;

	if (parse_map_args(argc, argv, &m))
		return CLI_USAGE;
	if ((m.alloc && cli_parse_size(m.alloc, &len)) || (m.len && cli_parse_size(m.len, &len)) ||
	    (m.iova && cli_parse_u64(m.iova, &iova)) || (m.phys && cli_parse_u64(m.phys, &phys))) {
		cli_err("bad number (C notation; sizes may end in K, M, G)");
		return CLI_USAGE;
	}
	if (!len && !(m.memzone && !m.len)) {
		cli_err("the length must be given and not 0 (--alloc SIZE or --len SIZE)");
		return CLI_USAGE;
	}
	if (!m.prot || !strcmp(m.prot, "rw"))
		flags = UIOMMU_MAP_READ | UIOMMU_MAP_WRITE;
	else if (!strcmp(m.prot, "r"))
		flags = UIOMMU_MAP_READ;
	else if (!strcmp(m.prot, "w"))
		flags = UIOMMU_MAP_WRITE;
	else {
		cli_err("--prot: r, w or rw");
		return CLI_USAGE;
	}
	if (m.iova)
		flags |= UIOMMU_MAP_FIXED_IOVA;
	if ((len | (m.iova ? iova : 0) | phys) & (PAGE_4K - 1)) {
		cli_err("misaligned: IOVA, address and length must be multiples of 4 KiB");
		return CLI_FAILED;
	}
	if (len && m.iova && iova + (len - 1) < iova) {
		cli_err("IOVA range %#" PRIx64 "+%#" PRIx64 " wraps around", iova, len);
		return CLI_FAILED;
	}
	if (len && m.phys && phys + (len - 1) < phys) {
		cli_err("address range %#" PRIx64 "+%#" PRIx64 " wraps around", phys, len);
		return CLI_FAILED;
	}
	a = cli_open_obj(opts, CLI_IOAS, m.ioas, &ctx, &rc);
	if (!a)
		return rc;
	if (m.hugefile && cli_state_is_model()) {
		cli_err("--hugefile needs the hardware state (IOVA = PA); on a model use --alloc");
		rc = CLI_FAILED;
		goto out;
	}
	if (m.memzone && cli_state_is_model()) {
		cli_err("--memzone needs the hardware state: a memzone's bus address is the DPDK "
			"application's, a model's IOVA is this process's virtual address; on a "
			"model use --alloc");
		rc = CLI_FAILED;
		goto out;
	}
	if (m.memzone && memzone_find(m.memzone, &phys, &len)) {
		rc = CLI_FAILED;
		goto out;
	}
	if (m.phys && cli_state_is_model()) {
		struct uiommu_buf_info b;

		if (uiommu_buf_lookup(ctx, phys, &b) || phys + len > b.bus_addr + b.len) {
			cli_err("on a model, --phys must lie inside an --alloc buffer (IOVA = VA)");
			rc = CLI_FAILED;
			goto out;
		}
	}
	if (m.alloc) {
		void *va;

		rc = uiommu_buf_alloc(ctx, len, &va, &phys);
		if (rc) {
			rc = cli_fail(rc, "cannot allocate %" PRIu64 " bytes", len);
			goto out;
		}
		buf = true;
	}
	if (m.hugefile)
		rc = map_hugefile(a, m.hugefile, len, &iova, flags, &phys);
	else
		rc = uiommu_ioas_map(a, &iova, phys, len, flags);
	if (rc) {
		if (buf)
			(void)uiommu_buf_free(ctx, phys);
		rc = map_error(rc, &m);
		goto out;
	}
	if (opts->json) {
		struct uiommu_area_info ar = {
			.iova = iova, .len = len, .phys = phys, .prot = flags};
		json_t *o = area_json(&ar);

		json_object_set_new(o, "ioas", json_integer(uiommu_ioas_id(a)));
		cli_json_print(o);
		json_decref(o);
	} else {
		printf("mapped %#" PRIx64 "-%#" PRIx64 " -> %#" PRIx64 " %s\n", iova,
		       iova + len - 1, phys, prot_str(flags));
	}
	rc = CLI_OK;
out:
	cli_state_close(ctx);
	return rc;
}

/*
 * `ioas unmap IOAS IOVA [LEN]` removes the mappings inside [IOVA, IOVA+LEN)
 * (without LEN: the one mapping that starts at IOVA), whole, and nothing
 * else: a range that would cut a mapping fails and removes nothing.  IOVA
 * and LEN must be multiples of 4 KiB (every mapping is aligned at least so;
 * an IOAS with a larger alignment has its mappings aligned to it too) and
 * the range must not wrap past 2^64.
 */
int cmd_ioas_unmap(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_area_info *ar = NULL, one;
	const char *pos[3] = {NULL, NULL, NULL};
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *a;
	uint64_t iova = 0, len = 0, done = 0;
	bool all = false;
	uint32_t n = 0;
	int rc, np = 0;

	for (int i = 0; i < argc; i++) {
		int m = cli_flag(argv[i], "--all", &all);

		if (m < 0 || (!m && cli_pos_arg(argv[i], pos, &np, 3)))
			return CLI_USAGE;
	}
	if (np < 1 || (all && np != 1) || (!all && np < 2)) {
		cli_err("give IOAS and IOVA [LEN], or IOAS --all");
		return CLI_USAGE;
	}
	if (!all) {
		if (cli_parse_u64(pos[1], &iova)) {
			cli_err("bad IOVA '%s' (a 64-bit number, C notation)", pos[1]);
			return CLI_USAGE;
		}
		if (pos[2] && (cli_parse_size(pos[2], &len) || !len)) {
			cli_err("bad LEN '%s' (a size, not 0; may end in K, M, G)", pos[2]);
			return CLI_USAGE;
		}
		if ((iova | len) & (PAGE_4K - 1)) {
			cli_err("misaligned: IOVA and LEN must be multiples of 4 KiB");
			return CLI_FAILED;
		}
		if (len && iova + (len - 1) < iova) {
			cli_err("IOVA range %#" PRIx64 "+%#" PRIx64 " wraps around", iova, len);
			return CLI_FAILED;
		}
	}
	a = cli_open_obj(opts, CLI_IOAS, pos[0], &ctx, &rc);
	if (!a)
		return rc;
	if (!all && !len) {
		if (uiommu_ioas_lookup(a, iova, &one)) {
			cli_err("nothing mapped at %#" PRIx64 " in ioas %s", iova, pos[0]);
			rc = CLI_FAILED;
			goto out;
		}
		if (one.iova != iova) {
			cli_err("%#" PRIx64 " is inside the mapping at %#" PRIx64
				": give the mapping's start (mappings are removed whole)",
				iova, one.iova);
			rc = CLI_FAILED;
			goto out;
		}
		len = one.len;
	}
	n = all ? collect_areas(a, 0, UINT64_MAX, &ar)
		: collect_areas(a, iova, iova + len - 1, &ar);
	rc = all ? uiommu_ioas_unmap_all(a, &done) : uiommu_ioas_unmap(a, iova, len, &done);
	if (rc == -ENOENT) {
		cli_err("nothing mapped in %#" PRIx64 "+%#" PRIx64, iova, len);
		rc = CLI_FAILED;
		goto out;
	} else if (rc == -EINVAL) {
		cli_err("the range %#" PRIx64 "+%#" PRIx64 " would cut a mapping (mappings are "
			"removed whole): nothing unmapped",
			iova, len);
		rc = CLI_FAILED;
		goto out;
	} else if (rc) {
		rc = cli_fail(rc, "unmap failed");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		cli_buf_release(ctx, ar[i].phys);
	if (opts->json) {
		json_t *o = json_object();

		json_object_set_new(o, "unmapped", json_integer((json_int_t)done));
		cli_json_print(o);
		json_decref(o);
	} else {
		printf("unmapped %" PRIu64 " bytes\n", done);
	}
	rc = CLI_OK;
out:
	free(ar);
	cli_state_close(ctx);
	return rc;
}

/* ------------------------------------------------------- attach / detach */

/* What attach and detach act on: "IOAS DEVICE [--pasid N]". */
struct attach_ref {
	const char *ioas, *dev; /* as given */
	uint32_t pasid;		/* UIOMMU_NO_PASID: the RID */
	struct uiommu_ctx *ctx;
	struct uiommu_ioas *a;
	struct uiommu_device *d;
};

static int attach_args(int argc, char **argv, struct attach_ref *r)
{
	const char *p = NULL;
	int np = 0;

	r->pasid = UIOMMU_NO_PASID;
	for (int i = 0; i < argc; i++) {
		int m = cli_opt_val(argc, argv, &i, "--pasid", &p);

		if (m < 0)
			return -1;
		if (m)
			continue;
		if (np == 0)
			r->ioas = argv[i];
		else if (np == 1)
			r->dev = argv[i];
		else
			return -1;
		np++;
	}
	if (np != 2)
		return -1;
	if (p) {
		uint64_t v;

		if (cli_parse_u64(p, &v) || v >= (1u << 20)) {
			cli_err("bad --pasid '%s' (0 .. 2^20-1)", p);
			return -1;
		}
		r->pasid = (uint32_t)v;
	}
	return 0;
}

/* Parse, open the state and find the IOAS and the device; on CLI_OK the
 * caller closes r->ctx. */
static int attach_open(const struct cli_opts *opts, int argc, char **argv, struct attach_ref *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (attach_args(argc, argv, r))
		return CLI_USAGE;
	rc = cli_state_open(opts, 0, &r->ctx);
	if (rc)
		return rc;
	r->a = cli_find_ioas(r->ctx, r->ioas);
	r->d = r->a ? cli_find_device(r->ctx, r->dev) : NULL;
	if (!r->d) {
		cli_state_close(r->ctx);
		return CLI_FAILED;
	}
	return CLI_OK;
}

static const char *rid_or_pasid(uint32_t pasid)
{
	return pasid == UIOMMU_NO_PASID ? "RID" : "PASID";
}

int cmd_ioas_attach(const struct cli_opts *opts, int argc, char **argv)
{
	struct attach_ref r;
	uint32_t hwpt = 0;
	int rc;

	rc = attach_open(opts, argc, argv, &r);
	if (rc)
		return rc;
	rc = uiommu_device_attach(r.d, r.pasid, uiommu_ioas_id(r.a), &hwpt);
	switch (-rc) {
	case 0:
		break;
	case EBUSY:
		cli_err("device %s %s is attached already (detach it first)", r.dev,
			rid_or_pasid(r.pasid));
		break;
	case EADDRINUSE:
		cli_err("the device's reserved regions (MSI window, firmware RMRRs, table "
			"aperture) intersect mappings of ioas %s",
			r.ioas);
		break;
	case EINVAL:
		cli_err("refused: PASID beyond the device's or unit's width, or no compatible "
			"page table");
		break;
	default:
		cli_fail(rc, "attach failed");
	}
	if (rc) {
		rc = CLI_FAILED;
		goto out;
	}
	if (opts->json) {
		json_t *o = json_object();

		json_object_set_new(o, "device", json_integer(uiommu_device_id(r.d)));
		json_object_set_new(o, "pasid",
				    r.pasid == UIOMMU_NO_PASID ? json_null()
							       : json_integer(r.pasid));
		json_object_set_new(o, "ioas", json_integer(uiommu_ioas_id(r.a)));
		json_object_set_new(o, "hwpt", json_integer(hwpt));
		cli_json_print(o);
		json_decref(o);
	} else {
		printf("attached device %u %s to ioas %u (hwpt %u)\n", uiommu_device_id(r.d),
		       rid_or_pasid(r.pasid), uiommu_ioas_id(r.a), hwpt);
	}
out:
	cli_state_close(r.ctx);
	return rc;
}

int cmd_ioas_detach(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_attach_info at[64];
	struct attach_ref r;
	bool found = false;
	uint32_t n;
	int rc;

	rc = attach_open(opts, argc, argv, &r);
	if (rc)
		return rc;
	n = uiommu_device_attachments(r.d, at, 64);
	for (uint32_t i = 0; i < n && i < 64; i++)
		found |= at[i].pasid == r.pasid && at[i].ioas_id == uiommu_ioas_id(r.a);
	if (!found) {
		cli_err("device %s %s is not attached to ioas %s", r.dev, rid_or_pasid(r.pasid),
			r.ioas);
		rc = CLI_FAILED;
		goto out;
	}
	rc = uiommu_device_detach(r.d, r.pasid);
	if (rc)
		rc = cli_fail(rc, "detach failed");
	else if (!opts->json)
		printf("detached; DMA from device %u %s is blocked\n", uiommu_device_id(r.d),
		       rid_or_pasid(r.pasid));
out:
	cli_state_close(r.ctx);
	return rc;
}
