/* libpools.c - find the thread pools of loaded native libraries at run time
 * (threadpoolctl's approach, in C): walk the loaded objects, look up each
 * known API in the object itself, and ask the library for its own figures. */
#include "probes/libpools.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The APIs we know. A library counts only if it defines get and set itself:
 * dlsym on a handle also searches its dependencies, and we must not mistake
 * libopenblas (openmp build) for the libgomp it pulls in. */
struct api {
	enum libpool_kind kind;
	const char *get;
	const char *set;
};

static const struct api apis[] = {
	{LIBPOOL_OPENBLAS, "openblas_get_num_threads", "openblas_set_num_threads"},
	{LIBPOOL_BLIS, "bli_thread_get_num_threads", "bli_thread_set_num_threads"},
	{LIBPOOL_MKL, "MKL_Get_Max_Threads", "MKL_Set_Num_Threads"},
	{LIBPOOL_OPENMP, "omp_get_max_threads", "omp_set_num_threads"},
};

const char *libpool_kind_name(enum libpool_kind kind)
{
	switch (kind) {
	case LIBPOOL_OPENBLAS: return "openblas";
	case LIBPOOL_BLIS: return "blis";
	case LIBPOOL_MKL: return "mkl";
	case LIBPOOL_OPENMP: return "openmp";
	}
	return "unknown";
}

/* ---- walking the loaded objects ---- */

struct objlist {
	size_t n, cap;
	char **names; /* "" is the main program */
};

static int collect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct objlist *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **nn = realloc(l->names, cap * sizeof *nn);
		if (!nn)
			return 1;
		l->names = nn;
		l->cap = cap;
	}
	l->names[l->n] = strdup(info->dlpi_name ? info->dlpi_name : "");
	if (!l->names[l->n])
		return 1;
	l->n++;
	return 0;
}

