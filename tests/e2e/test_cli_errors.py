"""Bad input to giltrace: each case asserts the exact message and exit code."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BUILD_DIR, TOYVM, TOYVM_EXAMPLES

GILTRACE = str(BUILD_DIR / "giltrace")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")
# The CPython list grows with the runtime table: matched, not spelled out.
SUPPORTED = r"the toy VM, CPython (\d\.\d+, )*\d\.\d+; free-threaded (\d\.\d+t, )*\d\.\d+t"
COUNTER = [str(TOYVM), str(TOYVM_EXAMPLES / "counter.tvm"), "2", "2000"]


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
    assert re.fullmatch(rf"giltrace: PID {sleeper.pid} \(sleep, /usr/bin/sleep\) is not a "
                        rf"supported runtime: no GIL functions found \(supported: {SUPPORTED}\)\n",
                        p.stderr), p.stderr


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
    p = run("--btf", str(missing), "--", *COUNTER)
    assert p.returncode == 1
    assert p.stderr == (f"giltrace: kernel BTF missing: cannot read {missing} (giltrace needs a "
                        "kernel built with CONFIG_DEBUG_INFO_BTF)\n")


@needs_root
def test_btf_from_environment(tmp_path):
    missing = tmp_path / "vmlinux"
    p = run("--", *COUNTER, env={**os.environ, "GILTRACE_BTF": str(missing)})
    assert p.returncode == 1
    assert p.stderr == (f"giltrace: kernel BTF missing: cannot read {missing} (giltrace needs a "
                        "kernel built with CONFIG_DEBUG_INFO_BTF)\n")
    # A good file named there is used.
    p = run("-d", "5", "--", *COUNTER, env={**os.environ, "GILTRACE_BTF": "/sys/kernel/btf/vmlinux"})
    assert p.returncode == 0, p.stderr


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
    assert p.returncode == 2
    assert first_line(p) == "giltrace serve: invalid listen address 'nowhere': expected HOST:PORT"


def test_usage_as_root_without_command():
    p = run("--as-root", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == "giltrace: --as-root is for a command giltrace starts: add -- CMD ARGS..."


def test_usage_report_window_reversed(tmp_path):
    p = run("report", "--from", "5", "--to", "2", str(tmp_path / "x.gil"))
    assert p.returncode == 2
    assert first_line(p) == "giltrace report: --to 2 is not after --from 5"


def test_usage_record_bad_size():
    p = run("record", "--max-size", "0", "-o", "x.gil", "-p", "1")
    assert p.returncode == 2
    assert first_line(p) == ("giltrace record: invalid size '0': expected an integer from 1 to "
                             "8796093022207")


def _fds(pid):
    out = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return out


@needs_root
def test_pid_exits_during_attach():
    """giltrace is stopped after loading its BPF programs and before the first
    uprobe (no perf_event descriptor yet); the target exits and is reaped;
    giltrace goes on and must say so."""
    for _ in range(10):
        vm = subprocess.Popen([str(TOYVM), str(TOYVM_EXAMPLES / "spin.tvm")],
                              stdout=subprocess.DEVNULL)
        time.sleep(0.2)
        g = subprocess.Popen([GILTRACE, "-p", str(vm.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        caught = False
        while g.poll() is None:
            if any("bpf-map" in x or "bpf-prog" in x for x in _fds(g.pid)):
                os.kill(g.pid, signal.SIGSTOP)
                caught = not any("perf_event" in x for x in _fds(g.pid))
                vm.kill()
                vm.wait()
                os.kill(g.pid, signal.SIGCONT)
                break
        out, err = g.communicate(timeout=30)
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        if caught:
            assert g.returncode == 1
            assert err == f"giltrace: cannot attach to PID {vm.pid}: it exited during the attach\n"
            return
    pytest.skip("never stopped giltrace between load and attach")


@needs_root
def test_target_exits_mid_trace(tmp_path):
    """-p on a process that ends on its own: summary and a complete capture."""
    stats = tmp_path / "stats.json"
    vm = subprocess.Popen([str(TOYVM), f"--gil-stats={stats}", "--switch-interval=200",
                           str(TOYVM_EXAMPLES / "countdown.tvm"), "2", "200000000"],
                          stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    out = tmp_path / "mid.gil"
    p = run("record", "--json", "-o", str(out), "-p", str(vm.pid))
    vm.wait()
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["totals"]["acquisitions"] > 0
    assert p.stderr.splitlines()[-1].startswith(f"giltrace: recorded ")
    r = run("report", "--json", str(out))
    assert r.returncode == 0
    assert r.stderr == ""  # closed cleanly: nothing recovered, nothing skipped
    assert json.loads(r.stdout)["totals"] == summary["totals"]


@needs_root
def test_unsupported_python_version():
    exe = os.path.expanduser("~/.pyenv/versions/3.7.16/bin/python3.7")
    if not os.access(exe, os.X_OK):
        pytest.skip("no pyenv CPython 3.7 to stand for an unsupported version")
    py = subprocess.Popen([exe, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        p = run("-p", str(py.pid))
    finally:
        py.kill()
        py.wait()
    assert p.returncode == 1
    lib = os.path.realpath(os.path.expanduser("~/.pyenv/versions/3.7.16/lib/libpython3.7m.so.1.0"))
    path = lib if os.path.exists(lib) else os.path.realpath(exe)
    assert re.fullmatch(rf"giltrace: cannot trace PID {py.pid} \(python3.7\): {re.escape(path)} is "
                        r"CPython 3\.7(\.16)?, which giltrace does not know \(supported: CPython "
                        r"(\d\.\d+, )*\d\.\d+; free-threaded (\d\.\d+t, )*\d\.\d+t\)\n", p.stderr), p.stderr


@needs_root
def test_stripped_binary(tmp_path):
    """A toy VM without its symbol table has nothing to probe."""
    exe = tmp_path / "toyvm-stripped"
    shutil.copy(TOYVM, exe)
    subprocess.run(["strip", str(exe)], check=True)
    vm = subprocess.Popen([str(exe), str(TOYVM_EXAMPLES / "spin.tvm")], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        p = run("-p", str(vm.pid))
    finally:
        vm.kill()
        vm.wait()
    assert p.returncode == 1
    assert re.fullmatch(rf"giltrace: PID {vm.pid} \(main, {re.escape(str(exe))}\) is "
                        rf"not a supported runtime: no GIL functions found \(supported: "
                        rf"{SUPPORTED}\)\n", p.stderr), p.stderr


@needs_root
def test_output_exists(tmp_path):
    out = tmp_path / "x.gil"
    out.write_bytes(b"precious")
    p = run("record", "-o", str(out), "--", *COUNTER)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: {out} exists: choose another name or add --force\n"
    assert out.read_bytes() == b"precious"
    p = run("record", "--force", "-o", str(out), "--", *COUNTER)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:8] != b"precious"
    assert os.stat(out).st_mode & 0o777 == 0o600


@needs_root
def test_output_symlink_refused_even_with_force(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "x.gil"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        p = run("record", *extra, "-o", str(link), "--", *COUNTER)
        assert p.returncode == 1
        assert p.stderr.splitlines()[-1] == (
            f"giltrace: {link} exists: choose another name or add --force" if not extra else
            f"giltrace: cannot create capture {link}: it is a symbolic link")
    assert victim.read_text() == "keep"


@needs_root
def test_output_directory_missing(tmp_path):
    out = tmp_path / "no" / "such" / "x.gil"
    p = run("record", "-o", str(out), "--", *COUNTER)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot create capture {out}: No such file or directory\n"


@needs_root
def test_capture_mode_0600(tmp_path):
    out = tmp_path / "x.gil"
    old = os.umask(0)
    try:
        p = run("record", "-o", str(out), "--", *COUNTER)
    finally:
        os.umask(old)
    assert p.returncode == 0, p.stderr
    assert os.stat(out).st_mode & 0o777 == 0o600


@needs_root
def test_disk_full(tmp_path):
    """A small tmpfs fills up: recording stops at once, says how many events
    were written, and the file still ends with its end record."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], check=True)
    try:
        out = mnt / "c.gil"
        p = run("record", "-o", str(out), "--", str(TOYVM), "--gil=old", "--check-interval=1",
                str(TOYVM_EXAMPLES / "counter.tvm"), "2", "50000")
        assert p.returncode == 1
        # then the line that says giltrace stopped the command
        *_, full, stopped = p.stderr.splitlines()
        m = re.fullmatch(rf"giltrace: no space left for {re.escape(str(out))}: recording stopped "
                         r"after (\d+) events \(the capture is complete up to there\)", full)
        assert m, p.stderr
        assert re.fullmatch(r"giltrace: stopped PID \d+ \(\S+toyvm\) after [\d.]+ s of tracing",
                            stopped), p.stderr
        written = int(m.group(1))
        assert written > 0
        r = run("report", "--json", str(out))
        assert r.returncode == 0
        # Complete: no recovery needed, and it holds exactly what was said.
        assert r.stderr == f"giltrace: {out} stopped at its size limit\n"
        e = run("export", "--format=csv", str(out))
        assert len(e.stdout.splitlines()) - 1 == written
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_report_truncated_capture(tmp_path):
    """Cut mid-chunk, as a SIGKILL or a crash leaves it."""
    good = tmp_path / "good.gil"
    if os.geteuid() != 0:
        pytest.skip("recording needs root")
    assert run("record", "-o", str(good), "--", *COUNTER).returncode == 0
    data = good.read_bytes()
    cut = tmp_path / "cut.gil"
    # Without its end record, every event is still there.
    cut.write_bytes(data[:len(data) - 10])
    p = run("report", str(cut))
    assert p.returncode == 0
    m = re.fullmatch(rf"giltrace: {re.escape(str(cut))} was not closed cleanly: recovered (\d+) "
                     r"events in 1 chunks, \d+ bytes at the end skipped\n", p.stderr)
    assert m, p.stderr
    full = run("export", "--format=csv", str(good)).stdout.splitlines()
    assert int(m.group(1)) == len(full) - 1
    # Cut inside the only chunk: nothing recoverable, and it says so.
    cut.write_bytes(data[:len(data) - 40])
    p = run("report", str(cut))
    assert p.returncode == 0
    assert re.fullmatch(rf"giltrace: {re.escape(str(cut))} was not closed cleanly: recovered 0 "
                        r"events in 0 chunks, \d+ bytes at the end skipped\n", p.stderr), p.stderr


