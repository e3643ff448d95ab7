#!/usr/bin/env python3
"""Memory: giltrace's RSS over a long run against a steady event stream
(tools/bench/evgen, 2 threads at a set rate), sampled every second.

  sudo tools/bench/rss.py [--seconds S] [--rate R] [--mode record|trace]

Default 600 s at 200k events/s under `giltrace record`. Prints RSS after
attach, at each tenth of the run and at the end, the peak, and the growth
per minute over the second half (a flat run shows ~0).
"""
import argparse
import os
import subprocess
import tempfile
import time

import benchlib as bl

EVGEN = os.path.join(bl.BUILD, "bench", "evgen")


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--rate", type=int, default=200000)
    ap.add_argument("--mode", choices=("record", "trace"), default="record")
    a = ap.parse_args()
    bl.need_root()
    bl.header("giltrace RSS: %s, evgen 2 threads at %d events/s for %g s"
              % (a.mode, a.rate, a.seconds))
    tmp = tempfile.mkdtemp(prefix="giltrace-rss.")
    cap = os.path.join(tmp, "rss.gil")
    gen = subprocess.Popen([EVGEN, "2", str(a.rate), str(a.seconds)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert gen.stdout.readline().strip() == "ready"
    argv = [bl.GILTRACE, "--json", "-p", str(gen.pid)]
    if a.mode == "record":
        argv = [bl.GILTRACE, "record", "--force", "-o", cap, "-p", str(gen.pid)]
    tr = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bl.wait_attached(tr)
    gen.stdin.write("go\n")
    gen.stdin.flush()
    t0 = time.time()
    samples = []
    while gen.poll() is None:
        kb = rss_kb(tr.pid)
        if kb:
            samples.append((time.time() - t0, kb))
        time.sleep(1)
    tr.wait()
    size = os.path.getsize(cap) if a.mode == "record" else 0
    os.unlink(cap) if a.mode == "record" else None
    os.rmdir(tmp)
    print("%8s %10s" % ("t (s)", "RSS (KiB)"))
    step = max(1, len(samples) // 10)
    for t, kb in samples[::step] + samples[-1:]:
        print("%8.0f %10d" % (t, kb))
    half = [s for s in samples if s[0] >= a.seconds / 2]
    slope = 0.0
    if len(half) > 2:
        n = len(half)
        mt = sum(t for t, _ in half) / n
        mk = sum(k for _, k in half) / n
        den = sum((t - mt) ** 2 for t, _ in half)
        slope = sum((t - mt) * (k - mk) for t, k in half) / den * 60 if den else 0.0
    print("# first %d KiB, peak %d KiB, last %d KiB; second half: %+.1f KiB/min%s" % (
        samples[0][1], max(k for _, k in samples), samples[-1][1], slope,
        "; capture %.1f MB" % (size / 1e6) if size else ""))
    print("# load average at end: %s" % bl.loadavg())


if __name__ == "__main__":
    main()
