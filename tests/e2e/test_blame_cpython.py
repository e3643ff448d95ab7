"""giltrace blame on real CPython (root; skips where an interpreter is absent).

tests/e2e/py/blame_hog.py runs one or two pure-Python hogs (one-line loops)
beside three I/O threads and a thread blocked on a lock. For Debian's
python3 (futex mode) and every pyenv 3.9-3.13 present (full mode), the
folded stacks of `giltrace blame -p PID` must put the hogs' function, file
and loop line at the top with at least 90% of the caused wait; the blocked
thread and the main thread, which never hold the GIL while traced, must not
appear in any stack; a second, untraced copy of the workload must not
appear either; and a capture made with `record --blame` must give the same
answer through `report --blame`.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import pyenv_python, pyenv_root

ROOT = Path(__file__).resolve().parents[2]
GILTRACE = os.environ.get("GILTRACE", str(ROOT / "build" / "giltrace"))
HOG = Path(__file__).resolve().parent / "py" / "blame_hog.py"
VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
TRACE_S = "2"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for BPF"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason=f"{GILTRACE} not built"),
]


def interpreters():
    """(id, path or None, why absent) for Debian's python3 and each pyenv 3.x."""
    out = []
    deb = Path("/usr/bin/python3")
    out.append(("debian", deb if deb.exists() else None, "/usr/bin/python3 absent"))
    root = pyenv_root()
    for v in VERSIONS:
        exe = pyenv_python(v)
        out.append(("pyenv-" + v, exe, f"no pyenv {v} under {root}" if root else "no pyenv"))
    return out


INTERPRETERS = interpreters()


def marker_line(script, marker):
    for i, line in enumerate(Path(script).read_text().splitlines(), 1):
        if line.rstrip().endswith("# " + marker):
            return i
    raise AssertionError(f"{marker} not in {script}")


class Workload:
    """blame_hog.py running until it has printed "ready"."""

    def __init__(self, exe, hogs, script=HOG, seconds=12):
        self.script = str(script)
        self.proc = subprocess.Popen([str(exe), self.script, str(hogs), str(seconds)],
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        assert line.strip() == "ready", f"workload did not start: {line!r}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


FRAME = re.compile(r"^(.*) \((.*?)(?::(\d+))?\)$")


def parse_folded(text):
    """[(frames root first as (name, file, line)), count]"""
    stacks = []
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = []
        for f in stack.split(";"):
            m = FRAME.match(f)
            frames.append((m.group(1), m.group(2), int(m.group(3) or 0)) if m else (f, "", 0))
        stacks.append((frames, int(count)))
    return stacks


def leaf_shares(stacks):
    """{(name, file, line) of the innermost frame: share of the weight}"""
    total = sum(c for _, c in stacks)
    assert total > 0, "no caused wait at all"
    shares = {}
    for frames, c in stacks:
        shares[frames[-1]] = shares.get(frames[-1], 0) + c / total
    return shares


def blame_folded(pid, *extra):
    r = subprocess.run([GILTRACE, "blame", "-d", TRACE_S, "-p", str(pid), "--folded", "-",
                        *extra], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return parse_folded(r.stdout)


def check_hogs(stacks, script, hogs):
    shares = leaf_shares(stacks)
    want = [("hog_one", script, marker_line(script, "HOG_ONE")),
            ("hog_two", script, marker_line(script, "HOG_TWO"))][:hogs]
    got = sum(shares.get(w, 0) for w in want)
    top = sorted(shares.items(), key=lambda kv: -kv[1])[:hogs]
    assert {k for k, _ in top} == set(want), f"top stacks {top}, want {want}"
    assert got >= 0.90, f"hogs hold {got:.1%} of the caused wait: {top}"
    if hogs == 2:
        # Both hogs are blamed. Not evenly: the GIL is not fair, and with
        # three I/O threads taking it between them one hog can get it back
        # most of the time (9.1% for the other in one fresh-clone run).
        for w in want:
            assert shares[w] >= 0.05, f"{w} only {shares[w]:.1%}: the hogs alternate"
    # Threads that never hold the GIL while traced: never a holder.
    for frames, _ in stacks:
        for name, file, _ in frames:
            assert name != "sleeper_never_holds", frames
            assert not (name == "main" and file == script), frames


@pytest.mark.parametrize("hogs", [1, 2], ids=["one-hog", "two-hogs"])
@pytest.mark.parametrize("name,exe,why", INTERPRETERS, ids=[i[0] for i in INTERPRETERS])
def test_hog_on_top(name, exe, why, hogs):
    if exe is None:
        pytest.skip(why)
    w = Workload(exe, hogs)
    try:
        stacks = blame_folded(w.proc.pid)
    finally:
        w.stop()
    check_hogs(stacks, w.script, hogs)


def first_interpreter():
    for _, exe, _ in INTERPRETERS:
        if exe is not None:
            return exe
    pytest.skip("no CPython found")


def test_untraced_process_never_appears(tmp_path):
    exe = first_interpreter()
    other = tmp_path / "blame_untraced.py"
    shutil.copy(HOG, other)
    traced, untraced = Workload(exe, 1), Workload(exe, 2, script=other)
    try:
        stacks = blame_folded(traced.proc.pid)
    finally:
        traced.stop()
        untraced.stop()
    check_hogs(stacks, traced.script, 1)
    for frames, _ in stacks:
        assert all(file != str(other) for _, file, _ in frames), frames


def test_record_then_report(tmp_path):
    exe = first_interpreter()
    cap = tmp_path / "blame.gil"
    w = Workload(exe, 2)
    try:
        r = subprocess.run([GILTRACE, "record", "--blame", "-o", str(cap), "-d", TRACE_S, "-p",
                            str(w.proc.pid)], capture_output=True, text=True, timeout=60)
    finally:
        w.stop()
    assert r.returncode == 0, r.stderr
    assert cap.read_bytes()[8] == 3, "a blame capture is format version 3"
    r = subprocess.run([GILTRACE, "report", "--blame", "--folded", "-", str(cap)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    check_hogs(parse_folded(r.stdout), w.script, 2)
    # The text report names the hog with its file and line at the top.
    r = subprocess.run([GILTRACE, "report", "--blame", "--top", "2", str(cap)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    first = r.stdout.split("#1 ", 1)[1].splitlines()[1].strip()
    assert re.fullmatch(r"hog_(one|two) \(.*blame_hog\.py:\d+\)", first), r.stdout
    # The plain summary still reads a version-2 capture.
    r = subprocess.run([GILTRACE, "report", str(cap)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr


def test_blame_off_records_version_1(tmp_path):
    exe = first_interpreter()
    cap = tmp_path / "plain.gil"
    w = Workload(exe, 1)
    try:
        r = subprocess.run([GILTRACE, "record", "-o", str(cap), "-d", "1", "-p",
                            str(w.proc.pid)], capture_output=True, text=True, timeout=60)
    finally:
        w.stop()
    assert r.returncode == 0, r.stderr
    # Version 3 all the same: every CPython trace names its forced holder with
    # HOLDER_FRAME events and one-frame stack records (docs/capture-format.md).
    assert cap.read_bytes()[8] == 3
    r = subprocess.run([GILTRACE, "report", "--blame", str(cap)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "no holder stacks" in r.stdout
