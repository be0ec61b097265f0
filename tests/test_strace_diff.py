"""systrace against the real strace: the same deterministic C program traced
by both, for a set of syscalls, must give the same calls in the same order,
with the same decoded arguments and return values, and the same -c counts.

Only what must differ between two runs (or what systrace does not decode) is
normalised, each for the reason given where it is done."""
from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import require

PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char path[256], buf[256];
    static const char msg[] = "hello\n\t\"quoted\" \\ \x01\x02\x7f\xff\xc3\xa9 end";
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    read(fd, buf, 16);
    lseek(fd, 0, SEEK_SET);
    lseek(fd, -4, SEEK_END);
    pread(fd, buf, 8, 2);
    fcntl(fd, F_GETFD);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_GETFL);
    int d = dup(fd);
    dup2(fd, 20);
    dup3(fd, 21, O_CLOEXEC);
    close(d); close(20); close(21); close(fd);
    close(999);
    open("/nonexistent-systrace/file", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    openat(AT_FDCWD, "/nonexistent-systrace", O_RDONLY | O_DIRECTORY);
    int out = open("out.bin", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    write(out, msg, sizeof msg - 1);
    memset(buf, 'x', sizeof buf);
    write(out, buf, 100);
    pwrite(out, "abc", 3, 7);
    close(out);
    int in = open("out.bin", O_RDONLY);
    read(in, buf, 10);
    read(in, buf, 200);
    read(in, buf, 200);
    close(in);
    int p[2];
    pipe2(p, O_CLOEXEC | O_NONBLOCK);
    write(p[1], "\0\0\1", 3);
    read(p[0], buf, 64);
    read(p[0], buf, 64);
    close(p[0]); close(p[1]);
    access("/etc/passwd", R_OK | W_OK);
    access("/nonexistent-systrace", F_OK);
    mkdir("sub", 0750);
    rename("sub", "sub2");
    rename("nonexistent", "x");
    rmdir("sub2");
    unlink("out.bin");
    unlink("out.bin");
    symlink("/etc/passwd", "link");
    readlink("link", path, sizeof path);
    unlink("link");
    getcwd(path, sizeof path);
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_READ);
    munmap(m, 8192);
    mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1, 0);
    kill(getpid(), 0);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    close(s);
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    close(s);
    socket(12345, SOCK_STREAM, 0);
    if (argc > 2) {  /* a child, for -f */
        char line[] = "child\n";  /* on the stack: see test_untouched_pages */
        pid_t child = fork();
        if (child == 0) {
            write(1, line, 6);
            if (argc > 3)
                write(1, "rodata\n", 7);
            _exit(7);
        }
        int status;
        wait4(child, &status, 0, NULL);
    }
    return 3;
}
"""

# More syscalls: *at calls, signals, sockets, futexes, a child, memory.
PROGRAM2 = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/futex.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
static void on_alarm(int sig) { (void)sig; }
int main(int argc, char **argv) {
    char buf[4096]; struct stat st; struct timespec ts = {0, 1000};
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    mkdirat(dfd, "d1", 0700);
    syscall(SYS_renameat2, dfd, "d1", AT_FDCWD, "d2", RENAME_NOREPLACE);
    syscall(SYS_faccessat2, AT_FDCWD, "d2", W_OK, AT_EACCESS);
    faccessat(AT_FDCWD, "d2", X_OK, 0);
    unlinkat(dfd, "d2", AT_REMOVEDIR);
    symlinkat("/etc/hostname", dfd, "l");
    readlinkat(dfd, "l", buf, 4);
    unlinkat(AT_FDCWD, "l", 0);
    syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_getdents64, dfd, buf, sizeof buf);
    close(dfd);
    struct sigaction sa = {0}; sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    nanosleep(&ts, NULL);
    clock_nanosleep(CLOCK_REALTIME, 0, &ts, NULL);
    /* Sleeps a signal interrupts: both write the time left. */
    struct sigaction al = {0}; al.sa_handler = on_alarm;
    sigaction(SIGALRM, &al, NULL);
    struct timespec longer = {5, 0}, left;
    struct itimerval soon = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &soon, NULL);
    clock_nanosleep(CLOCK_REALTIME, 0, &longer, &left);
    setitimer(ITIMER_REAL, &soon, NULL);
    nanosleep(&longer, &left);
    int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    sendto(sv[0], "ping", 4, MSG_DONTWAIT, NULL, 0);
    recvfrom(sv[1], buf, 100, 0, NULL, NULL);
    int dv[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    struct iovec mv[2] = {{"hello", 5}, {"world!", 6}};
    struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = &mv[0], .msg_iovlen = 1}},
                            {.msg_hdr = {.msg_iov = &mv[1], .msg_iovlen = 1}}};
    sendmmsg(dv[0], mm, 2, MSG_NOSIGNAL|MSG_DONTWAIT);
    struct timespec mts = {5, 500};
    recvmmsg(dv[1], mm, 1, MSG_WAITFORONE, &mts);
    recvmmsg(dv[1], mm, 1, MSG_DONTWAIT, NULL);
    recvmmsg(dv[1], mm, 1, MSG_DONTWAIT, &mts);
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {AF_UNIX, "/nonexistent.sock"};
    connect(u, (struct sockaddr*)&sun, sizeof sun);
    close(u);
    int futex_word = 0;
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    pid_t c = fork();
    if (c == 0) _exit(0);
    int status; wait4(c, &status, 0, NULL);
    wait4(-1, &status, WNOHANG, NULL);
    void *m = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0);
    madvise(m, 4096, MADV_DONTNEED);
    mremap(m, 4096, 8192, MREMAP_MAYMOVE);
    fcntl(1, F_SETFL, O_APPEND|O_NONBLOCK);
    fcntl(1, F_DUPFD, 30);
    ftruncate(999, 10);
    umask(022);
    return 3;
}
"""

# The syscalls compared: those systrace decodes in full or whose undecoded
# arguments are structures (compared as addresses, see normalise()).
# getrandom (random bytes) and ioctl (strace names requests, systrace keeps
# them numeric) are left out on purpose.
SYSCALLS = (
    "execve,brk,mmap,mprotect,munmap,openat,read,write,close,lseek,pread64,pwrite64,fcntl,"
    "dup,dup2,dup3,pipe2,access,mkdir,rename,rmdir,unlink,symlink,readlink,getcwd,chdir,"
    "getpid,kill,socket,wait4,exit_group,arch_prctl,set_tid_address,set_robust_list,"
    "rseq,prlimit64,newfstatat"
)
# Syscalls whose every argument systrace prints like strace: the sets must
# agree there without the address normalisation of structures.
EXACT = {
    "openat", "read", "write", "close", "lseek", "pread64", "pwrite64", "fcntl", "dup", "dup2",
    "dup3", "access", "mkdir", "rename", "rmdir", "unlink", "symlink", "readlink", "getcwd",
    "chdir", "kill", "socket", "exit_group",
}


