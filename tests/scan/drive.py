"""drive.py DIR [TASK_MS] - time tests/scan/splitcrit.pyx, built in DIR,
from a thread pool at 1 and 2 threads: which builds serialise?

Every worker thread runs the same work (2 tasks per thread), so a build
whose nogil code runs in parallel takes about as long at 2 threads as at
1, and one that takes the interpreter lock on every call of its nogil
functions takes about twice as long. The task size is calibrated first
(doubling the loop count until one task takes TASK_MS, default 40 ms), so
a fast build and a slow one are both timed long enough to be read.

Prints one JSON object: {"reps": R, "1": seconds, "2": seconds, "ratio":
time at 2 / time at 1}."""
import array
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, sys.argv[1])
import splitcrit  # noqa: E402

TASK_S = (float(sys.argv[2]) if len(sys.argv) > 2 else 40.0) / 1000
TASKS_PER_THREAD = 2
X = array.array("d", [((i * 7919) % 1000) / 1000.0 for i in range(256)])
CRIT = splitcrit.Criterion(0.1)


def work(reps):
    splitcrit.scan_splits(X, reps, CRIT)
    splitcrit.windows(X, reps, 32)


def task(reps):
    """Voluntary context switches of the thread during the task."""
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw
    work(reps)
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw - before


def calibrate():
    reps = 16
    while reps < 1 << 24:
        t0 = time.perf_counter()
        work(reps)
        if time.perf_counter() - t0 >= TASK_S:
            return reps
        reps *= 2
    return reps


def measure(nthreads, reps):
    with ThreadPoolExecutor(nthreads) as pool:
        list(pool.map(task, [reps] * nthreads))  # threads started, warm
        ntasks = nthreads * TASKS_PER_THREAD
        t0 = time.perf_counter()
        sleeps = sum(pool.map(task, [reps] * ntasks))
        return time.perf_counter() - t0, sleeps / ntasks


# The OpenMP loop runs too, so a build whose prange is broken is noticed.
splitcrit.scan_prange(X, 64, 2)
REPS = calibrate()
(T1, S1), (T2, S2) = measure(1, REPS), measure(2, REPS)
print(json.dumps({"reps": REPS, "1": T1, "2": T2, "ratio": T2 / T1,
                  "sleeps": [S1, S2]}))
