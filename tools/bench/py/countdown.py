"""CPU-bound: T threads split N decrements. Waits for a line on stdin (so a
tracer can attach first), then prints "ops N elapsed_ns E cpu_ns C", C being the process's CPU time (all threads,
user + system) over those N operations, start-up excluded."""
import resource
import sys
import threading
import time

T = int(sys.argv[1])
N = int(sys.argv[2])


def countdown(n):
    while n > 0:
        n -= 1


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
t0 = time.time()
c0 = cpu_ns()
threads = [threading.Thread(target=countdown, args=(N // T,)) for _ in range(T)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.stdout.write("ops %d elapsed_ns %d cpu_ns %d\n" % (N, int((time.time() - t0) * 1e9),
                                                      cpu_ns() - c0))
sys.stdout.flush()
