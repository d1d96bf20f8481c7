/* exec_cli.h - the command line of verbs that run any command per worker
 * count (exec, doctor): one parser, one sweep, their own defaults and
 * --help, so the same option means the same thing in both. */
#ifndef CONTEND_EXEC_CLI_H
#define CONTEND_EXEC_CLI_H

struct exec_verb {
	const char *name;    /* "exec", "doctor" */
	const char *usage;   /* its --help */
	const char *workers; /* default --workers list */
	long reps;	     /* default --reps */
	int doctor;	     /* every probe on (no --no-lockprof), --json, and
			      * the diagnosis printed before the table */
};

/* Parse argv (argv[0] the verb), run the sweep, print; the exit status. */
int exec_cli_main(const struct exec_verb *v, int argc, char **argv);

#endif