def _compiler() -> str:
    for cc in ("cc", "gcc", "clang"):
        path = shutil.which(cc)
        if path:
            return path
    require("no C compiler (cc, gcc or clang) to build the test program")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> str:
    src = tmp_path_factory.mktemp("prog") / "prog.c"
    src.write_text(PROGRAM)
    exe = src.with_suffix("")
    subprocess.run([_compiler(), "-O0", "-o", str(exe), str(src)], check=True)
    return str(exe)


@pytest.fixture(scope="module")
def program2(tmp_path_factory) -> str:
    src = tmp_path_factory.mktemp("prog2") / "prog2.c"
    src.write_text(PROGRAM2)
    exe = src.with_suffix("")
    subprocess.run([_compiler(), "-O0", "-o", str(exe), str(src)], check=True)
    return str(exe)


@pytest.fixture
def strace_bin() -> str:
    path = shutil.which("strace")
    if path is None:
        require("strace is not installed (apt-get install strace)")
    return path


def run_both(tmp_path, strace_bin, program, *options, child=False, rodata=False):
    """Runs the program under strace and under systrace with the same
    options; returns both trace files' text."""
    texts = []
    # One working directory for both runs (the program leaves it as it
    # found it): the same paths, the same getcwd().
    work = tmp_path / "work"
    work.mkdir()
    argv = [program, str(work)] + (["child"] if child else []) + (["rodata"] if rodata else [])
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}.txt"
        r = subprocess.run(
            [*tracer, "-o", str(out), *options, "--", *argv],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 3, f"{name}: {r.stderr}"
        texts.append(out.read_text(errors="surrogateescape"))
    return texts


LINE = re.compile(r"^(?:(\d+) +)?(\w+)\((.*)\) +=\s(.*)$")
STATUS = re.compile(r"^(?:(\d+) +)?(\+\+\+ .* \+\+\+)$")
ADDRESS = re.compile(r"\b0x[0-9a-f]{8,}\b")


def split_args(text: str) -> list:
    """Top-level comma-separated arguments (commas in strings, [] and {} kept)."""
    args, depth, cur, quoted, escaped = [], 0, [], False, False
    for ch in text:
        if quoted:
            cur.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if cur or args:
        args.append("".join(cur).strip())
    return args


# Syscalls whose structures systrace decodes as strace does: compared as
# printed (addresses and pids inside them normalised as anywhere).
DECODED = {
    "sendmmsg", "recvmmsg",
    "newfstatat", "fstat", "stat", "lstat", "statx", "statfs", "fstatfs", "pipe", "pipe2",
    "socketpair", "wait4", "prlimit64", "getrlimit", "setrlimit", "rt_sigaction",
    "rt_sigprocmask", "rt_sigsuspend", "nanosleep", "clock_nanosleep", "clock_gettime",
    "clock_getres", "futex", "uname", "sysinfo", "poll", "ppoll", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "connect", "bind", "sendto", "recvfrom", "accept", "accept4", "getsockname",
    "getpeername", "utimensat", "select", "pselect6", "setsockopt", "getsockopt", "clone3",
    "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime", "sigaltstack",
    "sched_getaffinity", "sched_setaffinity", "readv", "writev", "preadv", "pwritev",
    "preadv2", "pwritev2", "sendmsg", "recvmsg",
}
# Values that differ from run to run by nature: an absolute time to sleep
# until, free space, uptime.
VOLATILE = re.compile(r"\b(tv_sec|tv_nsec|tv_usec|f_bfree|f_bavail|f_ffree|uptime|freeram|"
                      r"sharedram|bufferram|procs|loads)=(\[[^]]*\]|\d+)")


# Syscalls whose arguments or result are pids.
PID_CALLS = {
    "getpid", "gettid", "getppid", "set_tid_address", "wait4", "waitid", "kill", "tkill",
    "tgkill", "clone", "clone3", "fork", "vfork", "setpgid", "getpgid", "getpgrp", "getsid",
    "setsid", "prlimit64", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
    "sched_getscheduler", "sched_setscheduler", "pidfd_open", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
}


def normalise_arg(arg: str, pids: set, name: str = "") -> str:
    # execve's environment: strace adds /* N vars */ after the address;
    # systrace does not read the environment.
    arg = re.sub(r" /\* \d+ vars \*/$", "", arg)
    # getdents64's buffer: strace counts the entries it read there.
    arg = re.sub(r" /\* \d+ entries \*/$", "", arg)
    # Structures and arrays strace reads from memory are addresses in
    # systrace for the syscalls it does not decode yet; a string array
    # (argv) is decoded by both and compared.
    if arg[:1] in "[{" and not arg.startswith('["') and name not in DECODED:
        return "<addr>"
    # What is left of a timeout, a timer's value, a child's CPU time.
    if name in ("clock_nanosleep", "clock_gettime", "statfs", "fstatfs", "sysinfo", "select",
                "pselect6", "ppoll", "wait4", "recvmmsg"):
        arg = VOLATILE.sub(r"\1=<n>", arg)
    # A timer's value counts down; its interval does not.
    if name in ("getitimer", "setitimer", "timer_gettime", "timer_settime"):
        arg = re.sub(r"it_value=\{tv_sec=\d+, tv_(u|n)sec=\d+\}", "it_value=<n>", arg)
    # Addresses differ from run to run (ASLR, a different parent).
    arg = ADDRESS.sub("<addr>", arg)
    # The traced processes' pids differ from run to run; they are renamed
    # only where a pid can be (a pid argument or result, si_pid=, a /proc
    # path), never in a size or a count that happens to equal one (a
    # traced pid of 8192 or of 1024 renamed prlimit64's `rlim_cur=8192*1024`).
    for pid in pids:
        if name in PID_CALLS:
            # Not after '=': rlim_cur=1024 is a limit, whatever the pid.
            arg = re.sub(rf"(?<![\w.*=]){pid}(?![\w.*])", "<pid>", arg)
        arg = re.sub(rf"(\bsi_pid=|/proc/){pid}\b", r"\1<pid>", arg)
    return arg


def parse(text: str) -> dict:
    """pid -> [(syscall, args, result)] in order, pids renamed by order of
    first appearance; plus the +++ status lines."""
    rows = []
    pending = {}
    for line in text.splitlines():
        # Signal deliveries: strace reports them, systrace does not.
        if re.match(r"^(\d+ +)?--- SIG\w+ .* ---$", line):
            continue
        # strace splits a call that another process's line interrupted
        # into "... <unfinished ...>" and "<... name resumed>...";
        # systrace prints each call once, when it returns: join them.
        m = re.match(r"^(?:(\d+) +)?(.*) <unfinished \.\.\.>$", line)
        if m:
            pending[m.group(1)] = ((m.group(1) + " ") if m.group(1) else "") + m.group(2)
            continue
        m = re.match(r"^(?:(\d+) +)?<\.\.\. \w+ resumed>(.*)$", line)
        if m and m.group(1) in pending:
            line = pending.pop(m.group(1)) + m.group(2)
        m = LINE.match(line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3), m.group(4)))
            continue
        m = STATUS.match(line)
        if m:
            rows.append((m.group(1), "+++", "", m.group(2)))
            continue
        raise AssertionError(f"unparsed trace line: {line!r}")
    pids = {r[0] for r in rows if r[0]}
    # getpid's and clone's results name the traced processes too.
    pids |= {r[3] for r in rows
             if r[1] in ("getpid", "set_tid_address", "wait4", "clone", "clone3") and r[3].isdigit()}
    by_pid = collections.OrderedDict()
    for pid, name, args, result in rows:
        norm_args = tuple(normalise_arg(a, pids, name) for a in split_args(args))
        by_pid.setdefault(pid, []).append((name, norm_args, normalise_arg(result, pids, name)))
    return by_pid


