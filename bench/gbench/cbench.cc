/* cbench.cc - the C++ side of the C shim over Google Benchmark: wraps
 * benchmark::State and Benchmark behind opaque C handles, checks what the
 * library would abort on, and keeps C++ exceptions from reaching C. */
#include "bench/gbench/cbench.h"

#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct cb_bench {
	benchmark::internal::Benchmark *gb;
	cb_fn fn;
	void *arg;
	int arity; /* arguments per run, -1 while none are set */
	bool min_time, iterations; /* the library allows only one of them */
};

struct cb_state {
	benchmark::State *st;
	const cb_bench *b;
	bool started; /* the first keep_running said yes */
	bool running; /* the timer runs: started, not paused, not finished */
};

namespace {

/* Owned here, not by C: freed by cb_shutdown after the library forgets
 * its Benchmark objects. */
std::vector<std::unique_ptr<cb_bench>> benches;

thread_local char last_error[256];

int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return -1;
}

/* The library's arity rule (ArgsCnt()): one length for every list. */
int take_arity(cb_bench *b, int n)
{
	if (b->arity != -1 && b->arity != n)
		return fail("benchmark takes %d argument(s), not %d", b->arity,
			    n);
	b->arity = n;
	return 0;
}

benchmark::Counter::Flags counter_flags(unsigned f)
{
	int g = 0;
	if (f & CB_IS_RATE)
		g |= benchmark::Counter::kIsRate;
	if (f & CB_AVG_THREADS)
		g |= benchmark::Counter::kAvgThreads;
	if (f & CB_IS_ITERATION_INVARIANT)
		g |= benchmark::Counter::kIsIterationInvariant;
	if (f & CB_AVG_ITERATIONS)
		g |= benchmark::Counter::kAvgIterations;
	if (f & CB_INVERT)
		g |= benchmark::Counter::kInvert;
	return static_cast<benchmark::Counter::Flags>(g);
}

const unsigned all_counter_flags = CB_IS_RATE | CB_AVG_THREADS |
				   CB_IS_ITERATION_INVARIANT |
				   CB_AVG_ITERATIONS | CB_INVERT |
				   CB_ONE_K_1024;

/* Per-iteration time of a run in ns; aggregates in percent (cv) carry
 * their ratio in the accumulated field, as the JSON reporter prints it. */
double per_iter_ns(const benchmark::BenchmarkReporter::Run &r, bool real)
{
	if (r.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate &&
	    r.aggregate_unit == benchmark::kPercentage)
		return real ? r.real_accumulated_time : r.cpu_accumulated_time;
	double t = real ? r.GetAdjustedRealTime() : r.GetAdjustedCPUTime();
	return t * 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
}

void forward(const benchmark::BenchmarkReporter::Run &r, cb_result_fn fn,
	     void *arg)
{
	std::string name = r.benchmark_name();
	std::vector<const char *> names;
	std::vector<double> values;
	for (const auto &kv : r.counters) {
		names.push_back(kv.first.c_str());
		values.push_back(kv.second.value);
	}
	bool agg = r.run_type ==
		   benchmark::BenchmarkReporter::Run::RT_Aggregate;
	cb_result c = {};
	c.name = name.c_str();
	c.family = r.run_name.function_name.c_str();
	c.aggregate = agg ? r.aggregate_name.c_str() : "";
	c.iterations = r.iterations;
	c.threads = static_cast<int>(r.threads);
	c.repetition = agg ? -1 : r.repetition_index;
	c.real_ns = per_iter_ns(r, true);
	c.cpu_ns = per_iter_ns(r, false);
	c.error = r.error_occurred;
	c.error_message = r.error_message.c_str();
	c.n_counters = names.size();
	c.counter_names = names.data();
	c.counter_values = values.data();
	fn(&c, arg);
}

/* The console display, plus every run handed to C. */
class Collector : public benchmark::ConsoleReporter {
public:
	Collector(OutputOptions o, cb_result_fn fn, void *arg)
		: ConsoleReporter(o), fn_(fn), arg_(arg)
	{
	}
	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const auto &r : runs)
			forward(r, fn_, arg_);
	}

private:
	cb_result_fn fn_;
	void *arg_;
};

} // namespace

