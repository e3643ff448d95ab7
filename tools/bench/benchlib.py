"""Shared helpers for tools/bench: paths, machine description, statistics."""
import os
import platform
import statistics
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("GILTRACE_BUILD", os.path.join(ROOT, "build"))
GILTRACE = os.path.join(BUILD, "giltrace")
TOYVM = os.path.join(BUILD, "toyvm")
BENCH = os.path.dirname(os.path.abspath(__file__))


def pyenv_versions():
    """$(pyenv root)/versions, or None without pyenv."""
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    return os.path.join(root, "versions") if root else None


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def header(title):
    print("# %s" % title)
    print("# command: %s" % " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    print("# machine: %s, %s, %d CPUs; load average at start: %s"
          % (platform.release(), cpu_model(), os.cpu_count(), loadavg()))
    sys.stdout.flush()


def med_spread(xs):
    """Median and (min, max) of a list."""
    return statistics.median(xs), min(xs), max(xs)


def rusage_ns(ru):
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def need_root():
    if os.geteuid() != 0:
        sys.exit("%s: needs root (BPF)" % os.path.basename(sys.argv[0]))


def pyenv_python(ver):
    """pyenv's interpreter for a version prefix such as '3.11', or None."""
    versions = pyenv_versions()
    if not versions or not os.path.isdir(versions):
        return None
    for v in sorted(os.listdir(versions), reverse=True):
        if v == ver or v.startswith(ver + "."):
            exe = os.path.join(versions, v, "bin", "python" + ver.split(".")[0])
            if os.access(exe, os.X_OK):
                return exe
    return None


def libpython(exe):
    """The shared libpython a pyenv interpreter loads, or the executable."""
    out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libpython" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return exe


def wait_attached(proc, timeout=30.0, settle=0.5):
    """Waits until a giltrace process has attached: its perf-event and BPF
    link descriptors (one per probe) stopped growing for `settle` seconds.
    giltrace prints nothing once attached, and loading takes longer on a
    busy machine than any fixed sleep. Returns False if it exited."""
    import time
    end = time.time() + timeout
    last, since = -1, time.time()
    while time.time() < end:
        if proc.poll() is not None:
            return False
        n = 0
        try:
            for fd in os.listdir("/proc/%d/fd" % proc.pid):
                try:
                    link = os.readlink("/proc/%d/fd/%s" % (proc.pid, fd))
                except OSError:
                    continue
                if "perf_event" in link or "bpf_link" in link or "bpf-link" in link:
                    n += 1
        except OSError:
            return proc.poll() is None
        if n != last:
            last, since = n, time.time()
        elif n > 0 and time.time() - since >= settle:
            return True
        time.sleep(0.05)
    return proc.poll() is None
