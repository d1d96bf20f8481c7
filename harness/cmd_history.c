/* cmd_history.c - `contend history add|list|copy`: keep runs in a history
 * (a SQLite file, or a PostgreSQL server a fleet of machines shares).
 *
 * Nightly jobs add every results document (or Google Benchmark JSON) here;
 * compare --db and the dashboard read it back. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/commands.h"
#include "harness/verb.h"
#include "common/err.h"
#include "document/doc.h"
#include "document/history.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend history add [--db FILE] RESULTS.json...\n"
		"       contend history list [--db FILE] [--json]\n"
		"       contend history copy [--db FILE] --to FILE\n"
		"\n"
		"Keep runs in a history (default %s). FILE is a SQLite file, or a\n"
		"PostgreSQL server's database as a URI, postgresql://USER@HOST/DB\n"
		"(or postgres://...; libpq's URI syntax, e.g. ?host=/run/postgresql),\n"
		"which many machines can add to at once.\n"
		"  add   store results documents or Google Benchmark JSON files;\n"
		"        a document already stored (same content) is not added twice\n"
		"  list  one line per stored run, oldest first\n"
		"  copy  add every run of --db to --to (either kind to either kind);\n"
		"        runs already there are skipped, so copying again is harmless\n"
		"\n"
		"  --db FILE   the history (for copy: the one read)\n"
		"  --to FILE   copy: the history written (created when missing)\n"
		"  --json      list as JSON\n"
		"  -h, --help  this help\n"
		"\n" VERB_EXIT_HELP
		"A PostgreSQL server that cannot be reached or goes away exits 3;\n"
		"runs added before that stay stored, a run being added is not kept.\n",
		HISTORY_DEFAULT_PATH);
}

/* A history that could not be opened or read: a server that is down or
 * failed is a runtime failure; anything else is a location that is not a
 * usable history, bad input. */
static int open_status(int rc)
{
	return rc == HISTORY_UNAVAILABLE ? EXIT_RUNTIME : EXIT_USAGE;
}

/* The default lives in results/, which a fresh checkout may not have. */
static void make_parent(const char *path)
{
	char tmp[4096];
	if (strstr(path, "://"))
		return; /* a server's database */
	snprintf(tmp, sizeof tmp, "%s", path);
	mkdir(dirname(tmp), 0755);
}

/* *gone: the database went away, so later files need not be tried. */
static int add_one(history *h, const char *file, int *gone)
{
	json_t *doc;
	const char *source;
	errbuf e;
	int64_t id;
	int dup;
	if (history_load_file(file, &doc, &source, &e))
		return verb_fail("history", EXIT_USAGE, &e);
	int rc = history_add(h, doc, source, file, &id, &dup, &e);
	if (rc) {
		*gone = rc == HISTORY_UNAVAILABLE;
		json_decref(doc);
		return verb_fail("history", EXIT_RUNTIME, &e);
	}
	size_t n = json_array_size(json_object_get(doc, "configs"));
	if (dup)
		printf("%s: already in the history as run %lld (same content); "
		       "not added again\n", file, (long long)id);
	else
		printf("%s: added as run %lld (%zu configuration%s, %s)\n", file,
		       (long long)id, n, n == 1 ? "" : "s",
		       strcmp(source, "gbench") ? "contend results"
						: "Google Benchmark JSON");
	json_decref(doc);
	return 0;
}

static int do_add(const char *db, int nfiles, char **files)
{
	if (nfiles == 0) {
		return verb_error("history", EXIT_USAGE, "add: name one or "
				  "more results files");
	}
	history *h;
	errbuf e;
	make_parent(db);
	/* A named file that is not a usable history is bad input. */
	int orc = history_open(db, 1, &h, &e);
	if (orc)
		return verb_fail("history", open_status(orc), &e);
	/* Every file is tried; the worst failure decides the status (a
	 * database failure outranks a bad file). */
	int rc = EXIT_OK, gone = 0;
	for (int i = 0; i < nfiles && !gone; i++) {
		int r = add_one(h, files[i], &gone);
		if (r > rc)
			rc = r;
	}
	history_close(h);
	return rc;
}

/* A table cell: "-" for a missing or empty field. */
static const char *cell(json_t *o, const char *k)
{
	const char *s = doc_str(o, k, "");
	return *s ? s : "-";
}

