# contend - parallel benchmark and contention profiler.
#
#   make            build bin/contend (dependencies must be installed)
#   make deps       install the Debian packages in .ci/packages (root)
#   make test       build and run the whole test suite
#   make report     build, run the default sweep, print tables
#   make bench      measure contend's own overhead and speed targets
#   make stories    the seeds' stories under contend doctor: the causes named
#   make gbench     kernel micro-benchmarks (Google Benchmark) -> results/gbench.json
#   make static     bin/contend-static: needs only the C library at run time

CC      ?= gcc
OPT     ?= -O2
CSTD    := -std=c11
WARN    := -Wall -Wextra -Werror
PKGS    := jansson libelf libzip capstone sqlite3 hwloc openblas nettle libpq
# -dirty when tracked files differ from HEAD: results say what was built.
GIT_REV := $(shell git describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
VERSION := 0.1.0
CFLAGS_BASE := $(CSTD) $(OPT) -g $(WARN) -D_GNU_SOURCE -I. -pthread \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BUILDINFO := -DCONTEND_VERSION='"$(VERSION)"' -DCONTEND_GIT_REV='"$(GIT_REV)"' \
	-DCONTEND_CFLAGS='"$(CSTD) $(OPT) $(WARN)"'
CFLAGS  := $(CFLAGS_BASE) $(EXTRA_CFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpapi -lm -ldl -pthread
# libxgboost is optional: without it the dmatrix-xgb workload is a stub.
# Debian ships no libxgboost.a, so the static build (STATIC=1) goes without.
HAVE_XGBOOST := $(if $(filter 1,$(STATIC)),no,$(shell pkg-config --exists xgboost 2>/dev/null && echo yes || \
	{ test -f /usr/include/xgboost/c_api.h && echo yes; }))
ifeq ($(HAVE_XGBOOST),yes)
CFLAGS  += -DHAVE_XGBOOST
LDLIBS  += -lxgboost
$(info contend: libxgboost found, dmatrix-xgb enabled)
else
$(info contend: libxgboost not found$(if $(filter 1,$(STATIC)), (static build)), dmatrix-xgb disabled)
endif
LDFLAGS += $(EXTRA_LDFLAGS)

# STATIC=1 (`make static`): every library but the C library (libc, libm,
# libdl, libpthread) linked from its Debian archive, for fleet machines
# without the packages (docs/nightly.md). Debian ships no libzip.a (wheel
# scanning drops out: scan reads ELF files only), no libxgboost.a
# (dmatrix-xgb drops out) and no libudev.a (hwloc's udev lookups of
# block-device names: common/static/udev.c).
ifeq ($(STATIC),1)
override VARIANT := static
# libpq.a needs libpgcommon/libpgport (postgresql-server-dev-NN ships
# them), OpenSSL's archives, and GSSAPI and LDAP, of which Debian ships no
# archive: common/static/gssapi.c and ldap.c stand for them (no Kerberos,
# no LDAP service lookups). Without the libpgcommon archive the static
# build has no PostgreSQL history (document/history_pg.c says so).
PG_ARCHIVES := $(dir $(lastword $(sort $(wildcard /usr/lib/postgresql/*/lib/libpgcommon_shlib.a))))
CFLAGS  += -DCONTEND_NO_LIBZIP
ifneq ($(PG_ARCHIVES),)
STATIC_PQ := -lpq -L$(PG_ARCHIVES) -lpgcommon_shlib -lpgport_shlib -lssl -lcrypto
STATIC_SRC := $(wildcard common/static/*.c)
else
$(info contend: no libpgcommon_shlib.a (postgresql-server-dev-NN), static build without PostgreSQL)
STATIC_SRC := common/static/udev.c
CFLAGS  += -DCONTEND_NO_LIBPQ
endif
LDLIBS  := -static-libgcc -Wl,-Bstatic -ljansson -lsqlite3 -lnettle -lhwloc -lelf -lz \
	-lcapstone -lpapi -lpfm -L/usr/lib/x86_64-linux-gnu/openblas-pthread \
	-lopenblas -lgfortran -lquadmath $(STATIC_PQ) -Wl,-Bdynamic -lm -ldl -lrt -pthread
STATIC_OBJ := $(patsubst %.c,build/static/%.o,$(STATIC_SRC))
endif

B := build/$(or $(VARIANT),release)
# A variant (VARIANT=asan, tsan, fuzz) keeps its executables in its own
# build dir, so a sanitized contend never replaces bin/contend.
BIN := $(if $(filter build/release,$(B)),bin,$(B)/bin)

# Source folders in data-flow order (docs/architecture.md): common error
# type; workloads; probes; pools; the results document; analysis of it;
# reports; the CLI and sweep on top.
CORE_DIRS   := common probes pools document analysis report
HARNESS_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c)) \
	$(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c))
BENCH_SRC   := $(wildcard bench/*.c)
CORE_OBJ    := $(patsubst %.c,$(B)/%.o,$(HARNESS_SRC))
BENCH_OBJ   := $(patsubst %.c,$(B)/%.o,$(BENCH_SRC))
LIB         := $(B)/libcontend.a
TEST_SRC    := $(wildcard tests/test_*.c tests/faults/test_*.c)
TEST_BIN    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

.PHONY: all deps test report bench clean check-deps test-run report-run bench-run
all: $(BIN)/contend $(BIN)/contend-linetrace

# The linetrace build: the same workload sources compiled with the
# compiler's function instrumentation, linked with hooks that take the
# interpreter-lock model on every call (what Cython's trace hooks do in
# nogil code). Harness and probes are the release objects, untouched.
LT := $(if $(filter build/release,$(B)),build/linetrace,$(B)/linetrace)
LT_BENCH_OBJ := $(patsubst %.c,$(LT)/%.o,$(BENCH_SRC))
LT_HOOKS_OBJ := $(LT)/probes/hooks/trace_hooks.o
$(LT)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -finstrument-functions -MMD -MP -c -o $@ $<
$(LT)/probes/hooks/%.o: probes/hooks/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<
$(BIN)/contend-linetrace: $(B)/harness/main.o $(LT_HOOKS_OBJ) $(LT_BENCH_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@.ci/install-deps

check-deps:
	@.ci/install-deps

$(BIN)/contend: $(B)/harness/main.o $(LIB) $(STATIC_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# bin/contend-static: tests/test_static.c runs it with only the binary
# and the C library visible (tests/isolated). Whatever variant asks for
# it, it is one plain optimised build.
.PHONY: static FORCE
static: bin/contend-static
bin/contend-static: FORCE
	@$(MAKE) --no-print-directory STATIC=1 VARIANT=static OPT=-O2 EXTRA_CFLAGS= EXTRA_LDFLAGS= \
		build/static/bin/contend
	@mkdir -p $(@D)
	@cmp -s build/static/bin/contend $@ || cp build/static/bin/contend $@
$(B)/tests/test_static: bin/contend-static

$(LIB): $(CORE_OBJ) $(BENCH_OBJ)
	@rm -f $@
	ar rcs $@ $^

# context.o carries the revision: rebuild it when the revision (or the
# version or optimisation level) changes, not only when context.c does.
BUILDINFO_STAMP := $(B)/buildinfo.stamp
$(shell mkdir -p $(B) && { echo '$(GIT_REV) $(VERSION) $(OPT)' | cmp -s - $(BUILDINFO_STAMP) || \
	echo '$(GIT_REV) $(VERSION) $(OPT)' > $(BUILDINFO_STAMP); })
$(B)/document/context.o: CFLAGS += $(BUILDINFO)
$(B)/document/context.o: $(BUILDINFO_STAMP)
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/%.c tests/testutil.h tests/testutil_pg.h $(LIB) | $(BIN)/contend
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# The LD_PRELOAD lock profiler is a shared library of its own, never part of
# libcontend.a. CFLAGS_BASE, not CFLAGS: a sanitizer build of the suite must
# not push a sanitizer runtime into every program that gets profiled.
# It carries its own copy of the library-pool census (probes/libpools.c).
PRELOAD_SRC := $(wildcard probes/preload/*.c) probes/libpools.c common/err.c
PRELOAD_SO  := $(BIN)/libcontend-lockprof.so
LOCKPROF_TARGET := $(B)/tests/lockprof_target
all: $(PRELOAD_SO)
$(PRELOAD_SO): $(PRELOAD_SRC) $(wildcard probes/preload/*.h) probes/libpools.h
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

# The seeds' stories (examples/stories/README.md): each bug and fix under
# contend doctor, one line of causes per story per variant (~1 min).
.PHONY: stories
stories: all
	examples/stories/run-stories -o build/stories -- --workers 1,2 --reps 1

BENCH_T_SRC := $(wildcard tests/bench_*.c)
BENCH_T_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(BENCH_T_SRC))
bench: check-deps
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCH_T_BIN)
	@for b in $(BENCH_T_BIN); do echo "== $$b"; $$b || exit 1; done

# bench_lockprof runs the preload and lockprof_target, and the Cython story.
$(BENCH_T_BIN): $(PRELOAD_SO) $(LOCKPROF_TARGET)
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
$(B)/tests/test_gbench_shim: tests/test_gbench_shim.c $(GB_SHIM) | $(BIN)/contend
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(GB_SHIM) $(LDLIBS) -lcmocka $(GB_LIBS)

# ---- reliability: sanitizers, valgrind, fuzzing, fault injection ----
# (docs/reliability.md). A sanitizer build is a VARIANT with its own build
# dir and bin dir (build/asan/bin/contend, ...), and its tests exec that
# variant's binaries. Every process of the suite writes its sanitizer
# reports into one log dir, which must stay empty: a report in a runner or
# a worker process fails the target even when the test that started it
# only looked at an exit status.
.PHONY: test-asan test-tsan valgrind fuzz fuzz-build fuzz-targets fuzz-replay
TEST_PATHS := -DCONTEND_BIN_DIR='"$(BIN)"' -DCONTEND_BIN='"$(BIN)/contend"' \
	-DCONTEND_BUILD_DIR='"$(B)"'
$(B)/tests/%: private CFLAGS += $(TEST_PATHS)

# Fault-injection helpers are plain builds (CFLAGS_BASE) for the same
# reason as the preload library: they are preloaded into, or run under,
# programs that are not theirs.
FAULT_DIR := $(B)/tests/faults
FAULT_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/faults/test_*.c))
FAULT_HELPERS := $(FAULT_DIR)/enospc.so $(FAULT_DIR)/forkexec
$(FAULT_BIN): $(FAULT_HELPERS)
$(FAULT_DIR)/enospc.so: tests/faults/enospc.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -fPIC -shared -o $@ $< -ldl
$(FAULT_DIR)/forkexec: tests/faults/forkexec.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -o $@ $< -pthread

ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
SAN_DIR := tests/sanitizer
# A hang under a sanitizer fails the target instead of stalling CI.
SAN_TIMEOUT ?= 1800
san_logs = $(CURDIR)/build/$(1)/sanitizer-logs
# exitcode: not 1, which contend uses for "a configuration failed".
# log_exe_name: a report's file is named after its program too
# (asan.contend.PID), so one from a killed process still says whose it is.
ASAN_ENV = ASAN_OPTIONS=log_path=$(call san_logs,asan)/asan:log_exe_name=1:halt_on_error=1:exitcode=86:detect_leaks=1:fast_unwind_on_malloc=0:verify_asan_link_order=0 \
	UBSAN_OPTIONS=log_path=$(call san_logs,asan)/ubsan:log_exe_name=1:halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/$(SAN_DIR)/lsan.supp:print_suppressions=0
TSAN_ENV = TSAN_OPTIONS=log_path=$(call san_logs,tsan)/tsan:log_exe_name=1:exitcode=66:die_after_fork=0:second_deadlock_stack=1:suppressions=$(CURDIR)/$(SAN_DIR)/tsan.supp:print_suppressions=0
test-asan test-tsan: test-%:
	@rm -rf $(call san_logs,$*) && mkdir -p -m 1777 $(call san_logs,$*)
	@$(if $(filter asan,$*),$(ASAN_ENV),$(TSAN_ENV)) timeout -k 10 $(SAN_TIMEOUT) $(MAKE) --no-print-directory \
		VARIANT=$* OPT=-O1 EXTRA_CFLAGS='$(if $(filter asan,$*),$(ASAN_FLAGS),$(TSAN_FLAGS))' \
		EXTRA_LDFLAGS='$(if $(filter asan,$*),$(ASAN_FLAGS),$(TSAN_FLAGS))' test; \
		$(SAN_DIR)/check-logs $(call san_logs,$*) $$?

# One representative sweep under memcheck: the harness alone, then with
# every runner and worker process it starts (runners and spawn workers
# exec contend again; fork workers are the runner's children).
VALGRIND := valgrind -q --leak-check=full --error-exitcode=1 \
	--errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
	--suppressions=$(SAN_DIR)/valgrind.supp
VG_RUN := run spin --pool serial,thread,process --workers 1,2 --reps 2 --quiet
valgrind: all
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	$(VALGRIND) bin/contend $(VG_RUN) --out $$d/a.json && \
	$(VALGRIND) --trace-children=yes bin/contend $(VG_RUN) --out $$d/b.json && \
	$(VALGRIND) --trace-children=yes bin/contend $(VG_RUN) --start spawn --out $$d/c.json && \
	echo "valgrind: no errors, no leaks (harness, runners, fork and spawn workers)"

# libFuzzer targets (clang): one per parser of outside input, each with
# a seed corpus in tests/fuzz/corpus/<target>/. New inputs the fuzzer
# finds go to build/fuzz/corpus/, crashes to build/fuzz/crashes/; a crash
# is fixed and its input added to the seed corpus, which fuzz-replay runs.
FUZZ_SECONDS ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FZ := build/fuzz
fuzz-build:
	@$(MAKE) --no-print-directory VARIANT=fuzz CC=clang OPT=-O1 \
		EXTRA_CFLAGS='$(FUZZ_FLAGS)' EXTRA_LDFLAGS='$(FUZZ_FLAGS)' fuzz-targets
fuzz-targets: $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_NAMES))
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)
fuzz: fuzz-build
	@tests/fuzz/run $(FZ) $(FUZZ_SECONDS) $(FUZZ_NAMES)
fuzz-replay: fuzz-build
	@tests/fuzz/run $(FZ) replay $(FUZZ_NAMES)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
