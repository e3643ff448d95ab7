/*
 * Probe points for probecost, one per first-instruction class the kernel
 * handles differently: a NOP5 (optimised into a call, like the toy VM's
 * hooks), a push (emulated, like CPython's take_gil/drop_gil) and an
 * instruction the kernel executes out of line (single-stepped).
 */
	.text
	.globl bench_nop5
	.type bench_nop5, @function
	.p2align 4
bench_nop5:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	ret
	.size bench_nop5, . - bench_nop5

	.globl bench_push
	.type bench_push, @function
	.p2align 4
bench_push:
	push %rbx
	pop %rbx
	ret
	.size bench_push, . - bench_push

	.globl bench_sstep
	.type bench_sstep, @function
	.p2align 4
bench_sstep:
	lea 8(%rsp), %rax
	ret
	.size bench_sstep, . - bench_sstep

	.section .note.GNU-stack,"",@progbits
