/* Where export and plot write: stdout (no -o, or -o -), or a new file that
 * -o names. */
#ifndef GILTRACE_OUT_FILE_H
#define GILTRACE_OUT_FILE_H

#include <argp.h>
#include <stdbool.h>
#include <stdio.h>

struct out_file_opts {
	const char *path; /* NULL: stdout (-o -) */
	bool force;       /* overwrite an existing file */
};

/* -o OUT and --force, as an argp child parser whose input is a struct
 * out_file_opts. */
extern const struct argp out_file_argp;

/*
 * Opens path for writing (mode 0644; under sudo owned by the invoking
 * user), refusing an existing file unless force, and never writing through
 * a symbolic link; NULL path: stdout.
 * On failure prints one line ("giltrace: OUT exists: ...") and returns NULL.
 */
FILE *out_file__open(const char *path, bool force);

/* Closes f and removes path (stdout is left alone): for an output opened
 * before a run that failed before writing to it, which would otherwise
 * look like a summary of nothing. */
void out_file__discard(FILE *f, const char *path);

/* Flushes and closes f (stdout is only flushed). Returns 0, or 1 after a
 * one-line error; a reader that closed the pipe early is no error. */
int out_file__close(FILE *f, const char *path);

#endif
