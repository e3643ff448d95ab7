"""giltrace export and plot on a real capture of the toy VM: the exported
slices and marks are counted against `report --json` of the same file, the
CSV against the number of events record wrote, the SVG parsed as XML."""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import BUILD_DIR, REPO_ROOT, TOYVM, TOYVM_EXAMPLES

GILTRACE = BUILD_DIR / "giltrace"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")
SVG = "{http://www.w3.org/2000/svg}"
KINDS = {"wait", "wake", "retry", "timeout", "drop_request", "acquire", "release",
         "forced_release", "wake_call", "sched_wakeup", "sched_run", "drops",
         "gil_state"}  # the end of the window (GIL_STATE_NO_READING for the toy VM)


def run(*args, **kw):
    return subprocess.run([str(GILTRACE), *map(str, args)], capture_output=True, text=True,
                          timeout=120, **kw)


def first_line(p):
    return p.stderr.splitlines()[0] if p.stderr else ""


@pytest.fixture(scope="module")
def capture(toyvm_bin, tmp_path_factory):
    """A capture of three toy VM threads fighting over the new GIL with a
    1 ms switch interval: waits, retries, timeouts, forced releases."""
    if os.geteuid() != 0:
        pytest.skip("tracing needs root")
    path = tmp_path_factory.mktemp("export") / "counter.gil"
    p = run("record", "-o", path, "--", TOYVM, "--switch-interval=1000",
            TOYVM_EXAMPLES / "counter.tvm", 3, 3_000_000)
    assert p.returncode == 0, p.stderr
    m = re.search(r"recorded (\d+) events", p.stderr)
    assert m, p.stderr
    events = int(m.group(1))
    rep = run("report", "--json", path)
    assert rep.returncode == 0, rep.stderr
    report = json.loads(rep.stdout)
    threads = {t["tid"]: t for t in report["threads"]}
    assert sum(t["acquisitions"] for t in threads.values()) > 0, "the capture holds no GIL events"
    return {"path": path, "events": events, "threads": threads, "report": report}


