"""strace's options for the command's set-up and the shape of its output,
against strace: -E and -u (the command's environment and user), -A and -a
(the output file and column), -S (the -c table's order)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from conftest import Steal


def _run(tracer: str, *args: str, **kw) -> subprocess.CompletedProcess:
    argv = ["strace"] if tracer == "strace" else [sys.executable, "-m", "systrace"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60, **kw)


def _both(*args: str, **kw) -> tuple:
    st, sy = _run("strace", *args, **kw), _run("systrace", *args, **kw)
    assert st.returncode == sy.returncode == 0, (st.stderr, sy.stderr)
    return st, sy


def test_env_changes_like_strace(kernel):
    # Set (a new variable goes last, a set one keeps its place), replaced,
    # removed; the command sees what strace's would.
    env = dict(os.environ, SYSTRACE_A="1", SYSTRACE_B="2", SYSTRACE_C="3")
    st, sy = _both("-E", "SYSTRACE_NEW=x=y", "-E", "SYSTRACE_A=changed", "-E", "SYSTRACE_B", "-E", "HOME",
                   "-e", "trace=none", "--", "env", env=env)
    assert sy.stdout == st.stdout
    lines = sy.stdout.splitlines()
    assert "SYSTRACE_A=changed" in lines and lines[-1] == "SYSTRACE_NEW=x=y", lines
    assert not any(line.startswith(("SYSTRACE_B=", "HOME=")) for line in lines), lines
    # The execve shows the environment the command got.
    count = re.compile(r"/\* (\d+) vars \*/")
    st, sy = _both("-E", "SYSTRACE_B", "-e", "trace=execve", "--", "true", env=env)
    assert count.search(sy.stderr)[1] == count.search(st.stderr)[1] == str(len(env) - 1), sy.stderr


def test_runs_the_command_as_another_user_like_strace(kernel, tmp_path):
    st, sy = _both("-u", "nobody", "-e", "trace=setuid,getuid,geteuid,getgid,getgroups", "--", "id")
    assert sy.stdout == st.stdout and sy.stdout.startswith("uid=65534(nobody) "), sy.stdout
    # The ids were set before the command's execve: none of those calls
    # is the trace's, which starts at the execve (strace's too).
    calls = [line.split("(")[0] for line in sy.stderr.splitlines() if "(" in line and "+++" not in line]
    assert calls and "setuid" not in calls, sy.stderr
    # As nobody, a root-only file is out of reach.
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0o600)
    r = _run("systrace", "-u", "nobody", "-e", "trace=openat", "--", "cat", str(secret))
    assert r.returncode == 1 and f'openat(AT_FDCWD, "{secret}", O_RDONLY) = -1 EACCES' in \
        re.sub(r" +=", " =", r.stderr), r.stderr
    r = _run("systrace", "-u", "no-such-user-here", "--", "true")
    assert r.returncode == 1 and "Cannot find user 'no-such-user-here'" in r.stderr, r.stderr
    r = _run("systrace", "-u", "nobody", "-E", "X=1", "-p", "1")
    assert r.returncode == 1 and "-E and -u" in r.stderr, r.stderr


def test_append_and_column_like_strace(kernel, tmp_path):
    outputs = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        out.write_text("kept\n")
        for extra in (["-A"], ["-A", "-a", "20"], ["-a", "0", "-A"]):
            r = _run(tracer, *extra, "-o", str(out), "-e", "trace=close,exit_group", "--", "true")
            assert r.returncode == 0, r.stderr
        outputs[tracer] = out.read_text()
    assert outputs["systrace"] == outputs["strace"]
    assert outputs["strace"].startswith("kept\nclose(3)") and "close(3)            = 0\n" in outputs["strace"]
    # Without -A the file starts again.
    out = tmp_path / "plain.txt"
    out.write_text("gone\n")
    assert _run("systrace", "-o", str(out), "-e", "trace=none", "--", "true").returncode == 0
    assert "gone" not in out.read_text()
    r = _run("systrace", "-a", "-1", "--", "true")
    assert r.returncode == 1 and "systrace: invalid -a argument: '-1'\nTry 'systrace -h' for more information.\n" == r.stderr, r.stderr


def _table(text: str) -> list:
    """The -c table's rows: (name, calls, errors), in order."""
    rows = text.split("\n------")[1].splitlines()[1:]
    out = []
    for line in rows:
        fields = line.split()
        # errors is blank when 0: 5 fields, else 6.
        out.append((fields[-1], int(fields[3]), int(fields[4]) if len(fields) == 6 else 0))
    return out


@pytest.mark.parametrize("sort_by", ["name", "nothing", "calls", "errors", "avg-time", "time"])
def test_summary_sorted_like_strace(kernel, sort_by):
    # A program with calls of several counts and errors (openat fails on
    # the libraries' search path; a missing file; reads of two files).
    args = ("-c", "-S", sort_by, "-e", "trace=openat,read,close,newfstatat,access,mmap", "--",
            "sh", "-c", "cat /etc/hostname /etc/passwd /nonexistent; true")
    st, sy = _both(*args)
    theirs, ours = _table(st.stderr), _table(sy.stderr)
    assert sorted(ours) == sorted(theirs) and len(ours) >= 4, (theirs, ours)
    if sort_by in ("name", "nothing"):
        assert ours == theirs
    elif sort_by in ("calls", "errors"):
        key = 1 if sort_by == "calls" else 2
        assert [r[key] for r in ours] == sorted((r[key] for r in ours), reverse=True), ours
        assert [r[key] for r in ours] == [r[key] for r in theirs]
    # The times' orders are the times': their values differ from run to run.


def test_histogram_follows_the_order_and_survives_an_empty_table(kernel):
    r = _run("systrace", "-c", "-S", "name", "--histogram", "-e", "trace=read,close", "--",
             "cat", "/etc/hostname")
    names = [row[0] for row in _table(r.stderr)]
    histograms = re.findall(r"^@ns\[(\w+)\]:", r.stderr, re.M)
    assert r.returncode == 0 and names == ["close", "read"] and histograms == names, r.stderr
    # Nothing counted: no table, no histogram, no error.
    r = _run("systrace", "-c", "--histogram", "-e", "trace=mount", "--", "true")
    assert r.returncode == 0 and "Traceback" not in r.stderr and "% time" not in r.stderr, r.stderr


def test_summary_sort_errors():
    for key in ("max-time", "shortest"):
        r = _run("systrace", "-c", "-S", key, "--", "true")
        assert r.returncode == 1 and f"-S {key}: the counts keep no shortest or longest" in r.stderr, r.stderr
    r = _run("systrace", "-c", "-S", "bogus", "--", "true")
    assert r.returncode == 1 and "invalid sortby: 'bogus'" in r.stderr, r.stderr


def test_the_scan_knows_every_option_that_takes_a_value():
    # The scan before argparse (systrace._cli_start) must skip an option's
    # value, or it takes the value for the command (-S calls ran `calls`).
    from systrace._cli_start import LONG_VALUE, SHORT_VALUE, scan
    from systrace.cli import build_parser

    for action in build_parser(False, refusals=True)._actions:
        if action.nargs == 0 or not action.option_strings or action.nargs == "?":
            continue
        for option in action.option_strings:
            if option.startswith("--"):
                assert option in LONG_VALUE, option
            else:
                assert option[1] in SHORT_VALUE, option
    found = scan(["-S", "calls", "-a", "20", "-E", "A=1", "-u", "nobody", "-c", "ls"])
    assert found is not None and found.command == ["ls"] and found.summary and found.launch_options


def test_a_replayed_summary_takes_the_order_too(kernel, tmp_path):
    recording = tmp_path / "r.parquet"
    r = _run("systrace", "--record", str(recording), "-o", "/dev/null", "-e", "trace=read,close,openat", "--",
             "cat", "/etc/hostname")
    assert r.returncode == 0, r.stderr
    for sort_by, key in (("name", lambda row: row[0]), ("calls", lambda row: -row[1])):
        r = _run("systrace", "--replay", str(recording), "-c", "-S", sort_by)
        rows = _table(r.stderr)
        assert [row[0] for row in rows] != [] and rows == sorted(rows, key=key), (sort_by, r.stderr)


def _attach_lines(stderr: str, prog: str) -> list:
    """Each `PROG: Process N attached` line, as the pid's index among the
    pids of the lines; a pid whose lines come unannounced, as such. The
    command itself is never announced, and its lines have a [pid N] when a
    thread of its runs beside (a race either tracer may show): left out,
    as the pid below those of the processes it started (pids rarely wrap)."""
    seen = []  # (pid, announced), each pid once, in order
    for line in stderr.splitlines():
        m = re.match(rf"{prog}: Process (\d+) attached$", line)
        if m:
            seen.append((m[1], True))
            continue
        m = re.match(r"\[pid +(\d+)\]", line)
        if m and m[1] not in [pid for pid, _ in seen]:
            seen.append((m[1], False))
    first = min((int(pid) for pid, announced in seen if announced), default=None)
    seen = [(pid, announced) for pid, announced in seen if announced or first is None or int(pid) > first]
    return [i + 1 if announced else ("unannounced", pid) for i, (pid, announced) in enumerate(seen)]


