"""The toy VM's GIL designs and its ground truth: --gil-stats, --gil-log,
SIGUSR1 snapshots and the hook functions giltrace probes."""
import json
import re
import signal
import subprocess
import time
from collections import Counter, defaultdict

import pytest

from conftest import TOYVM, free_tcp_port, run_toyvm, start_toyvm

DESIGNS = ["old", "new", "prio", "fifo"]
HOOKS = ["toyvm_gil_wait", "toyvm_gil_retry", "toyvm_gil_timeout",
         "toyvm_gil_drop_request", "toyvm_gil_acquired", "toyvm_gil_release",
         "toyvm_gil_forced_release"]
COUNTERS = ["acquisitions", "busy", "retries", "timeouts", "drop_requests",
            "forced_switches", "wait_ns", "hold_ns"]
# A 2-thread countdown long enough (about 100 ms, even on a loaded machine
# tens of switches at a 500 us switch interval), short enough for the old
# GIL's event log (3 events a check).
COUNTDOWN_N = 8_000_000
OLD_COUNTDOWN_N = 4_000_000
SWITCH_US = 500


def stats_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_tid(snapshot):
    return {t["tid"]: t for t in snapshot["threads"]}


def parse_log(path):
    header, events = None, []
    for line in path.read_text().splitlines():
        if line.startswith("# toyvm gil log:"):
            header = line
            continue
        if line.startswith("#"):
            continue
        ns, tid, name, ticks, check, ev = line.split()
        events.append((int(ns), int(tid), name, int(ticks), int(check), ev))
    assert header is not None
    return header, events


def run_countdown(toyvm, examples, tmp_path, design, threads=2, n=None,
                  log=True):
    if n is None:
        n = OLD_COUNTDOWN_N if design == "old" else COUNTDOWN_N
    stats = tmp_path / f"{design}.json"
    args = [f"--gil={design}", f"--switch-interval={SWITCH_US}",
            f"--gil-stats={stats}"]
    logf = tmp_path / f"{design}.log"
    if log:
        args += ["--gil-log", logf]
    t0 = time.monotonic_ns()
    r = toyvm(args + [examples / "countdown.tvm", threads, n])
    wall = time.monotonic_ns() - t0
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(rf"countdown {n} threads {threads} elapsed_ms \d+\n",
                        r.stdout)
    snaps = stats_lines(stats)
    assert len(snaps) == 1
    return snaps[0], (logf if log else None), wall


def check_protocol(events):
    """Each thread follows ENTRY, then ACQUIRE or BUSY (RETRY|TIMEOUT|
    DROP_REQUEST)* ACQUIRE, then RELEASE or FORCED_RELEASE; one holder at a
    time (the log is written under the GIL's internal mutex, in order)."""
    state = {}
    holder = None
    for ns, tid, name, ticks, check, ev in events:
        st = state.get(tid, "out")
        if ev == "ENTRY":
            assert st == "out", (tid, ev, st)
            st = "entered"
        elif ev == "BUSY":
            assert st == "entered", (tid, ev, st)
            st = "waiting"
        elif ev in ("RETRY", "TIMEOUT"):
            assert st == "waiting", (tid, ev, st)
        elif ev == "DROP_REQUEST":
            assert st == "waiting", (tid, ev, st)
            # (prio and fifo hand the GIL off: it may be granted to a
            # thread that has not logged its ACQUIRE yet)
            assert holder != tid
        elif ev == "ACQUIRE":
            assert st in ("entered", "waiting"), (tid, ev, st)
            assert holder is None, f"{tid} acquired while {holder} holds"
            holder = tid
            st = "holding"
        elif ev in ("RELEASE", "FORCED_RELEASE"):
            assert st == "holding" and holder == tid, (tid, ev, st)
            holder = None
            st = "out"
        else:
            raise AssertionError(f"unknown event {ev}")
        state[tid] = st
    assert holder is None, "the GIL is still held at exit"
    assert all(s == "out" for s in state.values()), state


