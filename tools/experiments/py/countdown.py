"""Beazley's countdown (slides 3-4) for stock CPython, Python 2.7 and 3.x.

    python countdown.py T N

T = 0 runs countdown(N) in the main thread (the talk's "sequential");
T >= 1 splits N over T threads. Prints "countdown N threads T elapsed_ms MS".
"""
import sys
import threading
import time


def countdown(n):
    while n > 0:
        n -= 1


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000000
    start = time.time()
    if threads == 0:
        countdown(n)
    else:
        ts = [threading.Thread(target=countdown, args=(n // threads,))
              for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    elapsed = time.time() - start
    sys.stdout.write("countdown %d threads %d elapsed_ms %d\n"
                     % (n, threads, int(elapsed * 1000)))


main()