@pytest.mark.parametrize("command", [
    ["sh", "-c", "/bin/true; /bin/true & wait"],
    ["/usr/bin/python3", "-c", "import threading; t = threading.Thread(target=len, args=('',)); t.start(); t.join()"],
    # A thread killed in its first call, none of which the trace carries:
    # its end is the first the trace has of it (strace announces it at
    # its clone). In a child, whose pid the lines announce.
    ["sh", "-c", "/usr/bin/python3 -c 'import threading, time, os; threading.Thread(target=time.sleep, args=(5,))"
     ".start(); time.sleep(0.2); os._exit(0)'; true"],
])
def test_followed_processes_are_announced_like_strace(kernel, tmp_path, command):
    args = ("-f", "-e", "trace=execve,exit_group", "-e", "signal=none", "--", *command)
    st, sy = _both(*args)
    theirs, ours = _attach_lines(st.stderr, "strace"), _attach_lines(sy.stderr, "systrace")
    assert ours == theirs and len(ours) >= 1 and "unannounced" not in str(ours), (st.stderr, sy.stderr)
    # Not with -q, nor in a file (strace's neither), nor without -f.
    for extra in (["-q"], ["-o", str(tmp_path / "out.txt")]):
        r = _run("systrace", *extra, *args)
        assert r.returncode == 0 and "attached" not in r.stderr, r.stderr
    assert "attached" not in (tmp_path / "out.txt").read_text()
    r = _run("systrace", *args[1:])
    assert r.returncode == 0 and "attached" not in r.stderr, r.stderr
    # With -c too, on stderr before the table, as strace's.
    st, sy = _both("-c", *args)
    theirs, ours = _attach_lines(st.stderr, "strace"), _attach_lines(sy.stderr, "systrace")
    assert ours == theirs and len(ours) >= 1, (st.stderr, sy.stderr)


def _same_run(text: str) -> str:
    """A trace with what changes from run to run (pids, addresses, the
    tracer's name) made the same."""
    text = re.sub(r"0x[0-9a-f]+", "ADDR", text.replace("systrace: ", "strace: "))
    return re.sub(r"\d+", "N", text)


# -b execve: strace lets each process go at its exec (but the command's
# first), the line ending ` <detached ...>`, and traces nothing it forks
# after; no end of it is told; the command's run ends with 0 when it is
# the one let go.
@pytest.mark.parametrize("args", [
    ["-f", "-e", "trace=execve,write,exit_group", "sh", "-c", "echo hi; /bin/echo there; echo after"],
    ["-e", "trace=execve,write,exit_group", "sh", "-c", "echo hi; exec /bin/echo there"],
    ["-q", "-f", "-e", "trace=execve", "sh", "-c", "/bin/true; /bin/echo x"],
    # An exec by a thread that is not the first: the process is let go.
    ["-f", "-e", "trace=execve,exit_group,exit", "/usr/bin/python3", "-c",
     "import os, threading, time; threading.Thread(target=os.execv, args=('/bin/true', ['true'])).start(); "
     "time.sleep(5)"],
])
def test_detach_on_execve_like_strace(kernel, tmp_path, args):
    for option in (["-b", "execve"], ["--detach-on=execve"]):
        st, sy = _both(*option, *args)
        assert _same_run(sy.stderr) == _same_run(st.stderr) and "detached" in st.stderr, (st.stderr, sy.stderr)
        assert sy.stdout == st.stdout
    # Into a file: the same lines, and strace's quiet stderr.
    files = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / tracer
        r = _run(tracer, "-o", str(out), "-b", "execve", *args)
        assert r.returncode == 0 and "detached" not in r.stderr, r.stderr
        files[tracer] = _same_run(out.read_text())
    assert files["systrace"] == files["strace"], files
    # A file per thread (-ff): the exec's line ends ` <detached ...>` in
    # its thread's file (before: `<unfinished ...>) = ?`, as a call that
    # never returned).
    for tracer in ("strace", "systrace"):
        (tmp_path / f"ff-{tracer}").mkdir()
        r = _run(tracer, "-ff", "-o", str(tmp_path / f"ff-{tracer}" / "t"), "-b", "execve", *args)
        assert r.returncode == 0 and "detached" not in r.stderr, r.stderr
        files[tracer] = sorted(_same_run(f.read_text()) for f in (tmp_path / f"ff-{tracer}").iterdir())
    assert files["systrace"] == files["strace"], files
    assert any(cut in str(files["strace"]) for cut in ("<detached ...>", "<pid changed to")), files


def test_detach_on_execve_counts_and_waits_like_strace(kernel, tmp_path):
    # -c: the exec that lets a process go is not counted (strace never
    # sees it return), nor anything after; the messages on stderr.
    script = "ls / > /dev/null; cat /etc/hostname > /dev/null; /bin/true; exec date > /dev/null"
    st, sy = _both("-c", "-f", "-b", "execve", "sh", "-c", script)
    assert sorted(_table(sy.stderr)) == sorted(_table(st.stderr)), (st.stderr, sy.stderr)

    def messages(text: str) -> str:
        return _same_run("\n".join(line for line in text.splitlines() if "Process" in line))

    assert messages(st.stderr) and messages(sy.stderr) == messages(st.stderr), (st.stderr, sy.stderr)
    # A child let go is not waited for (strace's neither; its output not
    # to the pipes the test waits on); the command let go is, and the run
    # ends with 0 whatever its status.
    began = time.monotonic()
    r = _run("systrace", "-q", "-f", "-b", "execve", "-e", "trace=none", "sh", "-c",
             "sleep 5 > /dev/null 2>&1 & exit 3")
    assert r.returncode == 3 and time.monotonic() - began < 4, r.stderr
    began = time.monotonic()
    r = _run("systrace", "-b", "execve", "-e", "trace=none", "sh", "-c", "exec sh -c 'sleep 1; exit 7'")
    assert r.returncode == 0 and time.monotonic() - began >= 1 and "exited" not in r.stderr, r.stderr
    # Only execve, as strace's.
    for tracer in ("strace", "systrace"):
        r = _run(tracer, "-b", "read", "true")
        assert r.returncode == 1 and f"{tracer}: Syscall 'read' for -b isn't supported" in r.stderr, r.stderr


def test_detach_on_execve_of_attached_processes_like_strace(kernel, tmp_path):
    # -p: every exec lets a process go, the first too; then the run ends,
    # the messages on stderr though the trace is in a file.
    texts = {}
    for tracer in ("strace", "systrace"):
        target = subprocess.Popen(["sh", "-c", "read x; exec /bin/true"], stdin=subprocess.PIPE)
        out = tmp_path / tracer
        argv = ["strace"] if tracer == "strace" else [sys.executable, "-m", "systrace"]
        t = subprocess.Popen([*argv, "-o", str(out), "-b", "execve", "-e", "trace=read,execve", "-p",
                              str(target.pid)], stderr=subprocess.PIPE, text=True)
        first = t.stderr.readline()  # once attached
        assert "attached" in first, first
        # strace says so before its attach has run the interrupted read
        # again: the first byte sent sooner is read before it sees the call.
        time.sleep(0.5)
        target.stdin.write(b"go\n")
        target.stdin.close()
        assert target.wait(timeout=10) == 0
        _, err = t.communicate(timeout=10)
        err = first + err
        assert t.returncode == 0, err
        texts[tracer] = (_same_run(out.read_text()), _same_run(err))
    assert texts["systrace"] == texts["strace"] and "<detached ...>" in texts["strace"][0], texts


def _seconds(text: str) -> dict:
    """The -c table's seconds by syscall."""
    rows = text.split("\n------")[1].splitlines()[1:]
    return {line.split()[-1]: float(line.split()[1]) for line in rows}


def test_summary_times_what_the_calls_ran_like_strace_and_w_what_they_took(kernel):
    # strace -c shows the time the calls ran (system time), not the time
    # a sleep slept: the reads of 500 MB of zeros come first, and the
    # sleep, a wake-up's few ms at most (one tracer showed 2.7 ms in CI,
    # more than the writes to /dev/null took), far under its 0.3 s; -w
    # shows each call's time from entry to exit, the sleep first.
    args = ("-f", "-e", "trace=clock_nanosleep,read,write", "--", "sh", "-c",
            "sleep 0.3; dd if=/dev/zero of=/dev/null bs=1M count=500 status=none")
    for wall in ((), ("-w",)):
        steal = Steal()
        st, sy = _both("-c", *wall, *args)
        stolen = steal.ns() / 1e9
        for tracer, text in (("strace", st.stderr), ("systrace", sy.stderr)):
            seconds = _seconds(text)
            assert set(seconds) == {"clock_nanosleep", "read", "write"}, (tracer, text)
            if wall:
                assert seconds["clock_nanosleep"] >= 0.3 and _table(text)[0][0] == "clock_nanosleep", (tracer, text)
            else:
                # With steal, the sleep may show it as time run (conftest.Steal).
                assert seconds["clock_nanosleep"] < 0.03 + stolen, (tracer, text, stolen)
                assert _table(text)[0][0] == "read" or stolen, (tracer, text)


