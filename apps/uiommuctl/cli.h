/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: iproute2-style "uiommuctl [OPTIONS] OBJECT VERB [ARGS]".
 *
 * To add a command: write cmd_<object>.c with a handler of type cli_fn,
 * declare it below and add one line to cli_commands[] in main.c.
 * A handler returns CLI_OK, CLI_FAILED (after printing a one-line reason
 * with cli_err()) or CLI_USAGE.
 */
#ifndef UIOMMUCTL_CLI_H
#define UIOMMUCTL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli_parse.h"
#include "uiommu/uiommu_fw.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Global options, accepted before OBJECT or anywhere among the verb's args. */
struct cli_opts {
	bool json;            /* -j, --json */
	const char *acpi_dir; /* --acpi DIR: table dump instead of /sys */
	const char *model;    /* --model FAMILY[:CFG]: the built-in model (state.c) */
	const char *state;    /* --state NAME: name of the shared state (state.c) */
	uint32_t wait_ms;     /* --wait SECS: how long to wait for the state's lock */
	bool wait_set;
};

/* @argc/@argv: the verb's arguments (global options removed). */
typedef int (*cli_fn)(const struct cli_opts *opts, int argc, char **argv);

struct cli_cmd {
	const char *object;  /* "probe", "acpi", ... */
	const char *verb;    /* "decode"; NULL when the object alone is the command */
	const char *args;    /* argument synopsis for help */
	const char *summary; /* one line */
	cli_fn fn;
};

/* Print "uiommuctl: <msg>" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a JSON value on stdout (indented), followed by a newline. */
void cli_json_print(json_t *v);

/* Shared firmware output (fw_print.c). */
void fw_print_topo(FILE *f, const struct uiommu_fw_topo *t);
void fw_print_items(FILE *f, const struct uiommu_fw_topo *t);
void fw_print_diags(FILE *f, const struct uiommu_fw_topo *t);
json_t *fw_json_topo(const struct uiommu_fw_topo *t);
json_t *fw_json_items(const struct uiommu_fw_topo *t);
json_t *fw_json_unit(const struct uiommu_fw_topo *t, size_t i);
json_t *fw_json_diags(const struct uiommu_fw_topo *t);

/* `probe` on the live machine, for a unit with a usable base: map its
 * registers read-only through uiommu_unit_peek, add what its family's
 * driver decodes to @obj (uiommu_unit_peek_decode), return 0; or -errno
 * (-EOPNOTSUPP: no decoder for the family, -EACCES, -ENODEV, ...).
 * (regs_peek.c) */
int cli_regs_peek(const struct uiommu_fw_unit *u, json_t *obj);

/* Commands. */
int cmd_probe(const struct cli_opts *opts, int argc, char **argv);
int cmd_acpi_decode(const struct cli_opts *opts, int argc, char **argv);


/* ---- Object verbs: state that outlives the process (state.c, cmd_*.c) ---- */
#include "uiommu/uiommu.h"

/* cli_state_open flags. */
#define CLI_STATE_NOCREATE (1u << 0) /* never create a state (reset, ...) */
#define CLI_STATE_HW_CREATE (1u << 1) /* create a hardware (hugepage) state: unit add */
#define CLI_STATE_NO_UNIT (1u << 2) /* a new model state without its default first unit */

/* Open or adopt the state named by --state (default "model-<family>" with
 * --model, else "hw"); creates a model state with one model unit on first
 * use.  The state's lock is held until cli_state_close (so that the
 * command sees and leaves the state whole), waiting at most --wait
 * seconds for it.  Prints the reason and returns CLI_FAILED on failure
 * (a timeout names the process holding the lock). */
int cli_state_open(const struct cli_opts *o, unsigned int flags, struct uiommu_ctx **ctx);
/* The command is done with the state (it is left by cli_state_end). */
void cli_state_close(struct uiommu_ctx *ctx);
/* "PID (command line)" of a process, for "held by"/"in use by" messages. */
void cli_proc_desc(uint32_t pid, char *buf, size_t len);
/* Destroy the state (reset, or a failed first creation). */
void cli_state_destroy(struct uiommu_ctx *ctx);
/* main: the command that runs next changes the state (a transaction). */
void cli_state_set_txn(bool on);
/* main, after the command: commit its transaction (rc == CLI_OK) or roll it
 * back, and leave the state for the next process; returns the exit code. */
int cli_state_end(int rc);
const char *cli_state_name(const struct cli_opts *o);
/* True when the open state is a model state (/dev/shm, IOVA = VA). */
bool cli_state_is_model(void);

/* Print "uiommuctl: <msg>: <uiommu_strerror(rc)>"; returns CLI_FAILED. */
int cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Numbers, sizes, PCI addresses, names: cli_parse.h. */
/* "--opt VAL" / "--opt=VAL" at argv[*i]: 1 (and *val, *i advanced), 0 if
 * another argument, -1 when the value is missing or the option was given
 * already (*val not NULL; message printed).  *val must start NULL. */
int cli_opt_val(int argc, char **argv, int *i, const char *opt, const char **val);
/* A flag without a value: 1 when @arg is @flag (*set becomes true), 0 if
 * another argument, -1 when it was given already (message printed). */
