/* context.c - machine and build facts for the results document.
 *
 * Read from the kernel (uname, /proc/cpuinfo), hwloc for the core topology,
 * and the build flags the Makefile passes in. */
#include "document/context.h"
#include "probes/libpools.h"

#include <ctype.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef CONTEND_VERSION
#define CONTEND_VERSION "unknown"
#endif
#ifndef CONTEND_GIT_REV
#define CONTEND_GIT_REV "unknown"
#endif
#ifndef CONTEND_CFLAGS
#define CONTEND_CFLAGS "unknown"
#endif

const char *contend_version(void) { return CONTEND_VERSION; }
const char *contend_git_rev(void) { return CONTEND_GIT_REV; }

int context_logical_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int context_physical_cores(void)
{
	hwloc_topology_t topo;
	int cores = -1;
	if (hwloc_topology_init(&topo) == 0) {
		if (hwloc_topology_load(topo) == 0)
			cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
		hwloc_topology_destroy(topo);
	}
	return cores > 0 ? cores : context_logical_cores();
}

static void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10))
			continue;
		char *colon = strchr(line, ':');
		if (colon) {
			colon += 1 + (colon[1] == ' ');
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
		}
		break;
	}
	fclose(f);
}

void context_utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *command_line(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (!s)
		return json_null();
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	json_t *j = json_string(s);
	free(s);
	return j ? j : json_null();
}

/* The BLAS this binary runs with: its threading and kernels decide the
 * dueling-pools story, so every document says which it was. */
static json_t *blas_context(void)
{
	struct libpools lp;
	errbuf e;
	if (libpools_scan(&lp, &e))
		return json_pack("{s:n, s:s}", "library", "reason", e.msg);
	return libpools_blas_context(&lp);
}

int context_check_machine(const char *name, errbuf *e)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return errf(e, "--machine: give a name of 1 to 64 characters");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return errf(e, "--machine '%s': use letters, digits, "
				    "'.', '_' and '-' only", name);
	return 0;
}

json_t *context_collect(const char *machine, int argc, char **argv)
{
	struct utsname u;
	char kernel[256] = "unknown", host[256] = "unknown", cpu[256], now[32];
	if (uname(&u) == 0) {
		snprintf(kernel, sizeof kernel, "%s %s", u.sysname, u.release);
		snprintf(host, sizeof host, "%s", u.nodename);
	}
	cpu_model(cpu, sizeof cpu);
	context_utc_now(now, sizeof now);
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
			 "machine", machine ? machine : host, "host", host,
			 "cpu_model", cpu,
			 "logical_cores", context_logical_cores(),
			 "physical_cores", context_physical_cores(),
			 "kernel", kernel, "compiler", "gcc " __VERSION__,
			 "cflags", CONTEND_CFLAGS,
			 "contend_version", CONTEND_VERSION,
			 "git_rev", CONTEND_GIT_REV, "utc_time", now,
			 "command", command_line(argc, argv),
			 "blas", blas_context(), "pool_env", libpools_env_json());
}
