# contend - parallel benchmark and contention profiler.
#
#   make            build bin/contend (dependencies must be installed)
#   make deps       install the Debian packages in .ci/packages (root)
#   make test       build and run the whole test suite
#   make report     build, run the default sweep, print tables
#   make bench      measure contend's own overhead and speed targets
#   make gbench     kernel micro-benchmarks (Google Benchmark) -> results/gbench.json

CC      ?= gcc
OPT     ?= -O2
CSTD    := -std=c11
WARN    := -Wall -Wextra -Werror
PKGS    := jansson libelf libzip capstone sqlite3 hwloc openblas
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := 0.1.0
CFLAGS_BASE := $(CSTD) $(OPT) -g $(WARN) -D_GNU_SOURCE -I. -pthread \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BUILDINFO := -DCONTEND_VERSION='"$(VERSION)"' -DCONTEND_GIT_REV='"$(GIT_REV)"' \
	-DCONTEND_CFLAGS='"$(CSTD) $(OPT) $(WARN)"'
CFLAGS  := $(CFLAGS_BASE) $(EXTRA_CFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpapi -lm -ldl -pthread
# libxgboost is optional: without it the dmatrix-xgb workload is a stub.
HAVE_XGBOOST := $(shell pkg-config --exists xgboost 2>/dev/null && echo yes || \
	{ test -f /usr/include/xgboost/c_api.h && echo yes; })
ifeq ($(HAVE_XGBOOST),yes)
CFLAGS  += -DHAVE_XGBOOST
LDLIBS  += -lxgboost
$(info contend: libxgboost found, dmatrix-xgb enabled)
else
$(info contend: libxgboost not found, dmatrix-xgb disabled)
endif
LDFLAGS += $(EXTRA_LDFLAGS)

B := build/$(or $(VARIANT),release)

HARNESS_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c))
PROBES_SRC  := $(wildcard probes/*.c)
BENCH_SRC   := $(wildcard bench/*.c)
CORE_OBJ    := $(patsubst %.c,$(B)/%.o,$(HARNESS_SRC) $(PROBES_SRC))
BENCH_OBJ   := $(patsubst %.c,$(B)/%.o,$(BENCH_SRC))
LIB         := $(B)/libcontend.a
TEST_SRC    := $(wildcard tests/test_*.c)
TEST_BIN    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

.PHONY: all deps test report bench clean check-deps test-run report-run bench-run
all: bin/contend bin/contend-linetrace

# The linetrace build: the same workload sources compiled with the
# compiler's function instrumentation, linked with hooks that take the
# interpreter-lock model on every call (what Cython's trace hooks do in
# nogil code). Harness and probes are the release objects, untouched.
LT := build/linetrace
LT_BENCH_OBJ := $(patsubst %.c,$(LT)/%.o,$(BENCH_SRC))
LT_HOOKS_OBJ := $(LT)/probes/hooks/trace_hooks.o
$(LT)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -finstrument-functions -MMD -MP -c -o $@ $<
$(LT)/probes/hooks/%.o: probes/hooks/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<
bin/contend-linetrace: $(B)/harness/main.o $(LT_HOOKS_OBJ) $(LT_BENCH_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@.ci/install-deps

check-deps:
	@.ci/install-deps

bin/contend: $(B)/harness/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(CORE_OBJ) $(BENCH_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/harness/context.o: CFLAGS += $(BUILDINFO)
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/%.c tests/testutil.h $(LIB) | bin/contend
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# The LD_PRELOAD lock profiler is a shared library of its own, never part of
# libcontend.a. CFLAGS_BASE, not CFLAGS: a sanitizer build of the suite must
# not push a sanitizer runtime into every program that gets profiled.
PRELOAD_SRC := $(wildcard probes/preload/*.c)
PRELOAD_SO  := bin/libcontend-lockprof.so
LOCKPROF_TARGET := $(B)/tests/lockprof_target
all: $(PRELOAD_SO)
$(PRELOAD_SO): $(PRELOAD_SRC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -fPIC -shared -fvisibility=hidden -o $@ $(PRELOAD_SRC) \
		$(shell pkg-config --libs jansson) -ldl -pthread
$(LOCKPROF_TARGET): tests/lockprof_target.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -o $@ $< -pthread
$(TEST_BIN): $(PRELOAD_SO) $(LOCKPROF_TARGET)

# test, report and bench install missing packages first, then build in a
# fresh make: compiler flags come from pkg-config, which must see the
# packages installed.
test: check-deps
	@$(MAKE) --no-print-directory test-run
test-run: all $(TEST_BIN)
	@tests/run-all $(TEST_BIN)

# The default sweep: every workload, a quick profile (a few minutes on
# 2 cores), then plots, the history and the dashboard, all from the
# documents just written.
REPORT_DIR := results/report
report: check-deps
	@$(MAKE) --no-print-directory report-run
report-run: all
	@mkdir -p $(REPORT_DIR) plots/out
	bin/contend run causal-forest --build release,linetrace --pool serial,thread,process \
		--workers 1,2,4 --reps 3 --params trees=16 --out $(REPORT_DIR)/causal-forest.json || test $$? -eq 1
	bin/contend run blas-dot --pool serial,thread,process --workers 1,2,4 \
		--inner-threads default,1 --reps 3 --params n=1000 --out $(REPORT_DIR)/blas-dot.json || test $$? -eq 1
	bin/contend run dmatrix --pool serial,thread,process --workers 1,2,4 --reps 3 \
		--params tasks=60 --out $(REPORT_DIR)/dmatrix.json || test $$? -eq 1
	@for f in $(REPORT_DIR)/*.json; do bin/contend report $$f --plots plots/out >/dev/null || exit 1; done
	bin/contend history add $(REPORT_DIR)/*.json
	bin/contend dashboard --history results/history.db --out plots/dashboard
	@echo "documents: $(REPORT_DIR)/  plots: plots/out/  dashboard: plots/dashboard/index.html"

BENCH_T_SRC := $(wildcard tests/bench_*.c)
BENCH_T_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(BENCH_T_SRC))
bench: check-deps
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCH_T_BIN)
	@for b in $(BENCH_T_BIN); do echo "== $$b"; $$b || exit 1; done

$(B)/tests/bench_%: tests/bench_%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Google Benchmark from C (docs/gbench-shim.md). The shim and kernels live in
# bench/gbench/, outside libcontend.a (BENCH_SRC takes bench/*.c only). The
# linetrace criterion is the linetrace build's causal_forest.o with its
# global symbols renamed lt_*, so one binary times both builds side by side.
GB       := $(B)/bench/gbench
GB_SHIM  := $(GB)/cbench.o
GB_OBJ   := $(GB)/main.o $(GB)/kernels.o $(GB_SHIM) $(GB)/causal_forest_lt.o \
	$(LT_HOOKS_OBJ)
GB_LIBS  := -lbenchmark -lstdc++
GB_CXXFLAGS := -std=c++17 $(OPT) -g $(WARN) -I. -pthread \
	$(filter -fsanitize=% -fno-omit-frame-pointer,$(EXTRA_CFLAGS))
# The default selection is every kernel at the library's 0.5 s minimum
# time (~40 s on 2 cores); e.g. GB_ARGS='--benchmark_filter=criterion
# --benchmark_repetitions=9' for the hook-cost figures with medians.
GB_ARGS  ?=
.PHONY: gbench
gbench: bin/contend-gbench
	@mkdir -p results
	bin/contend-gbench $(GB_ARGS) --benchmark_out=results/gbench.json \
		--benchmark_out_format=json
bin/contend-gbench: $(GB_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(GB_LIBS)
$(GB)/%.o: bench/gbench/%.cc
	@mkdir -p $(@D)
	$(CXX) $(GB_CXXFLAGS) -MMD -MP -c -o $@ $<
$(GB)/causal_forest_lt.o: $(LT)/bench/causal_forest.o
	@mkdir -p $(@D)
	nm --defined-only --extern-only $< | awk '{print $$3 " lt_" $$3}' > $@.syms
	objcopy --redefine-syms=$@.syms $< $@
# The shim's test links the shim and libbenchmark, not libcontend.a.
$(B)/tests/test_gbench_shim: tests/test_gbench_shim.c $(GB_SHIM) | bin/contend
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(GB_SHIM) $(LDLIBS) -lcmocka $(GB_LIBS)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