def test_report_corrupt_chunk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("recording needs root")
    good = tmp_path / "good.gil"
    assert run("record", "-o", str(good), "--", *COUNTER).returncode == 0
    data = bytearray(good.read_bytes())
    data[len(data) - 40] ^= 0xFF  # inside the one event chunk
    bad = tmp_path / "bad.gil"
    bad.write_bytes(bytes(data))
    p = run("report", str(bad))
    assert p.returncode == 0
    assert re.fullmatch(rf"giltrace: {re.escape(str(bad))} is damaged: 1 chunks failed their "
                        r"checksum, \d+ bytes skipped\n", p.stderr), p.stderr


def test_report_empty_file(tmp_path):
    f = tmp_path / "empty.gil"
    f.write_bytes(b"")
    p = run("report", str(f))
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {f}: not a giltrace capture (empty file)\n"


def test_report_directory(tmp_path):
    p = run("report", str(tmp_path))
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {tmp_path}: cannot read capture: Is a directory\n"


@needs_root
def test_report_unreadable(tmp_path):
    f = tmp_path / "secret.gil"
    f.write_bytes(b"x" * 64)
    os.chmod(f, 0o600)
    os.chmod(tmp_path, 0o755)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        GILTRACE, "report", str(f)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot read {f}: Permission denied\n"


@needs_root
@pytest.mark.parametrize("dropped", ["-sys_admin", "-perfmon", "-bpf,-sys_admin"])
def test_root_without_capabilities(dropped):
    """Root, but with CAP_SYS_ADMIN or CAP_PERFMON taken from the bounding
    set: refused before anything is loaded, with the capabilities named."""
    vm = subprocess.Popen([str(TOYVM), str(TOYVM_EXAMPLES / "spin.tvm")],
                          stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        p = subprocess.run(["setpriv", "--bounding-set", dropped, GILTRACE, "-d", "0.3", "-p",
                            str(vm.pid)], capture_output=True, text=True, timeout=30)
    finally:
        vm.kill()
        vm.wait()
    assert p.returncode == 1
    assert p.stderr == ("giltrace: tracing needs root, or CAP_BPF, CAP_PERFMON and "
                        "CAP_SYS_ADMIN (run with sudo)\n")