static void objlist_free(struct objlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

/* dlsym, but only if the symbol is defined in the object of `handle`. */
static void *own_sym(void *handle, struct link_map *self, const char *name)
{
	void *p = dlsym(handle, name);
	if (!p)
		return NULL;
	Dl_info info;
	struct link_map *owner = NULL;
	if (!dladdr1(p, &info, (void **)&owner, RTLD_DL_LINKMAP) || owner != self)
		return NULL;
	return p;
}

/* Bounded copy that truncates quietly: names longer than our fields are
 * still worth showing in part. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- per-library details ---- */

static void describe_openblas(struct libpool *p, void *h, struct link_map *lm)
{
	char *(*config)(void) = (char *(*)(void))own_sym(h, lm, "openblas_get_config");
	char *(*core)(void) = (char *(*)(void))own_sym(h, lm, "openblas_get_corename");
	int (*par)(void) = (int (*)(void))own_sym(h, lm, "openblas_get_parallel");
	copy(p->library, sizeof p->library, "OpenBLAS");
	if (config) {
		copy(p->config, sizeof p->config, config());
		/* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." */
		char ver[sizeof p->version];
		if (sscanf(p->config, "OpenBLAS %63s", ver) == 1)
			copy(p->version, sizeof p->version, ver);
	}
	if (core)
		copy(p->corename, sizeof p->corename, core());
	if (par) {
		int v = par();
		copy(p->threading, sizeof p->threading,
		     v == 0 ? "sequential" : v == 1 ? "pthreads"
				   : v == 2 ? "openmp" : "unknown");
	}
}

static void describe_blis(struct libpool *p, void *h, struct link_map *lm)
{
	char *(*ver)(void) = (char *(*)(void))own_sym(h, lm, "bli_info_get_version_str");
	long (*omp)(void) = (long (*)(void))own_sym(h, lm, "bli_info_get_enable_openmp");
	long (*pth)(void) = (long (*)(void))own_sym(h, lm, "bli_info_get_enable_pthreads");
	copy(p->library, sizeof p->library, "BLIS");
	if (ver)
		copy(p->version, sizeof p->version, ver());
	if (omp && omp())
		copy(p->threading, sizeof p->threading, "openmp");
	else if (pth && pth())
		copy(p->threading, sizeof p->threading, "pthreads");
	else if (omp || pth)
		copy(p->threading, sizeof p->threading, "sequential");
}

static void describe_mkl(struct libpool *p, void *h, struct link_map *lm)
{
	void (*ver)(char *, int) = (void (*)(char *, int))own_sym(h, lm, "MKL_Get_Version_String");
	/* MKL_Set_Threading_Layer(-1) only reports the layer in use. */
	int (*layer)(int) = (int (*)(int))own_sym(h, lm, "MKL_Set_Threading_Layer");
	static const char *const layers[] = {"intel", "sequential", "pgi", "gnu", "tbb"};
	copy(p->library, sizeof p->library, "MKL");
	if (ver)
		ver(p->config, (int)sizeof p->config);
	if (layer) {
		int l = layer(-1);
		copy(p->threading, sizeof p->threading,
		     l >= 0 && l < 5 ? layers[l] : "unknown");
	}
}

static void describe_openmp(struct libpool *p)
{
	/* No portable version call: name the runtime by its file. */
	const char *base = strrchr(p->path, '/');
	base = base ? base + 1 : p->path;
	size_t len = strcspn(base, ".");
	snprintf(p->library, sizeof p->library, "%.*s", (int)len, base);
	copy(p->config, sizeof p->config, base);
	copy(p->threading, sizeof p->threading, "openmp");
}

static void describe(struct libpool *p, void *h, struct link_map *lm)
{
	switch (p->kind) {
	case LIBPOOL_OPENBLAS: describe_openblas(p, h, lm); break;
	case LIBPOOL_BLIS: describe_blis(p, h, lm); break;
	case LIBPOOL_MKL: describe_mkl(p, h, lm); break;
	case LIBPOOL_OPENMP: describe_openmp(p); break;
	}
	p->threads = p->get_threads();
}

/* Add every API that object `name` defines to out. */
static void probe_object(const char *name, struct libpools *out)
{
	void *h = dlopen(*name ? name : NULL, RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		return; /* the vDSO, or an object that cannot be reopened */
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
		for (size_t a = 0; a < sizeof apis / sizeof apis[0]; a++) {
			void *get = own_sym(h, lm, apis[a].get);
			void *set = own_sym(h, lm, apis[a].set);
			if (!get || !set || out->n == LIBPOOLS_MAX)
				continue;
			struct libpool *p = &out->pool[out->n++];
			memset(p, 0, sizeof *p);
			p->kind = apis[a].kind;
			char real[PATH_MAX];
			const char *path = *name ? name : "/proc/self/exe";
			copy(p->path, sizeof p->path,
			     realpath(path, real) ? real : path);
			p->get_threads = (int (*)(void))get;
			p->set_threads = (void (*)(int))set;
			describe(p, h, lm);
		}
	}
	/* NOLOAD took a reference; give it back (the object stays loaded). */
	dlclose(h);
}

int libpools_scan(struct libpools *out, errbuf *e)
{
	if (!out)
		return errf(e, "libpools_scan: no output");
	memset(out, 0, sizeof *out);
	struct objlist l = {0};
	/* Collect first: dlopen inside the dl_iterate_phdr callback would run
	 * under the loader's lock. */
	int stop = dl_iterate_phdr(collect_cb, &l);
	if (stop) {
		objlist_free(&l);
		return errf(e, "cannot list loaded libraries: out of memory");
	}
	for (size_t i = 0; i < l.n; i++)
		probe_object(l.names[i], out);
	objlist_free(&l);
	return 0;
}

int libpools_set_threads(int n, errbuf *e)
{
	if (n < 1 || n > 4096)
		return errf(e, "library thread count must be 1..4096, not %d", n);
	struct libpools lp;
	if (libpools_scan(&lp, e) < 0)
		return -1;
	/* Call set only when the limit differs: in a forked child OpenBLAS
	 * 0.3.21 restarts its whole pool (cores - 1 threads) inside
	 * openblas_set_num_threads, even when asked for 1. */
	for (size_t i = 0; i < lp.n; i++)
		if (lp.pool[i].get_threads() != n)
			lp.pool[i].set_threads(n);
	return (int)lp.n;
}

const struct libpool *libpools_find(const struct libpools *lp,
				    enum libpool_kind kind)
{
	for (size_t i = 0; lp && i < lp->n; i++)
		if (lp->pool[i].kind == kind)
			return &lp->pool[i];
	return NULL;
}

/* ---- CPU level and the kernel check ---- */

static int has_flag(const char *flags, const char *word)
{
	size_t wl = strlen(word);
	for (const char *s = flags; *s;) {
		s += strspn(s, " \t\n");
		size_t len = strcspn(s, " \t\n");
		if (len == wl && !strncmp(s, word, wl))
			return 1;
		s += len;
	}
	return 0;
}

enum cpu_level cpu_level_from_flags(const char *flags)
{
	if (!flags)
		return CPU_SSE;
	if (has_flag(flags, "avx512f") && has_flag(flags, "avx512cd") &&
	    has_flag(flags, "avx512bw") && has_flag(flags, "avx512dq") &&
	    has_flag(flags, "avx512vl"))
		return CPU_AVX512;
	if (has_flag(flags, "avx2") && has_flag(flags, "fma"))
		return CPU_AVX2;
	if (has_flag(flags, "avx"))
		return CPU_AVX;
	return CPU_SSE;
}

int cpu_level_detect(enum cpu_level *out, errbuf *e)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return errf(e, "cannot read /proc/cpuinfo");
	char *line = NULL;
	size_t cap = 0;
	*out = CPU_SSE; /* no x86 flags line: no verdict to give */
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "flags", 5) && strchr(line, ':')) {
			*out = cpu_level_from_flags(strchr(line, ':') + 1);
			break;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

const char *cpu_level_name(enum cpu_level l)
{
	switch (l) {
	case CPU_SSE: return "SSE";
	case CPU_AVX: return "AVX";
	case CPU_AVX2: return "AVX2";
	case CPU_AVX512: return "AVX-512";
	}
	return "?";
}

/* OpenBLAS x86 core names (dynamic.c) and the vector level their kernels
 * use. The SSE group includes "generic" (plain C) and the pre-AVX cores
 * that an unrecognised CPU falls back to (Prescott). */
struct core_level {
	const char *name;
	enum cpu_level level;
};

static const struct core_level core_levels[] = {
	{"SkylakeX", CPU_AVX512}, {"Cooperlake", CPU_AVX512},
	{"SapphireRapids", CPU_AVX512},
	{"Haswell", CPU_AVX2}, {"Zen", CPU_AVX2},
	{"Sandybridge", CPU_AVX}, {"Bulldozer", CPU_AVX},
	{"Piledriver", CPU_AVX}, {"Steamroller", CPU_AVX},
	{"Excavator", CPU_AVX},
	{"generic", CPU_SSE}, {"Prescott", CPU_SSE}, {"Core2", CPU_SSE},
	{"Penryn", CPU_SSE}, {"Dunnington", CPU_SSE}, {"Nehalem", CPU_SSE},
	{"Atom", CPU_SSE}, {"Opteron", CPU_SSE}, {"Opteron(SSE3)", CPU_SSE},
	{"Barcelona", CPU_SSE}, {"Bobcat", CPU_SSE}, {"Katmai", CPU_SSE},
	{"Coppermine", CPU_SSE}, {"Northwood", CPU_SSE}, {"Banias", CPU_SSE},
};

static const char *coretype_for(enum cpu_level l)
{
	switch (l) {
	case CPU_AVX512: return "SkylakeX";
	case CPU_AVX2: return "Haswell";
	case CPU_AVX: return "Sandybridge";
	case CPU_SSE: return "";
	}
	return "";
}

static void advise(const char *corename, int dynamic_arch,
		   const char *env_coretype, struct kernel_advice *out)
{
	const char *kl = cpu_level_name(out->kernel_level);
	const char *cl = cpu_level_name(out->cpu_level);
	if (!dynamic_arch)
		snprintf(out->message, sizeof out->message,
			 "OpenBLAS runs %s kernels (%s) on a CPU with %s and is "
			 "not a DYNAMIC_ARCH build: rebuild it with TARGET=%s",
			 corename, kl, cl, out->suggested);
	else if (env_coretype && *env_coretype)
		snprintf(out->message, sizeof out->message,
			 "OpenBLAS runs %s kernels (%s) on a CPU with %s because "
			 "the environment sets OPENBLAS_CORETYPE=%.31s: set "
			 "OPENBLAS_CORETYPE=%s for the faster kernels",
			 corename, kl, cl, env_coretype, out->suggested);
	else
		snprintf(out->message, sizeof out->message,
			 "OpenBLAS runs %s kernels (%s) on a CPU with %s: set "
			 "OPENBLAS_CORETYPE=%s for the faster kernels",
			 corename, kl, cl, out->suggested);
}

int libpools_kernel_check(const char *corename, enum cpu_level cpu_level,
			  int dynamic_arch, const char *env_coretype,
			  struct kernel_advice *out, errbuf *e)
{
	if (!out)
		return errf(e, "kernel check: no output");
	memset(out, 0, sizeof *out);
	out->cpu_level = cpu_level;
	if (!corename || !*corename)
		return errf(e, "kernel check: no OpenBLAS core name");
	if (cpu_level < CPU_SSE || cpu_level > CPU_AVX512)
		return errf(e, "kernel check: bad CPU level %d", (int)cpu_level);
	for (size_t i = 0; i < sizeof core_levels / sizeof core_levels[0]; i++)
		if (!strcasecmp(corename, core_levels[i].name)) {
			out->known = 1;
			out->kernel_level = core_levels[i].level;
		}
	if (!out->known || out->kernel_level >= cpu_level)
		return 0;
	out->applies = 1;
	copy(out->suggested, sizeof out->suggested, coretype_for(cpu_level));
	copy(out->forced, sizeof out->forced, env_coretype);
	advise(corename, dynamic_arch, env_coretype, out);
	return 0;
}

int libpools_kernel_check_loaded(const struct libpools *lp,
				 struct kernel_advice *out, errbuf *e)
{
	if (!out)
		return errf(e, "kernel check: no output");
	memset(out, 0, sizeof *out);
	const struct libpool *ob = libpools_find(lp, LIBPOOL_OPENBLAS);
	if (!ob || !ob->corename[0])
		return 0;
	enum cpu_level level;
	if (cpu_level_detect(&level, e) < 0)
		return -1;
	int dynamic = strstr(ob->config, "DYNAMIC_ARCH") != NULL;
	return libpools_kernel_check(ob->corename, level, dynamic,
				     getenv("OPENBLAS_CORETYPE"), out, e);
}

/* ---- JSON ---- */

json_t *libpools_env_json(void)
{
	static const char *const names[] = {
		"OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "GOTO_NUM_THREADS",
		"OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
	};
	json_t *o = json_object();
	for (size_t i = 0; o && i < sizeof names / sizeof names[0]; i++)
		if (getenv(names[i]))
			json_object_set_new(o, names[i], json_string(getenv(names[i])));
	return o;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *pool_json(const struct libpool *p)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i}",
			 "library", p->library, "kind", libpool_kind_name(p->kind),
			 "path", p->path, "version", str_or_null(p->version),
			 "config", str_or_null(p->config),
			 "threading", str_or_null(p->threading),
			 "core_name", str_or_null(p->corename),
			 "threads", p->threads);
}

