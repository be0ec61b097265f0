"""Signals, thread and process ends, and calls in flight, against the real
strace on real programs: the `--- SIG... {...} ---` lines, `+++ exited with
N +++` per thread under -f, `+++ killed by SIG... +++` (with -p too), calls
cut by other threads' lines (`<unfinished ...>`, `<... read resumed>`), and
the library's signal and task_exit events.

Pids differ between two runs: they are replaced by their order of first
appearance (the same program makes its processes and threads in the same
order). Nothing else is normalised, except where a documented difference is
named."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import systrace

from test_cli import stderr_line

STRACE = shutil.which("strace")
needs_strace = pytest.mark.skipif(STRACE is None and not os.environ.get("SYSTRACE_REQUIRE_OPTIONAL"),
                                  reason="strace is not installed")

PY = sys.executable

USR1 = """
import os, signal
signal.signal(signal.SIGUSR1, lambda *a: None)
os.kill(os.getpid(), signal.SIGUSR1)
"""

# join() returns before the thread's exit(2): the next thread starts once
# the kernel has let the last one go, so the order of the ends is fixed.
THREADS = """
import threading, os, time
def f(): os.write(1, b"")
ts = [threading.Thread(target=f) for _ in range(2)]
for t in ts:
    t.start()
    t.join()
    while os.path.exists(f"/proc/self/task/{t.native_id}"):
        time.sleep(0.001)