SLEEPS = "import time; time.sleep(0.05); time.sleep(0.25)"


@pytest.mark.parametrize("overhead", ["100ms", "100000", "0.1s", "1e5", "+100000us", "100000000ns"])
def test_overhead_is_taken_off_each_call_down_to_0_like_strace(kernel, tmp_path, overhead):
    # Two sleeps of 0.05 and 0.25 s, -O 0.1 s: 0 + 0.15, not 0.3 - 0.2
    # (taken off the sum), nor 0.3 (not taken), for strace and systrace.
    args = ("-w", "-O", overhead, "-e", "trace=clock_nanosleep", "--", "/usr/bin/python3", "-c", SLEEPS)
    st, sy = _both("-c", *args)
    for tracer, text in (("strace", st.stderr), ("systrace", sy.stderr)):
        seconds = _seconds(text)["clock_nanosleep"]
        assert 0.15 <= seconds < 0.2 and _table(text) == [("clock_nanosleep", 2, 0)], (tracer, text)
    # -C's table, and a replay's (from the recorded times) take it too.
    recording = tmp_path / "r.parquet"
    r = _run("systrace", "-C", "--record", str(recording), *args)
    assert r.returncode == 0 and 0.15 <= _seconds(r.stderr)["clock_nanosleep"] < 0.2, r.stderr
    r = _run("systrace", "--replay", str(recording), "-c", "-O", overhead)
    assert r.returncode == 0 and 0.15 <= _seconds(r.stderr)["clock_nanosleep"] < 0.2, r.stderr


def test_overhead_takes_the_system_time_down_to_0_and_bad_values_are_refused_like_strace(kernel):
    # -c's own time (the time the calls ran) of `ls`: a second off each
    # call leaves 0 in every row, as strace's.
    st, sy = _both("-c", "-O", "1s", "--", "ls", "/")
    for tracer, text in (("strace", st.stderr), ("systrace", sy.stderr)):
        seconds = _seconds(text)
        assert len(seconds) > 10 and set(seconds.values()) == {0.0}, (tracer, text)
    r = _run("systrace", "-c", "--", "ls", "/")
    assert r.returncode == 0 and sum(_seconds(r.stderr).values()) > 0, r.stderr
    for bad in ("foo", "-5", "5 ms", "1e400", "5min", "", "0x10"):
        st, sy = _run("strace", "-O", bad, "true"), _run("systrace", "-O", bad, "true")
        assert st.returncode == sy.returncode == 1, (bad, st.stderr, sy.stderr)
        assert f"invalid -O argument: '{bad}'" in st.stderr and f"systrace: invalid -O argument: '{bad}'" in sy.stderr, (
            bad, st.stderr, sy.stderr)


def test_count_and_trace_like_strace(kernel, tmp_path):
    # -C: the calls, then the table (-S name: an order both give alike),
    # in -o's file (the command's own error goes to stderr).
    args = ("-C", "-S", "name", "-e", "trace=openat,read,close", "--", "cat", "/etc/hostname", "/nonexistent")
    texts = []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-o", str(out), *args)
        assert r.returncode == 1 and "No such file" in r.stderr, r.stderr
        texts.append(out.read_text())
    theirs, ours = texts

    def calls(text: str) -> list:
        return [re.sub(r" +=", " =", line) for line in text.split("% time")[0].splitlines()]

    assert calls(ours) == calls(theirs) and calls(ours)[-1] == "+++ exited with 1 +++", ours
    assert _table(ours) == _table(theirs) and len(_table(theirs)) == 3, ours
    r = _run("systrace", "-c", "-w", "-e", "trace=close", "--", "true")
    assert r.returncode == 0 and _table(r.stderr)[0][0] == "close", r.stderr
    for bad, why in ((["-c", "-C"], "-c/--summary-only and -C/--summary are mutually exclusive"),
                     (["-C", "--format", "json"], "-C prints the calls")):
        r = _run("systrace", *bad, "--", "true")
        assert r.returncode == 1 and why in r.stderr, r.stderr


# Threads blocked in calls when another ends the process (exit_group),
# and a process that sends itself SIGKILL: their calls never return to
# them, and strace, which sees no exit of them, does not count them. But a
# SIGTERM at its default, taken under ptrace as a signal first, ends the
# call it comes in (ERESTART_RESTARTBLOCK): strace counts that one.
KILLED_IN_CALLS = {
    "exit_group": (["/usr/bin/python3", "-c", """
import os, threading, time
for _ in range(3):
    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
time.sleep(0.3)
os._exit(0)
"""], 0, [("clock_nanosleep", 1, 0)]),
    "sigkill": (["/usr/bin/python3", "-c", """
import os
os.getpid()
os.kill(os.getpid(), 9)
"""], -9, [("getpid", 2, 0)]),
    "sigterm": (["timeout", "0.3", "sleep", "10"], 124, [("clock_nanosleep", 1, 1)]),
}


@pytest.mark.parametrize("how", sorted(KILLED_IN_CALLS))
def test_count_leaves_out_calls_their_threads_are_killed_in_like_strace(kernel, tmp_path, how):
    # Before: the three sleeps (ERESTART_RESTARTBLOCK) and the kill were
    # counted, as errors and as a call the process never saw return.
    argv, status, table = KILLED_IN_CALLS[how]
    tables = []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-f", "-c", "-S", "name", "-o", str(out), "-e", "trace=clock_nanosleep,getpid,kill", "--",
                 *argv)
        assert r.returncode == status, r.stderr
        tables.append(_table(out.read_text()))
    theirs, ours = tables
    assert ours == theirs, (theirs, ours)
    assert [row for row in ours if row[0] != "kill" or how != "sigterm"] == table, ours  # not timeout's kills


# The first thread makes five calls and sleeps; another thread execs
# sync(1), which takes the process's id: strace without -f traced the first
# thread, which the exec killed, and has lost the process.
THREAD_EXECS = """
import os, threading, time
def run():
    time.sleep(0.3)
    os.execv("/bin/sync", ["sync"])
threading.Thread(target=run).start()
for _ in range(5):
    os.getppid()
time.sleep(30)
"""


def test_count_without_f_stops_at_an_exec_by_another_thread_like_strace(kernel, tmp_path):
    # Before: the new program's sync was counted (its thread is the
    # process's first by id once the exec is done).
    tables = []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-c", "-o", str(out), "-e", "trace=getppid,sync,clock_nanosleep", "--",
                 "/usr/bin/python3", "-c", THREAD_EXECS)
        assert r.returncode == 0, r.stderr
        tables.append(_table(out.read_text()))
    theirs, ours = tables
    assert ours == theirs == [("getppid", 5, 0)], (theirs, ours)


def _libc() -> str:
    out = subprocess.run(["ldd", "/bin/true"], capture_output=True, text=True).stdout
    return re.search(r"libc\.so\.6 => (\S+)", out)[1]


@pytest.mark.parametrize("paths, command", [
    (["/etc/passwd"], ["sh", "-c", "cat /etc/passwd | wc -l; wc -c /etc/passwd /etc/group"]),
    # A library: its openat, read, fstat, the mmaps of its fd, close.
    (["LIBC"], ["ls", "/"]),
    # The fds poll and select wait on (only the calls with the file's).
    (["/etc/hostname"], ["/usr/bin/python3", "-c", "import select, os\nf = open('/etc/hostname')\n"
                         "r, w = os.pipe()\nselect.select([r, f], [], [], 0)\nselect.select([r], [w], [], 0)\n"
                         "p = select.poll(); p.register(f); p.register(r); p.poll(0)\n"
                         "q = select.poll(); q.register(w); q.poll(0)"]),
    # Two paths, one through a symlink (strace says where it resolves):
    # stdin (fd 0, known at the launch) and a file by name.
    (["/etc/hostname", "/proc/self/fd/0"], ["cat", "-", "/etc/hostname"]),
])
def test_path_filter_like_strace(kernel, tmp_path, paths, command):
    paths = [_libc() if p == "LIBC" else p for p in paths]
    args = [arg for p in paths for arg in ("-P", p)]
    texts, errs = [], []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        # Where a SIGCHLD lands is timing: not the filter's to show.
        r = _run(tracer, "-f", "-e", "signal=none", "-o", str(out), *args, "--", *command,
                 stdin=open("/etc/hostname"))
        assert r.returncode == 0, r.stderr
        # Pids and addresses differ between the runs.
        text = re.sub(r"si_pid=\d+", "si_pid=N", re.sub(r"^\d+ +", "", out.read_text(), flags=re.M))
        texts.append(sorted(re.sub(r" +=", " =", re.sub(r"0x[0-9a-f]{6,}", "ADDR", text)).splitlines()))
        errs.append([line.split(": ", 1)[1] for line in r.stderr.splitlines() if "Requested path" in line])
    theirs, ours = texts
    assert ours == theirs and len(ours) > 3, (theirs, ours)
    assert errs[1] == errs[0]


