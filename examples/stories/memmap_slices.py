"""Story b, /dev/shm that fills: joblib's process pool memory-maps every
large argument into a file under /dev/shm, one file per distinct array,
kept until the Parallel call ends.

    memmap_slices.py bug|fix WORKERS
bug: each task is given its own slice of the data (a new array object per
task): one new file per task, so /dev/shm grows with the tasks.
fix: every task is given the same whole array and its bounds: one file,
written once, mapped by every worker."""
import sys

import numpy as np
from joblib import Parallel, delayed

ROWS, COLS = 4096, 1024   # 32 MiB of float64
TASKS = 32
WINDOW = ROWS // 4        # 8 MiB per task's slice


def bounds(i):
    lo = i * (ROWS - WINDOW) // (TASKS - 1)
    return lo, lo + WINDOW


def score_slice(part):
    return float(part.sum())


def score_range(data, lo, hi):
    return float(data[lo:hi].sum())


def main():
    variant, workers = sys.argv[1], int(sys.argv[2])
    data = np.random.default_rng(0).random((ROWS, COLS))
    par = Parallel(n_jobs=workers, max_nbytes="1M")
    if variant == "bug":
        # a new slice object per task: joblib hashes each one and writes
        # it to a file of its own
        out = par(delayed(score_slice)(data[slice(*bounds(i))])
                  for i in range(TASKS))
    else:
        out = par(delayed(score_range)(data, *bounds(i)) for i in range(TASKS))
    print(f"{variant}: {TASKS} tasks, checksum {sum(out):.6f}")


main()
