/*
 * The toy VM's compiler: source text to bytecode in one pass.
 *
 * Grammar (statements end at a newline or ';'; blocks end with 'end'):
 *
 *   program  := { stmt }
 *   stmt     := 'def' NAME '(' [NAME {',' NAME}] ')' [':'] block 'end'
 *             | 'if' expr [':'] block {'elif' expr [':'] block}
 *                   ['else' [':'] block] 'end'
 *             | 'while' expr [':'] block 'end'
 *             | 'break' | 'continue' | 'return' [expr]
 *             | 'global' NAME {',' NAME}
 *             | NAME ('=' | '+=' | '-=') expr
 *             | expr
 *   expr     := and {'or' and}
 *   and      := not {'and' not}
 *   not      := 'not' not | cmp
 *   cmp      := sum [('=='|'!='|'<'|'<='|'>'|'>=') sum]
 *   sum      := term {('+'|'-') term}
 *   term     := unary {('*'|'/'|'%') unary}
 *   unary    := '-' unary | primary
 *   primary  := NUMBER | NAME | NAME '(' [args] ')' | '(' expr ')'
 */
#include "toyvm.h"

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tk {
	T_EOF, T_NL, T_NAME, T_NUM, T_STR,
	/* keywords */
	T_DEF, T_END, T_IF, T_ELIF, T_ELSE, T_WHILE, T_BREAK, T_CONTINUE,
	T_RETURN, T_GLOBAL, T_AND, T_OR, T_NOT,
	/* punctuation */
	T_LP, T_RP, T_COMMA, T_COLON, T_ASSIGN, T_PLUSEQ, T_MINUSEQ,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
};

static const char *const tk_text[] = {
	"end of file", "end of line", "name", "number", "string",
	"def", "end", "if", "elif", "else", "while", "break", "continue",
	"return", "global", "and", "or", "not",
	"(", ")", ",", ":", "=", "+=", "-=", "+", "-", "*", "/", "%",
	"==", "!=", "<", "<=", ">", ">=",
};

struct tok {
	enum tk kind;
	int line, col;
	char *text;	/* names and strings */
	int64_t num;
};

struct callsite {
	int func, nargs, line, col;
	bool spawn;
};

struct loop {
	int start;
	int *breaks;
	int nbreaks;
};

#define MAX_NESTING 200

static struct {
	const char *file;
	struct tok *toks;
	int ntoks, pos;
	struct program *p;
	int codecap;
	bool in_func;
	char **locals;
	int nlocals;
	char **gdecl;
	int ngdecl;
	struct loop loops[MAX_NESTING];
	int nloops;
	int depth;	/* nesting of blocks and expressions */
	struct callsite *calls;
	int ncalls;
	jmp_buf err;
} C;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "toyvm: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

static void __attribute__((noreturn, format(printf, 3, 4)))
error_at(int line, int col, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "toyvm: %s:%d:%d: ", C.file, line, col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(C.err, 1);
}

/* ---- lexer ---- */

static const struct { const char *word; enum tk kind; } keywords[] = {
	{ "def", T_DEF }, { "end", T_END }, { "if", T_IF }, { "elif", T_ELIF },
	{ "else", T_ELSE }, { "while", T_WHILE }, { "break", T_BREAK },
	{ "continue", T_CONTINUE }, { "return", T_RETURN },
	{ "global", T_GLOBAL }, { "and", T_AND }, { "or", T_OR },
	{ "not", T_NOT },
};

static void add_tok(enum tk kind, int line, int col, char *text, int64_t num)
{
	static int cap;

	if (C.ntoks == cap) {
		cap = cap ? cap * 2 : 256;
		C.toks = xrealloc(C.toks, cap * sizeof(*C.toks));
	}
	C.toks[C.ntoks++] = (struct tok){ kind, line, col, text, num };
}

