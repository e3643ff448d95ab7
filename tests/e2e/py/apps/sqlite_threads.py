"""sqlite3 from several threads, each with its own in-memory database,
running aggregate queries that sqlite computes in C.

    python sqlite_threads.py SECONDS

The sqlite3 module releases the GIL while sqlite prepares and steps a
statement, so four threads summing 200 000 rows in SQL run in parallel:
the right answer is healthy, the GIL is not the problem. (Fetching many
rows into Python would be Python work, holding the GIL.) Prints the
queries done on stderr.
"""
import sqlite3
import sys
import threading
import time

done = False
counts = []


def worker():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x INTEGER)")
    # Filled in SQL, one statement: a Python loop would be Python work.
    db.execute("INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
               "SELECT x + 1 FROM c WHERE x < 200000) SELECT x FROM c")
    n = 0
    while not done:
        db.execute("SELECT sum(x * x % 7) FROM t").fetchone()
        n += 1
    counts.append(n)


def main():
    global done
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(float(sys.argv[1]))
    done = True
    for t in threads:
        t.join()
    sys.stderr.write(f"queries {sum(counts)}\n")


main()
