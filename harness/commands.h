/* commands.h - one entry point per subcommand (git/perf style).
 *
 * Each cmd_<verb>.c owns its verb, its options and its --help text.
 * argv[0] is the verb itself; the return value is the process exit status
 * (see err.h). */
#ifndef CONTEND_COMMANDS_H
#define CONTEND_COMMANDS_H

int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_probes(int argc, char **argv);
int cmd_pools(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_dashboard(int argc, char **argv);
int cmd_runner(int argc, char **argv);	/* internal: one configuration */
int cmd_worker(int argc, char **argv);	/* internal: spawned pool worker */

#endif
