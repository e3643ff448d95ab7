"""A ThreadPoolExecutor of 8 threads named as Python names them ("pool_0"
... "pool_7"), with the OS thread name set to match, as CPython 3.14 does
by itself: each runs pure-Python CPU tasks.

    python named_pool.py SECONDS

The summary shows the pool as one row, "8 x pool_*"; JSON keeps every
thread. Prints the tasks done on stderr.
"""
import concurrent.futures as cf
import ctypes
import sys
import threading
import time

from common import burn

PR_SET_NAME = 15


def name_os_thread():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, threading.current_thread().name.encode()[:15], 0, 0, 0)


def main():
    until = time.monotonic() + float(sys.argv[1])
    done = 0
    with cf.ThreadPoolExecutor(8, thread_name_prefix="pool", initializer=name_os_thread) as pool:
        while time.monotonic() < until:
            done += len(list(pool.map(burn, [100000] * 8)))
    sys.stderr.write(f"tasks {done}\n")


main()
