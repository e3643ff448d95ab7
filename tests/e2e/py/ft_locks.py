"""Free-threaded CPython workloads with known lock answers (giltrace's
tests/e2e/test_freethreaded_locks.py, docs/freethreaded-locks.md).

  ft_locks.py shared THREADS N   THREADS threads each do N updates of one
                                 shared dict: its lock is contended
  ft_locks.py own THREADS N      each thread updates a dict of its own:
                                 no lock is contended
  ft_locks.py gc THREADS N       N gc.collect() calls beside THREADS
                                 threads allocating: prints how many
                                 collections gc.callbacks saw

Waits for a line on stdin first when GILTRACE_WAIT_STDIN is set, so a
tracer can attach before the work starts; prints one result line.
"""
import gc
import os
import sys
import threading


def update(d, n, key):
    for i in range(n):
        d[key + i % 64] = i


def main():
    mode, threads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if os.environ.get("GILTRACE_WAIT_STDIN"):
        print("ready", flush=True)
        sys.stdin.readline()
    if mode == "gc":
        starts = [0]

        def cb(phase, info):
            if phase == "start":
                starts[0] += 1

        stop = threading.Event()

        def churn():
            while not stop.is_set():
                [[] for _ in range(100)]

        workers = [threading.Thread(target=churn) for _ in range(threads)]
        for w in workers:
            w.start()
        gc.callbacks.append(cb)
        for _ in range(n):
            gc.collect()
        gc.callbacks.remove(cb)
        stop.set()
        for w in workers:
            w.join()
        print(f"collections {starts[0]}", flush=True)
        return
    shared = {}
    dicts = [shared if mode == "shared" else {} for _ in range(threads)]
    workers = [threading.Thread(target=update, args=(dicts[t], n, t * 1000))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"done {sum(len(d) for d in dicts)}", flush=True)


if __name__ == "__main__":
    main()