def test_path_filter_refusals():
    for bad, why in ((["-c"], "-P is decided"), (["--format", "kernel"], "-P shows calls")):
        r = _run("systrace", "-P", "/etc/hostname", *bad, "--", "true")
        assert r.returncode == 1 and why in r.stderr, r.stderr


def _joined(text: str) -> list:
    """The lines of `text`, a call cut by another thread's line (strace's,
    and ours, as timing has it: the thread's exit cut by the child's
    exit_group once) joined into one, with one space before ' = '."""
    pending, lines = {}, []
    for line in text.splitlines():
        m = re.match(r"^(\d+ +)?(.*) <unfinished \.\.\.>$", line)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^(\d+ +)?(?:\[ *\d+\] )?<\.\.\. \w+ resumed>(.*)$", line)
        if m and m.group(1) in pending:
            line = (m.group(1) or "") + pending.pop(m.group(1)) + m.group(2)
        lines.append(re.sub(r" +=", " =", line))
    return lines


def test_syscall_numbers_like_strace(kernel, tmp_path):
    # -n: [nr] after the time, counted in the column; an exit's line shows
    # the exit's number (exit_group, a thread's exit).
    command = ["/usr/bin/python3", "-c", "import os, threading\nt = threading.Thread(target=os.getppid)\n"
               "t.start(); t.join()\nif os.fork() == 0: os._exit(3)\nos.wait()"]
    texts = []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-n", "-f", "-o", str(out), "-e", "trace=getppid,wait4,exit,exit_group",
                 "-e", "signal=none", "--", *command)
        assert r.returncode == 0, r.stderr
        text = re.sub(r"^\d+ +", "", "\n".join(_joined(out.read_text())), flags=re.M)
        # getppid is the tracer's pid; the wait may be cut by the child's lines.
        texts.append(sorted(re.sub(r"(getppid\(\) += )\d+", r"\1N", line) for line in text.splitlines()
                            if "wait4" not in line))
        assert re.search(rf"^\[{_native_nr('wait4'):>4}\] (wait4|<\.\.\. wait4)", text, re.M), text
    theirs, ours = texts
    assert ours == theirs, (theirs, ours)
    nr = {name: _native_nr(name) for name in ("getppid", "wait4", "exit", "exit_group")}
    assert f"[{nr['getppid']:>4}] getppid() " in "\n".join(ours) and \
        f"[{nr['exit']:>4}] +++ exited with 0 +++" in ours, ours


def _native_nr(name: str) -> int:
    import systrace
    return systrace.syscall_nr(name)


@pytest.mark.parametrize("quiet", [["-q"], ["-qq"], ["-e", "quiet=attach"], ["-e", "quiet=exit"],
                                   ["-e", "quiet=!attach"], ["-e", "quiet=all"], ["-e", "quiet=none"],
                                   ["-e", "quiet=exits"], ["-e", "q=exit"]])
def test_quiet_like_strace(kernel, quiet):
    args = ("-f", *quiet, "-e", "trace=none", "-e", "signal=none", "--", "sh", "-c", "/bin/true; /bin/true")
    st, sy = _both(*args)

    def lines(text: str, prog: str) -> list:
        # A pid is padded to 5 columns: the two runs' pids may have
        # different lengths (the pids wrap at pid_max).
        return [re.sub(r"\d+", "N", re.sub(r"\[pid +\d+\]", "[pid N]", line.replace(f"{prog}: ", "PROG: ")))
                for line in text.splitlines()]

    assert lines(sy.stderr, "systrace") == lines(st.stderr, "strace"), (st.stderr, sy.stderr)


def test_quiet_path_resolution_and_seccomp_bpf(kernel):
    for tracer in ("strace", "systrace"):
        r = _run(tracer, "-P", "hostname", "-e", "trace=none", "--", "true", cwd="/etc")
        assert f'{tracer}: Requested path "hostname" resolved into "/etc/hostname"' in r.stderr, r.stderr
        r = _run(tracer, "-e", "quiet=path-resolution", "-P", "hostname", "--", "true", cwd="/etc")
        assert "Requested path" not in r.stderr, r.stderr
    st, sy = _both("--seccomp-bpf", "-f", "-e", "trace=close", "--", "true")
    assert re.sub(r" +=", " =", sy.stderr) == re.sub(r" +=", " =", st.stderr)
    r = _run("systrace", "-e", "quiet=bogus", "--", "true")
    assert r.returncode == 1 and "'bogus' is none of attach, exit" in r.stderr, r.stderr
    r = _run("systrace", "-q", "-e", "quiet=exit", "--", "true")
    assert r.returncode == 1 and "-q and -e quiet/--quiet cannot be provided simultaneously" in r.stderr, r.stderr


# A process with a second thread and a child that runs a program: four
# threads, each with lines that do not depend on timing.
PER_THREAD_PROGRAM = """
import os, subprocess, threading
t = threading.Thread(target=lambda: os.write(1, b"from the thread\\n")); t.start(); t.join()
subprocess.run(["/bin/true"])
os.write(1, b"done\\n")
"""


def _thread_files(prefix) -> list:
    """(tid, text) of PREFIX.TID files, by tid: the order the threads began."""
    found = [(int(p.name.rsplit(".", 1)[1]), p.read_text()) for p in prefix.parent.glob(prefix.name + ".*")]
    return sorted(found)


def _without_ids(text: str, tids) -> str:
    for tid in tids:
        text = re.sub(rf"\b{tid}\b", "<tid>", text)
    text = re.sub(r"0x[0-9a-f]{6,}", "<addr>", text)
    return re.sub(r" +=", " =", text)


def test_a_file_per_thread_like_strace(kernel, tmp_path):
    options = ["-e", "trace=openat,write,clone,clone3,execve,exit_group,wait4", "-e", "signal=none"]
    files = {}
    for tracer in ("strace", "systrace"):
        (tmp_path / tracer).mkdir()
        prefix = tmp_path / tracer / "trace"
        r = _run(tracer, "-ff", "-o", str(prefix), *options, "--", "/usr/bin/python3", "-c", PER_THREAD_PROGRAM)
        assert r.returncode == 0 and r.stdout == "from the thread\ndone\n", (r.stdout, r.stderr)
        assert not r.stderr, r.stderr
        files[tracer] = _thread_files(prefix)
    theirs, ours = files["strace"], files["systrace"]
    # The process, its thread, its child (forked, then true's execve).
    assert len(ours) == len(theirs) >= 3, ([t for t, _ in ours], [t for t, _ in theirs])
    for (tid_o, text_o), (tid_t, text_t) in zip(ours, theirs):
        # No pid prefix: the file says whose lines they are.
        assert not re.match(r"\d+ ", text_o), text_o
        assert _without_ids(text_o, [t for t, _ in ours]) == _without_ids(text_t, [t for t, _ in theirs]), \
            (tid_o, text_o, tid_t, text_t)
    # The thread's file holds its write and its end, nothing of the others.
    assert any(text.startswith('write(1, "from the thread\\n", 16)') for _, text in ours), ours


def test_a_file_per_thread_as_strace_asks_for_it(kernel, tmp_path):
    # --output-separately is -ff's file part (-A's appending: a Rust test).
    prefix = tmp_path / "t"
    r = _run("systrace", "--output-separately", "-o", str(prefix), "-e", "trace=exit_group", "--", "true")
    assert r.returncode == 0, r.stderr
    ((_, text),) = _thread_files(prefix)
    assert re.sub(r" +=", " =", text) == "exit_group(0) = ?\n+++ exited with 0 +++\n", text
    for refused, says in ((["-c"], "mutually exclusive"), (["-C"], "mutually exclusive"),
                          (["--format", "json"], "strace's text")):
        r = _run("systrace", "-ff", "-o", str(prefix), *refused, "--", "true")
        assert r.returncode == 1 and says in r.stderr, (refused, r.stderr)
    r = _run("systrace", "-ff", "-o", str(tmp_path / "no-such-dir" / "t"), "--", "true")
    assert r.returncode == 1 and "can't fopen" in r.stderr, r.stderr


