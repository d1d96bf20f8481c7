/* threads.c - a thread census from /proc (see threads.h). Counting is
 * racy by nature: processes and threads come and go while we look, so a
 * vanished descendant is skipped; the figure is a snapshot, not a lock. */
#include "probes/threads.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A growable pid array. */
struct pids {
	pid_t *v;
	size_t n, cap;
};

static int pids_push(struct pids *p, pid_t x)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		pid_t *nv = realloc(p->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n++] = x;
	return 0;
}

static int pids_has(const struct pids *p, pid_t x)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i] == x)
			return 1;
	return 0;
}

/* Parse a /proc directory entry name as a pid; 0 when it is not one. */
static pid_t name_pid(const char *s)
{
	if (!*s)
		return 0;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c))
			return 0;
	long v = strtol(s, NULL, 10);
	return v > 0 && v <= 0x7fffffff ? (pid_t)v : 0;
}

int threads_count(pid_t pid, long *out, errbuf *e)
{
	if (pid <= 0)
		return errf(e, "no process %ld: pids are positive", (long)pid);
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return errf(e, "no process %ld (%s)", (long)pid, strerror(errno));
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (name_pid(de->d_name))
			n++;
	closedir(d);
	*out = n;
	return 0;
}

int threads_parent(pid_t pid, pid_t *out, errbuf *e)
{
	if (pid <= 0)
		return errf(e, "no process %ld: pids are positive", (long)pid);
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return errf(e, "no process %ld (%s)", (long)pid, strerror(errno));
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = 0;
	/* The command name may hold spaces and ')': parse after the last ')'. */
	char *rp = strrchr(buf, ')');
	char state;
	long ppid;
	if (!rp || sscanf(rp + 1, " %c %ld", &state, &ppid) != 2)
		return errf(e, "cannot parse %s", path);
	*out = (pid_t)ppid;
	return 0;
}

static int children_files_exist(void)
{
	return access("/proc/thread-self/children", R_OK) == 0;
}

/* Children of every thread of pid, from the children files. */
static int walk_children_files(pid_t pid, struct pids *out, errbuf *e)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
	DIR *d = opendir(path);
	if (!d)
		return errf(e, "no process %ld (%s)", (long)pid, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		pid_t tid = name_pid(de->d_name);
		if (!tid)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/task/%ld/children",
			 (long)pid, (long)tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* the thread ended meanwhile */
		long kid;
		while (rc == 0 && fscanf(f, "%ld", &kid) == 1)
			if (!pids_has(out, (pid_t)kid) && pids_push(out, (pid_t)kid) < 0)
				rc = errf(e, "out of memory");
		fclose(f);
	}
	closedir(d);
	return rc;
}

/* Every process on the machine with its parent, one pass over /proc. */
static int scan_parents(struct pids *pid, struct pids *ppid, errbuf *e)
{
	DIR *d = opendir("/proc");
	if (!d)
		return errf(e, "cannot list /proc (%s)", strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		pid_t p = name_pid(de->d_name), pp;
		if (!p || threads_parent(p, &pp, NULL) < 0)
			continue; /* not a process, or gone */
		if (pids_push(pid, p) < 0 || pids_push(ppid, pp) < 0)
			rc = errf(e, "out of memory");
	}
	closedir(d);
	return rc;
}

static int walk_scan(pid_t parent, struct pids *out, errbuf *e)
{
	struct pids all = {0}, par = {0};
	int rc = scan_parents(&all, &par, e);
	for (size_t i = 0; rc == 0 && i < all.n; i++)
		if (par.v[i] == parent && pids_push(out, all.v[i]) < 0)
			rc = errf(e, "out of memory");
	free(all.v);
	free(par.v);
	return rc;
}

static int resolve_walk(enum threads_walk *walk, errbuf *e)
{
	int have = children_files_exist();
	if (*walk == THREADS_WALK_AUTO)
		*walk = have ? THREADS_WALK_CHILDREN : THREADS_WALK_SCAN;
	else if (*walk == THREADS_WALK_CHILDREN && !have)
		return errf(e, "this kernel has no /proc/<pid>/task/<tid>/children "
			       "files (CONFIG_PROC_CHILDREN); use the /proc scan");
	else if (*walk != THREADS_WALK_SCAN && *walk != THREADS_WALK_CHILDREN)
		return errf(e, "unknown process walk %d", (int)*walk);
	return 0;
}

int threads_children(pid_t pid, enum threads_walk walk, pid_t **kids,
		     size_t *n, errbuf *e)
{
	if (pid <= 0)
		return errf(e, "no process %ld: pids are positive", (long)pid);
	if (resolve_walk(&walk, e) < 0)
		return -1;
	struct pids out = {0};
	int rc = walk == THREADS_WALK_CHILDREN ? walk_children_files(pid, &out, e)
					       : walk_scan(pid, &out, e);
	if (rc < 0) {
		free(out.v);
		return -1;
	}
	*kids = out.v;
	*n = out.n;
	return 0;
}

/* Breadth-first over the tree; `seen` doubles as the queue. */
int threads_census(pid_t root, enum threads_walk walk,
		   struct thread_census *out, errbuf *e)
{
	long t;
	if (threads_count(root, &t, e) < 0)
		return -1;
	if (resolve_walk(&walk, e) < 0)
		return -1;
	struct pids seen = {0}, all = {0}, par = {0};
	int rc = pids_push(&seen, root) < 0 ? errf(e, "out of memory") : 0;
	/* The scan reads /proc once for the whole tree, not once per level. */
	if (rc == 0 && walk == THREADS_WALK_SCAN)
		rc = scan_parents(&all, &par, e);
	out->processes = 0;
	out->threads = 0;
	for (size_t i = 0; rc == 0 && i < seen.n; i++) {
		pid_t p = seen.v[i];
		if (threads_count(p, &t, NULL) < 0)
			continue; /* exited during the walk */
		out->processes++;
		out->threads += t;
		struct pids kids = {0};
		if (walk == THREADS_WALK_CHILDREN) {
			if (walk_children_files(p, &kids, NULL) < 0)
				continue;
		} else {
			for (size_t k = 0; k < all.n; k++)
				if (par.v[k] == p && pids_push(&kids, all.v[k]) < 0)
					rc = errf(e, "out of memory");
		}
		for (size_t k = 0; rc == 0 && k < kids.n; k++)
			if (!pids_has(&seen, kids.v[k]) && pids_push(&seen, kids.v[k]) < 0)
				rc = errf(e, "out of memory");
		free(kids.v);
	}
	free(seen.v);
	free(all.v);
	free(par.v);
	return rc;
}
