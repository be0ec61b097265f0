// peak_rss OUT CMD [ARG]...: runs CMD as a child of this small process and
// writes the child's peak RSS (ru_maxrss, kB) to the file OUT; exits as the
// child did.
//
// Why: at execve the kernel carries the peak RSS of the mm being replaced
// into the process's ru_maxrss, and a child spawned by a Python process
// (vfork or fork) replaces its parent's mm: its ru_maxrss is then at least
// the parent's RSS (the benchmark's, some 19 MB). Forked from this process,
// the floor is this process's (about 1 MB).
//
// SIGINT, SIGTERM and SIGHUP are passed on to the child; the child gets
// SIGKILL if this process dies first (SIGKILL to it, from kill()).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig) {
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: peak_rss OUT CMD [ARG]...\n");
		return 2;
	}
	pid_t parent = getpid();
	child = fork();
	if (child < 0) {
		perror("fork");
		return 127;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	struct sigaction sa = {.sa_handler = pass_on};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int status;
	struct rusage ru;
	while (wait4(child, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("wait4");
			return 127;
		}
	}
	FILE *out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || fclose(out) != 0) {
		perror(argv[1]);
		return 127;
	}
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
