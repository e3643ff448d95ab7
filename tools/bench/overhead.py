#!/usr/bin/env python3
"""Target overhead: the same workload untraced and under each tracer,
configurations interleaved in every repetition, several repetitions each.

  sudo tools/bench/overhead.py [--quick] [--reps N] [--only NAME,...]
                               [--configs C,...] [--no-pin] [--batches B]
                               [--json-out FILE]

For every workload it prints, per configuration, throughput (ops/s) and the
target's CPU time per operation (all threads, user + system, over the timed
loop as the Python workloads report it, the whole process from wait4 for the
toy VM: probe handlers run in the target's context, so their cost lands here) as min / median / max
over the repetitions (a Python run's figure is the least of its --batches
batches: a disturbance slows one batch, a tracer's cost is in all of them), the ratios of those to the untraced median, the
spread (max - min) / median, and the tracer's own CPU per operation.
Workloads:

  tvm-cpu-T     toy VM countdown, T threads (new GIL, uprobes on NOP5 hooks)
  pyX-cpu-T     CPython countdown, T threads
  pyX-io        CPython ping-pong over loopback (GIL dropped on every call)

where X is "deb" (Debian /usr/bin/python3) or a pyenv version.
giltrace's default for CPython 3.8-3.13 is cond mode (uprobes on the C
library's pthread_cond_signal and pthread_cond_timedwait, filtered to the
GIL's condition variables), for CPython 2.7 futex mode.
Configurations: base (untraced); giltrace (`giltrace -p PID`, the
runtime's default mode, summary only); futex, full, cond
(`giltrace --mode=M -p PID`; skipped, with giltrace's reason, where the
runtime has no such mode: full needs the symbols of pyenv builds);
alt-mode (the runtime's other mode: futex for CPython 3, full for
2.7); record (`giltrace record -o FILE -p PID`); bpftrace (uprobes on the
GIL functions, a uretprobe on the acquire one, and the futex syscall
tracepoints, the script at the top of this file); blame (`giltrace blame
-p PID`, not in the default list); bcc (funclatency-bpfcc on the acquire
function: uprobe + uretprobe).
Ablations, not in the default set (--configs ...,sched-only,futex-tps):
giltrace's scheduler programs alone, or its futex syscall tracepoints alone,
attached machine-wide by build/bench/probecost -H. Before/after: NAME@before
runs configuration NAME with the binary in $GILTRACE_BEFORE.

Resolution (--pin, the default): the target and all its threads run on
CPU 0, this script and every tracer's user-space process on CPU 1, so the
kernel's wake-up placement cannot move the ping-pong's two threads between
CPUs (unpinned, its rate is bimodal: 13 600-52 100 round trips/s within one
run on a 2-CPU guest). Every repetition runs each configuration once, the
order rotated by one from repetition to repetition. (max - min) / median of
base is the resolution: a ratio within it of 1.0 is noise. The paired
ratio (each run over base's run in the same repetition; median and range)
cancels load that changes between repetitions but not within one.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import benchlib as bl

BPFTRACE_CPY = """
uprobe:{lib}:{acq} {{ @t[tid] = nsecs; }}
uretprobe:{lib}:{acq} /@t[tid]/ {{ @acquire = hist(nsecs - @t[tid]); delete(@t[tid]); }}
uprobe:{lib}:{rel} {{ @release = count(); }}
tracepoint:syscalls:sys_enter_futex /pid == {pid}/ {{ @f[tid] = nsecs; }}
tracepoint:syscalls:sys_exit_futex /@f[tid]/ {{ @futex = hist(nsecs - @f[tid]); delete(@f[tid]); }}
"""

BPFTRACE_TVM = """
uprobe:{lib}:toyvm_gil_wait {{ @t[tid] = nsecs; }}
uprobe:{lib}:toyvm_gil_acquired {{ @acquire = count(); if (@t[tid]) {{ @wait = hist(nsecs - @t[tid]); delete(@t[tid]); }} }}
uprobe:{lib}:toyvm_gil_release {{ @release = count(); }}
uprobe:{lib}:toyvm_gil_forced_release {{ @forced = count(); }}
tracepoint:syscalls:sys_enter_futex /pid == {pid}/ {{ @f[tid] = nsecs; }}
tracepoint:syscalls:sys_exit_futex /@f[tid]/ {{ @futex = hist(nsecs - @f[tid]); delete(@f[tid]); }}
"""


# Ablations: giltrace's machine-wide programs alone, with bodies like
# giltrace's (a hash lookup), held by build/bench/probecost -H.
ABLATIONS = {
    "sched-only": "sched_waking,sched_wakeup,sched_switch",
    "futex-tps": "tp_futex_enter,tp_futex_exit",
}


# Configurations that run `giltrace --mode=NAME`.
MODES = ("cond", "futex", "full")


class Workload:
    def __init__(self, name, kind, argv, lib, acq, rel, mode, alt=None):
        self.name, self.kind, self.argv = name, kind, argv
        self.lib, self.acq, self.rel, self.mode = lib, acq, rel, mode
        self.alt = alt  # giltrace's other --mode for this runtime, if any


def workloads(quick):
    n_tvm = 60_000_000 if quick else 100_000_000
    n_py = 10_000_000 if quick else 20_000_000
    n_io = 20_000 if quick else 40_000
    tvm_prog = os.path.join(bl.BENCH, "tvm", "countdown.tvm")
    cd = os.path.join(bl.BENCH, "py", "countdown.py")
    pp = os.path.join(bl.BENCH, "py", "pingpong.py")
    out = []
    for t in (2, 4):
        out.append(Workload("tvm-cpu-%d" % t, "tvm", [bl.TOYVM, tvm_prog, "PORT", str(t),
                                                      str(n_tvm)],
                            bl.TOYVM, "toyvm_gil_acquired", "toyvm_gil_release", "hooks"))
    # CPython 3: cond mode by default, futex mode the cheap alternative;
    # full mode needs take_gil/drop_gil, which Debian's stripped python3
    # lacks (bpftrace probes its exported PyEval_RestoreThread/SaveThread).
    pys = [("deb", "/usr/bin/python3", "PyEval_RestoreThread", "PyEval_SaveThread", "cond",
            "futex")]
    for ver in ("3.11", "3.12"):
        exe = bl.pyenv_python(ver)
        if exe:
            pys.append((ver, exe, "take_gil", "drop_gil", "cond", "futex"))
    py27 = bl.pyenv_python("2.7")
    if py27:
        pys.append(("2.7", py27, "PyThread_acquire_lock", "PyThread_release_lock", "futex",
                    "full"))
    for tag, exe, acq, rel, mode, alt in pys:
        lib = bl.libpython(exe)
        for t in (2, 4):
            out.append(Workload("py%s-cpu-%d" % (tag, t), "py",
                                [exe, cd, str(t), str(n_py), "BATCHES"], lib, acq, rel, mode,
                                alt))
        out.append(Workload("py%s-io" % tag, "py", [exe, pp, str(n_io), "BATCHES"], lib, acq,
                            rel, mode, alt))
    return out


# --pin: CPU of the target (all its threads) and CPU of everything else.
TARGET_CPU, TRACER_CPU = 0, 1


def pin_target():
    os.sched_setaffinity(0, {TARGET_CPU})


def start_target(w, pin, batches):
    """Starts the workload stopped at its gate; returns (proc, go)."""
    pre = pin_target if pin else None
    if w.kind == "tvm":
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        argv = [a if a != "PORT" else str(lsn.getsockname()[1]) for a in w.argv]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, preexec_fn=pre)
        conn, _ = lsn.accept()
        lsn.close()

        def go():
            conn.sendall(b"g")
        proc._gate = conn
        return proc, go
    argv = [a if a != "BATCHES" else str(batches) for a in w.argv]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=pre)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError("%s did not start: %r" % (w.name, line))

    def go():
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return proc, go


def wait_text(path, pattern, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        with open(path) as f:
            if re.search(pattern, f.read()):
                return True
        time.sleep(0.05)
    return False


def start_tracer(cfg, w, pid, tmp):
    """Starts a tracer on pid and waits until it is attached; returns
    (proc, out_path) or (None, reason)."""
    out = os.path.join(tmp, "tracer.out")
    err = open(os.path.join(tmp, "tracer.err"), "w")
    exe = bl.GILTRACE
    if cfg.endswith("@before"):
        # Before/after: the same configuration with another giltrace binary.
        exe = os.environ.get("GILTRACE_BEFORE")
        if not exe:
            return None, "set GILTRACE_BEFORE to the giltrace binary to compare with"
        cfg = cfg[:-len("@before")]
    if cfg in ("giltrace", "alt-mode", "record", "blame") or cfg in MODES:
        argv = [exe, "--json", "-p", str(pid)]
        if cfg == "blame":
            # docs/blame.md: the holder's Python stack read at each wait
            argv = [exe, "blame", "--top", "1", "-p", str(pid)]
        if cfg == "alt-mode":
            if not w.alt:
                return None, "no other mode for this runtime"
            argv[1:1] = ["--mode=" + w.alt]
        if cfg in MODES:
            argv[1:1] = ["--mode=" + cfg]
        if cfg == "record":
            argv = [exe, "record", "--force", "-o", os.path.join(tmp, "cap.gil"),
                    "-p", str(pid)]
        proc = subprocess.Popen(argv, stdout=open(out, "w"), stderr=err)
        if not bl.wait_attached(proc):
            return None, open(err.name).read().strip()
        return proc, out
    if cfg in ABLATIONS:
        argv = [os.path.join(bl.BUILD, "bench", "probecost"), "-H", ABLATIONS[cfg]]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, text=True)
        if proc.stdout.readline().strip() != "attached":
            proc.kill()
            proc.wait()
            return None, "probecost -H failed: " + open(err.name).read().strip()
        return proc, None
    if cfg == "bpftrace":
        script = (BPFTRACE_TVM if w.kind == "tvm" else BPFTRACE_CPY).format(
            lib=w.lib, acq=w.acq, rel=w.rel, pid=pid)
        argv = ["bpftrace", "-p", str(pid), "-e", script]
        pattern = r"Attaching \d+ probes"
    elif cfg == "bcc":
        tool = shutil.which("funclatency-bpfcc")
        if not tool:
            return None, "bpfcc-tools not installed"
        rel = os.uname().release
        if not (os.path.isdir("/lib/modules/%s/build" % rel)
                or os.path.exists("/sys/kernel/kheaders.tar.xz")):
            return None, "bcc compiles its BPF C at run time and needs kernel headers, " \
                         "which this kernel (%s) does not provide" % rel
        argv = [tool, "-p", str(pid), "%s:%s" % (w.lib, w.acq)]
        pattern = r"Tracing"
    proc = subprocess.Popen(argv, stdout=open(out, "w"), stderr=err, text=True)
    if not wait_text(out, pattern, proc):
        proc.kill()
        proc.wait()
        return None, "did not attach: " + open(err.name).read().strip()[-200:]
    time.sleep(0.3)
    return proc, out


def reap(proc, grace=2.0):
    """Waits for a tracer (SIGINT after grace seconds); returns its rusage.
    os.wait4 rather than Popen.wait, which would throw the rusage away."""
    if proc.stdin:
        proc.stdin.close()
    end = time.time() + grace
    while True:
        pid, _, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = 0
            return ru
        if time.time() > end:
            proc.send_signal(signal.SIGINT)
            end = float("inf")
        time.sleep(0.02)


def run_once(w, cfg, pin, batches):
    tmp = tempfile.mkdtemp(prefix="giltrace-bench.")
    try:
        proc, go = start_target(w, pin, batches)
        tracer, info = None, None
        if cfg != "base":
            tracer, info = start_tracer(cfg, w, proc.pid, tmp)
            if tracer is None:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"skip": info}
        go()
        _, status, ru = os.wait4(proc.pid, 0)
        out = proc.stdout.read()
        lines = re.findall(r"ops (\d+) elapsed_ns (\d+)(?: cpu_ns (\d+))?", out)
        if not lines or status:
            raise RuntimeError("%s under %s: status %d, output %r" % (w.name, cfg, status, out))
        # The workload's own count per batch (start-up excluded), the least
        # batch standing for the run (py/batches.py says why); the toy VM
        # gives one line without it: the whole process's from wait4.
        if lines[0][2]:
            cpu_op = min(int(c) / int(n) for n, _, c in lines)
        else:
            cpu_op = bl.rusage_ns(ru) / int(lines[0][0])
        ops = sum(int(n) for n, _, _ in lines)
        wall = sum(int(e) for _, e, _ in lines)
        res = {"ops": ops, "wall_ns": wall, "cpu_per_op": cpu_op, "batches": len(lines)}
        if tracer:
            tru = reap(tracer)
            res["tracer_cpu_ns"] = bl.rusage_ns(tru)
            if cfg.split("@")[0] in ("giltrace", "alt-mode") + MODES:
                try:
                    s = json.load(open(info))
                    res["drops"] = s.get("drops", 0)
                except ValueError:
                    pass
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 repetitions, shorter workloads")
    ap.add_argument("--reps", type=int, help="repetitions per configuration (default 5)")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--configs", default="base,giltrace,futex,full,record,bpftrace,bcc")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="target on CPU %d, tracers and this script on CPU %d (default: on)"
                    % (TARGET_CPU, TRACER_CPU))
    ap.add_argument("--batches", type=int, default=5,
                    help="batches per Python run; a run's CPU per op is its least batch's "
                    "(default 5; 1: the whole timed loop)")
    ap.add_argument("--json-out", help="also write the raw results as JSON")
    a = ap.parse_args()
    bl.need_root()
    reps = a.reps or (3 if a.quick else 5)
    configs = a.configs.split(",")
    wl = workloads(a.quick)
    if a.only:
        keep = a.only.split(",")
        wl = [w for w in wl if w.name in keep]
    if a.pin:
        # Children inherit this; the target's preexec_fn moves it to TARGET_CPU.
        os.sched_setaffinity(0, {TRACER_CPU})
    bl.header("target overhead: %d repetitions, configurations interleaved (order rotated), "
              "%s" % (reps, "target pinned to CPU %d, tracers to CPU %d" % (
                  TARGET_CPU, TRACER_CPU) if a.pin else "unpinned"))
    print("# cpu/op = target CPU (all threads, user+sys) per op, min/median/max; ratios are "
          "those over base's median; spread = (max-min)/median; paired = the ratio to base "
          "within each repetition; thr = ops/s (median); "
          "tracer = the tracer's own CPU per op (median)")
    allres = {}
    for w in wl:
        res = {c: [] for c in configs}
        skip = {}
        for i in range(reps):
            for c in configs[i % len(configs):] + configs[:i % len(configs)]:
                if c in skip:
                    continue
                r = run_once(w, c, a.pin, a.batches)
                if "skip" in r:
                    skip[c] = r["skip"]
                else:
                    res[c].append(r)
        allres[w.name] = {"mode": w.mode, "results": res, "skipped": skip}
        report(w, configs, res, skip)
    print("# load average at end: %s" % bl.loadavg())
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(allres, f, indent=1)


def report(w, configs, res, skip):
    print("\n## %s (giltrace: %s mode by default%s)" % (
        w.name, w.mode, ", alt-mode = --mode=" + w.alt if w.alt else ""))
    print("%-9s %3s %9s %9s %9s %7s %7s %7s %7s %19s %9s %6s %9s" % (
        "config", "n", "min ns", "median ns", "max ns", "min/b", "med/b", "max/b", "spread",
        "paired med min-max", "thr ops/s", "thr/b", "tracer ns"))
    base = res.get("base")
    bthr = bl.med_spread([r["ops"] / r["wall_ns"] * 1e9 for r in base])[0] if base else None
    bcpu = bl.med_spread([r["cpu_per_op"] for r in base])[0] if base else None
    for c in configs:
        if c in skip:
            print("%-9s skipped: %s" % (c, skip[c]))
            continue
        rs = res[c]
        thr = bl.med_spread([r["ops"] / r["wall_ns"] * 1e9 for r in rs])[0]
        cpu, clo, chi = bl.med_spread([r["cpu_per_op"] for r in rs])
        tr = [r["tracer_cpu_ns"] / r["ops"] for r in rs if "tracer_cpu_ns" in r]
        tr = "%.1f" % bl.med_spread(tr)[0] if tr else "-"
        drops = sum(r.get("drops", 0) for r in rs)
        b = bcpu or float("nan")
        # Paired: each repetition's run over base's run of the same
        # repetition, which cancels load that drifts between repetitions.
        pair = "-"
        if base and len(base) == len(rs):
            pair = "%.3f %.3f-%.3f" % bl.med_spread(
                [r["cpu_per_op"] / q["cpu_per_op"] for r, q in zip(rs, base)])
        print("%-9s %3d %9.1f %9.1f %9.1f %7.3f %7.3f %7.3f %6.1f%% %19s %9.0f %6.3f %9s%s" % (
            c, len(rs), clo, cpu, chi, clo / b, cpu / b, chi / b, 100 * (chi - clo) / cpu,
            pair, thr, thr / bthr if bthr else 0, tr, "  DROPS %d" % drops if drops else ""))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