json_t *libpools_json(const struct libpools *lp)
{
	json_t *a = json_array();
	for (size_t i = 0; a && lp && i < lp->n; i++)
		json_array_append_new(a, pool_json(&lp->pool[i]));
	return a;
}

json_t *libpools_blas_context(const struct libpools *lp)
{
	static const enum libpool_kind blas[] = {LIBPOOL_OPENBLAS, LIBPOOL_MKL,
						 LIBPOOL_BLIS};
	const struct libpool *p = NULL;
	for (size_t i = 0; !p && i < sizeof blas / sizeof blas[0]; i++)
		p = libpools_find(lp, blas[i]);
	if (!p)
		return json_pack("{s:n, s:s}", "library", "reason",
				 "no BLAS with a thread pool is loaded");
	json_t *o = pool_json(p);
	struct kernel_advice adv;
	if (o && p->kind == LIBPOOL_OPENBLAS &&
	    libpools_kernel_check_loaded(lp, &adv, NULL) == 0 && adv.applies)
		json_object_set_new(o, "kernel_warning",
				    json_pack("{s:s, s:s, s:o}", "message", adv.message,
					      "suggested_coretype", adv.suggested,
					      "forced_by_env", str_or_null(adv.forced)));
	else if (o)
		json_object_set_new(o, "kernel_warning", json_null());
	return o;
}
