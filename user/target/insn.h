/*
 * What a uprobe on an x86-64 instruction costs on this kernel: a 5-byte NOP
 * is optimised into a call (~0.4 us a hit), a few instructions are emulated
 * (~0.5 us), everything else is single-stepped out of line (~10 us), which
 * would distort the very timings giltrace reports.
 */
#ifndef GILTRACE_INSN_H
#define GILTRACE_INSN_H

#include <stddef.h>

enum probe_cost {
	PROBE_COST_NOP5,      /* optimised into a call */
	PROBE_COST_EMULATED,  /* push, jmp, call: emulated in the kernel */
	PROBE_COST_SINGLESTEP /* must be single-stepped: refused */
};

enum probe_cost insn__probe_cost(const unsigned char *code, size_t len);

#endif
