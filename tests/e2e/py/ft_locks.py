"""Free-threaded CPython workloads with known lock answers (giltrace's
tests/e2e/test_freethreaded_locks.py, docs/freethreaded-locks.md).

  ft_locks.py shared THREADS N   THREADS threads each do N updates of one
                                 shared dict: its lock is contended
  ft_locks.py own THREADS N      each thread updates a dict of its own:
                                 no dict's lock is contended
  ft_locks.py gc THREADS N       N gc.collect() calls beside THREADS
                                 threads allocating

Quiet edges, as quiet_edges.py: prints "ready" on stderr and waits for a
line on stdin, works, prints its answer on stdout and "done" on stderr,
then waits for another line before it exits, so that a tracer attached
with -p sees the work and nothing of start-up or shutdown. The answer:
"workers TID..." (the worker threads' kernel ids) and, for gc,
"collections N": the collections gc.callbacks saw between the edges,
automatic ones included; "elapsed_ns N", the work's wall time.
"""
import gc
import sys
import threading
import time


def update(d, n, key, barrier, tids):
    tids.append(threading.get_native_id())
    barrier.wait()
    for i in range(n):
        d[key + i % 64] = i


def churn(stop, tids):
    tids.append(threading.get_native_id())
    while not stop.is_set():
        [[] for _ in range(100)]


def main():
    mode, threads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    starts = [0]

    def counted(phase, info):
        if phase == "start":
            starts[0] += 1

    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
    t0 = time.monotonic_ns()
    tids = []
    if mode == "gc":
        stop = threading.Event()
        gc.callbacks.append(counted)
        workers = [threading.Thread(target=churn, args=(stop, tids)) for _ in range(threads)]
        for w in workers:
            w.start()
        for _ in range(n):
            gc.collect()
        stop.set()
        for w in workers:
            w.join()
        gc.callbacks.remove(counted)
    else:
        shared = {}
        barrier = threading.Barrier(threads)
        workers = [threading.Thread(target=update, args=(shared if mode == "shared" else {},
                                                         n, t * 1000, barrier, tids))
                   for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    print(f"elapsed_ns {time.monotonic_ns() - t0}", flush=True)
    print("workers " + " ".join(map(str, tids)), flush=True)
    if mode == "gc":
        print(f"collections {starts[0]}", flush=True)
    print("done", file=sys.stderr, flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