def log_counters(events):
    """Recomputes every counter from the log, exactly."""
    c = defaultdict(Counter)
    wait_start, hold_start = {}, {}
    names = {"ACQUIRE": "acquisitions", "BUSY": "busy", "RETRY": "retries",
             "TIMEOUT": "timeouts", "DROP_REQUEST": "drop_requests",
             "FORCED_RELEASE": "forced_switches"}
    for ns, tid, name, ticks, check, ev in events:
        if ev in names:
            c[tid][names[ev]] += 1
        if ev == "BUSY":
            wait_start[tid] = ns
        elif ev == "ACQUIRE":
            if tid in wait_start:
                c[tid]["wait_ns"] += ns - wait_start.pop(tid)
            hold_start[tid] = ns
        elif ev in ("RELEASE", "FORCED_RELEASE"):
            c[tid]["hold_ns"] += ns - hold_start.pop(tid)
            c[tid]["releases"] += 1
    return c


@pytest.mark.parametrize("design", DESIGNS)
def test_countdown_two_threads(toyvm, toyvm_examples, tmp_path, design):
    snap, logf, wall = run_countdown(toyvm, toyvm_examples, tmp_path, design)
    assert snap["gil"] == design
    assert snap["reason"] == "exit"
    threads = snap["threads"]
    assert [t["name"] for t in threads] == ["main", "t1", "t2"]
    assert len({t["tid"] for t in threads}) == 3
    for t in threads:
        assert set(COUNTERS) <= set(t)
        assert t["alive"] is False and t["holding"] is False
        assert 0 <= t["busy"] <= t["acquisitions"]
        assert t["retries"] >= 0 and t["timeouts"] >= 0
        assert 0 <= t["hold_ns"] <= wall
        assert 0 <= t["wait_ns"] <= wall
        assert t["hold_ns"] + t["wait_ns"] <= wall
        if t["busy"] == 0:
            assert t["wait_ns"] == 0 and t["retries"] == 0
            assert t["timeouts"] == 0 and t["drop_requests"] == 0
    workers = threads[1:]
    # Every worker made progress: held the GIL for a while.
    for t in workers:
        assert t["acquisitions"] >= 1 and t["hold_ns"] > 0
    assert sum(t["busy"] for t in workers) > 0
    total_forced = sum(t["forced_switches"] for t in threads)
    if design == "old":
        assert total_forced == 0
        assert sum(t["timeouts"] + t["drop_requests"] for t in threads) == 0
        # a release and re-acquisition every 100 ticks
        assert all(t["acquisitions"] > 1000 for t in workers)
    else:
        assert total_forced > 0
        assert sum(t["drop_requests"] for t in threads) > 0
        # a worker was forced off and got the GIL back; not always both:
        # at load 7 (a CI run under ASan) one prio worker ran its whole
        # countdown without being forced off once
        assert any(t["forced_switches"] >= 1 and t["acquisitions"] >= 2 for t in workers)

    # The log agrees with the statistics exactly.
    header, events = parse_log(logf)
    assert f"gil={design}" in header and "dropped=0" in header
    check_protocol(events)
    c = log_counters(events)
    stats = by_tid(snap)
    assert set(c) == set(stats)
    for tid, t in stats.items():
        for k in COUNTERS:
            assert c[tid][k] == t[k], (t["name"], k)
        assert c[tid]["releases"] == t["acquisitions"]
        assert Counter(e[5] for e in events if e[1] == tid)["ENTRY"] == \
            t["acquisitions"]


def test_old_gil_checks_every_n_ticks(toyvm, toyvm_examples, tmp_path):
    logf = tmp_path / "old.log"
    r = toyvm(["--gil=old", "--check-interval=50", "--gil-log", logf,
               "--gil-stats", toyvm_examples / "spin.tvm", 10000])
    assert r.returncode == 0, r.stderr
    _, events = parse_log(logf)
    spin = [e for e in events if e[2] == "spin"]
    checks = [e for e in spin if e[5] == "RELEASE" and e[3] == 0]
    # 10000 iterations of a 7-instruction loop, a check every 50 ticks
    assert 1395 <= len(checks) <= 1405
    assert [e[4] for e in checks] == list(range(1, len(checks) + 1))