def compare(ours: dict, theirs: dict) -> None:
    assert len(ours) == len(theirs), (list(ours), list(theirs))
    for calls_o, calls_t in zip(ours.values(), theirs.values()):
        names_o = [c[0] for c in calls_o]
        names_t = [c[0] for c in calls_t]
        assert names_o == names_t, f"syscall sequence differs:\nsystrace {names_o}\nstrace   {names_t}"
        for o, t in zip(calls_o, calls_t):
            assert o == t, f"\nsystrace {o}\nstrace   {t}"


def test_pids_renamed_only_where_a_pid_can_be():
    # A traced pid equal to a factor of a size stays in the size (CI saw a
    # pid of 1024 rename strace's rlim_cur=8192*1024 and not ours).
    for pid in (1024, 8192):
        assert normalise_arg("{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}", {pid},
                             "prlimit64") == "{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}"
    assert normalise_arg("{rlim_cur=1024, rlim_max=1024*1024}", {1024},
                         "prlimit64") == "{rlim_cur=1024, rlim_max=1024*1024}"
    assert normalise_arg("1024", {1024}, "prlimit64") == "<pid>"
    assert normalise_arg('"/proc/1024/stat"', {1024}, "openat") == '"/proc/<pid>/stat"'


def test_same_calls_as_strace(kernel, tmp_path, strace_bin, program):
    theirs, ours = run_both(tmp_path, strace_bin, program, "-s", "64", "-e", f"trace={SYSCALLS}")
    p_theirs, p_ours = parse(theirs), parse(ours)
    compare(p_ours, p_theirs)
    (calls,) = p_ours.values()
    names = {c[0] for c in calls}
    assert EXACT <= names, EXACT - names
    # Enough of it is compared exactly, not through <addr>.
    exact = [c for c in calls if c[0] in EXACT]
    assert len(exact) >= 40 and not any("<addr>" in a for c in exact for a in c[1] if c[0] != "read")


def counts_table(text: str) -> dict:
    """A -c table's calls and errors per syscall (and total)."""
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r" *[\d.]+ +[\d.]+ +\d+ +(\d+) +(\d*) (\w+)", line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
    assert "total" in rows, text
    return rows


def test_same_counts_as_strace(kernel, tmp_path, strace_bin, program):
    theirs, ours = run_both(tmp_path, strace_bin, program, "-c", "-e", f"trace={SYSCALLS}")
    # Times differ by nature (and strace's are CPU time): calls and errors.
    assert counts_table(ours) == counts_table(theirs)


# Two handlers: one run as kill returned 0, one that interrupted a read of
# an empty pipe (no SA_RESTART: the read's result is -EINTR).
SIGRETURNS = r"""
import os, signal
class Stop(Exception):
    pass
def stop(*args):
    raise Stop
signal.signal(signal.SIGUSR1, lambda *args: None)
os.kill(os.getpid(), signal.SIGUSR1)
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, 0.1)
r, w = os.pipe()
try:
    os.read(r, 1)
except Stop:
    pass
"""


def test_counts_rt_sigreturn_errors_like_strace(kernel, tmp_path, strace_bin):
    """rt_sigreturn returns the register it restores: strace -c counts it
    as an error when that is an errno (the interrupted read's -EINTR), as
    the trace shows `rt_sigreturn(...) = -1 EINTR`. systrace counts
    rt_sigreturn in the kernel at its enter: the frame's register too
    (before, always 0: 2 calls, no error)."""
    tables = []
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}.txt"
        r = subprocess.run([*tracer, "-c", "-o", str(out), "-e", "trace=rt_sigreturn", "--",
                            sys.executable, "-c", SIGRETURNS], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{name}: {r.stderr}"
        tables.append(counts_table(out.read_text()))
    theirs, ours = tables
    assert theirs["rt_sigreturn"] == (2, 1), theirs
    assert ours == theirs


def test_follow_forks_like_strace(kernel, tmp_path, strace_bin, program):
    sets = "execve,write,wait4,exit_group,exit,kill,getpid"
    theirs, ours = run_both(tmp_path, strace_bin, program, "-f", "-e", f"trace={sets}", child=True)
    p_theirs, p_ours = parse(theirs), parse(ours)
    # One sequence per process, in order of first appearance.
    compare(p_ours, p_theirs)
    assert len(p_ours) == 2
    child = list(p_ours.values())[1]
    assert child[0] == ("write", ("1", '"child\\n"', "6"), "6")
    assert child[-1] == ("+++", (), "+++ exited with 7 +++")


def test_untouched_pages(kernel, tmp_path, strace_bin, program):
    """A buffer in a page the process has not touched yet (a forked child's
    .rodata) cannot be read at enter, since BPF cannot fault pages in;
    systrace reads it again at exit, once the kernel has, as strace shows it."""
    theirs, ours = run_both(tmp_path, strace_bin, program, "-f", "-e", "trace=write", child=True, rodata=True)
    assert re.search(r'^\d+ +write\(1, "rodata\\n", 7\)', theirs, re.M), theirs
    assert re.search(r'^\d+ +write\(1, "rodata\\n", 7\)', ours, re.M), ours


def test_more_calls_like_strace(kernel, tmp_path, strace_bin, program2):
    # Every syscall but getrandom (random bytes) and ioctl (strace names the
    # requests, systrace keeps them numeric), in two processes.
    theirs, ours = run_both(tmp_path, strace_bin, program2, "-f", "-s", "64", "-e", "trace=!getrandom,ioctl")
    p_theirs, p_ours = parse(theirs), parse(ours)
    compare(p_ours, p_theirs)
    names = {c[0] for calls in p_ours.values() for c in calls}
    for name in ("renameat2", "faccessat2", "readlinkat", "unlinkat", "tgkill", "rt_sigaction",
                 "rt_sigprocmask", "futex", "clone", "wait4", "sendto", "recvfrom", "connect",
                 "socketpair", "mremap", "madvise", "umask", "clock_nanosleep", "getdents64",
                 "sendmmsg", "recvmmsg"):
        assert name in names, name


def test_ls_like_strace(kernel, tmp_path, strace_bin):
    # A real program: ls -la of a directory made here (files, a symlink, a
    # directory, a non-UTF-8 name), every syscall but getrandom and ioctl.
    ls = shutil.which("ls")
    assert ls
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "file.txt").write_text("data")
    (listed / "sub").mkdir()
    os.symlink("file.txt", listed / "link")
    (listed / os.fsdecode(b"caf\xc3\xa9-\xff")).write_bytes(b"")
    texts = []
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}.txt"
        r = subprocess.run(
            [*tracer, "-o", str(out), "-s", "64", "-e", "trace=!getrandom,ioctl", "--", ls, "-la", str(listed)],
            capture_output=True,
            timeout=120,
            env={**os.environ, "LC_ALL": "C"},
        )
        assert r.returncode == 0, r.stderr
        texts.append(out.read_text(errors="surrogateescape"))
    p_theirs, p_ours = parse(texts[0]), parse(texts[1])
    compare(p_ours, p_theirs)
    (calls,) = p_ours.values()
    assert len(calls) > 100
    assert any(c[0] == "getdents64" for c in calls)


