"""`giltrace serve`: a real Prometheus server scrapes the agent.

Two toy VMs under contention; once they are idle, Prometheus's own query API,
the agent's /metrics read at that moment and each VM's --gil-stats must agree
on every process's acquisitions and retries. A VM that exits leaves /metrics;
garbage on the socket gets an error (or nothing), and the agent stays up."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from gilwork import (GILTRACE, TOYVM, Conductor, Worker, process_totals, wait_traced,
                     write_program)

PROMETHEUS = shutil.which("prometheus")
PY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "py")
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(not os.access(TOYVM, os.X_OK), reason="build/toyvm not built"),
    pytest.mark.skipif(PROMETHEUS is None,
                       reason="Debian's prometheus package is not installed (make deps)"),
]

# The old GIL makes woken threads find it taken again: retries to count.
OLD_GIL = ("--gil=old", "--check-interval=1000")
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, accept=None, timeout=5):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of an exposition page."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, _, labels = head.partition("{")
        pairs = []
        for item in labels.rstrip("}").split('",') if labels else []:
            k, _, v = item.partition('="')
            pairs.append((k, v.rstrip('"')))
        samples[(name, frozenset(pairs))] = float(value)
    return samples


def by_pid(samples, name):
    return {int(dict(labels)["pid"]): v for (n, labels), v in samples.items() if n == name}


class Agent:
    def __init__(self, *args):
        self.proc = subprocess.Popen([GILTRACE, "serve", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        assert "serving metrics on http://127.0.0.1:" in line, line
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def metrics(self, accept=None):
        status, ctype, body = http_get(self.url, accept)
        assert status == 200
        return ctype, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()


class Prometheus:
    def __init__(self, tmp_path, agent_port):
        self.port = free_port()
        cfg = os.path.join(str(tmp_path), "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: giltrace\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{agent_port}']\n")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}",
             f"--storage.tsdb.path={os.path.join(str(tmp_path), 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Debian's 2.42 is ready in well under a second here; allow for load.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            assert self.proc.poll() is None, self.proc.stderr.read()
            time.sleep(0.1)
        raise AssertionError("prometheus not ready within 30 s")

    def query(self, expr):
        q = urllib.parse.urlencode({"query": expr})
        _, _, body = http_get(f"http://127.0.0.1:{self.port}/api/v1/query?{q}")
        data = json.loads(body)
        assert data["status"] == "success", data
        return data["data"]["result"]

    def by_pid(self, expr):
        return {int(r["metric"]["pid"]): float(r["value"][1]) for r in self.query(expr)}

    def last_scrape(self):
        r = self.query('timestamp(up{job="giltrace"})')
        return float(r[0]["value"][1]) if r else 0.0

    def wait_scrapes_after(self, wall, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.last_scrape() >= wall:
                return
            time.sleep(0.2)
        raise AssertionError(f"no scrape after {wall} within {timeout} s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def raw_exchange(port, data, timeout=5):
    """Sends data as is; returns what the agent answers (b"" if it closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except (ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)


def test_prometheus_scrapes_per_process_counts(tmp_path):
    program = write_program(tmp_path)
    conductor = Conductor()
    workers = [Worker(program, tmp_path, n, conductor.port, n=20_000_000, gil=OLD_GIL)
               for n in ("a", "b")]
    agent = prom = None
    try:
        conductor.accept(workers)
        agent = Agent("-p", ",".join(str(w.pid) for w in workers))
        prom = Prometheus(tmp_path, agent.port)
        wait_traced([w.pid for w in workers])
        baselines = {w.pid: w.snapshot_now() for w in workers}
        # One process at a time: each gets both CPUs, so its two threads run
        # at once and woken threads find the GIL taken again (retries); two
        # processes side by side often got a CPU each, and no retries.
        for w in workers:
            w.conn.sendall(b"g")
            assert w.conn.recv(1), f"toy VM {w.pid} ended early"
        # Idle soon: each main thread re-takes the GIL after its send and
        # then waits in recv without it. The agent renders once a second and
        # Prometheus scrapes once a second, so two scrapes after this moment
        # see the final figures.
        time.sleep(0.3)
        truth = {w.pid: process_totals(w.snapshot_now(), baselines[w.pid]) for w in workers}
        prom.wait_scrapes_after(time.time() + 2.0)
        promq = {k: prom.by_pid(f"giltrace_gil_{k}_total") for k in ("acquisitions", "retries")}
        _, text = agent.metrics()
        ctype, om = agent.metrics(OPENMETRICS)
        assert ctype.startswith("application/openmetrics-text")
        assert om.endswith("# EOF\n")
        direct = parse_metrics(text)
        drops = direct[("giltrace_ringbuf_drops_total", frozenset())]
        for k, engine_key in (("acquisitions", "acquisitions"), ("retries", "retries")):
            scraped = by_pid(direct, f"giltrace_gil_{k}_total")
            for w in workers:
                assert promq[k][w.pid] == scraped[w.pid], f"{k} of {w.pid}: prometheus vs /metrics"
                if drops == 0:
                    assert scraped[w.pid] == truth[w.pid][engine_key], f"{k} of {w.pid}"
        assert all(t["busy"] > 0 for t in truth.values()) and \
            sum(t["retries"] for t in truth.values()) > 0, "no contention: test is void"
        # The histogram counts every measured wait; +Inf is its _count.
        counts = by_pid(direct, "giltrace_gil_wait_seconds_count")
        contended = by_pid(direct, "giltrace_gil_contended_acquisitions_total")
        for w in workers:
            assert 0 < counts[w.pid] <= contended[w.pid]
        assert prom.by_pid("giltrace_info").keys() == {w.pid for w in workers}

        # A malformed request gets an HTTP error or a closed socket; the agent
        # stays up and keeps serving.
        for junk in (b"\x00\xff\xfe garbage \r\n\r\n", b"GET /metrics HTTP/9.9\r\nBad\r\n\r\n",
                     b"GET " + b"A" * 100000 + b" HTTP/1.1\r\n\r\n"):
            answer = raw_exchange(agent.port, junk)
            assert answer == b"" or answer.startswith(b"HTTP/1."), answer[:80]
            if answer:
                assert int(answer.split()[1]) >= 400
        with pytest.raises(urllib.error.HTTPError) as e:
            http_get(agent.url.replace("/metrics", "/nope"))
        assert e.value.code == 404

        # A process that exits leaves /metrics; the other stays.
        gone, kept = workers
        gone.conn.sendall(b"x")
        assert gone.proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            pids = by_pid(parse_metrics(agent.metrics()[1]), "giltrace_gil_acquisitions_total")
            if gone.pid not in pids:
                break
            time.sleep(0.1)
        assert set(pids) == {kept.pid}
        kept.conn.sendall(b"x")
        assert kept.proc.wait(timeout=30) == 0
        assert agent.proc.poll() is None, "the agent ended with its targets"
    finally:
        if prom:
            prom.stop()
        out, err = agent.stop() if agent else ("", "")
        for w in workers:
            w.kill()
        conductor.close()
    assert agent.proc.returncode == 0, err


# The monitoring kit (tools/monitoring, docs/prometheus.md).
KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                   "monitoring")
PROMTOOL = shutil.which("promtool")
NAME = re.compile(r"\bgiltrace[_:][A-Za-z0-9_:]*")