"""

# A thread blocked in read when its process exits: its call never returns.
BLOCKED = """
import os, threading, time
r, w = os.pipe()
t = threading.Thread(target=lambda: os.read(r, 1), daemon=True)
t.start()
time.sleep(0.3)
os.write(w, b"")
os._exit(3)
"""

# One thread's read cut by the other's write.
INTERLEAVED = """
import os, threading, time
r, w = os.pipe()
t = threading.Thread(target=lambda: os.read(r, 1))
t.start()
time.sleep(0.3)
os.write(w, b"x")
t.join()
"""

SEGV = "import ctypes; ctypes.string_at(0)"


def systrace_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "systrace", *args], capture_output=True, text=True, timeout=timeout)


def strace_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    assert STRACE is not None
    return subprocess.run([STRACE, *args], capture_output=True, text=True, timeout=timeout)


PID = re.compile(r"(?<=\[pid )\s*\d+(?=\])|(?<=si_pid=)\d+")


def normalise(lines: list[str]) -> list[str]:
    """Pids by order of first appearance: P1, P2..."""
    seen: dict[str, str] = {}

    def name(m: re.Match[str]) -> str:
        pid = m.group(0).strip()
        return seen.setdefault(pid, f"P{len(seen) + 1}")

    return [PID.sub(name, line) for line in lines]


def trace_lines(stderr: str) -> list[str]:
    """The trace's lines: those of calls, signals and ends (not a
    program's own stderr nor strace's `Process N attached`)."""
    keep = re.compile(r"^(\[pid +\d+\] )?(\w+\(|<\.\.\. |\+\+\+ |--- )")
    return [line for line in stderr.splitlines() if keep.match(line)]


def both(*args: str, skip_strace: bool = False) -> tuple[list[str], list[str]]:
    ours = systrace_run(*args)
    theirs = strace_run(*args)
    # Both die of the signal that killed their command.
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    return normalise(trace_lines(ours.stderr)), normalise(trace_lines(theirs.stderr))


@needs_strace
def test_sigusr1_with_a_handler_is_strace_s(kernel):
    ours, theirs = both("-e", "trace=none", PY, "-c", USR1)
    usr1 = [line for line in theirs if "SIGUSR1" in line]
    assert usr1 == ["--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---"]
    assert [line for line in ours if "SIGUSR1" in line] == usr1
    assert ours[-1] == theirs[-1] == "+++ exited with 0 +++"


@needs_strace
def test_segfault_is_a_signal_then_a_kill(kernel):
    ours, theirs = both("-e", "trace=none", PY, "-c", SEGV)
    tail = theirs[-2:]
    assert tail[0] == "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---"
    assert tail[1].startswith("+++ killed by SIGSEGV")
    assert ours[-2:] == tail


@needs_strace
def test_sigchld_of_a_shell_s_children(kernel):
    ours, theirs = both("-f", "-e", "trace=none", "bash", "-c", "/bin/true; /bin/true")
    assert any(line.startswith("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED") for line in theirs)
    assert ours == theirs


def test_a_child_s_cpu_time_is_given_in_seconds_too(kernel):
    # A SIGCHLD's (and waitid's) si_utime and si_stime are clock ticks,
    # which strace follows with their seconds: si_utime=31 /* 0.31 s */.
    # The subshell burns CPU, so its ticks are not 0.
    busy = "( i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done ); true"
    out = systrace_run("-f", "-e", "trace=none", "sh", "-c", busy)
    assert out.returncode == 0, out.stderr
    chld = [line for line in trace_lines(out.stderr) if "SIGCHLD" in line]
    assert len(chld) == 1, out.stderr
    ticks = re.search(r"si_utime=(\d+)(?: /\* (\d+)\.(\d\d) s \*/)?,", chld[0])
    assert ticks and int(ticks[1]) > 0, chld
    assert (ticks[2], ticks[3]) == (str(int(ticks[1]) // 100), f"{int(ticks[1]) % 100:02d}"), chld


@needs_strace
def test_threads_end_one_line_each_under_f(kernel):
    ours, theirs = both("-f", "-e", "trace=exit,exit_group", PY, "-c", THREADS)
    ends = [line for line in theirs if line.startswith("[pid") and "+++" in line]
    assert len(ends) == 2 and all(line.endswith("+++ exited with 0 +++") for line in ends)
    assert ours[-8:] == theirs[-8:]


@needs_strace
def test_a_call_that_never_returns_then_the_threads_end(kernel):
    ours, theirs = both("-f", "-e", "trace=read,write,exit_group", PY, "-c", BLOCKED)
    # P1: the reader, the first line with a pid (the main thread's have
    # none until there is a second thread).
    assert theirs[-3:] == [
        "[pid P1] <... read resumed> <unfinished ...>) = ?",
        "[pid P1] +++ exited with 3 +++",
        "+++ exited with 3 +++",
    ], theirs
    assert ours[-6:] == theirs[-6:]


@needs_strace
def test_interleaved_calls_are_cut_and_resumed(kernel):
    ours, theirs = both("-f", "-e", "trace=read,write", PY, "-c", INTERLEAVED)
    want = [
        "[pid P1] read(3,  <unfinished ...>",
        '[pid P2] write(4, "x", 1)            = 1',
        '[pid P1] <... read resumed>"x", 1)   = 1',
        "[pid P1] +++ exited with 0 +++",
        "+++ exited with 0 +++",
    ]
    assert theirs[-5:] == want, theirs
    if ours[-5:] == want:
        return
    # The write wakes the reader: which of the two returns first is the
    # kernel's race between two CPUs. strace, which stops each call, always
    # ends the write first; here the reader's end may come first and cut
    # the write too, whose rest follows (without its prefix once the
    # reader's thread is gone). Both are the lines in the order things
    # happened.
    tail = [re.sub(r"\) +=", ") =", line) for line in ours[-6:]]
    assert tail[0] == "[pid P1] read(3,  <unfinished ...>", ours
    assert tail[1] == '[pid P2] write(4, "x", 1 <unfinished ...>', ours
    assert tail[2] == '[pid P1] <... read resumed>"x", 1) = 1', ours
    assert sorted(tail[3:5]) == sorted(["[pid P1] +++ exited with 0 +++", "<... write resumed>) = 1"]) or \
        tail[3:5] == ['[pid P2] <... write resumed>) = 1', "[pid P1] +++ exited with 0 +++"], ours
    assert tail[5] == "+++ exited with 0 +++", ours


def _begun_then_fed(tracer: list[str]) -> tuple[bytes, bytes]:
    """Runs `tracer -e trace=read -- PY -S -c ...` whose command blocks
    reading its stdin; returns the trace's text up to the blocked call's
    first part (which must come while it waits) and the whole text once
    the call got its data and the command ended."""
    import select
    p = subprocess.Popen([*tracer, "-e", "trace=read", "--", PY, "-S", "-c", "import os; os.read(0, 5)"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdin is not None and p.stderr is not None
    text = b""
    deadline = time.monotonic() + 30
    try:
        while not text.endswith(b"read(0, "):
            ready, _, _ = select.select([p.stderr], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(p.stderr.fileno(), 4096) if ready else b""
            assert chunk, f"{tracer[0]}: no `read(0, ` while the call waits: {text[-300:]!r}"
            text += chunk
        # Still waiting: nothing more comes until it has data.
        assert select.select([p.stderr], [], [], 0.3)[0] == [], text[-300:]
        p.stdin.write(b"hi\n")
        p.stdin.close()
        rest = p.stderr.read()
        assert p.wait(timeout=30) == 0, text + rest
    finally:
        p.kill()
    return text, text + rest


@needs_strace
def test_a_blocked_call_shows_its_first_part_while_it_waits(kernel):
    # strace writes a call's first part at its entry, `read(0, `, the rest
    # at its exit: a command blocked for good shows where it waits.
    ours_begun, ours = _begun_then_fed([PY, "-m", "systrace"])
    theirs_begun, theirs = _begun_then_fed([STRACE])
    want = 'read(0, "hi\\n", 5)                      = 3'
    assert want in theirs.decode().splitlines(), theirs
    assert want in ours.decode().splitlines(), ours
    # The first part is not written again with the rest.
    assert ours.count(b"read(0, ") == 1, ours
    assert trace_lines(ours.decode())[-3:] == trace_lines(theirs.decode())[-3:]


@needs_strace
def test_a_child_killed_by_timeout(kernel):
    ours, theirs = both("-f", "-e", "trace=none", "timeout", "1", "sleep", "5")
    killed = ["[pid P2] --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P1, si_uid=0} ---",
              "[pid P2] +++ killed by SIGTERM +++"]
    assert all(line in theirs for line in killed)
    # timeout ignores the SIGTERM and SIGCONT it sends its own group:
    # systrace records an ignored signal as it is sent (the kernel discards
    # it then), strace when timeout takes it from its pending signals,
    # lowest number first: its SIGCONT comes after the SIGCHLD, once the
    # child is gone (no "[pid P1] " then).
    # The same goes for its SIGTERM, which strace shows before or after the
    # child's end from run to run: the signals timeout sent itself are
    # compared as a set.
    own = re.compile(r"^(\[pid P1\] )?--- SIG(TERM|CONT) (?=.*si_pid=P1,)")
    cont = re.compile(r"^(\[pid P1\] )?--- SIG(TERM|CONT) \{si_signo=SIG\w+, si_code=SI_USER, si_pid=P1,")
    conts = [sorted(own.sub("--- SIG\\2 ", line) for line in lines if cont.match(line)) for lines in (ours, theirs)]
    assert conts[0] == conts[1] and len(conts[0]) == 2, (ours, theirs)
    # Whether timeout acts on its SIGCHLD before it exits depends on the
    # run (ours and strace's are two runs): compare without it.
    sigchld = re.compile(r"^(\[pid P1\] )?--- SIGCHLD ")
    assert [line for line in ours if not sigchld.match(line) and not cont.match(line)] == [
        line for line in theirs if not sigchld.match(line) and not cont.match(line)
    ]


@needs_strace
def test_signal_sets(kernel):
    for spec in ("none", "!SIGUSR1", "usr1", "10", "all"):
        ours, theirs = both("-e", "trace=none", "-e", f"signal={spec}", PY, "-c", USR1)
        assert ours == theirs, spec
    r = systrace_run("-e", "signal=SIGBOGUS", "true")
    assert r.returncode == 1 and "invalid signal 'SIGBOGUS'" in r.stderr


def test_killed_with_p_is_told(kernel):
    target = subprocess.Popen(["sleep", "30"])
    tracer = subprocess.Popen([PY, "-m", "systrace", "-e", "trace=none", "-p", str(target.pid)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        line = ""
        while "attached" not in line and time.monotonic() < deadline:
            line = stderr_line(tracer)
        time.sleep(0.5)
        target.kill()
        target.wait()
        _, err = tracer.communicate(timeout=30)
    finally:
        target.kill()
        tracer.kill()
    assert err.splitlines()[-1] == "+++ killed by SIGKILL +++", err


def test_ends_carry_their_time_and_lines_are_in_time_order(kernel):
    r = systrace_run("-f", "-ttt", "-e", "trace=read,write,exit_group", PY, "-c", INTERLEAVED)
    lines = trace_lines_ttt(r.stderr)
    ends = [line for line in lines if "+++" in line]
    assert len(ends) == 2 and all(re.match(r"^(\[pid +\d+\] )?\d+\.\d{6} \+\+\+", e) for e in ends)
    stamps = [float(re.search(r"(\d+\.\d{6}) ", line).group(1)) for line in lines]
    assert stamps == sorted(stamps)


def trace_lines_ttt(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"^(\[pid +\d+\] )?\d+\.\d{6} ", line)]


def test_json_lines_stay_json(kernel):
    r = systrace_run("--format", "json", "-e", "trace=none", PY, "-c", USR1)
    objs = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    sig = [o for o in objs if o.get("event") == "signal" and o["signal"] == "SIGUSR1"]
    assert len(sig) == 1
    assert sig[0]["siginfo"] == {"si_signo": "SIGUSR1", "si_code": "SI_USER", "si_pid": sig[0]["pid"], "si_uid": 0}
    assert objs[-1] == {"event": "exit", "pid": sig[0]["pid"], "status": 0}


def test_restart_syscall_names_what_it_resumes(kernel):
    tracer = subprocess.Popen([PY, "-m", "systrace", "-e", "trace=clock_nanosleep,restart_syscall",
                               "sleep", "2"], stderr=subprocess.PIPE, text=True)
    try:
        sleeper = None
        deadline = time.monotonic() + 30
        while sleeper is None and time.monotonic() < deadline:
            for task in os.listdir(f"/proc/{tracer.pid}/task"):
                try:  # a thread of the tracer's (or a child) may be gone by now
                    for child in open(f"/proc/{tracer.pid}/task/{task}/children").read().split():
                        if open(f"/proc/{child}/comm").read().strip() == "sleep":
                            sleeper = int(child)
                except FileNotFoundError:
                    continue
            time.sleep(0.05)
        assert sleeper is not None
        time.sleep(0.5)  # in its clock_nanosleep
        os.kill(sleeper, signal.SIGSTOP)
        time.sleep(0.2)
        os.kill(sleeper, signal.SIGCONT)
        _, err = tracer.communicate(timeout=30)
    finally:
        tracer.kill()
    lines = trace_lines(err)
    assert "ERESTART_RESTARTBLOCK" in lines[0]
    assert lines[1] == f"--- SIGSTOP {{si_signo=SIGSTOP, si_code=SI_USER, si_pid={os.getpid()}, si_uid=0}} ---"
    assert lines[2] == "--- stopped by SIGSTOP ---"
    # SIGCONT's default is to ignore it (once it has continued the process):
    # recorded as it is sent, as strace shows it.
    assert lines[3] == f"--- SIGCONT {{si_signo=SIGCONT, si_code=SI_USER, si_pid={os.getpid()}, si_uid=0}} ---"
    assert lines[4] == "restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0"


def test_library_sessions_ask_for_task_events(kernel):
    code = (
        "import os, signal, sys; signal.signal(signal.SIGUSR1, lambda *a: None); "
        "sys.stdin.readline(); os.kill(os.getpid(), signal.SIGUSR1)"
    )
    for asked in (False, True):
        child = subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, text=True)
        try:
            time.sleep(0.3)  # past its start
            with systrace.enable("getpid", pid=child.pid, signals=asked, exits=asked) as s:
                child.communicate("go\n", timeout=30)
        finally:
            child.kill()
        events = s.events()
        if not asked:
            # Syscall-only sessions see none of them.
            assert {e.phase for e in events} <= {"enter", "exit"}
            continue
        sigs = [e for e in events if e.phase == "signal"]
        ends = [e for e in events if e.phase == "task_exit"]
        assert [e.name for e in sigs] == ["SIGUSR1"]
        assert sigs[0].siginfo == {"si_signo": "SIGUSR1", "si_code": "SI_USER", "si_pid": child.pid, "si_uid": 0}
        assert sigs[0].ret is None and sigs[0].args == {} and sigs[0].event_name == "signal_deliver"
        mine = [(e.tid, e.exit_code, e.group_dead) for e in ends if e.tid == child.pid]
        assert mine == [(child.pid, 0, True)]
        assert all(e.pid == child.pid for e in ends) and sum(e.group_dead for e in ends) == 1
        assert s.dropped == 0


# Signals the process ignores: SIGUSR1 set to SIG_IGN and sent to itself,
# and a child's SIGCHLD at its default (to ignore it).
IGNORED = """
import os, signal
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
os.kill(os.getpid(), signal.SIGUSR1)
pid = os.fork()
if pid == 0:
    os._exit(7)
