/* forkexec.c - a pthread program that forks and execs, for the fault
 * suite's lock-profiler case (`contend exec -- forkexec`).
 *
 * usage: forkexec [child]
 * The parent contends on a mutex with two threads, then starts, one after
 * another: a fork child that execs this program as "child" (the profiler
 * is loaded again into the new image), a fork child that execs a program
 * that does not exist (the exec fails; the child _exits), a posix_spawn
 * child, and a fork child that ends with _exit() without exec. A "child"
 * contends on its own mutex and exits. Each process prints one line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		if (i % 64 == 0)
			usleep(50); /* hold it a while: waits the profiler sees */
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void contend(const char *who)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%s pid=%d counter=%ld\n", who, (int)getpid(), counter);
	fflush(stdout);
}

static int wait_ok(pid_t pid)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFEXITED(st);
}

static pid_t fork_exec(const char *path, char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execv(path, argv);
		_exit(127); /* the exec failed: leave without flushing stdio */
	}
	return pid;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child")) {
		contend("child");
		return 0;
	}
	contend("parent");
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 2;
	self[n] = 0;
	char *child_argv[] = {self, "child", NULL};
	char *missing_argv[] = {"/nonexistent/forkexec-missing", NULL};
	int ok = wait_ok(fork_exec(self, child_argv));
	ok &= wait_ok(fork_exec(missing_argv[0], missing_argv));
	pid_t sp;
	ok &= posix_spawn(&sp, self, NULL, NULL, child_argv, environ) == 0 &&
	      wait_ok(sp);
	pid_t plain = fork();
	if (plain == 0)
		_exit(0);
	ok &= wait_ok(plain);
	printf("forkexec: %s\n", ok ? "all children done" : "a child failed");
	return ok ? 0 : 1;
}
