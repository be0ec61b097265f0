"""strace -p on a process blocked in a call, against strace 6.1: strace's
attach interrupts the call, and the kernel resumes a sleep by
restart_syscall, whose line strace prints as
`restart_syscall(<... resuming interrupted read ...>)` (the name its
syscall info gives at the attach's stop)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from test_cli import attach


def _blocked_in(pid: int, name_nr: int) -> None:
    for _ in range(500):
        with open(f"/proc/{pid}/syscall") as f:
            if f.read().split()[0] == str(name_nr):
                return
        time.sleep(0.01)
    raise AssertionError(f"{pid} never blocked in syscall {name_nr}")


def _attached(tracer: str, target_argv: list, then) -> list:
    """The trace of `target_argv` attached with -p while it sleeps, `then`
    run on it once attached; the lines, the test's pid as PID."""
    target = subprocess.Popen(target_argv)
    try:
        _blocked_in(target.pid, 230)  # clock_nanosleep
        if tracer == "strace":
            proc = subprocess.Popen(["strace", "-p", str(target.pid)], stderr=subprocess.PIPE, text=True)
            assert " attached" in proc.stderr.readline()
        else:
            proc = attach("-p", str(target.pid))
        time.sleep(0.5)  # strace says attached before its tracee resumes
        then(target)
        target.wait(timeout=30)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        target.kill()
        target.wait()
    return [line.replace(f"si_pid={os.getpid()},", "si_pid=PID,") for line in err.splitlines()
            if " attached" not in line]


def _killed(target: subprocess.Popen) -> None:
    target.send_signal(signal.SIGTERM)


def _stopped_continued_killed(target: subprocess.Popen) -> None:
    # A second interruption: what it resumes is restart_syscall.
    target.send_signal(signal.SIGSTOP)
    time.sleep(0.3)
    target.send_signal(signal.SIGCONT)
    time.sleep(0.3)
    target.send_signal(signal.SIGTERM)


def _let_end(target: subprocess.Popen) -> None:
    pass


@pytest.mark.parametrize("argv,then", [
    (["sleep", "30"], _killed),
    (["sleep", "30"], _stopped_continued_killed),
    (["sleep", "1.5"], _let_end),
], ids=["killed", "stopped", "ends"])
def test_attached_in_a_sleep_like_strace(kernel, argv, then):
    strace = _attached("strace", argv, then)
    systrace = _attached("systrace", argv, then)
    assert strace[0].startswith("restart_syscall(<... resuming interrupted "), strace
    assert systrace == strace
