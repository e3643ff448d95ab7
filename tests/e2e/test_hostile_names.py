"""Text a target controls never reaches the user's terminal raw.

A real CPython (Debian's python3) names a thread '\\x1b[2Jx"y\\nz}' with
prctl and spins in a function whose name and file hold escape sequences,
BEL, a newline and a C1 CSI (U+009B). Recorded once with --blame; every view
of the capture (summary, JSON, blame text and folded stacks, CSV, Chrome
JSON, SVG plot) and the live summary must show no control character and
keep the thread's table row on one line, with each control character shown
as '?' (docs/security.md)."""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import BUILD_DIR, REPO_ROOT

GILTRACE = str(BUILD_DIR / "giltrace")
PY = "/usr/bin/python3"
WORKLOAD = str(REPO_ROOT / "tests" / "e2e" / "py" / "hostile_names.py")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(not os.access(PY, os.X_OK), reason=f"{PY} not installed"),
]

SAFE_THREAD = '?[2Jx"y?z}'
SAFE_FUNC = "?[31mhog?line?"
SAFE_FILE = "?]0;pwned???2J.py"
# Every C0 control but the line feed that ends a line, DEL, and C1 as UTF-8.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]")


def assert_clean(text, what):
    m = CONTROL.search(text)
    assert not m, f"{what}: control character {m.group()!r} at {m.start()}: " \
                  f"{text[max(0, m.start() - 40):m.start() + 40]!r}"


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    cap = tmp_path_factory.mktemp("hostile") / "app.gil"
    r = subprocess.run([GILTRACE, "record", "--blame", "-o", str(cap), "--", PY, WORKLOAD, "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return cap


def view(*args):
    r = subprocess.run([GILTRACE, *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert_clean(r.stderr, " ".join(map(str, args)) + " (stderr)")
    return r.stdout


def test_summary_row_on_one_line(capture):
    out = view("report", capture)
    assert_clean(out, "report")
    rows = [line for line in out.splitlines() if SAFE_THREAD in line]
    # the diagnoses' mentions (first: the summary leads with them) and the
    # table row, each whole on its line
    assert rows, out
    row = re.compile(r"\s*\d+\s+\d+ " + re.escape(SAFE_THREAD) + r"\s+\d+")
    assert any(row.match(r) for r in rows), rows


def test_json_names(capture):
    out = view("report", "--json", capture)
    names = {t["name"] for t in json.loads(out)["threads"]}
    assert SAFE_THREAD in names, names


def test_blame_text_and_folded(capture):
    out = view("report", "--blame", capture)
    assert_clean(out, "report --blame")
    assert f"{SAFE_FUNC} ({SAFE_FILE}:" in out, out
    folded = view("report", "--blame", "--folded", "-", capture)
    assert_clean(folded, "folded stacks")
    # one stack per line: frames, then the count
    assert all(re.search(r" \d+$", line) for line in folded.splitlines()), folded
    assert SAFE_FUNC in folded


def test_exports(capture):
    csv = view("export", "--format", "csv", capture)
    assert_clean(csv, "csv")
    chrome = view("export", capture)
    assert_clean(chrome, "chrome")
    names = [e["args"]["name"] for e in json.loads(chrome)["traceEvents"]
             if e.get("name") == "thread_name"]
    assert SAFE_THREAD in names, names


def test_plot(capture):
    svg = view("plot", capture)
    assert_clean(svg, "svg")
    assert SAFE_THREAD in "".join(ET.fromstring(svg).itertext())


def test_live_summary():
    r = subprocess.run([GILTRACE, "--", PY, WORKLOAD, "0.5"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert_clean(r.stdout + r.stderr, "live summary")
    assert SAFE_THREAD in r.stdout
