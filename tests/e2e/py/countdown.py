"""Two threads counting down: the GIL's textbook contention.

Runs on Python 2.7 and 3. With --wait, prints "ready" and waits for a line
on stdin before starting the threads, so a tracer can attach to the PID
first. Prints "done" at end. quiet_edges.py imports its pieces.
"""
import sys
import threading


def say(word):
    # print(..., flush=True) is Python 3 only; this runs on 2.7 too.
    sys.stderr.write(word + "\n")
    sys.stderr.flush()


def countdown(n):
    while n > 0:
        n -= 1


def two_threads(n):
    threads = [threading.Thread(target=countdown, args=(n,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3000000
    if "--wait" in sys.argv:
        # Python 2.7 allocates its GIL when the first thread starts: start
        # one now, so that a tracer given this PID finds the GIL already there.
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        say("ready")
        sys.stdin.readline()
    two_threads(n)
    say("done")


if __name__ == "__main__":
    main()
