"""What the app workloads share: an echo server in another process, and the
"ready" line the tests wait for."""
import os
import subprocess
import sys


def start_echo():
    """Starts echo.py; returns (process, port)."""
    proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "echo.py")],
                            stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def burn(n):
    """Pure-Python CPU: about 40 ns an iteration on CPython 3.11 here."""
    total = 0
    for i in range(n):  # BURN_LOOP
        total += i * i % 7
    return total
