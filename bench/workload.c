/*
 * The benchmark workload: one syscall (or one pair) in a tight loop.
 *
 *   workload MODE N [--wait-stdin] [--file PATH]
 *
 * MODE is one of
 *   getppid   getppid() per iteration
 *   read      read(fd, buf, 1) of /dev/zero per iteration
 *   read100   the same, but every 100th read (the first included) asks 2
 *             bytes: a filter on count can pass 1% of the calls
 *   openat    openat(AT_FDCWD, PATH, O_RDONLY) + close(fd) per iteration
 *             (PATH: --file, default /etc/hostname)
 *   read-seccomp  read's loop under a seccomp filter that allows every
 *             call, as a container's processes run: the tracer then marks
 *             each call for its exit (a call such a filter refuses has no
 *             enter event of the kernel's)
 *
 * With --wait-stdin it prints "ready" once everything is set up (the
 * dynamic loader's openat calls, opening /dev/zero...) and then waits with
 * poll() until stdin is readable or closed, so that a tracer can attach to
 * the waiting process first. poll() is used rather than read() so that
 * waiting makes no call to any syscall a benchmark traces.
 *
 * It prints, on one line:
 *   start_ns=<CLOCK_MONOTONIC at main()> loop_ns=<loop time> iters=N ns_per_iter=<x>
 *   cpu_ns_per_iter=<y>
 * The loop is timed with clock_gettime(CLOCK_MONOTONIC) (vDSO: no syscall);
 * cpu_ns_per_iter is the thread's CPU time over the loop (one
 * CLOCK_THREAD_CPUTIME_ID read on each side, outside the loop): unlike
 * the wall time it leaves out the time the process waited for a CPU, so it
 * shows what tracing adds in the process's own syscalls on a busy machine.
 * Nothing in this program calls getpid(), which benchmarks trace as
 * "some other syscall".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: workload getppid|read|read100|openat|read-seccomp N [--wait-stdin] [--file PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long long start = now_ns();
	const char *file = "/etc/hostname";
	int wait_stdin = 0;
	char buf[2];
	long n;
	int fd = -1;

	if (argc < 3)
		usage();
	const char *mode = argv[1];
	n = strtol(argv[2], NULL, 10);
	if (n <= 0)
		usage();
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--wait-stdin"))
			wait_stdin = 1;
		else if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else
			usage();
	}
	int m = !strcmp(mode, "getppid") ? 0 :
		!strcmp(mode, "read")	 ? 1 :
		!strcmp(mode, "openat")	 ? 2 :
		!strcmp(mode, "read100") ? 3 :
		!strcmp(mode, "read-seccomp") ? 4 :
					   -1;
	if (m < 0)
		usage();
	if (m == 4) {
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { 1, &allow };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
			perror("seccomp");
			return 1;
		}
		m = 1;
	}
	if (m == 1 || m == 3) {
		fd = open("/dev/zero", O_RDONLY);
		if (fd < 0) {
			perror("/dev/zero");
			return 1;
		}
	}
	if (m == 2 && access(file, R_OK) != 0) {
		perror(file);
		return 1;
	}
	if (wait_stdin) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };

		/* write(2), not stdio: nothing buffered must reach stdout twice. */
		if (write(1, "ready\n", 6) != 6)
			return 1;
		while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			;
	}

	long long c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	long long t0 = now_ns();
	switch (m) {
	case 0:
		for (long i = 0; i < n; i++)
			getppid();
		break;
	case 1:
		for (long i = 0; i < n; i++)
			if (read(fd, buf, 1) != 1) {
				perror("read");
				return 1;
			}
		break;
	case 3:
		for (long i = 0; i < n; i++) {
			size_t count = i % 100 ? 1 : 2;

			if (read(fd, buf, count) != (ssize_t)count) {
				perror("read");
				return 1;
			}
		}
		break;
	case 2:
		for (long i = 0; i < n; i++) {
			int f = openat(AT_FDCWD, file, O_RDONLY);
			if (f < 0) {
				perror("openat");
				return 1;
			}
			close(f);
		}
		break;
	}
	long long t1 = now_ns();
	long long c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	printf("start_ns=%lld loop_ns=%lld iters=%ld ns_per_iter=%.2f cpu_ns_per_iter=%.2f\n",
	       start, t1 - t0, n, (double)(t1 - t0) / n, (double)(c1 - c0) / n);
	return 0;
}
