"""Blame workload: pure-Python hogs hold the GIL while I/O threads wait.

    python blame_hog.py HOGS SECONDS

HOGS (1 or 2) threads spin in a one-line loop (hog_one, hog_two: each loop
is a single line, marked below, so every instruction of it has that line);
three I/O threads sleep 0.5 ms at a time and wait for the GIL each time
they wake; one thread blocks on a lock forever and so never holds the GIL
once started. Prints "ready" on stderr when all run, and exits after
SECONDS without a clean shutdown (the tracer is gone by then).
"""
import os
import sys
import threading
import time

done = False


def hog_one():
    n = 0
    while not done: n += 1  # HOG_ONE


def hog_two():
    n = 0
    while not done: n += 1  # HOG_TWO


def io_worker():
    while not done:
        time.sleep(0.0005)


def sleeper_never_holds(lock):
    lock.acquire()


def main():
    hogs, seconds = int(sys.argv[1]), float(sys.argv[2])
    lock = threading.Lock()
    lock.acquire()
    threads = [threading.Thread(target=sleeper_never_holds, args=(lock,), daemon=True)]
    threads += [threading.Thread(target=io_worker, daemon=True) for _ in range(3)]
    threads += [threading.Thread(target=f, daemon=True) for f in (hog_one, hog_two)[:hogs]]
    for t in threads:
        t.start()
    time.sleep(0.2)
    sys.stderr.write("ready\n")
    sys.stderr.flush()
    time.sleep(seconds)
    os._exit(0)


main()
