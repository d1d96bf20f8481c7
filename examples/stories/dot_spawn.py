"""Story c, dueling pools: numpy's dot in a spawn process pool. Every
worker process loads OpenBLAS, which starts its own pool of one thread per
core, so W workers run W x cores threads on the cores.

    dot_spawn.py bug|fix WORKERS
bug: OpenBLAS's default threads in every worker.
fix: OPENBLAS_NUM_THREADS=1, set before numpy is imported; spawned
workers inherit it (threadpoolctl's threadpool_limits does the same
from inside a running process)."""
import os
import sys

if sys.argv[1:2] == ["fix"]:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import multiprocessing as mp  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

N = 256          # matrix order
TASKS = 16       # tasks, each a chain of products
CHAIN = 60


def product(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random((N, N)), rng.random((N, N))
    for _ in range(CHAIN):
        a = a @ b
        a /= np.abs(a).max()
    return float(a.sum())


def main():
    workers = int(sys.argv[2])
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        total = sum(pool.map(product, range(TASKS)))
    print(f"{sys.argv[1]}: {TASKS} tasks, checksum {total:.6g}")


if __name__ == "__main__":
    main()
