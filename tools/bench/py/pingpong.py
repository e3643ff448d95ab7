"""I/O-bound: a client thread and an echo thread exchange a 64-byte message
N times over loopback TCP, in B batches (default 1); no thread is CPU-bound,
so the GIL is dropped and retaken around every send and recv. The gate and
the per-batch lines are batches.py's."""
import socket
import sys

import batches

N = int(sys.argv[1])
B = int(sys.argv[2]) if len(sys.argv) > 2 else 1
MSG = b"x" * 64

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
for s in (cli, conn):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def echo(n):
    for _ in range(n):
        conn.sendall(conn.recv(64))


def client(n):
    for _ in range(n):
        cli.sendall(MSG)
        cli.recv(64)


batches.run(N, B, lambda n: [lambda: echo(n), lambda: client(n)])
