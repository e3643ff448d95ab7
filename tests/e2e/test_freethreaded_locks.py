"""Free-threaded CPython's locks (root; skips where python3.13t is not
built: /work/flake/build_ft.sh or tools/ builds it into
/var/cache/giltrace/cpython/3.13.0rc2t).

Each workload (tests/e2e/py/ft_locks.py) is traced with -p between its
quiet edges, so the trace holds the work alone, and has a known answer:
threads updating one shared dict contend for that dict's lock, which
giltrace names as a dict, and only the workers wait on it; threads with a
dict each contend for nothing; a gc.collect() loop stops the world twice
per collection (Python/gc_free_threading.c: gc_collect_internal), so the
collector's pauses equal twice the collections gc.callbacks counted.
"""
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import ft_cpython
from gilwork import GILTRACE

PY = Path(__file__).resolve().parent / "py"
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "summary.schema.json"
FT = None  # python3.13t, set by the fixture below

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for BPF"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason=f"{GILTRACE} not built"),
]


@pytest.fixture(autouse=True, scope="module")
def _ft_python():
    """Built (or skipped, with the reason) at the first test, not at import:
    collection would otherwise skip these before test_trace_freethreaded
    builds it."""
    global FT
    FT = ft_cpython()[0]


def trace(mode, threads, n, *args, env=None):
    """(giltrace's output, the workload's answer lines) for one workload."""
    w = subprocess.Popen([str(FT), str(PY / "ft_locks.py"), mode, str(threads), str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    gt = None
    try:
        assert w.stderr.readline().strip() == "ready"
        gt = subprocess.Popen([GILTRACE, *args, "-p", str(w.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = gt.stderr.readline()
        # The free-threaded GIL row's default mode; the lock probes go beside it.
        if not ("tracing PID" in line and "cond mode" in line):
            gt.kill()
            raise AssertionError(line + gt.communicate(timeout=60)[1])
        w.stdin.write("go\n")
        w.stdin.flush()
        assert w.stderr.readline().strip() == "done"
        gt.send_signal(signal.SIGINT)
        out, err = gt.communicate(timeout=60)
        assert gt.returncode == 0, err
        w.stdin.write("end\n")
        w.stdin.flush()
        answer = w.stdout.read()
        assert w.wait(timeout=30) == 0
    finally:
        for p in (gt, w):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    lines = dict(line.split(" ", 1) for line in answer.splitlines())
    workers = {int(t) for t in lines["workers"].split()}
    return out, workers, lines


def shared_dict(n):
    """python -c text: 4 threads each doing n updates of one shared dict."""
    return ("import threading\n"
            "d = {}\n"
            "def f(k):\n"
            f"    for i in range({n}): d[k + i % 8] = i\n"
            "ts = [threading.Thread(target=f, args=(t * 100,)) for t in range(4)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n")


def validate(summary):
    """Against docs/summary.schema.json, where python3-jsonschema is."""
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(summary)


def test_shared_dict_contends_on_its_lock_named_dict():
    out, workers, _ = trace("shared", 4, 1_000_000, "--json")
    s = json.loads(out)
    validate(s)
    locks = s["locks"]
    dicts = [l for l in locks["locks"] if l["owner"] == "dict"]
    print({k: v for k, v in locks.items() if k != "locks"})
    assert dicts, "no dict's lock was contended: " + json.dumps(locks)[:2000]
    hot = locks["locks"][0]
    assert hot["owner"] == "dict", hot
    waiters = {t["tid"] for t in hot["threads"]}
    assert waiters <= workers and len(waiters) >= 2, (waiters, workers)
    assert hot["contended_acquisitions"] == sum(t["waits"] for t in hot["threads"]) > 0
    assert hot["wait_ns"] == sum(t["wait_ns"] for t in hot["threads"])
    assert hot["slow_sections"] >= hot["contended_acquisitions"]
    assert s["target"]["mode"] == "cond"
    # Its GIL, traced too, was never on: nothing waited for it.
    [ft] = s["free_threaded"]
    assert ft["gil"] == "off", ft
    assert s["totals"]["busy"] == 0
    # The diagnosis follows its documented thresholds (docs/diagnoses.md).
    hot_diag = [d for d in s["diagnoses"] if d["kind"] == "hot-lock"]
    fires = hot["wait_ns"] >= 0.05 * s["duration_ns"] and hot["contended_acquisitions"] >= 10
    assert bool(hot_diag) == fires, (hot_diag, hot["wait_ns"], s["duration_ns"])
    if hot_diag:
        assert hot_diag[0]["lock"] == hot["addr"]
        assert "on a dict's lock" in hot_diag[0]["message"]


def test_text_summary_names_the_dict():
    out, _, _ = trace("shared", 4, 1_000_000)
    assert "locks (free-threaded):" in out, out
    rows = [l for l in out.splitlines() if l.strip().startswith(tuple("0123456789"))
            and " 0x" in l]
    assert rows and " dict " in rows[0], out
    # The GIL is off: said, and no GIL table.
    assert "GIL off: a free-threaded CPython whose GIL was never enabled" in out, out
    assert "ACQUIRE" not in out


def test_own_dicts_contend_for_nothing():
    out, workers, _ = trace("own", 4, 1_000_000, "--json")
    locks = json.loads(out)["locks"]
    print({k: v for k, v in locks.items() if k != "locks"})
    assert not [l for l in locks["locks"] if l["owner"] == "dict"], locks
    waited = {t["tid"] for l in locks["locks"] for t in l["threads"]}
    assert not waited & workers, locks
    assert not [d for d in json.loads(out)["diagnoses"] if d["kind"] == "hot-lock"]


@pytest.mark.parametrize("gil", ["off", "on"])
def test_gc_loop_pauses_equal_twice_the_collections(gil):
    """With PYTHON_GIL=1 the GIL is traced as well (its own row, cond
    mode) and the lock probes go beside it: both are exact at once."""
    env = dict(os.environ, PYTHON_GIL="1") if gil == "on" else None
    out, _, lines = trace("gc", 2, 200, "--json", env=env)
    s = json.loads(out)
    validate(s)
    [ft] = s["free_threaded"]
    if gil == "on":
        assert ft["gil"] == "on_from_start", ft
        check = s["handoff_check"]
        assert check["processes_checked"] == 1
        assert check["seen"] == check["interpreter"] > 0, check
    else:
        assert ft["gil"] == "off", ft
    stw = s["locks"]["stop_the_world"]
    collections = int(lines["collections"])
    print(stw, collections)
    assert collections >= 200
    assert len(stw) == 1
    p = stw[0]
    assert p["gc_pauses"] == 2 * collections
    assert p["pauses"] >= p["gc_pauses"]
    assert p["in_progress"] == 0 and p["unpaired"] == 0
    assert p["pause_ns"] >= p["gc_pause_ns"] > 0


def test_capture_replays_the_same_locks(tmp_path):
    """record, then report: the same figures from the capture (format
    version 3), the dict named from its LOCK_TYPE records."""
    cap = tmp_path / "ft.gtr"
    w = subprocess.run([GILTRACE, "record", "-o", str(cap), "--json", "--", str(FT),
                        "-c", shared_dict(300000)],
                       capture_output=True, text=True, timeout=120)
    assert w.returncode == 0, w.stderr
    assert cap.read_bytes()[8] == 3
    rep = subprocess.run([GILTRACE, "report", "--json", str(cap)], capture_output=True,
                         text=True, timeout=60)
    assert rep.returncode == 0, rep.stderr
    live, again = json.loads(w.stdout), json.loads(rep.stdout)
    assert live["locks"] == again["locks"]


def test_top_lists_the_hottest_locks():
    """top's plain lines (stdout not a terminal): the dict's lock among the
    lock lines, named."""
    p = subprocess.run([GILTRACE, "top", "--", str(FT), "-c",
                        shared_dict(1500000)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    locks = [line for line in p.stdout.splitlines() if line.startswith("  lock ")]
    assert any(" owner=dict " in line for line in locks), p.stdout[-3000:]


def test_stripped_build_says_what_it_misses(tmp_path):
    """Stripped, the build keeps its exported slow paths (PyMutex_Lock,
    the critical sections' BeginSlow, _PySemaphore_Wait) but loses the
    hidden _PyMutex_LockTimed and the static stop_the_world: the dict is
    still named, and what is not traced is said at attach and in the
    summary's note, not shown as zero."""
    exe = tmp_path / "bin" / "python3.13t"
    exe.parent.mkdir()
    exe.write_bytes(FT.read_bytes())
    exe.chmod(0o755)
    subprocess.run(["strip", "--strip-all", str(exe)], check=True)
    env = dict(os.environ, PYTHONHOME=str(FT.parents[1]))
    p = subprocess.run([GILTRACE, "--json", "--", str(exe), "-c",
                        shared_dict(1500000)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    assert ("PyMutex_LockFlags' slow path not traced (no symbol _PyMutex_LockTimed); "
            "stop-the-world pauses not traced (no symbol stop_the_world)") in p.stderr
    s = json.loads(p.stdout)
    validate(s)
    assert s["target"]["note"].endswith(
        "not traced: PyMutex_LockFlags' slow path, stop-the-world pauses")
    assert s["locks"]["stop_the_world"] == []
    assert any(l["owner"] == "dict" and l["contended_acquisitions"] > 0
               for l in s["locks"]["locks"]), s["locks"]