def _build(tmp_path, source: str, name: str, *flags: str):
    """The C program `source` built as tmp_path/name."""
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run([_compiler(), "-O2", *flags, "-o", str(exe), str(src)], check=True)
    return exe


def _same_lines(tmp_path, strace_bin, *args: str, normalise=lambda line: line) -> list:
    """The lines of strace and of systrace run with `args` (-o FILE and
    the options, `--`, the command), runs of spaces before `=` made one
    and addresses ADDR, then `normalise`d: asserted equal, and returned."""
    texts = {}
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}.txt"
        r = subprocess.run([*tracer, "-o", str(out), *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (name, r.stderr)
        texts[name] = [normalise(re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(r"\s+= ", " = ", line)))
                       for line in out.read_text(errors="surrogateescape").splitlines()]
    assert texts["systrace"] == texts["strace"], "\n".join(
        f"{a!r}\n{b!r}\n" for a, b in zip(texts["strace"], texts["systrace"]) if a != b)
    return texts["systrace"]


def test_a_seccomp_sigsys_like_strace(kernel, tmp_path, strace_bin):
    # The SIGSYS a seccomp filter raises names the call it refused and the
    # architecture as strace names them: si_syscall=__NR_getppid,
    # si_arch=AUDIT_ARCH_X86_64 (the numbers before).
    # (The program below: its filter answers getppid with RET_TRAP.)
    exe = _build(tmp_path, SECCOMP_REFUSED, "trap")
    lines = {}
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        r = subprocess.run([*tracer, "-e", "trace=getppid", "--", str(exe)], capture_output=True, text=True,
                           timeout=60)
        sigsys = [line for line in r.stderr.splitlines() if line.startswith("--- SIGSYS")]
        assert len(sigsys) == 1, (name, r.stderr)
        # Where the call was made moves with the libraries' load address.
        lines[name] = re.sub(r"si_call_addr=0x[0-9a-f]+", "si_call_addr=ADDR", sigsys[0])
    assert lines["systrace"] == lines["strace"], lines
    assert "si_syscall=__NR_getppid" in lines["strace"], lines


SECCOMP_REFUSED = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_sigsys(int sig) { (void)sig; }

int main(void)
{
    /* openat and mkdir refused with an errno, getppid with a SIGSYS,
     * write only to fd 2; the rest allowed. */
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 13),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdir, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 9),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
    char path[64], missing[64], msg[16];
    struct stat st;
    int p[2];

    /* On the stack, in memory: what the programs read of a refused call
     * they read at its exit, and nothing faults it in. */
    strcpy(path, "/etc/hostname");
    strcpy(missing, "/nonexistent/x");
    strcpy(msg, "refused\n");
    pipe2(p, O_NONBLOCK);
    signal(SIGSYS, on_sigsys);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    syscall(__NR_getppid);
    open(path, O_RDONLY);
    open(path, O_RDONLY | O_CLOEXEC);
    stat(path, &st);
    stat(missing, &st);       /* allowed, fails: one enter */
    read(p[0], msg + 8, 1);   /* allowed, fails (EAGAIN): one enter */
    mkdir(path, 0755);
    write(2, msg, 8);
    write(1, msg, 8);
    return 0;
}
"""


def test_calls_a_seccomp_filter_refused_show_their_arguments_like_strace(kernel, tmp_path, strace_bin):
    # A seccomp filter runs before the enter tracepoint: a call it refuses
    # (RET_ERRNO, RET_TRAP) reaches only the exit one. strace, which stops
    # before the filter, shows the whole call; so does systrace, whose exit
    # makes the enter from the registers and reads the path then.
    exe = _build(tmp_path, SECCOMP_REFUSED, "refused")
    ours = _same_lines(tmp_path, strace_bin, "-e", "trace=getppid,openat,newfstatat,read,mkdir,write,prctl",
                       "--", str(exe))
    for line in ('openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 EACCES (Permission denied)',
                 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = -1 EACCES (Permission denied)',
                 'mkdir("/etc/hostname", 0755) = -1 EPERM (Operation not permitted)',
                 'write(2, "refused\\n", 8) = -1 EBADF (Bad file descriptor)',
                 'newfstatat(AT_FDCWD, "/nonexistent/x", ADDR, 0) = -1 ENOENT (No such file or directory)',
                 "read(3, ADDR, 1) = -1 EAGAIN (Resource temporarily unavailable)",
                 # The filter's installation: its struct sock_fprog.
                 "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=12, filter=ADDR}) = 0"):
        assert ours.count(line) == 1, (line, ours)
    assert sum(bool(re.fullmatch(r"getppid\(\) = \d+", line)) for line in ours) == 1, ours
    assert not any("resumed" in line for line in ours), ours


def test_calls_a_seccomp_filter_refused_are_counted_like_strace_c(kernel, tmp_path, strace_bin):
    # Counted in the kernel (systrace -c), a call the filter refused has
    # no start (its enter never ran): it is counted at its exit, with its
    # error, as strace -c counts it.
    exe = _build(tmp_path, SECCOMP_REFUSED, "refused")
    tables = {}
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}-c.txt"
        r = subprocess.run([*tracer, "-c", "-o", str(out), "--", str(exe)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, (name, r.stderr)
        rows = {}
        for line in out.read_text().splitlines():
            cols = line.split()
            if len(cols) in (5, 6) and cols[-1] != "syscall" and cols[-1] != "total" and cols[0][0].isdigit():
                rows[cols[-1]] = (int(cols[3]), int(cols[4]) if len(cols) == 6 else 0)
        tables[name] = rows
    assert tables["systrace"] == tables["strace"], tables
    assert tables["systrace"]["openat"] == (4, 2) and tables["systrace"]["mkdir"] == (1, 1)
    assert tables["systrace"]["getppid"] == (1, 0)


def test_the_library_gets_the_enter_of_a_call_a_seccomp_filter_refused(kernel, tmp_path):
    # The same program under systrace.run(): the refused openat has its
    # enter event (the registers' args, made at its exit) and its path,
    # read at the exit; calls the filter let through, failing or not, have
    # one enter each, and nothing is lost.
    import systrace

    exe = _build(tmp_path, SECCOMP_REFUSED, "refused")
    done = systrace.run([str(exe)], "openat", "newfstatat", "read", "mkdir", strings=True, capture_output=True)
    assert done.returncode == 0
    assert done.dropped == 0
    every = done.events()
    events = [ev for ev in every if ev.pid == done.pid]
    enters = collections.Counter(ev.name for ev in events if ev.phase == "enter")
    exits = collections.Counter(ev.name for ev in events if ev.phase == "exit")
    assert enters == exits, (enters, exits)
    calls = [c for c in systrace.calls(every) if c.pid == done.pid]
    refused = [c for c in calls if c.name == "openat" and c.ret == -13]
    assert len(refused) == 2, calls
    for call in refused:
        assert not call.resumed
        assert call.args["dfd"] == -100
        assert call.captured["filename"] == b"/etc/hostname"
    assert refused[0].strace() == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 EACCES (Permission denied)'
    (mkdir,) = [c for c in calls if c.name == "mkdir"]
    assert mkdir.captured["pathname"] == b"/etc/hostname" and mkdir.args["mode"] == 0o755


SECCOMP_THREADS = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int rounds;

static void *work(void *arg)
{
    struct timespec ts = {0, 1000};
    char path[32], b;
    int p[2];

    (void)arg;
    strcpy(path, "/etc/hostname");
    pipe2(p, O_NONBLOCK);
    for (int i = 0; i < rounds; i++) {
        open(path, O_RDONLY);     /* refused: EACCES */
        read(p[0], &b, 1);        /* allowed, fails: EAGAIN */
        if (i % 64 == 0)
            nanosleep(&ts, NULL); /* the thread is switched out */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 13),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
    int n = atoi(argv[1]);
    pthread_t t[64];

    rounds = atoi(argv[2]);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
"""


