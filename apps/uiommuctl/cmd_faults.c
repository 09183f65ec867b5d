/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl faults [--follow], dma (model DMA), reset.
 *
 * `faults` shows each unit's event history (uiommu_events_read): every
 * event any process sharing the state drained with uiommu_poll (the DPDK
 * plugin's service, an application, another uiommuctl), oldest kept
 * first, after draining what is pending itself (which goes into the same
 * history).  `--follow` then keeps reading from where it is, one cursor
 * per unit, so it shows what it drains and what others drain.
 *
 * `faults --follow` polls until SIGINT/SIGTERM, taking the state's lock for
 * each poll only, so other commands run beside it.  Killed with SIGKILL
 * while it holds the lock, the next command takes the lock over (the
 * kernel drops the dead process's session lock); translation never stops.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define POLL_BURST	32
#define FOLLOW_SLEEP_NS (50 * 1000 * 1000) /* between empty polls */
#define DMA_MAX		(16u << 20)
#define DMA_SHOW	256 /* bytes shown of a read */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *ev_type(enum uiommu_event_type t)
{
	switch (t) {
	case UIOMMU_EV_FAULT:
		return "fault";
	case UIOMMU_EV_PAGE_REQ:
		return "page-request";
	case UIOMMU_EV_OVERFLOW:
		return "overflow";
	case UIOMMU_EV_QUEUE_ERROR:
		return "queue-error";
	case UIOMMU_EV_LOST:
		return "lost";
	default:
		return "event";
	}
}

static void ev_access(uint32_t f, char *b, size_t len)
{
	snprintf(b, len, "%s%s%s%s%s", f & UIOMMU_EV_WRITE ? "write" : "read",
		 f & UIOMMU_EV_EXEC ? ",exec" : "", f & UIOMMU_EV_PRIV ? ",priv" : "",
		 f & UIOMMU_EV_STAGE2 ? ",stage2" : "", f & UIOMMU_EV_LAST ? ",last" : "");
}

static const char *ev_bdf(struct uiommu_ctx *ctx, const struct uiommu_event *e, char *bdf,
			  size_t len, char *nm)
{
	struct uiommu_device *d = e->dev_id ? uiommu_device_get(ctx, e->dev_id) : NULL;
	struct uiommu_device_desc dd;

	snprintf(bdf, len, "?");
	nm[0] = '\0';
	if (d) {
		uiommu_device_get_desc(d, &dd);
		cli_fmt_bdf(bdf, len, dd.segment, (uint16_t)(dd.bus << 8 | dd.devfn));
		cli_obj_name(ctx, e->dev_id, nm);
	}
	return bdf;
}

static json_t *ev_json(struct uiommu_ctx *ctx, const struct uiommu_event *e, uint64_t seq)
{
	char acc[64], bdf[32], nm[UIOMMU_NAME_MAX], b[32];
	json_t *o = json_object();

	ev_access(e->flags, acc, sizeof(acc));
	json_object_set_new(o, "type", json_string(ev_type(e->type)));
	/* The event's sequence number in its unit's history (a "lost" record:
	 * the first one lost). */
	json_object_set_new(o, "seq", json_integer((json_int_t)seq));
	json_object_set_new(o, "unit", json_integer(e->unit_id));
	json_object_set_new(o, "device", json_integer(e->dev_id));
	json_object_set_new(o, "bdf", json_string(ev_bdf(ctx, e, bdf, sizeof(bdf), nm)));
	json_object_set_new(o, "hw_id", json_integer(e->hw_id));
	json_object_set_new(o, "pasid",
			    (e->flags & UIOMMU_EV_PASID) ? json_integer(e->pasid) : json_null());
	snprintf(b, sizeof(b), "%#" PRIx64, e->addr);
	json_object_set_new(o, "addr", json_string(b));
	if (e->addr2) { /* SMMUv3: the IPA of a stage-2 fault, or a fetch address */
		snprintf(b, sizeof(b), "%#" PRIx64, e->addr2);
		json_object_set_new(o, (e->flags & UIOMMU_EV_STAGE2) ? "ipa" : "fetch",
				    json_string(b));
	}
	json_object_set_new(o, "access", json_string(acc));
	json_object_set_new(o, "reason", json_integer(e->reason));
	json_object_set_new(o, "reason_text", json_string(e->reason_text ? e->reason_text : ""));
	if (e->type == UIOMMU_EV_PAGE_REQ)
		json_object_set_new(o, "grpid", json_integer(e->grpid));
	if (e->type == UIOMMU_EV_OVERFLOW) /* null: the hardware does not count */
		json_object_set_new(o, "lost",
				    e->count ? json_integer((json_int_t)e->count) : json_null());
	if (e->type == UIOMMU_EV_LOST)
		json_object_set_new(o, "lost", json_integer((json_int_t)e->count));
	return o;
}

static void ev_print(struct uiommu_ctx *ctx, const struct uiommu_event *e)
{
	char acc[64], bdf[32], nm[UIOMMU_NAME_MAX];

	ev_access(e->flags, acc, sizeof(acc));
	ev_bdf(ctx, e, bdf, sizeof(bdf), nm);
	if (e->type == UIOMMU_EV_OVERFLOW) {
		/* e->count is 0 when the hardware only says that it dropped some
		 * (VT-d FSTS.PFO, PRS.PRO): do not print "dropped 0". */
		printf("overflow: unit %u: %s", e->unit_id,
		       e->reason_text ? e->reason_text : "events were dropped");
		if (e->count)
			printf(" (%" PRIu64 " lost)\n", e->count);
		else
			printf(" (how many is not known)\n");
	} else if (e->type == UIOMMU_EV_LOST) {
		printf("lost: unit %u: %" PRIu64 " events no longer in the history (this reader "
		       "fell behind)\n",
		       e->unit_id, e->count);
	} else if (e->type == UIOMMU_EV_QUEUE_ERROR) {
		printf("queue-error: unit %u reason %#x %s (recovered)\n", e->unit_id, e->reason,
		       e->reason_text ? e->reason_text : "");
	} else {
		printf("%s: unit %u device %u%s%s (%s) id %#x", ev_type(e->type), e->unit_id,
		       e->dev_id, *nm ? " " : "", nm, bdf, e->hw_id);
		if (e->flags & UIOMMU_EV_PASID)
			printf(" pasid %u", e->pasid);
		printf(" %s at %#" PRIx64, acc, e->addr);
		if (e->addr2 && e->addr2 != e->addr) /* a nested stage-2 fault's IPA, a fetch */
			printf(" (%s %#" PRIx64 ")", (e->flags & UIOMMU_EV_STAGE2) ? "IPA" : "fetch",
			       e->addr2);
		printf(": reason %#x %s\n", e->reason, e->reason_text ? e->reason_text : "");
	}
}

/* One reader cursor per unit (by object ID: IDs are not reused). */
struct ev_cursor {
	uint32_t unit_id;
	uint64_t cur;
};

struct ev_out {
	struct uiommu_ctx *ctx;
	json_t *arr; /* -j without --follow: one array at the end */
	bool json;
	uint64_t total;
};

static void ev_emit(struct ev_out *out, const struct uiommu_event *e, uint64_t seq)
{
	if (out->arr) {
		json_array_append_new(out->arr, ev_json(out->ctx, e, seq));
	} else if (out->json) {
		/* --follow -j: one object per line, as events come. */
		json_t *o = ev_json(out->ctx, e, seq);

		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		ev_print(out->ctx, e);
	}
	out->total++;
}

/* Print what @u's history holds past *cur; the sequence numbers of what
 * was read follow from the cursor it ends at.  -EUCLEAN: no history. */
static int ev_read_unit(struct ev_out *out, struct uiommu_unit *u, uint64_t *cur)
{
	struct uiommu_event ev[POLL_BURST];
	uint64_t seq[POLL_BURST];
	int n;

	do {
		n = uiommu_events_read(u, cur, ev, POLL_BURST);
		if (n < 0)
			return n;
		/* Backwards from the cursor: a LOST record stands for count
		 * sequence numbers before the events after it. */
		uint64_t s = *cur;
		for (int i = n - 1; i >= 0; i--) {
			s -= ev[i].type == UIOMMU_EV_LOST ? ev[i].count : 1;
			seq[i] = s;
		}
		for (int i = 0; i < n; i++)
			ev_emit(out, &ev[i], seq[i]);
	} while (n == POLL_BURST);
	return 0;
}

static uint64_t *cursor_of(struct ev_cursor **tab, size_t *n, uint32_t unit_id)
{
	struct ev_cursor *t;

	for (size_t i = 0; i < *n; i++)
		if ((*tab)[i].unit_id == unit_id)
			return &(*tab)[i].cur;
	t = realloc(*tab, (*n + 1) * sizeof(**tab));
	if (!t)
		return NULL;
	*tab = t;
	t[*n].unit_id = unit_id;
	t[*n].cur = 0; /* a unit seen first: from the oldest event kept */
	return &t[(*n)++].cur;
}

int cmd_faults(const struct cli_opts *opts, int argc, char **argv)
{
	struct uiommu_event ev[POLL_BURST];
	struct timespec ts = {0, FOLLOW_SLEEP_NS};
	struct ev_out out = {.json = opts->json};
	struct ev_cursor *cursors = NULL;
	size_t ncursors = 0;
	struct uiommu_ctx *ctx;
	struct sigaction sa;
	bool follow = false;
	uint16_t n;
	int rc;

	for (int i = 0; i < argc; i++) {
		int m = cli_flag(argv[i], !strcmp(argv[i], "-f") ? "-f" : "--follow", &follow);

		if (m <= 0) {
			if (!m)
				cli_err("unexpected argument '%s'", argv[i]);
			return CLI_USAGE;
		}
	}
	if (follow) {
		/* Before taking the state: a stop request that comes as soon
		 * as the state is seen owned must still end in a clean close. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART; /* the open's system calls go on */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		return rc;
	out.ctx = ctx;
	if (!follow && opts->json)
		out.arr = json_array();
	if (follow)
		uiommu_ctx_unlock(ctx); /* taken per poll below */
	do {
		uint64_t before;

		if (follow)
			(void)uiommu_ctx_lock(ctx, UINT32_MAX, NULL);
		/* What is pending goes into the units' histories ... */
		n = uiommu_poll(ctx, ev, POLL_BURST);
		before = out.total;
		/* ... which are read with everything other processes drained. */
		for (struct uiommu_unit *u = uiommu_unit_next(ctx, NULL); u;
		     u = uiommu_unit_next(ctx, u)) {
			uint64_t *cur = cursor_of(&cursors, &ncursors, uiommu_unit_id(u));

			if (!cur) {
				rc = cli_fail(-ENOMEM, "faults");
				goto out;
			}
			if (ev_read_unit(&out, u, cur) == 0)
				continue;
			/* No well-formed history: what this poll drained of the
			 * unit is all there is to show. */
			for (uint16_t i = 0; i < n; i++)
				if (ev[i].unit_id == uiommu_unit_id(u))
					ev_emit(&out, &ev[i], 0);
		}
		fflush(stdout);
		if (follow)
			uiommu_ctx_unlock(ctx);
		if (!n && out.total == before && follow && !stop)
			nanosleep(&ts, NULL);
	} while (!stop && (n || follow));
	if (out.arr)
		cli_json_print(out.arr);
	else if (!opts->json && !out.total && !follow)
		printf("no events\n");
	rc = CLI_OK;
out:
	json_decref(out.arr);
	free(cursors);
	cli_state_close(ctx);
	return rc;
}

/* ----------------------------------------------------------------- dma */

static void hexdump(const uint8_t *p, uint64_t len, uint64_t base)
{
	for (uint64_t off = 0; off < len; off += 16) {
		printf("  %#010" PRIx64 ":", base + off);
		for (uint64_t i = off; i < off + 16 && i < len; i++)
			printf(" %02x", p[i]);
		printf("\n");
	}
}

int cmd_dma(const struct cli_opts *opts, int argc, char **argv)
{
	const char *pos[3] = {NULL, NULL, NULL}, *ps = NULL, *pat = NULL;
	uint64_t iova, len, v, pattern = 0xa5;
	uint32_t pasid = UIOMMU_NO_PASID;
	bool rd = false, wr = false;
	int np = 0, rc;
	struct uiommu_device *d;
	struct uiommu_ctx *ctx;
	uint8_t *buf;

	for (int i = 0; i < argc; i++) {
		int r;

		if ((r = cli_flag(argv[i], "--read", &rd)) ||
		    (r = cli_flag(argv[i], "--write", &wr)) ||
		    (r = cli_opt_val(argc, argv, &i, "--pasid", &ps)) ||
		    (r = cli_opt_val(argc, argv, &i, "--pattern", &pat))) {
			if (r < 0)
				return CLI_USAGE;
		} else if (cli_pos_arg(argv[i], pos, &np, 3)) {
			return CLI_USAGE;
		}
	}
	if (np != 3 || rd == wr) {
		cli_err("give DEVICE IOVA LEN and one of --read, --write");
		return CLI_USAGE;
	}
	if (cli_parse_u64(pos[1], &iova) || cli_parse_size(pos[2], &len) || !len || len > DMA_MAX ||
	    (ps && (cli_parse_u64(ps, &v) || v >= (1u << 20))) ||
	    (pat && (cli_parse_u64(pat, &pattern) || pattern > 0xff))) {
		cli_err("bad IOVA, LEN (1 .. 16M), PASID or pattern (0 .. 0xff)");
		return CLI_USAGE;
	}
	if (ps)
		pasid = (uint32_t)v;
	buf = malloc(len);
	if (!buf)
		return cli_fail(-ENOMEM, "dma buffer");
	memset(buf, (int)pattern, len);
	d = cli_open_obj(opts, CLI_DEVICE, pos[0], &ctx, &rc);
	if (!d) {
		free(buf);
		return rc;
	}
	rc = uiommu_model_dma(d, pasid, iova, buf, len, wr);
	if (rc == -EFAULT) {
		cli_err("DMA %s %#" PRIx64 "+%#" PRIx64 " blocked by the IOMMU: fault recorded "
			"(see 'uiommuctl faults' and 'uiommuctl walk %s %#" PRIx64 "')",
			wr ? "write to" : "read from", iova, len, pos[0], iova);
		rc = CLI_FAILED;
		goto out;
	}
	if (rc == -EOPNOTSUPP) {
		cli_err("DMA is only for model units, and needs the family's built-in model "
			"(not in this build)");
		rc = CLI_FAILED;
		goto out;
	}
	if (rc) {
		rc = cli_fail(rc, "DMA failed");
		goto out;
	}
	if (opts->json) {
		json_t *o = json_object();
		uint64_t show = len < 4096 ? len : 4096;
		char *hex = malloc(show * 2 + 1);

		json_object_set_new(o, "ok", json_true());
		json_object_set_new(o, "dir", json_string(wr ? "write" : "read"));
		json_object_set_new(o, "len", json_integer((json_int_t)len));
		if (!wr && hex) {
			for (uint64_t i = 0; i < show; i++)
				snprintf(hex + 2 * i, 3, "%02x", buf[i]);
			json_object_set_new(o, "data", json_string(hex));
		}
		free(hex);
		cli_json_print(o);
		json_decref(o);
	} else if (wr) {
		printf("wrote %" PRIu64 " bytes of %#02" PRIx64 " at %#" PRIx64 "\n", len, pattern,
		       iova);
	} else {
		printf("read %" PRIu64 " bytes at %#" PRIx64 "%s\n", len, iova,
		       len > DMA_SHOW ? " (first 256 shown)" : ":");
		hexdump(buf, len < DMA_SHOW ? len : DMA_SHOW, iova);
	}
	rc = CLI_OK;
out:
	free(buf);
	cli_state_close(ctx);
	return rc;
}

/* --------------------------------------------------------------- reset */
