"""The convoy effect (Beazley 2010): an echo server thread beside a thread
spinning in pure Python, in this process; the client is another process
(this file run with --client), so only the echo thread and the spinner share
this process's GIL.

The client sends CHUNK bytes over loopback TCP and waits for the whole echo
before sending the next, NBYTES in all. Each blocking recv() and send() of
the echo thread releases the GIL; getting it back means waiting for the
spinner to be forced off: one switch interval (5 ms), a time-out and a drop
request, every time. Alone, 2 MB echo in a few ms; beside the spinner, in
seconds.

  convoy.py [NBYTES] [--alone] [--pin] [--wait]
    --alone  no spinner (the baseline)
    --pin    this process on CPU 0, the client on CPU 1 (Python 3 only)
    --wait   print "ready" and wait for a line on stdin before starting
Prints "echoed N bytes in S s" on stderr.
"""
import os
import socket
import subprocess
import sys
import threading
import time

CHUNK = 8192


def say(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def client(port, nbytes):
    if "--pin" in sys.argv:
        os.sched_setaffinity(0, {1})
    s = socket.create_connection(("127.0.0.1", port))
    msg = b"x" * CHUNK
    sent = 0
    while sent < nbytes:
        s.sendall(msg)
        got = 0
        while got < CHUNK:
            data = s.recv(CHUNK - got)
            if not data:
                raise SystemExit("server closed early")
            got += len(data)
        sent += CHUNK
    s.close()


def echo(conn):
    while True:
        data = conn.recv(CHUNK)
        if not data:
            break
        conn.sendall(data)
    conn.close()


def spin(stop):
    n = 0
    while not stop:
        n += 1


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--client" in sys.argv:
        client(int(args[0]), int(args[1]))
        return
    nbytes = int(args[0]) if args else 2 * 1024 * 1024
    if "--wait" in sys.argv:
        say("ready")
        sys.stdin.readline()
    if "--pin" in sys.argv:
        # Threads inherit the affinity of the thread that starts them.
        os.sched_setaffinity(0, {0})
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    stop = []
    spinner = threading.Thread(target=spin, args=(stop,), name="spinner")
    if "--alone" not in sys.argv:
        spinner.start()
    # CONVOY_CLIENT: another client command, given PORT NBYTES (the toy VM's
    # echo_client.tvm); default: this file with --client.
    prefix = os.environ.get("CONVOY_CLIENT", "").split() or [sys.executable, __file__,
                                                              "--client"]
    pin = ["--pin"] if "--pin" in sys.argv and not os.environ.get("CONVOY_CLIENT") else []
    cl = subprocess.Popen(prefix + [str(port), str(nbytes)] + pin)
    conn, _ = srv.accept()
    start = time.time()
    t = threading.Thread(target=echo, args=(conn,), name="echo")
    t.start()
    t.join()
    took = time.time() - start
    stop.append(1)
    if spinner.is_alive():
        spinner.join()
    assert cl.wait() == 0
    say("echoed %d bytes in %.3f s" % (nbytes, took))


main()
