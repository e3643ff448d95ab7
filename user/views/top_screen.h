/*
 * The top view on a terminal: a full-screen ncurses display of one frame,
 * and the keys that change what is shown. The caller owns the run and the
 * refresh interval; the screen owns only scrolling and the help page.
 */
#ifndef GILTRACE_TOP_SCREEN_H
#define GILTRACE_TOP_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "views/top.h"

/* What the keys control; top_screen__input() edits it in place. */
struct top_control {
	int interval_ms;
	enum top_sort sort;
	bool paused;
	bool quit;
};

/* top_screen__input()'s answer: which parts of top_control changed. */
enum {
	TOP_INPUT_REDRAW = 1,   /* only the display changed (sort, scroll, help, resize) */
	TOP_INPUT_PAUSE = 2,    /* paused was toggled */
	TOP_INPUT_INTERVAL = 4, /* interval_ms changed */
	TOP_INPUT_QUIT = 8,
	TOP_INPUT_KEY = 16,     /* a key was pressed (not a resize) */
};

struct top_screen;

/* Takes over the terminal behind out and in; NULL with a reason in err
 * when it cannot (no terminfo entry for $TERM, out of memory). */
struct top_screen *top_screen__open(FILE *out, FILE *in, char *err, size_t errlen);
/* Gives the terminal back as it was (normal screen, cursor visible). */
void top_screen__close(struct top_screen *s);

void top_screen__draw(struct top_screen *s, const struct top_frame *f);
/* Reads every key waiting (never blocks) and applies it to ctl. */
int top_screen__input(struct top_screen *s, struct top_control *ctl);

/* The refresh intervals + and - step through, in ms. */
int top_screen__slower(int interval_ms);
int top_screen__faster(int interval_ms);

#endif