def test_threads_under_a_seccomp_filter_get_each_enter_once(kernel, tmp_path):
    # 8 threads under a filter, each making refused calls (their enters
    # made at the exit) between allowed calls that fail (their enters
    # seen): on every thread, enter and exit alternate, none doubled and
    # none missing, and every refused call has its enter.
    import systrace

    exe = _build(tmp_path, SECCOMP_THREADS, "threads", "-pthread")
    threads, rounds = 8, 5000
    done = systrace.run([str(exe), str(threads), str(rounds)], "openat", "read", buffer_size=32 << 20)
    assert done.returncode == 0
    assert done.dropped == 0
    last: dict = {}
    out_of_turn = 0
    counts: collections.Counter = collections.Counter()
    for ev in done.events():
        out_of_turn += (ev.phase == "enter") == (last.get(ev.tid) == "enter")
        last[ev.tid] = ev.phase
        counts[ev.name, ev.phase, ev.ret if ev.phase == "exit" else None] += 1
    assert out_of_turn == 0
    assert counts["openat", "exit", -13] == threads * rounds
    assert counts["read", "exit", -11] == threads * rounds
    assert counts["openat", "enter", None] == counts["openat", "exit", -13] + counts["openat", "exit", 3]
    assert counts["read", "enter", None] == sum(n for (name, phase, _), n in counts.items()
                                                if name == "read" and phase == "exit")


PERF_EVENT_OPEN = r"""
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long open_event(struct perf_event_attr *a, int cpu, unsigned long flags)
{
    return syscall(SYS_perf_event_open, a, 0, cpu, -1, flags);
}

int main(void)
{
    struct { struct perf_event_attr a; char more[256]; } big;
    struct perf_event_attr a;

    /* As `perf stat -e task-clock` opens its counter. */
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.size = PERF_ATTR_SIZE_VER7;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_type = PERF_SAMPLE_IDENTIFIER;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    a.disabled = a.inherit = a.enable_on_exec = a.exclude_guest = 1;
    long fd = open_event(&a, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd >= 0)
        close(fd);
    /* A cache event by frequency, exact: the machine may have no PMU. */
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_HW_CACHE;
    a.size = PERF_ATTR_SIZE_VER5;
    a.config = PERF_COUNT_HW_CACHE_L1D | PERF_COUNT_HW_CACHE_OP_READ << 8 |
               PERF_COUNT_HW_CACHE_RESULT_MISS << 16;
    a.freq = 1;
    a.sample_freq = 4000;
    a.precise_ip = 2;
    a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
    open_event(&a, -1, 0);
    /* Hardware, a tracepoint's number, a type and a flag of no name. */
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_HARDWARE;
    a.size = PERF_ATTR_SIZE_VER0;
    a.config = PERF_COUNT_HW_INSTRUCTIONS;
    a.exclude_kernel = a.exclude_hv = 1;
    open_event(&a, 0, 0);
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = 999999;
    open_event(&a, -1, 0);
    a.type = 0x10;
    a.config = 0x1234;
    open_event(&a, -1, 0x10);
    /* Larger than the kernel knows, with bytes it does not: E2BIG, and the
     * size it knows written back. */
    memset(&big, 0, sizeof(big));
    big.a.type = PERF_TYPE_SOFTWARE;
    big.a.size = sizeof(big);
    big.more[200] = 1;
    open_event(&big.a, -1, 0);
    /* No structure. */
    open_event(NULL, -1, 0);
    return 0;
}
"""


