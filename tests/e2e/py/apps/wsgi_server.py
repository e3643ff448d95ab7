"""A threaded WSGI server (waitress, 8 threads) with a light endpoint and a
heavy one that burns about 50 ms of pure-Python CPU, under load.

    python wsgi_server.py SECONDS HEAVY

Serves on a free port, runs load.py against it for SECONDS with HEAVY heavy
clients beside one light one, prints load.py's line on stderr and exits.
The right answer with HEAVY > 0: GIL-bound latency, the light requests
waiting while heavy() holds the GIL.
"""
import os
import subprocess
import sys
import threading

from waitress.server import create_server


def heavy(n=1300000):
    total = 0
    for i in range(n):  # HEAVY_LOOP
        total += i * i % 7
    return total


def app(environ, start_response):
    body = b"%d\n" % heavy() if environ["PATH_INFO"] == "/heavy" else b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


def main():
    seconds, nheavy = sys.argv[1], sys.argv[2]
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    load = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "load.py"),
                           str(server.effective_port), seconds, nheavy],
                          capture_output=True, text=True, check=True)
    sys.stderr.write(load.stdout)
    os._exit(0)


main()
