"""The traced command's end, as strace and time report it (docs/errors.md).

giltrace's exit status is the command's when it ran one that ended on its
own (128 + N for signal N); 0 when giltrace stopped it (-d, Ctrl-C) or
traced -p targets; its own errors keep 1 and 2. One line on stderr says how
the targets ended and after how long. A command that ignores SIGTERM is
killed 2 s later, never waited on for ever nor left behind."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BUILD_DIR

GILTRACE = str(BUILD_DIR / "giltrace")
PY = "/usr/bin/python3"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(not os.access(PY, os.X_OK), reason=f"{PY} not installed"),
]


def giltrace(*args, timeout=60):
    return subprocess.run([GILTRACE, *args], capture_output=True, text=True, timeout=timeout)


def test_exit_status_is_the_commands():
    r = giltrace("--", PY, "-c", "import sys; sys.exit(3)")
    assert r.returncode == 3, r.stderr
    assert re.search(r"giltrace: PID \d+ \(\S*python3\) exited with status 3 after [\d.]+ s "
                     r"of tracing", r.stderr), r.stderr
    assert "acquisitions" in r.stdout  # the summary still printed


def test_killed_command_gives_128_plus_signal():
    r = giltrace("--", PY, "-c", "import os; os.kill(os.getpid(), 9)")
    assert r.returncode == 137, r.stderr
    assert re.search(r"was killed by signal 9 \(SIGKILL\) after", r.stderr), r.stderr


def test_duration_stops_the_command_and_exits_0():
    r = giltrace("-d", "0.5", "--", PY, "-c", "import time; time.sleep(30)")
    assert r.returncode == 0, r.stderr
    assert re.search(r"giltrace: stopped PID \d+ \(\S*python3\) after [\d.]+ s of tracing\n",
                     r.stderr), r.stderr


def test_command_ignoring_sigterm_is_killed_after_the_grace():
    t0 = time.monotonic()
    r = giltrace("-d", "0.5", "--", PY, "-c",
                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                 "time.sleep(60)")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "(SIGKILL: it outlived SIGTERM)" in r.stderr, r.stderr
    pid = int(re.search(r"stopped PID (\d+)", r.stderr).group(1))
    assert not os.path.exists(f"/proc/{pid}"), "the command was left behind"
    assert took < 30, f"giltrace took {took:.1f} s"


def test_pid_target_exit_is_said():
    py = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"])
    try:
        g = subprocess.Popen([GILTRACE, "-p", str(py.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = g.stderr.readline()
        assert "tracing PID" in line, line
        py.send_signal(signal.SIGKILL)
        out, err = g.communicate(timeout=30)
    finally:
        py.kill()
        py.wait()
    assert g.returncode == 0, err
    assert re.search(rf"giltrace: PID {py.pid} \(python3\) exited after [\d.]+ s of tracing",
                     err), err


def test_own_errors_keep_1():
    r = giltrace("-p", "999999999")
    assert r.returncode == 1 and "no such process" in r.stderr, r.stderr
    r = giltrace("--", "/nonexistent/python3")
    assert r.returncode == 1, r.stderr