os.waitpid(pid, 0)
"""


@needs_strace
def test_ignored_signals_are_strace_s(kernel):
    # The kernel discards an ignored signal as it is sent; systrace records
    # it then. One the process sent itself follows the call that sent it.
    ours, theirs = both("-e", "trace=kill", PY, "-c", IGNORED)
    kill = re.compile(r"^kill\(\d+, SIGUSR1\) += 0$")
    usr1 = "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---"
    for lines in (theirs, ours):
        mine = [line for line in lines if "SIGUSR1" in line]
        assert len(mine) == 2 and kill.match(mine[0]) and mine[1] == usr1, lines
    chld = [line for line in theirs if line.startswith("--- SIGCHLD")]
    assert len(chld) == 1 and "si_code=CLD_EXITED" in chld[0] and "si_status=7" in chld[0], theirs
    # Its CPU times may differ by a tick between two runs.
    times = re.compile(r", si_utime=.*")
    assert [times.sub("", line) for line in ours if line.startswith("--- SIGCHLD")] == [times.sub("", chld[0])]


# A thread opens a FIFO whose name is in a page not yet in memory (a file
# mapped and never touched): the programs cannot read it at the enter, and
# read it again at the exit. Another thread's line cuts the open, which
# blocks until that thread opens the FIFO to write.
FAULTED_NAME = r"""
import ctypes, mmap, os, sys, threading, time
d = sys.argv[1]
fifo = os.path.join(d, "fifo")
os.mkfifo(fifo)
with open(os.path.join(d, "name"), "wb") as f:
    f.write(fifo.encode() + b"\0")
