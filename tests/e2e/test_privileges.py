"""giltrace gives up what it no longer needs once attached (docs/security.md).

Read from /proc/PID/status of a running giltrace, after its "tracing" line:
a trace of given targets keeps CAP_SYS_PTRACE (the self-check and blame read
the targets' memory), CAP_KILL, and the file capabilities it needs to write
its output, and nothing else, in the bounding set too; --all also keeps what
attaching to later processes takes (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN,
CAP_SYS_RESOURCE). The trace still counts exactly what the toy VM counts.
serve does the same as user nobody (--user), in its HTTP thread too."""
import json
import os
import pwd
import subprocess
import time
import urllib.request

import pytest

from conftest import BUILD_DIR, TOYVM, TOYVM_EXAMPLES
from gilwork import Conductor, Worker, process_totals, wait_traced, write_program

GILTRACE = str(BUILD_DIR / "giltrace")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root")

# include/uapi/linux/capability.h
CAP = {"chown": 0, "dac_override": 1, "dac_read_search": 2, "fowner": 3, "kill": 5,
       "sys_ptrace": 19, "sys_admin": 21, "sys_resource": 24, "perfmon": 38, "bpf": 39}
KEEP = {"chown", "dac_override", "dac_read_search", "fowner", "kill", "sys_ptrace"}
KEEP_ALL = KEEP | {"bpf", "perfmon", "sys_admin", "sys_resource"}


def mask(names):
    """The capabilities named that giltrace had to start with: what this
    test (root, as giltrace) has (a container's root may lack some)."""
    return sum(1 << CAP[n] for n in names) & caps_of("self")["CapEff"]


def caps_of(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Cap"):
                out[k] = int(v, 16)
    return out


def wait_line(proc, text, timeout=30):
    end = time.time() + timeout
    seen = []
    while time.time() < end:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"no {text!r} from giltrace: {''.join(seen)}")


def traced_caps(args):
    """Starts giltrace ARGS, reads its capabilities once it traces, stops it;
    returns (caps, summary JSON, stderr)."""
    g = subprocess.Popen([GILTRACE, "--json", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_line(g, "tracing")
        caps = caps_of(g.pid)
        out, err = g.communicate(timeout=60)
    finally:
        if g.poll() is None:
            g.kill()
            g.wait()
    assert g.returncode == 0, err
    return caps, json.loads(out[out.index("{"):]), err


def test_trace_keeps_only_what_reading_targets_takes(tmp_path):
    stats = tmp_path / "stats.json"
    caps, summary, _ = traced_caps(["--", str(TOYVM), f"--gil-stats={stats}",
                                    str(TOYVM_EXAMPLES / "countdown.tvm"), "2", "20000000"])
    for k in ("CapEff", "CapPrm", "CapBnd"):
        assert caps[k] == mask(KEEP), f"{k} {caps[k]:#x}, want {mask(KEEP):#x}"
    assert caps["CapInh"] == 0 and caps["CapAmb"] == 0
    # and the trace is still whole: the VM's own count of acquisitions
    truth = json.loads(stats.read_text().splitlines()[-1])
    assert sum(t["acquisitions"] for t in summary["threads"]) == \
        sum(t["acquisitions"] for t in truth["threads"])


def test_all_keeps_what_later_attaches_take():
    g_caps, _, _ = traced_caps(["--all", "-d", "2"])
    for k in ("CapEff", "CapPrm", "CapBnd"):
        assert g_caps[k] == mask(KEEP_ALL), f"{k} {g_caps[k]:#x}, want {mask(KEEP_ALL):#x}"


def status_of(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def test_serve_answers_http_as_nobody_and_still_attaches(tmp_path):
    """serve's HTTP thread starts after the drop, so every thread runs as
    nobody with what --all keeps; a toy VM started later is still attached
    to (as nobody, with those capabilities) and counted exactly."""
    nobody = pwd.getpwnam("nobody")
    agent = subprocess.Popen([GILTRACE, "serve", "--all", "--exe", "toyvm",
                              "--listen", "127.0.0.1:0"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    conductor = Conductor()
    worker = None
    try:
        line = agent.stderr.readline()
        assert line.endswith("as user nobody\n"), line
        url = line.split(" on ", 1)[1].split()[0]
        threads = os.listdir(f"/proc/{agent.pid}/task")
        assert len(threads) >= 2, "no HTTP thread"
        for tid in threads:
            st = status_of(f"/proc/{agent.pid}/task/{tid}/status")
            assert st["Uid"] == [str(nobody.pw_uid)] * 4 and st["Gid"] == [str(nobody.pw_gid)] * 4
            assert st.get("Groups", []) == []
            for k in ("CapEff", "CapPrm", "CapBnd"):
                assert int(st[k][0], 16) == mask(KEEP_ALL), f"thread {tid} {k} {st[k]}"
        worker = Worker(write_program(tmp_path), tmp_path, "late", conductor.port,
                        n=5_000_000)
        conductor.accept([worker])
        wait_traced([worker.pid])
        baseline = worker.snapshot_now()
        worker.conn.sendall(b"g")
        assert worker.conn.recv(1), "toy VM ended early"
        time.sleep(0.3)
        truth = process_totals(worker.snapshot_now(), baseline)
        assert truth["busy"] > 0, "no contention: test is void"
        got = None
        for _ in range(50):  # the agent renders once a second
            page = urllib.request.urlopen(url, timeout=5).read().decode()
            got = acquisitions_of(page, worker.pid)
            if got is not None and got >= truth["acquisitions"]:
                break
            time.sleep(0.2)
        assert 'giltrace_ringbuf_drops_total 0' in page
        assert got == truth["acquisitions"]
    finally:
        if worker:
            worker.kill()
        conductor.close()
        agent.terminate()
        agent.communicate(timeout=30)


def acquisitions_of(page, pid):
    for line in page.splitlines():
        if line.startswith("giltrace_gil_acquisitions_total{") and f'pid="{pid}"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return None


@pytest.mark.parametrize("user, message", [
    ("no-such-user-here", "giltrace: no user 'no-such-user-here' on this machine"),
    ("root", "giltrace: --user root is root: name an unprivileged user, such as nobody"),
])
def test_serve_refuses_a_user_it_cannot_become(user, message):
    r = subprocess.run([GILTRACE, "serve", "--all", "--user", user, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.startswith(message), r.stderr