static void lex(const char *src)
{
	const char *s = src, *bol = src;
	int line = 1, parens = 0;

	for (;;) {
		int col = (int)(s - bol) + 1;
		char c = *s;

		if (c == 0) {
			add_tok(T_NL, line, col, NULL, 0);
			add_tok(T_EOF, line, col, NULL, 0);
			return;
		}
		if (c == '\n') {
			if (!parens)
				add_tok(T_NL, line, col, NULL, 0);
			s++;
			line++;
			bol = s;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			s++;
			continue;
		}
		if (c == '#') {
			while (*s && *s != '\n')
				s++;
			continue;
		}
		if (c == ';') {
			add_tok(T_NL, line, col, NULL, 0);
			s++;
			continue;
		}
		if (isdigit((unsigned char)c)) {
			uint64_t v = 0;
			bool over = false;

			while (isdigit((unsigned char)*s) || *s == '_') {
				if (*s != '_') {
					unsigned d = (unsigned)(*s - '0');

					if (v > (UINT64_C(9223372036854775807) - d) / 10)
						over = true;
					else
						v = v * 10 + d;
				}
				s++;
			}
			if (isalpha((unsigned char)*s))
				error_at(line, (int)(s - bol) + 1,
					 "invalid character '%c' in number", *s);
			if (over)
				error_at(line, col, "integer literal too large");
			add_tok(T_NUM, line, col, NULL, (int64_t)v);
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_') {
			const char *b = s;
			size_t i, n;

			while (isalnum((unsigned char)*s) || *s == '_')
				s++;
			n = (size_t)(s - b);
			for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
				if (strlen(keywords[i].word) == n &&
				    !memcmp(keywords[i].word, b, n))
					break;
			if (i < sizeof(keywords) / sizeof(keywords[0]))
				add_tok(keywords[i].kind, line, col, NULL, 0);
			else
				add_tok(T_NAME, line, col, xstrndup(b, n), 0);
			continue;
		}
		if (c == '"') {
			char *buf = xrealloc(NULL, strlen(s) + 1);
			size_t n = 0;

			s++;
			for (;;) {
				if (*s == 0 || *s == '\n')
					error_at(line, col, "unterminated string");
				if (*s == '"')
					break;
				if (*s == '\\') {
					s++;
					switch (*s) {
					case 'n': buf[n++] = '\n'; break;
					case 't': buf[n++] = '\t'; break;
					case '\\': buf[n++] = '\\'; break;
					case '"': buf[n++] = '"'; break;
					default:
						error_at(line, (int)(s - bol),
							 "unknown escape sequence");
					}
					s++;
					continue;
				}
				buf[n++] = *s++;
			}
			s++;
			buf[n] = 0;
			add_tok(T_STR, line, col, buf, 0);
			continue;
		}
		{
			static const struct { const char *op; enum tk kind; } ops[] = {
				{ "+=", T_PLUSEQ }, { "-=", T_MINUSEQ },
				{ "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE },
				{ ">=", T_GE }, { "(", T_LP }, { ")", T_RP },
				{ ",", T_COMMA }, { ":", T_COLON }, { "=", T_ASSIGN },
				{ "+", T_PLUS }, { "-", T_MINUS }, { "*", T_STAR },
				{ "/", T_SLASH }, { "%", T_PERCENT }, { "<", T_LT },
				{ ">", T_GT },
			};
			size_t i;

			for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
				if (!strncmp(s, ops[i].op, strlen(ops[i].op)))
					break;
			if (i == sizeof(ops) / sizeof(ops[0])) {
				if (isprint((unsigned char)c))
					error_at(line, col,
						 "unexpected character '%c'", c);
				error_at(line, col,
					 "unexpected character 0x%02x",
					 (unsigned char)c);
			}
			if (ops[i].kind == T_LP)
				parens++;
			else if (ops[i].kind == T_RP && parens > 0)
				parens--;
			add_tok(ops[i].kind, line, col, NULL, 0);
			s += strlen(ops[i].op);
		}
	}
}

/* ---- token helpers ---- */

static struct tok *cur(void) { return &C.toks[C.pos]; }
static struct tok *peek2(void)
{
	return &C.toks[C.pos + 1 < C.ntoks ? C.pos + 1 : C.pos];
}
static bool is(enum tk k) { return cur()->kind == k; }

static const char *describe(struct tok *t, char *buf, size_t n)
{
	switch (t->kind) {
	case T_EOF:
	case T_NL:
		if (t->kind == T_NL && t + 1 < C.toks + C.ntoks &&
		    t[1].kind == T_EOF && t[1].line == t->line &&
		    t[1].col == t->col)
			return "end of file";
		return tk_text[t->kind];
	case T_NAME:
		snprintf(buf, n, "name '%s'", t->text);
		return buf;
	case T_NUM:
		snprintf(buf, n, "number %lld", (long long)t->num);
		return buf;
	case T_STR:
		return "string";
	default:
		snprintf(buf, n, "'%s'", tk_text[t->kind]);
		return buf;
	}
}

static void __attribute__((noreturn)) expected(const char *what)
{
	char buf[300];

	error_at(cur()->line, cur()->col, "expected %s, found %s", what,
		 describe(cur(), buf, sizeof(buf)));
}

static struct tok *expect(enum tk k)
{
	char what[32];

	if (!is(k)) {
		if (k == T_NAME || k == T_NL || k == T_EOF || k == T_NUM ||
		    k == T_STR)
			snprintf(what, sizeof(what), "%s", tk_text[k]);
		else
			snprintf(what, sizeof(what), "'%s'", tk_text[k]);
		expected(what);
	}
	return &C.toks[C.pos++];
}

static bool accept(enum tk k)
{
	if (!is(k))
		return false;
	C.pos++;
	return true;
}

/* ---- code emission ---- */

static int emit(enum op op, int64_t a, int32_t b, struct tok *at)
{
	struct program *p = C.p;

	if (p->ncode == C.codecap) {
		C.codecap = C.codecap ? C.codecap * 2 : 1024;
		p->code = xrealloc(p->code, C.codecap * sizeof(*p->code));
	}
	p->code[p->ncode] = (struct insn){ op, b, a, at->line, at->col };
	return p->ncode++;
}

static void patch(int at, int target) { C.p->code[at].a = target; }

static int find(char **names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static int add_name(char ***names, int *n, const char *name)
{
	*names = xrealloc(*names, (*n + 1) * sizeof(**names));
	(*names)[*n] = xstrndup(name, strlen(name));
	return (*n)++;
}

static int global_index(const char *name)
{
	int i = find(C.p->globals, C.p->nglobals, name);

	return i >= 0 ? i : add_name(&C.p->globals, &C.p->nglobals, name);
}

static int string_index(const char *s)
{
	int i = find(C.p->strings, C.p->nstrings, s);

	return i >= 0 ? i : add_name(&C.p->strings, &C.p->nstrings, s);
}

static const struct {
	const char *name;
	enum builtin id;
	int min, max;
} builtins[] = {
	{ "join", B_JOIN, 1, 1 }, { "sleep", B_SLEEP, 1, 1 },
	{ "usleep", B_USLEEP, 1, 1 }, { "clock", B_CLOCK, 0, 0 },
	{ "clock_us", B_CLOCK_US, 0, 0 }, { "argc", B_ARGC, 0, 0 },
	{ "arg", B_ARG, 1, 2 }, { "listen", B_LISTEN, 1, 1 },
	{ "accept", B_ACCEPT, 1, 1 }, { "connect", B_CONNECT, 1, 2 },
	{ "recv", B_RECV, 2, 2 }, { "send", B_SEND, 2, 2 },
	{ "close", B_CLOSE, 1, 1 }, { "tid", B_TID, 0, 0 },
	{ "setname", B_SETNAME, 1, 1 }, { "assert", B_ASSERT, 1, 1 },
};
#define NBUILTINS ((int)(sizeof(builtins) / sizeof(builtins[0])))

static int builtin_index(const char *name)
{
	int i;

	for (i = 0; i < NBUILTINS; i++)
		if (!strcmp(builtins[i].name, name))
			return i;
	if (!strcmp(name, "print") || !strcmp(name, "spawn"))
		return NBUILTINS;
	return -1;
}

static int func_index(struct tok *name)
{
	struct program *p = C.p;
	int i;

	for (i = 0; i < p->nfuncs; i++)
		if (!strcmp(p->funcs[i].name, name->text))
			return i;
	p->funcs = xrealloc(p->funcs, (p->nfuncs + 1) * sizeof(*p->funcs));
	p->funcs[p->nfuncs] = (struct func){
		.name = name->text, .line = name->line, .col = name->col,
	};
	return p->nfuncs++;
}

static void add_call(int func, int nargs, struct tok *at, bool spawn)
{
	C.calls = xrealloc(C.calls, (C.ncalls + 1) * sizeof(*C.calls));
	C.calls[C.ncalls++] = (struct callsite){ func, nargs, at->line,
						 at->col, spawn };
}

static void nest(struct tok *at)
{
	if (++C.depth > MAX_NESTING)
		error_at(at->line, at->col, "nesting too deep");
}

/* ---- expressions ---- */

static void expr(void);

static void string_arg(void)
{
	struct tok *t = cur();

	if (!is(T_STR))
		expected("string");
	C.pos++;
	emit(OP_CONST, string_index(t->text), 0, t);
}

static void call(struct tok *name)
{
	int nargs = 0, b = builtin_index(name->text);
	bool first_str = false;

	expect(T_LP);
	if (b < 0) {
		int f = func_index(name);

		if (!is(T_RP)) {
			do {
				expr();
				nargs++;
			} while (accept(T_COMMA));
		}
		expect(T_RP);
		add_call(f, nargs, name, false);
		emit(OP_CALL, f, nargs, name);
		return;
	}
	if (!strcmp(name->text, "print")) {
		if (!is(T_RP)) {
			do {
				if (nargs++)
					emit(OP_PRINTSP, 0, 0, name);
				if (is(T_STR)) {
					emit(OP_PRINTS,
					     string_index(cur()->text), 0, cur());
					C.pos++;
				} else {
					expr();
					emit(OP_PRINTI, 0, 0, name);
				}
			} while (accept(T_COMMA));
		}
		expect(T_RP);
		emit(OP_PRINTNL, 0, 0, name);
		return;
	}
	if (!strcmp(name->text, "spawn")) {
		struct tok *fn = cur();
		int f;

		if (!is(T_NAME))
			expected("function name");
		C.pos++;
		if (builtin_index(fn->text) >= 0)
			error_at(fn->line, fn->col,
				 "cannot spawn builtin '%s'", fn->text);
		f = func_index(fn);
		while (accept(T_COMMA)) {
			expr();
			nargs++;
		}
		expect(T_RP);
		add_call(f, nargs, fn, true);
		emit(OP_SPAWN, f, nargs, name);
		return;
	}
	if (!is(T_RP)) {
		do {
			if ((builtins[b].id == B_SETNAME && nargs == 0) ||
			    (builtins[b].id == B_CONNECT && nargs == 0 &&
			     is(T_STR))) {
				first_str = nargs == 0;
				string_arg();
			} else {
				expr();
			}
			nargs++;
		} while (accept(T_COMMA));
	}
	if (nargs < builtins[b].min || nargs > builtins[b].max) {
		if (builtins[b].min == builtins[b].max)
			error_at(name->line, name->col,
				 "'%s' takes %d argument%s, got %d", name->text,
				 builtins[b].min, builtins[b].min == 1 ? "" : "s",
				 nargs);
		error_at(name->line, name->col,
			 "'%s' takes %d to %d arguments, got %d", name->text,
			 builtins[b].min, builtins[b].max, nargs);
	}
	if (builtins[b].id == B_CONNECT && (nargs == 2) != first_str)
		error_at(name->line, name->col,
			 "'connect' takes a host string and a port");
	expect(T_RP);
	emit(OP_BUILTIN, builtins[b].id, nargs, name);
}

static void primary(void)
{
	struct tok *t = cur();

	switch (t->kind) {
	case T_NUM:
		C.pos++;
		emit(OP_CONST, t->num, 0, t);
		return;
	case T_NAME:
		C.pos++;
		if (is(T_LP)) {
			call(t);
			return;
		}
		if (C.in_func && find(C.locals, C.nlocals, t->text) >= 0 &&
		    find(C.gdecl, C.ngdecl, t->text) < 0)
			emit(OP_LOADL, find(C.locals, C.nlocals, t->text), 0, t);
		else
			emit(OP_LOADG, global_index(t->text), 0, t);
		return;
	case T_LP:
		C.pos++;
		nest(t);
		expr();
		C.depth--;
		expect(T_RP);
		return;
	case T_STR:
		error_at(t->line, t->col, "a string is only allowed as an "
			 "argument of print, setname or connect");
	default:
		expected("expression");
	}
}

static void unary(void)
{
	struct tok *t = cur();

	if (accept(T_MINUS)) {
		nest(t);
		unary();
		C.depth--;
		emit(OP_NEG, 0, 0, t);
		return;
	}
	primary();
}

static void term(void)
{
	unary();
	while (is(T_STAR) || is(T_SLASH) || is(T_PERCENT)) {
		struct tok *t = &C.toks[C.pos++];

		unary();
		emit(t->kind == T_STAR ? OP_MUL : t->kind == T_SLASH ? OP_DIV
		     : OP_MOD, 0, 0, t);
	}
}

static void sum(void)
{
	term();
	while (is(T_PLUS) || is(T_MINUS)) {
		struct tok *t = &C.toks[C.pos++];

		term();
		emit(t->kind == T_PLUS ? OP_ADD : OP_SUB, 0, 0, t);
	}
}

static void cmp(void)
{
	static const enum op ops[] = { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT,
				       OP_GE };
	struct tok *t;

	sum();
	t = cur();
	if (t->kind >= T_EQ && t->kind <= T_GE) {
		C.pos++;
		sum();
		emit(ops[t->kind - T_EQ], 0, 0, t);
		if (cur()->kind >= T_EQ && cur()->kind <= T_GE)
			error_at(cur()->line, cur()->col,
				 "chained comparisons are not supported");
	}
}

static void not_expr(void)
{
	struct tok *t = cur();

	if (accept(T_NOT)) {
		nest(t);
		not_expr();
		C.depth--;
		emit(OP_NOT, 0, 0, t);
		return;
	}
	cmp();
}

static void and_expr(void)
{
	not_expr();
	while (is(T_AND)) {
		struct tok *t = &C.toks[C.pos++];
		int j = emit(OP_JZK, 0, 0, t);

		emit(OP_POP, 0, 0, t);
		not_expr();
		patch(j, C.p->ncode);
	}
}

static void expr(void)
{
	struct tok *t0 = cur();

	nest(t0);
	and_expr();
	while (is(T_OR)) {
		struct tok *t = &C.toks[C.pos++];
		int j = emit(OP_JNZK, 0, 0, t);

		emit(OP_POP, 0, 0, t);
		and_expr();
		patch(j, C.p->ncode);
	}
	C.depth--;
}

/* ---- statements ---- */

static void block(void);

static void end_of_stmt(void)
{
	if (!is(T_NL))
		expected("end of line");
	while (accept(T_NL))
		;
}

static void header_end(void)
{
	accept(T_COLON);
	end_of_stmt();
}

static void assignment(void)
{
	struct tok *name = expect(T_NAME), *op = cur();
	enum tk kind = op->kind;
	bool global;
	int i, start;

	if (builtin_index(name->text) >= 0)
		error_at(name->line, name->col, "cannot assign to builtin '%s'",
			 name->text);
	C.pos++;
	start = C.p->ncode;
	expr();
	/* x -= constant: fold the negation */
	if (op->kind == T_MINUSEQ && C.p->ncode == start + 1 &&
	    C.p->code[start].op == OP_CONST) {
		C.p->code[start].a = (int64_t)(0 - (uint64_t)C.p->code[start].a);
		kind = T_PLUSEQ;
	}
	global = !C.in_func || find(C.gdecl, C.ngdecl, name->text) >= 0;
	if (global) {
		i = global_index(name->text);
		if (kind == T_ASSIGN) {
			emit(OP_STOREG, i, 0, op);
			return;
		}
		if (kind == T_MINUSEQ)
			emit(OP_NEG, 0, 0, op);
		emit(OP_ADDG, i, 0, op);
		return;
	}
	i = find(C.locals, C.nlocals, name->text);
	if (kind == T_ASSIGN) {
		if (i < 0)
			i = add_name(&C.locals, &C.nlocals, name->text);
		emit(OP_STOREL, i, 0, op);
		return;
	}
	if (i < 0)
		error_at(name->line, name->col, "'%s' is not a local variable "
			 "here (assign it first, or declare it global)",
			 name->text);
	if (kind == T_MINUSEQ)
		emit(OP_NEG, 0, 0, op);
	emit(OP_ADDL, i, 0, op);
}

static void def(void)
{
	struct tok *kw = expect(T_DEF), *name;
	struct func *f;
	int fi, skip;

	if (C.in_func || C.nloops || C.depth)
		error_at(kw->line, kw->col,
			 "'def' is only allowed at the top level");
	name = expect(T_NAME);
	if (builtin_index(name->text) >= 0)
		error_at(name->line, name->col, "cannot redefine builtin '%s'",
			 name->text);
	fi = func_index(name);
	if (C.p->funcs[fi].defined)
		error_at(name->line, name->col, "function '%s' already defined",
			 name->text);
	skip = emit(OP_JMP, 0, 0, kw);
	C.in_func = true;
	C.locals = NULL;
	C.nlocals = 0;
	C.gdecl = NULL;
	C.ngdecl = 0;
	expect(T_LP);
	if (!is(T_RP)) {
		do {
			struct tok *p = expect(T_NAME);

			if (find(C.locals, C.nlocals, p->text) >= 0)
				error_at(p->line, p->col,
					 "duplicate parameter '%s'", p->text);
			add_name(&C.locals, &C.nlocals, p->text);
		} while (accept(T_COMMA));
	}
	expect(T_RP);
	f = &C.p->funcs[fi];
	f->defined = 1;
	f->nparams = C.nlocals;
	f->entry = C.p->ncode;
	f->line = name->line;
	f->col = name->col;
	header_end();
	C.depth++;
	block();
	C.depth--;
	emit(OP_CONST, 0, 0, cur());
	emit(OP_RET, 0, 0, cur());
	expect(T_END);
	end_of_stmt();
	C.p->funcs[fi].nlocals = C.nlocals;
	C.in_func = false;
	patch(skip, C.p->ncode);
}

static void if_stmt(void)
{
	int ends[MAX_NESTING * 4], nends = 0, jz;

	C.pos++;	/* 'if' */
	expr();
	jz = emit(OP_JZ, 0, 0, cur());
	header_end();
	nest(cur());
	block();
	for (;;) {
		if (is(T_ELIF)) {
			if (nends == (int)(sizeof(ends) / sizeof(ends[0])))
				error_at(cur()->line, cur()->col,
					 "too many elif branches");
			ends[nends++] = emit(OP_JMP, 0, 0, cur());
			patch(jz, C.p->ncode);
			C.pos++;
			expr();
			jz = emit(OP_JZ, 0, 0, cur());
			header_end();
			block();
			continue;
		}
		if (accept(T_ELSE)) {
			int j = emit(OP_JMP, 0, 0, cur());

			patch(jz, C.p->ncode);
			jz = j;
			header_end();
			block();
		}
		break;
	}
	patch(jz, C.p->ncode);
	while (nends)
		patch(ends[--nends], C.p->ncode);
	C.depth--;
	expect(T_END);
	end_of_stmt();
}

static void while_stmt(void)
{
	struct tok *kw = &C.toks[C.pos++];
	struct loop *l;
	int jz;

	nest(kw);
	l = &C.loops[C.nloops++];
	l->start = C.p->ncode;
	l->breaks = NULL;
	l->nbreaks = 0;
	expr();
	jz = emit(OP_JZ, 0, 0, kw);
	header_end();
	block();
	emit(OP_JMP, l->start, 0, cur());
	patch(jz, C.p->ncode);
	while (l->nbreaks)
		patch(l->breaks[--l->nbreaks], C.p->ncode);
	free(l->breaks);
	C.nloops--;
	C.depth--;
	expect(T_END);
	end_of_stmt();
}

static void statement(void)
{
	struct tok *t = cur();

	switch (t->kind) {
	case T_DEF:
		def();
		return;
	case T_IF:
		if_stmt();
		return;
	case T_WHILE:
		while_stmt();
		return;
	case T_BREAK:
	case T_CONTINUE: {
		struct loop *l;

		C.pos++;
		if (!C.nloops)
			error_at(t->line, t->col, "'%s' outside a loop",
				 tk_text[t->kind]);
		l = &C.loops[C.nloops - 1];
		if (t->kind == T_CONTINUE) {
			emit(OP_JMP, l->start, 0, t);
		} else {
			l->breaks = xrealloc(l->breaks, (l->nbreaks + 1) *
					     sizeof(int));
			l->breaks[l->nbreaks++] = emit(OP_JMP, 0, 0, t);
		}
		end_of_stmt();
		return;
	}
	case T_RETURN:
		C.pos++;
		if (!C.in_func)
			error_at(t->line, t->col, "'return' outside a function");
		if (is(T_NL))
			emit(OP_CONST, 0, 0, t);
		else
			expr();
		emit(OP_RET, 0, 0, t);
		end_of_stmt();
		return;
	case T_GLOBAL:
		C.pos++;
		do {
			struct tok *n = expect(T_NAME);

			if (!C.in_func)
				continue;
			if (find(C.locals, C.nlocals, n->text) >= 0 &&
			    find(C.gdecl, C.ngdecl, n->text) < 0)
				error_at(n->line, n->col, "'%s' is already a "
					 "local variable", n->text);
			if (find(C.gdecl, C.ngdecl, n->text) < 0)
				add_name(&C.gdecl, &C.ngdecl, n->text);
		} while (accept(T_COMMA));
		end_of_stmt();
		return;
	case T_NAME:
		if (peek2()->kind == T_ASSIGN || peek2()->kind == T_PLUSEQ ||
		    peek2()->kind == T_MINUSEQ) {
			assignment();
			end_of_stmt();
			return;
		}
		/* fall through */
	default:
		expr();
		emit(OP_POP, 0, 0, t);
		end_of_stmt();
	}
}

static void block(void)
{
	while (!is(T_END) && !is(T_ELIF) && !is(T_ELSE)) {
		if (is(T_EOF))
			expected("'end'");
		statement();
	}
}

int toyvm_compile(const char *file, const char *src, struct program *p)
{
	int i;

	memset(&C, 0, sizeof(C));
	memset(p, 0, sizeof(*p));
	C.file = file;
	C.p = p;
	p->file = file;
	if (setjmp(C.err))
		return -1;
	lex(src);
	while (accept(T_NL))
		;
	while (!is(T_EOF)) {
		if (is(T_END) || is(T_ELIF) || is(T_ELSE)) {
			char buf[64];

			error_at(cur()->line, cur()->col, "unexpected %s",
				 describe(cur(), buf, sizeof(buf)));
		}
		statement();
	}
	emit(OP_HALT, 0, 0, cur());
	for (i = 0; i < C.ncalls; i++) {
		struct callsite *c = &C.calls[i];
		struct func *f = &p->funcs[c->func];

		if (!f->defined)
			error_at(c->line, c->col, "unknown function '%s'",
				 f->name);
		if (c->nargs != f->nparams)
			error_at(c->line, c->col, "'%s' takes %d argument%s, "
				 "got %d", f->name, f->nparams,
				 f->nparams == 1 ? "" : "s", c->nargs);
	}
	return 0;
}
