/* giltrace: dispatch to a sub-command; the default one traces live. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "run/signals.h"

const char *argp_program_version = "giltrace 0.2";
const char *argp_program_bug_address = "the project's issue tracker";

int main(int argc, char **argv)
{
	const struct command *cmd = argc > 1 ? commands__find(argv[1]) : NULL;
	char name[64];

	argp_err_exit_status = 2;
	signals__install();
	if (!cmd) {
		if (argc > 1 && (cmd = commands__misspelt(argv[1]))) {
			fprintf(stderr, "giltrace: unknown command '%s'; did you mean '%s'?\n",
				argv[1], cmd->name);
			return 2;
		}
		/* getopt's messages name argv[0]: "giltrace:", however it was run */
		argv[0] = "giltrace";
		return cmd_trace(argc, argv);
	}
	/* argp names the program after argv[0] in usage and errors. */
	snprintf(name, sizeof(name), "giltrace %s", cmd->name);
	argv[1] = name;
	return cmd->run(argc - 1, argv + 1);
}
