/* cmd_doctor.c - `contend doctor [exec options] -- COMMAND...`: a short
 * exec sweep with every probe on (lock profiler with call stacks, memory,
 * thread and pool census), its diagnosis first, then the table. The
 * parsing and the sweep are exec's (exec_cli.h); only defaults differ. */
#include <stdio.h>
#include <unistd.h>

#include "harness/commands.h"
#include "harness/exec_cli.h"

static const char usage[] =
	"usage: contend doctor [options] -- COMMAND [ARG...]\n"
	"\n"
	"Runs COMMAND as 'contend exec' does, briefly (by default at 1 and 2\n"
	"workers and the core count when larger, 2 repetitions each), with\n"
	"every probe on: the lock profiler with call stacks, memory over time\n"
	"and the census of threads and library pools in every process. Prints\n"
	"the diagnosis first (named causes with their evidence and advice, or\n"
	"'no cause found: ...'), then the scaling table. See docs/doctor.md.\n"
	"\n"
	"'{workers}' in any argument becomes the worker count, which is also\n"
	"in the environment as CONTEND_WORKERS.\n"
	"\n"
	"  --workers LIST  worker counts (default 1,2 and the cores if more)\n"
	"  --param, --env, --prepare, --setup  as in 'contend exec --help'\n"
	"  --reps N        measured repetitions per worker count (default 2)\n"
	"  --warmup N      unmeasured runs before them (default 0)\n"
	"  --order MODE, --seed N  as in 'contend exec --help' (default: random,\n"
	"                  sequential with --setup)\n"
	"  --timeout S     a repetition running longer than S seconds is killed\n"
	"                  and recorded as timeout (default: no limit)\n"
	"  --show-output   copy the command's output to stderr as it runs\n"
	"  --out FILE      results document (default results/<UTC>-<host>.json,\n"
	"                  -2.json, -3.json, ... when a run of the same second\n"
	"                  has it); refused while another contend writes FILE\n"
	"  --machine NAME  the machine's name in the history (default: host name)\n"
	"  --quiet         print neither the diagnosis nor the table\n"
	"  --json          print the results document (its `diagnosis` array\n"
	"                  included) on stdout instead\n"
	"  -h, --help      this help\n"
	"\n"
	"Exit status: 0 every repetition exited 0 (whatever the diagnosis);\n"
	"1 some failed (non-zero exit, signal, timeout); 2 bad input; 3 a\n"
	"runtime failure (the document could not be written); 130 interrupted.\n";

int cmd_doctor(int argc, char **argv)
{
	char workers[64];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores > 2)
		snprintf(workers, sizeof workers, "1,2,%ld", cores);
	else
		snprintf(workers, sizeof workers, "1,2");
	struct exec_verb doctor = {
		.name = "doctor", .usage = usage, .workers = workers, .reps = 2,
		.doctor = 1,
	};
	return exec_cli_main(&doctor, argc, argv);
}
