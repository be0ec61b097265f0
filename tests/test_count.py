"""Counting in the kernel (issue 13 item 3): the perf side of the kernel's
syscall events. Calls, errors by errno, time and a log2 histogram are kept in
per-CPU BPF maps; nothing is delivered."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest

import systrace
from conftest import Steal
import systrace._native as native


def test_counts_are_exact_and_nothing_is_delivered(kernel):
    r, w = os.pipe()
    systrace.preload()
    with systrace.count("getppid", "lseek") as s:
        before = native.kernel_state()["records"]
        for _ in range(1000):
            os.getppid()
        for _ in range(7):
            try:
                os.lseek(r, 0, os.SEEK_SET)  # a pipe: ESPIPE
            except OSError:
                pass
    assert native.kernel_state()["records"] == before, "a counting session delivered records"
    assert s.events() == [] and s.counting
    counts = {c.name: c for c in s.counts()}
    assert set(counts) == {"getppid", "lseek"}
    assert (counts["getppid"].calls, counts["getppid"].errors, counts["getppid"].errnos) == (1000, 0, {})
    assert (counts["lseek"].calls, counts["lseek"].errors, counts["lseek"].errnos) == (7, 7, {"ESPIPE": 7})
    for c in counts.values():
        assert sum(c.histogram) == c.calls and c.time_ns > 0 and c.pid is None
        # The histogram's buckets are log2 of the durations: their sum
        # bounds the time.
        low = sum(n << i for i, n in enumerate(c.histogram))
        assert low <= c.time_ns < 2 * low + 2 * c.calls
    table = s.count_table()
    assert table.splitlines()[0].split() == ["%", "time", "seconds", "usecs/call", "calls", "errors", "syscall"]
    assert any(line.split()[-3:] == ["7", "7", "lseek"] for line in table.splitlines())


def test_counts_keep_the_time_the_calls_ran_apart_from_the_time_they_took(kernel):
    """system_ns: the time a call's thread ran in it (strace -c's time),
    time_ns: from its entry to its exit (strace -c -w's). A sleep takes
    its time without running; getrandom of 16 MiB runs all of its."""
    steal = Steal()
    with systrace.count("clock_nanosleep", "getrandom") as s:
        for _ in range(3):
            time.sleep(0.1)
        ran = time.thread_time_ns()
        for _ in range(3):
            os.getrandom(16 << 20)
        ran = time.thread_time_ns() - ran
    counts = {c.name: c for c in s.counts()}
    sleep, rand = counts["clock_nanosleep"], counts["getrandom"]
    assert sleep.calls == 3 and rand.calls == 3, counts
    for c in (sleep, rand):
        assert 0 < c.system_ns <= c.time_ns, c
    # Each sleep took its 0.1 s and ran some tens of microseconds.
    stolen = steal.ns()
    assert sleep.time_ns >= 3 * 100_000_000 and sleep.system_ns < 3 * 5_000_000 + stolen, (sleep, stolen)
    # The random bytes are made on the CPU: the calls ran for the CPU time
    # the thread used in them (its loop's own is a few microseconds),
    # however much of their wall time a busy machine preempted them for;
    # the time the host stole while they ran counts in theirs, not in the
    # thread's (250.46 ms against 247.16 in one CI run).
    assert rand.time_ns > 3_000_000 and 0.8 * ran <= rand.system_ns <= 1.01 * ran + 100_000 + stolen, (
        rand, ran, stolen)
    assert f"system_ns={sleep.system_ns}" in repr(sleep)
    # The table shows the time run; wall=True the time taken.
    rows = {line.split()[-1]: line.split() for line in s.count_table().splitlines()[2:-2]}
    assert float(rows["clock_nanosleep"][1]) < 0.015 + stolen / 1e9, (rows, stolen)
    walls = {line.split()[-1]: line.split() for line in s.count_table(wall=True).splitlines()[2:-2]}
    assert float(walls["clock_nanosleep"][1]) >= 0.3, walls


def test_a_call_that_wakes_on_another_cpu_counts_the_time_it_ran(kernel):
    """A read that blocks on one CPU and wakes on the other: the two CPUs'
    clock_tasks are apart by what each left out (steal, and where they
    started: 189 ms on this machine kind's VM when written), which must not
    show as time run. Where they are within 5 ms this cannot tell."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("needs two CPUs to move a thread between")
    r, w = os.pipe()
    tid = []

    def reader(cpu: int) -> None:
        tid.append(threading.get_native_id())
        os.sched_setaffinity(0, {cpu})
        os.read(r, 1)

    runs = []
    steal = Steal()
    # Both ways: whichever CPU's clock_task is behind, one of them would
    # show the gap as time run (the other as none, kept at 0).
    for cpu, to in ((0, 1), (1, 0), (0, 1), (1, 0)):
        with systrace.count("read", pid=os.getpid(), filter=f"fd == {r}") as s:
            t = threading.Thread(target=reader, args=(cpu,))
            t.start()
            time.sleep(0.1)  # blocked in its read on `cpu`
            os.sched_setaffinity(tid[-1], {to})
            os.write(w, b"x")
            t.join()
        (c,) = s.counts()
        runs.append((c.system_ns, c.time_ns))
    os.close(r)
    os.close(w)
    stolen = steal.ns()
    for system_ns, time_ns in runs:
        assert time_ns >= 100_000_000 and system_ns < 5_000_000 + stolen, (runs, stolen)


def test_counting_sessions_count_only_their_processes(kernel):
    child = subprocess.Popen(
        [sys.executable, "-c", "import os, sys\nsys.stdin.read(1)\nfor _ in range(300): os.getppid()\n"],
        stdin=subprocess.PIPE, text=True,
    )
    other = subprocess.Popen(  # not traced: the programs must not count it
        [sys.executable, "-c", "import os, sys\nsys.stdin.read(1)\nfor _ in range(300): os.getppid()\n"],
        stdin=subprocess.PIPE, text=True,
    )
    with systrace.count("getppid") as mine, systrace.count("getppid", pid=child.pid) as theirs:
        with systrace.count("getppid", pid=[os.getpid(), child.pid]) as both:
            child.stdin.write("x")
            child.stdin.close()
            other.stdin.write("x")
            other.stdin.close()
            for _ in range(200):
                os.getppid()
            assert child.wait(timeout=60) == 0 and other.wait(timeout=60) == 0
            # What the programs counted, before any session's filter: only
            # the two processes the sessions trace.
            assert native.kernel_state()["counted_pids"] == sorted([os.getpid(), child.pid])
    assert [(c.name, c.calls) for c in mine.counts()] == [("getppid", 200)]
    assert [(c.name, c.calls) for c in theirs.counts()] == [("getppid", 300)]
    per = {c.pid: c.calls for c in both.counts(per_process=True)}
    assert per == {os.getpid(): 200, child.pid: 300}
    assert [c.calls for c in both.counts()] == [500]


def test_a_counting_session_and_a_tracing_one_share_the_programs(kernel):
    with systrace.enable("getppid") as traced, systrace.count("getppid") as counted:
        for _ in range(50):
            os.getppid()
    assert len([e for e in traced.events() if e.pid == os.getpid()]) == 100
    assert [c.calls for c in counted.counts()] == [50]
    state = native.kernel_state()
    assert not state["attached_enter"] and not state["attached_exit"]


def test_follow_counts_the_children(kernel):
    code = "import os\nfor _ in range(5):\n    pid = os.fork()\n    if pid == 0:\n        os.getppid(); os._exit(0)\n    os.waitpid(pid, 0)\n"
    proc = subprocess.Popen([sys.executable, "-c", "import sys\nsys.stdin.read(1)\n" + code],
                            stdin=subprocess.PIPE, text=True)
    with systrace.count("getppid", pid=proc.pid, follow=True) as s:
        proc.stdin.write("x")
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    assert [c.calls for c in s.counts()] == [5]
    assert len({c.pid for c in s.counts(per_process=True)}) == 5


def test_bad_counting_arguments():
    with pytest.raises(ValueError, match="unknown syscall"):
        systrace.count("nosuchcall")
    with pytest.raises(TypeError):
        systrace.count("getppid", follow="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count=True"):
        systrace.Session("read", strings=True, count=True)


COMMAND_COUNTS = r"""
import json, sys, tempfile
import systrace._native as native
from systrace import cli

with tempfile.NamedTemporaryFile("r") as out:
    code = cli.main(["-c", "-e", "trace=getppid", "-o", out.name, "--", sys.executable, "-c",
                     "import os\nfor _ in range(1000): os.getppid()\n"])
    table = out.read()
state = native.kernel_state()
print(json.dumps({"code": code, "table": table, "records": state["records"], "hooks": state["hook_mode"]}))
"""


def test_the_command_counts_without_delivering_the_calls(kernel):
    # systrace -c: the table comes from the kernel's counts; the tracing
    # session beside it (to follow the command) must carry only the few
    # calls it needs, not every call of the command as events.
    p = subprocess.run([sys.executable, "-c", COMMAND_COUNTS], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.splitlines()[-1])
    assert got["code"] == 0
    rows = {line.split()[-1]: line.split() for line in got["table"].splitlines() if line.split()}
    assert rows["getppid"][3] == "1000", got["table"]
    # The command's execve and exit_group (enter and exit each), nothing of
    # the thousands of calls Python makes starting up.
    assert got["records"] <= 8, got
    assert got["hooks"] == "syscall"


@pytest.mark.parametrize("mode", ["raw", "syscall"])
def test_a_call_begun_while_nobody_counted_is_not_counted_with_an_older_start(kernel, monkeypatch, mode):
    # The thread's start of read(p1) outlived its uncounted exit; read(p2)
    # began uncounted, so the next counting session must not count it with
    # read(p1)'s start (it reported one read of the whole gap).
    import time

    from test_filter_marks import blocked_in_read, pipe_reader

    monkeypatch.setenv("SYSTRACE_HOOKS", mode)
    with pipe_reader(3) as (child, pipes):
        go, p1, p2 = (r for r, _ in pipes)
        blocked_in_read(child.pid, go)
        first = systrace.count("read", pid=child.pid)
        os.write(pipes[0][1], b"g")
        blocked_in_read(child.pid, p1)  # its start is in the thread's storage
        first.close()
        os.write(pipes[1][1], b"1")
        blocked_in_read(child.pid, p2)  # begins uncounted
        time.sleep(0.2)
        second = systrace.count("read", pid=child.pid)
        os.write(pipes[2][1], b"2")
        assert child.wait(timeout=30) == 0
        second.close()
    assert [(c.name, c.calls) for c in second.counts() if c.calls] == [], [
        (c.name, c.calls, c.time_ns) for c in second.counts()]


# Forks `n` children, each of which makes one call of every syscall number
# in [first, first + kinds): numbers no table names (ENOSYS), each its own
# (process, syscall) pair in the kernel's counting maps.
KINDS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None)
n, first, kinds = (int(a) for a in sys.argv[1:4])
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        for nr in range(first, first + kinds):
            libc.syscall(nr)
        os._exit(0)
    os.waitpid(pid, 0)
"""
# 150 children x 500 kinds: more pairs than the maps' 65536 entries.
KIND_ARGS = ["150", "500", "500"]
KIND_CALLS = 150 * 500
# Those numbers alone are counted: the children's other calls past the
# full maps would be uncounted too.
KIND_NAMES = [f"syscall_{nr:#x}" for nr in range(500, 1000)]


def test_calls_the_counting_maps_had_no_room_for_are_counted_and_told(kernel):
    """A tree with more (process, syscall) pairs than the counting maps
    hold: the calls past them are in `session.uncounted` and the warning
    (before: 10,496 of 75,000 calls missing from the counts, silently)."""
    code = r"""
import json, sys, warnings, systrace
sys.argv[1:] = %r
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with systrace.count(*%r, follow=True) as s:
        exec(%r)
counted = sum(c.calls for c in s.counts() if 500 <= c.nr < 1000)
print(json.dumps({"counted": counted, "uncounted": s.uncounted,
                  "warned": [str(w.message) for w in caught]}))
""" % (KIND_ARGS, KIND_NAMES, KINDS)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.splitlines()[-1])
    assert got["uncounted"] > 0, got
    # No call missing unsaid. A call counted whose errno found no room is in
    # `uncounted` too (an upper bound: a few, the maps fill almost together).
    assert KIND_CALLS <= got["counted"] + got["uncounted"] <= KIND_CALLS * 1.01, got
    told = f"could not count {got['uncounted']} calls (the kernel's counting maps had no entry"
    assert any(told in w for w in got["warned"]), got


def _command_rows(out):
    """-c's table: (calls, errors) per syscall name."""
    rows = {}
    for line in out.read_text().splitlines():
        words = line.split()
        if len(words) == 6 and words[3].isdigit() and words[-1] != "total":
            rows[words[-1]] = (int(words[3]), int(words[4]))
    return rows


def _command_counts(out):
    """-c's table: calls per syscall name."""
    counts = {}
    for line in out.read_text().splitlines():
        words = line.split()
        if len(words) >= 5 and words[3].isdigit() and words[-1] != "total":
            counts[words[-1]] = int(words[3])
    return counts


def test_the_command_counts_a_tree_past_the_maps_exactly(kernel, tmp_path):
    # systrace -c -f on the same tree: -c's table sums the processes, so the
    # command counts per syscall and traced root (a few hundred entries),
    # and counts every call (before: 10,000-odd of 75,000 left out, and
    # told, as the library's per-process counts above still are).
    out = tmp_path / "table"
    p = subprocess.run([sys.executable, "-m", "systrace.cli", "-c", "-f", "-o", str(out),
                        "-e", "trace=" + ",".join(KIND_NAMES), "--",
                        sys.executable, "-c", KINDS, *KIND_ARGS],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "could not be counted" not in p.stderr, p.stderr
    counts = _command_counts(out)
    assert {n: counts.get(n) for n in KIND_NAMES} == {n: 150 for n in KIND_NAMES}


# Two threads make the same failing calls at once: each (syscall, errno)
# entry of the counting maps is made by both CPUs together.
SAME_ERRORS_AT_ONCE = r"""
import ctypes, threading
libc = ctypes.CDLL(None)
libc.syscall.restype = ctypes.c_long
nrs = [int(a) for a in __import__("sys").argv[1:]]
barrier = threading.Barrier(2)
def run():
    barrier.wait()
    for nr in nrs:
        libc.syscall(nr, -1, 0, 0, 0, 0, 0)  # a bad fd: EBADF
threads = [threading.Thread(target=run) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
"""
# Calls on an fd that Python's start makes none of.
BAD_FD_CALLS = {"fsync": 74, "fdatasync": 75, "flock": 73, "fchdir": 81, "listen": 50, "bind": 49,
                "getsockname": 51, "getpeername": 52, "setsockopt": 54, "getsockopt": 55, "ftruncate": 77,
                "fchmod": 91, "fchown": 93, "readahead": 187, "fsetxattr": 190, "fgetxattr": 193,
                "flistxattr": 196, "fremovexattr": 199, "fadvise64": 221, "epoll_ctl": 233,
                "inotify_add_watch": 254, "sync_file_range": 277,
                "fallocate": 285, "timerfd_gettime": 287, "syncfs": 306, "copy_file_range": 326}


def test_the_command_counts_the_errors_two_threads_make_at_once(kernel, tmp_path):
    # Before: the CPU that lost the race to make an errno's entry left its
    # call out (told as "could not be counted"): the build before failed
    # this test in each of 4 runs, within its first two commands.
    out = tmp_path / "table"
    for _ in range(12):
        p = subprocess.run([sys.executable, "-m", "systrace.cli", "-c", "-f", "-o", str(out),
                            "-e", "trace=" + ",".join(BAD_FD_CALLS), "--", "/usr/bin/python3", "-c",
                            SAME_ERRORS_AT_ONCE, *map(str, BAD_FD_CALLS.values())],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "could not be counted" not in p.stderr, p.stderr
        rows = {line.split()[-1]: line.split()[3:5] for line in out.read_text().splitlines()[2:-2]}
        assert rows == {name: ["2", "2"] for name in BAD_FD_CALLS}, out.read_text()


def test_counting_first_threads_again_keeps_the_mark(kernel):
    # The command's -c without -f marks each first thread's start storage
    # as its session begins; a second such session on the same process,
    # opened while the first counts, finds the storage made (the mark, a
    # start) and adds to it: both count on.
    def session():
        return native.Session(pid=os.getpid(), count=True, _count_by_root=True, _count_first_thread=True)

    def getppids(s):
        return [(c.name, c.calls) for c in s.counts() if c.name == "getppid"]

    with session() as first:
        for _ in range(50):
            os.getppid()
        with session() as second:
            for _ in range(30):
                os.getppid()
            assert getppids(second) == [("getppid", 30)], getppids(second)
        assert getppids(first) == [("getppid", 80)], getppids(first)


def test_the_command_tells_the_calls_it_could_not_count(kernel, tmp_path):
    # Maps smaller than the syscalls counted (SYSTRACE_MAX_COUNTS): the end
    # of the run says how many calls the table lacks, and they add up.
    out = tmp_path / "table"
    env = dict(os.environ, SYSTRACE_MAX_COUNTS="100")
    p = subprocess.run([sys.executable, "-m", "systrace.cli", "-c", "-f", "-o", str(out),
                        "-e", "trace=" + ",".join(KIND_NAMES), "--",
                        sys.executable, "-c", KINDS, "2", "500", "500"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    told = re.search(r"systrace: (\d+) calls could not be counted", p.stderr)
    assert told, p.stderr
    # The first 100 syscalls in the maps, the next 16 in the spare entries
    # (a sixty-fourth of the maps, 16 at least; before: none), each called
    # by both children and failing (ENOSYS); the other 384 told.
    rows = _command_rows(out)
    assert len(rows) == 116 and set(rows.values()) == {(2, 2)}, rows
    assert int(told.group(1)) == 2 * 384, p.stderr


def test_the_spare_entries_keep_each_process_and_errno(kernel):
    # The library counts per process: the 16 spare entries are the first
    # child's 16 syscalls past the 100 of the maps, with their errno.
    code = r"""
import json, sys, systrace
sys.argv[1:] = ["2", "500", "500"]
with systrace.count(*%r, follow=True) as s:
    exec(%r)
rows = [(c.pid, c.nr, c.calls, c.errors, c.errnos) for c in s.counts() if 500 <= c.nr < 1000]
print(json.dumps({"rows": rows, "uncounted": s.uncounted}))
""" % (KIND_NAMES, KINDS)
    env = dict(os.environ, SYSTRACE_MAX_COUNTS="100")
    p = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                       text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.splitlines()[-1])
    rows = got["rows"]
    assert len({pid for pid, *_ in rows}) == 1, rows
    assert sorted(nr for _, nr, *_ in rows) == list(range(500, 616)), rows
    assert all(r[2:] == [1, 1, {"ENOSYS": 1}] for r in rows), rows
    assert got["uncounted"] == 2 * 500 - 116, got


def test_a_session_counting_by_root_loads_for_it(kernel):
    """Without the command's early load, the first session that counts by
    root loads programs that count by root (exact for any tree), not the
    per-process counting that loses calls past its maps; so does one
    opened after a per-process load is no longer used."""
    code = r"""
import json, os, systrace
from systrace import _native
out = {}
with _native.Session("getppid", count=True, pid=[1], _count_by_root=True) as s:
    out["fresh"] = _native.kernel_state()["features"]
with systrace.count("getppid") as s:
    out["per_process"] = _native.kernel_state()["features"]
with _native.Session("getppid", count=True, _count_by_root=True) as s:
    os.getppid()
    out["after"] = _native.kernel_state()["features"]
out["rows"] = [(c.name, c.pid, c.calls) for c in s.counts()]
print(json.dumps(out))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.splitlines()[-1])
    assert "count_by_root" in got["fresh"], got
    assert "count_by_root" not in got["per_process"], got
    assert "count_by_root" in got["after"], got
    assert got["rows"] == [["getppid", None, 1]], got


def test_counts_by_root_are_per_syscall_only(kernel):
    """The command's load counts per syscall and traced root: a count per
    process cannot be read from it, and a session that may want one gets
    programs that count per process (loaded again), or, while a session
    is open on the other load, an error that names it."""
    code = r"""
import json, os, time, systrace
from systrace import _native
_native._start_loading(1 << 20, _native.SyscallSet("getppid"), False, True, False, None,
                       count_by_root=True)
while not _native.kernel_state()["features"]:
    time.sleep(0.01)  # the load's thread, before a session loads its own
out = {}
with _native.Session("getppid", count=True, buffer_size=1 << 20, _count_by_root=True) as s:
    os.getppid()
    out["features"] = _native.kernel_state()["features"]
    try:
        s.counts(per_process=True)
    except ValueError as e:
        out["per_process"] = str(e)
    try:
        _native.Session("getppid", count=True, buffer_size=1 << 20).close()
    except Exception as e:
        out["beside"] = type(e).__name__ + ": " + str(e)
out["rows"] = [(c.name, c.pid, c.calls) for c in s.counts()]
with systrace.count("getppid") as s:
    os.getppid()
out["again"] = _native.kernel_state()["features"]
out["per_pid"] = [(c.name, c.pid, c.calls) for c in s.counts(per_process=True)]
out["pid"] = os.getpid()
print(json.dumps(out))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.splitlines()[-1])
    assert "count_by_root" in got["features"], got
    assert "counts per syscall only" in got["per_process"], got
    assert "loaded without counting per process" in got["beside"], got
    assert got["rows"] == [["getppid", None, 1]], got
    assert "count_by_root" not in got["again"], got
    assert got["per_pid"] == [["getppid", got["pid"], 1]], got
