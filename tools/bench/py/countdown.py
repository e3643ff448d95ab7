"""CPU-bound: T threads split N decrements, in B batches (default 1); the
gate and the per-batch lines are batches.py's."""
import sys

import batches

T = int(sys.argv[1])
N = int(sys.argv[2])
B = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def countdown(n):
    while n > 0:
        n -= 1


batches.run(N, B, lambda n: [lambda: countdown(n // T) for _ in range(T)])
