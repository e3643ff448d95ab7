"""I/O-bound: a client thread and an echo thread exchange a 64-byte message
N times over loopback TCP; no thread is CPU-bound, so the GIL is dropped and
retaken around every send and recv. Waits for a line on stdin, then prints
"ops N elapsed_ns E cpu_ns C", C being the process's CPU time (all threads,
user + system) over those N operations, start-up excluded."""
import resource
import socket
import sys
import threading
import time

N = int(sys.argv[1])
MSG = b"x" * 64

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
for s in (cli, conn):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def echo():
    for _ in range(N):
        conn.sendall(conn.recv(64))


def client():
    for _ in range(N):
        cli.sendall(MSG)
        cli.recv(64)


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
t0 = time.time()
c0 = cpu_ns()
threads = [threading.Thread(target=echo), threading.Thread(target=client)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.stdout.write("ops %d elapsed_ns %d cpu_ns %d\n" % (N, int((time.time() - t0) * 1e9),
                                                      cpu_ns() - c0))
sys.stdout.flush()
