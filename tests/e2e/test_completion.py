"""bash completion (tools/completion/giltrace.bash): sourced in bash, its
function is called as bash would call it, with COMP_WORDS and COMP_CWORD."""
import filecmp
import shutil
import subprocess
import time

import pytest

from conftest import BUILD_DIR, REPO_ROOT

SCRIPT = REPO_ROOT / "tools" / "completion" / "giltrace.bash"
GILTRACE = str(BUILD_DIR / "giltrace")
pytestmark = pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")


def complete(*words):
    """COMPREPLY for the command line `giltrace WORDS...`, the last word
    being completed."""
    line = " ".join(f"'{w}'" for w in (GILTRACE, *words))
    script = (f"source '{SCRIPT}'; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
              "_giltrace; printf '%s\\n' \"${COMPREPLY[@]}\"")
    p = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.splitlines() if w]


def test_registered_for_giltrace():
    p = subprocess.run(["bash", "--norc", "-c", f"source '{SCRIPT}'; complete -p giltrace"],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.strip() == "complete -F _giltrace giltrace"


def test_command_prefix():
    assert complete("rep") == ["report"]


def test_every_command():
    assert complete("") == ["trace", "top", "record", "report", "export", "plot", "serve",
                            "blame"]


def test_options_of_a_command():
    assert complete("report", "--js") == ["--json"]
    assert "--max-size" in complete("record", "--")
    assert "--max-size" not in complete("report", "--")


def test_values():
    assert complete("--mode", "f") == ["futex", "full"]
    assert complete("export", "x.gil", "--format", "") == ["chrome", "csv"]


def test_pids_of_python_processes():
    py = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(60)"])
    other = subprocess.Popen(["sleep", "60"])
    try:
        for _ in range(100):  # comm is python3 once exec is done
            if open(f"/proc/{py.pid}/comm").read().startswith("python"):
                break
            time.sleep(0.01)
        pids = complete("-p", "")
        assert str(py.pid) in pids
        assert str(other.pid) not in pids
        for pid in pids:
            try:
                comm = open(f"/proc/{pid}/comm").read()
            except FileNotFoundError:  # exited since
                continue
            assert comm.startswith(("python", "toyvm")), (pid, comm)
        assert str(py.pid) in complete("top", "--pid", "")
    finally:
        py.kill()
        other.kill()
        py.wait()
        other.wait()


def test_installed(tmp_path):
    p = subprocess.run(["make", "-s", "-C", str(REPO_ROOT), "install-completion",
                        f"DESTDIR={tmp_path}", "PREFIX=/usr"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    installed = tmp_path / "usr/share/bash-completion/completions/giltrace"
    assert filecmp.cmp(installed, SCRIPT, shallow=False)