def test_perf_event_open_like_strace(kernel, tmp_path, strace_bin):
    # struct perf_event_attr as strace prints it (what it reads without -v,
    # then `...`), its flags named, and the size the kernel writes back
    # when it refuses a larger structure with E2BIG.
    exe = _build(tmp_path, PERF_EVENT_OPEN, "perf")
    lines = _same_lines(tmp_path, strace_bin, "-e", "trace=perf_event_open", "--", str(exe))
    ours = "\n".join(lines)
    for part in ("{type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER7, config=PERF_COUNT_SW_TASK_CLOCK, "
                 "sample_period=0, sample_type=PERF_SAMPLE_IDENTIFIER, "
                 "read_format=PERF_FORMAT_TOTAL_TIME_ENABLED|PERF_FORMAT_TOTAL_TIME_RUNNING, disabled=1, "
                 "inherit=1, enable_on_exec=1, precise_ip=0 /* arbitrary skid */, exclude_guest=1, ...}, "
                 "0, -1, -1, PERF_FLAG_FD_CLOEXEC) = ",
                 "config=PERF_COUNT_HW_CACHE_RESULT_MISS<<16|PERF_COUNT_HW_CACHE_OP_READ<<8|PERF_COUNT_HW_CACHE_L1D, "
                 "sample_freq=4000,",
                 "{type=PERF_TYPE_TRACEPOINT, size=PERF_ATTR_SIZE_VER0, config=999999,",
                 "{type=0x10 /* PERF_TYPE_??? */, size=PERF_ATTR_SIZE_VER0, config=0x1234,",
                 "0x10 /* PERF_FLAG_??? */) = -1",
                 "perf_event_open(NULL, 0, -1, -1, 0) = -1 EFAULT (Bad address)"):
        assert part in ours, (part, ours)
    unknown = r"0x[0-9a-f]+ /\* PERF_ATTR_SIZE_\?\?\? \*/"
    assert re.search(rf"size={unknown} => (PERF_ATTR_SIZE_VER\d+|{unknown}), .* = -1 E2BIG", ours), ours
    # The library's Call has the same fields by name.
    import systrace

    done = systrace.run([str(exe)], "perf_event_open", strings=True)
    assert done.returncode == 0 and done.dropped == 0
    first = [c for c in systrace.calls(done.events()) if c.pid == done.pid][0]
    assert first.args["attr_uptr"] == {
        "type": "PERF_TYPE_SOFTWARE", "size": 128, "config": 1, "sample_period": 0, "sample_type": 1 << 16,
        "read_format": 3, "disabled": 1, "inherit": 1, "enable_on_exec": 1, "precise_ip": 0, "exclude_guest": 1}
    assert re.sub(r"\s+= ", " = ", first.strace()) == lines[0]


BPF_CALLS = r"""
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, void *attr, unsigned size)
{
    return syscall(SYS_bpf, cmd, attr, size);
}

int main(void)
{
    union bpf_attr a;
    uint32_t key = 0, value = 42, next;
    char big[96];

    /* An array map as libbpf creates one, with a name and flags. */
    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 2;
    a.map_flags = BPF_F_RDONLY_PROG;
    strcpy(a.map_name, "systrace_test");
    int fd = bpf(BPF_MAP_CREATE, &a, 72);
    if (fd < 0)
        return 1;
    /* Its elements, shorter attrs than the union. */
    memset(&a, 0, sizeof(a));
    a.map_fd = fd;
    a.key = (uintptr_t)&key;
    a.value = (uintptr_t)&value;
    a.flags = BPF_EXIST;
    bpf(BPF_MAP_UPDATE_ELEM, &a, 32);
    a.flags = 0;
    bpf(BPF_MAP_LOOKUP_ELEM, &a, 32);
    a.flags = BPF_NOEXIST;
    bpf(BPF_MAP_UPDATE_ELEM, &a, 32);
    a.next_key = (uintptr_t)&next;
    bpf(BPF_MAP_GET_NEXT_KEY, &a, 24);
    bpf(BPF_MAP_DELETE_ELEM, &a, 16);
    /* Its info, whose length the kernel writes back. */
    char info[512];
    memset(&a, 0, sizeof(a));
    memset(info, 0, sizeof(info));
    a.info.bpf_fd = fd;
    a.info.info_len = 4;
    a.info.info = (uintptr_t)info;
    bpf(BPF_OBJ_GET_INFO_BY_FD, &a, 16);
    a.info.info_len = sizeof(info);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &a, 16);
    memset(&a, 0, sizeof(a));
    a.map_fd = fd;
    bpf(BPF_MAP_FREEZE, &a, 4);
    /* Ids that name nothing; flags of no name. */
    memset(&a, 0, sizeof(a));
    a.map_id = 0xfffffff0;
    a.open_flags = BPF_F_RDONLY;
    bpf(BPF_MAP_GET_FD_BY_ID, &a, 12);
    a.open_flags = 0x100;
    bpf(BPF_PROG_GET_FD_BY_ID, &a, 12);
    bpf(BPF_BTF_GET_FD_BY_ID, &a, 4);
    /* Attaching to a cgroup, detaching, a link's program: fds that name
     * nothing, an attach type of no name. */
    memset(&a, 0, sizeof(a));
    a.target_fd = -1;
    a.attach_bpf_fd = fd;
    a.attach_type = BPF_CGROUP_INET_EGRESS;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    bpf(BPF_PROG_ATTACH, &a, 20);
    a.attach_type = 200;
    bpf(BPF_PROG_DETACH, &a, 12);
    memset(&a, 0, sizeof(a));
    a.link_update.link_fd = -1;
    a.link_update.new_prog_fd = fd;
    a.link_update.flags = BPF_F_REPLACE;
    a.link_update.old_prog_fd = 9;
    bpf(BPF_LINK_UPDATE, &a, 16);
    /* A link on a perf event with its cookie; a test run; a raw
     * tracepoint; BTF whose load fails (its log): fds that name nothing. */
    memset(&a, 0, sizeof(a));
    a.link_create.prog_fd = -1;
    a.link_create.target_fd = -1;
    a.link_create.attach_type = BPF_PERF_EVENT;
    a.link_create.perf_event.bpf_cookie = 0x2a;
    bpf(BPF_LINK_CREATE, &a, 48);
    memset(&a, 0, sizeof(a));
    a.test.prog_fd = -1;
    a.test.repeat = 3;
    a.test.flags = BPF_F_TEST_RUN_ON_CPU;
    bpf(BPF_PROG_TEST_RUN, &a, 80);
    memset(&a, 0, sizeof(a));
    a.raw_tracepoint.name = (uintptr_t)"sys_enter";
    a.raw_tracepoint.prog_fd = -1;
    bpf(BPF_RAW_TRACEPOINT_OPEN, &a, 16);
    char log[64] = "";
    memset(&a, 0, sizeof(a));
    a.btf = (uintptr_t)"not BTF at all";
    a.btf_size = 14;
    a.btf_log_buf = (uintptr_t)log;
    a.btf_log_size = sizeof(log);
    a.btf_log_level = 1;
    bpf(BPF_BTF_LOAD, &a, 28);
    /* Bytes the command does not know: `...`. */
    memset(big, 0, sizeof(big));
    big[80] = 1;
    bpf(BPF_MAP_FREEZE, big, sizeof(big));
    /* No attr. */
    bpf(BPF_MAP_CREATE, NULL, 72);
    return 0;
}
"""


