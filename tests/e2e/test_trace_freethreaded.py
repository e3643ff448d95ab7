"""Free-threaded CPython 3.13t (root; built once by tools/ft-cpython,
skipped with its reason when it is not built and not asked for:
`make test-e2e` asks, GILTRACE_FT_BUILD=1).

Its GIL is off until it comes back: PYTHON_GIL=1 turns it on from the
start, importing an extension that does not declare Py_mod_gil turns it on
at run time. giltrace traces it from then on as on a GIL build (hand-offs
equal to the interpreter's own switch_number), says when it came back and
which import did it, and never calls a GIL that is off healthy. The same
source built with the GIL is the control.
"""
import csv
import io
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ft_cpython
from gilwork import GILTRACE

ROOT = Path(__file__).resolve().parents[2]
PY = Path(__file__).resolve().parent / "py"
WORK = PY / "ft_gil.py"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for BPF"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason=f"{GILTRACE} not built"),
]

LEGACY_C = """#include <Python.h>
static PyModuleDef mod = {PyModuleDef_HEAD_INIT, "legacy", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_legacy(void) { return PyModule_Create(&mod); }
"""


@pytest.fixture(scope="module")
def pythons():
    """(python3.13t, python3.13)."""
    return ft_cpython()


@pytest.fixture(scope="module")
def legacy(pythons, tmp_path_factory):
    """The README's five-line extension without Py_mod_gil, built for 3.13t."""
    d = tmp_path_factory.mktemp("legacy")
    (d / "legacy.c").write_text(LEGACY_C)
    config = str(pythons[0]) + "-config"
    inc = subprocess.run([config, "--includes"], capture_output=True, text=True,
                         check=True).stdout.split()
    suffix = subprocess.run([config, "--extension-suffix"], capture_output=True, text=True,
                            check=True).stdout.strip()
    subprocess.run(["gcc", "-shared", "-fPIC", *inc, str(d / "legacy.c"), "-o",
                    str(d / ("legacy" + suffix))], check=True, timeout=120)
    return d


def trace(python, mode, secs, *args, env=None):
    """giltrace ARGS -- python ft_gil.py MODE SECS: (completed, its stderr lines)."""
    r = subprocess.run([GILTRACE, *args, "--", str(python), str(WORK), mode, str(secs)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **(env or {})))
    print(r.stderr)
    assert r.returncode == 0, r.stderr
    return r


SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text())


def valid(s):
    """s against docs/summary.schema.json, where python3-jsonschema is."""
    try:
        import jsonschema
    except ImportError:
        return s
    jsonschema.Draft202012Validator(SCHEMA).validate(s)
    return s


def exact_check(s):
    """The self-check's exact verdict: every hand-off the interpreter
    counted was seen, none more."""
    check = s["handoff_check"]
    assert check["processes_checked"] == 1
    assert check["not_seen"] == 0 and check["extra"] == 0 and check["at_edges"] == 0, check
    assert check["seen"] == check["interpreter"]
    return check


def test_python_gil_1_traced_exactly(pythons):
    """PYTHON_GIL=1: a GIL from the start, no refusal; hand-offs equal to
    the GIL state's switch_number; said to be on from the start."""
    r = trace(pythons[0], "spin", 2, "--json", env={"PYTHON_GIL": "1"})
    s = valid(json.loads(r.stdout))
    assert "nothing to trace" not in r.stderr
    assert s["target"]["version"] == "3.13.0rc2t"
    check = exact_check(s)
    assert check["interpreter"] > 20, "no contention: test is void"
    assert s["totals"]["busy"] > 0 and s["totals"]["forced_switches"] > 0
    [ft] = s["free_threaded"]
    assert ft["gil"] == "on_from_start", ft
    assert "GIL on from the start" in ft["message"]
    assert "enabled_ts_ns" not in ft


