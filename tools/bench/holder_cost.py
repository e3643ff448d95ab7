#!/usr/bin/env python3
"""The forced holder's sample (HOLDER_FRAME, bpf/holder.bpf.h), measured in
the kernel: run_time_ns / run_cnt of cond mode's cpy_cond_signal program
(the one that samples, at forced releases) from kernel.bpf_stats, for this
build and for $GILTRACE_BEFORE (a build without it), alternated, each
tracing two CPU-bound threads pinned to CPU 0 for 10 s (6 s measured).

  sudo GILTRACE_BEFORE=/path/to/old/giltrace tools/bench/holder_cost.py [REPS] [PYTHON]

Turns kernel.bpf_stats_enabled on for the run and off again (it costs every
BPF program on the machine two clock reads a run).
"""
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

NEW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "giltrace")
OLD = os.environ.get("GILTRACE_BEFORE") or sys.exit("set GILTRACE_BEFORE to the build to "
                                                    "compare with")
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
PY = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/python3"
SPIN = ("import threading, time\n"
        "def f():\n"
        "    n = 0\n"
        "    while True: n += 1\n"
        "for _ in range(2): threading.Thread(target=f, daemon=True).start()\n"
        "time.sleep(60)\n")
PROG = "cpy_cond_signal"


def progs():
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True)
    return {p["id"]: p for p in json.loads(out.stdout) if p.get("name") == PROG}


def prog_ids_of(pid):
    """The BPF programs whose descriptors process pid holds."""
    ids = set()
    for f in glob.glob(f"/proc/{pid}/fdinfo/*"):
        try:
            m = re.search(r"^prog_id:\s+(\d+)", open(f).read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def run(exe):
    """(ns per run, runs, forced switches, sampled, xlated instructions)."""
    py = subprocess.Popen(["taskset", "-c", "0", PY, "-c", SPIN])
    time.sleep(1)
    g = subprocess.Popen(["taskset", "-c", "1", exe, "--json", "-d", "10", "-p", str(py.pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ids = []
    for _ in range(50):
        time.sleep(0.2)
        mine = prog_ids_of(g.pid)
        ids = [i for i in progs() if i in mine]
        if ids:
            break
    assert len(ids) == 1, ids
    time.sleep(0.5)
    a = progs()[ids[0]]
    time.sleep(6)
    b = progs()[ids[0]]
    out, _ = g.communicate()
    py.kill()
    py.wait()
    s = json.loads(out.strip().splitlines()[-1])
    fh = s["processes"][0].get("forced_holder", {})
    runs = b["run_cnt"] - a["run_cnt"]
    return ((b["run_time_ns"] - a["run_time_ns"]) / runs, runs,
            s["totals"]["forced_switches"], fh.get("sampled"), b["bytes_xlated"] // 8)


def main():
    res = {"new": [], "before": []}
    subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        for _ in range(REPS):
            for name, exe in (("new", NEW), ("before", OLD)):
                ns, runs, forced, sampled, insns = run(exe)
                res[name].append(ns)
                print(f"{name:7s} {ns:7.1f} ns/run  runs {runs}  forced {forced}  "
                      f"sampled {sampled}  xlated insns {insns}", flush=True)
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"])
    for name, v in res.items():
        print(f"{name}: median {statistics.median(v):.1f} ns/run of {PROG}")


if __name__ == "__main__":
    main()
