"""Story d, start-up that grows with workers: joblib's default (loky)
backend runs tasks in worker processes, each of which starts an
interpreter and imports the task's modules before its first task.

    loky_tiny.py bug|fix WORKERS
bug: thousands of tiny tasks on loky's workers: every worker process is
a new interpreter that imports numpy and joblib (~0.7 s of CPU each on
the 2-core VM) for a few hundred ms of work.
fix: the same items in bigger chunks (two per worker) on fork workers
(backend="multiprocessing"), which inherit the parent's modules instead
of importing them. Bigger chunks alone, still on loky, do not help: the
start-up is per worker, not per task."""
import sys

import numpy as np
from joblib import Parallel, delayed

ITEMS = 12000
SIZE = 200


def score(seed):
    x = np.random.default_rng(seed).random(SIZE)
    return float(np.sort(x)[SIZE // 2])


def score_chunk(seeds):
    return [score(s) for s in seeds]


def main():
    variant, workers = sys.argv[1], int(sys.argv[2])
    if variant == "bug":
        out = Parallel(n_jobs=workers)(delayed(score)(i) for i in range(ITEMS))
    else:
        chunks = np.array_split(np.arange(ITEMS), 2 * workers)
        out = [v for part in Parallel(n_jobs=workers, backend="multiprocessing")(
            delayed(score_chunk)(c.tolist()) for c in chunks) for v in part]
    print(f"{variant}: {len(out)} items, checksum {sum(out):.6f}")


main()
