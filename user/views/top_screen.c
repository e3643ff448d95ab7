/*
 * The top view in ncurses. Layout, top to bottom: two header lines, the
 * per-CPU strip, the diagnoses, the thread table, one line of keys. The
 * table gets what the others leave; a taller terminal shows more CPUs,
 * diagnoses and threads, a wider one longer names and sparklines.
 */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/safe_text.h"
#include "views/diagnosis_text.h"
#include "views/holder_text.h"
#include "views/locks_text.h"
#include "views/format.h"
#include "views/ft_gil_text.h"
#include "views/top_screen.h"

struct top_screen {
	SCREEN *scr;
	bool utf8;      /* the sparkline may use block glyphs */
	bool help;      /* the help page is up */
	size_t first;   /* first thread row shown (scrolling) */
	size_t nrows;   /* thread rows in the last frame */
	int table_h;    /* thread rows that fit on the last frame */
};

enum { PAIR_HOLD = 1, PAIR_WAIT, PAIR_ALERT, PAIR_DIAG };

/* Keys that pick a sort order (the help page lists them in this order). */
static const struct {
	int key;
	enum top_sort sort;
} sort_keys[] = {
	{ 'h', TOP_SORT_HOLD }, { 'w', TOP_SORT_WAIT }, { 'a', TOP_SORT_ACQ },
	{ 'm', TOP_SORT_MEAN }, { 'x', TOP_SORT_MAX }, { 'r', TOP_SORT_RETRIES },
	{ 'f', TOP_SORT_FORCED }, { 't', TOP_SORT_TID }, { 'n', TOP_SORT_NAME },
};

static const int intervals_ms[] = { 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000 };
#define NINTERVALS (int)(sizeof(intervals_ms) / sizeof(intervals_ms[0]))

int top_screen__slower(int ms)
{
	for (int i = 0; i < NINTERVALS; i++)
		if (intervals_ms[i] > ms)
			return intervals_ms[i];
	return ms;
}

int top_screen__faster(int ms)
{
	for (int i = NINTERVALS - 1; i >= 0; i--)
		if (intervals_ms[i] < ms)
			return intervals_ms[i];
	return ms;
}

/* printf at (y, x), clipped to the line: never wraps onto the next one. */
static int put(int y, int x, attr_t attr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int room = COLS - x;

	if (y < 0 || y >= LINES || room <= 0)
		return x;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attron(attr);
	mvaddnstr(y, x, buf, room);
	attroff(attr);
	return x + (int)strlen(buf);
}

static attr_t color(int pair)
{
	return has_colors() ? COLOR_PAIR(pair) : A_NORMAL;
}

