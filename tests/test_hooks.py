"""The kind of kernel hooks (issue 15): the per-syscall events
(syscalls/sys_enter_NAME) while few syscalls are enabled, the raw_syscalls
hooks for many, chosen per registered set and switched as sessions come and
go, without losing or doubling a call.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import systrace
import systrace._native as native
from conftest import wait_hooks_closed
from test_core import bpf_link_fds


def state() -> dict:
    return dict(native.kernel_state())


@pytest.fixture
def hooks(monkeypatch):
    """Sets SYSTRACE_HOOKS for the test (read at every registration)."""
    def set_mode(mode: str) -> None:
        monkeypatch.setenv("SYSTRACE_HOOKS", mode)
    monkeypatch.delenv("SYSTRACE_HOOKS", raising=False)
    return set_mode


def test_small_sets_hook_the_syscall_events_large_ones_the_raw_hooks(kernel, hooks):
    with systrace.enable("getppid", "read") as small:
        s = state()
        assert (s["hook_mode"], s["event_hooks"]) == ("syscall", 4)
        assert s["attached_enter"] and s["attached_exit"]
        with systrace.enable(pid=os.getpid()):
            s = state()
            assert (s["hook_mode"], s["event_hooks"]) == ("raw", 0)
        s = state()
        assert (s["hook_mode"], s["event_hooks"]) == ("syscall", 4)
        with systrace.enable("getpid", enter=False):  # one more exit event
            assert state()["event_hooks"] == 5
        assert state()["event_hooks"] == 4
        os.getppid()
    mine = [e.phase for e in small.events() if e.tid == threading.get_native_id() and e.name == "getppid"]
    assert mine == ["enter", "exit"]
    s = state()
    assert not s["attached_enter"] and not s["attached_exit"] and s["event_hooks"] == 0


def test_the_override_forces_either_kind(kernel, hooks):
    hooks("raw")
    with systrace.enable("getppid"):
        assert state()["hook_mode"] == "raw"
    hooks("syscall")
    many = ["read", "write", "openat", "close", "lseek", "mmap", "mprotect", "munmap", "brk", "pread64",
            "pwrite64", "readv", "writev", "access", "pipe", "dup", "dup2", "getpid", "getppid", "socket"]
    assert len(many) > 16  # past what auto hooks one by one
    with systrace.enable(*many):
        assert (state()["hook_mode"], state()["event_hooks"]) == ("syscall", 2 * len(many))
    hooks("bogus")
    with pytest.raises(ValueError, match="SYSTRACE_HOOKS"):
        systrace.enable("getppid")
    assert state()["sessions"] == 0 and not state()["attached_enter"]


def test_counting_alone_uses_the_syscall_events(kernel, hooks):
    with systrace.count("getppid") as c:
        assert (state()["hook_mode"], state()["event_hooks"]) == ("syscall", 2)
        for _ in range(100):
            os.getppid()
    assert sum(n.calls for n in c.counts()) == 100


def workload_events(mode: str, hooks) -> list:
    """What a fixed run of reads, getppid and a failing openat gives with
    the hooks of `mode`."""
    hooks(mode)
    fd = os.open("/dev/zero", os.O_RDONLY)
    buf = bytearray(64)
    me = threading.get_native_id()
    try:
        with systrace.enable("read", "getppid", "openat", "readv") as s:
            assert state()["hook_mode"] == mode
            for i in range(50):
                os.readv(fd, [memoryview(buf)[: i + 1]])
                os.getppid()
            with pytest.raises(FileNotFoundError):
                os.open("/nonexistent/hooks", os.O_RDONLY)
    finally:
        os.close(fd)
    assert s.dropped == 0
    out = []
    for e in s.events():
        if e.tid != me:
            continue
        args = dict(e.args)
        args.pop("vec", None)  # an address
        args.pop("filename", None)
        out.append((e.name, e.phase, sorted(args.items()), e.ret, len(e.raw_args), e.comm, e.pid))
    return out


def test_both_kinds_deliver_the_same_events(kernel, hooks):
    raw = workload_events("raw", hooks)
    events = workload_events("syscall", hooks)
    assert len(raw) == 2 * 101  # 50 readv, 50 getppid, one openat
    assert raw == events


def test_exits_that_never_come_are_not_hooked(kernel, hooks):
    # exit and exit_group do not return, and rt_sigreturn's exit says the
    # number -1: their exit events never fire, and a hook on them would
    # only cost its attach and, after the session, a grace period to close.
    script = ("import os, signal; signal.signal(signal.SIGUSR1, lambda *a: None); "
              "os.kill(os.getpid(), signal.SIGUSR1); os._exit(3)")
    for mode in ("syscall", "raw"):
        hooks(mode)
        p = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read(1); " + script],
                             stdin=subprocess.PIPE)
        with systrace.enable("getppid", "exit_group", "rt_sigreturn", pid=p.pid) as s:
            if mode == "syscall":
                assert state()["event_hooks"] == 4, state()  # 3 enters, getppid's exit
            p.communicate(b"x")
        assert p.returncode == 3
        events = [(e.phase, e.name) for e in s]
        assert events.count(("enter", "rt_sigreturn")) == 1, events
        assert events.count(("enter", "exit_group")) == 1, events
        assert not any(phase == "exit" and name != "getppid" for phase, name in events), events


LOOP = r"""
import os, sys
sys.stdin.read(1)
n = 0
while not os.path.exists(sys.argv[1]):  # a stat, not traced
    for _ in range(1000):
        os.getppid()
    n += 1000
