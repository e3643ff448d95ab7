"""A target that names what giltrace prints with control characters: a
thread that names itself with an escape sequence and a newline
(prctl(PR_SET_NAME)), and a function whose name and file are the same kind
of text. The hostile thread spins in that function for SECONDS while the
main thread sleeps briefly in a loop, so it waits for the GIL and blame
reads the spinner's stack."""
import ctypes
import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
THREAD_NAME = b'\x1b[2Jx"y\nz}'
FUNC_NAME = "\x1b[31mhog\nline\x07"
FILE_NAME = "\x1b]0;pwned\x07\n\u009b2J.py"

SRC = """
def hog(seconds, clock):
    end = clock() + seconds
    n = 0
    while clock() < end:
        n += 1
    return n
"""
ns = {}
exec(compile(SRC, FILE_NAME, "exec"), ns)
hog = ns["hog"]
code = hog.__code__.replace(co_name=FUNC_NAME)
if hasattr(code, "co_qualname"):
    code = code.replace(co_qualname=FUNC_NAME)
hog.__code__ = code

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15


def spinner():
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(THREAD_NAME), 0, 0, 0)
    hog(SECONDS, time.monotonic)


t = threading.Thread(target=spinner)
t.start()
while t.is_alive():
    time.sleep(0.0005)
t.join()
