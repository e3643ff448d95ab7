"""Shared helpers for the end-to-end tests (tests/e2e) and the toy VM's own
tests (tests/toyvm).

Generic on purpose: the repository root, the build directory, and a helper
that runs the toy VM (build/toyvm) and returns the finished process.
"""
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = Path(os.environ.get("GILTRACE_BUILD")
                 or os.environ.get("BUILD") or REPO_ROOT / "build")
if not BUILD_DIR.is_absolute():
    BUILD_DIR = REPO_ROOT / BUILD_DIR
TOYVM = BUILD_DIR / "toyvm"
TOYVM_EXAMPLES = REPO_ROOT / "tools" / "toyvm" / "examples"


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def build_dir():
    """The build directory: `build/`, or $GILTRACE_BUILD, or $BUILD."""
    return BUILD_DIR


@pytest.fixture(scope="session")
def toyvm_bin():
    """Path of build/toyvm, built with `make build/toyvm` if it is missing."""
    if not TOYVM.exists():
        subprocess.run(["make", "-C", str(REPO_ROOT), "BUILD=" + str(BUILD_DIR),
                        str(TOYVM)], check=True, capture_output=True)
    assert TOYVM.exists(), f"{TOYVM} was not built"
    return TOYVM


@pytest.fixture(scope="session")
def toyvm_examples():
    return TOYVM_EXAMPLES


def run_toyvm(args, timeout=60, check=False, **kw):
    """Runs build/toyvm with the given argument list (strings or paths) and
    returns the CompletedProcess (text mode, stdout and stderr captured)."""
    cmd = [str(TOYVM)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, check=check, **kw)


def start_toyvm(args, **kw):
    """Starts build/toyvm in the background (stdout and stderr piped)."""
    cmd = [str(TOYVM)] + [str(a) for a in args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def free_tcp_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def toyvm(toyvm_bin):
    """The run_toyvm helper, with the binary built."""
    return run_toyvm


def pytest_configure(config):
    # `make test-long` runs these (-m long); the normal suite skips them.
    config.addinivalue_line("markers", "long: minutes-long runs, for make test-long")


def pyenv_root():
    """pyenv's root ($PYENV_ROOT or `pyenv root`), or None without pyenv."""
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    return Path(root) if root else None


def pyenv_python(ver):
    """The newest pyenv build of CPython VER ("3.11"), or None."""
    root = pyenv_root()
    if not root:
        return None
    for d in sorted((root / "versions").glob(ver + ".*")):
        exe = d / "bin" / ("python" + ver)
        if re.fullmatch(re.escape(ver) + r"\.\d+", d.name) and exe.exists():
            return exe
    return None


_FT = []


def ft_cpython():
    """(python3.13t, python3.13) built by tools/ft-cpython, once per session:
    built here when GILTRACE_FT_BUILD=1 (make test-e2e), where a failed build
    fails the test; skipped with the reason when not built and not asked
    for, or when the machine has no CPython source to build from."""
    if not _FT:
        tool = str(Path(__file__).resolve().parents[1] / "tools" / "ft-cpython")
        r = subprocess.run([tool, "--check"], capture_output=True, text=True, timeout=120)
        if r.returncode and os.environ.get("GILTRACE_FT_BUILD") == "1":
            r = subprocess.run([tool], capture_output=True, text=True, timeout=3600)
        _FT.append(r)
    r = _FT[0]
    if r.returncode:
        why = r.stderr.strip()[-300:]
        if os.environ.get("GILTRACE_FT_BUILD") == "1" and "no CPython source" not in why:
            pytest.fail(f"tools/ft-cpython failed: {why}")
        pytest.skip(f"free-threaded CPython not built ({why or 'tools/ft-cpython --check'}): "
                    "run tools/ft-cpython (about 6 minutes) or set GILTRACE_FT_BUILD=1 "
                    "(make test-e2e does)")
    t, gil = r.stdout.split()[-2:]
    return Path(t), Path(gil)