print(n)
"""


def test_switching_under_load_loses_and_doubles_nothing(kernel, hooks, tmp_path):
    """A process calls getppid a known number of times while another
    session comes and goes with every syscall of an idle process enabled:
    each time, the hooks switch from the per-syscall events to the raw
    hooks and back, under the calls. The session that traces the busy
    process, and one that counts its calls, must each see every call once."""
    # The loop runs until told, so that it spans the switches on a quiet
    # machine too, and says how many calls it made.
    stop = tmp_path / "stop"
    busy = subprocess.Popen([sys.executable, "-c", LOOP, str(stop)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    idle = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True)
    try:
        before = state()
        with systrace.enable("getppid", pid=busy.pid) as s, systrace.count("getppid", pid=busy.pid) as c:
            assert state()["hook_mode"] == "syscall"
            busy.stdin.write("x")
            busy.stdin.close()
            flips = 0
            while flips < 6:
                with systrace.enable(pid=idle.pid):
                    assert state()["hook_mode"] == "raw"
                assert state()["hook_mode"] == "syscall"
                flips += 1
            assert busy.poll() is None, "the loop must run across the switches"
            stop.touch()
            out = busy.stdout.read()
            assert busy.wait(timeout=120) == 0
            n = int(out)
        after = state()
    finally:
        idle.stdin.close()
        idle.wait(timeout=30)
        if busy.poll() is None:
            busy.kill()
    assert after["hook_switches"] - before["hook_switches"] >= 2 * flips
    assert after["handoff_unsure"] == before["handoff_unsure"]
    events = [e for e in s.events() if e.pid == busy.pid]
    enters = sum(1 for e in events if e.phase == "enter")
    exits = sum(1 for e in events if e.phase == "exit")
    assert s.dropped == 0
    assert (enters, exits) == (n, n), f"{flips} switches"
    print(f"{flips} switches each way under {n} calls")
    assert sum(x.calls for x in c.counts()) == n


def test_each_kind_is_loaded_when_first_needed(kernel):
    """A run that only ever traces a few syscalls does not pay the verifier
    for the raw hooks (start-up), and preload() loads both kinds."""
    code = (
        "import os, systrace, systrace._native as n\n"
        "with systrace.enable('getppid'):\n"
        "    print(n.kernel_state()['hook_mode'], len(n.kernel_state()['prog_ids']))\n"
        "    with systrace.enable(pid=os.getpid()):\n"
        "        print(n.kernel_state()['hook_mode'], len(n.kernel_state()['prog_ids']))\n"
        "print(n.kernel_state()['hook_mode'], len(n.kernel_state()['prog_ids']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["syscall 2", "raw 4", "syscall 4"]
    systrace.preload()
    assert len(state()["prog_ids"]) == 4


TEN = ["getppid", "getpid", "getuid", "getgid", "geteuid", "getegid", "gettid", "getpgrp", "sched_yield", "umask"]


def test_closed_hooks_are_retired_taken_back_and_closed(kernel, hooks):
    """Closing a per-syscall hook waits for the kernel's grace periods, one
    at a time: a session's hooks are retired to a thread of ours and closed
    in the background. One opened again at once takes its hooks back (or
    waits for the one being closed): a call is still seen exactly once, and
    in the end no hook is left open."""
    s0 = wait_hooks_closed()
    assert s0["hooks_closing"] == 0 and bpf_link_fds() == []
    with systrace.enable(*TEN):
        assert state()["event_hooks"] == 20
    s1 = state()
    retired = s1["hooks_closing"] + s1["hooks_closed"] - s0["hooks_closed"]
    assert retired == 20, s1
    tid = threading.get_native_id()
    with systrace.enable(*TEN) as again:
        assert state()["event_hooks"] == 20
        for _ in range(1000):
            os.getppid()
    mine = [e.phase for e in again.events() if e.tid == tid and e.name == "getppid"]
    assert (mine.count("enter"), mine.count("exit")) == (1000, 1000)
    assert again.dropped == 0
    s2 = wait_hooks_closed()
    assert s2["hooks_closing"] == 0 and s2["event_hooks"] == 0
    assert bpf_link_fds() == [], "a per-syscall hook was left open"


def link_ids() -> set:
    return {int(line.split()[1]) for info in bpf_link_fds() for line in info.splitlines()
            if line.startswith("link_id:")}


def test_a_session_opened_right_after_the_last_closed_takes_its_hooks_back(kernel, hooks):
    """Retired hooks linger a moment before they are closed: a loop of
    sessions on the same syscalls (`with systrace.enable(...)` around each
    step of a program) reuses the very same hooks, closes none of them and
    attaches none again. Before, the closing thread began at once, and each
    new session waited for the close under way (a grace period) and
    attached that event again."""
    wait_hooks_closed()
    with systrace.enable(*TEN):
        first = link_ids()
        assert len(first) == 20
    closed = state()["hooks_closed"]
    for _ in range(5):
        with systrace.enable(*TEN):
            os.getppid()
            assert link_ids() == first
    assert state()["hooks_closed"] == closed
    s = wait_hooks_closed()
    assert s["hooks_closed"] == closed + 20 and bpf_link_fds() == []


def test_the_closing_thread_is_not_in_any_trace(kernel, hooks):
    """The thread that closes retired hooks makes syscalls (close) while a
    session traces this very process: none of them is in its trace."""
    wait_hooks_closed()
    me = threading.get_native_id()
    with systrace.enable("close", "futex", "munmap", "madvise", pid=os.getpid()) as own:
        with systrace.enable(*TEN):
            pass
        assert state()["hooks_closing"] + state()["hooks_closed"] > 0
        wait_hooks_closed()
    reaper = [int(t) for t in os.listdir("/proc/self/task")
              if open(f"/proc/self/task/{t}/comm").read().strip() == "systrace-reaper"]
    assert len(reaper) == 1
    tids = {e.tid for e in own.events()}
    assert reaper[0] not in tids
    assert tids <= {me}, f"threads other than the test's in its own trace: {tids - {me}}"


CHILD_GETPPIDS = "import os, sys\nsys.stdin.buffer.read(1)\nfor _ in range(500): os.getppid()\n"


def test_a_close_waits_for_probes_in_flight_unless_its_processes_ended(kernel, hooks):
    """Retiring per-syscall hooks waits for the probes in flight (a grace
    period) so that the close's flush has every record. A session whose
    processes have all ended (reaped, no forks followed) can have none in
    flight: its close does not wait, and still has every call. A session
    of a live process, or one following forks, still waits."""
    def traced_child(follow: bool, reap: bool) -> tuple:
        child = subprocess.Popen([sys.executable, "-c", CHILD_GETPPIDS], stdin=subprocess.PIPE)
        s = systrace.enable("getppid", pid=child.pid, follow=follow)
        assert state()["hook_mode"] == "syscall"
        child.stdin.write(b"x")
        child.stdin.close()
        if reap:
            assert child.wait(timeout=30) == 0
        before = state()["probe_waits"]
        s.close()
        waited = state()["probe_waits"] - before
        calls = [e.phase for e in s.events() if e.pid == child.pid]
        if not reap:
            child.wait(timeout=30)
        return waited, calls, s.dropped

    waited, calls, dropped = traced_child(follow=False, reap=True)
    assert waited == 0
    assert (calls.count("enter"), calls.count("exit"), dropped) == (500, 500, 0)
    waited, calls, dropped = traced_child(follow=True, reap=True)
    assert waited == 1
    assert (calls.count("enter"), calls.count("exit"), dropped) == (500, 500, 0)
    waited, _, _ = traced_child(follow=False, reap=False)
    assert waited == 1


def our_event_links() -> int:
    out = subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    import json
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                                      check=True).stdout)
    ours = {p["id"] for p in progs if p.get("name") in ("sys_enter_event", "sys_exit_event")}
    return sum(1 for link in json.loads(out) if link.get("prog_id") in ours)


def no_event_links_left(timeout: float = 30.0) -> int:
    """Waits until no systrace process's per-syscall hook is left (the
    children of earlier processes, the kernel probe's included, close
    theirs after those exit); returns how many are left."""
    import time
    wait_hooks_closed()  # this process's own, from the tests before
    deadline = time.monotonic() + timeout
    while our_event_links() and time.monotonic() < deadline:
        time.sleep(0.05)
    return our_event_links()


def test_the_command_leaves_closing_its_hooks_to_a_child_that_outlives_it(kernel, tmp_path):
    """The command's exit does not wait for the kernel to close its
    per-syscall hooks (a grace period each): a child sharing its fds holds
    them and exits once the command is gone, and then nothing is left."""
    import time
    assert no_event_links_left() == 0
    marker = tmp_path / "m"
    r = subprocess.run([sys.executable, "-m", "systrace", "-e", "trace=openat", "-o", str(tmp_path / "out"),
                        "--", "sh", "-c", f"exec 3>{marker}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert str(marker) in (tmp_path / "out").read_text()
    def left() -> str:
        return subprocess.run(["pgrep", "-f", f"systrace -e trace=openat -o {tmp_path}"], capture_output=True,
                              text=True).stdout

    # The child closes the hooks, then exits.
    deadline = time.monotonic() + 30
    while (our_event_links() or left()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert our_event_links() == 0, "the command's per-syscall hooks outlived it"
    assert left() == "", f"a process of the command is still there: {left()}"


FORTY = TEN + ["getsid", "getpgid", "getpriority", "getrlimit", "getrusage", "sysinfo", "times", "getcwd",
               "getgroups", "getresuid", "getresgid", "capget", "personality", "sched_getscheduler",
               "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "getitimer", "alarm",
               "pause", "uname", "sync", "fsync", "fdatasync", "flock", "dup", "dup2", "pipe", "nanosleep",
               "setuid"]


def test_the_commands_output_ends_when_it_exits_not_when_its_hooks_are_closed(kernel, tmp_path):
    """`$(systrace -- date)`: the command's output reaches its end when the
    command exits. The child left to close its hooks (80 here, a grace
    period each) keeps none of its other fds: this output came back while
    it still held the hooks."""
    assert no_event_links_left() == 0
    r = subprocess.run([sys.executable, "-m", "systrace", "-e", "trace=" + ",".join(FORTY), "-o",
                        str(tmp_path / "out"), "--", "echo", "done"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SYSTRACE_HOOKS="syscall"))
    left = our_event_links()
    assert r.returncode == 0 and r.stdout == "done\n", r.stderr
    assert left > 0, "the output ended only after every hook was closed"
    assert no_event_links_left(60) == 0, "the command's per-syscall hooks outlived it"


def test_a_script_exits_without_waiting_for_its_hooks_to_be_closed(kernel):
    """A Python program that used per-syscall hooks (80 here, retired at its
    session's close) is reaped at once: the package's exit handler leaves
    the hooks to a child that closes them once the program is gone. Before,
    the exiting process closed them itself, a grace period each, and was
    reaped only after the last one (so none was left when run() returned)."""
    assert no_event_links_left() == 0
    code = f"import os, systrace\nwith systrace.enable(*{FORTY!r}):\n    os.getppid()\nprint('done')\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SYSTRACE_HOOKS="syscall"))
    left = our_event_links()
    assert r.returncode == 0 and r.stdout == "done\n", r.stderr
    assert left > 0, "the script was reaped only after every hook was closed"
    assert no_event_links_left(60) == 0, "the script's per-syscall hooks outlived it"