def test_bpf_attrs_like_strace(kernel, tmp_path, strace_bin):
    # bpf(2)'s attr for the commands on maps and ids, as strace prints it:
    # the fields up to the size given, what the kernel wrote back (an
    # info's length: `info_len=4 => ...`), `...` for bytes set past them.
    exe = _build(tmp_path, BPF_CALLS, "bpfcalls")
    ours = "\n".join(_same_lines(tmp_path, strace_bin, "-e", "trace=bpf", "--", str(exe)))
    for part in ('bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=4, max_entries=2, '
                 'map_flags=BPF_F_RDONLY_PROG, inner_map_fd=0, map_name="systrace_test", map_ifindex=0, '
                 'btf_fd=0, btf_key_type_id=0, btf_value_type_id=0, btf_vmlinux_value_type_id=0, map_extra=0}, '
                 '72) = 3',
                 "bpf(BPF_MAP_UPDATE_ELEM, {map_fd=3, key=ADDR, value=ADDR, flags=BPF_EXIST}, 32) = 0",
                 "info={bpf_fd=3, info_len=4, info=ADDR}",
                 "open_flags=0x100 /* BPF_F_??? */",
                 "bpf(BPF_PROG_ATTACH, {target_fd=-1, attach_bpf_fd=3, attach_type=BPF_CGROUP_INET_EGRESS, "
                 "attach_flags=BPF_F_ALLOW_MULTI, replace_bpf_fd=0}, 20) = -1 ",
                 "attach_type=0xc8 /* BPF_??? */",
                 "{link_update={link_fd=-1, new_prog_fd=3, flags=BPF_F_REPLACE, old_prog_fd=9}}",
                 "bpf(BPF_MAP_FREEZE, {map_fd=0, ...}, 96) = -1",
                 "bpf(BPF_MAP_CREATE, NULL, 72) = -1 EFAULT",
                 "bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-1, attach_type=BPF_PERF_EVENT, "
                 "flags=0, perf_event={bpf_cookie=0x2a}}}, 48) = -1 EBADF",
                 "{test={prog_fd=-1, retval=0, data_size_in=0, data_size_out=0, data_in=NULL, data_out=NULL, "
                 "repeat=3, duration=0, ctx_size_in=0, ctx_size_out=0, ctx_in=NULL, ctx_out=NULL, "
                 "flags=BPF_F_TEST_RUN_ON_CPU, cpu=0, batch_size=0}}",
                 'bpf(BPF_RAW_TRACEPOINT_OPEN, {raw_tracepoint={name="sys_enter", prog_fd=-1}}, 16) = -1 EBADF',
                 'bpf(BPF_BTF_LOAD, {btf="not BTF at all", btf_log_buf=ADDR, btf_size=14, btf_log_size=64, '
                 "btf_log_level=1}, 28) = -1 "):
        assert part in ours, (part, ours)
    assert re.search(r"info_len=512 => \d+, info=ADDR", ours), ours
    # The library's Call: the attr as the call gave it (its size bytes).
    import systrace

    done = systrace.run([str(exe)], "bpf", strings=True)
    assert done.returncode == 0 and done.dropped == 0
    first = [c for c in systrace.calls(done.events()) if c.pid == done.pid][0]
    assert len(first.args["uattr"]["hex"]) == 2 * 72, first.args
    assert first.args["uattr"]["hex"].startswith("02000000040000000400000002000000"), first.args
    # A listing, where the kernel writes the next id back (bpftool: CI
    # installs it, and systrace's own maps are there to list).
    assert shutil.which("bpftool"), "bpftool is one of .ci/run's packages"
    r = subprocess.run([sys.executable, "-m", "systrace", "-e", "trace=bpf", "--", "bpftool", "map", "list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.search(r"bpf\(BPF_MAP_GET_NEXT_ID, \{start_id=0, next_id=0 => \d+, open_flags=0\}, 12\) += 0",
                     r.stderr), r.stderr


def test_bpf_loads_and_pins_like_strace(kernel, tmp_path, strace_bin):
    # What bpf(2)'s attr points to, read at enter: BPF_PROG_LOAD's license
    # and log, BPF_BTF_LOAD's BTF, BPF_OBJ_PIN's and BPF_OBJ_GET's path.
    # bpftool's feature probes load thousands of small programs (libbpf's
    # probes too, in every libbpf tool): each line as strace prints it.
    assert shutil.which("bpftool"), "bpftool is one of .ci/run's packages"
    ours = _same_lines(tmp_path, strace_bin, "-e", "trace=bpf", "--", "bpftool", "feature", "probe", "kernel")
    loads = [line for line in ours if line.startswith("bpf(BPF_PROG_LOAD, {")]
    assert len(loads) > 1000, ours[:20]
    assert any(', license="GPL", log_level=0, log_size=0, log_buf=NULL, kern_version=KERNEL_VERSION(' in line
               for line in loads), loads[:5]
    assert any(line.startswith('bpf(BPF_BTF_LOAD, {btf="\\237\\353\\1\\0') for line in ours), ours[:20]
    # A map pinned in a bpf filesystem of the test's own, and opened again.
    fs = tmp_path / "bpffs"
    fs.mkdir()
    subprocess.run(["mount", "-t", "bpf", "bpf", str(fs)], check=True)
    try:
        pin = fs / "systrace_test"
        create = ["bpftool", "map", "create", str(pin), "type", "hash", "key", "4", "value", "4", "entries", "8",
                  "name", "systrace_test"]
        texts = []
        for tracer in ([strace_bin], [sys.executable, "-m", "systrace"]):
            out = tmp_path / "pin.txt"
            for argv in (create, ["bpftool", "map", "show", "pinned", str(pin)]):
                r = subprocess.run([*tracer, "-o", str(out), "-e", "trace=bpf", "--", *argv], capture_output=True,
                                   text=True, timeout=60)
                assert r.returncode == 0, r.stderr
                texts.append([re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(r"\s+= ", " = ", line))
                              for line in out.read_text().splitlines()])
            pin.unlink()
        assert texts[2:] == texts[:2], texts
        assert f'bpf(BPF_OBJ_PIN, {{pathname="{pin}", bpf_fd=3, file_flags=0}}, 16) = 0' in texts[2], texts[2]
        assert f'bpf(BPF_OBJ_GET, {{pathname="{pin}", bpf_fd=0, file_flags=0}}, 16) = 3' in texts[3], texts[3]
    finally:
        subprocess.run(["umount", str(fs)], check=True)


