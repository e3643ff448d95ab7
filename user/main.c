/* giltrace: dispatch to a sub-command; the default one traces live. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "run/signals.h"

const char *argp_program_version = "giltrace 0.2";
const char *argp_program_bug_address = "the project's issue tracker";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "trace", cmd_trace },
	{ "record", cmd_record },
	{ "report", cmd_report },
	{ "export", cmd_export },
	{ "plot", cmd_plot },
	{ "top", cmd_top },
	{ "serve", cmd_serve },
	{ "blame", cmd_blame },
};

int main(int argc, char **argv)
{
	argp_err_exit_status = 2;
	signals__install();
	if (argc > 1) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			char name[64];

			if (strcmp(argv[1], commands[i].name))
				continue;
			/* argp names the program after argv[0] in usage and errors. */
			snprintf(name, sizeof(name), "giltrace %s", commands[i].name);
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	return cmd_trace(argc, argv);
}
