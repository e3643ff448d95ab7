"""Free-threaded CPython workloads (tests/e2e/test_trace_freethreaded.py):
two threads on the CPU for SECS seconds, and with `import`, the legacy
extension (no Py_mod_gil: the GIL comes back) imported half-way. The
import's window (CLOCK_MONOTONIC ns, before and after) and whether the GIL
is on after it go to stderr, so giltrace's JSON keeps standard output.

    python3.13t ft_gil.py spin|import SECS
"""
import sys
import threading
import time


def spin(stop):
    n = 0
    while not stop.is_set():
        n += 1


def main():
    mode, secs = sys.argv[1], float(sys.argv[2])
    stop = threading.Event()
    threads = [threading.Thread(target=spin, args=(stop,)) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(secs / 2)
    if mode == "import":
        before = time.monotonic_ns()
        import legacy  # noqa: F401  (built by the test, on PYTHONPATH)
        after = time.monotonic_ns()
        print(f"import before={before} after={after} gil={sys._is_gil_enabled()}",
              file=sys.stderr, flush=True)
    time.sleep(secs / 2)
    stop.set()
    for t in threads:
        t.join()
    print(f"end gil={sys._is_gil_enabled()}", file=sys.stderr, flush=True)


main()
