"""The systrace command's output where it has no strace to compare with:
several threads in one file without -f, lost events, the tracer's
priority, -s beyond what is captured."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from systrace import cli
from conftest import KERNEL_RELEASE
from test_cli import systrace_cmd
from test_strace_diff import counts_table
from test_strace_diff_values import strace_bin, traces  # noqa: F401 (a fixture)

THREADS = """
import os, signal, sys, threading
signal.signal(signal.SIGUSR1, lambda *_: None)
def work():
    os.umask(0o77)
    signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
    with open("/dev/null") as f:
        os.dup(f.fileno())
threads = [threading.Thread(target=work) for _ in range(int(sys.argv[1]))]
for t in threads:
    t.start()
for t in threads:
    t.join()
os.umask(0o22)
os.kill(os.getpid(), signal.SIGUSR1)
"""


@pytest.mark.parametrize("options", [("-e", "trace=umask,dup"), ("-e", "trace=umask,dup", "-y"),
                                     ("-c", "-e", "trace=umask,dup")])
def test_without_f_the_first_thread_alone_like_strace(kernel, tmp_path, strace_bin, options):
    # strace without -f traces a command's first thread: the others' calls
    # and signals are not shown, nor counted (systrace showed every thread,
    # each line with its tid).
    theirs, ours = traces(tmp_path, strace_bin, list(options), [sys.executable, "-S", "-c", THREADS, "3"])
    if "-c" in options:
        assert counts_table(ours) == counts_table(theirs) == {"umask": (1, 0), "total": (1, 0)}, ours
        return
    theirs, ours = (re.sub(r"si_pid=\d+", "si_pid=PID", text) for text in (theirs, ours))
    assert ours == theirs, ours
    assert ours.splitlines()[0] == "umask(022)                              = 077", ours
    assert len(ours.splitlines()) == 3 and "SIGUSR1" in ours and "dup" not in ours, ours


FD_BY_ANOTHER_THREAD = """
import os, threading
fd = os.open("/etc/hostname", os.O_RDONLY)
def reopen():
    os.close(fd)
    assert os.open("/etc/passwd", os.O_RDONLY) == fd
t = threading.Thread(target=reopen)
t.start()
t.join()
os.read(fd, 4)
"""


def test_without_f_y_follows_the_fds_other_threads_change(kernel, tmp_path, strace_bin):
    # The other threads' calls are not shown, but their fds are the first
    # thread's: fd 3 is /etc/passwd once another thread reopened it.
    theirs, ours = traces(tmp_path, strace_bin, ["-y", "-e", "trace=openat,read,close"],
                          [sys.executable, "-S", "-c", FD_BY_ANOTHER_THREAD])
    assert ours == theirs, ours
    assert "</etc/passwd>" in ours.splitlines()[-2] and "/etc/hostname" in ours, ours


def test_threads_in_a_file_carry_their_pid_under_f(kernel, tmp_path):
    out = tmp_path / "trace.txt"
    r = systrace_cmd("-f", "-o", str(out), "-e", "trace=umask", "--", sys.executable, "-S", "-c", THREADS, "3")
    assert r.returncode == 0, r.stderr
    calls = [line for line in out.read_text().splitlines() if "umask(" in line]
    tids = {int(m.group(1)) for m in (re.match(r"^(\d+) +umask\(077\) += 0\d+$", c) for c in calls) if m}
    assert len(calls) == 4 and len(tids) == 3, calls
    # A process with one thread: no prefix (strace -o without -f).
    r = systrace_cmd("-o", str(out), "-e", "trace=getppid", "--", sys.executable, "-c", "import os; os.getppid()")
    assert r.returncode == 0, r.stderr
    assert re.match(r"^getppid\(\) += \d+$", out.read_text().splitlines()[0]), out.read_text()


def test_lost_events_are_told_once(kernel):
    # A one-page ring buffer cannot hold what a busy loop makes.
    busy = "import os\nfor _ in range(300000): os.getppid()"
    r = systrace_cmd("-o", "/dev/null", "--buffer-size", "4096", "-e", "trace=getppid", "--",
                     sys.executable, "-c", busy)
    assert r.returncode == 0, r.stderr
    last = r.stderr.splitlines()[-1]
    m = re.fullmatch(r"systrace: (\d+) events lost \(ring buffer full, or systrace fell behind; .*\)", last)
    assert m and int(m.group(1)) > 0, r.stderr
    assert "Warning" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_two_busy_processes_lose_nothing(kernel):
    # Two processes making 2M syscalls each, on two CPUs, with the defaults.
    dd = "dd if=/dev/zero of=/dev/null bs=1 count=500000 2>/dev/null"
    r = systrace_cmd("-f", "-o", "/dev/null", "--", "sh", "-c", f"{dd} & {dd}; wait", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "lost" not in r.stderr, r.stderr


TREE = """
import os, sys, threading
def work():
    os.getppid()
