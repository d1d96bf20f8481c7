"""Story a, the n_jobs regression: a thread pool fitting tree nodes with a
Cython module whose split criterion runs without the GIL.

    criterion_pool.py BUILD_DIR WORKERS
BUILD_DIR is build-cython.sh's bug/ (trace hooks compiled in: each nogil
call re-takes the GIL, so 2 threads are slower than 1) or fix/ (clean
build: the threads run in parallel)."""
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

NODES = 16          # tasks
REPEATS = 8000      # best-split searches per node
SAMPLES = 64        # rows per node


def main():
    sys.path.insert(0, sys.argv[1])
    import criterion
    workers = int(sys.argv[2])
    rng = np.random.default_rng(0)
    nodes = [rng.random(SAMPLES) for _ in range(NODES)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(lambda y: criterion.fit_node(y, REPEATS), nodes))
    print(f"{criterion.__file__}: {NODES} nodes, checksum {total:.6g}")


main()
