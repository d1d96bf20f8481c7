/* cmd_history.c - `contend history add|list`: keep runs in a SQLite history.
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
		"\n"
		"Keep runs in a SQLite history (default %s).\n"
		"  add   store results documents or Google Benchmark JSON files;\n"
		"        a document already stored (same content) is not added twice\n"
		"  list  one line per stored run, oldest first\n"
		"\n"
		"  --db FILE   the history database\n"
		"  --json      list as JSON\n"
		"  -h, --help  this help\n"
		"\n" VERB_EXIT_HELP,
		HISTORY_DEFAULT_PATH);
}

/* The default lives in results/, which a fresh checkout may not have. */
static void make_parent(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	mkdir(dirname(tmp), 0755);
}

static int add_one(history *h, const char *file)
{
	json_t *doc;
	const char *source;
	errbuf e;
	int64_t id;
	int dup;
	if (history_load_file(file, &doc, &source, &e))
		return verb_fail("history", EXIT_USAGE, &e);
	if (history_add(h, doc, source, file, &id, &dup, &e)) {
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
	if (history_open(db, 1, &h, &e))
		return verb_fail("history", EXIT_USAGE, &e);
	/* Every file is tried; the worst failure decides the status (a
	 * database failure outranks a bad file). */
	int rc = EXIT_OK;
	for (int i = 0; i < nfiles; i++) {
		int r = add_one(h, files[i]);
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
	printf("%5s  %-20s  %-12s  %-10s  %-9s  %7s  %-11s  %s\n", "run",
	       "time (UTC)", "machine", "git", "builds", "configs", "status",
	       "workloads");
	json_array_foreach(runs, i, r)
		printf("%5lld  %-20.20s  %-12.12s  %-10.10s  %-9.9s  %7lld  "
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
	if (history_open(db, 0, &h, &e) || history_list(h, &runs, &e)) {
		history_close(h);
		return verb_fail("history", EXIT_USAGE, &e);
	}
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

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *verb = argv[1], *db = HISTORY_DEFAULT_PATH;
	char **args = argv + 1; /* getopt sees the verb as its argv[0] */
	int nargs = argc - 1, as_json = 0, c;
	optind = 1;
	while ((c = verb_getopt("history", nargs, args, "h", opts)) != -1) {
		if (c == 'd') {
			db = optarg;
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
	return verb_error("history", EXIT_USAGE, "unknown subcommand '%s' "
			  "(use add or list)", verb);
}
