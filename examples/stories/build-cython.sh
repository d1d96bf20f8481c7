#!/bin/sh
# build-cython.sh OUTDIR: builds examples/stories/criterion.pyx twice,
# OUTDIR/bug/criterion.so with Cython's line tracing compiled in
# (linetrace=True, CYTHON_TRACE=1, CYTHON_TRACE_NOGIL=1: what the shipped
# wheel had) and OUTDIR/fix/criterion.so without it. Needs cython3, gcc and
# Debian's python3-dev (/usr/bin/python3-config).
set -eu
src=$(dirname "$0")/criterion.pyx
out=$1
inc=$(/usr/bin/python3-config --includes)
ext=$(/usr/bin/python3-config --extension-suffix)
build() { # variant, cython options, cc options
	mkdir -p "$out/$1"
	cython3 -3 $2 -o "$out/$1/criterion.c" "$src"
	# shellcheck disable=SC2086
	gcc -O2 -shared -fPIC $inc $3 -o "$out/$1/criterion$ext" "$out/$1/criterion.c"
}
build bug "-X linetrace=True" "-DCYTHON_TRACE=1 -DCYTHON_TRACE_NOGIL=1"
build fix "" ""
