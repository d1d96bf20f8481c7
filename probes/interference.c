/* interference.c - CPU other programs took during a repetition (see
 * interference.h).
 *
 * /proc/stat counts in clock ticks (sampled: a window's busy time is off
 * by up to a tick per CPU at each end), getrusage exactly; so each
 * repetition records its resolution (CPUs x tick) and the summary adds
 * the repetitions up before dividing, which shrinks that error instead of
 * taking a median of noisy ratios. The sweep itself (not in the measured
 * tree) polls its runner four times a second: its CPU counts as "other",
 * well below a thousandth of a core. */
#include "probes/interference.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define STAT_PATH "/proc/stat"
#define GOVERNOR_PATH "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
#define BOOST_PATH "/sys/devices/system/cpu/cpufreq/boost"
#define NO_TURBO_PATH "/sys/devices/system/cpu/intel_pstate/no_turbo"


int interference_parse_stat(const char *text, struct cpu_ticks *t, errbuf *e)
{
	unsigned long long v[10] = {0};
	const char *line = text;
	while (line && strncmp(line, "cpu ", 4)) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	/* user nice system idle iowait irq softirq steal guest guest_nice */
	if (!line || sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu",
			    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			    &v[7]) < 7)
		return errf(e, "no all-CPU line in " STAT_PATH);
	t->busy = v[0] + v[1] + v[2] + v[5] + v[6];
	t->steal = v[7];
	t->total = t->busy + v[3] + v[4] + v[7];
	return 0;
}

/* The CPUs /proc/stat lists ("cpuN" lines). */
static int count_cpus(const char *text)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, "\ncpu")); p += 4)
		n += p[4] >= '0' && p[4] <= '9';
	return n > 0 ? n : 1;
}

static int read_stat(struct cpu_ticks *t, int *cpus, errbuf *e)
{
	char buf[16384];
	FILE *f = fopen(STAT_PATH, "r");
	if (!f)
		return errf(e, "cannot read " STAT_PATH ": %s", strerror(errno));
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	if (cpus)
		*cpus = count_cpus(buf);
	return interference_parse_stat(buf, t, e);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* User+system seconds of this process and its waited-for children: the
 * runner, its threads and every reaped pool worker. */
static double tree_cpu_s(void)
{
	struct rusage self, kids;
	if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
		return NAN;
	return tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) +
	       tv_s(kids.ru_stime);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int interference_meter_start(struct interference_meter *m, errbuf *e)
{
	if (read_stat(&m->t0, NULL, e) < 0)
		return -1;
	m->tree0 = tree_cpu_s();
	m->clock0 = now_s();
	return 0;
}

double interference_meter_taken(const struct interference_meter *m)
{
	struct cpu_ticks t1;
	errbuf e;
	double tree1 = tree_cpu_s(), window = now_s() - m->clock0;
	if (read_stat(&t1, NULL, &e) < 0 || !(window > 0))
		return NAN;
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
	double other = fmax((double)(t1.busy - m->t0.busy) * tick - (tree1 - m->tree0), 0);
	return (other + (double)(t1.steal - m->t0.steal) * tick) / window;
}

static int interference_start(const struct probe_config *c, void **state,
			      errbuf *e)
{
	(void)c;
	struct interference_meter *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "out of memory for the interference probe");
	if (interference_meter_start(s, e) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* First line of a small /sys file, newline cut; 0 when unreadable. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ok;
}

/* The governor of cpu0 and the boost state, where /sys has them (a VM
 * usually has neither: the host decides). */
static json_t *cpufreq_json(void)
{
	char gov[64], b[16];
	if (!read_line(GOVERNOR_PATH, gov, sizeof gov))
		return json_pack("{s:b, s:s}", "available", 0, "reason",
				 "no cpufreq in /sys (a virtual machine, or "
				 "no frequency driver): the host decides");
	json_t *o = json_pack("{s:s}", "governor", gov);
	if (read_line(BOOST_PATH, b, sizeof b))
		json_object_set_new(o, "boost", json_boolean(atoi(b) != 0));
	else if (read_line(NO_TURBO_PATH, b, sizeof b))
		json_object_set_new(o, "boost", json_boolean(atoi(b) == 0));
	return o;
}

json_t *interference_meter_json(const struct interference_meter *s, errbuf *e)
{
	struct cpu_ticks t1;
	int cpus;
	double tree1 = tree_cpu_s(), window = now_s() - s->clock0;
	if (read_stat(&t1, &cpus, e) < 0)
		return NULL;
	if (!isfinite(tree1) || !isfinite(s->tree0)) {
		errf(e, "getrusage failed: %s", strerror(errno));
		return NULL;
	}
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
	double busy = (double)(t1.busy - s->t0.busy) * tick;
	double steal = (double)(t1.steal - s->t0.steal) * tick;
	double own = tree1 - s->tree0;
	/* Below 0 only by the ticks' rounding: nobody took negative time. */
	double other = fmax(busy - own, 0);
	double load[3] = {NAN, NAN, NAN};
	json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
			      "window_s", window, "machine_busy_s", busy,
			      "own_cpu_s", own, "other_cpu_s", other,
			      "steal_s", steal, "taken_cores",
			      window > 0 ? (other + steal) / window : 0.0,
			      "resolution_s", tick * cpus);
	if (!o) {
		errf(e, "out of memory writing interference");
		return NULL;
	}
	if (getloadavg(load, 3) == 3)
		json_object_set_new(o, "load_avg_1m", json_real(load[0]));
	json_object_set_new(o, "cpufreq", cpufreq_json());
	return o;
}

