"""The gate and the measurement shared by the Python workloads.

Prints "ready", waits for a line on stdin (so a tracer can attach first),
then runs the workload in B batches back to back, each with fresh threads,
and prints one line per batch: "ops N elapsed_ns E cpu_ns C", C being the
process's CPU time (all threads, user + system) over that batch, start-up
excluded. overhead.py takes a run's least batch: a burst of another
process's work, or a page reclaim, slows one batch, while a tracer's cost
is in every one (docs/performance.md)."""
import resource
import sys
import threading
import time


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def run(n, batches, make_targets):
    """make_targets(n) gives the thread functions for a batch of n ops."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    for _ in range(batches):
        t0 = time.time()
        c0 = cpu_ns()
        threads = [threading.Thread(target=f) for f in make_targets(n // batches)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sys.stdout.write("ops %d elapsed_ns %d cpu_ns %d\n" % (
            n // batches, int((time.time() - t0) * 1e9), cpu_ns() - c0))
        sys.stdout.flush()
