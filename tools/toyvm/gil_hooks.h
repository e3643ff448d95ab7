/*
 * The toy VM's GIL probe points: the only names giltrace knows about the VM.
 *
 * Each hook is an exported, never-inlined function that does nothing; its
 * first instruction is a 5-byte NOP (0f 1f 44 00 00) followed by a return,
 * so that a uprobe on it is optimised by the kernel into a call (about
 * 0.4 us a hit) instead of being emulated or single-stepped. The stubs are
 * written in assembler (gil_hooks.S) because gcc's -mnop-mcount refuses the
 * position-independent code Debian builds by default.
 *
 * Arguments: the GIL object (its address lies at the start of the GIL's
 * futex words: giltrace watches futex calls in [gil, gil + sizeof(toyvm_gil))
 * and the calling thread's kernel tid.
 *
 * Every hook is called while the caller holds the GIL's internal mutex, at
 * the exact point where the VM increments the matching --gil-stats counter
 * and reads CLOCK_MONOTONIC, so that a tracer's counts and the VM's own agree
 * exactly, and a snapshot taken under that mutex splits events cleanly.
 */
#ifndef TOYVM_GIL_HOOKS_H
#define TOYVM_GIL_HOOKS_H

/* BUSY: the GIL was held; the thread starts waiting (counter: busy). */
void toyvm_gil_wait(void *gil, long tid);
/* Woken from the wait but the GIL was taken again (counter: retries). */
void toyvm_gil_retry(void *gil, long tid);
/* A timed wait for the GIL expired (counter: timeouts). */
void toyvm_gil_timeout(void *gil, long tid);
/* The thread asked the holder to drop the GIL (counter: drop_requests). */
void toyvm_gil_drop_request(void *gil, long tid);
/* The thread holds the GIL now (counter: acquisitions; starts hold time). */
void toyvm_gil_acquired(void *gil, long tid);
/* Voluntary release: I/O, sleep, join, thread exit, old-GIL check. */
void toyvm_gil_release(void *gil, long tid);
/* Release forced by a drop request, preemption or quantum end
 * (counter: forced_switches). */
void toyvm_gil_forced_release(void *gil, long tid);

#endif
