"""The kernel side observed directly (issue 17): what the BPF programs let
through, counted by the consumer before any session's filter, so that user
space cannot silently redo (and so mask) a filter the programs must apply.

`scripts/mutate.py` breaks the BPF side one change at a time and runs the
suite; the breaks these tests are known to catch (each fails the test named):

  process filter admits every process      test_only_the_traced_process_reaches_the_consumer
  enable bit ignored                       test_only_enabled_syscalls_reach_the_consumer
  consumer thread no longer ignored        test_the_consumer_thread_is_never_traced
  quiet slots not read                     test_accounting.py::test_an_empty_block_traces_nothing
  drops keyed without their phase          test_accounting.py::test_exit_only_session_counts_exit_losses
  drops keyed without their process        test_accounting.py::test_each_session_counts_only_its_own_losses
  enter drops not counted                  test_accounting.py::test_whole_tree_is_delivered_or_counted_with_a_full_ring
  root not inherited at fork               test_accounting.py::test_whole_tree_is_delivered_or_counted_with_a_full_ring
  untraced forks not counted               test_accounting.py::test_children_beyond_the_process_limit_are_counted
  argv cut short not marked                test_accounting.py::test_argv_longer_than_kept_is_marked_truncated
  exit captures from the enter, not the registers  test_accounting.py::test_a_read_in_flight_at_the_start_keeps_its_data
  compat syscalls not ignored              test_compat.py
  counted calls without their errors       test_count.py::test_counts_are_exact_and_nothing_is_delivered
  counting ignores the process filter      test_count.py::test_counting_sessions_count_only_their_processes
  hooks switched without a handoff         test_hooks.py::test_switching_under_load_loses_and_doubles_nothing
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import systrace
import systrace._native as native


def records() -> int:
    """Records the consumer has drained since the programs were loaded."""
    return native.kernel_state()["records"]


def busy_process(calls: int) -> subprocess.Popen:
    """A process, not traced, that makes `calls` getppid calls once started."""
    return subprocess.Popen(
        [sys.executable, "-c", f"import os, sys\nsys.stdin.read(1)\nfor _ in range({calls}): os.getppid()\n"],
        stdin=subprocess.PIPE, text=True,
    )


def test_only_the_traced_process_reaches_the_consumer(kernel):
    """Another process calls the same syscall: its records must not leave
    the kernel (the session's own filter would hide them, at the cost of
    every process on the machine)."""
    systrace.preload()
    other = busy_process(20000)
    with systrace.enable("getppid") as s:
        before = records()
        other.stdin.write("x")
        other.stdin.close()
        for _ in range(500):
            os.getppid()
        assert other.wait(timeout=60) == 0
    got = records() - before
    mine = [e for e in s.events() if e.pid == os.getpid()]
    assert len(mine) == 1000 and s.dropped == 0
    assert got == 1000, f"{got - 1000} records of other processes reached the consumer"


@pytest.mark.parametrize("hooks", ["raw", "syscall"])
def test_only_enabled_syscalls_reach_the_consumer(kernel, monkeypatch, hooks):
    # The raw hooks see every syscall: only the enable bit keeps getpid out
    # (the per-syscall hooks are on getppid's events alone).
    monkeypatch.setenv("SYSTRACE_HOOKS", hooks)
    systrace.preload()
    with systrace.enable("getppid") as s:
        before = records()
        for _ in range(2000):
            os.getpid()
        for _ in range(10):
            os.getppid()
    assert records() - before == 20
    assert len([e for e in s.events() if e.tid == threading.get_native_id()]) == 20


def test_the_consumer_thread_is_never_traced(kernel):
    """Every syscall of this process enabled while the consumer drains: none
    of the consumer's own (a feedback loop: each of its reads would make more
    records to read)."""
    systrace.preload()
    consumer = native.kernel_state()["consumer_tid"]
    with systrace.enable() as s:
        before = records()
        time.sleep(0.3)
    events = s.events()
    assert [str(e) for e in events if e.tid == consumer] == []
    # What reached the consumer is what this session took (it is the only one).
    assert records() - before == len(events) + s.dropped
