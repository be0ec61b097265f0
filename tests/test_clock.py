"""Sessions without the clock (enable(..., clock=False)): the programs skip
their two clock reads per call while no open session wants the time, and
such a session numbers its events in order instead."""
from __future__ import annotations

import os
import time

import pytest

import systrace
from systrace import _native


def clock_sessions() -> int:
    return _native.kernel_state()["clock_sessions"]


def test_a_session_without_the_clock_numbers_its_events(kernel):
    base = clock_sessions()
    with systrace.enable("getppid", clock=False) as s:
        assert clock_sessions() == base, "a session without the clock turned it on"
        for _ in range(1000):
            os.getppid()
    events = list(s)
    assert s.dropped == 0
    assert [e.timestamp_ns for e in events] == list(range(1, 2001))
    assert [e.phase for e in events] == ["enter", "exit"] * 1000
    assert all(e.name == "getppid" and e.pid == os.getpid() for e in events)


def test_the_clock_is_read_while_a_session_wants_it(kernel):
    base = clock_sessions()
    untimed = systrace.enable("getppid", clock=False)
    counting = systrace.count("getppid")
    assert clock_sessions() == base, "neither session wants the time"
    before = time.monotonic_ns()
    with systrace.enable("getppid") as timed:
        assert clock_sessions() == base + 1
        for _ in range(100):
            os.getppid()
    after = time.monotonic_ns()
    assert clock_sessions() == base
    for _ in range(100):
        os.getppid()
    untimed.close()
    counting.close()

    times = [e.timestamp_ns for e in timed]
    assert len(times) == 200 and times == sorted(times), times[:4]
    assert before < times[0] and times[-1] < after
    # The session without the clock took every call, timed by the other
    # session's clock or not, and numbered them all in its order.
    numbers = [e.timestamp_ns for e in untimed]
    assert numbers == list(range(1, 401))
    assert untimed.dropped == 0 and timed.dropped == 0
    assert sum(c.calls for c in counting.counts()) == 200


def test_clock_must_be_a_bool(kernel):
    with pytest.raises(TypeError, match="clock"):
        systrace.enable("getppid", clock=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("clock", [False, True])
def test_a_filter_decided_at_exit_without_the_clock(kernel, tmp_path, clock):
    # The enter of a call that a filter on ret decides is held until its
    # exit; the programs tell a held enter from a stale one by its time,
    # which they read whatever the session's records carry.
    missing = [str(tmp_path / f"missing{i}") for i in range(3)]
    with systrace.enable("openat", filter="ret < 0", clock=clock) as s:
        for path in [missing[0], "/etc/hostname", missing[1], missing[2]]:
            try:
                os.close(os.open(path, os.O_RDONLY))
            except OSError:
                pass
    events = list(s)
    assert s.dropped == 0
    assert [(e.phase, e.name) for e in events] == [("enter", "openat"), ("exit", "openat")] * 3
    assert all(e.ret == -2 for e in events if e.phase == "exit")
    stamps = [e.timestamp_ns for e in events]
    if clock:
        assert stamps == sorted(stamps) and stamps[0] > 1_000_000
    else:
        assert stamps == list(range(1, 7))


def test_run_without_the_clock(kernel):
    # systrace.run() takes clock= as enable() does: the command's events
    # numbered from its execve on.
    done = systrace.run(["/bin/true"], "execve", "exit_group", clock=False)
    assert done.returncode == 0 and done.dropped == 0
    events = list(done)
    assert [(e.phase, e.name) for e in events] == [
        ("enter", "execve"), ("exit", "execve"), ("enter", "exit_group")], events
    assert [e.timestamp_ns for e in events] == [1, 2, 3]


def test_the_records_carry_no_time_while_no_session_wants_it(kernel, tmp_path):
    # What the programs write, seen before any session numbers it: a
    # Printer fed on the consumer thread prints each call's time as its
    # record carries it (-ttt, no wall offset: seconds of CLOCK_MONOTONIC).
    # While only the session without the clock is open the records carry
    # none (the consumer numbers them: 0.000000); while a timed session is
    # open beside it they carry the time, for both sessions.
    path = tmp_path / "lines"
    with open(path, "w") as out:
        printer = _native.Printer(timestamps=3, prefix="file")
        with systrace.enable("getppid", clock=False) as untimed:
            printer.print_from(untimed, out.fileno())
            for _ in range(5):
                os.getppid()
            before = time.monotonic()
            with systrace.enable("getppid"):
                for _ in range(5):
                    os.getppid()
            after = time.monotonic()
            for _ in range(5):
                os.getppid()
        out.write(printer.finish())
    stamps = [float(line.split()[0]) for line in path.read_text().splitlines() if "getppid()" in line]
    assert len(stamps) == 15, path.read_text()
    assert sum(1 for t in stamps if t < 0.001) == 10, stamps
    assert sum(1 for t in stamps if before <= t <= after) == 5, stamps
