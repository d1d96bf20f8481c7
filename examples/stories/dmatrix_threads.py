"""Story e, memory under a thread pool: XGBoost QuantileDMatrix objects
built from a copy of the data (`data * i`) in a thread pool. A
QuantileDMatrix sits in a reference cycle, so dropping it frees nothing:
each matrix and its copy stay until the cyclic garbage collector runs,
and memory grows with the tasks finished, not with the tasks running.

    dmatrix_threads.py bug|fix WORKERS
bug: each task drops its matrix and leaves the rest to the collector.
fix: each task deletes its matrix and runs gc.collect(); gc.freeze() after
the imports keeps each collection to the objects made since (a full
collection of numpy's and xgboost's objects costs ~60 ms here)."""
import gc
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xgboost as xgb

ROWS, COLS = 12500, 20   # 2 MiB of float64 per copy
TASKS = 48


def build(data, i, collect):
    m = xgb.QuantileDMatrix(data * (i + 1), max_bin=32, nthread=1)
    rows = m.num_row()
    if collect:
        del m
        gc.collect()
    return rows


def main():
    variant, workers = sys.argv[1], int(sys.argv[2])
    if variant == "fix":
        gc.freeze()
    data = np.random.default_rng(0).random((ROWS, COLS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = sum(pool.map(lambda i: build(data, i, variant == "fix"),
                            range(TASKS)))
    print(f"{variant}: {TASKS} matrices, {rows} rows")


main()