def test_new_gil_drop_requests_follow_timeouts(toyvm, toyvm_examples, tmp_path):
    snap, logf, _ = run_countdown(toyvm, toyvm_examples, tmp_path, "new")
    _, events = parse_log(logf)
    last = {}
    for e in events:
        if e[5] == "DROP_REQUEST":
            # the new GIL asks only after a timed wait expired
            assert last.get(e[1]) == "TIMEOUT"
        last[e[1]] = e[5]
    # a forced release happens only after a drop request since acquisition
    requested = False
    for e in events:
        if e[5] == "ACQUIRE":
            requested = False
        elif e[5] == "DROP_REQUEST":
            requested = True
        elif e[5] == "FORCED_RELEASE":
            assert requested


def test_fifo_hands_off_in_arrival_order(toyvm, toyvm_examples, tmp_path):
    snap, logf, _ = run_countdown(toyvm, toyvm_examples, tmp_path, "fifo",
                                  threads=3, n=COUNTDOWN_N)
    _, events = parse_log(logf)
    queue = []
    contended = 0
    for e in events:
        tid, ev = e[1], e[5]
        if ev == "BUSY":
            queue.append(tid)
        elif ev == "ACQUIRE":
            if tid in queue:
                assert queue[0] == tid, "FIFO order broken"
                queue.pop(0)
                contended += 1
            else:
                assert not queue, "acquired past waiters"
    assert contended > 3


def test_prio_preempts_for_io_thread(toyvm, tmp_path):
    """A thread that sleeps often is promoted; when it wakes it preempts a
    demoted CPU-bound holder at once (drop request without a time-out)."""
    prog = tmp_path / "prio.tvm"
    prog.write_text("""
done = 0
def spin()
    global done
    setname("spin")
    while done == 0
    end
end
def sleeper()
    setname("sleeper")
    i = 0
    while i < 30
        sleep(1)
        i += 1
    end
end
s = spawn(spin)
sleep(20)
join(spawn(sleeper))
done = 1
join(s)
""")
    stats, logf = tmp_path / "p.json", tmp_path / "p.log"
    r = toyvm(["--gil=prio", f"--gil-stats={stats}", "--gil-log", logf, prog])
    assert r.returncode == 0, r.stderr
    _, events = parse_log(logf)
    check_protocol(events)
    prev = {}
    immediate = 0
    for e in events:
        if e[2] == "sleeper" and e[5] == "DROP_REQUEST" and \
                prev.get(e[1]) == "BUSY":
            immediate += 1
        prev[e[1]] = e[5]
    assert immediate >= 10
    t = {t["name"]: t for t in stats_lines(stats)[-1]["threads"]}
    assert t["spin"]["forced_switches"] >= 10


@pytest.mark.parametrize("design", DESIGNS)
def test_mutual_exclusion_counter(toyvm, toyvm_examples, tmp_path, design):
    stats = tmp_path / "s.json"
    r = toyvm([f"--gil={design}", "--switch-interval=200",
               "--check-interval=7", f"--gil-stats={stats}",
               toyvm_examples / "counter.tvm", 4, 200_000])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "counter 800000 expected 800000\n"
    snap = stats_lines(stats)[-1]
    workers = [t for t in snap["threads"] if t["name"] != "main"]
    assert len(workers) == 4
    assert all(t["acquisitions"] >= 1 for t in workers)


def test_sigusr1_snapshots(toyvm_bin, tmp_path):
    prog = tmp_path / "sig.tvm"
    prog.write_text("""
def work(n)
    while n > 0
        n -= 1
    end
end
a = spawn(work, arg(0))
b = spawn(work, arg(0))
print("ready")
join(a)
join(b)
""")
    stats = tmp_path / "sig.json"
    p = start_toyvm([f"--gil-stats={stats}", "--switch-interval=1000",
                     prog, 400_000_000])
    try:
        assert p.stdout.readline() == "ready\n"
        for _ in range(4):
            time.sleep(0.05)
            p.send_signal(signal.SIGUSR1)
        time.sleep(0.05)
    finally:
        p.kill()
        p.wait(timeout=10)
    snaps = stats_lines(stats)
    assert len(snaps) == 4
    assert all(s["reason"] == "sigusr1" for s in snaps)
    monos = [s["mono_ns"] for s in snaps]
    assert monos == sorted(monos) and len(set(monos)) == 4
    for before, after in zip(snaps, snaps[1:]):
        b, a = by_tid(before), by_tid(after)
        assert set(b) <= set(a)
        for tid in b:
            for k in COUNTERS:
                assert a[tid][k] >= b[tid][k], k
    last = by_tid(snaps[-1])
    assert len(last) == 3
    assert sum(t["forced_switches"] for t in last.values()) > 0
    # hold time never exceeds the thread's life so far
    assert all(t["hold_ns"] < monos[-1] for t in last.values())


