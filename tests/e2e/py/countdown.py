"""Two threads counting down: the GIL's textbook contention.

With --wait, prints "ready" and waits for a line on stdin before starting
the threads, so a tracer can attach to the PID first. Prints "done" at end.
"""
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3_000_000


def countdown(n):
    while n > 0:
        n -= 1


if "--wait" in sys.argv:
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
threads = [threading.Thread(target=countdown, args=(N,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done", file=sys.stderr, flush=True)