static void elapsed_text(char *buf, size_t len, __u64 ns)
{
	unsigned long long s = ns / 1000000000ull;

	if (s >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%llu:%02llu", s / 60, s % 60);
}

static int draw_header(const struct top_frame *f, const struct engine_totals *tot)
{
	const struct trace_meta *m = f->meta;
	const struct handoff_figures *h = &tot->handoffs;
	char el[FORMAT_LEN], sw[FORMAT_LEN], re[FORMAT_LEN], fo[FORMAT_LEN], ft[FT_GIL_TEXT];
	int x, y;

	elapsed_text(el, sizeof(el), f->elapsed_ns);
	x = put(0, 0, f->paused ? A_REVERSE | A_BOLD : A_BOLD, "%s",
		f->paused ? "PAUSED      " : "giltrace top");
	x = put(0, x, A_NORMAL, "  pid %u (%s)  %s %s  mode %s", m->pid, m->comm[0] ? m->comm : "?",
		m->runtime[0] ? m->runtime : "?", m->version, m->mode[0] ? m->mode : "?");
	put(0, x, A_NORMAL, "  elapsed %s  every %.1fs", el, f->interval_ms / 1000.0);

	put(1, 0, A_NORMAL, "GIL util %5.1f%%  contention %5.1f%%  switches %s/s  retries %s/s  "
	    "forced %s/s", tot->iv.utilisation_pct, tot->iv.contention_pct,
	    format__count(sw, sizeof(sw), tot->iv.switches_per_s),
	    format__count(re, sizeof(re), tot->iv.retries_per_s),
	    format__count(fo, sizeof(fo), tot->iv.forced_per_s));
	y = 2;
	if (tot->drops)
		put(y++, 0, color(PAIR_ALERT) | A_BOLD, "DROPS %llu events lost in the ring buffer: "
		    "counts are lower bounds", (unsigned long long)tot->drops);
	/* The self-check against the interpreter's own count (up to its
	 * latest reading, 100 ms ago at most). */
	if (h->missed)
		put(y++, 0, color(PAIR_ALERT) | A_BOLD, "CHECK %llu of %llu GIL hand-offs not seen "
		    "(the interpreter's own count): counts are lower bounds",
		    (unsigned long long)h->missed, (unsigned long long)h->interpreter);
	else if (h->extra)
		put(y++, 0, color(PAIR_ALERT) | A_BOLD, "CHECK %llu GIL hand-offs seen, %llu more "
		    "than the interpreter's own count", (unsigned long long)h->seen,
		    (unsigned long long)h->extra);
	/* Free-threaded CPython: whether its GIL is there at all. */
	if (ft_gil_text__first(ft, sizeof(ft), f->eng))
		put(y++, 0, A_BOLD, "%s", ft);
	return y;
}

/* Cores with wake-ups in the interval, as many as max_lines hold. */
static int draw_cpus(int y, int max_lines, const struct engine *eng)
{
	const struct engine_cpu **cpus;
	size_t n, i, shown = 0, busy = 0;
	int x, line = 0;

	if (engine__cpu_list(eng, &cpus, &n))
		return 0;
	x = put(y, 0, A_BOLD, "CPU wake/fail/cross");
	for (i = 0; i < n; i++) {
		const struct cpu_interval *iv = &cpus[i]->iv;
		char cell[64];
		int w;

		if (!iv->wakeups && !iv->failed_wakeups && !iv->cross_cpu_wakeups)
			continue;
		busy++;
		w = snprintf(cell, sizeof(cell), "  %u:%llu/%llu/%llu", cpus[i]->cpu,
			     (unsigned long long)iv->wakeups, (unsigned long long)iv->failed_wakeups,
			     (unsigned long long)iv->cross_cpu_wakeups);
		if (x + w > COLS - 8) {
			if (line + 1 >= max_lines)
				continue;
			line++;
			x = 19;
		}
		x = put(y + line, x, A_NORMAL, "%s", cell);
		shown++;
	}
	if (!busy)
		put(y, x, A_DIM, "  no wake-ups in this interval");
	else if (shown < busy)
		put(y + line, x, A_DIM, "  +%zu", busy - shown);
	free(cpus);
	return line + 1;
}

/* text from (y, x) on, broken at spaces over at most max_lines lines;
 * returns the lines used. */
static int put_wrapped(int y, int x, attr_t attr, const char *text, int max_lines)
{
	int used = 0;

	while (*text && used < max_lines) {
		int room = COLS - x, len = (int)strlen(text);

		if (room <= 0)
			break;
		if (len > room && used + 1 < max_lines) {
			int cut = room;

			while (cut > room / 2 && text[cut] != ' ')
				cut--;
			if (text[cut] != ' ')
				cut = room;
			len = cut;
		}
		put(y + used++, x, attr, "%.*s", len, text);
		text += len;
		while (*text == ' ')
			text++;
		x = x < 4 ? 4 : x; /* continuation lines indent like the hint */
	}
	return used;
}

/* The most severe first, each as its message and hint, as many as fit;
 * a count of those left out goes at the end of the last message shown. */
static int draw_diagnoses(int y, int max_lines, const struct top_frame *f)
{
	struct diagnosis d[DIAG_MAX];
	size_t n = top_diagnoses(f, d, DIAG_MAX), i;
	char text[DIAG_TEXT + 32], msg[DIAG_TEXT], hint[DIAG_TEXT];
	int used = 0;

	for (i = 0; i < n && max_lines - used >= 2; i++) {
		int rest = max_lines - used, msg_lines;
		/* Leave the next one its two lines if there are enough. */
		int room = i + 1 < n && rest >= 4 ? rest - 2 : rest;

		diagnosis_text__message(msg, sizeof(msg), &d[i], f->eng);
		diagnosis_text__hint(hint, sizeof(hint), &d[i], f->eng);
		snprintf(text, sizeof(text), "%s", msg);
		if (i + 1 < n && rest - room < 2 && (int)strlen(msg) + 12 <= COLS)
			snprintf(text, sizeof(text), "%s  [+%zu more]", msg, n - i - 1);
		msg_lines = (int)strlen(text) > COLS && room > 2 ? 2 : 1;
		used += put_wrapped(y + used, 0, color(PAIR_DIAG) | A_BOLD, text, msg_lines);
		snprintf(text, sizeof(text), "hint: %s", hint);
		used += put_wrapped(y + used, 2, A_NORMAL, text, room - msg_lines);
	}
	return used;
}

/* The forced holder of the first process that has one, since the start
 * (sampled at most once per 5 ms: too few for one interval). */
struct holder_pick {
	char line[HOLDER_TEXT];
	bool found;
};

static void pick_holder(void *ctx, __u32 tgid, const char *line, bool several)
{
	struct holder_pick *p = ctx;

	(void)tgid;
	(void)several;
	if (!p->found)
		snprintf(p->line, sizeof(p->line), "forced holder: %s", line);
	p->found = true;
}

static int draw_holder(int y, const struct top_frame *f)
{
	struct holder_pick p = { .found = false };

	if (holder_text__each(f->eng, pick_holder, &p) || !p.found)
		return 0;
	return put_wrapped(y, 0, A_NORMAL, p.line, 1);
}

/* Column widths: the name and the sparkline take what a wider screen adds. */
struct layout {
	int name_w;
	int spark_w;
	int now_w; /* HOLDING NOW, with --blame */
};

/* What the holding-now column keeps of a wide screen before the sparkline. */
#define NOW_MIN_W 24

#define FIXED_W 60 /* every column but the name and the sparkline */

static struct layout layout_for(int cols, bool blame)
{
	struct layout l = { .name_w = 10, .spark_w = 0 };
	int spare = cols - FIXED_W - l.name_w - 1;

	if (blame && spare > 0) {
		l.now_w = spare < NOW_MIN_W ? spare : NOW_MIN_W;
		spare -= l.now_w + 1;
	}

	if (spare > 0) {
		int more_name = spare > 13 ? 5 : 0; /* up to 15: a full Linux comm */

		l.name_w += more_name;
		spare -= more_name;
		/* With blame the holder's function matters more than history. */
		int spark_max = l.now_w ? ENGINE_HISTORY / 3 : ENGINE_HISTORY;

		l.spark_w = spare < spark_max ? spare : spark_max;
		spare -= l.spark_w;
		if (spare > 0) /* names longer than 20 are rare: leave the rest blank */
			l.name_w += spare < 5 ? spare : 5;
	}
	if (l.now_w && spare > 5)
		l.now_w += spare - 5;
	return l;
}

static void draw_table_header(int y, const struct layout *l, enum top_sort sort)
{
	static const struct {
		const char *fmt;
		enum top_sort sort;
	} cols[] = {
		{ "%7s", TOP_SORT_TID }, { " %-*s", TOP_SORT_NAME }, { " %-4s", TOP_SORT__COUNT },
		{ " %5s", TOP_SORT_HOLD }, { " %5s", TOP_SORT_WAIT }, { " %6s", TOP_SORT_ACQ },
		{ " %7s", TOP_SORT_MEAN }, { " %7s", TOP_SORT_MAX }, { " %5s", TOP_SORT_RETRIES },
		{ " %5s", TOP_SORT_FORCED },
	};
	static const char *const titles[] = { "TID", "NAME", "STAT", "HOLD%", "WAIT%", "ACQ/s",
					      "MEANW", "MAXW", "RETRY", "FORCE" };
	int x = 0;

	move(y, 0);
	attron(A_REVERSE);
	hline(' ', COLS);
	attroff(A_REVERSE);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		attr_t a = A_REVERSE | (cols[i].sort == sort ? A_BOLD | A_UNDERLINE : 0);

		if (i == 1)
			x = put(y, x, a, cols[i].fmt, l->name_w, titles[i]);
		else
			x = put(y, x, a, cols[i].fmt, titles[i]);
	}
	if (l->spark_w)
		x = put(y, x, A_REVERSE, " %-*s", l->spark_w, "HOLD HISTORY");
	if (l->now_w)
		put(y, x, A_REVERSE, " %-*s", l->now_w, "HOLDING NOW");
}