static void print_runs(json_t *runs)
{
	json_t *r;
	size_t i;
	/* wide enough for "release,linetrace" and a dirty git describe */
	printf("%5s  %-20s  %-16s  %-14s  %-17s  %7s  %-11s  %s\n", "run",
	       "time (UTC)", "machine", "git", "builds", "configs", "status",
	       "workloads");
	json_array_foreach(runs, i, r)
		printf("%5lld  %-20.20s  %-16.16s  %-14.14s  %-17.17s  %7lld  "
		       "%-11.11s  %s\n",
		       (long long)doc_int(r, "run_id", 0),
		       cell(r, "utc_time"), cell(r, "machine"), cell(r, "git_rev"),
		       cell(r, "builds"),
		       (long long)doc_int(r, "configs", 0),
		       cell(r, "status"), cell(r, "workloads"));
	if (!json_array_size(runs))
		printf("(no runs yet)\n");
}

static int do_list(const char *db, int as_json)
{
	history *h;
	errbuf e;
	json_t *runs;
	int rc = history_open(db, 0, &h, &e);
	if (!rc && (rc = history_list(h, &runs, &e)))
		history_close(h);
	if (rc)
		return verb_fail("history", open_status(rc), &e);
	history_close(h);
	if (as_json) {
		json_dumpf(runs, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_runs(runs);
	}
	json_decref(runs);
	return EXIT_OK;
}

/* One run of from into to; *added counts the runs stored anew. */
static int copy_run(history *from, history *to, json_t *run, int *added,
		    errbuf *e)
{
	json_t *doc;
	int64_t id, old = json_integer_value(json_object_get(run, "run_id"));
	int dup, rc = history_get_run(from, old, &doc, e);
	if (rc)
		return rc;
	rc = history_add(to, doc, json_string_value(json_object_get(run,
								     "source")),
			 json_string_value(json_object_get(run, "file")), &id,
			 &dup, e);
	json_decref(doc);
	if (rc)
		return errprefix(e, "run %lld", (long long)old);
	*added += !dup;
	return 0;
}

/* Every run of from, oldest first, added to to: the content hash keeps
 * a second copy from doubling anything. Run ids are to's own. */
static int do_copy(const char *db, const char *dest)
{
	if (!dest)
		return verb_error("history", EXIT_USAGE, "copy: give the "
				  "history to copy to with --to DB");
	history *from = NULL, *to = NULL;
	json_t *runs = NULL, *r;
	errbuf e;
	int added = 0, rc = history_open(db, 0, &from, &e);
	if (!rc && !(rc = history_list(from, &runs, &e))) {
		make_parent(dest);
		rc = history_open(dest, 1, &to, &e);
	}
	if (rc) {
		history_close(from);
		json_decref(runs);
		return verb_fail("history", open_status(rc), &e);
	}
	size_t i;
	json_array_foreach(runs, i, r)
		if ((rc = copy_run(from, to, r, &added, &e)))
			break;
	history_close(from);
	history_close(to);
	size_t n = json_array_size(runs);
	json_decref(runs);
	if (rc)
		return verb_fail("history", EXIT_RUNTIME, &e);
	printf("copied %zu run%s: %d added, %zu already there\n", n,
	       n == 1 ? "" : "s", added, n - (size_t)added);
	return EXIT_OK;
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"to", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *verb = argv[1], *db = HISTORY_DEFAULT_PATH, *dest = NULL;
	char **args = argv + 1; /* getopt sees the verb as its argv[0] */
	int nargs = argc - 1, as_json = 0, c;
	optind = 1;
	while ((c = verb_getopt("history", nargs, args, "h", opts)) != -1) {
		if (c == 'd') {
			db = optarg;
		} else if (c == 't') {
			dest = optarg;
		} else if (c == 'j') {
			as_json = 1;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			return EXIT_USAGE;
		}
	}
	int rest = nargs - optind;
	if (!strcmp(verb, "add"))
		return do_add(db, rest, args + optind);
	if (!strcmp(verb, "list")) {
		if (rest == 0)
			return do_list(db, as_json);
		return verb_error("history", EXIT_USAGE, "list: takes no "
				  "files");
	}
	if (!strcmp(verb, "copy")) {
		if (rest == 0)
			return do_copy(db, dest);
		return verb_error("history", EXIT_USAGE, "copy: takes no "
				  "files");
	}
	return verb_error("history", EXIT_USAGE, "unknown subcommand '%s' "
			  "(use add, list or copy)", verb);
}
