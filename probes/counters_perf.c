/* counters_perf.c - the perf_event_open backend of the counters probe, and
 * the kernel facts that decide what it can count (perf_event_paranoid, an
 * exposed PMU, privileges), so every refusal comes back with its reason. */
#include "probes/counters.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38

static int read_int_file(const char *path, int *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* paranoid only binds unprivileged users, so knowing who we are matters. */
static int is_privileged(void)
{
	if (geteuid() == 0)
		return 1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	char line[256];
	unsigned long long cap = 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapEff: %llx", &cap) == 1)
			break;
	fclose(f);
	return !!(cap & ((1ULL << CAP_SYS_ADMIN_BIT) | (1ULL << CAP_PERFMON_BIT)));
}

/* The core PMU is "cpu" on x86, "cpu_core"/"cpu_atom" on hybrid Intel,
 * "armv8_*" on Arm; software, tracepoint, breakpoint, msr... are not it. */
static int is_core_pmu_name(const char *n)
{
	return !strcmp(n, "cpu") || !strcmp(n, "cpu_core") ||
	       !strcmp(n, "cpu_atom") || !strncmp(n, "armv", 4);
}

static int find_pmu(char *name, size_t n)
{
	DIR *d = opendir("/sys/bus/event_source/devices");
	if (!d)
		return 0;
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d)))
		if (is_core_pmu_name(de->d_name)) {
			size_t k = strnlen(de->d_name, n - 1);
			memcpy(name, de->d_name, k);
			name[k] = 0;
			found = 1;
		}
	closedir(d);
	return found;
}

static int has_hypervisor_flag(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return 0;
	char line[4096];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
			found = 1;
	fclose(f);
	return found;
}

void cperf_env_probe(struct cperf_env *env)
{
	memset(env, 0, sizeof *env);
	if (read_int_file("/proc/sys/kernel/perf_event_paranoid", &env->paranoid))
		env->paranoid = CPERF_PARANOID_UNKNOWN;
	env->privileged = is_privileged();
	env->pmu = find_pmu(env->pmu_name, sizeof env->pmu_name);
	env->hypervisor = has_hypervisor_flag();
	env->probed = 1;
}

const char *cperf_paranoid_meaning(int p)
{
	if (p == CPERF_PARANOID_UNKNOWN)
		return "unknown: /proc/sys/kernel/perf_event_paranoid unreadable "
		       "(kernel without perf events?)";
	if (p <= -1)
		return "no restriction for anyone";
	if (p == 0)
		return "unprivileged users: per-process and CPU-wide events, "
		       "no raw tracepoints";
	if (p == 1)
		return "unprivileged users: per-process events (kernel "
		       "included), no CPU-wide events";
	if (p == 2)
		return "unprivileged users: per-process user-space events only";
	return "unprivileged users: no perf events at all (distribution "
	       "restriction)";
}

static const char *errno_name(int err)
{
	const char *s = strerrorname_np(err);
	return s ? s : "unknown errno";
}

static void reason_forbidden(char *buf, size_t n, const char *event, int err,
			     const struct cperf_env *env)
{
	if (env->privileged)
		snprintf(buf, n,
			 "perf: %s forbidden (%s) although this process is "
			 "privileged: a seccomp filter or security module "
			 "denies perf_event_open (containers often do)",
			 event, errno_name(err));
	else if (env->paranoid == CPERF_PARANOID_UNKNOWN)
		snprintf(buf, n, "perf: %s forbidden for this user (%s)", event,
			 errno_name(err));
	else
		snprintf(buf, n,
			 "perf: perf_event_paranoid=%d forbids %s for "
			 "unprivileged users (%s); lower it (sysctl "
			 "kernel.perf_event_paranoid=1) or grant CAP_PERFMON",
			 env->paranoid, event, errno_name(err));
}

void cperf_reason(char *buf, size_t n, const char *event, int hardware,
		  int err, const struct cperf_env *env)
{
	const char *en = errno_name(err);
	switch (err) {
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		if (hardware && !env->pmu)
			snprintf(buf, n, "perf: %s not supported (no PMU exposed%s: %s)",
				 event, env->hypervisor ? " by the hypervisor" : "", en);
		else
			snprintf(buf, n, "perf: %s not supported by this CPU/VM (%s)",
				 event, en);
		break;
	case EACCES:
	case EPERM:
		reason_forbidden(buf, n, event, err, env);
		break;
	case EMFILE:
		snprintf(buf, n, "perf: %s: out of file descriptors (EMFILE: "
			 "per-process limit, see ulimit -n)", event);
		break;
	case ENFILE:
		snprintf(buf, n, "perf: %s: system out of file descriptors (ENFILE)",
			 event);
		break;
	case ENOSYS:
		snprintf(buf, n, "perf: kernel has no perf_event_open (ENOSYS: "
			 "built without CONFIG_PERF_EVENTS), so no %s", event);
		break;
	case EBUSY:
		snprintf(buf, n, "perf: %s: PMU busy, held exclusively by another "
			 "user (EBUSY)", event);
		break;
	case EINVAL:
		snprintf(buf, n, "perf: %s rejected by this kernel (EINVAL)", event);
		break;
	default:
		snprintf(buf, n, "perf: %s: %s (%s)", event, strerror(err), en);
	}
}

