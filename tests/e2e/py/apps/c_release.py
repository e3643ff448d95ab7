"""Threads in C code that releases the GIL (hashlib, zlib on 1 MB buffers),
alone or beside one thread that keeps it.

    python c_release.py SECONDS [python|re]

Four threads hash (sha256) and compress (zlib) 1 MB buffers in a loop; both
release the GIL for buffers this large, so alone they are healthy: the GIL
is not the problem. "python" adds a thread burning pure-Python CPU (a hog);
"re" adds one running a regular expression over 16 MB, which holds
the GIL for the whole search. The extra thread prints "hog TID" on stderr
(its kernel thread id), and at the end the buffers done.
"""
import hashlib
import os
import re
import sys
import threading
import time
import zlib

from common import burn

DATA = os.urandom(1 << 20)
TEXT = "ab" * (1 << 23)
done = False
counts = []


def hasher(i):
    n = 0
    while not done:
        if i % 2:
            hashlib.sha256(DATA).digest()
        else:
            zlib.compress(DATA, 1)
        n += 1
    counts.append(n)


def say_hog():
    sys.stderr.write(f"hog {threading.get_native_id()}\n")
    sys.stderr.flush()


def python_hog():
    say_hog()
    while not done:
        burn(100000)


def re_hog():
    pattern = re.compile(r"[xy]z")  # never matches: about 150 ms over the whole input
    say_hog()
    while not done:
        pattern.search(TEXT)  # RE_SEARCH


def main():
    global done
    seconds = float(sys.argv[1])
    extra = sys.argv[2] if len(sys.argv) > 2 else None
    threads = [threading.Thread(target=hasher, args=(i,)) for i in range(4)]
    if extra:
        threads.append(threading.Thread(target={"python": python_hog, "re": re_hog}[extra]))
    for t in threads:
        t.start()
    time.sleep(seconds)
    done = True
    for t in threads:
        t.join()
    sys.stderr.write(f"buffers {sum(counts)}\n")


main()
