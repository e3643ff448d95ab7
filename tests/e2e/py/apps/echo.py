"""Echo server for the app workloads, run in its own process so that its
GIL is not the traced one: echoes every connection's bytes back.

    python echo.py

Prints its port on stdout, then serves until killed.
"""
import socket
import threading


def serve(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def main():
    srv = socket.create_server(("127.0.0.1", 0))
    print(srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
