/* Sub-commands: each parses its own options (argp) and returns the exit
 * code: 0 ok, 1 runtime error, 2 usage error. */
#ifndef GILTRACE_COMMANDS_H
#define GILTRACE_COMMANDS_H

int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_blame(int argc, char **argv);

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for --help */
};

/* The command named name, or NULL. */
const struct command *commands__find(const char *name);

/* The command word is probably a typo of, or NULL: close to a command's
 * name (edit distance) and neither a path nor a program on $PATH, which
 * `giltrace CMD` would run. */
const struct command *commands__misspelt(const char *word);

/* "Commands ..." and one line per command, for the top-level --help: a
 * malloc'd string, NULL when out of memory. */
char *commands__list(void);

#endif
