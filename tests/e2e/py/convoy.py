"""The convoy effect: an echo thread over a socketpair beside a spinning
thread, with the client in a forked child so that only the echo thread and
the spinner share this process's GIL. Each echo needs the GIL back after
recv(); the spinner holds it, so the echo thread waits out the switch
interval (5 ms), times out and sets a drop request.

With --wait, waits for a line on stdin before starting."""
import os
import socket
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100
stop = False


def spin():
    n = 0
    while not stop:
        n += 1


def echo(sock):
    while True:
        data = sock.recv(64)
        if not data:
            break
        sock.sendall(data)


if "--wait" in sys.argv:
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
a, b = socket.socketpair()
if os.fork() == 0:
    b.close()
    for _ in range(ROUNDS):
        a.sendall(b"x")
        a.recv(64)
    os._exit(0)
a.close()
threads = [threading.Thread(target=spin), threading.Thread(target=echo, args=(b,))]
for t in threads:
    t.start()
threads[1].join()
stop = True
threads[0].join()
print("done", file=sys.stderr, flush=True)
