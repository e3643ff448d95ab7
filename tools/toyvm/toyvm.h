/* The toy VM: shared definitions of the compiler and the interpreter. */
#ifndef TOYVM_H
#define TOYVM_H

#include <stdint.h>

#define TOYVM_VERSION "1.0"

enum op {
	OP_CONST,	/* push a */
	OP_LOADL,	/* push local a */
	OP_STOREL,	/* local a = pop */
	OP_LOADG,	/* push global a */
	OP_STOREG,	/* global a = pop */
	OP_ADDL,	/* local a += pop (one instruction: atomic under the GIL) */
	OP_ADDG,	/* global a += pop (likewise) */
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
	OP_NEG, OP_NOT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_JMP,		/* pc = a */
	OP_JZ,		/* if !pop: pc = a */
	OP_JZK,		/* if !top: pc = a (keep top) */
	OP_JNZK,	/* if top: pc = a (keep top) */
	OP_POP,
	OP_CALL,	/* call function a (its nparams arguments are on the stack) */
	OP_RET,		/* return pop */
	OP_BUILTIN,	/* builtin a with b arguments */
	OP_SPAWN,	/* spawn function a with b arguments */
	OP_PRINTS,	/* print string a */
	OP_PRINTI,	/* print pop */
	OP_PRINTSP,	/* print a space */
	OP_PRINTNL,	/* print a newline, push 0 */
	OP_HALT,
};

struct insn {
	int32_t op;
	int32_t b;
	int64_t a;
	int32_t line, col;
};

enum builtin {
	B_JOIN, B_SLEEP, B_USLEEP, B_CLOCK, B_CLOCK_US, B_ARGC, B_ARG,
	B_LISTEN, B_ACCEPT, B_CONNECT, B_RECV, B_SEND, B_CLOSE, B_TID,
	B_SETNAME, B_ASSERT,
};

struct func {
	char *name;
	int nparams;
	int nlocals;
	int entry;
	int defined;
	int line, col;	/* definition, or first use if never defined */
};

struct program {
	const char *file;
	struct insn *code;
	int ncode;
	struct func *funcs;
	int nfuncs;
	char **globals;	/* names */
	int nglobals;
	char **strings;
	int nstrings;
};

/* Compiles src (NUL-terminated); on error prints "toyvm: FILE:L:C: ..." to
 * stderr and returns -1. */
int toyvm_compile(const char *file, const char *src, struct program *p);

#endif
