/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl state users | state check, and reset: the shared state itself.
 *
 *  - `state users`: the other processes that have the state open;
 *  - `state check`: an fsck of the state (exit 1 on any problem);
 *  - `reset [--force]`: give everything back and delete the state; refused
 *    while another process has it open, unless --force.  --force also
 *    deletes a state that cannot be adopted (corrupt), without adopting it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_USERS 64

int cmd_state_users(const struct cli_opts *opts, int argc, char **argv)
{
	uint32_t pids[MAX_USERS];
	struct uiommu_ctx *ctx;
	char line[256];
	int n, rc;

	(void)argv;
	if (argc)
		return CLI_USAGE;
	rc = cli_state_open(opts, CLI_STATE_NOCREATE, &ctx);
	if (rc)
		return rc;
	n = uiommu_state_users(ctx, pids, MAX_USERS);
	if (opts->json) {
		json_t *a = json_array();

		for (int i = 0; i < n && i < MAX_USERS; i++)
			json_array_append_new(a, json_integer(pids[i]));
		cli_json_print(a);
		json_decref(a);
	} else {
		for (int i = 0; i < n && i < MAX_USERS; i++) {
			cli_proc_desc(pids[i], line, sizeof(line));
			printf("%s\n", line);
		}
		if (!n)
			printf("no other process has state '%s' open\n", cli_state_name(opts));
	}
	cli_state_close(ctx);
	return CLI_OK;
}

struct check_out {
	json_t *arr;
};

static void check_line(void *arg, const char *msg)
{
	struct check_out *o = arg;

	if (o->arr)
		json_array_append_new(o->arr, json_string(msg));
	else
		printf("problem: %s\n", msg);
}

int cmd_state_check(const struct cli_opts *opts, int argc, char **argv)
{
	struct check_out out = {NULL};
	struct uiommu_ctx *ctx;
	int rc, n;

	(void)argv;
	if (argc)
		return CLI_USAGE;
	rc = cli_state_open(opts, CLI_STATE_NOCREATE, &ctx);
	if (rc)
		return rc; /* a state that fails its checks is refused at adoption */
	if (opts->json)
		out.arr = json_array();
	n = uiommu_state_check(ctx, check_line, &out);
	if (out.arr) {
		json_t *o = json_pack("{s:s, s:i, s:o}", "state", cli_state_name(opts), "problems",
				      n, "messages", out.arr);
		cli_json_print(o);
		json_decref(o);
	} else if (n == 0) {
		printf("state '%s': consistent\n", cli_state_name(opts));
	} else {
		printf("state '%s': %d problem(s)\n", cli_state_name(opts), n);
	}
	cli_state_close(ctx);
	return n == 0 ? CLI_OK : CLI_FAILED;
}

/* --force on a state that cannot be opened: delete the file as it is. */
static int reset_remove(const struct cli_opts *opts)
{
	struct uiommu_env_opts eo = {.name = cli_state_name(opts), .backend = UIOMMU_MEM_SHARED_SHM};
	int rc = uiommu_state_remove(&eo);

	if (rc == -ENOENT) {
		eo.backend = UIOMMU_MEM_SHARED_HUGE;
		eo.huge_dir = getenv("UIOMMU_HUGE_DIR");
		rc = uiommu_state_remove(&eo);
	}
	if (rc)
		return cli_fail(rc, "cannot delete state '%s'", eo.name);
	printf("state '%s' deleted without adopting it: hardware it programmed keeps its "
	       "tables until taken over or rebooted\n",
	       eo.name);
	return CLI_OK;
}

int cmd_reset(const struct cli_opts *opts, int argc, char **argv)
{
	uint32_t pids[MAX_USERS];
	struct uiommu_ctx *ctx;
	bool force = false;
	char line[256];
	int rc, n;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else
			return CLI_USAGE;
	}
	rc = cli_state_open(opts, CLI_STATE_NOCREATE, &ctx);
	if (rc) {
		if (!force)
			return rc;
		return reset_remove(opts);
	}
	n = uiommu_state_users(ctx, pids, MAX_USERS);
	if (n > 0 && !force) {
		cli_proc_desc(pids[0], line, sizeof(line));
		cli_err("state '%s' is in use by process %s%s: stop it first, or reset --force",
			cli_state_name(opts), line, n > 1 ? " and others" : "");
		cli_state_close(ctx);
		return CLI_FAILED;
	}
	/* Detach everything, give the units back, free tables and buffers,
	 * delete the state file. */
	cli_state_destroy(ctx);
	if (!opts->json)
		printf("state '%s' reset: nothing left\n", cli_state_name(opts));
	return CLI_OK;
}
