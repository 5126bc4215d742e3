"""The timing every bench/*.py script uses: after two warm-up calls, 5 repetitions of at least
0.2 s of calls each; timeit returns the medians of wall and CPU (process_time, all threads)
seconds per call, or the fastest of each with BEST=1 in the environment."""
import os
import time


def timeit(f):
    f()
    f()
    reps = []
    for _ in range(5):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            f()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= 0.2:
                break
        reps.append((dt / n, (time.process_time() - c0) / n))
    wall, cpu = sorted(r[0] for r in reps), sorted(r[1] for r in reps)
    k = 0 if os.environ.get("BEST") == "1" else len(reps) // 2
    return wall[k], cpu[k]