# x= is strace's other name of raw=.
@pytest.mark.parametrize("raw", ["raw=openat,read,close,newfstatat,fstat,lseek", "raw=all", "raw=%file", "x=all"])
def test_raw_calls_like_strace(kernel, tmp_path, raw):
    # -e raw=: the arguments undecoded and the result in hex, an error as
    # `-1 ENOENT (...)` and no -y target; the other calls decoded as ever.
    command = ["/usr/bin/python3", "-c",
               "import os\nfd = os.open('/etc/hostname', os.O_RDONLY)\nos.read(fd, 3)\nos.lseek(fd, 0, 0)\n"
               "os.close(fd)\ntry: os.open('/nonexistent', 0)\nexcept OSError: pass\nos.write(1, b'')"]
    texts = []
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-y", "-o", str(out), "-e", "trace=openat,read,lseek,close,write", "-e", raw,
                 "--", *command)
        assert r.returncode == 0, r.stderr
        # Addresses differ between two runs (ASLR), and the pipe of the
        # output: only those are masked, and the padding before ` = ` that
        # an address's length moves.
        texts.append([re.sub(r" +(= \S+)", r" \1", re.sub(r"0x(?!ffffff9c\b)[0-9a-f]{6,}", "ADDR",
                                                         re.sub(r"pipe:\[\d+\]", "pipe", line)))
                      for line in out.read_text().splitlines()])
    theirs, ours = texts
    assert ours == theirs, (theirs, ours)
    text = "\n".join(ours)
    if raw == "raw=%file":  # openat only: the others decoded, with -y's targets
        assert re.search(r'^read\(3</etc/hostname>, "[^"]*", 3\) += \d$', text, re.M), text
    else:
        assert re.search(r"^read\(0x3, ADDR, 0x3\) += 0x\d$", text, re.M), text
        assert re.search(r"^lseek\(0x3, 0, 0\) += 0$", text, re.M), text
    assert re.search(r"^openat\(0xffffff9c, ADDR, 0x80000, 0\) += -1 ENOENT \(No such file or directory\)$", text, re.M), text


def test_raw_refusals(kernel):
    r = _run("systrace", "-e", "raw=nosuchcall", "--", "true")
    assert r.returncode == 1 and "raw=nosuchcall" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [
    # strace's long options, and its ? and @64 in a set.
    ["--trace=?nosuchcall,openat@64,read", "--successful-only", "--string-limit=4", "--columns=20",
     "--", "cat", "/etc/hostname"],
    ["--trace", "openat", "--failed-only", "--decode-fds", "--", "cat", "/nonexistent", "/etc/hostname"],
    ["--follow-forks", "--quiet=attach,exit", "--trace=execve,wait4", "--status=successful",
     "--", "sh", "-c", "true; true"],
    ["--summary-only", "--summary-sort-by=name", "--trace=/^(read|close)$", "--", "cat", "/etc/hostname"],
    # \xNN for what has no escape of its own; -xxx is -xx.
    ["--strings-in-hex=non-ascii-chars", "--trace=write",
     "--", "sh", "-c", "printf 'a\\001b\\n\\377\"\\0012' >/dev/null"],
    ["-xxx", "--trace=write", "--", "sh", "-c", "printf 'a\\001b' >/dev/null"],
    ["--strings-in-hex=non-ascii", "--raw=close", "-e", "decode-fds=path", "-e", "abbrev=all", "-e", "verbose=all",
     "--trace=read,close", "--", "cat", "/etc/hostname"],
])
def test_long_options_like_strace(kernel, tmp_path, args):
    texts = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "--output", str(out), *args)
        assert r.returncode in (0, 1), (tracer, r.stderr)
        text = re.sub(r"\b\d{3,}\b", "N", re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(r"\s+= ", " = ", out.read_text())))
        if "--summary-only" in args:
            text = str(_table(text))
        texts[tracer] = text
    assert texts["systrace"] == texts["strace"]
    assert texts["strace"].strip(), args


def test_long_option_refusals(kernel):
    for args, message in ((["--absolute-timestamps=ps"], "'ps' is no format (time, unix, none) or precision"),
                          (["--syscall-times=xs"], "--syscall-times=xs: the precisions are s, ms, us and ns"),
                          (["--strings-in-hex=some"], "non-ascii (-x), all (-xx), non-ascii-chars"),
                          (["-e", "verbose=nosuchcall"], "-e 'verbose=nosuchcall': unknown syscall 'nosuchcall'"),
                          (["--trace=read@32"], "32-bit (compat) calls are not traced")):
        r = _run("systrace", *args, "--", "true")
        assert r.returncode == 1 and message in r.stderr, (args, r.stderr)
    # The forms of -t: the same prefix as the short options'.
    shapes = {}
    for args in (["-t"], ["--absolute-timestamps"], ["-tt"], ["--absolute-timestamps=format:time,precision:us"],
                 ["-ttt"], ["--absolute-timestamps=unix,us"], ["--timestamps=unix,us"]):
        r = _run("systrace", *args, "-e", "trace=exit_group", "--", "true")
        assert r.returncode == 0, r.stderr
        shapes[" ".join(args)] = re.sub(r"\d", "9", r.stderr.splitlines()[0].split()[0])
    assert shapes["-t"] == shapes["--absolute-timestamps"] == "99:99:99", shapes
    assert shapes["-tt"] == shapes["--absolute-timestamps=format:time,precision:us"] == "99:99:99.999999", shapes
    assert shapes["-ttt"] == shapes["--absolute-timestamps=unix,us"] == shapes["--timestamps=unix,us"] \
        == "9999999999.999999", shapes


def test_strace_options_without_a_counterpart_are_refused_by_name(tmp_path):
    # Named, with why, and before anything runs: not argparse's
    # "unrecognized arguments", and never the command taken as a value.
    marker = tmp_path / "ran"
    command = ["--", "touch", str(marker)]
    for args, message in ((["-X", "raw"], "-X raw: only strace's default style of constants, abbrev"),
                          (["--const-print-style=verbose"], "--const-print-style=verbose: only"),
                          (["-i"], "-i: the instruction pointer of each call is not supported"),
                          (["-k"], "-k: stack traces are not supported"),
                          (["--stack-traces"], "--stack-traces: stack traces"),
                          (["-DD"], "-D: not supported: the command runs as systrace's child"),
                          (["--daemonize"], "--daemonize=grandchild: not supported"),
                          (["-I", "2"], "-I 2: not supported: systrace never stops"),
                          (["--kill-on-exit"], "--kill-on-exit: not supported"),
                          (["-d"], "-d: strace's debug output has no counterpart"),
                          (["--tips"], "--tips: not supported: strace's tips are about strace's own options"),
                          (["--verbose=%nosuchclass"], "-e 'verbose=%nosuchclass'"),
                          (["-e", "abbrev=nosuchcall"], "-e 'abbrev=nosuchcall': unknown syscall 'nosuchcall'"),
                          (["--inject=read:error=EIO"], "-e inject=...: not supported: systrace traces with eBPF "
                           "and never stops nor changes the traced calls"),
                          (["-e", "fault=read"], "-e fault=...: not supported: systrace traces with eBPF"),
                          (["-e", "kvm=vcpu"], "-e kvm=...: not supported: systrace does not follow KVM"),
                          # A qualifier strace does not know: the whole is a set, as strace's.
                          (["-e", "foo=read"], "-e 'foo=read': unknown syscall 'foo=read'")):
        r = _run("systrace", *args, *command)
        assert r.returncode == 1 and f"systrace: {message}" in r.stderr, (args, r.stderr)
        assert "unrecognized" not in r.stderr and not marker.exists(), (args, r.stderr)
    # strace's defaults, and its deprecated -F (-f, with its warning).
    for args in (["-X", "abbrev"], ["--abbrev=all"], ["--verbose=all"], ["-v"], ["-fv"], ["--no-abbrev"],
                 ["-e", "abbrev=!stat"], ["--verbose=none"]):
        r = _run("systrace", *args, "-o", "/dev/null", *command)
        assert r.returncode == 0 and marker.exists(), (args, r.stderr)
        marker.unlink()
    st, sy = _both("-F", "-e", "trace=execve", "sh", "-c", "/bin/true; true")
    for r in (st, sy):
        assert "option -F is deprecated, please use -f/--follow-forks instead" in r.stderr, r.stderr
        assert r.stderr.count('execve("/bin/true"') == 1, r.stderr


