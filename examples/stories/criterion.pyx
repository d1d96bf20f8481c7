# cython: language_level=3
"""A split criterion in the shape of a causal-forest library's: a small
cdef nogil function called once per candidate split from a `with nogil`
loop. Built with linetrace and CYTHON_TRACE_NOGIL (build-cython.sh bug),
every call of `gini` takes the interpreter lock to run the trace hook,
even though no tracer is set."""


cdef double gini(const double *y, int lo, int hi) nogil:
    cdef double s = 0.0, s2 = 0.0
    cdef int i
    for i in range(lo, hi):
        s += y[i]
        s2 += y[i] * y[i]
    return s2 - s * s / (hi - lo)


cdef double best_split(const double *y, int n) nogil:
    cdef double best = 1e300, v
    cdef int k
    for k in range(1, n):
        v = gini(y, 0, k) + gini(y, k, n)
        if v < best:
            best = v
    return best


def fit_node(double[::1] y, int repeats):
    """Best split of y, searched `repeats` times without the GIL."""
    cdef double r = 0.0
    cdef int j
    cdef int n = y.shape[0]
    with nogil:
        for j in range(repeats):
            r += best_split(&y[0], n)
    return r