static void fill_attr(struct perf_event_attr *a, const struct counter_def *d,
		      int user_only)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = d->perf_type;
	a->config = d->perf_config;
	a->disabled = 1;
	/* Counts follow into every thread and child created after the open:
	 * the probe starts before the pool, so the pool's workers count. */
	a->inherit = 1;
	/* Individual reads: inherit rules out PERF_FORMAT_GROUP. */
	a->read_format =
		PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	a->exclude_kernel = a->exclude_hv = (unsigned)user_only;
}

static int sys_perf_event_open(struct perf_event_attr *a)
{
	return (int)syscall(SYS_perf_event_open, a, 0, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

int cperf_open(const struct counter_def *d, struct cperf_env *env,
	       struct cperf_counter *c, char *reason, size_t n)
{
	struct perf_event_attr a;
	c->fd = -1;
	c->user_only = 0;
	if (!d->has_perf) {
		snprintf(reason, n, "perf: %s", d->no_perf);
		return -1;
	}
	fill_attr(&a, d, 0);
	int fd = sys_perf_event_open(&a);
	/* paranoid >= 2 still allows user-space counting: take that, marked. */
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		fill_attr(&a, d, 1);
		fd = sys_perf_event_open(&a);
		c->user_only = fd >= 0;
	}
	if (fd < 0) {
		/* generic cache events are near-equivalents: name the real one */
		char label[128];
		int err = errno;
		if (!env->probed)
			cperf_env_probe(env);
		if (d->perf_type == PERF_TYPE_HW_CACHE)
			snprintf(label, sizeof label, "%s (%s)", d->name,
				 d->perf_event);
		else
			snprintf(label, sizeof label, "%s", d->name);
		cperf_reason(reason, n, label, d->hardware, err, env);
		return -1;
	}
	c->fd = fd;
	return 0;
}

int cperf_enable(struct cperf_counter *c)
{
	return ioctl(c->fd, PERF_EVENT_IOC_ENABLE, 0) < 0 ? -1 : 0;
}

int cperf_disable(struct cperf_counter *c)
{
	return ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0) < 0 ? -1 : 0;
}

/* Multiplexed counters ran only part of the time: scale to the whole. */
static void scale(struct counter_value *v, uint64_t enabled, uint64_t running)
{
	v->value = v->raw;
	v->running_fraction = 1.0;
	if (running && running < enabled) {
		v->value = (uint64_t)((double)v->raw * enabled / running + 0.5);
		v->scaled = 1;
		v->running_fraction = (double)running / (double)enabled;
	}
}

int cperf_read(const struct cperf_counter *c, struct counter_value *v)
{
	uint64_t buf[3];
	ssize_t k;
	do
		k = read(c->fd, buf, sizeof buf);
	while (k < 0 && errno == EINTR);
	if (k != (ssize_t)sizeof buf) {
		snprintf(v->reason, sizeof v->reason, "perf: read failed (%s)",
			 k < 0 ? errno_name(errno) : "short read");
		return -1;
	}
	if (buf[2] == 0 && buf[1] > 0) {
		snprintf(v->reason, sizeof v->reason,
			 "perf: counter never got a PMU slot (multiplexed out "
			 "for the whole run)");
		return -1;
	}
	v->raw = buf[0];
	v->scaled = 0;
	scale(v, buf[1], buf[2]);
	v->user_only = c->user_only;
	v->available = 1;
	v->backend = "perf";
	return 0;
}

void cperf_close(struct cperf_counter *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

json_t *cperf_describe(const struct cperf_env *env)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "perf_event_paranoid",
			    env->paranoid == CPERF_PARANOID_UNKNOWN
				    ? json_null()
				    : json_integer(env->paranoid));
	json_object_set_new(o, "paranoid_meaning",
			    json_string(cperf_paranoid_meaning(env->paranoid)));
	json_object_set_new(o, "privileged", json_boolean(env->privileged));
	json_object_set_new(o, "pmu", env->pmu ? json_string(env->pmu_name)
					       : json_null());
	json_object_set_new(o, "pmu_path",
			    json_string("/sys/bus/event_source/devices"));
	json_object_set_new(o, "hypervisor", json_boolean(env->hypervisor));
	return o;
}
