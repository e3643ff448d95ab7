"""Several processes at once: `giltrace -p A,B` and `giltrace --all`.

Two toy VMs under contention are traced beside a third that is not; every
count giltrace gives each traced thread must equal that VM's own --gil-stats
(exactly, when no event was dropped), and nothing of the third may appear.
--all must pick up a process that starts after giltrace within a second."""
import json
import os
import signal
import subprocess
import time

import pytest

from gilwork import (GILTRACE, TOYVM, COUNTS, Conductor, Worker, thread_counts, traced_tgids,
                     wait_traced, write_program)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(not os.access(TOYVM, os.X_OK), reason="build/toyvm not built"),
]


def by_tgid(summary):
    threads = {}
    for t in summary["threads"]:
        threads.setdefault(t["tgid"], {})[t["tid"]] = t
    return threads


def assert_counts_equal(traced, truth, baseline, drops):
    """traced: giltrace's threads of one process; truth: a --gil-stats
    snapshot, less baseline (what the VM did before giltrace attached)."""
    for tid, want in thread_counts(truth, baseline).items():
        got = traced.get(tid)
        assert got is not None, f"thread {tid} missing from giltrace's summary"
        for k in COUNTS:
            if drops == 0:
                assert got[k] == want[k], f"tid {tid} {k}: giltrace {got[k]}, toy VM {want[k]}"
            else:
                assert got[k] <= want[k]


def test_pid_list_counts_each_process(tmp_path):
    program = write_program(tmp_path)
    conductor = Conductor()
    workers = [Worker(program, tmp_path, name, conductor.port) for name in ("a", "b", "c")]
    a, b, c = workers
    trace = None
    try:
        conductor.accept(workers)
        trace = subprocess.Popen([GILTRACE, "--json", "-d", "60", "-p", f"{a.pid},{b.pid}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_traced([a.pid, b.pid])
        assert c.pid not in traced_tgids()
        # Start-up and connect() took the GIL before giltrace attached.
        baselines = {w.pid: w.snapshot_now() for w in workers}
        for w in workers:
            w.conn.sendall(b"g")
        for w in workers:
            assert w.conn.recv(1), f"toy VM {w.pid} ended early"
            w.conn.sendall(b"x")
        for w in workers:
            assert w.proc.wait(timeout=30) == 0
        # Both targets gone: the run ends by itself, well before -d.
        out, err = trace.communicate(timeout=30)
        assert trace.returncode == 0, err
    finally:
        if trace and trace.poll() is None:
            trace.kill()
        for w in workers:
            w.kill()
        conductor.close()
    summary = json.loads(out)
    threads = by_tgid(summary)
    assert set(threads) == {a.pid, b.pid}, f"processes traced: {sorted(threads)}"
    assert {p["tgid"] for p in summary["processes"]} == {a.pid, b.pid}
    for w in (a, b):
        truth = w.final()
        assert sum(t["busy"] for t in truth["threads"]) > 10, "no contention: test is void"
        assert_counts_equal(threads[w.pid], truth, baselines[w.pid], summary["drops"])


def test_all_picks_up_a_late_process(tmp_path):
    """A process started 0.5 s into the run is traced within a second of its
    start: everything it did from 1 s on is counted. The run is ended by
    Ctrl-C once the anchor has done its work, not by -d: a loaded machine
    may take longer than any fixed duration (CI saw the anchor's work start
    after -d 8 had ended the run)."""
    program = write_program(tmp_path)
    conductor = Conductor()
    anchor = Worker(program, tmp_path, "anchor", conductor.port)
    late = trace = None
    try:
        conductor.accept([anchor])
        trace = subprocess.Popen([GILTRACE, "--json", "--all", "--exe", TOYVM, "-d", "120"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The anchor, there from the start, says when giltrace is up.
        wait_traced([anchor.pid])
        time.sleep(0.5)
        # Long enough to outlast its first second on an idle machine too
        # (~2 s at 130 M iterations/s), short enough to exit within -d.
        late = Worker(program, tmp_path, "late", n=150_000_000)
        time.sleep(max(0.0, late.started + 1.0 - time.monotonic()))
        at_1s = late.snapshot_now()
        assert late.proc.wait(timeout=30) == 0
        final = late.final()
        anchor.conn.sendall(b"g")
        assert anchor.conn.recv(1), f"toy VM {anchor.pid} ended early"
        anchor.conn.sendall(b"x")
        assert anchor.proc.wait(timeout=30) == 0
        trace.send_signal(signal.SIGINT)
        out, err = trace.communicate(timeout=30)
        assert trace.returncode == 0, err
    finally:
        if trace and trace.poll() is None:
            trace.kill()
        for w in (anchor, late):
            if w:
                w.kill()
        conductor.close()
    summary = json.loads(out)
    threads = by_tgid(summary)
    assert late.pid in threads, f"late process {late.pid} never traced: {sorted(threads)}"
    assert anchor.pid in threads
    # The late process exited during the run: --all dropped it and went on.
    assert late.pid not in traced_tgids()
    after_1s = {tid: c["acquisitions"] - thread_counts(at_1s).get(tid, {}).get("acquisitions", 0)
                for tid, c in thread_counts(final).items()}
    assert sum(after_1s.values()) > 10, "the late process was done within 1 s: test is void"
    for tid, n in after_1s.items():
        got = threads[late.pid].get(tid, {}).get("acquisitions", 0)
        assert got >= n, f"tid {tid}: {got} acquisitions traced, {n} made after 1 s"