fd = os.open(os.path.join(d, "name"), os.O_RDONLY)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
# Not touched: its page is not in memory when open's enter is traced.
name = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)
def writer():
    time.sleep(0.3)
    os.write(2, b"cut\n")
    os.close(os.open(fifo, os.O_WRONLY))
t = threading.Thread(target=writer)
t.start()
libc.open(ctypes.c_void_p(name), os.O_RDONLY)
t.join()
"""


def test_a_cut_line_shows_a_string_read_again_at_exit(kernel, tmp_path):
    # The first part of the cut line used to print the name's address
    # (seen as statfs(0x7f..., <unfinished ...> in `ls | grep` under -f):
    # it now takes the string from the call's exit when the exit is among
    # the events read with the line that cuts it, as in a replay of a
    # small recording, whose events are read at once.
    prog = tmp_path / "prog.py"
    prog.write_text(FAULTED_NAME)
    work = tmp_path / "d"
    work.mkdir()
    rec = tmp_path / "r.parquet"
    r = systrace_run("-f", "-e", "trace=openat,write", "-o", os.devnull, "--record", str(rec), "--", PY, str(prog),
                     str(work))
    assert r.returncode == 0, r.stderr
    r = systrace_run("--replay", str(rec), "-e", "trace=openat,write")
    assert r.returncode == 0, r.stderr
    fifo = work / "fifo"
    lines = trace_lines(r.stderr)
    cut = [line for line in lines if "<unfinished ...>" in line]
    assert any(line.endswith(f'openat(AT_FDCWD, "{fifo}", O_RDONLY <unfinished ...>') for line in cut), cut
    assert any(re.search(r'write\(2, "cut\\n", 4\) += 4$', line) for line in lines), lines


def test_a_32_bit_process_exit_event_says_compat(kernel):
    import platform

    from test_cli_output import LOADER_32

    if platform.machine() != "x86_64":
        pytest.skip("a 32-bit x86 loader runs on x86_64 only")
    if not os.path.exists(LOADER_32):
        pytest.fail(f"{LOADER_32} is missing: apt-get install libc6-i386")
    with systrace.enable("execve", exits=True, follow=True) as s:
        subprocess.run([LOADER_32, "--version"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(["/bin/true"], check=True)
    ends = {e.comm: e.compat for e in s if e.phase == "task_exit" and e.comm in ("ld-linux.so.2", "true")}
    assert ends == {"ld-linux.so.2": True, "true": False}, ends


KILL_SELF = "import os, signal; os.write(1, b''); os.kill(os.getpid(), signal.SIGKILL)"
# Two blocked calls cut by a SIGKILL from their parent: epoll_wait returns
# -EINTR to the dying thread, nanosleep -ERESTART_RESTARTBLOCK.
KILL_BLOCKED = f"""
{PY} -c "import select, os; os.write(1, b''); select.epoll().poll(5)" &
a=$!
{PY} -c "import time, os; os.write(1, b''); time.sleep(5)" &
b=$!
sleep 0.5
kill -9 $a $b
wait
"""


@needs_strace
def test_calls_cut_by_sigkill_never_return(kernel):
    # The pending SIGKILL cancels strace's exit stop: a call whose process
    # is being killed shows `= ?`, however the kernel ended it (kill's 0,
    # epoll_wait's EINTR). timeout -s KILL kills its own group.
    ours, theirs = both("-e", "trace=kill", PY, "-c", KILL_SELF)
    # The pid, and the padding before `= ?`, which moves with the pid's
    # digits: the two tracers' children had pids of different lengths in
    # one CI run (20 and 22 spaces before `= ?`).
    ours, theirs = ([re.sub(r"\s+= ", " = ", re.sub(r"\d+", "N", line)) for line in lines]
                    for lines in (ours, theirs))
    assert ours[-2:] == theirs[-2:], (ours, theirs)
    assert ours[-2] == "kill(N, SIGKILL) = ?" and ours[-1] == "+++ killed by SIGKILL +++", ours
    ours, theirs = both("-f", "-e", "trace=kill", "timeout", "-s", "KILL", "0.2", "sleep", "5")
    # Other lines may cut a call's in two, in either tracer, from run to
    # run: the halves are put together (as one line without the cut).
    for lines in (ours, theirs):
        kill = [line for line in joined(lines) if "kill(0, SIGKILL" in line]
        assert kill == ["kill(0, SIGKILL) = ?"], (ours, theirs)
    ours, theirs = both("-f", "-e", "trace=epoll_wait,clock_nanosleep,write", "sh", "-c", KILL_BLOCKED)
    for lines in (ours, theirs):
        cut = sorted(line for line in joined(lines) if line.endswith(" = ?"))
        assert len(cut) == 2 and cut[0].startswith("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {"), (ours, theirs)
        assert cut[0].endswith("}, <unfinished ...>) = ?") and cut[1] == "epoll_wait(3, <unfinished ...>) = ?", cut


def joined(lines: list[str]) -> list[str]:
    """Trace lines without their pid, a cut call's two halves as one line
    (`read(0, <unfinished ...>` and `<... read resumed>"x", 1) = 1`), runs
    of spaces as one. A half without its pid (the other threads gone by
    then) goes with the cut call of its name."""
    out: list[str] = []
    cut: dict[str | None, int] = {}
    for line in lines:
        m = re.fullmatch(r"(\[pid \w+\] )?(.*)", line)
        assert m is not None
        pid, text = m.group(1), re.sub(" +", " ", m.group(2))
        resumed = re.match(r"<\.\.\. (\w+) resumed>", text)
        if resumed and pid not in cut:
            named = [p for p, i in cut.items() if out[i].startswith(resumed.group(1) + "(")]
            pid = named[0] if len(named) == 1 else pid
        if resumed and pid in cut:
            i = cut.pop(pid)
            out[i] = out[i].removesuffix(" <unfinished ...>") + text[resumed.end():]
            continue
        if text.endswith(" <unfinished ...>"):
            cut[pid] = len(out)
        out.append(text)
    return out


# Signal and task_exit events carry the signal or 0 where a call has its
# syscall number: a filter on the syscall of that number (read is 0 on
# x86_64 and aarch64's 63 is not, so both are named) must not decide them.
SIGNALLED_READS = """
import os, signal, sys
signal.signal(signal.SIGUSR1, lambda *a: None)
with open(sys.executable, "rb") as f:
    f.read(64)
