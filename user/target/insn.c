#include "target/insn.h"

#include <string.h>

/* Follows arch/x86/kernel/uprobes.c: branch_setup_xol_ops() emulates
 * jmp/call rel32 and rel8 jumps, push_setup_xol_ops() emulates push of a
 * register, and NOPs are emulated (insn_is_nop(), shared with
 * alternative.c since "x86/insn,uprobes,alternative: Unify insn_is_nop()");
 * 6.18 optimises a uprobe on a 5-byte NOP into a call. Debian sid's glibc
 * 2.43 starts pthread_cond_signal with a one-byte nop (0x90). */
enum probe_cost insn__probe_cost(const unsigned char *code, size_t len)
{
	static const unsigned char nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

	if (len >= sizeof(nop5) && !memcmp(code, nop5, sizeof(nop5)))
		return PROBE_COST_NOP5;
	if (len >= 1 && code[0] == 0x90)
		return PROBE_COST_EMULATED;
	if (len >= 1 && code[0] >= 0x50 && code[0] <= 0x57)
		return PROBE_COST_EMULATED;
	if (len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57)
		return PROBE_COST_EMULATED;
	if (len >= 1 && (code[0] == 0xe8 || code[0] == 0xe9 || code[0] == 0xeb))
		return PROBE_COST_EMULATED;
	return PROBE_COST_SINGLESTEP;
}
