/* SPDX-License-Identifier: BSD-3-Clause */
#include "cli.h"
int cmd_show(const struct cli_opts *opts, int argc, char **argv)
{
	(void)opts; (void)argc; (void)argv;
	cli_err("show: not yet");
	return CLI_FAILED;
}