/* One glyph per interval of the thread's hold share, newest on the right. */
static void draw_spark(int y, int x, int w, const struct engine_thread *t, bool utf8)
{
	static const char *const blocks[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#@";
	unsigned int n = t->history_len < (unsigned int)w ? t->history_len : (unsigned int)w;
	unsigned int first = t->history_len - n;

	move(y, x + w - (int)n);
	for (unsigned int i = 0; i < n; i++) {
		float s = engine_thread__history(t, first + i);
		int lvl = (int)(s * 8.0f + 0.5f);

		if (lvl < 0)
			lvl = 0;
		if (lvl > 8)
			lvl = 8;
		if (s > 0 && lvl == 0)
			lvl = 1; /* held at all: show it */
		if (utf8)
			addstr(blocks[lvl]);
		else
			addch((chtype)(unsigned char)ascii[lvl]);
	}
}

static void draw_row(int y, const struct layout *l, const struct top_frame *f,
		     const struct engine_thread *t, bool utf8)
{
	char now[256], name[128];
	const struct thread_interval *iv = &t->iv;
	char acq[FORMAT_LEN], mean[FORMAT_LEN], max[FORMAT_LEN], re[FORMAT_LEN], fo[FORMAT_LEN];
	attr_t st = iv->state == THREAD_HOLDING ? color(PAIR_HOLD) | A_BOLD :
		    iv->state == THREAD_WAITING ? color(PAIR_WAIT) | A_BOLD : A_NORMAL;
	int x;

	x = put(y, 0, A_NORMAL, "%7u %s", t->tid,
		safe_text__cell(name, sizeof(name), t->name[0] ? t->name : "-", l->name_w));
	x = put(y, x, st, " %-4s", top_state__short(iv->state));
	x = put(y, x, A_NORMAL, " %5.1f %5.1f %6s %7s %7s %5s %5s", iv->hold_share * 100.0,
		iv->wait_share * 100.0, format__count(acq, sizeof(acq), t->iv.acquisitions_per_s),
		format__duration(mean, sizeof(mean), iv->wait_mean_ns),
		format__duration(max, sizeof(max), (double)iv->wait_max_ns),
		format__count(re, sizeof(re), (double)iv->retries),
		format__count(fo, sizeof(fo), (double)iv->forced_switches));
	if (l->spark_w && x + 1 + l->spark_w <= COLS)
		draw_spark(y, x + 1, l->spark_w, t, utf8);
	x += l->spark_w ? 1 + l->spark_w : 0;
	if (l->now_w && top_rows__holding_now(f, t, now, sizeof(now)))
		put(y, x, color(PAIR_HOLD), " %-*.*s", l->now_w, l->now_w, now);
}

static void draw_keys(int y, const struct top_frame *f)
{
	move(y, 0);
	clrtoeol();
	if (f->ended) {
		put(y, 0, A_REVERSE | A_BOLD, " %s: press any key to quit ",
		    f->end_reason ? f->end_reason : "the run is over");
		return;
	}
	put(y, 0, A_NORMAL, "q quit  p %s  +/- every %.1fs  s sort: %s (h w a m x r f t n)  ? help",
	    f->paused ? "resume" : "pause", f->interval_ms / 1000.0, top_sort__name(f->sort));
}

static void draw_help(const struct top_frame *f)
{
	static const char *const columns[] = {
		"TID    thread id;  NAME  its name (comm)",
		"STAT   now: HOLD holds the GIL, WAIT waits, RUN runs without it, ? not seen",
		"HOLD%  WAIT%  share of the last interval holding / waiting",
		"ACQ/s  acquisitions per second;  MEANW MAXW  mean and longest wait that ended",
		"RETRY  woken but the GIL was taken again;  FORCE  made to drop the GIL",
		"HOLD HISTORY  hold share of the last intervals, newest on the right",
		"CPU wake/fail/cross  per core: wake-ups of GIL waiters, failed ones (retries),",
		"                     and those whose waker ran on another core",
	};
	int y = 0;

	put(y++, 0, A_BOLD, "giltrace top: keys");
	put(y++, 2, A_NORMAL, "q, Ctrl-C   quit and print the summary");
	put(y++, 2, A_NORMAL, "p, space    pause the display (tracing goes on)");
	put(y++, 2, A_NORMAL, "+ / -       refresh less / more often (now every %.1fs)",
	    f->interval_ms / 1000.0);
	put(y++, 2, A_NORMAL, "s           next sort order (now: %s)", top_sort__name(f->sort));
	put(y++, 2, A_NORMAL, "%s", "h w a m x   sort by hold %, wait %, acquisitions/s, mean wait, "
	    "max wait,");
	put(y++, 2, A_NORMAL, "r f t n     retries, forced releases (descending), thread id, name");
	put(y++, 2, A_NORMAL, "Up Down PgUp PgDn Home   scroll the threads;  Ctrl-L  redraw");
	y++;
	put(y++, 0, A_BOLD, "Columns");
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		put(y++, 2, A_NORMAL, "%s", columns[i]);
	put(LINES - 1, 0, A_REVERSE, " any key: back ");
}

/* The hottest locks since the start, then each process's pauses. */
static void draw_locks(int y, const struct engine *eng)
{
	const struct lock_table *lt = engine__locks(eng);
	const struct engine_lock **locks;
	const struct engine_stw *stw[4];
	size_t n, i, np = lock_table__stw(lt, stw, 4);
	char line[256];

	if (lock_table__list(lt, &locks, &n))
		return;
	put(y++, 0, A_BOLD | A_REVERSE, "%-*s", COLS, LOCKS_TEXT_TOP_HEADER " (since start)");
	for (i = 0; i < n && y < LINES - 1 - (int)np; i++) {
		locks_text__top_row(line, sizeof(line), locks[i]);
		put(y++, 0, A_NORMAL, "%s", line);
	}
	if (!n)
		put(y++, 0, A_DIM, "no contended lock yet");
	for (i = 0; i < np && i < 4 && y < LINES - 1; i++) {
		locks_text__stw_line(line, sizeof(line), stw[i]);
		put(y++, 0, A_NORMAL, "%s", line);
	}
	free(locks);
}

void top_screen__draw(struct top_screen *s, const struct top_frame *f)
{
	const struct engine_thread **rows;
	struct engine_totals tot;
	struct layout l = layout_for(COLS, f->stacks != NULL);
	int y, cpu_lines, diag_lines, avail;
	size_t n, i;

	erase();
	if (s->help) {
		draw_help(f);
		refresh();
		return;
	}
	engine__totals(f->eng, &tot);
	y = draw_header(f, &tot);
	/* A taller screen gives CPUs and diagnoses more lines, never more
	 * than the thread table keeps for itself. */
	cpu_lines = LINES >= 40 ? 4 : LINES >= 30 ? 2 : 1;
	diag_lines = LINES >= 40 ? 9 : LINES >= 20 ? 3 : 0;
	y += draw_cpus(y, cpu_lines, f->eng);
	y += draw_diagnoses(y, diag_lines, f);
	if (diag_lines)
		y += draw_holder(y, f);
	/* Free-threaded, no GIL taken: the hottest locks take the table's place. */
	if (!tot.c.acquisitions && lock_table__seen(engine__locks(f->eng))) {
		s->nrows = 0;
		draw_locks(y, f->eng);
		draw_keys(LINES - 1, f);
		refresh();
		return;
	}
	draw_table_header(y++, &l, f->sort);
	n = top_rows__collect(f, &rows);
	avail = LINES - 1 - y;
	s->nrows = n;
	s->table_h = avail > 0 ? avail : 0;
	if (s->first + (size_t)s->table_h > n)
		s->first = n > (size_t)s->table_h ? n - (size_t)s->table_h : 0;
	for (i = s->first; i < n && y < LINES - 1; i++, y++) {
		if (y == LINES - 2 && i + 1 < n) {
			put(y, 0, A_DIM, "  ... %zu more threads (Down, PgDn)", n - i);
			break;
		}
		draw_row(y, &l, f, rows[i], s->utf8);
	}
	free(rows);
	draw_keys(LINES - 1, f);
	refresh();
}

static int apply_key(struct top_screen *s, int ch, struct top_control *ctl)
{
	int page = s->table_h > 1 ? s->table_h - 1 : 1;
	int next;

	if (s->help && ch != KEY_RESIZE) {
		s->help = false;
		return TOP_INPUT_REDRAW;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		ctl->quit = true;
		return TOP_INPUT_QUIT;
	case 'p':
	case 'P':
	case ' ':
		ctl->paused = !ctl->paused;
		return TOP_INPUT_PAUSE;
	case '+':
	case '=':
		next = top_screen__slower(ctl->interval_ms);
		break;
	case '-':
	case '_':
		next = top_screen__faster(ctl->interval_ms);
		break;
	case 's':
		ctl->sort = (ctl->sort + 1) % TOP_SORT__COUNT;
		return TOP_INPUT_REDRAW;
	case '?':
		s->help = true;
		return TOP_INPUT_REDRAW;
	case KEY_UP:
		s->first -= s->first ? 1 : 0;
		return TOP_INPUT_REDRAW;
	case KEY_DOWN:
		s->first++;
		return TOP_INPUT_REDRAW;
	case KEY_PPAGE:
		s->first = s->first > (size_t)page ? s->first - (size_t)page : 0;
		return TOP_INPUT_REDRAW;
	case KEY_NPAGE:
		s->first += (size_t)page;
		return TOP_INPUT_REDRAW;
	case KEY_HOME:
		s->first = 0;
		return TOP_INPUT_REDRAW;
	case KEY_RESIZE:
	case 12: /* Ctrl-L */
		clearok(curscr, TRUE);
		return TOP_INPUT_REDRAW;
	default:
		for (size_t i = 0; i < sizeof(sort_keys) / sizeof(sort_keys[0]); i++)
			if (ch == sort_keys[i].key) {
				ctl->sort = sort_keys[i].sort;
				return TOP_INPUT_REDRAW;
			}
		return 0;
	}
	if (next == ctl->interval_ms)
		return 0;
	ctl->interval_ms = next;
	return TOP_INPUT_INTERVAL;
}

int top_screen__input(struct top_screen *s, struct top_control *ctl)
{
	int ch, changed = 0;

	while ((ch = getch()) != ERR) {
		changed |= apply_key(s, ch, ctl) | (ch != KEY_RESIZE ? TOP_INPUT_KEY : 0);
		if (ctl->quit)
			break;
	}
	return changed;
}

struct top_screen *top_screen__open(FILE *out, FILE *in, char *err, size_t errlen)
{
	struct top_screen *s = calloc(1, sizeof(*s));
	const char *cs;

	/* ncursesw draws UTF-8 only under a UTF-8 LC_CTYPE; numbers keep
	 * LC_NUMERIC's "C" decimal point, here and in the summary. */
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->scr = newterm(NULL, out, in);
	if (!s->scr) {
		snprintf(err, errlen, "cannot start the screen: no terminal description for "
			 "TERM=%s", getenv("TERM") ? getenv("TERM") : "(unset)");
		free(s);
		return NULL;
	}
	s->utf8 = cs && !strcmp(cs, "UTF-8");
	cbreak(); /* not raw(): Ctrl-C stays a signal, handled like everywhere else */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_HOLD, COLOR_GREEN, -1);
		init_pair(PAIR_WAIT, COLOR_RED, -1);
		init_pair(PAIR_ALERT, COLOR_RED, -1);
		init_pair(PAIR_DIAG, COLOR_YELLOW, -1);
	}
	return s;
}

void top_screen__close(struct top_screen *s)
{
	if (!s)
		return;
	curs_set(1);
	endwin();
	delscreen(s->scr);
	free(s);
}
