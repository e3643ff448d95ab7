"""The summary to a file, so that the traced command's output and
giltrace's never mix: -o OUT for trace, report and blame (as for export and
plot), --summary=OUT / --json=OUT for record, whose -o is the capture."""
import json
import os

import pytest

from conftest import BUILD_DIR, TOYVM_EXAMPLES
from test_cli_usage import run

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")


def counter(toyvm, threads=3):
    return ["--", str(toyvm), "--switch-interval=1000", str(TOYVM_EXAMPLES / "counter.tvm"),
            str(threads), "300000"]


def vm_line(threads=3):
    return f"counter {threads * 300000} expected {threads * 300000}\n"


def test_trace_json_to_file(toyvm_bin, tmp_path):
    out = tmp_path / "gil.json"
    p = run("--json", "-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert p.stdout == vm_line()  # the command's output alone
    summary = json.loads(out.read_text())
    assert summary["totals"]["acquisitions"] > 0


def test_trace_text_to_file(toyvm_bin, tmp_path):
    out = tmp_path / "gil.txt"
    p = run("-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert p.stdout == vm_line()
    assert out.read_text().startswith("giltrace: pid ")
    assert "\ntotals: " in out.read_text()


def test_trace_refuses_existing_file_before_tracing(toyvm_bin, tmp_path):
    out = tmp_path / "gil.json"
    out.write_text("keep")
    p = run("--json", "-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 1
    assert p.stdout == ""  # the command never ran
    assert p.stderr == f"giltrace: {out} exists: choose another name or add --force\n"
    assert out.read_text() == "keep"
    p = run("--json", "--force", "-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["totals"]["acquisitions"] > 0


@pytest.mark.parametrize("opt", ["--json", "--summary"])
def test_record_summary_to_file(toyvm_bin, tmp_path, opt):
    cap, out = tmp_path / "app.gil", tmp_path / "summary"
    p = run("record", "-o", str(cap), f"{opt}={out}", *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert p.stdout == vm_line()
    rep = run("report", *(["--json"] if opt == "--json" else []), str(cap))
    assert rep.returncode == 0, rep.stderr
    if opt == "--json":
        live, offline = json.loads(out.read_text()), json.loads(rep.stdout)
        assert live["totals"]["acquisitions"] == offline["totals"]["acquisitions"] > 0
    else:
        assert out.read_text().startswith("giltrace: pid ")


def test_record_to_stdout_with_summary_file(toyvm_bin, tmp_path):
    """-o - streams the capture; --json=OUT keeps the summary out of it."""
    out = tmp_path / "summary.json"
    p = run("record", "-o", "-", f"--json={out}", *counter(toyvm_bin, 2), text=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(b"GILTRACE")
    assert json.loads(out.read_text())["totals"]["acquisitions"] > 0


def test_report_to_file_equals_stdout(toyvm_bin, tmp_path):
    cap = tmp_path / "app.gil"
    assert run("record", "-o", str(cap), *counter(toyvm_bin)).returncode == 0
    for args in (["--json"], []):
        out = tmp_path / f"report{len(args)}"
        p = run("report", *args, "-o", str(out), str(cap))
        assert p.returncode == 0, p.stderr
        assert p.stdout == ""
        assert out.read_text() == run("report", *args, str(cap)).stdout


def test_blame_text_to_file(toyvm_bin, tmp_path):
    """blame's text takes -o too (the toy VM has no Python frames: the
    report says so, in the file)."""
    out = tmp_path / "blame.txt"
    p = run("blame", "-o", str(out), *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert p.stdout == vm_line()
    assert "threads waited" in out.read_text()


def test_folded_and_o_together():
    p = run("blame", "--folded", "x.folded", "-o", "x.txt", "-p", "1")
    assert p.returncode == 2
    assert p.stderr.splitlines()[0] == \
        "giltrace blame: --folded FILE is the output: -o goes with the text"


@pytest.mark.parametrize("args", [["--json", "-o", "{out}"],
                                  ["record", "-o", "{out}.gil", "--json={out}"]])
def test_failed_run_leaves_no_summary_file(tmp_path, args):
    out = tmp_path / "gil.json"
    p = run(*[a.format(out=out) for a in args], "-p", "4194303")
    assert p.returncode == 1
    assert p.stderr == "giltrace: cannot attach to PID 4194303: no such process\n"
    assert not out.exists()
