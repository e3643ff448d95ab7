/*
 * The GIL probe points declared in gil_hooks.h. Each is an exported function
 * whose first instruction is the 5-byte NOP 0f 1f 44 00 00, followed by ret,
 * so a uprobe on it can be optimised into a call. No endbr64 comes first.
 */
	.text

	.macro TOYVM_HOOK name
	.globl \name
	.type \name, @function
	.p2align 4
\name:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	ret
	.size \name, . - \name
	.endm

	TOYVM_HOOK toyvm_gil_wait
	TOYVM_HOOK toyvm_gil_retry
	TOYVM_HOOK toyvm_gil_timeout
	TOYVM_HOOK toyvm_gil_drop_request
	TOYVM_HOOK toyvm_gil_acquired
	TOYVM_HOOK toyvm_gil_release
	TOYVM_HOOK toyvm_gil_forced_release

	.section .note.GNU-stack,"",@progbits
