"""drive.py DIR - measure whether tests/scan/splitcrit.pyx, built in DIR,
serialises its nogil code. Two measurements:

pool      every worker thread of a thread pool runs the same work (2
          tasks per thread), at 1 and at 2 threads. Code that runs in
          parallel takes about as long at 2 threads as at 1; code that
          takes the interpreter lock on every call of its nogil functions
          takes about twice as long. This needs two free CPUs to show, so
          the CPU use of the process at 2 threads is reported with it
          (about 2.0 when both CPUs ran our threads).
progress  the main thread runs scan_splits (nogil), while another thread
          holds the interpreter lock for 100 ms without running (a C
          sleep called through ctypes.PyDLL, which keeps the lock). The
          main thread's CPU time in that window, as a share of it: code
          that needs the lock on every call stops (near 0), code that
          does not keeps computing (its CPU share: near 1 on an idle
          machine, well above 0 on a busy one). This one holds on a busy
          machine.

The task size is calibrated first (doubling the loop count until a task
takes 30 ms), so fast and slow builds are timed long enough to read. Each
figure is the best of 3 rounds (least time, most progress), so a moment
of load elsewhere does not count. Prints one JSON object."""
import array
import ctypes
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, sys.argv[1])
import splitcrit  # noqa: E402

TASK_S = 0.030
HOLD_S = 0.100
ROUNDS = 3
TASKS_PER_THREAD = 2
X = array.array("d", [((i * 7919) % 1000) / 1000.0 for i in range(256)])
CRIT = splitcrit.Criterion(0.1)
# usleep called with the interpreter lock held (PyDLL does not release it)
LOCKED_USLEEP = ctypes.PyDLL(None).usleep
LOCKED_USLEEP.argtypes = [ctypes.c_uint]


def task(reps):
    splitcrit.scan_splits(X, reps, CRIT)
    splitcrit.windows(X, reps, 32)


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def calibrate():
    reps = 8
    while reps < 1 << 24 and timed(task, reps) < TASK_S:
        reps *= 2
    return reps


def pool_time(pool, nthreads, reps):
    """Wall time, and process CPU time per wall second."""
    work = [reps] * (nthreads * TASKS_PER_THREAD)
    c0, t0 = time.process_time(), time.perf_counter()
    list(pool.map(task, work))
    wall = time.perf_counter() - t0
    return wall, (time.process_time() - c0) / wall


def progress(reps):
    """Share of a HOLD_S window in which the main thread, in the nogil
    loop of scan_splits, got CPU time while another thread held the
    interpreter lock. The holder may be made to hand the lock over once
    (a switch interval, 5 ms) before it reads the clock again, which is
    why the window is long."""
    clock = time.pthread_getcpuclockid(threading.main_thread().ident)
    got = []

    def hold():
        time.sleep(0.003)  # let the main thread get into its nogil code
        c0 = time.clock_gettime(clock)
        LOCKED_USLEEP(int(HOLD_S * 1e6))
        got.append((time.clock_gettime(clock) - c0) / HOLD_S)

    t = threading.Thread(target=hold)
    t.start()
    splitcrit.scan_splits(X, reps, CRIT)  # outlasts the window
    t.join()
    return got[0]


def main():
    splitcrit.scan_prange(X, 64, 2)  # the OpenMP loop works in this build
    reps = calibrate()
    p1, p2, util, prog = [], [], [], []
    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(2) as two:
        list(two.map(task, [reps, reps]))  # both threads started
        for _ in range(ROUNDS):
            p1.append(pool_time(one, 1, reps)[0])
            wall, cpu = pool_time(two, 2, reps)
            p2.append(wall)
            util.append(cpu)
            prog.append(progress(8 * reps))
    print(json.dumps({
        "reps": reps, "pool_1": min(p1), "pool_2": min(p2),
        "pool_ratio": min(p2) / min(p1), "pool_2_cpus": max(util),
        "progress": max(prog)}))


main()
