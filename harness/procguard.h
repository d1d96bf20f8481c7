/* procguard.h - the measured command dies with contend, kill -9 included.
 *
 * exec runs the command in a process group of its own. A signal contend
 * can catch ends that group (execsweep.c), but SIGKILL cannot be caught,
 * and PR_SET_PDEATHSIG cannot be set in a posix_spawn child (nor would it
 * reach the command's own children, e.g. `sh -c 'sleep 30 & wait'`). So
 * the group is led by a guard: a small forked process that only waits for
 * contend to die (PR_SET_PDEATHSIG) and then SIGKILLs its whole group,
 * which holds the command and every descendant that did not leave the
 * group on purpose (setsid, setpgid: those escape, as from a terminal).
 * The guard also keeps the group id alive while the command runs, so
 * killing the group never hits a reused id. */
#ifndef CONTEND_PROCGUARD_H
#define CONTEND_PROCGUARD_H

#include <sys/types.h>

/* Fork the guard, from the thread that outlives the command (the death
 * signal follows the thread that forked). *pgid is the group to start
 * the command in (POSIX_SPAWN_SETPGROUP). Returns 0 or an errno value. */
int procguard_start(pid_t *pgid);

/* SIGKILL the whole group, guard included, and reap the guard. */
void procguard_end(pid_t pgid);

#endif