@pytest.mark.parametrize("options", [
    ["--absolute-timestamps=unix,ns"], ["--absolute-timestamps=format:time,precision:ms"],
    ["--absolute-timestamps=unix,s"], ["--timestamps=precision:ns"], ["--relative-timestamps=ms"],
    ["--relative-timestamps=s"], ["-t", "--relative-timestamps=ns"], ["--absolute-timestamps=unix,ms", "-r"],
    ["--syscall-times=ns"], ["--syscall-times=ms"], ["--syscall-times=s"], ["--syscall-times"],
    # A bare long option with an optional value does not take the command as its value.
    ["-e", "trace=clock_nanosleep", "--absolute-timestamps"],
])
def test_time_precisions_like_strace(kernel, options):
    from systrace import _native

    for bad in ((None, 6, 4), (1, 6, 6)):
        with pytest.raises(ValueError, match="a precision is 0, 3, 6 or 9 digits"):
            _native.Printer(precision=bad)
    # strace's s, ms, us and ns for -t's, -r's and -T's times: the same
    # shape of line, digit for digit.
    shapes = {}
    trace = [] if "-e" in options else ["-e", "trace=clock_nanosleep"]
    for tracer in ("strace", "systrace"):
        r = _run(tracer, *trace, *options, "sleep", "0.01")
        assert r.returncode == 0, (tracer, r.stderr)
        shapes[tracer] = re.sub(r"\d", "9", re.sub(r"0x[0-9a-f]+", "ADDR", r.stderr.splitlines()[0]))
    assert shapes["systrace"] == shapes["strace"], shapes


@pytest.mark.parametrize("columns", ["name,calls,errors", "calls,name", "errors,count", "count,error,syscall"])
def test_summary_columns_like_strace(kernel, columns):
    # -U: the columns, their order, widths and the blank zero errors, as
    # strace's (these columns hold no times, which differ between runs).
    args = ("-c", "-S", "name", "-U", columns, "--", "cat", "/etc/hostname", "/nonexistent")
    st, sy = _run("strace", *args), _run("systrace", *args)
    assert st.returncode == sy.returncode == 1, (st.stderr, sy.stderr)
    table = lambda r: r.stderr[r.stderr.index("\n") + 1:]  # after cat's error
    assert table(sy) == table(st)
    assert " total" in table(st) or table(st).splitlines()[-1].startswith("total"), table(st)


def test_summary_column_headers_and_refusals(kernel):
    r = _run("systrace", "-c", "-U", "avg-time,name,total-time,time", "--", "true")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[0] == " usecs/call syscall              seconds % time", r.stderr
    for args, message in ((["-c", "-U", "max-time"], "no shortest or longest call"),
                          (["-c", "-U", "calls,count"], "more than once: 'count'"),
                          (["-c", "-U", "bogus"], "unknown column name: 'bogus'"),
                          (["-c", "-U", "calls,none"], "unknown column name: 'none'"),
                          (["-U", "calls"], "-U/--summary-columns must be given with (-c/--summary-only or -C/--summary)")):
        r = _run("systrace", *args, "--", "true")
        assert r.returncode == 1 and message in r.stderr, (args, r.stderr)


DUMPED = """\
import os, socket
r, w = os.pipe()
r, w = os.dup2(r, 20), os.dup2(w, 21)
a, b = socket.socketpair()
a, b = os.dup2(a.detach(), 22), os.dup2(b.detach(), 23)
a, b = socket.socket(fileno=a), socket.socket(fileno=b)
os.write(w, b"hello world, this is a test of the dump\\n\\x00\\x01\\xff")
os.read(r, 100)
os.writev(w, [b"ab", b"cdef"])
os.readv(r, [bytearray(3), bytearray(10)])
a.sendmsg([b"xy", b"z"])
b.recvmsg(10)
a.send(b"q" * 20)
b.recv(100)
os.write(w, b"x" * 5000)
os.read(r, 5000)
"""


def test_read_and_write_dumps_like_strace(kernel, tmp_path):
    # strace's -e read=SET and -e write=SET: the data moved on those fds,
    # in hex after each line, per buffer for iovecs (readv, sendmsg...).
    script = tmp_path / "dumped.py"
    script.write_text(DUMPED)
    texts = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        r = _run(tracer, "-o", str(out), "-e", "trace=read,write,readv,writev,sendmsg,recvmsg,sendto,recvfrom",
                 "-e", "read=20,23", "--write=21,22", sys.executable, str(script))
        assert r.returncode == 0, (tracer, r.stderr)
        text = re.sub(r"0x[0-9a-f]{8,}", "ADDR", out.read_text())
        texts[tracer] = text[text.index('write(21, "hello'):]
    # Up to the 5000-byte read: past 4096 bytes systrace says what it
    # did not capture, where strace dumps it all.
    cut = texts["strace"].index(" | 01000 ")
    assert texts["systrace"][:cut] == texts["strace"][:cut]
    assert texts["systrace"][cut:].startswith(" * 904 more bytes not captured\n"), texts["systrace"][cut:cut + 200]
    assert texts["strace"].count(" | 00000 ") == texts["systrace"].count(" | 00000 ") == 13
    r = _run("systrace", "-e", "read=x", "true")
    assert r.returncode == 1 and "-e read=x: 'x' is no fd" in r.stderr, r.stderr


TRUNCATED = """\
import os, socket
r, w = os.pipe()
w = os.dup2(w, 21)
os.writev(w, [b"ab", b"", b"cd"])
c, d = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
c, d = os.dup2(c.detach(), 24), os.dup2(d.detach(), 25)
c, d = socket.socket(fileno=c), socket.socket(fileno=d)
c.send(b"datagram")
d.recvmsg(0, 0, socket.MSG_PEEK | socket.MSG_TRUNC)
d.recvfrom(4, socket.MSG_TRUNC)
"""


def test_dumps_show_what_the_buffers_hold(kernel, tmp_path):
    # MSG_TRUNC returns the datagram's length, past the buffers: the dump
    # is of what they hold (recvmsg without a buffer dumps nothing, as
    # strace's; strace dumps 8 bytes for recvfrom's 4, reading past the
    # buffer, and stops a writev's dump at an empty buffer: here the
    # buffer's 4 bytes, and the buffer after the empty one).
    script = tmp_path / "truncated.py"
    script.write_text(TRUNCATED)
    out = tmp_path / "trace"
    r = _run("systrace", "-o", str(out), "-e", "trace=writev,recvmsg,recvfrom", "-e", "read=25", "-e", "write=21",
             sys.executable, str(script))
    assert r.returncode == 0, r.stderr
    text = re.sub(r"0x[0-9a-f]{8,}", "ADDR", out.read_text())
    assert text.endswith(
        'writev(21, [{iov_base="ab", iov_len=2}, {iov_base="", iov_len=0}, {iov_base="cd", iov_len=2}], 3) = 4\n'
        " * 2 bytes in buffer 0\n"
        " | 00000  61 62                                             ab               |\n"
        " * 2 bytes in buffer 2\n"
        " | 00000  63 64                                             cd               |\n"
        "recvmsg(25, {msg_name=ADDR, msg_namelen=110 => 0, msg_iov=[{iov_base=\"\", iov_len=0}], msg_iovlen=1, "
        "msg_controllen=0, msg_flags=MSG_TRUNC}, MSG_PEEK|MSG_TRUNC) = 8\n"
        'recvfrom(25, "data", 4, MSG_TRUNC, ADDR, [110 => 0]) = 8\n'
        " | 00000  64 61 74 61                                       data             |\n"
        "+++ exited with 0 +++\n"), text


PIDS = """\
import ctypes, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def work():
    libc.prctl(15, b'work>1 "x"', 0, 0, 0)
    os.kill(os.getpid(), 0)
    libc.syscall(186)  # gettid
t = threading.Thread(target=work)
t.start()
t.join()
pid = os.fork()
if pid == 0:
    # Renamed after the parent's waitid began (strace holds a new child
    # at its start; systrace does not, and would see it renamed earlier).
    time.sleep(0.1)
    libc.prctl(15, b"child", 0, 0, 0)
    os._exit(3)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
os.kill(pid, 0)
os.sched_getaffinity(pid)
os.getpgid(pid)
os.waitpid(pid, 0)
os.getpid()
libc.capget((ctypes.c_uint32 * 2)(0x20080522, os.getpid()), (ctypes.c_uint32 * 6)())
import socket, struct
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
creds = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
b.recvmsg(10, 64)
b.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
import signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
info = (ctypes.c_int * 32)(signal.SIGUSR1, 0, -1, 0, os.getpid(), 0)  # SI_QUEUE, si_pid, si_uid
libc.syscall(129, os.getpid(), signal.SIGUSR1, info)  # rt_sigqueueinfo
signal.sigtimedwait({signal.SIGUSR1}, 1)
import subprocess
subprocess.run(["/bin/sleep", "0.1"])  # vfork: its result named after the exec
"""


