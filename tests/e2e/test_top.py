"""`giltrace top`: the live view, driven in tmux as htop's test_spec.lua
drives htop in a virtual terminal, and its plain-line form in a pipe.

What is asserted: the screen shows the engine's threads, figures that agree
with each other (the header's GIL utilisation is the sum of the rows' hold
shares) and the convoy diagnosis for the convoy workload, none for a single
CPU-bound thread; keys pause, change the interval, open the help; resizing
keeps a whole screen; `q` gives back a clean terminal and the summary lists
the very threads the screen showed. In a pipe, the per-interval counts add
up exactly to the summary's totals."""
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import BUILD_DIR, REPO_ROOT, TOYVM_EXAMPLES, free_tcp_port

GILTRACE = BUILD_DIR / "giltrace"
TOYVM = BUILD_DIR / "toyvm"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="tracing needs root"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not os.access(GILTRACE, os.X_OK), reason="build/giltrace not built"),
    pytest.mark.skipif(not os.access(TOYVM, os.X_OK), reason="build/toyvm not built"),
]

ROW = re.compile(r"^\s*(\d+) (.{10,}?)\s+(HOLD|WAIT|RUN|\?)\s+([\d.]+)\s+([\d.]+)\s")
UTIL = re.compile(r"GIL util\s+([\d.]+)%\s+contention\s+([\d.]+)%")
EXIT = "__giltrace_exit="