try:
    os.read(9999, 1)
except OSError:
    pass
os.kill(os.getpid(), signal.SIGUSR1)
"""


@pytest.mark.parametrize("flt", ["ret >= 0", "ret < 0", "common_pid != 1"])
def test_filters_leave_signals_and_task_exits_alone(kernel, flt):
    names = systrace.syscall_names()
    by_nr = {systrace.syscall_nr(n): n for n in names}
    # The syscalls that share a number with SIGUSR1 and with a task exit's 0.
    shared = sorted({by_nr[n] for n in (signal.SIGUSR1, 0) if n in by_nr} | {"read"})
    child = subprocess.Popen([PY, "-c", "import sys; sys.stdin.readline()\n" + SIGNALLED_READS],
                             stdin=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        with systrace.enable(*shared, pid=child.pid, signals=True, exits=True, filter=flt) as s:
            child.communicate("go\n", timeout=30)
    finally:
        child.kill()
    events = s.events()
    assert [e.name for e in events if e.phase == "signal"] == ["SIGUSR1"], events
    ends = [(e.tid, e.exit_code) for e in events if e.phase == "task_exit" and e.group_dead]
    assert ends == [(child.pid, 0)]
    calls = [e for e in events if e.phase in ("enter", "exit")]
    # Every call whole: enter then exit, the enter's own.
    assert calls and len(calls) % 2 == 0
    for enter, exit_ in zip(calls[::2], calls[1::2]):
        assert (enter.phase, exit_.phase, enter.name, enter.tid) == ("enter", "exit", exit_.name, exit_.tid)
        if flt.startswith("ret"):
            assert (exit_.ret >= 0) == (flt == "ret >= 0")
    assert any(e.ret < 0 for e in calls if e.phase == "exit") == (flt != "ret >= 0")
    assert s.dropped == 0


# A write to a pipe nobody reads: the kernel sends SIGPIPE without a
# siginfo (send_sig(SIGPIPE, current, 0)) and fills one in itself.
EPIPE = """
import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN if sys.argv[1] == "ignored" else signal.SIG_DFL)
r, w = os.pipe()
os.close(r)
try:
    os.write(w, b"x")