static int interference_stop(void *state, json_t *rep, errbuf *e)
{
	json_t *o = interference_meter_json(state, e);
	if (!o)
		return -1;
	json_object_set_new(rep, "interference", o);
	return 0;
}

static void interference_release(void *state)
{
	free(state);
}

static double field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *x, size_t n)
{
	if (!n)
		return NAN;
	qsort(x, n, sizeof *x, cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

static void set_num(json_t *o, const char *k, double v)
{
	if (isfinite(v))
		json_object_set_new(o, k, json_real(v));
}

/* Sums over the repetitions that have figures: taken_cores is what was
 * taken over all their windows together (see the top of the file). */
struct totals {
	double window, other, steal, resolution, max_taken;
	size_t n;
	json_t *cpufreq;
};

static void add_rep(struct totals *t, json_t *r, double *load, size_t *nload)
{
	double w = field(r, "window_s");
	if (!(w > 0))
		return;
	t->window += w;
	t->other += field(r, "other_cpu_s");
	t->steal += field(r, "steal_s");
	t->resolution = fmax(t->resolution, field(r, "resolution_s"));
	t->max_taken = fmax(t->max_taken, field(r, "taken_cores"));
	if (isfinite(field(r, "load_avg_1m")))
		load[(*nload)++] = field(r, "load_avg_1m");
	if (!t->cpufreq)
		t->cpufreq = json_object_get(r, "cpufreq");
	t->n++;
}

static int interference_summarise(json_t *config, errbuf *e)
{
	json_t *reps = json_object_get(config, "reps"), *rep;
	size_t i, nload = 0;
	if (!json_is_array(reps))
		return errf(e, "interference: configuration has no \"reps\" array");
	double *load = calloc(json_array_size(reps) + 1, sizeof *load);
	struct totals t = {0};
	if (!load)
		return errf(e, "out of memory");
	json_array_foreach(reps, i, rep)
		add_rep(&t, json_object_get(rep, "interference"), load, &nload);
	if (!t.n || !isfinite(t.other) || !isfinite(t.steal)) {
		free(load);
		return 0;
	}
	json_t *o = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "reps",
			      (json_int_t)t.n, "window_s", t.window,
			      "other_cpu_s", t.other, "steal_s", t.steal,
			      "taken_cores", (t.other + t.steal) / t.window,
			      "taken_cores_max", t.max_taken);
	set_num(o, "resolution_s", t.resolution);
	set_num(o, "load_avg_1m", median(load, nload));
	if (t.cpufreq)
		json_object_set(o, "cpufreq", t.cpufreq);
	free(load);
	json_object_set_new(config, "interference", o);
	return 0;
}

const struct probe_ops probe_interference = {
	.name = "interference",
	.start = interference_start,
	.stop = interference_stop,
	.release = interference_release,
	.summarise = interference_summarise,
};