extern "C" {

const char *cb_last_error(void)
{
	return last_error;
}

int cb_initialize(int *argc, char **argv)
{
	if (!argc || !argv)
		return fail("cb_initialize needs argc and argv");
	benchmark::Initialize(argc, argv);
	if (*argc > 1) {
		benchmark::ReportUnrecognizedArguments(*argc, argv);
		return fail("unrecognised argument '%s'", argv[1]);
	}
	return 0;
}

int cb_add_context(const char *key, const char *value)
{
	if (!key || !*key || !value)
		return fail("context needs a key and a value");
	try {
		benchmark::AddCustomContext(key, value);
	} catch (...) {
		return fail("cannot add context '%s'", key);
	}
	return 0;
}

size_t cb_run_specified(void)
{
	try {
		return benchmark::RunSpecifiedBenchmarks();
	} catch (...) {
		fail("the benchmark run threw an exception");
		return 0;
	}
}

size_t cb_run_specified_with(cb_result_fn fn, void *arg)
{
	if (!fn)
		return cb_run_specified();
	auto opts = isatty(STDOUT_FILENO)
			    ? benchmark::ConsoleReporter::OO_ColorTabular
			    : benchmark::ConsoleReporter::OO_Tabular;
	try {
		Collector display(opts, fn, arg);
		return benchmark::RunSpecifiedBenchmarks(&display);
	} catch (...) {
		fail("the benchmark run threw an exception");
		return 0;
	}
}

int cb_result_counter(const struct cb_result *r, const char *name,
		      double *out)
{
	for (size_t i = 0; r && name && i < r->n_counters; i++) {
		if (std::string(r->counter_names[i]) == name) {
			*out = r->counter_values[i];
			return 0;
		}
	}
	return -1;
}

/* Not benchmark::Shutdown(): in 1.7.1 it deletes the custom context
 * without resetting the pointer, so a later run or cb_add_context would
 * use freed memory. The context map stays reachable until exit. */
void cb_shutdown(void)
{
	benchmark::ClearRegisteredBenchmarks();
	benches.clear();
}

cb_bench *cb_register(const char *name, cb_fn fn, void *arg)
{
	if (!name || !*name || !fn) {
		fail("a benchmark needs a name and a function");
		return nullptr;
	}
	try {
		auto b = std::make_unique<cb_bench>();
		cb_bench *p = b.get();
		*p = cb_bench{nullptr, fn, arg, -1, false, false};
		p->gb = benchmark::RegisterBenchmark(
			name, [p](benchmark::State &st) {
				cb_state s{&st, p, false, false};
				p->fn(&s, p->arg);
			});
		benches.push_back(std::move(b));
		return p;
	} catch (...) {
		fail("cannot register benchmark '%s'", name);
		return nullptr;
	}
}

/* Every configuration call: a bench, then the library call, which can
 * only throw bad_alloc once the arguments were checked here. */
#define CONFIGURE(b, call)                                                  \
	do {                                                                \
		if (!(b))                                                   \
			return fail("no benchmark (NULL)");                 \
		try {                                                       \
			(b)->gb->call;                                      \
		} catch (...) {                                             \
			return fail("out of memory configuring a benchmark"); \
		}                                                           \
		return 0;                                                   \
	} while (0)

int cb_bench_arg(cb_bench *b, int64_t x)
{
	if (b && take_arity(b, 1) < 0)
		return -1;
	CONFIGURE(b, Arg(x));
}

int cb_bench_args(cb_bench *b, const int64_t *xs, size_t n)
{
	if (!xs || n == 0 || n > 64)
		return fail("argument list of %zu values", n);
	if (b && take_arity(b, static_cast<int>(n)) < 0)
		return -1;
	CONFIGURE(b, Args(std::vector<int64_t>(xs, xs + n)));
}

int cb_bench_range(cb_bench *b, int64_t lo, int64_t hi)
{
	if (lo < 0 || hi < lo)
		return fail("range [%lld, %lld]: want 0 <= lo <= hi",
			    (long long)lo, (long long)hi);
	if (b && take_arity(b, 1) < 0)
		return -1;
	CONFIGURE(b, Range(lo, hi));
}

int cb_bench_dense_range(cb_bench *b, int64_t lo, int64_t hi, int step)
{
	if (hi < lo || step < 1)
		return fail("dense range [%lld, %lld] step %d",
			    (long long)lo, (long long)hi, step);
	if (b && take_arity(b, 1) < 0)
		return -1;
	CONFIGURE(b, DenseRange(lo, hi, step));
}

int cb_bench_range_multiplier(cb_bench *b, int m)
{
	if (m < 2)
		return fail("range multiplier %d: want >= 2", m);
	CONFIGURE(b, RangeMultiplier(m));
}

int cb_bench_arg_names(cb_bench *b, const char *const *names, size_t n)
{
	if (!names || n == 0 || n > 64)
		return fail("argument names: %zu given", n);
	std::vector<std::string> v;
	try {
		for (size_t i = 0; i < n; i++) {
			if (!names[i])
				return fail("argument name %zu is NULL", i);
			v.emplace_back(names[i]);
		}
	} catch (...) {
		return fail("out of memory for argument names");
	}
	if (b && take_arity(b, static_cast<int>(n)) < 0)
		return -1;
	CONFIGURE(b, ArgNames(v));
}

int cb_bench_threads(cb_bench *b, int n)
{
	if (n < 1)
		return fail("%d threads: want >= 1", n);
	CONFIGURE(b, Threads(n));
}

int cb_bench_thread_range(cb_bench *b, int min, int max)
{
	if (min < 1 || max < min)
		return fail("thread range %d..%d: want 1 <= min <= max", min,
			    max);
	CONFIGURE(b, ThreadRange(min, max));
}

int cb_bench_dense_thread_range(cb_bench *b, int min, int max, int stride)
{
	if (min < 1 || max < min || stride < 1)
		return fail("dense thread range %d..%d stride %d", min, max,
			    stride);
	CONFIGURE(b, DenseThreadRange(min, max, stride));
}

int cb_bench_use_real_time(cb_bench *b)
{
	CONFIGURE(b, UseRealTime());
}

int cb_bench_measure_process_cpu_time(cb_bench *b)
{
	CONFIGURE(b, MeasureProcessCPUTime());
}

int cb_bench_repetitions(cb_bench *b, int n)
{
	if (n < 1)
		return fail("%d repetitions: want >= 1", n);
	CONFIGURE(b, Repetitions(n));
}

int cb_bench_min_time(cb_bench *b, double seconds)
{
	if (!(seconds > 0))
		return fail("minimum time %g s: want > 0", seconds);
	if (b && b->iterations)
		return fail("minimum time and fixed iterations exclude each other");
	if (b)
		b->min_time = true;
	CONFIGURE(b, MinTime(seconds));
}

int cb_bench_iterations(cb_bench *b, int64_t n)
{
	if (n < 1)
		return fail("%lld iterations: want >= 1", (long long)n);
	if (b && b->min_time)
		return fail("minimum time and fixed iterations exclude each other");
	if (b)
		b->iterations = true;
	CONFIGURE(b, Iterations(n));
}

int cb_bench_unit(cb_bench *b, enum cb_unit u)
{
	static const benchmark::TimeUnit units[] = {
		benchmark::kNanosecond, benchmark::kMicrosecond,
		benchmark::kMillisecond, benchmark::kSecond};
	if (u < CB_NS || u > CB_S)
		return fail("unknown time unit %d", (int)u);
	CONFIGURE(b, Unit(units[u]));
}

/* --- the hot path: thin, no checks beyond the timer bookkeeping that
 * keeps the library's own checks from aborting the process ----------- */

int cb_keep_running(cb_state *s)
{
	if (s->started && !s->running && !s->st->error_occurred()) {
		fail("keep_running with timing paused: resumed");
		s->st->ResumeTiming();
	}
	s->started = true;
	s->running = s->st->KeepRunning();
	return s->running;
}

int cb_keep_running_batch(cb_state *s, int64_t n)
{
	if (n < 1)
		n = 1;
	if (s->started && !s->running && !s->st->error_occurred()) {
		fail("keep_running with timing paused: resumed");
		s->st->ResumeTiming();
	}
	s->started = true;
	s->running = s->st->KeepRunningBatch(n);
	return s->running;
}

int64_t cb_range(const cb_state *s, size_t pos)
{
	if (s->b->arity < 0 || pos >= static_cast<size_t>(s->b->arity)) {
		fail("argument %zu of a benchmark with %d", pos,
		     s->b->arity < 0 ? 0 : s->b->arity);
		return 0;
	}
	return s->st->range(pos);
}

int cb_thread_index(const cb_state *s)
{
	return s->st->thread_index();
}

int cb_threads(const cb_state *s)
{
	return s->st->threads();
}

int64_t cb_iterations(const cb_state *s)
{
	return s->st->iterations();
}

void cb_pause_timing(cb_state *s)
{
	if (!s->running) {
		fail("pause_timing while the timer is not running");
		return;
	}
	s->st->PauseTiming();
	s->running = false;
}

void cb_resume_timing(cb_state *s)
{
	if (!s->started || s->running || s->st->error_occurred()) {
		fail("resume_timing while the timer is not paused");
		return;
	}
	s->st->ResumeTiming();
	s->running = true;
}

void cb_set_items_processed(cb_state *s, int64_t items)
{
	s->st->SetItemsProcessed(items);
}

void cb_set_bytes_processed(cb_state *s, int64_t bytes)
{
	s->st->SetBytesProcessed(bytes);
}

int cb_set_label(cb_state *s, const char *label)
{
	if (!label)
		return fail("NULL label");
	try {
		s->st->SetLabel(label);
	} catch (...) {
		return fail("out of memory for a label");
	}
	return 0;
}

void cb_skip_with_error(cb_state *s, const char *msg)
{
	s->st->SkipWithError(msg ? msg : "skipped");
	s->running = false;
}

int cb_counter(cb_state *s, const char *name, double value, unsigned flags)
{
	if (!name || !*name)
		return fail("a counter needs a name");
	if (flags & ~all_counter_flags)
		return fail("unknown counter flags 0x%x", flags);
	auto k = (flags & CB_ONE_K_1024) ? benchmark::Counter::kIs1024
					 : benchmark::Counter::kIs1000;
	try {
		s->st->counters[name] =
			benchmark::Counter(value, counter_flags(flags), k);
	} catch (...) {
		return fail("out of memory for counter '%s'", name);
	}
	return 0;
}

} // extern "C"
