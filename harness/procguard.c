/* procguard.c - a group leader that takes its group down with contend
 * (procguard.h). */
#include "harness/procguard.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child of a possibly multi-threaded process: async-signal-safe
 * calls only. It holds no descriptor, so it never keeps the command's
 * output pipe (or anything else of contend's) open. */
static void guard_main(pid_t parent)
{
	sigset_t set;
	sigfillset(&set); /* SIGINT at a terminal and the like: not ours */
	sigprocmask(SIG_BLOCK, &set, NULL);
	close_range(0, ~0U, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() == parent) {
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		while (sigwaitinfo(&set, NULL) != SIGTERM)
			;
	}
	kill(0, SIGKILL); /* our own group: the command and what it started */
	_exit(0);
}

int procguard_start(pid_t *pgid)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		setpgid(0, 0);
		guard_main(parent);
	}
	/* both sides set the group, so it exists before the command joins */
	if (setpgid(pid, pid) < 0 && errno != EACCES) {
		int err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	*pgid = pid;
	return 0;
}

void procguard_end(pid_t pgid)
{
	if (pgid <= 0)
		return;
	kill(-pgid, SIGKILL);
	while (waitpid(pgid, NULL, 0) < 0 && errno == EINTR)
		;
}
