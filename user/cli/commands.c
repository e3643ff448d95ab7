/* The sub-command table: dispatch, --help's list, and "did you mean". */
#include "cli/commands.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct command commands[] = {
	{ "trace", cmd_trace, "trace live, print a summary at the end (the default)" },
	{ "top", cmd_top, "trace live, refresh a per-thread view every second" },
	{ "record", cmd_record, "write every GIL event to a capture file" },
	{ "report", cmd_report, "print the summary of a capture" },
	{ "export", cmd_export, "convert a capture to Chrome Trace JSON (Perfetto) or CSV" },
	{ "plot", cmd_plot, "draw a capture's GIL timeline as an SVG" },
	{ "serve", cmd_serve, "trace until stopped, serve figures to Prometheus" },
	{ "blame", cmd_blame, "which Python code held the GIL while threads waited" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *commands__find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Edits (insert, delete, substitute, swap two neighbours) from a to b, or
 * more than max: typos such as "reprot" are one swap from "report". */
static size_t distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), d[16][16];

	if (la >= 16 || lb >= 16)
		return max + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			size_t best = sub < del ? sub : del;

			best = best < ins ? best : ins;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* What execvp() would find for `giltrace WORD`. */
static bool runnable(const char *word)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	if (strchr(word, '/'))
		return true;
	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(file, sizeof(file), "%.*s/%s", (int)len, len ? path : ".", word);
		if (!access(file, X_OK))
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

const struct command *commands__misspelt(const char *word)
{
	const struct command *best = NULL;
	size_t best_d = SIZE_MAX;

	if (word[0] == '-' || runnable(word))
		return NULL;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		size_t len = strlen(commands[i].name);
		/* one edit in a short name, two in a longer one */
		size_t max = len > 4 ? 2 : 1, d = distance(word, commands[i].name, max);

		if (d <= max && d < best_d) {
			best = &commands[i];
			best_d = d;
		}
	}
	return best;
}

char *commands__list(void)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs("Commands (giltrace COMMAND --help for each):", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "\n  %-8s %s", commands[i].name, commands[i].summary);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