def test_legacy_import_brings_the_gil_back(pythons, legacy, tmp_path):
    """GIL off, then `import legacy` half-way: no wait before the import,
    waits after; the re-enable stamped inside the import's window as the
    script measured it, by the importing thread, the module named; every
    hand-off after it seen."""
    cap = tmp_path / "ft.gtr"
    r = trace(pythons[0], "import", 3, "record", "-o", str(cap),
              env={"PYTHONPATH": str(legacy)})
    m = re.search(r"import before=(\d+) after=(\d+) gil=True", r.stderr)
    assert m, r.stderr
    before, after = int(m[1]), int(m[2])
    s = valid(json.loads(subprocess.run([GILTRACE, "report", "--json", str(cap)],
                                        capture_output=True, text=True, check=True).stdout))
    [ft] = s["free_threaded"]
    assert ft["gil"] == "re_enabled" and ft["enabled_exact"] is True, ft
    assert ft["module"] == "legacy" and ft["module_cut"] is False
    assert before <= ft["enabled_ts_ns"] <= after, (before, ft["enabled_ts_ns"], after)
    assert ft["enabled_tid"] == s["target"]["pid"]  # the main thread imported it
    assert "by import of legacy (not marked free-threading safe)" in ft["message"]
    check = exact_check(s)
    assert check["interpreter"] > 20, "no contention after the import: test is void"
    rows = list(csv.DictReader(io.StringIO(subprocess.run(
        [GILTRACE, "export", "--format=csv", str(cap)], capture_output=True, text=True,
        check=True).stdout)))
    waits = [int(e["ts_ns"]) for e in rows if e["kind"] == "wait"]
    assert not [t for t in waits if t < before], "a wait for a GIL that was off"
    assert len([t for t in waits if t > after]) > 20
    text = subprocess.run([GILTRACE, "report", str(cap)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^GIL re-enabled at \d+\.\d\d s by import of legacy \(not marked "
                     r"free-threading safe\), in thread \d+$", text, re.M), text


def test_gil_off_claims_no_contention(pythons, tmp_path):
    """No import, no PYTHON_GIL: the GIL stays off; the summary says so and
    diagnoses nothing, no wait is counted, and the JSON says "off"."""
    cap = tmp_path / "off.gtr"
    r = trace(pythons[0], "spin", 2, "record", "-o", str(cap))
    assert "end gil=False" in r.stderr
    s = valid(json.loads(subprocess.run([GILTRACE, "report", "--json", str(cap)],
                                        capture_output=True, text=True, check=True).stdout))
    [ft] = s["free_threaded"]
    assert ft["gil"] == "off", ft
    assert s["totals"]["busy"] == 0 and s["totals"]["forced_switches"] == 0
    assert s["diagnoses"] == [] and "verdict" not in s
    text = subprocess.run([GILTRACE, "report", str(cap)], capture_output=True, text=True,
                          check=True).stdout
    assert "GIL off: a free-threaded CPython whose GIL was never enabled" in text
    assert "diagnoses: none: the GIL is off, nothing contends for it" in text
    assert "not your problem" not in text


def test_gil_build_control(pythons):
    """The same source built with the GIL: traced as before, exactly, with
    no free-threaded line."""
    r = trace(pythons[1], "spin", 2, "--json")
    s = valid(json.loads(r.stdout))
    assert s["target"]["version"] == "3.13.0rc2" and s["target"]["mode"] == "cond"
    check = exact_check(s)
    assert check["interpreter"] > 20, "no contention: test is void"
    assert "free_threaded" not in s


def test_top_says_off_then_back(pythons, legacy):
    """top's plain lines: the GIL off in the intervals before the import,
    re-enabled by legacy in those after, never the other way round."""
    r = subprocess.run([GILTRACE, "top", "-i", "0.5", "--", str(pythons[0]), str(WORK),
                        "import", "3"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(legacy)))
    assert r.returncode == 0, r.stderr
    said = [("off" if "GIL off" in l else "back") for l in r.stdout.splitlines()
            if l.startswith("  GIL off") or
            re.match(r"  GIL re-enabled at \d+\.\d\d s by import of legacy ", l)]
    print(said)
    assert said[0] == "off" and said[-1] == "back", r.stdout
    assert said == sorted(said, key=lambda s: s == "back")


def test_wrong_layout_refused(pythons):
    """The free-threaded row passes the same live layout checks as every
    3.13+: its GIL made 8 bytes wrong on purpose is refused by name (-p)."""
    py = subprocess.Popen([str(pythons[0]), str(WORK), "spin", "30"],
                          stderr=subprocess.DEVNULL)
    try:
        # Its spinners running: the interpreter has started, so -p checks it now.
        deadline = time.monotonic() + 60
        while len(os.listdir(f"/proc/{py.pid}/task")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = subprocess.run([GILTRACE, "-d", "1", "-p", str(py.pid)], capture_output=True,
                           text=True, timeout=120,
                           env=dict(os.environ, GILTRACE_TEST_LAYOUT_SKEW="8"))
    finally:
        py.kill()
        py.wait()
    assert r.returncode == 1
    assert re.fullmatch(rf"giltrace: cannot trace PID {py.pid} \(python3.13t\): layout check "
                        r"'ceval.gil' failed: the main interpreter's ceval.gil is 0x[0-9a-f]+, "
                        r"the layout puts the GIL at 0x[0-9a-f]+\n", r.stderr), r.stderr
