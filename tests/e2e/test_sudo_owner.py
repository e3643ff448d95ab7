"""Under sudo, every file giltrace writes belongs to the user who ran sudo
(SUDO_UID/SUDO_GID), keeps its mode (captures 0600, exports 0644) and is
still never written through a symbolic link. sudo is played by setting the
two variables for a root giltrace, with nobody's ids (65534)."""
import os
import stat
import subprocess

import pytest

from conftest import BUILD_DIR, TOYVM_EXAMPLES

GILTRACE = str(BUILD_DIR / "giltrace")
NOBODY = 65534
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing and chown need root")
SUDO = {**os.environ, "SUDO_UID": str(NOBODY), "SUDO_GID": str(NOBODY), "SUDO_USER": "nobody"}


def run(*args, env=SUDO):
    return subprocess.run([GILTRACE, *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


def counter(toyvm):
    """The command runs as root (--as-root): under sudo it would run as
    nobody, who may not reach a clone in a private directory; what is
    tested is who owns giltrace's files."""
    return ["--as-root", "--", toyvm, "--switch-interval=1000", TOYVM_EXAMPLES / "counter.tvm", 3, 300000]


def owner_mode(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture(scope="module")
def capture(toyvm_bin, tmp_path_factory):
    path = tmp_path_factory.mktemp("sudo") / "app.gil"
    p = run("record", "-o", path, *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    return path


def test_capture_owned_by_sudo_user(capture):
    assert owner_mode(capture) == (NOBODY, NOBODY, 0o600)


def test_capture_overwritten_with_force(toyvm_bin, tmp_path):
    path = tmp_path / "old.gil"
    path.write_text("root's")
    os.chmod(path, 0o644)
    p = run("record", "--force", "-o", path, *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert owner_mode(path) == (NOBODY, NOBODY, 0o600)


def test_capture_without_sudo_stays_root(toyvm_bin, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    path = tmp_path / "root.gil"
    p = run("record", "-o", path, *counter(toyvm_bin), env=env)
    assert p.returncode == 0, p.stderr
    assert owner_mode(path) == (0, 0, 0o600)


def test_capture_symlink_still_refused(toyvm_bin, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "app.gil"
    link.symlink_to(victim)
    p = run("record", "--force", "-o", link, *counter(toyvm_bin))
    assert p.returncode == 1
    assert p.stderr.splitlines()[-1] == f"giltrace: cannot create capture {link}: it is a symbolic link"
    assert victim.read_text() == "keep"
    assert owner_mode(victim)[:2] == (0, 0)


@pytest.mark.parametrize("cmd", [
    ["export", "{cap}", "-o", "{out}"],
    ["export", "--format=csv", "{cap}", "-o", "{out}"],
    ["plot", "{cap}", "-o", "{out}"],
    ["report", "--json", "{cap}", "-o", "{out}"],
])
def test_outputs_owned_by_sudo_user(capture, tmp_path, cmd):
    out = tmp_path / "out"
    p = run(*[a.format(cap=capture, out=out) for a in cmd])
    assert p.returncode == 0, p.stderr
    assert owner_mode(out) == (NOBODY, NOBODY, 0o644)


def test_output_symlink_still_refused(capture, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "out.svg"
    link.symlink_to(victim)
    p = run("plot", capture, "--force", "-o", link)
    assert p.returncode == 1
    assert p.stderr == f"giltrace: cannot create {link}: it is a symbolic link\n"
    assert victim.read_text() == "keep"


def test_summary_file_owned_by_sudo_user(toyvm_bin, tmp_path):
    out = tmp_path / "gil.json"
    p = run("--json", "-o", out, *counter(toyvm_bin))
    assert p.returncode == 0, p.stderr
    assert owner_mode(out) == (NOBODY, NOBODY, 0o644)
