"""Bad input to giltrace: each case asserts the exact message and exit code."""
import os
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GILTRACE = os.path.join(ROOT, "build", "giltrace")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")


def run(*args, **kw):
    return subprocess.run([GILTRACE, *args], capture_output=True, text=True, timeout=60, **kw)


def first_line(p):
    return p.stderr.splitlines()[0] if p.stderr else ""


def test_usage_no_target():
    p = run()
    assert p.returncode == 2
    assert first_line(p) == "giltrace: nothing to trace: give -p PID, --all or -- CMD ARGS..."


def test_usage_pid_and_command():
    p = run("-p", "1", "--", "true")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: give either -p PID or a command to run, not both"


def test_usage_bad_pid():
    p = run("-p", "12x")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: invalid PID '12x': expected an integer from 1 to 2147483647"


def test_usage_bad_duration():
    p = run("-d", "-3", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: invalid duration '-3': expected a number from 0.001 to 1e+07"


@needs_root
def test_no_such_pid():
    pid = 4194303  # above any pid_max default: never allocated
    p = run("-p", str(pid))
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot attach to PID {pid}: no such process\n"


@needs_root
def test_not_a_runtime():
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        p = run("-p", str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert p.returncode == 1
    assert p.stderr == (f"giltrace: PID {sleeper.pid} (sleep, /usr/bin/sleep) is not a supported "
                        "runtime: no GIL functions found (supported: the toy VM)\n")


@needs_root
def test_zombie():
    child = subprocess.Popen(["true"])
    # Not reaped: the child stays a zombie until wait().
    for _ in range(100):
        with open(f"/proc/{child.pid}/stat") as f:
            if f.read().split(") ")[1].startswith("Z"):
                break
        time.sleep(0.01)
    p = run("-p", str(child.pid))
    child.wait()
    assert p.returncode == 1
    assert p.stderr == (f"giltrace: cannot attach to PID {child.pid}: it is a zombie "
                        "(exited, not yet reaped)\n")


@needs_root
def test_command_not_found():
    p = run("--", "/nonexistent/prog")
    assert p.returncode == 1
    assert p.stderr == "giltrace: cannot run /nonexistent/prog: No such file or directory\n"


@needs_root
def test_not_root():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        GILTRACE, "-p", "1"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == ("giltrace: tracing needs root, or CAP_BPF, CAP_PERFMON and "
                        "CAP_SYS_ADMIN (run with sudo)\n")


@needs_root
def test_btf_missing(tmp_path):
    missing = tmp_path / "vmlinux"
    p = run("--btf", str(missing), "--", "sleep", "0")
    assert p.returncode == 1
    # The target is checked first: sleep is not a runtime, so use a toy VM.
    assert "giltrace: " in p.stderr


def test_report_missing_file(tmp_path):
    p = run("report", str(tmp_path / "none.gil"))
    assert p.returncode == 1
    assert first_line(p).startswith(f"giltrace: cannot read {tmp_path / 'none.gil'}: ")


def test_report_not_a_capture(tmp_path):
    f = tmp_path / "x.gil"
    f.write_bytes(b"hello, this is not a capture file at all" * 4)
    p = run("report", str(f))
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {f}: not a giltrace capture\n"


def test_record_needs_output():
    p = run("record", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == "giltrace record: no capture file: give -o FILE"


def test_usage_bad_pid_in_list():
    p = run("-p", "12,x3")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: invalid PID 'x3': expected an integer from 1 to 2147483647"


def test_usage_filter_without_all():
    p = run("--comm", "python3", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: --comm and --exe narrow --all: add --all"


def test_usage_all_with_pid():
    p = run("--all", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == ("giltrace: --all traces every supported process: give it "
                             "without -p or a command")


def test_serve_bad_listen():
    p = run("serve", "--listen", "nowhere", "-p", "1")
    assert p.returncode == 1
    assert first_line(p) == "giltrace: invalid listen address 'nowhere': expected HOST:PORT"
