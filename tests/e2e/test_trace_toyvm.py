"""giltrace against the toy VM's own counters: the proof that its numbers
are exact. Every GIL design, `-- CMD` and `-p PID`, with an untraced VM
running beside the traced one."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BUILD_DIR, TOYVM, TOYVM_EXAMPLES

GILTRACE = BUILD_DIR / "giltrace"
COUNTS = ("acquisitions", "busy", "retries", "timeouts", "drop_requests", "forced_switches")
DESIGNS = ("old", "new", "prio", "fifo")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")


def giltrace_objects():
    """Names of loaded BPF programs and links that belong to giltrace."""
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    ours = {"gil_wait", "gil_acquire", "gil_release", "sched_switch", "sched_waking",
            "sched_wakeup", "tp_futex_enter", "tp_futex_exit", "raw_futex_enter"}
    prog_ids = {p["id"] for p in progs if p.get("name") in ours}
    links = json.loads(subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    return prog_ids, [l for l in links if l.get("prog_id") in prog_ids]


def by_tid(threads):
    return {t["tid"]: t for t in threads}


# Each wait's start reaches giltrace's probe a little after the VM read its
# clock: measured 0.1-0.8 us a wait (toy VM under ASan included), always the
# same way (likely because the rarely hit wait hook runs cold); one CI run saw
# 1.6 us a wait on average. Allow 3 us a wait beside 1% (or 50 us).
SKEW_NS_PER_WAIT = 3_000
# A hold's two edges are the VM's clock reads before its acquire and release
# hooks against the probes' clock after them: the two hooks' probe paths
# differ by tens of ns. A fresh-clone run under load (three other jobs
# building and testing) had the old GIL's 1 050 001 holds of a thread 49 ms
# (1.07%) short of the VM's 4.62 s: 47 ns a hold. Allow 100 ns a hold.
SKEW_NS_PER_HOLD = 100
# The VM reads its clock and then calls its hook: a thread preempted between
# the two (the bystander keeps both CPUs busy) moves that edge by up to a
# scheduler slice (EEVDF's base slice, 0.75 ms x (1 + log2 CPUs) = 1.5 ms
# here). Seen in 3 of about 20 runs: a main thread's 3-4 holds 65 us and
# 191 us off the VM's total, a prio worker's 61 waits 656 us off. One such
# edge is allowed per total, beside the skew above.
PREEMPTED_EDGE_NS = 1_500_000


def time_tolerance(truth, key):
    edges = SKEW_NS_PER_WAIT * truth["busy"] if key == "wait_ns" else \
        SKEW_NS_PER_HOLD * truth["acquisitions"]
    return max(0.01 * truth[key], 50_000 + edges) + PREEMPTED_EDGE_NS


def assert_matches(truth_threads, traced_threads):
    """Counts equal; wait and hold totals within time_tolerance()."""
    traced = by_tid(traced_threads)
    compared = 0
    for t in truth_threads:
        if not any(t[k] for k in COUNTS):
            continue
        g = traced.get(t["tid"])
        assert g is not None, f"thread {t['tid']} ({t['name']}) missing from giltrace"
        for k in COUNTS:
            assert g[k] == t[k], f"tid {t['tid']} {k}: giltrace {g[k]} != toyvm {t[k]}"
        for k in ("wait_ns", "hold_ns"):
            compared += 1
            assert abs(g[k] - t[k]) <= time_tolerance(t, k), \
                f"tid {t['tid']} {k}: giltrace {g[k]} vs toyvm {t[k]}"
    extra = set(traced) - {t["tid"] for t in truth_threads}
    assert not extra, f"threads giltrace saw that the VM does not know: {extra}"
    assert compared >= 2, "no time total long enough to compare: the test is void"


def start_bystander(tmp_path):
    """An untraced VM under contention: none of its threads may appear."""
    return subprocess.Popen([str(TOYVM), "--gil=old", str(TOYVM_EXAMPLES / "countdown.tvm"),
                             "2", "400000000"], stdout=subprocess.DEVNULL)


@pytest.mark.parametrize("design", DESIGNS)
def test_command_counts_equal_ground_truth(tmp_path, design):
    stats = tmp_path / "stats.json"
    bystander = start_bystander(tmp_path)
    try:
        p = subprocess.run([str(GILTRACE), "--json", "--", str(TOYVM), f"--gil={design}",
                            "--switch-interval=500", f"--gil-stats={stats}",
                            str(TOYVM_EXAMPLES / "countdown.tvm"), "2", "30000000"],
                           capture_output=True, text=True, timeout=120)
    finally:
        bystander.kill()
        bystander.wait()
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout[p.stdout.index("{"):])
    truth = json.loads(stats.read_text().splitlines()[-1])
    assert summary["drops"] == 0, "ring-buffer drops: counts cannot be exact"
    assert summary["unpaired"] == 0
    assert {t["tgid"] for t in summary["threads"]} == {summary["target"]["pid"]}
    assert_matches(truth["threads"], summary["threads"])
    busy = sum(t["busy"] for t in truth["threads"])
    assert busy > 0, "the workload must contend for the GIL"
    if design != "old":
        assert sum(t["forced_switches"] for t in summary["threads"]) > 0


def test_attach_counts_equal_snapshot_deltas(tmp_path):
    """-p PID on a running VM: giltrace's counts between two SIGUSR1 snapshots
    taken inside the traced window equal the VM's snapshot deltas."""
    stats, capture = tmp_path / "stats.json", tmp_path / "run.gil"
    vm = subprocess.Popen([str(TOYVM), "--gil=new", "--switch-interval=300",
                           f"--gil-stats={stats}", str(TOYVM_EXAMPLES / "countdown.tvm"),
                           "2", "4000000000"], stdout=subprocess.DEVNULL)
    bystander = start_bystander(tmp_path)
    rec = None
    try:
        time.sleep(0.3)
        rec = subprocess.Popen([str(GILTRACE), "record", "-o", str(capture), "-p", str(vm.pid)],
                               stderr=subprocess.PIPE, text=True)
        assert "giltrace: tracing PID" in rec.stderr.readline()
        time.sleep(0.3)
        vm.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        vm.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        rec.send_signal(signal.SIGINT)
        assert rec.wait(timeout=10) == 0, rec.stderr.read()
    finally:
        for p in (vm, bystander, rec):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    snaps = [json.loads(line) for line in stats.read_text().splitlines()]
    first, second = [s for s in snaps if s["reason"] == "sigusr1"][:2]
    csv = subprocess.run([str(GILTRACE), "export", "--format=csv", str(capture)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    t0 = int(csv[1].split(",")[0])
    window = [f"{(first['mono_ns'] - t0) / 1e9:.9f}", f"{(second['mono_ns'] - t0) / 1e9:.9f}"]
    rep = subprocess.run([str(GILTRACE), "report", "--json", "--from", window[0], "--to",
                          window[1], str(capture)], capture_output=True, text=True, check=True)
    summary = json.loads(rep.stdout)
    assert summary["drops"] == 0
    traced = by_tid(summary["threads"])
    before = by_tid(first["threads"])
    moved = 0
    for t in second["threads"]:
        delta = {k: t[k] - before.get(t["tid"], {}).get(k, 0) for k in COUNTS}
        if not any(delta.values()):
            continue
        moved += 1
        for k in COUNTS:
            assert traced[t["tid"]][k] == delta[k], \
                f"tid {t['tid']} {k}: giltrace {traced[t['tid']][k]} != delta {delta[k]}"
    assert moved == 2, "both countdown threads must run inside the window"
    assert {t["tgid"] for t in summary["threads"]} == {vm.pid}


def other_giltraces():
    out = subprocess.run(["pgrep", "-x", "giltrace"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_nothing_left_behind(tmp_path):
    if other_giltraces():
        pytest.skip("another giltrace is running: its BPF objects cannot be told apart")
    before = giltrace_objects()
    p = subprocess.run([str(GILTRACE), "--", str(TOYVM), str(TOYVM_EXAMPLES / "countdown.tvm"),
                        "2", "2000000"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # The kernel frees a program after an RCU grace period once its last
    # descriptor is closed: give it a moment, not forever.
    deadline = time.monotonic() + 5
    while giltrace_objects() != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert giltrace_objects() == before
