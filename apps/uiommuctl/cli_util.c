/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: what the object verbs have in common: `OBJECT list` and
 * `OBJECT show REF` for any kind of object (struct cli_kind), and
 * positional arguments.
 */
#include <stdio.h>

#include "cli.h"

int cli_pos_arg(const char *arg, const char **pos, int *np, int max)
{
	if (*np < max && arg[0] != '-') {
		pos[(*np)++] = arg;
		return 0;
	}
	cli_err("unexpected argument '%s'", arg);
	return -1;
}

void *cli_open_obj(const struct cli_opts *opts, enum cli_type type, const char *ref,
		   struct uiommu_ctx **ctx, int *rc)
{
	void *obj;

	*rc = cli_state_open(opts, 0, ctx);
	if (*rc)
		return NULL;
	obj = cli_find(*ctx, type, ref);
	if (!obj) {
		cli_state_close(*ctx);
		*rc = CLI_FAILED;
	}
	return obj;
}

void cli_print_new(const struct cli_opts *opts, const struct cli_kind *k, struct uiommu_ctx *ctx,
		   void *obj, uint32_t id)
{
	if (opts->json) {
		json_t *o = k->json(ctx, obj, false);

		cli_json_print(o);
		json_decref(o);
	} else {
		printf("%s %u\n", k->name, id);
	}
}

int cli_list(const struct cli_opts *opts, int argc, char **argv, const struct cli_kind *k)
{
	struct uiommu_ctx *ctx;
	void *obj = NULL;
	json_t *arr;
	int rc;

	(void)argv;
	if (argc)
		return CLI_USAGE;
	rc = cli_state_open(opts, 0, &ctx);
	if (rc)
		return rc;
	arr = json_array();
	while ((obj = cli_next(ctx, k->type, obj))) {
		json_t *o = k->json(ctx, obj, opts->json && k->list_full_json);

		if (!opts->json)
			k->print(ctx, obj, o);
		json_array_append_new(arr, o);
	}
	if (opts->json)
		cli_json_print(arr);
	json_decref(arr);
	cli_state_close(ctx);
	return CLI_OK;
}

int cli_show(const struct cli_opts *opts, int argc, char **argv, const struct cli_kind *k)
{
	struct uiommu_ctx *ctx;
	json_t *o;
	void *obj;
	int rc;

	if (argc != 1)
		return CLI_USAGE;
	obj = cli_open_obj(opts, k->type, argv[0], &ctx, &rc);
	if (!obj)
		return rc;
	o = k->json(ctx, obj, true);
	if (opts->json)
		cli_json_print(o);
	else
		k->print(ctx, obj, o);
	json_decref(o);
	cli_state_close(ctx);
	return CLI_OK;
}
