"""Toy VM processes under GIL contention, started on cue, for the
multi-process tests (test_trace_multi.py, test_serve.py).

Each worker connects to a Conductor socket and waits for "go", runs two
CPU-bound threads that fight for the GIL (by default the new GIL with a
200 us switch interval), then says
"done" and waits, GIL released, until told to exit. A worker started without
a port runs at once. Its own counts come from --gil-stats (one JSON line per
snapshot: SIGUSR1, then at exit)."""
import json
import os
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("GILTRACE_BUILD", os.path.join(ROOT, "build"))
GILTRACE = os.path.join(BUILD, "giltrace")
TOYVM = os.path.join(BUILD, "toyvm")

PROGRAM = """
def countdown(n)
    while n > 0
        n -= 1
    end
    return 0
end

port = arg(0, 0)
n = arg(1, 20_000_000)
fd = -1
if port > 0
    fd = connect(port)
    recv(fd, 1)
end
a = spawn(countdown, n)
b = spawn(countdown, n)
join(a)
join(b)
if fd >= 0
    send(fd, 1)
    recv(fd, 1)
end
"""

COUNTS = ("acquisitions", "busy", "retries", "timeouts", "drop_requests", "forced_switches")


def write_program(tmp_path):
    path = os.path.join(str(tmp_path), "contend.tvm")
    with open(path, "w") as f:
        f.write(PROGRAM)
    return path


class Worker:
    def __init__(self, program, tmp_path, name, port=0, n=20_000_000,
                 gil=("--switch-interval=200",)):
        self.stats_path = os.path.join(str(tmp_path), f"{name}.stats")
        self.proc = subprocess.Popen(
            [TOYVM, *gil, f"--gil-stats={self.stats_path}", program, str(port), str(n)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        self.conn = None
        self.started = time.monotonic()

    def snapshots(self):
        """Every --gil-stats snapshot so far, oldest first."""
        try:
            with open(self.stats_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def final(self):
        snaps = [s for s in self.snapshots() if s["reason"] == "exit"]
        assert snaps, f"toy VM {self.pid} wrote no exit snapshot: {self.proc.stderr.read()}"
        return snaps[-1]

    def snapshot_now(self, timeout=5):
        """Asks for a SIGUSR1 snapshot and returns it."""
        before = len(self.snapshots())
        self.proc.send_signal(10)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snaps = self.snapshots()
            if len(snaps) > before:
                return snaps[-1]
            time.sleep(0.02)
        raise AssertionError(f"toy VM {self.pid} wrote no SIGUSR1 snapshot")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Conductor:
    """A loopback server the workers connect to; each one waits for go."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]

    def accept(self, workers):
        """Pairs each worker with its connection (by the peer's PID)."""
        byport = {}
        for _ in workers:
            conn, addr = self.sock.accept()
            byport[addr[1]] = conn
        for w in workers:
            w.conn = byport[peer_port_of(w.pid, self.port)]

    def close(self):
        self.sock.close()


def peer_port_of(pid, server_port):
    """The local port of pid's TCP connection to server_port (/proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if inode in inodes and int(remote.split(":")[1], 16) == server_port:
                return int(local.split(":")[1], 16)
    raise AssertionError(f"PID {pid} has no connection to port {server_port}")


def traced_tgids():
    """Every PID in any giltrace's traced_tgids map now (bpftool)."""
    out = subprocess.run(["bpftool", "-j", "map", "dump", "name", "traced_tgids"],
                         capture_output=True, text=True, timeout=20)
    if out.returncode:
        return set()
    data = json.loads(out.stdout or "[]")
    elements = []
    for item in data:
        elements.extend(item.get("elements", [item]))
    pids = set()
    for e in elements:
        key = e.get("formatted", {}).get("key")
        if key is None:
            key = int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
        pids.add(int(key))
    return pids


def wait_traced(pids, timeout=20):
    """Waits until every PID in pids is registered (its probes are in place)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(pids) <= traced_tgids():
            return
        time.sleep(0.1)
    raise AssertionError(f"giltrace did not attach to {pids} within {timeout} s")


def wait_untraced(pids, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not set(pids) & traced_tgids():
            return
        time.sleep(0.1)
    raise AssertionError(f"{pids} still traced after {timeout} s")


def thread_counts(snapshot, baseline=None):
    """{tid: {count: value}} of a --gil-stats snapshot, less what a baseline
    snapshot (taken before giltrace attached) already had."""
    base = thread_counts(baseline) if baseline else {}
    return {t["tid"]: {k: t[k] - base.get(t["tid"], {}).get(k, 0) for k in COUNTS}
            for t in snapshot["threads"]}


def process_totals(snapshot, baseline=None):
    counts = thread_counts(snapshot, baseline).values()
    return {k: sum(c[k] for c in counts) for k in COUNTS}
