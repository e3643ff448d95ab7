"""A traced process that lies (docs/security.md): a C program built as
"python3.14" exports a _PyRuntime whose _Py_DebugOffsets carry a wrong
cookie, random bytes, offsets into unmapped memory, pointers that loop, or
a version from the future. giltrace -p must refuse each with one line and
exit 1, within seconds: no crash, no hang, no trace on offsets it could
not check (tests/e2e/c/fake_python.c)."""
import os
import struct
import subprocess
import time

import pytest

from conftest import BUILD_DIR

GILTRACE = str(BUILD_DIR / "giltrace")
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "fake_python.c")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")


# The first 1 KiB of Debian sid's python3.14 (3.14.10) _PyRuntime: its
# _Py_DebugOffsets, as the fuzzer's seed keeps them.
REAL = os.path.join(os.path.dirname(SRC), "..", "..", "fuzz", "corpus", "pydebug", "python3.14")


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake")
    real = bytearray(open(REAL, "rb").read())
    for name, version in (("python3.14", 0x030E0AF0), ("python3.99", 0x036300F0)):
        real[8:16] = struct.pack("<Q", version)
        header = d / f"{name}.h"
        end = max(i + 8 for i in range(0, len(real), 8) if any(real[i:i + 8]))
        # _Py_DebugOffsets (3.14): cookie, version, free_threaded, then
        # runtime_state.size, .finalizing, .interpreters_head
        head_at = struct.unpack_from("<Q", real, 40)[0]
        header.write_text("#define DEBUG_OFFSETS " + ",".join(str(b) for b in real) +
                          f"\n#define DEBUG_END {end}\n#define HEAD_AT {head_at}\n")
        subprocess.run(["cc", "-O1", "-no-pie", "-rdynamic", "-include", str(header),
                        "-o", str(d / name), SRC], check=True)
    return d


@pytest.mark.parametrize("kind,seed", [("cookie", 0), ("garbage", 1), ("garbage", 2),
                                       ("garbage", 3), ("unmapped", 0), ("cycle", 0),
                                       ("future", 4)])
def test_lying_runtime_is_refused(fakes, kind, seed):
    exe = fakes / ("python3.99" if kind == "future" else "python3.14")
    p = subprocess.Popen([str(exe), kind, str(seed)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        t0 = time.monotonic()
        r = subprocess.run([GILTRACE, "-d", "2", "-p", str(p.pid)], capture_output=True,
                           text=True, timeout=60)
        took = time.monotonic() - t0
    finally:
        p.kill()
        p.wait()
    assert r.returncode == 1, f"{kind}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"giltrace: cannot trace PID {p.pid}"), \
        r.stderr
    assert "tracing PID" not in r.stderr and not r.stdout
    assert took < 15, f"{kind}: refused after {took:.1f} s"