def _pid_lines(text: str) -> list:
    """-f -o FILE lines with -Y, each call whole, every pid by its order
    among them, addresses and times out."""
    rows, pending = [], {}
    for line in text.splitlines():
        m = re.match(r"^(\d+)(<(?:[^>\\]|\\.)*>)? +(.*)$", line)
        assert m, line
        pid, rest = m.group(1), m.group(3)
        if rest.endswith(" <unfinished ...>"):
            pending[pid] = (m.group(2), rest[:-len(" <unfinished ...>")])
            continue
        resumed = re.match(r"<\.\.\. \w+ resumed>(.*)$", rest)
        if resumed and pid in pending:
            comm, start = pending.pop(pid)
            rest = start + resumed.group(1)
        rows.append(f"{pid}{m.group(2) or ''} {rest}")
    # Numbered by value, which is the order the kernel gave them (the
    # script makes the thread, then the child, then the vfork's), not
    # by first appearance, which the interleaving of lines decides.
    # Each line's prefix has the name too (`9267<python3> `).
    pids = set(re.findall(r"\b(\d{2,})<", "\n".join(rows)))
    order = {pid: f"P{n}" for n, pid in enumerate(sorted(pids, key=int))}
    out = []
    for row in rows:
        row = re.sub(r"0x[0-9a-f]+", "ADDR", row)
        # waitid's siginfo times: memory of Python's the kernel did not write.
        row = re.sub(r"(si_[us]time)=[^,}]*", r"\1=T", row)
        # strace pads a line begun while another process's was cut short
        # of its column at times.
        row = re.sub(r"\) +=", ") =", row)
        row = re.sub(r"\b\d{2,}\b", lambda m: order.get(m.group(0), m.group(0)), row)
        out.append(row)
    return sorted(out)


def test_decode_pids_like_strace(kernel, tmp_path):
    # -Y: the ids of processes and threads with their command names, in
    # the arguments, the results, the siginfo and each line's prefix; a
    # reaped process has none (wait4's result, the SIGCHLD after it), a
    # process group none; a thread's own name (escaped as strace's).
    script = tmp_path / "pids.py"
    script.write_text(PIDS)
    calls = ("trace=kill,clone,clone3,wait4,waitid,getpid,gettid,sched_getaffinity,getpgid,prctl,capget,"
             "sendmsg,recvmsg,getsockopt,rt_sigqueueinfo,rt_sigtimedwait,vfork,exit_group")
    traces = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.out"
        r = _run(tracer, "-f", "-Y", "-q", "-e", calls, "-e", "signal=SIGCHLD", "-o", str(out),
                 "/usr/bin/python3", str(script))
        assert r.returncode == 0, (tracer, r.stderr)
        traces[tracer] = _pid_lines(out.read_text())
    # strace names vfork's child from /proc when it prints, which on a busy
    # machine can be before the exec renamed it; systrace names it from
    # the exec's filename (the parent resumes only once the exec cannot
    # fail), as strace does when it is not raced.
    # The parent's wait4 that follows can be printed before it too.
    vforked = re.findall(r"vfork\(\) += (P\d+)<", "\n".join(traces["strace"]))
    traces["strace"] = [re.sub(rf"\b({'|'.join(vforked)})<python3>", r"\1<sleep>", line) if vforked else line
                        for line in traces["strace"]]
    assert traces["systrace"] == traces["strace"]
    text = "\n".join(traces["systrace"])
    for shown in ('P1<work\\0761 \\"x\\"> kill(P0<python3>, 0)', "wait4(P2<child>, ", "getpgid(P2<child>)",
                  "si_pid=P2<child>", "sched_getaffinity(P2<child>, ", "parent_tid=[P1<python3>]",
                  'P1<python3> prctl(PR_SET_NAME, "work>1', "_LINUX_CAPABILITY_VERSION_3, pid=P0<python3>}",
                  "SO_PEERCRED, {pid=P0<python3>, "):
        assert shown in text, (shown, text)
    # The credentials a message carries, sent and received.
    assert text.count("cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=P0<python3>, ") == 2, text
    assert re.search(r"vfork\(\) += P\d+<sleep>", text), text
    # A queued siginfo's sender, as sent and as waited for.
    assert text.count("si_code=SI_QUEUE, si_pid=P0<python3>, ") == 2, text
    assert re.search(r"NULL\) = P2\n", text), text


def test_decode_pids_names_netlink_port_ids_like_strace(kernel, tmp_path):
    # A netlink socket's port id is its process's id: strace -Y names it
    # in the address (bind, getsockname, recvmsg's msg_name) and in each
    # message's header; 0 (the kernel) and a port id that is no process's
    # get no name.
    ids = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.out"
        r = _run(tracer, "-Y", "-e", "trace=socket,bind,getsockname,sendto,sendmsg,recvmsg", "-o", str(out),
                 "ip", "-4", "addr", "show", "lo")
        assert r.returncode == 0, (tracer, r.stderr)
        text = out.read_text()
        me = re.search(r"getsockname\(\d+, \{sa_family=AF_NETLINK, nl_pid=(\d+)", text)
        assert me, text
        # A second socket's port id is the kernel's random negative number.
        ids[tracer] = [(f, "ME" if v == me[1] else "RANDOM" if v.startswith("-") else v, name)
                       for f, v, name in re.findall(r"\b(nl_pid|nlmsg_pid)=(-?\d+)(<[^>]*>)?", text)]
    assert ids["systrace"] == ids["strace"], ids
    assert ("nlmsg_pid", "ME", "<ip>") in ids["systrace"] and ("nl_pid", "0", "") in ids["systrace"], ids


