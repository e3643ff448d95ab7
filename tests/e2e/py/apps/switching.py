"""Two threads burning pure-Python CPU with the switch interval set to
INTERVAL_US microseconds (CPython's default: 5000).

    python switching.py SECONDS INTERVAL_US

At 200 us the GIL is forced from one thread to the other about 5000 times a
second: the right answer is "switching too often"; at 5000 us, at most 200
times: not. Prints the loops done on stderr.
"""
import sys
import threading
import time

from common import burn

done = False
counts = []


def spin():
    n = 0
    while not done:
        burn(10000)
        n += 1
    counts.append(n)


def main():
    global done
    sys.setswitchinterval(int(sys.argv[2]) / 1e6)
    threads = [threading.Thread(target=spin) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(float(sys.argv[1]))
    done = True
    for t in threads:
        t.join()
    sys.stderr.write(f"loops {sum(counts)}\n")


main()