threads = [threading.Thread(target=work) for _ in range(int(sys.argv[1]))]
for t in threads:
    t.start()
for t in threads:
    t.join()
# The children all alive at once (each waits for the pipe to close before
# its exec): as many processes in the tables as there are children.
r, w = os.pipe()
pids = []
for _ in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execv("/bin/true", ["true"])
    pids.append(pid)
os.close(w)
for pid in pids:
    os.waitpid(pid, 0)
"""


def test_a_tree_of_thousands_of_threads_and_hundreds_of_processes_is_whole(kernel, tmp_path):
    # Scale past the other tests' few threads and children (100x and more):
    # the tables of threads and processes (BPF's and the printer's) and the
    # fork records keep up, and every thread's call and end is there, once.
    threads, children = 2000, 300
    out = tmp_path / "trace"
    r = systrace_cmd("-f", "-e", "trace=getppid,execve", "-o", str(out), "--", sys.executable, "-c", TREE,
                     str(threads), str(children), timeout=300)
    assert r.returncode == 0 and "lost" not in r.stderr, r.stderr
    lines = out.read_text().splitlines()
    count = lambda pattern: sum(1 for line in lines if re.fullmatch(pattern, line))
    # A call another thread's line cut is counted by its first part.
    assert count(r"\d+ +getppid\((\) += \d+| <unfinished \.\.\.>)") == threads, lines[:20]
    assert count(r'\d+ +execve\("/bin/true", \["true"\], 0x[0-9a-f]+ /\* \d+ vars \*/'
                 r"(\) = 0| <unfinished \.\.\.>)") == children, lines[:20]
    # Each thread and each process ends once (and the command's last).
    assert count(r"\d+ +\+\+\+ exited with 0 \+\+\+") == threads + children + 1, lines[-5:]
    assert re.fullmatch(r"\d+ +\+\+\+ exited with 0 \+\+\+", lines[-1]), lines[-5:]
    # Past the kernel's table of traced processes, the children not
    # followed are told, every one of them.
    r = systrace_cmd("-f", "-e", "trace=execve", "-o", str(out), "--", sys.executable, "-c", TREE, "0",
                     str(children), timeout=300, env={**os.environ, "SYSTRACE_MAX_PROCESSES": "100"})
    followed = out.read_text().count('execve("/bin/true"')
    assert r.returncode == 0 and 0 < followed < children, (followed, r.stderr)
    assert f"systrace: could not follow {children - followed} child processes" in r.stderr, r.stderr


def test_tracer_runs_ahead_of_what_it_traces(kernel):
    # The launched command keeps its own priority and time slice; the
    # tracer's threads (its parent's) run at nice -20 (cli.TRACER_NICE)
    # with a 0.1 ms slice (cli.TRACER_SLICE_NS; /proc's se.slice, Linux 6.12+).
    show = (
        "import os\n"
        "def nice(path): return int(open(path).read().rsplit(')', 1)[1].split()[16])\n"
        "def slice(path):\n"
        "    return [int(l.split(':')[1]) for l in open(path) if l.startswith('se.slice ')] or [None]\n"
        "print(nice('/proc/self/stat'), slice('/proc/self/sched')[0])\n"
        "ppid = os.getppid()\n"
        "tasks = [f'/proc/{ppid}/task/{t}' for t in os.listdir(f'/proc/{ppid}/task')]\n"
        "print(sorted({(nice(f'{t}/stat'), *slice(f'{t}/sched')) for t in tasks}))\n"
    )
    r = systrace_cmd("-e", "trace=none", "--", sys.executable, "-c", show)
    assert r.returncode == 0, r.stderr
    own, tracer = r.stdout.splitlines()
    own_nice, own_slice = own.split()
    assert int(own_nice) == os.nice(0)
    if KERNEL_RELEASE >= (6, 12):
        assert own_slice != "None" and int(own_slice) != cli.TRACER_SLICE_NS, r.stdout
        assert tracer == f"[(-20, {cli.TRACER_SLICE_NS})]", r.stdout
    else:
        assert tracer in ("[(-20, None)]", f"[(-20, {own_slice})]"), r.stdout


def test_string_size_beyond_the_capture(kernel):
    r = systrace_cmd("-s", "6000", "-e", "trace=write", "--", sys.executable, "-c",
                     "import os; os.write(1, b'x' * 5000)")
    assert r.returncode == 0 and r.stdout == "x" * 5000
    assert 'at most 4096 bytes of each string or buffer are captured; longer ones are shown cut, with "..."' in r.stderr
    assert re.search(r'^write\(1, "x{4096}"\.\.\., 5000\) += 5000$', r.stderr, re.M), r.stderr[-300:]


def test_an_output_read_late_loses_nothing(kernel):
    # The lines are written by a thread of their own: while nobody reads
    # the pipe, the ring buffer keeps being drained (200k events are more
    # than its 2 MiB ring holds) and the text waits.
    loop = "import os\nfor _ in range(100000): os.getppid()"
    p = subprocess.Popen([sys.executable, "-m", "systrace", "-e", "trace=getppid", "--", sys.executable, "-c", loop],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # the loop is done by then; the pipe (64 KiB) is full
        _, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 0, err[-2000:]
    lines = err.splitlines()
    assert sum(1 for line in lines if re.fullmatch(r"getppid\(\) += \d+", line)) == 100000, lines[-5:]
    assert lines[-1] == "+++ exited with 0 +++", lines[-5:]
    assert "lost" not in err, lines[-5:]


def test_an_output_closed_ends_the_command(kernel):
    # The reader goes away: the write fails, the command says nothing more
    # and exits with 1 (as strace does on EPIPE), the traced command runs on.
    loop = "import os\nfor _ in range(1000000): os.getppid()"
    p = subprocess.Popen([sys.executable, "-m", "systrace", "-e", "trace=getppid", "--", sys.executable, "-c", loop],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert p.stderr.readline().startswith(b"getppid()")
        p.stderr.close()
        assert p.wait(timeout=60) == 1
    finally:
        p.kill()


def test_output_piped_to_a_command(kernel, tmp_path):
    # strace's -o |COMMAND and -o !COMMAND: the trace is COMMAND's input
    # (a file's format: the pid first with -f), the exit code the traced
    # command's.
    r = systrace_cmd("-e", "trace=exit_group", "-o", "|tr a-z A-Z", "--", "sh", "-c", "exit 3")
    assert r.returncode == 3, r.stderr
    assert r.stdout == "EXIT_GROUP(3)                           = ?\n+++ EXITED WITH 3 +++\n", r.stdout
    out = tmp_path / "trace"
    r = systrace_cmd("-f", "-e", "trace=execve", "-o", f"!cat > {out}", "--", "sh", "-c", "/bin/true")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert re.findall(r"^\d+ +execve\(\"(\S+)\"", out.read_text(), re.M) == ["/usr/bin/sh", "/bin/true"], out.read_text()
    r = systrace_cmd("-ff", "-o", "|cat", "true")
    assert r.returncode == 1 and "piping the output and -ff" in r.stderr, r.stderr
    # COMMAND stops reading (head -1): a failed write, told once; the
    # traced command runs to its end and its exit code is the command's.
    # (head has its line and is gone before the loop's.)
    r = systrace_cmd("-f", "-e", "trace=execve", "-o", "|head -1", "--",
                     "sh", "-c", "sleep 0.5; for i in $(seq 100); do /bin/true; done; exit 4")
    assert r.returncode == 4, r.stderr
    assert r.stdout.count("execve(") == 1, r.stdout
    assert r.stderr == "systrace: writing |head -1 failed: Broken pipe; nothing after that was written\n", r.stderr


def test_the_printers_writer_is_not_in_its_own_trace(kernel, tmp_path):
    # A process that traces its own writes and prints them: the writer
    # thread's writes of the lines are systrace's own, not in the trace
    # (else each line written would be traced, printed and written again).
    from systrace import Session, cli

    path = tmp_path / "trace.txt"
    with open(path, "w") as out:
        printer = cli.new_printer(
            out, fmt="strace", selected=None, summary=False, durations=False, timestamps=0,
            string_size=32, to_file=True, multi=False,
        )
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            with Session("write", pid=os.getpid()) as session:
                printer.print_from(session)
                for _ in range(5):
                    os.write(null, b"x")
                    time.sleep(0.05)  # the writer writes every 10 ms
            printer.finish()
        finally:
            os.close(null)
    writes = re.findall(r"^(?:\d+ +)?write\((\d+),", path.read_text(), re.M)
    assert writes == [str(null)] * 5, path.read_text()


LOADER_32 = "/lib/ld-linux.so.2"  # Debian's libc6-i386 (.ci/run installs it)


def test_a_32_bit_process_is_said_not_traced(kernel, tmp_path):
    # The kernel's syscall events, and our hooks, skip compat calls: a
    # process that execs 32-bit code must not just go quiet (strace says
    # "[ Process PID=N runs in 32 bit mode. ]" and decodes them).
    import platform

    if platform.machine() != "x86_64":
        pytest.skip("a 32-bit x86 loader runs on x86_64 only")
    if not os.path.exists(LOADER_32):
        pytest.fail(f"{LOADER_32} is missing: apt-get install libc6-i386")
    r = systrace_cmd("-f", "-e", "trace=execve,write", "--", "sh", "-c", f"{LOADER_32} --version; echo done")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    note = [i for i, line in enumerate(lines) if "runs in 32 bit mode: its syscalls are not traced ]" in line]
    assert len(note) == 1, r.stderr
    pid = re.search(r"PID=(\d+)", lines[note[0]]).group(1)
    # Its execve returns in 32-bit mode, where no event fires: its end in
    # that mode says it succeeded, as strace shows it.
    # "[pid  4242] ": strace pads the pid to 5 columns.
    prefix = f"[pid {pid:>5}] "
    assert lines[note[0]].startswith(f"{prefix}[ Process PID={pid} runs"), r.stderr
    assert re.match(rf'{re.escape(prefix)}execve\("{LOADER_32}", .* = 0$', lines[note[0] - 1]), r.stderr
    assert lines[note[0] + 1] == f"{prefix}+++ exited with 0 +++", r.stderr
    # The 64-bit processes are not flagged.
    assert re.search(r'^write\(1, "done\\n", 5\) += 5$', r.stderr, re.M), r.stderr
    out = tmp_path / "trace.jsonl"
    r = systrace_cmd("--format", "json", "-o", str(out), "--", LOADER_32, "--version")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"event": "personality", "pid": events[-1]["pid"], "mode": "32 bit", "traced": False} in events, events
    assert events[-1]["event"] == "exit", events
    execs = [e for e in events if e.get("name") == "execve"]
    assert [e["ret"] for e in execs] == [0], execs