def test_sigterm_writes_final_snapshot(toyvm_bin, toyvm_examples, tmp_path):
    stats, logf = tmp_path / "t.json", tmp_path / "t.log"
    p = start_toyvm([f"--gil-stats={stats}", "--gil-log", logf,
                     toyvm_examples / "spin.tvm"])
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 128 + signal.SIGTERM
    snaps = stats_lines(stats)
    assert [s["reason"] for s in snaps] == ["signal"]
    t = {t["name"]: t for t in snaps[0]["threads"]}
    assert t["spin"]["holding"] is True and t["spin"]["alive"] is True
    _, events = parse_log(logf)
    c = log_counters(events)
    for tid, s in by_tid(snaps[0]).items():
        for k in ("acquisitions", "busy", "forced_switches"):
            assert c[tid][k] == s[k]


def test_exited_threads_stay_in_snapshot(toyvm, tmp_path):
    prog = tmp_path / "ex.tvm"
    prog.write_text("def f()\n    return 1\nend\n"
                    "join(spawn(f))\njoin(spawn(f))\njoin(spawn(f))\n")
    r = toyvm(["--gil-stats", prog])
    assert r.returncode == 0, r.stderr
    snap = json.loads(r.stderr.splitlines()[-1])
    assert [t["name"] for t in snap["threads"]] == ["main", "t1", "t2", "t3"]
    for t in snap["threads"]:
        assert t["acquisitions"] >= 1 and t["alive"] is False


def test_hooks_are_nop5_then_ret(toyvm_bin):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(TOYVM)],
                         capture_output=True, text=True, check=True).stdout
    raw = subprocess.run(["objdump", "-d", str(TOYVM)], capture_output=True,
                         text=True, check=True).stdout
    assert out
    for hook in HOOKS:
        m = re.search(rf"^[0-9a-f]+ <{hook}>:\n(.*?)\n(.*?)\n", raw, re.M)
        assert m, f"{hook} not found"
        first = m.group(1).split("\t")
        second = m.group(2).split("\t")
        assert first[1].strip() == "0f 1f 44 00 00", (hook, first)
        assert second[1].strip() == "c3", (hook, second)
    syms = subprocess.run(["readelf", "-sW", str(TOYVM)], capture_output=True,
                          text=True, check=True).stdout
    for hook in HOOKS:
        assert re.search(rf"\s6 FUNC\s+GLOBAL\s+DEFAULT\s+\d+ {hook}$", syms,
                         re.M), hook
    m = re.search(r"^\s*\d+: ([0-9a-f]+)\s+(\d+) OBJECT\s+GLOBAL\s+DEFAULT\s+"
                  r"\d+ toyvm_gil$", syms, re.M)
    assert m, "toyvm_gil is not an exported object"
    assert int(m.group(1), 16) % 4096 == 0
    assert 0 < int(m.group(2)) <= 4096


def test_gil_log_is_bounded(toyvm, toyvm_examples, tmp_path):
    logf = tmp_path / "big.log"
    r = toyvm(["--gil=old", "--check-interval=1", "--gil-log", logf,
               toyvm_examples / "spin.tvm", 400_000])
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"toyvm: gil log truncated: kept (\d+) events, "
                     r"dropped (\d+)\n", r.stderr)
    assert m and int(m.group(2)) > 0
    header = logf.open().readline()
    assert f"events={m.group(1)} dropped={m.group(2)}" in header


