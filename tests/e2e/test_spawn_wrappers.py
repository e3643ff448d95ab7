"""`giltrace -- CMD` through the wrappers users put in front of Python: a
pyenv shim (bash -> pyenv -> the real python), `#!/usr/bin/env python3`, a
shell script that execs python, `sh -c` that forks it, `env VAR=1`, a
venv's symlinked python. Each must trace the python process itself: the
"tracing PID" line names it and its executable, and the summary holds the
workload's two threads and their acquisitions. A command that never runs a
supported runtime gets one line naming what it ran; CPython 3.6 and 3.7
are refused by their version; Ctrl-C while following leaves no process
stopped under ptrace.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUILD_DIR, pyenv_python, pyenv_root

GILTRACE = str(BUILD_DIR / "giltrace")
COUNTDOWN = Path(__file__).resolve().parent / "py" / "countdown.py"
PYENV_VER = "3.12"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason=f"{GILTRACE} not built"),
]

TRACING = re.compile(r"giltrace: tracing PID (\d+) \((/\S+), cpython [\d.]+, \w+ mode\), "
                     r"started by `(.*)`; Ctrl-C to stop")


def run(cmd, env=None, cwd=None):
    """giltrace -- CMD, its JSON summary in .summary: written to a file, as
    CMD's own output (sh's echo after python ends) may land in the middle of
    a summary written to the same pipe."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "summary.json"
        p = subprocess.run([GILTRACE, "--json", "-o", str(out), "--"] + [str(c) for c in cmd],
                           capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL)
        p.summary = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
    return p


def assert_traced(p, exe):
    """The python process was traced: the line names it, and the summary is
    of that PID, with the workload's threads and their acquisitions."""
    assert p.returncode == 0, p.stderr
    m = TRACING.search(p.stderr)
    assert m, p.stderr
    pid, named = int(m.group(1)), m.group(2)
    assert Path(named).resolve() == Path(exe).resolve(), p.stderr
    s = p.summary
    assert s, p.stderr
    assert s["target"]["pid"] == pid
    assert s["totals"]["acquisitions"] > 0
    threads = [t for t in s["threads"] if t["tgid"] == pid]
    assert len(threads) >= 2, s["threads"]
    return pid


def pyenv_or_skip():
    exe = pyenv_python(PYENV_VER)
    if not exe or not (pyenv_root() / "shims" / "python3").exists():
        pytest.skip(f"no pyenv CPython {PYENV_VER} with shims")
    return exe


def path_with(first):
    return {**os.environ, "PATH": f"{first}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def test_pyenv_shim():
    exe = pyenv_or_skip()
    env = path_with(pyenv_root() / "shims")
    env["PYENV_VERSION"] = exe.parent.parent.name
    p = run(["python3", COUNTDOWN, "300000"], env=env)
    assert_traced(p, exe)
    assert "started by `python3 " in p.stderr


def test_env_shebang(tmp_path):
    exe = pyenv_or_skip()
    script = tmp_path / "app.py"
    script.write_text("#!/usr/bin/env python3\n" + COUNTDOWN.read_text())
    script.chmod(0o755)
    p = run(["./app.py", "300000"], env=path_with(exe.parent), cwd=tmp_path)
    assert_traced(p, exe)


def test_shell_script_that_execs_python(tmp_path):
    exe = pyenv_or_skip()
    wrapper = tmp_path / "run-app"
    wrapper.write_text(f'#!/bin/sh\nexport APP_MODE=test\nexec {exe} "$@"\n')
    wrapper.chmod(0o755)
    assert_traced(run([wrapper, COUNTDOWN, "300000"]), exe)


def test_sh_c_forks_python():
    """sh forks python and goes on after it; while python is traced, sh runs
    untraced (it was let go of) and reads so in its own /proc status."""
    exe = pyenv_or_skip()
    p = run(["sh", "-c", f"echo sh=$$; {exe} {COUNTDOWN} 3000000 & sleep 1; "
             "grep TracerPid /proc/$$/status; wait; echo after-python"])
    pid = assert_traced(p, exe)
    sh = int(re.search(r"sh=(\d+)", p.stdout).group(1))
    assert pid != sh
    assert re.search(r"TracerPid:\s+0\n", p.stdout), p.stdout
    assert "after-python" in p.stdout
    assert p.stderr.count("tracing PID") == 1


def test_env_var():
    exe = pyenv_or_skip()
    p = run(["env", "GILTRACE_TEST=1", "python3", COUNTDOWN, "300000"], env=path_with(exe.parent))
    assert_traced(p, exe)


def test_venv_python(tmp_path):
    base = pyenv_python(PYENV_VER) or Path("/usr/bin/python3")
    venv = tmp_path / "venv"
    r = subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"{base} cannot make a venv: {r.stderr.strip()}")
    assert (venv / "bin" / "python").is_symlink()
    assert_traced(run([venv / "bin" / "python", COUNTDOWN, "300000"]), base)


@pytest.mark.skipif(not shutil.which("unshare"), reason="no unshare(1)")
def test_chroot_in_a_mount_namespace(tmp_path):
    """unshare, sh, mount and chroot before python, which then runs in another
    mount namespace and root: here the host's own files bound at DIR (the
    chroot of a distribution is tests of their own)."""
    exe = pyenv_or_skip()
    root = tmp_path / "root"
    root.mkdir()
    p = run(["unshare", "-m", "--propagation", "private", "sh", "-c",
             f'mount --bind / {root} && exec chroot {root} {exe} "$@"', "sh",
             COUNTDOWN, "300000"])
    assert_traced(p, f"{root}{exe}")


def test_command_without_python():
    p = run(["sh", "-c", "true; ls / > /dev/null"])
    assert p.returncode == 1
    assert re.fullmatch(r"giltrace: sh exited \(status 0\) without running a supported "
                        r"runtime; giltrace saw it exec: /\S+, /\S+/ls\n", p.stderr), p.stderr


def test_command_exit_status_named():
    p = run(["sh", "-c", "exit 3"])
    assert p.returncode == 1
    assert p.stderr.startswith("giltrace: sh exited (status 3) without running a supported "
                               "runtime; giltrace saw it exec: "), p.stderr


@pytest.mark.parametrize("ver", ["3.6", "3.7"])
def test_old_cpython_named(ver):
    exe = pyenv_python(ver)
    if not exe:
        pytest.skip(f"no pyenv CPython {ver}")
    # Through a wrapper too: the refusal is of the python it ran.
    p = run(["env", exe, "-c", "pass"])
    assert p.returncode == 1
    assert re.fullmatch(rf"giltrace: cannot trace PID \d+ \(python{ver}\): \S+ is CPython "
                        rf"{re.escape(ver)}[\d.]*, which giltrace does not know \(supported: "
                        r"CPython .*\)\n", p.stderr), p.stderr


def tracer_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_following(tmp_path, sig):
    """Stopped before the command ran a runtime: the command gets SIGTERM and
    nothing stays traced; status 0, as a stop during a trace."""
    marker = tmp_path / "pid"
    gt = subprocess.Popen([GILTRACE, "--", "sh", "-c", f"echo $$ > {marker}; sleep 60"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if marker.exists() and marker.read_text().strip():
                break
            time.sleep(0.05)
        sh = int(marker.read_text())
        assert tracer_of(sh) == gt.pid
        gt.send_signal(sig)
        out, err = gt.communicate(timeout=30)
    finally:
        gt.kill()
    assert gt.returncode == 0, err
    assert err == "giltrace: stopped before sh ran a supported runtime\n"
    assert tracer_of(sh) is None  # ended, not left stopped