def test_audit_netlink_messages_like_strace(kernel, tmp_path, strace_bin):
    # su (PAM) sends libaudit's messages on a NETLINK_AUDIT socket and reads
    # the kernel's ACKs: strace names their types (AUDIT_FIRST_USER_MSG)
    # once the socket is bound, and shows their payloads as data.
    su = shutil.which("su")
    assert su, "su (util-linux) is part of every Debian system"
    # Each line after its pid; the kernel's port ids (nlmsg_pid) differ.
    # Without SIGCHLD: su's child may end before su blocks signals (its
    # SIGCHLD then shown by either tracer, as ignored) or after (pending
    # at su's exit, shown by neither): a race between the two runs.
    lines = _same_lines(tmp_path, strace_bin, "-f", "-e", "trace=socket,sendto,recvfrom", "-e", "signal=!SIGCHLD",
                        "--", su, "-s", "/bin/sh", "-c", "true", "nobody",
                        normalise=lambda line: re.sub(r"nlmsg_pid=\d+", "nlmsg_pid=P", line.split(" ", 1)[1]))
    ours = "\n".join(line for line in lines if "NETLINK" in line or "nlmsg" in line)
    assert "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)" in ours, ours
    assert "nlmsg_type=NLMSG_ERROR" in ours and "msg={nlmsg_len=" in ours, ours


FEXECVE = """
import os
try:
    os.execve(os.open("/", os.O_RDONLY), ["x"], {})  # a directory: EACCES
except OSError:
    pass
os.execve(os.open("/bin/true", os.O_RDONLY), ["true"], {})
"""


@pytest.mark.parametrize("status", [(), ("-e", "status=successful"), ("-e", "status=failed")])
def test_execveat_like_strace(kernel, tmp_path, strace_bin, status):
    """fexecve: a failed execveat, then one that succeeds, whose exit the
    kernel reports as execve's: one line each, as strace prints them,
    whichever status is asked for."""
    lines = _same_lines(tmp_path, strace_bin, "-f", "-e", "trace=execve,execveat", *status,
                        "--", "/usr/bin/python3", "-c", FEXECVE,
                        normalise=lambda line: line.split(" ", 1)[1].strip())
    assert ('execveat(4, "", ["true"], ADDR /* 0 vars */, AT_EMPTY_PATH) = 0' in lines) == (
        status != ("-e", "status=failed")), lines


# strace prints a syscall `???` (or `????`) for an entry whose registers it
# could not read: the first thread, stopped at an entry, already taken away
# by the other thread's exec. Unfinished, or ended `???() = ?`, or resumed.
# A race of ptrace's, not a call of the program (which makes no syscall
# strace cannot name, and systrace prints none).
STRACE_UNREADABLE_ENTRY = re.compile(r"^(\d+ +)?(\?{3,4}\(|<\.\.\. \?{3,4} resumed>).*\n", re.M)

THREAD_EXEC = """
import os, threading, time
def run():
    os.execv("/bin/true", ["true"])
threading.Thread(target=run).start()
time.sleep(30)
"""


@pytest.mark.parametrize("options", [("-e", "trace=execve"), ("-e", "trace=execve,futex"),
                                     ("-e", "trace=execve", "-e", "quiet=thread-execve")])
def test_an_exec_by_a_thread_that_is_not_the_first(kernel, tmp_path, strace_bin, options):
    """The exec'ing thread returns as its process's first thread: strace
    ends its line `<pid changed to PID ...>` (if nothing cut it), tells
    the process `+++ superseded by execve in pid TID +++` and shows the
    return as the process's. systrace left the call unfinished to the end
    (`TID <... execve resumed> <unfinished ...>) = ?`)."""
    def normalised(text: str) -> list:
        pids: dict = {}
        def pid(m: re.Match) -> str:
            return pids.setdefault(m.group(0), f"P{len(pids)}")
        lines = []
        for line in text.splitlines():
            if "futex(" in line or "futex resumed" in line:
                continue  # the main thread's waits: their cut depends on timing
            if "futex" in options[1]:
                # Whether a futex line cut the exec's first: timing too.
                line = re.sub(r" <pid changed to \d+ \.\.\.>$", " <unfinished ...>", line)
            line = re.sub(r"0x[0-9a-f]{6,}", "ADDR", line)
            line = re.sub(r"\b\d{3,7}\b", pid, line)
            lines.append(re.sub(r"\s+", " ", line))
        return lines

    texts = []
    for tracer in ([strace_bin], [sys.executable, "-m", "systrace"]):
        out = tmp_path / "trace.txt"
        r = subprocess.run([*tracer, "-f", "-o", str(out), *options, "--", "/usr/bin/python3", "-c", THREAD_EXEC],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        text = out.read_text()
        texts.append(normalised(STRACE_UNREADABLE_ENTRY.sub("", text) if tracer == [strace_bin] else text))
    strace_lines, ours = texts
    assert ours == strace_lines, "\n".join(ours)
    assert any("<... execve resumed>" in line for line in ours)
    assert any("superseded" in line for line in ours) == ("quiet=thread-execve" not in options)


def test_an_exec_by_another_thread_ends_the_trace_without_f_like_strace(kernel, tmp_path, strace_bin):
    """Without -f the first thread alone is traced: another thread's exec
    takes its id, and strace shows nothing of the new program but its end
    (systrace showed `<... execve resumed>) = 0` and its calls)."""
    texts = []
    for tracer in ([strace_bin], [sys.executable, "-m", "systrace"]):
        out = tmp_path / "trace.txt"
        r = subprocess.run([*tracer, "-o", str(out), "-e", "trace=execve,exit_group,brk", "--", "/usr/bin/python3",
                            "-S", "-c", THREAD_EXEC], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        # Addresses vary, and with them the padding before ` = `.
        texts.append(re.sub(r" +=", " =", re.sub(r"0x[0-9a-f]+", "ADDR", out.read_text())))
    theirs, ours = texts
    assert ours == theirs, ours
    assert ours.splitlines()[-1] == "+++ exited with 0 +++" and "exit_group" not in ours, ours


def test_an_exec_by_a_thread_that_is_not_the_first_with_a_file_per_thread(kernel, tmp_path, strace_bin):
    """strace -ff: the thread's file has the call's first part, `<pid
    changed to PID ...>`; the process's file the rest, after `+++
    superseded ... +++` (systrace printed the call whole there, and
    nothing in the thread's)."""
    found = []
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        prefix = tmp_path / name
        r = subprocess.run([*tracer, "-ff", "-o", str(prefix), "-e", "trace=execve", "--", "/usr/bin/python3",
                            "-c", THREAD_EXEC], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        files = sorted(tmp_path.glob(f"{name}.*"), key=lambda p: int(p.suffix[1:]))
        texts = [re.sub(r"0x[0-9a-f]{6,}", "ADDR", p.read_text()) for p in files]
        if name == "strace":
            texts = [STRACE_UNREADABLE_ENTRY.sub("", t) for t in texts]
        found.append([re.sub(r"\b\d{3,7}\b", "PID", t) for t in texts])
    assert found[1] == found[0], found[1]
    assert found[1][1].endswith(" <pid changed to PID ...>\n"), found[1]
