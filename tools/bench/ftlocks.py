#!/usr/bin/env python3
"""Cost of tracing a free-threaded CPython's locks: each workload of
tests/e2e/py/ft_locks.py untraced and under `giltrace -p PID` (attached at
the workload's first quiet edge, detached after its last), interleaved in
every repetition; wall time of the work and the target's CPU time
(user + system, all threads, from wait4) as medians, and their ratios.

  sudo tools/bench/ftlocks.py [--reps N] [--python PATH]

The figures are docs/performance.md's "Free-threaded locks" section.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GILTRACE = ROOT / "build" / "giltrace"
WORK = ROOT / "tests" / "e2e" / "py" / "ft_locks.py"
WORKLOADS = [("shared", 4, 1_000_000), ("own", 4, 1_000_000), ("gc", 2, 200)]


def run(py, mode, threads, n, traced):
    """(wall ns, CPU s, giltrace's JSON or None) for one run."""
    w = subprocess.Popen([py, str(WORK), mode, str(threads), str(n)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gt = None
    assert w.stderr.readline().strip() == "ready"
    if traced:
        gt = subprocess.Popen([str(GILTRACE), "--json", "-p", str(w.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "tracing PID" in gt.stderr.readline()
    w.stdin.write("go\n")
    w.stdin.flush()
    assert w.stderr.readline().strip() == "done"
    summary = None
    if gt:
        gt.send_signal(signal.SIGINT)
        out, _ = gt.communicate(timeout=60)
        summary = json.loads(out)
    w.stdin.write("end\n")
    w.stdin.flush()
    answer = dict(line.split(" ", 1) for line in w.stdout.read().splitlines())
    _, status, ru = os.wait4(w.pid, 0)
    assert status == 0
    return int(answer["elapsed_ns"]), ru.ru_utime + ru.ru_stime, summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--python",
                    default="/var/cache/giltrace/cpython/3.13.0rc2t/bin/python3.13t")
    a = ap.parse_args()
    print(f"{'workload':<16} {'config':<9} {'wall ms':>9} {'cpu s':>7} {'wall x':>7} "
          f"{'cpu x':>7} {'lock ev':>8} {'stw ev':>7}")
    for mode, threads, n in WORKLOADS:
        runs = {"base": [], "giltrace": []}
        events = []
        for rep in range(a.reps):
            order = ["base", "giltrace"] if rep % 2 == 0 else ["giltrace", "base"]
            for cfg in order:
                wall, cpu, s = run(a.python, mode, threads, n, cfg == "giltrace")
                runs[cfg].append((wall, cpu))
                if s:
                    locks = s["locks"]
                    stw = sum(p["pauses"] for p in locks["stop_the_world"])
                    events.append((locks["contended_acquisitions"] + locks["slow_sections"],
                                   stw))
        base_w = statistics.median(r[0] for r in runs["base"])
        base_c = statistics.median(r[1] for r in runs["base"])
        for cfg, rs in runs.items():
            wall = statistics.median(r[0] for r in rs)
            cpu = statistics.median(r[1] for r in rs)
            ev = (f"{statistics.median(e[0] for e in events):8.0f} "
                  f"{statistics.median(e[1] for e in events):7.0f}" if cfg == "giltrace"
                  else f"{'':8} {'':7}")
            print(f"{mode}-{threads}x{n:<8} {cfg:<9} {wall / 1e6:9.1f} {cpu:7.2f} "
                  f"{wall / base_w:7.3f} {cpu / base_c:7.3f} {ev}")
        print(f"{'':16} spread of base wall: {min(r[0] for r in runs['base']) / 1e6:.1f}-"
              f"{max(r[0] for r in runs['base']) / 1e6:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
