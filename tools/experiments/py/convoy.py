"""Beazley's echo server beside K CPU-bound threads (slides 50-54), for
stock CPython 2.7 and 3.x.

    python convoy.py PORT K [WARM_MS]

Starts K spinning threads first and lets them run for WARM_MS (default
50), then listens on
127.0.0.1:PORT and prints "listening PORT" (the runner starts the client
only then). One connection is served by an echo thread in this process,
with blocking recv(8192) and sendall, as on slide 50. The client is
another process (tools/toyvm/examples/echo_client.tvm): it sends 8 KB and
waits for the whole echo before the next send. At EOF the spinners stop and
the server prints "convoy echoed B spinners K elapsed_us U".
"""
import socket
import sys
import threading
import time

stop = [False]


def spin():
    n = 0
    while not stop[0]:
        n += 1


def echo(conn, total):
    while True:
        data = conn.recv(8192)
        if not data:
            break
        conn.sendall(data)
        total[0] += len(data)
    conn.close()


def main():
    port = int(sys.argv[1])
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    spinners = [threading.Thread(target=spin) for _ in range(k)]
    for t in spinners:
        t.start()
    time.sleep(warm / 1000.0)   # the spinners are running (and hold the GIL)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    sys.stdout.write("listening %d\n" % port)
    sys.stdout.flush()
    conn, _ = s.accept()
    total = [0]
    start = time.time()
    t = threading.Thread(target=echo, args=(conn, total))
    t.start()
    t.join()
    elapsed = time.time() - start
    stop[0] = True
    for t in spinners:
        t.join()
    s.close()
    sys.stdout.write("convoy echoed %d spinners %d elapsed_us %d\n"
                     % (total[0], k, int(elapsed * 1e6)))
    sys.stdout.flush()


main()