def echo_run(toyvm_examples, tmp_path, design, spinners, nbytes):
    port = free_tcp_port()
    stats = tmp_path / f"convoy-{design}-{spinners}.json"
    logf = tmp_path / f"convoy-{design}-{spinners}.log"
    server = start_toyvm([f"--gil={design}", f"--gil-stats={stats}",
                          "--gil-log", logf,
                          toyvm_examples / "convoy.tvm", port, spinners])
    try:
        assert server.stdout.readline().startswith("listening")
        r = run_toyvm([toyvm_examples / "echo_client.tvm", port, nbytes],
                      timeout=60)
        assert r.returncode == 0, r.stderr
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode == 0, err
    m = re.fullmatch(r"echo_client bytes (\d+) messages (\d+) elapsed_us (\d+)\n",
                     r.stdout)
    assert m and int(m.group(1)) >= nbytes
    assert f"convoy echoed {m.group(1)} spinners {spinners}" in out
    snap = stats_lines(stats)[-1]
    _, events = parse_log(logf)
    check_protocol(events)
    return int(m.group(3)), {t["name"]: t for t in snap["threads"]}, events


def echo_waits(events):
    """The echo thread's waits: the events from BUSY to ACQUIRE."""
    waits, cur = [], None
    for e in events:
        if e[2] != "echo":
            continue
        if e[5] == "BUSY":
            cur = [e]
        elif cur is not None:
            cur.append(e)
            if e[5] == "ACQUIRE":
                waits.append(cur)
                cur = None
    return waits


def test_echo_server_and_client(toyvm_bin, toyvm_examples):
    port = free_tcp_port()
    server = start_toyvm([toyvm_examples / "echo_server.tvm", port, 1])
    try:
        assert server.stdout.readline() == f"listening {port}\n"
        r = run_toyvm([toyvm_examples / "echo_client.tvm", port, 100_000])
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("echo_client bytes 106496 messages 13 ")
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()


def test_convoy_effect_new_gil(toyvm_bin, toyvm_examples, tmp_path):
    """Beside a CPU-bound thread, every time the echo thread comes back from
    I/O and finds the GIL taken it waits out the whole 5 ms switch interval
    (time-out, drop request, forced switch of the spinner)."""
    alone, t0, _ = echo_run(toyvm_examples, tmp_path, "new", 0, 1_000_000)
    # alone, the echo thread can only meet the main thread (at its start)
    assert t0["echo"]["busy"] <= 1
    convoy, t, events = echo_run(toyvm_examples, tmp_path, "new", 1,
                                 2_000_000)
    echo = t["echo"]
    waits = echo_waits(events)
    assert len(waits) == echo["busy"] >= 1
    for w in waits:
        kinds = [e[5] for e in w]
        assert "TIMEOUT" in kinds and "DROP_REQUEST" in kinds, kinds
        assert w[-1][0] - w[0][0] >= 5_000_000
    assert echo["wait_ns"] >= 5_000_000 * echo["busy"]
    assert convoy >= 5_000 * echo["busy"]
    assert t["spin"]["forced_switches"] >= 1


def test_no_convoy_with_priorities(toyvm_bin, toyvm_examples, tmp_path):
    """Under prio the I/O-bound echo thread outranks the demoted spinner and
    preempts it at once: every wait starts with a drop request."""
    _, t, events = echo_run(toyvm_examples, tmp_path, "prio", 1, 1_000_000)
    assert len(echo_waits(events)) == t["echo"]["busy"]
    # The spinner starts at the top level like every thread and never
    # releases early, so its first forced release (asked by a thread of its
    # own level: a time-out) demotes it for good; the echo thread only
    # releases early and stays on top unless it is forced off itself. From
    # then on every echo wait for a GIL the spinner holds begins with a
    # drop request, with no time-out.
    holder, demoted, late = None, False, []
    for i, e in enumerate(events):
        name, ev = e[2], e[5]
        if ev == "ACQUIRE":
            holder = name
        elif ev in ("RELEASE", "FORCED_RELEASE"):
            holder = None
            if name == "spin" and ev == "FORCED_RELEASE":
                demoted = True
            if name == "echo" and ev == "FORCED_RELEASE":
                break
        if name == "echo" and ev == "BUSY" and holder == "spin" and demoted:
            nxt = next(x for x in events[i + 1:] if x[2] == "echo")
            late.append(nxt[5])
    assert all(x == "DROP_REQUEST" for x in late), late