int cli_flag(const char *arg, const char *flag, bool *set);
/* Check a --name value (CLI_NAME_RULE): 0, or -1 after a message. */
int cli_check_name(const char *name);
/* The kinds of object the verbs name. */
enum cli_type { CLI_UNIT, CLI_DEVICE, CLI_IOAS, CLI_HWPT };
/* The object of @type after @prev (NULL: the first); NULL at the end. */
void *cli_next(struct uiommu_ctx *ctx, enum cli_type type, void *prev);
/* An object by ID, name, or (devices) PCI address; NULL after a message. */
void *cli_find(struct uiommu_ctx *ctx, enum cli_type type, const char *s);
static inline struct uiommu_unit *cli_find_unit(struct uiommu_ctx *ctx, const char *s)
{
	return cli_find(ctx, CLI_UNIT, s);
}
static inline struct uiommu_device *cli_find_device(struct uiommu_ctx *ctx, const char *s)
{
	return cli_find(ctx, CLI_DEVICE, s);
}
static inline struct uiommu_ioas *cli_find_ioas(struct uiommu_ctx *ctx, const char *s)
{
	return cli_find(ctx, CLI_IOAS, s);
}
static inline struct uiommu_hwpt *cli_find_hwpt(struct uiommu_ctx *ctx, const char *s)
{
	return cli_find(ctx, CLI_HWPT, s);
}
/* Name of an object ("" when none), in @buf of UIOMMU_NAME_MAX. */
const char *cli_obj_name(struct uiommu_ctx *ctx, uint32_t id, char *buf);
/* "00:03.0" (with "SSSS:" when the segment is not 0). */
void cli_fmt_bdf(char *buf, size_t len, uint16_t seg, uint16_t rid);
const char *cli_family_name(enum uiommu_family f);
/* The family of a --model NAME[:CFG] (NONE when no such model is built in). */
enum uiommu_family cli_model_family(const char *spec);
/* Give back the DMA buffer behind a removed mapping at bus address @phys,
 * unless another IOAS still maps it. */
void cli_buf_release(struct uiommu_ctx *ctx, uint64_t phys);
/* Device JSON (also used by show and apply). */
json_t *cli_device_json(struct uiommu_ctx *ctx, struct uiommu_device *d);
/* argv[i] as the next of at most @max positional arguments (into pos[*np]):
 * 0, or -1 after "unexpected argument" (an option, or one too many). */
int cli_pos_arg(const char *arg, const char **pos, int *np, int max);

/* Open the state and find the @type object @ref: the object (the caller
 * closes *ctx), or NULL with *rc the exit code (the state closed again). */
void *cli_open_obj(const struct cli_opts *opts, enum cli_type type, const char *ref,
		   struct uiommu_ctx **ctx, int *rc);

/*
 * One kind of object as `OBJECT list` and `OBJECT show REF` see it
 * (cli_util.c).  @obj is the kind's handle (struct uiommu_unit *, ...).
 */
struct cli_kind {
	enum cli_type type;
	const char *name; /* "unit", ...: what a creating verb prints */
	/* The object as JSON; @full: the detailed form `show` prints. */
	json_t *(*json)(struct uiommu_ctx *ctx, void *obj, bool full);
	/* Print @o (from ->json) as text. */
	void (*print)(struct uiommu_ctx *ctx, void *obj, json_t *o);
	bool list_full_json; /* `list -j` gives the full form */
};
/* What a creating verb prints: the object's JSON (-j), else "NAME ID". */
void cli_print_new(const struct cli_opts *opts, const struct cli_kind *k, struct uiommu_ctx *ctx,
		   void *obj, uint32_t id);
/* `list` (no arguments): text, or -j a JSON array. */
int cli_list(const struct cli_opts *opts, int argc, char **argv, const struct cli_kind *k);
/* `show REF`: the full form of one object; CLI_FAILED when there is none. */
int cli_show(const struct cli_opts *opts, int argc, char **argv, const struct cli_kind *k);

int cmd_unit_list(const struct cli_opts *opts, int argc, char **argv);
int cmd_unit_show(const struct cli_opts *opts, int argc, char **argv);
int cmd_unit_add(const struct cli_opts *opts, int argc, char **argv);
int cmd_device_list(const struct cli_opts *opts, int argc, char **argv);
int cmd_device_show(const struct cli_opts *opts, int argc, char **argv);
int cmd_device_add(const struct cli_opts *opts, int argc, char **argv);
int cmd_device_remove(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_create(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_destroy(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_list(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_show(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_map(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_unmap(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_attach(const struct cli_opts *opts, int argc, char **argv);
int cmd_ioas_detach(const struct cli_opts *opts, int argc, char **argv);
int cmd_hwpt_list(const struct cli_opts *opts, int argc, char **argv);
int cmd_hwpt_show(const struct cli_opts *opts, int argc, char **argv);
int cmd_walk(const struct cli_opts *opts, int argc, char **argv);
int cmd_dma(const struct cli_opts *opts, int argc, char **argv);
int cmd_faults(const struct cli_opts *opts, int argc, char **argv);
int cmd_apply(const struct cli_opts *opts, int argc, char **argv);
int cmd_show(const struct cli_opts *opts, int argc, char **argv);
int cmd_reset(const struct cli_opts *opts, int argc, char **argv);
int cmd_state_users(const struct cli_opts *opts, int argc, char **argv);
int cmd_state_check(const struct cli_opts *opts, int argc, char **argv);

#endif
