#!/usr/bin/env python3
"""Consumer capacity: an event storm from tools/bench/evgen (2 threads
calling the toy VM's acquired/release hooks back to back, paced to a set
rate) under `giltrace record -p` and `giltrace -p`; then report and export
speed from the capture, and bytes per event on disk.

  sudo tools/bench/storm.py [--quick] [--seconds S] [--rates R,R,...]

For each offered rate: events the generator issued, events in the capture
(must be equal when drops are 0), drops, the rate achieved, and the
consumer's CPU (% of one core, ns per event). Rate 0 = as fast as the
probes allow.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import benchlib as bl

EVGEN = os.path.join(bl.BUILD, "bench", "evgen")


def run(mode, rate, seconds, tmp, threads=2):
    cap = os.path.join(tmp, "storm.gil")
    gen = subprocess.Popen([EVGEN, str(threads), str(rate), str(seconds)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert gen.stdout.readline().strip() == "ready"
    if mode == "record":
        argv = [bl.GILTRACE, "record", "--force", "-o", cap, "-p", str(gen.pid)]
    else:
        argv = [bl.GILTRACE, "--json", "-p", str(gen.pid)]
    out = open(os.path.join(tmp, "out"), "w")
    tr = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)
    bl.wait_attached(tr)
    gen.stdin.write("go\n")
    gen.stdin.flush()
    _, status, _ = os.wait4(gen.pid, 0)
    m = re.search(r"ops (\d+) elapsed_ns (\d+)", gen.stdout.read())
    _, tstatus, tru = os.wait4(tr.pid, 0)
    res = {"mode": mode, "offered": rate, "issued": int(m.group(1)),
           "elapsed_ns": int(m.group(2)), "tracer_cpu_ns": bl.rusage_ns(tru)}
    if mode == "record":
        rep = json.loads(subprocess.run([bl.GILTRACE, "report", "--json", cap],
                                        capture_output=True, text=True).stdout)
        res["drops"] = rep.get("drops", 0)
        res["captured"] = count_events(cap)
        res["bytes"] = os.path.getsize(cap)
    else:
        s = json.load(open(out.name))
        res["drops"] = s.get("drops", 0)
        res["captured"] = s["totals"]["acquisitions"] + s["totals"]["releases"]
    return res


def count_events(cap):
    p = subprocess.run([bl.GILTRACE, "export", "--format=csv", cap], capture_output=True)
    return p.stdout.count(b"\n") - 1


def timed(argv):
    """CPU seconds (user+sys) of one command, from its rusage."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return bl.rusage_ns(ru) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--rates", default="0,4000000,2000000,1000000,500000")
    a = ap.parse_args()
    bl.need_root()
    seconds = a.seconds or (2 if a.quick else 5)
    bl.header("consumer capacity: evgen, 2 threads, %g s per rate" % seconds)
    tmp = tempfile.mkdtemp(prefix="giltrace-storm.")
    try:
        print("%-7s %10s %11s %11s %8s %12s %11s %10s %9s" % (
            "mode", "offered/s", "issued", "captured", "drops", "achieved/s", "consumer%",
            "ns/event", "B/event"))
        kept = None
        for rate in [int(r) for r in a.rates.split(",")]:
            for mode in ("record", "trace"):
                r = run(mode, rate, seconds, tmp)
                secs = r["elapsed_ns"] / 1e9
                got = r["captured"]
                print("%-7s %10s %11d %11d %8d %12.0f %10.1f%% %10.1f %9s" % (
                    mode, rate or "max", r["issued"],
                    r["captured"], r["drops"],
                    got / secs, 100 * r["tracer_cpu_ns"] / r["elapsed_ns"],
                    r["tracer_cpu_ns"] / max(got, 1),
                    "%.2f" % (r["bytes"] / max(got, 1)) if mode == "record" else "-"))
                if mode == "record" and (kept is None or r["captured"] > kept[1]) \
                        and not r["drops"]:
                    shutil.copy(os.path.join(tmp, "storm.gil"), os.path.join(tmp, "keep.gil"))
                    kept = (rate, r["captured"], r["bytes"])
        if kept:
            cap = os.path.join(tmp, "keep.gil")
            n = kept[1]
            print("\n# reading a capture of %d events (%.2f bytes/event), CPU time:" % (
                n, kept[2] / n))
            for name, argv in (
                    ("report", [bl.GILTRACE, "report", cap]),
                    ("export csv", [bl.GILTRACE, "export", "--format=csv", "--force", "-o",
                                    os.path.join(tmp, "x.csv"), cap]),
                    ("export chrome", [bl.GILTRACE, "export", "--force", "-o",
                                       os.path.join(tmp, "x.json"), cap])):
                cpu = min(timed(argv) for _ in range(3))
                print("%-14s %8.3f s  %6.2f M events/s per core" % (name, cpu, n / cpu / 1e6))
        print("# load average at end: %s" % bl.loadavg())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
