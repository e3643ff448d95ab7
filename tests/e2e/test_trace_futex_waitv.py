"""futex_waitv (Linux 5.16+) on the GIL's words counts like a futex wait:
a small C target with the toy VM's hook names waits three times with a
time-out on a word of its GIL, and giltrace must see three timed-out waits."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR

GILTRACE = BUILD_DIR / "giltrace"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")

# The hooks are what giltrace recognises the toy VM by: NOP5 then ret.
SOURCE = r"""
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOOK(name) __asm__(".globl " #name "\n.type " #name ", @function\n" #name ":\n" \
			   ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\nret\n.size " #name ", .-" #name)
HOOK(toyvm_gil_wait); HOOK(toyvm_gil_retry); HOOK(toyvm_gil_timeout);
HOOK(toyvm_gil_drop_request); HOOK(toyvm_gil_acquired); HOOK(toyvm_gil_release);
HOOK(toyvm_gil_forced_release);
void toyvm_gil_acquired(void *gil, long tid);
void toyvm_gil_release(void *gil, long tid);

struct gil { uint32_t words[16]; } __attribute__((aligned(4096)));
struct gil toyvm_gil;

int main(void)
{
	struct futex_waitv w = { .val = 0, .uaddr = (uintptr_t)&toyvm_gil.words[3],
				 .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG };
	long tid = syscall(SYS_gettid);

	/* The first hook tells giltrace where the GIL is. */
	toyvm_gil_acquired(&toyvm_gil, tid);
	toyvm_gil_release(&toyvm_gil, tid);
	for (int i = 0; i < 3; i++) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 20 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		syscall(SYS_futex_waitv, &w, 1, 0, &t, CLOCK_MONOTONIC);
	}
	return 0;
}
"""


def test_futex_waitv_on_the_gil_is_seen(tmp_path):
    cc = shutil.which("cc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler")
    src, exe = tmp_path / "waitv.c", tmp_path / "waitv"
    src.write_text(SOURCE)
    subprocess.run([cc, "-O2", "-o", str(exe), str(src)], check=True)
    p = subprocess.run([str(GILTRACE), "--json", "--", str(exe)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["totals"]["futex"]["timed_out"] == 3
    assert s["totals"]["acquisitions"] == 1