except BrokenPipeError:
    pass
"""


@needs_strace
@pytest.mark.parametrize("disposition", ["ignored", "default"])
def test_the_kernel_s_sigpipe_is_strace_s(kernel, disposition):
    ours, theirs = both("-e", "trace=write", PY, "-c", EPIPE, disposition)
    assert ours == theirs
    pipe = "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=P1, si_uid=0} ---"
    end = "+++ exited with 0 +++" if disposition == "ignored" else "+++ killed by SIGPIPE +++"
    assert ours[-3:] == ["write(4, \"x\", 1)                        = -1 EPIPE (Broken pipe)", pipe, end], ours


@needs_strace
def test_a_pipeline_s_sigpipe_is_strace_s(kernel):
    # `yes | head -n 1`: yes dies of the SIGPIPE its write raises.
    args = ("-f", "-e", "trace=none", "sh", "-c", "yes | head -n 1 >/dev/null")
    ours, theirs = both(*args)
    # Which pid is named first depends on which process's line comes first.
    pipes = [[re.sub(r"P\d+", "P", line) for line in lines if re.search(r"--- SIGPIPE|by SIGPIPE", line)]
             for lines in (ours, theirs)]
    assert pipes[1] == ["[pid P] --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=P, si_uid=0} ---",
                        "[pid P] +++ killed by SIGPIPE +++"], theirs
    assert pipes[0] == pipes[1], (ours, theirs)



# A command that says it runs (traced from its execve, its trace has
# begun), then waits for its stdin's end.
WAITS = "import os, sys; os.write(2, b'ready %d\\n' % os.getpid()); sys.stdin.read()"


def _ended(pid: int) -> bool:
    """Whether process `pid` is gone or a zombie, waiting a while for a
    process being killed to die."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def _interrupt_command(tracer: list, sig: int) -> tuple[int, str, int, int]:
    """Runs `tracer` on WAITS, sends `sig` to the tracer alone once the
    command runs, and returns the tracer's exit status, its stderr, its pid
    and the command's. The command's stdin is closed only once the tracer
    is gone: a command left running (not killed) ends then."""
    p = subprocess.Popen([*tracer, PY, "-c", WAITS], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in p.stderr:
            seen.append(line)
            if line.startswith("ready "):
                break
        assert seen and seen[-1].startswith("ready "), seen
        child = int(seen[-1].split()[1])
        p.send_signal(sig)
        p.wait(timeout=60)
        p.stdin.close()
        return p.returncode, "".join(seen) + p.stderr.read(), p.pid, child
    finally:
        p.kill()
        p.wait()


@needs_strace
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("summary", [False, True], ids=["trace", "-c"])
def test_sigterm_and_sighup_end_the_command_and_its_trace(kernel, sig, summary):
    # strace's interrupt() and cleanup(): with the trace on stderr, the
    # command it started is sent the signal (`timeout 1 systrace -c CMD`
    # when timeout's own signal to its group comes later, `docker stop`, a
    # hangup), the trace is written to its end (the -c table), and the
    # tracer dies of the signal. strace detaches at once (`Process N
    # detached`, the call in flight `<detached ...>`); systrace waits for
    # the command's end, which the signal's default action makes certain,
    # and shows it.
    name = signal.Signals(sig).name
    options = ["-c"] if summary else ["-e", "trace=none"]
    code, err, tracer, child = _interrupt_command([PY, "-m", "systrace", *options], sig)
    assert code == -sig, err
    assert _ended(child), f"the command was left running: {err}"
    if summary:
        assert re.search(r"^ *[\d.]+ +[\d.]+ +\d+ +1 +write$", err, re.M), err
        assert err.splitlines()[-1].endswith(" total"), err
    else:
        # The signal systrace sent its command.
        assert trace_lines(err)[-2:] == [
            f"--- {name} {{si_signo={name}, si_code=SI_USER, si_pid={tracer}, si_uid=0}} ---",
            f"+++ killed by {name} +++",
        ], err
    code, err, tracer, child = _interrupt_command([STRACE, *options], sig)
    assert code == -sig, err
    assert _ended(child), err
    assert f"{STRACE}: Process {child} detached" in err.splitlines(), err
    if summary:
        assert err.splitlines()[-1].endswith(" total"), err


@needs_strace
def test_sigterm_is_ignored_with_a_command_and_o_file(kernel, tmp_path):
    # strace -o FILE CMD ignores SIGHUP, SIGINT, SIGQUIT, SIGPIPE and
    # SIGTERM (its INTR_NEVER): `timeout 1 strace -o F CMD` leaves the
    # command to timeout's signal to its group and traces it to its end.
    # Sent to the tracer alone, the signal changes nothing: the command
    # runs on, traced, here to its stdin's end.
    for tracer in ([PY, "-m", "systrace"], [STRACE]):
        out = tmp_path / "trace"
        p = subprocess.Popen([*tracer, "-o", str(out), "-e", "trace=none", PY, "-c", WAITS], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            assert p.stderr.readline().startswith("ready "), tracer
            # An ignored signal is discarded as it is sent, a fatal one
            # ends the tracer then: once kill() returns, the command can end.
            p.send_signal(signal.SIGTERM)
            p.send_signal(signal.SIGHUP)
            _, err = p.communicate("", timeout=60)
        finally:
            p.kill()
            p.wait()
        assert p.returncode == 0, (tracer, p.returncode, err)
        assert out.read_text().splitlines()[-1] == "+++ exited with 0 +++", tracer


@needs_strace
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGQUIT", "SIGINT"])
@pytest.mark.parametrize("summary", [False, True], ids=["trace", "-c"])
def test_a_signal_to_systrace_p_detaches(kernel, sig, summary):
    # strace -p: SIGHUP, SIGQUIT and SIGTERM (as Ctrl-C) detach from the
    # processes, which run on; the trace written to its end (the -c table
    # after the detach lines), then the tracer dies of the signal.
    # It makes a getppid call when told to, and says when it has.
    target = subprocess.Popen([PY, "-c", "import os, sys\nfor _ in sys.stdin:\n    os.getppid(); print(flush=True)"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for tracer in ([PY, "-m", "systrace"], [STRACE]):
            options = ["-c"] if summary else ["-e", "trace=read"]
            p = subprocess.Popen([*tracer, *options, "-f", "-p", str(target.pid)], stderr=subprocess.PIPE, text=True)
            try:
                seen = p.stderr.readline()
                assert seen.endswith(f": Process {target.pid} attached\n"), seen
                target.stdin.write("\n")
                target.stdin.flush()
                assert target.stdout.readline() == "\n"
                time.sleep(0.3)  # back in its read of stdin (microseconds after its print)
                p.send_signal(sig)
                _, err = p.communicate(timeout=60)
            finally:
                p.kill()
                p.wait()
            err = seen + err
            assert p.returncode == -sig, (tracer, err)
            lines = err.splitlines()
            ours = tracer[0] == PY
            detached = f"{'systrace' if ours else STRACE}: Process {target.pid} detached"
            # The line of the call in flight ends ` <detached ...>` (strace's
            # on stderr has its detach message inside it).
            assert detached in lines if ours else any(line.endswith(detached) for line in lines), (tracer, err)
            if summary:
                assert re.search(r"^ *[\d.]+ +[\d.]+ +\d+ +1 +getppid$", err, re.M), err
                assert lines[-1].endswith(" total") and lines.index(detached) < len(lines) - 1, err
            elif ours:
                # The read that took the test's line (resumed, or whole if
                # the target was not in it yet when attached) is there.
                assert lines[-1] == detached and any(re.search(r"\) += 1$", line) for line in lines[1:-1]), err
                # The read it is back in: cut as strace cuts it (it was
                # `read(0,  <unfinished ...>) = ?`).
                assert lines[-2] == "read(0,  <detached ...>", err
            assert target.poll() is None  # it runs on
    finally:
        target.kill()
        target.wait()


# A SIGCHLD of the child the parent's wait returns, and a fatal SIGTERM
# sent to a child in a sleep: strace shows each after the call's line.
WAITED = """
import os, time
pid = os.fork()
if pid == 0:
    time.sleep(0.2)
    os._exit(3)
os.waitpid(pid, 0)
"""

KILLED = """
import os, signal, time
pid = os.fork()
if pid == 0:
    time.sleep(5)
    os._exit(0)
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
"""


def _kinds(lines: list[str]) -> list[str]:
    """Each line's call name, or its signal or end (`--- SIGCHLD`, `+++`)."""
    kinds = []
    for line in lines:
        line = re.sub(r"^\[pid +\w+\] ", "", line)
        m = re.match(r"(\w+)\(|(--- \w+)|(\+\+\+ \w+)", line)
        assert m, line
        kinds.append(next(g for g in m.groups() if g))
    return kinds


def _per_thread_files(tracer: list[str], tmp_path, name: str, program: str) -> list[list[str]]:
    """-ff's files of `program`, in the order their threads began."""
    folder = tmp_path / name
    folder.mkdir()
    r = subprocess.run([*tracer, "-ff", "-o", str(folder / "t"), "-e", "trace=wait4,clock_nanosleep",
                        PY, "-c", program], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    files = sorted(folder.iterdir(), key=lambda f: int(f.suffix[1:]))
    return [_kinds(f.read_text().splitlines()) for f in files]


@needs_strace
@pytest.mark.parametrize("program", [WAITED, KILLED], ids=["waited-sigchld", "fatal-sigterm"])
def test_ff_shows_a_signal_after_the_call_it_ended(kernel, tmp_path, program):
    # Under -ff a call is one line, written at its end: a signal that
    # ended it (or that its wait returned for) is after it, as strace's
    # (before: first, `--- SIGCHLD` then `wait4(...)`).
    theirs = _per_thread_files([STRACE], tmp_path, "strace", program)
    ours = _per_thread_files([PY, "-m", "systrace"], tmp_path, "systrace", program)
    if program == KILLED:
        # Whether the killed child's SIGCHLD comes before or after its
        # parent enters wait4 is a race of the two processes (under
        # strace's slower run, or under load, before): the parent's file
        # is compared as a set; the child's, the fatal signal, in order.
        assert sorted(ours[0]) == sorted(theirs[0]), (ours, theirs)
        assert ours[1:] == theirs[1:]
        assert theirs[1][-2:] == ["--- SIGTERM", "+++ killed"], theirs
        return
    assert ours == theirs
    assert theirs[0][-2:] == ["--- SIGCHLD", "+++ exited"], theirs


@needs_strace
def test_status_filter_shows_a_waited_sigchld_after_the_wait(kernel):
    # -e status= prints a call once it ended, as -ff does.
    args = ("-f", "-e", "status=successful", "-e", "trace=wait4", PY, "-c", WAITED)
    ours, theirs = both(*args)
    # strace cuts the wait at the child's end, and then prints its rest
    # without `<... wait4 resumed>` (a line of no call, left out): the
    # order is what is compared.
    assert _kinds(ours) == _kinds(theirs) == ["+++ exited", "wait4", "--- SIGCHLD", "+++ exited"], (ours, theirs)