def test_decode_pids_names_the_command_s_exec_as_forked_by_the_tracer(kernel, tmp_path):
    # The command's execve runs in a process the tracer forked: strace's
    # shows `N<strace> execve(`; systrace's, made by a thread of its own,
    # shows the tracer's name too, not that thread's.
    script = os.path.join(os.path.dirname(sys.executable), "systrace")
    assert os.access(script, os.X_OK), script
    for argv, name in ((["strace"], "strace"), ([script], "systrace")):
        out = tmp_path / f"{name}.out"
        r = subprocess.run([*argv, "-f", "-Y", "-o", str(out), "-e", "trace=execve", "--", "sh", "-c", "true"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        first = out.read_text().splitlines()[0]
        assert re.match(rf"\d+<{name}> execve\(\"/usr/bin/sh\", ", first), first


def test_decode_pids_options(kernel, tmp_path):
    # The long forms take their value (never the command), and pidns,
    # which systrace cannot translate, is refused by name.
    for args in (["--decode-pids=comm"], ["--decode-pids", "comm"], ["-e", "decode-pids=comm"], ["-Y"]):
        r = _run("systrace", *args, "-e", "trace=getpid", "/usr/bin/python3", "-c", "import os; os.getpid()")
        assert r.returncode == 0, (args, r.stderr)
        assert re.search(r"^getpid\(\) += \d+<python3>$", r.stderr, re.M), (args, r.stderr)
    r = _run("systrace", "--decode-pids=none", "-e", "trace=getpid", "/usr/bin/python3", "-c",
             "import os; os.getpid()")
    assert re.search(r"^getpid\(\) += \d+$", r.stderr, re.M), r.stderr
    for spec in ("pidns", "all", "bogus"):
        r = _run("systrace", f"--decode-pids={spec}", "true")
        assert r.returncode == 1, (spec, r.stderr)
        assert ("pidns is not supported" if spec != "bogus" else "comm or none") in r.stderr, r.stderr


OWNER = """\
import fcntl, os, struct
fd = os.open("/dev/null", os.O_RDONLY)
fcntl.fcntl(fd, 15, struct.pack("ii", 0, os.getpid()))  # F_SETOWN_EX, F_OWNER_TID
fcntl.fcntl(fd, fcntl.F_GETOWN)  # glibc asks F_GETOWN_EX
fcntl.fcntl(fd, 15, struct.pack("ii", 2, os.getpgrp()))  # F_OWNER_PGRP
fcntl.fcntl(fd, 16, bytes(8))  # F_GETOWN_EX
try:
    fcntl.fcntl(fd, 15, struct.pack("ii", 7, 1))  # no such type: EINVAL
except OSError:
    pass
"""


@pytest.mark.parametrize("options", [[], ["-Y"]])
def test_fcntl_owners_like_strace(kernel, tmp_path, options):
    # F_SETOWN_EX's and F_GETOWN_EX's struct f_owner_ex (glibc's
    # fcntl(F_GETOWN) is the latter), a process's or thread's id named with
    # -Y, a group's not.
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    st, sy = _both(*options, "-e", "trace=fcntl", "/usr/bin/python3", str(script))
    lines = lambda r: [re.sub(r"\b\d{3,}\b", "N", line) for line in r.stderr.splitlines()
                       if "F_SETOWN_EX" in line or "F_GETOWN_EX" in line]
    assert lines(sy) == lines(st)
    assert len(lines(sy)) == 5, sy.stderr
    assert "{type=F_OWNER_TID, pid=N" + ("<python3>}" if options else "}") in lines(sy)[0], sy.stderr
    assert "{type=F_OWNER_PGRP, pid=N}" in lines(sy)[2], sy.stderr


@pytest.mark.parametrize("signals", ["none", "SIGINT", "SIGTERM", "all"])
def test_deaths_by_signal_follow_the_signal_set_like_strace(kernel, signals):
    # strace tells `+++ killed by SIGTERM +++` only when -e signal= has
    # SIGTERM: a killed child (timeout's) and the command itself.
    for argv in (["-f", "timeout", "0.1", "sleep", "5"], ["sh", "-c", "kill $$"]):
        ends = {}
        for tracer in ("strace", "systrace"):
            r = _run(tracer, "-e", "trace=exit_group", "-e", f"signal={signals}", *argv)
            # The command's end: strace kills itself with its signal.
            assert r.returncode in ((124,) if argv[0] == "-f" else (143, -15)), (tracer, r.stderr)
            ends[tracer] = [re.sub(r"\d+", "N", line) for line in r.stderr.splitlines() if "+++" in line]
        assert ends["systrace"] == ends["strace"], (argv, ends)
        assert any("killed by SIGTERM" in line for line in ends["strace"]) == (signals in ("SIGTERM", "all"))


@pytest.mark.parametrize("trace", [
    # Numbers, alone, negated and among names (strace's qualify_syscall_number).
    "257", "0,257", "!0,257,1,231,getrandom", "read,3",
    # Names and numbers of strace's other personalities (i386, x32): nothing
    # on x86_64, and no error; strace's class names of old.
    "stat,stat64,lstat,lstat64,fstat,fstat64,newfstatat", "openat,socketcall,oldstat,fadvise64_64,mmap2",
    "openat,fstatat64,512,386", "file", "close,desc", "/64$,close",
])
def test_trace_sets_of_numbers_and_other_personalities_like_strace(kernel, tmp_path, trace):
    outputs = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / tracer
        r = _run(tracer, "-o", str(out), "-e", f"trace={trace}", "--", "cat", "/etc/hostname", "/nonexistent")
        assert r.returncode == 1, (tracer, r.stderr)
        outputs[tracer] = re.sub(r"\b\d{3,}\b", "N", re.sub(r" +=", " =", re.sub(r"0x[0-9a-f]{8,}", "ADDR", out.read_text())))
    assert outputs["systrace"] == outputs["strace"]
    assert outputs["strace"].count("\n") > 1, outputs


@pytest.mark.parametrize("trace", ["548", "387", "0x10", "1e", "nosuchcall", "stat64@64"])
def test_trace_sets_strace_refuses_are_refused(trace):
    assert _run("strace", "-e", f"trace={trace}", "--", "true").returncode != 0
    r = _run("systrace", "-e", f"trace={trace}", "--", "true")
    assert r.returncode != 0 and f"unknown syscall '{trace.partition('@')[0]}'" in r.stderr, r.stderr


def test_attach_lists_like_strace(kernel):
    # -p "$(pidof prog)" and pgrep's lines: ids apart by spaces, tabs,
    # newlines or commas, as strace's process_opt_p_list splits them.
    code = "import os, time; time.sleep(1.5); os.getppid()"
    targets = [subprocess.Popen(["/usr/bin/python3", "-c", code]) for _ in range(3)]
    try:
        a, b, c = (str(t.pid) for t in targets)
        r = _run("systrace", "-e", "trace=getppid", "-p", f"{a} {b}\n", "-p", f"+{c},")
        assert r.returncode == 0, r.stderr
        for t in targets:
            assert f"systrace: Process {t.pid} attached" in r.stderr, r.stderr
        assert r.stderr.count("getppid()") == 3, r.stderr
    finally:
        for t in targets:
            t.kill()
            t.wait()
    for value in ("1  2", ",1", "1_0", "0", "x", "1\t-2", "2147483648"):
        st, sy = _run("strace", "-p", value), _run("systrace", "-p", value)
        bad = "'" + (value.split()[-1] if "\t" in value else "" if "  " in value or value[0] == "," else value) + "'"
        assert f"strace: Invalid process id: {bad}" in st.stderr, (value, st.stderr)
        assert f"systrace: Invalid process id: {bad}" in sy.stderr, (value, sy.stderr)
        assert sy.returncode != 0


@pytest.mark.parametrize("args", [
    ["-s", "abc"], ["-s", "-1"], ["-a", "x"], ["-j"], ["-fj"], ["--no-such-option"], ["-s"],
    ["-c", "-C"], ["-S", "bogus"], ["-p", "x"], ["-e", "signal=SIGBOGUS"], ["-q", "-e", "quiet=attach"],
])
def test_usage_errors_like_strace(args):
    # strace's two shapes, exit status 1: error_msg_and_help (the message,
    # then how to get help) and error_msg_and_die (the values of -p, -e).
    st = _run("strace", *args, *([] if args == ["-s"] else ["--", "true"]))
    sy = _run("systrace", *args, *([] if args == ["-s"] else ["--", "true"]))
    assert st.returncode == sy.returncode == 1, (st.stderr, sy.stderr)
    theirs, ours = st.stderr.splitlines(), sy.stderr.splitlines()
    assert len(ours) == len(theirs) and ours[0].startswith("systrace: "), (theirs, ours)
    if len(theirs) == 2:
        assert theirs[1] == "Try 'strace -h' for more information." and \
            ours[1] == "Try 'systrace -h' for more information.", ours
    if not args[0].startswith(("-p", "-e", "-S")):  # systrace's own words for those
        assert ours[0] == theirs[0].replace("strace: ", "systrace: ", 1), (theirs, ours)


@pytest.mark.parametrize("args", [
    ["-S", "calls"], ["-c", "-T", "-t", "-r", "-y", "-n"], ["-C", "-T", "-n"],
    ["-c", "--syscall-times", "--absolute-timestamps", "--relative-timestamps", "--decode-fds=path"],
    ["--seccomp-bpf"], ["--seccomp-bpf", "-f"], ["-z", "-Z"], ["-z", "-z"], ["-Z"], ["-A"],
    ["--output-separately"], ["-F", "-f"], ["-F"], ["-w"], ["-C", "-w"],
])
def test_warnings_on_options_together_like_strace(kernel, args):
    # strace's warnings (the run goes on) and errors (-w without -c) about
    # options that do not go together: the same words, the same status.
    said = {}
    for tracer in ("strace", "systrace"):
        r = _run(tracer, *args, "-e", "trace=none", "--", "true")
        said[tracer] = (r.returncode, [line.split(" ", 1)[1] for line in r.stderr.splitlines()
                                       if line.startswith(f"{tracer}: ")])
    assert said["systrace"] == said["strace"], said


@pytest.mark.parametrize("args", [
    [], ["-e", "trace=all"], ["-e", "trace=%file"], ["-e", "trace=!openat"], ["-e", "trace=none"],
])
def test_seccomp_bpf_of_every_call_warns_like_strace(kernel, args):
    # strace installs no filter that would let every call through, and
    # says so (its check_seccomp_filter); a set that leaves one out, or
    # none, is filtered silently.
    said = {}
    for tracer in ("strace", "systrace"):
        r = _run(tracer, "--seccomp-bpf", "-f", *args, "-o", os.devnull, "--", "true")
        said[tracer] = (r.returncode, [line.split(" ", 1)[1] for line in r.stderr.splitlines()])
    assert said["systrace"] == said["strace"], said
    assert bool(said["strace"][1]) == (args in ([], ["-e", "trace=all"]))


@pytest.mark.parametrize("args", [
    # Any number up to 255 is a signal to strace: one no process can get selects nothing.
    ["-e", "signal=99"], ["-e", "signal=!99"], ["-e", "signal=0,SIGCHLD"],
    # The format none: no time.
    ["--absolute-timestamps=none"], ["--absolute-timestamps=format:none,precision:ns"],
    # `all` is an item of a set too (strace's old class of every syscall).
    ["-e", "trace=all,read"],
])
def test_values_strace_takes(kernel, args):
    said = {}
    for tracer in ("strace", "systrace"):
        r = _run(tracer, *([] if "trace=" in args[-1] else ["-e", "trace=wait4"]), *args, "--",
                 "sh", "-c", "/bin/true; true")
        assert r.returncode == 0, (tracer, r.stderr)
        # Of every call (all,read), the names: what the set selected.
        said[tracer] = [line.split("(")[0] if "trace=" in args[-1] else re.sub(r"\d{3,}|0x[0-9a-f]+", "N", line)
                        for line in r.stderr.splitlines() if "trace=" not in args[-1] or "(" in line]
    # Sorted: a SIGCHLD at its default is shown as it is sent (README).
    assert sorted(said["systrace"]) == sorted(said["strace"]), said


@pytest.mark.parametrize("args", [["-e", "trace=none,read"], ["-e", "trace=,"], ["-e", "signal=256"]])
def test_values_strace_refuses(args):
    for tracer in ("strace", "systrace"):
        r = _run(tracer, *args, "--", "true")
        assert r.returncode == 1 and r.stderr.startswith(f"{tracer}: "), (tracer, r.stderr)
