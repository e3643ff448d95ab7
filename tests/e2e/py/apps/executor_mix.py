"""A concurrent.futures pool of 8 threads mixing pure-Python CPU tasks and
socket I/O tasks (round trips to an echo server in another process).

    python executor_mix.py SECONDS CPU_TASKS

Keeps CPU_TASKS CPU tasks (about 20 ms of pure Python each) and 4 I/O tasks
(50 round trips of 1 KB each) in flight for SECONDS, then prints the I/O
round trips done on stderr. The right answer with CPU_TASKS > 0: GIL-bound
latency, the I/O tasks waiting for the GIL after each round trip.
"""
import concurrent.futures as cf
import socket
import sys
import time

from common import burn, start_echo


def io_task(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for _ in range(50):
            s.sendall(b"x" * 1024)
            got = 0
            while got < 1024:
                got += len(s.recv(65536))
    return 50


def main():
    seconds, cpu_tasks = float(sys.argv[1]), int(sys.argv[2])
    echo, port = start_echo()
    until = time.monotonic() + seconds
    trips = 0
    with cf.ThreadPoolExecutor(max_workers=8) as pool:
        pending = {pool.submit(burn, 500000) for _ in range(cpu_tasks)}
        pending |= {pool.submit(io_task, port) for _ in range(4)}
        while time.monotonic() < until:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in done:
                if f.result() == 50:
                    trips += 50
                    pending.add(pool.submit(io_task, port))
                else:
                    pending.add(pool.submit(burn, 500000))
        cf.wait(pending)
    echo.kill()
    sys.stderr.write(f"round trips {trips}\n")


main()
