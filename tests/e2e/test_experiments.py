"""tools/experiments/run --quick: it completes and prints every table with
its title and the commands that reproduce it, and --markdown writes the same
tables. The figures are timings on a shared machine and are not asserted
(STYLE.md: timings are never pass/fail); the giltrace tables say why they
are skipped when not root.
"""
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

RUN = REPO_ROOT / "tools" / "experiments" / "run"

# Title -> commands each table must print (as "$ ..." lines).
TABLES = {
    "Countdown (toy VM, slides 4-5, 31)": [
        "build/toyvm --gil={old,new,prio,fifo} --gil-stats=STATS "
        "tools/toyvm/examples/countdown.tvm {1,2,4}",
        "taskset -c 0 build/toyvm --gil={old,new,prio,fifo}",
        "tools/experiments/run --only countdown --quick"],
    "Countdown under giltrace (toy VM)": [
        "build/giltrace --json -- build/toyvm",
        "tools/experiments/run --only countdown-trace --quick"],
    "Echo / convoy (toy VM, slides 50-54)": [
        "tools/experiments/tvm/server.tvm PORT {0,1,2}",
        "build/toyvm tools/toyvm/examples/echo_client.tvm PORT",
        "tools/experiments/run --only echo --quick"],
    "Echo / convoy under giltrace (toy VM)": [
        "build/giltrace --json -- build/toyvm",
        "tools/experiments/run --only echo-trace --quick"],
    "Latency (toy VM, ccbench-style)": [
        "tools/experiments/tvm/server.tvm PORT {0,1,2,4}",
        "build/toyvm tools/experiments/tvm/ping_client.tvm PORT",
        "tools/experiments/run --only latency --quick"],
    "Switch-interval sweep (toy VM, new GIL)": [
        "build/toyvm --gil=new --switch-interval={5000,1000,500,100,50,10}",
        "tools/experiments/run --only sweep --quick"],
    "Fairness (toy VM)": [
        "tools/experiments/tvm/fairness.tvm 3",
        "tools/experiments/run --only fairness --quick"],
    "Countdown (stock CPython)": [
        "PYTHON tools/experiments/py/countdown.py {0,2,4}",
        "taskset -c 0 PYTHON tools/experiments/py/countdown.py",
        "tools/experiments/run --only py-countdown --quick"],
    "Echo / convoy (stock CPython)": [
        "PYTHON tools/experiments/py/convoy.py PORT {0,1,2}",
        "tools/experiments/run --only py-echo --quick"],
}
TRACED = {"Countdown under giltrace (toy VM)",
          "Echo / convoy under giltrace (toy VM)"}


def sections(text):
    """{title: section text} from the script's plain-text output."""
    parts = re.split(r"^== (.+) ==$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.fixture(scope="module")
def quick(toyvm_bin, tmp_path_factory):
    md = tmp_path_factory.mktemp("exp") / "tables.md"
    p = subprocess.run([sys.executable, str(RUN), "--quick", "--markdown",
                        str(md)], cwd=REPO_ROOT, capture_output=True,
                       text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout, md.read_text()


def test_header_names_machine_kernel_and_load(quick):
    out, _ = quick
    assert "kernel: %s (uname -r)" % os.uname().release in out
    assert re.search(r"^machine: .+, \d+ CPUs, ", out, re.M)
    assert re.search(r"load average at start \(1/5/15 min\): [\d.]+ ", out)
    assert "mode: quick; 3 runs per configuration, interleaved" in out
    assert re.search(r"finished after \d+ s; load average at end", out)


@pytest.mark.parametrize("title", sorted(TABLES))
def test_every_table_printed_with_its_commands(quick, title):
    out, _ = quick
    sec = sections(out)
    assert title in sec, "table %r missing; got %s" % (title, list(sec))
    body = sec[title]
    commands = [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    for want in TABLES[title]:
        assert any(want in c for c in commands), (want, commands)
    if "skipped: " in body and title in TRACED:
        assert os.geteuid() != 0 or "not built" in body, body
        return
    rows = [line for line in body.splitlines()
            if line and not line.startswith(("$ ", "note: ", "--"))]
    assert len(rows) >= 3, body          # header + at least two rows
    assert "fail" not in "\n".join(rows[1:]).split(), body


def test_traced_tables_run_as_root(quick):
    if os.geteuid() != 0:
        pytest.skip("giltrace needs root")
    out, _ = quick
    sec = sections(out)
    for title in TRACED:
        assert "skipped:" not in sec[title], sec[title]


def test_markdown_has_the_same_tables(quick):
    out, md = quick
    for title in TABLES:
        assert "### %s" % title in md
    assert "kernel: %s (uname -r)" % os.uname().release in md
    assert md.count("\n|---|") >= len(TABLES) - len(TRACED)


def test_bad_table_name_is_a_usage_error():
    p = subprocess.run([sys.executable, str(RUN), "--only", "bogus"],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "unknown table bogus" in p.stderr
