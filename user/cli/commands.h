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

#endif
