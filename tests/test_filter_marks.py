"""The mark that holds a call's enter for a filter decided at exit
(`ret`): it is only ever taken by the exit of the call that left it. A
mark whose call's exit went by undecided (no filter then, one decided at
enter, or an exit nobody traced) is not sent with a later call's exit.
Real kernel, a child blocked in reads of pipes the test controls."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest

import systrace
import systrace._native as native

pytestmark = pytest.mark.usefixtures("kernel")

# Reads one byte from each fd in turn: the test writes it when it wants the
# read to return.
CHILD = r"""
import os, sys
for fd in sys.argv[1:]:
    os.read(int(fd), 1)
"""


@contextlib.contextmanager
def pipe_reader(n: int):
    """A child that reads a byte from each of `n` pipes in turn (CHILD);
    yields it and the pipes, and leaves nothing behind."""
    pipes = [os.pipe() for _ in range(n)]
    reads = [r for r, _ in pipes]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *map(str, reads)], pass_fds=reads)
    try:
        yield child, pipes
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for r, w in pipes:
            os.close(r)
            os.close(w)


@pytest.fixture
def hooks(monkeypatch):
    """Sets SYSTRACE_HOOKS for the test (read at every registration)."""
    monkeypatch.delenv("SYSTRACE_HOOKS", raising=False)
    return lambda mode: monkeypatch.setenv("SYSTRACE_HOOKS", mode)


def blocked_in_read(pid: int, fd: int, timeout: float = 30.0) -> None:
    """Waits until `pid` sleeps in read(fd): its enter has been traced."""
    want = f"{native.syscall_nr('read')} {fd:#x} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/syscall") as f:
            if f.read().startswith(want):
                return
        time.sleep(0.005)
    raise AssertionError(f"{pid} did not block in read({fd})")


def between(kind: str, pid: int):
    """The session open while the held call returns and the next begins."""
    if kind == "unfiltered":
        return systrace.enable("read", pid=pid)
    if kind == "at_enter":  # names only args: decided at enter
        return systrace.enable("read", pid=pid, filter="fd != 9999")
    if kind == "enter_only":  # the held call's exit is not traced
        return systrace.enable("sys_enter_read", pid=pid)
    assert kind == "untraced"  # nobody traces read meanwhile
    return None


@pytest.mark.parametrize("mode", ["raw", "syscall"])
@pytest.mark.parametrize("kind", ["unfiltered", "at_enter", "enter_only", "untraced"])
def test_a_mark_left_by_an_earlier_call_is_not_sent_with_a_later_exit(hooks, mode, kind):
    """A holds read(p1)'s enter; the filter is lifted (or the exit not
    traced) while read(p1) returns and read(p2) begins; A2 then filters on
    ret again. read(p2) began before A2's filter: A2 gets nothing of it,
    and nothing crosses the ring buffer for it (not p1's held enter)."""
    hooks(mode)
    with pipe_reader(4) as (child, pipes):
        go, p1, p2, p3 = (r for r, _ in pipes)
        blocked_in_read(child.pid, go)
        a = systrace.enable("read", pid=child.pid, filter="ret == 1")
        assert native.kernel_state()["hook_mode"] == mode
        os.write(pipes[0][1], b"g")
        blocked_in_read(child.pid, p1)  # its enter is held in the mark
        b = between(kind, child.pid)
        a.close()
        os.write(pipes[1][1], b"1")
        blocked_in_read(child.pid, p2)
        opened = time.monotonic_ns()
        a2 = systrace.enable("read", pid=child.pid, filter="ret == 1")
        if b is not None:
            b.close()
        assert native.kernel_state()["hook_mode"] == mode
        before = native.kernel_state()["records"]
        os.write(pipes[2][1], b"2")
        blocked_in_read(child.pid, p3)  # held for A2, whose session ends first
        a2.close()  # delivers what the ring buffer holds
        sent = native.kernel_state()["records"] - before
        os.write(pipes[3][1], b"3")
        assert child.wait(timeout=30) == 0
    evs = a2.events()
    assert not [e for e in evs if e.phase == "enter" and e.args["fd"] == p1], "p1's held enter"
    assert all(e.timestamp_ns >= opened for e in evs), "an event from before A2 opened"
    assert evs == []
    assert sent == 0, "read(p2)'s exit, or p1's held enter, crossed the ring buffer"
    assert a2.dropped == 0
    # A itself got the calls that began and ended under its filter: none.
    assert a.events() == [] and a.dropped == 0


@pytest.mark.parametrize("mode", ["raw", "syscall"])
@pytest.mark.parametrize("kind", ["unfiltered", "at_enter"])
def test_a_session_open_throughout_gets_a_held_call_whole_once(hooks, mode, kind):
    """W filters read at enter on fd == p1 while A's filter on ret holds
    read(p1)'s enter; the kernel's filter is lifted (or decided at enter)
    before read(p1) returns, then decided at exit again for A2 before
    read(p2) returns. W gets read(p1) whole, its enter once, and nothing
    of read(p2) (not p1's enter again, with p2's exit)."""
    hooks(mode)
    with pipe_reader(4) as (child, pipes):
        go, p1, p2, p3 = (r for r, _ in pipes)
        blocked_in_read(child.pid, go)
        w = systrace.enable("read", pid=child.pid, filter=f"fd == {p1}")
        a = systrace.enable("read", pid=child.pid, filter="ret == 1")
        assert native.kernel_state()["hook_mode"] == mode
        os.write(pipes[0][1], b"g")
        blocked_in_read(child.pid, p1)  # its enter is held in the mark
        b = between(kind, child.pid)
        a.close()
        os.write(pipes[1][1], b"1")
        blocked_in_read(child.pid, p2)
        a2 = systrace.enable("read", pid=child.pid, filter="ret == 1")
        b.close()
        p2_written = time.monotonic_ns()
        os.write(pipes[2][1], b"2")
        blocked_in_read(child.pid, p3)
        a2.close()
        w.close()
        os.write(pipes[3][1], b"3")
        assert child.wait(timeout=30) == 0
    evs = w.events()
    assert [(e.phase, e.args["fd"] if e.phase == "enter" else e.ret) for e in evs] == [("enter", p1), ("exit", 1)]
    assert evs[0].tid == evs[1].tid == child.pid
    assert evs[0].timestamp_ns < evs[1].timestamp_ns < p2_written, "read(p1)'s exit, not read(p2)'s"
    assert w.dropped == 0
    # B opened after read(p1) began: its exit (unless B decides at
    # enter), then read(p2)'s enter (B closed before its exit).
    got = [(e.phase, e.args["fd"] if e.phase == "enter" else e.ret) for e in b.events()]
    assert got == ([("exit", 1)] if kind == "unfiltered" else []) + [("enter", p2)], got
    assert a2.events() == [] and a2.dropped == 0


@pytest.mark.parametrize("mode", ["raw", "syscall"])
def test_a_mark_left_while_nobody_traced_the_exit_is_not_sent_unfiltered(hooks, mode):
    """A holds read(p1)'s enter and closes: nobody traces read while
    read(p1) returns and read(p2) begins. B, unfiltered, then gets
    read(p2)'s exit alone: not p1's held enter before it (an exit with no
    ret filter sends the held enter of its own call only)."""
    hooks(mode)
    with pipe_reader(3) as (child, pipes):
        go, p1, p2 = (r for r, _ in pipes)
        blocked_in_read(child.pid, go)
        a = systrace.enable("read", pid=child.pid, filter="ret == 1")
        assert native.kernel_state()["hook_mode"] == mode
        os.write(pipes[0][1], b"g")
        blocked_in_read(child.pid, p1)
        a.close()
        os.write(pipes[1][1], b"1")
        blocked_in_read(child.pid, p2)
        b = systrace.enable("read", pid=child.pid)
        assert native.kernel_state()["hook_mode"] == mode
        before = native.kernel_state()["records"]
        os.write(pipes[2][1], b"2")
        assert child.wait(timeout=30) == 0
        b.close()
        sent = native.kernel_state()["records"] - before
    got = [(e.phase, e.args["fd"] if e.phase == "enter" else e.ret) for e in b.events()]
    assert got == [("exit", 1)], got
    assert sent == 1, "p1's held enter crossed the ring buffer"
    assert a.events() == [] and b.dropped == 0