def kit_rules():
    with open(os.path.join(KIT, "giltrace.rules.yml")) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (make deps)")
def test_monitoring_rules_check_and_pass_their_unit_tests():
    r = subprocess.run([PROMTOOL, "check", "rules", "giltrace.rules.yml"], cwd=KIT,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS: 10 rules found" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([PROMTOOL, "test", "rules", "giltrace.rules.test.yml"], cwd=KIT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # every alert has a test that makes it fire
    with open(os.path.join(KIT, "giltrace.rules.test.yml")) as f:
        tested = {a["alertname"] for t in yaml.safe_load(f)["tests"]
                  for a in t.get("alert_rule_test", []) if a["exp_alerts"]}
    assert tested == {r["alert"] for r in kit_rules() if "alert" in r}


def test_monitoring_kit_queries_only_what_giltrace_serves(tmp_path):
    """Every name in the rules and the dashboard is a recorded rule or a
    series a real agent serves: a CPython with hand-offs to count, scraped
    once its threaded part is over (quiet_edges.py waits on stdin before
    and after it), so the self-check's series are final."""
    py = subprocess.Popen(["/usr/bin/python3", os.path.join(PY_DIR, "quiet_edges.py"), "cpu",
                           "3000000"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    agent = None
    try:
        assert py.stderr.readline().strip() == "ready"
        agent = Agent("-p", str(py.pid))
        wait_traced([py.pid])
        py.stdin.write("go\n")
        py.stdin.flush()
        assert py.stderr.readline().strip() == "done"
        time.sleep(2.5)  # a self-check reading (100 ms) and a page (1 s) after
        _, text = agent.metrics()
    finally:
        py.kill()
        py.wait()
        if agent:
            agent.stop()
    served = {n for n, _ in parse_metrics(text)}
    recorded = {r["record"] for r in kit_rules() if "record" in r}
    with open(os.path.join(KIT, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    exprs = [r["expr"] for r in kit_rules()] + \
        [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {n for e in exprs for n in NAME.findall(e)}
    assert used - recorded - served == set(), f"served: {sorted(served)}"
    # The self-check's series: a cond-mode trace of CPython equals the
    # interpreter's own count.
    samples = parse_metrics(text)
    interp = by_pid(samples, "giltrace_selfcheck_handoffs_interpreter_total")[py.pid]
    assert interp > 0
    assert by_pid(samples, "giltrace_selfcheck_handoffs_seen_total")[py.pid] == interp
    assert by_pid(samples, "giltrace_selfcheck_handoffs_missed")[py.pid] == 0
    assert by_pid(samples, "giltrace_selfcheck_handoffs_extra")[py.pid] == 0
