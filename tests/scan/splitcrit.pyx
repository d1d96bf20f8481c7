# splitcrit.pyx - a small causal-forest style split search, the shape of
# the module in the n_jobs story: typed memoryviews, def functions that
# release the interpreter lock around calls of small cdef nogil functions,
# a prange loop (OpenMP), a `with gil` block inside a nogil function and a
# cdef class. tests/test_hookscan.c builds it four ways and times it.
# cython: language_level=3, boundscheck=False, wraparound=False
from cython.parallel cimport prange

cdef class Criterion:
    cdef double lam
    cdef public long calls

    def __init__(self, double lam):
        self.lam = lam
        self.calls = 0

    cdef double gain(self, double left, double right) nogil:
        return left * left + right * right - self.lam * (left + right)

cdef double crit(double a, double b) nogil:
    return a * b + 1.0 / (1.0 + a * a)

cdef double window_sum(double[::1] x, Py_ssize_t lo, Py_ssize_t hi) nogil:
    # slicing a memoryview in nogil code counts references: a legitimate
    # interpreter-lock call site of every build
    cdef double[::1] w = x[lo:hi]
    cdef double s = 0
    cdef Py_ssize_t i
    for i in range(w.shape[0]):
        s += crit(w[i], s)
    return s

cdef int report_bad(double v) nogil except -1:
    # Cython 0.29 takes the interpreter lock on every return of a nogil
    # function holding a `with gil` block (its error handling), so the
    # caller calls it only when there is something to report: a `with gil`
    # block that is there but not on the hot path, as in real modules.
    if v != v:
        with gil:
            raise ValueError("NaN in split scan")
    return 0

def scan_splits(double[::1] x, int reps, Criterion c):
    """Best split gain over reps passes of x, without the GIL."""
    cdef double best = 0, left, right, g
    cdef Py_ssize_t n = x.shape[0], i
    cdef int r
    with nogil:
        for r in range(reps):
            left = 0
            right = 0
            for i in range(n):
                left = crit(x[i], left)
                right = crit(x[n - 1 - i], right)
                g = c.gain(left, right)
                if g > best:
                    best = g
            if best != best:
                report_bad(best)
    c.calls += reps
    return best

def windows(double[::1] x, int reps, Py_ssize_t width):
    cdef double s = 0
    cdef Py_ssize_t n = x.shape[0]
    cdef int r
    with nogil:
        for r in range(reps):
            s += window_sum(x, r % (n - width), r % (n - width) + width)
    return s

def scan_prange(double[::1] x, int reps, int nthreads):
    """The same criterion from an OpenMP parallel loop."""
    cdef double s = 0
    cdef Py_ssize_t n = x.shape[0]
    cdef int r
    for r in prange(reps, nogil=True, num_threads=nthreads):
        s += crit(x[r % n], x[(r + 1) % n])
    return s
