"""A GIL workload between two quiet edges, for checks against the
interpreter's own count of hand-offs (gil->switch_number): prints "ready" on
stderr and waits for a line on stdin; runs the workload; prints "done" and
waits for another line before it exits. Between the edges only the main
thread runs, blocked in a read with the GIL released, so a reading of
switch_number taken there is exact.

  quiet_edges.py cpu N     two threads counting down from N
  quiet_edges.py pool N    ThreadPoolExecutor(8): N tasks, one in four a
                           pure-Python loop, the rest socket round trips
  quiet_edges.py convoy N  an echo thread beside a pure-Python spinner; the
                           client, another process, sends N 8 KB messages
  quiet_edges.py pinned-convoy N  the same with this process on CPU 0 and the
                           client on CPU 1, so that every message waits out a
                           switch interval (docs/cpython.md, "The convoy")
"""
import os
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from countdown import countdown, say, two_threads


def pool(n):
    a, b = socket.socketpair()
    lock = threading.Lock()

    def task(i):
        if i % 4 == 0:
            countdown(20000)
        else:
            with lock:  # one round trip on the pair at a time
                a.sendall(b"x")
                b.recv(1)
                b.sendall(b"y")
                a.recv(1)

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(task, range(n)))
    a.close()
    b.close()


CLIENT = """
import os, socket, sys
if sys.argv[3] == "pin":
    os.sched_setaffinity(0, {1})
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
msg = b"x" * 8192
for _ in range(int(sys.argv[2])):
    s.sendall(msg)
    got = 0
    while got < len(msg):
        got += len(s.recv(len(msg) - got))
"""


def convoy(n, pin=False):
    if pin:
        os.sched_setaffinity(0, {0})
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(srv.getsockname()[1]), str(n),
                               "pin" if pin else "-"])
    conn, _ = srv.accept()
    done = []

    def echo():
        while True:
            data = conn.recv(8192)
            if not data:
                break
            conn.sendall(data)
        done.append(1)

    def spin():
        while not done:
            pass

    threads = [threading.Thread(target=echo), threading.Thread(target=spin)]
    for t in threads:
        t.start()
    client.wait()
    for t in threads:
        t.join()
    conn.close()
    srv.close()


WORKLOADS = {"cpu": two_threads, "pool": pool, "convoy": convoy,
             "pinned-convoy": lambda n: convoy(n, pin=True)}

if __name__ == "__main__":
    work, n = WORKLOADS[sys.argv[1]], int(sys.argv[2])
    say("ready")
    sys.stdin.readline()
    work(n)
    say("done")
    sys.stdin.readline()
