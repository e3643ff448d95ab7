"""The Debian package, installed for real (docs/packaging.md).

`make deb` builds it with Debian's tooling and lintian must find no error.
Then, on an overlay over a fresh Debian 12 chroot (tools/debian-chroot:
debootstrap's minbase, nothing else), `apt-get install ./giltrace_*.deb
python3` must pull only packages from Debian's archive, the installed
giltrace must trace a Python started in that chroot (hand-offs equal to the
interpreter's own count), and `apt-get remove giltrace` must leave none of
its files behind."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and tracing need root"),
    pytest.mark.skipif(shutil.which("dpkg-buildpackage") is None or shutil.which("lintian")
                       is None or shutil.which("debootstrap") is None,
                       reason="dpkg-dev, debhelper, lintian or debootstrap missing (make deps)"),
]

DEMO = """import threading
def countdown(n):
    while n > 0:
        n -= 1
threads = [threading.Thread(target=countdown, args=(3000000,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}: {r.stdout[-2000:]}{r.stderr[-2000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def deb():
    run(["make", "-s", "deb"], cwd=REPO_ROOT, timeout=900)
    debs = sorted((REPO_ROOT / "build" / "deb").glob("giltrace_*_amd64.deb"))
    assert len(debs) == 1, debs
    return debs[0]


@pytest.fixture
def fresh_root(tmp_path):
    """A throwaway root: an overlay on the cached chroot, with /proc and
    /sys (the kernel's BTF, the uprobe PMU) mounted."""
    lower = run([str(REPO_ROOT / "tools" / "debian-chroot"), "bookworm"], timeout=900).strip()
    upper, work, root = (tmp_path / n for n in ("upper", "work", "root"))
    for d in (upper, work, root):
        d.mkdir()
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={lower},upperdir={upper},workdir={work}", str(root)])
    mounted = [root]
    try:
        for fs, where in (("proc", "proc"), ("sysfs", "sys")):
            run(["mount", "-t", fs, fs, str(root / where)])
            mounted.append(root / where)
        yield root
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", "-l", str(m)])


def in_root(root, *cmd, timeout=600):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
           "LC_ALL": "C"}
    return run(["chroot", str(root), *cmd], env=env, timeout=timeout)


def installed(root):
    out = in_root(root, "dpkg-query", "-W", "-f", "${Package}\\n")
    return set(out.split())


def test_lintian_finds_no_error(deb):
    out = run(["lintian", "--fail-on", "error", str(deb)])
    assert not [line for line in out.splitlines() if line.startswith("E:")], out


def test_depends_on_shared_libraries_only(deb):
    depends = run(["dpkg-deb", "-f", str(deb), "Depends"])
    names = {d.strip().split()[0] for d in depends.split(",")}
    assert names <= {"libbpf1", "libc6", "libcap2", "libelf1", "libjson-c5", "libmicrohttpd12",
                     "libncursesw6", "libtinfo6", "zlib1g"}, names


def test_installs_traces_and_removes_cleanly(deb, fresh_root):
    root = fresh_root
    shutil.copy(deb, root / "tmp" / deb.name)
    (root / "tmp" / "demo.py").write_text(DEMO)
    before = installed(root)
    in_root(root, "apt-get", "install", "-y", "--no-install-recommends", f"/tmp/{deb.name}",
            "python3")
    new = installed(root) - before
    assert "giltrace" in new
    # every other package came from Debian's archive
    for pkg in sorted(new - {"giltrace"}):
        policy = in_root(root, "apt-cache", "policy", pkg)
        assert "deb.debian.org" in policy, f"{pkg} from elsewhere: {policy}"

    out = in_root(root, "giltrace", "--json", "--", "python3", "/tmp/demo.py", timeout=120)
    summary = json.loads(out[out.index("{"):])
    assert sum(t["acquisitions"] for t in summary["threads"]) > 0
    check = summary["handoff_check"]
    assert check["interpreter"] > 0 and check["seen"] == check["interpreter"], check

    files = [line.split(None, 5)[5].lstrip(".") for line in
             run(["dpkg-deb", "-c", str(deb)]).splitlines()]
    in_root(root, "apt-get", "remove", "-y", "giltrace")
    left = [f for f in files if not f.endswith("/") and os.path.lexists(str(root) + f)]
    assert not left, f"left behind by apt-get remove: {left}"
    assert not (root / "usr" / "share" / "giltrace").exists()