@needs_root
def test_chrome_counts_match_report(capture, tmp_path):
    out = tmp_path / "trace.json"
    p = run("export", capture["path"], "--format=chrome", "-o", out)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    doc = json.loads(out.read_text())
    assert doc["otherData"]["schema"] == 1
    jsonschema = pytest.importorskip("jsonschema", reason="apt-get install python3-jsonschema")
    schema = json.loads((REPO_ROOT / "docs" / "export-chrome.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    events = doc["traceEvents"]
    threads = capture["threads"]

    names = Counter(e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name")
    assert names == Counter(threads.keys())
    assert sum(1 for e in events if e["ph"] == "M" and e["name"] == "process_name") == 1

    count = Counter((e["ph"], e["name"], e["tid"]) for e in events if e["ph"] != "M")
    for tid, t in threads.items():
        assert count[("X", "holding GIL", tid)] == t["acquisitions"], tid
        assert count[("X", "waiting for GIL", tid)] == t["busy"], tid
        assert count[("i", "retry", tid)] == t["retries"], tid
        assert count[("i", "timeout", tid)] == t["timeouts"], tid
        assert count[("i", "drop request", tid)] == t["drop_requests"], tid
        assert count[("i", "forced release", tid)] == t["forced_switches"], tid
    # the capture has contention, so the GIL changed hands
    assert sum(v for k, v in count.items() if k[:2] == ("s", "handoff")) > 0

    for e in events:
        if e["ph"] == "X":
            assert e["dur"] >= 0
        if e["ph"] in "Xi":
            assert e["ts"] > -1000  # µs from the first event; a little early at most
    starts = Counter(e["id"] for e in events if e["ph"] == "s")
    ends = Counter(e["id"] for e in events if e["ph"] == "f")
    assert starts == ends and set(starts.values()) == {1}
    assert all(e.get("bp") == "e" for e in events if e["ph"] == "f")


@needs_root
def test_chrome_to_stdout(capture, tmp_path):
    out = tmp_path / "trace.json"
    assert run("export", capture["path"], "-o", out).returncode == 0
    p = run("export", capture["path"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == out.read_text()


@needs_root
def test_csv_one_line_per_event(capture, tmp_path):
    out = tmp_path / "events.csv"
    p = run("export", capture["path"], "--format=csv", "-o", out)
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "ts_ns,kind,tgid,tid,cpu,addr,value,ret,name"
    assert len(lines) - 1 == capture["events"]
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(r) == 9 for r in rows)
    # each thread's last row carries the name the report gives it
    last_name = {int(r[3]): r[8] for r in rows}
    for tid, t in capture["threads"].items():
        assert last_name[tid] == t["name"]
    assert {r[1] for r in rows} <= KINDS
    acquires = Counter(int(r[3]) for r in rows if r[1] == "acquire")
    for tid, t in capture["threads"].items():
        assert acquires[tid] == t["acquisitions"]
    assert all(r[5].startswith("0x") for r in rows)


@needs_root
def test_plot_lanes_and_legend(capture, tmp_path):
    out = tmp_path / "gil.svg"
    p = run("plot", capture["path"], "-o", out)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    root = ET.parse(out).getroot()
    assert root.tag == SVG + "svg"
    lanes = root.findall(f".//{SVG}g[@class='lane']")
    assert sorted(int(g.get("data-tid")) for g in lanes) == sorted(capture["threads"])
    text = " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    for label in ("holding the GIL", "waiting for the GIL", "running without the GIL",
                  "retry", "forced release"):
        assert label in text
    for tid in capture["threads"]:
        assert str(tid) in text
    fills = {r.get("fill") for g in lanes for r in g.iter(SVG + "rect")}
    assert {"#2ca02c", "#d62728"} <= fills  # held and waited
    assert not list(root.iter(SVG + "script"))
    assert "http" not in out.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")


@needs_root
def test_plot_size_is_bounded(capture, tmp_path):
    # at most a rectangle per pixel and state change per lane, however long
    out = tmp_path / "gil.svg"
    assert run("plot", capture["path"], "--width", 400, "-o", out).returncode == 0
    lanes = len(capture["threads"])
    assert out.stat().st_size < 4096 + lanes * 400 * 3 * 120


@needs_root
def test_plot_window(capture, tmp_path):
    out = tmp_path / "zoom.svg"
    dur = capture["report"]["duration_ns"] / 1e9
    p = run("plot", capture["path"], "--from", f"{dur / 4:.6f}", "--to", f"{dur / 2:.6f}",
            "-o", out)
    assert p.returncode == 0, p.stderr
    root = ET.parse(out).getroot()
    assert len(root.findall(f".//{SVG}g[@class='lane']")) == len(capture["threads"])


@needs_root
def test_refuses_existing_output(capture, tmp_path):
    out = tmp_path / "exists.json"
    out.write_text("keep me")
    p = run("export", capture["path"], "-o", out)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: {out} exists: choose another name or add --force\n"
    assert out.read_text() == "keep me"
    p = run("plot", capture["path"], "-o", out)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: {out} exists: choose another name or add --force\n"
    assert run("export", capture["path"], "-o", out, "--force").returncode == 0
    json.loads(out.read_text())
    assert oct(out.stat().st_mode & 0o777) == "0o644"


@needs_root
def test_never_through_symlink(capture, tmp_path):
    target = tmp_path / "target"
    target.write_text("keep me")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    p = run("plot", capture["path"], "-o", link, "--force")
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot create {link}: it is a symbolic link\n"
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("cmd", [["export"], ["export", "--format=csv"], ["plot", "-o", "x.svg"]])
def test_missing_file(cmd, tmp_path):
    path = tmp_path / "none.gil"
    p = run(*cmd, path, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {path}: No such file or directory\n"
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("cmd", [["export"], ["export", "--format=csv"], ["plot", "-o", "x.svg"]])
def test_not_a_capture(cmd, tmp_path):
    path = tmp_path / "x.gil"
    path.write_bytes(b"hello, this is not a capture file at all" * 4)
    p = run(*cmd, path, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {path}: not a giltrace capture\n"
    assert p.stdout == ""


def test_unknown_format(tmp_path):
    p = run("export", "--format=xml", tmp_path / "x.gil")
    assert p.returncode == 2
    assert first_line(p) == "giltrace export: unknown format 'xml': expected chrome or csv"


def test_export_needs_file():
    p = run("export")
    assert p.returncode == 2
    assert first_line(p) == "giltrace export: no capture file given"


def test_plot_refuses_a_terminal(tmp_path):
    """Without -o, an SVG goes to a pipe or a file, never onto the screen."""
    leader, follower = os.openpty()
    try:
        p = subprocess.run([str(GILTRACE), "plot", str(tmp_path / "x.gil")], stdout=follower,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert p.returncode == 2
    assert first_line(p) == "giltrace plot: no output file: give -o OUT.svg or redirect stdout"


@needs_root
def test_plot_to_stdout_equals_plot_to_file(capture, tmp_path):
    out = tmp_path / "x.svg"
    assert run("plot", capture["path"], "-o", out).returncode == 0
    p = run("plot", capture["path"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == out.read_text()


def test_plot_bad_window(tmp_path):
    p = run("plot", tmp_path / "x.gil", "-o", tmp_path / "x.svg", "--from", "2", "--to", "1")
    assert p.returncode == 2
    assert first_line(p) == "giltrace plot: --to 1 is not after --from 2"


# A capture read from a pipe: opened once and read front to back, so "-",
# /dev/stdin and process substitution give the bytes a file path gives.
# FROM and TO stand for a quarter and half of the capture's duration.
READERS = [["report"], ["report", "--json"], ["report", "--from", "FROM", "--to", "TO"],
           ["export", "--format=csv"], ["export", "--format=chrome"], ["plot"],
           ["plot", "--from", "FROM", "--to", "TO"]]


def window_args(cmd, capture):
    dur = capture["report"]["duration_ns"] / 1e9
    edges = {"FROM": f"{dur / 4:.6f}", "TO": f"{dur / 2:.6f}"}
    return [edges.get(a, a) for a in cmd]


def run_bytes(args, **kw):
    return subprocess.run([str(GILTRACE), *map(str, args)], capture_output=True, timeout=120,
                          **kw)


def run_piped(args, path):
    """giltrace ARGS with `cat PATH` on a pipe as its standard input."""
    cat = subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE)
    try:
        return run_bytes(args, stdin=cat.stdout)
    finally:
        cat.stdout.close()
        cat.wait()


def same_as_file(cmd, path, p):
    f = run_bytes([*cmd, path])
    assert f.returncode == 0, f.stderr
    assert f.stdout, "the file case wrote nothing"
    assert (p.returncode, p.stdout, p.stderr) == (0, f.stdout, f.stderr)


@needs_root
@pytest.mark.parametrize("cmd", READERS, ids=" ".join)
def test_pipe_dash_equals_file(capture, cmd):
    cmd = window_args(cmd, capture)
    same_as_file(cmd, capture["path"], run_piped([*cmd, "-"], capture["path"]))


@needs_root
@pytest.mark.parametrize("cmd", READERS, ids=" ".join)
def test_pipe_dev_stdin_equals_file(capture, cmd):
    cmd = window_args(cmd, capture)
    same_as_file(cmd, capture["path"], run_piped([*cmd, "/dev/stdin"], capture["path"]))


@needs_root
@pytest.mark.parametrize("cmd", READERS, ids=" ".join)
def test_process_substitution_equals_file(capture, cmd):
    cmd = window_args(cmd, capture)
    line = " ".join([str(GILTRACE), *cmd, f'<(cat "{capture["path"]}")'])
    p = subprocess.run(["bash", "-c", line], capture_output=True, timeout=120)
    same_as_file(cmd, capture["path"], p)


@needs_root
def test_window_through_pipe(capture):
    """--from/--to count from the first event, which a pipe has only once:
    the windowed report from a pipe is the file's, and narrower than the
    whole capture."""
    dur = capture["report"]["duration_ns"] / 1e9
    cmd = window_args(["report", "--json", "--from", "FROM", "--to", "TO"], capture)
    p = run_piped([*cmd, "-"], capture["path"])
    same_as_file(cmd, capture["path"], p)
    window = json.loads(p.stdout)
    assert window["first_ts_ns"] >= capture["report"]["first_ts_ns"] + int(dur / 4 * 1e9)
    assert window["last_ts_ns"] <= capture["report"]["first_ts_ns"] + int(dur / 2 * 1e9)
    assert 0 < window["totals"]["acquisitions"] < capture["report"]["totals"]["acquisitions"]


@needs_root
@pytest.mark.parametrize("cmd", [["export"], ["export", "--format=csv"], ["plot"]], ids=" ".join)
def test_output_dash_is_stdout(capture, tmp_path, cmd):
    p = run_bytes([*cmd, capture["path"], "-o", "-"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == run_bytes([*cmd, capture["path"]]).stdout
    assert not (tmp_path / "-").exists()


@needs_root
def test_cut_capture_through_pipe(capture, tmp_path):
    """A capture cut short reads the same from a pipe, and the loss is
    reported against standard input."""
    cut = tmp_path / "cut.gil"
    data = capture["path"].read_bytes()
    cut.write_bytes(data[:len(data) * 2 // 3])
    f = run_bytes(["report", "--json", cut])
    p = run_piped(["report", "--json", "-"], cut)
    assert f.returncode == p.returncode == 0
    assert p.stdout == f.stdout
    assert p.stderr == f.stderr.replace(str(cut).encode(), b"standard input")
    assert b"was not closed cleanly" in p.stderr


def test_not_a_capture_on_stdin():
    p = run_bytes(["report", "-"], input=b"hello, this is not a capture file at all")
    assert p.returncode == 1
    assert p.stderr == b"giltrace: cannot read standard input: not a giltrace capture\n"


@needs_root
def test_record_to_stdout(toyvm_bin, tmp_path):
    """record -o - streams the capture on stdout, CMD's own output goes to
    stderr, and report - reads the stream whole: no damage."""
    rec = run_bytes(["record", "-o", "-", "--", TOYVM, "--switch-interval=1000",
                     TOYVM_EXAMPLES / "counter.tvm", 3, 300_000])
    assert rec.returncode == 0, rec.stderr
    assert re.search(rb"recorded \d+ events to standard output", rec.stderr), rec.stderr
    assert b"counter 900000 expected 900000" in rec.stderr
    assert not (tmp_path / "-").exists()
    p = run_bytes(["report", "--json", "-"], input=rec.stdout)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    report = json.loads(p.stdout)
    assert report["totals"]["acquisitions"] > 0


def test_record_to_stdout_refuses_summary():
    p = run("record", "-o", "-", "--summary", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == ("giltrace record: -o - writes the capture to standard output: "
                             "give --summary=OUT or --json=OUT to write the summary to a file")
