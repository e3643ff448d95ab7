"""Load generator for the app workloads, run in its own process (its own
GIL, not traced): light requests in a loop on one connection, and HEAVY
clients each asking for the heavy endpoint in a loop.

    python load.py PORT SECONDS HEAVY

Prints "light N mean_ms M heavy K" on stdout when done.
"""
import http.client
import sys
import threading
import time


def client(port, path, until, out):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    n, total = 0, 0.0
    while time.monotonic() < until:
        t0 = time.monotonic()
        conn.request("GET", path)
        conn.getresponse().read()
        total += time.monotonic() - t0
        n += 1
    out.append((n, total))


def main():
    port, seconds, heavy = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    until = time.monotonic() + seconds
    light, heavies = [], []
    threads = [threading.Thread(target=client, args=(port, "/light", until, light))]
    threads += [threading.Thread(target=client, args=(port, "/heavy", until, heavies))
                for _ in range(heavy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n, total = light[0]
    print(f"light {n} mean_ms {1000 * total / max(n, 1):.2f} heavy {sum(h[0] for h in heavies)}",
          flush=True)


main()