class Tmux:
    """One detached tmux session running a command, read with capture-pane."""

    def __init__(self, command, width=100, height=30):
        self.name = "giltrace-top-" + uuid.uuid4().hex[:8]
        # The shell stays after the command so that its output can be read.
        shell = f"{command}; echo {EXIT}$?; sleep 600"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width),
                        "-y", str(height), "env", "LANG=C.UTF-8", "sh", "-c", shell],
                       check=True)

    def tmux(self, *args):
        return subprocess.run(["tmux", *args], check=True, capture_output=True,
                              text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def history(self):
        """Everything the pane printed outside the full-screen view too."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def size(self):
        w, h = self.tmux("display", "-p", "-t", self.name,
                         "#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def terminal_state(self):
        """(alternate screen on, cursor visible) as tmux sees the pane."""
        alt, cursor = self.tmux("display", "-p", "-t", self.name,
                                "#{alternate_on} #{cursor_flag}").split()
        return alt == "1", cursor == "1"

    def wait_for(self, predicate, timeout=30, history=False):
        end = time.monotonic() + timeout
        while True:
            text = self.history() if history else self.screen()
            if predicate(text):
                return text
            if time.monotonic() > end:
                raise AssertionError(f"screen never matched; last screen:\n{text}")
            time.sleep(0.2)

    def kill(self):
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux_session():
    sessions = []

    def start(command, **kw):
        s = Tmux(command, **kw)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.kill()


def rows_of(screen):
    """Thread rows as {tid: (name, state, hold%, wait%)}."""
    rows = {}
    for line in screen.splitlines():
        m = ROW.match(line)
        if m:
            rows[int(m.group(1))] = (m.group(2).strip(), m.group(3), float(m.group(4)),
                                     float(m.group(5)))
    return rows


def is_frame(screen):
    return "TID NAME" in screen and UTIL.search(screen) is not None


def assert_sane_frame(screen, width):
    """A whole frame: header, table header, keys line, nothing past the edge."""
    lines = screen.splitlines()
    assert lines[0].startswith(("giltrace top", "PAUSED")), screen
    assert UTIL.search(screen), screen
    assert any("TID NAME" in line for line in lines), screen
    assert all(len(line) <= width for line in lines), screen
    assert re.search(r"q quit|press any key", screen), screen


def assert_util_is_sum_of_rows(screen):
    """The header's GIL utilisation is the engine's hold time over the
    interval: the rows' hold shares add up to it (one process)."""
    util = float(UTIL.search(screen).group(1))
    rows = rows_of(screen)
    total = sum(r[2] for r in rows.values())
    assert abs(total - util) <= 0.1 * len(rows) + 0.2, f"util {util}, rows sum {total}\n{screen}"


def summary_threads(text):
    """{tid: (name, acquire, busy, retries, forced)} from a text summary."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if re.match(r"\s+TGID\s+TID\s+NAME", line))
    threads = {}
    for line in lines[start + 1:]:
        f = line.split()
        if len(f) < 10 or not f[0].isdigit():
            break
        threads[int(f[1])] = (f[2], int(f[3]), int(f[4]), int(f[6]), int(f[9]))
    return threads


def summary_totals(text):
    m = re.search(r"^totals: (\d+) acquisitions, (\d+) busy \([\d.]+%\), (\d+) retries, "
                  r"\d+ timeouts, \d+ drop requests, (\d+) forced", text, re.M)
    assert m, text
    return tuple(int(x) for x in m.groups())


def summary_drops(text):
    return int(re.search(r"drops (\d+), unpaired", text).group(1))


def start_echo_client(port):
    """The convoy's other end: a client that keeps sending until the server
    goes away (it then fails, which is fine)."""
    return subprocess.Popen([str(TOYVM), str(TOYVM_EXAMPLES / "echo_client.tvm"), str(port),
                             "1000000000000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_convoy_screen_matches_summary(tmux_session):
    port = free_tcp_port()
    client = start_echo_client(port)
    try:
        # Three spinners on the test machine's cores keep the echo thread
        # waiting a switch interval after each recv(): the convoy.
        s = tmux_session(f"{GILTRACE} top -d 7 -- {TOYVM} "
                         f"{TOYVM_EXAMPLES / 'convoy.tvm'} {port} 3", width=100, height=30)
        screens = []
        end = time.monotonic() + 60
        while time.monotonic() < end:
            screen = s.screen()
            if is_frame(screen):
                screens.append(screen)
            if "duration reached" in screen:
                break
            if len(screens) == 12:
                # Mid-run: a narrow terminal, then a big one.
                s.resize(60, 20)
                time.sleep(0.5)
                small = s.screen()
                assert_sane_frame(small, 60)
                assert rows_of(small), small
                s.resize(130, 40)
                time.sleep(0.5)
                big = s.screen()
                assert_sane_frame(big, 130)
                assert "HOLD HISTORY" in big, big
            time.sleep(0.25)
        final = s.screen()
        assert "duration reached: press any key" in final, final
        assert_sane_frame(final, 130)
    finally:
        client.kill()
        client.wait()

    frames = [x for x in screens if rows_of(x)]
    assert frames, "no frame with thread rows"
    convoy = [x for x in frames if re.search(r"^convoy: thread \d+ \(", x, re.M)]
    assert convoy, "the convoy workload never showed the convoy diagnosis:\n" + frames[-1]
    screen = convoy[-1]
    assert re.search(r"^\s+hint: .*switchinterval", screen, re.M), screen
    victim = int(re.search(r"^convoy: thread (\d+)", screen, re.M).group(1))
    assert victim in rows_of(screen), screen
    assert rows_of(screen)[victim][3] > 10.0, "the convoy's victim hardly waits:\n" + screen
    assert re.search(r"pid \d+ \(toyvm\)\s+toyvm \S+\s+mode \S+", screen), screen
    for frame in frames[1:]:
        assert_util_is_sum_of_rows(frame)

    shown = rows_of(final)
    s.keys("q")
    text = s.wait_for(lambda t: EXIT in t, history=True)
    assert f"{EXIT}0" in text, text
    assert s.terminal_state() == (False, True), "terminal left in the alternate screen " \
        "or with the cursor hidden"
    threads = summary_threads(text)
    # The screen's rows are the engine's threads: the same TIDs, the same
    # names (cut to the column's width on screen).
    assert set(shown) == set(threads), f"screen {sorted(shown)}, summary {sorted(threads)}"
    for tid, (name, *_rest) in shown.items():
        assert threads[tid][0].startswith(name), f"tid {tid}: screen {name!r}, " \
            f"summary {threads[tid][0]!r}"
    assert re.search(rf"duration [\d.]+ \S+, {len(shown)} threads in 1 processes", text), text
    # The held output of the target comes after the screen is gone.
    assert "listening" in text, text


def test_single_thread_keys_no_diagnosis(tmux_session):
    s = tmux_session(f"{GILTRACE} top -- {TOYVM} {TOYVM_EXAMPLES / 'spin.tvm'}",
                     width=80, height=24)
    s.wait_for(lambda t: is_frame(t) and "spin" in t and re.search(r"elapsed 0:0[2-9]", t))
    screen = s.screen()
    assert_sane_frame(screen, 80)
    rows = rows_of(screen)
    spin = [tid for tid, r in rows.items() if r[0] == "spin"]
    assert len(spin) == 1, screen
    assert rows[spin[0]][2] > 90.0, "the one spinner should hold the GIL:\n" + screen
    assert not re.search(r"^(convoy|starved|GIL battle)", screen, re.M), screen

    # p freezes the display while tracing goes on.
    s.keys("p")
    paused = s.wait_for(lambda t: t.startswith("PAUSED"))
    time.sleep(2.5)
    assert s.screen() == paused, "the paused display changed"
    s.keys("p")
    s.wait_for(lambda t: t.startswith("giltrace top"))
    # + and - step the interval; s cycles the sort; ? shows the help.
    s.keys("+")
    s.wait_for(lambda t: "every 2.0s" in t)
    s.keys("-", "-")
    s.wait_for(lambda t: "every 0.5s" in t)
    s.keys("s")
    s.wait_for(lambda t: "sort: wait" in t)
    s.keys("?")
    s.wait_for(lambda t: "giltrace top: keys" in t and "any key: back" in t)
    s.keys("x")  # any key closes the help, and does nothing else
    s.wait_for(lambda t: is_frame(t) and "sort: wait" in t)
    s.keys("x")
    s.wait_for(lambda t: is_frame(t) and "sort: max" in t)
    screen = s.wait_for(lambda t: is_frame(t) and rows_of(t))
    assert not re.search(r"^(convoy|starved|GIL battle)", screen, re.M), screen

    s.keys("q")
    text = s.wait_for(lambda t: EXIT in t, history=True)
    assert f"{EXIT}0" in text, text
    assert s.terminal_state() == (False, True)
    assert "the GIL is not your problem" in text, text
    assert spin[0] in summary_threads(text), text


def test_plain_lines_add_up_to_summary():
    """stdout is a pipe: no screen, one line of totals and one per thread
    each interval; the intervals partition the run, so their counts add up
    to the summary's exactly (when nothing was dropped)."""
    port = free_tcp_port()
    client = start_echo_client(port)
    try:
        run = subprocess.run([str(GILTRACE), "top", "-i", "0.5", "-d", "3", "--", str(TOYVM),
                              str(TOYVM_EXAMPLES / "convoy.tvm"), str(port), "2"],
                             capture_output=True, text=True, timeout=60)
    finally:
        client.kill()
        client.wait()
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "\x1b" not in out, "terminal escapes in plain output"
    heads = [line for line in out.splitlines() if line.startswith("top ")]
    assert len(heads) >= 5, out
    assert "final" in heads[-1] and all("final" not in h for h in heads[:-1]), out
    sums = {}
    totals = [0, 0, 0, 0]
    for line in out.splitlines():
        if line.startswith("top "):
            kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
            for i, k in enumerate(("acquisitions", "busy", "retries", "forced")):
                totals[i] += int(kv[k])
        elif line.startswith("  tgid="):
            kv = dict(w.split("=", 1) for w in line.split("name=")[0].split())
            acc = sums.setdefault(int(kv["tid"]), [0, 0, 0, 0])
            for i, k in enumerate(("acquisitions", "busy", "retries", "forced")):
                acc[i] += int(kv[k])
            assert kv["state"] in ("holding", "waiting", "running", "unknown"), line
    summary = out[out.index("giltrace: pid"):]
    threads = summary_threads(summary)
    assert set(sums) == set(threads), out
    if summary_drops(summary):
        pytest.skip("ring-buffer drops: counts are lower bounds")
    assert tuple(totals) == summary_totals(summary), out
    for tid, (name, acq, busy, retries, forced) in threads.items():
        assert sums[tid] == [acq, busy, retries, forced], f"tid {tid} ({name}): intervals " \
            f"{sums[tid]}, summary {[acq, busy, retries, forced]}"
    assert sum(t[1] for t in threads.values()) > 100, "no GIL traffic: test is void"


def test_plain_holding_now_names_the_hog():
    """top --blame names the function the holder runs: the hog's loop."""
    from conftest import pyenv_python, REPO_ROOT
    exe = next((p for p in (pyenv_python(v) for v in ("3.11", "3.12", "3.10")) if p), None)
    if exe is None:
        pytest.skip("no pyenv CPython 3.10-3.12 (full mode) on this machine")
    hog = REPO_ROOT / "tests" / "e2e" / "py" / "blame_hog.py"
    p = subprocess.run([str(GILTRACE), "top", "--blame", "--mode=full", "-i", "0.5", "-d", "2.5",
                        "--",
                        str(exe), str(hog), "1", "4"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    now = re.findall(r"^    holding_now=(.*)$", p.stdout, re.M)
    assert now, "no interval named a holder"
    hog_line = next(i for i, l in enumerate(hog.read_text().splitlines(), 1) if "# HOG_ONE" in l)
    assert f"hog_one ({hog}:{hog_line})" in now
    # Only ever the hog or one of the workload's own functions: never a guess.
    assert all(n.split(" (")[0] in ("hog_one", "io_worker", "main", "<module>") or
               "threading.py" in n for n in now), now


HOSTILE = REPO_ROOT / "tests" / "e2e" / "py" / "hostile_names.py"
SAFE_THREAD = '?[2Jx"y?z}'


@pytest.mark.skipif(not os.access("/usr/bin/python3", os.X_OK), reason="no /usr/bin/python3")
def test_hostile_thread_name_shown_safely_on_screen(tmux_session):
    """A thread named '\\x1b[2Jx"y\\nz}' (docs/security.md): printed raw, the
    ESC [2J would clear the pane and the newline split its row."""
    s = tmux_session(f"{GILTRACE} top -d 3 -- /usr/bin/python3 {HOSTILE} 6")
    # its row whole on one line, as the other threads' (the diagnoses name
    # it too)
    s.wait_for(lambda t: any(ROW.match(line) and SAFE_THREAD in line
                             for line in t.splitlines()))


@pytest.mark.skipif(not os.access("/usr/bin/python3", os.X_OK), reason="no /usr/bin/python3")
def test_hostile_thread_name_in_plain_lines():
    r = subprocess.run([GILTRACE, "top", "-d", "2", "--", "/usr/bin/python3", str(HOSTILE), "4"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"name={SAFE_THREAD}\n" in r.stdout
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f]", r.stdout + r.stderr)
