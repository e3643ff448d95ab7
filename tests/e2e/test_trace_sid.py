"""Debian sid's CPython 3.13, 3.14 and 3.15 in a chroot (root; built once by
tools/sid-chroot, skipped with its reason when it cannot be).

These are the stripped, non-PIE builds users run, in another mount
namespace: giltrace must read their layout from their own _Py_DebugOffsets,
open their files and their glibc through /proc, and trace them exactly by
-p. The truth is read here, independently of giltrace: gil->switch_number
from /proc/PID/mem at the workload's quiet edges (tests/e2e/py/
quiet_edges.py), found through the debug offsets as CPython's headers lay
them out. A layout made wrong on purpose must be refused by name.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
from pathlib import Path

import pytest

from gilwork import GILTRACE
from test_blame_cpython import leaf_shares, marker_line, parse_folded

ROOT = Path(__file__).resolve().parents[2]
PY = Path(__file__).resolve().parent / "py"
VERSIONS = ["3.13", "3.14", "3.15"]
INSIDE = "/tmp/giltrace-e2e"  # the workloads' directory, as the chroot sees it

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for BPF and chroot"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason=f"{GILTRACE} not built"),
]

# Positions in _Py_DebugOffsets (at &_PyRuntime) of sizeof(_PyRuntimeState),
# sizeof(PyInterpreterState), interp->ceval.gil and interp->_gil:
# Include/internal/pycore_runtime.h (3.13), pycore_debug_offsets.h (3.14+),
# as Debian's libpython3.X-dev installs them.
DEBUG_AT = {"3.13": (24, 48, 112, 120), "3.14": (24, 48, 120, 128),
            "3.15": (24, 48, 120, 128)}
SWITCH_NUMBER = 24  # struct _gil_runtime_state, Include/internal/pycore_gil.h


@pytest.fixture(scope="module")
def sid():
    """The chroot's directory, with the workloads copied in; the script
    says why when it cannot build one (no debootstrap, no network)."""
    r = subprocess.run([str(ROOT / "tools" / "sid-chroot")], capture_output=True, text=True,
                       timeout=900)
    if r.returncode:
        pytest.skip(f"tools/sid-chroot failed: {r.stderr.strip()[-300:]}")
    root = Path(r.stdout.strip().splitlines()[-1])
    dest = root / INSIDE.lstrip("/")
    dest.mkdir(parents=True, exist_ok=True)
    for f in PY.glob("*.py"):
        shutil.copy(f, dest / f.name)
    return root


def interpreter(root, ver):
    exe = root / "usr" / "bin" / f"python{ver}"
    if not exe.exists():
        pytest.skip(f"sid offers no python{ver} (tools/sid-chroot says which)")
    return exe


def runtime_address(exe):
    """&_PyRuntime: its dynamic symbol in a non-PIE executable."""
    r = subprocess.run(["readelf", "-hW", "--dyn-syms", str(exe)], capture_output=True,
                       text=True, check=True)
    assert re.search(r"Type:\s+EXEC", r.stdout), "expected a non-PIE executable"
    m = re.search(r"^\s*\d+: ([0-9a-f]+)\s+\S+ OBJECT\s+GLOBAL\s+DEFAULT\s+\d+ _PyRuntime$",
                  r.stdout, re.M)
    assert m, "no _PyRuntime in the dynamic symbols"
    return int(m.group(1), 16)


def switch_number(pid, runtime, ver):
    """The main interpreter's gil->switch_number, read from PID's memory."""
    rsize_at, isize_at, ceval_at, gil_at = DEBUG_AT[ver]
    with open(f"/proc/{pid}/mem", "rb") as mem:
        def u64(addr):
            mem.seek(addr)
            return struct.unpack("<Q", mem.read(8))[0]
        mem.seek(runtime)
        assert mem.read(8) == b"xdebugpy"
        version = u64(runtime + 8)
        assert (version >> 24, version >> 16 & 0xff) == tuple(map(int, ver.split(".")))
        main = runtime + u64(runtime + rsize_at) - u64(runtime + isize_at)
        gil = main + u64(runtime + gil_at)
        assert u64(main + u64(runtime + ceval_at)) == gil, "main interpreter not found"
        return u64(gil + SWITCH_NUMBER)


class QuietEdges:
    """quiet_edges.py in the chroot, stopped at its first edge."""

    def __init__(self, root, ver, work, n):
        self.proc = subprocess.Popen(["chroot", str(root), f"python{ver}",
                                      f"{INSIDE}/quiet_edges.py", work, str(n)],
                                     stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr.readline().strip() == "ready"

    def step(self, want):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        if want:
            assert self.proc.stderr.readline().strip() == want

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.mark.parametrize("ver", VERSIONS)
def test_convoy_exact(sid, ver):
    """The pinned convoy (every echo waits out a switch interval) traced by
    -p in the default mode: every hand-off seen, as many as the
    interpreter's own count moved, and the convoy diagnosed."""
    if os.cpu_count() < 2:
        pytest.skip("needs 2 CPUs")
    exe = interpreter(sid, ver)
    runtime = runtime_address(exe)
    q = QuietEdges(sid, ver, "pinned-convoy", 300)
    gt = None
    try:
        before = switch_number(q.proc.pid, runtime, ver)
        gt = subprocess.Popen([GILTRACE, "--json", "-p", str(q.proc.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = gt.stderr.readline()
        assert "tracing PID" in line and f"cpython {ver}." in line, line + gt.stderr.read()
        q.step("done")
        truth = switch_number(q.proc.pid, runtime, ver) - before
        gt.send_signal(signal.SIGINT)
        out, err = gt.communicate(timeout=30)
        assert gt.returncode == 0, err
        q.step(None)
        assert q.proc.wait(timeout=30) == 0
    finally:
        if gt and gt.poll() is None:
            gt.kill()
        q.kill()
    s = json.loads(out)
    check = s["handoff_check"]
    echo = max(s["threads"], key=lambda t: t["timeouts"])
    print(f"{ver}: {line.strip()}; switch_number moved {truth}, giltrace saw "
          f"{check['seen']} (interpreter {check['interpreter']}); echo thread "
          f"{echo['timeouts']} time-outs, {echo['forced_switches']} forced, "
          f"wait p50 {echo['wait_p50_ns']} ns")
    assert truth > 200, "no convoy: test is void"
    assert s["target"]["mode"] == "cond"
    assert check["interpreter"] == truth
    assert check["seen"] == truth and check["not_seen"] == 0 and check["extra"] == 0
    assert s["totals"]["switches"] == truth
    assert s["drops"] == 0
    convoy = [d for d in s["diagnoses"] if d["kind"] == "convoy"]
    assert convoy and convoy[0]["tid"] == echo["tid"], s["diagnoses"]
    assert 4_000_000 < convoy[0]["wait_after_io_ns"] < 8_000_000


@pytest.mark.parametrize("ver", VERSIONS)
def test_blame_names_the_hog(sid, ver):
    """giltrace blame reads 3.13-3.15 frames with the debug offsets' layout:
    the hog's function, file and loop line hold the caused wait."""
    interpreter(sid, ver)
    script = f"{INSIDE}/blame_hog.py"
    w = subprocess.Popen(["chroot", str(sid), f"python{ver}", script, "1", "12"],
                         stderr=subprocess.PIPE, text=True)
    try:
        assert w.stderr.readline().strip() == "ready"
        r = subprocess.run([GILTRACE, "blame", "-d", "2", "-p", str(w.pid), "--folded", "-"],
                           capture_output=True, text=True, timeout=60)
    finally:
        w.kill()
        w.wait()
    assert r.returncode == 0, r.stderr
    shares = leaf_shares(parse_folded(r.stdout))
    hog = ("hog_one", script, marker_line(PY / "blame_hog.py", "HOG_ONE"))
    top = sorted(shares.items(), key=lambda kv: -kv[1])[:3]
    print(f"{ver}: top stacks {top}")
    assert shares.get(hog, 0) >= 0.90, top


def test_wrong_layout_refused(sid):
    """A layout made wrong on purpose (the GIL 8 bytes off) is refused with
    the check that failed, before any probe, and exit status 1."""
    exe = interpreter(sid, "3.14")
    q = QuietEdges(sid, "3.14", "cpu", 1000)
    try:
        r = subprocess.run([GILTRACE, "-d", "1", "-p", str(q.proc.pid)], capture_output=True,
                           text=True, timeout=60,
                           env={**os.environ, "GILTRACE_TEST_LAYOUT_SKEW": "8"})
    finally:
        q.kill()
    print(r.stderr.strip())
    assert exe.exists()
    assert r.returncode == 1
    assert re.fullmatch(r"giltrace: cannot trace PID \d+ \(python3\.14\): layout check "
                        r"'ceval\.gil' failed: .*\n", r.stderr), r.stderr


def newer_copy(root, exe, name, version_hex):
    """A copy of exe named name whose _Py_DebugOffsets carry version_hex
    (None: unchanged), standing for a CPython newer than giltrace."""
    data = bytearray(exe.read_bytes())
    if version_hex is not None:
        r = subprocess.run(["readelf", "-SW", str(exe)], capture_output=True, text=True,
                           check=True)
        m = re.search(r"\.PyRuntime\s+PROGBITS\s+[0-9a-f]+ ([0-9a-f]+)", r.stdout)
        at = int(m.group(1), 16)
        assert data[at:at + 8] == b"xdebugpy"
        data[at + 8:at + 16] = struct.pack("<Q", version_hex)
    copy = root / "usr" / "bin" / name
    copy.write_bytes(bytes(data))
    copy.chmod(0o755)
    return copy


@pytest.mark.parametrize("patched", [True, False], ids=["agrees", "disagrees"])
def test_newer_minor_version(sid, patched):
    """3.15's build named python3.16: traced with a one-line warning when its
    debug offsets say 3.16 and every check passes; refused when they say
    3.15, since the file and its debug offsets disagree."""
    exe = interpreter(sid, "3.15")
    copy = newer_copy(sid, exe, "python3.16", 0x031000f0 if patched else None)
    py = subprocess.Popen(["chroot", str(sid), "python3.16", f"{INSIDE}/quiet_edges.py", "cpu",
                           "1000"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert py.stderr.readline().strip() == "ready"
        r = subprocess.run([GILTRACE, "-d", "1", "-p", str(py.pid)], capture_output=True,
                           text=True, timeout=60)
    finally:
        py.kill()
        py.wait()
        copy.unlink()
    print(r.stderr.strip())
    if patched:
        assert r.returncode == 0, r.stderr
        assert re.search(r"^giltrace: warning: PID \d+: CPython 3\.16 is newer than any "
                         r"giltrace was tested with: ", r.stderr, re.M), r.stderr
        assert "hand-offs: 0, equal to the interpreter's own count" in r.stdout
    else:
        assert r.returncode == 1
        assert "layout check 'version' failed: the file is named for 3.16, its " \
               "_Py_DebugOffsets say 3.15" in r.stderr, r.stderr


def test_wrong_layout_of_a_command_stops_its_trace():
    """A command giltrace starts is planned before its interpreter exists,
    so its layout is checked at the first reading after Py_Initialize: a
    wrong one (pyenv's 3.13, the GIL 8 bytes off) stops the trace with the
    check's name and exit status 1."""
    from conftest import pyenv_python
    exe = pyenv_python("3.13")
    if not exe:
        pytest.skip("no pyenv CPython 3.13")
    r = subprocess.run([GILTRACE, "--", str(exe), str(PY / "countdown.py"), "20000000"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "GILTRACE_TEST_LAYOUT_SKEW": "8"})
    print(r.stderr.strip())
    assert r.returncode == 1
    assert re.search(r"^giltrace: PID \d+: layout check 'ceval\.gil' failed: .*; tracing of "
                     r"it stopped$", r.stderr, re.M), r.stderr


@pytest.mark.parametrize("ver", VERSIONS)
def test_command_through_chroot(sid, ver):
    """`giltrace -- chroot DIR pythonX.Y app.py`: followed through chroot to
    the interpreter, named, and traced exactly (the self-check: hand-offs
    seen == the interpreter's own count between its readings)."""
    interpreter(sid, ver)
    r = subprocess.run([GILTRACE, "--json", "--", "chroot", str(sid), f"python{ver}",
                        f"{INSIDE}/countdown.py", "3000000"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"tracing PID \d+ \(\S*/usr/bin/python{ver}, cpython {ver}[.\d]*, cond mode\), "
                     rf"started by `chroot ", r.stderr), r.stderr
    s = json.loads(r.stdout[r.stdout.index("{"):])
    check = s["handoff_check"]
    assert check["interpreter"] > 0 and check["seen"] == check["interpreter"], check
    assert len([t for t in s["threads"] if t["acquisitions"]]) >= 2
